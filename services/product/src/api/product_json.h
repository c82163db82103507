#ifndef PRODUCT_API_PRODUCT_JSON_H
#define PRODUCT_API_PRODUCT_JSON_H

#include <jansson.h>

#include "shop/arena.h"
#include "shop/field_errors.h"
#include "../domain/product.h"
#include "../domain/reservation.h"

/* The API's JSON shapes (API.md "Catalog"). Each returns a new reference
 * or NULL when out of memory. */
json_t *product_to_json(const struct product *p);
/* What the other daemons need of a product (GET /internal/products): id,
 * sku, name, price_cents, currency and stock. */
json_t *product_ref_to_json(const struct product *p);
json_t *product_page_to_json(const struct product_page *pg, long page,
                             long page_size);
json_t *category_list_to_json(const struct category_list *l);

/*
 * Reads a create or patch body (an object, already parsed strictly) into f:
 * unknown fields and wrong types are added to errs. Strings are borrowed
 * from body. Returns 0 or SHOP_EINVAL.
 */
int product_fields_from_json(json_t *body, struct product_fields *f,
                             struct field_errors *errs);

/* {"order_id", "status", "expires_at", "currency", "total_cents",
 * "items": [{"product_id", "sku", "name", "unit_price_cents",
 * "quantity", "line_total_cents"}]}. */
json_t *reservation_to_json(const struct reservation *r);

/*
 * Reads POST /internal/reservations' body into r (items allocated from
 * a, strings borrowed from body). Wrong types and unknown fields are
 * added to errs. Returns 0 or SHOP_EINVAL.
 */
int reservation_request_from_json(json_t *body, struct arena *a,
                                  struct reservation_request *r,
                                  struct field_errors *errs);

#endif
