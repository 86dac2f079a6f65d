/* control.h: the daemon side of the control socket: listening, accepting,
 * dispatching Varlink calls, and streaming monitor events to watchers. */
#ifndef DMF_CONTROL_H
#define DMF_CONTROL_H

#include <ev.h>
#include <stdint.h>
#include <sys/types.h>

struct monitor;

/* Listen on PATH (or use the socket-activated LISTEN_FD if >= 0). */
/* GID (or -1) owns the socket file. */
int control_listen(struct ev_loop *loop, const char *path, int listen_fd,
		   gid_t gid);
/* Stop accepting and close every connection; unlink the socket. */
void control_shutdown(struct ev_loop *loop);
/* Tell watchers about an event of M. OLD_GROUP is used by "regrouped";
 * REASON by "ended" (else NULL). */
void control_event(const struct monitor *m, const char *event,
		   uint64_t old_group, const char *reason, const char *message);

#endif
