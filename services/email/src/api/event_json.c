#include "event_json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct member {
	const char *name;
	json_type type;
};

static const struct member welcome_members[] = {
        {"user_id", JSON_STRING},
        {"email", JSON_STRING},
        {"name", JSON_STRING},
};

static const struct member order_members[] = {
        {"order_id", JSON_STRING},     {"user_id", JSON_STRING},
        {"user_email", JSON_STRING},   {"items", JSON_ARRAY},
        {"total_cents", JSON_INTEGER}, {"currency", JSON_STRING},
        {"reason", JSON_STRING}, /* order.failed only */
};

static const struct member item_members[] = {
        {"product_id", JSON_STRING},
        {"sku", JSON_STRING},
        {"name", JSON_STRING},
        {"quantity", JSON_INTEGER},
        {"unit_price_cents", JSON_INTEGER},
};

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_ARRAY:
		return "an array";
	default:
		return "an object";
	}
}

__attribute__((format(printf, 3, 4))) static int refuse(char *why, size_t cap,
                                                        const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

/* obj must be an object holding exactly the n members (each of its
 * type); where names it in messages ("data", "data.items[2]"). */
static int check_members(json_t *obj, const struct member *m, size_t n,
                         const char *where, char *why, size_t cap)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return refuse(why, cap, "'%s' must be an object", where);
	json_object_foreach(obj, key, v)
	{
		bool known = false;

		for (size_t i = 0; i < n && !known; i++)
			known = strcmp(key, m[i].name) == 0;
		if (!known)
			return refuse(why, cap,
			              "'%s' has an unknown member '%s'", where,
			              key);
	}
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_object_get(obj, m[i].name);

		if (!f)
			return refuse(why, cap, "'%s.%s' is required", where,
			              m[i].name);
		if (json_typeof(f) != m[i].type)
			return refuse(why, cap, "'%s.%s' must be %s", where,
			              m[i].name, type_name(m[i].type));
	}
	return 0;
}

static const char *str(json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

static long long num(json_t *obj, const char *name)
{
	return (long long)json_integer_value(json_object_get(obj, name));
}

static int decode_items(json_t *items, struct email_event_data *out, char *why,
                        size_t cap)
{
	size_t n = json_array_size(items);
	struct email_line *lines;
	char where[48];

	if (n < 1 || n > EMAIL_LINES_MAX)
		return refuse(why, cap, "'data.items' must hold 1 to %d lines",
		              EMAIL_LINES_MAX);
	lines = calloc(n, sizeof(*lines));
	if (!lines)
		return -2;
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(items, i);

		snprintf(where, sizeof(where), "data.items[%zu]", i);
		if (check_members(it, item_members,
		                  sizeof(item_members) / sizeof(*item_members),
		                  where, why, cap) < 0) {
			free(lines);
			return -1;
		}
		lines[i] = (struct email_line){
		        .product_id = str(it, "product_id"),
		        .sku = str(it, "sku"),
		        .name = str(it, "name"),
		        .quantity = num(it, "quantity"),
		        .unit_price_cents = num(it, "unit_price_cents"),
		};
	}
	out->lines = lines;
	out->nlines = n;
	return 0;
}

int email_event_from_json(json_t *data, enum email_kind kind,
                          struct email_event_data *out, char *why, size_t cap)
{
	struct email_event_data d = {.kind = kind};
	size_t n;

	if (kind == EMAIL_WELCOME) {
		if (check_members(data, welcome_members, 3, "data", why, cap))
			return -1;
		d.user_id = str(data, "user_id");
		d.to = str(data, "email");
		d.name = str(data, "name");
		*out = d;
		return 0;
	}
	/* order.failed has a reason, order.confirmed does not */
	n = sizeof(order_members) / sizeof(*order_members);
	if (kind == EMAIL_ORDER_CONFIRMED)
		n--;
	if (check_members(data, order_members, n, "data", why, cap))
		return -1;
	d.order_id = str(data, "order_id");
	d.user_id = str(data, "user_id");
	d.to = str(data, "user_email");
	d.total_cents = num(data, "total_cents");
	d.currency = str(data, "currency");
	d.reason = kind == EMAIL_ORDER_FAILED ? str(data, "reason") : NULL;
	int rc = decode_items(json_object_get(data, "items"), &d, why, cap);
	if (rc)
		return rc;
	*out = d;
	return 0;
}

void email_event_json_release(struct email_event_data *d)
{
	free((void *)d->lines);
	d->lines = NULL;
	d->nlines = 0;
}
