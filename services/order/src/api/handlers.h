#ifndef ORDER_API_HANDLERS_H
#define ORDER_API_HANDLERS_H

#include <stddef.h>

#include "shop/http.h"
#include "../core/orders.h"

/* The order service's route table. Handlers expect req->app to be the
 * struct orders the daemon wired (borrowed for the server's lifetime). */
extern const struct http_route order_routes[];
extern const size_t order_nroutes;

#endif
