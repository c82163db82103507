#include "order_json.h"

#include <string.h>

#include "shop/error.h"
#include "shop/json.h"
#include "shop/util.h"

static json_t *item_to_json(const struct order_item *it)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "product_id",
	                 it->product_id, "sku", it->sku, "name", it->name,
	                 "unit_price_cents", (json_int_t)it->unit_price_cents,
	                 "quantity", (json_int_t)it->quantity,
	                 "line_total_cents",
	                 (json_int_t)(it->unit_price_cents * it->quantity));
}

static json_t *payment_to_json(const struct order_payment *p)
{
	if (!p->known)
		return json_null();
	return json_pack("{s:s, s:s, s:s?}", "status",
	                 p->succeeded ? "succeeded" : "declined", "payment_id",
	                 p->payment_id, "failure_reason", p->failure_reason);
}

static json_t *address_to_json(const struct order_address *a)
{
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "name",
	                 a->name, "line1", a->line1, "line2", a->line2, "city",
	                 a->city, "postal_code", a->postal_code, "country",
	                 a->country);
}

json_t *order_to_json(const struct order *o)
{
	json_t *items = json_array(), *history = json_array();
	char created[21], updated[21], at[21];

	if (!items || !history)
		goto fail;
	for (size_t i = 0; i < o->nitems; i++) {
		json_t *it = item_to_json(&o->items[i]);
		if (!it || json_array_append_new(items, it))
			goto fail;
	}
	for (size_t i = 0; i < o->nhistory; i++) {
		json_t *h;
		shop_time_rfc3339(o->history[i].at, at);
		h = json_pack("{s:s, s:s}", "status",
		              order_status_name(o->history[i].status), "at",
		              at);
		if (!h || json_array_append_new(history, h))
			goto fail;
	}
	shop_time_rfc3339(o->created_at, created);
	shop_time_rfc3339(o->updated_at, updated);
	return json_pack("{s:s, s:s, s:s, s:o, s:I, s:s, s:o, s:o, s:o, s:s, "
	                 "s:s}",
	                 "id", o->id, "user_id", o->user_id, "status",
	                 order_status_name(o->status), "items", items,
	                 "total_cents", (json_int_t)o->total_cents, "currency",
	                 o->currency, "shipping_address",
	                 address_to_json(&o->address), "payment",
	                 payment_to_json(&o->payment), "status_history",
	                 history, "created_at", created, "updated_at", updated);
fail:
	json_decref(items);
	json_decref(history);
	return NULL;
}

json_t *order_page_to_json(const struct order_page *pg, long page,
                           long page_size)
{
	json_t *items = json_array();

	if (!items)
		return NULL;
	for (size_t i = 0; i < pg->n; i++) {
		json_t *o = order_to_json(&pg->items[i]);
		if (!o || json_array_append_new(items, o)) {
			json_decref(items);
			return NULL;
		}
	}
	return json_pack("{s:o, s:i, s:i, s:I}", "items", items, "page",
	                 (int)page, "page_size", (int)page_size, "total",
	                 (json_int_t)pg->total);
}

static const struct sjson_field request_fields[] = {
        {"payment_token", SJSON_STRING, true},
        {"shipping_address", SJSON_OBJECT, true},
};

static const struct sjson_field address_fields[] = {
        {"name", SJSON_STRING, true},           {"line1", SJSON_STRING, true},
        {"line2", SJSON_STRING_OR_NULL, false}, {"city", SJSON_STRING, true},
        {"postal_code", SJSON_STRING, true},    {"country", SJSON_STRING, true},
};

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int order_request_from_json(json_t *body, struct order_request *r,
                            struct field_errors *errs)
{
	struct field_errors addr_errs;
	json_t *addr;

	memset(r, 0, sizeof(*r));
	if (sjson_check(body, request_fields, 2, errs))
		return SHOP_EINVAL;
	r->payment_token = str(body, "payment_token");
	addr = json_object_get(body, "shipping_address");
	field_errors_init(&addr_errs);
	if (sjson_check(addr, address_fields, 6, &addr_errs)) {
		/* Name the fields inside the address as
		 * "shipping_address.<field>" (static strings). */
		static const char *const names[][2] = {
		        {"name", "shipping_address.name"},
		        {"line1", "shipping_address.line1"},
		        {"line2", "shipping_address.line2"},
		        {"city", "shipping_address.city"},
		        {"postal_code", "shipping_address.postal_code"},
		        {"country", "shipping_address.country"},
		};
		for (size_t i = 0; i < addr_errs.n; i++) {
			const char *f = "shipping_address";
			for (size_t k = 0; k < 6; k++)
				if (strcmp(addr_errs.items[i].field,
				           names[k][0]) == 0)
					f = names[k][1];
			field_errors_add(errs, f,
			                 strcmp(f, "shipping_address") == 0
			                         ? "has an unknown field"
			                         : addr_errs.items[i].message);
		}
		return SHOP_EINVAL;
	}
	r->address.name = str(addr, "name");
	r->address.line1 = str(addr, "line1");
	r->address.line2 = str(addr, "line2"); /* NULL for null or absent */
	r->address.city = str(addr, "city");
	r->address.postal_code = str(addr, "postal_code");
	r->address.country = str(addr, "country");
	return 0;
}
