#ifndef ORDER_TESTS_FAKE_ORDERS_H
#define ORDER_TESTS_FAKE_ORDERS_H

#include <stdbool.h>

#include "../src/core/ports.h"

/*
 * In-memory stand-ins for the order service's four ports (core/ports.h),
 * for the unit tests (services/cart/tests/fake_cart.h does the same for
 * the cart).
 *
 * The cart source answers one cart (the lines the test put), whoever asks,
 * and remembers the user id it was asked for.
 *
 * The stock knows products the test adds (sku, name, price, currency,
 * stock) and reserves like the product service: every line or nothing,
 * STOCK_UNKNOWN for a product it does not know, STOCK_INSUFFICIENT with
 * what is left; the reservation's names, skus, prices and currency are
 * the products', never the cart's. cancel gives the order id's hold back.
 *
 * The order repository stores orders like the libpq one: (user, key)
 * unique (SHOP_ECONFLICT), newest first, pending -> confirmed / failed
 * only, one outbox event counted per create and per move. A twin can be
 * planted to appear just before the next create (a concurrent request
 * with the same key that was stored first).
 *
 * The id source hands out FAKE_ORDER_ID(1), FAKE_ORDER_ID(2), ...
 *
 * Every slot can be told to fail its next call, or every call, with a
 * given error; a failing call changes nothing.
 */
#define FAKE_ORDERS_T0 ((time_t)1763719323) /* 2025-11-21T10:02:03Z */

enum fake_orders_slot {
	FAKE_CART_GET,
	FAKE_STOCK_RESERVE,
	FAKE_STOCK_CANCEL,
	FAKE_REPO_FIND_BY_KEY,
	FAKE_REPO_CREATE,
	FAKE_REPO_GET,
	FAKE_REPO_LIST,
	FAKE_REPO_APPLY_PAYMENT,
	FAKE_IDS_NEW,
	FAKE_ORDERS_SLOT_COUNT
};

struct fake_orders;

/* Returns an empty fake or NULL; free with fake_orders_free (accepts
 * NULL). */
struct fake_orders *fake_orders_new(void);
void fake_orders_free(struct fake_orders *f);

/* The ports, borrowing f: they must not outlive it. */
struct order_repo fake_orders_repo(struct fake_orders *f);
struct cart_source fake_orders_cart(struct fake_orders *f);
struct stock fake_orders_stock(struct fake_orders *f);
struct id_source fake_orders_ids(struct fake_orders *f);

/* Adds a line to the cart (strings copied). 0 or -1 when full. */
int fake_orders_cart_add(struct fake_orders *f, const char *product_id,
                         const char *name, long long quantity);
/* Empties the cart, as the cart service does on order.created. */
void fake_orders_cart_clear(struct fake_orders *f);
/* The user id the cart was last asked for ("" before). */
const char *fake_orders_cart_user(const struct fake_orders *f);

/* Adds (or replaces) a product the stock knows. 0 or -1 when full. */
int fake_orders_add_product(struct fake_orders *f, const char *id,
                            const char *sku, const char *name,
                            long long price_cents, const char *currency,
                            long long stock);
/* A product's stock now (-1: unknown product). */
long long fake_orders_stock_of(const struct fake_orders *f, const char *id);
/* Whether order_id holds stock now. */
bool fake_orders_holds(const struct fake_orders *f, const char *order_id);
/* The order id of the last reserve / cancel call ("" before). */
const char *fake_orders_last_reserved(const struct fake_orders *f);
const char *fake_orders_last_cancelled(const struct fake_orders *f);

/* The next create with a key first stores, as if a concurrent request
 * had won, an order twin_id of the same user and key (pending, no items)
 * with fingerprint (NULL: the create's own), so that the create itself
 * answers SHOP_ECONFLICT; lookup_err (0: none) then fails the next
 * find_by_key. */
void fake_orders_plant_twin(struct fake_orders *f, const char *twin_id,
                            const char *fingerprint, int lookup_err);

/* Stores an order directly (a copy), as if created earlier, with an
 * optional key and fingerprint. 0 or -1 when full. */
int fake_orders_put(struct fake_orders *f, const struct order *o,
                    const char *key, const char *fingerprint);

/* How many orders are stored. */
size_t fake_orders_count(const struct fake_orders *f);
/* The stored status of an order (-1: no such order). */
int fake_orders_status(const struct fake_orders *f, const char *id);

/* What the last create was given ("" / false before or when NULL). */
const char *fake_orders_last_token(const struct fake_orders *f);
const char *fake_orders_last_key(const struct fake_orders *f);
const char *fake_orders_last_fingerprint(const struct fake_orders *f);
const char *fake_orders_last_request_id(const struct fake_orders *f);

/* Outbox rows written: order.created by create, order.confirmed /
 * order.failed by a move. */
int fake_orders_events(const struct fake_orders *f);

/* What the last list was asked. */
const char *fake_orders_list_user(const struct fake_orders *f);
long fake_orders_list_page(const struct fake_orders *f);
long fake_orders_list_page_size(const struct fake_orders *f);

/* What the last apply_payment was given. */
void *fake_orders_last_tx(const struct fake_orders *f);
int fake_orders_last_move(const struct fake_orders *f); /* status, or -1 */

/* The next call of slot fails with err (0 clears); fail_always: every
 * call until cleared. */
void fake_orders_fail_next(struct fake_orders *f, enum fake_orders_slot slot,
                           int err);
void fake_orders_fail_always(struct fake_orders *f, enum fake_orders_slot slot,
                             int err);

/* Calls of slot so far, failing or not. */
int fake_orders_calls(const struct fake_orders *f, enum fake_orders_slot slot);

/* The n-th id the id source hands out (1-based). */
#define FAKE_ORDER_ID(n) "0000000" #n "-0000-4000-8000-000000000000"

#endif
