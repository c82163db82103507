#include "payment_json.h"

#include "shop/util.h"

json_t *payment_to_json(const struct payment *p)
{
	char created[21];

	shop_time_rfc3339(p->created_at, created);
	return json_pack(
	        "{s:s, s:s, s:s, s:I, s:s, s:s, s:s?, s:s?, s:s}", "id", p->id,
	        "order_id", p->order_id, "user_id", p->user_id, "amount_cents",
	        (json_int_t)p->amount_cents, "currency", p->currency, "status",
	        payment_status_name(p->status), "failure_reason",
	        p->failure_reason[0] ? p->failure_reason : NULL, "provider_ref",
	        p->provider_ref[0] ? p->provider_ref : NULL, "created_at",
	        created);
}

json_t *payment_page_to_json(const struct payment_page *pg, long page,
                             long page_size)
{
	json_t *items = json_array();

	if (!items)
		return NULL;
	for (size_t i = 0; i < pg->n; i++) {
		json_t *p = payment_to_json(&pg->items[i]);
		if (!p || json_array_append_new(items, p) < 0) {
			json_decref(items);
			return NULL;
		}
	}
	return json_pack("{s:o, s:I, s:I, s:I}", "items", items, "page",
	                 (json_int_t)page, "page_size", (json_int_t)page_size,
	                 "total", (json_int_t)pg->total);
}
