#include "jwt_token_issuer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

#define KEY_FILE_MAX  16384
#define COORD_LEN     32 /* bytes of a P-256 coordinate */
#define COORD_B64_LEN 43 /* base64url of 32 bytes, unpadded */
#define KID_LEN       43 /* base64url of a SHA-256 */

struct jwt_token_issuer {
	char *private_pem; /* handed to libjwt for each signature */
	int private_pem_len;
	char *issuer;
	char *audience;
	int ttl_s;
	char kid[KID_LEN + 1];
	char *jwks;
	size_t jwks_len;
};

/* Unpadded base64url of n bytes into out (4 * ceil(n / 3) + 1 bytes). */
static void b64url(const unsigned char *in, size_t n, char *out)
{
	static const char abc[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
	        "tuvwxyz0123456789-_";
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 |
		                  (unsigned long)in[i + 1] << 8 | in[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = abc[(v >> 6) & 63];
		out[o++] = abc[v & 63];
	}
	if (n - i == 1) {
		unsigned long v = (unsigned long)in[i] << 16;
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
	} else if (n - i == 2) {
		unsigned long v = (unsigned long)in[i] << 16 |
		                  (unsigned long)in[i + 1] << 8;
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = abc[(v >> 6) & 63];
	}
	out[o] = '\0';
}

/* Reads a small file whole. Returns a malloc'd NUL-terminated copy or
 * NULL with *why set. */
static char *read_key_file(const char *path, size_t *len, const char **why)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		*why = strerror(errno);
		return NULL;
	}
	buf = malloc(KEY_FILE_MAX + 1);
	if (!buf) {
		*why = "out of memory";
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, KEY_FILE_MAX + 1, f);
	if (ferror(f) || n == 0 || n > KEY_FILE_MAX) {
		*why = n == 0 ? "empty file" : "over 16 KiB";
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
		*len = n;
	}
	fclose(f);
	return buf;
}

/* Never prompts for a passphrase: an encrypted key is refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Parses a PEM private (is_private) or public key. NULL when it is not
 * one. */
static EVP_PKEY *parse_key(const char *pem, size_t len, bool is_private)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *key = NULL;

	if (!bio)
		return NULL;
	key = is_private
	              ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
	              : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	return key;
}

static bool is_p256(EVP_PKEY *key)
{
	char group[64];

	return EVP_PKEY_is_a(key, "EC") &&
	       EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
	                                      group, sizeof(group), NULL) &&
	       strcmp(group, "prime256v1") == 0;
}

/* Loads one key file into *key (and its text into *pem when not NULL).
 * Logs one line and returns SHOP_EINVAL when it cannot. */
static int load_key(const char *path, bool is_private, EVP_PKEY **key,
                    char **pem, size_t *pem_len)
{
	const char *kind = is_private ? "private" : "public";
	const char *why = NULL;
	size_t len = 0;
	char *text = read_key_file(path, &len, &why);

	if (!text) {
		slog_error("cannot read the JWT %s key '%s': %s", kind, path,
		           why);
		return SHOP_EINVAL;
	}
	*key = parse_key(text, len, is_private);
	if (!*key || !is_p256(*key)) {
		slog_error("cannot use the JWT %s key '%s': not an unencrypted "
		           "P-256 %s key in PEM",
		           kind, path, kind);
		EVP_PKEY_free(*key);
		*key = NULL;
		OPENSSL_cleanse(text, len);
		free(text);
		return SHOP_EINVAL;
	}
	if (pem) {
		*pem = text;
		*pem_len = len;
	} else {
		free(text);
	}
	return 0;
}

/* Fills x and y (unpadded base64url) and the RFC 7638 thumbprint. */
static int describe_public_key(EVP_PKEY *key, char x[COORD_B64_LEN + 1],
                               char y[COORD_B64_LEN + 1], char kid[KID_LEN + 1])
{
	unsigned char bx[COORD_LEN], by[COORD_LEN], digest[32];
	BIGNUM *nx = NULL, *ny = NULL;
	char canonical[160];
	unsigned int dlen = 0;
	int rc = SHOP_ERR, n;

	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &nx) ||
	    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &ny) ||
	    BN_bn2binpad(nx, bx, COORD_LEN) != COORD_LEN ||
	    BN_bn2binpad(ny, by, COORD_LEN) != COORD_LEN)
		goto free_bn;
	b64url(bx, COORD_LEN, x);
	b64url(by, COORD_LEN, y);
	/* RFC 7638: the required members in lexicographic order, no
	 * white space. */
	n = snprintf(
	        canonical, sizeof(canonical),
	        "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
	        x, y);
	if (n < 0 || (size_t)n >= sizeof(canonical) ||
	    !EVP_Digest(canonical, (size_t)n, digest, &dlen, EVP_sha256(),
	                NULL) ||
	    dlen != sizeof(digest))
		goto free_bn;
	b64url(digest, sizeof(digest), kid);
	rc = 0;
free_bn:
	BN_free(nx);
	BN_free(ny);
	return rc;
}

static int jwt_issue(void *self, struct arena *a, const struct user *u,
                     struct access_token *out)
{
	struct jwt_token_issuer *t = self;
	char jti[SHOP_UUID_LEN + 1];
	long now = (long)time(NULL);
	jwt_t *jwt = NULL;
	char *token = NULL, *copy;
	int rc = SHOP_ERR;

	shop_uuid_v4(jti);
	if (jwt_new(&jwt) != 0)
		return SHOP_ENOMEM;
	if (jwt_add_grant(jwt, "sub", u->id) ||
	    jwt_add_grant(jwt, "email", u->email) ||
	    jwt_add_grant(jwt, "role", user_role_name(u->role)) ||
	    jwt_add_grant_int(jwt, "iat", now) ||
	    jwt_add_grant_int(jwt, "exp", now + t->ttl_s) ||
	    jwt_add_grant(jwt, "iss", t->issuer) ||
	    jwt_add_grant(jwt, "aud", t->audience) ||
	    jwt_add_grant(jwt, "jti", jti) ||
	    jwt_add_header(jwt, "kid", t->kid) ||
	    jwt_set_alg(jwt, JWT_ALG_ES256,
	                (const unsigned char *)t->private_pem,
	                t->private_pem_len))
		goto free_jwt;
	token = jwt_encode_str(jwt);
	if (!token) {
		slog_error("cannot sign an access token: %s", strerror(errno));
		goto free_jwt;
	}
	copy = arena_strdup(a, token);
	if (!copy) {
		rc = SHOP_ENOMEM;
		goto free_jwt;
	}
	out->token = copy;
	out->expires_in = t->ttl_s;
	rc = 0;
free_jwt:
	free(token);
	jwt_free(jwt);
	return rc;
}

static const struct token_issuer_ops jwt_issuer_ops = {
        .issue = jwt_issue,
};

struct token_issuer jwt_token_issuer_new(const struct jwt_issuer_options *opt)
{
	struct jwt_token_issuer *t = calloc(1, sizeof(*t));
	char x[COORD_B64_LEN + 1], y[COORD_B64_LEN + 1];
	EVP_PKEY *priv = NULL, *pub = NULL;
	size_t pem_len = 0;
	int n;

	if (!t)
		goto fail;
	if (opt->ttl_s < 1)
		BUG("jwt_token_issuer_new: ttl must be positive");
	if (load_key(opt->private_key_file, true, &priv, &t->private_pem,
	             &pem_len))
		goto fail;
	t->private_pem_len = (int)pem_len;
	if (load_key(opt->public_key_file, false, &pub, NULL, NULL))
		goto fail;
	if (EVP_PKEY_eq(priv, pub) != 1) {
		slog_error("the JWT public key '%s' does not belong to the "
		           "private key '%s': generate them together",
		           opt->public_key_file, opt->private_key_file);
		goto fail;
	}
	if (describe_public_key(pub, x, y, t->kid)) {
		slog_error("cannot read the coordinates of the JWT public key "
		           "'%s'",
		           opt->public_key_file);
		goto fail;
	}
	t->issuer = strdup(opt->issuer);
	t->audience = strdup(opt->audience);
	t->ttl_s = opt->ttl_s;
	t->jwks = malloc(512);
	if (!t->issuer || !t->audience || !t->jwks)
		goto fail;
	n = snprintf(
	        t->jwks, 512,
	        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
	        "\"y\":\"%s\",\"use\":\"sig\",\"alg\":\"ES256\","
	        "\"kid\":\"%s\"}]}",
	        x, y, t->kid);
	if (n < 0 || n >= 512)
		goto fail;
	t->jwks_len = (size_t)n;
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	return (struct token_issuer){.ops = &jwt_issuer_ops, .self = t};
fail:
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	jwt_token_issuer_free((struct token_issuer){.self = t});
	return (struct token_issuer){0};
}

const char *jwt_token_issuer_jwks(struct token_issuer t, size_t *len)
{
	struct jwt_token_issuer *ti = t.self;

	*len = ti->jwks_len;
	return ti->jwks;
}

const char *jwt_token_issuer_kid(struct token_issuer t)
{
	return ((struct jwt_token_issuer *)t.self)->kid;
}

void jwt_token_issuer_free(struct token_issuer t)
{
	struct jwt_token_issuer *ti = t.self;

	if (!ti)
		return;
	if (ti->private_pem) {
		OPENSSL_cleanse(ti->private_pem, (size_t)ti->private_pem_len);
		free(ti->private_pem);
	}
	free(ti->issuer);
	free(ti->audience);
	free(ti->jwks);
	free(ti);
}
