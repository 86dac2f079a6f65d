/* marks.h: the mark the kernel keeps on what an update of ours is making,
 * until the update is whole; and, after a crash, each mark finished or undone. */
#ifndef DMF_MARKS_H
#define DMF_MARKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"
#include "core/regions.h"

/* "dmfilemap:new:INSTANCE:OWNER": INSTANCE names this supervisor (its
 * state file), OWNER the monitor the update is for (0: none yet). */
#define MARK_TAG "dmfilemap:new:"
#define MARK_MAX 64
#define MARK_INSTANCE_LEN 16 /* hex digits */

/* Write the mark of INSTANCE's monitor OWNER into BUF (MARK_MAX). */
void mark_format(char *buf, size_t len, const char *instance, uint64_t owner);
/* Whether TEXT begins with a mark of INSTANCE; if so *OWNER is its owner
 * and *REST what follows it ("" or, after a '|', the text it hides). */
bool mark_parse(const char *text, const char *instance, uint64_t *owner,
		const char **rest);
/* TEXT with MARK in front of it ("MARK" or "MARK|TEXT"), malloc'd; a mark
 * TEXT has already is kept instead. NULL: out of memory. */
char *mark_prepend(const char *mark, const char *text);

/* What a sweep found, for the owner of each mark. */
struct mark_found {
	uint64_t owner;
	bool regrouped;           /* its group has a new leader: */
	uint64_t group;           /* the group's id now */
	struct io_counters undone; /* the counts of its regions deleted */
	size_t regions;           /* how many were undone */
	size_t failed;            /* its marks a message failed to sweep */
	char why[160];            /* the first such failure */
};

struct marks_swept {
	struct mark_found *v;
	size_t n, cap;
	size_t cleared, undone, stripped, failed;
};

/* Finish or undo every mark of INSTANCE on RS's device (RS's list valid):
 * a marked region that a whole group names is cleared (the update was
 * done); one that no group names is read and deleted (it was not); a
 * group descriptor marked while its group changed leader loses the mark.
 * Only safe when no update of ours is under way. What was found is added
 * to OUT. Returns 0 or -ENOMEM (the rest is said in the log). */
int marks_sweep(struct regions *rs, const char *instance,
		struct marks_swept *out);
void marks_swept_free(struct marks_swept *s);
/* The entry of OWNER in S, or NULL. */
const struct mark_found *marks_swept_find(const struct marks_swept *s,
					  uint64_t owner);
/* Whether RS's list holds a mark of INSTANCE. */
bool marks_present(const struct regions *rs, const char *instance);

#endif
