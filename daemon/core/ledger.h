/* ledger.h: a file's I/O totals that no region change loses: the counts of
 * regions that left its group, and of its live regions as last read. */
#ifndef DMF_LEDGER_H
#define DMF_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"

/* A region and its counters as read. */
struct ledger_region {
	uint64_t id, start, len;
	struct io_counters c;
};

struct ledger_list {
	struct ledger_region *v;
	size_t n, cap;
};

struct ledger {
	struct io_counters retired; /* regions gone, and counts before resets */
	struct ledger_list seen;    /* live regions, as last read */
	struct ledger_list pending; /* retired, but the group switch that
				     * drops them is not yet known done */
	uint64_t carried;           /* regions whose counts were retired */
	uint64_t resets;            /* regions seen with their counts cleared */
};

void ledger_init(struct ledger *l);
void ledger_free(struct ledger *l);
/* Live region ID (START+LEN) read now as NOW. If its counters went back
 * since the last read (cleared by another program), that read's counts are
 * retired first, so the totals never go back. Returns 1 if so, 0, or
 * -ENOMEM. */
int ledger_observe(struct ledger *l, uint64_t id, uint64_t start,
		   uint64_t len, const struct io_counters *now);
/* Region ID leaves the group, FINAL its counters read just before (NULL:
 * it could not be read; the last read's are used; lower than the last
 * read: cleared since, and the last read's are retired too). Its counts
 * are retired, pending until ledger_settle. Returns 0 or -ENOMEM. */
int ledger_carry(struct ledger *l, uint64_t id, uint64_t start, uint64_t len,
		 const struct io_counters *final);
/* The group switch that drops the pending regions was DONE, or was not
 * (they are still members: their counts are live again). */
void ledger_settle(struct ledger *l, bool done);
/* The counts C of REGIONS regions that left the group unseen (undone
 * after a crash) are retired. Returns 0 or -ENOMEM. */
int ledger_retire(struct ledger *l, const struct io_counters *c,
		  uint64_t regions);
/* Pending region I only: settled if DONE, else live again. Returns 0 or
 * -ENOMEM (its counts are lost). */
int ledger_settle_one(struct ledger *l, size_t i, bool done);
/* After a restart: pending regions still among MEMBERS (N ids) are
 * undone (the switch never happened), the others settled. */
void ledger_resolve(struct ledger *l, const uint64_t *members, size_t n);
/* Live regions read before that are no longer among MEMBERS left the
 * group without a carry (deleted by another program): their last reads
 * are retired. Returns how many. */
size_t ledger_prune(struct ledger *l, const uint64_t *members, size_t n);
/* The file's totals into OUT (to be counters_free'd): retired and pending
 * counts, and every live region's last read (in-flight I/O: live regions
 * only). Returns 0 or -ENOMEM. */
int ledger_total(const struct ledger *l, struct io_counters *out);
/* Add region R to list L (the state file's restore). 0 or -ENOMEM. */
int ledger_list_add(struct ledger_list *l, const struct ledger_region *r);

#endif
