#ifndef SHOP_REVOCATION_H
#define SHOP_REVOCATION_H

#include "shop/revoked_set.h"

#include "shop/redis.h"

#include <stdbool.h>

/*
 * Keeps the revoked set (revoked_set.h) in step with Redis, off the event
 * loops (shop/auth.h is the contract): a subscription to
 * AUTH_REVOKED_CHANNEL adds every "<jti> <exp>" announced, and each time
 * the subscription becomes live (at start, after Redis comes back) a
 * loader thread walks the AUTH_REVOKED_PREFIX keys with SCAN and adds them
 * all, retrying each second until it succeeds. Only then is revocation
 * "live" (the gauge revocation_live 1): while it is not, the gateway
 * keeps serving with the set it has and a daemon asks Redis per request
 * (shop/auth.h), and each says so once per transition in a warning.
 * Entries past their time are pruned every 30 s.
 */

struct revocation;

/*
 * Starts the subscription and the loader thread. redis and set are
 * borrowed and must outlive revocation_stop(). Returns 0 and *out, or
 * SHOP_ENOMEM / SHOP_ERR (a thread could not start; logged).
 */
int revocation_start(struct redis_pool *redis, struct revoked_set *set,
                     struct revocation **out);

/* Whether the set is known complete: subscribed, and loaded since. */
bool revocation_live(const struct revocation *rv);

/* Stops both threads (within about half a second) and frees. Accepts NULL. */
void revocation_stop(struct revocation *rv);

#endif
