/* recover.c: what an update left half-done, finished or undone: the marks
 * (core/marks.h) at start and after each save, a re-adopted group's rest. */
#define _GNU_SOURCE
#include "service/recover.h"
#include "core/group.h"
#include "log.h"
#include "service/device.h"
#include "service/monitor.h"
#include "service/service.h"
#include "service/unmonitored.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int add_device(struct recovery *rc, dev_t dev, struct marks_swept *sw)
{
	struct recovery_dev *v = realloc(rc->v, (rc->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	rc->v = v;
	v[rc->n].dev = dev;
	v[rc->n++].sw = *sw;
	rc->cleared += sw->cleared;
	rc->undone += sw->undone;
	rc->stripped += sw->stripped;
	return 0;
}

/* One device at start: listed, and its marks swept into RC. */
static int recover_one(struct service *s, dev_t dev, struct recovery *rc)
{
	struct marks_swept sw = { 0 };
	struct device *d;
	char why[256];
	int r;

	if (!(d = device_get(&s->devices, dev, why, sizeof(why))))
		return 0; /* gone meanwhile: nothing of ours is left on it */
	if ((r = regions_refresh(&d->rs)) < 0) {
		log_warnx("device %s (%s): cannot list regions to recover: %s",
			  d->name, d->devstr, strerror(-r));
		return 0;
	}
	if ((r = marks_sweep(&d->rs, s->instance, &sw)) < 0 ||
	    (r = add_device(rc, dev, &sw)) < 0) {
		marks_swept_free(&sw);
		return r;
	}
	if (sw.cleared || sw.undone || sw.stripped || sw.failed)
		log_info("device %s (%s): after a crash: %zu updates finished, "
			 "%zu regions undone, %zu groups settled, %zu failed",
			 d->name, d->devstr, sw.cleared, sw.undone, sw.stripped,
			 sw.failed);
	d->rs.marked = sw.failed > 0;
	return 0;
}

int recover_devices(struct service *s, struct recovery *rc)
{
	dev_t *devs = malloc(UNMONITORED_DEVICES_MAX * sizeof(*devs));
	size_t n = 0;
	int r = 0;

	memset(rc, 0, sizeof(*rc));
	if (!devs)
		return -ENOMEM;
	if (s->be.devices &&
	    (r = s->be.devices(s->be.ctx, devs, UNMONITORED_DEVICES_MAX, &n)) < 0)
		log_warnx("cannot list device-mapper devices to recover: %s",
			  strerror(-r));
	r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = recover_one(s, devs[i], rc);
	free(devs);
	return r;
}

void recovery_free(struct recovery *rc)
{
	for (size_t i = 0; i < rc->n; i++)
		marks_swept_free(&rc->v[i].sw);
	free(rc->v);
	memset(rc, 0, sizeof(*rc));
}

const struct mark_found *recovery_find(const struct recovery *rc, dev_t dev,
				       uint64_t owner)
{
	for (size_t i = 0; rc && i < rc->n; i++)
		if (rc->v[i].dev == dev)
			return marks_swept_find(&rc->v[i].sw, owner);
	return NULL;
}

static bool in_ids(const struct member *v, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return true;
	return false;
}

static bool pending_has(const struct ledger_list *p, uint64_t id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].id == id)
			return true;
	return false;
}

/* Whether region ID leads a group made only of V's members and pending
 * regions: V's own group before the update; *G its descriptor then. */
static bool leads_old(const struct regions *rs, const struct group_view *v,
		      const struct ledger_list *p, uint64_t id,
		      struct aux_group *g)
{
	const struct aux_region *r = aux_list_find(&rs->list, id);

	if (!r || aux_group_parse(r->aux_data, g) <= 0)
		return false;
	if (g->members[0] == id) {
		size_t i;
		for (i = 0; i < g->n; i++)
			if (!in_ids(v->members, v->n, g->members[i]) &&
			    !pending_has(p, g->members[i]))
				break;
		if (i == g->n)
			return true;
	}
	aux_group_free(g);
	return false;
}

/* A member of V that still carries the old descriptor loses it. */
static void clear_old_leaders(struct regions *rs, const struct group_view *v,
			      const struct ledger_list *p)
{
	for (size_t i = 0; i < v->n; i++) {
		struct aux_group g;
		uint64_t id = v->members[i].id;
		int r;

		if (id == v->id || !leads_old(rs, v, p, id, &g))
			continue;
		if ((r = regions_set_aux(rs, id, g.prefix)) < 0)
			log_warnx("device %s: cannot clear the old descriptor "
				  "of region %" PRIu64 ": %s", rs->name, id,
				  strerror(-r));
		else
			log_info("device %s: region %" PRIu64 "'s old group "
				 "descriptor cleared", rs->name, id);
		aux_group_free(&g);
	}
}

/* Pending region X, out of V, as it was saved (same range), or NULL. */
static const struct aux_region *left_over(const struct regions *rs,
					  const struct group_view *v,
					  const struct ledger_region *x)
{
	const struct aux_region *r = aux_list_find(&rs->list, x->id);

	if (!r || in_ids(v->members, v->n, x->id) || r->start != x->start ||
	    r->len != x->len)
		return NULL;
	return r;
}

static void drop(struct regions *rs, uint64_t id)
{
	int r = regions_delete(rs, id);

	if (r < 0)
		log_warnx("device %s: cannot delete region %" PRIu64 " left by "
			  "an unfinished update: %s", rs->name, id,
			  strerror(-r));
	else
		log_info("device %s: region %" PRIu64 " left by an unfinished "
			 "update deleted", rs->name, id);
}

/* The regions the update dropped: first an old leader, then those no
 * group names any more. */
static void drop_pending(struct regions *rs, const struct group_view *v,
			 const struct ledger_list *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct aux_group g;
		if (!left_over(rs, v, &p->v[i]) ||
		    !leads_old(rs, v, p, p->v[i].id, &g))
			continue;
		aux_group_free(&g);
		drop(rs, p->v[i].id);
	}
	aux_list_count_claims(&rs->list);
	for (size_t i = 0; i < p->n; i++) {
		const struct aux_region *r = left_over(rs, v, &p->v[i]);
		if (r && r->claims == 0)
			drop(rs, p->v[i].id);
	}
}

void recover_group(struct monitor *m, const struct ledger_list *pending)
{
	struct regions *rs = &m->device->rs;
	struct group_view v;

	if (!rs->valid || group_read(rs, m->group_id, &v) <= 0)
		return;
	clear_old_leaders(rs, &v, pending);
	if (pending->n)
		drop_pending(rs, &v, pending);
	group_view_free(&v);
}

void recover_saved(struct service *s)
{
	struct device *d;

	LIST_FOREACH(d, &s->devices.list, entry)
	{
		d->saved_gen = d->rs.marks_gen;
		if (d->rs.marked)
			device_schedule(d);
	}
}

void recover_pass(struct service *s, struct device *d,
		  struct marks_swept *sw)
{
	if (!d->rs.marked || !d->rs.valid ||
	    (s->hooks.persist && d->saved_gen != d->rs.marks_gen))
		return; /* none, or the new ids are not saved yet */
	if (marks_sweep(&d->rs, s->instance, sw) < 0)
		sw->failed++;
	d->rs.marked = sw->failed > 0;
	if (sw->undone)
		log_warnx("device %s (%s): %zu regions of failed updates "
			  "deleted", d->name, d->devstr, sw->undone);
}
