#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cors.h"

#include "shop/error.h"

#include <stdio.h>
#include <string.h>

static struct cors c; /* 8 KiB */

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(cors_parse(&c, NULL), 0);
	assert_false(cors_enabled(&c));
	assert_int_equal(cors_parse(&c, ""), 0);
	assert_false(cors_enabled(&c));
	assert_int_equal(cors_parse(&c, " , ,"), 0);
	assert_false(cors_enabled(&c));

	assert_int_equal(
	        cors_parse(&c,
	                   "http://localhost:5173,https://shop.example.com"),
	        0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.origins[0], "http://localhost:5173");
	assert_string_equal(c.origins[1], "https://shop.example.com");

	/* spaces, empty items, case and duplicates */
	assert_int_equal(cors_parse(&c, " HTTPS://Shop.Example.COM ,,"
	                                "https://shop.example.com,"
	                                "http://[::1]:8080, http://127.0.0.1"),
	                 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.origins[0], "https://shop.example.com");
	assert_string_equal(c.origins[1], "http://[::1]:8080");
	assert_string_equal(c.origins[2], "http://127.0.0.1");
}

static void test_parse_refuses(void **state)
{
	static const char *const bad[] = {
	        "*",
	        "null",
	        "shop.example.com",
	        "ftp://shop.example.com",
	        "https://",
	        "https://shop.example.com/",
	        "https://shop.example.com/app",
	        "https://shop.example.com?x",
	        "https://shop.example.com:",
	        "https://shop.example.com:0",
	        "https://shop.example.com:65536",
	        "https://shop.example.com:123456",
	        "https://user@shop.example.com",
	        "https://shop example.com",
	        "https://[::1",
	        "https://[]",
	        "https://.example.com",
	        "http://localhost:5173,https://*.example.com",
	        /* default ports never appear in a browser's Origin */
	        "https://shop.example.com:443",
	        "http://localhost:80",
	};
	char many[CORS_MAX_ORIGINS * 32 + 64] = "";
	char longest[CORS_ORIGIN_MAX + 16] = "https://";

	(void)state;
	assert_int_equal(cors_parse(&c, "https://kept.example.com"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cors_parse(&c, bad[i]) != SHOP_EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	}
	/* a refused list leaves the old one */
	assert_int_equal(c.n, 1);
	assert_string_equal(c.origins[0], "https://kept.example.com");

	for (int i = 0; i <= CORS_MAX_ORIGINS; i++) {
		char one[32];

		snprintf(one, sizeof(one), "%shttp://h%d", i ? "," : "", i);
		strcat(many, one);
	}
	assert_int_equal(cors_parse(&c, many), SHOP_EINVAL);
	*strrchr(many, ',') = '\0';
	assert_int_equal(cors_parse(&c, many), 0);
	assert_int_equal(c.n, CORS_MAX_ORIGINS);

	memset(longest + 8, 'a', CORS_ORIGIN_MAX - 9);
	longest[CORS_ORIGIN_MAX - 1] = '\0';
	assert_int_equal(cors_parse(&c, longest), 0);
	strcat(longest, "a");
	assert_int_equal(cors_parse(&c, longest), SHOP_EINVAL);
}

static void test_match(void **state)
{
	(void)state;
	assert_int_equal(
	        cors_parse(&c,
	                   "http://localhost:5173,https://shop.example.com"),
	        0);
	assert_string_equal(cors_match(&c, "https://shop.example.com"),
	                    "https://shop.example.com");
	assert_string_equal(cors_match(&c, "http://localhost:5173"),
	                    "http://localhost:5173");
	/* exact: no prefix, suffix, other port or scheme */
	assert_null(cors_match(&c, "http://localhost"));
	assert_null(cors_match(&c, "http://localhost:51730"));
	assert_null(cors_match(&c, "https://localhost:5173"));
	assert_null(cors_match(&c, "https://shop.example.com.evil.test"));
	assert_null(cors_match(&c, "https://evil.shop.example.com"));
	assert_null(cors_match(&c, "https://shop.example.com/"));
	assert_null(cors_match(&c, "null"));
	assert_null(cors_match(&c, ""));
	assert_null(cors_match(&c, NULL));
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(cors_parse(&c, ""), 0);
	/* off: never a preflight of ours */
	assert_int_equal(
	        cors_classify(&c, "OPTIONS", "https://shop.example.com", true),
	        CORS_NOT_PREFLIGHT);
	assert_int_equal(cors_parse(&c, "https://shop.example.com"), 0);
	assert_int_equal(
	        cors_classify(&c, "OPTIONS", "https://shop.example.com", true),
	        CORS_PREFLIGHT_ALLOWED);
	assert_int_equal(
	        cors_classify(&c, "OPTIONS", "https://evil.example", true),
	        CORS_PREFLIGHT_REFUSED);
	/* without Access-Control-Request-Method, or Origin, or as another
	 * method: an ordinary request */
	assert_int_equal(
	        cors_classify(&c, "OPTIONS", "https://shop.example.com", false),
	        CORS_NOT_PREFLIGHT);
	assert_int_equal(cors_classify(&c, "OPTIONS", NULL, true),
	                 CORS_NOT_PREFLIGHT);
	assert_int_equal(
	        cors_classify(&c, "GET", "https://shop.example.com", true),
	        CORS_NOT_PREFLIGHT);
}

static const char *find(const struct cors_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

static void test_headers(void **state)
{
	struct cors_header h[CORS_HEADERS_MAX];
	size_t n;

	(void)state;
	assert_int_equal(cors_parse(&c, ""), 0);
	assert_int_equal(cors_headers(&c, "https://shop.example.com", false, h),
	                 0);

	assert_int_equal(cors_parse(&c, "https://shop.example.com"), 0);
	/* listed, an ordinary request */
	n = cors_headers(&c, "https://shop.example.com", false, h);
	assert_int_equal(n, 3);
	assert_string_equal(find(h, n, "Vary"), "Origin");
	assert_string_equal(find(h, n, "Access-Control-Allow-Origin"),
	                    "https://shop.example.com");
	assert_string_equal(find(h, n, "Access-Control-Expose-Headers"),
	                    "X-Request-ID, Retry-After, Location");
	assert_null(find(h, n, "Access-Control-Allow-Methods"));
	assert_null(find(h, n, "Access-Control-Allow-Credentials"));

	/* listed, a preflight */
	n = cors_headers(&c, "https://shop.example.com", true, h);
	assert_int_equal(n, 5);
	assert_string_equal(find(h, n, "Access-Control-Allow-Origin"),
	                    "https://shop.example.com");
	assert_string_equal(find(h, n, "Access-Control-Allow-Methods"),
	                    "GET, POST, PUT, PATCH, DELETE, OPTIONS");
	assert_string_equal(find(h, n, "Access-Control-Allow-Headers"),
	                    "Authorization, Content-Type, X-Request-ID, "
	                    "Idempotency-Key, traceparent");
	assert_string_equal(find(h, n, "Access-Control-Max-Age"), "600");
	assert_string_equal(find(h, n, "Vary"), "Origin");

	/* unlisted or no Origin: Vary only */
	n = cors_headers(&c, "https://evil.example", false, h);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].name, "Vary");
	n = cors_headers(&c, "https://evil.example", true, h);
	assert_int_equal(n, 1);
	n = cors_headers(&c, NULL, false, h);
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse),
	        cmocka_unit_test(test_parse_refuses),
	        cmocka_unit_test(test_match),
	        cmocka_unit_test(test_classify),
	        cmocka_unit_test(test_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
