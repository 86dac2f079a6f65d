/* methods.c: the Varlink methods the supervisor serves: parameter checks,
 * permission checks, and the replies of Add, Create, Remove, List, ... */
#include "front/methods.h"
#include "dmfilemap.h"
#include "front/connection.h"
#include "front/stats.h"
#include "log.h"
#include "service/monitor.h"
#include "service/service.h"
#include "varlink.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct call {
	struct methods *ms;
	struct service *svc;
	struct conn *c;
	const struct vl_call *vc;
	int *fds;
	int nfds;
	bool fd_taken;
};

typedef char *(*method_fn)(struct call *x);


cJSON *monitor_json(const struct monitor *m)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	ok = ok && cJSON_AddNumberToObject(o, "id", (double)m->id);
	ok = ok && vl_add_text(o, "path", m->path);
	ok = ok && cJSON_AddStringToObject(o, "device",
					   m->device ? m->device->devstr : "");
	ok = ok && vl_add_text(o, "dm_name",
			       m->device ? m->device->name : "");
	ok = ok && cJSON_AddNumberToObject(o, "group_id", (double)m->group_id);
	ok = ok && (m->alias ? vl_add_text(o, "alias", m->alias)
			     : cJSON_AddNullToObject(o, "alias") != NULL);
	ok = ok && cJSON_AddStringToObject(o, "mode",
					   monitor_mode_name(m->mode));
	ok = ok && cJSON_AddNumberToObject(o, "regions", (double)m->regions);
	ok = ok && cJSON_AddStringToObject(o, "state",
					   monitor_state_name(m->state));
	ok = ok && cJSON_AddNumberToObject(o, "updates", (double)m->updates);
	ok = ok && (m->last_error
			    ? vl_add_text(o, "last_error", m->last_error)
			    : cJSON_AddNullToObject(o, "last_error") != NULL);
	ok = ok && cJSON_AddNumberToObject(o, "since", (double)m->since);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* M as a reply; ADDED (for Add, else NULL) says whether the group was
 * monitored already ("existing") and had other options ("changed"). */
static char *reply_monitor(const struct monitor *m,
			   const enum monitor_added *added, bool more)
{
	cJSON *p = cJSON_CreateObject(), *mj = monitor_json(m);

	if (!p || !mj) {
		cJSON_Delete(p);
		cJSON_Delete(mj);
		return NULL;
	}
	cJSON_AddItemToObject(p, "monitor", mj);
	if (added &&
	    (!cJSON_AddBoolToObject(p, "existing", *added != ADDED_NEW) ||
	     !cJSON_AddBoolToObject(p, "changed", *added == ADDED_CHANGED))) {
		cJSON_Delete(p);
		return NULL;
	}
	return vl_reply_format(p, more);
}

/* The fd, path and mode every registration takes. Returns NULL and fills
 * REQ, or an error reply. */
static char *file_params(struct call *x, struct monitor_req *req)
{
	const cJSON *p = x->vc->params;
	const char *mode = "inode";
	int64_t idx;

	if (x->nfds == PEER_FDS_LOST) { /* EMFILE in recvmsg */
		const char *path = "the file";
		char text[PATH_MAX + 160];
		(void)vl_param_str(p, "path", PATH_MAX, &path);
		snprintf(text, sizeof(text),
			 "cannot monitor %s: the supervisor could not receive "
			 "its descriptor: its open-files limit is reached "
			 "(raise LimitNOFILE)", path);
		return vl_error_message(DMF_ERR("LimitExceeded"), text, NULL);
	}
	if (x->nfds > DMF_FDS_MAX || x->nfds == 0 ||
	    vl_param_int(p, "fd", 0, x->nfds - 1, &idx) != 0)
		return x->nfds > 1 || x->nfds == 0
			       ? vl_error_message(DMF_ERR("BadFile"),
						  "exactly one file descriptor "
						  "must be passed with the call",
						  NULL)
			       : vl_invalid_parameter("fd");
	if (x->nfds != 1)
		return vl_error_message(DMF_ERR("BadFile"),
					"exactly one file descriptor must be "
					"passed with the call", NULL);
	if (vl_param_str(p, "path", PATH_MAX, &req->path) != 0 ||
	    !req->path[0])
		return vl_invalid_parameter("path");
	if (vl_param_str(p, "mode", 16, &mode) < 0 ||
	    (strcmp(mode, "inode") && strcmp(mode, "path")))
		return vl_invalid_parameter("mode");
	req->mode = strcmp(mode, "path") ? MODE_INODE : MODE_PATH;
	req->fd = x->fds[idx];
	return NULL;
}

static char *register_monitor(struct call *x, struct monitor_req *req)
{
	enum monitor_added added;
	struct monitor_err err;
	struct monitor *m;

	m = monitor_add(x->svc, req, &added, &err);
	if (!m)
		return vl_error_message(err.name, err.message, "path",
					req->path, NULL);
	if (added != ADDED_EXISTING)
		x->fd_taken = true;
	if (x->vc->more && m->state != MS_ENDED)
		x->c->watch_id = m->id;
	return reply_monitor(m, req->create ? NULL : &added,
			     x->vc->more && m->state != MS_ENDED);
}

static char *m_add(struct call *x)
{
	static const char *const allowed[] = { "fd", "path", "group_id", "mode",
					       NULL };
	struct monitor_req req = { 0 };
	const char *unknown = vl_param_unknown(x->vc->params, allowed);
	char *e;
	int64_t g;

	if (unknown)
		return vl_invalid_parameter(unknown);
	if ((e = file_params(x, &req)))
		return e;
	if (vl_param_int(x->vc->params, "group_id", 0, AUX_ID_MAX, &g) != 0)
		return vl_invalid_parameter("group_id");
	req.group_id = (uint64_t)g;
	return register_monitor(x, &req);
}

/* Histogram bounds in ns -> the kernel's text, in ms unless precise. */
static char *bounds_param(const cJSON *p, bool *precise, char **out)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(p, "bounds"), *it;
	char buf[DMF_BOUNDS_MAX * 24] = "";
	double last = 0;
	size_t off = 0;
	int n = 0;

	*out = NULL;
	if (!b || cJSON_IsNull(b))
		return NULL;
	if (!cJSON_IsArray(b) || cJSON_GetArraySize(b) == 0 ||
	    cJSON_GetArraySize(b) > DMF_BOUNDS_MAX)
		return vl_invalid_parameter("bounds");
	cJSON_ArrayForEach(it, b)
	{
		double v = cJSON_IsNumber(it) ? it->valuedouble : -1;
		if (v <= last || v != (double)(int64_t)v || v > 1e15)
			return vl_invalid_parameter("bounds");
		if ((int64_t)v % 1000000)
			*precise = true;
		last = v;
	}
	cJSON_ArrayForEach(it, b)
	{
		int64_t v = (int64_t)it->valuedouble;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%lld",
					n++ ? "," : "",
					(long long)(*precise ? v : v / 1000000));
	}
	if (!(*out = strdup(buf)))
		return vl_error_message(DMF_ERR("DeviceError"), "out of memory",
					NULL);
	return NULL;
}

static char *m_create(struct call *x)
{
	static const char *const allowed[] = { "fd",	  "path",   "mode",
					       "alias",	  "precise", "bounds",
					       NULL };
	struct monitor_req req = { .create = true };
	const cJSON *p = x->vc->params;
	const char *unknown = vl_param_unknown(p, allowed);
	char *e, *hist = NULL;

	if (unknown)
		return vl_invalid_parameter(unknown);
	if ((e = file_params(x, &req)))
		return e;
	if (vl_param_str(p, "alias", DMF_ALIAS_MAX, &req.alias) < 0 ||
	    (req.alias && !aux_alias_valid(req.alias)))
		return vl_invalid_parameter("alias");
	if (vl_param_bool(p, "precise", &req.precise) < 0)
		return vl_invalid_parameter("precise");
	if ((e = bounds_param(p, &req.precise, &hist)))
		return e;
	req.histogram = hist;
	if (!req.alias) /* as dmstats create --filemap does */
		req.alias = strrchr(req.path, '/') ? strrchr(req.path, '/') + 1
						   : req.path;
	e = register_monitor(x, &req);
	free(hist);
	return e;
}

static char *m_remove(struct call *x)
{
	static const char *const allowed[] = { "id", "path", "delete_group",
					       NULL };
	const cJSON *p = x->vc->params;
	const char *unknown = vl_param_unknown(p, allowed), *path = NULL;
	struct monitor_err err;
	struct monitor *m = NULL;
	bool del = false;
	int64_t id;
	int r;

	if (unknown)
		return vl_invalid_parameter(unknown);
	if ((r = vl_param_int(p, "id", 1, INT64_MAX / 2, &id)) < 0)
		return vl_invalid_parameter("id");
	if (r == 0)
		m = monitor_find_id(x->svc, (uint64_t)id);
	else if (vl_param_str(p, "path", PATH_MAX, &path) == 0)
		m = monitor_find_path(x->svc, path);
	else
		return vl_invalid_parameter(vl_param_str(p, "path", PATH_MAX, &path) < 0
					 ? "path" : "id");
	if (vl_param_bool(p, "delete_group", &del) < 0)
		return vl_invalid_parameter("delete_group");
	if (!m) {
		char msg[PATH_MAX + 64];
		if (path)
			snprintf(msg, sizeof(msg), "no monitor for %s", path);
		else
			snprintf(msg, sizeof(msg), "no monitor %lld",
				 (long long)id);
		return vl_error_message(DMF_ERR("NoSuchMonitor"), msg, "path",
					path, NULL);
	}
	char *reply = reply_monitor(m, NULL, false);
	if (monitor_remove(m, del, &err) < 0) {
		free(reply);
		return vl_error_message(err.name, err.message, "path", m->path,
					NULL);
	}
	return reply;
}

/* For methods that take no parameters. */
static const char *const no_params[] = { NULL };

/* The groups no monitor keeps (scanned again if the last scan is older
 * than UNMONITORED_FRESH seconds), as UnmonitoredGroup objects. */
#define UNMONITORED_FRESH 2.0
static cJSON *unmonitored_json(struct service *svc)
{
	struct unmonitored_set *u = &svc->unmonitored;
	cJSON *a;

	if (ev_now(svc->loop) - u->scanned_at > UNMONITORED_FRESH)
		unmonitored_scan(svc);
	if (!(a = cJSON_CreateArray()))
		return NULL;
	for (size_t i = 0; i < u->n; i++) {
		const struct unmonitored *g = &u->v[i];
		cJSON *o = cJSON_CreateObject();
		bool ok = o && cJSON_AddItemToArray(a, o);
		if (!ok)
			cJSON_Delete(o);
		ok = ok && cJSON_AddStringToObject(o, "device", g->devstr);
		ok = ok && vl_add_text(o, "dm_name", g->dm_name);
		ok = ok && cJSON_AddNumberToObject(o, "group_id",
						   (double)g->group_id);
		ok = ok && vl_add_text(o, "alias", g->alias);
		ok = ok && cJSON_AddNumberToObject(o, "regions",
						   (double)g->regions);
		ok = ok && (g->path ? vl_add_text(o, "path", g->path)
				    : cJSON_AddNullToObject(o, "path") != NULL);
		if (!ok) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static char *m_list(struct call *x)
{
	const char *unknown = vl_param_unknown(x->vc->params, no_params);
	struct monitor *m;
	cJSON *p, *a;

	if (unknown)
		return vl_invalid_parameter(unknown);
	p = cJSON_CreateObject();
	a = cJSON_CreateArray();
	if (!p || !a)
		goto nomem;
	cJSON_AddItemToObject(p, "monitors", a);
	TAILQ_FOREACH(m, &x->svc->monitors, entry)
	{
		cJSON *mj = monitor_json(m);
		if (!mj)
			goto nomem;
		cJSON_AddItemToArray(a, mj);
	}
	if (!(a = unmonitored_json(x->svc)) ||
	    !cJSON_AddItemToObject(p, "unmonitored", a)) {
		cJSON_Delete(a);
		cJSON_Delete(p);
		return NULL;
	}
	return vl_reply_format(p, false);
nomem:
	cJSON_Delete(p);
	if (!p)
		cJSON_Delete(a);
	return NULL;
}

static char *m_info(struct call *x)
{
	const char *unknown = vl_param_unknown(x->vc->params, no_params);
	const struct ioctl_counts *dc = &x->svc->counters;
	struct timespec ts;
	cJSON *p, *io, *ps;
	bool ok;

	if (unknown)
		return vl_invalid_parameter(unknown);
	p = cJSON_CreateObject();
	io = cJSON_CreateObject();
	ps = cJSON_CreateObject();
	ok = p && io && ps;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ok = ok && cJSON_AddStringToObject(p, "version", DMF_VERSION);
	ok = ok && cJSON_AddNumberToObject(p, "pid", getpid());
	ok = ok && cJSON_AddNumberToObject(
			   p, "uptime",
			   (double)(int64_t)(ts.tv_sec - x->ms->started));
	ok = ok && cJSON_AddNumberToObject(p, "monitors",
					   (double)x->svc->nmonitors);
	ok = ok && cJSON_AddNumberToObject(p, "devices",
					   (double)x->svc->devices.n);
	ok = ok && cJSON_AddNumberToObject(p, "interval_ms",
					   x->svc->devices.interval * 1000);
	ok = ok && cJSON_AddNumberToObject(io, "stats_list",
					   (double)dc->stats_list);
	ok = ok && cJSON_AddNumberToObject(io, "stats_create",
					   (double)dc->stats_create);
	ok = ok && cJSON_AddNumberToObject(io, "stats_delete",
					   (double)dc->stats_delete);
	ok = ok && cJSON_AddNumberToObject(io, "stats_set_aux",
					   (double)dc->stats_set_aux);
	ok = ok && cJSON_AddNumberToObject(io, "stats_print",
					   (double)dc->stats_print);
	ok = ok && cJSON_AddNumberToObject(io, "info",
					   (double)dc->info);
	ok = ok && cJSON_AddNumberToObject(io, "total",
					   (double)dc->total);
	ok = ok && cJSON_AddNumberToObject(ps, "total",
					   (double)x->svc->passes);
	ok = ok && cJSON_AddNumberToObject(ps, "full",
					   (double)x->svc->full_checks);
	if (!ok) {
		cJSON_Delete(p);
		cJSON_Delete(io); /* not yet in P */
		cJSON_Delete(ps);
		return NULL;
	}
	cJSON_AddItemToObject(p, "ioctls", io);
	cJSON_AddItemToObject(p, "passes", ps);
	return vl_reply_format(p, false);
}

static char *m_stats(struct call *x)
{
	return stats_call(x->svc, x->vc->params);
}

static char *m_watch(struct call *x)
{
	static const char *const allowed[] = { "id", NULL };
	const char *unknown = vl_param_unknown(x->vc->params, allowed);
	int64_t id;
	int r;

	if (unknown)
		return vl_invalid_parameter(unknown);
	if (!x->vc->more)
		return vl_error_format(VL_ERR_EXPECTED_MORE, NULL);
	if ((r = vl_param_int(x->vc->params, "id", 1, INT64_MAX / 2, &id)) < 0)
		return vl_invalid_parameter("id");
	if (r == 0 && !monitor_find_id(x->svc, (uint64_t)id)) {
		char msg[64];
		snprintf(msg, sizeof(msg), "no monitor %lld", (long long)id);
		return vl_error_message(DMF_ERR("NoSuchMonitor"), msg, NULL);
	}
	if (r == 0)
		x->c->watch_id = (uint64_t)id;
	else
		x->c->watch_all = true;
	return NULL; /* events follow as they happen */
}

static char *s_get_info(struct call *x)
{
	const char *unknown = vl_param_unknown(x->vc->params, no_params);
	cJSON *p, *ifs;

	if (unknown)
		return vl_invalid_parameter(unknown);
	p = cJSON_CreateObject();
	ifs = cJSON_CreateArray();
	if (!p || !ifs || !cJSON_AddStringToObject(p, "vendor", "dmfilemap") ||
	    !cJSON_AddStringToObject(p, "product", "dmfilemap-supervisord") ||
	    !cJSON_AddStringToObject(p, "version", DMF_VERSION) ||
	    !cJSON_AddStringToObject(p, "url",
				     "https://github.com/dmfilemap") ||
	    !cJSON_AddItemToArray(ifs, cJSON_CreateString(DMF_SERVICE)) ||
	    !cJSON_AddItemToArray(ifs, cJSON_CreateString(DMF_INTERFACE))) {
		cJSON_Delete(p);
		cJSON_Delete(ifs);
		return NULL;
	}
	cJSON_AddItemToObject(p, "interfaces", ifs);
	return vl_reply_format(p, false);
}

static const char service_description[] =
	"interface org.varlink.service\n\n"
	"method GetInfo() -> (vendor: string, product: string, "
	"version: string, url: string, interfaces: []string)\n\n"
	"method GetInterfaceDescription(interface: string) -> "
	"(description: string)\n\n"
	"error InterfaceNotFound (interface: string)\n"
	"error MethodNotFound (method: string)\n"
	"error MethodNotImplemented (method: string)\n"
	"error InvalidParameter (parameter: string)\n"
	"error PermissionDenied ()\n"
	"error ExpectedMore ()\n";

static char *s_get_description(struct call *x)
{
	const char *name = NULL, *desc;
	cJSON *p;

	if (vl_param_str(x->vc->params, "interface", 256, &name) != 0)
		return vl_invalid_parameter("interface");
	if (!strcmp(name, DMF_INTERFACE))
		desc = dmf_interface_description;
	else if (!strcmp(name, DMF_SERVICE))
		desc = service_description;
	else {
		p = cJSON_CreateObject();
		if (p)
			cJSON_AddStringToObject(p, "interface", name);
		return vl_error_format(VL_ERR_INTERFACE_NOT_FOUND, p);
	}
	p = cJSON_CreateObject();
	if (!p || !cJSON_AddStringToObject(p, "description", desc)) {
		cJSON_Delete(p);
		return NULL;
	}
	return vl_reply_format(p, false);
}

static const struct method {
	const char *name;
	method_fn fn;
	bool privileged; /* changes something: root (or our own uid) only */
} methods[] = {
	{ DMF_INTERFACE ".Add", m_add, true },
	{ DMF_INTERFACE ".Create", m_create, true },
	{ DMF_INTERFACE ".Remove", m_remove, true },
	{ DMF_INTERFACE ".List", m_list, false },
	{ DMF_INTERFACE ".Info", m_info, false },
	{ DMF_INTERFACE ".Watch", m_watch, false },
	{ DMF_INTERFACE ".Stats", m_stats, false },
	{ DMF_SERVICE ".GetInfo", s_get_info, false },
	{ DMF_SERVICE ".GetInterfaceDescription", s_get_description, false },
};

static char *not_found(const char *method)
{
	size_t ilen = (size_t)(strrchr(method, '.') - method);
	bool known = (ilen == strlen(DMF_INTERFACE) &&
		      !strncmp(method, DMF_INTERFACE, ilen)) ||
		     (ilen == strlen(DMF_SERVICE) &&
		      !strncmp(method, DMF_SERVICE, ilen));
	cJSON *p = cJSON_CreateObject();
	char iface[256];

	if (!p)
		return NULL;
	if (known) {
		cJSON_AddStringToObject(p, "method", method);
		return vl_error_format(VL_ERR_METHOD_NOT_FOUND, p);
	}
	snprintf(iface, sizeof(iface), "%.*s", (int)ilen, method);
	cJSON_AddStringToObject(p, "interface", iface);
	return vl_error_format(VL_ERR_INTERFACE_NOT_FOUND, p);
}

/* A user but root is refused a call while its clients leave too many
 * replies unread, or if the call would read more regions than its budget
 * holds: an error, or NULL to go on. */
static char *over_limits(struct call *x, const struct method *m)
{
	const char *name = strrchr(m->name, '.') + 1;
	size_t queued = conn_set_backlog(x->c->set, x->c->uid);
	char msg[256];
	double wait;

	if (queued > DMF_UID_BACKLOG_MAX) {
		snprintf(msg, sizeof(msg),
			 "%s refused for uid %u: its clients have %zu KiB of "
			 "replies unread (at most %d KiB)", name,
			 (unsigned)x->c->uid, queued / 1024,
			 DMF_UID_BACKLOG_MAX / 1024);
		return vl_error_message(DMF_ERR("LimitExceeded"), msg, NULL);
	}
	if (m->fn != m_stats ||
	    budget_take(&x->ms->budget, x->c->uid,
			stats_cost(x->svc, x->vc->params),
			ev_now(x->svc->loop), &wait))
		return NULL;
	snprintf(msg, sizeof(msg),
		 "Stats refused for uid %u: users but root may have at most %d "
		 "regions read a second; try again in %.1f s",
		 (unsigned)x->c->uid, DMF_UID_READS_PER_S, wait);
	return vl_error_message(DMF_ERR("LimitExceeded"), msg, NULL);
}

static char *call_method(struct call *x)
{
	const struct method *m = NULL;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(methods[i].name, x->vc->method))
			m = &methods[i];
	if (!m)
		return not_found(x->vc->method);
	if (m->privileged && x->c->uid != 0 && x->c->uid != geteuid()) {
		log_warnx("refused %s from pid %d uid %u", m->name,
			  (int)x->c->pid, (unsigned)x->c->uid);
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "%s refused for uid %u: only root may change monitors",
			 strrchr(m->name, '.') + 1, (unsigned)x->c->uid);
		return vl_error_message(DMF_ERR("PermissionDenied"), msg, NULL);
	}
	if (x->c->uid != 0 && x->c->uid != geteuid()) {
		char *e = over_limits(x, m);
		if (e)
			return e;
	}
	log_debug("pid %d uid %u: %s", (int)x->c->pid, (unsigned)x->c->uid,
		  m->name);
	return m->fn(x);
}

void methods_dispatch(void *arg, struct conn *c, const char *msg, int *fds,
		      int nfds)
{
	struct methods *ms = arg;
	struct call x = { ms, ms->svc, c, NULL, fds, nfds, false };
	struct vl_call vc;
	const char *why;
	char *reply;

	if (vl_call_parse(msg, &vc, &why) < 0) {
		log_debug("pid %d: bad call: %s", (int)c->pid, why);
		reply = vl_error_message(DMF_ERR("InvalidRequest"), why, NULL);
	} else {
		x.vc = &vc;
		reply = call_method(&x);
		if (vc.oneway) {
			free(reply);
			reply = NULL;
		} else if (!reply && !c->watch_all && !c->watch_id) {
			reply = vl_error_message(DMF_ERR("InvalidRequest"),
						 "out of memory", NULL);
		}
		vl_call_free(&vc);
	}
	/* descriptors the call did not keep are closed, never leaked */
	if (nfds <= DMF_FDS_MAX)
		for (int i = 0; i < nfds; i++)
			if (!(x.fd_taken && i == 0))
				close(fds[i]);
	if (reply)
		conn_send(c, reply);
}
