#include "order_results.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "shop/amqp.h"
#include "shop/arena.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"

/* Holds released per sweep statement; a full batch is followed at once. */
#define SWEEP_BATCH 500

struct order_results {
	struct reservations *rs;
	struct consumer_group *group;

	pthread_t sweeper;
	bool sweeping;
	int sweep_interval_s;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	struct metric *expired;
};

static int handle(void *arg, struct db_conn *c, const struct consumer_event *ev)
{
	json_t *id = json_object_get(ev->data, "order_id");
	int rc = reservations_apply_order_result(
	        arg, c, ev->arena, ev->event_type, json_string_value(id));

	if (rc == SHOP_EINVAL)
		slog_kv(SLOG_WARN, ev->correlation_id,
		        "order result without a valid order_id",
		        SLOG_S("event_id", ev->event_id),
		        SLOG_S("event_type", ev->event_type));
	return rc;
}

static void *sweep_main(void *arg)
{
	struct order_results *o = arg;
	struct arena *a = arena_new(0);
	struct timespec until;

	if (!a) {
		slog_error("reservation sweeper: out of memory");
		return NULL;
	}
	pthread_mutex_lock(&o->lock);
	while (!o->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += o->sweep_interval_s;
		while (!o->stop && pthread_cond_timedwait(&o->cond, &o->lock,
		                                          &until) != ETIMEDOUT)
			;
		if (o->stop)
			break;
		pthread_mutex_unlock(&o->lock);
		for (;;) {
			size_t n = 0;
			int rc;

			arena_reset(a);
			rc = reservations_expire(o->rs, a, SWEEP_BATCH, &n);
			if (rc) {
				slog_warn("reservation sweeper: %s (next try "
				          "in %d s)",
				          shop_strerror(rc),
				          o->sweep_interval_s);
				break;
			}
			if (n)
				slog_info("released the stock of %zu "
				          "product line(s) of expired "
				          "reservations",
				          n);
			metric_add(o->expired, (double)n);
			if (n < SWEEP_BATCH)
				break;
		}
		pthread_mutex_lock(&o->lock);
	}
	pthread_mutex_unlock(&o->lock);
	arena_free(a);
	return NULL;
}

int order_results_start(const struct order_results_options *opt,
                        struct order_results **out)
{
	struct order_results *o = calloc(1, sizeof(*o));
	int rc;

	*out = NULL;
	if (!o)
		return SHOP_ENOMEM;
	o->rs = opt->rs;
	o->sweep_interval_s = opt->sweep_interval_s;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	o->expired = metrics_counter(
	        "reservation_lines_expired_total",
	        "Reserved product lines released because their hold expired",
	        NULL);

	struct consumer_options co = {
	        .service = "product",
	        .amqp_url = opt->amqp_url,
	        .queue = amqp_topology_queue("product.order-results"),
	        .pool = opt->pool,
	        .handle = handle,
	        .arg = opt->rs,
	        .prefetch = opt->prefetch,
	        .shutdown_timeout_ms = 3000,
	};
	if (opt->consumers > 0) {
		rc = consumer_group_start(&co, opt->consumers, &o->group);
		if (rc)
			goto fail;
	}
	if (o->sweep_interval_s > 0) {
		if (pthread_create(&o->sweeper, NULL, sweep_main, o)) {
			slog_error("cannot start the reservation sweeper");
			rc = SHOP_ERR;
			goto fail;
		}
		o->sweeping = true;
	}
	*out = o;
	return 0;
fail:
	order_results_free(o);
	return rc;
}

bool order_results_connected(const struct order_results *o)
{
	/* An instance without consumers needs no broker. */
	return o && (!o->group || consumer_group_connected(o->group));
}

void order_results_free(struct order_results *o)
{
	if (!o)
		return;
	if (o->sweeping) {
		pthread_mutex_lock(&o->lock);
		o->stop = true;
		pthread_cond_broadcast(&o->cond);
		pthread_mutex_unlock(&o->lock);
		pthread_join(o->sweeper, NULL);
	}
	consumer_group_free(o->group);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
	free(o);
}
