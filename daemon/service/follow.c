/* follow.c: following a monitored file as it changes, moves and goes:
 * inotify events, follow-inode unlinks, follow-path replacement. */
#define _GNU_SOURCE
#include "kernel/holders.h"
#include "kernel/mounts.h"
#include "log.h"
#include "service/monitor.h"
#include "service/service.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOLDER_DELAY 0.1 /* seconds from a close to the /proc scan */

/* M's file was written, or replaced: its extents are read again (its
 * layout may change without its size: a COW overwrite, a zeroed range). */
static void changed(struct monitor *m)
{
	m->dirty = true;
	m->reread = true;
	device_schedule(m->device);
}

/* M holds FD (its file ST, on mount MNT_ID) from now on, in place of the
 * file it held: its watch, the fd store and the saved registration follow,
 * and the group is planned from the new file's extents. */
static void take_file(struct monitor *m, int fd, const struct stat *st,
		      int mnt_id)
{
	const struct service_hooks *h = &m->svc->hooks;

	inotify_set_unwatch(&m->svc->inotify, m, m->wd_file);
	m->wd_file = -1;
	if (close(m->fd) < 0)
		log_warn("close %s", m->path);
	if (h->drop_fd)
		h->drop_fd(h->arg, m);
	m->fd = fd;
	if (h->keep_fd)
		h->keep_fd(h->arg, m);
	m->st_dev = st->st_dev;
	m->st_ino = st->st_ino;
	m->mnt_id = mounts_ours(&m->svc->mounts, mnt_id);
	m->st_blocks = -1;
	m->state = MS_ACTIVE;
	monitor_registration_changed(m);
	if (monitor_watch_file(m) < 0)
		log_warnx("monitor %" PRIu64 ": cannot watch new %s", m->id,
			  m->path);
	changed(m);
}

/* Follow-inode: the file's new name, from our own fd. */
static void renamed(struct monitor *m)
{
	char proc[64], buf[4096];
	ssize_t n;
	char *p;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", m->fd);
	n = readlink(proc, buf, sizeof(buf) - 1);
	if (n <= 0 || buf[0] != '/')
		return;
	buf[n] = '\0';
	if (strstr(buf, " (deleted)"))
		return;
	if (!(p = strdup(buf)))
		return;
	log_info("monitor %" PRIu64 ": %s renamed to %s", m->id, m->path, p);
	free(m->path);
	m->path = p;
	m->base = strrchr(p, '/') + 1;
	monitor_registration_changed(m);
}

/* Follow-inode: the file lost its last name. It ends unless another
 * process still holds it, and then when the last one closes it. */
static void check_unlinked(struct monitor *m)
{
	struct stat st;
	int held;

	if (fstat(m->fd, &st) < 0)
		return;
	if (st.st_nlink > 0) {
		if (m->state == MS_UNLINKED)
			m->state = MS_ACTIVE; /* linked again */
		return;
	}
	/* the service manager holds our fd store's copy: not a user */
	held = holders_other(m->st_dev, m->st_ino, m->svc->ignore_holder);
	if (held < 0)
		log_warnx("monitor %" PRIu64 ": cannot scan /proc: %s", m->id,
			  strerror(-held));
	if (held == 0) {
		monitor_end(m, "unlinked",
			    "%s was unlinked and no other process holds it",
			    m->path);
		return;
	}
	if (m->state != MS_UNLINKED) {
		char proc[64];
		int wd;
		m->state = MS_UNLINKED;
		log_info("monitor %" PRIu64 ": %s unlinked, still held open",
			 m->id, m->path);
		/* now closes matter: add them to the inode's watch */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", m->fd);
		wd = inotify_set_watch(&m->svc->inotify, m, proc,
				       IN_CLOSE_WRITE | IN_CLOSE_NOWRITE, false);
		if (wd >= 0) /* the same wd: one use is enough */
			inotify_set_unwatch(&m->svc->inotify, m, wd);
	}
}

/* Follow-path: look at what is at the path now. */
static void check_path(struct monitor *m, bool final)
{
	struct stat st;
	int fd, mnt_id;

	if (stat(m->path, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (final) {
			monitor_end(m, "path-gone",
				    "%s has been gone for %.0f s", m->path,
				    PATH_GRACE);
		} else if (m->state != MS_MISSING) {
			m->state = MS_MISSING;
			log_info("monitor %" PRIu64 ": %s is gone, waiting",
				 m->id, m->path);
			ev_timer_set(&m->timer, PATH_GRACE, 0.);
			ev_timer_start(m->svc->loop, &m->timer);
		}
		return;
	}
	if (st.st_dev == m->st_dev && st.st_ino == m->st_ino) {
		m->state = MS_ACTIVE;
		if (final && m->replaced) {
			/* the grace for the new file is over: judge it now */
			m->replaced = false;
			changed(m);
		} else if (!m->replaced) {
			ev_timer_stop(m->svc->loop, &m->timer);
		}
		return;
	}
	ev_timer_stop(m->svc->loop, &m->timer);
	if (st.st_dev != m->st_dev) {
		monitor_end(m, "path-gone",
			    "%s is now a file on another device", m->path);
		return;
	}
	fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || mounts_fstat(fd, &st, &mnt_id) < 0 ||
	    !S_ISREG(st.st_mode) ||
	    st.st_dev != m->st_dev) {
		if (fd >= 0)
			close(fd);
		return check_path(m, final); /* changed again: retry */
	}
	log_info("monitor %" PRIu64 ": %s replaced, remapping", m->id, m->path);
	take_file(m, fd, &st, mnt_id);
	m->replaced = true;
}

void monitor_file_event(struct monitor *m, uint32_t mask)
{
	if (mask & (IN_UNMOUNT | IN_IGNORED)) {
		/* the kernel dropped the watch: the filesystem went away */
		inotify_set_unwatch(&m->svc->inotify, m, m->wd_file);
		m->wd_file = -1;
		monitor_end(m, "unmounted",
			    "the filesystem of %s was unmounted", m->path);
		return;
	}
	if (mask & (IN_MODIFY | IN_CLOSE_WRITE))
		changed(m);
	if (m->mode == MODE_PATH)
		return; /* names are the directory watch's business */
	if (mask & IN_MOVE_SELF)
		renamed(m);
	if (mask & IN_ATTRIB)
		check_unlinked(m);
	if ((mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)) &&
	    m->state == MS_UNLINKED && !ev_is_active(&m->timer)) {
		ev_timer_set(&m->timer, HOLDER_DELAY, 0.);
		ev_timer_start(m->svc->loop, &m->timer);
	}
}

void monitor_dir_event(struct monitor *m, uint32_t mask)
{
	if (mask & IN_IGNORED) {
		inotify_set_unwatch(&m->svc->inotify, m, m->wd_dir);
		m->wd_dir = -1;
	}
	check_path(m, false);
}

void monitor_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct monitor *m = (struct monitor *)((char *)w -
					       offsetof(struct monitor, timer));

	(void)loop;
	(void)revents;
	if (m->state == MS_ENDED)
		return;
	if (m->mode == MODE_PATH)
		check_path(m, true);
	else
		check_unlinked(m);
}

bool monitor_same_options(const struct monitor *m, const struct monitor *n)
{
	return m->mode == n->mode && !strcmp(m->path, n->path) &&
	       m->st_dev == n->st_dev && m->st_ino == n->st_ino;
}

void monitor_take_options(struct monitor *m, struct monitor *n)
{
	struct stat st = { .st_dev = n->st_dev, .st_ino = n->st_ino };
	char msg[2 * PATH_MAX + 128];
	int off;

	off = snprintf(msg, sizeof(msg), "options changed: follow %s",
		       monitor_mode_name(n->mode));
	if (n->mode != m->mode)
		off += snprintf(msg + off, sizeof(msg) - (size_t)off,
				" (was %s)", monitor_mode_name(m->mode));
	if (strcmp(n->path, m->path))
		snprintf(msg + off, sizeof(msg) - (size_t)off,
			 ", path %s (was %s)", n->path, m->path);
	else if (n->st_ino != m->st_ino)
		snprintf(msg + off, sizeof(msg) - (size_t)off,
			 ", another file at %s", n->path);
	/* what the old daemon held goes, as if it were killed */
	ev_timer_stop(m->svc->loop, &m->timer);
	m->replaced = false;
	inotify_set_unwatch(&m->svc->inotify, m, m->wd_dir);
	m->wd_dir = -1;
	free(m->path);
	m->path = n->path;
	m->base = n->base;
	n->path = NULL;
	m->mode = n->mode;
	if (m->mode == MODE_PATH && monitor_watch_dir(m) < 0)
		log_warnx("monitor %" PRIu64 ": cannot watch the directory of "
			  "%s", m->id, m->path);
	take_file(m, n->fd, &st, n->mnt_id);
	n->fd = -1;
	monitor_discard(n);
	log_info("monitor %" PRIu64 " (%s): %s", m->id, m->path, msg);
	monitor_emit(m, "changed", 0, NULL, msg);
}
