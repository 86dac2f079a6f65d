/* mounts.h: the mount table, watched through poll on /proc/self/mountinfo:
 * a monitor whose filesystem is unmounted (even lazily) ends and lets go. */
#ifndef DMF_MOUNTS_H
#define DMF_MOUNTS_H

#include <ev.h>

struct monitor;

int mounts_init(struct ev_loop *loop);
void mounts_shutdown(struct ev_loop *loop);
/* The mount id of FD (from /proc/self/fdinfo), or -1. */
int mounts_id_of(int fd);

#endif
