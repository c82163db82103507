#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "shop/arena.h"
#include "shop/error.h"
#include "../src/core/orders.h"
#include "fake_orders.h"

/*
 * The order service's use cases over the in-memory fakes: placing an
 * order (validation, an empty cart, the cart or product service down, a
 * stock refusal, a store that fails, the reservation's prices), the
 * Idempotency-Key (a replay calls neither cart nor stock; another request
 * under the key is refused; a concurrent twin's order is answered), reading
 * orders (own, admin, another user's), and the payment results (confirmed,
 * failed, late or duplicate results, results for no known order, poison).
 */
#define U1       "11111111-0000-4000-8000-000000000001"
#define U1_UP    "11111111-0000-4000-8000-00000000000A"
#define U2       "11111111-0000-4000-8000-000000000002"
#define ADMIN    "11111111-0000-4000-8000-0000000000ad"
#define HP       "aaaaaaaa-0000-4000-8000-000000000001"
#define KETTLE   "aaaaaaaa-0000-4000-8000-000000000002" /* 5 in stock */
#define MISSING  "bbbbbbbb-0000-4000-8000-000000000000"
#define PAY1     "cccccccc-0000-4000-8000-000000000001"
#define PAY2     "cccccccc-0000-4000-8000-000000000002"
#define TWIN     "dddddddd-0000-4000-8000-000000000001"
#define UNKNOWN  "eeeeeeee-0000-4000-8000-000000000001"
#define FP       "{\"payment_token\":\"tok_visa\"}"
#define FP_OTHER "{\"payment_token\":\"tok_mastercard\"}"

struct fixture {
	struct fake_orders *fake;
	struct arena *a;
	struct orders o;
	struct order_trace t;
	struct order_caller u1, u2, admin;
	struct order_request req;
	struct field_errors errs;
	struct stock_conflict cf;
	struct order out;
	bool replayed;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->fake = fake_orders_new();
	fx->a = arena_new(0);
	if (!fx->fake || !fx->a)
		return -1;
	/* The catalog's names and prices differ from the cart's: the
	 * order must take the reservation's. */
	if (fake_orders_add_product(fx->fake, HP, "HP-1", "Headphones", 9999,
	                            "EUR", 100) ||
	    fake_orders_add_product(fx->fake, KETTLE, "KT-1", "Kettle", 2999,
	                            "EUR", 5))
		return -1;
	orders_init(&fx->o, fake_orders_repo(fx->fake),
	            fake_orders_cart(fx->fake), fake_orders_stock(fx->fake),
	            fake_orders_ids(fx->fake));
	fx->t = (struct order_trace){
	        "req-1",
	        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"};
	fx->u1 = (struct order_caller){U1, "u1@example.com", false};
	fx->u2 = (struct order_caller){U2, "u2@example.com", false};
	fx->admin = (struct order_caller){ADMIN, "admin@example.com", true};
	fx->req = (struct order_request){
	        .payment_token = "tok_visa",
	        .address = {.name = "Ada Lovelace",
	                    .line1 = "12 Analytical Row",
	                    .city = "London",
	                    .postal_code = "NW1 6XE",
	                    .country = "GB"},
	};
	field_errors_init(&fx->errs);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fake_orders_free(fx->fake);
	arena_free(fx->a);
	free(fx);
	return 0;
}

/* The usual cart: 2 headphones and a kettle, named as the cart shows. */
static void fill_cart(struct fixture *fx)
{
	assert_int_equal(
	        fake_orders_cart_add(fx->fake, HP, "Headphones (cart)", 2), 0);
	assert_int_equal(
	        fake_orders_cart_add(fx->fake, KETTLE, "Kettle (cart)", 1), 0);
}

static int place_as(struct fixture *fx, const struct order_caller *who,
                    const char *key, const char *fp)
{
	field_errors_init(&fx->errs);
	memset(&fx->cf, 0, sizeof(fx->cf));
	fx->replayed = true; /* must be reset by orders_place */
	return orders_place(&fx->o, fx->a, &fx->t, who, key, fp, &fx->req,
	                    &fx->errs, &fx->out, &fx->replayed, &fx->cf);
}

static int place(struct fixture *fx, const char *key, const char *fp)
{
	return place_as(fx, &fx->u1, key, fp);
}

static int calls(struct fixture *fx, enum fake_orders_slot s)
{
	return fake_orders_calls(fx->fake, s);
}

/* No cart, stock or store call was made. */
static void assert_untouched(struct fixture *fx)
{
	assert_int_equal(calls(fx, FAKE_CART_GET), 0);
	assert_int_equal(calls(fx, FAKE_STOCK_RESERVE), 0);
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 0);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 0);
	assert_int_equal(fake_orders_count(fx->fake), 0);
}

/* ---------------------------------------------------------------- place */

static void test_place_invalid(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	fx->req.payment_token = "tok_amex";
	fx->req.address.country = "gb";
	fx->req.address.name = "   ";
	assert_int_equal(place(fx, NULL, NULL), SHOP_EINVAL);
	assert_true(field_errors_has(&fx->errs, "payment_token"));
	assert_true(field_errors_has(&fx->errs, "shipping_address.country"));
	assert_true(field_errors_has(&fx->errs, "shipping_address.name"));
	assert_false(fx->replayed);
	assert_untouched(fx);
	assert_int_equal(calls(fx, FAKE_REPO_FIND_BY_KEY), 0);

	/* With a key too: validation comes before the replay. */
	fx->req.payment_token = NULL;
	assert_int_equal(place(fx, "k1", FP), SHOP_EINVAL);
	assert_true(field_errors_has(&fx->errs, "payment_token"));
	assert_int_equal(calls(fx, FAKE_REPO_FIND_BY_KEY), 0);
	assert_untouched(fx);
}

static void test_place_missing_address_fields(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	fx->req.address = (struct order_address){0};
	assert_int_equal(place(fx, NULL, NULL), SHOP_EINVAL);
	assert_true(field_errors_has(&fx->errs, "shipping_address.name"));
	assert_true(field_errors_has(&fx->errs, "shipping_address.line1"));
	assert_true(field_errors_has(&fx->errs, "shipping_address.city"));
	assert_true(
	        field_errors_has(&fx->errs, "shipping_address.postal_code"));
	assert_true(field_errors_has(&fx->errs, "shipping_address.country"));
	assert_false(field_errors_has(&fx->errs, "shipping_address.line2"));
	assert_untouched(fx);
}

static void test_place_empty_cart(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(place(fx, NULL, NULL), ORDER_EEMPTY);
	assert_int_equal(calls(fx, FAKE_CART_GET), 1);
	assert_string_equal(fake_orders_cart_user(fx->fake), U1);
	assert_int_equal(calls(fx, FAKE_STOCK_RESERVE), 0);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 0);
	assert_int_equal(fake_orders_count(fx->fake), 0);
}

static void test_place_cart_down(void **state)
{
	struct fixture *fx = *state;
	static const int errs[] = {SHOP_EUNAVAIL, SHOP_ETIMEDOUT, SHOP_ERR};

	fill_cart(fx);
	for (size_t i = 0; i < sizeof(errs) / sizeof(*errs); i++) {
		fake_orders_fail_next(fx->fake, FAKE_CART_GET, errs[i]);
		assert_int_equal(place(fx, NULL, NULL), ORDER_ECART);
	}
	fake_orders_fail_next(fx->fake, FAKE_CART_GET, SHOP_ENOMEM);
	assert_int_equal(place(fx, NULL, NULL), SHOP_ENOMEM);
	assert_int_equal(calls(fx, FAKE_STOCK_RESERVE), 0);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 0);
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 100);
}

static void test_place_stock_down(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	fake_orders_fail_next(fx->fake, FAKE_STOCK_RESERVE, SHOP_ETIMEDOUT);
	assert_int_equal(place(fx, NULL, NULL), ORDER_ESTOCK);
	/* A timeout may have left a hold: cancel is attempted for the very
	 * order id that was reserved. */
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 1);
	assert_string_equal(fake_orders_last_cancelled(fx->fake),
	                    fake_orders_last_reserved(fx->fake));
	assert_string_equal(fake_orders_last_reserved(fx->fake),
	                    FAKE_ORDER_ID(1));
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 0);
	assert_int_equal(fake_orders_count(fx->fake), 0);

	/* Unavailable, and cancel failing too: still ORDER_ESTOCK. */
	fake_orders_fail_next(fx->fake, FAKE_STOCK_RESERVE, SHOP_EUNAVAIL);
	fake_orders_fail_next(fx->fake, FAKE_STOCK_CANCEL, SHOP_EUNAVAIL);
	assert_int_equal(place(fx, NULL, NULL), ORDER_ESTOCK);
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 2);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 0);

	/* Out of memory is not the product service's fault. */
	fake_orders_fail_next(fx->fake, FAKE_STOCK_RESERVE, SHOP_ENOMEM);
	assert_int_equal(place(fx, NULL, NULL), SHOP_ENOMEM);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 0);
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 100);
}

static void test_place_insufficient_stock(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(
	        fake_orders_cart_add(fx->fake, HP, "Headphones (cart)", 1), 0);
	assert_int_equal(
	        fake_orders_cart_add(fx->fake, KETTLE, "Kettle (cart)", 6), 0);
	assert_int_equal(place(fx, NULL, NULL), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.why, STOCK_INSUFFICIENT);
	assert_string_equal(fx->cf.product_id, KETTLE);
	assert_int_equal(fx->cf.available, 5);
	/* The name the shopper knows: the cart line's. */
	assert_non_null(fx->cf.product_name);
	assert_string_equal(fx->cf.product_name, "Kettle (cart)");
	/* Nothing was reserved, nothing is stored. */
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 100);
	assert_int_equal(fake_orders_stock_of(fx->fake, KETTLE), 5);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 0);
	assert_int_equal(fake_orders_count(fx->fake), 0);
	assert_int_equal(fake_orders_events(fx->fake), 0);
}

static void test_place_unknown_product(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	assert_int_equal(
	        fake_orders_cart_add(fx->fake, MISSING, "Gone (cart)", 1), 0);
	assert_int_equal(place(fx, NULL, NULL), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.why, STOCK_UNKNOWN);
	assert_string_equal(fx->cf.product_id, MISSING);
	assert_non_null(fx->cf.product_name);
	assert_string_equal(fx->cf.product_name, "Gone (cart)");
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 100);
	assert_int_equal(fake_orders_count(fx->fake), 0);
}

static void test_place_store_fails(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	fake_orders_fail_next(fx->fake, FAKE_REPO_CREATE, SHOP_EUNAVAIL);
	assert_int_equal(place(fx, NULL, NULL), SHOP_EUNAVAIL);
	/* The reservation of the order that was not stored is given back. */
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 1);
	assert_string_equal(fake_orders_last_cancelled(fx->fake),
	                    FAKE_ORDER_ID(1));
	assert_false(fake_orders_holds(fx->fake, FAKE_ORDER_ID(1)));
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 100);
	assert_int_equal(fake_orders_stock_of(fx->fake, KETTLE), 5);
	assert_int_equal(fake_orders_count(fx->fake), 0);

	/* The cancel failing too (it expires instead): the store's error. */
	fake_orders_fail_next(fx->fake, FAKE_REPO_CREATE, SHOP_ERR);
	fake_orders_fail_next(fx->fake, FAKE_STOCK_CANCEL, SHOP_EUNAVAIL);
	assert_int_equal(place(fx, NULL, NULL), SHOP_ERR);
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 2);
	assert_string_equal(fake_orders_last_cancelled(fx->fake),
	                    FAKE_ORDER_ID(2));

	/* A conflict without a key (no twin to answer) is returned as is. */
	fake_orders_fail_next(fx->fake, FAKE_REPO_CREATE, SHOP_ECONFLICT);
	assert_int_equal(place(fx, NULL, NULL), SHOP_ECONFLICT);
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 3);
	assert_int_equal(calls(fx, FAKE_REPO_FIND_BY_KEY), 0);
	assert_int_equal(fake_orders_count(fx->fake), 0);
}

static void test_place_ok(void **state)
{
	struct fixture *fx = *state;
	const struct order *o = &fx->out;
	struct order got;

	fill_cart(fx);
	fx->req.address.line2 = "Flat 3";
	assert_int_equal(place(fx, NULL, NULL), 0);
	assert_false(fx->replayed);
	assert_string_equal(o->id, FAKE_ORDER_ID(1));
	assert_string_equal(o->user_id, U1);
	assert_string_equal(o->user_email, "u1@example.com");
	assert_int_equal(o->status, ORDER_PENDING);
	/* Items, names and prices as the product service reserved them. */
	assert_int_equal(o->nitems, 2);
	assert_string_equal(o->items[0].product_id, HP);
	assert_string_equal(o->items[0].sku, "HP-1");
	assert_string_equal(o->items[0].name, "Headphones");
	assert_int_equal(o->items[0].unit_price_cents, 9999);
	assert_int_equal(o->items[0].quantity, 2);
	assert_string_equal(o->items[1].product_id, KETTLE);
	assert_string_equal(o->items[1].name, "Kettle");
	assert_int_equal(o->items[1].unit_price_cents, 2999);
	assert_int_equal(o->items[1].quantity, 1);
	assert_int_equal(o->total_cents, 2 * 9999 + 2999);
	assert_string_equal(o->currency, "EUR");
	assert_string_equal(o->address.name, "Ada Lovelace");
	assert_string_equal(o->address.line2, "Flat 3");
	assert_string_equal(o->address.country, "GB");
	assert_false(o->payment.known);
	assert_int_equal(o->nhistory, 1);
	assert_int_equal(o->history[0].status, ORDER_PENDING);
	assert_true(o->created_at > FAKE_ORDERS_T0);

	/* One cart read (the caller's), one reservation for the order's
	 * id, one create given the token and the trace, nothing cancelled. */
	assert_int_equal(calls(fx, FAKE_CART_GET), 1);
	assert_string_equal(fake_orders_cart_user(fx->fake), U1);
	assert_int_equal(calls(fx, FAKE_STOCK_RESERVE), 1);
	assert_string_equal(fake_orders_last_reserved(fx->fake), o->id);
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 0);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 1);
	assert_int_equal(calls(fx, FAKE_REPO_FIND_BY_KEY), 0);
	assert_string_equal(fake_orders_last_token(fx->fake), "tok_visa");
	assert_string_equal(fake_orders_last_key(fx->fake), "");
	assert_string_equal(fake_orders_last_request_id(fx->fake), "req-1");
	assert_int_equal(fake_orders_events(fx->fake), 1);
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 98);
	assert_int_equal(fake_orders_stock_of(fx->fake, KETTLE), 4);
	assert_true(fake_orders_holds(fx->fake, o->id));

	/* As stored. */
	assert_int_equal(orders_get(&fx->o, fx->a, &fx->u1, o->id, &got), 0);
	assert_int_equal(got.total_cents, 2 * 9999 + 2999);
	assert_int_equal(got.status, ORDER_PENDING);
}

static void test_place_token_passed(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	fx->req.payment_token = "tok_chargeDeclined";
	assert_int_equal(place(fx, "k-token", FP), 0);
	assert_string_equal(fake_orders_last_token(fx->fake),
	                    "tok_chargeDeclined");
	assert_string_equal(fake_orders_last_key(fx->fake), "k-token");
	assert_string_equal(fake_orders_last_fingerprint(fx->fake), FP);
}

/* ---------------------------------------------------------------- keys */

static void test_place_replay(void **state)
{
	struct fixture *fx = *state;
	char first[37];

	fill_cart(fx);
	assert_int_equal(place(fx, "key-1", FP), 0);
	assert_false(fx->replayed);
	memcpy(first, fx->out.id, 37);

	assert_int_equal(place(fx, "key-1", FP), 0);
	assert_true(fx->replayed);
	assert_string_equal(fx->out.id, first);
	assert_int_equal(fx->out.status, ORDER_PENDING);
	assert_int_equal(fx->out.nitems, 2);
	assert_int_equal(fx->out.total_cents, 2 * 9999 + 2999);
	assert_string_equal(fx->out.currency, "EUR");
	/* Neither cart nor stock asked again; nothing stored twice. */
	assert_int_equal(calls(fx, FAKE_CART_GET), 1);
	assert_int_equal(calls(fx, FAKE_STOCK_RESERVE), 1);
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 0);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 1);
	assert_int_equal(calls(fx, FAKE_IDS_NEW), 1);
	assert_int_equal(fake_orders_count(fx->fake), 1);
	assert_int_equal(fake_orders_events(fx->fake), 1);
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 98);
}

static void test_place_replay_after_payment(void **state)
{
	struct fixture *fx = *state;
	struct payment_result p = {FAKE_ORDER_ID(1), PAY1, true, NULL};
	bool moved;

	fill_cart(fx);
	assert_int_equal(place(fx, "key-1", FP), 0);
	assert_int_equal(
	        orders_on_payment(&fx->o, NULL, fx->a, &fx->t, &p, &moved), 0);
	assert_true(moved);
	/* The replay answers the order as it is now. */
	assert_int_equal(place(fx, "key-1", FP), 0);
	assert_true(fx->replayed);
	assert_int_equal(fx->out.status, ORDER_CONFIRMED);
	assert_true(fx->out.payment.known);
	assert_string_equal(fx->out.payment.payment_id, PAY1);
}

static void test_place_key_reused(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	assert_int_equal(place(fx, "key-1", FP), 0);
	assert_int_equal(place(fx, "key-1", FP_OTHER), ORDER_EKEYREUSED);
	assert_false(fx->replayed);
	assert_int_equal(calls(fx, FAKE_CART_GET), 1);
	assert_int_equal(calls(fx, FAKE_STOCK_RESERVE), 1);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 1);
	assert_int_equal(fake_orders_count(fx->fake), 1);
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 98);
}

static void test_place_key_per_user(void **state)
{
	struct fixture *fx = *state;
	char first[37];

	fill_cart(fx);
	assert_int_equal(place(fx, "shared-key", FP), 0);
	memcpy(first, fx->out.id, 37);
	assert_int_equal(place_as(fx, &fx->u2, "shared-key", FP), 0);
	assert_false(fx->replayed);
	assert_string_not_equal(fx->out.id, first);
	assert_string_equal(fx->out.user_id, U2);
	assert_int_equal(fake_orders_count(fx->fake), 2);
	/* A new key of the same user is a new order too. */
	assert_int_equal(place(fx, "key-2", FP), 0);
	assert_false(fx->replayed);
	assert_int_equal(fake_orders_count(fx->fake), 3);
}

static void test_place_key_lookup_fails(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	fake_orders_fail_next(fx->fake, FAKE_REPO_FIND_BY_KEY, SHOP_EUNAVAIL);
	assert_int_equal(place(fx, "key-1", FP), SHOP_EUNAVAIL);
	assert_false(fx->replayed);
	assert_untouched(fx);
}

static void test_place_concurrent_twin(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	/* Between our lookup and our create, a twin request with the same
	 * key and body was stored. */
	fake_orders_plant_twin(fx->fake, TWIN, NULL, 0);
	assert_int_equal(place(fx, "key-1", FP), 0);
	assert_true(fx->replayed);
	assert_string_equal(fx->out.id, TWIN);
	/* Our own reservation was given back at once. */
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 1);
	assert_string_equal(fake_orders_last_cancelled(fx->fake),
	                    FAKE_ORDER_ID(1));
	assert_false(fake_orders_holds(fx->fake, FAKE_ORDER_ID(1)));
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 100);
	assert_int_equal(fake_orders_stock_of(fx->fake, KETTLE), 5);
	/* Only the twin is stored; a lookup before and one after. */
	assert_int_equal(fake_orders_count(fx->fake), 1);
	assert_int_equal(fake_orders_status(fx->fake, FAKE_ORDER_ID(1)), -1);
	assert_int_equal(calls(fx, FAKE_REPO_FIND_BY_KEY), 2);
}

static void test_place_concurrent_twin_other_body(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	/* The twin that won used the key for another request. */
	fake_orders_plant_twin(fx->fake, TWIN, FP_OTHER, 0);
	assert_int_equal(place(fx, "key-1", FP), ORDER_EKEYREUSED);
	assert_false(fx->replayed);
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 1);
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 100);
	assert_int_equal(fake_orders_count(fx->fake), 1);
}

static void test_place_concurrent_twin_lookup_fails(void **state)
{
	struct fixture *fx = *state;

	fill_cart(fx);
	/* The lookup after the conflict fails: its error is the answer,
	 * and the own reservation is still given back. */
	fake_orders_plant_twin(fx->fake, TWIN, NULL, SHOP_EUNAVAIL);
	assert_int_equal(place(fx, "key-1", FP), SHOP_EUNAVAIL);
	assert_false(fx->replayed);
	assert_int_equal(calls(fx, FAKE_REPO_FIND_BY_KEY), 2);
	assert_int_equal(calls(fx, FAKE_STOCK_CANCEL), 1);
	assert_int_equal(fake_orders_stock_of(fx->fake, HP), 100);
}

static void test_place_twin_finds_cart_emptied(void **state)
{
	struct fixture *fx = *state;
	char first[37];

	fill_cart(fx);
	assert_int_equal(place(fx, "key-1", FP), 0);
	memcpy(first, fx->out.id, 37);
	/* A twin sent with it looked the key up before the winner committed,
	 * then found the cart already emptied by order.created: it answers
	 * the winner's order, not 422. */
	fake_orders_cart_clear(fx->fake);
	fake_orders_fail_next(fx->fake, FAKE_REPO_FIND_BY_KEY, SHOP_ENOTFOUND);
	assert_int_equal(place(fx, "key-1", FP), 0);
	assert_true(fx->replayed);
	assert_string_equal(fx->out.id, first);
	assert_int_equal(calls(fx, FAKE_REPO_FIND_BY_KEY), 3);
	assert_int_equal(calls(fx, FAKE_STOCK_RESERVE), 1);
	assert_int_equal(fake_orders_count(fx->fake), 1);
	/* Without a key an empty cart stays 422; with another body, the key
	 * is reused. */
	assert_int_equal(place(fx, NULL, NULL), ORDER_EEMPTY);
	fake_orders_fail_next(fx->fake, FAKE_REPO_FIND_BY_KEY, SHOP_ENOTFOUND);
	assert_int_equal(place(fx, "key-1", FP_OTHER), ORDER_EKEYREUSED);
	/* A key nobody stored: still the empty cart. */
	assert_int_equal(place(fx, "key-2", FP), ORDER_EEMPTY);
	assert_false(fx->replayed);
}

static void test_place_twin_finds_stock_taken(void **state)
{
	struct fixture *fx = *state;
	char first[37];

	/* 5 kettles in stock: the winner takes them all */
	assert_int_equal(fake_orders_cart_add(fx->fake, KETTLE, "Kettle", 5),
	                 0);
	assert_int_equal(place(fx, "key-1", FP), 0);
	memcpy(first, fx->out.id, 37);
	fake_orders_fail_next(fx->fake, FAKE_REPO_FIND_BY_KEY, SHOP_ENOTFOUND);
	assert_int_equal(place(fx, "key-1", FP), 0);
	assert_true(fx->replayed);
	assert_string_equal(fx->out.id, first);
	assert_int_equal(fake_orders_count(fx->fake), 1);
	assert_int_equal(fake_orders_stock_of(fx->fake, KETTLE), 0);
	/* without a key it is the shortage */
	assert_int_equal(place(fx, NULL, NULL), SHOP_ECONFLICT);
	assert_string_equal(fx->cf.product_id, KETTLE);
}

/* ---------------------------------------------------------------- get */

static void test_get(void **state)
{
	struct fixture *fx = *state;
	struct order got;
	struct order_caller up = {U1_UP, "u1@example.com", false};

	fill_cart(fx);
	assert_int_equal(place(fx, NULL, NULL), 0);

	assert_int_equal(
	        orders_get(&fx->o, fx->a, &fx->u1, FAKE_ORDER_ID(1), &got), 0);
	assert_string_equal(got.id, FAKE_ORDER_ID(1));
	assert_string_equal(got.user_id, U1);
	/* An admin reads anyone's. */
	assert_int_equal(
	        orders_get(&fx->o, fx->a, &fx->admin, FAKE_ORDER_ID(1), &got),
	        0);
	assert_string_equal(got.user_id, U1);
	/* Another user does not learn that it exists. */
	assert_int_equal(
	        orders_get(&fx->o, fx->a, &fx->u2, FAKE_ORDER_ID(1), &got),
	        SHOP_ENOTFOUND);
	/* Another user whose id differs only in its last hex digit. */
	assert_int_equal(orders_get(&fx->o, fx->a, &up, FAKE_ORDER_ID(1), &got),
	                 SHOP_ENOTFOUND);
	/* Unknown and malformed ids. */
	assert_int_equal(orders_get(&fx->o, fx->a, &fx->u1, UNKNOWN, &got),
	                 SHOP_ENOTFOUND);
	int before = calls(fx, FAKE_REPO_GET);
	assert_int_equal(orders_get(&fx->o, fx->a, &fx->u1, "not-a-uuid", &got),
	                 SHOP_ENOTFOUND);
	assert_int_equal(orders_get(&fx->o, fx->a, &fx->u1, "", &got),
	                 SHOP_ENOTFOUND);
	assert_int_equal(
	        orders_get(&fx->o, fx->a, &fx->u1, FAKE_ORDER_ID(1) "0", &got),
	        SHOP_ENOTFOUND);
	assert_int_equal(calls(fx, FAKE_REPO_GET), before);
}

static void test_get_owner_case(void **state)
{
	struct fixture *fx = *state;
	struct order got;
	struct order_caller upper = {"11111111-0000-4000-8000-00000000000A",
	                             "x@example.com", false};
	struct order_caller lower = {"11111111-0000-4000-8000-00000000000a",
	                             "x@example.com", false};

	fill_cart(fx);
	assert_int_equal(place_as(fx, &lower, NULL, NULL), 0);
	/* The same user id written in upper case is the same user. */
	assert_int_equal(orders_get(&fx->o, fx->a, &upper, fx->out.id, &got),
	                 0);
}

static void test_get_store_down(void **state)
{
	struct fixture *fx = *state;
	struct order got;

	fake_orders_fail_next(fx->fake, FAKE_REPO_GET, SHOP_EUNAVAIL);
	assert_int_equal(orders_get(&fx->o, fx->a, &fx->u1, UNKNOWN, &got),
	                 SHOP_EUNAVAIL);
}

/* ---------------------------------------------------------------- list */

static void test_list(void **state)
{
	struct fixture *fx = *state;
	struct order_page pg;

	fill_cart(fx);
	assert_int_equal(place(fx, NULL, NULL), 0);
	assert_int_equal(place(fx, NULL, NULL), 0);
	assert_int_equal(place_as(fx, &fx->u2, NULL, NULL), 0);
	assert_int_equal(place(fx, NULL, NULL), 0);

	assert_int_equal(orders_list(&fx->o, fx->a, &fx->u1, 1, 2, &pg), 0);
	assert_string_equal(fake_orders_list_user(fx->fake), U1);
	assert_int_equal(fake_orders_list_page(fx->fake), 1);
	assert_int_equal(fake_orders_list_page_size(fx->fake), 2);
	assert_int_equal(pg.total, 3);
	assert_int_equal(pg.n, 2);
	assert_string_equal(pg.items[0].id, FAKE_ORDER_ID(4)); /* newest */
	assert_string_equal(pg.items[1].id, FAKE_ORDER_ID(2));

	assert_int_equal(orders_list(&fx->o, fx->a, &fx->u1, 2, 2, &pg), 0);
	assert_int_equal(fake_orders_list_page(fx->fake), 2);
	assert_int_equal(pg.n, 1);
	assert_string_equal(pg.items[0].id, FAKE_ORDER_ID(1));

	/* Even an admin lists only its own orders here. */
	assert_int_equal(orders_list(&fx->o, fx->a, &fx->admin, 1, 20, &pg), 0);
	assert_string_equal(fake_orders_list_user(fx->fake), ADMIN);
	assert_int_equal(pg.n, 0);
	assert_int_equal(pg.total, 0);

	fake_orders_fail_next(fx->fake, FAKE_REPO_LIST, SHOP_EUNAVAIL);
	assert_int_equal(orders_list(&fx->o, fx->a, &fx->u1, 1, 20, &pg),
	                 SHOP_EUNAVAIL);
}

/* ---------------------------------------------------------------- payments */

static int pay(struct fixture *fx, const char *order, const char *payment,
               bool ok, const char *reason, bool *moved)
{
	struct payment_result p = {order, payment, ok, reason};

	*moved = true; /* must be reset */
	return orders_on_payment(&fx->o, (void *)fx, fx->a, &fx->t, &p, moved);
}

static void test_payment_poison(void **state)
{
	struct fixture *fx = *state;
	char long_reason[ORDER_REASON_MAX + 2];
	bool moved;

	fill_cart(fx);
	assert_int_equal(place(fx, NULL, NULL), 0);
	memset(long_reason, 'x', sizeof(long_reason) - 1);
	long_reason[sizeof(long_reason) - 1] = '\0';

	assert_int_equal(pay(fx, NULL, PAY1, true, NULL, &moved), SHOP_EINVAL);
	assert_false(moved);
	assert_int_equal(pay(fx, "nope", PAY1, true, NULL, &moved),
	                 SHOP_EINVAL);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(1), NULL, true, NULL, &moved),
	                 SHOP_EINVAL);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(1), "pay-1", true, NULL, &moved),
	                 SHOP_EINVAL);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(1), PAY1, false, NULL, &moved),
	                 SHOP_EINVAL);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(1), PAY1, false, "", &moved),
	                 SHOP_EINVAL);
	assert_int_equal(
	        pay(fx, FAKE_ORDER_ID(1), PAY1, false, long_reason, &moved),
	        SHOP_EINVAL);
	assert_false(moved);
	assert_int_equal(calls(fx, FAKE_REPO_APPLY_PAYMENT), 0);
	assert_int_equal(fake_orders_status(fx->fake, FAKE_ORDER_ID(1)),
	                 ORDER_PENDING);

	/* 64 characters is the longest reason. */
	long_reason[ORDER_REASON_MAX] = '\0';
	assert_int_equal(
	        pay(fx, FAKE_ORDER_ID(1), PAY1, false, long_reason, &moved), 0);
	assert_true(moved);
}

static void test_payment_completed(void **state)
{
	struct fixture *fx = *state;
	struct order got;
	bool moved;

	fill_cart(fx);
	assert_int_equal(place(fx, NULL, NULL), 0);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(1), PAY1, true, NULL, &moved),
	                 0);
	assert_true(moved);
	assert_int_equal(fake_orders_last_move(fx->fake), ORDER_CONFIRMED);
	assert_ptr_equal(fake_orders_last_tx(fx->fake), fx); /* the tx */
	assert_int_equal(fake_orders_events(fx->fake), 2);
	assert_int_equal(
	        orders_get(&fx->o, fx->a, &fx->u1, FAKE_ORDER_ID(1), &got), 0);
	assert_int_equal(got.status, ORDER_CONFIRMED);
	assert_true(got.payment.known);
	assert_true(got.payment.succeeded);
	assert_string_equal(got.payment.payment_id, PAY1);
	assert_null(got.payment.failure_reason);
	assert_int_equal(got.nhistory, 2);
	assert_int_equal(got.history[0].status, ORDER_PENDING);
	assert_int_equal(got.history[1].status, ORDER_CONFIRMED);
}

static void test_payment_failed(void **state)
{
	struct fixture *fx = *state;
	struct order got;
	bool moved;

	fill_cart(fx);
	assert_int_equal(place(fx, NULL, NULL), 0);
	assert_int_equal(
	        pay(fx, FAKE_ORDER_ID(1), PAY1, false, "card_declined", &moved),
	        0);
	assert_true(moved);
	assert_int_equal(fake_orders_last_move(fx->fake), ORDER_FAILED);
	assert_int_equal(
	        orders_get(&fx->o, fx->a, &fx->u1, FAKE_ORDER_ID(1), &got), 0);
	assert_int_equal(got.status, ORDER_FAILED);
	assert_true(got.payment.known);
	assert_false(got.payment.succeeded);
	assert_string_equal(got.payment.payment_id, PAY1);
	assert_non_null(got.payment.failure_reason);
	assert_string_equal(got.payment.failure_reason, "card_declined");
	assert_int_equal(got.nhistory, 2);
	assert_int_equal(got.history[1].status, ORDER_FAILED);
}

static void test_payment_unknown_order(void **state)
{
	struct fixture *fx = *state;
	bool moved;

	assert_int_equal(pay(fx, UNKNOWN, PAY1, true, NULL, &moved), 0);
	assert_false(moved);
	assert_int_equal(calls(fx, FAKE_REPO_APPLY_PAYMENT), 1);
	assert_int_equal(pay(fx, UNKNOWN, PAY1, false, "card_declined", &moved),
	                 0);
	assert_false(moved);
	assert_int_equal(fake_orders_events(fx->fake), 0);
}

static void test_payment_late_or_duplicate(void **state)
{
	struct fixture *fx = *state;
	struct order got;
	bool moved;

	fill_cart(fx);
	assert_int_equal(place(fx, NULL, NULL), 0);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(1), PAY1, true, NULL, &moved),
	                 0);
	assert_true(moved);
	/* The same result again, then a failure, then another payment:
	 * nothing moves, nothing is published. */
	assert_int_equal(pay(fx, FAKE_ORDER_ID(1), PAY1, true, NULL, &moved),
	                 0);
	assert_false(moved);
	assert_int_equal(
	        pay(fx, FAKE_ORDER_ID(1), PAY2, false, "card_declined", &moved),
	        0);
	assert_false(moved);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(1), PAY2, true, NULL, &moved),
	                 0);
	assert_false(moved);
	assert_int_equal(fake_orders_events(fx->fake), 2);
	assert_int_equal(
	        orders_get(&fx->o, fx->a, &fx->u1, FAKE_ORDER_ID(1), &got), 0);
	assert_int_equal(got.status, ORDER_CONFIRMED);
	assert_string_equal(got.payment.payment_id, PAY1);
	assert_int_equal(got.nhistory, 2);

	/* A failed order never becomes confirmed either. */
	assert_int_equal(place(fx, NULL, NULL), 0);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(2), PAY2, false,
	                     "insufficient_funds", &moved),
	                 0);
	assert_true(moved);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(2), PAY1, true, NULL, &moved),
	                 0);
	assert_false(moved);
	assert_int_equal(fake_orders_status(fx->fake, FAKE_ORDER_ID(2)),
	                 ORDER_FAILED);
}

static void test_payment_store_down(void **state)
{
	struct fixture *fx = *state;
	bool moved;

	fill_cart(fx);
	assert_int_equal(place(fx, NULL, NULL), 0);
	/* Returned so that the consumer rolls back and retries. */
	fake_orders_fail_next(fx->fake, FAKE_REPO_APPLY_PAYMENT, SHOP_EUNAVAIL);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(1), PAY1, true, NULL, &moved),
	                 SHOP_EUNAVAIL);
	assert_false(moved);
	assert_int_equal(fake_orders_status(fx->fake, FAKE_ORDER_ID(1)),
	                 ORDER_PENDING);
	assert_int_equal(pay(fx, FAKE_ORDER_ID(1), PAY1, true, NULL, &moved),
	                 0);
	assert_true(moved);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_place_invalid),
	        T(test_place_missing_address_fields),
	        T(test_place_empty_cart),
	        T(test_place_cart_down),
	        T(test_place_stock_down),
	        T(test_place_insufficient_stock),
	        T(test_place_unknown_product),
	        T(test_place_store_fails),
	        T(test_place_ok),
	        T(test_place_token_passed),
	        T(test_place_replay),
	        T(test_place_replay_after_payment),
	        T(test_place_key_reused),
	        T(test_place_key_per_user),
	        T(test_place_key_lookup_fails),
	        T(test_place_concurrent_twin),
	        T(test_place_concurrent_twin_other_body),
	        T(test_place_concurrent_twin_lookup_fails),
	        T(test_place_twin_finds_cart_emptied),
	        T(test_place_twin_finds_stock_taken),
	        T(test_get),
	        T(test_get_owner_case),
	        T(test_get_store_down),
	        T(test_list),
	        T(test_payment_poison),
	        T(test_payment_completed),
	        T(test_payment_failed),
	        T(test_payment_unknown_order),
	        T(test_payment_late_or_duplicate),
	        T(test_payment_store_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
