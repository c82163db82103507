#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../src/api/event_json.h"

/*
 * Decoding the events' data per their schemas: exactly the schema's
 * members, each of its JSON type; anything else is refused with a reason
 * naming the member.
 */
#define ORDER_DATA(extra)                                                      \
	"{\"order_id\":\"22222222-0000-4000-8000-000000000001\","              \
	"\"user_id\":\"11111111-0000-4000-8000-000000000001\","                \
	"\"user_email\":\"buyer@example.com\",\"items\":[{\"product_id\":"     \
	"\"33333333-0000-4000-8000-000000000001\",\"sku\":\"S-1\",\"name\":"   \
	"\"Kettle\",\"quantity\":2,\"unit_price_cents\":2999}],"               \
	"\"total_cents\":5998,\"currency\":\"EUR\"" extra "}"

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static int decode(const char *json, enum email_kind kind,
                  struct email_event_data *out, char *why, size_t cap)
{
	json_t *j = parse(json);
	int rc = email_event_from_json(j, kind, out, why, cap);

	if (rc == 0) {
		/* strings are borrowed from j: check, then release */
		char verdict[200];
		rc = email_event_validate(out, verdict, sizeof(verdict));
		if (rc)
			snprintf(why, cap, "%s", verdict);
		email_event_json_release(out);
	}
	json_decref(j);
	return rc;
}

static void refused(const char *json, enum email_kind kind, const char *what)
{
	struct email_event_data d;
	char why[200] = "";

	assert_int_equal(decode(json, kind, &d, why, sizeof(why)), -1);
	if (!strstr(why, what))
		fail_msg("reason '%s' does not name '%s' for %s", why, what,
		         json);
}

static void test_welcome(void **state)
{
	json_t *j = parse("{\"user_id\":\"11111111-0000-4000-8000-"
	                  "000000000001\",\"email\":\"ada@example.com\","
	                  "\"name\":\"Ada\"}");
	struct email_event_data d;
	char why[200];

	(void)state;
	assert_int_equal(
	        email_event_from_json(j, EMAIL_WELCOME, &d, why, sizeof(why)),
	        0);
	assert_string_equal(d.to, "ada@example.com");
	assert_string_equal(d.name, "Ada");
	assert_int_equal(d.kind, EMAIL_WELCOME);
	email_event_json_release(&d);
	json_decref(j);
	refused("{\"user_id\":\"11111111-0000-4000-8000-000000000001\","
	        "\"email\":\"ada@example.com\"}",
	        EMAIL_WELCOME, "data.name");
	refused("{\"user_id\":\"11111111-0000-4000-8000-000000000001\","
	        "\"email\":\"ada@example.com\",\"name\":7}",
	        EMAIL_WELCOME, "data.name");
	refused("{\"user_id\":\"11111111-0000-4000-8000-000000000001\","
	        "\"email\":\"ada@example.com\",\"name\":\"A\",\"x\":1}",
	        EMAIL_WELCOME, "'x'");
	refused("[]", EMAIL_WELCOME, "data");
}

static void test_orders(void **state)
{
	json_t *j = parse(ORDER_DATA(",\"reason\":\"card_declined\""));
	struct email_event_data d;
	char why[200];

	(void)state;
	assert_int_equal(email_event_from_json(j, EMAIL_ORDER_FAILED, &d, why,
	                                       sizeof(why)),
	                 0);
	assert_int_equal(d.nlines, 1);
	assert_int_equal(d.lines[0].quantity, 2);
	assert_int_equal(d.lines[0].unit_price_cents, 2999);
	assert_string_equal(d.lines[0].name, "Kettle");
	assert_int_equal(d.total_cents, 5998);
	assert_string_equal(d.reason, "card_declined");
	email_event_json_release(&d);
	json_decref(j);

	assert_int_equal(decode(ORDER_DATA(""), EMAIL_ORDER_CONFIRMED, &d, why,
	                        sizeof(why)),
	                 0);
	/* a reason belongs to order.failed only; order.failed needs one */
	refused(ORDER_DATA(",\"reason\":\"x\""), EMAIL_ORDER_CONFIRMED,
	        "'reason'");
	refused(ORDER_DATA(""), EMAIL_ORDER_FAILED, "data.reason");
	refused(ORDER_DATA(",\"coupon\":1"), EMAIL_ORDER_CONFIRMED, "'coupon'");
}

static void test_order_types(void **state)
{
	(void)state;
	refused("{\"order_id\":1}", EMAIL_ORDER_CONFIRMED, "data.order_id");
	refused("{\"order_id\":\"22222222-0000-4000-8000-000000000001\","
	        "\"user_id\":\"11111111-0000-4000-8000-000000000001\","
	        "\"user_email\":\"b@example.com\",\"items\":[],"
	        "\"total_cents\":0,\"currency\":\"EUR\"}",
	        EMAIL_ORDER_CONFIRMED, "data.items");
	refused("{\"order_id\":\"22222222-0000-4000-8000-000000000001\","
	        "\"user_id\":\"11111111-0000-4000-8000-000000000001\","
	        "\"user_email\":\"b@example.com\",\"items\":{},"
	        "\"total_cents\":0,\"currency\":\"EUR\"}",
	        EMAIL_ORDER_CONFIRMED, "data.items");
	refused("{\"order_id\":\"22222222-0000-4000-8000-000000000001\","
	        "\"user_id\":\"11111111-0000-4000-8000-000000000001\","
	        "\"user_email\":\"b@example.com\",\"items\":[{\"product_id\":"
	        "\"33333333-0000-4000-8000-000000000001\",\"sku\":\"S\","
	        "\"name\":\"N\",\"quantity\":\"2\",\"unit_price_cents\":1}],"
	        "\"total_cents\":2,\"currency\":\"EUR\"}",
	        EMAIL_ORDER_CONFIRMED, "items[0].quantity");
	refused("{\"order_id\":\"22222222-0000-4000-8000-000000000001\","
	        "\"user_id\":\"11111111-0000-4000-8000-000000000001\","
	        "\"user_email\":\"b@example.com\",\"items\":[{\"product_id\":"
	        "\"33333333-0000-4000-8000-000000000001\",\"sku\":\"S\","
	        "\"name\":\"N\",\"quantity\":2,\"unit_price_cents\":1.5}],"
	        "\"total_cents\":2,\"currency\":\"EUR\"}",
	        EMAIL_ORDER_CONFIRMED, "items[0].unit_price_cents");
	refused("{\"order_id\":\"22222222-0000-4000-8000-000000000001\","
	        "\"user_id\":\"11111111-0000-4000-8000-000000000001\","
	        "\"user_email\":\"b@example.com\",\"items\":[7],"
	        "\"total_cents\":2,\"currency\":\"EUR\"}",
	        EMAIL_ORDER_CONFIRMED, "data.items[0]");
	refused("{\"order_id\":\"22222222-0000-4000-8000-000000000001\","
	        "\"user_id\":\"11111111-0000-4000-8000-000000000001\","
	        "\"user_email\":\"b@example.com\",\"items\":[{\"product_id\":"
	        "\"33333333-0000-4000-8000-000000000001\",\"sku\":\"S\","
	        "\"name\":\"N\",\"quantity\":0,\"unit_price_cents\":1}],"
	        "\"total_cents\":2,\"currency\":\"EUR\"}",
	        EMAIL_ORDER_CONFIRMED, "items[0].quantity");
	refused(ORDER_DATA(""), EMAIL_ORDER_FAILED, "reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_welcome),
	        cmocka_unit_test(test_orders),
	        cmocka_unit_test(test_order_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
