/* reconcile.c: a monitor's group made to match its file: the extents read
 * again when they may have changed, the plan, its counts, its applying. */
#define _GNU_SOURCE
#include "core/group.h"
#include "log.h"
#include "service/device.h"
#include "service/monitor.h"
#include "service/recover.h"
#include "core/marks.h"
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
 * written (or swept) since, at most once per check interval. A delayed
 * allocation found has its writeback started (never waited for: the
 * device may be suspended) and the file is read again an interval later.
 * Returns 0, or -errno. */
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
	if (m->reread_at == 0) { /* nothing was read */
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
	if (r == -EAGAIN) /* starts the writeback, never waits for it */
		r = be->extents(be->ctx, m->fd, true, &e);
	if (r < 0)
		return r;
	/* r > 0: the layout is pending (delayed allocations whose writeback
	 * was started, maybe on a suspended device): these extents are used
	 * now, and the file is read again a check interval later */
	m->reread = r > 0;
	if (r > 0)
		m->dirty = true;
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

void monitor_error(struct monitor *m, const char *why)
{
	if (m->last_error && !strcmp(m->last_error, why))
		return; /* said already */
	free(m->last_error);
	m->last_error = strdup(why);
	m->svc->errors++;
	log_warnx("monitor %" PRIu64 " (%s): %s", m->id, m->path, why);
	monitor_emit(m, "error", 0, NULL, why);
}

void monitor_error_clear(struct monitor *m)
{
	if (!m->last_error)
		return;
	log_info("monitor %" PRIu64 " (%s): right again after: %s", m->id,
		 m->path, m->last_error);
	free(m->last_error);
	m->last_error = NULL;
}

/* The pending counts against group ID as it is now (OLD: as it was
 * before): those of regions deleted or released settle, those still
 * members are live again, those whose delete failed stay pending (and
 * say so, WHY). Returns how many stay. */
static size_t settle(struct monitor *m, uint64_t id,
		     const struct group_view *old, char *why, size_t len)
{
	struct group_view v;
	size_t left, done;

	if (!m->ledger.pending.n || group_read(&m->device->rs, id, &v) < 0)
		return 0;
	left = tally_settle_gone(m, &v, old, &done, why, len);
	group_view_free(&v);
	if (done)
		monitor_registration_changed(m); /* saved as settled, soon */
	return left;
}

/* Apply PLAN to group V and report what changed. */
static void apply(struct monitor *m, const struct group_view *v,
		  struct plan *p)
{
	uint64_t new_id = m->group_id, old = m->group_id;
	char why[256], msg[160], mark[MARK_MAX], left[256];
	size_t released = 0;
	int r;

	mark_format(mark, sizeof(mark), m->svc->instance, m->id);
	if ((r = group_apply(&m->device->rs, v, p, mark, &new_id, why,
			     sizeof(why))) < 0) {
		(void)settle(m, old, v, left, sizeof(left)); /* members */
		monitor_error(m, why);
		return; /* the group is as it was; the next pass retries */
	}
	if (settle(m, new_id, v, left, sizeof(left)))
		monitor_error(m, r > 0 ? why : left); /* a delete to retry */
	else if (r > 0)
		monitor_error(m, why); /* a mark left, swept later */
	else
		monitor_error_clear(m);
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
		monitor_error(m, why);
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
		monitor_error(m, "out of memory");
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

/* Regions an earlier update dropped but could not delete are deleted now
 * (an old leader's descriptor with them), and settle once gone. */
void monitor_retry_drops(struct monitor *m)
{
	char why[256];

	recover_group(m, &m->ledger.pending); /* claims counted again */
	if (settle(m, m->group_id, NULL, why, sizeof(why)))
		monitor_error(m, why);
}

int monitor_sync_plan(struct monitor *m, bool *carried)
{
	struct regions *rs = &m->device->rs;
	struct group_view v;
	struct plan p;
	bool fresh = m->dirty;
	char why[256];
	size_t n;
	int r;

	monitor_unplan(m);
	if (m->state == MS_ENDED || !rs->valid)
		return 0;
	/* what a crash or a failed message left: deletes, an old leader's
	 * descriptor */
	if (m->ledger.pending.n || m->resumed || m->last_error) {
		m->resumed = false;
		monitor_retry_drops(m);
	}
	if ((r = group_read(rs, m->group_id, &v)) < 0)
		return 0;
	if (rs->list.skipped && (r == 0 || v.missing)) {
		/* rows we cannot read may be this group's: wait */
		snprintf(why, sizeof(why), "the region list of %s has %zu rows "
			 "that cannot be read: group %" PRIu64 " is left as "
			 "it is", m->device->name, rs->list.skipped,
			 m->group_id);
		monitor_error(m, why);
		if (r > 0)
			group_view_free(&v);
		return 0;
	}
	if (r == 0) {
		monitor_end(m, "group-deleted", "group %" PRIu64 " was deleted",
			    m->group_id);
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
		if (!m->ledger.pending.n && !rs->marked)
			monitor_error_clear(m); /* as it should be, swept */
		goto none;
	}
	/* the counts of what goes are read before anything changes */
	group_fix_plan(rs, &v, &p);
	if ((r = tally_carry(m, &v, &p, &n, why, sizeof(why))) < 0) {
		monitor_error(m, why);
		m->dirty = true; /* planned again at the next pass */
		plan_free(&p);
		goto none;
	}
	if (n)
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
