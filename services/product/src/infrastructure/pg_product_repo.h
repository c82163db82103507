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
void pg_product_repo_free(struct product_repo repo);

#endif
