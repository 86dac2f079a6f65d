/* notify.h: the supervisor's one inotify instance: watches shared by every
 * monitor of the same inode or directory, and event dispatch to them. */
#ifndef DMF_NOTIFY_H
#define DMF_NOTIFY_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct monitor;

int notify_init(struct ev_loop *loop);
void notify_shutdown(struct ev_loop *loop);
/* Watch PATH for M (the file itself, or with DIR its parent directory).
 * Returns the watch descriptor, or -errno (ENOSPC: max_user_watches). */
int notify_watch(struct monitor *m, const char *path, uint32_t mask,
		 bool dir);
/* Drop M's use of WD; the watch goes when its last user does. */
void notify_unwatch(struct monitor *m, int wd);
/* inotify watches held, and the instance's errno at init (0 if fine). */
size_t notify_count(void);
/* A one-line reason for a failed notify_init or notify_watch (-errno ERR):
 * for the limits, which sysctl to raise and its current value. */
const char *notify_strerror(int err, char *buf, size_t len);

#endif
