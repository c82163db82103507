#ifndef PRODUCT_CORE_CATALOG_H
#define PRODUCT_CORE_CATALOG_H

#include "ports.h"

/*
 * The catalog's use cases. Each takes the request's arena for what it
 * returns and answers 0 or a negative shop_err:
 * SHOP_EINVAL (field errors added to errs), SHOP_ENOTFOUND, SHOP_ECONFLICT,
 * SHOP_EUNAVAIL / SHOP_ETIMEDOUT (the database is down), SHOP_ERR.
 */
struct catalog {
	struct product_repo repo;
	struct product_cache cache; /* ops may be NULL: no cache */
};

/* Borrowed ports: they must outlive the catalog. */
void catalog_init(struct catalog *c, struct product_repo repo,
                  struct product_cache cache);

int catalog_list(struct catalog *c, struct arena *a, struct product_query *q,
                 struct field_errors *errs, struct product_page *out);

/* id that is not a UUID is SHOP_ENOTFOUND. */
int catalog_get(struct catalog *c, struct arena *a, const char *id,
                struct product *out);

/*
 * The products of ids[0..n-1] (through the caches, like catalog_get):
 * out[i] and found[i] for each; found[i] is false for an id that is no
 * product (not a UUID, unknown or deleted). Fails only when the store
 * does (nothing is partly returned then).
 */
int catalog_get_many(struct catalog *c, struct arena *a, const char *const *ids,
                     size_t n, struct product *out, bool *found);

int catalog_categories(struct catalog *c, struct arena *a,
                       struct category_list *out);

int catalog_create(struct catalog *c, struct arena *a, struct product_fields *f,
                   struct field_errors *errs, struct product *out);

int catalog_patch(struct catalog *c, struct arena *a, const char *id,
                  struct product_fields *f, struct field_errors *errs,
                  struct product *out);

int catalog_delete(struct catalog *c, const char *id);

#endif
