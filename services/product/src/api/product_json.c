#include "product_json.h"

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
