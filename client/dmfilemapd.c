/* dmfilemapd.c: the shim dmstats create --filemap execs: the original
 * command line, handed to the supervisor (started here if none listens),
 * or monitored in this process if no supervisor can be had. */
#define _GNU_SOURCE
#include "client.h"
#include "dmfilemap.h"
#include "events.h"
#include "front/solo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "dmfilemapd"
#define USAGE "dmfilemapd <fd> <group_id> <abs_path> <mode> " \
	      "[<foreground>[<verbose>]]"
/* How long to wait for a supervisor we started to answer. */
#define START_WAIT_MS 5000

struct args {
	int fd;
	unsigned long long group_id;
	const char *path;
	const char *mode;
	int foreground;
	int verbose;
};

#define say(...) client_say(PROG, __VA_ARGS__)

/* The original's checks and messages, in its order. */
static int parse_args(int argc, char **argv, struct args *a)
{
	char *end;

	argc--;
	argv++;
	if (argc < 4 || argc > 6) {
		say("Wrong number of arguments.");
		say("usage: %s", USAGE);
		return -1;
	}
	errno = 0;
	long fd = strtol(argv[0], &end, 10);
	if (errno || *end || !argv[0][0] || fd < 0 || fd > 0x7fffffff) {
		say("Could not parse file descriptor: %s", argv[0]);
		return -1;
	}
	a->fd = (int)fd;
	errno = 0;
	a->group_id = strtoull(argv[1], &end, 10);
	if (errno || *end || !argv[1][0] || argv[1][0] == '-') {
		say("Could not parse group identifier: %s", argv[1]);
		return -1;
	}
	if (!argv[2][0]) {
		say("Path argument is required.");
		return -1;
	}
	if (argv[2][0] != '/') {
		say("Path argument must specify an absolute path.");
		return -1;
	}
	a->path = argv[2];
	if (!argv[3][0]) {
		say("Mode argument is required.");
		return -1;
	}
	if (strcmp(argv[3], "inode") && strcmp(argv[3], "path")) {
		say("Could not parse dmfilemapd mode: %s", argv[3]);
		return -1;
	}
	a->mode = argv[3];
	if (argc > 4) {
		errno = 0;
		a->foreground = (int)strtol(argv[4], &end, 10);
		if (errno || *end || !argv[4][0]) {
			say("Could not parse debug argument: %s.", argv[4]);
			return -1;
		}
	}
	if (argc > 5) {
		errno = 0;
		a->verbose = (int)strtol(argv[5], &end, 10);
		if (errno || *end || !argv[5][0]) {
			say("Could not parse verbose argument: %s", argv[5]);
			return -1;
		}
		if (a->verbose < 0 || a->verbose > 3) {
			say("Verbose argument out of range: %d.", a->verbose);
			return -1;
		}
	}
	return 0;
}

/* Run the supervisor; it detaches and its first process exits 0 once it
 * listens (1 if it could not, e.g. another one won the race). Returns its
 * exit status, or -1 with WHY set. */
static int start_supervisor(const char *sock, int verbose, char *why,
			    size_t whylen)
{
	const char *bin = getenv(DMF_SUPERVISORD_ENV);
	int status;
	pid_t pid;

	if (!bin || !bin[0])
		bin = DMF_SBINDIR "/dmfilemap-supervisord";
	if (verbose)
		say("starting %s --socket %s", bin, sock);
	if (access(bin, X_OK) < 0 || (pid = fork()) < 0) {
		snprintf(why, whylen, "cannot start %s: %s", bin,
			 strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* the supervisor must not inherit dmstats' file, or ours */
		close_range(3, ~0U, 0);
		execl(bin, "dmfilemap-supervisord", "--socket", sock,
		      (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, whylen, "cannot start %s: %s", bin,
				 strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
		snprintf(why, whylen, "cannot start %s", bin);
		return -1;
	}
	return WEXITSTATUS(status);
}

/* Connect, starting a supervisor if none listens. Returns 0, or -1 with
 * WHY set. */
static int connect_or_start(struct client *c, const char *sock, int verbose,
			    char *why, size_t whylen)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	int r = client_connect(c, sock), waited = 0, status;

	if (r == 0)
		return 0;
	if (r != -ENOENT && r != -ECONNREFUSED) {
		snprintf(why, whylen, "%s", strerror(-r));
		return -1;
	}
	if ((status = start_supervisor(sock, verbose, why, whylen)) < 0)
		return -1;
	/* ours or a racing shim's supervisor: it answers soon */
	while ((r = client_connect(c, sock)) < 0 && waited < START_WAIT_MS &&
	       (r == -ENOENT || r == -ECONNREFUSED)) {
		nanosleep(&pause, NULL);
		waited += 50;
	}
	if (r < 0 && status)
		snprintf(why, whylen, "the supervisor started exited with "
			 "status %d and none answers: %s", status, strerror(-r));
	else if (r < 0)
		snprintf(why, whylen, "no answer within %d s: %s",
			 START_WAIT_MS / 1000, strerror(-r));
	return r < 0 ? -1 : 0;
}

/* Foreground: print the monitor's events until it ends. */
static int follow(struct client *c, struct vl_reply *r, int verbose)
{
	char buf[512];
	int e;

	while (r->continues) {
		vl_reply_free(r);
		if ((e = client_next(c, r)) < 0) {
			say("lost the supervisor: %s", e == -EPIPE
						? "connection closed"
						: strerror(-e));
			return DMF_EXIT_FAIL;
		}
		if (r->error) {
			say("%s", client_error_text(r, buf, sizeof(buf)));
			return DMF_EXIT_FAIL;
		}
		event_print(stdout, cJSON_GetObjectItem(r->params, "event"),
			    verbose);
	}
	return DMF_EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *sock = client_socket_path(NULL);
	struct args a = { 0 };
	struct vl_reply r;
	struct client c;
	char buf[1024];
	cJSON *p;
	int e;

	if (parse_args(argc, argv, &a) < 0)
		return DMF_EXIT_FAIL;
	if (fcntl(a.fd, F_GETFD) < 0) {
		say("Could not use file descriptor %d: %s", a.fd,
		    strerror(errno));
		return DMF_EXIT_FAIL;
	}
	if (connect_or_start(&c, sock, a.verbose, buf, sizeof(buf)) < 0) {
		/* one process for this file, as before the supervisor */
		struct solo_args s = {
			PROG, a.fd, a.path, a.group_id,
			strcmp(a.mode, "path") ? MODE_INODE : MODE_PATH,
			a.foreground == 1, a.verbose
		};
		say("no supervisor on %s (%s): monitoring %s in this process",
		    sock, buf, a.path);
		if (fcntl(a.fd, F_SETFD, FD_CLOEXEC) < 0) {
			say("Could not use file descriptor %d: %s", a.fd,
			    strerror(errno));
			return DMF_EXIT_FAIL;
		}
		return solo_run(&s);
	}
	p = cJSON_CreateObject();
	if (!p || !cJSON_AddNumberToObject(p, "fd", 0) ||
	    !cJSON_AddStringToObject(p, "path", a.path) ||
	    !cJSON_AddNumberToObject(p, "group_id", (double)a.group_id) ||
	    !cJSON_AddStringToObject(p, "mode", a.mode)) {
		say("out of memory");
		cJSON_Delete(p);
		client_close(&c);
		return DMF_EXIT_FAIL;
	}
	e = client_call(&c, DMF_INTERFACE ".Add", p, a.fd, a.foreground == 1,
			&r);
	if (e < 0) {
		say("cannot monitor %s: %s", a.path, strerror(-e));
		client_close(&c);
		return DMF_EXIT_FAIL;
	}
	if (r.error) {
		say("%s", client_error_text(&r, buf, sizeof(buf)));
		vl_reply_free(&r);
		client_close(&c);
		return DMF_EXIT_FAIL;
	}
	const cJSON *m = cJSON_GetObjectItem(r.params, "monitor");
	if (a.verbose || a.foreground == 1)
		say("%s: monitor %.0f, group %.0f%s", a.path,
		    cJSON_GetNumberValue(cJSON_GetObjectItem(m, "id")),
		    cJSON_GetNumberValue(cJSON_GetObjectItem(m, "group_id")),
		    added_note(r.params));
	e = a.foreground == 1 ? follow(&c, &r, a.verbose) : DMF_EXIT_OK;
	vl_reply_free(&r);
	client_close(&c);
	return e;
}
