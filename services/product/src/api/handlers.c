#include "handlers.h"

#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/json.h"
#include "shop/util.h"
#include "product_json.h"

struct query_parse {
	struct http_request *req;
	struct product_query *q;
	struct field_errors *errs;
};

static void parse_price(struct query_parse *st, const char *key,
                        const char *value, long long *out)
{
	long n;

	if (shop_parse_long(value, 0, PRODUCT_PRICE_MAX, &n) < 0)
		field_errors_add(st->errs, key,
		                 "must be an integer from 0 to 100000000");
	else
		*out = n;
}

static int query_arg(void *arg, const char *key, const char *value)
{
	struct query_parse *st = arg;
	struct product_query *q = st->q;
	long n;

	if (strcmp(key, "q") == 0) {
		q->q = value;
	} else if (strcmp(key, "category") == 0) {
		q->category = value;
	} else if (strcmp(key, "min_price_cents") == 0) {
		parse_price(st, "min_price_cents", value, &q->min_price);
	} else if (strcmp(key, "max_price_cents") == 0) {
		parse_price(st, "max_price_cents", value, &q->max_price);
	} else if (strcmp(key, "sort") == 0) {
		if (product_sort_parse(value, &q->sort) < 0)
			field_errors_add(st->errs, "sort",
			                 "must be one of relevance, name, "
			                 "price_asc, price_desc, newest");
	} else if (strcmp(key, "page") == 0) {
		if (shop_parse_long(value, 1, 1000000, &n) < 0)
			field_errors_add(st->errs, "page",
			                 "must be an integer of at least 1");
		else
			q->page = n;
	} else if (strcmp(key, "page_size") == 0) {
		if (shop_parse_long(value, 1, PRODUCT_PAGE_SIZE_MAX, &n) < 0)
			field_errors_add(st->errs, "page_size",
			                 "must be an integer from 1 to 100");
		else
			q->page_size = n;
	} else {
		const char *k = arena_strdup(st->req->arena, key);
		field_errors_add(st->errs, k ? k : "",
		                 "unknown query parameter");
	}
	return 0;
}

/* Only one "ids" is a known query parameter of the internal lookup. */
struct ids_parse {
	struct http_request *req;
	struct field_errors *errs;
	int nids;
};

static int reject_unless_ids(void *arg, const char *key, const char *value)
{
	struct ids_parse *st = arg;
	const char *k;

	(void)value;
	if (strcmp(key, "ids") == 0) {
		if (++st->nids == 2)
			field_errors_add(
			        st->errs, "ids",
			        "must be given once (comma-separated)");
		return 0;
	}
	k = arena_strdup(st->req->arena, key);
	field_errors_add(st->errs, k ? k : "", "unknown query parameter");
	return 0;
}

static struct catalog *catalog_of(const struct http_request *req)
{
	return ((struct product_app *)req->app)->catalog;
}

static void list_products(struct http_request *req)
{
	struct catalog *c = catalog_of(req);
	struct product_query q;
	struct field_errors errs;
	struct product_page page;
	struct query_parse st = {req, &q, &errs};
	int rc;

	product_query_init(&q);
	field_errors_init(&errs);
	http_query_each(req, query_arg, &st);
	if (q.category && !*q.category)
		q.category = NULL;
	if (errs.n) {
		http_respond_invalid(req, "the query is invalid", &errs);
		return;
	}
	rc = catalog_list(c, req->arena, &q, &errs, &page);
	if (rc == SHOP_EINVAL) {
		http_respond_invalid(req, "the query is invalid", &errs);
		return;
	}
	if (rc) {
		http_respond_error(req, rc, NULL);
		return;
	}
	http_respond_json(req, 200,
	                  product_page_to_json(&page, q.page, q.page_size));
}

static void get_product(struct http_request *req)
{
	struct product p;
	int rc = catalog_get(catalog_of(req), req->arena, req->params[0], &p);

	if (rc == SHOP_ENOTFOUND) {
		http_respond_problem(req, 404, "product '%s' not found",
		                     req->params[0]);
		return;
	}
	if (rc) {
		http_respond_error(req, rc, NULL);
		return;
	}
	http_respond_json(req, 200, product_to_json(&p));
}

/*
 * GET /internal/products?ids=<uuid>,<uuid>,...: the products the cart and
 * order services ask about, in one call: {"items": [{"id", "sku", "name",
 * "price_cents", "currency", "stock"}...]} in the order asked, unknown or
 * deleted ids left out (no description: the callers do not show it).
 */
#define INTERNAL_IDS_MAX 200

static void internal_products(struct http_request *req)
{
	const char *ids[INTERNAL_IDS_MAX];
	struct product *items;
	bool *found;
	struct field_errors errs;
	json_t *arr;
	size_t n = 0;
	const char *q;
	char *list, *save = NULL, *tok;
	struct ids_parse st = {req, &errs, 0};
	int rc;

	field_errors_init(&errs);
	if (http_query_each(req, reject_unless_ids, &st) || errs.n) {
		http_respond_invalid(req, "the query is invalid", &errs);
		return;
	}
	q = http_query(req, "ids");
	list = arena_strdup(req->arena, q ? q : "");
	if (!list) {
		http_respond_error(req, SHOP_ENOMEM, NULL);
		return;
	}
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == INTERNAL_IDS_MAX || !shop_uuid_valid(tok)) {
			n = 0;
			break;
		}
		ids[n++] = tok;
	}
	if (n == 0) {
		field_errors_add(&errs, "ids",
		                 "must be 1 to 200 product ids (UUIDs), "
		                 "comma-separated");
		http_respond_invalid(req, "the query is invalid", &errs);
		return;
	}
	items = arena_calloc(req->arena, n, sizeof(*items));
	found = arena_calloc(req->arena, n, sizeof(*found));
	if (!items || !found) {
		http_respond_error(req, SHOP_ENOMEM, NULL);
		return;
	}
	rc = catalog_get_many(catalog_of(req), req->arena, ids, n, items,
	                      found);
	if (rc) {
		http_respond_error(req, rc, NULL);
		return;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		if (!found[i])
			continue;
		if (json_array_append_new(arr,
		                          product_ref_to_json(&items[i]))) {
			json_decref(arr);
			arr = NULL;
		}
	}
	/* json_pack's "o" steals arr, also when it fails. */
	http_respond_json(req, 200,
	                  arr ? json_pack("{s:o}", "items", arr) : NULL);
}

static void list_categories(struct http_request *req)
{
	struct category_list l;
	int rc = catalog_categories(catalog_of(req), req->arena, &l);

	if (rc) {
		http_respond_error(req, rc, NULL);
		return;
	}
	http_respond_json(req, 200, category_list_to_json(&l));
}

/* Maps a write's result: validation, conflict, not found or success. */
static void respond_write(struct http_request *req, int rc,
                          const struct field_errors *errs,
                          const struct product_fields *f, const char *id)
{
	if (rc == SHOP_EINVAL) {
		http_respond_invalid(req, "the product is invalid", errs);
	} else if (rc == SHOP_ECONFLICT) {
		http_respond_problem(req, 409,
		                     "a product with sku '%s' already exists",
		                     f->sku ? f->sku : "");
	} else if (rc == SHOP_ENOTFOUND) {
		http_respond_problem(req, 404, "product '%s' not found",
		                     id ? id : "");
	} else {
		http_respond_error(req, rc, NULL);
	}
}

static void create_product(struct http_request *req)
{
	struct product_fields f = {0};
	struct field_errors errs;
	struct product p;
	int rc;

	field_errors_init(&errs);
	rc = product_fields_from_json(req->json, &f, &errs);
	if (rc == 0)
		rc = catalog_create(catalog_of(req), req->arena, &f, &errs, &p);
	if (rc) {
		respond_write(req, rc, &errs, &f, NULL);
		return;
	}
	http_add_header(req, "Location",
	                arena_sprintf(req->arena, "/api/products/%s", p.id));
	http_respond_json(req, 201, product_to_json(&p));
}

static void patch_product(struct http_request *req)
{
	struct product_fields f = {0};
	struct field_errors errs;
	struct product p;
	int rc;

	field_errors_init(&errs);
	/* The path names no product at all: 404 before judging the body
	 * (catalog_patch says the same, but only after the body is read). */
	if (!shop_uuid_valid(req->params[0])) {
		http_respond_problem(req, 404, "product '%s' not found",
		                     req->params[0]);
		return;
	}
	rc = product_fields_from_json(req->json, &f, &errs);
	if (rc == 0)
		rc = catalog_patch(catalog_of(req), req->arena, req->params[0],
		                   &f, &errs, &p);
	if (rc) {
		respond_write(req, rc, &errs, &f, req->params[0]);
		return;
	}
	http_respond_json(req, 200, product_to_json(&p));
}

static void delete_product(struct http_request *req)
{
	int rc = catalog_delete(catalog_of(req), req->params[0]);

	if (rc == SHOP_ENOTFOUND) {
		http_respond_problem(req, 404, "product '%s' not found",
		                     req->params[0]);
		return;
	}
	if (rc) {
		http_respond_error(req, rc, NULL);
		return;
	}
	http_respond_empty(req, 204);
}

/*
 * A refusal that names a product, for the order service to read: the
 * problem's extension members "product_id" and, for a shortage,
 * "available" (RFC 9457 section 3.2).
 */
static void respond_stock_problem(struct http_request *req, unsigned status,
                                  const struct reservation_conflict *cf,
                                  const char *detail)
{
	json_t *p = http_problem_new(status, detail ? detail : "", NULL);
	char *body;
	size_t len = 0;

	if (p) {
		json_object_set_new(p, "product_id",
		                    json_string(cf->product_id));
		if (cf->why == RESERVATION_INSUFFICIENT)
			json_object_set_new(p, "available",
			                    json_integer(cf->available));
	}
	body = p ? sjson_dump(p, &len) : NULL;
	json_decref(p);
	if (!body) {
		http_respond_error(req, SHOP_ENOMEM, NULL);
		return;
	}
	http_respond_raw(req, status, "application/problem+json", body, len);
	free(body);
}

/*
 * POST /internal/reservations {"order_id", "items": [{"product_id",
 * "quantity"}], "hold_seconds"?}: reserves every item or none (README.md
 * "Reservations"). 201 with the reservation; 200 with the same answer for
 * the same order and items again.
 */
static void create_reservation(struct http_request *req)
{
	struct product_app *app = req->app;
	struct reservation_request r;
	struct field_errors errs;
	struct reservation_conflict cf;
	struct reservation out;
	bool created = false;
	int rc;

	field_errors_init(&errs);
	rc = reservation_request_from_json(req->json, req->arena, &r, &errs);
	if (rc == 0)
		rc = reservations_reserve(app->reservations, req->arena, &r,
		                          &errs, &out, &created, &cf);
	switch (rc) {
	case 0:
		http_respond_json(req, created ? 201 : 200,
		                  reservation_to_json(&out));
		return;
	case SHOP_EINVAL:
		http_respond_invalid(req, "the reservation is invalid", &errs);
		return;
	case SHOP_ECONFLICT:
		break;
	default:
		http_respond_error(req, rc, NULL);
		return;
	}
	switch (cf.why) {
	case RESERVATION_UNKNOWN_PRODUCT:
		respond_stock_problem(req, 422, &cf,
		                      arena_sprintf(req->arena,
		                                    "product '%s' not found",
		                                    cf.product_id));
		break;
	case RESERVATION_INSUFFICIENT:
		respond_stock_problem(
		        req, 409, &cf,
		        arena_sprintf(req->arena,
		                      "insufficient stock for product '%s': "
		                      "%lld left",
		                      cf.product_id, cf.available));
		break;
	case RESERVATION_MIXED_CURRENCY:
		http_respond_problem(req, 422,
		                     "the products are priced in more than "
		                     "one currency");
		break;
	case RESERVATION_MISMATCH:
		http_respond_problem(req, 409,
		                     "order '%s' already holds a reservation "
		                     "of other items",
		                     r.order_id);
		break;
	case RESERVATION_GONE:
		http_respond_problem(req, 409,
		                     "the reservation of order '%s' was "
		                     "released",
		                     r.order_id);
		break;
	}
}

/* DELETE /internal/reservations/{order_id}: gives the hold back now. */
static void cancel_reservation(struct http_request *req)
{
	struct product_app *app = req->app;
	int rc = reservations_cancel(app->reservations, req->arena,
	                             req->params[0]);

	if (rc == SHOP_ENOTFOUND) {
		http_respond_problem(req, 404, "order '%s' not found",
		                     req->params[0]);
		return;
	}
	if (rc) {
		http_respond_error(req, rc, NULL);
		return;
	}
	http_respond_empty(req, 204);
}

const struct http_route product_routes[] = {
        {"GET", "/api/products", list_products, 0},
        {"POST", "/api/products", create_product, HTTP_ADMIN | HTTP_JSON_BODY},
        {"GET", "/api/products/{id}", get_product, 0},
        {"PATCH", "/api/products/{id}", patch_product,
         HTTP_ADMIN | HTTP_JSON_BODY},
        {"DELETE", "/api/products/{id}", delete_product, HTTP_ADMIN},
        {"GET", "/api/categories", list_categories, 0},
        {"GET", "/internal/products", internal_products, HTTP_INTERNAL},
        {"POST", "/internal/reservations", create_reservation,
         HTTP_INTERNAL | HTTP_JSON_BODY},
        {"DELETE", "/internal/reservations/{order_id}", cancel_reservation,
         HTTP_INTERNAL},
};

const size_t product_nroutes = sizeof(product_routes) / sizeof(*product_routes);
