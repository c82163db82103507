#include "shop/breaker.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct breaker {
	pthread_mutex_t lock;
	char *name;
	char label[200]; /* upstream="<name>" */
	int failures_to_open;
	int open_ms;
	uint64_t (*clock)(void *clock_arg);
	void *clock_arg;

	/* Under lock. */
	enum breaker_state state;
	int failures;       /* consecutive, while closed */
	uint64_t reopen_ns; /* while open: when the probe may go */
	bool probe_out;     /* while half-open */
};

static uint64_t default_clock(void *arg)
{
	(void)arg;
	return shop_now_ns();
}

const char *breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:
		return "closed";
	case BREAKER_HALF_OPEN:
		return "half-open";
	case BREAKER_OPEN:
		return "open";
	}
	return "unknown";
}

static void publish_state(struct breaker *b, enum breaker_state s)
{
	metric_set(metrics_gauge("http_client_breaker_state",
	                         "Circuit breaker per upstream: 0 closed, 1 "
	                         "half-open, 2 open.",
	                         b->label),
	           (double)s);
}

/* Under lock. */
static void open_circuit(struct breaker *b, uint64_t now)
{
	b->state = BREAKER_OPEN;
	b->reopen_ns = now + (uint64_t)b->open_ms * 1000000u;
	b->probe_out = false;
	b->failures = 0;
	publish_state(b, BREAKER_OPEN);
}

int breaker_new(const struct breaker_options *opt, struct breaker **out)
{
	struct breaker *b;
	char esc[160];
	const char *name = opt->name ? opt->name : "upstream";

	if (opt->failures_to_open < 0 || opt->open_ms < 0)
		return SHOP_EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return SHOP_ENOMEM;
	b->name = strdup(name);
	if (!b->name) {
		free(b);
		return SHOP_ENOMEM;
	}
	pthread_mutex_init(&b->lock, NULL);
	metrics_escape_label(esc, sizeof(esc), name);
	snprintf(b->label, sizeof(b->label), "upstream=\"%s\"", esc);
	b->failures_to_open = opt->failures_to_open ? opt->failures_to_open : 5;
	b->open_ms = opt->open_ms ? opt->open_ms : 5000;
	b->clock = opt->clock ? opt->clock : default_clock;
	b->clock_arg = opt->clock_arg;
	b->state = BREAKER_CLOSED;
	publish_state(b, BREAKER_CLOSED);
	*out = b;
	return 0;
}

void breaker_free(struct breaker *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->name);
	free(b);
}

int breaker_allow(struct breaker *b, bool *probe)
{
	int ret = 0;
	bool is_probe = false;

	pthread_mutex_lock(&b->lock);
	switch (b->state) {
	case BREAKER_CLOSED:
		break;
	case BREAKER_OPEN:
		if (b->clock(b->clock_arg) < b->reopen_ns) {
			ret = SHOP_EUNAVAIL;
			break;
		}
		b->state = BREAKER_HALF_OPEN;
		b->probe_out = true;
		is_probe = true;
		publish_state(b, BREAKER_HALF_OPEN);
		slog_info("circuit to '%s' half-open: letting one probe "
		          "through after %d ms",
		          b->name, b->open_ms);
		break;
	case BREAKER_HALF_OPEN:
		if (b->probe_out) {
			ret = SHOP_EUNAVAIL;
			break;
		}
		b->probe_out = true;
		is_probe = true;
		break;
	}
	pthread_mutex_unlock(&b->lock);
	if (ret == 0)
		*probe = is_probe;
	return ret;
}

void breaker_record(struct breaker *b, bool probe, bool ok)
{
	pthread_mutex_lock(&b->lock);
	if (probe) {
		if (b->state != BREAKER_HALF_OPEN) {
			/* Cannot happen: only the probe leaves half-open. */
		} else if (ok) {
			b->state = BREAKER_CLOSED;
			b->failures = 0;
			b->probe_out = false;
			publish_state(b, BREAKER_CLOSED);
			slog_info("circuit to '%s' closed: the probe succeeded",
			          b->name);
		} else {
			open_circuit(b, b->clock(b->clock_arg));
			slog_warn("circuit to '%s' opened again: the probe "
			          "failed; next probe in %d ms",
			          b->name, b->open_ms);
		}
	} else if (b->state == BREAKER_CLOSED) {
		if (ok) {
			b->failures = 0;
		} else if (++b->failures >= b->failures_to_open) {
			int n = b->failures;

			open_circuit(b, b->clock(b->clock_arg));
			slog_warn("circuit to '%s' opened after %d consecutive "
			          "failures; failing fast for %d ms",
			          b->name, n, b->open_ms);
		}
	}
	pthread_mutex_unlock(&b->lock);
}

void breaker_cancel(struct breaker *b, bool probe)
{
	if (!probe)
		return;
	pthread_mutex_lock(&b->lock);
	if (b->state == BREAKER_HALF_OPEN)
		b->probe_out = false;
	pthread_mutex_unlock(&b->lock);
}

enum breaker_state breaker_state_get(struct breaker *b)
{
	enum breaker_state s;

	pthread_mutex_lock(&b->lock);
	s = b->state;
	pthread_mutex_unlock(&b->lock);
	return s;
}
