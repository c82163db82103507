#include "metrics_gw.h"

#include "shop/metrics.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                      "PATCH", "DELETE", "OPTIONS", "OTHER"};
#define NMETHODS (sizeof(methods) / sizeof(*methods))

static unsigned method_index(const char *m)
{
	for (unsigned i = 0; i + 1 < NMETHODS; i++)
		if (strcmp(m, methods[i]) == 0)
			return i;
	return NMETHODS - 1; /* no label per invented method */
}

void metrics_cache_init(struct metrics_cache *c)
{
	memset(c, 0, sizeof(*c));
}

static struct metric *lookup(struct metrics_cache *c, const char *route,
                             unsigned method, unsigned status)
{
	uintptr_t h = (uintptr_t)route * 31u + method * 1009u + status * 7u;
	size_t i = (h ^ (h >> 9)) % METRICS_CACHE_SLOTS;
	char labels[256];
	struct metric *m;

	for (size_t probes = 0; probes < METRICS_CACHE_SLOTS; probes++) {
		struct metrics_cache_slot *s = &c->slots[i];

		if (s->route == route && s->method == method &&
		    s->status == status)
			return s->m;
		if (!s->route)
			break;
		i = (i + 1) % METRICS_CACHE_SLOTS;
	}
	if (status) {
		snprintf(labels, sizeof(labels),
		         "route=\"%s\",method=\"%s\",status=\"%u\"", route,
		         methods[method], status);
		m = metrics_counter("http_requests_total",
		                    "HTTP requests by route, method and status",
		                    labels);
	} else {
		snprintf(labels, sizeof(labels), "route=\"%s\"", route);
		m = metrics_histogram("http_request_duration_seconds",
		                      "HTTP request duration by route", labels);
	}
	if (m && !c->slots[i].route) {
		c->slots[i].route = route;
		c->slots[i].method = method;
		c->slots[i].status = status;
		c->slots[i].m = m;
	}
	return m;
}

void metrics_gw_request(struct metrics_cache *c, const char *route,
                        const char *method, unsigned status, double seconds)
{
	unsigned mi = method_index(method);

	metric_add(lookup(c, route, mi, status), 1);
	metric_observe(lookup(c, route, 0, 0), seconds);
}

void metrics_gw_upstream_error(enum service_id svc, const char *kind)
{
	char labels[128];

	snprintf(labels, sizeof(labels), "service=\"%s\",kind=\"%s\"",
	         service_name(svc), kind);
	metric_add(metrics_counter("gateway_upstream_errors_total",
	                           "Failed upstream exchanges by kind", labels),
	           1);
}

void metrics_gw_upstream_up(const struct upstream_addr *a, int up)
{
	char labels[256], addr[UPSTREAM_NAME_MAX * 2];

	metrics_escape_label(addr, sizeof(addr), a->name);
	snprintf(labels, sizeof(labels), "service=\"%s\",address=\"%s\"",
	         service_name(a->service), addr);
	metric_set(metrics_gauge("gateway_upstream_up",
	                         "1 while the address is up (by its probes, "
	                         "and by the workers' passive checks)",
	                         labels),
	           up ? 1 : 0);
}

static struct metric *auth_rejections[GW_AUTH_RESULT_COUNT];

void metrics_gw_auth_init(void)
{
	char labels[64];

	for (int r = GW_AUTH_MISSING; r < GW_AUTH_RESULT_COUNT; r++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"",
		         gw_auth_label(r));
		auth_rejections[r] = metrics_counter(
		        "gateway_auth_rejections_total",
		        "Requests to protected routes refused with 401, by "
		        "reason",
		        labels);
	}
}

void metrics_gw_auth_rejection(enum gw_auth_result r)
{
	if (r > GW_AUTH_OK && r < GW_AUTH_RESULT_COUNT)
		metric_add(auth_rejections[r], 1);
}

void metrics_gw_revoked_hook(void *arg)
{
	struct revoked_set *set = arg;
	/* The size only: pruning takes the write lock and scans the table,
	 * and anyone can ask for /metrics; the loader prunes every 30 s. */
	size_t n = revoked_set_size(set);

	metric_set(metrics_gauge("gateway_revoked_tokens",
	                         "Revoked tokens the gateway knows of "
	                         "(pruned of expired ones every 30 s)",
	                         ""),
	           (double)n);
}

static struct metric *rate_limited[RL_KIND_COUNT];

const char *metrics_gw_rate_limit_label(enum rl_kind kind)
{
	return kind == RL_USER ? "user" : "address";
}

void metrics_gw_rate_limit_init(void)
{
	char labels[64];

	for (int k = 0; k < RL_KIND_COUNT; k++) {
		snprintf(labels, sizeof(labels), "limit=\"%s\"",
		         metrics_gw_rate_limit_label(k));
		rate_limited[k] = metrics_counter(
		        "gateway_rate_limited_total",
		        "Requests refused with 429, by the limit they hit",
		        labels);
	}
}

void metrics_gw_rate_limited(enum rl_kind kind)
{
	if ((unsigned)kind < RL_KIND_COUNT)
		metric_add(rate_limited[kind], 1);
}

void metrics_gw_rate_limit_hook(void *arg)
{
	metric_set(metrics_gauge("gateway_rate_limit_keys",
	                         "Client addresses and users the rate limits "
	                         "count in this process (current and last "
	                         "window)",
	                         ""),
	           (double)rate_limit_keys(arg));
}
