#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "headers.h"

static void test_request_headers(void **state)
{
	(void)state;
	assert_int_equal(headers_classify_request("Authorization"),
	                 REQH_AUTHORIZATION);
	assert_int_equal(headers_classify_request("authorization"),
	                 REQH_AUTHORIZATION);
	assert_int_equal(headers_classify_request("Content-Type"),
	                 REQH_FORWARD);
	assert_int_equal(headers_classify_request("Accept"), REQH_FORWARD);
	assert_int_equal(headers_classify_request("Idempotency-Key"),
	                 REQH_FORWARD);
	assert_int_equal(headers_classify_request("User-Agent"), REQH_FORWARD);
	assert_int_equal(headers_classify_request("tracestate"), REQH_FORWARD);
	assert_int_equal(headers_classify_request("Host"), REQH_HOST);
	assert_int_equal(headers_classify_request("x-request-id"),
	                 REQH_REQUEST_ID);
	assert_int_equal(headers_classify_request("Traceparent"),
	                 REQH_TRACEPARENT);
	assert_int_equal(headers_classify_request("If-None-Match"),
	                 REQH_IF_NONE_MATCH);
	assert_int_equal(headers_classify_request("Content-Length"),
	                 REQH_CONTENT_LENGTH);
	assert_int_equal(headers_classify_request("Transfer-Encoding"),
	                 REQH_TRANSFER_ENCODING);
	assert_int_equal(headers_classify_request("Origin"), REQH_ORIGIN);
	assert_int_equal(headers_classify_request("origin"), REQH_ORIGIN);
	assert_int_equal(
	        headers_classify_request("Access-Control-Request-Method"),
	        REQH_CORS_METHOD);
	assert_int_equal(
	        headers_classify_request("Access-Control-Request-Headers"),
	        REQH_OTHER);
	/* hop-by-hop and spoofable headers stay here */
	assert_int_equal(headers_classify_request("Connection"), REQH_OTHER);
	assert_int_equal(headers_classify_request("Keep-Alive"), REQH_OTHER);
	assert_int_equal(headers_classify_request("Upgrade"), REQH_OTHER);
	assert_int_equal(headers_classify_request("X-Forwarded-For"),
	                 REQH_OTHER);
	assert_int_equal(headers_classify_request("Expect"), REQH_OTHER);
	assert_int_equal(headers_classify_request("Proxy-Authorization"),
	                 REQH_OTHER);
	assert_int_equal(headers_classify_request(""), REQH_OTHER);
}

static void test_response_headers(void **state)
{
	(void)state;
	assert_true(headers_response_passed("Content-Type"));
	assert_true(headers_response_passed("Location"));
	assert_true(headers_response_passed("ETag"));
	assert_true(headers_response_passed("Cache-Control"));
	assert_true(headers_response_passed("Allow"));
	assert_true(headers_response_passed("Retry-After"));
	assert_true(headers_response_passed("WWW-Authenticate"));
	assert_true(headers_response_passed("Set-Cookie"));
	assert_false(headers_response_passed("Connection"));
	assert_false(headers_response_passed("keep-alive"));
	assert_false(headers_response_passed("Transfer-Encoding"));
	assert_false(headers_response_passed("Content-Length"));
	assert_false(headers_response_passed("Date"));
	assert_false(headers_response_passed("TE"));
	assert_false(headers_response_passed("Trailer"));
	assert_false(headers_response_passed("Upgrade"));
	assert_false(headers_response_passed("Proxy-Connection"));
	assert_false(headers_response_passed("X-Request-ID"));
	assert_false(headers_response_passed("x-frame-options"));
	assert_false(headers_response_passed("X-Content-Type-Options"));
	assert_false(headers_response_passed("Referrer-Policy"));
	/* CORS is the gateway's */
	assert_false(headers_response_passed("Access-Control-Allow-Origin"));
	assert_false(headers_response_passed("access-control-max-age"));
	assert_false(headers_response_passed("Access-Control-Allow-Methods"));
	assert_false(
	        headers_response_passed("Access-Control-Allow-Credentials"));
	assert_false(headers_response_passed("Access-Control-Expose-Headers"));
	assert_true(headers_response_passed("Vary"));
	assert_true(headers_response_passed("X-Access-Control-Something"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_request_headers),
	        cmocka_unit_test(test_response_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
