#ifndef CART_INFRA_ORDER_CREATED_H
#define CART_INFRA_ORDER_CREATED_H

#include "shop/consumer.h"
#include "../core/carts.h"

/*
 * The consumers of cart.order-created: a group of n competing consumers
 * of the queue (1 to ORDER_CREATED_MAX, shop/consumer.h). Each order.created
 * takes what the order took out of its user's cart
 * (carts_on_order_created()), in the consumer's transaction; the cart's
 * row lock serializes two orders of one user. Returns 0 and *out,
 * SHOP_EINVAL for n out of range, or an error of consumer_start()
 * (logged).
 */
#define ORDER_CREATED_MAX CONSUMER_GROUP_MAX

struct order_created;

int order_created_start(const char *amqp_url, struct db_pool *pool,
                        struct carts *carts, int prefetch, int n,
                        struct order_created **out);
/* True while every consumer is connected. */
bool order_created_connected(const struct order_created *o);
void order_created_free(struct order_created *o);

#endif
