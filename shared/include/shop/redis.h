#ifndef SHOP_REDIS_H
#define SHOP_REDIS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A small Redis client for the fleet's needs (cache, rate limits, token
 * revocation) on hiredis, whose types stay inside redis.c.
 *
 * A pool of blocking connections (a hiredis context is not thread-safe):
 * each call takes one, runs one command under the command timeout, and
 * gives it back. A connection that fails is closed and reopened by a later
 * call. Redis is a cache here, never a reason to stop serving: when it
 * cannot be reached (refused, connect or command timeout, broken
 * connection), the pool is marked down and every call fails at once with
 * SHOP_EUNAVAIL, without touching the network, except one call per retry
 * interval (1 s by default) that tries to connect again. The down and up
 * transitions are logged once each; failures are counted in
 * redis_errors_total{redis="<name>",kind="unavailable"|"timeout"|"reply"}
 * and the state is the gauge redis_up{redis="<name>"}.
 *
 * Keys are NUL-terminated strings; values are bytes with a length.
 * All calls are thread-safe. Every call returns 0 or:
 *   SHOP_EUNAVAIL   Redis cannot be reached, or is loading its data set
 *   SHOP_ETIMEDOUT  no answer within the command timeout, or every
 *                   connection stayed busy that long
 *   SHOP_ERR        Redis answered with an error (wrong type, ...; logged)
 *   SHOP_ENOMEM
 * and leaves its out-parameters untouched when it fails.
 *
 * Writing to a connection the server closed raises SIGPIPE: daemons block
 * it (http_block_signals()); any other caller must block or ignore it.
 */

/* A parsed redis:// URL. The strings are owned by the struct. */
struct redis_url {
	char *host;
	int port;       /* 6379 by default */
	long db;        /* 0 by default */
	char *user;     /* NULL when the URL has none */
	char *password; /* NULL when the URL has none */
};

/*
 * Parses redis://[[user]:password@]host[:port][/db] (user and password
 * percent-encoded; [v6] hosts). Returns 0 and *out (release with
 * redis_url_release()), SHOP_EINVAL for anything else (out untouched), or
 * SHOP_ENOMEM. For clients outside the pool (the gateway's rate-limit
 * syncer, which pipelines on its own hiredis connection).
 */
int redis_url_parse(const char *url, struct redis_url *out);

/* Frees the strings of u and zeroes it. Accepts NULL. */
void redis_url_release(struct redis_url *u);

struct redis_pool;

struct redis_pool_options {
	/* redis://[[user]:password@]host[:port][/db], user and password
	 * percent-encoded; port defaults to 6379, db to 0. Copied. The
	 * password is never logged. */
	const char *url;
	/* Name for logs and the metrics label. Copied. NULL means "redis". */
	const char *name;
	int size;               /* connections, >= 1 */
	int connect_timeout_ms; /* 0 means 100 */
	int command_timeout_ms; /* 0 means 100 */
	int retry_interval_ms;  /* while down, one connect attempt per
	                           interval; 0 means 1000 */
};

/*
 * Creates a pool; connects nothing yet (the first call does). Returns 0 and
 * *out (caller frees with redis_pool_free()), SHOP_EINVAL when the URL does
 * not parse (logged without the password) or a number is out of range, or
 * SHOP_ENOMEM.
 */
int redis_pool_new(const struct redis_pool_options *opt,
                   struct redis_pool **out);

/* Closes the connections and frees the pool. Accepts NULL. No call may be
 * in progress (BUG() otherwise). */
void redis_pool_free(struct redis_pool *r);

/* PING, for /ready. */
int redis_ping(struct redis_pool *r);

/*
 * GET key. Returns 0 with *value (NUL-terminated copy, caller frees with
 * free()) and, when len is not NULL, *len; SHOP_ENOTFOUND when the key does
 * not exist.
 */
int redis_get(struct redis_pool *r, const char *key, char **value, size_t *len);

/* SET key value, with EX ttl_s when ttl_s > 0 (no expiry when 0). */
int redis_set(struct redis_pool *r, const char *key, const char *value,
              size_t len, int ttl_s);

/*
 * SET key value NX, with EX ttl_s when ttl_s > 0. Returns 0 when the key was
 * set, SHOP_ECONFLICT when it already existed (nothing changed).
 */
int redis_set_nx(struct redis_pool *r, const char *key, const char *value,
                 size_t len, int ttl_s);

/* DEL of nkeys (>= 1) keys; *removed (may be NULL) gets how many existed. */
int redis_del(struct redis_pool *r, const char *const *keys, size_t nkeys,
              long long *removed);

/*
 * For rate limits and throttling: INCR key, and EXPIRE key ttl_s (> 0) when
 * the key has no expiry (first increment), atomically (one Lua script).
 * Returns 0 with *count the value after the increment and, when ttl is not
 * NULL, *ttl the seconds left in the window.
 */
int redis_incr_expire(struct redis_pool *r, const char *key, int ttl_s,
                      long long *count, long long *ttl);

/* EXISTS key: *exists true when it does. */
int redis_exists(struct redis_pool *r, const char *key, bool *exists);

/*
 * Walks every key matching the glob pattern `match` with SCAN (never KEYS,
 * so Redis is not blocked) and calls fn(arg, key, ttl_ms) for each, with
 * the key's PTTL (-1: no expiry; a key that expired meanwhile is skipped).
 * A key may be reported twice if the keyspace changes during the walk
 * (SCAN's guarantee). Stops when fn returns nonzero and returns that value;
 * otherwise 0 or a redis error.
 */
int redis_scan_keys(struct redis_pool *r, const char *match,
                    int (*fn)(void *arg, const char *key, long long ttl_ms),
                    void *arg);

/* PUBLISH channel message; *receivers (may be NULL) gets how many
 * subscribers received it. */
int redis_publish(struct redis_pool *r, const char *channel, const char *msg,
                  size_t len, long long *receivers);

/*
 * A subscription to one channel, on its own connection and thread (a
 * subscribed connection can do nothing else), for cache invalidation
 * between replicas. The thread connects with the pool's address and
 * credentials, SUBSCRIBEs, and calls on_message(arg, payload, len) for every
 * message (payload borrowed for the call). Whenever the subscription starts
 * or is lost it calls on_state(arg, live): while it is not live, messages
 * may be missed, so a cache that depends on them must not be trusted. It
 * reconnects by itself every retry interval. Both callbacks run on the
 * subscription's thread. Returns 0 and *out (free with
 * redis_subscription_free), SHOP_ENOMEM or SHOP_ERR (thread creation).
 */
struct redis_subscription;
typedef void (*redis_message_fn)(void *arg, const char *msg, size_t len);
typedef void (*redis_state_fn)(void *arg, bool live);

int redis_subscribe(struct redis_pool *r, const char *channel,
                    redis_message_fn on_message, redis_state_fn on_state,
                    void *arg, struct redis_subscription **out);

/* Stops the thread (within about half a second), closes the connection and
 * frees. The pool must outlive the subscription. Accepts NULL. */
void redis_subscription_free(struct redis_subscription *s);

#endif
