/* log.c: the supervisor's logging: stderr in the foreground, syslog when
 * detached; log_warn appends strerror(errno), fatal/fatalx exit. */
#include "log.h"

#include <errno.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static const char *log_ident = "dmfilemap-supervisord";
static bool log_stderr = true;
static int log_level = LOG_LEVEL_WARN;

void log_init(const char *ident, bool foreground, int verbosity)
{
	log_ident = ident;
	log_stderr = foreground;
	log_level = verbosity;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_verbosity(void)
{
	return log_level;
}

static void vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_stderr) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s%s%s\n", tm.tm_hour,
			tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident,
			msg, suffix ? ": " : "", suffix ? suffix : "");
		fflush(stderr);
	} else {
		syslog(pri, "%s%s%s", msg, suffix ? ": " : "",
		       suffix ? suffix : "");
	}
}

#define LOG_BODY(level, pri, suffix)                                          \
	do {                                                                  \
		va_list ap;                                                   \
		if (log_level < (level))                                      \
			return;                                               \
		va_start(ap, fmt);                                            \
		vlog((pri), fmt, ap, (suffix));                               \
		va_end(ap);                                                   \
	} while (0)

void log_warn(const char *fmt, ...)
{
	const char *e = strerror(errno);

	LOG_BODY(LOG_LEVEL_WARN, LOG_WARNING, e);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, LOG_WARNING, NULL);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, LOG_INFO, NULL);
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, LOG_DEBUG, NULL);
}

void fatal(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, e);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

/* libdevmapper's levels (its header does not export them). */
#define LIBDM_LOG_WARN 4
#define LIBDM_LOG_FLAGS (128 | 256) /* "to stderr", "once" */
#define LIBDM_REPEAT 60 /* seconds before the same warning is said again */

static void libdm_log(int level, const char *file, int line, int dm_errno,
		      const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void libdm_log(int level, const char *file, int line, int dm_errno,
		      const char *fmt, ...)
{
	static char last[512];
	static time_t last_said;
	time_t now;
	char msg[512];
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	level &= ~LIBDM_LOG_FLAGS;
	if (level > LIBDM_LOG_WARN && log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (level <= LIBDM_LOG_WARN) {
		/* a failing message retried every interval: once a minute */
		now = time(NULL);
		if (!strcmp(msg, last) && now - last_said < LIBDM_REPEAT)
			return;
		snprintf(last, sizeof(last), "%s", msg);
		last_said = now;
		log_warnx("libdevmapper: %s", msg);
	} else {
		log_debug("libdevmapper: %s", msg);
	}
}

void log_route_libdm(void)
{
	dm_log_with_errno_init(libdm_log);
}
