/* Tests of shared/src/httpc.c against small HTTP/1.1 servers started here on
 * loopback (plain sockets, one thread each), a closed port, and a server
 * that accepts and never answers. */
#define _GNU_SOURCE /* memmem, strcasestr */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/net.h"

#include "shop/breaker.h"
#include "shop/error.h"
#include "shop/httpc.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
	                      .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static double elapsed_ms(uint64_t since)
{
	return (double)(shop_now_ns() - since) / 1e6;
}

/* ---- a scripted HTTP/1.1 server ---- */

struct answer {
	int status; /* 0: never answer (stall) */
	const char *ctype;
	const char *body;
};

#define MAX_CLIENTS 16
#define BUF_CAP     16384

struct srv {
	int listen_fd;
	int port;
	pthread_t thread;
	atomic_bool stop;
	atomic_int accepts;
	atomic_int requests;

	pthread_mutex_t lock;
	struct answer script[4]; /* answered in order, the last repeated */
	int nscript;
	int next;
	char last_head[4096];
	char last_body[4096];
};

struct client {
	int fd;
	char buf[BUF_CAP];
	size_t len;
};

static char big_body[4097];

static void srv_answer(struct srv *s, int fd, const struct answer *a)
{
	char head[256];
	const char *body = a->body ? a->body : "";
	size_t blen = strlen(body);
	int n;

	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
	             "Content-Length: %zu\r\n\r\n",
	             a->status, a->ctype ? a->ctype : "application/json", blen);
	(void)s;
	if (write(fd, head, (size_t)n) != n)
		return;
	if (blen && write(fd, body, blen) != (ssize_t)blen)
		return;
}

/* Handles every complete request in c->buf. */
static void srv_serve(struct srv *s, struct client *c)
{
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		size_t head_len, body_len = 0, total;
		const char *cl;
		struct answer a;

		if (!end)
			return;
		head_len = (size_t)(end - c->buf) + 4;
		c->buf[head_len - 2] = '\0';
		cl = strcasestr(c->buf, "\r\ncontent-length:");
		if (cl)
			body_len = strtoul(cl + 17, NULL, 10);
		c->buf[head_len - 2] = '\r';
		total = head_len + body_len;
		if (total > c->len)
			return;

		pthread_mutex_lock(&s->lock);
		snprintf(s->last_head, sizeof(s->last_head), "%.*s",
		         (int)head_len, c->buf);
		snprintf(s->last_body, sizeof(s->last_body), "%.*s",
		         (int)body_len, c->buf + head_len);
		a = s->script[s->next < s->nscript ? s->next : s->nscript - 1];
		s->next++;
		pthread_mutex_unlock(&s->lock);
		atomic_fetch_add(&s->requests, 1);
		if (a.status)
			srv_answer(s, c->fd, &a);
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
	}
}

static void *srv_run(void *arg)
{
	struct srv *s = arg;
	struct client *cl = calloc(MAX_CLIENTS, sizeof(*cl));

	assert_non_null(cl);
	for (int i = 0; i < MAX_CLIENTS; i++)
		cl[i].fd = -1;
	while (!atomic_load(&s->stop)) {
		struct pollfd p[MAX_CLIENTS + 1];

		p[0] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
		for (int i = 0; i < MAX_CLIENTS; i++)
			p[i + 1] = (struct pollfd){.fd = cl[i].fd,
			                           .events = POLLIN};
		if (poll(p, MAX_CLIENTS + 1, 10) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			int fd = accept(s->listen_fd, NULL, NULL);
			int i;

			for (i = 0; i < MAX_CLIENTS && cl[i].fd >= 0; i++)
				;
			if (fd >= 0 && i < MAX_CLIENTS) {
				cl[i].fd = fd;
				cl[i].len = 0;
				atomic_fetch_add(&s->accepts, 1);
			} else if (fd >= 0) {
				close(fd);
			}
		}
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &cl[i];
			ssize_t n;

			if (c->fd < 0 ||
			    !(p[i + 1].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(c->fd, c->buf + c->len, BUF_CAP - c->len);
			if (n <= 0) {
				close(c->fd);
				c->fd = -1;
				continue;
			}
			c->len += (size_t)n;
			srv_serve(s, c);
		}
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			close(cl[i].fd);
	free(cl);
	return NULL;
}

static struct srv *srv_start(const struct answer *script, int n)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	struct srv *s = calloc(1, sizeof(*s));
	int one = 1;

	assert_non_null(s);
	pthread_mutex_init(&s->lock, NULL);
	memcpy(s->script, script, sizeof(*script) * (size_t)n);
	s->nscript = n;
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->listen_fd >= 0);
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)),
	                 0);
	assert_int_equal(listen(s->listen_fd, 16), 0);
	assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &len),
	                 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, srv_run, s), 0);
	return s;
}

static void srv_script(struct srv *s, const struct answer *script, int n)
{
	pthread_mutex_lock(&s->lock);
	memcpy(s->script, script, sizeof(*script) * (size_t)n);
	s->nscript = n;
	s->next = 0;
	pthread_mutex_unlock(&s->lock);
}

static void srv_stop(struct srv *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static struct httpc *client_for(int port, struct httpc_options *o)
{
	char url[64];
	struct httpc *c = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	o->name = "product";
	o->base_url = url;
	assert_int_equal(httpc_new(o, &c), 0);
	return c;
}

static int setup(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

/* ---- tests ---- */

static void test_json_answer_and_ids_passed_on(void **state)
{
	static const struct answer a[] = {{200,
	                                   "application/json; charset=utf-8",
	                                   "{\"id\":42,\"name\":\"tea\"}"}};
	static const struct httpc_header fixed[] = {
	        {"Authorization", "Bearer s3cret"}};
	struct srv *s = srv_start(a, 1);
	struct httpc_options o = {.headers = fixed, .nheaders = 1};
	struct httpc *c = client_for(s->port, &o);
	struct httpc_request req = {
	        .method = HTTPC_GET,
	        .path = "/products/42?fields=all",
	        .request_id = "rid-123",
	        .traceparent = "00-0af7651916cd43dd8448eb211c80319c-"
	                       "b7ad6b7169203331-01",
	        .expect_json = true};
	struct httpc_response r = {0};

	(void)state;
	assert_int_equal(httpc_request(c, &req, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	assert_int_equal(json_integer_value(json_object_get(r.json, "id")), 42);
	assert_int_equal(r.body_len, strlen(a[0].body));
	assert_string_equal(r.body, a[0].body);
	assert_string_equal(r.content_type, "application/json; charset=utf-8");
	assert_non_null(strstr(s->last_head,
	                       "GET /products/42?fields=all HTTP/1.1\r\n"));
	assert_non_null(strstr(s->last_head, "\r\nX-Request-ID: rid-123\r\n"));
	assert_non_null(strstr(s->last_head,
	                       "\r\ntraceparent: 00-0af7651916cd43dd8448eb211c8"
	                       "0319c-b7ad6b7169203331-01\r\n"));
	assert_non_null(
	        strstr(s->last_head, "\r\nAuthorization: Bearer s3cret\r\n"));
	assert_true(metric_value(metrics_counter(
	                    "http_client_requests_total", "",
	                    "upstream=\"product\",result=\"2xx\"")) == 1);
	httpc_response_release(&r);
	httpc_response_release(NULL);
	httpc_free(c);
	srv_stop(s);
}

static void test_post_body_arrives(void **state)
{
	static const struct answer a[] = {{201, NULL, "{\"ok\":true}"}};
	struct srv *s = srv_start(a, 1);
	struct httpc_options o = {0};
	struct httpc *c = client_for(s->port, &o);
	json_t *body = json_pack("{s:i,s:s}", "qty", 3, "sku", "T-1");
	struct httpc_request req = {
	        .method = HTTPC_POST, .path = "/reservations", .json = body};
	struct httpc_response r = {0};

	(void)state;
	assert_int_equal(httpc_request(c, &req, &r), 0);
	assert_int_equal(r.status, 201);
	assert_non_null(strstr(s->last_head, "POST /reservations HTTP/1.1"));
	assert_non_null(
	        strstr(s->last_head, "\r\nContent-Type: application/json\r\n"));
	assert_string_equal(s->last_body, "{\"qty\":3,\"sku\":\"T-1\"}");
	httpc_response_release(&r);

	/* Raw bytes with their own content type, on PUT. */
	req = (struct httpc_request){.method = HTTPC_PUT,
	                             .path = "/x",
	                             .body = "a=1",
	                             .body_len = 3,
	                             .content_type = "text/plain"};
	assert_int_equal(httpc_request(c, &req, &r), 0);
	assert_non_null(strstr(s->last_head, "PUT /x HTTP/1.1"));
	assert_non_null(
	        strstr(s->last_head, "\r\nContent-Type: text/plain\r\n"));
	assert_string_equal(s->last_body, "a=1");
	httpc_response_release(&r);
	json_decref(body);
	httpc_free(c);
	srv_stop(s);
}

static void test_404_is_an_answer_not_a_failure(void **state)
{
	static const struct answer a[] = {
	        {404, "application/problem+json",
	         "{\"title\":\"Not Found\",\"status\":404}"}};
	struct srv *s = srv_start(a, 1);
	struct httpc_options o = {.failures_to_open = 2};
	struct httpc *c = client_for(s->port, &o);
	struct httpc_request req = {.method = HTTPC_GET, .path = "/products/9"};

	(void)state;
	for (int i = 0; i < 5; i++) {
		struct httpc_response r = {0};

		assert_int_equal(httpc_request(c, &req, &r), 0);
		assert_int_equal(r.status, 404);
		assert_non_null(r.json); /* +json is JSON */
		httpc_response_release(&r);
	}
	assert_int_equal(httpc_breaker_state(c), BREAKER_CLOSED);
	assert_int_equal(atomic_load(&s->requests), 5); /* never retried */
	httpc_free(c);
	srv_stop(s);
}

static void test_refused_fails_fast_then_breaker_opens(void **state)
{
	struct httpc_options o = {.retries = -1, .failures_to_open = 3};
	struct httpc *c = client_for(support_closed_port(), &o);
	char err[200] = "";
	struct httpc_request req = {.method = HTTPC_GET,
	                            .path = "/products",
	                            .error = err,
	                            .error_cap = sizeof(err)};
	struct httpc_response r = {.status = -1};
	uint64_t t;

	(void)state;
	for (int i = 0; i < 3; i++) {
		t = shop_now_ns();
		assert_int_equal(httpc_request(c, &req, &r), SHOP_EUNAVAIL);
		assert_true(elapsed_ms(t) < 100);
	}
	assert_int_equal(r.status, -1); /* untouched */
	assert_int_equal(httpc_breaker_state(c), BREAKER_OPEN);
	assert_true(metric_value(metrics_gauge("http_client_breaker_state", "",
	                                       "upstream=\"product\"")) == 2);
	t = shop_now_ns();
	assert_int_equal(httpc_request(c, &req, &r), SHOP_EUNAVAIL);
	assert_true(elapsed_ms(t) < 1);
	assert_non_null(strstr(err, "open"));
	assert_true(metric_value(metrics_counter(
	                    "http_client_requests_total", "",
	                    "upstream=\"product\",result=\"breaker_open\"")) ==
	            1);
	httpc_free(c);
}

static void test_open_breaker_sends_nothing_then_probe_closes(void **state)
{
	static const struct answer down[] = {{503, NULL, "{}"}};
	static const struct answer up[] = {{200, NULL, "{}"}};
	struct srv *s = srv_start(down, 1);
	struct httpc_options o = {.failures_to_open = 3, .open_ms = 200};
	struct httpc *c = client_for(s->port, &o);
	struct httpc_request req = {.method = HTTPC_POST, .path = "/orders"};
	struct httpc_response r = {0};

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(httpc_request(c, &req, &r), 0);
		assert_int_equal(r.status, 503);
		httpc_response_release(&r);
	}
	assert_int_equal(httpc_breaker_state(c), BREAKER_OPEN);
	assert_int_equal(httpc_request(c, &req, &r), SHOP_EUNAVAIL);
	assert_int_equal(atomic_load(&s->requests), 3); /* nothing sent */

	srv_script(s, up, 1);
	sleep_ms(250);
	assert_int_equal(httpc_request(c, &req, &r), 0); /* the probe */
	assert_int_equal(r.status, 200);
	httpc_response_release(&r);
	assert_int_equal(httpc_breaker_state(c), BREAKER_CLOSED);
	assert_int_equal(atomic_load(&s->requests), 4);
	httpc_free(c);
	srv_stop(s);
}

static void test_stalled_server_times_out(void **state)
{
	static const struct answer stall[] = {{0, NULL, NULL}};
	struct srv *s = srv_start(stall, 1);
	struct httpc_options o = {.timeout_ms = 300};
	struct httpc *c = client_for(s->port, &o);
	char err[200] = "";
	struct httpc_request req = {.method = HTTPC_GET,
	                            .path = "/slow",
	                            .error = err,
	                            .error_cap = sizeof(err)};
	struct httpc_response r = {0};
	uint64_t t = shop_now_ns();
	double ms;

	(void)state;
	assert_int_equal(httpc_request(c, &req, &r), SHOP_ETIMEDOUT);
	ms = elapsed_ms(t);
	/* libcurl's timer may fire a fraction of a millisecond early
	 * (seen: 299.8 ms), hence 290 rather than 300. */
	if (ms < 290 || ms > 600)
		fprintf(stderr, "elapsed %.1f ms: %s\n", ms, err);
	assert_true(ms >= 290 && ms <= 600);
	assert_true(err[0] != '\0');
	httpc_free(c);
	srv_stop(s);
}

static void test_get_retried_after_503(void **state)
{
	static const struct answer a[] = {{503, NULL, "{}"},
	                                  {200, NULL, "{\"n\":1}"}};
	struct srv *s = srv_start(a, 2);
	struct httpc_options o = {0};
	struct httpc *c = client_for(s->port, &o);
	struct httpc_request req = {.method = HTTPC_GET, .path = "/p"};
	struct httpc_response r = {0};

	(void)state;
	assert_int_equal(httpc_request(c, &req, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(atomic_load(&s->requests), 2);
	assert_true(metric_value(metrics_counter("http_client_retries_total",
	                                         "", "upstream=\"product\"")) ==
	            1);
	httpc_response_release(&r);
	httpc_free(c);
	srv_stop(s);
}

static void test_post_not_retried_after_503(void **state)
{
	static const struct answer a[] = {{503, NULL, "{}"}, {200, NULL, "{}"}};
	struct srv *s = srv_start(a, 2);
	struct httpc_options o = {0};
	struct httpc *c = client_for(s->port, &o);
	struct httpc_request req = {.method = HTTPC_POST, .path = "/orders"};
	struct httpc_response r = {0};

	(void)state;
	assert_int_equal(httpc_request(c, &req, &r), 0);
	assert_int_equal(r.status, 503);
	assert_int_equal(atomic_load(&s->requests), 1);
	httpc_response_release(&r);

	/* Unless the caller says the POST is idempotent. */
	srv_script(s, a, 2);
	req.idempotent = true;
	assert_int_equal(httpc_request(c, &req, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(atomic_load(&s->requests), 3);
	httpc_response_release(&r);
	httpc_free(c);
	srv_stop(s);
}

static void test_bad_answers_are_einval(void **state)
{
	static const struct answer big[] = {{200, "text/plain", big_body}};
	static const struct answer bad_json[] = {{200, NULL, "{\"a\":"}};
	static const struct answer text[] = {{200, "text/html", "<p>hi"}};
	struct srv *s = srv_start(big, 1);
	struct httpc_options o = {.max_response_bytes = 1024};
	struct httpc *c = client_for(s->port, &o);
	char err[200] = "";
	struct httpc_request req = {.method = HTTPC_GET,
	                            .path = "/p",
	                            .error = err,
	                            .error_cap = sizeof(err)};
	struct httpc_response r = {0};

	(void)state;
	assert_int_equal(httpc_request(c, &req, &r), SHOP_EINVAL);
	assert_non_null(strstr(err, "larger than 1024 bytes"));

	srv_script(s, bad_json, 1);
	assert_int_equal(httpc_request(c, &req, &r), SHOP_EINVAL);
	assert_non_null(strstr(err, "invalid JSON"));

	srv_script(s, text, 1);
	assert_int_equal(httpc_request(c, &req, &r), 0); /* not asked for */
	assert_null(r.json);
	assert_string_equal(r.body, "<p>hi");
	httpc_response_release(&r);
	req.expect_json = true;
	assert_int_equal(httpc_request(c, &req, &r), SHOP_EINVAL);
	assert_non_null(strstr(err, "expected a JSON body"));
	/* The upstream answered each time: the breaker stays closed. */
	assert_int_equal(httpc_breaker_state(c), BREAKER_CLOSED);
	httpc_free(c);
	srv_stop(s);
}

static void test_bad_requests_are_einval(void **state)
{
	static const struct httpc_header evil[] = {{"X-A", "a\r\nX-B: b"}};
	struct httpc_options o = {.retries = -1};
	struct httpc *c = client_for(support_closed_port(), &o);
	struct httpc_request req = {.method = HTTPC_GET, .path = "no-slash"};
	struct httpc_response r = {0};
	struct httpc *bad = NULL;
	struct httpc_options bo = {.name = "x", .base_url = "ftp://h/"};

	(void)state;
	assert_int_equal(httpc_request(c, &req, &r), SHOP_EINVAL);
	req.path = "/a b";
	assert_int_equal(httpc_request(c, &req, &r), SHOP_EINVAL);
	req.path = "/ok";
	req.headers = evil;
	req.nheaders = 1;
	assert_int_equal(httpc_request(c, &req, &r), SHOP_EINVAL);
	req.nheaders = 0;
	req.request_id = "x\ny";
	assert_int_equal(httpc_request(c, &req, &r), SHOP_EINVAL);
	req.request_id = NULL;
	req.body = "x";
	req.body_len = 1;
	assert_int_equal(httpc_request(c, &req, &r), SHOP_EINVAL); /* GET */
	assert_int_equal(httpc_breaker_state(c), BREAKER_CLOSED);
	httpc_free(c);

	assert_int_equal(httpc_new(&bo, &bad), SHOP_EINVAL);
	bo.base_url = "http://h";
	bo.headers = evil;
	bo.nheaders = 1;
	assert_int_equal(httpc_new(&bo, &bad), SHOP_EINVAL);
	assert_null(bad);
	httpc_free(NULL);
}

static void test_sequential_calls_reuse_one_connection(void **state)
{
	static const struct answer a[] = {{200, NULL, "{}"}};
	struct srv *s = srv_start(a, 1);
	struct httpc_options o = {0};
	struct httpc *c = client_for(s->port, &o);
	struct httpc_request req = {.method = HTTPC_GET, .path = "/p"};
	struct httpc_response r = {0};

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(httpc_request(c, &req, &r), 0);
		httpc_response_release(&r);
	}
	assert_int_equal(atomic_load(&s->requests), 3);
	assert_int_equal(atomic_load(&s->accepts), 1);
	httpc_free(c);
	srv_stop(s);
}

struct worker {
	struct httpc *c;
	int ok;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 25; i++) {
		struct httpc_request req = {.method = HTTPC_GET, .path = "/p"};
		struct httpc_response r = {0};

		if (httpc_request(w->c, &req, &r) == 0 && r.status == 200)
			w->ok++;
		httpc_response_release(&r);
	}
	return NULL;
}

static void test_concurrent_calls(void **state)
{
	static const struct answer a[] = {{200, NULL, "{\"x\":1}"}};
	struct srv *s = srv_start(a, 1);
	struct httpc_options o = {.max_idle_handles = 2};
	struct httpc *c = client_for(s->port, &o);
	pthread_t t[4];
	struct worker w[4] = {{0}};

	(void)state;
	for (int i = 0; i < 4; i++) {
		w[i].c = c;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]),
		                 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].ok, 25);
	}
	assert_int_equal(atomic_load(&s->requests), 100);
	assert_true(atomic_load(&s->accepts) <= 8);
	httpc_free(c);
	srv_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_json_answer_and_ids_passed_on,
	                               setup),
	        cmocka_unit_test_setup(test_post_body_arrives, setup),
	        cmocka_unit_test_setup(test_404_is_an_answer_not_a_failure,
	                               setup),
	        cmocka_unit_test_setup(
	                test_refused_fails_fast_then_breaker_opens, setup),
	        cmocka_unit_test_setup(
	                test_open_breaker_sends_nothing_then_probe_closes,
	                setup),
	        cmocka_unit_test_setup(test_stalled_server_times_out, setup),
	        cmocka_unit_test_setup(test_get_retried_after_503, setup),
	        cmocka_unit_test_setup(test_post_not_retried_after_503, setup),
	        cmocka_unit_test_setup(test_bad_answers_are_einval, setup),
	        cmocka_unit_test_setup(test_bad_requests_are_einval, setup),
	        cmocka_unit_test_setup(
	                test_sequential_calls_reuse_one_connection, setup),
	        cmocka_unit_test_setup(test_concurrent_calls, setup),
	};

	memset(big_body, 'a', sizeof(big_body) - 1);
	signal(SIGPIPE, SIG_IGN);
	slog_init("test_httpc", SLOG_ERROR);
	assert_int_equal(httpc_global_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
