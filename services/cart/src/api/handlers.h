#ifndef CART_API_HANDLERS_H
#define CART_API_HANDLERS_H

#include <stddef.h>

#include "shop/http.h"
#include "../core/carts.h"

/*
 * The cart service's route table: the public routes of API.md "Cart"
 * (token required) and GET /internal/carts/{user_id} for the order service
 * (internal token). Handlers expect req->app to be the struct carts the
 * daemon wired (borrowed for the server's lifetime).
 */
extern const struct http_route cart_routes[];
extern const size_t cart_nroutes;

#endif
