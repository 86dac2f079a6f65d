/* test_faults.c: issue 15, faults at every kernel call. Each update of
 * faults_updates.c is run once without a fault, which counts the fake's
 * calls it makes (N); then, from the same state again, for k = 1..N and
 * each fault (EINVAL, ENOMEM, EBUSY; for a @stats_list also the reply cut
 * short or garbled at each of its rows), with call k failing so. After
 * the fault: no half-built group, the file's group is the old one or the
 * new one whole, other programs' regions untouched, and the error shown
 * (List's last_error and a Watch "error" event; for a client's request,
 * its reply); after the retry (the next passes, or the client calling
 * again): the group is the file's extents exactly, and the totals count
 * every I/O done. The checks never depend on the number or the order of
 * the calls. A failure the daemon is known to have would be listed in
 * known[] as a BUG; the nine this sweep found are fixed, and each is
 * replayed by a test of its own. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"

#define MAXCALLS 64

/* ------------------------------------------------------------------ */
/* the faults                                                         */

struct fault {
	const char *name;
	int err;    /* the errno the call fails with, or 0 */
	int damage; /* or the spoiled reply (enum fake_damage), or -1 */
};

static const struct fault faults[] = {
	{ "EINVAL", EINVAL, -1 },
	{ "ENOMEM", ENOMEM, -1 },
	{ "EBUSY", EBUSY, -1 },
	{ "short", 0, FAKE_SHORT },
	{ "garbled", 0, FAKE_GARBLED },
};
#define NFAULTS (sizeof(faults) / sizeof(faults[0]))
#define ERRNOS 0x07u  /* faults[] bits: EINVAL, ENOMEM, EBUSY */
#define SPOILT 0x18u  /* short, garbled */

static const char *const op_names[] = { "identify", "list",    "create",
					"remove",   "set_aux", "extents",
					"print",    "devices" };

/* One call of an update: its kind, its number among that kind's, and
 * for a list the rows of its reply. */
struct call {
	enum fake_op op;
	unsigned nth;
	size_t rows;
};

struct trace {
	struct call c[MAXCALLS];
	size_t n;
	unsigned per[FAKE_NOPS];
};

static void trace_hook(enum fake_op op, unsigned long call, dev_t dev,
		       void *arg)
{
	struct trace *t = arg;

	(void)call;
	t->per[op]++;
	if (t->n < MAXCALLS)
		t->c[t->n++] = (struct call){
			op, t->per[op], op == FAKE_LIST ? fake_count(dev) : 0
		};
}

/* Call K of an update failing as FAULT says (at its row ROW). */
struct combo {
	size_t k;
	struct call call;
	const struct fault *fault;
	size_t row;
};

static void arm(const struct combo *c)
{
	if (c->fault->damage >= 0)
		fake_damage_list_nth(c->call.nth,
				     (enum fake_damage)c->fault->damage,
				     c->row);
	else
		fake_fail_nth(c->call.op, c->call.nth, c->fault->err);
}

/* ------------------------------------------------------------------ */
/* one run                                                            */

/* A fixture of its own for each run: the last is the test's teardown's. */
static struct fx *fresh(void **state)
{
	svc_teardown(state);
	assert_int_equal(svc_setup(state), 0);
	return *state;
}

/* Call K was made as the fault-free run made it: the fault hit the call
 * the sweep means. */
static void reached(const struct trace *t, const struct combo *c)
{
	if (t->n < c->k || t->c[c->k - 1].op != c->call.op ||
	    t->c[c->k - 1].nth != c->call.nth)
		fail_msg("call %zu is not %s #%u as without a fault: the sweep "
			 "would test another call", c->k, op_names[c->call.op],
			 c->call.nth);
}

/* U from its state, with C's fault (NULL: none); its calls into T, its
 * faults into V. */
static void run_one(void **state, const struct update *u,
		    const struct combo *c, struct trace *t, struct verdict *v)
{
	struct fx *f = fresh(state);
	struct run r = { .f = f };
	struct snap before;
	size_t nev0;

	ledger_init(&r.saved);
	u->prepare(&r);
	snap_take(&before, f->dev);
	fake_clear_calls();
	memset(t, 0, sizeof(*t));
	fake_set_hook(trace_hook, t);
	if (c)
		arm(c);
	nev0 = f->nev;
	u->run(&r);
	fake_set_hook(NULL, NULL);
	fake_clear_faults();
	if (c)
		reached(t, c);
	check_run(v, &r, u, &before, false);
	if (c)
		check_reported(v, &r, u, c->fault->err, c->call.op, nev0);
	u->retry(&r);
	check_run(v, &r, u, &before, true);
	if (v->bad)
		describe(v, &r, nev0);
	run_free(&r);
	snap_free(&before);
}

/* ------------------------------------------------------------------ */
/* the sweep                                                          */

/* A failure the daemon is known to have: the checks BAD it fails when
 * UPDATE's call of kind OP (its NTH of that kind; 0: any) fails with one
 * of FAULTS (faults[] bits). Each is a BUG, replayed by a test of its own
 * below (skipped); a known failure no longer seen fails its sweep. */
struct known {
	const char *update;
	enum fake_op op;
	unsigned nth;
	unsigned faults;
	unsigned bad;
	const char *bug;
	unsigned hits; /* combinations it explained */
};

#define SILENT BAD_SILENT
#define ANY_PASS(op, nth, faults, bad, bug)                                   \
	{ "growth", op, nth, faults, bad, bug, 0 },                           \
	{ "truncate", op, nth, faults, bad, bug, 0 },                         \
	{ "regroup", op, nth, faults, bad, bug, 0 },                          \
	{ "pass", op, nth, faults, bad, bug, 0 }

static struct known known[] = {
	/* none now: the nine found by this sweep are fixed, and their
	 * replays below are regression tests */
	{ NULL, 0, 0, 0, 0, NULL, 0 }
};

static struct {
	size_t combos, known, unexpected;
} total;

/* Whether every check C failed (V) is a known bug's. */
static bool explained(const struct update *u, const struct combo *c,
		      const struct verdict *v)
{
	unsigned left = v->bad;
	unsigned fbit = 1u << (c->fault - faults);

	for (struct known *k = known; k->update; k++) {
		if (strcmp(k->update, u->name) || k->op != c->call.op ||
		    (k->nth && k->nth != c->call.nth) ||
		    !(k->faults & fbit) || !(k->bad & v->bad))
			continue;
		k->hits++;
		left &= ~k->bad;
	}
	return !left;
}

static void judge(const struct update *u, const struct combo *c,
		  const struct verdict *v)
{
	total.combos++;
	if (!v->bad)
		return;
	if (explained(u, c, v)) {
		total.known++;
		return;
	}
	total.unexpected++;
	print_error("%s: call %zu (%s #%u) fails with %s", u->name, c->k,
		    op_names[c->call.op], c->call.nth, c->fault->name);
	if (c->fault->damage >= 0)
		print_error(" at row %zu", c->row);
	print_error(":\n%s", v->why);
}

/* The combinations of call K of U's fault-free run. */
static void sweep_call(void **state, const struct update *u,
		       const struct call *call, size_t k)
{
	struct trace t;

	for (size_t i = 0; i < NFAULTS; i++) {
		size_t rows = faults[i].damage < 0 ? 1
			      : call->op == FAKE_LIST ? call->rows : 0;
		for (size_t row = 0; row < rows; row++) {
			struct combo c = { k, *call, &faults[i], row };
			struct verdict v = { 0 };
			run_one(state, u, &c, &t, &v);
			judge(u, &c, &v);
		}
	}
}

static const struct update *update_named(const char *name)
{
	for (size_t i = 0; i < nupdates; i++)
		if (!strcmp(updates[i].name, name))
			return &updates[i];
	fail_msg("no update %s", name);
	return NULL;
}

static void sweep(void **state, const char *name)
{
	const struct update *u = update_named(name);
	size_t combos = total.combos, unexpected = total.unexpected,
	       known_before = total.known;
	struct verdict v = { 0 };
	struct trace base;
	char calls[512] = "";

	run_one(state, u, NULL, &base, &v);
	if (v.bad)
		fail_msg("%s, without a fault:\n%s", name, v.why);
	assert_true(base.n > 0 && base.n < MAXCALLS);
	for (size_t k = 0; k < base.n; k++)
		snprintf(calls + strlen(calls), sizeof(calls) - strlen(calls),
			 " %s", op_names[base.c[k].op]);
	for (size_t k = 1; k <= base.n; k++)
		sweep_call(state, u, &base.c[k - 1], k);
	print_message("%s: %zu calls (%s), %zu combinations: %zu failing as "
		      "known bugs, %zu unexpected\n", name, base.n, calls + 1,
		      total.combos - combos, total.known - known_before,
		      total.unexpected - unexpected);
	for (struct known *k = known; k->update; k++)
		if (!strcmp(k->update, name) && !k->hits)
			fail_msg("%s: known bug no longer seen (update "
				 "known[]): %s", name, k->bug);
	assert_int_equal(total.unexpected - unexpected, 0);
}

static void test_create_one_extent(void **state) { sweep(state, "create-1"); }
static void test_create_extents(void **state) { sweep(state, "create-3"); }
static void test_growth(void **state) { sweep(state, "growth"); }
static void test_truncate(void **state) { sweep(state, "truncate"); }
static void test_regroup(void **state) { sweep(state, "regroup"); }
static void test_remove(void **state) { sweep(state, "remove"); }
static void test_readopt(void **state) { sweep(state, "readopt"); }
static void test_pass(void **state) { sweep(state, "pass"); }

/* ------------------------------------------------------------------ */
/* the known bugs, one case each                                      */

static const struct fault *fault_named(const char *name)
{
	for (size_t i = 0; i < NFAULTS; i++)
		if (!strcmp(faults[i].name, name))
			return &faults[i];
	fail_msg("no fault %s", name);
	return NULL;
}

/* UPDATE with its call NTH of kind OP failing with FAULT (at ROW): every
 * check must pass. */
static void replay(void **state, const char *update, enum fake_op op,
		   unsigned nth, const char *fault, size_t row)
{
	const struct update *u = update_named(update);
	struct combo c = { 0, { op, nth, 0 }, fault_named(fault), row };
	struct verdict v = { 0 };
	struct trace base, t;

	run_one(state, u, NULL, &base, &v);
	assert_int_equal(v.bad, 0);
	for (size_t k = 1; k <= base.n && !c.k; k++)
		if (base.c[k - 1].op == op && base.c[k - 1].nth == nth)
			c.k = k;
	assert_true(c.k > 0);
	run_one(state, u, &c, &t, &v);
	if (v.bad)
		fail_msg("%s, %s #%u failing with %s (row %zu):\n%s", update,
			 op_names[op], nth, fault, row, v.why);
}

/* BUG 1 (known[]): growth's pass, its @stats_list failing with EBUSY:
 * neither last_error nor an "error" event says so. */
static void test_bug1_pass_list_error_not_shown(void **state)
{
	replay(state, "growth", FAKE_LIST, 1, "EBUSY", 0);
}

/* BUG 2: a pass's @stats_list garbled at the leader's row (row 1): the
 * monitor ends ("group-deleted"), its group whole in the kernel. */
static void test_bug2_spoiled_list_ends_monitor(void **state)
{
	replay(state, "pass", FAKE_LIST, 1, "garbled", 1);
}

/* BUG 3: growth's @stats_list garbled at a member's row (row 2): a second
 * region over 2000+8, region 2 left in no group, its last write lost. */
static void test_bug3_spoiled_list_duplicates_member(void **state)
{
	replay(state, "growth", FAKE_LIST, 1, "garbled", 2);
}

/* BUG 4: truncation's @stats_print of the dropped region failing: the
 * region is deleted anyway, its write since the last read lost. */
static void test_bug4_print_fails_counts_lost(void **state)
{
	replay(state, "truncate", FAKE_PRINT, 1, "EBUSY", 0);
}

/* BUG 5: truncation's @stats_delete failing: region 2 (2000+16) is left
 * in no group, not shown, never deleted. */
static void test_bug5_delete_fails_region_left(void **state)
{
	replay(state, "truncate", FAKE_REMOVE, 1, "EBUSY", 0);
}

/* BUG 6: regroup's @stats_delete of the old leader failing: region 1
 * keeps DMS_GROUP=a:1-3 beside the new a:2-3. */
static void test_bug6_old_leader_left_leading(void **state)
{
	replay(state, "regroup", FAKE_REMOVE, 1, "EBUSY", 0);
}

/* BUG 7: Remove (group deleted), its @stats_list failing with EBUSY:
 * "removed by request, group deleted", and the group is all there. */
static void test_bug7_remove_bad_list_deletes_nothing(void **state)
{
	replay(state, "remove", FAKE_LIST, 1, "EBUSY", 0);
}

/* BUG 8: Remove, the leader's @stats_delete failing: members 2 and 3 are
 * deleted, region 1 still names them. */
static void test_bug8_remove_leader_fails_half_deleted(void **state)
{
	replay(state, "remove", FAKE_REMOVE, 1, "EBUSY", 0);
}

/* BUG 9: Remove, member 2's @stats_delete failing: region 2 is left for
 * good; Remove again says "group deleted". */
static void test_bug9_remove_member_fails_left(void **state)
{
	replay(state, "remove", FAKE_REMOVE, 2, "EBUSY", 0);
}

/* ------------------------------------------------------------------ */
/* the fake's spoiled replies                                         */

static void test_fake_spoils_list(void **state)
{
	struct fx *f = *state;
	const char *text;
	static const char rows[] = "0: 1000+8 8 dmstats DMS_GROUP=a:0-1#-\n"
				   "1: 2000+8 8 dmstats -\n";

	(void)new_file(f, "data", 4096);
	assert_int_equal(fake_add_region(f->dev, 0, 1000, 8,
					 "DMS_GROUP=a:0-1#-"), 0);
	assert_int_equal(fake_add_region(f->dev, 1, 2000, 8, ""), 1);
	fake_damage_list_nth(2, FAKE_SHORT, 1);
	assert_int_equal(f->be.list(f->be.ctx, f->dev, &text), 0);
	assert_string_equal(text, rows);
	assert_int_equal(f->be.list(f->be.ctx, f->dev, &text), 0);
	assert_string_equal(text, "0: 1000+8 8 dmstats DMS_GROUP=a:0-1#-\n"
				  "1: 2000+8 ");
	fake_damage_list_nth(1, FAKE_GARBLED, 0);
	assert_int_equal(f->be.list(f->be.ctx, f->dev, &text), 0);
	assert_int_equal(strspn(text, "?"), strchr(rows, '\n') - rows);
	assert_string_equal(strchr(text, '\n'), strchr(rows, '\n'));
	/* a row past the reply's: whole; cleared: whole */
	fake_damage_list_nth(1, FAKE_GARBLED, 2);
	assert_int_equal(f->be.list(f->be.ctx, f->dev, &text), 0);
	assert_string_equal(text, rows);
	fake_damage_list_nth(1, FAKE_SHORT, 0);
	fake_clear_faults();
	assert_int_equal(f->be.list(f->be.ctx, f->dev, &text), 0);
	assert_string_equal(text, rows);
}

#define T(name) cmocka_unit_test_setup_teardown(name, svc_setup, svc_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fake_spoils_list),
		T(test_create_one_extent),
		T(test_create_extents),
		T(test_growth),
		T(test_truncate),
		T(test_regroup),
		T(test_remove),
		T(test_readopt),
		T(test_pass),
		T(test_bug1_pass_list_error_not_shown),
		T(test_bug2_spoiled_list_ends_monitor),
		T(test_bug3_spoiled_list_duplicates_member),
		T(test_bug4_print_fails_counts_lost),
		T(test_bug5_delete_fails_region_left),
		T(test_bug6_old_leader_left_leading),
		T(test_bug7_remove_bad_list_deletes_nothing),
		T(test_bug8_remove_leader_fails_half_deleted),
		T(test_bug9_remove_member_fails_left),
	};
	int r = cmocka_run_group_tests(tests, svc_group_setup,
				       svc_group_teardown);

	print_message("faults: %zu (update, call, fault) combinations swept, "
		      "%zu failing as known bugs, %zu unexpected\n",
		      total.combos, total.known, total.unexpected);
	return r;
}
