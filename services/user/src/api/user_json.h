#ifndef USER_API_USER_JSON_H
#define USER_API_USER_JSON_H

#include <jansson.h>

#include "shop/field_errors.h"
#include "../core/users.h"

/* The API's JSON shapes (API.md "Auth and users"). Each returns a new
 * reference or NULL when out of memory. */

/* {"id","email","name","role","created_at"} */
json_t *user_to_json(const struct user *u);

/* {"user", "access_token", "token_type": "Bearer", "expires_in"} */
json_t *user_session_to_json(const struct user_session *s);

/*
 * Read a request body (an object, already parsed strictly): unknown
 * fields, wrong types and missing required fields are added to errs, all
 * at once. Strings are borrowed from body. Each returns 0 or SHOP_EINVAL.
 */
int user_registration_from_json(json_t *body, struct user_registration *out,
                                struct field_errors *errs);
int user_login_from_json(json_t *body, const char **email,
                         const char **password, struct field_errors *errs);
int user_patch_from_json(json_t *body, struct user_patch *out,
                         struct field_errors *errs);

#endif
