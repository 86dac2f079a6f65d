/* auxdata.h: the text the kernel gives and takes for dm-stats: @stats_list
 * rows, DMS_GROUP group descriptors in aux_data, and message escaping. */
#ifndef DMF_AUXDATA_H
#define DMF_AUXDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what we accept from the kernel (aux_data is untrusted: any
 * root tool can write it). */
#define AUX_ID_MAX 0x7fffffffULL /* largest region id we accept */
#define AUX_TEXT_MAX 4096        /* program_id, histogram */
/* aux_data: a group descriptor names every member, and a file may have
 * tens of thousands of extents whose region ids are not contiguous */
#define AUX_DATA_MAX (1024 * 1024)

/* One row of @stats_list. */
struct aux_region {
	uint64_t id;
	uint64_t start; /* sectors */
	uint64_t len;   /* sectors */
	uint64_t step;
	char *program_id; /* "-" in the kernel's text is returned as "" */
	char *aux_data;   /* "" when none */
	bool precise;
	char *histogram; /* the bounds as listed ("10,20,30"), NULL if none */
	uint32_t claims; /* group descriptors naming it (aux_list_count_claims) */
};

struct aux_list {
	struct aux_region *regions; /* sorted by id */
	size_t n;
	size_t cap; /* regions allocated */
	size_t skipped; /* rows that did not parse and were ignored */
};

/* A group descriptor: DMS_GROUP=ALIAS:MEMBERS#USER_AUX (Debian 12's
 * libdevmapper) or DMS_GROUP="ALIAS":MEMBERS#USER_AUX (LVM2 2.03.23 and
 * later). Neither escapes anything in the alias: Debian 12's ends it at
 * the first ':', LVM2's at the first '":'. */
struct aux_group {
	char *alias;    /* "" when none */
	bool quoted;    /* alias was written in the quoted form */
	uint64_t *members; /* sorted, unique */
	size_t n;
	char *user_aux; /* text after '#', "" for "-" or none */
	char *prefix;   /* aux_data text before "DMS_GROUP=", usually "" */
};

/* Parse a whole @stats_list response. Rows that do not parse are skipped
 * and counted. Returns 0, or -ENOMEM. */
int aux_list_parse(const char *text, struct aux_list *out);
void aux_list_free(struct aux_list *l);
/* Region with id ID, or NULL. */
struct aux_region *aux_list_find(const struct aux_list *l, uint64_t id);
/* Insert (keeping id order) or remove one region; the list takes ownership
 * of R's strings on insert. Return 0, or -ENOMEM. */
int aux_list_insert(struct aux_list *l, struct aux_region *r);
void aux_list_remove(struct aux_list *l, uint64_t id);
void aux_region_free(struct aux_region *r);
/* The N lowest ids that are not in L, in increasing order into OUT: the
 * ids the kernel gives the next N regions created on the device, unless
 * another program creates or deletes regions meanwhile. */
void aux_list_free_ids(const struct aux_list *l, size_t n, uint64_t *out);
/* Whether A and B list the same regions, field for field (claims aside),
 * with no row skipped in either. */
bool aux_list_same(const struct aux_list *a, const struct aux_list *b);
/* Set each region's claims: how many valid group descriptors (in the
 * group's lowest member) name it. More than one means a descriptor lies. */
void aux_list_count_claims(struct aux_list *l);

/* Parse one @stats_list row into R. Returns 0, -EINVAL (malformed) or
 * -ENOMEM. */
int aux_region_parse(const char *row, size_t len, struct aux_region *r);

/* Parse the group descriptor in AUX. Returns 1 if found and well formed,
 * 0 if AUX holds no descriptor, -EINVAL if it holds a malformed one (or
 * -ENOMEM). */
int aux_group_parse(const char *aux, struct aux_group *g);
void aux_group_free(struct aux_group *g);
/* The group as aux_data text (malloc'd), members written as ranges
 * ("0-3,5"). Uses the quoted form if g->quoted or the alias needs it; the
 * alias is written as it is. */
char *aux_group_format(const struct aux_group *g);
/* Whether ALIAS can be written in the quoted form only: it has a space or
 * a ':', or starts with '"'. (Debian 12's dmstats reads no such group.) */
bool aux_alias_needs_quotes(const char *alias);
/* Format a member list as ranges into a malloc'd string. */
char *aux_members_format(const uint64_t *ids, size_t n);
/* Parse "0-3,5" into a sorted unique malloc'd array. Returns 0, -EINVAL
 * (malformed, or too many members) or -ENOMEM. */
int aux_members_parse(const char *s, size_t len, uint64_t **ids, size_t *n);
/* Sort N region ids in increasing order. */
void aux_ids_sort(uint64_t *ids, size_t n);

/* Escape S for a dm message argument: backslash before whitespace and
 * backslashes; "" becomes "-". Returns malloc'd text. */
char *aux_escape_arg(const char *s);

/* Is ALIAS acceptable for a group we create: at most DMF_ALIAS_MAX bytes,
 * no control characters but tab, no newline, no ':' (no dmstats reads
 * it back). */
bool aux_alias_valid(const char *alias);

#endif
