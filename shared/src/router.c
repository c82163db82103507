#include "shop/router.h"
#include "shop/error.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTER_MAX_SEGMENTS 16

struct compiled_route {
	const struct http_route *route;
	size_t nseg;
	/* Literal text of each segment; NULL for a {param} segment. */
	char *seg[ROUTER_MAX_SEGMENTS];
};

struct router {
	struct compiled_route *routes;
	size_t n;
};

static void compile(struct compiled_route *cr, const struct http_route *r)
{
	const char *p = r->pattern;
	size_t nparams = 0;

	if (!p || p[0] != '/')
		BUG("route pattern '%s' must start with '/'", p ? p : "(null)");
	cr->route = r;
	cr->nseg = 0;
	p++;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (cr->nseg == ROUTER_MAX_SEGMENTS)
			BUG("route pattern '%s' has too many segments",
			    r->pattern);
		if (len == 0)
			BUG("route pattern '%s' has an empty segment",
			    r->pattern);
		if (p[0] == '{') {
			if (p[len - 1] != '}' || len < 3)
				BUG("route pattern '%s': bad parameter",
				    r->pattern);
			/* router_match and http_request keep at most 8. */
			if (++nparams > 8)
				BUG("route pattern '%s': more than 8 "
				    "parameters",
				    r->pattern);
			cr->seg[cr->nseg++] = NULL;
		} else {
			if (memchr(p, '{', len) || memchr(p, '}', len))
				BUG("route pattern '%s': braces inside a "
				    "segment",
				    r->pattern);
			cr->seg[cr->nseg] = strndup(p, len);
			if (!cr->seg[cr->nseg])
				BUG("out of memory compiling routes");
			cr->nseg++;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	if (p - r->pattern > 1 && p[-1] == '/')
		BUG("route pattern '%s' ends with '/'", r->pattern);
}

struct router *router_new(const struct http_route *routes, size_t n)
{
	struct router *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->routes = calloc(n ? n : 1, sizeof(*r->routes));
	if (!r->routes) {
		free(r);
		return NULL;
	}
	r->n = n;
	for (size_t i = 0; i < n; i++)
		compile(&r->routes[i], &routes[i]);
	return r;
}

void router_free(struct router *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		for (size_t s = 0; s < r->routes[i].nseg; s++)
			free(r->routes[i].seg[s]);
	}
	free(r->routes);
	free(r);
}

/* Splits path_buf in place into segments. Returns the count, or -1 when
 * there are too many or an empty one (a "//" or a trailing slash). */
static int split(char *path_buf, char *seg[ROUTER_MAX_SEGMENTS])
{
	char *p = path_buf;
	int n = 0;

	if (*p != '/')
		return -1;
	p++;
	if (*p == '\0')
		return 0; /* "/" */
	for (;;) {
		char *end = strchr(p, '/');

		if (n == ROUTER_MAX_SEGMENTS)
			return -1;
		if (end == p || *p == '\0')
			return -1;
		seg[n++] = p;
		if (!end)
			return n;
		*end = '\0';
		p = end + 1;
	}
}

enum router_result router_match(const struct router *r, const char *method,
                                char *path_buf, struct router_match *m)
{
	char *seg[ROUTER_MAX_SEGMENTS];
	int nseg = split(path_buf, seg);
	bool path_matched = false;

	m->route = NULL;
	m->nparams = 0;
	m->allow[0] = '\0';
	if (nseg < 0)
		return ROUTER_NOT_FOUND;
	for (size_t i = 0; i < r->n; i++) {
		const struct compiled_route *cr = &r->routes[i];
		size_t np = 0;
		const char *params[8];
		size_t s;

		if (cr->nseg != (size_t)nseg)
			continue;
		for (s = 0; s < cr->nseg; s++) {
			if (cr->seg[s]) {
				if (strcmp(cr->seg[s], seg[s]) != 0)
					break;
			} else if (np < 8) {
				params[np++] = seg[s];
			}
		}
		if (s != cr->nseg)
			continue;
		path_matched = true;
		if (strcmp(cr->route->method, method) == 0) {
			m->route = cr->route;
			m->index = i;
			memcpy(m->params, params, np * sizeof(*params));
			m->nparams = np;
			return ROUTER_FOUND;
		}
		if (!strstr(m->allow, cr->route->method)) {
			size_t len = strlen(m->allow);
			snprintf(m->allow + len, sizeof(m->allow) - len, "%s%s",
			         len ? ", " : "", cr->route->method);
		}
	}
	return path_matched ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}
