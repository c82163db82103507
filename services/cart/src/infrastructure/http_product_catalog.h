#ifndef CART_INFRA_HTTP_PRODUCT_CATALOG_H
#define CART_INFRA_HTTP_PRODUCT_CATALOG_H

#include "shop/httpc.h"
#include "../core/ports.h"

/*
 * The product catalog port over HTTP: GET /internal/products?ids=... on the
 * product service (its internal batch lookup, with the fleet's internal
 * token), through a shop_httpc client that brings the timeouts, the
 * retries (the call is a GET) and the circuit breaker. The client is
 * borrowed and must outlive the catalog. Returns a catalog with NULL ops
 * when out of memory.
 */
struct product_catalog http_product_catalog_new(struct httpc *client);

/* Accepts a catalog with NULL self. */
void http_product_catalog_free(struct product_catalog catalog);

#endif
