/* server.c: dmfilemap-supervisord's main: options, the one lock per socket,
 * detaching, socket activation, signals and the event loop's life. */
#define _GNU_SOURCE
#include "dmfilemap.h"
#include "front/control.h"
#include "front/detach.h"
#include "front/methods.h"
#include "front/metrics.h"
#include "front/state.h"
#include "kernel/dmstats.h"
#include "kernel/fdstore.h"
#include "kernel/killpoint.h"
#include "log.h"
#include "service/monitor.h"
#include "service/service.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libdevmapper.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "dmfilemap-supervisord"
/* Seconds between two scans for groups no monitor keeps. */
#define SCAN_INTERVAL 60.

static const char usage_text[] =
	"usage: " PROG " [-f] [-v]... [--socket PATH] [--socket-group GROUP]\n"
	"       [--state PATH] [--interval MS] [--metrics-dir DIR\n"
	"       [--metrics-interval S] [--metrics-exclude[-alias] GLOB]...]\n"
	"\n"
	"Keep dm-stats region groups matching the extents of files, for every\n"
	"file registered by dmfilemapd (as run by dmstats create --filemap) or\n"
	"dmfilemapctl, in one process.\n"
	"\n"
	"  -f, --foreground   stay attached and log to stderr (default: detach\n"
	"                     and log to syslog)\n"
	"  -v, --verbose      log more (repeat for debug)\n"
	"      --socket PATH  control socket (default " DMF_SOCKET_DEFAULT ")\n"
	"      --socket-group GROUP  the socket's group (default root): its\n"
	"                     members may list and watch; changes need root\n"
	"      --state PATH   registrations kept here, re-adopted at start\n"
	"                     (default: the socket path with .state for .sock)\n"
	"      --interval MS  check every group once per MS milliseconds\n"
	"                     (default 1000, 50 to 60000)\n"
	"      --metrics-dir DIR  write DIR/dmfilemap.prom for node_exporter's\n"
	"                     textfile collector: every file's counters\n"
	"      --metrics-interval S  every S seconds (default 15, 1 to 3600)\n"
	"      --metrics-exclude GLOB  leave out files whose path matches\n"
	"      --metrics-exclude-alias GLOB  ... or whose alias matches\n"
	"                     (both may be repeated)\n"
	"  -h, --help         show this help\n"
	"  -V, --version      show the version\n"
	"\n"
	"Exit status: 0 after SIGTERM or SIGINT, 1 on failure, 2 on a usage\n"
	"error. See dmfilemap-supervisord(8).\n";

struct options {
	bool foreground;
	int verbose;
	const char *socket;
	const char *state;
	gid_t gid;
	long interval_ms;
	const char *metrics_dir;
	double metrics_interval;
	const char *exclude_path[METRICS_EXCLUDE_MAX];
	size_t nexclude_path;
	const char *exclude_alias[METRICS_EXCLUDE_MAX];
	size_t nexclude_alias;
};

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	exit(DMF_EXIT_USAGE);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "socket", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "state", required_argument, NULL, 'S' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "metrics-dir", required_argument, NULL, 'm' },
		{ "metrics-interval", required_argument, NULL, 'M' },
		{ "metrics-exclude", required_argument, NULL, 'x' },
		{ "metrics-exclude-alias", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	o->socket = DMF_SOCKET_DEFAULT;
	o->gid = (gid_t)-1;
	o->interval_ms = DMF_INTERVAL_DEFAULT;
	o->metrics_interval = METRICS_INTERVAL_DEFAULT;
	while ((c = getopt_long(argc, argv, "fvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->foreground = true; break;
		case 'v': o->verbose++; break;
		case 's':
			if (optarg[0] != '/')
				usage_error("--socket needs an absolute path: %s",
					    optarg);
			o->socket = optarg;
			break;
		case 'g': {
			struct group *gr = getgrnam(optarg);
			if (!gr)
				usage_error("no such group: %s", optarg);
			o->gid = gr->gr_gid;
			break;
		}
		case 'S':
			if (optarg[0] != '/')
				usage_error("--state needs an absolute path: %s",
					    optarg);
			o->state = optarg;
			break;
		case 'i':
			errno = 0;
			o->interval_ms = strtol(optarg, &end, 10);
			if (errno || *end || o->interval_ms < 50 ||
			    o->interval_ms > 60000)
				usage_error("--interval takes 50 to 60000 "
					    "(milliseconds): %s", optarg);
			break;
		case 'm':
			if (optarg[0] != '/')
				usage_error("--metrics-dir needs an absolute "
					    "path: %s", optarg);
			o->metrics_dir = optarg;
			break;
		case 'M':
			errno = 0;
			o->metrics_interval = strtod(optarg, &end);
			if (errno || *end || !(o->metrics_interval >= 1) ||
			    o->metrics_interval > 3600)
				usage_error("--metrics-interval takes 1 to 3600 "
					    "(seconds): %s", optarg);
			break;
		case 'x':
		case 'X': {
			size_t *n = c == 'x' ? &o->nexclude_path
					     : &o->nexclude_alias;
			if (*n == METRICS_EXCLUDE_MAX)
				usage_error("at most 64 of each --metrics-exclude "
					    "option: %s", optarg);
			(c == 'x' ? o->exclude_path : o->exclude_alias)[(*n)++] =
				optarg;
			break;
		}
		case 'h': fputs(usage_text, stdout); exit(DMF_EXIT_OK);
		case 'V': puts(PROG " " DMF_VERSION); exit(DMF_EXIT_OK);
		default: usage_error("%s", "bad option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument: %s", argv[optind]);
	if (!o->metrics_dir && (o->metrics_interval != METRICS_INTERVAL_DEFAULT ||
				o->nexclude_path || o->nexclude_alias))
		usage_error("%s", "the --metrics options need --metrics-dir");
}

/* SOCKET with ".state" in place of ".sock" (or appended). */
static const char *default_state(const char *sock, char *buf, size_t len)
{
	size_t n = strlen(sock);

	if (n > 5 && !strcmp(sock + n - 5, ".sock"))
		n -= 5;
	snprintf(buf, len, "%.*s.state", (int)n, sock);
	return buf;
}

/* Everything the supervisor is: the monitor service and what serves it. */
struct server {
	struct dmstats dm;
	struct service svc;
	struct fdstore fds;
	struct control ctl;
	struct state state;
	struct methods methods;
	struct metrics metrics;
	ev_timer status;   /* the service manager's STATUS=, soon after a change */
	ev_timer scan;     /* groups no monitor keeps, looked for in turn */
};

/* The listening socket systemd passed, or -1. */
static int activation_fd(struct fdstore *fds)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	int fd;

	if (!pid || !n || atol(pid) != (long)getpid())
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	/* the listening socket, and monitored files from the fd store */
	fd = fdstore_take_listen_fds(fds, atoi(n) > 0 && atoi(n) < 1 << 20
						  ? atoi(n) : 0);
	unsetenv("LISTEN_FDNAMES");
	if (fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		fatal("socket activation: fcntl");
	return fd;
}

/* One supervisor per socket: hold PATH.lock for our whole life. */
static void take_lock(const char *path)
{
	char lock[4200];
	int fd;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		/* the directory may not exist yet */
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
		if (slash && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				fatal("cannot create %s", dir);
		}
		free(dir);
		fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			  0600);
	}
	if (fd < 0)
		fatal("cannot listen on %s: cannot open %s", path, lock);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			fatalx("cannot listen on %s: another supervisor is "
			       "running", path);
		fatal("cannot listen on %s: cannot lock %s", path, lock);
	}
	/* fd stays open (and locked) until we exit */
}

/* The kernel's ceiling on open files per process, or 0. */
static rlim_t nr_open(void)
{
	char buf[32];
	ssize_t n;
	int fd = open("/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (rlim_t)strtoull(buf, NULL, 10);
}

/* Every monitored file is held open: raise the open-files limit to the
 * kernel's ceiling if we may (root), else the soft limit to the hard one
 * (the soft default, 1024, is for programs using select()). */
static void raise_nofile(void)
{
	rlim_t top = nr_open();
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn("getrlimit RLIMIT_NOFILE");
		return;
	}
	if (top > rl.rlim_max) {
		struct rlimit up = { top, top };
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	if (rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("cannot raise the open files limit to %llu",
			 (unsigned long long)rl.rlim_max);
}

/* The monitor service's hooks: events to watchers, changes to the state
 * file, fds to the fd store. */
static void on_event(void *arg, const struct monitor *m, const char *event,
		     uint64_t old_group, const char *reason, const char *message)
{
	struct server *srv = arg;

	control_event(&srv->ctl, m, event, old_group, reason, message);
}

static void on_changed(void *arg)
{
	struct server *srv = arg;

	state_changed(&srv->state);
	if (!ev_is_active(&srv->status))
		ev_timer_start(srv->svc.loop, &srv->status);
}

/* "N monitors on M devices" as the service manager's STATUS=. */
static void say_status(struct server *srv, bool ready)
{
	char text[128];

	snprintf(text, sizeof(text), "%zu monitors on %zu devices",
		 srv->svc.nmonitors, srv->svc.devices.n);
	fdstore_status(&srv->fds, ready, text);
}

static void scan_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct server *srv = (struct server *)((char *)w -
					       offsetof(struct server, scan));
	(void)loop;
	(void)revents;
	unmonitored_scan(&srv->svc);
}

static void status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct server *srv = (struct server *)((char *)w -
					       offsetof(struct server, status));
	(void)loop;
	(void)revents;
	say_status(srv, false);
}

static void on_keep_fd(void *arg, const struct monitor *m)
{
	struct server *srv = arg;

	fdstore_put(&srv->fds, m->id, m->fd);
}

static void on_drop_fd(void *arg, const struct monitor *m)
{
	struct server *srv = arg;

	fdstore_drop(&srv->fds, m->id);
}

static int on_persist(void *arg)
{
	struct server *srv = arg;

	return state_save(&srv->state);
}

/* Everything up to the loop: fatal on any failure. */
static void server_start(struct server *srv, struct ev_loop *loop,
		  const struct options *o, int act_fd)
{
	struct dm_backend be;
	struct timespec ts;
	char why[256], state_buf[4200];
	int r;

	ev_timer_init(&srv->status, status_cb, 1., 0.);
	ev_timer_init(&srv->scan, scan_cb, SCAN_INTERVAL, SCAN_INTERVAL);
	dmstats_backend(&srv->dm, &be);
	service_init(&srv->svc, loop, &be, o->interval_ms / 1000.0);
	srv->svc.hooks = (struct service_hooks){ on_event, on_changed,
						 on_keep_fd, on_drop_fd,
						 on_persist, srv };
	srv->svc.ignore_holder = fdstore_manager(&srv->fds);
	if (service_start(&srv->svc, why, sizeof(why)) < 0)
		fatalx("cannot start: %s", why);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	srv->methods.svc = &srv->svc;
	srv->methods.started = (double)ts.tv_sec;
	budget_init(&srv->methods.budget, DMF_UID_READS_PER_S,
		    DMF_UID_READS_BURST);
	if ((r = control_listen(&srv->ctl, loop, o->socket, act_fd, o->gid,
				methods_dispatch, &srv->methods)) < 0)
		fatalx("cannot listen on %s: %s", o->socket, strerror(-r));
	if (state_init(&srv->state, &srv->svc, &srv->fds,
		       o->state ? o->state
				: default_state(o->socket, state_buf,
						sizeof(state_buf))) < 0)
		fatalx("out of memory");
	/* after the re-adoptions: the groups left are nobody's */
	unmonitored_scan(&srv->svc);
	ev_timer_start(loop, &srv->scan);
	if (!o->metrics_dir)
		return;
	memcpy(srv->metrics.exclude_path, o->exclude_path,
	       sizeof(o->exclude_path));
	srv->metrics.nexclude_path = o->nexclude_path;
	memcpy(srv->metrics.exclude_alias, o->exclude_alias,
	       sizeof(o->exclude_alias));
	srv->metrics.nexclude_alias = o->nexclude_alias;
	/* a write error is said and retried: it never stops monitoring */
	if (metrics_start(&srv->metrics, &srv->svc, o->metrics_dir,
			  o->metrics_interval) == -ENOMEM)
		fatalx("out of memory");
}

/* The start's undoing, in the order that keeps every registration: the
 * state file is frozen before the monitors end, and watchers hear the
 * last events before the socket closes. */
static void server_stop(struct server *srv)
{
	state_freeze(&srv->state);
	ev_timer_stop(srv->svc.loop, &srv->status);
	ev_timer_stop(srv->svc.loop, &srv->scan);
	fdstore_status(&srv->fds, false, "stopping");
	metrics_stop(&srv->metrics);
	service_stop(&srv->svc, "supervisor shutting down");
	control_shutdown(&srv->ctl);
	state_shutdown(&srv->state);
	fdstore_shutdown(&srv->fds);
	dmstats_release(&srv->dm);
}

int main(int argc, char **argv)
{
	static struct server srv; /* large: the inotify table */
	struct options o = { 0 };
	struct ev_loop *loop;
	int act_fd, ready_fd = -1, r;

	parse_args(argc, argv, &o);
	log_init(PROG, true, o.verbose); /* stderr until detached */
	killpoint_init();
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if ((r = fdstore_init(&srv.fds)) < 0)
		fatalx("cannot use NOTIFY_SOCKET: %s", strerror(-r));
	act_fd = activation_fd(&srv.fds);
	if (!o.foreground)
		ready_fd = detach();
	/* socket-activated too: a supervisor the shim started while the
	 * socket unit was down must not run beside this one */
	take_lock(o.socket);
	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop)
		fatalx("cannot create the event loop");
	log_route_libdm();
	server_start(&srv, loop, &o, act_fd);
	detach_ready(ready_fd, o.foreground);
	if (!o.foreground)
		log_init(PROG, false, o.verbose);
	log_info("listening on %s, checking every %ld ms", o.socket,
		 o.interval_ms);
	say_status(&srv, true); /* READY=1: listening, registrations back */
	service_run(&srv.svc);
	server_stop(&srv);
	ev_loop_destroy(loop);
	dm_lib_release();
	log_info("stopped");
	return DMF_EXIT_OK;
}
