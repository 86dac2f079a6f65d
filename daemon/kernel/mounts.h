/* mounts.h: the mount table, watched through poll on /proc/self/mountinfo
 * (a hook hears of each change), and the mount id of an open file. */
#ifndef DMF_MOUNTS_H
#define DMF_MOUNTS_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* The mount table changed: IDS (N, sorted) are the mounts in it now. */
typedef void (*mounts_changed_fn)(void *arg, const int *ids, size_t n);

struct mounts {
	int fd;
	ev_io io;
	mounts_changed_fn changed;
	void *arg;
	int *ids;  /* the mounts in our namespace as last read, sorted */
	size_t nids;
};

/* Watch the table from LOOP. Returns 0 or -errno. */
int mounts_start(struct mounts *mt, struct ev_loop *loop,
		 mounts_changed_fn changed, void *arg);
void mounts_stop(struct mounts *mt, struct ev_loop *loop);
/* Whether MNT_ID is among IDS (as given to the hook). */
bool mounts_listed(const int *ids, size_t n, int mnt_id);
/* MNT_ID if it is a mount of our namespace as last read, else -1: a file
 * passed by a client of another mount namespace (a container, or ours
 * is the service's own) has a mount id that means nothing here. */
int mounts_ours(const struct mounts *mt, int mnt_id);
/* fstat(2) FD and get the id of the mount holding it (-1 if unknown), in
 * one statx(2) where the kernel can. Returns 0 or -errno. */
int mounts_fstat(int fd, struct stat *st, int *mnt_id);

#endif
