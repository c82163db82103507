#include "pg_user_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/outbox.h"

struct pg_user_repo {
	struct db_pool *pool;
};

/* Columns every user query returns, in the order row_to_user reads. */
#define USER_COLUMNS                                                           \
	"id::text, email, name, role, "                                        \
	"extract(epoch from created_at)::bigint::text, "                       \
	"extract(epoch from updated_at)::bigint::text"
#define NCOLS 6

static const char *const statements[][2] = {
        {"user_create",
         "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) "
         "RETURNING " USER_COLUMNS},
        {"user_by_email",
         "SELECT " USER_COLUMNS ", password_hash FROM users WHERE email = $1"},
        {"user_by_id",
         "SELECT " USER_COLUMNS ", password_hash FROM users WHERE id = $1"},
        {"user_update",
         "UPDATE users SET name = coalesce($2, name), "
         "password_hash = coalesce($3, password_hash), updated_at = now() "
         "WHERE id = $1 AND ($4::text IS NULL OR password_hash = $4) "
         "RETURNING " USER_COLUMNS},
        {"user_exists", "SELECT 1 FROM users WHERE id = $1"},
};

static char *dup_value(struct arena *a, const PGresult *r, int row, int col)
{
	return arena_strndup(a, PQgetvalue(r, row, col),
	                     (size_t)PQgetlength(r, row, col));
}

/* Reads row 0 of r into *u, and column NCOLS into *hash when hash is not
 * NULL. Returns 0, SHOP_ENOTFOUND for no row, SHOP_ENOMEM or SHOP_ERR. */
static int row_to_user(struct arena *a, const PGresult *r, struct user *u,
                       const char **hash)
{
	struct user out = {0};
	const char *id;
	char *h = NULL;

	if (PQntuples(r) == 0)
		return SHOP_ENOTFOUND;
	id = PQgetvalue(r, 0, 0);
	if (PQnfields(r) < NCOLS + (hash ? 1 : 0) || strlen(id) != 36 ||
	    user_role_parse(PQgetvalue(r, 0, 3), &out.role) < 0)
		return SHOP_ERR;
	memcpy(out.id, id, 37);
	out.email = dup_value(a, r, 0, 1);
	out.name = dup_value(a, r, 0, 2);
	out.created_at = (time_t)strtoll(PQgetvalue(r, 0, 4), NULL, 10);
	out.updated_at = (time_t)strtoll(PQgetvalue(r, 0, 5), NULL, 10);
	if (hash)
		h = dup_value(a, r, 0, NCOLS);
	if (!out.email || !out.name || (hash && !h))
		return SHOP_ENOMEM;
	*u = out;
	if (hash)
		*hash = h;
	return 0;
}

/* Runs stmt on a pooled connection; the result is the caller's. */
static int run(struct pg_user_repo *r, const char *stmt, int n,
               const char *const *params, PGresult **out)
{
	return db_pool_exec(r->pool, stmt, n, params, out);
}

/* The user.registered event of u (EVENTS.md). */
static int add_registered_event(struct db_conn *c, const struct user *u,
                                const struct user_trace *t)
{
	json_t *data = json_pack("{s:s, s:s, s:s}", "user_id", u->id, "email",
	                         u->email, "name", u->name);
	struct outbox_event ev = {
	        .event_type = "user.registered",
	        .event_version = 1,
	        .producer = "user",
	        .correlation_id = t ? t->request_id : NULL,
	        .traceparent = t ? t->traceparent : NULL,
	        .data = data,
	};
	int rc;

	if (!data)
		return SHOP_ENOMEM;
	rc = outbox_add(c, &ev, NULL);
	json_decref(data);
	return rc;
}

static int pg_create(void *self, struct arena *a, const struct user_new *u,
                     const struct user_trace *t, struct user *out)
{
	struct pg_user_repo *r = self;
	const char *params[3] = {u->email, u->name, u->password_hash};
	PGresult *res = NULL;
	struct db_conn *c;
	struct user created;
	int rc = db_acquire(r->pool, &c);

	if (rc)
		return rc;
	rc = db_begin(c);
	if (rc)
		goto release;
	rc = db_exec(c, "user_create", 3, params, &res);
	if (rc)
		goto release; /* db_release() rolls back */
	rc = row_to_user(a, res, &created, NULL);
	if (rc)
		goto release;
	rc = add_registered_event(c, &created, t);
	if (rc)
		goto release;
	rc = db_commit(c);
	if (rc == 0)
		*out = created;
release:
	PQclear(res);
	db_release(c);
	return rc;
}

static int find(struct pg_user_repo *r, struct arena *a, const char *stmt,
                const char *key, struct user *out, const char **hash)
{
	const char *params[1] = {key};
	PGresult *res = NULL;
	const char *h = NULL;
	int rc = run(r, stmt, 1, params, &res);

	if (rc)
		return rc;
	rc = row_to_user(a, res, out, hash ? hash : &h);
	PQclear(res);
	return rc;
}

static int pg_find_by_email(void *self, struct arena *a, const char *email,
                            struct user *out, const char **password_hash)
{
	return find(self, a, "user_by_email", email, out, password_hash);
}

static int pg_find_by_id(void *self, struct arena *a, const char *id,
                         struct user *out, const char **password_hash)
{
	return find(self, a, "user_by_id", id, out, password_hash);
}

static int pg_update(void *self, struct arena *a, const char *id,
                     const char *name, const char *password_hash,
                     const char *expected_hash, struct user *out)
{
	struct pg_user_repo *r = self;
	const char *params[4] = {id, name, password_hash, expected_hash};
	PGresult *res = NULL;
	int rc = run(r, "user_update", 4, params, &res);

	if (rc)
		return rc;
	rc = row_to_user(a, res, out, NULL);
	PQclear(res);
	if (rc != SHOP_ENOTFOUND || !expected_hash)
		return rc;
	/* No row: the user is gone, or its password changed meanwhile. */
	rc = run(r, "user_exists", 1, params, &res);
	if (rc)
		return rc;
	rc = PQntuples(res) > 0 ? SHOP_ECONFLICT : SHOP_ENOTFOUND;
	PQclear(res);
	return rc;
}

static const struct user_repo_ops pg_user_repo_ops = {
        .create = pg_create,
        .find_by_email = pg_find_by_email,
        .find_by_id = pg_find_by_id,
        .update = pg_update,
};

struct user_repo pg_user_repo_new(struct db_pool *pool)
{
	struct pg_user_repo *r = calloc(1, sizeof(*r));

	if (!r)
		return (struct user_repo){0};
	r->pool = pool;
	for (size_t i = 0; i < sizeof(statements) / sizeof(*statements); i++) {
		int rc = db_pool_prepare(pool, statements[i][0],
		                         statements[i][1]);
		/* Before db_pool_start() only SHOP_ENOMEM can come back;
		 * after it, SHOP_EUNAVAIL just means "checked later". */
		if (rc && rc != SHOP_EUNAVAIL) {
			slog_error("cannot prepare statement '%s': %s",
			           statements[i][0], shop_strerror(rc));
			free(r);
			return (struct user_repo){0};
		}
	}
	return (struct user_repo){.ops = &pg_user_repo_ops, .self = r};
}

void pg_user_repo_free(struct user_repo repo)
{
	free(repo.self);
}
