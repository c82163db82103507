#ifndef PAYMENT_CORE_PORTS_H
#define PAYMENT_CORE_PORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "shop/arena.h"
#include "../domain/payment.h"

/*
 * What the payment's use cases need from the outside world: the payment
 * provider (infrastructure/mock_processor, "the provider" of API.md), the
 * payments in PostgreSQL, read through the pool (infrastructure/
 * pg_payment_repo) or written inside the consumer's transaction together
 * with the outbox row (the same file's pg_payment_tx); in-memory fakes in
 * the unit tests (tests/fake_payment.h). Strings a slot takes are borrowed
 * for the call. Every slot returns 0 or a negative shop_err: SHOP_EUNAVAIL
 * / SHOP_ETIMEDOUT when what is behind it is down or too slow,
 * SHOP_ENOMEM, SHOP_ERR otherwise, plus the codes each slot lists.
 */

/* Where the event that caused a write came from, passed on to the event
 * the write publishes. Either may be NULL. */
struct payment_trace {
	const char *correlation_id;
	const char *traceparent;
};

/* Lets a slow call give up: cancelled(arg) turns true once the caller no
 * longer wants the answer (the consumer is shutting down). */
struct charge_cancel {
	bool (*cancelled)(void *arg);
	void *arg;
};

/* What the provider answered. */
struct charge_result {
	bool succeeded;
	char provider_ref[PAYMENT_PROVIDER_REF_MAX]; /* when succeeded */
	char reason[PAYMENT_REASON_MAX];             /* when declined */
};

struct payment_processor_ops {
	/*
	 * Charges o->amount_cents of o->currency to o->payment_token (o is
	 * validated). Returns 0 with *out: succeeded with a non-empty
	 * provider_ref, or declined with a non-empty reason (a decline is
	 * an answer, not an error). SHOP_EUNAVAIL / SHOP_ETIMEDOUT when the
	 * provider cannot answer or cancel said to give up (nothing was
	 * charged; the caller retries later).
	 */
	int (*charge)(void *self, const struct payment_order *o,
	              const struct charge_cancel *cancel,
	              struct charge_result *out);
};

struct payment_processor {
	const struct payment_processor_ops *ops;
	void *self;
};

/*
 * The writes of one charge, inside one transaction that the caller (the
 * consumer) commits or rolls back: all of them or none take effect.
 */
struct payment_tx_ops {
	/*
	 * Waits for any other transaction charging order_id to end, holds
	 * that turn until this transaction ends (so two replicas handed two
	 * events of one order never both charge it), then looks up the
	 * order's payment: *found, and *existing when found.
	 */
	int (*lock_order)(void *self, const char *order_id, bool *found,
	                  struct payment *existing);
	/*
	 * Stores p (its id, order, amounts, status, reason or reference)
	 * and sets p->created_at. SHOP_ECONFLICT when the order has a
	 * payment already (one per order: a unique constraint); nothing is
	 * written then and the transaction stays usable.
	 */
	int (*insert)(void *self, struct payment *p);
	/*
	 * Adds the event of p to the outbox: payment.completed when it
	 * succeeded, payment.failed when declined (EVENTS.md), with t's
	 * correlation id and traceparent.
	 */
	int (*publish)(void *self, const struct payment *p,
	               const struct payment_trace *t);
};

struct payment_tx {
	const struct payment_tx_ops *ops;
	void *self;
};

struct payment_repo_ops {
	/*
	 * The page q of the payments of user_id (a lower-case UUID), or of
	 * every user when user_id is NULL, filtered by q->order_id when not
	 * NULL: newest first, out->items from the arena, out->total the
	 * number of matching payments on every page.
	 */
	int (*list)(void *self, struct arena *a, const char *user_id,
	            const struct payment_query *q, struct payment_page *out);
	/* The payment `id` (a lower-case UUID). SHOP_ENOTFOUND when none. */
	int (*get)(void *self, const char *id, struct payment *out);
};

struct payment_repo {
	const struct payment_repo_ops *ops;
	void *self;
};

#endif
