#ifndef SHOP_JWT_H
#define SHOP_JWT_H

#include <stddef.h>

/*
 * Verification of the fleet's access tokens: ES256 JWTs issued by the user
 * service (claims sub, email, role, iat, exp, iss, aud, jti).
 *
 * The algorithm is pinned: the header must say alg ES256 (no "none", no
 * HS256 MAC'd with the public key), and the signature is checked as ES256
 * with OpenSSL on the P-256 key parsed once by jwt_verifier_new(). libjwt
 * 1.10 would take the algorithm from the token, check no claim, and decode
 * the PEM key on every call (about 6 times the cost of the ECDSA check
 * itself under OpenSSL 3); it still signs the tokens in the user service,
 * and the tests verify tokens it signed. exp, iat, nbf, iss, aud, sub and
 * role are checked here.
 */

/* The clock skew every verifier of the fleet allows on exp, iat and nbf;
 * a revoked token must stay revoked at least this long past its exp. */
#define JWT_LEEWAY_S 30

#define JWT_SUB_MAX   64
#define JWT_EMAIL_MAX 256
#define JWT_ROLE_MAX  16
#define JWT_JTI_MAX   64

/*
 * The claims of a verified token, in fixed-size fields the caller owns (no
 * allocation, nothing to free). A claim longer than its field (minus the
 * NUL) makes the token invalid rather than being cut.
 */
struct jwt_claims {
	char sub[JWT_SUB_MAX];     /* the user id; never empty */
	char email[JWT_EMAIL_MAX]; /* "" when the token has none */
	char role[JWT_ROLE_MAX];   /* "customer" or "admin" */
	char jti[JWT_JTI_MAX];     /* token id for revocation; "" when none */
	long long iat;             /* seconds since the epoch */
	long long exp;             /* seconds since the epoch */
};

struct jwt_verifier;

/*
 * Reads the public key (a P-256 "BEGIN PUBLIC KEY" PEM file) and returns a
 * verifier accepting tokens with iss == issuer and aud == audience (or an
 * aud array containing it), allowing leeway_seconds (0..3600) of clock
 * skew on exp, iat and nbf. The strings are copied. Returns 0 and *out
 * (caller frees with jwt_verifier_free()), SHOP_EINVAL when the file
 * cannot be read or holds no P-256 public key, or issuer / audience are
 * empty (logged, naming the file), or SHOP_ENOMEM.
 */
int jwt_verifier_new(const char *public_key_pem_path, const char *issuer,
                     const char *audience, int leeway_seconds,
                     struct jwt_verifier **out);

/* Entries of the verified-token cache a new verifier starts with, and the
 * most jwt_verifier_set_cache() accepts. */
#define JWT_CACHE_DEFAULT 4096
#define JWT_CACHE_MAX     (1u << 20)

/*
 * Resizes the verified-token cache to `entries` slots (0 turns it off),
 * emptying it. A token whose signature and claims checked out is
 * remembered, so verifying it again costs a hash and a comparison instead
 * of an ECDSA verification; a hit still re-checks exp, iat and nbf against
 * the clock. Counted in jwt_cache_hits_total / jwt_cache_misses_total.
 * Not thread-safe: call before any jwt_verify(). Returns 0, SHOP_EINVAL
 * beyond JWT_CACHE_MAX, or SHOP_ENOMEM (the old cache is kept then).
 */
int jwt_verifier_set_cache(struct jwt_verifier *v, size_t entries);

/* Frees the verifier. Accepts NULL. */
void jwt_verifier_free(struct jwt_verifier *v);

/*
 * Verifies token (a compact JWS, without "Bearer ") at the current time.
 * Returns 0 and fills *out, or SHOP_EAUTH for every rejection, with *reason
 * (when reason is not NULL) set to a short static string for logs such as
 * "expired", "bad signature" or "wrong audience"; out is untouched then.
 * Never logs. Thread-safe: any number of threads may verify at once.
 */
int jwt_verify(const struct jwt_verifier *v, const char *token,
               struct jwt_claims *out, const char **reason);

/* jwt_verify() at the given time (seconds since the epoch), for tests. */
int jwt_verify_at(const struct jwt_verifier *v, const char *token,
                  long long now, struct jwt_claims *out, const char **reason);

#endif
