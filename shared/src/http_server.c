#include "shop/http.h"
#include "shop/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <netinet/in.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "shop/error.h"
#include "shop/json.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/router.h"
#include "shop/util.h"

struct http_header_kv {
	const char *name;
	const char *value;
	struct http_header_kv *next;
};

struct http_request_private {
	struct http_server *server;
	struct MHD_Connection *conn;
	uint64_t start_ns;
	const char *route_label;
	/* body being received */
	char *body_buf;
	size_t body_len;
	size_t body_cap;
	size_t body_seen; /* bytes received, kept or not */
	bool body_too_large;
	bool handled;
	/* response prepared by the handler */
	unsigned status;
	struct MHD_Response *response;
	struct http_header_kv *headers;
	char request_id_buf[SHOP_UUID_LEN + 1];
	char traceparent_buf[56];
	struct http_principal principal;
};

struct http_server {
	struct http_server_config cfg;
	struct MHD_Daemon *daemon;
	struct router *router;
	int port;
	atomic_int in_flight;
};

/* Wraps the request and its private part in one allocation from the arena. */
struct request_box {
	struct http_request req;
	struct http_request_private priv;
};

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* libmicrohttpd ends its messages with a newline. */
	size_t n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	slog_kv(SLOG_WARN, NULL, "libmicrohttpd", SLOG_S("detail", msg));
}

/* ---- request accessors ---- */

const char *http_header(struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->priv->conn, MHD_HEADER_KIND,
	                                   name);
}

const char *http_query(struct http_request *req, const char *name)
{
	const char *v = NULL;

	/* "?flag" with no '=' is present with a NULL value: report "". */
	if (MHD_lookup_connection_value_n(req->priv->conn,
	                                  MHD_GET_ARGUMENT_KIND, name,
	                                  strlen(name), &v, NULL) != MHD_YES)
		return NULL;
	return v ? v : "";
}

struct query_iter {
	int (*fn)(void *, const char *, const char *);
	void *arg;
	int rc;
};

static enum MHD_Result query_iter_cb(void *cls, enum MHD_ValueKind kind,
                                     const char *key, const char *value)
{
	struct query_iter *it = cls;

	(void)kind;
	it->rc = it->fn(it->arg, key, value ? value : "");
	return it->rc ? MHD_NO : MHD_YES;
}

int http_query_each(struct http_request *req,
                    int (*fn)(void *arg, const char *key, const char *value),
                    void *arg)
{
	struct query_iter it = {fn, arg, 0};

	MHD_get_connection_values(req->priv->conn, MHD_GET_ARGUMENT_KIND,
	                          query_iter_cb, &it);
	return it.rc;
}

void http_add_header(struct http_request *req, const char *name,
                     const char *value)
{
	struct http_header_kv *h = arena_alloc(req->arena, sizeof(*h));

	if (!h)
		return;
	h->name = arena_strdup(req->arena, name);
	h->value = arena_strdup(req->arena, value);
	if (!h->name || !h->value)
		return;
	h->next = req->priv->headers;
	req->priv->headers = h;
}

/* ---- responses ---- */

static void set_response(struct http_request *req, unsigned status,
                         struct MHD_Response *resp, const char *content_type)
{
	struct http_request_private *p = req->priv;

	if (p->response) {
		slog_kv(SLOG_ERROR, req->request_id, "handler responded twice",
		        SLOG_S("path", req->path));
		MHD_destroy_response(resp);
		return;
	}
	if (!resp) {
		/* Out of memory: answer with a static 500 body. */
		static const char oom[] =
		        "{\"type\":\"/problems/internal\","
		        "\"title\":\"Internal Server Error\","
		        "\"status\":500,\"detail\":\"out of memory\"}";
		resp = MHD_create_response_from_buffer(
		        sizeof(oom) - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
		status = 500;
		content_type = "application/problem+json";
		if (!resp)
			return;
	}
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        content_type);
	p->status = status;
	p->response = resp;
}

static void respond_json_typed(struct http_request *req, unsigned status,
                               json_t *body, const char *content_type)
{
	size_t len = 0;
	char *s = body ? sjson_dump(body, &len) : NULL;
	struct MHD_Response *resp = NULL;

	json_decref(body);
	if (s) {
		resp = MHD_create_response_from_buffer(len, s,
		                                       MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(s);
	}
	set_response(req, status, resp, content_type);
}

void http_respond_json(struct http_request *req, unsigned status, json_t *body)
{
	respond_json_typed(req, status, body, "application/json");
}

void http_respond_raw(struct http_request *req, unsigned status,
                      const char *content_type, const char *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	        len, (void *)body, MHD_RESPMEM_MUST_COPY);

	set_response(req, status, resp, content_type);
}

void http_respond_empty(struct http_request *req, unsigned status)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	        0, NULL, MHD_RESPMEM_PERSISTENT);

	set_response(req, status, resp, NULL);
}

static void respond_problem(struct http_request *req, unsigned status,
                            const char *detail, const struct field_errors *errs)
{
	respond_json_typed(req, status, http_problem_new(status, detail, errs),
	                   "application/problem+json");
}

void http_respond_problem(struct http_request *req, unsigned status,
                          const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	respond_problem(req, status, detail, NULL);
}

void http_respond_invalid(struct http_request *req, const char *detail,
                          const struct field_errors *errs)
{
	respond_problem(req, 400, detail ? detail : "the request is invalid",
	                errs);
}

/* Retry-After: 1 on a 503 unless the handler set one already. */
static void add_retry_after(struct http_request *req)
{
	for (const struct http_header_kv *h = req->priv->headers; h;
	     h = h->next)
		if (strcasecmp(h->name, "Retry-After") == 0)
			return;
	http_add_header(req, "Retry-After", "1");
}

void http_respond_error(struct http_request *req, int err, const char *detail)
{
	switch (err) {
	case SHOP_EINVAL:
		respond_problem(req, 400, detail, NULL);
		break;
	case SHOP_EAUTH:
		respond_problem(req, 401, detail, NULL);
		break;
	case SHOP_EFORBIDDEN:
		respond_problem(req, 403, detail, NULL);
		break;
	case SHOP_ENOTFOUND:
		respond_problem(req, 404, detail, NULL);
		break;
	case SHOP_ECONFLICT:
		respond_problem(req, 409, detail, NULL);
		break;
	case SHOP_EUNAVAIL:
		add_retry_after(req);
		respond_problem(
		        req, 503,
		        detail ? detail
		               : "a dependency is unavailable; retry later",
		        NULL);
		break;
	case SHOP_ETIMEDOUT:
		add_retry_after(req);
		respond_problem(req, 503,
		                detail ? detail
		                       : "a dependency timed out; retry later",
		                NULL);
		break;
	default:
		slog_kv(SLOG_ERROR, req->request_id, "request failed",
		        SLOG_S("path", req->path),
		        SLOG_S("error", shop_strerror(err)),
		        SLOG_S("detail", detail));
		respond_problem(req, 500, "an unexpected error occurred", NULL);
		break;
	}
}

/* ---- built-in endpoints ---- */

static void handle_health(struct http_request *req)
{
	struct http_server *s = req->priv->server;

	http_respond_json(req, 200,
	                  json_pack("{s:s, s:s, s:s}", "status", "ok",
	                            "service", s->cfg.service, "version",
	                            SHOP_VERSION));
}

static void handle_ready(struct http_request *req)
{
	struct http_server *s = req->priv->server;
	json_t *checks = json_object();
	int rc = 0;

	if (!checks) {
		http_respond_error(req, SHOP_ENOMEM, NULL);
		return;
	}
	if (s->cfg.ready)
		rc = s->cfg.ready(s->cfg.ready_ctx, checks);
	http_respond_json(req, rc == 0 ? 200 : 503,
	                  json_pack("{s:s, s:s, s:o}", "status",
	                            rc == 0 ? "ready" : "unavailable",
	                            "service", s->cfg.service, "checks",
	                            checks));
}

static void handle_metrics(struct http_request *req)
{
	size_t len;
	char *text = metrics_render(&len);
	struct MHD_Response *resp = NULL;

	if (text) {
		resp = MHD_create_response_from_buffer(len, text,
		                                       MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(text);
	}
	set_response(req, 200, resp,
	             "text/plain; version=0.0.4; charset=utf-8");
}

/* ---- dispatch ---- */

static bool content_type_is_json(const char *ct)
{
	size_t n = strlen("application/json");

	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static bool authenticate(struct http_request *req, unsigned flags)
{
	struct http_server *s = req->priv->server;
	const char *h = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
		http_add_header(req, "WWW-Authenticate", "Bearer");
		http_respond_problem(req, 401,
		                     "this route needs a bearer token in the "
		                     "Authorization header");
		return false;
	}
	if (!s->cfg.authenticate ||
	    s->cfg.authenticate(s->cfg.auth_ctx, h + 7, &req->priv->principal) <
	            0) {
		http_add_header(req, "WWW-Authenticate",
		                "Bearer error=\"invalid_token\"");
		http_respond_problem(req, 401,
		                     "the bearer token is invalid, expired or "
		                     "revoked");
		return false;
	}
	req->principal = &req->priv->principal;
	if ((flags & HTTP_ADMIN) && !req->principal->is_admin) {
		http_respond_problem(req, 403,
		                     "this route is for administrators");
		return false;
	}
	return true;
}

/* Compares the X-Internal-Token header with the configured token without
 * revealing, by timing, how much of it matched. */
static bool internal_token_ok(struct http_request *req)
{
	struct http_server *s = req->priv->server;
	const char *want = s->cfg.internal_token;
	const char *got = http_header(req, HTTP_INTERNAL_TOKEN_HEADER);
	size_t n;

	if (want && got && (n = strlen(want)) == strlen(got) &&
	    CRYPTO_memcmp(want, got, n) == 0)
		return true;
	http_respond_problem(req, 401,
	                     "this internal route needs the service token "
	                     "in " HTTP_INTERNAL_TOKEN_HEADER);
	return false;
}

static void dispatch(struct http_request *req)
{
	struct http_server *s = req->priv->server;
	struct router_match m;
	char *path_buf;

	if (strcmp(req->method, "GET") == 0 ||
	    strcmp(req->method, "HEAD") == 0) {
		if (strcmp(req->path, "/health") == 0) {
			req->priv->route_label = "/health";
			handle_health(req);
			return;
		}
		if (strcmp(req->path, "/ready") == 0) {
			req->priv->route_label = "/ready";
			handle_ready(req);
			return;
		}
		if (strcmp(req->path, "/metrics") == 0) {
			req->priv->route_label = "/metrics";
			handle_metrics(req);
			return;
		}
	}
	path_buf = arena_strdup(req->arena, req->path);
	if (!path_buf) {
		http_respond_error(req, SHOP_ENOMEM, NULL);
		return;
	}
	/* HEAD is GET without the body (libmicrohttpd drops the body). */
	switch (router_match(s->router,
	                     strcmp(req->method, "HEAD") == 0 ? "GET"
	                                                      : req->method,
	                     path_buf, &m)) {
	case ROUTER_NOT_FOUND:
		http_respond_problem(req, 404, "no route for %s %s",
		                     req->method, req->path);
		return;
	case ROUTER_METHOD_NOT_ALLOWED:
		http_add_header(req, "Allow", m.allow);
		http_respond_problem(req, 405,
		                     "%s is not allowed on %s; allowed: %s",
		                     req->method, req->path, m.allow);
		return;
	case ROUTER_FOUND:
		break;
	}
	req->priv->route_label = m.route->pattern;
	memcpy(req->params, m.params, m.nparams * sizeof(*m.params));
	req->nparams = m.nparams;

	if ((m.route->flags & HTTP_INTERNAL) && !internal_token_ok(req))
		return;
	if ((m.route->flags & (HTTP_AUTH | HTTP_ADMIN)) &&
	    !authenticate(req, m.route->flags))
		return;
	if (m.route->flags & HTTP_JSON_BODY) {
		char detail[256];
		struct field_errors errs;

		if (!content_type_is_json(http_header(req, "Content-Type"))) {
			http_respond_problem(req, 415,
			                     "the body must be sent as "
			                     "Content-Type: application/json");
			return;
		}
		req->json = sjson_parse(req->body, req->body_len, detail,
		                        sizeof(detail));
		if (!req->json) {
			http_respond_problem(req, 400, "%s", detail);
			return;
		}
		if (!json_is_object(req->json)) {
			field_errors_init(&errs);
			field_errors_add(&errs, "",
			                 "the body must be a JSON object");
			http_respond_invalid(
			        req, "the body must be a JSON object", &errs);
			return;
		}
	}
	m.route->handler(req);
	if (!req->priv->response) {
		slog_kv(SLOG_ERROR, req->request_id, "handler did not respond",
		        SLOG_S("route", m.route->pattern));
		http_respond_error(req, SHOP_ERR, "handler did not respond");
	}
}

static struct request_box *request_new(struct http_server *s,
                                       struct MHD_Connection *conn,
                                       const char *url, const char *method)
{
	struct arena *a = arena_new(0);
	struct request_box *box;
	const char *rid, *tp;

	if (!a)
		return NULL;
	box = arena_calloc(a, 1, sizeof(*box));
	if (!box) {
		arena_free(a);
		return NULL;
	}
	box->req.arena = a;
	box->req.priv = &box->priv;
	box->req.app = s->cfg.app;
	box->priv.server = s;
	box->priv.conn = conn;
	box->priv.start_ns = shop_now_ns();
	box->priv.route_label = "unmatched";
	box->req.method = arena_strdup(a, method);
	box->req.path = arena_strdup(a, url);

	rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                  "X-Request-ID");
	if (http_request_id_valid(rid)) {
		box->req.request_id = arena_strdup(a, rid);
	} else {
		shop_uuid_v4(box->priv.request_id_buf);
		box->req.request_id = box->priv.request_id_buf;
	}
	tp = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent");
	if (http_traceparent_valid(tp)) {
		box->req.traceparent = arena_strdup(a, tp);
	} else {
		http_traceparent_new(box->priv.traceparent_buf);
		box->req.traceparent = box->priv.traceparent_buf;
	}
	if (!box->req.method || !box->req.path || !box->req.request_id ||
	    !box->req.traceparent) {
		arena_free(a);
		return NULL;
	}
	atomic_fetch_add(&s->in_flight, 1);
	return box;
}

static enum MHD_Result queue(struct request_box *box)
{
	struct http_request_private *p = &box->priv;
	enum MHD_Result r;

	if (!p->response)
		return MHD_NO; /* out of memory even for the 500: drop it */
	MHD_add_response_header(p->response, "X-Request-ID",
	                        box->req.request_id);
	for (struct http_header_kv *h = p->headers; h; h = h->next)
		MHD_add_response_header(p->response, h->name, h->value);
	r = MHD_queue_response(p->conn, p->status, p->response);
	MHD_destroy_response(p->response);
	p->response = NULL;
	p->handled = true;
	return r;
}

/* How much of an oversized body is read (and dropped) so that the 413 can
 * be answered after it: 16 times the limit, at least 16 MiB. */
static size_t drain_limit(const struct http_server *s)
{
	size_t floor = (size_t)16 * 1024 * 1024;

	if (s->cfg.max_body > SIZE_MAX / 16)
		return SIZE_MAX;
	return s->cfg.max_body * 16 > floor ? s->cfg.max_body * 16 : floor;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn,
                                      const char *url, const char *method,
                                      const char *version,
                                      const char *upload_data,
                                      size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	struct request_box *box = *req_cls;
	struct http_request_private *p;

	(void)version;
	if (!box) {
		const char *cl;
		long len;

		box = request_new(s, conn, url, method);
		if (!box)
			return MHD_NO;
		*req_cls = box;
		cl = MHD_lookup_connection_value(
		        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && shop_parse_long(cl, 0, LONG_MAX, &len) == 0 &&
		    (size_t)len > s->cfg.max_body) {
			/* Drain the body and answer at its end: a client
			 * still sending when we answer and close would see a
			 * reset, not the 413. */
			if ((size_t)len <= drain_limit(s)) {
				box->priv.body_too_large = true;
				return MHD_YES;
			}
			http_respond_problem(
			        &box->req, 413,
			        "the request body is larger than the "
			        "limit of %zu bytes",
			        s->cfg.max_body);
			return queue(box);
		}
		return MHD_YES;
	}
	p = &box->priv;
	if (p->handled) {
		/* A response was queued early (413); discard the rest. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		p->body_seen += n;
		/* A client that keeps sending far past the limit is cut off
		 * rather than read to the end. */
		if (p->body_seen > drain_limit(s))
			return MHD_NO;
		if (p->body_too_large)
			return MHD_YES;
		if (n > s->cfg.max_body - p->body_len) {
			p->body_too_large = true;
			return MHD_YES;
		}
		if (p->body_len + n + 1 > p->body_cap) {
			size_t cap = p->body_cap ? p->body_cap : 1024;
			char *nb;

			while (cap < p->body_len + n + 1)
				cap *= 2;
			nb = realloc(p->body_buf, cap);
			if (!nb)
				return MHD_NO;
			p->body_buf = nb;
			p->body_cap = cap;
		}
		memcpy(p->body_buf + p->body_len, upload_data, n);
		p->body_len += n;
		p->body_buf[p->body_len] = '\0';
		return MHD_YES;
	}
	if (p->body_too_large) {
		http_respond_problem(
		        &box->req, 413,
		        "the request body is larger than the limit "
		        "of %zu bytes",
		        s->cfg.max_body);
		return queue(box);
	}
	box->req.body = p->body_buf;
	box->req.body_len = p->body_len;
	dispatch(&box->req);
	return queue(box);
}

/* The method as a metrics label: a client may send any token (or quotes),
 * which must neither break the exposition format nor add series. */
static const char *method_label(const char *method)
{
	static const char *const known[] = {"GET",   "HEAD",   "POST",   "PUT",
	                                    "PATCH", "DELETE", "OPTIONS"};

	for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++) {
		if (strcmp(method, known[i]) == 0)
			return known[i];
	}
	return "other";
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct request_box *box = *req_cls;
	struct http_request_private *p;
	char labels[256], status[8];
	double secs;

	(void)conn;
	if (!box)
		return;
	*req_cls = NULL;
	p = &box->priv;
	secs = (double)(shop_now_ns() - p->start_ns) / 1e9;
	snprintf(status, sizeof(status), "%u", p->handled ? p->status : 0);

	snprintf(labels, sizeof(labels),
	         "route=\"%s\",method=\"%s\",status=\"%s\"", p->route_label,
	         method_label(box->req.method), status);
	metric_add(metrics_counter("http_requests_total",
	                           "HTTP requests by route, method and status",
	                           labels),
	           1);
	snprintf(labels, sizeof(labels), "route=\"%s\"", p->route_label);
	metric_observe(metrics_histogram("http_request_duration_seconds",
	                                 "HTTP request latency", labels),
	               secs);
	slog_kv(SLOG_INFO, box->req.request_id, "request",
	        SLOG_S("method", box->req.method),
	        SLOG_S("path", box->req.path),
	        SLOG_I("status", p->handled ? p->status : 0),
	        SLOG_D("duration_ms", secs * 1000.0),
	        SLOG_S("outcome", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK
	                                  ? "completed"
	                                  : "aborted"));
	if (p->response)
		MHD_destroy_response(p->response);
	json_decref(box->req.json);
	free(p->body_buf);
	arena_free(box->req.arena);
	atomic_fetch_sub(&s->in_flight, 1);
}

struct http_server *http_server_start(const struct http_server_config *cfg)
{
	struct http_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in addr;
	const union MHD_DaemonInfo *info;
	unsigned threads;

	if (!s)
		return NULL;
	s->cfg = *cfg;
	if (!s->cfg.max_body)
		s->cfg.max_body = 1024 * 1024;
	s->router = router_new(cfg->routes, cfg->nroutes);
	if (!s->router)
		goto fail;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)cfg->port);
	if (inet_pton(AF_INET, cfg->address ? cfg->address : "0.0.0.0",
	              &addr.sin_addr) != 1) {
		slog_kv(SLOG_ERROR, NULL, "cannot listen: bad address",
		        SLOG_S("address", cfg->address));
		goto fail;
	}
	threads = cfg->threads > 0 ? (unsigned)cfg->threads
	                           : (unsigned)shop_ncpu();
	s->daemon = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
	                MHD_USE_ERROR_LOG |
	                (cfg->thread_per_connection
	                         ? MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL
	                         : MHD_USE_EPOLL),
	        (uint16_t)cfg->port, NULL, NULL, access_handler, s,
	        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
	        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
	        MHD_OPTION_THREAD_POOL_SIZE,
	        cfg->thread_per_connection ? 0u : threads,
	        MHD_OPTION_CONNECTION_LIMIT,
	        cfg->max_connections ? cfg->max_connections : 1024u,
	        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_connections,
	        MHD_OPTION_CONNECTION_TIMEOUT,
	        cfg->timeout_s ? cfg->timeout_s : 30u,
	        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        cfg->connection_memory ? cfg->connection_memory
	                               : (size_t)32 * 1024,
	        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
	if (!s->daemon) {
		slog_kv(SLOG_ERROR, NULL, "cannot listen",
		        SLOG_S("address", cfg->address),
		        SLOG_I("port", cfg->port),
		        SLOG_S("error", strerror(errno)));
		goto fail;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : cfg->port;
	slog_kv(SLOG_INFO, NULL, "listening", SLOG_S("address", cfg->address),
	        SLOG_I("port", s->port), SLOG_I("threads", threads),
	        SLOG_S("threading", cfg->thread_per_connection
	                                    ? "thread-per-connection"
	                                    : "epoll thread pool"));
	return s;
fail:
	router_free(s->router);
	free(s);
	return NULL;
}

int http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_free(struct http_server *s, unsigned grace_ms)
{
	MHD_socket fd;
	uint64_t deadline;

	if (!s)
		return;
	fd = MHD_quiesce_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	deadline = shop_now_ns() + (uint64_t)grace_ms * 1000000u;
	while (atomic_load(&s->in_flight) > 0 && shop_now_ns() < deadline) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(s->daemon);
	router_free(s->router);
	free(s);
}

void http_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int http_wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

int http_env_read(int default_port, long max_threads, struct http_env *out)
{
	int bad = 0;

	bad |= config_string("HTTP_ADDRESS", "0.0.0.0", &out->address);
	bad |= config_port("HTTP_PORT", default_port, &out->port);
	bad |= config_long("HTTP_THREADS", 0, 0, max_threads, &out->threads);
	bad |= config_bool("HTTP_THREAD_PER_CONNECTION", false,
	                   &out->thread_per_connection);
	bad |= config_long("HTTP_MAX_CONNECTIONS", 1024, 1, 100000,
	                   &out->max_connections);
	bad |= config_long("HTTP_PER_IP_CONNECTIONS", 0, 0, 100000,
	                   &out->per_ip_connections);
	bad |= config_long("HTTP_TIMEOUT_S", 30, 1, 3600, &out->timeout_s);
	bad |= config_long("HTTP_MAX_BODY_BYTES", 1024 * 1024, 1024,
	                   64 * 1024 * 1024, &out->max_body);
	bad |= config_long("HTTP_CONNECTION_MEMORY_BYTES", 32 * 1024, 8 * 1024,
	                   1024 * 1024, &out->connection_memory);
	return bad ? SHOP_EINVAL : 0;
}

void http_env_apply(const struct http_env *env, int threads,
                    struct http_server_config *cfg)
{
	cfg->address = env->address;
	cfg->port = env->port;
	cfg->threads = threads;
	cfg->thread_per_connection = env->thread_per_connection;
	cfg->max_connections = (unsigned)env->max_connections;
	cfg->per_ip_connections = (unsigned)env->per_ip_connections;
	cfg->timeout_s = (unsigned)env->timeout_s;
	cfg->connection_memory = (size_t)env->connection_memory;
	cfg->max_body = (size_t)env->max_body;
}
