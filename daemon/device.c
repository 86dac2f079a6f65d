/* device.c: one device-mapper device under monitoring: its dm-stats
 * messages (the only ioctls we send), the shared region list, its timers. */
#define _GNU_SOURCE
#include "device.h"
#include "log.h"
#include "monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

/* Each monitor's file is looked at (one fstat) once in this many passes,
 * for changes no event reports, e.g. blocks allocated through mmap; with
 * many monitors, less often: about SWEEP_PER_PASS files per pass. */
#define SWEEP_PASSES 10
#define SWEEP_PER_PASS 25

struct dm_counters dm_counters;
double device_interval = 1.0;

static LIST_HEAD(, device) devices = LIST_HEAD_INITIALIZER(devices);
static size_t ndevices;

/* Send one target message to D; returns the task (caller destroys). */
static struct dm_task *dm_message(const struct device *d, const char *msg,
				  uint64_t *counter, int *err)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_TARGET_MSG);

	*err = -ENOMEM;
	if (!dmt)
		return NULL;
	if (!dm_task_set_major(dmt, (int)major(d->dev)) ||
	    !dm_task_set_minor(dmt, (int)minor(d->dev)) ||
	    !dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg) ||
	    !dm_task_no_open_count(dmt))
		goto bad;
	(*counter)++;
	dm_counters.total++;
	if (!dm_task_run(dmt)) {
		int e = dm_task_get_errno(dmt);
		*err = e ? -e : -EIO;
		goto bad;
	}
	*err = 0;
	return dmt;
bad:
	dm_task_destroy(dmt);
	return NULL;
}

int device_identify(dev_t dev, char *name, size_t namelen, char *why,
		    size_t whylen)
{
	struct dm_task *dmt;
	struct dm_info info;
	int r = -1;

	if (!dm_is_dm_major(major(dev))) {
		snprintf(why, whylen, "not on a device-mapper device");
		return -1;
	}
	if (!(dmt = dm_task_create(DM_DEVICE_INFO))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	dm_counters.info++;
	dm_counters.total++;
	if (!dm_task_set_major(dmt, (int)major(dev)) ||
	    !dm_task_set_minor(dmt, (int)minor(dev)) ||
	    !dm_task_no_open_count(dmt) || !dm_task_run(dmt) ||
	    !dm_task_get_info(dmt, &info)) {
		snprintf(why, whylen, "device %u:%u: device-mapper info failed",
			 major(dev), minor(dev));
		goto out;
	}
	if (!info.exists) {
		snprintf(why, whylen, "device %u:%u no longer exists",
			 major(dev), minor(dev));
		goto out;
	}
	snprintf(name, namelen, "%s", dm_task_get_name(dmt));
	r = 0;
out:
	dm_task_destroy(dmt);
	return r;
}

static void check_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct device *d = (struct device *)((char *)w -
					     offsetof(struct device, check));
	(void)revents;
	device_pass(loop, d);
}

static void soon_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct device *d = (struct device *)((char *)w -
					     offsetof(struct device, soon));
	(void)revents;
	d->pass_pending = false;
	device_pass(loop, d);
}

struct device *device_get(struct ev_loop *loop, dev_t dev, char *why,
			  size_t whylen)
{
	struct device *d;

	LIST_FOREACH(d, &devices, entry)
		if (d->dev == dev)
			return d;
	if (!(d = calloc(1, sizeof(*d)))) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (device_identify(dev, d->name, sizeof(d->name), why, whylen)) {
		free(d);
		return NULL;
	}
	d->dev = dev;
	snprintf(d->devstr, sizeof(d->devstr), "%u:%u", major(dev), minor(dev));
	TAILQ_INIT(&d->monitors);
	ev_timer_init(&d->check, check_cb, device_interval, device_interval);
	ev_timer_init(&d->soon, soon_cb, DEVICE_SETTLE, 0.);
	ev_timer_start(loop, &d->check);
	LIST_INSERT_HEAD(&devices, d, entry);
	ndevices++;
	log_info("device %s (%s): monitoring", d->name, d->devstr);
	return d;
}

static void device_free(struct ev_loop *loop, struct device *d)
{
	ev_timer_stop(loop, &d->check);
	ev_timer_stop(loop, &d->soon);
	LIST_REMOVE(d, entry);
	ndevices--;
	log_info("device %s (%s): no monitors left", d->name, d->devstr);
	aux_list_free(&d->list);
	free(d->list_text);
	free(d);
}

void device_reap(struct ev_loop *loop)
{
	struct device *d, *next;

	for (d = LIST_FIRST(&devices); d; d = next) {
		next = LIST_NEXT(d, entry);
		if (d->nmonitors == 0)
			device_free(loop, d);
	}
}

size_t device_count(void)
{
	return ndevices;
}

void device_schedule(struct ev_loop *loop, struct device *d)
{
	if (d->pass_pending)
		return;
	d->pass_pending = true;
	ev_timer_set(&d->soon, DEVICE_SETTLE, 0.);
	ev_timer_start(loop, &d->soon);
}

void device_pass(struct ev_loop *loop, struct device *d)
{
	struct monitor *m, *next;
	uint64_t period;
	int r;

	/* a pass resets the periodic check: still one list per interval */
	ev_timer_again(loop, &d->check);
	if ((r = device_list(d)) < 0) {
		bool gone = r == -ENXIO || r == -ENODEV;
		log_warnx("device %s (%s): @stats_list failed: %s", d->name,
			  d->devstr, strerror(-r));
		if (!gone)
			return;
		for (m = TAILQ_FIRST(&d->monitors); m; m = next) {
			next = TAILQ_NEXT(m, dev_entry);
			monitor_end(loop, m, "device-gone",
				    "device %s removed", d->name);
		}
		return;
	}
	/* monitor_sync may end (and unlink) M, never another monitor */
	d->passes++;
	period = d->nmonitors / SWEEP_PER_PASS + 1;
	if (period < SWEEP_PASSES)
		period = SWEEP_PASSES;
	for (m = TAILQ_FIRST(&d->monitors); m; m = next) {
		next = TAILQ_NEXT(m, dev_entry);
		if (!m->dirty && (d->passes + m->id) % period == 0 &&
		    monitor_stale(m))
			m->dirty = true; /* changed with no event (mmap) */
		if (r == 1 && !m->dirty && !m->last_error)
			continue;
		monitor_sync(loop, m);
	}
}

void device_stop_all(struct ev_loop *loop)
{
	struct device *d;

	LIST_FOREACH(d, &devices, entry) {
		ev_timer_stop(loop, &d->check);
		ev_timer_stop(loop, &d->soon);
	}
}

void device_list_touched(struct device *d)
{
	free(d->list_text);
	d->list_text = NULL;
	d->list_text_len = 0;
}

int device_list(struct device *d)
{
	struct dm_task *dmt;
	struct aux_list l;
	const char *resp;
	size_t len;
	int err;

	if (!(dmt = dm_message(d, "@stats_list", &dm_counters.stats_list,
			       &err))) {
		d->list_valid = false;
		return err;
	}
	if (!(resp = dm_task_get_message_response(dmt)))
		resp = "";
	len = strlen(resp);
	if (d->list_valid && d->list_text && d->list_text_len == len &&
	    !memcmp(d->list_text, resp, len)) {
		dm_task_destroy(dmt);
		d->list_stale = false;
		return 1;
	}
	device_list_touched(d);
	if (aux_list_parse(resp, &l)) {
		dm_task_destroy(dmt);
		d->list_valid = false;
		return -ENOMEM;
	}
	if ((d->list_text = malloc(len + 1))) { /* else: always parsed */
		memcpy(d->list_text, resp, len + 1);
		d->list_text_len = len;
	}
	dm_task_destroy(dmt);
	if (l.skipped && l.skipped != d->skipped_said)
		log_warnx("device %s: ignored %zu malformed @stats_list rows",
			  d->name, l.skipped);
	d->skipped_said = l.skipped;
	aux_list_count_claims(&l);
	aux_list_free(&d->list);
	d->list = l;
	d->list_valid = true;
	d->list_stale = false;
	return 0;
}

int device_create_region(struct device *d, uint64_t start, uint64_t len,
			 const struct region_args *a, uint64_t *id)
{
	char *prog = aux_escape_arg(a->program_id ? a->program_id : "");
	char *aux = aux_escape_arg(a->aux_data ? a->aux_data : "");
	char *msg = NULL, opts[AUX_TEXT_MAX + 64] = "";
	struct dm_task *dmt = NULL;
	const char *resp;
	int nopt = (a->precise ? 1 : 0) + (a->histogram ? 1 : 0), err;

	if (!prog || !aux)
		goto nomem;
	if (nopt)
		snprintf(opts, sizeof(opts), " %d%s%s%s", nopt,
			 a->precise ? " precise_timestamps" : "",
			 a->histogram ? " histogram:" : "",
			 a->histogram ? a->histogram : "");
	if (asprintf(&msg, "@stats_create %" PRIu64 "+%" PRIu64 " /1%s %s %s",
		     start, len, opts, prog, aux) < 0) {
		msg = NULL;
		goto nomem;
	}
	dmt = dm_message(d, msg, &dm_counters.stats_create, &err);
	if (!dmt)
		goto out;
	resp = dm_task_get_message_response(dmt);
	char *end;
	errno = 0;
	*id = resp ? strtoull(resp, &end, 10) : 0;
	if (!resp || errno || end == resp || *id > AUX_ID_MAX)
		err = -EPROTO;
	goto out;
nomem:
	err = -ENOMEM;
out:
	if (dmt)
		dm_task_destroy(dmt);
	free(prog);
	free(aux);
	free(msg);
	return err;
}

int device_delete_region(struct device *d, uint64_t id)
{
	char msg[64];
	struct dm_task *dmt;
	int err;

	snprintf(msg, sizeof(msg), "@stats_delete %" PRIu64, id);
	if ((dmt = dm_message(d, msg, &dm_counters.stats_delete, &err)))
		dm_task_destroy(dmt);
	return err;
}

int device_set_aux(struct device *d, uint64_t id, const char *aux)
{
	char *esc = aux_escape_arg(aux), *msg = NULL;
	struct dm_task *dmt;
	int err;

	if (!esc || asprintf(&msg, "@stats_set_aux %" PRIu64 " %s", id, esc) < 0) {
		free(esc);
		return -ENOMEM;
	}
	if ((dmt = dm_message(d, msg, &dm_counters.stats_set_aux, &err)))
		dm_task_destroy(dmt);
	free(esc);
	free(msg);
	return err;
}
