#ifndef PRODUCT_API_HANDLERS_H
#define PRODUCT_API_HANDLERS_H

#include <stddef.h>

#include "shop/http.h"
#include "../core/catalog.h"
#include "../core/reservations.h"

/* What the handlers serve from (req->app), borrowed for the server's
 * lifetime. */
struct product_app {
	struct catalog *catalog;
	struct reservations *reservations;
};

/* The product service's route table. */
extern const struct http_route product_routes[];
extern const size_t product_nroutes;

#endif
