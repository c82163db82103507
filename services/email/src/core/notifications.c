#include "notifications.h"

#include <stdio.h>

#include "shop/error.h"
#include "../domain/render.h"

void notifications_init(struct notifications *n, struct email_store store,
                        const char *message_id_domain)
{
	n->store = store;
	n->message_id_domain = message_id_domain;
}

int notifications_handle(const struct notifications *n, void *tx,
                         const char *event_id, const struct email_event_data *d,
                         bool *stored, char *why, size_t cap)
{
	struct email_content content = {0};
	char message_id[EMAIL_MESSAGE_ID_MAX + 1];
	int rc;

	if (email_event_validate(d, why, cap) < 0)
		return SHOP_EINVAL;
	if (email_message_id(event_id, d->kind, n->message_id_domain,
	                     message_id, sizeof(message_id)) < 0) {
		snprintf(why, cap, "'event_id' must be a UUID");
		return SHOP_EINVAL;
	}
	if (email_render(d, &content) < 0)
		return SHOP_ENOMEM;
	struct email_record r = {
	        .event_id = event_id,
	        .kind = d->kind,
	        .user_id = d->user_id,
	        .to = d->to,
	        .order_id = d->kind == EMAIL_WELCOME ? NULL : d->order_id,
	        .subject = content.subject,
	        .text = content.text,
	        .message_id = message_id,
	};
	rc = n->store.ops->insert(n->store.self, tx, &r);
	if (rc >= 0) {
		*stored = rc == 0;
		rc = 0;
	}
	email_content_release(&content);
	return rc;
}
