#ifndef PRODUCT_DOMAIN_RESERVATION_H
#define PRODUCT_DOMAIN_RESERVATION_H

#include <stddef.h>
#include <time.h>

#include "shop/field_errors.h"

/*
 * Stock reservations: at checkout the order service reserves every line
 * of an order at once, keyed by the order id (README.md "Reservations").
 * Plain C, no I/O; strings are borrowed.
 */

#define RESERVATION_LINES_MAX  200
#define RESERVATION_QTY_MAX    1000000
#define RESERVATION_HOLD_MIN_S 1
#define RESERVATION_HOLD_MAX_S 86400

enum reservation_status {
	RESERVATION_HELD,
	RESERVATION_COMMITTED,
	RESERVATION_RELEASED,
};

/* "held", "committed", "released". */
const char *reservation_status_name(enum reservation_status s);
/* Parses one of those names. Returns 0 or SHOP_EINVAL. */
int reservation_status_parse(const char *s, enum reservation_status *out);

/* What is asked for one product. */
struct reservation_item {
	const char *product_id;
	long long quantity;
};

/* A reservation request: the order, its items, and for how long (0: the
 * daemon's default). */
struct reservation_request {
	const char *order_id;
	struct reservation_item *items;
	size_t n;
	long long hold_s;
};

/*
 * Checks a request: order_id a UUID, 1 to RESERVATION_LINES_MAX items,
 * each product_id a UUID and named once, each quantity 1 to
 * RESERVATION_QTY_MAX, hold_s 0 or within the bounds. Errors name
 * "order_id", "items", "items[].product_id", "items[].quantity" (once
 * each, whichever items are wrong: the strings stay static) and
 * "hold_seconds". Returns 0 or SHOP_EINVAL.
 */
int reservation_request_validate(const struct reservation_request *r,
                                 struct field_errors *errs);

/* One reserved line, with the price it was reserved at. */
struct reservation_line {
	char product_id[37];
	const char *sku;
	const char *name;
	long long unit_price_cents;
	long long quantity;
};

struct reservation {
	char order_id[37];
	enum reservation_status status;
	char currency[4];
	time_t expires_at;
	struct reservation_line *lines;
	size_t n;
	long long total_cents;
};

/* Sums the lines into total_cents. */
void reservation_total(struct reservation *r);

#endif
