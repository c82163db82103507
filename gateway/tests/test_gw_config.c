#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gw_config.h"

#include "shop/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char key_file[] = "/tmp/gw-config-test-XXXXXX";

static const char *const variables[] = {
        "RATE_LIMIT_WINDOW_S", "RATE_LIMIT_PER_ADDRESS",
        "RATE_LIMIT_PER_USER", "RATE_LIMIT_SYNC_MS",
        "CORS_ORIGINS",        "GATEWAY_UPSTREAM_IDLE_TIMEOUT_MS",
};

static int setup(void **state)
{
	int fd = mkstemp(key_file);

	(void)state;
	if (fd < 0)
		return -1;
	/* only checked for being a readable file here; main() parses it */
	if (write(fd, "key\n", 4) != 4) {
		close(fd);
		return -1;
	}
	close(fd);
	setenv("JWT_PUBLIC_KEY_FILE", key_file, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(key_file);
	return 0;
}

static void clear(void)
{
	for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++)
		unsetenv(variables[i]);
}

static struct gw_config c; /* holds the CORS origins: 8 KiB */

static void test_defaults(void **state)
{
	(void)state;
	clear();
	assert_int_equal(gw_config_load(&c), 0);
	assert_int_equal(c.rate_limit_window_s, 10);
	assert_int_equal(c.rate_limit_per_address, 2000);
	assert_int_equal(c.rate_limit_per_user, 1000);
	assert_int_equal(c.rate_limit_sync_ms, 100);
	/* under the services' HTTP_TIMEOUT_S default of 30 s */
	assert_int_equal(c.upstream_idle_ms, 10000);
	assert_string_equal(c.cors_origins, "");
	assert_false(cors_enabled(&c.cors));
}

static void test_values(void **state)
{
	(void)state;
	clear();
	setenv("RATE_LIMIT_WINDOW_S", "2", 1);
	setenv("RATE_LIMIT_PER_ADDRESS", "0", 1);
	setenv("RATE_LIMIT_PER_USER", "20", 1);
	setenv("RATE_LIMIT_SYNC_MS", "10", 1);
	setenv("CORS_ORIGINS",
	       "http://localhost:5173, https://Shop.example.com", 1);
	assert_int_equal(gw_config_load(&c), 0);
	assert_int_equal(c.rate_limit_window_s, 2);
	assert_int_equal(c.rate_limit_per_address, 0);
	assert_int_equal(c.rate_limit_per_user, 20);
	assert_int_equal(c.rate_limit_sync_ms, 10);
	assert_true(cors_enabled(&c.cors));
	assert_int_equal(c.cors.n, 2);
	assert_non_null(cors_match(&c.cors, "https://shop.example.com"));
	/* empty means the default */
	setenv("RATE_LIMIT_WINDOW_S", "", 1);
	assert_int_equal(gw_config_load(&c), 0);
	assert_int_equal(c.rate_limit_window_s, 10);
	clear();
}

static void test_bad_values(void **state)
{
	static const char *const bad[][2] = {
	        {"RATE_LIMIT_WINDOW_S", "0"},
	        {"RATE_LIMIT_WINDOW_S", "86401"},
	        {"RATE_LIMIT_WINDOW_S", "ten"},
	        {"RATE_LIMIT_PER_ADDRESS", "-1"},
	        {"RATE_LIMIT_PER_ADDRESS", "1e3"},
	        {"RATE_LIMIT_PER_USER", "-5"},
	        {"RATE_LIMIT_PER_USER", "1000000001"},
	        {"RATE_LIMIT_SYNC_MS", "9"},
	        {"RATE_LIMIT_SYNC_MS", "10001"},
	        {"CORS_ORIGINS", "*"},
	        {"CORS_ORIGINS", "https://shop.example.com/"},
	        {"CORS_ORIGINS", "shop.example.com"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		clear();
		setenv(bad[i][0], bad[i][1], 1);
		if (gw_config_load(&c) != SHOP_EINVAL)
			fail_msg("%s=%s accepted", bad[i][0], bad[i][1]);
	}
	clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_defaults),
	        cmocka_unit_test(test_values),
	        cmocka_unit_test(test_bad_values),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
