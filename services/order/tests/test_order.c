#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "shop/error.h"
#include "../src/domain/order.h"

/* The order's rules: the saga's moves, the test cards, the address and
 * the Idempotency-Key. */

static struct order_request good(void)
{
	return (struct order_request){
	        .payment_token = "tok_visa",
	        .address = {.name = "Ada Lovelace",
	                    .line1 = "12 Analytical Row",
	                    .city = "London",
	                    .postal_code = "NW1 6XE",
	                    .country = "GB"},
	};
}

static void test_moves(void **state)
{
	(void)state;
	assert_true(order_can_move(ORDER_PENDING, ORDER_CONFIRMED));
	assert_true(order_can_move(ORDER_PENDING, ORDER_FAILED));
	assert_false(order_can_move(ORDER_PENDING, ORDER_PENDING));
	assert_false(order_can_move(ORDER_CONFIRMED, ORDER_FAILED));
	assert_false(order_can_move(ORDER_CONFIRMED, ORDER_PENDING));
	assert_false(order_can_move(ORDER_FAILED, ORDER_CONFIRMED));
	assert_false(order_can_move(ORDER_FAILED, ORDER_PENDING));
}

static void test_status_names(void **state)
{
	enum order_status s;

	(void)state;
	assert_string_equal(order_status_name(ORDER_PENDING), "pending");
	assert_string_equal(order_status_name(ORDER_CONFIRMED), "confirmed");
	assert_string_equal(order_status_name(ORDER_FAILED), "failed");
	assert_int_equal(order_status_parse("failed", &s), 0);
	assert_int_equal(s, ORDER_FAILED);
	assert_int_equal(order_status_parse("FAILED", &s), SHOP_EINVAL);
	assert_int_equal(order_status_parse(NULL, &s), SHOP_EINVAL);
}

static void test_tokens(void **state)
{
	(void)state;
	assert_true(order_payment_token_known("tok_visa"));
	assert_true(order_payment_token_known("tok_mastercard"));
	assert_true(order_payment_token_known("tok_chargeDeclined"));
	assert_true(order_payment_token_known("tok_insufficientFunds"));
	assert_false(order_payment_token_known("tok_amex"));
	assert_false(order_payment_token_known("TOK_VISA"));
	assert_false(order_payment_token_known(""));
	assert_false(order_payment_token_known(NULL));
}

static void test_request_valid(void **state)
{
	struct order_request r = good();
	struct field_errors e;

	(void)state;
	field_errors_init(&e);
	assert_int_equal(order_request_validate(&r, &e), 0);
	r.address.line2 = "Flat 3";
	assert_int_equal(order_request_validate(&r, &e), 0);
	assert_int_equal(e.n, 0);
}

static void test_request_invalid(void **state)
{
	struct order_request r = good();
	struct field_errors e;
	char long_name[202];

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';

	field_errors_init(&e);
	r.payment_token = "tok_bitcoin";
	r.address.name = "   ";
	r.address.line1 = long_name;
	r.address.city = "Lon\r\ndon";
	r.address.postal_code = NULL;
	r.address.country = "gb";
	assert_int_equal(order_request_validate(&r, &e), SHOP_EINVAL);
	assert_int_equal(e.n, 6);
	assert_true(field_errors_has(&e, "payment_token"));
	assert_true(field_errors_has(&e, "shipping_address.name"));
	assert_true(field_errors_has(&e, "shipping_address.line1"));
	assert_true(field_errors_has(&e, "shipping_address.city"));
	assert_true(field_errors_has(&e, "shipping_address.postal_code"));
	assert_true(field_errors_has(&e, "shipping_address.country"));

	r = good();
	field_errors_init(&e);
	r.address.country = "GBR";
	r.address.line2 = long_name;
	assert_int_equal(order_request_validate(&r, &e), SHOP_EINVAL);
	assert_int_equal(e.n, 2);
	assert_true(field_errors_has(&e, "shipping_address.line2"));

	r = good();
	field_errors_init(&e);
	r.payment_token = NULL;
	assert_int_equal(order_request_validate(&r, &e), SHOP_EINVAL);
	assert_string_equal(e.items[0].message, "is required");
}

/* The lengths are characters (UTF-8 code points), not bytes. */
static void test_request_lengths_in_characters(void **state)
{
	struct order_request r = good();
	struct field_errors e;
	char name[201 * 2 + 1] = "", city[101 * 3 + 1] = "";

	(void)state;
	for (int i = 0; i < 200; i++)
		strcat(name, "\xc3\xa9"); /* U+00E9, 2 bytes */
	for (int i = 0; i < 100; i++)
		strcat(city, "\xe2\x82\xac"); /* U+20AC, 3 bytes */
	r.address.name = name;
	r.address.city = city;
	field_errors_init(&e);
	assert_int_equal(order_request_validate(&r, &e), 0);
	assert_int_equal(e.n, 0);

	strcat(name, "\xc3\xa9");
	strcat(city, "\xe2\x82\xac");
	field_errors_init(&e);
	assert_int_equal(order_request_validate(&r, &e), SHOP_EINVAL);
	assert_int_equal(e.n, 2);
	assert_true(field_errors_has(&e, "shipping_address.name"));
	assert_true(field_errors_has(&e, "shipping_address.city"));
}

static void test_idempotency_key(void **state)
{
	char k[257];

	(void)state;
	assert_true(order_idempotency_key_valid("a"));
	assert_true(order_idempotency_key_valid("order-2026-12-03_#1"));
	assert_false(order_idempotency_key_valid(""));
	assert_false(order_idempotency_key_valid(NULL));
	assert_false(order_idempotency_key_valid("has space"));
	assert_false(order_idempotency_key_valid("tab\t"));
	assert_false(order_idempotency_key_valid("caf\xc3\xa9"));
	memset(k, 'k', 255);
	k[255] = '\0';
	assert_true(order_idempotency_key_valid(k));
	k[255] = 'k';
	k[256] = '\0';
	assert_false(order_idempotency_key_valid(k));
}

static void test_total(void **state)
{
	struct order_item items[2] = {
	        {.unit_price_cents = 1999, .quantity = 3},
	        {.unit_price_cents = 100000000, .quantity = 99},
	};
	struct order o = {.items = items, .nitems = 2};

	(void)state;
	order_total(&o);
	assert_int_equal(o.total_cents, 1999 * 3 + 100000000LL * 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_moves),
	        cmocka_unit_test(test_status_names),
	        cmocka_unit_test(test_tokens),
	        cmocka_unit_test(test_request_valid),
	        cmocka_unit_test(test_request_invalid),
	        cmocka_unit_test(test_request_lengths_in_characters),
	        cmocka_unit_test(test_idempotency_key),
	        cmocka_unit_test(test_total),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
