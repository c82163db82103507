#include "shop/jwt.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JWT_TOKEN_MAX    8192
#define JWT_KEY_FILE_MAX 16384
#define JWT_LEEWAY_MAX   3600
/* Far beyond any real NumericDate; keeps the double -> integer cast defined. */
#define JWT_TIME_MAX 1e15

/*
 * The verified-token cache: a direct-mapped table of tokens whose signature
 * and claims checked out, keyed by a seeded hash of the whole token and
 * confirmed by comparing the token itself. A signature check costs far more
 * than the rest of a request (ECDSA P-256 verification), and a client sends
 * the same token for up to 15 minutes, so a hit only re-checks the times
 * (exp, iat, nbf) against the clock. Only valid tokens enter, so nobody can
 * fill it without tokens the issuer signed (one token has at most two
 * spellings: ECDSA's (r, s) and (r, n - s); base64url is canonical). One mutex
 * per stripe of slots.
 */
#define JWT_CACHE_STRIPES 64

struct jwt_cache_entry {
	uint64_t hash;
	char *token; /* NULL: empty slot */
	size_t len;
	long long nbf; /* 0 when the token has none */
	struct jwt_claims claims;
};

struct jwt_verifier {
	EVP_PKEY *key; /* the P-256 public key, parsed once */
	char *issuer;
	char *audience;
	int leeway;
	uint64_t seed;
	size_t cache_size; /* 0: no cache */
	struct jwt_cache_entry *cache;
	pthread_mutex_t stripes[JWT_CACHE_STRIPES];
	struct metric *hits, *misses;
};

/*
 * The DER prefix of every SubjectPublicKeyInfo for an uncompressed P-256
 * key: SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING 04|X|Y }.
 */
static const unsigned char p256_spki_prefix[] = {
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
        0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};
#define P256_SPKI_LEN 91

static int b64_value(char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/*
 * Decodes base64 (url: the unpadded URL alphabet of JWS; else the padded
 * standard alphabet of PEM, whitespace ignored) into out (cap bytes).
 * Returns the decoded length, or -1 on a bad character or overflow.
 */
static long b64_decode(const char *s, size_t n, bool url, unsigned char *out,
                       size_t cap)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0, pad = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int v;

		if (!url && (c == '\n' || c == '\r' || c == ' ' || c == '\t'))
			continue;
		if (!url && c == '=') {
			pad++;
			continue;
		}
		v = b64_value(c, url);
		if (v < 0 || pad > 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (bits >= 6 || pad > 2) /* a lone trailing character */
		return -1;
	/* JWS segments are canonical: the unused low bits of the last
	 * character must be zero, or one signature would have several
	 * spellings (and one token several cache entries). */
	if (url && acc != 0)
		return -1;
	return (long)o;
}

static char *read_small_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(JWT_KEY_FILE_MAX + 1);
	if (!buf)
		goto close_file;
	n = fread(buf, 1, JWT_KEY_FILE_MAX + 1, f);
	if (ferror(f) || n == 0 || n > JWT_KEY_FILE_MAX) {
		free(buf);
		buf = NULL;
		errno = EINVAL;
		goto close_file;
	}
	buf[n] = '\0';
	*len = n;

close_file:
	fclose(f);
	return buf;
}

/* True when pem holds exactly a P-256 public key (not a private key, not
 * RSA, not another curve); its DER is then in der (P256_SPKI_LEN + 1 bytes
 * of room). */
static bool is_p256_public_pem(const char *pem, unsigned char *der)
{
	static const char begin[] = "-----BEGIN PUBLIC KEY-----";
	static const char end[] = "-----END PUBLIC KEY-----";
	const char *b = strstr(pem, begin), *e;
	long n;

	if (!b)
		return false;
	b += sizeof(begin) - 1;
	e = strstr(b, end);
	if (!e)
		return false;
	n = b64_decode(b, (size_t)(e - b), false, der, P256_SPKI_LEN + 1);
	return n == P256_SPKI_LEN &&
	       memcmp(der, p256_spki_prefix, sizeof(p256_spki_prefix)) == 0;
}

int jwt_verifier_new(const char *public_key_pem_path, const char *issuer,
                     const char *audience, int leeway_seconds,
                     struct jwt_verifier **out)
{
	struct jwt_verifier *v = NULL;
	unsigned char der[P256_SPKI_LEN + 1];
	const unsigned char *p = der;
	char *pem = NULL;
	size_t len = 0;
	int rc = SHOP_EINVAL;

	if (!public_key_pem_path || !issuer || !*issuer || !audience ||
	    !*audience || leeway_seconds < 0 ||
	    leeway_seconds > JWT_LEEWAY_MAX) {
		slog_error("cannot create a token verifier: a key path, an "
		           "issuer, an audience and a leeway of 0..%d s are "
		           "required",
		           JWT_LEEWAY_MAX);
		return SHOP_EINVAL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return SHOP_ENOMEM;
	for (int i = 0; i < JWT_CACHE_STRIPES; i++)
		pthread_mutex_init(&v->stripes[i], NULL);
	pem = read_small_file(public_key_pem_path, &len);
	if (!pem) {
		slog_error("cannot read public key '%s': %s",
		           public_key_pem_path,
		           errno == EINVAL ? "empty or over 16 KiB"
		                           : strerror(errno));
		goto fail;
	}
	if (!is_p256_public_pem(pem, der) ||
	    !(v->key = d2i_PUBKEY(NULL, &p, P256_SPKI_LEN))) {
		slog_error("cannot use public key '%s': not a P-256 public key "
		           "in PEM (BEGIN PUBLIC KEY)",
		           public_key_pem_path);
		goto fail;
	}
	rc = SHOP_ENOMEM;
	v->issuer = strdup(issuer);
	v->audience = strdup(audience);
	if (!v->issuer || !v->audience)
		goto fail;
	v->leeway = leeway_seconds;
	if (shop_random_bytes(&v->seed, sizeof(v->seed)) < 0)
		v->seed = shop_now_ns();
	v->hits = metrics_counter("jwt_cache_hits_total",
	                          "Tokens found in the verified-token cache.",
	                          "");
	v->misses = metrics_counter(
	        "jwt_cache_misses_total",
	        "Tokens verified by signature (not in the cache).", "");
	rc = jwt_verifier_set_cache(v, JWT_CACHE_DEFAULT);
	if (rc < 0)
		goto fail;
	free(pem);
	*out = v;
	return 0;

fail:
	free(pem);
	jwt_verifier_free(v);
	return rc;
}

void jwt_verifier_free(struct jwt_verifier *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->cache_size; i++)
		free(v->cache[i].token);
	free(v->cache);
	for (int i = 0; i < JWT_CACHE_STRIPES; i++)
		pthread_mutex_destroy(&v->stripes[i]);
	EVP_PKEY_free(v->key);
	free(v->issuer);
	free(v->audience);
	free(v);
}

int jwt_verifier_set_cache(struct jwt_verifier *v, size_t entries)
{
	struct jwt_cache_entry *cache = NULL;

	if (entries > JWT_CACHE_MAX)
		return SHOP_EINVAL;
	if (entries) {
		cache = calloc(entries, sizeof(*cache));
		if (!cache)
			return SHOP_ENOMEM;
	}
	for (size_t i = 0; i < v->cache_size; i++)
		free(v->cache[i].token);
	free(v->cache);
	v->cache = cache;
	v->cache_size = entries;
	return 0;
}

/* FNV-1a over the token, seeded per verifier. */
static uint64_t token_hash(const struct jwt_verifier *v, const char *token,
                           size_t len)
{
	uint64_t h = 14695981039346656037ull ^ v->seed;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)token[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* Decodes one base64url segment of the token as a JSON object. */
static json_t *segment_json(const char *s, size_t n)
{
	unsigned char buf[JWT_TOKEN_MAX];
	long len = b64_decode(s, n, true, buf, sizeof(buf));
	json_t *j;

	if (len <= 0)
		return NULL;
	j = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES,
	               NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Copies an optional (required when `required`) string claim into dst.
 * Returns NULL or the reason it fails. */
static const char *string_claim(json_t *claims, const char *name, bool required,
                                char *dst, size_t cap, const char *missing)
{
	json_t *j = json_object_get(claims, name);
	size_t len;

	if (!j) {
		if (required)
			return missing;
		dst[0] = '\0';
		return NULL;
	}
	if (!json_is_string(j))
		return "malformed claims";
	len = json_string_length(j);
	if (len == 0 && required)
		return missing;
	if (len >= cap || strlen(json_string_value(j)) != len)
		return "claim too long";
	memcpy(dst, json_string_value(j), len + 1);
	return NULL;
}

/* Reads a NumericDate claim. Returns NULL or the reason. */
static const char *time_claim(json_t *claims, const char *name, bool required,
                              long long *out, bool *present,
                              const char *missing)
{
	json_t *j = json_object_get(claims, name);
	double d;

	*present = j != NULL;
	if (!j)
		return required ? missing : NULL;
	if (!json_is_number(j))
		return "malformed claims";
	d = json_number_value(j);
	if (!(d >= 0 && d <= JWT_TIME_MAX))
		return "malformed claims";
	*out = (long long)d;
	return NULL;
}

static bool audience_matches(json_t *aud, const char *want)
{
	size_t i;
	json_t *item;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	if (json_is_array(aud)) {
		json_array_foreach(aud, i, item)
		{
			if (json_is_string(item) &&
			    strcmp(json_string_value(item), want) == 0)
				return true;
		}
	}
	return false;
}

/* The checks of a token's times against now, shared by a full
 * verification and a cache hit. */
static const char *check_times(const struct jwt_verifier *v, long long exp,
                               long long iat, long long nbf, long long now)
{
	if (now >= exp + v->leeway)
		return "expired";
	if (iat > now + v->leeway)
		return "issued in the future";
	if (nbf > now + v->leeway)
		return "not yet valid";
	return NULL;
}

static const char *check_claims(const struct jwt_verifier *v, json_t *claims,
                                long long now, struct jwt_claims *c,
                                long long *nbf_out)
{
	const char *why;
	json_t *iss;
	long long nbf = 0;
	bool present;

	if ((why = time_claim(claims, "exp", true, &c->exp, &present,
	                      "missing exp")))
		return why;
	if (now >= c->exp + v->leeway)
		return "expired";
	if ((why = time_claim(claims, "iat", true, &c->iat, &present,
	                      "missing iat")))
		return why;
	if (c->iat > now + v->leeway)
		return "issued in the future";
	if ((why = time_claim(claims, "nbf", false, &nbf, &present, NULL)))
		return why;
	if (present && nbf > now + v->leeway)
		return "not yet valid";
	*nbf_out = present ? nbf : 0;
	iss = json_object_get(claims, "iss");
	if (!json_is_string(iss) ||
	    strcmp(json_string_value(iss), v->issuer) != 0)
		return "wrong issuer";
	if (!audience_matches(json_object_get(claims, "aud"), v->audience))
		return "wrong audience";
	if ((why = string_claim(claims, "sub", true, c->sub, sizeof(c->sub),
	                        "missing subject")))
		return why;
	if ((why = string_claim(claims, "role", true, c->role, sizeof(c->role),
	                        "invalid role")))
		return why;
	if (strcmp(c->role, "customer") != 0 && strcmp(c->role, "admin") != 0)
		return "invalid role";
	if ((why = string_claim(claims, "email", false, c->email,
	                        sizeof(c->email), NULL)))
		return why;
	if ((why = string_claim(claims, "jti", false, c->jti, sizeof(c->jti),
	                        NULL)))
		return why;
	return NULL;
}

/* The header must name ES256, the one algorithm verified: a verifier that
 * took the algorithm from the token (as libjwt 1.10 does) would accept
 * "none", or HS256 MAC'd with the public key. */
static const char *check_header(const char *token, size_t len)
{
	json_t *h = segment_json(token, len);
	json_t *alg;
	const char *why = NULL;

	if (!h)
		return "malformed token";
	alg = json_object_get(h, "alg");
	if (!json_is_string(alg) ||
	    strcmp(json_string_value(alg), "ES256") != 0)
		why = "unsupported algorithm";
	else if (json_object_get(h, "crit"))
		why = "unsupported critical header";
	json_decref(h);
	return why;
}

/*
 * Checks the ES256 signature of a compact JWS: sig (base64url) must be the
 * 64-byte R || S of RFC 7518 section 3.4 over the signing input
 * "header.payload", with the verifier's key. The signature is checked with
 * OpenSSL on the key parsed once at start: libjwt 1.10 decodes the PEM key
 * again on every call, which under OpenSSL 3 costs about 270 us of the
 * 380 us a libjwt verification takes here, against about 60 us for the
 * ECDSA verification itself (docs/performance.md).
 */
static bool signature_ok(const struct jwt_verifier *v, const char *input,
                         size_t input_len, const char *sig, size_t sig_len)
{
	unsigned char raw[65], *der = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	EVP_MD_CTX *md = NULL;
	bool ok = false;
	int der_len;

	if (b64_decode(sig, sig_len, true, raw, sizeof(raw)) != 64)
		return false;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(raw, 32, NULL);
	s = BN_bin2bn(raw + 32, 32, NULL);
	if (!es || !r || !s)
		goto out;
	if (!ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL; /* owned by es now */
	der_len = i2d_ECDSA_SIG(es, &der);
	if (der_len <= 0)
		goto out;
	md = EVP_MD_CTX_new();
	if (!md ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, v->key) != 1)
		goto out;
	ok = EVP_DigestVerify(md, der, (size_t)der_len,
	                      (const unsigned char *)input, input_len) == 1;
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ok;
}

/* True on a hit: then *why is NULL and *out filled, or *why says why the
 * cached token no longer passes (it expired). */
static bool cache_lookup(const struct jwt_verifier *v, const char *token,
                         size_t len, uint64_t hash, long long now,
                         struct jwt_claims *out, const char **why)
{
	size_t i = (size_t)(hash % v->cache_size);
	pthread_mutex_t *lock =
	        (pthread_mutex_t *)&v->stripes[i % JWT_CACHE_STRIPES];
	const struct jwt_cache_entry *e = &v->cache[i];
	bool hit;

	pthread_mutex_lock(lock);
	hit = e->token && e->hash == hash && e->len == len &&
	      memcmp(e->token, token, len) == 0;
	if (hit) {
		*why = check_times(v, e->claims.exp, e->claims.iat, e->nbf,
		                   now);
		if (!*why)
			*out = e->claims;
	}
	pthread_mutex_unlock(lock);
	return hit;
}

/* Remembers a token that passed every check; a failed copy just leaves it
 * out. */
static void cache_store(const struct jwt_verifier *v, const char *token,
                        size_t len, uint64_t hash, long long nbf,
                        const struct jwt_claims *c)
{
	size_t i = (size_t)(hash % v->cache_size);
	pthread_mutex_t *lock =
	        (pthread_mutex_t *)&v->stripes[i % JWT_CACHE_STRIPES];
	struct jwt_cache_entry *e = &v->cache[i];
	char *copy = malloc(len + 1), *old;

	if (!copy)
		return;
	memcpy(copy, token, len + 1);
	pthread_mutex_lock(lock);
	old = e->token;
	e->token = copy;
	e->hash = hash;
	e->len = len;
	e->nbf = nbf;
	e->claims = *c;
	pthread_mutex_unlock(lock);
	free(old);
}

int jwt_verify_at(const struct jwt_verifier *v, const char *token,
                  long long now, struct jwt_claims *out, const char **reason)
{
	struct jwt_claims c;
	const char *why = NULL, *dot1, *dot2;
	json_t *claims = NULL;
	long long nbf = 0;
	uint64_t hash = 0;
	size_t len;

	if (!token || !*token) {
		why = "missing token";
		goto done;
	}
	len = strnlen(token, JWT_TOKEN_MAX + 1);
	if (len > JWT_TOKEN_MAX) {
		why = "token too long";
		goto done;
	}
	if (v->cache_size) {
		hash = token_hash(v, token, len);
		if (cache_lookup(v, token, len, hash, now, out, &why)) {
			metric_add(v->hits, 1);
			goto done;
		}
		metric_add(v->misses, 1);
	}
	/* Compact JWS: three non-empty base64url segments. */
	for (size_t i = 0; i < len; i++) {
		if (token[i] != '.' && b64_value(token[i], true) < 0) {
			why = "malformed token";
			goto done;
		}
	}
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot1 || !dot2 || strchr(dot2 + 1, '.') || dot1 == token ||
	    dot2 == dot1 + 1 || dot2[1] == '\0') {
		why = "malformed token";
		goto done;
	}
	if ((why = check_header(token, (size_t)(dot1 - token))))
		goto done;

	/* The header said ES256 (check_header): verify exactly that. */
	if (!signature_ok(v, token, (size_t)(dot2 - token), dot2 + 1,
	                  len - (size_t)(dot2 + 1 - token))) {
		why = "bad signature";
		goto done;
	}
	/* The payload is authenticated now; read it strictly ourselves. */
	claims = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!claims) {
		why = "malformed claims";
		goto done;
	}
	memset(&c, 0, sizeof(c));
	if ((why = check_claims(v, claims, now, &c, &nbf)))
		goto done;
	*out = c;
	if (v->cache_size)
		cache_store(v, token, len, hash, nbf, &c);

done:
	json_decref(claims);
	if (why && reason)
		*reason = why;
	return why ? SHOP_EAUTH : 0;
}

int jwt_verify(const struct jwt_verifier *v, const char *token,
               struct jwt_claims *out, const char **reason)
{
	return jwt_verify_at(v, token, (long long)time(NULL), out, reason);
}
