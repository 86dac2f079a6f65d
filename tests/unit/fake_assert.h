/* fake_assert.h: cmocka checks of the fake dm-stats' regions and calls,
 * shared by the unit tests that drive it; include after <cmocka.h>. */
#ifndef DMF_FAKE_ASSERT_H
#define DMF_FAKE_ASSERT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_dm.h"

/* The test's line that called the helper now checking (a failing
 * helper's assert reports its own line). */
static int at_line;

static inline void dump_fake(dev_t dev)
{
	char *t = fake_list_text(dev);

	print_error("the fake's @stats_list:\n%s", t && *t ? t : "(empty)\n");
	free(t);
}

/* Region ID of DEV is START+LEN with aux_data AUX. */
static inline void assert_region_on_fn(dev_t dev, uint64_t id, uint64_t start,
				       uint64_t len, const char *aux)
{
	const struct fake_region *r = fake_region(dev, id);

	if (!r || r->start != start || r->len != len ||
	    strcmp(r->aux_data, aux)) {
		print_error("line %d: want region %llu: %llu+%llu aux \"%s\"\n",
			    at_line, (unsigned long long)id,
			    (unsigned long long)start, (unsigned long long)len,
			    aux);
		dump_fake(dev);
	}
	assert_non_null(r);
	assert_int_equal(r->start, start);
	assert_int_equal(r->len, len);
	assert_string_equal(r->aux_data, aux);
}
#define assert_region_on(...) \
	(at_line = __LINE__, assert_region_on_fn(__VA_ARGS__))

/* The fake's regions on DEV are exactly IDS (increasing). */
static inline void assert_fake_ids_fn(dev_t dev, const uint64_t *ids, size_t n)
{
	bool ok = fake_count(dev) == n;

	for (size_t i = 0; ok && i < n; i++)
		ok = fake_region_at(dev, i)->id == ids[i];
	if (!ok) {
		print_error("line %d: want %zu regions:", at_line, n);
		for (size_t i = 0; i < n; i++)
			print_error(" %llu", (unsigned long long)ids[i]);
		print_error("\n");
		dump_fake(dev);
	}
	assert_true(ok);
}
#define IDS(...) ((const uint64_t[]){ __VA_ARGS__ })
#define assert_fake_ids_on(dev, ...)                                     \
	(at_line = __LINE__,                                             \
	 assert_fake_ids_fn((dev), IDS(__VA_ARGS__),                     \
			    sizeof(IDS(__VA_ARGS__)) / sizeof(uint64_t)))
#define assert_fake_empty_on(dev) \
	(at_line = __LINE__, assert_fake_ids_fn((dev), NULL, 0))

/* Exactly WANT calls of OP since the counters were last cleared. */
static inline void assert_calls_fn(enum fake_op op, unsigned long want)
{
	static const char *names[] = { "identify", "list",    "create",
				       "remove",   "set_aux", "extents",
				       "print", "devices" };
	unsigned long got = fake_calls(op);

	if (got != want)
		print_error("line %d: %s calls: got %lu, want %lu\n", at_line,
			    names[op], got, want);
	assert_int_equal(got, want);
}
#define assert_calls(...) (at_line = __LINE__, assert_calls_fn(__VA_ARGS__))

#endif
