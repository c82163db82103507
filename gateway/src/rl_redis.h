#ifndef GATEWAY_RL_REDIS_H
#define GATEWAY_RL_REDIS_H

#include "rl_store.h"

/*
 * The rate-limit store in Redis (rl_store.h), on one blocking hiredis
 * connection of its own (the shared client, shop/redis.h, runs one command
 * per call; a sync is one pipelined batch). A push is one EVAL of a small
 * Lua script per 256 keys, all written before any answer is read (one round
 * trip): INCRBY key delta, and EXPIRE key ttl when the INCRBY created it.
 *
 * The connection is opened by the first call and dropped on any failure
 * (refused, timeout, an error answer); while Redis cannot be reached, calls
 * fail at once with SHOP_EUNAVAIL and a new connection is tried at most once
 * per second.
 */

/*
 * A store for REDIS_URL url, each call bounded by timeout_ms (> 0). Connects
 * nothing yet. Returns 0 and *out (its ops->free frees it), SHOP_EINVAL for
 * a URL that does not parse, or SHOP_ENOMEM. where (cap bytes) gets
 * "host:port/db" for logs.
 */
int rl_redis_new(const char *url, int timeout_ms, struct rl_store *out,
                 char *where, size_t cap);

#endif
