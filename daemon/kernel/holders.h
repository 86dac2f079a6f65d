/* holders.h: whether any other process holds a file open, by a scan of
 * /proc/PID/fd (used only for unlinked follow-inode files, on close). */
#ifndef DMF_HOLDERS_H
#define DMF_HOLDERS_H

#include <sys/types.h>

/* 1 if a process other than us (and IGNORE, if > 0) has DEV/INO open, 0
 * if none, or -errno. */
int holders_other(dev_t dev, ino_t ino, pid_t ignore);

#endif
