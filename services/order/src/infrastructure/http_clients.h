#ifndef ORDER_INFRA_HTTP_CLIENTS_H
#define ORDER_INFRA_HTTP_CLIENTS_H

#include "shop/httpc.h"
#include "../core/ports.h"

/*
 * The order service's calls at checkout, over the shared HTTP client
 * (timeouts, retries of idempotent calls, a circuit breaker per
 * upstream): the caller's cart from the cart service
 * (GET /internal/carts/{user_id}?prices=stored: the reservation brings
 * the prices) and the stock reservation at the product
 * service (POST /internal/reservations, idempotent by order id, so it is
 * retried too; DELETE /internal/reservations/{order_id}). The clients are
 * borrowed (they carry the internal token) and must outlive the ports.
 * NULL ops when out of memory. Free with the matching _free().
 */
struct cart_source http_cart_source_new(struct httpc *cart);
void http_cart_source_free(struct cart_source s);

struct stock http_stock_new(struct httpc *product);
void http_stock_free(struct stock s);

#endif
