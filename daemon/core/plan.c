/* plan.c: extent lists (sorted, adjacent ranges merged) and the plan of
 * region creates, deletes and keeps that makes a group cover exactly them. */
#include "core/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int extent_list_add(struct extent_list *l, uint64_t start, uint64_t len)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct extent *v = realloc(l->v, ncap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = ncap;
	}
	l->v[l->n].start = start;
	l->v[l->n].len = len;
	l->n++;
	return 0;
}

static int cmp_extent(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->len < y->len ? -1 : x->len > y->len;
}

void extent_list_finish(struct extent_list *l)
{
	size_t o = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_extent);
	for (size_t i = 1; i < l->n; i++) {
		struct extent *last = &l->v[o];
		uint64_t end = last->start + last->len;
		if (l->v[i].start <= end) { /* adjacent (or overlapping) */
			uint64_t e2 = l->v[i].start + l->v[i].len;
			if (e2 > end)
				last->len = e2 - last->start;
		} else {
			l->v[++o] = l->v[i];
		}
	}
	l->n = o + 1;
}

void extent_list_free(struct extent_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* By start, the longest first: of members starting together, the one
 * that covers most is kept. */
static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void add_create(struct plan *p, uint64_t start, uint64_t end)
{
	p->create[p->ncreate].start = start;
	p->create[p->ncreate++].len = end - start;
}

/* Plan extent W from the members M[*I...] that start inside it: each that
 * lies wholly inside and after the last one kept is kept; the gaps get
 * new regions. Beyond PLAN_PIECES_MAX pieces, W is made one region. */
static void plan_extent(const struct member *m, size_t n, size_t *i,
			const struct extent *w, struct plan *p)
{
	uint64_t end = w->start + w->len, at = w->start;
	size_t keep0 = p->nkeep, create0 = p->ncreate;

	for (; *i < n && m[*i].start < end; (*i)++) {
		const struct member *x = &m[*i];
		if (x->start >= at && x->start + x->len <= end) {
			if (x->start > at)
				add_create(p, at, x->start);
			p->keep[p->nkeep++] = x->id;
			at = x->start + x->len;
		} else {
			p->remove[p->nremove++] = x->id;
		}
	}
	if (at < end)
		add_create(p, at, end);
	if (p->nkeep - keep0 + p->ncreate - create0 <= PLAN_PIECES_MAX)
		return;
	/* too many pieces: the extent's kept members go too */
	p->ncreate = create0;
	for (size_t k = keep0; k < p->nkeep; k++)
		p->remove[p->nremove + (k - keep0)] =
			p->keep[k];
	p->nremove += p->nkeep - keep0;
	p->nkeep = keep0;
	add_create(p, w->start, end);
}

int plan_make(const struct member *members, size_t nmembers,
	      const struct extent_list *want, struct plan *out)
{
	struct member *m = NULL;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (nmembers && !(m = malloc(nmembers * sizeof(*m))))
		return -ENOMEM;
	if (nmembers) {
		memcpy(m, members, nmembers * sizeof(*m));
		qsort(m, nmembers, sizeof(*m), cmp_member);
	}
	out->create = malloc((want->n * PLAN_PIECES_MAX + 1) *
			     sizeof(*out->create));
	out->remove = malloc((nmembers + 1) * sizeof(*out->remove));
	out->keep = malloc((nmembers + 1) * sizeof(*out->keep));
	if (!out->create || !out->remove || !out->keep) {
		free(m);
		plan_free(out);
		return -ENOMEM;
	}
	/* both sorted by start: one merge pass */
	for (size_t j = 0; j < want->n; j++) {
		/* members that start before the extent are not inside it */
		while (i < nmembers && m[i].start < want->v[j].start)
			out->remove[out->nremove++] = m[i++].id;
		plan_extent(m, nmembers, &i, &want->v[j], out);
	}
	while (i < nmembers)
		out->remove[out->nremove++] = m[i++].id;
	free(m);
	return 0;
}

void plan_free(struct plan *p)
{
	free(p->create);
	free(p->remove);
	free(p->keep);
	memset(p, 0, sizeof(*p));
}
