#include "pg_cart_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"

struct pg_cart_repo {
	struct db_pool *pool;
};

/* Every statement answers the columns of cart_rows() (001_carts.sql). */
enum {
	COL_STATUS,
	COL_CURRENT,
	COL_UPDATED_AT,
	COL_PRODUCT_ID,
	COL_QUANTITY,
	COL_SKU,
	COL_NAME,
	COL_ADDED_PRICE,
	COL_CURRENCY,
	NCOLS
};

static const char *const statements[][2] = {
        {"cart_load", "SELECT * FROM cart_rows($1)"},
        {"cart_add", "SELECT * FROM cart_add($1, $2, $3, $4, $5, $6, $7, $8, "
                     "$9)"},
        {"cart_set", "SELECT * FROM cart_set($1, $2, $3, $4, $5, $6, $7)"},
        {"cart_clear", "SELECT cart_clear($1)"},
        {"cart_take_ordered",
         "SELECT cart_take_ordered($1::uuid, $2::uuid[], $3::integer[])"},
};

/* Runs stmt on a pooled connection; the result is the caller's. */
static int run(struct pg_cart_repo *r, const char *stmt, int n,
               const char *const *params, PGresult **out)
{
	return db_pool_exec(r->pool, stmt, n, params, out);
}

static long long ll_value(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Reads cart_rows() rows into out; a cart that does not exist (no row) is
 * the empty cart with updated_at 0. */
static int rows_to_cart(struct arena *a, const PGresult *res,
                        struct cart_stored *out)
{
	int n = PQntuples(res);
	struct cart_line *lines;
	size_t k = 0;

	if (PQnfields(res) != NCOLS)
		return SHOP_ERR;
	lines = arena_calloc(a, n > 0 ? (size_t)n : 1, sizeof(*lines));
	if (!lines)
		return SHOP_ENOMEM;
	for (int i = 0; i < n; i++) {
		struct cart_line *l = &lines[k];
		const char *id = PQgetvalue(res, i, COL_PRODUCT_ID);

		if (PQgetisnull(res, i, COL_PRODUCT_ID))
			continue; /* the cart exists and has no line */
		if (strlen(id) != 36)
			return SHOP_ERR;
		memcpy(l->product_id, id, 37);
		l->quantity = (int)ll_value(res, i, COL_QUANTITY);
		l->sku = arena_strdup(a, PQgetvalue(res, i, COL_SKU));
		l->name = arena_strdup(a, PQgetvalue(res, i, COL_NAME));
		l->added_price_cents = ll_value(res, i, COL_ADDED_PRICE);
		snprintf(l->currency, sizeof(l->currency), "%s",
		         PQgetvalue(res, i, COL_CURRENCY));
		if (!l->sku || !l->name)
			return SHOP_ENOMEM;
		k++;
	}
	out->lines = lines;
	out->n = k;
	out->updated_at =
	        n > 0 ? (time_t)ll_value(res, 0, COL_UPDATED_AT) : (time_t)0;
	return 0;
}

static int pg_load(void *self, struct arena *a, const char *user_id,
                   struct cart_stored *out)
{
	PGresult *res;
	const char *params[1] = {user_id};
	int rc = run(self, "cart_load", 1, params, &res);

	if (rc)
		return rc;
	rc = rows_to_cart(a, res, out);
	PQclear(res);
	return rc;
}

/* The answer of cart_add() / cart_set(): a refusal (first row's r_status
 * mapped by `refusals`) or the cart after the change. */
static int change_result(struct arena *a, PGresult *res, const int *refusals,
                         size_t nrefusals, int *current,
                         struct cart_stored *out)
{
	long long status;

	if (PQntuples(res) < 1 || PQnfields(res) != NCOLS)
		return SHOP_ERR;
	status = ll_value(res, 0, COL_STATUS);
	if (status == 0)
		return rows_to_cart(a, res, out);
	if (status < 1 || (size_t)status > nrefusals)
		return SHOP_ERR;
	if (current)
		*current = (int)ll_value(res, 0, COL_CURRENT);
	return refusals[status - 1];
}

static int pg_add(void *self, struct arena *a, const char *user_id,
                  const struct cart_line *line, int max_quantity, int max_lines,
                  int *current, struct cart_stored *out)
{
	static const int refusals[] = {CART_EQUANTITY, CART_ELINES,
	                               CART_ECURRENCY};
	char qty[16], price[24], maxq[16], maxl[16];
	PGresult *res;
	int rc, cur = 0;

	snprintf(qty, sizeof(qty), "%d", line->quantity);
	snprintf(price, sizeof(price), "%lld", line->added_price_cents);
	snprintf(maxq, sizeof(maxq), "%d", max_quantity);
	snprintf(maxl, sizeof(maxl), "%d", max_lines);
	const char *params[9] = {
	        user_id, line->product_id, qty,  line->sku, line->name,
	        price,   line->currency,   maxq, maxl};
	rc = run(self, "cart_add", 9, params, &res);
	if (rc)
		return rc;
	rc = change_result(a, res, refusals, 3, &cur, out);
	PQclear(res);
	if (rc == CART_EQUANTITY)
		*current = cur;
	return rc;
}

static int pg_set_quantity(void *self, struct arena *a, const char *user_id,
                           const char *product_id, int quantity,
                           const struct cart_line *snapshot,
                           struct cart_stored *out)
{
	static const int refusals[] = {SHOP_ENOTFOUND, CART_ECURRENCY};
	char qty[16], price[24];
	PGresult *res;
	int rc;

	snprintf(qty, sizeof(qty), "%d", quantity);
	snprintf(price, sizeof(price), "%lld",
	         snapshot ? snapshot->added_price_cents : 0);
	const char *params[7] = {user_id,
	                         product_id,
	                         qty,
	                         snapshot ? snapshot->sku : NULL,
	                         snapshot ? snapshot->name : NULL,
	                         snapshot ? price : NULL,
	                         snapshot ? snapshot->currency : NULL};
	rc = run(self, "cart_set", 7, params, &res);
	if (rc)
		return rc;
	rc = change_result(a, res, refusals, 2, NULL, out);
	PQclear(res);
	return rc;
}

static int pg_clear(void *self, const char *user_id)
{
	const char *params[1] = {user_id};

	return run(self, "cart_clear", 1, params, NULL);
}

/* "{a,b,...}" of n ids or quantities, from the arena. */
static char *array_literal(struct arena *a, const char *const *ids,
                           const long long *qty, size_t n)
{
	size_t cap = 3 + n * 38, len = 1;
	char *s = arena_alloc(a, cap);

	if (!s)
		return NULL;
	s[0] = '{';
	for (size_t i = 0; i < n; i++) {
		int w = ids ? snprintf(s + len, cap - len, "%s%s", i ? "," : "",
		                       ids[i])
		            : snprintf(s + len, cap - len, "%s%lld",
		                       i ? "," : "", qty[i]);
		if (w < 0 || (size_t)w >= cap - len - 1)
			return NULL;
		len += (size_t)w;
	}
	s[len++] = '}';
	s[len] = '\0';
	return s;
}

static int pg_take_ordered(void *self, void *tx, const char *user_id,
                           const char *const *product_ids,
                           const long long *quantities, size_t n, int *changed)
{
	struct arena *a = arena_new(0);
	const char *params[3];
	PGresult *res;
	int rc = SHOP_ENOMEM;

	(void)self;
	*changed = 0;
	if (!a)
		return rc;
	params[0] = user_id;
	params[1] = array_literal(a, product_ids, NULL, n);
	params[2] = array_literal(a, NULL, quantities, n);
	if (params[1] && params[2]) {
		rc = db_exec(tx, "cart_take_ordered", 3, params, &res);
		if (rc == 0) {
			*changed = atoi(PQgetvalue(res, 0, 0));
			PQclear(res);
		}
	}
	arena_free(a);
	return rc;
}

static const struct cart_repo_ops pg_ops = {
        .load = pg_load,
        .add = pg_add,
        .set_quantity = pg_set_quantity,
        .clear = pg_clear,
        .take_ordered = pg_take_ordered,
};

struct cart_repo pg_cart_repo_new(struct db_pool *pool)
{
	struct cart_repo repo = {NULL, NULL};
	struct pg_cart_repo *r = calloc(1, sizeof(*r));

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

void pg_cart_repo_free(struct cart_repo repo)
{
	free(repo.self);
}
