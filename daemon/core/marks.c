/* marks.c: the mark the kernel keeps on what an update of ours is making,
 * until the update is whole; and, after a crash, each mark finished or undone. */
#define _GNU_SOURCE
#include "core/marks.h"
#include "core/group.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mark_format(char *buf, size_t len, const char *instance, uint64_t owner)
{
	snprintf(buf, len, MARK_TAG "%s:%" PRIu64, instance, owner);
}

bool mark_parse(const char *text, const char *instance, uint64_t *owner,
		const char **rest)
{
	size_t tl = strlen(MARK_TAG), il = strlen(instance);
	const char *p;
	uint64_t v = 0;

	if (!text || strncmp(text, MARK_TAG, tl) ||
	    strncmp(text + tl, instance, il) || text[tl + il] != ':')
		return false;
	p = text + tl + il + 1;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p && *p != '|')
		return false;
	*owner = v;
	*rest = *p ? p + 1 : p;
	return true;
}

char *mark_prepend(const char *mark, const char *text)
{
	char *s;

	if (!text || !*text)
		return strdup(mark);
	if (!strncmp(text, MARK_TAG, strlen(MARK_TAG)))
		return strdup(text); /* the first update's mark stays */
	if (asprintf(&s, "%s|%s", mark, text) < 0)
		return NULL;
	return s;
}

static struct mark_found *found(struct marks_swept *s, uint64_t owner)
{
	struct mark_found *f;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].owner == owner)
			return &s->v[i];
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		if (!(f = realloc(s->v, cap * sizeof(*f))))
			return NULL;
		s->v = f;
		s->cap = cap;
	}
	f = &s->v[s->n++];
	memset(f, 0, sizeof(*f));
	f->owner = owner;
	return f;
}

/* A message about region ID, a mark of OWNER's, failed with R. */
static void failed(struct regions *rs, struct marks_swept *out,
		   uint64_t owner, const char *what, uint64_t id, int r)
{
	struct mark_found *f = found(out, owner);

	out->failed++;
	log_warnx("device %s: cannot %s region %" PRIu64 ": %s", rs->name,
		  what, id, strerror(-r));
	if (f && !f->failed++)
		snprintf(f->why, sizeof(f->why),
			 "cannot %s region %" PRIu64 " on %s: %s (retried)",
			 what, id, rs->name, strerror(-r));
}

/* A marked region no group names: its update never finished. Its counts
 * go to the mark's owner, then it goes. */
static int undo(struct regions *rs, uint64_t id, uint64_t owner,
		struct marks_swept *out)
{
	struct mark_found *f = found(out, owner);
	struct io_counters c;
	int r;

	if (!f)
		return -ENOMEM;
	if ((r = regions_print(rs, id, &c)) == 0) {
		r = counters_add(&f->undone, &c);
		counters_free(&c);
		if (r < 0)
			return r;
	} else {
		log_warnx("device %s: cannot read region %" PRIu64 " before "
			  "undoing it: %s", rs->name, id, strerror(-r));
	}
	if ((r = regions_delete(rs, id)) < 0) {
		failed(rs, out, owner, "delete unfinished", id, r);
		return 0;
	}
	log_info("device %s: region %" PRIu64 " of an unfinished update "
		 "deleted", rs->name, id);
	f->regions++;
	out->undone++;
	return 0;
}

static void clear(struct regions *rs, uint64_t id, uint64_t owner,
		  const char *rest, struct marks_swept *out)
{
	int r = regions_set_aux(rs, id, rest);

	if (r < 0)
		failed(rs, out, owner, "clear the mark of", id, r);
	else
		out->cleared++;
}

/* Leader ID's descriptor G hides a mark: write it without. */
static int strip(struct regions *rs, uint64_t id, struct aux_group *g,
		 uint64_t owner, const char *rest, struct marks_swept *out)
{
	struct mark_found *f = found(out, owner);
	char *keep = g->user_aux, *text;
	int r;

	if (!f)
		return -ENOMEM;
	f->regrouped = true;
	f->group = id;
	g->user_aux = (char *)rest;
	text = aux_group_format(g);
	g->user_aux = keep;
	if (!text)
		return -ENOMEM;
	if ((r = regions_set_aux(rs, id, text)) < 0)
		failed(rs, out, owner, "clear the mark of the group led by", id,
		       r);
	else
		out->stripped++;
	free(text);
	return 0;
}

/* Region ID (aux AUX), as the sweep finds it. */
static int sweep_one(struct regions *rs, uint64_t id, const char *aux,
		     uint32_t claims, const char *instance,
		     struct marks_swept *out)
{
	struct aux_group g;
	const char *rest;
	uint64_t owner;
	int r;

	if (mark_parse(aux, instance, &owner, &rest)) {
		if (!claims)
			return undo(rs, id, owner, out);
		clear(rs, id, owner, rest, out);
		return 0;
	}
	if (aux_group_parse(aux, &g) <= 0)
		return 0;
	r = 0;
	if (g.members[0] == id &&
	    mark_parse(g.user_aux, instance, &owner, &rest))
		r = strip(rs, id, &g, owner, rest, out);
	aux_group_free(&g);
	return r;
}

bool marks_present(const struct regions *rs, const char *instance)
{
	char needle[MARK_MAX];

	/* a region's own mark, or one after a descriptor's '#' */
	snprintf(needle, sizeof(needle), MARK_TAG "%s:", instance);
	for (size_t i = 0; rs->valid && i < rs->list.n; i++)
		if (strstr(rs->list.regions[i].aux_data, needle))
			return true;
	return false;
}

int marks_sweep(struct regions *rs, const char *instance,
		struct marks_swept *out)
{
	size_t n = rs->list.n;
	struct {
		uint64_t id;
		uint32_t claims;
		char *aux;
	} *v;
	int r = 0;

	if (!rs->valid || !marks_present(rs, instance))
		return 0;
	/* the list changes under each message: work from a copy */
	if (!(v = calloc(n ? n : 1, sizeof(*v))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].id = rs->list.regions[i].id;
		v[i].claims = rs->list.regions[i].claims;
		if (!(v[i].aux = strdup(rs->list.regions[i].aux_data)))
			r = -ENOMEM;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = sweep_one(rs, v[i].id, v[i].aux, v[i].claims, instance,
			      out);
	for (size_t i = 0; i < n; i++)
		free(v[i].aux);
	free(v);
	return r;
}

void marks_swept_free(struct marks_swept *s)
{
	for (size_t i = 0; i < s->n; i++)
		counters_free(&s->v[i].undone);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

const struct mark_found *marks_swept_find(const struct marks_swept *s,
					  uint64_t owner)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].owner == owner)
			return &s->v[i];
	return NULL;
}
