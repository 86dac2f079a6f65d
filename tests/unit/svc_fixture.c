/* svc_fixture.c: the monitor service through the fake dm-stats kernel, for
 * the unit tests that drive it (see svc_fixture.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/recover.h"
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "svc_fixture.h"

struct service svc;
struct ev_loop *loop;

/* ------------------------------------------------------------------ */
/* hooks                                                              */

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void on_event(void *arg, const struct monitor *m, const char *event,
		     uint64_t old_group, const char *reason,
		     const char *message)
{
	struct fx *f = arg;
	struct ev_rec *e;

	f->errors += !strcmp(event, "error");
	if (f->nev == MAXEV) {
		f->lost++;
		return;
	}
	e = &f->ev[f->nev++];
	e->monitor = m->id;
	copy_str(e->event, sizeof(e->event), event);
	e->old_group = old_group;
	copy_str(e->reason, sizeof(e->reason), reason);
	copy_str(e->message, sizeof(e->message), message);
}

static void on_changed(void *arg)
{
	((struct fx *)arg)->changed++;
}

static void on_keep_fd(void *arg, const struct monitor *m)
{
	(void)m;
	((struct fx *)arg)->keep_fd++;
}

static void on_drop_fd(void *arg, const struct monitor *m)
{
	(void)m;
	((struct fx *)arg)->drop_fd++;
}

static int on_persist(void *arg)
{
	struct fx *f = arg;

	if (f->persist < MAXPERSIST) {
		f->removes_at[f->persist] = fake_calls(FAKE_REMOVE);
		f->prints_at[f->persist] = fake_calls(FAKE_PRINT);
	}
	f->persist++;
	recover_saved(&svc); /* as the state file's save does */
	return 0;
}

/* ------------------------------------------------------------------ */
/* fixture                                                            */

int svc_group_setup(void **state)
{
	(void)state;
	loop = ev_default_loop(0); /* signal watchers need the default loop */
	return loop ? 0 : -1;
}

int svc_group_teardown(void **state)
{
	(void)state;
	ev_loop_destroy(loop);
	loop = NULL;
	return 0;
}

/* A fresh fake, directory and started service with the hooks H (their
 * arg is the fixture). */
static int setup_with(void **state, struct service_hooks h)
{
	struct fx *f = calloc(1, sizeof(*f));
	char why[256] = "";

	if (!f)
		return -1;
	fake_reset();
	snprintf(f->dir, sizeof(f->dir), "/tmp/%s.XXXXXX",
		 program_invocation_short_name);
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	f->be = fake_backend();
	service_init(&svc, loop, &f->be, 1.0);
	h.arg = f;
	svc.hooks = h;
	if (service_start(&svc, why, sizeof(why)) < 0) {
		fprintf(stderr, "service_start: %s\n", why);
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int svc_setup(void **state)
{
	return setup_with(state, (struct service_hooks){
					 .event = on_event,
					 .changed = on_changed,
					 .keep_fd = on_keep_fd,
					 .drop_fd = on_drop_fd,
				 });
}

int svc_setup_persist(void **state)
{
	return setup_with(state, (struct service_hooks){
					 .event = on_event,
					 .changed = on_changed,
					 .persist = on_persist,
				 });
}

int svc_teardown(void **state)
{
	struct fx *f = *state;

	if (!f) /* its setup failed */
		return 0;
	service_stop(&svc, "test");
	for (size_t i = 0; i < f->nfiles; i++) {
		if (!f->files[i].owned && f->files[i].fd >= 0)
			close(f->files[i].fd);
		unlink(f->files[i].path);
	}
	rmdir(f->dir);
	free(f->snap);
	fake_reset();
	free(f);
	*state = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* files                                                              */

static void write_bytes(int fd, size_t n)
{
	char buf[4096];

	memset(buf, 'x', sizeof(buf));
	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		ssize_t w = write(fd, buf, k);
		assert_true(w > 0);
		n -= (size_t)w;
	}
}

int new_file(struct fx *f, const char *name, size_t bytes)
{
	struct file *fl;
	struct stat st;
	int w;

	assert_true(f->nfiles < MAXFILES);
	fl = &f->files[f->nfiles];
	char path[sizeof(fl->path)]; /* f->dir is in *f too: no overlap */
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	memcpy(fl->path, path, sizeof(path));
	w = open(fl->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(w >= 0);
	write_bytes(w, bytes);
	assert_int_equal(close(w), 0);
	fl->fd = open(fl->path, O_RDONLY | O_CLOEXEC);
	assert_true(fl->fd >= 0);
	fl->owned = false;
	assert_int_equal(fstat(fl->fd, &st), 0);
	if (!f->dev) {
		f->dev = st.st_dev;
		assert_int_equal(fake_add_device(f->dev, DEVNAME), 0);
	}
	assert_true(st.st_dev == f->dev);
	return (int)f->nfiles++;
}

void grow_file(struct fx *f, int i, size_t bytes)
{
	int w = open(f->files[i].path, O_WRONLY | O_APPEND | O_CLOEXEC);

	assert_true(w >= 0);
	write_bytes(w, bytes);
	assert_int_equal(close(w), 0);
}

void truncate_file(struct fx *f, int i, off_t bytes)
{
	assert_int_equal(truncate(f->files[i].path, bytes), 0);
}

/* ------------------------------------------------------------------ */
/* monitors and passes                                                */

struct monitor *svc_add(struct fx *f, int i, const char *alias,
			int64_t group_id, struct ledger *l, int line)
{
	struct monitor_req req = {
		.fd = f->files[i].fd,
		.path = f->files[i].path,
		.mode = MODE_INODE,
		.create = group_id < 0,
		.group_id = group_id < 0 ? 0 : (uint64_t)group_id,
		.alias = alias,
		.ledger = l,
	};
	enum monitor_added added = ADDED_EXISTING;
	struct monitor *m = monitor_add(&svc, &req, &added, &f->err);

	at_line = line;
	if (!m) {
		print_error("line %d: monitor_add %s: %s: %s\n", line,
			    req.path, f->err.name, f->err.message);
		dump_fake(f->dev);
	}
	assert_non_null(m);
	assert_int_equal(added, ADDED_NEW);
	f->files[i].owned = true;
	return m;
}

void run_pass(struct device *d)
{
	d->set->pass(d->set->arg, d);
}

void run_check(struct device *d)
{
	if (d->swept)
		d->sweep_turn--; /* as if the clock were an interval on */
	run_pass(d);
}

void settle(struct monitor *m)
{
	run_pass(m->device);
	fake_clear_calls();
}

void file_modified(struct monitor *m)
{
	monitor_file_event(m, IN_MODIFY);
	assert_true(m->dirty);
}

struct io_counters io_counters_of(struct io e)
{
	struct io_counters c = { { 0 }, 0, NULL };

	c.v[IO_READS] = e.r;
	c.v[IO_READ_SECTORS] = e.rsect;
	c.v[IO_READ_TIME] = e.rms * NS;
	c.v[IO_WRITES] = e.w;
	c.v[IO_WRITE_SECTORS] = e.wsect;
	c.v[IO_WRITE_TIME] = e.wms * NS;
	c.v[IO_TIME] = (e.rms + e.wms) * NS;
	c.v[IO_TIME_WEIGHTED] = (e.rms + e.wms) * NS;
	c.v[IO_READ_TOTAL_TIME] = e.rms * NS;
	c.v[IO_WRITE_TOTAL_TIME] = e.wms * NS;
	return c;
}
