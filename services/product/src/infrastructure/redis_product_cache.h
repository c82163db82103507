#ifndef PRODUCT_INFRA_REDIS_PRODUCT_CACHE_H
#define PRODUCT_INFRA_REDIS_PRODUCT_CACHE_H

#include "shop/redis.h"
#include "../core/ports.h"

/*
 * The product read cache on Redis: product documents under
 * "product:v1:<id>" and the category list under "product:v1:categories",
 * each with a TTL of ttl_s seconds. A deleted product is a tombstone, so a
 * slow reader cannot put it back. Writes that fail while Redis is down are
 * remembered and replayed (as deletions) before the next read, so this
 * process never serves a version older than its own last write.
 * Returns a cache whose self is heap-allocated (free with
 * redis_product_cache_free), or one with NULL ops when out of memory. The
 * pool is borrowed.
 */
struct product_cache redis_product_cache_new(struct redis_pool *redis,
                                             int ttl_s);
void redis_product_cache_free(struct product_cache cache);

#endif
