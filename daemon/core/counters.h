/* counters.h: a region's I/O counters: the kernel's @stats_print text
 * parsed (times in ns whatever the precision), and their sums. */
#ifndef DMF_COUNTERS_H
#define DMF_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 13 counters of dm-stats, in the kernel's order. Times are in
 * nanoseconds (the kernel's milliseconds are converted). */
enum io_field {
	IO_READS,             /* reads completed */
	IO_READS_MERGED,
	IO_READ_SECTORS,
	IO_READ_TIME,         /* time spent reading: the reads' durations */
	IO_WRITES,
	IO_WRITES_MERGED,
	IO_WRITE_SECTORS,
	IO_WRITE_TIME,
	IO_IN_FLIGHT,         /* I/Os in progress now: not a sum over time */
	IO_TIME,              /* time with I/O in progress */
	IO_TIME_WEIGHTED,     /* that, weighted by the I/Os in progress */
	IO_READ_TOTAL_TIME,   /* time with reads in progress */
	IO_WRITE_TOTAL_TIME,  /* time with writes in progress */
	IO_NFIELDS
};

/* Histogram buckets accepted from the kernel (untrusted text): a region
 * listing more is refused. */
#define IO_BUCKETS_MAX 1025

struct io_counters {
	uint64_t v[IO_NFIELDS];
	size_t nbuckets;  /* bounds + 1, or 0: no histogram */
	uint64_t *bucket; /* malloc'd; the last: beyond the last bound */
};

/* Parse the reply of "@stats_print ID": a line per area of the region,
 * "START+LEN", 13 counters, then the histogram's counts ("c0:c1:..."),
 * times in milliseconds unless PRECISE (nanoseconds); the areas' counters
 * are summed. Returns 0, -EINVAL if the text is not that, or -ENOMEM. */
int counters_parse(const char *text, bool precise, struct io_counters *out);
void counters_free(struct io_counters *c);
/* C as text counters_parse reads back exactly (precise: ns), with a
 * "0+0" range: malloc'd, or NULL. */
char *counters_format(const struct io_counters *c);
/* TO = C (TO freed first). Returns 0 or -ENOMEM (TO is then zero). */
int counters_copy(struct io_counters *to, const struct io_counters *c);
/* TO += C, for every counter but IO_IN_FLIGHT, and the histogram if TO's
 * has C's shape or none (then it takes C's). Sums saturate. Returns 0 or
 * -ENOMEM (the histogram is then left as it was). */
int counters_add(struct io_counters *to, const struct io_counters *c);
/* TO -= C, the inverse of counters_add (never below 0). */
void counters_sub(struct io_counters *to, const struct io_counters *c);
/* Whether any counter that only grows is lower in NOW than in BEFORE:
 * the region's counters were cleared (@stats_clear) or it was re-made. */
bool counters_went_back(const struct io_counters *now,
			const struct io_counters *before);

#endif
