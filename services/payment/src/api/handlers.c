#include "handlers.h"

#include <string.h>

#include "shop/error.h"
#include "shop/util.h"
#include "payment_json.h"

/*
 * Who asks: the verified token's subject, never anything from the
 * request, so a customer can name no one else. false (after answering
 * 401) for a token whose subject is not a user id.
 */
static bool viewer_of(struct http_request *req, struct payment_viewer *v)
{
	const char *sub = req->principal ? req->principal->sub : NULL;

	if (sub && shop_uuid_valid(sub)) {
		v->user_id = sub;
		v->is_admin = req->principal->is_admin;
		return true;
	}
	http_add_header(req, "WWW-Authenticate",
	                "Bearer error=\"invalid_token\"");
	http_respond_problem(req, 401, "the token's subject is not a user id");
	return false;
}

struct query_parse {
	struct http_request *req;
	struct payment_query *q;
	struct field_errors *errs;
	unsigned seen; /* bit per known parameter */
};

enum { SEEN_PAGE = 1, SEEN_PAGE_SIZE = 2, SEEN_ORDER_ID = 4 };

/* false (recording the error) when the parameter came before. */
static bool first_time(struct query_parse *st, unsigned bit, const char *key)
{
	if (st->seen & bit) {
		if (!field_errors_has(st->errs, key))
			field_errors_add(st->errs, key, "must be given once");
		return false;
	}
	st->seen |= bit;
	return true;
}

static int query_arg(void *arg, const char *key, const char *value)
{
	struct query_parse *st = arg;
	struct payment_query *q = st->q;
	long n;

	if (strcmp(key, "page") == 0) {
		if (!first_time(st, SEEN_PAGE, "page"))
			return 0;
		if (shop_parse_long(value, 1, PAYMENT_PAGE_MAX, &n) < 0)
			field_errors_add(
			        st->errs, "page",
			        "must be an integer from 1 to 1000000");
		else
			q->page = n;
	} else if (strcmp(key, "page_size") == 0) {
		if (!first_time(st, SEEN_PAGE_SIZE, "page_size"))
			return 0;
		if (shop_parse_long(value, 1, PAYMENT_PAGE_SIZE_MAX, &n) < 0)
			field_errors_add(st->errs, "page_size",
			                 "must be an integer from 1 to 100");
		else
			q->page_size = n;
	} else if (strcmp(key, "order_id") == 0) {
		if (!first_time(st, SEEN_ORDER_ID, "order_id"))
			return 0;
		if (!shop_uuid_valid(value))
			field_errors_add(st->errs, "order_id",
			                 "must be an order id (a UUID)");
		else
			q->order_id = value;
	} else {
		const char *k = arena_strdup(st->req->arena, key);
		field_errors_add(st->errs, k ? k : "",
		                 "unknown query parameter (expected page, "
		                 "page_size, order_id)");
	}
	return 0;
}

static void list_payments(struct http_request *req)
{
	struct payment_viewer v;
	struct payment_query q;
	struct field_errors errs;
	struct payment_page page;
	struct query_parse st = {req, &q, &errs, 0};
	int rc;

	if (!viewer_of(req, &v))
		return;
	payment_query_init(&q);
	field_errors_init(&errs);
	http_query_each(req, query_arg, &st);
	if (errs.n) {
		http_respond_invalid(req, "the query is invalid", &errs);
		return;
	}
	rc = payments_list(req->app, req->arena, &v, &q, &page);
	if (rc) {
		http_respond_error(req, rc, NULL);
		return;
	}
	http_add_header(req, "Cache-Control", "no-store");
	http_respond_json(req, 200,
	                  payment_page_to_json(&page, q.page, q.page_size));
}

/* Any query parameter is unknown here. */
static int reject_arg(void *arg, const char *key, const char *value)
{
	struct query_parse *st = arg;
	const char *k = arena_strdup(st->req->arena, key);

	(void)value;
	field_errors_add(st->errs, k ? k : "", "unknown query parameter");
	return 0;
}

static void get_payment(struct http_request *req)
{
	struct payment_viewer v;
	struct payment p;
	struct field_errors errs;
	struct query_parse st = {req, NULL, &errs, 0};
	int rc;

	if (!viewer_of(req, &v))
		return;
	field_errors_init(&errs);
	http_query_each(req, reject_arg, &st);
	if (errs.n) {
		http_respond_invalid(req, "the query is invalid", &errs);
		return;
	}
	rc = payments_get(req->app, &v, req->params[0], &p);
	if (rc == SHOP_ENOTFOUND) {
		http_respond_problem(req, 404, "payment '%s' not found",
		                     req->params[0]);
		return;
	}
	if (rc) {
		http_respond_error(req, rc, NULL);
		return;
	}
	http_add_header(req, "Cache-Control", "no-store");
	http_respond_json(req, 200, payment_to_json(&p));
}

const struct http_route payment_routes[] = {
        {"GET", "/api/payments", list_payments, HTTP_AUTH},
        {"GET", "/api/payments/{id}", get_payment, HTTP_AUTH},
};

const size_t payment_nroutes = sizeof(payment_routes) / sizeof(*payment_routes);
