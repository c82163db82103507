#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "upstream.h"

#include "shop/error.h"

#include <netinet/in.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hostport),
	        cmocka_unit_test(test_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
