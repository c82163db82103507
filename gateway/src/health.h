#ifndef GATEWAY_HEALTH_H
#define GATEWAY_HEALTH_H

#include "upstream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/*
 * The prober: a thread that asks every upstream address for GET /health,
 * all of them at once, every interval, and records up or down in the
 * address (upstream.h). Workers route around the addresses found down;
 * /ready reports them. A probe is up on a 2xx within the timeout. An
 * address that workers marked down (passive health) comes back with the
 * first probe that finds it up.
 */
struct health_prober {
	struct upstream_set *set; /* borrowed */
	unsigned interval_ms;
	unsigned timeout_ms;
	int wake_fd;        /* eventfd: stop */
	atomic_uint rounds; /* completed probe rounds */
	pthread_t thread;
	bool started;
};

/* Starts the thread; set is borrowed. Returns 0 or SHOP_ERR. */
int health_prober_start(struct health_prober *hp, struct upstream_set *set,
                        unsigned interval_ms, unsigned timeout_ms);

/* Stops and joins the thread. Accepts a prober that never started. */
void health_prober_stop(struct health_prober *hp);

/* Probes every address once, now, in the calling thread (used at start-up
 * and by the thread). */
void health_probe_round(struct upstream_set *set, unsigned timeout_ms);

#endif
