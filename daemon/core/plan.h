/* plan.h: extent lists (sorted, adjacent ranges merged) and the plan of
 * region creates, deletes and keeps that makes a group cover exactly them. */
#ifndef DMF_PLAN_H
#define DMF_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct extent {
	uint64_t start; /* sectors from the start of the device */
	uint64_t len;   /* sectors */
};

struct extent_list {
	struct extent *v; /* sorted by start, physically adjacent ones merged */
	size_t n;
	size_t cap;
};

/* Append one extent (as from FIEMAP, in logical order); sort + merge with
 * extent_list_finish(). Returns 0 or -ENOMEM. */
int extent_list_add(struct extent_list *l, uint64_t start, uint64_t len);
void extent_list_finish(struct extent_list *l);
void extent_list_free(struct extent_list *l);

/* A region that is currently a member of the group. */
struct member {
	uint64_t id;
	uint64_t start;
	uint64_t len;
};

/* What to do to make the group match the file. */
struct plan {
	struct extent *create; /* ranges to create regions for */
	size_t ncreate;
	uint64_t *remove; /* member region ids to delete */
	size_t nremove;
	uint64_t *keep; /* member region ids that stay */
	size_t nkeep;
};

/* Regions that may cover one extent: a file that grows in place keeps its
 * old region and gets one for the new tail (its counts stay where dmstats
 * report shows them); past this many, the extent is made one region. */
#define PLAN_PIECES_MAX 4

/* Compare MEMBERS (any order) with the wanted EXTENTS. A member that lies
 * wholly inside a wanted extent, and overlaps no other member kept, is
 * kept; every other member is removed; the parts of each extent that no
 * kept member covers get new regions. An extent that would take more than
 * PLAN_PIECES_MAX regions is made one new region, its members removed.
 * Returns 0 or -ENOMEM. */
int plan_make(const struct member *members, size_t nmembers,
		 const struct extent_list *want, struct plan *out);
void plan_free(struct plan *p);
static inline bool plan_empty(const struct plan *p)
{
	return p->ncreate == 0 && p->nremove == 0;
}

#endif
