/* dmfilemapctl.c: the command-line client of the supervisor: add, remove,
 * list, info, stats and watch, for people (text) and scripts (--json). */
#define _GNU_SOURCE
#include "client.h"
#include "dmfilemap.h"
#include "ctl.h"
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


static const char usage_text[] =
	"usage: " PROG " [--socket PATH] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  add FILE --group ID [--follow inode|path]\n"
	"      monitor FILE's existing dm-stats group ID (if it is monitored\n"
	"      already, with another file, path or mode: take these)\n"
	"  add FILE... --create [--alias ALIAS] [--precise] [--bounds LIST]\n"
	"      [--follow inode|path]\n"
	"      create a group from each FILE's extents and monitor it (one\n"
	"      connection; a FILE that fails is said and the others go on)\n"
	"  remove FILE | --id N [--delete-group]\n"
	"      stop monitoring (and delete the group's regions)\n"
	"  list [--json]        the monitors\n"
	"  info [--json]        the supervisor: version, pid, uptime, ioctls,\n"
	"                       passes\n"
	"  stats [FILE... | --id N...] [--json] [--interval S [--count N]]\n"
	"      the I/O totals of the monitored files (all of them if none is\n"
	"      named); with --interval, rates over every S seconds as in\n"
	"      iostat -x, N times (without --count: until interrupted)\n"
	"  watch [--json] [--id N]\n"
	"      print monitor events as they happen, one a line\n"
	"\n"
	"  --socket PATH   the supervisor's socket (default $" DMF_SOCKET_ENV
	",\n"
	"                  else " DMF_SOCKET_DEFAULT ")\n"
	"  --bounds LIST   histogram bounds, e.g. 10ms,20ms,1s (units ns, us,\n"
	"                  ms, s; ms if none)\n"
	"  -h, --help      show this help;  -V, --version  show the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error. See dmfilemapctl(8).\n";

static const char *socket_opt;

void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	exit(DMF_EXIT_USAGE);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	client_vsay(PROG, fmt, ap);
	va_end(ap);
	exit(DMF_EXIT_FAIL);
}

void connect_or_fail(struct client *c)
{
	const char *path = client_socket_path(socket_opt);
	int r = client_connect(c, path);

	if (r == -ENOENT || r == -ECONNREFUSED)
		fail("cannot connect to %s: %s (is dmfilemap-supervisord "
		     "running?)", path, strerror(-r));
	if (r < 0)
		fail("cannot connect to %s: %s", path, strerror(-r));
}

/* One call; exits 1 with the supervisor's message on an error reply. */
static void call(struct client *c, const char *method, cJSON *params, int fd,
		 bool more, struct vl_reply *r)
{
	char buf[1024];
	int e;

	connect_or_fail(c);
	if ((e = client_call(c, method, params, fd, more, r)) < 0)
		fail("%s: %s", method + strlen(DMF_INTERFACE) + 1,
		     e == -EPIPE ? "the supervisor closed the connection"
				 : strerror(-e));
	if (r->error) {
		if (!strcmp(r->error, "org.varlink.service.InvalidParameter"))
			fail("invalid parameter: %s",
			     cJSON_GetStringValue(cJSON_GetObjectItem(
				     r->params, "parameter")));
		fail("%s", client_error_text(r, buf, sizeof(buf)));
	}
}

void print_json(const cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (!s)
		fail("out of memory");
	puts(s);
	free(s);
}

/* "10ms" -> nanoseconds. */
static double parse_bound(const char *s)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		      { "", 1e6 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		usage_error("bad --bounds value: %s", s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			return v * units[i].ns;
	usage_error("bad --bounds unit: %s", s);
	return 0;
}

static cJSON *parse_bounds(const char *list)
{
	cJSON *a = cJSON_CreateArray();
	char *copy = strdup(list), *save = NULL;

	if (!a || !copy)
		fail("out of memory");
	for (char *t = strtok_r(copy, ",", &save); t;
	     t = strtok_r(NULL, ",", &save))
		cJSON_AddItemToArray(a, cJSON_CreateNumber(parse_bound(t)));
	free(copy);
	return a;
}

/* FILE as an absolute path (the supervisor checks it names our fd). */
char *absolute(const char *file)
{
	char cwd[PATH_MAX], *p;

	if (file[0] == '/')
		p = strdup(file);
	else if (!getcwd(cwd, sizeof(cwd)))
		fail("cannot resolve %s: %s", file, strerror(errno));
	else if (asprintf(&p, "%s/%s", cwd, file) < 0)
		p = NULL;
	if (!p)
		fail("out of memory");
	return p;
}

struct add_opts {
	const char *group, *alias, *bounds, *follow;
	unsigned long long group_id; /* from GROUP */
	bool create, precise;
};

/* The parameters of one Add or Create call for PATH. */
static cJSON *add_params(const struct add_opts *o, const char *path)
{
	cJSON *p = cJSON_CreateObject();

	if (!p)
		fail("out of memory");
	cJSON_AddNumberToObject(p, "fd", 0);
	cJSON_AddStringToObject(p, "path", path);
	cJSON_AddStringToObject(p, "mode", o->follow);
	if (o->group) {
		cJSON_AddNumberToObject(p, "group_id", (double)o->group_id);
		return p;
	}
	if (o->alias)
		cJSON_AddStringToObject(p, "alias", o->alias);
	if (o->precise)
		cJSON_AddTrueToObject(p, "precise");
	if (o->bounds)
		cJSON_AddItemToObject(p, "bounds", parse_bounds(o->bounds));
	return p;
}

/* Calls sent ahead of their replies by add: the supervisor answers them
 * in order, and a file costs no round trip of its own. */
#define ADD_WINDOW 32

/* One file whose call was sent (or could not be: ERR), reply not read. */
struct add_pending {
	char *path;
	char *err; /* said in its turn, instead of a reply */
};

/* Send the call for FILE on C; the open error, if any, goes in P. */
static void add_send(struct client *c, const struct add_opts *o,
		     const char *file, struct add_pending *p)
{
	int fd, e;

	p->path = absolute(file);
	p->err = NULL;
	if ((fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		if (asprintf(&p->err, "cannot monitor %s: %s", p->path,
			     strerror(errno)) < 0)
			fail("out of memory");
		return;
	}
	e = client_send(c, o->create ? DMF_INTERFACE ".Create"
				     : DMF_INTERFACE ".Add",
			add_params(o, p->path), fd, false);
	close(fd); /* the supervisor has its own copy */
	if (e < 0)
		fail("cannot monitor %s: %s", p->path,
		     e == -EPIPE ? "the supervisor closed the connection"
				 : strerror(-e));
}

/* The reply for P, read from C: prints its line; 0, or -1 (said why). */
static int add_finish(struct client *c, struct add_pending *p)
{
	char buf[1024];
	struct vl_reply r;
	int e, ret = -1;

	if (p->err) {
		client_say(PROG, "%s", p->err);
		goto out;
	}
	if ((e = client_next(c, &r)) < 0)
		fail("cannot monitor %s: %s", p->path,
		     e == -EPIPE ? "the supervisor closed the connection"
				 : strerror(-e));
	if (r.error) {
		client_say(PROG, "%s", client_error_text(&r, buf, sizeof(buf)));
		vl_reply_free(&r);
		goto out;
	}
	const cJSON *m = cJSON_GetObjectItem(r.params, "monitor");
	printf("%s: monitor %.0f, group %.0f on %s (%s), %.0f regions%s\n",
	       p->path, cJSON_GetNumberValue(cJSON_GetObjectItem(m, "id")),
	       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "group_id")),
	       cJSON_GetStringValue(cJSON_GetObjectItem(m, "dm_name")),
	       cJSON_GetStringValue(cJSON_GetObjectItem(m, "device")),
	       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "regions")),
	       added_note(r.params));
	vl_reply_free(&r);
	ret = 0;
out:
	free(p->path);
	free(p->err);
	return ret;
}

/* Add FILES on C, up to ADD_WINDOW calls ahead of the replies; the lines
 * come out in the files' order. Returns how many failed. */
static int add_all(struct client *c, const struct add_opts *o, char **files,
		   int n)
{
	struct add_pending ring[ADD_WINDOW];
	int sent = 0, done = 0, failed = 0;

	while (done < n) {
		if (sent < n && sent - done < ADD_WINDOW) {
			add_send(c, o, files[sent], &ring[sent % ADD_WINDOW]);
			sent++;
			continue;
		}
		failed += add_finish(c, &ring[done % ADD_WINDOW]) < 0;
		done++;
	}
	return failed;
}

static int cmd_add(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "create", no_argument, NULL, 'c' },
		{ "alias", required_argument, NULL, 'a' },
		{ "precise", no_argument, NULL, 'p' },
		{ "bounds", required_argument, NULL, 'b' },
		{ "follow", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct add_opts o = { .follow = "inode" };
	struct client c;
	int opt, failed = 0;
	char *end;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'g': o.group = optarg; break;
		case 'c': o.create = true; break;
		case 'a': o.alias = optarg; break;
		case 'p': o.precise = true; break;
		case 'b': o.bounds = optarg; break;
		case 'f': o.follow = optarg; break;
		default: usage_error("%s", "bad option for add");
		}
	}
	if (optind == argc)
		usage_error("%s", "add needs a FILE");
	if (!o.create == !o.group)
		usage_error("%s", "add needs exactly one of --group and --create");
	if (o.group && optind + 1 != argc)
		usage_error("%s", "add --group takes one FILE");
	if (!o.create && (o.alias || o.precise || o.bounds))
		usage_error("%s", "--alias, --precise and --bounds go with --create");
	if (strcmp(o.follow, "inode") && strcmp(o.follow, "path"))
		usage_error("--follow takes inode or path: %s", o.follow);
	if (o.group) {
		errno = 0;
		o.group_id = strtoull(o.group, &end, 10);
		if (errno || *end || !o.group[0] || o.group[0] == '-' ||
		    o.group_id > 0x7fffffffULL)
			usage_error("bad group id: %s", o.group);
	}
	if (o.bounds)
		cJSON_Delete(parse_bounds(o.bounds)); /* before any call */
	connect_or_fail(&c);
	failed = add_all(&c, &o, argv + optind, argc - optind);
	client_close(&c);
	return failed ? DMF_EXIT_FAIL : DMF_EXIT_OK;
}

static int cmd_remove(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "delete-group", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *id = NULL;
	bool del = false;
	struct vl_reply r;
	struct client c;
	cJSON *p = cJSON_CreateObject();
	char *end, *path = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (opt == 'i')
			id = optarg;
		else if (opt == 'd')
			del = true;
		else
			usage_error("%s", "bad option for remove");
	}
	if ((id != NULL) == (optind < argc) || optind + 1 < argc)
		usage_error("%s", "remove takes one FILE or --id N");
	if (id) {
		errno = 0;
		unsigned long long n = strtoull(id, &end, 10);
		if (errno || *end || !id[0] || id[0] == '-' || n == 0)
			usage_error("bad monitor id: %s", id);
		cJSON_AddNumberToObject(p, "id", (double)n);
	} else {
		path = absolute(argv[optind]);
		cJSON_AddStringToObject(p, "path", path);
	}
	if (del)
		cJSON_AddTrueToObject(p, "delete_group");
	call(&c, DMF_INTERFACE ".Remove", p, -1, false, &r);
	const cJSON *m = cJSON_GetObjectItem(r.params, "monitor");
	printf("%s: monitor %.0f removed%s\n",
	       cJSON_GetStringValue(cJSON_GetObjectItem(m, "path")),
	       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "id")),
	       del ? ", group deleted" : "");
	vl_reply_free(&r);
	client_close(&c);
	free(path);
	return DMF_EXIT_OK;
}

/* list and info take only --json. */
static bool json_flag(int argc, char **argv, const char *cmd)
{
	if (argc == 1)
		return false;
	if (argc == 2 && !strcmp(argv[1], "--json"))
		return true;
	usage_error("%s takes only --json", cmd);
	return false;
}

static int cmd_list(int argc, char **argv)
{
	bool json = json_flag(argc, argv, "list");
	const cJSON *m, *a;
	struct vl_reply r;
	struct client c;

	call(&c, DMF_INTERFACE ".List", NULL, -1, false, &r);
	a = cJSON_GetObjectItem(r.params, "monitors");
	if (json) {
		print_json(r.params);
	} else {
		printf("%-5s %-6s %-7s %-5s %-8s %-16s %s\n", "ID", "GROUP",
		       "REGIONS", "MODE", "STATE", "DEVICE", "PATH");
		cJSON_ArrayForEach(m, a)
		{
			printf("%-5.0f %-6.0f %-7.0f %-5s %-8s %-16s %s\n",
			       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "id")),
			       cJSON_GetNumberValue(
				       cJSON_GetObjectItem(m, "group_id")),
			       cJSON_GetNumberValue(
				       cJSON_GetObjectItem(m, "regions")),
			       cJSON_GetStringValue(cJSON_GetObjectItem(m, "mode")),
			       cJSON_GetStringValue(
				       cJSON_GetObjectItem(m, "state")),
			       cJSON_GetStringValue(
				       cJSON_GetObjectItem(m, "dm_name")),
			       cJSON_GetStringValue(cJSON_GetObjectItem(m, "path")));
		}
		/* groups nobody keeps, and how to adopt each */
		cJSON_ArrayForEach(m, cJSON_GetObjectItem(r.params, "unmonitored"))
		{
			const char *path = cJSON_GetStringValue(
				cJSON_GetObjectItem(m, "path"));
			double g = num(m, "group_id");
			printf("%sunmonitored group %.0f on %s (%s), alias \"%s\", "
			       "%.0f regions: dmfilemapctl add %s --group %.0f\n",
			       m == cJSON_GetArrayItem(cJSON_GetObjectItem(
					    r.params, "unmonitored"), 0) ? "\n" : "",
			       g,
			       cJSON_GetStringValue(cJSON_GetObjectItem(m, "dm_name")),
			       cJSON_GetStringValue(cJSON_GetObjectItem(m, "device")),
			       cJSON_GetStringValue(cJSON_GetObjectItem(m, "alias")),
			       num(m, "regions"), path ? path : "FILE", g);
		}
	}
	vl_reply_free(&r);
	client_close(&c);
	return DMF_EXIT_OK;
}

double num(const cJSON *o, const char *k)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(o, k));
}

static int cmd_info(int argc, char **argv)
{
	bool json = json_flag(argc, argv, "info");
	struct vl_reply r;
	struct client c;
	const cJSON *p, *io, *ps;

	call(&c, DMF_INTERFACE ".Info", NULL, -1, false, &r);
	p = r.params;
	io = cJSON_GetObjectItem(p, "ioctls");
	if (json) {
		print_json(p);
	} else {
		printf("version   %s\npid       %.0f\nuptime    %.0f s\n"
		       "monitors  %.0f\ndevices   %.0f\ninterval  %.0f ms\n",
		       cJSON_GetStringValue(cJSON_GetObjectItem(p, "version")),
		       num(p, "pid"), num(p, "uptime"), num(p, "monitors"),
		       num(p, "devices"), num(p, "interval_ms"));
		printf("ioctls    %.0f: stats_list %.0f, stats_create %.0f, "
		       "stats_delete %.0f, stats_set_aux %.0f, info %.0f\n",
		       num(io, "total"), num(io, "stats_list"),
		       num(io, "stats_create"), num(io, "stats_delete"),
		       num(io, "stats_set_aux"), num(io, "info"));
		ps = cJSON_GetObjectItem(p, "passes");
		printf("passes    %.0f: %.0f checked every monitor\n",
		       num(ps, "total"), num(ps, "full"));
	}
	vl_reply_free(&r);
	client_close(&c);
	return DMF_EXIT_OK;
}

static int cmd_watch(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "id", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	cJSON *p = cJSON_CreateObject();
	struct vl_reply r;
	struct client c;
	char *end;
	int opt, e;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (opt == 'j') {
			json = true;
		} else if (opt == 'i') {
			errno = 0;
			unsigned long long n = strtoull(optarg, &end, 10);
			if (errno || *end || n == 0 || optarg[0] == '-')
				usage_error("bad monitor id: %s", optarg);
			cJSON_AddNumberToObject(p, "id", (double)n);
		} else {
			usage_error("%s", "bad option for watch");
		}
	}
	if (optind < argc)
		usage_error("%s", "watch takes no FILE");
	setvbuf(stdout, NULL, _IOLBF, 0);
	call(&c, DMF_INTERFACE ".Watch", p, -1, true, &r);
	for (;;) {
		const cJSON *ev = cJSON_GetObjectItem(r.params, "event");
		if (json)
			print_json(ev);
		else
			event_print(stdout, ev, 3);
		if (!r.continues)
			break;
		vl_reply_free(&r);
		if ((e = client_next(&c, &r)) < 0)
			fail("watch: %s", e == -EPIPE
						  ? "the supervisor closed the connection"
						  : strerror(-e));
		if (r.error) {
			char buf[512];
			fail("watch: %s", client_error_text(&r, buf, sizeof(buf)));
		}
	}
	vl_reply_free(&r);
	client_close(&c);
	return DMF_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = { { "add", cmd_add },   { "remove", cmd_remove },
		     { "list", cmd_list }, { "info", cmd_info },
		     { "stats", cmd_stats }, { "watch", cmd_watch } };
	int opt;

	while ((opt = getopt_long(argc, argv, "+hV", lo, NULL)) != -1) {
		switch (opt) {
		case 's': socket_opt = optarg; break;
		case 'h': fputs(usage_text, stdout); return DMF_EXIT_OK;
		case 'V': puts(PROG " " DMF_VERSION); return DMF_EXIT_OK;
		default: usage_error("%s", "bad option");
		}
	}
	if (optind >= argc)
		usage_error("%s", "no command given");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[optind], cmds[i].name)) {
			argv += optind;
			argc -= optind;
			optind = 0; /* reinitialise getopt for the command */
			return cmds[i].fn(argc, argv);
		}
	}
	usage_error("unknown command: %s", argv[optind]);
	return DMF_EXIT_USAGE;
}
