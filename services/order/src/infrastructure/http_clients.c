#include "http_clients.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/breaker.h"
#include "shop/error.h"
#include "shop/log.h"

struct http_port {
	struct httpc *client;
};

/* Logs a failed call: at debug while the circuit is open (the breaker
 * logged that once; a line per request would flood). */
static void log_failure(struct httpc *c, const char *rid, const char *what,
                        int rc, const char *error)
{
	bool open = httpc_breaker_state(c) == BREAKER_OPEN;

	slog_kv(open ? SLOG_DEBUG : SLOG_WARN, rid, what,
	        SLOG_S("error", shop_strerror(rc)), SLOG_S("detail", error));
}

static int cart_get(void *self, struct arena *a, const struct order_trace *t,
                    const char *user_id, struct cart_snapshot *out)
{
	struct http_port *p = self;
	char path[96], error[160] = "";
	struct httpc_response resp = {0};
	json_t *items, *it;
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "/internal/carts/%s?prices=stored",
	         user_id);
	struct httpc_request req = {
	        .method = HTTPC_GET,
	        .path = path,
	        .request_id = t->request_id,
	        .traceparent = t->traceparent,
	        .expect_json = true,
	        .error = error,
	        .error_cap = sizeof(error),
	};
	rc = httpc_request(p->client, &req, &resp);
	if (rc) {
		log_failure(p->client, t->request_id,
		            "cannot read the cart at checkout", rc, error);
		return rc == SHOP_ENOMEM ? rc : SHOP_EUNAVAIL;
	}
	memset(out, 0, sizeof(*out));
	if (resp.status != 200) {
		slog_kv(SLOG_WARN, t->request_id,
		        "the cart service refused the checkout's read",
		        SLOG_I("status", resp.status));
		rc = SHOP_EUNAVAIL;
		goto out;
	}
	items = json_object_get(resp.json, "items");
	if (!json_is_array(items))
		goto bad;
	out->lines = arena_calloc(a, json_array_size(items) + 1,
	                          sizeof(*out->lines));
	if (!out->lines) {
		rc = SHOP_ENOMEM;
		goto out;
	}
	json_array_foreach(items, i, it)
	{
		struct cart_line *l = &out->lines[i];
		const char *id, *name;
		json_int_t q;

		if (json_unpack(it, "{s:s, s:s, s:I}", "product_id", &id,
		                "name", &name, "quantity", &q) ||
		    strlen(id) != 36 || q < 1)
			goto bad;
		memcpy(l->product_id, id, 37);
		l->name = arena_strdup(a, name);
		l->quantity = q;
		if (!l->name) {
			rc = SHOP_ENOMEM;
			goto out;
		}
	}
	out->n = json_array_size(items);
	rc = 0;
	goto out;
bad:
	slog_kv(SLOG_ERROR, t->request_id,
	        "the cart service's answer makes no sense",
	        SLOG_I("body_bytes", resp.body_len));
	rc = SHOP_EUNAVAIL;
out:
	httpc_response_release(&resp);
	return rc;
}

static const struct cart_source_ops cart_ops = {.get = cart_get};

static int read_reservation(struct arena *a, json_t *body,
                            struct stock_reservation *out)
{
	json_t *items = json_object_get(body, "items"), *it;
	const char *currency =
	        json_string_value(json_object_get(body, "currency"));
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_array(items) || !currency || strlen(currency) != 3)
		return SHOP_EINVAL;
	memcpy(out->currency, currency, 4);
	out->items = arena_calloc(a, json_array_size(items) + 1,
	                          sizeof(*out->items));
	if (!out->items)
		return SHOP_ENOMEM;
	json_array_foreach(items, i, it)
	{
		struct order_item *x = &out->items[i];
		const char *id, *sku, *name;
		json_int_t price, q;

		if (json_unpack(it, "{s:s, s:s, s:s, s:I, s:I}", "product_id",
		                &id, "sku", &sku, "name", &name,
		                "unit_price_cents", &price, "quantity", &q) ||
		    strlen(id) != 36 || price < 0 || q < 1)
			return SHOP_EINVAL;
		memcpy(x->product_id, id, 37);
		x->sku = arena_strdup(a, sku);
		x->name = arena_strdup(a, name);
		x->unit_price_cents = price;
		x->quantity = q;
		if (!x->sku || !x->name)
			return SHOP_ENOMEM;
	}
	out->n = json_array_size(items);
	return 0;
}

static void read_refusal(struct arena *a, long status, json_t *body,
                         struct stock_conflict *cf)
{
	const char *id = json_string_value(json_object_get(body, "product_id"));
	const char *detail = json_string_value(json_object_get(body, "detail"));
	json_t *avail = json_object_get(body, "available");

	memset(cf, 0, sizeof(*cf));
	cf->why = STOCK_OTHER;
	if (id && strlen(id) == 36) {
		memcpy(cf->product_id, id, 37);
		cf->why = status == 409 && json_is_integer(avail)
		                  ? STOCK_INSUFFICIENT
		                  : STOCK_UNKNOWN;
		cf->available = json_is_integer(avail)
		                        ? (long long)json_integer_value(avail)
		                        : 0;
	}
	cf->detail = detail ? arena_strdup(a, detail) : NULL;
}

static int stock_reserve(void *self, struct arena *a,
                         const struct order_trace *t, const char *order_id,
                         const struct cart_snapshot *cart,
                         struct stock_reservation *out,
                         struct stock_conflict *cf)
{
	struct http_port *p = self;
	struct httpc_response resp = {0};
	char error[160] = "";
	json_t *items = json_array(), *body = NULL;
	int rc;

	for (size_t i = 0; items && i < cart->n; i++) {
		json_t *o = json_pack("{s:s, s:I}", "product_id",
		                      cart->lines[i].product_id, "quantity",
		                      (json_int_t)cart->lines[i].quantity);
		if (!o || json_array_append_new(items, o)) {
			json_decref(items);
			items = NULL;
		}
	}
	if (items)
		body = json_pack("{s:s, s:o}", "order_id", order_id, "items",
		                 items);
	if (!body)
		return SHOP_ENOMEM;
	struct httpc_request req = {
	        .method = HTTPC_POST,
	        .path = "/internal/reservations",
	        .json = body,
	        .request_id = t->request_id,
	        .traceparent = t->traceparent,
	        /* The product service answers the same order id again. */
	        .idempotent = true,
	        .error = error,
	        .error_cap = sizeof(error),
	};
	rc = httpc_request(p->client, &req, &resp);
	json_decref(body);
	if (rc) {
		log_failure(p->client, t->request_id,
		            "cannot reserve the order's stock", rc, error);
		return rc == SHOP_ENOMEM ? rc : SHOP_EUNAVAIL;
	}
	if (resp.status == 200 || resp.status == 201) {
		rc = read_reservation(a, resp.json, out);
		if (rc == SHOP_EINVAL) {
			slog_kv(SLOG_ERROR, t->request_id,
			        "the product service's reservation makes no "
			        "sense",
			        SLOG_I("body_bytes", resp.body_len));
			rc = SHOP_EUNAVAIL;
		}
	} else if (resp.status == 409 || resp.status == 422) {
		read_refusal(a, resp.status, resp.json, cf);
		rc = SHOP_ECONFLICT;
	} else {
		slog_kv(SLOG_WARN, t->request_id,
		        "the product service refused the reservation",
		        SLOG_I("status", resp.status),
		        SLOG_S("order_id", order_id));
		rc = SHOP_EUNAVAIL;
	}
	httpc_response_release(&resp);
	return rc;
}

static int stock_cancel(void *self, const struct order_trace *t,
                        const char *order_id)
{
	struct http_port *p = self;
	struct httpc_response resp = {0};
	char path[64], error[160] = "";
	int rc;

	snprintf(path, sizeof(path), "/internal/reservations/%s", order_id);
	struct httpc_request req = {
	        .method = HTTPC_DELETE,
	        .path = path,
	        .request_id = t->request_id,
	        .traceparent = t->traceparent,
	        .error = error,
	        .error_cap = sizeof(error),
	};
	rc = httpc_request(p->client, &req, &resp);
	if (rc)
		return rc;
	rc = resp.status == 204 ? 0 : SHOP_ERR;
	httpc_response_release(&resp);
	return rc;
}

static const struct stock_ops stock_ops = {
        .reserve = stock_reserve,
        .cancel = stock_cancel,
};

struct cart_source http_cart_source_new(struct httpc *cart)
{
	struct cart_source s = {NULL, NULL};
	struct http_port *p = calloc(1, sizeof(*p));

	if (p) {
		p->client = cart;
		s.ops = &cart_ops;
		s.self = p;
	}
	return s;
}

void http_cart_source_free(struct cart_source s)
{
	free(s.self);
}

struct stock http_stock_new(struct httpc *product)
{
	struct stock s = {NULL, NULL};
	struct http_port *p = calloc(1, sizeof(*p));

	if (p) {
		p->client = product;
		s.ops = &stock_ops;
		s.self = p;
	}
	return s;
}

void http_stock_free(struct stock s)
{
	free(s.self);
}
