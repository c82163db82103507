#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/net.h"

#include "rl_redis.h"

#include "shop/error.h"
#include "shop/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_unreachable(void **state)
{
	struct rl_store store;
	struct rl_item item = {
	        .window = 1, .delta = 1, .kind = RL_USER, .len = 1, .id = "u"};
	char url[64], where[128], why[256] = "";
	int port = support_closed_port();
	uint64_t t0;

	(void)state;
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/2", port);
	assert_int_equal(rl_redis_new(url, 100, &store, where, sizeof(where)),
	                 0);
	snprintf(url, sizeof(url), "127.0.0.1:%d/2", port);
	assert_string_equal(where, url);
	assert_int_equal(store.ops->ping(store.self, why, sizeof(why)),
	                 SHOP_EUNAVAIL);
	assert_true(why[0] != '\0');
	/* within the retry interval: at once, without a connect */
	why[0] = '\0';
	t0 = shop_now_ns();
	assert_int_equal(
	        store.ops->push(store.self, &item, 1, 12, why, sizeof(why)),
	        SHOP_EUNAVAIL);
	assert_true(shop_now_ns() - t0 < 50000000ull);
	assert_true(why[0] != '\0');
	store.ops->free(store.self);
	store.ops->free(NULL);

	assert_int_equal(
	        rl_redis_new("nope://x", 100, &store, where, sizeof(where)),
	        SHOP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
