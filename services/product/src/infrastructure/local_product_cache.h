#ifndef PRODUCT_INFRA_LOCAL_PRODUCT_CACHE_H
#define PRODUCT_INFRA_LOCAL_PRODUCT_CACHE_H

#include <stddef.h>

#include "shop/redis.h"
#include "../core/ports.h"

/*
 * An in-process cache in front of another product cache (the Redis one),
 * so the hot read path — one product by id, the category list — does not
 * pay a Redis round trip. Replicas keep each other honest over Redis
 * pub/sub: every write drops the entry here and publishes its id on
 * "product:v1:invalidate"; every replica subscribes and drops what it is
 * told. While the subscription is not live (Redis down, reconnecting), this
 * layer is bypassed and emptied, so it never serves what it may have missed
 * an invalidation for. Entries also expire after ttl_s as a backstop.
 *
 * The inner cache and the pool are borrowed. Returns a cache with NULL ops
 * when out of memory or the subscription thread cannot start.
 */
struct product_cache local_product_cache_new(struct product_cache inner,
                                             struct redis_pool *redis,
                                             int ttl_s, size_t max_entries);
void local_product_cache_free(struct product_cache cache);

#endif
