#ifndef GATEWAY_ROUTER_H
#define GATEWAY_ROUTER_H

#include <stddef.h>

/*
 * The gateway's routing table: which service answers a path. Matching is by
 * path prefix at a segment boundary ("/api/products" matches
 * "/api/products" and "/api/products/42", never "/api/productsx"), on the
 * percent-decoded path without its query.
 */

enum service_id {
	SVC_PRODUCT,
	SVC_USER,
	SVC_CART,
	SVC_ORDER,
	SVC_PAYMENT,
	SVC_EMAIL,
	SVC_COUNT
};

enum route_kind {
	ROUTE_PROXY,    /* forwarded to match.service */
	ROUTE_HEALTH,   /* GET /health */
	ROUTE_READY,    /* GET /ready */
	ROUTE_METRICS,  /* GET /metrics */
	ROUTE_INTERNAL, /* /internal/...: never routed (404) */
	ROUTE_NO_API,   /* /api/... that no service serves (404) */
	ROUTE_STATIC,   /* the storefront */
	ROUTE_KIND_COUNT
};

struct route_match {
	enum route_kind kind;
	enum service_id service; /* for ROUTE_PROXY */
	const char *prefix;      /* the matched prefix: a static string,
	                            used as the metrics route label */
};

/* Classifies path (decoded, no query, len bytes, need not be NUL-ended). */
struct route_match router_match(const char *path, size_t len);

/* "product", "user", ...: static strings. */
const char *service_name(enum service_id s);

/* The environment variable listing a service's upstreams, e.g.
 * "PRODUCT_UPSTREAMS"; a static string. */
const char *service_env(enum service_id s);

/* The default value of that variable ("" when none): a static string. */
const char *service_default_upstreams(enum service_id s);

/* The route label of a non-proxy kind ("static", "/health", ...). */
const char *route_kind_label(enum route_kind k);

#endif
