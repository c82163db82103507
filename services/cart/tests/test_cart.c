#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "shop/error.h"
#include "../src/domain/cart.h"

/* The cart's rules: quantities, the stock limit and the price rule of the
 * view (current price when the product service answered, else the
 * snapshot). */
#define A "aaaaaaaa-0000-4000-8000-000000000001"
#define B "aaaaaaaa-0000-4000-8000-000000000002"
#define C "aaaaaaaa-0000-4000-8000-000000000003"

static void test_quantity_bounds(void **state)
{
	struct field_errors e;

	(void)state;
	field_errors_init(&e);
	assert_int_equal(cart_quantity_validate(1, "quantity", &e), 0);
	assert_int_equal(cart_quantity_validate(99, "quantity", &e), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(cart_quantity_validate(0, "quantity", &e),
	                 SHOP_EINVAL);
	assert_int_equal(cart_quantity_validate(100, "quantity", &e),
	                 SHOP_EINVAL);
	assert_int_equal(cart_quantity_validate(-1, "quantity", &e),
	                 SHOP_EINVAL);
	assert_int_equal(cart_quantity_validate(1LL << 40, "quantity", &e),
	                 SHOP_EINVAL);
	assert_int_equal(e.n, 4);
	assert_string_equal(e.items[0].field, "quantity");
	assert_non_null(strstr(e.items[0].message, "1 to 99"));
}

static void test_set_quantity_bounds(void **state)
{
	struct field_errors e;

	(void)state;
	field_errors_init(&e);
	assert_int_equal(cart_set_quantity_validate(0, "quantity", &e), 0);
	assert_int_equal(cart_set_quantity_validate(99, "quantity", &e), 0);
	assert_int_equal(cart_set_quantity_validate(100, "quantity", &e),
	                 SHOP_EINVAL);
	assert_int_equal(cart_set_quantity_validate(-1, "quantity", &e),
	                 SHOP_EINVAL);
	assert_int_equal(e.n, 2);
	assert_non_null(strstr(e.items[0].message, "0 to 99"));
}

static void test_normalize(void **state)
{
	char out[37];

	(void)state;
	cart_product_id_normalize("AAAAAAAA-0000-4000-8000-00000000000F", out);
	assert_string_equal(out, "aaaaaaaa-0000-4000-8000-00000000000f");
}

static void test_max_quantity(void **state)
{
	struct cart_product p = {.stock = 0};

	(void)state;
	assert_int_equal(cart_line_max_quantity(&p), 0);
	p.stock = -3;
	assert_int_equal(cart_line_max_quantity(&p), 0);
	p.stock = 7;
	assert_int_equal(cart_line_max_quantity(&p), 7);
	p.stock = 99;
	assert_int_equal(cart_line_max_quantity(&p), 99);
	p.stock = 1000000;
	assert_int_equal(cart_line_max_quantity(&p), 99);
}

static struct cart_line line(const char *id, int q, long long price,
                             const char *currency)
{
	struct cart_line l = {.quantity = q,
	                      .sku = "OLD-SKU",
	                      .name = "Old name",
	                      .added_price_cents = price};
	memcpy(l.product_id, id, 37);
	memcpy(l.currency, currency, 4);
	return l;
}

static struct cart_product product(const char *id, bool found, long long price)
{
	struct cart_product p = {.found = found,
	                         .sku = "NEW-SKU",
	                         .name = "New name",
	                         .price_cents = price,
	                         .stock = 10};
	memcpy(p.id, id, 37);
	memcpy(p.currency, "USD", 4);
	return p;
}

static void test_empty_view(void **state)
{
	struct cart_stored c = {0};
	struct cart_view_line lines[1];
	struct cart_view v;

	(void)state;
	cart_view_build(&c, NULL, 0, lines, &v);
	assert_int_equal(v.n, 0);
	assert_int_equal(v.item_count, 0);
	assert_int_equal(v.total_cents, 0);
	assert_string_equal(v.currency, CART_CURRENCY_DEFAULT);
	assert_int_equal(v.updated_at, 0);
	assert_false(v.prices_current);
}

/* Current prices win over the snapshot; totals add the available lines. */
static void test_view_current_prices(void **state)
{
	struct cart_line ls[3] = {line(A, 2, 1000, "USD"),
	                          line(B, 3, 500, "USD"),
	                          line(C, 1, 700, "USD")};
	struct cart_stored c = {ls, 3, 1234};
	struct cart_product ps[3] = {product(A, true, 1200),
	                             product(B, false, 0),
	                             product(C, true, 700)};
	struct cart_view_line lines[3];
	struct cart_view v;

	(void)state;
	cart_view_build(&c, ps, 3, lines, &v);
	assert_true(v.prices_current);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.updated_at, 1234);
	assert_int_equal(lines[0].unit_price_cents, 1200);
	assert_int_equal(lines[0].line_total_cents, 2400);
	assert_string_equal(lines[0].name, "New name");
	assert_int_equal(lines[0].line->added_price_cents, 1000);
	/* B is gone: shown with its snapshot, out of the totals. */
	assert_false(lines[1].available);
	assert_int_equal(lines[1].line_total_cents, 0);
	assert_string_equal(lines[1].name, "Old name");
	assert_int_equal(lines[1].unit_price_cents, 500);
	assert_int_equal(v.item_count, 3);
	assert_int_equal(v.total_cents, 2400 + 700);
	assert_string_equal(v.currency, "USD");
}

/* No answer from the product service: every line shows its snapshot. */
static void test_view_stored_prices(void **state)
{
	struct cart_line ls[2] = {line(A, 2, 1000, "EUR"),
	                          line(B, 1, 250, "EUR")};
	struct cart_stored c = {ls, 2, 99};
	struct cart_view_line lines[2];
	struct cart_view v;

	(void)state;
	cart_view_build(&c, NULL, 0, lines, &v);
	assert_false(v.prices_current);
	assert_true(lines[0].available && lines[1].available);
	assert_int_equal(lines[0].unit_price_cents, 1000);
	assert_string_equal(lines[0].sku, "OLD-SKU");
	assert_int_equal(v.total_cents, 2250);
	assert_int_equal(v.item_count, 3);
	assert_string_equal(v.currency, "EUR");
}

/* A line the answers do not mention (added meanwhile) keeps its snapshot. */
static void test_view_line_missing_from_answers(void **state)
{
	struct cart_line ls[2] = {line(A, 1, 1000, "USD"),
	                          line(B, 4, 300, "USD")};
	struct cart_stored c = {ls, 2, 5};
	struct cart_product ps[1] = {product(A, true, 900)};
	struct cart_view_line lines[2];
	struct cart_view v;

	(void)state;
	cart_view_build(&c, ps, 1, lines, &v);
	assert_true(lines[1].available);
	assert_int_equal(lines[1].unit_price_cents, 300);
	assert_int_equal(v.total_cents, 900 + 1200);
}

/* The largest cart cannot overflow its total. */
static void test_view_largest_total(void **state)
{
	static struct cart_line ls[CART_MAX_LINES];
	static struct cart_view_line lines[CART_MAX_LINES];
	struct cart_stored c = {ls, CART_MAX_LINES, 1};
	struct cart_view v;

	(void)state;
	for (size_t i = 0; i < CART_MAX_LINES; i++)
		ls[i] = line(A, CART_QTY_MAX, 100000000, "USD");
	cart_view_build(&c, NULL, 0, lines, &v);
	assert_int_equal(v.total_cents, (long long)CART_MAX_LINES *
	                                        CART_QTY_MAX * 100000000LL);
	assert_int_equal(v.item_count, CART_MAX_LINES * CART_QTY_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_quantity_bounds),
	        cmocka_unit_test(test_set_quantity_bounds),
	        cmocka_unit_test(test_normalize),
	        cmocka_unit_test(test_max_quantity),
	        cmocka_unit_test(test_empty_view),
	        cmocka_unit_test(test_view_current_prices),
	        cmocka_unit_test(test_view_stored_prices),
	        cmocka_unit_test(test_view_line_missing_from_answers),
	        cmocka_unit_test(test_view_largest_total),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
