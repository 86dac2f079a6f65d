/* connection.c: one client of the control socket: its buffers, timers,
 * credentials and subscriptions; freed from the loop, never in a callback. */
#include "front/connection.h"
#include "dmfilemap.h"
#include "log.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define CONN_OF(w, field) \
	((struct conn *)((char *)(w) - offsetof(struct conn, field)))

void conn_set_init(struct conn_set *set, struct ev_loop *loop,
		   conn_dispatch_fn dispatch, void *arg)
{
	memset(set, 0, sizeof(*set));
	set->loop = loop;
	set->dispatch = dispatch;
	set->arg = arg;
	LIST_INIT(&set->conns);
	LIST_INIT(&set->dead);
}

void conn_close(struct conn *c, const char *why)
{
	struct ev_loop *loop = c->set->loop;

	if (c->dead)
		return;
	if (why)
		log_info("client pid %d uid %u: disconnected: %s", (int)c->pid,
			 (unsigned)c->uid, why);
	if (c->corked && peer_backlog(&c->peer))
		(void)peer_flush(&c->peer); /* the replies made so far */
	c->dead = true;
	ev_io_stop(loop, &c->rio);
	ev_io_stop(loop, &c->wio);
	ev_idle_stop(loop, &c->more);
	ev_timer_stop(loop, &c->idle);
	ev_timer_stop(loop, &c->quiet);
	peer_close(&c->peer);
	LIST_REMOVE(c, entry);
	c->set->n--;
	LIST_INSERT_HEAD(&c->set->dead, c, entry);
}

/* After this many clients have gone, give freed memory back to the
 * system: a burst of clients must not leave the daemon bigger. */
#define TRIM_AFTER 64

void conn_reap(struct conn_set *set)
{
	struct conn *c;

	while ((c = LIST_FIRST(&set->dead))) {
		LIST_REMOVE(c, entry);
		free(c);
		set->freed++;
	}
	if (set->freed >= TRIM_AFTER && LIST_EMPTY(&set->conns)) {
		malloc_trim(0);
		set->freed = 0;
	}
}

static void pump(struct ev_loop *loop, struct conn *c);

static void flush(struct ev_loop *loop, struct conn *c)
{
	int r = peer_flush(&c->peer);

	if (r < 0) {
		conn_close(c, strerror(errno));
		return;
	}
	if (r == 0) {
		ev_io_start(loop, &c->wio);
		return;
	}
	ev_io_stop(loop, &c->wio);
	if (c->closing)
		conn_close(c, NULL);
}

void conn_send(struct conn *c, char *msg)
{
	if (c->dead) {
		free(msg);
		return;
	}
	if (!msg) {
		conn_close(c, "out of memory");
		return;
	}
	if (peer_queue(&c->peer, msg, -1) < 0) {
		free(msg);
		conn_close(c, "not reading its replies");
		return;
	}
	free(msg);
	if (!ev_is_active(&c->wio) && !c->corked)
		flush(c->set->loop, c);
}

/* Replies made during a turn go out together, in one write, at its end. */
static void cork(struct conn *c)
{
	c->corked++;
}

static void uncork(struct ev_loop *loop, struct conn *c)
{
	if (--c->corked || c->dead || !peer_backlog(&c->peer) ||
	    ev_is_active(&c->wio))
		return;
	flush(loop, c);
	/* all sent at once: calls held back for the backlog are taken
	 * again (write_cb does it when the output drains later) */
	if (!c->dead && !ev_is_active(&c->wio) && !ev_is_active(&c->rio) &&
	    !ev_is_active(&c->more))
		ev_idle_start(loop, &c->more);
}

/* Calls are handled while less than this is waiting to be sent: a client
 * that sends faster than it reads is slowed down, not served unboundedly. */
#define OUT_HIGH (256 * 1024)
/* Messages handled per turn, so one client cannot starve the rest. */
#define CONN_BATCH 64

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = CONN_OF(w, wio);

	(void)revents;
	flush(loop, c);
	/* caught up: take calls again */
	if (!c->dead && peer_backlog(&c->peer) < OUT_HIGH / 2 &&
	    !ev_is_active(&c->rio) && !ev_is_active(&c->more))
		pump(loop, c);
}

/* A client gone entirely (not just done sending) hangs up the socket. */
static bool hung_up(const struct conn *c)
{
	struct pollfd pfd = { .fd = c->peer.fd, .events = POLLOUT };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR));
}

/* No call for DMF_QUIET_TIMEOUT seconds: a connection held open for
 * nothing goes (a Watch stream stays: its client reads events). */
_Static_assert(DMF_QUIET_TIMEOUT == 60, "the message says 60 s");
static void quiet_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = CONN_OF(w, quiet);

	(void)revents;
	if (c->watch_all || c->watch_id)
		ev_timer_again(loop, &c->quiet);
	else
		conn_close(c, "no call for 60 s"); /* DMF_QUIET_TIMEOUT */
}

static void idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = CONN_OF(w, idle);

	(void)revents;
	if (!c->eof) {
		conn_close(c, "message left half-sent");
		return;
	}
	/* a client that only half-closed may still read a stream */
	if (hung_up(c))
		conn_close(c, NULL);
	else
		ev_timer_again(loop, &c->idle);
}

/* Handle up to BATCH complete messages. Returns true if there may be
 * more to handle now. */
static bool process(struct conn *c, int batch)
{
	for (int i = 0; i < batch; i++) {
		int fds[DMF_FDS_MAX], nfds, r;
		char *msg;

		if (c->dead || peer_backlog(&c->peer) >= OUT_HIGH)
			return false;
		r = peer_next(&c->peer, &msg, fds, &nfds);
		if (r < 0) {
			conn_close(c, errno == EMSGSIZE
						    ? "message over the size limit"
						    : strerror(errno));
			return false;
		}
		if (r == 0)
			return false;
		c->set->dispatch(c->set->arg, c, msg, fds, nfds);
		if (!c->dead)
			ev_timer_again(c->set->loop, &c->quiet);
		free(msg);
	}
	return !c->dead;
}

/* Handle what has arrived, then decide what to wait for: more input, a
 * turn after the other clients (the idle watcher), or the output to
 * drain (write_cb). Input is not read while any of that is pending, so
 * the input buffer stays bounded. */
static void pump_corked(struct ev_loop *loop, struct conn *c)
{
	bool more = process(c, CONN_BATCH);

	if (c->dead)
		return;
	if (peer_backlog(&c->peer) >= OUT_HIGH) {
		ev_io_stop(loop, &c->rio);
		ev_idle_stop(loop, &c->more);
	} else if (more) {
		ev_io_stop(loop, &c->rio);
		ev_idle_start(loop, &c->more);
	} else {
		ev_idle_stop(loop, &c->more);
		if (c->eof) {
			conn_finish_if_done(c);
			return;
		}
		ev_io_start(loop, &c->rio);
	}
	if (peer_partial(&c->peer))
		ev_timer_again(loop, &c->idle);
	else if (!c->eof)
		ev_timer_stop(loop, &c->idle);
}

static void pump(struct ev_loop *loop, struct conn *c)
{
	cork(c);
	pump_corked(loop, c);
	uncork(loop, c);
}

static void more_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)revents;
	pump(loop, CONN_OF(w, more));
}

/* Reads per wake-up. The kernel gives each call that comes with an fd a
 * read of its own: a client that sends many such calls without waiting
 * for each reply is served without a loop turn per call. */
#define READS_PER_TURN 32

/* One read; false if there is nothing more to read now. */
static bool read_once(struct ev_loop *loop, struct conn *c)
{
	ssize_t n = peer_fill(&c->peer);

	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		conn_close(c, strerror(errno));
		return false;
	}
	if (n == 0) { /* done sending: answer what came, then close */
		ev_io_stop(loop, &c->rio);
		c->eof = true;
		if (hung_up(c)) { /* gone: nobody to answer */
			conn_close(c, NULL);
			return false;
		}
		ev_timer_again(loop, &c->idle); /* now checks for hang-up */
	}
	return n > 0;
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = CONN_OF(w, rio);

	(void)revents;
	cork(c);
	for (int i = 0; i < READS_PER_TURN && read_once(loop, c); i++) {
		/* stop reading when a batch is left or replies back up */
		if (process(c, CONN_BATCH) || c->dead ||
		    peer_backlog(&c->peer) >= OUT_HIGH)
			break;
	}
	if (!c->dead)
		pump_corked(loop, c);
	uncork(loop, c);
}

void conn_finish_if_done(struct conn *c)
{
	if (c->dead || !c->eof || c->watch_all || c->watch_id)
		return;
	if (ev_is_active(&c->more))
		return; /* calls still to answer */
	c->closing = true;
	if (!peer_backlog(&c->peer))
		conn_close(c, NULL);
}

struct conn *conn_new(struct conn_set *set, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->set = set;
	peer_init(&c->peer, fd, DMF_MSG_MAX);
	if (peer_cred(fd, &c->uid, &c->pid) < 0) {
		log_warn("SO_PEERCRED");
		free(c);
		return NULL;
	}
	ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, write_cb, fd, EV_WRITE);
	ev_idle_init(&c->more, more_cb);
	ev_init(&c->idle, idle_cb);
	ev_init(&c->quiet, quiet_cb);
	c->quiet.repeat = DMF_QUIET_TIMEOUT;
	ev_timer_again(set->loop, &c->quiet);
	c->idle.repeat = DMF_IDLE_TIMEOUT;
	ev_io_start(set->loop, &c->rio);
	LIST_INSERT_HEAD(&set->conns, c, entry);
	set->n++;
	return c;
}

size_t conn_set_backlog(const struct conn_set *set, uid_t uid)
{
	const struct conn *c;
	size_t n = 0;

	LIST_FOREACH(c, &set->conns, entry)
		if (c->uid == uid)
			n += peer_backlog(&c->peer);
	return n;
}
