#include "rl_redis.h"

#include "shop/error.h"
#include "shop/redis.h"
#include "shop/util.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define CHUNK          256 /* keys per EVAL */
#define RETRY_NS       1000000000ull
#define DELTA_MAX_TEXT 12

/* KEYS: the counters; ARGV: their deltas, then the time to live. A counter
 * without expiry (created here, or left so by someone else) gets one. */
static const char push_lua[] =
        "local ttl = ARGV[#ARGV] "
        "local r = {} "
        "for i, k in ipairs(KEYS) do "
        "local n = redis.call('INCRBY', k, ARGV[i]) "
        "if redis.call('TTL', k) < 0 then redis.call('EXPIRE', k, ttl) end "
        "r[i] = n "
        "end "
        "return r";

struct rl_redis {
	struct redis_url url;
	int timeout_ms;
	redisContext *ctx;    /* NULL while disconnected */
	uint64_t retry_at_ns; /* no connect before, after a failed one */
	/* one chunk's arguments, reused */
	const char *argv[3 + 2 * CHUNK + 1];
	size_t lens[3 + 2 * CHUNK + 1];
	char keys[CHUNK][RL_KEY_MAX];
	char deltas[CHUNK][DELTA_MAX_TEXT];
	char ttl[24];
	char nkeys[8];
};

/* ---- the connection ---- */

static struct timeval ms_to_tv(int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (ms % 1000) * 1000};

	return tv;
}

static void disconnect(struct rl_redis *r)
{
	if (r->ctx) {
		redisFree(r->ctx);
		r->ctx = NULL;
	}
}

/* A reply's text for a log line: the error, or what went wrong on ctx. */
static void explain(const redisContext *ctx, const redisReply *reply,
                    const char *what, char *why, size_t cap)
{
	if (reply && reply->type == REDIS_REPLY_ERROR)
		snprintf(why, cap, "%s: %.200s", what, reply->str);
	else if (!reply && ctx && ctx->err)
		snprintf(why, cap, "%s: %s", what, ctx->errstr);
	else
		snprintf(why, cap, "%s: unexpected reply", what);
}

/* A command that must answer +OK (AUTH, SELECT). */
static int expect_ok(struct rl_redis *r, int argc, const char **argv,
                     const size_t *lens, const char *what, char *why,
                     size_t cap)
{
	redisReply *reply = redisCommandArgv(r->ctx, argc, argv, lens);
	int rc = 0;

	if (!reply || reply->type != REDIS_REPLY_STATUS ||
	    strcmp(reply->str, "OK") != 0) {
		explain(r->ctx, reply, what, why, cap);
		rc = SHOP_EUNAVAIL;
	}
	if (reply)
		freeReplyObject(reply);
	return rc;
}

/* Connects (AUTH, SELECT) unless connected; at most once per RETRY_NS
 * after a failure. */
static int ensure_connected(struct rl_redis *r, char *why, size_t cap)
{
	uint64_t now = shop_now_ns();
	struct timeval tv = ms_to_tv(r->timeout_ms);

	if (r->ctx)
		return 0;
	if (now < r->retry_at_ns) {
		snprintf(why, cap, "not reachable at the last attempt");
		return SHOP_EUNAVAIL;
	}
	r->retry_at_ns = now + RETRY_NS;
	r->ctx = redisConnectWithTimeout(r->url.host, r->url.port, tv);
	if (!r->ctx) {
		snprintf(why, cap, "out of memory");
		return SHOP_ENOMEM;
	}
	if (r->ctx->err) {
		snprintf(why, cap, "%s", r->ctx->errstr);
		goto fail;
	}
	if (redisSetTimeout(r->ctx, tv) != REDIS_OK) {
		snprintf(why, cap, "cannot set the command timeout");
		goto fail;
	}
	redisEnableKeepAlive(r->ctx);
	if (r->url.password) {
		const char *argv[3] = {"AUTH", r->url.user, r->url.password};
		size_t lens[3] = {4, 0, strlen(r->url.password)};
		int argc = 2;

		if (r->url.user) {
			lens[1] = strlen(r->url.user);
			argc = 3;
		} else {
			argv[1] = r->url.password;
			lens[1] = lens[2];
		}
		if (expect_ok(r, argc, argv, lens, "authentication failed", why,
		              cap) < 0)
			goto fail;
	}
	if (r->url.db) {
		char db[24];
		const char *argv[2] = {"SELECT", db};
		size_t lens[2] = {6, 0};

		lens[1] = (size_t)snprintf(db, sizeof(db), "%ld", r->url.db);
		if (expect_ok(r, 2, argv, lens, "cannot select the db", why,
		              cap) < 0)
			goto fail;
	}
	r->retry_at_ns = 0;
	return 0;

fail:
	disconnect(r);
	return SHOP_EUNAVAIL;
}

/* The error of a failed read or write on the connection, which is then
 * dropped. */
static int io_failure(struct rl_redis *r, const char *what, char *why,
                      size_t cap)
{
	bool timed_out = r->ctx->err == REDIS_ERR_IO &&
	                 (errno == EAGAIN || errno == EWOULDBLOCK);

	if (timed_out)
		snprintf(why, cap, "no answer to %s within %d ms", what,
		         r->timeout_ms);
	else
		snprintf(why, cap, "%s during %s", r->ctx->errstr, what);
	disconnect(r);
	return timed_out ? SHOP_ETIMEDOUT : SHOP_EUNAVAIL;
}

/* ---- the store ---- */

static int append_chunk(struct rl_redis *r, struct rl_item *items, size_t m)
{
	size_t argc = 0;

	r->argv[argc] = "EVAL";
	r->lens[argc++] = 4;
	r->argv[argc] = push_lua;
	r->lens[argc++] = sizeof(push_lua) - 1;
	r->argv[argc] = r->nkeys;
	r->lens[argc++] =
	        (size_t)snprintf(r->nkeys, sizeof(r->nkeys), "%zu", m);
	for (size_t i = 0; i < m; i++) {
		r->argv[argc] = r->keys[i];
		r->lens[argc++] = rl_item_key(&items[i], r->keys[i]);
	}
	for (size_t i = 0; i < m; i++) {
		r->argv[argc] = r->deltas[i];
		r->lens[argc++] =
		        (size_t)snprintf(r->deltas[i], sizeof(r->deltas[i]),
		                         "%u", (unsigned)items[i].delta);
	}
	r->argv[argc] = r->ttl;
	r->lens[argc] = strlen(r->ttl);
	argc++;
	/* hiredis formats the command into its own buffer: ours are free
	 * for the next chunk at once */
	return redisAppendCommandArgv(r->ctx, (int)argc, r->argv, r->lens) ==
	                       REDIS_OK
	               ? 0
	               : SHOP_ENOMEM;
}

static int push(void *self, struct rl_item *items, size_t n, long ttl_s,
                char *why, size_t cap)
{
	struct rl_redis *r = self;
	size_t chunks = (n + CHUNK - 1) / CHUNK;
	int rc = ensure_connected(r, why, cap);

	if (rc < 0)
		return rc;
	snprintf(r->ttl, sizeof(r->ttl), "%ld", ttl_s > 0 ? ttl_s : 1);
	for (size_t c = 0; c < chunks; c++) {
		size_t off = c * CHUNK, m = n - off < CHUNK ? n - off : CHUNK;

		if (append_chunk(r, items + off, m) < 0) {
			snprintf(why, cap, "out of memory");
			disconnect(r); /* half a pipeline written */
			return SHOP_ENOMEM;
		}
	}
	for (size_t c = 0; c < chunks; c++) {
		size_t off = c * CHUNK, m = n - off < CHUNK ? n - off : CHUNK;
		redisReply *reply = NULL;

		errno = 0;
		if (redisGetReply(r->ctx, (void **)&reply) != REDIS_OK)
			return io_failure(r, "EVAL", why, cap);
		if (reply->type != REDIS_REPLY_ARRAY || reply->elements != m) {
			explain(r->ctx, reply, "the counters were refused", why,
			        cap);
			freeReplyObject(reply);
			/* the answers still to come: not worth reading */
			disconnect(r);
			return SHOP_ERR;
		}
		for (size_t i = 0; i < m; i++) {
			const redisReply *e = reply->element[i];

			items[off + i].total =
			        e->type == REDIS_REPLY_INTEGER ? e->integer : 0;
		}
		freeReplyObject(reply);
	}
	return 0;
}

static int ping(void *self, char *why, size_t cap)
{
	struct rl_redis *r = self;
	redisReply *reply;
	int rc = ensure_connected(r, why, cap);

	if (rc < 0)
		return rc;
	errno = 0;
	reply = redisCommand(r->ctx, "PING");
	if (!reply)
		return io_failure(r, "PING", why, cap);
	if (reply->type != REDIS_REPLY_STATUS) {
		explain(r->ctx, reply, "PING", why, cap);
		rc = SHOP_EUNAVAIL; /* LOADING and the like */
		disconnect(r);
	}
	freeReplyObject(reply);
	return rc;
}

static void store_free(void *self)
{
	struct rl_redis *r = self;

	if (!r)
		return;
	disconnect(r);
	redis_url_release(&r->url);
	free(r);
}

static const struct rl_store_ops rl_redis_ops = {
        .push = push,
        .ping = ping,
        .free = store_free,
};

int rl_redis_new(const char *url, int timeout_ms, struct rl_store *out,
                 char *where, size_t cap)
{
	struct rl_redis *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return SHOP_ENOMEM;
	rc = redis_url_parse(url, &r->url);
	if (rc < 0) {
		free(r);
		return rc;
	}
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 250;
	if (where)
		snprintf(where, cap, "%s:%d/%ld", r->url.host, r->url.port,
		         r->url.db);
	out->ops = &rl_redis_ops;
	out->self = r;
	return 0;
}
