/* inotify.h: one inotify instance whose watches are shared by every owner
 * of the same inode or directory; events go to each owner through a hook. */
#ifndef DMF_INOTIFY_H
#define DMF_INOTIFY_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/inotify.h>

#define INOTIFY_BUCKETS 4096

/* An event for OWNER, from its watch of the file itself or (DIR) of a
 * directory: for a directory, EV's name says which entry changed. */
typedef void (*inotify_event_fn)(void *arg, void *owner, bool dir,
				 const struct inotify_event *ev);
/* The kernel's queue overflowed: events were lost. */
typedef void (*inotify_overflow_fn)(void *arg);

struct inotify_use;

struct inotify_set {
	int fd;
	ev_io io;
	struct inotify_use *buckets[INOTIFY_BUCKETS]; /* by wd */
	size_t nwatches;
	inotify_event_fn event;
	inotify_overflow_fn overflow;
	void *arg;
};

/* Open the instance and read it from LOOP. Returns 0 or -errno. */
int inotify_set_start(struct inotify_set *s, struct ev_loop *loop,
		      inotify_event_fn event, inotify_overflow_fn overflow,
		      void *arg);
void inotify_set_stop(struct inotify_set *s, struct ev_loop *loop);
/* Watch PATH for OWNER (the file itself, or with DIR a directory).
 * Returns the watch descriptor, or -errno (ENOSPC: max_user_watches). */
int inotify_set_watch(struct inotify_set *s, void *owner, const char *path,
		      uint32_t mask, bool dir);
/* Drop OWNER's use of WD (if >= 0); the watch goes with its last user. */
void inotify_set_unwatch(struct inotify_set *s, void *owner, int wd);
/* Watches held. */
size_t inotify_set_count(const struct inotify_set *s);
/* A one-line reason for a failed start or watch (-errno ERR): for the
 * limits, which sysctl to raise and its current value. */
const char *inotify_set_strerror(int err, char *buf, size_t len);

#endif
