#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "trace.h"

#include "shop/util.h"

#include <string.h>

static void test_request_id_valid(void **state)
{
	char s[200];

	(void)state;
	assert_true(trace_request_id_valid("a"));
	assert_true(trace_request_id_valid("abc-DEF_0.9"));
	assert_true(
	        trace_request_id_valid("0b8e5a9c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"));
	assert_false(trace_request_id_valid(""));
	assert_false(trace_request_id_valid("has space"));
	assert_false(trace_request_id_valid("semi;colon"));
	assert_false(trace_request_id_valid("new\nline"));
	assert_false(trace_request_id_valid("quote\""));
	assert_false(trace_request_id_valid("caf\xc3\xa9"));
	memset(s, 'x', 128);
	s[128] = '\0';
	assert_true(trace_request_id_valid(s));
	s[128] = 'x';
	s[129] = '\0';
	assert_false(trace_request_id_valid(s));
}

static void test_request_id_new_is_uuid_v4(void **state)
{
	struct trace_rng rng;
	char a[37], b[37];

	(void)state;
	trace_rng_init(&rng);
	for (int i = 0; i < 1000; i++) {
		trace_request_id_new(&rng, a);
		assert_true(shop_uuid_valid(a));
		assert_int_equal(a[14], '4');
		assert_true(strchr("89ab", a[19]) != NULL);
		assert_true(trace_request_id_valid(a));
		trace_request_id_new(&rng, b);
		assert_string_not_equal(a, b);
	}
}

static void test_traceparent(void **state)
{
	struct trace_rng rng;
	char tp[TRACE_PARENT_LEN + 1];

	(void)state;
	assert_true(trace_parent_valid(
	        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	assert_false(trace_parent_valid(
	        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
	assert_false(trace_parent_valid(
	        "00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
	assert_false(trace_parent_valid(
	        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
	assert_false(trace_parent_valid(
	        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	assert_false(trace_parent_valid(
	        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));
	assert_true(trace_parent_valid(
	        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));
	assert_false(trace_parent_valid("00-short"));
	assert_false(trace_parent_valid(""));

	trace_rng_init(&rng);
	for (int i = 0; i < 1000; i++) {
		trace_parent_new(&rng, tp);
		assert_int_equal(strlen(tp), TRACE_PARENT_LEN);
		assert_true(trace_parent_valid(tp));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_request_id_valid),
	        cmocka_unit_test(test_request_id_new_is_uuid_v4),
	        cmocka_unit_test(test_traceparent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
