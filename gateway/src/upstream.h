#ifndef GATEWAY_UPSTREAM_H
#define GATEWAY_UPSTREAM_H

#include "router.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/*
 * The upstream addresses of every service, read once at start-up from
 * <SVC>_UPSTREAMS ("host:port,host:port"; an IPv6 host in brackets), with
 * the health of each. Health is written by the prober thread (health.c) and
 * by workers that see a connection refused or timed out, read by every
 * worker when it picks an address: relaxed atomics, no lock.
 */

#define UPSTREAM_MAX_ADDRS 64
#define UPSTREAM_NAME_MAX  96

enum upstream_health {
	UPSTREAM_UNKNOWN = 0, /* not probed yet: routable */
	UPSTREAM_UP,
	UPSTREAM_DOWN,
};

struct upstream_addr {
	enum service_id service;
	char name[UPSTREAM_NAME_MAX]; /* "127.0.0.1:8004", as configured */
	struct sockaddr_storage sa;
	socklen_t salen;
	atomic_int health;
	/* Consecutive failed /health probes (the prober thread only). */
	int probe_failures;
};

struct upstream_set {
	size_t naddrs;
	struct upstream_addr addrs[UPSTREAM_MAX_ADDRS];
	struct {
		size_t first, count; /* a range of addrs */
	} services[SVC_COUNT];
};

/*
 * Splits "host:port" (s, len bytes) into host (NUL-terminated, brackets of
 * an IPv6 literal removed) and port. Returns 0 or SHOP_EINVAL.
 */
int upstream_parse_hostport(const char *s, size_t len, char *host,
                            size_t hostcap, int *port);

/* Empties set. */
void upstream_set_init(struct upstream_set *set);

/*
 * Adds the comma-separated list for service, resolving each host once
 * (getaddrinfo). An empty list adds nothing (the service then answers 503).
 * Returns 0, or SHOP_EINVAL after logging one line naming var.
 */
int upstream_set_add_list(struct upstream_set *set, enum service_id service,
                          const char *var, const char *list);

/* True when the address may be tried (up, or not probed yet). */
static inline bool upstream_usable(const struct upstream_addr *a)
{
	return atomic_load_explicit(&a->health, memory_order_relaxed) !=
	       UPSTREAM_DOWN;
}

static inline void upstream_set_health(struct upstream_addr *a, int h)
{
	atomic_store_explicit(&a->health, h, memory_order_relaxed);
}

const char *upstream_health_name(int h);

#endif
