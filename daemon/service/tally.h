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
 * them into M's ledger (pending until the plan is applied); *N how many.
 * One already gone is carried with its last read counts. Returns 0, or
 * -errno with WHY set if one cannot be read (nothing is carried then:
 * the plan must wait). */
int tally_carry(struct monitor *m, const struct group_view *v,
		const struct plan *p, size_t *n, char *why, size_t whylen);
/* M's pending regions against the list and its group V now: those gone,
 * or released to another group that claims them too (as OLD, the group
 * before, says; NULL: as the list's claims say), are settled, those
 * members again are live again, and those still there outside any group
 * are left pending (a delete to retry; WHY says which). *DONE: how many
 * settled. Returns how many are left. */
size_t tally_settle_gone(struct monitor *m, const struct group_view *v,
			 const struct group_view *old, size_t *done, char *why,
			 size_t whylen);
/* Regions of M's ledger that are no longer members of group V (deleted by
 * another program) are retired with their last read counts, before the
 * kernel can give their ids to new regions. Returns how many. */
size_t tally_prune(struct monitor *m, const struct group_view *v);
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
