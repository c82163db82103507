/* Tests of shared/src/db.c against a real PostgreSQL given by
 * SHOP_TEST_DATABASE_URL (skipped without it). Each run works in its own
 * schema, dropped at the end; terminating backends needs a superuser or a
 * role allowed to signal its own backends (same role: always allowed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/net.h"
#include "support/pg.h"

#include "shop/db.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *db_url;
static char schema[64];
static char conninfo[2048];
static PGconn *admin;

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
	                      .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static double ms_since(uint64_t start)
{
	return (double)(shop_now_ns() - start) / 1e6;
}

/* Called first by every test: they all need the database. */
static void need_db(void)
{
	if (!db_url) {
		print_message("skipped: set SHOP_TEST_DATABASE_URL (e.g. "
		              "postgresql://postgres@127.0.0.1:5432/shoptest) "
		              "to run against a real PostgreSQL\n");
		skip();
	}
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int group_setup(void **state)
{
	char sql[128];

	(void)state;
	slog_init("test_db", SLOG_ERROR);
	db_url = getenv("SHOP_TEST_DATABASE_URL");
	if (!db_url || !*db_url) {
		db_url = NULL;
		return 0;
	}
	snprintf(schema, sizeof(schema), "test_db_%d", (int)getpid());
	if (support_conninfo(db_url, schema, conninfo, sizeof(conninfo)) != 0)
		return -1;
	admin = PQconnectdb(conninfo);
	if (PQstatus(admin) != CONNECTION_OK) {
		print_error("cannot connect to SHOP_TEST_DATABASE_URL: %s",
		            PQerrorMessage(admin));
		return -1;
	}
	PQsetNoticeProcessor(admin, quiet, NULL);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
	{
		PGresult *res = PQexec(admin, sql);
		int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

		PQclear(res);
		if (!ok)
			return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char sql[128];

	(void)state;
	if (!admin)
		return 0;
	snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
	PQclear(PQexec(admin, sql));
	PQfinish(admin);
	return 0;
}

static struct db_pool *new_pool(int size, int acquire_timeout_ms,
                                int statement_timeout_ms)
{
	struct db_pool_options opt = {
	        .conninfo = conninfo,
	        .name = "test_db",
	        .application_name = "test_db",
	        .size = size,
	        .acquire_timeout_ms = acquire_timeout_ms,
	        .statement_timeout_ms = statement_timeout_ms,
	};
	struct db_pool *pool = NULL;

	assert_int_equal(db_pool_new(&opt, &pool), 0);
	return pool;
}

/* Runs a one-row, one-column query and returns its value as a long. */
static long scalar(struct db_conn *c, const char *sql)
{
	PGresult *res = NULL;
	long v;

	assert_int_equal(db_query(c, sql, 0, NULL, &res), 0);
	assert_int_equal(PQntuples(res), 1);
	v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

static void test_new_rejects_bad_options(void **state)
{
	struct db_pool_options opt = {.conninfo = "dbname=x", .size = 0};
	struct db_pool *pool = NULL;

	(void)state;
	/* needs no database */
	assert_int_equal(db_pool_new(&opt, &pool), SHOP_EINVAL);
	opt.size = 1;
	opt.conninfo = NULL;
	assert_int_equal(db_pool_new(&opt, &pool), SHOP_EINVAL);
	assert_null(pool);
	db_pool_free(NULL);
	db_release(NULL);
}

static void test_acquire_release_and_stats(void **state)
{
	struct db_pool *pool;
	struct db_conn *c1 = NULL, *c2 = NULL;
	struct db_pool_stats st;
	PGresult *res = NULL;

	(void)state;
	need_db();
	pool = new_pool(2, 0, 0);
	assert_int_equal(db_pool_start(pool), 0);
	db_pool_get_stats(pool, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.connected, 2);
	assert_int_equal(db_pool_ping(pool), 0);

	assert_int_equal(db_acquire(pool, &c1), 0);
	assert_int_equal(db_acquire(pool, &c2), 0);
	assert_ptr_not_equal(c1, c2);
	db_pool_get_stats(pool, &st);
	assert_int_equal(st.in_use, 2);
	/* application_name is the service */
	assert_int_equal(db_query(c1,
	                          "SELECT current_setting('application_name')",
	                          0, NULL, &res),
	                 0);
	assert_string_equal(PQgetvalue(res, 0, 0), "test_db");
	PQclear(res);
	db_release(c1);
	db_release(c2);
	db_pool_get_stats(pool, &st);
	assert_int_equal(st.in_use, 0);
	db_pool_free(pool);
}

static void test_prepared_statements(void **state)
{
	struct db_pool *pool, *bad;
	struct db_conn *c = NULL;
	PGresult *res = NULL;
	const char *params[2] = {"2", "3"};

	(void)state;
	need_db();
	pool = new_pool(2, 0, 0);
	assert_int_equal(
	        db_pool_prepare(pool, "add", "SELECT $1::int + $2::int"), 0);
	/* the same registration twice is fine */
	assert_int_equal(
	        db_pool_prepare(pool, "add", "SELECT $1::int + $2::int"), 0);
	assert_int_equal(db_pool_start(pool), 0);

	assert_int_equal(db_acquire(pool, &c), 0);
	assert_int_equal(db_exec(c, "add", 2, params, &res), 0);
	assert_string_equal(PQgetvalue(res, 0, 0), "5");
	PQclear(res);
	/* it really is a prepared statement on the server */
	assert_int_equal(scalar(c, "SELECT count(*) FROM "
	                           "pg_prepared_statements WHERE name = 'add'"),
	                 1);
	db_release(c);

	/* registered after start: checked at once, then prepared on use */
	assert_int_equal(
	        db_pool_prepare(pool, "mul", "SELECT $1::int * $2::int"), 0);
	assert_int_equal(db_acquire(pool, &c), 0);
	assert_int_equal(db_exec(c, "mul", 2, params, &res), 0);
	assert_string_equal(PQgetvalue(res, 0, 0), "6");
	PQclear(res);
	assert_int_equal(db_exec(c, "add", 2, params, NULL), 0);
	db_release(c);

	/* bad SQL after start is refused and not registered */
	assert_int_equal(db_pool_prepare(pool, "broken", "SELEC nonsense"),
	                 SHOP_EINVAL);
	assert_int_equal(db_acquire(pool, &c), 0);
	assert_int_equal(db_exec(c, "broken", 0, NULL, NULL), SHOP_ERR);
	/* NULL parameters are SQL NULL */
	params[0] = NULL;
	assert_int_equal(db_exec(c, "add", 2, params, &res), 0);
	assert_true(PQgetisnull(res, 0, 0));
	PQclear(res);
	db_release(c);

	/* db_pool_prepare_all: a table at once; a bad one is reported */
	static const char *const table[][2] = {
	        {"sub", "SELECT $1::int - $2::int"},
	        {"neg", "SELECT -$1::int"},
	};
	static const char *const bad_table[][2] = {
	        {"div", "SELECT $1::int / $2::int"},
	        {"broken2", "SELEC nonsense"},
	};
	assert_int_equal(db_pool_prepare_all(pool, table, 2), 0);
	params[0] = "7";
	assert_int_equal(db_pool_exec(pool, "sub", 2, params, &res), 0);
	assert_string_equal(PQgetvalue(res, 0, 0), "4");
	PQclear(res);
	assert_int_equal(db_pool_exec(pool, "neg", 1, params, &res), 0);
	assert_string_equal(PQgetvalue(res, 0, 0), "-7");
	PQclear(res);
	assert_int_equal(db_pool_prepare_all(pool, bad_table, 2), SHOP_EINVAL);

	/* db_pool_exec: acquire, exec, release in one call */
	params[0] = "4";
	assert_int_equal(db_pool_exec(pool, "mul", 2, params, &res), 0);
	assert_string_equal(PQgetvalue(res, 0, 0), "12");
	PQclear(res);
	assert_int_equal(db_pool_exec(pool, "broken", 0, NULL, NULL), SHOP_ERR);
	struct db_pool_stats st;
	db_pool_get_stats(pool, &st);
	assert_int_equal(st.in_use, 0); /* released, also after the failure */
	db_pool_free(pool);

	/* bad SQL before start is reported by start */
	bad = new_pool(1, 0, 0);
	assert_int_equal(
	        db_pool_prepare(bad, "broken", "SELECT * FROM no_such_table"),
	        0);
	assert_int_equal(db_pool_start(bad), SHOP_EINVAL);
	db_pool_free(bad);
}

static void test_transactions(void **state)
{
	struct db_pool *pool;
	struct db_conn *c = NULL;
	const char *one[1] = {"1"}, *two[1] = {"2"};

	(void)state;
	need_db();
	support_pg_exec(admin, "CREATE TABLE tx (id int PRIMARY KEY)");
	pool = new_pool(1, 0, 0);
	assert_int_equal(
	        db_pool_prepare(pool, "ins",
	                        "INSERT INTO tx (id) VALUES ($1::int)"),
	        0);
	/* not started: the first acquire connects and prepares */
	assert_int_equal(db_acquire(pool, &c), 0);

	/* rollback really rolls back */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_exec(c, "ins", 1, one, NULL), 0);
	assert_int_equal(scalar(c, "SELECT count(*) FROM tx"), 1);
	assert_int_equal(db_rollback(c), 0);
	assert_int_equal(scalar(c, "SELECT count(*) FROM tx"), 0);

	/* commit commits */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_exec(c, "ins", 1, one, NULL), 0);
	assert_int_equal(db_commit(c), 0);
	assert_int_equal(scalar(c, "SELECT count(*) FROM tx"), 1);

	/* a failed statement makes COMMIT an error, and nothing is kept */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_exec(c, "ins", 1, two, NULL), 0);
	assert_int_equal(db_exec(c, "ins", 1, one, NULL), SHOP_ECONFLICT);
	assert_int_equal(db_commit(c), SHOP_ERR);
	assert_int_equal(scalar(c, "SELECT count(*) FROM tx"), 1);

	/* release rolls back a transaction left open */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_exec(c, "ins", 1, two, NULL), 0);
	db_release(c);
	assert_int_equal(db_acquire(pool, &c), 0);
	assert_int_equal(PQtransactionStatus(db_conn_pg(c)), PQTRANS_IDLE);
	assert_int_equal(scalar(c, "SELECT count(*) FROM tx"), 1);
	db_release(c);
	db_pool_free(pool);
}

static void test_error_mapping(void **state)
{
	struct db_pool *pool;
	struct db_conn *c = NULL;
	PGresult *res = (PGresult *)&res; /* must stay untouched */

	(void)state;
	need_db();
	pool = new_pool(1, 0, 200);
	assert_int_equal(db_acquire(pool, &c), 0);
	assert_int_equal(db_query(c,
	                          "CREATE TABLE users (id int PRIMARY KEY, "
	                          "email text UNIQUE)",
	                          0, NULL, NULL),
	                 0);
	assert_int_equal(db_query(c, "INSERT INTO users VALUES (1, 'a@x')", 0,
	                          NULL, NULL),
	                 0);

	/* unique violation: conflict, naming the constraint */
	assert_int_equal(db_query(c, "INSERT INTO users VALUES (2, 'a@x')", 0,
	                          NULL, &res),
	                 SHOP_ECONFLICT);
	assert_ptr_equal(res, (PGresult *)&res);
	assert_string_equal(db_conflict_constraint(c), "users_email_key");
	assert_int_equal(db_query(c, "INSERT INTO users VALUES (1, 'b@x')", 0,
	                          NULL, NULL),
	                 SHOP_ECONFLICT);
	assert_string_equal(db_conflict_constraint(c), "users_pkey");
	assert_int_equal(db_query(c, "SELECT 1", 0, NULL, NULL), 0);
	assert_string_equal(db_conflict_constraint(c), "");

	/* statement_timeout (200 ms on this pool) */
	assert_int_equal(db_query(c, "SELECT pg_sleep(2)", 0, NULL, NULL),
	                 SHOP_ETIMEDOUT);
	/* anything else */
	assert_int_equal(db_query(c, "SELECT 1/0", 0, NULL, NULL), SHOP_ERR);
	assert_int_equal(db_query(c, "SELEC 1", 0, NULL, NULL), SHOP_ERR);
	{
		const char *p[1] = {"not a number"};

		assert_int_equal(db_query(c, "SELECT $1::int", 1, p, NULL),
		                 SHOP_ERR);
	}
	/* the connection is still usable */
	assert_int_equal(scalar(c, "SELECT 41 + 1"), 42);
	db_release(c);
	db_pool_free(pool);
}

static void test_exhaustion_times_out(void **state)
{
	struct db_pool *pool;
	struct db_conn *c1 = NULL, *c2 = NULL, *c3 = NULL;
	struct db_pool_stats st;
	uint64_t t;

	(void)state;
	need_db();
	pool = new_pool(2, 200, 0);
	assert_int_equal(db_acquire(pool, &c1), 0);
	assert_int_equal(db_acquire(pool, &c2), 0);
	t = shop_now_ns();
	assert_int_equal(db_acquire(pool, &c3), SHOP_EUNAVAIL);
	assert_null(c3);
	assert_true(ms_since(t) >= 180 && ms_since(t) < 2000);
	db_pool_get_stats(pool, &st);
	assert_int_equal(st.acquire_timeouts, 1);
	assert_int_equal(st.in_use, 2);
	/* busy but connected still counts as ready */
	assert_int_equal(db_pool_ping(pool), 0);
	db_release(c2);
	assert_int_equal(db_acquire(pool, &c3), 0);
	assert_ptr_equal(c3, c2);
	db_release(c1);
	db_release(c3);
	db_pool_free(pool);
}

struct waiter {
	struct db_pool *pool;
	int rc;
	double waited_ms;
};

static void *acquire_in_thread(void *arg)
{
	struct waiter *w = arg;
	struct db_conn *c = NULL;
	uint64_t t = shop_now_ns();

	w->rc = db_acquire(w->pool, &c);
	w->waited_ms = ms_since(t);
	db_release(c);
	return NULL;
}

static void test_release_wakes_a_waiter(void **state)
{
	struct db_pool *pool;
	struct db_conn *c = NULL;
	struct waiter w;
	pthread_t th;

	(void)state;
	need_db();
	pool = new_pool(1, 5000, 0);
	assert_int_equal(db_acquire(pool, &c), 0);
	w = (struct waiter){.pool = pool, .rc = 1};
	assert_int_equal(pthread_create(&th, NULL, acquire_in_thread, &w), 0);
	sleep_ms(100);
	db_release(c);
	pthread_join(th, NULL);
	assert_int_equal(w.rc, 0);
	assert_true(w.waited_ms >= 80 && w.waited_ms < 2000);
	db_pool_free(pool);
}

static void terminate_backend(int pid)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", pid);
	support_pg_exec(admin, sql);
}

static void test_broken_connection_is_replaced(void **state)
{
	struct db_pool *pool;
	struct db_conn *c = NULL;
	struct db_pool_stats st;
	PGresult *res = NULL;
	const char *params[2] = {"20", "22"};
	int pid1, pid2, pid3;

	(void)state;
	need_db();
	pool = new_pool(1, 0, 0);
	assert_int_equal(
	        db_pool_prepare(pool, "add", "SELECT $1::int + $2::int"), 0);
	assert_int_equal(db_pool_start(pool), 0);

	/* killed while in use: the query fails as unavailable ... */
	assert_int_equal(db_acquire(pool, &c), 0);
	pid1 = PQbackendPID(db_conn_pg(c));
	terminate_backend(pid1);
	sleep_ms(100);
	assert_int_equal(db_exec(c, "add", 2, params, NULL), SHOP_EUNAVAIL);
	db_release(c);
	db_pool_get_stats(pool, &st);
	assert_int_equal(st.connected, 0);
	/* ... and the next acquire has a new backend, statements prepared */
	assert_int_equal(db_acquire(pool, &c), 0);
	pid2 = PQbackendPID(db_conn_pg(c));
	assert_int_not_equal(pid2, pid1);
	assert_int_equal(db_exec(c, "add", 2, params, &res), 0);
	assert_string_equal(PQgetvalue(res, 0, 0), "42");
	PQclear(res);
	db_release(c);

	/* killed while idle in the pool: replaced on acquire, no failed query
	 */
	terminate_backend(pid2);
	sleep_ms(100);
	assert_int_equal(db_acquire(pool, &c), 0);
	pid3 = PQbackendPID(db_conn_pg(c));
	assert_int_not_equal(pid3, pid2);
	assert_int_equal(db_exec(c, "add", 2, params, NULL), 0);
	db_release(c);
	db_pool_get_stats(pool, &st);
	assert_int_equal(st.connected, 1);
	assert_int_equal(st.in_use, 0);
	db_pool_free(pool);
}

static void test_database_down_fails_fast(void **state)
{
	char info[128];
	struct db_pool_options opt = {
	        .conninfo = info, .name = "nowhere", .size = 2};
	struct db_pool *pool = NULL;
	struct db_conn *c = NULL;
	uint64_t t;

	(void)state;
	/* needs no database */
	snprintf(info, sizeof(info),
	         "host=127.0.0.1 port=%d dbname=x user=x password=secret",
	         support_closed_port());
	assert_int_equal(db_pool_new(&opt, &pool), 0);
	assert_int_equal(db_pool_start(pool), SHOP_EUNAVAIL);
	for (int i = 0; i < 10; i++) {
		t = shop_now_ns();
		assert_int_equal(db_acquire(pool, &c), SHOP_EUNAVAIL);
		if (ms_since(t) >= 50)
			fail_msg("acquire %d took %.1f ms", i, ms_since(t));
	}
	assert_int_equal(db_pool_ping(pool), SHOP_EUNAVAIL);
	assert_null(c);
	db_pool_free(pool);
}

struct worker {
	struct db_pool *pool;
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 100; i++) {
		struct db_conn *c = NULL;

		if (db_acquire(w->pool, &c) != 0 ||
		    db_exec(c, "bump", 0, NULL, NULL) != 0)
			w->failures++;
		db_release(c);
	}
	return NULL;
}

static void test_concurrent_use(void **state)
{
	struct db_pool *pool;
	struct db_conn *c = NULL;
	struct worker w[4];
	pthread_t th[4];

	(void)state;
	need_db();
	pool = new_pool(2, 5000, 0);
	assert_int_equal(db_acquire(pool, &c), 0);
	assert_int_equal(db_query(c,
	                          "CREATE TABLE counter (n int NOT NULL);"
	                          "INSERT INTO counter VALUES (0)",
	                          0, NULL, NULL),
	                 0);
	db_release(c);
	assert_int_equal(
	        db_pool_prepare(pool, "bump", "UPDATE counter SET n = n + 1"),
	        0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.pool = pool};
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(db_acquire(pool, &c), 0);
	assert_int_equal(scalar(c, "SELECT n FROM counter"), 400);
	db_release(c);
	db_pool_free(pool);
}

static void test_metrics_hook(void **state)
{
	struct db_pool *pool;
	struct db_conn *c = NULL;
	char *text;
	size_t len;

	(void)state;
	need_db();
	pool = new_pool(3, 0, 0);
	assert_int_equal(db_pool_start(pool), 0);
	metrics_on_render(db_pool_metrics_hook, pool);
	assert_int_equal(db_acquire(pool, &c), 0);
	text = metrics_render(&len);
	assert_non_null(text);
	assert_non_null(strstr(text, "db_pool_size{db=\"test_db\"} 3\n"));
	assert_non_null(strstr(text, "db_pool_in_use{db=\"test_db\"} 1\n"));
	assert_non_null(strstr(text, "db_pool_connected{db=\"test_db\"} 3\n"));
	free(text);
	db_release(c);
	metrics_reset(); /* drops the hook before the pool goes */
	db_pool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_new_rejects_bad_options),
	        cmocka_unit_test(test_database_down_fails_fast),
	        cmocka_unit_test(test_acquire_release_and_stats),
	        cmocka_unit_test(test_prepared_statements),
	        cmocka_unit_test(test_transactions),
	        cmocka_unit_test(test_error_mapping),
	        cmocka_unit_test(test_exhaustion_times_out),
	        cmocka_unit_test(test_release_wakes_a_waiter),
	        cmocka_unit_test(test_broken_connection_is_replaced),
	        cmocka_unit_test(test_concurrent_use),
	        cmocka_unit_test(test_metrics_hook),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
