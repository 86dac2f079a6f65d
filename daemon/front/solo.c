/* solo.c: the shim's fallback when no supervisor can be reached or started:
 * one file's monitor in this process, with its own loop, as LVM2's did. */
#define _GNU_SOURCE
#include "front/solo.h"
#include "dmfilemap.h"
#include "front/detach.h"
#include "kernel/dmstats.h"
#include "log.h"
#include "service/monitor.h"
#include "service/service.h"

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

/* The monitor, or NULL with the reason logged. */
static struct monitor *solo_start(struct service *svc, const struct solo_args *a)
{
	struct monitor_req req = { .fd = a->fd, .path = a->path,
				   .mode = a->mode, .group_id = a->group_id };
	struct monitor_err err;
	struct monitor *m;
	enum monitor_added added;
	char why[256];

	if (service_start(svc, why, sizeof(why)) < 0) {
		log_warnx("cannot monitor %s: %s", a->path, why);
		return NULL;
	}
	if (!(m = monitor_add(svc, &req, &added, &err)))
		log_warnx("%s", err.message);
	return m;
}

int solo_run(const struct solo_args *a)
{
	static struct service svc; /* large: the inotify table */
	struct ev_loop *loop;
	struct dmstats dm;
	struct dm_backend be;
	double t0 = now();
	int ready_fd = -1, status = DMF_EXIT_FAIL;

	log_init(a->prog, true, a->verbose);
	signal(SIGPIPE, SIG_IGN);
	if (!a->foreground)
		ready_fd = detach(); /* errors still reach stderr until ready */
	if (!(loop = ev_default_loop(EVFLAG_AUTO)))
		fatalx("cannot create the event loop");
	log_route_libdm();
	dmstats_backend(&dm, &be);
	service_init(&svc, loop, &be, DMF_INTERVAL_DEFAULT / 1000.0);
	svc.stop_when_empty = true; /* no hooks: nobody to tell */
	if (solo_start(&svc, a)) {
		detach_ready(ready_fd, a->foreground);
		if (!a->foreground)
			log_init(a->prog, false, a->verbose);
		service_run(&svc);
		status = DMF_EXIT_OK;
		log_info("stopped after %.1f s: %" PRIu64 " @stats_list, %"
			 PRIu64 " other dm ioctls", now() - t0,
			 svc.counters.stats_list,
			 svc.counters.total - svc.counters.stats_list);
	}
	service_stop(&svc, "stopping");
	dmstats_release(&dm);
	ev_loop_destroy(loop);
	dm_lib_release();
	return status;
}
