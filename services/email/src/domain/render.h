#ifndef EMAIL_DOMAIN_RENDER_H
#define EMAIL_DOMAIN_RENDER_H

#include <stddef.h>

#include "message.h"

/*
 * The words of each message: its subject and its plain-text body (lines
 * end in "\n"; mime.h turns them into CRLF and quoted-printable). Control
 * characters in what the event carries (names, skus, the reason) are
 * blanked, so an event cannot add lines to a header or fake lines in a
 * body.
 */

struct email_content {
	char *subject; /* UTF-8, one line; malloc'd */
	char *text;    /* UTF-8; malloc'd */
};

/*
 * Renders the message for d, which email_event_validate() accepted.
 * Returns 0 and *out (caller releases with email_content_release()), or
 * -1 when out of memory (out untouched).
 */
int email_render(const struct email_event_data *d, struct email_content *out);

/* Frees both strings. Accepts a released or zeroed struct. */
void email_content_release(struct email_content *c);

/*
 * Writes cents of currency as "EUR 12.34" into out (cap bytes): the code,
 * a space, the whole units, a dot and two digits. Returns 0, or -1 when
 * cents is negative or it does not fit.
 */
int email_format_money(long long cents, const char *currency, char *out,
                       size_t cap);

/* The reason an order failed in plain words ("your card was declined"),
 * or NULL for a code without words (the message then shows the code). */
const char *email_reason_text(const char *code);

/* The first 8 characters of an order id, as subjects show it, into
 * out[9]. */
void email_short_id(const char *id, char out[9]);

#endif
