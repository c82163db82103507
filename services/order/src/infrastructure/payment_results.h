#ifndef ORDER_INFRA_PAYMENT_RESULTS_H
#define ORDER_INFRA_PAYMENT_RESULTS_H

#include "shop/consumer.h"
#include "../core/orders.h"

/*
 * The consumers of order.payment-results (payment.completed,
 * payment.failed): a group of n competing consumers of the queue (1 to
 * PAYMENT_RESULTS_MAX, shop/consumer.h), so that several orders move at
 * once. Each event moves its order in the consumer's
 * transaction (orders_on_payment()), which also writes order.confirmed or
 * order.failed to the outbox; the order's row lock serializes two results
 * of one order. Returns 0 and *out, SHOP_EINVAL for n out of range, or an
 * error of consumer_start() (logged).
 */
#define PAYMENT_RESULTS_MAX CONSUMER_GROUP_MAX

struct payment_results;

int payment_results_start(const char *amqp_url, struct db_pool *pool,
                          struct orders *orders, int prefetch, int n,
                          struct payment_results **out);
/* True while every consumer is connected. */
bool payment_results_connected(const struct payment_results *p);
void payment_results_free(struct payment_results *p);

/* Fresh random (version 4) order ids. */
struct id_source uuid_id_source(void);

#endif
