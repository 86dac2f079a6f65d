/* svc_fixture.h: the monitor service driven through the fake dm-stats
 * kernel (fake_dm.c), as the unit tests of the service use it: real files
 * in a temporary directory whose device is the fake's dm device, a real
 * inotify instance, every service hook recorded; the device passes are run
 * by hand, never by the loop. Include after <cmocka.h>; link svc_fixture.c.
 * No root, no dm. */
#ifndef DMF_SVC_FIXTURE_H
#define DMF_SVC_FIXTURE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/counters.h"
#include "core/ledger.h"
#include "fake_assert.h"
#include "service/monitor.h"
#include "service/service.h"

#define DEVNAME "vol"
#define MAXEV 64
#define MAXFILES 4
#define MAXPERSIST 8

/* One event the service told its owner. */
struct ev_rec {
	uint64_t monitor;
	char event[16];
	uint64_t old_group;
	char reason[32];
	char message[512];
};

struct file {
	char path[PATH_MAX];
	int fd;     /* -1 once closed */
	bool owned; /* taken over by a monitor: it closes it */
};

struct fx {
	char dir[64];
	struct file files[MAXFILES];
	size_t nfiles;
	dev_t dev; /* of the temporary directory: a fake dm device */
	struct dm_backend be;
	struct ev_rec ev[MAXEV]; /* the first MAXEV events */
	size_t nev, lost;
	unsigned errors;         /* "error" events, lost ones too */
	unsigned changed, keep_fd, drop_fd;   /* calls of the hooks */
	unsigned persist;
	unsigned long removes_at[MAXPERSIST]; /* FAKE_REMOVE calls then */
	unsigned long prints_at[MAXPERSIST];  /* FAKE_PRINT calls then */
	struct monitor_err err;
	char *snap; /* a @stats_list text to compare with, freed by teardown */
};

/* Large; one at a time. */
extern struct service svc;
extern struct ev_loop *loop;

/* cmocka's: the loop for a group of tests (signal watchers need the
 * default loop), and a fresh fake, directory and started service for each
 * test (*STATE is its struct fx). svc_setup's service has the hooks
 * event, changed, keep_fd and drop_fd; svc_setup_persist's has event,
 * changed and persist (a service with a persist hook waits for its owner
 * to save before some of its work). */
int svc_group_setup(void **state);
int svc_group_teardown(void **state);
int svc_setup(void **state);
int svc_setup_persist(void **state);
int svc_teardown(void **state);

/* A new file NAME of BYTES bytes in the test's directory, open O_RDONLY;
 * its device is the fake's dm device. Returns its index. */
int new_file(struct fx *f, const char *name, size_t bytes);
/* The file really grows (its size changes: fstat sees it). */
void grow_file(struct fx *f, int i, size_t bytes);
/* The file really shrinks to BYTES. */
void truncate_file(struct fx *f, int i, off_t bytes);

#define EXT(...) ((const struct extent[]){ __VA_ARGS__ })
#define NEXT(...) (sizeof(EXT(__VA_ARGS__)) / sizeof(struct extent))
#define set_extents(fd, ...) fake_set_extents((fd), EXT(__VA_ARGS__), \
					      NEXT(__VA_ARGS__))

#define E1 { 1000, 8 }
#define E2 { 2000, 8 }
#define E3 { 3000, 8 }
#define E4 { 4000, 8 }

/* Create (or, with GROUP_ID >= 0, Add, with the saved ledger L) file I's
 * monitor; must succeed with a new monitor (LINE: the caller's). */
struct monitor *svc_add(struct fx *f, int i, const char *alias,
			int64_t group_id, struct ledger *l, int line);
#define create_monitor(f, i, alias) \
	svc_add((f), (i), (alias), -1, NULL, __LINE__)
#define add_monitor(f, i, gid, l) \
	svc_add((f), (i), NULL, (int64_t)(gid), (l), __LINE__)

/* A device pass, as its timer runs it. */
void run_pass(struct device *d);
/* A pass in the next check interval (the check timer's), as run_pass at
 * once, with the turn of the rolling re-read that interval brings. */
void run_check(struct device *d);
/* A pass after the monitor's own changes, so that the next one sees the
 * list unchanged; then the fake's counters start again. */
void settle(struct monitor *m);
/* The file changed, as inotify would tell. */
void file_modified(struct monitor *m);

/* What fake_io's I/O adds up to, in ns (the fake's regions are not
 * precise: it counts ms, the parse gives ns): R reads of RSECT sectors
 * in RMS ms altogether, W writes likewise. */
#define NS 1000000ULL /* per ms */
struct io {
	uint64_t r, rsect, rms, w, wsect, wms;
};
struct io_counters io_counters_of(struct io e);

#define assert_region(...) assert_region_on(__VA_ARGS__)
#define assert_fake_has(dev, ...) assert_fake_ids_on(dev, __VA_ARGS__)
#define assert_fake_empty(dev) assert_fake_empty_on(dev)

#endif
