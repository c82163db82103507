#ifndef GATEWAY_HEADERS_H
#define GATEWAY_HEADERS_H

#include <stdbool.h>

/*
 * Which headers cross the gateway. Request headers are passed upstream by
 * an allow-list (what an upstream may need to answer); response headers
 * are passed by a deny-list (hop-by-hop headers, what libmicrohttpd writes
 * itself, and what the gateway sets on every response). Names compare
 * case-insensitively; both lookups dispatch on the length first, since
 * they run for every header of every request.
 */

enum req_header {
	REQH_OTHER,             /* not passed upstream */
	REQH_FORWARD,           /* passed upstream as it is */
	REQH_HOST,              /* passed; noted, so one is added if absent */
	REQH_REQUEST_ID,        /* X-Request-ID: validated, replaced */
	REQH_TRACEPARENT,       /* validated, replaced when invalid */
	REQH_CONTENT_LENGTH,    /* the gateway sends its own */
	REQH_TRANSFER_ENCODING, /* likewise: bodies go upstream unchunked */
	REQH_IF_NONE_MATCH,     /* passed, and used by the static files */
	REQH_AUTHORIZATION,     /* passed as it is, and checked (gw_auth.h) */
	REQH_ORIGIN,            /* passed, and noted for CORS (cors.h) */
	REQH_CORS_METHOD,       /* Access-Control-Request-Method: noted */
};

/* Classifies a request header name (NUL-terminated). */
enum req_header headers_classify_request(const char *name);

/* True when a response header from an upstream is passed to the client.
 * Access-Control-* headers never are: CORS is the gateway's (cors.h). */
bool headers_response_passed(const char *name);

#endif
