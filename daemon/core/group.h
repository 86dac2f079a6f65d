/* group.h: a dm-stats region group on one device: read from the shared
 * region list, created from extents, changed by a plan without half-builds. */
#ifndef DMF_GROUP_H
#define DMF_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/auxdata.h"
#include "core/plan.h"
#include "core/regions.h"

struct group_view {
	uint64_t id;
	struct aux_group desc;    /* the leader's descriptor */
	struct member *members;   /* members present in the list */
	size_t n;
	size_t missing;           /* listed members the kernel no longer has */
	uint64_t *contested;      /* members another descriptor names too */
	size_t ncontested;
	char *program_id;         /* the leader's: new regions get the same */
	bool precise;
	char *histogram;
};

/* Read group ID from RS's list. Returns 1, 0 if there is no such group
 * (no region ID, or it carries no valid descriptor leading the group), or
 * -ENOMEM. */
int group_read(const struct regions *rs, uint64_t id, struct group_view *v);
void group_view_free(struct group_view *v);
/* Whether another group's descriptor names member ID of V too. Such a
 * region is never deleted: a plan that drops it only releases it from V. */
bool group_contested(const struct group_view *v, uint64_t id);

/* Create a group for the extents E. On failure nothing is left behind;
 * WHY says what failed. Regions of a group of several are made with MARK
 * (core/marks.h; NULL: none) until its descriptor is written, so that a
 * crash leaves none that is not known to be ours. Returns 0, 1 if made
 * but a mark is left (to be swept; WHY says so), or -errno. */
int group_create(struct regions *rs, const struct extent_list *e,
		 const char *alias, bool precise, const char *histogram,
		 const char *mark, uint64_t *group_id, char *why,
		 size_t whylen);

/* Apply plan P to group V: regions are created first, then the group
 * descriptor is switched to the new member list in one message, then
 * dropped regions are deleted. If a create or the switch fails, the
 * regions created are deleted again and the group is as before. Dropped
 * regions that are contested are released, not deleted, and a kept one
 * that leads another group is replaced in P by a region of V's own (its
 * descriptor is that group's). *NEW_ID is the group id afterwards (the
 * lowest member). Regions are made with MARK (NULL: none) until the
 * descriptor names them; if the leader changes, the new descriptor keeps
 * MARK until marks_sweep, after the owner has saved the new id (RS is
 * flagged marked). Returns 0, 1 if done but a mark is left (to be swept;
 * WHY says so), or -errno. */
int group_apply(struct regions *rs, const struct group_view *v,
		struct plan *p, const char *mark, uint64_t *new_id, char *why,
		size_t whylen);
/* What group_apply does to P first (and again, to no effect): a kept
 * region that leads another group is replaced by a region of V's own for
 * the same range; the other group keeps it (it is released). */
void group_fix_plan(const struct regions *rs, const struct group_view *v,
		    struct plan *p);

/* Delete every region of group V but the contested ones, which are left
 * without V's descriptor. Plain members are marked with MARK first (NULL:
 * not), so that one whose delete fails after the leader's is swept later.
 * Returns 0 once the leader is gone (the group with it; WHY, if not "",
 * names a member left for the sweep), or -errno with WHY set if it is not
 * (the group is whole). */
int group_delete(struct regions *rs, const struct group_view *v,
		 const char *mark, char *why, size_t whylen);

#endif
