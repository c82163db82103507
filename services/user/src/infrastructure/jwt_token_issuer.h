#ifndef USER_INFRA_JWT_TOKEN_ISSUER_H
#define USER_INFRA_JWT_TOKEN_ISSUER_H

#include "../core/ports.h"

/*
 * The token issuer: ES256 access tokens signed with libjwt (claims sub,
 * email, role, iat, exp = iat + ttl, iss, aud, a fresh UUID jti; header
 * kid), and the JWK Set that publishes the public key, computed with
 * OpenSSL's libcrypto. The private key stays inside this module.
 */
struct jwt_issuer_options {
	const char *private_key_file; /* P-256 private key, PEM (PKCS#8) */
	const char *public_key_file;  /* its public key, PEM (SPKI) */
	const char *issuer;           /* iss */
	const char *audience;         /* aud */
	int ttl_s;                    /* exp - iat, >= 1 */
};

/*
 * Reads both keys and checks that they are P-256 and belong together.
 * Returns an issuer (free with jwt_token_issuer_free) or one with NULL ops
 * after logging one line saying why (unreadable file, not a P-256 key,
 * keys that do not match, out of memory). The strings are copied.
 */
struct token_issuer jwt_token_issuer_new(const struct jwt_issuer_options *opt);

/*
 * The JWK Set of the public key as JSON text ({"keys":[{"kty":"EC",
 * "crv":"P-256","x","y","use":"sig","alg":"ES256","kid"}]}), NUL-terminated,
 * *len its length; borrowed from the issuer.
 */
const char *jwt_token_issuer_jwks(struct token_issuer t, size_t *len);

/* The key id: the RFC 7638 thumbprint of the public key, base64url
 * (43 characters). Borrowed from the issuer. */
const char *jwt_token_issuer_kid(struct token_issuer t);

/* Accepts an issuer with NULL self. */
void jwt_token_issuer_free(struct token_issuer t);

#endif
