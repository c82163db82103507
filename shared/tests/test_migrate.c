/* Tests of shared/src/migrate.c. File-name checks and the wait for a
 * database that never comes up need no server; the rest runs against a
 * real PostgreSQL given by SHOP_TEST_DATABASE_URL (skipped without it),
 * each test in its own schema, dropped at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/pg.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/migrate.h"
#include "shop/util.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *db_url;
static PGconn *admin;
static int schema_seq;

struct fixture {
	char dir[64];
	char schema[64];
	char service[80];
	char conninfo[2048];
};

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void need_db(void)
{
	if (!db_url) {
		print_message("skipped: set SHOP_TEST_DATABASE_URL (e.g. "
		              "postgresql://postgres@127.0.0.1:5432/shoptest) "
		              "to run against a real PostgreSQL\n");
		skip();
	}
}

static PGresult *admin_query(const char *fmt, ...)
{
	char sql[512];
	va_list ap;
	PGresult *res;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	res = PQexec(admin, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("admin '%s': %s", sql, PQerrorMessage(admin));
	return res;
}

static long admin_scalar(const char *fmt, const char *schema, const char *arg)
{
	PGresult *res = admin_query(fmt, schema, arg);
	long v = strtol(PQgetvalue(res, 0, 0), NULL, 10);

	PQclear(res);
	return v;
}

static bool table_exists(const struct fixture *f, const char *table)
{
	return admin_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = "
	                    "'%s' AND tablename = '%s'",
	                    f->schema, table) == 1;
}

static long applied_count(const struct fixture *f)
{
	return admin_scalar("SELECT count(*) FROM %s.schema_migrations%s",
	                    f->schema, "");
}

static void write_file(const struct fixture *f, const char *name,
                       const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void remove_file(const struct fixture *f, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	assert_int_equal(unlink(path), 0);
}

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_migrate.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->schema, sizeof(f->schema), "test_migrate_%d_%d",
	         (int)getpid(), ++schema_seq);
	snprintf(f->service, sizeof(f->service), "svc_%s", f->schema);
	if (db_url) {
		PGresult *res;

		if (support_conninfo(db_url, f->schema, f->conninfo,
		                     sizeof(f->conninfo)) != 0)
			return -1;
		{
			char sql[128];

			snprintf(sql, sizeof(sql), "CREATE SCHEMA %s",
			         f->schema);
			res = PQexec(admin, sql);
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				PQclear(res);
				return -1;
			}
			PQclear(res);
		}
	} else {
		snprintf(f->conninfo, sizeof(f->conninfo),
		         "host=127.0.0.1 port=1 dbname=none");
	}
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (db_url) {
		char sql[128];

		snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", f->schema);
		PQclear(PQexec(admin, sql));
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* ---- no database needed: these fail before connecting ---- */

static void test_malformed_names_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
	        "abc.sql",          "001-init.sql",
	        "001_.sql",         "0_init.sql",
	        "_init.sql",        "1234567890_too_long.sql",
	        "001_bad name.sql", "001_bad.name.sql",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		write_file(f, bad[i], "SELECT 1;");
		if (migrate__run(f->conninfo, f->dir, f->service, 100) !=
		    SHOP_EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		remove_file(f, bad[i]);
	}
}

static void test_duplicate_version_refused(void **state)
{
	struct fixture *f = *state;

	write_file(f, "001_a.sql", "SELECT 1;");
	write_file(f, "1_b.sql", "SELECT 2;");
	assert_int_equal(migrate__run(f->conninfo, f->dir, f->service, 100),
	                 SHOP_EINVAL);
}

static void test_missing_dir_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(migrate__run(f->conninfo, "/nonexistent/migrations",
	                              f->service, 100),
	                 SHOP_EINVAL);
}

static void test_waits_then_gives_up(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	char info[128];
	uint64_t t;
	double ms;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* a closed port */
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	snprintf(info, sizeof(info),
	         "host=127.0.0.1 port=%d dbname=x user=x password=secret",
	         ntohs(a.sin_port));
	write_file(f, "001_a.sql", "SELECT 1;");
	t = shop_now_ns();
	assert_int_equal(migrate__run(info, f->dir, f->service, 1200),
	                 SHOP_EUNAVAIL);
	ms = (double)(shop_now_ns() - t) / 1e6;
	if (ms < 1000 || ms > 5000)
		fail_msg("gave up after %.0f ms, expected about 1200", ms);
}

/* ---- against PostgreSQL ---- */

static void test_applies_in_order_then_noop(void **state)
{
	struct fixture *f = *state;
	PGresult *res;
	char first_applied[64];

	need_db();
	write_file(f, "001_items.sql",
	           "CREATE TABLE items (id int PRIMARY KEY, name text NOT "
	           "NULL);\n");
	write_file(f, "002_seed.sql",
	           "INSERT INTO items VALUES (1, 'one');\nINSERT INTO items "
	           "VALUES (2, 'two');\n");
	/* numeric, not lexical, order: 9 before 10 */
	write_file(f, "9_tags.sql",
	           "CREATE TABLE tags (item int REFERENCES items (id));\n");
	write_file(f, "10_tag_seed.sql", "INSERT INTO tags VALUES (1);\n");
	write_file(f, "README.md", "not a migration");
	write_file(f, ".hidden.sql", "nonsense");
	write_file(f, "003_backup.sql~", "nonsense");
	write_file(f, "empty.txt", "");

	assert_int_equal(migrate__run(f->conninfo, f->dir, f->service, 5000),
	                 0);
	assert_int_equal(applied_count(f), 4);
	assert_int_equal(
	        admin_scalar("SELECT count(*) FROM %s.tags%s", f->schema, ""),
	        1);
	res = admin_query(
	        "SELECT version, name, length(checksum), applied_at::text FROM "
	        "%s.schema_migrations ORDER BY version",
	        f->schema);
	assert_int_equal(PQntuples(res), 4);
	assert_string_equal(PQgetvalue(res, 0, 0), "1");
	assert_string_equal(PQgetvalue(res, 0, 1), "items");
	assert_string_equal(PQgetvalue(res, 0, 2), "64");
	assert_string_equal(PQgetvalue(res, 3, 0), "10");
	assert_string_equal(PQgetvalue(res, 3, 1), "tag_seed");
	snprintf(first_applied, sizeof(first_applied), "%s",
	         PQgetvalue(res, 0, 3));
	PQclear(res);

	/* the second run changes nothing */
	assert_int_equal(migrate__run(f->conninfo, f->dir, f->service, 5000),
	                 0);
	assert_int_equal(applied_count(f), 4);
	assert_int_equal(
	        admin_scalar("SELECT count(*) FROM %s.items%s", f->schema, ""),
	        2);
	res = admin_query("SELECT applied_at::text FROM %s.schema_migrations "
	                  "WHERE version = 1",
	                  f->schema);
	assert_string_equal(PQgetvalue(res, 0, 0), first_applied);
	PQclear(res);

	/* a new file is applied on its own */
	write_file(f, "011_more.sql",
	           "INSERT INTO items VALUES (3, 'three');\n");
	assert_int_equal(migrate_run(f->conninfo, f->dir, f->service), 0);
	assert_int_equal(applied_count(f), 5);
	assert_int_equal(
	        admin_scalar("SELECT count(*) FROM %s.items%s", f->schema, ""),
	        3);
}

static void test_changed_file_refused(void **state)
{
	struct fixture *f = *state;

	need_db();
	write_file(f, "001_items.sql",
	           "CREATE TABLE items (id int PRIMARY KEY);\n");
	write_file(f, "002_seed.sql", "INSERT INTO items VALUES (1);\n");
	assert_int_equal(migrate__run(f->conninfo, f->dir, f->service, 5000),
	                 0);

	/* edited after it was applied: refused, and nothing new applied */
	write_file(f, "002_seed.sql",
	           "INSERT INTO items VALUES (1);\n-- edited\n");
	write_file(f, "003_more.sql", "INSERT INTO items VALUES (3);\n");
	assert_int_equal(migrate__run(f->conninfo, f->dir, f->service, 5000),
	                 SHOP_EINVAL);
	assert_int_equal(applied_count(f), 2);
	assert_int_equal(
	        admin_scalar("SELECT count(*) FROM %s.items%s", f->schema, ""),
	        1);

	/* put back as it was: fine again */
	write_file(f, "002_seed.sql", "INSERT INTO items VALUES (1);\n");
	assert_int_equal(migrate__run(f->conninfo, f->dir, f->service, 5000),
	                 0);
	assert_int_equal(applied_count(f), 3);
}

static void test_broken_file_rolls_back_only_itself(void **state)
{
	struct fixture *f = *state;

	need_db();
	write_file(f, "001_items.sql",
	           "CREATE TABLE items (id int PRIMARY KEY);\n");
	write_file(f, "002_half.sql",
	           "CREATE TABLE half (id int);\n"
	           "INSERT INTO half VALUES (1);\n"
	           "INSERT INTO no_such_table VALUES (1);\n");
	write_file(f, "003_after.sql", "CREATE TABLE after_broken (id int);\n");
	assert_int_equal(migrate__run(f->conninfo, f->dir, f->service, 5000),
	                 SHOP_ERR);
	assert_true(table_exists(f, "items"));
	assert_false(table_exists(f, "half"));
	assert_false(table_exists(f, "after_broken"));
	assert_int_equal(applied_count(f), 1);

	/* fixed (it was never applied, so editing it is allowed) */
	write_file(f, "002_half.sql", "CREATE TABLE half (id int);\n");
	assert_int_equal(migrate__run(f->conninfo, f->dir, f->service, 5000),
	                 0);
	assert_true(table_exists(f, "half"));
	assert_true(table_exists(f, "after_broken"));
	assert_int_equal(applied_count(f), 3);
}

static void test_transaction_control_reported(void **state)
{
	struct fixture *f = *state;

	need_db();
	write_file(f, "001_commits.sql",
	           "CREATE TABLE early (id int);\nCOMMIT;\n");
	assert_int_equal(migrate__run(f->conninfo, f->dir, f->service, 5000),
	                 SHOP_ERR);
	assert_int_equal(applied_count(f), 0);
}

struct run_job {
	const struct fixture *f;
	int rc;
};

static void *run_in_thread(void *arg)
{
	struct run_job *job = arg;

	job->rc = migrate__run(job->f->conninfo, job->f->dir, job->f->service,
	                       5000);
	return NULL;
}

static void test_concurrent_runs_apply_once(void **state)
{
	struct fixture *f = *state;
	struct run_job jobs[2] = {{.f = f, .rc = 1}, {.f = f, .rc = 1}};
	pthread_t th[2];

	need_db();
	write_file(f, "001_log.sql",
	           "CREATE TABLE applied_log (file text NOT NULL);\n");
	/* slow enough for the two runs to overlap */
	write_file(f, "002_slow.sql",
	           "SELECT pg_sleep(0.3);\nINSERT INTO applied_log VALUES "
	           "('002');\n");
	write_file(f, "003_last.sql",
	           "INSERT INTO applied_log VALUES ('003');\n");
	for (int i = 0; i < 2; i++)
		assert_int_equal(
		        pthread_create(&th[i], NULL, run_in_thread, &jobs[i]),
		        0);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].rc, 0);
	}
	assert_int_equal(admin_scalar("SELECT count(*) FROM %s.applied_log%s",
	                              f->schema, ""),
	                 2);
	assert_int_equal(applied_count(f), 3);
}

static int group_setup(void **state)
{
	(void)state;
	slog_init("test_migrate", SLOG_ERROR);
	db_url = getenv("SHOP_TEST_DATABASE_URL");
	if (!db_url || !*db_url) {
		db_url = NULL;
		return 0;
	}
	admin = PQconnectdb(db_url);
	if (PQstatus(admin) != CONNECTION_OK) {
		print_error("cannot connect to SHOP_TEST_DATABASE_URL: %s",
		            PQerrorMessage(admin));
		return -1;
	}
	PQsetNoticeProcessor(admin, quiet, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	PQfinish(admin);
	return 0;
}

#define T(fn)                                                                  \
	cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_malformed_names_refused),
	        T(test_duplicate_version_refused),
	        T(test_missing_dir_refused),
	        T(test_waits_then_gives_up),
	        T(test_applies_in_order_then_noop),
	        T(test_changed_file_refused),
	        T(test_broken_file_rolls_back_only_itself),
	        T(test_transaction_control_reported),
	        T(test_concurrent_runs_apply_once),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
