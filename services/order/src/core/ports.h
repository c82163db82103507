#ifndef ORDER_CORE_PORTS_H
#define ORDER_CORE_PORTS_H

#include <stdbool.h>

#include "shop/arena.h"
#include "../domain/order.h"

/*
 * What the order service's use cases need from the outside world: the
 * caller's cart (cart service), stock reservations (product service), and
 * the order store with its outbox (PostgreSQL). The infrastructure layer
 * implements them with libcurl and libpq; the unit tests with fakes.
 * Strings a slot returns are allocated from the arena it is given. Every
 * slot returns 0 or a negative shop_err: SHOP_EUNAVAIL / SHOP_ETIMEDOUT
 * when the other side is down, SHOP_ERR otherwise.
 */

/* The request's trace, passed on to every call and event. */
struct order_trace {
	const char *request_id;  /* NULL when none */
	const char *traceparent; /* NULL when none */
};

/* One line of the caller's cart. */
struct cart_line {
	char product_id[37];
	const char *name;
	long long quantity;
};

struct cart_snapshot {
	struct cart_line *lines;
	size_t n;
};

struct cart_source_ops {
	/* The user's cart (empty when there is none). */
	int (*get)(void *self, struct arena *a, const struct order_trace *t,
	           const char *user_id, struct cart_snapshot *out);
};

struct cart_source {
	const struct cart_source_ops *ops;
	void *self;
};

/* Why the product service refused a reservation. */
enum stock_refusal {
	STOCK_INSUFFICIENT, /* product_id has only `available` left */
	STOCK_UNKNOWN,      /* product_id is no longer sold */
	STOCK_OTHER,        /* mixed currencies, or the order id's hold
	                       was released or holds other lines */
};

struct stock_conflict {
	enum stock_refusal why;
	char product_id[37];
	long long available;
	const char *product_name; /* from the cart; NULL when unknown */
	const char *detail;       /* the product service's words; may be NULL */
};

/* A reservation as the product service answered it: authoritative
 * names and prices. */
struct stock_reservation {
	struct order_item *items;
	size_t n;
	char currency[4];
};

struct stock_ops {
	/* Reserves every line of cart for order_id, or nothing. 0 with
	 * *out; SHOP_ECONFLICT with *cf. Idempotent by order_id. */
	int (*reserve)(void *self, struct arena *a, const struct order_trace *t,
	               const char *order_id, const struct cart_snapshot *cart,
	               struct stock_reservation *out,
	               struct stock_conflict *cf);
	/* Gives the order's hold back (the order could not be stored). */
	int (*cancel)(void *self, const struct order_trace *t,
	              const char *order_id);
};

struct stock {
	const struct stock_ops *ops;
	void *self;
};

/* The payment result an event reports. */
struct payment_result {
	const char *order_id;
	const char *payment_id;
	bool succeeded;
	const char *reason; /* payment.failed's; NULL otherwise */
};

struct order_repo_ops {
	/* The user's order stored under an Idempotency-Key, with the
	 * fingerprint of the request that made it; SHOP_ENOTFOUND. */
	int (*find_by_key)(void *self, struct arena *a, const char *user_id,
	                   const char *key, struct order *out,
	                   const char **fingerprint);
	/* In one transaction: the order (pending, its first history entry),
	 * its items, and an order.created outbox row carrying
	 * payment_token. key and fingerprint may be NULL. SHOP_ECONFLICT
	 * when the user's key is taken (a concurrent twin won). On success
	 * o's created_at / updated_at / history are set as stored. */
	int (*create)(void *self, struct arena *a, struct order *o,
	              const char *key, const char *fingerprint,
	              const char *payment_token, const struct order_trace *t);
	/* SHOP_ENOTFOUND. */
	int (*get)(void *self, struct arena *a, const char *id,
	           struct order *out);
	/* The user's orders, newest first. */
	int (*list)(void *self, struct arena *a, const char *user_id, long page,
	            long page_size, struct order_page *out);
	/* Inside the caller's transaction tx (an event consumer's): moves
	 * the order to `to` if it is pending (order_can_move), records the
	 * payment and the history entry, and adds order.confirmed or
	 * order.failed to the outbox. *moved false (and nothing written)
	 * when the order was not pending; SHOP_ENOTFOUND when there is no
	 * such order. */
	int (*apply_payment)(void *self, void *tx, struct arena *a,
	                     const struct payment_result *p,
	                     enum order_status to, const struct order_trace *t,
	                     bool *moved);
};

struct order_repo {
	const struct order_repo_ops *ops;
	void *self;
};

/* Fresh order ids (a port so that tests can pick them). */
struct id_source_ops {
	void (*new_id)(void *self, char out[37]);
};

struct id_source {
	const struct id_source_ops *ops;
	void *self;
};

#endif
