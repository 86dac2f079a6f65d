/* device.h: one device-mapper device under monitoring: its dm-stats
 * messages (the only ioctls we send), the shared region list, its timers. */
#ifndef DMF_DEVICE_H
#define DMF_DEVICE_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "auxdata.h"

struct monitor;

/* Dm ioctls sent since start, by kind (shown by Info). */
struct dm_counters {
	uint64_t stats_list, stats_create, stats_delete, stats_set_aux, info;
	uint64_t total;
};
extern struct dm_counters dm_counters;

struct device {
	dev_t dev;
	char name[128]; /* dm name */
	char devstr[24]; /* "MAJ:MIN" */
	struct aux_list list; /* regions as of the last @stats_list */
	bool list_valid;
	bool list_stale; /* another program changed regions: list before the
			  * next create (group.c predicts ids from the list) */
	char *list_text; /* that list's text, while LIST is unchanged by us */
	size_t list_text_len;
	size_t skipped_said; /* malformed rows last logged */
	uint64_t passes;
	ev_timer check; /* one @stats_list per interval for every monitor */
	ev_timer soon;  /* a pass requested by a file change */
	bool pass_pending;
	TAILQ_HEAD(, monitor) monitors;
	size_t nmonitors;
	LIST_ENTRY(device) entry;
};

/* Interval of the periodic check, seconds (set from --interval). */
extern double device_interval;
/* Delay between a file change and the pass that applies it, seconds. */
#define DEVICE_SETTLE 0.05

/* Whether FILE's device is a dm device we can use: fills NAME. Returns 0,
 * or -1 with a one-line reason in WHY. */
int device_identify(dev_t dev, char *name, size_t namelen, char *why,
		    size_t whylen);
/* The device for DEV, created (and its timer started) if new. NULL with
 * WHY set on failure. */
struct device *device_get(struct ev_loop *loop, dev_t dev, char *why,
			  size_t whylen);
/* Drop every device no monitor uses any more (from the loop, never from
 * inside a device's own pass). */
void device_reap(struct ev_loop *loop);
size_t device_count(void);
/* Run a pass (list + every monitor) after DEVICE_SETTLE. */
void device_schedule(struct ev_loop *loop, struct device *d);
/* A pass now: one @stats_list, then every monitor checked against it (if
 * the list is unchanged, only those with a file change or an error to
 * retry). In turn, a few files per pass are looked at (fstat) for changes
 * no event reports: each once in 10 passes, or in N/25 with N monitors. */
void device_pass(struct ev_loop *loop, struct device *d);
/* Stop every device's timers (shutdown). */
void device_stop_all(struct ev_loop *loop);

/* One @stats_list into D's list. Returns 0, 1 if the kernel's text is the
 * same as last time and the list was not changed since (nothing to do),
 * or -errno. */
int device_list(struct device *d);
/* D's list was changed here (a region created, deleted or re-tagged): the
 * next @stats_list is parsed again, whatever its text. */
void device_list_touched(struct device *d);

/* dm-stats messages. Each returns 0, or -errno. */
struct region_args {
	const char *program_id;
	const char *aux_data;
	bool precise;
	const char *histogram; /* "10,20,30" or NULL */
};
int device_create_region(struct device *d, uint64_t start, uint64_t len,
			 const struct region_args *a, uint64_t *id);
int device_delete_region(struct device *d, uint64_t id);
int device_set_aux(struct device *d, uint64_t id, const char *aux);

#endif
