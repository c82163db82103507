/*
 * The upstream pool against a scripted upstream on a loopback socket, driven
 * from this one thread: the test plays the server (blocking accept/recv/
 * send with timeouts) and pumps the pool's epoll set in between.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "upstream_pool.h"

#include "shop/util.h"
#include "support/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct env {
	struct upstream_set set;
	int listen_fd;
	int port;
	int listen2_fd; /* the second address's, or -1 */
	int port2;
	int epfd;
	struct upstream_pool *pool;
	struct gbuf head, body;
	struct exchange ex;
	int done;
};

static struct env *E;

static void on_done(struct exchange *ex)
{
	(void)ex;
	E->done++;
}

static int setup(void **state)
{
	static struct env env;
	char list[64];

	memset(&env, 0, sizeof(env));
	E = &env;
	env.listen2_fd = -1;
	env.listen_fd = support_listen_loopback(&env.port);
	if (env.listen_fd < 0)
		return -1;
	upstream_set_init(&env.set);
	snprintf(list, sizeof(list), "127.0.0.1:%d", env.port);
	if (upstream_set_add_list(&env.set, SVC_PRODUCT, "PRODUCT_UPSTREAMS",
	                          list) < 0)
		return -1;
	env.epfd = epoll_create1(EPOLL_CLOEXEC);
	env.pool = upstream_pool_new(&env.set, env.epfd, 200, 300, 10000, 8,
	                             1 << 20);
	gbuf_init(&env.head);
	gbuf_init(&env.body);
	gbuf_init(&env.ex.resp);
	*state = &env;
	return 0;
}

/* Two addresses for the product service, each with its listener; a
 * cool-down of 1 s unless a test sets another. */
static int setup_two(void **state)
{
	static struct env env;
	char list[64];

	memset(&env, 0, sizeof(env));
	E = &env;
	env.listen_fd = support_listen_loopback(&env.port);
	env.listen2_fd = support_listen_loopback(&env.port2);
	if (env.listen_fd < 0 || env.listen2_fd < 0)
		return -1;
	upstream_set_init(&env.set);
	env.set.cooldown_ns = 1000000000u;
	snprintf(list, sizeof(list), "127.0.0.1:%d,127.0.0.1:%d", env.port,
	         env.port2);
	if (upstream_set_add_list(&env.set, SVC_PRODUCT, "PRODUCT_UPSTREAMS",
	                          list) < 0)
		return -1;
	env.epfd = epoll_create1(EPOLL_CLOEXEC);
	env.pool = upstream_pool_new(&env.set, env.epfd, 200, 300, 10000, 8,
	                             1 << 20);
	gbuf_init(&env.head);
	gbuf_init(&env.body);
	gbuf_init(&env.ex.resp);
	*state = &env;
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;

	upstream_pool_free(env->pool);
	close(env->epfd);
	close(env->listen_fd);
	if (env->listen2_fd >= 0)
		close(env->listen2_fd);
	gbuf_release(&env->head);
	gbuf_release(&env->body);
	gbuf_release(&env->ex.resp);
	return 0;
}

/* Runs the pool's events and deadlines for up to ms. */
static void pump(struct env *env, int ms)
{
	uint64_t end = shop_now_ns() + (uint64_t)ms * 1000000u;

	for (;;) {
		struct epoll_event evs[16];
		uint64_t now = shop_now_ns();
		int n;

		if (now >= end)
			break;
		n = epoll_wait(env->epfd, evs, 16,
		               (int)((end - now) / 1000000u) + 1);
		for (int i = 0; i < n; i++)
			upstream_pool_event(env->pool, evs[i].data.ptr,
			                    evs[i].events);
		upstream_pool_expire(env->pool, shop_now_ns());
		if (env->done)
			break;
	}
}

static void start(struct env *env, const char *method, const char *body,
                  int expect)
{
	env->head.len = 0;
	gbuf_puts(&env->head, method);
	gbuf_puts(&env->head, " /api/products/1 HTTP/1.1\r\nHost: t\r\n");
	env->body.len = 0;
	if (body) {
		char cl[64];

		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n",
		         strlen(body));
		gbuf_puts(&env->head, cl);
		gbuf_puts(&env->body, body);
	}
	gbuf_puts(&env->head, "\r\n");
	env->ex.service = SVC_PRODUCT;
	env->ex.head = &env->head;
	env->ex.body = &env->body;
	env->ex.idempotent = strcmp(method, "GET") == 0;
	env->ex.no_body = false;
	env->ex.done = on_done;
	env->done = 0;
	assert_int_equal(upstream_pool_start(env->pool, &env->ex), expect);
}

static int accept_one(struct env *env)
{
	struct pollfd p = {.fd = env->listen_fd, .events = POLLIN};

	/* the pool may have to run before it connects (a retry) */
	for (int i = 0; i < 200; i++) {
		if (poll(&p, 1, 0) == 1)
			return accept(env->listen_fd, NULL, NULL);
		pump(env, 5);
	}
	fail_msg("no connection arrived");
	return -1;
}

/* Accepts the next connection on either listener; *which says whose
 * (0: the first address, 1: the second). */
static int accept_which(struct env *env, int *which)
{
	struct pollfd p[2] = {{.fd = env->listen_fd, .events = POLLIN},
	                      {.fd = env->listen2_fd, .events = POLLIN}};

	for (int i = 0; i < 200; i++) {
		if (poll(p, 2, 0) > 0) {
			*which = (p[0].revents & POLLIN) ? 0 : 1;
			return accept(*which ? env->listen2_fd : env->listen_fd,
			              NULL, NULL);
		}
		pump(env, 5);
	}
	fail_msg("no connection arrived");
	return -1;
}

/* True when a connection waits on listener fd. */
static bool pending(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/* Reads one request head (and the body when content says how long) from
 * fd, pumping the pool while waiting. Returns the bytes read. */
static size_t serve_read(struct env *env, int fd, char *buf, size_t cap,
                         size_t want)
{
	size_t got = 0;

	for (int i = 0; i < 200; i++) {
		ssize_t n;

		pump(env, 5);
		n = recv(fd, buf + got, cap - 1 - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		buf[got] = '\0';
		if (got >= want && strstr(buf, "\r\n\r\n"))
			return got;
	}
	fail_msg("no request arrived (got '%s')", buf);
	return 0;
}

static void reply(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL),
	                 (ssize_t)strlen(s));
}

static const char *resp_body(struct env *env)
{
	static char out[1024];

	memcpy(out, env->ex.resp.data + env->ex.parser.body_off,
	       env->ex.parser.body_len);
	out[env->ex.parser.body_len] = '\0';
	return out;
}

static void test_exchange_and_reuse(void **state)
{
	struct env *env = *state;
	char buf[2048];
	int fd;

	start(env, "GET", NULL, 0);
	fd = accept_one(env);
	serve_read(env, fd, buf, sizeof(buf), 0);
	assert_non_null(strstr(buf, "GET /api/products/1 HTTP/1.1\r\n"));
	reply(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.result, UPSTREAM_OK);
	assert_int_equal(env->ex.parser.status, 200);
	assert_string_equal(resp_body(env), "hello");
	assert_int_equal(upstream_pool_idle(env->pool), 1);
	assert_int_equal(upstream_pool_active(env->pool), 0);

	/* the same socket carries the next request, chunked this time */
	start(env, "POST", "{\"a\":1}", 0);
	assert_int_equal(upstream_pool_idle(env->pool), 0);
	serve_read(env, fd, buf, sizeof(buf), 0);
	assert_non_null(strstr(buf, "POST /api/products/1"));
	assert_non_null(strstr(buf, "\r\n\r\n{\"a\":1}"));
	reply(fd, "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
	          "3\r\nabc\r\n");
	pump(env, 20);
	assert_int_equal(env->done, 0);
	reply(fd, "2\r\nde\r\n0\r\n\r\n");
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.parser.status, 201);
	assert_string_equal(resp_body(env), "abcde");
	assert_false(env->ex.retried);
	assert_int_equal(upstream_pool_idle(env->pool), 1);

	/* the upstream closes the idle socket: the pool notices */
	close(fd);
	pump(env, 50);
	assert_int_equal(upstream_pool_idle(env->pool), 0);
}

static void test_stale_socket_retried_for_get(void **state)
{
	struct env *env = *state;
	char buf[2048];
	int fd, fd2;

	start(env, "GET", NULL, 0);
	fd = accept_one(env);
	serve_read(env, fd, buf, sizeof(buf), 0);
	reply(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	pump(env, 500);
	assert_int_equal(upstream_pool_idle(env->pool), 1);

	/* reuse the socket; the upstream drops it without answering, as a
	 * keep-alive timeout racing with the request would */
	start(env, "GET", NULL, 0);
	serve_read(env, fd, buf, sizeof(buf), 0);
	close(fd);
	fd2 = accept_one(env);
	serve_read(env, fd2, buf, sizeof(buf), 0);
	reply(fd2, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nretried");
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.result, UPSTREAM_OK);
	assert_true(env->ex.retried);
	assert_string_equal(resp_body(env), "retried");

	/* a POST on a socket that breaks is not sent twice */
	start(env, "POST", "x", 0);
	serve_read(env, fd2, buf, sizeof(buf), 0);
	close(fd2);
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.result, UPSTREAM_ERESET);
	/* a kept-alive socket breaking marks nothing down */
	assert_true(upstream_usable(&env->set.addrs[0]));
}

/* An idle socket is closed by the pool after its idle timeout, before the
 * upstream's own would close it under a request. */
static void test_idle_socket_closed_after_timeout(void **state)
{
	struct env *env = *state;
	char buf[2048];
	uint64_t before;
	int fd;

	upstream_pool_free(env->pool);
	env->pool = upstream_pool_new(&env->set, env->epfd, 200, 300, 150, 8,
	                              1 << 20);
	assert_non_null(env->pool);
	assert_int_equal(upstream_pool_next_deadline(env->pool), UINT64_MAX);
	start(env, "GET", NULL, 0);
	fd = accept_one(env);
	serve_read(env, fd, buf, sizeof(buf), 0);
	before = shop_now_ns();
	reply(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(upstream_pool_idle(env->pool), 1);
	/* the idle socket's deadline is what the worker sleeps until */
	assert_true(upstream_pool_next_deadline(env->pool) >=
	            before + 150 * 1000000ull);
	assert_true(upstream_pool_next_deadline(env->pool) <=
	            shop_now_ns() + 150 * 1000000ull);

	env->done = 0;
	pump(env, 100);
	assert_int_equal(upstream_pool_idle(env->pool), 1);
	pump(env, 200);
	assert_int_equal(upstream_pool_idle(env->pool), 0);
	assert_int_equal(upstream_pool_next_deadline(env->pool), UINT64_MAX);
	/* the upstream sees the gateway close it */
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(fd);

	/* the next request connects anew */
	start(env, "POST", "x", 0);
	fd = accept_one(env);
	serve_read(env, fd, buf, sizeof(buf), 0);
	reply(fd, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.result, UPSTREAM_OK);
	assert_int_equal(env->ex.parser.status, 201);
	close(fd);
}

static void test_bad_and_timeout(void **state)
{
	struct env *env = *state;
	char buf[2048];
	int fd;

	start(env, "GET", NULL, 0);
	fd = accept_one(env);
	serve_read(env, fd, buf, sizeof(buf), 0);
	reply(fd, "SPDY/3 200 OK\r\n\r\n");
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.result, UPSTREAM_EBADRESP);
	close(fd);

	start(env, "GET", NULL, 0);
	fd = accept_one(env);
	serve_read(env, fd, buf, sizeof(buf), 0);
	pump(env, 1000); /* the response timeout is 300 ms */
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.result, UPSTREAM_ETIMEOUT);
	close(fd);
}

static void test_refused_then_unavailable(void **state)
{
	struct env *env = *state;

	close(env->listen_fd);
	env->listen_fd = -1;
	/* loopback refuses at once, or on the first event */
	env->done = 0;
	{
		int rc;

		env->head.len = 0;
		gbuf_puts(&env->head, "GET / HTTP/1.1\r\n\r\n");
		env->body.len = 0;
		env->ex.service = SVC_PRODUCT;
		env->ex.head = &env->head;
		env->ex.body = &env->body;
		env->ex.idempotent = true;
		env->ex.done = on_done;
		rc = upstream_pool_start(env->pool, &env->ex);
		if (rc == 0) {
			pump(env, 500);
			assert_int_equal(env->done, 1);
			rc = env->ex.result;
		}
		assert_int_equal(rc, UPSTREAM_EREFUSED);
	}
	assert_false(upstream_usable(&env->set.addrs[0]));
	start(env, "GET", NULL, UPSTREAM_EUNAVAIL);
}

/* Serves the request in flight on fd (whichever address it is) with a
 * 200 whose body names the address, and checks the exchange. */
static void serve_ok(struct env *env, int fd, int which)
{
	char buf[2048];

	serve_read(env, fd, buf, sizeof(buf), 0);
	reply(fd, which ? "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
	                : "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nzero");
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.result, UPSTREAM_OK);
	assert_ptr_equal(env->ex.addr, &env->set.addrs[which]);
	assert_string_equal(resp_body(env), which ? "one" : "zero");
}

/* Sends a GET; it must go to address `want`, on its kept-alive socket
 * fds[want], or on a new connection (accepted into fds[want]). */
static void get_expecting(struct env *env, int fds[2], int want)
{
	start(env, "GET", NULL, 0);
	if (fds[want] < 0 || pending(want ? env->listen2_fd : env->listen_fd)) {
		int which = -1;
		int fd = accept_which(env, &which);

		assert_int_equal(which, want);
		if (fds[want] >= 0)
			close(fds[want]);
		fds[want] = fd;
	}
	serve_ok(env, fds[want], want);
}

static void test_round_robin_skips_refused(void **state)
{
	struct env *env = *state;
	int fds[2] = {-1, -1};

	/* requests alternate between the two addresses */
	for (int i = 0; i < 6; i++)
		get_expecting(env, fds, i % 2);
	assert_int_equal(upstream_pool_idle(env->pool), 2);

	/* the second one goes away: its kept-alive socket closes, and the
	 * next request for it is refused, marks it down and goes to the
	 * first one instead, at once and whatever the method */
	close(fds[1]);
	fds[1] = -1;
	close(env->listen2_fd);
	env->listen2_fd = -1;
	pump(env, 50);
	assert_int_equal(upstream_pool_idle(env->pool), 1);
	get_expecting(env, fds, 0);
	assert_true(upstream_usable(&env->set.addrs[1]));
	start(env, "POST", "x", 0);
	serve_ok(env, fds[0], 0);
	assert_false(upstream_usable(&env->set.addrs[1]));
	assert_int_equal(atomic_load(&env->set.addrs[1].health), UPSTREAM_DOWN);

	/* skipped from then on, within the cool-down (1 s) */
	for (int i = 0; i < 4; i++)
		get_expecting(env, fds, 0);
	close(fds[0]);
}

static void test_cooldown_trial_brings_it_back(void **state)
{
	struct env *env = *state;
	int fds[2] = {-1, -1};
	int which = -1;
	int fd;

	get_expecting(env, fds, 0);
	get_expecting(env, fds, 1);

	/* the second is marked down (by a probe, say) though it is fine */
	env->set.cooldown_ns = 500000000u; /* 500 ms */
	upstream_mark_down(&env->set.addrs[1], shop_now_ns(),
	                   env->set.cooldown_ns);
	for (int i = 0; i < 4; i++)
		get_expecting(env, fds, 0);

	/* once the cool-down is over, one request (the first whose turn
	 * falls on it) tries it, on a new connection; its answer marks the
	 * address up */
	usleep(550000);
	for (int tries = 0;; tries++) {
		start(env, "GET", NULL, 0);
		if (env->ex.trial)
			break;
		assert_ptr_equal(env->ex.addr, &env->set.addrs[0]);
		serve_ok(env, fds[0], 0);
		assert_true(tries < 1);
	}
	assert_ptr_equal(env->ex.addr, &env->set.addrs[1]);
	fd = accept_which(env, &which);
	assert_int_equal(which, 1);
	assert_false(upstream_usable(&env->set.addrs[1]));
	serve_ok(env, fd, 1);
	assert_true(upstream_usable(&env->set.addrs[1]));
	assert_int_equal(atomic_load(&env->set.addrs[1].health), UPSTREAM_UP);
	close(fds[1]);
	fds[1] = fd;

	/* round-robin again (the trial's socket is kept alive) */
	get_expecting(env, fds, 0);
	get_expecting(env, fds, 1);
	close(fds[0]);
	close(fds[1]);
}

static void test_failed_trial_waits_another_cooldown(void **state)
{
	struct env *env = *state;
	int fds[2] = {-1, -1};
	uint64_t t0;

	close(env->listen2_fd); /* the second address refuses */
	env->listen2_fd = -1;
	env->set.cooldown_ns = 500000000u; /* 500 ms */
	upstream_mark_down(&env->set.addrs[1], shop_now_ns(),
	                   env->set.cooldown_ns);
	usleep(550000);
	t0 = shop_now_ns();
	/* the trial is refused: the request goes to the first address, and
	 * the second is down for another cool-down */
	get_expecting(env, fds, 0);
	get_expecting(env, fds, 0);
	assert_true(atomic_load(&env->set.addrs[1].retry_at) >=
	            t0 + env->set.cooldown_ns);
	assert_false(upstream_usable(&env->set.addrs[1]));
	for (int i = 0; i < 4; i++)
		get_expecting(env, fds, 0);
	close(fds[0]);
}

static void test_new_connection_reset_marks_down(void **state)
{
	struct env *env = *state;
	char buf[2048];
	int which = -1, fd, fd2;

	/* a new connection to the first address is dropped without an
	 * answer: it is marked down and the GET goes on to the second */
	start(env, "GET", NULL, 0);
	fd = accept_which(env, &which);
	assert_int_equal(which, 0);
	serve_read(env, fd, buf, sizeof(buf), 0);
	close(fd);
	fd2 = accept_which(env, &which);
	assert_int_equal(which, 1);
	serve_ok(env, fd2, 1);
	assert_true(env->ex.retried);
	assert_false(upstream_usable(&env->set.addrs[0]));
	assert_true(upstream_usable(&env->set.addrs[1]));

	/* the first being down, a new connection to the second (the last
	 * address in use) dropped twice marks nothing: 502, still in use */
	close(fd2);
	pump(env, 50); /* its kept-alive socket is gone */
	start(env, "GET", NULL, 0);
	for (int i = 0; i < 2; i++) {
		fd = accept_which(env, &which);
		assert_int_equal(which, 1);
		serve_read(env, fd, buf, sizeof(buf), 0);
		close(fd);
	}
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.result, UPSTREAM_ERESET);
	assert_true(upstream_usable(&env->set.addrs[1]));
}

static void test_new_connection_reset_single_address(void **state)
{
	struct env *env = *state;
	char buf[2048];
	int fd;

	/* a POST on a new connection dropped without an answer: 502, not
	 * sent again; and the only address stays in use (it may have dropped
	 * just this request) */
	start(env, "POST", "x", 0);
	fd = accept_one(env);
	serve_read(env, fd, buf, sizeof(buf), 0);
	close(fd);
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.result, UPSTREAM_ERESET);
	assert_false(env->ex.retried);
	assert_true(upstream_usable(&env->set.addrs[0]));

	/* a GET likewise is sent once more, on a new connection to the same
	 * address; dropped again, it answers "closed before answering" */
	start(env, "GET", NULL, 0);
	fd = accept_one(env);
	serve_read(env, fd, buf, sizeof(buf), 0);
	close(fd);
	fd = accept_one(env);
	serve_read(env, fd, buf, sizeof(buf), 0);
	close(fd);
	pump(env, 500);
	assert_int_equal(env->done, 1);
	assert_int_equal(env->ex.result, UPSTREAM_ERESET);
	assert_true(env->ex.retried);
	assert_true(upstream_usable(&env->set.addrs[0]));

	/* and the next request is served */
	start(env, "GET", NULL, 0);
	fd = accept_one(env);
	serve_read(env, fd, buf, sizeof(buf), 0);
	reply(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	pump(env, 500);
	assert_int_equal(env->ex.result, UPSTREAM_OK);
	close(fd);
}

static void test_no_upstream_configured(void **state)
{
	struct env *env = *state;

	env->ex.service = SVC_CART;
	env->ex.head = &env->head;
	env->ex.body = &env->body;
	env->ex.done = on_done;
	assert_int_equal(upstream_pool_start(env->pool, &env->ex),
	                 UPSTREAM_EUNAVAIL);
	assert_string_equal(upstream_error_name(UPSTREAM_ETIMEOUT),
	                    "response_timeout");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_exchange_and_reuse, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_stale_socket_retried_for_get, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_idle_socket_closed_after_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_and_timeout, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_refused_then_unavailable,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_no_upstream_configured,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_round_robin_skips_refused,
	                                        setup_two, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_cooldown_trial_brings_it_back, setup_two,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_failed_trial_waits_another_cooldown, setup_two,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_new_connection_reset_marks_down, setup_two,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_new_connection_reset_single_address, setup,
	                teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
