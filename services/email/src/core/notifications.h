#ifndef EMAIL_CORE_NOTIFICATIONS_H
#define EMAIL_CORE_NOTIFICATIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "ports.h"

/*
 * Turning an event into a queued message: the consumer's handler decodes
 * the event and calls notifications_handle() inside the consumer's
 * transaction; the senders (core/delivery.h) send it after the commit.
 */
struct notifications {
	struct email_store store;
	const char *message_id_domain; /* borrowed; email_domain_ok() */
};

/* store and domain are borrowed: they must outlive n. */
void notifications_init(struct notifications *n, struct email_store store,
                        const char *message_id_domain);

/*
 * Validates d (email_event_validate()), renders its message
 * (email_render()) with the Message-ID of (event_id, d->kind), and stores
 * it as queued inside tx. Returns 0 with *stored true, or false when the
 * event's message was there already (the same event published twice);
 * SHOP_EINVAL with the reason in why (cap bytes) for an event that can
 * never be mailed (poison); SHOP_ENOMEM; or the store's error.
 */
int notifications_handle(const struct notifications *n, void *tx,
                         const char *event_id, const struct email_event_data *d,
                         bool *stored, char *why, size_t cap);

#endif
