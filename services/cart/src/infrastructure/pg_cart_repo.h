#ifndef CART_INFRA_PG_CART_REPO_H
#define CART_INFRA_PG_CART_REPO_H

#include "shop/db.h"
#include "../core/ports.h"

/*
 * The cart repository on PostgreSQL (libpq through the shared pool), over
 * the tables and functions of migrations/001_carts.sql: every change is one
 * round trip to a function that locks the user's cart row, so one user's
 * changes are serialized and a change answers the cart as it left it.
 * Registers its prepared statements on the pool. Returns a repo whose self
 * is heap-allocated (free with pg_cart_repo_free), or a repo with NULL ops
 * when out of memory or a statement does not prepare. The pool is borrowed
 * and must outlive the repo.
 */
struct cart_repo pg_cart_repo_new(struct db_pool *pool);

/* Accepts a repo with NULL self. */
void pg_cart_repo_free(struct cart_repo repo);

#endif
