/* device.c: the devices under monitoring: each one's region list, its
 * monitors, and the timers that schedule its passes (run by a hook). */
#define _GNU_SOURCE
#include "service/device.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

void devices_init(struct devices *set, struct ev_loop *loop,
		  const struct dm_backend *be, struct ioctl_counts *count,
		  double interval, device_pass_fn pass, void *arg)
{
	memset(set, 0, sizeof(*set));
	set->loop = loop;
	set->be = be;
	set->count = count;
	set->interval = interval;
	set->pass = pass;
	set->arg = arg;
	LIST_INIT(&set->list);
}

static void check_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct device *d = (struct device *)((char *)w -
					     offsetof(struct device, check));
	(void)loop;
	(void)revents;
	d->set->pass(d->set->arg, d);
}

static void soon_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct device *d = (struct device *)((char *)w -
					     offsetof(struct device, soon));
	(void)loop;
	(void)revents;
	d->pass_pending = false;
	d->set->pass(d->set->arg, d);
}

struct device *device_get(struct devices *set, dev_t devno, char *why,
			  size_t whylen)
{
	struct device *d;

	LIST_FOREACH(d, &set->list, entry)
		if (d->devno == devno)
			return d;
	if (!(d = calloc(1, sizeof(*d)))) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	int r = set->be->identify(set->be->ctx, devno, d->name,
				  sizeof(d->name), why, whylen);
	if (r != -ENODEV) { /* that one is told by the major number alone */
		set->count->info++;
		set->count->total++;
	}
	if (r < 0) {
		free(d);
		return NULL;
	}
	d->devno = devno;
	d->set = set;
	snprintf(d->devstr, sizeof(d->devstr), "%u:%u", major(devno),
		 minor(devno));
	regions_init(&d->rs, set->be, set->count, devno, d->name);
	TAILQ_INIT(&d->monitors);
	ev_timer_init(&d->check, check_cb, set->interval, set->interval);
	ev_timer_init(&d->soon, soon_cb, DEVICE_SETTLE, 0.);
	ev_timer_start(set->loop, &d->check);
	LIST_INSERT_HEAD(&set->list, d, entry);
	set->n++;
	log_info("device %s (%s): monitoring", d->name, d->devstr);
	return d;
}

static void device_free(struct devices *set, struct device *d)
{
	ev_timer_stop(set->loop, &d->check);
	ev_timer_stop(set->loop, &d->soon);
	LIST_REMOVE(d, entry);
	set->n--;
	log_info("device %s (%s): no monitors left", d->name, d->devstr);
	regions_free(&d->rs);
	free(d);
}

void devices_reap(struct devices *set, bool all)
{
	struct device *d, *next;

	for (d = LIST_FIRST(&set->list); d; d = next) {
		next = LIST_NEXT(d, entry);
		/* marks of ours left on it: kept (and checked) until swept */
		if (d->nmonitors == 0 && (all || !d->rs.marked))
			device_free(set, d);
	}
}

void devices_stop(struct devices *set)
{
	struct device *d;

	LIST_FOREACH(d, &set->list, entry) {
		ev_timer_stop(set->loop, &d->check);
		ev_timer_stop(set->loop, &d->soon);
	}
}

double device_settle_delay(double since_last, double last_cost)
{
	double t = DEVICE_SETTLE_COST * last_cost;

	if (since_last >= DEVICE_SETTLE)
		return DEVICE_SETTLE_FIRST;
	return t < DEVICE_SETTLE_FIRST ? DEVICE_SETTLE_FIRST
	       : t > DEVICE_SETTLE     ? DEVICE_SETTLE
				       : t;
}

void device_schedule(struct device *d)
{
	if (d->pass_pending)
		return;
	d->pass_pending = true;
	ev_timer_set(&d->soon,
		     device_settle_delay(ev_now(d->set->loop) - d->last_pass_at,
					 d->last_pass_s),
		     0.);
	ev_timer_start(d->set->loop, &d->soon);
}

uint64_t device_sweep_turns(struct device *d)
{
	double t = ev_now(d->set->loop) / d->set->interval;
	uint64_t turn = t > 0 ? (uint64_t)t : 0, k;

	if (d->swept && turn == d->sweep_turn)
		return 0; /* this interval's turn is taken */
	/* one per interval begun since; one if the clock stepped back */
	k = d->swept && turn > d->sweep_turn ? turn - d->sweep_turn : 1;
	d->swept = true;
	d->sweep_turn = turn;
	d->sweeps += k;
	return k;
}

void device_pass_started(struct device *d)
{
	d->last_pass_at = ev_now(d->set->loop);
	ev_timer_again(d->set->loop, &d->check);
}
