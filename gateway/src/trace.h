#ifndef GATEWAY_TRACE_H
#define GATEWAY_TRACE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Request ids and W3C trace context. The gateway gives every request an
 * X-Request-ID (the client's when it is usable) and a traceparent, and
 * passes both upstream.
 */

#define TRACE_REQUEST_ID_MAX 128
#define TRACE_PARENT_LEN     55 /* "00-" 32 hex "-" 16 hex "-" 2 hex */

/*
 * Random bytes for ids, drawn from the kernel (getrandom) a few kilobytes at
 * a time: one system call per ~100 requests instead of two per request.
 * One per thread; not thread-safe.
 */
struct trace_rng {
	size_t pos;
	unsigned char buf[4096];
};

void trace_rng_init(struct trace_rng *r);
void trace_rng_bytes(struct trace_rng *r, void *out, size_t n);

/* True when s is 1..128 characters of [A-Za-z0-9._-]. */
bool trace_request_id_valid(const char *s);

/* Writes a new random (version 4) UUID, lowercase, into out[37]: the same
 * format as shop_uuid_v4(). */
void trace_request_id_new(struct trace_rng *r, char out[37]);

/* True when s is a traceparent we can pass on: version 00 in its exact
 * form (lowercase hex, non-zero trace and parent ids), or a later version
 * whose first four fields have that form. */
bool trace_parent_valid(const char *s);

/* Writes a new version-00 traceparent with random ids, sampled flag set,
 * into out[56]. */
void trace_parent_new(struct trace_rng *r, char out[TRACE_PARENT_LEN + 1]);

#endif
