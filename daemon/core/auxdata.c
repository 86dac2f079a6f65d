/* auxdata.c: parse and format the dm-stats text the kernel gives and takes.
 * Everything here is untrusted input: bounded, checked, never assumed. */
#include "core/auxdata.h"
#include "dmfilemap.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_TAG "DMS_GROUP="
#define PRECISE_ARG "precise_timestamps"
#define HISTOGRAM_ARG "histogram:"

/* Parse a decimal number in [s, end) up to MAX; advance *s. */
static int parse_u64(const char **s, const char *end, uint64_t max,
		     uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (p >= end || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (; p < end && isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*s = p;
	*out = v;
	return 0;
}

static char *dup_range(const char *s, size_t len)
{
	char *r = malloc(len + 1);

	if (!r)
		return NULL;
	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

/* "-" is the kernel's empty string. */
static char *dup_field(const char *s, size_t len)
{
	if (len == 1 && s[0] == '-')
		len = 0;
	return dup_range(s, len);
}

static bool histogram_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > AUX_TEXT_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) && s[i] != ',')
			return false;
		if (s[i] == ',' && (i == 0 || i + 1 == len || s[i + 1] == ','))
			return false;
	}
	return true;
}

/* Strip the optional trailing tokens from [*aux, *end). */
static int parse_options(const char *aux, const char **end,
			 struct aux_region *r)
{
	for (;;) {
		const char *tok = *end;
		size_t tlen;

		while (tok > aux && tok[-1] != ' ')
			tok--;
		if (tok == aux)
			return 0; /* the aux_data field itself */
		tlen = (size_t)(*end - tok);
		if (tlen == strlen(PRECISE_ARG) &&
		    !memcmp(tok, PRECISE_ARG, tlen) && !r->precise) {
			r->precise = true;
		} else if (tlen > strlen(HISTOGRAM_ARG) &&
			   !memcmp(tok, HISTOGRAM_ARG, strlen(HISTOGRAM_ARG)) &&
			   !r->histogram) {
			const char *b = tok + strlen(HISTOGRAM_ARG);
			size_t blen = tlen - strlen(HISTOGRAM_ARG);
			if (!histogram_valid(b, blen))
				return -EINVAL;
			if (!(r->histogram = dup_range(b, blen)))
				return -ENOMEM;
		} else {
			return 0;
		}
		*end = tok - 1;
	}
}

int aux_region_parse(const char *row, size_t len, struct aux_region *r)
{
	const char *p = row, *end = row + len, *prog, *aux;

	memset(r, 0, sizeof(*r));
	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (parse_u64(&p, end, AUX_ID_MAX, &r->id) || p >= end || *p++ != ':')
		goto bad;
	if (p >= end || *p++ != ' ')
		goto bad;
	if (parse_u64(&p, end, UINT64_MAX, &r->start) || p >= end ||
	    *p++ != '+')
		goto bad;
	if (parse_u64(&p, end, UINT64_MAX, &r->len) || r->len == 0 ||
	    r->start + r->len < r->start || p >= end || *p++ != ' ')
		goto bad;
	if (parse_u64(&p, end, UINT64_MAX, &r->step) || p >= end ||
	    *p++ != ' ')
		goto bad;
	prog = p;
	while (p < end && *p != ' ')
		p++;
	if (p == prog || p >= end || (size_t)(p - prog) > AUX_TEXT_MAX)
		goto bad;
	aux = p + 1;
	if (aux >= end || parse_options(aux, &end, r) || end <= aux ||
	    (size_t)(end - aux) > AUX_DATA_MAX)
		goto bad;
	if (memchr(aux, '\0', (size_t)(end - aux)))
		goto bad;
	if (!(r->program_id = dup_field(prog, (size_t)(p - prog))) ||
	    !(r->aux_data = dup_field(aux, (size_t)(end - aux))))
		goto bad;
	return 0;
bad:
	aux_region_free(r);
	return -EINVAL;
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool aux_list_same(const struct aux_list *a, const struct aux_list *b)
{
	if (a->n != b->n || a->skipped || b->skipped)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct aux_region *x = &a->regions[i];
		const struct aux_region *y = &b->regions[i];
		if (x->id != y->id || x->start != y->start ||
		    x->len != y->len || x->step != y->step ||
		    x->precise != y->precise ||
		    !same_text(x->program_id, y->program_id) ||
		    !same_text(x->aux_data, y->aux_data) ||
		    !same_text(x->histogram, y->histogram))
			return false;
	}
	return true;
}

void aux_list_count_claims(struct aux_list *l)
{
	struct aux_group g;

	for (size_t i = 0; i < l->n; i++)
		l->regions[i].claims = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct aux_region *r = &l->regions[i];
		if (!strstr(r->aux_data, GROUP_TAG) ||
		    aux_group_parse(r->aux_data, &g) <= 0)
			continue;
		if (g.members[0] == r->id)
			for (size_t j = 0; j < g.n; j++) {
				struct aux_region *x =
					aux_list_find(l, g.members[j]);
				if (x && x->claims < UINT32_MAX)
					x->claims++;
			}
		aux_group_free(&g);
	}
}

void aux_region_free(struct aux_region *r)
{
	free(r->program_id);
	free(r->aux_data);
	free(r->histogram);
	r->program_id = r->aux_data = r->histogram = NULL;
}

static int cmp_region(const void *a, const void *b)
{
	const struct aux_region *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int aux_list_parse(const char *text, struct aux_list *out)
{
	const char *p = text;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct aux_region r;

		if (len && aux_region_parse(p, len, &r) == 0) {
			if (out->n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				void *v = realloc(out->regions,
						  ncap * sizeof(r));
				if (!v) {
					aux_region_free(&r);
					aux_list_free(out);
					return -ENOMEM;
				}
				out->regions = v;
				out->cap = cap = ncap;
			}
			out->regions[out->n++] = r;
		} else if (len) {
			out->skipped++;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (out->n)
		qsort(out->regions, out->n, sizeof(*out->regions), cmp_region);
	/* the kernel never repeats an id; drop repeats rather than trust it */
	for (size_t i = 1; i < out->n; i++) {
		if (out->regions[i].id == out->regions[i - 1].id) {
			aux_region_free(&out->regions[i]);
			memmove(&out->regions[i], &out->regions[i + 1],
				(out->n - i - 1) * sizeof(*out->regions));
			out->n--;
			out->skipped++;
			i--;
		}
	}
	return 0;
}

void aux_list_free(struct aux_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		aux_region_free(&l->regions[i]);
	free(l->regions);
	memset(l, 0, sizeof(*l));
}

static size_t lower_bound(const struct aux_list *l, uint64_t id)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->regions[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct aux_region *aux_list_find(const struct aux_list *l, uint64_t id)
{
	size_t i = lower_bound(l, id);

	return i < l->n && l->regions[i].id == id ? &l->regions[i] : NULL;
}

int aux_list_insert(struct aux_list *l, struct aux_region *r)
{
	size_t i = lower_bound(l, r->id);
	struct aux_region *v;

	if (i < l->n && l->regions[i].id == r->id) {
		aux_region_free(&l->regions[i]);
		l->regions[i] = *r;
		return 0;
	}
	if (l->n == l->cap) { /* doubling: inserts stay O(1) amortised */
		size_t ncap = l->cap ? l->cap * 2 : 64;
		if (!(v = realloc(l->regions, ncap * sizeof(*v))))
			return -ENOMEM;
		l->regions = v;
		l->cap = ncap;
	}
	v = l->regions;
	memmove(&v[i + 1], &v[i], (l->n - i) * sizeof(*v));
	v[i] = *r;
	l->n++;
	return 0;
}

void aux_list_free_ids(const struct aux_list *l, size_t n, uint64_t *out)
{
	size_t lo = 0, hi = l->n, i;
	uint64_t id;

	/* ids are sorted and unique, so regions[i].id >= i: the first free
	 * id is at the first i where they differ (binary search) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->regions[mid].id == mid)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo;
	id = lo;
	for (size_t k = 0; k < n; id++) {
		while (i < l->n && l->regions[i].id < id)
			i++;
		if (i < l->n && l->regions[i].id == id)
			continue;
		out[k++] = id;
	}
}

void aux_list_remove(struct aux_list *l, uint64_t id)
{
	size_t i = lower_bound(l, id);

	if (i >= l->n || l->regions[i].id != id)
		return;
	aux_region_free(&l->regions[i]);
	memmove(&l->regions[i], &l->regions[i + 1],
		(l->n - i - 1) * sizeof(*l->regions));
	l->n--;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void aux_ids_sort(uint64_t *ids, size_t n)
{
	qsort(ids, n, sizeof(*ids), cmp_u64);
}

/* Members beyond this many are refused: a list of ranges could otherwise
 * ask for billions of ids. */
#define MEMBERS_MAX 1000000

int aux_members_parse(const char *s, size_t len, uint64_t **ids, size_t *n)
{
	const char *p = s, *end = s + len;
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;

	*ids = NULL;
	*n = 0;
	if (len == 0)
		return -EINVAL;
	while (p < end) {
		uint64_t a, b;

		if (parse_u64(&p, end, AUX_ID_MAX, &a))
			goto bad;
		b = a;
		if (p < end && *p == '-') {
			p++;
			if (parse_u64(&p, end, AUX_ID_MAX, &b) || b < a)
				goto bad;
		}
		if (b - a >= MEMBERS_MAX || cnt + (b - a) + 1 > MEMBERS_MAX)
			goto bad;
		while (cnt + (b - a) + 1 > cap) {
			void *nv;
			cap = cap ? cap * 2 : 16;
			if (!(nv = realloc(v, cap * sizeof(*v))))
				goto bad;
			v = nv;
		}
		for (uint64_t i = a; i <= b; i++)
			v[cnt++] = i;
		if (p < end && (*p++ != ',' || p == end))
			goto bad;
	}
	aux_ids_sort(v, cnt);
	size_t u = 0;
	for (size_t i = 0; i < cnt; i++)
		if (u == 0 || v[u - 1] != v[i])
			v[u++] = v[i];
	*ids = v;
	*n = u;
	return 0;
bad:
	free(v);
	return -EINVAL;
}

int aux_group_parse(const char *aux, struct aux_group *g)
{
	const char *tag, *alias, *colon, *members, *hash;

	memset(g, 0, sizeof(*g));
	tag = strstr(aux, GROUP_TAG);
	if (!tag)
		return 0;
	alias = tag + strlen(GROUP_TAG);
	/* LVM2's quoted form: the alias's bytes up to the first '":', with
	 * nothing escaped (as LVM2 reads it); without a '":', the quote is
	 * the alias's own first byte (Debian 12's form) */
	const char *q = *alias == '"' ? strstr(alias + 1, "\":") : NULL;
	if (q) {
		g->quoted = true;
		g->alias = dup_range(alias + 1, (size_t)(q - alias - 1));
		colon = q + 1;
	} else {
		colon = strchr(alias, ':');
		if (!colon)
			return -EINVAL;
		g->alias = dup_range(alias, (size_t)(colon - alias));
	}
	if (!g->alias)
		goto bad;
	members = colon + 1;
	hash = strchr(members, '#');
	if (aux_members_parse(members,
			      hash ? (size_t)(hash - members) : strlen(members),
			      &g->members, &g->n) || g->n == 0)
		goto bad;
	g->user_aux = hash ? dup_field(hash + 1, strlen(hash + 1))
			   : dup_range("", 0);
	g->prefix = dup_range(aux, (size_t)(tag - aux));
	if (!g->user_aux || !g->prefix)
		goto bad;
	return 1;
bad:
	aux_group_free(g);
	return -EINVAL;
}

void aux_group_free(struct aux_group *g)
{
	free(g->alias);
	free(g->members);
	free(g->user_aux);
	free(g->prefix);
	memset(g, 0, sizeof(*g));
}

char *aux_members_format(const uint64_t *ids, size_t n)
{
	size_t cap = 32 + n * 24, off = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && ids[j + 1] == ids[j] + 1)
			j++;
		int w = j > i ? snprintf(s + off, cap - off, "%s%llu-%llu",
					 off ? "," : "",
					 (unsigned long long)ids[i],
					 (unsigned long long)ids[j])
			      : snprintf(s + off, cap - off, "%s%llu",
					 off ? "," : "",
					 (unsigned long long)ids[i]);
		if (w < 0 || (size_t)w >= cap - off) {
			free(s);
			return NULL;
		}
		off += (size_t)w;
		i = j + 1;
	}
	return s;
}

/* Whether only the quoted form holds ALIAS: a space ends Debian 12's
 * aux_data, a ':' its alias, and a leading '"' would read as quoted. */
bool aux_alias_needs_quotes(const char *a)
{
	return strpbrk(a, ": ") != NULL || a[0] == '"';
}

char *aux_group_format(const struct aux_group *g)
{
	const char *alias = g->alias ? g->alias : "";
	bool quote = g->quoted || aux_alias_needs_quotes(alias);
	char *members = aux_members_format(g->members, g->n), *s, *o;
	size_t cap;

	if (!members)
		return NULL;
	cap = strlen(g->prefix ? g->prefix : "") + strlen(GROUP_TAG) +
	      2 * strlen(alias) + 3 + strlen(members) + 2 +
	      strlen(g->user_aux ? g->user_aux : "") + 2;
	if (!(s = malloc(cap))) {
		free(members);
		return NULL;
	}
	o = s + sprintf(s, "%s" GROUP_TAG, g->prefix ? g->prefix : "");
	if (quote)
		*o++ = '"';
	for (const char *a = alias; *a; a++) /* as is: dmstats unescapes none */
		*o++ = *a;
	if (quote)
		*o++ = '"';
	sprintf(o, ":%s#%s", members,
		g->user_aux && *g->user_aux ? g->user_aux : "-");
	free(members);
	return s;
}

char *aux_escape_arg(const char *s)
{
	size_t len = strlen(s);
	char *r = malloc(2 * len + 2), *o = r;

	if (!r)
		return NULL;
	if (len == 0) {
		strcpy(r, "-");
		return r;
	}
	for (; *s; s++) {
		/* the kernel's isspace() also counts 0xa0 */
		if (isspace((unsigned char)*s) || *s == '\\' ||
		    (unsigned char)*s == 0xa0)
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return r;
}

bool aux_alias_valid(const char *alias)
{
	size_t len = strlen(alias);

	if (len > DMF_ALIAS_MAX)
		return false;
	for (const char *p = alias; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return false;
		else if (*p == 0x7f || *p == ':') /* no dmstats reads a ':' */
			return false;
	return true;
}
