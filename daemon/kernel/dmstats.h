/* dmstats.h: the dm-stats messages and DM_DEVICE_INFO, sent with
 * libdevmapper: the daemon's struct dm_backend (with kernel/fiemap.c). */
#ifndef DMF_DMSTATS_H
#define DMF_DMSTATS_H

#include "core/backend.h"

/* The state the operations share: the reply of the last @stats_list,
 * kept until the next operation. */
struct dmstats {
	struct dm_task *last;
};

/* The kernel's backend, its ctx S (which must outlive it). */
void dmstats_backend(struct dmstats *s, struct dm_backend *be);
/* Let go of the last reply. */
void dmstats_release(struct dmstats *s);

#endif
