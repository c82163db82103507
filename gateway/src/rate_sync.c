#include "rate_sync.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PING_EVERY_NS 1000000000ull
/* Counters outlive their window by this much: gateways whose clocks differ
 * a little still add to a key that exists. */
#define TTL_SLACK_S 2

struct rate_sync {
	struct rate_limit *rl;
	struct rl_store store;
	long interval_ms;
	struct rl_batch batch;
	char where[256];
	int reported;        /* the live state last logged: -1 none, 0, 1 */
	uint64_t last_ok_ns; /* the store's last answer */
	struct metric *live_gauge;

	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop; /* under lock */
};

int rate_sync_new(struct rate_limit *rl, struct rl_store store,
                  long interval_ms, const char *where, struct rate_sync **out)
{
	struct rate_sync *s = calloc(1, sizeof(*s));

	if (!s) {
		if (store.ops)
			store.ops->free(store.self);
		return SHOP_ENOMEM;
	}
	s->rl = rl;
	s->store = store;
	s->interval_ms = interval_ms > 0 ? interval_ms : 1;
	snprintf(s->where, sizeof(s->where), "%s", where ? where : "");
	s->reported = -1;
	rl_batch_init(&s->batch);
	pthread_mutex_init(&s->lock, NULL);
	{
		/* Deadlines on the monotonic clock: a wall clock stepping back
		 * must not stall the syncer. */
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	s->live_gauge = metrics_gauge(
	        "gateway_rate_limit_live",
	        "1 while the rate limits are enforced (Redis answers the "
	        "syncer); 0 while they fail open",
	        "");
	metric_set(s->live_gauge, 0);
	*out = s;
	return 0;
}

/* The live state after a round; logged once per transition. */
static void set_live(struct rate_sync *s, bool live, const char *why)
{
	rate_limit_set_live(s->rl, live);
	metric_set(s->live_gauge, live ? 1 : 0);
	if (s->reported == (int)live)
		return;
	s->reported = live;
	if (live)
		slog_kv(SLOG_INFO, NULL, "rate limits are live",
		        SLOG_S("redis", s->where),
		        SLOG_I("window_s", rate_limit_window(s->rl)),
		        SLOG_I("per_address",
		               rate_limit_limit(s->rl, RL_ADDRESS)),
		        SLOG_I("per_user", rate_limit_limit(s->rl, RL_USER)));
	else
		slog_kv(SLOG_WARN, NULL,
		        "rate limits are not enforced: cannot reach Redis; "
		        "failing open until it answers",
		        SLOG_S("redis", s->where), SLOG_S("reason", why));
}

int rate_sync_round(struct rate_sync *s, long long now, uint64_t now_ns)
{
	char why[256] = "";
	int rc;

	if (rate_limit_collect(s->rl, now, &s->batch) < 0)
		slog_warn("rate limits: out of memory; some counts wait for "
		          "the next sync");
	if (s->batch.n) {
		long ttl = (long)rate_limit_window(s->rl) + TTL_SLACK_S;

		rc = s->store.ops->push(s->store.self, s->batch.items,
		                        s->batch.n, ttl, why, sizeof(why));
		rate_limit_apply(s->rl, &s->batch, rc == 0);
	} else if (s->reported == 1 && now_ns - s->last_ok_ns < PING_EVERY_NS) {
		return 0;
	} else {
		rc = s->store.ops->ping(s->store.self, why, sizeof(why));
	}
	if (rc == 0)
		s->last_ok_ns = now_ns;
	else if (!why[0])
		snprintf(why, sizeof(why), "%s", shop_strerror(rc));
	set_live(s, rc == 0, why);
	return rc;
}

/* Waits on wake for up to ms, under lock. */
static void wait_ms(struct rate_sync *s, long ms)
{
	struct timespec ts;

	shop_deadline_after_ms(CLOCK_MONOTONIC, ms, &ts);
	pthread_cond_timedwait(&s->wake, &s->lock, &ts);
}

static void *sync_main(void *arg)
{
	struct rate_sync *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		pthread_mutex_unlock(&s->lock);
		rate_sync_round(s, (long long)time(NULL), shop_now_ns());
		pthread_mutex_lock(&s->lock);
		if (!s->stop)
			wait_ms(s, s->interval_ms);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int rate_sync_start(struct rate_sync *s)
{
	if (pthread_create(&s->thread, NULL, sync_main, s) != 0) {
		slog_error("cannot start the rate-limit syncer thread");
		return SHOP_ERR;
	}
	s->started = true;
	return 0;
}

void rate_sync_free(struct rate_sync *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	if (s->store.ops)
		s->store.ops->free(s->store.self);
	rl_batch_release(&s->batch);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
