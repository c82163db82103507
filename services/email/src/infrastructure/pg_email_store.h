#ifndef EMAIL_INFRA_PG_EMAIL_STORE_H
#define EMAIL_INFRA_PG_EMAIL_STORE_H

#include "shop/db.h"
#include "../core/ports.h"

/* The channel NOTIFYed when a message is queued (at commit). */
#define EMAIL_QUEUED_CHANNEL "email_queued"

/*
 * The messages in email_db (migrations/001_emails.sql) on the daemon's
 * pool: the store the consumer's handler writes through (its `tx` is the
 * consumer's struct db_conn) and the reader GET /api/emails lists with.
 *
 * Registers their statements on pool (call before db_pool_start()).
 * Returns 0 or an error of db_pool_prepare().
 */
int pg_email_store_prepare(struct db_pool *pool);

/* The store port; its insert runs on the transaction's connection. */
struct email_store pg_email_store_new(void);

/* The reader port over pool (borrowed: it must outlive the reader). */
struct email_reader pg_email_reader_new(struct db_pool *pool);

#endif
