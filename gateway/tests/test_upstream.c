#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "upstream.h"

#include "shop/error.h"

#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

static void test_hostport(void **state)
{
	char host[64];
	int port = 0;

	(void)state;
	assert_int_equal(upstream_parse_hostport("127.0.0.1:8004", 14, host,
	                                         sizeof(host), &port),
	                 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8004);
	assert_int_equal(upstream_parse_hostport("[::1]:80", 8, host,
	                                         sizeof(host), &port),
	                 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_int_equal(upstream_parse_hostport("product:8004", 12, host,
	                                         sizeof(host), &port),
	                 0);
	assert_string_equal(host, "product");

	static const char *const bad[] = {
	        "",       "8004",    "host",       "host:",
	        ":80",    "host:0",  "host:65536", "host:80x",
	        "::1:80", "[::1]80", "ho st:80",   "host:+80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (upstream_parse_hostport(bad[i], strlen(bad[i]), host,
		                            sizeof(host), &port) == 0)
			fail_msg("accepted: '%s'", bad[i]);
}

static void test_lists(void **state)
{
	static struct upstream_set set;

	(void)state;
	upstream_set_init(&set);
	assert_int_equal(
	        upstream_set_add_list(&set, SVC_PRODUCT, "PRODUCT_UPSTREAMS",
	                              "127.0.0.1:8004, localhost:8014"),
	        0);
	assert_int_equal(
	        upstream_set_add_list(&set, SVC_USER, "USER_UPSTREAMS", ""), 0);
	assert_int_equal(upstream_set_add_list(&set, SVC_CART, "CART_UPSTREAMS",
	                                       "[::1]:8006"),
	                 0);
	assert_int_equal(set.naddrs, 3);
	assert_int_equal(set.services[SVC_PRODUCT].count, 2);
	assert_int_equal(set.services[SVC_USER].count, 0);
	assert_int_equal(set.services[SVC_CART].first, 2);
	assert_string_equal(set.addrs[1].name, "localhost:8014");
	assert_int_equal(set.addrs[0].sa.ss_family, AF_INET);
	assert_int_equal(set.addrs[2].sa.ss_family, AF_INET6);
	assert_true(upstream_usable(&set.addrs[0]));
	upstream_set_health(&set.addrs[0], UPSTREAM_DOWN);
	assert_false(upstream_usable(&set.addrs[0]));

	assert_int_equal(upstream_set_add_list(&set, SVC_ORDER,
	                                       "ORDER_UPSTREAMS", "nope"),
	                 SHOP_EINVAL);
	assert_int_equal(upstream_set_add_list(&set, SVC_ORDER,
	                                       "ORDER_UPSTREAMS",
	                                       "no-such-host.invalid:1"),
	                 SHOP_EINVAL);
}

#define SEC 1000000000ull

static void test_marks_and_trials(void **state)
{
	static struct upstream_set set;
	struct upstream_addr *a;

	(void)state;
	upstream_set_init(&set);
	assert_true(set.cooldown_ns ==
	            (uint64_t)UPSTREAM_COOLDOWN_DEFAULT_MS * 1000000u);
	assert_int_equal(upstream_set_add_list(&set, SVC_PRODUCT,
	                                       "PRODUCT_UPSTREAMS",
	                                       "127.0.0.1:1"),
	                 0);
	a = &set.addrs[0];
	assert_true(upstream_usable(a)); /* not probed yet */

	/* down: a change the first time only */
	assert_true(upstream_mark_down(a, 10 * SEC, 2 * SEC));
	assert_false(upstream_usable(a));
	assert_false(upstream_mark_down(a, 10 * SEC, 2 * SEC));

	/* no trial within the cool-down; one when it is over, then none
	 * until the next cool-down is over */
	assert_false(upstream_claim_trial(a, 11 * SEC, 2 * SEC));
	assert_true(upstream_claim_trial(a, 12 * SEC, 2 * SEC));
	assert_false(upstream_claim_trial(a, 12 * SEC, 2 * SEC));
	assert_false(upstream_claim_trial(a, 13 * SEC, 2 * SEC));
	assert_true(upstream_claim_trial(a, 14 * SEC, 2 * SEC));
	assert_false(upstream_usable(a)); /* a trial marks nothing */

	/* marked down again (a failed trial, a failed probe): the cool-down
	 * starts over from then */
	assert_false(upstream_mark_down(a, 15 * SEC, 2 * SEC));
	assert_false(upstream_claim_trial(a, 16 * SEC, 2 * SEC));
	assert_true(upstream_claim_trial(a, 17 * SEC, 2 * SEC));

	/* up: a change the first time only */
	assert_true(upstream_mark_up(a));
	assert_true(upstream_usable(a));
	assert_false(upstream_mark_up(a));
	assert_int_equal(atomic_load(&a->health), UPSTREAM_UP);
	assert_string_equal(upstream_health_name(UPSTREAM_UP), "up");
}

#define RACERS 4

static struct upstream_addr *race_addr;
static pthread_barrier_t race_start;
static atomic_int race_wins;

static void *racer(void *arg)
{
	(void)arg;
	for (int round = 0; round < 1000; round++) {
		pthread_barrier_wait(&race_start);
		if (upstream_claim_trial(race_addr,
		                         (uint64_t)(round + 1) * 10 * SEC, SEC))
			atomic_fetch_add(&race_wins, 1);
		pthread_barrier_wait(&race_start);
	}
	return NULL;
}

/* Workers racing for one due trial: exactly one of them gets it. */
static void test_one_trial_among_racers(void **state)
{
	static struct upstream_set set;
	pthread_t t[RACERS];

	(void)state;
	upstream_set_init(&set);
	assert_int_equal(upstream_set_add_list(&set, SVC_ORDER,
	                                       "ORDER_UPSTREAMS",
	                                       "127.0.0.1:1"),
	                 0);
	race_addr = &set.addrs[0];
	upstream_mark_down(race_addr, 0, SEC);
	atomic_init(&race_wins, 0);
	assert_int_equal(pthread_barrier_init(&race_start, NULL, RACERS), 0);
	for (int i = 0; i < RACERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, racer, NULL), 0);
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&race_start);
	/* each round's time is past the trial the round before took */
	assert_int_equal(atomic_load(&race_wins), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hostport),
	        cmocka_unit_test(test_lists),
	        cmocka_unit_test(test_marks_and_trials),
	        cmocka_unit_test(test_one_trial_among_racers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
