#include "shop/http.h"
#include "shop/http_status.h"

#include <ctype.h>
#include <string.h>

#include "shop/util.h"

json_t *http_problem_new(unsigned status, const char *detail,
                         const struct field_errors *errs)
{
	char type[96];
	json_t *p;

	snprintf(type, sizeof(type), "/problems/%s",
	         errs && errs->n ? "validation-error"
	                         : http_problem_type(status));
	p = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title",
	              http_status_title(status), "status", (int)status,
	              "detail", detail ? detail : http_status_title(status));
	if (!p || !errs || errs->n == 0)
		return p;
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < errs->n; i++) {
		json_array_append_new(arr,
		                      json_pack("{s:s, s:s}", "field",
		                                errs->items[i].field, "message",
		                                errs->items[i].message));
	}
	if (arr)
		json_object_set_new(p, "errors", arr);
	return p;
}

bool http_request_id_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (n >= 128 ||
		    !(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

static bool hex_run(const char *s, size_t n)
{
	bool nonzero = false;

	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return false;
		if (s[i] != '0')
			nonzero = true;
	}
	return nonzero;
}

static bool hex_digit_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool http_traceparent_valid(const char *s)
{
	/* 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags> */
	if (!s || strlen(s) != 55)
		return false;
	return s[0] == '0' && s[1] == '0' && s[2] == '-' &&
	       hex_run(s + 3, 32) && s[35] == '-' && hex_run(s + 36, 16) &&
	       s[52] == '-' && hex_digit_lower(s[53]) && hex_digit_lower(s[54]);
}

void http_traceparent_new(char out[56])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[24];
	size_t o = 0;

	do {
		shop_random_bytes(b, sizeof(b));
	} while (b[0] == 0 && b[16] == 0); /* practically never: ids non-zero */
	b[0] |= 1;
	b[16] |= 1;
	out[o++] = '0';
	out[o++] = '0';
	out[o++] = '-';
	for (int i = 0; i < 16; i++) {
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o++] = '-';
	for (int i = 16; i < 24; i++) {
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o++] = '-';
	out[o++] = '0';
	out[o++] = '1';
	out[o] = '\0';
}
