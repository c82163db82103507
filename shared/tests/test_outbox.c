/* Tests of shared/src/outbox.c against a real PostgreSQL in
 * SHOP_TEST_DATABASE_URL and a real RabbitMQ in SHOP_TEST_AMQP_URL; each
 * test that needs one is skipped without it. The run works in its own
 * schema, dropped at the end, and publishes only event types
 * "test.outbox.<pid>...." that no queue of the topology binds, read back
 * through exclusive server-named queues. The option and outage tests use
 * closed ports and always run. SHOP_TEST_LOG_DEBUG=1 shows the relay's
 * log lines, debug included. */
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
#include "shop/outbox.h"
#include "shop/util.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *db_url, *amqp_url;
static char schema[64];
static char conninfo[2048];
static char prefix[64]; /* event types: "test.outbox.<pid>" */
static PGconn *admin;
static struct db_pool *pool;

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

static void need_db(void)
{
	if (!db_url) {
		print_message("skipped: set SHOP_TEST_DATABASE_URL (e.g. "
		              "postgresql://postgres@127.0.0.1:5432/shoptest) "
		              "to run against a real PostgreSQL\n");
		skip();
	}
}

static void need_both(void)
{
	need_db();
	if (!amqp_url) {
		print_message("skipped: set SHOP_TEST_AMQP_URL (e.g. "
		              "amqp://guest:guest@127.0.0.1:5672/%%2F) to run "
		              "against a real RabbitMQ\n");
		skip();
	}
}

/* ---- the database, through an admin connection ---- */

static long admin_scalar(const char *sql)
{
	PGresult *res = PQexec(admin, sql);
	long v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		fail_msg("admin '%s': %s", sql, PQerrorMessage(admin));
	v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

static long pending(void)
{
	return admin_scalar(
	        "SELECT count(*) FROM outbox WHERE published_at IS NULL");
}

/* Waits until no row is pending; returns false after timeout_ms. */
static bool wait_drained(int timeout_ms)
{
	uint64_t start = shop_now_ns();

	while (ms_since(start) < timeout_ms) {
		if (pending() == 0)
			return true;
		sleep_ms(10);
	}
	return false;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Adds count events of type `type` in one transaction; commits or rolls
 * back. Event ids go to ids (count x 37 bytes) when not NULL. */
static void add_events(const char *type, int count, bool commit,
                       char (*ids)[SHOP_UUID_LEN + 1])
{
	struct db_conn *c = NULL;

	assert_int_equal(db_acquire(pool, &c), 0);
	assert_int_equal(db_begin(c), 0);
	for (int i = 0; i < count; i++) {
		json_t *data = json_pack("{s:s, s:i}", "order_id",
		                         "0b7c2a4e-8f1d-4c55-9a51-0f8d2b6c9e11",
		                         "n", i);
		struct outbox_event ev = {
		        .event_type = type,
		        .producer = "test",
		        .correlation_id = "req-42",
		        .traceparent = "00-0af7651916cd43dd8448eb211c80319c-"
		                       "b7ad6b7169203331-01",
		        .data = data,
		};

		assert_int_equal(outbox_add(c, &ev, ids ? ids[i] : NULL), 0);
		json_decref(data);
	}
	if (commit)
		assert_int_equal(db_commit(c), 0);
	else
		assert_int_equal(db_rollback(c), 0);
	db_release(c);
}

/* ---- the broker, through a raw rabbitmq-c connection ---- */

struct reader {
	amqp_connection_state_t state;
	char queue[256];
};

static void reader_open(struct reader *r, const char *routing_key)
{
	struct amqp_connection_info ci;
	char *url = strdup(amqp_url);
	amqp_queue_declare_ok_t *q;

	assert_non_null(url);
	assert_int_equal(amqp_parse_url(url, &ci), AMQP_STATUS_OK);
	r->state = amqp_new_connection();
	assert_int_equal(amqp_socket_open(amqp_tcp_socket_new(r->state),
	                                  ci.host, ci.port),
	                 AMQP_STATUS_OK);
	assert_int_equal(amqp_login(r->state, ci.vhost, 0, 131072, 0,
	                            AMQP_SASL_METHOD_PLAIN, ci.user,
	                            ci.password)
	                         .reply_type,
	                 AMQP_RESPONSE_NORMAL);
	free(url);
	amqp_channel_open(r->state, 1);
	q = amqp_queue_declare(r->state, 1, amqp_empty_bytes, 0, 0, 1, 1,
	                       amqp_empty_table);
	assert_non_null(q);
	snprintf(r->queue, sizeof(r->queue), "%.*s", (int)q->queue.len,
	         (const char *)q->queue.bytes);
	amqp_queue_bind(r->state, 1, amqp_cstring_bytes(r->queue),
	                amqp_cstring_bytes("shop.events"),
	                amqp_cstring_bytes(routing_key), amqp_empty_table);
	assert_int_equal(amqp_get_rpc_reply(r->state).reply_type,
	                 AMQP_RESPONSE_NORMAL);
}

static bool reader_get(struct reader *r, amqp_message_t *msg)
{
	amqp_rpc_reply_t rep =
	        amqp_basic_get(r->state, 1, amqp_cstring_bytes(r->queue), 1);

	assert_int_equal(rep.reply_type, AMQP_RESPONSE_NORMAL);
	if (rep.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
		return false;
	assert_int_equal(amqp_read_message(r->state, 1, msg, 0).reply_type,
	                 AMQP_RESPONSE_NORMAL);
	return true;
}

/* Reads every message now in the queue; message ids into ids (cap); counts
 * those whose app_id (the relay's service) is app in *from_app. */
static int reader_drain_from(struct reader *r, char (*ids)[SHOP_UUID_LEN + 1],
                             int cap, const char *app, int *from_app)
{
	amqp_message_t msg;
	int n = 0;

	while (reader_get(r, &msg)) {
		if (n < cap)
			snprintf(ids[n], sizeof(ids[n]), "%.*s",
			         (int)msg.properties.message_id.len,
			         (const char *)msg.properties.message_id.bytes);
		if (app && msg.properties.app_id.len == strlen(app) &&
		    memcmp(msg.properties.app_id.bytes, app, strlen(app)) == 0)
			(*from_app)++;
		n++;
		amqp_destroy_message(&msg);
	}
	return n;
}

static int reader_drain(struct reader *r, char (*ids)[SHOP_UUID_LEN + 1],
                        int cap)
{
	return reader_drain_from(r, ids, cap, NULL, NULL);
}

static void reader_close(struct reader *r)
{
	amqp_channel_close(r->state, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(r->state, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(r->state);
}

/* ---- a TCP proxy in front of the broker, to take it away ---- */

struct proxy {
	int listen_fd;
	int port;
	char host[128];
	int target_port;
	pthread_t thread;
	atomic_bool stop;
};

static void *proxy_main(void *arg)
{
	struct proxy *p = arg;
	struct pollfd fds[1 + 2 * 16];
	int peer[1 + 2 * 16];
	int nfds = 1;
	char buf[65536];

	fds[0] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
	while (!atomic_load(&p->stop)) {
		if (poll(fds, (nfds_t)nfds, 20) <= 0)
			continue;
		if ((fds[0].revents & POLLIN) && nfds + 2 <= 1 + 2 * 16) {
			int c = accept(p->listen_fd, NULL, NULL);
			struct sockaddr_in a = {.sin_family = AF_INET};
			int u = socket(AF_INET, SOCK_STREAM, 0);

			a.sin_port = htons((uint16_t)p->target_port);
			inet_pton(AF_INET, p->host, &a.sin_addr);
			if (c >= 0 && u >= 0 &&
			    connect(u, (struct sockaddr *)&a, sizeof(a)) == 0) {
				fds[nfds] = (struct pollfd){.fd = c,
				                            .events = POLLIN};
				peer[nfds++] = u;
				fds[nfds] = (struct pollfd){.fd = u,
				                            .events = POLLIN};
				peer[nfds++] = c;
			} else {
				if (c >= 0)
					close(c);
				if (u >= 0)
					close(u);
			}
		}
		for (int i = 1; i < nfds; i++) {
			ssize_t n;

			if (!fds[i].revents || fds[i].fd < 0)
				continue;
			n = read(fds[i].fd, buf, sizeof(buf));
			if (n > 0 && write(peer[i], buf, (size_t)n) == n)
				continue;
			/* one side is gone: drop the pair */
			for (int k = 1; k < nfds; k++)
				if (fds[k].fd == peer[i]) {
					close(fds[k].fd);
					fds[k].fd = -1;
				}
			close(fds[i].fd);
			fds[i].fd = -1;
		}
	}
	for (int i = 0; i < nfds; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	return NULL;
}

/* Listens on port (on 127.0.0.1) and forwards to the test broker. */
static void proxy_start(struct proxy *p, int port)
{
	struct amqp_connection_info ci;
	struct sockaddr_in a = {.sin_family = AF_INET};
	char *url = strdup(amqp_url);
	int one = 1;

	assert_int_equal(amqp_parse_url(url, &ci), AMQP_STATUS_OK);
	snprintf(p->host, sizeof(p->host), "%s",
	         strcmp(ci.host, "localhost") == 0 ? "127.0.0.1" : ci.host);
	p->target_port = ci.port;
	free(url);
	p->port = port;
	atomic_init(&p->stop, false);
	p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(p->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&a, sizeof(a)),
	                 0);
	assert_int_equal(listen(p->listen_fd, 8), 0);
	assert_int_equal(pthread_create(&p->thread, NULL, proxy_main, p), 0);
}

/* Closes the listener and every connection: the broker is gone. */
static void proxy_stop(struct proxy *p)
{
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
}

/* The test broker's URL with another port. */
static void url_with_port(char *out, size_t cap, int port)
{
	struct amqp_connection_info ci;
	char *url = strdup(amqp_url);

	assert_int_equal(amqp_parse_url(url, &ci), AMQP_STATUS_OK);
	snprintf(out, cap, "amqp://%s:%s@127.0.0.1:%d/%s", ci.user, ci.password,
	         port, strcmp(ci.vhost, "/") == 0 ? "%2F" : ci.vhost);
	free(url);
}

/* ---- relays ---- */

static struct outbox_relay *start_named_relay(const char *service,
                                              const char *db, const char *mq,
                                              int batch, int poll_ms)
{
	struct outbox_relay_options opt = {.service = service,
	                                   .conninfo = db,
	                                   .amqp_url = mq,
	                                   .batch_size = batch,
	                                   .poll_interval_ms = poll_ms,
	                                   .confirm_timeout_ms = 3000};
	struct outbox_relay *r = NULL;

	assert_int_equal(outbox_relay_start(&opt, &r), 0);
	assert_non_null(r);
	return r;
}

static struct outbox_relay *start_relay(const char *db, const char *mq,
                                        int batch, int poll_ms)
{
	return start_named_relay("test_outbox", db, mq, batch, poll_ms);
}

static bool wait_connected(struct outbox_relay *r, int timeout_ms)
{
	uint64_t start = shop_now_ns();

	while (ms_since(start) < timeout_ms) {
		if (outbox_relay_connected(r))
			return true;
		sleep_ms(10);
	}
	return false;
}

static void stop_relay(struct outbox_relay *r)
{
	uint64_t start = shop_now_ns();

	outbox_relay_free(r);
	assert_true(ms_since(start) < 2000);
}

static void type_name(char *buf, size_t cap, const char *what)
{
	snprintf(buf, cap, "%s.%s", prefix, what);
}

static double published_count(const char *type)
{
	char labels[256];

	snprintf(labels, sizeof(labels), "event_type=\"%s\"", type);
	return metric_value(
	        metrics_counter("events_published_total", "", labels));
}

/* ---- tests ---- */

static void test_migrate_is_idempotent(void **state)
{
	(void)state;
	need_db();
	/* group_setup migrated once already */
	assert_int_equal(outbox_migrate(conninfo, "test_outbox"), 0);
	assert_int_equal(outbox_migrate(conninfo, "test_outbox"), 0);
	assert_int_equal(
	        admin_scalar("SELECT count(*) FROM outbox_schema_migrations"),
	        1);
	/* the service's own table is not touched */
	assert_int_equal(admin_scalar("SELECT count(*) FROM pg_tables WHERE "
	                              "tablename = 'schema_migrations' AND "
	                              "schemaname = current_schema()"),
	                 0);
	assert_int_equal(admin_scalar("SELECT count(*) FROM pg_indexes WHERE "
	                              "indexname = 'outbox_pending_idx' AND "
	                              "schemaname = current_schema()"),
	                 1);
}

static void test_add_writes_the_envelope(void **state)
{
	struct db_conn *c = NULL;
	PGresult *res;
	json_t *data, *env, *jd;
	json_error_t err;
	char id[SHOP_UUID_LEN + 1] = "", type[128];
	struct outbox_event ev = {.producer = "user"};
	const char *params[1] = {id};

	(void)state;
	need_db();
	support_pg_exec(admin, "TRUNCATE outbox");
	type_name(type, sizeof(type), "envelope");
	data = json_pack("{s:s, s:s, s:s}", "user_id",
	                 "0b7c2a4e-8f1d-4c55-9a51-0f8d2b6c9e11", "email",
	                 "ada@example.com", "name", "Ada");
	ev.event_type = type;
	ev.data = data;
	assert_int_equal(db_acquire(pool, &c), 0);
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(outbox_add(c, &ev, id), 0);
	assert_int_equal(db_commit(c), 0);
	db_release(c);
	assert_true(shop_uuid_valid(id));

	res = PQexecParams(
	        admin,
	        "SELECT payload, event_type, correlation_id IS NULL, "
	        "traceparent IS NULL, published_at IS NULL, "
	        "attempts FROM outbox WHERE event_id = $1",
	        1, NULL, params, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 1);
	assert_string_equal(PQgetvalue(res, 0, 1), type);
	assert_string_equal(PQgetvalue(res, 0, 2), "t");
	assert_string_equal(PQgetvalue(res, 0, 3), "t");
	assert_string_equal(PQgetvalue(res, 0, 4), "t");
	assert_string_equal(PQgetvalue(res, 0, 5), "0");
	/* exactly EVENTS.md's envelope, in its order */
	assert_int_equal(strncmp(PQgetvalue(res, 0, 0), "{\"event_id\":\"", 13),
	                 0);
	env = json_loads(PQgetvalue(res, 0, 0), 0, &err);
	assert_non_null(env);
	assert_int_equal(json_object_size(env), 7);
	assert_string_equal(json_string_value(json_object_get(env, "event_id")),
	                    id);
	assert_string_equal(
	        json_string_value(json_object_get(env, "event_type")), type);
	assert_int_equal(
	        json_integer_value(json_object_get(env, "event_version")), 1);
	assert_string_equal(json_string_value(json_object_get(env, "producer")),
	                    "user");
	assert_true(json_is_null(json_object_get(env, "correlation_id")));
	{
		const char *at =
		        json_string_value(json_object_get(env, "occurred_at"));

		assert_non_null(at);
		assert_int_equal(strlen(at), 20);
		assert_int_equal(at[10], 'T');
		assert_int_equal(at[19], 'Z');
	}
	jd = json_object_get(env, "data");
	assert_true(json_equal(jd, data));
	json_decref(env);
	json_decref(data);
	PQclear(res);
}

static void test_add_rejects_bad_events(void **state)
{
	struct db_conn *c = NULL;
	json_t *data = json_object();
	struct outbox_event ev = {
	        .event_type = "x.y", .producer = "test", .data = data};

	(void)state;
	need_db();
	assert_int_equal(db_acquire(pool, &c), 0);
	/* outside a transaction */
	assert_int_equal(outbox_add(c, &ev, NULL), SHOP_EINVAL);
	assert_int_equal(db_begin(c), 0);
	ev.data = NULL;
	assert_int_equal(outbox_add(c, &ev, NULL), SHOP_EINVAL);
	ev.data = json_array();
	assert_int_equal(outbox_add(c, &ev, NULL), SHOP_EINVAL);
	json_decref(ev.data);
	ev.data = data;
	ev.producer = NULL;
	assert_int_equal(outbox_add(c, &ev, NULL), SHOP_EINVAL);
	ev.producer = "test";
	ev.event_type = "";
	assert_int_equal(outbox_add(c, &ev, NULL), SHOP_EINVAL);
	assert_int_equal(outbox_add(c, NULL, NULL), SHOP_EINVAL);
	assert_int_equal(db_rollback(c), 0);
	db_release(c);
	json_decref(data);
}

static void test_committed_rows_are_published_and_marked(void **state)
{
	enum { N = 20 };
	char ids[N][SHOP_UUID_LEN + 1], got[N + 5][SHOP_UUID_LEN + 1];
	char type[128];
	struct outbox_relay *r;
	struct reader rd;
	amqp_message_t msg;
	uint64_t start;
	double before;
	int n;

	(void)state;
	need_both();
	support_pg_exec(admin, "TRUNCATE outbox");
	type_name(type, sizeof(type), "committed");
	reader_open(&rd, type);
	before = published_count(type);
	/* a poll of 10 s: only the NOTIFY can make it quick */
	r = start_relay(conninfo, amqp_url, 0, 10000);
	assert_true(wait_connected(r, 3000));
	sleep_ms(200); /* let it go idle */

	start = shop_now_ns();
	add_events(type, N, true, ids);
	assert_true(wait_drained(3000));
	print_message("%d events published %.1f ms after the commit\n", N,
	              ms_since(start));
	assert_true(ms_since(start) < 2000);
	assert_int_equal(admin_scalar("SELECT count(*) FROM outbox WHERE "
	                              "published_at IS NOT NULL AND attempts = "
	                              "1 AND last_error IS NULL"),
	                 N);
	assert_true(published_count(type) - before == N);

	/* in id order, with EVENTS.md's properties */
	assert_true(reader_get(&rd, &msg));
	assert_string_equal(
	        (snprintf(got[0], sizeof(got[0]), "%.*s",
	                  (int)msg.properties.message_id.len,
	                  (const char *)msg.properties.message_id.bytes),
	         got[0]),
	        ids[0]);
	assert_int_equal(msg.properties.delivery_mode, 2);
	assert_int_equal(msg.properties.correlation_id.len, 6);
	assert_int_equal(
	        memcmp(msg.properties.correlation_id.bytes, "req-42", 6), 0);
	assert_int_equal(msg.properties.type.len, strlen(type));
	assert_int_equal(msg.properties.headers.num_entries, 1);
	assert_int_equal(msg.body.len >= 13, 1);
	assert_int_equal(memcmp(msg.body.bytes, "{\"event_id\":\"", 13), 0);
	amqp_destroy_message(&msg);
	n = reader_drain(&rd, got + 1, N + 4);
	assert_int_equal(n, N - 1);
	for (int i = 1; i < N; i++)
		assert_string_equal(got[i], ids[i]);
	stop_relay(r);
	reader_close(&rd);
}

static void test_rolled_back_rows_publish_nothing(void **state)
{
	char type[128], marker[128], bind[128], ids[1][SHOP_UUID_LEN + 1];
	char got[8][SHOP_UUID_LEN + 1];
	struct outbox_relay *r;
	struct reader rd;

	(void)state;
	need_both();
	support_pg_exec(admin, "TRUNCATE outbox");
	type_name(type, sizeof(type), "rollback.event");
	type_name(marker, sizeof(marker), "rollback.marker");
	type_name(bind, sizeof(bind), "rollback.*");
	reader_open(&rd, bind);
	r = start_relay(conninfo, amqp_url, 0, 50);
	assert_true(wait_connected(r, 3000));
	add_events(type, 3, false, NULL);
	/* then one that commits: once it is out, the others had their
	 * chance */
	add_events(marker, 1, true, ids);
	assert_true(wait_drained(3000));
	stop_relay(r);
	assert_int_equal(admin_scalar("SELECT count(*) FROM outbox"), 1);
	assert_int_equal(reader_drain(&rd, got, 8), 1);
	assert_string_equal(got[0], ids[0]);
	reader_close(&rd);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_two_relays_publish_each_row_once(void **state)
{
	enum { N = 300 };
	static char ids[N][SHOP_UUID_LEN + 1], got[N + 10][SHOP_UUID_LEN + 1];
	char type[128];
	struct outbox_relay *a, *b;
	struct reader rd;
	uint64_t start;
	int n, from_a = 0;

	(void)state;
	need_both();
	support_pg_exec(admin, "TRUNCATE outbox");
	type_name(type, sizeof(type), "pair");
	reader_open(&rd, type);
	a = start_named_relay("test_outbox_a", conninfo, amqp_url, 10, 20);
	b = start_named_relay("test_outbox_b", conninfo, amqp_url, 10, 20);
	assert_true(wait_connected(a, 3000));
	assert_true(wait_connected(b, 3000));
	start = shop_now_ns();
	add_events(type, N, true, ids);
	assert_true(wait_drained(8000));
	stop_relay(a);
	stop_relay(b);
	assert_int_equal(
	        admin_scalar("SELECT count(*) FROM outbox WHERE attempts <> 1"),
	        0);
	sleep_ms(100);
	n = reader_drain_from(&rd, got, N + 10, "test_outbox_a", &from_a);
	print_message("%d events published by two relays in %.0f ms (%d by "
	              "the first)\n",
	              N, ms_since(start), from_a);
	assert_int_equal(n, N);
	/* both took a share: SKIP LOCKED, not one waiting on the other */
	assert_true(from_a > 0 && from_a < N);
	qsort(ids, N, sizeof(ids[0]), by_string);
	qsort(got, N, sizeof(got[0]), by_string);
	for (int i = 0; i < N; i++)
		assert_string_equal(got[i], ids[i]);
	reader_close(&rd);
}

static void test_unroutable_rows_are_retried(void **state)
{
	char type[128], ids[1][SHOP_UUID_LEN + 1], got[4][SHOP_UUID_LEN + 1];
	struct outbox_relay *r;
	struct reader rd;
	uint64_t start;
	double failures;

	(void)state;
	need_both();
	support_pg_exec(admin, "TRUNCATE outbox");
	type_name(type, sizeof(type), "unroutable");
	failures = metric_value(
	        metrics_counter("outbox_publish_failures_total", "", ""));
	r = start_relay(conninfo, amqp_url, 0, 50);
	assert_true(wait_connected(r, 3000));
	add_events(type, 1, true, ids);
	start = shop_now_ns();
	while (admin_scalar("SELECT count(*) FROM outbox WHERE attempts > 0") ==
	               0 &&
	       ms_since(start) < 3000)
		sleep_ms(10);
	/* returned: still pending, with why and when to try again */
	assert_int_equal(pending(), 1);
	assert_int_equal(admin_scalar("SELECT count(*) FROM outbox WHERE "
	                              "attempts = 1 AND retry_at > now() AND "
	                              "last_error LIKE '%returned%'"),
	                 1);
	assert_true(
	        metric_value(metrics_counter("outbox_publish_failures_total",
	                                     "", "")) > failures);
	assert_true(outbox_relay_connected(r));

	/* a queue appears: the retry (1 s later) gets it through */
	reader_open(&rd, type);
	assert_true(wait_drained(4000));
	stop_relay(r);
	assert_int_equal(reader_drain(&rd, got, 4), 1);
	assert_string_equal(got[0], ids[0]);
	assert_int_equal(admin_scalar("SELECT attempts FROM outbox"), 2);
	reader_close(&rd);
}

static void test_broker_down_keeps_rows_and_stops_promptly(void **state)
{
	char url[128], type[128];
	struct outbox_relay *r;
	struct metric *connected;
	uint64_t start;

	(void)state;
	need_db();
	support_pg_exec(admin, "TRUNCATE outbox");
	type_name(type, sizeof(type), "down");
	snprintf(url, sizeof(url), "amqp://guest:guest@127.0.0.1:%d/%%2F",
	         support_closed_port());
	r = start_relay(conninfo, url, 0, 50);
	add_events(type, 2, true, NULL);
	/* the database side works meanwhile: the backlog is counted (once
	 * a second) */
	start = shop_now_ns();
	while (metric_value(metrics_gauge("outbox_backlog", "", "")) != 2 &&
	       ms_since(start) < 2500)
		sleep_ms(20);
	assert_true(metric_value(metrics_gauge("outbox_backlog", "", "")) == 2);
	assert_false(outbox_relay_connected(r));
	connected = metrics_gauge("amqp_connected", "", "");
	assert_true(metric_value(connected) == 0);
	assert_int_equal(pending(), 2);
	stop_relay(r);
	assert_int_equal(pending(), 2);
}

static bool wait_disconnected(struct outbox_relay *r, int timeout_ms)
{
	uint64_t start = shop_now_ns();

	while (ms_since(start) < timeout_ms) {
		if (!outbox_relay_connected(r))
			return true;
		sleep_ms(10);
	}
	return false;
}

/* The broker is away at start, comes, goes and comes back: nothing is
 * lost, and the relay says so in outbox_relay_connected(). */
static void test_broker_outage_and_recovery(void **state)
{
	char url[256], type[128], ids[5][SHOP_UUID_LEN + 1];
	char got[8][SHOP_UUID_LEN + 1];
	struct outbox_relay *r;
	struct proxy px;
	struct reader rd;
	int port;

	(void)state;
	need_both();
	support_pg_exec(admin, "TRUNCATE outbox");
	type_name(type, sizeof(type), "outage");
	reader_open(&rd, type);
	port = support_closed_port();
	url_with_port(url, sizeof(url), port);

	r = start_relay(conninfo, url, 0, 50);
	add_events(type, 3, true, ids);
	sleep_ms(300);
	assert_false(outbox_relay_connected(r));
	assert_int_equal(pending(), 3);

	proxy_start(&px, port); /* the broker comes */
	assert_true(wait_connected(r, 6000));
	assert_true(wait_drained(3000));

	proxy_stop(&px); /* and goes */
	assert_true(wait_disconnected(r, 3000));
	add_events(type, 2, true, ids + 3);
	sleep_ms(300);
	assert_int_equal(pending(), 2);

	proxy_start(&px, port); /* and comes back */
	assert_true(wait_connected(r, 6000));
	assert_true(wait_drained(3000));
	stop_relay(r);
	proxy_stop(&px);

	assert_int_equal(reader_drain(&rd, got, 8), 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(got[i], ids[i]);
	reader_close(&rd);
}

static void test_nothing_reachable_stops_promptly(void **state)
{
	char db[128], mq[128];
	struct outbox_relay *r;

	(void)state;
	/* no server needed */
	snprintf(db, sizeof(db), "host=127.0.0.1 port=%d dbname=nope",
	         support_closed_port());
	snprintf(mq, sizeof(mq), "amqp://127.0.0.1:%d", support_closed_port());
	r = start_relay(db, mq, 0, 100);
	sleep_ms(500); /* several attempts with backoff */
	assert_false(outbox_relay_connected(r));
	stop_relay(r);
	outbox_relay_free(NULL);
}

static void test_retention_deletes_old_published_rows(void **state)
{
	char type[128];
	struct outbox_relay_options opt = {.service = "test_outbox",
	                                   .conninfo = conninfo,
	                                   .poll_interval_ms = 50,
	                                   .retention_s = 3600};
	struct outbox_relay *r = NULL;
	uint64_t start;

	(void)state;
	need_both();
	support_pg_exec(admin, "TRUNCATE outbox");
	type_name(type, sizeof(type), "old");
	add_events(type, 3, true, NULL);
	support_pg_exec(admin,
	                "UPDATE outbox SET published_at = now() - interval '2 "
	                "hours' WHERE id = (SELECT min(id) FROM outbox)");
	support_pg_exec(admin,
	                "UPDATE outbox SET published_at = now() - interval '10 "
	                "minutes' WHERE id = (SELECT max(id) FROM outbox)");
	opt.amqp_url = amqp_url;
	assert_int_equal(outbox_relay_start(&opt, &r), 0);
	start = shop_now_ns();
	while (admin_scalar("SELECT count(*) FROM outbox") == 3 &&
	       ms_since(start) < 3000)
		sleep_ms(10);
	/* the old one is gone; the recent one stays; the pending one is
	 * published (returned, here: nobody binds it) or pending */
	assert_int_equal(admin_scalar("SELECT count(*) FROM outbox"), 2);
	assert_int_equal(admin_scalar("SELECT count(*) FROM outbox WHERE "
	                              "published_at < now() - interval '1 "
	                              "hour'"),
	                 0);
	stop_relay(r);
}

static void test_start_rejects_bad_options(void **state)
{
	struct outbox_relay_options opt = {.service = "x",
	                                   .conninfo = "dbname=x",
	                                   .amqp_url = "http://nope"};
	struct outbox_relay *r = NULL;

	(void)state;
	assert_int_equal(outbox_relay_start(&opt, &r), SHOP_EINVAL);
	opt.amqp_url = "amqp://localhost";
	opt.batch_size = -1;
	assert_int_equal(outbox_relay_start(&opt, &r), SHOP_EINVAL);
	opt.batch_size = 0;
	opt.service = "";
	assert_int_equal(outbox_relay_start(&opt, &r), SHOP_EINVAL);
	opt.service = "x";
	opt.conninfo = "host='unterminated";
	assert_int_equal(outbox_relay_start(&opt, &r), SHOP_EINVAL);
	assert_null(r);
	assert_int_equal(outbox_relay_start(NULL, &r), SHOP_EINVAL);
	assert_false(outbox_relay_connected(NULL));
}

static int group_setup(void **state)
{
	struct db_pool_options po = {
	        .conninfo = conninfo, .name = "test_outbox", .size = 2};
	char sql[128];
	PGresult *res;
	int ok;

	(void)state;
	slog_init("test_outbox",
	          getenv("SHOP_TEST_LOG_DEBUG") ? SLOG_DEBUG : SLOG_ERROR);
	snprintf(prefix, sizeof(prefix), "test.outbox.%d", (int)getpid());
	amqp_url = getenv("SHOP_TEST_AMQP_URL");
	if (amqp_url && !*amqp_url)
		amqp_url = NULL;
	db_url = getenv("SHOP_TEST_DATABASE_URL");
	if (!db_url || !*db_url) {
		db_url = NULL;
		return 0;
	}
	snprintf(schema, sizeof(schema), "test_outbox_%d", (int)getpid());
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
	res = PQexec(admin, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok || outbox_migrate(conninfo, "test_outbox") != 0 ||
	    db_pool_new(&po, &pool) != 0 || outbox_prepare(pool) != 0 ||
	    db_pool_start(pool) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char sql[128];

	(void)state;
	db_pool_free(pool);
	if (!admin)
		return 0;
	snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
	PQclear(PQexec(admin, sql));
	PQfinish(admin);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_start_rejects_bad_options),
	        cmocka_unit_test(test_nothing_reachable_stops_promptly),
	        cmocka_unit_test(test_migrate_is_idempotent),
	        cmocka_unit_test(test_add_writes_the_envelope),
	        cmocka_unit_test(test_add_rejects_bad_events),
	        cmocka_unit_test(test_committed_rows_are_published_and_marked),
	        cmocka_unit_test(test_rolled_back_rows_publish_nothing),
	        cmocka_unit_test(test_two_relays_publish_each_row_once),
	        cmocka_unit_test(test_unroutable_rows_are_retried),
	        cmocka_unit_test(
	                test_broker_down_keeps_rows_and_stops_promptly),
	        cmocka_unit_test(test_retention_deletes_old_published_rows),
	        cmocka_unit_test(test_broker_outage_and_recovery),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
