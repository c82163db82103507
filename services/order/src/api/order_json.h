#ifndef ORDER_API_ORDER_JSON_H
#define ORDER_API_ORDER_JSON_H

#include <jansson.h>

#include "shop/arena.h"
#include "shop/field_errors.h"
#include "../domain/order.h"

/* API.md's Order; a new reference or NULL when out of memory. */
json_t *order_to_json(const struct order *o);
/* {"items": [Order...], "page", "page_size", "total"}. */
json_t *order_page_to_json(const struct order_page *pg, long page,
                           long page_size);

/*
 * Reads POST /api/orders' body (an object, parsed strictly) into r:
 * unknown fields and wrong types are added to errs. Strings are borrowed
 * from body. Returns 0 or SHOP_EINVAL.
 */
int order_request_from_json(json_t *body, struct order_request *r,
                            struct field_errors *errs);

#endif
