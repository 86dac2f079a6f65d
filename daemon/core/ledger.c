/* ledger.c: a file's I/O totals that no region change loses: the counts of
 * regions that left its group, and of its live regions as last read. */
#include "core/ledger.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

void ledger_init(struct ledger *l)
{
	memset(l, 0, sizeof(*l));
}

static void list_free(struct ledger_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		counters_free(&l->v[i].c);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void ledger_free(struct ledger *l)
{
	counters_free(&l->retired);
	list_free(&l->seen);
	list_free(&l->pending);
}

/* The index of region ID in L, or -1. */
static ssize_t find(const struct ledger_list *l, uint64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return (ssize_t)i;
	return -1;
}

/* Take entry I out of L into *OUT (its counters are the caller's now). */
static void take(struct ledger_list *l, size_t i, struct ledger_region *out)
{
	*out = l->v[i];
	l->v[i] = l->v[--l->n];
}

int ledger_list_add(struct ledger_list *l, const struct ledger_region *r)
{
	struct ledger_region *e;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 4;
		struct ledger_region *v = realloc(l->v, ncap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = ncap;
	}
	e = &l->v[l->n];
	*e = (struct ledger_region){ r->id, r->start, r->len, { { 0 }, 0, NULL } };
	if (counters_copy(&e->c, &r->c) < 0)
		return -ENOMEM;
	l->n++;
	return 0;
}

int ledger_observe(struct ledger *l, uint64_t id, uint64_t start,
		   uint64_t len, const struct io_counters *now)
{
	ssize_t i = find(&l->seen, id);
	struct ledger_region *r;
	bool back;

	if (i < 0) {
		struct ledger_region n = { id, start, len, *now };
		return ledger_list_add(&l->seen, &n);
	}
	r = &l->seen.v[i];
	/* the same id over another range is another region */
	back = r->start != start || r->len != len ||
	       counters_went_back(now, &r->c);
	if (back) {
		if (counters_add(&l->retired, &r->c) < 0)
			return -ENOMEM;
		l->resets++;
	}
	r->start = start;
	r->len = len;
	if (counters_copy(&r->c, now) < 0)
		return -ENOMEM;
	return back;
}

int ledger_carry(struct ledger *l, uint64_t id, uint64_t start, uint64_t len,
		 const struct io_counters *final)
{
	struct ledger_region gone = { id, start, len, { { 0 }, 0, NULL } };
	ssize_t i = find(&l->seen, id);
	int e = 0;

	if (i >= 0)
		take(&l->seen, (size_t)i, &gone);
	if (final && i >= 0 && counters_went_back(final, &gone.c)) {
		/* cleared since the last read: those counts stay too */
		e = counters_add(&l->retired, &gone.c);
		l->resets++;
	}
	if (final && e == 0) {
		gone.start = start;
		gone.len = len;
		e = counters_copy(&gone.c, final);
	}
	if (e == 0)
		e = ledger_list_add(&l->pending, &gone);
	counters_free(&gone.c);
	if (e < 0)
		return e;
	l->carried++;
	return 0;
}

/* Pending entry I: its counts retired for good (DONE), or live again. */
int ledger_settle_one(struct ledger *l, size_t i, bool done)
{
	struct ledger_region r;
	int e;

	take(&l->pending, i, &r);
	if (done) {
		e = counters_add(&l->retired, &r.c);
	} else {
		e = ledger_list_add(&l->seen, &r);
		l->carried--;
	}
	counters_free(&r.c);
	return e;
}

void ledger_settle(struct ledger *l, bool done)
{
	while (l->pending.n)
		(void)ledger_settle_one(l, l->pending.n - 1, done); /* best effort */
}

int ledger_retire(struct ledger *l, const struct io_counters *c,
		  uint64_t regions)
{
	int e = counters_add(&l->retired, c);

	if (e == 0)
		l->carried += regions;
	return e;
}

static bool member(const uint64_t *ids, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

void ledger_resolve(struct ledger *l, const uint64_t *members, size_t n)
{
	while (l->pending.n) {
		size_t i = l->pending.n - 1;
		(void)ledger_settle_one(l, i, !member(members, n, l->pending.v[i].id));
	}
}

size_t ledger_prune(struct ledger *l, const uint64_t *members, size_t n)
{
	size_t gone = 0;

	for (size_t i = 0; i < l->seen.n;) {
		struct ledger_region r;
		if (member(members, n, l->seen.v[i].id)) {
			i++;
			continue;
		}
		take(&l->seen, i, &r);
		(void)counters_add(&l->retired, &r.c); /* best effort */
		counters_free(&r.c);
		l->carried++;
		gone++;
	}
	return gone;
}

int ledger_total(const struct ledger *l, struct io_counters *out)
{
	uint64_t in_flight = 0;
	int e;

	memset(out, 0, sizeof(*out));
	if ((e = counters_copy(out, &l->retired)) < 0)
		return e;
	for (size_t i = 0; i < l->pending.n && e == 0; i++)
		e = counters_add(out, &l->pending.v[i].c);
	for (size_t i = 0; i < l->seen.n && e == 0; i++) {
		e = counters_add(out, &l->seen.v[i].c);
		in_flight += l->seen.v[i].c.v[IO_IN_FLIGHT];
	}
	out->v[IO_IN_FLIGHT] = in_flight;
	if (e < 0)
		counters_free(out);
	return e;
}
