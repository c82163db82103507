#include "cors.h"

#include "shop/error.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool is_host_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '.';
}

static bool is_v6_char(char ch)
{
	return isxdigit((unsigned char)ch) || ch == ':' || ch == '.';
}

/* Whether s[0..n) is one origin; writes it lowercased into out (n + 1
 * bytes). */
static bool origin_valid(const char *s, size_t n, char *out)
{
	size_t i, start;

	if (n >= 7 && strncasecmp(s, "http://", 7) == 0)
		i = 7;
	else if (n >= 8 && strncasecmp(s, "https://", 8) == 0)
		i = 8;
	else
		return false;
	start = i;
	if (i < n && s[i] == '[') {
		for (i++; i < n && is_v6_char(s[i]); i++)
			;
		if (i >= n || s[i] != ']' || i == start + 1)
			return false;
		i++;
	} else {
		for (; i < n && is_host_char(s[i]); i++)
			;
		if (i == start || s[start] == '.' || s[start] == '-')
			return false;
	}
	if (i < n && s[i] == ':') {
		size_t digits = 0;
		long port = 0;

		for (i++; i < n && isdigit((unsigned char)s[i]); i++) {
			port = port * 10 + (s[i] - '0');
			if (++digits > 5)
				return false;
		}
		if (digits == 0 || port < 1 || port > 65535)
			return false;
		/* A browser leaves the scheme's default port out of Origin,
		 * so "https://x:443" could never match: refused at start. */
		if (port == (start == 7 ? 80 : 443))
			return false;
	}
	if (i != n)
		return false; /* a path, a query, "/", anything else */
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	return true;
}

int cors_parse(struct cors *c, const char *list)
{
	struct cors parsed; /* 8 KiB: start-up only */
	const char *p = list ? list : "";

	memset(&parsed, 0, sizeof(parsed));
	while (*p) {
		const char *end = p + strcspn(p, ",");
		const char *a = p, *b = end;
		char origin[CORS_ORIGIN_MAX];
		bool dup = false;

		p = *end ? end + 1 : end;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (a == b)
			continue;
		if ((size_t)(b - a) >= CORS_ORIGIN_MAX ||
		    !origin_valid(a, (size_t)(b - a), origin))
			return SHOP_EINVAL;
		for (size_t i = 0; i < parsed.n; i++)
			if (strcmp(parsed.origins[i], origin) == 0)
				dup = true;
		if (dup)
			continue;
		if (parsed.n == CORS_MAX_ORIGINS)
			return SHOP_EINVAL;
		memcpy(parsed.origins[parsed.n++], origin, strlen(origin) + 1);
	}
	memcpy(c, &parsed, sizeof(*c));
	return 0;
}

bool cors_enabled(const struct cors *c)
{
	return c && c->n > 0;
}

const char *cors_match(const struct cors *c, const char *origin)
{
	if (!c || !origin)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->origins[i], origin) == 0)
			return c->origins[i];
	return NULL;
}

enum cors_preflight cors_classify(const struct cors *c, const char *method,
                                  const char *origin, bool has_request_method)
{
	if (!cors_enabled(c) || !origin || !has_request_method || !method ||
	    strcmp(method, "OPTIONS") != 0)
		return CORS_NOT_PREFLIGHT;
	return cors_match(c, origin) ? CORS_PREFLIGHT_ALLOWED
	                             : CORS_PREFLIGHT_REFUSED;
}

size_t cors_headers(const struct cors *c, const char *origin, bool preflight,
                    struct cors_header out[CORS_HEADERS_MAX])
{
	const char *allowed;
	size_t n = 0;

	if (!cors_enabled(c))
		return 0;
	out[n++] = (struct cors_header){"Vary", "Origin"};
	allowed = cors_match(c, origin);
	if (!allowed)
		return n;
	out[n++] = (struct cors_header){"Access-Control-Allow-Origin", allowed};
	if (preflight) {
		out[n++] = (struct cors_header){"Access-Control-Allow-Methods",
		                                CORS_ALLOW_METHODS};
		out[n++] = (struct cors_header){"Access-Control-Allow-Headers",
		                                CORS_ALLOW_HEADERS};
		out[n++] = (struct cors_header){"Access-Control-Max-Age",
		                                CORS_MAX_AGE};
	} else {
		out[n++] = (struct cors_header){"Access-Control-Expose-Headers",
		                                CORS_EXPOSE_HEADERS};
	}
	return n;
}
