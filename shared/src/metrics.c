#include "shop/metrics.h"
#include "shop/error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

static const double hist_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025,  0.05,  0.1,    0.25,  0.5,
                                     1,      2.5,   5,      10};
#define NBUCKETS (sizeof(hist_bounds) / sizeof(*hist_bounds))

struct metric {
	struct metric *next_in_bucket;
	struct metric *next_in_order; /* registration order, for rendering */
	enum metric_type type;
	const char *help;
	char *name;
	char *labels;
	_Atomic double value; /* counter/gauge value, histogram sum */
	_Atomic uint64_t count;
	_Atomic uint64_t buckets[NBUCKETS];
};

#define TABLE_SIZE 1024

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric *table[TABLE_SIZE];
static struct metric *first, *last;

struct render_hook {
	void (*fn)(void *);
	void *arg;
};
static struct render_hook hooks[16];
static size_t nhooks;

static uint32_t hash(const char *name, const char *labels)
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '{') * 16777619u;
	for (const char *p = labels; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static struct metric *lookup(enum metric_type type, const char *name,
                             const char *help, const char *labels)
{
	uint32_t slot = hash(name, labels) % TABLE_SIZE;
	struct metric *m;

	if (!labels)
		labels = "";
	pthread_mutex_lock(&lock);
	for (m = table[slot]; m; m = m->next_in_bucket) {
		if (strcmp(m->name, name) == 0 &&
		    strcmp(m->labels, labels) == 0)
			break;
	}
	if (m) {
		pthread_mutex_unlock(&lock);
		if (m->type != type)
			BUG("metric '%s' registered with two types", name);
		return m;
	}
	/* A name must keep one type across its label sets. */
	for (struct metric *o = first; o; o = o->next_in_order) {
		if (strcmp(o->name, name) == 0 && o->type != type)
			BUG("metric '%s' registered with two types", name);
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto out;
	m->name = strdup(name);
	m->labels = strdup(labels);
	if (!m->name || !m->labels) {
		free(m->name);
		free(m->labels);
		free(m);
		m = NULL;
		goto out;
	}
	m->type = type;
	m->help = help;
	m->next_in_bucket = table[slot];
	table[slot] = m;
	if (last)
		last->next_in_order = m;
	else
		first = m;
	last = m;
out:
	pthread_mutex_unlock(&lock);
	return m;
}

struct metric *metrics_counter(const char *name, const char *help,
                               const char *labels)
{
	return lookup(METRIC_COUNTER, name, help, labels ? labels : "");
}

struct metric *metrics_gauge(const char *name, const char *help,
                             const char *labels)
{
	return lookup(METRIC_GAUGE, name, help, labels ? labels : "");
}

struct metric *metrics_histogram(const char *name, const char *help,
                                 const char *labels)
{
	return lookup(METRIC_HISTOGRAM, name, help, labels ? labels : "");
}

static void atomic_add_double(_Atomic double *p, double v)
{
	double old = atomic_load_explicit(p, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(
	        p, &old, old + v, memory_order_relaxed, memory_order_relaxed))
		;
}

void metric_add(struct metric *m, double v)
{
	if (!m)
		return;
	atomic_add_double(&m->value, v);
}

void metric_set(struct metric *m, double v)
{
	if (!m)
		return;
	atomic_store_explicit(&m->value, v, memory_order_relaxed);
}

void metric_observe(struct metric *m, double v)
{
	if (!m)
		return;
	for (size_t i = 0; i < NBUCKETS; i++) {
		if (v <= hist_bounds[i]) {
			atomic_fetch_add_explicit(&m->buckets[i], 1,
			                          memory_order_relaxed);
			break;
		}
	}
	atomic_add_double(&m->value, v);
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

double metric_value(const struct metric *m)
{
	if (!m)
		return 0;
	if (m->type == METRIC_HISTOGRAM)
		return (double)atomic_load(&m->count);
	return atomic_load(&m->value);
}

void metrics_on_render(void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&lock);
	if (nhooks == sizeof(hooks) / sizeof(*hooks))
		BUG("too many metrics render hooks");
	hooks[nhooks].fn = fn;
	hooks[nhooks].arg = arg;
	nhooks++;
	pthread_mutex_unlock(&lock);
}

struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void buf_printf(struct buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap + (size_t)n + 1) * 2;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

static const char *type_name(enum metric_type t)
{
	return t == METRIC_COUNTER ? "counter"
	       : t == METRIC_GAUGE ? "gauge"
	                           : "histogram";
}

/* Writes name{labels[,extra]} into b. */
static void series(struct buf *b, const char *name, const char *suffix,
                   const char *labels, const char *extra)
{
	bool any = *labels || (extra && *extra);

	buf_printf(b, "%s%s", name, suffix);
	if (!any)
		return;
	buf_printf(b, "{%s%s%s}", labels, *labels && extra && *extra ? "," : "",
	           extra ? extra : "");
}

char *metrics_render(size_t *len)
{
	struct buf b = {.p = malloc(4096), .len = 0, .cap = 4096};
	struct render_hook local[16];
	size_t n;

	if (!b.p)
		return NULL;
	b.p[0] = '\0';
	pthread_mutex_lock(&lock);
	n = nhooks;
	memcpy(local, hooks, sizeof(local));
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < n; i++)
		local[i].fn(local[i].arg);

	pthread_mutex_lock(&lock);
	for (struct metric *m = first; m; m = m->next_in_order) {
		/* HELP and TYPE once per name, before its first series. */
		bool seen = false;
		for (struct metric *o = first; o != m; o = o->next_in_order) {
			if (strcmp(o->name, m->name) == 0) {
				seen = true;
				break;
			}
		}
		if (seen)
			continue;
		buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", m->name,
		           m->help ? m->help : m->name, m->name,
		           type_name(m->type));
		for (struct metric *s = m; s; s = s->next_in_order) {
			if (strcmp(s->name, m->name) != 0)
				continue;
			if (s->type != METRIC_HISTOGRAM) {
				series(&b, s->name, "", s->labels, NULL);
				buf_printf(&b, " %.17g\n",
				           atomic_load(&s->value));
				continue;
			}
			uint64_t cum = 0;
			char le[48];
			for (size_t i = 0; i < NBUCKETS; i++) {
				cum += atomic_load(&s->buckets[i]);
				snprintf(le, sizeof(le), "le=\"%g\"",
				         hist_bounds[i]);
				series(&b, s->name, "_bucket", s->labels, le);
				buf_printf(&b, " %llu\n",
				           (unsigned long long)cum);
			}
			series(&b, s->name, "_bucket", s->labels,
			       "le=\"+Inf\"");
			buf_printf(&b, " %llu\n",
			           (unsigned long long)atomic_load(&s->count));
			series(&b, s->name, "_sum", s->labels, NULL);
			buf_printf(&b, " %.17g\n", atomic_load(&s->value));
			series(&b, s->name, "_count", s->labels, NULL);
			buf_printf(&b, " %llu\n",
			           (unsigned long long)atomic_load(&s->count));
		}
	}
	pthread_mutex_unlock(&lock);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	if (len)
		*len = b.len;
	return b.p;
}

void metrics_reset(void)
{
	struct metric *m, *next;

	pthread_mutex_lock(&lock);
	for (m = first; m; m = next) {
		next = m->next_in_order;
		free(m->name);
		free(m->labels);
		free(m);
	}
	first = last = NULL;
	memset(table, 0, sizeof(table));
	nhooks = 0;
	pthread_mutex_unlock(&lock);
}

void metrics_escape_label(char *buf, size_t cap, const char *value)
{
	size_t n = 0;

	if (cap == 0)
		return;
	for (; *value; value++) {
		const char *rep = NULL;
		char one[2] = {*value, '\0'};

		if (*value == '\\')
			rep = "\\\\";
		else if (*value == '"')
			rep = "\\\"";
		else if (*value == '\n')
			rep = "\\n";
		else
			rep = one;
		size_t len = strlen(rep);
		if (n + len >= cap)
			break;
		memcpy(buf + n, rep, len);
		n += len;
	}
	buf[n] = '\0';
}
