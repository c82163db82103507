#include "handlers.h"

#include <string.h>

#include "shop/error.h"
#include "shop/util.h"
#include "cart_json.h"

static struct cart_trace trace_of(const struct http_request *req)
{
	return (struct cart_trace){.request_id = req->request_id,
	                           .traceparent = req->traceparent};
}

/*
 * The user whose cart this is: the verified token's subject, never
 * anything from the request, so another user's cart cannot be named.
 * NULL (after answering 401) for a token whose subject is not a user id.
 */
static const char *owner(struct http_request *req)
{
	const char *sub = req->principal ? req->principal->sub : NULL;

	if (sub && shop_uuid_valid(sub))
		return sub;
	http_add_header(req, "WWW-Authenticate",
	                "Bearer error=\"invalid_token\"");
	http_respond_problem(req, 401, "the token's subject is not a user id");
	return NULL;
}

static void respond_cart(struct http_request *req, unsigned status,
                         const struct cart_view *v)
{
	http_add_header(req, "Cache-Control", "no-store");
	http_respond_json(req, status, cart_view_to_json(v));
}

static void respond_conflict(struct http_request *req,
                             const struct cart_conflict *cf)
{
	switch (cf->kind) {
	case CART_CONFLICT_STOCK:
		if (cf->stock <= 0)
			http_respond_problem(req, 409,
			                     "'%s' (%s) is out of stock",
			                     cf->product_name, cf->product_id);
		else
			http_respond_problem(
			        req, 409,
			        "only %lld of '%s' (%s) in stock; the cart "
			        "holds %d",
			        cf->stock, cf->product_name, cf->product_id,
			        cf->in_cart);
		break;
	case CART_CONFLICT_QUANTITY:
		http_respond_problem(req, 409,
		                     "a cart holds at most %d of one product; "
		                     "it holds %d of '%s' (%s)",
		                     CART_QTY_MAX, cf->in_cart,
		                     cf->product_name, cf->product_id);
		break;
	case CART_CONFLICT_LINES:
		http_respond_problem(req, 409,
		                     "a cart holds at most %d different "
		                     "products",
		                     CART_MAX_LINES);
		break;
	case CART_CONFLICT_CURRENCY:
		http_respond_problem(req, 409,
		                     "the cart is in %s and '%s' (%s) is not: "
		                     "check out or empty the cart first",
		                     cf->currency, cf->product_name,
		                     cf->product_id);
		break;
	}
}

/* What every change answers besides 200, for product id `id`. */
static void respond_change_error(struct http_request *req, int rc,
                                 const char *id,
                                 const struct field_errors *errs,
                                 const struct cart_conflict *cf)
{
	switch (rc) {
	case SHOP_EINVAL:
		http_respond_invalid(req, "the cart item is invalid", errs);
		break;
	case SHOP_ENOTFOUND:
		http_respond_problem(req, 404, "product '%s' not found", id);
		break;
	case CART_ENOLINE:
		http_respond_problem(req, 404,
		                     "product '%s' is not in your cart", id);
		break;
	case SHOP_ECONFLICT:
		respond_conflict(req, cf);
		break;
	case CART_EPRODUCTS:
		http_add_header(req, "Retry-After", "1");
		http_respond_problem(
		        req, 503,
		        "the product service is unavailable, so "
		        "the cart cannot check products; try again "
		        "shortly");
		break;
	case SHOP_EUNAVAIL:
	case SHOP_ETIMEDOUT:
		http_add_header(req, "Retry-After", "1");
		http_respond_error(req, rc, NULL);
		break;
	default:
		http_respond_error(req, rc, NULL);
	}
}

static void get_cart(struct http_request *req)
{
	struct cart_trace t = trace_of(req);
	const char *user = owner(req);
	struct cart_view v;
	int rc;

	if (!user)
		return;
	rc = carts_get(req->app, req->arena, &t, user, &v);
	if (rc) {
		respond_change_error(req, rc, "", NULL, NULL);
		return;
	}
	respond_cart(req, 200, &v);
}

static void add_item(struct http_request *req)
{
	struct cart_trace t = trace_of(req);
	const char *user = owner(req), *product_id = NULL;
	struct field_errors errs;
	struct cart_conflict cf;
	struct cart_view v;
	long long quantity = 0;
	int rc;

	if (!user)
		return;
	field_errors_init(&errs);
	rc = cart_add_from_json(req->json, &product_id, &quantity, &errs);
	if (rc == 0)
		rc = carts_add(req->app, req->arena, &t, user, product_id,
		               quantity, &errs, &cf, &v);
	if (rc) {
		respond_change_error(req, rc, product_id ? product_id : "",
		                     &errs, &cf);
		return;
	}
	respond_cart(req, 200, &v);
}

static void set_item(struct http_request *req)
{
	struct cart_trace t = trace_of(req);
	const char *user = owner(req), *id = req->params[0];
	struct field_errors errs;
	struct cart_conflict cf;
	struct cart_view v;
	long long quantity = 0;
	int rc;

	if (!user)
		return;
	field_errors_init(&errs);
	/* The path names no product at all: 404 before judging the body
	 * (carts_set_quantity says the same, but only after it). */
	if (!shop_uuid_valid(id)) {
		respond_change_error(req, CART_ENOLINE, id, NULL, NULL);
		return;
	}
	rc = cart_set_from_json(req->json, &quantity, &errs);
	if (rc == 0)
		rc = carts_set_quantity(req->app, req->arena, &t, user, id,
		                        quantity, &errs, &cf, &v);
	if (rc) {
		respond_change_error(req, rc, id, &errs, &cf);
		return;
	}
	respond_cart(req, 200, &v);
}

static void remove_item(struct http_request *req)
{
	struct cart_trace t = trace_of(req);
	const char *user = owner(req), *id = req->params[0];
	struct cart_view v;
	int rc;

	if (!user)
		return;
	rc = carts_remove(req->app, req->arena, &t, user, id, &v);
	if (rc) {
		respond_change_error(req, rc, id, NULL, NULL);
		return;
	}
	respond_cart(req, 200, &v);
}

static void clear_cart(struct http_request *req)
{
	const char *user = owner(req);
	int rc;

	if (!user)
		return;
	rc = carts_clear(req->app, user);
	if (rc) {
		respond_change_error(req, rc, "", NULL, NULL);
		return;
	}
	http_respond_empty(req, 204);
}

/* Only "prices" (current or stored) is a known query parameter of the
 * internal read. */
static int internal_query_arg(void *arg, const char *key, const char *value)
{
	struct http_request *req = arg;

	if (strcmp(key, "prices") == 0 &&
	    (strcmp(value, "current") == 0 || strcmp(value, "stored") == 0))
		return 0;
	http_respond_problem(req, 400,
	                     "unknown query parameter '%s' (only prices="
	                     "current or prices=stored)",
	                     key);
	return 1;
}

/*
 * GET /internal/carts/{user_id}[?prices=stored]: the order service reads a
 * user's cart at checkout. Same shape as GET /api/cart; with
 * prices=stored, the lines' snapshots without asking the product service
 * (the order's prices come from its stock reservation). A user id that is
 * not a UUID has no cart (404).
 */
static void internal_get_cart(struct http_request *req)
{
	struct cart_trace t = trace_of(req);
	const char *user = req->params[0], *prices;
	struct cart_view v;
	int rc;

	if (!shop_uuid_valid(user)) {
		http_respond_problem(req, 404, "user '%s' not found", user);
		return;
	}
	if (http_query_each(req, internal_query_arg, req))
		return;
	prices = http_query(req, "prices");
	if (prices && strcmp(prices, "stored") == 0)
		rc = carts_get_stored(req->app, req->arena, user, &v);
	else
		rc = carts_get(req->app, req->arena, &t, user, &v);
	if (rc) {
		respond_change_error(req, rc, "", NULL, NULL);
		return;
	}
	respond_cart(req, 200, &v);
}

const struct http_route cart_routes[] = {
        {"GET", "/api/cart", get_cart, HTTP_AUTH},
        {"DELETE", "/api/cart", clear_cart, HTTP_AUTH},
        {"POST", "/api/cart/items", add_item, HTTP_AUTH | HTTP_JSON_BODY},
        {"PUT", "/api/cart/items/{product_id}", set_item,
         HTTP_AUTH | HTTP_JSON_BODY},
        {"DELETE", "/api/cart/items/{product_id}", remove_item, HTTP_AUTH},
        {"GET", "/internal/carts/{user_id}", internal_get_cart, HTTP_INTERNAL},
};

const size_t cart_nroutes = sizeof(cart_routes) / sizeof(*cart_routes);
