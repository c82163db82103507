#ifndef CART_CORE_PORTS_H
#define CART_CORE_PORTS_H

#include <stddef.h>

#include "shop/arena.h"
#include "../domain/cart.h"

/*
 * What the cart's use cases need from the outside world: the carts in
 * PostgreSQL (infrastructure/pg_cart_repo) and the product service over
 * HTTP (infrastructure/http_product_catalog); in-memory fakes in the unit
 * tests (tests/fake_cart.h). Every string a slot returns is allocated from
 * the arena it is given; strings a slot takes are borrowed for the call.
 * Every slot returns 0 or a negative shop_err: SHOP_EUNAVAIL /
 * SHOP_ETIMEDOUT when what is behind it is down or too slow, SHOP_ENOMEM,
 * SHOP_ERR otherwise, plus the codes each slot lists.
 */

/* Where a request came from, passed on to the product service. */
struct cart_trace {
	const char *request_id;  /* may be NULL */
	const char *traceparent; /* may be NULL */
};

/* Why cart_repo.add refused (beside enum shop_err, which ends at -9). */
enum {
	CART_EQUANTITY = -110, /* the line would exceed max_quantity */
	CART_ELINES = -111,    /* a new line would exceed max_lines */
	CART_ECURRENCY = -112, /* the cart's other lines are in another
	                          currency */
};

struct cart_repo_ops {
	/* The stored cart of user_id (a UUID): n = 0 and updated_at = 0
	 * when the user never had one. */
	int (*load)(void *self, struct arena *a, const char *user_id,
	            struct cart_stored *out);
	/*
	 * In one transaction that serializes the user's cart changes: adds
	 * line->quantity to the user's line of line->product_id (creating
	 * the cart and the line), refreshes that line's snapshot (sku,
	 * name, added_price_cents, currency) from `line`, bumps
	 * updated_at, and returns the stored cart after the change in out.
	 * Refuses, changing nothing, with CART_EQUANTITY when the line's
	 * quantity would exceed max_quantity (*current is then the line's
	 * quantity now, 0 when none), with CART_ELINES when the product
	 * has no line yet and the cart already holds max_lines lines, or
	 * with CART_ECURRENCY when another line of the cart has another
	 * currency than line->currency.
	 */
	int (*add)(void *self, struct arena *a, const char *user_id,
	           const struct cart_line *line, int max_quantity,
	           int max_lines, int *current, struct cart_stored *out);
	/*
	 * Sets the quantity of the user's existing line of product_id
	 * (1..99; 0 deletes the line), refreshes its snapshot from
	 * `snapshot` when not NULL, bumps updated_at, and returns the
	 * stored cart after the change. SHOP_ENOTFOUND when the cart holds
	 * no such line, CART_ECURRENCY when the snapshot's currency is not
	 * that of the cart's other lines (nothing changes).
	 */
	int (*set_quantity)(void *self, struct arena *a, const char *user_id,
	                    const char *product_id, int quantity,
	                    const struct cart_line *snapshot,
	                    struct cart_stored *out);
	/* Empties the user's cart (bumping updated_at when it had lines). */
	int (*clear)(void *self, const char *user_id);
	/*
	 * Inside the caller's transaction tx (an event consumer's): takes
	 * what an order took out of the user's cart, quantities[i] of
	 * product_ids[i] (lines reaching 0 go). *changed: lines changed.
	 */
	int (*take_ordered)(void *self, void *tx, const char *user_id,
	                    const char *const *product_ids,
	                    const long long *quantities, size_t n,
	                    int *changed);
};

struct cart_repo {
	const struct cart_repo_ops *ops;
	void *self;
};

struct product_catalog_ops {
	/*
	 * Looks up n products (1..CART_MAX_LINES + 1 lower-case UUIDs,
	 * distinct) and fills out[0..n-1] in the same order: found = false
	 * for a product that does not exist. SHOP_EUNAVAIL /
	 * SHOP_ETIMEDOUT when the product service cannot answer (down,
	 * slow, its breaker open) or gives an answer that makes no sense
	 * (logged): either way the cart cannot check a product.
	 */
	int (*lookup)(void *self, struct arena *a, const struct cart_trace *t,
	              const char *const *ids, size_t n,
	              struct cart_product *out);
};

struct product_catalog {
	const struct product_catalog_ops *ops;
	void *self;
};

#endif
