#ifndef PAYMENT_INFRA_PG_PAYMENT_REPO_H
#define PAYMENT_INFRA_PG_PAYMENT_REPO_H

#include "shop/db.h"
#include "../core/ports.h"

/*
 * The payments in PostgreSQL (migrations/001_payments.sql), through the
 * shared pool: reads (core's payment_repo) on pooled connections, and the
 * writes of one charge (core's payment_tx) on the connection of the
 * consumer's transaction, the outbox row included (shop/outbox.h).
 */

/*
 * Registers the statements of both on the pool (before db_pool_start(),
 * after the migrations) and returns a repo whose self is heap-allocated
 * (free with pg_payment_repo_free), or a repo with NULL ops when out of
 * memory or a statement does not prepare. The pool is borrowed and must
 * outlive the repo.
 */
struct payment_repo pg_payment_repo_new(struct db_pool *pool);

/* Accepts a repo with NULL self. */
void pg_payment_repo_free(struct payment_repo repo);

/* The state of one transaction's payment_tx: caller-owned, e.g. on the
 * stack, for as long as the transaction. */
struct pg_payment_tx {
	struct db_conn *conn; /* borrowed: inside a transaction */
};

/*
 * The writes of a charge on conn, which must be inside a transaction the
 * caller commits; the statements must have been registered by
 * pg_payment_repo_new() on conn's pool. Fills *state and returns the port
 * (borrowing state).
 */
struct payment_tx pg_payment_tx_init(struct pg_payment_tx *state,
                                     struct db_conn *conn);

#endif
