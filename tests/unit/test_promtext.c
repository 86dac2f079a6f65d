/* test_promtext.c: unit tests for daemon/front/promtext.h (Prometheus's text
 * exposition format: families, samples, escaped label values).
 * Written against the header's specification and the exposition format's
 * rules, not the implementation: a label value escapes backslash, double
 * quote and line feed; valid UTF-8 (every code point U+0001..U+10FFFF but
 * the surrogates, in its shortest form) is kept byte for byte; every byte
 * that is not part of a valid sequence is spelt \\xHH (an escaped
 * backslash, then x and two hex digits). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/promtext.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */

/* Print S with every byte that is not printable ASCII as \xHH. */
static void dump(const char *what, const char *s, size_t n)
{
	print_error("%s (%zu bytes): \"", what, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			print_error("%c", c);
		else
			print_error("<%02x>", c);
	}
	print_error("\"\n");
}

/* T's text is exactly WANT (WANT_LEN bytes), NUL-terminated. */
static void expect_text_n(const struct promtext *t, const char *want,
			  size_t want_len)
{
	assert_false(t->failed);
	if (t->len != want_len || (want_len && memcmp(t->buf, want, want_len))) {
		dump("got ", t->buf ? t->buf : "", t->len);
		dump("want", want, want_len);
		fail();
	}
	if (want_len)
		assert_int_equal(t->buf[t->len], '\0');
}

static void expect_text(const struct promtext *t, const char *want)
{
	expect_text_n(t, want, strlen(want));
}

/* IN (N bytes, no NUL inside) escaped as a label value is exactly WANT. */
static void expect_escape_n(const char *in, size_t n, const char *want)
{
	struct promtext t;
	char *s = malloc(n + 1);

	assert_non_null(s);
	memcpy(s, in, n);
	s[n] = '\0';
	promtext_init(&t);
	promtext_label_value(&t, s);
	if (t.len != strlen(want) || (t.len && memcmp(t.buf, want, t.len))) {
		dump("input", in, n);
		dump("got  ", t.buf ? t.buf : "", t.len);
		dump("want ", want, strlen(want));
		fail();
	}
	assert_false(t.failed);
	promtext_free(&t);
	free(s);
}

static void expect_escape(const char *in, const char *want)
{
	expect_escape_n(in, strlen(in), want);
}

/* A valid sequence is kept as it is. */
static void expect_kept(const char *in)
{
	expect_escape(in, in);
}

/* S (N bytes) is valid UTF-8: shortest forms, no surrogate, <= U+10FFFF
 * (decoded by code point, independently of promtext.c). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp, min;
		size_t k;
		if (s[i] < 0x80) {
			i++;
			continue;
		} else if ((s[i] & 0xe0) == 0xc0) {
			k = 2, cp = s[i] & 0x1f, min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			k = 3, cp = s[i] & 0x0f, min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			k = 4, cp = s[i] & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (i + k > n)
			return false;
		for (size_t j = 1; j < k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k;
	}
	return true;
}

/* The value of sample text "NAME VALUE\n" (or with labels) read back. */
static double sample_value(const struct promtext *t)
{
	const char *sp;
	char *end;
	double v;

	assert_non_null(t->buf);
	assert_true(t->len > 0 && t->buf[t->len - 1] == '\n');
	sp = strrchr(t->buf, ' ');
	assert_non_null(sp);
	v = strtod(sp + 1, &end);
	assert_ptr_equal(end, t->buf + t->len - 1);
	return v;
}

/* ------------------------------------------------------------------ */
/* label values: the three escaped characters                         */

static void test_escape_plain(void **state)
{
	(void)state;
	expect_escape("", "");
	expect_kept("a");
	expect_kept("/srv/data/file.img");
	expect_kept("vol-0_1.2:x=y,z{}");
	expect_kept("with space");
	/* the printable ASCII range, but the two escaped ones */
	for (int c = 0x20; c < 0x7f; c++) {
		char s[2] = { (char)c, 0 };
		if (c == '\\' || c == '"')
			continue;
		expect_kept(s);
	}
}

static void test_escape_specials(void **state)
{
	(void)state;
	expect_escape("\\", "\\\\");
	expect_escape("\"", "\\\"");
	expect_escape("\n", "\\n");
	expect_escape("\\\\", "\\\\\\\\");
	expect_escape("\"\"", "\\\"\\\"");
	expect_escape("\n\n", "\\n\\n");
	/* in context, and next to each other */
	expect_escape("a\\b", "a\\\\b");
	expect_escape("say \"hi\"", "say \\\"hi\\\"");
	expect_escape("line1\nline2", "line1\\nline2");
	expect_escape("\\\"\n", "\\\\\\\"\\n");
	expect_escape("\n\"\\", "\\n\\\"\\\\");
	/* a backslash before n stays a backslash, not a newline */
	expect_escape("\\n", "\\\\n");
	/* a file literally named with an x escape */
	expect_escape("\\xff", "\\\\xff");
}

/* Every other control byte is valid UTF-8 and passes as it is (the format
 * escapes only backslash, quote and line feed). */
static void test_escape_other_controls(void **state)
{
	(void)state;
	for (int c = 1; c < 0x20; c++) {
		char s[4] = { 'a', (char)c, 'b', 0 };
		if (c == '\n')
			continue;
		expect_kept(s);
	}
	expect_kept("\t");
	expect_kept("\r");
	expect_kept("\x7f");
	expect_kept("tab\there");
	expect_kept("cr\r\x1b[0m");
}

/* Every single byte, in a string of its own: the right spelling. */
static void test_escape_every_byte(void **state)
{
	(void)state;
	for (int c = 1; c < 256; c++) {
		char in[2] = { (char)c, 0 }, want[8];
		if (c == '\\')
			strcpy(want, "\\\\");
		else if (c == '"')
			strcpy(want, "\\\"");
		else if (c == '\n')
			strcpy(want, "\\n");
		else if (c < 0x80)
			strcpy(want, in);
		else /* alone, a byte >= 0x80 is never valid */
			snprintf(want, sizeof(want), "\\\\x%02x", c);
		expect_escape(in, want);
	}
}

/* ------------------------------------------------------------------ */
/* label values: valid UTF-8 kept                                      */

static void test_utf8_valid(void **state)
{
	(void)state;
	expect_kept("\xc3\xa9t\xc3\xa9");             /* été */
	expect_kept("\xe2\x82\xac");                   /* € */
	expect_kept("\xf0\x9f\x98\x80");               /* U+1F600 */
	expect_kept("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"); /* 日本語 */
	expect_kept("/srv/caf\xc3\xa9/\xf0\x9f\x93\x81 x.img");
	/* the boundaries of each length */
	expect_kept("\xc2\x80");             /* U+0080 */
	expect_kept("\xdf\xbf");             /* U+07FF */
	expect_kept("\xe0\xa0\x80");         /* U+0800 */
	expect_kept("\xed\x9f\xbf");         /* U+D7FF, below the surrogates */
	expect_kept("\xee\x80\x80");         /* U+E000, above them */
	expect_kept("\xef\xbf\xbd");         /* U+FFFD */
	expect_kept("\xef\xbf\xbf");         /* U+FFFF */
	expect_kept("\xf0\x90\x80\x80");     /* U+10000 */
	expect_kept("\xf3\xbf\xbf\xbf");     /* U+FFFFF */
	expect_kept("\xf4\x8f\xbf\xbf");     /* U+10FFFF, the last */
	/* valid sequences next to escaped characters */
	expect_escape("\xc3\xa9\\\xc3\xa9", "\xc3\xa9\\\\\xc3\xa9");
	expect_escape("\"\xe2\x82\xac\"", "\\\"\xe2\x82\xac\\\"");
	expect_escape("\xf0\x9f\x98\x80\n", "\xf0\x9f\x98\x80\\n");
}

/* ------------------------------------------------------------------ */
/* label values: invalid UTF-8 spelt \\xHH, byte by byte               */

static void test_utf8_lone_continuation(void **state)
{
	(void)state;
	expect_escape("\x80", "\\\\x80");
	expect_escape("\xbf", "\\\\xbf");
	expect_escape("a\x80z", "a\\\\x80z");
	expect_escape("\x80\x80", "\\\\x80\\\\x80");
	/* one continuation byte too many after a valid sequence */
	expect_escape("\xc3\xa9\xa9", "\xc3\xa9\\\\xa9");
	expect_escape("\xe2\x82\xac\x80", "\xe2\x82\xac\\\\x80");
	expect_escape("\xf0\x9f\x98\x80\x80", "\xf0\x9f\x98\x80\\\\x80");
}

static void test_utf8_overlong(void **state)
{
	(void)state;
	/* C0 and C1 never start a sequence: each byte spelt */
	expect_escape("\xc0\x80", "\\\\xc0\\\\x80");       /* overlong NUL */
	expect_escape("\xc0\xaf", "\\\\xc0\\\\xaf");       /* overlong '/' */
	expect_escape("\xc1\xbf", "\\\\xc1\\\\xbf");
	/* three bytes for what fits in two */
	expect_escape("\xe0\x80\x80", "\\\\xe0\\\\x80\\\\x80");
	expect_escape("\xe0\x80\xaf", "\\\\xe0\\\\x80\\\\xaf");
	expect_escape("\xe0\x9f\xbf", "\\\\xe0\\\\x9f\\\\xbf"); /* U+07FF */
	/* four bytes for what fits in three */
	expect_escape("\xf0\x80\x80\x80", "\\\\xf0\\\\x80\\\\x80\\\\x80");
	expect_escape("\xf0\x80\x80\xaf", "\\\\xf0\\\\x80\\\\x80\\\\xaf");
	expect_escape("\xf0\x8f\xbf\xbf", "\\\\xf0\\\\x8f\\\\xbf\\\\xbf"); /* U+FFFF */
	/* an overlong slash must not become a '/' */
	expect_escape("a\xc0\xafz", "a\\\\xc0\\\\xafz");
}

static void test_utf8_surrogates(void **state)
{
	(void)state;
	expect_escape("\xed\xa0\x80", "\\\\xed\\\\xa0\\\\x80");  /* U+D800 */
	expect_escape("\xed\xad\xbf", "\\\\xed\\\\xad\\\\xbf");  /* U+DB7F */
	expect_escape("\xed\xb0\x80", "\\\\xed\\\\xb0\\\\x80");  /* U+DC00 */
	expect_escape("\xed\xbf\xbf", "\\\\xed\\\\xbf\\\\xbf");  /* U+DFFF */
	/* a CESU-8 pair: both halves spelt */
	expect_escape("\xed\xa0\xbd\xed\xb8\x80",
		      "\\\\xed\\\\xa0\\\\xbd\\\\xed\\\\xb8\\\\x80");
}

static void test_utf8_above_max(void **state)
{
	(void)state;
	expect_escape("\xf4\x90\x80\x80", "\\\\xf4\\\\x90\\\\x80\\\\x80"); /* U+110000 */
	expect_escape("\xf4\xbf\xbf\xbf", "\\\\xf4\\\\xbf\\\\xbf\\\\xbf");
	expect_escape("\xf5\x80\x80\x80", "\\\\xf5\\\\x80\\\\x80\\\\x80");
	expect_escape("\xf7\xbf\xbf\xbf", "\\\\xf7\\\\xbf\\\\xbf\\\\xbf");
	/* the old five- and six-byte forms */
	expect_escape("\xf8\x88\x80\x80\x80",
		      "\\\\xf8\\\\x88\\\\x80\\\\x80\\\\x80");
	expect_escape("\xfc\x84\x80\x80\x80\x80",
		      "\\\\xfc\\\\x84\\\\x80\\\\x80\\\\x80\\\\x80");
	/* never in UTF-8 */
	expect_escape("\xfe", "\\\\xfe");
	expect_escape("\xff", "\\\\xff");
	expect_escape("\xff\xfe", "\\\\xff\\\\xfe");
}

static void test_utf8_truncated(void **state)
{
	(void)state;
	/* cut by the end of the string */
	expect_escape("\xc3", "\\\\xc3");
	expect_escape("\xe2\x82", "\\\\xe2\\\\x82");
	expect_escape("\xe2", "\\\\xe2");
	expect_escape("\xf0\x9f\x98", "\\\\xf0\\\\x9f\\\\x98");
	expect_escape("\xf0\x9f", "\\\\xf0\\\\x9f");
	expect_escape("\xf0", "\\\\xf0");
	expect_escape("ab\xe2\x82", "ab\\\\xe2\\\\x82");
	/* cut by an ASCII byte, or an escaped one: that byte is kept */
	expect_escape("\xc3" "A", "\\\\xc3A");
	expect_escape("\xe2\x82" "A", "\\\\xe2\\\\x82A");
	expect_escape("\xf0\x9f\x98" "A", "\\\\xf0\\\\x9f\\\\x98A");
	expect_escape("\xc3\"", "\\\\xc3\\\"");
	expect_escape("\xe2\\", "\\\\xe2\\\\");
	expect_escape("\xf0\x9f\n", "\\\\xf0\\\\x9f\\n");
	/* cut by the start of another sequence: that one is kept */
	expect_escape("\xe2\xc3\xa9", "\\\\xe2\xc3\xa9");
	expect_escape("\xf0\x9f\xe2\x82\xac", "\\\\xf0\\\\x9f\xe2\x82\xac");
	expect_escape("\xc3\xf0\x9f\x98\x80", "\\\\xc3\xf0\x9f\x98\x80");
}

/* What a Latin-1 file name looks like (the usual non-UTF-8 case). */
static void test_utf8_latin1_name(void **state)
{
	(void)state;
	expect_escape("/srv/caf\xe9.img", "/srv/caf\\\\xe9.img");
	expect_escape("/srv/na\xefve \"x\"\\\xff\n",
		      "/srv/na\\\\xefve \\\"x\\\"\\\\\\\\xff\\n");
}

/* The escaped text contains no raw line feed, no unescaped quote, and only
 * valid UTF-8, whatever the input (every 1- and 2-byte string, and 3- and
 * 4-byte strings from the bytes that matter). */
static void check_output(const char *in)
{
	struct promtext t;
	size_t n = strlen(in);
	bool plain = utf8_valid((const unsigned char *)in, n) &&
		     !strpbrk(in, "\\\"\n");

	promtext_init(&t);
	promtext_label_value(&t, in);
	assert_false(t.failed);
	if (plain) /* valid and nothing to escape: kept as it is */
		expect_text_n(&t, in, n);
	assert_true(utf8_valid((const unsigned char *)t.buf, t.len));
	for (size_t i = 0; i < t.len; i++) {
		unsigned char c = (unsigned char)t.buf[i];
		assert_true(c != '\n');
		if (c == '\\') { /* an escape: \\, \" or \n */
			assert_true(i + 1 < t.len);
			c = (unsigned char)t.buf[++i];
			assert_true(c == '\\' || c == '"' || c == 'n');
		} else {
			assert_true(c != '"');
		}
	}
	promtext_free(&t);
}

static void test_escape_output_always_valid(void **state)
{
	(void)state;
	static const unsigned char some[] = {
		0x01, '\\', '"', '\n', '\t', 'A', 'x', 0x7f, 0x80, 0x8f, 0x90,
		0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed,
		0xef, 0xf0, 0xf3, 0xf4, 0xf5, 0xf8, 0xfe, 0xff,
	};
	const size_t k = sizeof(some);

	for (int a = 1; a < 256; a++)
		for (int b = 0; b < 256; b++) {
			char in[3] = { (char)a, (char)b, 0 };
			check_output(in);
		}
	for (size_t a = 0; a < k; a++)
		for (size_t b = 0; b < k; b++)
			for (size_t c = 0; c < k; c++)
				for (size_t d = 0; d < k; d++) {
					char in[5] = { (char)some[a],
						       (char)some[b],
						       (char)some[c],
						       (char)some[d], 0 };
					check_output(in);
				}
}

/* A value appended after other text: escaping adds to the buffer. */
static void test_escape_appends(void **state)
{
	(void)state;
	struct promtext t;

	promtext_init(&t);
	promtext_label_value(&t, "a\"");
	promtext_label_value(&t, "\xff");
	promtext_label_value(&t, "");
	promtext_label_value(&t, "\n");
	expect_text(&t, "a\\\"\\\\xff\\n");
	promtext_free(&t);
}

/* ------------------------------------------------------------------ */
/* families and samples                                               */

static void test_init_free(void **state)
{
	(void)state;
	struct promtext t;

	memset(&t, 0xa5, sizeof(t));
	promtext_init(&t);
	assert_int_equal(t.len, 0);
	assert_false(t.failed);
	promtext_free(&t);
	assert_int_equal(t.len, 0);
	assert_null(t.buf);
	promtext_free(&t); /* twice is harmless */
}

static void test_family(void **state)
{
	(void)state;
	struct promtext t;

	promtext_init(&t);
	promtext_family(&t, "dmfilemap_file_reads_completed_total", "counter",
			"Reads completed.");
	expect_text(&t, "# HELP dmfilemap_file_reads_completed_total Reads completed.\n"
			"# TYPE dmfilemap_file_reads_completed_total counter\n");
	promtext_free(&t);

	promtext_init(&t);
	promtext_family(&t, "g", "gauge", "A gauge.");
	promtext_family(&t, "h_seconds", "histogram", "Latency, in s.");
	expect_text(&t, "# HELP g A gauge.\n# TYPE g gauge\n"
			"# HELP h_seconds Latency, in s.\n"
			"# TYPE h_seconds histogram\n");
	promtext_free(&t);
}

static void test_sample_u64_no_labels(void **state)
{
	(void)state;
	struct promtext t;

	promtext_init(&t);
	promtext_sample_u64(&t, "dmfilemap_devices", NULL, 0, NULL, 0);
	promtext_sample_u64(&t, "x_total", NULL, 0, NULL, 42);
	promtext_sample_u64(&t, "x_total", NULL, 0, NULL, 4294967296ULL);
	promtext_sample_u64(&t, "x_total", NULL, 0, NULL, UINT64_MAX);
	expect_text(&t, "dmfilemap_devices 0\n"
			"x_total 42\n"
			"x_total 4294967296\n"
			"x_total 18446744073709551615\n");
	promtext_free(&t);
}

static void test_sample_u64_labels(void **state)
{
	(void)state;
	struct promtext t;
	const struct prom_label one[] = { { "state", "active" } };
	const struct prom_label four[] = {
		{ "path", "/mnt/a b/\"q\"\\" },
		{ "alias", "" },
		{ "device", "vol" },
		{ "mode", "inode" },
	};

	promtext_init(&t);
	promtext_sample_u64(&t, "dmfilemap_monitors", one, 1, NULL, 3);
	expect_text(&t, "dmfilemap_monitors{state=\"active\"} 3\n");
	promtext_free(&t);

	promtext_init(&t);
	promtext_sample_u64(&t, "dmfilemap_file_reads_completed_total", four, 4,
			    NULL, 100);
	expect_text(&t, "dmfilemap_file_reads_completed_total{path=\"/mnt/a b/"
			"\\\"q\\\"\\\\\",alias=\"\",device=\"vol\",mode=\"inode\"}"
			" 100\n");
	promtext_free(&t);

	/* N limits the labels read */
	promtext_init(&t);
	promtext_sample_u64(&t, "m", four + 2, 1, NULL, 1);
	expect_text(&t, "m{device=\"vol\"} 1\n");
	promtext_free(&t);
}

static void test_sample_extra(void **state)
{
	(void)state;
	struct promtext t;
	const struct prom_label l[] = { { "path", "/f" }, { "mode", "path" } };

	/* EXTRA alone */
	promtext_init(&t);
	promtext_sample_u64(&t, "h_bucket", NULL, 0, "le=\"+Inf\"", 7);
	expect_text(&t, "h_bucket{le=\"+Inf\"} 7\n");
	promtext_free(&t);

	/* after the labels */
	promtext_init(&t);
	promtext_sample_u64(&t, "h_bucket", l, 2, "le=\"0.01\"", 5);
	promtext_sample_u64(&t, "h_bucket", l, 2, "le=\"+Inf\"", 9);
	expect_text(&t, "h_bucket{path=\"/f\",mode=\"path\",le=\"0.01\"} 5\n"
			"h_bucket{path=\"/f\",mode=\"path\",le=\"+Inf\"} 9\n");
	promtext_free(&t);

	/* EXTRA is already formatted: not escaped again */
	promtext_init(&t);
	promtext_sample_u64(&t, "m", NULL, 0, "k=\"a\\\\b\"", 1);
	expect_text(&t, "m{k=\"a\\\\b\"} 1\n");
	promtext_free(&t);
}

static void test_sample_f(void **state)
{
	(void)state;
	struct promtext t;
	const struct prom_label l[] = { { "device", "vol" } };

	promtext_init(&t);
	promtext_sample_f(&t, "s", NULL, 0, NULL, 0.0);
	promtext_sample_f(&t, "s", NULL, 0, NULL, 0.5);
	promtext_sample_f(&t, "s", NULL, 0, NULL, 1.0);
	promtext_sample_f(&t, "s", NULL, 0, NULL, 409600.0);
	promtext_sample_f(&t, "dmfilemap_pass_duration_seconds", l, 1, NULL,
			  0.25);
	promtext_sample_f(&t, "h_sum", l, 1, "le=\"1\"", 2.0);
	expect_text(&t, "s 0\n"
			"s 0.5\n"
			"s 1\n"
			"s 409600\n"
			"dmfilemap_pass_duration_seconds{device=\"vol\"} 0.25\n"
			"h_sum{device=\"vol\",le=\"1\"} 2\n");
	promtext_free(&t);
}

/* A float sample reads back as the value: nanoseconds in seconds, small
 * and large. */
static void test_sample_f_round_trip(void **state)
{
	(void)state;
	const double v[] = {
		1e-9, 1.5e-9, 0.000123456, 1.234567891, 12.5, 3600.000000001,
		86400.25, 1e6, 123456.789, 1e12, 0.1, 1.0 / 3.0,
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct promtext t;
		double got;
		promtext_init(&t);
		promtext_sample_f(&t, "x_seconds_total", NULL, 0, NULL, v[i]);
		assert_false(t.failed);
		assert_int_equal(strncmp(t.buf, "x_seconds_total ", 16), 0);
		got = sample_value(&t);
		if (fabs(got - v[i]) > fabs(v[i]) * 1e-11) {
			dump("text", t.buf, t.len);
			print_error("wanted %.17g\n", v[i]);
			fail();
		}
		/* digits, '.', 'e', '+', '-' only */
		for (const char *p = t.buf + 16; *p != '\n'; p++)
			assert_true(isdigit((unsigned char)*p) || *p == '.' ||
				    *p == 'e' || *p == '+' || *p == '-');
		promtext_free(&t);
	}
}

/* Label values with every kind of special byte, in a whole sample. */
static void test_sample_escaped_labels(void **state)
{
	(void)state;
	struct promtext t;
	const struct prom_label l[] = {
		{ "path", "/mnt/a b\"c\\d\te\xff" },
		{ "alias", "x\ny" },
	};

	promtext_init(&t);
	promtext_sample_u64(&t, "m_total", l, 2, NULL, 5);
	expect_text(&t, "m_total{path=\"/mnt/a b\\\"c\\\\d\te\\\\xff\","
			"alias=\"x\\ny\"} 5\n");
	promtext_free(&t);
}

/* A whole exposition: families then samples, as metrics.c builds it. */
static void test_exposition(void **state)
{
	(void)state;
	struct promtext t;
	const struct prom_label l[] = {
		{ "path", "/mnt/f" }, { "alias", "f" },
		{ "device", "vol" }, { "mode", "inode" },
	};
	const struct prom_label v[] = { { "version", "1.2.3" } };

	promtext_init(&t);
	promtext_family(&t, "dmfilemap_file_reads_completed_total", "counter",
			"Reads completed.");
	promtext_sample_u64(&t, "dmfilemap_file_reads_completed_total", l, 4,
			    NULL, 100);
	promtext_family(&t, "dmfilemap_file_read_time_seconds_total", "counter",
			"Time spent by reads.");
	promtext_sample_f(&t, "dmfilemap_file_read_time_seconds_total", l, 4,
			  NULL, 0.125);
	promtext_family(&t, "dmfilemap_file_io_latency_seconds", "histogram",
			"Latency.");
	promtext_sample_u64(&t, "dmfilemap_file_io_latency_seconds_bucket", l, 4,
			    "le=\"0.01\"", 90);
	promtext_sample_u64(&t, "dmfilemap_file_io_latency_seconds_bucket", l, 4,
			    "le=\"+Inf\"", 100);
	promtext_sample_f(&t, "dmfilemap_file_io_latency_seconds_sum", l, 4,
			  NULL, 0.5);
	promtext_sample_u64(&t, "dmfilemap_file_io_latency_seconds_count", l, 4,
			    NULL, 100);
	promtext_family(&t, "dmfilemap_build_info", "gauge", "The version.");
	promtext_sample_u64(&t, "dmfilemap_build_info", v, 1, NULL, 1);

#define L "{path=\"/mnt/f\",alias=\"f\",device=\"vol\",mode=\"inode\""
	expect_text(&t,
		"# HELP dmfilemap_file_reads_completed_total Reads completed.\n"
		"# TYPE dmfilemap_file_reads_completed_total counter\n"
		"dmfilemap_file_reads_completed_total" L "} 100\n"
		"# HELP dmfilemap_file_read_time_seconds_total Time spent by reads.\n"
		"# TYPE dmfilemap_file_read_time_seconds_total counter\n"
		"dmfilemap_file_read_time_seconds_total" L "} 0.125\n"
		"# HELP dmfilemap_file_io_latency_seconds Latency.\n"
		"# TYPE dmfilemap_file_io_latency_seconds histogram\n"
		"dmfilemap_file_io_latency_seconds_bucket" L ",le=\"0.01\"} 90\n"
		"dmfilemap_file_io_latency_seconds_bucket" L ",le=\"+Inf\"} 100\n"
		"dmfilemap_file_io_latency_seconds_sum" L "} 0.5\n"
		"dmfilemap_file_io_latency_seconds_count" L "} 100\n"
		"# HELP dmfilemap_build_info The version.\n"
		"# TYPE dmfilemap_build_info gauge\n"
		"dmfilemap_build_info{version=\"1.2.3\"} 1\n");
#undef L
	promtext_free(&t);
}

/* The buffer grows past any first size: many samples, long values. */
static void test_growth(void **state)
{
	(void)state;
	struct promtext t;
	char *big = malloc(100001), want[64];
	size_t off = 0;

	assert_non_null(big);
	memset(big, 'a', 100000);
	big[100000] = '\0';
	big[50000] = '"';
	promtext_init(&t);
	for (unsigned i = 0; i < 20000; i++)
		promtext_sample_u64(&t, "n", NULL, 0, NULL, i);
	assert_false(t.failed);
	for (unsigned i = 0; i < 20000; i++) {
		int n = snprintf(want, sizeof(want), "n %u\n", i);
		assert_true(off + (size_t)n <= t.len);
		assert_memory_equal(t.buf + off, want, (size_t)n);
		off += (size_t)n;
	}
	assert_int_equal(off, t.len);
	assert_int_equal(strlen(t.buf), t.len);

	promtext_free(&t);
	promtext_init(&t);
	promtext_label_value(&t, big);
	assert_false(t.failed);
	assert_int_equal(t.len, 100001);
	assert_memory_equal(t.buf + 50000, "\\\"", 2);
	assert_int_equal(t.buf[t.len], '\0');
	promtext_free(&t);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_plain),
		cmocka_unit_test(test_escape_specials),
		cmocka_unit_test(test_escape_other_controls),
		cmocka_unit_test(test_escape_every_byte),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_lone_continuation),
		cmocka_unit_test(test_utf8_overlong),
		cmocka_unit_test(test_utf8_surrogates),
		cmocka_unit_test(test_utf8_above_max),
		cmocka_unit_test(test_utf8_truncated),
		cmocka_unit_test(test_utf8_latin1_name),
		cmocka_unit_test(test_escape_output_always_valid),
		cmocka_unit_test(test_escape_appends),
		cmocka_unit_test(test_init_free),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_sample_u64_no_labels),
		cmocka_unit_test(test_sample_u64_labels),
		cmocka_unit_test(test_sample_extra),
		cmocka_unit_test(test_sample_f),
		cmocka_unit_test(test_sample_f_round_trip),
		cmocka_unit_test(test_sample_escaped_labels),
		cmocka_unit_test(test_exposition),
		cmocka_unit_test(test_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
