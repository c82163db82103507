#include "route_auth.h"

#include <stdbool.h>
#include <string.h>

enum {
	M_GET = 1u << 0,
	M_HEAD = 1u << 1,
	M_OPTIONS = 1u << 2,
	M_POST = 1u << 3,
	M_PUT = 1u << 4,
	M_PATCH = 1u << 5,
	M_DELETE = 1u << 6,
	M_OTHER = 1u << 7, /* any method not named above */
	M_ANY = 0xffu,
};

struct route_auth {
	const char *prefix;
	unsigned methods; /* the methods the flags apply to */
	unsigned flags;
};

/* First match wins; a path that matches a prefix but not its methods goes
 * on to the next entries (none overlap today). On the catalog only the
 * product service's write routes are listed (POST /api/products, PATCH and
 * DELETE /api/products/{id}): any other method there is the service's own
 * 405 (with its Allow header), as if the gateway were not there; the
 * service checks tokens on its write routes itself too. */
static const struct route_auth table[] = {
        {"/api/auth/logout", M_POST, ROUTE_AUTH_REQUIRED | ROUTE_AUTH_LOGOUT},
        {"/api/users", M_ANY, ROUTE_AUTH_REQUIRED},
        {"/api/cart", M_ANY, ROUTE_AUTH_REQUIRED},
        {"/api/orders", M_ANY, ROUTE_AUTH_REQUIRED},
        {"/api/payments", M_ANY, ROUTE_AUTH_REQUIRED},
        {"/api/emails", M_ANY, ROUTE_AUTH_REQUIRED},
        {"/api/products", M_POST | M_PATCH | M_DELETE, ROUTE_AUTH_REQUIRED},
};

static unsigned method_bit(const char *m)
{
	switch (m[0]) {
	case 'G':
		return strcmp(m, "GET") == 0 ? M_GET : M_OTHER;
	case 'H':
		return strcmp(m, "HEAD") == 0 ? M_HEAD : M_OTHER;
	case 'O':
		return strcmp(m, "OPTIONS") == 0 ? M_OPTIONS : M_OTHER;
	case 'P':
		if (strcmp(m, "POST") == 0)
			return M_POST;
		if (strcmp(m, "PUT") == 0)
			return M_PUT;
		return strcmp(m, "PATCH") == 0 ? M_PATCH : M_OTHER;
	case 'D':
		return strcmp(m, "DELETE") == 0 ? M_DELETE : M_OTHER;
	default:
		return M_OTHER;
	}
}

/* True when path is prefix itself or prefix followed by '/'. */
static bool has_prefix(const char *path, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	if (len < n || memcmp(path, prefix, n) != 0)
		return false;
	return len == n || path[n] == '/';
}

unsigned route_auth_lookup(const char *method, const char *path, size_t len)
{
	unsigned bit = method_bit(method);

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if ((table[i].methods & bit) &&
		    has_prefix(path, len, table[i].prefix))
			return table[i].flags;
	return 0;
}
