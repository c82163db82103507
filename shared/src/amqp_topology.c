#include "shop/amqp.h"

#include <string.h>

/*
 * The queues of EVENTS.md and their bindings on shop.events: the one table
 * amqp_topology_declare() (producers) and the consumers declare from, kept
 * identical to infrastructure/rabbitmq/definitions.json.
 */
const struct amqp_queue_def amqp_topology_queues[] = {
        {"payment.order-created", {"order.created", NULL}},
        {"cart.order-created", {"order.created", NULL}},
        {"order.payment-results",
         {"payment.completed", "payment.failed", NULL}},
        {"email.notifications",
         {"user.registered", "order.confirmed", "order.failed", NULL}},
        {"product.order-results", {"order.confirmed", "order.failed", NULL}},
};

const size_t amqp_topology_nqueues =
        sizeof(amqp_topology_queues) / sizeof(amqp_topology_queues[0]);

const struct amqp_queue_def *amqp_topology_queue(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < amqp_topology_nqueues; i++)
		if (strcmp(amqp_topology_queues[i].name, name) == 0)
			return &amqp_topology_queues[i];
	return NULL;
}
