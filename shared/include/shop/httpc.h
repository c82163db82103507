#ifndef SHOP_HTTPC_H
#define SHOP_HTTPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The HTTP client daemons use to call each other, on libcurl, whose types
 * stay inside httpc.c. One client per upstream ("product", "user", ...).
 *
 * Every call has a total deadline (timeout_ms) that covers its connect,
 * its retries and their backoff; a call never takes longer. Idempotent
 * calls (GET, HEAD, PUT, DELETE, or any request marked idempotent) are
 * retried up to `retries` times after a refused or reset connection, a
 * timeout that left time on the deadline, or a 5xx answer, with a backoff
 * of 50 ms doubling, jittered, and never past the deadline; other calls are
 * tried once. A circuit breaker per client (shop/breaker.h) counts refused
 * and reset connections, timeouts and 5xx answers; after failures_to_open
 * consecutive ones every call fails at once with SHOP_EUNAVAIL, without
 * touching the network, until one probe after open_ms succeeds. Its state
 * is the gauge http_client_breaker_state{upstream} and every transition is
 * logged once.
 *
 * Connections are kept alive: the client keeps a small locked stack of
 * libcurl easy handles, each with its own connection cache; a call takes
 * the most recently used one (so one thread's sequential calls reuse one
 * TCP connection) and gives it back. No proxy from the environment, only
 * http and https, no signals (safe in threads).
 *
 * Metrics: http_client_requests_total{upstream,result} with result one of
 * 2xx 3xx 4xx 5xx timeout unavailable breaker_open invalid error, per call
 * (not per attempt); http_client_retries_total{upstream};
 * http_client_request_duration_seconds{upstream} (histogram, per call).
 *
 * Call httpc_global_init() from main() before any thread starts (libcurl's
 * global initialisation); httpc_new() calls it too, under pthread_once,
 * for programs that cannot.
 */

struct httpc;

struct httpc_header {
	const char *name;  /* "Authorization" */
	const char *value; /* "Bearer <token>"; no CR or LF */
};

struct httpc_options {
	/* Upstream name for logs and metric labels. Copied. Required. */
	const char *name;
	/* http://host:port or https://host:port, optionally with a path
	 * prefix; request paths are appended. Copied. Required. */
	const char *base_url;
	int connect_timeout_ms; /* 0 means 500 */
	int timeout_ms;         /* total per call, retries included; 0 means
	                           2000 */
	int retries;    /* extra attempts for idempotent calls; 0 means 2,
	                   negative means none */
	int backoff_ms; /* first backoff, doubled each retry; 0 means 50 */
	size_t max_response_bytes; /* body cap; 0 means 1 MiB */
	int failures_to_open;      /* breaker; 0 means 5 */
	int open_ms;               /* breaker cool-down; 0 means 5000 */
	int max_idle_handles;      /* easy handles kept; 0 means 32 */
	/* Sent with every request (an internal service token:
	 * "Authorization: Bearer <token>" or "X-Internal-Token"). Copied;
	 * values are never logged. */
	const struct httpc_header *headers;
	size_t nheaders;
};

enum httpc_method {
	HTTPC_GET,
	HTTPC_HEAD,
	HTTPC_POST,
	HTTPC_PUT,
	HTTPC_PATCH,
	HTTPC_DELETE,
};

struct httpc_request {
	enum httpc_method method;
	/* "/products/42?fields=price": starts with '/', already
	 * percent-encoded, no spaces or control characters. Borrowed. */
	const char *path;
	/* The body: json (sent compact as application/json), or body/body_len
	 * with content_type (NULL means application/json), or neither.
	 * Borrowed. */
	const json_t *json;
	const char *body;
	size_t body_len;
	const char *content_type;
	/* Passed on as X-Request-ID and traceparent when not NULL; also
	 * used as the request_id of this client's log lines. Borrowed. */
	const char *request_id;
	const char *traceparent;
	/* More headers for this call only. Borrowed. */
	const struct httpc_header *headers;
	size_t nheaders;
	/* Retry a POST or PATCH as well (the upstream deduplicates it, e.g.
	 * with an Idempotency-Key header). */
	bool idempotent;
	/* A 2xx answer must be JSON (Content-Type application/json or
	 * +json, body parses); SHOP_EINVAL otherwise. */
	bool expect_json;
	/* When not NULL, a failed call writes a one-line reason here
	 * (error_cap bytes, NUL-terminated), e.g. "response body larger
	 * than 1048576 bytes" or "connect timeout after 500 ms". */
	char *error;
	size_t error_cap;
};

struct httpc_response {
	long status;            /* 200, 404, ... */
	json_t *json;           /* parsed body when the content type is JSON
	                           and the body is not empty, else NULL; owned */
	char *body;             /* the raw body, NUL-terminated; owned */
	size_t body_len;        /* without the NUL */
	char content_type[128]; /* "" when the answer had none */
};

/* libcurl's global initialisation, once (pthread_once). Returns 0 or
 * SHOP_ERR. Call from main() before threads start. */
int httpc_global_init(void);

/*
 * Creates a client; connects nothing yet. Returns 0 and *out (free with
 * httpc_free()), SHOP_EINVAL when the name or base URL is missing or not
 * http(s)://, a header has CR/LF, or a number is negative (logged), or
 * SHOP_ENOMEM.
 */
int httpc_new(const struct httpc_options *opt, struct httpc **out);

/* Closes the connections and frees the client. Accepts NULL. No call may be
 * in progress. */
void httpc_free(struct httpc *c);

/*
 * Sends req to the upstream and waits for the answer, within the total
 * deadline. Returns 0 for any HTTP answer, 404 or 503 alike (the caller
 * judges the status), with *resp filled (release with
 * httpc_response_release()); or
 *   SHOP_EUNAVAIL   connection refused, reset or closed without an answer,
 *                   host not found, or the breaker is open (no network)
 *   SHOP_ETIMEDOUT  the connect timeout or the total deadline passed
 *   SHOP_EINVAL     a bad request (path, header, method/body), or a bad
 *                   answer: larger than max_response_bytes, not valid
 *                   HTTP, JSON content type with a body that does not
 *                   parse, or not JSON when expect_json; req->error says
 *                   which
 *   SHOP_ENOMEM
 * and leaves *resp untouched. When retries run out on 5xx answers the last
 * answer is returned (0 and its status). Thread-safe.
 */
int httpc_request(struct httpc *c, const struct httpc_request *req,
                  struct httpc_response *resp);

/* Frees what resp owns and zeroes it. Accepts NULL. */
void httpc_response_release(struct httpc_response *resp);

/* The client's breaker state, as enum breaker_state (0 closed, 1
 * half-open, 2 open). */
int httpc_breaker_state(struct httpc *c);

#endif
