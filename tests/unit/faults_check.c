/* faults_check.c: the checks of one run of an update in test_faults.c's
 * sweep (see faults.h). They read the fake's regions as dmstats reads
 * them (a group is a valid descriptor in its lowest member), the monitor
 * as List shows it, and the events as Watch is fed them; they depend on
 * no number or order of calls. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/auxdata.h"
#include "faults.h"
#include "service/tally.h"

#define MAXGROUPS 4

const char *const bad_names[BAD_KINDS] = {
	"orphan", "claim", "half", "foreign", "silent", "retry", "counts",
	"left"
};

static void bad(struct verdict *v, unsigned kind, bool final,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void bad(struct verdict *v, unsigned kind, bool final,
		const char *fmt, ...)
{
	size_t room = sizeof(v->why) - v->len;
	int i = 0, w;
	va_list ap;

	while (!(kind >> i & 1))
		i++;
	v->bad |= kind;
	w = snprintf(v->why + v->len, room, "    %s: %s: ",
		     final ? "retried" : "after the update", bad_names[i]);
	if (w < 0 || (size_t)w >= room)
		return;
	v->len += (size_t)w;
	room -= (size_t)w;
	va_start(ap, fmt);
	w = vsnprintf(v->why + v->len, room, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w + 1 >= room)
		return;
	v->len += (size_t)w;
	v->why[v->len++] = '\n';
	v->why[v->len] = '\0';
}

/* ------------------------------------------------------------------ */
/* what the fake holds                                                */

void snap_take(struct snap *s, dev_t dev)
{
	s->n = fake_count(dev);
	assert_true(s->n <= MAXREGIONS);
	for (size_t i = 0; i < s->n; i++) {
		const struct fake_region *x = fake_region_at(dev, i);
		s->r[i] = (struct region_copy){ x->id, x->start, x->len,
						strdup(x->aux_data) };
		assert_non_null(s->r[i].aux);
	}
}

void snap_free(struct snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->r[i].aux);
	s->n = 0;
}

static const struct region_copy *snap_find(const struct snap *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->r[i].id == id)
			return &s->r[i];
	return NULL;
}

/* ID is in S over the same range as in T. */
static bool same_range(const struct snap *s, const struct region_copy *t)
{
	const struct region_copy *x = snap_find(s, t->id);

	return x && x->start == t->start && x->len == t->len;
}

struct grp {
	uint64_t leader;
	char alias[32];
	size_t n, missing;
	uint64_t id[MAXREGIONS]; /* the members there, by id */
	struct extent e[MAXREGIONS];
	uint64_t missing_id; /* the first member not there */
};

static void grp_fill(const struct snap *s, const struct aux_group *g,
		     struct grp *x)
{
	for (size_t j = 0; j < g->n && x->n < MAXREGIONS; j++) {
		const struct region_copy *m = snap_find(s, g->members[j]);
		if (!m) {
			if (!x->missing++)
				x->missing_id = g->members[j];
			continue;
		}
		x->id[x->n] = m->id;
		x->e[x->n++] = (struct extent){ m->start, m->len };
	}
}

static size_t groups_of(const struct snap *s, struct grp *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n && n < max; i++) {
		struct aux_group g;
		if (aux_group_parse(s->r[i].aux, &g) <= 0)
			continue;
		if (g.members[0] == s->r[i].id) {
			struct grp *x = &out[n++];
			memset(x, 0, sizeof(*x));
			x->leader = s->r[i].id;
			snprintf(x->alias, sizeof(x->alias), "%s", g.alias);
			grp_fill(s, &g, x);
		}
		aux_group_free(&g);
	}
	return n;
}

static bool grp_has(const struct grp *g, uint64_t id)
{
	for (size_t i = 0; g && i < g->n; i++)
		if (g->id[i] == id)
			return true;
	return false;
}

/* The file's groups (named ALIAS) among the N of ALL, into OUT. */
static size_t ours(const struct grp *all, size_t n, const struct grp **out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i].alias, ALIAS))
			out[k++] = &all[i];
	return k;
}

static int by_start(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* G is whole and its members cover exactly the extents E (N, by start). */
static bool grp_is(const struct grp *g, const struct extent *e, size_t n)
{
	struct extent have[MAXREGIONS];

	if (g->missing || g->n != n)
		return false;
	memcpy(have, g->e, n * sizeof(*have));
	qsort(have, n, sizeof(*have), by_start);
	return !memcmp(have, e, n * sizeof(*e));
}

static bool grp_same(const struct grp *a, const struct grp *b)
{
	return a->leader == b->leader && a->n == b->n && !a->missing &&
	       !b->missing && !memcmp(a->id, b->id, a->n * sizeof(*a->id)) &&
	       !memcmp(a->e, b->e, a->n * sizeof(*a->e));
}

/* ------------------------------------------------------------------ */
/* the checks                                                         */

/* Every region is a member of a whole group, or was there before, or
 * (only after the fault) in flight; no group names a region not there. */
static void check_regions(struct verdict *v, const struct snap *before,
			  const struct snap *now, bool final)
{
	struct grp g[MAXGROUPS];
	size_t ng = groups_of(now, g, MAXGROUPS);

	for (size_t i = 0; i < now->n; i++) {
		const struct region_copy *x = &now->r[i];
		bool member = false;
		if (!strncmp(x->aux, MARK_NEW, strlen(MARK_NEW))) {
			if (final)
				bad(v, BAD_ORPHAN, final, "region %" PRIu64
				    " is left in flight: \"%s\"", x->id,
				    x->aux);
			continue;
		}
		for (size_t j = 0; j < ng && !member; j++)
			member = !g[j].missing && grp_has(&g[j], x->id);
		if (!member && !same_range(before, x))
			bad(v, BAD_ORPHAN, final, "region %" PRIu64 " (%" PRIu64
			    "+%" PRIu64 ", \"%s\") is new and in no whole "
			    "group", x->id, x->start, x->len, x->aux);
	}
	for (size_t j = 0; j < ng; j++)
		if (g[j].missing)
			bad(v, BAD_CLAIM, final, "group %" PRIu64 " (%s) names "
			    "region %" PRIu64 ", which is not there",
			    g[j].leader, g[j].alias, g[j].missing_id);
}

/* Retried, every region of the old group OLD still there is in a group
 * (the new one, or another's that claims it too). */
static void check_left(struct verdict *v, const struct grp *old,
		       const struct snap *now)
{
	struct grp g[MAXGROUPS];
	size_t ng = groups_of(now, g, MAXGROUPS);

	for (size_t i = 0; old && i < old->n; i++) {
		struct region_copy t = { old->id[i], old->e[i].start,
					 old->e[i].len, NULL };
		bool member = false;
		for (size_t j = 0; j < ng && !member; j++)
			member = grp_has(&g[j], t.id);
		if (same_range(now, &t) && !member)
			bad(v, BAD_LEFT, true, "region %" PRIu64 " (%" PRIu64
			    "+%" PRIu64 ") of the group is left in no group",
			    t.id, t.start, t.len);
	}
}

/* Other programs' regions (before, not in the file's group OLD) are as
 * they were. */
static void check_foreign(struct verdict *v, const struct snap *before,
			  const struct grp *old, const struct snap *now,
			  bool final)
{
	for (size_t i = 0; i < before->n; i++) {
		const struct region_copy *b = &before->r[i];
		const struct region_copy *x = snap_find(now, b->id);
		if (grp_has(old, b->id))
			continue;
		if (!x || x->start != b->start || x->len != b->len ||
		    strcmp(x->aux, b->aux))
			bad(v, BAD_FOREIGN, final, "another program's region %"
			    PRIu64 " (\"%s\") is %s%s%s", b->id, b->aux,
			    x ? "now \"" : "gone", x ? x->aux : "",
			    x ? "\"" : "");
	}
}

/* The monitor, retried, is active with no error and the group G. */
static void check_monitor(struct verdict *v, const struct run *r,
			  const struct grp *g)
{
	struct monitor *m = run_monitor(r);

	if (!m) {
		bad(v, BAD_RETRY, true, "the file has no monitor");
		return;
	}
	if (m->state != MS_ACTIVE || m->last_error ||
	    m->group_id != g->leader || m->regions != r->nwant)
		bad(v, BAD_RETRY, true, "List shows %s, group %" PRIu64
		    ", %zu regions, last_error %s (want active, group %" PRIu64
		    ", %zu regions, none)", monitor_state_name(m->state),
		    m->group_id, m->regions,
		    m->last_error ? m->last_error : "none", g->leader,
		    r->nwant);
}

/* Some region of OLD is still there, over its range (but for one in
 * flight, marked ours for the next sweep, unless FINAL). */
static bool any_left(const struct grp *old, const struct snap *now,
		     bool final)
{
	for (size_t i = 0; old && i < old->n; i++) {
		struct region_copy t = { old->id[i], old->e[i].start,
					 old->e[i].len, NULL };
		const struct region_copy *x = snap_find(now, t.id);
		if (!same_range(now, &t))
			continue;
		if (final || !x ||
		    strncmp(x->aux, MARK_NEW, strlen(MARK_NEW)))
			return true;
	}
	return false;
}

/* The file's group: the old one OLD (NULL: none) or the new one (R's
 * extents; U->gone: none, no region of the old left), whole; retried,
 * the new one. */
static void check_group(struct verdict *v, const struct run *r,
			const struct update *u, const struct grp *old,
			const struct snap *now, bool final)
{
	struct grp all[MAXGROUPS];
	const struct grp *g[MAXGROUPS];
	size_t n = ours(all, groups_of(now, all, MAXGROUPS), g);
	bool is_old = n == 1 && old && grp_same(g[0], old);
	bool is_new = u->gone ? n == 0 && !any_left(old, now, final)
			      : n == 1 && grp_is(g[0], r->want, r->nwant);

	if (n > 1)
		bad(v, BAD_HALF, final, "%zu groups are named " ALIAS
		    ", led by %" PRIu64 " and %" PRIu64, n, g[0]->leader,
		    g[1]->leader);
	else if (final && !is_new)
		bad(v, BAD_RETRY, final, "the file's group is %s",
		    u->gone ? (n ? "still there" : "partly left")
			    : n ? "not its extents" : "gone");
	else if (!final && !is_old && !is_new && (old || n))
		bad(v, BAD_HALF, final, "the file's group is %s",
		    n ? "neither the old one nor the new one, whole"
		      : old ? "partly gone" : "gone");
	if (final && !u->gone && n == 1)
		check_monitor(v, r, g[0]);
	else if (final && !u->gone && !run_monitor(r))
		bad(v, BAD_RETRY, final, "the file has no monitor");
}

/* Retried, the monitor's totals are every I/O done to its regions. */
static void check_counts(struct verdict *v, const struct run *r)
{
	struct monitor *m = run_monitor(r);
	struct io_counters t;
	uint64_t bounds[4];
	size_t nb;
	char why[256];
	int k;

	if (!m)
		return; /* said */
	if (tally_read(m, &t, bounds, 4, &nb, why, sizeof(why)) < 0) {
		bad(v, BAD_COUNTS, true, "%s", why);
		return;
	}
	for (k = 0; k < IO_NFIELDS; k++)
		if (k != IO_IN_FLIGHT && t.v[k] != r->counts.v[k])
			break;
	if (k < IO_NFIELDS)
		bad(v, BAD_COUNTS, true, "counter %d is %" PRIu64 ", the I/O "
		    "done %" PRIu64 " (reads %" PRIu64 "/%" PRIu64 ", writes %"
		    PRIu64 "/%" PRIu64 ")", k, t.v[k], r->counts.v[k],
		    t.v[IO_READS], r->counts.v[IO_READS], t.v[IO_WRITES],
		    r->counts.v[IO_WRITES]);
	counters_free(&t);
}

void check_run(struct verdict *v, const struct run *r, const struct update *u,
	       const struct snap *before, bool final)
{
	struct grp was[MAXGROUPS];
	const struct grp *old[MAXGROUPS];
	struct snap now;
	size_t nold = ours(was, groups_of(before, was, MAXGROUPS), old);

	assert_true(nold <= 1);
	snap_take(&now, r->f->dev);
	check_regions(v, before, &now, final);
	check_foreign(v, before, nold ? old[0] : NULL, &now, final);
	check_group(v, r, u, nold ? old[0] : NULL, &now, final);
	if (final && !u->gone) {
		check_left(v, nold ? old[0] : NULL, &now);
		check_counts(v, r);
	}
	snap_free(&now);
}

void check_reported(struct verdict *v, const struct run *r,
		    const struct update *u, int err, enum fake_op op,
		    size_t nev0)
{
	const char *want = strerror(err);
	struct monitor *m;
	bool event = false;

	if (!err)
		return;
	/* DM_DEVICE_INFO's failure is said in the backend's words: the
	 * real one (libdevmapper) has no errno to give */
	if (u->request && r->refused && op == FAKE_IDENTIFY) {
		if (!r->f->err.name ||
		    !strstr(r->f->err.message, "info failed"))
			bad(v, BAD_SILENT, false, "the reply says \"%s\"",
			    r->f->err.message);
		return;
	}
	if (u->request && r->refused) {
		if (!r->f->err.name || !strstr(r->f->err.message, want))
			bad(v, BAD_SILENT, false, "the reply says \"%s\"",
			    r->f->err.message);
		return;
	}
	if (!(m = run_monitor(r))) {
		/* a monitor removed says it in its last event */
		for (size_t i = nev0; i < r->f->nev && !event; i++)
			event = !strcmp(r->f->ev[i].event, "ended") &&
				strstr(r->f->ev[i].message, want);
		if (!event || !u->gone)
			bad(v, BAD_SILENT, false, "%s, and no monitor shows it",
			    u->request ? "the request succeeded"
				       : "the monitor ended");
		return;
	}
	if (!m->last_error || !strstr(m->last_error, want))
		bad(v, BAD_SILENT, false, "List shows last_error %s%s%s",
		    m->last_error ? "\"" : "none",
		    m->last_error ? m->last_error : "",
		    m->last_error ? "\"" : "");
	for (size_t i = nev0; i < r->f->nev && !event; i++)
		event = r->f->ev[i].monitor == m->id &&
			!strcmp(r->f->ev[i].event, "error") &&
			strstr(r->f->ev[i].message, want);
	if (!event)
		bad(v, BAD_SILENT, false, "Watch was sent no \"error\" event "
		    "saying %s", want);
}

void describe(struct verdict *v, const struct run *r, size_t nev0)
{
	char *text = fake_list_text(r->f->dev);
	int w;

	for (size_t i = nev0; i < r->f->nev; i++) {
		w = snprintf(v->why + v->len, sizeof(v->why) - v->len,
			     "    event: monitor %" PRIu64 " %s %s: %s\n",
			     r->f->ev[i].monitor, r->f->ev[i].event,
			     r->f->ev[i].reason, r->f->ev[i].message);
		if (w > 0 && (size_t)w < sizeof(v->why) - v->len)
			v->len += (size_t)w;
	}
	w = snprintf(v->why + v->len, sizeof(v->why) - v->len,
		     "    regions now:\n%s", text ? text : "?\n");
	if (w > 0 && (size_t)w < sizeof(v->why) - v->len)
		v->len += (size_t)w;
	free(text);
}
