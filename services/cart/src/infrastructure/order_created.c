#include "order_created.h"

#include <stdlib.h>

#include "shop/amqp.h"
#include "shop/arena.h"
#include "shop/error.h"
#include "shop/log.h"

struct order_created {
	struct consumer_group *group;
};

static int handle(void *arg, struct db_conn *c, const struct consumer_event *ev)
{
	struct carts *carts = arg;
	json_t *items = json_object_get(ev->data, "items"), *it;
	const char *user =
	        json_string_value(json_object_get(ev->data, "user_id"));
	struct cart_ordered_line *lines;
	size_t i, n = json_array_size(items);
	int changed = 0, rc;

	lines = arena_calloc(ev->arena, n + 1, sizeof(*lines));
	if (!lines)
		return SHOP_ENOMEM;
	if (!json_is_array(items))
		goto poison;
	json_array_foreach(items, i, it)
	{
		json_t *q = json_object_get(it, "quantity");
		if (!json_is_integer(q))
			goto poison;
		lines[i].product_id =
		        json_string_value(json_object_get(it, "product_id"));
		lines[i].quantity = (long long)json_integer_value(q);
	}
	rc = carts_on_order_created(carts, c, ev->arena, user, lines, n,
	                            &changed);
	if (rc == SHOP_EINVAL)
		goto poison;
	if (rc == 0)
		slog_kv(SLOG_DEBUG, ev->correlation_id,
		        "the order's lines left the cart",
		        SLOG_S("event_id", ev->event_id),
		        SLOG_I("lines", changed));
	return rc;
poison:
	slog_kv(SLOG_WARN, ev->correlation_id,
	        "order.created without a valid user_id or items",
	        SLOG_S("event_id", ev->event_id));
	return SHOP_EINVAL;
}

int order_created_start(const char *amqp_url, struct db_pool *pool,
                        struct carts *carts, int prefetch, int n,
                        struct order_created **out)
{
	struct order_created *o = calloc(1, sizeof(*o));
	struct consumer_options co = {
	        .service = "cart",
	        .amqp_url = amqp_url,
	        .queue = amqp_topology_queue("cart.order-created"),
	        .pool = pool,
	        .handle = handle,
	        .arg = carts,
	        .prefetch = prefetch,
	        .shutdown_timeout_ms = 3000,
	};
	int rc;

	*out = NULL;
	if (!o)
		return SHOP_ENOMEM;
	rc = consumer_group_start(&co, n, &o->group);
	if (rc) {
		free(o);
		return rc;
	}
	*out = o;
	return 0;
}

bool order_created_connected(const struct order_created *o)
{
	return o && consumer_group_connected(o->group);
}

void order_created_free(struct order_created *o)
{
	if (!o)
		return;
	consumer_group_free(o->group);
	free(o);
}
