/* unmonitored.c: dm-stats groups that no monitor keeps, on every device-
 * mapper device: found by a scan, with the file each maps when it can be
 * found for certain, and the command that adopts it said once in the log. */
#define _GNU_SOURCE
#include "service/unmonitored.h"
#include "core/auxdata.h"
#include "core/plan.h"
#include "core/regions.h"
#include "kernel/findfile.h"
#include "log.h"
#include "service/device.h"
#include "service/monitor.h"
#include "service/service.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

void unmonitored_free(struct unmonitored_set *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free(u->v[i].alias);
		free(u->v[i].path);
	}
	free(u->v);
	memset(u, 0, sizeof(*u));
}

static struct device *device_of(struct service *s, dev_t devno)
{
	struct device *d;

	LIST_FOREACH(d, &s->devices.list, entry)
		if (d->devno == devno)
			return d;
	return NULL;
}

static bool monitored(const struct device *d, uint64_t group_id)
{
	const struct monitor *m;

	if (!d)
		return false;
	TAILQ_FOREACH(m, &d->monitors, dev_entry)
		if (m->group_id == group_id)
			return true;
	return false;
}

static struct unmonitored *find(struct unmonitored_set *u, dev_t devno,
				uint64_t group_id, const char *alias)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->v[i].devno == devno && u->v[i].group_id == group_id &&
		    !strcmp(u->v[i].alias, alias))
			return &u->v[i];
	return NULL;
}

/* The group led by region LEAD (descriptor G) as extents, for findfile. */
static int group_extents(const struct aux_list *l, const struct aux_group *g,
			 struct extent_list *e, size_t *n)
{
	memset(e, 0, sizeof(*e));
	*n = 0;
	for (size_t i = 0; i < g->n; i++) {
		const struct aux_region *r = aux_list_find(l, g->members[i]);
		if (!r)
			continue;
		(*n)++;
		if (extent_list_add(e, r->start, r->len) < 0)
			return -ENOMEM;
	}
	extent_list_finish(e);
	return 0;
}

static void found(struct service *s, const struct aux_list *l,
		  const struct aux_region *lead, const struct aux_group *g,
		  dev_t devno, const char *name)
{
	struct unmonitored_set *u = &s->unmonitored;
	struct unmonitored *x = find(u, devno, lead->id, g->alias);
	struct extent_list e;
	size_t n;

	if (x) {
		x->seen = true;
		return;
	}
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 8;
		struct unmonitored *v = realloc(u->v, cap * sizeof(*v));
		if (!v)
			return;
		u->v = v;
		u->cap = cap;
	}
	x = &u->v[u->n];
	memset(x, 0, sizeof(*x));
	if (!(x->alias = strdup(g->alias)))
		return;
	u->n++;
	x->devno = devno;
	x->group_id = lead->id;
	x->seen = true;
	snprintf(x->dm_name, sizeof(x->dm_name), "%s", name);
	snprintf(x->devstr, sizeof(x->devstr), "%u:%u", major(devno),
		 minor(devno));
	if (group_extents(l, g, &e, &n) == 0) {
		x->regions = n;
		x->path = findfile(devno, g->alias, &e);
	}
	extent_list_free(&e);
	log_warnx("device %s (%s): group %" PRIu64 " (alias \"%s\", %zu "
		  "regions) is not monitored; adopt it with: dmfilemapctl add "
		  "%s --group %" PRIu64, x->dm_name, x->devstr, x->group_id,
		  x->alias, x->regions, x->path ? x->path : "FILE",
		  x->group_id);
}

/* The groups of list L on device DEVNO (its monitors' device D, or NULL)
 * that no monitor keeps. */
static void scan_list(struct service *s, const struct aux_list *l,
		      struct device *d, dev_t devno, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct aux_region *r = &l->regions[i];
		struct aux_group g;
		if (aux_group_parse(r->aux_data, &g) <= 0)
			continue;
		if (g.members[0] == r->id && !monitored(d, r->id))
			found(s, l, r, &g, devno, name);
		aux_group_free(&g);
	}
}

/* One device no monitor uses: its name and one list of its own. */
static void scan_other(struct service *s, dev_t devno)
{
	char name[128], why[256];
	struct regions rs;

	s->counters.info++;
	s->counters.total++;
	if (s->be.identify(s->be.ctx, devno, name, sizeof(name), why,
			   sizeof(why)) < 0)
		return;
	regions_init(&rs, &s->be, &s->counters, devno, name);
	if (regions_refresh(&rs) >= 0)
		scan_list(s, &rs.list, NULL, devno, name);
	regions_free(&rs);
}

void unmonitored_scan(struct service *s)
{
	struct unmonitored_set *u = &s->unmonitored;
	dev_t *devs = malloc(UNMONITORED_DEVICES_MAX * sizeof(*devs));
	size_t n = 0, k = 0;

	if (!devs || !s->be.devices ||
	    s->be.devices(s->be.ctx, devs, UNMONITORED_DEVICES_MAX, &n) < 0) {
		free(devs);
		return;
	}
	for (size_t i = 0; i < u->n; i++)
		u->v[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		struct device *d = device_of(s, devs[i]);
		if (!d)
			scan_other(s, devs[i]);
		else if (d->rs.valid)
			scan_list(s, &d->rs.list, d, d->devno, d->name);
	}
	free(devs);
	/* groups gone, or monitored now, leave the set */
	for (size_t i = 0; i < u->n; i++) {
		if (u->v[i].seen) {
			u->v[k++] = u->v[i];
			continue;
		}
		free(u->v[i].alias);
		free(u->v[i].path);
	}
	u->n = k;
	u->scanned_at = ev_now(s->loop);
}
