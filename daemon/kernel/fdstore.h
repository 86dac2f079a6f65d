/* fdstore.h: the service manager's notification socket (sd_notify): the fd
 * store that keeps monitored files' fds across restarts, readiness, status. */
#ifndef DMF_FDSTORE_H
#define DMF_FDSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

/* A stored fd handed back at start, by name, until taken or dropped. */
struct fdstore_entry {
	char name[64];
	int fd;
};

struct fdstore {
	struct sockaddr_un addr; /* $NOTIFY_SOCKET */
	socklen_t addrlen;
	int fd;                 /* -1: no service manager, no store */
	pid_t manager;          /* holds the stored fds */
	struct fdstore_entry *stored;
	size_t nstored;
};

/* Use $NOTIFY_SOCKET if set. Returns 0 or -errno (-ENAMETOOLONG: the
 * path does not fit a socket address). */
int fdstore_init(struct fdstore *fs);
bool fdstore_enabled(const struct fdstore *fs);
/* The service manager that holds the stored fds ($MANAGERPID, else PID
 * 1), not another holder of a file; 0 without a store. */
pid_t fdstore_manager(const struct fdstore *fs);
/* The name monitor ID's fd is stored under. */
void fdstore_name(uint64_t id, char *buf, size_t len);
/* Store monitor ID's FD, or remove it from the store. */
void fdstore_put(struct fdstore *fs, uint64_t id, int fd);
void fdstore_drop(struct fdstore *fs, uint64_t id);
/* At start, of the N fds passed (LISTEN_FDS): keep the stored monitor
 * fds by name, return the listening socket (or -1), close the rest. */
int fdstore_take_listen_fds(struct fdstore *fs, int n);
/* The stored fd named NAME (taken over by the caller), or -1. */
int fdstore_take(struct fdstore *fs, const char *name);
/* The highest monitor id among the stored names (0 if none): new ids
 * start above it, so no new name equals one still in the store. */
uint64_t fdstore_max_id(const struct fdstore *fs);
/* Close and drop stored fds no saved registration claimed. */
void fdstore_release_unused(struct fdstore *fs);
void fdstore_shutdown(struct fdstore *fs);
/* READY=1 (or, with READY false, only) and STATUS=TEXT. */
void fdstore_status(struct fdstore *fs, bool ready, const char *text);

#endif
