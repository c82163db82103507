#ifndef SHOP_TEST_CURL_CLIENT_H
#define SHOP_TEST_CURL_CLIENT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A small libcurl client for the HTTP server tests: one request on a
 * caller-owned easy handle (so keep-alive connections are reused), the
 * whole answer kept in memory.
 */
struct cc_call {
	const char *method;
	const char *path; /* with the query string */
	const char *body; /* NUL-terminated; NULL for none */
	bool chunked;     /* send the body with Transfer-Encoding: chunked */
	const char *headers[4]; /* "Name: value"; NULL-terminated if fewer */
};

struct cc_reply {
	long status;
	char *body; /* NUL-terminated; NULL when empty */
	size_t len;
	char headers[8192]; /* raw header lines of the final response */
	size_t hlen;
	json_t *json; /* body parsed as JSON, or NULL */
};

/* Sends the request to 127.0.0.1:port and fills out (release it with
 * cc_reply_release even on failure). Returns libcurl's result. */
CURLcode cc_request(CURL *curl, int port, const struct cc_call *in,
                    struct cc_reply *out);

void cc_reply_release(struct cc_reply *r);

/* Copies the value of response header name (any case) into buf and returns
 * buf, or returns NULL when the response has no such header. */
const char *cc_header(const struct cc_reply *r, const char *name, char *buf,
                      size_t cap);

/* The string member key of the JSON body, or NULL. */
const char *cc_json_string(const struct cc_reply *r, const char *key);

#endif
