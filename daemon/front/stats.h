/* stats.h: the Stats method's answer for one monitor: its file's I/O
 * totals, read from the kernel and its ledger, as a FileStats object. */
#ifndef DMF_STATS_H
#define DMF_STATS_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct monitor;

/* M's FileStats (see the interface), or NULL with WHY set: a read that
 * failed, or out of memory. */
cJSON *stats_file_json(struct monitor *m, char *why, size_t whylen);

#endif
