#ifndef CART_INFRA_ORDER_CREATED_H
#define CART_INFRA_ORDER_CREATED_H

#include "shop/consumer.h"
#include "../core/carts.h"

/*
 * The consumer of cart.order-created: each order.created takes what the
 * order took out of its user's cart (carts_on_order_created()), in the
 * consumer's transaction. Returns 0 and *out, or an error of
 * consumer_start() (logged).
 */
struct order_created;

int order_created_start(const char *amqp_url, struct db_pool *pool,
                        struct carts *carts, int prefetch,
                        struct order_created **out);
bool order_created_connected(const struct order_created *o);
void order_created_free(struct order_created *o);

#endif
