/* stats.h: the Stats method: the monitors it names, and each one's file's
 * I/O totals, read from the kernel and its ledger, as FileStats. */
#ifndef DMF_STATS_H
#define DMF_STATS_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct monitor;
struct service;

/* The reply to Stats with parameters P (the monitors of SVC named by
 * "ids" and "paths", or all), or an error reply; NULL: out of memory. */
char *stats_call(struct service *svc, const cJSON *p);
/* The regions a Stats call with parameters P reads (about). */
double stats_cost(const struct service *svc, const cJSON *p);
/* M's FileStats (see the interface), or NULL with WHY set: a read that
 * failed, or out of memory. */
cJSON *stats_file_json(struct monitor *m, char *why, size_t whylen);

#endif
