#ifndef SHOP_BREAKER_H
#define SHOP_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A circuit breaker for one upstream, so that a dependency that is down
 * costs its callers nothing but a quick SHOP_EUNAVAIL instead of a timeout
 * each.
 *
 *   closed     calls go through; failures_to_open consecutive failures
 *              open it (a success resets the count);
 *   open       every call is refused for open_ms;
 *   half_open  after the cool-down, exactly one call (the probe) goes
 *              through while the others are still refused; its success
 *              closes the breaker, its failure opens it for another open_ms.
 *
 * Open becomes half-open lazily, on the first breaker_allow() after the
 * cool-down. Every transition is logged once ("circuit to 'product' opened
 * after 5 consecutive failures") and the state is the gauge
 * http_client_breaker_state{upstream="<name>"}: 0 closed, 1 half-open,
 * 2 open. The clock is injected so tests drive it by hand. All functions are
 * thread-safe (one mutex, held for a few instructions).
 */
enum breaker_state {
	BREAKER_CLOSED = 0,
	BREAKER_HALF_OPEN = 1,
	BREAKER_OPEN = 2,
};

struct breaker;

struct breaker_options {
	/* Upstream name for logs and the metric label. Copied. NULL means
	 * "upstream". */
	const char *name;
	int failures_to_open; /* consecutive failures; 0 means 5 */
	int open_ms;          /* cool-down before the probe; 0 means 5000 */
	/* Monotonic clock in nanoseconds; NULL means shop_now_ns(). Tests
	 * pass a fake. clock_arg is borrowed. */
	uint64_t (*clock)(void *clock_arg);
	void *clock_arg;
};

/*
 * Creates a closed breaker and sets its gauge to 0. Returns 0 and *out
 * (free with breaker_free()), SHOP_EINVAL for a negative number, or
 * SHOP_ENOMEM.
 */
int breaker_new(const struct breaker_options *opt, struct breaker **out);

/* Frees b. Accepts NULL. */
void breaker_free(struct breaker *b);

/*
 * Asks whether a call may go out now. Returns 0 when it may, with *probe
 * set to true when this call is the half-open probe (false otherwise); or
 * SHOP_EUNAVAIL when the breaker is open, or half-open with the probe
 * already out: the caller must fail without touching the network.
 * Every call allowed must be reported once with breaker_record() or
 * breaker_cancel() with the same probe value.
 */
int breaker_allow(struct breaker *b, bool *probe);

/*
 * Reports the outcome of an allowed call: ok is false for a failure of the
 * upstream (refused, reset, timeout, 5xx). A probe's outcome closes or
 * reopens the breaker; a non-probe outcome only counts while closed (a
 * late answer from before the breaker opened changes nothing).
 */
void breaker_record(struct breaker *b, bool probe, bool ok);

/* Reports an allowed call that ended without telling anything about the
 * upstream (out of memory before sending): a probe slot is given back. */
void breaker_cancel(struct breaker *b, bool probe);

/* The current state (open is reported until the next breaker_allow() after
 * the cool-down turns it half-open). */
enum breaker_state breaker_state_get(struct breaker *b);

/* "closed", "half-open" or "open". */
const char *breaker_state_name(enum breaker_state s);

#endif
