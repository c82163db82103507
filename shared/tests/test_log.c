#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shop/error.h"
#include "shop/log.h"

/* ---- capturing stdout: every line goes to a temporary file ---- */

static int saved_stdout = -1;
static FILE *captured;

static void capture_start(void)
{
	fflush(stdout);
	captured = tmpfile();
	assert_non_null(captured);
	saved_stdout = dup(STDOUT_FILENO);
	assert_true(saved_stdout >= 0);
	assert_int_equal(dup2(fileno(captured), STDOUT_FILENO), STDOUT_FILENO);
}

/* Restores stdout; returns what was written (caller frees). */
static char *capture_end(void)
{
	int fd = fileno(captured);
	off_t size;
	char *text;

	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout);
	size = lseek(fd, 0, SEEK_END);
	assert_true(size >= 0);
	text = malloc((size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(pread(fd, text, (size_t)size, 0), size);
	text[size] = '\0';
	fclose(captured);
	return text;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* Parses the single line in text as a JSON object (caller decrefs). */
static json_t *parse_one_line(const char *text)
{
	json_error_t err;
	size_t len = strlen(text);
	json_t *v;

	assert_int_equal(count_lines(text), 1);
	assert_int_equal(text[len - 1], '\n');
	v = json_loadb(text, len - 1, 0, &err);
	if (!v)
		fail_msg("invalid JSON line (%s at %d): %.200s", err.text,
		         err.column, text);
	assert_true(json_is_object(v));
	return v;
}

static int log_setup(void **state)
{
	(void)state;
	slog_init("test-svc", SLOG_DEBUG);
	return 0;
}

/* ---- slog_json_escape ---- */

static void test_escape_plain_and_specials(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(slog_json_escape(buf, sizeof(buf), "plain"), 5);
	assert_string_equal(buf, "plain");
	slog_json_escape(buf, sizeof(buf), "a\"b\\c");
	assert_string_equal(buf, "a\\\"b\\\\c");
	slog_json_escape(buf, sizeof(buf), "l1\nl2\r\tx");
	assert_string_equal(buf, "l1\\nl2\\r\\tx");
	slog_json_escape(buf, sizeof(buf), "\x01\x1f\x7f");
	assert_string_equal(buf, "\\u0001\\u001f\\u007f");
	assert_int_equal(slog_json_escape(buf, sizeof(buf), ""), 0);
	assert_string_equal(buf, "");
	/* UTF-8 passes through untouched. */
	slog_json_escape(buf, sizeof(buf), "caf\xc3\xa9");
	assert_string_equal(buf, "caf\xc3\xa9");
}

static void test_escape_truncates_whole_escapes(void **state)
{
	char buf[8];

	(void)state;
	/* "abcdefgh" needs 9 bytes: cut to 7 characters. */
	assert_int_equal(slog_json_escape(buf, sizeof(buf), "abcdefgh"), 7);
	assert_string_equal(buf, "abcdefg");
	/* An escape is never cut in half. */
	assert_int_equal(slog_json_escape(buf, sizeof(buf), "abcdef\"x"), 6);
	assert_string_equal(buf, "abcdef");
	assert_int_equal(slog_json_escape(buf, 7, "a\x01"), 1);
	assert_string_equal(buf, "a");
	assert_int_equal(slog_json_escape(buf, 1, "abc"), 0);
	assert_string_equal(buf, "");
	assert_int_equal(slog_json_escape(buf, 0, "abc"), 0);
}

static void test_escape_never_cuts_utf8(void **state)
{
	char buf[5];
	json_t *v;
	char doc[16];

	(void)state;
	/* "aé€" is 1 + 2 + 3 bytes; only "aé" fits in 4. */
	slog_json_escape(buf, sizeof(buf), "a\xc3\xa9\xe2\x82\xac");
	assert_string_equal(buf, "a\xc3\xa9");
	slog_json_escape(buf, 3, "a\xc3\xa9");
	assert_string_equal(buf, "a");
	snprintf(doc, sizeof(doc), "\"%s\"", buf);
	v = json_loads(doc, JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	json_decref(v);
}

static void test_escape_replaces_invalid_utf8(void **state)
{
	/* Stray continuation, truncated sequence, overlong, surrogate, 0xff. */
	static const char *const bad[] = {
	        "a\x80z",       "a\xc3",    "\xe2\x82",        "\xc0\xaf",
	        "\xed\xa0\x80", "\xff\xfe", "\xf4\x90\x80\x80"};
	char buf[64], doc[80];

	(void)state;
	slog_json_escape(buf, sizeof(buf), "a\x80z");
	assert_string_equal(buf, "a\\ufffdz");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		json_t *v;

		slog_json_escape(buf, sizeof(buf), bad[i]);
		snprintf(doc, sizeof(doc), "\"%s\"", buf);
		v = json_loads(doc, JSON_DECODE_ANY, NULL);
		if (!v)
			fail_msg("case %zu gave invalid JSON: %s", i, doc);
		json_decref(v);
	}
	/* Valid 4-byte characters are kept. */
	slog_json_escape(buf, sizeof(buf), "\xf0\x9f\x98\x80");
	assert_string_equal(buf, "\xf0\x9f\x98\x80");
}

/* ---- lines ---- */

static void test_line_has_every_member(void **state)
{
	json_t *v;
	char *text;
	const char *ts;

	(void)state;
	capture_start();
	slog_kv(SLOG_WARN, "req-1", "say \"hi\"\nnow", SLOG_S("path", "/a\\b"),
	        SLOG_S("missing", NULL), SLOG_I("status", -404),
	        SLOG_D("ms", 1.5));
	text = capture_end();
	v = parse_one_line(text);
	ts = json_string_value(json_object_get(v, "ts"));
	assert_non_null(ts);
	/* 2026-01-02T03:04:05.678Z */
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[23], 'Z');
	assert_string_equal(json_string_value(json_object_get(v, "level")),
	                    "warn");
	assert_string_equal(json_string_value(json_object_get(v, "service")),
	                    "test-svc");
	assert_string_equal(json_string_value(json_object_get(v, "msg")),
	                    "say \"hi\"\nnow");
	assert_string_equal(json_string_value(json_object_get(v, "request_id")),
	                    "req-1");
	assert_string_equal(json_string_value(json_object_get(v, "path")),
	                    "/a\\b");
	assert_true(json_is_null(json_object_get(v, "missing")));
	assert_int_equal(json_integer_value(json_object_get(v, "status")),
	                 -404);
	assert_true(json_number_value(json_object_get(v, "ms")) == 1.5);
	json_decref(v);
	free(text);
}

static void test_non_finite_double_is_null(void **state)
{
	json_t *v;
	char *text;

	(void)state;
	capture_start();
	slog_kv(SLOG_INFO, NULL, "m", SLOG_D("nan", NAN),
	        SLOG_D("inf", INFINITY), SLOG_S("bad", "\xff"));
	text = capture_end();
	v = parse_one_line(text);
	assert_true(json_is_null(json_object_get(v, "nan")));
	assert_true(json_is_null(json_object_get(v, "inf")));
	assert_string_equal(json_string_value(json_object_get(v, "bad")),
	                    "\xef\xbf\xbd");
	json_decref(v);
	free(text);
}

static void test_no_request_id_when_null(void **state)
{
	json_t *v;
	char *text;

	(void)state;
	capture_start();
	slog_write(SLOG_ERROR, NULL, NULL, NULL, 0);
	text = capture_end();
	v = parse_one_line(text);
	assert_null(json_object_get(v, "request_id"));
	assert_string_equal(json_string_value(json_object_get(v, "level")),
	                    "error");
	assert_string_equal(json_string_value(json_object_get(v, "msg")), "");
	json_decref(v);
	free(text);
}

static void test_msg_is_formatted(void **state)
{
	json_t *v;
	char *text;

	(void)state;
	capture_start();
	slog_msg(SLOG_INFO, "rid", "cannot connect to '%s': %d", "db", 5);
	text = capture_end();
	v = parse_one_line(text);
	assert_string_equal(json_string_value(json_object_get(v, "msg")),
	                    "cannot connect to 'db': 5");
	assert_string_equal(json_string_value(json_object_get(v, "request_id")),
	                    "rid");
	json_decref(v);
	free(text);
}

static void test_level_floor(void **state)
{
	char *text;

	(void)state;
	slog_init("test-svc", SLOG_WARN);
	assert_false(slog_enabled(SLOG_DEBUG));
	assert_false(slog_enabled(SLOG_INFO));
	assert_true(slog_enabled(SLOG_WARN));
	assert_true(slog_enabled(SLOG_ERROR));
	capture_start();
	slog_debug("hidden %d", 1);
	slog_info("hidden %d", 2);
	slog_kv(SLOG_INFO, NULL, "hidden", SLOG_I("n", 3));
	slog_warn("shown %d", 4);
	slog_error("shown %d", 5);
	text = capture_end();
	slog_init("test-svc", SLOG_DEBUG);
	assert_int_equal(count_lines(text), 2);
	assert_null(strstr(text, "hidden"));
	assert_non_null(strstr(text, "\"msg\":\"shown 4\""));
	assert_non_null(strstr(text, "\"msg\":\"shown 5\""));
	free(text);
}

static void test_level_parse(void **state)
{
	static const struct {
		const char *s;
		enum slog_level want;
	} ok[] = {{"debug", SLOG_DEBUG}, {"info", SLOG_INFO},
	          {"warn", SLOG_WARN},   {"error", SLOG_ERROR},
	          {"INFO", SLOG_INFO},   {"warning", SLOG_WARN}};
	enum slog_level l;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		l = (enum slog_level)99;
		assert_int_equal(slog_level_parse(ok[i].s, &l), 0);
		assert_int_equal(l, ok[i].want);
	}
	l = SLOG_ERROR;
	assert_int_equal(slog_level_parse("verbose", &l), SHOP_EINVAL);
	assert_int_equal(slog_level_parse("", &l), SHOP_EINVAL);
	assert_int_equal(slog_level_parse("info ", &l), SHOP_EINVAL);
	assert_int_equal(l, SLOG_ERROR);
}

/* ---- truncation: a huge line is cut but stays one valid JSON object ---- */

static void check_huge(const char *msg, int with_tail)
{
	json_t *v;
	char *text;

	capture_start();
	if (with_tail)
		slog_kv(SLOG_INFO, "rid-7", msg, SLOG_S("k", "v"),
		        SLOG_I("n", 1));
	else
		slog_write(SLOG_INFO, NULL, msg, NULL, 0);
	text = capture_end();
	assert_true(strlen(text) <= 8192);
	v = parse_one_line(text);
	assert_true(json_string_length(json_object_get(v, "msg")) > 1000);
	json_decref(v);
	free(text);
}

static char *repeat(const char *unit, size_t times)
{
	size_t ulen = strlen(unit);
	char *s = malloc(ulen * times + 1);

	assert_non_null(s);
	for (size_t i = 0; i < times; i++)
		memcpy(s + i * ulen, unit, ulen);
	s[ulen * times] = '\0';
	return s;
}

static void test_huge_message_stays_valid(void **state)
{
	static const char *const units[] = {"x",        "\"",          "\\",
	                                    "\n",       "\x01",        "a\"",
	                                    "\xc3\xa9", "\xe2\x82\xac"};
	/* Service names of six lengths move the cut across every escape. */
	static const char *const services[] = {"s",    "sv",    "svc",
	                                       "svc4", "svc-5", "svc-06"};

	(void)state;
	for (size_t u = 0; u < sizeof(units) / sizeof(*units); u++) {
		char *msg = repeat(units[u], 20000);
		for (size_t i = 0; i < sizeof(services) / sizeof(*services);
		     i++) {
			slog_init(services[i], SLOG_DEBUG);
			check_huge(msg, 0);
			check_huge(msg, 1);
		}
		free(msg);
	}
	slog_init("test-svc", SLOG_DEBUG);
}

static void test_huge_fields_stay_valid(void **state)
{
	struct slog_field fields[600];
	char *big = repeat("\"y", 5000);
	json_t *v;
	char *text;

	(void)state;
	for (size_t i = 0; i < 600; i++)
		fields[i] = SLOG_S(i % 2 ? "key_number_odd" : "key_number_even",
		                   big);
	capture_start();
	slog_write(SLOG_INFO, "rid", "short", fields, 600);
	slog_msg(SLOG_INFO, NULL, "%s", big);
	text = capture_end();
	assert_int_equal(count_lines(text), 2);
	*strchr(text, '\n') = '\0';
	v = json_loads(text, 0, NULL);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "msg")),
	                    "short");
	json_decref(v);
	v = json_loads(text + strlen(text) + 1, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(v);
	json_decref(v);
	free(text);
	free(big);
}

static void *writer(void *arg)
{
	char *msg = arg;

	for (int i = 0; i < 200; i++)
		slog_kv(SLOG_INFO, NULL, msg, SLOG_I("i", i));
	return NULL;
}

static void test_threads_never_interleave(void **state)
{
	pthread_t t[4];
	char *msgs[4];
	char *text, *line, *save = NULL;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 4; i++)
		msgs[i] = repeat(i % 2 ? "ab" : "xyz", 1000);
	capture_start();
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, writer, msgs[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	text = capture_end();
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *v = json_loads(line, 0, NULL);
		assert_non_null(v);
		json_decref(v);
		n++;
	}
	assert_int_equal(n, 800);
	free(text);
	for (int i = 0; i < 4; i++)
		free(msgs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_escape_plain_and_specials),
	        cmocka_unit_test(test_escape_truncates_whole_escapes),
	        cmocka_unit_test(test_escape_never_cuts_utf8),
	        cmocka_unit_test(test_escape_replaces_invalid_utf8),
	        cmocka_unit_test(test_line_has_every_member),
	        cmocka_unit_test(test_non_finite_double_is_null),
	        cmocka_unit_test(test_no_request_id_when_null),
	        cmocka_unit_test(test_msg_is_formatted),
	        cmocka_unit_test(test_level_floor),
	        cmocka_unit_test(test_level_parse),
	        cmocka_unit_test(test_huge_message_stays_valid),
	        cmocka_unit_test(test_huge_fields_stay_valid),
	        cmocka_unit_test(test_threads_never_interleave),
	};
	return cmocka_run_group_tests(tests, log_setup, NULL);
}
