#include "payment_results.h"

#include <stdlib.h>
#include <string.h>

#include "shop/amqp.h"
#include "shop/arena.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

struct payment_results {
	struct orders *orders;
	struct consumer *consumer;
	struct arena *arena; /* the worker's; reset for each event */
};

static int handle(void *arg, struct db_conn *c, const struct consumer_event *ev)
{
	struct payment_results *p = arg;
	json_t *d = ev->data;
	struct order_trace t = {ev->correlation_id, ev->traceparent};
	struct payment_result r = {
	        .order_id = json_string_value(json_object_get(d, "order_id")),
	        .payment_id =
	                json_string_value(json_object_get(d, "payment_id")),
	        .succeeded = strcmp(ev->event_type, "payment.completed") == 0,
	        .reason = json_string_value(json_object_get(d, "reason")),
	};
	bool moved = false;
	int rc;

	arena_reset(p->arena);
	rc = orders_on_payment(p->orders, c, p->arena, &t, &r, &moved);
	if (rc == SHOP_EINVAL)
		slog_kv(SLOG_WARN, ev->correlation_id,
		        "payment result without a valid order_id, payment_id "
		        "or reason",
		        SLOG_S("event_id", ev->event_id),
		        SLOG_S("event_type", ev->event_type));
	return rc;
}

int payment_results_start(const char *amqp_url, struct db_pool *pool,
                          struct orders *orders, int prefetch,
                          struct payment_results **out)
{
	struct payment_results *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if (!p || !(p->arena = arena_new(0))) {
		free(p);
		return SHOP_ENOMEM;
	}
	p->orders = orders;
	struct consumer_options co = {
	        .service = "order",
	        .amqp_url = amqp_url,
	        .queue = amqp_topology_queue("order.payment-results"),
	        .pool = pool,
	        .handle = handle,
	        .arg = p,
	        .prefetch = prefetch,
	        .shutdown_timeout_ms = 3000,
	};
	rc = consumer_start(&co, &p->consumer);
	if (rc) {
		arena_free(p->arena);
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

bool payment_results_connected(const struct payment_results *p)
{
	return p && consumer_connected(p->consumer);
}

void payment_results_free(struct payment_results *p)
{
	if (!p)
		return;
	consumer_free(p->consumer);
	arena_free(p->arena);
	free(p);
}

static void new_uuid(void *self, char out[37])
{
	(void)self;
	shop_uuid_v4(out);
}

static const struct id_source_ops uuid_ops = {.new_id = new_uuid};

struct id_source uuid_id_source(void)
{
	return (struct id_source){&uuid_ops, NULL};
}
