#include "shop/redis.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* INCR, then give the key its window if it has none (the first increment,
 * or a key some other path left without expiry). */
static const char incr_expire_lua[] =
        "local n = redis.call('INCR', KEYS[1]) "
        "local t = redis.call('TTL', KEYS[1]) "
        "if t < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) t = "
        "tonumber(ARGV[1]) end "
        "return {n, t}";

struct redis_slot {
	redisContext *ctx; /* NULL while disconnected */
	bool busy;         /* under lock */
};

struct redis_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	char *host;
	char *user;     /* NULL when the URL has none */
	char *password; /* NULL when the URL has none */
	char *name;
	char where[300]; /* "host:port/db" for logs, never the password */
	char label[160]; /* redis="<name>" */
	int port;
	long db;
	int size;
	int connect_timeout_ms;
	int command_timeout_ms;
	int retry_interval_ms;
	struct redis_slot *slots;

	/* Under lock. */
	bool down;
	uint64_t retry_at_ns;
};

static struct timeval ms_to_tv(int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (ms % 1000) * 1000};

	return tv;
}

static void count_error(struct redis_pool *r, const char *kind)
{
	char labels[200];

	snprintf(labels, sizeof(labels), "%s,kind=\"%s\"", r->label, kind);
	metric_add(metrics_counter("redis_errors_total",
	                           "Redis calls that failed, by kind.", labels),
	           1);
}

static void set_up_gauge(struct redis_pool *r, int up)
{
	metric_set(metrics_gauge("redis_up",
	                         "1 when Redis answers, 0 while it is down.",
	                         r->label),
	           up);
}

/* ---- URL ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into a new string; NULL on bad escapes or memory. */
static char *pct_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
		    (lo = hexval(s[i + 2])) < 0) {
			free(out);
			return NULL;
		}
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[o] = '\0';
	return out;
}

void redis_url_release(struct redis_url *u)
{
	if (!u)
		return;
	free(u->host);
	free(u->user);
	free(u->password);
	memset(u, 0, sizeof(*u));
}

int redis_url_parse(const char *url, struct redis_url *out)
{
	struct redis_url u = {.port = 6379};
	const char *p, *auth_end, *at = NULL, *host, *host_end, *colon;
	long port = 6379, db = 0;
	int rc = SHOP_EINVAL;

	if (!url || strncmp(url, "redis://", 8) != 0)
		return SHOP_EINVAL;
	p = url + 8;
	auth_end = p + strcspn(p, "/?#");
	if (*auth_end == '?' || *auth_end == '#')
		return SHOP_EINVAL;
	for (const char *q = p; q < auth_end; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *sep = memchr(p, ':', (size_t)(at - p));

		if (!sep)
			goto fail; /* a user without a password */
		if (sep > p && !(u.user = pct_decode(p, (size_t)(sep - p))))
			goto fail;
		if (!(u.password = pct_decode(sep + 1, (size_t)(at - sep - 1))))
			goto fail;
		p = at + 1;
	}
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end)
			goto fail;
		colon = host_end + 1 < auth_end && host_end[1] == ':'
		                ? host_end + 1
		                : NULL;
		if (!colon && host_end + 1 != auth_end)
			goto fail;
	} else {
		host = p;
		colon = memchr(p, ':', (size_t)(auth_end - p));
		host_end = colon ? colon : auth_end;
	}
	if (host_end == host)
		goto fail;
	if (colon) {
		char buf[8];
		size_t n = (size_t)(auth_end - colon - 1);

		if (n == 0 || n >= sizeof(buf))
			goto fail;
		memcpy(buf, colon + 1, n);
		buf[n] = '\0';
		if (shop_parse_long(buf, 1, 65535, &port) != 0)
			goto fail;
	}
	if (*auth_end == '/' && auth_end[1] != '\0' &&
	    shop_parse_long(auth_end + 1, 0, 1000000, &db) != 0)
		goto fail;
	u.host = strndup(host, (size_t)(host_end - host));
	if (!u.host) {
		rc = SHOP_ENOMEM;
		goto fail;
	}
	u.port = (int)port;
	u.db = db;
	*out = u;
	return 0;

fail:
	redis_url_release(&u);
	return rc;
}

/* Fills host, port, db, user, password of r from url. */
static int parse_url(struct redis_pool *r, const char *url)
{
	struct redis_url u;
	int rc = redis_url_parse(url, &u);

	if (rc)
		return rc;
	r->host = u.host;
	r->port = u.port;
	r->db = u.db;
	r->user = u.user;
	r->password = u.password;
	return 0;
}

int redis_pool_new(const struct redis_pool_options *opt,
                   struct redis_pool **out)
{
	struct redis_pool *r;
	pthread_condattr_t ca;
	bool lock_ok = false, cond_ok = false;
	int rc = SHOP_EINVAL;

	if (!opt || !opt->url || opt->size < 1 || opt->size > 1024 ||
	    opt->connect_timeout_ms < 0 || opt->command_timeout_ms < 0 ||
	    opt->retry_interval_ms < 0)
		return SHOP_EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return SHOP_ENOMEM;
	r->name = strdup(opt->name ? opt->name : "redis");
	if (!r->name) {
		rc = SHOP_ENOMEM;
		goto fail;
	}
	rc = parse_url(r, opt->url);
	if (rc) {
		if (rc == SHOP_EINVAL)
			slog_error("invalid url for '%s': expected "
			           "redis://[[user]:password@]host[:port][/db]",
			           r->name);
		goto fail;
	}
	rc = SHOP_ENOMEM;
	r->slots = calloc((size_t)opt->size, sizeof(*r->slots));
	if (!r->slots)
		goto fail;
	r->size = opt->size;
	r->connect_timeout_ms =
	        opt->connect_timeout_ms ? opt->connect_timeout_ms : 100;
	r->command_timeout_ms =
	        opt->command_timeout_ms ? opt->command_timeout_ms : 100;
	r->retry_interval_ms =
	        opt->retry_interval_ms ? opt->retry_interval_ms : 1000;
	snprintf(r->where, sizeof(r->where), "%s:%d/%ld", r->host, r->port,
	         r->db);
	{
		char esc[128];

		metrics_escape_label(esc, sizeof(esc), r->name);
		snprintf(r->label, sizeof(r->label), "redis=\"%s\"", esc);
	}

	rc = SHOP_ERR;
	if (pthread_mutex_init(&r->lock, NULL) != 0)
		goto fail;
	lock_ok = true;
	if (pthread_condattr_init(&ca) != 0)
		goto fail;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(&r->freed, &ca) == 0)
		cond_ok = true;
	pthread_condattr_destroy(&ca);
	if (!cond_ok)
		goto fail;
	*out = r;
	return 0;

fail:
	if (lock_ok)
		pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r->host);
	free(r->user);
	free(r->password);
	free(r->name);
	free(r);
	return rc;
}

void redis_pool_free(struct redis_pool *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->size; i++) {
		if (r->slots[i].busy)
			BUG("redis_pool_free('%s') during a call", r->name);
		if (r->slots[i].ctx)
			redisFree(r->slots[i].ctx);
	}
	pthread_cond_destroy(&r->freed);
	pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r->host);
	free(r->user);
	if (r->password) /* do not leave it in freed memory */
		memset(r->password, 0, strlen(r->password));
	free(r->password);
	free(r->name);
	free(r);
}

/* ---- state ---- */

/* Under lock: closes the idle connections, as dead as the one that just
 * failed when the server restarted. */
static void drop_idle_locked(struct redis_pool *r)
{
	for (int i = 0; i < r->size; i++) {
		if (!r->slots[i].busy && r->slots[i].ctx) {
			redisFree(r->slots[i].ctx);
			r->slots[i].ctx = NULL;
		}
	}
}

/* After a connection-level failure: fail fast until the retry is due. */
static void mark_down(struct redis_pool *r, const char *why)
{
	bool was_up;

	pthread_mutex_lock(&r->lock);
	was_up = !r->down;
	r->down = true;
	r->retry_at_ns =
	        shop_now_ns() + (uint64_t)r->retry_interval_ms * 1000000u;
	drop_idle_locked(r);
	pthread_mutex_unlock(&r->lock);
	if (was_up) {
		slog_error("cannot reach redis '%s' at '%s': %s; failing fast, "
		           "retrying every %d ms",
		           r->name, r->where, why, r->retry_interval_ms);
		set_up_gauge(r, 0);
	}
}

static int check_reply(redisReply *reply, int type, const char *status)
{
	if (!reply || reply->type != type)
		return SHOP_ERR;
	if (status && strcmp(reply->str, status) != 0)
		return SHOP_ERR;
	return 0;
}

/* Opens slot->ctx: connect, AUTH, SELECT. Returns 0, SHOP_EUNAVAIL (why
 * filled) or SHOP_ENOMEM. */
static int slot_connect(struct redis_pool *r, struct redis_slot *s, char *why,
                        size_t cap)
{
	redisContext *ctx = redisConnectWithTimeout(
	        r->host, r->port, ms_to_tv(r->connect_timeout_ms));
	redisReply *reply = NULL;
	int rc = SHOP_EUNAVAIL;

	if (!ctx)
		return SHOP_ENOMEM;
	if (ctx->err) {
		snprintf(why, cap, "%s", ctx->errstr);
		goto free_ctx;
	}
	if (redisSetTimeout(ctx, ms_to_tv(r->command_timeout_ms)) != REDIS_OK) {
		snprintf(why, cap, "cannot set the command timeout");
		goto free_ctx;
	}
	redisEnableKeepAlive(ctx);
	if (r->password) {
		const char *argv[3] = {"AUTH", r->user ? r->user : r->password,
		                       r->password};
		size_t lens[3] = {4, strlen(argv[1]), strlen(r->password)};

		reply = redisCommandArgv(ctx, r->user ? 3 : 2, argv, lens);
		if (check_reply(reply, REDIS_REPLY_STATUS, "OK") != 0) {
			snprintf(why, cap, "authentication failed: %s",
			         reply && reply->type == REDIS_REPLY_ERROR
			                 ? reply->str
			         : ctx->err ? ctx->errstr
			                    : "unexpected reply");
			goto free_reply;
		}
		freeReplyObject(reply);
		reply = NULL;
	}
	if (r->db != 0) {
		char db[24];
		const char *argv[2] = {"SELECT", db};
		size_t lens[2] = {6, 0};

		lens[1] = (size_t)snprintf(db, sizeof(db), "%ld", r->db);
		reply = redisCommandArgv(ctx, 2, argv, lens);
		if (check_reply(reply, REDIS_REPLY_STATUS, "OK") != 0) {
			snprintf(why, cap, "cannot select db %ld: %s", r->db,
			         reply && reply->type == REDIS_REPLY_ERROR
			                 ? reply->str
			         : ctx->err ? ctx->errstr
			                    : "unexpected reply");
			goto free_reply;
		}
		freeReplyObject(reply);
		reply = NULL;
	}
	s->ctx = ctx;
	return 0;

free_reply:
	if (reply)
		freeReplyObject(reply);
free_ctx:
	redisFree(ctx);
	return rc;
}

static void deadline_after(struct timespec *ts, int ms)
{
	shop_deadline_after_ms(CLOCK_MONOTONIC, ms, ts);
}

/* Gives the slot back; answered says Redis just answered on it, which ends
 * a down period. */
static void slot_release(struct redis_pool *r, struct redis_slot *s,
                         bool answered)
{
	bool was_down = false;

	pthread_mutex_lock(&r->lock);
	s->busy = false;
	if (answered && r->down) {
		r->down = false;
		was_down = true;
	}
	pthread_cond_signal(&r->freed);
	pthread_mutex_unlock(&r->lock);
	if (was_down) {
		slog_info("redis '%s' at '%s' is reachable again", r->name,
		          r->where);
		set_up_gauge(r, 1);
	}
}

/* Takes a slot and makes sure it is connected; *fresh tells whether the
 * connection was opened by this call. */
static int slot_acquire(struct redis_pool *r, struct redis_slot **out,
                        bool *fresh)
{
	struct redis_slot *s = NULL;
	struct timespec deadline;
	char why[256];
	uint64_t now;
	int rc;

	pthread_mutex_lock(&r->lock);
	now = shop_now_ns();
	if (r->down) {
		if (now < r->retry_at_ns) {
			pthread_mutex_unlock(&r->lock);
			count_error(r, "unavailable");
			return SHOP_EUNAVAIL;
		}
		/* This call is the one probe of the interval. */
		r->retry_at_ns =
		        now + (uint64_t)r->retry_interval_ms * 1000000u;
	}
	deadline_after(&deadline, r->command_timeout_ms);
	for (;;) {
		struct redis_slot *idle_empty = NULL;

		for (int i = 0; i < r->size && !s; i++) {
			if (r->slots[i].busy)
				continue;
			if (r->slots[i].ctx)
				s = &r->slots[i];
			else if (!idle_empty)
				idle_empty = &r->slots[i];
		}
		if (!s)
			s = idle_empty;
		if (s)
			break;
		if (pthread_cond_timedwait(&r->freed, &r->lock, &deadline) ==
		    ETIMEDOUT) {
			pthread_mutex_unlock(&r->lock);
			slog_warn("every connection to redis '%s' stayed busy "
			          "for %d ms",
			          r->name, r->command_timeout_ms);
			count_error(r, "timeout");
			return SHOP_ETIMEDOUT;
		}
	}
	s->busy = true;
	pthread_mutex_unlock(&r->lock);

	*fresh = s->ctx == NULL;
	if (*fresh) {
		rc = slot_connect(r, s, why, sizeof(why));
		if (rc) {
			slot_release(r, s, false);
			if (rc == SHOP_EUNAVAIL) {
				mark_down(r, why);
				count_error(r, "unavailable");
			}
			return rc;
		}
		set_up_gauge(r, 1);
	}
	*out = s;
	return 0;
}

/*
 * Runs one command. Returns 0 and *out (caller frees with freeReplyObject)
 * for any reply but an error reply, which is logged and mapped.
 *
 * A pooled connection the server closed while it sat idle (Redis
 * restarted) fails on first use without having run the command: then the
 * idle connections are dropped and the command is sent once more on a new
 * connection, so a restart costs no failed call. Timeouts are not retried.
 */
static int command(struct redis_pool *r, int argc, const char **argv,
                   const size_t *lens, redisReply **out)
{
	struct redis_slot *s;
	redisReply *reply;
	bool fresh;
	int rc;

	for (int attempt = 0;; attempt++) {
		bool timed_out;
		char why[160];

		rc = slot_acquire(r, &s, &fresh);
		if (rc)
			return rc;
		errno = 0;
		reply = redisCommandArgv(s->ctx, argc, argv, lens);
		if (reply)
			break;
		timed_out = s->ctx->err == REDIS_ERR_IO &&
		            (errno == EAGAIN || errno == EWOULDBLOCK);
		if (timed_out)
			snprintf(why, sizeof(why),
			         "no answer to %s within %d ms", argv[0],
			         r->command_timeout_ms);
		else
			snprintf(why, sizeof(why), "%s during %s",
			         s->ctx->errstr, argv[0]);
		rc = s->ctx->err == REDIS_ERR_OOM ? SHOP_ENOMEM
		     : timed_out                  ? SHOP_ETIMEDOUT
		                                  : SHOP_EUNAVAIL;
		redisFree(s->ctx);
		s->ctx = NULL;
		if (rc == SHOP_EUNAVAIL && !fresh && attempt == 0) {
			pthread_mutex_lock(&r->lock);
			drop_idle_locked(r);
			pthread_mutex_unlock(&r->lock);
			slot_release(r, s, false);
			slog_debug("redis '%s': pooled connection was closed "
			           "(%s), reconnecting",
			           r->name, why);
			continue;
		}
		slot_release(r, s, false);
		if (rc != SHOP_ENOMEM) {
			mark_down(r, why);
			count_error(r, timed_out ? "timeout" : "unavailable");
		}
		return rc;
	}
	slot_release(r, s, true);
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "LOADING", 7) == 0 ||
		    strncmp(reply->str, "MASTERDOWN", 10) == 0 ||
		    strncmp(reply->str, "BUSY", 4) == 0) {
			rc = SHOP_EUNAVAIL;
			count_error(r, "unavailable");
		} else {
			slog_error("redis '%s' refused %s: %.200s", r->name,
			           argv[0], reply->str);
			rc = SHOP_ERR;
			count_error(r, "reply");
		}
		freeReplyObject(reply);
		return rc;
	}
	*out = reply;
	return 0;
}

static int unexpected(struct redis_pool *r, const char *cmd, redisReply *reply)
{
	slog_error("redis '%s' answered %s with an unexpected reply type %d",
	           r->name, cmd, reply->type);
	count_error(r, "reply");
	freeReplyObject(reply);
	return SHOP_ERR;
}

/* ---- operations ---- */

int redis_ping(struct redis_pool *r)
{
	const char *argv[1] = {"PING"};
	size_t lens[1] = {4};
	redisReply *reply;
	int rc = command(r, 1, argv, lens, &reply);

	if (rc)
		return rc;
	if (reply->type != REDIS_REPLY_STATUS)
		return unexpected(r, "PING", reply);
	freeReplyObject(reply);
	return 0;
}

int redis_get(struct redis_pool *r, const char *key, char **value, size_t *len)
{
	const char *argv[2] = {"GET", key};
	size_t lens[2] = {3, strlen(key)};
	redisReply *reply;
	char *copy;
	int rc = command(r, 2, argv, lens, &reply);

	if (rc)
		return rc;
	if (reply->type == REDIS_REPLY_NIL) {
		rc = SHOP_ENOTFOUND;
		goto free_reply;
	}
	if (reply->type != REDIS_REPLY_STRING)
		return unexpected(r, "GET", reply);
	copy = malloc(reply->len + 1);
	if (!copy) {
		rc = SHOP_ENOMEM;
		goto free_reply;
	}
	memcpy(copy, reply->str, reply->len);
	copy[reply->len] = '\0';
	*value = copy;
	if (len)
		*len = reply->len;
	rc = 0;

free_reply:
	freeReplyObject(reply);
	return rc;
}

static int set(struct redis_pool *r, const char *key, const char *value,
               size_t len, int ttl_s, bool nx)
{
	char ttl[24];
	const char *argv[6] = {"SET", key, value};
	size_t lens[6] = {3, strlen(key), len};
	int argc = 3, rc;
	redisReply *reply;

	if (ttl_s < 0)
		BUG("redis SET with a negative ttl");
	if (ttl_s > 0) {
		argv[argc] = "EX", lens[argc++] = 2;
		lens[argc] = (size_t)snprintf(ttl, sizeof(ttl), "%d", ttl_s);
		argv[argc++] = ttl;
	}
	if (nx)
		argv[argc] = "NX", lens[argc++] = 2;
	rc = command(r, argc, argv, lens, &reply);
	if (rc)
		return rc;
	if (nx && reply->type == REDIS_REPLY_NIL)
		rc = SHOP_ECONFLICT;
	else if (reply->type != REDIS_REPLY_STATUS)
		return unexpected(r, "SET", reply);
	freeReplyObject(reply);
	return rc;
}

int redis_set(struct redis_pool *r, const char *key, const char *value,
              size_t len, int ttl_s)
{
	return set(r, key, value, len, ttl_s, false);
}

int redis_set_nx(struct redis_pool *r, const char *key, const char *value,
                 size_t len, int ttl_s)
{
	return set(r, key, value, len, ttl_s, true);
}

int redis_del(struct redis_pool *r, const char *const *keys, size_t nkeys,
              long long *removed)
{
	const char **argv;
	size_t *lens;
	redisReply *reply = NULL;
	int rc = SHOP_ENOMEM;

	if (nkeys == 0 || nkeys > 100000)
		BUG("redis DEL of %zu keys", nkeys);
	argv = calloc(nkeys + 1, sizeof(*argv));
	lens = calloc(nkeys + 1, sizeof(*lens));
	if (!argv || !lens)
		goto free_args;
	argv[0] = "DEL", lens[0] = 3;
	for (size_t i = 0; i < nkeys; i++)
		argv[i + 1] = keys[i], lens[i + 1] = strlen(keys[i]);
	rc = command(r, (int)nkeys + 1, argv, lens, &reply);
	if (rc)
		goto free_args;
	if (reply->type != REDIS_REPLY_INTEGER) {
		rc = unexpected(r, "DEL", reply);
		goto free_args;
	}
	if (removed)
		*removed = reply->integer;
	freeReplyObject(reply);

free_args:
	free(argv);
	free(lens);
	return rc;
}

int redis_incr_expire(struct redis_pool *r, const char *key, int ttl_s,
                      long long *count, long long *ttl)
{
	char window[24];
	const char *argv[5] = {"EVAL", incr_expire_lua, "1", key, window};
	size_t lens[5] = {4, sizeof(incr_expire_lua) - 1, 1, strlen(key), 0};
	redisReply *reply;
	int rc;

	if (ttl_s <= 0)
		BUG("redis_incr_expire needs a positive ttl");
	lens[4] = (size_t)snprintf(window, sizeof(window), "%d", ttl_s);
	rc = command(r, 5, argv, lens, &reply);
	if (rc)
		return rc;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER ||
	    reply->element[1]->type != REDIS_REPLY_INTEGER)
		return unexpected(r, "INCR", reply);
	*count = reply->element[0]->integer;
	if (ttl)
		*ttl = reply->element[1]->integer;
	freeReplyObject(reply);
	return 0;
}

int redis_exists(struct redis_pool *r, const char *key, bool *exists)
{
	const char *argv[2] = {"EXISTS", key};
	size_t lens[2] = {6, strlen(key)};
	redisReply *reply;
	int rc = command(r, 2, argv, lens, &reply);

	if (rc)
		return rc;
	if (reply->type != REDIS_REPLY_INTEGER)
		return unexpected(r, "EXISTS", reply);
	*exists = reply->integer > 0;
	freeReplyObject(reply);
	return 0;
}

static int pttl(struct redis_pool *r, const char *key, long long *ttl_ms)
{
	const char *argv[2] = {"PTTL", key};
	size_t lens[2] = {4, strlen(key)};
	redisReply *reply;
	int rc = command(r, 2, argv, lens, &reply);

	if (rc)
		return rc;
	if (reply->type != REDIS_REPLY_INTEGER)
		return unexpected(r, "PTTL", reply);
	*ttl_ms = reply->integer;
	freeReplyObject(reply);
	return 0;
}

int redis_scan_keys(struct redis_pool *r, const char *match,
                    int (*fn)(void *arg, const char *key, long long ttl_ms),
                    void *arg)
{
	char cursor[32] = "0";

	do {
		const char *argv[6] = {"SCAN", cursor,  "MATCH",
		                       match,  "COUNT", "1000"};
		size_t lens[6] = {4, strlen(cursor), 5, strlen(match), 5, 4};
		redisReply *reply, *keys;
		int rc = command(r, 6, argv, lens, &reply);

		if (rc)
			return rc;
		if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
		    reply->element[0]->type != REDIS_REPLY_STRING ||
		    reply->element[0]->len >= sizeof(cursor) ||
		    reply->element[1]->type != REDIS_REPLY_ARRAY)
			return unexpected(r, "SCAN", reply);
		memcpy(cursor, reply->element[0]->str, reply->element[0]->len);
		cursor[reply->element[0]->len] = '\0';
		keys = reply->element[1];
		for (size_t i = 0; i < keys->elements; i++) {
			long long ttl;

			if (keys->element[i]->type != REDIS_REPLY_STRING)
				continue;
			rc = pttl(r, keys->element[i]->str, &ttl);
			if (rc == 0 && ttl == -2)
				continue; /* expired since SCAN saw it */
			if (rc == 0)
				rc = fn(arg, keys->element[i]->str, ttl);
			if (rc) {
				freeReplyObject(reply);
				return rc;
			}
		}
		freeReplyObject(reply);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

int redis_publish(struct redis_pool *r, const char *channel, const char *msg,
                  size_t len, long long *receivers)
{
	const char *argv[3] = {"PUBLISH", channel, msg};
	size_t lens[3] = {7, strlen(channel), len};
	redisReply *reply;
	int rc = command(r, 3, argv, lens, &reply);

	if (rc)
		return rc;
	if (reply->type != REDIS_REPLY_INTEGER)
		return unexpected(r, "PUBLISH", reply);
	if (receivers)
		*receivers = reply->integer;
	freeReplyObject(reply);
	return 0;
}

/* ---- subscriptions ---- */

struct redis_subscription {
	struct redis_pool *pool;
	char *channel;
	redis_message_fn on_message;
	redis_state_fn on_state;
	void *arg;
	pthread_t thread;
	atomic_bool stop;
};

/* Handles one reply of a subscribed connection. Returns 0, or -1 when the
 * reply is not what a subscription sends. */
static int sub_dispatch(struct redis_subscription *s, redisReply *reply,
                        bool *live)
{
	const char *kind;

	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return -1;
	kind = reply->element[0]->str;
	if (strcmp(kind, "subscribe") == 0) {
		*live = true;
		s->on_state(s->arg, true);
	} else if (strcmp(kind, "message") == 0 &&
	           reply->element[2]->type == REDIS_REPLY_STRING) {
		s->on_message(s->arg, reply->element[2]->str,
		              (size_t)reply->element[2]->len);
	}
	return 0;
}

/* Sleeps up to ms, waking early when asked to stop. */
static void sub_sleep(struct redis_subscription *s, int ms)
{
	for (int slept = 0; slept < ms && !atomic_load(&s->stop); slept += 50) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static void *sub_main(void *arg)
{
	struct redis_subscription *s = arg;
	struct redis_pool *r = s->pool;
	bool logged_down = false;

	while (!atomic_load(&s->stop)) {
		struct redis_slot slot = {0};
		char why[160] = "";
		bool live = false;
		const char *argv[2] = {"SUBSCRIBE", s->channel};
		size_t lens[2] = {9, strlen(s->channel)};

		if (slot_connect(r, &slot, why, sizeof(why)) != 0) {
			if (!logged_down)
				slog_warn("redis '%s': cannot subscribe to "
				          "'%s': %s; retrying",
				          r->name, s->channel, why);
			logged_down = true;
			sub_sleep(s, r->retry_interval_ms);
			continue;
		}
		if (redisAppendCommandArgv(slot.ctx, 2, argv, lens) != REDIS_OK)
			goto lost;
		for (int done = 0; !done;) {
			if (redisBufferWrite(slot.ctx, &done) != REDIS_OK)
				goto lost;
		}
		while (!atomic_load(&s->stop)) {
			void *reply = NULL;
			struct pollfd pfd = {.fd = slot.ctx->fd,
			                     .events = POLLIN};

			if (redisGetReplyFromReader(slot.ctx, &reply) !=
			    REDIS_OK)
				goto lost;
			if (reply) {
				int bad = sub_dispatch(s, reply, &live);
				freeReplyObject(reply);
				if (bad)
					goto lost;
				if (live && logged_down) {
					slog_info("redis '%s': subscribed to "
					          "'%s' "
					          "again",
					          r->name, s->channel);
					logged_down = false;
				}
				continue;
			}
			int n = poll(&pfd, 1, 500);
			if (n < 0 && errno != EINTR)
				goto lost;
			if (n > 0 && redisBufferRead(slot.ctx) != REDIS_OK)
				goto lost;
		}
	lost:
		if (live)
			s->on_state(s->arg, false);
		if (!atomic_load(&s->stop) && !logged_down) {
			slog_warn("redis '%s': subscription to '%s' lost: %s",
			          r->name, s->channel,
			          slot.ctx->err ? slot.ctx->errstr : "closed");
			logged_down = true;
		}
		redisFree(slot.ctx);
		if (!atomic_load(&s->stop))
			sub_sleep(s, r->retry_interval_ms);
	}
	return NULL;
}

int redis_subscribe(struct redis_pool *r, const char *channel,
                    redis_message_fn on_message, redis_state_fn on_state,
                    void *arg, struct redis_subscription **out)
{
	struct redis_subscription *s = calloc(1, sizeof(*s));

	if (!s)
		return SHOP_ENOMEM;
	s->channel = strdup(channel);
	if (!s->channel) {
		free(s);
		return SHOP_ENOMEM;
	}
	s->pool = r;
	s->on_message = on_message;
	s->on_state = on_state;
	s->arg = arg;
	atomic_init(&s->stop, false);
	if (pthread_create(&s->thread, NULL, sub_main, s) != 0) {
		free(s->channel);
		free(s);
		return SHOP_ERR;
	}
	*out = s;
	return 0;
}

void redis_subscription_free(struct redis_subscription *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	free(s->channel);
	free(s);
}
