/* fiemap.h: a file's allocated extents as device sector ranges, read with
 * the FIEMAP ioctl (delayed allocations flushed first). */
#ifndef DMF_FIEMAP_H
#define DMF_FIEMAP_H

#include "core/plan.h"

/* Read FD's allocated extents (written and unwritten; delayed allocations
 * are flushed first) into OUT. Returns 0, or -errno. */
int fiemap_read(int fd, struct extent_list *out);

#endif
