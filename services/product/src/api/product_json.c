#include "product_json.h"

#include <string.h>

#include "shop/error.h"
#include "shop/json.h"
#include "shop/util.h"

json_t *product_to_json(const struct product *p)
{
	char created[21], updated[21];

	shop_time_rfc3339(p->created_at, created);
	shop_time_rfc3339(p->updated_at, updated);
	return json_pack(
	        "{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:s}", "id",
	        p->id, "sku", p->sku, "name", p->name, "description",
	        p->description, "category", p->category, "price_cents",
	        (json_int_t)p->price_cents, "currency", p->currency,
	        "image_url", p->image_url, "stock", (json_int_t)p->stock,
	        "created_at", created, "updated_at", updated);
}

json_t *product_ref_to_json(const struct product *p)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "id", p->id, "sku",
	                 p->sku, "name", p->name, "price_cents",
	                 (json_int_t)p->price_cents, "currency", p->currency,
	                 "stock", (json_int_t)p->stock);
}

json_t *product_page_to_json(const struct product_page *pg, long page,
                             long page_size)
{
	json_t *items = json_array();

	if (!items)
		return NULL;
	for (size_t i = 0; i < pg->n; i++) {
		json_t *p = product_to_json(&pg->items[i]);
		if (!p || json_array_append_new(items, p) < 0) {
			json_decref(items);
			return NULL;
		}
	}
	return json_pack("{s:o, s:i, s:i, s:I}", "items", items, "page",
	                 (int)page, "page_size", (int)page_size, "total",
	                 (json_int_t)pg->total);
}

json_t *category_list_to_json(const struct category_list *l)
{
	json_t *items = json_array();

	if (!items)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		json_t *c =
		        json_pack("{s:s, s:s, s:I}", "slug", l->items[i].slug,
		                  "name", l->items[i].name, "product_count",
		                  (json_int_t)l->items[i].product_count);
		if (!c || json_array_append_new(items, c) < 0) {
			json_decref(items);
			return NULL;
		}
	}
	return json_pack("{s:o}", "items", items);
}

static const struct sjson_field product_body_fields[] = {
        {"sku", SJSON_STRING, false},
        {"name", SJSON_STRING, false},
        {"description", SJSON_STRING, false},
        {"category", SJSON_STRING, false},
        {"price_cents", SJSON_INTEGER, false},
        {"stock", SJSON_INTEGER, false},
        {"currency", SJSON_STRING, false},
        {"image_url", SJSON_STRING, false},
};

int product_fields_from_json(json_t *body, struct product_fields *f,
                             struct field_errors *errs)
{
	json_int_t price = -1, stock = -1;
	char detail[160];
	int rc;

	/* Required fields are the domain's rule (creation vs patch), so the
	 * table here only knows names and types. */
	rc = sjson_check(body, product_body_fields,
	                 sizeof(product_body_fields) /
	                         sizeof(*product_body_fields),
	                 errs);
	if (rc)
		return rc;
	*f = (struct product_fields){0};
	rc = sjson_unpack(body, detail, sizeof(detail),
	                  "{s?s, s?s, s?s, s?s, s?I, s?I, s?s, s?s !}", "sku",
	                  &f->sku, "name", &f->name, "description",
	                  &f->description, "category", &f->category,
	                  "price_cents", &price, "stock", &stock, "currency",
	                  &f->currency, "image_url", &f->image_url);
	if (rc) {
		/* sjson_check passed, so this is a bug in the table above. */
		field_errors_add(errs, "",
		                 "the body does not match the schema");
		return SHOP_EINVAL;
	}
	f->set |= f->sku ? PRODUCT_F_SKU : 0;
	f->set |= f->name ? PRODUCT_F_NAME : 0;
	f->set |= f->description ? PRODUCT_F_DESCRIPTION : 0;
	f->set |= f->category ? PRODUCT_F_CATEGORY : 0;
	f->set |= f->currency ? PRODUCT_F_CURRENCY : 0;
	f->set |= f->image_url ? PRODUCT_F_IMAGE_URL : 0;
	if (json_object_get(body, "price_cents")) {
		f->set |= PRODUCT_F_PRICE;
		f->price_cents = price;
	}
	if (json_object_get(body, "stock")) {
		f->set |= PRODUCT_F_STOCK;
		f->stock = stock;
	}
	return 0;
}

json_t *reservation_to_json(const struct reservation *r)
{
	json_t *items = json_array();
	char expires[21];

	if (!items)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct reservation_line *l = &r->lines[i];
		json_t *o = json_pack(
		        "{s:s, s:s, s:s, s:I, s:I, s:I}", "product_id",
		        l->product_id, "sku", l->sku, "name", l->name,
		        "unit_price_cents", (json_int_t)l->unit_price_cents,
		        "quantity", (json_int_t)l->quantity, "line_total_cents",
		        (json_int_t)(l->unit_price_cents * l->quantity));
		if (!o || json_array_append_new(items, o) < 0) {
			json_decref(items);
			return NULL;
		}
	}
	shop_time_rfc3339(r->expires_at, expires);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "order_id",
	                 r->order_id, "status",
	                 reservation_status_name(r->status), "expires_at",
	                 expires, "currency", r->currency, "total_cents",
	                 (json_int_t)r->total_cents, "items", items);
}

static const struct sjson_field reservation_fields[] = {
        {"order_id", SJSON_STRING, true},
        {"items", SJSON_ARRAY, true},
        {"hold_seconds", SJSON_INTEGER, false},
};

static const struct sjson_field reservation_item_fields[] = {
        {"product_id", SJSON_STRING, true},
        {"quantity", SJSON_INTEGER, true},
};

int reservation_request_from_json(json_t *body, struct arena *a,
                                  struct reservation_request *r,
                                  struct field_errors *errs)
{
	json_t *items, *hold, *it;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (sjson_check(body, reservation_fields, 3, errs))
		return SHOP_EINVAL;
	r->order_id = json_string_value(json_object_get(body, "order_id"));
	hold = json_object_get(body, "hold_seconds");
	r->hold_s = hold ? (long long)json_integer_value(hold) : 0;
	if (hold && r->hold_s == 0)
		r->hold_s = -1; /* 0 is "the default" inside; refuse it here */
	items = json_object_get(body, "items");
	r->n = json_array_size(items);
	if (r->n == 0 || r->n > RESERVATION_LINES_MAX)
		return 0; /* reservation_request_validate() says why */
	r->items = arena_calloc(a, r->n, sizeof(*r->items));
	if (!r->items)
		return SHOP_ENOMEM;
	json_array_foreach(items, i, it)
	{
		struct field_errors item_errs;

		field_errors_init(&item_errs);
		if (!json_is_object(it) ||
		    sjson_check(it, reservation_item_fields, 2, &item_errs)) {
			field_errors_add(errs, "items",
			                 "each item must be an object with "
			                 "exactly a string product_id and an "
			                 "integer quantity");
			return SHOP_EINVAL;
		}
		r->items[i].product_id =
		        json_string_value(json_object_get(it, "product_id"));
		r->items[i].quantity = (long long)json_integer_value(
		        json_object_get(it, "quantity"));
	}
	return 0;
}
