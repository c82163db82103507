#ifndef GATEWAY_CORS_H
#define GATEWAY_CORS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Cross-origin requests from the origins in CORS_ORIGINS (exact matches; an
 * empty list turns CORS off: no header at all, OPTIONS proxied as before).
 *
 * With a list, every answer carries `Vary: Origin` (so that a shared cache
 * never serves one origin's answer to another), and an answer to a request
 * whose Origin is listed also carries `Access-Control-Allow-Origin: <it>`
 * and `Access-Control-Expose-Headers`. A preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is answered by the gateway itself, before
 * the token check and the rate limits: 204 with the allowed methods and
 * headers and a Max-Age when the origin is listed, 403 problem+json without
 * any CORS header when it is not. No credentials mode: the API takes bearer
 * tokens, not cookies.
 */

#define CORS_MAX_ORIGINS 32
#define CORS_ORIGIN_MAX  256 /* bytes of one origin, with its NUL */
#define CORS_HEADERS_MAX 5   /* headers cors_headers() may write */

#define CORS_ALLOW_METHODS "GET, POST, PUT, PATCH, DELETE, OPTIONS"
#define CORS_ALLOW_HEADERS                                                     \
	"Authorization, Content-Type, X-Request-ID, Idempotency-Key, "         \
	"traceparent"
#define CORS_EXPOSE_HEADERS "X-Request-ID, Retry-After, Location"
#define CORS_MAX_AGE        "600"

/* The allowed origins, lowercased ("https://shop.example.com:8443"). */
struct cors {
	size_t n;
	char origins[CORS_MAX_ORIGINS][CORS_ORIGIN_MAX];
};

/*
 * Parses a comma-separated list of origins, each scheme://host[:port] with
 * scheme http or https, host a name, an IPv4 address or a [IPv6] literal,
 * and nothing after (no path, not even "/"); spaces around items and empty
 * items are ignored, duplicates kept once, scheme and host lowercased. NULL
 * or "" is the empty list. Returns 0 with *c filled, or SHOP_EINVAL (*c
 * untouched) for anything else: "*", "null", a path, more than
 * CORS_MAX_ORIGINS origins.
 */
int cors_parse(struct cors *c, const char *list);

/* Whether any origin is listed. */
bool cors_enabled(const struct cors *c);

/* The listed origin equal to origin (byte for byte, as browsers send it),
 * or NULL (origin NULL included). The string lives as long as c. */
const char *cors_match(const struct cors *c, const char *origin);

enum cors_preflight {
	CORS_NOT_PREFLIGHT,     /* CORS off, or not a preflight */
	CORS_PREFLIGHT_ALLOWED, /* 204 from the gateway */
	CORS_PREFLIGHT_REFUSED, /* 403 from the gateway */
};

/* What a request is: method as sent, origin its Origin header (or NULL),
 * has_request_method whether it has Access-Control-Request-Method. */
enum cors_preflight cors_classify(const struct cors *c, const char *method,
                                  const char *origin, bool has_request_method);

struct cors_header {
	const char *name;
	const char *value; /* static, or a string of c */
};

/*
 * The CORS headers of an answer to a request with Origin origin (or NULL),
 * which is an allowed preflight or not, into out: none when CORS is off;
 * else Vary, plus for a listed origin Access-Control-Allow-Origin and
 * either Allow-Methods, Allow-Headers and Max-Age (preflight) or
 * Expose-Headers. Returns how many (at most CORS_HEADERS_MAX).
 */
size_t cors_headers(const struct cors *c, const char *origin, bool preflight,
                    struct cors_header out[CORS_HEADERS_MAX]);

#endif
