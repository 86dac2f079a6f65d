/* stats.c: dmfilemapctl stats: the monitored files' I/O totals, or their
 * rates over intervals in iostat -x's columns, as text or JSON. */
#define _GNU_SOURCE
#include "client.h"
#include "ctl.h"
#include "dmfilemap.h"
#include "peer.h"
#include "rawjson.h"
#include "varlink.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


/* The counters the text forms use, in FileStats. */
enum {
	ST_READS,
	ST_READS_MERGED,
	ST_READ_BYTES,
	ST_READ_TIME,
	ST_WRITES,
	ST_WRITES_MERGED,
	ST_WRITE_BYTES,
	ST_WRITE_TIME,
	ST_IN_FLIGHT,
	ST_IO_TIME,
	ST_IO_WEIGHTED,
	ST_N
};
static const char *const st_keys[ST_N] = {
	"reads",	 "reads_merged",  "read_bytes", "read_time_ns",
	"writes",	 "writes_merged", "write_bytes", "write_time_ns",
	"in_flight",	 "io_time_ns",	  "io_time_weighted_ns",
};

struct file_sample {
	double id;
	char *path;
	double v[ST_N];
};

/* One reading of every file asked for. */
struct sample {
	struct file_sample *f;
	size_t n, cap;
	size_t *by_id; /* indices into F, by id */
	double mono, real; /* when it was taken, in seconds */
};

struct stats_opts {
	char **paths; /* absolute; or NULL and IDS */
	unsigned long long *ids;
	size_t nnames;
	size_t *batch_end; /* call K asks for names [end[K-1], end[K]) */
	size_t nbatches;
	bool json;
	double interval; /* seconds; 0: the totals, once */
	unsigned long long count; /* reports; 0: until interrupted */
};

/* Calls are at most DMF_MSG_MAX bytes: many names take several. */
#define STATS_CALL_BUDGET (DMF_MSG_MAX - 1024)

/* Bytes of S as a JSON string, as cJSON prints it. */
static size_t json_str_len(const char *s)
{
	size_t n = 2;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch && strchr("\"\\\b\f\n\r\t", ch))
			n += 2;
		else if (ch < 0x20)
			n += 6;
		else
			n++;
	}
	return n;
}

static void stats_batches(struct stats_opts *o)
{
	size_t used = 0, in_call = 0;

	o->nbatches = 0;
	if (!(o->batch_end = malloc((o->nnames + 1) * sizeof(size_t))))
		fail("out of memory");
	for (size_t i = 0; i < o->nnames; i++) {
		char digits[24];
		size_t len;
		if (o->paths) {
			len = json_str_len(o->paths[i]) + 1;
		} else {
			snprintf(digits, sizeof(digits), "%llu", o->ids[i]);
			len = strlen(digits) + 1;
		}
		if (in_call && (used + len > STATS_CALL_BUDGET ||
				in_call == DMF_MONITORS_MAX)) {
			o->batch_end[o->nbatches++] = i;
			used = in_call = 0;
		}
		used += len;
		in_call++;
	}
	o->batch_end[o->nbatches++] = o->nnames; /* no name: one call */
}

/* The parameters of call K. */
static cJSON *stats_params(const struct stats_opts *o, size_t k)
{
	size_t from = k ? o->batch_end[k - 1] : 0, to = o->batch_end[k];
	cJSON *p, *a;

	if (!o->nnames)
		return NULL;
	p = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(p, o->paths ? "paths" : "ids");
	if (!p || !a)
		fail("out of memory");
	for (size_t i = from; i < to; i++) {
		cJSON *e = o->paths ? cJSON_CreateString(o->paths[i])
				    : cJSON_CreateNumber((double)o->ids[i]);
		if (!e || !cJSON_AddItemToArray(a, e))
			fail("out of memory");
	}
	return p;
}

/* One Stats call on C: its reply in R, its text in *MSG (to free). Any
 * failure is said ("cannot read statistics [of PATH]: WHY"); exits 1. */
static void stats_call(struct client *c, cJSON *params, struct vl_reply *r,
		       char **msg)
{
	char buf[1024];
	const char *path;
	int e, n;

	if ((e = client_send(c, DMF_INTERFACE ".Stats", params, -1, false)) < 0)
		goto transport;
	n = peer_recv_blocking(&c->peer, msg);
	if (n <= 0) {
		e = n == 0 ? -EPIPE : -errno;
		goto transport;
	}
	if (vl_reply_parse(*msg, r) < 0) {
		free(*msg);
		fail("cannot read statistics: %s", strerror(EPROTO));
	}
	if (!r->error)
		return;
	if (!strcmp(r->error, VL_ERR_INVALID_PARAMETER))
		fail("cannot read statistics: invalid parameter: %s",
		     cJSON_GetStringValue(
			     cJSON_GetObjectItem(r->params, "parameter")));
	path = cJSON_GetStringValue(cJSON_GetObjectItem(r->params, "path"));
	if (path)
		fail("cannot read statistics of %s: %s", path,
		     client_error_text(r, buf, sizeof(buf)));
	fail("cannot read statistics: %s",
	     client_error_text(r, buf, sizeof(buf)));
transport:
	fail("cannot read statistics: %s",
	     e == -EPIPE || e == -ECONNRESET
		     ? "the supervisor closed the connection"
		     : strerror(-e));
}

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct sample *sort_sample; /* for by_id_cmp */

static int by_id_cmp(const void *a, const void *b)
{
	double x = sort_sample->f[*(const size_t *)a].id;
	double y = sort_sample->f[*(const size_t *)b].id;

	return (x > y) - (x < y);
}

/* The file with id ID in S, or NULL. */
static const struct file_sample *sample_find(const struct sample *s, double id)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		double v = s->f[s->by_id[mid]].id;
		if (v == id)
			return &s->f[s->by_id[mid]];
		if (v < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void sample_free(struct sample *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->f[i].path);
	free(s->f);
	free(s->by_id);
	memset(s, 0, sizeof(*s));
}

/* Read the files O names (or every monitor) into S; with RAW, also write
 * the FileStats objects there as received, comma-separated. */
static void stats_sample(struct client *c, const struct stats_opts *o,
			 struct sample *s, FILE *raw)
{
	bool first = true;

	memset(s, 0, sizeof(*s));
	s->mono = now(CLOCK_MONOTONIC);
	s->real = now(CLOCK_REALTIME);
	for (size_t k = 0; k < o->nbatches; k++) {
		const cJSON *files, *f;
		struct vl_reply r;
		char *msg;

		stats_call(c, stats_params(o, k), &r, &msg);
		files = cJSON_GetObjectItem(r.params, "files");
		if (!cJSON_IsArray(files))
			fail("cannot read statistics: the reply has no files");
		cJSON_ArrayForEach(f, files)
		{
			struct file_sample *x;
			const char *path;
			if (s->n == s->cap) {
				size_t ncap = s->cap ? 2 * s->cap : 16;
				void *v = realloc(s->f, ncap * sizeof(*s->f));
				if (!v)
					fail("out of memory");
				s->f = v;
				s->cap = ncap;
			}
			x = &s->f[s->n++];
			x->id = num(f, "id");
			path = cJSON_GetStringValue(cJSON_GetObjectItem(f, "path"));
			if (!(x->path = strdup(path ? path : "")))
				fail("out of memory");
			for (int i = 0; i < ST_N; i++)
				x->v[i] = num(f, st_keys[i]);
		}
		if (raw) {
			const char *p = json_member(msg, "parameters");
			const char *a = p ? json_member(p, "files") : NULL;
			const char *in, *end;
			if (!a || *a != '[')
				fail("cannot read statistics: the reply has "
				     "no files");
			in = json_ws(a + 1);
			end = json_skip(a) - 1; /* at the ']' */
			while (end > in && strchr(" \t\r\n", end[-1]))
				end--;
			if (end > in) {
				if (!first)
					fputc(',', raw);
				fwrite(in, 1, (size_t)(end - in), raw);
				first = false;
			}
		}
		vl_reply_free(&r);
		free(msg);
	}
	if (!(s->by_id = malloc((s->n + 1) * sizeof(size_t))))
		fail("out of memory");
	for (size_t i = 0; i < s->n; i++)
		s->by_id[i] = i;
	sort_sample = s;
	qsort(s->by_id, s->n, sizeof(size_t), by_id_cmp);
}

/* The totals, once: a table, or the FileStats as received. */
static void stats_once(struct client *c, const struct stats_opts *o)
{
	struct sample s;
	char *buf = NULL;
	size_t len = 0;
	FILE *raw = NULL;

	if (o->json && !(raw = open_memstream(&buf, &len)))
		fail("out of memory");
	stats_sample(c, o, &s, raw);
	if (raw) {
		if (fclose(raw))
			fail("out of memory");
		printf("{\"files\":[%s]}\n", buf);
		free(buf);
		sample_free(&s);
		return;
	}
	printf("%-5s %-10s %-12s %-10s %-12s %-8s %-12s %s\n", "ID", "READS",
	       "RKB", "WRITES", "WKB", "INFLIGHT", "IO_MS", "PATH");
	for (size_t i = 0; i < s.n; i++) {
		const struct file_sample *f = &s.f[i];
		printf("%-5.0f %-10.0f %-12.0f %-10.0f %-12.0f %-8.0f %-12.0f %s\n",
		       f->id, f->v[ST_READS], floor(f->v[ST_READ_BYTES] / 1024),
		       f->v[ST_WRITES], floor(f->v[ST_WRITE_BYTES] / 1024),
		       f->v[ST_IN_FLIGHT], floor(f->v[ST_IO_TIME] / 1e6),
		       f->path);
	}
	sample_free(&s);
}

/* The rates of a file over an interval, as iostat -x has them. */
enum {
	RT_R_S,
	RT_W_S,
	RT_RKB_S,
	RT_WKB_S,
	RT_RRQM_S,
	RT_WRQM_S,
	RT_R_AWAIT,
	RT_W_AWAIT,
	RT_AQU_SZ,
	RT_UTIL,
	RT_N
};
static const char *const rt_keys[RT_N] = {
	"r_s",	  "w_s",	"rkb_s",      "wkb_s",	"rrqm_s",
	"wrqm_s", "r_await_ms", "w_await_ms", "aqu_sz", "util_pct",
};

static void rates(const struct file_sample *a, const struct file_sample *b,
		  double dt, double out[RT_N])
{
	double d[ST_N], dt_ns = dt * 1e9;

	for (int i = 0; i < ST_N; i++) /* every counter but in_flight grows */
		d[i] = b->v[i] > a->v[i] ? b->v[i] - a->v[i] : 0;
	out[RT_R_S] = d[ST_READS] / dt;
	out[RT_W_S] = d[ST_WRITES] / dt;
	out[RT_RKB_S] = d[ST_READ_BYTES] / 1024 / dt;
	out[RT_WKB_S] = d[ST_WRITE_BYTES] / 1024 / dt;
	out[RT_RRQM_S] = d[ST_READS_MERGED] / dt;
	out[RT_WRQM_S] = d[ST_WRITES_MERGED] / dt;
	out[RT_R_AWAIT] = d[ST_READS] ? d[ST_READ_TIME] / 1e6 / d[ST_READS] : 0;
	out[RT_W_AWAIT] =
		d[ST_WRITES] ? d[ST_WRITE_TIME] / 1e6 / d[ST_WRITES] : 0;
	out[RT_AQU_SZ] = d[ST_IO_WEIGHTED] / dt_ns;
	out[RT_UTIL] = fmin(100, d[ST_IO_TIME] / dt_ns * 100);
}

/* V as a JSON number with at most PREC decimals, trailing zeros cut. */
static cJSON *json_fixed(double v, int prec)
{
	char buf[400];
	size_t n;

	if (!(v > 0) || !isfinite(v))
		v = 0;
	snprintf(buf, sizeof(buf), "%.*f", prec, v);
	if (strchr(buf, '.')) {
		n = strlen(buf);
		while (buf[n - 1] == '0')
			buf[--n] = '\0';
		if (buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	return cJSON_CreateRaw(buf);
}

static void report_json(const struct sample *a, const struct sample *b,
			double dt)
{
	cJSON *o = cJSON_CreateObject(), *files;
	bool ok = o != NULL;

	ok = ok && cJSON_AddItemToObject(o, "time", json_fixed(b->real, 6));
	ok = ok && cJSON_AddItemToObject(o, "interval", json_fixed(dt, 6));
	ok = ok && (files = cJSON_AddArrayToObject(o, "files"));
	for (size_t i = 0; ok && i < b->n; i++) {
		const struct file_sample *y = &b->f[i];
		const struct file_sample *x = sample_find(a, y->id);
		double r[RT_N];
		cJSON *f;
		if (!x) /* new: shown from its second sample */
			continue;
		rates(x, y, dt, r);
		ok = (f = cJSON_CreateObject()) &&
		     cJSON_AddItemToArray(files, f) &&
		     cJSON_AddNumberToObject(f, "id", y->id) &&
		     cJSON_AddStringToObject(f, "path", y->path);
		for (int k = 0; ok && k < RT_N; k++)
			ok = cJSON_AddItemToObject(f, rt_keys[k],
						   json_fixed(r[k], 6));
	}
	if (!ok)
		fail("out of memory");
	print_json(o);
	cJSON_Delete(o);
}

static void report_text(const struct sample *a, const struct sample *b,
			double dt)
{
	printf("%-5s %8s %8s %10s %10s %8s %8s %8s %8s %7s %6s %s\n", "ID",
	       "r/s", "w/s", "rkB/s", "wkB/s", "rrqm/s", "wrqm/s", "r_await",
	       "w_await", "aqu-sz", "%util", "PATH");
	for (size_t i = 0; i < b->n; i++) {
		const struct file_sample *y = &b->f[i];
		const struct file_sample *x = sample_find(a, y->id);
		double r[RT_N];
		if (!x)
			continue;
		rates(x, y, dt, r);
		printf("%-5.0f %8.2f %8.2f %10.2f %10.2f %8.2f %8.2f %8.2f %8.2f "
		       "%7.2f %6.2f %s\n",
		       y->id, r[RT_R_S], r[RT_W_S], r[RT_RKB_S], r[RT_WKB_S],
		       r[RT_RRQM_S], r[RT_WRQM_S], r[RT_R_AWAIT], r[RT_W_AWAIT],
		       r[RT_AQU_SZ], r[RT_UTIL], y->path);
	}
}

static volatile sig_atomic_t stats_stop;

static void on_stop(int sig)
{
	(void)sig;
	stats_stop = 1;
}

/* Sleep until DEADLINE (CLOCK_MONOTONIC, seconds); false if told to stop. */
static bool sleep_until(double deadline)
{
	struct timespec ts;

	ts.tv_sec = (time_t)deadline;
	ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_sec++, ts.tv_nsec -= 1000000000L;
	while (!stats_stop) {
		int e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
					NULL);
		if (e == 0)
			return !stats_stop;
		if (e != EINTR)
			fail("cannot wait: %s", strerror(e));
	}
	return false;
}

/* A sample, then every O->interval seconds a report of the rates since
 * the last one; a signal ends it after the report in progress. */
static void stats_every(struct client *c, const struct stats_opts *o)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct sample prev, cur;
	bool tty = isatty(STDOUT_FILENO);
	double deadline;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: the sleep ends */
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	stats_sample(c, o, &prev, NULL);
	deadline = prev.mono;
	for (unsigned long long n = 0; !o->count || n < o->count; n++) {
		double t;
		deadline += o->interval;
		/* a sample that took longer than the interval: next tick */
		for (t = now(CLOCK_MONOTONIC); deadline < t;)
			deadline += o->interval;
		if (!sleep_until(deadline))
			break;
		stats_sample(c, o, &cur, NULL);
		t = cur.mono - prev.mono;
		if (o->json) {
			report_json(&prev, &cur, t);
		} else {
			if (tty && n)
				putchar('\n');
			report_text(&prev, &cur, t);
		}
		fflush(stdout);
		sample_free(&prev);
		prev = cur;
		if (stats_stop)
			break;
	}
	sample_free(&prev);
}

/* "1", "0.5", ".25": decimal seconds. */
static double parse_interval(const char *s)
{
	size_t digits = strspn(s, "0123456789"), frac = 0;
	double v;

	if (s[digits] == '.')
		frac = strspn(s + digits + 1, "0123456789") + 1;
	if (s[digits + frac] || digits + frac == 0 || (!digits && frac == 1))
		usage_error("bad --interval (seconds, more than 0, at most "
			    "3600): %s", s);
	v = strtod(s, NULL);
	if (!(v > 0) || v > 3600)
		usage_error("bad --interval (seconds, more than 0, at most "
			    "3600): %s", s);
	return v;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "id", required_argument, NULL, 'i' },
		{ "interval", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct stats_opts o = { 0 };
	const char *count = NULL;
	struct client c;
	size_t nids = 0;
	char *end;
	int opt;

	if (!(o.ids = malloc((size_t)argc * sizeof(*o.ids))))
		fail("out of memory");
	opterr = 0; /* said below, in one line naming the option */
	while ((opt = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		switch (opt) {
		case 'j': o.json = true; break;
		case 'i': {
			errno = 0;
			unsigned long long n = strtoull(optarg, &end, 10);
			if (errno || *end || optarg[0] < '0' || optarg[0] > '9' ||
			    n == 0 || n > (1ULL << 53))
				usage_error("bad monitor id: %s", optarg);
			o.ids[nids++] = n;
			break;
		}
		case 'n': o.interval = parse_interval(optarg); break;
		case 'c': count = optarg; break;
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
			break;
		default: usage_error("bad option for stats: %s", argv[optind - 1]);
		}
	}
	if (nids && optind < argc)
		usage_error("%s", "stats takes FILEs or --id N, not both");
	if (count && !o.interval)
		usage_error("%s", "--count goes with --interval");
	if (count) {
		errno = 0;
		o.count = strtoull(count, &end, 10);
		if (errno || *end || count[0] < '0' || count[0] > '9' ||
		    o.count == 0)
			usage_error("bad --count: %s", count);
	}
	o.nnames = nids;
	if (optind < argc) {
		o.nnames = (size_t)(argc - optind);
		if (!(o.paths = calloc(o.nnames, sizeof(*o.paths))))
			fail("out of memory");
		/* made absolute as add and remove do: monitors keep the
		 * path they were registered with, symbolic links and all */
		for (size_t i = 0; i < o.nnames; i++)
			o.paths[i] = absolute(argv[optind + i]);
	}
	stats_batches(&o);
	connect_or_fail(&c);
	if (o.interval)
		stats_every(&c, &o);
	else
		stats_once(&c, &o);
	client_close(&c);
	for (size_t i = 0; o.paths && i < o.nnames; i++)
		free(o.paths[i]);
	free(o.paths);
	free(o.ids);
	free(o.batch_end);
	return DMF_EXIT_OK;
}

