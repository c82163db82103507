#ifndef GATEWAY_METRICS_GW_H
#define GATEWAY_METRICS_GW_H

#include "upstream.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The gateway's series on top of shared/metrics.h:
 *   http_requests_total{route,method,status}
 *   http_request_duration_seconds{route}          (histogram)
 *   gateway_upstream_errors_total{service,kind}
 *   gateway_upstream_up{service,address}          (gauge, from the prober)
 * Looking a series up takes the registry's mutex, so each worker keeps the
 * handles it used in a small table of its own: the hot path is a hash probe
 * and an atomic add.
 */

#define METRICS_CACHE_SLOTS 512

struct metrics_cache_slot {
	const char *route; /* static string; NULL when the slot is free */
	unsigned method;
	unsigned status; /* 0: the route's histogram */
	struct metric *m;
};

struct metrics_cache {
	struct metrics_cache_slot slots[METRICS_CACHE_SLOTS];
};

/* Empties the cache (its handles die with metrics_reset()). */
void metrics_cache_init(struct metrics_cache *c);

/* Counts one request: route is a static string (the routing prefix, or
 * "static", "/health"...), method what the client sent. */
void metrics_gw_request(struct metrics_cache *c, const char *route,
                        const char *method, unsigned status, double seconds);

/* Counts one upstream failure of kind (upstream_error_name()). */
void metrics_gw_upstream_error(enum service_id svc, const char *kind);

/* Sets gateway_upstream_up for an address. */
void metrics_gw_upstream_up(const struct upstream_addr *a, int up);

#endif
