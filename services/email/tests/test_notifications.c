#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "shop/error.h"
#include "../src/core/notifications.h"
#include "fakes.h"

/*
 * Handling an event: one queued message per event and kind, with its
 * deterministic Message-ID and rendered subject; the same event again
 * changes nothing; a poison event stores nothing; a store failure is
 * passed on (the consumer retries it).
 */
#define EV1 "44444444-0000-4000-8000-000000000001"
#define EV2 "44444444-0000-4000-8000-000000000002"
#define U1  "11111111-0000-4000-8000-000000000001"
#define O1  "abcdef12-0000-4000-8000-000000000001"
#define P1  "33333333-0000-4000-8000-000000000001"

static const struct email_line lines[] = {{P1, "S-1", "Kettle", 2, 2999}};

static struct email_event_data confirmed(void)
{
	return (struct email_event_data){
	        .kind = EMAIL_ORDER_CONFIRMED,
	        .user_id = U1,
	        .to = "buyer@example.com",
	        .order_id = O1,
	        .lines = lines,
	        .nlines = 1,
	        .total_cents = 5998,
	        .currency = "EUR",
	};
}

static void test_queues_one_message(void **state)
{
	struct fake_db db;
	struct notifications n;
	struct email_event_data d = confirmed();
	char why[200];
	bool stored = false;

	(void)state;
	fake_db_init(&db);
	notifications_init(&n, fake_store(&db), "shop.local");
	assert_int_equal(notifications_handle(&n, NULL, EV1, &d, &stored, why,
	                                      sizeof(why)),
	                 0);
	assert_true(stored);
	assert_int_equal(db.n, 1);
	assert_string_equal(db.m[0].message_id,
	                    "<" EV1 ".order_confirmed@shop.local>");
	assert_string_equal(db.m[0].subject,
	                    "Your order abcdef12 is confirmed");
	assert_string_equal(db.m[0].order_id, O1);
	assert_string_equal(db.m[0].to, "buyer@example.com");
	assert_non_null(strstr(db.m[0].text, "Total: EUR 59.98"));
	assert_int_equal(db.m[0].status, EMAIL_QUEUED);
	assert_int_equal(db.m[0].attempts, 0);

	/* the same event again (a duplicate publish): still one message */
	assert_int_equal(notifications_handle(&n, NULL, EV1, &d, &stored, why,
	                                      sizeof(why)),
	                 0);
	assert_false(stored);
	assert_int_equal(db.n, 1);

	/* another event is another message */
	assert_int_equal(notifications_handle(&n, NULL, EV2, &d, &stored, why,
	                                      sizeof(why)),
	                 0);
	assert_true(stored);
	assert_int_equal(db.n, 2);
	fake_db_release(&db);
}

static void test_welcome_has_no_order(void **state)
{
	struct fake_db db;
	struct notifications n;
	struct email_event_data d = {.kind = EMAIL_WELCOME,
	                             .user_id = U1,
	                             .to = "ada@example.com",
	                             .name = "Ada",
	                             .order_id = O1 /* ignored */};
	char why[200];
	bool stored;

	(void)state;
	fake_db_init(&db);
	notifications_init(&n, fake_store(&db), "mail.example.org");
	assert_int_equal(notifications_handle(&n, NULL, EV1, &d, &stored, why,
	                                      sizeof(why)),
	                 0);
	assert_string_equal(db.m[0].order_id, "");
	assert_string_equal(db.m[0].message_id,
	                    "<" EV1 ".welcome@mail.example.org>");
	assert_string_equal(db.m[0].subject, "Welcome to Shop, Ada");
	fake_db_release(&db);
}

static void test_poison_stores_nothing(void **state)
{
	struct fake_db db;
	struct notifications n;
	struct email_event_data d = confirmed();
	char why[200] = "";
	bool stored = true;

	(void)state;
	fake_db_init(&db);
	notifications_init(&n, fake_store(&db), "shop.local");
	d.currency = "euro";
	assert_int_equal(notifications_handle(&n, NULL, EV1, &d, &stored, why,
	                                      sizeof(why)),
	                 SHOP_EINVAL);
	assert_non_null(strstr(why, "currency"));
	d = confirmed();
	assert_int_equal(notifications_handle(&n, NULL, "not-an-id", &d,
	                                      &stored, why, sizeof(why)),
	                 SHOP_EINVAL);
	assert_non_null(strstr(why, "event_id"));
	assert_int_equal(db.n, 0);
	assert_true(stored); /* untouched */
	fake_db_release(&db);
}

static void test_store_failure_is_passed_on(void **state)
{
	struct fake_db db;
	struct notifications n;
	struct email_event_data d = confirmed();
	char why[200];
	bool stored = false;

	(void)state;
	fake_db_init(&db);
	notifications_init(&n, fake_store(&db), "shop.local");
	db.fail_next = SHOP_EUNAVAIL;
	assert_int_equal(notifications_handle(&n, NULL, EV1, &d, &stored, why,
	                                      sizeof(why)),
	                 SHOP_EUNAVAIL);
	assert_int_equal(db.n, 0);
	/* the consumer's retry then stores it */
	assert_int_equal(notifications_handle(&n, NULL, EV1, &d, &stored, why,
	                                      sizeof(why)),
	                 0);
	assert_int_equal(db.n, 1);
	fake_db_release(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_queues_one_message),
	        cmocka_unit_test(test_welcome_has_no_order),
	        cmocka_unit_test(test_poison_stores_nothing),
	        cmocka_unit_test(test_store_failure_is_passed_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
