#include "payment_results.h"

#include <stdlib.h>
#include <string.h>

#include "shop/amqp.h"
#include "shop/arena.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

/* One consumer of the queue, with its worker's arena. */
struct slot {
	struct orders *orders;
	struct consumer *consumer;
	struct arena *arena; /* reset for each event */
};

struct payment_results {
	struct slot slots[PAYMENT_RESULTS_MAX];
	int n;
};

static int handle(void *arg, struct db_conn *c, const struct consumer_event *ev)
{
	struct slot *p = arg;
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
                          struct orders *orders, int prefetch, int n,
                          struct payment_results **out)
{
	struct payment_results *p;
	int rc = 0;

	*out = NULL;
	if (n < 1 || n > PAYMENT_RESULTS_MAX)
		return SHOP_EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return SHOP_ENOMEM;
	for (; p->n < n; p->n++) {
		struct slot *s = &p->slots[p->n];
		struct consumer_options co = {
		        .service = "order",
		        .amqp_url = amqp_url,
		        .queue = amqp_topology_queue("order.payment-results"),
		        .pool = pool,
		        .handle = handle,
		        .arg = s,
		        .prefetch = prefetch,
		        .shutdown_timeout_ms = 3000,
		};
		s->orders = orders;
		s->arena = arena_new(0);
		rc = s->arena ? consumer_start(&co, &s->consumer) : SHOP_ENOMEM;
		if (rc) {
			arena_free(s->arena);
			payment_results_free(p);
			return rc;
		}
	}
	*out = p;
	return 0;
}

bool payment_results_connected(const struct payment_results *p)
{
	if (!p)
		return false;
	for (int i = 0; i < p->n; i++)
		if (!consumer_connected(p->slots[i].consumer))
			return false;
	return true;
}

void payment_results_free(struct payment_results *p)
{
	if (!p)
		return;
	while (p->n > 0) {
		struct slot *s = &p->slots[--p->n];
		consumer_free(s->consumer);
		arena_free(s->arena);
	}
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
