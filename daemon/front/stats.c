/* stats.c: the Stats method: the monitors it names, and each one's file's
 * I/O totals, read from the kernel and its ledger, as FileStats. */
#include "front/stats.h"
#include "core/counters.h"
#include "service/device.h"
#include "service/monitor.h"
#include "dmfilemap.h"
#include "service/service.h"
#include "service/tally.h"
#include "varlink.h"

#include <limits.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SECTOR_BYTES 512
#define BOUNDS_MAX 1024

/* V as a JSON integer, exactly (a double would round past 2^53). */
static bool add_u64(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cJSON_AddRawToObject(o, key, buf) != NULL;
}

static cJSON *u64_array(const uint64_t *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++) {
		char buf[24];
		cJSON *e;
		snprintf(buf, sizeof(buf), "%" PRIu64, v[i]);
		if (!(e = cJSON_CreateRaw(buf)) || !cJSON_AddItemToArray(a, e)) {
			cJSON_Delete(e);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static bool add_histogram(cJSON *o, const struct io_counters *c,
			  const uint64_t *bounds, size_t n)
{
	cJSON *h, *b, *k;

	if (!n || c->nbuckets != n + 1)
		return cJSON_AddNullToObject(o, "histogram") != NULL;
	h = cJSON_CreateObject();
	b = u64_array(bounds, n);
	k = u64_array(c->bucket, c->nbuckets);
	if (!h || !b || !k || !cJSON_AddItemToObject(h, "bounds_ns", b) ||
	    (b = NULL, !cJSON_AddItemToObject(h, "counts", k)) ||
	    (k = NULL, !cJSON_AddItemToObject(o, "histogram", h))) {
		cJSON_Delete(b);
		cJSON_Delete(k);
		cJSON_Delete(h);
		return false;
	}
	return true;
}

static bool add_counters(cJSON *o, const struct io_counters *c)
{
	static const struct {
		const char *key;
		int field;
		uint64_t scale;
	} keys[] = {
		{ "reads", IO_READS, 1 },
		{ "reads_merged", IO_READS_MERGED, 1 },
		{ "read_bytes", IO_READ_SECTORS, SECTOR_BYTES },
		{ "read_time_ns", IO_READ_TIME, 1 },
		{ "writes", IO_WRITES, 1 },
		{ "writes_merged", IO_WRITES_MERGED, 1 },
		{ "write_bytes", IO_WRITE_SECTORS, SECTOR_BYTES },
		{ "write_time_ns", IO_WRITE_TIME, 1 },
		{ "in_flight", IO_IN_FLIGHT, 1 },
		{ "io_time_ns", IO_TIME, 1 },
		{ "io_time_weighted_ns", IO_TIME_WEIGHTED, 1 },
		{ "read_busy_ns", IO_READ_TOTAL_TIME, 1 },
		{ "write_busy_ns", IO_WRITE_TOTAL_TIME, 1 },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uint64_t v = c->v[keys[i].field];
		if (v > UINT64_MAX / keys[i].scale)
			v = UINT64_MAX / keys[i].scale; /* saturate */
		if (!add_u64(o, keys[i].key, v * keys[i].scale))
			return false;
	}
	return true;
}

cJSON *stats_file_json(struct monitor *m, char *why, size_t whylen)
{
	uint64_t bounds[BOUNDS_MAX];
	struct io_counters c;
	size_t nb;
	cJSON *o;
	bool ok;
	int r;

	if ((r = tally_read(m, &c, bounds, BOUNDS_MAX, &nb, why, whylen)) < 0)
		return NULL;
	if (r == 1) /* a reset moved counts into the ledger: save them */
		monitor_registration_changed(m);
	o = cJSON_CreateObject();
	ok = o != NULL;
	ok = ok && cJSON_AddNumberToObject(o, "id", (double)m->id);
	ok = ok && vl_add_text(o, "path", m->path);
	ok = ok && (m->alias ? vl_add_text(o, "alias", m->alias)
			     : cJSON_AddNullToObject(o, "alias") != NULL);
	ok = ok && cJSON_AddStringToObject(o, "device", m->device->devstr);
	ok = ok && vl_add_text(o, "dm_name", m->device->name);
	ok = ok && cJSON_AddNumberToObject(o, "group_id", (double)m->group_id);
	ok = ok && cJSON_AddNumberToObject(o, "regions", (double)m->regions);
	ok = ok && add_counters(o, &c);
	ok = ok && add_u64(o, "carried_regions", m->ledger.carried);
	ok = ok && add_u64(o, "resets", m->ledger.resets);
	ok = ok && add_histogram(o, &c, bounds, nb);
	counters_free(&c);
	if (!ok) {
		snprintf(why, whylen, "out of memory");
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Add monitor M's FileStats to array A. NULL, or an error reply. */
static char *stats_of(struct monitor *m, cJSON *a)
{
	char why[512];
	cJSON *o = stats_file_json(m, why, sizeof(why));

	if (!o)
		return vl_error_message(DMF_ERR("DeviceError"), why, "path",
					m->path, NULL);
	if (!cJSON_AddItemToArray(a, o)) {
		cJSON_Delete(o);
		return vl_error_message(DMF_ERR("DeviceError"), "out of memory",
					NULL);
	}
	return NULL;
}

/* The monitor named by item IT of "ids" or "paths", or an error reply. */
static char *stats_named(struct service *svc, const cJSON *it, bool by_id,
			 struct monitor **m)
{
	char msg[PATH_MAX + 64];

	if (by_id) {
		double v = cJSON_IsNumber(it) ? it->valuedouble : -1;
		/* ids are below 2^62, which a double holds exactly */
		if (v < 1 || v >= 4611686018427387904.0 || v != (double)(int64_t)v)
			return vl_invalid_parameter("ids");
		if ((*m = monitor_find_id(svc, (uint64_t)v)))
			return NULL;
		snprintf(msg, sizeof(msg), "no monitor %.0f", v);
		return vl_error_message(DMF_ERR("NoSuchMonitor"), msg, NULL);
	}
	const char *path = cJSON_GetStringValue(it);
	if (!path || !path[0] || strlen(path) >= PATH_MAX)
		return vl_invalid_parameter("paths");
	if ((*m = monitor_find_path(svc, path)))
		return NULL;
	snprintf(msg, sizeof(msg), "no monitor for %s", path);
	return vl_error_message(DMF_ERR("NoSuchMonitor"), msg, "path", path,
				NULL);
}

double stats_cost(const struct service *svc, const cJSON *p)
{
	static const char *const lists[] = { "ids", "paths" };
	const struct monitor *m;
	double all = 0, named = 0;
	bool some = false;

	TAILQ_FOREACH(m, &svc->monitors, entry)
		all += m->regions ? (double)m->regions : 1;
	for (int k = 0; k < 2; k++) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, lists[k]);
		if (cJSON_IsArray(l)) {
			some = true;
			named += cJSON_GetArraySize(l);
		}
	}
	if (!some)
		return all;
	/* as many regions a file as the files have on average */
	return svc->nmonitors ? named * all / (double)svc->nmonitors : named;
}

char *stats_call(struct service *svc, const cJSON *p)
{
	static const char *const allowed[] = { "ids", "paths", NULL };
	static const char *const lists[] = { "ids", "paths" };
	const char *unknown = vl_param_unknown(p, allowed);
	cJSON *reply, *a;
	struct monitor *m;
	bool named = false;
	char *e = NULL;

	if (unknown)
		return vl_invalid_parameter(unknown);
	reply = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(reply, "files");
	if (!reply || !a) {
		cJSON_Delete(reply);
		return NULL;
	}
	for (int k = 0; k < 2 && !e; k++) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, lists[k]), *it;
		if (!l || cJSON_IsNull(l))
			continue;
		if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) > DMF_MONITORS_MAX) {
			e = vl_invalid_parameter(lists[k]);
			break;
		}
		named = true;
		cJSON_ArrayForEach(it, l)
			if ((e = stats_named(svc, it, k == 0, &m)) ||
			    (e = stats_of(m, a)))
				break;
	}
	if (!named)
		TAILQ_FOREACH(m, &svc->monitors, entry)
			if ((e = stats_of(m, a)))
				break;
	if (e) {
		cJSON_Delete(reply);
		return e;
	}
	return vl_reply_format(reply, false);
}
