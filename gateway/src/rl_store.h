#ifndef GATEWAY_RL_STORE_H
#define GATEWAY_RL_STORE_H

#include "rate_limit.h"

#include <stddef.h>

/*
 * Where the rate-limit counters are shared between gateway processes: Redis
 * in production (rl_redis.h), a fake in the tests. Only the syncer thread
 * calls it, one call at a time; calls may block (for at most the store's
 * own timeout).
 */
struct rl_store_ops {
	/*
	 * Adds each item's delta to the counter of its key (rl_item_key()),
	 * giving a counter it creates a time to live of ttl_s seconds, and
	 * sets each item's total to its counter after the addition. Returns
	 * 0, or SHOP_EUNAVAIL (cannot reach the store), SHOP_ETIMEDOUT or
	 * SHOP_ERR (it refused), with a reason for logs in why (cap bytes)
	 * and the totals unspecified: some of the deltas may have been added.
	 */
	int (*push)(void *self, struct rl_item *items, size_t n, long ttl_s,
	            char *why, size_t cap);
	/* Whether the store answers: 0, or an error as push's, with why. */
	int (*ping)(void *self, char *why, size_t cap);
	/* Closes and frees; self may be NULL. */
	void (*free)(void *self);
};

struct rl_store {
	const struct rl_store_ops *ops;
	void *self;
};

#endif
