/*
 * The prober's rounds (health_probe_round) against upstreams played by
 * threads on loopback sockets: a 2xx marks an address up, a refusal or an
 * error status down (and starts its cool-down again), timeouts count only
 * when they repeat, and a worker's passive mark made while a round is under
 * way is not overruled by that round's older "up".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health.h"

#include "shop/util.h"
#include "support/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One upstream: answers `connections` probes with `status` after
 * `delay_ms` each (status 0: reads the probe and never answers). */
struct upstream {
	int fd;
	int port;
	int status;
	int delay_ms;
	int connections;
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct upstream *u = arg;

	for (int i = 0; i < u->connections; i++) {
		char buf[1024], resp[128];
		size_t got = 0;
		int c = accept(u->fd, NULL, NULL);

		if (c < 0)
			break;
		while (got < sizeof(buf) - 1) {
			ssize_t n =
			        recv(c, buf + got, sizeof(buf) - 1 - got, 0);

			if (n <= 0)
				break;
			got += (size_t)n;
			buf[got] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		usleep((useconds_t)u->delay_ms * 1000);
		if (u->status) {
			int len = snprintf(
			        resp, sizeof(resp),
			        "HTTP/1.1 %d X\r\nContent-Length: 0\r\n"
			        "Connection: close\r\n\r\n",
			        u->status);

			if (send(c, resp, (size_t)len, MSG_NOSIGNAL) < 0)
				break;
		} else {
			usleep(500000); /* longer than any probe waits */
		}
		close(c);
	}
	return NULL;
}

static void upstream_start(struct upstream *u, int status, int delay_ms,
                           int connections)
{
	u->fd = support_listen_loopback(&u->port);
	assert_true(u->fd >= 0);
	u->status = status;
	u->delay_ms = delay_ms;
	u->connections = connections;
	assert_int_equal(pthread_create(&u->thread, NULL, serve, u), 0);
}

static void upstream_join(struct upstream *u)
{
	pthread_join(u->thread, NULL);
	close(u->fd);
}

/* A port nothing listens on. */
static int dead_port(void)
{
	int port;
	int fd = support_listen_loopback(&port);

	assert_true(fd >= 0);
	close(fd);
	return port;
}

static struct upstream_set set;

static void set_of(const int *ports, size_t n)
{
	char list[256];
	size_t len = 0;

	list[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		                        "%s127.0.0.1:%d", i ? "," : "",
		                        ports[i]);
	upstream_set_init(&set);
	set.cooldown_ns = 2000000000u; /* 2 s */
	assert_int_equal(upstream_set_add_list(&set, SVC_PRODUCT,
	                                       "PRODUCT_UPSTREAMS", list),
	                 0);
}

static int health_of(size_t i)
{
	return atomic_load(&set.addrs[i].health);
}

static void test_up_refused_and_error(void **state)
{
	struct upstream ok, err;
	int ports[3];
	uint64_t t0;

	(void)state;
	upstream_start(&ok, 200, 0, 1);
	upstream_start(&err, 503, 0, 1);
	ports[0] = ok.port;
	ports[1] = dead_port();
	ports[2] = err.port;
	set_of(ports, 3);
	t0 = shop_now_ns();
	health_probe_round(&set, 1000);
	upstream_join(&ok);
	upstream_join(&err);
	assert_int_equal(health_of(0), UPSTREAM_UP);
	assert_int_equal(health_of(1), UPSTREAM_DOWN);
	assert_int_equal(health_of(2), UPSTREAM_DOWN);
	/* a failed probe starts the cool-down (again): no trial before it */
	for (size_t i = 1; i < 3; i++)
		assert_true(atomic_load(&set.addrs[i].retry_at) >=
		            t0 + set.cooldown_ns);
	assert_false(upstream_claim_trial(&set.addrs[1], shop_now_ns(),
	                                  set.cooldown_ns));
}

static void test_timeouts_count_when_they_repeat(void **state)
{
	struct upstream slow;
	int port;

	(void)state;
	upstream_start(&slow, 0, 0, 3); /* reads the probe, never answers */
	port = slow.port;
	set_of(&port, 1);
	upstream_set_health(&set.addrs[0], UPSTREAM_UP);
	health_probe_round(&set, 100);
	assert_int_equal(health_of(0), UPSTREAM_UP);
	health_probe_round(&set, 100);
	assert_int_equal(health_of(0), UPSTREAM_UP);
	health_probe_round(&set, 100);
	assert_int_equal(health_of(0), UPSTREAM_DOWN);
	upstream_join(&slow);
}

struct round_arg {
	unsigned timeout_ms;
};

static void *round_thread(void *arg)
{
	struct round_arg *r = arg;

	health_probe_round(&set, r->timeout_ms);
	return NULL;
}

static void test_newer_passive_mark_wins(void **state)
{
	struct upstream late;
	struct round_arg r = {.timeout_ms = 2000};
	pthread_t t;
	int port;

	(void)state;
	/* the probe's 200 comes 300 ms after it was asked for; meanwhile a
	 * worker finds the address down (it died, say): the round's "up" is
	 * older news and must not bring it back */
	upstream_start(&late, 200, 300, 1);
	port = late.port;
	set_of(&port, 1);
	upstream_set_health(&set.addrs[0], UPSTREAM_UP);
	assert_int_equal(pthread_create(&t, NULL, round_thread, &r), 0);
	usleep(100000);
	assert_true(upstream_mark_down(&set.addrs[0], shop_now_ns(),
	                               set.cooldown_ns));
	pthread_join(t, NULL);
	upstream_join(&late);
	assert_int_equal(health_of(0), UPSTREAM_DOWN);

	/* a mark made before the round began is what the round answers */
	upstream_start(&late, 200, 0, 1);
	upstream_set_init(&set);
	set.cooldown_ns = 2000000000u;
	{
		char list[64];

		snprintf(list, sizeof(list), "127.0.0.1:%d", late.port);
		assert_int_equal(upstream_set_add_list(&set, SVC_PRODUCT,
		                                       "PRODUCT_UPSTREAMS",
		                                       list),
		                 0);
	}
	upstream_mark_down(&set.addrs[0], shop_now_ns(), set.cooldown_ns);
	usleep(1000);
	health_probe_round(&set, 1000);
	upstream_join(&late);
	assert_int_equal(health_of(0), UPSTREAM_UP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_up_refused_and_error),
	        cmocka_unit_test(test_timeouts_count_when_they_repeat),
	        cmocka_unit_test(test_newer_passive_mark_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
