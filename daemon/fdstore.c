/* fdstore.c: systemd's file descriptor store: monitored files' fds kept by
 * the service manager (FDSTORE=1), handed back at the next start. */
#define _GNU_SOURCE
#include "fdstore.h"
#include "log.h"
#include "monitor.h"
#include "peer.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SD_LISTEN_FDS_START 3
#define NAME_PREFIX "monitor-"

static struct sockaddr_un notify_addr;
static socklen_t notify_len;
static int notify_fd = -1;
static pid_t manager_pid; /* holds the stored fds */

/* Stored fds handed back at start, by name, until taken or dropped. */
struct stored {
	char name[64];
	int fd;
};
static struct stored *stored;
static size_t nstored;

static int notify(const char *msg, int fd)
{
	union peer_cmsg cbuf;
	struct iovec iov = { (void *)msg, strlen(msg) };
	struct msghdr mh = { .msg_name = &notify_addr,
			     .msg_namelen = notify_len,
			     .msg_iov = &iov,
			     .msg_iovlen = 1 };

	if (notify_fd < 0)
		return 0;
	if (fd >= 0)
		peer_attach_fd(&mh, &cbuf, fd);
	if (sendmsg(notify_fd, &mh, MSG_NOSIGNAL) < 0) {
		log_warn("fd store: cannot notify the service manager");
		return -1;
	}
	return 0;
}

bool fdstore_enabled(void)
{
	return notify_fd >= 0;
}

pid_t fdstore_manager(void)
{
	return notify_fd >= 0 ? manager_pid : 0;
}

int fdstore_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *mgr = getenv("MANAGERPID");
	size_t len;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return 0;
	/* a per-user manager says who it is; the system's is PID 1 */
	manager_pid = mgr && atol(mgr) > 0 && atol(mgr) < INT_MAX
			      ? (pid_t)atol(mgr) : 1;
	len = strlen(path);
	if (len >= sizeof(notify_addr.sun_path))
		return -ENAMETOOLONG;
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, len);
	if (path[0] == '@') /* abstract namespace */
		notify_addr.sun_path[0] = '\0';
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				 (path[0] == '@' ? 0 : 1));
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return notify_fd < 0 ? -errno : 0;
}

void fdstore_name(const struct monitor *m, char *buf, size_t len)
{
	snprintf(buf, len, NAME_PREFIX "%" PRIu64, m->id);
}

void fdstore_put(const struct monitor *m)
{
	char msg[128], name[64];

	if (notify_fd < 0)
		return;
	fdstore_name(m, name, sizeof(name));
	snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
	notify(msg, m->fd);
}

static void remove_name(const char *name)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	notify(msg, -1);
}

void fdstore_drop(const struct monitor *m)
{
	char name[64];

	if (notify_fd < 0)
		return;
	fdstore_name(m, name, sizeof(name));
	remove_name(name);
}

/* Split LISTEN_FDNAMES into the listening socket and stored monitor fds.
 * Returns the listening socket, or -1 if none was passed. */
int fdstore_take_listen_fds(int n)
{
	const char *names = getenv("LISTEN_FDNAMES");
	char *copy = names ? strdup(names) : NULL, *save = NULL, *tok;
	int listen_fd = -1;

	stored = calloc((size_t)(n > 0 ? n : 1), sizeof(*stored));
	tok = copy ? strtok_r(copy, ":", &save) : NULL;
	for (int i = 0; i < n; i++, tok = tok ? strtok_r(NULL, ":", &save) : NULL) {
		int fd = SD_LISTEN_FDS_START + i, type = 0;
		socklen_t len = sizeof(type);

		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			continue;
		if (tok && !strncmp(tok, NAME_PREFIX, strlen(NAME_PREFIX)) &&
		    stored) {
			snprintf(stored[nstored].name,
				 sizeof(stored[nstored].name), "%s", tok);
			stored[nstored++].fd = fd;
		} else if (listen_fd < 0 &&
			   getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
			   type == SOCK_STREAM) {
			listen_fd = fd;
		} else {
			log_warnx("socket activation: ignoring fd %d (%s)", fd,
				  tok ? tok : "unnamed");
			close(fd);
		}
	}
	free(copy);
	return listen_fd;
}

int fdstore_take(const char *name)
{
	for (size_t i = 0; i < nstored; i++) {
		if (stored[i].fd >= 0 && !strcmp(stored[i].name, name)) {
			int fd = stored[i].fd;
			stored[i].fd = -1;
			/* the new monitor stores it again under its own name */
			remove_name(stored[i].name);
			return fd;
		}
	}
	return -1;
}

uint64_t fdstore_max_id(void)
{
	uint64_t max = 0;

	for (size_t i = 0; i < nstored; i++) {
		uint64_t id = strtoull(stored[i].name + strlen(NAME_PREFIX),
				       NULL, 10);
		if (id > max && id < UINT64_MAX / 2)
			max = id;
	}
	return max;
}

void fdstore_release_unused(void)
{
	for (size_t i = 0; i < nstored; i++) {
		if (stored[i].fd < 0)
			continue;
		log_info("fd store: %s has no saved registration; dropping it",
			 stored[i].name);
		remove_name(stored[i].name);
		close(stored[i].fd);
	}
	free(stored);
	stored = NULL;
	nstored = 0;
}

void fdstore_shutdown(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
