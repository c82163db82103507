#ifndef EMAIL_CORE_PORTS_H
#define EMAIL_CORE_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "shop/arena.h"
#include "../domain/message.h"

/*
 * What the email service's use cases need from the outside world: the
 * messages in PostgreSQL (infrastructure/pg_email_store,
 * infrastructure/pg_email_queue), an SMTP server
 * (infrastructure/smtp_transport) and a clock; in-memory fakes in the
 * unit tests (tests/fakes.h). Strings a slot takes are borrowed for the
 * call; strings it returns come from the arena it is given. Every slot
 * returns 0 or a negative shop_err: SHOP_EUNAVAIL / SHOP_ETIMEDOUT when
 * what is behind it is down or too slow, SHOP_ENOMEM, SHOP_ERR otherwise,
 * plus what each slot lists.
 */

/* A rendered message, ready to be stored as queued. */
struct email_record {
	const char *event_id;
	enum email_kind kind;
	const char *user_id;
	const char *to;
	const char *order_id; /* NULL for a welcome */
	const char *subject;
	const char *text;
	const char *message_id;
};

struct email_store_ops {
	/*
	 * Inside the caller's open transaction tx (the consumer's database
	 * connection, borrowed), stores r as queued with 0 attempts, due
	 * now, unless a message of (r->event_id, r->kind) exists already;
	 * the senders are woken when the transaction commits. Returns 0
	 * when stored, 1 when it existed (nothing changed).
	 */
	int (*insert)(void *self, void *tx, const struct email_record *r);
};

struct email_store {
	const struct email_store_ops *ops;
	void *self;
};

/* A message a sender took (email_queue.claim). */
struct email_claimed {
	const char *id;
	const char *to;
	const char *subject;
	const char *text;
	const char *message_id;
	int attempt; /* this attempt's number, 1-based */
};

struct email_queue_ops {
	/*
	 * Takes the oldest due queued message no other sender holds, counts
	 * the attempt (attempts + 1) and leases it for lease_ms: nobody
	 * else takes it before, and if this sender dies it is taken again
	 * after. Returns 0 and *out, or 1 when no message is due.
	 */
	int (*claim)(void *self, struct arena *a, int lease_ms,
	             struct email_claimed *out);
	/*
	 * Records attempt number `attempt` of message id: error NULL for a
	 * message the server accepted (status becomes sent, sent_at now),
	 * else its text; and the message's new status: EMAIL_SENT,
	 * EMAIL_QUEUED (due again in retry_in_ms) or EMAIL_FAILED, in one
	 * transaction. A failure is not recorded over a newer claim of the
	 * message (its lease ran out and another sender took it).
	 */
	int (*finish)(void *self, const char *id, int attempt,
	              const char *error, enum email_status status,
	              long retry_in_ms);
};

struct email_queue {
	const struct email_queue_ops *ops;
	void *self;
};

struct mail_transport_ops {
	/*
	 * Hands the message raw (len bytes, CRLF lines) to the SMTP server
	 * for envelope sender `from` and recipient `to`, within the
	 * transport's timeouts. Returns 0 once the server accepted it, or
	 * SHOP_EUNAVAIL / SHOP_ETIMEDOUT / SHOP_ERR with why (cap bytes)
	 * saying what went wrong (the server's reply when it refused).
	 */
	int (*send)(void *self, const char *from, const char *to,
	            const char *raw, size_t len, char *why, size_t cap);
};

struct mail_transport {
	const struct mail_transport_ops *ops;
	void *self;
};

/* Wall-clock time for the Date header; a fake clock in the tests. */
struct email_clock {
	time_t (*now)(void *self);
	void *self;
};

/* One message as GET /api/emails shows it. */
struct email_view {
	const char *id;
	const char *user_id;
	const char *to;
	enum email_kind kind;
	const char *subject;
	const char *order_id; /* NULL for a welcome */
	enum email_status status;
	int attempts;
	time_t created_at;
	bool sent;
	time_t sent_at; /* when sent */
};

/* What a list asks for: user_id NULL means everybody's (admin). */
struct email_filter {
	const char *user_id;
	const char *order_id; /* NULL: any */
	long page;            /* >= 1 */
	long page_size;       /* 1..100 */
};

struct email_page {
	struct email_view *items; /* arena */
	size_t n;
	long long total; /* matching messages, all pages */
};

struct email_reader_ops {
	/* The page of messages matching f, newest first (created_at, then
	 * id, descending), and how many match in all. */
	int (*list)(void *self, struct arena *a, const struct email_filter *f,
	            struct email_page *out);
};

struct email_reader {
	const struct email_reader_ops *ops;
	void *self;
};

#endif
