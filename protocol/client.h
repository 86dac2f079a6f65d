/* client.h: the client side of the control socket, shared by dmfilemapctl
 * and the dmfilemapd shim: connect, call (with an fd), read replies. */
#ifndef DMF_CLIENT_H
#define DMF_CLIENT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "peer.h"
#include "varlink.h"

struct client {
	struct peer peer;
};

/* OPT if set, else $DMFILEMAP_SOCKET, else the default. */
const char *client_socket_path(const char *opt);
/* Returns 0, or -errno (ENOENT/ECONNREFUSED: nothing listens). */
int client_connect(struct client *c, const char *path);
void client_close(struct client *c);
/* Send a call (PARAMS taken over; FD passed if >= 0) and read the first
 * reply into R. Returns 0, or -errno on a transport failure. */
int client_call(struct client *c, const char *method, cJSON *params, int fd,
		bool more, struct vl_reply *r);
/* Send a call only (PARAMS taken over; FD passed if >= 0): calls may be
 * sent ahead, their replies come in order. Returns 0, or -errno. */
int client_send(struct client *c, const char *method, cJSON *params, int fd,
		bool more);
/* The next reply: of a "more" call, or of the oldest call sent ahead.
 * Returns 0, or -errno (-EPIPE: the supervisor closed the connection). */
int client_next(struct client *c, struct vl_reply *r);
/* A one-line text for an error reply: its "message" parameter, else the
 * error name with its parameters. */
const char *client_error_text(const struct vl_reply *r, char *buf,
			      size_t len);

/* "PROG: MESSAGE" on stderr, one line. */
void client_say(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void client_vsay(const char *prog, const char *fmt, va_list ap);

#endif
