/* monitor.h: one file kept matched by one dm-stats group: registering it,
 * reconciling its group (reconcile.c), following it (follow.c), ending it. */
#ifndef DMF_MONITOR_H
#define DMF_MONITOR_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "core/group.h"
#include "core/ledger.h"
#include "core/plan.h"

struct device;
struct service;

enum monitor_mode { MODE_INODE, MODE_PATH };
enum monitor_state { MS_ACTIVE, MS_UNLINKED, MS_MISSING, MS_ENDED };

struct monitor {
	uint64_t id;
	char *path;
	const char *base; /* last component of path */
	int fd;
	dev_t st_dev;
	ino_t st_ino;
	blkcnt_t st_blocks; /* as of the last extent read */
	off_t st_size;
	struct service *svc;
	struct device *device;
	uint64_t group_id;
	char *alias;
	enum monitor_mode mode;
	enum monitor_state state;
	size_t regions;
	uint64_t updates;
	char *last_error;
	time_t since;
	bool dirty;             /* the file may have changed: re-read extents */
	bool reread;            /* written (or swept): read its extents again
				 * even if its size and blocks are the same */
	double reread_at;       /* when they were last read (loop time) */
	bool replaced;          /* follow-path: a new file, maybe not written yet */
	bool resumed;           /* re-adopted: what a crash left is finished at
				 * the first sync (monitor_retry_drops) */
	struct extent_list want; /* the file's extents as last read */
	struct ledger ledger;   /* I/O counts no region change loses */
	bool planned;           /* a pass's plan, its counts carried, waits */
	struct group_view view; /* ... for the group as it was then */
	struct plan plan;
	int wd_file, wd_dir;    /* inotify watches, -1 if none */
	int mnt_id;             /* the mount holding fd (mounts.c), or -1 */
	ev_timer timer;         /* follow-path grace, unlinked holder check */
	TAILQ_ENTRY(monitor) dev_entry;
	TAILQ_ENTRY(monitor) entry;
};

/* A registration, as Add or Create give it. */
struct monitor_req {
	int fd; /* the monitor takes it over on success */
	const char *path;
	enum monitor_mode mode;
	bool create;       /* Create: make the group from the extents */
	uint64_t group_id; /* Add */
	const char *alias; /* Create */
	bool precise;      /* Create */
	const char *histogram; /* Create: "10,20" in kernel units, or NULL */
	bool trusted; /* fd from the fd store: PATH may be stale */
	bool batch;   /* one of many made at once (the re-adoptions at start):
		       * the device's list, once read, serves them all */
	struct ledger *ledger; /* counts saved by an earlier start (Add):
				* the new monitor takes them over */
};

/* A failed call: a Varlink error name and a one-line message naming the
 * cause and the object. */
struct monitor_err {
	const char *name;
	char message[512];
};

/* What a registration did. */
enum monitor_added {
	ADDED_NEW,      /* a new monitor */
	ADDED_EXISTING, /* the group's monitor, as it was: REQ's fd is left
			 * to the caller */
	ADDED_CHANGED   /* the group's monitor, which takes REQ's file, path
			 * and mode (a second registration with other ones) */
};

/* Register. On success returns the monitor and says in *ADDED what was
 * done; else NULL with ERR set. REQ's fd is the monitor's but with
 * ADDED_EXISTING or on failure. */
struct monitor *monitor_add(struct service *s, const struct monitor_req *req,
			    enum monitor_added *added, struct monitor_err *err);
/* Reconcile M with its device's current list: monitor_sync_plan, then
 * monitor_sync_apply, with the owner's persist hook between them if
 * counts were carried. */
void monitor_sync(struct monitor *m);
/* The first half, for a pass over many monitors: plan M's group and read
 * the counters of the regions the plan drops into M's ledger (pending).
 * Returns 1 if a plan waits to be applied, 0 if not. */
int monitor_sync_plan(struct monitor *m, bool *carried);
/* The second half: apply the waiting plan (the pending counts settle). */
void monitor_sync_apply(struct monitor *m);
/* End M: emit "ended", drop its watches and fd; freed by monitor_reap. */
void monitor_end(struct monitor *m, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Remove M by request; with delete_group its regions are deleted too.
 * Returns 0, or -errno with ERR set (M is then still monitored). */
int monitor_remove(struct monitor *m, bool delete_group,
		   struct monitor_err *err);
/* Free the monitors that ended (from the loop, never in a callback). */
void monitor_reap(struct service *s);
struct monitor *monitor_find_id(const struct service *s, uint64_t id);
struct monitor *monitor_find_path(const struct service *s, const char *path);

/* Events of M's watches (follow.c): of its file, and of its directory
 * (follow-path). */
void monitor_file_event(struct monitor *m, uint32_t mask);
void monitor_dir_event(struct monitor *m, uint32_t mask);

/* Seconds a follow-path path may be gone, or its new file empty. */
#define PATH_GRACE 1.0

/* Internal to monitor.c, reconcile.c and follow.c. */
/* Read M's extents again if the file may have changed (or FORCE), its
 * size and blocks KNOWN (fstat'ed just before) or looked up. 0 or -errno. */
int monitor_read_extents(struct monitor *m, bool force, const struct stat *known);
/* The pass's waiting plan, if any, goes. */
void monitor_unplan(struct monitor *m);
/* Read M's extents again (no event said they changed): if they differ
 * from the ones it knows, M is to be synced. Returns whether so. */
bool monitor_sweep(struct monitor *m);
int monitor_watch_file(struct monitor *m);
void monitor_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
/* Tell the owner that M's registration changed (to be saved). */
void monitor_registration_changed(const struct monitor *m);
/* Tell the owner about an event of M. */
/* M's update failed, WHY: shown by List and sent to watchers (once while
 * it is the same), retried at the next pass. */
void monitor_error(struct monitor *m, const char *why);
/* The regions M's pending counts came from that are still there outside
 * its group (a delete that failed, or was cut short by a crash) are
 * deleted; their counts settle once they are gone. */
void monitor_retry_drops(struct monitor *m);
/* M's group is right again: the error goes. */
void monitor_error_clear(struct monitor *m);
void monitor_emit(const struct monitor *m, const char *event,
		  uint64_t old_group, const char *reason, const char *message);
int monitor_watch_dir(struct monitor *m);
/* Undo N, prepared but never linked: its watches go, its fd is left. */
void monitor_discard(struct monitor *n);
/* Whether N (prepared) registers M's group with M's mode, path and file. */
bool monitor_same_options(const struct monitor *m, const struct monitor *n);
/* M takes N's file, path and mode (N is freed), and says so in an event
 * "changed". */
void monitor_take_options(struct monitor *m, struct monitor *n);

const char *monitor_mode_name(enum monitor_mode mode);
const char *monitor_state_name(enum monitor_state state);

#endif
