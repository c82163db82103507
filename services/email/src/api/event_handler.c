#include "handlers.h"

#include <stdio.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "event_json.h"

static void count_queued(enum email_kind kind)
{
	char labels[48];

	snprintf(labels, sizeof(labels), "kind=\"%s\"", email_kind_name(kind));
	metric_add(metrics_counter("emails_queued_total",
	                           "Emails rendered and queued, by kind",
	                           labels),
	           1);
}

int email_event_handle(void *arg, struct db_conn *c,
                       const struct consumer_event *ev)
{
	const struct email_app *app = arg;
	struct email_event_data d;
	enum email_kind kind;
	char why[300] = "";
	bool stored = false;
	int rc;

	if (email_kind_of_event(ev->event_type, &kind) < 0) {
		snprintf(why, sizeof(why), "no message for event type '%s'",
		         ev->event_type);
		rc = SHOP_EINVAL;
		goto out;
	}
	rc = email_event_from_json(ev->data, kind, &d, why, sizeof(why));
	if (rc == -2)
		return SHOP_ENOMEM;
	if (rc < 0) {
		rc = SHOP_EINVAL;
		goto out;
	}
	rc = notifications_handle(app->notifications, c, ev->event_id, &d,
	                          &stored, why, sizeof(why));
	email_event_json_release(&d);
	if (rc == 0 && stored) {
		count_queued(kind);
		slog_kv(SLOG_DEBUG, ev->correlation_id, "email queued",
		        SLOG_S("event_id", ev->event_id),
		        SLOG_S("kind", email_kind_name(kind)));
	}
out:
	if (rc == SHOP_EINVAL)
		slog_kv(SLOG_WARN, ev->correlation_id,
		        "event refused: it cannot become an email",
		        SLOG_S("event_id", ev->event_id),
		        SLOG_S("event_type", ev->event_type),
		        SLOG_S("reason", why));
	return rc;
}
