#ifndef EMAIL_INFRA_PG_EMAIL_QUEUE_H
#define EMAIL_INFRA_PG_EMAIL_QUEUE_H

#include <libpq-fe.h>

#include "../core/ports.h"

/*
 * The queue port of one sender thread, on that thread's own PostgreSQL
 * connection (the one that LISTENs for new messages). Claims take the
 * oldest due message with FOR UPDATE SKIP LOCKED, so senders (threads and
 * replicas) never take one message at once.
 */
struct pg_email_queue {
	PGconn *pg;          /* borrowed; NULL while disconnected */
	const char *db_name; /* for log lines; borrowed */
};

/* Prepares the queue's statements on pg. Returns 0, SHOP_EUNAVAIL when
 * the connection broke, or SHOP_ERR (logged). */
int pg_email_queue_prepare(PGconn *pg, const char *db_name);

/* The port over q (borrowed: it must outlive the port's use). Its slots
 * return SHOP_EUNAVAIL once the connection is broken: the owner then
 * reconnects. */
struct email_queue pg_email_queue_port(struct pg_email_queue *q);

/* *out = the number of queued messages. Returns 0 or as the slots. */
int pg_email_queue_depth(struct pg_email_queue *q, long long *out);

#endif
