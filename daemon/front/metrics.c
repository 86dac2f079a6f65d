/* metrics.c: the metrics file for node_exporter's textfile collector: every
 * monitored file's never-lost totals (read a few files at a time over each
 * interval) and the supervisor's own, written atomically every interval. */
#define _GNU_SOURCE
#include "front/metrics.h"
#include "front/atomicfile.h"
#include "core/counters.h"
#include "dmfilemap.h"
#include "log.h"
#include "service/device.h"
#include "service/monitor.h"
#include "service/service.h"
#include "service/tally.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BOUNDS_MAX 1024
#define NS 1e9

/* One file's figures, read once per write. */
struct file_figures {
	struct monitor *m;
	struct io_counters c;
	uint64_t *bounds; /* ns */
	size_t nbounds;
};

static const struct {
	const char *name, *type, *help;
	int field;     /* IO_* */
	uint64_t mul;  /* counter to the metric's unit: times this, */
	double scale;  /* or (a time) times this */
} per_file[] = {
	{ "dmfilemap_file_reads_completed_total", "counter",
	  "Reads completed on the file's dm-stats regions (never reset by "
	  "region changes).", IO_READS, 1, 0 },
	{ "dmfilemap_file_reads_merged_total", "counter",
	  "Reads merged.", IO_READS_MERGED, 1, 0 },
	{ "dmfilemap_file_read_bytes_total", "counter",
	  "Bytes read.", IO_READ_SECTORS, 512, 0 },
	{ "dmfilemap_file_read_time_seconds_total", "counter",
	  "Time spent by reads (their durations summed).", IO_READ_TIME, 0,
	  1 / NS },
	{ "dmfilemap_file_writes_completed_total", "counter",
	  "Writes completed.", IO_WRITES, 1, 0 },
	{ "dmfilemap_file_writes_merged_total", "counter",
	  "Writes merged.", IO_WRITES_MERGED, 1, 0 },
	{ "dmfilemap_file_written_bytes_total", "counter",
	  "Bytes written.", IO_WRITE_SECTORS, 512, 0 },
	{ "dmfilemap_file_write_time_seconds_total", "counter",
	  "Time spent by writes (their durations summed).", IO_WRITE_TIME, 0,
	  1 / NS },
	{ "dmfilemap_file_io_now", "gauge",
	  "I/Os in progress.", IO_IN_FLIGHT, 1, 0 },
	{ "dmfilemap_file_io_time_seconds_total", "counter",
	  "Time with I/O in progress.", IO_TIME, 0, 1 / NS },
	{ "dmfilemap_file_io_time_weighted_seconds_total", "counter",
	  "Time with I/O in progress, weighted by the I/Os in progress.",
	  IO_TIME_WEIGHTED, 0, 1 / NS },
};
#define NPER_FILE (sizeof(per_file) / sizeof(per_file[0]))

static bool excluded(const struct metrics *mt, const struct monitor *m)
{
	for (size_t i = 0; i < mt->nexclude_path; i++)
		if (fnmatch(mt->exclude_path[i], m->path, 0) == 0)
			return true;
	for (size_t i = 0; i < mt->nexclude_alias; i++)
		if (fnmatch(mt->exclude_alias[i], m->alias ? m->alias : "", 0) ==
		    0)
			return true;
	return false;
}

/* Every included file's totals as last read (no ioctl). Returns how many
 * (in *OUT). */
static size_t collect(struct metrics *mt, struct file_figures **out)
{
	struct file_figures *v = calloc(mt->svc->nmonitors + 1, sizeof(*v));
	uint64_t bounds[BOUNDS_MAX];
	struct monitor *m;
	size_t n = 0;

	*out = v;
	if (!v)
		return 0;
	TAILQ_FOREACH(m, &mt->svc->monitors, entry) {
		struct file_figures *f = &v[n];
		if (excluded(mt, m) ||
		    tally_totals(m, &f->c, bounds, BOUNDS_MAX, &f->nbounds) < 0)
			continue;
		if (f->nbounds &&
		    !(f->bounds = malloc(f->nbounds * sizeof(*f->bounds))))
			f->nbounds = 0;
		if (f->nbounds)
			memcpy(f->bounds, bounds, f->nbounds * sizeof(*bounds));
		f->m = m;
		n++;
	}
	return n;
}

/* Read the counters of the next files (one @stats_print a region), so
 * that every file is read once an interval, a few at a time: a write
 * never stalls the monitoring for long. */
static void read_some(struct metrics *mt)
{
	size_t n = mt->svc->nmonitors, per_tick, i = 0, regions = 0;
	uint64_t bounds[BOUNDS_MAX];
	struct io_counters c;
	struct monitor *m;
	char why[512];
	size_t nb;
	int r;

	if (!n)
		return;
	per_tick = (size_t)(n * METRICS_READ_TICK / mt->interval) + 1;
	if (mt->cursor >= n)
		mt->cursor = 0;
	TAILQ_FOREACH(m, &mt->svc->monitors, entry) {
		if (i < mt->cursor) {
			i++;
			continue;
		}
		/* the interval's share of the files, but no more regions
		 * than the budget (a file a tick at least) */
		if (!per_tick || regions >= METRICS_REGIONS_PER_TICK)
			break;
		i++; /* the next batch starts after this one */
		if (excluded(mt, m))
			continue;
		per_tick--;
		regions += m->regions;
		r = tally_read(m, &c, bounds, BOUNDS_MAX, &nb, why, sizeof(why));
		counters_free(&c);
		if (r < 0) {
			mt->read_errors++;
			log_debug("metrics: %s", why);
		} else if (r == 1) { /* a reset moved counts into the ledger */
			monitor_registration_changed(m);
		}
	}
	mt->cursor = i;
}

static void labels_of(const struct monitor *m, struct prom_label *l)
{
	l[0] = (struct prom_label){ "path", m->path };
	l[1] = (struct prom_label){ "alias", m->alias ? m->alias : "" };
	l[2] = (struct prom_label){ "device", m->device->name };
	l[3] = (struct prom_label){ "mode", monitor_mode_name(m->mode) };
}

/* A group's histogram: dm-stats counts the I/Os between its bounds (set
 * when the group is made); _sum is the reads' and writes' time. */
static void histograms(struct promtext *t, const struct file_figures *v,
		       size_t n)
{
	const char *name = "dmfilemap_file_io_latency_seconds";
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		const struct file_figures *f = &v[i];
		struct prom_label l[4];
		uint64_t cum = 0;
		char le[64];
		if (!f->nbounds || f->c.nbuckets != f->nbounds + 1)
			continue;
		if (!any)
			promtext_family(t, name, "histogram",
					"Latency of the file's I/Os, in the "
					"group's histogram bounds.");
		any = true;
		labels_of(f->m, l);
		for (size_t b = 0; b <= f->nbounds; b++) {
			cum += f->c.bucket[b];
			if (b < f->nbounds)
				snprintf(le, sizeof(le), "le=\"%.9g\"",
					 (double)f->bounds[b] / NS);
			else
				snprintf(le, sizeof(le), "le=\"+Inf\"");
			promtext_sample_u64(t, "dmfilemap_file_io_latency_seconds_bucket",
					    l, 4, le, cum);
		}
		promtext_sample_f(t, "dmfilemap_file_io_latency_seconds_sum", l, 4,
				  NULL, (double)(f->c.v[IO_READ_TIME] +
						 f->c.v[IO_WRITE_TIME]) / NS);
		promtext_sample_u64(t, "dmfilemap_file_io_latency_seconds_count",
				    l, 4, NULL, cum);
	}
}

static void files_text(struct promtext *t, const struct file_figures *v,
		       size_t n)
{
	struct prom_label l[4];

	for (size_t k = 0; k < NPER_FILE; k++) {
		promtext_family(t, per_file[k].name, per_file[k].type,
				per_file[k].help);
		for (size_t i = 0; i < n; i++) {
			uint64_t x = v[i].c.v[per_file[k].field];
			labels_of(v[i].m, l);
			if (per_file[k].mul) /* exact, as stats --json */
				promtext_sample_u64(t, per_file[k].name, l, 4,
						    NULL, x > UINT64_MAX / per_file[k].mul
						    ? UINT64_MAX : x * per_file[k].mul);
			else
				promtext_sample_f(t, per_file[k].name, l, 4,
						  NULL, (double)x * per_file[k].scale);
		}
	}
	promtext_family(t, "dmfilemap_file_regions", "gauge",
			"Regions in the file's group now.");
	for (size_t i = 0; i < n; i++) {
		labels_of(v[i].m, l);
		promtext_sample_u64(t, "dmfilemap_file_regions", l, 4, NULL,
				    v[i].m->regions);
	}
	promtext_family(t, "dmfilemap_file_carried_regions_total", "counter",
			"Regions whose counts were carried into the ledger when "
			"they left the group.");
	for (size_t i = 0; i < n; i++) {
		labels_of(v[i].m, l);
		promtext_sample_u64(t, "dmfilemap_file_carried_regions_total",
				    l, 4, NULL, v[i].m->ledger.carried);
	}
	histograms(t, v, n);
}

static void supervisor_text(struct metrics *mt, struct promtext *t)
{
	static const char *const states[] = { "active", "unlinked", "missing" };
	const struct ioctl_counts *c = &mt->svc->counters;
	const struct { const char *kind; uint64_t n; } io[] = {
		{ "stats_list", c->stats_list }, { "stats_create", c->stats_create },
		{ "stats_delete", c->stats_delete },
		{ "stats_set_aux", c->stats_set_aux },
		{ "stats_print", c->stats_print }, { "info", c->info },
	};
	size_t by_state[3] = { 0 }, in_error = 0;
	struct prom_label l[1];
	struct monitor *m;
	struct device *d;

	TAILQ_FOREACH(m, &mt->svc->monitors, entry) {
		if (m->state < 3)
			by_state[m->state]++;
		in_error += m->last_error != NULL;
	}
	promtext_family(t, "dmfilemap_monitors", "gauge", "Monitors, by state.");
	for (size_t i = 0; i < 3; i++) {
		l[0] = (struct prom_label){ "state", states[i] };
		promtext_sample_u64(t, "dmfilemap_monitors", l, 1, NULL,
				    by_state[i]);
	}
	promtext_family(t, "dmfilemap_monitors_in_error", "gauge",
			"Monitors whose last update failed.");
	promtext_sample_u64(t, "dmfilemap_monitors_in_error", NULL, 0, NULL,
			    in_error);
	promtext_family(t, "dmfilemap_monitor_errors_total", "counter",
			"Update errors said by the monitors.");
	promtext_sample_u64(t, "dmfilemap_monitor_errors_total", NULL, 0, NULL,
			    mt->svc->errors);
	promtext_family(t, "dmfilemap_devices", "gauge",
			"Device-mapper devices with monitored files.");
	promtext_sample_u64(t, "dmfilemap_devices", NULL, 0, NULL,
			    mt->svc->devices.n);
	promtext_family(t, "dmfilemap_dm_ioctls_total", "counter",
			"Device-mapper ioctls sent, by kind.");
	for (size_t i = 0; i < sizeof(io) / sizeof(io[0]); i++) {
		l[0] = (struct prom_label){ "kind", io[i].kind };
		promtext_sample_u64(t, "dmfilemap_dm_ioctls_total", l, 1, NULL,
				    io[i].n);
	}
	promtext_family(t, "dmfilemap_pass_duration_seconds", "gauge",
			"How long the device's last check took.");
	LIST_FOREACH(d, &mt->svc->devices.list, entry) {
		l[0] = (struct prom_label){ "device", d->name };
		promtext_sample_f(t, "dmfilemap_pass_duration_seconds", l, 1,
				  NULL, d->last_pass_s);
	}
	promtext_family(t, "dmfilemap_metrics_write_errors_total", "counter",
			"Writes of this file that failed.");
	promtext_sample_u64(t, "dmfilemap_metrics_write_errors_total", NULL, 0,
			    NULL, mt->write_errors);
	promtext_family(t, "dmfilemap_metrics_read_errors_total", "counter",
			"Files whose counters could not be read for this file.");
	promtext_sample_u64(t, "dmfilemap_metrics_read_errors_total", NULL, 0,
			    NULL, mt->read_errors);
	promtext_family(t, "dmfilemap_metrics_write_duration_seconds", "gauge",
			"How long the last write of this file took.");
	promtext_sample_f(t, "dmfilemap_metrics_write_duration_seconds", NULL,
			  0, NULL, mt->last_write_s);
	promtext_family(t, "dmfilemap_build_info", "gauge",
			"The supervisor's version.");
	l[0] = (struct prom_label){ "version", DMF_VERSION };
	promtext_sample_u64(t, "dmfilemap_build_info", l, 1, NULL, 1);
}

void metrics_text(struct metrics *mt, struct promtext *t)
{
	struct file_figures *v;
	size_t n = collect(mt, &v);

	promtext_init(t);
	files_text(t, v, n);
	supervisor_text(mt, t);
	for (size_t i = 0; i < n; i++) {
		counters_free(&v[i].c);
		free(v[i].bounds);
	}
	free(v);
}

/* Say WHY once (until a write succeeds). */
static void said(struct metrics *mt, const char *why)
{
	if (mt->last_error && !strcmp(mt->last_error, why))
		return;
	log_warnx("metrics: %s (retried every %.0f s)", why, mt->interval);
	free(mt->last_error);
	mt->last_error = strdup(why);
}

int metrics_write(struct metrics *mt)
{
	char tmp[4200], path[4200], why[4400];
	double t0 = ev_time();
	struct promtext t;
	int r;

	snprintf(path, sizeof(path), "%s/" METRICS_FILE, mt->dir);
	snprintf(tmp, sizeof(tmp), "%s/." METRICS_FILE ".tmp", mt->dir);
	metrics_text(mt, &t);
	/* readable by the prometheus user; no fsync: rewritten soon */
	r = t.failed ? -ENOMEM
		     : atomicfile_write(path, tmp, t.buf, t.len, 0644, false);
	if (r < 0) {
		mt->write_errors++;
		snprintf(why, sizeof(why), "cannot write %s: %s", path,
			 strerror(-r));
		said(mt, why);
	} else {
		if (mt->last_error)
			log_warnx("metrics: %s written again", path);
		free(mt->last_error);
		mt->last_error = NULL;
		mt->writes++;
		mt->last_size = t.len;
	}
	promtext_free(&t);
	mt->last_write_s = ev_time() - t0;
	return r;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct metrics *mt = (struct metrics *)((char *)w -
						offsetof(struct metrics, timer));
	(void)loop;
	(void)revents;
	(void)metrics_write(mt); /* said in the log */
}

static void read_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct metrics *mt = (struct metrics *)((char *)w -
						offsetof(struct metrics, reader));
	(void)loop;
	(void)revents;
	read_some(mt);
}

int metrics_start(struct metrics *mt, struct service *svc, const char *dir,
		  double interval)
{
	mt->svc = svc;
	mt->interval = interval;
	if (!(mt->dir = strdup(dir)))
		return -ENOMEM;
	ev_timer_init(&mt->timer, timer_cb, interval, interval);
	ev_timer_init(&mt->reader, read_cb, METRICS_READ_TICK,
		      METRICS_READ_TICK);
	ev_timer_start(svc->loop, &mt->timer);
	ev_timer_start(svc->loop, &mt->reader);
	mt->cursor = 0;
	return metrics_write(mt); /* the counts as saved, read since */
}

void metrics_stop(struct metrics *mt)
{
	if (!mt->dir)
		return;
	ev_timer_stop(mt->svc->loop, &mt->timer);
	ev_timer_stop(mt->svc->loop, &mt->reader);
	free(mt->dir);
	free(mt->last_error);
	mt->dir = mt->last_error = NULL;
}
