#ifndef USER_CORE_PORTS_H
#define USER_CORE_PORTS_H

#include <stdbool.h>

#include "shop/arena.h"
#include "../domain/user.h"

/*
 * What the user service's use cases need from the outside world. The
 * infrastructure layer implements these with libpq, libsodium, libjwt and
 * hiredis; the unit tests with in-memory fakes (tests/fake_users.h). Every
 * string a slot returns is allocated from the arena it is given. Every slot
 * returns 0 or a negative shop_err: SHOP_EUNAVAIL / SHOP_ETIMEDOUT when
 * what is behind it is down or too busy, SHOP_ENOMEM, SHOP_ERR otherwise.
 * Strings a slot takes are borrowed for the call.
 */

/* Room for an encoded password hash and its NUL (crypto_pwhash_STRBYTES). */
#define USER_PASSWORD_HASH_MAX 128

/* Where a request came from, for the events it causes and for logs. */
struct user_trace {
	const char *request_id;  /* the X-Request-ID; may be NULL */
	const char *traceparent; /* W3C traceparent; may be NULL */
};

/* A new account, already validated and normalized. */
struct user_new {
	const char *email; /* lower-case */
	const char *name;  /* trimmed */
	const char *password_hash;
};

struct user_repo_ops {
	/* Stores a new customer and, in the same transaction, its
	 * user.registered event (data user_id, email, name; correlation_id
	 * and traceparent from t) in the outbox, and returns the stored
	 * user. SHOP_ECONFLICT when the email is taken (nothing stored). */
	int (*create)(void *self, struct arena *a, const struct user_new *u,
	              const struct user_trace *t, struct user *out);
	/* The user with this (lower-case) email and its password hash.
	 * SHOP_ENOTFOUND. */
	int (*find_by_email)(void *self, struct arena *a, const char *email,
	                     struct user *out, const char **password_hash);
	/* The user with this id (a valid UUID) and, when password_hash is
	 * not NULL, its password hash. SHOP_ENOTFOUND. */
	int (*find_by_id)(void *self, struct arena *a, const char *id,
	                  struct user *out, const char **password_hash);
	/* Sets the name and / or the password hash (NULL keeps the stored
	 * one), bumps updated_at, and returns the row. When expected_hash
	 * is not NULL, writes only if the stored hash is still that one,
	 * else SHOP_ECONFLICT (someone changed the password meanwhile).
	 * SHOP_ENOTFOUND. */
	int (*update)(void *self, struct arena *a, const char *id,
	              const char *name, const char *password_hash,
	              const char *expected_hash, struct user *out);
};

struct user_repo {
	const struct user_repo_ops *ops;
	void *self;
};

/*
 * Password hashing. Each hash or verification is expensive on purpose
 * (Argon2id: tens of milliseconds and tens of MiB), so an implementation
 * bounds how many run at once and may refuse one it cannot start soon:
 * SHOP_EUNAVAIL (too many waiting) or SHOP_ETIMEDOUT (waited too long),
 * both answered 503.
 */
struct password_hasher_ops {
	/* Hashes password into out (NUL-terminated, at most
	 * USER_PASSWORD_HASH_MAX bytes with its NUL). */
	int (*hash)(void *self, const char *password,
	            char out[USER_PASSWORD_HASH_MAX]);
	/* 0 when password matches hash; SHOP_EAUTH when it does not or hash
	 * is not a hash this hasher can read. */
	int (*verify)(void *self, const char *hash, const char *password);
	/* Costs what verify() costs and answers SHOP_EAUTH (or a refusal
	 * above): run for an email with no account, so that its answer
	 * takes as long as a wrong password's. */
	int (*verify_dummy)(void *self, const char *password);
	/* 1 when hash was made with other parameters or another algorithm
	 * than the ones hash() uses today, else 0. */
	int (*needs_rehash)(void *self, const char *hash);
};

struct password_hasher {
	const struct password_hasher_ops *ops;
	void *self;
};

/* A signed access token and how long it lives. */
struct access_token {
	const char *token;
	long long expires_in; /* seconds */
};

struct token_issuer_ops {
	/* Signs an access token for u (claims sub, email, role, iat, exp,
	 * iss, aud and a fresh jti). */
	int (*issue)(void *self, struct arena *a, const struct user *u,
	             struct access_token *out);
};

struct token_issuer {
	const struct token_issuer_ops *ops;
	void *self;
};

struct token_revocations_ops {
	/* Marks the token jti revoked until exp (seconds since the epoch),
	 * for every verifier of the fleet. SHOP_EINVAL for an unusable
	 * jti. */
	int (*revoke)(void *self, const char *jti, long long exp);
};

struct token_revocations {
	const struct token_revocations_ops *ops;
	void *self;
};

/*
 * Failed sign-ins per email, in a fixed window that starts at the first
 * one. Callers treat every failure of this port as "not counted" and carry
 * on (fail open).
 */
struct login_failures_ops {
	/* Counts one attempt for email (lower-case): *count is the number
	 * in the current window after this one, *retry_after_s the seconds
	 * left in the window (window_s when it just started). */
	int (*add)(void *self, const char *email, int window_s,
	           long long *count, long long *retry_after_s);
	/* Forgets the attempts of email. */
	int (*clear)(void *self, const char *email);
};

struct login_failures {
	const struct login_failures_ops *ops;
	void *self;
};

#endif
