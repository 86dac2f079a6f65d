/* fiemap.h: a file's allocated extents as device sector ranges, read with
 * the FIEMAP ioctl (delayed allocations flushed first). */
#ifndef DMF_FIEMAP_H
#define DMF_FIEMAP_H

#include "core/plan.h"

/* Read FD's allocated extents (written and unwritten) into OUT. With SYNC
 * delayed allocations are flushed first; without, a delayed allocation
 * (no place on the device yet) gives -EAGAIN. Returns 0, or -errno. */
int fiemap_read(int fd, bool sync, struct extent_list *out);

#endif
