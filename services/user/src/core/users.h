#ifndef USER_CORE_USERS_H
#define USER_CORE_USERS_H

#include "ports.h"

/*
 * The user service's use cases: register, log in, log out, read and
 * change one's own account. Each takes the request's arena for what it
 * returns and answers 0 or a negative code:
 *   SHOP_EINVAL      bad input, field errors added to errs
 *   SHOP_EAUTH       wrong email or password (login), one answer for both
 *   SHOP_ENOTFOUND   the account does not exist (any more)
 *   SHOP_ECONFLICT   the email is taken; the password changed meanwhile
 *   USERS_ETHROTTLED too many failed sign-ins for this email: retry after
 *                    *retry_after_s seconds; the password was not checked
 *   SHOP_EUNAVAIL / SHOP_ETIMEDOUT  a dependency is down or busy (503)
 *   SHOP_ENOMEM, SHOP_ERR
 * Out-parameters are untouched on failure.
 */
enum {
	USERS_ETHROTTLED = -100, /* beside enum shop_err, which ends at -9 */
};

struct users_limits {
	int max_failures;     /* failed sign-ins allowed per window, >= 1 */
	int failure_window_s; /* the window, seconds, >= 1 */
};

struct users {
	struct user_repo repo;
	struct password_hasher hasher;
	struct token_issuer tokens;
	struct token_revocations revocations;
	struct login_failures failures;
	struct users_limits limits;
};

/* Borrowed ports: they must outlive s. */
void users_init(struct users *s, struct user_repo repo,
                struct password_hasher hasher, struct token_issuer tokens,
                struct token_revocations revocations,
                struct login_failures failures,
                const struct users_limits *limits);

/* What a client asks to register with (strings borrowed). */
struct user_registration {
	const char *email;
	const char *password;
	const char *name;
};

/* An account and a fresh access token for it. */
struct user_session {
	struct user user;
	struct access_token token;
};

/*
 * Creates a customer account (email lower-cased, name trimmed, password
 * hashed) and its user.registered event, and signs a token for it. Every
 * bad field is reported at once. SHOP_ECONFLICT when the email is taken.
 */
int users_register(struct users *s, struct arena *a, const struct user_trace *t,
                   const struct user_registration *in,
                   struct field_errors *errs, struct user_session *out);

/*
 * Signs in: SHOP_EAUTH for an unknown email and a wrong password alike,
 * after the same work (a dummy verification for an unknown email). Each
 * attempt for an email is counted before its password is checked, so a
 * burst cannot get more than limits.max_failures checks through; past
 * that, USERS_ETHROTTLED without any hashing. A success forgets the
 * count, and re-hashes the password when its parameters are outdated.
 * Counting is skipped (logged) when the counter is down.
 */
int users_login(struct users *s, struct arena *a, const struct user_trace *t,
                const char *email, const char *password,
                struct field_errors *errs, struct user_session *out,
                long long *retry_after_s);

/* Revokes the token jti until exp. SHOP_EINVAL when the token carries no
 * usable jti; SHOP_EUNAVAIL when revocations cannot be stored. */
int users_logout(struct users *s, const char *jti, long long exp);

/* The account with this id; SHOP_ENOTFOUND (also for a non-UUID id). */
int users_get(struct users *s, struct arena *a, const char *id,
              struct user *out);

/* A change to one's own account; NULL means "not given". */
struct user_patch {
	const char *name;
	const char *password;         /* the new password */
	const char *current_password; /* required with password */
};

/*
 * Applies p to the account id. At least one of name and password; a new
 * password needs the current one, whose check counts as a sign-in attempt
 * for the account's email (USERS_ETHROTTLED past the limit), and a wrong
 * one is SHOP_EINVAL with an error on current_password (not SHOP_EAUTH:
 * the token is fine). current_password without password is ignored.
 */
int users_patch(struct users *s, struct arena *a, const struct user_trace *t,
                const char *id, const struct user_patch *p,
                struct field_errors *errs, struct user *out,
                long long *retry_after_s);

#endif
