/* peer.c: one end of a control-socket connection, shared by the daemon and
 * its clients: NUL framing, bounded buffers, SCM_RIGHTS fds, peer creds. */
#define _GNU_SOURCE
#include "peer.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 16384
/* fds one read takes: more than a message may carry, so that a truncated
 * read with room left means the kernel could not install them */
#define READ_FDS (DMF_FDS_MAX * 2)

void peer_init(struct peer *p, int fd, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->max = max;
	p->out_fd = -1;
}

static void close_fds(struct peer *p)
{
	for (size_t i = 0; i < p->nfds; i++)
		close(p->fds[i].fd);
	p->nfds = 0;
}

void peer_close(struct peer *p)
{
	close_fds(p);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->in);
	free(p->out);
	p->in = p->out = NULL;
	p->inoff = p->inlen = p->incap = p->outlen = p->outoff = p->outcap = 0;
}

/* Takes the fds that came with a read; returns how many. */
static size_t take_fds(struct peer *p, struct msghdr *mh, uint64_t at)
{
	size_t got = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *v = (int *)(void *)CMSG_DATA(c);
		got += n;
		for (size_t i = 0; i < n; i++) {
			if (p->nfds < sizeof(p->fds) / sizeof(p->fds[0])) {
				p->fds[p->nfds].fd = v[i];
				p->fds[p->nfds++].at = at;
			} else {
				close(v[i]);
				p->fds_dropped = true;
			}
		}
	}
	return got;
}

ssize_t peer_fill(struct peer *p)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * READ_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	if (p->inoff) { /* drop what was returned already */
		memmove(p->in, p->in + p->inoff, p->inlen - p->inoff);
		p->inlen -= p->inoff;
		p->in_base += p->inoff;
		p->inoff = 0;
	}
	if (p->incap - p->inlen < READ_CHUNK) {
		size_t ncap = p->inlen + READ_CHUNK;
		char *v = realloc(p->in, ncap);
		if (!v)
			return -1;
		p->in = v;
		p->incap = ncap;
	}
	iov.iov_base = p->in + p->inlen;
	iov.iov_len = READ_CHUNK;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	do
		n = recvmsg(p->fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	/* The kernel ends a read just after the data the fds came with,
	 * and may put earlier data without fds before it: the fds belong
	 * to the message that holds the read's last byte. */
	size_t got = 0;
	if (n > 0)
		got = take_fds(p, &mh, p->in_base + p->inlen + (size_t)n - 1);
	/* truncated with room to spare: the kernel could not install them */
	if (mh.msg_flags & MSG_CTRUNC) {
		if (got < READ_FDS && n > 0) {
			p->fds_lost = true;
			p->lost_at = p->in_base + p->inlen + (size_t)n - 1;
		} else {
			p->fds_dropped = true;
		}
	}
	p->inlen += (size_t)n;
	return n;
}

int peer_next(struct peer *p, char **msg, int fds[DMF_FDS_MAX], int *nfds)
{
	char *start = p->in + p->inoff, *nul;
	size_t avail = p->inlen - p->inoff, len, keep = 0;
	uint64_t end;

	*nfds = 0;
	*msg = NULL;
	if (avail == 0)
		return 0;
	nul = memchr(start + p->scan, '\0', avail - p->scan);
	if (!nul) {
		p->scan = avail;
		if (avail >= p->max) {
			errno = EMSGSIZE;
			return -1;
		}
		return 0;
	}
	len = (size_t)(nul - start) + 1;
	if (len > p->max) {
		errno = EMSGSIZE;
		return -1;
	}
	if (!(*msg = malloc(len)))
		return -1;
	memcpy(*msg, start, len);
	end = p->in_base + p->inoff + len;
	for (size_t i = 0; i < p->nfds; i++) {
		if (p->fds[i].at >= end)
			p->fds[keep++] = p->fds[i];
		else if (*nfds < DMF_FDS_MAX)
			fds[(*nfds)++] = p->fds[i].fd;
		else {
			close(p->fds[i].fd);
			p->fds_dropped = true;
		}
	}
	p->nfds = keep;
	bool lost = p->fds_lost && p->lost_at < end; /* this message's */
	if (lost || p->fds_dropped) { /* refuse them all */
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = lost ? PEER_FDS_LOST : DMF_FDS_MAX + 1;
		if (lost)
			p->fds_lost = false;
		else
			p->fds_dropped = false;
	}
	p->inoff += len;
	p->scan = 0;
	if (p->inoff == p->inlen) {
		p->in_base += p->inlen;
		p->inoff = p->inlen = 0;
	}
	return 1;
}

int peer_queue(struct peer *p, const char *msg, int fd)
{
	size_t len = strlen(msg) + 1;

	if (fd >= 0 && p->out_fd >= 0) {
		errno = EBUSY;
		return -1;
	}
	if (p->outoff == p->outlen)
		p->outoff = p->outlen = 0;
	if (p->outlen - p->outoff > DMF_OUTBUF_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	if (p->outcap - p->outlen < len) {
		if (p->outoff) { /* compact first */
			memmove(p->out, p->out + p->outoff,
				p->outlen - p->outoff);
			p->outlen -= p->outoff;
			if (p->out_fd >= 0) {
				p->out_fd_at -= p->outoff;
				p->out_fd_end -= p->outoff;
			}
			p->outoff = 0;
		}
		if (p->outcap - p->outlen < len) {
			size_t ncap = (p->outlen + len) * 2;
			char *v = realloc(p->out, ncap);
			if (!v)
				return -1;
			p->out = v;
			p->outcap = ncap;
		}
	}
	if (fd >= 0) {
		p->out_fd = fd;
		p->out_fd_at = p->outlen;
		p->out_fd_end = p->outlen + len;
	}
	memcpy(p->out + p->outlen, msg, len);
	p->outlen += len;
	return 0;
}

int peer_flush(struct peer *p)
{
	while (p->outoff < p->outlen) {
		union peer_cmsg cbuf;
		struct iovec iov = { p->out + p->outoff, p->outlen - p->outoff };
		bool with_fd = p->out_fd >= 0 && p->outoff == p->out_fd_at;
		struct msghdr mh;
		ssize_t n;

		/* the fd's message alone in its sendmsg: what comes before
		 * it goes first, what comes after it goes next */
		if (p->out_fd >= 0 && p->outoff < p->out_fd_at)
			iov.iov_len = p->out_fd_at - p->outoff;
		else if (with_fd)
			iov.iov_len = p->out_fd_end - p->outoff;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (with_fd)
			peer_attach_fd(&mh, &cbuf, p->out_fd);
		n = sendmsg(p->fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		if (with_fd)
			p->out_fd = -1; /* it went with the first byte */
		p->outoff += (size_t)n;
	}
	p->outoff = p->outlen = 0;
	return 1;
}

static int wait_fd(int fd, short ev)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	int r;

	do
		r = poll(&pfd, 1, -1);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

int peer_send_blocking(struct peer *p, const char *msg, int fd)
{
	int r;

	if (peer_queue(p, msg, fd) < 0)
		return -1;
	while ((r = peer_flush(p)) == 0)
		if (wait_fd(p->fd, POLLOUT) < 0)
			return -1;
	return r < 0 ? -1 : 0;
}

int peer_recv_blocking(struct peer *p, char **msg)
{
	int fds[DMF_FDS_MAX], nfds, r;

	for (;;) {
		r = peer_next(p, msg, fds, &nfds);
		for (int i = 0; i < nfds && nfds <= DMF_FDS_MAX; i++)
			close(fds[i]); /* clients expect none */
		if (r != 0)
			return r;
		ssize_t n = peer_fill(p);
		if (n == 0)
			return 0;
		if (n < 0 && (errno != EAGAIN || wait_fd(p->fd, POLLIN) < 0))
			return -1;
	}
}

void peer_attach_fd(struct msghdr *mh, union peer_cmsg *buf, int fd)
{
	struct cmsghdr *c;

	memset(buf, 0, sizeof(*buf));
	mh->msg_control = buf->buf;
	mh->msg_controllen = sizeof(buf->buf);
	c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
}

int peer_cred(int fd, uid_t *uid, pid_t *pid)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -1;
	*uid = uc.uid;
	*pid = uc.pid;
	return 0;
}
