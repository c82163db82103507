/* Tests of shared/src/jwt.c: ES256 verification pinned against libjwt 1.10's
 * pitfalls. Keys come from the openssl command at test start; tokens are
 * signed with libjwt. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shop/error.h"
#include "shop/jwt.h"
#include "shop/log.h"
#include "shop/metrics.h"

#include <jwt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ISS "shop-user"
#define AUD "shop"

static char dir[64];
static char pub_path[128], priv_pem_path[128];
static char *priv_pem, *pub_pem, *other_priv_pem;
static struct jwt_verifier *verifier;
static bool have_openssl;

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

static bool run_openssl(const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cd %s && openssl %s >/dev/null 2>&1", dir,
	         args);
	return system(cmd) == 0;
}

static int group_setup(void **state)
{
	(void)state;
	slog_init("test_jwt", SLOG_ERROR);
	snprintf(dir, sizeof(dir), "/tmp/test_jwt.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	have_openssl =
	        run_openssl("genpkey -algorithm EC -pkeyopt "
	                    "ec_paramgen_curve:P-256 -out priv.pem") &&
	        run_openssl("pkey -in priv.pem -pubout -out pub.pem") &&
	        run_openssl("genpkey -algorithm EC -pkeyopt "
	                    "ec_paramgen_curve:P-256 -out other.pem") &&
	        run_openssl("genpkey -algorithm EC -pkeyopt "
	                    "ec_paramgen_curve:P-384 -out p384.pem") &&
	        run_openssl("pkey -in p384.pem -pubout -out p384_pub.pem") &&
	        run_openssl("genpkey -algorithm RSA -pkeyopt "
	                    "rsa_keygen_bits:2048 -out rsa.pem") &&
	        run_openssl("pkey -in rsa.pem -pubout -out rsa_pub.pem");
	if (!have_openssl)
		return 0;
	snprintf(pub_path, sizeof(pub_path), "%s/pub.pem", dir);
	snprintf(priv_pem_path, sizeof(priv_pem_path), "%s/priv.pem", dir);
	{
		char p[128];

		priv_pem = slurp(priv_pem_path);
		pub_pem = slurp(pub_path);
		snprintf(p, sizeof(p), "%s/other.pem", dir);
		other_priv_pem = slurp(p);
	}
	if (!priv_pem || !pub_pem || !other_priv_pem)
		return -1;
	return jwt_verifier_new(pub_path, ISS, AUD, 30, &verifier) == 0 ? 0
	                                                                : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	jwt_verifier_free(verifier);
	free(priv_pem);
	free(pub_pem);
	free(other_priv_pem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int need_openssl(void **state)
{
	(void)state;
	if (!have_openssl) {
		print_message("skipped: the openssl command could not generate "
		              "keys\n");
		skip();
	}
	return 0;
}

/* Signs claims (a JSON object) with alg and key; caller frees. */
static char *sign(jwt_alg_t alg, const char *key, const char *claims)
{
	jwt_t *jwt = NULL;
	char *token;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, (const unsigned char *)key,
	                             key ? (int)strlen(key) : 0),
	                 0);
	token = jwt_encode_str(jwt);
	jwt_free(jwt);
	assert_non_null(token);
	return token;
}

/* Claims with every field right, exp in 15 minutes; the fields named in
 * `override` (a JSON fragment without braces, may be "") are added after
 * and win, and those named in `drop` are left out. */
static char *claims_json(const char *override, const char *drop)
{
	long long now = (long long)time(NULL);
	char *buf = malloc(4096);
	int n = 0;

	assert_non_null(buf);
	n += snprintf(buf + n, 4096 - (size_t)n, "{");
#define FIELD(name, fmt, ...)                                                  \
	if (!strstr(drop, "\"" name "\"") &&                                   \
	    !strstr(override, "\"" name "\""))                                 \
	n += snprintf(buf + n, 4096 - (size_t)n, "\"" name "\":" fmt ",",      \
	              __VA_ARGS__)
	FIELD("sub", "\"%s\"", "7c1f7d2e-5b7a-4d55-9d55-0b6e1a6f0c11");
	FIELD("email", "\"%s\"", "ada@example.com");
	FIELD("role", "\"%s\"", "customer");
	FIELD("jti", "\"%s\"", "9a8b7c6d-0000-4000-8000-000000000001");
	FIELD("iat", "%lld", now);
	FIELD("exp", "%lld", now + 900);
	FIELD("iss", "\"%s\"", ISS);
	FIELD("aud", "\"%s\"", AUD);
#undef FIELD
	n += snprintf(buf + n, 4096 - (size_t)n, "%s", override);
	if (buf[n - 1] == ',')
		n--;
	snprintf(buf + n, 4096 - (size_t)n, "}");
	return buf;
}

static char *good_token(const char *override, const char *drop)
{
	char *claims = claims_json(override, drop);
	char *token = sign(JWT_ALG_ES256, priv_pem, claims);

	free(claims);
	return token;
}

static void expect_rejected(const char *token, const char *want_reason)
{
	struct jwt_claims c;
	const char *reason = NULL;

	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(jwt_verify(verifier, token, &c, &reason), SHOP_EAUTH);
	assert_non_null(reason);
	if (want_reason)
		assert_string_equal(reason, want_reason);
	/* out is untouched on failure */
	assert_int_equal((unsigned char)c.sub[0], 0x5a);
}

static char *b64url(const char *s)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
	                        "uvwxyz0123456789-_";
	size_t n = strlen(s), o = 0;
	char *out = malloc(n * 2 + 4);
	uint32_t acc = 0;
	int bits = 0;

	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | (unsigned char)s[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = a[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = a[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	return out;
}

/* header.payload.signature from raw JSON and a given signature segment. */
static char *forge(const char *header, const char *payload, const char *sig)
{
	char *h = b64url(header), *p = b64url(payload);
	size_t n = strlen(h) + strlen(p) + strlen(sig) + 3;
	char *out = malloc(n);

	assert_non_null(out);
	snprintf(out, n, "%s.%s.%s", h, p, sig);
	free(h);
	free(p);
	return out;
}

static void test_good_token_passes(void **state)
{
	char *token = good_token("", "");
	struct jwt_claims c;
	const char *reason = "untouched";

	(void)state;
	assert_int_equal(jwt_verify(verifier, token, &c, &reason), 0);
	assert_string_equal(reason, "untouched");
	assert_string_equal(c.sub, "7c1f7d2e-5b7a-4d55-9d55-0b6e1a6f0c11");
	assert_string_equal(c.email, "ada@example.com");
	assert_string_equal(c.role, "customer");
	assert_string_equal(c.jti, "9a8b7c6d-0000-4000-8000-000000000001");
	assert_true(c.exp - c.iat == 900);
	assert_true(llabs(c.iat - (long long)time(NULL)) <= 5);
	free(token);
}

static void test_admin_and_audience_array_pass(void **state)
{
	char *token = good_token(
	        "\"role\":\"admin\",\"aud\":[\"other\",\"" AUD "\"]", "");
	struct jwt_claims c;

	(void)state;
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);
	assert_string_equal(c.role, "admin");
	free(token);
}

static void test_optional_email_and_jti(void **state)
{
	char *token = good_token("", "\"email\",\"jti\"");
	struct jwt_claims c;

	(void)state;
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);
	assert_string_equal(c.email, "");
	assert_string_equal(c.jti, "");
	free(token);
}

static void test_expired_rejected_leeway_honoured(void **state)
{
	long long now = (long long)time(NULL);
	char over[128];
	char *token;
	struct jwt_claims c;
	const char *reason = NULL;

	(void)state;
	snprintf(over, sizeof(over), "\"iat\":%lld,\"exp\":%lld", now - 1000,
	         now - 100);
	token = good_token(over, "");
	expect_rejected(token, "expired");
	free(token);

	/* 10 s past exp is inside the 30 s leeway; 31 s is not. */
	snprintf(over, sizeof(over), "\"iat\":%lld,\"exp\":%lld", now - 1000,
	         now - 10);
	token = good_token(over, "");
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);
	assert_int_equal(jwt_verify_at(verifier, token, now + 21, &c, &reason),
	                 SHOP_EAUTH);
	assert_string_equal(reason, "expired");
	free(token);
}

static void test_time_claims_required_and_sane(void **state)
{
	long long now = (long long)time(NULL);
	char over[128];
	char *token;

	(void)state;
	token = good_token("", "\"exp\"");
	expect_rejected(token, "missing exp");
	free(token);
	token = good_token("", "\"iat\"");
	expect_rejected(token, "missing iat");
	free(token);
	token = good_token("\"exp\":\"tomorrow\"", "");
	expect_rejected(token, "malformed claims");
	free(token);
	snprintf(over, sizeof(over), "\"iat\":%lld", now + 3600);
	token = good_token(over, "");
	expect_rejected(token, "issued in the future");
	free(token);
	snprintf(over, sizeof(over), "\"nbf\":%lld", now + 600);
	token = good_token(over, "");
	expect_rejected(token, "not yet valid");
	free(token);
	token = good_token("\"exp\":1e300", "");
	expect_rejected(token, "malformed claims");
	free(token);
}

static void test_wrong_issuer_or_audience(void **state)
{
	char *token;

	(void)state;
	token = good_token("\"iss\":\"evil\"", "");
	expect_rejected(token, "wrong issuer");
	free(token);
	token = good_token("", "\"iss\"");
	expect_rejected(token, "wrong issuer");
	free(token);
	token = good_token("\"aud\":\"other\"", "");
	expect_rejected(token, "wrong audience");
	free(token);
	token = good_token("\"aud\":[\"other\",\"more\"]", "");
	expect_rejected(token, "wrong audience");
	free(token);
	token = good_token("", "\"aud\"");
	expect_rejected(token, "wrong audience");
	free(token);
}

static void test_subject_and_role(void **state)
{
	char *token;
	char over[256];

	(void)state;
	token = good_token("\"role\":\"superuser\"", "");
	expect_rejected(token, "invalid role");
	free(token);
	token = good_token("\"role\":\"Admin\"", "");
	expect_rejected(token, "invalid role");
	free(token);
	token = good_token("", "\"role\"");
	expect_rejected(token, "invalid role");
	free(token);
	token = good_token("\"role\":[\"admin\"]", "");
	expect_rejected(token, "malformed claims");
	free(token);
	token = good_token("", "\"sub\"");
	expect_rejected(token, "missing subject");
	free(token);
	token = good_token("\"sub\":\"\"", "");
	expect_rejected(token, "missing subject");
	free(token);
	snprintf(over, sizeof(over), "\"sub\":\"%0100d\"", 7);
	token = good_token(over, "");
	expect_rejected(token, "claim too long");
	free(token);
}

static void test_alg_none_rejected(void **state)
{
	char *claims = claims_json("\"role\":\"admin\"", "");
	char *token = sign(JWT_ALG_NONE, NULL, claims);
	char *forged;

	(void)state;
	/* libjwt's own unsigned token: "header.payload." */
	expect_rejected(token, NULL);
	/* with a signature segment so only the alg check can catch it */
	forged = forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, "AAAA");
	expect_rejected(forged, "unsupported algorithm");
	free(forged);
	forged = forge("{\"typ\":\"JWT\"}", claims, "AAAA");
	expect_rejected(forged, "unsupported algorithm");
	free(forged);
	forged = forge("{\"alg\":\"es256\"}", claims, "AAAA");
	expect_rejected(forged, "unsupported algorithm");
	free(forged);
	free(token);
	free(claims);
}

static void test_hs256_with_public_key_rejected(void **state)
{
	char *claims = claims_json("\"role\":\"admin\"", "");
	char *token = sign(JWT_ALG_HS256, pub_pem, claims);
	jwt_t *jwt = NULL;

	(void)state;
	/* The attack works against bare libjwt 1.10 ... */
	assert_int_equal(jwt_decode(&jwt, token, (const unsigned char *)pub_pem,
	                            (int)strlen(pub_pem)),
	                 0);
	jwt_free(jwt);
	/* ... and not here. */
	expect_rejected(token, "unsupported algorithm");
	free(token);
	free(claims);
}

static void test_other_key_rejected(void **state)
{
	char *claims = claims_json("", "");
	char *token = sign(JWT_ALG_ES256, other_priv_pem, claims);

	(void)state;
	expect_rejected(token, "bad signature");
	free(token);
	free(claims);
}

static void test_tampered_payload_rejected(void **state)
{
	char *token = good_token("", "");
	char *claims = claims_json("\"role\":\"admin\"", "");
	char *payload = b64url(claims);
	const char *dot1 = strchr(token, '.'), *dot2 = strchr(dot1 + 1, '.');
	char forged[4096];

	(void)state;
	snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(dot1 - token),
	         token, payload, dot2);
	expect_rejected(forged, "bad signature");
	free(payload);
	free(claims);
	free(token);
}

static void test_garbage_rejected(void **state)
{
	char *token = good_token("", "");
	size_t len = strlen(token);
	char buf[4096];
	char *big;

	(void)state;
	expect_rejected(NULL, "missing token");
	expect_rejected("", "missing token");
	expect_rejected("garbage", "malformed token");
	expect_rejected("a.b.c", NULL);
	expect_rejected("..", "malformed token");
	expect_rejected("a..c", "malformed token");
	expect_rejected("Bearer x.y.z", "malformed token");
	expect_rejected("eyJhbGciOiJFUzI1NiJ9.e30.", "malformed token");
	/* truncated: a shorter signature, then no signature, then half */
	snprintf(buf, sizeof(buf), "%.*s", (int)(len - 10), token);
	expect_rejected(buf, NULL);
	snprintf(buf, sizeof(buf), "%.*s",
	         (int)(strrchr(token, '.') - token + 1), token);
	expect_rejected(buf, "malformed token");
	snprintf(buf, sizeof(buf), "%.*s", (int)(len / 2), token);
	expect_rejected(buf, NULL);
	/* an extra segment, a space, a padded segment */
	snprintf(buf, sizeof(buf), "%s.AAAA", token);
	expect_rejected(buf, "malformed token");
	snprintf(buf, sizeof(buf), "%s ", token);
	expect_rejected(buf, "malformed token");
	snprintf(buf, sizeof(buf), "%s==", token);
	expect_rejected(buf, "malformed token");
	/* a header that is not JSON or not an object */
	expect_rejected("bm90IGpzb24.e30.AAAA", "malformed token");
	expect_rejected("WzFd.e30.AAAA", "malformed token");
	big = malloc(20000);
	assert_non_null(big);
	memset(big, 'A', 19999);
	big[19999] = '\0';
	expect_rejected(big, "token too long");
	free(big);
	free(token);
}

static void test_verifier_new_checks_key(void **state)
{
	struct jwt_verifier *v = NULL;
	char p[160];

	(void)state;
	assert_int_equal(
	        jwt_verifier_new("/nonexistent/key.pem", ISS, AUD, 0, &v),
	        SHOP_EINVAL);
	assert_int_equal(jwt_verifier_new(priv_pem_path, ISS, AUD, 0, &v),
	                 SHOP_EINVAL);
	snprintf(p, sizeof(p), "%s/rsa_pub.pem", dir);
	assert_int_equal(jwt_verifier_new(p, ISS, AUD, 0, &v), SHOP_EINVAL);
	snprintf(p, sizeof(p), "%s/p384_pub.pem", dir);
	assert_int_equal(jwt_verifier_new(p, ISS, AUD, 0, &v), SHOP_EINVAL);
	assert_int_equal(jwt_verifier_new(pub_path, "", AUD, 0, &v),
	                 SHOP_EINVAL);
	assert_int_equal(jwt_verifier_new(pub_path, ISS, NULL, 0, &v),
	                 SHOP_EINVAL);
	assert_int_equal(jwt_verifier_new(pub_path, ISS, AUD, -1, &v),
	                 SHOP_EINVAL);
	assert_null(v);
	assert_int_equal(jwt_verifier_new(pub_path, ISS, AUD, 0, &v), 0);
	jwt_verifier_free(v);
	jwt_verifier_free(NULL);
}

struct verify_job {
	const char *good;
	const char *bad;
	int failures;
};

static void *verify_many(void *arg)
{
	struct verify_job *job = arg;

	for (int i = 0; i < 200; i++) {
		struct jwt_claims c;

		if (jwt_verify(verifier, job->good, &c, NULL) != 0 ||
		    strcmp(c.role, "customer") != 0)
			job->failures++;
		if (jwt_verify(verifier, job->bad, &c, NULL) != SHOP_EAUTH)
			job->failures++;
	}
	return NULL;
}

static void test_concurrent_verifies(void **state)
{
	char *good = good_token("", "");
	char *bad = good_token("\"aud\":\"other\"", "");
	struct verify_job jobs[4];
	pthread_t threads[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct verify_job){.good = good, .bad = bad};
		assert_int_equal(pthread_create(&threads[i], NULL, verify_many,
		                                &jobs[i]),
		                 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(jobs[i].failures, 0);
	}
	free(good);
	free(bad);
}

static double counter(const char *name)
{
	return metric_value(metrics_counter(name, "", ""));
}

static void test_cache_hits_recheck_time_and_compare_whole_token(void **state)
{
	long long now = (long long)time(NULL);
	char *token = good_token("\"jti\":\"cache-1\"", "");
	char *forged = strdup(token);
	size_t n = strlen(token);
	struct jwt_claims c;
	const char *reason = NULL;
	double hits, misses;

	(void)state;
	assert_non_null(forged);
	hits = counter("jwt_cache_hits_total");
	misses = counter("jwt_cache_misses_total");
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);
	assert_int_equal(counter("jwt_cache_misses_total"), misses + 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);
	assert_int_equal(counter("jwt_cache_hits_total"), hits + 1);
	assert_string_equal(c.jti, "cache-1");
	assert_string_equal(c.role, "customer");

	/* A cached token still expires, and is not valid before its iat. */
	assert_int_equal(
	        jwt_verify_at(verifier, token, now + 900 + 31, &c, &reason),
	        SHOP_EAUTH);
	assert_string_equal(reason, "expired");
	assert_int_equal(jwt_verify_at(verifier, token, now - 31, &c, &reason),
	                 SHOP_EAUTH);
	assert_string_equal(reason, "issued in the future");

	/* Same prefix, other signature: never taken for the cached one. */
	forged[n - 2] = forged[n - 2] == 'A' ? 'B' : 'A';
	expect_rejected(forged, "bad signature");
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);

	/* Off: every call verifies the signature. */
	assert_int_equal(jwt_verifier_set_cache(verifier, 0), 0);
	hits = counter("jwt_cache_hits_total");
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);
	assert_int_equal(counter("jwt_cache_hits_total"), hits);
	assert_int_equal(
	        jwt_verifier_set_cache(verifier, (size_t)JWT_CACHE_MAX + 1),
	        SHOP_EINVAL);
	assert_int_equal(jwt_verifier_set_cache(verifier, 3), 0);
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);
	assert_int_equal(counter("jwt_cache_hits_total"), hits + 1);
	assert_int_equal(jwt_verifier_set_cache(verifier, JWT_CACHE_DEFAULT),
	                 0);
	free(forged);
	free(token);
}

static void test_signature_spelling_is_canonical(void **state)
{
	char *token = good_token("", "");
	size_t n = strlen(token);
	struct jwt_claims c;
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijk"
	                               "lmnopqrstuvwxyz0123456789-_";
	const char *pos;
	int v;

	(void)state;
	assert_int_equal(jwt_verify(verifier, token, &c, NULL), 0);
	/* 64 bytes are 86 characters: the last one carries 2 unused bits.
	 * Setting one of them spells the same bytes otherwise. */
	pos = strchr(alphabet, token[n - 1]);
	assert_non_null(pos);
	v = (int)(pos - alphabet);
	assert_int_equal(v & 3, 0);
	token[n - 1] = alphabet[v | 1];
	expect_rejected(token, "bad signature");
	free(token);
}

#define T(f) cmocka_unit_test_setup(f, need_openssl)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_good_token_passes),
	        T(test_admin_and_audience_array_pass),
	        T(test_optional_email_and_jti),
	        T(test_expired_rejected_leeway_honoured),
	        T(test_time_claims_required_and_sane),
	        T(test_wrong_issuer_or_audience),
	        T(test_subject_and_role),
	        T(test_alg_none_rejected),
	        T(test_hs256_with_public_key_rejected),
	        T(test_other_key_rejected),
	        T(test_tampered_payload_rejected),
	        T(test_garbage_rejected),
	        T(test_verifier_new_checks_key),
	        T(test_concurrent_verifies),
	        T(test_cache_hits_recheck_time_and_compare_whole_token),
	        T(test_signature_spelling_is_canonical),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
