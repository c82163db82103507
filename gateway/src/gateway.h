#ifndef GATEWAY_GATEWAY_H
#define GATEWAY_GATEWAY_H

#include "gw_config.h"
#include "static_files.h"
#include "upstream.h"

/* What every worker thread shares, read-only after start-up except for the
 * upstream health atomics and the static site's lazily resolved root. */
struct gateway {
	const struct gw_config *cfg;
	struct upstream_set *upstreams;
	struct static_site *site;
};

#endif
