#ifndef SHOP_AUTH_H
#define SHOP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "shop/http.h"
#include "shop/jwt.h"
#include "shop/redis.h"
#include "shop/revocation.h"

/*
 * Authentication as every daemon does it (API.md "Authentication"): the
 * bearer token is verified with the shared ES256-pinned verifier, then its
 * jti is looked up among the revoked tokens in Redis.
 *
 * Revocation (logout) is one Redis key per token, AUTH_REVOKED_PREFIX +
 * jti, that expires when the token would have, plus a message
 * "<jti> <exp>" on the AUTH_REVOKED_CHANNEL pub/sub channel so that a
 * process keeping the revoked set in memory (the gateway) learns it at
 * once. Both are written by auth_revoke(); the user service is the only
 * writer.
 */

#define AUTH_REVOKED_PREFIX  "revoked:"
#define AUTH_REVOKED_CHANNEL "auth:revoked"

/*
 * Marks the token jti (exp its expiry, seconds since the epoch) revoked
 * until no verifier accepts it any more (exp + JWT_LEEWAY_S, plus a
 * margin), and announces it on AUTH_REVOKED_CHANNEL. A token past that
 * needs nothing and returns 0. Returns 0, SHOP_EINVAL for an empty or
 * over-long jti (or an exp absurdly far away), or a redis error (SHOP_EUNAVAIL
 * when Redis is down: the caller answers 503, the token stays valid).
 */
int auth_revoke(struct redis_pool *r, const char *jti, long long exp);

/*
 * *revoked = whether jti was revoked. Returns 0 or a redis error
 * (*revoked untouched).
 */
int auth_is_revoked(struct redis_pool *r, const char *jti, bool *revoked);

/*
 * The context of auth_authenticate(): verifier and redis are borrowed and
 * must outlive the HTTP server. When redis is NULL, revocation is not
 * checked. When auth_revocation_start() ran, the revoked tokens are kept
 * in memory (shop/revocation.h, as the gateway does) and a request costs
 * no Redis round trip while that copy is live; until it is (at start,
 * while Redis is away) each request asks Redis as before.
 */
struct auth_context {
	const struct jwt_verifier *verifier;
	struct redis_pool *redis;
	/* private: auth_revocation_start() */
	struct revoked_set revoked;
	struct revocation *revocation;
};

/*
 * Starts keeping ctx's revoked tokens in memory, in step with Redis
 * (ctx->redis must be set). Returns 0, or SHOP_ENOMEM / SHOP_ERR (logged;
 * the context then keeps asking Redis per request).
 */
int auth_revocation_start(struct auth_context *ctx);

/* Stops it (after the HTTP server stopped). Accepts a context that never
 * started it. */
void auth_revocation_stop(struct auth_context *ctx);

/*
 * An http_authenticate_fn: verifies token with ctx->verifier, refuses a
 * token without a jti (logout could not revoke it) and a revoked one, and
 * fills *out from the claims. When Redis cannot be asked,
 * the token is accepted (fail open: a logged warning and the counter
 * auth_revocation_unchecked_total), since the whole shop would otherwise
 * stop with Redis; tokens live 15 minutes. Returns 0 or SHOP_EAUTH.
 */
int auth_authenticate(void *ctx, const char *token, struct http_principal *out);

#endif
