/* test_budget.c: unit tests for daemon/front/budget.c: each user's but
 * root's kernel reads, a bucket refilled at a fixed rate. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "front/budget.h"

static void test_root_is_never_refused(void **state)
{
	struct budget b;
	double wait = -1;

	(void)state;
	budget_init(&b, 10, 100);
	for (int i = 0; i < 100; i++)
		assert_true(budget_take(&b, 0, 1e6, 0, &wait));
	assert_true(wait == 0);
	assert_int_equal(b.n, 0);
}

static void test_burst_then_rate(void **state)
{
	struct budget b;
	double wait;

	(void)state;
	budget_init(&b, 10, 100);
	assert_true(budget_take(&b, 1000, 60, 0, &wait));
	assert_true(budget_take(&b, 1000, 40, 0, &wait));
	/* empty: 5 reads wait 0.5 s at 10 a second */
	assert_false(budget_take(&b, 1000, 5, 0, &wait));
	assert_true(wait > 0.49 && wait < 0.51);
	assert_false(budget_take(&b, 1000, 5, 0.4, &wait));
	assert_true(budget_take(&b, 1000, 5, 0.5, &wait));
	/* another user has a bucket of its own */
	assert_true(budget_take(&b, 1001, 100, 0.5, &wait));
	/* refilled, never above the burst */
	assert_true(budget_take(&b, 1000, 100, 1000, &wait));
	assert_false(budget_take(&b, 1000, 1, 1000, &wait));
}

/* A call costing more than the burst runs when the bucket is full, and
 * then the user waits until the debt is paid back. */
static void test_call_over_the_burst(void **state)
{
	struct budget b;
	double wait;

	(void)state;
	budget_init(&b, 10, 100);
	assert_true(budget_take(&b, 7, 300, 0, &wait));
	assert_false(budget_take(&b, 7, 300, 10, &wait)); /* -200 + 100 */
	assert_true(wait > 19.9 && wait < 20.1); /* full again at 30 */
	assert_true(budget_take(&b, 7, 300, 30, &wait));
}

/* With more users than slots, a full bucket makes room: no one's debt
 * is forgiven by others coming and going. */
static void test_slots_reused_fullest_first(void **state)
{
	struct budget b;
	double wait;

	(void)state;
	budget_init(&b, 1, 100);
	assert_true(budget_take(&b, 5, 100, 0, &wait)); /* 5 is empty */
	for (uid_t u = 100; u < 100 + 3 * BUDGET_UIDS; u++)
		assert_true(budget_take(&b, u, 0, 0, &wait));
	assert_int_equal(b.n, BUDGET_UIDS);
	assert_false(budget_take(&b, 5, 50, 1, &wait));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_is_never_refused),
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_call_over_the_burst),
		cmocka_unit_test(test_slots_reused_fullest_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
