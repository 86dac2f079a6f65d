/* fiemap.h: a file's allocated extents as device sector ranges, read with
 * the FIEMAP ioctl (the writeback of delayed allocations started first,
 * never waited for). */
#ifndef DMF_FIEMAP_H
#define DMF_FIEMAP_H

#include "core/plan.h"

/* A read that found delayed allocations and started their writeback: OUT
 * holds the extents that had a place then; read again later. */
#define FIEMAP_PENDING 1

/* Read FD's allocated extents (written and unwritten) into OUT, without
 * ever waiting for I/O (FIEMAP_FLAG_SYNC would wait for a suspended
 * device). A delayed allocation (no place on the device yet) gives
 * -EAGAIN; with SYNC its writeback is started (sync_file_range, not
 * waited for), the extents read again, those still without a place left
 * out, and FIEMAP_PENDING returned. Returns 0, FIEMAP_PENDING, or -errno. */
int fiemap_read(int fd, bool sync, struct extent_list *out);

#endif
