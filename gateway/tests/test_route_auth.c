#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "route_auth.h"

#include <stdbool.h>
#include <string.h>

static unsigned lookup(const char *method, const char *path)
{
	return route_auth_lookup(method, path, strlen(path));
}

static bool protected(const char *method, const char *path)
{
	return (lookup(method, path) & ROUTE_AUTH_REQUIRED) != 0;
}

static const char *const all_methods[] = {
        "GET",    "HEAD",    "POST",     "PUT", "PATCH",
        "DELETE", "OPTIONS", "PROPFIND", "get", ""};
#define NMETHODS (sizeof(all_methods) / sizeof(*all_methods))

static void test_every_method_protected(void **state)
{
	static const char *const paths[] = {
	        "/api/users",        "/api/users/me",      "/api/users/me/",
	        "/api/cart",         "/api/cart/items/42", "/api/orders",
	        "/api/orders/9/pay", "/api/payments",      "/api/payments/x",
	        "/api/emails",       "/api/emails/outbox",
	};

	(void)state;
	for (size_t p = 0; p < sizeof(paths) / sizeof(*paths); p++)
		for (size_t m = 0; m < NMETHODS; m++) {
			unsigned f = lookup(all_methods[m], paths[p]);

			if (f != ROUTE_AUTH_REQUIRED)
				fail_msg("%s %s: flags %u", all_methods[m],
				         paths[p], f);
		}
}

static void test_catalog_writes_protected(void **state)
{
	static const char *const paths[] = {"/api/products",
	                                    "/api/products/6f1c2a9e"};

	(void)state;
	for (size_t p = 0; p < sizeof(paths) / sizeof(*paths); p++) {
		assert_false(protected("GET", paths[p]));
		assert_false(protected("HEAD", paths[p]));
		assert_false(protected("OPTIONS", paths[p]));
		assert_true(protected("POST", paths[p]));
		assert_true(protected("PATCH", paths[p]));
		assert_true(protected("DELETE", paths[p]));
		/* the product service's 405, with its Allow header */
		assert_false(protected("PUT", paths[p]));
		assert_false(protected("PROPFIND", paths[p]));
	}
	/* the categories have no write route: every method is the
	 * service's answer (405 for a write) */
	assert_false(protected("GET", "/api/categories"));
	assert_false(protected("PUT", "/api/categories"));
	assert_false(protected("DELETE", "/api/categories/audio"));
	assert_false(protected("POST", "/api/productsx"));
}

static void test_logout(void **state)
{
	(void)state;
	assert_int_equal(lookup("POST", "/api/auth/logout"),
	                 ROUTE_AUTH_REQUIRED | ROUTE_AUTH_LOGOUT);
	assert_int_equal(lookup("POST", "/api/auth/logout/"),
	                 ROUTE_AUTH_REQUIRED | ROUTE_AUTH_LOGOUT);
	/* other methods on it are the user service's 405, not ours */
	assert_int_equal(lookup("GET", "/api/auth/logout"), 0);
	assert_int_equal(lookup("POST", "/api/auth/logoutx"), 0);
}

static void test_public(void **state)
{
	static const char *const paths[] = {
	        "/api/auth/register",
	        "/api/auth/login",
	        "/api/auth",
	        "/.well-known/jwks.json",
	        "/",
	        "/index.html",
	        "/assets/app.js",
	        "/products/42",
	        "/health",
	        "/ready",
	        "/metrics",
	        "/api/nothing",
	        "/internal/x",
	};

	(void)state;
	for (size_t p = 0; p < sizeof(paths) / sizeof(*paths); p++)
		for (size_t m = 0; m < NMETHODS; m++)
			if (lookup(all_methods[m], paths[p]) != 0)
				fail_msg("%s %s should be public",
				         all_methods[m], paths[p]);
}

static void test_segment_boundary(void **state)
{
	(void)state;
	assert_false(protected("GET", "/api/usersx"));
	assert_false(protected("GET", "/api/cartoon"));
	assert_false(protected("POST", "/api/productsx"));
	assert_false(protected("GET", "/api/user"));
	assert_true(protected("GET", "/api/cart/"));
	/* the length is what counts, not a NUL */
	assert_true(route_auth_lookup("GET", "/api/cartoon", 9) &
	            ROUTE_AUTH_REQUIRED);
	assert_false(route_auth_lookup("GET", "/api/cart", 8) &
	             ROUTE_AUTH_REQUIRED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_method_protected),
	        cmocka_unit_test(test_catalog_writes_protected),
	        cmocka_unit_test(test_logout),
	        cmocka_unit_test(test_public),
	        cmocka_unit_test(test_segment_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
