#include "fake_users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"

#define FAKE_EPOCH  ((time_t)1767225600) /* 2026-01-01T00:00:00Z */
#define MAX_USERS   64
#define MAX_EVENTS  64
#define MAX_REVOKED 64
#define MAX_COUNTED 64

struct fake_account {
	bool used;
	char id[37];
	char email[USER_EMAIL_MAX + 1];
	char name[USER_NAME_BYTES_MAX + 1];
	char hash[USER_PASSWORD_HASH_MAX];
	enum user_role role;
	time_t created_at, updated_at;
};

struct fake_counted {
	char email[USER_EMAIL_MAX + 1];
	long long count;
};

struct fake_revoked {
	char jti[64];
	long long exp;
};

struct fake_users {
	struct fake_account users[MAX_USERS];
	struct fake_event events[MAX_EVENTS];
	unsigned nevents;
	struct fake_revoked revoked[MAX_REVOKED];
	unsigned nrevoked;
	struct fake_counted counted[MAX_COUNTED];
	long long retry_after;
	int last_window;
	time_t now;
	unsigned long next_id, next_token;
	unsigned calls[FAKE_SLOT_COUNT];
	int fail_next[FAKE_SLOT_COUNT];
	int fail_always[FAKE_SLOT_COUNT];
};

/* Counts the call and answers the failure set up for it, if any. */
static int enter(struct fake_users *f, enum fake_users_slot s)
{
	int err;

	f->calls[s]++;
	if (f->fail_next[s]) {
		err = f->fail_next[s];
		f->fail_next[s] = 0;
		return err;
	}
	return f->fail_always[s];
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static struct fake_account *by_email(struct fake_users *f, const char *email)
{
	for (size_t i = 0; i < MAX_USERS; i++) {
		if (f->users[i].used && strcmp(f->users[i].email, email) == 0)
			return &f->users[i];
	}
	return NULL;
}

static struct fake_account *by_id(const struct fake_users *f, const char *id)
{
	for (size_t i = 0; i < MAX_USERS; i++) {
		if (f->users[i].used && strcmp(f->users[i].id, id) == 0)
			return (struct fake_account *)&f->users[i];
	}
	return NULL;
}

/* Copies an account into out with strings from the arena. */
static int to_user(struct arena *a, const struct fake_account *acc,
                   struct user *out, const char **hash)
{
	struct user u = {0};
	const char *h = NULL;

	memcpy(u.id, acc->id, sizeof(u.id));
	u.email = arena_strdup(a, acc->email);
	u.name = arena_strdup(a, acc->name);
	u.role = acc->role;
	u.created_at = acc->created_at;
	u.updated_at = acc->updated_at;
	if (hash)
		h = arena_strdup(a, acc->hash);
	if (!u.email || !u.name || (hash && !h))
		return SHOP_ENOMEM;
	*out = u;
	if (hash)
		*hash = h;
	return 0;
}

static struct fake_account *insert(struct fake_users *f, const char *email,
                                   const char *name, const char *hash,
                                   enum user_role role)
{
	for (size_t i = 0; i < MAX_USERS; i++) {
		struct fake_account *acc = &f->users[i];
		if (acc->used)
			continue;
		memset(acc, 0, sizeof(*acc));
		acc->used = true;
		snprintf(acc->id, sizeof(acc->id),
		         "00000000-0000-4000-8000-%012lu", ++f->next_id);
		copy(acc->email, sizeof(acc->email), email);
		copy(acc->name, sizeof(acc->name), name);
		copy(acc->hash, sizeof(acc->hash), hash);
		acc->role = role;
		acc->created_at = acc->updated_at = f->now++;
		return acc;
	}
	return NULL;
}

/* ---- repository ---- */

static int repo_create(void *self, struct arena *a, const struct user_new *u,
                       const struct user_trace *t, struct user *out)
{
	struct fake_users *f = self;
	struct fake_account *acc;
	struct fake_event *ev;
	int rc = enter(f, FAKE_REPO_CREATE);

	if (rc)
		return rc;
	if (by_email(f, u->email))
		return SHOP_ECONFLICT;
	if (f->nevents == MAX_EVENTS)
		return SHOP_ENOMEM;
	acc = insert(f, u->email, u->name, u->password_hash,
	             USER_ROLE_CUSTOMER);
	if (!acc)
		return SHOP_ENOMEM;
	rc = to_user(a, acc, out, NULL);
	if (rc) {
		acc->used = false;
		return rc;
	}
	ev = &f->events[f->nevents++];
	copy(ev->user_id, sizeof(ev->user_id), acc->id);
	copy(ev->email, sizeof(ev->email), acc->email);
	copy(ev->name, sizeof(ev->name), acc->name);
	copy(ev->correlation_id, sizeof(ev->correlation_id),
	     t ? t->request_id : NULL);
	copy(ev->traceparent, sizeof(ev->traceparent),
	     t ? t->traceparent : NULL);
	return 0;
}

static int repo_find_by_email(void *self, struct arena *a, const char *email,
                              struct user *out, const char **password_hash)
{
	struct fake_users *f = self;
	struct fake_account *acc;
	int rc = enter(f, FAKE_REPO_FIND_BY_EMAIL);

	if (rc)
		return rc;
	acc = by_email(f, email);
	return acc ? to_user(a, acc, out, password_hash) : SHOP_ENOTFOUND;
}

static int repo_find_by_id(void *self, struct arena *a, const char *id,
                           struct user *out, const char **password_hash)
{
	struct fake_users *f = self;
	struct fake_account *acc;
	int rc = enter(f, FAKE_REPO_FIND_BY_ID);

	if (rc)
		return rc;
	acc = by_id(f, id);
	return acc ? to_user(a, acc, out, password_hash) : SHOP_ENOTFOUND;
}

static int repo_update(void *self, struct arena *a, const char *id,
                       const char *name, const char *password_hash,
                       const char *expected_hash, struct user *out)
{
	struct fake_users *f = self;
	struct fake_account *acc, next;
	int rc = enter(f, FAKE_REPO_UPDATE);

	if (rc)
		return rc;
	acc = by_id(f, id);
	if (!acc)
		return SHOP_ENOTFOUND;
	if (expected_hash && strcmp(acc->hash, expected_hash) != 0)
		return SHOP_ECONFLICT;
	next = *acc;
	if (name)
		copy(next.name, sizeof(next.name), name);
	if (password_hash)
		copy(next.hash, sizeof(next.hash), password_hash);
	next.updated_at = f->now++;
	rc = to_user(a, &next, out, NULL);
	if (rc == 0)
		*acc = next;
	return rc;
}

static const struct user_repo_ops repo_ops = {
        .create = repo_create,
        .find_by_email = repo_find_by_email,
        .find_by_id = repo_find_by_id,
        .update = repo_update,
};

/* ---- hasher ---- */

static int hasher_hash(void *self, const char *password,
                       char out[USER_PASSWORD_HASH_MAX])
{
	int rc = enter(self, FAKE_HASH);

	if (rc)
		return rc;
	snprintf(out, USER_PASSWORD_HASH_MAX, "fake$%s", password);
	return 0;
}

static int hasher_verify(void *self, const char *hash, const char *password)
{
	int rc = enter(self, FAKE_VERIFY);
	const char *dollar;

	if (rc)
		return rc;
	dollar = strchr(hash, '$');
	return dollar && strcmp(dollar + 1, password) == 0 ? 0 : SHOP_EAUTH;
}

static int hasher_verify_dummy(void *self, const char *password)
{
	int rc = enter(self, FAKE_VERIFY_DUMMY);

	(void)password;
	return rc ? rc : SHOP_EAUTH;
}

static int hasher_needs_rehash(void *self, const char *hash)
{
	int rc = enter(self, FAKE_NEEDS_REHASH);

	if (rc)
		return rc;
	return strncmp(hash, "old$", 4) == 0;
}

static const struct password_hasher_ops hasher_ops = {
        .hash = hasher_hash,
        .verify = hasher_verify,
        .verify_dummy = hasher_verify_dummy,
        .needs_rehash = hasher_needs_rehash,
};

/* ---- tokens ---- */

static int tokens_issue(void *self, struct arena *a, const struct user *u,
                        struct access_token *out)
{
	struct fake_users *f = self;
	char *token;
	int rc = enter(f, FAKE_ISSUE);

	if (rc)
		return rc;
	token = arena_sprintf(a, "token-%lu-for-%s", ++f->next_token, u->id);
	if (!token)
		return SHOP_ENOMEM;
	out->token = token;
	out->expires_in = 900;
	return 0;
}

static const struct token_issuer_ops token_ops = {.issue = tokens_issue};

/* ---- revocations ---- */

static int revocations_revoke(void *self, const char *jti, long long exp)
{
	struct fake_users *f = self;
	int rc = enter(f, FAKE_REVOKE);

	if (rc)
		return rc;
	if (f->nrevoked == MAX_REVOKED)
		return SHOP_ENOMEM;
	copy(f->revoked[f->nrevoked].jti, sizeof(f->revoked[0].jti), jti);
	f->revoked[f->nrevoked++].exp = exp;
	return 0;
}

static const struct token_revocations_ops revocation_ops = {
        .revoke = revocations_revoke,
};

/* ---- failure counter ---- */

static struct fake_counted *counted(struct fake_users *f, const char *email,
                                    bool create)
{
	struct fake_counted *free_slot = NULL;

	for (size_t i = 0; i < MAX_COUNTED; i++) {
		if (f->counted[i].count > 0 &&
		    strcmp(f->counted[i].email, email) == 0)
			return &f->counted[i];
		if (f->counted[i].count == 0 && !free_slot)
			free_slot = &f->counted[i];
	}
	if (create && free_slot)
		copy(free_slot->email, sizeof(free_slot->email), email);
	return create ? free_slot : NULL;
}

static int failures_add(void *self, const char *email, int window_s,
                        long long *count, long long *retry_after_s)
{
	struct fake_users *f = self;
	struct fake_counted *c;
	int rc = enter(f, FAKE_FAILURES_ADD);

	if (rc)
		return rc;
	c = counted(f, email, true);
	if (!c)
		return SHOP_ENOMEM;
	c->count++;
	f->last_window = window_s;
	*count = c->count;
	*retry_after_s = f->retry_after ? f->retry_after : window_s;
	return 0;
}

static int failures_clear(void *self, const char *email)
{
	struct fake_users *f = self;
	struct fake_counted *c;
	int rc = enter(f, FAKE_FAILURES_CLEAR);

	if (rc)
		return rc;
	c = counted(f, email, false);
	if (c)
		c->count = 0;
	return 0;
}

static const struct login_failures_ops failure_ops = {
        .add = failures_add,
        .clear = failures_clear,
};

/* ---- the fake itself ---- */

struct fake_users *fake_users_new(void)
{
	struct fake_users *f = calloc(1, sizeof(*f));

	if (f)
		f->now = FAKE_EPOCH;
	return f;
}

void fake_users_free(struct fake_users *f)
{
	free(f);
}

struct user_repo fake_users_repo(struct fake_users *f)
{
	return (struct user_repo){.ops = &repo_ops, .self = f};
}

struct password_hasher fake_users_hasher(struct fake_users *f)
{
	return (struct password_hasher){.ops = &hasher_ops, .self = f};
}

struct token_issuer fake_users_tokens(struct fake_users *f)
{
	return (struct token_issuer){.ops = &token_ops, .self = f};
}

struct token_revocations fake_users_revocations(struct fake_users *f)
{
	return (struct token_revocations){.ops = &revocation_ops, .self = f};
}

struct login_failures fake_users_failures(struct fake_users *f)
{
	return (struct login_failures){.ops = &failure_ops, .self = f};
}

int fake_users_add(struct fake_users *f, const char *email, const char *name,
                   const char *hash, enum user_role role, char *id_out)
{
	struct fake_account *acc;

	if (by_email(f, email))
		return SHOP_ECONFLICT;
	acc = insert(f, email, name, hash, role);
	if (!acc)
		return SHOP_ENOMEM;
	if (id_out)
		memcpy(id_out, acc->id, sizeof(acc->id));
	return 0;
}

void fake_users_remove(struct fake_users *f, const char *id)
{
	struct fake_account *acc = by_id(f, id);

	if (acc)
		acc->used = false;
}

const char *fake_users_hash_of(const struct fake_users *f, const char *id)
{
	struct fake_account *acc = by_id(f, id);

	return acc ? acc->hash : NULL;
}

const char *fake_users_name_of(const struct fake_users *f, const char *id)
{
	struct fake_account *acc = by_id(f, id);

	return acc ? acc->name : NULL;
}

unsigned fake_users_count(const struct fake_users *f)
{
	unsigned n = 0;

	for (size_t i = 0; i < MAX_USERS; i++)
		n += f->users[i].used;
	return n;
}

unsigned fake_users_nevents(const struct fake_users *f)
{
	return f->nevents;
}

const struct fake_event *fake_users_event(const struct fake_users *f,
                                          unsigned i)
{
	return i < f->nevents ? &f->events[i] : NULL;
}

long long fake_users_revoked_exp(const struct fake_users *f, const char *jti)
{
	for (unsigned i = 0; i < f->nrevoked; i++) {
		if (strcmp(f->revoked[i].jti, jti) == 0)
			return f->revoked[i].exp;
	}
	return -1;
}

long long fake_users_failures_of(const struct fake_users *f, const char *email)
{
	struct fake_counted *c = counted((struct fake_users *)f, email, false);

	return c ? c->count : 0;
}

int fake_users_last_window(const struct fake_users *f)
{
	return f->last_window;
}

void fake_users_set_retry_after(struct fake_users *f, long long seconds)
{
	f->retry_after = seconds;
}

void fake_users_fail_next(struct fake_users *f, enum fake_users_slot slot,
                          int err)
{
	f->fail_next[slot] = err;
}

void fake_users_fail_always(struct fake_users *f, enum fake_users_slot slot,
                            int err)
{
	f->fail_always[slot] = err;
}

unsigned fake_users_calls(const struct fake_users *f, enum fake_users_slot slot)
{
	return f->calls[slot];
}

void fake_users_reset_calls(struct fake_users *f)
{
	memset(f->calls, 0, sizeof(f->calls));
}
