/* regions.h: one device's dm-stats regions as we know them: the kernel's
 * @stats_list parsed, and kept right by each change we send through it. */
#ifndef DMF_REGIONS_H
#define DMF_REGIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/auxdata.h"
#include "core/backend.h"
#include "core/counters.h"

struct regions {
	const struct dm_backend *be;
	struct ioctl_counts *count; /* the owner's, added to by each message */
	dev_t dev;
	const char *name;      /* the device's dm name, for messages */
	struct aux_list list;  /* as of the last @stats_list, and our changes */
	bool valid;            /* LIST may be used */
	bool stale;  /* another program changed regions: list before the next
		      * create (group.c predicts ids from the list) */
	char *text;  /* the last list's text, while LIST is unchanged by us */
	size_t text_len;
	size_t skipped_said; /* malformed rows last logged */
	bool marked; /* marks of ours may be left (core/marks.h): sweep them
		      * once the owner has saved what they guard */
	uint64_t marks_gen; /* one more each time marks are left */
};

/* NAME must outlive RS. */
void regions_init(struct regions *rs, const struct dm_backend *be,
		  struct ioctl_counts *count, dev_t dev, const char *name);
void regions_free(struct regions *rs);
/* One @stats_list into the list (two if rows of the first do not parse:
 * list.skipped says how many of the second's did not). Returns 0, 1 if
 * nothing changed but what we did (the kernel's text is the same as last
 * time and the list was not changed since, or it lists exactly what our
 * own messages made it), or -errno (the list is then invalid). */
int regions_refresh(struct regions *rs);
/* The list was changed here: the next @stats_list is parsed again,
 * whatever its text. */
void regions_touched(struct regions *rs);

/* The dm-stats messages, each recorded in the list. Return 0 or -errno. */
int regions_create(struct regions *rs, uint64_t start, uint64_t len,
		   const struct region_args *a, uint64_t *id);
/* The region leaves the list, unless the kernel refused to delete it
 * (-ENOENT: it was gone already). */
int regions_delete(struct regions *rs, uint64_t id);
int regions_set_aux(struct regions *rs, uint64_t id, const char *aux);
/* Region ID's counters now (@stats_print), into OUT (counters_free it);
 * its precision is taken from the list. Returns 0 or -errno (-EPROTO: a
 * reply that is not counters). */
int regions_print(struct regions *rs, uint64_t id, struct io_counters *out);

#endif
