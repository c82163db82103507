/*
 * shop-product: the catalog daemon. Reads its configuration from the
 * environment, applies its migrations, wires the libpq repository and the
 * Redis cache into the catalog's and the reservations' use cases, consumes
 * the orders' outcomes (commit or release their stock), releases expired
 * holds, and serves the HTTP API until SIGTERM or SIGINT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/auth.h"
#include "shop/config.h"
#include "shop/consumer.h"
#include "shop/db.h"
#include "shop/error.h"
#include "shop/http.h"
#include "shop/jwt.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/migrate.h"
#include "shop/redis.h"
#include "shop/util.h"

#include "api/handlers.h"
#include "core/catalog.h"
#include "core/reservations.h"
#include "infrastructure/order_results.h"
#include "infrastructure/pg_product_repo.h"
#include "infrastructure/pg_reservation_repo.h"
#include "infrastructure/local_product_cache.h"
#include "infrastructure/redis_product_cache.h"

struct product_config {
	struct http_env http;
	const char *database_url;
	long db_pool_size;
	const char *migrations_dir;
	const char *redis_url;
	const char *amqp_url;
	long reservation_hold_s;
	long reservation_sweep_s;
	long consumer_prefetch;
	long consumers;
	long cache_ttl_s;
	long cache_local_ttl_s;
	const char *jwt_public_key_file;
	const char *jwt_issuer;
	const char *jwt_audience;
	char *internal_token; /* malloc'd; wiped and freed at exit */
	const char *log_level;
};

/* Reads every variable, so one start reports every bad one. */
static int read_config(struct product_config *c)
{
	int bad = 0;

	bad |= http_env_read(8004, 256, &c->http);
	bad |= config_required_string(
	        "DATABASE_URL",
	        "postgresql://product@127.0.0.1:5432/product_db",
	        &c->database_url);
	bad |= config_long("DB_POOL_SIZE", 0, 0, 256, &c->db_pool_size);
	bad |= config_directory("MIGRATIONS_DIR", "services/product/migrations",
	                        &c->migrations_dir);
	bad |= config_required_string("REDIS_URL", "redis://127.0.0.1:6379/0",
	                              &c->redis_url);
	bad |= config_required_string("AMQP_URL",
	                              "amqp://guest:guest@127.0.0.1:5672/%2F",
	                              &c->amqp_url);
	bad |= config_long("RESERVATION_HOLD_S", 900, 1, 86400,
	                   &c->reservation_hold_s);
	bad |= config_long("RESERVATION_SWEEP_INTERVAL_S", 30, 1, 3600,
	                   &c->reservation_sweep_s);
	bad |= config_long("CONSUMER_PREFETCH", 16, 1, 1000,
	                   &c->consumer_prefetch);
	bad |= config_long("CONSUMERS", 4, 0, ORDER_RESULTS_MAX, &c->consumers);
	bad |= config_long("CACHE_TTL_S", 300, 1, 86400, &c->cache_ttl_s);
	bad |= config_long("CACHE_LOCAL_TTL_S", 30, 0, 3600,
	                   &c->cache_local_ttl_s);
	bad |= config_readable_file("JWT_PUBLIC_KEY_FILE",
	                            ".state/dev/secrets/jwt_public.pem",
	                            &c->jwt_public_key_file);
	bad |= config_required_string("JWT_ISSUER", "shop-user",
	                              &c->jwt_issuer);
	bad |= config_required_string("JWT_AUDIENCE", "shop", &c->jwt_audience);
	bad |= config_secret_file("INTERNAL_TOKEN_FILE",
	                          ".state/dev/secrets/internal_token", 16,
	                          &c->internal_token);
	return bad ? SHOP_EINVAL : 0;
}

struct readiness {
	struct db_pool *db;
	struct redis_pool *redis;
	struct order_results *results;
};

static int check_ready(void *ctx, json_t *checks)
{
	struct readiness *r = ctx;
	int db = db_pool_ping(r->db);
	int redis = redis_ping(r->redis);
	bool broker = order_results_connected(r->results);

	json_object_set_new(checks, "database",
	                    json_string(db == 0 ? "ok" : shop_strerror(db)));
	json_object_set_new(
	        checks, "redis",
	        json_string(redis == 0 ? "ok" : shop_strerror(redis)));
	json_object_set_new(checks, "broker",
	                    json_string(broker ? "ok" : "not connected"));
	return db == 0 && redis == 0 && broker ? 0 : SHOP_EUNAVAIL;
}

int main(void)
{
	struct product_config cfg = {0};
	enum slog_level level = SLOG_INFO;
	const char *level_name;
	struct db_pool *db = NULL;
	struct redis_pool *redis = NULL;
	struct jwt_verifier *jwt = NULL;
	struct product_repo repo = {0};
	struct reservation_repo rrepo = {0};
	struct order_results *results = NULL;
	struct reservations reservations;
	struct product_app app;
	struct product_cache redis_cache = {0}, cache = {0};
	struct http_server *server = NULL;
	struct catalog catalog;
	struct readiness ready;
	struct auth_context auth = {0};
	int threads, exit_code = 1, sig;

	http_block_signals();
	slog_init("product", SLOG_INFO);
	config_string("LOG_LEVEL", "info", &level_name);
	if (slog_level_parse(level_name, &level) < 0) {
		slog_kv(SLOG_ERROR, NULL, "invalid configuration",
		        SLOG_S("variable", "LOG_LEVEL"),
		        SLOG_S("value", level_name),
		        SLOG_S("expected", "debug, info, warn or error"));
		return 2;
	}
	slog_init("product", level);
	if (read_config(&cfg) < 0) {
		free(cfg.internal_token);
		return 2;
	}
	threads = cfg.http.threads > 0 ? (int)cfg.http.threads : shop_ncpu();

	if (migrate_run(cfg.database_url, cfg.migrations_dir, "product") < 0 ||
	    consumer_migrate(cfg.database_url, "product") < 0)
		goto out;

	struct db_pool_options dbo = {
	        .conninfo = cfg.database_url,
	        .name = "product_db",
	        .application_name = "product",
	        /* One more for each consumer's worker (consumer.h). */
	        .size = cfg.db_pool_size > 0 ? (int)cfg.db_pool_size
	                                     : threads + (int)cfg.consumers,
	        .statement_timeout_ms = 5000,
	};
	if (db_pool_new(&dbo, &db) < 0)
		goto out;
	repo = pg_product_repo_new(db);
	rrepo = pg_reservation_repo_new(db);
	if (!repo.ops || !rrepo.ops)
		goto out;
	if (db_pool_start(db) == SHOP_EINVAL)
		goto out;
	metrics_on_render(db_pool_metrics_hook, db);

	struct redis_pool_options ro = {
	        .name = "product",
	        .url = cfg.redis_url,
	        .size = threads,
	};
	if (redis_pool_new(&ro, &redis) < 0)
		goto out;
	redis_cache = redis_product_cache_new(redis, (int)cfg.cache_ttl_s);
	if (!redis_cache.ops)
		goto out;
	cache = redis_cache;
	if (cfg.cache_local_ttl_s > 0) {
		cache = local_product_cache_new(
		        redis_cache, redis, (int)cfg.cache_local_ttl_s, 10000);
		if (!cache.ops)
			goto out;
	}

	if (jwt_verifier_new(cfg.jwt_public_key_file, cfg.jwt_issuer,
	                     cfg.jwt_audience, JWT_LEEWAY_S, &jwt) < 0)
		goto out;

	catalog_init(&catalog, repo, cache);
	reservations_init(&reservations, rrepo, cache, cfg.reservation_hold_s);
	app.catalog = &catalog;
	app.reservations = &reservations;

	struct order_results_options oro = {
	        .amqp_url = cfg.amqp_url,
	        .pool = db,
	        .rs = &reservations,
	        .prefetch = (int)cfg.consumer_prefetch,
	        .consumers = (int)cfg.consumers,
	        .sweep_interval_s = (int)cfg.reservation_sweep_s,
	};
	if (order_results_start(&oro, &results) < 0)
		goto out;

	auth = (struct auth_context){.verifier = jwt, .redis = redis};
	/* Revoked tokens in memory: no Redis round trip per request. */
	if (auth_revocation_start(&auth) < 0)
		slog_warn("revoked tokens are checked in Redis per request");
	ready.db = db;
	ready.redis = redis;
	ready.results = results;
	struct http_server_config hc = {
	        .service = "product",
	        .routes = product_routes,
	        .nroutes = product_nroutes,
	        .app = &app,
	        .authenticate = auth_authenticate,
	        .auth_ctx = &auth,
	        .internal_token = cfg.internal_token,
	        .ready = check_ready,
	        .ready_ctx = &ready,
	};
	http_env_apply(&cfg.http, threads, &hc);
	server = http_server_start(&hc);
	if (!server)
		goto out;

	sig = http_wait_for_signal();
	slog_kv(SLOG_INFO, NULL, "shutting down", SLOG_I("signal", sig));
	http_server_free(server, 8000);
	server = NULL;
	exit_code = 0;
out:
	http_server_free(server, 0);
	auth_revocation_stop(&auth);
	order_results_free(results);
	jwt_verifier_free(jwt);
	if (cache.self != redis_cache.self)
		local_product_cache_free(cache);
	redis_product_cache_free(redis_cache);
	redis_pool_free(redis);
	pg_reservation_repo_free(rrepo);
	pg_product_repo_free(repo);
	db_pool_free(db);
	explicit_bzero(cfg.internal_token, strlen(cfg.internal_token));
	free(cfg.internal_token);
	if (exit_code)
		slog_error("product stopped: start-up failed");
	else
		slog_info("stopped");
	return exit_code;
}
