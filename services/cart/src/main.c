/*
 * shop-cart: the cart daemon. Reads its configuration from the environment,
 * applies its migrations, wires the libpq repository and the product
 * service's HTTP client into the cart's use cases, and serves the HTTP API
 * until SIGTERM or SIGINT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/auth.h"
#include "shop/breaker.h"
#include "shop/config.h"
#include "shop/consumer.h"
#include "shop/db.h"
#include "shop/error.h"
#include "shop/http.h"
#include "shop/httpc.h"
#include "shop/jwt.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/migrate.h"
#include "shop/redis.h"
#include "shop/util.h"

#include "api/handlers.h"
#include "core/carts.h"
#include "infrastructure/http_product_catalog.h"
#include "infrastructure/order_created.h"
#include "infrastructure/pg_cart_repo.h"

struct cart_config {
	struct http_env http;
	const char *database_url;
	long db_pool_size;
	const char *migrations_dir;
	const char *redis_url;
	const char *amqp_url;
	long consumer_prefetch;
	long consumers;
	const char *jwt_public_key_file;
	const char *jwt_issuer;
	const char *jwt_audience;
	char *internal_token; /* malloc'd; wiped and freed at exit */
	const char *product_url;
	long product_connect_timeout_ms;
	long product_timeout_ms;
	long product_retries;
	long product_breaker_failures;
	long product_breaker_open_ms;
};

/* Reads every variable, so one start reports every bad one. */
static int read_config(struct cart_config *c)
{
	int bad = 0;

	bad |= http_env_read(8006, 1024, &c->http);
	bad |= config_required_string(
	        "DATABASE_URL", "postgresql://cart@127.0.0.1:5432/cart_db",
	        &c->database_url);
	bad |= config_long("DB_POOL_SIZE", 0, 0, 256, &c->db_pool_size);
	bad |= config_directory("MIGRATIONS_DIR", "services/cart/migrations",
	                        &c->migrations_dir);
	bad |= config_required_string("REDIS_URL", "redis://127.0.0.1:6379/0",
	                              &c->redis_url);
	bad |= config_required_string("AMQP_URL",
	                              "amqp://guest:guest@127.0.0.1:5672/%2F",
	                              &c->amqp_url);
	bad |= config_long("CONSUMER_PREFETCH", 16, 1, 1000,
	                   &c->consumer_prefetch);
	bad |= config_long("CONSUMERS", 4, 0, ORDER_CREATED_MAX, &c->consumers);
	bad |= config_readable_file("JWT_PUBLIC_KEY_FILE",
	                            ".state/dev/secrets/jwt_public.pem",
	                            &c->jwt_public_key_file);
	bad |= config_required_string("JWT_ISSUER", "shop-user",
	                              &c->jwt_issuer);
	bad |= config_required_string("JWT_AUDIENCE", "shop", &c->jwt_audience);
	bad |= config_secret_file("INTERNAL_TOKEN_FILE",
	                          ".state/dev/secrets/internal_token", 16,
	                          &c->internal_token);
	bad |= config_required_string("PRODUCT_URL", "http://127.0.0.1:8004",
	                              &c->product_url);
	bad |= config_long("PRODUCT_CONNECT_TIMEOUT_MS", 250, 1, 60000,
	                   &c->product_connect_timeout_ms);
	bad |= config_long("PRODUCT_TIMEOUT_MS", 1000, 1, 60000,
	                   &c->product_timeout_ms);
	bad |= config_long("PRODUCT_RETRIES", 1, 0, 5, &c->product_retries);
	bad |= config_long("PRODUCT_BREAKER_FAILURES", 5, 1, 1000,
	                   &c->product_breaker_failures);
	bad |= config_long("PRODUCT_BREAKER_OPEN_MS", 2000, 1, 600000,
	                   &c->product_breaker_open_ms);
	return bad ? SHOP_EINVAL : 0;
}

struct readiness {
	struct db_pool *db;
	struct redis_pool *redis;
	struct httpc *product;
	struct order_created *orders;
};

/*
 * Ready when the database, Redis and the broker (the consumer of
 * order.created) answer. The product service is
 * reported (its circuit's state) but does not make the cart unready: reads
 * still work without it, and an unready cart would only make things worse.
 */
static int check_ready(void *ctx, json_t *checks)
{
	struct readiness *r = ctx;
	int db = db_pool_ping(r->db);
	int redis = redis_ping(r->redis);
	enum breaker_state b =
	        (enum breaker_state)httpc_breaker_state(r->product);

	json_object_set_new(checks, "database",
	                    json_string(db == 0 ? "ok" : shop_strerror(db)));
	json_object_set_new(
	        checks, "redis",
	        json_string(redis == 0 ? "ok" : shop_strerror(redis)));
	/* An instance without consumers (CONSUMERS=0) needs no broker. */
	bool broker = !r->orders || order_created_connected(r->orders);

	json_object_set_new(checks, "product_circuit",
	                    json_string(breaker_state_name(b)));
	json_object_set_new(checks, "broker",
	                    json_string(broker ? "ok" : "not connected"));
	return db == 0 && redis == 0 && broker ? 0 : SHOP_EUNAVAIL;
}

static void free_config(struct cart_config *c)
{
	if (c->internal_token) {
		explicit_bzero(c->internal_token, strlen(c->internal_token));
		free(c->internal_token);
		c->internal_token = NULL;
	}
}

int main(void)
{
	struct cart_config cfg = {0};
	enum slog_level level = SLOG_INFO;
	const char *level_name;
	struct db_pool *db = NULL;
	struct redis_pool *redis = NULL;
	struct jwt_verifier *jwt = NULL;
	struct order_created *orders = NULL;
	struct httpc *product = NULL;
	struct cart_repo repo = {0};
	struct product_catalog catalog = {0};
	struct http_server *server = NULL;
	struct carts carts;
	struct readiness ready;
	struct auth_context auth = {0};
	int threads, exit_code = 1, sig;

	http_block_signals();
	slog_init("cart", SLOG_INFO);
	config_string("LOG_LEVEL", "info", &level_name);
	if (slog_level_parse(level_name, &level) < 0) {
		slog_kv(SLOG_ERROR, NULL, "invalid configuration",
		        SLOG_S("variable", "LOG_LEVEL"),
		        SLOG_S("value", level_name),
		        SLOG_S("expected", "debug, info, warn or error"));
		return 2;
	}
	slog_init("cart", level);
	if (read_config(&cfg) < 0) {
		free_config(&cfg);
		return 2;
	}
	/* Handlers wait on PostgreSQL and on the product service: a few
	 * threads per core keep the cores busy meanwhile (measured:
	 * docs/performance.md "Cart"). */
	threads =
	        cfg.http.threads > 0 ? (int)cfg.http.threads : 4 * shop_ncpu();
	if (httpc_global_init() < 0)
		goto out;

	if (migrate_run(cfg.database_url, cfg.migrations_dir, "cart") < 0 ||
	    consumer_migrate(cfg.database_url, "cart") < 0)
		goto out;

	struct db_pool_options dbo = {
	        .conninfo = cfg.database_url,
	        .name = "cart_db",
	        .application_name = "cart",
	        /* One more for each consumer's worker (consumer.h). */
	        .size = cfg.db_pool_size > 0 ? (int)cfg.db_pool_size
	                                     : threads + (int)cfg.consumers,
	        .statement_timeout_ms = 5000,
	};
	if (db_pool_new(&dbo, &db) < 0)
		goto out;
	repo = pg_cart_repo_new(db);
	if (!repo.ops)
		goto out;
	if (db_pool_start(db) == SHOP_EINVAL)
		goto out;
	metrics_on_render(db_pool_metrics_hook, db);

	struct redis_pool_options ro = {
	        .name = "cart",
	        .url = cfg.redis_url,
	        .size = threads,
	};
	if (redis_pool_new(&ro, &redis) < 0)
		goto out;

	struct httpc_header internal = {HTTP_INTERNAL_TOKEN_HEADER,
	                                cfg.internal_token};
	struct httpc_options po = {
	        .name = "product",
	        .base_url = cfg.product_url,
	        .connect_timeout_ms = (int)cfg.product_connect_timeout_ms,
	        .timeout_ms = (int)cfg.product_timeout_ms,
	        .retries =
	                cfg.product_retries > 0 ? (int)cfg.product_retries : -1,
	        .failures_to_open = (int)cfg.product_breaker_failures,
	        .open_ms = (int)cfg.product_breaker_open_ms,
	        .max_idle_handles = threads,
	        .headers = &internal,
	        .nheaders = 1,
	};
	if (httpc_new(&po, &product) < 0)
		goto out;
	catalog = http_product_catalog_new(product);
	if (!catalog.ops)
		goto out;

	if (jwt_verifier_new(cfg.jwt_public_key_file, cfg.jwt_issuer,
	                     cfg.jwt_audience, JWT_LEEWAY_S, &jwt) < 0)
		goto out;

	carts_init(&carts, repo, catalog);
	if (cfg.consumers > 0 &&
	    order_created_start(cfg.amqp_url, db, &carts,
	                        (int)cfg.consumer_prefetch, (int)cfg.consumers,
	                        &orders) < 0)
		goto out;
	auth = (struct auth_context){.verifier = jwt, .redis = redis};
	/* Revoked tokens in memory: no Redis round trip per request. */
	if (auth_revocation_start(&auth) < 0)
		slog_warn("revoked tokens are checked in Redis per request");
	ready = (struct readiness){
	        .db = db, .redis = redis, .product = product, .orders = orders};
	struct http_server_config hc = {
	        .service = "cart",
	        .routes = cart_routes,
	        .nroutes = cart_nroutes,
	        .app = &carts,
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
	slog_kv(SLOG_INFO, NULL, "cart ready", SLOG_I("http_threads", threads),
	        SLOG_S("product_url", cfg.product_url));

	sig = http_wait_for_signal();
	slog_kv(SLOG_INFO, NULL, "shutting down", SLOG_I("signal", sig));
	http_server_free(server, 8000);
	server = NULL;
	exit_code = 0;
out:
	http_server_free(server, 0);
	auth_revocation_stop(&auth);
	order_created_free(orders);
	jwt_verifier_free(jwt);
	http_product_catalog_free(catalog);
	httpc_free(product);
	redis_pool_free(redis);
	pg_cart_repo_free(repo);
	db_pool_free(db);
	free_config(&cfg);
	if (exit_code)
		slog_error("cart stopped: start-up failed");
	else
		slog_info("stopped");
	return exit_code;
}
