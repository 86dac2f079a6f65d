/* test_auxdata.c: unit tests for daemon/core/auxdata.h (dm-stats @stats_list rows,
 * DMS_GROUP descriptors, member ranges, message escaping, alias checks).
 * Written against the header's specification, not the implementation. */
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

#include "dmfilemap.h"
#include "core/auxdata.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */

static int parse_row(const char *s, struct aux_region *r)
{
	memset(r, 0, sizeof(*r));
	return aux_region_parse(s, strlen(s), r);
}

/* A row that must be rejected (and must not crash). */
static void expect_bad_row(const char *s)
{
	struct aux_region r;
	int rc = parse_row(s, &r);
	if (rc != -EINVAL)
		print_error("row unexpectedly accepted: \"%s\"\n", s);
	assert_int_equal(rc, -EINVAL);
}

/* Same, for a row that is not NUL-terminated within LEN. */
static void expect_bad_row_mem(const char *s, size_t len)
{
	struct aux_region r;
	char *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	memcpy(buf, s, len);
	memset(&r, 0, sizeof(r));
	assert_int_equal(aux_region_parse(buf, len, &r), -EINVAL);
	free(buf);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(rc >= 0);
	return s;
}

static void assert_ids(const uint64_t *got, size_t ngot, const uint64_t *want,
		       size_t nwant)
{
	assert_int_equal(ngot, nwant);
	for (size_t i = 0; i < nwant; i++)
		assert_int_equal(got[i], want[i]);
}

/* ------------------------------------------------------------------ */
/* aux_region_parse                                                   */

static void test_row_normal(void **state)
{
	(void)state;
	struct aux_region r;

	assert_int_equal(parse_row("0: 262664+800 800 dmstats DMS_GROUP=myb:0#-", &r), 0);
	assert_int_equal(r.id, 0);
	assert_int_equal(r.start, 262664);
	assert_int_equal(r.len, 800);
	assert_int_equal(r.step, 800);
	assert_string_equal(r.program_id, "dmstats");
	assert_string_equal(r.aux_data, "DMS_GROUP=myb:0#-");
	assert_false(r.precise);
	assert_null(r.histogram);
	aux_region_free(&r);

	assert_int_equal(parse_row("17: 0+1 1 p a", &r), 0);
	assert_int_equal(r.id, 17);
	assert_int_equal(r.start, 0);
	assert_int_equal(r.len, 1);
	assert_int_equal(r.step, 1);
	assert_string_equal(r.program_id, "p");
	assert_string_equal(r.aux_data, "a");
	aux_region_free(&r);

	/* large but valid 64-bit start/len/step */
	assert_int_equal(parse_row("3: 18446744073709551000+500 4294967296 x y", &r), 0);
	assert_int_equal(r.id, 3);
	assert_int_equal(r.start, 18446744073709551000ULL);
	assert_int_equal(r.len, 500);
	assert_int_equal(r.step, 4294967296ULL);
	aux_region_free(&r);
}

static void test_row_precise_histogram(void **state)
{
	(void)state;
	struct aux_region r;

	assert_int_equal(parse_row("2: 8+16 16 dmstats DMS_GROUP=g:2-3#- precise_timestamps histogram:10,20,30", &r), 0);
	assert_int_equal(r.id, 2);
	assert_int_equal(r.start, 8);
	assert_int_equal(r.len, 16);
	assert_int_equal(r.step, 16);
	assert_string_equal(r.program_id, "dmstats");
	assert_string_equal(r.aux_data, "DMS_GROUP=g:2-3#-");
	assert_true(r.precise);
	assert_non_null(r.histogram);
	assert_string_equal(r.histogram, "10,20,30");
	aux_region_free(&r);

	assert_int_equal(parse_row("4: 0+8 8 prog aux precise_timestamps", &r), 0);
	assert_string_equal(r.program_id, "prog");
	assert_string_equal(r.aux_data, "aux");
	assert_true(r.precise);
	assert_null(r.histogram);
	aux_region_free(&r);

	assert_int_equal(parse_row("5: 0+8 8 prog aux histogram:1000000", &r), 0);
	assert_string_equal(r.aux_data, "aux");
	assert_false(r.precise);
	assert_non_null(r.histogram);
	assert_string_equal(r.histogram, "1000000");
	aux_region_free(&r);

	/* empty program and aux with both trailing tokens */
	assert_int_equal(parse_row("6: 0+8 8 - - precise_timestamps histogram:1,2", &r), 0);
	assert_string_equal(r.program_id, "");
	assert_string_equal(r.aux_data, "");
	assert_true(r.precise);
	assert_string_equal(r.histogram, "1,2");
	aux_region_free(&r);
}

static void test_row_empty_program_aux(void **state)
{
	(void)state;
	struct aux_region r;

	assert_int_equal(parse_row("1: 100+50 50 - -", &r), 0);
	assert_int_equal(r.id, 1);
	assert_int_equal(r.start, 100);
	assert_int_equal(r.len, 50);
	assert_non_null(r.program_id);
	assert_non_null(r.aux_data);
	assert_string_equal(r.program_id, "");
	assert_string_equal(r.aux_data, "");
	assert_false(r.precise);
	assert_null(r.histogram);
	aux_region_free(&r);

	assert_int_equal(parse_row("1: 100+50 50 - something", &r), 0);
	assert_string_equal(r.program_id, "");
	assert_string_equal(r.aux_data, "something");
	aux_region_free(&r);

	assert_int_equal(parse_row("1: 100+50 50 someprog -", &r), 0);
	assert_string_equal(r.program_id, "someprog");
	assert_string_equal(r.aux_data, "");
	aux_region_free(&r);
}

static void test_row_aux_whitespace(void **state)
{
	(void)state;
	struct aux_region r;

	assert_int_equal(parse_row("7: 0+8 8 dmstats hello world\tand  tabs", &r), 0);
	assert_string_equal(r.program_id, "dmstats");
	assert_string_equal(r.aux_data, "hello world\tand  tabs");
	assert_false(r.precise);
	assert_null(r.histogram);
	aux_region_free(&r);

	assert_int_equal(parse_row("7: 0+8 8 dmstats DMS_GROUP=\"a b\":7#x y precise_timestamps histogram:5", &r), 0);
	assert_string_equal(r.aux_data, "DMS_GROUP=\"a b\":7#x y");
	assert_true(r.precise);
	assert_string_equal(r.histogram, "5");
	aux_region_free(&r);

	/* the option words only count when trailing */
	assert_int_equal(parse_row("7: 0+8 8 p a precise_timestamps b", &r), 0);
	assert_string_equal(r.aux_data, "a precise_timestamps b");
	assert_false(r.precise);
	assert_null(r.histogram);
	aux_region_free(&r);

	assert_int_equal(parse_row("7: 0+8 8 p a histogram:1,2 b", &r), 0);
	assert_string_equal(r.aux_data, "a histogram:1,2 b");
	assert_null(r.histogram);
	aux_region_free(&r);
}

static void test_row_respects_len(void **state)
{
	(void)state;
	struct aux_region r;
	const char *text = "9: 0+8 8 prog aux data\n10: 8+8 8 other stuff\n";
	size_t len = strchr(text, '\n') - text;

	memset(&r, 0, sizeof(r));
	assert_int_equal(aux_region_parse(text, len, &r), 0);
	assert_int_equal(r.id, 9);
	assert_string_equal(r.aux_data, "aux data");
	aux_region_free(&r);

	/* exact-size buffer, no terminating NUL: must not read past LEN */
	const char *row = "11: 16+8 8 prog x precise_timestamps histogram:10,20";
	len = strlen(row);
	char *buf = malloc(len);
	assert_non_null(buf);
	memcpy(buf, row, len);
	memset(&r, 0, sizeof(r));
	assert_int_equal(aux_region_parse(buf, len, &r), 0);
	assert_int_equal(r.id, 11);
	assert_int_equal(r.start, 16);
	assert_string_equal(r.aux_data, "x");
	assert_true(r.precise);
	assert_string_equal(r.histogram, "10,20");
	aux_region_free(&r);
	free(buf);

	row = "12: 24+8 8 - -";
	len = strlen(row);
	buf = malloc(len);
	assert_non_null(buf);
	memcpy(buf, row, len);
	memset(&r, 0, sizeof(r));
	assert_int_equal(aux_region_parse(buf, len, &r), 0);
	assert_int_equal(r.id, 12);
	assert_string_equal(r.aux_data, "");
	aux_region_free(&r);
	free(buf);

	/* truncated rows in exact-size buffers */
	expect_bad_row_mem("12: 24+8", 8);
	expect_bad_row_mem("12: 24", 6);
	expect_bad_row_mem("12", 2);
	expect_bad_row_mem("1", 0);
}

static void test_row_id_limits(void **state)
{
	(void)state;
	struct aux_region r;
	char *s;

	s = xasprintf("%llu: 0+8 8 - -", (unsigned long long)AUX_ID_MAX);
	assert_int_equal(parse_row(s, &r), 0);
	assert_int_equal(r.id, AUX_ID_MAX);
	aux_region_free(&r);
	free(s);

	s = xasprintf("%llu: 0+8 8 - -", (unsigned long long)AUX_ID_MAX + 1);
	expect_bad_row(s);
	free(s);
	expect_bad_row("4294967296: 0+8 8 - -");
	expect_bad_row("18446744073709551615: 0+8 8 - -");
}

static void test_row_malformed(void **state)
{
	(void)state;
	static const char *bad[] = {
		"",
		" ",
		"\t",
		"0",
		"0:",
		"0: ",
		"0: 0",
		"0: 0+",
		"0: 0+8",
		"0: 0+8 ",
		"0: 0+8 8",
		"0: 0+8 8 ",
		"0: 0+8 8 prog",
		"0 0+8 8 - -",          /* missing colon */
		"0; 0+8 8 - -",
		": 0+8 8 - -",          /* missing id */
		"x: 0+8 8 - -",         /* non-numeric */
		"0x1: 0+8 8 - -",
		"1a: 0+8 8 - -",
		"-1: 0+8 8 - -",        /* negative */
		"0: a+8 8 - -",
		"0: 0+b 8 - -",
		"0: 0+8 c - -",
		"0: -5+8 8 - -",
		"0: 0+-8 8 - -",
		"0: 0-8 8 - -",         /* wrong separator */
		"0: 08 8 - -",
		"0: +8 8 - -",
		"0: 0+ 8 - -",
		"0: 0+8x 8 - -",
		"0: 0+8 8x - -",
		"99999999999999999999999: 0+8 8 - -",   /* overflow */
		"0: 99999999999999999999999+8 8 - -",
		"0: 0+99999999999999999999999 8 - -",
		"0: 0+8 99999999999999999999999 - -",
		"0: 18446744073709551616+8 8 - -",      /* 2^64 */
		"0: 0+18446744073709551616 8 - -",
		"0: 0+8 18446744073709551616 - -",
		"18446744073709551616: 0+8 8 - -",
		"\x01\x02\x03\xff\xfe\xfd",
		"\xff: \xfe+\xfd \xfc \xfb \xfa",
		"::::::::",
		"++++ ++++",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad_row(bad[i]);

	/* NUL bytes inside the row */
	expect_bad_row_mem("0\0: 0+8 8 - -", 14);
	expect_bad_row_mem("\0\0\0\0\0\0\0\0", 8);
}

static void test_row_text_limits(void **state)
{
	(void)state;
	struct aux_region r;
	char *big, *s;

	/* a long but allowed aux (well under AUX_TEXT_MAX) */
	big = repeat('a', 1000);
	s = xasprintf("0: 0+8 8 p %s", big);
	assert_int_equal(parse_row(s, &r), 0);
	assert_string_equal(r.aux_data, big);
	aux_region_free(&r);
	free(s);
	free(big);

	/* AUX_DATA_MAX - 1 bytes of aux_data, AUX_TEXT_MAX - 1 of
	 * program_id, fit however the bound is counted */
	big = repeat('b', AUX_DATA_MAX - 1);
	s = xasprintf("0: 0+8 8 p %s", big);
	assert_int_equal(parse_row(s, &r), 0);
	assert_int_equal(strlen(r.aux_data), AUX_DATA_MAX - 1);
	aux_region_free(&r);
	free(s);
	free(big);
	big = repeat('b', AUX_TEXT_MAX - 1);
	s = xasprintf("0: 0+8 8 %s aux", big);
	assert_int_equal(parse_row(s, &r), 0);
	assert_int_equal(strlen(r.program_id), AUX_TEXT_MAX - 1);
	aux_region_free(&r);
	free(s);
	free(big);

	/* beyond the limits: aux, program_id, histogram */
	big = repeat('c', AUX_DATA_MAX + 1);
	s = xasprintf("0: 0+8 8 p %s", big);
	expect_bad_row(s);
	free(s);
	free(big);
	big = repeat('c', AUX_TEXT_MAX + 1);
	s = xasprintf("0: 0+8 8 %s aux", big);
	expect_bad_row(s);
	free(s);
	free(big);

	big = repeat('9', AUX_TEXT_MAX + 1);
	s = xasprintf("0: 0+8 8 p aux histogram:%s", big);
	expect_bad_row(s);
	free(s);
	free(big);

	/* very long line */
	big = repeat('d', AUX_DATA_MAX + 200000);
	s = xasprintf("0: 0+8 8 p %s precise_timestamps", big);
	expect_bad_row(s);
	free(s);
	free(big);

	/* very long number */
	big = repeat('1', 100000);
	s = xasprintf("%s: 0+8 8 - -", big);
	expect_bad_row(s);
	free(s);
	s = xasprintf("0: 0+%s 8 - -", big);
	expect_bad_row(s);
	free(s);
	free(big);
}

/* Random bytes and mutated rows: either rejected, or accepted with sane
 * fields; never a crash or a sanitizer report. */
static void test_row_fuzz(void **state)
{
	(void)state;
	static const char *seeds[] = {
		"0: 262664+800 800 dmstats DMS_GROUP=myb:0#-",
		"2: 8+16 16 dmstats DMS_GROUP=\"a b\":2-3#- precise_timestamps histogram:10,20,30",
		"1: 100+50 50 - -",
	};
	unsigned int seed = 12345;
	char buf[256];
	srand(seed);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len;
		if (iter % 2) {
			len = (size_t)(rand() % (int)sizeof(buf));
			for (size_t i = 0; i < len; i++)
				buf[i] = (char)(rand() & 0xff);
		} else {
			const char *sd = seeds[rand() % 3];
			len = strlen(sd);
			memcpy(buf, sd, len);
			int nmut = 1 + rand() % 4;
			for (int m = 0; m < nmut; m++) {
				int what = rand() % 3;
				size_t pos = len ? (size_t)rand() % len : 0;
				if (what == 0 && len)
					buf[pos] = (char)(rand() & 0xff);
				else if (what == 1 && len)
					len = pos; /* truncate */
				else if (len < sizeof(buf) - 1) {
					memmove(buf + pos + 1, buf + pos, len - pos);
					buf[pos] = "0123456789+: -#\"\\\t"[rand() % 18];
					len++;
				}
			}
		}
		char *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, buf, len);
		struct aux_region r;
		memset(&r, 0, sizeof(r));
		int rc = aux_region_parse(copy, len, &r);
		assert_true(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			assert_true(r.id <= AUX_ID_MAX);
			assert_non_null(r.program_id);
			assert_non_null(r.aux_data);
			assert_true(strlen(r.program_id) <= AUX_TEXT_MAX);
			assert_true(strlen(r.aux_data) <= AUX_DATA_MAX);
			if (r.histogram)
				assert_true(strlen(r.histogram) <= AUX_TEXT_MAX);
			aux_region_free(&r);
		}
		free(copy);
	}
}

/* ------------------------------------------------------------------ */
/* aux_list                                                           */

static void test_list_whole_response(void **state)
{
	(void)state;
	struct aux_list l;
	const char *text =
		"0: 262664+800 800 dmstats DMS_GROUP=myb:0-2#-\n"
		"1: 263464+800 800 dmstats -\n"
		"2: 300000+16 16 dmstats - precise_timestamps histogram:1,2,3\n"
		"5: 0+8 8 - -\n"
		"7: 8+8 8 other aux with  spaces\tand tab\n";

	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(aux_list_parse(text, &l), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.skipped, 0);
	assert_int_equal(l.regions[0].id, 0);
	assert_int_equal(l.regions[1].id, 1);
	assert_int_equal(l.regions[2].id, 2);
	assert_int_equal(l.regions[3].id, 5);
	assert_int_equal(l.regions[4].id, 7);
	assert_string_equal(l.regions[0].aux_data, "DMS_GROUP=myb:0-2#-");
	assert_int_equal(l.regions[0].start, 262664);
	assert_string_equal(l.regions[1].aux_data, "");
	assert_true(l.regions[2].precise);
	assert_string_equal(l.regions[2].histogram, "1,2,3");
	assert_string_equal(l.regions[3].program_id, "");
	assert_string_equal(l.regions[4].program_id, "other");
	assert_string_equal(l.regions[4].aux_data, "aux with  spaces\tand tab");
	aux_list_free(&l);
}

static void test_list_empty_and_no_newline(void **state)
{
	(void)state;
	struct aux_list l;

	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(aux_list_parse("", &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.skipped, 0);
	aux_list_free(&l);

	/* last row without a newline still counts */
	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(aux_list_parse("0: 0+8 8 - -\n1: 8+8 8 p a b", &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.skipped, 0);
	assert_string_equal(l.regions[1].aux_data, "a b");
	aux_list_free(&l);

	/* a blank line between rows does not lose the rows around it */
	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(aux_list_parse("0: 0+8 8 - -\n\n1: 8+8 8 - -\n", &l), 0);
	assert_int_equal(l.n, 2);
	assert_true(l.skipped <= 1);
	aux_list_free(&l);
}

/* Two lists are the same only field for field, and never with a row
 * skipped (what it held is unknown). */
static bool same_as(const char *a, const char *b)
{
	struct aux_list x, y;
	bool r;

	assert_int_equal(aux_list_parse(a, &x), 0);
	assert_int_equal(aux_list_parse(b, &y), 0);
	r = aux_list_same(&x, &y);
	assert_true(aux_list_same(&y, &x) == r);
	aux_list_free(&x);
	aux_list_free(&y);
	return r;
}

static void test_list_same(void **state)
{
#define BASE "0: 0+8 8 - -\n1: 8+16 16 dmstats a b\n"
	const char *base = BASE;

	(void)state;
	assert_true(same_as("", ""));
	assert_true(same_as(base, base));
	assert_true(same_as(base, "0: 0+8 8 - -\n1: 8+16 16 dmstats a b"));
	assert_false(same_as(base, "0: 0+8 8 - -\n"));
	assert_false(same_as(base, "0: 0+8 8 - -\n2: 8+16 16 dmstats a b\n"));
	assert_false(same_as(base, "0: 0+8 8 - -\n1: 9+16 16 dmstats a b\n"));
	assert_false(same_as(base, "0: 0+8 8 - -\n1: 8+17 16 dmstats a b\n"));
	assert_false(same_as(base, "0: 0+8 8 - -\n1: 8+16 8 dmstats a b\n"));
	assert_false(same_as(base, "0: 0+8 8 - -\n1: 8+16 16 other a b\n"));
	assert_false(same_as(base, "0: 0+8 8 - -\n1: 8+16 16 dmstats a c\n"));
	assert_false(same_as(base, "0: 0+8 8 - -\n1: 8+16 16 dmstats a b "
			     "precise_timestamps\n"));
	assert_false(same_as(base, "0: 0+8 8 - -\n1: 8+16 16 dmstats a b "
			     "histogram:10,20\n"));
	assert_true(same_as("0: 0+8 8 - - histogram:10,20\n",
			    "0: 0+8 8 - - histogram:10,20\n"));
	assert_false(same_as("0: 0+8 8 - - histogram:10,20\n",
			     "0: 0+8 8 - - histogram:10,30\n"));
	/* a row that does not parse: never the same */
	assert_false(same_as(BASE "garbage\n", BASE "garbage\n"));
#undef BASE
}

/* Each row is parsed on its own: text in a later row must not change how
 * an earlier row parses. */
static void test_list_rows_independent(void **state)
{
	(void)state;
	struct aux_list l;
	const char *text =
		"0: 0+8 8 - - histogram:1,2\n"
		"1: 8+8 8 - x,,y\n"
		"2: 16+8 8 - - precise_timestamps histogram:5\n"
		"3: 24+8 8 - a histogram:1,,2 b\n";
	assert_int_equal(aux_list_parse(text, &l), 0);
	assert_int_equal(l.skipped, 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.regions[0].histogram, "1,2");
	assert_string_equal(l.regions[1].aux_data, "x,,y");
	assert_null(l.regions[1].histogram);
	assert_string_equal(l.regions[2].histogram, "5");
	assert_string_equal(l.regions[3].aux_data, "a histogram:1,,2 b");
	aux_list_free(&l);
}

static void test_list_sorted(void **state)
{
	(void)state;
	struct aux_list l;
	const char *text =
		"9: 72+8 8 - -\n"
		"3: 24+8 8 - -\n"
		"0: 0+8 8 - -\n"
		"6: 48+8 8 - -\n";
	assert_int_equal(aux_list_parse(text, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.regions[0].id, 0);
	assert_int_equal(l.regions[1].id, 3);
	assert_int_equal(l.regions[2].id, 6);
	assert_int_equal(l.regions[3].id, 9);
	assert_int_equal(l.regions[2].start, 48);
	assert_int_equal(l.regions[3].start, 72);
	aux_list_free(&l);
}

static void test_list_skips_malformed(void **state)
{
	(void)state;
	struct aux_list l;
	char *big = repeat('z', AUX_DATA_MAX + 1);
	char *text = xasprintf(
		"0: 0+8 8 - -\n"
		"garbage line\n"
		"1 8+8 8 - -\n"                               /* no colon */
		"x: 8+8 8 - -\n"                              /* non-numeric */
		"99999999999999999999999: 8+8 8 - -\n"        /* overflow */
		"2147483648: 8+8 8 - -\n"                     /* > AUX_ID_MAX */
		"2: 16+8\n"                                   /* truncated */
		"3: 24+8 8 - %s\n"                            /* too long */
		"\x01\x02\xff\xfe\x80\n"                      /* binary */
		"4: 32+8 8 p DMS_GROUP=g:4#-\n"
		"5: 99999999999999999999999+8 8 - -\n"
		"2147483647: 40+8 8 - -\n",
		big);

	assert_int_equal(aux_list_parse(text, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.skipped, 9);
	assert_int_equal(l.regions[0].id, 0);
	assert_int_equal(l.regions[1].id, 4);
	assert_string_equal(l.regions[1].aux_data, "DMS_GROUP=g:4#-");
	assert_int_equal(l.regions[2].id, AUX_ID_MAX);
	assert_int_equal(l.regions[2].start, 40);
	assert_null(aux_list_find(&l, 3));
	assert_null(aux_list_find(&l, 2));
	aux_list_free(&l);
	free(text);
	free(big);

	/* nothing but garbage */
	assert_int_equal(aux_list_parse("a\nb\nc\n", &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.skipped, 3);
	aux_list_free(&l);
}

static void test_list_find(void **state)
{
	(void)state;
	struct aux_list l;
	assert_int_equal(aux_list_parse("1: 8+8 8 a x\n4: 32+8 8 b y\n10: 80+8 8 c z\n", &l), 0);
	assert_int_equal(l.n, 3);

	struct aux_region *r = aux_list_find(&l, 4);
	assert_non_null(r);
	assert_int_equal(r->id, 4);
	assert_int_equal(r->start, 32);
	assert_string_equal(r->program_id, "b");
	assert_string_equal(r->aux_data, "y");
	r = aux_list_find(&l, 10);
	assert_non_null(r);
	assert_string_equal(r->aux_data, "z");
	r = aux_list_find(&l, 1);
	assert_non_null(r);
	assert_string_equal(r->aux_data, "x");

	assert_null(aux_list_find(&l, 0));
	assert_null(aux_list_find(&l, 2));
	assert_null(aux_list_find(&l, 5));
	assert_null(aux_list_find(&l, 11));
	assert_null(aux_list_find(&l, UINT64_MAX));
	aux_list_free(&l);

	struct aux_list empty = {0};
	assert_null(aux_list_find(&empty, 0));
}

static void make_region(struct aux_region *r, uint64_t id, uint64_t start,
			const char *aux)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->start = start;
	r->len = 8;
	r->step = 8;
	r->program_id = strdup("dmfilemap");
	r->aux_data = strdup(aux);
	assert_non_null(r->program_id);
	assert_non_null(r->aux_data);
}

static void assert_list_ids(const struct aux_list *l, const uint64_t *ids,
			    size_t n)
{
	assert_int_equal(l->n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(l->regions[i].id, ids[i]);
}

/* The ids the kernel would give the next regions: the lowest free ones. */
static void test_list_free_ids(void **state)
{
	(void)state;
	struct aux_list l = {0};
	struct aux_region r;
	uint64_t out[6];
	const uint64_t have[] = {0, 1, 2, 4, 7, 8, 9, 11};

	aux_list_free_ids(&l, 3, out); /* empty: from 0 */
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 2);
	for (size_t i = 0; i < sizeof(have) / sizeof(have[0]); i++) {
		make_region(&r, have[i], have[i] * 8, "x");
		assert_int_equal(aux_list_insert(&l, &r), 0);
	}
	aux_list_free_ids(&l, 6, out);
	const uint64_t want[] = {3, 5, 6, 10, 12, 13};
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(out[i], want[i]);
	/* no gap: after the last */
	aux_list_free_ids(&l, 0, out);
	aux_list_remove(&l, 4);
	aux_list_remove(&l, 7);
	aux_list_remove(&l, 8);
	aux_list_remove(&l, 9);
	aux_list_remove(&l, 11);
	make_region(&r, 3, 24, "x");
	assert_int_equal(aux_list_insert(&l, &r), 0);
	aux_list_free_ids(&l, 2, out);
	assert_int_equal(out[0], 4);
	assert_int_equal(out[1], 5);
	aux_list_free(&l);
}

static void test_list_insert_remove(void **state)
{
	(void)state;
	struct aux_list l = {0};
	struct aux_region r;

	/* insert into an empty list, then before, after and between */
	make_region(&r, 5, 40, "five");
	assert_int_equal(aux_list_insert(&l, &r), 0);
	make_region(&r, 1, 8, "one");
	assert_int_equal(aux_list_insert(&l, &r), 0);
	make_region(&r, 9, 72, "nine");
	assert_int_equal(aux_list_insert(&l, &r), 0);
	make_region(&r, 3, 24, "three");
	r.histogram = strdup("1,2");
	r.precise = true;
	assert_int_equal(aux_list_insert(&l, &r), 0);
	make_region(&r, 0, 0, "zero");
	assert_int_equal(aux_list_insert(&l, &r), 0);
	{
		const uint64_t ids[] = {0, 1, 3, 5, 9};
		assert_list_ids(&l, ids, 5);
	}
	struct aux_region *f = aux_list_find(&l, 3);
	assert_non_null(f);
	assert_string_equal(f->aux_data, "three");
	assert_string_equal(f->histogram, "1,2");
	assert_true(f->precise);
	assert_int_equal(f->start, 24);
	f = aux_list_find(&l, 9);
	assert_non_null(f);
	assert_string_equal(f->aux_data, "nine");

	/* remove middle, first, last, absent */
	aux_list_remove(&l, 3);
	{
		const uint64_t ids[] = {0, 1, 5, 9};
		assert_list_ids(&l, ids, 4);
	}
	assert_null(aux_list_find(&l, 3));
	aux_list_remove(&l, 0);
	aux_list_remove(&l, 9);
	aux_list_remove(&l, 42);
	aux_list_remove(&l, 4);
	{
		const uint64_t ids[] = {1, 5};
		assert_list_ids(&l, ids, 2);
	}
	assert_string_equal(aux_list_find(&l, 1)->aux_data, "one");
	assert_string_equal(aux_list_find(&l, 5)->aux_data, "five");

	aux_list_remove(&l, 1);
	aux_list_remove(&l, 5);
	assert_int_equal(l.n, 0);
	assert_null(aux_list_find(&l, 5));
	aux_list_remove(&l, 5); /* on an empty list */

	/* and the list is still usable */
	make_region(&r, 7, 56, "seven");
	assert_int_equal(aux_list_insert(&l, &r), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(aux_list_find(&l, 7)->aux_data, "seven");
	aux_list_free(&l);
}

static void test_list_insert_into_parsed(void **state)
{
	(void)state;
	struct aux_list l;
	struct aux_region r;
	assert_int_equal(aux_list_parse("2: 16+8 8 - -\n6: 48+8 8 - -\n", &l), 0);
	for (uint64_t id = 0; id < 10; id++) {
		if (id == 2 || id == 6)
			continue;
		make_region(&r, id, id * 8, "new");
		assert_int_equal(aux_list_insert(&l, &r), 0);
	}
	assert_int_equal(l.n, 10);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.regions[i].id, i);
		assert_int_equal(l.regions[i].start, i * 8);
	}
	assert_string_equal(aux_list_find(&l, 2)->aux_data, "");
	assert_string_equal(aux_list_find(&l, 3)->aux_data, "new");
	aux_list_free(&l);
}

/* ------------------------------------------------------------------ */
/* aux_members_parse / aux_members_format                             */

static int members_parse(const char *s, uint64_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	return aux_members_parse(s, strlen(s), ids, n);
}

static void test_members_parse(void **state)
{
	(void)state;
	uint64_t *ids;
	size_t n;

	assert_int_equal(members_parse("0-3,5", &ids, &n), 0);
	{
		const uint64_t want[] = {0, 1, 2, 3, 5};
		assert_ids(ids, n, want, 5);
	}
	free(ids);

	assert_int_equal(members_parse("7", &ids, &n), 0);
	{
		const uint64_t want[] = {7};
		assert_ids(ids, n, want, 1);
	}
	free(ids);

	/* unsorted and overlapping input comes back sorted and unique */
	assert_int_equal(members_parse("9,0-2,1,5,2-4,9", &ids, &n), 0);
	{
		const uint64_t want[] = {0, 1, 2, 3, 4, 5, 9};
		assert_ids(ids, n, want, 7);
	}
	free(ids);

	assert_int_equal(members_parse("4-4", &ids, &n), 0);
	{
		const uint64_t want[] = {4};
		assert_ids(ids, n, want, 1);
	}
	free(ids);

	assert_int_equal(members_parse("2147483647", &ids, &n), 0);
	{
		const uint64_t want[] = {AUX_ID_MAX};
		assert_ids(ids, n, want, 1);
	}
	free(ids);

	/* LEN is honoured: the text after it is not part of the list */
	const char *s = "0-3,5#user";
	ids = NULL;
	n = 0;
	assert_int_equal(aux_members_parse(s, 5, &ids, &n), 0);
	{
		const uint64_t want[] = {0, 1, 2, 3, 5};
		assert_ids(ids, n, want, 5);
	}
	free(ids);

	/* exact-size buffer without NUL */
	char *buf = malloc(6);
	assert_non_null(buf);
	memcpy(buf, "10-12,", 6);
	ids = NULL;
	n = 0;
	assert_int_equal(aux_members_parse(buf, 5, &ids, &n), 0);
	{
		const uint64_t want[] = {10, 11, 12};
		assert_ids(ids, n, want, 3);
	}
	free(ids);
	free(buf);
}

static void test_members_parse_malformed(void **state)
{
	(void)state;
	static const char *bad[] = {
		"3-1", "1,,2", "a-b", "a", "1,a", ",1", "1,", "-3", "3-", "1-2-3",
		"1--3", "1 2", "0x10", "+1", "1.5",
		"99999999999999999999999",
		"0-99999999999999999999999",
		"18446744073709551616",
		"2147483648",            /* > AUX_ID_MAX */
		"0,4294967296",
		"\xff", "1\x01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t *ids = NULL;
		size_t n = 0;
		int rc = members_parse(bad[i], &ids, &n);
		if (rc != -EINVAL)
			print_error("member list unexpectedly accepted: \"%s\"\n", bad[i]);
		assert_int_equal(rc, -EINVAL);
	}
}

static void test_members_format(void **state)
{
	(void)state;
	char *s;
	{
		const uint64_t ids[] = {0, 1, 2, 3, 5, 7, 8, 9};
		s = aux_members_format(ids, 8);
		assert_non_null(s);
		assert_string_equal(s, "0-3,5,7-9");
		free(s);
	}
	{
		const uint64_t ids[] = {5};
		s = aux_members_format(ids, 1);
		assert_string_equal(s, "5");
		free(s);
	}
	{
		const uint64_t ids[] = {0, 2, 4};
		s = aux_members_format(ids, 3);
		assert_string_equal(s, "0,2,4");
		free(s);
	}
	{
		const uint64_t ids[] = {10, 11, 12, 13, 100};
		s = aux_members_format(ids, 5);
		assert_string_equal(s, "10-13,100");
		free(s);
	}
	{
		const uint64_t ids[] = {1, 3, 4, 5, 6, AUX_ID_MAX};
		s = aux_members_format(ids, 6);
		assert_string_equal(s, "1,3-6,2147483647");
		free(s);
	}
	{
		/* a pair: either notation is fine, it must parse back */
		const uint64_t ids[] = {6, 7};
		s = aux_members_format(ids, 2);
		assert_non_null(s);
		assert_true(strcmp(s, "6-7") == 0 || strcmp(s, "6,7") == 0);
		free(s);
	}
}

static void test_members_round_trip(void **state)
{
	(void)state;
	srand(4242);
	for (int iter = 0; iter < 500; iter++) {
		uint64_t in[64];
		size_t n = 0;
		uint64_t v = (uint64_t)(rand() % 5);
		size_t want = 1 + (size_t)(rand() % 64);
		while (n < want) {
			in[n++] = v;
			v += 1 + (uint64_t)(rand() % 3 == 0 ? rand() % 5 : 0);
		}
		char *s = aux_members_format(in, n);
		assert_non_null(s);
		uint64_t *out = NULL;
		size_t nout = 0;
		assert_int_equal(aux_members_parse(s, strlen(s), &out, &nout), 0);
		assert_ids(out, nout, in, n);
		free(out);
		free(s);
	}
}

/* ------------------------------------------------------------------ */
/* aux_group_parse                                                    */

static void test_group_parse_plain(void **state)
{
	(void)state;
	struct aux_group g;

	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("DMS_GROUP=myb:0#-", &g), 1);
	assert_string_equal(g.alias, "myb");
	assert_false(g.quoted);
	{
		const uint64_t want[] = {0};
		assert_ids(g.members, g.n, want, 1);
	}
	assert_string_equal(g.user_aux, "");
	assert_string_equal(g.prefix, "");
	aux_group_free(&g);

	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("DMS_GROUP=alias:0-3,5#userdata", &g), 1);
	assert_string_equal(g.alias, "alias");
	assert_false(g.quoted);
	{
		const uint64_t want[] = {0, 1, 2, 3, 5};
		assert_ids(g.members, g.n, want, 5);
	}
	assert_string_equal(g.user_aux, "userdata");
	assert_string_equal(g.prefix, "");
	aux_group_free(&g);

	/* user aux may contain spaces, tabs and more '#' and ':' */
	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("DMS_GROUP=vol:4-6#some user\tdata #2: x", &g), 1);
	assert_string_equal(g.alias, "vol");
	{
		const uint64_t want[] = {4, 5, 6};
		assert_ids(g.members, g.n, want, 3);
	}
	assert_string_equal(g.user_aux, "some user\tdata #2: x");
	aux_group_free(&g);
}

static void test_group_parse_quoted(void **state)
{
	(void)state;
	struct aux_group g;

	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("DMS_GROUP=\"alias\":0-3#-", &g), 1);
	assert_string_equal(g.alias, "alias");
	assert_true(g.quoted);
	{
		const uint64_t want[] = {0, 1, 2, 3};
		assert_ids(g.members, g.n, want, 4);
	}
	assert_string_equal(g.user_aux, "");
	assert_string_equal(g.prefix, "");
	aux_group_free(&g);

	memset(&g, 0, sizeof(g));
	/* as LVM2 reads it: the bytes up to the first '":', none escaped */
	assert_int_equal(aux_group_parse(
		"DMS_GROUP=\"my group: #1 \"x\\\tz\":0-3,5#user data", &g), 1);
	assert_string_equal(g.alias, "my group: #1 \"x\\\tz");
	assert_true(g.quoted);
	{
		const uint64_t want[] = {0, 1, 2, 3, 5};
		assert_ids(g.members, g.n, want, 5);
	}
	assert_string_equal(g.user_aux, "user data");
	aux_group_free(&g);

	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("DMS_GROUP=\"x:1#2\":7,9#-", &g), 1);
	assert_string_equal(g.alias, "x:1#2");
	{
		const uint64_t want[] = {7, 9};
		assert_ids(g.members, g.n, want, 2);
	}
	aux_group_free(&g);

	/* empty quoted alias */
	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("DMS_GROUP=\"\":2#-", &g), 1);
	assert_string_equal(g.alias, "");
	assert_true(g.quoted);
	{
		const uint64_t want[] = {2};
		assert_ids(g.members, g.n, want, 1);
	}
	aux_group_free(&g);
}

static void test_group_parse_no_alias_prefix(void **state)
{
	(void)state;
	struct aux_group g;

	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("DMS_GROUP=:3-4#-", &g), 1);
	assert_non_null(g.alias);
	assert_string_equal(g.alias, "");
	{
		const uint64_t want[] = {3, 4};
		assert_ids(g.members, g.n, want, 2);
	}
	aux_group_free(&g);

	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("some text DMS_GROUP=grp:1-2#tail", &g), 1);
	assert_string_equal(g.prefix, "some text ");
	assert_string_equal(g.alias, "grp");
	assert_false(g.quoted);
	{
		const uint64_t want[] = {1, 2};
		assert_ids(g.members, g.n, want, 2);
	}
	assert_string_equal(g.user_aux, "tail");
	aux_group_free(&g);

	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("x\ty DMS_GROUP=\"q q\":8#-", &g), 1);
	assert_string_equal(g.prefix, "x\ty ");
	assert_string_equal(g.alias, "q q");
	assert_true(g.quoted);
	aux_group_free(&g);

	/* user aux absent or empty after '#' */
	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("DMS_GROUP=a:0-1#", &g), 1);
	assert_string_equal(g.user_aux, "");
	{
		const uint64_t want[] = {0, 1};
		assert_ids(g.members, g.n, want, 2);
	}
	aux_group_free(&g);

	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("DMS_GROUP=a:0-1", &g), 1);
	assert_string_equal(g.alias, "a");
	assert_string_equal(g.user_aux, "");
	{
		const uint64_t want[] = {0, 1};
		assert_ids(g.members, g.n, want, 2);
	}
	aux_group_free(&g);
}

static void test_group_parse_absent(void **state)
{
	(void)state;
	static const char *none[] = {
		"", "-", "hello", "DMS_GROUP", "dms_group=a:0#-", "DMS_GRP=a:0#-",
		"some user data with spaces",
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		struct aux_group g;
		memset(&g, 0, sizeof(g));
		int rc = aux_group_parse(none[i], &g);
		if (rc != 0)
			print_error("\"%s\": expected 0, got %d\n", none[i], rc);
		assert_int_equal(rc, 0);
	}
}

static void test_group_parse_malformed(void **state)
{
	(void)state;
	static const char *bad[] = {
		"DMS_GROUP=",
		"DMS_GROUP=abc",                 /* no colon */
		"DMS_GROUP=abc#-",
		"DMS_GROUP=a:",                   /* no members */
		"DMS_GROUP=a:#-",
		"DMS_GROUP=a:3-1#-",
		"DMS_GROUP=a:1,,2#-",
		"DMS_GROUP=a:a-b#-",
		"DMS_GROUP=a:1,#-",
		"DMS_GROUP=a:,1#-",
		"DMS_GROUP=a:-1#-",
		"DMS_GROUP=a:x#-",
		"DMS_GROUP=a:99999999999999999999999#-",
		"DMS_GROUP=a:0-99999999999999999999999#-",
		"DMS_GROUP=a:18446744073709551616#-",
		"DMS_GROUP=a:2147483648#-",       /* > AUX_ID_MAX */
		"pre DMS_GROUP=a:3-1#-",
		"DMS_GROUP=\"abc",
		"DMS_GROUP=\"abc\"0#-",           /* no colon after quote */
		"DMS_GROUP=\"abc\"#-",
		"DMS_GROUP=\"abc\":#-",
		"DMS_GROUP=\"abc\":3-1#-",
		"DMS_GROUP=\"abc\":1,,2#-",
		"DMS_GROUP=\"a\":99999999999999999999999#-",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct aux_group g;
		memset(&g, 0, sizeof(g));
		int rc = aux_group_parse(bad[i], &g);
		if (rc != -EINVAL)
			print_error("\"%s\": expected -1, got %d\n", bad[i], rc);
		assert_int_equal(rc, -EINVAL);
	}
}

/* An unterminated quoted alias is either rejected or, at most, read as a
 * plain alias that happens to start with '"' (the Debian 12 form does not
 * quote); it must never yield anything else. */
static void test_group_parse_unterminated_quote(void **state)
{
	(void)state;
	static const struct { const char *in, *plain_alias; } cases[] = {
		{"DMS_GROUP=\"abc:0#-", "\"abc"},
		{"DMS_GROUP=\"abc\\:0#-", "\"abc\\"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aux_group g;
		memset(&g, 0, sizeof(g));
		int rc = aux_group_parse(cases[i].in, &g);
		if (rc == 1) {
			assert_string_equal(g.alias, cases[i].plain_alias);
			assert_false(g.quoted);
			assert_int_equal(g.n, 1);
			assert_int_equal(g.members[0], 0);
			aux_group_free(&g);
		} else {
			assert_int_equal(rc, -EINVAL);
		}
	}
}

/* The group id is the lowest member; a descriptor listing members in any
 * order yields them sorted, so members[0] is the group id.  Whether it
 * equals the region holding the descriptor is the caller's check. */
static void test_group_parse_lowest_member(void **state)
{
	(void)state;
	struct aux_group g;
	memset(&g, 0, sizeof(g));
	assert_int_equal(aux_group_parse("DMS_GROUP=g:12,4-5,9#-", &g), 1);
	{
		const uint64_t want[] = {4, 5, 9, 12};
		assert_ids(g.members, g.n, want, 4);
	}
	aux_group_free(&g);
}

/* Random descriptor-like text: never crashes; a 1 has sane output. */
static void test_group_parse_fuzz(void **state)
{
	(void)state;
	static const char *tok[] = {
		"-", ",", ":", "#", "\"", "\\", " ", "\t", "a", "DMS_GROUP=", "\\\"",
	};
	const size_t ntok = sizeof(tok) / sizeof(tok[0]);
	srand(777);
	for (int iter = 0; iter < 20000; iter++) {
		char buf[512] = "";
		size_t len = 0;
		bool last_num = false;
		if (rand() % 4)
			len += (size_t)snprintf(buf, sizeof(buf), "DMS_GROUP=");
		int ntoks = rand() % 16;
		for (int t = 0; t < ntoks; t++) {
			if (!last_num && rand() % 3 == 0) {
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%d", rand() % 40);
				last_num = true;
			} else {
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s", tok[(size_t)rand() % ntok]);
				last_num = false;
			}
		}
		struct aux_group g;
		memset(&g, 0, sizeof(g));
		int rc = aux_group_parse(buf, &g);
		assert_true(rc == -EINVAL || rc == 0 || rc == 1);
		if (rc == 1) {
			assert_non_null(g.alias);
			assert_non_null(g.user_aux);
			assert_non_null(g.prefix);
			assert_true(g.n >= 1);
			assert_non_null(g.members);
			for (size_t i = 1; i < g.n; i++)
				assert_true(g.members[i - 1] < g.members[i]);
			aux_group_free(&g);
		}
	}
}

/* ------------------------------------------------------------------ */
/* aux_group_format                                                   */

static void test_group_format_plain(void **state)
{
	(void)state;
	uint64_t m[] = {0, 1, 2, 3, 5};
	struct aux_group g = {
		.alias = "myb", .quoted = false, .members = m, .n = 5,
		.user_aux = "", .prefix = "",
	};
	char *s = aux_group_format(&g);
	assert_non_null(s);
	assert_string_equal(s, "DMS_GROUP=myb:0-3,5#-");
	free(s);

	g.user_aux = "userdata";
	s = aux_group_format(&g);
	assert_string_equal(s, "DMS_GROUP=myb:0-3,5#userdata");
	free(s);

	g.user_aux = "";
	g.prefix = "pre ";
	g.n = 1;
	s = aux_group_format(&g);
	assert_string_equal(s, "pre DMS_GROUP=myb:0#-");
	free(s);

	/* no alias */
	g.alias = "";
	g.prefix = "";
	g.n = 2;
	s = aux_group_format(&g);
	assert_string_equal(s, "DMS_GROUP=:0-1#-");
	free(s);
}

static void test_group_format_quoted(void **state)
{
	(void)state;
	uint64_t m[] = {4};
	struct aux_group g = {
		.alias = "myb", .quoted = true, .members = m, .n = 1,
		.user_aux = "", .prefix = "",
	};
	char *s = aux_group_format(&g);
	assert_non_null(s);
	assert_string_equal(s, "DMS_GROUP=\"myb\":4#-");
	free(s);

	/* an alias with ':' cannot be written plain: quoted even if !quoted */
	g.alias = "a:b";
	g.quoted = false;
	s = aux_group_format(&g);
	assert_string_equal(s, "DMS_GROUP=\"a:b\":4#-");
	free(s);

	/* nothing is escaped: no dmstats unescapes an alias */
	g.alias = "say \"hi\\\"";
	s = aux_group_format(&g);
	assert_non_null(s);
	assert_string_equal(s, "DMS_GROUP=\"say \"hi\\\"\":4#-");
	free(s);
	/* a tab needs no quotes: Debian 12's dmstats reads it plain */
	g.alias = "a\tb";
	s = aux_group_format(&g);
	assert_string_equal(s, "DMS_GROUP=a\tb:4#-");
	free(s);

	/* an alias starting with a quote must be quoted too */
	g.alias = "\"x";
	s = aux_group_format(&g);
	assert_non_null(s);
	assert_string_equal(s, "DMS_GROUP=\"\"x\":4#-");
	free(s);
}

static void group_round_trip(const char *alias, bool quoted, const char *user,
			     const char *prefix, const uint64_t *m, size_t n)
{
	struct aux_group g = {
		.alias = (char *)alias, .quoted = quoted, .members = (uint64_t *)m,
		.n = n, .user_aux = (char *)user, .prefix = (char *)prefix,
	};
	char *s = aux_group_format(&g);
	assert_non_null(s);
	struct aux_group p;
	memset(&p, 0, sizeof(p));
	int rc = aux_group_parse(s, &p);
	if (rc != 1)
		print_error("formatted \"%s\" does not parse back (%d)\n", s, rc);
	assert_int_equal(rc, 1);
	if (strcmp(p.alias, alias) != 0)
		print_error("alias \"%s\" -> \"%s\" -> \"%s\"\n", alias, s, p.alias);
	assert_string_equal(p.alias, alias);
	assert_string_equal(p.user_aux, user);
	assert_string_equal(p.prefix, prefix);
	assert_ids(p.members, p.n, m, n);
	if (quoted)
		assert_true(p.quoted);
	/* a plain alias written with quoted=false stays unquoted */
	if (!quoted && strpbrk(alias, ":#\"\\ \t") == NULL && alias[0] != '\0') {
		assert_false(p.quoted);
		assert_null(strchr(s, '"'));
	}
	aux_group_free(&p);
	free(s);
}

static void test_group_round_trip(void **state)
{
	(void)state;
	static const char *aliases[] = {
		"myb", "vol-1_data.img", "", "with space", "tab\there", "co:lon",
		"ha#sh", "qu\"ote", "\"leading", "trailing\"", "back\\slash",
		"\\", "\\\"", "\"", "end\\", "a:b#c \"d\" \\e\tf", "::::", "# #",
		"x\\\"y:0#-", "DMS_GROUP=inner:1#-", "caf\xc3\xa9",
	};
	static const char *users[] = {"", "userdata", "a b\tc", "x#y:z", "\"q\""};
	static const char *prefixes[] = {"", "pre ", "a\tb "};
	const uint64_t m1[] = {0};
	const uint64_t m2[] = {0, 1, 2, 3, 5, 7, 8, 9};
	const uint64_t m3[] = {3, 100, 101, AUX_ID_MAX};

	for (size_t a = 0; a < sizeof(aliases) / sizeof(aliases[0]); a++) {
		for (int q = 0; q < 2; q++) {
			group_round_trip(aliases[a], q, "", "", m1, 1);
			group_round_trip(aliases[a], q, "userdata", "", m2, 8);
			group_round_trip(aliases[a], q, "", "pre ", m3, 4);
		}
	}
	for (size_t u = 0; u < sizeof(users) / sizeof(users[0]); u++)
		for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
			group_round_trip("g h", false, users[u], prefixes[p], m2, 8);
}

/* A descriptor longer than AUX_TEXT_MAX (members whose ids are not
 * contiguous) survives a trip through a @stats_list row. */
static void test_group_long_descriptor(void **state)
{
	(void)state;
	enum { N = 3000 };
	uint64_t members[N];
	struct aux_group g = { .alias = (char *)"big", .user_aux = (char *)"",
			       .prefix = (char *)"" }, back;
	struct aux_list l;
	char *text, *row;

	for (size_t i = 0; i < N; i++)
		members[i] = 2 * i + 1;
	g.members = members;
	g.n = N;
	text = aux_group_format(&g);
	assert_non_null(text);
	assert_true(strlen(text) > AUX_TEXT_MAX);
	row = xasprintf("1: 0+8 8 dmstats %s\n3: 8+8 8 dmstats -\n", text);
	assert_int_equal(aux_list_parse(row, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.skipped, 0);
	assert_int_equal(aux_group_parse(l.regions[0].aux_data, &back), 1);
	assert_int_equal(back.n, N);
	assert_memory_equal(back.members, members, sizeof(members));
	assert_string_equal(back.alias, "big");
	aux_group_free(&back);
	aux_list_free(&l);
	free(row);
	free(text);
}

/* Aliases that need it get the quoted form even when !quoted. */
static void test_group_format_needs_quotes(void **state)
{
	(void)state;
	static const char *aliases[] = {"co:lon", "\"lead", "a:b c"};
	const uint64_t m[] = {1};
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		struct aux_group g = {
			.alias = (char *)aliases[i], .quoted = false,
			.members = (uint64_t *)m, .n = 1, .user_aux = "", .prefix = "",
		};
		char *s = aux_group_format(&g);
		assert_non_null(s);
		assert_int_equal(strncmp(s, "DMS_GROUP=\"", 11), 0);
		struct aux_group p;
		memset(&p, 0, sizeof(p));
		assert_int_equal(aux_group_parse(s, &p), 1);
		assert_true(p.quoted);
		assert_string_equal(p.alias, aliases[i]);
		aux_group_free(&p);
		free(s);
	}
}

/* ------------------------------------------------------------------ */
/* aux_escape_arg                                                     */

static void expect_escape(const char *in, const char *want)
{
	char *s = aux_escape_arg(in);
	assert_non_null(s);
	if (strcmp(s, want) != 0)
		print_error("escape(\"%s\") = \"%s\", want \"%s\"\n", in, s, want);
	assert_string_equal(s, want);
	free(s);
}

static void test_escape_arg(void **state)
{
	(void)state;
	expect_escape("", "-");
	expect_escape("abc", "abc");
	expect_escape("a b", "a\\ b");
	expect_escape("a\tb", "a\\\tb");
	expect_escape("a\nb", "a\\\nb");
	expect_escape("a\\b", "a\\\\b");
	expect_escape("\\", "\\\\");
	expect_escape(" ", "\\ ");
	expect_escape("  x  ", "\\ \\ x\\ \\ ");
	expect_escape("a\"b:c#d", "a\"b:c#d");
	expect_escape("DMS_GROUP=\"a b\":0-3#-", "DMS_GROUP=\"a\\ b\":0-3#-");
	expect_escape("DMS_GROUP=\"a \\\"b\\\"\":0#x y",
		      "DMS_GROUP=\"a\\ \\\\\"b\\\\\"\":0#x\\ y");
	expect_escape("a\rb\vc\fd", "a\\\rb\\\vc\\\fd");
	expect_escape("caf\xc3\xa9", "caf\xc3\xa9");

	char *big = repeat('x', 10000);
	char *s = aux_escape_arg(big);
	assert_string_equal(s, big);
	free(s);
	free(big);
	big = repeat(' ', 5000);
	s = aux_escape_arg(big);
	assert_int_equal(strlen(s), 10000);
	for (size_t i = 0; i < 10000; i += 2) {
		assert_int_equal(s[i], '\\');
		assert_int_equal(s[i + 1], ' ');
	}
	free(s);
	free(big);
}

/* The kernel splits dm message arguments with its own isspace(), whose
 * table (lib/ctype.c) also marks byte 0xA0 as a space; an unescaped 0xA0
 * (e.g. the second byte of UTF-8 "à", C3 A0) would split the argument. */
static void test_escape_arg_kernel_space_0xa0(void **state)
{
	(void)state;
	expect_escape("\xc3\xa0", "\xc3\\\xa0");
}

/* Unescaping with the kernel's rules gives back the original text as a
 * single argument. */
static void test_escape_arg_kernel_split(void **state)
{
	(void)state;
	static const char *in[] = {
		"plain", "a b", "\t\tx", "x\\y", "\\ ", "DMS_GROUP=\"a \\\"b\":0#-",
		"trail ", "trail\\",
	};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *e = aux_escape_arg(in[i]);
		assert_non_null(e);
		/* dm_split_args(): backslash quotes the next char, unquoted
		 * whitespace ends the argument */
		char out[256];
		size_t o = 0;
		const char *p = e;
		while (*p) {
			if (*p == '\\' && p[1]) {
				out[o++] = p[1];
				p += 2;
				continue;
			}
			if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
			    *p == '\v' || *p == '\f')
				break;
			out[o++] = *p++;
		}
		out[o] = '\0';
		assert_int_equal(*p, '\0'); /* one argument only */
		assert_string_equal(out, in[i]);
		free(e);
	}
}

/* ------------------------------------------------------------------ */
/* aux_alias_valid                                                    */

static void test_alias_valid(void **state)
{
	(void)state;
	assert_true(aux_alias_valid("myb"));
	assert_true(aux_alias_valid("a\tb"));
	assert_true(aux_alias_valid("with space"));
	assert_true(aux_alias_valid("a#c\"d\\e"));
	assert_false(aux_alias_valid("a:b")); /* no dmstats reads it back */
	assert_true(aux_alias_valid("caf\xc3\xa9"));

	assert_false(aux_alias_valid("a\nb"));
	assert_false(aux_alias_valid("\n"));
	assert_false(aux_alias_valid("trailing\n"));
	assert_false(aux_alias_valid("a\rb"));
	assert_false(aux_alias_valid("a\x01" "b"));
	assert_false(aux_alias_valid("\x1b[31m"));
	assert_false(aux_alias_valid("a\x7f"));
	assert_false(aux_alias_valid("\x1f"));
	assert_false(aux_alias_valid("a\vb"));
	assert_false(aux_alias_valid("a\fb"));

	for (int c = 1; c < 0x20; c++) {
		char s[4] = {'x', (char)c, 'y', 0};
		if (c == '\t')
			assert_true(aux_alias_valid(s));
		else
			assert_false(aux_alias_valid(s));
	}
}

static void test_alias_length(void **state)
{
	(void)state;
	char *s = repeat('a', DMF_ALIAS_MAX);
	assert_true(aux_alias_valid(s));
	free(s);
	s = repeat('a', DMF_ALIAS_MAX + 1);
	assert_false(aux_alias_valid(s));
	free(s);
	s = repeat('a', 100000);
	assert_false(aux_alias_valid(s));
	free(s);
	/* bytes, not characters: 64 two-byte characters = 128 bytes */
	s = malloc(2 * 65 + 1);
	assert_non_null(s);
	for (int i = 0; i < 64; i++) {
		s[2 * i] = '\xc3';
		s[2 * i + 1] = '\xa9';
	}
	s[128] = '\0';
	assert_true(aux_alias_valid(s));
	s[128] = '\xc3';
	s[129] = '\xa9';
	s[130] = '\0';
	assert_false(aux_alias_valid(s));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_normal),
		cmocka_unit_test(test_row_precise_histogram),
		cmocka_unit_test(test_row_empty_program_aux),
		cmocka_unit_test(test_row_aux_whitespace),
		cmocka_unit_test(test_row_respects_len),
		cmocka_unit_test(test_row_id_limits),
		cmocka_unit_test(test_row_malformed),
		cmocka_unit_test(test_row_text_limits),
		cmocka_unit_test(test_row_fuzz),
		cmocka_unit_test(test_list_whole_response),
		cmocka_unit_test(test_list_empty_and_no_newline),
		cmocka_unit_test(test_list_rows_independent),
		cmocka_unit_test(test_list_sorted),
		cmocka_unit_test(test_list_skips_malformed),
		cmocka_unit_test(test_list_find),
		cmocka_unit_test(test_list_insert_remove),
		cmocka_unit_test(test_list_free_ids),
		cmocka_unit_test(test_list_insert_into_parsed),
		cmocka_unit_test(test_members_parse),
		cmocka_unit_test(test_members_parse_malformed),
		cmocka_unit_test(test_members_format),
		cmocka_unit_test(test_members_round_trip),
		cmocka_unit_test(test_group_parse_plain),
		cmocka_unit_test(test_group_parse_quoted),
		cmocka_unit_test(test_group_parse_no_alias_prefix),
		cmocka_unit_test(test_group_parse_absent),
		cmocka_unit_test(test_group_parse_malformed),
		cmocka_unit_test(test_group_parse_unterminated_quote),
		cmocka_unit_test(test_group_parse_lowest_member),
		cmocka_unit_test(test_group_parse_fuzz),
		cmocka_unit_test(test_group_format_plain),
		cmocka_unit_test(test_group_format_quoted),
		cmocka_unit_test(test_group_round_trip),
		cmocka_unit_test(test_group_long_descriptor),
		cmocka_unit_test(test_group_format_needs_quotes),
		cmocka_unit_test(test_escape_arg),
		cmocka_unit_test(test_escape_arg_kernel_space_0xa0),
		cmocka_unit_test(test_escape_arg_kernel_split),
		cmocka_unit_test(test_alias_valid),
		cmocka_unit_test(test_alias_length),
		cmocka_unit_test(test_list_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
