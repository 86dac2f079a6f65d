/* backend.h: the kernel calls made for a device and its files, as a table
 * the owner fills: kernel/dmstats.c and kernel/fiemap.c, or a test's fake. */
#ifndef DMF_BACKEND_H
#define DMF_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/plan.h"

/* What a new region is made with. */
struct region_args {
	const char *program_id;
	const char *aux_data;
	bool precise;
	const char *histogram; /* "10,20,30" or NULL */
};

/* Dm ioctls sent since start, by kind (shown by Info). */
struct ioctl_counts {
	uint64_t stats_list, stats_create, stats_delete, stats_set_aux, info;
	uint64_t stats_print;
	uint64_t total;
};

/* Every operation returns 0 or -errno, and is given the table's CTX. */
struct dm_backend {
	/* DM_DEVICE_INFO: DEV's dm name into NAME. On failure WHY says why
	 * in one line; -ENODEV: not a dm device, known without an ioctl. */
	int (*identify)(void *ctx, dev_t dev, char *name, size_t namelen,
			char *why, size_t whylen);
	/* @stats_list: *TEXT is the kernel's reply, valid until the next
	 * operation on CTX. */
	int (*list)(void *ctx, dev_t dev, const char **text);
	/* @stats_create of one region START+LEN (sectors); *ID its id. */
	int (*create)(void *ctx, dev_t dev, uint64_t start, uint64_t len,
		      const struct region_args *a, uint64_t *id);
	/* @stats_delete */
	int (*remove)(void *ctx, dev_t dev, uint64_t id);
	/* @stats_set_aux ("" clears it) */
	int (*set_aux)(void *ctx, dev_t dev, uint64_t id, const char *aux);
	/* FIEMAP: FD's allocated extents into OUT (sorted and merged), never
	 * waiting for I/O. Without SYNC, -EAGAIN if some have no place yet;
	 * with SYNC their writeback is started (not waited for), those still
	 * without a place are left out, and 1 is returned: read again later.
	 * Returns 0, 1 or -errno. */
	int (*extents)(void *ctx, int fd, bool sync, struct extent_list *out);
	/* @stats_print of region ID: *TEXT is the kernel's reply (its
	 * counters), valid until the next operation on CTX. */
	int (*print)(void *ctx, dev_t dev, uint64_t id, const char **text);
	/* DM_DEVICE_LIST: the device-mapper devices, at most MAX into OUT;
	 * *N how many. */
	int (*devices)(void *ctx, dev_t *out, size_t max, size_t *n);
	void *ctx;
	/* The host's dmstats reads DMS_GROUP="alias" (LVM2 2.03.23 and
	 * later): new groups are written so; else DMS_GROUP=alias. */
	bool quoted_aliases;
};

#endif
