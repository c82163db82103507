#include "pg_order_repo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/outbox.h"

struct pg_order_repo {
	struct db_pool *pool;
};

/* Columns every order query returns, in the order read_order() reads. */
#define ORDER_COLUMNS                                                          \
	"o.id::text, o.user_id::text, o.user_email, o.status, "                \
	"o.currency::text, o.total_cents::text, o.shipping_address::text, "    \
	"o.payment_status, o.payment_id::text, o.failure_reason, "             \
	"extract(epoch from o.created_at)::bigint::text, "                     \
	"extract(epoch from o.updated_at)::bigint::text, "                     \
	"(SELECT json_agg(json_build_object('product_id', i.product_id, "      \
	"'sku', i.sku, 'name', i.name, 'unit_price_cents', "                   \
	"i.unit_price_cents, 'quantity', i.quantity) ORDER BY i.line) "        \
	"FROM order_items i WHERE i.order_id = o.id)::text, "                  \
	"(SELECT json_agg(json_build_object('status', h.status, 'at', "        \
	"extract(epoch from h.at)::bigint) ORDER BY h.seq) "                   \
	"FROM order_status_history h WHERE h.order_id = o.id)::text"
#define NCOLS 14

static const char *const statements[][2] = {
        {"order_create",
         "SELECT create_order($1::uuid, $2::uuid, $3, $4, $5::bigint, "
         "$6::jsonb, $7, $8, $9::jsonb)::text"},
        {"order_get", "SELECT " ORDER_COLUMNS " FROM orders o WHERE o.id = $1"},
        {"order_by_key",
         "SELECT " ORDER_COLUMNS ", o.request_fingerprint FROM orders o "
         "WHERE o.user_id = $1 AND o.idempotency_key = $2"},
        {"order_list",
         "SELECT " ORDER_COLUMNS ", count(*) OVER ()::text FROM orders o "
         "WHERE o.user_id = $1 ORDER BY o.created_at DESC, o.id DESC "
         "LIMIT $2 OFFSET $3"},
        {"order_count", "SELECT count(*)::text FROM orders WHERE user_id = $1"},
        {"order_apply_payment",
         "SELECT outcome, user_id::text, user_email, currency, "
         "total_cents::text, items::text FROM apply_payment($1::uuid, $2, "
         "$3::uuid, $4)"},
};

static char *dup(struct arena *a, const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return arena_strndup(a, PQgetvalue(r, row, col),
	                     (size_t)PQgetlength(r, row, col));
}

static const char *json_str(struct arena *a, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? arena_strdup(a, s) : NULL;
}

static int read_items(struct arena *a, const char *text, struct order *o)
{
	json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
	size_t i;
	json_t *it;
	int rc = 0;

	o->nitems = 0;
	o->items = NULL;
	if (!text)
		return 0;
	if (!json_is_array(arr)) {
		json_decref(arr);
		return SHOP_ERR;
	}
	o->items = arena_calloc(a, json_array_size(arr) + 1, sizeof(*o->items));
	if (!o->items) {
		json_decref(arr);
		return SHOP_ENOMEM;
	}
	json_array_foreach(arr, i, it)
	{
		struct order_item *x = &o->items[i];
		const char *pid =
		        json_string_value(json_object_get(it, "product_id"));

		if (!pid || strlen(pid) != 36) {
			rc = SHOP_ERR;
			break;
		}
		memcpy(x->product_id, pid, 37);
		x->sku = json_str(a, it, "sku");
		x->name = json_str(a, it, "name");
		x->unit_price_cents = (long long)json_integer_value(
		        json_object_get(it, "unit_price_cents"));
		x->quantity = (long long)json_integer_value(
		        json_object_get(it, "quantity"));
		if (!x->sku || !x->name) {
			rc = SHOP_ENOMEM;
			break;
		}
		o->nitems++;
	}
	json_decref(arr);
	return rc;
}

static int read_history(struct arena *a, const char *text, struct order *o)
{
	json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
	size_t i;
	json_t *it;

	o->nhistory = 0;
	if (!json_is_array(arr)) {
		json_decref(arr);
		return text ? SHOP_ERR : 0;
	}
	o->history =
	        arena_calloc(a, json_array_size(arr) + 1, sizeof(*o->history));
	if (!o->history) {
		json_decref(arr);
		return SHOP_ENOMEM;
	}
	json_array_foreach(arr, i, it)
	{
		struct order_status_change *h = &o->history[o->nhistory];
		if (order_status_parse(
		            json_string_value(json_object_get(it, "status")),
		            &h->status))
			continue;
		h->at = (time_t)json_integer_value(json_object_get(it, "at"));
		o->nhistory++;
	}
	json_decref(arr);
	return 0;
}

static int read_address(struct arena *a, const char *text,
                        struct order_address *ad)
{
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;

	memset(ad, 0, sizeof(*ad));
	if (!json_is_object(o)) {
		json_decref(o);
		return SHOP_ERR;
	}
	ad->name = json_str(a, o, "name");
	ad->line1 = json_str(a, o, "line1");
	ad->line2 = json_str(a, o, "line2");
	ad->city = json_str(a, o, "city");
	ad->postal_code = json_str(a, o, "postal_code");
	ad->country = json_str(a, o, "country");
	json_decref(o);
	return 0;
}

static int read_order(struct arena *a, const PGresult *r, int row,
                      struct order *o)
{
	const char *v;
	int rc;

	memset(o, 0, sizeof(*o));
	if (PQnfields(r) < NCOLS)
		return SHOP_ERR;
	snprintf(o->id, sizeof(o->id), "%s", PQgetvalue(r, row, 0));
	snprintf(o->user_id, sizeof(o->user_id), "%s", PQgetvalue(r, row, 1));
	o->user_email = dup(a, r, row, 2);
	if (order_status_parse(PQgetvalue(r, row, 3), &o->status))
		return SHOP_ERR;
	snprintf(o->currency, sizeof(o->currency), "%s", PQgetvalue(r, row, 4));
	o->total_cents = strtoll(PQgetvalue(r, row, 5), NULL, 10);
	rc = read_address(a, PQgetvalue(r, row, 6), &o->address);
	if (rc)
		return rc;
	v = dup(a, r, row, 7);
	if (v) {
		o->payment.known = true;
		o->payment.succeeded = strcmp(v, "succeeded") == 0;
		snprintf(o->payment.payment_id, sizeof(o->payment.payment_id),
		         "%s", PQgetvalue(r, row, 8));
		o->payment.failure_reason = dup(a, r, row, 9);
	}
	o->created_at = (time_t)strtoll(PQgetvalue(r, row, 10), NULL, 10);
	o->updated_at = (time_t)strtoll(PQgetvalue(r, row, 11), NULL, 10);
	rc = read_items(a, dup(a, r, row, 12), o);
	if (rc == 0)
		rc = read_history(a, dup(a, r, row, 13), o);
	return rc;
}

static json_t *items_json(const struct order_item *items, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		const struct order_item *it = &items[i];
		json_t *o = json_pack(
		        "{s:s, s:s, s:s, s:I, s:I}", "product_id",
		        it->product_id, "sku", it->sku, "name", it->name,
		        "quantity", (json_int_t)it->quantity,
		        "unit_price_cents", (json_int_t)it->unit_price_cents);
		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *address_json(const struct order_address *ad)
{
	return json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s}", "name", ad->name,
	                 "line1", ad->line1, "line2", ad->line2, "city",
	                 ad->city, "postal_code", ad->postal_code, "country",
	                 ad->country);
}

/* The order, its items, history and order.created, in one transaction
 * on a pooled connection. */
static int pg_create(void *self, struct arena *a, struct order *o,
                     const char *key, const char *fingerprint,
                     const char *payment_token, const struct order_trace *t)
{
	struct pg_order_repo *r = self;
	struct db_conn *c = NULL;
	json_t *items = items_json(o->items, o->nitems);
	json_t *addr = address_json(&o->address);
	char *items_text = NULL, *addr_text = NULL, total[24];
	PGresult *res = NULL;
	json_t *data = NULL;
	int rc = SHOP_ENOMEM;

	(void)a;
	if (!items || !addr)
		goto out;
	items_text = json_dumps(items, JSON_COMPACT);
	addr_text = json_dumps(addr, JSON_COMPACT);
	if (!items_text || !addr_text)
		goto out;
	snprintf(total, sizeof(total), "%lld", o->total_cents);
	/* order.created (EVENTS.md): the items as the order stores them. */
	data = json_pack("{s:s, s:s, s:s, s:O, s:I, s:s, s:s}", "order_id",
	                 o->id, "user_id", o->user_id, "user_email",
	                 o->user_email, "items", items, "total_cents",
	                 (json_int_t)o->total_cents, "currency", o->currency,
	                 "payment_token", payment_token);
	if (!data)
		goto out;

	const char *params[9] = {o->id,       o->user_id,  o->user_email,
	                         o->currency, total,       addr_text,
	                         key,         fingerprint, items_text};
	rc = db_acquire(r->pool, &c);
	if (rc)
		goto out;
	rc = db_begin(c);
	if (rc)
		goto out;
	rc = db_exec(c, "order_create", 9, params, &res);
	if (rc)
		goto out;
	o->created_at = o->updated_at =
	        (time_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	struct outbox_event ev = {
	        .event_type = "order.created",
	        .producer = "order",
	        .correlation_id = t ? t->request_id : NULL,
	        .traceparent = t ? t->traceparent : NULL,
	        .data = data,
	};
	rc = outbox_add(c, &ev, NULL);
	if (rc)
		goto out;
	rc = db_commit(c);
	if (rc)
		goto out;
	o->history = arena_calloc(a, 1, sizeof(*o->history));
	if (o->history) {
		o->history[0].status = ORDER_PENDING;
		o->history[0].at = o->created_at;
		o->nhistory = 1;
	}
out:
	if (res)
		PQclear(res);
	db_release(c); /* rolls back what is still open */
	free(items_text);
	free(addr_text);
	json_decref(data);
	json_decref(items);
	json_decref(addr);
	return rc;
}

static int pg_get(void *self, struct arena *a, const char *id,
                  struct order *out)
{
	struct pg_order_repo *r = self;
	const char *params[1] = {id};
	PGresult *res;
	int rc = db_pool_exec(r->pool, "order_get", 1, params, &res);

	if (rc)
		return rc;
	rc = PQntuples(res) == 1 ? read_order(a, res, 0, out) : SHOP_ENOTFOUND;
	PQclear(res);
	return rc;
}

static int pg_find_by_key(void *self, struct arena *a, const char *user_id,
                          const char *key, struct order *out,
                          const char **fingerprint)
{
	struct pg_order_repo *r = self;
	const char *params[2] = {user_id, key};
	PGresult *res;
	int rc = db_pool_exec(r->pool, "order_by_key", 2, params, &res);

	if (rc)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return SHOP_ENOTFOUND;
	}
	rc = read_order(a, res, 0, out);
	*fingerprint = dup(a, res, 0, NCOLS);
	PQclear(res);
	return rc;
}

static int pg_list(void *self, struct arena *a, const char *user_id, long page,
                   long page_size, struct order_page *out)
{
	struct pg_order_repo *r = self;
	char limit[24], offset[24];
	const char *params[3] = {user_id, limit, offset};
	PGresult *res;
	int n, rc;

	snprintf(limit, sizeof(limit), "%ld", page_size);
	snprintf(offset, sizeof(offset), "%ld", (page - 1) * page_size);
	rc = db_pool_exec(r->pool, "order_list", 3, params, &res);
	if (rc)
		return rc;
	n = PQntuples(res);
	memset(out, 0, sizeof(*out));
	out->items = arena_calloc(a, (size_t)n + 1, sizeof(*out->items));
	if (!out->items) {
		PQclear(res);
		return SHOP_ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		rc = read_order(a, res, i, &out->items[i]);
		if (rc) {
			PQclear(res);
			return rc;
		}
	}
	out->n = (size_t)n;
	if (n > 0) {
		out->total = strtoll(PQgetvalue(res, 0, NCOLS), NULL, 10);
		PQclear(res);
		return 0;
	}
	PQclear(res);
	/* Past the last page: the window count had no row to ride on. */
	rc = db_pool_exec(r->pool, "order_count", 1, params, &res);
	if (rc)
		return rc;
	out->total = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

static int pg_apply_payment(void *self, void *tx, struct arena *a,
                            const struct payment_result *p,
                            enum order_status to, const struct order_trace *t,
                            bool *moved)
{
	const char *params[4] = {p->order_id, order_status_name(to),
	                         p->payment_id,
	                         p->succeeded ? NULL : p->reason};
	PGresult *res;
	json_t *items = NULL, *data = NULL;
	const char *outcome;
	int rc;

	(void)self;
	(void)a;
	*moved = false;
	rc = db_exec(tx, "order_apply_payment", 4, params, &res);
	if (rc)
		return rc;
	outcome = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
	if (strcmp(outcome, "none") == 0) {
		rc = SHOP_ENOTFOUND;
		goto out;
	}
	if (strcmp(outcome, "unchanged") == 0)
		goto out;
	if (strcmp(outcome, "moved") != 0) {
		rc = SHOP_ERR;
		goto out;
	}
	items = json_loads(PQgetvalue(res, 0, 5), 0, NULL);
	if (!json_is_array(items)) {
		rc = SHOP_ERR;
		goto out;
	}
	/* order.confirmed / order.failed (EVENTS.md). */
	data = json_pack("{s:s, s:s, s:s, s:O, s:I, s:s}", "order_id",
	                 p->order_id, "user_id", PQgetvalue(res, 0, 1),
	                 "user_email", PQgetvalue(res, 0, 2), "items", items,
	                 "total_cents",
	                 (json_int_t)strtoll(PQgetvalue(res, 0, 4), NULL, 10),
	                 "currency", PQgetvalue(res, 0, 3));
	if (!data ||
	    (to == ORDER_FAILED &&
	     json_object_set_new(data, "reason", json_string(p->reason)))) {
		rc = SHOP_ENOMEM;
		goto out;
	}
	struct outbox_event ev = {
	        .event_type = to == ORDER_CONFIRMED ? "order.confirmed"
	                                            : "order.failed",
	        .producer = "order",
	        .correlation_id = t ? t->request_id : NULL,
	        .traceparent = t ? t->traceparent : NULL,
	        .data = data,
	};
	rc = outbox_add(tx, &ev, NULL);
	if (rc == 0)
		*moved = true;
out:
	json_decref(items);
	json_decref(data);
	PQclear(res);
	return rc;
}

static const struct order_repo_ops pg_ops = {
        .find_by_key = pg_find_by_key,
        .create = pg_create,
        .get = pg_get,
        .list = pg_list,
        .apply_payment = pg_apply_payment,
};

struct order_repo pg_order_repo_new(struct db_pool *pool)
{
	struct order_repo repo = {NULL, NULL};
	struct pg_order_repo *r = calloc(1, sizeof(*r));

	if (!r)
		return repo;
	r->pool = pool;
	if (db_pool_prepare_all(pool, statements,
	                        sizeof(statements) / sizeof(*statements))) {
		free(r);
		return repo;
	}
	if (outbox_prepare(pool) < 0) {
		free(r);
		return repo;
	}
	repo.ops = &pg_ops;
	repo.self = r;
	return repo;
}

void pg_order_repo_free(struct order_repo repo)
{
	free(repo.self);
}
