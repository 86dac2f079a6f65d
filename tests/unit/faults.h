/* faults.h: the fault sweep of test_faults.c: the kinds of update it runs
 * (faults_updates.c), each from a known state, what a run of one keeps,
 * and the checks of a run (faults_check.c). Include after <cmocka.h>. */
#ifndef DMF_FAULTS_H
#define DMF_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"
#include "core/ledger.h"
#include "svc_fixture.h"

#define ALIAS "a"     /* the file's group; other programs' have others */
#define MAXWANT 8     /* extents of the file */

/* One run of an update. */
struct run {
	struct fx *f;
	int file;                     /* the file's index in f->files */
	struct extent want[MAXWANT];  /* the file's extents, updated */
	size_t nwant;
	struct ledger saved;          /* re-adoption: the counts the last
				       * start saved (the caller's) */
	struct io_counters counts;    /* every I/O done to the file's
				       * regions (struct io's units) */
	bool refused;                 /* the request failed: f->err */
};

struct update {
	const char *name;
	bool request; /* a client's call: its error is in its reply */
	bool gone;    /* once done the file has no monitor and no group */
	/* the state before: the file, its group, counts; no fault yet */
	void (*prepare)(struct run *r);
	/* the update; then, once the fault is cleared, as the daemon (or
	 * its client, for a request) tries again */
	void (*run)(struct run *r);
	void (*retry)(struct run *r);
};

extern const struct update updates[];
extern const size_t nupdates;

/* The file's monitor (not ended), or NULL. */
struct monitor *run_monitor(const struct run *r);
void run_free(struct run *r);

/* ------------------------------------------------------------------ */
/* the checks (faults_check.c)                                        */

#define MARK_NEW "dmfilemap:new" /* a region being made: in flight */
#define MAXREGIONS 32

/* The fake's regions of a device at one time. */
struct region_copy {
	uint64_t id, start, len;
	char *aux;
};
struct snap {
	struct region_copy r[MAXREGIONS];
	size_t n;
};
void snap_take(struct snap *s, dev_t dev);
void snap_free(struct snap *s);

/* What a run did wrong, by kind, and how (one line each). */
enum bad {
	BAD_ORPHAN = 1 << 0,  /* a new region in no whole group (or, retried,
			       * one left in flight) */
	BAD_CLAIM = 1 << 1,   /* a group names a region that is not there */
	BAD_HALF = 1 << 2,    /* the file's group is neither the old one nor
			       * the new one, whole */
	BAD_FOREIGN = 1 << 3, /* another program's region changed */
	BAD_SILENT = 1 << 4,  /* the fault is not shown */
	BAD_RETRY = 1 << 5,   /* retried, the group is not the file's */
	BAD_COUNTS = 1 << 6,  /* retried, the totals are not the I/O done */
	BAD_LEFT = 1 << 7,    /* retried, a region of the old group is left
			       * in no group (the kernel counts it still) */
	BAD_KINDS = 8
};
extern const char *const bad_names[BAD_KINDS];
struct verdict {
	unsigned bad;
	char why[4096];
	size_t len;
};

/* The fake's regions now against BEFORE (when R's update started, the
 * file's group then named ALIAS), after the fault (FINAL false) or after
 * the retry (FINAL true): no region new and in no whole group, no group
 * naming a region not there, others' regions as they were, the file's
 * group the old one or the new one whole (retried: the new one, or with
 * U->gone none, and the monitor agreeing), and, retried, no region of the
 * old group left in no group and the totals the I/O done (R->counts). */
void check_run(struct verdict *v, const struct run *r, const struct update *u,
	       const struct snap *before, bool final);
/* The fault ERR of a call of kind OP (ERR 0: a spoiled reply, which has
 * no errno to look for) is shown: in the refused request's reply, or in
 * the monitor's last_error (List) and an "error" event (Watch) since
 * event NEV0. */
void check_reported(struct verdict *v, const struct run *r,
		    const struct update *u, int err, enum fake_op op,
		    size_t nev0);
/* For a run that failed: the events since NEV0 and the regions now. */
void describe(struct verdict *v, const struct run *r, size_t nev0);

#endif
