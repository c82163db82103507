#ifndef CART_CORE_CARTS_H
#define CART_CORE_CARTS_H

#include "ports.h"

/*
 * The cart's use cases. The user id always comes from the verified token
 * (or, on the internal route, from the order service), never from a
 * request body, so one user's call cannot reach another's cart.
 *
 * Each takes the request's arena for what it returns and answers 0 or a
 * negative shop_err:
 *   SHOP_EINVAL      a field is invalid (errors added to errs)
 *   SHOP_ENOTFOUND   no such product (or it is gone)
 *   CART_ENOLINE     the cart holds no line of that product
 *   SHOP_ECONFLICT   the change is refused; *conflict says why
 *   CART_EPRODUCTS   a change needs the product service, and it cannot
 *                    answer (down, too slow, its circuit open)
 *   SHOP_EUNAVAIL / SHOP_ETIMEDOUT   the database is down or too slow
 *   SHOP_ENOMEM, SHOP_ERR
 * A read never fails because of the product service: it shows the stored
 * lines instead (view->prices_current = false).
 */
enum {
	CART_ENOLINE = -120,
	CART_EPRODUCTS = -121,
};

enum cart_conflict_kind {
	CART_CONFLICT_STOCK,    /* more than the product has in stock */
	CART_CONFLICT_QUANTITY, /* the line would pass CART_QTY_MAX */
	CART_CONFLICT_LINES,    /* a new line would pass CART_MAX_LINES */
	CART_CONFLICT_CURRENCY, /* the cart is in another currency */
};

struct cart_conflict {
	enum cart_conflict_kind kind;
	char product_id[37];
	const char *product_name; /* arena; "" when unknown */
	long long stock;          /* STOCK: what can still be bought */
	int in_cart;              /* the line's quantity now (0: none) */
	char currency[4];         /* CURRENCY: the cart's */
};

struct carts {
	struct cart_repo repo;
	struct product_catalog catalog;
};

/* The ports are borrowed: they must outlive c. */
void carts_init(struct carts *c, struct cart_repo repo,
                struct product_catalog catalog);

/* The user's cart as shown: an empty one when the user never had one. */
int carts_get(struct carts *c, struct arena *a, const struct cart_trace *t,
              const char *user_id, struct cart_view *out);

/*
 * Adds quantity (1..99) of product_id (a UUID, any case) to the user's
 * cart, merging with its line: the product must exist (SHOP_ENOTFOUND)
 * and the line may not pass its stock or CART_QTY_MAX (SHOP_ECONFLICT).
 * A product_id that is not a UUID is SHOP_EINVAL on `product_id`.
 */
int carts_add(struct carts *c, struct arena *a, const struct cart_trace *t,
              const char *user_id, const char *product_id, long long quantity,
              struct field_errors *errs, struct cart_conflict *conflict,
              struct cart_view *out);

/*
 * Sets the quantity (0..99) of the user's line of product_id; 0 removes
 * it (without asking the product service). A product_id that is not a
 * UUID is CART_ENOLINE.
 */
int carts_set_quantity(struct carts *c, struct arena *a,
                       const struct cart_trace *t, const char *user_id,
                       const char *product_id, long long quantity,
                       struct field_errors *errs,
                       struct cart_conflict *conflict, struct cart_view *out);

/* Removes the user's line of product_id: carts_set_quantity(..., 0). */
int carts_remove(struct carts *c, struct arena *a, const struct cart_trace *t,
                 const char *user_id, const char *product_id,
                 struct cart_view *out);

/*
 * The user's cart as stored, without asking the product service: each
 * line's snapshot ("prices": "stored"). For the order service at
 * checkout, which takes its prices from the stock reservation anyway.
 */
int carts_get_stored(struct carts *c, struct arena *a, const char *user_id,
                     struct cart_view *out);

/* Empties the user's cart (a cart that is already empty stays so). */
int carts_clear(struct carts *c, const char *user_id);

/* One line of an order, as order.created reports it. */
struct cart_ordered_line {
	const char *product_id;
	long long quantity;
};

/*
 * order.created, inside the consumer's transaction tx: what the order
 * took leaves the user's cart (services/cart/README.md "Checkout").
 * SHOP_EINVAL (the event is poison) for a user or product id that is not
 * a UUID, a quantity out of 1..1000000, or more than 1000 lines.
 */
int carts_on_order_created(struct carts *c, void *tx, struct arena *a,
                           const char *user_id,
                           const struct cart_ordered_line *lines, size_t n,
                           int *changed);

#endif
