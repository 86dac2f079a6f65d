/* reconcile.c: a monitor's group made to match its file: the extents read
 * again when they may have changed, the plan, its counts, its applying. */
#define _GNU_SOURCE
#include "core/group.h"
#include "log.h"
#include "service/device.h"
#include "service/monitor.h"
#include "service/service.h"
#include "service/tally.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Re-read the extents if the file may have changed (or FORCE), its size
 * and block count being KNOWN (fstat'ed just before) or looked up now.
 * A file whose size and block count are the same is read again if it was
 * written (or swept) since, at most once per check interval, without
 * flushing its dirty data (a delayed allocation found: with). Returns 0,
 * or -errno. */
static bool same_extents(const struct extent_list *a,
			 const struct extent_list *b)
{
	return a->n == b->n &&
	       (!a->n || !memcmp(a->v, b->v, a->n * sizeof(*a->v)));
}

bool monitor_sweep(struct monitor *m)
{
	struct extent_list old = m->want;
	bool changed;

	if (m->dirty || m->state != MS_ACTIVE)
		return false; /* synced this pass anyway */
	memset(&m->want, 0, sizeof(m->want));
	m->reread = true;
	m->reread_at = 0;
	if (monitor_read_extents(m, false, NULL) < 0) {
		extent_list_free(&m->want);
		m->want = old;
		m->dirty = true; /* the sync says why */
		return true;
	}
	if (m->reread) { /* nothing was read */
		m->want = old;
		return false;
	}
	changed = !same_extents(&old, &m->want);
	extent_list_free(&old);
	if (changed)
		m->dirty = true;
	return changed;
}

int monitor_read_extents(struct monitor *m, bool force, const struct stat *known)
{
	const struct dm_backend *be = &m->svc->be;
	double now = ev_now(m->svc->loop);
	struct extent_list e;
	struct stat st;
	bool same;
	int r = -EAGAIN;

	if (known)
		st = *known;
	else if (fstat(m->fd, &st) < 0)
		return -errno;
	same = st.st_blocks == m->st_blocks && st.st_size == m->st_size;
	if (!force && same && !m->reread)
		return 0;
	if (!force && same && now - m->reread_at < m->svc->devices.interval) {
		m->dirty = true; /* a write's re-read waits for a later pass */
		return 0;
	}
	if (!force && same)
		r = be->extents(be->ctx, m->fd, false, &e);
	if (r == -EAGAIN)
		r = be->extents(be->ctx, m->fd, true, &e);
	if (r < 0)
		return r;
	m->reread = false;
	m->reread_at = now;
	extent_list_free(&m->want);
	m->want = e;
	m->st_blocks = st.st_blocks;
	m->st_size = st.st_size;
	return 0;
}

/* The pass's waiting plan, if any, goes. */
void monitor_unplan(struct monitor *m)
{
	if (!m->planned)
		return;
	plan_free(&m->plan);
	group_view_free(&m->view);
	m->planned = false;
}

static void set_error(struct monitor *m, const char *why)
{
	if (m->last_error && !strcmp(m->last_error, why))
		return; /* said already */
	free(m->last_error);
	m->last_error = strdup(why);
	m->svc->errors++;
	log_warnx("monitor %" PRIu64 " (%s): %s", m->id, m->path, why);
	monitor_emit(m, "error", 0, NULL, why);
}

/* Apply PLAN to group V and report what changed. */
static void apply(struct monitor *m, const struct group_view *v,
		  struct plan *p)
{
	uint64_t new_id = m->group_id, old = m->group_id;
	char why[256], msg[160];
	size_t released = 0;

	if (group_apply(&m->device->rs, v, p, &new_id, why, sizeof(why)) < 0) {
		ledger_settle(&m->ledger, false); /* still members */
		set_error(m, why);
		return; /* the group is as it was; the next pass retries */
	}
	if (m->ledger.pending.n) { /* carried: save them as settled, soon */
		ledger_settle(&m->ledger, true);
		monitor_registration_changed(m);
	}
	free(m->last_error);
	m->last_error = NULL;
	m->updates++;
	m->regions = p->nkeep + p->ncreate;
	if (new_id != old) {
		m->group_id = new_id;
		snprintf(msg, sizeof(msg),
			 "group re-formed: %" PRIu64 " is now %" PRIu64, old,
			 new_id);
		log_info("monitor %" PRIu64 " (%s): %s", m->id, m->path, msg);
		monitor_emit(m, "regrouped", old, NULL, msg);
		monitor_registration_changed(m);
	}
	for (size_t i = 0; i < p->nremove; i++)
		released += group_contested(v, p->remove[i]);
	snprintf(msg, sizeof(msg), "%zu created, %zu deleted, %zu regions%s",
		 p->ncreate, p->nremove - released, m->regions,
		 released ? " (regions claimed by another group too released, "
			    "not deleted)" : "");
	log_info("monitor %" PRIu64 " (%s): %s", m->id, m->path, msg);
	monitor_emit(m, "updated", 0, NULL, msg);
}

/* How make_plan gets the file's extents. */
enum extents_how {
	EXTENTS_KNOWN, /* as last read: no file changed that we know of */
	EXTENTS_LOOK,  /* read again if the size or block count changed */
	EXTENTS_READ   /* read again */
};

/* Plan from the file's extents, got as HOW says. Returns 1 if a plan was
 * made, 0 if there is none to make now (the monitor ended, or waits), or
 * -errno (said as the monitor's error). */
static int make_plan(struct monitor *m,
		     const struct group_view *v, enum extents_how how,
		     struct plan *p)
{
	char why[256];
	int r = how == EXTENTS_KNOWN ? 0
				     : monitor_read_extents(m, how == EXTENTS_READ, NULL);

	if (r < 0) {
		snprintf(why, sizeof(why), "cannot read extents: %s",
			 strerror(-r));
		set_error(m, why);
		m->dirty = true; /* read again at the next pass */
		return r;
	}
	if (m->want.n == 0 && m->replaced) {
		/* follow-path: a file put at the path is often written just
		 * after it is created; it gets the grace a missing path gets */
		if (!ev_is_active(&m->timer)) {
			ev_timer_set(&m->timer, PATH_GRACE, 0.);
			ev_timer_start(m->svc->loop, &m->timer);
		}
		return 0;
	}
	if (m->want.n == 0) {
		monitor_end(m, "no-extents", "%s has no extents left",
			    m->path);
		return 0;
	}
	if (m->replaced) {
		m->replaced = false;
		ev_timer_stop(m->svc->loop, &m->timer);
	}
	if ((r = plan_make(v->members, v->n, &m->want, p)) < 0) {
		set_error(m, "out of memory");
		return r;
	}
	return 1;
}

/* The group's alias may be changed by another tool at any time. */
static void update_alias(struct monitor *m, const char *alias)
{
	char *s = NULL;

	if (!strcmp(m->alias ? m->alias : "", alias))
		return;
	if (alias[0] && !(s = strdup(alias)))
		return; /* keep the old one */
	free(m->alias);
	m->alias = alias[0] ? s : NULL;
}

int monitor_sync_plan(struct monitor *m, bool *carried)
{
	struct group_view v;
	struct plan p;
	bool fresh = m->dirty;
	int r;

	monitor_unplan(m);
	if (m->state == MS_ENDED || !m->device->rs.valid)
		return 0;
	if ((r = group_read(&m->device->rs, m->group_id, &v)) <= 0) {
		if (r == 0)
			monitor_end(m, "group-deleted",
				    "group %" PRIu64 " was deleted", m->group_id);
		return 0;
	}
	m->regions = v.n;
	update_alias(m, v.desc.alias);
	if (tally_prune(m, &v)) /* before their ids are given again */
		monitor_registration_changed(m);
	if (m->state == MS_MISSING)
		goto none; /* follow-path, waiting for the path to return */
	m->dirty = false;
	/* a monitor synced because the list changed, not its file, plans
	 * from the extents it knows: no syscall unless the group differs */
	if ((r = make_plan(m, &v, fresh ? EXTENTS_LOOK : EXTENTS_KNOWN,
			   &p)) <= 0)
		goto none;
	if (!plan_empty(&p) && !fresh) {
		/* the group changed, not (that we saw) the file: look again */
		plan_free(&p);
		if ((r = make_plan(m, &v, EXTENTS_READ, &p)) <= 0)
			goto none;
	}
	if (plan_empty(&p) && !v.missing) {
		plan_free(&p);
		goto none;
	}
	/* the counts of what goes are read before anything changes */
	group_fix_plan(&m->device->rs, &v, &p);
	if (tally_carry(m, &v, &p))
		*carried = true;
	m->view = v;
	m->plan = p;
	m->planned = true;
	return 1;
none:
	group_view_free(&v);
	return 0;
}

void monitor_sync_apply(struct monitor *m)
{
	if (!m->planned)
		return;
	if (m->state != MS_ENDED)
		apply(m, &m->view, &m->plan);
	monitor_unplan(m);
}

void monitor_sync(struct monitor *m)
{
	const struct service_hooks *h = &m->svc->hooks;
	bool carried = false;

	if (monitor_sync_plan(m, &carried) <= 0)
		return;
	if (carried && h->persist && h->persist(h->arg) < 0)
		log_warnx("monitor %" PRIu64 " (%s): the counts carried could "
			  "not be saved before their regions go", m->id,
			  m->path);
	monitor_sync_apply(m);
}
