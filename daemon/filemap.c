/* filemap.c: read a file's allocated extents with FIEMAP, and plan the
 * region creates and deletes that make a group cover exactly them. */
#include "filemap.h"

#include <errno.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define SECTOR_SHIFT 9
#define FIEMAP_BATCH 256
/* A file with more extents than this is refused (the group would need
 * that many regions, each walked by dm-stats for every bio). */
#define EXTENTS_MAX 1000000

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

static bool extent_usable(const struct fiemap_extent *e)
{
	/* no physical location: nothing to count I/O against */
	if (e->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
			   FIEMAP_EXTENT_DATA_INLINE |
			   FIEMAP_EXTENT_NOT_ALIGNED))
		return false;
	return e->fe_length >> SECTOR_SHIFT > 0;
}

int filemap_read(int fd, struct extent_list *out)
{
	size_t sz = sizeof(struct fiemap) +
		    FIEMAP_BATCH * sizeof(struct fiemap_extent);
	struct fiemap *fm = malloc(sz);
	uint64_t next = 0;
	bool last = false;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!fm)
		return -ENOMEM;
	while (!last) {
		memset(fm, 0, sz);
		fm->fm_start = next;
		fm->fm_length = FIEMAP_MAX_OFFSET - next;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = FIEMAP_BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			r = -errno;
			goto out;
		}
		if (fm->fm_mapped_extents == 0)
			break;
		for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
			const struct fiemap_extent *e = &fm->fm_extents[i];
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
			next = e->fe_logical + e->fe_length;
			if (!extent_usable(e))
				continue;
			if (out->n >= EXTENTS_MAX) {
				r = -E2BIG;
				goto out;
			}
			r = extent_list_add(out, e->fe_physical >> SECTOR_SHIFT,
					    e->fe_length >> SECTOR_SHIFT);
			if (r)
				goto out;
		}
		if (next == 0) /* defensive: never loop on a bogus reply */
			break;
	}
	extent_list_finish(out);
out:
	free(fm);
	if (r)
		extent_list_free(out);
	return r;
}

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int filemap_plan(const struct member *members, size_t nmembers,
		 const struct extent_list *want, struct plan *out)
{
	struct member *m = NULL;
	size_t i = 0, j = 0;

	memset(out, 0, sizeof(*out));
	if (nmembers && !(m = malloc(nmembers * sizeof(*m))))
		return -ENOMEM;
	if (nmembers) {
		memcpy(m, members, nmembers * sizeof(*m));
		qsort(m, nmembers, sizeof(*m), cmp_member);
	}
	out->create = malloc((want->n + 1) * sizeof(*out->create));
	out->remove = malloc((nmembers + 1) * sizeof(*out->remove));
	out->keep = malloc((nmembers + 1) * sizeof(*out->keep));
	if (!out->create || !out->remove || !out->keep) {
		free(m);
		plan_free(out);
		return -ENOMEM;
	}
	/* both sorted by (start, len): one merge pass */
	while (i < nmembers || j < want->n) {
		if (j >= want->n) {
			out->remove[out->nremove++] = m[i++].id;
			continue;
		}
		if (i >= nmembers) {
			out->create[out->ncreate++] = want->v[j++];
			continue;
		}
		const struct extent *w = &want->v[j];
		if (m[i].start == w->start && m[i].len == w->len) {
			out->keep[out->nkeep++] = m[i++].id;
			j++;
			/* further members with this range are duplicates */
			while (i < nmembers && m[i].start == w->start &&
			       m[i].len == w->len)
				out->remove[out->nremove++] = m[i++].id;
		} else if (m[i].start < w->start ||
			   (m[i].start == w->start && m[i].len < w->len)) {
			out->remove[out->nremove++] = m[i++].id;
		} else {
			out->create[out->ncreate++] = *w;
			j++;
		}
	}
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
