#include "pg_payment_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/outbox.h"

struct pg_payment_repo {
	struct db_pool *pool;
};

/* The columns every read answers, in this order. */
#define COLS                                                                   \
	"id::text, order_id::text, user_id::text, amount_cents, "              \
	"currency::text, status, failure_reason, provider_ref, "               \
	"extract(epoch FROM created_at)::bigint"
enum {
	COL_ID,
	COL_ORDER_ID,
	COL_USER_ID,
	COL_AMOUNT,
	COL_CURRENCY,
	COL_STATUS,
	COL_REASON,
	COL_PROVIDER_REF,
	COL_CREATED_AT,
	NCOLS
};

#define ORDER_PAGE " ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d"

/*
 * The list statements, one per filter combination (so each keeps a plan
 * that uses its index): index bit 0 = by user, bit 1 = by order.
 */
static const char *const list_names[4] = {
        "payment_list_all", "payment_list_user", "payment_list_order",
        "payment_list_user_order"};
static const char *const count_names[4] = {
        "payment_count_all", "payment_count_user", "payment_count_order",
        "payment_count_user_order"};
static const char *const filters[4] = {"", " WHERE user_id = $1",
                                       " WHERE order_id = $1",
                                       " WHERE user_id = $1 AND order_id = $2"};

static const char *const statements[][2] = {
        /* Two replicas handed two events of one order take turns: the
         * lock lasts until the transaction ends (the advisory key space
         * of two int4s is apart from migrate's single bigint one). */
        {"payment_lock_order",
         "SELECT pg_advisory_xact_lock(hashtext('payment.order'), "
         "hashtext($1::text))"},
        {"payment_by_order", "SELECT " COLS " FROM payments "
                             "WHERE order_id = $1"},
        {"payment_get", "SELECT " COLS " FROM payments WHERE id = $1"},
        {"payment_insert",
         "INSERT INTO payments (id, order_id, user_id, amount_cents, "
         "currency, status, failure_reason, provider_ref) "
         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
         "ON CONFLICT (order_id) DO NOTHING "
         "RETURNING extract(epoch FROM created_at)::bigint"},
};

static long long ll_value(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static int copy_col(char *dst, size_t cap, const PGresult *res, int row,
                    int col)
{
	const char *s =
	        PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
	size_t n = strlen(s);

	if (n >= cap)
		return SHOP_ERR;
	memcpy(dst, s, n + 1);
	return 0;
}

static int row_to_payment(const PGresult *res, int row, struct payment *out)
{
	struct payment p = {0};

	if (PQnfields(res) != NCOLS ||
	    copy_col(p.id, sizeof(p.id), res, row, COL_ID) ||
	    copy_col(p.order_id, sizeof(p.order_id), res, row, COL_ORDER_ID) ||
	    copy_col(p.user_id, sizeof(p.user_id), res, row, COL_USER_ID) ||
	    copy_col(p.currency, sizeof(p.currency), res, row, COL_CURRENCY) ||
	    copy_col(p.failure_reason, sizeof(p.failure_reason), res, row,
	             COL_REASON) ||
	    copy_col(p.provider_ref, sizeof(p.provider_ref), res, row,
	             COL_PROVIDER_REF) ||
	    payment_status_parse(PQgetvalue(res, row, COL_STATUS), &p.status))
		return SHOP_ERR;
	p.amount_cents = ll_value(res, row, COL_AMOUNT);
	p.created_at = (time_t)ll_value(res, row, COL_CREATED_AT);
	*out = p;
	return 0;
}

/* ---- reads ---- */

static int pg_list(void *self, struct arena *a, const char *user_id,
                   const struct payment_query *q, struct payment_page *out)
{
	struct pg_payment_repo *r = self;
	int which = (user_id ? 1 : 0) | (q->order_id ? 2 : 0);
	const char *params[4];
	char limit[24], offset[24];
	PGresult *res = NULL;
	struct payment *items;
	long long total;
	int n = 0, rc, nrows;

	if (user_id)
		params[n++] = user_id;
	if (q->order_id)
		params[n++] = q->order_id;
	rc = db_pool_exec(r->pool, count_names[which], n, params, &res);
	if (rc)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return SHOP_ERR;
	}
	total = ll_value(res, 0, 0);
	PQclear(res);

	snprintf(limit, sizeof(limit), "%ld", q->page_size);
	snprintf(offset, sizeof(offset), "%lld", payment_query_offset(q));
	params[n] = limit;
	params[n + 1] = offset;
	rc = db_pool_exec(r->pool, list_names[which], n + 2, params, &res);
	if (rc)
		return rc;
	nrows = PQntuples(res);
	items = arena_calloc(a, nrows > 0 ? (size_t)nrows : 1, sizeof(*items));
	if (!items) {
		rc = SHOP_ENOMEM;
		goto clear;
	}
	for (int i = 0; i < nrows; i++) {
		rc = row_to_payment(res, i, &items[i]);
		if (rc)
			goto clear;
	}
	out->items = items;
	out->n = (size_t)nrows;
	out->total = total;
clear:
	PQclear(res);
	return rc;
}

static int pg_get(void *self, const char *id, struct payment *out)
{
	struct pg_payment_repo *r = self;
	const char *params[1] = {id};
	PGresult *res;
	int rc = db_pool_exec(r->pool, "payment_get", 1, params, &res);

	if (rc)
		return rc;
	rc = PQntuples(res) == 1 ? row_to_payment(res, 0, out) : SHOP_ENOTFOUND;
	PQclear(res);
	return rc;
}

static const struct payment_repo_ops pg_repo_ops = {
        .list = pg_list,
        .get = pg_get,
};

static int prepare_all(struct db_pool *pool)
{
	char sql[512];
	int rc;

	rc = db_pool_prepare_all(pool, statements,
	                         sizeof(statements) / sizeof(*statements));
	if (rc)
		return rc;
	for (int w = 0; w < 4; w++) {
		int n = (w & 1) + ((w >> 1) & 1);

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM payments%s",
		         filters[w]);
		rc = db_pool_prepare(pool, count_names[w], sql);
		if (rc)
			return rc;
		snprintf(sql, sizeof(sql),
		         "SELECT " COLS " FROM payments%s" ORDER_PAGE,
		         filters[w], n + 1, n + 2);
		rc = db_pool_prepare(pool, list_names[w], sql);
		if (rc)
			return rc;
	}
	return 0;
}

struct payment_repo pg_payment_repo_new(struct db_pool *pool)
{
	struct pg_payment_repo *r;

	if (prepare_all(pool) < 0)
		return (struct payment_repo){0};
	r = calloc(1, sizeof(*r));
	if (!r)
		return (struct payment_repo){0};
	r->pool = pool;
	return (struct payment_repo){.ops = &pg_repo_ops, .self = r};
}

void pg_payment_repo_free(struct payment_repo repo)
{
	free(repo.self);
}

/* ---- the writes of one charge ---- */

static int tx_lock_order(void *self, const char *order_id, bool *found,
                         struct payment *existing)
{
	struct pg_payment_tx *tx = self;
	const char *params[1] = {order_id};
	PGresult *res;
	int rc = db_exec(tx->conn, "payment_lock_order", 1, params, NULL);

	if (rc)
		return rc;
	rc = db_exec(tx->conn, "payment_by_order", 1, params, &res);
	if (rc)
		return rc;
	if (PQntuples(res) == 0) {
		*found = false;
	} else {
		rc = row_to_payment(res, 0, existing);
		if (rc == 0)
			*found = true;
	}
	PQclear(res);
	return rc;
}

static int tx_insert(void *self, struct payment *p)
{
	struct pg_payment_tx *tx = self;
	char amount[24];
	const char *params[8];
	PGresult *res;
	int rc;

	snprintf(amount, sizeof(amount), "%lld", p->amount_cents);
	params[0] = p->id;
	params[1] = p->order_id;
	params[2] = p->user_id;
	params[3] = amount;
	params[4] = p->currency;
	params[5] = payment_status_name(p->status);
	params[6] = p->failure_reason[0] ? p->failure_reason : NULL;
	params[7] = p->provider_ref[0] ? p->provider_ref : NULL;
	rc = db_exec(tx->conn, "payment_insert", 8, params, &res);
	if (rc)
		return rc;
	if (PQntuples(res) == 0)
		rc = SHOP_ECONFLICT;
	else
		p->created_at = (time_t)ll_value(res, 0, 0);
	PQclear(res);
	return rc;
}

static int tx_publish(void *self, const struct payment *p,
                      const struct payment_trace *t)
{
	struct pg_payment_tx *tx = self;
	bool ok = p->status == PAYMENT_SUCCEEDED;
	json_t *data = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "payment_id",
	                         p->id, "order_id", p->order_id, "user_id",
	                         p->user_id, "amount_cents",
	                         (json_int_t)p->amount_cents, "currency",
	                         p->currency, ok ? "provider_ref" : "reason",
	                         ok ? p->provider_ref : p->failure_reason);
	struct outbox_event ev = {
	        .event_type = ok ? "payment.completed" : "payment.failed",
	        .event_version = 1,
	        .producer = "payment",
	        .correlation_id = t ? t->correlation_id : NULL,
	        .traceparent = t ? t->traceparent : NULL,
	        .data = data,
	};
	int rc;

	if (!data)
		return SHOP_ENOMEM;
	rc = outbox_add(tx->conn, &ev, NULL);
	json_decref(data);
	return rc == SHOP_EINVAL ? SHOP_ERR : rc;
}

static const struct payment_tx_ops pg_tx_ops = {
        .lock_order = tx_lock_order,
        .insert = tx_insert,
        .publish = tx_publish,
};

struct payment_tx pg_payment_tx_init(struct pg_payment_tx *state,
                                     struct db_conn *conn)
{
	state->conn = conn;
	return (struct payment_tx){.ops = &pg_tx_ops, .self = state};
}
