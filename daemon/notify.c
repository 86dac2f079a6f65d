/* notify.c: the supervisor's one inotify instance: watches shared by every
 * monitor of the same inode or directory, and event dispatch to them. */
#include "notify.h"
#include "log.h"
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define NBUCKETS 4096

/* One monitor's use of one watch descriptor. */
struct use {
	int wd;
	bool dir;
	struct monitor *m;
	struct use *next;
};

static int ifd = -1;
static ev_io io;
static struct use *buckets[NBUCKETS];
static size_t nwatches;

static struct use **bucket(int wd)
{
	return &buckets[(unsigned)wd % NBUCKETS];
}

static bool wd_used(int wd)
{
	for (struct use *u = *bucket(wd); u; u = u->next)
		if (u->wd == wd)
			return true;
	return false;
}

int notify_watch(struct monitor *m, const char *path, uint32_t mask,
		 bool dir)
{
	struct use *u;
	int wd;

	if (!(u = malloc(sizeof(*u))))
		return -ENOMEM;
	wd = inotify_add_watch(ifd, path, mask | IN_MASK_ADD);
	if (wd < 0) {
		int e = errno;
		free(u);
		return -e;
	}
	if (!wd_used(wd))
		nwatches++;
	u->wd = wd;
	u->dir = dir;
	u->m = m;
	u->next = *bucket(wd);
	*bucket(wd) = u;
	return wd;
}

void notify_unwatch(struct monitor *m, int wd)
{
	struct use **p;

	if (wd < 0)
		return;
	for (p = bucket(wd); *p; p = &(*p)->next) {
		if ((*p)->wd == wd && (*p)->m == m) {
			struct use *u = *p;
			*p = u->next;
			free(u);
			break;
		}
	}
	if (!wd_used(wd)) {
		nwatches--;
		/* EINVAL: the kernel already dropped it (IN_IGNORED) */
		if (inotify_rm_watch(ifd, wd) < 0 && errno != EINVAL)
			log_warn("inotify_rm_watch %d", wd);
	}
}

size_t notify_count(void)
{
	return nwatches;
}

/* The value of /proc/sys/fs/inotify/NAME, or -1. */
static long limit_of(const char *name)
{
	char path[64], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/fs/inotify/%s", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

const char *notify_strerror(int err, char *buf, size_t len)
{
	const char *name = err == -ENOSPC ? "max_user_watches"
			 : err == -EMFILE ? "max_user_instances" : NULL;

	if (!name) {
		snprintf(buf, len, "inotify: %s", strerror(-err));
		return buf;
	}
	snprintf(buf, len,
		 "inotify %s limit reached (fs.inotify.%s = %ld; raise it "
		 "with sysctl)", err == -ENOSPC ? "watch" : "instance", name,
		 limit_of(name));
	return buf;
}

/* Deliver one event to every monitor using its watch. Monitors ending
 * meanwhile are unlinked but not freed (monitor_reap), so the snapshot
 * stays valid; their state says to skip them. */
static void dispatch(struct ev_loop *loop, const struct inotify_event *ev)
{
	struct monitor *one[16], **v = one;
	bool isdir[16], *vd = isdir;
	size_t n = 0, cap = 16;

	for (struct use *u = *bucket(ev->wd); u; u = u->next) {
		if (u->wd != ev->wd)
			continue;
		if (n == cap) {
			size_t ncap = cap * 2;
			struct monitor **nv = malloc(ncap * sizeof(*nv));
			bool *nd = malloc(ncap * sizeof(*nd));
			if (!nv || !nd) {
				free(nv);
				free(nd);
				log_warnx("inotify: out of memory, event dropped");
				break;
			}
			memcpy(nv, v, n * sizeof(*v));
			memcpy(nd, vd, n * sizeof(*vd));
			if (v != one) {
				free(v);
				free(vd);
			}
			v = nv;
			vd = nd;
			cap = ncap;
		}
		v[n] = u->m;
		vd[n++] = u->dir;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i]->state == MS_ENDED)
			continue;
		if (!vd[i])
			monitor_file_event(loop, v[i], ev->mask);
		else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
			monitor_dir_event(loop, v[i], ev->mask);
		else if (ev->len && !strcmp(ev->name, v[i]->base))
			monitor_dir_event(loop, v[i], ev->mask);
	}
	if (v != one) {
		free(v);
		free(vd);
	}
}

static void notify_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char buf[64 * 1024]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)w;
	(void)revents;
	for (;;) {
		n = read(ifd, buf, sizeof(buf));
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("inotify read");
			return;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (void *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* events lost: every monitor re-reads */
				log_warnx("inotify queue overflow: rechecking all");
				struct monitor *m;
				TAILQ_FOREACH(m, &monitors, entry)
					monitor_file_event(loop, m, IN_MODIFY);
			} else {
				dispatch(loop, ev);
			}
			p += sizeof(*ev) + ev->len;
		}
		if ((size_t)n < sizeof(buf) - sizeof(struct inotify_event) -
					NAME_MAX - 1)
			return;
	}
}

int notify_init(struct ev_loop *loop)
{
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0)
		return -errno;
	ev_io_init(&io, notify_cb, ifd, EV_READ);
	ev_io_start(loop, &io);
	return 0;
}

void notify_shutdown(struct ev_loop *loop)
{
	if (ifd < 0)
		return;
	ev_io_stop(loop, &io);
	close(ifd);
	ifd = -1;
}
