#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "shop/error.h"
#include "../src/domain/user.h"

/* The domain's rules: emails, passwords, names, roles, UTF-8. */

static char *repeat(char *buf, const char *unit, int times)
{
	buf[0] = '\0';
	for (int i = 0; i < times; i++)
		strcat(buf, unit);
	return buf;
}

/* ---- UTF-8 ---- */

static void test_utf8_length_counts_code_points(void **state)
{
	(void)state;
	assert_int_equal(user_utf8_length("", 0), 0);
	assert_int_equal(user_utf8_length("abc", 3), 3);
	assert_int_equal(user_utf8_length("\x7f", 1), 1);         /* U+007F */
	assert_int_equal(user_utf8_length("\xc2\x80", 2), 1);     /* U+0080 */
	assert_int_equal(user_utf8_length("\xdf\xbf", 2), 1);     /* U+07FF */
	assert_int_equal(user_utf8_length("\xe0\xa0\x80", 3), 1); /* U+0800 */
	assert_int_equal(user_utf8_length("\xed\x9f\xbf", 3), 1); /* U+D7FF */
	assert_int_equal(user_utf8_length("\xee\x80\x80", 3), 1); /* U+E000 */
	assert_int_equal(user_utf8_length("\xef\xbf\xbf", 3), 1); /* U+FFFF */
	assert_int_equal(user_utf8_length("\xf0\x90\x80\x80", 4),
	                 1); /* 10000 */
	assert_int_equal(user_utf8_length("\xf4\x8f\xbf\xbf", 4), 1); /* max */
	assert_int_equal(user_utf8_length("h\xc3\xa9llo \xe2\x82\xac", 10), 7);
}

static void test_utf8_length_refuses_malformed(void **state)
{
	static const char *const bad[] = {
	        "\x80",             /* stray continuation */
	        "\xbf",             /* stray continuation */
	        "\xc0\xaf",         /* overlong '/' */
	        "\xc1\xbf",         /* overlong */
	        "\xe0\x9f\xbf",     /* overlong 3-byte */
	        "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
	        "\xed\xa0\x80",     /* U+D800, a surrogate */
	        "\xed\xbf\xbf",     /* U+DFFF */
	        "\xf4\x90\x80\x80", /* U+110000 */
	        "\xf5\x80\x80\x80", /* F5 never appears */
	        "\xff",             /* nor FF */
	        "\xe2\x82",         /* truncated */
	        "\xc3",             /* truncated */
	        "\xe2\x28\xa1",     /* bad continuation */
	        "ok\xc3(",          /* bad continuation after ASCII */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(user_utf8_length(bad[i], strlen(bad[i])), -1);
}

/* ---- emails ---- */

static void check_email_ok(const char *in, const char *want)
{
	char out[USER_EMAIL_MAX + 1];
	struct field_errors errs;

	field_errors_init(&errs);
	assert_int_equal(user_email_normalize(in, "email", out, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(out, want);
}

/* Returns the message of the one error added for field "email". */
static const char *email_error(const char *in)
{
	static struct field_errors errs;
	char out[USER_EMAIL_MAX + 1] = "untouched";

	field_errors_init(&errs);
	assert_int_equal(user_email_normalize(in, "email", out, &errs),
	                 SHOP_EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.items[0].field, "email");
	assert_string_equal(out, "untouched");
	return errs.items[0].message;
}

static void test_email_valid_and_lowercased(void **state)
{
	(void)state;
	check_email_ok("paintest@example.com", "paintest@example.com");
	check_email_ok("PainTest@Example.COM", "paintest@example.com");
	check_email_ok("first.last+tag@mail.example.co.uk",
	               "first.last+tag@mail.example.co.uk");
	check_email_ok("o'neil_{x}!#$%&*/=?^`|~-@a-b.c0",
	               "o'neil_{x}!#$%&*/=?^`|~-@a-b.c0");
	check_email_ok("a@b.co", "a@b.co");
}

static void test_email_syntax_errors(void **state)
{
	(void)state;
	assert_string_equal(email_error(""), "is required");
	assert_string_equal(email_error("no-at.example.com"),
	                    "must contain exactly one @");
	assert_string_equal(email_error("a@@example.com"),
	                    "must contain exactly one @");
	assert_string_equal(email_error("a@b@example.com"),
	                    "must contain exactly one @");
	assert_string_equal(email_error("@example.com"),
	                    "needs a name before the @");
	assert_string_equal(email_error("a@"), "needs a domain after the @");
	assert_string_equal(email_error("a@localhost"),
	                    "needs a dot in its domain");
	assert_string_equal(email_error("a@.example.com"),
	                    "must not start or end its domain with a dot");
	assert_string_equal(email_error("a@example.com."),
	                    "must not start or end its domain with a dot");
	assert_string_equal(email_error("a@example..com"),
	                    "must not have two dots in a row");
	assert_string_equal(email_error("a..b@example.com"),
	                    "must not have two dots in a row");
	assert_string_equal(email_error(".a@example.com"),
	                    "must not start or end with a dot before the @");
	assert_string_equal(email_error("a.@example.com"),
	                    "must not start or end with a dot before the @");
	assert_string_equal(email_error("a(b)@example.com"),
	                    "has a character that is not allowed before the @");
	assert_string_equal(email_error("\"a\"@example.com"),
	                    "has a character that is not allowed before the @");
	assert_string_equal(
	        email_error("a@exa_mple.com"),
	        "has a character that is not allowed in its domain");
	assert_string_equal(
	        email_error("a@[127.0.0.1]"),
	        "has a character that is not allowed in its domain");
	assert_string_equal(
	        email_error("a@-example.com"),
	        "has a domain part that starts or ends with a hyphen");
	assert_string_equal(
	        email_error("a@example-.com"),
	        "has a domain part that starts or ends with a hyphen");
	assert_string_equal(
	        email_error("a@example.com-"),
	        "has a domain part that starts or ends with a hyphen");
}

static void test_email_spaces_controls_non_ascii(void **state)
{
	const char *spaces = "must not contain spaces or control characters";
	(void)state;
	assert_string_equal(email_error(" a@example.com"), spaces);
	assert_string_equal(email_error("a@example.com "), spaces);
	assert_string_equal(email_error("a b@example.com"), spaces);
	assert_string_equal(email_error("a\t@example.com"), spaces);
	assert_string_equal(email_error("a@example.com\n"), spaces);
	assert_string_equal(email_error("a\x7f@example.com"), spaces);
	assert_string_equal(email_error("\xc3\xa9@example.com"),
	                    "must contain only ASCII characters");
	assert_string_equal(email_error("a@ex\xc3\xa4mple.com"),
	                    "must contain only ASCII characters");
}

static void test_email_lengths(void **state)
{
	char local[80], email[400], label[80], want[400];
	(void)state;

	/* local part: 64 is fine, 65 is not */
	repeat(local, "a", 64);
	snprintf(email, sizeof(email), "%s@example.com", local);
	check_email_ok(email, email);
	repeat(local, "a", 65);
	snprintf(email, sizeof(email), "%s@example.com", local);
	assert_string_equal(email_error(email),
	                    "must have at most 64 characters before the @");

	/* a domain label: 63 is fine, 64 is not */
	repeat(label, "b", 63);
	snprintf(email, sizeof(email), "a@%s.com", label);
	check_email_ok(email, email);
	repeat(label, "b", 64);
	snprintf(email, sizeof(email), "a@%s.com", label);
	assert_string_equal(email_error(email),
	                    "has a domain part longer than 63 characters");

	/* 254 in all is fine, 255 is not: 64 + @ + 63.63.57.COM */
	repeat(local, "A", 64);
	repeat(label, "b", 63);
	snprintf(email, sizeof(email), "%s@%s.%s.%.57s.COM", local, label,
	         label, label);
	assert_int_equal(strlen(email), 254);
	snprintf(want, sizeof(want), "%s@%s.%s.%.57s.com",
	         repeat(local, "a", 64), label, label, label);
	check_email_ok(email, want);
	snprintf(email, sizeof(email), "%s@%s.%s.%.58s.com", local, label,
	         label, label);
	assert_int_equal(strlen(email), 255);
	assert_string_equal(email_error(email),
	                    "must be at most 254 characters");
}

/* ---- passwords ---- */

static const char *password_error(const char *pw)
{
	static struct field_errors errs;

	field_errors_init(&errs);
	assert_int_equal(user_password_validate(pw, "password", &errs),
	                 SHOP_EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.items[0].field, "password");
	return errs.items[0].message;
}

static void password_ok(const char *pw)
{
	struct field_errors errs;

	field_errors_init(&errs);
	assert_int_equal(user_password_validate(pw, "password", &errs), 0);
	assert_int_equal(errs.n, 0);
}

static void test_password_lengths_in_code_points(void **state)
{
	char buf[1024];
	(void)state;

	password_ok("password123");
	password_ok("12345678");
	assert_string_equal(password_error("1234567"),
	                    "must be at least 8 characters");
	assert_string_equal(password_error(""), "is required");
	password_ok(repeat(buf, "x", 128));
	assert_string_equal(password_error(repeat(buf, "x", 129)),
	                    "must be at most 128 characters");
	/* 7 x "é" is 14 bytes but 7 characters: too short */
	assert_string_equal(password_error(repeat(buf, "\xc3\xa9", 7)),
	                    "must be at least 8 characters");
	password_ok(repeat(buf, "\xc3\xa9", 8));
	/* 128 emoji (512 bytes) fit; 129 euro signs (387 bytes) do not */
	password_ok(repeat(buf, "\xf0\x9f\x98\x80", 128));
	assert_string_equal(password_error(repeat(buf, "\xe2\x82\xac", 129)),
	                    "must be at most 128 characters");
	/* spaces and any printable character are allowed */
	password_ok("  correct horse battery staple  ");
}

static void test_password_refuses_invalid_utf8(void **state)
{
	(void)state;
	assert_string_equal(password_error("abcdefgh\xff"),
	                    "must be valid UTF-8");
	assert_string_equal(password_error("abcdefgh\xc0\xaf"),
	                    "must be valid UTF-8");
	assert_string_equal(password_error("abcdefgh\xed\xa0\x80"),
	                    "must be valid UTF-8");
	assert_string_equal(password_error("abcdefgh\xe2\x82"),
	                    "must be valid UTF-8");
}

/* ---- names ---- */

static const char *name_error(const char *in)
{
	static struct field_errors errs;
	char out[USER_NAME_BYTES_MAX + 1] = "untouched";

	field_errors_init(&errs);
	assert_int_equal(user_name_normalize(in, "name", out, &errs),
	                 SHOP_EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.items[0].field, "name");
	assert_string_equal(out, "untouched");
	return errs.items[0].message;
}

static void name_ok(const char *in, const char *want)
{
	char out[USER_NAME_BYTES_MAX + 1];
	struct field_errors errs;

	field_errors_init(&errs);
	assert_int_equal(user_name_normalize(in, "name", out, &errs), 0);
	assert_string_equal(out, want);
}

static void test_name_trimmed(void **state)
{
	(void)state;
	name_ok("Ada Lovelace", "Ada Lovelace");
	name_ok("  Ada  Lovelace \t\r\n", "Ada  Lovelace");
	name_ok("\xc3\x89mile Zola", "\xc3\x89mile Zola");
	name_ok("X", "X");
	assert_string_equal(name_error(""), "must not be empty");
	assert_string_equal(name_error(" \t\n "), "must not be empty");
}

static void test_name_length_in_code_points(void **state)
{
	char buf[1024];
	(void)state;

	name_ok(repeat(buf, "n", 100), buf);
	assert_string_equal(name_error(repeat(buf, "n", 101)),
	                    "must be at most 100 characters");
	/* 100 four-byte characters fill the buffer exactly */
	name_ok(repeat(buf, "\xf0\x9f\x98\x80", 100), buf);
	assert_string_equal(name_error(repeat(buf, "\xc3\xa9", 101)),
	                    "must be at most 100 characters");
	/* trimming happens before counting */
	char padded[200];
	snprintf(padded, sizeof(padded), "   %s   ", repeat(buf, "n", 100));
	name_ok(padded, buf);
}

static void test_name_refuses_controls_and_bad_utf8(void **state)
{
	const char *control = "must not contain control characters";
	(void)state;
	assert_string_equal(name_error("Ada\x01Lovelace"), control);
	assert_string_equal(name_error("Ada\nLovelace"), control);
	assert_string_equal(name_error("Ada\x7f"), control);
	assert_string_equal(name_error("Ada\xc2\x85"), control); /* U+0085 */
	assert_string_equal(name_error("Ada\xc3"), "must be valid UTF-8");
	assert_string_equal(name_error("\xed\xa0\x80 x"),
	                    "must be valid UTF-8");
}

/* ---- roles ---- */

static void test_roles(void **state)
{
	enum user_role r = USER_ROLE_CUSTOMER;
	(void)state;
	assert_string_equal(user_role_name(USER_ROLE_CUSTOMER), "customer");
	assert_string_equal(user_role_name(USER_ROLE_ADMIN), "admin");
	assert_int_equal(user_role_parse("admin", &r), 0);
	assert_int_equal(r, USER_ROLE_ADMIN);
	assert_int_equal(user_role_parse("customer", &r), 0);
	assert_int_equal(r, USER_ROLE_CUSTOMER);
	assert_int_equal(user_role_parse("root", &r), SHOP_EINVAL);
	assert_int_equal(user_role_parse("Admin", &r), SHOP_EINVAL);
	assert_int_equal(r, USER_ROLE_CUSTOMER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_utf8_length_counts_code_points),
	        cmocka_unit_test(test_utf8_length_refuses_malformed),
	        cmocka_unit_test(test_email_valid_and_lowercased),
	        cmocka_unit_test(test_email_syntax_errors),
	        cmocka_unit_test(test_email_spaces_controls_non_ascii),
	        cmocka_unit_test(test_email_lengths),
	        cmocka_unit_test(test_password_lengths_in_code_points),
	        cmocka_unit_test(test_password_refuses_invalid_utf8),
	        cmocka_unit_test(test_name_trimmed),
	        cmocka_unit_test(test_name_length_in_code_points),
	        cmocka_unit_test(test_name_refuses_controls_and_bad_utf8),
	        cmocka_unit_test(test_roles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
