#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/arena.h"
#include "shop/error.h"
#include "shop/metrics.h"
#include "shop/util.h"
#include "../src/core/payments.h"
#include "fake_payment.h"

/*
 * The payment's use cases over the in-memory fakes: one charge per order
 * (a second event of the same order charges and publishes nothing), what
 * each outcome of the provider stores and publishes, the trace passed on,
 * invalid orders (poison), transient failures storing nothing, and who
 * may read which payments (owner, admin, anyone else: not found).
 */
#define U1    "11111111-0000-4000-8000-000000000001"
#define U2    "11111111-0000-4000-8000-000000000002"
#define ADMIN "11111111-0000-4000-8000-0000000000ad"
#define O1    "aaaaaaaa-0000-4000-8000-000000000001"
#define O1_UP "AAAAAAAA-0000-4000-8000-000000000001"
#define O2    "aaaaaaaa-0000-4000-8000-000000000002"
#define O3    "aaaaaaaa-0000-4000-8000-000000000003"
#define NOPE  "ffffffff-0000-4000-8000-000000000000"

struct fixture {
	struct fake_payment *fake;
	struct arena *a;
	struct payments p;
	struct payment out;
	bool duplicate;
	char why[160];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->fake = fake_payment_new();
	fx->a = arena_new(0);
	if (!fx->fake || !fx->a)
		return -1;
	payments_init(&fx->p, fake_payment_repo(fx->fake),
	              fake_payment_processor(fx->fake));
	metrics_reset();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fake_payment_free(fx->fake);
	arena_free(fx->a);
	free(fx);
	return 0;
}

static struct payment_order order(const char *order_id, const char *user,
                                  long long amount, const char *token)
{
	return (struct payment_order){.order_id = order_id,
	                              .user_id = user,
	                              .amount_cents = amount,
	                              .currency = "EUR",
	                              .payment_token = token};
}

static const struct payment_trace trace = {
        .correlation_id = "req-123",
        .traceparent =
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"};

static int charge(struct fixture *fx, const struct payment_order *o)
{
	return payments_charge(&fx->p, fake_payment_tx(fx->fake), o, &trace,
	                       NULL, &fx->out, &fx->duplicate, fx->why,
	                       sizeof(fx->why));
}

static double payments_metric(const char *status)
{
	char labels[64];

	snprintf(labels, sizeof(labels), "status=\"%s\"", status);
	return metric_value(metrics_counter("payments_total", "x", labels));
}

static void test_charge_succeeds(void **state)
{
	struct fixture *fx = *state;
	struct payment_order o = order(O1_UP, U1, 4999, "tok_visa");
	const struct fake_event *e;

	fake_payment_answer(fx->fake, "mock_ch_0123456789abcdef01234567", NULL);
	assert_int_equal(charge(fx, &o), 0);
	assert_false(fx->duplicate);
	assert_true(shop_uuid_valid(fx->out.id));
	assert_string_equal(fx->out.order_id, O1); /* lower-cased */
	assert_string_equal(fx->out.user_id, U1);
	assert_int_equal(fx->out.amount_cents, 4999);
	assert_string_equal(fx->out.currency, "EUR");
	assert_int_equal(fx->out.status, PAYMENT_SUCCEEDED);
	assert_string_equal(fx->out.provider_ref,
	                    "mock_ch_0123456789abcdef01234567");
	assert_string_equal(fx->out.failure_reason, "");
	assert_int_equal(fx->out.created_at, FAKE_PAYMENT_T0);

	assert_int_equal(fake_payment_count(fx->fake), 1);
	assert_int_equal(fake_payment_events(fx->fake), 1);
	e = fake_payment_event(fx->fake, 0);
	assert_string_equal(e->event_type, "payment.completed");
	assert_string_equal(e->payment.id, fx->out.id);
	assert_string_equal(e->payment.provider_ref, fx->out.provider_ref);
	assert_string_equal(e->correlation_id, "req-123");
	assert_string_equal(e->traceparent, trace.traceparent);
	assert_true(payments_metric("succeeded") == 1.0);
	assert_true(payments_metric("declined") == 0.0);
}

static void test_each_decline_is_a_payment(void **state)
{
	struct fixture *fx = *state;
	const char *reasons[] = {"card_declined", "insufficient_funds",
	                         "amount_limit_exceeded",
	                         "invalid_payment_token"};
	const char *orders[] = {O1, O2, O3, NOPE};

	for (size_t i = 0; i < 4; i++) {
		struct payment_order o = order(orders[i], U1, 100, "tok_x");
		const struct fake_event *e;

		fake_payment_answer(fx->fake, NULL, reasons[i]);
		assert_int_equal(charge(fx, &o), 0);
		assert_false(fx->duplicate);
		assert_int_equal(fx->out.status, PAYMENT_DECLINED);
		assert_string_equal(fx->out.failure_reason, reasons[i]);
		assert_string_equal(fx->out.provider_ref, "");
		e = fake_payment_event(fx->fake, i);
		assert_non_null(e);
		assert_string_equal(e->event_type, "payment.failed");
		assert_string_equal(e->payment.failure_reason, reasons[i]);
		assert_string_equal(e->payment.order_id, orders[i]);
	}
	assert_int_equal(fake_payment_count(fx->fake), 4);
	assert_int_equal(fake_payment_events(fx->fake), 4);
	assert_true(payments_metric("declined") == 4.0);
}

static void test_second_event_of_an_order_does_nothing(void **state)
{
	struct fixture *fx = *state;
	struct payment_order o = order(O1, U1, 4999, "tok_visa");
	struct payment_order again = order(O1_UP, U2, 1, "tok_chargeDeclined");
	char first[37];

	assert_int_equal(charge(fx, &o), 0);
	snprintf(first, sizeof(first), "%s", fx->out.id);
	fake_payment_answer(fx->fake, NULL, "card_declined");
	/* the same order (any case), whatever the rest says */
	assert_int_equal(charge(fx, &again), 0);
	assert_true(fx->duplicate);
	assert_string_equal(fx->out.id, first);
	assert_int_equal(fx->out.status, PAYMENT_SUCCEEDED);
	assert_int_equal(fake_payment_calls(fx->fake, FAKE_PROCESSOR_CHARGE),
	                 1); /* no second charge */
	assert_int_equal(fake_payment_count(fx->fake), 1);
	assert_int_equal(fake_payment_events(fx->fake), 1); /* no event */
	assert_true(payments_metric("succeeded") == 1.0);
	assert_true(payments_metric("declined") == 0.0);
}

static void test_invalid_order_is_poison(void **state)
{
	struct fixture *fx = *state;
	struct payment_order bad[] = {
	        order("nope", U1, 1, "tok_visa"),
	        order(O1, "nope", 1, "tok_visa"),
	        order(O1, U1, -5, "tok_visa"),
	        order(O1, U1, 1, ""),
	};

	bad[3].currency = "eur";
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		fx->why[0] = '\0';
		assert_int_equal(charge(fx, &bad[i]), SHOP_EINVAL);
		assert_true(strlen(fx->why) > 0);
	}
	assert_int_equal(fake_payment_calls(fx->fake, FAKE_TX_LOCK), 0);
	assert_int_equal(fake_payment_calls(fx->fake, FAKE_PROCESSOR_CHARGE),
	                 0);
	assert_int_equal(fake_payment_count(fx->fake), 0);
}

static void test_transient_failures_store_nothing(void **state)
{
	struct fixture *fx = *state;
	struct payment_order o = order(O1, U1, 100, "tok_visa");

	fake_payment_fail_next(fx->fake, FAKE_PROCESSOR_CHARGE, SHOP_EUNAVAIL);
	assert_int_equal(charge(fx, &o), SHOP_EUNAVAIL);
	assert_int_equal(fake_payment_count(fx->fake), 0);
	fake_payment_fail_next(fx->fake, FAKE_TX_LOCK, SHOP_ETIMEDOUT);
	assert_int_equal(charge(fx, &o), SHOP_ETIMEDOUT);
	fake_payment_fail_next(fx->fake, FAKE_TX_INSERT, SHOP_EUNAVAIL);
	assert_int_equal(charge(fx, &o), SHOP_EUNAVAIL);
	assert_int_equal(fake_payment_count(fx->fake), 0);
	assert_int_equal(fake_payment_events(fx->fake), 0);
	assert_true(payments_metric("succeeded") == 0.0);
	/* the retry then goes through */
	assert_int_equal(charge(fx, &o), 0);
	assert_false(fx->duplicate);
	assert_int_equal(fake_payment_count(fx->fake), 1);
	assert_int_equal(fake_payment_events(fx->fake), 1);
}

static void test_insert_conflict_is_transient(void **state)
{
	struct fixture *fx = *state;
	struct payment_order o = order(O1, U1, 100, "tok_visa");

	/* another replica stored the order between the look and the insert
	 * (lock_order prevents it; core must still not publish) */
	fake_payment_fail_next(fx->fake, FAKE_TX_INSERT, SHOP_ECONFLICT);
	assert_int_equal(charge(fx, &o), SHOP_EUNAVAIL);
	assert_int_equal(fake_payment_events(fx->fake), 0);
}

static void test_provider_answer_without_reference(void **state)
{
	struct fixture *fx = *state;
	struct payment_order o = order(O1, U1, 100, "tok_visa");

	fake_payment_answer(fx->fake, "", NULL); /* success, no ref */
	assert_int_equal(charge(fx, &o), SHOP_ERR);
	assert_int_equal(fake_payment_count(fx->fake), 0);
}

static bool always(void *arg)
{
	(void)arg;
	return true;
}

static void test_cancelled(void **state)
{
	struct fixture *fx = *state;
	struct payment_order o = order(O1, U1, 100, "tok_visa");
	struct charge_cancel c = {always, NULL};

	assert_int_equal(payments_charge(&fx->p, fake_payment_tx(fx->fake), &o,
	                                 NULL, &c, &fx->out, &fx->duplicate,
	                                 fx->why, sizeof(fx->why)),
	                 SHOP_EUNAVAIL);
	assert_int_equal(fake_payment_count(fx->fake), 0);
}

/* ---- reads ---- */

static void seed(struct fixture *fx)
{
	struct payment_order o1 = order(O1, U1, 100, "tok_visa");
	struct payment_order o2 = order(O2, U2, 200, "tok_visa");
	struct payment_order o3 = order(O3, U1, 300, "tok_visa");

	assert_int_equal(charge(fx, &o1), 0);
	assert_int_equal(charge(fx, &o2), 0);
	assert_int_equal(charge(fx, &o3), 0);
}

static void test_list_own_only(void **state)
{
	struct fixture *fx = *state;
	struct payment_viewer v = {.user_id = U1};
	struct payment_query q;
	struct payment_page pg;

	seed(fx);
	payment_query_init(&q);
	assert_int_equal(payments_list(&fx->p, fx->a, &v, &q, &pg), 0);
	assert_string_equal(fake_payment_last_list_user(fx->fake), U1);
	assert_int_equal(pg.total, 2);
	assert_int_equal(pg.n, 2);
	assert_string_equal(pg.items[0].order_id, O3); /* newest first */
	assert_string_equal(pg.items[1].order_id, O1);

	/* another user's order, filtered: nothing */
	q.order_id = O2;
	assert_int_equal(payments_list(&fx->p, fx->a, &v, &q, &pg), 0);
	assert_int_equal(pg.total, 0);
	assert_int_equal(pg.n, 0);
	/* one's own, filtered, in any case */
	q.order_id = O1_UP;
	assert_int_equal(payments_list(&fx->p, fx->a, &v, &q, &pg), 0);
	assert_int_equal(pg.n, 1);
	assert_string_equal(pg.items[0].order_id, O1);
}

static void test_list_admin_sees_all(void **state)
{
	struct fixture *fx = *state;
	struct payment_viewer v = {.user_id = ADMIN, .is_admin = true};
	struct payment_query q;
	struct payment_page pg;

	seed(fx);
	payment_query_init(&q);
	assert_int_equal(payments_list(&fx->p, fx->a, &v, &q, &pg), 0);
	assert_string_equal(fake_payment_last_list_user(fx->fake), "");
	assert_int_equal(pg.total, 3);
	q.order_id = O2;
	assert_int_equal(payments_list(&fx->p, fx->a, &v, &q, &pg), 0);
	assert_int_equal(pg.n, 1);
	assert_string_equal(pg.items[0].user_id, U2);
	/* pages */
	q.order_id = NULL;
	q.page_size = 2;
	q.page = 2;
	assert_int_equal(payments_list(&fx->p, fx->a, &v, &q, &pg), 0);
	assert_int_equal(pg.total, 3);
	assert_int_equal(pg.n, 1);
	assert_string_equal(pg.items[0].order_id, O1);
}

static void test_list_refuses_bad_queries(void **state)
{
	struct fixture *fx = *state;
	struct payment_viewer v = {.user_id = U1};
	struct payment_query q;
	struct payment_page pg;

	payment_query_init(&q);
	q.page = 0;
	assert_int_equal(payments_list(&fx->p, fx->a, &v, &q, &pg),
	                 SHOP_EINVAL);
	payment_query_init(&q);
	q.page_size = 101;
	assert_int_equal(payments_list(&fx->p, fx->a, &v, &q, &pg),
	                 SHOP_EINVAL);
	payment_query_init(&q);
	q.order_id = "x";
	assert_int_equal(payments_list(&fx->p, fx->a, &v, &q, &pg),
	                 SHOP_EINVAL);
	assert_int_equal(fake_payment_calls(fx->fake, FAKE_REPO_LIST), 0);
	fake_payment_fail_next(fx->fake, FAKE_REPO_LIST, SHOP_EUNAVAIL);
	payment_query_init(&q);
	assert_int_equal(payments_list(&fx->p, fx->a, &v, &q, &pg),
	                 SHOP_EUNAVAIL);
}

static void test_get_owner_admin_other(void **state)
{
	struct fixture *fx = *state;
	struct payment_viewer owner = {.user_id = U1};
	struct payment_viewer other = {.user_id = U2};
	struct payment_viewer admin = {.user_id = ADMIN, .is_admin = true};
	struct payment_order o = order(O1, U1, 100, "tok_visa");
	struct payment got;
	char id[37], upper[37];

	assert_int_equal(charge(fx, &o), 0);
	snprintf(id, sizeof(id), "%s", fx->out.id);
	for (size_t i = 0; i < 37; i++)
		upper[i] = (id[i] >= 'a' && id[i] <= 'f')
		                   ? (char)(id[i] - 'a' + 'A')
		                   : id[i];

	assert_int_equal(payments_get(&fx->p, &owner, id, &got), 0);
	assert_string_equal(got.id, id);
	assert_int_equal(payments_get(&fx->p, &owner, upper, &got), 0);
	assert_int_equal(payments_get(&fx->p, &admin, id, &got), 0);
	assert_string_equal(got.user_id, U1);

	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(payments_get(&fx->p, &other, id, &got),
	                 SHOP_ENOTFOUND);
	assert_int_equal((unsigned char)got.id[0], 0x5a); /* untouched */
	assert_int_equal(payments_get(&fx->p, &owner, NOPE, &got),
	                 SHOP_ENOTFOUND);
	assert_int_equal(payments_get(&fx->p, &admin, NOPE, &got),
	                 SHOP_ENOTFOUND);
	assert_int_equal(payments_get(&fx->p, &owner, "not-an-id", &got),
	                 SHOP_ENOTFOUND);
	fake_payment_fail_next(fx->fake, FAKE_REPO_GET, SHOP_EUNAVAIL);
	assert_int_equal(payments_get(&fx->p, &owner, id, &got), SHOP_EUNAVAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_charge_succeeds, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_each_decline_is_a_payment,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_second_event_of_an_order_does_nothing, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_invalid_order_is_poison,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_transient_failures_store_nothing, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_insert_conflict_is_transient, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_provider_answer_without_reference, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_cancelled, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_list_own_only, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_list_admin_sees_all, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_list_refuses_bad_queries,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_get_owner_admin_other,
	                                        setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
