#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "shop/arena.h"
#include "shop/error.h"
#include "shop/log.h"
#include "../src/core/users.h"
#include "fake_users.h"

/*
 * The use cases over the in-memory fakes. Seeded: a customer
 * paintest@example.com / password123 and an admin admin@example.com /
 * admin12345 whose hash is outdated ("old$"). Limits: 3 failures in 600 s.
 */
#define MAX_FAILURES 3
#define WINDOW_S     600
#define RID          "req-1"
#define TRACEPARENT  "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define UNKNOWN_ID   "99999999-0000-4000-8000-000000000000"

struct fixture {
	struct fake_users *fake;
	struct arena *a;
	struct users s;
	struct field_errors errs;
	struct user_trace t;
	char customer[37], admin[37];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct users_limits limits = {MAX_FAILURES, WINDOW_S};

	if (!fx)
		return -1;
	fx->fake = fake_users_new();
	fx->a = arena_new(0);
	if (!fx->fake || !fx->a)
		return -1;
	if (fake_users_add(fx->fake, "paintest@example.com", "Pain Test",
	                   "fake$password123", USER_ROLE_CUSTOMER,
	                   fx->customer) ||
	    fake_users_add(fx->fake, "admin@example.com", "Admin",
	                   "old$admin12345", USER_ROLE_ADMIN, fx->admin))
		return -1;
	users_init(&fx->s, fake_users_repo(fx->fake),
	           fake_users_hasher(fx->fake), fake_users_tokens(fx->fake),
	           fake_users_revocations(fx->fake),
	           fake_users_failures(fx->fake), &limits);
	field_errors_init(&fx->errs);
	fx->t = (struct user_trace){RID, TRACEPARENT};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fake_users_free(fx->fake);
	arena_free(fx->a);
	free(fx);
	return 0;
}

/* The message of the error on field, or NULL. */
static const char *error_on(const struct field_errors *errs, const char *field)
{
	for (size_t i = 0; i < errs->n; i++) {
		if (strcmp(errs->items[i].field, field) == 0)
			return errs->items[i].message;
	}
	return NULL;
}

static int do_register(struct fixture *fx, const char *email,
                       const char *password, const char *name,
                       struct user_session *out)
{
	struct user_registration in = {email, password, name};

	field_errors_init(&fx->errs);
	return users_register(&fx->s, fx->a, &fx->t, &in, &fx->errs, out);
}

static int do_login(struct fixture *fx, const char *email, const char *password,
                    struct user_session *out, long long *retry_after)
{
	field_errors_init(&fx->errs);
	return users_login(&fx->s, fx->a, &fx->t, email, password, &fx->errs,
	                   out, retry_after);
}

static int do_patch(struct fixture *fx, const char *id, const char *name,
                    const char *password, const char *current, struct user *out,
                    long long *retry_after)
{
	struct user_patch p = {name, password, current};

	field_errors_init(&fx->errs);
	return users_patch(&fx->s, fx->a, &fx->t, id, &p, &fx->errs, out,
	                   retry_after);
}

/* ---- register ---- */

static void test_register_creates_account_event_and_token(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	const struct fake_event *ev;

	assert_int_equal(do_register(fx, "New.User@Example.COM", "s3cret-pass",
	                             "  New User ", &s),
	                 0);
	assert_string_equal(s.user.email, "new.user@example.com");
	assert_string_equal(s.user.name, "New User");
	assert_int_equal(s.user.role, USER_ROLE_CUSTOMER);
	assert_non_null(strstr(s.token.token, s.user.id));
	assert_int_equal(s.token.expires_in, 900);
	/* the password is stored hashed, never as given */
	assert_string_equal(fake_users_hash_of(fx->fake, s.user.id),
	                    "fake$s3cret-pass");
	assert_int_equal(fake_users_nevents(fx->fake), 1);
	ev = fake_users_event(fx->fake, 0);
	assert_string_equal(ev->user_id, s.user.id);
	assert_string_equal(ev->email, "new.user@example.com");
	assert_string_equal(ev->name, "New User");
	assert_string_equal(ev->correlation_id, RID);
	assert_string_equal(ev->traceparent, TRACEPARENT);
}

static void test_register_reports_every_bad_field(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;

	assert_int_equal(do_register(fx, "not-an-email", "short", "   ", &s),
	                 SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 3);
	assert_string_equal(error_on(&fx->errs, "email"),
	                    "must contain exactly one @");
	assert_string_equal(error_on(&fx->errs, "password"),
	                    "must be at least 8 characters");
	assert_string_equal(error_on(&fx->errs, "name"), "must not be empty");
	assert_int_equal(fake_users_calls(fx->fake, FAKE_HASH), 0);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_REPO_CREATE), 0);
}

static void test_register_missing_fields(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;

	assert_int_equal(do_register(fx, NULL, NULL, NULL, &s), SHOP_EINVAL);
	assert_string_equal(error_on(&fx->errs, "email"), "is required");
	assert_string_equal(error_on(&fx->errs, "password"), "is required");
	assert_string_equal(error_on(&fx->errs, "name"), "must not be empty");
}

static void test_register_email_taken_any_case(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;

	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(do_register(fx, "PainTest@Example.com", "password123",
	                             "Someone", &s),
	                 SHOP_ECONFLICT);
	assert_int_equal(fake_users_count(fx->fake), 2);
	assert_int_equal(fake_users_nevents(fx->fake), 0);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_ISSUE), 0);
	assert_int_equal(((unsigned char *)&s)[0], 0x5a); /* untouched */
}

static void test_register_failing_ports(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;

	fake_users_fail_next(fx->fake, FAKE_HASH, SHOP_ETIMEDOUT);
	assert_int_equal(
	        do_register(fx, "a@example.com", "password123", "A", &s),
	        SHOP_ETIMEDOUT);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_REPO_CREATE), 0);

	fake_users_fail_next(fx->fake, FAKE_REPO_CREATE, SHOP_EUNAVAIL);
	assert_int_equal(
	        do_register(fx, "a@example.com", "password123", "A", &s),
	        SHOP_EUNAVAIL);
	assert_int_equal(fake_users_count(fx->fake), 2);
	assert_int_equal(fake_users_nevents(fx->fake), 0);

	fake_users_fail_next(fx->fake, FAKE_ISSUE, SHOP_ERR);
	assert_int_equal(
	        do_register(fx, "a@example.com", "password123", "A", &s),
	        SHOP_ERR);
}

/* ---- login ---- */

static void test_login_ok_any_case(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	long long retry = 0;

	assert_int_equal(
	        do_login(fx, "PAINTEST@example.com", "password123", &s, &retry),
	        0);
	assert_string_equal(s.user.id, fx->customer);
	assert_string_equal(s.user.email, "paintest@example.com");
	assert_int_equal(s.user.role, USER_ROLE_CUSTOMER);
	assert_non_null(s.token.token);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY), 1);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_FAILURES_CLEAR), 1);
	assert_int_equal(fake_users_last_window(fx->fake), WINDOW_S);
	assert_int_equal(
	        fake_users_failures_of(fx->fake, "paintest@example.com"), 0);
}

static void
test_login_same_answer_for_unknown_email_and_wrong_password(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	long long retry = 0;

	assert_int_equal(
	        do_login(fx, "paintest@example.com", "wrong", &s, &retry),
	        SHOP_EAUTH);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY), 1);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY_DUMMY), 0);

	fake_users_reset_calls(fx->fake);
	assert_int_equal(
	        do_login(fx, "nobody@example.com", "password123", &s, &retry),
	        SHOP_EAUTH);
	/* the same Argon2 work was done, against the dummy hash */
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY_DUMMY), 1);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY), 0);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_ISSUE), 0);
	/* both attempts were counted, for their own email */
	assert_int_equal(
	        fake_users_failures_of(fx->fake, "paintest@example.com"), 1);
	assert_int_equal(fake_users_failures_of(fx->fake, "nobody@example.com"),
	                 1);
}

static void test_login_throttles_without_hashing(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	long long retry = 0;

	fake_users_set_retry_after(fx->fake, 321);
	for (int i = 0; i < MAX_FAILURES; i++)
		assert_int_equal(do_login(fx, "paintest@example.com", "nope",
		                          &s, &retry),
		                 SHOP_EAUTH);
	fake_users_reset_calls(fx->fake);
	/* even the right password is not checked any more */
	assert_int_equal(
	        do_login(fx, "Paintest@Example.com", "password123", &s, &retry),
	        USERS_ETHROTTLED);
	assert_int_equal(retry, 321);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY), 0);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY_DUMMY), 0);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_REPO_FIND_BY_EMAIL),
	                 0);
	/* another email is not affected */
	assert_int_equal(
	        do_login(fx, "admin@example.com", "admin12345", &s, &retry), 0);
}

static void test_login_throttles_unknown_emails_too(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	long long retry = 0;

	for (int i = 0; i < MAX_FAILURES; i++)
		assert_int_equal(
		        do_login(fx, "ghost@example.com", "x", &s, &retry),
		        SHOP_EAUTH);
	assert_int_equal(do_login(fx, "ghost@example.com", "x", &s, &retry),
	                 USERS_ETHROTTLED);
	assert_int_equal(retry, WINDOW_S);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY_DUMMY),
	                 MAX_FAILURES);
}

static void test_login_success_clears_failures(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	long long retry = 0;

	for (int i = 0; i < MAX_FAILURES - 1; i++)
		do_login(fx, "paintest@example.com", "nope", &s, &retry);
	assert_int_equal(
	        do_login(fx, "paintest@example.com", "password123", &s, &retry),
	        0);
	assert_int_equal(
	        fake_users_failures_of(fx->fake, "paintest@example.com"), 0);
	/* a full allowance again */
	for (int i = 0; i < MAX_FAILURES; i++)
		assert_int_equal(do_login(fx, "paintest@example.com", "nope",
		                          &s, &retry),
		                 SHOP_EAUTH);
	assert_int_equal(
	        do_login(fx, "paintest@example.com", "nope", &s, &retry),
	        USERS_ETHROTTLED);
}

static void test_login_fails_open_without_counter(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	long long retry = 0;

	fake_users_fail_always(fx->fake, FAKE_FAILURES_ADD, SHOP_EUNAVAIL);
	fake_users_fail_always(fx->fake, FAKE_FAILURES_CLEAR, SHOP_EUNAVAIL);
	for (int i = 0; i < MAX_FAILURES + 2; i++)
		assert_int_equal(do_login(fx, "paintest@example.com", "nope",
		                          &s, &retry),
		                 SHOP_EAUTH);
	assert_int_equal(
	        do_login(fx, "paintest@example.com", "password123", &s, &retry),
	        0);
}

static void test_login_bad_input(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	long long retry = 0;

	assert_int_equal(do_login(fx, "not an email", "", &s, &retry),
	                 SHOP_EINVAL);
	assert_string_equal(error_on(&fx->errs, "email"),
	                    "must not contain spaces or control characters");
	assert_string_equal(error_on(&fx->errs, "password"), "is required");
	assert_int_equal(do_login(fx, NULL, NULL, &s, &retry), SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 2);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_FAILURES_ADD), 0);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_REPO_FIND_BY_EMAIL),
	                 0);
	/* a short password is only wrong at login, not invalid */
	assert_int_equal(
	        do_login(fx, "paintest@example.com", "short", &s, &retry),
	        SHOP_EAUTH);
}

static void test_login_failing_ports(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	long long retry = 0;

	fake_users_fail_next(fx->fake, FAKE_REPO_FIND_BY_EMAIL, SHOP_EUNAVAIL);
	assert_int_equal(
	        do_login(fx, "paintest@example.com", "password123", &s, &retry),
	        SHOP_EUNAVAIL);
	fake_users_fail_next(fx->fake, FAKE_VERIFY, SHOP_ETIMEDOUT);
	assert_int_equal(
	        do_login(fx, "paintest@example.com", "password123", &s, &retry),
	        SHOP_ETIMEDOUT);
	fake_users_fail_next(fx->fake, FAKE_VERIFY_DUMMY, SHOP_EUNAVAIL);
	assert_int_equal(
	        do_login(fx, "nobody@example.com", "password123", &s, &retry),
	        SHOP_EUNAVAIL);
	fake_users_fail_next(fx->fake, FAKE_ISSUE, SHOP_ERR);
	assert_int_equal(
	        do_login(fx, "paintest@example.com", "password123", &s, &retry),
	        SHOP_ERR);
}

static void test_login_rehashes_outdated_hash(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	long long retry = 0;

	assert_int_equal(
	        do_login(fx, "admin@example.com", "admin12345", &s, &retry), 0);
	assert_int_equal(s.user.role, USER_ROLE_ADMIN);
	assert_string_equal(fake_users_hash_of(fx->fake, fx->admin),
	                    "fake$admin12345");
	/* a current hash is left alone */
	fake_users_reset_calls(fx->fake);
	assert_int_equal(
	        do_login(fx, "admin@example.com", "admin12345", &s, &retry), 0);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_HASH), 0);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_REPO_UPDATE), 0);
}

static void test_login_survives_failed_rehash(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	long long retry = 0;

	fake_users_fail_next(fx->fake, FAKE_HASH, SHOP_EUNAVAIL);
	assert_int_equal(
	        do_login(fx, "admin@example.com", "admin12345", &s, &retry), 0);
	assert_string_equal(fake_users_hash_of(fx->fake, fx->admin),
	                    "old$admin12345");
	fake_users_fail_next(fx->fake, FAKE_REPO_UPDATE, SHOP_EUNAVAIL);
	assert_int_equal(
	        do_login(fx, "admin@example.com", "admin12345", &s, &retry), 0);
	assert_string_equal(fake_users_hash_of(fx->fake, fx->admin),
	                    "old$admin12345");
}

/* ---- logout ---- */

static void test_logout(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(users_logout(&fx->s, "jti-1", 1767226500), 0);
	assert_int_equal(fake_users_revoked_exp(fx->fake, "jti-1"), 1767226500);
	assert_int_equal(users_logout(&fx->s, "", 1767226500), SHOP_EINVAL);
	assert_int_equal(users_logout(&fx->s, NULL, 1767226500), SHOP_EINVAL);
	fake_users_fail_next(fx->fake, FAKE_REVOKE, SHOP_EUNAVAIL);
	assert_int_equal(users_logout(&fx->s, "jti-2", 1767226500),
	                 SHOP_EUNAVAIL);
	assert_int_equal(fake_users_revoked_exp(fx->fake, "jti-2"), -1);
}

/* ---- me ---- */

static void test_get(void **state)
{
	struct fixture *fx = *state;
	struct user u;

	assert_int_equal(users_get(&fx->s, fx->a, fx->customer, &u), 0);
	assert_string_equal(u.email, "paintest@example.com");
	assert_string_equal(u.name, "Pain Test");
	assert_int_equal(users_get(&fx->s, fx->a, UNKNOWN_ID, &u),
	                 SHOP_ENOTFOUND);
	fake_users_reset_calls(fx->fake);
	assert_int_equal(users_get(&fx->s, fx->a, "not-a-uuid", &u),
	                 SHOP_ENOTFOUND);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_REPO_FIND_BY_ID), 0);
	fake_users_fail_next(fx->fake, FAKE_REPO_FIND_BY_ID, SHOP_EUNAVAIL);
	assert_int_equal(users_get(&fx->s, fx->a, fx->customer, &u),
	                 SHOP_EUNAVAIL);
}

static void test_patch_name(void **state)
{
	struct fixture *fx = *state;
	struct user u;
	long long retry = 0;

	assert_int_equal(do_patch(fx, fx->customer, "  Renamed ", NULL, NULL,
	                          &u, &retry),
	                 0);
	assert_string_equal(u.name, "Renamed");
	assert_string_equal(fake_users_name_of(fx->fake, fx->customer),
	                    "Renamed");
	assert_string_equal(fake_users_hash_of(fx->fake, fx->customer),
	                    "fake$password123");
	/* current_password alone is ignored */
	assert_int_equal(do_patch(fx, fx->customer, "Again", NULL, "whatever",
	                          &u, &retry),
	                 0);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY), 0);
}

static void test_patch_bad_input(void **state)
{
	struct fixture *fx = *state;
	struct user u;
	long long retry = 0;

	assert_int_equal(
	        do_patch(fx, fx->customer, NULL, NULL, NULL, &u, &retry),
	        SHOP_EINVAL);
	assert_string_equal(error_on(&fx->errs, ""),
	                    "give a name, a password or both");
	assert_int_equal(do_patch(fx, fx->customer, "", NULL, NULL, &u, &retry),
	                 SHOP_EINVAL);
	assert_string_equal(error_on(&fx->errs, "name"), "must not be empty");
	assert_int_equal(do_patch(fx, fx->customer, NULL, "new-password", NULL,
	                          &u, &retry),
	                 SHOP_EINVAL);
	assert_string_equal(error_on(&fx->errs, "current_password"),
	                    "is required to change the password");
	assert_int_equal(
	        do_patch(fx, fx->customer, "\x01", "short", "", &u, &retry),
	        SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 3);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_REPO_UPDATE), 0);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY), 0);
}

static void test_patch_password(void **state)
{
	struct fixture *fx = *state;
	struct user_session s;
	struct user u;
	long long retry = 0;

	assert_int_equal(do_patch(fx, fx->customer, "New Name",
	                          "another-password", "password123", &u,
	                          &retry),
	                 0);
	assert_string_equal(u.name, "New Name");
	assert_string_equal(fake_users_hash_of(fx->fake, fx->customer),
	                    "fake$another-password");
	assert_int_equal(do_login(fx, "paintest@example.com",
	                          "another-password", &s, &retry),
	                 0);
	assert_int_equal(
	        do_login(fx, "paintest@example.com", "password123", &s, &retry),
	        SHOP_EAUTH);
}

static void test_patch_wrong_current_password_is_a_field_error(void **state)
{
	struct fixture *fx = *state;
	struct user u;
	long long retry = 0;

	assert_int_equal(do_patch(fx, fx->customer, NULL, "another-password",
	                          "wrong", &u, &retry),
	                 SHOP_EINVAL);
	assert_int_equal(fx->errs.n, 1);
	assert_string_equal(error_on(&fx->errs, "current_password"),
	                    "is not your current password");
	assert_string_equal(fake_users_hash_of(fx->fake, fx->customer),
	                    "fake$password123");
	/* it counts as a failed sign-in for the account's email */
	assert_int_equal(
	        fake_users_failures_of(fx->fake, "paintest@example.com"), 1);
	for (int i = 1; i < MAX_FAILURES; i++)
		do_patch(fx, fx->customer, NULL, "another-password", "wrong",
		         &u, &retry);
	fake_users_reset_calls(fx->fake);
	assert_int_equal(do_patch(fx, fx->customer, NULL, "another-password",
	                          "password123", &u, &retry),
	                 USERS_ETHROTTLED);
	assert_int_equal(retry, WINDOW_S);
	assert_int_equal(fake_users_calls(fx->fake, FAKE_VERIFY), 0);
	/* and sign-ins are throttled too */
	struct user_session s;
	assert_int_equal(
	        do_login(fx, "paintest@example.com", "password123", &s, &retry),
	        USERS_ETHROTTLED);
}

static void test_patch_unknown_user(void **state)
{
	struct fixture *fx = *state;
	struct user u;
	long long retry = 0;

	fake_users_remove(fx->fake, fx->customer);
	assert_int_equal(
	        do_patch(fx, fx->customer, "Name", NULL, NULL, &u, &retry),
	        SHOP_ENOTFOUND);
	assert_int_equal(do_patch(fx, fx->customer, NULL, "another-password",
	                          "password123", &u, &retry),
	                 SHOP_ENOTFOUND);
	assert_int_equal(do_patch(fx, "nope", "Name", NULL, NULL, &u, &retry),
	                 SHOP_ENOTFOUND);
}

static void test_patch_failing_ports(void **state)
{
	struct fixture *fx = *state;
	struct user u;
	long long retry = 0;

	fake_users_fail_next(fx->fake, FAKE_VERIFY, SHOP_ETIMEDOUT);
	assert_int_equal(do_patch(fx, fx->customer, NULL, "another-password",
	                          "password123", &u, &retry),
	                 SHOP_ETIMEDOUT);
	fake_users_fail_next(fx->fake, FAKE_HASH, SHOP_EUNAVAIL);
	assert_int_equal(do_patch(fx, fx->customer, NULL, "another-password",
	                          "password123", &u, &retry),
	                 SHOP_EUNAVAIL);
	fake_users_fail_next(fx->fake, FAKE_REPO_UPDATE, SHOP_ECONFLICT);
	assert_int_equal(do_patch(fx, fx->customer, NULL, "another-password",
	                          "password123", &u, &retry),
	                 SHOP_ECONFLICT);
	fake_users_fail_next(fx->fake, FAKE_REPO_UPDATE, SHOP_EUNAVAIL);
	assert_int_equal(
	        do_patch(fx, fx->customer, "Name", NULL, NULL, &u, &retry),
	        SHOP_EUNAVAIL);
	assert_string_equal(fake_users_hash_of(fx->fake, fx->customer),
	                    "fake$password123");
	/* the counter being down does not block a password change */
	fake_users_fail_always(fx->fake, FAKE_FAILURES_ADD, SHOP_EUNAVAIL);
	assert_int_equal(do_patch(fx, fx->customer, NULL, "another-password",
	                          "password123", &u, &retry),
	                 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_register_creates_account_event_and_token),
	        T(test_register_reports_every_bad_field),
	        T(test_register_missing_fields),
	        T(test_register_email_taken_any_case),
	        T(test_register_failing_ports),
	        T(test_login_ok_any_case),
	        T(test_login_same_answer_for_unknown_email_and_wrong_password),
	        T(test_login_throttles_without_hashing),
	        T(test_login_throttles_unknown_emails_too),
	        T(test_login_success_clears_failures),
	        T(test_login_fails_open_without_counter),
	        T(test_login_bad_input),
	        T(test_login_failing_ports),
	        T(test_login_rehashes_outdated_hash),
	        T(test_login_survives_failed_rehash),
	        T(test_logout),
	        T(test_get),
	        T(test_patch_name),
	        T(test_patch_bad_input),
	        T(test_patch_password),
	        T(test_patch_wrong_current_password_is_a_field_error),
	        T(test_patch_unknown_user),
	        T(test_patch_failing_ports),
	};

	/* The use cases log warnings when the counter is down; keep the
	 * test output readable. */
	slog_init("user-test", SLOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
