/* solo.h: the shim's fallback when no supervisor can be reached or started:
 * one file's monitor in this process, with its own loop, as LVM2's did. */
#ifndef DMF_SOLO_H
#define DMF_SOLO_H

#include <stdbool.h>
#include <stdint.h>

#include "service/monitor.h"

struct solo_args {
	const char *prog; /* for the log */
	int fd;
	const char *path;
	uint64_t group_id;
	enum monitor_mode mode;
	bool foreground;
	int verbose;
};

/* Monitor one file until its monitor ends or SIGTERM/SIGINT. Detaches
 * first unless FOREGROUND (the caller's process exits with the start's
 * status). Returns an exit status. */
int solo_run(const struct solo_args *a);

#endif
