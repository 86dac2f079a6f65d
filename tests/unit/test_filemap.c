/* test_filemap.c: unit tests for the pure parts of daemon/core/plan.h:
 * extent_list (sort + merge of physically adjacent extents) and
 * plan_make (members vs wanted extents -> create/remove/keep).
 * Written against the header's specification, not the implementation. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */

static void assert_extents(const struct extent_list *l,
			   const struct extent *want, size_t n)
{
	if (l->n != n) {
		print_error("got %zu extents, want %zu:\n", l->n, n);
		for (size_t i = 0; i < l->n; i++)
			print_error("  %llu+%llu\n", (unsigned long long)l->v[i].start,
				    (unsigned long long)l->v[i].len);
	}
	assert_int_equal(l->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(l->v[i].start, want[i].start);
		assert_int_equal(l->v[i].len, want[i].len);
	}
}

static void add_all(struct extent_list *l, const struct extent *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(extent_list_add(l, e[i].start, e[i].len), 0);
}

/* A want list built directly (sorted, no two adjacent), so that plan
 * tests do not depend on extent_list_finish(). */
static struct extent_list want_of(struct extent *e, size_t n)
{
	struct extent_list l = {.v = e, .n = n, .cap = n};
	return l;
}

static bool contains_id(const uint64_t *v, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

static bool contains_extent(const struct extent *v, size_t n, uint64_t start,
			    uint64_t len)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].start == start && v[i].len == len)
			return true;
	return false;
}

static int cmp_range(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void assert_id_set(const uint64_t *got, size_t ngot,
			  const uint64_t *want, size_t nwant)
{
	if (ngot != nwant) {
		print_error("got %zu ids, want %zu; got:", ngot, nwant);
		for (size_t i = 0; i < ngot; i++)
			print_error(" %llu", (unsigned long long)got[i]);
		print_error("\n");
	}
	assert_int_equal(ngot, nwant);
	for (size_t i = 0; i < nwant; i++)
		assert_true(contains_id(got, ngot, want[i]));
	/* no duplicates */
	for (size_t i = 0; i < ngot; i++)
		for (size_t j = i + 1; j < ngot; j++)
			assert_true(got[i] != got[j]);
}

static void assert_extent_set(const struct extent *got, size_t ngot,
			      const struct extent *want, size_t nwant)
{
	if (ngot != nwant) {
		print_error("got %zu ranges, want %zu; got:", ngot, nwant);
		for (size_t i = 0; i < ngot; i++)
			print_error(" %llu+%llu", (unsigned long long)got[i].start,
				    (unsigned long long)got[i].len);
		print_error("\n");
	}
	assert_int_equal(ngot, nwant);
	for (size_t i = 0; i < nwant; i++)
		assert_true(contains_extent(got, ngot, want[i].start, want[i].len));
	for (size_t i = 0; i < ngot; i++)
		for (size_t j = i + 1; j < ngot; j++)
			assert_false(got[i].start == got[j].start &&
				     got[i].len == got[j].len);
}

/* ------------------------------------------------------------------ */
/* extent_list                                                        */

static void test_extents_empty(void **state)
{
	(void)state;
	struct extent_list l = {0};
	extent_list_finish(&l);
	assert_int_equal(l.n, 0);
	extent_list_free(&l);
}

static void test_extents_single(void **state)
{
	(void)state;
	struct extent_list l = {0};
	assert_int_equal(extent_list_add(&l, 1000, 8), 0);
	extent_list_finish(&l);
	const struct extent want[] = {{1000, 8}};
	assert_extents(&l, want, 1);
	extent_list_free(&l);
}

static void test_extents_merge_adjacent(void **state)
{
	(void)state;
	struct extent_list l = {0};
	/* [0,8) [8,24) [24,32) merge into one; [40,48) is separate (gap);
	 * [48,56) touches [40,48) and merges with it */
	const struct extent in[] = {{0, 8}, {8, 16}, {24, 8}, {40, 8}, {48, 8}, {100, 1}};
	add_all(&l, in, 6);
	extent_list_finish(&l);
	const struct extent want[] = {{0, 32}, {40, 16}, {100, 1}};
	assert_extents(&l, want, 3);
	extent_list_free(&l);
}

static void test_extents_no_merge_with_gap(void **state)
{
	(void)state;
	struct extent_list l = {0};
	/* one sector apart: not adjacent */
	const struct extent in[] = {{0, 8}, {9, 8}, {18, 8}};
	add_all(&l, in, 3);
	extent_list_finish(&l);
	assert_extents(&l, in, 3);
	extent_list_free(&l);
}

static void test_extents_unsorted(void **state)
{
	(void)state;
	struct extent_list l = {0};
	/* logical order differs from physical order */
	const struct extent in[] = {{500, 10}, {100, 10}, {300, 10}, {0, 10}};
	add_all(&l, in, 4);
	extent_list_finish(&l);
	const struct extent want[] = {{0, 10}, {100, 10}, {300, 10}, {500, 10}};
	assert_extents(&l, want, 4);
	extent_list_free(&l);
}

static void test_extents_unsorted_adjacent(void **state)
{
	(void)state;
	struct extent_list l = {0};
	/* physically adjacent, but appended in reverse logical order:
	 * still merged after sorting */
	const struct extent in[] = {{200, 50}, {100, 100}, {0, 100}, {1000, 5}, {995, 5}};
	add_all(&l, in, 5);
	extent_list_finish(&l);
	const struct extent want[] = {{0, 250}, {995, 10}};
	assert_extents(&l, want, 2);
	extent_list_free(&l);
}

static void test_extents_many(void **state)
{
	(void)state;
	struct extent_list l = {0};
	/* 10000 extents in reverse order, every other pair adjacent */
	for (uint64_t i = 10000; i-- > 0;) {
		uint64_t start = (i / 2) * 100 + (i % 2) * 10;
		assert_int_equal(extent_list_add(&l, start, 10), 0);
	}
	extent_list_finish(&l);
	assert_int_equal(l.n, 5000);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.v[i].start, i * 100);
		assert_int_equal(l.v[i].len, 20);
	}
	extent_list_free(&l);
}

static void test_extents_large_values(void **state)
{
	(void)state;
	struct extent_list l = {0};
	const uint64_t big = (uint64_t)1 << 60;
	assert_int_equal(extent_list_add(&l, big + 8, 8), 0);
	assert_int_equal(extent_list_add(&l, big, 8), 0);
	assert_int_equal(extent_list_add(&l, 5, 3), 0);
	extent_list_finish(&l);
	const struct extent want[] = {{5, 3}, {big, 16}};
	assert_extents(&l, want, 2);
	extent_list_free(&l);
}

/* Random extents, non-overlapping, appended shuffled: the result is sorted,
 * merged exactly where adjacent, and covers the same sectors. */
static void test_extents_random(void **state)
{
	(void)state;
	srand(99);
	for (int iter = 0; iter < 300; iter++) {
		size_t n = 1 + (size_t)(rand() % 60);
		struct extent *e = calloc(n, sizeof(*e));
		assert_non_null(e);
		uint64_t pos = (uint64_t)(rand() % 10);
		for (size_t i = 0; i < n; i++) {
			e[i].start = pos;
			e[i].len = 1 + (uint64_t)(rand() % 10);
			pos += e[i].len + (rand() % 2 ? 0 : 1 + (uint64_t)(rand() % 5));
		}
		/* expected: merge in sorted order */
		struct extent *m = calloc(n, sizeof(*m));
		assert_non_null(m);
		size_t nm = 0;
		for (size_t i = 0; i < n; i++) {
			if (nm && m[nm - 1].start + m[nm - 1].len == e[i].start)
				m[nm - 1].len += e[i].len;
			else
				m[nm++] = e[i];
		}
		/* shuffle */
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)rand() % i;
			struct extent t = e[i - 1];
			e[i - 1] = e[j];
			e[j] = t;
		}
		struct extent_list l = {0};
		add_all(&l, e, n);
		extent_list_finish(&l);
		assert_extents(&l, m, nm);
		extent_list_free(&l);
		free(m);
		free(e);
	}
}

/* ------------------------------------------------------------------ */
/* plan_make                                                       */

static void test_plan_identical(void **state)
{
	(void)state;
	struct extent w[] = {{0, 8}, {100, 16}, {200, 4}};
	struct extent_list want = want_of(w, 3);
	const struct member m[] = {{7, 100, 16}, {3, 0, 8}, {9, 200, 4}};
	struct plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(plan_make(m, 3, &want, &p), 0);
	assert_true(plan_empty(&p));
	assert_int_equal(p.ncreate, 0);
	assert_int_equal(p.nremove, 0);
	const uint64_t keep[] = {3, 7, 9};
	assert_id_set(p.keep, p.nkeep, keep, 3);
	plan_free(&p);
}

static void test_plan_growth(void **state)
{
	(void)state;
	struct extent w[] = {{0, 8}, {100, 16}, {200, 4}, {300, 32}};
	struct extent_list want = want_of(w, 4);
	const struct member m[] = {{0, 0, 8}, {1, 100, 16}};
	struct plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(plan_make(m, 2, &want, &p), 0);
	assert_false(plan_empty(&p));
	const struct extent create[] = {{200, 4}, {300, 32}};
	assert_extent_set(p.create, p.ncreate, create, 2);
	assert_int_equal(p.nremove, 0);
	const uint64_t keep[] = {0, 1};
	assert_id_set(p.keep, p.nkeep, keep, 2);
	plan_free(&p);
}

static void test_plan_shrink(void **state)
{
	(void)state;
	struct extent w[] = {{0, 8}};
	struct extent_list want = want_of(w, 1);
	const struct member m[] = {{0, 0, 8}, {1, 100, 16}, {2, 200, 4}};
	struct plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(plan_make(m, 3, &want, &p), 0);
	assert_false(plan_empty(&p));
	assert_int_equal(p.ncreate, 0);
	const uint64_t remove[] = {1, 2};
	assert_id_set(p.remove, p.nremove, remove, 2);
	const uint64_t keep[] = {0};
	assert_id_set(p.keep, p.nkeep, keep, 1);
	plan_free(&p);
}

static void test_plan_leader_gone(void **state)
{
	(void)state;
	/* the leader (lowest id, 4) covered a range the file no longer has */
	struct extent w[] = {{100, 8}, {200, 8}};
	struct extent_list want = want_of(w, 2);
	const struct member m[] = {{5, 100, 8}, {4, 0, 8}};
	struct plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(plan_make(m, 2, &want, &p), 0);
	const uint64_t remove[] = {4};
	assert_id_set(p.remove, p.nremove, remove, 1);
	const uint64_t keep[] = {5};
	assert_id_set(p.keep, p.nkeep, keep, 1);
	const struct extent create[] = {{200, 8}};
	assert_extent_set(p.create, p.ncreate, create, 1);
	plan_free(&p);
}

static void test_plan_duplicates(void **state)
{
	(void)state;
	struct extent w[] = {{0, 8}, {50, 8}};
	struct extent_list want = want_of(w, 2);
	/* three members on [0,8), two on [50,8) */
	const struct member m[] = {
		{10, 0, 8}, {11, 50, 8}, {12, 0, 8}, {13, 0, 8}, {14, 50, 8},
	};
	struct plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(plan_make(m, 5, &want, &p), 0);
	assert_int_equal(p.ncreate, 0);
	assert_int_equal(p.nkeep, 2);
	assert_int_equal(p.nremove, 3);
	/* exactly one kept per range */
	int kept0 = 0, kept50 = 0;
	for (size_t i = 0; i < p.nkeep; i++) {
		uint64_t id = p.keep[i];
		if (id == 10 || id == 12 || id == 13)
			kept0++;
		else if (id == 11 || id == 14)
			kept50++;
		else
			fail_msg("kept unknown id %llu", (unsigned long long)id);
	}
	assert_int_equal(kept0, 1);
	assert_int_equal(kept50, 1);
	/* every member is either kept or removed, never both */
	for (size_t i = 0; i < 5; i++) {
		bool k = contains_id(p.keep, p.nkeep, m[i].id);
		bool r = contains_id(p.remove, p.nremove, m[i].id);
		assert_true(k != r);
	}
	assert_false(plan_empty(&p));
	plan_free(&p);
}

static void test_plan_duplicates_unwanted(void **state)
{
	(void)state;
	/* duplicates on a range that is not wanted: all removed */
	struct extent w[] = {{0, 8}};
	struct extent_list want = want_of(w, 1);
	const struct member m[] = {{1, 0, 8}, {2, 64, 8}, {3, 64, 8}};
	struct plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(plan_make(m, 3, &want, &p), 0);
	const uint64_t keep[] = {1};
	assert_id_set(p.keep, p.nkeep, keep, 1);
	const uint64_t remove[] = {2, 3};
	assert_id_set(p.remove, p.nremove, remove, 2);
	assert_int_equal(p.ncreate, 0);
	plan_free(&p);
}

static void test_plan_empty_want(void **state)
{
	(void)state;
	struct extent_list want = {0};
	const struct member m[] = {{0, 0, 8}, {1, 8, 8}, {2, 100, 8}};
	struct plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(plan_make(m, 3, &want, &p), 0);
	assert_int_equal(p.ncreate, 0);
	assert_int_equal(p.nkeep, 0);
	const uint64_t remove[] = {0, 1, 2};
	assert_id_set(p.remove, p.nremove, remove, 3);
	assert_false(plan_empty(&p));
	plan_free(&p);
}

static void test_plan_empty_members(void **state)
{
	(void)state;
	struct extent w[] = {{0, 8}, {16, 8}, {1000, 1}};
	struct extent_list want = want_of(w, 3);
	struct plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(plan_make(NULL, 0, &want, &p), 0);
	assert_extent_set(p.create, p.ncreate, w, 3);
	assert_int_equal(p.nremove, 0);
	assert_int_equal(p.nkeep, 0);
	assert_false(plan_empty(&p));
	plan_free(&p);
}

static void test_plan_both_empty(void **state)
{
	(void)state;
	struct extent_list want = {0};
	struct plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(plan_make(NULL, 0, &want, &p), 0);
	assert_true(plan_empty(&p));
	assert_int_equal(p.nkeep, 0);
	plan_free(&p);
}

static void test_plan_partial_overlap(void **state)
{
	(void)state;
	struct plan p;

	/* member shorter than the wanted range (file grew in place): it
	 * stays, and the new tail gets a region of its own */
	{
		struct extent w[] = {{0, 16}};
		struct extent_list want = want_of(w, 1);
		const struct member m[] = {{0, 0, 8}};
		memset(&p, 0, sizeof(p));
		assert_int_equal(plan_make(m, 1, &want, &p), 0);
		assert_int_equal(p.nremove, 0);
		assert_int_equal(p.nkeep, 1);
		assert_int_equal(p.keep[0], 0);
		const struct extent tail[] = {{8, 8}};
		assert_extent_set(p.create, p.ncreate, tail, 1);
		plan_free(&p);
	}
	/* a member inside the range, at neither end (two extents that became
	 * one): kept, with a region on each side */
	{
		struct extent w[] = {{0, 24}};
		struct extent_list want = want_of(w, 1);
		const struct member m[] = {{5, 8, 8}};
		memset(&p, 0, sizeof(p));
		assert_int_equal(plan_make(m, 1, &want, &p), 0);
		assert_int_equal(p.nremove, 0);
		assert_int_equal(p.nkeep, 1);
		const struct extent sides[] = {{0, 8}, {16, 8}};
		assert_extent_set(p.create, p.ncreate, sides, 2);
		plan_free(&p);
	}
	/* grown in place PLAN_PIECES_MAX times: one region again */
	{
		struct extent w[] = {{0, 40}};
		struct extent_list want = want_of(w, 1);
		const struct member m[] = {{1, 0, 8}, {2, 8, 8}, {3, 16, 8},
					   {4, 24, 8}};
		memset(&p, 0, sizeof(p));
		assert_int_equal(PLAN_PIECES_MAX, 4);
		assert_int_equal(plan_make(m, 4, &want, &p), 0);
		const uint64_t remove[] = {1, 2, 3, 4};
		assert_id_set(p.remove, p.nremove, remove, 4);
		assert_int_equal(p.nkeep, 0);
		assert_extent_set(p.create, p.ncreate, w, 1);
		plan_free(&p);
	}
	/* at PLAN_PIECES_MAX pieces exactly: kept */
	{
		struct extent w[] = {{0, 32}};
		struct extent_list want = want_of(w, 1);
		const struct member m[] = {{1, 0, 8}, {2, 8, 8}, {3, 16, 8}};
		memset(&p, 0, sizeof(p));
		assert_int_equal(plan_make(m, 3, &want, &p), 0);
		assert_int_equal(p.nremove, 0);
		assert_int_equal(p.nkeep, 3);
		const struct extent tail[] = {{24, 8}};
		assert_extent_set(p.create, p.ncreate, tail, 1);
		plan_free(&p);
	}
	/* member longer than the wanted range */
	{
		struct extent w[] = {{0, 8}};
		struct extent_list want = want_of(w, 1);
		const struct member m[] = {{3, 0, 16}};
		memset(&p, 0, sizeof(p));
		assert_int_equal(plan_make(m, 1, &want, &p), 0);
		const uint64_t remove[] = {3};
		assert_id_set(p.remove, p.nremove, remove, 1);
		assert_int_equal(p.nkeep, 0);
		assert_extent_set(p.create, p.ncreate, w, 1);
		plan_free(&p);
	}
	/* same length, shifted start */
	{
		struct extent w[] = {{4, 8}};
		struct extent_list want = want_of(w, 1);
		const struct member m[] = {{3, 0, 8}};
		memset(&p, 0, sizeof(p));
		assert_int_equal(plan_make(m, 1, &want, &p), 0);
		const uint64_t remove[] = {3};
		assert_id_set(p.remove, p.nremove, remove, 1);
		assert_extent_set(p.create, p.ncreate, w, 1);
		plan_free(&p);
	}
	/* a member covering the union of two wanted ranges */
	{
		struct extent w[] = {{0, 8}, {16, 8}};
		struct extent_list want = want_of(w, 2);
		const struct member m[] = {{1, 0, 24}, {2, 16, 8}};
		memset(&p, 0, sizeof(p));
		assert_int_equal(plan_make(m, 2, &want, &p), 0);
		const uint64_t remove[] = {1};
		assert_id_set(p.remove, p.nremove, remove, 1);
		const uint64_t keep[] = {2};
		assert_id_set(p.keep, p.nkeep, keep, 1);
		const struct extent create[] = {{0, 8}};
		assert_extent_set(p.create, p.ncreate, create, 1);
		plan_free(&p);
	}
}

static void test_plan_mixed(void **state)
{
	(void)state;
	struct extent w[] = {{0, 8}, {10, 5}, {40, 40}, {100, 1}};
	struct extent_list want = want_of(w, 4);
	const struct member m[] = {
		{20, 40, 40}, /* keep */
		{21, 10, 6},  /* wrong len: remove, create 10+5 */
		{22, 0, 8},   /* keep */
		{23, 0, 8},   /* duplicate of 22 or kept instead of it */
		{24, 500, 8}, /* gone */
	};
	struct plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(plan_make(m, 5, &want, &p), 0);
	const struct extent create[] = {{10, 5}, {100, 1}};
	assert_extent_set(p.create, p.ncreate, create, 2);
	assert_int_equal(p.nkeep, 2);
	assert_int_equal(p.nremove, 3);
	assert_true(contains_id(p.keep, p.nkeep, 20));
	assert_true(contains_id(p.remove, p.nremove, 21));
	assert_true(contains_id(p.remove, p.nremove, 24));
	assert_true(contains_id(p.keep, p.nkeep, 22) != contains_id(p.keep, p.nkeep, 23));
	assert_true(contains_id(p.remove, p.nremove, 22) != contains_id(p.remove, p.nremove, 23));
	plan_free(&p);
}

/* Property: for random members and wanted extents, applying the plan
 * (delete REMOVE, create CREATE) leaves exactly the wanted set of ranges,
 * each once; KEEP and REMOVE partition the members; a member is removed
 * only if its range is unwanted or another kept member already has it. */
static void test_plan_property(void **state)
{
	(void)state;
	srand(20240601);
	for (int iter = 0; iter < 1000; iter++) {
		/* wanted: sorted, non-overlapping, non-adjacent, on a coarse
		 * grid so members collide with them often */
		size_t nw = (size_t)(rand() % 12);
		struct extent *w = calloc(nw ? nw : 1, sizeof(*w));
		assert_non_null(w);
		uint64_t pos = (uint64_t)(rand() % 3) * 8;
		for (size_t i = 0; i < nw; i++) {
			w[i].start = pos;
			w[i].len = 8 * (1 + (uint64_t)(rand() % 3));
			pos += w[i].len + 8 * (1 + (uint64_t)(rand() % 3));
		}
		struct extent_list want = want_of(w, nw);

		size_t nm = (size_t)(rand() % 16);
		struct member *m = calloc(nm ? nm : 1, sizeof(*m));
		assert_non_null(m);
		for (size_t i = 0; i < nm; i++) {
			m[i].id = (uint64_t)(i * 3 + (size_t)(rand() % 3)); /* unique */
			int kind = rand() % 4;
			if (kind < 2 && nw) {
				/* exactly a wanted range (possibly duplicated) */
				struct extent e = w[(size_t)rand() % nw];
				m[i].start = e.start;
				m[i].len = e.len;
			} else if (kind == 2 && nw) {
				/* a wanted start with another length */
				struct extent e = w[(size_t)rand() % nw];
				m[i].start = e.start;
				m[i].len = e.len + 8 * (1 + (uint64_t)(rand() % 2));
			} else {
				m[i].start = 8 * (uint64_t)(rand() % 40);
				m[i].len = 8 * (1 + (uint64_t)(rand() % 3));
			}
		}
		/* shuffle members: any order */
		for (size_t i = nm; i > 1; i--) {
			size_t j = (size_t)rand() % i;
			struct member t = m[i - 1];
			m[i - 1] = m[j];
			m[j] = t;
		}

		struct plan p;
		memset(&p, 0, sizeof(p));
		assert_int_equal(plan_make(m, nm, &want, &p), 0);

		/* keep and remove partition the member ids */
		assert_int_equal(p.nkeep + p.nremove, nm);
		for (size_t i = 0; i < nm; i++) {
			bool k = contains_id(p.keep, p.nkeep, m[i].id);
			bool r = contains_id(p.remove, p.nremove, m[i].id);
			if (k == r)
				fail_msg("iter %d: member %llu kept=%d removed=%d", iter,
					 (unsigned long long)m[i].id, k, r);
		}

		/* the resulting ranges: kept members + created */
		size_t nres = p.nkeep + p.ncreate;
		struct extent *res = calloc(nres ? nres : 1, sizeof(*res));
		assert_non_null(res);
		size_t k = 0;
		for (size_t i = 0; i < p.nkeep; i++) {
			const struct member *mm = NULL;
			for (size_t j = 0; j < nm; j++)
				if (m[j].id == p.keep[i])
					mm = &m[j];
			assert_non_null(mm);
			res[k].start = mm->start;
			res[k].len = mm->len;
			k++;
		}
		for (size_t i = 0; i < p.ncreate; i++)
			res[k++] = p.create[i];
		/* the kept and created ranges tile each wanted extent, with
		 * no gap, overlap or piece outside it, in at most
		 * PLAN_PIECES_MAX pieces */
		qsort(res, nres, sizeof(*res), cmp_range);
		size_t at = 0;
		for (size_t i = 0; i < nw; i++) {
			uint64_t cur = w[i].start, end = w[i].start + w[i].len;
			size_t pieces = 0;
			while (at < nres && res[at].start == cur &&
			       res[at].start + res[at].len <= end) {
				cur += res[at++].len;
				pieces++;
			}
			if (cur != end || pieces > PLAN_PIECES_MAX)
				fail_msg("iter %d: extent %llu+%llu covered up to "
					 "%llu in %zu pieces", iter,
					 (unsigned long long)w[i].start,
					 (unsigned long long)w[i].len,
					 (unsigned long long)cur, pieces);
		}
		if (at != nres)
			fail_msg("iter %d: %zu ranges outside every extent", iter,
				 nres - at);

		/* a wanted range that some member has is kept, not
		 * recreated: it is then its extent's only piece */
		for (size_t i = 0; i < nw; i++) {
			bool any = false;
			for (size_t j = 0; j < nm; j++)
				if (m[j].start == w[i].start && m[j].len == w[i].len)
					any = true;
			if (any && contains_extent(p.create, p.ncreate, w[i].start,
						   w[i].len))
				fail_msg("iter %d: extent %llu+%llu recreated",
					 iter, (unsigned long long)w[i].start,
					 (unsigned long long)w[i].len);
		}
		/* a member wholly inside an extent, overlapping no other
		 * member, is kept (its counts stay) unless the extent had too
		 * many pieces */
		for (size_t j = 0; j < nm; j++) {
			bool inside = false, alone = true, remade = false;
			for (size_t i = 0; i < nw; i++)
				if (m[j].start >= w[i].start &&
				    m[j].start + m[j].len <= w[i].start + w[i].len) {
					inside = true;
					remade = contains_extent(p.create, p.ncreate,
								 w[i].start, w[i].len);
				}
			for (size_t q = 0; q < nm; q++)
				if (q != j && m[q].start < m[j].start + m[j].len &&
				    m[j].start < m[q].start + m[q].len)
					alone = false;
			if (inside && alone && !remade &&
			    !contains_id(p.keep, p.nkeep, m[j].id))
				fail_msg("iter %d: member %llu dropped", iter,
					 (unsigned long long)m[j].id);
		}
		assert_int_equal(plan_empty(&p), p.ncreate == 0 && p.nremove == 0);

		free(res);
		plan_free(&p);
		free(m);
		free(w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extents_empty),
		cmocka_unit_test(test_extents_single),
		cmocka_unit_test(test_extents_merge_adjacent),
		cmocka_unit_test(test_extents_no_merge_with_gap),
		cmocka_unit_test(test_extents_unsorted),
		cmocka_unit_test(test_extents_unsorted_adjacent),
		cmocka_unit_test(test_extents_many),
		cmocka_unit_test(test_extents_large_values),
		cmocka_unit_test(test_extents_random),
		cmocka_unit_test(test_plan_identical),
		cmocka_unit_test(test_plan_growth),
		cmocka_unit_test(test_plan_shrink),
		cmocka_unit_test(test_plan_leader_gone),
		cmocka_unit_test(test_plan_duplicates),
		cmocka_unit_test(test_plan_duplicates_unwanted),
		cmocka_unit_test(test_plan_empty_want),
		cmocka_unit_test(test_plan_empty_members),
		cmocka_unit_test(test_plan_both_empty),
		cmocka_unit_test(test_plan_partial_overlap),
		cmocka_unit_test(test_plan_mixed),
		cmocka_unit_test(test_plan_property),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
