#ifndef USER_INFRA_REDIS_USER_STORE_H
#define USER_INFRA_REDIS_USER_STORE_H

#include "shop/redis.h"
#include "../core/ports.h"

/*
 * The user service's two uses of Redis. Both borrow the pool, which must
 * outlive them; neither allocates (nothing to free).
 *
 * Revocations go through the fleet's shared auth_revoke() (shop/auth.h):
 * key "revoked:<jti>" until the token expires, announced on the
 * "auth:revoked" channel.
 *
 * Failed sign-ins are counted in "login_failures:<email>" with
 * redis_incr_expire(): a fixed window that starts at the first attempt.
 */
#define LOGIN_FAILURES_PREFIX "login_failures:"

struct token_revocations redis_token_revocations(struct redis_pool *redis);
struct login_failures redis_login_failures(struct redis_pool *redis);

#endif
