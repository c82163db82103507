#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "shop/error.h"
#include "shop/http.h"
#include "shop/log.h"
#include "shop/util.h"

#include "curl_client.h"

/* ---- the application under test ---- */

static atomic_int slow_entered, slow_done;

static void h_item(struct http_request *req)
{
	http_add_header(req, "X-Extra", "yes");
	http_respond_json(req, 200,
	                  json_pack("{s:s, s:s, s:s?}", "id", req->params[0],
	                            "rid", req->request_id, "custom",
	                            http_header(req, "x-custom")));
}

static void h_create(struct http_request *req)
{
	json_t *name = json_object_get(req->json, "name");

	http_respond_json(req, 201,
	                  json_pack("{s:O?, s:I, s:b}", "name", name, "len",
	                            (json_int_t)req->body_len, "terminated",
	                            req->body[req->body_len] == '\0'));
}

static void h_empty(struct http_request *req)
{
	http_respond_empty(req, 204);
}

static void h_silent(struct http_request *req)
{
	(void)req;
}

static void h_me(struct http_request *req)
{
	http_respond_json(req, 200,
	                  json_pack("{s:s}", "sub", req->principal->sub));
}

static int count_args(void *arg, const char *key, const char *value)
{
	json_t *keys = arg;

	(void)value;
	json_array_append_new(keys, json_string(key));
	return 0;
}

static void h_query(struct http_request *req)
{
	json_t *keys = json_array();

	http_query_each(req, count_args, keys);
	http_respond_json(req, 200,
	                  json_pack("{s:s?, s:s?, s:s?, s:s?, s:o}", "flag",
	                            http_query(req, "flag"), "q",
	                            http_query(req, "q"), "e",
	                            http_query(req, "e"), "missing",
	                            http_query(req, "missing"), "keys", keys));
}

/* /error/<shop_err code>; 0 answers a validation failure. */
static void h_error(struct http_request *req)
{
	struct field_errors errs;
	long code = 0;

	shop_parse_long(req->params[0], -100, 0, &code);
	if (code) {
		http_respond_error(req, (int)code, "secret internals");
		return;
	}
	field_errors_init(&errs);
	field_errors_add(&errs, "price", "must be positive");
	http_respond_invalid(req, "check the fields", &errs);
}

/* A 503 whose handler says its own Retry-After. */
static void h_busy(struct http_request *req)
{
	http_add_header(req, "Retry-After", "5");
	http_respond_error(req, SHOP_EUNAVAIL, NULL);
}

static void h_slow(struct http_request *req)
{
	struct timespec ts = {0, 400 * 1000 * 1000};

	atomic_store(&slow_entered, 1);
	nanosleep(&ts, NULL);
	atomic_store(&slow_done, 1);
	http_respond_raw(req, 200, "text/plain", "slow", 4);
}

static const struct http_route routes[] = {
        {"GET", "/items/{id}", h_item, 0},
        {"DELETE", "/items/{id}", h_empty, 0},
        {"POST", "/items", h_create, HTTP_JSON_BODY},
        {"GET", "/me", h_me, HTTP_AUTH},
        {"GET", "/admin", h_me, HTTP_ADMIN},
        {"GET", "/internal/items/{id}", h_item, HTTP_INTERNAL},
        {"GET", "/query", h_query, 0},
        {"GET", "/error/{kind}", h_error, 0},
        {"GET", "/silent", h_silent, 0},
        {"GET", "/busy", h_busy, 0},
        {"GET", "/slow", h_slow, 0},
};

static int fake_auth(void *ctx, const char *token, struct http_principal *out)
{
	(void)ctx;
	if (strcmp(token, "user-token") != 0 &&
	    strcmp(token, "admin-token") != 0)
		return SHOP_EAUTH;
	snprintf(out->sub, sizeof(out->sub), "%s", token);
	out->is_admin = token[0] == 'a';
	return 0;
}

static int ready_ok = 1;

static int fake_ready(void *ctx, json_t *checks)
{
	int ok = *(int *)ctx;

	json_object_set_new(checks, "db",
	                    json_string(ok ? "ok" : "connection refused"));
	return ok ? 0 : SHOP_EUNAVAIL;
}

static struct http_server *start(void)
{
	struct http_server_config cfg = {
	        .service = "test-http",
	        .address = "127.0.0.1",
	        .port = 0,
	        .threads = 2,
	        .max_body = 1024,
	        .routes = routes,
	        .nroutes = sizeof(routes) / sizeof(*routes),
	        .authenticate = fake_auth,
	        .internal_token = "s3cret-internal-token",
	        .ready = fake_ready,
	        .ready_ctx = &ready_ok,
	};

	return http_server_start(&cfg);
}

/* ---- driving it with libcurl ---- */

static struct http_server *server;
static CURL *curl;
static struct cc_reply r; /* the last answer; the next call releases it */

static void call(const struct cc_call *in)
{
	CURLcode rc;

	cc_reply_release(&r);
	rc = cc_request(curl, http_server_port(server), in, &r);
	if (rc != CURLE_OK)
		fail_msg("%s %s: %s", in->method, in->path,
		         curl_easy_strerror(rc));
}

/* CALL("GET", "/path", .body = ..., .chunked = ..., .headers = {...}) */
#define CALL(m, p, ...)                                                        \
	call(&(struct cc_call){.method = (m), .path = (p), __VA_ARGS__})

/* A response header of the last answer, or NULL. */
static const char *hdr(const char *name)
{
	static char buf[512];

	return cc_header(&r, name, buf, sizeof(buf));
}

static const char *jstr(const char *key)
{
	return cc_json_string(&r, key);
}

/* The last answer is a problem+json document of this status and type. */
static void assert_problem(long status, const char *type)
{
	char want[96];

	assert_int_equal(r.status, status);
	assert_non_null(hdr("Content-Type"));
	assert_string_equal(hdr("Content-Type"), "application/problem+json");
	if (!r.json)
		fail_msg("problem body is not JSON: %s", r.body ? r.body : "");
	snprintf(want, sizeof(want), "/problems/%s", type);
	assert_string_equal(jstr("type"), want);
	assert_string_equal(jstr("title"), http_status_title((unsigned)status));
	assert_int_equal(json_integer_value(json_object_get(r.json, "status")),
	                 status);
	assert_true(jstr("detail") && strlen(jstr("detail")) > 0);
	assert_non_null(hdr("X-Request-ID"));
}

static int group_setup(void **state)
{
	(void)state;
	slog_init("test-http", SLOG_WARN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	server = start();
	return curl && server ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	cc_reply_release(&r);
	http_server_free(server, 1000);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return 0;
}

/* ---- routing, built-in endpoints, request ids ---- */

static void test_json_route_with_param(void **state)
{
	(void)state;
	CALL("GET", "/items/a%20b", .headers = {"X-Custom: hello"});
	assert_int_equal(r.status, 200);
	assert_string_equal(hdr("Content-Type"), "application/json");
	assert_string_equal(hdr("X-Extra"), "yes");
	assert_string_equal(jstr("id"), "a b");
	assert_string_equal(jstr("custom"), "hello");
	CALL("DELETE", "/items/1");
	assert_int_equal(r.status, 204);
	assert_int_equal(r.len, 0);
}

static void test_not_found_and_not_allowed(void **state)
{
	(void)state;
	CALL("GET", "/nope");
	assert_problem(404, "not-found");
	CALL("GET", "/items/1/");
	assert_problem(404, "not-found");
	CALL("PUT", "/items/1");
	assert_problem(405, "method-not-allowed");
	assert_string_equal(hdr("Allow"), "GET, DELETE");
	CALL("GET", "/items");
	assert_problem(405, "method-not-allowed");
	assert_string_equal(hdr("Allow"), "POST");
}

static const char *check_of_db(void)
{
	return json_string_value(
	        json_object_get(json_object_get(r.json, "checks"), "db"));
}

static void test_health_and_ready(void **state)
{
	(void)state;
	CALL("GET", "/health");
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr("status"), "ok");
	assert_string_equal(jstr("service"), "test-http");
	assert_string_equal(jstr("version"), SHOP_VERSION);
	CALL("GET", "/ready");
	assert_int_equal(r.status, 200);
	assert_string_equal(check_of_db(), "ok");
	ready_ok = 0;
	CALL("GET", "/ready");
	ready_ok = 1;
	assert_int_equal(r.status, 503);
	assert_string_equal(check_of_db(), "connection refused");
}

static void test_metrics_endpoint(void **state)
{
	(void)state;
	/* A method no route knows must not break the exposition format. */
	CALL("GE\"T", "/items/1");
	CALL("GET", "/items/1");
	/* Same keep-alive connection: the requests above have completed. */
	CALL("GET", "/metrics");
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(hdr("Content-Type"), "text/plain"));
	assert_non_null(strstr(r.body, "# TYPE http_requests_total counter"));
	assert_non_null(strstr(r.body,
	                       "http_requests_total{route=\"/items/{id}\","
	                       "method=\"GET\",status=\"200\"} "));
	assert_non_null(
	        strstr(r.body, "http_request_duration_seconds_bucket{"));
	assert_null(strstr(r.body, "GE\"T"));
	assert_non_null(strstr(r.body, "method=\"other\",status=\"405\"} "));
}

static void test_request_id(void **state)
{
	char long_id[201], h[300];
	const char *bad[] = {NULL, long_id, "has space", "semi;colon"};

	(void)state;
	CALL("GET", "/items/1", .headers = {"X-Request-ID: abc-123.x_y"});
	assert_string_equal(hdr("X-Request-ID"), "abc-123.x_y");
	assert_string_equal(jstr("rid"), "abc-123.x_y");
	memset(long_id, 'a', 200);
	long_id[200] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(h, sizeof(h), "X-Request-ID: %s",
		         bad[i] ? bad[i] : "");
		CALL("GET", "/items/1", .headers = {bad[i] ? h : NULL});
		/* A fresh UUID replaces an absent or invalid id. */
		if (!hdr("X-Request-ID") ||
		    !shop_uuid_valid(hdr("X-Request-ID")))
			fail_msg("'%s' gave request id '%s'", h,
			         hdr("X-Request-ID"));
		assert_string_equal(jstr("rid"), hdr("X-Request-ID"));
	}
}

/* ---- JSON bodies ---- */

#define JSON_CT "Content-Type: application/json"

static void test_json_body_accepted(void **state)
{
	char body[1025];

	(void)state;
	CALL("POST", "/items", .body = "{\"name\": \"widget\"}",
	     .headers = {JSON_CT});
	assert_int_equal(r.status, 201);
	assert_string_equal(jstr("name"), "widget");
	assert_int_equal(json_integer_value(json_object_get(r.json, "len")),
	                 18);
	assert_true(json_is_true(json_object_get(r.json, "terminated")));
	CALL("POST", "/items", .body = "{\"name\": \"chunked\"}",
	     .chunked = true,
	     .headers = {"Content-Type: application/json; charset=utf-8"});
	assert_int_equal(r.status, 201);
	assert_string_equal(jstr("name"), "chunked");
	/* Exactly max_body bytes is still accepted, either way. */
	memset(body, ' ', 1024);
	memcpy(body, "{}", 2);
	body[1024] = '\0';
	CALL("POST", "/items", .body = body, .headers = {JSON_CT});
	assert_int_equal(r.status, 201);
	CALL("POST", "/items", .body = body, .chunked = true,
	     .headers = {JSON_CT});
	assert_int_equal(r.status, 201);
}

static void test_json_body_rejected(void **state)
{
	static const struct {
		const char *body, *ct;
		long status;
		const char *type, *detail;
	} cases[] = {
	        {"{}", "Content-Type: text/plain", 415,
	         "unsupported-media-type", "application/json"},
	        {"{}", "Content-Type: application/jsonx", 415,
	         "unsupported-media-type", NULL},
	        {"{}", NULL, 415, "unsupported-media-type", NULL},
	        {"{\"name\": ", JSON_CT, 400, "bad-request", "line 1"},
	        {"{\"a\": 1} x", JSON_CT, 400, "bad-request", "malformed JSON"},
	        {"[1, 2]", JSON_CT, 400, "validation-error", "object"},
	        {"{\"a\": 1, \"a\": 2}", JSON_CT, 400, "bad-request",
	         "duplicate"},
	        {"", JSON_CT, 400, "bad-request", "empty"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CALL("POST", "/items", .body = cases[i].body,
		     .headers = {cases[i].ct});
		assert_problem(cases[i].status, cases[i].type);
		if (cases[i].detail && !strstr(jstr("detail"), cases[i].detail))
			fail_msg("case %zu: detail '%s'", i, jstr("detail"));
	}
	CALL("POST", "/items", .body = "[]", .headers = {JSON_CT});
	assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 1);
}

static void test_body_too_large(void **state)
{
	char big[1026];
	static char huge[300000];

	(void)state;
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big, "{}", 2);
	big[sizeof(big) - 1] = '\0';
	memset(huge, ' ', sizeof(huge) - 1);
	/* Content-Length known up front (with and without "Expect:
	 * 100-continue"), or only known once the chunks have come. */
	const struct cc_call calls[] = {
	        {"POST", "/items", big, false, {JSON_CT}},
	        {"POST", "/items", big, false, {JSON_CT, "Expect:"}},
	        {"POST", "/items", big, true, {JSON_CT}},
	        {"POST", "/items", huge, false, {JSON_CT, "Expect:"}},
	        {"POST", "/items", huge, true, {JSON_CT}},
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(*calls); i++) {
		call(&calls[i]);
		assert_problem(413, "payload-too-large");
		assert_non_null(strstr(jstr("detail"), "1024 bytes"));
	}
	/* The server still answers afterwards. */
	CALL("POST", "/items", .body = "{\"name\": \"after\"}", .chunked = true,
	     .headers = {JSON_CT});
	assert_int_equal(r.status, 201);
}

/* ---- auth, query, errors ---- */

static void test_auth(void **state)
{
	(void)state;
	CALL("GET", "/me");
	assert_problem(401, "unauthorized");
	assert_string_equal(hdr("WWW-Authenticate"), "Bearer");
	CALL("GET", "/me", .headers = {"Authorization: Basic dXNlcjpwdw=="});
	assert_problem(401, "unauthorized");
	CALL("GET", "/me", .headers = {"Authorization: Bearer "});
	assert_problem(401, "unauthorized");
	CALL("GET", "/me", .headers = {"Authorization: Bearer forged"});
	assert_problem(401, "unauthorized");
	assert_non_null(strstr(hdr("WWW-Authenticate"), "invalid_token"));
	CALL("GET", "/me", .headers = {"Authorization: Bearer user-token"});
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr("sub"), "user-token");
	CALL("GET", "/admin", .headers = {"Authorization: Bearer user-token"});
	assert_problem(403, "forbidden");
	CALL("GET", "/admin", .headers = {"Authorization: Bearer admin-token"});
	assert_int_equal(r.status, 200);
}

static void test_internal_token(void **state)
{
	(void)state;
	CALL("GET", "/internal/items/7");
	assert_problem(401, "unauthorized");
	CALL("GET", "/internal/items/7",
	     .headers = {"X-Internal-Token: s3cret-internal-tokem"});
	assert_problem(401, "unauthorized");
	CALL("GET", "/internal/items/7",
	     .headers = {"X-Internal-Token: s3cret-internal-token-and-more"});
	assert_problem(401, "unauthorized");
	CALL("GET", "/internal/items/7",
	     .headers = {"X-Internal-Token: s3cret"});
	assert_problem(401, "unauthorized");
	/* A user's bearer token is not the service token. */
	CALL("GET", "/internal/items/7",
	     .headers = {"Authorization: Bearer admin-token"});
	assert_problem(401, "unauthorized");
	CALL("GET", "/internal/items/7",
	     .headers = {"X-Internal-Token: s3cret-internal-token"});
	assert_int_equal(r.status, 200);
}

static void test_query(void **state)
{
	json_t *keys;

	(void)state;
	CALL("GET", "/query?flag&q=a%20b+c%2B&e=&x=1&x=2");
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr("flag"), "");
	assert_string_equal(jstr("q"), "a b c+");
	assert_string_equal(jstr("e"), "");
	assert_true(json_is_null(json_object_get(r.json, "missing")));
	keys = json_object_get(r.json, "keys");
	assert_int_equal(json_array_size(keys), 5);
	assert_string_equal(json_string_value(json_array_get(keys, 0)), "flag");
	assert_string_equal(json_string_value(json_array_get(keys, 4)), "x");
}

static void test_error_mapping(void **state)
{
	static const struct {
		const char *path;
		long status;
		const char *type;
	} cases[] = {
	        {"/error/-4", 404, "not-found"},           /* SHOP_ENOTFOUND */
	        {"/error/-5", 409, "conflict"},            /* SHOP_ECONFLICT */
	        {"/error/-6", 503, "service-unavailable"}, /* SHOP_EUNAVAIL */
	        {"/error/-7", 503, "service-unavailable"}, /* SHOP_ETIMEDOUT */
	        {"/error/-8", 403, "forbidden"},           /* SHOP_EFORBIDDEN */
	        {"/error/-3", 400, "bad-request"},         /* SHOP_EINVAL */
	        {"/error/-1", 500, "internal"},            /* SHOP_ERR */
	        {"/error/-2", 500, "internal"},            /* SHOP_ENOMEM */
	        {"/silent", 500, "internal"}, /* the handler did not respond */
	};
	json_t *e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CALL("GET", cases[i].path);
		assert_problem(cases[i].status, cases[i].type);
		/* a 503 says when to try again, once */
		if (cases[i].status == 503) {
			const char *ra =
			        strstr(r.headers, "\nRetry-After: 1\r");

			assert_non_null(ra);
			assert_null(strstr(ra + 1, "\nRetry-After:"));
		} else {
			assert_null(strstr(r.headers, "Retry-After"));
		}
		/* A 500 never leaks what went wrong inside. */
		if (cases[i].status == 500)
			assert_null(strstr(r.body, "secret"));
	}
	/* the handler's own Retry-After is kept, and not doubled */
	CALL("GET", "/busy");
	assert_problem(503, "service-unavailable");
	assert_non_null(strstr(r.headers, "\nRetry-After: 5\r"));
	assert_null(strstr(r.headers, "Retry-After: 1"));
	CALL("GET", "/error/0");
	assert_problem(400, "validation-error");
	e = json_array_get(json_object_get(r.json, "errors"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "field")),
	                    "price");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	                    "must be positive");
}

/* ---- graceful stop ---- */

struct slow_call {
	int port;
	CURLcode rc;
	struct cc_reply reply;
};

static void *slow_client(void *arg)
{
	struct slow_call *c = arg;
	CURL *own = curl_easy_init();

	c->rc = cc_request(own, c->port,
	                   &(struct cc_call){.method = "GET", .path = "/slow"},
	                   &c->reply);
	curl_easy_cleanup(own);
	return NULL;
}

static void test_graceful_stop(void **state)
{
	struct http_server *s = start();
	struct slow_call c = {.port = s ? http_server_port(s) : 0};
	pthread_t t;

	(void)state;
	assert_non_null(s);
	assert_int_equal(pthread_create(&t, NULL, slow_client, &c), 0);
	while (!atomic_load(&slow_entered)) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	/* Returns only once the request in flight has been answered. */
	http_server_free(s, 5000);
	assert_true(atomic_load(&slow_done));
	pthread_join(t, NULL);
	assert_int_equal(c.rc, CURLE_OK);
	assert_int_equal(c.reply.status, 200);
	assert_string_equal(c.reply.body, "slow");
	cc_reply_release(&c.reply);
	http_server_free(NULL, 0);
}

static void test_env_read(void **state)
{
	static const char *const vars[] = {"HTTP_ADDRESS",
	                                   "HTTP_PORT",
	                                   "HTTP_THREADS",
	                                   "HTTP_THREAD_PER_CONNECTION",
	                                   "HTTP_MAX_CONNECTIONS",
	                                   "HTTP_PER_IP_CONNECTIONS",
	                                   "HTTP_TIMEOUT_S",
	                                   "HTTP_MAX_BODY_BYTES",
	                                   "HTTP_CONNECTION_MEMORY_BYTES"};
	struct http_env env;
	struct http_server_config cfg = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++)
		unsetenv(vars[i]);
	assert_int_equal(http_env_read(8123, 64, &env), 0);
	assert_string_equal(env.address, "0.0.0.0");
	assert_int_equal(env.port, 8123);
	assert_int_equal(env.threads, 0);
	assert_false(env.thread_per_connection);
	assert_int_equal(env.max_connections, 1024);
	assert_int_equal(env.per_ip_connections, 0);
	assert_int_equal(env.timeout_s, 30);
	assert_int_equal(env.max_body, 1024 * 1024);
	assert_int_equal(env.connection_memory, 32 * 1024);

	setenv("HTTP_PORT", "9001", 1);
	setenv("HTTP_MAX_BODY_BYTES", "2048", 1);
	assert_int_equal(http_env_read(8123, 64, &env), 0);
	http_env_apply(&env, 3, &cfg);
	assert_int_equal(cfg.port, 9001);
	assert_int_equal(cfg.threads, 3);
	assert_int_equal(cfg.max_body, 2048);
	assert_int_equal(cfg.timeout_s, 30);

	setenv("HTTP_THREADS", "65", 1); /* above max_threads */
	assert_int_equal(http_env_read(8123, 64, &env), SHOP_EINVAL);
	setenv("HTTP_THREADS", "64", 1);
	setenv("HTTP_TIMEOUT_S", "0", 1);
	assert_int_equal(http_env_read(8123, 64, &env), SHOP_EINVAL);
	for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++)
		unsetenv(vars[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_json_route_with_param),
	        cmocka_unit_test(test_not_found_and_not_allowed),
	        cmocka_unit_test(test_health_and_ready),
	        cmocka_unit_test(test_metrics_endpoint),
	        cmocka_unit_test(test_request_id),
	        cmocka_unit_test(test_json_body_accepted),
	        cmocka_unit_test(test_json_body_rejected),
	        cmocka_unit_test(test_body_too_large),
	        cmocka_unit_test(test_auth),
	        cmocka_unit_test(test_internal_token),
	        cmocka_unit_test(test_query),
	        cmocka_unit_test(test_error_mapping),
	        cmocka_unit_test(test_graceful_stop),
	        cmocka_unit_test(test_env_read),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
