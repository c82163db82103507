#include "pg_product_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"

struct pg_product_repo {
	struct db_pool *pool;
};

#define NCOLS PG_PRODUCT_NCOLS

/*
 * Typo-tolerant search: full-text search on name and description, or a
 * trigram word similarity with the name (or, stricter, the description), so
 * "hedaphones" still finds "headphones".
 */
#define MATCH_SQL                                                              \
	"($1::text IS NULL OR search @@ websearch_to_tsquery('english', $1) "  \
	" OR word_similarity(lower($1), lower(name)) >= 0.45 "                 \
	" OR word_similarity(lower($1), lower(description)) >= 0.6) "          \
	"AND ($2::text IS NULL OR category = $2) "                             \
	"AND ($3::bigint IS NULL OR price_cents >= $3) "                       \
	"AND ($4::bigint IS NULL OR price_cents <= $4)"

#define RANK_SQL                                                               \
	"CASE WHEN $1::text IS NULL THEN 0 ELSE "                              \
	"ts_rank(search, websearch_to_tsquery('english', $1)) + "              \
	"word_similarity(lower($1), lower(name)) END"

static const struct {
	enum product_sort sort;
	const char *stmt;
	const char *order;
} list_orders[] = {
        /* Qualified names: in ORDER BY a bare "price_cents" would be the
         * output column, the text cast. */
        {PRODUCT_SORT_RELEVANCE, "product_list_relevance",
         RANK_SQL " DESC, products.created_at DESC, products.id DESC"},
        {PRODUCT_SORT_NAME, "product_list_name",
         "lower(products.name), products.name, products.id"},
        {PRODUCT_SORT_PRICE_ASC, "product_list_price_asc",
         "products.price_cents, lower(products.name), products.id"},
        {PRODUCT_SORT_PRICE_DESC, "product_list_price_desc",
         "products.price_cents DESC, lower(products.name), products.id"},
        {PRODUCT_SORT_NEWEST, "product_list_newest",
         "products.created_at DESC, products.id DESC"},
};

static const char *const statements[][2] = {
        {"product_get",
         "SELECT " PG_PRODUCT_COLUMNS " FROM products WHERE id = $1"},
        {"product_count",
         "SELECT count(*)::text FROM products WHERE " MATCH_SQL},
        {"product_categories",
         "SELECT c.slug, c.name, count(p.id)::text FROM categories c "
         "LEFT JOIN products p ON p.category = c.slug "
         "GROUP BY c.slug, c.name ORDER BY c.name, c.slug"},
        {"product_category_exists", "SELECT 1 FROM categories WHERE slug = $1"},
        {"product_create",
         "INSERT INTO products (sku, name, description, category, price_cents, "
         "stock, currency, image_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
         "RETURNING " PG_PRODUCT_COLUMNS},
        {"product_update",
         "UPDATE products SET sku = coalesce($2, sku), name = coalesce($3, "
         "name), "
         "description = coalesce($4, description), "
         "category = coalesce($5, category), "
         "price_cents = coalesce($6::bigint, price_cents), "
         "stock = coalesce($7::integer, stock), "
         "currency = coalesce($8, currency), "
         "image_url = coalesce($9, image_url), updated_at = now() "
         "WHERE id = $1 RETURNING " PG_PRODUCT_COLUMNS},
        {"product_delete", "DELETE FROM products WHERE id = $1"},
};

static char *dup_value(struct arena *a, const PGresult *r, int row, int col)
{
	return arena_strndup(a, PQgetvalue(r, row, col),
	                     (size_t)PQgetlength(r, row, col));
}

int pg_product_from_row(struct arena *a, const PGresult *r, int row, int col,
                        struct product *p)
{
	const char *id = PQgetvalue(r, row, col);

	if (PQnfields(r) < col + NCOLS || strlen(id) != 36)
		return SHOP_ERR;
	memcpy(p->id, id, 37);
	p->sku = dup_value(a, r, row, col + 1);
	p->name = dup_value(a, r, row, col + 2);
	p->description = dup_value(a, r, row, col + 3);
	p->category = dup_value(a, r, row, col + 4);
	p->price_cents = strtoll(PQgetvalue(r, row, col + 5), NULL, 10);
	snprintf(p->currency, sizeof(p->currency), "%s",
	         PQgetvalue(r, row, col + 6));
	p->image_url = dup_value(a, r, row, col + 7);
	p->stock = strtoll(PQgetvalue(r, row, col + 8), NULL, 10);
	p->created_at = (time_t)strtoll(PQgetvalue(r, row, col + 9), NULL, 10);
	p->updated_at = (time_t)strtoll(PQgetvalue(r, row, col + 10), NULL, 10);
	if (!p->sku || !p->name || !p->description || !p->category ||
	    !p->image_url)
		return SHOP_ENOMEM;
	return 0;
}

static int row_to_product(struct arena *a, const PGresult *r, int row,
                          struct product *p)
{
	return pg_product_from_row(a, r, row, 0, p);
}

/* Runs stmt on a pooled connection; the result is the caller's. */
static int run(struct pg_product_repo *r, const char *stmt, int n,
               const char *const *params, PGresult **out)
{
	return db_pool_exec(r->pool, stmt, n, params, out);
}

static int pg_list(void *self, struct arena *a, const struct product_query *q,
                   struct product_page *out)
{
	struct pg_product_repo *r = self;
	char minp[24], maxp[24], limit[24], offset[24];
	const char *stmt = NULL;
	PGresult *res = NULL;
	struct product *items;
	long long total = 0;
	int rc, n;

	for (size_t i = 0; i < sizeof(list_orders) / sizeof(*list_orders);
	     i++) {
		if (list_orders[i].sort == q->sort)
			stmt = list_orders[i].stmt;
	}
	if (!stmt)
		return SHOP_ERR;
	snprintf(minp, sizeof(minp), "%lld", q->min_price);
	snprintf(maxp, sizeof(maxp), "%lld", q->max_price);
	snprintf(limit, sizeof(limit), "%ld", q->page_size);
	snprintf(offset, sizeof(offset), "%ld", (q->page - 1) * q->page_size);
	const char *params[6] = {q->q,
	                         q->category,
	                         q->min_price >= 0 ? minp : NULL,
	                         q->max_price >= 0 ? maxp : NULL,
	                         limit,
	                         offset};

	rc = run(r, stmt, 6, params, &res);
	if (rc)
		return rc;
	n = PQntuples(res);
	items = arena_calloc(a, n ? (size_t)n : 1, sizeof(*items));
	if (!items) {
		rc = SHOP_ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		rc = row_to_product(a, res, i, &items[i]);
		if (rc)
			goto out;
	}
	if (n > 0) {
		total = strtoll(PQgetvalue(res, 0, NCOLS), NULL, 10);
	} else {
		/* Past the last page: the window count is not there. */
		PQclear(res);
		res = NULL;
		rc = run(r, "product_count", 4, params, &res);
		if (rc)
			goto out;
		total = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	}
	out->items = items;
	out->n = (size_t)n;
	out->total = total;
	rc = 0;
out:
	PQclear(res);
	return rc;
}

static int pg_get(void *self, struct arena *a, const char *id,
                  struct product *out)
{
	PGresult *res;
	const char *params[1] = {id};
	int rc = run(self, "product_get", 1, params, &res);

	if (rc)
		return rc;
	rc = PQntuples(res) == 1 ? row_to_product(a, res, 0, out)
	                         : SHOP_ENOTFOUND;
	PQclear(res);
	return rc;
}

static int pg_categories(void *self, struct arena *a, struct category_list *out)
{
	PGresult *res;
	struct category *items;
	int rc = run(self, "product_categories", 0, NULL, &res);
	int n;

	if (rc)
		return rc;
	n = PQntuples(res);
	items = arena_calloc(a, n ? (size_t)n : 1, sizeof(*items));
	if (!items) {
		PQclear(res);
		return SHOP_ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		items[i].slug = dup_value(a, res, i, 0);
		items[i].name = dup_value(a, res, i, 1);
		items[i].product_count =
		        strtoll(PQgetvalue(res, i, 2), NULL, 10);
		if (!items[i].slug || !items[i].name) {
			PQclear(res);
			return SHOP_ENOMEM;
		}
	}
	PQclear(res);
	out->items = items;
	out->n = (size_t)n;
	return 0;
}

static int pg_category_exists(void *self, const char *slug)
{
	PGresult *res;
	const char *params[1] = {slug};
	int rc = run(self, "product_category_exists", 1, params, &res);

	if (rc)
		return rc;
	rc = PQntuples(res) > 0 ? 1 : 0;
	PQclear(res);
	return rc;
}

static int one_product(int rc, struct arena *a, PGresult *res,
                       struct product *out)
{
	if (rc)
		return rc;
	rc = PQntuples(res) == 1 ? row_to_product(a, res, 0, out)
	                         : SHOP_ENOTFOUND;
	PQclear(res);
	return rc;
}

static int pg_create(void *self, struct arena *a,
                     const struct product_fields *f, struct product *out)
{
	char price[24], stock[24];
	PGresult *res = NULL;

	snprintf(price, sizeof(price), "%lld", f->price_cents);
	snprintf(stock, sizeof(stock), "%lld", f->stock);
	const char *params[8] = {f->sku, f->name, f->description, f->category,
	                         price,  stock,   f->currency,    f->image_url};
	int rc = run(self, "product_create", 8, params, &res);

	return one_product(rc, a, res, out);
}

static int pg_update(void *self, struct arena *a, const char *id,
                     const struct product_fields *f, struct product *out)
{
	char price[24], stock[24];
	PGresult *res = NULL;

	snprintf(price, sizeof(price), "%lld", f->price_cents);
	snprintf(stock, sizeof(stock), "%lld", f->stock);
	const char *params[9] = {
	        id,
	        f->set & PRODUCT_F_SKU ? f->sku : NULL,
	        f->set & PRODUCT_F_NAME ? f->name : NULL,
	        f->set & PRODUCT_F_DESCRIPTION ? f->description : NULL,
	        f->set & PRODUCT_F_CATEGORY ? f->category : NULL,
	        f->set & PRODUCT_F_PRICE ? price : NULL,
	        f->set & PRODUCT_F_STOCK ? stock : NULL,
	        f->set & PRODUCT_F_CURRENCY ? f->currency : NULL,
	        f->set & PRODUCT_F_IMAGE_URL ? f->image_url : NULL,
	};
	int rc = run(self, "product_update", 9, params, &res);

	return one_product(rc, a, res, out);
}

static int pg_remove(void *self, const char *id)
{
	PGresult *res;
	const char *params[1] = {id};
	int rc = run(self, "product_delete", 1, params, &res);

	if (rc)
		return rc;
	rc = strcmp(PQcmdTuples(res), "0") == 0 ? SHOP_ENOTFOUND : 0;
	PQclear(res);
	return rc;
}

static const struct product_repo_ops pg_ops = {
        .list = pg_list,
        .get = pg_get,
        .categories = pg_categories,
        .category_exists = pg_category_exists,
        .create = pg_create,
        .update = pg_update,
        .remove = pg_remove,
};

struct product_repo pg_product_repo_new(struct db_pool *pool)
{
	struct product_repo repo = {NULL, NULL};
	struct pg_product_repo *r = calloc(1, sizeof(*r));
	char sql[2048];

	if (!r)
		return repo;
	r->pool = pool;
	if (db_pool_prepare_all(pool, statements,
	                        sizeof(statements) / sizeof(*statements)))
		goto fail;
	for (size_t i = 0; i < sizeof(list_orders) / sizeof(*list_orders);
	     i++) {
		snprintf(sql, sizeof(sql),
		         "SELECT " PG_PRODUCT_COLUMNS
		         ", count(*) OVER ()::text "
		         "FROM products WHERE " MATCH_SQL " ORDER BY %s "
		         "LIMIT $5 OFFSET $6",
		         list_orders[i].order);
		if (db_pool_prepare(pool, list_orders[i].stmt, sql) ==
		    SHOP_EINVAL)
			goto fail;
	}
	repo.ops = &pg_ops;
	repo.self = r;
	return repo;
fail:
	free(r);
	return repo;
}

void pg_product_repo_free(struct product_repo repo)
{
	free(repo.self);
}
