#ifndef CART_API_CART_JSON_H
#define CART_API_CART_JSON_H

#include <jansson.h>

#include "shop/field_errors.h"
#include "../domain/cart.h"

/*
 * The API's JSON shapes (API.md "Cart", services/cart/README.md). Each
 * returns a new reference or NULL when out of memory.
 */
json_t *cart_view_to_json(const struct cart_view *v);

/*
 * Reads POST /api/cart/items' body {"product_id", "quantity"} (an object,
 * parsed strictly): unknown, missing and mistyped fields go to errs.
 * *product_id is borrowed from body. Returns 0 or SHOP_EINVAL.
 */
int cart_add_from_json(json_t *body, const char **product_id,
                       long long *quantity, struct field_errors *errs);

/* Reads PUT /api/cart/items/{id}'s body {"quantity"}. Returns 0 or
 * SHOP_EINVAL. */
int cart_set_from_json(json_t *body, long long *quantity,
                       struct field_errors *errs);

#endif
