/* inotify.c: one inotify instance whose watches are shared by every owner
 * of the same inode or directory; events go to each owner through a hook. */
#include "kernel/inotify.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* One owner's use of one watch descriptor. */
struct inotify_use {
	int wd;
	bool dir;
	void *owner;
	struct inotify_use *next;
};

static struct inotify_use **bucket(struct inotify_set *s, int wd)
{
	return &s->buckets[(unsigned)wd % INOTIFY_BUCKETS];
}

static bool wd_used(struct inotify_set *s, int wd)
{
	for (struct inotify_use *u = *bucket(s, wd); u; u = u->next)
		if (u->wd == wd)
			return true;
	return false;
}

int inotify_set_watch(struct inotify_set *s, void *owner, const char *path,
		      uint32_t mask, bool dir)
{
	struct inotify_use *u;
	int wd;

	if (!(u = malloc(sizeof(*u))))
		return -ENOMEM;
	wd = inotify_add_watch(s->fd, path, mask | IN_MASK_ADD);
	if (wd < 0) {
		int e = errno;
		free(u);
		return -e;
	}
	if (!wd_used(s, wd))
		s->nwatches++;
	u->wd = wd;
	u->dir = dir;
	u->owner = owner;
	u->next = *bucket(s, wd);
	*bucket(s, wd) = u;
	return wd;
}

void inotify_set_unwatch(struct inotify_set *s, void *owner, int wd)
{
	struct inotify_use **p;

	if (wd < 0)
		return;
	for (p = bucket(s, wd); *p; p = &(*p)->next) {
		if ((*p)->wd == wd && (*p)->owner == owner) {
			struct inotify_use *u = *p;
			*p = u->next;
			free(u);
			break;
		}
	}
	if (!wd_used(s, wd)) {
		s->nwatches--;
		/* EINVAL: the kernel already dropped it (IN_IGNORED) */
		if (inotify_rm_watch(s->fd, wd) < 0 && errno != EINVAL)
			log_warn("inotify_rm_watch %d", wd);
	}
}

size_t inotify_set_count(const struct inotify_set *s)
{
	return s->nwatches;
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

const char *inotify_set_strerror(int err, char *buf, size_t len)
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

/* Deliver one event to every owner of its watch. The owners are taken
 * first, by value: a hook may drop watches (and free their uses), while
 * owners stay allocated until the loop turn ends. */
static void deliver(struct inotify_set *s, const struct inotify_event *ev)
{
	struct target {
		void *owner;
		bool dir;
	} one[16], *v = one;
	size_t n = 0, cap = 16;

	for (struct inotify_use *u = *bucket(s, ev->wd); u; u = u->next) {
		if (u->wd != ev->wd)
			continue;
		if (n == cap) {
			struct target *nv = malloc(cap * 2 * sizeof(*nv));
			if (!nv) {
				log_warnx("inotify: out of memory, event dropped");
				break;
			}
			memcpy(nv, v, n * sizeof(*v));
			if (v != one)
				free(v);
			v = nv;
			cap *= 2;
		}
		v[n].owner = u->owner;
		v[n++].dir = u->dir;
	}
	for (size_t i = 0; i < n; i++)
		s->event(s->arg, v[i].owner, v[i].dir, ev);
	if (v != one)
		free(v);
}

static void inotify_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct inotify_set *s =
		(struct inotify_set *)((char *)w - offsetof(struct inotify_set, io));
	char buf[64 * 1024]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)loop;
	(void)revents;
	for (;;) {
		n = read(s->fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("inotify read");
			return;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (void *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				log_warnx("inotify queue overflow: rechecking all");
				s->overflow(s->arg); /* events were lost */
			} else {
				deliver(s, ev);
			}
			p += sizeof(*ev) + ev->len;
		}
		if ((size_t)n < sizeof(buf) - sizeof(struct inotify_event) -
					NAME_MAX - 1)
			return;
	}
}

int inotify_set_start(struct inotify_set *s, struct ev_loop *loop,
		      inotify_event_fn event, inotify_overflow_fn overflow,
		      void *arg)
{
	memset(s, 0, sizeof(*s));
	s->event = event;
	s->overflow = overflow;
	s->arg = arg;
	s->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	ev_io_init(&s->io, inotify_read_cb, s->fd, EV_READ);
	ev_io_start(loop, &s->io);
	return 0;
}

void inotify_set_stop(struct inotify_set *s, struct ev_loop *loop)
{
	if (s->fd < 0 || !s->event)
		return;
	ev_io_stop(loop, &s->io);
	for (size_t i = 0; i < INOTIFY_BUCKETS; i++)
		while (s->buckets[i]) {
			struct inotify_use *u = s->buckets[i];
			s->buckets[i] = u->next;
			free(u);
		}
	if (close(s->fd) < 0)
		log_warn("close inotify");
	s->fd = -1;
	s->nwatches = 0;
}
