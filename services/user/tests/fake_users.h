#ifndef USER_TESTS_FAKE_USERS_H
#define USER_TESTS_FAKE_USERS_H

#include <stdbool.h>

#include "../src/core/ports.h"

/*
 * In-memory stand-ins for every port of the user service (core/ports.h),
 * for the unit tests (git's odb/source-inmemory.c).
 *
 * Repository: accounts in insertion order, unique email (SHOP_ECONFLICT),
 * ids 00000000-0000-4000-8000-<counter>, a clock that starts at
 * 2026-01-01T00:00:00Z and advances a second per write; create() records
 * the user.registered event with it, as the outbox would, and only when
 * the account is stored.
 * Hasher: hash(p) is "fake$" p; verify() compares; a hash starting with
 * "old$" verifies the same way but needs_rehash() says 1.
 * Tokens: "token-<n>-for-<user id>", expires_in 900.
 * Revocations: a list of (jti, exp).
 * Failures: a count per email and the window of its first attempt.
 *
 * Any slot can be told to fail its next call, or every call, with a given
 * error; a failing call changes nothing and leaves its out-parameters
 * untouched. Every call is counted per slot, failing or not.
 */
struct fake_users;

enum fake_users_slot {
	FAKE_REPO_CREATE,
	FAKE_REPO_FIND_BY_EMAIL,
	FAKE_REPO_FIND_BY_ID,
	FAKE_REPO_UPDATE,
	FAKE_HASH,
	FAKE_VERIFY,
	FAKE_VERIFY_DUMMY,
	FAKE_NEEDS_REHASH,
	FAKE_ISSUE,
	FAKE_REVOKE,
	FAKE_FAILURES_ADD,
	FAKE_FAILURES_CLEAR,
	FAKE_SLOT_COUNT
};

/* The event the repository recorded with an account. */
struct fake_event {
	char user_id[37];
	char email[256];
	char name[512];
	char correlation_id[160];
	char traceparent[64];
};

/* Returns an empty fake, or NULL when out of memory. */
struct fake_users *fake_users_new(void);
void fake_users_free(struct fake_users *f);

/* The ports, borrowing f. */
struct user_repo fake_users_repo(struct fake_users *f);
struct password_hasher fake_users_hasher(struct fake_users *f);
struct token_issuer fake_users_tokens(struct fake_users *f);
struct token_revocations fake_users_revocations(struct fake_users *f);
struct login_failures fake_users_failures(struct fake_users *f);

/* ---- seeding and inspection (not counted, never failed) ---- */

/* Adds an account with this stored hash (say "fake$secret123" or
 * "old$secret123"); writes its id into id_out (37 bytes) when not NULL.
 * Returns 0, SHOP_ECONFLICT or SHOP_ENOMEM. No event. */
int fake_users_add(struct fake_users *f, const char *email, const char *name,
                   const char *hash, enum user_role role, char *id_out);

/* Removes the account (a token for it outlives it). */
void fake_users_remove(struct fake_users *f, const char *id);

/* The stored hash / name of the account, or NULL. */
const char *fake_users_hash_of(const struct fake_users *f, const char *id);
const char *fake_users_name_of(const struct fake_users *f, const char *id);

/* Number of accounts. */
unsigned fake_users_count(const struct fake_users *f);

/* Events recorded, and the i-th one. */
unsigned fake_users_nevents(const struct fake_users *f);
const struct fake_event *fake_users_event(const struct fake_users *f,
                                          unsigned i);

/* The exp a jti was revoked with, or -1. */
long long fake_users_revoked_exp(const struct fake_users *f, const char *jti);

/* Attempts counted for email (0 when none or cleared). */
long long fake_users_failures_of(const struct fake_users *f, const char *email);

/* The window_s the last add() was given. */
int fake_users_last_window(const struct fake_users *f);

/* Sets the seconds left in every failure window that add() reports. */
void fake_users_set_retry_after(struct fake_users *f, long long seconds);

/* ---- failures and counters ---- */

void fake_users_fail_next(struct fake_users *f, enum fake_users_slot slot,
                          int err);
void fake_users_fail_always(struct fake_users *f, enum fake_users_slot slot,
                            int err);
unsigned fake_users_calls(const struct fake_users *f,
                          enum fake_users_slot slot);
void fake_users_reset_calls(struct fake_users *f);

#endif
