/* Tests of shared/src/consumer*.c (and of amqp_consume.c)
 * against a real PostgreSQL in SHOP_TEST_DATABASE_URL and a real RabbitMQ
 * in SHOP_TEST_AMQP_URL; each test that needs one is skipped without it.
 * The run works in its own schema, dropped at the end. It never consumes
 * a queue of the topology: each test declares its own quorum queue
 * "test.consumer.<pid>.<test>" (and its .dlq, with the arguments of the
 * real ones) bound to shop.events with routing keys under that name, and
 * deletes both at its end. The option, envelope and outage tests use
 * closed ports and always run. SHOP_TEST_LOG_DEBUG=1 shows the consumer's
 * log lines, debug included. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/net.h"
#include "support/pg.h"

#include "shop/amqp.h"
#include "shop/arena.h"
#include "shop/consumer.h"
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
static char prefix[64]; /* queues and routing keys: "test.consumer.<pid>" */
static PGconn *admin;
static struct db_pool *pool;
static amqp_connection_state_t mq; /* the test's own broker connection */

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

static void need_broker(void)
{
	if (!amqp_url) {
		print_message("skipped: set SHOP_TEST_AMQP_URL (e.g. "
		              "amqp://guest:guest@127.0.0.1:5672/%%2F) to run "
		              "against a real RabbitMQ\n");
		skip();
	}
}

static void need_both(void)
{
	need_db();
	need_broker();
}

/* ---- the database ---- */

static long admin_scalar(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

static long admin_scalar(const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	PGresult *res;
	long v;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	res = PQexec(admin, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		fail_msg("admin '%s': %s", sql, PQerrorMessage(admin));
	v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* ---- the broker, through a raw rabbitmq-c connection ---- */

/* A test queue: "<prefix>.<what>", routing keys "<name>.a" and
 * "<name>.b", and its dead-letter queue. */
struct tq {
	char name[128];
	char dlq[140];
	char keys[2][140];
	struct amqp_queue_def def;
};

static void rpc_ok(const char *what)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(mq);

	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		fail_msg("broker refused %s (reply type %d)", what,
		         (int)r.reply_type);
}

static void mq_delete(const char *queue)
{
	amqp_queue_delete(mq, 1, amqp_cstring_bytes(queue), 0, 0);
	rpc_ok("queue.delete");
}

/* Declares the queue like the consumer will (through amqp.c), so events
 * published before the consumer starts are routed to it. */
static void tq_make(struct tq *q, const char *what)
{
	struct amqp_conn_options opt = {.url = amqp_url,
	                                .name = "test_consumer setup"};
	struct amqp_conn *c = NULL;

	memset(q, 0, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s.%s", prefix, what);
	snprintf(q->dlq, sizeof(q->dlq), "%s.dlq", q->name);
	snprintf(q->keys[0], sizeof(q->keys[0]), "%s.a", q->name);
	snprintf(q->keys[1], sizeof(q->keys[1]), "%s.b", q->name);
	q->def.name = q->name;
	q->def.bindings[0] = q->keys[0];
	q->def.bindings[1] = q->keys[1];
	assert_int_equal(amqp_conn_open(&opt, &c, NULL, 0), 0);
	assert_int_equal(amqp_topology_declare_queue(c, &q->def), 0);
	amqp_conn_free(c);
}

static void tq_drop(struct tq *q)
{
	mq_delete(q->name);
	mq_delete(q->dlq);
}

/* Messages ready in a queue (not counting unacked ones). */
static long ready(const char *queue)
{
	amqp_queue_declare_ok_t *ok = amqp_queue_declare(
	        mq, 1, amqp_cstring_bytes(queue), 1, 0, 0, 0, amqp_empty_table);

	rpc_ok("passive queue.declare");
	return (long)ok->message_count;
}

static bool wait_ready(const char *queue, long n, int timeout_ms)
{
	uint64_t start = shop_now_ns();

	while (ms_since(start) < timeout_ms) {
		if (ready(queue) == n)
			return true;
		sleep_ms(20);
	}
	return false;
}

static void publish(const char *key, const char *body, const char *message_id,
                    const char *type)
{
	amqp_basic_properties_t p;
	amqp_table_entry_t h = {
	        .key = amqp_cstring_bytes("traceparent"),
	        .value = {.kind = AMQP_FIELD_KIND_UTF8,
	                  .value.bytes = amqp_cstring_bytes(
	                          "00-0af7651916cd43dd8448eb211c80319c-"
	                          "b7ad6b7169203331-01")}};

	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	           AMQP_BASIC_DELIVERY_MODE_FLAG |
	           AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_HEADERS_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.correlation_id = amqp_cstring_bytes("req-7");
	p.headers.num_entries = 1;
	p.headers.entries = &h;
	if (message_id) {
		p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
		p.message_id = amqp_cstring_bytes(message_id);
	}
	if (type) {
		p._flags |= AMQP_BASIC_TYPE_FLAG;
		p.type = amqp_cstring_bytes(type);
	}
	assert_int_equal(amqp_basic_publish(mq, 1,
	                                    amqp_cstring_bytes("shop.events"),
	                                    amqp_cstring_bytes(key), 0, 0, &p,
	                                    amqp_cstring_bytes(body)),
	                 AMQP_STATUS_OK);
}

/* Takes every message of queue (acking it) within timeout_ms until want
 * arrived; message ids (or "" when none) and bodies' first bytes into
 * ids / bodies. Returns how many. */
static int take_all(const char *queue, int want, int timeout_ms,
                    char (*ids)[64], char (*bodies)[64])
{
	uint64_t start = shop_now_ns();
	int n = 0;

	while (ms_since(start) < timeout_ms) {
		amqp_rpc_reply_t r =
		        amqp_basic_get(mq, 1, amqp_cstring_bytes(queue), 1);
		amqp_message_t msg;

		assert_int_equal(r.reply_type, AMQP_RESPONSE_NORMAL);
		if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) {
			if (n >= want)
				break;
			sleep_ms(20);
			continue;
		}
		assert_int_equal(amqp_read_message(mq, 1, &msg, 0).reply_type,
		                 AMQP_RESPONSE_NORMAL);
		if (n < 16) {
			snprintf(ids[n], 64, "%.*s",
			         (int)msg.properties.message_id.len,
			         (const char *)msg.properties.message_id.bytes);
			snprintf(bodies[n], 64, "%.*s", (int)msg.body.len,
			         (const char *)msg.body.bytes);
		}
		n++;
		amqp_destroy_message(&msg);
	}
	return n;
}

/* ---- events ---- */

/* The envelope of EVENTS.md as outbox_add() writes it. */
static char *envelope(const char *id, const char *type, int n)
{
	json_t *env =
	        json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:{s:s, s:i}}",
	                  "event_id", id, "event_type", type, "event_version",
	                  1, "occurred_at", "2026-11-21T10:02:03Z", "producer",
	                  "test", "correlation_id", "req-7", "data", "order_id",
	                  "0b7c2a4e-8f1d-4c55-9a51-0f8d2b6c9e11", "n", n);
	char *s = json_dumps(env, JSON_COMPACT);

	json_decref(env);
	assert_non_null(s);
	return s;
}

/* Publishes a valid event with a fresh id (into id, when not NULL). */
static void publish_event(const char *type, int n, char *id_out)
{
	char id[SHOP_UUID_LEN + 1];
	char *body;

	shop_uuid_v4(id);
	body = envelope(id, type, n);
	publish(type, body, id, type);
	free(body);
	if (id_out)
		memcpy(id_out, id, sizeof(id));
}

/* ---- the handler ---- */

struct probe {
	pthread_mutex_t lock;
	atomic_int calls;
	atomic_int fail_first; /* return SHOP_EUNAVAIL this many times */
	int sleep_ms;          /* then sleep this long */
	bool until_cancelled;  /* ... or until consumer_cancelled() */
	bool refuse;           /* return SHOP_EINVAL */
	bool pg_sleep;         /* run SELECT pg_sleep(10) and return its
	                          result */
	bool write_outbox;     /* and add an event to the outbox */
	/* the last event seen */
	char event_id[64], correlation_id[64], traceparent[128], queue[140];
	bool redelivered;
	long delivery_count;
	long n;
	bool saw_cancel;
};

static void probe_init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
}

static int handle(void *arg, struct db_conn *c, const struct consumer_event *ev)
{
	struct probe *p = arg;
	const char *params[2] = {ev->event_id, ev->event_type};
	int rc, sleep_for;
	bool refuse, until_cancelled, pg_sleep;

	pthread_mutex_lock(&p->lock);
	/* the test may change these once it saw the call */
	sleep_for = p->sleep_ms;
	refuse = p->refuse;
	until_cancelled = p->until_cancelled;
	pg_sleep = p->pg_sleep;
	snprintf(p->event_id, sizeof(p->event_id), "%s", ev->event_id);
	snprintf(p->correlation_id, sizeof(p->correlation_id), "%s",
	         ev->correlation_id ? ev->correlation_id : "");
	snprintf(p->traceparent, sizeof(p->traceparent), "%s",
	         ev->traceparent ? ev->traceparent : "");
	snprintf(p->queue, sizeof(p->queue), "%s", ev->queue);
	p->redelivered = ev->redelivered;
	p->delivery_count = ev->delivery_count;
	p->n = (long)json_integer_value(json_object_get(ev->data, "n"));
	pthread_mutex_unlock(&p->lock);
	atomic_fetch_add(&p->calls, 1);

	/* written before any failure: a rollback must take it back */
	rc = db_query(c,
	              "INSERT INTO handled (event_id, event_type) VALUES "
	              "($1::uuid, $2)",
	              2, params, NULL);
	if (rc)
		return rc;
	if (p->write_outbox) {
		json_t *data = json_pack("{s:s}", "cause", ev->event_id);
		struct outbox_event next = {.event_type = "test.consumer.next",
		                            .producer = "test",
		                            .correlation_id =
		                                    ev->correlation_id,
		                            .data = data};

		rc = outbox_add(c, &next, NULL);
		json_decref(data);
		if (rc)
			return rc;
	}
	if (pg_sleep)
		return db_query(c, "SELECT pg_sleep(10)", 0, NULL, NULL);
	if (atomic_load(&p->fail_first) > 0) {
		atomic_fetch_sub(&p->fail_first, 1);
		return SHOP_EUNAVAIL;
	}
	if (sleep_for) {
		uint64_t start = shop_now_ns();

		while (ms_since(start) < sleep_for) {
			if (until_cancelled && consumer_cancelled(ev)) {
				pthread_mutex_lock(&p->lock);
				p->saw_cancel = true;
				pthread_mutex_unlock(&p->lock);
				return SHOP_ETIMEDOUT;
			}
			sleep_ms(10);
		}
	}
	return refuse ? SHOP_EINVAL : 0;
}

static struct consumer *start_consumer(const struct tq *q, struct probe *p,
                                       const char *url, int heartbeat_s,
                                       int shutdown_ms)
{
	struct consumer_options opt = {.service = "test_consumer",
	                               .amqp_url = url,
	                               .queue = &q->def,
	                               .pool = pool,
	                               .handle = handle,
	                               .arg = p,
	                               .heartbeat_s = heartbeat_s,
	                               .shutdown_timeout_ms = shutdown_ms};
	struct consumer *c = NULL;

	assert_int_equal(consumer_start(&opt, &c), 0);
	assert_non_null(c);
	return c;
}

static bool wait_connected(struct consumer *c, int timeout_ms)
{
	uint64_t start = shop_now_ns();

	while (ms_since(start) < timeout_ms) {
		if (consumer_connected(c))
			return true;
		sleep_ms(10);
	}
	return false;
}

static bool wait_calls(struct probe *p, int n, int timeout_ms)
{
	uint64_t start = shop_now_ns();

	while (ms_since(start) < timeout_ms) {
		if (atomic_load(&p->calls) >= n)
			return true;
		sleep_ms(5);
	}
	return false;
}

static double consumed(const struct tq *q, const char *type, const char *result)
{
	char labels[512];

	snprintf(labels, sizeof(labels),
	         "queue=\"%s\",event_type=\"%s\",result=\"%s\"", q->name, type,
	         result);
	return metric_value(
	        metrics_counter("events_consumed_total", "", labels));
}

static double queue_metric(const char *name, const struct tq *q, bool gauge)
{
	char labels[256];

	snprintf(labels, sizeof(labels), "queue=\"%s\"", q->name);
	return metric_value(gauge ? metrics_gauge(name, "", labels)
	                          : metrics_counter(name, "", labels));
}

static long handled(const char *event_id)
{
	return admin_scalar("SELECT count(*) FROM handled WHERE event_id = "
	                    "'%s'",
	                    event_id);
}

/* Frees c and checks it took less than max_ms. */
static void stop_consumer(struct consumer *c, int max_ms)
{
	uint64_t start = shop_now_ns();

	consumer_free(c);
	assert_true(ms_since(start) < max_ms);
}

/* ---- tests without servers ---- */

static void test_start_rejects_bad_options(void **state)
{
	struct db_pool_options po = {.conninfo = "host=127.0.0.1 port=1",
	                             .size = 1};
	struct db_pool *p = NULL;
	struct amqp_queue_def q = {.name = "x", .bindings = {"x.y", NULL}};
	struct amqp_queue_def unbound = {.name = "x"};
	struct probe pr;
	struct consumer_options opt;
	struct consumer *c = NULL;

	(void)state;
	probe_init(&pr);
	assert_int_equal(db_pool_new(&po, &p), 0);
	opt = (struct consumer_options){.service = "x",
	                                .amqp_url = "http://nope",
	                                .queue = &q,
	                                .pool = p,
	                                .handle = handle,
	                                .arg = &pr};
	assert_int_equal(consumer_start(&opt, &c), SHOP_EINVAL);
	opt.amqp_url = "amqp://localhost";
	opt.prefetch = 1001;
	assert_int_equal(consumer_start(&opt, &c), SHOP_EINVAL);
	opt.prefetch = -1;
	assert_int_equal(consumer_start(&opt, &c), SHOP_EINVAL);
	opt.prefetch = 0;
	opt.queue = &unbound;
	assert_int_equal(consumer_start(&opt, &c), SHOP_EINVAL);
	opt.queue = NULL;
	assert_int_equal(consumer_start(&opt, &c), SHOP_EINVAL);
	opt.queue = &q;
	opt.handle = NULL;
	assert_int_equal(consumer_start(&opt, &c), SHOP_EINVAL);
	opt.handle = handle;
	opt.pool = NULL;
	assert_int_equal(consumer_start(&opt, &c), SHOP_EINVAL);
	opt.pool = p;
	opt.service = "";
	assert_int_equal(consumer_start(&opt, &c), SHOP_EINVAL);
	assert_int_equal(consumer_start(NULL, &c), SHOP_EINVAL);
	assert_null(c);
	assert_false(consumer_connected(NULL));
	assert_false(consumer_cancelled(NULL));
	consumer_free(NULL);
	db_pool_free(p);
}

/* Parses body for a queue taking "t.a" and "t.b". */
static int parse(const char *body, const char *type, const char *message_id,
                 char *why, size_t cap, char *id)
{
	struct amqp_queue_def q = {.name = "t", .bindings = {"t.a", "t.b"}};
	struct consumer_event ev = {0};
	json_t *root = NULL;
	int rc = consumer__parse_envelope(&q, body, body ? strlen(body) : 0,
	                                  type, message_id, &root, &ev, why,
	                                  cap, id, 64);

	if (rc == 0) {
		assert_non_null(root);
		assert_string_equal(ev.event_type, "t.a");
		assert_int_equal(ev.event_version, 1);
		assert_true(json_is_object(ev.data));
	} else {
		assert_null(root);
	}
	json_decref(root);
	return rc;
}

#define ID  "6f1c2a4e-8f1d-4c55-9a51-0f8d2b6c9e11"
#define ENV "\"event_version\":1,\"producer\":\"order\",\"data\":{}"

static void test_envelope_checks(void **state)
{
	static const struct {
		const char *body, *reason;
	} bad[] = {
	        {"{\"event_id\":", "malformed JSON"},
	        {"[1,2]", "not a JSON object"},
	        {"{\"event_id\":\"" ID "\",\"event_type\":\"t.a\","
	         "\"occurred_at\":\"2026-11-21T10:02:03Z\","
	         "\"event_version\":1,\"data\":{}}",
	         "missing member 'producer'"},
	        {"{\"event_id\":\"nope\",\"event_type\":\"t.a\","
	         "\"occurred_at\":\"2026-11-21T10:02:03Z\"," ENV "}",
	         "not a UUID"},
	        {"{\"event_id\":\"" ID "\",\"event_type\":\"t.c\","
	         "\"occurred_at\":\"2026-11-21T10:02:03Z\"," ENV "}",
	         "not one the queue takes"},
	        {"{\"event_id\":\"" ID "\",\"event_type\":\"t.a\","
	         "\"occurred_at\":\"2026-11-21\"," ENV "}",
	         "not an RFC 3339 time"},
	        {"{\"event_id\":\"" ID "\",\"event_type\":\"t.a\","
	         "\"occurred_at\":\"2026-11-21T10:02:03Z\","
	         "\"event_version\":2,\"producer\":\"o\",\"data\":{}}",
	         "event_version must be the integer 1"},
	        {"{\"event_id\":\"" ID "\",\"event_type\":\"t.a\","
	         "\"occurred_at\":\"2026-11-21T10:02:03Z\","
	         "\"event_version\":1,\"producer\":\"o\",\"data\":[]}",
	         "'data' must be an object"},
	        {"{\"event_id\":\"" ID "\",\"event_type\":\"t.a\","
	         "\"occurred_at\":\"2026-11-21T10:02:03Z\"," ENV
	         ",\"extra\":1}",
	         "unknown member 'extra'"},
	        {"{\"event_id\":\"" ID "\",\"event_id\":\"" ID "\","
	         "\"event_type\":\"t.a\","
	         "\"occurred_at\":\"2026-11-21T10:02:03Z\"," ENV "}",
	         "malformed JSON"},
	        {"{\"event_id\":\"" ID "\",\"event_type\":\"t.a\","
	         "\"occurred_at\":\"2026-11-21T10:02:03Z\","
	         "\"correlation_id\":5," ENV "}",
	         "'correlation_id' must be a non-empty string"},
	};
	const char *good = "{\"event_id\":\"" ID "\",\"event_type\":\"t.a\","
	                   "\"occurred_at\":\"2026-11-21T10:02:03.25+01:00\","
	                   "\"correlation_id\":null," ENV "}";
	char why[256], id[64];

	(void)state;
	assert_int_equal(parse(good, "t.a", ID, why, sizeof(why), id), 0);
	assert_string_equal(id, ID);
	assert_int_equal(parse(good, NULL, NULL, why, sizeof(why), id), 0);
	/* the properties must agree with the body */
	assert_int_equal(parse(good, "t.b", ID, why, sizeof(why), id),
	                 SHOP_EINVAL);
	assert_non_null(strstr(why, "type 't.b' differs"));
	assert_int_equal(parse(good, "t.a",
	                       "0b7c2a4e-8f1d-4c55-9a51-"
	                       "0f8d2b6c9e11",
	                       why, sizeof(why), id),
	                 SHOP_EINVAL);
	assert_non_null(strstr(why, "message_id"));
	assert_string_equal(id, ID); /* for the log line */
	assert_int_equal(parse(NULL, NULL, NULL, why, sizeof(why), id),
	                 SHOP_EINVAL);
	assert_string_equal(id, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		        parse(bad[i].body, NULL, NULL, why, sizeof(why), id),
		        SHOP_EINVAL);
		if (!strstr(why, bad[i].reason))
			fail_msg("body %zu: '%s' does not say '%s'", i, why,
			         bad[i].reason);
	}
}

/* ---- database ---- */

static void test_migrate_is_idempotent(void **state)
{
	(void)state;
	need_db();
	/* group_setup migrated once already */
	assert_int_equal(consumer_migrate(conninfo, "test_consumer"), 0);
	assert_int_equal(consumer_migrate(conninfo, "test_consumer"), 0);
	assert_int_equal(admin_scalar("SELECT count(*) FROM "
	                              "consumer_schema_migrations"),
	                 1);
	assert_int_equal(admin_scalar("SELECT count(*) FROM pg_indexes WHERE "
	                              "tablename = 'processed_events' AND "
	                              "schemaname = current_schema()"),
	                 2);
}

static void test_mark_and_purge(void **state)
{
	struct db_conn *c = NULL;
	char id[SHOP_UUID_LEN + 1];

	(void)state;
	need_db();
	shop_uuid_v4(id);
	assert_int_equal(db_acquire(pool, &c), 0);
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(consumer__mark(c, id, "purge.q", "t.a"), 0);
	assert_int_equal(consumer__mark(c, id, "purge.q", "t.a"), 1);
	/* the same event on another queue is another row */
	assert_int_equal(consumer__mark(c, id, "purge.other", "t.a"), 0);
	assert_int_equal(db_commit(c), 0);
	support_pg_exec(admin,
	                "UPDATE processed_events SET processed_at = now() - "
	                "interval '2 hours' WHERE queue LIKE 'purge.%'");
	assert_int_equal(consumer__purge(c, "purge.q", 7200 + 60), 0);
	assert_int_equal(consumer__purge(c, "purge.q", 3600), 1);
	assert_int_equal(admin_scalar("SELECT count(*) FROM processed_events "
	                              "WHERE queue LIKE 'purge.%%'"),
	                 1);
	db_release(c);
}

/* ---- consuming ---- */

static void test_valid_event_is_handled_once_and_acked(void **state)
{
	char id[SHOP_UUID_LEN + 1];
	struct consumer *c;
	struct probe p;
	struct tq q;

	(void)state;
	need_both();
	tq_make(&q, "valid");
	probe_init(&p);
	publish_event(q.keys[0], 42, id);
	c = start_consumer(&q, &p, amqp_url, 0, 0);
	assert_true(wait_connected(c, 3000));
	assert_true(wait_calls(&p, 1, 3000));
	sleep_ms(100);
	assert_true(queue_metric("consumer_connected", &q, true) == 1);
	stop_consumer(c, 2000);

	assert_int_equal(atomic_load(&p.calls), 1);
	assert_string_equal(p.event_id, id);
	assert_string_equal(p.correlation_id, "req-7");
	assert_string_equal(p.traceparent, "00-0af7651916cd43dd8448eb211c8031"
	                                   "9c-b7ad6b7169203331-01");
	assert_string_equal(p.queue, q.name);
	assert_false(p.redelivered);
	assert_int_equal(p.n, 42);
	assert_int_equal(handled(id), 1);
	assert_int_equal(admin_scalar("SELECT count(*) FROM processed_events "
	                              "WHERE event_id = '%s' AND queue = '%s' "
	                              "AND event_type = '%s'",
	                              id, q.name, q.keys[0]),
	                 1);
	assert_true(consumed(&q, q.keys[0], "ok") == 1);
	assert_true(queue_metric("consumer_connected", &q, true) == 0);
	/* acked: nothing went back to the queue when it closed */
	sleep_ms(100);
	assert_int_equal(ready(q.name), 0);
	assert_int_equal(ready(q.dlq), 0);
	tq_drop(&q);
}

static void test_same_event_twice_is_handled_once(void **state)
{
	char id[SHOP_UUID_LEN + 1], other[SHOP_UUID_LEN + 1];
	struct consumer *c;
	struct probe p;
	char *body;
	struct tq q;

	(void)state;
	need_both();
	tq_make(&q, "twice");
	probe_init(&p);
	shop_uuid_v4(id);
	body = envelope(id, q.keys[1], 1);
	publish(q.keys[1], body, id, q.keys[1]);
	publish(q.keys[1], body, id, q.keys[1]);
	free(body);
	publish_event(q.keys[0], 2, other); /* after both: all are done */
	c = start_consumer(&q, &p, amqp_url, 0, 0);
	assert_true(wait_calls(&p, 2, 3000));
	assert_true(wait_ready(q.name, 0, 2000));
	sleep_ms(100);
	stop_consumer(c, 2000);

	assert_int_equal(atomic_load(&p.calls), 2); /* id once, other once */
	assert_int_equal(handled(id), 1);
	assert_int_equal(handled(other), 1);
	assert_true(consumed(&q, q.keys[1], "ok") == 1);
	assert_true(consumed(&q, q.keys[1], "duplicate") == 1);
	sleep_ms(100);
	assert_int_equal(ready(q.name), 0); /* both acked */
	assert_int_equal(ready(q.dlq), 0);
	tq_drop(&q);
}

static void test_bad_messages_are_dead_lettered(void **state)
{
	char id_missing[SHOP_UUID_LEN + 1], id_refused[SHOP_UUID_LEN + 1];
	char id_type[SHOP_UUID_LEN + 1], ok[SHOP_UUID_LEN + 1];
	char ids[16][64], bodies[16][64], logs[16384] = "", *body;
	struct consumer *c;
	struct probe p;
	struct tq q;
	json_t *env;
	FILE *captured;
	int saved, n;

	(void)state;
	need_both();
	tq_make(&q, "poison");
	probe_init(&p);
	/* 1: not JSON, without a message_id */
	publish(q.keys[0], "{not json", NULL, NULL);
	/* 2: an envelope without its producer */
	shop_uuid_v4(id_missing);
	body = envelope(id_missing, q.keys[0], 1);
	env = json_loads(body, 0, NULL);
	free(body);
	json_object_del(env, "producer");
	body = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	publish(q.keys[0], body, id_missing, q.keys[0]);
	free(body);
	/* 3: the type property contradicts event_type */
	shop_uuid_v4(id_type);
	body = envelope(id_type, q.keys[0], 3);
	publish(q.keys[0], body, id_type, q.keys[1]);
	free(body);
	/* 4: valid, but the handler refuses it (SHOP_EINVAL) */
	p.refuse = true;
	publish_event(q.keys[0], 4, id_refused);

	fflush(stdout);
	captured = tmpfile();
	assert_non_null(captured);
	saved = dup(STDOUT_FILENO);
	assert_int_equal(dup2(fileno(captured), STDOUT_FILENO), STDOUT_FILENO);
	c = start_consumer(&q, &p, amqp_url, 0, 0);
	n = take_all(q.dlq, 4, 4000, ids, bodies);
	pthread_mutex_lock(&p.lock);
	p.refuse = false;
	pthread_mutex_unlock(&p.lock);
	publish_event(q.keys[0], 5, ok); /* the queue goes on */
	wait_calls(&p, 2, 3000);
	consumer_free(c);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	rewind(captured);
	logs[fread(logs, 1, sizeof(logs) - 1, captured)] = '\0';
	fclose(captured);

	assert_int_equal(n, 4);
	assert_string_equal(ids[0], "");
	assert_string_equal(bodies[0], "{not json");
	assert_string_equal(ids[1], id_missing);
	assert_string_equal(ids[2], id_type);
	assert_string_equal(ids[3], id_refused);
	/* the handler saw only the refused one and the good one; the
	 * refused one's writes were rolled back */
	assert_int_equal(atomic_load(&p.calls), 2);
	assert_int_equal(handled(id_refused), 0);
	assert_int_equal(handled(ok), 1);
	assert_int_equal(admin_scalar("SELECT count(*) FROM processed_events "
	                              "WHERE event_id = '%s'",
	                              id_refused),
	                 0);
	assert_true(queue_metric("events_dead_lettered_total", &q, false) == 4);
	/* labelled by event_type, else by the type property when it is one
	 * of the queue's, else "unknown" */
	assert_true(consumed(&q, q.keys[0], "poison") == 2);
	assert_true(consumed(&q, q.keys[1], "poison") == 1);
	assert_true(consumed(&q, "unknown", "poison") == 1);
	/* logged with the event_id, or the delivery tag, and the reason */
	assert_non_null(strstr(logs, "\"delivery_tag\":1"));
	assert_non_null(strstr(logs, "malformed JSON"));
	assert_non_null(strstr(logs, id_missing));
	assert_non_null(strstr(logs, "missing member 'producer'"));
	assert_non_null(strstr(logs, id_type));
	assert_non_null(strstr(logs, id_refused));
	assert_non_null(strstr(logs, "the handler refused the event"));
	sleep_ms(100);
	assert_int_equal(ready(q.name), 0);
	tq_drop(&q);
}

static void test_transient_failures_are_retried(void **state)
{
	char id[SHOP_UUID_LEN + 1];
	struct consumer *c;
	struct probe p;
	uint64_t start;
	struct tq q;

	(void)state;
	need_both();
	tq_make(&q, "retry");
	probe_init(&p);
	atomic_store(&p.fail_first, 2);
	p.write_outbox = true;
	support_pg_exec(admin, "TRUNCATE outbox");
	c = start_consumer(&q, &p, amqp_url, 0, 0);
	assert_true(wait_connected(c, 3000));
	start = shop_now_ns();
	publish_event(q.keys[0], 1, id);
	assert_true(wait_calls(&p, 3, 3000));
	/* 100 ms, then 200 ms of backoff */
	assert_true(ms_since(start) >= 290);
	sleep_ms(100);
	stop_consumer(c, 2000);

	assert_int_equal(atomic_load(&p.calls), 3);
	assert_false(p.redelivered); /* kept in hand, not requeued */
	/* the failed attempts' writes were rolled back, with their events */
	assert_int_equal(handled(id), 1);
	assert_int_equal(admin_scalar("SELECT count(*) FROM outbox WHERE "
	                              "payload LIKE '%%%s%%'",
	                              id),
	                 1);
	assert_true(consumed(&q, q.keys[0], "retry") == 2);
	assert_true(consumed(&q, q.keys[0], "ok") == 1);
	sleep_ms(100);
	assert_int_equal(ready(q.name), 0);
	assert_int_equal(ready(q.dlq), 0);
	tq_drop(&q);
}

/* The control for the next test: a connection with a 1 s heartbeat that
 * nobody reads for 4 s is dropped by the broker. */
static void test_unserviced_connection_is_dropped(void **state)
{
	struct amqp_conn_options opt = {.url = amqp_url,
	                                .name = "test_consumer idle",
	                                .heartbeat_s = 1};
	struct amqp_conn *c = NULL;
	struct amqp_delivery *d = NULL;

	(void)state;
	need_broker();
	assert_int_equal(amqp_conn_open(&opt, &c, NULL, 0), 0);
	sleep_ms(4000);
	assert_int_equal(amqp_conn_receive(c, 200, &d), SHOP_EUNAVAIL);
	assert_false(amqp_conn_ok(c));
	print_message("an unserviced connection: %s\n", amqp_conn_error(c));
	amqp_conn_free(c);
}

static void test_slow_handler_keeps_the_connection(void **state)
{
	char slow[SHOP_UUID_LEN + 1], next[SHOP_UUID_LEN + 1];
	struct consumer *c;
	struct probe p;
	uint64_t start;
	struct tq q;

	(void)state;
	need_both();
	tq_make(&q, "slow");
	probe_init(&p);
	p.sleep_ms = 3000; /* three heartbeats of 1 s */
	c = start_consumer(&q, &p, amqp_url, 1, 0);
	assert_true(wait_connected(c, 3000));
	publish_event(q.keys[0], 1, slow);
	publish_event(q.keys[0], 2, next);
	start = shop_now_ns();
	assert_true(wait_calls(&p, 1, 3000));
	pthread_mutex_lock(&p.lock);
	p.sleep_ms = 0; /* for the second event */
	pthread_mutex_unlock(&p.lock);
	while (ms_since(start) < 3000) {
		assert_true(consumer_connected(c));
		sleep_ms(50);
	}
	assert_true(wait_calls(&p, 2, 3000));
	assert_true(wait_ready(q.name, 0, 1000));
	sleep_ms(100);
	stop_consumer(c, 2000);

	/* one connection all along, and nothing was delivered twice */
	assert_true(queue_metric("consumer_connects_total", &q, false) == 1);
	assert_int_equal(atomic_load(&p.calls), 2);
	assert_false(p.redelivered);
	assert_int_equal(handled(slow), 1);
	assert_int_equal(handled(next), 1);
	assert_true(consumed(&q, q.keys[0], "ok") == 2);
	sleep_ms(100);
	assert_int_equal(ready(q.name), 0);
	tq_drop(&q);
}

static void test_shutdown_finishes_the_message_in_hand(void **state)
{
	char id[SHOP_UUID_LEN + 1];
	struct consumer *c;
	struct probe p;
	uint64_t start;
	struct tq q;

	(void)state;
	need_both();
	tq_make(&q, "drain");
	probe_init(&p);
	p.sleep_ms = 700;
	c = start_consumer(&q, &p, amqp_url, 0, 0);
	publish_event(q.keys[0], 1, id);
	assert_true(wait_calls(&p, 1, 3000));
	start = shop_now_ns();
	consumer_free(c);
	print_message("shutdown with a 700 ms handler in hand: %.0f ms\n",
	              ms_since(start));
	assert_true(ms_since(start) >= 500 && ms_since(start) < 2500);
	assert_int_equal(handled(id), 1);
	assert_true(consumed(&q, q.keys[0], "ok") == 1);
	sleep_ms(150);
	assert_int_equal(ready(q.name), 0); /* acked before closing */
	tq_drop(&q);
}

static void test_shutdown_gives_up_a_stuck_handler(void **state)
{
	char id[SHOP_UUID_LEN + 1];
	struct consumer *c;
	struct probe p;
	uint64_t start;
	struct tq q;

	(void)state;
	need_both();
	tq_make(&q, "stuck");
	probe_init(&p);
	p.sleep_ms = 10000;
	p.until_cancelled = true;
	c = start_consumer(&q, &p, amqp_url, 0, 300);
	publish_event(q.keys[0], 1, id);
	assert_true(wait_calls(&p, 1, 3000));
	start = shop_now_ns();
	consumer_free(c);
	print_message("shutdown with a stuck handler, 300 ms bound: %.0f ms\n",
	              ms_since(start));
	assert_true(ms_since(start) >= 250 && ms_since(start) < 2000);
	assert_true(p.saw_cancel);
	/* rolled back, and back in the queue for the next consumer */
	assert_int_equal(handled(id), 0);
	assert_true(wait_ready(q.name, 1, 2000));

	pthread_mutex_lock(&p.lock);
	p.sleep_ms = 0;
	p.until_cancelled = false;
	pthread_mutex_unlock(&p.lock);
	c = start_consumer(&q, &p, amqp_url, 0, 0);
	assert_true(wait_calls(&p, 2, 3000));
	sleep_ms(100);
	stop_consumer(c, 2000);
	assert_string_equal(p.event_id, id);
	assert_true(p.redelivered);
	print_message("x-delivery-count after a close: %ld\n",
	              p.delivery_count);
	assert_int_equal(handled(id), 1);
	tq_drop(&q);
}

/* A handler stuck in a statement: consumer_free() cancels it. */
static void test_shutdown_cancels_a_stuck_statement(void **state)
{
	char id[SHOP_UUID_LEN + 1];
	struct consumer *c;
	struct probe p;
	uint64_t start;
	struct tq q;

	(void)state;
	need_both();
	tq_make(&q, "stuck_sql");
	probe_init(&p);
	p.pg_sleep = true;
	c = start_consumer(&q, &p, amqp_url, 0, 300);
	publish_event(q.keys[0], 1, id);
	assert_true(wait_calls(&p, 1, 3000));
	start = shop_now_ns();
	consumer_free(c);
	print_message("shutdown with a handler in pg_sleep(10), 300 ms bound: "
	              "%.0f ms\n",
	              ms_since(start));
	assert_true(ms_since(start) < 2000);
	assert_int_equal(handled(id), 0);
	assert_int_equal(admin_scalar("SELECT count(*) FROM processed_events "
	                              "WHERE event_id = '%s'",
	                              id),
	                 0);
	assert_true(wait_ready(q.name, 1, 2000));
	tq_drop(&q);
}

static void test_database_down_keeps_the_message(void **state)
{
	char db[128], id[SHOP_UUID_LEN + 1];
	struct db_pool_options po = {.conninfo = db, .size = 1};
	struct db_pool *good = pool;
	struct consumer *c;
	struct probe p;
	struct tq q;

	(void)state;
	need_both();
	snprintf(db, sizeof(db), "host=127.0.0.1 port=%d dbname=nope",
	         support_closed_port());
	tq_make(&q, "nodb");
	probe_init(&p);
	publish_event(q.keys[0], 1, id);
	assert_int_equal(db_pool_new(&po, &pool), 0);
	c = start_consumer(&q, &p, amqp_url, 0, 0);
	assert_true(wait_connected(c, 3000));
	sleep_ms(700); /* a few attempts with backoff */
	assert_true(consumer_connected(c));
	assert_int_equal(atomic_load(&p.calls), 0);
	assert_true(consumed(&q, q.keys[0], "retry") >= 2);
	assert_int_equal(ready(q.name), 0); /* in hand */
	stop_consumer(c, 1000);             /* the backoff stops at once */
	db_pool_free(pool);
	pool = good;
	/* not dropped, not dead-lettered: back in the queue */
	assert_true(wait_ready(q.name, 1, 2000));
	assert_int_equal(ready(q.dlq), 0);
	tq_drop(&q);
}

/* The broker cancels the consumer when its queue is deleted (Basic.Cancel,
 * consumer_cancel_notify): the consumer reconnects and declares it again. */
static void test_deleted_queue_is_declared_again(void **state)
{
	char id[SHOP_UUID_LEN + 1];
	struct consumer *c;
	struct probe p;
	uint64_t start;
	struct tq q;

	(void)state;
	need_both();
	tq_make(&q, "deleted");
	probe_init(&p);
	c = start_consumer(&q, &p, amqp_url, 0, 0);
	assert_true(wait_connected(c, 3000));
	mq_delete(q.name);
	start = shop_now_ns();
	while (queue_metric("consumer_connects_total", &q, false) < 2 &&
	       ms_since(start) < 3000)
		sleep_ms(10);
	assert_true(queue_metric("consumer_connects_total", &q, false) == 2);
	assert_true(wait_connected(c, 1000));
	publish_event(q.keys[1], 1, id);
	assert_true(wait_calls(&p, 1, 3000));
	sleep_ms(100);
	stop_consumer(c, 2000);
	assert_int_equal(handled(id), 1);
	tq_drop(&q);
}

static void test_closed_port_is_not_connected_and_stops_promptly(void **state)
{
	char url[128];
	struct amqp_queue_def q = {.name = "test.consumer.closed",
	                           .bindings = {"test.consumer.closed.a"}};
	struct consumer_options opt = {.service = "test_consumer",
	                               .amqp_url = url,
	                               .queue = &q,
	                               .handle = handle};
	struct db_pool_options po = {.conninfo = "host=127.0.0.1 port=1",
	                             .size = 1};
	struct db_pool *p = NULL;
	struct consumer *c = NULL;
	struct probe pr;
	char labels[128];

	(void)state;
	/* no server needed */
	probe_init(&pr);
	opt.arg = &pr;
	snprintf(url, sizeof(url), "amqp://guest:guest@127.0.0.1:%d/%%2F",
	         support_closed_port());
	assert_int_equal(db_pool_new(&po, &p), 0);
	opt.pool = p;
	assert_int_equal(consumer_start(&opt, &c), 0);
	sleep_ms(500); /* several attempts with backoff */
	assert_false(consumer_connected(c));
	snprintf(labels, sizeof(labels), "queue=\"%s\"", q.name);
	assert_true(metric_value(metrics_gauge("consumer_connected", "",
	                                       labels)) == 0);
	stop_consumer(c, 500);
	db_pool_free(p);
}

/*
 * A group of consumers on one queue: every event handled exactly once,
 * some at the same time, each with an arena of its own worker, and what a
 * handler leaves with consumer_event_set_data() reaches the committed hook
 * of the same event.
 */
struct group_probe {
	atomic_int calls, committed, mismatched, running, most_running;
	atomic_int no_arena;
};

static int group_handle(void *arg, struct db_conn *c,
                        const struct consumer_event *ev)
{
	struct group_probe *g = arg;
	const char *params[2] = {ev->event_id, ev->event_type};
	int now = atomic_fetch_add(&g->running, 1) + 1, most;
	char *mine;
	int rc;

	while ((most = atomic_load(&g->most_running)) < now &&
	       !atomic_compare_exchange_weak(&g->most_running, &most, now))
		;
	if (!ev->arena)
		atomic_fetch_add(&g->no_arena, 1);
	mine = ev->arena ? arena_strdup(ev->arena, ev->event_id) : NULL;
	consumer_event_set_data(ev, mine);
	rc = db_query(c,
	              "INSERT INTO handled (event_id, event_type) VALUES "
	              "($1::uuid, $2)",
	              2, params, NULL);
	sleep_ms(30);
	atomic_fetch_sub(&g->running, 1);
	atomic_fetch_add(&g->calls, 1);
	return rc;
}

static void group_committed(void *arg, const struct consumer_event *ev)
{
	struct group_probe *g = arg;
	const char *mine = consumer_event_data(ev);

	if (!mine || strcmp(mine, ev->event_id) != 0)
		atomic_fetch_add(&g->mismatched, 1);
	atomic_fetch_add(&g->committed, 1);
}

static void test_group_handles_each_event_once_in_parallel(void **state)
{
	char ids[24][SHOP_UUID_LEN + 1];
	struct consumer_group *grp = NULL;
	struct group_probe g;
	struct tq q;
	uint64_t start;

	(void)state;
	need_both();
	memset(&g, 0, sizeof(g));
	tq_make(&q, "group");
	struct consumer_options opt = {.service = "test_consumer",
	                               .amqp_url = amqp_url,
	                               .queue = &q.def,
	                               .pool = pool,
	                               .handle = group_handle,
	                               .committed = group_committed,
	                               .arg = &g,
	                               .prefetch = 2};
	assert_int_equal(consumer_group_start(&opt, 0, &grp), SHOP_EINVAL);
	assert_int_equal(
	        consumer_group_start(&opt, CONSUMER_GROUP_MAX + 1, &grp),
	        SHOP_EINVAL);
	assert_null(grp);
	for (int i = 0; i < 24; i++)
		publish_event(q.keys[0], i, ids[i]);
	assert_int_equal(consumer_group_start(&opt, 3, &grp), 0);
	start = shop_now_ns();
	while (ms_since(start) < 5000 && !consumer_group_connected(grp))
		sleep_ms(10);
	assert_true(consumer_group_connected(grp));
	while (ms_since(start) < 10000 && atomic_load(&g.committed) < 24)
		sleep_ms(10);
	sleep_ms(200);
	consumer_group_free(grp);
	assert_false(consumer_group_connected(NULL));
	consumer_group_free(NULL);

	assert_int_equal(atomic_load(&g.calls), 24);
	assert_int_equal(atomic_load(&g.committed), 24);
	assert_int_equal(atomic_load(&g.mismatched), 0);
	assert_int_equal(atomic_load(&g.no_arena), 0);
	/* three workers: events overlapped */
	assert_true(atomic_load(&g.most_running) >= 2);
	for (int i = 0; i < 24; i++)
		assert_int_equal(handled(ids[i]), 1);
	sleep_ms(100);
	assert_int_equal(ready(q.name), 0);
	tq_drop(&q);
}

static int group_setup(void **state)
{
	struct db_pool_options po = {
	        .conninfo = conninfo, .name = "test_consumer", .size = 3};
	char sql[256];
	PGresult *res;
	int ok;

	(void)state;
	slog_init("test_consumer",
	          getenv("SHOP_TEST_LOG_DEBUG") ? SLOG_DEBUG : SLOG_ERROR);
	snprintf(prefix, sizeof(prefix), "test.consumer.%d", (int)getpid());
	amqp_url = getenv("SHOP_TEST_AMQP_URL");
	if (amqp_url && !*amqp_url)
		amqp_url = NULL;
	db_url = getenv("SHOP_TEST_DATABASE_URL");
	if (db_url && !*db_url)
		db_url = NULL;
	if (amqp_url) {
		struct amqp_connection_info ci;
		char *url = strdup(amqp_url);

		if (!url || amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
			return -1;
		mq = amqp_new_connection();
		if (amqp_socket_open(amqp_tcp_socket_new(mq), ci.host,
		                     ci.port) != AMQP_STATUS_OK ||
		    amqp_login(mq, ci.vhost, 0, 131072, 0,
		               AMQP_SASL_METHOD_PLAIN, ci.user, ci.password)
		                    .reply_type != AMQP_RESPONSE_NORMAL) {
			print_error("cannot connect to SHOP_TEST_AMQP_URL\n");
			free(url);
			return -1;
		}
		free(url);
		amqp_channel_open(mq, 1);
		if (amqp_get_rpc_reply(mq).reply_type != AMQP_RESPONSE_NORMAL)
			return -1;
	}
	if (!db_url)
		return 0;
	snprintf(schema, sizeof(schema), "test_consumer_%d", (int)getpid());
	if (support_conninfo(db_url, schema, conninfo, sizeof(conninfo)) != 0)
		return -1;
	admin = PQconnectdb(conninfo);
	if (PQstatus(admin) != CONNECTION_OK) {
		print_error("cannot connect to SHOP_TEST_DATABASE_URL: %s",
		            PQerrorMessage(admin));
		return -1;
	}
	PQsetNoticeProcessor(admin, quiet, NULL);
	snprintf(sql, sizeof(sql),
	         "CREATE SCHEMA %s; SET search_path = %s; CREATE TABLE "
	         "handled (event_id uuid NOT NULL, event_type text NOT NULL)",
	         schema, schema);
	res = PQexec(admin, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok || consumer_migrate(conninfo, "test_consumer") != 0 ||
	    outbox_migrate(conninfo, "test_consumer") != 0 ||
	    db_pool_new(&po, &pool) != 0 || outbox_prepare(pool) != 0 ||
	    consumer__prepare(pool) != 0 || db_pool_start(pool) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char sql[128];

	(void)state;
	db_pool_free(pool);
	if (mq) {
		amqp_channel_close(mq, 1, AMQP_REPLY_SUCCESS);
		amqp_connection_close(mq, AMQP_REPLY_SUCCESS);
		amqp_destroy_connection(mq);
	}
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
	        cmocka_unit_test(test_envelope_checks),
	        cmocka_unit_test(
	                test_closed_port_is_not_connected_and_stops_promptly),
	        cmocka_unit_test(test_migrate_is_idempotent),
	        cmocka_unit_test(test_mark_and_purge),
	        cmocka_unit_test(test_valid_event_is_handled_once_and_acked),
	        cmocka_unit_test(test_same_event_twice_is_handled_once),
	        cmocka_unit_test(
	                test_group_handles_each_event_once_in_parallel),
	        cmocka_unit_test(test_bad_messages_are_dead_lettered),
	        cmocka_unit_test(test_transient_failures_are_retried),
	        cmocka_unit_test(test_unserviced_connection_is_dropped),
	        cmocka_unit_test(test_slow_handler_keeps_the_connection),
	        cmocka_unit_test(test_shutdown_finishes_the_message_in_hand),
	        cmocka_unit_test(test_shutdown_gives_up_a_stuck_handler),
	        cmocka_unit_test(test_shutdown_cancels_a_stuck_statement),
	        cmocka_unit_test(test_database_down_keeps_the_message),
	        cmocka_unit_test(test_deleted_queue_is_declared_again),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
