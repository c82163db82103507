#include "order_created_consumer.h"

#include <stdio.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"
#include "pg_payment_repo.h"

/* Reads the members of data the charge needs; why names the bad one. */
static int read_order(json_t *data, struct payment_order *o, char *why,
                      size_t cap)
{
	static const char *const strings[] = {"order_id", "user_id", "currency",
	                                      "payment_token"};
	const char *vals[4];
	json_t *total;

	if (!json_is_object(data)) {
		snprintf(why, cap, "'data' must be an object");
		return SHOP_EINVAL;
	}
	for (size_t i = 0; i < 4; i++) {
		json_t *v = json_object_get(data, strings[i]);

		if (!json_is_string(v)) {
			snprintf(why, cap, "'data.%s' %s", strings[i],
			         v ? "must be a string" : "is missing");
			return SHOP_EINVAL;
		}
		vals[i] = json_string_value(v);
		if (strlen(vals[i]) != json_string_length(v)) {
			snprintf(why, cap, "'data.%s' holds a NUL byte",
			         strings[i]);
			return SHOP_EINVAL;
		}
	}
	total = json_object_get(data, "total_cents");
	if (!json_is_integer(total)) {
		snprintf(why, cap, "'data.total_cents' %s",
		         total ? "must be an integer" : "is missing");
		return SHOP_EINVAL;
	}
	o->order_id = vals[0];
	o->user_id = vals[1];
	o->currency = vals[2];
	o->payment_token = vals[3];
	o->amount_cents = (long long)json_integer_value(total);
	return 0;
}

static bool event_cancelled(void *arg)
{
	return consumer_cancelled(arg);
}

int order_created_handle(void *arg, struct db_conn *c,
                         const struct consumer_event *ev)
{
	struct payments *payments = arg;
	struct payment_order o;
	struct pg_payment_tx state;
	struct payment pay;
	struct payment_trace t = {.correlation_id = ev->correlation_id,
	                          .traceparent = ev->traceparent};
	struct charge_cancel cancel = {.cancelled = event_cancelled,
	                               .arg = (void *)ev};
	bool duplicate = false;
	char why[160];
	int rc;

	rc = read_order(ev->data, &o, why, sizeof(why));
	if (rc == 0)
		rc = payments_charge(payments, pg_payment_tx_init(&state, c),
		                     &o, &t, &cancel, &pay, &duplicate, why,
		                     sizeof(why));
	if (rc == SHOP_EINVAL) {
		slog_kv(SLOG_WARN, ev->correlation_id,
		        "order.created refused: dead-lettered",
		        SLOG_S("event_id", ev->event_id),
		        SLOG_S("queue", ev->queue), SLOG_S("reason", why));
		return rc;
	}
	if (rc)
		return rc;
	if (duplicate)
		slog_kv(SLOG_INFO, ev->correlation_id,
		        "order already has a payment: nothing to do",
		        SLOG_S("event_id", ev->event_id),
		        SLOG_S("order_id", pay.order_id),
		        SLOG_S("payment_id", pay.id));
	else
		slog_kv(SLOG_INFO, ev->correlation_id, "order charged",
		        SLOG_S("event_id", ev->event_id),
		        SLOG_S("order_id", pay.order_id),
		        SLOG_S("payment_id", pay.id),
		        SLOG_S("status", payment_status_name(pay.status)),
		        SLOG_S("failure_reason", pay.failure_reason[0]
		                                         ? pay.failure_reason
		                                         : NULL),
		        SLOG_I("amount_cents", pay.amount_cents),
		        SLOG_S("currency", pay.currency));
	return 0;
}
