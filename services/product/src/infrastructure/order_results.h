#ifndef PRODUCT_INFRA_ORDER_RESULTS_H
#define PRODUCT_INFRA_ORDER_RESULTS_H

#include "shop/consumer.h"
#include "../core/reservations.h"

/*
 * The product service's side of the saga, on the event backbone:
 *   - a consumer of product.order-results (order.confirmed commits the
 *     order's reservation, order.failed releases it), in the consumer's
 *     transaction (reservations_apply_order_result()); with consumers 0,
 *     none (an instance that only serves the API);
 *   - a sweeper thread that releases the holds past their expiry every
 *     interval_s seconds (any replica may run one: expired holds are taken
 *     with SKIP LOCKED).
 */
#define ORDER_RESULTS_MAX CONSUMER_GROUP_MAX

struct order_results;

struct order_results_options {
	const char *amqp_url;
	struct db_pool *pool;    /* borrowed */
	struct reservations *rs; /* borrowed */
	int prefetch;            /* 0: the consumer's default */
	/* Competing consumers of the queue, 1 to ORDER_RESULTS_MAX: each
	 * handles one event at a time; the reservation's row lock
	 * serializes two outcomes of one order. */
	int consumers;
	int sweep_interval_s; /* 0: no sweeper */
};

/* Starts both. Returns 0 and *out, or an error of consumer_start() (or
 * SHOP_ENOMEM / SHOP_ERR for the sweeper) logged. */
int order_results_start(const struct order_results_options *opt,
                        struct order_results **out);

/* For /ready: every consumer connected. */
bool order_results_connected(const struct order_results *o);

/* Stops the sweeper and the consumer. Accepts NULL. */
void order_results_free(struct order_results *o);

#endif
