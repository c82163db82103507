/*
 * shop-payment: the payment daemon. Reads its configuration from the
 * environment, applies its migrations (and the outbox's and the
 * consumer's), consumes order.created from payment.order-created, charges
 * the built-in mock processor, stores each payment with its
 * payment.completed / payment.failed outbox row in one transaction, relays
 * the outbox to RabbitMQ, and serves the payments' HTTP API until SIGTERM
 * or SIGINT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/amqp.h"
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
#include "shop/outbox.h"
#include "shop/redis.h"
#include "shop/util.h"

#include "api/handlers.h"
#include "core/payments.h"
#include "infrastructure/mock_processor.h"
#include "infrastructure/order_created_consumer.h"
#include "infrastructure/pg_payment_repo.h"

#define QUEUE "payment.order-created"

struct payment_config {
	struct http_env http;
	const char *database_url;
	long db_pool_size;
	const char *migrations_dir;
	const char *redis_url;
	const char *amqp_url;
	const char *jwt_public_key_file;
	const char *jwt_issuer;
	const char *jwt_audience;
	long consumer_prefetch;
	long consumers;
	long amount_limit_cents;
	long latency_ms;
};

/* Reads every variable, so one start reports every bad one. */
static int read_config(struct payment_config *c)
{
	int bad = 0;

	bad |= http_env_read(8002, 1024, &c->http);
	bad |= config_required_string(
	        "DATABASE_URL",
	        "postgresql://payment@127.0.0.1:5432/payment_db",
	        &c->database_url);
	bad |= config_long("DB_POOL_SIZE", 0, 0, 256, &c->db_pool_size);
	bad |= config_directory("MIGRATIONS_DIR", "services/payment/migrations",
	                        &c->migrations_dir);
	bad |= config_required_string("REDIS_URL", "redis://127.0.0.1:6379/0",
	                              &c->redis_url);
	bad |= config_required_string("AMQP_URL",
	                              "amqp://guest:guest@127.0.0.1:5672/%2F",
	                              &c->amqp_url);
	bad |= config_readable_file("JWT_PUBLIC_KEY_FILE",
	                            ".state/dev/secrets/jwt_public.pem",
	                            &c->jwt_public_key_file);
	bad |= config_required_string("JWT_ISSUER", "shop-user",
	                              &c->jwt_issuer);
	bad |= config_required_string("JWT_AUDIENCE", "shop", &c->jwt_audience);
	bad |= config_long("CONSUMER_PREFETCH", 16, 1, 1000,
	                   &c->consumer_prefetch);
	bad |= config_long("CONSUMERS", 4, 1, CONSUMER_GROUP_MAX,
	                   &c->consumers);
	bad |= config_long("PAYMENT_AMOUNT_LIMIT_CENTS", 1000000, 0,
	                   1000000000000L, &c->amount_limit_cents);
	bad |= config_long("PAYMENT_LATENCY_MS", 0, 0, 60000, &c->latency_ms);
	return bad ? SHOP_EINVAL : 0;
}

struct readiness {
	struct db_pool *db;
	struct redis_pool *redis;
	struct outbox_relay *relay;
	struct consumer_group *consumers;
};

/*
 * Ready when the database answers and the broker is reached both ways
 * (the consumer consuming, the relay able to publish). Redis is reported
 * but does not make the daemon unready: it only serves token revocation,
 * which fails open (shop/auth.h), and the charges never need it.
 */
static int check_ready(void *ctx, json_t *checks)
{
	struct readiness *r = ctx;
	int db = db_pool_ping(r->db);
	int redis = redis_ping(r->redis);
	bool consuming = consumer_group_connected(r->consumers);
	bool relaying = outbox_relay_connected(r->relay);
	const char *broker = consuming && relaying ? "ok"
	                     : consuming ? "outbox relay not connected"
	                     : relaying  ? "consumer not connected"
	                                 : "not connected";

	json_object_set_new(checks, "database",
	                    json_string(db == 0 ? "ok" : shop_strerror(db)));
	json_object_set_new(checks, "broker", json_string(broker));
	json_object_set_new(
	        checks, "redis",
	        json_string(redis == 0 ? "ok" : shop_strerror(redis)));
	return db == 0 && consuming && relaying ? 0 : SHOP_EUNAVAIL;
}

int main(void)
{
	struct payment_config cfg = {0};
	enum slog_level level = SLOG_INFO;
	const char *level_name;
	struct db_pool *db = NULL;
	struct redis_pool *redis = NULL;
	struct jwt_verifier *jwt = NULL;
	struct outbox_relay *relay = NULL;
	struct consumer_group *consumers = NULL;
	struct payment_repo repo = {0};
	struct payment_processor processor = {0};
	struct http_server *server = NULL;
	struct payments payments;
	struct readiness ready;
	struct auth_context auth = {0};
	int threads, exit_code = 1, sig;

	http_block_signals();
	slog_init("payment", SLOG_INFO);
	config_string("LOG_LEVEL", "info", &level_name);
	if (slog_level_parse(level_name, &level) < 0) {
		slog_kv(SLOG_ERROR, NULL, "invalid configuration",
		        SLOG_S("variable", "LOG_LEVEL"),
		        SLOG_S("value", level_name),
		        SLOG_S("expected", "debug, info, warn or error"));
		return 2;
	}
	slog_init("payment", level);
	if (read_config(&cfg) < 0)
		return 2;
	/* Reads only, one or two short statements each: two threads per
	 * core keep the cores busy while they wait on PostgreSQL. */
	threads =
	        cfg.http.threads > 0 ? (int)cfg.http.threads : 2 * shop_ncpu();

	struct mock_processor_options mo = {
	        .amount_limit_cents = cfg.amount_limit_cents,
	        .latency_ms = (int)cfg.latency_ms,
	};
	processor = mock_processor_new(&mo);
	if (!processor.ops)
		goto out;

	if (migrate_run(cfg.database_url, cfg.migrations_dir, "payment") < 0 ||
	    outbox_migrate(cfg.database_url, "payment") < 0 ||
	    consumer_migrate(cfg.database_url, "payment") < 0)
		goto out;

	/* One connection per HTTP thread, plus the one each consumer's
	 * worker holds for the length of each event (shop/consumer.h). */
	struct db_pool_options dbo = {
	        .conninfo = cfg.database_url,
	        .name = "payment_db",
	        .application_name = "payment",
	        .size = (cfg.db_pool_size > 0 ? (int)cfg.db_pool_size
	                                      : threads) +
	                (int)cfg.consumers,
	        .statement_timeout_ms = 5000,
	};
	if (db_pool_new(&dbo, &db) < 0)
		goto out;
	repo = pg_payment_repo_new(db);
	if (!repo.ops || outbox_prepare(db) < 0 || consumer__prepare(db) < 0)
		goto out;
	if (db_pool_start(db) == SHOP_EINVAL)
		goto out;
	metrics_on_render(db_pool_metrics_hook, db);

	struct redis_pool_options ro = {
	        .name = "payment",
	        .url = cfg.redis_url,
	        .size = threads,
	};
	if (redis_pool_new(&ro, &redis) < 0)
		goto out;
	if (jwt_verifier_new(cfg.jwt_public_key_file, cfg.jwt_issuer,
	                     cfg.jwt_audience, JWT_LEEWAY_S, &jwt) < 0)
		goto out;

	payments_init(&payments, repo, processor);

	struct outbox_relay_options oo = {
	        .service = "payment",
	        .conninfo = cfg.database_url,
	        .amqp_url = cfg.amqp_url,
	        /* Leaves room in the 10 s shutdown budget (OPERATIONS.md)
	         * after the HTTP server's grace and the consumer's. */
	        .confirm_timeout_ms = 2000,
	};
	if (outbox_relay_start(&oo, &relay) < 0)
		goto out;

	const struct amqp_queue_def *queue = amqp_topology_queue(QUEUE);
	if (!queue) {
		slog_error("queue '%s' is not in the topology", QUEUE);
		goto out;
	}
	struct consumer_options co = {
	        .service = "payment",
	        .amqp_url = cfg.amqp_url,
	        .queue = queue,
	        .pool = db,
	        .handle = order_created_handle,
	        .arg = &payments,
	        .prefetch = (int)cfg.consumer_prefetch,
	        .shutdown_timeout_ms = 3000,
	};
	/* Competing consumers of the one queue: each handles one event at a
	 * time, so several let charges (and their commits) overlap. */
	if (consumer_group_start(&co, (int)cfg.consumers, &consumers) < 0)
		goto out;

	auth = (struct auth_context){.verifier = jwt, .redis = redis};
	/* Revoked tokens in memory: no Redis round trip per request. */
	if (auth_revocation_start(&auth) < 0)
		slog_warn("revoked tokens are checked in Redis per request");
	ready = (struct readiness){.db = db,
	                           .redis = redis,
	                           .relay = relay,
	                           .consumers = consumers};
	struct http_server_config hc = {
	        .service = "payment",
	        .routes = payment_routes,
	        .nroutes = payment_nroutes,
	        .app = &payments,
	        .authenticate = auth_authenticate,
	        .auth_ctx = &auth,
	        .ready = check_ready,
	        .ready_ctx = &ready,
	};
	http_env_apply(&cfg.http, threads, &hc);
	server = http_server_start(&hc);
	if (!server)
		goto out;
	slog_kv(SLOG_INFO, NULL, "payment ready",
	        SLOG_I("http_threads", threads),
	        SLOG_I("db_pool_size", dbo.size), SLOG_S("queue", QUEUE),
	        SLOG_I("prefetch", cfg.consumer_prefetch),
	        SLOG_I("amount_limit_cents", cfg.amount_limit_cents),
	        SLOG_I("latency_ms", cfg.latency_ms));

	sig = http_wait_for_signal();
	slog_kv(SLOG_INFO, NULL, "shutting down", SLOG_I("signal", sig));
	http_server_free(server, 3000);
	server = NULL;
	exit_code = 0;
out:
	http_server_free(server, 0);
	auth_revocation_stop(&auth);
	consumer_group_free(consumers);
	outbox_relay_free(relay);
	jwt_verifier_free(jwt);
	redis_pool_free(redis);
	pg_payment_repo_free(repo);
	db_pool_free(db);
	mock_processor_free(processor);
	if (exit_code)
		slog_error("payment stopped: start-up failed");
	else
		slog_info("stopped");
	return exit_code;
}
