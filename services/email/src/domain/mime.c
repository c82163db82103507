#include "mime.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "textbuf.h"

/* A header line's limit (RFC 5322 "SHOULD"), and what an encoded word
 * adds to its base64: "=?UTF-8?B?" and "?=". */
#define HEADER_LINE_MAX 78
#define WORD_OVERHEAD   12
#define WORD_BYTES_MAX  48
#define QP_LINE_MAX     76

void email_rfc5322_date(time_t t, char out[40])
{
	static const char days[][4] = {"Sun", "Mon", "Tue", "Wed",
	                               "Thu", "Fri", "Sat"};
	static const char months[][4] = {"Jan", "Feb", "Mar", "Apr",
	                                 "May", "Jun", "Jul", "Aug",
	                                 "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, 40, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	         days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

static void trim_copy(char *dst, size_t cap, const char *s, size_t n)
{
	while (n > 0 && (*s == ' '))
		s++, n--;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int email_sender_parse(const char *from, struct email_sender *out)
{
	struct email_sender s = {{0}, {0}};
	const char *lt, *gt;
	size_t nlen;

	if (!from || has_control(from))
		return -1;
	lt = strchr(from, '<');
	if (!lt) {
		trim_copy(s.address, sizeof(s.address), from, strlen(from));
		if (!email_address_ok(s.address) || strlen(from) > 254)
			return -1;
		*out = s;
		return 0;
	}
	gt = strchr(lt, '>');
	if (!gt || strchr(lt + 1, '<') || gt[1] != '\0' ||
	    (size_t)(gt - lt - 1) > 254)
		return -1;
	trim_copy(s.address, sizeof(s.address), lt + 1, (size_t)(gt - lt - 1));
	if (!email_address_ok(s.address))
		return -1;
	nlen = (size_t)(lt - from);
	while (nlen > 0 && from[nlen - 1] == ' ')
		nlen--;
	while (nlen > 0 && *from == ' ')
		from++, nlen--;
	if (nlen >= 2 && from[0] == '"' && from[nlen - 1] == '"') {
		from++;
		nlen -= 2;
	}
	if (nlen >= sizeof(s.name) || memchr(from, '"', nlen) ||
	    memchr(from, '\\', nlen))
		return -1;
	memcpy(s.name, from, nlen);
	s.name[nlen] = '\0';
	*out = s;
	return 0;
}

static void base64(struct textbuf *b, const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[0] = tab[(v >> 18) & 63];
		out[1] = tab[(v >> 12) & 63];
		out[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[3] = i + 2 < n ? tab[v & 63] : '=';
		textbuf_add(b, out, 4);
	}
}

/* True when s can go into a header as it is: printable ASCII. */
static bool plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Appends s as encoded words, never splitting a UTF-8 sequence, folded
 * with CRLF SP between words so that each line (the first starting at
 * column col) stays within HEADER_LINE_MAX; control characters become
 * spaces first. */
static void encoded_words(struct textbuf *b, const char *s, size_t col)
{
	size_t n = strlen(s), i = 0;
	unsigned char chunk[WORD_BYTES_MAX];

	while (i < n) {
		size_t room =
		        col + WORD_OVERHEAD + 4 < HEADER_LINE_MAX
		                ? (HEADER_LINE_MAX - col - WORD_OVERHEAD) / 4 *
		                          3
		                : 3;
		size_t max = room < WORD_BYTES_MAX ? room : WORD_BYTES_MAX;
		size_t k = n - i < max ? n - i : max;

		if (i + k < n)
			while (k > 1 &&
			       ((unsigned char)s[i + k] & 0xc0) == 0x80)
				k--;
		for (size_t j = 0; j < k; j++) {
			unsigned char c = (unsigned char)s[i + j];
			chunk[j] = c < 0x20 || c == 0x7f ? ' ' : c;
		}
		if (i > 0)
			textbuf_puts(b, "\r\n ");
		textbuf_puts(b, "=?UTF-8?B?");
		base64(b, chunk, k);
		textbuf_puts(b, "?=");
		i += k;
		col = 1;
	}
}

/* An unstructured header value (Subject): as it is when plain ASCII and
 * short enough, else encoded words. */
static void header_text(struct textbuf *b, const char *name, const char *v)
{
	textbuf_printf(b, "%s: ", name);
	if (plain_ascii(v) && strlen(v) + strlen(name) + 2 <= HEADER_LINE_MAX)
		textbuf_puts(b, v);
	else
		encoded_words(b, v, strlen(name) + 2);
	textbuf_puts(b, "\r\n");
}

/* RFC 5322 atext plus space: a display name that needs no quotes. */
static bool plain_phrase(const char *s)
{
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == ' ' ||
		      strchr("!#$%&'*+-/=?^_`{|}~", c)))
			return false;
	}
	return true;
}

static void header_from(struct textbuf *b, const struct email_sender *f)
{
	textbuf_puts(b, "From: ");
	if (f->name[0]) {
		if (plain_phrase(f->name))
			textbuf_puts(b, f->name);
		else if (plain_ascii(f->name))
			textbuf_printf(b, "\"%s\"", f->name); /* no " or \ */
		else
			encoded_words(b, f->name, 6);
		textbuf_printf(b, " <%s>\r\n", f->address);
	} else {
		textbuf_printf(b, "%s\r\n", f->address);
	}
}

/* One body line (n bytes, no line end) in quoted-printable, soft-broken
 * at QP_LINE_MAX, with a leading dot and trailing white space encoded. */
static void qp_line(struct textbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char enc[3];
		size_t w;
		bool literal = (c >= 33 && c <= 126 && c != '=') ||
		               ((c == ' ' || c == '\t') && i + 1 < n);

		if (c == '.' && col == 0)
			literal = false;
		if (literal) {
			enc[0] = (char)c;
			w = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			w = 3;
		}
		/* room for the soft break's "=" unless this ends the line */
		if (col + w > QP_LINE_MAX - (i + 1 < n ? 1 : 0)) {
			textbuf_puts(b, "=\r\n");
			col = 0;
			if (c == '.') {
				enc[0] = '=';
				enc[1] = hex[c >> 4];
				enc[2] = hex[c & 15];
				w = 3;
			}
		}
		textbuf_add(b, enc, w);
		col += w;
	}
	textbuf_puts(b, "\r\n");
}

static void qp_body(struct textbuf *b, const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);

		qp_line(b, text, n);
		text += n + (nl ? 1 : 0);
	}
}

int email_mime_build(const struct email_mime *m, char **out, size_t *len)
{
	struct textbuf b;
	char date[40];
	char *s;

	email_rfc5322_date(m->date, date);
	textbuf_init(&b);
	header_from(&b, m->from);
	textbuf_printf(&b, "To: %s\r\n", m->to);
	header_text(&b, "Subject", m->subject);
	textbuf_printf(&b, "Date: %s\r\n", date);
	textbuf_printf(&b, "Message-ID: %s\r\n", m->message_id);
	textbuf_puts(&b, "MIME-Version: 1.0\r\n"
	                 "Content-Type: text/plain; charset=utf-8\r\n"
	                 "Content-Transfer-Encoding: quoted-printable\r\n"
	                 "Auto-Submitted: auto-generated\r\n"
	                 "\r\n");
	qp_body(&b, m->text);
	s = textbuf_take(&b, len);
	if (!s)
		return -1;
	*out = s;
	return 0;
}
