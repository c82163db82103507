#ifndef PRODUCT_TESTS_FAKE_CATALOG_H
#define PRODUCT_TESTS_FAKE_CATALOG_H

#include <stdbool.h>

#include "../src/core/ports.h"

/*
 * An in-memory stand-in for both of the catalog's ports (core/ports.h), for
 * the unit tests (git's odb/source-inmemory.c). The repository half keeps
 * categories and products in insertion order and answers like the libpq
 * one: every filter and sort of a product_query, pagination and total,
 * unique sku (SHOP_ECONFLICT), SHOP_ENOTFOUND, ids compared without regard
 * to case (a PostgreSQL uuid). The cache half is keyed by the id string
 * exactly as given (a Redis key), keeps deletion markers, and follows the
 * put_if_absent / put / mark_deleted contract.
 *
 * Any slot can be told to fail its next call, or every call, with a given
 * error; a failing call changes nothing and leaves its out-parameters
 * untouched. Every call is counted per slot, failing or not.
 *
 * Times: the fake has a clock that starts at 2026-01-01T00:00:00Z and
 * advances one second for every row it stamps, so "newest" is
 * deterministic. Ids it makes are 00000000-0000-4000-8000-<counter>.
 */
struct fake_catalog;

enum fake_catalog_slot {
	FAKE_REPO_LIST,
	FAKE_REPO_GET,
	FAKE_REPO_CATEGORIES,
	FAKE_REPO_CATEGORY_EXISTS,
	FAKE_REPO_CREATE,
	FAKE_REPO_UPDATE,
	FAKE_REPO_REMOVE,
	FAKE_CACHE_GET,
	FAKE_CACHE_PUT_IF_ABSENT,
	FAKE_CACHE_PUT,
	FAKE_CACHE_MARK_DELETED,
	FAKE_CACHE_GET_CATEGORIES,
	FAKE_CACHE_PUT_CATEGORIES,
	FAKE_CACHE_INVALIDATE_CATEGORIES,
	FAKE_SLOT_COUNT
};

/* What the cache holds for an id (see fake_catalog_cached()). */
enum fake_cached {
	FAKE_CACHED_NONE,
	FAKE_CACHED_PRODUCT,
	FAKE_CACHED_GONE,
};

/* Returns an empty fake, or NULL when out of memory. Caller frees with
 * fake_catalog_free(). */
struct fake_catalog *fake_catalog_new(void);

/* Frees the fake and everything it stores. Accepts NULL. */
void fake_catalog_free(struct fake_catalog *f);

/* The two ports, borrowing f: they must not outlive it. */
struct product_repo fake_catalog_repo(struct fake_catalog *f);
struct product_cache fake_catalog_cache(struct fake_catalog *f);

/* ---- seeding (not counted as calls, never failed) ---- */

/* Adds a category to the repository, copying the strings. Returns 0,
 * SHOP_ECONFLICT when the slug exists, or SHOP_ENOMEM. */
int fake_catalog_add_category(struct fake_catalog *f, const char *slug,
                              const char *name);

/*
 * Adds p to the repository as a stored row, copying its strings. An empty
 * p->id is given a fresh id, an empty currency "USD", a NULL image_url "",
 * a zero created_at / updated_at the fake's clock; those are written back
 * into p. Returns 0, SHOP_ECONFLICT when the id or sku is taken, SHOP_EINVAL
 * when the category does not exist, or SHOP_ENOMEM.
 */
int fake_catalog_add_product(struct fake_catalog *f, struct product *p);

/* Stores p in the cache as it is, replacing any entry (e.g. a stale
 * version). Returns 0 or SHOP_ENOMEM. */
int fake_catalog_cache_seed(struct fake_catalog *f, const struct product *p);

/* What the cache holds under exactly this id. */
enum fake_cached fake_catalog_cached(const struct fake_catalog *f,
                                     const char *id);

/* Whether the category list is cached. */
bool fake_catalog_categories_cached(const struct fake_catalog *f);

/* ---- failures and counters ---- */

/* The next call of slot returns err (a negative shop_err) and does nothing
 * else. */
void fake_catalog_fail_next(struct fake_catalog *f, enum fake_catalog_slot slot,
                            int err);

/* Every call of slot returns err until called again with err 0. */
void fake_catalog_fail_always(struct fake_catalog *f,
                              enum fake_catalog_slot slot, int err);

/* Calls of slot since creation or the last fake_catalog_reset_calls(). */
unsigned fake_catalog_calls(const struct fake_catalog *f,
                            enum fake_catalog_slot slot);

/* Calls of any repository slot / any cache slot. */
unsigned fake_catalog_repo_calls(const struct fake_catalog *f);
unsigned fake_catalog_cache_calls(const struct fake_catalog *f);

/* Sets every counter back to 0. */
void fake_catalog_reset_calls(struct fake_catalog *f);

#endif
