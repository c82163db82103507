#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "shop/error.h"
#include "../src/domain/product.h"

/* ---- helpers ---- */

/* Writes n copies of the UTF-8 sequence unit (then a NUL) into buf, which
 * must hold n * strlen(unit) + 1 bytes. Returns buf. */
static char *repeat(char *buf, const char *unit, size_t n)
{
	size_t u = strlen(unit);

	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * u, unit, u);
	buf[n * u] = '\0';
	return buf;
}

/* A complete, valid creation. */
static struct product_fields valid_fields(void)
{
	struct product_fields f = {
	        .set = PRODUCT_F_REQUIRED,
	        .sku = "HP-100_x",
	        .name = "Headphones",
	        .description = "Closed-back, wired.",
	        .category = "audio",
	        .price_cents = 4999,
	        .stock = 10,
	};
	return f;
}

/* Validates a patch of exactly the given field; asserts the outcome and,
 * when bad, that the single error names field. */
static void check_patch(struct product_fields f, bool ok, const char *field)
{
	struct field_errors errs;

	field_errors_init(&errs);
	if (ok) {
		assert_int_equal(product_fields_validate(&f, false, &errs), 0);
		assert_int_equal(errs.n, 0);
	} else {
		assert_int_equal(product_fields_validate(&f, false, &errs),
		                 SHOP_EINVAL);
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.items[0].field, field);
		assert_true(strlen(errs.items[0].message) > 0);
	}
}

static void check_sku(const char *sku, bool ok)
{
	struct product_fields f = {.set = PRODUCT_F_SKU, .sku = sku};

	check_patch(f, ok, "sku");
}

static void check_name(const char *name, bool ok)
{
	struct product_fields f = {.set = PRODUCT_F_NAME, .name = name};

	check_patch(f, ok, "name");
}

static void check_description(const char *d, bool ok)
{
	struct product_fields f = {.set = PRODUCT_F_DESCRIPTION,
	                           .description = d};

	check_patch(f, ok, "description");
}

static void check_price(long long v, bool ok)
{
	struct product_fields f = {.set = PRODUCT_F_PRICE, .price_cents = v};

	check_patch(f, ok, "price_cents");
}

static void check_stock(long long v, bool ok)
{
	struct product_fields f = {.set = PRODUCT_F_STOCK, .stock = v};

	check_patch(f, ok, "stock");
}

static void check_currency(const char *c, bool ok)
{
	struct product_fields f = {.set = PRODUCT_F_CURRENCY, .currency = c};

	check_patch(f, ok, "currency");
}

static void check_image_url(const char *u, bool ok)
{
	struct product_fields f = {.set = PRODUCT_F_IMAGE_URL, .image_url = u};

	check_patch(f, ok, "image_url");
}

static void check_category(const char *c, bool ok)
{
	struct product_fields f = {.set = PRODUCT_F_CATEGORY, .category = c};

	check_patch(f, ok, "category");
}

/* ---- product_fields_validate: creation ---- */

static void test_create_valid_fills_defaults(void **state)
{
	struct product_fields f = valid_fields();
	struct field_errors errs;

	(void)state;
	field_errors_init(&errs);
	assert_int_equal(product_fields_validate(&f, true, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_true(f.set & PRODUCT_F_CURRENCY);
	assert_true(f.set & PRODUCT_F_IMAGE_URL);
	assert_string_equal(f.currency, "USD");
	assert_string_equal(f.image_url, "");
}

static void test_create_keeps_given_optionals(void **state)
{
	struct product_fields f = valid_fields();
	struct field_errors errs;

	(void)state;
	f.set |= PRODUCT_F_CURRENCY | PRODUCT_F_IMAGE_URL;
	f.currency = "EUR";
	f.image_url = "/img/hp.png";
	field_errors_init(&errs);
	assert_int_equal(product_fields_validate(&f, true, &errs), 0);
	assert_string_equal(f.currency, "EUR");
	assert_string_equal(f.image_url, "/img/hp.png");
}

static void test_create_all_missing_one_error_each(void **state)
{
	static const char *const required[] = {"sku",         "name",
	                                       "description", "category",
	                                       "price_cents", "stock"};
	struct product_fields f = {0};
	struct field_errors errs;

	(void)state;
	field_errors_init(&errs);
	assert_int_equal(product_fields_validate(&f, true, &errs), SHOP_EINVAL);
	assert_int_equal(errs.n, 6);
	for (size_t i = 0; i < 6; i++)
		assert_true(field_errors_has(&errs, required[i]));
	/* No defaults are filled in on failure. */
	assert_int_equal(f.set, 0);
}

static void test_create_each_missing_alone(void **state)
{
	static const struct {
		unsigned bit;
		const char *field;
	} req[] = {{PRODUCT_F_SKU, "sku"},
	           {PRODUCT_F_NAME, "name"},
	           {PRODUCT_F_DESCRIPTION, "description"},
	           {PRODUCT_F_CATEGORY, "category"},
	           {PRODUCT_F_PRICE, "price_cents"},
	           {PRODUCT_F_STOCK, "stock"}};

	(void)state;
	for (size_t i = 0; i < sizeof(req) / sizeof(*req); i++) {
		struct product_fields f = valid_fields();
		struct field_errors errs;

		f.set &= ~req[i].bit;
		field_errors_init(&errs);
		assert_int_equal(product_fields_validate(&f, true, &errs),
		                 SHOP_EINVAL);
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.items[0].field, req[i].field);
	}
}

static void test_create_bad_and_missing_together(void **state)
{
	struct product_fields f = valid_fields();
	struct field_errors errs;

	(void)state;
	f.set &= ~(unsigned)PRODUCT_F_NAME;
	f.price_cents = -1;
	f.sku = "bad sku";
	field_errors_init(&errs);
	assert_int_equal(product_fields_validate(&f, true, &errs), SHOP_EINVAL);
	assert_int_equal(errs.n, 3);
	assert_true(field_errors_has(&errs, "name"));
	assert_true(field_errors_has(&errs, "price_cents"));
	assert_true(field_errors_has(&errs, "sku"));
}

/* ---- product_fields_validate: patch ---- */

static void test_patch_empty_rejected(void **state)
{
	struct product_fields f = {0};
	struct field_errors errs;

	(void)state;
	field_errors_init(&errs);
	assert_int_equal(product_fields_validate(&f, false, &errs),
	                 SHOP_EINVAL);
	assert_int_equal(errs.n, 1);
}

static void test_patch_each_field_alone(void **state)
{
	static const unsigned bits[] = {
	        PRODUCT_F_SKU,      PRODUCT_F_NAME,     PRODUCT_F_DESCRIPTION,
	        PRODUCT_F_CATEGORY, PRODUCT_F_PRICE,    PRODUCT_F_STOCK,
	        PRODUCT_F_CURRENCY, PRODUCT_F_IMAGE_URL};
	struct product_fields f;
	struct field_errors errs;

	(void)state;
	/* Every field valid on its own: no required-field errors in a patch,
	 * and no defaults filled in. */
	for (size_t i = 0; i < sizeof(bits) / sizeof(*bits); i++) {
		f = valid_fields();
		f.currency = "EUR";
		f.image_url = "/a.png";
		f.set = bits[i];
		field_errors_init(&errs);
		assert_int_equal(product_fields_validate(&f, false, &errs), 0);
		assert_int_equal(errs.n, 0);
		assert_int_equal(f.set, bits[i]);
	}
	/* Each bad on its own names only itself. */
	check_sku("", false);
	check_name("", false);
	check_category("Not A Slug", false);
	check_price(-5, false);
	check_stock(-5, false);
	check_currency("eur", false);
	check_image_url("ftp://x", false);
}

static void test_patch_bad_field_ignores_absent(void **state)
{
	/* Absent fields hold garbage that must not be looked at. */
	struct product_fields f = {
	        .set = PRODUCT_F_PRICE,
	        .price_cents = 100,
	        .sku = "bad sku!",
	        .stock = -1,
	        .currency = "x",
	};
	struct field_errors errs;

	(void)state;
	field_errors_init(&errs);
	assert_int_equal(product_fields_validate(&f, false, &errs), 0);
}

/* ---- each rule's boundaries ---- */

static void test_sku_rule(void **state)
{
	char buf[128];

	(void)state;
	check_sku("a", true);
	check_sku("AZaz09-_", true);
	check_sku(repeat(buf, "x", 64), true);
	check_sku(repeat(buf, "x", 65), false);
	check_sku("", false);
	check_sku("has space", false);
	check_sku("dot.ted", false);
	check_sku("slash/", false);
	check_sku("caf\xc3\xa9", false); /* é */
	check_sku("x\ty", false);
}

static void test_name_rule(void **state)
{
	char buf[1024];

	(void)state;
	check_name("x", true);
	check_name(repeat(buf, "n", 200), true);
	check_name(repeat(buf, "n", 201), false);
	/* Characters, not bytes: 200 two-, three- and four-byte ones. */
	check_name(repeat(buf, "\xc3\xa9", 200), true);         /* é */
	check_name(repeat(buf, "\xe2\x82\xac", 200), true);     /* € */
	check_name(repeat(buf, "\xf0\x9f\x8e\xa7", 200), true); /* 🎧 */
	check_name(repeat(buf, "\xc3\xa9", 201), false);
	check_name(repeat(buf, "\xf0\x9f\x8e\xa7", 201), false);
	check_name("", false);
	check_name(" ", false);
	check_name(" \t\n ", false);
	check_name("  a  ", true);
}

static void test_description_rule(void **state)
{
	static char buf[4 * 5001 + 1];

	(void)state;
	check_description("", true);
	check_description(repeat(buf, "d", 5000), true);
	check_description(repeat(buf, "d", 5001), false);
	check_description(repeat(buf, "\xe2\x82\xac", 5000), true);
	check_description(repeat(buf, "\xe2\x82\xac", 5001), false);
}

static void test_category_rule(void **state)
{
	char buf[128];

	(void)state;
	check_category("audio", true);
	check_category("home-office-2", true);
	check_category(repeat(buf, "c", 64), true);
	check_category(repeat(buf, "c", 65), false);
	check_category("", false);
	check_category("Audio", false);
	check_category("au dio", false);
}

static void test_price_rule(void **state)
{
	(void)state;
	check_price(0, true);
	check_price(1, true);
	check_price(100000000, true);
	check_price(-1, false);
	check_price(100000001, false);
	check_price(-9223372036854775807LL - 1, false);
}

static void test_stock_rule(void **state)
{
	(void)state;
	check_stock(0, true);
	check_stock(1000000, true);
	check_stock(-1, false);
	check_stock(1000001, false);
}

static void test_currency_rule(void **state)
{
	(void)state;
	check_currency("USD", true);
	check_currency("EUR", true);
	check_currency("usd", false);
	check_currency("Usd", false);
	check_currency("US", false);
	check_currency("USDX", false);
	check_currency("", false);
	check_currency("U1D", false);
}

static void test_image_url_rule(void **state)
{
	static char buf[4 * 2049 + 1];

	(void)state;
	check_image_url("", true);
	check_image_url("/x", true);
	check_image_url("/", true);
	check_image_url("http://", true);
	check_image_url("http://cdn.example.com/a.png", true);
	check_image_url("https://cdn.example.com/a.png?w=1&h=2", true);
	check_image_url("ftp://example.com/a.png", false);
	check_image_url("a b", false);
	check_image_url("/a b", false);
	check_image_url("/a\tb", false);
	check_image_url("x/a.png", false);
	check_image_url("HTTP://example.com", false);
	check_image_url("//example.com/a.png", true);
	buf[0] = '/';
	repeat(buf + 1, "i", 2047);
	check_image_url(buf, true); /* 2048 */
	repeat(buf + 1, "i", 2048);
	check_image_url(buf, false); /* 2049 */
	/* Characters, like every other limit: 2048 of them, some multibyte. */
	repeat(buf + 1, "\xc3\xa9", 2047);
	check_image_url(buf, true);
	repeat(buf + 1, "\xc3\xa9", 2048);
	check_image_url(buf, false);
}

/* ---- product_apply ---- */

static void test_apply_only_present_fields(void **state)
{
	struct product p = {
	        .id = "11111111-1111-4111-8111-111111111111",
	        .sku = "OLD",
	        .name = "Old",
	        .description = "old",
	        .category = "audio",
	        .currency = "USD",
	        .image_url = "/old.png",
	        .price_cents = 100,
	        .stock = 1,
	        .created_at = 1000,
	        .updated_at = 2000,
	};
	struct product_fields f = {
	        .set = PRODUCT_F_NAME | PRODUCT_F_PRICE,
	        .sku = "IGNORED",
	        .name = "New",
	        .price_cents = 250,
	        .stock = 99,
	};

	(void)state;
	product_apply(&p, &f);
	assert_string_equal(p.name, "New");
	assert_int_equal(p.price_cents, 250);
	assert_string_equal(p.sku, "OLD");
	assert_int_equal(p.stock, 1);
	assert_string_equal(p.description, "old");
	assert_string_equal(p.currency, "USD");
	assert_string_equal(p.id, "11111111-1111-4111-8111-111111111111");
	assert_int_equal(p.created_at, 1000);
	assert_int_equal(p.updated_at, 2000);
}

static void test_apply_every_field(void **state)
{
	struct product p = {.currency = "USD"};
	struct product_fields f = valid_fields();

	(void)state;
	f.set |= PRODUCT_F_CURRENCY | PRODUCT_F_IMAGE_URL;
	f.currency = "EUR";
	f.image_url = "/n.png";
	product_apply(&p, &f);
	assert_string_equal(p.sku, f.sku);
	assert_ptr_equal(p.name, f.name); /* borrowed, not copied */
	assert_string_equal(p.description, f.description);
	assert_string_equal(p.category, "audio");
	assert_string_equal(p.currency, "EUR");
	assert_string_equal(p.image_url, "/n.png");
	assert_int_equal(p.price_cents, 4999);
	assert_int_equal(p.stock, 10);
}

static void test_apply_nothing(void **state)
{
	struct product p = {.sku = "S", .price_cents = 7, .currency = "USD"};
	struct product before = p;
	struct product_fields f = {.sku = "X", .price_cents = 1};

	(void)state;
	product_apply(&p, &f);
	assert_memory_equal(&p, &before, sizeof(p));
}

/* ---- product_sort_parse ---- */

static void test_sort_parse(void **state)
{
	static const struct {
		const char *s;
		enum product_sort sort;
	} ok[] = {{"relevance", PRODUCT_SORT_RELEVANCE},
	          {"name", PRODUCT_SORT_NAME},
	          {"price_asc", PRODUCT_SORT_PRICE_ASC},
	          {"price_desc", PRODUCT_SORT_PRICE_DESC},
	          {"newest", PRODUCT_SORT_NEWEST}};
	static const char *const bad[] = {
	        "", "Name", "price", "oldest", "newest ", "relevance,name"};
	enum product_sort out;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		out = PRODUCT_SORT_DEFAULT;
		assert_int_equal(product_sort_parse(ok[i].s, &out), 0);
		assert_int_equal(out, ok[i].sort);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		out = PRODUCT_SORT_NAME;
		assert_int_equal(product_sort_parse(bad[i], &out), SHOP_EINVAL);
		assert_int_equal(out, PRODUCT_SORT_NAME); /* untouched */
	}
}

/* ---- product_query_init / product_query_validate ---- */

static void test_query_init(void **state)
{
	struct product_query q;

	(void)state;
	memset(&q, 0x5a, sizeof(q));
	product_query_init(&q);
	assert_null(q.q);
	assert_null(q.category);
	assert_int_equal(q.min_price, -1);
	assert_int_equal(q.max_price, -1);
	assert_int_equal(q.sort, PRODUCT_SORT_DEFAULT);
	assert_int_equal(q.page, 1);
	assert_int_equal(q.page_size, PRODUCT_PAGE_SIZE_DEFAULT);
}

/* Validates q and asserts it fails with exactly one error on field. */
static void check_query_bad(struct product_query q, const char *field)
{
	struct field_errors errs;

	field_errors_init(&errs);
	assert_int_equal(product_query_validate(&q, &errs), SHOP_EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.items[0].field, field);
}

static void check_query_ok(struct product_query *q)
{
	struct field_errors errs;

	field_errors_init(&errs);
	assert_int_equal(product_query_validate(q, &errs), 0);
	assert_int_equal(errs.n, 0);
}

static void test_query_prices(void **state)
{
	struct product_query q;

	(void)state;
	product_query_init(&q);
	q.min_price = 500;
	q.max_price = 499;
	check_query_bad(q, "min_price_cents");
	q.max_price = 500;
	check_query_ok(&q);
	q.min_price = 0;
	q.max_price = 0;
	check_query_ok(&q);
	q.min_price = 1000; /* min alone, max alone */
	q.max_price = -1;
	check_query_ok(&q);
	q.min_price = -1;
	q.max_price = 0;
	check_query_ok(&q);
}

static void test_query_pages(void **state)
{
	struct product_query q;

	(void)state;
	product_query_init(&q);
	q.page = 0;
	check_query_bad(q, "page");
	q.page = -3;
	check_query_bad(q, "page");
	q.page = 1;
	q.page_size = 0;
	check_query_bad(q, "page_size");
	q.page_size = 101;
	check_query_bad(q, "page_size");
	q.page_size = 1;
	check_query_ok(&q);
	q.page_size = 100;
	q.page = 1000000;
	check_query_ok(&q);
}

static void test_query_several_errors(void **state)
{
	struct product_query q;
	struct field_errors errs;

	(void)state;
	product_query_init(&q);
	q.page = 0;
	q.page_size = 0;
	q.min_price = 2;
	q.max_price = 1;
	field_errors_init(&errs);
	assert_int_equal(product_query_validate(&q, &errs), SHOP_EINVAL);
	assert_int_equal(errs.n, 3);
	assert_int_equal(q.sort, PRODUCT_SORT_DEFAULT); /* not resolved */
}

static void test_query_q_length(void **state)
{
	static char buf[4 * 201 + 1];
	struct product_query q;

	(void)state;
	product_query_init(&q);
	q.q = repeat(buf, "q", 200);
	check_query_ok(&q);
	q.q = repeat(buf, "q", 201);
	check_query_bad(q, "q");
	q.q = repeat(buf, "\xf0\x9f\x8e\xa7", 200); /* 800 bytes */
	check_query_ok(&q);
	q.q = repeat(buf, "\xc3\xa9", 201);
	check_query_bad(q, "q");
}

static void test_query_default_sort(void **state)
{
	struct product_query q;

	(void)state;
	/* Default with q: relevance. */
	product_query_init(&q);
	q.q = "headphones";
	check_query_ok(&q);
	assert_int_equal(q.sort, PRODUCT_SORT_RELEVANCE);
	assert_string_equal(q.q, "headphones");
	/* Default without q: newest. */
	product_query_init(&q);
	check_query_ok(&q);
	assert_int_equal(q.sort, PRODUCT_SORT_NEWEST);
	/* Relevance without q is newest. */
	product_query_init(&q);
	q.sort = PRODUCT_SORT_RELEVANCE;
	check_query_ok(&q);
	assert_int_equal(q.sort, PRODUCT_SORT_NEWEST);
	/* Relevance with q stays. */
	product_query_init(&q);
	q.q = "x";
	q.sort = PRODUCT_SORT_RELEVANCE;
	check_query_ok(&q);
	assert_int_equal(q.sort, PRODUCT_SORT_RELEVANCE);
	/* An explicit sort is kept, with or without q. */
	product_query_init(&q);
	q.q = "x";
	q.sort = PRODUCT_SORT_PRICE_DESC;
	check_query_ok(&q);
	assert_int_equal(q.sort, PRODUCT_SORT_PRICE_DESC);
	product_query_init(&q);
	q.sort = PRODUCT_SORT_NAME;
	check_query_ok(&q);
	assert_int_equal(q.sort, PRODUCT_SORT_NAME);
}

static void test_query_blank_q_is_none(void **state)
{
	static const char *const blanks[] = {"", " ", "  \t\n "};
	struct product_query q;

	(void)state;
	for (size_t i = 0; i < sizeof(blanks) / sizeof(*blanks); i++) {
		product_query_init(&q);
		q.q = blanks[i];
		check_query_ok(&q);
		assert_null(q.q);
		assert_int_equal(q.sort, PRODUCT_SORT_NEWEST);

		product_query_init(&q);
		q.q = blanks[i];
		q.sort = PRODUCT_SORT_RELEVANCE;
		check_query_ok(&q);
		assert_null(q.q);
		assert_int_equal(q.sort, PRODUCT_SORT_NEWEST);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_create_valid_fills_defaults),
	        cmocka_unit_test(test_create_keeps_given_optionals),
	        cmocka_unit_test(test_create_all_missing_one_error_each),
	        cmocka_unit_test(test_create_each_missing_alone),
	        cmocka_unit_test(test_create_bad_and_missing_together),
	        cmocka_unit_test(test_patch_empty_rejected),
	        cmocka_unit_test(test_patch_each_field_alone),
	        cmocka_unit_test(test_patch_bad_field_ignores_absent),
	        cmocka_unit_test(test_sku_rule),
	        cmocka_unit_test(test_name_rule),
	        cmocka_unit_test(test_description_rule),
	        cmocka_unit_test(test_category_rule),
	        cmocka_unit_test(test_price_rule),
	        cmocka_unit_test(test_stock_rule),
	        cmocka_unit_test(test_currency_rule),
	        cmocka_unit_test(test_image_url_rule),
	        cmocka_unit_test(test_apply_only_present_fields),
	        cmocka_unit_test(test_apply_every_field),
	        cmocka_unit_test(test_apply_nothing),
	        cmocka_unit_test(test_sort_parse),
	        cmocka_unit_test(test_query_init),
	        cmocka_unit_test(test_query_prices),
	        cmocka_unit_test(test_query_pages),
	        cmocka_unit_test(test_query_several_errors),
	        cmocka_unit_test(test_query_q_length),
	        cmocka_unit_test(test_query_default_sort),
	        cmocka_unit_test(test_query_blank_q_is_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
