/* Tests of shared/src/breaker.c, with a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shop/breaker.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"

#include <stdbool.h>
#include <stdint.h>

static uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void advance_ms(uint64_t ms)
{
	fake_now += ms * 1000000u;
}

static double state_gauge(void)
{
	return metric_value(metrics_gauge("http_client_breaker_state", "",
	                                  "upstream=\"product\""));
}

static int setup(void **state)
{
	struct breaker_options o = {.name = "product",
	                            .failures_to_open = 3,
	                            .open_ms = 1000,
	                            .clock = fake_clock};
	struct breaker *b;

	metrics_reset();
	fake_now = 1000000000u;
	assert_int_equal(breaker_new(&o, &b), 0);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	breaker_free(*state);
	return 0;
}

static void fail_once(struct breaker *b)
{
	bool probe = true;

	assert_int_equal(breaker_allow(b, &probe), 0);
	assert_false(probe);
	breaker_record(b, false, false);
}

/* Opens b (3 failures) and lets the cool-down pass. */
static void open_it(struct breaker *b)
{
	for (int i = 0; i < 3; i++)
		fail_once(b);
	assert_int_equal(breaker_state_get(b), BREAKER_OPEN);
}

static void test_starts_closed(void **state)
{
	struct breaker *b = *state;
	bool probe = true;

	assert_int_equal(breaker_state_get(b), BREAKER_CLOSED);
	assert_true(state_gauge() == 0);
	assert_int_equal(breaker_allow(b, &probe), 0);
	assert_false(probe);
	breaker_record(b, false, true);
	assert_int_equal(breaker_state_get(b), BREAKER_CLOSED);
}

static void test_opens_after_consecutive_failures(void **state)
{
	struct breaker *b = *state;

	fail_once(b);
	fail_once(b);
	assert_int_equal(breaker_state_get(b), BREAKER_CLOSED);
	fail_once(b);
	assert_int_equal(breaker_state_get(b), BREAKER_OPEN);
	assert_true(state_gauge() == 2);
}

static void test_success_resets_the_count(void **state)
{
	struct breaker *b = *state;
	bool probe;

	fail_once(b);
	fail_once(b);
	assert_int_equal(breaker_allow(b, &probe), 0);
	breaker_record(b, false, true);
	fail_once(b);
	fail_once(b);
	assert_int_equal(breaker_state_get(b), BREAKER_CLOSED);
	fail_once(b);
	assert_int_equal(breaker_state_get(b), BREAKER_OPEN);
}

static void test_open_refuses_until_cool_down(void **state)
{
	struct breaker *b = *state;
	bool probe = false;

	open_it(b);
	for (int i = 0; i < 10; i++)
		assert_int_equal(breaker_allow(b, &probe), SHOP_EUNAVAIL);
	advance_ms(999);
	assert_int_equal(breaker_allow(b, &probe), SHOP_EUNAVAIL);
	assert_int_equal(breaker_state_get(b), BREAKER_OPEN);
}

static void test_one_probe_after_cool_down(void **state)
{
	struct breaker *b = *state;
	bool probe = false, other = false;

	open_it(b);
	advance_ms(1000);
	assert_int_equal(breaker_allow(b, &probe), 0);
	assert_true(probe);
	assert_int_equal(breaker_state_get(b), BREAKER_HALF_OPEN);
	assert_true(state_gauge() == 1);
	/* Others are refused while the probe is out. */
	assert_int_equal(breaker_allow(b, &other), SHOP_EUNAVAIL);
	assert_int_equal(breaker_allow(b, &other), SHOP_EUNAVAIL);
	breaker_record(b, true, true);
}

static void test_probe_success_closes(void **state)
{
	struct breaker *b = *state;
	bool probe = false;

	open_it(b);
	advance_ms(1500);
	assert_int_equal(breaker_allow(b, &probe), 0);
	assert_true(probe);
	breaker_record(b, true, true);
	assert_int_equal(breaker_state_get(b), BREAKER_CLOSED);
	assert_true(state_gauge() == 0);
	/* Closed again: calls flow, and it takes 3 new failures to open. */
	assert_int_equal(breaker_allow(b, &probe), 0);
	assert_false(probe);
	breaker_record(b, false, true);
	fail_once(b);
	fail_once(b);
	assert_int_equal(breaker_state_get(b), BREAKER_CLOSED);
}

static void test_probe_failure_reopens(void **state)
{
	struct breaker *b = *state;
	bool probe = false;

	open_it(b);
	advance_ms(1000);
	assert_int_equal(breaker_allow(b, &probe), 0);
	assert_true(probe);
	breaker_record(b, true, false);
	assert_int_equal(breaker_state_get(b), BREAKER_OPEN);
	assert_true(state_gauge() == 2);
	/* A full new cool-down from the probe's failure. */
	advance_ms(999);
	assert_int_equal(breaker_allow(b, &probe), SHOP_EUNAVAIL);
	advance_ms(1);
	assert_int_equal(breaker_allow(b, &probe), 0);
	assert_true(probe);
	breaker_record(b, true, true);
	assert_int_equal(breaker_state_get(b), BREAKER_CLOSED);
}

static void test_cancelled_probe_lets_another_through(void **state)
{
	struct breaker *b = *state;
	bool probe = false;

	open_it(b);
	advance_ms(1000);
	assert_int_equal(breaker_allow(b, &probe), 0);
	assert_true(probe);
	breaker_cancel(b, true);
	assert_int_equal(breaker_state_get(b), BREAKER_HALF_OPEN);
	probe = false;
	assert_int_equal(breaker_allow(b, &probe), 0);
	assert_true(probe);
	breaker_record(b, true, true);
	assert_int_equal(breaker_state_get(b), BREAKER_CLOSED);
}

static void test_late_results_do_not_count_while_open(void **state)
{
	struct breaker *b = *state;
	bool p1, p2, p3;

	/* Three calls go out while closed; all fail, the third opens it. */
	assert_int_equal(breaker_allow(b, &p1), 0);
	assert_int_equal(breaker_allow(b, &p2), 0);
	assert_int_equal(breaker_allow(b, &p3), 0);
	open_it(b);
	/* Late answers from before it opened change nothing. */
	breaker_record(b, p1, true);
	breaker_record(b, p2, false);
	assert_int_equal(breaker_state_get(b), BREAKER_OPEN);
	breaker_record(b, p3, true);
	assert_int_equal(breaker_state_get(b), BREAKER_OPEN);
}

static void test_defaults_and_bad_options(void **state)
{
	struct breaker_options o = {.clock = fake_clock};
	struct breaker *b = NULL;
	bool probe;

	(void)state;
	assert_int_equal(breaker_new(&o, &b), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(breaker_allow(b, &probe), 0);
		breaker_record(b, false, false);
	}
	assert_int_equal(breaker_state_get(b), BREAKER_CLOSED);
	assert_int_equal(breaker_allow(b, &probe), 0);
	breaker_record(b, false, false);
	assert_int_equal(breaker_state_get(b), BREAKER_OPEN); /* 5 */
	advance_ms(4999);
	assert_int_equal(breaker_allow(b, &probe), SHOP_EUNAVAIL);
	advance_ms(1);
	assert_int_equal(breaker_allow(b, &probe), 0);
	breaker_free(b);
	breaker_free(NULL);

	o.failures_to_open = -1;
	b = NULL;
	assert_int_equal(breaker_new(&o, &b), SHOP_EINVAL);
	assert_null(b);
	assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half-open");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_starts_closed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_opens_after_consecutive_failures, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_success_resets_the_count,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_open_refuses_until_cool_down, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_one_probe_after_cool_down,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_probe_success_closes,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_probe_failure_reopens,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_cancelled_probe_lets_another_through, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_late_results_do_not_count_while_open, setup,
	                teardown),
	        cmocka_unit_test(test_defaults_and_bad_options),
	};

	slog_init("test_breaker", SLOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
