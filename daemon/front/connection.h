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

struct conn;

/* Handle one message from C with the fds that came with it (taken over:
 * used or closed). May queue replies; never frees C. */
typedef void (*conn_dispatch_fn)(void *arg, struct conn *c, const char *msg,
				 int *fds, int nfds);

LIST_HEAD(conn_list, conn);

/* Every client of one control socket, and what serves their calls. */
struct conn_set {
	struct ev_loop *loop;
	conn_dispatch_fn dispatch;
	void *arg;
	struct conn_list conns;
	size_t n;
	struct conn_list dead; /* closed, freed from the loop */
	unsigned freed;        /* since memory was last given back */
};

struct conn {
	struct peer peer;
	ev_io rio, wio;
	ev_idle more;   /* calls left to handle, after the other clients */
	ev_timer idle; /* a half-sent message may not stall forever */
	ev_timer quiet; /* nor a client that sends no call (Watch: may) */
	uid_t uid;
	pid_t pid;
	bool watch_all;    /* Watch without id */
	uint64_t watch_id; /* Watch with id, or Add/Create with "more" */
	bool eof;          /* the client sent its last byte */
	bool closing;      /* close once the output is sent */
	unsigned corked;   /* replies are queued, sent at the end of a turn */
	bool dead;
	struct conn_set *set;
	LIST_ENTRY(conn) entry;
};

void conn_set_init(struct conn_set *set, struct ev_loop *loop,
		   conn_dispatch_fn dispatch, void *arg);
/* A client on FD (taken over on success), or NULL. */
struct conn *conn_new(struct conn_set *set, int fd);
/* Queue MSG (taken over and freed); NULL means out of memory and closes
 * the connection. A client over DMF_OUTBUF_MAX is disconnected. */
void conn_send(struct conn *c, char *msg);
void conn_close(struct conn *c, const char *why);
/* Bytes queued and not yet sent to UID's clients, in all. */
size_t conn_set_backlog(const struct conn_set *set, uid_t uid);
/* Free the closed clients (from the loop, never in their callbacks). */
void conn_reap(struct conn_set *set);
/* Close a client that has stopped sending, once nothing more is owed to
 * it (no reply queued, no stream open). */
void conn_finish_if_done(struct conn *c);

#endif
