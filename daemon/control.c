/* control.c: the daemon side of the control socket: listening, accepting,
 * dispatching Varlink calls, and streaming monitor events to watchers. */
#define _GNU_SOURCE
#include "control.h"
#include "connection.h"
#include "dmfilemap.h"
#include "log.h"
#include "methods.h"
#include "monitor.h"
#include "varlink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int listen_fd = -1;
static ev_io accept_io;
static ev_timer accept_pause; /* out of fds: retry accepting later */
static char *socket_path;      /* unlinked at shutdown if we made it */

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	int fd;

	(void)w;
	(void)revents;
	for (;;) {
		fd = accept4(listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept: pausing for 1 s");
				ev_io_stop(loop, &accept_io);
				ev_timer_start(loop, &accept_pause);
			} else if (errno != EAGAIN && errno != EINTR &&
				   errno != ECONNABORTED) {
				log_warn("accept");
			}
			return;
		}
		if (nconns >= DMF_CLIENTS_MAX) {
			log_warnx("refusing a client: %d clients already",
				  DMF_CLIENTS_MAX);
			close(fd);
			continue;
		}
		if (!conn_new(loop, fd))
			close(fd);
	}
}

static void pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_io_start(loop, &accept_io);
}

static int make_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int r = 0;

	if (!dir)
		return -1;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			r = -1;
	}
	free(dir);
	return r;
}

static int bind_socket(const char *path, gid_t gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (make_dir(path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* the caller holds the lock: a socket file left here is stale */
	if (unlink(path) < 0 && errno != ENOENT)
		goto bad;
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		goto bad;
	}
	umask(old);
	/* root-only changes, read-only methods for the socket's group */
	if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
	    chmod(path, 0660) < 0 || listen(fd, SOMAXCONN) < 0)
		goto bad;
	return fd;
bad:
	close(fd);
	return -1;
}

int control_listen(struct ev_loop *loop, const char *path, int fd,
		   gid_t gid)
{
	if (fd < 0) {
		if ((fd = bind_socket(path, gid)) < 0)
			return -1;
		if (!(socket_path = strdup(path))) {
			close(fd);
			return -1;
		}
	}
	listen_fd = fd;
	ev_io_init(&accept_io, accept_cb, fd, EV_READ);
	ev_timer_init(&accept_pause, pause_cb, 1., 0.);
	ev_io_start(loop, &accept_io);
	return 0;
}

void control_shutdown(struct ev_loop *loop)
{
	struct conn *c;

	if (listen_fd >= 0) {
		ev_io_stop(loop, &accept_io);
		ev_timer_stop(loop, &accept_pause);
		close(listen_fd);
		listen_fd = -1;
	}
	if (socket_path && unlink(socket_path) < 0 && errno != ENOENT)
		log_warn("unlink %s", socket_path);
	free(socket_path);
	socket_path = NULL;
	while ((c = LIST_FIRST(&conns))) {
		peer_flush(&c->peer); /* best effort: last events */
		conn_close(loop, c, NULL);
	}
	conn_reap();
}

static cJSON *event_json(const struct monitor *m, const char *event,
			 uint64_t old_group, const char *reason,
			 const char *message)
{
	cJSON *e = cJSON_CreateObject(), *p = cJSON_CreateObject();
	struct timespec ts;
	bool ok = e && p;

	clock_gettime(CLOCK_REALTIME, &ts);
	ok = ok && cJSON_AddStringToObject(e, "event", event);
	ok = ok && cJSON_AddNumberToObject(e, "id", (double)m->id);
	ok = ok && vl_add_text(e, "path", m->path);
	ok = ok && cJSON_AddNumberToObject(e, "group_id", (double)m->group_id);
	ok = ok && cJSON_AddNumberToObject(e, "regions", (double)m->regions);
	ok = ok && (!strcmp(event, "regrouped")
			    ? cJSON_AddNumberToObject(e, "old_group_id",
						      (double)old_group)
			    : cJSON_AddNullToObject(e, "old_group_id"));
	ok = ok && (reason ? cJSON_AddStringToObject(e, "reason", reason)
			   : cJSON_AddNullToObject(e, "reason"));
	ok = ok && vl_add_text(e, "message", message);
	ok = ok && cJSON_AddNumberToObject(e, "time",
					   (double)ts.tv_sec +
						   ts.tv_nsec / 1e9);
	if (!ok) {
		cJSON_Delete(e);
		cJSON_Delete(p);
		return NULL;
	}
	cJSON_AddItemToObject(p, "event", e);
	return p;
}

void control_event(const struct monitor *m, const char *event,
		   uint64_t old_group, const char *reason, const char *message)
{
	bool ended = !strcmp(event, "ended");
	struct ev_loop *loop = EV_DEFAULT;
	struct conn *c, *next;
	cJSON *p = NULL;

	for (c = LIST_FIRST(&conns); c; c = next) {
		next = LIST_NEXT(c, entry);
		if (!c->watch_all && c->watch_id != m->id)
			continue;
		if (!p && !(p = event_json(m, event, old_group, reason,
					   message)))
			return;
		/* a stream about one monitor ends with it */
		bool last = ended && !c->watch_all;
		conn_send(loop, c,
			  vl_reply_format(cJSON_Duplicate(p, true), !last));
		if (last && !c->dead) {
			c->watch_id = 0;
			conn_finish_if_done(loop, c);
		}
	}
	cJSON_Delete(p);
}
