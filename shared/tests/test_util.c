#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "shop/error.h"
#include "shop/http.h" /* request-id and traceparent checks (problem.c) */
#include "shop/util.h"

static void test_uuid_v4_format(void **state)
{
	char u[SHOP_UUID_LEN + 1];

	(void)state;
	for (int i = 0; i < 200; i++) {
		memset(u, 'Z', sizeof(u));
		shop_uuid_v4(u);
		assert_int_equal(strlen(u), SHOP_UUID_LEN);
		assert_true(shop_uuid_valid(u));
		for (int j = 0; j < SHOP_UUID_LEN; j++) {
			if (j == 8 || j == 13 || j == 18 || j == 23)
				assert_int_equal(u[j], '-');
			else
				assert_non_null(
				        strchr("0123456789abcdef", u[j]));
		}
		/* Version 4, variant 10xx. */
		assert_int_equal(u[14], '4');
		assert_non_null(strchr("89ab", u[19]));
	}
}

static void test_uuid_v4_unique(void **state)
{
	enum { N = 1000 };
	static char seen[N][SHOP_UUID_LEN + 1];

	(void)state;
	for (int i = 0; i < N; i++) {
		shop_uuid_v4(seen[i]);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
	}
}

static void test_uuid_valid(void **state)
{
	static const char *const good[] = {
	        "123e4567-e89b-12d3-a456-426614174000",
	        "00000000-0000-0000-0000-000000000000",
	        "ABCDEF01-2345-6789-ABCD-EF0123456789",
	        "abcdef01-2345-6789-AbCd-ef0123456789"};
	static const char *const bad[] = {
	        "",
	        "123e4567",
	        "123e4567-e89b-12d3-a456-42661417400",
	        "123e4567-e89b-12d3-a456-4266141740000",
	        "123e4567e89b-12d3-a456-4266141740000",
	        "123e4567-e89b-12d3-a456_426614174000",
	        "g23e4567-e89b-12d3-a456-426614174000",
	        "{23e4567-e89b-12d3-a456-42661417400}",
	        " 23e4567-e89b-12d3-a456-426614174000",
	        "123e4567-e89b-12d3-a456-426614174000 ",
	        "123e4567-e89b-12d3-a456-42661417400\n"};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_true(shop_uuid_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (shop_uuid_valid(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void test_rfc3339(void **state)
{
	char out[21];

	(void)state;
	shop_time_rfc3339(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	shop_time_rfc3339(1795255323, out);
	assert_string_equal(out, "2026-11-21T10:02:03Z");
	shop_time_rfc3339(951782400, out); /* leap day */
	assert_string_equal(out, "2000-02-29T00:00:00Z");
	shop_time_rfc3339(253402300799, out);
	assert_string_equal(out, "9999-12-31T23:59:59Z");
}

static void test_parse_long_accepts(void **state)
{
	long out = -1;

	(void)state;
	assert_int_equal(shop_parse_long("0", 0, 10, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(shop_parse_long("10", 0, 10, &out), 0);
	assert_int_equal(out, 10);
	assert_int_equal(shop_parse_long("-7", -10, 10, &out), 0);
	assert_int_equal(out, -7);
	assert_int_equal(shop_parse_long("007", 0, 10, &out), 0);
	assert_int_equal(out, 7);
	assert_int_equal(
	        shop_parse_long("9223372036854775807", 0, LONG_MAX, &out), 0);
	assert_true(out == LONG_MAX);
	assert_int_equal(
	        shop_parse_long("-9223372036854775808", LONG_MIN, 0, &out), 0);
	assert_true(out == LONG_MIN);
}

static void test_parse_long_rejects(void **state)
{
	static const char *const bad[] = {"",
	                                  " 1",
	                                  "1 ",
	                                  "+1",
	                                  "1a",
	                                  "a1",
	                                  "-",
	                                  "--1",
	                                  "- 1",
	                                  "1.0",
	                                  "0x10",
	                                  "1e3",
	                                  "\t1",
	                                  "1\n",
	                                  "9223372036854775808",
	                                  "-9223372036854775809",
	                                  "99999999999999999999999"};
	long out = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (shop_parse_long(bad[i], LONG_MIN, LONG_MAX, &out) !=
		    SHOP_EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(shop_parse_long(NULL, 0, 10, &out), SHOP_EINVAL);
	/* Bounds are inclusive and checked. */
	assert_int_equal(shop_parse_long("11", 0, 10, &out), SHOP_EINVAL);
	assert_int_equal(shop_parse_long("-1", 0, 10, &out), SHOP_EINVAL);
	assert_int_equal(shop_parse_long("5", 6, 10, &out), SHOP_EINVAL);
	assert_int_equal(out, 42);
}

static void test_deadline_after_ms(void **state)
{
	struct timespec now, d;
	static const long cases[] = {0, 1, 999, 1000, 1500, 61001};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		long long diff_ns;

		clock_gettime(CLOCK_MONOTONIC, &now);
		shop_deadline_after_ms(CLOCK_MONOTONIC, cases[i], &d);
		assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
		diff_ns = (long long)(d.tv_sec - now.tv_sec) * 1000000000LL +
		          (d.tv_nsec - now.tv_nsec);
		/* ms later, give or take the time between the two reads */
		assert_true(diff_ns >= cases[i] * 1000000LL);
		assert_true(diff_ns < cases[i] * 1000000LL + 50000000LL);
	}
}

static void test_clock_and_random(void **state)
{
	unsigned char a[32] = {0}, b[32] = {0};
	uint64_t t0 = shop_now_ns(), t1;
	double s0 = shop_now_s();

	(void)state;
	assert_int_equal(shop_random_bytes(a, sizeof(a)), 0);
	assert_int_equal(shop_random_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(shop_random_bytes(a, 0), 0);
	t1 = shop_now_ns();
	assert_true(t1 >= t0);
	assert_true(shop_now_s() >= s0);
	assert_true(shop_ncpu() >= 1);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(shop_strerror(SHOP_OK), "ok");
	assert_string_equal(shop_strerror(SHOP_ENOTFOUND), "not found");
	assert_string_equal(shop_strerror(SHOP_EUNAVAIL),
	                    "dependency unavailable");
	assert_string_equal(shop_strerror(-1000), "error");
}

static void test_request_id_valid(void **state)
{
	char max[129], over[130];

	(void)state;
	memset(max, 'a', 128);
	max[128] = '\0';
	memset(over, 'a', 129);
	over[129] = '\0';
	assert_true(http_request_id_valid("a"));
	assert_true(http_request_id_valid("req-1.2_X"));
	assert_true(
	        http_request_id_valid("123e4567-e89b-12d3-a456-426614174000"));
	assert_true(http_request_id_valid(max));
	assert_false(http_request_id_valid(over));
	assert_false(http_request_id_valid(NULL));
	assert_false(http_request_id_valid(""));
	assert_false(http_request_id_valid("has space"));
	assert_false(http_request_id_valid("semi;colon"));
	assert_false(http_request_id_valid("new\nline"));
	assert_false(http_request_id_valid("quote\""));
	assert_false(http_request_id_valid("caf\xc3\xa9"));
}

#define TP_TRACE  "4bf92f3577b34da6a3ce929d0e0e4736"
#define TP_PARENT "00f067aa0ba902b7"

static void test_traceparent_valid(void **state)
{
	static const char *const bad[] = {
	        "",
	        "00-" TP_TRACE "-" TP_PARENT,             /* no flags */
	        "01-" TP_TRACE "-" TP_PARENT "-01",       /* version */
	        "00-" TP_TRACE "-" TP_PARENT "-01-extra", /* too long */
	        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" TP_PARENT
	        "-01", /* case */
	        "00-00000000000000000000000000000000-" TP_PARENT
	        "-01",                                 /* zero */
	        "00-" TP_TRACE "-0000000000000000-01", /* zero parent */
	        "00_" TP_TRACE "-" TP_PARENT "-01",
	        "00-" TP_TRACE "-" TP_PARENT "-0g",
	        "00-4bf92f3577b34da6a3ce929d0e0e473g-" TP_PARENT "-01"};

	(void)state;
	assert_true(http_traceparent_valid("00-" TP_TRACE "-" TP_PARENT "-01"));
	assert_true(http_traceparent_valid("00-" TP_TRACE "-" TP_PARENT "-00"));
	assert_false(http_traceparent_valid(NULL));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (http_traceparent_valid(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void test_traceparent_new(void **state)
{
	char a[56], b[56];

	(void)state;
	http_traceparent_new(a);
	http_traceparent_new(b);
	assert_int_equal(strlen(a), 55);
	assert_true(http_traceparent_valid(a));
	assert_true(http_traceparent_valid(b));
	assert_string_not_equal(a, b);
	assert_int_equal(a[53], '0');
	assert_int_equal(a[54], '1');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_uuid_v4_format),
	        cmocka_unit_test(test_uuid_v4_unique),
	        cmocka_unit_test(test_uuid_valid),
	        cmocka_unit_test(test_rfc3339),
	        cmocka_unit_test(test_parse_long_accepts),
	        cmocka_unit_test(test_parse_long_rejects),
	        cmocka_unit_test(test_deadline_after_ms),
	        cmocka_unit_test(test_clock_and_random),
	        cmocka_unit_test(test_strerror),
	        cmocka_unit_test(test_request_id_valid),
	        cmocka_unit_test(test_traceparent_valid),
	        cmocka_unit_test(test_traceparent_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
