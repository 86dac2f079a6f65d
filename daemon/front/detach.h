/* detach.h: leaving the caller's session behind a readiness pipe, shared
 * by the supervisor and the shim's one-file fallback. */
#ifndef DMF_DETACH_H
#define DMF_DETACH_H

#include <stdbool.h>

/* Fork twice and start a new session. The first process waits: it exits 0
 * when the last one calls detach_ready, or 1 if that one exits first.
 * Returns, in the last process, the pipe's write end. */
int detach(void);
/* Tell the waiting process we are ready (and, when not FOREGROUND, point
 * stdio at /dev/null first). FD < 0: nothing to tell. */
void detach_ready(int fd, bool foreground);

#endif
