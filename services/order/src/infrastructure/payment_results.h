#ifndef ORDER_INFRA_PAYMENT_RESULTS_H
#define ORDER_INFRA_PAYMENT_RESULTS_H

#include "shop/consumer.h"
#include "../core/orders.h"

/*
 * The consumer of order.payment-results (payment.completed,
 * payment.failed): each event moves its order in the consumer's
 * transaction (orders_on_payment()), which also writes order.confirmed or
 * order.failed to the outbox. Returns 0 and *out, or an error of
 * consumer_start() (logged).
 */
struct payment_results;

int payment_results_start(const char *amqp_url, struct db_pool *pool,
                          struct orders *orders, int prefetch,
                          struct payment_results **out);
bool payment_results_connected(const struct payment_results *p);
void payment_results_free(struct payment_results *p);

/* Fresh random (version 4) order ids. */
struct id_source uuid_id_source(void);

#endif
