#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "shop/arena.h"
#include "shop/error.h"
#include "shop/util.h"
#include "../src/core/catalog.h"
#include "fake_catalog.h"

/*
 * The catalog's use cases over the in-memory fake. The seeded catalog: four
 * categories (garden empty) and six products, P1 oldest to P6 newest.
 */
#define P1       "aaaaaaaa-0000-4000-8000-000000000001"
#define P2       "aaaaaaaa-0000-4000-8000-000000000002"
#define P3       "aaaaaaaa-0000-4000-8000-000000000003"
#define P4       "aaaaaaaa-0000-4000-8000-000000000004"
#define P5       "aaaaaaaa-0000-4000-8000-000000000005"
#define P6       "aaaaaaaa-0000-4000-8000-000000000006"
#define P1_UPPER "AAAAAAAA-0000-4000-8000-000000000001"
#define MISSING  "bbbbbbbb-0000-4000-8000-000000000000"
#define T0       ((time_t)1763719323) /* 2025-11-21T10:02:03Z */

static const struct {
	const char *id, *sku, *name, *description, *category;
	long long price;
} seed[] = {
        {P1, "HP-1", "Studio Headphones", "Closed-back, wired.", "audio", 9999},
        {P2, "SPK-1", "Bluetooth Speaker", "Pairs with your HEADPHONES too.",
         "audio", 4999},
        {P3, "BK-1", "a Tale of Two Cities", "Dickens.", "books", 1299},
        {P4, "BK-2", "Zen and the Art", "Motorcycles.", "books", 1299},
        {P5, "KT-1", "Kettle", "1.7 l, stainless.", "kitchen", 2999},
        {P6, "KT-2", "Chef's Knife", "Sharp.", "kitchen", 0},
};

struct fixture {
	struct fake_catalog *fake;
	struct arena *a;
	struct catalog c;
	struct field_errors errs;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->fake = fake_catalog_new();
	fx->a = arena_new(0);
	if (!fx->fake || !fx->a)
		return -1;
	if (fake_catalog_add_category(fx->fake, "audio", "Audio") ||
	    fake_catalog_add_category(fx->fake, "kitchen", "Kitchen") ||
	    fake_catalog_add_category(fx->fake, "books", "Books") ||
	    fake_catalog_add_category(fx->fake, "garden", "Garden"))
		return -1;
	for (size_t i = 0; i < sizeof(seed) / sizeof(*seed); i++) {
		struct product p = {
		        .sku = seed[i].sku,
		        .name = seed[i].name,
		        .description = seed[i].description,
		        .category = seed[i].category,
		        .price_cents = seed[i].price,
		        .stock = 5,
		        .created_at = T0 + (time_t)i,
		};
		strcpy(p.id, seed[i].id);
		if (fake_catalog_add_product(fx->fake, &p))
			return -1;
	}
	catalog_init(&fx->c, fake_catalog_repo(fx->fake),
	             fake_catalog_cache(fx->fake));
	field_errors_init(&fx->errs);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx) {
		fake_catalog_free(fx->fake);
		arena_free(fx->a);
		free(fx);
	}
	return 0;
}

static unsigned calls(struct fixture *fx, enum fake_catalog_slot s)
{
	return fake_catalog_calls(fx->fake, s);
}

/* A valid creation in category audio. */
static struct product_fields new_fields(const char *sku)
{
	struct product_fields f = {
	        .set = PRODUCT_F_REQUIRED,
	        .sku = sku,
	        .name = "Earbuds",
	        .description = "Wireless.",
	        .category = "audio",
	        .price_cents = 1999,
	        .stock = 7,
	};
	return f;
}

static struct product_fields price_patch(long long price)
{
	struct product_fields f = {.set = PRODUCT_F_PRICE,
	                           .price_cents = price};
	return f;
}

/* Lists with q (validated by catalog_list) and asserts the page's ids. */
static void check_list(struct fixture *fx, struct product_query q,
                       long long total, const char *const *ids, size_t n)
{
	struct product_page page;

	field_errors_init(&fx->errs);
	assert_int_equal(catalog_list(&fx->c, fx->a, &q, &fx->errs, &page), 0);
	assert_int_equal(page.total, total);
	assert_int_equal(page.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(page.items[i].id, ids[i]);
}

#define IDS(...)  ((const char *const[]){__VA_ARGS__})
#define NIDS(...) (sizeof(IDS(__VA_ARGS__)) / sizeof(const char *))
#define CHECK_LIST(fx, q, total, ...)                                          \
	check_list(fx, q, total, IDS(__VA_ARGS__), NIDS(__VA_ARGS__))

/* ---- list ---- */

static void test_list_rejects_unknown_category(void **state)
{
	struct fixture *fx = *state;
	struct product_query q;
	struct product_page page = {.n = 42};

	product_query_init(&q);
	q.category = "toys";
	assert_int_equal(catalog_list(&fx->c, fx->a, &q, &fx->errs, &page),
	                 SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 1);
	assert_string_equal(fx->errs.items[0].field, "category");
	assert_int_equal(calls(fx, FAKE_REPO_CATEGORY_EXISTS), 1);
	assert_int_equal(calls(fx, FAKE_REPO_LIST), 0);
	assert_int_equal(page.n, 42); /* untouched */
}

static void test_list_invalid_query_calls_nothing(void **state)
{
	struct fixture *fx = *state;
	struct product_query q;
	struct product_page page;

	product_query_init(&q);
	q.page_size = 101;
	q.category = "audio";
	assert_int_equal(catalog_list(&fx->c, fx->a, &q, &fx->errs, &page),
	                 SHOP_EINVAL);
	assert_true(field_errors_has(&fx->errs, "page_size"));
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
}

static void test_list_default_is_newest(void **state)
{
	struct fixture *fx = *state;
	struct product_query q;

	product_query_init(&q);
	CHECK_LIST(fx, q, 6, P6, P5, P4, P3, P2, P1);
	assert_int_equal(calls(fx, FAKE_REPO_LIST), 1);
	/* No category: no existence check. */
	assert_int_equal(calls(fx, FAKE_REPO_CATEGORY_EXISTS), 0);
}

static void test_list_known_category(void **state)
{
	struct fixture *fx = *state;
	struct product_query q;

	product_query_init(&q);
	q.category = "audio";
	CHECK_LIST(fx, q, 2, P2, P1);
	q.category = "garden";
	check_list(fx, q, 0, NULL, 0);
}

static void test_list_pagination(void **state)
{
	struct fixture *fx = *state;
	struct product_query q;

	product_query_init(&q);
	q.page_size = 4;
	CHECK_LIST(fx, q, 6, P6, P5, P4, P3);
	q.page = 2;
	CHECK_LIST(fx, q, 6, P2, P1);
	q.page = 3;
	check_list(fx, q, 6, NULL, 0);
	q.page = LONG_MAX;
	check_list(fx, q, 6, NULL, 0);
	q.page = 2;
	q.page_size = 1;
	CHECK_LIST(fx, q, 6, P5);
	q.page = 6;
	CHECK_LIST(fx, q, 6, P1);
	q.page = 1;
	q.page_size = 100;
	CHECK_LIST(fx, q, 6, P6, P5, P4, P3, P2, P1);
}

static void test_list_every_sort(void **state)
{
	struct fixture *fx = *state;
	struct product_query q;

	product_query_init(&q);
	q.sort = PRODUCT_SORT_NEWEST;
	CHECK_LIST(fx, q, 6, P6, P5, P4, P3, P2, P1);
	/* By name without regard to case. */
	q.sort = PRODUCT_SORT_NAME;
	CHECK_LIST(fx, q, 6, P3, P2, P6, P5, P1, P4);
	/* Equal prices (P3, P4) by name. */
	q.sort = PRODUCT_SORT_PRICE_ASC;
	CHECK_LIST(fx, q, 6, P6, P3, P4, P5, P2, P1);
	q.sort = PRODUCT_SORT_PRICE_DESC;
	CHECK_LIST(fx, q, 6, P1, P2, P5, P3, P4, P6);
	/* Relevance without q is newest. */
	q.sort = PRODUCT_SORT_RELEVANCE;
	CHECK_LIST(fx, q, 6, P6, P5, P4, P3, P2, P1);
	/* A sort and a page together. */
	q.sort = PRODUCT_SORT_PRICE_ASC;
	q.page = 2;
	q.page_size = 2;
	CHECK_LIST(fx, q, 6, P4, P5);
}

static void test_list_q(void **state)
{
	struct fixture *fx = *state;
	struct product_query q;

	/* Default sort with q: relevance, the name match first. */
	product_query_init(&q);
	q.q = "headphones";
	CHECK_LIST(fx, q, 2, P1, P2);
	q.q = "HeadPhones";
	CHECK_LIST(fx, q, 2, P1, P2);
	/* q with another sort, and with the other filters. */
	q.sort = PRODUCT_SORT_PRICE_ASC;
	CHECK_LIST(fx, q, 2, P2, P1);
	q.sort = PRODUCT_SORT_DEFAULT;
	q.max_price = 5000;
	CHECK_LIST(fx, q, 1, P2);
	product_query_init(&q);
	q.q = "headphones";
	q.category = "kitchen";
	check_list(fx, q, 0, NULL, 0);
	/* Blank q is no q. */
	product_query_init(&q);
	q.q = "   ";
	CHECK_LIST(fx, q, 6, P6, P5, P4, P3, P2, P1);
	product_query_init(&q);
	q.q = "nothing matches this";
	check_list(fx, q, 0, NULL, 0);
}

static void test_list_price_range(void **state)
{
	struct fixture *fx = *state;
	struct product_query q;

	product_query_init(&q);
	q.min_price = 1299;
	q.max_price = 2999;
	CHECK_LIST(fx, q, 3, P5, P4, P3);
	q.min_price = 0;
	q.max_price = 0;
	CHECK_LIST(fx, q, 1, P6);
	q.min_price = 5000;
	q.max_price = -1;
	CHECK_LIST(fx, q, 1, P1);
	q.min_price = 3000;
	q.max_price = 2999;
	field_errors_init(&fx->errs);
	{
		struct product_page page;
		assert_int_equal(
		        catalog_list(&fx->c, fx->a, &q, &fx->errs, &page),
		        SHOP_EINVAL);
	}
	assert_true(field_errors_has(&fx->errs, "min_price_cents"));
}

static void test_list_returns_whole_products(void **state)
{
	struct fixture *fx = *state;
	struct product_query q;
	struct product_page page;
	size_t used = arena_used(fx->a);

	product_query_init(&q);
	q.category = "books";
	q.sort = PRODUCT_SORT_NAME;
	assert_int_equal(catalog_list(&fx->c, fx->a, &q, &fx->errs, &page), 0);
	assert_int_equal(page.n, 2);
	assert_string_equal(page.items[0].sku, "BK-1");
	assert_string_equal(page.items[0].name, "a Tale of Two Cities");
	assert_string_equal(page.items[0].description, "Dickens.");
	assert_string_equal(page.items[0].category, "books");
	assert_string_equal(page.items[0].currency, "USD");
	assert_string_equal(page.items[0].image_url, "");
	assert_int_equal(page.items[0].price_cents, 1299);
	assert_int_equal(page.items[0].stock, 5);
	assert_int_equal(page.items[0].created_at, T0 + 2);
	assert_true(arena_used(fx->a) > used); /* strings from the arena */
}

static void test_list_repo_down(void **state)
{
	struct fixture *fx = *state;
	struct product_query q;
	struct product_page page = {.n = 42};

	product_query_init(&q);
	fake_catalog_fail_next(fx->fake, FAKE_REPO_LIST, SHOP_EUNAVAIL);
	assert_int_equal(catalog_list(&fx->c, fx->a, &q, &fx->errs, &page),
	                 SHOP_EUNAVAIL);
	assert_int_equal(page.n, 42);
	q.category = "audio";
	fake_catalog_fail_next(fx->fake, FAKE_REPO_CATEGORY_EXISTS,
	                       SHOP_ETIMEDOUT);
	assert_int_equal(catalog_list(&fx->c, fx->a, &q, &fx->errs, &page),
	                 SHOP_ETIMEDOUT);
	assert_int_equal(calls(fx, FAKE_REPO_LIST), 1);
	assert_int_equal(fx->errs.n, 0);
}

/* ---- get ---- */

static void test_get_not_a_uuid(void **state)
{
	static const char *const bad[] = {
	        "",
	        "abc",
	        "../../etc/passwd",
	        P1 "0",
	        "aaaaaaaa-0000-4000-8000-00000000000",
	        "aaaaaaaa_0000-4000-8000-000000000001",
	        "gaaaaaaa-0000-4000-8000-000000000001",
	        "{aaaaaaaa-0000-4000-8000-000000000001}",
	};
	struct fixture *fx = *state;
	struct product p = {.price_cents = 42};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(catalog_get(&fx->c, fx->a, bad[i], &p),
		                 SHOP_ENOTFOUND);
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
	assert_int_equal(p.price_cents, 42);
}

static void test_get_miss_reads_repo_and_populates(void **state)
{
	struct fixture *fx = *state;
	struct product p;

	assert_int_equal(fake_catalog_cached(fx->fake, P1), FAKE_CACHED_NONE);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &p), 0);
	assert_string_equal(p.id, P1);
	assert_string_equal(p.sku, "HP-1");
	assert_string_equal(p.name, "Studio Headphones");
	assert_int_equal(p.price_cents, 9999);
	assert_int_equal(calls(fx, FAKE_CACHE_GET), 1);
	assert_int_equal(calls(fx, FAKE_REPO_GET), 1);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_IF_ABSENT), 1);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT), 0);
	assert_int_equal(fake_catalog_cached(fx->fake, P1),
	                 FAKE_CACHED_PRODUCT);

	/* The second read is the cache's. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &p), 0);
	assert_string_equal(p.name, "Studio Headphones");
	assert_int_equal(p.price_cents, 9999);
	assert_int_equal(calls(fx, FAKE_CACHE_GET), 2);
	assert_int_equal(calls(fx, FAKE_REPO_GET), 1);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_IF_ABSENT), 1);
}

static void test_get_hit_does_not_call_repo(void **state)
{
	struct fixture *fx = *state;
	struct product cached = {
	        .id = P2,
	        .sku = "SPK-1",
	        .name = "Cached Speaker",
	        .description = "",
	        .category = "audio",
	        .currency = "USD",
	        .image_url = "",
	        .price_cents = 1,
	};
	struct product p;

	assert_int_equal(fake_catalog_cache_seed(fx->fake, &cached), 0);
	assert_int_equal(catalog_get(&fx->c, fx->a, P2, &p), 0);
	assert_string_equal(p.name, "Cached Speaker");
	assert_int_equal(p.price_cents, 1);
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_IF_ABSENT), 0);
}

static void test_get_cache_failure_falls_back(void **state)
{
	struct fixture *fx = *state;
	struct product p;

	fake_catalog_fail_next(fx->fake, FAKE_CACHE_GET, SHOP_EUNAVAIL);
	assert_int_equal(catalog_get(&fx->c, fx->a, P3, &p), 0);
	assert_string_equal(p.sku, "BK-1");
	assert_int_equal(calls(fx, FAKE_REPO_GET), 1);

	/* A cache that is down altogether: every read from the repository,
	 * and the failing populate does not fail the read. */
	for (int s = FAKE_CACHE_GET; s < FAKE_SLOT_COUNT; s++)
		fake_catalog_fail_always(fx->fake, (enum fake_catalog_slot)s,
		                         SHOP_ETIMEDOUT);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(catalog_get(&fx->c, fx->a, P4, &p), 0);
		assert_string_equal(p.sku, "BK-2");
	}
	assert_int_equal(calls(fx, FAKE_REPO_GET), 4);
	assert_int_equal(fake_catalog_cached(fx->fake, P4), FAKE_CACHED_NONE);
}

static void test_get_tombstone(void **state)
{
	struct fixture *fx = *state;
	struct product_cache cache = fake_catalog_cache(fx->fake);
	struct product p = {.price_cents = 42};

	/* Marked deleted, though the repository still has the row (a write
	 * whose cache update landed first): the cache's word is final. */
	assert_int_equal(cache.ops->mark_deleted(cache.self, P5), 0);
	fake_catalog_reset_calls(fx->fake);
	assert_int_equal(catalog_get(&fx->c, fx->a, P5, &p), SHOP_ENOTFOUND);
	assert_int_equal(p.price_cents, 42);
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_IF_ABSENT), 0);
}

static void test_get_unknown(void **state)
{
	struct fixture *fx = *state;
	struct product p = {.price_cents = 42};

	assert_int_equal(catalog_get(&fx->c, fx->a, MISSING, &p),
	                 SHOP_ENOTFOUND);
	assert_int_equal(p.price_cents, 42);
	assert_int_equal(calls(fx, FAKE_REPO_GET), 1);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_IF_ABSENT), 0);
	assert_int_equal(fake_catalog_cached(fx->fake, MISSING),
	                 FAKE_CACHED_NONE);
}

static void test_get_repo_down(void **state)
{
	struct fixture *fx = *state;
	struct product p = {.price_cents = 42};

	fake_catalog_fail_next(fx->fake, FAKE_REPO_GET, SHOP_EUNAVAIL);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &p), SHOP_EUNAVAIL);
	assert_int_equal(p.price_cents, 42);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_IF_ABSENT), 0);
	/* A cached product is still served while the repository is down. */
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &p), 0);
	fake_catalog_fail_always(fx->fake, FAKE_REPO_GET, SHOP_EUNAVAIL);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &p), 0);
	assert_int_equal(p.price_cents, 9999);
}

static void test_get_uppercase_id(void **state)
{
	struct fixture *fx = *state;
	struct product p;

	/* The same product whichever case the id is written in, and one
	 * cache entry for it. */
	assert_int_equal(catalog_get(&fx->c, fx->a, P1_UPPER, &p), 0);
	assert_string_equal(p.id, P1);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &p), 0);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1_UPPER, &p), 0);
	assert_int_equal(calls(fx, FAKE_REPO_GET), 1);
}

static void test_get_without_cache(void **state)
{
	struct fixture *fx = *state;
	struct product_cache none = {NULL, NULL};
	struct catalog c;
	struct product p;

	catalog_init(&c, fake_catalog_repo(fx->fake), none);
	assert_int_equal(catalog_get(&c, fx->a, P1, &p), 0);
	assert_int_equal(catalog_get(&c, fx->a, MISSING, &p), SHOP_ENOTFOUND);
	assert_int_equal(calls(fx, FAKE_REPO_GET), 2);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
}

/* ---- create ---- */

static void test_create_validates(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = {0};
	struct product p = {.price_cents = 42};

	assert_int_equal(catalog_create(&fx->c, fx->a, &f, &fx->errs, &p),
	                 SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 6);
	assert_int_equal(p.price_cents, 42);

	f = new_fields("bad sku");
	f.stock = 1000001;
	field_errors_init(&fx->errs);
	assert_int_equal(catalog_create(&fx->c, fx->a, &f, &fx->errs, &p),
	                 SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 2);
	assert_true(field_errors_has(&fx->errs, "sku"));
	assert_true(field_errors_has(&fx->errs, "stock"));
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
}

static void test_create_unknown_category(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = new_fields("NEW-1");
	struct product p;

	f.category = "toys";
	assert_int_equal(catalog_create(&fx->c, fx->a, &f, &fx->errs, &p),
	                 SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 1);
	assert_string_equal(fx->errs.items[0].field, "category");
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 0);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
}

static void test_create_duplicate_sku(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = new_fields("HP-1");
	struct product p = {.price_cents = 42};
	struct category_list l;

	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	fake_catalog_reset_calls(fx->fake);
	assert_int_equal(catalog_create(&fx->c, fx->a, &f, &fx->errs, &p),
	                 SHOP_ECONFLICT);
	assert_int_equal(p.price_cents, 42);
	assert_int_equal(fx->errs.n, 0);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 1);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
	assert_true(fake_catalog_categories_cached(fx->fake));
}

static void test_create_writes_through(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = new_fields("NEW-1");
	struct product p, g;
	struct category_list l;

	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	assert_true(fake_catalog_categories_cached(fx->fake));
	assert_int_equal(catalog_create(&fx->c, fx->a, &f, &fx->errs, &p), 0);
	assert_int_equal(fx->errs.n, 0);
	assert_true(shop_uuid_valid(p.id));
	assert_string_equal(p.sku, "NEW-1");
	assert_string_equal(p.name, "Earbuds");
	assert_string_equal(p.category, "audio");
	assert_string_equal(p.currency, "USD");
	assert_string_equal(p.image_url, "");
	assert_int_equal(p.price_cents, 1999);
	assert_int_equal(p.stock, 7);
	assert_true(p.created_at != 0);
	assert_int_equal(p.created_at, p.updated_at);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT), 1);
	assert_int_equal(calls(fx, FAKE_CACHE_INVALIDATE_CATEGORIES), 1);
	assert_int_equal(fake_catalog_cached(fx->fake, p.id),
	                 FAKE_CACHED_PRODUCT);
	assert_false(fake_catalog_categories_cached(fx->fake));

	/* Read back from the cache; the counts are fresh. */
	fake_catalog_reset_calls(fx->fake);
	assert_int_equal(catalog_get(&fx->c, fx->a, p.id, &g), 0);
	assert_string_equal(g.sku, "NEW-1");
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	assert_string_equal(l.items[0].slug, "audio");
	assert_int_equal(l.items[0].product_count, 3);

	/* It is listed, newest first. */
	{
		struct product_query q;
		struct product_page page;

		product_query_init(&q);
		q.page_size = 1;
		assert_int_equal(
		        catalog_list(&fx->c, fx->a, &q, &fx->errs, &page), 0);
		assert_int_equal(page.total, 7);
		assert_string_equal(page.items[0].id, p.id);
	}
}

static void test_create_with_optionals(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = new_fields("NEW-2");
	struct product p;

	f.set |= PRODUCT_F_CURRENCY | PRODUCT_F_IMAGE_URL;
	f.currency = "EUR";
	f.image_url = "https://cdn.example.com/e.png";
	assert_int_equal(catalog_create(&fx->c, fx->a, &f, &fx->errs, &p), 0);
	assert_string_equal(p.currency, "EUR");
	assert_string_equal(p.image_url, "https://cdn.example.com/e.png");
}

static void test_create_cache_down_still_creates(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = new_fields("NEW-3");
	struct product p, g;

	fake_catalog_fail_next(fx->fake, FAKE_CACHE_PUT, SHOP_EUNAVAIL);
	fake_catalog_fail_next(fx->fake, FAKE_CACHE_INVALIDATE_CATEGORIES,
	                       SHOP_EUNAVAIL);
	assert_int_equal(catalog_create(&fx->c, fx->a, &f, &fx->errs, &p), 0);
	assert_int_equal(catalog_get(&fx->c, fx->a, p.id, &g), 0);
	assert_string_equal(g.sku, "NEW-3");
}

static void test_create_repo_down(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = new_fields("NEW-4");
	struct product p = {.price_cents = 42};

	fake_catalog_fail_next(fx->fake, FAKE_REPO_CATEGORY_EXISTS,
	                       SHOP_EUNAVAIL);
	assert_int_equal(catalog_create(&fx->c, fx->a, &f, &fx->errs, &p),
	                 SHOP_EUNAVAIL);
	assert_int_equal(calls(fx, FAKE_REPO_CREATE), 0);
	fake_catalog_fail_next(fx->fake, FAKE_REPO_CREATE, SHOP_EUNAVAIL);
	assert_int_equal(catalog_create(&fx->c, fx->a, &f, &fx->errs, &p),
	                 SHOP_EUNAVAIL);
	assert_int_equal(p.price_cents, 42);
	assert_int_equal(fx->errs.n, 0);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
}

/* ---- patch ---- */

static void test_patch_not_a_uuid(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = price_patch(1);
	struct product p;

	assert_int_equal(
	        catalog_patch(&fx->c, fx->a, "nope", &f, &fx->errs, &p),
	        SHOP_ENOTFOUND);
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
}

static void test_patch_empty(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = {0};
	struct product p;

	assert_int_equal(catalog_patch(&fx->c, fx->a, P1, &f, &fx->errs, &p),
	                 SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 1);
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
}

static void test_patch_invalid_field(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = price_patch(-1);
	struct product p;

	assert_int_equal(catalog_patch(&fx->c, fx->a, P1, &f, &fx->errs, &p),
	                 SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 1);
	assert_string_equal(fx->errs.items[0].field, "price_cents");
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
}

static void test_patch_unknown_id(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = price_patch(1);
	struct product p = {.price_cents = 42};

	assert_int_equal(
	        catalog_patch(&fx->c, fx->a, MISSING, &f, &fx->errs, &p),
	        SHOP_ENOTFOUND);
	assert_int_equal(p.price_cents, 42);
	assert_int_equal(calls(fx, FAKE_REPO_UPDATE), 1);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
}

static void test_patch_updates_cache(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = price_patch(5000);
	struct product p, g;

	/* Cache the old version first. */
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), 0);
	assert_int_equal(g.price_cents, 9999);

	assert_int_equal(catalog_patch(&fx->c, fx->a, P1, &f, &fx->errs, &p),
	                 0);
	assert_string_equal(p.id, P1);
	assert_int_equal(p.price_cents, 5000);
	assert_string_equal(p.name, "Studio Headphones"); /* untouched */
	assert_int_equal(p.created_at, T0);
	assert_true(p.updated_at > p.created_at);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT), 1);
	assert_int_equal(calls(fx, FAKE_CACHE_INVALIDATE_CATEGORIES), 1);

	/* Never stale: the cache answers, with the new price. */
	fake_catalog_reset_calls(fx->fake);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), 0);
	assert_int_equal(g.price_cents, 5000);
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
}

static void test_patch_replaces_stale_entry(void **state)
{
	struct fixture *fx = *state;
	struct product stale = {
	        .id = P2,
	        .sku = "SPK-1",
	        .name = "Stale",
	        .description = "",
	        .category = "audio",
	        .currency = "USD",
	        .image_url = "",
	        .price_cents = 1,
	};
	struct product p, g;
	struct product_fields f = {
	        .set = PRODUCT_F_NAME | PRODUCT_F_SKU,
	        .name = "Speaker II",
	        .sku = "SPK-2",
	};

	assert_int_equal(fake_catalog_cache_seed(fx->fake, &stale), 0);
	assert_int_equal(catalog_patch(&fx->c, fx->a, P2, &f, &fx->errs, &p),
	                 0);
	assert_int_equal(catalog_get(&fx->c, fx->a, P2, &g), 0);
	assert_string_equal(g.name, "Speaker II");
	assert_string_equal(g.sku, "SPK-2");
	assert_int_equal(g.price_cents, 4999);
}

static void test_patch_duplicate_sku(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = {.set = PRODUCT_F_SKU, .sku = "BK-1"};
	struct product p = {.price_cents = 42}, g;

	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), 0);
	fake_catalog_reset_calls(fx->fake);
	assert_int_equal(catalog_patch(&fx->c, fx->a, P1, &f, &fx->errs, &p),
	                 SHOP_ECONFLICT);
	assert_int_equal(p.price_cents, 42);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
	/* Its own sku is no conflict. */
	f.sku = "HP-1";
	assert_int_equal(catalog_patch(&fx->c, fx->a, P1, &f, &fx->errs, &p),
	                 0);
}

static void test_patch_category(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = {.set = PRODUCT_F_CATEGORY,
	                           .category = "toys"};
	struct product p;
	struct category_list l;

	assert_int_equal(catalog_patch(&fx->c, fx->a, P5, &f, &fx->errs, &p),
	                 SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 1);
	assert_string_equal(fx->errs.items[0].field, "category");
	assert_int_equal(calls(fx, FAKE_REPO_UPDATE), 0);

	/* Moving a product changes the counts. */
	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	f.category = "garden";
	field_errors_init(&fx->errs);
	assert_int_equal(catalog_patch(&fx->c, fx->a, P5, &f, &fx->errs, &p),
	                 0);
	assert_string_equal(p.category, "garden");
	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	assert_string_equal(l.items[2].slug, "garden");
	assert_int_equal(l.items[2].product_count, 1);
	assert_string_equal(l.items[3].slug, "kitchen");
	assert_int_equal(l.items[3].product_count, 1);
}

static void test_patch_repo_down(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = price_patch(1);
	struct product p = {.price_cents = 42}, g;

	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), 0);
	fake_catalog_reset_calls(fx->fake);
	fake_catalog_fail_next(fx->fake, FAKE_REPO_UPDATE, SHOP_EUNAVAIL);
	assert_int_equal(catalog_patch(&fx->c, fx->a, P1, &f, &fx->errs, &p),
	                 SHOP_EUNAVAIL);
	assert_int_equal(p.price_cents, 42);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), 0);
	assert_int_equal(g.price_cents, 9999);
}

static void test_patch_uppercase_id(void **state)
{
	struct fixture *fx = *state;
	struct product_fields f = price_patch(5000);
	struct product p, g;

	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), 0);
	assert_int_equal(
	        catalog_patch(&fx->c, fx->a, P1_UPPER, &f, &fx->errs, &p), 0);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), 0);
	assert_int_equal(g.price_cents, 5000);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1_UPPER, &g), 0);
	assert_int_equal(g.price_cents, 5000);
}

/* ---- delete ---- */

static void test_delete_marks_cache(void **state)
{
	struct fixture *fx = *state;
	struct product g = {.price_cents = 42};
	struct category_list l;

	/* Cached before, via a read. */
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), 0);
	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	assert_int_equal(catalog_delete(&fx->c, P1), 0);
	assert_int_equal(calls(fx, FAKE_CACHE_MARK_DELETED), 1);
	assert_int_equal(calls(fx, FAKE_CACHE_INVALIDATE_CATEGORIES), 1);
	assert_int_equal(fake_catalog_cached(fx->fake, P1), FAKE_CACHED_GONE);
	g.price_cents = 42;
	fake_catalog_reset_calls(fx->fake);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), SHOP_ENOTFOUND);
	assert_int_equal(g.price_cents, 42);
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	assert_string_equal(l.items[0].slug, "audio");
	assert_int_equal(l.items[0].product_count, 1);
	/* Gone from the repository too. */
	assert_int_equal(catalog_delete(&fx->c, P1), SHOP_ENOTFOUND);
}

static void test_delete_over_stale_entry(void **state)
{
	struct fixture *fx = *state;
	struct product stale = {
	        .id = P3,
	        .sku = "BK-1",
	        .name = "Stale",
	        .description = "",
	        .category = "books",
	        .currency = "USD",
	        .image_url = "",
	        .price_cents = 1,
	};
	struct product g;

	assert_int_equal(fake_catalog_cache_seed(fx->fake, &stale), 0);
	assert_int_equal(catalog_delete(&fx->c, P3), 0);
	assert_int_equal(catalog_get(&fx->c, fx->a, P3, &g), SHOP_ENOTFOUND);
	/* A reader that raced the delete cannot bring it back. */
	{
		struct product_cache cache = fake_catalog_cache(fx->fake);
		assert_int_equal(cache.ops->put_if_absent(cache.self, &stale),
		                 0);
	}
	assert_int_equal(catalog_get(&fx->c, fx->a, P3, &g), SHOP_ENOTFOUND);
}

static void test_delete_uppercase_id(void **state)
{
	struct fixture *fx = *state;
	struct product g;

	/* Cached under the id as the repository spells it ... */
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), 0);
	/* ... deleted through the same id in capitals. */
	assert_int_equal(catalog_delete(&fx->c, P1_UPPER), 0);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), SHOP_ENOTFOUND);
	assert_int_equal(catalog_get(&fx->c, fx->a, P1_UPPER, &g),
	                 SHOP_ENOTFOUND);
}

static void test_delete_bad_ids(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(catalog_delete(&fx->c, "x"), SHOP_ENOTFOUND);
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
	assert_int_equal(catalog_delete(&fx->c, MISSING), SHOP_ENOTFOUND);
	assert_int_equal(calls(fx, FAKE_REPO_REMOVE), 1);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
}

static void test_delete_repo_down(void **state)
{
	struct fixture *fx = *state;
	struct product g;

	assert_int_equal(catalog_get(&fx->c, fx->a, P1, &g), 0);
	fake_catalog_reset_calls(fx->fake);
	fake_catalog_fail_next(fx->fake, FAKE_REPO_REMOVE, SHOP_EUNAVAIL);
	assert_int_equal(catalog_delete(&fx->c, P1), SHOP_EUNAVAIL);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
	assert_int_equal(fake_catalog_cached(fx->fake, P1),
	                 FAKE_CACHED_PRODUCT);
}

static void test_delete_cache_down_still_deletes(void **state)
{
	struct fixture *fx = *state;
	struct product g;

	fake_catalog_fail_next(fx->fake, FAKE_CACHE_MARK_DELETED,
	                       SHOP_EUNAVAIL);
	assert_int_equal(catalog_delete(&fx->c, P6), 0);
	assert_int_equal(catalog_get(&fx->c, fx->a, P6, &g), SHOP_ENOTFOUND);
}

/* ---- categories ---- */

static void test_categories_miss_populates(void **state)
{
	static const struct {
		const char *slug, *name;
		long long count;
	} want[] = {{"audio", "Audio", 2},
	            {"books", "Books", 2},
	            {"garden", "Garden", 0},
	            {"kitchen", "Kitchen", 2}};
	struct fixture *fx = *state;
	struct category_list l;

	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	assert_int_equal(l.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(l.items[i].slug, want[i].slug);
		assert_string_equal(l.items[i].name, want[i].name);
		assert_int_equal(l.items[i].product_count, want[i].count);
	}
	assert_int_equal(calls(fx, FAKE_CACHE_GET_CATEGORIES), 1);
	assert_int_equal(calls(fx, FAKE_REPO_CATEGORIES), 1);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_CATEGORIES), 1);
	assert_true(fake_catalog_categories_cached(fx->fake));
}

static void test_categories_hit(void **state)
{
	struct fixture *fx = *state;
	struct category_list l;

	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	fake_catalog_reset_calls(fx->fake);
	memset(&l, 0, sizeof(l));
	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.items[3].name, "Kitchen");
	assert_int_equal(l.items[3].product_count, 2);
	assert_int_equal(fake_catalog_repo_calls(fx->fake), 0);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_CATEGORIES), 0);
}

static void test_categories_cache_failure(void **state)
{
	struct fixture *fx = *state;
	struct category_list l;

	fake_catalog_fail_next(fx->fake, FAKE_CACHE_GET_CATEGORIES,
	                       SHOP_ETIMEDOUT);
	fake_catalog_fail_next(fx->fake, FAKE_CACHE_PUT_CATEGORIES,
	                       SHOP_ETIMEDOUT);
	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(calls(fx, FAKE_REPO_CATEGORIES), 1);
	assert_false(fake_catalog_categories_cached(fx->fake));
}

static void test_categories_repo_down(void **state)
{
	struct fixture *fx = *state;
	struct category_list l = {.n = 42};

	fake_catalog_fail_next(fx->fake, FAKE_REPO_CATEGORIES, SHOP_EUNAVAIL);
	assert_int_equal(catalog_categories(&fx->c, fx->a, &l), SHOP_EUNAVAIL);
	assert_int_equal(l.n, 42);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_CATEGORIES), 0);
	assert_false(fake_catalog_categories_cached(fx->fake));
}

static void test_categories_without_cache(void **state)
{
	struct fixture *fx = *state;
	struct product_cache none = {NULL, NULL};
	struct catalog c;
	struct category_list l;

	catalog_init(&c, fake_catalog_repo(fx->fake), none);
	assert_int_equal(catalog_categories(&c, fx->a, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(fake_catalog_cache_calls(fx->fake), 0);
}

/* ---- the repository down, every use case ---- */

static void test_repo_down_everywhere(void **state)
{
	static const int errs[] = {SHOP_EUNAVAIL, SHOP_ETIMEDOUT};
	struct fixture *fx = *state;

	for (size_t e = 0; e < 2; e++) {
		int err = errs[e];
		struct product_query q;
		struct product_page page;
		struct product p;
		struct category_list l;
		struct product_fields f;

		for (int s = FAKE_REPO_LIST; s <= FAKE_REPO_REMOVE; s++)
			fake_catalog_fail_always(
			        fx->fake, (enum fake_catalog_slot)s, err);

		product_query_init(&q);
		assert_int_equal(
		        catalog_list(&fx->c, fx->a, &q, &fx->errs, &page), err);
		product_query_init(&q);
		q.category = "audio";
		assert_int_equal(
		        catalog_list(&fx->c, fx->a, &q, &fx->errs, &page), err);
		assert_int_equal(catalog_get(&fx->c, fx->a, P2, &p), err);
		assert_int_equal(catalog_categories(&fx->c, fx->a, &l), err);
		f = new_fields("DOWN-1");
		assert_int_equal(
		        catalog_create(&fx->c, fx->a, &f, &fx->errs, &p), err);
		f = price_patch(1);
		assert_int_equal(
		        catalog_patch(&fx->c, fx->a, P2, &f, &fx->errs, &p),
		        err);
		f.set = PRODUCT_F_CATEGORY;
		f.category = "books";
		assert_int_equal(
		        catalog_patch(&fx->c, fx->a, P2, &f, &fx->errs, &p),
		        err);
		assert_int_equal(catalog_delete(&fx->c, P2), err);
		assert_int_equal(fx->errs.n, 0);
	}
	/* Nothing reached the cache but the reads' lookups. */
	assert_int_equal(calls(fx, FAKE_CACHE_PUT), 0);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_IF_ABSENT), 0);
	assert_int_equal(calls(fx, FAKE_CACHE_MARK_DELETED), 0);
	assert_int_equal(calls(fx, FAKE_CACHE_PUT_CATEGORIES), 0);
	assert_int_equal(calls(fx, FAKE_CACHE_INVALIDATE_CATEGORIES), 0);
}

/* ---- the fake keeps the cache contract the catalog relies on ---- */

static void test_fake_cache_contract(void **state)
{
	struct fixture *fx = *state;
	struct product_cache cache = fake_catalog_cache(fx->fake);
	struct product v1 = {
	        .id = P4,
	        .sku = "BK-2",
	        .name = "v1",
	        .description = "",
	        .category = "books",
	        .currency = "USD",
	        .image_url = "",
	        .price_cents = 1,
	};
	struct product v2 = v1, out = {.price_cents = 42};
	bool gone = true;

	v2.name = "v2";
	v2.price_cents = 2;
	assert_int_equal(cache.ops->get(cache.self, fx->a, P4, &out, &gone),
	                 SHOP_ENOTFOUND);
	/* A writer's put wins over a slower reader's put_if_absent. */
	assert_int_equal(cache.ops->put(cache.self, &v2), 0);
	assert_int_equal(cache.ops->put_if_absent(cache.self, &v1), 0);
	assert_int_equal(cache.ops->get(cache.self, fx->a, P4, &out, &gone), 0);
	assert_false(gone);
	assert_string_equal(out.name, "v2");
	/* put replaces. */
	assert_int_equal(cache.ops->put(cache.self, &v1), 0);
	assert_int_equal(cache.ops->get(cache.self, fx->a, P4, &out, &gone), 0);
	assert_int_equal(out.price_cents, 1);
	/* A marker: reported gone, out untouched, not replaced by a read. */
	assert_int_equal(cache.ops->mark_deleted(cache.self, P4), 0);
	assert_int_equal(cache.ops->put_if_absent(cache.self, &v2), 0);
	out.price_cents = 42;
	assert_int_equal(cache.ops->get(cache.self, fx->a, P4, &out, &gone), 0);
	assert_true(gone);
	assert_int_equal(out.price_cents, 42);
	/* A failing call changes nothing. */
	fake_catalog_fail_next(fx->fake, FAKE_CACHE_PUT, SHOP_EUNAVAIL);
	assert_int_equal(cache.ops->put(cache.self, &v2), SHOP_EUNAVAIL);
	assert_int_equal(fake_catalog_cached(fx->fake, P4), FAKE_CACHED_GONE);
	assert_int_equal(cache.ops->put(cache.self, &v2), 0);
	assert_int_equal(fake_catalog_cached(fx->fake, P4),
	                 FAKE_CACHED_PRODUCT);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_list_rejects_unknown_category),
	        T(test_list_invalid_query_calls_nothing),
	        T(test_list_default_is_newest),
	        T(test_list_known_category),
	        T(test_list_pagination),
	        T(test_list_every_sort),
	        T(test_list_q),
	        T(test_list_price_range),
	        T(test_list_returns_whole_products),
	        T(test_list_repo_down),
	        T(test_get_not_a_uuid),
	        T(test_get_miss_reads_repo_and_populates),
	        T(test_get_hit_does_not_call_repo),
	        T(test_get_cache_failure_falls_back),
	        T(test_get_tombstone),
	        T(test_get_unknown),
	        T(test_get_repo_down),
	        T(test_get_uppercase_id),
	        T(test_get_without_cache),
	        T(test_create_validates),
	        T(test_create_unknown_category),
	        T(test_create_duplicate_sku),
	        T(test_create_writes_through),
	        T(test_create_with_optionals),
	        T(test_create_cache_down_still_creates),
	        T(test_create_repo_down),
	        T(test_patch_not_a_uuid),
	        T(test_patch_empty),
	        T(test_patch_invalid_field),
	        T(test_patch_unknown_id),
	        T(test_patch_updates_cache),
	        T(test_patch_replaces_stale_entry),
	        T(test_patch_duplicate_sku),
	        T(test_patch_category),
	        T(test_patch_repo_down),
	        T(test_patch_uppercase_id),
	        T(test_delete_marks_cache),
	        T(test_delete_over_stale_entry),
	        T(test_delete_uppercase_id),
	        T(test_delete_bad_ids),
	        T(test_delete_repo_down),
	        T(test_delete_cache_down_still_deletes),
	        T(test_categories_miss_populates),
	        T(test_categories_hit),
	        T(test_categories_cache_failure),
	        T(test_categories_repo_down),
	        T(test_categories_without_cache),
	        T(test_repo_down_everywhere),
	        T(test_fake_cache_contract),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
