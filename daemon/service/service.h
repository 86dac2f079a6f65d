/* service.h: the monitor service of one process: its monitors and devices,
 * loop, kernel backend, start/run/stop, and the hooks that tell its owner. */
#ifndef DMF_SERVICE_H
#define DMF_SERVICE_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "core/backend.h"
#include "core/marks.h"
#include "kernel/inotify.h"
#include "kernel/mounts.h"
#include "service/device.h"
#include "service/unmonitored.h"

struct monitor;
TAILQ_HEAD(monitor_list, monitor);

/* How the service tells its owner (server.c, solo.c) what happens. Any
 * hook may be NULL. None may end or free a monitor. */
struct service_hooks {
	/* An event of M: "added", "updated", "regrouped" (OLD_GROUP is the
	 * group's id before), "error", "ended" (REASON says why). */
	void (*event)(void *arg, const struct monitor *m, const char *event,
		      uint64_t old_group, const char *reason,
		      const char *message);
	/* The registrations changed (a monitor added, ended, renamed,
	 * regrouped, or its file replaced): save them soon. */
	void (*changed)(void *arg);
	/* M's fd is to be kept past this process (the fd store), or no
	 * longer. */
	void (*keep_fd)(void *arg, const struct monitor *m);
	void (*drop_fd)(void *arg, const struct monitor *m);
	/* Save the registrations and their ledgers now: counts were
	 * carried, and the regions they came from are about to go. Returns
	 * 0 or -errno (the deletes go ahead: the group must match). */
	int (*persist)(void *arg);
	void *arg;
};

struct service {
	struct ev_loop *loop;
	struct dm_backend be;
	struct ioctl_counts counters; /* dm ioctls sent, by kind */
	/* passes over a device, and those that checked every monitor on
	 * it (its list showed a change not ours) */
	uint64_t passes, full_checks;
	uint64_t errors;              /* update errors said by monitors */
	struct service_hooks hooks;
	pid_t ignore_holder; /* holds our files but is no user (fd store) */
	bool stop_when_empty; /* the loop ends with the last monitor */
	struct monitor_list monitors;
	struct monitor_list dead; /* ended, freed from the loop */
	size_t nmonitors;
	uint64_t next_id;
	/* names this supervisor in the marks it leaves (core/marks.h) */
	char instance[MARK_INSTANCE_LEN + 1];
	struct devices devices;
	struct unmonitored_set unmonitored; /* groups no monitor keeps */
	struct inotify_set inotify;
	struct mounts mounts;
	ev_check reaper;
	ev_signal sigterm, sigint;
};

/* Set S up on LOOP with the backend BE (copied) and a check every
 * INTERVAL seconds; then set S->hooks. */
void service_init(struct service *s, struct ev_loop *loop,
		  const struct dm_backend *be, double interval);
/* Watch files and mounts, reap from the loop, stop on SIGTERM and
 * SIGINT. Returns 0, or -errno with the reason in WHY. */
int service_start(struct service *s, char *why, size_t whylen);
/* Run the loop until a stop signal (or, with stop_when_empty, until the
 * last monitor ends). */
void service_run(struct service *s);
/* End every monitor ("shutdown": its registration is kept), free them
 * and every device, and stop watching. */
void service_stop(struct service *s, const char *message);
/* Ids given from now on are above FLOOR. */
void service_ids_above(struct service *s, uint64_t floor);

#endif
