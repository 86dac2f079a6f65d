/* service.c: the monitor service of one process: its monitors and devices,
 * loop, kernel backend, start/run/stop, and the hooks that tell its owner. */
#define _GNU_SOURCE
#include "service/service.h"
#include "log.h"
#include "service/monitor.h"
#include "service/recover.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Each monitor's file has its extents read again, for changes no event
 * reports (a defragmenter's ioctls, blocks allocated through mmap), once
 * every SWEEP_MIN_S seconds; with many files, less often, so that at most
 * SWEEP_RATE files are read a second, but at least every SWEEP_MAX_S. */
#define SWEEP_MIN_S 15.0
#define SWEEP_MAX_S 30.0
#define SWEEP_RATE 334.0

/* Turns of the rolling re-read (one per interval at most) between two
 * sweeps of one file of D. */
static uint64_t sweep_period(const struct device *d)
{
	double s = d->nmonitors / SWEEP_RATE;

	s = s < SWEEP_MIN_S ? SWEEP_MIN_S : s > SWEEP_MAX_S ? SWEEP_MAX_S : s;
	return (uint64_t)(s / d->set->interval) + 1;
}

/* Whether monitor ID's file is re-read by TURNS turns up to TURN, in
 * which each of PERIOD slots comes once (ID's slot: TURN + ID is a
 * multiple of PERIOD). */
static bool sweep_due(uint64_t id, uint64_t turn, uint64_t turns,
		      uint64_t period)
{
	uint64_t behind = (turn + id) % period; /* turns since ID's slot */

	return behind < turns;
}

/* A pass over D: one @stats_list, then every monitor checked against it
 * (if the list is unchanged, only those with a file change or an error to
 * retry). In turn, a few files per pass are looked at for changes no
 * event reports. Plans are made for every monitor first, then the counts
 * of the regions they drop saved once, then the plans applied.
 * monitor_sync_plan may end (and unlink) M, never another. */
static void pass_timed(void *arg, struct device *d);

/* D's marks swept (recover_pass); a monitor whose marks could not be
 * says so. */
static void sweep_marks(struct service *s, struct device *d)
{
	struct marks_swept sw = { 0 };

	recover_pass(s, d, &sw);
	for (size_t i = 0; i < sw.n; i++) {
		struct monitor *m = monitor_find_id(s, sw.v[i].owner);
		if (sw.v[i].failed && m && m->device == d)
			monitor_error(m, sw.v[i].why);
	}
	marks_swept_free(&sw);
}

/* D's list could not be read (-R): its monitors say so, and are checked
 * again at the next pass. */
static void list_failed(struct device *d, int r)
{
	struct monitor *m;
	char why[256];

	snprintf(why, sizeof(why), "cannot list regions of %s: %s (retried)",
		 d->name, strerror(-r));
	TAILQ_FOREACH(m, &d->monitors, dev_entry)
		monitor_error(m, why);
}

static void pass(void *arg, struct device *d)
{
	double t0 = ev_time();

	pass_timed(arg, d);
	d->last_pass_s = ev_time() - t0;
}

static void pass_timed(void *arg, struct device *d)
{
	struct service *s = arg;
	struct monitor *m, *next;
	bool carried = false;
	size_t planned = 0;
	uint64_t period, turns;
	int r;

	device_pass_started(d);
	if ((r = regions_refresh(&d->rs)) < 0) {
		bool gone = r == -ENXIO || r == -ENODEV;
		log_warnx("device %s (%s): @stats_list failed: %s", d->name,
			  d->devstr, strerror(-r));
		if (!gone) {
			list_failed(d, r);
			return;
		}
		for (m = TAILQ_FIRST(&d->monitors); m; m = next) {
			next = TAILQ_NEXT(m, dev_entry);
			monitor_end(m, "device-gone", "device %s removed",
				    d->name);
		}
		return;
	}
	d->passes++;
	s->passes++;
	s->full_checks += r == 0;
	sweep_marks(s, d); /* marks whose new ids are saved */
	/* a second pass in an interval (a file change's) re-reads none: the
	 * re-read's rate stays what SWEEP_RATE says, however often files
	 * change */
	turns = device_sweep_turns(d);
	period = sweep_period(d);
	for (m = TAILQ_FIRST(&d->monitors); m; m = next) {
		next = TAILQ_NEXT(m, dev_entry);
		/* changed with no event? (only a change costs a sync) */
		if (sweep_due(m->id, d->sweeps, turns, period))
			(void)monitor_sweep(m);
		if (r == 1 && !m->dirty && !m->last_error)
			continue;
		planned += monitor_sync_plan(m, &carried);
	}
	if (!planned)
		return;
	/* the counts carried are saved once for the pass, before any of the
	 * regions they came from goes */
	if (carried && s->hooks.persist && s->hooks.persist(s->hooks.arg) < 0)
		log_warnx("device %s (%s): the counts carried could not be "
			  "saved before their regions go", d->name, d->devstr);
	for (m = TAILQ_FIRST(&d->monitors); m; m = next) {
		next = TAILQ_NEXT(m, dev_entry);
		monitor_sync_apply(m);
	}
	sweep_marks(s, d); /* with no state to save, the marks go at once */
}

/* An inotify event for monitor OWNER; a directory's is about one entry,
 * which matters only if it is the monitored name. */
static void file_event(void *arg, void *owner, bool dir,
		       const struct inotify_event *ev)
{
	struct monitor *m = owner;

	(void)arg;
	if (m->state == MS_ENDED) /* ended by an earlier use of this event */
		return;
	if (!dir)
		monitor_file_event(m, ev->mask);
	else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
		monitor_dir_event(m, ev->mask);
	else if (ev->len && !strcmp(ev->name, m->base))
		monitor_dir_event(m, ev->mask);
}

/* Events were lost: every monitor reads its file again. */
static void overflow(void *arg)
{
	struct service *s = arg;
	struct monitor *m, *next;

	for (m = TAILQ_FIRST(&s->monitors); m; m = next) {
		next = TAILQ_NEXT(m, entry);
		monitor_file_event(m, IN_MODIFY);
	}
}

/* The mount table changed: a monitor whose mount left it ends and lets go
 * of its file (a lazy unmount leaves no other trace). */
static void mounts_changed(void *arg, const int *ids, size_t n)
{
	struct service *s = arg;
	struct monitor *m, *next;

	for (m = TAILQ_FIRST(&s->monitors); m; m = next) {
		next = TAILQ_NEXT(m, entry);
		if (m->mnt_id >= 0 && !mounts_listed(ids, n, m->mnt_id))
			monitor_end(m, "unmounted",
				    "the filesystem of %s was unmounted",
				    m->path);
	}
}

/* After each loop turn: free what ended. */
static void monitors_reap_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct service *s = (struct service *)((char *)w -
					       offsetof(struct service, reaper));
	(void)revents;
	monitor_reap(s);
	devices_reap(&s->devices, false);
	if (s->stop_when_empty && s->nmonitors == 0)
		ev_break(loop, EVBREAK_ALL);
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: %s", w->signum, "stopping");
	ev_break(loop, EVBREAK_ALL);
}

void service_init(struct service *s, struct ev_loop *loop,
		  const struct dm_backend *be, double interval)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->be = *be;
	s->next_id = 1;
	memset(s->instance, '0', MARK_INSTANCE_LEN); /* the owner sets it */
	s->inotify.fd = -1;
	s->mounts.fd = -1;
	TAILQ_INIT(&s->monitors);
	TAILQ_INIT(&s->dead);
	devices_init(&s->devices, loop, &s->be, &s->counters, interval, pass,
		     s);
	ev_check_init(&s->reaper, monitors_reap_cb);
	ev_signal_init(&s->sigterm, stop_cb, SIGTERM);
	ev_signal_init(&s->sigint, stop_cb, SIGINT);
}

int service_start(struct service *s, char *why, size_t whylen)
{
	int r;

	if ((r = inotify_set_start(&s->inotify, s->loop, file_event, overflow,
				   s)) < 0) {
		inotify_set_strerror(r, why, whylen);
		return r;
	}
	if ((r = mounts_start(&s->mounts, s->loop, mounts_changed, s)) < 0) {
		snprintf(why, whylen, "cannot watch the mount table: %s",
			 strerror(-r));
		inotify_set_stop(&s->inotify, s->loop);
		return r;
	}
	ev_check_start(s->loop, &s->reaper);
	ev_signal_start(s->loop, &s->sigterm);
	ev_signal_start(s->loop, &s->sigint);
	return 0;
}

void service_run(struct service *s)
{
	ev_run(s->loop, 0);
}

void service_stop(struct service *s, const char *message)
{
	struct monitor *m;

	while ((m = TAILQ_FIRST(&s->monitors)))
		monitor_end(m, "shutdown", "%s", message);
	monitor_reap(s);
	devices_stop(&s->devices);
	devices_reap(&s->devices, true);
	inotify_set_stop(&s->inotify, s->loop);
	mounts_stop(&s->mounts, s->loop);
	unmonitored_free(&s->unmonitored);
	ev_check_stop(s->loop, &s->reaper);
	ev_signal_stop(s->loop, &s->sigterm);
	ev_signal_stop(s->loop, &s->sigint);
}

void service_ids_above(struct service *s, uint64_t floor)
{
	if (s->next_id <= floor)
		s->next_id = floor + 1;
}
