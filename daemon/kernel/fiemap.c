/* fiemap.c: a file's allocated extents as device sector ranges, read with
 * the FIEMAP ioctl (the writeback of delayed allocations started first,
 * never waited for). */
#define _GNU_SOURCE
#include "kernel/fiemap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define SECTOR_SHIFT 9
#define FIEMAP_BATCH 256
/* A file with more extents than this is refused (the group would need
 * that many regions, each walked by dm-stats for every bio). */
#define EXTENTS_MAX 1000000

static bool extent_usable(const struct fiemap_extent *e)
{
	/* no physical location: nothing to count I/O against */
	if (e->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
			   FIEMAP_EXTENT_DATA_INLINE |
			   FIEMAP_EXTENT_NOT_ALIGNED))
		return false;
	return e->fe_length >> SECTOR_SHIFT > 0;
}

/* One FIEMAP walk of FD, without FIEMAP_FLAG_SYNC (which waits for the
 * writeback, and so for a suspended device). A delayed allocation gives
 * -EAGAIN, or with SKIP_DELALLOC is left out. */
static int read_map(int fd, bool skip_delalloc, struct extent_list *out)
{
	size_t sz = sizeof(struct fiemap) +
		    FIEMAP_BATCH * sizeof(struct fiemap_extent);
	struct fiemap *fm = malloc(sz);
	uint64_t next = 0;
	bool last = false;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!fm)
		return -ENOMEM;
	while (!last) {
		memset(fm, 0, sz);
		fm->fm_start = next;
		fm->fm_length = FIEMAP_MAX_OFFSET - next;
		fm->fm_extent_count = FIEMAP_BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			r = -errno;
			goto out;
		}
		if (fm->fm_mapped_extents == 0)
			break;
		for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
			const struct fiemap_extent *e = &fm->fm_extents[i];
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
			next = e->fe_logical + e->fe_length;
			if (!skip_delalloc &&
			    (e->fe_flags & FIEMAP_EXTENT_DELALLOC)) {
				r = -EAGAIN;
				goto out;
			}
			if (!extent_usable(e))
				continue;
			if (out->n >= EXTENTS_MAX) {
				r = -E2BIG;
				goto out;
			}
			r = extent_list_add(out, e->fe_physical >> SECTOR_SHIFT,
					    e->fe_length >> SECTOR_SHIFT);
			if (r)
				goto out;
		}
		if (next == 0) /* defensive: never loop on a bogus reply */
			break;
	}
	extent_list_finish(out);
out:
	free(fm);
	if (r)
		extent_list_free(out);
	return r;
}

int fiemap_read(int fd, bool sync, struct extent_list *out)
{
	int r = read_map(fd, false, out);

	if (r != -EAGAIN || !sync)
		return r;
	/* the delayed allocations get their places when their writeback
	 * starts (ext4, xfs); their I/O may take long (the device
	 * suspended), and later changes (unwritten extents converted, xfs
	 * copy-on-write blocks remapped) are seen by a later read */
	if (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) < 0)
		return -errno;
	r = read_map(fd, true, out);
	return r < 0 ? r : FIEMAP_PENDING;
}
