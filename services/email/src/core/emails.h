#ifndef EMAIL_CORE_EMAILS_H
#define EMAIL_CORE_EMAILS_H

#include <stdbool.h>

#include "shop/field_errors.h"
#include "ports.h"

#define EMAILS_PAGE_MAX      1000000L
#define EMAILS_PAGE_SIZE_MAX 100L
#define EMAILS_PAGE_SIZE_DEF 20L

/* Who asks (from the verified token, never from the request). */
struct email_viewer {
	const char *user_id; /* the token's subject */
	bool is_admin;
};

/*
 * The messages `who` may see, newest first: an admin's list holds
 * everybody's, anyone else's only their own (user_id = subject), so
 * another user's messages are never shown nor counted. order_id (NULL:
 * any) narrows it to one order. Returns 0 and *out; SHOP_EINVAL with
 * errs filled for an order_id that is not a UUID or a page / page_size
 * out of range (1..EMAILS_PAGE_MAX, 1..EMAILS_PAGE_SIZE_MAX); SHOP_EAUTH
 * for a non-admin whose subject is not a user id; or the reader's error.
 */
int emails_list(const struct email_reader *r, struct arena *a,
                const struct email_viewer *who, const char *order_id, long page,
                long page_size, struct field_errors *errs,
                struct email_page *out);

#endif
