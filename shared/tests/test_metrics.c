#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/metrics.h"

static int reset(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

static char *render(void)
{
	size_t len = 0;
	char *text = metrics_render(&len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

/* Number of times needle occurs in hay. */
static int occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void assert_has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++) {
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return;
	}
	fail_msg("line '%s' not in:\n%s", line, text);
}

static void test_counter(void **state)
{
	struct metric *c = metrics_counter("jobs_total", "Jobs done", "");
	char *text;

	(void)state;
	assert_non_null(c);
	assert_true(metric_value(c) == 0);
	metric_add(c, 1);
	metric_add(c, 2.5);
	assert_true(metric_value(c) == 3.5);
	/* The same name and labels give the same series. */
	assert_ptr_equal(metrics_counter("jobs_total", "Jobs done", ""), c);
	assert_ptr_equal(metrics_counter("jobs_total", "Jobs done", NULL), c);
	text = render();
	assert_has_line(text, "# HELP jobs_total Jobs done");
	assert_has_line(text, "# TYPE jobs_total counter");
	assert_has_line(text, "jobs_total 3.5");
	free(text);
}

static void test_gauge(void **state)
{
	struct metric *g =
	        metrics_gauge("pool_size", "Pool size", "pool=\"db\"");
	char *text;

	(void)state;
	metric_set(g, 10);
	metric_add(g, -3);
	assert_true(metric_value(g) == 7);
	metric_set(g, 2);
	assert_true(metric_value(g) == 2);
	text = render();
	assert_has_line(text, "# TYPE pool_size gauge");
	assert_has_line(text, "pool_size{pool=\"db\"} 2");
	free(text);
}

static void test_null_handles_are_ignored(void **state)
{
	(void)state;
	metric_add(NULL, 1);
	metric_set(NULL, 1);
	metric_observe(NULL, 1);
	assert_true(metric_value(NULL) == 0);
}

static void test_help_and_type_once_per_name(void **state)
{
	char *text;

	(void)state;
	metric_add(metrics_counter("req_total", "Requests", "code=\"200\""), 5);
	metric_add(metrics_counter("other_total", "Other", ""), 1);
	metric_add(metrics_counter("req_total", "Requests", "code=\"500\""), 2);
	text = render();
	assert_int_equal(occurrences(text, "# HELP req_total "), 1);
	assert_int_equal(occurrences(text, "# TYPE req_total counter"), 1);
	assert_has_line(text, "req_total{code=\"200\"} 5");
	assert_has_line(text, "req_total{code=\"500\"} 2");
	/* Series of one name are grouped under its HELP/TYPE. */
	char *first = strstr(text, "req_total{code=\"200\"}");
	char *second = strstr(text, "req_total{code=\"500\"}");
	char *other = strstr(text, "# HELP other_total");
	assert_true(first < second);
	assert_true(other > second || other < strstr(text, "# HELP req_total"));
	free(text);
}

static void test_histogram(void **state)
{
	struct metric *h =
	        metrics_histogram("latency_seconds", "Latency", "route=\"/x\"");
	char *text;

	(void)state;
	metric_observe(h, 0.0001); /* first bucket */
	metric_observe(h, 0.0005); /* the bound itself is inclusive */
	metric_observe(h, 0.003);  /* le=0.005 */
	metric_observe(h, 0.2);    /* le=0.25 */
	metric_observe(h, 99);     /* only +Inf */
	assert_true(metric_value(h) == 5);
	text = render();
	assert_has_line(text, "# TYPE latency_seconds histogram");
	assert_has_line(text,
	                "latency_seconds_bucket{route=\"/x\",le=\"0.0005\"} 2");
	assert_has_line(text,
	                "latency_seconds_bucket{route=\"/x\",le=\"0.001\"} 2");
	assert_has_line(text,
	                "latency_seconds_bucket{route=\"/x\",le=\"0.0025\"} 2");
	assert_has_line(text,
	                "latency_seconds_bucket{route=\"/x\",le=\"0.005\"} 3");
	assert_has_line(text,
	                "latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 3");
	assert_has_line(text,
	                "latency_seconds_bucket{route=\"/x\",le=\"0.25\"} 4");
	assert_has_line(text,
	                "latency_seconds_bucket{route=\"/x\",le=\"10\"} 4");
	assert_has_line(text,
	                "latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 5");
	assert_has_line(text, "latency_seconds_count{route=\"/x\"} 5");
	assert_non_null(
	        strstr(text, "\nlatency_seconds_sum{route=\"/x\"} 99.203"));
	assert_int_equal(occurrences(text, "latency_seconds_bucket{"), 15);
	free(text);
}

static void test_histogram_without_labels(void **state)
{
	char *text;

	(void)state;
	metric_observe(metrics_histogram("bare_seconds", "Bare", ""), 1);
	text = render();
	assert_has_line(text, "bare_seconds_bucket{le=\"0.5\"} 0");
	assert_has_line(text, "bare_seconds_bucket{le=\"1\"} 1");
	assert_has_line(text, "bare_seconds_bucket{le=\"+Inf\"} 1");
	assert_has_line(text, "bare_seconds_sum 1");
	assert_has_line(text, "bare_seconds_count 1");
	free(text);
}

static void test_empty_render(void **state)
{
	char *text;

	(void)state;
	text = render();
	assert_string_equal(text, "");
	free(text);
}

static void test_escape_label(void **state)
{
	char buf[64];

	(void)state;
	metrics_escape_label(buf, sizeof(buf), "plain /path");
	assert_string_equal(buf, "plain /path");
	metrics_escape_label(buf, sizeof(buf), "a\"b\\c\nd");
	assert_string_equal(buf, "a\\\"b\\\\c\\nd");
	metrics_escape_label(buf, sizeof(buf), "");
	assert_string_equal(buf, "");
	/* Cut to fit, never inside an escape. */
	metrics_escape_label(buf, 5, "abcdef");
	assert_string_equal(buf, "abcd");
	metrics_escape_label(buf, 5, "abc\"");
	assert_string_equal(buf, "abc");
	metrics_escape_label(buf, 1, "abc");
	assert_string_equal(buf, "");
}

static void test_escaped_label_renders(void **state)
{
	char esc[64], labels[96];
	char *text;

	(void)state;
	metrics_escape_label(esc, sizeof(esc), "say \"hi\"\\");
	snprintf(labels, sizeof(labels), "msg=\"%s\"", esc);
	metric_add(metrics_counter("esc_total", "Escaped", labels), 1);
	text = render();
	assert_has_line(text, "esc_total{msg=\"say \\\"hi\\\"\\\\\"} 1");
	free(text);
}

enum { THREADS = 8, PER_THREAD = 20000 };

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		/* Half look the series up each time, as handlers do. */
		struct metric *m = metrics_counter("race_total", "Race", "");
		metric_add(m, 1);
		metric_observe(metrics_histogram("race_seconds", "Race", ""),
		               0.01);
	}
	return NULL;
}

static void test_concurrent_updates_are_exact(void **state)
{
	pthread_t t[THREADS];

	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_true(metric_value(metrics_counter("race_total", "Race", "")) ==
	            THREADS * PER_THREAD);
	assert_true(
	        metric_value(metrics_histogram("race_seconds", "Race", "")) ==
	        THREADS * PER_THREAD);
}

static void hook(void *arg)
{
	int *calls = arg;

	(*calls)++;
	metric_set(metrics_gauge("backlog", "Backlog", ""), 100 + *calls);
}

static void test_render_hook(void **state)
{
	int calls = 0;
	char *text;

	(void)state;
	metrics_on_render(hook, &calls);
	text = render();
	assert_int_equal(calls, 1);
	assert_has_line(text, "backlog 101");
	free(text);
	text = render();
	assert_int_equal(calls, 2);
	assert_has_line(text, "backlog 102");
	free(text);
	/* metrics_reset() drops the hooks too. */
	metrics_reset();
	free(render());
	assert_int_equal(calls, 2);
}

static void test_render_len_optional(void **state)
{
	char *text;

	(void)state;
	metric_add(metrics_counter("x_total", "X", ""), 1);
	text = metrics_render(NULL);
	assert_non_null(text);
	assert_has_line(text, "x_total 1");
	free(text);
}

static void test_many_series_render(void **state)
{
	char labels[32];
	char *text;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		snprintf(labels, sizeof(labels), "id=\"%d\"", i);
		metric_add(metrics_counter("wide_total", "Wide", labels), i);
	}
	text = render();
	assert_has_line(text, "wide_total{id=\"0\"} 0");
	assert_has_line(text, "wide_total{id=\"1999\"} 1999");
	assert_int_equal(occurrences(text, "# HELP wide_total"), 1);
	free(text);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, reset, reset)
	const struct CMUnitTest tests[] = {
	        T(test_counter),
	        T(test_gauge),
	        T(test_null_handles_are_ignored),
	        T(test_help_and_type_once_per_name),
	        T(test_histogram),
	        T(test_histogram_without_labels),
	        T(test_empty_render),
	        T(test_escape_label),
	        T(test_escaped_label_renders),
	        T(test_concurrent_updates_are_exact),
	        T(test_render_hook),
	        T(test_render_len_optional),
	        T(test_many_series_render),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
