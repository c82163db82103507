#ifndef GATEWAY_RATE_LIMIT_H
#define GATEWAY_RATE_LIMIT_H

#include "shop/jwt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Request budgets per client address and per user over a fixed window
 * (window number = wall-clock seconds / window_s, the same in every gateway
 * process), shared by all the gateways through Redis without a Redis call
 * per request.
 *
 * The process keeps one entry per key (kind, id) in a hash map cut into
 * stripes, each under its own mutex. An entry holds, for its window:
 *   total     the window's counter in Redis as the syncer last read it:
 *             every process's admissions, ours included
 *   inflight  admissions the syncer took and is adding to Redis now
 *   pending   admissions not yet taken
 * A worker admits a request when total + inflight + pending < limit, and
 * counts it in pending (rate_limit_admit(): a hash, a mutex, a probe). The
 * syncer (rate_sync.h) moves pending to inflight (rate_limit_collect()),
 * adds the counts to Redis in one round trip, and publishes the counters it
 * reads back (rate_limit_apply()). Only admitted requests count.
 *
 * Within a process the limit is exact. Across processes, each one learns of
 * the others' admissions at its next sync: a key can go over its limit by
 * what the other processes admit in one sync interval.
 *
 * While the limits are not live (the last sync failed, or none has
 * succeeded yet), nothing is counted and nothing refused: fail open.
 *
 * The map holds at most max_keys entries; a new key beyond that is
 * admitted uncounted. Entries of a past window are dropped by the syncer.
 *
 * Every function is thread-safe except new and free.
 */

enum rl_kind {
	RL_ADDRESS, /* the TCP peer address: 4 or 16 bytes */
	RL_USER,    /* the sub of a verified token */
	RL_KIND_COUNT
};

#define RL_ID_MAX   JWT_SUB_MAX /* bytes of an id */
#define RL_KEY_MAX  128         /* a Redis key, with its NUL */
#define RL_MAX_KEYS (1u << 17)  /* default max_keys */

struct rate_limit_options {
	long long window_s;             /* >= 1 */
	long long limit[RL_KIND_COUNT]; /* requests per window, 0 = none */
	size_t max_keys;                /* 0 means RL_MAX_KEYS */
};

struct rate_limit;

/*
 * A map with no entry, not live. Returns 0 and *out (free with
 * rate_limit_free()), SHOP_EINVAL for a window below 1 or a negative limit,
 * or SHOP_ENOMEM.
 */
int rate_limit_new(const struct rate_limit_options *o, struct rate_limit **out);

/* Frees everything. Accepts NULL. No other call may be in progress. */
void rate_limit_free(struct rate_limit *rl);

/*
 * One request of key (kind, id[0..len)) at now (seconds since the epoch).
 * Returns 0 when it is admitted (and counted, when the limits are live),
 * else the seconds until the window ends (>= 1), for Retry-After. A kind
 * without a limit, an id of 0 or more than RL_ID_MAX bytes, and any request
 * while not live are admitted.
 */
unsigned rate_limit_admit(struct rate_limit *rl, enum rl_kind kind,
                          const void *id, size_t len, long long now);

/* The limit of kind (0: none). */
long long rate_limit_limit(const struct rate_limit *rl, enum rl_kind kind);

/* The window in seconds. */
long long rate_limit_window(const struct rate_limit *rl);

/* Whether requests are counted and refused (the syncer says so). */
bool rate_limit_live(const struct rate_limit *rl);
void rate_limit_set_live(struct rate_limit *rl, bool live);

/* How many keys the map holds. */
size_t rate_limit_keys(const struct rate_limit *rl);

/*
 * The id of a client address: its 4 bytes (IPv4, IPv4-mapped IPv6
 * included) or, for IPv6, the 8 bytes of its /64 into out. Returns the
 * length, 0 for another family or NULL.
 */
size_t rate_limit_address_id(const struct sockaddr *sa, unsigned char out[16]);

/* ---- the syncer's side ---- */

/* The counts of one key taken for Redis, and what Redis answered. */
struct rl_item {
	long long window;
	long long total; /* set by the store: the counter after the add */
	uint32_t delta;  /* admissions to add */
	unsigned char kind;
	unsigned char len;
	char id[RL_ID_MAX];
};

/* A growable array of items, reused from one sync to the next. */
struct rl_batch {
	struct rl_item *items;
	size_t n, cap;
};

void rl_batch_init(struct rl_batch *b);
void rl_batch_release(struct rl_batch *b);

/*
 * The Redis key of an item into buf (RL_KEY_MAX bytes):
 * "rl:a:<address>:<window>" (the address as inet_ntop() writes it) or
 * "rl:u:<sub>:<window>". Returns its length.
 */
size_t rl_item_key(const struct rl_item *it, char *buf);

/*
 * Empties b, then moves every entry's pending count into its inflight and
 * appends an item for it to b; drops the entries of a window before now's
 * with nothing pending or in flight. Returns 0, or SHOP_ENOMEM when b could
 * not grow (the counts left out stay pending for the next call).
 */
int rate_limit_collect(struct rate_limit *rl, long long now,
                       struct rl_batch *b);

/*
 * Ends the sync of b (what the last rate_limit_collect() gave): the items'
 * counts leave inflight, and when stored is true each entry's total becomes
 * its item's total (never lower). When stored is false the counts are lost
 * (better to admit a few too many than to count twice what Redis may have
 * stored). An entry that moved to a later window meanwhile is left alone.
 */
void rate_limit_apply(struct rate_limit *rl, const struct rl_batch *b,
                      bool stored);

#endif
