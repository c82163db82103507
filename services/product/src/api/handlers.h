#ifndef PRODUCT_API_HANDLERS_H
#define PRODUCT_API_HANDLERS_H

#include <stddef.h>

#include "shop/http.h"
#include "../core/catalog.h"

/*
 * The product service's route table. Handlers expect req->app to be the
 * struct catalog the daemon wired (borrowed for the server's lifetime).
 */
extern const struct http_route product_routes[];
extern const size_t product_nroutes;

#endif
