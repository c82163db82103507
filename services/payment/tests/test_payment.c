#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../src/domain/payment.h"

/*
 * The payment domain: validation of what order.created asks to charge,
 * building a payment from a charge's outcome, statuses, queries.
 */
#define ORDER "AAAAAAAA-0000-4000-8000-00000000000A"
#define USER  "bbbbbbbb-0000-4000-8000-00000000000b"
#define PAYID "cccccccc-0000-4000-8000-00000000000c"

static struct payment_order good_order(void)
{
	return (struct payment_order){.order_id = ORDER,
	                              .user_id = USER,
	                              .amount_cents = 1999,
	                              .currency = "USD",
	                              .payment_token = "tok_visa"};
}

static void assert_invalid(const struct payment_order *o, const char *field)
{
	char why[128] = "";

	assert_int_equal(payment_order_validate(o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, field));
}

static void test_valid_order(void **state)
{
	struct payment_order o = good_order();
	char why[128] = "";

	(void)state;
	assert_int_equal(payment_order_validate(&o, why, sizeof(why)), 0);
	o.amount_cents = 0; /* a free order is still charged (0) */
	assert_int_equal(payment_order_validate(&o, why, sizeof(why)), 0);
}

static void test_invalid_orders(void **state)
{
	struct payment_order o;
	char long_token[PAYMENT_TOKEN_MAX + 1];

	(void)state;
	o = good_order();
	o.order_id = "not-a-uuid";
	assert_invalid(&o, "order_id");
	o = good_order();
	o.order_id = NULL;
	assert_invalid(&o, "order_id");
	o = good_order();
	o.user_id = "bbbbbbbb-0000-4000-8000-00000000000"; /* one short */
	assert_invalid(&o, "user_id");
	o = good_order();
	o.amount_cents = -1;
	assert_invalid(&o, "total_cents");
	o = good_order();
	o.currency = "usd";
	assert_invalid(&o, "currency");
	o.currency = "USDX";
	assert_invalid(&o, "currency");
	o.currency = "US";
	assert_invalid(&o, "currency");
	o = good_order();
	o.payment_token = "";
	assert_invalid(&o, "payment_token");
	memset(long_token, 'x', sizeof(long_token) - 1);
	long_token[sizeof(long_token) - 1] = '\0';
	o.payment_token = long_token;
	assert_invalid(&o, "payment_token");
}

static void test_payment_from_order(void **state)
{
	struct payment_order o = good_order();
	struct payment p;

	(void)state;
	assert_int_equal(
	        payment_from_order(&p, PAYID, &o, true, "mock_ch_0123", NULL),
	        0);
	/* ids are stored lower-case, whatever the producer wrote */
	assert_string_equal(p.order_id, "aaaaaaaa-0000-4000-8000-00000000000a");
	assert_string_equal(p.user_id, USER);
	assert_string_equal(p.id, PAYID);
	assert_int_equal(p.amount_cents, 1999);
	assert_string_equal(p.currency, "USD");
	assert_int_equal(p.status, PAYMENT_SUCCEEDED);
	assert_string_equal(p.provider_ref, "mock_ch_0123");
	assert_string_equal(p.failure_reason, "");

	assert_int_equal(payment_from_order(&p, PAYID, &o, false, NULL,
	                                    PAYMENT_REASON_CARD_DECLINED),
	                 0);
	assert_int_equal(p.status, PAYMENT_DECLINED);
	assert_string_equal(p.failure_reason, "card_declined");
	assert_string_equal(p.provider_ref, "");
}

static void test_payment_from_order_refuses(void **state)
{
	struct payment_order o = good_order();
	struct payment p;
	char huge[PAYMENT_REASON_MAX + 8];

	(void)state;
	memset(&p, 0x5a, sizeof(p));
	/* a success needs a reference, a decline a reason */
	assert_int_equal(payment_from_order(&p, PAYID, &o, true, NULL, NULL),
	                 -1);
	assert_int_equal(payment_from_order(&p, PAYID, &o, false, NULL, ""),
	                 -1);
	memset(huge, 'r', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(payment_from_order(&p, PAYID, &o, false, NULL, huge),
	                 -1);
	assert_int_equal(payment_from_order(&p, "nope", &o, true, "r", NULL),
	                 -1);
	/* failing leaves the out-parameter untouched */
	assert_int_equal((unsigned char)p.id[0], 0x5a);
}

static void test_status_names(void **state)
{
	enum payment_status s;

	(void)state;
	assert_string_equal(payment_status_name(PAYMENT_SUCCEEDED),
	                    "succeeded");
	assert_string_equal(payment_status_name(PAYMENT_DECLINED), "declined");
	assert_int_equal(payment_status_parse("declined", &s), 0);
	assert_int_equal(s, PAYMENT_DECLINED);
	assert_int_equal(payment_status_parse("succeeded", &s), 0);
	assert_int_equal(s, PAYMENT_SUCCEEDED);
	assert_int_equal(payment_status_parse("pending", &s), -1);
}

static void test_query(void **state)
{
	struct payment_query q;
	char id[PAYMENT_ID_LEN + 1];

	(void)state;
	payment_query_init(&q);
	assert_int_equal(q.page, 1);
	assert_int_equal(q.page_size, 20);
	assert_null(q.order_id);
	assert_int_equal(payment_query_offset(&q), 0);
	q.page = 3;
	q.page_size = 100;
	assert_int_equal(payment_query_offset(&q), 200);
	q.page = PAYMENT_PAGE_MAX;
	assert_int_equal(payment_query_offset(&q), 99999900LL);

	assert_int_equal(payment_uuid_normalize(ORDER, id), 0);
	assert_string_equal(id, "aaaaaaaa-0000-4000-8000-00000000000a");
	assert_int_equal(payment_uuid_normalize("x", id), -1);
	assert_int_equal(payment_uuid_normalize(NULL, id), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_valid_order),
	        cmocka_unit_test(test_invalid_orders),
	        cmocka_unit_test(test_payment_from_order),
	        cmocka_unit_test(test_payment_from_order_refuses),
	        cmocka_unit_test(test_status_names),
	        cmocka_unit_test(test_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
