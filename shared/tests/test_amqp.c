/* Tests of shared/src/amqp.c, amqp_publish.c and amqp_topology.c. The
 * broker tests need a real RabbitMQ in SHOP_TEST_AMQP_URL (loaded from
 * infrastructure/rabbitmq/definitions.json) and are skipped without it.
 * They publish only with routing keys "test.amqp.<pid>...." that no queue
 * of the topology binds, read back through exclusive server-named queues,
 * and leave nothing behind. The table test, the URL tests and the
 * failure-path tests (closed port, silent server) always run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/net.h"

#include "shop/amqp.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SHOP_DEFINITIONS_JSON
#error "SHOP_DEFINITIONS_JSON must name infrastructure/rabbitmq/definitions.json"
#endif

static const char *amqp_url;
static char key_prefix[64];

static double ms_since(uint64_t start)
{
	return (double)(shop_now_ns() - start) / 1e6;
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

static struct amqp_conn *live_conn(void)
{
	struct amqp_conn_options opt = {.url = amqp_url,
	                                .name = "test_amqp",
	                                .connect_timeout_ms = 2000,
	                                .rpc_timeout_ms = 5000};
	struct amqp_conn *c = NULL;

	need_broker();
	assert_int_equal(amqp_conn_open(&opt, &c, NULL, 0), 0);
	assert_true(amqp_conn_ok(c));
	return c;
}

/* A server that accepts TCP (the kernel does) and never says a word. */
static int silent_server(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* ---- a raw rabbitmq-c connection, to look at what was published ---- */

struct reader {
	amqp_connection_state_t state;
	char queue[256];
};

static void reader_open(struct reader *r, const char *routing_key)
{
	struct amqp_connection_info ci;
	char *url = strdup(amqp_url);
	amqp_socket_t *sock;
	amqp_queue_declare_ok_t *q;

	assert_non_null(url);
	assert_int_equal(amqp_parse_url(url, &ci), AMQP_STATUS_OK);
	r->state = amqp_new_connection();
	sock = amqp_tcp_socket_new(r->state);
	assert_int_equal(amqp_socket_open(sock, ci.host, ci.port),
	                 AMQP_STATUS_OK);
	assert_int_equal(amqp_login(r->state, ci.vhost, 0, 131072, 0,
	                            AMQP_SASL_METHOD_PLAIN, ci.user,
	                            ci.password)
	                         .reply_type,
	                 AMQP_RESPONSE_NORMAL);
	free(url);
	amqp_channel_open(r->state, 1);
	assert_int_equal(amqp_get_rpc_reply(r->state).reply_type,
	                 AMQP_RESPONSE_NORMAL);
	q = amqp_queue_declare(r->state, 1, amqp_empty_bytes, 0, 0, 1, 1,
	                       amqp_empty_table);
	assert_non_null(q);
	snprintf(r->queue, sizeof(r->queue), "%.*s", (int)q->queue.len,
	         (const char *)q->queue.bytes);
	amqp_queue_bind(r->state, 1, amqp_cstring_bytes(r->queue),
	                amqp_cstring_bytes(AMQP_EVENTS_EXCHANGE),
	                amqp_cstring_bytes(routing_key), amqp_empty_table);
	assert_int_equal(amqp_get_rpc_reply(r->state).reply_type,
	                 AMQP_RESPONSE_NORMAL);
}

/* basic.get; returns false when the queue is empty. */
static bool reader_get(struct reader *r, amqp_message_t *msg)
{
	amqp_rpc_reply_t rep =
	        amqp_basic_get(r->state, 1, amqp_cstring_bytes(r->queue), 1);

	assert_int_equal(rep.reply_type, AMQP_RESPONSE_NORMAL);
	if (rep.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
		return false;
	assert_int_equal(rep.reply.id, AMQP_BASIC_GET_OK_METHOD);
	assert_int_equal(amqp_read_message(r->state, 1, msg, 0).reply_type,
	                 AMQP_RESPONSE_NORMAL);
	return true;
}

static void reader_close(struct reader *r)
{
	amqp_channel_close(r->state, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(r->state, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(r->state);
}

static void assert_bytes(amqp_bytes_t b, const char *s)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%.*s", (int)b.len, (const char *)b.bytes);
	assert_string_equal(buf, s);
}

/* ---- the table ---- */

static json_t *find_named(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "name")),
		           name) == 0)
			return v;
	}
	return NULL;
}

static bool has_binding(json_t *bindings, const char *source, const char *dest,
                        const char *key)
{
	size_t i;
	json_t *b;

	json_array_foreach(bindings, i, b)
	{
		if (strcmp(json_string_value(json_object_get(b, "source")),
		           source) == 0 &&
		    strcmp(json_string_value(json_object_get(b, "destination")),
		           dest) == 0 &&
		    strcmp(json_string_value(json_object_get(b, "routing_key")),
		           key) == 0)
			return true;
	}
	return false;
}

/* The static table says exactly what definitions.json says. */
static void test_table_matches_definitions(void **state)
{
	json_error_t err;
	json_t *defs = json_load_file(SHOP_DEFINITIONS_JSON, 0, &err);
	json_t *queues, *bindings, *x;
	size_t nbindings = 0;

	(void)state;
	assert_non_null(defs);
	queues = json_object_get(defs, "queues");
	bindings = json_object_get(defs, "bindings");

	x = find_named(json_object_get(defs, "exchanges"),
	               AMQP_EVENTS_EXCHANGE);
	assert_non_null(x);
	assert_string_equal(json_string_value(json_object_get(x, "type")),
	                    "topic");
	assert_true(json_is_true(json_object_get(x, "durable")));
	x = find_named(json_object_get(defs, "exchanges"), AMQP_DLX_EXCHANGE);
	assert_non_null(x);
	assert_string_equal(json_string_value(json_object_get(x, "type")),
	                    "direct");
	assert_true(json_is_true(json_object_get(x, "durable")));
	assert_int_equal(json_array_size(json_object_get(defs, "exchanges")),
	                 2);

	assert_int_equal(json_array_size(queues), 2 * amqp_topology_nqueues);
	for (size_t i = 0; i < amqp_topology_nqueues; i++) {
		const struct amqp_queue_def *q = &amqp_topology_queues[i];
		json_t *jq = find_named(queues, q->name), *args;
		char dlq[256];

		snprintf(dlq, sizeof(dlq), "%s.dlq", q->name);
		assert_non_null(jq);
		assert_true(json_is_true(json_object_get(jq, "durable")));
		args = json_object_get(jq, "arguments");
		assert_int_equal(json_object_size(args), 4);
		assert_string_equal(json_string_value(json_object_get(
		                            args, "x-queue-type")),
		                    "quorum");
		assert_int_equal(json_integer_value(json_object_get(
		                         args, "x-delivery-limit")),
		                 AMQP_DELIVERY_LIMIT);
		assert_string_equal(json_string_value(json_object_get(
		                            args, "x-dead-letter-exchange")),
		                    AMQP_DLX_EXCHANGE);
		assert_string_equal(json_string_value(json_object_get(
		                            args, "x-dead-letter-routing-key")),
		                    dlq);

		jq = find_named(queues, dlq);
		assert_non_null(jq);
		args = json_object_get(jq, "arguments");
		assert_int_equal(json_object_size(args), 1);
		assert_string_equal(json_string_value(json_object_get(
		                            args, "x-queue-type")),
		                    "quorum");
		assert_true(has_binding(bindings, AMQP_DLX_EXCHANGE, dlq, dlq));
		nbindings++;
		for (size_t k = 0; q->bindings[k]; k++) {
			assert_true(has_binding(bindings, AMQP_EVENTS_EXCHANGE,
			                        q->name, q->bindings[k]));
			nbindings++;
		}
		assert_ptr_equal(amqp_topology_queue(q->name), q);
	}
	assert_int_equal(json_array_size(bindings), nbindings);
	assert_null(amqp_topology_queue("nope"));
	assert_null(amqp_topology_queue(NULL));
	json_decref(defs);
}

/* ---- URLs and failures without a broker ---- */

static void test_url_check(void **state)
{
	char display[128];

	(void)state;
	assert_int_equal(amqp_url_check("amqp://u:secret@mq.example:5673/%2F",
	                                display, sizeof(display)),
	                 0);
	assert_string_equal(display, "amqp://mq.example:5673");
	assert_int_equal(amqp_url_check("amqp://u:secret@10.0.0.1/shop",
	                                display, sizeof(display)),
	                 0);
	assert_string_equal(display, "amqp://10.0.0.1:5672/shop");
	assert_int_equal(
	        amqp_url_check("amqp://[::1]:5672", display, sizeof(display)),
	        0);
	assert_string_equal(display, "amqp://[::1]:5672");
	assert_int_equal(amqp_url_check("amqp://localhost", NULL, 0), 0);
	assert_int_equal(amqp_url_check("http://localhost", NULL, 0),
	                 SHOP_EINVAL);
	assert_int_equal(amqp_url_check("amqps://localhost", NULL, 0),
	                 SHOP_EINVAL);
	assert_int_equal(amqp_url_check("amqp://h:notaport", NULL, 0),
	                 SHOP_EINVAL);
	assert_int_equal(amqp_url_check(NULL, NULL, 0), SHOP_EINVAL);
}

static void test_closed_port_fails_fast(void **state)
{
	char url[128], err[256] = "";
	struct amqp_conn_options opt = {.url = url};
	struct amqp_conn *c = NULL;
	uint64_t start = shop_now_ns();
	int port = support_closed_port();

	(void)state;
	snprintf(url, sizeof(url), "amqp://guest:s3cret@127.0.0.1:%d/%%2F",
	         port);
	assert_int_equal(amqp_conn_open(&opt, &c, err, sizeof(err)),
	                 SHOP_EUNAVAIL);
	assert_null(c);
	assert_true(ms_since(start) < 1000);
	/* STYLE.md's form, without the password */
	snprintf(url, sizeof(url),
	         "cannot connect to 'amqp://127.0.0.1:%d': ", port);
	assert_int_equal(strncmp(err, url, strlen(url)), 0);
	assert_null(strstr(err, "s3cret"));
	assert_non_null(strstr(err, "refused"));

	/* nothing to do on a NULL or dead connection */
	amqp_conn_free(NULL);
	assert_false(amqp_conn_ok(NULL));
	assert_int_equal(amqp_conn_fd(NULL), -1);
	assert_int_equal(amqp_conn_service(NULL), SHOP_EUNAVAIL);
	assert_int_equal(amqp_topology_declare(NULL), SHOP_EUNAVAIL);
}

static void test_silent_server_times_out(void **state)
{
	char url[128], err[256] = "";
	struct amqp_conn_options opt = {.url = url, .connect_timeout_ms = 300};
	struct amqp_conn *c = NULL;
	uint64_t start;
	int port, fd = silent_server(&port);

	(void)state;
	snprintf(url, sizeof(url), "amqp://127.0.0.1:%d", port);
	start = shop_now_ns();
	assert_int_equal(amqp_conn_open(&opt, &c, err, sizeof(err)),
	                 SHOP_EUNAVAIL);
	assert_true(ms_since(start) < 2000);
	assert_non_null(strstr(err, "cannot connect to 'amqp://127.0.0.1:"));
	close(fd);
}

static void test_malformed_url(void **state)
{
	struct amqp_conn_options opt = {.url = "nope://x"};
	struct amqp_conn *c = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(amqp_conn_open(&opt, &c, err, sizeof(err)),
	                 SHOP_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err, "AMQP URL"));
	opt.url = NULL;
	assert_int_equal(amqp_conn_open(&opt, &c, NULL, 0), SHOP_EINVAL);
}

/* ---- against the broker ---- */

static void test_topology_declared_twice(void **state)
{
	struct amqp_conn *c;

	(void)state;
	c = live_conn();
	assert_int_equal(amqp_topology_declare(c), 0);
	assert_true(amqp_conn_ok(c));
	assert_int_equal(amqp_topology_declare(c), 0);
	assert_true(amqp_conn_ok(c));
	assert_string_equal(amqp_conn_error(c), "");
	amqp_conn_free(c);

	/* and on a fresh connection, as a restarted daemon does */
	c = live_conn();
	assert_int_equal(amqp_topology_declare(c), 0);
	assert_int_equal(amqp_conn_service(c), 0);
	assert_true(amqp_conn_fd(c) >= 0);
	amqp_conn_free(c);
}

static void test_wrong_password_is_refused(void **state)
{
	struct amqp_connection_info ci;
	char *copy, url[256], err[256] = "";
	struct amqp_conn_options opt = {.url = url};
	struct amqp_conn *c = NULL;
	uint64_t start;

	(void)state;
	need_broker();
	copy = strdup(amqp_url);
	assert_int_equal(amqp_parse_url(copy, &ci), AMQP_STATUS_OK);
	snprintf(url, sizeof(url), "amqp://%s:wr0ngpass@%s:%d/%s", ci.user,
	         ci.host, ci.port, strcmp(ci.vhost, "/") ? ci.vhost : "%2F");
	free(copy);
	start = shop_now_ns();
	assert_int_equal(amqp_conn_open(&opt, &c, err, sizeof(err)),
	                 SHOP_EUNAVAIL);
	assert_true(ms_since(start) < 5000);
	assert_non_null(strstr(err, "login failed"));
	assert_null(strstr(err, "wr0ngpass"));
}

static void test_publish_confirm_and_read_back(void **state)
{
	enum { N = 50 };
	struct amqp_outgoing m[N];
	char ids[N][SHOP_UUID_LEN + 1], bodies[N][128], key[128];
	struct amqp_conn *c;
	struct reader r;
	uint64_t start;
	time_t now = time(NULL);

	(void)state;
	c = live_conn();
	snprintf(key, sizeof(key), "%s.confirm", key_prefix);
	reader_open(&r, key);
	memset(m, 0, sizeof(m));
	for (int i = 0; i < N; i++) {
		shop_uuid_v4(ids[i]);
		snprintf(bodies[i], sizeof(bodies[i]),
		         "{\"event_id\":\"%.36s\",\"n\":%d}", ids[i], i);
		m[i].routing_key = key;
		m[i].type = key;
		m[i].message_id = ids[i];
		m[i].correlation_id = i % 2 ? "req-1" : NULL;
		m[i].traceparent =
		        i % 2 ? "00-0af7651916cd43dd8448eb211c80319c-"
		                "b7ad6b7169203331-01"
		              : NULL;
		m[i].app_id = "test";
		m[i].body = bodies[i];
		m[i].len = strlen(bodies[i]);
	}
	start = shop_now_ns();
	assert_int_equal(amqp_publish_batch(c, m, N, 5000), 0);
	print_message("%d messages published and confirmed in %.1f ms\n", N,
	              ms_since(start));
	for (int i = 0; i < N; i++)
		assert_int_equal(m[i].result, AMQP_ACKED);

	for (int i = 0; i < N; i++) {
		amqp_message_t msg;
		amqp_basic_properties_t *p = &msg.properties;

		assert_true(reader_get(&r, &msg));
		assert_bytes(msg.body, bodies[i]);
		assert_true(p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG);
		assert_bytes(p->content_type, "application/json");
		assert_int_equal(p->delivery_mode, 2);
		assert_bytes(p->message_id, ids[i]);
		assert_bytes(p->type, key);
		assert_bytes(p->app_id, "test");
		assert_true(p->timestamp >= (uint64_t)now - 1 &&
		            p->timestamp <= (uint64_t)now + 60);
		if (i % 2) {
			assert_true(p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG);
			assert_bytes(p->correlation_id, "req-1");
			assert_true(p->_flags & AMQP_BASIC_HEADERS_FLAG);
			assert_int_equal(p->headers.num_entries, 1);
			assert_bytes(p->headers.entries[0].key, "traceparent");
			assert_bytes(p->headers.entries[0].value.value.bytes,
			             "00-0af7651916cd43dd8448eb211c80319c-"
			             "b7ad6b7169203331-01");
		} else {
			assert_false(p->_flags &
			             AMQP_BASIC_CORRELATION_ID_FLAG);
			assert_false(p->_flags & AMQP_BASIC_HEADERS_FLAG);
		}
		amqp_destroy_message(&msg);
	}
	{
		amqp_message_t msg;

		assert_false(reader_get(&r, &msg));
	}

	/* a second batch on the same channel: the delivery tags go on */
	assert_int_equal(amqp_publish_batch(c, m, 3, 5000), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(m[i].result, AMQP_ACKED);
	assert_int_equal(amqp_publish_batch(c, m, 0, 5000), 0);
	reader_close(&r);
	amqp_conn_free(c);
}

static void test_unroutable_is_returned(void **state)
{
	struct amqp_outgoing m[3];
	char ids[3][SHOP_UUID_LEN + 1], bound[128], unbound[128];
	struct amqp_conn *c;
	struct reader r;
	amqp_message_t msg;

	(void)state;
	c = live_conn();
	snprintf(bound, sizeof(bound), "%s.bound", key_prefix);
	snprintf(unbound, sizeof(unbound), "%s.unbound", key_prefix);
	reader_open(&r, bound);
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 3; i++) {
		shop_uuid_v4(ids[i]);
		m[i].routing_key = i == 1 ? unbound : bound;
		m[i].message_id = ids[i];
		m[i].body = "{}";
		m[i].len = 2;
	}
	assert_int_equal(amqp_publish_batch(c, m, 3, 5000), 0);
	assert_int_equal(m[0].result, AMQP_ACKED);
	assert_int_equal(m[1].result, AMQP_RETURNED);
	assert_non_null(strstr(m[1].reason, "NO_ROUTE"));
	assert_int_equal(m[2].result, AMQP_ACKED);
	assert_true(amqp_conn_ok(c));

	assert_true(reader_get(&r, &msg));
	assert_bytes(msg.properties.message_id, ids[0]);
	amqp_destroy_message(&msg);
	assert_true(reader_get(&r, &msg));
	assert_bytes(msg.properties.message_id, ids[2]);
	amqp_destroy_message(&msg);
	reader_close(&r);

	/* the connection goes on after a return */
	m[0].routing_key = unbound;
	assert_int_equal(amqp_publish_batch(c, m, 1, 5000), 0);
	assert_int_equal(m[0].result, AMQP_RETURNED);
	amqp_conn_free(c);
}

/* A publish to a missing exchange makes the broker close the channel. */
static void test_channel_error_kills_the_connection(void **state)
{
	struct amqp_outgoing m = {0};
	char id[SHOP_UUID_LEN + 1], exchange[128];
	struct amqp_conn *c;

	(void)state;
	c = live_conn();
	shop_uuid_v4(id);
	snprintf(exchange, sizeof(exchange), "%s.missing", key_prefix);
	m.exchange = exchange;
	m.routing_key = "x";
	m.message_id = id;
	m.body = "{}";
	m.len = 2;
	assert_int_equal(amqp_publish_batch(c, &m, 1, 5000), SHOP_EUNAVAIL);
	assert_int_equal(m.result, AMQP_PENDING);
	assert_false(amqp_conn_ok(c));
	assert_non_null(strstr(amqp_conn_error(c), "404 NOT_FOUND"));
	assert_int_equal(amqp_conn_fd(c), -1);
	assert_int_equal(amqp_publish_batch(c, &m, 1, 5000), SHOP_EUNAVAIL);
	assert_int_equal(m.result, AMQP_NOT_SENT);
	assert_int_equal(amqp_topology_declare(c), SHOP_EUNAVAIL);
	amqp_conn_free(c); /* still closes the connection cleanly */
}

static void test_invalid_message(void **state)
{
	struct amqp_outgoing m = {.routing_key = "x"};

	(void)state;
	/* checked before anything is sent: no connection needed */
	assert_int_equal(amqp_publish_batch(NULL, &m, 1, 1000), SHOP_EINVAL);
}

static int group_setup(void **state)
{
	(void)state;
	slog_init("test_amqp", SLOG_ERROR);
	amqp_url = getenv("SHOP_TEST_AMQP_URL");
	if (amqp_url && !*amqp_url)
		amqp_url = NULL;
	snprintf(key_prefix, sizeof(key_prefix), "test.amqp.%d", (int)getpid());
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_table_matches_definitions),
	        cmocka_unit_test(test_url_check),
	        cmocka_unit_test(test_closed_port_fails_fast),
	        cmocka_unit_test(test_silent_server_times_out),
	        cmocka_unit_test(test_malformed_url),
	        cmocka_unit_test(test_invalid_message),
	        cmocka_unit_test(test_topology_declared_twice),
	        cmocka_unit_test(test_wrong_password_is_refused),
	        cmocka_unit_test(test_publish_confirm_and_read_back),
	        cmocka_unit_test(test_unroutable_is_returned),
	        cmocka_unit_test(test_channel_error_kills_the_connection),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
