#ifndef GATEWAY_GW_AUTH_H
#define GATEWAY_GW_AUTH_H

#include "shop/revoked_set.h"

#include "shop/jwt.h"

/*
 * The token check of a protected route (route_auth.h): the Authorization
 * header must be exactly "Bearer <token>" (the scheme in any case, one
 * space, one token), the token must pass the shared verifier (ES256 pinned,
 * exp, iss and aud checked: shop/jwt.h) and its jti must not be in the
 * revoked set. Roles are left to the services. The header itself goes
 * upstream unchanged: the services verify it again.
 */

enum gw_auth_result {
	GW_AUTH_OK,
	GW_AUTH_MISSING, /* no Authorization header, or another scheme */
	GW_AUTH_INVALID, /* a malformed Bearer header, or a token that fails */
	GW_AUTH_REVOKED, /* a valid token whose jti is revoked */
	GW_AUTH_RESULT_COUNT
};

/* What the check needs; both borrowed, for the life of the process. */
struct gw_auth {
	const struct jwt_verifier *verifier;
	struct revoked_set *revoked;
};

/*
 * Parses the Authorization header: value is its (first) value or NULL,
 * count how many Authorization headers the request had. Returns GW_AUTH_OK
 * with *token pointing into value (the rest of it, NUL-terminated), or
 * GW_AUTH_MISSING (none, empty, or a scheme other than Bearer) or
 * GW_AUTH_INVALID ("Bearer" with no token, more than one space or token,
 * a control character, or several Authorization headers), with *why a
 * static reason for logs. *token is untouched unless OK.
 */
enum gw_auth_result gw_auth_parse_header(const char *value, unsigned count,
                                         const char **token, const char **why);

/*
 * The whole check at the current time. On GW_AUTH_OK, *claims holds the
 * token's claims; otherwise *why (static, for logs, never for clients)
 * says what failed and *claims is untouched.
 */
enum gw_auth_result gw_auth_check(const struct gw_auth *a, const char *value,
                                  unsigned count, struct jwt_claims *claims,
                                  const char **why);

/* The metrics label of a rejection: "missing", "invalid", "revoked". */
const char *gw_auth_label(enum gw_auth_result r);

/* The problem detail for the client, in plain words, without internals. */
const char *gw_auth_detail(enum gw_auth_result r);

/* The WWW-Authenticate value: `Bearer`, with error="invalid_token" when a
 * token was sent. */
const char *gw_auth_challenge(enum gw_auth_result r);

#endif
