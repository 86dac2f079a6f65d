/* faults_updates.c: the updates test_faults.c sweeps, each from a known
 * state: the device holds another program's group (region 0, with its own
 * I/O), the file's group (if any) is ALIAS, and every I/O done to the
 * file's regions is added to the run's counts, some of it read by the
 * ledger before the update and some after (so that a count the update
 * loses shows). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "faults.h"
#include "service/tally.h"

#define WANT(r, ...) want((r), EXT(__VA_ARGS__), NEXT(__VA_ARGS__))
#define E2L { 2000, 16 }

struct monitor *run_monitor(const struct run *r)
{
	return monitor_find_path(&svc, r->f->files[r->file].path);
}

void run_free(struct run *r)
{
	ledger_free(&r->saved);
	counters_free(&r->counts);
}

/* The file's extents from now on, as the update is to find them. */
static void want(struct run *r, const struct extent *e, size_t n)
{
	assert_true(n <= MAXWANT);
	memcpy(r->want, e, n * sizeof(*e));
	r->nwant = n;
	fake_set_extents(r->f->files[r->file].fd, e, n);
}

/* I/O to the file's regions, as fake_io counts it, added to the counts. */
static void run_io(struct run *r, uint64_t sector, uint64_t nsect, bool write,
		   uint64_t ms)
{
	struct io e = { 0 };
	struct io_counters c;

	if (write)
		e = (struct io){ .w = 1, .wsect = nsect, .wms = ms };
	else
		e = (struct io){ .r = 1, .rsect = nsect, .rms = ms };
	fake_io(r->f->dev, sector, nsect, write, ms);
	c = io_counters_of(e);
	assert_int_equal(counters_add(&r->counts, &c), 0);
	counters_free(&c);
}

/* The file data (BYTES), and another program's group made before ours. */
static void file_and_neighbour(struct run *r, size_t bytes)
{
	r->file = new_file(r->f, "data", bytes);
	assert_int_equal(fake_add_region(r->f->dev, 0, 9000, 8,
					 "DMS_GROUP=other:0#-"), 0);
	fake_io(r->f->dev, 9000, 8, true, 9); /* not the file's */
}

/* I/O to each extent E (N): a read, then the ledger reads the totals
 * (from M, if any), then a write to its second half. */
static void counts_in(struct run *r, struct monitor *m,
		      const struct extent *e, size_t n)
{
	struct io_counters t;
	uint64_t bounds[4];
	size_t nb;
	char why[256];

	for (size_t i = 0; i < n; i++)
		run_io(r, e[i].start, e[i].len, false, 2 + i);
	if (m) {
		assert_true(tally_read(m, &t, bounds, 4, &nb, why,
				       sizeof(why)) >= 0);
		counters_free(&t);
	}
	for (size_t i = 0; i < n; i++)
		run_io(r, e[i].start + e[i].len / 2, e[i].len - e[i].len / 2,
		       true, 1);
}

/* The file (BYTES) monitored with the group of extents E (N), counted. */
static struct monitor *monitored(struct run *r, const struct extent *e,
				 size_t n, size_t bytes)
{
	struct monitor *m;

	file_and_neighbour(r, bytes);
	want(r, e, n);
	m = create_monitor(r->f, r->file, ALIAS);
	settle(m);
	counts_in(r, m, e, n);
	return m;
}

static void request(struct run *r, struct monitor_req *req)
{
	enum monitor_added added;
	struct monitor *m = monitor_add(&svc, req, &added, &r->f->err);

	r->refused = !m;
	if (m)
		r->f->files[r->file].owned = true;
}

/* The passes of the next seconds (the check timer's). */
static void passes(struct run *r)
{
	struct device *d = LIST_FIRST(&svc.devices.list);

	(void)r;
	for (int k = 0; d && k < 3; k++)
		run_pass(d);
}

/* ------------------------------------------------------------------ */
/* (a) Create                                                         */

static void prep_create1(struct run *r)
{
	file_and_neighbour(r, 4096);
	WANT(r, E1);
}

static void prep_create3(struct run *r)
{
	file_and_neighbour(r, 12288);
	WANT(r, E1, E2, E3);
}

static void do_create(struct run *r)
{
	struct monitor_req req = { .fd = r->f->files[r->file].fd,
				   .path = r->f->files[r->file].path,
				   .mode = MODE_INODE,
				   .create = true,
				   .alias = ALIAS };

	request(r, &req);
}

/* the client calls again if it was refused */
static void retry_create(struct run *r)
{
	if (!run_monitor(r))
		do_create(r);
	passes(r);
}

/* ------------------------------------------------------------------ */
/* (b) growth, (c) truncation, (d) regroup: a pass applies them       */

static void prep_growth(struct run *r)
{
	struct monitor *m = monitored(r, EXT(E1, E2), 2, 8192);

	grow_file(r->f, r->file, 4096);
	WANT(r, E1, E2, E3);
	file_modified(m);
}

static void prep_truncate(struct run *r)
{
	struct monitor *m = monitored(r, EXT(E1, E2L), 2, 12288);

	truncate_file(r->f, r->file, 8192);
	WANT(r, E1, E2);
	file_modified(m);
}

/* the leader's extent (E1) freed: the group re-forms from the next */
static void prep_regroup(struct run *r)
{
	struct monitor *m = monitored(r, EXT(E1, E2, E3), 3, 12288);

	grow_file(r->f, r->file, 4096);
	WANT(r, E2, E3);
	file_modified(m);
}

static void do_pass(struct run *r)
{
	run_pass(run_monitor(r)->device);
}

/* ------------------------------------------------------------------ */
/* (e) Remove with the group deleted                                  */

static void prep_remove(struct run *r)
{
	(void)monitored(r, EXT(E1, E2, E3), 3, 12288);
}

static void do_remove(struct run *r)
{
	struct monitor *m = run_monitor(r);

	assert_non_null(m);
	r->refused = monitor_remove(m, true, &r->f->err) < 0;
}

/* the client calls again if it was refused; if not, the device (kept
 * while marks of ours are on it) has its pass, which sweeps them */
static void retry_remove(struct run *r)
{
	struct device *d;

	if (run_monitor(r)) {
		do_remove(r);
		return;
	}
	LIST_FOREACH(d, &svc.devices.list, entry)
		run_pass(d);
}

/* ------------------------------------------------------------------ */
/* (f) re-adoption at a start, and the periodic pass                  */

/* The group 1-2 a previous start made, its counts saved with the state
 * (region 7's, gone since); the file has grown meanwhile. */
static void prep_readopt(struct run *r)
{
	struct ledger_region gone = { 7, 5000, 8, { { 0 }, 0, NULL } };

	file_and_neighbour(r, 12288);
	assert_int_equal(fake_add_region(r->f->dev, 1, 1000, 8,
					 "DMS_GROUP=" ALIAS ":1-2#-"), 1);
	assert_int_equal(fake_add_region(r->f->dev, 2, 2000, 8, ""), 2);
	counts_in(r, NULL, EXT(E1, E2), 2);
	gone.c = io_counters_of((struct io){ .w = 5, .wsect = 40, .wms = 10 });
	assert_int_equal(counters_add(&r->counts, &gone.c), 0);
	assert_int_equal(ledger_list_add(&r->saved.pending, &gone), 0);
	r->saved.carried = 1;
	counters_free(&gone.c);
	WANT(r, E1, E2, E3);
}

/* BATCH: one of the re-adoptions at a start, which share a list */
static void readopt(struct run *r, bool batch)
{
	struct monitor_req req = { .fd = r->f->files[r->file].fd,
				   .path = r->f->files[r->file].path,
				   .mode = MODE_INODE,
				   .group_id = 1,
				   .batch = batch,
				   .ledger = &r->saved };

	request(r, &req);
}

static void do_readopt(struct run *r)
{
	readopt(r, true);
}

/* Refused, the registration is added again later, with the counts kept
 * (the caller's still: nothing of them taken); front/state.c does not
 * (it drops the registration), which this test cannot see. */
static void retry_readopt(struct run *r)
{
	if (!run_monitor(r))
		readopt(r, false);
	passes(r);
}

/* Another program made a region: the next pass reads a list that
 * changed, and checks the group against it. */
static void prep_pass(struct run *r)
{
	(void)monitored(r, EXT(E1, E2, E3), 3, 12288);
	assert_true(fake_add_region(r->f->dev, FAKE_ID_LOWEST, 50000, 8,
				    "theirs") > 0);
}

const struct update updates[] = {
	{ "create-1", true, false, prep_create1, do_create, retry_create },
	{ "create-3", true, false, prep_create3, do_create, retry_create },
	{ "growth", false, false, prep_growth, do_pass, passes },
	{ "truncate", false, false, prep_truncate, do_pass, passes },
	{ "regroup", false, false, prep_regroup, do_pass, passes },
	{ "remove", true, true, prep_remove, do_remove, retry_remove },
	{ "readopt", true, false, prep_readopt, do_readopt, retry_readopt },
	{ "pass", false, false, prep_pass, do_pass, passes },
};
const size_t nupdates = sizeof(updates) / sizeof(updates[0]);
