#include "catalog.h"

#include <ctype.h>

#include "shop/error.h"
#include "shop/util.h"

void catalog_init(struct catalog *c, struct product_repo repo,
                  struct product_cache cache)
{
	c->repo = repo;
	c->cache = cache;
}

/*
 * Writes id in lowercase into out: the repository compares UUIDs in any
 * case, but the cache is keyed by the string, so one product must have one
 * spelling or a delete through "ABC..." leaves "abc..." cached. Returns
 * false when id is not a UUID.
 */
static bool canonical_id(const char *id, char out[SHOP_UUID_LEN + 1])
{
	if (!shop_uuid_valid(id))
		return false;
	for (int i = 0; i <= SHOP_UUID_LEN; i++)
		out[i] = (char)tolower((unsigned char)id[i]);
	return true;
}

int catalog_list(struct catalog *c, struct arena *a, struct product_query *q,
                 struct field_errors *errs, struct product_page *out)
{
	int rc = product_query_validate(q, errs);

	if (rc)
		return rc;
	if (q->category) {
		rc = c->repo.ops->category_exists(c->repo.self, q->category);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			field_errors_add(errs, "category", "unknown category");
			return SHOP_EINVAL;
		}
	}
	return c->repo.ops->list(c->repo.self, a, q, out);
}

int catalog_get(struct catalog *c, struct arena *a, const char *id,
                struct product *out)
{
	char key[SHOP_UUID_LEN + 1];
	bool gone = false;
	int rc;

	if (!canonical_id(id, key))
		return SHOP_ENOTFOUND;
	id = key;
	if (c->cache.ops) {
		rc = c->cache.ops->get(c->cache.self, a, id, out, &gone);
		if (rc == 0)
			return gone ? SHOP_ENOTFOUND : 0;
		/* A miss or a cache failure: the repository answers. */
	}
	rc = c->repo.ops->get(c->repo.self, a, id, out);
	if (rc == 0 && c->cache.ops)
		c->cache.ops->put_if_absent(c->cache.self, out);
	return rc;
}

int catalog_get_many(struct catalog *c, struct arena *a, const char *const *ids,
                     size_t n, struct product *out, bool *found)
{
	for (size_t i = 0; i < n; i++) {
		int rc = catalog_get(c, a, ids[i], &out[i]);

		if (rc && rc != SHOP_ENOTFOUND)
			return rc;
		found[i] = rc == 0;
	}
	return 0;
}

int catalog_categories(struct catalog *c, struct arena *a,
                       struct category_list *out)
{
	int rc;

	if (c->cache.ops &&
	    c->cache.ops->get_categories(c->cache.self, a, out) == 0)
		return 0;
	rc = c->repo.ops->categories(c->repo.self, a, out);
	if (rc == 0 && c->cache.ops)
		c->cache.ops->put_categories(c->cache.self, out);
	return rc;
}

/* Checks that a given category exists; adds the field error when not. */
static int check_category(struct catalog *c, const struct product_fields *f,
                          struct field_errors *errs)
{
	int rc;

	if (!(f->set & PRODUCT_F_CATEGORY))
		return 0;
	rc = c->repo.ops->category_exists(c->repo.self, f->category);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		field_errors_add(errs, "category", "unknown category");
		return SHOP_EINVAL;
	}
	return 0;
}

static void after_write(struct catalog *c, const struct product *p)
{
	if (!c->cache.ops)
		return;
	c->cache.ops->put(c->cache.self, p);
	c->cache.ops->invalidate_categories(c->cache.self);
}

int catalog_create(struct catalog *c, struct arena *a, struct product_fields *f,
                   struct field_errors *errs, struct product *out)
{
	int rc = product_fields_validate(f, true, errs);

	if (rc)
		return rc;
	rc = check_category(c, f, errs);
	if (rc)
		return rc;
	rc = c->repo.ops->create(c->repo.self, a, f, out);
	if (rc == 0)
		after_write(c, out);
	return rc;
}

int catalog_patch(struct catalog *c, struct arena *a, const char *id,
                  struct product_fields *f, struct field_errors *errs,
                  struct product *out)
{
	char key[SHOP_UUID_LEN + 1];
	int rc;

	if (!canonical_id(id, key))
		return SHOP_ENOTFOUND;
	id = key;
	rc = product_fields_validate(f, false, errs);
	if (rc)
		return rc;
	rc = check_category(c, f, errs);
	if (rc)
		return rc;
	rc = c->repo.ops->update(c->repo.self, a, id, f, out);
	if (rc == 0)
		after_write(c, out);
	return rc;
}

int catalog_delete(struct catalog *c, const char *id)
{
	char key[SHOP_UUID_LEN + 1];
	int rc;

	if (!canonical_id(id, key))
		return SHOP_ENOTFOUND;
	id = key;
	rc = c->repo.ops->remove(c->repo.self, id);
	if (rc == 0 && c->cache.ops) {
		c->cache.ops->mark_deleted(c->cache.self, id);
		c->cache.ops->invalidate_categories(c->cache.self);
	}
	return rc;
}
