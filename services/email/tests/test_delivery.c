#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "../src/core/delivery.h"
#include "fakes.h"

/*
 * Sending with a fake queue, transport and clock: a message is sent once
 * and marked sent on attempt 1; failed sends are retried 1 s, 2 s, 4 s,
 * 8 s later and the message is failed after the last allowed attempt;
 * a retry is not taken before it is due; a server back after failures
 * gets the message; queue failures are passed on.
 */
#define U1 "11111111-0000-4000-8000-000000000001"
#define O1 "abcdef12-0000-4000-8000-000000000001"

struct fixture {
	struct fake_db db;
	struct fake_transport t;
	time_t now;
	struct email_sender from;
	struct delivery d;
	struct arena *a;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fake_db_init(&fx->db);
	fx->now = 1796298861;
	fx->from = (struct email_sender){"Shop", "no-reply@shop.local"};
	fx->d = (struct delivery){
	        .transport = fake_mail_transport(&fx->t),
	        .clock = fake_clock(&fx->now),
	        .from = &fx->from,
	        .max_attempts = 5,
	        .lease_ms = 25000,
	};
	fx->a = arena_new(0);
	struct fake_message *m =
	        fake_db_add(&fx->db, U1, O1, EMAIL_ORDER_CONFIRMED);
	if (!fx->a || !m)
		return -1;
	snprintf(m->message_id, sizeof(m->message_id),
	         "<e1.order_confirmed@shop.local>");
	snprintf(m->to, sizeof(m->to), "buyer@example.com");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fake_db_release(&fx->db);
	fake_transport_release(&fx->t);
	arena_free(fx->a);
	free(fx);
	return 0;
}

static enum delivery_outcome run(struct fixture *fx)
{
	enum delivery_outcome o = (enum delivery_outcome) - 1;
	char why[200];

	assert_int_equal(delivery_run_once(&fx->d, fake_queue(&fx->db), fx->a,
	                                   &o, why, sizeof(why)),
	                 0);
	arena_reset(fx->a);
	return o;
}

static void test_sends_once(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(run(fx), DELIVERY_SENT);
	assert_int_equal(fx->db.m[0].status, EMAIL_SENT);
	assert_true(fx->db.m[0].sent);
	assert_int_equal(fx->db.m[0].attempts, 1);
	assert_int_equal(fx->db.m[0].recorded, 1);
	assert_int_equal(fx->t.accepted, 1);
	assert_string_equal(fx->t.last_to, "buyer@example.com");
	assert_string_equal(fx->t.last_from, "no-reply@shop.local");
	assert_non_null(strstr(fx->t.last_raw, "Message-ID: "
	                                       "<e1.order_confirmed@shop.local>"
	                                       "\r\n"));
	assert_non_null(strstr(fx->t.last_raw,
	                       "Date: Thu, 03 Dec 2026 11:54:21 +0000\r\n"));
	assert_non_null(strstr(fx->t.last_raw, "To: buyer@example.com\r\n"));
	/* nothing else is due: idle, and nothing sent again */
	assert_int_equal(run(fx), DELIVERY_IDLE);
	fx->db.now_ms += 3600 * 1000;
	assert_int_equal(run(fx), DELIVERY_IDLE);
	assert_int_equal(fx->t.sends, 1);
}

static void test_backoff_then_failed(void **state)
{
	struct fixture *fx = *state;
	const long waits[] = {1000, 2000, 4000, 8000};

	fx->t.fail_times = 100;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(run(fx), DELIVERY_RETRY);
		assert_int_equal(fx->db.m[0].status, EMAIL_QUEUED);
		assert_int_equal(fx->db.m[0].attempts, i + 1);
		assert_non_null(strstr(fx->db.m[0].last_error, "refused"));
		/* not due a millisecond early */
		fx->db.now_ms += waits[i] - 1;
		assert_int_equal(run(fx), DELIVERY_IDLE);
		fx->db.now_ms += 1;
	}
	assert_int_equal(run(fx), DELIVERY_FAILED);
	assert_int_equal(fx->db.m[0].status, EMAIL_FAILED);
	assert_int_equal(fx->db.m[0].attempts, 5);
	assert_int_equal(fx->db.m[0].recorded, 5);
	assert_int_equal(fx->t.sends, 5);
	/* failed for good: never taken again */
	fx->db.now_ms += 3600 * 1000;
	assert_int_equal(run(fx), DELIVERY_IDLE);
	assert_int_equal(fx->t.sends, 5);
}

static void test_recovers(void **state)
{
	struct fixture *fx = *state;

	fx->t.fail_times = 2;
	fx->t.error = SHOP_ETIMEDOUT;
	assert_int_equal(run(fx), DELIVERY_RETRY);
	fx->db.now_ms += 1000;
	assert_int_equal(run(fx), DELIVERY_RETRY);
	fx->db.now_ms += 2000;
	assert_int_equal(run(fx), DELIVERY_SENT);
	assert_int_equal(fx->db.m[0].status, EMAIL_SENT);
	assert_int_equal(fx->db.m[0].attempts, 3);
	assert_int_equal(fx->t.accepted, 1);
}

static void test_one_attempt_allowed(void **state)
{
	struct fixture *fx = *state;

	fx->d.max_attempts = 1;
	fx->t.fail_times = 1;
	assert_int_equal(run(fx), DELIVERY_FAILED);
	assert_int_equal(fx->db.m[0].status, EMAIL_FAILED);
}

static void test_queue_failures(void **state)
{
	struct fixture *fx = *state;
	enum delivery_outcome o = DELIVERY_IDLE;
	char why[100];

	fx->db.fail_next = SHOP_EUNAVAIL;
	assert_int_equal(delivery_run_once(&fx->d, fake_queue(&fx->db), fx->a,
	                                   &o, why, sizeof(why)),
	                 SHOP_EUNAVAIL);
	assert_int_equal(fx->t.sends, 0);
	assert_int_equal(fx->db.m[0].attempts, 0);

	/* claimed and sent, but the outcome cannot be recorded: the error
	 * is passed on, and the lease makes the message due again once it
	 * runs out (at least once, with the same Message-ID) */
	fx->db.fail_finish = SHOP_EUNAVAIL;
	assert_int_equal(delivery_run_once(&fx->d, fake_queue(&fx->db), fx->a,
	                                   &o, why, sizeof(why)),
	                 SHOP_EUNAVAIL);
	arena_reset(fx->a);
	assert_int_equal(fx->t.accepted, 1);
	assert_int_equal(fx->db.m[0].status, EMAIL_QUEUED);
	fx->db.now_ms += 25000 - 1;
	assert_int_equal(run(fx), DELIVERY_IDLE); /* leased */
	fx->db.now_ms += 1;
	assert_int_equal(run(fx), DELIVERY_SENT);
	assert_int_equal(fx->t.accepted, 2);
	assert_int_equal(fx->db.m[0].attempts, 2);
	assert_non_null(
	        strstr(fx->t.last_raw, "<e1.order_confirmed@shop.local>"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_sends_once, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_backoff_then_failed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_recovers, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_one_attempt_allowed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_queue_failures, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
