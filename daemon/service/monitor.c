/* monitor.c: one file kept matched by one dm-stats group: registering it,
 * reconciling the group with its extents, ending it (following: follow.c). */
#define _GNU_SOURCE
#include "service/monitor.h"
#include "core/group.h"
#include "dmfilemap.h"
#include "kernel/mounts.h"
#include "log.h"
#include "service/service.h"
#include "service/tally.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#define BTRFS_MAGIC 0x9123683EU
#define FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVE_SELF)
#define DIR_MASK                                                              \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |                \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

static void set_err(struct monitor_err *e, const char *name, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
static void set_err(struct monitor_err *e, const char *name, const char *fmt,
		    ...)
{
	va_list ap;

	e->name = name;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

void monitor_emit(const struct monitor *m, const char *event,
		  uint64_t old_group, const char *reason, const char *message)
{
	const struct service_hooks *h = &m->svc->hooks;

	if (h->event)
		h->event(h->arg, m, event, old_group, reason, message);
}

void monitor_registration_changed(const struct monitor *m)
{
	const struct service_hooks *h = &m->svc->hooks;

	if (h->changed)
		h->changed(h->arg);
}

const char *monitor_mode_name(enum monitor_mode mode)
{
	return mode == MODE_PATH ? "path" : "inode";
}

const char *monitor_state_name(enum monitor_state s)
{
	static const char *const names[] = { "active", "unlinked", "missing",
					     "ended" };
	return names[s];
}

struct monitor *monitor_find_id(const struct service *s, uint64_t id)
{
	struct monitor *m;

	TAILQ_FOREACH(m, &s->monitors, entry)
		if (m->id == id)
			return m;
	return NULL;
}

struct monitor *monitor_find_path(const struct service *s, const char *path)
{
	struct monitor *m;

	TAILQ_FOREACH(m, &s->monitors, entry)
		if (!strcmp(m->path, path))
			return m;
	return NULL;
}

static struct monitor *find_group(const struct device *d, uint64_t group_id)
{
	struct monitor *m;

	TAILQ_FOREACH(m, &d->monitors, dev_entry)
		if (m->group_id == group_id)
			return m;
	return NULL;
}

/* The fd must be a regular file and PATH must name it. Returns 0, or
 * -errno with ERR set. */
static int check_file(const struct monitor_req *req, struct stat *st,
		      int *mnt_id, struct monitor_err *err)
{
	const char *p = req->path;
	struct stat pst;
	int r;

	if (p[0] != '/') {
		set_err(err, DMF_ERR("BadFile"),
			"cannot monitor %s: path is not absolute", p);
		return -EINVAL;
	}
	if ((r = mounts_fstat(req->fd, st, mnt_id)) < 0 ||
	    !S_ISREG(st->st_mode)) {
		set_err(err, DMF_ERR("BadFile"),
			"cannot monitor %s: the descriptor passed is not a "
			"regular file", p);
		return r < 0 ? r : -EINVAL;
	}
	if (req->trusted)
		return 0; /* our own fd, from the fd store: it may be renamed */
	if (stat(p, &pst) < 0) {
		r = -errno;
		set_err(err, DMF_ERR("BadFile"), "cannot monitor %s: %s", p,
			strerror(-r));
		return r;
	}
	if (pst.st_dev != st->st_dev || pst.st_ino != st->st_ino) {
		set_err(err, DMF_ERR("BadFile"),
			"cannot monitor %s: the path does not name the file "
			"passed", p);
		return -EINVAL;
	}
	return 0;
}

/* A file whose device is not device-mapper: say why more exactly when its
 * filesystem is one whose extents are not device offsets. */
static void not_dm_err(const struct monitor_req *req, const char *why,
		       struct monitor_err *err)
{
	struct statfs sfs;

	if (fstatfs(req->fd, &sfs) == 0 && (uint32_t)sfs.f_type == BTRFS_MAGIC)
		set_err(err, DMF_ERR("UnsupportedFilesystem"),
			"cannot monitor %s: on btrfs, whose extents are not "
			"device offsets", req->path);
	else
		set_err(err, DMF_ERR("NotDeviceMapper"),
			"cannot monitor %s: %s", req->path, why);
}

/* Re-read the extents if the file may have changed (or FORCE), its size
 * and block count being KNOWN (fstat'ed just before) or looked up now.
 * A file whose size and block count are the same is read again if it was
 * written (or swept) since, at most once per check interval, without
 * flushing its dirty data (a delayed allocation found: with). Returns 0,
 * or -errno. */
static int read_extents(struct monitor *m, bool force, const struct stat *known)
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

int monitor_watch_file(struct monitor *m)
{
	char proc[64];
	int wd;

	/* the fd, not the path: the watch follows the inode */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", m->fd);
	if ((wd = inotify_set_watch(&m->svc->inotify, m, proc, FILE_MASK,
				    false)) < 0)
		return wd;
	m->wd_file = wd;
	return 0;
}

int monitor_watch_dir(struct monitor *m)
{
	char *dir = strndup(m->path, (size_t)(m->base - m->path));
	int wd;

	if (!dir)
		return -ENOMEM;
	wd = inotify_set_watch(&m->svc->inotify, m, dir[0] ? dir : "/",
			       DIR_MASK, true);
	free(dir);
	if (wd < 0)
		return wd;
	m->wd_dir = wd;
	return 0;
}

static struct monitor *monitor_new(struct service *s,
				   const struct monitor_req *req,
				   const struct stat *st, int mnt_id,
				   struct device *d)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (!m || !(m->path = strdup(req->path))) {
		free(m);
		return NULL;
	}
	m->svc = s;
	m->base = strrchr(m->path, '/') + 1;
	m->fd = req->fd;
	m->st_dev = st->st_dev;
	m->st_ino = st->st_ino;
	m->st_blocks = -1;
	m->device = d;
	m->mode = req->mode;
	m->state = MS_ACTIVE;
	m->since = (time_t)ev_now(s->loop);
	m->wd_file = m->wd_dir = -1;
	m->mnt_id = mnt_id;
	ev_timer_init(&m->timer, monitor_timer_cb, 0., 0.);
	return m;
}

/* The pass's waiting plan, if any, goes. */
static void unplan(struct monitor *m)
{
	if (!m->planned)
		return;
	plan_free(&m->plan);
	group_view_free(&m->view);
	m->planned = false;
}

static void monitor_free(struct monitor *m)
{
	unplan(m);
	ledger_free(&m->ledger);
	extent_list_free(&m->want);
	free(m->path);
	free(m->alias);
	free(m->last_error);
	free(m);
}

static void limit_err(int r, const struct monitor_req *req,
		      struct monitor_err *err)
{
	char why[200];

	set_err(err, DMF_ERR("LimitExceeded"), "cannot monitor %s: %s",
		req->path, inotify_set_strerror(r, why, sizeof(why)));
}

void monitor_discard(struct monitor *m)
{
	inotify_set_unwatch(&m->svc->inotify, m, m->wd_file);
	inotify_set_unwatch(&m->svc->inotify, m, m->wd_dir);
	m->fd = -1;
	monitor_free(m);
}

/* Make the group (Create) or find it (Add); fills M's group fields.
 * Returns 0, or -errno with ERR set. */
static int attach_group(struct monitor *m, const struct monitor_req *req,
			struct monitor_err *err)
{
	struct device *d = m->device;
	struct group_view v;
	char why[256];
	int r;

	if (req->create) {
		r = group_create(&d->rs, &m->want, req->alias, req->precise,
				 req->histogram, &m->group_id, why,
				 sizeof(why));
		if (r < 0) {
			set_err(err, DMF_ERR("DeviceError"),
				"cannot monitor %s: %s", req->path, why);
			return r;
		}
	} else {
		m->group_id = req->group_id;
	}
	if ((r = group_read(&d->rs, m->group_id, &v)) <= 0) {
		set_err(err, DMF_ERR("NoSuchGroup"),
			"cannot monitor %s: no group %" PRIu64 " on %s (%s)",
			req->path, m->group_id, d->name, d->devstr);
		return r < 0 ? -ENOMEM : -ENOENT;
	}
	r = 0;
	if (v.desc.alias[0] && !(m->alias = strdup(v.desc.alias))) {
		set_err(err, DMF_ERR("DeviceError"), "out of memory");
		r = -ENOMEM;
	}
	m->regions = v.n;
	group_view_free(&v);
	return r;
}

/* Validate REQ and prepare a monitor for it (not yet linked), or NULL
 * with ERR set. */
static struct monitor *prepare(struct service *s, const struct monitor_req *req,
			       struct monitor_err *err)
{
	struct device *d;
	struct monitor *m;
	struct stat st;
	char why[256];
	int r, mnt_id;

	if (check_file(req, &st, &mnt_id, err) < 0)
		return NULL;
	if (!(d = device_get(&s->devices, st.st_dev, why, sizeof(why)))) {
		not_dm_err(req, why, err);
		return NULL;
	}
	/* a group named by the caller is looked up in a fresh list; a group
	 * we create needs none (the list follows what we do to it), unless
	 * another program was seen changing the regions */
	if ((!req->create || !d->rs.valid || d->rs.stale) &&
	    (r = regions_refresh(&d->rs)) < 0) {
		set_err(err, DMF_ERR("DeviceError"),
			"cannot monitor %s: cannot list regions of %s: %s",
			req->path, d->name, strerror(-r));
		return NULL;
	}
	if (!(m = monitor_new(s, req, &st, mnt_id, d))) {
		set_err(err, DMF_ERR("DeviceError"), "out of memory");
		return NULL;
	}
	/* the watch first: a change after the read below raises an event, so
	 * the first sync can plan from these extents without a look */
	if ((r = monitor_watch_file(m)) < 0 ||
	    (m->mode == MODE_PATH && (r = monitor_watch_dir(m)) < 0)) {
		limit_err(r, req, err);
		monitor_discard(m);
		return NULL;
	}
	if ((r = read_extents(m, true, &st)) < 0 || m->want.n == 0) {
		set_err(err, DMF_ERR("NoExtents"), "cannot monitor %s: %s",
			req->path,
			r < 0 ? strerror(-r) : "the file has no allocated extents");
		monitor_discard(m);
		return NULL;
	}
	return m;
}

struct monitor *monitor_add(struct service *s, const struct monitor_req *req,
			    enum monitor_added *added, struct monitor_err *err)
{
	struct monitor *m, *dup;

	*added = ADDED_NEW;
	if (s->nmonitors >= DMF_MONITORS_MAX) {
		set_err(err, DMF_ERR("LimitExceeded"),
			"cannot monitor %s: %d monitors already", req->path,
			DMF_MONITORS_MAX);
		return NULL;
	}
	if (!(m = prepare(s, req, err)))
		return NULL;
	if (!req->create && (dup = find_group(m->device, req->group_id))) {
		/* a second registration of the group: as the old daemon
		 * killed and a new one started, if its options differ */
		if (monitor_same_options(dup, m)) {
			monitor_discard(m);
			*added = ADDED_EXISTING;
		} else {
			monitor_take_options(dup, m);
			*added = ADDED_CHANGED;
		}
		return dup;
	}
	if (attach_group(m, req, err) < 0) {
		monitor_discard(m);
		return NULL;
	}
	if (req->ledger) {
		m->ledger = *req->ledger;
		ledger_init(req->ledger);
		if (tally_resolve(m) < 0)
			log_warnx("monitor %s: out of memory: its saved counts "
				  "are lost", req->path);
	}
	m->id = s->next_id++;
	TAILQ_INSERT_TAIL(&s->monitors, m, entry);
	TAILQ_INSERT_TAIL(&m->device->monitors, m, dev_entry);
	s->nmonitors++;
	m->device->nmonitors++;
	log_info("monitor %" PRIu64 ": %s, group %" PRIu64 " on %s, follow %s",
		 m->id, m->path, m->group_id, m->device->name,
		 monitor_mode_name(m->mode));
	monitor_emit(m, "added", 0, NULL, "monitor added");
	monitor_registration_changed(m);
	if (s->hooks.keep_fd)
		s->hooks.keep_fd(s->hooks.arg, m);
	if (req->trusted && m->mode == MODE_INODE) /* renamed, unlinked? */
		monitor_file_event(m, IN_MOVE_SELF | IN_ATTRIB);
	if (m->state == MS_ENDED)
		return m;
	monitor_sync(m); /* reconcile at once */
	return m;
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
				     : read_extents(m, how == EXTENTS_READ, NULL);

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

	unplan(m);
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
	unplan(m);
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

void monitor_end(struct monitor *m, const char *reason, const char *fmt, ...)
{
	struct service *s = m->svc;
	char msg[512];
	va_list ap;

	if (m->state == MS_ENDED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("monitor %" PRIu64 " (%s): ended: %s", m->id, m->path, msg);
	monitor_emit(m, "ended", 0, reason, msg);
	m->state = MS_ENDED;
	/* at a shutdown the fds stay kept: the next start takes them back */
	if (strcmp(reason, "shutdown") && s->hooks.drop_fd)
		s->hooks.drop_fd(s->hooks.arg, m);
	ev_timer_stop(s->loop, &m->timer);
	inotify_set_unwatch(&s->inotify, m, m->wd_file);
	inotify_set_unwatch(&s->inotify, m, m->wd_dir);
	m->wd_file = m->wd_dir = -1;
	if (m->fd >= 0 && close(m->fd) < 0)
		log_warn("close %s", m->path);
	m->fd = -1;
	TAILQ_REMOVE(&s->monitors, m, entry);
	TAILQ_REMOVE(&m->device->monitors, m, dev_entry);
	s->nmonitors--;
	m->device->nmonitors--;
	m->device = NULL; /* devices without monitors go in devices_reap */
	monitor_registration_changed(m);
	TAILQ_INSERT_TAIL(&s->dead, m, entry);
}

int monitor_remove(struct monitor *m, bool delete_group,
		   struct monitor_err *err)
{
	struct group_view v;
	int r;

	if (delete_group && regions_refresh(&m->device->rs) >= 0 &&
	    group_read(&m->device->rs, m->group_id, &v) > 0) {
		r = group_delete(&m->device->rs, &v);
		group_view_free(&v);
		if (r < 0) {
			set_err(err, DMF_ERR("DeviceError"),
				"cannot delete group %" PRIu64 " of %s: %s",
				m->group_id, m->path, strerror(-r));
			return r;
		}
	}
	monitor_end(m, "removed", "removed by request%s",
		    delete_group ? ", group deleted" : "");
	return 0;
}

void monitor_reap(struct service *s)
{
	struct monitor *m;

	while ((m = TAILQ_FIRST(&s->dead))) {
		TAILQ_REMOVE(&s->dead, m, entry);
		monitor_free(m);
	}
}
