#include "cart_json.h"

#include "shop/error.h"
#include "shop/json.h"
#include "shop/util.h"

static json_t *line_to_json(const struct cart_view_line *l)
{
	return json_pack(
	        "{s:s, s:s, s:s, s:I, s:I, s:i, s:I, s:b}", "product_id",
	        l->line->product_id, "sku", l->sku, "name", l->name,
	        "unit_price_cents", (json_int_t)l->unit_price_cents,
	        "added_price_cents", (json_int_t)l->line->added_price_cents,
	        "quantity", l->line->quantity, "line_total_cents",
	        (json_int_t)l->line_total_cents, "available", l->available);
}

json_t *cart_view_to_json(const struct cart_view *v)
{
	json_t *items = json_array();
	char updated[21];

	if (!items)
		return NULL;
	for (size_t i = 0; i < v->n; i++) {
		json_t *l = line_to_json(&v->lines[i]);
		if (!l || json_array_append_new(items, l) < 0) {
			json_decref(items);
			return NULL;
		}
	}
	shop_time_rfc3339(v->updated_at, updated);
	return json_pack("{s:o, s:I, s:I, s:s, s:s?, s:s}", "items", items,
	                 "item_count", (json_int_t)v->item_count, "total_cents",
	                 (json_int_t)v->total_cents, "currency", v->currency,
	                 "updated_at", v->updated_at ? updated : NULL, "prices",
	                 v->prices_current ? "current" : "stored");
}

static const struct sjson_field add_fields[] = {
        {"product_id", SJSON_STRING, true},
        {"quantity", SJSON_INTEGER, true},
};

static const struct sjson_field set_fields[] = {
        {"quantity", SJSON_INTEGER, true},
};

int cart_add_from_json(json_t *body, const char **product_id,
                       long long *quantity, struct field_errors *errs)
{
	json_int_t q;
	char detail[160];

	if (sjson_check(body, add_fields, 2, errs))
		return SHOP_EINVAL;
	if (sjson_unpack(body, detail, sizeof(detail), "{s:s, s:I !}",
	                 "product_id", product_id, "quantity", &q)) {
		field_errors_add(errs, "",
		                 "the body does not match the schema");
		return SHOP_EINVAL;
	}
	*quantity = q;
	return 0;
}

int cart_set_from_json(json_t *body, long long *quantity,
                       struct field_errors *errs)
{
	json_int_t q;
	char detail[160];

	if (sjson_check(body, set_fields, 1, errs))
		return SHOP_EINVAL;
	if (sjson_unpack(body, detail, sizeof(detail), "{s:I !}", "quantity",
	                 &q)) {
		field_errors_add(errs, "",
		                 "the body does not match the schema");
		return SHOP_EINVAL;
	}
	*quantity = q;
	return 0;
}
