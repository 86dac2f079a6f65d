/* group.c: a dm-stats region group on one device: read from the shared
 * region list, created from extents, changed by a plan without half-builds. */
#define _GNU_SOURCE
#include "group.h"
#include "device.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM_ID_DEFAULT "dmstats"

int group_read(const struct device *d, uint64_t id, struct group_view *v)
{
	const struct aux_region *leader;
	int r;

	memset(v, 0, sizeof(*v));
	v->id = id;
	if (!d->list_valid || !(leader = aux_list_find(&d->list, id)))
		return 0;
	r = aux_group_parse(leader->aux_data, &v->desc);
	if (r <= 0)
		return 0;
	/* the descriptor must sit in the group's lowest member */
	if (v->desc.members[0] != id) {
		aux_group_free(&v->desc);
		return 0;
	}
	v->members = malloc(v->desc.n * sizeof(*v->members));
	v->contested = malloc(v->desc.n * sizeof(*v->contested));
	v->program_id = strdup(leader->program_id);
	v->histogram = leader->histogram ? strdup(leader->histogram) : NULL;
	if (!v->members || !v->contested || !v->program_id ||
	    (leader->histogram && !v->histogram)) {
		group_view_free(v);
		return -1;
	}
	v->precise = leader->precise;
	for (size_t i = 0; i < v->desc.n; i++) {
		const struct aux_region *r2 =
			aux_list_find(&d->list, v->desc.members[i]);
		if (!r2) {
			v->missing++;
			continue;
		}
		if (r2->claims > 1)
			v->contested[v->ncontested++] = r2->id;
		v->members[v->n].id = r2->id;
		v->members[v->n].start = r2->start;
		v->members[v->n++].len = r2->len;
	}
	return 1;
}

void group_view_free(struct group_view *v)
{
	aux_group_free(&v->desc);
	free(v->members);
	free(v->contested);
	free(v->program_id);
	free(v->histogram);
	memset(v, 0, sizeof(*v));
}

/* Record a region we created in the device's list, so that the list
 * stays right without another @stats_list. */
static void list_add(struct device *d, uint64_t id, uint64_t start,
		     uint64_t len, const struct region_args *a)
{
	struct aux_region r = { .id = id, .start = start, .len = len,
				.step = len, .precise = a->precise,
				.claims = 1 /* by the group's descriptor */ };

	device_list_touched(d);
	r.program_id = strdup(a->program_id ? a->program_id : "");
	r.aux_data = strdup(a->aux_data ? a->aux_data : "");
	r.histogram = a->histogram ? strdup(a->histogram) : NULL;
	if (!r.program_id || !r.aux_data || (a->histogram && !r.histogram) ||
	    aux_list_insert(&d->list, &r)) {
		aux_region_free(&r);
		d->list_valid = false; /* relist at the next pass */
	}
}

static void list_set_aux(struct device *d, uint64_t id, const char *aux)
{
	struct aux_region *r = aux_list_find(&d->list, id);
	char *s;

	device_list_touched(d);
	if (!r)
		return;
	if (!(s = strdup(aux))) {
		d->list_valid = false;
		return;
	}
	free(r->aux_data);
	r->aux_data = s;
}

static void delete_regions(struct device *d, const uint64_t *ids, size_t n)
{
	device_list_touched(d);
	for (size_t i = 0; i < n; i++) {
		int r = device_delete_region(d, ids[i]);
		if (r < 0)
			log_warnx("device %s: cannot delete region %" PRIu64
				  ": %s", d->name, ids[i], strerror(-r));
		aux_list_remove(&d->list, ids[i]);
	}
}

/* Create one region per extent, the first with aux_data FIRST_AUX (NULL:
 * none); on failure delete those created. */
static int create_regions(struct device *d, const struct extent *e, size_t n,
			  const struct region_args *args, const char *first_aux,
			  uint64_t *ids, char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		struct region_args a = *args;
		if (i == 0 && first_aux)
			a.aux_data = first_aux;
		int r = device_create_region(d, e[i].start, e[i].len, &a,
					     &ids[i]);
		if (r < 0) {
			snprintf(why, whylen,
				 "cannot create region %" PRIu64 "+%" PRIu64
				 " on %s: %s", e[i].start, e[i].len, d->name,
				 strerror(-r));
			delete_regions(d, ids, i);
			return r;
		}
		list_add(d, ids[i], e[i].start, e[i].len, &a);
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* DESC's text (malloc'd, or NULL) with members IDS (N, increasing). */
static char *descriptor_text(const struct aux_group *desc, uint64_t *ids,
			     size_t n)
{
	struct aux_group g = *desc;

	g.members = ids;
	g.n = n;
	return aux_group_format(&g);
}

/* Write DESC (with MEMBERS, sorted) into its leader, MEMBERS[0]. */
static int write_descriptor(struct device *d, const struct aux_group *desc,
			    uint64_t *members, size_t n, char *why,
			    size_t whylen)
{
	char *text;
	int r;

	if (!(text = descriptor_text(desc, members, n))) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	r = device_set_aux(d, members[0], text);
	if (r < 0)
		snprintf(why, whylen,
			 "cannot write group descriptor to region %" PRIu64
			 " on %s: %s", members[0], d->name, strerror(-r));
	else
		list_set_aux(d, members[0], text);
	free(text);
	return r;
}

int group_create(struct device *d, const struct extent_list *e,
		 const char *alias, bool precise, const char *histogram,
		 uint64_t *group_id, char *why, size_t whylen)
{
	struct region_args a = { PROGRAM_ID_DEFAULT, "", precise, histogram };
	struct aux_group desc = { .alias = (char *)(alias ? alias : ""),
				  .user_aux = (char *)"",
				  .prefix = (char *)"" };
	size_t n = e->n ? e->n : 1;
	uint64_t *ids = calloc(n, sizeof(*ids)), *want = calloc(n, sizeof(*want));
	char *text = NULL;
	int r = -ENOMEM;

	if (!ids || !want) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	/* The kernel gives each new region the lowest free id: predict them,
	 * and the first region is created with the group's descriptor in
	 * it, which saves a @stats_set_aux per group. If another program
	 * created or deleted a region meanwhile, the ids differ and the
	 * descriptor is written again below. */
	if (d->list_valid) {
		aux_list_free_ids(&d->list, e->n, want);
		text = descriptor_text(&desc, want, e->n);
	}
	if ((r = create_regions(d, e->v, e->n, &a, text, ids, why, whylen)))
		goto out;
	if (text && !memcmp(ids, want, e->n * sizeof(*ids))) {
		*group_id = ids[0];
		goto out;
	}
	if (text) /* another program changed the regions meanwhile */
		d->list_stale = true;
	uint64_t first = ids[0]; /* holds the predicted descriptor, if any */
	qsort(ids, e->n, sizeof(*ids), cmp_u64);
	r = write_descriptor(d, &desc, ids, e->n, why, whylen);
	if (r < 0) {
		delete_regions(d, ids, e->n);
		goto out;
	}
	if (text && first != ids[0]) { /* not the leader after all */
		if ((r = device_set_aux(d, first, "")) == 0)
			list_set_aux(d, first, "");
		else
			log_warnx("device %s: cannot clear region %" PRIu64
				  "'s mistaken descriptor: %s", d->name, first,
				  strerror(-r));
		r = 0;
	}
	*group_id = ids[0];
out:
	free(text);
	free(ids);
	free(want);
	return r;
}

static bool contains(const uint64_t *v, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

bool group_contested(const struct group_view *v, uint64_t id)
{
	return contains(v->contested, v->ncontested, id);
}

/* Drop what the plan removes: delete it, or only release it from the group
 * if another descriptor claims it too (the old leader losing its tag). */
static void drop_regions(struct device *d, const struct group_view *v,
			 const struct plan *p)
{
	for (size_t i = 0; i < p->nremove; i++) {
		uint64_t id = p->remove[i];
		struct aux_region *r;
		int e;

		if (!group_contested(v, id)) {
			delete_regions(d, &id, 1);
			continue;
		}
		log_warnx("device %s: region %" PRIu64 " is claimed by another "
			  "group too: released from group %" PRIu64 ", not "
			  "deleted", d->name, id, v->id);
		if ((r = aux_list_find(&d->list, id)) && r->claims > 0)
			r->claims--;
		if (id != v->id)
			continue;
		if ((e = device_set_aux(d, id, v->desc.prefix)) < 0)
			log_warnx("device %s: cannot clear old descriptor of "
				  "region %" PRIu64 ": %s", d->name, id,
				  strerror(-e));
		else
			list_set_aux(d, id, v->desc.prefix);
	}
}

int group_apply(struct device *d, const struct group_view *v,
		const struct plan *p, uint64_t *new_id, char *why,
		size_t whylen)
{
	struct region_args a = { v->program_id, "", v->precise, v->histogram };
	size_t n = p->nkeep + p->ncreate;
	uint64_t *ids = calloc(n ? n : 1, sizeof(*ids));
	int r;

	if (!ids) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	r = create_regions(d, p->create, p->ncreate, &a, NULL, ids + p->nkeep,
			   why, whylen);
	if (r < 0)
		goto out;
	memcpy(ids, p->keep, p->nkeep * sizeof(*ids));
	qsort(ids, n, sizeof(*ids), cmp_u64);
	r = write_descriptor(d, &v->desc, ids, n, why, whylen);
	if (r < 0) {
		for (size_t i = 0; i < n; i++) /* only what we created */
			if (!contains(p->keep, p->nkeep, ids[i]))
				delete_regions(d, &ids[i], 1);
		goto out;
	}
	/* the old leader, if it stays as a plain member, drops the tag */
	if (ids[0] != v->id && !contains(p->remove, p->nremove, v->id)) {
		int r2 = device_set_aux(d, v->id, v->desc.prefix);
		if (r2 < 0)
			log_warnx("device %s: cannot clear old descriptor of "
				  "region %" PRIu64 ": %s", d->name, v->id,
				  strerror(-r2));
		else
			list_set_aux(d, v->id, v->desc.prefix);
	}
	drop_regions(d, v, p);
	*new_id = ids[0];
out:
	free(ids);
	return r;
}

int group_delete(struct device *d, const struct group_view *v)
{
	int first = 0;

	device_list_touched(d);
	for (size_t i = 0; i < v->n; i++) {
		if (group_contested(v, v->members[i].id))
			continue; /* another group's too */
		int r = device_delete_region(d, v->members[i].id);
		if (r < 0 && !first)
			first = r;
		aux_list_remove(&d->list, v->members[i].id);
	}
	return first;
}
