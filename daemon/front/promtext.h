/* promtext.h: Prometheus's text exposition format: metric families with
 * HELP and TYPE, samples with escaped labels, built in one growing buffer. */
#ifndef DMF_PROMTEXT_H
#define DMF_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct promtext {
	char *buf;
	size_t len, cap;
	bool failed; /* out of memory: the text is incomplete */
};

/* A label: NAME="VALUE", VALUE any bytes (escaped, invalid UTF-8 as
 * \xHH). */
struct prom_label {
	const char *name;
	const char *value;
};

void promtext_init(struct promtext *t);
void promtext_free(struct promtext *t);
/* "# HELP NAME HELP" and "# TYPE NAME TYPE" ("counter", "gauge",
 * "histogram"). */
void promtext_family(struct promtext *t, const char *name, const char *type,
		     const char *help);
/* NAME{LABELS...,EXTRA} VALUE: N labels, then EXTRA (already formatted,
 * e.g. le="0.01"; NULL if none). */
void promtext_sample_u64(struct promtext *t, const char *name,
			 const struct prom_label *l, size_t n,
			 const char *extra, uint64_t value);
void promtext_sample_f(struct promtext *t, const char *name,
		       const struct prom_label *l, size_t n, const char *extra,
		       double value);
/* Append V to T escaped as a label value (for tests too). */
void promtext_label_value(struct promtext *t, const char *v);

#endif
