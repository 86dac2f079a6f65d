/* fuzz_decoder.c: libFuzzer target for everything a client controls: the
 * NUL framing (peer.c), call parsing (varlink.c) and every method's
 * parameter checks (methods.c), through the daemon's own dispatcher. */
#include "front/connection.h"
#include "front/methods.h"
#include "kernel/dmstats.h"
#include "peer.h"
#include "service/service.h"

#include <ev.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ev_loop *loop;
static struct dmstats dm;
static struct service svc;
static struct methods ms;
static struct conn_set set;
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

	if (!loop) {
		struct dm_backend be;
		loop = ev_default_loop(0);
		dmstats_backend(&dm, &be);
		service_init(&svc, loop, &be, 1.0);
		ms.svc = &svc;
		conn_set_init(&set, loop, methods_dispatch, &ms);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		abort();
	drain_fd = sv[1];
	c = conn_new(&set, sv[0]);
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
		methods_dispatch(&ms, c, msg, fds, nfds);
		free(msg);
		drain();
		if (c->dead)
			break;
	}
	conn_close(c, NULL);
	conn_reap(&set);
	close(sv[1]);
	return 0;
}
