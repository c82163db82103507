#include "payment_results.h"

#include <stdlib.h>
#include <string.h>

#include "shop/amqp.h"
#include "shop/arena.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

struct payment_results {
	struct consumer_group *group;
};

static int handle(void *arg, struct db_conn *c, const struct consumer_event *ev)
{
	struct orders *orders = arg;
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

	rc = orders_on_payment(orders, c, ev->arena, &t, &r, &moved);
	if (rc == SHOP_EINVAL)
		slog_kv(SLOG_WARN, ev->correlation_id,
		        "payment result without a valid order_id, payment_id "
		        "or reason",
		        SLOG_S("event_id", ev->event_id),
		        SLOG_S("event_type", ev->event_type));
	return rc;
}

int payment_results_start(const char *amqp_url, struct db_pool *pool,
                          struct orders *orders, int prefetch, int n,
                          struct payment_results **out)
{
	struct payment_results *p = calloc(1, sizeof(*p));
	struct consumer_options co = {
	        .service = "order",
	        .amqp_url = amqp_url,
	        .queue = amqp_topology_queue("order.payment-results"),
	        .pool = pool,
	        .handle = handle,
	        .arg = orders,
	        .prefetch = prefetch,
	        .shutdown_timeout_ms = 3000,
	};
	int rc;

	*out = NULL;
	if (!p)
		return SHOP_ENOMEM;
	rc = consumer_group_start(&co, n, &p->group);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

bool payment_results_connected(const struct payment_results *p)
{
	return p && consumer_group_connected(p->group);
}

void payment_results_free(struct payment_results *p)
{
	if (!p)
		return;
	consumer_group_free(p->group);
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
