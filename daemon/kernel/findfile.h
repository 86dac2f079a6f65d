/* findfile.h: a file on a device's mounted filesystems, looked for by its
 * name and taken only if its extents are exactly the ranges asked for. */
#ifndef DMF_FINDFILE_H
#define DMF_FINDFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "core/plan.h"

/* Directory entries looked at per search, at most. */
#define FINDFILE_MAX_ENTRIES 20000

/* A regular file named NAME on a filesystem of device DEV (as mounted in
 * our namespace) whose extents are exactly WANT: its path (malloc'd), or
 * NULL (none found within FINDFILE_MAX_ENTRIES entries a mount). */
char *findfile(dev_t dev, const char *name, const struct extent_list *want);

#endif
