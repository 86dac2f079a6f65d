/* ctl.h: what dmfilemapctl's commands share: the socket, the one way to
 * fail, and the calls and output helpers. */
#ifndef DMF_CTL_H
#define DMF_CTL_H

#include <cjson/cJSON.h>

#include "client.h"

#define PROG "dmfilemapctl"

/* A usage error: one line naming ARG, the "Try --help" line, exit 2. */
void usage_error(const char *fmt, const char *arg) __attribute__((noreturn));
/* A failure: one line, exit 1. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						noreturn));
/* Connect C to the supervisor (--socket, $DMFILEMAP_SOCKET, default) or
 * fail. */
void connect_or_fail(struct client *c);
void print_json(const cJSON *o);
/* Member K of O as a number (0 if none). */
double num(const cJSON *o, const char *k);
/* FILE as an absolute path (malloc'd; not resolved), or fail. */
char *absolute(const char *file);

/* The stats command (stats.c). */
int cmd_stats(int argc, char **argv);

#endif
