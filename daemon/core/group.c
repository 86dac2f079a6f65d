/* group.c: a dm-stats region group on one device: read from the shared
 * region list, created from extents, changed by a plan without half-builds. */
#define _GNU_SOURCE
#include "core/group.h"
#include "core/marks.h"
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

static bool contains(const uint64_t *v, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/* Undo: delete the regions IDS (N) we made. One the kernel keeps is
 * still marked ours: it is swept later (the device is flagged). */
static void delete_regions(struct regions *rs, const uint64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = regions_delete(rs, ids[i]);
		if (r < 0) {
			log_warnx("device %s: cannot delete region %" PRIu64
				  ": %s (deleted later)", rs->name, ids[i],
				  strerror(-r));
			rs->marked = true;
			rs->marks_gen++;
		}
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

/* Clear the marks of the regions IDS (N) we created, but SKIP's; one
 * left is swept later (the device is flagged). Returns 0, or 1 with WHY
 * saying which was left. */
static int clear_marks(struct regions *rs, const uint64_t *ids, size_t n,
		       uint64_t skip, char *why, size_t whylen)
{
	int left = 0;

	for (size_t i = 0; i < n; i++) {
		int r;
		if (ids[i] == skip || (r = regions_set_aux(rs, ids[i], "")) == 0)
			continue;
		if (!left++)
			snprintf(why, whylen, "cannot clear the mark of region %"
				 PRIu64 " on %s: %s (cleared later)", ids[i],
				 rs->name, strerror(-r));
		rs->marked = true;
		rs->marks_gen++;
	}
	return left > 0;
}

/* A group of one region, whose id is predicted: it is created with its
 * descriptor in it, one message in all, and is whole at once. If another
 * program created or deleted a region meanwhile, the id differs and the
 * descriptor is written again. */
static int create_one(struct regions *rs, const struct extent *e,
		      const struct region_args *a, const struct aux_group *desc,
		      uint64_t *group_id, char *why, size_t whylen)
{
	uint64_t want, id;
	char *text;
	int r;

	aux_list_free_ids(&rs->list, 1, &want);
	if (!(text = descriptor_text(desc, &want, 1))) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	r = create_regions(rs, e, 1, a, text, &id, why, whylen);
	free(text);
	if (r < 0)
		return r;
	if (id != want) {
		rs->stale = true; /* another program changed the regions */
		if ((r = write_descriptor(rs, desc, &id, 1, why, whylen)) < 0) {
			delete_regions(rs, &id, 1);
			return r;
		}
	}
	*group_id = id;
	return 0;
}

/* Whether IDS (N, as created, now in the list) are the ids the list
 * predicted: the N lowest that only IDS themselves fill. */
static bool same_as_predicted(const struct regions *rs, const uint64_t *ids,
			      size_t n)
{
	uint64_t next = 0;

	for (size_t i = 0; i < n; i++, next++) {
		const struct aux_region *r;
		while ((r = aux_list_find(&rs->list, next)) &&
		       !contains(ids, n, next))
			next++;
		if (ids[i] != next)
			return false;
	}
	return true;
}

int group_create(struct regions *rs, const struct extent_list *e,
		 const char *alias, bool precise, const char *histogram,
		 const char *mark, uint64_t *group_id, char *why,
		 size_t whylen)
{
	struct region_args a = { PROGRAM_ID_DEFAULT, mark ? mark : "",
				 precise, histogram };
	struct aux_group desc = { .alias = (char *)(alias ? alias : ""),
				  .quoted = rs->be->quoted_aliases,
				  .user_aux = (char *)"",
				  .prefix = (char *)"" };
	uint64_t *ids;
	int r;

	if (!desc.quoted && aux_alias_needs_quotes(desc.alias))
		log_warnx("device %s: group alias \"%s\" has a space or a ':': "
			  "this host's dmstats cannot read the group", rs->name,
			  desc.alias);
	if (e->n == 1 && rs->valid)
		return create_one(rs, e->v, &a, &desc, group_id, why, whylen);
	/* Several regions: each is made with MARK, the descriptor written
	 * last, then the marks cleared; a crash between leaves regions that
	 * no group names and that are marked ours (core/marks.c). */
	if (!(ids = calloc(e->n ? e->n : 1, sizeof(*ids)))) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	if ((r = create_regions(rs, e->v, e->n, &a, NULL, ids, why, whylen)))
		goto out;
	if (rs->valid && !same_as_predicted(rs, ids, e->n))
		rs->stale = true; /* another program changed the regions */
	aux_ids_sort(ids, e->n);
	if ((r = write_descriptor(rs, &desc, ids, e->n, why, whylen)) < 0) {
		delete_regions(rs, ids, e->n);
		goto out;
	}
	if (mark)
		r = clear_marks(rs, ids, e->n, ids[0], why, whylen);
	*group_id = ids[0];
out:
	free(ids);
	return r;
}

bool group_contested(const struct group_view *v, uint64_t id)
{
	return contains(v->contested, v->ncontested, id);
}

/* V's leader loses V's descriptor: its aux_data is what preceded it. */
static int clear_tag(struct regions *rs, const struct group_view *v)
{
	int r = regions_set_aux(rs, v->id, v->desc.prefix);

	if (r < 0)
		log_warnx("device %s: cannot clear old descriptor of region %"
			  PRIu64 ": %s", rs->name, v->id, strerror(-r));
	return r;
}

/* Drop what the plan removes: delete it, or only release it from the group
 * if another descriptor claims it too (the old leader losing its tag). */
static int drop_regions(struct regions *rs, const struct group_view *v,
			const struct plan *p, char *why, size_t whylen)
{
	int failed = 0;

	for (size_t i = 0; i < p->nremove; i++) {
		uint64_t id = p->remove[i];
		struct aux_region *r;
		int e;

		if (!group_contested(v, id)) {
			if ((e = regions_delete(rs, id)) == 0)
				continue;
			if (!failed++)
				snprintf(why, whylen, "cannot delete region %"
					 PRIu64 " on %s: %s (retried)", id,
					 rs->name, strerror(-e));
			if (id == v->id) /* not two groups meanwhile */
				clear_tag(rs, v);
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
	return failed > 0;
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

/* The descriptor V's members IDS (N, sorted) get: V's, with MARK in
 * front of its user aux if the group changes leader (until the owner has
 * saved the new id: regions_marked), so that after a crash the new leader
 * is known to be V's successor. NULL: out of memory. */
static char *next_descriptor(const struct group_view *v, uint64_t *ids,
			     size_t n, const char *mark)
{
	struct aux_group g = v->desc;
	char *user = NULL, *text;

	if (mark && ids[0] != v->id &&
	    !(g.user_aux = user = mark_prepend(mark, v->desc.user_aux)))
		return NULL;
	text = descriptor_text(&g, ids, n);
	free(user);
	return text;
}

int group_apply(struct regions *rs, const struct group_view *v,
		struct plan *p, const char *mark, uint64_t *new_id, char *why,
		size_t whylen)
{
	struct region_args a = { v->program_id, mark ? mark : "", v->precise,
				 v->histogram };
	uint64_t *ids, *made;
	char *text = NULL;
	size_t n;
	int r;

	group_fix_plan(rs, v, p);
	n = p->nkeep + p->ncreate;
	ids = calloc(n ? n : 1, sizeof(*ids));
	made = calloc(p->ncreate ? p->ncreate : 1, sizeof(*made));
	if (!ids || !made) {
		snprintf(why, whylen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	r = create_regions(rs, p->create, p->ncreate, &a, NULL, made, why,
			   whylen);
	if (r < 0)
		goto out;
	memcpy(ids, p->keep, p->nkeep * sizeof(*ids));
	memcpy(ids + p->nkeep, made, p->ncreate * sizeof(*ids));
	aux_ids_sort(ids, n);
	if (!(text = next_descriptor(v, ids, n, mark))) {
		snprintf(why, whylen, "out of memory");
		r = -ENOMEM;
	} else if ((r = regions_set_aux(rs, ids[0], text)) < 0) {
		snprintf(why, whylen,
			 "cannot write group descriptor to region %" PRIu64
			 " on %s: %s", ids[0], rs->name, strerror(-r));
	}
	if (r < 0) {
		delete_regions(rs, made, p->ncreate); /* only what we made */
		goto out;
	}
	/* the old leader, if it stays as a plain member, drops the tag (if
	 * it cannot, the owner's next sync does: recover_group) */
	if (ids[0] != v->id && !contains(p->remove, p->nremove, v->id) &&
	    (r = clear_tag(rs, v)) < 0)
		snprintf(why, whylen, "cannot clear the old descriptor of "
			 "region %" PRIu64 " on %s: %s (retried)", v->id,
			 rs->name, strerror(-r));
	else
		r = 0;
	r = drop_regions(rs, v, p, why, whylen) || r < 0;
	if (mark) {
		char why2[256];
		if (clear_marks(rs, made, p->ncreate, ids[0], why2,
				sizeof(why2)) && !r) {
			snprintf(why, whylen, "%s", why2);
			r = 1;
		}
		if (ids[0] != v->id) { /* the new leader's, once saved */
			rs->marked = true;
			rs->marks_gen++;
		}
	}
	*new_id = ids[0];
out:
	free(text);
	free(ids);
	free(made);
	return r;
}

/* Member I of V may be marked for deletion: ours alone, plain, not the
 * leader. */
static bool markable(const struct regions *rs, const struct group_view *v,
		     size_t i)
{
	const struct aux_region *r = aux_list_find(&rs->list,
						   v->members[i].id);

	return v->members[i].id != v->id && r && !r->aux_data[0] &&
	       !group_contested(v, v->members[i].id);
}

int group_delete(struct regions *rs, const struct group_view *v,
		 const char *mark, char *why, size_t whylen)
{
	uint64_t id;
	int r;

	/* the members first get MARK: if a delete fails once the leader is
	 * gone, the region is still known to be ours (core/marks.c) */
	for (size_t i = 0; mark && i < v->n; i++) {
		if (!markable(rs, v, i))
			continue;
		id = v->members[i].id;
		if ((r = regions_set_aux(rs, id, mark)) < 0) {
			snprintf(why, whylen, "cannot mark region %" PRIu64
				 " on %s for deletion: %s", id, rs->name,
				 strerror(-r));
			rs->marked = true; /* the marks set are swept */
			rs->marks_gen++;
			return r;
		}
	}
	/* the leader: once it goes, the group is gone */
	if (group_contested(v, v->id)) {
		clear_tag(rs, v);
	} else if ((r = regions_delete(rs, v->id)) < 0) {
		snprintf(why, whylen, "cannot delete region %" PRIu64
			 " on %s: %s", v->id, rs->name, strerror(-r));
		if (mark) {
			rs->marked = true;
			rs->marks_gen++;
		}
		return r;
	}
	for (size_t i = 0; i < v->n; i++) {
		id = v->members[i].id;
		if (id == v->id || group_contested(v, id))
			continue; /* another group's too: it stays */
		if ((r = regions_delete(rs, id)) < 0 && mark) {
			snprintf(why, whylen, "cannot delete region %" PRIu64
				 " on %s: %s (deleted later)", id, rs->name,
				 strerror(-r));
			log_warnx("%s", why);
			rs->marked = true;
			rs->marks_gen++;
		}
	}
	return 0;
}
