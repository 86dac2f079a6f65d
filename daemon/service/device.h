/* device.h: the devices under monitoring: each one's region list, its
 * monitors, and the timers that schedule its passes (run by a hook). */
#ifndef DMF_DEVICE_H
#define DMF_DEVICE_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "core/backend.h"
#include "core/regions.h"

struct monitor;
struct devices;

struct device {
	dev_t devno;
	char name[128];  /* dm name */
	char devstr[24]; /* "MAJ:MIN" */
	struct regions rs; /* the kernel's region list, as we know it */
	uint64_t passes;
	double last_pass_s; /* how long the last pass took */
	double last_pass_at; /* when it started (ev_now) */
	uint64_t sweep_turn; /* the clock's interval of the last turn of the
			      * rolling re-read taken */
	uint64_t sweeps;     /* turns taken */
	bool swept;          /* one was */
	ev_timer check; /* one @stats_list per interval for every monitor */
	ev_timer soon;  /* a pass requested by a file change */
	bool pass_pending;
	uint64_t saved_gen; /* rs.marks_gen when the owner last saved */
	TAILQ_HEAD(, monitor) monitors;
	size_t nmonitors;
	struct devices *set;
	LIST_ENTRY(device) entry;
};

/* A pass over D: list its regions, check its monitors. */
typedef void (*device_pass_fn)(void *arg, struct device *d);

struct devices {
	struct ev_loop *loop;
	const struct dm_backend *be;
	struct ioctl_counts *count;
	double interval; /* of the periodic check, seconds */
	device_pass_fn pass;
	void *arg;
	LIST_HEAD(, device) list;
	size_t n;
};

/* Delay between a file change and the pass that applies it, seconds: for
 * the first change after a quiet while (DEVICE_SETTLE or more since the
 * last pass), DEVICE_SETTLE_FIRST; for changes that follow one another,
 * DEVICE_SETTLE_COST times what the last pass cost, within FIRST and
 * SETTLE (passes take at most about a quarter of the loop's time). */
#define DEVICE_SETTLE_FIRST 0.002
#define DEVICE_SETTLE 0.05
#define DEVICE_SETTLE_COST 3.0

void devices_init(struct devices *set, struct ev_loop *loop,
		  const struct dm_backend *be, struct ioctl_counts *count,
		  double interval, device_pass_fn pass, void *arg);
/* The device for DEVNO, made (and its check timer started) if new: NULL
 * with WHY set on failure (not a dm device, gone, out of memory). */
struct device *device_get(struct devices *set, dev_t devno, char *why,
			  size_t whylen);
/* Free every device no monitor uses any more (from the loop, never from
 * inside a device's own pass), but one with marks of ours still to sweep
 * (core/marks.h), unless ALL (shutdown). */
void devices_reap(struct devices *set, bool all);
/* Stop every device's timers (shutdown). */
void devices_stop(struct devices *set);
/* The delay before a pass asked for SINCE_LAST s after the last one
 * started, which took LAST_COST s (see DEVICE_SETTLE above). */
double device_settle_delay(double since_last, double last_cost);
/* Run a pass soon, after device_settle_delay (once, however often
 * asked). */
void device_schedule(struct device *d);
/* The turns of the rolling re-read (the owner's) that the pass now
 * running takes: one for each check interval begun since the last turn
 * (the clock's, ev_now / interval), so none for a second pass in one
 * interval, however many passes file changes bring, and two after a gap;
 * the first pass takes one, and so does the first after the clock steps
 * back. D->sweeps counts the turns, D->sweep_turn is the last one's. */
uint64_t device_sweep_turns(struct device *d);
/* D's pass is running now: the periodic check starts again from here, so
 * that it still lists once per interval. */
void device_pass_started(struct device *d);

#endif
