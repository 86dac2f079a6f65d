/* fuzz_decoder.c: libFuzzer target for everything a client controls: the
 * NUL framing (peer.c), call parsing (varlink.c) and every method's
 * parameter checks (methods.c), through the daemon's own dispatch(). */
#include "connection.h"
#include "methods.h"
#include "peer.h"

#include <ev.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ev_loop *loop;
static int drain_fd = -1;

static void drain(void)
{
	char buf[65536];

	while (recv(drain_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	struct conn *c;

	if (!loop)
		loop = ev_default_loop(0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		abort();
	drain_fd = sv[1];
	c = conn_new(loop, sv[0]);
	if (!c)
		abort();
	/* the bytes as if received: framing decides what a message is */
	free(c->peer.in);
	c->peer.in = malloc(size + 1);
	if (!c->peer.in)
		abort();
	memcpy(c->peer.in, data, size);
	c->peer.inlen = size;
	c->peer.incap = size + 1;
	for (;;) {
		int fds[DMF_FDS_MAX], nfds;
		char *msg;
		int r = peer_next(&c->peer, &msg, fds, &nfds);
		if (r <= 0)
			break;
		dispatch(loop, c, msg, fds, nfds);
		free(msg);
		drain();
		if (c->dead)
			break;
	}
	conn_close(loop, c, NULL);
	conn_reap();
	close(sv[1]);
	return 0;
}
