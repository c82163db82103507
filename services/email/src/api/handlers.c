#include "handlers.h"

#include <string.h>

#include "shop/error.h"
#include "shop/util.h"
#include "email_json.h"

struct list_query {
	struct http_request *req;
	struct field_errors *errs;
	const char *order_id;
	long page, page_size;
	unsigned seen; /* bit per known parameter */
};

enum { SEEN_PAGE = 1, SEEN_PAGE_SIZE = 2, SEEN_ORDER = 4 };

/* True (after noting the error) when key was given before. */
static bool twice(struct list_query *q, unsigned bit, const char *key)
{
	if (q->seen & bit) {
		if (!field_errors_has(q->errs, key))
			field_errors_add(q->errs, key, "must be given once");
		return true;
	}
	q->seen |= bit;
	return false;
}

static int query_arg(void *arg, const char *key, const char *value)
{
	struct list_query *q = arg;
	long n;

	if (strcmp(key, "page") == 0) {
		if (twice(q, SEEN_PAGE, "page"))
			return 0;
		if (shop_parse_long(value, 1, EMAILS_PAGE_MAX, &n) < 0)
			field_errors_add(
			        q->errs, "page",
			        "must be an integer from 1 to 1000000");
		else
			q->page = n;
	} else if (strcmp(key, "page_size") == 0) {
		if (twice(q, SEEN_PAGE_SIZE, "page_size"))
			return 0;
		if (shop_parse_long(value, 1, EMAILS_PAGE_SIZE_MAX, &n) < 0)
			field_errors_add(q->errs, "page_size",
			                 "must be an integer from 1 to 100");
		else
			q->page_size = n;
	} else if (strcmp(key, "order_id") == 0) {
		if (twice(q, SEEN_ORDER, "order_id"))
			return 0;
		if (!shop_uuid_valid(value))
			field_errors_add(q->errs, "order_id", "must be a UUID");
		else
			q->order_id = value;
	} else {
		const char *k = arena_strdup(q->req->arena, key);
		field_errors_add(q->errs, k ? k : "",
		                 "unknown query parameter");
	}
	return 0;
}

static void list_emails(struct http_request *req)
{
	const struct email_app *app = req->app;
	const struct http_principal *p = req->principal;
	struct field_errors errs;
	struct list_query q = {
	        .req = req,
	        .errs = &errs,
	        .page = 1,
	        .page_size = EMAILS_PAGE_SIZE_DEF,
	};
	struct email_viewer who;
	struct email_page page;
	int rc;

	field_errors_init(&errs);
	http_query_each(req, query_arg, &q);
	if (errs.n) {
		http_respond_invalid(req, "the query is invalid", &errs);
		return;
	}
	who = (struct email_viewer){.user_id = p ? p->sub : NULL,
	                            .is_admin = p && p->is_admin};
	rc = emails_list(&app->reader, req->arena, &who, q.order_id, q.page,
	                 q.page_size, &errs, &page);
	switch (rc) {
	case 0:
		break;
	case SHOP_EINVAL:
		http_respond_invalid(req, "the query is invalid", &errs);
		return;
	case SHOP_EAUTH:
		http_add_header(req, "WWW-Authenticate",
		                "Bearer error=\"invalid_token\"");
		http_respond_problem(req, 401,
		                     "the token's subject is not a user id");
		return;
	default:
		http_respond_error(req, rc, NULL);
		return;
	}
	http_add_header(req, "Cache-Control", "no-store");
	http_respond_json(req, 200,
	                  email_page_to_json(&page, q.page, q.page_size));
}

const struct http_route email_routes[] = {
        {"GET", "/api/emails", list_emails, HTTP_AUTH},
};

const size_t email_nroutes = sizeof(email_routes) / sizeof(*email_routes);
