/* control.h: the daemon side of the control socket: listening, accepting
 * clients (calls go to the dispatcher given), streaming events to watchers. */
#ifndef DMF_CONTROL_H
#define DMF_CONTROL_H

#include <ev.h>
#include <stdint.h>
#include <sys/types.h>

#include "front/connection.h"

struct monitor;

struct control {
	struct ev_loop *loop;
	int listen_fd;
	ev_io accept_io;
	ev_timer accept_pause; /* out of fds: accept again later */
	ev_check reaper;       /* frees closed clients after each turn */
	char *socket_path;     /* unlinked at shutdown if we made it */
	uid_t refused_uid;     /* the last refusal logged, and when */
	double refused_at;
	struct conn_set conns;
};

/* Listen on PATH, whose file GID (or -1) owns, or use the socket-activated
 * LISTEN_FD if >= 0; each client's calls go to DISPATCH. Returns 0 or
 * -errno. */
int control_listen(struct control *ctl, struct ev_loop *loop, const char *path,
		   int listen_fd, gid_t gid, conn_dispatch_fn dispatch,
		   void *arg);
/* Stop accepting and close every connection; unlink the socket. */
void control_shutdown(struct control *ctl);
/* Tell watchers about an event of M. OLD_GROUP is used by "regrouped";
 * REASON by "ended" (else NULL). */
void control_event(struct control *ctl, const struct monitor *m,
		   const char *event, uint64_t old_group, const char *reason,
		   const char *message);

#endif
