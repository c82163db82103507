#include "shop/auth.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* A jti is a UUID in practice; anything up to the claim's size is accepted
 * as long as it stays one printable word (it becomes part of a Redis key
 * and a space-separated message). */
static bool jti_valid(const char *jti)
{
	size_t n = jti ? strlen(jti) : 0;

	if (n == 0 || n >= JWT_JTI_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (jti[i] <= ' ' || jti[i] == 0x7f)
			return false;
	}
	return true;
}

int auth_revoke(struct redis_pool *r, const char *jti, long long exp)
{
	char key[sizeof(AUTH_REVOKED_PREFIX) + JWT_JTI_MAX];
	char msg[JWT_JTI_MAX + 32];
	/* Verifiers accept a token until exp + JWT_LEEWAY_S: the key lives
	 * that long, plus a margin for clocks that disagree a little more. */
	long long ttl = exp - (long long)time(NULL) + JWT_LEEWAY_S + 30;
	int rc, n;

	if (!jti_valid(jti))
		return SHOP_EINVAL;
	if (ttl <= 0)
		return 0; /* refused everywhere already */
	if (ttl > INT_MAX)
		return SHOP_EINVAL;
	snprintf(key, sizeof(key), "%s%s", AUTH_REVOKED_PREFIX, jti);
	rc = redis_set(r, key, "1", 1, (int)ttl);
	if (rc)
		return rc;
	n = snprintf(msg, sizeof(msg), "%s %lld", jti, exp);
	/* The key is what counts: a lost message only delays the gateway's
	 * in-memory copy until it next reloads the keys. */
	rc = redis_publish(r, AUTH_REVOKED_CHANNEL, msg, (size_t)n, NULL);
	if (rc)
		slog_warn(
		        "revoked token %s, but could not announce it on '%s': "
		        "%s",
		        jti, AUTH_REVOKED_CHANNEL, shop_strerror(rc));
	return 0;
}

int auth_is_revoked(struct redis_pool *r, const char *jti, bool *revoked)
{
	char key[sizeof(AUTH_REVOKED_PREFIX) + JWT_JTI_MAX];
	bool exists = false;
	int rc;

	if (!jti_valid(jti))
		return SHOP_EINVAL;
	snprintf(key, sizeof(key), "%s%s", AUTH_REVOKED_PREFIX, jti);
	rc = redis_exists(r, key, &exists);
	if (rc)
		return rc;
	*revoked = exists;
	return 0;
}

int auth_revocation_start(struct auth_context *ctx)
{
	int rc;

	ctx->revocation = NULL;
	if (!ctx->redis)
		return SHOP_EINVAL;
	revoked_set_init(&ctx->revoked, JWT_LEEWAY_S);
	rc = revocation_start(ctx->redis, &ctx->revoked, &ctx->revocation);
	if (rc) {
		revoked_set_release(&ctx->revoked);
		ctx->revocation = NULL;
	}
	return rc;
}

void auth_revocation_stop(struct auth_context *ctx)
{
	if (!ctx->revocation)
		return;
	revocation_stop(ctx->revocation);
	ctx->revocation = NULL;
	revoked_set_release(&ctx->revoked);
}

int auth_authenticate(void *ctx, const char *token, struct http_principal *out)
{
	static atomic_bool warned;
	const struct auth_context *a = ctx;
	struct jwt_claims claims;
	const char *reason = NULL;
	bool revoked = false;
	int rc = jwt_verify(a->verifier, token, &claims, &reason);

	if (rc) {
		slog_kv(SLOG_DEBUG, NULL, "token rejected",
		        SLOG_S("reason", reason ? reason : "invalid"));
		return SHOP_EAUTH;
	}
	if (!claims.jti[0]) {
		/* Logout could not revoke it: not a token of ours. */
		slog_kv(SLOG_DEBUG, NULL, "token rejected",
		        SLOG_S("reason", "missing jti"));
		return SHOP_EAUTH;
	}
	if (a->revocation && revocation_live(a->revocation)) {
		if (revoked_set_contains((struct revoked_set *)&a->revoked,
		                         claims.jti, (long long)time(NULL))) {
			slog_kv(SLOG_DEBUG, NULL, "token rejected",
			        SLOG_S("reason", "revoked"));
			return SHOP_EAUTH;
		}
	} else if (a->redis) {
		rc = auth_is_revoked(a->redis, claims.jti, &revoked);
		if (rc == SHOP_EINVAL) {
			slog_kv(SLOG_DEBUG, NULL, "token rejected",
			        SLOG_S("reason", "malformed jti"));
			return SHOP_EAUTH;
		}
		if (rc) {
			metric_add(
			        metrics_counter(
			                "auth_revocation_unchecked_total",
			                "Tokens accepted without a revocation "
			                "check because Redis did not answer.",
			                ""),
			        1);
			if (!atomic_exchange(&warned, true))
				slog_warn("cannot check token revocation: %s; "
				          "accepting valid tokens meanwhile",
				          shop_strerror(rc));
		} else if (atomic_load(&warned) &&
		           atomic_exchange(&warned, false)) {
			slog_info("token revocation checks work again");
		}
		if (revoked) {
			slog_kv(SLOG_DEBUG, NULL, "token rejected",
			        SLOG_S("reason", "revoked"));
			return SHOP_EAUTH;
		}
	}
	snprintf(out->sub, sizeof(out->sub), "%s", claims.sub);
	snprintf(out->email, sizeof(out->email), "%s", claims.email);
	snprintf(out->role, sizeof(out->role), "%s", claims.role);
	snprintf(out->jti, sizeof(out->jti), "%s", claims.jti);
	out->exp = claims.exp;
	out->is_admin = strcmp(claims.role, "admin") == 0;
	return 0;
}
