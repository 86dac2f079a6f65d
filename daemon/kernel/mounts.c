/* mounts.c: the mount table, watched through poll on /proc/self/mountinfo
 * (a hook hears of each change), and the mount id of an open file. */
#define _GNU_SOURCE /* statx */
#include "kernel/mounts.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The mount id from /proc/self/fdinfo: for kernels before 5.8. */
static int fdinfo_mnt_id(int fd)
{
	char path[64], line[256];
	int id = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "mnt_id: %d", &id) == 1)
			break;
	fclose(f);
	return id;
}

int mounts_fstat(int fd, struct stat *st, int *mnt_id)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT,
		  STATX_BASIC_STATS | STATX_MNT_ID, &sx) < 0) {
		if (errno != ENOSYS)
			return -errno;
		if (fstat(fd, st) < 0) /* no statx: seccomp, old kernels */
			return -errno;
		*mnt_id = fdinfo_mnt_id(fd);
		return 0;
	}
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	st->st_ino = sx.stx_ino;
	st->st_mode = sx.stx_mode;
	st->st_nlink = sx.stx_nlink;
	st->st_uid = sx.stx_uid;
	st->st_gid = sx.stx_gid;
	st->st_size = (off_t)sx.stx_size;
	st->st_blocks = (blkcnt_t)sx.stx_blocks;
	*mnt_id = (sx.stx_mask & STATX_MNT_ID) ? (int)sx.stx_mnt_id
					       : fdinfo_mnt_id(fd);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The ids of the mounts in our namespace, sorted. */
static int *read_ids(size_t *n)
{
	size_t cap = 64;
	int *v = malloc(cap * sizeof(*v));
	char *line = NULL;
	size_t llen = 0;
	FILE *f;

	*n = 0;
	if (!v || !(f = fopen("/proc/self/mountinfo", "re"))) {
		free(v);
		return NULL;
	}
	while (getline(&line, &llen, f) > 0) {
		int id;
		if (sscanf(line, "%d ", &id) != 1)
			continue;
		if (*n == cap) {
			int *nv = realloc(v, (cap *= 2) * sizeof(*v));
			if (!nv) {
				free(v);
				v = NULL;
				break;
			}
			v = nv;
		}
		v[(*n)++] = id;
	}
	free(line);
	fclose(f);
	if (v)
		qsort(v, *n, sizeof(*v), cmp_int);
	return v;
}

bool mounts_listed(const int *ids, size_t n, int mnt_id)
{
	return bsearch(&mnt_id, ids, n, sizeof(*ids), cmp_int) != NULL;
}

/* The table changed: tell the hook which mounts are left. */
static void changed_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mounts *mt = (struct mounts *)((char *)w -
					      offsetof(struct mounts, io));
	size_t n;
	int *ids;

	(void)loop;
	(void)revents;
	log_debug("mount table changed");
	if (!(ids = read_ids(&n))) {
		log_warn("cannot read /proc/self/mountinfo");
		return;
	}
	free(mt->ids);
	mt->ids = ids;
	mt->nids = n;
	mt->changed(mt->arg, ids, n);
}

int mounts_ours(const struct mounts *mt, int mnt_id)
{
	return mnt_id >= 0 && mt->ids && mounts_listed(mt->ids, mt->nids, mnt_id)
		       ? mnt_id : -1;
}

int mounts_start(struct mounts *mt, struct ev_loop *loop,
		 mounts_changed_fn changed, void *arg)
{
	mt->changed = changed;
	mt->arg = arg;
	mt->fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mt->fd < 0)
		return -errno;
	/* mountinfo is always readable; a change is signalled as an error
	 * condition, which poll and epoll report to a write watcher */
	mt->ids = read_ids(&mt->nids); /* NULL: no mount checked */
	ev_io_init(&mt->io, changed_cb, mt->fd, EV_WRITE);
	ev_io_start(loop, &mt->io);
	return 0;
}

void mounts_stop(struct mounts *mt, struct ev_loop *loop)
{
	if (mt->fd < 0 || !mt->changed)
		return;
	ev_io_stop(loop, &mt->io);
	if (close(mt->fd) < 0)
		log_warn("close /proc/self/mountinfo");
	mt->fd = -1;
	free(mt->ids);
	mt->ids = NULL;
	mt->nids = 0;
}
