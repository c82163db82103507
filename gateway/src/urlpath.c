#include "urlpath.h"

#include "shop/error.h"

#include <string.h>

bool urlpath_target_valid(const char *uri)
{
	const unsigned char *p = (const unsigned char *)uri;

	if (*p != '/')
		return false;
	for (; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	return true;
}

size_t urlpath_path_len(const char *uri)
{
	const char *q = strchr(uri, '?');

	return q ? (size_t)(q - uri) : strlen(uri);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int urlpath_decode(const char *raw, size_t len, char *out, size_t cap,
                   size_t *outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)raw[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return SHOP_EINVAL;
			hi = hexval(raw[i + 1]);
			lo = hexval(raw[i + 2]);
			if (hi < 0 || lo < 0)
				return SHOP_EINVAL;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return SHOP_EINVAL;
		out[o++] = (char)c;
	}
	if (cap == 0)
		return SHOP_EINVAL;
	out[o] = '\0';
	*outlen = o;
	return 0;
}

bool urlpath_has_dot_segment(const char *path, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start, n;

		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		n = i - start;
		if ((n == 1 && path[start] == '.') ||
		    (n == 2 && path[start] == '.' && path[start + 1] == '.'))
			return true;
	}
	return false;
}
