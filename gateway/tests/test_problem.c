#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "problem.h"

#include <string.h>

static void test_body(void **state)
{
	char buf[1024];
	size_t n;

	(void)state;
	n = problem_body(buf, sizeof(buf), 502, "'product' said \"no\"");
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "{\"type\":\"/problems/bad-gateway\","
	                         "\"title\":\"Bad Gateway\",\"status\":502,"
	                         "\"detail\":\"'product' said \\\"no\\\"\"}");
	problem_body(buf, sizeof(buf), 404, NULL);
	assert_string_equal(buf, "{\"type\":\"/problems/not-found\","
	                         "\"title\":\"Not Found\",\"status\":404,"
	                         "\"detail\":\"Not Found\"}");
	assert_string_equal(problem_title(413), "Content Too Large");
	assert_string_equal(problem_slug(599), "server-error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
