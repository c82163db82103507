#ifndef CART_TESTS_FAKE_CART_H
#define CART_TESTS_FAKE_CART_H

#include <stdbool.h>

#include "../src/core/ports.h"

/*
 * In-memory stand-ins for the cart's two ports (core/ports.h), for the unit
 * tests (git's odb/source-inmemory.c).
 *
 * The repository keeps carts per user id and answers like the libpq one
 * (migrations/001_carts.sql): lines oldest first, the limits and refusals
 * of add, SHOP_ENOTFOUND from set_quantity for a missing line, and a clock
 * that advances one second per change, starting at FAKE_CART_T0.
 *
 * The catalog holds products the test adds, answers found = false for any
 * other id, and counts its calls and the ids it was asked about.
 *
 * Either port can be told to fail its next call, or every call, with a
 * given error; a failing call changes nothing and leaves its
 * out-parameters untouched.
 */
#define FAKE_CART_T0 ((time_t)1763719323) /* 2025-11-21T10:02:03Z */

struct fake_cart;

enum fake_cart_slot {
	FAKE_REPO_LOAD,
	FAKE_REPO_ADD,
	FAKE_REPO_SET,
	FAKE_REPO_CLEAR,
	FAKE_CATALOG_LOOKUP,
	FAKE_REPO_TAKE_ORDERED,
	FAKE_SLOT_COUNT
};

/* Returns an empty fake or NULL; free with fake_cart_free (accepts NULL). */
struct fake_cart *fake_cart_new(void);
void fake_cart_free(struct fake_cart *f);

/* The ports, borrowing f: they must not outlive it. */
struct cart_repo fake_cart_repo(struct fake_cart *f);
struct product_catalog fake_cart_catalog(struct fake_cart *f);

/* Adds (or replaces) a product the catalog knows; strings are copied.
 * Returns 0 or -1 when full. */
int fake_cart_add_product(struct fake_cart *f, const char *id, const char *sku,
                          const char *name, long long price_cents,
                          const char *currency, long long stock);

/* Forgets a product (it was deleted at the product service). */
void fake_cart_remove_product(struct fake_cart *f, const char *id);

/* The next call of slot fails with err (0 clears); fail_always: every
 * call until cleared. */
void fake_cart_fail_next(struct fake_cart *f, enum fake_cart_slot slot,
                         int err);
void fake_cart_fail_always(struct fake_cart *f, enum fake_cart_slot slot,
                           int err);

/* Calls of slot so far, failing or not. */
int fake_cart_calls(const struct fake_cart *f, enum fake_cart_slot slot);

/* How many ids the last lookup asked about. */
size_t fake_cart_last_lookup_n(const struct fake_cart *f);

/* The stored quantity of user's line of product (0: no line). */
int fake_cart_quantity(const struct fake_cart *f, const char *user,
                       const char *product);

/* Stores a line directly (as if added earlier), snapshot included. */
int fake_cart_put_line(struct fake_cart *f, const char *user,
                       const struct cart_line *line);

/*
 * What the last take_ordered was given: the transaction, the user and n
 * lines (product ids copied, at most 8 kept). take_ordered itself answers
 * like cart_take_ordered (migrations/002_ordered.sql): quantities of one
 * product summed, subtracted from the user's line, lines reaching 0
 * removed, *changed the lines changed or removed.
 */
void *fake_cart_take_tx(const struct fake_cart *f);
const char *fake_cart_take_user(const struct fake_cart *f);
size_t fake_cart_take_n(const struct fake_cart *f);
const char *fake_cart_take_product(const struct fake_cart *f, size_t i);
long long fake_cart_take_quantity(const struct fake_cart *f, size_t i);

#endif
