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
#include "../src/core/carts.h"
#include "fake_cart.h"

/*
 * The cart's use cases over the in-memory fakes: merging, the stock and
 * quantity limits, unknown products, the product service down (changes
 * refused with CART_EPRODUCTS, reads showing the stored lines), removal
 * without the product service, and that nothing changes on a refusal.
 */
#define U1      "11111111-0000-4000-8000-000000000001"
#define U2      "11111111-0000-4000-8000-000000000002"
#define HP      "aaaaaaaa-0000-4000-8000-000000000001"
#define HP_UP   "AAAAAAAA-0000-4000-8000-000000000001"
#define KETTLE  "aaaaaaaa-0000-4000-8000-000000000002"
#define RARE    "aaaaaaaa-0000-4000-8000-000000000003" /* 3 in stock */
#define NONE    "aaaaaaaa-0000-4000-8000-000000000004" /* out of stock */
#define EURO    "aaaaaaaa-0000-4000-8000-000000000005"
#define MISSING "bbbbbbbb-0000-4000-8000-000000000000"

struct fixture {
	struct fake_cart *fake;
	struct arena *a;
	struct carts c;
	struct field_errors errs;
	struct cart_conflict cf;
	struct cart_view v;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->fake = fake_cart_new();
	fx->a = arena_new(0);
	if (!fx->fake || !fx->a)
		return -1;
	if (fake_cart_add_product(fx->fake, HP, "HP-1", "Headphones", 9999,
	                          "USD", 500) ||
	    fake_cart_add_product(fx->fake, KETTLE, "KT-1", "Kettle", 2999,
	                          "USD", 40) ||
	    fake_cart_add_product(fx->fake, RARE, "RR-1", "Rare Vinyl", 5000,
	                          "USD", 3) ||
	    fake_cart_add_product(fx->fake, NONE, "NO-1", "Sold Out", 100,
	                          "USD", 0) ||
	    fake_cart_add_product(fx->fake, EURO, "EU-1", "Croissant", 250,
	                          "EUR", 10))
		return -1;
	carts_init(&fx->c, fake_cart_repo(fx->fake),
	           fake_cart_catalog(fx->fake));
	field_errors_init(&fx->errs);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fake_cart_free(fx->fake);
	arena_free(fx->a);
	free(fx);
	return 0;
}

static int add(struct fixture *fx, const char *user, const char *id,
               long long q)
{
	field_errors_init(&fx->errs);
	return carts_add(&fx->c, fx->a, NULL, user, id, q, &fx->errs, &fx->cf,
	                 &fx->v);
}

static int set(struct fixture *fx, const char *user, const char *id,
               long long q)
{
	field_errors_init(&fx->errs);
	return carts_set_quantity(&fx->c, fx->a, NULL, user, id, q, &fx->errs,
	                          &fx->cf, &fx->v);
}

static void test_get_empty(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(carts_get(&fx->c, fx->a, NULL, U1, &fx->v), 0);
	assert_int_equal(fx->v.n, 0);
	assert_int_equal(fx->v.total_cents, 0);
	assert_int_equal(fx->v.updated_at, 0);
	/* Nothing to ask the product service about. */
	assert_int_equal(fake_cart_calls(fx->fake, FAKE_CATALOG_LOOKUP), 0);
}

static void test_add_and_merge(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, HP, 2), 0);
	assert_int_equal(fx->v.n, 1);
	assert_string_equal(fx->v.lines[0].line->product_id, HP);
	assert_int_equal(fx->v.lines[0].line->quantity, 2);
	assert_int_equal(fx->v.total_cents, 2 * 9999);
	assert_true(fx->v.prices_current);
	/* Upper-case ids are the same product. */
	assert_int_equal(add(fx, U1, HP_UP, 3), 0);
	assert_int_equal(fx->v.n, 1);
	assert_int_equal(fx->v.lines[0].line->quantity, 5);
	assert_int_equal(add(fx, U1, KETTLE, 1), 0);
	assert_int_equal(fx->v.n, 2);
	assert_int_equal(fx->v.item_count, 6);
	assert_int_equal(fx->v.total_cents, 5 * 9999 + 2999);
	assert_string_equal(fx->v.currency, "USD");
	/* One lookup per add, for the cart's products and the new one. */
	assert_int_equal(fake_cart_calls(fx->fake, FAKE_CATALOG_LOOKUP), 3);
	assert_int_equal(fake_cart_last_lookup_n(fx->fake), 2);
	/* Other users' carts are untouched. */
	assert_int_equal(fake_cart_quantity(fx->fake, U2, HP), 0);
}

static void test_add_invalid(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, HP, 0), SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 1);
	assert_string_equal(fx->errs.items[0].field, "quantity");
	assert_int_equal(add(fx, U1, HP, 100), SHOP_EINVAL);
	assert_int_equal(add(fx, U1, "not-a-uuid", 1), SHOP_EINVAL);
	assert_string_equal(fx->errs.items[0].field, "product_id");
	/* Both at once. */
	assert_int_equal(add(fx, U1, "x", -5), SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 2);
	assert_int_equal(fake_cart_calls(fx->fake, FAKE_REPO_ADD), 0);
	assert_int_equal(fake_cart_calls(fx->fake, FAKE_CATALOG_LOOKUP), 0);
}

static void test_add_unknown_product(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, MISSING, 1), SHOP_ENOTFOUND);
	assert_int_equal(fake_cart_calls(fx->fake, FAKE_REPO_ADD), 0);
}

static void test_add_over_stock(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, RARE, 2), 0);
	assert_int_equal(add(fx, U1, RARE, 2), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.kind, CART_CONFLICT_STOCK);
	assert_int_equal(fx->cf.stock, 3);
	assert_int_equal(fx->cf.in_cart, 2);
	assert_string_equal(fx->cf.product_name, "Rare Vinyl");
	assert_int_equal(fake_cart_quantity(fx->fake, U1, RARE), 2);
	assert_int_equal(add(fx, U1, RARE, 1), 0);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, RARE), 3);

	assert_int_equal(add(fx, U1, NONE, 1), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.kind, CART_CONFLICT_STOCK);
	assert_int_equal(fx->cf.stock, 0);
}

static void test_add_over_99(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, HP, 99), 0);
	assert_int_equal(add(fx, U1, HP, 1), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.kind, CART_CONFLICT_QUANTITY);
	assert_int_equal(fx->cf.in_cart, 99);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, HP), 99);
}

/* The repository's own refusal (a concurrent add got there first) is
 * reported like the core's. */
static void test_add_refused_by_repo(void **state)
{
	struct fixture *fx = *state;

	fake_cart_fail_next(fx->fake, FAKE_REPO_ADD, CART_EQUANTITY);
	assert_int_equal(add(fx, U1, RARE, 1), SHOP_ECONFLICT);
	fake_cart_fail_next(fx->fake, FAKE_REPO_ADD, CART_ELINES);
	assert_int_equal(add(fx, U1, HP, 1), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.kind, CART_CONFLICT_LINES);
}

static void test_add_other_currency(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, HP, 1), 0);
	assert_int_equal(add(fx, U1, EURO, 1), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.kind, CART_CONFLICT_CURRENCY);
	assert_string_equal(fx->cf.currency, "USD");
	assert_int_equal(fake_cart_quantity(fx->fake, U1, EURO), 0);
}

static void test_add_max_lines(void **state)
{
	struct fixture *fx = *state;
	char id[37];

	for (int i = 0; i < CART_MAX_LINES; i++) {
		snprintf(id, sizeof(id), "cccccccc-0000-4000-8000-%012d", i);
		assert_int_equal(fake_cart_add_product(fx->fake, id, "S", "N",
		                                       1, "USD", 5),
		                 0);
		assert_int_equal(add(fx, U1, id, 1), 0);
	}
	assert_int_equal(fx->v.n, CART_MAX_LINES);
	assert_int_equal(add(fx, U1, HP, 1), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.kind, CART_CONFLICT_LINES);
	/* An existing line still takes more. */
	assert_int_equal(add(fx, U1, id, 1), 0);
}

static void test_product_service_down(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, HP, 2), 0);
	fake_cart_fail_always(fx->fake, FAKE_CATALOG_LOOKUP, SHOP_EUNAVAIL);
	/* Changes that need the product are refused, and change nothing. */
	assert_int_equal(add(fx, U1, HP, 1), CART_EPRODUCTS);
	assert_int_equal(set(fx, U1, HP, 5), CART_EPRODUCTS);
	fake_cart_fail_always(fx->fake, FAKE_CATALOG_LOOKUP, SHOP_ETIMEDOUT);
	assert_int_equal(add(fx, U1, KETTLE, 1), CART_EPRODUCTS);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, HP), 2);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, KETTLE), 0);
	/* A read shows the stored lines. */
	assert_int_equal(carts_get(&fx->c, fx->a, NULL, U1, &fx->v), 0);
	assert_false(fx->v.prices_current);
	assert_int_equal(fx->v.n, 1);
	assert_int_equal(fx->v.total_cents, 2 * 9999);
	/* A removal needs no product service. */
	assert_int_equal(carts_remove(&fx->c, fx->a, NULL, U1, HP, &fx->v), 0);
	assert_int_equal(fx->v.n, 0);
	/* Back: current prices again. */
	fake_cart_fail_always(fx->fake, FAKE_CATALOG_LOOKUP, 0);
	assert_int_equal(add(fx, U1, HP, 1), 0);
	assert_true(fx->v.prices_current);
}

static void test_database_down(void **state)
{
	struct fixture *fx = *state;

	fake_cart_fail_next(fx->fake, FAKE_REPO_LOAD, SHOP_EUNAVAIL);
	assert_int_equal(carts_get(&fx->c, fx->a, NULL, U1, &fx->v),
	                 SHOP_EUNAVAIL);
	fake_cart_fail_next(fx->fake, FAKE_REPO_ADD, SHOP_ETIMEDOUT);
	assert_int_equal(add(fx, U1, HP, 1), SHOP_ETIMEDOUT);
	fake_cart_fail_next(fx->fake, FAKE_REPO_CLEAR, SHOP_EUNAVAIL);
	assert_int_equal(carts_clear(&fx->c, U1), SHOP_EUNAVAIL);
}

/* The read shows the current price and name; the line keeps its own. */
static void test_price_changed(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, KETTLE, 2), 0);
	assert_int_equal(fake_cart_add_product(fx->fake, KETTLE, "KT-1",
	                                       "Kettle Pro", 3499, "USD", 40),
	                 0);
	assert_int_equal(carts_get(&fx->c, fx->a, NULL, U1, &fx->v), 0);
	assert_int_equal(fx->v.lines[0].unit_price_cents, 3499);
	assert_int_equal(fx->v.lines[0].line->added_price_cents, 2999);
	assert_string_equal(fx->v.lines[0].name, "Kettle Pro");
	assert_int_equal(fx->v.total_cents, 2 * 3499);
	/* Deleted at the product service: shown, unavailable, not counted. */
	fake_cart_remove_product(fx->fake, KETTLE);
	assert_int_equal(carts_get(&fx->c, fx->a, NULL, U1, &fx->v), 0);
	assert_false(fx->v.lines[0].available);
	assert_int_equal(fx->v.total_cents, 0);
	assert_int_equal(fx->v.item_count, 0);
}

static void test_set_quantity(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, HP, 2), 0);
	assert_int_equal(add(fx, U1, KETTLE, 1), 0);
	assert_int_equal(set(fx, U1, HP, 7), 0);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, HP), 7);
	assert_int_equal(fx->v.item_count, 8);
	assert_int_equal(set(fx, U1, HP_UP, 1), 0);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, HP), 1);
	/* 0 removes the line. */
	assert_int_equal(set(fx, U1, HP, 0), 0);
	assert_int_equal(fx->v.n, 1);
	assert_string_equal(fx->v.lines[0].line->product_id, KETTLE);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, HP), 0);
}

static void test_set_refusals(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, RARE, 1), 0);
	assert_int_equal(set(fx, U1, RARE, 4), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.kind, CART_CONFLICT_STOCK);
	assert_int_equal(fx->cf.in_cart, 1);
	assert_int_equal(set(fx, U1, RARE, 100), SHOP_EINVAL);
	assert_string_equal(fx->errs.items[0].field, "quantity");
	assert_int_equal(set(fx, U1, RARE, -1), SHOP_EINVAL);
	/* Not in the cart, not a UUID, another user's line. */
	assert_int_equal(set(fx, U1, HP, 1), CART_ENOLINE);
	assert_int_equal(set(fx, U1, "nope", 1), CART_ENOLINE);
	assert_int_equal(set(fx, U2, RARE, 1), CART_ENOLINE);
	assert_int_equal(carts_remove(&fx->c, fx->a, NULL, U2, RARE, &fx->v),
	                 CART_ENOLINE);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, RARE), 1);
	/* The product was deleted meanwhile: it can only be removed. */
	fake_cart_remove_product(fx->fake, RARE);
	assert_int_equal(set(fx, U1, RARE, 2), SHOP_ENOTFOUND);
	assert_int_equal(set(fx, U1, RARE, 0), 0);
	assert_int_equal(fx->v.n, 0);
}

/* The line was removed between the load and the change. */
static void test_set_line_vanished(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, HP, 1), 0);
	fake_cart_fail_next(fx->fake, FAKE_REPO_SET, SHOP_ENOTFOUND);
	assert_int_equal(set(fx, U1, HP, 2), CART_ENOLINE);
}

/* A product re-priced in another currency cannot switch the cart's. */
static void test_product_changed_currency(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(add(fx, U1, HP, 1), 0);
	assert_int_equal(add(fx, U1, KETTLE, 1), 0);
	assert_int_equal(fake_cart_add_product(fx->fake, HP, "HP-1",
	                                       "Headphones", 9000, "EUR", 500),
	                 0);
	assert_int_equal(carts_get(&fx->c, fx->a, NULL, U1, &fx->v), 0);
	assert_string_equal(fx->v.currency, "USD");
	assert_false(fx->v.lines[0].available);
	assert_int_equal(fx->v.lines[0].unit_price_cents, 9999); /* snapshot */
	assert_int_equal(fx->v.total_cents, 2999);
	assert_int_equal(set(fx, U1, HP, 2), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.kind, CART_CONFLICT_CURRENCY);
	assert_int_equal(add(fx, U1, HP, 1), SHOP_ECONFLICT);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, HP), 1);
	/* More of the USD product still works; removing the other too. */
	assert_int_equal(add(fx, U1, KETTLE, 1), 0);
	assert_int_equal(carts_remove(&fx->c, fx->a, NULL, U1, HP, &fx->v), 0);
	assert_int_equal(fx->v.n, 1);
}

static void test_clear(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(carts_clear(&fx->c, U1), 0); /* no cart yet */
	assert_int_equal(add(fx, U1, HP, 1), 0);
	assert_int_equal(add(fx, U2, HP, 4), 0);
	assert_int_equal(carts_clear(&fx->c, U1), 0);
	assert_int_equal(carts_get(&fx->c, fx->a, NULL, U1, &fx->v), 0);
	assert_int_equal(fx->v.n, 0);
	assert_true(fx->v.updated_at > 0);
	assert_int_equal(fake_cart_quantity(fx->fake, U2, HP), 4);
}

/* A stored line whose product the service does not know any more. */
static void test_read_stored_line_of_deleted_product(void **state)
{
	struct fixture *fx = *state;
	struct cart_line l = {.quantity = 2,
	                      .sku = "GONE-1",
	                      .name = "Gone",
	                      .added_price_cents = 100};

	memcpy(l.product_id, MISSING, 37);
	memcpy(l.currency, "USD", 4);
	assert_int_equal(fake_cart_put_line(fx->fake, U1, &l), 0);
	assert_int_equal(add(fx, U1, HP, 1), 0);
	assert_int_equal(fx->v.n, 2);
	assert_false(fx->v.lines[0].available);
	assert_int_equal(fx->v.total_cents, 9999);
}

/* ----------------------------------------------------------------
 * order.created */

static int ordered(struct fixture *fx, const char *user,
                   const struct cart_ordered_line *lines, size_t n,
                   int *changed)
{
	*changed = -1; /* must be reset */
	return carts_on_order_created(&fx->c, (void *)fx, fx->a, user, lines, n,
	                              changed);
}

static void test_order_created_invalid(void **state)
{
	struct fixture *fx = *state;
	struct cart_ordered_line ok[] = {{HP, 1}};
	struct cart_ordered_line bad_id[] = {{HP, 1}, {"not-a-uuid", 1}};
	struct cart_ordered_line null_id[] = {{NULL, 1}};
	struct cart_ordered_line zero[] = {{HP, 0}};
	struct cart_ordered_line negative[] = {{HP, -2}};
	struct cart_ordered_line huge[] = {{HP, 1000001}};
	int changed;

	assert_int_equal(ordered(fx, NULL, ok, 1, &changed), SHOP_EINVAL);
	assert_int_equal(changed, 0);
	assert_int_equal(ordered(fx, "nobody", ok, 1, &changed), SHOP_EINVAL);
	assert_int_equal(ordered(fx, U1, bad_id, 2, &changed), SHOP_EINVAL);
	assert_int_equal(ordered(fx, U1, null_id, 1, &changed), SHOP_EINVAL);
	assert_int_equal(ordered(fx, U1, zero, 1, &changed), SHOP_EINVAL);
	assert_int_equal(ordered(fx, U1, negative, 1, &changed), SHOP_EINVAL);
	assert_int_equal(ordered(fx, U1, huge, 1, &changed), SHOP_EINVAL);
	/* More than 1000 lines is poison too (before reading them). */
	assert_int_equal(ordered(fx, U1, ok, 1001, &changed), SHOP_EINVAL);
	assert_int_equal(changed, 0);
	assert_int_equal(fake_cart_calls(fx->fake, FAKE_REPO_TAKE_ORDERED), 0);
}

static void test_order_created_lines_passed(void **state)
{
	struct fixture *fx = *state;
	struct cart_ordered_line lines[] = {
	        {HP, 2}, {KETTLE, 1}, {RARE, 1000000}};
	int changed;

	assert_int_equal(add(fx, U1, HP, 3), 0);
	assert_int_equal(add(fx, U1, KETTLE, 1), 0);
	assert_int_equal(ordered(fx, U1, lines, 3, &changed), 0);
	assert_int_equal(fake_cart_calls(fx->fake, FAKE_REPO_TAKE_ORDERED), 1);
	assert_ptr_equal(fake_cart_take_tx(fx->fake), fx); /* the tx */
	assert_string_equal(fake_cart_take_user(fx->fake), U1);
	assert_int_equal(fake_cart_take_n(fx->fake), 3);
	assert_string_equal(fake_cart_take_product(fx->fake, 0), HP);
	assert_int_equal(fake_cart_take_quantity(fx->fake, 0), 2);
	assert_string_equal(fake_cart_take_product(fx->fake, 1), KETTLE);
	assert_int_equal(fake_cart_take_quantity(fx->fake, 1), 1);
	assert_string_equal(fake_cart_take_product(fx->fake, 2), RARE);
	assert_int_equal(fake_cart_take_quantity(fx->fake, 2), 1000000);
	/* The repository's answer comes back: 1 headphone is left, the
	 * kettle went. */
	assert_int_equal(changed, 2);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, HP), 1);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, KETTLE), 0);
	/* No product service call on the way. */
	assert_int_equal(fake_cart_calls(fx->fake, FAKE_CATALOG_LOOKUP), 2);
}

static void test_order_created_nothing(void **state)
{
	struct fixture *fx = *state;
	struct cart_ordered_line lines[] = {{HP, 1}};
	int changed;

	/* No lines: nothing to do, the repository is not asked. */
	assert_int_equal(ordered(fx, U1, lines, 0, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(ordered(fx, U1, NULL, 0, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(fake_cart_calls(fx->fake, FAKE_REPO_TAKE_ORDERED), 0);
	/* A user without a cart: 0 lines changed. */
	assert_int_equal(ordered(fx, U2, lines, 1, &changed), 0);
	assert_int_equal(changed, 0);
}

static void test_order_created_repo_fails(void **state)
{
	struct fixture *fx = *state;
	struct cart_ordered_line lines[] = {{HP, 1}};
	int changed;

	assert_int_equal(add(fx, U1, HP, 1), 0);
	fake_cart_fail_next(fx->fake, FAKE_REPO_TAKE_ORDERED, SHOP_EUNAVAIL);
	assert_int_equal(ordered(fx, U1, lines, 1, &changed), SHOP_EUNAVAIL);
	assert_int_equal(fake_cart_quantity(fx->fake, U1, HP), 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_get_empty),
	        T(test_add_and_merge),
	        T(test_add_invalid),
	        T(test_add_unknown_product),
	        T(test_add_over_stock),
	        T(test_add_over_99),
	        T(test_add_refused_by_repo),
	        T(test_add_other_currency),
	        T(test_add_max_lines),
	        T(test_product_service_down),
	        T(test_database_down),
	        T(test_price_changed),
	        T(test_set_quantity),
	        T(test_set_refusals),
	        T(test_set_line_vanished),
	        T(test_product_changed_currency),
	        T(test_clear),
	        T(test_read_stored_line_of_deleted_product),
	        T(test_order_created_invalid),
	        T(test_order_created_lines_passed),
	        T(test_order_created_nothing),
	        T(test_order_created_repo_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
