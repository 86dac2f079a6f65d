/* state.c: the registrations, saved atomically to the state file so that a
 * supervisor killed and started again re-adopts every monitor it can. */
#define _GNU_SOURCE
#include "front/state.h"
#include "front/atomicfile.h"
#include "core/auxdata.h"
#include "core/counters.h"
#include "core/ledger.h"
#include "dmfilemap.h"
#include "kernel/fdstore.h"
#include "kernel/killpoint.h"
#include "log.h"
#include "service/monitor.h"
#include "service/recover.h"
#include "service/service.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_DELAY 0.05 /* seconds: changes close together, one write */
#define STATE_MAX (64 * 1024 * 1024)

/* The largest number a JSON double holds exactly. */
#define JSON_INT_MAX 9007199254740992.0

/* List L of a ledger as [[ID, START, LEN, COUNTERS], ...]. */
static cJSON *regions_json(const struct ledger_list *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < l->n; i++) {
		const struct ledger_region *r = &l->v[i];
		char *text = counters_format(&r->c);
		cJSON *e = cJSON_CreateArray();
		bool ok = text && e && cJSON_AddItemToArray(a, e);
		if (!ok)
			cJSON_Delete(e);
		ok = ok && cJSON_AddItemToArray(e, cJSON_CreateNumber((double)r->id));
		ok = ok && cJSON_AddItemToArray(e, cJSON_CreateNumber((double)r->start));
		ok = ok && cJSON_AddItemToArray(e, cJSON_CreateNumber((double)r->len));
		ok = ok && cJSON_AddItemToArray(e, cJSON_CreateString(text));
		free(text);
		if (!ok) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

/* M's ledger: the counts a restart must not lose. */
static cJSON *ledger_json(const struct ledger *l)
{
	cJSON *o = cJSON_CreateObject(), *seen = regions_json(&l->seen),
	      *pending = regions_json(&l->pending);
	char *retired = counters_format(&l->retired);
	bool ok = o && seen && pending && retired;

	ok = ok && cJSON_AddStringToObject(o, "retired", retired);
	ok = ok && cJSON_AddNumberToObject(o, "carried", (double)l->carried);
	ok = ok && cJSON_AddNumberToObject(o, "resets", (double)l->resets);
	ok = ok && cJSON_AddItemToObject(o, "seen", seen) && !(seen = NULL);
	ok = ok && cJSON_AddItemToObject(o, "pending", pending) &&
	     !(pending = NULL);
	free(retired);
	cJSON_Delete(seen);
	cJSON_Delete(pending);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static bool json_uint(const cJSON *j, double max, uint64_t *v)
{
	if (!cJSON_IsNumber(j) || j->valuedouble < 0 ||
	    j->valuedouble > max || j->valuedouble != (double)(uint64_t)j->valuedouble)
		return false;
	*v = (uint64_t)j->valuedouble;
	return true;
}

/* Read a ledger list back. Returns 0, -EINVAL (malformed) or -ENOMEM. */
static int regions_from_json(const cJSON *a, struct ledger_list *l)
{
	const cJSON *e;
	int r;

	if (!cJSON_IsArray(a))
		return -EINVAL;
	cJSON_ArrayForEach(e, a)
	{
		struct ledger_region reg = { 0 };
		const char *text = cJSON_GetStringValue(cJSON_GetArrayItem(e, 3));
		if (!json_uint(cJSON_GetArrayItem(e, 0), AUX_ID_MAX, &reg.id) ||
		    !json_uint(cJSON_GetArrayItem(e, 1), JSON_INT_MAX, &reg.start) ||
		    !json_uint(cJSON_GetArrayItem(e, 2), JSON_INT_MAX, &reg.len) ||
		    counters_parse(text, true, &reg.c) < 0)
			return -EINVAL;
		r = ledger_list_add(l, &reg);
		counters_free(&reg.c);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A saved ledger J into L (ledger_free it). Returns 0 or -errno. */
static int ledger_from_json(const cJSON *j, struct ledger *l)
{
	const char *retired =
		cJSON_GetStringValue(cJSON_GetObjectItem(j, "retired"));
	int r;

	ledger_init(l);
	if (!retired || counters_parse(retired, true, &l->retired) < 0 ||
	    !json_uint(cJSON_GetObjectItem(j, "carried"), JSON_INT_MAX,
		       &l->carried) ||
	    !json_uint(cJSON_GetObjectItem(j, "resets"), JSON_INT_MAX,
		       &l->resets)) {
		ledger_free(l);
		return -EINVAL;
	}
	if ((r = regions_from_json(cJSON_GetObjectItem(j, "seen"), &l->seen)) < 0 ||
	    (r = regions_from_json(cJSON_GetObjectItem(j, "pending"),
				   &l->pending)) < 0)
		ledger_free(l);
	return r;
}

static cJSON *entry(const struct state *st, const struct monitor *m)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddNumberToObject(o, "id", (double)m->id) ||
	    !cJSON_AddStringToObject(o, "path", m->path) ||
	    !cJSON_AddNumberToObject(o, "dev", (double)m->st_dev) ||
	    !cJSON_AddNumberToObject(o, "ino", (double)m->st_ino) ||
	    !cJSON_AddNumberToObject(o, "group_id", (double)m->group_id) ||
	    !cJSON_AddStringToObject(o, "mode", monitor_mode_name(m->mode))) {
		cJSON_Delete(o);
		return NULL;
	}
	if (fdstore_enabled(st->fds)) {
		char name[64];
		fdstore_name(m->id, name, sizeof(name));
		if (!cJSON_AddStringToObject(o, "fdname", name)) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	cJSON *l = ledger_json(&m->ledger);
	if (!l || !cJSON_AddItemToObject(o, "ledger", l)) {
		cJSON_Delete(l);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}


/* Write every live monitor to PATH.tmp, then rename it over PATH. */
int state_save(struct state *st)
{
	cJSON *root = cJSON_CreateObject(), *a = cJSON_CreateArray();
	struct monitor *m;
	char *text = NULL, tmp[4200];
	int r = -ENOMEM;

	if (!st->path)
		return 0;
	if (!root || !a) {
		cJSON_Delete(a);
		goto out;
	}
	cJSON_AddNumberToObject(root, "version", 1);
	cJSON_AddStringToObject(root, "instance", st->svc->instance);
	cJSON_AddItemToObject(root, "monitors", a);
	TAILQ_FOREACH(m, &st->svc->monitors, entry)
	{
		cJSON *e = entry(st, m);
		if (!e)
			goto out;
		cJSON_AddItemToArray(a, e);
	}
	if (!(text = cJSON_PrintUnformatted(root)))
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", st->path);
	/* a newline at the end, and on disk before the rename: a state file
	 * is there after a crash, whole */
	size_t len = strlen(text);
	text[len] = '\n'; /* over the NUL: cJSON's buffer holds len + 1 */
	killpoint("state save");
	if ((r = atomicfile_write(st->path, tmp, text, len + 1, 0600, true)) < 0)
		log_warnx("cannot write %s: %s", st->path, strerror(-r));
	else
		recover_saved(st->svc); /* the marks it covers may go */
out:
	free(text);
	cJSON_Delete(root);
	return r;
}

static void save_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct state *st = (struct state *)((char *)w -
					    offsetof(struct state, timer));
	double t0;

	(void)revents;
	ev_now_update(loop);
	t0 = ev_now(loop);
	(void)state_save(st); /* said in the log; the next change retries */
	ev_now_update(loop);
	st->save_cost = ev_now(loop) - t0;
}

void state_changed(struct state *st)
{
	double delay = st->save_cost * 10;

	if (!st->path || st->frozen || ev_is_active(&st->timer))
		return;
	ev_timer_set(&st->timer, delay > STATE_DELAY ? delay : STATE_DELAY, 0.);
	ev_timer_start(st->svc->loop, &st->timer);
}

void state_freeze(struct state *st)
{
	if (!st->path)
		return;
	if (ev_is_active(&st->timer)) {
		ev_timer_stop(st->svc->loop, &st->timer);
		(void)state_save(st); /* said in the log */
	}
	st->frozen = true;
}

/* PATH's text (malloc'd), or NULL with -errno in *ERR. */
static char *read_file(const char *path, int *err)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	*err = -errno;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		*err = -errno;
		goto bad;
	}
	*err = -EINVAL; /* not a state file */
	if (!S_ISREG(st.st_mode) || st.st_size > STATE_MAX)
		goto bad;
	*err = -ENOMEM;
	if (!(buf = malloc((size_t)st.st_size + 1)))
		goto bad;
	n = read(fd, buf, (size_t)st.st_size);
	*err = n < 0 ? -errno : -EIO; /* EIO: shorter than it said */
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
/* What a crash left: the group ENTRY's monitor has now, and the counts
 * of its regions undone, from RC. */
static void recovered(const struct recovery *rc, const cJSON *e,
		      struct monitor_req *req, struct ledger *ledger)
{
	const cJSON *id = cJSON_GetObjectItem(e, "id");
	const cJSON *dev = cJSON_GetObjectItem(e, "dev");
	const struct mark_found *f;

	if (!cJSON_IsNumber(id) || id->valuedouble < 1 ||
	    id->valuedouble > JSON_INT_MAX ||
	    !(f = recovery_find(rc, (dev_t)dev->valuedouble,
				(uint64_t)id->valuedouble)))
		return;
	if (f->regrouped && f->group != req->group_id) {
		log_info("state: %s: group %" PRIu64 " was re-formed as %"
			 PRIu64 " before the crash", req->path,
			 req->group_id, f->group);
		req->group_id = f->group;
	}
	if (f->regions && ledger_retire(ledger, &f->undone, f->regions) < 0)
		log_warnx("state: %s: out of memory: the counts of %zu "
			  "regions undone are lost", req->path, f->regions);
}

static void restore_one(struct state *st, const cJSON *e,
			const struct recovery *rc)
{
	const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(e, "path"));
	const char *mode = cJSON_GetStringValue(cJSON_GetObjectItem(e, "mode"));
	const cJSON *dev = cJSON_GetObjectItem(e, "dev");
	const cJSON *ino = cJSON_GetObjectItem(e, "ino");
	const cJSON *g = cJSON_GetObjectItem(e, "group_id");
	struct monitor_req req = { 0 };
	struct monitor_err err;
	enum monitor_added added;
	struct ledger ledger;
	struct stat sb;

	ledger_init(&ledger);
	if (!path || path[0] != '/' || !mode || !cJSON_IsNumber(dev) ||
	    !cJSON_IsNumber(ino) || !cJSON_IsNumber(g) || g->valuedouble < 0 ||
	    g->valuedouble > AUX_ID_MAX) {
		log_warnx("state: ignoring a malformed entry");
		return;
	}
	const char *fdname =
		cJSON_GetStringValue(cJSON_GetObjectItem(e, "fdname"));
	/* the fd store's fd is the file itself, wherever it is now */
	req.fd = fdname ? fdstore_take(st->fds, fdname) : -1;
	req.trusted = req.fd >= 0;
	if (req.fd < 0)
		req.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (req.fd < 0 || fstat(req.fd, &sb) < 0 ||
	    (double)sb.st_dev != dev->valuedouble ||
	    (double)sb.st_ino != ino->valuedouble) {
		log_warnx("state: dropping %s (group %.0f): %s", path,
			  g->valuedouble,
			  req.fd < 0 ? strerror(errno)
				     : "no longer the same file");
		if (req.fd >= 0)
			close(req.fd);
		return;
	}
	req.path = path;
	req.batch = true; /* one @stats_list a device, not one a monitor */
	req.mode = strcmp(mode, "path") ? MODE_INODE : MODE_PATH;
	req.group_id = (uint64_t)g->valuedouble;
	const cJSON *lj = cJSON_GetObjectItem(e, "ledger");
	if (lj && ledger_from_json(lj, &ledger) < 0)
		log_warnx("state: %s (group %.0f): its saved counts are "
			  "malformed; they are lost", path, g->valuedouble);
	req.ledger = &ledger;
	recovered(rc, e, &req, &ledger);
	if (!monitor_add(st->svc, &req, &added, &err)) {
		log_warnx("state: dropping %s: %s", path, err.message);
		close(req.fd);
	} else if (added == ADDED_EXISTING) {
		close(req.fd);
	}
	ledger_free(&ledger); /* empty if the monitor took it */
}

/* A new name for this supervisor's marks, saved before any is made: a
 * mark whose name no state file keeps could never be recovered. */
static int new_instance(struct state *st, bool save)
{
	unsigned char b[MARK_INSTANCE_LEN / 2];
	ssize_t n = getrandom(b, sizeof(b), 0);

	if (n != (ssize_t)sizeof(b)) {
		log_warnx("state: cannot name this supervisor's marks: %s",
			  n < 0 ? strerror(errno) : "short read");
		return 0; /* the default name: recovered all the same */
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(st->svc->instance + 2 * i, 3, "%02x", b[i]);
	if (save)
		(void)state_save(st); /* said in the log */
	return 0;
}

/* ROOT's name for this supervisor's marks into the service; false (and a
 * new name) if it has none. */
static bool take_instance(struct state *st, const cJSON *root)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(root,
								 "instance"));

	if (!s || strlen(s) != MARK_INSTANCE_LEN ||
	    strspn(s, "0123456789abcdef") != MARK_INSTANCE_LEN) {
		(void)new_instance(st, false); /* saved after the restore */
		return false;
	}
	memcpy(st->svc->instance, s, MARK_INSTANCE_LEN + 1);
	return true;
}

int state_init(struct state *st, struct service *svc, struct fdstore *fds,
	       const char *path)
{
	struct recovery rc = { 0 };
	cJSON *root, *e;
	char *text;
	int n = 0, r;

	memset(st, 0, sizeof(*st));
	st->svc = svc;
	st->fds = fds;
	if (!(st->path = strdup(path)))
		return -ENOMEM;
	ev_timer_init(&st->timer, save_cb, STATE_DELAY, 0.);
	service_ids_above(svc, fdstore_max_id(fds));
	if (!(text = read_file(path, &r))) {
		if (r != -ENOENT)
			log_warnx("state: cannot read %s: %s", path,
				  strerror(-r));
		fdstore_release_unused(fds);
		return new_instance(st, true);
	}
	root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsArray(cJSON_GetObjectItem(root, "monitors"))) {
		log_warnx("state: %s is not a state file; ignoring it", path);
		cJSON_Delete(root);
		return new_instance(st, true);
	}
	bool named = take_instance(st, root);
	if (named && recover_devices(svc, &rc) < 0)
		log_warnx("state: out of memory: a crash's half-done updates "
			  "are not recovered");
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "monitors"))
	{
		restore_one(st, e, &rc);
		n++;
	}
	recovery_free(&rc);
	cJSON_Delete(root);
	if (!named)
		(void)state_save(st); /* the new name, before any mark */
	fdstore_release_unused(fds);
	log_info("state: %zu of %d monitors re-adopted from %s",
		 svc->nmonitors, n, path);
	state_changed(st); /* the dropped ones leave the file too */
	return 0;
}

void state_shutdown(struct state *st)
{
	if (st->path && ev_is_active(&st->timer))
		ev_timer_stop(st->svc->loop, &st->timer);
	free(st->path);
	st->path = NULL;
}
