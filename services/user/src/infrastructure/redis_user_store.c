#include "redis_user_store.h"

#include <stdio.h>

#include "shop/auth.h"
#include "shop/error.h"

static int redis_revoke(void *self, const char *jti, long long exp)
{
	return auth_revoke(self, jti, exp);
}

static const struct token_revocations_ops revocation_ops = {
        .revoke = redis_revoke,
};

struct token_revocations redis_token_revocations(struct redis_pool *redis)
{
	return (struct token_revocations){.ops = &revocation_ops,
	                                  .self = redis};
}

/* "login_failures:<email>" into key; SHOP_EINVAL when it does not fit. */
static int failure_key(char *key, size_t cap, const char *email)
{
	int n = snprintf(key, cap, "%s%s", LOGIN_FAILURES_PREFIX, email);

	return n < 0 || (size_t)n >= cap ? SHOP_EINVAL : 0;
}

static int redis_failures_add(void *self, const char *email, int window_s,
                              long long *count, long long *retry_after_s)
{
	char key[sizeof(LOGIN_FAILURES_PREFIX) + USER_EMAIL_MAX];
	long long n = 0, ttl = 0;
	int rc = failure_key(key, sizeof(key), email);

	if (rc == 0)
		rc = redis_incr_expire(self, key, window_s, &n, &ttl);
	if (rc)
		return rc;
	*count = n;
	/* -1 (no expiry) cannot happen after the script; be safe anyway. */
	*retry_after_s = ttl > 0 ? ttl : window_s;
	return 0;
}

static int redis_failures_clear(void *self, const char *email)
{
	char key[sizeof(LOGIN_FAILURES_PREFIX) + USER_EMAIL_MAX];
	const char *keys[1] = {key};
	int rc = failure_key(key, sizeof(key), email);

	return rc ? rc : redis_del(self, keys, 1, NULL);
}

static const struct login_failures_ops failure_ops = {
        .add = redis_failures_add,
        .clear = redis_failures_clear,
};

struct login_failures redis_login_failures(struct redis_pool *redis)
{
	return (struct login_failures){.ops = &failure_ops, .self = redis};
}
