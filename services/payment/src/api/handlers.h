#ifndef PAYMENT_API_HANDLERS_H
#define PAYMENT_API_HANDLERS_H

#include <stddef.h>

#include "shop/http.h"
#include "../core/payments.h"

/*
 * The payment service's route table: API.md "Payments", token required.
 * Handlers expect req->app to be the struct payments the daemon wired
 * (borrowed for the server's lifetime).
 */
extern const struct http_route payment_routes[];
extern const size_t payment_nroutes;

#endif
