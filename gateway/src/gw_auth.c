#include "gw_auth.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool is_ctl_or_space(unsigned char c)
{
	return c <= ' ' || c == 0x7f;
}

enum gw_auth_result gw_auth_parse_header(const char *value, unsigned count,
                                         const char **token, const char **why)
{
	const char *t;

	if (count == 0 || !value || !*value) {
		*why = "no authorization header";
		return GW_AUTH_MISSING;
	}
	if (count > 1) {
		*why = "several authorization headers";
		return GW_AUTH_INVALID;
	}
	if (strncasecmp(value, "Bearer", 6) != 0 ||
	    (value[6] && !is_ctl_or_space((unsigned char)value[6]))) {
		*why = "not a bearer token";
		return GW_AUTH_MISSING;
	}
	t = value + 6;
	if (*t == ' ')
		t++;
	if (!*t) {
		*why = "bearer without a token";
		return GW_AUTH_INVALID;
	}
	if (t == value + 6) { /* "Bearer\tx": one space it must be */
		*why = "malformed bearer header";
		return GW_AUTH_INVALID;
	}
	for (const char *p = t; *p; p++) {
		if (is_ctl_or_space((unsigned char)*p)) {
			*why = "malformed bearer header";
			return GW_AUTH_INVALID;
		}
	}
	*token = t;
	return GW_AUTH_OK;
}

enum gw_auth_result gw_auth_check(const struct gw_auth *a, const char *value,
                                  unsigned count, struct jwt_claims *claims,
                                  const char **why)
{
	struct jwt_claims c;
	const char *token = NULL, *reason = "invalid token";
	enum gw_auth_result r = gw_auth_parse_header(value, count, &token, why);

	if (r != GW_AUTH_OK)
		return r;
	if (jwt_verify(a->verifier, token, &c, &reason) != 0) {
		*why = reason;
		return GW_AUTH_INVALID;
	}
	if (!c.jti[0]) {
		/* logout could not revoke it: not a token of ours (the
		 * daemons refuse it too, see shared/src/auth.c) */
		*why = "missing jti";
		return GW_AUTH_INVALID;
	}
	if (a->revoked &&
	    revoked_set_contains(a->revoked, c.jti, (long long)time(NULL))) {
		*why = "revoked";
		return GW_AUTH_REVOKED;
	}
	*claims = c;
	return GW_AUTH_OK;
}

const char *gw_auth_label(enum gw_auth_result r)
{
	switch (r) {
	case GW_AUTH_MISSING:
		return "missing";
	case GW_AUTH_INVALID:
		return "invalid";
	case GW_AUTH_REVOKED:
		return "revoked";
	default:
		return "ok";
	}
}

const char *gw_auth_detail(enum gw_auth_result r)
{
	switch (r) {
	case GW_AUTH_MISSING:
		return "this route needs a bearer token in the Authorization "
		       "header";
	case GW_AUTH_REVOKED:
		return "the bearer token has been revoked (signed out); sign "
		       "in again";
	default:
		return "the bearer token is invalid or expired";
	}
}

const char *gw_auth_challenge(enum gw_auth_result r)
{
	return r == GW_AUTH_MISSING ? "Bearer"
	                            : "Bearer error=\"invalid_token\"";
}
