/* client.c: the client side of the control socket, shared by dmfilemapctl
 * and the dmfilemapd shim: connect, call (with an fd), read replies. */
#include "client.h"
#include "dmfilemap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

const char *client_socket_path(const char *opt)
{
	const char *env = getenv(DMF_SOCKET_ENV);

	if (opt)
		return opt;
	return env && env[0] ? env : DMF_SOCKET_DEFAULT;
}

int client_connect(struct client *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	peer_init(&c->peer, fd, DMF_REPLY_MAX);
	return 0;
}

void client_close(struct client *c)
{
	peer_close(&c->peer);
}

int client_next(struct client *c, struct vl_reply *r)
{
	char *msg;
	int n;

	n = peer_recv_blocking(&c->peer, &msg);
	if (n == 0)
		return -EPIPE;
	if (n < 0)
		return -errno;
	n = vl_reply_parse(msg, r);
	free(msg);
	return n < 0 ? -EPROTO : 0;
}

int client_send(struct client *c, const char *method, cJSON *params, int fd,
		bool more)
{
	char *msg = vl_call_format(method, params, more);
	int n;

	if (!msg)
		return -ENOMEM;
	n = peer_send_blocking(&c->peer, msg, fd);
	free(msg);
	return n < 0 ? -errno : 0;
}

int client_call(struct client *c, const char *method, cJSON *params, int fd,
		bool more, struct vl_reply *r)
{
	int e = client_send(c, method, params, fd, more);

	return e < 0 ? e : client_next(c, r);
}

void client_vsay(const char *prog, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void client_say(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	client_vsay(prog, fmt, ap);
	va_end(ap);
}

const char *client_error_text(const struct vl_reply *r, char *buf, size_t len)
{
	const cJSON *m = r->params
				 ? cJSON_GetObjectItemCaseSensitive(r->params,
								    "message")
				 : NULL;
	char *p;

	if (cJSON_IsString(m)) {
		snprintf(buf, len, "%s", m->valuestring);
		return buf;
	}
	p = r->params ? cJSON_PrintUnformatted(r->params) : NULL;
	snprintf(buf, len, "%s%s%s", r->error ? r->error : "error",
		 p ? " " : "", p ? p : "");
	free(p);
	return buf;
}
