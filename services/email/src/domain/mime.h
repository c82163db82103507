#ifndef EMAIL_DOMAIN_MIME_H
#define EMAIL_DOMAIN_MIME_H

#include <stddef.h>
#include <time.h>

/*
 * The bytes handed to SMTP: an RFC 5322 message with CRLF line ends, a
 * plain-text UTF-8 body in quoted-printable (7-bit clean, so any server
 * takes it, and no line starts with a dot), and header values that cannot
 * carry a line break: control characters are blanked, and a value that is
 * not plain ASCII is written as RFC 2047 encoded words
 * (=?UTF-8?B?...?=), folded so that no header line passes 78 characters.
 */

/* The From of the service (EMAIL_FROM), split into its parts. */
struct email_sender {
	char name[128];    /* display name, UTF-8; "" for none */
	char address[255]; /* passes email_address_ok() */
};

/*
 * Parses "addr@host", "Name <addr@host>" or "\"Name\" <addr@host>" into
 * *out. Returns 0, or -1 for anything else (no address, two, control
 * characters, a name over 127 bytes).
 */
int email_sender_parse(const char *from, struct email_sender *out);

/* What one message is made of; every string is borrowed. */
struct email_mime {
	const struct email_sender *from;
	const char *to;         /* passes email_address_ok() */
	const char *subject;    /* UTF-8 */
	const char *message_id; /* "<...>" */
	time_t date;
	const char *text; /* UTF-8 body, lines ending in "\n" */
};

/*
 * Builds the message. Returns 0 with *out (caller frees) and its length in
 * *len, or -1 when out of memory.
 */
int email_mime_build(const struct email_mime *m, char **out, size_t *len);

/* Writes t as an RFC 5322 date in UTC ("Thu, 03 Dec 2026 11:54:21 +0000")
 * into out[40]. */
void email_rfc5322_date(time_t t, char out[40]);

#endif
