/* state.c: the registrations, saved atomically to the state file so that a
 * supervisor killed and started again re-adopts every monitor it can. */
#define _GNU_SOURCE
#include "state.h"
#include "device.h"
#include "dmfilemap.h"
#include "fdstore.h"
#include "log.h"
#include "monitor.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_DELAY 0.05 /* seconds: changes close together, one write */
#define STATE_MAX (64 * 1024 * 1024)

static char *state_path;
static ev_timer save_timer;
static bool frozen; /* shutting down: keep the file as it is */

static cJSON *entry(const struct monitor *m)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "path", m->path) ||
	    !cJSON_AddNumberToObject(o, "dev", (double)m->st_dev) ||
	    !cJSON_AddNumberToObject(o, "ino", (double)m->st_ino) ||
	    !cJSON_AddNumberToObject(o, "group_id", (double)m->group_id) ||
	    !cJSON_AddStringToObject(o, "mode", monitor_mode_name(m->mode))) {
		cJSON_Delete(o);
		return NULL;
	}
	if (fdstore_enabled()) {
		char name[64];
		fdstore_name(m, name, sizeof(name));
		if (!cJSON_AddStringToObject(o, "fdname", name)) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write every live monitor to PATH.tmp, then rename it over PATH. */
int state_save(void)
{
	cJSON *root = cJSON_CreateObject(), *a = cJSON_CreateArray();
	struct monitor *m;
	char *text = NULL, tmp[4200];
	int fd = -1, r = -1;

	if (!state_path)
		return 0;
	if (!root || !a) {
		cJSON_Delete(a);
		goto out;
	}
	cJSON_AddNumberToObject(root, "version", 1);
	cJSON_AddItemToObject(root, "monitors", a);
	TAILQ_FOREACH(m, &monitors, entry)
	{
		cJSON *e = entry(m);
		if (!e)
			goto out;
		cJSON_AddItemToArray(a, e);
	}
	if (!(text = cJSON_PrintUnformatted(root)))
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 ||
	    write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		log_warn("cannot write %s", tmp);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		log_warn("cannot write %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, state_path) < 0) {
		log_warn("cannot rename %s to %s", tmp, state_path);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	cJSON_Delete(root);
	return r;
}

/* How long the last save took: with many monitors a save is long, and
 * saves are then spaced so that they take at most a tenth of the time. */
static double save_cost;

static void save_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	double t0;

	(void)w;
	(void)revents;
	ev_now_update(loop);
	t0 = ev_now(loop);
	state_save();
	ev_now_update(loop);
	save_cost = ev_now(loop) - t0;
}

void state_changed(void)
{
	if (!state_path || frozen || ev_is_active(&save_timer))
		return;
	ev_timer_set(&save_timer,
		     save_cost * 10 > STATE_DELAY ? save_cost * 10 : STATE_DELAY,
		     0.);
	ev_timer_start(EV_DEFAULT, &save_timer);
}

void state_freeze(void)
{
	if (!state_path)
		return;
	if (ev_is_active(&save_timer)) {
		ev_timer_stop(EV_DEFAULT, &save_timer);
		state_save();
	}
	frozen = true;
}

static char *read_file(const char *path)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > STATE_MAX ||
	    !(buf = malloc((size_t)st.st_size + 1)))
		goto bad;
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size)
		goto bad;
	buf[n] = '\0';
	close(fd);
	return buf;
bad:
	free(buf);
	close(fd);
	return NULL;
}

/* Re-adopt one saved registration: only the same file (device and inode)
 * at the saved path, and only a group that still exists. */
static void restore_one(struct ev_loop *loop, const cJSON *e)
{
	const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(e, "path"));
	const char *mode = cJSON_GetStringValue(cJSON_GetObjectItem(e, "mode"));
	const cJSON *dev = cJSON_GetObjectItem(e, "dev");
	const cJSON *ino = cJSON_GetObjectItem(e, "ino");
	const cJSON *g = cJSON_GetObjectItem(e, "group_id");
	struct monitor_req req = { 0 };
	struct monitor_err err;
	struct stat st;
	bool existing;

	if (!path || path[0] != '/' || !mode || !cJSON_IsNumber(dev) ||
	    !cJSON_IsNumber(ino) || !cJSON_IsNumber(g) || g->valuedouble < 0 ||
	    g->valuedouble > AUX_ID_MAX) {
		log_warnx("state: ignoring a malformed entry");
		return;
	}
	const char *fdname =
		cJSON_GetStringValue(cJSON_GetObjectItem(e, "fdname"));
	/* the fd store's fd is the file itself, wherever it is now */
	req.fd = fdname ? fdstore_take(fdname) : -1;
	req.trusted = req.fd >= 0;
	if (req.fd < 0)
		req.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (req.fd < 0 || fstat(req.fd, &st) < 0 ||
	    (double)st.st_dev != dev->valuedouble ||
	    (double)st.st_ino != ino->valuedouble) {
		log_warnx("state: dropping %s (group %.0f): %s", path,
			  g->valuedouble,
			  req.fd < 0 ? strerror(errno)
				     : "no longer the same file");
		if (req.fd >= 0)
			close(req.fd);
		return;
	}
	req.path = path;
	req.mode = strcmp(mode, "path") ? MODE_INODE : MODE_PATH;
	req.group_id = (uint64_t)g->valuedouble;
	if (!monitor_add(loop, &req, &existing, &err)) {
		log_warnx("state: dropping %s: %s", path, err.message);
		close(req.fd);
	} else if (existing) {
		close(req.fd);
	}
}

int state_init(struct ev_loop *loop, const char *path)
{
	cJSON *root, *e;
	char *text;
	int n = 0;

	if (!(state_path = strdup(path)))
		return -1;
	ev_timer_init(&save_timer, save_cb, STATE_DELAY, 0.);
	monitor_ids_above(fdstore_max_id());
	if (!(text = read_file(path))) {
		if (errno != ENOENT)
			log_warn("state: cannot read %s", path);
		fdstore_release_unused();
		return 0;
	}
	root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsArray(cJSON_GetObjectItem(root, "monitors"))) {
		log_warnx("state: %s is not a state file; ignoring it", path);
		cJSON_Delete(root);
		return 0;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "monitors"))
	{
		restore_one(loop, e);
		n++;
	}
	cJSON_Delete(root);
	fdstore_release_unused();
	log_info("state: %zu of %d monitors re-adopted from %s", nmonitors, n,
		 path);
	state_changed(); /* the dropped ones leave the file too */
	return 0;
}

void state_shutdown(void)
{
	free(state_path);
	state_path = NULL;
}
