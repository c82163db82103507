#ifndef SHOP_ROUTER_H
#define SHOP_ROUTER_H

#include <stddef.h>

#include "shop/http.h"

/*
 * The route table compiled once at start. Patterns are split into literal
 * segments and {param} segments; a request path is matched segment by
 * segment. Used by the HTTP server; public for its unit tests.
 */
struct router;

enum router_result {
	ROUTER_FOUND = 0,
	ROUTER_NOT_FOUND = -1,         /* no pattern matches the path: 404 */
	ROUTER_METHOD_NOT_ALLOWED = -2 /* a pattern matches, not the method */
};

/* Returns the compiled router (caller frees) or NULL when out of memory.
 * BUG()s on a malformed pattern: that is a programmer's mistake. */
struct router *router_new(const struct http_route *routes, size_t n);
void router_free(struct router *r);

struct router_match {
	const struct http_route *route;
	size_t index;          /* of the route in the table */
	const char *params[8]; /* pointers into path_buf */
	size_t nparams;
	char allow[64]; /* for 405: "GET, PATCH, DELETE" */
};

/*
 * Matches method and path. path_buf is a writable copy of the path the
 * router may cut into parameter strings (NUL-terminated in place).
 */
enum router_result router_match(const struct router *r, const char *method,
                                char *path_buf, struct router_match *m);

#endif
