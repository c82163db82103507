#ifndef GATEWAY_ROUTE_AUTH_H
#define GATEWAY_ROUTE_AUTH_H

#include <stddef.h>

/*
 * Which proxied requests need a bearer token at the gateway: one static
 * table of (path prefix, set of methods) -> flags, first match wins, and
 * anything the table does not name is public. Prefixes match like the
 * router's (router.h): the prefix itself or the prefix followed by '/', on
 * the percent-decoded path without its query.
 *
 * Protected: POST /api/auth/logout; every method on /api/users, /api/cart,
 * /api/orders, /api/payments and /api/emails; every method but GET, HEAD
 * and OPTIONS on /api/products and /api/categories. Public: the rest of
 * /api/auth (register, login), /.well-known/jwks.json, the catalog reads,
 * the storefront, /health, /ready, /metrics. Roles are not checked here:
 * the services answer 403 themselves.
 */

enum route_auth_flag {
	ROUTE_AUTH_REQUIRED = 1u << 0, /* a valid, unrevoked token */
	ROUTE_AUTH_LOGOUT = 1u << 1,   /* a 204 revokes the request's token */
};

/*
 * The flags of method (as the client sent it; an unknown method counts as
 * "any other") on path (decoded, no query, len bytes, need not be
 * NUL-terminated): 0 for a public route.
 */
unsigned route_auth_lookup(const char *method, const char *path, size_t len);

#endif
