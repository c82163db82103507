#ifndef PAYMENT_CORE_PAYMENTS_H
#define PAYMENT_CORE_PAYMENTS_H

#include "ports.h"

/*
 * The payment's use cases: charging an order once (the order.created
 * consumer calls it), and reading payments (the HTTP API). Each answers 0
 * or a negative shop_err.
 */

struct payments {
	struct payment_repo repo;
	struct payment_processor processor;
};

/* The ports are borrowed: they must outlive p. */
void payments_init(struct payments *p, struct payment_repo repo,
                   struct payment_processor processor);

/*
 * Charges order o once, inside tx: when the order has a payment already,
 * nothing more happens (no second charge, no second event) and
 * *duplicate is true; otherwise the provider is asked, the payment
 * (succeeded or declined) is stored with a new id, and its
 * payment.completed or payment.failed event goes into the outbox with t.
 * *out is the order's payment either way. Counts
 * payments_total{status}. Returns 0; SHOP_EINVAL when o is invalid (the
 * reason in why, cap bytes: the event is poison); a transient error of
 * the provider or the store (nothing is stored: retry later).
 */
int payments_charge(struct payments *p, struct payment_tx tx,
                    const struct payment_order *o,
                    const struct payment_trace *t,
                    const struct charge_cancel *cancel, struct payment *out,
                    bool *duplicate, char *why, size_t cap);

/* Who asks: the verified token's subject and whether it is an admin. */
struct payment_viewer {
	const char *user_id; /* a UUID */
	bool is_admin;
};

/*
 * The page q of the payments v may see (admin: every payment; anyone
 * else: their own), newest first, out->items from a. q must be valid
 * (page >= 1, page_size 1..100, order_id NULL or a UUID): SHOP_EINVAL
 * otherwise.
 */
int payments_list(struct payments *p, struct arena *a,
                  const struct payment_viewer *v, const struct payment_query *q,
                  struct payment_page *out);

/*
 * The payment id when v may see it (its owner or an admin).
 * SHOP_ENOTFOUND when there is none, when it is another user's (its
 * existence is not revealed), or when id is not a UUID.
 */
int payments_get(struct payments *p, const struct payment_viewer *v,
                 const char *id, struct payment *out);

#endif
