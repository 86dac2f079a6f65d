/* fdstore.h: systemd's file descriptor store: monitored files' fds kept by
 * the service manager (FDSTORE=1), handed back at the next start. */
#ifndef DMF_FDSTORE_H
#define DMF_FDSTORE_H

#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

struct monitor;

/* Use $NOTIFY_SOCKET if set. Returns 0 or -errno. */
int fdstore_init(void);
bool fdstore_enabled(void);
/* The service manager that holds the stored fds ($MANAGERPID, else PID
 * 1), not another holder of a file; 0 without a store. */
pid_t fdstore_manager(void);
/* The name M's fd is stored under. */
void fdstore_name(const struct monitor *m, char *buf, size_t len);
/* Store M's fd, or remove it from the store. */
void fdstore_put(const struct monitor *m);
void fdstore_drop(const struct monitor *m);
/* At start, of the N fds passed (LISTEN_FDS): keep the stored monitor
 * fds by name, return the listening socket (or -1), close the rest. */
int fdstore_take_listen_fds(int n);
/* The stored fd named NAME (taken over by the caller), or -1. */
int fdstore_take(const char *name);
/* The highest monitor id among the stored names (0 if none): new ids
 * start above it, so no new name equals one still in the store. */
uint64_t fdstore_max_id(void);
/* Close and drop stored fds no saved registration claimed. */
void fdstore_release_unused(void);
void fdstore_shutdown(void);

#endif
