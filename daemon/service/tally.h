/* tally.h: a monitor's I/O counts: the counters of regions its plan drops
 * carried into its ledger, and its totals read from its live regions. */
#ifndef DMF_TALLY_H
#define DMF_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"
#include "core/group.h"
#include "core/plan.h"

struct monitor;

/* Read the counters of every region plan P drops from group V and carry
 * them into M's ledger (pending until the plan is applied). A region that
 * cannot be read is carried with its last read counts. Returns how many
 * were carried. */
size_t tally_carry(struct monitor *m, const struct group_view *v,
		   const struct plan *p);
/* Regions of M's ledger that are no longer members of group V (deleted by
 * another program) are retired with their last read counts, before the
 * kernel can give their ids to new regions. Returns how many. */
size_t tally_prune(struct monitor *m, const struct group_view *v);
/* M's group as it is: pending counts of regions still in it are live
 * again (the switch never happened), the others settle (after a restart).
 * Returns 0 or -ENOMEM. */
int tally_resolve(struct monitor *m);
/* M's totals now: every live region read, then the ledger's totals into
 * OUT (counters_free it); the group's histogram bounds in ns into BOUNDS
 * (*N of them, at most MAX). Returns 1 if counts moved into the ledger's
 * retired (a reset: to be saved), 0, or -errno with WHY set. */
int tally_read(struct monitor *m, struct io_counters *out, uint64_t *bounds,
	       size_t max, size_t *n, char *why, size_t whylen);

/* M's totals as last read (no ioctl): the ledger's, into OUT (free it),
 * and the group's histogram bounds as tally_read gives them. Returns 0 or
 * -errno. */
int tally_totals(struct monitor *m, struct io_counters *out, uint64_t *bounds,
		 size_t max, size_t *n);

#endif
