/*
 * shop-gateway: the reverse proxy in front of the fleet and the server of
 * the storefront. main() reads the configuration, starts one worker per
 * thread and the upstream prober, and waits for SIGTERM or SIGINT.
 */
#include "gateway.h"
#include "gw_config.h"
#include "health.h"
#include "metrics_gw.h"
#include "rate_limit.h"
#include "rate_sync.h"
#include "shop/revocation.h"
#include "shop/revoked_set.h"
#include "rl_redis.h"
#include "upstream.h"
#include "worker.h"

#include "shop/error.h"
#include "shop/jwt.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/redis.h"
#include "shop/util.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORKERS 256
/* Clock skew allowed on exp, iat and nbf, as the services allow it. */
/* The rate-limit syncer's Redis calls, each at most this long. */
#define RATE_SYNC_TIMEOUT_MS 250

static int load_upstreams(const struct gw_config *cfg, struct upstream_set *set)
{
	int bad = 0;

	upstream_set_init(set);
	for (int s = 0; s < SVC_COUNT; s++)
		bad |= upstream_set_add_list(set, s, service_env(s),
		                             cfg->upstreams[s]);
	return bad;
}

/* The rate limits and their syncer, unless both limits are 0 (then *rl
 * stays NULL). Returns 0, or 1 when something cannot start (logged). */
static int start_rate_limits(const struct gw_config *cfg,
                             struct rate_limit **rl, struct rate_sync **sync)
{
	struct rate_limit_options o = {
	        .window_s = cfg->rate_limit_window_s,
	        .limit = {cfg->rate_limit_per_address,
	                  cfg->rate_limit_per_user},
	};
	struct rl_store store;
	char where[300];

	*rl = NULL;
	*sync = NULL;
	metrics_gw_rate_limit_init();
	if (!o.limit[RL_ADDRESS] && !o.limit[RL_USER]) {
		slog_info("rate limits are off (RATE_LIMIT_PER_ADDRESS and "
		          "RATE_LIMIT_PER_USER are 0)");
		return 0;
	}
	if (rate_limit_new(&o, rl) < 0)
		goto fail;
	/* the URL was checked by redis_pool_new() already */
	if (rl_redis_new(cfg->redis_url, RATE_SYNC_TIMEOUT_MS, &store, where,
	                 sizeof(where)) < 0)
		goto fail;
	if (rate_sync_new(*rl, store, cfg->rate_limit_sync_ms, where, sync) < 0)
		goto fail;
	metrics_on_render(metrics_gw_rate_limit_hook, *rl);
	return rate_sync_start(*sync) < 0 ? 1 : 0;
fail:
	slog_error("cannot start the rate limits: out of memory");
	return 1;
}

static void log_routes(const struct upstream_set *set)
{
	for (int s = 0; s < SVC_COUNT; s++) {
		if (set->services[s].count == 0) {
			slog_kv(SLOG_INFO, NULL, "service has no upstream",
			        SLOG_S("service", service_name(s)),
			        SLOG_S("variable", service_env(s)));
			continue;
		}
		for (size_t i = 0; i < set->services[s].count; i++)
			slog_kv(SLOG_INFO, NULL, "upstream",
			        SLOG_S("service", service_name(s)),
			        SLOG_S("address",
			               set->addrs[set->services[s].first + i]
			                       .name));
	}
}

int main(void)
{
	static struct upstream_set upstreams;
	static struct worker *workers[MAX_WORKERS];
	static struct revoked_set revoked;
	struct jwt_verifier *verifier = NULL;
	struct redis_pool *redis = NULL;
	struct revocation *revocation = NULL;
	struct rate_limit *rate_limit = NULL;
	struct rate_sync *rate_sync = NULL;
	struct gw_config cfg;
	struct static_site site;
	struct health_prober prober = {.wake_fd = -1};
	struct gateway gw;
	sigset_t sigs;
	unsigned nworkers;
	int sig = 0, rc = 0;

	slog_init("gateway", SLOG_INFO);
	if (gw_config_load(&cfg) < 0 || load_upstreams(&cfg, &upstreams))
		return 2;
	slog_init("gateway", cfg.log_level);
	/* a key file that is not a P-256 public key, or a bad REDIS_URL, is
	 * a configuration error too (logged by the library) */
	if (jwt_verifier_new(cfg.jwt_public_key_file, cfg.jwt_issuer,
	                     cfg.jwt_audience, JWT_LEEWAY_S, &verifier) < 0)
		return 2;
	{
		struct redis_pool_options ro = {
		        .url = cfg.redis_url,
		        .name = "gateway",
		        .size = 1, /* the loader's SCANs only */
		};
		int prc = redis_pool_new(&ro, &redis);

		if (prc < 0) {
			jwt_verifier_free(verifier);
			return prc == SHOP_EINVAL ? 2 : 1;
		}
	}
	nworkers = cfg.threads ? (unsigned)cfg.threads : (unsigned)shop_ncpu();
	if (nworkers > MAX_WORKERS)
		nworkers = MAX_WORKERS;

	/* signals go to sigwait() below, never to a worker; SIGPIPE nowhere
	 * (sockets are written with MSG_NOSIGNAL, but be sure) */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	static_site_init(&site, cfg.static_dir);
	gw.cfg = &cfg;
	gw.upstreams = &upstreams;
	gw.site = &site;
	gw.auth.verifier = verifier;
	gw.auth.revoked = &revoked;
	gw.rate_limit = NULL;
	log_routes(&upstreams);

	/* the revoked set grows from Redis in threads of its own; the
	 * workers only read it (and add the logouts they carry) */
	revoked_set_init(&revoked, JWT_LEEWAY_S);
	metrics_gw_auth_init();
	metrics_on_render(metrics_gw_revoked_hook, &revoked);
	if (revocation_start(redis, &revoked, &revocation) < 0) {
		rc = 1;
		goto stop;
	}
	/* counted by the workers, shared through Redis by a thread of its
	 * own: no worker ever waits for Redis */
	if (start_rate_limits(&cfg, &rate_limit, &rate_sync)) {
		rc = 1;
		goto stop;
	}
	gw.rate_limit = rate_limit;

	/* a first round now, so /ready is right from the first request */
	health_probe_round(&upstreams, (unsigned)cfg.health_timeout_ms);
	if (health_prober_start(&prober, &upstreams,
	                        (unsigned)cfg.health_interval_ms,
	                        (unsigned)cfg.health_timeout_ms) < 0) {
		slog_error("cannot start the health prober");
		return 1;
	}
	for (unsigned i = 0; i < nworkers; i++) {
		workers[i] = worker_new(&gw, i, nworkers);
		if (!workers[i]) {
			rc = 1;
			goto stop;
		}
	}
	for (unsigned i = 0; i < nworkers; i++) {
		if (worker_start(workers[i]) < 0) {
			slog_error("cannot start worker thread %u", i);
			rc = 1;
			goto stop;
		}
	}
	slog_kv(SLOG_INFO, NULL, "listening", SLOG_S("address", cfg.address),
	        SLOG_I("port", cfg.port), SLOG_I("threads", nworkers),
	        SLOG_S("static_dir", cfg.static_dir),
	        SLOG_S("version", SHOP_VERSION));
	while (sigwait(&sigs, &sig) != 0)
		;
	slog_kv(SLOG_INFO, NULL, "stopping", SLOG_S("signal", strsignal(sig)));
stop:
	for (unsigned i = 0; i < nworkers; i++)
		if (workers[i])
			worker_stop(workers[i]);
	for (unsigned i = 0; i < nworkers; i++)
		if (workers[i])
			worker_join(workers[i]);
	for (unsigned i = 0; i < nworkers; i++)
		worker_free(workers[i]);
	health_prober_stop(&prober);
	rate_sync_free(rate_sync);
	rate_limit_free(rate_limit);
	revocation_stop(revocation);
	revoked_set_release(&revoked);
	redis_pool_free(redis);
	jwt_verifier_free(verifier);
	static_site_release(&site);
	slog_info("stopped");
	return rc;
}
