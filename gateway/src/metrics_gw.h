#ifndef GATEWAY_METRICS_GW_H
#define GATEWAY_METRICS_GW_H

#include "gw_auth.h"
#include "rate_limit.h"
#include "shop/revoked_set.h"
#include "upstream.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The gateway's series on top of shared/metrics.h:
 *   http_requests_total{route,method,status}
 *   http_request_duration_seconds{route}          (histogram)
 *   gateway_upstream_errors_total{service,kind}
 *   gateway_upstream_up{service,address}          (gauge: prober, workers)
 *   gateway_auth_rejections_total{reason}         (missing|invalid|revoked)
 *   gateway_revoked_tokens                        (gauge, the set's size)
 *   gateway_revocation_live                       (gauge, revocation.c)
 *   gateway_rate_limited_total{limit}             (address|user: 429s)
 *   gateway_rate_limit_live                       (gauge, rate_sync.c)
 *   gateway_rate_limit_keys                       (gauge, keys counted)
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

/* Creates the gateway_auth_rejections_total series (at 0) and keeps their
 * handles, so that counting a rejection takes no lock. Call once at start,
 * before any worker runs (and again after metrics_reset() in tests). */
void metrics_gw_auth_init(void);

/* Counts one 401 of a protected route; r is not GW_AUTH_OK. */
void metrics_gw_auth_rejection(enum gw_auth_result r);

/* A metrics_on_render() hook: prunes the revoked set (arg) and sets
 * gateway_revoked_tokens to its size. */
void metrics_gw_revoked_hook(void *arg);

/* Creates the gateway_rate_limited_total series (at 0) and keeps their
 * handles, as metrics_gw_auth_init() does. */
void metrics_gw_rate_limit_init(void);

/* Counts one 429 of the limit of kind. */
void metrics_gw_rate_limited(enum rl_kind kind);

/* The label of kind: "address" or "user". */
const char *metrics_gw_rate_limit_label(enum rl_kind kind);

/* A metrics_on_render() hook: sets gateway_rate_limit_keys to the size of
 * the map (arg, a struct rate_limit). */
void metrics_gw_rate_limit_hook(void *arg);

#endif
