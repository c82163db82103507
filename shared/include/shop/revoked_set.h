#ifndef SHOP_REVOKED_SET_H
#define SHOP_REVOKED_SET_H

#include "shop/jwt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The process's set of revoked tokens: jti -> exp (seconds since the
 * epoch), fed from Redis (revocation.c) and, in the gateway, by the logouts it
 * carried (handler.c), read by every worker for every protected request.
 *
 * An open-addressing hash table under a rwlock: a lookup is a read lock and
 * a probe or two, and nothing at all while the set is empty (an atomic
 * count). An entry is kept until exp + grace_s, the verifier's clock-skew
 * leeway, since jwt_verify() accepts a token that long after its exp;
 * after that the token is refused as expired anyway. Expired entries are
 * ignored by lookups and dropped whenever the table is rebuilt (it grows,
 * or revoked_set_prune() finds any). Revocation never ends early: adding a
 * jti again keeps the later exp.
 *
 * Every function is thread-safe except init and release.
 */

#define REVOKED_SET_MAX      (1u << 20) /* entries; more are refused */
#define REVOKED_SET_NO_TTL_S 86400      /* how long a key without expiry */

struct revoked_entry {
	long long until; /* exp + grace_s; 0: an empty slot */
	char jti[JWT_JTI_MAX];
};

struct revoked_set {
	pthread_rwlock_t lock;
	struct revoked_entry *slots; /* cap slots, cap a power of two */
	size_t cap;
	size_t used;         /* occupied slots, expired ones included */
	atomic_size_t count; /* == used, readable without the lock */
	long long grace_s;
	size_t max; /* REVOKED_SET_MAX, smaller in tests */
};

/* An empty set keeping entries grace_s (>= 0) seconds past their exp.
 * Allocates nothing yet. */
void revoked_set_init(struct revoked_set *s, long long grace_s);

/* Frees the table. No other call may be in progress. */
void revoked_set_release(struct revoked_set *s);

/*
 * Adds jti (NUL-terminated, 1..JWT_JTI_MAX-1 bytes, no space or control
 * character) revoked until exp. A jti already past exp + grace at `now` is
 * not stored and returns 0. Returns 0, SHOP_EINVAL for a bad jti,
 * SHOP_ENOMEM, or SHOP_ECONFLICT when the set holds max entries.
 */
int revoked_set_add(struct revoked_set *s, const char *jti, long long exp,
                    long long now);

/* True when jti is in the set and not yet past exp + grace at now. */
bool revoked_set_contains(struct revoked_set *s, const char *jti,
                          long long now);

/*
 * Adds what a message on AUTH_REVOKED_CHANNEL says: "<jti> <exp>" (msg is
 * len bytes, need not be NUL-terminated). Returns what revoked_set_add()
 * returns, or SHOP_EINVAL for a message of another shape.
 */
int revoked_set_add_message(struct revoked_set *s, const char *msg, size_t len,
                            long long now);

/*
 * Adds what a Redis key says: key is AUTH_REVOKED_PREFIX + jti, ttl_ms its
 * PTTL (-1: no expiry, kept REVOKED_SET_NO_TTL_S; the token's own exp is
 * not known then). Returns what revoked_set_add() returns, or SHOP_EINVAL
 * for a key without the prefix or a ttl below -1.
 */
int revoked_set_add_key(struct revoked_set *s, const char *key,
                        long long ttl_ms, long long now);

/* Drops the entries past their time at now. Returns how many remain. */
size_t revoked_set_prune(struct revoked_set *s, long long now);

/* How many entries the set holds (some may have expired since the last
 * prune). */
size_t revoked_set_size(const struct revoked_set *s);

#endif
