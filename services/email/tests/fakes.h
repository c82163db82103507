#ifndef EMAIL_TESTS_FAKES_H
#define EMAIL_TESTS_FAKES_H

#include <stdbool.h>
#include <stddef.h>

#include "../src/core/ports.h"

/*
 * In-memory ports for the core tests: one table of messages behind the
 * store (insert, unique on event_id + kind), the queue (claim / finish,
 * with a fake clock in milliseconds for leases and retries) and the
 * reader (list); a transport that fails as told and keeps what it sent;
 * a clock. Each can be told to fail its next call.
 */
#define FAKE_MAX 64

struct fake_message {
	char id[37];
	char event_id[37];
	enum email_kind kind;
	char user_id[37];
	char to[255];
	char order_id[37]; /* "" for none */
	char subject[256];
	char *text;
	char message_id[EMAIL_MESSAGE_ID_MAX + 1];
	enum email_status status;
	int attempts;
	long long due_ms;
	long long created; /* insertion order */
	bool sent;
	char last_error[256];
	int recorded; /* attempts recorded through finish() */
};

struct fake_db {
	struct fake_message m[FAKE_MAX];
	size_t n;
	long long now_ms; /* the queue's clock */
	int fail_next;    /* an error the next call returns, then 0 */
	int fail_finish;  /* an error the next finish() returns, then 0 */
	int finishes;     /* finish() calls */
};

struct fake_transport {
	int fail_times; /* the next n sends fail with `error` */
	int error;
	int sends;    /* calls */
	int accepted; /* messages accepted */
	char *last_raw;
	char last_from[255], last_to[255];
};

void fake_db_init(struct fake_db *db);
void fake_db_release(struct fake_db *db);
/* Adds a message directly (for the reader's tests); returns it. */
struct fake_message *fake_db_add(struct fake_db *db, const char *user_id,
                                 const char *order_id, enum email_kind kind);

struct email_store fake_store(struct fake_db *db);
struct email_queue fake_queue(struct fake_db *db);
struct email_reader fake_reader(struct fake_db *db);

void fake_transport_release(struct fake_transport *t);
struct mail_transport fake_mail_transport(struct fake_transport *t);

/* A clock that always says *t. */
struct email_clock fake_clock(time_t *t);

#endif
