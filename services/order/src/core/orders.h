#ifndef ORDER_CORE_ORDERS_H
#define ORDER_CORE_ORDERS_H

#include "ports.h"

/*
 * The order service's use cases (ARCHITECTURE.md "The order saga", API.md
 * "Orders"). Each answers 0 or a negative shop_err: SHOP_EINVAL (field
 * errors added to errs), SHOP_ENOTFOUND, SHOP_ECONFLICT (stock, with a
 * stock_conflict), the codes below, SHOP_EUNAVAIL / SHOP_ETIMEDOUT (a
 * dependency is down), SHOP_ERR.
 */

/* The cart is empty: nothing to order (422). */
#define ORDER_EEMPTY (-100)
/* The Idempotency-Key was used before with another request (422). */
#define ORDER_EKEYREUSED (-101)
/* The cart service cannot be reached (503). */
#define ORDER_ECART (-102)
/* The product service cannot be reached (503). */
#define ORDER_ESTOCK (-103)

struct orders {
	struct order_repo repo;
	struct cart_source cart;
	struct stock stock;
	struct id_source ids;
};

/* Borrowed ports: they must outlive o. */
void orders_init(struct orders *o, struct order_repo repo,
                 struct cart_source cart, struct stock stock,
                 struct id_source ids);

/* Who asks: the verified token's subject and claims. */
struct order_caller {
	const char *user_id; /* a UUID */
	const char *email;
	bool admin;
};

/*
 * POST /api/orders: reads the caller's cart, reserves its stock (the
 * product service's prices are the order's), then stores the order and
 * its order.created event in one transaction. With an idempotency key
 * (validated by the caller), the caller's earlier order under that key
 * is answered again (*replayed true) when fingerprint (the request,
 * canonical) is the same, ORDER_EKEYREUSED when not. A reservation whose
 * order could not be stored is given back.
 */
int orders_place(struct orders *o, struct arena *a, const struct order_trace *t,
                 const struct order_caller *who, const char *key,
                 const char *fingerprint, const struct order_request *req,
                 struct field_errors *errs, struct order *out, bool *replayed,
                 struct stock_conflict *cf);

/* GET /api/orders/{id}: the caller's (any for an admin); another user's
 * or a malformed id is SHOP_ENOTFOUND. */
int orders_get(struct orders *o, struct arena *a,
               const struct order_caller *who, const char *id,
               struct order *out);

/* GET /api/orders: the caller's, newest first (page >= 1, page_size 1 to
 * 100, checked by the caller). */
int orders_list(struct orders *o, struct arena *a,
                const struct order_caller *who, long page, long page_size,
                struct order_page *out);

/*
 * A payment.completed / payment.failed event, inside the consumer's
 * transaction tx: the pending order moves to confirmed or failed and
 * publishes order.confirmed / order.failed; an order already moved is
 * left alone (a duplicate or late event, *moved false). An event for no
 * known order is logged and dropped (0). SHOP_EINVAL (poison) for
 * malformed ids.
 */
int orders_on_payment(struct orders *o, void *tx, struct arena *a,
                      const struct order_trace *t,
                      const struct payment_result *p, bool *moved);

#endif
