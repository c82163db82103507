#ifndef PAYMENT_INFRA_ORDER_CREATED_CONSUMER_H
#define PAYMENT_INFRA_ORDER_CREATED_CONSUMER_H

#include "shop/consumer.h"
#include "../core/payments.h"

/*
 * The handler of the queue payment.order-created (shop/consumer.h): reads
 * the order.created data (shared/events/order.created.schema.json) it
 * needs — order_id and user_id (UUIDs), total_cents (an integer >= 0),
 * currency (three letters A-Z) and payment_token (a non-empty string);
 * other members are not looked at — and charges the order once with
 * payments_charge() inside the consumer's transaction on c, passing the
 * event's correlation id and traceparent on to the payment's event.
 *
 * arg is the daemon's struct payments (borrowed). Returns 0 (also for an
 * order already paid: nothing more happens), SHOP_EINVAL for data it can
 * never handle (logged with the event id and why; the consumer
 * dead-letters it), or a transient error (the consumer retries).
 */
int order_created_handle(void *arg, struct db_conn *c,
                         const struct consumer_event *ev);

#endif
