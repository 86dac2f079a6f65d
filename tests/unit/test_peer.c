/* test_peer.c: unit tests for protocol/peer.h (NUL framing, the size limit,
 * SCM_RIGHTS descriptors, the output bound, credentials, blocking helpers)
 * over socketpair(AF_UNIX, SOCK_STREAM). Written against the header's
 * specification, not the implementation. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dmfilemap.h"
#include "peer.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */

struct pair {
	int a, b; /* a: the peer under test reads here; b: the other end */
};

static void make_pair(struct pair *sp, bool nonblock)
{
	int sv[2];
	int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);

	assert_int_equal(socketpair(AF_UNIX, type, 0, sv), 0);
	sp->a = sv[0];
	sp->b = sv[1];
}

/* Open descriptors of this process, as /proc/self/fd lists them. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* One sendmsg of LEN bytes with NFDS descriptors. */
static void send_with_fds(int sock, const void *buf, size_t len,
			  const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 64)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh;

	assert_true(nfds <= 64);
	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* Fill until a message is complete (or refused); returns peer_next's. */
static int next_msg(struct peer *p, char **msg, int fds[DMF_FDS_MAX],
		    int *nfds)
{
	for (int i = 0; i < 100000; i++) {
		/* nothing buffered: read first (peer_next on a peer that has
		 * never read is tested on its own, last) */
		if (peer_partial(p) > 0) {
			int r = peer_next(p, msg, fds, nfds);
			if (r != 0)
				return r;
		}
		ssize_t n = peer_fill(p);
		if (n == 0)
			return 0;
		assert_true(n > 0);
	}
	fail_msg("no message after many reads");
	return -1;
}

static void expect_msg(struct peer *p, const char *want, int want_nfds,
		       int fds[DMF_FDS_MAX])
{
	char *msg = NULL;
	int nfds = -1;

	assert_int_equal(next_msg(p, &msg, fds, &nfds), 1);
	assert_non_null(msg);
	assert_string_equal(msg, want);
	if (nfds != want_nfds)
		print_error("message \"%.40s\" came with %d fds, expected %d\n",
			    msg, nfds, want_nfds);
	assert_int_equal(nfds, want_nfds);
	free(msg);
}

static void expect_none(struct peer *p)
{
	char *msg = (char *)1;
	int fds[DMF_FDS_MAX], nfds = -1;

	assert_int_equal(peer_next(p, &msg, fds, &nfds), 0);
	assert_int_equal(nfds, 0);
}

/* Same file (device and inode)? */
static bool same_file(int fd1, int fd2)
{
	struct stat s1, s2;

	assert_int_equal(fstat(fd1, &s1), 0);
	assert_int_equal(fstat(fd2, &s2), 0);
	return s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino;
}

static char *filled(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ------------------------------------------------------------------ */
/* framing                                                            */

static void test_several_in_one_write(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p;
	int fds[DMF_FDS_MAX];

	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	write_all(sp.b, "a\0bb\0{\"x\":1}\0", 13);
	assert_int_equal(peer_fill(&p), 13);
	expect_msg(&p, "a", 0, fds);
	expect_msg(&p, "bb", 0, fds);
	expect_msg(&p, "{\"x\":1}", 0, fds);
	expect_none(&p);
	assert_int_equal(peer_partial(&p), 0);
	close(sp.b);
	peer_close(&p);
}

static void test_split_message(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p;
	char *msg;
	int fds[DMF_FDS_MAX], nfds;

	make_pair(&sp, true);
	peer_init(&p, sp.a, 1024);
	/* nothing there yet: EAGAIN on a non-blocking socket */
	errno = 0;
	assert_int_equal(peer_fill(&p), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	expect_none(&p);

	write_all(sp.b, "hel", 3);
	assert_int_equal(peer_fill(&p), 3);
	expect_none(&p);
	assert_int_equal(peer_partial(&p), 3);
	write_all(sp.b, "lo", 2);
	assert_int_equal(peer_fill(&p), 2);
	expect_none(&p);
	assert_int_equal(peer_partial(&p), 5);
	/* the end of one message and the start of the next together */
	write_all(sp.b, "\0wor", 4);
	assert_int_equal(peer_fill(&p), 4);
	assert_int_equal(peer_next(&p, &msg, fds, &nfds), 1);
	assert_string_equal(msg, "hello");
	assert_int_equal(nfds, 0);
	free(msg);
	expect_none(&p);
	assert_int_equal(peer_partial(&p), 3);
	write_all(sp.b, "ld\0", 3);
	assert_int_equal(peer_fill(&p), 3);
	expect_msg(&p, "world", 0, fds);
	expect_none(&p);

	/* one byte at a time */
	const char *s = "{\"method\":\"a.B\"}";
	for (size_t i = 0; i <= strlen(s); i++) {
		write_all(sp.b, s + i, 1);
		assert_int_equal(peer_fill(&p), 1);
		if (i < strlen(s))
			expect_none(&p);
	}
	expect_msg(&p, s, 0, fds);

	/* EOF */
	close(sp.b);
	assert_int_equal(peer_fill(&p), 0);
	expect_none(&p);
	peer_close(&p);
}

static void test_empty_message(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p;
	int fds[DMF_FDS_MAX];

	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	write_all(sp.b, "\0\0x\0\0", 5);
	assert_int_equal(peer_fill(&p), 5);
	expect_msg(&p, "", 0, fds);
	expect_msg(&p, "", 0, fds);
	expect_msg(&p, "x", 0, fds);
	expect_msg(&p, "", 0, fds);
	expect_none(&p);
	close(sp.b);
	peer_close(&p);
}

/* A long run of messages much larger than one read. */
static void test_many_messages(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p;
	int fds[DMF_FDS_MAX];
	char buf[64];
	pid_t pid;
	int st;

	make_pair(&sp, false);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sp.a);
		for (int i = 0; i < 20000; i++) {
			int n = snprintf(buf, sizeof(buf), "message %d", i);
			if (write(sp.b, buf, (size_t)n + 1) != n + 1)
				_exit(1);
		}
		_exit(0);
	}
	close(sp.b);
	peer_init(&p, sp.a, 32);
	for (int i = 0; i < 20000; i++) {
		snprintf(buf, sizeof(buf), "message %d", i);
		expect_msg(&p, buf, 0, fds);
	}
	assert_int_equal(peer_fill(&p), 0);
	expect_none(&p);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	peer_close(&p);
}

/* ------------------------------------------------------------------ */
/* the size limit                                                     */

static void test_size_limit_small(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p;
	char *msg, *s;
	int fds[DMF_FDS_MAX], nfds;

	/* exactly max bytes, NUL included: accepted */
	make_pair(&sp, false);
	peer_init(&p, sp.a, 16);
	s = filled('a', 15);
	write_all(sp.b, s, 16);
	assert_int_equal(peer_fill(&p), 16);
	expect_msg(&p, s, 0, fds);
	free(s);
	/* one under max without its NUL yet: waits */
	s = filled('b', 15);
	write_all(sp.b, s, 15);
	assert_int_equal(peer_fill(&p), 15);
	expect_none(&p);
	write_all(sp.b, "", 1);
	assert_int_equal(peer_fill(&p), 1);
	expect_msg(&p, s, 0, fds);
	free(s);
	/* a max-size message after another one in the same read */
	s = filled('c', 15);
	write_all(sp.b, "xy", 3);
	write_all(sp.b, s, 16);
	while (peer_partial(&p) < 19)
		assert_true(peer_fill(&p) > 0);
	expect_msg(&p, "xy", 0, fds);
	expect_msg(&p, s, 0, fds);
	free(s);
	close(sp.b);
	peer_close(&p);

	/* max + 1 bytes, NUL included: refused */
	make_pair(&sp, false);
	peer_init(&p, sp.a, 16);
	s = filled('d', 16);
	write_all(sp.b, s, 17);
	assert_int_equal(peer_fill(&p), 17);
	errno = 0;
	assert_int_equal(peer_next(&p, &msg, fds, &nfds), -1);
	assert_int_equal(errno, EMSGSIZE);
	free(s);
	close(sp.b);
	peer_close(&p);

	/* max bytes and no NUL: refused before the NUL arrives */
	make_pair(&sp, false);
	peer_init(&p, sp.a, 16);
	s = filled('e', 16);
	write_all(sp.b, s, 16);
	assert_int_equal(peer_fill(&p), 16);
	errno = 0;
	assert_int_equal(peer_next(&p, &msg, fds, &nfds), -1);
	assert_int_equal(errno, EMSGSIZE);
	free(s);
	close(sp.b);
	peer_close(&p);

	/* a good message, then an oversize one: the good one is returned */
	make_pair(&sp, false);
	peer_init(&p, sp.a, 16);
	s = filled('f', 40);
	write_all(sp.b, "ok", 3);
	write_all(sp.b, s, 40);
	while (peer_partial(&p) < 43)
		assert_true(peer_fill(&p) > 0);
	expect_msg(&p, "ok", 0, fds);
	errno = 0;
	assert_int_equal(peer_next(&p, &msg, fds, &nfds), -1);
	assert_int_equal(errno, EMSGSIZE);
	free(s);
	close(sp.b);
	peer_close(&p);
}

/* The daemon's limit, over several reads. */
static void run_big(size_t len_with_nul, bool send_nul, int want)
{
	struct pair sp;
	struct peer p;
	char *msg = NULL, *s = filled('m', len_with_nul);
	int fds[DMF_FDS_MAX], nfds, r = 0;
	pid_t pid;
	int st;

	s[len_with_nul - 1] = '\0';
	make_pair(&sp, false);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t len = send_nul ? len_with_nul : len_with_nul - 1;
		close(sp.a);
		for (size_t off = 0; off < len;) {
			ssize_t n = write(sp.b, s + off, len - off);
			if (n <= 0)
				_exit(0); /* the reader gave up: fine */
			off += (size_t)n;
		}
		/* stay connected: EOF must not be what ends the read */
		pause();
		_exit(0);
	}
	close(sp.b);
	peer_init(&p, sp.a, DMF_MSG_MAX);
	for (;;) {
		ssize_t n = peer_fill(&p);
		assert_true(n > 0);
		r = peer_next(&p, &msg, fds, &nfds);
		if (r != 0)
			break;
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(r, want);
	if (want == 1) {
		assert_int_equal(strlen(msg), len_with_nul - 1);
		assert_string_equal(msg, s);
		free(msg);
	} else {
		assert_int_equal(errno, EMSGSIZE);
	}
	free(s);
	peer_close(&p);
}

static void test_size_limit_daemon(void **state)
{
	(void)state;
	run_big(DMF_MSG_MAX, true, 1);
	run_big(DMF_MSG_MAX + 1, true, -1);
	/* no NUL at all: refused once DMF_MSG_MAX bytes are held */
	run_big(DMF_MSG_MAX + 1, false, -1);
	run_big(4 * DMF_MSG_MAX, false, -1);
}

/* ------------------------------------------------------------------ */
/* descriptors                                                        */

static void test_fd_with_second_message(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p, q;
	int fds[DMF_FDS_MAX];
	int base = count_fds();
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	peer_init(&q, sp.b, 1024);
	/* each message read before the next is sent */
	assert_int_equal(peer_queue(&q, "one", -1), 0);
	assert_int_equal(peer_flush(&q), 1);
	expect_msg(&p, "one", 0, fds);
	assert_int_equal(peer_queue(&q, "two", fd), 0);
	assert_int_equal(peer_flush(&q), 1);
	expect_msg(&p, "two", 1, fds);
	assert_true(fds[0] != fd);
	assert_true(same_file(fds[0], fd));
	assert_int_equal(close(fds[0]), 0);
	assert_int_equal(peer_queue(&q, "three", -1), 0);
	assert_int_equal(peer_flush(&q), 1);
	expect_msg(&p, "three", 0, fds);
	close(fd);
	peer_close(&p);
	peer_close(&q);
	assert_int_equal(count_fds(), base);
}

/* Two sends, the fd with the second, both in the socket before the reader
 * reads: the kernel returns both in one recvmsg (it stops only after the
 * skb that carries fds), and the fd must still go with "two", the message
 * whose first byte it was sent with (a client pipelining a call and then
 * an Add). */
static void test_fd_second_message_same_read(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p, q;
	int fds[DMF_FDS_MAX];
	int base = count_fds();
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	peer_init(&q, sp.b, 1024);
	assert_int_equal(peer_queue(&q, "one", -1), 0);
	assert_int_equal(peer_flush(&q), 1);
	assert_int_equal(peer_queue(&q, "two", fd), 0);
	assert_int_equal(peer_flush(&q), 1);
	assert_int_equal(peer_queue(&q, "three", -1), 0);
	assert_int_equal(peer_flush(&q), 1);
	expect_msg(&p, "one", 0, fds);
	expect_msg(&p, "two", 1, fds);
	assert_true(same_file(fds[0], fd));
	close(fds[0]);
	expect_msg(&p, "three", 0, fds);
	close(fd);
	peer_close(&p);
	peer_close(&q);
	assert_int_equal(count_fds(), base);
}

/* Both queued before one flush: the fd must still go with "two". */
static void test_fd_queued_behind_another(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p, q;
	int fds[DMF_FDS_MAX];
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	peer_init(&q, sp.b, 1024);
	assert_int_equal(peer_queue(&q, "one", -1), 0);
	assert_int_equal(peer_queue(&q, "two", fd), 0);
	assert_int_equal(peer_flush(&q), 1);
	expect_msg(&p, "one", 0, fds);
	expect_msg(&p, "two", 1, fds);
	close(fds[0]);
	close(fd);
	peer_close(&p);
	peer_close(&q);
}

static void test_fd_raw_offsets(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p;
	int fds[DMF_FDS_MAX];
	int base = count_fds();
	int f[3];

	for (int i = 0; i < 3; i++) {
		f[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(f[i] >= 0);
	}
	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	/* Each step is read before the next is sent: what one read may
	 * return is test_fd_second_message_same_read's business. (An fd sent
	 * with "m1\0m2\0" in one write is not tested: the reader cannot
	 * tell it from "m1\0" then "m2\0" with the fd, which the kernel
	 * returns in one read.) */
	send_with_fds(sp.b, "m1\0", 3, f, 1);
	expect_msg(&p, "m1", 1, fds);
	close(fds[0]);
	send_with_fds(sp.b, "m2\0", 3, NULL, 0);
	expect_msg(&p, "m2", 0, fds);
	/* fds with the end of a message that began in an earlier read */
	send_with_fds(sp.b, "m3-a", 4, NULL, 0);
	assert_int_equal(peer_fill(&p), 4);
	expect_none(&p);
	send_with_fds(sp.b, "-b\0", 3, f + 1, 2);
	expect_msg(&p, "m3-a-b", 2, fds);
	assert_true(same_file(fds[0], f[1]));
	close(fds[0]);
	close(fds[1]);
	/* an fd with an empty message */
	send_with_fds(sp.b, "", 1, f, 1);
	expect_msg(&p, "", 1, fds);
	close(fds[0]);
	expect_none(&p);
	for (int i = 0; i < 3; i++)
		close(f[i]);
	close(sp.b);
	peer_close(&p);
	assert_int_equal(count_fds(), base);
}

static void test_fd_cloexec(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p;
	int fds[DMF_FDS_MAX];
	/* sent without CLOEXEC: the receiver's copy must have it anyway */
	int fd = open("/dev/null", O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	int many[DMF_FDS_MAX] = { fd, fd, fd, fd };
	send_with_fds(sp.b, "x", 2, many, DMF_FDS_MAX);
	expect_msg(&p, "x", DMF_FDS_MAX, fds);
	for (int i = 0; i < DMF_FDS_MAX; i++) {
		int fl = fcntl(fds[i], F_GETFD);
		assert_true(fl >= 0);
		assert_true(fl & FD_CLOEXEC);
		close(fds[i]);
	}
	close(fd);
	close(sp.b);
	peer_close(&p);
}

static void too_many(int n)
{
	struct pair sp;
	struct peer p;
	int fds[DMF_FDS_MAX];
	int base, sent[64];

	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	for (int i = 0; i < n; i++) {
		sent[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(sent[i] >= 0);
	}
	send_with_fds(sp.b, "many\0", 5, sent, n);
	for (int i = 0; i < n; i++)
		close(sent[i]);
	base = count_fds();
	send_with_fds(sp.b, "after\0", 6, NULL, 0);
	expect_msg(&p, "many", DMF_FDS_MAX + 1, fds);
	/* every one of them closed */
	assert_int_equal(count_fds(), base);
	/* and the next message is not affected */
	expect_msg(&p, "after", 0, fds);
	close(sp.b);
	peer_close(&p);
	assert_int_equal(count_fds(), base - 2);
}

static void test_fd_too_many(void **state)
{
	(void)state;
	too_many(DMF_FDS_MAX + 1);
	too_many(2 * DMF_FDS_MAX);
	too_many(2 * DMF_FDS_MAX + 1); /* more than one read's control room */
	too_many(40);
}

/* Up to DMF_FDS_MAX with each of two messages is fine. */
static void test_fd_max_per_message(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p;
	int fds[DMF_FDS_MAX], f[DMF_FDS_MAX];
	int base = count_fds();

	for (int i = 0; i < DMF_FDS_MAX; i++)
		assert_true((f[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	send_with_fds(sp.b, "a\0", 2, f, DMF_FDS_MAX);
	send_with_fds(sp.b, "b\0", 2, f, DMF_FDS_MAX);
	expect_msg(&p, "a", DMF_FDS_MAX, fds);
	for (int i = 0; i < DMF_FDS_MAX; i++) {
		assert_true(same_file(fds[i], f[i]));
		close(fds[i]);
	}
	expect_msg(&p, "b", DMF_FDS_MAX, fds);
	for (int i = 0; i < DMF_FDS_MAX; i++)
		close(fds[i]);
	for (int i = 0; i < DMF_FDS_MAX; i++)
		close(f[i]);
	close(sp.b);
	peer_close(&p);
	assert_int_equal(count_fds(), base);
}

/* Fds held for a message that never completes are closed by peer_close. */
static void test_fd_closed_with_peer(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p;
	int base = count_fds();
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	send_with_fds(sp.b, "half", 4, &fd, 1);
	close(fd);
	assert_int_equal(peer_fill(&p), 4);
	expect_none(&p);
	close(sp.b);
	peer_close(&p);
	assert_int_equal(count_fds(), base);
}

/* ------------------------------------------------------------------ */
/* output                                                             */

static void test_outbuf_bound(void **state)
{
	(void)state;
	struct pair sp;
	struct peer q;
	char *s;

	make_pair(&sp, true);
	peer_init(&q, sp.b, 1024);
	/* one long reply is accepted even past the bound (a List of many
	 * monitors): the bound is on what is already waiting */
	s = filled('o', DMF_OUTBUF_MAX);
	assert_int_equal(peer_queue(&q, s, -1), 0);
	assert_true(peer_pending(&q));
	free(s);
	/* DMF_OUTBUF_MAX + 1 bytes waiting: the next message is refused */
	errno = 0;
	assert_int_equal(peer_queue(&q, "", -1), -1);
	assert_int_equal(errno, ENOBUFS);

	/* nobody reads: flush sends some, then reports 0 (EAGAIN) */
	assert_int_equal(peer_flush(&q), 0);
	assert_true(peer_pending(&q));
	/* what is left still counts against the bound while over it */
	if (peer_backlog(&q) > DMF_OUTBUF_MAX) {
		errno = 0;
		assert_int_equal(peer_queue(&q, "x", -1), -1);
		assert_int_equal(errno, ENOBUFS);
	}

	/* the other end reads it all: the queue drains */
	struct peer p;
	char *msg;
	int fds[DMF_FDS_MAX], nfds, r;
	peer_init(&p, sp.a, DMF_OUTBUF_MAX + 1);
	for (;;) {
		ssize_t n = peer_fill(&p);
		if (n < 0) {
			assert_true(errno == EAGAIN);
			assert_true(peer_flush(&q) >= 0);
		}
		r = peer_next(&p, &msg, fds, &nfds);
		if (r)
			break;
	}
	assert_int_equal(r, 1);
	assert_int_equal(strlen(msg), DMF_OUTBUF_MAX);
	free(msg);
	assert_false(peer_pending(&q));
	/* and there is room again */
	assert_int_equal(peer_queue(&q, "again", -1), 0);
	assert_int_equal(peer_flush(&q), 1);
	expect_msg(&p, "again", 0, fds);
	peer_close(&p);
	peer_close(&q);
}

/* ------------------------------------------------------------------ */
/* credentials, blocking helpers                                      */

static void test_cred(void **state)
{
	(void)state;
	struct pair sp;
	uid_t uid = (uid_t)-1;
	pid_t pid = -1;

	make_pair(&sp, false);
	assert_int_equal(peer_cred(sp.a, &uid, &pid), 0);
	assert_int_equal(uid, getuid());
	assert_int_equal(pid, getpid());
	close(sp.a);
	close(sp.b);
	/* not a socket */
	assert_int_equal(peer_cred(-1, &uid, &pid), -1);
}

static void test_blocking_round_trip(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p, q;
	char *msg;
	pid_t pid;
	int st;
	size_t big = 3 * 1024 * 1024;

	make_pair(&sp, true); /* non-blocking: the helpers must wait */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* echo every message back, until EOF */
		struct peer e;
		char *m;
		close(sp.a);
		peer_init(&e, sp.b, 8 * 1024 * 1024);
		while (peer_recv_blocking(&e, &m) == 1) {
			if (peer_send_blocking(&e, m, -1) < 0)
				_exit(2);
			free(m);
		}
		peer_close(&e);
		_exit(0);
	}
	close(sp.b);
	peer_init(&p, sp.a, 8 * 1024 * 1024);
	assert_int_equal(peer_send_blocking(&p, "hello", -1), 0);
	assert_int_equal(peer_recv_blocking(&p, &msg), 1);
	assert_string_equal(msg, "hello");
	free(msg);
	assert_int_equal(peer_send_blocking(&p, "", -1), 0);
	assert_int_equal(peer_recv_blocking(&p, &msg), 1);
	assert_string_equal(msg, "");
	free(msg);
	/* larger than the socket buffers in both directions */
	char *s = filled('z', big);
	assert_int_equal(peer_send_blocking(&p, s, -1), 0);
	assert_int_equal(peer_recv_blocking(&p, &msg), 1);
	assert_int_equal(strlen(msg), big);
	assert_string_equal(msg, s);
	free(msg);
	free(s);
	/* with an fd: the echo side's helper closes it; the text arrives */
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(peer_send_blocking(&p, "with fd", fd), 0);
	close(fd);
	assert_int_equal(peer_recv_blocking(&p, &msg), 1);
	assert_string_equal(msg, "with fd");
	free(msg);
	/* EOF: our half closed, the echo ends, we read 0 */
	assert_int_equal(shutdown(sp.a, SHUT_WR), 0);
	assert_int_equal(peer_recv_blocking(&p, &msg), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	peer_close(&p);

	/* peer_recv_blocking over the maximum: -1 EMSGSIZE */
	make_pair(&sp, false);
	peer_init(&p, sp.a, 8);
	peer_init(&q, sp.b, 8);
	assert_int_equal(peer_send_blocking(&q, "0123456789", -1), 0);
	errno = 0;
	assert_int_equal(peer_recv_blocking(&p, &msg), -1);
	assert_int_equal(errno, EMSGSIZE);
	peer_close(&p);
	/* sending to a closed peer: -1, no SIGPIPE */
	errno = 0;
	assert_int_equal(peer_send_blocking(&q, "x", -1), -1);
	assert_int_equal(errno, EPIPE);
	peer_close(&q);
}

/* peer_next and peer_recv_blocking on a peer that has read nothing yet
 * (peer_recv_blocking starts with peer_next: every client call does this).
 * Last: under UBSan with -fno-sanitize-recover a fault here ends the run. */
static void test_next_on_fresh_peer(void **state)
{
	(void)state;
	struct pair sp;
	struct peer p, q;
	char *msg = (char *)1;
	int fds[DMF_FDS_MAX], nfds = -1;

	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	assert_int_equal(peer_partial(&p), 0);
	assert_int_equal(peer_next(&p, &msg, fds, &nfds), 0);
	assert_int_equal(nfds, 0);
	peer_init(&q, sp.b, 1024);
	assert_int_equal(peer_send_blocking(&q, "hi", -1), 0);
	peer_close(&p);
	make_pair(&sp, false);
	peer_init(&p, sp.a, 1024);
	write_all(sp.b, "hi", 3);
	assert_int_equal(peer_recv_blocking(&p, &msg), 1);
	assert_string_equal(msg, "hi");
	free(msg);
	close(sp.b);
	peer_close(&p);
	peer_close(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_several_in_one_write),
		cmocka_unit_test(test_split_message),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_many_messages),
		cmocka_unit_test(test_size_limit_small),
		cmocka_unit_test(test_size_limit_daemon),
		cmocka_unit_test(test_fd_with_second_message),
		cmocka_unit_test(test_fd_second_message_same_read),
		cmocka_unit_test(test_fd_queued_behind_another),
		cmocka_unit_test(test_fd_raw_offsets),
		cmocka_unit_test(test_fd_cloexec),
		cmocka_unit_test(test_fd_too_many),
		cmocka_unit_test(test_fd_max_per_message),
		cmocka_unit_test(test_fd_closed_with_peer),
		cmocka_unit_test(test_outbuf_bound),
		cmocka_unit_test(test_cred),
		cmocka_unit_test(test_blocking_round_trip),
		cmocka_unit_test(test_next_on_fresh_peer),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
