#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "router.h"

#include <string.h>

static struct route_match m(const char *path)
{
	return router_match(path, strlen(path));
}

static void test_product_routes(void **state)
{
	(void)state;
	assert_int_equal(m("/api/products").kind, ROUTE_PROXY);
	assert_int_equal(m("/api/products").service, SVC_PRODUCT);
	assert_int_equal(m("/api/products/").service, SVC_PRODUCT);
	assert_int_equal(m("/api/products/1234").service, SVC_PRODUCT);
	assert_string_equal(m("/api/products/1234").prefix, "/api/products");
	assert_int_equal(m("/api/categories").service, SVC_PRODUCT);
	assert_string_equal(m("/api/categories").prefix, "/api/categories");
}

static void test_later_services(void **state)
{
	(void)state;
	assert_int_equal(m("/api/auth/login").service, SVC_USER);
	assert_int_equal(m("/api/users/me").service, SVC_USER);
	assert_int_equal(m("/.well-known/jwks.json").service, SVC_USER);
	assert_int_equal(m("/api/cart").service, SVC_CART);
	assert_int_equal(m("/api/cart/items/x").service, SVC_CART);
	assert_int_equal(m("/api/orders").service, SVC_ORDER);
	assert_int_equal(m("/api/payments").service, SVC_PAYMENT);
	assert_int_equal(m("/api/emails").service, SVC_EMAIL);
	assert_string_equal(service_env(SVC_CART), "CART_UPSTREAMS");
	assert_string_equal(service_name(SVC_ORDER), "order");
	assert_string_equal(service_default_upstreams(SVC_PRODUCT),
	                    "127.0.0.1:8004");
}

static void test_prefix_stops_at_segment(void **state)
{
	(void)state;
	assert_int_equal(m("/api/productsx").kind, ROUTE_NO_API);
	assert_int_equal(m("/api/cartoon").kind, ROUTE_NO_API);
	assert_int_equal(m("/api/unknown").kind, ROUTE_NO_API);
	assert_int_equal(m("/api").kind, ROUTE_NO_API);
	assert_int_equal(m("/api/").kind, ROUTE_NO_API);
	assert_int_equal(m("/apix").kind, ROUTE_STATIC);
	assert_int_equal(m("/API/products").kind, ROUTE_STATIC);
}

static void test_internal_never_routed(void **state)
{
	(void)state;
	assert_int_equal(m("/internal").kind, ROUTE_INTERNAL);
	assert_int_equal(m("/internal/").kind, ROUTE_INTERNAL);
	assert_int_equal(m("/internal/reservations").kind, ROUTE_INTERNAL);
	assert_int_equal(m("/internalx").kind, ROUTE_STATIC);
}

static void test_own_routes(void **state)
{
	(void)state;
	assert_int_equal(m("/health").kind, ROUTE_HEALTH);
	assert_int_equal(m("/ready").kind, ROUTE_READY);
	assert_int_equal(m("/metrics").kind, ROUTE_METRICS);
	assert_int_equal(m("/health/x").kind, ROUTE_STATIC);
	assert_int_equal(m("/").kind, ROUTE_STATIC);
	assert_int_equal(m("/products/42").kind, ROUTE_STATIC);
	assert_int_equal(m("/assets/index-abc.js").kind, ROUTE_STATIC);
	assert_string_equal(m("/x").prefix, "static");
}

static void test_length_is_respected(void **state)
{
	(void)state;
	/* the path is not NUL-terminated at len */
	assert_int_equal(router_match("/api/products?x", 13).kind, ROUTE_PROXY);
	assert_int_equal(router_match("/healthz", 7).kind, ROUTE_HEALTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_product_routes),
	        cmocka_unit_test(test_later_services),
	        cmocka_unit_test(test_prefix_stops_at_segment),
	        cmocka_unit_test(test_internal_never_routed),
	        cmocka_unit_test(test_own_routes),
	        cmocka_unit_test(test_length_is_respected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
