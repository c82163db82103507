#ifndef CART_DOMAIN_CART_H
#define CART_DOMAIN_CART_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "shop/field_errors.h"

/*
 * A shopper's cart and its rules. Plain C, no I/O: strings are borrowed
 * from whoever filled the structs (a request arena, a fake).
 *
 * The price rule (README.md "Prices"): a line keeps the product's sku,
 * name, price and currency as they were when it was last added or changed
 * (the snapshot), and a read shows the product's current values, looked up
 * at the product service. The snapshot is what the read falls back to when
 * the product service cannot be reached, so the shopper still sees the
 * cart, marked "prices": "stored".
 */

#define CART_QTY_MIN          1
#define CART_QTY_MAX          99
#define CART_MAX_LINES        100   /* distinct products in one cart */
#define CART_CURRENCY_DEFAULT "USD" /* of an empty cart */

/* What the product service says about one product. */
struct cart_product {
	char id[37];
	bool found; /* false: no such product (any more) */
	const char *sku;
	const char *name;
	long long price_cents;
	char currency[4];
	long long stock; /* what can still be bought */
};

/* One stored line: the product, its quantity and its snapshot. */
struct cart_line {
	char product_id[37];
	int quantity;
	const char *sku;             /* snapshot */
	const char *name;            /* snapshot */
	long long added_price_cents; /* snapshot: the price when added */
	char currency[4];            /* snapshot */
};

/* A cart as stored: its lines, oldest first, and when it last changed
 * (0 when the user never had one). */
struct cart_stored {
	struct cart_line *lines;
	size_t n;
	time_t updated_at;
};

/* One line as shown. */
struct cart_view_line {
	const struct cart_line *line;
	const char *sku;            /* current when known, else snapshot */
	const char *name;           /* current when known, else snapshot */
	long long unit_price_cents; /* current when known, else snapshot */
	long long line_total_cents; /* unit price x quantity; 0 when the
	                               product is gone */
	bool available;             /* false: the product no longer exists
	                               (left out of the totals) */
};

/* A cart as shown. */
struct cart_view {
	struct cart_view_line *lines;
	size_t n;
	long long item_count;  /* sum of the quantities of available lines */
	long long total_cents; /* sum of their line totals */
	char currency[4];
	time_t updated_at;   /* 0: never */
	bool prices_current; /* false: the product service could not be
	                        reached; every line shows its snapshot */
};

/* A quantity a client asks to add (1..99). Adds an error on `field`. */
int cart_quantity_validate(long long q, const char *field,
                           struct field_errors *errs);

/* A quantity a client sets a line to (0..99; 0 removes the line). */
int cart_set_quantity_validate(long long q, const char *field,
                               struct field_errors *errs);

/* Lower-cases a product id (a UUID, checked by the caller) into out: ids
 * are compared as strings, and PostgreSQL writes uuids lower-case. */
void cart_product_id_normalize(const char *in, char out[37]);

/*
 * The largest quantity a line of p may hold: the smaller of CART_QTY_MAX
 * and p's stock (0 when out of stock).
 */
int cart_line_max_quantity(const struct cart_product *p);

/* The currency of a cart: its first line's, or CART_CURRENCY_DEFAULT. */
const char *cart_currency(const struct cart_stored *c);

/*
 * Builds the view of c into v (lines from `lines`, room for c->n). When
 * products is NULL (the product service could not be reached) every line
 * shows its snapshot and v->prices_current is false; otherwise products
 * holds nproducts answers and a line whose product is missing from them
 * also shows its snapshot (it was added meanwhile), while a line whose
 * product answered found = false, or is now priced in another currency
 * than the cart's, is shown unavailable (with its snapshot) and left out of
 * the totals. Totals cannot overflow: at most 100 lines of 99 x 10^8 cents.
 */
void cart_view_build(const struct cart_stored *c,
                     const struct cart_product *products, size_t nproducts,
                     struct cart_view_line *lines, struct cart_view *v);

#endif
