#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shop/router.h"

static void h(struct http_request *req)
{
	(void)req;
}

static const struct http_route routes[] = {
        /* 0 */ {"GET", "/", h, 0},
        /* 1 */ {"GET", "/api/products", h, 0},
        /* 2 */ {"POST", "/api/products", h, HTTP_ADMIN | HTTP_JSON_BODY},
        /* 3 */ {"GET", "/api/products/search", h, 0},
        /* 4 */ {"GET", "/api/products/{id}", h, 0},
        /* 5 */ {"PATCH", "/api/products/{id}", h, HTTP_ADMIN},
        /* 6 */ {"DELETE", "/api/products/{id}", h, HTTP_ADMIN},
        /* 7 */ {"GET", "/api/users/{uid}/orders/{oid}", h, HTTP_AUTH},
        /* 8 */ {"PUT", "/api/products/search", h, 0},
        /* 9 */ {"GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/{p}", h, 0},
};
#define NROUTES (sizeof(routes) / sizeof(*routes))

static int setup(void **state)
{
	*state = router_new(routes, NROUTES);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	router_free(*state);
	return 0;
}

/* Matches method and path (copied, since the router cuts it). */
static enum router_result match(void **state, const char *method,
                                const char *path, struct router_match *m,
                                char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", path);
	return router_match(*state, method, buf, m);
}

static void assert_found(void **state, const char *method, const char *path,
                         size_t index)
{
	struct router_match m;
	char buf[256];

	if (match(state, method, path, &m, buf, sizeof(buf)) != ROUTER_FOUND)
		fail_msg("%s %s not found", method, path);
	assert_int_equal(m.index, index);
	assert_ptr_equal(m.route, &routes[index]);
}

static void assert_not_found(void **state, const char *method, const char *path)
{
	struct router_match m;
	char buf[256];

	if (match(state, method, path, &m, buf, sizeof(buf)) !=
	    ROUTER_NOT_FOUND)
		fail_msg("%s '%s' was not a 404", method, path);
	assert_null(m.route);
	assert_int_equal(m.nparams, 0);
}

static void test_literal_routes(void **state)
{
	assert_found(state, "GET", "/", 0);
	assert_found(state, "GET", "/api/products", 1);
	assert_found(state, "POST", "/api/products", 2);
	assert_found(state, "GET", "/api/products/search", 3);
	assert_found(state, "PUT", "/api/products/search", 8);
}

static void test_params_extracted(void **state)
{
	struct router_match m;
	char buf[256];

	assert_int_equal(
	        match(state, "GET", "/api/products/42", &m, buf, sizeof(buf)),
	        ROUTER_FOUND);
	assert_int_equal(m.index, 4);
	assert_int_equal(m.nparams, 1);
	assert_string_equal(m.params[0], "42");

	assert_int_equal(match(state, "GET", "/api/users/u-1/orders/o 2", &m,
	                       buf, sizeof(buf)),
	                 ROUTER_FOUND);
	assert_int_equal(m.index, 7);
	assert_int_equal(m.nparams, 2);
	assert_string_equal(m.params[0], "u-1");
	assert_string_equal(m.params[1], "o 2");
	/* Parameters point into the caller's buffer. */
	assert_true(m.params[0] > buf && m.params[0] < buf + sizeof(buf));
}

static void test_same_path_methods(void **state)
{
	assert_found(state, "GET", "/api/products/7", 4);
	assert_found(state, "PATCH", "/api/products/7", 5);
	assert_found(state, "DELETE", "/api/products/7", 6);
}

static void test_not_found(void **state)
{
	static const char *const paths[] = {"/nope",
	                                    "/api",
	                                    "/api/products/42/extra",
	                                    "/api/users/1/orders",
	                                    "/api/products/",
	                                    "/api/products//",
	                                    "/api//products",
	                                    "//",
	                                    "//api/products",
	                                    "",
	                                    "api/products",
	                                    "/api/products/42/",
	                                    "/API/products"};

	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++)
		assert_not_found(state, "GET", paths[i]);
	/* A 404 wins over a 405: the path matches nothing. */
	assert_not_found(state, "POST", "/nope");
}

static void test_segment_limit(void **state)
{
	char path[256];
	struct router_match m;
	char buf[256];

	/* 16 segments is the most a pattern may have: it still matches. */
	assert_found(state, "GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/x", 9);
	assert_int_equal(match(state, "GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/x",
	                       &m, buf, sizeof(buf)),
	                 ROUTER_FOUND);
	assert_string_equal(m.params[0], "x");
	assert_not_found(state, "GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/x/y");
	path[0] = '\0';
	for (int i = 0; i < 40; i++)
		strcat(path, "/s");
	assert_not_found(state, "GET", path);
}

static void test_method_not_allowed(void **state)
{
	struct router_match m;
	char buf[256];

	assert_int_equal(
	        match(state, "POST", "/api/products/42", &m, buf, sizeof(buf)),
	        ROUTER_METHOD_NOT_ALLOWED);
	assert_null(m.route);
	assert_string_equal(m.allow, "GET, PATCH, DELETE");

	/* Two patterns match "/api/products/search": the literal's GET and
	 * PUT and the {id} route's three methods, each method named once. */
	assert_int_equal(match(state, "POST", "/api/products/search", &m, buf,
	                       sizeof(buf)),
	                 ROUTER_METHOD_NOT_ALLOWED);
	assert_string_equal(m.allow, "GET, PATCH, DELETE, PUT");

	assert_int_equal(
	        match(state, "DELETE", "/api/products", &m, buf, sizeof(buf)),
	        ROUTER_METHOD_NOT_ALLOWED);
	assert_string_equal(m.allow, "GET, POST");
	/* Methods are case-sensitive. */
	assert_int_equal(match(state, "get", "/", &m, buf, sizeof(buf)),
	                 ROUTER_METHOD_NOT_ALLOWED);
	assert_string_equal(m.allow, "GET");
}

static void test_first_match_in_table_order(void **state)
{
	/* "search" is listed before "{id}", so it is not taken as an id. */
	assert_found(state, "GET", "/api/products/search", 3);
}

static void test_empty_table(void **state)
{
	struct router *r = router_new(NULL, 0);
	struct router_match m;
	char buf[] = "/";

	(void)state;
	assert_non_null(r);
	assert_int_equal(router_match(r, "GET", buf, &m), ROUTER_NOT_FOUND);
	router_free(r);
	router_free(NULL);
}

/* Returns true when compiling pattern aborts (BUG) in a child process. */
static bool pattern_bugs(const char *pattern)
{
	struct http_route bad = {"GET", pattern, h, 0};
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDERR_FILENO);
		router_free(router_new(&bad, 1));
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void test_malformed_patterns_bug(void **state)
{
	static const char *const bad[] = {
	        NULL,
	        "",
	        "api",
	        "/a//b",
	        "/a/",
	        "/{}",
	        "/{id",
	        "/id}",
	        "/a{id}",
	        "/x/{a}b",
	        "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q",
	        "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (!pattern_bugs(bad[i]))
			fail_msg("pattern '%s' compiled",
			         bad[i] ? bad[i] : "NULL");
	}
	assert_false(pattern_bugs("/"));
	assert_false(pattern_bugs("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_literal_routes),
	        cmocka_unit_test(test_params_extracted),
	        cmocka_unit_test(test_same_path_methods),
	        cmocka_unit_test(test_not_found),
	        cmocka_unit_test(test_segment_limit),
	        cmocka_unit_test(test_method_not_allowed),
	        cmocka_unit_test(test_first_match_in_table_order),
	        cmocka_unit_test(test_empty_table),
	        cmocka_unit_test(test_malformed_patterns_bug),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
