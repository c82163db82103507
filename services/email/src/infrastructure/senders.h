#ifndef EMAIL_INFRA_SENDERS_H
#define EMAIL_INFRA_SENDERS_H

#include "../core/delivery.h"
#include "smtp_transport.h"

/*
 * The sender threads: each owns a PostgreSQL connection and a libcurl
 * SMTP handle kept connected between messages, and runs
 * delivery_run_once() until nothing is due. One more thread, the
 * listener, LISTENs on EMAIL_QUEUED_CHANNEL on a connection of its own
 * and wakes one waiting sender per NOTIFY (one per commit that queued
 * mail), so that a message costs one claim rather than one per sender;
 * each sender also wakes on its own every poll_ms, which picks up retries
 * as they fall due and carries on while the listener is disconnected.
 * Connections are opened with backoff (100 ms doubling to 5 s) and
 * reopened when they break, each transition logged once.
 *
 * Metrics: emails_sent_total, email_send_failures_total (failed
 * attempts), emails_failed_total (given up after the last attempt),
 * email_queue_depth (queued messages, refreshed about every second by
 * the first sender), email_senders_connected.
 */
struct email_senders_options {
	const char *conninfo;     /* email_db; copied, never logged */
	const char *db_name;      /* for log lines; copied */
	int senders;              /* threads, >= 1 */
	int poll_ms;              /* wake-up without NOTIFY; 0 means 1000 */
	struct smtp_options smtp; /* url borrowed: outlives the senders */
	const struct email_sender *from; /* borrowed */
	int max_attempts;
};

struct email_senders;

/*
 * Starts the threads; neither the database nor the SMTP server needs to
 * be up yet. Returns 0 and *out (caller frees with email_senders_free()),
 * SHOP_EINVAL for a bad option, SHOP_ENOMEM, or SHOP_ERR when a thread
 * could not be started (logged).
 */
int email_senders_start(const struct email_senders_options *opt,
                        struct email_senders **out);

/*
 * Stops the threads: each finishes the message in hand (bounded by the
 * SMTP timeout) and records it, then closes its connections. Accepts
 * NULL.
 */
void email_senders_free(struct email_senders *s);

#endif
