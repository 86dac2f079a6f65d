/* test_ledger.c: unit tests for a file's I/O totals that no region change
 * loses: the ledger's arithmetic (daemon/core/ledger.c) directly (part A),
 * then through the monitor service and the fake dm-stats kernel of
 * fake_dm.c (daemon/service/tally.c, monitor.c, service.c: part B), with
 * exact counts from fake_io. Real files in a temporary directory, a real
 * inotify instance; the device passes are run by hand. No root, no dm. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/counters.h"
#include "core/group.h"
#include "core/ledger.h"
#include "dmfilemap.h"
#include "service/tally.h"
#include "service/recover.h"
#include "svc_fixture.h"

/* ------------------------------------------------------------------ */
/* counters to compare                                                */

/* Every cumulative counter X, in flight Y, N buckets of X each. */
static struct io_counters cs(uint64_t x, uint64_t y, size_t n)
{
	struct io_counters c = { { 0 }, 0, NULL };

	for (int f = 0; f < IO_NFIELDS; f++)
		c.v[f] = f == IO_IN_FLIGHT ? y : x;
	if (n) {
		c.bucket = calloc(n, sizeof(*c.bucket));
		assert_non_null(c.bucket);
		c.nbuckets = n;
		for (size_t i = 0; i < n; i++)
			c.bucket[i] = x;
	}
	return c;
}

static int at_line2; /* the test's line (fake_assert.h has at_line) */

static void assert_counters_fn(const struct io_counters *got,
			       const struct io_counters *want)
{
	bool ok = got->nbuckets == want->nbuckets;

	for (int f = 0; f < IO_NFIELDS; f++)
		ok = ok && got->v[f] == want->v[f];
	for (size_t i = 0; ok && i < want->nbuckets; i++)
		ok = got->bucket[i] == want->bucket[i];
	if (!ok) {
		print_error("line %d: counters differ:\n  field: got / want\n",
			    at_line2);
		for (int f = 0; f < IO_NFIELDS; f++)
			print_error("  %2d: %" PRIu64 " / %" PRIu64 "%s\n", f,
				    got->v[f], want->v[f],
				    got->v[f] != want->v[f] ? "  <--" : "");
		print_error("  buckets: %zu / %zu\n", got->nbuckets,
			    want->nbuckets);
		for (size_t i = 0; i < got->nbuckets && i < want->nbuckets; i++)
			print_error("  [%zu]: %" PRIu64 " / %" PRIu64 "\n", i,
				    got->bucket[i], want->bucket[i]);
	}
	assert_true(ok);
}
/* GOT equals WANT (an expression; WANT is freed, GOT is not). */
#define assert_counters(got, want)                                  \
	do {                                                        \
		struct io_counters want_ = (want);                  \
		at_line2 = __LINE__;                                \
		assert_counters_fn((got), &want_);                  \
		counters_free(&want_);                              \
	} while (0)

/* L's totals equal WANT. */
#define assert_total(l, want)                                       \
	do {                                                        \
		struct io_counters tot_;                            \
		assert_int_equal(ledger_total((l), &tot_), 0);      \
		struct io_counters want2_ = (want);                 \
		at_line2 = __LINE__;                                \
		bool same_ = tot_.nbuckets == want2_.nbuckets &&    \
			     !memcmp(tot_.v, want2_.v, sizeof(tot_.v)); \
		for (size_t i_ = 0; same_ && i_ < tot_.nbuckets; i_++) \
			same_ = tot_.bucket[i_] == want2_.bucket[i_]; \
		if (!same_)                                         \
			assert_counters_fn(&tot_, &want2_);         \
		counters_free(&tot_);                               \
		counters_free(&want2_);                             \
	} while (0)

static const struct ledger_region *find_in(const struct ledger_list *l,
					   uint64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return &l->v[i];
	return NULL;
}

/* Observe ID (START+LEN) as C (freed); returns ledger_observe's value. */
static int observe(struct ledger *l, uint64_t id, uint64_t start,
		   uint64_t len, struct io_counters c)
{
	int r = ledger_observe(l, id, start, len, &c);

	counters_free(&c);
	return r;
}

static int carry(struct ledger *l, uint64_t id, uint64_t start, uint64_t len,
		 struct io_counters c)
{
	int r = ledger_carry(l, id, start, len, &c);

	counters_free(&c);
	return r;
}

/* ------------------------------------------------------------------ */
/* A. the ledger's arithmetic                                         */

static void test_observe_new_and_again(void **state)
{
	struct ledger l;

	(void)state;
	ledger_init(&l);
	assert_total(&l, cs(0, 0, 0));
	assert_int_equal(observe(&l, 3, 100, 8, cs(5, 1, 0)), 0);
	assert_int_equal(l.seen.n, 1);
	assert_non_null(find_in(&l.seen, 3));
	assert_int_equal(find_in(&l.seen, 3)->start, 100);
	assert_int_equal(find_in(&l.seen, 3)->len, 8);
	assert_total(&l, cs(5, 1, 0));
	/* again, grown: the last read replaced, nothing retired */
	assert_int_equal(observe(&l, 3, 100, 8, cs(8, 0, 0)), 0);
	assert_int_equal(l.seen.n, 1);
	assert_total(&l, cs(8, 0, 0));
	/* again, the same */
	assert_int_equal(observe(&l, 3, 100, 8, cs(8, 2, 0)), 0);
	assert_total(&l, cs(8, 2, 0));
	/* another region */
	assert_int_equal(observe(&l, 4, 200, 8, cs(1, 1, 0)), 0);
	assert_int_equal(l.seen.n, 2);
	assert_total(&l, cs(9, 3, 0));
	assert_int_equal(l.resets, 0);
	assert_int_equal(l.carried, 0);
	assert_int_equal(l.pending.n, 0);
	assert_counters(&l.retired, cs(0, 0, 0));
	ledger_free(&l);
}

static void test_observe_reset_retires_last_read(void **state)
{
	struct ledger l;
	struct io_counters c;

	(void)state;
	ledger_init(&l);
	assert_int_equal(observe(&l, 0, 0, 8, cs(10, 0, 0)), 0);
	/* cleared, then 3 more: the 10 are retired, the totals go on */
	assert_int_equal(observe(&l, 0, 0, 8, cs(3, 0, 0)), 1);
	assert_int_equal(l.resets, 1);
	assert_counters(&l.retired, cs(10, 0, 0));
	assert_counters(&find_in(&l.seen, 0)->c, cs(3, 0, 0));
	assert_total(&l, cs(13, 0, 0));
	assert_int_equal(observe(&l, 0, 0, 8, cs(5, 0, 0)), 0);
	assert_total(&l, cs(15, 0, 0));
	/* one counter lower is enough */
	c = cs(5, 0, 0);
	c.v[IO_WRITE_TOTAL_TIME] = 4;
	assert_int_equal(ledger_observe(&l, 0, 0, 8, &c), 1);
	counters_free(&c);
	assert_int_equal(l.resets, 2);
	assert_counters(&l.retired, cs(15, 0, 0));
	/* totals: 15 retired + the live read (4 in one field) */
	c = cs(20, 0, 0);
	c.v[IO_WRITE_TOTAL_TIME] = 19;
	{
		struct io_counters t;
		assert_int_equal(ledger_total(&l, &t), 0);
		assert_counters(&t, c);
		counters_free(&t);
	}
	/* in flight going down is no reset */
	assert_int_equal(observe(&l, 1, 100, 8, cs(2, 7, 0)), 0);
	assert_int_equal(observe(&l, 1, 100, 8, cs(2, 0, 0)), 0);
	assert_int_equal(l.resets, 2);
	ledger_free(&l);
}

static void test_observe_other_range_is_reset(void **state)
{
	struct ledger l;

	(void)state;
	ledger_init(&l);
	assert_int_equal(observe(&l, 2, 100, 8, cs(10, 0, 0)), 0);
	/* the same id over another range, counters higher: another region */
	assert_int_equal(observe(&l, 2, 500, 8, cs(12, 0, 0)), 1);
	assert_int_equal(l.resets, 1);
	assert_counters(&l.retired, cs(10, 0, 0));
	assert_total(&l, cs(22, 0, 0));
	assert_int_equal(find_in(&l.seen, 2)->start, 500);
	assert_int_equal(find_in(&l.seen, 2)->len, 8);
	/* only the length differs */
	assert_int_equal(observe(&l, 2, 500, 16, cs(12, 0, 0)), 1);
	assert_int_equal(l.resets, 2);
	assert_total(&l, cs(34, 0, 0));
	assert_int_equal(find_in(&l.seen, 2)->len, 16);
	assert_int_equal(l.seen.n, 1);
	ledger_free(&l);
}

static void test_carry_final_pending(void **state)
{
	struct ledger l;
	const struct ledger_region *p;

	(void)state;
	ledger_init(&l);
	assert_int_equal(observe(&l, 1, 100, 8, cs(10, 0, 0)), 0);
	assert_int_equal(observe(&l, 2, 200, 8, cs(1, 0, 0)), 0);
	/* read just before it goes: 12 */
	assert_int_equal(carry(&l, 1, 100, 8, cs(12, 3, 0)), 0);
	assert_int_equal(l.carried, 1);
	assert_int_equal(l.seen.n, 1);
	assert_null(find_in(&l.seen, 1));
	assert_int_equal(l.pending.n, 1);
	assert_non_null(p = find_in(&l.pending, 1));
	assert_int_equal(p->start, 100);
	assert_int_equal(p->len, 8);
	assert_counters(&p->c, cs(12, 3, 0));
	/* not retired yet */
	assert_counters(&l.retired, cs(0, 0, 0));
	/* the totals count it once, as its final read (in flight: no) */
	assert_total(&l, cs(13, 0, 0));
	/* a final read equal to the last one: the totals are unchanged */
	assert_int_equal(carry(&l, 2, 200, 8, cs(1, 0, 0)), 0);
	assert_int_equal(l.carried, 2);
	assert_int_equal(l.seen.n, 0);
	assert_int_equal(l.pending.n, 2);
	assert_total(&l, cs(13, 0, 0));
	/* a region never read before */
	assert_int_equal(carry(&l, 9, 900, 8, cs(4, 0, 0)), 0);
	assert_int_equal(l.carried, 3);
	assert_total(&l, cs(17, 0, 0));
	assert_int_equal(l.resets, 0);
	ledger_free(&l);
}

static void test_carry_null_uses_last_read(void **state)
{
	struct ledger l;
	const struct ledger_region *p;

	(void)state;
	ledger_init(&l);
	assert_int_equal(observe(&l, 1, 100, 8, cs(10, 2, 3)), 0);
	assert_int_equal(ledger_carry(&l, 1, 100, 8, NULL), 0);
	assert_int_equal(l.carried, 1);
	assert_int_equal(l.seen.n, 0);
	assert_non_null(p = find_in(&l.pending, 1));
	assert_int_equal(p->start, 100);
	assert_int_equal(p->len, 8);
	assert_counters(&p->c, cs(10, 2, 3));
	assert_total(&l, cs(10, 0, 3));
	/* never read, not readable now: carried with nothing */
	assert_int_equal(ledger_carry(&l, 5, 500, 8, NULL), 0);
	assert_int_equal(l.carried, 2);
	assert_non_null(p = find_in(&l.pending, 5));
	assert_int_equal(p->start, 500);
	assert_counters(&p->c, cs(0, 0, 0));
	assert_total(&l, cs(10, 0, 3));
	ledger_free(&l);
}

static void test_settle_done(void **state)
{
	struct ledger l;

	(void)state;
	ledger_init(&l);
	assert_int_equal(observe(&l, 1, 100, 8, cs(10, 0, 2)), 0);
	assert_int_equal(observe(&l, 2, 200, 8, cs(5, 1, 2)), 0);
	assert_int_equal(observe(&l, 3, 300, 8, cs(1, 1, 2)), 0);
	assert_int_equal(carry(&l, 1, 100, 8, cs(12, 1, 2)), 0);
	assert_int_equal(ledger_carry(&l, 2, 200, 8, NULL), 0);
	ledger_settle(&l, true);
	assert_int_equal(l.pending.n, 0);
	assert_int_equal(l.seen.n, 1);
	assert_int_equal(l.carried, 2);
	/* retired for good; in flight never retired */
	assert_counters(&l.retired, cs(17, 0, 2));
	assert_total(&l, cs(18, 1, 2));
	/* nothing pending: settling again changes nothing */
	ledger_settle(&l, true);
	ledger_settle(&l, false);
	assert_int_equal(l.carried, 2);
	assert_total(&l, cs(18, 1, 2));
	ledger_free(&l);
}

static void test_settle_undo(void **state)
{
	struct ledger l;
	const struct ledger_region *s;

	(void)state;
	ledger_init(&l);
	assert_int_equal(observe(&l, 1, 100, 8, cs(10, 0, 0)), 0);
	assert_int_equal(observe(&l, 2, 200, 8, cs(5, 0, 0)), 0);
	assert_int_equal(carry(&l, 1, 100, 8, cs(12, 0, 0)), 0);
	assert_int_equal(ledger_carry(&l, 2, 200, 8, NULL), 0);
	assert_int_equal(l.carried, 2);
	/* the switch failed: still members, their counts live again */
	ledger_settle(&l, false);
	assert_int_equal(l.pending.n, 0);
	assert_int_equal(l.carried, 0);
	assert_int_equal(l.seen.n, 2);
	assert_counters(&l.retired, cs(0, 0, 0));
	assert_non_null(s = find_in(&l.seen, 1));
	assert_int_equal(s->start, 100);
	assert_int_equal(s->len, 8);
	assert_counters(&s->c, cs(12, 0, 0));
	assert_counters(&find_in(&l.seen, 2)->c, cs(5, 0, 0));
	assert_total(&l, cs(17, 0, 0));
	/* read again live: counted once, no reset */
	assert_int_equal(observe(&l, 1, 100, 8, cs(15, 0, 0)), 0);
	assert_int_equal(observe(&l, 2, 200, 8, cs(5, 0, 0)), 0);
	assert_int_equal(l.resets, 0);
	assert_total(&l, cs(20, 0, 0));
	ledger_free(&l);
}

static void test_resolve_members(void **state)
{
	struct ledger l;
	static const uint64_t members[] = { 9, 3, 0 };

	(void)state;
	ledger_init(&l);
	assert_int_equal(observe(&l, 0, 0, 8, cs(1, 0, 0)), 0);
	assert_int_equal(carry(&l, 3, 300, 8, cs(10, 0, 0)), 0);
	assert_int_equal(carry(&l, 4, 400, 8, cs(20, 0, 0)), 0);
	assert_int_equal(l.carried, 2);
	ledger_resolve(&l, members, 3);
	assert_int_equal(l.pending.n, 0);
	/* 3 still a member: undone; 4 not: settled */
	assert_int_equal(l.carried, 1);
	assert_non_null(find_in(&l.seen, 3));
	assert_counters(&find_in(&l.seen, 3)->c, cs(10, 0, 0));
	assert_null(find_in(&l.seen, 4));
	assert_counters(&l.retired, cs(20, 0, 0));
	assert_total(&l, cs(31, 0, 0));
	/* with no members at all: every pending region settled */
	assert_int_equal(carry(&l, 3, 300, 8, cs(11, 0, 0)), 0);
	ledger_resolve(&l, NULL, 0);
	assert_int_equal(l.pending.n, 0);
	assert_int_equal(l.carried, 2);
	assert_counters(&l.retired, cs(31, 0, 0));
	assert_total(&l, cs(32, 0, 0));
	ledger_free(&l);
}

static void test_prune_gone_without_carry(void **state)
{
	struct ledger l;
	static const uint64_t members[] = { 1 };

	(void)state;
	ledger_init(&l);
	assert_int_equal(observe(&l, 0, 0, 8, cs(10, 1, 0)), 0);
	assert_int_equal(observe(&l, 1, 100, 8, cs(5, 1, 0)), 0);
	assert_int_equal(observe(&l, 2, 200, 8, cs(7, 1, 0)), 0);
	/* 0 and 2 were deleted by another program */
	assert_int_equal(ledger_prune(&l, members, 1), 2);
	assert_int_equal(l.carried, 2);
	assert_int_equal(l.seen.n, 1);
	assert_non_null(find_in(&l.seen, 1));
	assert_counters(&l.retired, cs(17, 0, 0));
	assert_total(&l, cs(22, 1, 0)); /* unchanged but in flight */
	assert_int_equal(l.resets, 0);
	/* nothing more to prune */
	assert_int_equal(ledger_prune(&l, members, 1), 0);
	assert_int_equal(l.carried, 2);
	/* a pending region is not pruned */
	assert_int_equal(carry(&l, 1, 100, 8, cs(6, 0, 0)), 0);
	assert_int_equal(ledger_prune(&l, NULL, 0), 0);
	assert_int_equal(l.pending.n, 1);
	assert_int_equal(l.carried, 3);
	assert_total(&l, cs(23, 0, 0));
	ledger_free(&l);
}

static void test_total_sums_and_in_flight(void **state)
{
	struct ledger l;
	struct io_counters t;

	(void)state;
	ledger_init(&l);
	/* retired 100 (from region 7, its in flight never retired) */
	assert_int_equal(observe(&l, 7, 700, 8, cs(100, 50, 0)), 0);
	assert_int_equal(ledger_prune(&l, NULL, 0), 1);
	/* pending 20 (in flight 30: not counted) */
	assert_int_equal(carry(&l, 5, 500, 8, cs(20, 30, 0)), 0);
	/* live 3 and 4, in flight 1 and 2 */
	assert_int_equal(observe(&l, 1, 100, 8, cs(3, 1, 0)), 0);
	assert_int_equal(observe(&l, 2, 200, 8, cs(4, 2, 0)), 0);
	assert_total(&l, cs(127, 3, 0));
	/* saturating */
	assert_int_equal(observe(&l, 3, 300, 8, cs(UINT64_MAX - 1, 0, 0)), 0);
	assert_int_equal(ledger_total(&l, &t), 0);
	for (int f = 0; f < IO_NFIELDS; f++)
		assert_true(t.v[f] == (f == IO_IN_FLIGHT ? 3 : UINT64_MAX));
	counters_free(&t);
	ledger_free(&l);
}

static void test_total_histograms_summed(void **state)
{
	struct ledger l;
	struct io_counters t, want;

	(void)state;
	ledger_init(&l);
	assert_int_equal(observe(&l, 9, 900, 8, cs(1, 0, 3)), 0);
	assert_int_equal(observe(&l, 9, 900, 8, cs(0, 0, 3)), 1); /* reset */
	assert_int_equal(carry(&l, 5, 500, 8, cs(10, 0, 3)), 0);
	assert_int_equal(observe(&l, 1, 100, 8, cs(100, 0, 3)), 0);
	assert_int_equal(observe(&l, 2, 200, 8, cs(1000, 0, 3)), 0);
	want = cs(1111, 0, 3);
	assert_int_equal(ledger_total(&l, &t), 0);
	assert_counters(&t, want);
	counters_free(&t);
	/* buckets distinct per index */
	{
		struct io_counters c = cs(0, 0, 3);
		c.bucket[0] = 1;
		c.bucket[2] = 5;
		assert_int_equal(ledger_observe(&l, 2, 200, 8, &c), 1);
		counters_free(&c);
	}
	want = cs(1111, 0, 3);
	want.bucket[0] += 1;
	want.bucket[2] += 5;
	assert_int_equal(ledger_total(&l, &t), 0);
	assert_counters(&t, want);
	counters_free(&t);
	ledger_free(&l);
}

/* A region cleared since its last read, then carried: its final read is
 * lower than the last one. The counts of that last read must not vanish
 * (the totals never go back): the reset is seen at the carry as at an
 * observe. */
static void test_carry_after_unseen_reset_never_goes_back(void **state)
{
	struct ledger l;
	struct io_counters before, after;

	(void)state;
	ledger_init(&l);
	assert_int_equal(observe(&l, 1, 100, 8, cs(10, 0, 0)), 0);
	assert_int_equal(ledger_total(&l, &before), 0);
	/* @stats_clear by another program, 2 more, then the plan drops it */
	assert_int_equal(carry(&l, 1, 100, 8, cs(2, 0, 0)), 0);
	assert_int_equal(ledger_total(&l, &after), 0);
	if (counters_went_back(&after, &before))
		print_error("totals went back: reads %" PRIu64 " then %" PRIu64
			    "\n", before.v[IO_READS], after.v[IO_READS]);
	{
		bool back = counters_went_back(&after, &before);
		uint64_t reads = after.v[IO_READS];
		counters_free(&before);
		counters_free(&after);
		ledger_free(&l);
		assert_false(back);
		assert_int_equal(reads, 12);
	}
}

/* ------------------------------------------------------------------ */
/* B. through the monitor and the fake                                */

/* tally_read's value not checked */
#define ANY 99

/* M's totals now (tally_read), which must succeed with RET (or ANY
 * success); into *OUT. */
static void read_totals_fn(struct monitor *m, int ret, struct io_counters *out)
{
	uint64_t bounds[8];
	size_t nb = 99;
	char why[256] = "";
	int r = tally_read(m, out, bounds, 8, &nb, why, sizeof(why));

	if (ret == ANY && r >= 0)
		ret = r;
	if (r != ret)
		print_error("line %d: tally_read: %d (%s), want %d\n", at_line2,
			    r, why, ret);
	assert_int_equal(r, ret);
	assert_int_equal(nb, 0); /* no histogram */
}
/* M's totals are the I/O WANT (struct io fields), and tally_read says
 * RET (1: a reset moved counts into the retired ones). */
#define assert_totals(m, ret, ...)                                    \
	do {                                                          \
		struct io_counters got_;                              \
		at_line2 = __LINE__;                                  \
		read_totals_fn((m), (ret), &got_);                    \
		struct io_counters want3_ =                           \
			io_counters_of((struct io){ __VA_ARGS__ });   \
		bool same_ = !memcmp(got_.v, want3_.v, sizeof(got_.v)) && \
			     got_.nbuckets == 0;                      \
		if (!same_)                                           \
			assert_counters_fn(&got_, &want3_);           \
		counters_free(&got_);                                 \
	} while (0)

/* Region ID of the fake has the I/O WANT (fake units: ms). */
static void assert_fake_io_fn(dev_t dev, uint64_t id, struct io e)
{
	const struct fake_region *r = fake_region(dev, id);
	uint64_t want[13] = { e.r, 0, e.rsect, e.rms, e.w, 0, e.wsect, e.wms,
			      0, e.rms + e.wms, e.rms + e.wms, e.rms, e.wms };

	assert_non_null(r);
	if (memcmp(r->io, want, sizeof(want))) {
		print_error("line %d: fake region %" PRIu64 ":\n", at_line2,
			    id);
		for (int i = 0; i < 13; i++)
			print_error("  %2d: %" PRIu64 " / %" PRIu64 "\n", i,
				    r->io[i], want[i]);
	}
	assert_memory_equal(r->io, want, sizeof(want));
}
#define assert_fake_io(dev, id, ...) \
	(at_line2 = __LINE__,        \
	 assert_fake_io_fn((dev), (id), (struct io){ __VA_ARGS__ }))

/* Whether ID is a member of M's group as the list says now. */
static bool is_member(struct monitor *m, uint64_t id)
{
	struct group_view v;
	bool in = false;

	assert_int_equal(group_read(&m->device->rs, m->group_id, &v), 1);
	for (size_t i = 0; i < v.n; i++)
		in |= v.members[i].id == id;
	group_view_free(&v);
	return in;
}

#define E2L { 2000, 16 }

/* I/O to a region, then the file is truncated: its region over the
 * shrunk extent is replaced; every I/O still counted. */
static void test_truncate_keeps_counts(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 12288);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2L);
	m = create_monitor(f, i, "a");
	settle(m);
	assert_fake_has(f->dev, 0, 1);
	fake_io(f->dev, 1000, 8, false, 3);
	fake_io(f->dev, 2004, 4, true, 5);
	fake_io(f->dev, 2010, 2, false, 1);
	assert_fake_io(f->dev, 1, .r = 1, .rsect = 2, .rms = 1, .w = 1,
		       .wsect = 4, .wms = 5);

	truncate_file(f, i, 8192);
	set_extents(f->files[i].fd, E1, E2);
	file_modified(m);
	run_pass(m->device);
	assert_fake_has(f->dev, 0, 2);
	assert_region(f->dev, 2, 2000, 8, "");
	assert_null(fake_region(f->dev, 1));
	assert_calls(FAKE_PRINT, 1); /* the final read of region 1 */
	assert_calls(FAKE_REMOVE, 1);
	assert_null(m->last_error);
	assert_int_equal(m->regions, 2);
	assert_int_equal(m->ledger.carried, 1);
	assert_int_equal(m->ledger.pending.n, 0);
	assert_int_equal(f->persist, 1);
	/* the new region counts from 0 */
	assert_fake_io(f->dev, 2, .r = 0);

	assert_totals(m, 0, .r = 2, .rsect = 10, .rms = 4, .w = 1, .wsect = 4,
		      .wms = 5);
	fake_io(f->dev, 2000, 8, false, 2);
	assert_fake_io(f->dev, 2, .r = 1, .rsect = 8, .rms = 2);
	assert_totals(m, 0, .r = 3, .rsect = 18, .rms = 6, .w = 1, .wsect = 4,
		      .wms = 5);
	assert_int_equal(m->ledger.carried, 1);
	assert_int_equal(m->ledger.resets, 0);
}

/* The leader's extent goes: the group is re-formed from the next member,
 * the counts of the old leader kept. */
static void test_leader_freed_keeps_counts(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 12288);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	fake_io(f->dev, 1000, 8, false, 3);
	fake_io(f->dev, 1000, 4, false, 3);
	fake_io(f->dev, 2000, 8, true, 4);
	fake_io(f->dev, 3000, 4, false, 1);
	assert_totals(m, 0, .r = 3, .rsect = 16, .rms = 7, .w = 1, .wsect = 8,
		      .wms = 4);
	fake_io(f->dev, 1004, 4, true, 2); /* after the last read */

	set_extents(f->files[i].fd, E2, E3);
	grow_file(f, i, 4096);
	file_modified(m);
	run_pass(m->device);
	assert_int_equal(m->group_id, 1);
	assert_fake_has(f->dev, 1, 2);
	/* the new leader names the old group until the new id is saved */
	assert_region(f->dev, 1, 2000, 8,
		      "DMS_GROUP=a:1-2#dmfilemap:new:0000000000000000:1");
	recover_saved(&svc); /* the state file's save */
	run_pass(m->device);
	assert_region(f->dev, 1, 2000, 8, "DMS_GROUP=a:1-2#-");
	assert_int_equal(m->ledger.carried, 1);
	assert_int_equal(m->ledger.pending.n, 0);
	assert_totals(m, 0, .r = 3, .rsect = 16, .rms = 7, .w = 2, .wsect = 12,
		      .wms = 6);
	fake_io(f->dev, 2000, 8, true, 1);
	assert_totals(m, 0, .r = 3, .rsect = 16, .rms = 7, .w = 3, .wsect = 20,
		      .wms = 7);
	assert_int_equal(m->ledger.resets, 0);
}

/* Growth in place: the old region stays (no delete, no read), a new one
 * covers the tail. */
static void test_growth_in_place_keeps_region(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 4096);
	struct monitor *m;

	set_extents(f->files[i].fd, E1);
	m = create_monitor(f, i, "a");
	settle(m);
	fake_io(f->dev, 1000, 8, false, 2);
	assert_totals(m, 0, .r = 1, .rsect = 8, .rms = 2);
	fake_clear_calls();

	set_extents(f->files[i].fd, { 1000, 16 });
	grow_file(f, i, 4096);
	file_modified(m);
	run_pass(m->device);
	assert_calls(FAKE_REMOVE, 0);
	assert_calls(FAKE_PRINT, 0);
	assert_calls(FAKE_CREATE, 1);
	assert_fake_has(f->dev, 0, 1);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-1#-");
	assert_region(f->dev, 1, 1008, 8, "");
	assert_fake_io(f->dev, 0, .r = 1, .rsect = 8, .rms = 2);
	assert_fake_io(f->dev, 1, .r = 0);
	assert_int_equal(m->ledger.carried, 0);
	assert_int_equal(f->persist, 0);

	fake_io(f->dev, 1008, 8, true, 3);
	assert_fake_io(f->dev, 1, .w = 1, .wsect = 8, .wms = 3);
	assert_fake_io(f->dev, 0, .r = 1, .rsect = 8, .rms = 2);
	assert_totals(m, 0, .r = 1, .rsect = 8, .rms = 2, .w = 1, .wsect = 8,
		      .wms = 3);
	assert_int_equal(m->ledger.carried, 0);
	assert_int_equal(m->ledger.resets, 0);
}

/* The final read fails: the region's last read counts are carried; the
 * I/O after it, exactly that, is lost. */
static void test_print_fails_plan_waits(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 12288);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2L);
	m = create_monitor(f, i, "a");
	settle(m);
	fake_io(f->dev, 2000, 8, false, 2);
	fake_io(f->dev, 2008, 8, false, 2);
	fake_io(f->dev, 1000, 8, true, 1);
	assert_totals(m, 0, .r = 2, .rsect = 16, .rms = 4, .w = 1, .wsect = 8,
		      .wms = 1);
	fake_io(f->dev, 2000, 4, false, 7); /* after the last read */
	fake_io(f->dev, 1000, 8, true, 1);
	fake_clear_calls();

	truncate_file(f, i, 8192);
	set_extents(f->files[i].fd, E1, E2);
	file_modified(m);
	fake_fail_nth(FAKE_PRINT, 1, EIO);
	run_pass(m->device);
	/* the region cannot be read before it goes: nothing changes */
	assert_calls(FAKE_PRINT, 1);
	assert_calls(FAKE_REMOVE, 0);
	assert_calls(FAKE_CREATE, 0);
	assert_fake_has(f->dev, 0, 1);
	assert_non_null(m->last_error);
	assert_non_null(strstr(m->last_error, "cannot read the counters of "
					      "region 1"));
	assert_int_equal(m->ledger.carried, 0);
	assert_int_equal(m->ledger.pending.n, 0);

	/* the next pass reads it, and its I/O since the last read is kept */
	run_pass(m->device);
	assert_calls(FAKE_REMOVE, 1);
	assert_fake_has(f->dev, 0, 2);
	assert_null(m->last_error);
	assert_int_equal(m->ledger.carried, 1);
	assert_int_equal(m->ledger.pending.n, 0);
	assert_totals(m, 0, .r = 3, .rsect = 20, .rms = 11, .w = 2,
		      .wsect = 16, .wms = 2);
	assert_int_equal(m->ledger.resets, 0);
}

/* The delete of a dropped region fails after its final read: it is out of
 * the group, its counts carried once (not lost, not twice, even with more
 * I/O to the region left behind). */
static void test_delete_fails_counts_carried_once(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 12288);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2L);
	m = create_monitor(f, i, "a");
	settle(m);
	fake_io(f->dev, 2000, 16, true, 2);
	assert_totals(m, 0, .w = 1, .wsect = 16, .wms = 2);
	fake_io(f->dev, 2008, 8, false, 3); /* counted by the final read */
	fake_clear_calls();

	truncate_file(f, i, 8192);
	set_extents(f->files[i].fd, E1, E2);
	file_modified(m);
	fake_fail_nth(FAKE_REMOVE, 1, EIO);
	run_pass(m->device);
	assert_calls(FAKE_PRINT, 1);
	assert_calls(FAKE_REMOVE, 1);
	/* left behind, out of the group */
	assert_fake_has(f->dev, 0, 1, 2);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0,2#-");
	assert_int_equal(m->regions, 2);
	assert_false(is_member(m, 1));
	assert_true(is_member(m, 2));
	assert_int_equal(m->ledger.carried, 1);
	/* its counts pending until it is gone; the error says so */
	assert_int_equal(m->ledger.pending.n, 1);
	assert_non_null(m->last_error);
	assert_non_null(strstr(m->last_error, "cannot delete region 1"));
	assert_totals(m, 0, .r = 1, .rsect = 8, .rms = 3, .w = 1, .wsect = 16,
		      .wms = 2);

	/* I/O over the old and new regions: counted once, in the new one */
	fake_io(f->dev, 2000, 8, false, 1);
	assert_fake_io(f->dev, 1, .r = 2, .rsect = 16, .rms = 4, .w = 1,
		       .wsect = 16, .wms = 2);
	assert_totals(m, 0, .r = 2, .rsect = 16, .rms = 4, .w = 1, .wsect = 16,
		      .wms = 2);
	/* the next pass deletes it; later ones change nothing */
	fake_clear_calls();
	run_pass(m->device);
	assert_calls(FAKE_REMOVE, 1);
	assert_fake_has(f->dev, 0, 2);
	assert_int_equal(m->ledger.pending.n, 0);
	assert_null(m->last_error);
	run_pass(m->device);
	assert_int_equal(m->ledger.carried, 1);
	assert_totals(m, 0, .r = 2, .rsect = 16, .rms = 4, .w = 1, .wsect = 16,
		      .wms = 2);
	assert_int_equal(m->ledger.resets, 0);
}

/* A create fails: the plan is rolled back, the counts carried are live
 * again; the next pass applies it and carries them once. */
static void test_create_fails_counts_undone(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 12288);
	struct monitor *m;
	unsigned changed;

	set_extents(f->files[i].fd, E1, E2L);
	m = create_monitor(f, i, "a");
	settle(m);
	fake_io(f->dev, 2000, 8, false, 2);
	assert_totals(m, 0, .r = 1, .rsect = 8, .rms = 2);
	fake_io(f->dev, 2008, 8, true, 3); /* in the final read */
	fake_clear_calls();
	changed = f->changed;

	truncate_file(f, i, 8192);
	set_extents(f->files[i].fd, E1, E2);
	file_modified(m);
	fake_fail_nth(FAKE_CREATE, 1, EIO);
	run_pass(m->device);
	assert_calls(FAKE_CREATE, 1);
	assert_calls(FAKE_PRINT, 1);
	assert_calls(FAKE_REMOVE, 0);
	assert_non_null(m->last_error);
	assert_int_equal(f->errors, 1);
	assert_fake_has(f->dev, 0, 1);
	assert_true(is_member(m, 1));
	assert_int_equal(m->ledger.carried, 0);
	assert_int_equal(m->ledger.pending.n, 0);
	assert_non_null(find_in(&m->ledger.seen, 1));
	assert_int_equal(f->changed, changed); /* nothing settled to save */
	assert_totals(m, 0, .r = 1, .rsect = 8, .rms = 2, .w = 1, .wsect = 8,
		      .wms = 3);
	assert_int_equal(m->ledger.resets, 0);

	/* the next pass (no fault now) applies it */
	fake_clear_calls();
	run_pass(m->device);
	assert_null(m->last_error);
	assert_calls(FAKE_CREATE, 1);
	assert_calls(FAKE_REMOVE, 1);
	assert_fake_has(f->dev, 0, 2);
	assert_int_equal(m->ledger.carried, 1);
	assert_int_equal(m->ledger.pending.n, 0);
	assert_true(f->changed > changed); /* the settled counts: save them */
	assert_totals(m, 0, .r = 1, .rsect = 8, .rms = 2, .w = 1, .wsect = 8,
		      .wms = 3);
	assert_int_equal(m->ledger.resets, 0);
}

/* Another program clears a live region's counters between two reads: the
 * totals never go back, and later I/O adds on top. */
static void test_reset_between_reads(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	fake_io(f->dev, 1000, 8, false, 2);
	fake_io(f->dev, 1000, 8, false, 2);
	fake_io(f->dev, 2000, 8, true, 1);
	assert_totals(m, 0, .r = 2, .rsect = 16, .rms = 4, .w = 1, .wsect = 8,
		      .wms = 1);
	assert_int_equal(m->ledger.resets, 0);

	assert_int_equal(fake_clear_counters(f->dev, 0), 0);
	assert_totals(m, 1, .r = 2, .rsect = 16, .rms = 4, .w = 1, .wsect = 8,
		      .wms = 1);
	assert_int_equal(m->ledger.resets, 1);
	/* again with nothing new: no second reset */
	assert_totals(m, 0, .r = 2, .rsect = 16, .rms = 4, .w = 1, .wsect = 8,
		      .wms = 1);
	fake_io(f->dev, 1000, 4, false, 3);
	assert_totals(m, 0, .r = 3, .rsect = 20, .rms = 7, .w = 1, .wsect = 8,
		      .wms = 1);
	/* cleared again, with I/O before the next read */
	assert_int_equal(fake_clear_counters(f->dev, 0), 0);
	fake_io(f->dev, 1000, 8, true, 1);
	assert_totals(m, 1, .r = 3, .rsect = 20, .rms = 7, .w = 2, .wsect = 16,
		      .wms = 2);
	assert_int_equal(m->ledger.resets, 2);
	assert_int_equal(m->ledger.carried, 0);
}

/* Counts carried are saved once per pass, before any region goes, with
 * two monitors carrying in the same pass; a pass that carries nothing
 * does not save. */
static void test_persist_once_before_removes(void **state)
{
	struct fx *f = *state;
	int a = new_file(f, "a", 12288), b = new_file(f, "b", 12288);
	struct monitor *ma, *mb;

	set_extents(f->files[a].fd, E1, E2L);
	set_extents(f->files[b].fd, E3, { 4000, 16 });
	ma = create_monitor(f, a, "a");
	mb = create_monitor(f, b, "b");
	settle(ma);
	assert_int_equal(f->persist, 0); /* nothing carried yet */
	assert_true(ma->device == mb->device);
	assert_fake_has(f->dev, 0, 1, 2, 3);
	fake_io(f->dev, 2000, 16, false, 1);
	fake_io(f->dev, 4000, 16, true, 2);

	truncate_file(f, a, 8192);
	truncate_file(f, b, 8192);
	set_extents(f->files[a].fd, E1, E2);
	set_extents(f->files[b].fd, E3, { 4000, 8 });
	file_modified(ma);
	file_modified(mb);
	run_pass(ma->device);
	assert_int_equal(f->persist, 1);
	assert_int_equal(f->removes_at[0], 0);
	assert_int_equal(f->prints_at[0], 2); /* both final reads before */
	assert_calls(FAKE_REMOVE, 2);
	assert_int_equal(ma->ledger.carried, 1);
	assert_int_equal(mb->ledger.carried, 1);
	assert_totals(ma, 0, .r = 1, .rsect = 16, .rms = 1);
	assert_totals(mb, 0, .w = 1, .wsect = 16, .wms = 2);

	/* a pass that only creates (growth in place): no save */
	settle(ma);
	grow_file(f, a, 4096);
	set_extents(f->files[a].fd, { 1000, 16 }, E2);
	file_modified(ma);
	run_pass(ma->device);
	assert_calls(FAKE_CREATE, 1);
	assert_calls(FAKE_REMOVE, 0);
	assert_int_equal(f->persist, 1);
	/* nor one with nothing to do */
	settle(ma);
	run_pass(ma->device);
	assert_int_equal(f->persist, 1);
}

/* A registration that reconciles at once (monitor_sync, not a pass)
 * saves once too, before its delete. */
static void test_persist_at_add_before_remove(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	assert_int_equal(fake_add_region(f->dev, 0, 1000, 8,
					 "DMS_GROUP=b:0-1#-"), 0);
	assert_int_equal(fake_add_region(f->dev, 1, 2000, 16, ""), 1);
	fake_io(f->dev, 2000, 16, false, 4);
	set_extents(f->files[i].fd, E1, E2);
	m = add_monitor(f, i, 0, NULL);
	assert_int_equal(f->persist, 1);
	assert_int_equal(f->removes_at[0], 0);
	assert_int_equal(f->prints_at[0], 1);
	assert_calls(FAKE_REMOVE, 1);
	assert_fake_has(f->dev, 0, 2);
	assert_int_equal(m->ledger.carried, 1);
	assert_totals(m, 0, .r = 1, .rsect = 16, .rms = 4);
}

/* Counts pending in a saved ledger (the daemon stopped between the carry
 * and the switch, or after it): resolved at registration against the
 * group as it is. */
static void test_pending_resolved_at_registration(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;
	struct ledger l;
	struct ledger_region r1 = { 1, 2000, 8, { { 0 }, 0, NULL } };
	struct ledger_region r7 = { 7, 5000, 8, { { 0 }, 0, NULL } };

	assert_int_equal(fake_add_region(f->dev, 0, 1000, 8,
					 "DMS_GROUP=a:0-1#-"), 0);
	assert_int_equal(fake_add_region(f->dev, 1, 2000, 8, ""), 1);
	fake_io(f->dev, 2000, 8, false, 2);
	fake_io(f->dev, 2000, 8, false, 2);
	/* region 1 as read before the switch that never happened */
	r1.c = io_counters_of((struct io){ .r = 2, .rsect = 16, .rms = 4 });
	fake_io(f->dev, 2000, 8, false, 1); /* and since */
	fake_io(f->dev, 1000, 8, true, 1);
	/* region 7, gone from the group (the switch happened) */
	r7.c = io_counters_of((struct io){ .w = 5, .wsect = 40, .wms = 10 });
	ledger_init(&l);
	assert_int_equal(ledger_list_add(&l.pending, &r1), 0);
	assert_int_equal(ledger_list_add(&l.pending, &r7), 0);
	l.carried = 2;
	l.resets = 4;
	counters_free(&r1.c);
	counters_free(&r7.c);

	set_extents(f->files[i].fd, E1, E2);
	m = add_monitor(f, i, 0, &l);
	/* taken over: the caller's is empty */
	assert_int_equal(l.pending.n, 0);
	assert_int_equal(l.seen.n, 0);
	ledger_free(&l);
	assert_int_equal(m->ledger.pending.n, 0);
	assert_int_equal(m->ledger.carried, 1);   /* 7's, not 1's */
	assert_int_equal(m->ledger.resets, 4);
	assert_non_null(find_in(&m->ledger.seen, 1)); /* undone: live */
	assert_null(find_in(&m->ledger.seen, 7));
	assert_counters(&m->ledger.retired,
			io_counters_of((struct io){ .w = 5, .wsect = 40,
						    .wms = 10 }));
	assert_calls(FAKE_REMOVE, 0);
	assert_int_equal(f->persist, 0);
	/* region 1 counted once, from the live region */
	assert_totals(m, 0, .r = 3, .rsect = 24, .rms = 5, .w = 6, .wsect = 48,
		      .wms = 11);
	fake_io(f->dev, 2000, 8, false, 1);
	assert_totals(m, 0, .r = 4, .rsect = 32, .rms = 6, .w = 6, .wsect = 48,
		      .wms = 11);
	assert_int_equal(m->ledger.resets, 4);
	assert_int_equal(m->ledger.carried, 1);
}

/* A region cleared by another program after the last read, then dropped
 * by a plan: the final read is lower than the last one; the totals must
 * not go back (the counts before the clear are kept, as a reset's). */
static void test_reset_before_carry_never_goes_back(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 12288);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2L);
	m = create_monitor(f, i, "a");
	settle(m);
	fake_io(f->dev, 2000, 8, false, 2);
	fake_io(f->dev, 2008, 8, false, 2);
	assert_totals(m, 0, .r = 2, .rsect = 16, .rms = 4);
	assert_int_equal(fake_clear_counters(f->dev, 1), 0);
	fake_io(f->dev, 2000, 8, false, 1);

	truncate_file(f, i, 8192);
	set_extents(f->files[i].fd, E1, E2);
	file_modified(m);
	run_pass(m->device);
	assert_fake_has(f->dev, 0, 2);
	assert_int_equal(m->ledger.carried, 1);
	/* 2 reads before the clear, 1 after */
	assert_totals(m, ANY, .r = 3, .rsect = 24, .rms = 5);
}

/* A member deleted by another program, seen by a read before any pass
 * (its @stats_print: no such region): its last read is retired, as one
 * gone without a carry. */
static void test_member_deleted_elsewhere_pruned_at_read(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 12288);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	fake_io(f->dev, 2000, 8, false, 2);
	fake_io(f->dev, 2000, 8, false, 2);
	fake_io(f->dev, 3000, 8, true, 1);
	assert_totals(m, 0, .r = 2, .rsect = 16, .rms = 4, .w = 1, .wsect = 8,
		      .wms = 1);
	assert_int_equal(fake_remove_region(f->dev, 1), 0);
	assert_totals(m, 1, .r = 2, .rsect = 16, .rms = 4, .w = 1, .wsect = 8,
		      .wms = 1);
	assert_int_equal(m->ledger.carried, 1);
	assert_null(find_in(&m->ledger.seen, 1));
	/* the pass makes a region for its extent again: it counts anew */
	run_pass(m->device);
	assert_fake_has(f->dev, 0, 1, 2);
	assert_fake_io(f->dev, 1, .r = 0);
	fake_io(f->dev, 2000, 8, false, 3);
	assert_totals(m, 0, .r = 3, .rsect = 24, .rms = 7, .w = 1, .wsect = 8,
		      .wms = 1);
	assert_int_equal(m->ledger.carried, 1);
}

/* A member deleted by another program, and the pass re-makes its region
 * before any read: the kernel gives the new region the lowest free id,
 * the old one's, over the same range. Its counts start from 0: the old
 * region's last read must not be taken for the new region's (which would
 * lose it once the new one has counted as much). */
static void test_member_deleted_elsewhere_recreated_same_id(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 12288);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	fake_io(f->dev, 2000, 8, false, 2);
	fake_io(f->dev, 2000, 8, false, 2);
	assert_totals(m, 0, .r = 2, .rsect = 16, .rms = 4);
	assert_int_equal(fake_remove_region(f->dev, 1), 0);
	run_pass(m->device);
	assert_fake_has(f->dev, 0, 1, 2);
	assert_region(f->dev, 1, 2000, 8, "");
	assert_fake_io(f->dev, 1, .r = 0);
	/* the new region counts 3 reads, more than the old one's 2 */
	fake_io(f->dev, 2000, 8, false, 2);
	fake_io(f->dev, 2000, 8, false, 2);
	fake_io(f->dev, 2000, 8, false, 2);
	assert_totals(m, ANY, .r = 5, .rsect = 40, .rms = 10);
}

#define T(name) \
	cmocka_unit_test_setup_teardown(name, svc_setup_persist, svc_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_observe_new_and_again),
		cmocka_unit_test(test_observe_reset_retires_last_read),
		cmocka_unit_test(test_observe_other_range_is_reset),
		cmocka_unit_test(test_carry_final_pending),
		cmocka_unit_test(test_carry_null_uses_last_read),
		cmocka_unit_test(test_settle_done),
		cmocka_unit_test(test_settle_undo),
		cmocka_unit_test(test_resolve_members),
		cmocka_unit_test(test_prune_gone_without_carry),
		cmocka_unit_test(test_total_sums_and_in_flight),
		cmocka_unit_test(test_total_histograms_summed),
		cmocka_unit_test(test_carry_after_unseen_reset_never_goes_back),
		T(test_truncate_keeps_counts),
		T(test_leader_freed_keeps_counts),
		T(test_growth_in_place_keeps_region),
		T(test_print_fails_plan_waits),
		T(test_delete_fails_counts_carried_once),
		T(test_create_fails_counts_undone),
		T(test_reset_between_reads),
		T(test_persist_once_before_removes),
		T(test_persist_at_add_before_remove),
		T(test_pending_resolved_at_registration),
		T(test_reset_before_carry_never_goes_back),
		T(test_member_deleted_elsewhere_pruned_at_read),
		T(test_member_deleted_elsewhere_recreated_same_id),
	};

	return cmocka_run_group_tests(tests, svc_group_setup,
				      svc_group_teardown);
}
