#include "email_json.h"

#include "shop/util.h"

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *email_view_to_json(const struct email_view *v)
{
	char created[21], sent[21];

	shop_time_rfc3339(v->created_at, created);
	if (v->sent)
		shop_time_rfc3339(v->sent_at, sent);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:i, s:s, s:o}",
	                 "id", v->id, "user_id", v->user_id, "to", v->to,
	                 "kind", email_kind_name(v->kind), "subject",
	                 v->subject, "order_id", string_or_null(v->order_id),
	                 "status", email_status_name(v->status), "attempts",
	                 v->attempts, "created_at", created, "sent_at",
	                 string_or_null(v->sent ? sent : NULL));
}

json_t *email_page_to_json(const struct email_page *p, long page,
                           long page_size)
{
	json_t *items = json_array();

	if (!items)
		return NULL;
	for (size_t i = 0; i < p->n; i++) {
		json_t *e = email_view_to_json(&p->items[i]);
		if (!e || json_array_append_new(items, e) < 0) {
			json_decref(items);
			return NULL;
		}
	}
	return json_pack("{s:o, s:I, s:I, s:I}", "items", items, "page",
	                 (json_int_t)page, "page_size", (json_int_t)page_size,
	                 "total", (json_int_t)p->total);
}
