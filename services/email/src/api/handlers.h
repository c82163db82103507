#ifndef EMAIL_API_HANDLERS_H
#define EMAIL_API_HANDLERS_H

#include <stddef.h>

#include "shop/consumer.h"
#include "shop/http.h"
#include "../core/emails.h"
#include "../core/notifications.h"

/* What the handlers are given (req->app, the consumer's arg); borrowed. */
struct email_app {
	const struct notifications *notifications;
	struct email_reader reader;
};

/* GET /api/emails (token required). */
extern const struct http_route email_routes[];
extern const size_t email_nroutes;

/*
 * The consumer handler of email.notifications (a consumer_handle_fn, arg
 * a struct email_app): decodes the event, queues its message in the
 * consumer's transaction. An event that can never become a message is
 * logged and answered SHOP_EINVAL (dead-lettered).
 */
int email_event_handle(void *arg, struct db_conn *c,
                       const struct consumer_event *ev);

#endif
