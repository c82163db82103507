#ifndef PRODUCT_INFRA_PG_RESERVATION_REPO_H
#define PRODUCT_INFRA_PG_RESERVATION_REPO_H

#include "shop/db.h"
#include "../core/ports.h"

/*
 * Stock reservations on PostgreSQL: each operation is one call of a
 * function of migrations/002_reservations.sql. A `tx` given to release or
 * commit is a struct db_conn * inside the caller's transaction.
 * Registers its statements on the pool; NULL ops when out of memory or a
 * statement does not prepare. Free with pg_reservation_repo_free().
 */
struct reservation_repo pg_reservation_repo_new(struct db_pool *pool);
void pg_reservation_repo_free(struct reservation_repo repo);

#endif
