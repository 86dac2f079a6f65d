/* test_monitor.c: unit tests for the monitor service's reconcile
 * (daemon/service/monitor.c, follow.c, service.c, device.c) driven through
 * the fake dm-stats kernel of fake_dm.c, with faults injected at the kernel
 * calls. Real files in a temporary directory, a real inotify instance; the
 * device passes are run by hand, never by the loop. No root, no dm. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/group.h"
#include "dmfilemap.h"
#include "svc_fixture.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */

static void dump_events(const struct fx *f)
{
	print_error("events (%zu):\n", f->nev);
	for (size_t i = 0; i < f->nev; i++)
		print_error("  monitor %llu %s old %llu reason \"%s\": %s\n",
			    (unsigned long long)f->ev[i].monitor,
			    f->ev[i].event,
			    (unsigned long long)f->ev[i].old_group,
			    f->ev[i].reason, f->ev[i].message);
}

/* The events seen so far are exactly the names given (NULL-terminated). */
static void assert_events_fn(const struct fx *f, ...)
{
	const char *want[MAXEV + 1];
	size_t n = 0;
	bool ok;
	va_list ap;

	va_start(ap, f);
	while (n < MAXEV && (want[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	ok = f->lost == 0 && f->nev == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = !strcmp(f->ev[i].event, want[i]);
	if (!ok) {
		print_error("line %d: want events:", at_line);
		for (size_t i = 0; i < n; i++)
			print_error(" %s", want[i]);
		print_error("\n");
		dump_events(f);
	}
	assert_true(ok);
}
#define assert_events(...) \
	(at_line = __LINE__, assert_events_fn(__VA_ARGS__, (const char *)NULL))

/* The I-th event's fields. */
static const struct ev_rec *event_at(const struct fx *f, size_t i)
{
	assert_true(i < f->nev);
	return &f->ev[i];
}

/* The fake's list text now, kept in F to compare with later. */
static void snapshot(struct fx *f)
{
	free(f->snap);
	assert_non_null(f->snap = fake_list_text(f->dev));
}

static void assert_unchanged_fn(const struct fx *f)
{
	char *now = fake_list_text(f->dev);

	assert_non_null(now);
	if (strcmp(now, f->snap))
		print_error("line %d: regions changed; were:\n%snow:\n%s",
			    at_line, f->snap, now);
	assert_string_equal(now, f->snap);
	free(now);
}
#define assert_unchanged(f) (at_line = __LINE__, assert_unchanged_fn(f))

/* The fd is still open (the caller's). */
static void assert_fd_open(int fd)
{
	assert_true(fcntl(fd, F_GETFD) >= 0);
}

/* ------------------------------------------------------------------ */
/* 1. Create                                                          */

static void test_create_several_described_then_unmarked(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	assert_int_equal(m->id, 1);
	assert_int_equal(m->group_id, 0);
	assert_int_equal(m->regions, 3);
	assert_string_equal(m->alias, "a");
	assert_null(m->last_error);
	assert_int_equal(m->updates, 0);
	assert_int_equal(m->fd, f->files[i].fd);
	assert_int_equal(svc.nmonitors, 1);
	assert_int_equal(m->device->nmonitors, 1);
	assert_fake_has(f->dev, 0, 1, 2);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-2#-");
	assert_region(f->dev, 1, 2000, 8, "");
	assert_region(f->dev, 2, 3000, 8, "");
	assert_string_equal(fake_region(f->dev, 0)->program_id, "dmstats");
	assert_calls(FAKE_IDENTIFY, 1);
	assert_calls(FAKE_LIST, 1);
	assert_calls(FAKE_CREATE, 3);
	/* made marked, then the descriptor, then the marks cleared */
	assert_calls(FAKE_SET_AUX, 3);
	assert_calls(FAKE_REMOVE, 0);
	assert_calls(FAKE_EXTENTS, 1);
	assert_int_equal(svc.counters.stats_create, 3);
	assert_int_equal(svc.counters.stats_set_aux, 3);
	assert_int_equal(svc.counters.stats_list, 1);
	assert_int_equal(svc.counters.info, 1);
	assert_events(f, "added");
	assert_int_equal(event_at(f, 0)->monitor, 1);
	assert_int_equal(f->changed, 1);
	assert_int_equal(f->keep_fd, 1);
	assert_int_equal(f->drop_fd, 0);

	/* the next passes find nothing to do */
	settle(m);
	run_pass(m->device);
	assert_events(f, "added");
	assert_calls(FAKE_LIST, 1);
	assert_int_equal(fake_calls_total(), 1);
	assert_int_equal(m->updates, 0);
	assert_int_equal(m->regions, 3);
}

/* ------------------------------------------------------------------ */
/* 2. rollback during reconcile                                       */

static void test_sync_refused_create_rolls_back_then_retries(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	snapshot(f);

	set_extents(f->files[i].fd, E1, E2, E3);
	grow_file(f, i, 4096);
	file_modified(m);
	fake_fail_nth(FAKE_CREATE, 1, EIO);
	run_pass(m->device);
	assert_unchanged(f);
	assert_calls(FAKE_CREATE, 1);
	assert_calls(FAKE_SET_AUX, 0);
	assert_calls(FAKE_REMOVE, 0);
	assert_events(f, "added", "error");
	assert_string_equal(event_at(f, 1)->message,
			    "cannot create region 3000+8 on " DEVNAME
			    ": Input/output error");
	assert_non_null(m->last_error);
	assert_string_equal(m->last_error, event_at(f, 1)->message);
	assert_int_equal(m->group_id, 0);
	assert_int_equal(m->regions, 2);
	assert_int_equal(m->updates, 0);
	assert_int_equal(svc.nmonitors, 1);

	/* the next pass (no fault now) retries and applies it */
	fake_clear_calls();
	run_pass(m->device);
	assert_events(f, "added", "error", "updated");
	assert_string_equal(event_at(f, 2)->message,
			    "1 created, 0 deleted, 3 regions");
	assert_null(m->last_error);
	assert_int_equal(m->updates, 1);
	assert_int_equal(m->regions, 3);
	assert_int_equal(m->group_id, 0);
	assert_calls(FAKE_CREATE, 1);
	assert_calls(FAKE_SET_AUX, 2); /* the descriptor, the mark cleared */
	assert_fake_has(f->dev, 0, 1, 2);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-2#-");
	assert_region(f->dev, 1, 2000, 8, "");
	assert_region(f->dev, 2, 3000, 8, "");

	/* and then rests */
	settle(m);
	run_pass(m->device);
	assert_int_equal(fake_calls_total(), 1);
	assert_events(f, "added", "error", "updated");
}

static void test_sync_refused_descriptor_write_rolls_back(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	snapshot(f);

	set_extents(f->files[i].fd, E1, E2, E3, E4);
	grow_file(f, i, 4096);
	file_modified(m);
	fake_fail_nth(FAKE_SET_AUX, 1, EIO);
	run_pass(m->device);
	/* the two regions made for it are deleted again */
	assert_unchanged(f);
	assert_calls(FAKE_CREATE, 2);
	assert_calls(FAKE_SET_AUX, 1);
	assert_calls(FAKE_REMOVE, 2);
	assert_events(f, "added", "error");
	assert_string_equal(event_at(f, 1)->message,
			    "cannot write group descriptor to region 0 on "
			    DEVNAME ": Input/output error");
	assert_string_equal(m->last_error, event_at(f, 1)->message);
	assert_int_equal(m->regions, 2);

	fake_clear_calls();
	run_pass(m->device);
	assert_events(f, "added", "error", "updated");
	assert_null(m->last_error);
	assert_fake_has(f->dev, 0, 1, 2, 3);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-3#-");
	assert_region(f->dev, 2, 3000, 8, "");
	assert_region(f->dev, 3, 4000, 8, "");
	assert_int_equal(m->regions, 4);
}

/* A fault repeated: one "error" event, not one per pass. */
static void test_sync_same_error_said_once(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1);
	m = create_monitor(f, i, "a");
	settle(m);
	snapshot(f);
	set_extents(f->files[i].fd, E1, E2);
	grow_file(f, i, 4096);
	file_modified(m);
	fake_fail_always(FAKE_CREATE, EIO);
	for (int k = 0; k < 3; k++)
		run_pass(m->device);
	assert_unchanged(f);
	assert_calls(FAKE_CREATE, 3); /* retried each pass */
	assert_events(f, "added", "error");
	fake_clear_faults();
	run_pass(m->device);
	assert_events(f, "added", "error", "updated");
	assert_null(m->last_error);
	assert_region(f->dev, 1, 2000, 8, "");
}

/* ------------------------------------------------------------------ */
/* 3. refused at registration                                         */

static void check_refused_create(struct fx *f, int i, const char *part)
{
	char start[PATH_MAX + 32];

	assert_string_equal(f->err.name, DMF_ERR("DeviceError"));
	snprintf(start, sizeof(start), "cannot monitor %s: ",
		 f->files[i].path);
	if (strncmp(f->err.message, start, strlen(start)) ||
	    !strstr(f->err.message, part))
		print_error("message: %s\n", f->err.message);
	assert_int_equal(strncmp(f->err.message, start, strlen(start)), 0);
	assert_non_null(strstr(f->err.message, part));
	assert_fake_empty(f->dev);
	assert_int_equal(svc.nmonitors, 0);
	assert_true(TAILQ_EMPTY(&svc.monitors));
	assert_int_equal(inotify_set_count(&svc.inotify), 0);
	assert_fd_open(f->files[i].fd); /* still the caller's */
	assert_int_equal(f->nev, 0); /* no event at all */
	assert_int_equal(f->changed, 0);
	assert_int_equal(f->keep_fd, 0);
}

static void test_create_refused_at_registration(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor_req req = { .fd = f->files[i].fd,
				   .path = f->files[i].path,
				   .mode = MODE_INODE,
				   .create = true,
				   .alias = "a" };
	enum monitor_added added = ADDED_EXISTING;

	set_extents(f->files[i].fd, E1, E2, E3);
	fake_fail_nth(FAKE_CREATE, 2, EIO); /* the second of three */
	assert_null(monitor_add(&svc, &req, &added, &f->err));
	assert_int_equal(added, ADDED_NEW);
	assert_calls(FAKE_CREATE, 2);
	assert_calls(FAKE_REMOVE, 1); /* the first one, deleted again */
	check_refused_create(f, i, "cannot create region 2000+8 on " DEVNAME
				   ": Input/output error");

	/* the same fd can be registered once the fault is gone */
	assert_non_null(create_monitor(f, i, "a"));
	assert_int_equal(svc.nmonitors, 1);
	assert_fake_has(f->dev, 0, 1, 2);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-2#-");
}

static void test_create_refused_first_create(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor_req req = { .fd = f->files[i].fd,
				   .path = f->files[i].path,
				   .mode = MODE_INODE,
				   .create = true,
				   .alias = "a" };
	enum monitor_added added = ADDED_EXISTING;

	set_extents(f->files[i].fd, E1, E2);
	fake_fail_nth(FAKE_CREATE, 1, ENOMEM);
	assert_null(monitor_add(&svc, &req, &added, &f->err));
	assert_calls(FAKE_CREATE, 1);
	assert_calls(FAKE_REMOVE, 0);
	check_refused_create(f, i, "cannot create region 1000+8 on " DEVNAME
				   ": Cannot allocate memory");
}

/* ------------------------------------------------------------------ */
/* 4. ids predicted from a stale list                                 */

struct meddle {
	enum fake_op op;
	unsigned long call;
	dev_t dev;
	uint64_t start;
	const char *aux;
	int64_t got; /* the id the other program's region got, or -1 */
	unsigned runs;
};

/* Another program creates a region just before our call CALL of OP. */
static void meddle_hook(enum fake_op op, unsigned long call, dev_t dev,
			void *arg)
{
	struct meddle *md = arg;

	(void)dev;
	if (op != md->op || call != md->call)
		return;
	md->runs++;
	md->got = fake_add_region(md->dev, FAKE_ID_LOWEST, md->start, 8,
				  md->aux);
}

static void test_create_stale_prediction_rewrites_descriptor(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct meddle md;
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	md = (struct meddle){ FAKE_CREATE, 1, f->dev, 9000, "theirs", -1, 0 };
	fake_set_hook(meddle_hook, &md);
	m = create_monitor(f, i, "a");
	fake_set_hook(NULL, NULL);
	assert_int_equal(md.runs, 1);
	assert_int_equal(md.got, 0); /* the id we predicted for ourselves */
	/* the descriptor is in the group's real lowest member */
	assert_int_equal(m->group_id, 1);
	assert_int_equal(m->regions, 2);
	assert_fake_has(f->dev, 0, 1, 2);
	assert_region(f->dev, 0, 9000, 8, "theirs");
	assert_region(f->dev, 1, 1000, 8, "DMS_GROUP=a:1-2#-");
	assert_region(f->dev, 2, 2000, 8, "");
	assert_calls(FAKE_CREATE, 2);
	assert_calls(FAKE_SET_AUX, 2); /* the descriptor, a mark cleared */
	assert_int_equal(svc.counters.stats_set_aux, 2);
	assert_true(m->device->rs.stale);
	assert_events(f, "added");

	/* the kernel's list agrees: nothing more to do */
	fake_clear_calls();
	run_pass(m->device);
	assert_false(m->device->rs.stale);
	assert_events(f, "added");
	assert_int_equal(fake_calls_total(), 1);
	assert_int_equal(m->group_id, 1);
	assert_int_equal(m->regions, 2);
}

/* The other program's region lands between two of ours: the predicted
 * leader stays the leader, its descriptor rewritten. */
static void test_create_region_made_between_creates(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct meddle md;
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	md = (struct meddle){ FAKE_CREATE, 2, f->dev, 9000, "", -1, 0 };
	fake_set_hook(meddle_hook, &md);
	m = create_monitor(f, i, "a");
	fake_set_hook(NULL, NULL);
	assert_int_equal(md.got, 1);
	assert_int_equal(m->group_id, 0);
	assert_int_equal(m->regions, 3);
	assert_fake_has(f->dev, 0, 1, 2, 3);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0,2-3#-");
	assert_region(f->dev, 1, 9000, 8, "");
	assert_region(f->dev, 2, 2000, 8, "");
	assert_region(f->dev, 3, 3000, 8, "");
	assert_calls(FAKE_SET_AUX, 3); /* the descriptor, 2 marks cleared */
	fake_clear_calls();
	run_pass(m->device);
	assert_events(f, "added");
	assert_int_equal(fake_calls_total(), 1);
}

/* ------------------------------------------------------------------ */
/* 5. regroup                                                         */

/* A region below the leader joins; the old leader, kept, cannot have its
 * descriptor cleared: the error is said, and the next pass clears it
 * (not two groups, and no region made over it). */
static void test_old_leader_clear_fails_retried(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	assert_int_equal(fake_add_region(f->dev, 0, 9000, 8, "theirs"), 0);
	set_extents(f->files[i].fd, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	assert_int_equal(m->group_id, 1);
	assert_int_equal(fake_remove_region(f->dev, 0), 0);
	run_pass(m->device);

	set_extents(f->files[i].fd, E1, E2, E3);
	grow_file(f, i, 4096);
	file_modified(m);
	fake_clear_calls();
	fake_fail_nth(FAKE_SET_AUX, 2, EBUSY); /* the old leader's clear */
	run_pass(m->device);
	assert_int_equal(m->group_id, 0);
	assert_non_null(m->last_error);
	assert_non_null(strstr(m->last_error, "cannot clear the old "
					      "descriptor of region 1"));
	assert_region(f->dev, 1, 2000, 8, "DMS_GROUP=a:1-2#-");

	run_pass(m->device);
	assert_null(m->last_error);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-2#-");
	assert_region(f->dev, 1, 2000, 8, "");
	assert_fake_has(f->dev, 0, 1, 2);
	assert_int_equal(m->regions, 3);
}

static void test_leader_freed_regroups(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;
	unsigned changed;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	changed = f->changed;

	set_extents(f->files[i].fd, E2, E3);
	grow_file(f, i, 4096);
	file_modified(m);
	run_pass(m->device);
	assert_events(f, "added", "regrouped", "updated");
	assert_int_equal(event_at(f, 1)->old_group, 0);
	assert_string_equal(event_at(f, 1)->message,
			    "group re-formed: 0 is now 1");
	assert_string_equal(event_at(f, 2)->message,
			    "0 created, 1 deleted, 2 regions");
	assert_int_equal(m->group_id, 1);
	assert_int_equal(m->regions, 2);
	/* the new group id, and the counts carried from region 0 */
	assert_int_equal(f->changed, changed + 2);
	assert_fake_has(f->dev, 1, 2);
	assert_null(fake_region(f->dev, 0));
	assert_region(f->dev, 1, 2000, 8, "DMS_GROUP=a:1-2#-");
	assert_region(f->dev, 2, 3000, 8, "");
	assert_calls(FAKE_REMOVE, 1);
	/* the descriptor, with the old id's mark; nothing to save here, so
	 * the mark goes at the end of the pass */
	assert_calls(FAKE_SET_AUX, 2);
	assert_calls(FAKE_CREATE, 0);

	/* the new id is the group's from now on */
	settle(m);
	run_pass(m->device);
	assert_events(f, "added", "regrouped", "updated");
	assert_int_equal(fake_calls_total(), 1);
}

/* Every region replaced: the group moves to a new lowest member. */
static void test_all_extents_moved_regroups(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	set_extents(f->files[i].fd, E3, E4);
	grow_file(f, i, 4096);
	file_modified(m);
	run_pass(m->device);
	assert_events(f, "added", "regrouped", "updated");
	assert_int_equal(event_at(f, 1)->old_group, 0);
	assert_int_equal(m->group_id, 2);
	assert_fake_has(f->dev, 2, 3);
	assert_region(f->dev, 2, 3000, 8, "DMS_GROUP=a:2-3#-");
	assert_region(f->dev, 3, 4000, 8, "");
	assert_string_equal(event_at(f, 2)->message,
			    "2 created, 2 deleted, 2 regions");
}

/* ------------------------------------------------------------------ */
/* 6. forged and overlapping descriptors, deleted groups              */

/* Region 0 is another program's; our group is 1-3 (E1, E2, E3). */
static struct monitor *group_after_foreign_region(struct fx *f, int i)
{
	struct monitor *m;

	assert_int_equal(fake_add_region(f->dev, 0, 9000, 8, ""), 0);
	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	assert_int_equal(m->group_id, 1);
	assert_region(f->dev, 1, 1000, 8, "DMS_GROUP=a:1-3#-");
	settle(m);
	return m;
}

static void test_forged_claim_is_released_not_deleted(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m = group_after_foreign_region(f, i);

	/* another group's descriptor claims our region 2 */
	assert_int_equal(fake_set_region_aux(f->dev, 0,
					     "DMS_GROUP=forged:0,2#-"), 0);
	set_extents(f->files[i].fd, E1, E3); /* region 2's extent is gone */
	grow_file(f, i, 4096);
	file_modified(m);
	run_pass(m->device);
	assert_events(f, "added", "updated");
	assert_string_equal(event_at(f, 1)->message,
			    "0 created, 0 deleted, 2 regions (regions claimed "
			    "by another group too released, not deleted)");
	assert_non_null(strstr(event_at(f, 1)->message, "released"));
	assert_calls(FAKE_REMOVE, 0);
	assert_fake_has(f->dev, 0, 1, 2, 3);
	assert_region(f->dev, 0, 9000, 8, "DMS_GROUP=forged:0,2#-");
	assert_region(f->dev, 1, 1000, 8, "DMS_GROUP=a:1,3#-");
	assert_region(f->dev, 2, 2000, 8, "");
	assert_int_equal(m->regions, 2);
	assert_int_equal(m->group_id, 1);

	/* later passes, the file changed again, never delete it */
	for (int k = 0; k < 3; k++) {
		grow_file(f, i, 4096);
		file_modified(m);
		run_pass(m->device);
	}
	assert_calls(FAKE_REMOVE, 0);
	assert_region(f->dev, 2, 2000, 8, "");
	assert_region(f->dev, 0, 9000, 8, "DMS_GROUP=forged:0,2#-");
	assert_events(f, "added", "updated");
	assert_int_equal(svc.nmonitors, 1);
}

/* The forged descriptor claims our leader, and the file lets go of it:
 * the group re-forms; the old leader is released, its tag cleared. */
static void test_forged_claim_on_leader_released_on_regroup(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m = group_after_foreign_region(f, i);

	assert_int_equal(fake_set_region_aux(f->dev, 0,
					     "DMS_GROUP=forged:0-1#-"), 0);
	set_extents(f->files[i].fd, E2, E3);
	grow_file(f, i, 4096);
	file_modified(m);
	run_pass(m->device);
	assert_events(f, "added", "regrouped", "updated");
	assert_int_equal(event_at(f, 1)->old_group, 1);
	assert_non_null(strstr(event_at(f, 2)->message, "released"));
	assert_string_equal(event_at(f, 2)->message,
			    "0 created, 0 deleted, 2 regions (regions claimed "
			    "by another group too released, not deleted)");
	assert_int_equal(m->group_id, 2);
	assert_calls(FAKE_REMOVE, 0);
	assert_fake_has(f->dev, 0, 1, 2, 3);
	assert_region(f->dev, 1, 1000, 8, ""); /* kept, without our tag */
	assert_region(f->dev, 2, 2000, 8, "DMS_GROUP=a:2-3#-");
	assert_region(f->dev, 0, 9000, 8, "DMS_GROUP=forged:0-1#-");
	fake_clear_calls();
	run_pass(m->device);
	run_pass(m->device);
	assert_calls(FAKE_REMOVE, 0);
	assert_events(f, "added", "regrouped", "updated");
}

static void check_group_deleted(struct fx *f, struct monitor *m)
{
	struct device *d = m->device;
	unsigned drop = f->drop_fd;

	run_pass(d);
	assert_events(f, "added", "ended");
	assert_string_equal(event_at(f, 1)->reason, "group-deleted");
	assert_string_equal(event_at(f, 1)->message, "group 0 was deleted");
	assert_int_equal(m->state, MS_ENDED);
	assert_int_equal(m->fd, -1);
	assert_int_equal(svc.nmonitors, 0);
	assert_int_equal(d->nmonitors, 0);
	assert_int_equal(f->drop_fd, drop + 1);
	/* the monitor deletes nothing of what is left */
	assert_calls(FAKE_REMOVE, 0);
	assert_calls(FAKE_SET_AUX, 0);
	assert_calls(FAKE_CREATE, 0);
}

static void test_descriptor_deleted_ends_group_deleted(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	assert_int_equal(fake_remove_region(f->dev, 0), 0); /* the leader */
	check_group_deleted(f, m);
	assert_fake_has(f->dev, 1);
}

static void test_descriptor_corrupted_ends_group_deleted(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	assert_int_equal(fake_set_region_aux(f->dev, 0, "DMS_GROUP=a:0-"),
			 0);
	check_group_deleted(f, m);
	assert_fake_has(f->dev, 0, 1);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-");
}

/* A descriptor rewritten so that its region is not its lowest member. */
static void test_descriptor_moved_ends_group_deleted(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	assert_int_equal(fake_set_region_aux(f->dev, 0, "DMS_GROUP=a:1#-"),
			 0);
	check_group_deleted(f, m);
}

/* The alias changed by another tool is followed, the group kept. */
static void test_alias_changed_elsewhere_is_followed(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	assert_int_equal(fake_set_region_aux(f->dev, 0,
					     "DMS_GROUP=renamed:0-1#-"), 0);
	run_pass(m->device);
	assert_string_equal(m->alias, "renamed");
	assert_events(f, "added");
	assert_calls(FAKE_EXTENTS, 0);
	assert_calls(FAKE_SET_AUX, 0);
}

/* ------------------------------------------------------------------ */
/* 7. re-read decisions                                               */

#define NOT_SYNCED 999 /* in m->regions: monitor_sync sets it from the list */

static void test_pass_unchanged_list_clean_monitor_no_work(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;
	uint64_t passes;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	passes = m->device->passes;
	m->regions = NOT_SYNCED;
	run_pass(m->device);
	assert_int_equal(m->regions, NOT_SYNCED); /* not synced at all */
	assert_calls(FAKE_LIST, 1);
	assert_calls(FAKE_EXTENTS, 0);
	assert_int_equal(fake_calls_total(), 1);
	assert_int_equal(m->device->passes, passes + 1);
	assert_events(f, "added");
	m->regions = 3;
}

static void test_pass_list_changed_plans_from_known_extents(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	/* another program's region, unrelated */
	assert_int_equal(fake_add_region(f->dev, FAKE_ID_LOWEST, 50000, 8,
					 "theirs"), 3);
	m->regions = NOT_SYNCED;
	run_pass(m->device);
	assert_int_equal(m->regions, 3); /* synced... */
	assert_calls(FAKE_EXTENTS, 0);   /* ...from the extents it knew */
	assert_calls(FAKE_LIST, 1);
	assert_int_equal(fake_calls_total(), 1);
	assert_events(f, "added");
	assert_fake_has(f->dev, 0, 1, 2, 3);
}

static void test_group_changed_elsewhere_rereads(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	assert_int_equal(fake_remove_region(f->dev, 1), 0);
	run_pass(m->device);
	assert_false(m->dirty);
	assert_calls(FAKE_EXTENTS, 1); /* EXTENTS_READ */
	assert_calls(FAKE_CREATE, 1);
	assert_calls(FAKE_SET_AUX, 2); /* the descriptor, the mark cleared */
	assert_calls(FAKE_REMOVE, 0);
	assert_events(f, "added", "updated");
	assert_string_equal(event_at(f, 1)->message,
			    "1 created, 0 deleted, 3 regions");
	assert_fake_has(f->dev, 0, 1, 2);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-2#-");
	assert_region(f->dev, 1, 2000, 8, "");
	assert_int_equal(m->regions, 3);
}

/* A member deleted elsewhere whose extent the file no longer has: the plan
 * is empty, but the descriptor must stop naming the id, or the next region
 * anyone creates (it gets that id) would join the group. */
static void test_missing_member_dropped_from_descriptor(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	assert_int_equal(fake_remove_region(f->dev, 1), 0);
	set_extents(f->files[i].fd, E1, E3);
	grow_file(f, i, 4096);
	file_modified(m);
	run_pass(m->device);
	assert_calls(FAKE_EXTENTS, 1);
	assert_calls(FAKE_CREATE, 0);
	assert_calls(FAKE_REMOVE, 0);
	assert_calls(FAKE_SET_AUX, 1);
	assert_events(f, "added", "updated");
	assert_string_equal(event_at(f, 1)->message,
			    "0 created, 0 deleted, 2 regions");
	assert_fake_has(f->dev, 0, 2);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0,2#-");
	assert_int_equal(m->regions, 2);

	/* another program's new region takes id 1: not ours */
	assert_int_equal(fake_add_region(f->dev, FAKE_ID_LOWEST, 2000, 8,
					 "theirs"), 1);
	fake_clear_calls();
	run_pass(m->device);
	assert_int_equal(m->regions, 2);
	assert_int_equal(fake_calls_total(), 1);
	assert_region(f->dev, 1, 2000, 8, "theirs");
	assert_events(f, "added", "updated");
}

/* The group changed elsewhere and so did the file, unseen: the re-read
 * plans from the file as it is now. */
static void test_group_changed_elsewhere_reread_finds_new_extents(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	assert_int_equal(fake_remove_region(f->dev, 2), 0);
	set_extents(f->files[i].fd, E1, E2, E4);
	run_pass(m->device);
	assert_calls(FAKE_EXTENTS, 1);
	assert_events(f, "added", "updated");
	assert_fake_has(f->dev, 0, 1, 2);
	assert_region(f->dev, 2, 4000, 8, "");
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-2#-");
}

/* After a pass that changed the regions, the next list shows just what
 * that pass did: the other monitors are not checked again (at 10,000
 * files that check was most of the next pass); a list that shows more
 * than that checks them all. */
static void test_own_changes_listed_need_no_checks(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "a", 8192), j = new_file(f, "b", 8192);
	struct monitor *m, *m2;

	set_extents(f->files[i].fd, E1);
	set_extents(f->files[j].fd, E3);
	m = create_monitor(f, i, "a");
	m2 = create_monitor(f, j, "b");
	settle(m);
	grow_file(f, i, 4096);
	set_extents(f->files[i].fd, E1, E2);
	file_modified(m);
	run_pass(m->device);
	assert_calls(FAKE_CREATE, 1);
	assert_events(f, "added", "added", "updated");
	/* the list is as that pass left it: only the list is read */
	fake_clear_calls();
	m2->regions = NOT_SYNCED;
	run_pass(m->device);
	assert_int_equal(m2->regions, NOT_SYNCED);
	assert_int_equal(fake_calls_total(), 1);
	/* our change again, and another program's region with it: every
	 * monitor is checked */
	grow_file(f, i, 4096);
	set_extents(f->files[i].fd, E1, E2, E4);
	file_modified(m);
	run_pass(m->device);
	assert_int_equal(fake_add_region(f->dev, FAKE_ID_LOWEST, 50000, 8,
					 "theirs"), 4);
	fake_clear_calls();
	run_pass(m->device);
	assert_int_equal(m2->regions, 1);
	assert_int_equal(fake_calls_total(), 1);
	assert_events(f, "added", "added", "updated", "updated");
}

/* A write that keeps the size and block count may still move the file's
 * blocks (a COW overwrite, a zeroed range): its extents are read again
 * (without flushing), at most once per check interval. */
static void test_write_rereads_layout_once_per_interval(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	/* just read: the re-read waits for a later pass */
	file_modified(m);
	run_pass(m->device);
	assert_calls(FAKE_EXTENTS, 0);
	assert_true(m->dirty);
	assert_events(f, "added");
	/* an interval later: read, and the moved block followed */
	m->reread_at = ev_now(loop) - svc.devices.interval;
	set_extents(f->files[i].fd, E1, E2, E4);
	run_pass(m->device);
	assert_calls(FAKE_EXTENTS, 1);
	assert_false(m->dirty);
	assert_events(f, "added", "updated");
	assert_fake_has(f->dev, 0, 1, 3);
	assert_region(f->dev, 3, 4000, 8, "");
	/* written again at once: not read again in this interval */
	fake_clear_calls();
	file_modified(m);
	run_pass(m->device);
	assert_calls(FAKE_EXTENTS, 0);
}

static void test_dirty_grown_file_reads(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2, E3);
	m = create_monitor(f, i, "a");
	settle(m);
	grow_file(f, i, 4096);
	set_extents(f->files[i].fd, E1, E2, E3, E4);
	file_modified(m);
	run_pass(m->device);
	assert_false(m->dirty);
	assert_calls(FAKE_EXTENTS, 1);
	assert_calls(FAKE_CREATE, 1);
	assert_events(f, "added", "updated");
	assert_region(f->dev, 3, 4000, 8, "");
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-3#-");

	/* grown without a new extent: read, nothing to change */
	fake_clear_calls();
	grow_file(f, i, 4096);
	file_modified(m);
	run_pass(m->device);
	assert_calls(FAKE_EXTENTS, 1);
	assert_calls(FAKE_CREATE, 0);
	assert_calls(FAKE_SET_AUX, 0);
	assert_events(f, "added", "updated");
}

/* A file changed with no event (mmap): the sweep's fstat finds it. */
static void test_sweep_finds_change_without_event(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;
	int k;

	set_extents(f->files[i].fd, E1);
	m = create_monitor(f, i, "a");
	settle(m);
	grow_file(f, i, 4096);
	set_extents(f->files[i].fd, E1, E2);
	for (k = 0; k < 40 && f->nev == 1; k++)
		run_check(m->device);
	assert_events(f, "added", "updated");
	/* within the sweep's period at few files: 15 s at 1 s a pass */
	assert_true(k <= 16);
	assert_region(f->dev, 1, 2000, 8, "");
}

/* A monitor of a new file (its index into *I) of extents E1 and E2,
 * settled. */
static struct monitor *settled_two_extents(struct fx *f, int *i)
{
	struct monitor *m;

	*i = new_file(f, "data", 8192);
	set_extents(f->files[*i].fd, E1, E2);
	m = create_monitor(f, *i, "a");
	settle(m);
	return m;
}

/* Passes brought by file changes, many in one interval, take no turn of
 * the rolling re-read: its rate is one turn per interval, however often
 * files change (a pass re-reading hundreds of files at 10,000 would
 * delay every change behind it). */
static void test_change_passes_take_no_sweep_turn(void **state)
{
	struct fx *f = *state;
	int i;
	struct monitor *m = settled_two_extents(f, &i);
	uint64_t turn;
	int k;

	turn = m->device->sweeps;
	for (k = 0; k < 40; k++)
		run_pass(m->device); /* 40 passes in one interval */
	assert_calls(FAKE_EXTENTS, 0);
	assert_int_equal(m->device->sweeps, turn);
	for (k = 0; k < 16; k++)
		run_check(m->device); /* 16 intervals: one sweep */
	assert_calls(FAKE_EXTENTS, 1);
	/* three intervals begun since the last turn: the next pass takes
	 * the three turns at once */
	m->device->sweep_turn -= 3;
	turn = m->device->sweeps;
	assert_int_equal(device_sweep_turns(m->device), 3);
	assert_int_equal(m->device->sweeps, turn + 3);
	assert_int_equal(device_sweep_turns(m->device), 0);
	/* the clock stepped back: one turn, and the clock's count starts
	 * again there */
	m->device->sweep_turn += 100;
	assert_int_equal(device_sweep_turns(m->device), 1);
	assert_int_equal(m->device->sweeps, turn + 4);
	assert_int_equal(device_sweep_turns(m->device), 0);
	assert_events(f, "added");
}

/* A block moved with neither an event nor a change of size (a
 * defragmenter's ioctl): the sweep reads the extents again and finds it;
 * a sweep that finds nothing changed costs no sync. */
static void test_sweep_finds_moved_block_and_costs_no_sync(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;
	int k;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	m->regions = 12345; /* a sync would set it */
	for (k = 0; k < 16; k++)
		run_check(m->device);
	assert_calls(FAKE_EXTENTS, 1); /* one sweep, in 16 passes */
	assert_int_equal(m->regions, 12345);
	assert_events(f, "added");
	set_extents(f->files[i].fd, E1, E3);
	for (k = 0; k < 40 && f->nev == 1; k++)
		run_check(m->device);
	assert_true(k <= 16);
	assert_events(f, "added", "updated");
	assert_region(f->dev, 2, 3000, 8, "");
	assert_null(fake_region(f->dev, 1));
}

/* The extents read fails on a changed file: an error; the pass that
 * retries it must read the file again. (It once planned from the old
 * extents instead, and the change waited for the sweep.) */
static void test_failed_extents_read_is_retried(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	snapshot(f);
	grow_file(f, i, 4096);
	set_extents(f->files[i].fd, E1, E2, E3);
	file_modified(m);
	fake_fail_nth(FAKE_EXTENTS, 1, EIO);
	run_pass(m->device);
	assert_calls(FAKE_EXTENTS, 1);
	assert_unchanged(f);
	assert_events(f, "added", "error");
	assert_string_equal(event_at(f, 1)->message,
			    "cannot read extents: Input/output error");
	assert_non_null(m->last_error);

	/* the retry (the next pass: the monitor has an error) */
	fake_clear_calls();
	run_pass(m->device);
	assert_calls(FAKE_EXTENTS, 1);
	assert_events(f, "added", "error", "updated");
	assert_null(m->last_error);
	assert_region(f->dev, 2, 3000, 8, "");
}

/* ------------------------------------------------------------------ */
/* 8. a failing @stats_list                                           */

static void test_list_eio_keeps_monitors_and_recovers(void **state)
{
	struct fx *f = *state;
	int i;
	struct monitor *m = settled_two_extents(f, &i);
	struct device *d = m->device;
	uint64_t passes = d->passes;

	/* a change waiting to be applied */
	grow_file(f, i, 4096);
	set_extents(f->files[i].fd, E1, E2, E3);
	file_modified(m);
	fake_fail_nth(FAKE_LIST, 1, EIO);
	run_pass(d);
	assert_false(d->rs.valid);
	assert_int_equal(d->passes, passes);
	assert_int_equal(svc.nmonitors, 1);
	assert_int_equal(m->state, MS_ACTIVE);
	assert_true(m->dirty); /* kept for the next pass */
	assert_calls(FAKE_EXTENTS, 0);
	assert_calls(FAKE_CREATE, 0);
	/* said in list and watch */
	assert_events(f, "added", "error");
	assert_string_equal(m->last_error,
			    "cannot list regions of vol: Input/output error "
			    "(retried)");
	/* a sync without a valid list does nothing */
	monitor_sync(m);
	assert_int_equal(fake_calls_total(), 1);

	run_pass(d);
	assert_true(d->rs.valid);
	assert_int_equal(d->passes, passes + 1);
	assert_events(f, "added", "error", "updated");
	assert_null(m->last_error);
	assert_fake_has(f->dev, 0, 1, 2);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=a:0-2#-");
	assert_int_equal(svc.nmonitors, 1);
}

static void check_device_gone(struct fx *f, int err)
{
	int a = new_file(f, "one", 8192), b = new_file(f, "two", 4096);
	struct monitor *m1, *m2;
	struct device *d;

	set_extents(f->files[a].fd, E1, E2);
	set_extents(f->files[b].fd, E3);
	m1 = create_monitor(f, a, "one");
	m2 = create_monitor(f, b, "two");
	assert_int_equal(m1->group_id, 0);
	assert_int_equal(m2->group_id, 2);
	assert_ptr_equal(m1->device, m2->device);
	d = m1->device;
	assert_int_equal(d->nmonitors, 2);
	settle(m1);
	fake_fail_nth(FAKE_LIST, 1, err);
	run_pass(d);
	assert_events(f, "added", "added", "ended", "ended");
	for (size_t k = 2; k < 4; k++) {
		assert_string_equal(event_at(f, k)->reason, "device-gone");
		assert_string_equal(event_at(f, k)->message,
				    "device " DEVNAME " removed");
	}
	assert_int_equal(event_at(f, 2)->monitor, m1->id);
	assert_int_equal(event_at(f, 3)->monitor, m2->id);
	assert_int_equal(m1->state, MS_ENDED);
	assert_int_equal(m2->state, MS_ENDED);
	assert_int_equal(svc.nmonitors, 0);
	assert_int_equal(d->nmonitors, 0);
	assert_int_equal(f->drop_fd, 2);
	assert_int_equal(fake_calls_total(), 1);
	assert_fake_has(f->dev, 0, 1, 2); /* nothing deleted */
}

static void test_list_enxio_ends_every_monitor(void **state)
{
	check_device_gone(*state, ENXIO);
}

static void test_list_enodev_ends_every_monitor(void **state)
{
	check_device_gone(*state, ENODEV);
}

/* ------------------------------------------------------------------ */
/* 9. Add                                                             */

static void test_add_already_monitored_returns_existing(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m, *again;
	struct monitor_req req;
	enum monitor_added added = ADDED_NEW;
	int fd2;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	fd2 = open(f->files[i].path, O_RDONLY | O_CLOEXEC);
	assert_true(fd2 >= 0);
	set_extents(fd2, E1, E2);
	req = (struct monitor_req){ .fd = fd2,
				    .path = f->files[i].path,
				    .mode = MODE_INODE,
				    .group_id = 0 };
	again = monitor_add(&svc, &req, &added, &f->err);
	assert_ptr_equal(again, m);
	assert_int_equal(added, ADDED_EXISTING);
	assert_int_equal(m->fd, f->files[i].fd);
	assert_true(fcntl(fd2, F_GETFD) >= 0); /* still the caller's */
	assert_int_equal(close(fd2), 0);
	assert_int_equal(svc.nmonitors, 1);
	assert_events(f, "added");
	assert_int_equal(f->keep_fd, 1);
	assert_int_equal(f->changed, 1);
	assert_int_equal(inotify_set_count(&svc.inotify), 1);
	assert_calls(FAKE_CREATE, 2);
}

/* A second registration of file I's monitored group M, from PATH (NULL:
 * the file's) in MODE, on a new fd of that path: must change M. */
static void reregister(struct fx *f, struct monitor *m, const char *path,
		       enum monitor_mode mode)
{
	enum monitor_added added = ADDED_NEW;
	struct monitor_req req;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	set_extents(fd, E1, E2);
	req = (struct monitor_req){ .fd = fd, .path = path, .mode = mode,
				    .group_id = m->group_id };
	assert_ptr_equal(monitor_add(&svc, &req, &added, &f->err), m);
	assert_int_equal(added, ADDED_CHANGED);
	assert_int_equal(m->fd, fd); /* taken: the old one closed */
	assert_string_equal(m->path, path);
	assert_int_equal(m->mode, mode);
	assert_int_equal(svc.nmonitors, 1);
}

static void test_reregister_inode_to_path(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192), old_fd;
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	old_fd = m->fd;
	fake_clear_calls();
	reregister(f, m, f->files[i].path, MODE_PATH);
	f->files[i].owned = false; /* the monitor closed it */
	assert_true(fcntl(old_fd, F_GETFD) < 0);
	f->files[i].fd = m->fd;
	f->files[i].owned = true;
	assert_events(f, "added", "changed");
	assert_string_equal(event_at(f, 1)->message,
			    "options changed: follow path (was inode)");
	assert_int_equal(m->state, MS_ACTIVE);
	assert_true(m->wd_dir >= 0); /* now the directory is watched too */
	assert_int_equal(f->drop_fd, 1);
	assert_int_equal(f->keep_fd, 2);
	assert_int_equal(f->changed, 2);
	/* the same group, still matching: nothing to do to it */
	run_pass(m->device);
	assert_calls(FAKE_CREATE, 0);
	assert_calls(FAKE_REMOVE, 0);
	assert_int_equal(m->group_id, 0);
}

static void test_reregister_path_to_inode(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor_req req;
	enum monitor_added added = ADDED_EXISTING;
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	req = (struct monitor_req){ .fd = f->files[i].fd,
				    .path = f->files[i].path,
				    .mode = MODE_PATH, .create = true,
				    .alias = "a" };
	m = monitor_add(&svc, &req, &added, &f->err);
	assert_non_null(m);
	assert_int_equal(added, ADDED_NEW);
	assert_true(m->wd_dir >= 0);
	reregister(f, m, f->files[i].path, MODE_INODE);
	f->files[i].fd = m->fd;
	f->files[i].owned = true;
	assert_int_equal(m->wd_dir, -1); /* no directory watch in inode mode */
	assert_int_equal(inotify_set_count(&svc.inotify), 1);
	assert_events(f, "added", "changed");
	assert_string_equal(event_at(f, 1)->message,
			    "options changed: follow inode (was path)");
}

static void test_reregister_from_a_hard_link(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	char link_path[sizeof(f->files[0].path) + 8], want[2 * sizeof(link_path) + 64];
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	snprintf(link_path, sizeof(link_path), "%s.link", f->files[i].path);
	assert_int_equal(link(f->files[i].path, link_path), 0);
	reregister(f, m, link_path, MODE_INODE);
	f->files[i].fd = m->fd;
	assert_events(f, "added", "changed");
	snprintf(want, sizeof(want),
		 "options changed: follow inode, path %s (was %s)", link_path,
		 f->files[i].path);
	assert_string_equal(event_at(f, 1)->message, want);
	assert_int_equal(unlink(link_path), 0);
}

/* Another file of the same device for the group: the group follows it,
 * as a new daemon given that file would make it. */
static void test_reregister_with_another_file(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192), j = new_file(f, "other", 4096);
	enum monitor_added added = ADDED_NEW;
	struct monitor_req req;
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	set_extents(f->files[j].fd, E3);
	req = (struct monitor_req){ .fd = f->files[j].fd,
				    .path = f->files[j].path,
				    .mode = MODE_INODE, .group_id = 0 };
	assert_ptr_equal(monitor_add(&svc, &req, &added, &f->err), m);
	assert_int_equal(added, ADDED_CHANGED);
	f->files[j].owned = true;
	f->files[i].fd = -1; /* closed by the monitor */
	assert_string_equal(m->path, f->files[j].path);
	assert_true(m->dirty);
	settle(m);
	/* the group is now the other file's extents */
	assert_fake_has(f->dev, 2);
	assert_region(f->dev, 2, 3000, 8, "DMS_GROUP=a:2#-");
	assert_int_equal(m->group_id, 2);
	assert_int_equal(svc.nmonitors, 1);
}

/* A group that no monitor keeps (Debian 13's dmstats makes only those):
 * the scan lists it, with no path where the file is not found (the fake's
 * device has no filesystem); adopted, it leaves the list; a second
 * device's groups are listed too. */
static void test_unmonitored_groups_listed(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	dev_t other = makedev(254, 77);

	assert_int_equal(fake_add_region(f->dev, 0, 1000, 8,
					 "DMS_GROUP=data:0-1#-"), 0);
	assert_int_equal(fake_add_region(f->dev, 1, 2000, 8, ""), 1);
	assert_int_equal(fake_add_device(other, "other"), 0);
	assert_int_equal(fake_add_region(other, 0, 50, 8,
					 "DMS_GROUP=x y:0#-"), 0);
	unmonitored_scan(&svc);
	assert_int_equal(svc.unmonitored.n, 2);
	const struct unmonitored *a = &svc.unmonitored.v[0],
				 *b = &svc.unmonitored.v[1];
	if (a->devno != f->dev) {
		const struct unmonitored *t = a;
		a = b;
		b = t;
	}
	assert_int_equal(a->group_id, 0);
	assert_string_equal(a->alias, "data");
	assert_int_equal(a->regions, 2);
	assert_string_equal(a->dm_name, DEVNAME);
	assert_null(a->path);
	assert_string_equal(b->alias, "x y");
	assert_string_equal(b->dm_name, "other");
	/* scanned again: still two, not four */
	unmonitored_scan(&svc);
	assert_int_equal(svc.unmonitored.n, 2);
	/* adopted: only the other device's group is left */
	set_extents(f->files[i].fd, E1, E2);
	(void)add_monitor(f, i, 0, NULL);
	unmonitored_scan(&svc);
	assert_int_equal(svc.unmonitored.n, 1);
	assert_string_equal(svc.unmonitored.v[0].alias, "x y");
	/* its group deleted: none */
	assert_int_equal(fake_remove_region(other, 0), 0);
	unmonitored_scan(&svc);
	assert_int_equal(svc.unmonitored.n, 0);
}

static void test_add_adopts_group_made_elsewhere(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	assert_int_equal(fake_add_region(f->dev, 0, 9000, 8, ""), 0);
	assert_int_equal(fake_add_region(f->dev, 1, 1000, 8,
					 "DMS_GROUP=b:1-3#-"), 1);
	assert_int_equal(fake_add_region(f->dev, 2, 2000, 8, ""), 2);
	assert_int_equal(fake_add_region(f->dev, 3, 3000, 8, ""), 3);
	set_extents(f->files[i].fd, E1, E2, E3);
	m = add_monitor(f, i, 1, NULL);
	assert_int_equal(m->group_id, 1);
	assert_int_equal(m->regions, 3);
	assert_string_equal(m->alias, "b");
	assert_events(f, "added");
	assert_calls(FAKE_CREATE, 0);
	assert_calls(FAKE_SET_AUX, 0);
	assert_calls(FAKE_REMOVE, 0);
	assert_calls(FAKE_LIST, 1);
	assert_calls(FAKE_EXTENTS, 1);
}

/* Adopted with extents that differ: reconciled at once. */
static void test_add_reconciles_at_once(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	assert_int_equal(fake_add_region(f->dev, 0, 1000, 8,
					 "DMS_GROUP=b:0-1#-"), 0);
	assert_int_equal(fake_add_region(f->dev, 1, 5000, 8, ""), 1);
	set_extents(f->files[i].fd, E1, E2);
	m = add_monitor(f, i, 0, NULL);
	assert_events(f, "added", "updated");
	assert_string_equal(event_at(f, 1)->message,
			    "1 created, 1 deleted, 2 regions");
	assert_int_equal(m->regions, 2);
	assert_int_equal(m->group_id, 0);
	assert_fake_has(f->dev, 0, 2);
	assert_region(f->dev, 0, 1000, 8, "DMS_GROUP=b:0,2#-");
	assert_region(f->dev, 2, 2000, 8, "");
}

static void test_add_no_such_group_refused(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor_req req = { .fd = f->files[i].fd,
				   .path = f->files[i].path,
				   .mode = MODE_INODE,
				   .group_id = 1 };
	enum monitor_added added = ADDED_EXISTING;

	assert_int_equal(fake_add_region(f->dev, 0, 1000, 8,
					 "DMS_GROUP=b:0-1#-"), 0);
	assert_int_equal(fake_add_region(f->dev, 1, 2000, 8, ""), 1);
	set_extents(f->files[i].fd, E1, E2);
	assert_null(monitor_add(&svc, &req, &added, &f->err));
	assert_int_equal(added, ADDED_NEW);
	assert_string_equal(f->err.name, DMF_ERR("NoSuchGroup"));
	assert_fd_open(f->files[i].fd);
	assert_int_equal(svc.nmonitors, 0);
	assert_int_equal(f->nev, 0);
	assert_int_equal(inotify_set_count(&svc.inotify), 0);
}

/* ------------------------------------------------------------------ */
/* 10. no extents                                                     */

static void check_no_extents(struct fx *f, int i, const char *why)
{
	struct monitor_req req = { .fd = f->files[i].fd,
				   .path = f->files[i].path,
				   .mode = MODE_INODE,
				   .create = true,
				   .alias = "a" };
	enum monitor_added added = ADDED_EXISTING;
	char msg[PATH_MAX + 128];
	const char *suffix = ".NoExtents";
	size_t n;

	assert_null(monitor_add(&svc, &req, &added, &f->err));
	assert_int_equal(added, ADDED_NEW);
	n = strlen(f->err.name);
	assert_true(n > strlen(suffix));
	assert_string_equal(f->err.name + n - strlen(suffix), suffix);
	assert_string_equal(f->err.name, DMF_ERR("NoExtents"));
	snprintf(msg, sizeof(msg), "cannot monitor %s: %s", f->files[i].path,
		 why);
	assert_string_equal(f->err.message, msg);
	assert_calls(FAKE_CREATE, 0);
	assert_fake_empty(f->dev);
	assert_int_equal(svc.nmonitors, 0);
	assert_int_equal(f->nev, 0);
	assert_int_equal(inotify_set_count(&svc.inotify), 0);
	assert_fd_open(f->files[i].fd);
}

static void test_create_no_extents_refused(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 0);

	fake_set_extents(f->files[i].fd, NULL, 0);
	check_no_extents(f, i, "the file has no allocated extents");
}

static void test_create_extents_failure_refused(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);

	set_extents(f->files[i].fd, E1);
	fake_fail_nth(FAKE_EXTENTS, 1, EIO);
	check_no_extents(f, i, "Input/output error");
}

/* The file loses every extent while monitored: the monitor ends. */
static void test_extents_all_gone_ends_monitor(void **state)
{
	struct fx *f = *state;
	int i = new_file(f, "data", 8192);
	struct monitor *m;

	set_extents(f->files[i].fd, E1, E2);
	m = create_monitor(f, i, "a");
	settle(m);
	assert_int_equal(truncate(f->files[i].path, 0), 0);
	fake_set_extents(f->files[i].fd, NULL, 0);
	file_modified(m);
	run_pass(m->device);
	assert_events(f, "added", "ended");
	assert_string_equal(event_at(f, 1)->reason, "no-extents");
	assert_int_equal(svc.nmonitors, 0);
	assert_calls(FAKE_REMOVE, 0); /* the group is left as it was */
	assert_fake_has(f->dev, 0, 1);
}

/* The settle delay: at once after a quiet while; else three times the
 * last pass's cost, within 2 and 50 ms. */
static void test_settle_delay_follows_pass_cost(void **state)
{
	(void)state;
	assert_float_equal(device_settle_delay(0.05, 0.04), 0.002, 1e-9);
	assert_float_equal(device_settle_delay(10.0, 0.0), 0.002, 1e-9);
	assert_float_equal(device_settle_delay(0.01, 0.0001), 0.002, 1e-9);
	assert_float_equal(device_settle_delay(0.01, 0.004), 0.012, 1e-9);
	assert_float_equal(device_settle_delay(0.049, 0.03), 0.05, 1e-9);
}

/* A change just after a pass is applied after the delay its cost sets,
 * and another change before then does not put it off. */
static void test_change_after_pass_waits_its_cost(void **state)
{
	struct fx *f = *state;
	int i;
	struct monitor *m = settled_two_extents(f, &i);
	struct device *d = m->device;
	uint64_t passes;

	run_pass(d);
	d->last_pass_s = 0.005; /* the loop's clock stands still here */
	file_modified(m);
	assert_true(d->pass_pending);
	assert_float_equal(ev_timer_remaining(loop, &d->soon), 0.015, 1e-6);
	d->last_pass_s = 0.5;
	file_modified(m);
	assert_float_equal(ev_timer_remaining(loop, &d->soon), 0.015, 1e-6);
	passes = d->passes;
	ev_timer_stop(loop, &d->soon); /* as if it fired */
	ev_invoke(loop, &d->soon, EV_TIMER);
	assert_false(d->pass_pending);
	assert_int_equal(d->passes, passes + 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, svc_setup, svc_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_several_described_then_unmarked),
		T(test_sync_refused_create_rolls_back_then_retries),
		T(test_sync_refused_descriptor_write_rolls_back),
		T(test_sync_same_error_said_once),
		T(test_create_refused_at_registration),
		T(test_create_refused_first_create),
		T(test_create_stale_prediction_rewrites_descriptor),
		T(test_create_region_made_between_creates),
		T(test_old_leader_clear_fails_retried),
		T(test_leader_freed_regroups),
		T(test_all_extents_moved_regroups),
		T(test_forged_claim_is_released_not_deleted),
		T(test_forged_claim_on_leader_released_on_regroup),
		T(test_descriptor_deleted_ends_group_deleted),
		T(test_descriptor_corrupted_ends_group_deleted),
		T(test_descriptor_moved_ends_group_deleted),
		T(test_alias_changed_elsewhere_is_followed),
		T(test_pass_unchanged_list_clean_monitor_no_work),
		T(test_pass_list_changed_plans_from_known_extents),
		T(test_group_changed_elsewhere_rereads),
		T(test_group_changed_elsewhere_reread_finds_new_extents),
		T(test_missing_member_dropped_from_descriptor),
		T(test_write_rereads_layout_once_per_interval),
		T(test_settle_delay_follows_pass_cost),
		T(test_change_after_pass_waits_its_cost),
		T(test_dirty_grown_file_reads),
		T(test_sweep_finds_change_without_event),
		T(test_sweep_finds_moved_block_and_costs_no_sync),
		T(test_change_passes_take_no_sweep_turn),
		T(test_own_changes_listed_need_no_checks),
		T(test_failed_extents_read_is_retried),
		T(test_list_eio_keeps_monitors_and_recovers),
		T(test_list_enxio_ends_every_monitor),
		T(test_list_enodev_ends_every_monitor),
		T(test_add_already_monitored_returns_existing),
		T(test_unmonitored_groups_listed),
		T(test_reregister_inode_to_path),
		T(test_reregister_path_to_inode),
		T(test_reregister_from_a_hard_link),
		T(test_reregister_with_another_file),
		T(test_add_adopts_group_made_elsewhere),
		T(test_add_reconciles_at_once),
		T(test_add_no_such_group_refused),
		T(test_create_no_extents_refused),
		T(test_create_extents_failure_refused),
		T(test_extents_all_gone_ends_monitor),
	};

	return cmocka_run_group_tests(tests, svc_group_setup,
				      svc_group_teardown);
}
