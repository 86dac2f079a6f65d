/* solo.c: the shim's fallback when no supervisor can be reached or started:
 * one file's monitor in this process, with its own loop, as LVM2's did. */
#define _GNU_SOURCE
#include "solo.h"
#include "detach.h"
#include "device.h"
#include "dmfilemap.h"
#include "log.h"
#include "monitor.h"
#include "mounts.h"
#include "notify.h"

#include <inttypes.h>
#include <libdevmapper.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

/* After each loop turn: free what ended; stop once our monitor has. */
static void reap_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	(void)w;
	(void)revents;
	monitor_reap();
	device_reap(loop);
	if (nmonitors == 0)
		ev_break(loop, EVBREAK_ALL);
}

/* The monitor, or NULL with the reason logged. */
static struct monitor *start(struct ev_loop *loop, const struct solo_args *a)
{
	struct monitor_req req = { .fd = a->fd, .path = a->path,
				   .mode = a->mode, .group_id = a->group_id };
	struct monitor_err err;
	struct monitor *m;
	char why[200];
	bool existing;
	int r;

	if ((r = notify_init(loop)) < 0) {
		log_warnx("cannot monitor %s: %s", a->path,
			  notify_strerror(r, why, sizeof(why)));
		return NULL;
	}
	if ((r = mounts_init(loop)) < 0) {
		log_warnx("cannot monitor %s: cannot watch the mount table",
			  a->path);
		return NULL;
	}
	if (!(m = monitor_add(loop, &req, &existing, &err)))
		log_warnx("%s", err.message);
	return m;
}

int solo_run(const struct solo_args *a)
{
	struct ev_loop *loop;
	ev_signal sigterm, sigint;
	ev_check reaper;
	double t0 = now();
	int ready_fd = -1, status = DMF_EXIT_FAIL;

	log_init(a->prog, true, a->verbose);
	signal(SIGPIPE, SIG_IGN);
	if (!a->foreground)
		ready_fd = detach(); /* errors still reach stderr until ready */
	if (!(loop = ev_default_loop(EVFLAG_AUTO)))
		fatalx("cannot create the event loop");
	log_route_libdm();
	ev_signal_init(&sigterm, stop_cb, SIGTERM);
	ev_signal_init(&sigint, stop_cb, SIGINT);
	ev_check_init(&reaper, reap_cb);
	if (start(loop, a)) {
		ev_signal_start(loop, &sigterm);
		ev_signal_start(loop, &sigint);
		ev_check_start(loop, &reaper);
		detach_ready(ready_fd, a->foreground);
		if (!a->foreground)
			log_init(a->prog, false, a->verbose);
		ev_run(loop, 0);
		status = DMF_EXIT_OK;
		ev_signal_stop(loop, &sigterm);
		ev_signal_stop(loop, &sigint);
		ev_check_stop(loop, &reaper);
		log_info("stopped after %.1f s: %" PRIu64 " @stats_list, %"
			 PRIu64 " other dm ioctls", now() - t0,
			 dm_counters.stats_list,
			 dm_counters.total - dm_counters.stats_list);
	}
	while (TAILQ_FIRST(&monitors))
		monitor_end(loop, TAILQ_FIRST(&monitors), "shutdown",
			    "stopping");
	monitor_reap();
	device_stop_all(loop);
	device_reap(loop);
	notify_shutdown(loop);
	mounts_shutdown(loop);
	ev_loop_destroy(loop);
	dm_lib_release();
	return status;
}
