#include "payment.h"

#include <stdio.h>
#include <string.h>

#include "shop/util.h"

const char *payment_status_name(enum payment_status s)
{
	return s == PAYMENT_SUCCEEDED ? "succeeded" : "declined";
}

int payment_status_parse(const char *s, enum payment_status *out)
{
	if (strcmp(s, "succeeded") == 0)
		*out = PAYMENT_SUCCEEDED;
	else if (strcmp(s, "declined") == 0)
		*out = PAYMENT_DECLINED;
	else
		return -1;
	return 0;
}

static bool currency_valid(const char *c)
{
	if (strlen(c) != 3)
		return false;
	for (int i = 0; i < 3; i++)
		if (c[i] < 'A' || c[i] > 'Z')
			return false;
	return true;
}

int payment_order_validate(const struct payment_order *o, char *why, size_t cap)
{
	size_t tlen;

	if (!o->order_id || !shop_uuid_valid(o->order_id)) {
		snprintf(why, cap, "'order_id' must be a UUID");
		return -1;
	}
	if (!o->user_id || !shop_uuid_valid(o->user_id)) {
		snprintf(why, cap, "'user_id' must be a UUID");
		return -1;
	}
	if (o->amount_cents < 0) {
		snprintf(why, cap, "'total_cents' must be at least 0");
		return -1;
	}
	if (!o->currency || !currency_valid(o->currency)) {
		snprintf(why, cap,
		         "'currency' must be three upper-case letters");
		return -1;
	}
	tlen = o->payment_token ? strlen(o->payment_token) : 0;
	if (tlen == 0 || tlen >= PAYMENT_TOKEN_MAX) {
		snprintf(why, cap,
		         "'payment_token' must be a string of 1 to %d bytes",
		         PAYMENT_TOKEN_MAX - 1);
		return -1;
	}
	return 0;
}

int payment_uuid_normalize(const char *s, char out[PAYMENT_ID_LEN + 1])
{
	if (!s || !shop_uuid_valid(s))
		return -1;
	for (size_t i = 0; i < PAYMENT_ID_LEN; i++) {
		char ch = s[i];
		out[i] = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
	}
	out[PAYMENT_ID_LEN] = '\0';
	return 0;
}

static int copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		return -1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return 0;
}

int payment_from_order(struct payment *p, const char *id,
                       const struct payment_order *o, bool succeeded,
                       const char *provider_ref, const char *reason)
{
	struct payment out = {0};

	if (payment_uuid_normalize(id, out.id) < 0 ||
	    payment_uuid_normalize(o->order_id, out.order_id) < 0 ||
	    payment_uuid_normalize(o->user_id, out.user_id) < 0 ||
	    copy(out.currency, sizeof(out.currency), o->currency) < 0)
		return -1;
	out.amount_cents = o->amount_cents;
	if (succeeded) {
		out.status = PAYMENT_SUCCEEDED;
		if (!provider_ref || !*provider_ref ||
		    copy(out.provider_ref, sizeof(out.provider_ref),
		         provider_ref) < 0)
			return -1;
	} else {
		out.status = PAYMENT_DECLINED;
		if (!reason || !*reason ||
		    copy(out.failure_reason, sizeof(out.failure_reason),
		         reason) < 0)
			return -1;
	}
	*p = out;
	return 0;
}

void payment_query_init(struct payment_query *q)
{
	q->page = 1;
	q->page_size = PAYMENT_PAGE_SIZE_DEFAULT;
	q->order_id = NULL;
}

long long payment_query_offset(const struct payment_query *q)
{
	return (long long)(q->page - 1) * q->page_size;
}
