#ifndef PRODUCT_INFRA_PG_PRODUCT_REPO_H
#define PRODUCT_INFRA_PG_PRODUCT_REPO_H

#include "shop/db.h"
#include "../core/ports.h"

/*
 * The product repository on PostgreSQL (libpq through the shared pool).
 * Registers its prepared statements on the pool. Returns a repo whose self
 * is heap-allocated (free with pg_product_repo_free), or a repo with NULL
 * ops when out of memory or a statement does not prepare. The pool is
 * borrowed and must outlive the repo.
 */
struct product_repo pg_product_repo_new(struct db_pool *pool);

/* Columns every product query returns (of products, or of a function
 * returning SETOF products), in the order pg_product_from_row() reads. */
#define PG_PRODUCT_COLUMNS                                                     \
	"id::text, sku, name, description, category, price_cents::text, "      \
	"currency::text, image_url, stock::text, "                             \
	"extract(epoch from created_at)::bigint::text, "                       \
	"extract(epoch from updated_at)::bigint::text"
#define PG_PRODUCT_NCOLS 11

/* Reads one product from the PG_PRODUCT_NCOLS columns of row starting at
 * col; strings go to a. Returns 0, SHOP_ERR (not such a row), SHOP_ENOMEM. */
int pg_product_from_row(struct arena *a, const PGresult *r, int row, int col,
                        struct product *p);
void pg_product_repo_free(struct product_repo repo);

#endif
