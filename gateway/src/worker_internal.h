#ifndef GATEWAY_WORKER_INTERNAL_H
#define GATEWAY_WORKER_INTERNAL_H

/* Shared by worker.c (the loop) and handler.c (the libmicrohttpd callbacks);
 * no other module includes it. */

#include "cors.h"
#include "gateway.h"
#include "gbuf.h"
#include "metrics_gw.h"
#include "router.h"
#include "trace.h"
#include "upstream_pool.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum req_phase {
	PH_NEW,     /* headers received, handler not called yet */
	PH_BODY,    /* receiving the body of a proxied request */
	PH_WAITING, /* suspended until the upstream answers */
	PH_READY,   /* resumed: the exchange has a result */
	PH_DONE,    /* a response is queued */
};

/*
 * One request from the URI callback to the completion callback. Kept on the
 * worker's free-list afterwards with its buffers, so a steady stream of
 * requests allocates nothing.
 */
struct gw_request {
	struct gw_request *next;          /* free-list */
	struct gw_request *wprev, *wnext; /* the worker's waiting list */
	struct worker *w;
	struct MHD_Connection *conn;
	uint64_t t_start;
	enum req_phase phase;
	struct route_match route;
	const char *method; /* borrowed from libmicrohttpd */
	unsigned status;    /* what was queued; 0 when nothing */
	bool oom;
	bool suspended;
	bool body_too_large;
	bool has_body_header; /* Content-Length or Transfer-Encoding */
	bool has_host;
	size_t body_seen;
	const char *if_none_match;  /* borrowed from libmicrohttpd */
	const char *content_length; /* likewise */
	const char *authorization;  /* likewise: the first Authorization */
	unsigned nauthorization;    /* how many Authorization headers */
	unsigned auth_flags;        /* route_auth_lookup() of the request */
	enum gw_auth_result auth;   /* GW_AUTH_OK unless refused */
	const char *auth_why;       /* why it was refused (static, for logs) */
	const char *origin;         /* borrowed: the first Origin header */
	bool cors_request_method;   /* Access-Control-Request-Method seen */
	enum cors_preflight cors;   /* a preflight? cors_classify() */
	bool rate_limited;          /* answered 429 once the body is read */
	enum rl_kind limit_kind;    /* the limit it hit */
	unsigned retry_after;       /* seconds to the end of the window */
	char jti[JWT_JTI_MAX];      /* a verified logout's token: revoked */
	long long exp;              /* when its upstream answers 204 */
	struct gbuf uri;            /* the raw request target, NUL-terminated */
	struct gbuf path;           /* its decoded path, NUL-terminated */
	struct gbuf head; /* the request line and headers sent upstream */
	struct gbuf body; /* the request body */
	struct exchange ex;
	char request_id[TRACE_REQUEST_ID_MAX + 1];
	char traceparent[128];
};

struct worker {
	const struct gateway *gw;
	unsigned index;
	struct MHD_Daemon *mhd;
	int epfd;
	int wake_fd;
	enum ev_tag mhd_tag;  /* epoll data.ptr of the daemon's fd */
	enum ev_tag wake_tag; /* and of wake_fd */
	struct upstream_pool *pool;
	struct gw_request *free;
	size_t nfree;
	struct gw_request *waiting; /* suspended requests */
	size_t inflight;            /* from URI callback to completion */
	bool need_run;              /* a connection was resumed */
	bool park;                  /* suspend what waits (handler.c) */
	size_t unparked;            /* waiting requests not suspended */
	uint64_t now;               /* monotonic ns, once per loop turn */
	uint64_t idle_since;        /* first empty poll with waiters, or 0 */
	bool stopping;
	uint64_t stop_deadline;
	pthread_t thread;
	bool started;
	struct trace_rng rng;
	struct metrics_cache mcache;
	struct metric *served; /* gateway_worker_requests_total{worker} */
	struct metric *parked; /* gateway_parked_total */
};

/* The libmicrohttpd callbacks (handler.c); cls is the worker. */
void *handler_uri(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result handler_access(void *cls, struct MHD_Connection *conn,
                               const char *url, const char *method,
                               const char *version, const char *upload_data,
                               size_t *upload_data_size, void **req_cls);
void handler_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe);

/* Answers every suspended request with 503 and resumes it (shutdown). */
void handler_cancel_waiting(struct worker *w);

/* Frees the worker's free-list. */
void handler_free_requests(struct worker *w);

#endif
