#ifndef SHOP_HTTP_H
#define SHOP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "shop/arena.h"
#include "shop/field_errors.h"
#include "shop/http_status.h"

/*
 * The HTTP server every daemon runs, on libmicrohttpd: a static route table,
 * path parameters, 404 vs 405, a per-request arena freed when the request
 * completes, JSON bodies read with a size cap (413) and a content-type
 * check (415), problem+json errors, X-Request-ID / traceparent read or
 * generated and echoed, an access-log line and metrics per request, the
 * built-in /health, /ready and /metrics, and explicit connection limits and
 * timeouts. Threading: libmicrohttpd's internal thread pool over epoll, one
 * thread per core by default (PERFORMANCE.md, measured).
 */

struct http_request;
typedef void (*http_handler)(struct http_request *req);

enum http_route_flags {
	HTTP_AUTH = 1 << 0,      /* a valid bearer token is required (401) */
	HTTP_ADMIN = 1 << 1,     /* ... with role admin (403); implies AUTH */
	HTTP_JSON_BODY = 1 << 2, /* a JSON body is required (415, 400, 413) */
	/* Between daemons only (/internal/...): the request must carry the
	 * fleet's internal service token in X-Internal-Token (401). The
	 * gateway never routes these. */
	HTTP_INTERNAL = 1 << 3,
};

/* The header that carries the internal service token. */
#define HTTP_INTERNAL_TOKEN_HEADER "X-Internal-Token"

struct http_route {
	const char *method;  /* "GET", "POST", ... */
	const char *pattern; /* "/api/products/{id}": {name} is one segment */
	http_handler handler;
	unsigned flags;
};

/* Who sent the request, filled by the authenticator for HTTP_AUTH routes. */
struct http_principal {
	char sub[64];
	char email[256];
	char role[16];
	char jti[64];
	long long exp; /* the token's expiry, seconds since the epoch */
	bool is_admin;
};

/*
 * Verifies a bearer token (without "Bearer "). Returns 0 and fills out, or
 * a negative code: any failure is a 401. Called from worker threads.
 */
typedef int (*http_authenticate_fn)(void *ctx, const char *token,
                                    struct http_principal *out);

/*
 * Fills checks (a JSON object: name -> "ok" or an error string) for /ready;
 * returns 0 when every dependency answered, negative otherwise (503).
 */
typedef int (*http_ready_fn)(void *ctx, json_t *checks);

struct http_server_config {
	const char *service; /* for /health and logs; borrowed */
	const char *address; /* listen address, e.g. "0.0.0.0" */
	int port;
	int threads; /* 0 = number of cores */
	/* Thread-per-connection instead of the epoll thread pool: only for
	 * measuring the choice (docs/performance.md); it costs about twice
	 * the CPU per request. */
	bool thread_per_connection;
	unsigned max_connections;    /* total */
	unsigned per_ip_connections; /* 0 = unlimited */
	unsigned timeout_s;          /* idle connection timeout */
	size_t connection_memory;    /* per-connection buffer */
	size_t max_body;             /* request body cap (413 beyond) */
	const struct http_route *routes;
	size_t nroutes;
	void *app; /* handed to handlers as req->app; borrowed */
	http_authenticate_fn authenticate;
	void *auth_ctx;
	/* The internal service token HTTP_INTERNAL routes require; NULL
	 * refuses every such request (401). Borrowed. */
	const char *internal_token;
	http_ready_fn ready;
	void *ready_ctx;
};

struct http_server;

/*
 * Compiles the routes (BUG()s on a malformed pattern) and starts listening.
 * Returns the server (caller frees with http_server_free) or NULL after
 * logging why (port taken, bad address...).
 */
struct http_server *http_server_start(const struct http_server_config *cfg);

/* The port actually bound (useful with port 0 in tests). */
int http_server_port(const struct http_server *s);

/*
 * Graceful stop: stops accepting, waits up to grace_ms for requests in
 * flight to complete, then closes every connection and frees the server.
 * Accepts NULL.
 */
void http_server_free(struct http_server *s, unsigned grace_ms);

/* Blocks until SIGTERM or SIGINT arrives (which the caller must have
 * blocked in every thread first: see http_block_signals()). Returns the
 * signal number. */
int http_wait_for_signal(void);

/*
 * The HTTP_* settings every daemon reads from its environment
 * (OPERATIONS.md "Limits"; each daemon's .env.example lists them):
 * HTTP_ADDRESS (0.0.0.0), HTTP_PORT, HTTP_THREADS (0 = the daemon's
 * choice), HTTP_THREAD_PER_CONNECTION (false), HTTP_MAX_CONNECTIONS (1024),
 * HTTP_PER_IP_CONNECTIONS (0 = unlimited), HTTP_TIMEOUT_S (30),
 * HTTP_MAX_BODY_BYTES (1 MiB), HTTP_CONNECTION_MEMORY_BYTES (32 KiB).
 */
struct http_env {
	const char *address; /* borrowed from the environment */
	int port;
	long threads;
	bool thread_per_connection;
	long max_connections;
	long per_ip_connections;
	long timeout_s;
	long max_body;
	long connection_memory;
};

/*
 * Reads the variables above, with default_port for HTTP_PORT and
 * 0..max_threads for HTTP_THREADS. Every bad value is logged (config.h);
 * returns 0 or SHOP_EINVAL.
 */
int http_env_read(int default_port, long max_threads, struct http_env *out);

/* Copies env into the matching fields of cfg; threads becomes `threads`
 * (the daemon resolves HTTP_THREADS=0 itself). */
void http_env_apply(const struct http_env *env, int threads,
                    struct http_server_config *cfg);

/* Blocks SIGTERM, SIGINT and SIGPIPE in the calling thread (and so in
 * threads created after it). Call first thing in main(). */
void http_block_signals(void);

/* ---- inside a handler ---- */

struct http_request {
	struct arena *arena; /* freed when the request completes */
	const char *method;
	const char *path; /* without the query string, percent-decoded */
	const char *request_id;
	const char *traceparent;
	const char *params[8]; /* path parameters in pattern order */
	size_t nparams;
	const char *body; /* NUL-terminated; NULL when none */
	size_t body_len;
	json_t *json; /* parsed body for HTTP_JSON_BODY routes (borrowed) */
	const struct http_principal *principal; /* NULL unless HTTP_AUTH */
	void *app;
	/* private to the server */
	struct http_request_private *priv;
};

/* The value of a request header (case-insensitive) or NULL. Borrowed. */
const char *http_header(struct http_request *req, const char *name);

/* The value of a query argument or NULL; "" for "?flag". Borrowed. */
const char *http_query(struct http_request *req, const char *name);

/* Calls fn for each query argument in order; stops when fn returns
 * nonzero and returns that value. */
int http_query_each(struct http_request *req,
                    int (*fn)(void *arg, const char *key, const char *value),
                    void *arg);

/* Adds a response header (copied into the arena). */
void http_add_header(struct http_request *req, const char *name,
                     const char *value);

/*
 * Each handler calls exactly one of these once. They copy or take what they
 * need: http_respond_json steals the reference to body.
 */
void http_respond_json(struct http_request *req, unsigned status, json_t *body);
void http_respond_raw(struct http_request *req, unsigned status,
                      const char *content_type, const char *body, size_t len);
void http_respond_empty(struct http_request *req, unsigned status);

/* problem+json {"type","title","status","detail"}; detail is printf-like. */
void http_respond_problem(struct http_request *req, unsigned status,
                          const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* 400 problem+json with "errors": [{"field","message"}]. */
void http_respond_invalid(struct http_request *req, const char *detail,
                          const struct field_errors *errs);

/* Maps a shop_err code to its problem: 400, 401, 403, 404, 409, 503 for a
 * dependency that is down or timed out (OPERATIONS.md; with Retry-After: 1
 * unless the handler added its own), 500 otherwise. */
void http_respond_error(struct http_request *req, int err, const char *detail);

/* ---- problem+json documents, shared with the gateway ---- */

/* http_status_title() and http_problem_type() are in http_status.h. */

/* Returns a new problem object (caller decrefs); errs may be NULL. */
json_t *http_problem_new(unsigned status, const char *detail,
                         const struct field_errors *errs);

/* Validates an incoming X-Request-ID: 1-128 of [A-Za-z0-9._-]. */
bool http_request_id_valid(const char *s);

/* Validates a W3C traceparent header (version 00). */
bool http_traceparent_valid(const char *s);

/* Writes a fresh traceparent ("00-<32 hex>-<16 hex>-01") into out[56]. */
void http_traceparent_new(char out[56]);

#endif
