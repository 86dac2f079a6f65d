/* fiemap.c: a file's allocated extents as device sector ranges, read with
 * the FIEMAP ioctl (delayed allocations flushed first). */
#include "kernel/fiemap.h"

#include <errno.h>
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

int fiemap_read(int fd, bool sync, struct extent_list *out)
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
		fm->fm_flags = sync ? FIEMAP_FLAG_SYNC : 0;
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
			if (!sync && (e->fe_flags & FIEMAP_EXTENT_DELALLOC)) {
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

