#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "resp_parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX (8u * 1024 * 1024)

struct fixture {
	struct resp_parser p;
	struct gbuf b;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	gbuf_init(&f->b);
	resp_parser_init(&f->p, MAX, false);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	gbuf_release(&f->b);
	free(f);
	return 0;
}

/* Appends s and feeds it; returns what the parser said. */
static int feed(struct fixture *f, const char *s, size_t n)
{
	assert_int_equal(gbuf_append(&f->b, s, n), 0);
	return resp_parser_feed(&f->p, &f->b);
}

static int feed_str(struct fixture *f, const char *s)
{
	return feed(f, s, strlen(s));
}

/* Feeds s in pieces of step bytes; returns the last result. */
static int feed_split(struct fixture *f, const char *s, size_t step)
{
	size_t n = strlen(s);
	int rc = RESP_PARSE_MORE;

	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;

		rc = feed(f, s + i, k);
		if (rc != RESP_PARSE_MORE)
			return rc;
	}
	return rc;
}

static const char *body(struct fixture *f)
{
	static char out[4096];

	assert_true(f->p.body_len < sizeof(out));
	memcpy(out, f->b.data + f->p.body_off, f->p.body_len);
	out[f->p.body_len] = '\0';
	return out;
}

static const char *header(struct fixture *f, const char *name)
{
	for (size_t i = 0; i < f->p.nheaders; i++) {
		const char *n, *v;

		resp_parser_header(&f->p, &f->b, i, &n, &v);
		if (strcasecmp(n, name) == 0)
			return v;
	}
	return NULL;
}

static void test_content_length(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\r\n"
	                             "Content-Type: application/json\r\n"
	                             "Content-Length: 11\r\n"
	                             "ETag:  \"abc\"  \r\n\r\n"
	                             "{\"id\":\"42\"}"),
	                 RESP_PARSE_DONE);
	assert_int_equal(f->p.status, 200);
	assert_true(f->p.keep_alive);
	assert_string_equal(body(f), "{\"id\":\"42\"}");
	assert_int_equal(f->p.nheaders, 3);
	assert_string_equal(header(f, "content-type"), "application/json");
	assert_string_equal(header(f, "ETag"), "\"abc\"");
}

static void test_content_length_zero_and_no_reason(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed_str(f, "HTTP/1.1 201\r\nContent-Length: 0\r\n"
	                             "Location: /api/products/1\r\n\r\n"),
	                 RESP_PARSE_DONE);
	assert_int_equal(f->p.status, 201);
	assert_int_equal(f->p.body_len, 0);
	assert_string_equal(header(f, "Location"), "/api/products/1");
}

static void test_split_byte_by_byte(void **state)
{
	struct fixture *f = *state;
	const char *r = "HTTP/1.1 404 Not Found\r\n"
	                "Content-Type: application/problem+json\r\n"
	                "Content-Length: 17\r\n\r\n"
	                "{\"status\":404,\"x\"";

	assert_int_equal(feed_split(f, r, 1), RESP_PARSE_DONE);
	assert_int_equal(f->p.status, 404);
	assert_string_equal(body(f), "{\"status\":404,\"x\"");
}

static void test_chunked(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\r\n"
	                             "Transfer-Encoding: chunked\r\n\r\n"
	                             "5\r\nhello\r\n"
	                             "1;ext=1\r\n,\r\n"
	                             "6\r\n world\r\n"
	                             "0\r\n\r\n"),
	                 RESP_PARSE_DONE);
	assert_string_equal(body(f), "hello, world");
	assert_true(f->p.keep_alive);
}

static void test_chunked_split_everywhere(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\n"
	                "transfer-encoding: Chunked\r\n"
	                "X-A: b\r\n\r\n"
	                "a\r\n0123456789\r\n"
	                "A \r\nabcdefghij\r\n"
	                "0\r\nX-Trailer: t\r\n\r\n";

	(void)state;
	for (size_t step = 1; step < strlen(r); step++) {
		struct fixture f;

		gbuf_init(&f.b);
		resp_parser_init(&f.p, MAX, false);
		assert_int_equal(feed_split(&f, r, step), RESP_PARSE_DONE);
		assert_string_equal(body(&f), "0123456789abcdefghij");
		assert_string_equal(header(&f, "X-A"), "b");
		gbuf_release(&f.b);
	}
}

static void test_chunked_bare_lf(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\n"
	                             "Transfer-Encoding: chunked\n\n"
	                             "3\nabc\n0\n\n"),
	                 RESP_PARSE_DONE);
	assert_string_equal(body(f), "abc");
}

static void test_interim_100_skipped(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed_str(f, "HTTP/1.1 100 Continue\r\n\r\n"
	                             "HTTP/1.1 204 No Content\r\n"
	                             "X-B: 1\r\n\r\n"),
	                 RESP_PARSE_DONE);
	assert_int_equal(f->p.status, 204);
	assert_int_equal(f->p.nheaders, 1);
	assert_int_equal(f->p.body_len, 0);
}

static void test_head_and_304_have_no_body(void **state)
{
	struct fixture *f = *state;

	resp_parser_init(&f->p, MAX, true);
	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\r\n"
	                             "Content-Length: 1000\r\n\r\n"),
	                 RESP_PARSE_DONE);
	assert_int_equal(f->p.body_len, 0);

	f->b.len = 0;
	resp_parser_init(&f->p, MAX, false);
	assert_int_equal(feed_str(f, "HTTP/1.1 304 Not Modified\r\n"
	                             "ETag: \"x\"\r\n\r\n"),
	                 RESP_PARSE_DONE);
	assert_int_equal(f->p.status, 304);
}

static void test_connection_close_and_http10(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\r\n"
	                             "Connection: keep-alive, close\r\n"
	                             "Content-Length: 2\r\n\r\nok"),
	                 RESP_PARSE_DONE);
	assert_false(f->p.keep_alive);

	f->b.len = 0;
	resp_parser_init(&f->p, MAX, false);
	assert_int_equal(feed_str(f, "HTTP/1.0 200 OK\r\n"
	                             "Content-Length: 2\r\n\r\nok"),
	                 RESP_PARSE_DONE);
	assert_false(f->p.keep_alive);

	f->b.len = 0;
	resp_parser_init(&f->p, MAX, false);
	assert_int_equal(feed_str(f, "HTTP/1.0 200 OK\r\n"
	                             "Connection: Keep-Alive\r\n"
	                             "Content-Length: 2\r\n\r\nok"),
	                 RESP_PARSE_DONE);
	assert_true(f->p.keep_alive);
}

static void test_body_until_close(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\r\n\r\nsome "),
	                 RESP_PARSE_MORE);
	assert_int_equal(feed_str(f, "bytes"), RESP_PARSE_MORE);
	assert_int_equal(resp_parser_eof(&f->p, &f->b), RESP_PARSE_DONE);
	assert_string_equal(body(f), "some bytes");
	assert_false(f->p.keep_alive);
}

static void test_truncated_is_bad(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\r\n"
	                             "Content-Length: 10\r\n\r\nabc"),
	                 RESP_PARSE_MORE);
	assert_int_equal(resp_parser_eof(&f->p, &f->b), RESP_PARSE_EBAD);
}

static void test_trailing_bytes_clear_keep_alive(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\r\n"
	                             "Content-Length: 2\r\n\r\nokHTTP/1.1"),
	                 RESP_PARSE_DONE);
	assert_false(f->p.keep_alive);
	assert_string_equal(body(f), "ok");
}

static void test_oversize(void **state)
{
	struct fixture *f = *state;
	char big[300];

	resp_parser_init(&f->p, 100, false);
	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\r\n"
	                             "Content-Length: 101\r\n\r\n"),
	                 RESP_PARSE_ETOOBIG);

	/* chunked, growing past the limit */
	f->b.len = 0;
	resp_parser_init(&f->p, 100, false);
	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\r\n"
	                             "Transfer-Encoding: chunked\r\n\r\n"
	                             "30\r\n"),
	                 RESP_PARSE_MORE);
	memset(big, 'x', 0x30);
	assert_int_equal(feed(f, big, 0x30), RESP_PARSE_MORE);
	assert_int_equal(feed_str(f, "\r\n30\r\n"), RESP_PARSE_ETOOBIG);

	/* headers that never end */
	f->b.len = 0;
	resp_parser_init(&f->p, 100, false);
	memset(big, 'a', sizeof(big));
	assert_int_equal(feed_str(f, "HTTP/1.1 200 OK\r\n"), RESP_PARSE_MORE);
	for (int i = 0; i < 10; i++) {
		int rc = feed_str(f, "X-Long: aaaaaaaaaaaaaaaaaaaa\r\n");

		if (rc != RESP_PARSE_MORE) {
			assert_int_equal(rc, RESP_PARSE_ETOOBIG);
			return;
		}
	}
	fail_msg("an endless head was accepted");
}

static void test_garbage(void **state)
{
	static const char *const bad[] = {
	        "HTTP/2 200 OK\r\n\r\n",
	        "FTP/1.1 200 OK\r\n\r\n",
	        "HTTP/1.1 20x OK\r\n\r\n",
	        "HTTP/1.1 099 Low\r\n\r\n",
	        "HTTP/1.1 200OK\r\n\r\n",
	        "HTTP/1.1 101 Switching Protocols\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	        "Content-Length: 2\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nX: a\x01z\r\n\r\n",
	        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	        "3\r\nabcX\r\n",
	        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	        "1234567890abcdef0\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct fixture f;

		gbuf_init(&f.b);
		resp_parser_init(&f.p, MAX, false);
		if (feed_str(&f, bad[i]) != RESP_PARSE_EBAD)
			fail_msg("accepted: %s", bad[i]);
		gbuf_release(&f.b);
	}
}

static void test_too_many_headers(void **state)
{
	struct fixture *f = *state;
	int rc = feed_str(f, "HTTP/1.1 200 OK\r\n");

	for (int i = 0; i <= RESP_MAX_HEADERS && rc == RESP_PARSE_MORE; i++)
		rc = feed_str(f, "X: y\r\n");
	assert_int_equal(rc, RESP_PARSE_EBAD);
}

static void test_large_body_in_pieces(void **state)
{
	struct fixture *f = *state;
	static char chunk[65536];
	char head[128];
	size_t total = 3 * sizeof(chunk);
	int rc = RESP_PARSE_MORE;

	memset(chunk, 'z', sizeof(chunk));
	snprintf(head, sizeof(head),
	         "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", total);
	assert_int_equal(feed_str(f, head), RESP_PARSE_MORE);
	for (int i = 0; i < 3; i++)
		rc = feed(f, chunk, sizeof(chunk));
	assert_int_equal(rc, RESP_PARSE_DONE);
	assert_int_equal(f->p.body_len, total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_content_length, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_content_length_zero_and_no_reason, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_split_byte_by_byte, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_chunked, setup, teardown),
	        cmocka_unit_test(test_chunked_split_everywhere),
	        cmocka_unit_test_setup_teardown(test_chunked_bare_lf, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_interim_100_skipped, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_head_and_304_have_no_body,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_connection_close_and_http10, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_body_until_close, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_truncated_is_bad, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_trailing_bytes_clear_keep_alive, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
	        cmocka_unit_test(test_garbage),
	        cmocka_unit_test_setup_teardown(test_too_many_headers, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_large_body_in_pieces,
	                                        setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
