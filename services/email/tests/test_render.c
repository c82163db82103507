#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../src/domain/render.h"

/*
 * Rendering: money from cents, the subjects, the lines with their line
 * totals and the order's total, the reasons in plain words, and that
 * nothing an event carries can break a line.
 */
#define U1 "11111111-0000-4000-8000-000000000001"
#define O1 "abcdef12-0000-4000-8000-000000000001"
#define P1 "33333333-0000-4000-8000-000000000001"
#define P2 "33333333-0000-4000-8000-000000000002"

static void test_money(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(email_format_money(1234, "EUR", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "EUR 12.34");
	assert_int_equal(email_format_money(0, "USD", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "USD 0.00");
	assert_int_equal(email_format_money(5, "USD", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "USD 0.05");
	assert_int_equal(email_format_money(100, "USD", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "USD 1.00");
	assert_int_equal(email_format_money(1000000000000000000LL, "JPY", buf,
	                                    sizeof(buf)),
	                 0);
	assert_string_equal(buf, "JPY 10000000000000000.00");
	assert_int_equal(email_format_money(-1, "USD", buf, sizeof(buf)), -1);
	assert_int_equal(email_format_money(1234, "EUR", buf, 5), -1);
}

static const struct email_line lines[] = {
        {P1, "HP-1", "Headphones", 2, 4999},
        {P2, "KB-1", "Keyboard", 1, 12900},
};

static struct email_event_data order(enum email_kind kind, const char *reason)
{
	return (struct email_event_data){
	        .kind = kind,
	        .user_id = U1,
	        .to = "buyer@example.com",
	        .order_id = O1,
	        .lines = lines,
	        .nlines = 2,
	        .total_cents = 22898,
	        .currency = "USD",
	        .reason = reason,
	};
}

static void test_order_confirmed(void **state)
{
	struct email_event_data d = order(EMAIL_ORDER_CONFIRMED, NULL);
	struct email_content c;

	(void)state;
	assert_int_equal(email_render(&d, &c), 0);
	assert_string_equal(c.subject, "Your order abcdef12 is confirmed");
	assert_non_null(strstr(c.text, O1));
	assert_non_null(strstr(c.text, "  2 x Headphones (HP-1)\n"
	                               "      USD 49.99 each: USD 99.98\n"));
	assert_non_null(strstr(c.text, "  1 x Keyboard (KB-1)\n"
	                               "      USD 129.00 each: USD 129.00\n"));
	assert_non_null(strstr(c.text, "\nTotal: USD 228.98\n"));
	email_content_release(&c);
	email_content_release(&c); /* twice is harmless */
}

static void test_order_failed(void **state)
{
	struct email_event_data d = order(EMAIL_ORDER_FAILED, "card_declined");
	struct email_content c;

	(void)state;
	assert_int_equal(email_render(&d, &c), 0);
	assert_string_equal(c.subject,
	                    "Your order abcdef12 could not be completed");
	assert_non_null(strstr(c.text, "because your card was declined."));
	assert_non_null(strstr(c.text, "Total: USD 228.98"));
	assert_non_null(strstr(c.text, "2 x Headphones"));
	email_content_release(&c);

	d.reason = "insufficient_funds";
	assert_int_equal(email_render(&d, &c), 0);
	assert_non_null(strstr(c.text, "insufficient funds"));
	email_content_release(&c);
	d.reason = "amount_limit_exceeded";
	assert_int_equal(email_render(&d, &c), 0);
	assert_non_null(strstr(c.text, "above the limit"));
	email_content_release(&c);
	/* an unknown code is shown as it is, blanked */
	d.reason = "fraud_suspected\r\nX: y";
	assert_int_equal(email_render(&d, &c), 0);
	assert_non_null(strstr(c.text, "because of 'fraud_suspected  X: y'"));
	email_content_release(&c);
	assert_null(email_reason_text("nope"));
}

static void test_welcome(void **state)
{
	struct email_event_data d = {.kind = EMAIL_WELCOME,
	                             .user_id = U1,
	                             .to = "ada@example.com",
	                             .name = "Ada Lovelace"};
	struct email_content c;

	(void)state;
	assert_int_equal(email_render(&d, &c), 0);
	assert_string_equal(c.subject, "Welcome to Shop, Ada Lovelace");
	assert_non_null(strstr(c.text, "Hello Ada Lovelace,"));
	assert_non_null(strstr(c.text, "ada@example.com"));
	email_content_release(&c);
}

static void test_no_line_breaks_from_events(void **state)
{
	struct email_line evil[] = {
	        {P1, "S\nKU", "Evil\r\nTotal: USD 0.00", 1, 100},
	};
	struct email_event_data d = {.kind = EMAIL_WELCOME,
	                             .user_id = U1,
	                             .to = "x@example.com",
	                             .name = "Mallory\r\nBcc: all@example.com"};
	struct email_content c;

	(void)state;
	assert_int_equal(email_render(&d, &c), 0);
	assert_null(strchr(c.subject, '\r'));
	assert_null(strchr(c.subject, '\n'));
	assert_string_equal(c.subject,
	                    "Welcome to Shop, Mallory  Bcc: all@example.com");
	email_content_release(&c);

	d = order(EMAIL_ORDER_CONFIRMED, NULL);
	d.lines = evil;
	d.nlines = 1;
	d.total_cents = 100;
	assert_int_equal(email_render(&d, &c), 0);
	assert_null(strchr(c.text, '\r'));
	assert_non_null(strstr(c.text, "1 x Evil  Total: USD 0.00 (S KU)"));
	assert_null(strstr(c.text, "\nTotal: USD 0.00"));
	email_content_release(&c);
}

static void test_long_and_non_ascii_names(void **state)
{
	char name[400];
	struct email_event_data d = {.kind = EMAIL_WELCOME,
	                             .user_id = U1,
	                             .to = "x@example.com",
	                             .name = name};
	struct email_content c;

	(void)state;
	/* 150 x "ü" (2 bytes each): the subject keeps whole characters */
	for (int i = 0; i < 150; i++)
		memcpy(name + 2 * i, "\xc3\xbc", 2);
	name[300] = '\0';
	assert_int_equal(email_render(&d, &c), 0);
	assert_true(strlen(c.subject) <= strlen("Welcome to Shop, ") + 80 + 3);
	assert_non_null(strstr(c.subject, "\xc3\xbc..."));
	assert_non_null(strstr(c.text, name)); /* whole in the body */
	email_content_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_money),
	        cmocka_unit_test(test_order_confirmed),
	        cmocka_unit_test(test_order_failed),
	        cmocka_unit_test(test_welcome),
	        cmocka_unit_test(test_no_line_breaks_from_events),
	        cmocka_unit_test(test_long_and_non_ascii_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
