#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "shop/error.h"
#include "shop/util.h"
#include "../src/infrastructure/mock_processor.h"

/*
 * The mock provider's table (API.md "Payments"): each token, the amount
 * limit checked first, unknown tokens, the reference's shape, the latency
 * and giving up when cancelled.
 */
static const struct mock_processor_options opts = {
        .amount_limit_cents = 1000000,
        .latency_ms = 0,
};

static struct payment_order order(const char *token, long long amount)
{
	return (struct payment_order){
	        .order_id = "aaaaaaaa-0000-4000-8000-00000000000a",
	        .user_id = "bbbbbbbb-0000-4000-8000-00000000000b",
	        .amount_cents = amount,
	        .currency = "USD",
	        .payment_token = token};
}

static void assert_ref_shape(const char *ref)
{
	assert_int_equal(strlen(ref), 8 + 24);
	assert_memory_equal(ref, "mock_ch_", 8);
	for (size_t i = 8; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", ref[i]));
}

static void assert_declined(const char *token, long long amount,
                            const char *reason)
{
	struct payment_order o = order(token, amount);
	struct charge_result r;

	assert_int_equal(mock_processor_decide(&opts, &o, &r), 0);
	assert_false(r.succeeded);
	assert_string_equal(r.reason, reason);
	assert_string_equal(r.provider_ref, "");
}

static void test_cards_that_succeed(void **state)
{
	const char *tokens[] = {"tok_visa", "tok_mastercard"};
	struct charge_result r1, r2;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct payment_order o = order(tokens[i], 4999);

		assert_int_equal(mock_processor_decide(&opts, &o, &r1), 0);
		assert_true(r1.succeeded);
		assert_ref_shape(r1.provider_ref);
		assert_string_equal(r1.reason, "");
		assert_int_equal(mock_processor_decide(&opts, &o, &r2), 0);
		/* random: two charges never share a reference */
		assert_string_not_equal(r1.provider_ref, r2.provider_ref);
	}
}

static void test_declines(void **state)
{
	(void)state;
	assert_declined("tok_chargeDeclined", 100, "card_declined");
	assert_declined("tok_insufficientFunds", 100, "insufficient_funds");
	assert_declined("tok_amex", 100, "invalid_payment_token");
	/* exact, case-sensitive */
	assert_declined("TOK_VISA", 100, "invalid_payment_token");
	assert_declined("tok_visa ", 100, "invalid_payment_token");
}

static void test_amount_limit_first(void **state)
{
	struct payment_order o = order("tok_visa", 1000000);
	struct charge_result r;

	(void)state;
	/* the limit itself is allowed */
	assert_int_equal(mock_processor_decide(&opts, &o, &r), 0);
	assert_true(r.succeeded);
	/* above it declines, whatever the token */
	assert_declined("tok_visa", 1000001, "amount_limit_exceeded");
	assert_declined("tok_mastercard", 1000001, "amount_limit_exceeded");
	assert_declined("tok_chargeDeclined", 1000001, "amount_limit_exceeded");
	assert_declined("tok_unknown", 1000001, "amount_limit_exceeded");
}

static void test_limit_zero(void **state)
{
	struct mock_processor_options zero = {.amount_limit_cents = 0};
	struct payment_order o = order("tok_visa", 1);
	struct charge_result r;

	(void)state;
	assert_int_equal(mock_processor_decide(&zero, &o, &r), 0);
	assert_false(r.succeeded);
	assert_string_equal(r.reason, "amount_limit_exceeded");
	o.amount_cents = 0;
	assert_int_equal(mock_processor_decide(&zero, &o, &r), 0);
	assert_true(r.succeeded);
}

static bool cancel_after_calls(void *arg)
{
	int *left = arg;

	return (*left)-- <= 0;
}

static void test_latency_and_cancel(void **state)
{
	struct mock_processor_options slow = {.amount_limit_cents = 1000000,
	                                      .latency_ms = 120};
	struct payment_processor p = mock_processor_new(&slow);
	struct payment_order o = order("tok_visa", 100);
	struct charge_result r;
	int never = 1000000, soon = 1;
	struct charge_cancel keep = {cancel_after_calls, &never};
	struct charge_cancel give_up = {cancel_after_calls, &soon};
	double t0;

	(void)state;
	assert_non_null(p.ops);
	t0 = shop_now_s();
	assert_int_equal(p.ops->charge(p.self, &o, &keep, &r), 0);
	assert_true(shop_now_s() - t0 >= 0.11);
	assert_true(r.succeeded);
	/* 120 ms in slices of at most 50 ms: checked before each and at
	 * the end */
	assert_int_equal(1000000 - never, 4);

	memset(&r, 0x5a, sizeof(r));
	t0 = shop_now_s();
	assert_int_equal(p.ops->charge(p.self, &o, &give_up, &r),
	                 SHOP_EUNAVAIL);
	/* gave up after one slice, long before the full latency */
	assert_true(shop_now_s() - t0 < 0.1);
	assert_int_equal((unsigned char)r.reason[0], 0x5a); /* untouched */
	mock_processor_free(p);
}

static void test_options(void **state)
{
	struct mock_processor_options bad = {.amount_limit_cents = -1};
	struct payment_processor p;

	(void)state;
	assert_null(mock_processor_new(&bad).ops);
	bad = (struct mock_processor_options){.latency_ms = 60001};
	assert_null(mock_processor_new(&bad).ops);
	bad = (struct mock_processor_options){.latency_ms = -1};
	assert_null(mock_processor_new(&bad).ops);
	p = mock_processor_new(&opts);
	assert_non_null(p.ops);
	mock_processor_free(p);
	mock_processor_free((struct payment_processor){0});
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cards_that_succeed),
	        cmocka_unit_test(test_declines),
	        cmocka_unit_test(test_amount_limit_first),
	        cmocka_unit_test(test_limit_zero),
	        cmocka_unit_test(test_latency_and_cancel),
	        cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
