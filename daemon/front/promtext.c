/* promtext.c: Prometheus's text exposition format: metric families with
 * HELP and TYPE, samples with escaped labels, built in one growing buffer. */
#include "front/promtext.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void promtext_init(struct promtext *t)
{
	memset(t, 0, sizeof(*t));
}

void promtext_free(struct promtext *t)
{
	free(t->buf);
	promtext_init(t);
}

static bool room(struct promtext *t, size_t n)
{
	size_t cap;
	char *b;

	if (t->failed)
		return false;
	if (t->len + n + 1 <= t->cap)
		return true;
	for (cap = t->cap ? t->cap : 4096; cap < t->len + n + 1; cap *= 2)
		;
	if (!(b = realloc(t->buf, cap))) {
		t->failed = true;
		return false;
	}
	t->buf = b;
	t->cap = cap;
	return true;
}

static void put(struct promtext *t, const char *s, size_t n)
{
	if (!room(t, n))
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void putf(struct promtext *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void putf(struct promtext *t, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(t, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* The length of the valid UTF-8 sequence at S (1 to 4), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2
		 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;

	if (n == 2 && s[0] < 0xc2)
		return 0; /* overlong */
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) ||
		       (s[0] == 0xed && s[1] >= 0xa0)))
		return 0; /* overlong, or a surrogate */
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || s[0] > 0xf4 ||
		       (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return n;
}

void promtext_label_value(struct promtext *t, const char *v)
{
	const unsigned char *s = (const unsigned char *)(v ? v : "");

	while (*s) {
		size_t n = utf8_len(s);
		if (*s == '\\')
			put(t, "\\\\", 2);
		else if (*s == '"')
			put(t, "\\\"", 2);
		else if (*s == '\n')
			put(t, "\\n", 2);
		else if (n)
			put(t, (const char *)s, n);
		else /* not UTF-8: the byte, spelt out (backslash escaped) */
			putf(t, "\\\\x%02x", *s);
		s += n ? n : 1;
	}
}

void promtext_family(struct promtext *t, const char *name, const char *type,
		     const char *help)
{
	putf(t, "# HELP %s ", name);
	put(t, help, strlen(help));
	putf(t, "\n# TYPE %s %s\n", name, type);
}

static void head(struct promtext *t, const char *name,
		 const struct prom_label *l, size_t n, const char *extra)
{
	put(t, name, strlen(name));
	if (n || extra)
		put(t, "{", 1);
	for (size_t i = 0; i < n; i++) {
		putf(t, "%s%s=\"", i ? "," : "", l[i].name);
		promtext_label_value(t, l[i].value);
		put(t, "\"", 1);
	}
	if (extra) {
		if (n)
			put(t, ",", 1);
		put(t, extra, strlen(extra));
	}
	if (n || extra)
		put(t, "}", 1);
}

void promtext_sample_u64(struct promtext *t, const char *name,
			 const struct prom_label *l, size_t n,
			 const char *extra, uint64_t value)
{
	head(t, name, l, n, extra);
	putf(t, " %llu\n", (unsigned long long)value);
}

void promtext_sample_f(struct promtext *t, const char *name,
		       const struct prom_label *l, size_t n, const char *extra,
		       double value)
{
	head(t, name, l, n, extra);
	putf(t, " %.12g\n", value);
}
