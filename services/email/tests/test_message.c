#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../src/domain/message.h"

/*
 * The message rules: kinds, ids and addresses, the deterministic
 * Message-ID, the retry schedule and its limit, and the validation of
 * what an event says.
 */
#define U1  "11111111-0000-4000-8000-000000000001"
#define O1  "22222222-0000-4000-8000-000000000001"
#define P1  "33333333-0000-4000-8000-000000000001"
#define EV1 "44444444-AAAA-4000-8000-00000000000B"

static void test_kinds(void **state)
{
	enum email_kind k;
	enum email_status s;

	(void)state;
	assert_int_equal(email_kind_of_event("user.registered", &k), 0);
	assert_int_equal(k, EMAIL_WELCOME);
	assert_int_equal(email_kind_of_event("order.confirmed", &k), 0);
	assert_int_equal(k, EMAIL_ORDER_CONFIRMED);
	assert_int_equal(email_kind_of_event("order.failed", &k), 0);
	assert_int_equal(k, EMAIL_ORDER_FAILED);
	assert_int_equal(email_kind_of_event("order.created", &k), -1);
	assert_int_equal(email_kind_of_event(NULL, &k), -1);
	assert_string_equal(email_kind_name(EMAIL_ORDER_FAILED),
	                    "order_failed");
	assert_int_equal(email_status_parse("sent", &s), 0);
	assert_int_equal(s, EMAIL_SENT);
	assert_int_equal(email_status_parse("SENT", &s), -1);
	assert_string_equal(email_status_name(EMAIL_QUEUED), "queued");
}

static void test_addresses(void **state)
{
	(void)state;
	assert_true(email_address_ok("a@b.c"));
	assert_true(email_address_ok("first.last+tag@example.com"));
	assert_false(email_address_ok("a@"));
	assert_false(email_address_ok("@b.c"));
	assert_false(email_address_ok("a@b@c"));
	assert_false(email_address_ok("ab"));
	assert_false(email_address_ok("a b@c.d"));
	assert_false(email_address_ok("a@b.c\r\nBcc: x@y.z"));
	assert_false(email_address_ok("a@b.c>\r\nRCPT TO:<x@y.z"));
	assert_false(email_address_ok("<a@b.c>"));
	assert_false(email_address_ok("a,b@c.d"));
	assert_false(email_address_ok("m\xc3\xbc@b.c"));
	char long_addr[300];
	memset(long_addr, 'a', sizeof(long_addr));
	memcpy(long_addr + 250, "@b.cd", 6); /* 255 characters */
	assert_false(email_address_ok(long_addr));
}

static void test_message_id(void **state)
{
	char id[EMAIL_MESSAGE_ID_MAX + 1], again[EMAIL_MESSAGE_ID_MAX + 1];

	(void)state;
	assert_int_equal(email_message_id(EV1, EMAIL_ORDER_CONFIRMED,
	                                  "shop.local", id, sizeof(id)),
	                 0);
	assert_string_equal(id, "<44444444-aaaa-4000-8000-00000000000b."
	                        "order_confirmed@shop.local>");
	/* deterministic: the same event and kind, the same id */
	assert_int_equal(email_message_id(EV1, EMAIL_ORDER_CONFIRMED,
	                                  "shop.local", again, sizeof(again)),
	                 0);
	assert_string_equal(id, again);
	/* another kind of the same event is another message */
	assert_int_equal(email_message_id(EV1, EMAIL_ORDER_FAILED, "shop.local",
	                                  again, sizeof(again)),
	                 0);
	assert_string_not_equal(id, again);
	assert_int_equal(email_message_id("not-a-uuid", EMAIL_WELCOME,
	                                  "shop.local", id, sizeof(id)),
	                 -1);
	assert_int_equal(email_message_id(EV1, EMAIL_WELCOME, "bad domain>", id,
	                                  sizeof(id)),
	                 -1);
	assert_int_equal(
	        email_message_id(EV1, EMAIL_WELCOME, "shop.local", id, 10), -1);
	assert_false(email_domain_ok(""));
	assert_false(email_domain_ok("-x.local"));
	assert_true(email_domain_ok("mail.example.com"));
}

static void test_retry_schedule(void **state)
{
	long ms = -1;

	(void)state;
	assert_int_equal(email_retry_delay_ms(1), 1000);
	assert_int_equal(email_retry_delay_ms(2), 2000);
	assert_int_equal(email_retry_delay_ms(3), 4000);
	assert_int_equal(email_retry_delay_ms(9), 256000);
	assert_int_equal(email_retry_delay_ms(10), 300000); /* capped */
	assert_int_equal(email_retry_delay_ms(60), 300000);
	assert_int_equal(email_after_failure(1, 5, &ms), EMAIL_QUEUED);
	assert_int_equal(ms, 1000);
	assert_int_equal(email_after_failure(4, 5, &ms), EMAIL_QUEUED);
	assert_int_equal(ms, 8000);
	ms = -1;
	assert_int_equal(email_after_failure(5, 5, &ms), EMAIL_FAILED);
	assert_int_equal(ms, -1); /* untouched */
	assert_int_equal(email_after_failure(1, 1, &ms), EMAIL_FAILED);
}

static const struct email_line good_lines[] = {
        {P1, "SKU-1", "Headphones", 2, 4999},
};

static struct email_event_data order(enum email_kind kind)
{
	return (struct email_event_data){
	        .kind = kind,
	        .user_id = U1,
	        .to = "buyer@example.com",
	        .order_id = O1,
	        .lines = good_lines,
	        .nlines = 1,
	        .total_cents = 9998,
	        .currency = "EUR",
	        .reason = kind == EMAIL_ORDER_FAILED ? "card_declined" : NULL,
	};
}

static void expect_refused(const struct email_event_data *d, const char *what)
{
	char why[200] = "";

	assert_int_equal(email_event_validate(d, why, sizeof(why)), -1);
	if (!strstr(why, what))
		fail_msg("reason '%s' does not name '%s'", why, what);
}

static void test_validate(void **state)
{
	char why[200];
	struct email_event_data d;
	struct email_line lines[2] = {good_lines[0], good_lines[0]};

	(void)state;
	d = (struct email_event_data){.kind = EMAIL_WELCOME,
	                              .user_id = U1,
	                              .to = "new@example.com",
	                              .name = "Ada"};
	assert_int_equal(email_event_validate(&d, why, sizeof(why)), 0);
	d.name = "";
	expect_refused(&d, "name");
	d.name = "Ada";
	d.to = "new@example.com\r\nBcc: all@example.com";
	expect_refused(&d, "email");
	d.to = "new@example.com";
	d.user_id = "nope";
	expect_refused(&d, "user_id");

	d = order(EMAIL_ORDER_CONFIRMED);
	assert_int_equal(email_event_validate(&d, why, sizeof(why)), 0);
	d = order(EMAIL_ORDER_FAILED);
	assert_int_equal(email_event_validate(&d, why, sizeof(why)), 0);
	d.reason = NULL;
	expect_refused(&d, "reason");
	d = order(EMAIL_ORDER_CONFIRMED);
	d.to = "x";
	expect_refused(&d, "user_email");
	d = order(EMAIL_ORDER_CONFIRMED);
	d.order_id = "1234";
	expect_refused(&d, "order_id");
	d = order(EMAIL_ORDER_CONFIRMED);
	d.nlines = 0;
	expect_refused(&d, "items");
	d = order(EMAIL_ORDER_CONFIRMED);
	d.currency = "eur";
	expect_refused(&d, "currency");
	d.currency = "EURO";
	expect_refused(&d, "currency");
	d = order(EMAIL_ORDER_CONFIRMED);
	d.total_cents = -1;
	expect_refused(&d, "total_cents");

	d = order(EMAIL_ORDER_CONFIRMED);
	d.lines = lines;
	d.nlines = 2;
	lines[1].quantity = 0;
	expect_refused(&d, "items[1].quantity");
	lines[1].quantity = EMAIL_QTY_MAX + 1;
	expect_refused(&d, "items[1].quantity");
	lines[1].quantity = 1;
	lines[1].unit_price_cents = -5;
	expect_refused(&d, "items[1].unit_price_cents");
	lines[1].unit_price_cents = EMAIL_CENTS_MAX + 1;
	expect_refused(&d, "items[1].unit_price_cents");
	lines[1].unit_price_cents = 1;
	lines[1].product_id = "x";
	expect_refused(&d, "items[1].product_id");
	lines[1].product_id = P1;
	lines[1].sku = "";
	expect_refused(&d, "items[1].sku");
	lines[1].sku = "S";
	lines[1].name = NULL;
	expect_refused(&d, "items[1].name");
	lines[1].name = "ok";
	assert_int_equal(email_event_validate(&d, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_kinds),
	        cmocka_unit_test(test_addresses),
	        cmocka_unit_test(test_message_id),
	        cmocka_unit_test(test_retry_schedule),
	        cmocka_unit_test(test_validate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
