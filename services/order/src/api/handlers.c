#include "handlers.h"

#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/util.h"
#include "order_json.h"

/*
 * The caller: the verified token's subject and claims, never anything
 * from the request, so another user's orders cannot be named. false
 * (after answering 401) for a token whose subject is not a user id.
 */
static bool caller(struct http_request *req, struct order_caller *who)
{
	const struct http_principal *p = req->principal;

	if (p && shop_uuid_valid(p->sub)) {
		who->user_id = p->sub;
		who->email = p->email;
		who->admin = p->is_admin;
		return true;
	}
	http_add_header(req, "WWW-Authenticate",
	                "Bearer error=\"invalid_token\"");
	http_respond_problem(req, 401, "the token's subject is not a user id");
	return false;
}

static void respond_order(struct http_request *req, unsigned status,
                          const struct order *o)
{
	http_add_header(req, "Cache-Control", "no-store");
	http_respond_json(req, status, order_to_json(o));
}

/* "'Name' (id)" of the product a refusal names. */
static const char *product_label(struct http_request *req,
                                 const struct stock_conflict *cf)
{
	const char *s = NULL;

	if (cf->product_name && cf->product_id[0])
		s = arena_sprintf(req->arena, "'%s' (%s)", cf->product_name,
		                  cf->product_id);
	else if (cf->product_id[0])
		s = cf->product_id;
	return s ? s : "a product";
}

static void respond_unavailable(struct http_request *req, const char *what)
{
	http_add_header(req, "Retry-After", "1");
	http_respond_problem(req, 503,
	                     "the %s service is unavailable, so the order "
	                     "cannot be placed; try again shortly",
	                     what);
}

static void place_order(struct http_request *req)
{
	struct order_trace t = {req->request_id, req->traceparent};
	struct order_caller who;
	struct order_request r;
	struct field_errors errs;
	struct stock_conflict cf = {0};
	struct order o;
	const char *key = http_header(req, "Idempotency-Key");
	char *fingerprint = NULL;
	bool replayed = false;
	int rc;

	if (!caller(req, &who))
		return;
	field_errors_init(&errs);
	if (key && !order_idempotency_key_valid(key)) {
		field_errors_add(&errs, "Idempotency-Key",
		                 "must be 1 to 255 visible ASCII characters");
		http_respond_invalid(req,
		                     "the Idempotency-Key header is "
		                     "invalid",
		                     &errs);
		return;
	}
	rc = order_request_from_json(req->json, &r, &errs);
	if (rc == 0 && key) {
		/* The request as the key remembers it: key order and
		 * spacing do not make another request. */
		char *canon =
		        json_dumps(req->json, JSON_COMPACT | JSON_SORT_KEYS);
		fingerprint = canon ? arena_strdup(req->arena, canon) : NULL;
		free(canon);
		if (!fingerprint)
			rc = SHOP_ENOMEM;
	}
	if (rc == 0)
		rc = orders_place(req->app, req->arena, &t, &who, key,
		                  fingerprint, &r, &errs, &o, &replayed, &cf);
	switch (rc) {
	case 0:
		if (replayed)
			http_add_header(req, "Idempotent-Replayed", "true");
		http_add_header(
		        req, "Location",
		        arena_sprintf(req->arena, "/api/orders/%s", o.id));
		respond_order(req, 201, &o);
		break;
	case SHOP_EINVAL:
		http_respond_invalid(req, "the order is invalid", &errs);
		break;
	case ORDER_EEMPTY:
		http_respond_problem(req, 422,
		                     "your cart is empty: add products before "
		                     "ordering");
		break;
	case ORDER_EKEYREUSED:
		http_respond_problem(
		        req, 422,
		        "this Idempotency-Key was used for another "
		        "request; use a new key for a new order");
		break;
	case SHOP_ECONFLICT:
		if (cf.why == STOCK_INSUFFICIENT)
			http_respond_problem(
			        req, 409,
			        "insufficient stock for product %s: %lld left",
			        product_label(req, &cf), cf.available);
		else if (cf.why == STOCK_UNKNOWN)
			http_respond_problem(
			        req, 409,
			        "product %s is no longer sold: remove it from "
			        "your cart",
			        product_label(req, &cf));
		else
			http_respond_problem(
			        req, 409, "the order cannot be placed: %s",
			        cf.detail ? cf.detail : "the stock refused it");
		break;
	case ORDER_ECART:
		respond_unavailable(req, "cart");
		break;
	case ORDER_ESTOCK:
		respond_unavailable(req, "product");
		break;
	default:
		http_respond_error(req, rc, NULL);
	}
}

struct page_parse {
	struct http_request *req;
	struct field_errors *errs;
	long page, page_size;
};

static int page_arg(void *arg, const char *key, const char *value)
{
	struct page_parse *st = arg;
	long n;

	if (strcmp(key, "page") == 0) {
		if (shop_parse_long(value, 1, 1000000, &n) < 0)
			field_errors_add(st->errs, "page",
			                 "must be an integer of at least 1");
		else
			st->page = n;
	} else if (strcmp(key, "page_size") == 0) {
		if (shop_parse_long(value, 1, ORDER_PAGE_SIZE_MAX, &n) < 0)
			field_errors_add(st->errs, "page_size",
			                 "must be an integer from 1 to 100");
		else
			st->page_size = n;
	} else {
		const char *k = arena_strdup(st->req->arena, key);
		field_errors_add(st->errs, k ? k : "",
		                 "unknown query parameter");
	}
	return 0;
}

static void list_orders(struct http_request *req)
{
	struct order_caller who;
	struct field_errors errs;
	struct page_parse st = {req, &errs, 1, ORDER_PAGE_SIZE_DEFAULT};
	struct order_page pg;
	int rc;

	if (!caller(req, &who))
		return;
	field_errors_init(&errs);
	http_query_each(req, page_arg, &st);
	if (errs.n) {
		http_respond_invalid(req, "the query is invalid", &errs);
		return;
	}
	rc = orders_list(req->app, req->arena, &who, st.page, st.page_size,
	                 &pg);
	if (rc) {
		http_respond_error(req, rc, NULL);
		return;
	}
	http_add_header(req, "Cache-Control", "no-store");
	http_respond_json(req, 200,
	                  order_page_to_json(&pg, st.page, st.page_size));
}

static void get_order(struct http_request *req)
{
	struct order_caller who;
	struct order o;
	int rc;

	if (!caller(req, &who))
		return;
	rc = orders_get(req->app, req->arena, &who, req->params[0], &o);
	if (rc == SHOP_ENOTFOUND) {
		http_respond_problem(req, 404, "order '%s' not found",
		                     req->params[0]);
		return;
	}
	if (rc) {
		http_respond_error(req, rc, NULL);
		return;
	}
	respond_order(req, 200, &o);
}

const struct http_route order_routes[] = {
        {"POST", "/api/orders", place_order, HTTP_AUTH | HTTP_JSON_BODY},
        {"GET", "/api/orders", list_orders, HTTP_AUTH},
        {"GET", "/api/orders/{id}", get_order, HTTP_AUTH},
};

const size_t order_nroutes = sizeof(order_routes) / sizeof(*order_routes);
