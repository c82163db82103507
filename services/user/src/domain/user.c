#include "user.h"

#include <string.h>

#include "shop/error.h"

const char *user_role_name(enum user_role role)
{
	return role == USER_ROLE_ADMIN ? "admin" : "customer";
}

int user_role_parse(const char *s, enum user_role *out)
{
	if (strcmp(s, "customer") == 0) {
		*out = USER_ROLE_CUSTOMER;
		return 0;
	}
	if (strcmp(s, "admin") == 0) {
		*out = USER_ROLE_ADMIN;
		return 0;
	}
	return SHOP_EINVAL;
}

/*
 * Decodes one code point at s (n > 0 bytes available) into *cp. Returns
 * its length in bytes, or 0 when the bytes there are not well-formed UTF-8
 * (Unicode 15, table 3-7).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;
	unsigned long c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0fu;
		if (s[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07u;
		if (s[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0; /* continuation byte, C0, C1, F5..FF */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	c = (c << 6) | (s[1] & 0x3fu);
	for (size_t i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	*cp = c;
	return len;
}

long user_utf8_length(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	long count = 0;
	unsigned long cp;

	while (len > 0) {
		size_t n = utf8_decode(p, len, &cp);
		if (n == 0)
			return -1;
		p += n;
		len -= n;
		count++;
	}
	return count;
}

/* RFC 5322 atext: what a dot-atom local part may hold besides dots. */
static bool is_atext(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

static bool is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

/* Returns the reason the local part (n bytes) is refused, or NULL. */
static const char *check_local(const char *s, size_t n)
{
	if (n == 0)
		return "needs a name before the @";
	if (n > USER_EMAIL_LOCAL_MAX)
		return "must have at most 64 characters before the @";
	if (s[0] == '.' || s[n - 1] == '.')
		return "must not start or end with a dot before the @";
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return "must not have two dots in a row";
		} else if (!is_atext(s[i])) {
			return "has a character that is not allowed before "
			       "the @";
		}
	}
	return NULL;
}

/* Returns the reason the domain (NUL-terminated) is refused, or NULL. */
static const char *check_domain(const char *s)
{
	size_t n = strlen(s), label = 0, labels = 0;

	if (n == 0)
		return "needs a domain after the @";
	if (s[0] == '.' || s[n - 1] == '.')
		return "must not start or end its domain with a dot";
	if (strstr(s, ".."))
		return "must not have two dots in a row";
	for (size_t i = 0; i <= n; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			/* label > 0: no empty label after the checks above */
			if (s[i - 1] == '-' || s[i - label] == '-')
				return "has a domain part that starts or ends "
				       "with a hyphen";
			labels++;
			label = 0;
		} else if (!is_label_char(s[i])) {
			return "has a character that is not allowed in its "
			       "domain";
		} else if (++label > 63) {
			return "has a domain part longer than 63 characters";
		}
	}
	if (labels < 2)
		return "needs a dot in its domain";
	return NULL;
}

int user_email_normalize(const char *email, const char *field,
                         char out[USER_EMAIL_MAX + 1],
                         struct field_errors *errs)
{
	const char *at = NULL, *why = NULL;
	size_t n = strlen(email), ats = 0;

	if (n == 0) {
		field_errors_add(errs, field, "is required");
		return SHOP_EINVAL;
	}
	for (size_t i = 0; i < n && !why; i++) {
		unsigned char c = (unsigned char)email[i];
		if (c <= ' ' || c == 0x7f)
			why = "must not contain spaces or control characters";
		else if (c >= 0x80)
			why = "must contain only ASCII characters";
		else if (c == '@' && ats++ == 0)
			at = email + i;
	}
	if (!why && n > USER_EMAIL_MAX)
		why = "must be at most 254 characters";
	if (!why && ats != 1)
		why = "must contain exactly one @";
	if (!why)
		why = check_local(email, (size_t)(at - email));
	if (!why)
		why = check_domain(at + 1);
	if (why) {
		field_errors_add(errs, field, why);
		return SHOP_EINVAL;
	}
	for (size_t i = 0; i <= n; i++) {
		char c = email[i];
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	return 0;
}

int user_password_validate(const char *password, const char *field,
                           struct field_errors *errs)
{
	long n = user_utf8_length(password, strlen(password));

	if (n < 0) {
		field_errors_add(errs, field, "must be valid UTF-8");
		return SHOP_EINVAL;
	}
	if (n < USER_PASSWORD_MIN) {
		field_errors_add(errs, field,
		                 n == 0 ? "is required"
		                        : "must be at least 8 characters");
		return SHOP_EINVAL;
	}
	if (n > USER_PASSWORD_MAX) {
		field_errors_add(errs, field, "must be at most 128 characters");
		return SHOP_EINVAL;
	}
	return 0;
}

static bool is_trimmed_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

int user_name_normalize(const char *name, const char *field,
                        char out[USER_NAME_BYTES_MAX + 1],
                        struct field_errors *errs)
{
	const unsigned char *p;
	size_t start = 0, end = strlen(name), left;
	long count = 0;
	unsigned long cp;
	const char *why = NULL;

	while (start < end && is_trimmed_space(name[start]))
		start++;
	while (end > start && is_trimmed_space(name[end - 1]))
		end--;
	p = (const unsigned char *)name + start;
	left = end - start;
	if (left == 0)
		why = "must not be empty";
	while (!why && left > 0) {
		size_t n = utf8_decode(p, left, &cp);
		if (n == 0)
			why = "must be valid UTF-8";
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			why = "must not contain control characters";
		else if (++count > USER_NAME_MAX)
			why = "must be at most 100 characters";
		p += n;
		left -= n;
	}
	if (why) {
		field_errors_add(errs, field, why);
		return SHOP_EINVAL;
	}
	memcpy(out, name + start, end - start);
	out[end - start] = '\0';
	return 0;
}
