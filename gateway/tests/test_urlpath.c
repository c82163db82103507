#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "urlpath.h"

#include "shop/error.h"

#include <string.h>

static int dec(const char *raw, char *out, size_t cap)
{
	size_t n = 12345;
	int rc = urlpath_decode(raw, strlen(raw), out, cap, &n);

	if (rc == 0)
		assert_int_equal(n, strlen(out));
	return rc;
}

static void test_target(void **state)
{
	(void)state;
	assert_true(urlpath_target_valid("/"));
	assert_true(urlpath_target_valid("/api/products?page=1&q=a%20b"));
	assert_false(urlpath_target_valid(""));
	assert_false(urlpath_target_valid("*"));
	assert_false(urlpath_target_valid("http://evil/"));
	assert_false(urlpath_target_valid("/a b"));
	assert_false(urlpath_target_valid("/a\tb"));
	assert_false(urlpath_target_valid("/caf\xc3\xa9"));
	assert_int_equal(urlpath_path_len("/a/b?c=d"), 4);
	assert_int_equal(urlpath_path_len("/a/b"), 4);
}

static void test_decode(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(dec("/a%20b", out, sizeof(out)), 0);
	assert_string_equal(out, "/a b");
	assert_int_equal(dec("/%2e%2E/x", out, sizeof(out)), 0);
	assert_string_equal(out, "/../x");
	assert_int_equal(dec("/a+b", out, sizeof(out)), 0);
	assert_string_equal(out, "/a+b");
	assert_int_equal(dec("/%41%6a", out, sizeof(out)), 0);
	assert_string_equal(out, "/Aj");
	assert_int_equal(dec("/%", out, sizeof(out)), SHOP_EINVAL);
	assert_int_equal(dec("/%4", out, sizeof(out)), SHOP_EINVAL);
	assert_int_equal(dec("/%zz", out, sizeof(out)), SHOP_EINVAL);
	assert_int_equal(dec("/%00", out, sizeof(out)), SHOP_EINVAL);
	assert_int_equal(dec("/abcdef", out, 4), SHOP_EINVAL);
	assert_int_equal(dec("/abc", out, 5), 0);
}

static void test_dot_segments(void **state)
{
	const char *bad[] = {
	        "/..",  "/../etc/passwd", "/a/../b", "/a/..",          "/./a",
	        "/a/.", "//..//",         "..",      "/assets/../../x"};
	const char *good[] = {"/",        "/a",   "/a/b",  "/.well-known/x",
	                      "/a..b",    "/...", "/a/.b", "/index.html",
	                      "/..hidden"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (!urlpath_has_dot_segment(bad[i], strlen(bad[i])))
			fail_msg("not caught: %s", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (urlpath_has_dot_segment(good[i], strlen(good[i])))
			fail_msg("rejected: %s", good[i]);
}

static void test_encoded_traversal(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	assert_int_equal(urlpath_decode("/%2e%2e/%2e%2e/etc/passwd", 25, out,
	                                sizeof(out), &n),
	                 0);
	assert_true(urlpath_has_dot_segment(out, n));
	assert_int_equal(urlpath_decode("/assets%2f..%2f..%2fx", 21, out,
	                                sizeof(out), &n),
	                 0);
	assert_true(urlpath_has_dot_segment(out, n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_target),
	        cmocka_unit_test(test_decode),
	        cmocka_unit_test(test_dot_segments),
	        cmocka_unit_test(test_encoded_traversal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
