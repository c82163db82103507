#include "shop/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *shop_strerror(int err)
{
	switch (err) {
	case SHOP_OK:
		return "ok";
	case SHOP_ENOMEM:
		return "out of memory";
	case SHOP_EINVAL:
		return "invalid input";
	case SHOP_ENOTFOUND:
		return "not found";
	case SHOP_ECONFLICT:
		return "conflict";
	case SHOP_EUNAVAIL:
		return "dependency unavailable";
	case SHOP_ETIMEDOUT:
		return "timed out";
	case SHOP_EFORBIDDEN:
		return "forbidden";
	case SHOP_EAUTH:
		return "not authenticated";
	default:
		return "error";
	}
}

_Noreturn void shop__bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
