#include "http_product_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/breaker.h"
#include "shop/error.h"
#include "shop/log.h"

struct http_product_catalog {
	struct httpc *client;
};

/* Fills p from one item of the product service's answer; SHOP_EINVAL when
 * it lacks a field the cart needs. */
static int item_to_product(struct arena *a, json_t *item,
                           struct cart_product *p)
{
	const char *id, *sku, *name, *currency;
	json_int_t price, stock;

	if (json_unpack(item, "{s:s, s:s, s:s, s:I, s:s, s:I}", "id", &id,
	                "sku", &sku, "name", &name, "price_cents", &price,
	                "currency", &currency, "stock", &stock) != 0 ||
	    strlen(id) != 36 || strlen(currency) != 3 || price < 0)
		return SHOP_EINVAL;
	memcpy(p->id, id, 37);
	p->found = true;
	p->sku = arena_strdup(a, sku);
	p->name = arena_strdup(a, name);
	p->price_cents = price;
	memcpy(p->currency, currency, 4);
	p->stock = stock;
	return p->sku && p->name ? 0 : SHOP_ENOMEM;
}

static int http_lookup(void *self, struct arena *a, const struct cart_trace *t,
                       const char *const *ids, size_t n,
                       struct cart_product *out)
{
	struct http_product_catalog *c = self;
	/* "/internal/products?ids=" + n x 37 */
	size_t cap = 24 + n * 37 + 1, len;
	char *path = arena_alloc(a, cap), error[160] = "";
	struct httpc_response resp = {0};
	struct cart_product *found;
	json_t *items;
	int rc;

	if (!path)
		return SHOP_ENOMEM;
	len = (size_t)snprintf(path, cap, "/internal/products?ids=");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(path + len, cap - len, "%s%s",
		                        i ? "," : "", ids[i]);

	struct httpc_request req = {
	        .method = HTTPC_GET,
	        .path = path,
	        .request_id = t ? t->request_id : NULL,
	        .traceparent = t ? t->traceparent : NULL,
	        .expect_json = true,
	        .error = error,
	        .error_cap = sizeof(error),
	};
	rc = httpc_request(c->client, &req, &resp);
	if (rc == SHOP_EINVAL)
		rc = SHOP_EUNAVAIL; /* a bad answer (req.error says which) */
	if (rc) {
		/* While the circuit is open every call fails at once: the
		 * breaker logged that once, a line per request would flood. */
		bool open = httpc_breaker_state(c->client) == BREAKER_OPEN;
		slog_kv(open ? SLOG_DEBUG : SLOG_WARN, req.request_id,
		        "cannot ask the product service about the cart's "
		        "products",
		        SLOG_S("error", shop_strerror(rc)),
		        SLOG_S("detail", error));
		return rc;
	}
	if (resp.status != 200) {
		slog_kv(SLOG_WARN, req.request_id,
		        "the product service refused the cart's lookup",
		        SLOG_I("status", resp.status));
		rc = SHOP_EUNAVAIL;
		goto out;
	}
	items = json_object_get(resp.json, "items");
	found = arena_calloc(a, n, sizeof(*found));
	if (!found) {
		rc = SHOP_ENOMEM;
		goto out;
	}
	if (!json_is_array(items) || json_array_size(items) > n)
		goto bad;
	for (size_t i = 0; i < json_array_size(items); i++) {
		struct cart_product p;

		rc = item_to_product(a, json_array_get(items, i), &p);
		if (rc == SHOP_ENOMEM)
			goto out;
		if (rc)
			goto bad;
		for (size_t k = 0; k < n; k++) {
			if (strcmp(ids[k], p.id) == 0)
				found[k] = p;
		}
	}
	for (size_t k = 0; k < n; k++) {
		if (!found[k].found) {
			memcpy(found[k].id, ids[k], 37);
			found[k].sku = found[k].name = "";
		}
	}
	memcpy(out, found, n * sizeof(*out));
	rc = 0;
	goto out;
bad:
	slog_kv(SLOG_ERROR, req.request_id,
	        "the product service's lookup answer makes no sense",
	        SLOG_I("body_bytes", resp.body_len));
	rc = SHOP_EUNAVAIL;
out:
	httpc_response_release(&resp);
	return rc;
}

static const struct product_catalog_ops http_ops = {
        .lookup = http_lookup,
};

struct product_catalog http_product_catalog_new(struct httpc *client)
{
	struct product_catalog cat = {NULL, NULL};
	struct http_product_catalog *c = calloc(1, sizeof(*c));

	if (!c)
		return cat;
	c->client = client;
	cat.ops = &http_ops;
	cat.self = c;
	return cat;
}

void http_product_catalog_free(struct product_catalog catalog)
{
	free(catalog.self);
}
