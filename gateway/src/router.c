#include "router.h"

#include <stdbool.h>
#include <string.h>

struct route {
	const char *prefix;
	enum service_id service;
};

/* Longest prefixes first would matter only if one prefix extended another;
 * none does, so the order is the service order. */
static const struct route routes[] = {
        {"/api/products", SVC_PRODUCT},
        {"/api/categories", SVC_PRODUCT},
        {"/api/auth", SVC_USER},
        {"/api/users", SVC_USER},
        {"/.well-known/jwks.json", SVC_USER},
        {"/api/cart", SVC_CART},
        {"/api/orders", SVC_ORDER},
        {"/api/payments", SVC_PAYMENT},
        {"/api/emails", SVC_EMAIL},
};

static const struct {
	const char *name, *env, *def;
} services[SVC_COUNT] = {
        [SVC_PRODUCT] = {"product", "PRODUCT_UPSTREAMS", "127.0.0.1:8004"},
        [SVC_USER] = {"user", "USER_UPSTREAMS", ""},
        [SVC_CART] = {"cart", "CART_UPSTREAMS", ""},
        [SVC_ORDER] = {"order", "ORDER_UPSTREAMS", ""},
        [SVC_PAYMENT] = {"payment", "PAYMENT_UPSTREAMS", ""},
        [SVC_EMAIL] = {"email", "EMAIL_UPSTREAMS", ""},
};

/* True when path is prefix itself or prefix followed by '/'. */
static bool has_prefix(const char *path, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	if (len < n || memcmp(path, prefix, n) != 0)
		return false;
	return len == n || path[n] == '/';
}

static bool is_exactly(const char *path, size_t len, const char *s)
{
	size_t n = strlen(s);

	return len == n && memcmp(path, s, n) == 0;
}

struct route_match router_match(const char *path, size_t len)
{
	struct route_match m = {ROUTE_STATIC, SVC_COUNT, "static"};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (has_prefix(path, len, routes[i].prefix)) {
			m.kind = ROUTE_PROXY;
			m.service = routes[i].service;
			m.prefix = routes[i].prefix;
			return m;
		}
	}
	if (has_prefix(path, len, "/api")) {
		m.kind = ROUTE_NO_API;
		m.prefix = "/api";
	} else if (has_prefix(path, len, "/internal")) {
		m.kind = ROUTE_INTERNAL;
		m.prefix = "/internal";
	} else if (is_exactly(path, len, "/health")) {
		m.kind = ROUTE_HEALTH;
		m.prefix = "/health";
	} else if (is_exactly(path, len, "/ready")) {
		m.kind = ROUTE_READY;
		m.prefix = "/ready";
	} else if (is_exactly(path, len, "/metrics")) {
		m.kind = ROUTE_METRICS;
		m.prefix = "/metrics";
	}
	return m;
}

const char *service_name(enum service_id s)
{
	return s < SVC_COUNT ? services[s].name : "none";
}

const char *service_env(enum service_id s)
{
	return s < SVC_COUNT ? services[s].env : NULL;
}

const char *service_default_upstreams(enum service_id s)
{
	return s < SVC_COUNT ? services[s].def : "";
}

const char *route_kind_label(enum route_kind k)
{
	switch (k) {
	case ROUTE_HEALTH:
		return "/health";
	case ROUTE_READY:
		return "/ready";
	case ROUTE_METRICS:
		return "/metrics";
	case ROUTE_INTERNAL:
		return "/internal";
	case ROUTE_NO_API:
		return "/api";
	case ROUTE_STATIC:
		return "static";
	default:
		return "proxy";
	}
}
