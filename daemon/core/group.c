/* group.c: a dm-stats region group on one device: read from the shared
 * region list, created from extents, changed by a plan without half-builds. */
#define _GNU_SOURCE
#include "core/group.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM_ID_DEFAULT "dmstats"

int group_read(const struct regions *rs, uint64_t id, struct group_view *v)
{
	const struct aux_region *leader;
	int r;

	memset(v, 0, sizeof(*v));
	v->id = id;
	if (!rs->valid || !(leader = aux_list_find(&rs->list, id)))
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
		return -ENOMEM;
	}
	v->precise = leader->precise;
	for (size_t i = 0; i < v->desc.n; i++) {
		const struct aux_region *r2 =
			aux_list_find(&rs->list, v->desc.members[i]);
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

static void delete_regions(struct regions *rs, const uint64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = regions_delete(rs, ids[i]);
		if (r < 0)
			log_warnx("device %s: cannot delete region %" PRIu64
				  ": %s", rs->name, ids[i], strerror(-r));
	}
}

/* Create one region per extent, the first with aux_data FIRST_AUX (NULL:
 * none); on failure delete those created. */
static int create_regions(struct regions *rs, const struct extent *e, size_t n,
			  const struct region_args *args, const char *first_aux,
			  uint64_t *ids, char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		struct region_args a = *args;
		if (i == 0 && first_aux)
			a.aux_data = first_aux;
		int r = regions_create(rs, e[i].start, e[i].len, &a, &ids[i]);
		if (r < 0) {
			snprintf(why, whylen,
				 "cannot create region %" PRIu64 "+%" PRIu64
				 " on %s: %s", e[i].start, e[i].len, rs->name,
				 strerror(-r));
			delete_regions(rs, ids, i);
			return r;
		}
	}
	return 0;
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
static int write_descriptor(struct regions *rs, const struct aux_group *desc,
			    uint64_t *members, size_t n, char *why,
			    size_t whylen)
{
	char *text;
	int r;

	if (!(text = descriptor_text(desc, members, n))) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	r = regions_set_aux(rs, members[0], text);
	if (r < 0)
		snprintf(why, whylen,
			 "cannot write group descriptor to region %" PRIu64
			 " on %s: %s", members[0], rs->name, strerror(-r));
	free(text);
	return r;
}

int group_create(struct regions *rs, const struct extent_list *e,
		 const char *alias, bool precise, const char *histogram,
		 uint64_t *group_id, char *why, size_t whylen)
{
	struct region_args a = { PROGRAM_ID_DEFAULT, "", precise, histogram };
	struct aux_group desc = { .alias = (char *)(alias ? alias : ""),
				  .quoted = rs->be->quoted_aliases,
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
	if (!desc.quoted && aux_alias_needs_quotes(desc.alias))
		log_warnx("device %s: group alias \"%s\" has a space or a ':': "
			  "this host's dmstats cannot read the group", rs->name,
			  desc.alias);
	/* The kernel gives each new region the lowest free id: predict them,
	 * and the first region is created with the group's descriptor in
	 * it, which saves a @stats_set_aux per group. If another program
	 * created or deleted a region meanwhile, the ids differ and the
	 * descriptor is written again below. */
	if (rs->valid) {
		aux_list_free_ids(&rs->list, e->n, want);
		text = descriptor_text(&desc, want, e->n);
	}
	if ((r = create_regions(rs, e->v, e->n, &a, text, ids, why, whylen)))
		goto out;
	if (text && !memcmp(ids, want, e->n * sizeof(*ids))) {
		*group_id = ids[0];
		goto out;
	}
	if (text) /* another program changed the regions meanwhile */
		rs->stale = true;
	uint64_t first = ids[0]; /* holds the predicted descriptor, if any */
	aux_ids_sort(ids, e->n);
	r = write_descriptor(rs, &desc, ids, e->n, why, whylen);
	if (r < 0) {
		delete_regions(rs, ids, e->n);
		goto out;
	}
	if (text && first != ids[0]) { /* not the leader after all */
		if ((r = regions_set_aux(rs, first, "")) < 0)
			log_warnx("device %s: cannot clear region %" PRIu64
				  "'s mistaken descriptor: %s", rs->name, first,
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

/* V's leader loses V's descriptor: its aux_data is what preceded it. */
static void clear_tag(struct regions *rs, const struct group_view *v)
{
	int r = regions_set_aux(rs, v->id, v->desc.prefix);

	if (r < 0)
		log_warnx("device %s: cannot clear old descriptor of region %"
			  PRIu64 ": %s", rs->name, v->id, strerror(-r));
}

/* Drop what the plan removes: delete it, or only release it from the group
 * if another descriptor claims it too (the old leader losing its tag). */
static void drop_regions(struct regions *rs, const struct group_view *v,
			 const struct plan *p)
{
	for (size_t i = 0; i < p->nremove; i++) {
		uint64_t id = p->remove[i];
		struct aux_region *r;

		if (!group_contested(v, id)) {
			delete_regions(rs, &id, 1);
			continue;
		}
		log_warnx("device %s: region %" PRIu64 " is claimed by another "
			  "group too: released from group %" PRIu64 ", not "
			  "deleted", rs->name, id, v->id);
		if ((r = aux_list_find(&rs->list, id)) && r->claims > 0)
			r->claims--;
		if (id == v->id)
			clear_tag(rs, v);
	}
}

/* Whether region ID (not V's leader) leads a group of its own: then it may
 * not become V's leader, whose descriptor would replace that group's. */
static bool leads_other(const struct regions *rs, const struct group_view *v,
			uint64_t id)
{
	const struct aux_region *r = aux_list_find(&rs->list, id);
	struct aux_group g;
	bool leads;

	if (id == v->id || !group_contested(v, id) || !r ||
	    aux_group_parse(r->aux_data, &g) <= 0)
		return false;
	leads = g.members[0] == id;
	aux_group_free(&g);
	return leads;
}

void group_fix_plan(const struct regions *rs, const struct group_view *v,
		    struct plan *p)
{
	for (size_t i = 0; i < p->nkeep;) {
		uint64_t id = p->keep[i];
		const struct member *m = NULL;

		for (size_t j = 0; j < v->n && !m; j++)
			if (v->members[j].id == id)
				m = &v->members[j];
		if (!m || !leads_other(rs, v, id)) {
			i++;
			continue;
		}
		log_warnx("device %s: region %" PRIu64 " leads another group: "
			  "group %" PRIu64 " gets a region of its own there",
			  rs->name, id, v->id);
		/* plan_make's arrays hold every member and extent: room */
		p->create[p->ncreate].start = m->start;
		p->create[p->ncreate++].len = m->len;
		p->remove[p->nremove++] = id;
		p->keep[i] = p->keep[--p->nkeep];
	}
}

int group_apply(struct regions *rs, const struct group_view *v,
		struct plan *p, uint64_t *new_id, char *why, size_t whylen)
{
	struct region_args a = { v->program_id, "", v->precise, v->histogram };
	size_t n;
	uint64_t *ids;
	int r;

	group_fix_plan(rs, v, p);
	n = p->nkeep + p->ncreate;
	if (!(ids = calloc(n ? n : 1, sizeof(*ids)))) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	r = create_regions(rs, p->create, p->ncreate, &a, NULL, ids + p->nkeep,
			   why, whylen);
	if (r < 0)
		goto out;
	memcpy(ids, p->keep, p->nkeep * sizeof(*ids));
	aux_ids_sort(ids, n);
	r = write_descriptor(rs, &v->desc, ids, n, why, whylen);
	if (r < 0) {
		for (size_t i = 0; i < n; i++) /* only what we created */
			if (!contains(p->keep, p->nkeep, ids[i]))
				delete_regions(rs, &ids[i], 1);
		goto out;
	}
	/* the old leader, if it stays as a plain member, drops the tag */
	if (ids[0] != v->id && !contains(p->remove, p->nremove, v->id))
		clear_tag(rs, v);
	drop_regions(rs, v, p);
	*new_id = ids[0];
out:
	free(ids);
	return r;
}

int group_delete(struct regions *rs, const struct group_view *v)
{
	int first = 0;

	for (size_t i = 0; i < v->n; i++) {
		if (group_contested(v, v->members[i].id)) {
			/* another group's too: it stays, without our tag */
			if (v->members[i].id == v->id)
				clear_tag(rs, v);
			continue;
		}
		int r = regions_delete(rs, v->members[i].id);
		if (r < 0 && !first)
			first = r;
	}
	return first;
}
