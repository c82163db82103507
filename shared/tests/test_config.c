#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shop/config.h"
#include "shop/error.h"
#include "shop/log.h"

#define VAR "SHOP_TEST_CONFIG_VAR"

/* The rejected values log an error line on stdout: keep it for checks. */
static int saved_stdout = -1;
static FILE *captured;

static void capture_start(void)
{
	fflush(stdout);
	captured = tmpfile();
	assert_non_null(captured);
	saved_stdout = dup(STDOUT_FILENO);
	dup2(fileno(captured), STDOUT_FILENO);
}

static char *capture_end(void)
{
	int fd = fileno(captured);
	off_t size = lseek(fd, 0, SEEK_END);
	char *text = malloc((size_t)size + 1);

	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout);
	assert_non_null(text);
	assert_int_equal(pread(fd, text, (size_t)size, 0), size);
	text[size] = '\0';
	fclose(captured);
	return text;
}

static void set(const char *value)
{
	if (value)
		setenv(VAR, value, 1);
	else
		unsetenv(VAR);
}

static int teardown(void **state)
{
	(void)state;
	unsetenv(VAR);
	return 0;
}

static void test_string(void **state)
{
	const char *out = NULL;

	(void)state;
	set(NULL);
	assert_int_equal(config_string(VAR, "dflt", &out), 0);
	assert_string_equal(out, "dflt");
	set("");
	assert_int_equal(config_string(VAR, "dflt", &out), 0);
	assert_string_equal(out, "dflt");
	assert_int_equal(config_string(VAR, NULL, &out), 0);
	assert_null(out);
	set("hello world");
	assert_int_equal(config_string(VAR, "dflt", &out), 0);
	assert_string_equal(out, "hello world");
}

static void test_required_string(void **state)
{
	const char *out = "untouched";

	(void)state;
	set(NULL);
	assert_int_equal(config_required_string(VAR, "dflt", &out), 0);
	assert_string_equal(out, "dflt");
	set("value");
	assert_int_equal(config_required_string(VAR, NULL, &out), 0);
	assert_string_equal(out, "value");

	out = "untouched";
	set(NULL);
	assert_int_equal(config_required_string(VAR, NULL, &out), SHOP_EINVAL);
	assert_int_equal(config_required_string(VAR, "", &out), SHOP_EINVAL);
	set("");
	assert_int_equal(config_required_string(VAR, NULL, &out), SHOP_EINVAL);
	assert_string_equal(out, "untouched");
}

static void test_long_valid(void **state)
{
	long out = 0;

	(void)state;
	set(NULL);
	assert_int_equal(config_long(VAR, 7, 0, 10, &out), 0);
	assert_int_equal(out, 7);
	set("");
	assert_int_equal(config_long(VAR, 8, 0, 10, &out), 0);
	assert_int_equal(out, 8);
	set("10");
	assert_int_equal(config_long(VAR, 7, 0, 10, &out), 0);
	assert_int_equal(out, 10);
	set("0");
	assert_int_equal(config_long(VAR, 7, 0, 10, &out), 0);
	assert_int_equal(out, 0);
	set("-5");
	assert_int_equal(config_long(VAR, 7, -10, 10, &out), 0);
	assert_int_equal(out, -5);
}

static void test_long_invalid(void **state)
{
	static const char *const bad[] = {"11",
	                                  "-1",
	                                  "abc",
	                                  "1.5",
	                                  " 1",
	                                  "1 ",
	                                  "+1",
	                                  "0x5",
	                                  "5k",
	                                  "-",
	                                  "99999999999999999999999",
	                                  "-99999999999999999999999"};
	long out = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		set(bad[i]);
		if (config_long(VAR, 7, 0, 10, &out) != SHOP_EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(out, 42);
	}
}

static void test_port(void **state)
{
	static const char *const bad[] = {"0",    "65536", "-1",
	                                  "http", "80a",   "1e3"};
	int out = 0;

	(void)state;
	set(NULL);
	assert_int_equal(config_port(VAR, 8080, &out), 0);
	assert_int_equal(out, 8080);
	set("1");
	assert_int_equal(config_port(VAR, 8080, &out), 0);
	assert_int_equal(out, 1);
	set("65535");
	assert_int_equal(config_port(VAR, 8080, &out), 0);
	assert_int_equal(out, 65535);
	out = 99;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		set(bad[i]);
		if (config_port(VAR, 8080, &out) != SHOP_EINVAL)
			fail_msg("port '%s' was accepted", bad[i]);
		assert_int_equal(out, 99);
	}
}

static void test_bool_spellings(void **state)
{
	static const char *const yes[] = {"true", "1",   "yes", "on",
	                                  "TRUE", "Yes", "ON"};
	static const char *const no[] = {"false", "0",  "no", "off",
	                                 "FALSE", "No", "Off"};
	bool out;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		set(yes[i]);
		out = false;
		assert_int_equal(config_bool(VAR, false, &out), 0);
		assert_true(out);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
		set(no[i]);
		out = true;
		assert_int_equal(config_bool(VAR, true, &out), 0);
		assert_false(out);
	}
	set(NULL);
	assert_int_equal(config_bool(VAR, true, &out), 0);
	assert_true(out);
	set("");
	assert_int_equal(config_bool(VAR, false, &out), 0);
	assert_false(out);
}

static void test_bool_invalid(void **state)
{
	static const char *const bad[] = {"2",     "y",     "n", "enabled",
	                                  "truee", " true", "-1"};
	bool out = true;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		set(bad[i]);
		if (config_bool(VAR, false, &out) != SHOP_EINVAL)
			fail_msg("bool '%s' was accepted", bad[i]);
		assert_true(out);
	}
}

static void test_readable_file(void **state)
{
	char path[] = "/tmp/shop_test_config_XXXXXX";
	const char *out = "untouched";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	set(path);
	assert_int_equal(config_readable_file(VAR, NULL, &out), 0);
	assert_string_equal(out, path);
	set(NULL);
	assert_int_equal(config_readable_file(VAR, path, &out), 0);
	assert_string_equal(out, path);

	out = "untouched";
	assert_int_equal(config_readable_file(VAR, NULL, &out), SHOP_EINVAL);
	set("/tmp");
	assert_int_equal(config_readable_file(VAR, NULL, &out), SHOP_EINVAL);
	set("/nonexistent/shop/file");
	assert_int_equal(config_readable_file(VAR, path, &out), SHOP_EINVAL);
	if (geteuid() != 0) { /* root reads anything */
		chmod(path, 0);
		set(path);
		assert_int_equal(config_readable_file(VAR, NULL, &out),
		                 SHOP_EINVAL);
	}
	assert_string_equal(out, "untouched");
	unlink(path);
}

/* Writes text to a fresh temporary file and returns its path (static). */
static const char *secret_file(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/shop_test_secret_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_secret_file(void **state)
{
	char *out = NULL, *text;
	const char *path;
	int rc;

	(void)state;
	path = secret_file("0123456789abcdef0123456789abcdef\n");
	set(path);
	assert_int_equal(config_secret_file(VAR, NULL, 32, &out), 0);
	assert_string_equal(out, "0123456789abcdef0123456789abcdef");
	free(out);
	out = NULL;
	unlink(path);

	/* CRLF and no line end at all both work; only the first line. */
	path = secret_file("token-of-sixteen\r\nsecond line\n");
	set(NULL);
	assert_int_equal(config_secret_file(VAR, path, 16, &out), 0);
	assert_string_equal(out, "token-of-sixteen");
	free(out);
	out = NULL;
	unlink(path);

	/* Too short, a space inside, empty, missing: rejected, and the log
	 * line names the path but never the contents. */
	path = secret_file("short-secret\n");
	set(path);
	capture_start();
	rc = config_secret_file(VAR, NULL, 32, &out);
	text = capture_end();
	assert_int_equal(rc, SHOP_EINVAL);
	assert_null(out);
	assert_non_null(strstr(text, path));
	assert_null(strstr(text, "short-secret"));
	free(text);
	unlink(path);

	path = secret_file("has a space in the middle of it ok\n");
	set(path);
	assert_int_equal(config_secret_file(VAR, NULL, 8, &out), SHOP_EINVAL);
	unlink(path);
	path = secret_file("");
	set(path);
	assert_int_equal(config_secret_file(VAR, NULL, 1, &out), SHOP_EINVAL);
	unlink(path);
	set("/nonexistent/shop/secret");
	assert_int_equal(config_secret_file(VAR, NULL, 1, &out), SHOP_EINVAL);
	assert_null(out);
}

static void test_directory(void **state)
{
	char path[] = "/tmp/shop_test_config_XXXXXX";
	const char *out = "untouched";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	set("/tmp");
	assert_int_equal(config_directory(VAR, NULL, &out), 0);
	assert_string_equal(out, "/tmp");
	set(NULL);
	assert_int_equal(config_directory(VAR, "/", &out), 0);
	assert_string_equal(out, "/");

	out = "untouched";
	assert_int_equal(config_directory(VAR, NULL, &out), SHOP_EINVAL);
	set(path);
	assert_int_equal(config_directory(VAR, "/tmp", &out), SHOP_EINVAL);
	set("/nonexistent/shop/dir");
	assert_int_equal(config_directory(VAR, "/tmp", &out), SHOP_EINVAL);
	assert_string_equal(out, "untouched");
	unlink(path);
}

static void test_rejection_logs_one_line(void **state)
{
	long out;
	char *text;

	(void)state;
	set("abc");
	capture_start();
	int rc = config_long(VAR, 1, 1, 9, &out);
	text = capture_end();
	assert_int_equal(rc, SHOP_EINVAL);
	assert_non_null(strchr(text, '\n'));
	assert_int_equal(strchr(text, '\n')[1], '\0');
	assert_non_null(strstr(text, "\"level\":\"error\""));
	assert_non_null(strstr(text, "\"variable\":\"" VAR "\""));
	assert_non_null(strstr(text, "\"value\":\"abc\""));
	assert_non_null(strstr(text, "from 1 to 9"));
	free(text);

	/* An accepted value logs nothing. */
	set("5");
	capture_start();
	rc = config_long(VAR, 1, 1, 9, &out);
	text = capture_end();
	assert_int_equal(rc, 0);
	assert_string_equal(text, "");
	free(text);
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_string),
	        T(test_required_string),
	        T(test_long_valid),
	        T(test_long_invalid),
	        T(test_port),
	        T(test_bool_spellings),
	        T(test_bool_invalid),
	        T(test_readable_file),
	        T(test_secret_file),
	        T(test_directory),
	        T(test_rejection_logs_one_line),
	};
#undef T
	/* The failure cases print their expected error lines among these. */
	slog_init("test-config", SLOG_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
