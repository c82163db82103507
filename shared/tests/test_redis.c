/* Tests of shared/src/redis.c. The command tests need a real Redis in
 * SHOP_TEST_REDIS_URL and are skipped without it; they write keys named
 * "test_redis:<pid>:..." in the URL's database and in databases 3 and 4,
 * each deleted or expiring within a minute. The failure-path tests use a
 * closed port and small fake servers and always run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/net.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/redis.h"
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *redis_url;
static char key_prefix[64];

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

static const char *key(const char *name)
{
	static _Thread_local char buf[128];

	snprintf(buf, sizeof(buf), "%s%s", key_prefix, name);
	return buf;
}

/* Called first by every test that needs the real Redis. */
static void need_redis(void)
{
	if (!redis_url) {
		print_message("skipped: set SHOP_TEST_REDIS_URL (e.g. "
		              "redis://127.0.0.1:6379/15) to run against a "
		              "real Redis\n");
		skip();
	}
}

static struct redis_pool *live_pool(int size)
{
	struct redis_pool_options opt = {
	        .url = redis_url,
	        .name = "test",
	        .size = size,
	        .command_timeout_ms = 1000,
	        .connect_timeout_ms = 1000,
	};
	struct redis_pool *r = NULL;

	need_redis();
	assert_int_equal(redis_pool_new(&opt, &r), 0);
	return r;
}

/* ---- against a real Redis ---- */

static void test_ping(void **state)
{
	struct redis_pool *r = live_pool(1);

	(void)state;
	assert_int_equal(redis_ping(r), 0);
	redis_pool_free(r);
}

static void test_set_get_binary_and_miss(void **state)
{
	struct redis_pool *r = live_pool(2);
	const char value[] = {'a', '\0', 'b', '\n', (char)0xff};
	const char *keys[1];
	char *got = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(redis_set(r, key("bin"), value, sizeof(value), 60), 0);
	assert_int_equal(redis_get(r, key("bin"), &got, &len), 0);
	assert_int_equal(len, sizeof(value));
	assert_memory_equal(got, value, sizeof(value));
	assert_int_equal(got[len], '\0');
	free(got);

	got = (char *)"untouched";
	assert_int_equal(redis_get(r, key("missing"), &got, &len),
	                 SHOP_ENOTFOUND);
	assert_string_equal(got, "untouched");

	/* no ttl: no expiry; overwrite keeps one value */
	assert_int_equal(redis_set(r, key("plain"), "v1", 2, 0), 0);
	assert_int_equal(redis_set(r, key("plain"), "v2", 2, 0), 0);
	assert_int_equal(redis_get(r, key("plain"), &got, NULL), 0);
	assert_string_equal(got, "v2");
	free(got);
	keys[0] = key("plain");
	assert_int_equal(redis_del(r, keys, 1, NULL), 0);
	redis_pool_free(r);
}

static void test_set_ex_expires(void **state)
{
	struct redis_pool *r = live_pool(1);
	bool exists = false;

	(void)state;
	assert_int_equal(redis_set(r, key("short"), "x", 1, 1), 0);
	assert_int_equal(redis_exists(r, key("short"), &exists), 0);
	assert_true(exists);
	sleep_ms(1100);
	assert_int_equal(redis_exists(r, key("short"), &exists), 0);
	assert_false(exists);
	redis_pool_free(r);
}

static void test_set_nx(void **state)
{
	struct redis_pool *r = live_pool(1);
	const char *k = key("nx");
	char *got = NULL;

	(void)state;
	redis_del(r, &k, 1, NULL);
	assert_int_equal(redis_set_nx(r, k, "first", 5, 60), 0);
	assert_int_equal(redis_set_nx(r, k, "second", 6, 60), SHOP_ECONFLICT);
	assert_int_equal(redis_get(r, k, &got, NULL), 0);
	assert_string_equal(got, "first");
	free(got);
	redis_pool_free(r);
}

static void test_del_several_and_exists(void **state)
{
	struct redis_pool *r = live_pool(1);
	char k1[128], k2[128], k3[128];
	const char *keys[3] = {k1, k2, k3};
	long long removed = -1;
	bool exists = true;

	(void)state;
	snprintf(k1, sizeof(k1), "%s", key("d1"));
	snprintf(k2, sizeof(k2), "%s", key("d2"));
	snprintf(k3, sizeof(k3), "%s", key("d3-never-set"));
	assert_int_equal(redis_set(r, k1, "1", 1, 60), 0);
	assert_int_equal(redis_set(r, k2, "2", 1, 60), 0);
	assert_int_equal(redis_exists(r, k1, &exists), 0);
	assert_true(exists);
	assert_int_equal(redis_del(r, keys, 3, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(redis_exists(r, k1, &exists), 0);
	assert_false(exists);
	assert_int_equal(redis_del(r, keys, 1, NULL), 0);
	redis_pool_free(r);
}

struct scan_seen {
	int with_ttl, without_ttl, other;
};

static int count_scanned(void *arg, const char *k, long long ttl_ms)
{
	struct scan_seen *seen = arg;

	if (strncmp(k, key_prefix, strlen(key_prefix)) != 0)
		seen->other++;
	else if (ttl_ms > 0 && ttl_ms <= 60000)
		seen->with_ttl++;
	else if (ttl_ms == -1)
		seen->without_ttl++;
	return 0;
}

static int stop_at_first(void *arg, const char *k, long long ttl_ms)
{
	(void)k;
	(void)ttl_ms;
	++*(int *)arg;
	return 7;
}

static void test_scan_keys(void **state)
{
	struct redis_pool *r = live_pool(1);
	struct scan_seen seen = {0};
	char match[96], k[128];
	int calls = 0;

	(void)state;
	/* 1500 keys: more than one SCAN batch (COUNT 1000). */
	for (int i = 0; i < 1500; i++) {
		snprintf(k, sizeof(k), "%sscan:%d", key_prefix, i);
		assert_int_equal(redis_set(r, k, "1", 1, i == 0 ? 0 : 60), 0);
	}
	snprintf(match, sizeof(match), "%sscan:*", key_prefix);
	assert_int_equal(redis_scan_keys(r, match, count_scanned, &seen), 0);
	assert_int_equal(seen.other, 0);
	assert_int_equal(seen.without_ttl, 1);
	assert_true(seen.with_ttl >= 1499); /* SCAN may repeat, never miss */
	assert_int_equal(redis_scan_keys(r, match, stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);
	for (int i = 0; i < 1500; i++) {
		const char *kp = k;

		snprintf(k, sizeof(k), "%sscan:%d", key_prefix, i);
		assert_int_equal(redis_del(r, &kp, 1, NULL), 0);
	}
	redis_pool_free(r);
}

static void test_incr_expire(void **state)
{
	struct redis_pool *r = live_pool(1);
	const char *k = key("rate");
	long long count = 0, ttl = 0;

	(void)state;
	redis_del(r, &k, 1, NULL);
	assert_int_equal(redis_incr_expire(r, k, 60, &count, &ttl), 0);
	assert_int_equal(count, 1);
	assert_int_equal(ttl, 60);
	assert_int_equal(redis_incr_expire(r, k, 60, &count, &ttl), 0);
	assert_int_equal(count, 2);
	assert_true(ttl > 0 && ttl <= 60);

	/* the window is set once: later calls do not extend it */
	k = key("rate-short");
	redis_del(r, &k, 1, NULL);
	assert_int_equal(redis_incr_expire(r, k, 1, &count, NULL), 0);
	assert_int_equal(redis_incr_expire(r, k, 100, &count, &ttl), 0);
	assert_int_equal(count, 2);
	assert_true(ttl <= 1);
	sleep_ms(1100);
	assert_int_equal(redis_incr_expire(r, k, 100, &count, &ttl), 0);
	assert_int_equal(count, 1);
	assert_int_equal(ttl, 100);
	redis_pool_free(r);
}

static void test_error_reply_is_err(void **state)
{
	struct redis_pool *r = live_pool(1);
	long long count = 7;

	(void)state;
	assert_int_equal(redis_set(r, key("text"), "abc", 3, 60), 0);
	assert_int_equal(redis_incr_expire(r, key("text"), 60, &count, NULL),
	                 SHOP_ERR);
	assert_int_equal(count, 7);
	/* the connection is still good afterwards */
	assert_int_equal(redis_ping(r), 0);
	redis_pool_free(r);
}

static void test_database_from_url(void **state)
{
	char url[512];
	struct redis_pool_options opt = {
	        .url = url, .size = 1, .command_timeout_ms = 1000};
	struct redis_pool *r3 = NULL, *r4 = NULL;
	const char *slash;
	char *got = NULL;

	(void)state;
	need_redis();
	slash = strrchr(redis_url + 8, '/');
	/* the same server, databases 3 and 4 */
	snprintf(url, sizeof(url), "%.*s/3",
	         (int)(slash ? slash - redis_url : (long)strlen(redis_url)),
	         redis_url);
	assert_int_equal(redis_pool_new(&opt, &r3), 0);
	snprintf(url, sizeof(url), "%.*s/4",
	         (int)(slash ? slash - redis_url : (long)strlen(redis_url)),
	         redis_url);
	assert_int_equal(redis_pool_new(&opt, &r4), 0);
	assert_int_equal(redis_set(r3, key("db"), "three", 5, 60), 0);
	assert_int_equal(redis_get(r4, key("db"), &got, NULL), SHOP_ENOTFOUND);
	assert_int_equal(redis_get(r3, key("db"), &got, NULL), 0);
	assert_string_equal(got, "three");
	free(got);
	redis_pool_free(r3);
	redis_pool_free(r4);
}

static void test_wrong_password_is_unavailable(void **state)
{
	char url[512];
	struct redis_pool_options opt = {.url = url, .size = 1};
	struct redis_pool *r = NULL;

	(void)state;
	need_redis();
	snprintf(url, sizeof(url), "redis://:not%%20the%%20password@%s",
	         redis_url + 8);
	assert_int_equal(redis_pool_new(&opt, &r), 0);
	assert_int_equal(redis_ping(r), SHOP_EUNAVAIL);
	assert_int_equal(redis_ping(r), SHOP_EUNAVAIL);
	redis_pool_free(r);
}

struct incr_job {
	struct redis_pool *r;
	int failures;
};

static void *incr_many(void *arg)
{
	struct incr_job *job = arg;

	for (int i = 0; i < 250; i++) {
		long long count;

		if (redis_incr_expire(job->r, key("concurrent"), 60, &count,
		                      NULL) != 0)
			job->failures++;
	}
	return NULL;
}

static void test_concurrent_calls_share_the_pool(void **state)
{
	struct redis_pool *r = live_pool(2);
	const char *k = key("concurrent");
	struct incr_job jobs[4];
	pthread_t threads[4];
	char *got = NULL;

	(void)state;
	redis_del(r, &k, 1, NULL);
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct incr_job){.r = r};
		assert_int_equal(
		        pthread_create(&threads[i], NULL, incr_many, &jobs[i]),
		        0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(jobs[i].failures, 0);
	}
	assert_int_equal(redis_get(r, k, &got, NULL), 0);
	assert_string_equal(got, "1000");
	free(got);
	redis_pool_free(r);
}

/* ---- without a server ---- */

static void test_url_parsing(void **state)
{
	static const char *const bad[] = {
	        "http://127.0.0.1:6379", "redis://",
	        "redis://:6379",         "redis://host:0",
	        "redis://host:65536",    "redis://host:port",
	        "redis://host/db",       "redis://host/-1",
	        "redis://user@host",     "redis://:%zz@host",
	        "redis://[::1",          "redis://host?x=1",
	        "127.0.0.1:6379",
	};
	static const char *const good[] = {
	        "redis://localhost",         "redis://127.0.0.1:6379",
	        "redis://127.0.0.1:6379/15", "redis://:p%40ss@host:1/",
	        "redis://user:pass@host",    "redis://[::1]:6380/2",
	};
	struct redis_pool_options opt = {.size = 1};
	struct redis_pool *r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		r = NULL;
		opt.url = bad[i];
		if (redis_pool_new(&opt, &r) != SHOP_EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_null(r);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		r = NULL;
		opt.url = good[i];
		if (redis_pool_new(&opt, &r) != 0)
			fail_msg("refused '%s'", good[i]);
		redis_pool_free(r);
	}
	opt.url = "redis://localhost";
	opt.size = 0;
	assert_int_equal(redis_pool_new(&opt, &r), SHOP_EINVAL);
	redis_pool_free(NULL);
}

static void test_url_parse_fields(void **state)
{
	struct redis_url u;

	(void)state;
	assert_int_equal(redis_url_parse("redis://127.0.0.1:6379/0", &u), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_null(u.user);
	assert_null(u.password);
	redis_url_release(&u);

	assert_int_equal(redis_url_parse("redis://cache", &u), 0);
	assert_string_equal(u.host, "cache");
	assert_int_equal(u.port, 6379);
	redis_url_release(&u);

	assert_int_equal(
	        redis_url_parse("redis://:p%40ss@localhost:7000/3", &u), 0);
	assert_null(u.user);
	assert_string_equal(u.password, "p@ss");
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 7000);
	assert_int_equal(u.db, 3);
	redis_url_release(&u);

	assert_int_equal(redis_url_parse("redis://gw:secret@[::1]:6380", &u),
	                 0);
	assert_string_equal(u.user, "gw");
	assert_string_equal(u.password, "secret");
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 6380);
	redis_url_release(&u);

	assert_int_equal(redis_url_parse("http://localhost", &u), SHOP_EINVAL);
	assert_int_equal(redis_url_parse("redis://", &u), SHOP_EINVAL);
	assert_int_equal(redis_url_parse("redis://h:0", &u), SHOP_EINVAL);
	assert_int_equal(redis_url_parse("redis://h:70000", &u), SHOP_EINVAL);
	assert_int_equal(redis_url_parse("redis://h/x", &u), SHOP_EINVAL);
	assert_int_equal(redis_url_parse("redis://user@h", &u), SHOP_EINVAL);
	assert_int_equal(redis_url_parse("redis://:%zz@h", &u), SHOP_EINVAL);
	assert_int_equal(redis_url_parse("redis://h?x=1", &u), SHOP_EINVAL);
	assert_int_equal(redis_url_parse("redis://[::1", &u), SHOP_EINVAL);
	assert_int_equal(redis_url_parse(NULL, &u), SHOP_EINVAL);
	redis_url_release(NULL);
}

static struct redis_pool *pool_on_port(int port, int retry_ms)
{
	char url[64];
	struct redis_pool_options opt = {.url = url,
	                                 .name = "down",
	                                 .size = 2,
	                                 .retry_interval_ms = retry_ms};
	struct redis_pool *r = NULL;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
	assert_int_equal(redis_pool_new(&opt, &r), 0);
	return r;
}

/* Every call fails with SHOP_EUNAVAIL, each after the first in < 50 ms. */
static void expect_fast_failures(struct redis_pool *r, int first_rc)
{
	char *value = NULL;
	long long count = 0;
	bool exists;
	uint64_t t;

	t = shop_now_ns();
	assert_int_equal(redis_ping(r), first_rc);
	assert_true(ms_since(t) < 1000);
	for (int i = 0; i < 20; i++) {
		int rc;

		t = shop_now_ns();
		switch (i % 4) {
		case 0:
			rc = redis_get(r, "k", &value, NULL);
			break;
		case 1:
			rc = redis_set(r, "k", "v", 1, 10);
			break;
		case 2:
			rc = redis_incr_expire(r, "k", 10, &count, NULL);
			break;
		default:
			rc = redis_exists(r, "k", &exists);
			break;
		}
		assert_int_equal(rc, SHOP_EUNAVAIL);
		if (ms_since(t) >= 50)
			fail_msg("call %d took %.1f ms", i, ms_since(t));
	}
	assert_null(value);
	assert_int_equal(count, 0);
}

static void test_closed_port_fails_fast(void **state)
{
	struct redis_pool *r = pool_on_port(support_closed_port(), 300);
	uint64_t t;

	(void)state;
	expect_fast_failures(r, SHOP_EUNAVAIL);
	/* after the retry interval one call tries again (and fails again) */
	sleep_ms(350);
	t = shop_now_ns();
	assert_int_equal(redis_ping(r), SHOP_EUNAVAIL);
	assert_true(ms_since(t) < 1000);
	assert_int_equal(redis_ping(r), SHOP_EUNAVAIL);
	redis_pool_free(r);
}

/* ---- fake servers ---- */

enum fake_mode {
	FAKE_SILENT, /* accepts (kernel backlog) and never answers */
	FAKE_PONG,   /* answers +PONG to every read */
};

struct fake {
	int listen_fd;
	int port;
	enum fake_mode mode;
	atomic_bool stop;
	atomic_bool drop_client; /* close the client connection now */
	atomic_int accepted;
	pthread_t thread;
};

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	int client = -1;

	while (!atomic_load(&f->stop)) {
		struct pollfd p[2] = {{.fd = f->listen_fd, .events = POLLIN},
		                      {.fd = client, .events = POLLIN}};
		char buf[512];

		if (client >= 0 && atomic_exchange(&f->drop_client, false)) {
			close(client);
			client = -1;
			continue;
		}
		if (poll(p, 2, 10) <= 0)
			continue;
		if (client < 0 && (p[0].revents & POLLIN)) {
			client = accept(f->listen_fd, NULL, NULL);
			atomic_fetch_add(&f->accepted, 1);
		}
		if (client >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(client, buf, sizeof(buf));

			if (n <= 0) {
				close(client);
				client = -1;
			} else if (write(client, "+PONG\r\n", 7) != 7) {
				close(client);
				client = -1;
			}
		}
	}
	if (client >= 0)
		close(client);
	return NULL;
}

static void fake_start(struct fake *f, enum fake_mode mode, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                        .sin_port = htons((uint16_t)port)};
	socklen_t len = sizeof(a);
	int one = 1;

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->listen_fd >= 0);
	setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)),
	                 0);
	assert_int_equal(listen(f->listen_fd, 16), 0);
	assert_int_equal(getsockname(f->listen_fd, (struct sockaddr *)&a, &len),
	                 0);
	f->port = ntohs(a.sin_port);
	if (mode == FAKE_PONG)
		assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f),
		                 0);
}

static void fake_stop(struct fake *f)
{
	atomic_store(&f->stop, true);
	if (f->mode == FAKE_PONG)
		pthread_join(f->thread, NULL);
	close(f->listen_fd);
}

static void test_silent_server_times_out_then_fails_fast(void **state)
{
	struct fake f;
	struct redis_pool *r;
	uint64_t t;

	(void)state;
	fake_start(&f, FAKE_SILENT, 0);
	r = pool_on_port(f.port, 1000);
	t = shop_now_ns();
	assert_int_equal(redis_ping(r), SHOP_ETIMEDOUT);
	/* the 100 ms command timeout, not a hang */
	assert_true(ms_since(t) >= 90 && ms_since(t) < 1000);
	expect_fast_failures(r, SHOP_EUNAVAIL);
	redis_pool_free(r);
	fake_stop(&f);
}

static void test_recovers_when_server_comes_back(void **state)
{
	int port = support_closed_port();
	struct redis_pool *r = pool_on_port(port, 200);
	struct fake f;

	(void)state;
	assert_int_equal(redis_ping(r), SHOP_EUNAVAIL);
	assert_int_equal(redis_ping(r), SHOP_EUNAVAIL);
	fake_start(&f, FAKE_PONG, port);
	/* still failing fast until the retry interval is over */
	assert_int_equal(redis_ping(r), SHOP_EUNAVAIL);
	sleep_ms(250);
	assert_int_equal(redis_ping(r), 0);
	assert_int_equal(redis_ping(r), 0);
	redis_pool_free(r);
	fake_stop(&f);
}

static void test_restart_costs_no_failed_call(void **state)
{
	struct fake f;
	struct redis_pool *r;

	(void)state;
	fake_start(&f, FAKE_PONG, 0);
	r = pool_on_port(f.port, 1000);
	assert_int_equal(redis_ping(r), 0);
	assert_int_equal(atomic_load(&f.accepted), 1);
	/* the server drops the idle pooled connection, as a restart would */
	atomic_store(&f.drop_client, true);
	for (int i = 0; i < 100 && atomic_load(&f.drop_client); i++)
		sleep_ms(10);
	sleep_ms(20);
	assert_int_equal(redis_ping(r), 0);
	assert_int_equal(atomic_load(&f.accepted), 2);
	assert_int_equal(redis_ping(r), 0);
	redis_pool_free(r);
	fake_stop(&f);
}

static int group_setup(void **state)
{
	sigset_t set;

	(void)state;
	/* as http_block_signals() does in the daemons */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	slog_init("test_redis", SLOG_ERROR);
	redis_url = getenv("SHOP_TEST_REDIS_URL");
	if (redis_url && !*redis_url)
		redis_url = NULL;
	snprintf(key_prefix, sizeof(key_prefix),
	         "test_redis:%d:", (int)getpid());
	return 0;
}

#define LIVE(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_url_parsing),
	        cmocka_unit_test(test_url_parse_fields),
	        cmocka_unit_test(test_closed_port_fails_fast),
	        cmocka_unit_test(test_silent_server_times_out_then_fails_fast),
	        cmocka_unit_test(test_recovers_when_server_comes_back),
	        cmocka_unit_test(test_restart_costs_no_failed_call),
	        LIVE(test_ping),
	        LIVE(test_set_get_binary_and_miss),
	        LIVE(test_set_ex_expires),
	        LIVE(test_set_nx),
	        LIVE(test_del_several_and_exists),
	        LIVE(test_incr_expire),
	        LIVE(test_scan_keys),
	        LIVE(test_error_reply_is_err),
	        LIVE(test_database_from_url),
	        LIVE(test_wrong_password_is_unavailable),
	        LIVE(test_concurrent_calls_share_the_pool),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
