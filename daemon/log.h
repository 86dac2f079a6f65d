/* log.h: the supervisor's logging: stderr in the foreground, syslog when
 * detached; log_warn appends strerror(errno), fatal/fatalx exit. */
#ifndef DMF_LOG_H
#define DMF_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

void log_init(const char *ident, bool foreground, int verbosity);
int log_verbosity(void);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* Route libdevmapper's own messages through this log. */
void log_route_libdm(void);

#endif
