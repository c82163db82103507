/*
 * shop-user: the accounts daemon. Reads its configuration from the
 * environment, checks its signing keys, applies its migrations (and the
 * outbox's), wires PostgreSQL, libsodium, libjwt and Redis into the use
 * cases, relays user.registered events to RabbitMQ, and serves the HTTP API
 * until SIGTERM or SIGINT.
 *
 * `shop-user hash-password` instead reads one password on stdin and prints
 * its Argon2id hash (for seed files and operators).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "shop/auth.h"
#include "shop/config.h"
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
#include "core/users.h"
#include "infrastructure/jwt_token_issuer.h"
#include "infrastructure/pg_user_repo.h"
#include "infrastructure/redis_user_store.h"
#include "infrastructure/sodium_password_hasher.h"

/* Bytes of one password line hash-password reads (a password is at most
 * 128 code points, so 512 bytes; the rest is room to say "too long"). */
#define PASSWORD_LINE_MAX 1024

struct user_config {
	struct http_env http;
	const char *database_url;
	long db_pool_size;
	const char *migrations_dir;
	const char *redis_url;
	const char *amqp_url;
	const char *jwt_private_key_file;
	const char *jwt_public_key_file;
	const char *jwt_issuer;
	const char *jwt_audience;
	long jwt_ttl_s;
	long hash_concurrency;
	long hash_max_queue;
	long hash_queue_timeout_ms;
	long login_max_failures;
	long login_failure_window_s;
};

/* Reads every variable, so one start reports every bad one. */
static int read_config(struct user_config *c)
{
	int bad = 0;

	bad |= http_env_read(8005, 1024, &c->http);
	bad |= config_required_string(
	        "DATABASE_URL", "postgresql://user@127.0.0.1:5432/user_db",
	        &c->database_url);
	bad |= config_long("DB_POOL_SIZE", 0, 0, 256, &c->db_pool_size);
	bad |= config_directory("MIGRATIONS_DIR", "services/user/migrations",
	                        &c->migrations_dir);
	bad |= config_required_string("REDIS_URL", "redis://127.0.0.1:6379/0",
	                              &c->redis_url);
	bad |= config_required_string("AMQP_URL",
	                              "amqp://guest:guest@127.0.0.1:5672/%2F",
	                              &c->amqp_url);
	bad |= config_readable_file("JWT_PRIVATE_KEY_FILE",
	                            ".state/dev/secrets/jwt_private.pem",
	                            &c->jwt_private_key_file);
	bad |= config_readable_file("JWT_PUBLIC_KEY_FILE",
	                            ".state/dev/secrets/jwt_public.pem",
	                            &c->jwt_public_key_file);
	bad |= config_required_string("JWT_ISSUER", "shop-user",
	                              &c->jwt_issuer);
	bad |= config_required_string("JWT_AUDIENCE", "shop", &c->jwt_audience);
	bad |= config_long("JWT_TTL_S", 900, 60, 86400, &c->jwt_ttl_s);
	bad |= config_long("PASSWORD_HASH_CONCURRENCY", 0, 0, 256,
	                   &c->hash_concurrency);
	bad |= config_long("PASSWORD_HASH_MAX_QUEUE", 0, 0, 4096,
	                   &c->hash_max_queue);
	bad |= config_long("PASSWORD_HASH_QUEUE_TIMEOUT_MS", 10000, 1, 600000,
	                   &c->hash_queue_timeout_ms);
	bad |= config_long("LOGIN_MAX_FAILURES", 5, 1, 1000,
	                   &c->login_max_failures);
	bad |= config_long("LOGIN_FAILURE_WINDOW_S", 900, 1, 86400,
	                   &c->login_failure_window_s);
	return bad ? SHOP_EINVAL : 0;
}

/* Resolves the "0 = automatic" sizes (README.md "Sizing"). */
static void resolve_sizes(struct user_config *c)
{
	long cores = shop_ncpu();

	if (c->hash_concurrency == 0)
		c->hash_concurrency = cores;
	/* The last in a full queue waits about max_queue / concurrency hash
	 * times (8 to 16 of 35-70 ms each) unless the CPU is starved: then
	 * the timeout ends its wait. */
	if (c->hash_max_queue == 0) {
		/* A burst of 50 concurrent sign-ins queues rather than
		 * getting 503s (measured by scripts/bench.sh). */
		c->hash_max_queue = 16 * c->hash_concurrency;
		if (c->hash_max_queue < 64)
			c->hash_max_queue = 64;
	}
	/* Hashing and queued requests each hold a thread; `cores` more stay
	 * free for everything else. */
	if (c->http.threads == 0) {
		c->http.threads =
		        cores + c->hash_concurrency + c->hash_max_queue;
		if (c->http.threads > 1024)
			c->http.threads = 1024;
	}
	if (c->http.threads <= c->hash_concurrency + c->hash_max_queue)
		slog_warn(
		        "HTTP_THREADS (%ld) is not above "
		        "PASSWORD_HASH_CONCURRENCY + PASSWORD_HASH_MAX_QUEUE "
		        "(%ld): a burst of sign-ins can hold every thread and "
		        "stall other requests",
		        c->http.threads,
		        c->hash_concurrency + c->hash_max_queue);
	/* Threads waiting for a hash hold no connection. */
	if (c->db_pool_size == 0) {
		c->db_pool_size = cores + c->hash_concurrency;
		if (c->db_pool_size > c->http.threads)
			c->db_pool_size = c->http.threads;
	}
}

struct readiness {
	struct db_pool *db;
	struct redis_pool *redis;
	struct outbox_relay *relay;
};

static int check_ready(void *ctx, json_t *checks)
{
	struct readiness *r = ctx;
	int db = db_pool_ping(r->db);
	int redis = redis_ping(r->redis);
	bool broker = outbox_relay_connected(r->relay);

	json_object_set_new(checks, "database",
	                    json_string(db == 0 ? "ok" : shop_strerror(db)));
	json_object_set_new(
	        checks, "redis",
	        json_string(redis == 0 ? "ok" : shop_strerror(redis)));
	json_object_set_new(checks, "broker",
	                    json_string(broker ? "ok" : "not connected"));
	return db == 0 && redis == 0 && broker ? 0 : SHOP_EUNAVAIL;
}

/*
 * Signs a token for a made-up user and verifies it the way every daemon
 * will, so that keys libjwt cannot use, or an issuer / audience mix-up,
 * stop the daemon at start instead of failing every sign-in.
 */
static int self_test_tokens(struct token_issuer issuer,
                            const struct jwt_verifier *verifier)
{
	struct user probe = {
	        .id = "00000000-0000-4000-8000-000000000000",
	        .email = "probe@example.com",
	        .name = "probe",
	        .role = USER_ROLE_CUSTOMER,
	};
	struct arena *a = arena_new(0);
	struct access_token token;
	struct jwt_claims claims;
	const char *reason = "cannot sign";
	int rc = SHOP_ENOMEM;

	if (!a)
		return rc;
	rc = issuer.ops->issue(issuer.self, a, &probe, &token);
	if (rc == 0)
		rc = jwt_verify(verifier, token.token, &claims, &reason);
	if (rc)
		slog_error("the JWT keys cannot make a token this service "
		           "accepts: %s",
		           reason);
	arena_free(a);
	return rc;
}

/* Reads one line from stdin without echo when it is a terminal. Returns
 * its length without the line end, or -1. */
static long read_password_line(char *buf, size_t cap)
{
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	size_t n;
	char *ok;

	if (tty) {
		fputs("password: ", stderr);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ok = fgets(buf, (int)cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (!ok)
		return -1;
	n = strlen(buf);
	if (n == cap - 1 && buf[n - 1] != '\n')
		return -1; /* longer than the buffer */
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return (long)n;
}

static int hash_password_command(void)
{
	struct sodium_hasher_options ho = {
	        .concurrency = 1,
	        .max_queue = 0,
	        .queue_timeout_ms = 1000,
	};
	char line[PASSWORD_LINE_MAX], hash[USER_PASSWORD_HASH_MAX];
	struct password_hasher hasher;
	struct field_errors errs;
	int rc = 2;

	slog_init("user", SLOG_ERROR); /* stdout is for the hash */
	field_errors_init(&errs);
	if (read_password_line(line, sizeof(line)) < 0) {
		fprintf(stderr, "hash-password: cannot read one password line "
		                "(at most 128 characters) on stdin\n");
		goto wipe;
	}
	if (user_password_validate(line, "password", &errs) < 0) {
		fprintf(stderr, "hash-password: the password %s\n",
		        errs.items[0].message);
		goto wipe;
	}
	hasher = sodium_password_hasher_new(&ho);
	if (!hasher.ops) {
		rc = 1;
		goto wipe;
	}
	rc = hasher.ops->hash(hasher.self, line, hash) == 0 ? 0 : 1;
	sodium_password_hasher_free(hasher);
	if (rc == 0)
		printf("%s\n", hash);
	else
		fprintf(stderr, "hash-password: cannot hash the password\n");
wipe:
	explicit_bzero(line, sizeof(line));
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: shop-user                 serve (configured by the "
	        "environment, see .env.example)\n"
	        "       shop-user hash-password   read a password on stdin, "
	        "print its Argon2id hash\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct user_config cfg;
	enum slog_level level = SLOG_INFO;
	const char *level_name;
	struct password_hasher hasher = {0};
	struct token_issuer issuer = {0};
	struct jwt_verifier *verifier = NULL;
	struct db_pool *db = NULL;
	struct redis_pool *redis = NULL;
	struct outbox_relay *relay = NULL;
	struct user_repo repo = {0};
	struct http_server *server = NULL;
	struct users users;
	struct user_app app;
	struct readiness ready;
	struct auth_context auth;
	int exit_code = 1, sig;

	if (argc == 2 && strcmp(argv[1], "hash-password") == 0)
		return hash_password_command();
	if (argc != 1)
		return usage();

	http_block_signals();
	slog_init("user", SLOG_INFO);
	config_string("LOG_LEVEL", "info", &level_name);
	if (slog_level_parse(level_name, &level) < 0) {
		slog_kv(SLOG_ERROR, NULL, "invalid configuration",
		        SLOG_S("variable", "LOG_LEVEL"),
		        SLOG_S("value", level_name),
		        SLOG_S("expected", "debug, info, warn or error"));
		return 2;
	}
	slog_init("user", level);
	if (read_config(&cfg) < 0)
		return 2;
	resolve_sizes(&cfg);

	/* The keys first: a bad pair is a configuration error (exit 2). */
	struct jwt_issuer_options io = {
	        .private_key_file = cfg.jwt_private_key_file,
	        .public_key_file = cfg.jwt_public_key_file,
	        .issuer = cfg.jwt_issuer,
	        .audience = cfg.jwt_audience,
	        .ttl_s = (int)cfg.jwt_ttl_s,
	};
	exit_code = 2;
	issuer = jwt_token_issuer_new(&io);
	if (!issuer.ops)
		goto out;
	if (jwt_verifier_new(cfg.jwt_public_key_file, cfg.jwt_issuer,
	                     cfg.jwt_audience, JWT_LEEWAY_S, &verifier) < 0 ||
	    self_test_tokens(issuer, verifier) < 0)
		goto out;
	exit_code = 1;

	struct sodium_hasher_options ho = {
	        .concurrency = (int)cfg.hash_concurrency,
	        .max_queue = (int)cfg.hash_max_queue,
	        .queue_timeout_ms = (int)cfg.hash_queue_timeout_ms,
	};
	hasher = sodium_password_hasher_new(&ho);
	if (!hasher.ops)
		goto out;

	if (migrate_run(cfg.database_url, cfg.migrations_dir, "user") < 0 ||
	    outbox_migrate(cfg.database_url, "user") < 0)
		goto out;
	struct db_pool_options dbo = {
	        .conninfo = cfg.database_url,
	        .name = "user_db",
	        .application_name = "user",
	        .size = (int)cfg.db_pool_size,
	        .statement_timeout_ms = 5000,
	};
	if (db_pool_new(&dbo, &db) < 0)
		goto out;
	repo = pg_user_repo_new(db);
	if (!repo.ops || outbox_prepare(db) < 0)
		goto out;
	if (db_pool_start(db) == SHOP_EINVAL)
		goto out;
	metrics_on_render(db_pool_metrics_hook, db);

	struct redis_pool_options ro = {
	        .name = "user",
	        .url = cfg.redis_url,
	        .size = (int)cfg.http.threads,
	};
	if (redis_pool_new(&ro, &redis) < 0)
		goto out;

	struct outbox_relay_options oo = {
	        .service = "user",
	        .conninfo = cfg.database_url,
	        .amqp_url = cfg.amqp_url,
	        /* Leaves room in the 10 s shutdown budget (OPERATIONS.md)
	         * after the HTTP server's grace period. */
	        .confirm_timeout_ms = 2000,
	};
	if (outbox_relay_start(&oo, &relay) < 0)
		goto out;

	struct users_limits limits = {
	        .max_failures = (int)cfg.login_max_failures,
	        .failure_window_s = (int)cfg.login_failure_window_s,
	};
	users_init(&users, repo, hasher, issuer, redis_token_revocations(redis),
	           redis_login_failures(redis), &limits);
	app.users = &users;
	app.jwks = jwt_token_issuer_jwks(issuer, &app.jwks_len);
	auth.verifier = verifier;
	auth.redis = redis;
	ready.db = db;
	ready.redis = redis;
	ready.relay = relay;
	user_api_metrics_init();

	struct http_server_config hc = {
	        .service = "user",
	        .routes = user_routes,
	        .nroutes = user_nroutes,
	        .app = &app,
	        .authenticate = auth_authenticate,
	        .auth_ctx = &auth,
	        .ready = check_ready,
	        .ready_ctx = &ready,
	};
	http_env_apply(&cfg.http, (int)cfg.http.threads, &hc);
	server = http_server_start(&hc);
	if (!server)
		goto out;
	slog_kv(SLOG_INFO, NULL, "serving",
	        SLOG_I("http_threads", cfg.http.threads),
	        SLOG_I("db_pool_size", cfg.db_pool_size),
	        SLOG_I("password_hash_concurrency", cfg.hash_concurrency),
	        SLOG_I("password_hash_max_queue", cfg.hash_max_queue),
	        SLOG_S("jwt_kid", jwt_token_issuer_kid(issuer)));

	sig = http_wait_for_signal();
	slog_kv(SLOG_INFO, NULL, "shutting down", SLOG_I("signal", sig));
	http_server_free(server, 7000);
	server = NULL;
	exit_code = 0;
out:
	http_server_free(server, 0);
	outbox_relay_free(relay);
	redis_pool_free(redis);
	pg_user_repo_free(repo);
	db_pool_free(db);
	sodium_password_hasher_free(hasher);
	jwt_verifier_free(verifier);
	jwt_token_issuer_free(issuer);
	if (exit_code == 1)
		slog_error("user stopped: start-up failed");
	else if (exit_code == 0)
		slog_info("stopped");
	return exit_code;
}
