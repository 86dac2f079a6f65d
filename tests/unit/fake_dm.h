/* fake_dm.h: a simulated dm-stats kernel behind struct dm_backend, for
 * unit tests: regions per device (keyed by dev_t), @stats_list text as the
 * kernel prints it, extents per fd, faults injected at any call (and short
 * or garbled list replies), call counters, and a hook run before each
 * operation. One global fake. */
#ifndef DMF_FAKE_DM_H
#define DMF_FAKE_DM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/backend.h"
#include "core/plan.h"

enum fake_op {
	FAKE_IDENTIFY,
	FAKE_LIST,
	FAKE_CREATE,
	FAKE_REMOVE,
	FAKE_SET_AUX,
	FAKE_EXTENTS,
	FAKE_PRINT,
	FAKE_DEVICES,
	FAKE_NOPS
};

/* What the kernel's dm_stats_delete/dm_stats_set_aux return for an id
 * that has no region (__dm_stats_find() fails: -ENOENT in dm-stats.c). */
#define FAKE_ENOREGION ENOENT

/* Histogram counts kept per region (bounds + 1). */
#define FAKE_BUCKETS 16

/* fake_add_region's id: the lowest free one, as @stats_create gives. */
#define FAKE_ID_LOWEST UINT64_MAX

struct fake_region {
	uint64_t id, start, len;
	char *program_id; /* "" when none (listed as "-") */
	char *aux_data; /* "" when none (listed as "-") */
	bool precise;
	char *histogram; /* "10,20" or NULL */
	/* the 13 counters @stats_print gives (ms, or ns if precise), and the
	 * histogram's counts (one more than its bounds) */
	uint64_t io[13];
	uint64_t bucket[FAKE_BUCKETS];
};

/* Forget everything: devices, regions, extents, faults, counters, hook,
 * the last list text. Call it in each test's setup and teardown. */
void fake_reset(void);
/* The table to give regions_init (ctx points at the fake). */
struct dm_backend fake_backend(void);

/* A device-mapper device named NAME. Returns 0 or -EEXIST. */
int fake_add_device(dev_t dev, const char *name);

/* Regions made directly (another program's work, or a test's initial
 * state), not counted as calls. ID FAKE_ID_LOWEST: the lowest free one.
 * Returns the id, or -ENODEV, -EEXIST, -EINVAL. */
int64_t fake_add_region(dev_t dev, uint64_t id, uint64_t start, uint64_t len,
			const char *aux_data);
int64_t fake_add_region_args(dev_t dev, uint64_t id, uint64_t start,
			     uint64_t len, const struct region_args *a);
/* Returns 0 or -FAKE_ENOREGION / -ENODEV. */
int fake_remove_region(dev_t dev, uint64_t id);
int fake_set_region_aux(dev_t dev, uint64_t id, const char *aux_data);
/* Region ID of DEV (valid until the next change), or NULL. */
const struct fake_region *fake_region(dev_t dev, uint64_t id);
/* Regions on DEV; the I-th lowest id (I < fake_count). */
size_t fake_count(dev_t dev);
const struct fake_region *fake_region_at(dev_t dev, size_t i);

/* I/O of NSECT sectors at SECTOR of DEV completed in MS milliseconds
 * (a write if WRITE): counted, as dm-stats does, in every region it
 * overlaps (reads or writes + 1, sectors + NSECT, time + MS, io ticks +
 * MS, and the histogram's bucket for MS). */
void fake_io(dev_t dev, uint64_t sector, uint64_t nsect, bool write,
	     uint64_t ms);
/* @stats_clear of region ID: its counters go to 0. 0 or -FAKE_ENOREGION. */
int fake_clear_counters(dev_t dev, uint64_t id);

/* What the extents op returns for FD (copied; at most 64). */
void fake_set_extents(int fd, const struct extent *e, size_t n);

/* The Nth call of OP from now (N counted from 1) fails with -ERR. Up to
 * 8 such rules may be armed at once. */
void fake_fail_nth(enum fake_op op, unsigned n, int err);
/* Every call of OP fails with -ERR (0: no longer). A rule for the Nth
 * call wins over this one. */
void fake_fail_always(enum fake_op op, int err);
void fake_clear_faults(void);

/* How fake_damage_list_nth spoils a @stats_list reply. */
enum fake_damage {
	FAKE_SHORT,  /* cut halfway through the row: the rows after it lost */
	FAKE_GARBLED /* the row's bytes replaced by junk that is no row */
};
/* The Nth list call from now (N from 1) replies with its text spoiled as
 * HOW says at its row ROW (from 0; a reply of fewer rows is left whole).
 * One such rule at a time; fake_clear_faults drops it too. */
void fake_damage_list_nth(unsigned n, enum fake_damage how, size_t row);

/* Calls of OP since the last reset or fake_clear_calls (failed ones
 * too), and their sum. Clearing keeps armed faults where they were. */
unsigned long fake_calls(enum fake_op op);
unsigned long fake_calls_total(void);
void fake_clear_calls(void);

/* FN runs before each operation is executed (and before faults are
 * applied), with CALL the op's call number counted from the last reset
 * (from 1). DEV is 0 for extents. FN may use the direct helpers above. */
typedef void (*fake_hook_fn)(enum fake_op op, unsigned long call, dev_t dev,
			     void *arg);
void fake_set_hook(fake_hook_fn fn, void *arg);

/* The kernel's @stats_list text for DEV as a malloc'd string. */
char *fake_list_text(dev_t dev);

#endif
