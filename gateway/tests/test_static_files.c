#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "static_files.h"

#include "shop/error.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];
static char outside[PATH_MAX];

static void write_file(const char *rel, const char *text)
{
	char p[PATH_MAX * 2];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void rm_rf(const char *dir)
{
	char cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static int setup(void **state)
{
	char p[PATH_MAX * 2];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/gw-static-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(outside, sizeof(outside), "/tmp/gw-outside-XXXXXX");
	if (!mkdtemp(outside))
		return -1;
	snprintf(p, sizeof(p), "%s/assets", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sub", root);
	mkdir(p, 0755);
	write_file("/index.html", "<!doctype html>");
	write_file("/assets/index-abc123.js", "console.log(1)");
	write_file("/favicon.ico", "ico");
	write_file("/robots.txt", "User-agent: *");
	snprintf(p, sizeof(p), "%s/secret.txt", outside);
	FILE *f = fopen(p, "w");
	if (!f)
		return -1;
	fputs("secret", f);
	fclose(f);
	{
		char link[PATH_MAX * 2];

		snprintf(link, sizeof(link), "%s/escape.txt", root);
		if (symlink(p, link) != 0)
			return -1;
		snprintf(link, sizeof(link), "%s/alias.txt", root);
		if (symlink("robots.txt", link) != 0)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(root);
	rm_rf(outside);
	return 0;
}

static int open_path(struct static_site *s, const char *path,
                     struct static_file *f)
{
	int rc = static_site_open(s, path, f);

	if (rc == 0) {
		assert_true(f->fd >= 0);
		close(f->fd);
	}
	return rc;
}

static void test_files_and_fallback(void **state)
{
	struct static_site s;
	struct static_file f;

	(void)state;
	static_site_init(&s, root);
	assert_int_equal(open_path(&s, "/", &f), 0);
	assert_string_equal(f.content_type, "text/html; charset=utf-8");
	assert_string_equal(f.cache_control, "no-cache");
	assert_int_equal(f.size, 15);

	assert_int_equal(open_path(&s, "/assets/index-abc123.js", &f), 0);
	assert_string_equal(f.content_type, "text/javascript; charset=utf-8");
	assert_string_equal(f.cache_control,
	                    "public, max-age=31536000, immutable");
	assert_int_equal(f.size, 14);

	assert_int_equal(open_path(&s, "/favicon.ico", &f), 0);
	assert_string_equal(f.content_type, "image/x-icon");
	assert_string_equal(f.cache_control, "public, max-age=300");

	/* unknown paths, directories: the app's index.html */
	assert_int_equal(open_path(&s, "/products/42", &f), 0);
	assert_string_equal(f.content_type, "text/html; charset=utf-8");
	assert_string_equal(f.cache_control, "no-cache");
	assert_int_equal(open_path(&s, "/sub", &f), 0);
	assert_int_equal(f.size, 15);
	assert_int_equal(open_path(&s, "/robots.txt/", &f), 0);
	assert_int_equal(f.size, 15);

	/* a symlink inside the root is fine */
	assert_int_equal(open_path(&s, "/alias.txt", &f), 0);
	assert_string_equal(f.content_type, "text/plain; charset=utf-8");
	static_site_release(&s);
}

static void test_traversal_rejected(void **state)
{
	struct static_site s;
	struct static_file f;

	(void)state;
	static_site_init(&s, root);
	assert_int_equal(open_path(&s, "/../etc/passwd", &f), SHOP_EINVAL);
	assert_int_equal(open_path(&s, "/assets/../../x", &f), SHOP_EINVAL);
	assert_int_equal(open_path(&s, "/./index.html", &f), SHOP_EINVAL);
	/* a symlink that leads out of the root */
	assert_int_equal(open_path(&s, "/escape.txt", &f), SHOP_EFORBIDDEN);
	static_site_release(&s);
}

static void test_missing_root_and_index(void **state)
{
	struct static_site s;
	struct static_file f;
	char p[PATH_MAX * 2];

	(void)state;
	static_site_init(&s, "/nonexistent/gw-static");
	assert_int_equal(open_path(&s, "/", &f), SHOP_ENOTFOUND);
	static_site_release(&s);

	snprintf(p, sizeof(p), "%s/index.html", root);
	unlink(p);
	static_site_init(&s, root);
	assert_int_equal(open_path(&s, "/nothing", &f), SHOP_ENOTFOUND);
	assert_int_equal(open_path(&s, "/robots.txt", &f), 0);
	static_site_release(&s);
	write_file("/index.html", "<!doctype html>");
}

static void test_types_and_etags(void **state)
{
	(void)state;
	assert_string_equal(static_content_type("/a/b.CSS"),
	                    "text/css; charset=utf-8");
	assert_string_equal(static_content_type("x.mjs"),
	                    "text/javascript; charset=utf-8");
	assert_string_equal(static_content_type("x.svg"), "image/svg+xml");
	assert_string_equal(static_content_type("x.webp"), "image/webp");
	assert_string_equal(static_content_type("x.woff2"), "font/woff2");
	assert_string_equal(static_content_type("x.js.map"),
	                    "application/json");
	assert_string_equal(static_content_type("x.json"), "application/json");
	assert_string_equal(static_content_type("x.png"), "image/png");
	assert_string_equal(static_content_type("x.jpg"), "image/jpeg");
	assert_string_equal(static_content_type("/dir.v2/noext"),
	                    "application/octet-stream");

	assert_true(static_etag_matches("W/\"1-2.3\"", "W/\"1-2.3\""));
	assert_true(static_etag_matches("\"1-2.3\"", "W/\"1-2.3\""));
	assert_true(static_etag_matches("\"x\", W/\"1-2.3\"", "W/\"1-2.3\""));
	assert_true(static_etag_matches("*", "W/\"1-2.3\""));
	assert_false(static_etag_matches("\"1-2.4\"", "W/\"1-2.3\""));
	assert_false(static_etag_matches("", "W/\"1-2.3\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_files_and_fallback),
	        cmocka_unit_test(test_traversal_rejected),
	        cmocka_unit_test(test_missing_root_and_index),
	        cmocka_unit_test(test_types_and_etags),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
