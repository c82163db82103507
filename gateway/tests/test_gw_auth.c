#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gw_auth.h"

#include "shop/log.h"

#include <jwt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ISS "shop-user"
#define AUD "shop"
#define JTI "9a8b7c6d-0000-4000-8000-000000000001"

static char dir[64];
static char *priv_pem;
static struct jwt_verifier *verifier;
static struct revoked_set revoked;
static struct gw_auth auth;
static bool have_keys;

/* ---- the header ---- */

static enum gw_auth_result parse(const char *value, unsigned count,
                                 const char **token)
{
	const char *why = NULL;
	enum gw_auth_result r = gw_auth_parse_header(value, count, token, &why);

	if (r != GW_AUTH_OK)
		assert_non_null(why);
	return r;
}

static void test_header_ok(void **state)
{
	const char *token = NULL;

	(void)state;
	assert_int_equal(parse("Bearer abc.def.ghi", 1, &token), GW_AUTH_OK);
	assert_string_equal(token, "abc.def.ghi");
	/* the scheme in any case */
	assert_int_equal(parse("bearer x", 1, &token), GW_AUTH_OK);
	assert_string_equal(token, "x");
	assert_int_equal(parse("BEARER y", 1, &token), GW_AUTH_OK);
	assert_string_equal(token, "y");
	assert_int_equal(parse("BeArEr z=", 1, &token), GW_AUTH_OK);
	assert_string_equal(token, "z=");
}

static void test_header_missing(void **state)
{
	const char *token = "untouched";

	(void)state;
	assert_int_equal(parse(NULL, 0, &token), GW_AUTH_MISSING);
	assert_int_equal(parse("", 1, &token), GW_AUTH_MISSING);
	/* another scheme: no bearer token was offered */
	assert_int_equal(parse("Basic dXNlcjpwYXNz", 1, &token),
	                 GW_AUTH_MISSING);
	assert_int_equal(parse("Bearerx abc", 1, &token), GW_AUTH_MISSING);
	assert_int_equal(parse("Token abc", 1, &token), GW_AUTH_MISSING);
	assert_int_equal(parse("eyJhbGciOi.x.y", 1, &token), GW_AUTH_MISSING);
	assert_string_equal(token, "untouched");
}

static void test_header_invalid(void **state)
{
	static const char *const bad[] = {
	        "Bearer",
	        "Bearer ",
	        "Bearer  abc",
	        "Bearer abc def",
	        "Bearer abc ",
	        "Bearer\tabc",
	        "Bearer abc\tdef",
	        "Bearer a\x01"
	        "b",
	        "Bearer a\x7f",
	};
	const char *token = "untouched";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (parse(bad[i], 1, &token) != GW_AUTH_INVALID)
			fail_msg("'%s' is not invalid", bad[i]);
	/* two Authorization headers: which one would upstream use? */
	assert_int_equal(parse("Bearer abc", 2, &token), GW_AUTH_INVALID);
	assert_string_equal(token, "untouched");
}

static void test_words(void **state)
{
	(void)state;
	assert_string_equal(gw_auth_label(GW_AUTH_MISSING), "missing");
	assert_string_equal(gw_auth_label(GW_AUTH_INVALID), "invalid");
	assert_string_equal(gw_auth_label(GW_AUTH_REVOKED), "revoked");
	assert_string_equal(gw_auth_challenge(GW_AUTH_MISSING), "Bearer");
	assert_string_equal(gw_auth_challenge(GW_AUTH_INVALID),
	                    "Bearer error=\"invalid_token\"");
	assert_string_equal(gw_auth_challenge(GW_AUTH_REVOKED),
	                    "Bearer error=\"invalid_token\"");
	assert_non_null(strstr(gw_auth_detail(GW_AUTH_MISSING), "bearer"));
	assert_non_null(strstr(gw_auth_detail(GW_AUTH_INVALID), "invalid"));
	assert_non_null(strstr(gw_auth_detail(GW_AUTH_REVOKED), "revoked"));
}

/* ---- the whole check, with real tokens ---- */

static bool run_openssl(const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cd %s && openssl %s >/dev/null 2>&1", dir,
	         args);
	return system(cmd) == 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = calloc(1, 65536);
	n = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	if (buf && n == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int group_setup(void **state)
{
	char path[128];

	(void)state;
	slog_init("test_gw_auth", SLOG_ERROR);
	revoked_set_init(&revoked, 30);
	snprintf(dir, sizeof(dir), "/tmp/test_gw_auth.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	have_keys = run_openssl("genpkey -algorithm EC -pkeyopt "
	                        "ec_paramgen_curve:P-256 -out priv.pem") &&
	            run_openssl("pkey -in priv.pem -pubout -out pub.pem");
	if (!have_keys)
		return 0;
	snprintf(path, sizeof(path), "%s/priv.pem", dir);
	priv_pem = slurp(path);
	snprintf(path, sizeof(path), "%s/pub.pem", dir);
	if (!priv_pem || jwt_verifier_new(path, ISS, AUD, 30, &verifier) < 0)
		return -1;
	auth.verifier = verifier;
	auth.revoked = &revoked;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	jwt_verifier_free(verifier);
	revoked_set_release(&revoked);
	free(priv_pem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int need_keys(void **state)
{
	(void)state;
	if (!have_keys) {
		print_message("skipped: the openssl command could not generate "
		              "keys\n");
		skip();
	}
	return 0;
}

/* "Bearer " + an ES256 token with jti and exp (seconds from now);
 * caller frees. */
static char *bearer(const char *jti, long long exp_in)
{
	long long now = (long long)time(NULL);
	char claims[512], *token, *header;
	jwt_t *jwt = NULL;

	snprintf(claims, sizeof(claims),
	         "{\"sub\":\"7c1f7d2e-5b7a-4d55-9d55-0b6e1a6f0c11\","
	         "\"email\":\"ada@example.com\",\"role\":\"customer\","
	         "\"jti\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"iss\":\"" ISS
	         "\",\"aud\":\"" AUD "\"}",
	         jti, now - 60, now + exp_in);
	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
	assert_int_equal(jwt_set_alg(jwt, JWT_ALG_ES256,
	                             (const unsigned char *)priv_pem,
	                             (int)strlen(priv_pem)),
	                 0);
	token = jwt_encode_str(jwt);
	jwt_free(jwt);
	assert_non_null(token);
	header = malloc(strlen(token) + 8);
	assert_non_null(header);
	sprintf(header, "Bearer %s", token);
	free(token);
	return header;
}

static enum gw_auth_result check(const char *value, struct jwt_claims *c)
{
	const char *why = NULL;
	enum gw_auth_result r =
	        gw_auth_check(&auth, value, value ? 1 : 0, c, &why);

	if (r != GW_AUTH_OK)
		assert_non_null(why);
	return r;
}

static void test_check_valid(void **state)
{
	struct jwt_claims c;
	char *h = bearer(JTI, 900);

	(void)state;
	assert_int_equal(check(h, &c), GW_AUTH_OK);
	assert_string_equal(c.jti, JTI);
	assert_string_equal(c.role, "customer");
	/* again (the verifier may have cached it): same answer */
	assert_int_equal(check(h, &c), GW_AUTH_OK);
	free(h);
}

static void test_check_refused(void **state)
{
	struct jwt_claims c;
	char *expired = bearer("e1", -3600);
	char *h = bearer("t1", 900), *tampered;

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(check(NULL, &c), GW_AUTH_MISSING);
	assert_int_equal(check("Bearer not-a-jwt", &c), GW_AUTH_INVALID);
	assert_int_equal(check(expired, &c), GW_AUTH_INVALID);
	/* alg none, unsigned */
	assert_int_equal(check("Bearer eyJhbGciOiJub25lIn0."
	                       "eyJzdWIiOiJ4In0.",
	                       &c),
	                 GW_AUTH_INVALID);
	tampered = strdup(h);
	assert_non_null(tampered);
	tampered[strlen(tampered) - 3] ^= 1; /* the signature */
	assert_int_equal(check(tampered, &c), GW_AUTH_INVALID);
	/* two headers, even valid ones */
	{
		const char *why;

		assert_int_equal(gw_auth_check(&auth, h, 2, &c, &why),
		                 GW_AUTH_INVALID);
	}
	assert_int_equal((unsigned char)c.sub[0], 0x5a); /* untouched */
	free(tampered);
	free(expired);
	free(h);
}

static void test_check_revoked(void **state)
{
	struct jwt_claims c;
	char *h = bearer("r1", 900), *other = bearer("r2", 900);
	long long now = (long long)time(NULL);

	(void)state;
	assert_int_equal(check(h, &c), GW_AUTH_OK);
	assert_int_equal(revoked_set_add(&revoked, "r1", now + 900, now), 0);
	assert_int_equal(check(h, &c), GW_AUTH_REVOKED);
	assert_int_equal(check(other, &c), GW_AUTH_OK);
	free(h);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_header_ok),
	        cmocka_unit_test(test_header_missing),
	        cmocka_unit_test(test_header_invalid),
	        cmocka_unit_test(test_words),
	        cmocka_unit_test_setup(test_check_valid, need_keys),
	        cmocka_unit_test_setup(test_check_refused, need_keys),
	        cmocka_unit_test_setup(test_check_revoked, need_keys),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
