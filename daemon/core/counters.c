/* counters.c: a region's I/O counters: the kernel's @stats_print text
 * parsed (times in ns whatever the precision), and their sums. */
#include "core/counters.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_MS 1000000ULL

static bool is_time(int f)
{
	return f == IO_READ_TIME || f == IO_WRITE_TIME || f == IO_TIME ||
	       f == IO_TIME_WEIGHTED || f == IO_READ_TOTAL_TIME ||
	       f == IO_WRITE_TOTAL_TIME;
}

/* One decimal number at *S (no sign), up to what is not a digit. */
static int number(const char **s, uint64_t *v)
{
	const char *p = *s;

	*v = 0;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		*v = *v * 10 + d;
	}
	*s = p;
	return 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The histogram's counts at P: "c0:c1:...", up to the end of the line
 * (*END after it). */
static int buckets(const char *p, struct io_counters *out, const char **end)
{
	size_t n = 1;
	uint64_t v;

	for (const char *q = p; *q && *q != '\n'; q++)
		n += *q == ':';
	if (n > IO_BUCKETS_MAX)
		return -EINVAL;
	if (!(out->bucket = calloc(n, sizeof(*out->bucket))))
		return -ENOMEM;
	out->nbuckets = n;
	for (size_t i = 0; i < n; i++) {
		if ((i && *p++ != ':') || number(&p, &v) < 0)
			return -EINVAL;
		out->bucket[i] = v;
	}
	*end = p;
	return 0;
}

/* One area's line at *P: "START+LEN" and the counters (*P after it). */
static int area(const char **pp, bool precise, struct io_counters *out)
{
	const char *p = *pp;
	uint64_t v;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (number(&p, &v) < 0 || *p++ != '+' || number(&p, &v) < 0)
		return -EINVAL;
	for (int f = 0; f < IO_NFIELDS; f++) {
		if (*p++ != ' ' || number(&p, &v) < 0)
			return -EINVAL;
		if (is_time(f) && !precise)
			v = v > UINT64_MAX / NS_PER_MS ? UINT64_MAX
						       : v * NS_PER_MS;
		out->v[f] = v;
	}
	if (*p == ' ' && (r = buckets(p + 1, out, &p)) < 0)
		return r;
	if (*p == '\n')
		p++;
	else if (*p)
		return -EINVAL;
	*pp = p;
	return 0;
}

int counters_parse(const char *text, bool precise, struct io_counters *out)
{
	const char *p = text;
	struct io_counters a = { 0 };
	int r = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!p || !*p)
		return -EINVAL;
	/* a region of several areas (made by another tool) has a line for
	 * each: its counters are their sums */
	for (bool first = true; *p; first = false) {
		uint64_t in_flight = out->v[IO_IN_FLIGHT];
		if ((r = area(&p, precise, &a)) < 0)
			break;
		r = -EINVAL; /* the areas of a region share one histogram */
		if ((!first && a.nbuckets != out->nbuckets) ||
		    (r = counters_add(out, &a)) < 0)
			break;
		out->v[IO_IN_FLIGHT] = add_sat(in_flight, a.v[IO_IN_FLIGHT]);
		counters_free(&a);
		r = 0;
	}
	counters_free(&a);
	if (r < 0)
		counters_free(out);
	return r < 0 ? r : 0;
}

char *counters_format(const struct io_counters *c)
{
	size_t len = 4 + (IO_NFIELDS + c->nbuckets) * 21 + 2, off;
	char *s = malloc(len);

	if (!s)
		return NULL;
	off = (size_t)snprintf(s, len, "0+0");
	for (int f = 0; f < IO_NFIELDS; f++)
		off += (size_t)snprintf(s + off, len - off, " %llu",
					(unsigned long long)c->v[f]);
	for (size_t i = 0; i < c->nbuckets; i++)
		off += (size_t)snprintf(s + off, len - off, "%s%llu",
					i ? ":" : " ",
					(unsigned long long)c->bucket[i]);
	return s;
}

void counters_free(struct io_counters *c)
{
	free(c->bucket);
	c->bucket = NULL;
	c->nbuckets = 0;
}

int counters_copy(struct io_counters *to, const struct io_counters *c)
{
	counters_free(to);
	memcpy(to->v, c->v, sizeof(to->v));
	if (!c->nbuckets)
		return 0;
	if (!(to->bucket = malloc(c->nbuckets * sizeof(*to->bucket)))) {
		memset(to->v, 0, sizeof(to->v));
		return -ENOMEM;
	}
	memcpy(to->bucket, c->bucket, c->nbuckets * sizeof(*to->bucket));
	to->nbuckets = c->nbuckets;
	return 0;
}


int counters_add(struct io_counters *to, const struct io_counters *c)
{
	for (int f = 0; f < IO_NFIELDS; f++)
		if (f != IO_IN_FLIGHT)
			to->v[f] = add_sat(to->v[f], c->v[f]);
	if (!c->nbuckets)
		return 0;
	if (!to->nbuckets) {
		if (!(to->bucket = calloc(c->nbuckets, sizeof(*to->bucket))))
			return -ENOMEM;
		to->nbuckets = c->nbuckets;
	}
	if (to->nbuckets != c->nbuckets)
		return 0; /* another shape: bounds changed by another tool */
	for (size_t i = 0; i < c->nbuckets; i++)
		to->bucket[i] = add_sat(to->bucket[i], c->bucket[i]);
	return 0;
}

void counters_sub(struct io_counters *to, const struct io_counters *c)
{
	for (int f = 0; f < IO_NFIELDS; f++)
		if (f != IO_IN_FLIGHT)
			to->v[f] = to->v[f] > c->v[f] ? to->v[f] - c->v[f] : 0;
	if (to->nbuckets != c->nbuckets)
		return;
	for (size_t i = 0; i < c->nbuckets; i++)
		to->bucket[i] = to->bucket[i] > c->bucket[i]
					? to->bucket[i] - c->bucket[i] : 0;
}

bool counters_went_back(const struct io_counters *now,
			const struct io_counters *before)
{
	for (int f = 0; f < IO_NFIELDS; f++)
		if (f != IO_IN_FLIGHT && now->v[f] < before->v[f])
			return true;
	if (now->nbuckets == before->nbuckets)
		for (size_t i = 0; i < now->nbuckets; i++)
			if (now->bucket[i] < before->bucket[i])
				return true;
	return false;
}
