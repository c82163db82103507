#ifndef ORDER_INFRA_PG_ORDER_REPO_H
#define ORDER_INFRA_PG_ORDER_REPO_H

#include "shop/db.h"
#include "../core/ports.h"

/*
 * The order store on PostgreSQL (migrations/001_orders.sql), writing its
 * events through the shared outbox (outbox_add() in the same
 * transaction). A `tx` given to apply_payment is a struct db_conn *
 * inside the caller's transaction. Registers its statements on the pool
 * (outbox_prepare() too); NULL ops when out of memory or a statement does
 * not prepare. Free with pg_order_repo_free().
 */
struct order_repo pg_order_repo_new(struct db_pool *pool);
void pg_order_repo_free(struct order_repo repo);

#endif
