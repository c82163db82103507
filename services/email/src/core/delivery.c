#include "delivery.h"

#include <stdio.h>
#include <stdlib.h>

#include "shop/error.h"

int delivery_run_once(const struct delivery *d, struct email_queue q,
                      struct arena *a, enum delivery_outcome *outcome,
                      char *why, size_t cap)
{
	struct email_claimed m;
	enum email_status status;
	long retry_in_ms = 0;
	char *raw = NULL;
	size_t len = 0;
	int rc;

	rc = q.ops->claim(q.self, a, d->lease_ms, &m);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		*outcome = DELIVERY_IDLE;
		return 0;
	}
	struct email_mime mime = {
	        .from = d->from,
	        .to = m.to,
	        .subject = m.subject,
	        .message_id = m.message_id,
	        .date = d->clock.now(d->clock.self),
	        .text = m.text,
	};
	if (email_mime_build(&mime, &raw, &len) < 0)
		return SHOP_ENOMEM;
	if (cap)
		why[0] = '\0';
	rc = d->transport.ops->send(d->transport.self, d->from->address, m.to,
	                            raw, len, why, cap);
	free(raw);
	if (rc == 0) {
		rc = q.ops->finish(q.self, m.id, m.attempt, NULL, EMAIL_SENT,
		                   0);
		if (rc == 0)
			*outcome = DELIVERY_SENT;
		return rc;
	}
	if (cap && !why[0])
		snprintf(why, cap, "%s", shop_strerror(rc));
	status = email_after_failure(m.attempt, d->max_attempts, &retry_in_ms);
	rc = q.ops->finish(q.self, m.id, m.attempt, cap ? why : "send failed",
	                   status, retry_in_ms);
	if (rc == 0)
		*outcome = status == EMAIL_FAILED ? DELIVERY_FAILED
		                                  : DELIVERY_RETRY;
	return rc;
}
