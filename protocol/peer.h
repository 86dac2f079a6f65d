/* peer.h: one end of a control-socket connection, shared by the daemon and
 * its clients: NUL framing, bounded buffers, SCM_RIGHTS fds, peer creds. */
#ifndef DMF_PEER_H
#define DMF_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "dmfilemap.h"

struct peer_fd {
	int fd;
	uint64_t at; /* stream offset of the last byte of its read */
};

struct peer {
	int fd;
	char *in; /* in[inoff..inlen): received, not yet returned */
	size_t inoff, inlen, incap;
	uint64_t in_base; /* stream offset of in[0] */
	size_t scan;      /* bytes from in[inoff] known to hold no NUL */
	struct peer_fd fds[DMF_FDS_MAX * 4];
	size_t nfds;
	bool fds_dropped; /* more fds arrived than we hold: they were closed */
	bool fds_lost;    /* the kernel could not give us all the fds sent
			   * (our open-files limit) with the message holding
			   * the byte at stream offset lost_at */
	uint64_t lost_at;
	char *out;
	size_t outlen, outoff, outcap;
	int out_fd; /* fd to send with the message at out_fd_at, or -1 */
	size_t out_fd_at, out_fd_end; /* that message, in out[] */
	size_t max; /* largest message accepted, NUL included */
};

/* MAX: the largest message accepted from the other end. */
void peer_init(struct peer *p, int fd, size_t max);
/* Close the socket and every fd still held. */
void peer_close(struct peer *p);

/* Read once (non-blocking sockets may return -1/EAGAIN). Returns bytes
 * read, 0 on EOF, -1 on error with errno set. */
ssize_t peer_fill(struct peer *p);

/* The next complete message, NUL-terminated, in *msg (valid until the
 * next peer call) with the fds that arrived with its bytes (the caller
 * owns them). Returns 1, 0 if none is complete yet, or -1 (EMSGSIZE) if
 * the message is over the peer's maximum. *nfds is set to DMF_FDS_MAX + 1 when
 * more fds than that came, PEER_FDS_LOST when some could not be received
 * (all of them closed). */
#define PEER_FDS_LOST (DMF_FDS_MAX + 2)
int peer_next(struct peer *p, char **msg, int fds[DMF_FDS_MAX], int *nfds);
/* Bytes of a message that has begun but is not complete. */
static inline size_t peer_partial(const struct peer *p)
{
	return p->inlen - p->inoff;
}
/* Bytes queued and not yet sent. */
static inline size_t peer_backlog(const struct peer *p)
{
	return p->outlen - p->outoff;
}

/* Queue MSG and its NUL; FD (or -1) goes with it, in a sendmsg of its
 * own. Returns 0, or -1: ENOBUFS when DMF_OUTBUF_MAX bytes are already
 * waiting (one long reply is fine; a client that reads none is not),
 * EBUSY when another fd is still waiting to be sent. */
int peer_queue(struct peer *p, const char *msg, int fd);
/* Send what is queued. Returns 1 when all is sent, 0 if some remains
 * (EAGAIN), -1 on error. */
int peer_flush(struct peer *p);
static inline bool peer_pending(const struct peer *p)
{
	return p->outoff < p->outlen;
}

/* Blocking helpers for clients: send all of MSG (+fd), and read the next
 * message (returns 1, 0 on EOF, -1 on error). */
int peer_send_blocking(struct peer *p, const char *msg, int fd);
int peer_recv_blocking(struct peer *p, char **msg);

/* Room for one fd in a control message. */
union peer_cmsg {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};
/* Attach FD to MH as SCM_RIGHTS, in BUF. */
void peer_attach_fd(struct msghdr *mh, union peer_cmsg *buf, int fd);

/* The connected peer's uid and pid (SO_PEERCRED). */
int peer_cred(int fd, uid_t *uid, pid_t *pid);

#endif
