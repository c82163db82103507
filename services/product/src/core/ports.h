#ifndef PRODUCT_CORE_PORTS_H
#define PRODUCT_CORE_PORTS_H

#include <stdbool.h>

#include "shop/arena.h"
#include "../domain/product.h"

/*
 * What the catalog's use cases need from the outside world. The
 * infrastructure layer implements these with libpq and hiredis; the unit
 * tests with an in-memory fake. Every string a slot returns is allocated
 * from the arena it is given. Every slot returns 0 or a negative shop_err:
 * SHOP_EUNAVAIL / SHOP_ETIMEDOUT when the store is down, SHOP_ERR otherwise.
 */
struct product_repo_ops {
	/* One page of the products matching q (already validated), in q's
	 * order, and the total number of matches. */
	int (*list)(void *self, struct arena *a, const struct product_query *q,
	            struct product_page *out);
	/* The product with this id (a valid UUID); SHOP_ENOTFOUND. */
	int (*get)(void *self, struct arena *a, const char *id,
	           struct product *out);
	/* Every category, by name, with its product count. */
	int (*categories)(void *self, struct arena *a,
	                  struct category_list *out);
	/* 1 when the category slug exists, 0 when not. */
	int (*category_exists)(void *self, const char *slug);
	/* Stores a new product (fields validated, defaults filled) and
	 * returns it as stored. SHOP_ECONFLICT when the sku is taken. */
	int (*create)(void *self, struct arena *a,
	              const struct product_fields *f, struct product *out);
	/* Applies the present fields in one statement and returns the row.
	 * SHOP_ENOTFOUND, SHOP_ECONFLICT (sku taken). */
	int (*update)(void *self, struct arena *a, const char *id,
	              const struct product_fields *f, struct product *out);
	/* Deletes the product. SHOP_ENOTFOUND. */
	int (*remove)(void *self, const char *id);
};

struct product_repo {
	const struct product_repo_ops *ops;
	void *self;
};

/*
 * A read cache in front of the repository. It may be down at any time:
 * callers treat every failure as a miss and keep serving from the
 * repository. Reads populate with put_if_absent, writes overwrite with put
 * or mark_deleted, so a reader that raced a writer can never put back an
 * older version than the writer's.
 */
struct product_cache_ops {
	/* 0 and *out on a hit; *gone set when the product is known deleted
	 * (then out is untouched); SHOP_ENOTFOUND on a miss. */
	int (*get)(void *self, struct arena *a, const char *id,
	           struct product *out, bool *gone);
	/* Stores p unless an entry for its id exists (read path). */
	int (*put_if_absent)(void *self, const struct product *p);
	/* Stores p, replacing any entry (write path). */
	int (*put)(void *self, const struct product *p);
	/* Replaces any entry for id with a deletion marker (write path). */
	int (*mark_deleted)(void *self, const char *id);
	/* Category list: get (SHOP_ENOTFOUND on miss), put, invalidate. */
	int (*get_categories)(void *self, struct arena *a,
	                      struct category_list *out);
	int (*put_categories)(void *self, const struct category_list *l);
	int (*invalidate_categories)(void *self);
};

struct product_cache {
	const struct product_cache_ops *ops;
	void *self;
};

#endif
