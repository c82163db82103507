#ifndef USER_API_HANDLERS_H
#define USER_API_HANDLERS_H

#include <stddef.h>

#include "shop/http.h"
#include "../core/users.h"

/*
 * What the handlers find in req->app: the use cases and the JWK Set text
 * served at /.well-known/jwks.json. Everything is borrowed for the
 * server's lifetime.
 */
struct user_app {
	struct users *users;
	const char *jwks;
	size_t jwks_len;
};

/* The user service's route table. */
extern const struct http_route user_routes[];
extern const size_t user_nroutes;

/* Creates the service's own metrics series (user_registrations_total,
 * user_logins_total{result}) at zero, so they are exported before the
 * first sign-in. Call once at start-up, before serving. */
void user_api_metrics_init(void);

#endif
