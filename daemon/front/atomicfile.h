/* atomicfile.h: a file replaced whole: its text written to a temporary
 * file beside it, then renamed over it, so no reader sees it half-written. */
#ifndef DMF_ATOMICFILE_H
#define DMF_ATOMICFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* PATH becomes TEXT (LEN bytes) with mode MODE, through TMP (a path in the
 * same directory); with SYNC, flushed to disk before the rename. TMP is
 * removed if anything fails. Returns 0 or -errno. */
int atomicfile_write(const char *path, const char *tmp, const char *text,
		     size_t len, mode_t mode, bool sync);

#endif
