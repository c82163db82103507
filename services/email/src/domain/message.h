#ifndef EMAIL_DOMAIN_MESSAGE_H
#define EMAIL_DOMAIN_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The messages the email service sends and the rules about them. Plain C,
 * no I/O: strings are borrowed from whoever filled the structs (the event
 * being handled, a row read back, a fake).
 *
 * One message per event and kind: an event names its message by
 * (event_id, kind), and its Message-ID is derived from that pair, so a
 * message resent after a crash carries the same Message-ID.
 */

#define EMAIL_ADDRESS_MAX 254  /* RFC 5321 path limit, as the user service */
#define EMAIL_NAME_MAX    1000 /* bytes of a user or product name */
#define EMAIL_TEXT_MAX    1000 /* bytes of a sku, reason, ... */
#define EMAIL_LINES_MAX   1000 /* lines of one order */
#define EMAIL_QTY_MAX     1000000LL
/* A unit price of at most 10^12 cents times at most 10^6 units is a line
 * total that fits in a long long; the total may be up to 10^18. */
#define EMAIL_CENTS_MAX 1000000000000LL
#define EMAIL_TOTAL_MAX 1000000000000000000LL
#define EMAIL_MESSAGE_ID_MAX                                                   \
	(1 + 36 + 1 + 16 + 1 + 253 + 1) /* "<" id "." kind "@" domain ">" */

/* Retries of a failed send: 1 s after the first failure, doubling, at
 * most 5 minutes apart. */
#define EMAIL_RETRY_BASE_MS 1000L
#define EMAIL_RETRY_CAP_MS  300000L

enum email_kind {
	EMAIL_WELCOME,
	EMAIL_ORDER_CONFIRMED,
	EMAIL_ORDER_FAILED,
};

enum email_status {
	EMAIL_QUEUED,
	EMAIL_SENT,
	EMAIL_FAILED,
};

/* "welcome", "order_confirmed", "order_failed" (static). */
const char *email_kind_name(enum email_kind k);
/* The kind an event type announces (user.registered -> welcome, ...).
 * Returns 0, or -1 for an event type the service does not mail about. */
int email_kind_of_event(const char *event_type, enum email_kind *out);
/* "queued", "sent", "failed" (static) and back; parse returns 0 or -1. */
const char *email_status_name(enum email_status s);
int email_status_parse(const char *s, enum email_status *out);

/* One line of an order, as the event carries it. */
struct email_line {
	const char *product_id;
	const char *sku;
	const char *name;
	long long quantity;
	long long unit_price_cents;
};

/*
 * What an event says, once decoded: every kind has user_id and to; a
 * welcome has name; an order message has order_id, lines, total_cents and
 * currency; an order_failed message has reason too. Unused members are
 * NULL / 0.
 */
struct email_event_data {
	enum email_kind kind;
	const char *user_id;
	const char *to;
	const char *name;
	const char *order_id;
	const struct email_line *lines;
	size_t nlines;
	long long total_cents;
	const char *currency;
	const char *reason;
};

/*
 * Checks d against the event schemas (shared/events/) and the limits
 * above: UUIDs, an address the SMTP envelope can carry (email_address_ok),
 * non-empty names and texts of at most EMAIL_NAME_MAX / EMAIL_TEXT_MAX
 * bytes (control characters are allowed: rendering blanks them), 1 to
 * EMAIL_LINES_MAX lines with a quantity of 1 to EMAIL_QTY_MAX and unit
 * prices of 0 to EMAIL_CENTS_MAX, a total of 0 to EMAIL_TOTAL_MAX, a
 * three-letter upper-case currency. Returns 0,
 * or -1 with the first reason written to why (cap bytes, naming the
 * field).
 */
int email_event_validate(const struct email_event_data *d, char *why,
                         size_t cap);

/*
 * True when s is an address this service sends to: 3 to 254 printable
 * ASCII characters without spaces, quotes, brackets, commas or
 * semicolons, with exactly one @ that has something on both sides. Such
 * an address cannot smuggle a header or an SMTP command.
 */
bool email_address_ok(const char *s);

/* True when s is a canonical 8-4-4-4-12 hex UUID. */
bool email_uuid_ok(const char *s);

/*
 * Writes the message's deterministic Message-ID,
 * "<event_id.kind@domain>", into out (cap bytes; EMAIL_MESSAGE_ID_MAX + 1
 * is always enough for a UUID and a valid domain). The event id is
 * lower-cased so that one event always gives one id. Returns 0, or -1
 * when it does not fit or domain is not a host name ([A-Za-z0-9.-]).
 */
int email_message_id(const char *event_id, enum email_kind kind,
                     const char *domain, char *out, size_t cap);

/* True when s is a host name for Message-IDs: 1-253 of [A-Za-z0-9.-],
 * not starting or ending with '.' or '-'. */
bool email_domain_ok(const char *s);

/*
 * What becomes of a message whose send failed on attempt `attempts`
 * (1-based) when at most max_attempts are allowed: EMAIL_FAILED once
 * attempts >= max_attempts, else EMAIL_QUEUED with *retry_in_ms set to
 * email_retry_delay_ms(attempts).
 */
enum email_status email_after_failure(int attempts, int max_attempts,
                                      long *retry_in_ms);

/* The wait after the n-th failed attempt (n >= 1): EMAIL_RETRY_BASE_MS
 * doubled n - 1 times, at most EMAIL_RETRY_CAP_MS. */
long email_retry_delay_ms(int n);

#endif
