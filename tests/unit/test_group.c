/* test_group.c: unit tests for daemon/core/group.c (and the region list of
 * core/regions.c it works through), against the fake dm-stats kernel of
 * fake_dm.c, with faults injected at the kernel calls. */
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
#include <unistd.h>

#include "core/group.h"
#include "core/marks.h"
#include "core/regions.h"
#include "fake_assert.h"

#define DEVNAME "vol"
#define DEV makedev(253, 0)
#define DEV2NAME "other"
#define DEV2 makedev(253, 1)

struct fx {
	struct dm_backend be;
	struct ioctl_counts count;
	struct regions rs;
	/* what a test allocates, freed by teardown even if the test fails */
	struct group_view v, v2;
	struct plan p;
	struct extent_list e;
	struct regions rs2;
	struct ioctl_counts c2;
	char *log;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fake_reset();
	if (fake_add_device(DEV, DEVNAME) || fake_add_device(DEV2, DEV2NAME))
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
	regions_free(&f->rs2);
	group_view_free(&f->v);
	group_view_free(&f->v2);
	plan_free(&f->p);
	extent_list_free(&f->e);
	free(f->log);
	fake_reset();
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* helpers                                                            */

#define assert_region(id, start, len, aux) \
	assert_region_on(DEV, id, start, len, aux)
#define assert_fake_has(...) assert_fake_ids_on(DEV, __VA_ARGS__)
#define assert_fake_empty() assert_fake_empty_on(DEV)

/* The region list kept through our changes is what the kernel has. */
static void assert_list_matches_fake_fn(const struct regions *rs)
{
	bool ok = rs->valid && rs->list.n == fake_count(rs->dev);

	for (size_t i = 0; ok && i < rs->list.n; i++) {
		const struct aux_region *a = &rs->list.regions[i];
		const struct fake_region *k = fake_region_at(rs->dev, i);
		ok = a->id == k->id && a->start == k->start &&
		     a->len == k->len && !strcmp(a->aux_data, k->aux_data) &&
		     !strcmp(a->program_id, k->program_id) &&
		     a->precise == k->precise &&
		     !a->histogram == !k->histogram &&
		     (!a->histogram || !strcmp(a->histogram, k->histogram));
	}
	if (!ok) {
		print_error("line %d: region list (valid %d) differs from "
			    "the kernel's:\n",
			    at_line, rs->valid);
		for (size_t i = 0; i < rs->list.n; i++)
			print_error(
				"  list %llu: %llu+%llu \"%s\"\n",
				(unsigned long long)rs->list.regions[i].id,
				(unsigned long long)rs->list.regions[i].start,
				(unsigned long long)rs->list.regions[i].len,
				rs->list.regions[i].aux_data);
		dump_fake(rs->dev);
	}
	assert_true(ok);
}
#define assert_list_matches_fake(...) \
	(at_line = __LINE__, assert_list_matches_fake_fn(__VA_ARGS__))

static void refresh_fn(struct fx *f)
{
	int r = regions_refresh(&f->rs);

	if (r < 0)
		print_error("line %d: regions_refresh: %s\n", at_line,
			    strerror(-r));
	assert_true(r == 0 || r == 1);
	assert_true(f->rs.valid);
}
#define refresh(...) (at_line = __LINE__, refresh_fn(__VA_ARGS__))

static struct extent_list extents_of(const struct extent *e, size_t n)
{
	struct extent_list l = { 0 };

	for (size_t i = 0; i < n; i++)
		assert_int_equal(extent_list_add(&l, e[i].start, e[i].len), 0);
	extent_list_finish(&l);
	return l;
}

#define EXTENTS(...)                                                \
	extents_of((const struct extent[]){ __VA_ARGS__ },          \
		   sizeof((const struct extent[]){ __VA_ARGS__ }) / \
			   sizeof(struct extent))

/* Group ID as read from a fresh @stats_list; must exist. */
static void read_group_fn(struct fx *f, uint64_t id, struct group_view *v)
{
	int r;

	refresh_fn(f);
	if ((r = group_read(&f->rs, id, v)) != 1) {
		print_error("line %d: group_read(%llu) = %d, want 1\n", at_line,
			    (unsigned long long)id, r);
		dump_fake(DEV);
	}
	assert_int_equal(r, 1);
}
#define read_group(...) (at_line = __LINE__, read_group_fn(__VA_ARGS__))

/* V's members cover exactly the extents W (each one region). */
static void assert_members_cover_fn(const struct group_view *v,
				    const struct extent_list *w)
{
	bool ok = v->n == w->n;

	for (size_t i = 0; ok && i < w->n; i++) {
		bool found = false;
		for (size_t j = 0; j < v->n && !found; j++)
			found = v->members[j].start == w->v[i].start &&
				v->members[j].len == w->v[i].len;
		ok = found;
	}
	if (!ok) {
		print_error("line %d: group %llu members:", at_line,
			    (unsigned long long)v->id);
		for (size_t j = 0; j < v->n; j++)
			print_error(" %llu=%llu+%llu",
				    (unsigned long long)v->members[j].id,
				    (unsigned long long)v->members[j].start,
				    (unsigned long long)v->members[j].len);
		print_error("\nwanted:");
		for (size_t i = 0; i < w->n; i++)
			print_error(" %llu+%llu",
				    (unsigned long long)w->v[i].start,
				    (unsigned long long)w->v[i].len);
		print_error("\n");
	}
	assert_true(ok);
}
#define assert_members_cover(...) \
	(at_line = __LINE__, assert_members_cover_fn(__VA_ARGS__))

static void assert_why_has_fn(const char *why, const char *part)
{
	if (!strstr(why, part))
		print_error("line %d: why \"%s\" does not say \"%s\"\n",
			    at_line, why, part);
	assert_non_null(strstr(why, part));
}
#define assert_why_has(...) (at_line = __LINE__, assert_why_has_fn(__VA_ARGS__))

/* stderr (where log.c writes in the foreground) into a string. */
struct capture {
	FILE *tmp;
	int saved;
};

static void capture_begin(struct capture *c)
{
	fflush(stderr);
	assert_non_null(c->tmp = tmpfile());
	assert_true((c->saved = dup(2)) >= 0);
	assert_true(dup2(fileno(c->tmp), 2) >= 0);
}

static char *capture_end(struct capture *c)
{
	char *s;
	long len;

	fflush(stderr);
	assert_true(dup2(c->saved, 2) >= 0);
	close(c->saved);
	assert_int_equal(fseek(c->tmp, 0, SEEK_END), 0);
	len = ftell(c->tmp);
	assert_true(len >= 0);
	assert_non_null(s = calloc(1, (size_t)len + 1));
	rewind(c->tmp);
	assert_int_equal(fread(s, 1, (size_t)len, c->tmp), (size_t)len);
	fclose(c->tmp);
	fputs(s, stderr); /* still shown */
	return s;
}

static void assert_log_has_fn(const char *log, const char *part)
{
	if (!strstr(log, part))
		print_error("line %d: log \"%s\" does not say \"%s\"\n",
			    at_line, log, part);
	assert_non_null(strstr(log, part));
}
#define assert_log_has(...) (at_line = __LINE__, assert_log_has_fn(__VA_ARGS__))

/* Another program's work, done by the pre-op hook: at call CALL of OP,
 * add a region (ADD) or remove region ID. */
struct meddle {
	enum fake_op op;
	unsigned long call;
	bool add;
	uint64_t id; /* for remove; FAKE_ID_LOWEST to add at the lowest */
	uint64_t start, len;
	const char *aux;
	int64_t got; /* the id added, or the remove's result */
};

struct meddling {
	struct meddle *m;
	size_t n;
};

static void meddle_hook(enum fake_op op, unsigned long call, dev_t dev,
			void *arg)
{
	struct meddling *ms = arg;

	for (size_t i = 0; i < ms->n; i++) {
		struct meddle *m = &ms->m[i];
		if (m->op != op || m->call != call)
			continue;
		m->got = m->add ? fake_add_region(dev, m->id, m->start, m->len,
						  m->aux)
				: fake_remove_region(dev, m->id);
	}
}

/* A group made directly in the fake: regions START[i]+8 at ids IDS[i],
 * the descriptor AUX in the first. */
static void make_group(const uint64_t *ids, const uint64_t *starts, size_t n,
		       const char *aux)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fake_add_region(DEV, ids[i], starts[i], 8,
						 i ? "" : aux),
				 (int64_t)ids[i]);
}

#define WHYLEN 256
/* the mark of monitor 7 of the default instance (core/marks.h) */
#define INSTANCE "0000000000000000"
#define MARK "dmfilemap:new:" INSTANCE ":7"

/* group_create for F's extents, plain regions. */
static int create_g(struct fx *f, const char *alias, uint64_t *gid, char *why)
{
	return group_create(&f->rs, &f->e, alias, false, NULL, MARK, gid,
			    why, WHYLEN);
}

/* group_apply of F's plan to F's view. */
static int apply(struct fx *f, uint64_t *nid, char *why)
{
	return group_apply(&f->rs, &f->v, &f->p, MARK, nid, why, WHYLEN);
}

/* What the owner does once it has saved the new ids: the marks go. */
static void sweep(struct fx *f)
{
	struct marks_swept sw = { 0 };

	assert_int_equal(marks_sweep(&f->rs, INSTANCE, &sw), 0);
	assert_int_equal(sw.failed, 0);
	marks_swept_free(&sw);
}

/* ------------------------------------------------------------------ */
/* the fake itself                                                    */

static void test_fake_list_rows_like_the_kernel(void **state)
{
	(void)state;
	struct region_args p = { "", "a b\\c", true, "10,20" };
	struct region_args q = { "prog", "", false, "5" };
	char *t;

	assert_int_equal(fake_add_region(DEV, 4, 800, 16, "x"), 4);
	assert_int_equal(fake_add_region_args(DEV, 1, 100, 8, &p), 1);
	assert_int_equal(fake_add_region_args(DEV, FAKE_ID_LOWEST, 0, 1, &q),
			 0);
	assert_int_equal(fake_add_region(DEV, 4, 0, 1, "dup"), -EEXIST);
	assert_int_equal(fake_add_region(DEV, 7, 0, 0, "len 0"), -EINVAL);
	t = fake_list_text(DEV);
	assert_string_equal(
		t, "0: 0+1 1 prog - histogram:5\n"
		   "1: 100+8 8 - a b\\c precise_timestamps histogram:10,20\n"
		   "4: 800+16 16 dmstats x\n");
	free(t);
	t = fake_list_text(DEV2);
	assert_string_equal(t, "");
	free(t);
}

static void test_fake_ops_follow_dm_stats(void **state)
{
	struct fx *f = *state;
	struct region_args a = { "dmstats", "", false, NULL };
	const char *text;
	char name[64] = "", why[128] = "";
	uint64_t id;

	assert_int_equal(f->be.identify(f->be.ctx, DEV, name, sizeof(name), why,
					sizeof(why)),
			 0);
	assert_string_equal(name, DEVNAME);
	assert_int_equal(f->be.identify(f->be.ctx, makedev(8, 1), name,
					sizeof(name), why, sizeof(why)),
			 -ENODEV);
	assert_string_equal(why, "not on a device-mapper device");

	/* lowest free id, holes first */
	assert_int_equal(fake_add_region(DEV, 1, 0, 8, ""), 1);
	assert_int_equal(f->be.create(f->be.ctx, DEV, 8, 8, &a, &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(f->be.create(f->be.ctx, DEV, 16, 8, &a, &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(f->be.create(f->be.ctx, DEV, 16, 0, &a, &id), -EINVAL);
	assert_int_equal(f->be.create(f->be.ctx, makedev(9, 9), 0, 8, &a, &id),
			 -ENXIO);
	/* unknown ids: dm-stats' -ENOENT */
	assert_int_equal(f->be.remove(f->be.ctx, DEV, 9), -FAKE_ENOREGION);
	assert_int_equal(f->be.set_aux(f->be.ctx, DEV, 9, "x"),
			 -FAKE_ENOREGION);
	assert_int_equal(f->be.set_aux(f->be.ctx, DEV, 2, "x y"), 0);
	assert_int_equal(f->be.remove(f->be.ctx, DEV, 1), 0);
	assert_int_equal(f->be.list(f->be.ctx, DEV, &text), 0);
	assert_string_equal(text,
			    "0: 8+8 8 dmstats -\n2: 16+8 8 dmstats x y\n");

	fake_set_extents(
		7,
		(const struct extent[]){ { 300, 8 }, { 100, 8 }, { 108, 4 } },
		3);
	assert_int_equal(f->be.extents(f->be.ctx, 7, true, &f->e), 0);
	assert_int_equal(f->e.n, 2);
	assert_int_equal(f->e.v[0].start, 100);
	assert_int_equal(f->e.v[0].len, 12);
	assert_int_equal(f->e.v[1].start, 300);
	extent_list_free(&f->e);
	assert_int_equal(f->be.extents(f->be.ctx, 8, true, &f->e), -EBADF);

	assert_calls(FAKE_IDENTIFY, 2);
	assert_calls(FAKE_CREATE, 4);
	assert_calls(FAKE_REMOVE, 2);
	assert_calls(FAKE_SET_AUX, 2);
	assert_calls(FAKE_LIST, 1);
	assert_calls(FAKE_EXTENTS, 2);
	assert_int_equal(fake_calls_total(), 13);
}

static void test_fake_faults_nth_and_always(void **state)
{
	struct fx *f = *state;
	int got[6];

	assert_int_equal(fake_add_region(DEV, 0, 0, 8, ""), 0);
	assert_int_equal(f->be.set_aux(f->be.ctx, DEV, 0, "a"), 0);
	fake_fail_nth(FAKE_SET_AUX, 2, EIO);
	fake_fail_nth(FAKE_SET_AUX, 4, ENOMEM);
	for (int i = 0; i < 5; i++)
		got[i] = f->be.set_aux(f->be.ctx, DEV, 0, "b");
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], -EIO);
	assert_int_equal(got[2], 0);
	assert_int_equal(got[3], -ENOMEM);
	assert_int_equal(got[4], 0);
	fake_fail_always(FAKE_SET_AUX, EBUSY);
	fake_fail_nth(FAKE_SET_AUX, 2, EIO);
	for (int i = 0; i < 3; i++)
		got[i] = f->be.set_aux(f->be.ctx, DEV, 0, "c");
	assert_int_equal(got[0], -EBUSY);
	assert_int_equal(got[1], -EIO);
	assert_int_equal(got[2], -EBUSY);
	assert_region(0, 0, 8, "b"); /* failed calls change nothing */
	fake_clear_faults();
	assert_int_equal(f->be.set_aux(f->be.ctx, DEV, 0, "d"), 0);
	assert_calls(FAKE_SET_AUX, 10);
	fake_fail_nth(FAKE_REMOVE, 1, EIO);
	fake_clear_calls(); /* keeps the armed fault */
	assert_calls(FAKE_SET_AUX, 0);
	assert_int_equal(f->be.remove(f->be.ctx, DEV, 0), -EIO);
	assert_int_equal(f->be.remove(f->be.ctx, DEV, 0), 0);
}

/* ------------------------------------------------------------------ */
/* regions_refresh                                                    */

static void test_refresh_gives_1_if_unchanged_0_after_a_change(void **state)
{
	struct fx *f = *state;

	assert_int_equal(regions_refresh(&f->rs), 0); /* first list */
	assert_true(f->rs.valid);
	assert_int_equal(regions_refresh(&f->rs), 1);
	assert_int_equal(fake_add_region(DEV, FAKE_ID_LOWEST, 0, 8, "x"), 0);
	assert_int_equal(regions_refresh(&f->rs), 0);
	assert_int_equal(f->rs.list.n, 1);
	assert_string_equal(f->rs.list.regions[0].aux_data, "x");
	f->rs.stale = true;
	assert_int_equal(regions_refresh(&f->rs), 1);
	assert_false(f->rs.stale);
	/* changed by us: parsed again even if the text is the same, and 1
	 * if it lists just what we made it */
	regions_touched(&f->rs);
	assert_int_equal(regions_refresh(&f->rs), 1);
	assert_int_equal(regions_refresh(&f->rs), 1);
	assert_int_equal(fake_set_region_aux(DEV, 0, "y"), 0);
	assert_int_equal(regions_refresh(&f->rs), 0);
	assert_string_equal(f->rs.list.regions[0].aux_data, "y");
	/* touched, and changed by another program meanwhile: 0 */
	regions_touched(&f->rs);
	assert_int_equal(fake_set_region_aux(DEV, 0, "z"), 0);
	assert_int_equal(regions_refresh(&f->rs), 0);
	assert_string_equal(f->rs.list.regions[0].aux_data, "z");
	assert_calls(FAKE_LIST, 8);
	assert_int_equal(f->count.stats_list, 8);
	assert_int_equal(f->count.total, 8);
}

static void test_refresh_failing_list_makes_list_invalid(void **state)
{
	struct fx *f = *state;

	make_group(IDS(0, 1), IDS(100, 200), 2, "DMS_GROUP=g:0-1#-");
	refresh(f);
	assert_int_equal(group_read(&f->rs, 0, &f->v), 1);
	group_view_free(&f->v);
	fake_fail_nth(FAKE_LIST, 1, EIO);
	assert_int_equal(regions_refresh(&f->rs), -EIO);
	assert_false(f->rs.valid);
	assert_int_equal(group_read(&f->rs, 0, &f->v), 0);
	group_view_free(&f->v);
	/* the same text again is parsed again: the list was invalid */
	assert_int_equal(regions_refresh(&f->rs), 0);
	assert_true(f->rs.valid);
	assert_list_matches_fake(&f->rs);
}

/* ------------------------------------------------------------------ */
/* group_read                                                         */

static void test_read_group_and_its_settings(void **state)
{
	struct fx *f = *state;
	struct region_args a = { "myprog",
				 "note DMS_GROUP=\"my file\":3-4,6#user data",
				 true, "10,20" };

	assert_int_equal(fake_add_region_args(DEV, 3, 100, 8, &a), 3);
	assert_int_equal(fake_add_region(DEV, 4, 200, 8, ""), 4);
	assert_int_equal(fake_add_region(DEV, 5, 300, 8, "not ours"), 5);
	assert_int_equal(fake_add_region(DEV, 6, 400, 16, ""), 6);
	read_group(f, 3, &f->v);
	assert_int_equal(f->v.id, 3);
	assert_string_equal(f->v.desc.alias, "my file");
	assert_true(f->v.desc.quoted);
	assert_string_equal(f->v.desc.user_aux, "user data");
	assert_string_equal(f->v.desc.prefix, "note ");
	assert_string_equal(f->v.program_id, "myprog");
	assert_true(f->v.precise);
	assert_string_equal(f->v.histogram, "10,20");
	assert_int_equal(f->v.n, 3);
	assert_int_equal(f->v.missing, 0);
	assert_int_equal(f->v.ncontested, 0);
	assert_int_equal(f->v.members[0].id, 3);
	assert_int_equal(f->v.members[1].id, 4);
	assert_int_equal(f->v.members[2].id, 6);
	assert_int_equal(f->v.members[2].start, 400);
	assert_int_equal(f->v.members[2].len, 16);
	group_view_free(&f->v);
}

static void test_read_counts_missing_members(void **state)
{
	struct fx *f = *state;

	make_group(IDS(0, 2), IDS(100, 300), 2, "DMS_GROUP=g:0-2#-");
	read_group(f, 0, &f->v);
	assert_int_equal(f->v.n, 2);
	assert_int_equal(f->v.missing, 1);
	assert_int_equal(f->v.members[1].id, 2);
	group_view_free(&f->v);
}

static void expect_no_group_fn(struct fx *f, uint64_t id)
{
	struct group_view v;
	int r = group_read(&f->rs, id, &v);
	bool empty = v.n == 0 && !v.members;

	group_view_free(&v); /* before any assert: no leak on failure */
	if (r != 0) {
		print_error("line %d: group_read(%llu) = %d, want 0\n", at_line,
			    (unsigned long long)id, r);
		dump_fake(DEV);
	}
	assert_int_equal(r, 0);
	assert_true(empty);
}
#define expect_no_group(...) \
	(at_line = __LINE__, expect_no_group_fn(__VA_ARGS__))

static void test_read_descriptor_not_in_lowest_member_is_no_group(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fake_add_region(DEV, 0, 100, 8, ""), 0);
	assert_int_equal(fake_add_region(DEV, 1, 200, 8, "DMS_GROUP=g:0-1#-"),
			 1);
	assert_int_equal(fake_add_region(DEV, 2, 300, 8, "DMS_GROUP=h:1-2#-"),
			 2);
	refresh(f);
	expect_no_group(f, 1);
	expect_no_group(f, 2);
	expect_no_group(f, 0); /* no descriptor */
	expect_no_group(f, 9); /* no region */
	for (size_t i = 0; i < f->rs.list.n; i++) /* nobody claims them */
		assert_int_equal(f->rs.list.regions[i].claims, 0);
}

static void test_read_malformed_descriptor_is_no_group(void **state)
{
	struct fx *f = *state;
	static const char *bad[] = {
		"DMS_GROUP=g",	     "DMS_GROUP=g:#-",	  "DMS_GROUP=g:0-#-",
		"DMS_GROUP=g:x#-",   "DMS_GROUP=\"g:0#-", "DMS_GROUP=g:0,,1#-",
		"DMS_GROUP=g:1-0#-",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(fake_add_region(DEV, i, 100 * i, 8, bad[i]),
				 (int64_t)i);
	refresh(f);
	assert_int_equal(f->rs.list.n, sizeof(bad) / sizeof(*bad));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		expect_no_group(f, i);
}

static void test_read_without_a_valid_list_is_no_group(void **state)
{
	struct fx *f = *state;

	make_group(IDS(0), IDS(100), 1, "DMS_GROUP=g:0#-");
	expect_no_group(f, 0); /* never listed */
	assert_calls(FAKE_LIST, 0);
}

/* ------------------------------------------------------------------ */
/* group_create                                                       */

static void test_create_several_marked_until_described(void **state)
{
	struct fx *f = *state;
	uint64_t gid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 300, 8 }, { 100, 8 }, { 200, 16 });
	refresh(f);
	fake_clear_calls();
	assert_int_equal(create_g(f, "myfile", &gid, why), 0);
	assert_int_equal(gid, 0);
	assert_fake_has(0, 1, 2);
	assert_region(0, 100, 8, "DMS_GROUP=myfile:0-2#-");
	assert_region(1, 200, 16, "");
	assert_region(2, 300, 8, "");
	assert_string_equal(fake_region(DEV, 0)->program_id, "dmstats");
	assert_calls(FAKE_CREATE, 3);
	/* the descriptor once all are made, then the marks cleared */
	assert_calls(FAKE_SET_AUX, 3);
	assert_calls(FAKE_REMOVE, 0);
	assert_calls(FAKE_LIST, 0);
	assert_int_equal(f->count.stats_create, 3);
	assert_int_equal(f->count.stats_set_aux, 3);
	assert_false(f->rs.marked);
	assert_false(f->rs.stale);
	assert_list_matches_fake(&f->rs);
	/* changed by us, and listed as we left it: nothing else to see */
	assert_int_equal(regions_refresh(&f->rs), 1);
	read_group(f, 0, &f->v);
	assert_string_equal(f->v.desc.alias, "myfile");
	assert_int_equal(f->v.missing, 0);
	assert_int_equal(f->v.ncontested, 0);
	assert_members_cover(&f->v, &f->e);
	group_view_free(&f->v);
	extent_list_free(&f->e);
}

static void test_create_predicts_ids_around_other_regions(void **state)
{
	struct fx *f = *state;
	uint64_t gid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 200, 8 }, { 300, 8 });
	assert_int_equal(fake_add_region(DEV, 0, 5000, 8, "theirs"), 0);
	assert_int_equal(fake_add_region(DEV, 2, 6000, 8, "theirs too"), 2);
	refresh(f);
	assert_int_equal(create_g(f, "g", &gid, why), 0);
	assert_int_equal(gid, 1);
	assert_fake_has(0, 1, 2, 3, 4);
	assert_region(1, 100, 8, "DMS_GROUP=g:1,3-4#-");
	assert_region(3, 200, 8, "");
	assert_region(4, 300, 8, "");
	assert_region(0, 5000, 8, "theirs");
	assert_region(2, 6000, 8, "theirs too");
	assert_calls(FAKE_SET_AUX, 3);
	assert_false(f->rs.stale);
	assert_list_matches_fake(&f->rs);
	extent_list_free(&f->e);
}

static void test_create_quoted_alias_precise_histogram(void **state)
{
	struct fx *f = *state;
	uint64_t gid = 99;
	char why[256] = "", *t;

	f->e = EXTENTS({ 100, 8 }, { 200, 8 });
	refresh(f);
	assert_int_equal(group_create(&f->rs, &f->e, "my file", true, "10,20", MARK,
				      &gid, why, sizeof(why)),
			 0);
	assert_int_equal(gid, 0);
	t = fake_list_text(DEV);
	assert_string_equal(t, "0: 100+8 8 dmstats DMS_GROUP=\"my file\":0-1#- "
			       "precise_timestamps histogram:10,20\n"
			       "1: 200+8 8 dmstats - precise_timestamps "
			       "histogram:10,20\n");
	free(t);
	assert_list_matches_fake(&f->rs);
	read_group(f, 0, &f->v);
	assert_string_equal(f->v.desc.alias, "my file");
	assert_true(f->v.precise);
	assert_string_equal(f->v.histogram, "10,20");
	assert_members_cover(&f->v, &f->e);
	group_view_free(&f->v);
	extent_list_free(&f->e);
}

/* Without a list to predict from, the descriptor is written afterwards. */
static void test_create_without_list_writes_descriptor(void **state)
{
	struct fx *f = *state;
	uint64_t gid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 200, 8 });
	assert_int_equal(fake_add_region(DEV, 0, 5000, 8, "theirs"), 0);
	assert_int_equal(create_g(f, "g", &gid, why), 0);
	assert_int_equal(gid, 1);
	assert_region(1, 100, 8, "DMS_GROUP=g:1-2#-");
	assert_region(2, 200, 8, "");
	assert_region(0, 5000, 8, "theirs");
	assert_calls(FAKE_SET_AUX, 2); /* the descriptor, a mark cleared */
	assert_calls(FAKE_LIST, 0);
	extent_list_free(&f->e);
}

/* Another program creates a region after our @stats_list, before our
 * first create: every id is one higher than predicted. */
static void test_create_stale_list_rewrites_descriptor(void **state)
{
	struct fx *f = *state;
	struct meddle m[] = { { FAKE_CREATE, 1, true, FAKE_ID_LOWEST, 5000, 8,
				"theirs", -1 } };
	struct meddling ms = { m, 1 };
	uint64_t gid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 200, 8 }, { 300, 8 });
	refresh(f);
	fake_set_hook(meddle_hook, &ms);
	assert_int_equal(create_g(f, "g", &gid, why), 0);
	fake_set_hook(NULL, NULL);
	assert_int_equal(m[0].got, 0);
	assert_int_equal(gid, 1);
	assert_fake_has(0, 1, 2, 3);
	assert_region(0, 5000, 8, "theirs");
	assert_region(1, 100, 8, "DMS_GROUP=g:1-3#-");
	assert_region(2, 200, 8, "");
	assert_region(3, 300, 8, "");
	assert_calls(FAKE_SET_AUX, 3); /* the descriptor, 2 marks cleared */
	assert_true(f->rs.stale);
	read_group(f, 1, &f->v);
	assert_members_cover(&f->v, &f->e);
	assert_int_equal(f->v.ncontested, 0);
	group_view_free(&f->v);
	expect_no_group(f, 0);
	extent_list_free(&f->e);
}

/* Another program's region comes and goes while we create: our first
 * region is not the lowest after all; the descriptor goes to the lowest. */
static void test_create_stale_list_descriptor_in_lowest(void **state)
{
	struct fx *f = *state;
	struct meddle m[] = {
		{ FAKE_CREATE, 1, true, FAKE_ID_LOWEST, 5000, 8, "theirs", -1 },
		{ FAKE_CREATE, 2, false, 0, 0, 0, NULL, -1 },
	};
	struct meddling ms = { m, 2 };
	uint64_t gid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 200, 8 }, { 300, 8 });
	refresh(f);
	fake_set_hook(meddle_hook, &ms);
	assert_int_equal(create_g(f, "g", &gid, why), 0);
	fake_set_hook(NULL, NULL);
	assert_int_equal(m[0].got, 0);
	assert_int_equal(m[1].got, 0);
	/* ours: 100+8 got 1, 200+8 got 0 */
	assert_int_equal(gid, 0);
	assert_fake_has(0, 1, 2);
	assert_region(0, 200, 8, "DMS_GROUP=g:0-2#-");
	assert_region(1, 100, 8, "");
	assert_region(2, 300, 8, "");
	assert_calls(FAKE_SET_AUX, 3); /* descriptor to 0, marks of 1, 2 */
	assert_calls(FAKE_REMOVE, 0);
	assert_true(f->rs.stale);
	read_group(f, 0, &f->v);
	assert_members_cover(&f->v, &f->e);
	group_view_free(&f->v);
	extent_list_free(&f->e);
}

static void test_create_refused_create_rolls_back(void **state)
{
	struct fx *f = *state;
	uint64_t gid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 200, 8 }, { 300, 8 });
	refresh(f);
	fake_fail_nth(FAKE_CREATE, 3, ENOSPC);
	assert_int_equal(create_g(f, "g", &gid, why), -ENOSPC);
	assert_int_equal(gid, 99);
	assert_why_has(why, "300+8");
	assert_why_has(why, DEVNAME);
	assert_why_has(why, strerror(ENOSPC));
	assert_fake_empty();
	assert_calls(FAKE_CREATE, 3);
	assert_calls(FAKE_REMOVE, 2);
	assert_calls(FAKE_SET_AUX, 0);
	assert_list_matches_fake(&f->rs);
	/* and the ids are free again for the next try */
	assert_int_equal(create_g(f, "g", &gid, why), 0);
	assert_int_equal(gid, 0);
	assert_region(0, 100, 8, "DMS_GROUP=g:0-2#-");
	assert_calls(FAKE_SET_AUX, 3);
	extent_list_free(&f->e);
}

static void test_create_refused_first_create_leaves_others(void **state)
{
	struct fx *f = *state;
	uint64_t gid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 200, 8 });
	assert_int_equal(fake_add_region(DEV, 0, 5000, 8, "theirs"), 0);
	refresh(f);
	fake_fail_nth(FAKE_CREATE, 1, ENOMEM);
	assert_int_equal(create_g(f, "g", &gid, why), -ENOMEM);
	assert_why_has(why, "100+8");
	assert_fake_has(0);
	assert_region(0, 5000, 8, "theirs");
	assert_calls(FAKE_REMOVE, 0);
	extent_list_free(&f->e);
}

static void test_create_failed_descriptor_write_rolls_back(void **state)
{
	struct fx *f = *state;
	uint64_t gid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 200, 8 }, { 300, 8 });
	/* no list: the descriptor is written with @stats_set_aux */
	assert_int_equal(fake_add_region(DEV, 0, 5000, 8, "theirs"), 0);
	fake_fail_always(FAKE_SET_AUX, EIO);
	assert_int_equal(create_g(f, "g", &gid, why), -EIO);
	assert_int_equal(gid, 99);
	assert_why_has(why, "cannot write group descriptor to region 1");
	assert_why_has(why, DEVNAME);
	assert_fake_has(0);
	assert_region(0, 5000, 8, "theirs");
	assert_calls(FAKE_CREATE, 3);
	assert_calls(FAKE_SET_AUX, 1);
	assert_calls(FAKE_REMOVE, 3);
	extent_list_free(&f->e);
}

static void test_create_stale_list_failed_write_rolls_back(void **state)
{
	struct fx *f = *state;
	struct meddle m[] = { { FAKE_CREATE, 1, true, FAKE_ID_LOWEST, 5000, 8,
				"theirs", -1 } };
	struct meddling ms = { m, 1 };
	uint64_t gid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 200, 8 });
	refresh(f);
	fake_set_hook(meddle_hook, &ms);
	fake_fail_nth(FAKE_SET_AUX, 1, EIO);
	assert_int_equal(create_g(f, "g", &gid, why), -EIO);
	fake_set_hook(NULL, NULL);
	assert_why_has(why, "region 1");
	assert_fake_has(0); /* only theirs */
	assert_region(0, 5000, 8, "theirs");
	assert_calls(FAKE_REMOVE, 2);
	extent_list_free(&f->e);
}

/* ------------------------------------------------------------------ */
/* group_apply                                                        */

/* Plan for group GID towards the extents W, from a fresh list. */
static void plan_for(struct fx *f, uint64_t gid, const struct extent_list *w,
		     struct group_view *v, struct plan *p)
{
	read_group(f, gid, v);
	assert_int_equal(plan_make(v->members, v->n, w, p), 0);
	fake_clear_calls();
}

static void test_apply_keeps_creates_removes(void **state)
{
	struct fx *f = *state;
	struct region_args lead = { "dmstats", "DMS_GROUP=g:0-2#-", true,
				    "5,10" };
	struct region_args mem = { "dmstats", "", true, "5,10" };
	uint64_t nid = 99;
	char why[WHYLEN] = "";

	assert_int_equal(fake_add_region_args(DEV, 0, 100, 8, &lead), 0);
	assert_int_equal(fake_add_region_args(DEV, 1, 200, 8, &mem), 1);
	assert_int_equal(fake_add_region_args(DEV, 2, 300, 8, &mem), 2);
	assert_int_equal(fake_add_region(DEV, 3, 900, 8, "theirs"), 3);
	/* the file through the extents op, as the daemon reads it */
	fake_set_extents(
		42,
		(const struct extent[]){
			{ 600, 8 }, { 100, 8 }, { 300, 8 }, { 500, 8 } },
		4);
	assert_int_equal(f->be.extents(f->be.ctx, 42, true, &f->e), 0);
	plan_for(f, 0, &f->e, &f->v, &f->p);
	assert_int_equal(f->p.nkeep, 2);
	assert_int_equal(f->p.nremove, 1);
	assert_int_equal(f->p.ncreate, 2);

	assert_int_equal(apply(f, &nid, why), 0);
	assert_int_equal(nid, 0);
	assert_fake_has(0, 2, 3, 4, 5);
	assert_region(0, 100, 8, "DMS_GROUP=g:0,2,4-5#-");
	assert_region(2, 300, 8, "");
	assert_region(3, 900, 8, "theirs");
	assert_region(4, 500, 8, "");
	assert_region(5, 600, 8, "");
	/* new regions get the leader's settings */
	assert_true(fake_region(DEV, 4)->precise);
	assert_string_equal(fake_region(DEV, 5)->histogram, "5,10");
	assert_string_equal(fake_region(DEV, 5)->program_id, "dmstats");
	assert_calls(FAKE_CREATE, 2);
	/* the switch, in one message, then the 2 new regions' marks */
	assert_calls(FAKE_SET_AUX, 3);
	assert_calls(FAKE_REMOVE, 1);
	assert_false(f->rs.marked); /* the leader stays: nothing to save */
	assert_list_matches_fake(&f->rs);
	read_group(f, 0, &f->v2);
	assert_members_cover(&f->v2, &f->e);
	assert_int_equal(f->v2.missing, 0);
	group_view_free(&f->v2);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

/* Another program creates a region while we apply: nothing is predicted,
 * so the descriptor names the ids we got. */
static void test_apply_other_program_creating_meanwhile(void **state)
{
	struct fx *f = *state;
	struct meddle m[] = { { FAKE_CREATE, 1, true, FAKE_ID_LOWEST, 5000, 8,
				"theirs", -1 } };
	struct meddling ms = { m, 1 };
	uint64_t nid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 500, 8 });
	make_group(IDS(0), IDS(100), 1, "DMS_GROUP=g:0#-");
	plan_for(f, 0, &f->e, &f->v, &f->p);
	fake_set_hook(meddle_hook, &ms);
	assert_int_equal(apply(f, &nid, why), 0);
	fake_set_hook(NULL, NULL);
	assert_int_equal(m[0].got, 1);
	assert_int_equal(nid, 0);
	assert_region(0, 100, 8, "DMS_GROUP=g:0,2#-");
	assert_region(2, 500, 8, "");
	read_group(f, 0, &f->v2);
	assert_members_cover(&f->v2, &f->e);
	group_view_free(&f->v2);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

static void test_apply_failed_descriptor_write_rolls_back(void **state)
{
	struct fx *f = *state;
	uint64_t nid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 300, 8 });
	make_group(IDS(0, 1), IDS(100, 200), 2, "DMS_GROUP=g:0-1#-");
	plan_for(f, 0, &f->e, &f->v, &f->p);
	fake_fail_always(FAKE_SET_AUX, EIO);
	assert_int_equal(apply(f, &nid, why), -EIO);
	assert_int_equal(nid, 99);
	assert_why_has(why, "cannot write group descriptor to region 0");
	assert_why_has(why, DEVNAME);
	/* the region created (2) deleted, the old group as it was */
	assert_fake_has(0, 1);
	assert_region(0, 100, 8, "DMS_GROUP=g:0-1#-");
	assert_region(1, 200, 8, "");
	assert_calls(FAKE_CREATE, 1);
	assert_calls(FAKE_REMOVE, 1);
	assert_calls(FAKE_SET_AUX, 1);
	fake_clear_faults();
	read_group(f, 0, &f->v2);
	assert_int_equal(f->v2.n, 2);
	assert_int_equal(f->v2.members[1].id, 1);
	group_view_free(&f->v2);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

static void test_apply_refused_create_rolls_back(void **state)
{
	struct fx *f = *state;
	uint64_t nid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 300, 8 }, { 400, 8 });
	make_group(IDS(0, 1), IDS(100, 200), 2, "DMS_GROUP=g:0-1#-");
	plan_for(f, 0, &f->e, &f->v, &f->p);
	fake_fail_nth(FAKE_CREATE, 2, ENOSPC);
	assert_int_equal(apply(f, &nid, why), -ENOSPC);
	assert_why_has(why, "400+8");
	assert_why_has(why, DEVNAME);
	assert_fake_has(0, 1);
	assert_region(0, 100, 8, "DMS_GROUP=g:0-1#-");
	assert_calls(FAKE_REMOVE, 1);
	assert_calls(FAKE_SET_AUX, 0);
	assert_list_matches_fake(&f->rs);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

static void test_apply_leader_removed_moves_descriptor(void **state)
{
	struct fx *f = *state;
	uint64_t nid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 200, 8 }, { 300, 8 });
	make_group(IDS(0, 1, 2), IDS(100, 200, 300), 3,
		   "note DMS_GROUP=g:0-2#user");
	plan_for(f, 0, &f->e, &f->v, &f->p);
	assert_int_equal(apply(f, &nid, why), 0);
	assert_int_equal(nid, 1);
	assert_fake_has(1, 2);
	/* the new leader names the old group until the id is saved */
	assert_region(1, 200, 8, "note DMS_GROUP=g:1-2#" MARK "|user");
	assert_region(2, 300, 8, "");
	assert_calls(FAKE_SET_AUX, 1);
	assert_calls(FAKE_REMOVE, 1);
	assert_calls(FAKE_CREATE, 0);
	assert_true(f->rs.marked);
	sweep(f);
	assert_region(1, 200, 8, "note DMS_GROUP=g:1-2#user");
	assert_calls(FAKE_SET_AUX, 2);
	assert_list_matches_fake(&f->rs);
	read_group(f, 1, &f->v2);
	assert_members_cover(&f->v2, &f->e);
	assert_string_equal(f->v2.desc.user_aux, "user");
	group_view_free(&f->v2);
	expect_no_group(f, 0);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

static void test_apply_all_replaced_moves_descriptor_to_new_region(void **state)
{
	struct fx *f = *state;
	uint64_t nid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 500, 8 });
	make_group(IDS(0, 1), IDS(100, 200), 2, "DMS_GROUP=g:0-1#-");
	plan_for(f, 0, &f->e, &f->v, &f->p);
	assert_int_equal(apply(f, &nid, why), 0);
	assert_int_equal(nid, 2);
	assert_fake_has(2);
	assert_region(2, 500, 8, "DMS_GROUP=g:2#" MARK);
	assert_calls(FAKE_REMOVE, 2);
	assert_calls(FAKE_SET_AUX, 1); /* the new region's mark is replaced */
	sweep(f);
	assert_region(2, 500, 8, "DMS_GROUP=g:2#-");
	read_group(f, 2, &f->v2);
	assert_members_cover(&f->v2, &f->e);
	group_view_free(&f->v2);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

/* A new region with a lower id than the leader joins: the descriptor
 * moves to it, and the old leader, kept, loses its tag (not its prefix). */
static void test_apply_old_leader_kept_is_cleared_to_prefix(void **state)
{
	struct fx *f = *state;
	uint64_t nid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 50, 8 }, { 100, 8 }, { 200, 8 });
	make_group(IDS(2, 3), IDS(100, 200), 2, "pre DMS_GROUP=g:2-3#-");
	plan_for(f, 2, &f->e, &f->v, &f->p);
	assert_int_equal(apply(f, &nid, why), 0);
	assert_int_equal(nid, 0);
	assert_fake_has(0, 2, 3);
	assert_region(0, 50, 8, "pre DMS_GROUP=g:0,2-3#" MARK);
	assert_region(2, 100, 8, "pre ");
	assert_region(3, 200, 8, "");
	assert_calls(FAKE_SET_AUX, 2);
	sweep(f);
	assert_region(0, 50, 8, "pre DMS_GROUP=g:0,2-3#-");
	assert_calls(FAKE_REMOVE, 0);
	assert_list_matches_fake(&f->rs);
	read_group(f, 0, &f->v2);
	assert_members_cover(&f->v2, &f->e);
	group_view_free(&f->v2);
	expect_no_group(f, 2);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

/* A failed clear of the old leader is said; the apply stands. */
static void test_apply_failed_clear_of_old_leader_is_logged(void **state)
{
	struct fx *f = *state;
	struct capture c;
	uint64_t nid = 99;
	char why[WHYLEN] = "";
	int r;

	f->e = EXTENTS({ 50, 8 }, { 100, 8 });
	make_group(IDS(2), IDS(100), 1, "DMS_GROUP=g:2#-");
	plan_for(f, 2, &f->e, &f->v, &f->p);
	fake_fail_nth(FAKE_SET_AUX, 2, EIO);
	capture_begin(&c);
	r = apply(f, &nid, why);
	f->log = capture_end(&c);
	assert_int_equal(r, 1); /* done; the owner clears it later */
	assert_why_has(why, "cannot clear the old descriptor of region 2");
	assert_log_has(f->log, "cannot clear old descriptor of region 2");
	assert_int_equal(nid, 0);
	assert_region(0, 50, 8, "DMS_GROUP=g:0,2#" MARK);
	assert_region(2, 100, 8, "DMS_GROUP=g:2#-");
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

static void test_apply_failed_delete_is_logged_not_fatal(void **state)
{
	struct fx *f = *state;
	struct capture c;
	uint64_t nid = 99;
	char why[WHYLEN] = "";
	int r;

	f->e = EXTENTS({ 100, 8 }, { 200, 8 });
	make_group(IDS(0, 1, 2), IDS(100, 200, 300), 3, "DMS_GROUP=g:0-2#-");
	plan_for(f, 0, &f->e, &f->v, &f->p);
	fake_fail_always(FAKE_REMOVE, EBUSY);
	capture_begin(&c);
	r = apply(f, &nid, why);
	f->log = capture_end(&c);
	assert_int_equal(r, 1); /* done, but a region is left to delete */
	assert_why_has(why, "cannot delete region 2");
	assert_why_has(why, strerror(EBUSY));
	assert_int_equal(nid, 0);
	/* still in the list, as in the kernel: the owner deletes it later */
	assert_non_null(aux_list_find(&f->rs.list, 2));
	assert_fake_has(0, 1, 2); /* the kernel kept it */
	assert_region(0, 100, 8, "DMS_GROUP=g:0-1#-");
	assert_calls(FAKE_REMOVE, 1);
	fake_clear_faults();
	read_group(f, 0, &f->v2);
	assert_members_cover(&f->v2, &f->e);
	group_view_free(&f->v2);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

/* ------------------------------------------------------------------ */
/* contested regions                                                  */

/* Group 0 claims 0-1; a forged descriptor in region 1 claims 1 too. */
static void make_forged(void)
{
	make_group(IDS(0, 1), IDS(100, 200), 2, "DMS_GROUP=a:0-1#-");
	assert_int_equal(fake_set_region_aux(DEV, 1, "DMS_GROUP=x:1#-"), 0);
}

static void test_read_forged_overlap_is_contested(void **state)
{
	struct fx *f = *state;

	make_forged();
	read_group(f, 0, &f->v);
	assert_int_equal(f->v.n, 2);
	assert_int_equal(f->v.ncontested, 1);
	assert_int_equal(f->v.contested[0], 1);
	assert_true(group_contested(&f->v, 1));
	assert_false(group_contested(&f->v, 0));
	assert_int_equal(group_read(&f->rs, 1, &f->v2), 1);
	assert_string_equal(f->v2.desc.alias, "x");
	assert_int_equal(f->v2.ncontested, 1);
	assert_true(group_contested(&f->v2, 1));
	group_view_free(&f->v2);
	group_view_free(&f->v);
}

static void test_apply_dropping_contested_region_only_releases_it(void **state)
{
	struct fx *f = *state;
	struct capture c;
	uint64_t nid = 99;
	char why[WHYLEN] = "";
	int r;

	f->e = EXTENTS({ 100, 8 }, { 300, 8 });
	make_forged();
	plan_for(f, 0, &f->e, &f->v, &f->p);
	assert_int_equal(f->p.nremove, 1);
	assert_int_equal(f->p.remove[0], 1);
	capture_begin(&c);
	r = apply(f, &nid, why);
	f->log = capture_end(&c);
	assert_int_equal(r, 0);
	assert_log_has(f->log, "released from group 0");
	assert_int_equal(nid, 0);
	assert_fake_has(0, 1, 2);
	assert_region(0, 100, 8, "DMS_GROUP=a:0,2#-");
	assert_region(1, 200, 8, "DMS_GROUP=x:1#-"); /* untouched */
	assert_region(2, 300, 8, "");
	assert_calls(FAKE_REMOVE, 0);
	assert_calls(FAKE_SET_AUX, 2); /* the switch, the new one's mark */
	read_group(f, 0, &f->v2);
	assert_members_cover(&f->v2, &f->e);
	assert_int_equal(f->v2.ncontested, 0);
	group_view_free(&f->v2);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

/* Group z (0,2) and group a (2-3) both claim region 2, a's leader. A plan
 * that drops 2 from a releases it and clears a's descriptor there. */
static void test_apply_dropping_contested_leader_clears_tag(void **state)
{
	struct fx *f = *state;
	uint64_t nid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 300, 8 });
	make_group(IDS(0), IDS(100), 1, "DMS_GROUP=z:0,2#-");
	make_group(IDS(2, 3), IDS(200, 300), 2, "DMS_GROUP=a:2-3#-");
	plan_for(f, 2, &f->e, &f->v, &f->p);
	assert_true(group_contested(&f->v, 2));
	assert_int_equal(apply(f, &nid, why), 0);
	assert_int_equal(nid, 3);
	assert_fake_has(0, 2, 3);
	assert_region(3, 300, 8, "DMS_GROUP=a:3#" MARK);
	assert_region(2, 200, 8, "");
	assert_region(0, 100, 8, "DMS_GROUP=z:0,2#-");
	assert_calls(FAKE_REMOVE, 0);
	assert_calls(FAKE_SET_AUX, 2);
	sweep(f);
	assert_region(3, 300, 8, "DMS_GROUP=a:3#-");
	read_group(f, 0, &f->v2);
	assert_int_equal(f->v2.n, 2);
	assert_int_equal(f->v2.ncontested, 0);
	group_view_free(&f->v2);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

/* Group a (0-1) loses its leader 0; the next member, 1, holds group x's
 * descriptor (x claims 1 too). Making 1 a's leader must not destroy x:
 * x's descriptor is the only thing that makes x a group. (group_apply
 * once wrote a's descriptor over x's there.) a gets a region of its own
 * for that range instead, and region 1 is released to x. */
static void test_apply_new_leader_contested_keeps_other_group(void **state)
{
	struct fx *f = *state;
	uint64_t nid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 200, 8 });
	make_forged();
	plan_for(f, 0, &f->e, &f->v, &f->p);
	assert_int_equal(f->p.nkeep, 1);
	assert_int_equal(f->p.keep[0], 1);
	assert_int_equal(apply(f, &nid, why), 0);
	/* group x is still there, whole */
	assert_region(1, 200, 8, "DMS_GROUP=x:1#-");
	read_group(f, 1, &f->v2);
	assert_string_equal(f->v2.desc.alias, "x");
	group_view_free(&f->v2);
	/* and a is its own region over the same range: 0 went, 2 was made */
	assert_int_equal(nid, 2);
	assert_region(2, 200, 8, "DMS_GROUP=a:2#" MARK);
	assert_fake_has(1, 2);
	sweep(f);
	assert_region(2, 200, 8, "DMS_GROUP=a:2#-");
	assert_region(1, 200, 8, "DMS_GROUP=x:1#-");
	read_group(f, 2, &f->v2);
	assert_int_equal(f->v2.n, 1);
	assert_int_equal(f->v2.ncontested, 0);
	group_view_free(&f->v2);
	group_view_free(&f->v);
	plan_free(&f->p);
	extent_list_free(&f->e);
}

/* ------------------------------------------------------------------ */
/* group_delete                                                       */

static void test_delete_removes_every_member(void **state)
{
	struct fx *f = *state;
	char why[WHYLEN] = "";

	make_group(IDS(0, 1, 3), IDS(100, 200, 300), 3, "DMS_GROUP=g:0-1,3#-");
	assert_int_equal(fake_add_region(DEV, 2, 900, 8, "theirs"), 2);
	read_group(f, 0, &f->v);
	fake_clear_calls();
	assert_int_equal(group_delete(&f->rs, &f->v, MARK, why, WHYLEN), 0);
	assert_fake_has(2);
	assert_calls(FAKE_SET_AUX, 2); /* 1 and 3 marked first */
	assert_calls(FAKE_REMOVE, 3);
	assert_list_matches_fake(&f->rs);
	group_view_free(&f->v);
}

static void test_delete_leaves_contested_regions(void **state)
{
	struct fx *f = *state;
	char why[WHYLEN] = "";

	make_group(IDS(0, 1, 2), IDS(100, 200, 300), 3, "DMS_GROUP=a:0-2#-");
	assert_int_equal(fake_set_region_aux(DEV, 1, "DMS_GROUP=x:1#-"), 0);
	read_group(f, 0, &f->v);
	assert_true(group_contested(&f->v, 1));
	fake_clear_calls();
	assert_int_equal(group_delete(&f->rs, &f->v, MARK, why, WHYLEN), 0);
	assert_fake_has(1);
	assert_region(1, 200, 8, "DMS_GROUP=x:1#-");
	assert_calls(FAKE_REMOVE, 2);
	group_view_free(&f->v);
}

/* Group a's leader 2 is contested (z claims it): group_delete keeps the
 * region, but a must be gone afterwards: its descriptor there (which
 * group_delete once left) would name 3, the id the kernel gives the next
 * region anyone creates. */
static void test_delete_contested_leader_leaves_no_group_behind(void **state)
{
	struct fx *f = *state;
	char why[WHYLEN] = "";

	make_group(IDS(0), IDS(100), 1, "DMS_GROUP=z:0,2#-");
	make_group(IDS(2, 3), IDS(200, 300), 2, "DMS_GROUP=a:2-3#-");
	read_group(f, 2, &f->v);
	assert_true(group_contested(&f->v, 2));
	fake_clear_calls();
	assert_int_equal(group_delete(&f->rs, &f->v, MARK, why, WHYLEN), 0);
	group_view_free(&f->v);
	assert_fake_has(0, 2);
	assert_calls(FAKE_REMOVE, 1);
	refresh(f);
	expect_no_group(f, 2);
}

/* The leader's delete refused: nothing is gone, the group is whole; the
 * members' marks are cleared by the next sweep. */
static void test_delete_leader_refused_keeps_group(void **state)
{
	struct fx *f = *state;
	char why[WHYLEN] = "";

	make_group(IDS(0, 1, 2), IDS(100, 200, 300), 3, "DMS_GROUP=g:0-2#-");
	read_group(f, 0, &f->v);
	fake_clear_calls();
	fake_fail_nth(FAKE_REMOVE, 1, EIO);
	assert_int_equal(group_delete(&f->rs, &f->v, MARK, why, WHYLEN), -EIO);
	assert_why_has(why, "region 0");
	assert_why_has(why, strerror(EIO));
	assert_calls(FAKE_REMOVE, 1);
	assert_fake_has(0, 1, 2);
	assert_region(1, 200, 8, MARK);
	assert_true(f->rs.marked);
	assert_list_matches_fake(&f->rs);
	group_view_free(&f->v);
	sweep(f);
	assert_region(1, 200, 8, "");
	assert_region(2, 300, 8, "");
	read_group(f, 0, &f->v);
	assert_int_equal(f->v.missing, 0);
	group_view_free(&f->v);
}

/* A member's delete refused once the leader is gone: the group is gone,
 * and the member, marked ours, is deleted by the next sweep. */
static void test_delete_member_refused_swept_later(void **state)
{
	struct fx *f = *state;
	char why[WHYLEN] = "";

	make_group(IDS(0, 1, 2), IDS(100, 200, 300), 3, "DMS_GROUP=g:0-2#-");
	read_group(f, 0, &f->v);
	fake_clear_calls();
	fake_fail_nth(FAKE_REMOVE, 2, EBUSY);
	assert_int_equal(group_delete(&f->rs, &f->v, MARK, why, WHYLEN), 0);
	assert_calls(FAKE_REMOVE, 3);
	assert_fake_has(1); /* the kernel refused that one */
	assert_region(1, 200, 8, MARK);
	assert_true(f->rs.marked);
	group_view_free(&f->v);
	refresh(f);
	sweep(f);
	assert_fake_empty();
}

/* ------------------------------------------------------------------ */
/* two devices                                                        */

static void test_groups_on_two_devices_are_independent(void **state)
{
	struct fx *f = *state;
	uint64_t gid = 99;
	char why[WHYLEN] = "";

	f->e = EXTENTS({ 100, 8 }, { 200, 8 });
	assert_int_equal(fake_add_region(DEV, 0, 5000, 8, "theirs"), 0);
	regions_init(&f->rs2, &f->be, &f->c2, DEV2, DEV2NAME);
	assert_int_equal(regions_refresh(&f->rs2), 0);
	refresh(f);
	assert_int_equal(group_create(&f->rs2, &f->e, "two", false, NULL, MARK, &gid,
				      why, sizeof(why)),
			 0);
	assert_int_equal(gid, 0);
	assert_region_on(DEV2, 0, 100, 8, "DMS_GROUP=two:0-1#-");
	assert_region_on(DEV2, 1, 200, 8, "");
	assert_int_equal(fake_count(DEV2), 2);
	assert_fake_has(0);
	assert_region(0, 5000, 8, "theirs");
	assert_int_equal(f->c2.stats_create, 2);
	assert_int_equal(f->count.stats_create, 0);
	assert_int_equal(regions_refresh(&f->rs), 1); /* DEV unchanged */
	expect_no_group(f, 0);
	assert_int_equal(regions_refresh(&f->rs2), 1); /* as DEV2 was left */
	assert_int_equal(group_read(&f->rs2, 0, &f->v), 1);
	assert_members_cover(&f->v, &f->e);
	group_view_free(&f->v);
	regions_free(&f->rs2);
	extent_list_free(&f->e);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fake_list_rows_like_the_kernel),
		T(test_fake_ops_follow_dm_stats),
		T(test_fake_faults_nth_and_always),
		T(test_refresh_gives_1_if_unchanged_0_after_a_change),
		T(test_refresh_failing_list_makes_list_invalid),
		T(test_read_group_and_its_settings),
		T(test_read_counts_missing_members),
		T(test_read_descriptor_not_in_lowest_member_is_no_group),
		T(test_read_malformed_descriptor_is_no_group),
		T(test_read_without_a_valid_list_is_no_group),
		T(test_create_several_marked_until_described),
		T(test_create_predicts_ids_around_other_regions),
		T(test_create_quoted_alias_precise_histogram),
		T(test_create_without_list_writes_descriptor),
		T(test_create_stale_list_rewrites_descriptor),
		T(test_create_stale_list_descriptor_in_lowest),
		T(test_create_refused_create_rolls_back),
		T(test_create_refused_first_create_leaves_others),
		T(test_create_failed_descriptor_write_rolls_back),
		T(test_create_stale_list_failed_write_rolls_back),
		T(test_apply_keeps_creates_removes),
		T(test_apply_other_program_creating_meanwhile),
		T(test_apply_failed_descriptor_write_rolls_back),
		T(test_apply_refused_create_rolls_back),
		T(test_apply_leader_removed_moves_descriptor),
		T(test_apply_all_replaced_moves_descriptor_to_new_region),
		T(test_apply_old_leader_kept_is_cleared_to_prefix),
		T(test_apply_failed_clear_of_old_leader_is_logged),
		T(test_apply_failed_delete_is_logged_not_fatal),
		T(test_read_forged_overlap_is_contested),
		T(test_apply_dropping_contested_region_only_releases_it),
		T(test_apply_dropping_contested_leader_clears_tag),
		T(test_apply_new_leader_contested_keeps_other_group),
		T(test_delete_removes_every_member),
		T(test_delete_leaves_contested_regions),
		T(test_delete_contested_leader_leaves_no_group_behind),
		T(test_delete_leader_refused_keeps_group),
		T(test_delete_member_refused_swept_later),
		T(test_groups_on_two_devices_are_independent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
