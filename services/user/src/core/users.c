#include "users.h"

#include <stdatomic.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

void users_init(struct users *s, struct user_repo repo,
                struct password_hasher hasher, struct token_issuer tokens,
                struct token_revocations revocations,
                struct login_failures failures,
                const struct users_limits *limits)
{
	if (limits->max_failures < 1 || limits->failure_window_s < 1)
		BUG("users_init: limits must be positive");
	s->repo = repo;
	s->hasher = hasher;
	s->tokens = tokens;
	s->revocations = revocations;
	s->failures = failures;
	s->limits = *limits;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/*
 * Whether the failure counter failed last time: its outage is logged once
 * when it starts and once when it ends (with the request that saw it), not
 * on every sign-in; each attempt it could not count is counted in
 * user_login_attempts_uncounted_total.
 */
static atomic_bool counter_down;

static void counter_result(const struct user_trace *t, int rc)
{
	if (rc) {
		if (!atomic_exchange(&counter_down, true))
			slog_kv(SLOG_WARN, t->request_id,
			        "cannot count failed sign-ins; not throttling "
			        "them meanwhile",
			        SLOG_S("error", shop_strerror(rc)));
	} else if (atomic_load(&counter_down) &&
	           atomic_exchange(&counter_down, false)) {
		slog_kv(SLOG_INFO, t->request_id,
		        "counting failed sign-ins again");
	}
}

/*
 * Counts one sign-in attempt for email. Returns 0 when it may go on (also
 * when the counter is down: fail open), or USERS_ETHROTTLED with
 * *retry_after_s when the email is past its limit.
 */
static int count_attempt(struct users *s, const struct user_trace *t,
                         const char *email, long long *retry_after_s)
{
	long long count = 0, left = 0;
	int rc =
	        s->failures.ops->add(s->failures.self, email,
	                             s->limits.failure_window_s, &count, &left);

	counter_result(t, rc);
	if (rc)
		metric_add(
		        metrics_counter("user_login_attempts_uncounted_total",
		                        "Sign-in attempts not counted for "
		                        "throttling: the counter was down",
		                        ""),
		        1);
	if (rc == 0 && count > s->limits.max_failures) {
		*retry_after_s = left > 0 ? left : 1;
		return USERS_ETHROTTLED;
	}
	return 0;
}

static void forget_attempts(struct users *s, const struct user_trace *t,
                            const char *email)
{
	counter_result(t, s->failures.ops->clear(s->failures.self, email));
}

int users_register(struct users *s, struct arena *a, const struct user_trace *t,
                   const struct user_registration *in,
                   struct field_errors *errs, struct user_session *out)
{
	char email[USER_EMAIL_MAX + 1], name[USER_NAME_BYTES_MAX + 1];
	char hash[USER_PASSWORD_HASH_MAX];
	struct user_session session;
	struct user_new u;
	int rc = 0;

	if (user_email_normalize(or_empty(in->email), "email", email, errs))
		rc = SHOP_EINVAL;
	if (user_password_validate(or_empty(in->password), "password", errs))
		rc = SHOP_EINVAL;
	if (user_name_normalize(or_empty(in->name), "name", name, errs))
		rc = SHOP_EINVAL;
	if (rc)
		return rc;
	rc = s->hasher.ops->hash(s->hasher.self, in->password, hash);
	if (rc)
		return rc;
	u = (struct user_new){
	        .email = email, .name = name, .password_hash = hash};
	rc = s->repo.ops->create(s->repo.self, a, &u, t, &session.user);
	if (rc)
		return rc;
	rc = s->tokens.ops->issue(s->tokens.self, a, &session.user,
	                          &session.token);
	if (rc)
		return rc;
	*out = session;
	return 0;
}

/* After a good password: stores a fresh hash when the stored one was made
 * with outdated parameters. Best effort: the sign-in succeeds anyway. */
static void maybe_rehash(struct users *s, struct arena *a,
                         const struct user_trace *t, const struct user *u,
                         const char *old_hash, const char *password)
{
	char hash[USER_PASSWORD_HASH_MAX];
	struct user updated;
	int rc;

	if (s->hasher.ops->needs_rehash(s->hasher.self, old_hash) != 1)
		return;
	rc = s->hasher.ops->hash(s->hasher.self, password, hash);
	if (rc == 0)
		rc = s->repo.ops->update(s->repo.self, a, u->id, NULL, hash,
		                         old_hash, &updated);
	if (rc == 0)
		slog_kv(SLOG_INFO, t->request_id, "password re-hashed",
		        SLOG_S("user_id", u->id));
	else if (rc != SHOP_ECONFLICT) /* changed meanwhile: nothing to do */
		slog_kv(SLOG_WARN, t->request_id,
		        "cannot re-hash an outdated password hash",
		        SLOG_S("user_id", u->id),
		        SLOG_S("error", shop_strerror(rc)));
}

int users_login(struct users *s, struct arena *a, const struct user_trace *t,
                const char *email, const char *password,
                struct field_errors *errs, struct user_session *out,
                long long *retry_after_s)
{
	char key[USER_EMAIL_MAX + 1];
	struct user_session session;
	const char *hash = NULL;
	int rc = 0;

	if (user_email_normalize(or_empty(email), "email", key, errs))
		rc = SHOP_EINVAL;
	if (!password || !*password) {
		field_errors_add(errs, "password", "is required");
		rc = SHOP_EINVAL;
	}
	if (rc)
		return rc;
	rc = count_attempt(s, t, key, retry_after_s);
	if (rc)
		return rc;
	rc = s->repo.ops->find_by_email(s->repo.self, a, key, &session.user,
	                                &hash);
	if (rc == SHOP_ENOTFOUND) {
		/* Same work, same answer as a wrong password. */
		rc = s->hasher.ops->verify_dummy(s->hasher.self, password);
		return rc ? rc : SHOP_EAUTH;
	}
	if (rc)
		return rc;
	rc = s->hasher.ops->verify(s->hasher.self, hash, password);
	if (rc)
		return rc;
	forget_attempts(s, t, key);
	maybe_rehash(s, a, t, &session.user, hash, password);
	rc = s->tokens.ops->issue(s->tokens.self, a, &session.user,
	                          &session.token);
	if (rc)
		return rc;
	*out = session;
	return 0;
}

int users_logout(struct users *s, const char *jti, long long exp)
{
	if (!jti || !*jti)
		return SHOP_EINVAL;
	return s->revocations.ops->revoke(s->revocations.self, jti, exp);
}

int users_get(struct users *s, struct arena *a, const char *id,
              struct user *out)
{
	if (!id || !shop_uuid_valid(id))
		return SHOP_ENOTFOUND;
	return s->repo.ops->find_by_id(s->repo.self, a, id, out, NULL);
}

/* Checks the fields of p; writes the trimmed name into name. */
static int patch_validate(const struct user_patch *p,
                          char name[USER_NAME_BYTES_MAX + 1],
                          struct field_errors *errs)
{
	int rc = 0;

	if (!p->name && !p->password) {
		field_errors_add(errs, "", "give a name, a password or both");
		return SHOP_EINVAL;
	}
	if (p->name && user_name_normalize(p->name, "name", name, errs))
		rc = SHOP_EINVAL;
	if (p->password) {
		if (user_password_validate(p->password, "password", errs))
			rc = SHOP_EINVAL;
		if (!p->current_password || !*p->current_password) {
			field_errors_add(errs, "current_password",
			                 "is required to change the password");
			rc = SHOP_EINVAL;
		}
	}
	return rc;
}

int users_patch(struct users *s, struct arena *a, const struct user_trace *t,
                const char *id, const struct user_patch *p,
                struct field_errors *errs, struct user *out,
                long long *retry_after_s)
{
	char name[USER_NAME_BYTES_MAX + 1], hash[USER_PASSWORD_HASH_MAX];
	const char *new_name, *old_hash = NULL;
	struct user current;
	int rc = patch_validate(p, name, errs);

	if (rc)
		return rc;
	if (!id || !shop_uuid_valid(id))
		return SHOP_ENOTFOUND;
	new_name = p->name ? name : NULL;
	if (!p->password)
		return s->repo.ops->update(s->repo.self, a, id, new_name, NULL,
		                           NULL, out);

	rc = s->repo.ops->find_by_id(s->repo.self, a, id, &current, &old_hash);
	if (rc)
		return rc;
	rc = count_attempt(s, t, current.email, retry_after_s);
	if (rc)
		return rc;
	rc = s->hasher.ops->verify(s->hasher.self, old_hash,
	                           p->current_password);
	if (rc == SHOP_EAUTH) {
		field_errors_add(errs, "current_password",
		                 "is not your current password");
		return SHOP_EINVAL;
	}
	if (rc)
		return rc;
	forget_attempts(s, t, current.email);
	rc = s->hasher.ops->hash(s->hasher.self, p->password, hash);
	if (rc)
		return rc;
	return s->repo.ops->update(s->repo.self, a, id, new_name, hash,
	                           old_hash, out);
}
