#ifndef USER_DOMAIN_USER_H
#define USER_DOMAIN_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "shop/field_errors.h"

/*
 * The user service's entities and their rules (README.md "Rules"). Plain
 * C, no I/O, no allocation: normalized values are written into buffers the
 * caller owns, other strings are borrowed from whoever filled the struct
 * (a request arena, a fake). Field error messages are string literals.
 */

#define USER_EMAIL_MAX       254 /* bytes (the address is ASCII) */
#define USER_EMAIL_LOCAL_MAX 64  /* bytes before the @ */
#define USER_PASSWORD_MIN    8   /* code points */
#define USER_PASSWORD_MAX    128 /* code points */
#define USER_NAME_MAX        100 /* code points, after trimming */
/* Room for a normalized name: USER_NAME_MAX code points of 4 bytes. */
#define USER_NAME_BYTES_MAX (USER_NAME_MAX * 4)

enum user_role {
	USER_ROLE_CUSTOMER = 0,
	USER_ROLE_ADMIN,
};

struct user {
	char id[37];       /* a UUID */
	const char *email; /* normalized: lower-case */
	const char *name;
	enum user_role role;
	time_t created_at;
	time_t updated_at;
};

/* "customer" or "admin". */
const char *user_role_name(enum user_role role);

/* Parses "customer" or "admin". Returns 0 or SHOP_EINVAL. */
int user_role_parse(const char *s, enum user_role *out);

/*
 * Number of code points in the len bytes at s, or -1 when they are not
 * well-formed UTF-8 (overlong forms, surrogates, code points above
 * U+10FFFF, truncated sequences and stray continuation bytes are all
 * refused).
 */
long user_utf8_length(const char *s, size_t len);

/*
 * Checks an email address with a practical syntax (not all of RFC 5322):
 * printable ASCII only, no spaces, exactly one @, a local part of 1 to 64
 * characters from RFC 5322's atext and dots (not first, not last, never
 * two in a row), a domain of at least two dot-separated labels of letters,
 * digits and hyphens (1 to 63 each, no hyphen at either end), 254
 * characters in all. Writes it lower-cased into out. Returns 0, or
 * SHOP_EINVAL with one error for `field` added to errs (out untouched).
 */
int user_email_normalize(const char *email, const char *field,
                         char out[USER_EMAIL_MAX + 1],
                         struct field_errors *errs);

/*
 * Checks a new password: well-formed UTF-8 of USER_PASSWORD_MIN to
 * USER_PASSWORD_MAX code points (bytes do not matter: "é" is one). Any
 * character is allowed. Returns 0, or SHOP_EINVAL with one error for
 * `field` added to errs.
 */
int user_password_validate(const char *password, const char *field,
                           struct field_errors *errs);

/*
 * Checks a display name and writes it into out with leading and trailing
 * white space (ASCII space, tab, CR, LF, VT, FF) removed: well-formed
 * UTF-8, not empty once trimmed, at most USER_NAME_MAX code points, no
 * control characters (U+0000-U+001F, U+007F-U+009F). Returns 0, or
 * SHOP_EINVAL with one error for `field` added to errs (out untouched).
 */
int user_name_normalize(const char *name, const char *field,
                        char out[USER_NAME_BYTES_MAX + 1],
                        struct field_errors *errs);

#endif
