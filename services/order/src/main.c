/*
 * shop-order: the orders daemon and the heart of the saga. Reads its
 * configuration from the environment, applies its migrations (and the
 * outbox's and processed_events'), wires PostgreSQL and the HTTP clients
 * to the cart and product services into the use cases, relays its events
 * (order.created, order.confirmed, order.failed) to RabbitMQ, consumes
 * the payment results, and serves the HTTP API until SIGTERM or SIGINT.
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
#include "shop/outbox.h"
#include "shop/redis.h"
#include "shop/util.h"

#include "api/handlers.h"
#include "core/orders.h"
#include "infrastructure/http_clients.h"
#include "infrastructure/payment_results.h"
#include "infrastructure/pg_order_repo.h"

/* One upstream's client settings. */
struct upstream_config {
	const char *url;
	long connect_timeout_ms;
	long timeout_ms;
	long retries;
	long breaker_failures;
	long breaker_open_ms;
};

struct order_config {
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
	struct upstream_config cart;
	struct upstream_config product;
};

/* CART_URL, CART_TIMEOUT_MS, ... for prefix "CART". */
static int read_upstream(const char *prefix, const char *default_url,
                         struct upstream_config *u)
{
	char name[64];
	int bad = 0;

#define VAR(suffix) (snprintf(name, sizeof(name), "%s_" suffix, prefix), name)
	bad |= config_required_string(VAR("URL"), default_url, &u->url);
	bad |= config_long(VAR("CONNECT_TIMEOUT_MS"), 250, 1, 60000,
	                   &u->connect_timeout_ms);
	bad |= config_long(VAR("TIMEOUT_MS"), 2000, 1, 60000, &u->timeout_ms);
	bad |= config_long(VAR("RETRIES"), 1, 0, 5, &u->retries);
	bad |= config_long(VAR("BREAKER_FAILURES"), 5, 1, 1000,
	                   &u->breaker_failures);
	bad |= config_long(VAR("BREAKER_OPEN_MS"), 2000, 1, 600000,
	                   &u->breaker_open_ms);
#undef VAR
	return bad;
}

/* Reads every variable, so one start reports every bad one. */
static int read_config(struct order_config *c)
{
	int bad = 0;

	bad |= http_env_read(8001, 1024, &c->http);
	bad |= config_required_string(
	        "DATABASE_URL", "postgresql://order@127.0.0.1:5432/order_db",
	        &c->database_url);
	bad |= config_long("DB_POOL_SIZE", 0, 0, 256, &c->db_pool_size);
	bad |= config_directory("MIGRATIONS_DIR", "services/order/migrations",
	                        &c->migrations_dir);
	bad |= config_required_string("REDIS_URL", "redis://127.0.0.1:6379/0",
	                              &c->redis_url);
	bad |= config_required_string("AMQP_URL",
	                              "amqp://guest:guest@127.0.0.1:5672/%2F",
	                              &c->amqp_url);
	bad |= config_long("CONSUMER_PREFETCH", 16, 1, 1000,
	                   &c->consumer_prefetch);
	bad |= config_long("CONSUMERS", 4, 1, PAYMENT_RESULTS_MAX,
	                   &c->consumers);
	bad |= config_readable_file("JWT_PUBLIC_KEY_FILE",
	                            ".state/dev/secrets/jwt_public.pem",
	                            &c->jwt_public_key_file);
	bad |= config_required_string("JWT_ISSUER", "shop-user",
	                              &c->jwt_issuer);
	bad |= config_required_string("JWT_AUDIENCE", "shop", &c->jwt_audience);
	bad |= config_secret_file("INTERNAL_TOKEN_FILE",
	                          ".state/dev/secrets/internal_token", 16,
	                          &c->internal_token);
	bad |= read_upstream("CART", "http://127.0.0.1:8006", &c->cart);
	bad |= read_upstream("PRODUCT", "http://127.0.0.1:8004", &c->product);
	return bad ? SHOP_EINVAL : 0;
}

struct readiness {
	struct db_pool *db;
	struct redis_pool *redis;
	struct outbox_relay *relay;
	struct payment_results *results;
	struct httpc *cart;
	struct httpc *product;
};

/*
 * Ready when the database, Redis and the broker answer (the relay and the
 * consumer both connected). The cart's and product's circuits are
 * reported but do not make the order service unready: reads still work.
 */
static int check_ready(void *ctx, json_t *checks)
{
	struct readiness *r = ctx;
	int db = db_pool_ping(r->db);
	int redis = redis_ping(r->redis);
	bool broker = outbox_relay_connected(r->relay) &&
	              payment_results_connected(r->results);

	json_object_set_new(checks, "database",
	                    json_string(db == 0 ? "ok" : shop_strerror(db)));
	json_object_set_new(
	        checks, "redis",
	        json_string(redis == 0 ? "ok" : shop_strerror(redis)));
	json_object_set_new(checks, "broker",
	                    json_string(broker ? "ok" : "not connected"));
	json_object_set_new(
	        checks, "cart_circuit",
	        json_string(breaker_state_name(
	                (enum breaker_state)httpc_breaker_state(r->cart))));
	json_object_set_new(
	        checks, "product_circuit",
	        json_string(breaker_state_name(
	                (enum breaker_state)httpc_breaker_state(r->product))));
	return db == 0 && redis == 0 && broker ? 0 : SHOP_EUNAVAIL;
}

static void free_config(struct order_config *c)
{
	if (c->internal_token) {
		explicit_bzero(c->internal_token, strlen(c->internal_token));
		free(c->internal_token);
		c->internal_token = NULL;
	}
}

static int new_client(const char *name, const struct upstream_config *u,
                      const struct httpc_header *internal, int threads,
                      struct httpc **out)
{
	struct httpc_options o = {
	        .name = name,
	        .base_url = u->url,
	        .connect_timeout_ms = (int)u->connect_timeout_ms,
	        .timeout_ms = (int)u->timeout_ms,
	        .retries = u->retries > 0 ? (int)u->retries : -1,
	        .failures_to_open = (int)u->breaker_failures,
	        .open_ms = (int)u->breaker_open_ms,
	        .max_idle_handles = threads,
	        .headers = internal,
	        .nheaders = 1,
	};
	return httpc_new(&o, out);
}

int main(void)
{
	struct order_config cfg = {0};
	enum slog_level level = SLOG_INFO;
	const char *level_name;
	struct db_pool *db = NULL;
	struct redis_pool *redis = NULL;
	struct jwt_verifier *jwt = NULL;
	struct httpc *cart_client = NULL, *product_client = NULL;
	struct order_repo repo = {0};
	struct cart_source cart = {0};
	struct stock stock = {0};
	struct outbox_relay *relay = NULL;
	struct payment_results *results = NULL;
	struct http_server *server = NULL;
	struct orders orders;
	struct readiness ready;
	struct auth_context auth = {0};
	int threads, exit_code = 1, sig;

	http_block_signals();
	slog_init("order", SLOG_INFO);
	config_string("LOG_LEVEL", "info", &level_name);
	if (slog_level_parse(level_name, &level) < 0) {
		slog_kv(SLOG_ERROR, NULL, "invalid configuration",
		        SLOG_S("variable", "LOG_LEVEL"),
		        SLOG_S("value", level_name),
		        SLOG_S("expected", "debug, info, warn or error"));
		return 2;
	}
	slog_init("order", level);
	if (read_config(&cfg) < 0) {
		free_config(&cfg);
		return 2;
	}
	/* A checkout waits on the cart, the product service and PostgreSQL
	 * in turn: a few threads per core keep the cores busy meanwhile. */
	threads =
	        cfg.http.threads > 0 ? (int)cfg.http.threads : 4 * shop_ncpu();
	if (httpc_global_init() < 0)
		goto out;

	if (migrate_run(cfg.database_url, cfg.migrations_dir, "order") < 0 ||
	    outbox_migrate(cfg.database_url, "order") < 0 ||
	    consumer_migrate(cfg.database_url, "order") < 0)
		goto out;

	struct db_pool_options dbo = {
	        .conninfo = cfg.database_url,
	        .name = "order_db",
	        .application_name = "order",
	        /* One more for each consumer's worker (consumer.h). */
	        .size = cfg.db_pool_size > 0 ? (int)cfg.db_pool_size
	                                     : threads + (int)cfg.consumers,
	        .statement_timeout_ms = 5000,
	};
	if (db_pool_new(&dbo, &db) < 0)
		goto out;
	repo = pg_order_repo_new(db);
	if (!repo.ops)
		goto out;
	if (db_pool_start(db) == SHOP_EINVAL)
		goto out;
	metrics_on_render(db_pool_metrics_hook, db);

	struct redis_pool_options ro = {
	        .name = "order",
	        .url = cfg.redis_url,
	        .size = threads,
	};
	if (redis_pool_new(&ro, &redis) < 0)
		goto out;

	struct httpc_header internal = {HTTP_INTERNAL_TOKEN_HEADER,
	                                cfg.internal_token};
	if (new_client("cart", &cfg.cart, &internal, threads, &cart_client) <
	            0 ||
	    new_client("product", &cfg.product, &internal, threads,
	               &product_client) < 0)
		goto out;
	cart = http_cart_source_new(cart_client);
	stock = http_stock_new(product_client);
	if (!cart.ops || !stock.ops)
		goto out;

	if (jwt_verifier_new(cfg.jwt_public_key_file, cfg.jwt_issuer,
	                     cfg.jwt_audience, JWT_LEEWAY_S, &jwt) < 0)
		goto out;

	orders_init(&orders, repo, cart, stock, uuid_id_source());

	struct outbox_relay_options oo = {
	        .service = "order",
	        .conninfo = cfg.database_url,
	        .amqp_url = cfg.amqp_url,
	        /* Leaves room in the 10 s shutdown budget (OPERATIONS.md)
	         * after the HTTP server's grace period. */
	        .confirm_timeout_ms = 2000,
	};
	if (outbox_relay_start(&oo, &relay) < 0)
		goto out;
	if (payment_results_start(cfg.amqp_url, db, &orders,
	                          (int)cfg.consumer_prefetch,
	                          (int)cfg.consumers, &results) < 0)
		goto out;

	auth = (struct auth_context){.verifier = jwt, .redis = redis};
	/* Revoked tokens in memory: no Redis round trip per request. */
	if (auth_revocation_start(&auth) < 0)
		slog_warn("revoked tokens are checked in Redis per request");
	ready = (struct readiness){
	        .db = db,
	        .redis = redis,
	        .relay = relay,
	        .results = results,
	        .cart = cart_client,
	        .product = product_client,
	};
	struct http_server_config hc = {
	        .service = "order",
	        .routes = order_routes,
	        .nroutes = order_nroutes,
	        .app = &orders,
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
	slog_kv(SLOG_INFO, NULL, "order ready", SLOG_I("http_threads", threads),
	        SLOG_S("cart_url", cfg.cart.url),
	        SLOG_S("product_url", cfg.product.url));

	sig = http_wait_for_signal();
	slog_kv(SLOG_INFO, NULL, "shutting down", SLOG_I("signal", sig));
	http_server_free(server, 6000);
	server = NULL;
	exit_code = 0;
out:
	http_server_free(server, 0);
	auth_revocation_stop(&auth);
	payment_results_free(results);
	outbox_relay_free(relay);
	jwt_verifier_free(jwt);
	http_stock_free(stock);
	http_cart_source_free(cart);
	httpc_free(product_client);
	httpc_free(cart_client);
	redis_pool_free(redis);
	pg_order_repo_free(repo);
	db_pool_free(db);
	free_config(&cfg);
	if (exit_code)
		slog_error("order stopped: start-up failed");
	else
		slog_info("stopped");
	return exit_code;
}
