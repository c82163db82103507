#ifndef EMAIL_CORE_DELIVERY_H
#define EMAIL_CORE_DELIVERY_H

#include <stddef.h>

#include "ports.h"
#include "../domain/mime.h"

/*
 * Sending queued messages: a sender thread calls delivery_run_once() on
 * its own queue connection and transport until nothing is due. Each call
 * claims one message (counting the attempt and leasing it), builds its
 * RFC 5322 bytes, hands them to SMTP and records the outcome: sent; or
 * retried after a backoff (email_after_failure()); or failed for good
 * once max_attempts attempts failed.
 *
 * Delivery is at least once: a sender that dies between the server's
 * acceptance and finish() leaves the message leased; once the lease runs
 * out another sender sends it again, with the same Message-ID.
 */
struct delivery {
	struct mail_transport transport;
	struct email_clock clock;
	const struct email_sender *from; /* borrowed */
	int max_attempts;                /* >= 1 */
	int lease_ms;                    /* > the transport's total timeout */
};

enum delivery_outcome {
	DELIVERY_IDLE,   /* nothing was due */
	DELIVERY_SENT,   /* the server accepted it */
	DELIVERY_RETRY,  /* the send failed; due again later */
	DELIVERY_FAILED, /* the send failed for the last time */
};

/*
 * One claim-send-record turn with q (borrowed for the call) and a's memory
 * (reset by the caller between calls). Returns 0 and *outcome, with the
 * transport's reason in why (cap bytes) for RETRY and FAILED; or the
 * queue's error (the claimed message, if any, is taken again once its
 * lease runs out); or SHOP_ENOMEM.
 */
int delivery_run_once(const struct delivery *d, struct email_queue q,
                      struct arena *a, enum delivery_outcome *outcome,
                      char *why, size_t cap);

#endif
