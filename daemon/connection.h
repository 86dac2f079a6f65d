/* connection.h: one client of the control socket: its buffers, timers,
 * credentials and subscriptions; freed from the loop, never in a callback. */
#ifndef DMF_CONNECTION_H
#define DMF_CONNECTION_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "peer.h"

struct conn {
	struct peer peer;
	ev_io rio, wio;
	ev_idle more;   /* calls left to handle, after the other clients */
	ev_timer idle; /* a half-sent message may not stall forever */
	uid_t uid;
	pid_t pid;
	bool watch_all;    /* Watch without id */
	uint64_t watch_id; /* Watch with id, or Add/Create with "more" */
	bool eof;          /* the client sent its last byte */
	bool closing;      /* close once the output is sent */
	unsigned corked;   /* replies are queued, sent at the end of a turn */
	bool dead;
	LIST_ENTRY(conn) entry;
};
LIST_HEAD(conn_list, conn);
extern struct conn_list conns;
extern size_t nconns;

struct conn *conn_new(struct ev_loop *loop, int fd);
/* Queue MSG (taken over and freed); NULL means out of memory and closes
 * the connection. A client over DMF_OUTBUF_MAX is disconnected. */
void conn_send(struct ev_loop *loop, struct conn *c, char *msg);
void conn_close(struct ev_loop *loop, struct conn *c, const char *why);
void conn_reap(void);
/* Close a client that has stopped sending, once nothing more is owed to
 * it (no reply queued, no stream open). */
void conn_finish_if_done(struct ev_loop *loop, struct conn *c);

#endif
