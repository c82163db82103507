/*
 * The libmicrohttpd side of a worker: classify a request, answer the
 * gateway's own routes and the storefront, and run the proxy exchange.
 *
 * A proxied request goes through the access handler three times or more:
 * headers (classify, start the upstream request head), body (collect it),
 * and the final call, which hands the exchange to the upstream pool and
 * returns without a response. libmicrohttpd then keeps calling the handler
 * on every run of the loop (the request is "waiting"); when the upstream
 * answer is in, the next call queues it. A waiting request is suspended
 * only when the loop runs out of work ("parked", see worker.c), and
 * resumed when its answer arrives: under load that rarely happens, which
 * saves the two epoll_ctl() calls suspend and resume cost in libmicrohttpd
 * (about 10% of the gateway's CPU per request).
 */
#include "worker_internal.h"

#include "headers.h"
#include "problem.h"
#include "route_auth.h"
#include "static_files.h"
#include "urlpath.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define FREE_LIST_MAX 1024
#define KEEP_BUFFER   16384        /* a bigger buffer is freed, not kept */
#define PARK_AFTER_NS 200000000ull /* 200 ms */

/* ---- request contexts ---- */

static struct gw_request *request_get(struct worker *w)
{
	struct gw_request *r = w->free;

	if (r) {
		w->free = r->next;
		w->nfree--;
	} else {
		r = calloc(1, sizeof(*r));
		if (!r)
			return NULL;
		gbuf_init(&r->uri);
		gbuf_init(&r->path);
		gbuf_init(&r->head);
		gbuf_init(&r->body);
		gbuf_init(&r->ex.resp);
	}
	r->next = NULL;
	r->wprev = r->wnext = NULL;
	r->w = w;
	r->conn = NULL;
	r->phase = PH_NEW;
	r->route = (struct route_match){ROUTE_STATIC, SVC_COUNT, "unmatched"};
	r->method = NULL;
	r->status = 0;
	r->oom = false;
	r->suspended = false;
	r->body_too_large = false;
	r->has_body_header = false;
	r->has_host = false;
	r->body_seen = 0;
	r->if_none_match = NULL;
	r->content_length = NULL;
	r->authorization = NULL;
	r->nauthorization = 0;
	r->auth_flags = 0;
	r->auth = GW_AUTH_OK;
	r->auth_why = NULL;
	r->origin = NULL;
	r->cors_request_method = false;
	r->cors = CORS_NOT_PREFLIGHT;
	r->rate_limited = false;
	r->limit_kind = RL_ADDRESS;
	r->retry_after = 0;
	r->jti[0] = '\0';
	r->exp = 0;
	r->request_id[0] = '\0';
	r->traceparent[0] = '\0';
	r->ex.addr = NULL;
	r->ex.conn = NULL;
	r->ex.result = UPSTREAM_OK;
	return r;
}

static void request_free(struct gw_request *r)
{
	gbuf_release(&r->uri);
	gbuf_release(&r->path);
	gbuf_release(&r->head);
	gbuf_release(&r->body);
	gbuf_release(&r->ex.resp);
	free(r);
}

static void request_put(struct worker *w, struct gw_request *r)
{
	if (w->nfree >= FREE_LIST_MAX) {
		request_free(r);
		return;
	}
	gbuf_reset(&r->uri, KEEP_BUFFER);
	gbuf_reset(&r->path, KEEP_BUFFER);
	gbuf_reset(&r->head, KEEP_BUFFER);
	gbuf_reset(&r->body, KEEP_BUFFER);
	gbuf_reset(&r->ex.resp, KEEP_BUFFER);
	r->next = w->free;
	w->free = r;
	w->nfree++;
}

void handler_free_requests(struct worker *w)
{
	while (w->free) {
		struct gw_request *r = w->free;

		w->free = r->next;
		request_free(r);
	}
	w->nfree = 0;
}

static void waiting_add(struct worker *w, struct gw_request *r)
{
	r->wprev = NULL;
	r->wnext = w->waiting;
	if (w->waiting)
		w->waiting->wprev = r;
	w->waiting = r;
}

static void waiting_remove(struct worker *w, struct gw_request *r)
{
	if (r->wprev)
		r->wprev->wnext = r->wnext;
	else if (w->waiting == r)
		w->waiting = r->wnext;
	if (r->wnext)
		r->wnext->wprev = r->wprev;
	r->wprev = r->wnext = NULL;
}

/* ---- responses ---- */

static void add_common_headers(struct gw_request *r, struct MHD_Response *resp)
{
	const struct cors *cors = &r->w->gw->cfg->cors;

	if (cors_enabled(cors)) {
		struct cors_header h[CORS_HEADERS_MAX];
		size_t n = cors_headers(cors, r->origin,
		                        r->cors == CORS_PREFLIGHT_ALLOWED, h);

		for (size_t i = 0; i < n; i++)
			MHD_add_response_header(resp, h[i].name, h[i].value);
	}
	MHD_add_response_header(resp, "X-Request-ID", r->request_id);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy",
	                        "strict-origin-when-cross-origin");
	if (r->w->stopping)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		                        "close");
}

/* Queues resp (and releases our reference to it). */
static enum MHD_Result queue(struct gw_request *r, unsigned status,
                             struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	add_common_headers(r, resp);
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		r->status = status;
	r->phase = PH_DONE;
	return ret;
}

static enum MHD_Result respond_copy(struct gw_request *r, unsigned status,
                                    const char *content_type, const char *body,
                                    size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	        len, (void *)body, MHD_RESPMEM_MUST_COPY);

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        "no-store");
	return queue(r, status, resp);
}

/* A problem+json answer, with one more header when hname is not NULL. */
static enum MHD_Result respond_problem_with(struct gw_request *r,
                                            unsigned status, const char *detail,
                                            const char *hname,
                                            const char *hvalue)
{
	char body[1024];
	size_t len = problem_body(body, sizeof(body), status, detail);
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	        len, body, MHD_RESPMEM_MUST_COPY);

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        PROBLEM_CONTENT_TYPE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        "no-store");
	if (hname)
		MHD_add_response_header(resp, hname, hvalue);
	if (status == 503)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return queue(r, status, resp);
}

/* A problem+json answer; allow (or NULL) becomes the Allow header. */
static enum MHD_Result respond_problem_allow(struct gw_request *r,
                                             unsigned status,
                                             const char *detail,
                                             const char *allow)
{
	return respond_problem_with(
	        r, status, detail, allow ? MHD_HTTP_HEADER_ALLOW : NULL, allow);
}

static enum MHD_Result respond_problem(struct gw_request *r, unsigned status,
                                       const char *detail)
{
	return respond_problem_with(r, status, detail, NULL, NULL);
}

/* 401 for a protected route whose token is missing, invalid or revoked:
 * nothing went upstream. */
static enum MHD_Result respond_unauthorized(struct gw_request *r)
{
	metrics_gw_auth_rejection(r->auth);
	slog_kv(SLOG_DEBUG, r->request_id, "token refused",
	        SLOG_S("reason", gw_auth_label(r->auth)),
	        SLOG_S("detail", r->auth_why));
	return respond_problem_with(r, 401, gw_auth_detail(r->auth),
	                            MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	                            gw_auth_challenge(r->auth));
}

/* 429: a limit of rate_limit.h is spent for this window; nothing went
 * upstream. */
static enum MHD_Result respond_rate_limited(struct gw_request *r)
{
	const struct rate_limit *rl = r->w->gw->rate_limit;
	char detail[160], retry[16];

	metrics_gw_rate_limited(r->limit_kind);
	snprintf(retry, sizeof(retry), "%u", r->retry_after);
	snprintf(detail, sizeof(detail),
	         "too many requests %s: at most %lld per %lld s; retry in "
	         "%u s",
	         r->limit_kind == RL_USER ? "for this user"
	                                  : "from this address",
	         rate_limit_limit(rl, r->limit_kind), rate_limit_window(rl),
	         r->retry_after);
	slog_kv(SLOG_DEBUG, r->request_id, "rate limited",
	        SLOG_S("limit", metrics_gw_rate_limit_label(r->limit_kind)),
	        SLOG_I("retry_after", r->retry_after));
	return respond_problem_with(r, 429, detail, MHD_HTTP_HEADER_RETRY_AFTER,
	                            retry);
}

/* A preflight (cors.h), answered here before the token check and the rate
 * limits: 204 with the CORS headers (add_common_headers()) for a listed
 * origin, 403 for another. */
static enum MHD_Result respond_preflight(struct gw_request *r)
{
	struct MHD_Response *resp;

	if (r->cors == CORS_PREFLIGHT_REFUSED)
		return respond_problem(r, 403,
		                       "cross-origin requests from this origin "
		                       "are not allowed");
	resp = MHD_create_response_from_buffer(0, (void *)"",
	                                       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	return queue(r, 204, resp);
}

/* Counts the request against the limit of kind for id; false when the limit
 * is spent (the request is then answered 429 once read). */
static bool over_limit(struct gw_request *r, enum rl_kind kind, const void *id,
                       size_t len)
{
	unsigned retry = rate_limit_admit(r->w->gw->rate_limit, kind, id, len,
	                                  (long long)time(NULL));

	if (!retry)
		return false;
	r->rate_limited = true;
	r->limit_kind = kind;
	r->retry_after = retry;
	return true;
}

/* The per-address limit, on everything but /health, /ready and /metrics. */
static bool address_over_limit(struct gw_request *r)
{
	const union MHD_ConnectionInfo *ci;
	unsigned char id[16];
	size_t len;

	if (!r->w->gw->rate_limit || r->route.kind == ROUTE_HEALTH ||
	    r->route.kind == ROUTE_READY || r->route.kind == ROUTE_METRICS)
		return false;
	ci = MHD_get_connection_info(r->conn,
	                             MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	len = rate_limit_address_id(ci ? ci->client_addr : NULL, id);
	return len && over_limit(r, RL_ADDRESS, id, len);
}

static enum MHD_Result respond_too_large(struct gw_request *r)
{
	char detail[96];

	snprintf(detail, sizeof(detail),
	         "the request body is larger than %ld bytes",
	         r->w->gw->cfg->max_body);
	return respond_problem(r, 413, detail);
}

/* ---- request headers ---- */

static void put(struct gw_request *r, const char *s)
{
	if (gbuf_puts(&r->head, s) < 0)
		r->oom = true;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value)
{
	struct gw_request *r = cls;
	enum req_header h;

	(void)kind;
	if (!key || !value)
		return MHD_YES;
	h = headers_classify_request(key);
	switch (h) {
	case REQH_OTHER:
		return MHD_YES;
	case REQH_REQUEST_ID:
		if (!r->request_id[0] && trace_request_id_valid(value))
			snprintf(r->request_id, sizeof(r->request_id), "%s",
			         value);
		return MHD_YES;
	case REQH_TRACEPARENT:
		if (!r->traceparent[0] && trace_parent_valid(value) &&
		    strlen(value) < sizeof(r->traceparent))
			snprintf(r->traceparent, sizeof(r->traceparent), "%s",
			         value);
		return MHD_YES;
	case REQH_CONTENT_LENGTH:
		r->has_body_header = true;
		if (!r->content_length)
			r->content_length = value;
		return MHD_YES;
	case REQH_TRANSFER_ENCODING:
		r->has_body_header = true;
		return MHD_YES;
	case REQH_IF_NONE_MATCH:
		if (!r->if_none_match)
			r->if_none_match = value;
		break;
	case REQH_HOST:
		r->has_host = true;
		break;
	case REQH_AUTHORIZATION:
		if (r->nauthorization++ == 0)
			r->authorization = value;
		break;
	case REQH_ORIGIN:
		if (!r->origin)
			r->origin = value;
		break;
	case REQH_CORS_METHOD:
		r->cors_request_method = true;
		return MHD_YES;
	default:
		break;
	}
	if (r->route.kind != ROUTE_PROXY)
		return MHD_YES;
	if (strpbrk(value, "\r\n")) {
		if (h == REQH_HOST)
			r->has_host = false;
		return MHD_YES; /* never let a value split the request */
	}
	put(r, key);
	put(r, ": ");
	put(r, value);
	put(r, "\r\n");
	return MHD_YES;
}

/* The client address as text into out (INET6_ADDRSTRLEN bytes). */
static void client_address(struct MHD_Connection *conn, char *out)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	        conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa && sa->sa_family == AF_INET) {
		/* by hand: inet_ntop() goes through sprintf(), per request */
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		const unsigned char *b = (const unsigned char *)&in->sin_addr;
		char *o = out;

		for (int i = 0; i < 4; i++) {
			unsigned v = b[i];

			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
	} else if (!sa || sa->sa_family != AF_INET6 ||
	           !inet_ntop(AF_INET6,
	                      &((const struct sockaddr_in6 *)sa)->sin6_addr,
	                      out, INET6_ADDRSTRLEN)) {
		memcpy(out, "unknown", 8);
	}
}

/* ---- the gateway's own routes ---- */

static bool is_get_or_head(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static enum MHD_Result serve_health(struct gw_request *r)
{
	static const char body[] = "{\"status\":\"ok\",\"service\":\"gateway\","
	                           "\"version\":\"" SHOP_VERSION "\"}";

	return respond_copy(r, 200, "application/json", body, sizeof(body) - 1);
}

static enum MHD_Result serve_ready(struct gw_request *r)
{
	const struct upstream_set *set = r->w->gw->upstreams;
	bool ready = true;
	struct gbuf b;
	enum MHD_Result ret;

	for (int s = 0; s < SVC_COUNT; s++) {
		bool any = false;

		if (set->services[s].count == 0)
			continue;
		for (size_t i = 0; i < set->services[s].count; i++) {
			const struct upstream_addr *a =
			        &set->addrs[set->services[s].first + i];

			if (atomic_load(&a->health) == UPSTREAM_UP)
				any = true;
		}
		if (!any)
			ready = false;
	}
	gbuf_init(&b);
	gbuf_puts(&b,
	          ready ? "{\"status\":\"ok\"" : "{\"status\":\"unavailable\"");
	gbuf_puts(&b, ",\"service\":\"gateway\",\"upstreams\":[");
	for (size_t i = 0; i < set->naddrs; i++) {
		const struct upstream_addr *a = &set->addrs[i];
		char esc[UPSTREAM_NAME_MAX * 2];

		slog_json_escape(esc, sizeof(esc), a->name);
		gbuf_puts(&b, i ? ",{\"service\":\"" : "{\"service\":\"");
		gbuf_puts(&b, service_name(a->service));
		gbuf_puts(&b, "\",\"address\":\"");
		gbuf_puts(&b, esc);
		gbuf_puts(&b, "\",\"status\":\"");
		gbuf_puts(&b, upstream_health_name(atomic_load(&a->health)));
		gbuf_puts(&b, "\"}");
	}
	if (gbuf_puts(&b, "]}") < 0) {
		gbuf_release(&b);
		return respond_problem(r, 503, "out of memory");
	}
	ret = respond_copy(r, ready ? 200 : 503, "application/json", b.data,
	                   b.len);
	gbuf_release(&b);
	return ret;
}

static enum MHD_Result serve_metrics(struct gw_request *r)
{
	size_t len = 0;
	char *text = metrics_render(&len);
	struct MHD_Response *resp;

	if (!text)
		return respond_problem(r, 503, "out of memory");
	resp = MHD_create_response_from_buffer(len, text,
	                                       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        "no-store");
	return queue(r, 200, resp);
}

static enum MHD_Result serve_static(struct gw_request *r)
{
	struct static_file f;
	struct MHD_Response *resp;
	unsigned status = 200;
	int rc = static_site_open(r->w->gw->site, r->path.data, &f);

	if (rc == SHOP_EINVAL)
		return respond_problem(r, 400,
		                       "the path has a '.' or '..' "
		                       "segment");
	if (rc < 0)
		return respond_problem(r, 404, "no such page");
	if (r->if_none_match && static_etag_matches(r->if_none_match, f.etag)) {
		close(f.fd);
		status = 304;
		resp = MHD_create_response_from_buffer(0, (void *)"",
		                                       MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_fd((size_t)f.size, f.fd);
		if (!resp)
			close(f.fd);
	}
	if (!resp)
		return MHD_NO;
	if (status == 200)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        f.content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        f.cache_control);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, f.etag);
	return queue(r, status, resp);
}

/* ---- the proxy ---- */

static enum MHD_Result respond_upstream_error(struct gw_request *r, int err)
{
	const char *svc = service_name(r->route.service);
	unsigned status;
	char detail[256];

	switch (err) {
	case UPSTREAM_EUNAVAIL:
		status = 503;
		if (r->w->gw->upstreams->services[r->route.service].count == 0)
			snprintf(detail, sizeof(detail),
			         "no upstream is configured for '%s'", svc);
		else
			snprintf(detail, sizeof(detail),
			         "every upstream of '%s' is down", svc);
		break;
	case UPSTREAM_EREFUSED:
		status = 502;
		snprintf(detail, sizeof(detail), "'%s' refused the connection",
		         svc);
		break;
	case UPSTREAM_ECONNECT_TIMEOUT:
		status = 504;
		snprintf(detail, sizeof(detail),
		         "cannot connect to '%s': timeout after %ld ms", svc,
		         r->w->gw->cfg->connect_timeout_ms);
		break;
	case UPSTREAM_ETIMEOUT:
		status = 504;
		snprintf(detail, sizeof(detail),
		         "'%s' did not answer within %ld ms", svc,
		         r->w->gw->cfg->response_timeout_ms);
		break;
	case UPSTREAM_ETOOBIG:
		status = 502;
		snprintf(detail, sizeof(detail),
		         "the answer of '%s' is larger than %ld bytes", svc,
		         r->w->gw->cfg->max_response);
		break;
	case UPSTREAM_EBADRESP:
		status = 502;
		snprintf(detail, sizeof(detail),
		         "'%s' sent an invalid HTTP response", svc);
		break;
	case UPSTREAM_ERESET:
		status = 502;
		snprintf(detail, sizeof(detail),
		         "'%s' closed the connection before answering", svc);
		break;
	case UPSTREAM_ECANCELLED:
		status = 503;
		snprintf(detail, sizeof(detail),
		         "the gateway is shutting down");
		break;
	default:
		status = 503;
		snprintf(detail, sizeof(detail),
		         "cannot reach '%s' from the gateway", svc);
		break;
	}
	metrics_gw_upstream_error(r->route.service, upstream_error_name(err));
	/* "all down" was said once by the prober; each refusal is news */
	slog_kv(err == UPSTREAM_EUNAVAIL ? SLOG_DEBUG : SLOG_WARN,
	        r->request_id, "upstream failed", SLOG_S("service", svc),
	        SLOG_S("address", r->ex.addr ? r->ex.addr->name : NULL),
	        SLOG_S("kind", upstream_error_name(err)),
	        SLOG_I("status", status));
	return respond_problem(r, status, detail);
}

/* The user service revoked the token of this logout (204): refuse it here
 * from now on, without waiting for the message on AUTH_REVOKED_CHANNEL. */
static void remember_logout(struct gw_request *r)
{
	int rc = revoked_set_add(r->w->gw->auth.revoked, r->jti, r->exp,
	                         (long long)time(NULL));

	if (rc < 0)
		slog_kv(SLOG_WARN, r->request_id,
		        "cannot remember a revoked token",
		        SLOG_S("error", shop_strerror(rc)));
}

/* The body of an answer to HEAD, which libmicrohttpd never sends. */
static ssize_t no_body_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	(void)buf;
	(void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static enum MHD_Result respond_upstream(struct gw_request *r)
{
	struct exchange *ex = &r->ex;
	struct MHD_Response *resp;

	if (ex->result != UPSTREAM_OK)
		return respond_upstream_error(r, ex->result);
	if ((r->auth_flags & ROUTE_AUTH_LOGOUT) && ex->parser.status == 204 &&
	    r->jti[0])
		remember_logout(r);
	if (ex->no_body && ex->parser.has_length)
		/* HEAD: Content-Length says what a GET would get */
		resp = MHD_create_response_from_callback(
		        ex->parser.content_length, 4096, no_body_reader, NULL,
		        NULL);
	else
		resp = MHD_create_response_from_buffer(
		        ex->parser.body_len,
		        ex->resp.data + ex->parser.body_off,
		        MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	for (size_t i = 0; i < ex->parser.nheaders; i++) {
		const char *name, *value;

		resp_parser_header(&ex->parser, &ex->resp, i, &name, &value);
		if (headers_response_passed(name))
			MHD_add_response_header(resp, name, value);
	}
	return queue(r, (unsigned)ex->parser.status, resp);
}

/* Called by the pool when the upstream answered or failed. */
static void exchange_done(struct exchange *ex)
{
	struct gw_request *r =
	        (struct gw_request *)((char *)ex -
	                              offsetof(struct gw_request, ex));

	waiting_remove(r->w, r);
	r->phase = PH_READY;
	if (r->suspended) {
		r->suspended = false;
		MHD_resume_connection(r->conn);
	} else {
		r->w->unparked--;
	}
	r->w->need_run = true;
}

void handler_cancel_waiting(struct worker *w)
{
	while (w->waiting) {
		struct gw_request *r = w->waiting;

		upstream_pool_cancel(w->pool, &r->ex);
		r->ex.result = UPSTREAM_ECANCELLED;
		exchange_done(&r->ex);
	}
}

/* The body is in: finish the head and send it all upstream. */
static enum MHD_Result start_exchange(struct gw_request *r)
{
	struct worker *w = r->w;
	const char *m = r->method;
	int rc;

	if (r->body.len > 0 || r->has_body_header || strcmp(m, "POST") == 0 ||
	    strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
		put(r, "Content-Length: ");
		if (gbuf_put_ulong(&r->head, r->body.len) < 0)
			r->oom = true;
		put(r, "\r\n");
	}
	put(r, "\r\n");
	if (r->oom)
		return respond_problem(r, 503, "out of memory");
	r->ex.service = r->route.service;
	r->ex.head = &r->head;
	r->ex.body = &r->body;
	/* RFC 9110 9.2.2: sending these twice does what sending once does */
	r->ex.idempotent = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
	                   strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 ||
	                   strcmp(m, "OPTIONS") == 0;
	r->ex.no_body = strcmp(m, "HEAD") == 0;
	r->ex.done = exchange_done;
	rc = upstream_pool_start(w->pool, &r->ex);
	if (rc < 0)
		return respond_upstream_error(r, rc);
	r->phase = PH_WAITING;
	waiting_add(w, r);
	/* Not suspended yet: the connection stays in libmicrohttpd's ready
	 * list, which calls us again on every run of the loop, until the
	 * answer is in or the loop parks the request (worker.c). Under load
	 * the answer usually comes first, which saves the epoll_ctl() pair
	 * that suspending and resuming cost. */
	w->unparked++;
	return MHD_YES;
}

/* The headers are in: the request line and headers for the upstream. */
static enum MHD_Result start_proxy(struct gw_request *r)
{
	struct worker *w = r->w;
	const char *cl;
	char ip[INET6_ADDRSTRLEN];

	if (urlpath_has_dot_segment(r->path.data, r->path.len))
		return respond_problem(r, 400,
		                       "the path has a '.' or '..' "
		                       "segment");
	r->auth_flags = route_auth_lookup(r->method, r->path.data, r->path.len);
	if (r->auth_flags & ROUTE_AUTH_REQUIRED) {
		struct jwt_claims claims;

		r->auth =
		        gw_auth_check(&w->gw->auth, r->authorization,
		                      r->nauthorization, &claims, &r->auth_why);
		if (r->auth != GW_AUTH_OK) {
			/* answered with 401 once the body is read (and
			 * dropped): nothing goes upstream */
			r->phase = PH_BODY;
			return MHD_YES;
		}
		if (w->gw->rate_limit &&
		    over_limit(r, RL_USER, claims.sub, strlen(claims.sub))) {
			r->phase = PH_BODY; /* 429, likewise */
			return MHD_YES;
		}
		if (r->auth_flags & ROUTE_AUTH_LOGOUT) {
			memcpy(r->jti, claims.jti, sizeof(r->jti));
			r->exp = claims.exp;
		}
	}
	cl = r->content_length;
	if (cl) {
		long n;

		size_t max = (size_t)w->gw->cfg->max_body;

		if (shop_parse_long(cl, 0, LONG_MAX, &n) < 0 ||
		    (size_t)n / 16 > max)
			return respond_too_large(r);
		if ((size_t)n > max) {
			/* Drain the body, then answer: a client still sending
			 * when we answer and close would see a reset (EPIPE),
			 * not the 413. Far larger bodies are cut off at once.
			 */
			r->body_too_large = true;
		} else if (gbuf_reserve(&r->body, (size_t)n) < 0) {
			return respond_problem(r, 503, "out of memory");
		}
	}
	if (!r->has_host) {
		put(r, "Host: ");
		put(r, service_name(r->route.service));
		put(r, "\r\n");
	}
	if (!r->traceparent[0])
		trace_parent_new(&w->rng, r->traceparent);
	put(r, "X-Request-ID: ");
	put(r, r->request_id);
	put(r, "\r\ntraceparent: ");
	put(r, r->traceparent);
	client_address(r->conn, ip);
	put(r, "\r\nX-Forwarded-For: ");
	put(r, ip);
	put(r, "\r\n");
	r->phase = PH_BODY;
	return MHD_YES;
}

/* First call for a request: every header is in, the body is not. */
static enum MHD_Result on_headers(struct gw_request *r, const char *method)
{
	struct worker *w = r->w;
	bool bad_escape = false;
	size_t plen;

	r->method = method;
	if (!urlpath_target_valid(r->uri.data)) {
		r->route.prefix = "invalid";
		MHD_get_connection_values(r->conn, MHD_HEADER_KIND,
		                          collect_header, r);
		if (!r->request_id[0])
			trace_request_id_new(&w->rng, r->request_id);
		return respond_problem(r, 400,
		                       "the request target is not a "
		                       "path");
	}
	plen = urlpath_path_len(r->uri.data);
	r->path.len = 0;
	if (gbuf_reserve(&r->path, plen + 1) < 0) {
		r->oom = true;
	} else if (urlpath_decode(r->uri.data, plen, r->path.data, r->path.cap,
	                          &r->path.len) < 0) {
		r->route.prefix = "invalid";
		r->path.len = 0;
		bad_escape = true;
	} else {
		r->route = router_match(r->path.data, r->path.len);
	}
	if (r->route.kind == ROUTE_PROXY) {
		/* the request line, then the headers as they are read */
		put(r, method);
		put(r, " ");
		put(r, r->uri.data);
		put(r, " HTTP/1.1\r\n");
	}
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_header, r);
	if (!r->request_id[0])
		trace_request_id_new(&w->rng, r->request_id);
	if (r->oom)
		return respond_problem(r, 503, "out of memory");
	if (bad_escape)
		return respond_problem(r, 400,
		                       "the path has an invalid "
		                       "percent-encoding");
	/* a preflight carries no token and must not spend a budget: it is
	 * answered here, and nothing else is done for it */
	r->cors = cors_classify(&w->gw->cfg->cors, method, r->origin,
	                        r->cors_request_method);
	if (r->cors != CORS_NOT_PREFLIGHT || address_over_limit(r)) {
		r->phase = PH_BODY; /* answered once read (and dropped) */
		return MHD_YES;
	}
	if (r->route.kind == ROUTE_PROXY)
		return start_proxy(r);
	/* answered once the request is read: a response queued before that
	 * makes libmicrohttpd close the connection */
	r->phase = PH_BODY;
	return MHD_YES;
}

/* The request is read: answer a route that is not proxied. */
static enum MHD_Result respond_local(struct gw_request *r)
{
	const char *method = r->method;

	switch (r->route.kind) {
	case ROUTE_HEALTH:
	case ROUTE_READY:
	case ROUTE_METRICS:
		if (!is_get_or_head(method))
			return respond_problem_allow(r, 405, "use GET or HEAD",
			                             "GET, HEAD");
		if (r->route.kind == ROUTE_HEALTH)
			return serve_health(r);
		if (r->route.kind == ROUTE_READY)
			return serve_ready(r);
		return serve_metrics(r);
	case ROUTE_INTERNAL:
		return respond_problem(r, 404,
		                       "internal routes are not "
		                       "served here");
	case ROUTE_NO_API:
		return respond_problem(r, 404, "no such API route");
	default:
		if (!is_get_or_head(method))
			return respond_problem_allow(r, 405,
			                             "the storefront answers "
			                             "GET and HEAD only",
			                             "GET, HEAD");
		return serve_static(r);
	}
}

static void on_body(struct gw_request *r, const char *data, size_t len)
{
	size_t max = (size_t)r->w->gw->cfg->max_body;

	r->body_seen += len;
	if (r->body_seen > max)
		r->body_too_large = true; /* read on, answer 413 at the end */
	if (r->body_too_large || r->route.kind != ROUTE_PROXY ||
	    r->auth != GW_AUTH_OK || r->rate_limited ||
	    r->cors != CORS_NOT_PREFLIGHT)
		return; /* nobody here reads a body */
	if (gbuf_append(&r->body, data, len) < 0)
		r->oom = true;
}

/* ---- libmicrohttpd callbacks ---- */

void *handler_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct worker *w = cls;
	struct gw_request *r = request_get(w);

	if (!r)
		return NULL;
	r->conn = conn;
	r->t_start = shop_now_ns();
	if (gbuf_append(&r->uri, uri, strlen(uri) + 1) < 0) {
		request_put(w, r);
		return NULL;
	}
	w->inflight++;
	return r;
}

enum MHD_Result handler_access(void *cls, struct MHD_Connection *conn,
                               const char *url, const char *method,
                               const char *version, const char *upload_data,
                               size_t *upload_data_size, void **req_cls)
{
	struct gw_request *r = *req_cls;

	(void)cls;
	(void)url;
	(void)version;
	if (!r)
		return MHD_NO; /* out of memory in the URI callback */
	switch (r->phase) {
	case PH_NEW:
		return on_headers(r, method);
	case PH_BODY:
		if (*upload_data_size) {
			on_body(r, upload_data, *upload_data_size);
			*upload_data_size = 0;
			/* a client that keeps sending far past the limit is
			 * cut off rather than read to the end */
			if (r->body_too_large &&
			    r->body_seen / 16 > (size_t)r->w->gw->cfg->max_body)
				return MHD_NO;
			return MHD_YES;
		}
		if (r->cors != CORS_NOT_PREFLIGHT)
			return respond_preflight(r);
		if (r->rate_limited)
			return respond_rate_limited(r);
		if (r->auth != GW_AUTH_OK)
			return respond_unauthorized(r);
		if (r->body_too_large)
			return respond_too_large(r);
		if (r->oom)
			return respond_problem(r, 503, "out of memory");
		if (r->route.kind != ROUTE_PROXY)
			return respond_local(r);
		return start_exchange(r);
	case PH_READY:
		return respond_upstream(r);
	case PH_WAITING:
		/* parked when the loop goes idle, or after a while: a
		 * suspended connection cannot time out under us */
		if (!r->suspended &&
		    (r->w->park || r->w->now > r->t_start + PARK_AFTER_NS)) {
			r->w->unparked--;
			r->suspended = true;
			metric_add(r->w->parked, 1);
			MHD_suspend_connection(r->conn);
		}
		return MHD_YES;
	default:
		(void)conn;
		*upload_data_size = 0;
		return MHD_YES;
	}
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		return "ok";
	case MHD_REQUEST_TERMINATED_WITH_ERROR:
		return "error";
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		return "client timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		return "shutdown";
	case MHD_REQUEST_TERMINATED_READ_ERROR:
		return "client read error";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		return "client closed";
	default:
		return "other";
	}
}

void handler_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe)
{
	struct worker *w = cls;
	struct gw_request *r = *req_cls;
	unsigned status;
	double seconds;
	char *q;

	(void)conn;
	if (!r)
		return;
	*req_cls = NULL;
	if (r->phase == PH_WAITING) {
		/* the daemon stops, or times out a request left waiting */
		upstream_pool_cancel(w->pool, &r->ex);
		waiting_remove(w, r);
		if (!r->suspended)
			w->unparked--;
	}
	/* 499 (nginx's "client closed request"): no answer of ours reached
	 * the client, or libmicrohttpd refused the request itself */
	status = r->status ? r->status : 499;
	seconds = (double)(shop_now_ns() - r->t_start) / 1e9;
	metrics_gw_request(&w->mcache, r->route.prefix,
	                   r->method ? r->method : "OTHER", status, seconds);
	metric_add(w->served, 1);
	if (slog_enabled(SLOG_INFO)) {
		q = strchr(r->uri.data, '?');
		if (q)
			*q = '\0'; /* the query may hold what logs must not */
		slog_kv(SLOG_INFO, r->request_id[0] ? r->request_id : NULL,
		        r->status ? "request" : "request aborted",
		        SLOG_S("method", r->method),
		        SLOG_S("path", r->uri.data), SLOG_I("status", status),
		        SLOG_D("duration_ms", seconds * 1000.0),
		        SLOG_S("upstream",
		               r->ex.addr ? r->ex.addr->name : NULL),
		        SLOG_S("end", termination_name(toe)));
	}
	w->inflight--;
	request_put(w, r);
}
