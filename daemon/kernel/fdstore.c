/* fdstore.c: the service manager's notification socket (sd_notify): the fd
 * store that keeps monitored files' fds across restarts, readiness, status. */
#define _GNU_SOURCE
#include "kernel/fdstore.h"
#include "log.h"
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

/* Send MSG (and FD, if >= 0) to the service manager (sd_notify). */
static int sd_notify(struct fdstore *fs, const char *msg, int fd)
{
	union peer_cmsg cbuf;
	struct iovec iov = { (void *)msg, strlen(msg) };
	struct msghdr mh = { .msg_name = &fs->addr,
			     .msg_namelen = fs->addrlen,
			     .msg_iov = &iov,
			     .msg_iovlen = 1 };

	if (fs->fd < 0)
		return 0;
	if (fd >= 0)
		peer_attach_fd(&mh, &cbuf, fd);
	if (sendmsg(fs->fd, &mh, MSG_NOSIGNAL) < 0) {
		int e = -errno;
		log_warn("fd store: cannot notify the service manager");
		return e;
	}
	return 0;
}

bool fdstore_enabled(const struct fdstore *fs)
{
	return fs->fd >= 0;
}

pid_t fdstore_manager(const struct fdstore *fs)
{
	return fs->fd >= 0 ? fs->manager : 0;
}

int fdstore_init(struct fdstore *fs)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *mgr = getenv("MANAGERPID");
	size_t len;

	memset(fs, 0, sizeof(*fs));
	fs->fd = -1;
	if (!path || (path[0] != '/' && path[0] != '@'))
		return 0;
	/* a per-user manager says who it is; the system's is PID 1 */
	fs->manager = mgr && atol(mgr) > 0 && atol(mgr) < INT_MAX
			      ? (pid_t)atol(mgr) : 1;
	len = strlen(path);
	if (len >= sizeof(fs->addr.sun_path))
		return -ENAMETOOLONG;
	fs->addr.sun_family = AF_UNIX;
	memcpy(fs->addr.sun_path, path, len);
	if (path[0] == '@') /* abstract namespace */
		fs->addr.sun_path[0] = '\0';
	fs->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				  (path[0] == '@' ? 0 : 1));
	fs->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return fs->fd < 0 ? -errno : 0;
}

void fdstore_name(uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, NAME_PREFIX "%" PRIu64, id);
}

void fdstore_put(struct fdstore *fs, uint64_t id, int fd)
{
	char msg[128], name[64];

	if (fs->fd < 0)
		return;
	fdstore_name(id, name, sizeof(name));
	snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
	(void)sd_notify(fs, msg, fd); /* said in the log */
}

static void remove_name(struct fdstore *fs, const char *name)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	(void)sd_notify(fs, msg, -1); /* said in the log */
}

void fdstore_drop(struct fdstore *fs, uint64_t id)
{
	char name[64];

	if (fs->fd < 0)
		return;
	fdstore_name(id, name, sizeof(name));
	remove_name(fs, name);
}

/* Split LISTEN_FDNAMES into the listening socket and stored monitor fds.
 * Returns the listening socket, or -1 if none was passed. */
int fdstore_take_listen_fds(struct fdstore *fs, int n)
{
	const char *names = getenv("LISTEN_FDNAMES");
	char *copy = names ? strdup(names) : NULL, *save = NULL, *tok;
	int listen_fd = -1;

	fs->stored = calloc((size_t)(n > 0 ? n : 1), sizeof(*fs->stored));
	tok = copy ? strtok_r(copy, ":", &save) : NULL;
	for (int i = 0; i < n; i++, tok = tok ? strtok_r(NULL, ":", &save) : NULL) {
		int fd = SD_LISTEN_FDS_START + i, type = 0;
		socklen_t len = sizeof(type);

		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			continue;
		if (tok && !strncmp(tok, NAME_PREFIX, strlen(NAME_PREFIX)) &&
		    fs->stored) {
			snprintf(fs->stored[fs->nstored].name,
				 sizeof(fs->stored[fs->nstored].name), "%s", tok);
			fs->stored[fs->nstored++].fd = fd;
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

int fdstore_take(struct fdstore *fs, const char *name)
{
	for (size_t i = 0; i < fs->nstored; i++) {
		if (fs->stored[i].fd >= 0 && !strcmp(fs->stored[i].name, name)) {
			int fd = fs->stored[i].fd;
			fs->stored[i].fd = -1;
			/* the new monitor stores it again under its own name */
			remove_name(fs, fs->stored[i].name);
			return fd;
		}
	}
	return -1;
}

uint64_t fdstore_max_id(const struct fdstore *fs)
{
	uint64_t max = 0;

	for (size_t i = 0; i < fs->nstored; i++) {
		uint64_t id = strtoull(fs->stored[i].name + strlen(NAME_PREFIX),
				       NULL, 10);
		if (id > max && id < UINT64_MAX / 2)
			max = id;
	}
	return max;
}

void fdstore_release_unused(struct fdstore *fs)
{
	for (size_t i = 0; i < fs->nstored; i++) {
		if (fs->stored[i].fd < 0)
			continue;
		log_info("fd store: %s has no saved registration; dropping it",
			 fs->stored[i].name);
		remove_name(fs, fs->stored[i].name);
		close(fs->stored[i].fd);
	}
	free(fs->stored);
	fs->stored = NULL;
	fs->nstored = 0;
}

void fdstore_status(struct fdstore *fs, bool ready, const char *text)
{
	char msg[512];

	if (fs->fd < 0)
		return;
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", ready ? "READY=1\n" : "",
		 text);
	(void)sd_notify(fs, msg, -1); /* said in the log */
}

void fdstore_shutdown(struct fdstore *fs)
{
	if (fs->fd >= 0 && close(fs->fd) < 0)
		log_warn("close NOTIFY_SOCKET");
	fs->fd = -1;
}
