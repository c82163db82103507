#ifndef PAYMENT_DOMAIN_PAYMENT_H
#define PAYMENT_DOMAIN_PAYMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * Payments and their rules. Plain C, no I/O: strings are held in the
 * structs themselves (fixed sizes) or borrowed from whoever filled them.
 *
 * One payment per order: an order is charged once, its outcome stored as
 * a payment that either succeeded (with the provider's reference of the
 * charge) or was declined (with the reason). Both are payments; a
 * transient failure of the provider stores nothing.
 */

#define PAYMENT_ID_LEN           36  /* a UUID, without the NUL */
#define PAYMENT_REASON_MAX       48  /* failure_reason, with the NUL */
#define PAYMENT_PROVIDER_REF_MAX 48  /* provider_ref, with the NUL */
#define PAYMENT_TOKEN_MAX        256 /* a payment token we accept, bytes */

#define PAYMENT_PAGE_SIZE_DEFAULT 20
#define PAYMENT_PAGE_SIZE_MAX     100
#define PAYMENT_PAGE_MAX          1000000

enum payment_status {
	PAYMENT_SUCCEEDED,
	PAYMENT_DECLINED,
};

/* "succeeded" / "declined". */
const char *payment_status_name(enum payment_status s);

/* Parses a status name. Returns 0 or -1. */
int payment_status_parse(const char *s, enum payment_status *out);

/* The reasons a charge declines (API.md "Payments"). */
#define PAYMENT_REASON_CARD_DECLINED "card_declined"
#define PAYMENT_REASON_INSUFFICIENT  "insufficient_funds"
#define PAYMENT_REASON_AMOUNT_LIMIT  "amount_limit_exceeded"
#define PAYMENT_REASON_INVALID_TOKEN "invalid_payment_token"

/*
 * What an order.created event asks to be charged (EVENTS.md). Strings are
 * borrowed from the event.
 */
struct payment_order {
	const char *order_id;      /* a UUID */
	const char *user_id;       /* a UUID */
	long long amount_cents;    /* the order's total_cents, >= 0 */
	const char *currency;      /* 3 upper-case letters */
	const char *payment_token; /* non-empty */
};

/*
 * Checks o: order_id and user_id UUIDs, amount_cents >= 0, currency three
 * letters A-Z, payment_token 1 to PAYMENT_TOKEN_MAX - 1 bytes. Returns 0,
 * or -1 with a one-line reason naming the field in why (cap bytes).
 */
int payment_order_validate(const struct payment_order *o, char *why,
                           size_t cap);

/* A stored payment. */
struct payment {
	char id[PAYMENT_ID_LEN + 1];
	char order_id[PAYMENT_ID_LEN + 1];
	char user_id[PAYMENT_ID_LEN + 1];
	long long amount_cents;
	char currency[4];
	enum payment_status status;
	char failure_reason[PAYMENT_REASON_MAX];     /* "" unless declined */
	char provider_ref[PAYMENT_PROVIDER_REF_MAX]; /* "" unless succeeded */
	time_t created_at;
};

/*
 * Fills p from o and the processor's answer: a new payment `id` (a UUID,
 * copied), ids lower-cased, succeeded with provider_ref, or declined with
 * reason. created_at is left 0 (the store sets it). Returns 0, or -1 when
 * a string does not fit (o must have been validated).
 */
int payment_from_order(struct payment *p, const char *id,
                       const struct payment_order *o, bool succeeded,
                       const char *provider_ref, const char *reason);

/*
 * A page of payments (API.md pagination): page >= 1, 1 <= page_size <= 100.
 */
struct payment_query {
	long page;
	long page_size;
	const char *order_id; /* a UUID to filter by, or NULL */
};

/* First page, default size, no filter. */
void payment_query_init(struct payment_query *q);

/* The rows to skip for q's page. */
long long payment_query_offset(const struct payment_query *q);

struct payment_page {
	struct payment *items; /* newest first */
	size_t n;
	long long total; /* rows matching the filter, all pages */
};

/* Lower-cases a UUID of 36 characters from s into out[37]. Returns 0, or
 * -1 when s is not a UUID. */
int payment_uuid_normalize(const char *s, char out[PAYMENT_ID_LEN + 1]);

#endif
