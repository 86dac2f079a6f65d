/* monitor.c: one file kept matched by one dm-stats group: registering it,
 * ending it (reconciling: reconcile.c; following: follow.c). */
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

	m->svc->unmonitored.scanned_at = 0; /* a group's keeper changed? */
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
	/* checked at unmounts only if it is a mount of ours */
	m->mnt_id = mounts_ours(&s->mounts, mnt_id);
	ev_timer_init(&m->timer, monitor_timer_cb, 0., 0.);
	return m;
}

static void monitor_free(struct monitor *m)
{
	monitor_unplan(m);
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
		char mark[MARK_MAX];
		mark_format(mark, sizeof(mark), m->svc->instance, 0);
		r = group_create(&d->rs, &m->want, req->alias, req->precise,
				 req->histogram, mark, &m->group_id, why,
				 sizeof(why));
		if (r < 0) {
			set_err(err, DMF_ERR("DeviceError"),
				"cannot monitor %s: %s", req->path, why);
			return r;
		}
		if (r > 0) { /* made, but a mark is left to the sweep */
			log_warnx("monitor %s: %s", req->path, why);
			m->last_error = strdup(why);
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
	    !(req->batch && d->rs.valid && !d->rs.stale) &&
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
	if ((r = monitor_read_extents(m, true, &st)) < 0 || m->want.n == 0) {
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
		/* its pending counts are settled by the first sync */
		m->ledger = *req->ledger;
		ledger_init(req->ledger);
		m->resumed = true;
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
	if (m->last_error) /* made, with a mark left to the sweep */
		monitor_emit(m, "error", 0, NULL, m->last_error);
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
	struct regions *rs = &m->device->rs;
	char why[256] = "", mark[MARK_MAX];
	struct group_view v;
	int r;

	if (!delete_group)
		goto end;
	/* a list that cannot be read whole may hide members: nothing is
	 * deleted, and the monitor stays */
	if ((r = regions_refresh(rs)) < 0 || rs->list.skipped) {
		set_err(err, DMF_ERR("DeviceError"),
			"cannot delete group %" PRIu64 " of %s: cannot list "
			"regions of %s: %s", m->group_id, m->path,
			m->device->name,
			r < 0 ? strerror(-r) : "rows that cannot be read");
		return r < 0 ? r : -EPROTO;
	}
	if ((r = group_read(rs, m->group_id, &v)) < 0) {
		set_err(err, DMF_ERR("DeviceError"), "out of memory");
		return r;
	}
	if (r > 0) {
		mark_format(mark, sizeof(mark), m->svc->instance, m->id);
		r = group_delete(rs, &v, mark, why, sizeof(why));
		group_view_free(&v);
		if (r < 0) {
			set_err(err, DMF_ERR("DeviceError"),
				"cannot delete group %" PRIu64 " of %s: %s",
				m->group_id, m->path, why);
			return r;
		}
	}
end:
	monitor_end(m, "removed", "removed by request%s%s%s",
		    delete_group ? ", group deleted" : "", why[0] ? "; " : "",
		    why);
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
