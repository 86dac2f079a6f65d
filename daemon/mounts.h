/* mounts.h: the mount table, watched through poll on /proc/self/mountinfo:
 * a monitor whose filesystem is unmounted (even lazily) ends and lets go. */
#ifndef DMF_MOUNTS_H
#define DMF_MOUNTS_H

#include <ev.h>
#include <sys/stat.h>

struct monitor;

int mounts_init(struct ev_loop *loop);
void mounts_shutdown(struct ev_loop *loop);
/* fstat(2) FD and get the id of the mount holding it (-1 if unknown), in
 * one statx(2) where the kernel can. Returns 0, or -1 with errno set. */
int mounts_fstat(int fd, struct stat *st, int *mnt_id);

#endif
