#ifndef GATEWAY_UPSTREAM_POOL_H
#define GATEWAY_UPSTREAM_POOL_H

#include "gbuf.h"
#include "resp_parser.h"
#include "upstream.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * One worker thread's connections to the upstreams: a stack of idle
 * keep-alive sockets per address, non-blocking connects, the request/
 * response exchange over them, connect and response deadlines. Every socket
 * is registered once, edge-triggered, in the worker's epoll set, so the
 * steady state costs no epoll_ctl() and no allocation. Not thread-safe: each
 * worker owns one pool and calls it only from its own thread.
 */

/* What each epoll registration's data.ptr points at starts with this. */
enum ev_tag { EV_MHD, EV_WAKE, EV_UPCONN };

enum upstream_error {
	UPSTREAM_OK = 0,
	UPSTREAM_EUNAVAIL = -1,         /* none configured, or all down: 503 */
	UPSTREAM_EREFUSED = -2,         /* connection refused: 502 */
	UPSTREAM_ECONNECT_TIMEOUT = -3, /* connect timed out: 504 */
	UPSTREAM_ETIMEOUT = -4,         /* no whole response in time: 504 */
	UPSTREAM_ERESET = -5,           /* closed or reset mid-exchange: 502 */
	UPSTREAM_EBADRESP = -6,         /* not valid HTTP/1.x: 502 */
	UPSTREAM_ETOOBIG = -7,          /* response over the limit: 502 */
	UPSTREAM_ESYS = -8,             /* socket/memory failure here: 503 */
	UPSTREAM_ECANCELLED = -9,       /* the gateway is shutting down: 503 */
};
#define UPSTREAM_NERRORS 10

struct upconn;
struct exchange;

/* Called once per exchange started with upstream_pool_start(), from
 * upstream_pool_event() or upstream_pool_expire(); never from inside
 * upstream_pool_start(). */
typedef void (*exchange_done_fn)(struct exchange *ex);

/*
 * One request sent upstream and its response. The caller fills the input
 * fields; the pool fills the results. The caller owns the struct and its
 * buffers and must keep them until done is called (or it cancels).
 */
struct exchange {
	/* input */
	enum service_id service;
	const struct gbuf *head; /* request line and headers, CRLF CRLF */
	const struct gbuf *body;
	bool idempotent; /* GET, HEAD, PUT, DELETE, OPTIONS: may be retried
	                  * once on a fresh socket */
	bool no_body;    /* HEAD: the response has no body */
	exchange_done_fn done;

	/* results: result is 0 and parser holds a whole response in resp, or
	 * result is an upstream_error */
	int result;
	struct gbuf resp; /* owned by the caller, reused across requests */
	struct resp_parser parser;
	const struct upstream_addr *addr; /* the last one tried, or NULL */
	bool retried;

	/* private */
	struct upconn *conn;
	size_t sent;
	unsigned attempts;
	int last_error;
	bool trial; /* addr is down: this is its one trial of a cool-down */
};

struct upstream_pool;

/* Returns a pool for the addresses in set (borrowed, must outlive the pool)
 * whose sockets go into epfd, or NULL when out of memory. A socket left
 * idle for idle_timeout_ms is closed: set below the upstreams' own idle
 * timeout, the gateway and not the upstream closes it, so that no request
 * that may not be sent twice (a POST) meets a socket closing under it. */
struct upstream_pool *upstream_pool_new(struct upstream_set *set, int epfd,
                                        unsigned connect_timeout_ms,
                                        unsigned response_timeout_ms,
                                        unsigned idle_timeout_ms,
                                        size_t max_idle, size_t max_response);

/* Closes every socket and frees the pool. Exchanges still in flight must
 * have been cancelled. Accepts NULL. */
void upstream_pool_free(struct upstream_pool *pool);

/*
 * Sends ex upstream: picks an address of ex->service round-robin among the
 * usable ones (or a down one whose cool-down has passed, for one trial on a
 * new connection), takes an idle socket or connects a new one. Returns 0
 * when the exchange is under way (ex->done will be called), or an
 * upstream_error when it failed at once (done will not be called).
 *
 * Passive health: a connection refused, a connect timeout, or a new
 * connection closed or reset before any byte of an answer (this one only
 * while another address of the service is usable) marks the address down
 * (upstream.h), logged once per change; a request not sent yet goes on to
 * another address, and so does an idempotent request (ex->idempotent) that
 * lost its connection. A kept-alive socket that breaks marks nothing (an idle
 * timeout racing with the request looks the same); nor does a slow answer
 * (the prober judges those). A whole answer to a trial marks it up.
 */
int upstream_pool_start(struct upstream_pool *pool, struct exchange *ex);

/* Handles epoll events for a socket of this pool (data.ptr of the event). */
void upstream_pool_event(struct upstream_pool *pool, void *ptr,
                         uint32_t events);

/* Fails the exchanges whose deadline passed; closes the sockets idle for
 * too long. */
void upstream_pool_expire(struct upstream_pool *pool, uint64_t now_ns);

/* The earliest deadline (monotonic ns), idle sockets' included, or
 * UINT64_MAX when none. */
uint64_t upstream_pool_next_deadline(const struct upstream_pool *pool);

/* Abandons an exchange in flight: closes its socket; done is not called. */
void upstream_pool_cancel(struct upstream_pool *pool, struct exchange *ex);

/* Short lowercase name of an upstream_error, for logs and metrics. */
const char *upstream_error_name(int err);

/* Number of exchanges in flight and of idle sockets (for metrics). */
size_t upstream_pool_active(const struct upstream_pool *pool);
size_t upstream_pool_idle(const struct upstream_pool *pool);

#endif
