#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../src/domain/mime.h"

/*
 * The RFC 5322 message: its headers, encoded words for non-ASCII
 * subjects and names (and that they decode back), no header injection,
 * quoted-printable lines (length, leading dots, trailing spaces), the
 * From parser and the date.
 */

static int b64val(char c)
{
	const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                  "0123456789+/";
	const char *p = strchr(tab, c);
	return c && p ? (int)(p - tab) : -1;
}

/* Decodes the encoded words of a header value (after "Name: ") up to its
 * end into out. */
static void decode_words(const char *v, char *out, size_t cap)
{
	size_t o = 0;

	while ((v = strstr(v, "=?UTF-8?B?")) != NULL) {
		unsigned acc = 0;
		int bits = 0;

		v += 10;
		for (; *v && *v != '?'; v++) {
			int x = b64val(*v);
			if (x < 0)
				continue; /* '=' padding */
			acc = (acc << 6) | (unsigned)x;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (o + 1 < cap)
					out[o++] = (char)((acc >> bits) & 0xff);
			}
		}
	}
	out[o] = '\0';
}

/* The header block (up to the blank line), NUL-terminated, malloc'd. */
static char *headers_of(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");
	assert_non_null(end);
	return strndup(msg, (size_t)(end - msg) + 2);
}

/* noinline: once inlined at -O3, GCC 12 takes the heap message for the
 * local out (a -Wdangling-pointer false positive) */
__attribute__((noinline)) static char *
build(const char *subject, const char *text, const struct email_sender *from)
{
	struct email_mime m = {
	        .from = from,
	        .to = "buyer@example.com",
	        .subject = subject,
	        .message_id = "<e.order_confirmed@shop.local>",
	        .date = 1796298861, /* 2026-12-03T11:54:21Z */
	        .text = text,
	};
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(email_mime_build(&m, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

static const struct email_sender shop = {"Shop", "no-reply@shop.local"};

static void test_headers(void **state)
{
	char *msg = build("Your order abcdef12 is confirmed", "Hi\n", &shop);

	(void)state;
	assert_non_null(strstr(msg, "From: Shop <no-reply@shop.local>\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: buyer@example.com\r\n"));
	assert_non_null(strstr(msg, "\r\nSubject: Your order abcdef12 is "
	                            "confirmed\r\n"));
	assert_non_null(strstr(msg, "\r\nDate: Thu, 03 Dec 2026 11:54:21 "
	                            "+0000\r\n"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: "
	                            "<e.order_confirmed@shop.local>\r\n"));
	assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(msg, "\r\nContent-Type: text/plain; "
	                            "charset=utf-8\r\n"));
	assert_non_null(strstr(msg, "\r\n\r\nHi\r\n"));
	free(msg);
}

static void test_non_ascii_subject(void **state)
{
	const char *subject = "Welcome to Shop, J\xc3\xbcrgen M\xc3\xbcller "
	                      "\xe2\x98\x95 and a long tail to force a "
	                      "second encoded word here";
	char *msg = build(subject, "x\n", &shop), *h = headers_of(msg);
	char decoded[300];
	const char *s = strstr(h, "Subject: ");

	(void)state;
	assert_non_null(s);
	assert_non_null(strstr(s, "=?UTF-8?B?"));
	/* folded: every header line stays within 78 characters */
	for (const char *line = h; *line;) {
		const char *eol = strstr(line, "\r\n");
		assert_non_null(eol);
		assert_true(eol - line <= 78);
		line = eol + 2;
	}
	/* the words decode back to the subject */
	char *end = strstr(s, "\r\nDate:");
	*end = '\0';
	decode_words(s, decoded, sizeof(decoded));
	assert_string_equal(decoded, subject);
	free(h);
	free(msg);
}

static void test_no_header_injection(void **state)
{
	char *msg, *h;

	(void)state;
	msg = build("Hi\r\nBcc: victim@example.com", "x\n", &shop);
	h = headers_of(msg);
	assert_null(strstr(h, "\r\nBcc:"));
	free(h);
	free(msg);
	msg = build("Hi\nBcc: victim@example.com", "x\n", &shop);
	h = headers_of(msg);
	assert_null(strstr(h, "\nBcc:"));
	free(h);
	free(msg);
}

static void test_quoted_printable(void **state)
{
	char text[400];
	char *msg, *body;

	(void)state;
	memset(text, 'a', 200);
	strcpy(text + 200, "\n.hidden dot\ntrailing space \nx=y \xc3\xbc\n");
	msg = build("s", text, &shop);
	body = strstr(msg, "\r\n\r\n") + 4;
	for (const char *line = body; *line;) {
		const char *eol = strstr(line, "\r\n");
		assert_non_null(eol);
		assert_true(eol - line <= 76);
		assert_true(line[0] != '.');
		line = eol + 2;
	}
	assert_non_null(strstr(body, "=\r\n")); /* soft breaks */
	assert_non_null(strstr(body, "\r\n=2Ehidden dot\r\n"));
	assert_non_null(strstr(body, "\r\ntrailing space=20\r\n"));
	assert_non_null(strstr(body, "\r\nx=3Dy =C3=BC\r\n"));
	free(msg);
}

static void test_sender_parse(void **state)
{
	struct email_sender s;

	(void)state;
	assert_int_equal(email_sender_parse("Shop <no-reply@shop.local>", &s),
	                 0);
	assert_string_equal(s.name, "Shop");
	assert_string_equal(s.address, "no-reply@shop.local");
	assert_int_equal(email_sender_parse("no-reply@shop.local", &s), 0);
	assert_string_equal(s.name, "");
	assert_int_equal(email_sender_parse("\"Shop, Inc.\" <a@b.cd>", &s), 0);
	assert_string_equal(s.name, "Shop, Inc.");
	assert_int_equal(email_sender_parse("Shop <a@b.cd", &s), -1);
	assert_int_equal(email_sender_parse("Shop <a@b.cd> x", &s), -1);
	assert_int_equal(email_sender_parse("Shop <<a@b.cd>", &s), -1);
	assert_int_equal(email_sender_parse("Shop\r\nBcc: x <a@b.cd>", &s), -1);
	assert_int_equal(email_sender_parse("Shop <not an address>", &s), -1);
	assert_int_equal(email_sender_parse("", &s), -1);

	/* a name with specials is quoted, a non-ASCII one encoded */
	struct email_sender q = {"Shop, Inc.", "a@b.cd"};
	char *msg = build("s", "x\n", &q);
	assert_non_null(strstr(msg, "From: \"Shop, Inc.\" <a@b.cd>\r\n"));
	free(msg);
	struct email_sender u = {"B\xc3\xa4"
	                         "ckerei",
	                         "a@b.cd"};
	msg = build("s", "x\n", &u);
	assert_non_null(strstr(msg, "From: =?UTF-8?B?"));
	assert_non_null(strstr(msg, "?= <a@b.cd>\r\n"));
	free(msg);
}

static void test_date(void **state)
{
	char d[40];

	(void)state;
	email_rfc5322_date(0, d);
	assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
	email_rfc5322_date(1796298861, d);
	assert_string_equal(d, "Thu, 03 Dec 2026 11:54:21 +0000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_headers),
	        cmocka_unit_test(test_non_ascii_subject),
	        cmocka_unit_test(test_no_header_injection),
	        cmocka_unit_test(test_quoted_printable),
	        cmocka_unit_test(test_sender_parse),
	        cmocka_unit_test(test_date),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
