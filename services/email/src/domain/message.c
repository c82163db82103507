#include "message.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {
        [EMAIL_WELCOME] = "welcome",
        [EMAIL_ORDER_CONFIRMED] = "order_confirmed",
        [EMAIL_ORDER_FAILED] = "order_failed",
};

static const char *const status_names[] = {
        [EMAIL_QUEUED] = "queued",
        [EMAIL_SENT] = "sent",
        [EMAIL_FAILED] = "failed",
};

const char *email_kind_name(enum email_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(*kind_names)
	               ? kind_names[k]
	               : "unknown";
}

int email_kind_of_event(const char *event_type, enum email_kind *out)
{
	if (!event_type)
		return -1;
	if (strcmp(event_type, "user.registered") == 0)
		*out = EMAIL_WELCOME;
	else if (strcmp(event_type, "order.confirmed") == 0)
		*out = EMAIL_ORDER_CONFIRMED;
	else if (strcmp(event_type, "order.failed") == 0)
		*out = EMAIL_ORDER_FAILED;
	else
		return -1;
	return 0;
}

const char *email_status_name(enum email_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(*status_names)
	               ? status_names[s]
	               : "unknown";
}

int email_status_parse(const char *s, enum email_status *out)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(*status_names);
	     i++) {
		if (s && strcmp(s, status_names[i]) == 0) {
			*out = (enum email_status)i;
			return 0;
		}
	}
	return -1;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

bool email_uuid_ok(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return false;
	}
	return true;
}

bool email_address_ok(const char *s)
{
	size_t n, ats = 0, at = 0;

	if (!s)
		return false;
	n = strlen(s);
	if (n < 3 || n > EMAIL_ADDRESS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || strchr("\"<>()[],;:\\", c))
			return false;
		if (c == '@') {
			ats++;
			at = i;
		}
	}
	return ats == 1 && at > 0 && at < n - 1;
}

bool email_domain_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (n < 1 || n > 253 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' ||
	    s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int email_message_id(const char *event_id, enum email_kind kind,
                     const char *domain, char *out, size_t cap)
{
	char id[37];
	int n;

	if (!email_uuid_ok(event_id) || !email_domain_ok(domain))
		return -1;
	for (size_t i = 0; i <= 36; i++) {
		char c = event_id[i];
		id[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
	}
	n = snprintf(out, cap, "<%s.%s@%s>", id, email_kind_name(kind), domain);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

long email_retry_delay_ms(int n)
{
	long d = EMAIL_RETRY_BASE_MS;

	for (int i = 1; i < n && d < EMAIL_RETRY_CAP_MS; i++)
		d *= 2;
	return d > EMAIL_RETRY_CAP_MS ? EMAIL_RETRY_CAP_MS : d;
}

enum email_status email_after_failure(int attempts, int max_attempts,
                                      long *retry_in_ms)
{
	if (attempts >= max_attempts)
		return EMAIL_FAILED;
	*retry_in_ms = email_retry_delay_ms(attempts);
	return EMAIL_QUEUED;
}

/* ---- validation ---- */

__attribute__((format(printf, 3, 4))) static int refuse(char *why, size_t cap,
                                                        const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_text(const char *s, size_t max, const char *field, char *why,
                      size_t cap)
{
	if (!s || !*s)
		return refuse(why, cap, "'%s' must be a non-empty string",
		              field);
	if (strlen(s) > max)
		return refuse(why, cap, "'%s' must be at most %zu bytes", field,
		              max);
	return 0;
}

static int check_currency(const char *s, char *why, size_t cap)
{
	if (!s || strlen(s) != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' ||
	    s[1] > 'Z' || s[2] < 'A' || s[2] > 'Z')
		return refuse(why, cap,
		              "'currency' must be a three-letter upper-case "
		              "ISO 4217 code");
	return 0;
}

static int check_lines(const struct email_event_data *d, char *why, size_t cap)
{
	char field[48];

	if (d->nlines < 1 || d->nlines > EMAIL_LINES_MAX || !d->lines)
		return refuse(why, cap, "'items' must hold 1 to %d lines",
		              EMAIL_LINES_MAX);
	for (size_t i = 0; i < d->nlines; i++) {
		const struct email_line *l = &d->lines[i];

		if (!email_uuid_ok(l->product_id))
			return refuse(why, cap,
			              "'items[%zu].product_id' must be a UUID",
			              i);
		snprintf(field, sizeof(field), "items[%zu].sku", i);
		if (check_text(l->sku, EMAIL_TEXT_MAX, field, why, cap))
			return -1;
		snprintf(field, sizeof(field), "items[%zu].name", i);
		if (check_text(l->name, EMAIL_NAME_MAX, field, why, cap))
			return -1;
		if (l->quantity < 1 || l->quantity > EMAIL_QTY_MAX)
			return refuse(
			        why, cap,
			        "'items[%zu].quantity' must be an integer "
			        "from 1 to %lld",
			        i, EMAIL_QTY_MAX);
		if (l->unit_price_cents < 0 ||
		    l->unit_price_cents > EMAIL_CENTS_MAX)
			return refuse(
			        why, cap,
			        "'items[%zu].unit_price_cents' must be an "
			        "integer from 0 to %lld",
			        i, EMAIL_CENTS_MAX);
	}
	return 0;
}

int email_event_validate(const struct email_event_data *d, char *why,
                         size_t cap)
{
	const char *to_field =
	        d->kind == EMAIL_WELCOME ? "email" : "user_email";

	if (!email_uuid_ok(d->user_id))
		return refuse(why, cap, "'user_id' must be a UUID");
	if (!email_address_ok(d->to))
		return refuse(why, cap,
		              "'%s' must be an ASCII address with one @ and no "
		              "spaces, quotes, brackets, commas or semicolons "
		              "(3 to 254 characters)",
		              to_field);
	switch (d->kind) {
	case EMAIL_WELCOME:
		return check_text(d->name, EMAIL_NAME_MAX, "name", why, cap);
	case EMAIL_ORDER_FAILED:
		if (check_text(d->reason, EMAIL_TEXT_MAX, "reason", why, cap))
			return -1;
		/* fall through */
	case EMAIL_ORDER_CONFIRMED:
		if (!email_uuid_ok(d->order_id))
			return refuse(why, cap, "'order_id' must be a UUID");
		if (d->total_cents < 0 || d->total_cents > EMAIL_TOTAL_MAX)
			return refuse(why, cap,
			              "'total_cents' must be an integer from 0 "
			              "to %lld",
			              EMAIL_TOTAL_MAX);
		if (check_currency(d->currency, why, cap))
			return -1;
		return check_lines(d, why, cap);
	}
	return refuse(why, cap, "unknown message kind");
}
