#include "fake_catalog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shop/error.h"
#include "shop/util.h"

#define FAKE_EPOCH ((time_t)1767225600) /* 2026-01-01T00:00:00Z */

/* A product as the fake stores it: every string malloc'ed and owned. */
struct fake_row {
	char id[SHOP_UUID_LEN + 1];
	char *sku;
	char *name;
	char *description;
	char *category;
	char *image_url;
	char currency[4];
	long long price_cents;
	long long stock;
	time_t created_at;
	time_t updated_at;
};

struct fake_category {
	char *slug;
	char *name;
	long long product_count; /* only meaningful in the cached copy */
};

struct fake_cache_entry {
	char *key; /* the id exactly as given */
	bool gone;
	struct fake_row row; /* all NULL when gone */
};

struct fake_catalog {
	struct fake_category *categories;
	size_t ncategories, categories_cap;
	struct fake_row *rows; /* insertion order */
	size_t nrows, rows_cap;

	struct fake_cache_entry *entries;
	size_t nentries, entries_cap;
	struct fake_category *cached_categories;
	size_t ncached_categories;
	bool categories_cached;

	time_t now;
	unsigned long next_id;
	unsigned calls[FAKE_SLOT_COUNT];
	int fail_next[FAKE_SLOT_COUNT];
	int fail_always[FAKE_SLOT_COUNT];
};

/* ---- helpers ---- */

/* Returns items grown to hold need elements (updating *cap), or NULL when
 * out of memory; items is then still valid. */
static void *grow(void *items, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return items;
	while (ncap < need)
		ncap *= 2;
	p = realloc(items, ncap * size);
	if (!p)
		return NULL;
	*cap = ncap;
	return p;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

/* Counts the call and answers the failure set up for it, if any. */
static int enter(struct fake_catalog *f, enum fake_catalog_slot s)
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

static time_t stamp(struct fake_catalog *f)
{
	return f->now++;
}

static void row_release(struct fake_row *r)
{
	free(r->sku);
	free(r->name);
	free(r->description);
	free(r->category);
	free(r->image_url);
	memset(r, 0, sizeof(*r));
}

/* Copies p into a new row. Returns 0 or SHOP_ENOMEM (r untouched). */
static int row_from_product(struct fake_row *r, const struct product *p)
{
	struct fake_row n = {0};

	memcpy(n.id, p->id, sizeof(n.id));
	n.id[SHOP_UUID_LEN] = '\0';
	memcpy(n.currency, p->currency, sizeof(n.currency));
	n.currency[3] = '\0';
	n.price_cents = p->price_cents;
	n.stock = p->stock;
	n.created_at = p->created_at;
	n.updated_at = p->updated_at;
	n.sku = dup_or_empty(p->sku);
	n.name = dup_or_empty(p->name);
	n.description = dup_or_empty(p->description);
	n.category = dup_or_empty(p->category);
	n.image_url = dup_or_empty(p->image_url);
	if (!n.sku || !n.name || !n.description || !n.category ||
	    !n.image_url) {
		row_release(&n);
		return SHOP_ENOMEM;
	}
	*r = n;
	return 0;
}

/* A product borrowing the row's strings. */
static void row_view(const struct fake_row *r, struct product *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->id, r->id, sizeof(p->id));
	memcpy(p->currency, r->currency, sizeof(p->currency));
	p->sku = r->sku;
	p->name = r->name;
	p->description = r->description;
	p->category = r->category;
	p->image_url = r->image_url;
	p->price_cents = r->price_cents;
	p->stock = r->stock;
	p->created_at = r->created_at;
	p->updated_at = r->updated_at;
}

/* Copies the row into the arena. Returns 0 or SHOP_ENOMEM (out untouched). */
static int row_to_arena(struct arena *a, const struct fake_row *r,
                        struct product *out)
{
	struct product p;

	row_view(r, &p);
	p.sku = arena_strdup(a, r->sku);
	p.name = arena_strdup(a, r->name);
	p.description = arena_strdup(a, r->description);
	p.category = arena_strdup(a, r->category);
	p.image_url = arena_strdup(a, r->image_url);
	if (!p.sku || !p.name || !p.description || !p.category || !p.image_url)
		return SHOP_ENOMEM;
	*out = p;
	return 0;
}

static struct fake_row *find_row(struct fake_catalog *f, const char *id)
{
	for (size_t i = 0; i < f->nrows; i++) {
		if (strcasecmp(f->rows[i].id, id) == 0)
			return &f->rows[i];
	}
	return NULL;
}

static bool sku_taken(const struct fake_catalog *f, const char *sku,
                      const struct fake_row *except)
{
	for (size_t i = 0; i < f->nrows; i++) {
		if (&f->rows[i] != except && strcmp(f->rows[i].sku, sku) == 0)
			return true;
	}
	return false;
}

static bool category_known(const struct fake_catalog *f, const char *slug)
{
	for (size_t i = 0; i < f->ncategories; i++) {
		if (strcmp(f->categories[i].slug, slug) == 0)
			return true;
	}
	return false;
}

static void make_id(struct fake_catalog *f, char out[SHOP_UUID_LEN + 1])
{
	do {
		snprintf(out, SHOP_UUID_LEN + 1,
		         "00000000-0000-4000-8000-%012lx", ++f->next_id);
	} while (find_row(f, out));
}

/* Appends a row the fake now owns. Returns 0 or SHOP_ENOMEM. */
static int rows_append(struct fake_catalog *f, const struct fake_row *r)
{
	struct fake_row *rows =
	        grow(f->rows, &f->rows_cap, f->nrows + 1, sizeof(*rows));

	if (!rows)
		return SHOP_ENOMEM;
	f->rows = rows;
	f->rows[f->nrows++] = *r;
	return 0;
}

/* ASCII case-insensitive substring test, like a simple ILIKE. */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	}
	return n == 0;
}

/* ---- the repository ---- */

struct match {
	const struct fake_row *row;
	int rank; /* relevance: 2 name matches, 1 description only */
};

static int cmp_ll(long long a, long long b)
{
	return (a > b) - (a < b);
}

static int cmp_newest(const void *x, const void *y)
{
	const struct match *a = x, *b = y;
	int c = cmp_ll((long long)b->row->created_at,
	               (long long)a->row->created_at);

	return c ? c : strcmp(b->row->id, a->row->id);
}

static int cmp_relevance(const void *x, const void *y)
{
	const struct match *a = x, *b = y;

	if (a->rank != b->rank)
		return b->rank - a->rank;
	return cmp_newest(x, y);
}

/* lower(name), name, id */
static int cmp_name(const void *x, const void *y)
{
	const struct match *a = x, *b = y;
	int c = strcasecmp(a->row->name, b->row->name);

	if (!c)
		c = strcmp(a->row->name, b->row->name);
	return c ? c : strcmp(a->row->id, b->row->id);
}

static int cmp_price_asc(const void *x, const void *y)
{
	const struct match *a = x, *b = y;
	int c = cmp_ll(a->row->price_cents, b->row->price_cents);

	if (!c)
		c = strcasecmp(a->row->name, b->row->name);
	return c ? c : strcmp(a->row->id, b->row->id);
}

static int cmp_price_desc(const void *x, const void *y)
{
	const struct match *a = x, *b = y;
	int c = cmp_ll(b->row->price_cents, a->row->price_cents);

	if (!c)
		c = strcasecmp(a->row->name, b->row->name);
	return c ? c : strcmp(a->row->id, b->row->id);
}

static int repo_list(void *self, struct arena *a, const struct product_query *q,
                     struct product_page *out)
{
	struct fake_catalog *f = self;
	int (*cmp)(const void *, const void *) = NULL;
	struct match *m = NULL;
	struct product *items;
	size_t nm = 0, off, n;
	int rc = enter(f, FAKE_REPO_LIST);

	if (rc)
		return rc;
	switch (q->sort) {
	case PRODUCT_SORT_RELEVANCE:
		cmp = cmp_relevance;
		break;
	case PRODUCT_SORT_NAME:
		cmp = cmp_name;
		break;
	case PRODUCT_SORT_PRICE_ASC:
		cmp = cmp_price_asc;
		break;
	case PRODUCT_SORT_PRICE_DESC:
		cmp = cmp_price_desc;
		break;
	case PRODUCT_SORT_NEWEST:
		cmp = cmp_newest;
		break;
	case PRODUCT_SORT_DEFAULT:
		break;
	}
	if (!cmp || q->page < 1 || q->page_size < 1 ||
	    q->page_size > PRODUCT_PAGE_SIZE_MAX || (q->q && !*q->q))
		BUG("fake repo list: the query was not validated");

	m = calloc(f->nrows ? f->nrows : 1, sizeof(*m));
	if (!m)
		return SHOP_ENOMEM;
	for (size_t i = 0; i < f->nrows; i++) {
		const struct fake_row *r = &f->rows[i];
		int rank = 0;

		if (q->q) {
			if (contains_ci(r->name, q->q))
				rank = 2;
			else if (contains_ci(r->description, q->q))
				rank = 1;
			else
				continue;
		}
		if (q->category && strcmp(r->category, q->category) != 0)
			continue;
		if (q->min_price >= 0 && r->price_cents < q->min_price)
			continue;
		if (q->max_price >= 0 && r->price_cents > q->max_price)
			continue;
		m[nm].row = r;
		m[nm].rank = rank;
		nm++;
	}
	qsort(m, nm, sizeof(*m), cmp);

	/* (page - 1) * page_size may overflow for a huge page: test first. */
	if ((unsigned long)(q->page - 1) >= nm)
		off = nm;
	else
		off = (size_t)(q->page - 1) * (size_t)q->page_size;
	if (off > nm)
		off = nm;
	n = nm - off;
	if (n > (size_t)q->page_size)
		n = (size_t)q->page_size;

	items = arena_calloc(a, n ? n : 1, sizeof(*items));
	if (!items) {
		rc = SHOP_ENOMEM;
		goto free_matches;
	}
	for (size_t i = 0; i < n; i++) {
		rc = row_to_arena(a, m[off + i].row, &items[i]);
		if (rc)
			goto free_matches;
	}
	out->items = items;
	out->n = n;
	out->total = (long long)nm;
free_matches:
	free(m);
	return rc;
}

static int repo_get(void *self, struct arena *a, const char *id,
                    struct product *out)
{
	struct fake_catalog *f = self;
	const struct fake_row *r;
	int rc = enter(f, FAKE_REPO_GET);

	if (rc)
		return rc;
	if (!shop_uuid_valid(id))
		BUG("fake repo get: '%s' is not a uuid", id);
	r = find_row(f, id);
	if (!r)
		return SHOP_ENOTFOUND;
	return row_to_arena(a, r, out);
}

static int cmp_category(const void *x, const void *y)
{
	const struct category *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c ? c : strcmp(a->slug, b->slug);
}

static int repo_categories(void *self, struct arena *a,
                           struct category_list *out)
{
	struct fake_catalog *f = self;
	struct category *items;
	size_t n = f->ncategories;
	int rc = enter(f, FAKE_REPO_CATEGORIES);

	if (rc)
		return rc;
	items = arena_calloc(a, n ? n : 1, sizeof(*items));
	if (!items)
		return SHOP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		items[i].slug = arena_strdup(a, f->categories[i].slug);
		items[i].name = arena_strdup(a, f->categories[i].name);
		if (!items[i].slug || !items[i].name)
			return SHOP_ENOMEM;
		for (size_t j = 0; j < f->nrows; j++) {
			if (strcmp(f->rows[j].category, items[i].slug) == 0)
				items[i].product_count++;
		}
	}
	qsort(items, n, sizeof(*items), cmp_category);
	out->items = items;
	out->n = n;
	return 0;
}

static int repo_category_exists(void *self, const char *slug)
{
	struct fake_catalog *f = self;
	int rc = enter(f, FAKE_REPO_CATEGORY_EXISTS);

	if (rc)
		return rc;
	return category_known(f, slug) ? 1 : 0;
}

static int repo_create(void *self, struct arena *a,
                       const struct product_fields *fields, struct product *out)
{
	const unsigned all =
	        PRODUCT_F_REQUIRED | PRODUCT_F_CURRENCY | PRODUCT_F_IMAGE_URL;
	struct fake_catalog *f = self;
	struct fake_row row;
	struct product p = {0}, res;
	int rc = enter(f, FAKE_REPO_CREATE);

	if (rc)
		return rc;
	if ((fields->set & all) != all)
		BUG("fake repo create: fields not validated (set %#x)",
		    fields->set);
	if (!category_known(f, fields->category))
		return SHOP_ERR; /* the foreign key would refuse it */
	if (sku_taken(f, fields->sku, NULL))
		return SHOP_ECONFLICT;
	make_id(f, p.id);
	product_apply(&p, fields);
	p.created_at = p.updated_at = stamp(f);
	rc = row_from_product(&row, &p);
	if (rc)
		return rc;
	rc = row_to_arena(a, &row, &res);
	if (rc)
		goto release_row;
	rc = rows_append(f, &row);
	if (rc)
		goto release_row;
	*out = res;
	return 0;
release_row:
	row_release(&row);
	return rc;
}

static int repo_update(void *self, struct arena *a, const char *id,
                       const struct product_fields *fields, struct product *out)
{
	struct fake_catalog *f = self;
	struct fake_row *r, row;
	struct product p, res;
	int rc = enter(f, FAKE_REPO_UPDATE);

	if (rc)
		return rc;
	if (!shop_uuid_valid(id))
		BUG("fake repo update: '%s' is not a uuid", id);
	if (fields->set == 0)
		BUG("fake repo update: nothing to change");
	r = find_row(f, id);
	if (!r)
		return SHOP_ENOTFOUND;
	if ((fields->set & PRODUCT_F_SKU) && sku_taken(f, fields->sku, r))
		return SHOP_ECONFLICT;
	if ((fields->set & PRODUCT_F_CATEGORY) &&
	    !category_known(f, fields->category))
		return SHOP_ERR;
	row_view(r, &p);
	product_apply(&p, fields);
	p.updated_at = stamp(f);
	rc = row_from_product(&row, &p);
	if (rc)
		return rc;
	rc = row_to_arena(a, &row, &res);
	if (rc) {
		row_release(&row);
		return rc;
	}
	row_release(r);
	*r = row;
	*out = res;
	return 0;
}

static int repo_remove(void *self, const char *id)
{
	struct fake_catalog *f = self;
	struct fake_row *r;
	size_t i;
	int rc = enter(f, FAKE_REPO_REMOVE);

	if (rc)
		return rc;
	if (!shop_uuid_valid(id))
		BUG("fake repo remove: '%s' is not a uuid", id);
	r = find_row(f, id);
	if (!r)
		return SHOP_ENOTFOUND;
	i = (size_t)(r - f->rows);
	row_release(r);
	memmove(&f->rows[i], &f->rows[i + 1],
	        (f->nrows - i - 1) * sizeof(*f->rows));
	f->nrows--;
	return 0;
}

static const struct product_repo_ops fake_repo_ops = {
        .list = repo_list,
        .get = repo_get,
        .categories = repo_categories,
        .category_exists = repo_category_exists,
        .create = repo_create,
        .update = repo_update,
        .remove = repo_remove,
};

/* ---- the cache ---- */

static struct fake_cache_entry *find_entry(const struct fake_catalog *f,
                                           const char *key)
{
	for (size_t i = 0; i < f->nentries; i++) {
		if (strcmp(f->entries[i].key, key) == 0)
			return &f->entries[i];
	}
	return NULL;
}

/* Stores p (or a deletion marker when p is NULL) under key, replacing any
 * entry. Returns 0 or SHOP_ENOMEM. */
static int cache_store(struct fake_catalog *f, const char *key,
                       const struct product *p)
{
	struct fake_cache_entry *e = find_entry(f, key), n = {0};
	int rc;

	if (p) {
		rc = row_from_product(&n.row, p);
		if (rc)
			return rc;
	}
	n.gone = !p;
	if (e) {
		row_release(&e->row);
		e->row = n.row;
		e->gone = n.gone;
		return 0;
	}
	n.key = strdup(key);
	if (!n.key) {
		rc = SHOP_ENOMEM;
		goto release_row;
	}
	e = grow(f->entries, &f->entries_cap, f->nentries + 1, sizeof(*e));
	if (!e) {
		rc = SHOP_ENOMEM;
		goto free_key;
	}
	f->entries = e;
	f->entries[f->nentries++] = n;
	return 0;
free_key:
	free(n.key);
release_row:
	row_release(&n.row);
	return rc;
}

static int cache_get(void *self, struct arena *a, const char *id,
                     struct product *out, bool *gone)
{
	struct fake_catalog *f = self;
	const struct fake_cache_entry *e;
	int rc = enter(f, FAKE_CACHE_GET);

	if (rc)
		return rc;
	e = find_entry(f, id);
	if (!e)
		return SHOP_ENOTFOUND;
	if (e->gone) {
		*gone = true;
		return 0;
	}
	rc = row_to_arena(a, &e->row, out);
	if (rc == 0)
		*gone = false;
	return rc;
}

static int cache_put_if_absent(void *self, const struct product *p)
{
	struct fake_catalog *f = self;
	int rc = enter(f, FAKE_CACHE_PUT_IF_ABSENT);

	if (rc)
		return rc;
	if (find_entry(f, p->id))
		return 0;
	return cache_store(f, p->id, p);
}

static int cache_put(void *self, const struct product *p)
{
	struct fake_catalog *f = self;
	int rc = enter(f, FAKE_CACHE_PUT);

	if (rc)
		return rc;
	return cache_store(f, p->id, p);
}

static int cache_mark_deleted(void *self, const char *id)
{
	struct fake_catalog *f = self;
	int rc = enter(f, FAKE_CACHE_MARK_DELETED);

	if (rc)
		return rc;
	return cache_store(f, id, NULL);
}

static void cached_categories_drop(struct fake_catalog *f)
{
	for (size_t i = 0; i < f->ncached_categories; i++) {
		free(f->cached_categories[i].slug);
		free(f->cached_categories[i].name);
	}
	free(f->cached_categories);
	f->cached_categories = NULL;
	f->ncached_categories = 0;
	f->categories_cached = false;
}

static int cache_get_categories(void *self, struct arena *a,
                                struct category_list *out)
{
	struct fake_catalog *f = self;
	struct category *items;
	size_t n = f->ncached_categories;
	int rc = enter(f, FAKE_CACHE_GET_CATEGORIES);

	if (rc)
		return rc;
	if (!f->categories_cached)
		return SHOP_ENOTFOUND;
	items = arena_calloc(a, n ? n : 1, sizeof(*items));
	if (!items)
		return SHOP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		items[i].slug = arena_strdup(a, f->cached_categories[i].slug);
		items[i].name = arena_strdup(a, f->cached_categories[i].name);
		if (!items[i].slug || !items[i].name)
			return SHOP_ENOMEM;
		items[i].product_count = f->cached_categories[i].product_count;
	}
	out->items = items;
	out->n = n;
	return 0;
}

static int cache_put_categories(void *self, const struct category_list *l)
{
	struct fake_catalog *f = self;
	struct fake_category *copy;
	int rc = enter(f, FAKE_CACHE_PUT_CATEGORIES);

	if (rc)
		return rc;
	copy = calloc(l->n ? l->n : 1, sizeof(*copy));
	if (!copy)
		return SHOP_ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		copy[i].slug = strdup(l->items[i].slug);
		copy[i].name = strdup(l->items[i].name);
		copy[i].product_count = l->items[i].product_count;
		if (!copy[i].slug || !copy[i].name) {
			for (size_t j = 0; j <= i; j++) {
				free(copy[j].slug);
				free(copy[j].name);
			}
			free(copy);
			return SHOP_ENOMEM;
		}
	}
	cached_categories_drop(f);
	f->cached_categories = copy;
	f->ncached_categories = l->n;
	f->categories_cached = true;
	return 0;
}

static int cache_invalidate_categories(void *self)
{
	struct fake_catalog *f = self;
	int rc = enter(f, FAKE_CACHE_INVALIDATE_CATEGORIES);

	if (rc)
		return rc;
	cached_categories_drop(f);
	return 0;
}

static const struct product_cache_ops fake_cache_ops = {
        .get = cache_get,
        .put_if_absent = cache_put_if_absent,
        .put = cache_put,
        .mark_deleted = cache_mark_deleted,
        .get_categories = cache_get_categories,
        .put_categories = cache_put_categories,
        .invalidate_categories = cache_invalidate_categories,
};

/* ---- lifecycle, seeding, inspection ---- */

struct fake_catalog *fake_catalog_new(void)
{
	struct fake_catalog *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->now = FAKE_EPOCH;
	return f;
}

void fake_catalog_free(struct fake_catalog *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->ncategories; i++) {
		free(f->categories[i].slug);
		free(f->categories[i].name);
	}
	free(f->categories);
	for (size_t i = 0; i < f->nrows; i++)
		row_release(&f->rows[i]);
	free(f->rows);
	for (size_t i = 0; i < f->nentries; i++) {
		free(f->entries[i].key);
		row_release(&f->entries[i].row);
	}
	free(f->entries);
	cached_categories_drop(f);
	free(f);
}

struct product_repo fake_catalog_repo(struct fake_catalog *f)
{
	struct product_repo r = {&fake_repo_ops, f};

	return r;
}

struct product_cache fake_catalog_cache(struct fake_catalog *f)
{
	struct product_cache c = {&fake_cache_ops, f};

	return c;
}

int fake_catalog_add_category(struct fake_catalog *f, const char *slug,
                              const char *name)
{
	struct fake_category c, *cats;

	if (category_known(f, slug))
		return SHOP_ECONFLICT;
	cats = grow(f->categories, &f->categories_cap, f->ncategories + 1,
	            sizeof(*cats));
	if (!cats)
		return SHOP_ENOMEM;
	f->categories = cats;
	c.slug = strdup(slug);
	c.name = strdup(name);
	c.product_count = 0;
	if (!c.slug || !c.name) {
		free(c.slug);
		free(c.name);
		return SHOP_ENOMEM;
	}
	f->categories[f->ncategories++] = c;
	return 0;
}

int fake_catalog_add_product(struct fake_catalog *f, struct product *p)
{
	struct product s = *p;
	struct fake_row row;
	int rc;

	if (s.id[0] == '\0')
		make_id(f, s.id);
	else if (!shop_uuid_valid(s.id))
		BUG("fake_catalog_add_product: '%s' is not a uuid", s.id);
	if (s.currency[0] == '\0')
		memcpy(s.currency, PRODUCT_DEFAULT_CURRENCY, 4);
	if (!s.image_url)
		s.image_url = "";
	if (s.created_at == 0)
		s.created_at = stamp(f);
	if (s.updated_at == 0)
		s.updated_at = s.created_at;
	if (find_row(f, s.id) || !s.sku || sku_taken(f, s.sku, NULL))
		return SHOP_ECONFLICT;
	if (!s.category || !category_known(f, s.category))
		return SHOP_EINVAL;
	rc = row_from_product(&row, &s);
	if (rc)
		return rc;
	rc = rows_append(f, &row);
	if (rc) {
		row_release(&row);
		return rc;
	}
	*p = s;
	return 0;
}

int fake_catalog_cache_seed(struct fake_catalog *f, const struct product *p)
{
	return cache_store(f, p->id, p);
}

enum fake_cached fake_catalog_cached(const struct fake_catalog *f,
                                     const char *id)
{
	const struct fake_cache_entry *e = find_entry(f, id);

	if (!e)
		return FAKE_CACHED_NONE;
	return e->gone ? FAKE_CACHED_GONE : FAKE_CACHED_PRODUCT;
}

bool fake_catalog_categories_cached(const struct fake_catalog *f)
{
	return f->categories_cached;
}

static void check_slot(enum fake_catalog_slot slot, int err)
{
	if ((unsigned)slot >= FAKE_SLOT_COUNT)
		BUG("fake catalog: no slot %d", (int)slot);
	if (err > 0)
		BUG("fake catalog: error %d is not a negative shop_err", err);
}

void fake_catalog_fail_next(struct fake_catalog *f, enum fake_catalog_slot slot,
                            int err)
{
	check_slot(slot, err);
	f->fail_next[slot] = err;
}

void fake_catalog_fail_always(struct fake_catalog *f,
                              enum fake_catalog_slot slot, int err)
{
	check_slot(slot, err);
	f->fail_always[slot] = err;
}

unsigned fake_catalog_calls(const struct fake_catalog *f,
                            enum fake_catalog_slot slot)
{
	check_slot(slot, 0);
	return f->calls[slot];
}

unsigned fake_catalog_repo_calls(const struct fake_catalog *f)
{
	unsigned n = 0;

	for (int s = FAKE_REPO_LIST; s <= FAKE_REPO_REMOVE; s++)
		n += f->calls[s];
	return n;
}

unsigned fake_catalog_cache_calls(const struct fake_catalog *f)
{
	unsigned n = 0;

	for (int s = FAKE_CACHE_GET; s < FAKE_SLOT_COUNT; s++)
		n += f->calls[s];
	return n;
}

void fake_catalog_reset_calls(struct fake_catalog *f)
{
	memset(f->calls, 0, sizeof(f->calls));
}
