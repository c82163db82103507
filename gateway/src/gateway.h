#ifndef GATEWAY_GATEWAY_H
#define GATEWAY_GATEWAY_H

#include "gw_auth.h"
#include "gw_config.h"
#include "rate_limit.h"
#include "static_files.h"
#include "upstream.h"

/* What every worker thread shares, read-only after start-up except for the
 * upstream health atomics, the static site's lazily resolved root, the
 * revoked set and the rate limits (both thread-safe themselves). */
struct gateway {
	const struct gw_config *cfg;
	struct upstream_set *upstreams;
	struct static_site *site;
	struct gw_auth auth;           /* the verifier and the revoked set */
	struct rate_limit *rate_limit; /* NULL when both limits are 0 */
};

#endif
