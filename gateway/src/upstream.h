#ifndef GATEWAY_UPSTREAM_H
#define GATEWAY_UPSTREAM_H

#include "router.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * The upstream addresses of every service, read once at start-up from
 * <SVC>_UPSTREAMS ("host:port,host:port"; an IPv6 host in brackets), with
 * the health of each. Health is written by the prober thread (health.c) and
 * by workers that see a connection refused, a connect time out, or a new
 * connection closed before any answer while the service has another
 * address in use (passive health), read by every
 * worker when it picks an address: relaxed atomics, no lock.
 *
 * An address marked down is skipped until the prober finds it up again, or
 * until the set's cool-down has passed since it was last marked down: then
 * one request (one per cool-down) may try it, and a whole answer to that
 * request marks it up. Each failed probe marks it down anew, so while the
 * prober runs more often than the cool-down, the prober alone decides; the
 * cool-down is what brings an address back when it does not (a long
 * GATEWAY_HEALTH_INTERVAL_MS, a probe round held up by a hung upstream).
 */

#define UPSTREAM_MAX_ADDRS 64
#define UPSTREAM_NAME_MAX  96
/* The cool-down upstream_set_init() gives a set. */
#define UPSTREAM_COOLDOWN_DEFAULT_MS 5000

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
	/* While down: when (monotonic ns) a request may try it again. */
	_Atomic uint64_t retry_at;
	/* Consecutive failed /health probes (the prober thread only). */
	int probe_failures;
};

struct upstream_set {
	size_t naddrs;
	uint64_t cooldown_ns; /* see UPSTREAM_COOLDOWN_DEFAULT_MS */
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

/* Empties set; its cool-down is UPSTREAM_COOLDOWN_DEFAULT_MS. */
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

/*
 * Marks a down, to be tried again by a request no sooner than cooldown_ns
 * after now_ns (an address already down gets the new time). Returns true
 * when it was not down before: the caller reports the change.
 */
bool upstream_mark_down(struct upstream_addr *a, uint64_t now_ns,
                        uint64_t cooldown_ns);

/* Marks a up. Returns true when it was not up before. */
bool upstream_mark_up(struct upstream_addr *a);

/*
 * For an address that is down: true when its cool-down has passed and this
 * caller takes the one trial of it (the next is due cooldown_ns after
 * now_ns); false otherwise, and always for all but one of several callers
 * racing for the same trial.
 */
bool upstream_claim_trial(struct upstream_addr *a, uint64_t now_ns,
                          uint64_t cooldown_ns);

const char *upstream_health_name(int h);

#endif
