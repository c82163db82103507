#include "pg_reservation_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"
#include "pg_product_repo.h"

struct pg_reservation_repo {
	struct db_pool *pool;
};

/* reserve_stock's product column, as PG_PRODUCT_COLUMNS reads it. */
#define PROD_COLUMNS                                                           \
	"(prod).id::text, (prod).sku, (prod).name, (prod).description, "       \
	"(prod).category, (prod).price_cents::text, (prod).currency::text, "   \
	"(prod).image_url, (prod).stock::text, "                               \
	"extract(epoch from (prod).created_at)::bigint::text, "                \
	"extract(epoch from (prod).updated_at)::bigint::text"
#define RESERVE_PROD_COL 10

static const char *const statements[][2] = {
        {"reservation_reserve",
         "SELECT outcome, status, product_id::text, quantity::text, sku, "
         "name, unit_price_cents::text, currency, available::text, "
         "extract(epoch from expires_at)::bigint::text, " PROD_COLUMNS
         " FROM reserve_stock($1::uuid, $2::uuid[], $3::integer[], "
         "$4::integer)"},
        {"reservation_release", "SELECT " PG_PRODUCT_COLUMNS
                                " FROM release_reservation($1::uuid, $2)"},
        {"reservation_commit",
         "SELECT outcome, shortfall::text FROM commit_reservation($1::uuid)"},
        /* What a late commit took again, for the caches. */
        {"reservation_lines_products",
         "SELECT " PG_PRODUCT_COLUMNS " FROM products WHERE id IN "
         "(SELECT product_id FROM reservation_lines WHERE order_id = "
         "$1::uuid)"},
        {"reservation_expire",
         "SELECT " PG_PRODUCT_COLUMNS " FROM expire_reservations($1::integer)"},
};

/* Runs stmt on tx, or on a pooled connection when tx is NULL. */
static int run(struct pg_reservation_repo *r, void *tx, const char *stmt, int n,
               const char *const *params, PGresult **out)
{
	if (tx)
		return db_exec(tx, stmt, n, params, out);
	return db_pool_exec(r->pool, stmt, n, params, out);
}

/* Builds "{a,b,...}" of the items' product ids or quantities. */
static char *array_literal(struct arena *a, const struct reservation_request *q,
                           bool quantities)
{
	size_t cap = 2 + q->n * 38, len = 1;
	char *s = arena_alloc(a, cap);

	if (!s)
		return NULL;
	s[0] = '{';
	for (size_t i = 0; i < q->n; i++) {
		int w = quantities
		                ? snprintf(s + len, cap - len, "%s%lld",
		                           i ? "," : "", q->items[i].quantity)
		                : snprintf(s + len, cap - len, "%s%s",
		                           i ? "," : "",
		                           q->items[i].product_id);
		if (w < 0 || (size_t)w >= cap - len)
			return NULL;
		len += (size_t)w;
	}
	if (len + 2 > cap)
		return NULL;
	s[len++] = '}';
	s[len] = '\0';
	return s;
}

static char *dup(struct arena *a, const PGresult *res, int row, int col)
{
	return arena_strndup(a, PQgetvalue(res, row, col),
	                     (size_t)PQgetlength(res, row, col));
}

static int read_products(struct arena *a, PGresult *res, int col,
                         struct product_list *out)
{
	int n = PQntuples(res);

	out->n = 0;
	out->items = n ? arena_calloc(a, (size_t)n, sizeof(*out->items)) : NULL;
	if (n && !out->items)
		return SHOP_ENOMEM;
	for (int i = 0; i < n; i++) {
		int rc;
		if (PQgetisnull(res, i, col))
			continue;
		rc = pg_product_from_row(a, res, i, col, &out->items[out->n]);
		if (rc)
			return rc;
		out->n++;
	}
	return 0;
}

static int refusal(const PGresult *res, const char *outcome,
                   struct reservation_conflict *cf)
{
	memset(cf, 0, sizeof(*cf));
	if (strcmp(outcome, "unknown") == 0)
		cf->why = RESERVATION_UNKNOWN_PRODUCT;
	else if (strcmp(outcome, "insufficient") == 0)
		cf->why = RESERVATION_INSUFFICIENT;
	else if (strcmp(outcome, "currency") == 0)
		cf->why = RESERVATION_MIXED_CURRENCY;
	else if (strcmp(outcome, "mismatch") == 0)
		cf->why = RESERVATION_MISMATCH;
	else
		return SHOP_ERR;
	if (!PQgetisnull(res, 0, 2))
		snprintf(cf->product_id, sizeof(cf->product_id), "%s",
		         PQgetvalue(res, 0, 2));
	if (!PQgetisnull(res, 0, 8))
		cf->available = strtoll(PQgetvalue(res, 0, 8), NULL, 10);
	return SHOP_ECONFLICT;
}

static int pg_reserve(void *self, struct arena *a,
                      const struct reservation_request *q, long long hold_s,
                      struct reservation *out, bool *created,
                      struct product_list *changed,
                      struct reservation_conflict *cf)
{
	struct pg_reservation_repo *r = self;
	char hold[24];
	const char *params[4];
	PGresult *res;
	const char *outcome;
	int n, rc;

	snprintf(hold, sizeof(hold), "%lld", hold_s);
	params[0] = q->order_id;
	params[1] = array_literal(a, q, false);
	params[2] = array_literal(a, q, true);
	params[3] = hold;
	if (!params[1] || !params[2])
		return SHOP_ENOMEM;
	rc = run(r, NULL, "reservation_reserve", 4, params, &res);
	if (rc)
		return rc;
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return SHOP_ERR;
	}
	outcome = PQgetvalue(res, 0, 0);
	if (strcmp(outcome, "created") != 0 &&
	    strcmp(outcome, "replayed") != 0) {
		rc = refusal(res, outcome, cf);
		PQclear(res);
		return rc;
	}
	memset(out, 0, sizeof(*out));
	*created = strcmp(outcome, "created") == 0;
	snprintf(out->order_id, sizeof(out->order_id), "%s", q->order_id);
	if (reservation_status_parse(PQgetvalue(res, 0, 1), &out->status)) {
		PQclear(res);
		return SHOP_ERR;
	}
	snprintf(out->currency, sizeof(out->currency), "%s",
	         PQgetvalue(res, 0, 7));
	out->expires_at = (time_t)strtoll(PQgetvalue(res, 0, 9), NULL, 10);
	out->lines = arena_calloc(a, (size_t)n, sizeof(*out->lines));
	if (!out->lines) {
		PQclear(res);
		return SHOP_ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct reservation_line *l = &out->lines[i];
		snprintf(l->product_id, sizeof(l->product_id), "%s",
		         PQgetvalue(res, i, 2));
		l->quantity = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		l->sku = dup(a, res, i, 4);
		l->name = dup(a, res, i, 5);
		l->unit_price_cents = strtoll(PQgetvalue(res, i, 6), NULL, 10);
		if (!l->sku || !l->name) {
			PQclear(res);
			return SHOP_ENOMEM;
		}
	}
	out->n = (size_t)n;
	rc = read_products(a, res, RESERVE_PROD_COL, changed);
	PQclear(res);
	return rc;
}

static int pg_release(void *self, void *tx, struct arena *a,
                      const char *order_id, const char *reason,
                      struct product_list *changed)
{
	const char *params[2] = {order_id, reason};
	PGresult *res;
	int rc = run(self, tx, "reservation_release", 2, params, &res);

	if (rc)
		return rc;
	rc = read_products(a, res, 0, changed);
	PQclear(res);
	return rc;
}

static int pg_commit(void *self, void *tx, struct arena *a,
                     const char *order_id, enum reservation_commit *out,
                     long long *shortfall, struct product_list *changed)
{
	const char *params[1] = {order_id};
	PGresult *res;
	const char *o;
	int rc = run(self, tx, "reservation_commit", 1, params, &res);

	if (rc)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return SHOP_ERR;
	}
	o = PQgetvalue(res, 0, 0);
	*shortfall = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (strcmp(o, "committed") == 0)
		*out = RESERVATION_COMMIT_DONE;
	else if (strcmp(o, "already") == 0)
		*out = RESERVATION_COMMIT_ALREADY;
	else if (strcmp(o, "none") == 0)
		*out = RESERVATION_COMMIT_NONE;
	else if (strcmp(o, "late") == 0)
		*out = RESERVATION_COMMIT_LATE;
	else
		rc = SHOP_ERR;
	PQclear(res);
	changed->items = NULL;
	changed->n = 0;
	if (rc || *out != RESERVATION_COMMIT_LATE)
		return rc;
	rc = run(self, tx, "reservation_lines_products", 1, params, &res);
	if (rc)
		return rc;
	rc = read_products(a, res, 0, changed);
	PQclear(res);
	return rc;
}

static int pg_expire(void *self, struct arena *a, int limit,
                     struct product_list *changed)
{
	char lim[16];
	const char *params[1] = {lim};
	PGresult *res;
	int rc;

	snprintf(lim, sizeof(lim), "%d", limit);
	rc = run(self, NULL, "reservation_expire", 1, params, &res);
	if (rc)
		return rc;
	rc = read_products(a, res, 0, changed);
	PQclear(res);
	return rc;
}

static const struct reservation_repo_ops pg_ops = {
        .reserve = pg_reserve,
        .release = pg_release,
        .commit = pg_commit,
        .expire = pg_expire,
};

struct reservation_repo pg_reservation_repo_new(struct db_pool *pool)
{
	struct reservation_repo repo = {NULL, NULL};
	struct pg_reservation_repo *r = calloc(1, sizeof(*r));

	if (!r)
		return repo;
	r->pool = pool;
	if (db_pool_prepare_all(pool, statements,
	                        sizeof(statements) / sizeof(*statements))) {
		free(r);
		return repo;
	}
	repo.ops = &pg_ops;
	repo.self = r;
	return repo;
}

void pg_reservation_repo_free(struct reservation_repo repo)
{
	free(repo.self);
}
