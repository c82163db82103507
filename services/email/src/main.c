/*
 * shop-email: the email daemon. Reads its configuration from the
 * environment, applies its migrations (and the consumer's), consumes
 * user.registered, order.confirmed and order.failed from the
 * email.notifications queue into queued messages, sends them over SMTP
 * from its sender threads, and serves GET /api/emails until SIGTERM or
 * SIGINT.
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
#include "shop/redis.h"
#include "shop/util.h"

#include "api/handlers.h"
#include "core/notifications.h"
#include "domain/mime.h"
#include "infrastructure/pg_email_store.h"
#include "infrastructure/senders.h"
#include "infrastructure/smtp_transport.h"

struct email_config {
	struct http_env http;
	const char *database_url;
	long db_pool_size;
	const char *migrations_dir;
	const char *redis_url;
	const char *amqp_url;
	const char *jwt_public_key_file;
	const char *jwt_issuer;
	const char *jwt_audience;
	const char *smtp_url;
	long smtp_timeout_ms;
	long smtp_connect_timeout_ms;
	const char *from;
	struct email_sender sender;
	const char *message_id_domain;
	long senders;
	long max_attempts;
	long poll_interval_ms;
	long prefetch;
	long consumers;
};

static void reject(const char *var, const char *value, const char *want)
{
	slog_kv(SLOG_ERROR, NULL, "invalid configuration",
	        SLOG_S("variable", var), SLOG_S("value", value),
	        SLOG_S("expected", want));
}

/* The variables config.h has no getter for. */
static int check_mail_config(struct email_config *c)
{
	int bad = 0;

	if (!smtp_url_ok(c->smtp_url)) {
		/* the URL may carry a password: only show one without '@' */
		reject("SMTP_URL",
		       strchr(c->smtp_url, '@') ? "(hidden)" : c->smtp_url,
		       "an smtp:// or smtps:// URL, e.g. "
		       "smtp://127.0.0.1:1025");
		bad = 1;
	}
	if (email_sender_parse(c->from, &c->sender) < 0) {
		reject("EMAIL_FROM", c->from,
		       "an address or 'Name <address>' without control "
		       "characters, quotes or backslashes in the name");
		bad = 1;
	}
	if (!email_domain_ok(c->message_id_domain)) {
		reject("EMAIL_MESSAGE_ID_DOMAIN", c->message_id_domain,
		       "a host name of letters, digits, dots and hyphens");
		bad = 1;
	}
	return bad;
}

/* Reads every variable, so one start reports every bad one. */
static int read_config(struct email_config *c)
{
	int bad = 0;

	bad |= http_env_read(8003, 1024, &c->http);
	bad |= config_required_string(
	        "DATABASE_URL", "postgresql://email@127.0.0.1:5432/email_db",
	        &c->database_url);
	bad |= config_long("DB_POOL_SIZE", 0, 0, 256, &c->db_pool_size);
	bad |= config_directory("MIGRATIONS_DIR", "services/email/migrations",
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
	bad |= config_required_string("SMTP_URL", "smtp://127.0.0.1:1025",
	                              &c->smtp_url);
	bad |= config_long("SMTP_TIMEOUT_MS", 10000, 100, 600000,
	                   &c->smtp_timeout_ms);
	bad |= config_long("SMTP_CONNECT_TIMEOUT_MS", 2000, 10, 600000,
	                   &c->smtp_connect_timeout_ms);
	bad |= config_required_string("EMAIL_FROM",
	                              "Shop <no-reply@shop.local>", &c->from);
	bad |= config_required_string("EMAIL_MESSAGE_ID_DOMAIN", "shop.local",
	                              &c->message_id_domain);
	bad |= config_long("EMAIL_SENDERS", 8, 1, 64, &c->senders);
	bad |= config_long("EMAIL_MAX_ATTEMPTS", 5, 1, 100, &c->max_attempts);
	bad |= config_long("EMAIL_POLL_INTERVAL_MS", 1000, 10, 60000,
	                   &c->poll_interval_ms);
	bad |= config_long("CONSUMER_PREFETCH", 16, 1, 1000, &c->prefetch);
	bad |= config_long("CONSUMERS", 4, 1, CONSUMER_GROUP_MAX,
	                   &c->consumers);
	if (!bad)
		bad |= check_mail_config(c);
	if (!bad && c->amqp_url && amqp_url_check(c->amqp_url, NULL, 0) < 0) {
		reject("AMQP_URL", "(hidden)",
		       "amqp://user:password@host:port/vhost");
		bad = 1;
	}
	if (c->smtp_connect_timeout_ms > c->smtp_timeout_ms)
		c->smtp_connect_timeout_ms = c->smtp_timeout_ms;
	return bad ? SHOP_EINVAL : 0;
}

struct readiness {
	struct db_pool *db;
	struct redis_pool *redis;
	struct consumer_group *consumers;
};

/*
 * Ready when the database answers and the consumer is connected to the
 * broker. Redis is reported but only decides revocation checks (which
 * fail open). The SMTP server is no dependency: messages wait queued and
 * email_queue_depth shows them.
 */
static int check_ready(void *ctx, json_t *checks)
{
	struct readiness *r = ctx;
	int db = db_pool_ping(r->db);
	int redis = redis_ping(r->redis);
	bool broker = consumer_group_connected(r->consumers);

	json_object_set_new(checks, "database",
	                    json_string(db == 0 ? "ok" : shop_strerror(db)));
	json_object_set_new(checks, "broker",
	                    json_string(broker ? "ok" : "not connected"));
	json_object_set_new(
	        checks, "redis",
	        json_string(redis == 0 ? "ok" : shop_strerror(redis)));
	return db == 0 && broker ? 0 : SHOP_EUNAVAIL;
}

int main(void)
{
	struct email_config cfg = {0};
	enum slog_level level = SLOG_INFO;
	const char *level_name;
	struct db_pool *db = NULL;
	struct redis_pool *redis = NULL;
	struct jwt_verifier *jwt = NULL;
	struct consumer_group *consumers = NULL;
	struct email_senders *senders = NULL;
	struct http_server *server = NULL;
	struct notifications notifications;
	struct email_app app;
	struct readiness ready;
	struct auth_context auth = {0};
	int threads, exit_code = 1, sig;

	http_block_signals();
	slog_init("email", SLOG_INFO);
	config_string("LOG_LEVEL", "info", &level_name);
	if (slog_level_parse(level_name, &level) < 0) {
		slog_kv(SLOG_ERROR, NULL, "invalid configuration",
		        SLOG_S("variable", "LOG_LEVEL"),
		        SLOG_S("value", level_name),
		        SLOG_S("expected", "debug, info, warn or error"));
		return 2;
	}
	slog_init("email", level);
	if (read_config(&cfg) < 0)
		return 2;
	/* The API is one read: a couple of threads per core is plenty. */
	threads =
	        cfg.http.threads > 0 ? (int)cfg.http.threads : 2 * shop_ncpu();
	if (smtp_transport_global_init() < 0)
		goto out;

	if (migrate_run(cfg.database_url, cfg.migrations_dir, "email") < 0 ||
	    consumer_migrate(cfg.database_url, "email") < 0)
		goto out;
	/* One connection per HTTP thread, and one for each consumer's
	 * worker, which holds it for the length of each event. */
	struct db_pool_options dbo = {
	        .conninfo = cfg.database_url,
	        .name = "email_db",
	        .application_name = "email",
	        .size = cfg.db_pool_size > 0 ? (int)cfg.db_pool_size
	                                     : threads + (int)cfg.consumers,
	        .statement_timeout_ms = 5000,
	};
	if (db_pool_new(&dbo, &db) < 0 || pg_email_store_prepare(db) < 0)
		goto out;
	if (db_pool_start(db) == SHOP_EINVAL)
		goto out;
	metrics_on_render(db_pool_metrics_hook, db);

	struct redis_pool_options ro = {
	        .name = "email",
	        .url = cfg.redis_url,
	        .size = threads,
	};
	if (redis_pool_new(&ro, &redis) < 0)
		goto out;
	if (jwt_verifier_new(cfg.jwt_public_key_file, cfg.jwt_issuer,
	                     cfg.jwt_audience, JWT_LEEWAY_S, &jwt) < 0)
		goto out;

	notifications_init(&notifications, pg_email_store_new(),
	                   cfg.message_id_domain);
	app = (struct email_app){
	        .notifications = &notifications,
	        .reader = pg_email_reader_new(db),
	};

	struct email_senders_options so = {
	        .conninfo = cfg.database_url,
	        .db_name = "email_db",
	        .senders = (int)cfg.senders,
	        .poll_ms = (int)cfg.poll_interval_ms,
	        .smtp = {.url = cfg.smtp_url,
	                 .connect_timeout_ms = cfg.smtp_connect_timeout_ms,
	                 .timeout_ms = cfg.smtp_timeout_ms},
	        .from = &cfg.sender,
	        .max_attempts = (int)cfg.max_attempts,
	};
	if (email_senders_start(&so, &senders) < 0)
		goto out;

	struct consumer_options co = {
	        .service = "email",
	        .amqp_url = cfg.amqp_url,
	        .queue = amqp_topology_queue("email.notifications"),
	        .pool = db,
	        .handle = email_event_handle,
	        .arg = &app,
	        .prefetch = (int)cfg.prefetch,
	        .shutdown_timeout_ms = 3000,
	};
	if (!co.queue) {
		slog_error("the topology has no queue 'email.notifications'");
		goto out;
	}
	/* Competing consumers of the one queue: each handles one event at a
	 * time, so several let the inserts (and their commits) overlap. */
	if (consumer_group_start(&co, (int)cfg.consumers, &consumers) < 0)
		goto out;

	auth = (struct auth_context){.verifier = jwt, .redis = redis};
	/* Revoked tokens in memory: no Redis round trip per request. */
	if (auth_revocation_start(&auth) < 0)
		slog_warn("revoked tokens are checked in Redis per request");
	ready = (struct readiness){
	        .db = db, .redis = redis, .consumers = consumers};
	struct http_server_config hc = {
	        .service = "email",
	        .routes = email_routes,
	        .nroutes = email_nroutes,
	        .app = &app,
	        .authenticate = auth_authenticate,
	        .auth_ctx = &auth,
	        .ready = check_ready,
	        .ready_ctx = &ready,
	};
	http_env_apply(&cfg.http, threads, &hc);
	server = http_server_start(&hc);
	if (!server)
		goto out;
	slog_kv(SLOG_INFO, NULL, "email ready", SLOG_I("http_threads", threads),
	        SLOG_I("senders", cfg.senders),
	        SLOG_I("max_attempts", cfg.max_attempts),
	        SLOG_S("from", cfg.sender.address));

	sig = http_wait_for_signal();
	slog_kv(SLOG_INFO, NULL, "shutting down", SLOG_I("signal", sig));
	/* 10 s in all (OPERATIONS.md): requests, then the event in hand,
	 * then the message each sender is sending. */
	http_server_free(server, 3000);
	server = NULL;
	exit_code = 0;
out:
	http_server_free(server, 0);
	auth_revocation_stop(&auth);
	consumer_group_free(consumers);
	email_senders_free(senders);
	jwt_verifier_free(jwt);
	redis_pool_free(redis);
	db_pool_free(db);
	if (exit_code)
		slog_error("email stopped: start-up failed");
	else
		slog_info("stopped");
	return exit_code;
}
