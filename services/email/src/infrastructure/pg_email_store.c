#include "pg_email_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"

/* One row per (event_id, kind); the NOTIFY is delivered at commit, and
 * only for a row that was really inserted. */
#define SQL_INSERT                                                             \
	"WITH ins AS (INSERT INTO emails (event_id, kind, user_id, to_addr, "  \
	"order_id, subject, body_text, message_id) "                           \
	"VALUES ($1::uuid, $2, $3::uuid, $4, $5::uuid, $6, $7, $8) "           \
	"ON CONFLICT (event_id, kind) DO NOTHING RETURNING id) "               \
	"SELECT pg_notify('" EMAIL_QUEUED_CHANNEL "', '') FROM ins"

#define SQL_WHERE                                                              \
	"WHERE ($1::uuid IS NULL OR user_id = $1::uuid) "                      \
	"AND ($2::uuid IS NULL OR order_id = $2::uuid)"

#define SQL_COUNT "SELECT count(*) FROM emails " SQL_WHERE

#define SQL_PAGE                                                               \
	"SELECT id, user_id, to_addr, kind, subject, order_id, status, "       \
	"attempts, extract(epoch FROM created_at)::bigint, "                   \
	"extract(epoch FROM sent_at)::bigint FROM emails " SQL_WHERE           \
	" ORDER BY created_at DESC, id DESC LIMIT $3::int OFFSET $4::bigint"

static const char *const statements[][2] = {
        {"email_insert", SQL_INSERT},
        {"email_count", SQL_COUNT},
        {"email_page", SQL_PAGE},
};

int pg_email_store_prepare(struct db_pool *pool)
{
	return db_pool_prepare_all(pool, statements,
	                           sizeof(statements) / sizeof(*statements));
}

static int pg_insert(void *self, void *tx, const struct email_record *r)
{
	const char *p[8] = {r->event_id, email_kind_name(r->kind),
	                    r->user_id,  r->to,
	                    r->order_id, r->subject,
	                    r->text,     r->message_id};
	PGresult *res;
	int rc, n;

	(void)self;
	rc = db_exec(tx, "email_insert", 8, p, &res);
	if (rc)
		return rc;
	n = PQntuples(res);
	PQclear(res);
	return n == 1 ? 0 : 1;
}

static const struct email_store_ops store_ops = {.insert = pg_insert};

struct email_store pg_email_store_new(void)
{
	return (struct email_store){.ops = &store_ops, .self = NULL};
}

static int kind_parse(const char *s, enum email_kind *out)
{
	static const enum email_kind kinds[] = {
	        EMAIL_WELCOME, EMAIL_ORDER_CONFIRMED, EMAIL_ORDER_FAILED};

	for (size_t i = 0; i < 3; i++)
		if (strcmp(s, email_kind_name(kinds[i])) == 0) {
			*out = kinds[i];
			return 0;
		}
	return -1;
}

static int rows_to_page(struct arena *a, const PGresult *res,
                        struct email_page *out)
{
	int n = PQntuples(res);
	struct email_view *items;

	if (PQnfields(res) != 10)
		return SHOP_ERR;
	items = arena_calloc(a, n > 0 ? (size_t)n : 1, sizeof(*items));
	if (!items)
		return SHOP_ENOMEM;
	for (int i = 0; i < n; i++) {
		struct email_view *v = &items[i];

		v->id = arena_strdup(a, PQgetvalue(res, i, 0));
		v->user_id = arena_strdup(a, PQgetvalue(res, i, 1));
		v->to = arena_strdup(a, PQgetvalue(res, i, 2));
		v->subject = arena_strdup(a, PQgetvalue(res, i, 4));
		v->order_id = PQgetisnull(res, i, 5)
		                      ? NULL
		                      : arena_strdup(a, PQgetvalue(res, i, 5));
		if (!v->id || !v->user_id || !v->to || !v->subject ||
		    (!PQgetisnull(res, i, 5) && !v->order_id))
			return SHOP_ENOMEM;
		if (kind_parse(PQgetvalue(res, i, 3), &v->kind) < 0 ||
		    email_status_parse(PQgetvalue(res, i, 6), &v->status) < 0)
			return SHOP_ERR;
		v->attempts = (int)strtol(PQgetvalue(res, i, 7), NULL, 10);
		v->created_at =
		        (time_t)strtoll(PQgetvalue(res, i, 8), NULL, 10);
		v->sent = !PQgetisnull(res, i, 9);
		v->sent_at = v->sent ? (time_t)strtoll(PQgetvalue(res, i, 9),
		                                       NULL, 10)
		                     : 0;
	}
	out->items = items;
	out->n = (size_t)n;
	return 0;
}

static int pg_list(void *self, struct arena *a, const struct email_filter *f,
                   struct email_page *out)
{
	struct db_conn *c = NULL;
	PGresult *count = NULL, *page = NULL;
	char limit[24], offset[24];
	const char *p[4] = {f->user_id, f->order_id, limit, offset};
	struct email_page pg = {0};
	int rc;

	snprintf(limit, sizeof(limit), "%ld", f->page_size);
	snprintf(offset, sizeof(offset), "%lld",
	         (long long)(f->page - 1) * f->page_size);
	rc = db_acquire(self, &c);
	if (rc)
		return rc;
	rc = db_exec(c, "email_count", 2, p, &count);
	if (rc)
		goto release;
	rc = db_exec(c, "email_page", 4, p, &page);
	if (rc)
		goto release;
	pg.total = strtoll(PQgetvalue(count, 0, 0), NULL, 10);
	rc = rows_to_page(a, page, &pg);
	if (rc == 0)
		*out = pg;
release:
	PQclear(count);
	PQclear(page);
	db_release(c);
	return rc;
}

static const struct email_reader_ops reader_ops = {.list = pg_list};

struct email_reader pg_email_reader_new(struct db_pool *pool)
{
	return (struct email_reader){.ops = &reader_ops, .self = pool};
}
