#ifndef SHOP_METRICS_H
#define SHOP_METRICS_H

#include <stddef.h>

/*
 * A process-wide registry of metrics rendered in the Prometheus text
 * exposition format. Series are created on first use and live until
 * metrics_reset(); the returned handles stay valid until then, so hot paths
 * may cache them. All functions are thread-safe; updates are lock-free
 * atomics, lookups take a mutex.
 *
 * labels is the inside of the braces, already escaped, e.g.
 * `route="/api/products",method="GET",status="200"`, or "" for none.
 */
struct metric;

/* Returns the counter series name{labels}, creating it (with help, borrowed
 * string literal) on first use; NULL when out of memory. BUG()s if the name
 * was registered before as another type. */
struct metric *metrics_counter(const char *name, const char *help,
                               const char *labels);
struct metric *metrics_gauge(const char *name, const char *help,
                             const char *labels);
/* Histogram with the default latency buckets (seconds, 0.5 ms .. 10 s). */
struct metric *metrics_histogram(const char *name, const char *help,
                                 const char *labels);

/* Counter: adds v (>= 0). Gauge: sets / adds. Histogram: observes v.
 * All accept NULL (a failed lookup) and do nothing then. */
void metric_add(struct metric *m, double v);
void metric_set(struct metric *m, double v);
void metric_observe(struct metric *m, double v);

/* Current value of a counter or gauge; count of a histogram. */
double metric_value(const struct metric *m);

/*
 * Calls fn before every render, so gauges that mirror state elsewhere
 * (pool size, outbox backlog) are fresh. fn and arg are borrowed.
 */
void metrics_on_render(void (*fn)(void *arg), void *arg);

/* Renders every series; returns a malloc'd NUL-terminated string (caller
 * frees) and its length in *len, or NULL when out of memory. */
char *metrics_render(size_t *len);

/* Drops every series (tests only). Handles become invalid. */
void metrics_reset(void);

/* Escapes a label value into buf (cap bytes, NUL-terminated). */
void metrics_escape_label(char *buf, size_t cap, const char *value);

#endif
