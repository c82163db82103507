/* Tests of shared/src/auth.c: revocation in a real Redis
 * (SHOP_TEST_REDIS_URL; skipped without it) and the authenticate callback
 * every daemon uses, including failing open when Redis is down. Keys are
 * generated with the openssl command, tokens signed with libjwt. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shop/auth.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char *priv_pem;
static struct jwt_verifier *verifier;
static const char *redis_url;

static int group_setup(void **state)
{
	char cmd[512], path[128];
	FILE *f;
	size_t n;

	(void)state;
	slog_init("test_auth", SLOG_ERROR);
	redis_url = getenv("SHOP_TEST_REDIS_URL");
	if (redis_url && !*redis_url)
		redis_url = NULL;
	snprintf(dir, sizeof(dir), "/tmp/test_auth.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd),
	         "cd %s && openssl genpkey -algorithm EC -pkeyopt "
	         "ec_paramgen_curve:P-256 -out priv.pem 2>/dev/null && "
	         "openssl pkey -in priv.pem -pubout -out pub.pem 2>/dev/null",
	         dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/priv.pem", dir);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	priv_pem = calloc(1, 8192);
	n = priv_pem ? fread(priv_pem, 1, 8191, f) : 0;
	fclose(f);
	if (n == 0)
		return -1;
	snprintf(path, sizeof(path), "%s/pub.pem", dir);
	return jwt_verifier_new(path, "shop-user", "shop", 30, &verifier);
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	jwt_verifier_free(verifier);
	free(priv_pem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A valid token with this jti ("" for none); caller frees. */
static char *token_with_jti(const char *jti)
{
	long long now = (long long)time(NULL);
	char claims[512];
	jwt_t *jwt = NULL;
	char *token;

	snprintf(claims, sizeof(claims),
	         "{\"sub\":\"0b9c1ea4-3f8e-4f61-9a7e-0c4b1d2e3f40\","
	         "\"email\":\"ada@example.com\",\"role\":\"admin\","
	         "\"iat\":%lld,\"exp\":%lld,\"iss\":\"shop-user\","
	         "\"aud\":\"shop\"%s%s%s}",
	         now, now + 900, *jti ? ",\"jti\":\"" : "", jti,
	         *jti ? "\"" : "");
	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
	assert_int_equal(jwt_set_alg(jwt, JWT_ALG_ES256,
	                             (const unsigned char *)priv_pem,
	                             (int)strlen(priv_pem)),
	                 0);
	token = jwt_encode_str(jwt);
	jwt_free(jwt);
	assert_non_null(token);
	return token;
}

static struct redis_pool *pool(const char *url)
{
	struct redis_pool_options opt = {
	        .url = url,
	        .name = "test",
	        .size = 2,
	        .command_timeout_ms = 500,
	        .connect_timeout_ms = 500,
	};
	struct redis_pool *r = NULL;

	assert_int_equal(redis_pool_new(&opt, &r), 0);
	return r;
}

static void need_redis(void)
{
	if (!redis_url) {
		print_message("skipped: set SHOP_TEST_REDIS_URL to run against "
		              "a real Redis\n");
		skip();
	}
}

static void test_revoke_then_refused(void **state)
{
	struct redis_pool *r;
	char jti[SHOP_UUID_LEN + 1];
	char *token;
	struct http_principal p;
	struct auth_context ctx;
	bool revoked = true;

	(void)state;
	need_redis();
	r = pool(redis_url);
	shop_uuid_v4(jti);
	token = token_with_jti(jti);
	ctx = (struct auth_context){.verifier = verifier, .redis = r};

	assert_int_equal(auth_is_revoked(r, jti, &revoked), 0);
	assert_false(revoked);
	memset(&p, 0, sizeof(p));
	assert_int_equal(auth_authenticate(&ctx, token, &p), 0);
	assert_string_equal(p.sub, "0b9c1ea4-3f8e-4f61-9a7e-0c4b1d2e3f40");
	assert_string_equal(p.jti, jti);
	assert_true(p.is_admin);
	assert_true(p.exp > (long long)time(NULL));

	assert_int_equal(auth_revoke(r, jti, p.exp), 0);
	assert_int_equal(auth_is_revoked(r, jti, &revoked), 0);
	assert_true(revoked);
	/* Even though the token is in the verifier's cache now. */
	assert_int_equal(auth_authenticate(&ctx, token, &p), SHOP_EAUTH);
	free(token);
	redis_pool_free(r);
}

/*
 * With the revoked set in memory: once live, a token revoked elsewhere
 * (another process's auth_revoke) is refused without asking Redis, also
 * one revoked before the set started (the loader's SCAN).
 */
static void test_revoked_set_in_memory(void **state)
{
	struct redis_pool *r;
	char before[SHOP_UUID_LEN + 1], after[SHOP_UUID_LEN + 1];
	char *t_before, *t_after;
	struct http_principal p;
	struct auth_context ctx;
	struct timespec nap = {0, 20 * 1000000L};

	(void)state;
	need_redis();
	r = pool(redis_url);
	shop_uuid_v4(before);
	shop_uuid_v4(after);
	t_before = token_with_jti(before);
	t_after = token_with_jti(after);
	assert_int_equal(auth_revoke(r, before, time(NULL) + 600), 0);

	ctx = (struct auth_context){.verifier = verifier, .redis = r};
	assert_int_equal(auth_revocation_start(&ctx), 0);
	for (int i = 0; i < 250 && !revocation_live(ctx.revocation); i++)
		nanosleep(&nap, NULL);
	assert_true(revocation_live(ctx.revocation));
	assert_int_equal(auth_authenticate(&ctx, t_before, &p), SHOP_EAUTH);
	assert_int_equal(auth_authenticate(&ctx, t_after, &p), 0);

	assert_int_equal(auth_revoke(r, after, p.exp), 0);
	for (int i = 0; i < 250 && auth_authenticate(&ctx, t_after, &p) == 0;
	     i++)
		nanosleep(&nap, NULL);
	assert_int_equal(auth_authenticate(&ctx, t_after, &p), SHOP_EAUTH);
	/* The refusal came from memory: the set holds both. */
	assert_true(revoked_set_contains(&ctx.revoked, before, time(NULL)));
	assert_true(revoked_set_contains(&ctx.revoked, after, time(NULL)));

	auth_revocation_stop(&ctx);
	assert_null(ctx.revocation);
	auth_revocation_stop(&ctx); /* twice is harmless */
	free(t_before);
	free(t_after);
	redis_pool_free(r);
}

static void test_revoke_edge_cases(void **state)
{
	struct redis_pool *r;
	char jti[SHOP_UUID_LEN + 1];
	bool revoked = true;

	(void)state;
	need_redis();
	r = pool(redis_url);
	shop_uuid_v4(jti);
	/* Past exp but inside the verifiers' leeway: still revoked. */
	assert_int_equal(auth_revoke(r, jti, (long long)time(NULL) - 5), 0);
	assert_int_equal(auth_is_revoked(r, jti, &revoked), 0);
	assert_true(revoked);
	/* Refused everywhere already: no entry needed. */
	shop_uuid_v4(jti);
	assert_int_equal(
	        auth_revoke(r, jti, (long long)time(NULL) - JWT_LEEWAY_S - 120),
	        0);
	assert_int_equal(auth_is_revoked(r, jti, &revoked), 0);
	assert_false(revoked);
	assert_int_equal(auth_revoke(r, "", 4102444800LL), SHOP_EINVAL);
	assert_int_equal(auth_revoke(r, "a b", 4102444800LL), SHOP_EINVAL);
	assert_int_equal(auth_is_revoked(r, "a\nb", &revoked), SHOP_EINVAL);
	redis_pool_free(r);
}

static void test_token_without_jti_refused(void **state)
{
	char *token = token_with_jti("");
	struct auth_context ctx = {.verifier = verifier, .redis = NULL};
	struct http_principal p;

	(void)state;
	assert_int_equal(auth_authenticate(&ctx, token, &p), SHOP_EAUTH);
	free(token);
	token = token_with_jti("plain-jti");
	assert_int_equal(auth_authenticate(&ctx, token, &p), 0);
	assert_string_equal(p.jti, "plain-jti");
	free(token);
	assert_int_equal(auth_authenticate(&ctx, "not.a.token", &p),
	                 SHOP_EAUTH);
}

static void test_redis_down_fails_open(void **state)
{
	/* Port 1 on loopback: nothing listens, connecting fails at once. */
	struct redis_pool *r = pool("redis://127.0.0.1:1/0");
	struct auth_context ctx = {.verifier = verifier, .redis = r};
	struct http_principal p;
	char *token = token_with_jti("down-1");
	struct metric *unchecked =
	        metrics_counter("auth_revocation_unchecked_total", "", "");
	double before = metric_value(unchecked);
	bool revoked;

	(void)state;
	assert_int_equal(auth_authenticate(&ctx, token, &p), 0);
	assert_true(metric_value(unchecked) >= before + 1);
	assert_int_equal(auth_revoke(r, "down-1", (long long)time(NULL) + 60),
	                 SHOP_EUNAVAIL);
	assert_int_equal(auth_is_revoked(r, "down-1", &revoked), SHOP_EUNAVAIL);
	free(token);
	redis_pool_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_token_without_jti_refused),
	        cmocka_unit_test(test_redis_down_fails_open),
	        cmocka_unit_test(test_revoke_then_refused),
	        cmocka_unit_test(test_revoke_edge_cases),
	        cmocka_unit_test(test_revoked_set_in_memory),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
