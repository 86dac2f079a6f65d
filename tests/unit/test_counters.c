/* test_counters.c: unit tests for daemon/core/counters.c: the parse of the
 * kernel's @stats_print replies (an area per line, "START+LEN", 13
 * counters, the histogram's counts), their text form, and the sums a
 * ledger makes of them. Pure: no fake, no kernel. */
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

#define NS 1000000ULL /* per ms */

/* The 13 fields' text "1 2 ... 13" (a line's counters). */
#define F13 "1 2 3 4 5 6 7 8 9 10 11 12 13"

static bool is_time(int f)
{
	return f == IO_READ_TIME || f == IO_WRITE_TIME || f == IO_TIME ||
	       f == IO_TIME_WEIGHTED || f == IO_READ_TOTAL_TIME ||
	       f == IO_WRITE_TOTAL_TIME;
}

/* C with every field X (in flight too) and N buckets, bucket i = X + i. */
static void fill(struct io_counters *c, uint64_t x, size_t n)
{
	memset(c, 0, sizeof(*c));
	for (int f = 0; f < IO_NFIELDS; f++)
		c->v[f] = x;
	if (!n)
		return;
	c->bucket = calloc(n, sizeof(*c->bucket));
	assert_non_null(c->bucket);
	c->nbuckets = n;
	for (size_t i = 0; i < n; i++)
		c->bucket[i] = x + i;
}

/* Parse TEXT, which must fail with -EINVAL and leave OUT empty. */
static void assert_refused_fn(const char *text, bool precise, int line)
{
	struct io_counters c;
	int r;

	bool empty;

	memset(&c, 0x5a, sizeof(c)); /* garbage: parse must reset it */
	r = counters_parse(text, precise, &c);
	if (r != -EINVAL)
		print_error("line %d: parse of \"%.80s%s\" (precise %d): got "
			    "%d, want -EINVAL\n", line, text ? text : "(null)",
			    text && strlen(text) > 80 ? "..." : "", precise, r);
	empty = !c.bucket && !c.nbuckets;
	if (r == 0)
		counters_free(&c); /* accepted (wrongly): no leak from here */
	assert_int_equal(r, -EINVAL);
	assert_true(empty);
	counters_free(&c); /* harmless after a failure */
}
#define assert_refused(text) assert_refused_fn((text), true, __LINE__)

/* ------------------------------------------------------------------ */
/* parse                                                              */

static void test_parse_one_area_no_histogram(void **state)
{
	struct io_counters c;

	(void)state;
	assert_int_equal(counters_parse("0+8 " F13 "\n", true, &c), 0);
	for (int f = 0; f < IO_NFIELDS; f++)
		assert_int_equal(c.v[f], (uint64_t)f + 1);
	assert_int_equal(c.nbuckets, 0);
	assert_null(c.bucket);
	counters_free(&c);

	/* without the final newline, and a large range */
	assert_int_equal(counters_parse("123456789+987654321 " F13, true, &c), 0);
	assert_int_equal(c.v[IO_READS], 1);
	assert_int_equal(c.v[IO_WRITE_TOTAL_TIME], 13);
	assert_int_equal(c.nbuckets, 0);
	counters_free(&c);

	/* all zero */
	assert_int_equal(counters_parse("0+1 0 0 0 0 0 0 0 0 0 0 0 0 0\n", true,
					&c), 0);
	for (int f = 0; f < IO_NFIELDS; f++)
		assert_int_equal(c.v[f], 0);
	counters_free(&c);
}

static void test_parse_one_area_histogram(void **state)
{
	struct io_counters c;

	(void)state;
	assert_int_equal(counters_parse("0+8 " F13 " 4:0:7\n", true, &c), 0);
	for (int f = 0; f < IO_NFIELDS; f++)
		assert_int_equal(c.v[f], (uint64_t)f + 1);
	assert_int_equal(c.nbuckets, 3);
	assert_non_null(c.bucket);
	assert_int_equal(c.bucket[0], 4);
	assert_int_equal(c.bucket[1], 0);
	assert_int_equal(c.bucket[2], 7);
	counters_free(&c);
	assert_null(c.bucket);
	assert_int_equal(c.nbuckets, 0);

	/* histogram counts are counts, not times: never converted */
	assert_int_equal(counters_parse("0+8 " F13 " 5:6", false, &c), 0);
	assert_int_equal(c.nbuckets, 2);
	assert_int_equal(c.bucket[0], 5);
	assert_int_equal(c.bucket[1], 6);
	counters_free(&c);

	/* exactly IO_BUCKETS_MAX buckets are accepted */
	{
		size_t len = 64 + IO_BUCKETS_MAX * 2;
		char *t = malloc(len), *p = t;
		assert_non_null(t);
		p += sprintf(p, "0+8 %s ", F13);
		for (size_t i = 0; i < IO_BUCKETS_MAX; i++)
			p += sprintf(p, "%s%zu", i ? ":" : "", i % 10);
		assert_int_equal(counters_parse(t, true, &c), 0);
		assert_int_equal(c.nbuckets, IO_BUCKETS_MAX);
		assert_int_equal(c.bucket[IO_BUCKETS_MAX - 1],
				 (IO_BUCKETS_MAX - 1) % 10);
		counters_free(&c);
		free(t);
	}
}

static void test_parse_times_ms_to_ns(void **state)
{
	struct io_counters c;

	(void)state;
	assert_int_equal(counters_parse("0+8 " F13 "\n", false, &c), 0);
	for (int f = 0; f < IO_NFIELDS; f++) {
		uint64_t want = (uint64_t)f + 1;
		if (is_time(f))
			want *= NS;
		if (c.v[f] != want)
			print_error("field %d: got %" PRIu64 " want %" PRIu64
				    "\n", f, c.v[f], want);
		assert_int_equal(c.v[f], want);
	}
	/* the times are exactly these fields */
	assert_int_equal(c.v[IO_READ_TIME], 4 * NS);
	assert_int_equal(c.v[IO_WRITE_TIME], 8 * NS);
	assert_int_equal(c.v[IO_IN_FLIGHT], 9);
	assert_int_equal(c.v[IO_TIME], 10 * NS);
	assert_int_equal(c.v[IO_TIME_WEIGHTED], 11 * NS);
	assert_int_equal(c.v[IO_READ_TOTAL_TIME], 12 * NS);
	assert_int_equal(c.v[IO_WRITE_TOTAL_TIME], 13 * NS);
	counters_free(&c);

	/* precise: ns already, unchanged */
	assert_int_equal(counters_parse("0+8 " F13 "\n", true, &c), 0);
	for (int f = 0; f < IO_NFIELDS; f++)
		assert_int_equal(c.v[f], (uint64_t)f + 1);
	counters_free(&c);

	/* ms too large for ns saturate; the largest that fits converts */
	{
		char t[512];
		uint64_t fits = UINT64_MAX / NS;
		snprintf(t, sizeof(t),
			 "0+8 1 2 3 %" PRIu64 " 5 6 7 %" PRIu64
			 " 9 10 11 12 13\n", fits, fits + 1);
		assert_int_equal(counters_parse(t, false, &c), 0);
		assert_int_equal(c.v[IO_READ_TIME], fits * NS);
		assert_int_equal(c.v[IO_WRITE_TIME], UINT64_MAX);
		counters_free(&c);
	}
}

static void test_parse_areas_summed(void **state)
{
	struct io_counters c;

	(void)state;
	/* in_flight (field 9) summed too */
	assert_int_equal(counters_parse("0+8 " F13 "\n"
					"8+8 " F13 "\n"
					"16+8 10 20 30 40 50 60 70 80 90 100 110 "
					"120 130\n",
					true, &c), 0);
	for (int f = 0; f < IO_NFIELDS; f++)
		assert_int_equal(c.v[f], 12 * ((uint64_t)f + 1));
	assert_int_equal(c.v[IO_IN_FLIGHT], 9 + 9 + 90);
	assert_int_equal(c.nbuckets, 0);
	counters_free(&c);

	/* histograms of the same shape summed; times converted per area */
	assert_int_equal(counters_parse("0+8 " F13 " 1:2:3\n"
					"8+8 " F13 " 10:20:30\n",
					false, &c), 0);
	assert_int_equal(c.v[IO_READS], 2);
	assert_int_equal(c.v[IO_READ_TIME], 8 * NS);
	assert_int_equal(c.v[IO_IN_FLIGHT], 18);
	assert_int_equal(c.nbuckets, 3);
	assert_int_equal(c.bucket[0], 11);
	assert_int_equal(c.bucket[1], 22);
	assert_int_equal(c.bucket[2], 33);
	counters_free(&c);
}

/* Sums over areas saturate, as counters_add's do: in_flight too. */
static void test_parse_area_sums_saturate(void **state)
{
	char t[1024];
	struct io_counters c;
	bool ok;

	(void)state;
	snprintf(t, sizeof(t),
		 "0+8 %1$" PRIu64 " %1$" PRIu64 " %1$" PRIu64 " %1$" PRIu64
		 " %1$" PRIu64 " %1$" PRIu64 " %1$" PRIu64 " %1$" PRIu64
		 " %1$" PRIu64 " %1$" PRIu64 " %1$" PRIu64 " %1$" PRIu64
		 " %1$" PRIu64 " %1$" PRIu64 "\n"
		 "8+8 2 2 2 2 2 2 2 2 2 2 2 2 2 2\n",
		 UINT64_MAX - 1);
	assert_int_equal(counters_parse(t, true, &c), 0);
	ok = c.nbuckets == 1 && c.bucket[0] == UINT64_MAX;
	for (int f = 0; f < IO_NFIELDS; f++) {
		if (c.v[f] == UINT64_MAX)
			continue;
		print_error("field %d: got %" PRIu64 ", want 2^64-1 "
			    "(saturated)\n", f, c.v[f]);
		ok = false;
	}
	counters_free(&c);
	assert_true(ok);
}

static void test_parse_malformed_refused(void **state)
{
	(void)state;
	assert_refused_fn(NULL, true, __LINE__);
	assert_refused("");
	assert_refused_fn("", false, __LINE__);
	assert_refused("\n");
	assert_refused("junk");
	assert_refused("0+8 junk\n");
	assert_refused("Invalid argument\n");
	/* missing counters */
	assert_refused("0+8\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12");
	assert_refused_fn("0+8 1 2 3 4 5 6 7 8 9 10 11 12\n", false, __LINE__);
	/* a bad range */
	assert_refused("0 " F13 "\n");
	assert_refused("+8 " F13 "\n");
	assert_refused("0+ " F13 "\n");
	assert_refused("0-8 " F13 "\n");
	/* junk in or after the counters */
	assert_refused("0+8 1 2 3 4 5 6 x 8 9 10 11 12 13\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 13x\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 13 \n");
	assert_refused("0+8 1  2 3 4 5 6 7 8 9 10 11 12 13\n");
	assert_refused("0+8\t1 2 3 4 5 6 7 8 9 10 11 12 13\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 13 1:2 x\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 13 1:2:\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 13 1::2\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 13 :1\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 13 1,2\n");
	/* a good line, then junk or an empty line */
	assert_refused("0+8 " F13 "\njunk\n");
	assert_refused("0+8 " F13 "\n\n");
	assert_refused("0+8 " F13 " 1:2\n\n");
	/* negative */
	assert_refused("0+8 -1 2 3 4 5 6 7 8 9 10 11 12 13\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 -9 10 11 12 13\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 13 1:-2\n");
	assert_refused("-0+8 " F13 "\n");
	assert_refused("0+8 +1 2 3 4 5 6 7 8 9 10 11 12 13\n");
	/* past 2^64 - 1 */
	assert_refused("0+8 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 99999999999999999999\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 13 1:18446744073709551616\n");
	assert_refused("18446744073709551616+8 " F13 "\n");
	assert_refused("0+8 1 2 3 4 5 6 7 8 9 10 11 12 "
		       "000000000000000000000018446744073709551616\n");
	/* too many buckets */
	{
		size_t len = 64 + (IO_BUCKETS_MAX + 1) * 2;
		char *t = malloc(len), *p = t;
		assert_non_null(t);
		p += sprintf(p, "0+8 %s ", F13);
		for (size_t i = 0; i < IO_BUCKETS_MAX + 1; i++)
			p += sprintf(p, "%s1", i ? ":" : "");
		assert_refused(t);
		/* and, as a second area, after a good one */
		free(t);
		len += 64;
		assert_non_null(t = malloc(len));
		p = t;
		p += sprintf(p, "0+8 %s 1\n8+8 %s ", F13, F13);
		for (size_t i = 0; i < IO_BUCKETS_MAX + 1; i++)
			p += sprintf(p, "%s1", i ? ":" : "");
		assert_refused(t);
		free(t);
	}
	/* the largest value is accepted (not a false overflow) */
	{
		struct io_counters c;
		assert_int_equal(counters_parse("0+8 18446744073709551615 2 3 4 5"
						" 6 7 8 9 10 11 12 13\n", true,
						&c), 0);
		assert_true(c.v[IO_READS] == UINT64_MAX);
		counters_free(&c);
		assert_int_equal(counters_parse("0+8 " F13 " 18446744073709551615"
						":0\n", true, &c), 0);
		assert_true(c.bucket[0] == UINT64_MAX);
		counters_free(&c);
	}
}

/* Areas of one region whose histograms differ (bucket counts, or one with
 * none) are malformed: a region has one histogram. Every case is tried
 * (and said) before the test fails. */
static void test_parse_areas_different_buckets_refused(void **state)
{
	static const char *const cases[] = {
		"0+8 " F13 " 1:2\n8+8 " F13 " 1:2:3\n",
		"0+8 " F13 " 1:2:3\n8+8 " F13 " 1:2\n",
		"0+8 " F13 " 1:2\n8+8 " F13 "\n",
		"0+8 " F13 " 1:2\n8+8 " F13 " 1:2\n16+8 " F13 "\n",
		"0+8 " F13 "\n8+8 " F13 " 1:2\n",
		"0+8 " F13 "\n8+8 " F13 "\n16+8 " F13 " 1:2:3\n",
	};
	size_t bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct io_counters c;
		int r = counters_parse(cases[i], true, &c);
		if (r == -EINVAL && !c.bucket && !c.nbuckets)
			continue;
		print_error("case %zu: \"%s\": got %d (reads %" PRIu64
			    ", %zu buckets), want -EINVAL\n", i, cases[i], r,
			    r == 0 ? c.v[IO_READS] : 0,
			    r == 0 ? c.nbuckets : 0);
		if (r == 0)
			counters_free(&c);
		bad++;
	}
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ */
/* format                                                             */

static void roundtrip(const struct io_counters *c)
{
	struct io_counters back;
	char *t = counters_format(c);

	assert_non_null(t);
	assert_int_equal(counters_parse(t, true, &back), 0);
	for (int f = 0; f < IO_NFIELDS; f++) {
		if (back.v[f] != c->v[f])
			print_error("field %d: %" PRIu64 " came back as %" PRIu64
				    " from \"%.200s\"\n", f, c->v[f],
				    back.v[f], t);
		assert_true(back.v[f] == c->v[f]);
	}
	assert_int_equal(back.nbuckets, c->nbuckets);
	for (size_t i = 0; i < c->nbuckets; i++)
		assert_true(back.bucket[i] == c->bucket[i]);
	counters_free(&back);
	free(t);
}

static void test_format_roundtrip(void **state)
{
	struct io_counters c;
	char *t;

	(void)state;
	/* zero: the exact text */
	memset(&c, 0, sizeof(c));
	assert_non_null(t = counters_format(&c));
	assert_string_equal(t, "0+0 0 0 0 0 0 0 0 0 0 0 0 0 0");
	free(t);
	roundtrip(&c);

	fill(&c, 7, 3);
	c.v[IO_READS] = 1;
	c.v[IO_IN_FLIGHT] = 2;
	assert_non_null(t = counters_format(&c));
	assert_string_equal(t, "0+0 1 7 7 7 7 7 7 7 2 7 7 7 7 7:8:9");
	free(t);
	roundtrip(&c);
	counters_free(&c);

	/* near 2^64, times included (precise: never converted) */
	fill(&c, UINT64_MAX, 0);
	roundtrip(&c);
	for (int f = 0; f < IO_NFIELDS; f++)
		c.v[f] = UINT64_MAX - (uint64_t)f;
	roundtrip(&c);

	/* the most buckets, all at the largest value: the longest text */
	fill(&c, UINT64_MAX, IO_BUCKETS_MAX);
	for (size_t i = 0; i < c.nbuckets; i++)
		c.bucket[i] = UINT64_MAX - i % 3;
	roundtrip(&c);
	counters_free(&c);

	/* one bucket */
	fill(&c, 12345678901234567890ULL, 1);
	roundtrip(&c);
	counters_free(&c);
}

/* ------------------------------------------------------------------ */
/* copy, add, sub, went_back                                          */

static void test_copy(void **state)
{
	struct io_counters a, b = { { 0 }, 0, NULL };

	(void)state;
	fill(&a, 5, 4);
	assert_int_equal(counters_copy(&b, &a), 0);
	assert_memory_equal(b.v, a.v, sizeof(a.v));
	assert_int_equal(b.nbuckets, 4);
	assert_true(b.bucket != a.bucket);
	assert_memory_equal(b.bucket, a.bucket, 4 * sizeof(uint64_t));
	/* over one with a histogram of another shape: freed first */
	counters_free(&a);
	fill(&a, 9, 2);
	assert_int_equal(counters_copy(&b, &a), 0);
	assert_int_equal(b.nbuckets, 2);
	assert_int_equal(b.bucket[1], 10);
	/* and with none */
	counters_free(&a);
	fill(&a, 3, 0);
	assert_int_equal(counters_copy(&b, &a), 0);
	assert_int_equal(b.nbuckets, 0);
	assert_null(b.bucket);
	assert_int_equal(b.v[IO_IN_FLIGHT], 3);
	counters_free(&a);
	counters_free(&b);
}

static void test_add(void **state)
{
	struct io_counters to, c;

	(void)state;
	/* every field but in_flight; saturating */
	fill(&to, 10, 0);
	fill(&c, 5, 0);
	to.v[IO_READS] = UINT64_MAX - 1;
	to.v[IO_TIME_WEIGHTED] = UINT64_MAX;
	c.v[IO_WRITES] = UINT64_MAX;
	assert_int_equal(counters_add(&to, &c), 0);
	for (int f = 0; f < IO_NFIELDS; f++) {
		uint64_t want = f == IO_IN_FLIGHT ? 10 : 15;
		if (f == IO_READS || f == IO_TIME_WEIGHTED || f == IO_WRITES)
			want = UINT64_MAX;
		assert_true(to.v[f] == want);
	}
	assert_int_equal(to.nbuckets, 0);

	/* the histogram's shape is adopted when TO has none */
	counters_free(&c);
	fill(&c, 1, 3);
	assert_int_equal(counters_add(&to, &c), 0);
	assert_int_equal(to.nbuckets, 3);
	assert_true(to.bucket != c.bucket);
	assert_int_equal(to.bucket[0], 1);
	assert_int_equal(to.bucket[1], 2);
	assert_int_equal(to.bucket[2], 3);
	/* then summed (saturating) */
	to.bucket[2] = UINT64_MAX - 1;
	assert_int_equal(counters_add(&to, &c), 0);
	assert_int_equal(to.bucket[0], 2);
	assert_int_equal(to.bucket[1], 4);
	assert_true(to.bucket[2] == UINT64_MAX);

	/* another shape: ignored, the fields still added */
	counters_free(&c);
	fill(&c, 1, 2);
	uint64_t before = to.v[IO_WRITE_SECTORS];
	assert_int_equal(counters_add(&to, &c), 0);
	assert_int_equal(to.nbuckets, 3);
	assert_int_equal(to.bucket[0], 2);
	assert_int_equal(to.bucket[1], 4);
	assert_true(to.bucket[2] == UINT64_MAX);
	assert_int_equal(to.v[IO_WRITE_SECTORS], before + 1);

	/* C without a histogram leaves TO's */
	counters_free(&c);
	fill(&c, 0, 0);
	assert_int_equal(counters_add(&to, &c), 0);
	assert_int_equal(to.nbuckets, 3);
	assert_int_equal(to.bucket[0], 2);
	counters_free(&c);
	counters_free(&to);
}

static void test_sub(void **state)
{
	struct io_counters to, c;

	(void)state;
	fill(&to, 10, 3);
	fill(&c, 4, 3); /* buckets 4 5 6 from 10 11 12 */
	c.v[IO_READS] = 11;   /* more than there is: 0 */
	c.v[IO_WRITES] = 10;  /* exactly: 0 */
	c.bucket[1] = 100;
	counters_sub(&to, &c);
	for (int f = 0; f < IO_NFIELDS; f++) {
		uint64_t want = f == IO_IN_FLIGHT ? 10 : 6;
		if (f == IO_READS || f == IO_WRITES)
			want = 0;
		assert_int_equal(to.v[f], want);
	}
	assert_int_equal(to.nbuckets, 3);
	assert_int_equal(to.bucket[0], 6);
	assert_int_equal(to.bucket[1], 0);
	assert_int_equal(to.bucket[2], 6);

	/* the inverse of add */
	counters_free(&c);
	fill(&c, 3, 3);
	{
		struct io_counters keep = { { 0 }, 0, NULL };
		assert_int_equal(counters_copy(&keep, &to), 0);
		assert_int_equal(counters_add(&to, &c), 0);
		counters_sub(&to, &c);
		assert_memory_equal(to.v, keep.v, sizeof(keep.v));
		assert_memory_equal(to.bucket, keep.bucket,
				    3 * sizeof(uint64_t));
		counters_free(&keep);
	}

	/* another shape: buckets left alone */
	counters_free(&c);
	fill(&c, 1, 2);
	counters_sub(&to, &c);
	assert_int_equal(to.bucket[0], 6);
	assert_int_equal(to.bucket[2], 6);
	assert_int_equal(to.v[IO_READ_SECTORS], 5);
	counters_free(&c);
	counters_free(&to);
}

static void test_went_back(void **state)
{
	struct io_counters before, now;

	(void)state;
	fill(&before, 10, 3);
	fill(&now, 10, 3);
	assert_false(counters_went_back(&now, &before)); /* equal */
	for (int f = 0; f < IO_NFIELDS; f++)
		now.v[f] = 11;
	now.bucket[0] = 11;
	assert_false(counters_went_back(&now, &before)); /* grown */
	/* any cumulative counter lower is a reset */
	for (int f = 0; f < IO_NFIELDS; f++) {
		now.v[f] = 9;
		if (f == IO_IN_FLIGHT) /* in flight going down: no reset */
			assert_false(counters_went_back(&now, &before));
		else if (!counters_went_back(&now, &before)) {
			print_error("field %d lower: not seen as a reset\n", f);
			fail();
		}
		now.v[f] = 11;
	}
	now.v[IO_IN_FLIGHT] = 0;
	assert_false(counters_went_back(&now, &before));
	/* a bucket lower is */
	for (size_t i = 0; i < 3; i++) {
		uint64_t keep = now.bucket[i];
		now.bucket[i] = before.bucket[i] - 1;
		assert_true(counters_went_back(&now, &before));
		now.bucket[i] = keep;
	}
	assert_false(counters_went_back(&now, &before));
	/* everything cleared */
	counters_free(&now);
	fill(&now, 0, 3);
	assert_true(counters_went_back(&now, &before));
	/* buckets of another shape are not compared */
	counters_free(&now);
	fill(&now, 10, 2);
	now.bucket[0] = now.bucket[1] = 0;
	assert_false(counters_went_back(&now, &before));
	counters_free(&now);
	counters_free(&before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_one_area_no_histogram),
		cmocka_unit_test(test_parse_one_area_histogram),
		cmocka_unit_test(test_parse_times_ms_to_ns),
		cmocka_unit_test(test_parse_areas_summed),
		cmocka_unit_test(test_parse_area_sums_saturate),
		cmocka_unit_test(test_parse_malformed_refused),
		cmocka_unit_test(test_parse_areas_different_buckets_refused),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_sub),
		cmocka_unit_test(test_went_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
