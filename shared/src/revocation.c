#include "shop/revocation.h"

#include "shop/auth.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_MS        1000
#define PRUNE_EVERY_S   30
#define STARTUP_GRACE_S 3 /* not live this long after start: say so */

struct revocation {
	struct redis_pool *redis;
	struct revoked_set *set;
	struct redis_subscription *sub;
	pthread_t loader;
	bool loader_started;
	atomic_bool live;
	struct metric *live_gauge;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* Under lock. */
	bool stop;
	bool subscribed;          /* the subscription is live */
	unsigned long generation; /* times it became live */
	unsigned long loaded;     /* the generation the last load ran in */
	int reported;             /* the state last logged: -1 none, 0, 1 */
	bool load_failure_logged;
};

static long long now_s(void)
{
	return (long long)time(NULL);
}

/* Logs a change of the live state, once per transition. Under lock. */
static void report(struct revocation *rv, bool live, const char *why)
{
	if (rv->reported == (int)live)
		return;
	rv->reported = live;
	if (live)
		slog_kv(SLOG_INFO, NULL, "token revocation is live",
		        SLOG_I("revoked_tokens",
		               (long long)revoked_set_size(rv->set)));
	else
		slog_kv(SLOG_WARN, NULL,
		        "token revocation is not live: serving with the "
		        "revoked "
		        "tokens known so far (the services still check Redis)",
		        SLOG_S("reason", why),
		        SLOG_I("revoked_tokens",
		               (long long)revoked_set_size(rv->set)));
}

static void set_live(struct revocation *rv, bool live)
{
	atomic_store(&rv->live, live);
	metric_set(rv->live_gauge, live ? 1 : 0);
}

static void on_message(void *arg, const char *msg, size_t len)
{
	struct revocation *rv = arg;
	int rc = revoked_set_add_message(rv->set, msg, len, now_s());

	if (rc == SHOP_EINVAL)
		slog_kv(SLOG_WARN, NULL, "ignoring a malformed revocation",
		        SLOG_S("channel", AUTH_REVOKED_CHANNEL),
		        SLOG_I("length", (long long)len));
	else if (rc < 0)
		slog_kv(SLOG_WARN, NULL, "cannot remember a revoked token",
		        SLOG_S("error", shop_strerror(rc)));
}

static void on_state(void *arg, bool live)
{
	struct revocation *rv = arg;

	pthread_mutex_lock(&rv->lock);
	rv->subscribed = live;
	if (live) {
		rv->generation++; /* the loader loads, then says live */
	} else {
		set_live(rv, false);
		if (!rv->stop) /* not news when we end it ourselves */
			report(rv, false, "the subscription to Redis was lost");
	}
	pthread_cond_signal(&rv->wake);
	pthread_mutex_unlock(&rv->lock);
}

static int load_key(void *arg, const char *key, long long ttl_ms)
{
	struct revocation *rv = arg;
	int rc = revoked_set_add_key(rv->set, key, ttl_ms, now_s());

	if (rc < 0 && rc != SHOP_EINVAL)
		slog_kv(SLOG_WARN, NULL, "cannot remember a revoked token",
		        SLOG_S("error", shop_strerror(rc)));
	return 0; /* a bad key is skipped, the walk goes on */
}

/* Waits on wake for up to ms, under lock. */
static void wait_ms(struct revocation *rv, long ms)
{
	struct timespec ts;

	shop_deadline_after_ms(CLOCK_REALTIME, ms, &ts);
	pthread_cond_timedwait(&rv->wake, &rv->lock, &ts);
}

static void *loader_main(void *arg)
{
	struct revocation *rv = arg;
	long long started = now_s(), next_prune = started + PRUNE_EVERY_S;

	pthread_mutex_lock(&rv->lock);
	while (!rv->stop) {
		if (rv->subscribed && rv->loaded != rv->generation) {
			unsigned long gen = rv->generation;
			int rc;

			/* subscribed first, then loaded: whatever is revoked
			 * meanwhile arrives as a message */
			pthread_mutex_unlock(&rv->lock);
			rc = redis_scan_keys(rv->redis, AUTH_REVOKED_PREFIX "*",
			                     load_key, rv);
			pthread_mutex_lock(&rv->lock);
			if (rc == 0) {
				rv->load_failure_logged = false;
				if (gen == rv->generation && rv->subscribed) {
					rv->loaded = gen;
					set_live(rv, true);
					report(rv, true, NULL);
				}
				continue;
			}
			if (!rv->load_failure_logged)
				slog_kv(SLOG_WARN, NULL,
				        "cannot load the revoked tokens from "
				        "Redis; retrying",
				        SLOG_S("error", shop_strerror(rc)));
			rv->load_failure_logged = true;
			report(rv, false, "cannot load the revoked tokens");
			wait_ms(rv, RETRY_MS);
			continue;
		}
		if (rv->reported < 0 && now_s() >= started + STARTUP_GRACE_S)
			report(rv, false, "cannot subscribe to Redis");
		if (now_s() >= next_prune) {
			/* the lock only guards our own fields: pruning takes
			 * the set's */
			pthread_mutex_unlock(&rv->lock);
			revoked_set_prune(rv->set, now_s());
			pthread_mutex_lock(&rv->lock);
			next_prune = now_s() + PRUNE_EVERY_S;
			continue;
		}
		wait_ms(rv, RETRY_MS);
	}
	pthread_mutex_unlock(&rv->lock);
	return NULL;
}

int revocation_start(struct redis_pool *redis, struct revoked_set *set,
                     struct revocation **out)
{
	struct revocation *rv = calloc(1, sizeof(*rv));
	int rc;

	if (!rv)
		return SHOP_ENOMEM;
	rv->redis = redis;
	rv->set = set;
	rv->reported = -1;
	atomic_init(&rv->live, false);
	pthread_mutex_init(&rv->lock, NULL);
	pthread_cond_init(&rv->wake, NULL);
	rv->live_gauge = metrics_gauge(
	        "revocation_live",
	        "1 while the revoked-token set follows Redis (subscribed and "
	        "loaded); 0 while the process serves with what it has",
	        "");
	metric_set(rv->live_gauge, 0);
	if (pthread_create(&rv->loader, NULL, loader_main, rv) != 0) {
		slog_error("cannot start the revocation loader thread");
		rc = SHOP_ERR;
		goto fail;
	}
	rv->loader_started = true;
	rc = redis_subscribe(redis, AUTH_REVOKED_CHANNEL, on_message, on_state,
	                     rv, &rv->sub);
	if (rc < 0) {
		slog_error("cannot start the subscription to '%s': %s",
		           AUTH_REVOKED_CHANNEL, shop_strerror(rc));
		goto fail;
	}
	*out = rv;
	return 0;

fail:
	revocation_stop(rv);
	return rc;
}

bool revocation_live(const struct revocation *rv)
{
	return rv && atomic_load(&rv->live);
}

void revocation_stop(struct revocation *rv)
{
	if (!rv)
		return;
	pthread_mutex_lock(&rv->lock);
	rv->stop = true;
	pthread_cond_signal(&rv->wake);
	pthread_mutex_unlock(&rv->lock);
	/* the subscription before the lock and cond its callbacks use */
	redis_subscription_free(rv->sub);
	if (rv->loader_started)
		pthread_join(rv->loader, NULL);
	pthread_cond_destroy(&rv->wake);
	pthread_mutex_destroy(&rv->lock);
	free(rv);
}
