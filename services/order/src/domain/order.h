#ifndef ORDER_DOMAIN_ORDER_H
#define ORDER_DOMAIN_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "shop/field_errors.h"

/*
 * Orders and their rules (API.md "Orders"). Plain C, no I/O: strings are
 * borrowed from whoever filled the struct (a request arena, a fake).
 */

#define ORDER_ITEMS_MAX         100
#define ORDER_ADDRESS_NAME_MAX  200
#define ORDER_ADDRESS_LINE_MAX  200
#define ORDER_CITY_MAX          100
#define ORDER_POSTAL_CODE_MAX   20
#define ORDER_KEY_MAX           255
#define ORDER_PAGE_SIZE_MAX     100
#define ORDER_PAGE_SIZE_DEFAULT 20
#define ORDER_REASON_MAX        64

enum order_status {
	ORDER_PENDING,
	ORDER_CONFIRMED,
	ORDER_FAILED,
};

/* "pending", "confirmed", "failed". */
const char *order_status_name(enum order_status s);
int order_status_parse(const char *s, enum order_status *out);

/*
 * The saga's only moves: pending -> confirmed and pending -> failed. A
 * late or duplicate payment result never moves an order backwards or
 * sideways.
 */
bool order_can_move(enum order_status from, enum order_status to);

/* The mock processor's test cards (API.md "Payments"). */
bool order_payment_token_known(const char *token);

struct order_address {
	const char *name;
	const char *line1;
	const char *line2; /* NULL when absent */
	const char *city;
	const char *postal_code;
	const char *country; /* ISO 3166-1 alpha-2, upper case */
};

/* What POST /api/orders asks. */
struct order_request {
	const char *payment_token;
	struct order_address address;
};

/*
 * Checks the request: payment_token one of the known kinds, the address's
 * fields non-empty (after trimming nothing: a field of spaces is empty
 * too), within their lengths, free of control characters, country two
 * upper-case letters. Errors name "payment_token",
 * "shipping_address.<field>". Returns 0 or SHOP_EINVAL.
 */
int order_request_validate(const struct order_request *r,
                           struct field_errors *errs);

/* An Idempotency-Key: 1 to 255 visible ASCII characters. */
bool order_idempotency_key_valid(const char *key);

struct order_item {
	char product_id[37];
	const char *sku;
	const char *name;
	long long unit_price_cents;
	long long quantity;
};

struct order_status_change {
	enum order_status status;
	time_t at;
};

/* The payment's outcome as the order knows it (API.md "payment"). */
struct order_payment {
	bool known;     /* false: "payment": null */
	bool succeeded; /* "succeeded" or "declined" */
	char payment_id[37];
	const char *failure_reason; /* NULL when none */
};

struct order {
	char id[37];
	char user_id[37];
	const char *user_email;
	enum order_status status;
	struct order_item *items;
	size_t nitems;
	long long total_cents;
	char currency[4];
	struct order_address address;
	struct order_payment payment;
	struct order_status_change *history;
	size_t nhistory;
	time_t created_at;
	time_t updated_at;
};

/* Sums the items into total_cents. */
void order_total(struct order *o);

struct order_page {
	struct order *items;
	size_t n;
	long long total;
};

#endif
