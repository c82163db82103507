#ifndef PRODUCT_DOMAIN_PRODUCT_H
#define PRODUCT_DOMAIN_PRODUCT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "shop/field_errors.h"

/*
 * The catalog's entities and their rules. Plain C, no I/O: strings are
 * borrowed from whoever filled the struct (a request arena, a fake).
 */

#define PRODUCT_SKU_MAX           64
#define PRODUCT_NAME_MAX          200
#define PRODUCT_DESCRIPTION_MAX   5000
#define PRODUCT_IMAGE_URL_MAX     2048
#define PRODUCT_PRICE_MAX         100000000LL /* one million in cents */
#define PRODUCT_STOCK_MAX         1000000LL
#define PRODUCT_QUERY_MAX         200
#define PRODUCT_PAGE_SIZE_MAX     100
#define PRODUCT_PAGE_SIZE_DEFAULT 20
#define PRODUCT_DEFAULT_CURRENCY  "USD"

struct product {
	char id[37];
	const char *sku;
	const char *name;
	const char *description;
	const char *category; /* slug */
	char currency[4];
	const char *image_url;
	long long price_cents;
	long long stock; /* what can still be bought */
	time_t created_at;
	time_t updated_at;
};

struct category {
	const char *slug;
	const char *name;
	long long product_count;
};

struct category_list {
	struct category *items;
	size_t n;
};

/* Fields given to create or patch a product; `set` says which are present. */
enum product_field {
	PRODUCT_F_SKU = 1 << 0,
	PRODUCT_F_NAME = 1 << 1,
	PRODUCT_F_DESCRIPTION = 1 << 2,
	PRODUCT_F_CATEGORY = 1 << 3,
	PRODUCT_F_PRICE = 1 << 4,
	PRODUCT_F_STOCK = 1 << 5,
	PRODUCT_F_CURRENCY = 1 << 6,
	PRODUCT_F_IMAGE_URL = 1 << 7,
};

#define PRODUCT_F_REQUIRED                                                     \
	(PRODUCT_F_SKU | PRODUCT_F_NAME | PRODUCT_F_DESCRIPTION |              \
	 PRODUCT_F_CATEGORY | PRODUCT_F_PRICE | PRODUCT_F_STOCK)

struct product_fields {
	unsigned set;
	const char *sku;
	const char *name;
	const char *description;
	const char *category;
	const char *currency;
	const char *image_url;
	long long price_cents;
	long long stock;
};

/*
 * Checks every present field against the catalog's rules (README.md), and,
 * when creating, that the required ones are there; fills in the defaults
 * (currency USD, empty image_url) for a creation. Adds one error per bad
 * field. Returns 0 or SHOP_EINVAL.
 */
int product_fields_validate(struct product_fields *f, bool creating,
                            struct field_errors *errs);

/* Applies the present fields of f onto p (a patch). Strings are borrowed. */
void product_apply(struct product *p, const struct product_fields *f);

/* ---- listing ---- */

enum product_sort {
	PRODUCT_SORT_DEFAULT = 0, /* relevance with q, newest without */
	PRODUCT_SORT_RELEVANCE,
	PRODUCT_SORT_NAME,
	PRODUCT_SORT_PRICE_ASC,
	PRODUCT_SORT_PRICE_DESC,
	PRODUCT_SORT_NEWEST,
};

/* Parses a `sort` value. Returns 0 or SHOP_EINVAL. */
int product_sort_parse(const char *s, enum product_sort *out);

struct product_query {
	const char *q;        /* NULL or "" for none */
	const char *category; /* NULL for all */
	long long min_price;  /* -1 for none */
	long long max_price;  /* -1 for none */
	enum product_sort sort;
	long page;      /* from 1 */
	long page_size; /* 1..100 */
};

/* A query with no filter, first page, default size. */
void product_query_init(struct product_query *q);

/*
 * Checks the cross-field rules (min <= max, q length) and resolves the
 * default sort. Returns 0 or SHOP_EINVAL with errors added.
 */
int product_query_validate(struct product_query *q, struct field_errors *errs);

struct product_page {
	struct product *items;
	size_t n;
	long long total;
};

#endif
