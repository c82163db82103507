#include "order.h"

#include <string.h>

#include "shop/error.h"

static const char *const status_names[] = {
        [ORDER_PENDING] = "pending",
        [ORDER_CONFIRMED] = "confirmed",
        [ORDER_FAILED] = "failed",
};

const char *order_status_name(enum order_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(*status_names)
	               ? status_names[s]
	               : "unknown";
}

int order_status_parse(const char *s, enum order_status *out)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(*status_names);
	     i++) {
		if (s && strcmp(s, status_names[i]) == 0) {
			*out = (enum order_status)i;
			return 0;
		}
	}
	return SHOP_EINVAL;
}

bool order_can_move(enum order_status from, enum order_status to)
{
	return from == ORDER_PENDING &&
	       (to == ORDER_CONFIRMED || to == ORDER_FAILED);
}

static const char *const tokens[] = {
        "tok_visa",
        "tok_mastercard",
        "tok_chargeDeclined",
        "tok_insufficientFunds",
};

bool order_payment_token_known(const char *token)
{
	for (size_t i = 0; token && i < sizeof(tokens) / sizeof(*tokens); i++)
		if (strcmp(token, tokens[i]) == 0)
			return true;
	return false;
}

/* Characters of s that are not spaces; -1 when s holds a control
 * character (CR, LF, TAB, DEL, ...). *len: s's length in characters
 * (UTF-8 code points, as the JSON parser checked them), not bytes. */
static long visible_length(const char *s, size_t *len)
{
	long visible = 0;

	*len = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return -1;
		if ((*p & 0xc0) == 0x80)
			continue; /* a continuation byte */
		if (*p != ' ')
			visible++;
		(*len)++;
	}
	return visible;
}

static void check_text(struct field_errors *errs, const char *field,
                       const char *value, size_t max, bool required,
                       const char *message)
{
	size_t len;
	long visible;

	if (!value) {
		if (required)
			field_errors_add(errs, field, "is required");
		return;
	}
	visible = visible_length(value, &len);
	if (visible < 0)
		field_errors_add(errs, field,
		                 "must not hold control characters");
	else if ((required && visible == 0) || len > max)
		field_errors_add(errs, field, message);
}

int order_request_validate(const struct order_request *r,
                           struct field_errors *errs)
{
	const struct order_address *a = &r->address;
	size_t before = errs->n;

	if (!r->payment_token)
		field_errors_add(errs, "payment_token", "is required");
	else if (!order_payment_token_known(r->payment_token))
		field_errors_add(errs, "payment_token",
		                 "must be one of tok_visa, tok_mastercard, "
		                 "tok_chargeDeclined, tok_insufficientFunds");
	check_text(errs, "shipping_address.name", a->name,
	           ORDER_ADDRESS_NAME_MAX, true, "must be 1 to 200 characters");
	check_text(errs, "shipping_address.line1", a->line1,
	           ORDER_ADDRESS_LINE_MAX, true, "must be 1 to 200 characters");
	check_text(errs, "shipping_address.line2", a->line2,
	           ORDER_ADDRESS_LINE_MAX, false,
	           "must be at most 200 characters");
	check_text(errs, "shipping_address.city", a->city, ORDER_CITY_MAX, true,
	           "must be 1 to 100 characters");
	check_text(errs, "shipping_address.postal_code", a->postal_code,
	           ORDER_POSTAL_CODE_MAX, true, "must be 1 to 20 characters");
	if (!a->country)
		field_errors_add(errs, "shipping_address.country",
		                 "is required");
	else if (strlen(a->country) != 2 || a->country[0] < 'A' ||
	         a->country[0] > 'Z' || a->country[1] < 'A' ||
	         a->country[1] > 'Z')
		field_errors_add(errs, "shipping_address.country",
		                 "must be an ISO 3166-1 alpha-2 code such as "
		                 "DE or US");
	return errs->n > before ? SHOP_EINVAL : 0;
}

bool order_idempotency_key_valid(const char *key)
{
	size_t n = 0;

	if (!key)
		return false;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		if (*p < 0x21 || *p > 0x7e)
			return false;
		n++;
	}
	return n >= 1 && n <= ORDER_KEY_MAX;
}

void order_total(struct order *o)
{
	long long t = 0;

	for (size_t i = 0; i < o->nitems; i++)
		t += o->items[i].unit_price_cents * o->items[i].quantity;
	o->total_cents = t;
}
