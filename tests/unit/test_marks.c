/* test_marks.c: unit tests for daemon/core/marks.c: the marks group.c
 * leaves, swept after a crash at every kernel call of an update (fake_dm.c). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "core/group.h"
#include "core/marks.h"
#include "core/regions.h"
#include "fake_assert.h"

#define DEVNAME "vol"
#define DEV makedev(253, 0)
#define INST "00112233aabbccdd"
#define OTHER "ffffffffffffffff"
#define OWNER 7
#define MARK "dmfilemap:new:" INST ":7"
#define WHYLEN 256

struct fx {
	struct dm_backend be;
	struct ioctl_counts count;
	struct regions rs;
	struct group_view v;
	struct plan p;
	struct marks_swept sw;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fake_reset();
	if (fake_add_device(DEV, DEVNAME))
		return -1;
	f->be = fake_backend();
	regions_init(&f->rs, &f->be, &f->count, DEV, DEVNAME);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	regions_free(&f->rs);
	group_view_free(&f->v);
	plan_free(&f->p);
	marks_swept_free(&f->sw);
	fake_reset();
	free(f);
	return 0;
}

#define assert_region(id, start, len, aux) \
	assert_region_on(DEV, id, start, len, aux)

/* A fresh start: the list read again, and the marks swept into F->SW. */
static void restart_and_sweep(struct fx *f)
{
	regions_free(&f->rs);
	regions_init(&f->rs, &f->be, &f->count, DEV, DEVNAME);
	marks_swept_free(&f->sw);
	assert_int_equal(regions_refresh(&f->rs), 0);
	assert_int_equal(marks_sweep(&f->rs, INST, &f->sw), 0);
}

static void test_mark_text(void **state)
{
	char buf[MARK_MAX];
	const char *rest;
	uint64_t owner = 0;
	char *s;

	(void)state;
	mark_format(buf, sizeof(buf), INST, OWNER);
	assert_string_equal(buf, MARK);
	assert_true(mark_parse(buf, INST, &owner, &rest));
	assert_int_equal(owner, OWNER);
	assert_string_equal(rest, "");
	assert_true(mark_parse(MARK "|user data", INST, &owner, &rest));
	assert_string_equal(rest, "user data");
	assert_false(mark_parse(MARK, OTHER, &owner, &rest));
	assert_false(mark_parse("x" MARK, INST, &owner, &rest));
	assert_false(mark_parse("dmfilemap:new:" INST ":", INST, &owner,
				&rest));
	assert_false(mark_parse("dmfilemap:new:" INST ":7x", INST, &owner,
				&rest));
	assert_false(mark_parse("dmfilemap:new:" INST ":99999999999999999999",
				INST, &owner, &rest));
	assert_false(mark_parse(NULL, INST, &owner, &rest));
	assert_non_null(s = mark_prepend(MARK, ""));
	assert_string_equal(s, MARK);
	free(s);
	assert_non_null(s = mark_prepend(MARK, "user"));
	assert_string_equal(s, MARK "|user");
	free(s);
	/* a first update's mark is the one kept */
	assert_non_null(s = mark_prepend("dmfilemap:new:" INST ":9",
					 MARK "|user"));
	assert_string_equal(s, MARK "|user");
	free(s);
}

/* A marked region no group names: undone, its counts to its owner. */
static void test_sweep_undoes_unclaimed(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fake_add_region(DEV, 0, 100, 8, "DMS_GROUP=g:0#-"), 0);
	assert_int_equal(fake_add_region(DEV, 1, 200, 8, MARK), 1);
	fake_io(DEV, 200, 8, false, 1);
	fake_io(DEV, 204, 4, true, 2);
	restart_and_sweep(f);
	assert_int_equal(f->sw.undone, 1);
	assert_int_equal(f->sw.cleared, 0);
	assert_null(fake_region(DEV, 1));
	assert_region(0, 100, 8, "DMS_GROUP=g:0#-");
	const struct mark_found *m = marks_swept_find(&f->sw, OWNER);
	assert_non_null(m);
	assert_int_equal(m->regions, 1);
	assert_false(m->regrouped);
	assert_int_equal(m->undone.v[IO_READS], 1);
	assert_int_equal(m->undone.v[IO_WRITES], 1);
	assert_int_equal(m->undone.v[IO_READ_SECTORS], 8);
}

/* A marked region a group names: the update was done; the mark goes. */
static void test_sweep_clears_claimed(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fake_add_region(DEV, 0, 100, 8, "DMS_GROUP=g:0-1#-"),
			 0);
	assert_int_equal(fake_add_region(DEV, 1, 200, 8, MARK), 1);
	restart_and_sweep(f);
	assert_int_equal(f->sw.cleared, 1);
	assert_int_equal(f->sw.undone, 0);
	assert_region(1, 200, 8, "");
	assert_int_equal(fake_calls(FAKE_REMOVE), 0);
}

/* A leader whose descriptor was written while the group changed leader:
 * it is the old group's successor; the mark goes, the user aux stays. */
static void test_sweep_strips_descriptor(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fake_add_region(DEV, 3, 100, 8,
					 "pre DMS_GROUP=g:3-4#" MARK "|user"),
			 3);
	assert_int_equal(fake_add_region(DEV, 4, 200, 8, ""), 4);
	restart_and_sweep(f);
	assert_int_equal(f->sw.stripped, 1);
	assert_region(3, 100, 8, "pre DMS_GROUP=g:3-4#user");
	const struct mark_found *m = marks_swept_find(&f->sw, OWNER);
	assert_non_null(m);
	assert_true(m->regrouped);
	assert_int_equal(m->group, 3);
	assert_int_equal(m->regions, 0);
	/* and once is enough */
	restart_and_sweep(f);
	assert_int_equal(f->sw.n, 0);
}

/* Marks of another supervisor, and text that only looks like one, stay. */
static void test_sweep_leaves_others(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fake_add_region(DEV, 0, 100, 8,
					 "dmfilemap:new:" OTHER ":7"), 0);
	assert_int_equal(fake_add_region(DEV, 1, 200, 8, "x" MARK), 1);
	assert_int_equal(fake_add_region(DEV, 2, 300, 8,
					 "DMS_GROUP=g:2#dmfilemap:new:" OTHER
					 ":7"), 2);
	assert_int_equal(fake_add_region(DEV, 3, 400, 8, ""), 3);
	restart_and_sweep(f);
	assert_int_equal(f->sw.n, 0);
	assert_int_equal(fake_count(DEV), 4);
	assert_int_equal(fake_calls(FAKE_SET_AUX) + fake_calls(FAKE_REMOVE), 0);
}

/* A delete or a clear the kernel refuses is counted, and the device stays
 * flagged for another sweep. */
static void test_sweep_failures_counted(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fake_add_region(DEV, 0, 100, 8, "DMS_GROUP=g:0-1#-"),
			 0);
	assert_int_equal(fake_add_region(DEV, 1, 200, 8, MARK), 1);
	assert_int_equal(fake_add_region(DEV, 2, 300, 8, MARK), 2);
	fake_fail_always(FAKE_SET_AUX, EBUSY);
	fake_fail_always(FAKE_REMOVE, EBUSY);
	restart_and_sweep(f);
	assert_int_equal(f->sw.failed, 2);
	assert_int_equal(f->sw.cleared + f->sw.undone, 0);
	fake_clear_faults();
	restart_and_sweep(f);
	assert_int_equal(f->sw.failed, 0);
	assert_int_equal(f->sw.cleared, 1);
	assert_int_equal(f->sw.undone, 1);
	assert_region(1, 200, 8, "");
	assert_null(fake_region(DEV, 2));
}

/* ------------------------------------------------------------------ */
/* a SIGKILL before each kernel call of an update                      */

/* The process dies before its Nth change: from then on no call of it
 * reaches the kernel (its rollback neither). */
struct crash {
	unsigned long at, changes;
};

static void crash_hook(enum fake_op op, unsigned long call, dev_t dev,
		       void *arg)
{
	struct crash *c = arg;

	(void)call;
	(void)dev;
	if (op != FAKE_CREATE && op != FAKE_REMOVE && op != FAKE_SET_AUX)
		return;
	if (++c->changes == c->at)
		for (int o = 0; o < FAKE_NOPS; o++)
			fake_fail_always((enum fake_op)o, ECANCELED);
}

enum scenario {
	SC_CREATE, /* a group of 3 made */
	SC_GROW,   /* 2 extents added, the leader stays */
	SC_FREED,  /* the leader's extent freed, one added */
	SC_LOWER,  /* a new region below the leader: the old one stays */
	SC_N
};

static const char *const scenario_name[SC_N] = { "create", "grow",
						  "leader freed", "lower" };

/* The group before the update (none for SC_CREATE): 1-2 at 100, 200,
 * with another program's region 0 below it for SC_LOWER to take. */
static void initial(enum scenario sc)
{
	if (sc == SC_CREATE)
		return;
	assert_int_equal(fake_add_region(DEV, 1, 100, 8, "DMS_GROUP=g:1-2#-"),
			 1);
	assert_int_equal(fake_add_region(DEV, 2, 200, 8, ""), 2);
	assert_int_equal(fake_add_region(DEV, 0, 900, 8, "theirs"), 0);
	if (sc == SC_LOWER)
		assert_int_equal(fake_remove_region(DEV, 0), 0);
}

/* The file's extents after the change. */
static struct extent_list wanted(enum scenario sc)
{
	static const struct extent e[SC_N][4] = {
		{ { 100, 8 }, { 300, 8 }, { 500, 8 } },
		{ { 100, 8 }, { 200, 8 }, { 400, 8 }, { 600, 8 } },
		{ { 200, 8 }, { 400, 8 } },
		{ { 50, 8 }, { 100, 8 }, { 200, 8 } },
	};
	static const size_t n[SC_N] = { 3, 4, 2, 3 };
	struct extent_list l = { 0 };

	l.v = malloc(n[sc] * sizeof(*l.v));
	assert_non_null(l.v);
	memcpy(l.v, e[sc], n[sc] * sizeof(*l.v));
	l.n = n[sc];
	return l;
}

/* Run SC's update, dying before change AT (0: never); returns the
 * changes it made or tried. */
static unsigned long run(struct fx *f, enum scenario sc, unsigned long at)
{
	struct extent_list e = wanted(sc);
	struct crash c = { at, 0 };
	char why[WHYLEN];
	uint64_t id = 0;

	assert_int_equal(regions_refresh(&f->rs), 0);
	fake_set_hook(crash_hook, &c);
	if (sc == SC_CREATE) {
		(void)group_create(&f->rs, &e, "g", false, NULL, MARK, &id,
				   why, sizeof(why));
	} else {
		assert_int_equal(group_read(&f->rs, 1, &f->v), 1);
		assert_int_equal(plan_make(f->v.members, f->v.n, &e, &f->p), 0);
		(void)group_apply(&f->rs, &f->v, &f->p, MARK, &id, why,
				  sizeof(why));
		group_view_free(&f->v);
		plan_free(&f->p);
	}
	fake_set_hook(NULL, NULL);
	fake_clear_faults();
	extent_list_free(&e);
	return c.changes;
}

/* After the sweep: no mark of ours is left, every region the update made
 * is in a whole group, and the owner's group (the successor the sweep
 * found, or else the old one) is whole and names only regions. */
static void check_after(struct fx *f, enum scenario sc, unsigned long at)
{
	const struct mark_found *m = marks_swept_find(&f->sw, OWNER);
	uint64_t g = m && m->regrouped ? m->group : 1;

	for (size_t i = 0; i < f->rs.list.n; i++) {
		const struct aux_region *r = &f->rs.list.regions[i];
		bool old = sc != SC_CREATE && r->start <= 200 && r->id <= 2;
		if (strstr(r->aux_data, "dmfilemap:new:"))
			fail_msg("%s, killed at %lu: region %llu still marked "
				 "\"%s\"", scenario_name[sc], at,
				 (unsigned long long)r->id, r->aux_data);
		if (!old && r->start != 900 && r->claims == 0)
			fail_msg("%s, killed at %lu: region %llu (%llu+%llu) "
				 "made by the update is in no group",
				 scenario_name[sc], at,
				 (unsigned long long)r->id,
				 (unsigned long long)r->start,
				 (unsigned long long)r->len);
	}
	if (sc == SC_CREATE)
		return;
	assert_int_equal(group_read(&f->rs, g, &f->v), 1);
	assert_int_equal(f->v.missing, 0);
	group_view_free(&f->v);
}

static void sweep_kills(struct fx *f, enum scenario sc)
{
	unsigned long n;

	fake_reset();
	assert_int_equal(fake_add_device(DEV, DEVNAME), 0);
	initial(sc);
	n = run(f, sc, 0);
	assert_true(n >= 2);
	for (unsigned long at = 1; at <= n + 1; at++) {
		fake_reset();
		assert_int_equal(fake_add_device(DEV, DEVNAME), 0);
		initial(sc);
		regions_free(&f->rs);
		regions_init(&f->rs, &f->be, &f->count, DEV, DEVNAME);
		(void)run(f, sc, at);
		restart_and_sweep(f);
		assert_int_equal(f->sw.failed, 0);
		check_after(f, sc, at);
	}
	print_message("%s: %lu kill points\n", scenario_name[sc], n + 1);
}

static void test_kill_create(void **state) { sweep_kills(*state, SC_CREATE); }
static void test_kill_grow(void **state) { sweep_kills(*state, SC_GROW); }
static void test_kill_leader_freed(void **state) { sweep_kills(*state, SC_FREED); }
static void test_kill_lower_leader(void **state) { sweep_kills(*state, SC_LOWER); }

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mark_text),
		T(test_sweep_undoes_unclaimed),
		T(test_sweep_clears_claimed),
		T(test_sweep_strips_descriptor),
		T(test_sweep_leaves_others),
		T(test_sweep_failures_counted),
		T(test_kill_create),
		T(test_kill_grow),
		T(test_kill_leader_freed),
		T(test_kill_lower_leader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
