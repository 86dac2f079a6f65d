/* metrics.h: the metrics file for node_exporter's textfile collector: every
 * monitored file's never-lost totals (read a few files at a time over each
 * interval) and the supervisor's own, written atomically every interval. */
#ifndef DMF_METRICS_H
#define DMF_METRICS_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include "front/promtext.h"

struct service;

#define METRICS_FILE "dmfilemap.prom"
#define METRICS_INTERVAL_DEFAULT 15.0
#define METRICS_EXCLUDE_MAX 64
/* Seconds between two reads of some files' counters, and the regions read
 * at most each time (about 200 @stats_print a second: each is a walk of
 * the kernel's region list, 0.3 to 0.6 ms at 19,000 regions in UML). */
#define METRICS_READ_TICK 0.1
#define METRICS_REGIONS_PER_TICK 20

struct metrics {
	struct service *svc;
	char *dir;
	double interval;
	/* files left out: fnmatch(3) patterns of paths and of aliases */
	const char *exclude_path[METRICS_EXCLUDE_MAX];
	size_t nexclude_path;
	const char *exclude_alias[METRICS_EXCLUDE_MAX];
	size_t nexclude_alias;
	ev_timer timer;       /* the writes */
	ev_timer reader;      /* the counters' reads, spread over an interval */
	size_t cursor;        /* the next file to read, by position */
	char *last_error;     /* said once, until a write succeeds */
	uint64_t writes, write_errors, read_errors;
	double last_write_s;  /* how long the last write took */
	size_t last_size;     /* bytes of the last file */
};

/* Write DIR/dmfilemap.prom now and then every INTERVAL seconds (MT's
 * exclude lists set by the caller first). Returns 0 or -errno (DIR not
 * usable: said once in the log; the writes are tried anyway). */
int metrics_start(struct metrics *mt, struct service *svc, const char *dir,
		  double interval);
void metrics_stop(struct metrics *mt);
/* Build the text into T (promtext_free it). */
void metrics_text(struct metrics *mt, struct promtext *t);
/* One write. Returns 0 or -errno (logged once until one succeeds). */
int metrics_write(struct metrics *mt);

#endif
