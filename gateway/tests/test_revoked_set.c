#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "shop/revoked_set.h"

#include "shop/auth.h"
#include "shop/error.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NOW 1800000000LL

static void test_add_and_lookup(void **state)
{
	struct revoked_set s;

	(void)state;
	revoked_set_init(&s, 0);
	assert_false(revoked_set_contains(&s, "a", NOW));
	assert_int_equal(revoked_set_add(&s, "a", NOW + 900, NOW), 0);
	assert_true(revoked_set_contains(&s, "a", NOW));
	assert_false(revoked_set_contains(&s, "b", NOW));
	assert_false(revoked_set_contains(&s, "", NOW));
	assert_false(revoked_set_contains(&s, NULL, NOW));
	assert_int_equal(revoked_set_size(&s), 1);
	/* twice: still one, and the later exp wins */
	assert_int_equal(revoked_set_add(&s, "a", NOW + 100, NOW), 0);
	assert_int_equal(revoked_set_size(&s), 1);
	assert_true(revoked_set_contains(&s, "a", NOW + 500));
	assert_int_equal(revoked_set_add(&s, "a", NOW + 2000, NOW), 0);
	assert_true(revoked_set_contains(&s, "a", NOW + 1500));
	revoked_set_release(&s);
}

static void test_bad_jti(void **state)
{
	struct revoked_set s;
	char longest[JWT_JTI_MAX], too_long[JWT_JTI_MAX + 1];

	(void)state;
	revoked_set_init(&s, 0);
	assert_int_equal(revoked_set_add(&s, "", NOW + 9, NOW), SHOP_EINVAL);
	assert_int_equal(revoked_set_add(&s, NULL, NOW + 9, NOW), SHOP_EINVAL);
	assert_int_equal(revoked_set_add(&s, "a b", NOW + 9, NOW), SHOP_EINVAL);
	assert_int_equal(revoked_set_add(&s, "a\nb", NOW + 9, NOW),
	                 SHOP_EINVAL);
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(too_long, 'x', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(revoked_set_add(&s, longest, NOW + 9, NOW), 0);
	assert_true(revoked_set_contains(&s, longest, NOW));
	assert_int_equal(revoked_set_add(&s, too_long, NOW + 9, NOW),
	                 SHOP_EINVAL);
	assert_int_equal(revoked_set_size(&s), 1);
	revoked_set_release(&s);
}

static void test_expiry_and_grace(void **state)
{
	struct revoked_set s;

	(void)state;
	revoked_set_init(&s, 30);
	assert_int_equal(revoked_set_add(&s, "t", NOW + 10, NOW), 0);
	assert_true(revoked_set_contains(&s, "t", NOW + 10));
	/* the verifier still accepts it within its leeway: still revoked */
	assert_true(revoked_set_contains(&s, "t", NOW + 39));
	assert_false(revoked_set_contains(&s, "t", NOW + 40));
	/* already past exp + grace: nothing to remember */
	assert_int_equal(revoked_set_add(&s, "old", NOW - 31, NOW), 0);
	assert_int_equal(revoked_set_size(&s), 1);
	assert_int_equal(revoked_set_add(&s, "recent", NOW - 29, NOW), 0);
	assert_true(revoked_set_contains(&s, "recent", NOW));
	assert_int_equal(revoked_set_size(&s), 2);
	/* prune drops what expired, keeps the rest */
	assert_int_equal(revoked_set_prune(&s, NOW + 5), 1);
	assert_false(revoked_set_contains(&s, "recent", NOW));
	assert_true(revoked_set_contains(&s, "t", NOW + 5));
	assert_int_equal(revoked_set_prune(&s, NOW + 5), 1);
	assert_int_equal(revoked_set_prune(&s, NOW + 40), 0);
	assert_false(revoked_set_contains(&s, "t", NOW));
	/* a far exp does not overflow */
	assert_int_equal(revoked_set_add(&s, "far", LLONG_MAX, NOW), 0);
	assert_true(revoked_set_contains(&s, "far", LLONG_MAX - 31));
	revoked_set_release(&s);
}

static void test_grows(void **state)
{
	struct revoked_set s;
	char jti[32];

	(void)state;
	revoked_set_init(&s, 0);
	for (int i = 0; i < 10000; i++) {
		snprintf(jti, sizeof(jti), "jti-%d", i);
		/* every other one expires at NOW + 10 */
		assert_int_equal(revoked_set_add(&s, jti,
		                                 NOW + (i % 2 ? 10 : 1000),
		                                 NOW),
		                 0);
	}
	assert_int_equal(revoked_set_size(&s), 10000);
	for (int i = 0; i < 10000; i++) {
		snprintf(jti, sizeof(jti), "jti-%d", i);
		assert_true(revoked_set_contains(&s, jti, NOW));
	}
	assert_false(revoked_set_contains(&s, "jti-10000", NOW));
	assert_true(s.used * 2 <= s.cap);
	/* growing at a later time drops the expired ones */
	for (int i = 10000; i < 20000; i++) {
		snprintf(jti, sizeof(jti), "jti-%d", i);
		assert_int_equal(revoked_set_add(&s, jti, NOW + 1000, NOW + 20),
		                 0);
	}
	assert_true(revoked_set_size(&s) < 20000);
	assert_int_equal(revoked_set_prune(&s, NOW + 20), 15000);
	for (int i = 0; i < 20000; i++) {
		snprintf(jti, sizeof(jti), "jti-%d", i);
		assert_int_equal(revoked_set_contains(&s, jti, NOW + 20),
		                 i >= 10000 || i % 2 == 0);
	}
	revoked_set_release(&s);
}

static void test_max(void **state)
{
	struct revoked_set s;

	(void)state;
	revoked_set_init(&s, 0);
	s.max = 3;
	assert_int_equal(revoked_set_add(&s, "a", NOW + 10, NOW), 0);
	assert_int_equal(revoked_set_add(&s, "b", NOW + 10, NOW), 0);
	assert_int_equal(revoked_set_add(&s, "c", NOW + 100, NOW), 0);
	assert_int_equal(revoked_set_add(&s, "d", NOW + 100, NOW),
	                 SHOP_ECONFLICT);
	assert_false(revoked_set_contains(&s, "d", NOW));
	/* an existing one may still be extended */
	assert_int_equal(revoked_set_add(&s, "a", NOW + 100, NOW), 0);
	/* room again once some expire */
	assert_int_equal(revoked_set_add(&s, "b", NOW + 10, NOW), 0);
	assert_int_equal(revoked_set_add(&s, "d", NOW + 100, NOW + 50), 0);
	assert_true(revoked_set_contains(&s, "d", NOW + 50));
	assert_false(revoked_set_contains(&s, "b", NOW + 50));
	revoked_set_release(&s);
}

static void test_message(void **state)
{
	struct revoked_set s;
	char msg[128];
	int n;

	(void)state;
	revoked_set_init(&s, 0);
	n = snprintf(msg, sizeof(msg), "%s %lld",
	             "9a8b7c6d-0000-4000-8000-000000000001", NOW + 900);
	assert_int_equal(revoked_set_add_message(&s, msg, (size_t)n, NOW), 0);
	assert_true(revoked_set_contains(
	        &s, "9a8b7c6d-0000-4000-8000-000000000001", NOW));
	/* the length counts, not a NUL */
	assert_int_equal(
	        revoked_set_add_message(&s, "x 1800000900trailing", 12, NOW),
	        0);
	assert_true(revoked_set_contains(&s, "x", NOW + 899));
	assert_false(revoked_set_contains(&s, "x", NOW + 900));

	static const char *const bad[] = {
	        "",
	        "nospace",
	        " 1800000900",
	        "j ",
	        "j 18x",
	        "j -5",
	        "j  1800000900",
	        "j 1800000900 extra",
	        "j 99999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (revoked_set_add_message(&s, bad[i], strlen(bad[i]), NOW) !=
		    SHOP_EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(revoked_set_add_message(&s, NULL, 0, NOW),
	                 SHOP_EINVAL);
	/* a message about a token long expired is fine, and not kept */
	assert_int_equal(revoked_set_add_message(&s, "old 1000", 8, NOW), 0);
	assert_int_equal(revoked_set_size(&s), 2);
	revoked_set_release(&s);
}

/* What revocation.c hands redis_scan_keys(): one call per key. */
static int load_cb(void *arg, const char *key, long long ttl_ms)
{
	return revoked_set_add_key(arg, key, ttl_ms, NOW) == SHOP_EINVAL;
}

static void test_load_keys(void **state)
{
	struct revoked_set s;

	(void)state;
	revoked_set_init(&s, 0);
	assert_int_equal(load_cb(&s, AUTH_REVOKED_PREFIX "j1", 900000), 0);
	assert_int_equal(load_cb(&s, AUTH_REVOKED_PREFIX "j2", 1), 0);
	assert_int_equal(load_cb(&s, AUTH_REVOKED_PREFIX "j3", -1), 0);
	assert_int_equal(load_cb(&s, AUTH_REVOKED_PREFIX "j4", 0), 0);
	assert_true(revoked_set_contains(&s, "j1", NOW + 899));
	assert_false(revoked_set_contains(&s, "j1", NOW + 900));
	/* rounded up to the next second: never forgotten before Redis */
	assert_true(revoked_set_contains(&s, "j2", NOW));
	assert_false(revoked_set_contains(&s, "j2", NOW + 1));
	/* no expiry in Redis: kept a day */
	assert_true(
	        revoked_set_contains(&s, "j3", NOW + REVOKED_SET_NO_TTL_S - 1));
	assert_false(revoked_set_contains(&s, "j4", NOW));
	/* not ours, or nonsense */
	assert_int_equal(load_cb(&s, "product:42", 1000), 1);
	assert_int_equal(load_cb(&s, AUTH_REVOKED_PREFIX, 1000), 1);
	assert_int_equal(load_cb(&s, AUTH_REVOKED_PREFIX "j5", -2), 1);
	assert_int_equal(revoked_set_size(&s), 3);
	revoked_set_release(&s);
}

struct reader_arg {
	struct revoked_set *s;
	int misses;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;

	for (int i = 0; i < 200000; i++)
		if (!revoked_set_contains(a->s, "always", NOW))
			a->misses++;
	return NULL;
}

/* Readers never miss an entry while the table is rebuilt under them. */
static void test_concurrent(void **state)
{
	struct revoked_set s;
	struct reader_arg a[2];
	pthread_t t[2];
	char jti[32];

	(void)state;
	revoked_set_init(&s, 0);
	assert_int_equal(revoked_set_add(&s, "always", NOW + 1000, NOW), 0);
	for (int i = 0; i < 2; i++) {
		a[i] = (struct reader_arg){&s, 0};
		assert_int_equal(pthread_create(&t[i], NULL, reader, &a[i]), 0);
	}
	for (int i = 0; i < 50000; i++) {
		snprintf(jti, sizeof(jti), "w-%d", i);
		assert_int_equal(revoked_set_add(&s, jti, NOW + 1000, NOW), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].misses, 0);
	}
	revoked_set_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_add_and_lookup),
	        cmocka_unit_test(test_bad_jti),
	        cmocka_unit_test(test_expiry_and_grace),
	        cmocka_unit_test(test_grows),
	        cmocka_unit_test(test_max),
	        cmocka_unit_test(test_message),
	        cmocka_unit_test(test_load_keys),
	        cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
