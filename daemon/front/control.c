/* control.c: the daemon side of the control socket: listening, accepting
 * clients (calls go to the dispatcher given), streaming events to watchers. */
#define _GNU_SOURCE
#include "front/control.h"
#include "dmfilemap.h"
#include "log.h"
#include "service/monitor.h"
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

/* Whether the client on FD may have a connection now: no uid but root's
 * may hold more than DMF_CLIENTS_PER_UID, and the last
 * DMF_CLIENTS_ROOT_RESERVE are root's. A refusal is logged once a minute
 * for each uid. */
static bool admitted(struct control *ctl, int fd)
{
	size_t mine = 0, cap = DMF_CLIENTS_MAX;
	const struct conn *c;
	uid_t uid;
	pid_t pid;

	if (peer_cred(fd, &uid, &pid) < 0)
		return false;
	if (uid != 0) {
		cap -= DMF_CLIENTS_ROOT_RESERVE;
		LIST_FOREACH(c, &ctl->conns.conns, entry)
			mine += c->uid == uid;
	}
	if (ctl->conns.n < cap && mine < DMF_CLIENTS_PER_UID)
		return true;
	if (uid != ctl->refused_uid ||
	    ev_now(ctl->loop) - ctl->refused_at >= 60) {
		log_warnx("refusing a client of uid %u (pid %d): %s", (unsigned)uid,
			  (int)pid, ctl->conns.n >= cap
					    ? "too many clients (the rest are kept for root)"
					    : "too many clients of that uid");
		ctl->refused_uid = uid;
		ctl->refused_at = ev_now(ctl->loop);
	}
	return false;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *ctl = (struct control *)((char *)w -
						 offsetof(struct control, accept_io));
	int fd;

	(void)revents;
	for (;;) {
		fd = accept4(ctl->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept: pausing for 1 s");
				ev_io_stop(loop, &ctl->accept_io);
				ev_timer_start(loop, &ctl->accept_pause);
			} else if (errno != EAGAIN && errno != EINTR &&
				   errno != ECONNABORTED) {
				log_warn("accept");
			}
			return;
		}
		if (!admitted(ctl, fd) || !conn_new(&ctl->conns, fd))
			close(fd);
	}
}

static void pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *ctl = (struct control *)((char *)w -
						 offsetof(struct control, accept_pause));
	(void)revents;
	ev_io_start(loop, &ctl->accept_io);
}

/* After each loop turn: free the clients that went. */
static void conns_reap_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct control *ctl = (struct control *)((char *)w -
						 offsetof(struct control, reaper));
	(void)loop;
	(void)revents;
	conn_reap(&ctl->conns);
}

/* The directory PATH is in, made if missing. Returns 0 or -errno. */
static int make_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			r = -errno;
	}
	free(dir);
	return r;
}

/* The listening socket at PATH, or -errno. */
static int bind_socket(const char *path, gid_t gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if ((r = make_dir(path)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
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
	r = -errno;
	close(fd);
	return r;
}

int control_listen(struct control *ctl, struct ev_loop *loop, const char *path,
		   int fd, gid_t gid, conn_dispatch_fn dispatch, void *arg)
{
	memset(ctl, 0, sizeof(*ctl));
	ctl->listen_fd = -1;
	ctl->loop = loop;
	conn_set_init(&ctl->conns, loop, dispatch, arg);
	if (fd < 0) {
		if ((fd = bind_socket(path, gid)) < 0)
			return fd;
		if (!(ctl->socket_path = strdup(path))) {
			close(fd);
			return -ENOMEM;
		}
	}
	ctl->listen_fd = fd;
	ev_io_init(&ctl->accept_io, accept_cb, fd, EV_READ);
	ev_timer_init(&ctl->accept_pause, pause_cb, 1., 0.);
	ev_check_init(&ctl->reaper, conns_reap_cb);
	ev_io_start(loop, &ctl->accept_io);
	ev_check_start(loop, &ctl->reaper);
	return 0;
}

void control_shutdown(struct control *ctl)
{
	struct conn *c;

	if (ctl->listen_fd >= 0) {
		ev_io_stop(ctl->loop, &ctl->accept_io);
		ev_timer_stop(ctl->loop, &ctl->accept_pause);
		ev_check_stop(ctl->loop, &ctl->reaper);
		if (close(ctl->listen_fd) < 0)
			log_warn("close the control socket");
		ctl->listen_fd = -1;
	}
	if (ctl->socket_path && unlink(ctl->socket_path) < 0 &&
	    errno != ENOENT)
		log_warn("unlink %s", ctl->socket_path);
	free(ctl->socket_path);
	ctl->socket_path = NULL;
	while ((c = LIST_FIRST(&ctl->conns.conns))) {
		(void)peer_flush(&c->peer); /* best effort: last events */
		conn_close(c, NULL);
	}
	conn_reap(&ctl->conns);
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

void control_event(struct control *ctl, const struct monitor *m,
		   const char *event, uint64_t old_group, const char *reason,
		   const char *message)
{
	bool ended = !strcmp(event, "ended");
	struct conn *c, *next;
	cJSON *p = NULL;

	for (c = LIST_FIRST(&ctl->conns.conns); c; c = next) {
		next = LIST_NEXT(c, entry);
		if (!c->watch_all && c->watch_id != m->id)
			continue;
		if (!p && !(p = event_json(m, event, old_group, reason,
					   message)))
			return;
		/* a stream about one monitor ends with it */
		bool last = ended && !c->watch_all;
		conn_send(c, vl_reply_format(cJSON_Duplicate(p, true), !last));
		if (last && !c->dead) {
			c->watch_id = 0;
			conn_finish_if_done(c);
		}
	}
	cJSON_Delete(p);
}
