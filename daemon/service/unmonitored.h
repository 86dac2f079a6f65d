/* unmonitored.h: dm-stats groups that no monitor keeps, on every device-
 * mapper device: found by a scan, with the file each maps when it can be
 * found for certain, and the command that adopts it said once in the log. */
#ifndef DMF_UNMONITORED_H
#define DMF_UNMONITORED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct service;

struct unmonitored {
	dev_t devno;
	char dm_name[128];
	char devstr[24];
	uint64_t group_id;
	char *alias;   /* "" when none */
	size_t regions;
	char *path;    /* the file its regions map exactly, or NULL */
	bool seen;     /* in the last scan */
};

struct unmonitored_set {
	struct unmonitored *v;
	size_t n, cap;
	double scanned_at; /* loop time of the last scan, 0: never */
};

/* Devices looked at per scan, at most. */
#define UNMONITORED_DEVICES_MAX 4096

/* Scan every device-mapper device (one DM_DEVICE_LIST, and one
 * @stats_list for each device no monitor uses) for groups no monitor
 * keeps. A group found for the first time is looked for on the device's
 * filesystems (kernel/findfile.c) and logged with the command that adopts
 * it. */
void unmonitored_scan(struct service *s);
void unmonitored_free(struct unmonitored_set *u);

#endif
