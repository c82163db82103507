#include "shop/httpc.h"

#include "shop/breaker.h"
#include "shop/error.h"
#include "shop/json.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * Why a locked stack of easy handles rather than one handle per (thread,
 * client) in pthread TLS: with TLS, httpc_free() cannot reach the handles
 * of threads still alive (pthread_key_delete runs no destructors) and a
 * thread that exits after the client is freed would run its destructor on
 * freed memory; a daemon's request threads would also each hold a handle
 * and a connection per upstream whether they call it or not. The stack's
 * mutex is held for a pointer push or pop, nothing next to a network round
 * trip, and last-in-first-out keeps the warm connection in use: a thread's
 * sequential calls reuse one TCP connection.
 */

struct httpc {
	char *name;
	char *base_url;  /* without a trailing '/' */
	char label[200]; /* upstream="<name>" */
	int connect_timeout_ms;
	int timeout_ms;
	int retries;
	int backoff_ms;
	size_t max_response_bytes;
	char **fixed; /* "Name: value" */
	size_t nfixed;
	struct breaker *breaker;

	pthread_mutex_t lock;
	CURL **idle; /* under lock */
	int nidle;
	int max_idle;
};

/* The body being received, capped. */
struct sink {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
	bool too_big;
};

/* What one attempt told about the upstream. */
struct outcome {
	int rc;             /* 0 or shop_err */
	long status;        /* when rc == 0 */
	const char *result; /* metric label */
	bool broken;        /* not valid HTTP: counts against the breaker */
	char why[256];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK
	                    ? 0
	                    : SHOP_ERR;
}

int httpc_global_init(void)
{
	pthread_once(&global_once, global_init_once);
	return global_rc;
}

static bool clean_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
	return true;
}

static bool clean_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == ':' || *s == 0x7f)
			return false;
	return true;
}

/* No spaces, control characters or DEL (a URL or path already encoded). */
static bool clean_url(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

static char *header_line(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s: %s", name, value);
	return s;
}

void httpc_free(struct httpc *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nidle; i++)
		curl_easy_cleanup(c->idle[i]);
	for (size_t i = 0; i < c->nfixed; i++)
		free(c->fixed[i]);
	free(c->fixed);
	free(c->idle);
	breaker_free(c->breaker);
	pthread_mutex_destroy(&c->lock);
	free(c->base_url);
	free(c->name);
	free(c);
}

int httpc_new(const struct httpc_options *opt, struct httpc **out)
{
	struct httpc *c;
	struct breaker_options bo = {0};
	char esc[160];
	size_t n;
	int ret;

	if (!opt->name || !opt->base_url ||
	    (strncmp(opt->base_url, "http://", 7) != 0 &&
	     strncmp(opt->base_url, "https://", 8) != 0) ||
	    !clean_url(opt->base_url)) {
		slog_error("invalid base url for '%s': expected "
		           "http(s)://host:port",
		           opt->name ? opt->name : "?");
		return SHOP_EINVAL;
	}
	if (opt->connect_timeout_ms < 0 || opt->timeout_ms < 0 ||
	    opt->backoff_ms < 0 || opt->failures_to_open < 0 ||
	    opt->open_ms < 0 || opt->max_idle_handles < 0) {
		slog_error("invalid options for '%s': negative number",
		           opt->name);
		return SHOP_EINVAL;
	}
	for (size_t i = 0; i < opt->nheaders; i++) {
		if (!clean_name(opt->headers[i].name) ||
		    !clean_value(opt->headers[i].value)) {
			slog_error("invalid header for '%s': bad name or "
			           "control character in value",
			           opt->name);
			return SHOP_EINVAL;
		}
	}
	if (httpc_global_init() < 0) {
		slog_error("cannot initialise libcurl for '%s'", opt->name);
		return SHOP_ERR;
	}

	c = calloc(1, sizeof(*c));
	if (!c)
		return SHOP_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->connect_timeout_ms =
	        opt->connect_timeout_ms ? opt->connect_timeout_ms : 500;
	c->timeout_ms = opt->timeout_ms ? opt->timeout_ms : 2000;
	c->retries = opt->retries == 0  ? 2
	             : opt->retries < 0 ? 0
	                                : opt->retries;
	c->backoff_ms = opt->backoff_ms ? opt->backoff_ms : 50;
	c->max_response_bytes = opt->max_response_bytes
	                                ? opt->max_response_bytes
	                                : (size_t)1 << 20;
	c->max_idle = opt->max_idle_handles ? opt->max_idle_handles : 32;
	metrics_escape_label(esc, sizeof(esc), opt->name);
	snprintf(c->label, sizeof(c->label), "upstream=\"%s\"", esc);

	ret = SHOP_ENOMEM;
	c->name = strdup(opt->name);
	c->base_url = strdup(opt->base_url);
	c->idle = calloc((size_t)c->max_idle, sizeof(*c->idle));
	c->fixed = calloc(opt->nheaders ? opt->nheaders : 1, sizeof(char *));
	if (!c->name || !c->base_url || !c->idle || !c->fixed)
		goto fail;
	n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = '\0';
	for (size_t i = 0; i < opt->nheaders; i++) {
		c->fixed[i] = header_line(opt->headers[i].name,
		                          opt->headers[i].value);
		if (!c->fixed[i])
			goto fail;
		c->nfixed++;
	}
	bo.name = opt->name;
	bo.failures_to_open = opt->failures_to_open;
	bo.open_ms = opt->open_ms;
	ret = breaker_new(&bo, &c->breaker);
	if (ret < 0)
		goto fail;
	*out = c;
	return 0;

fail:
	httpc_free(c);
	return ret;
}

int httpc_breaker_state(struct httpc *c)
{
	return (int)breaker_state_get(c->breaker);
}

void httpc_response_release(struct httpc_response *resp)
{
	if (!resp)
		return;
	json_decref(resp->json);
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* ---- handles ---- */

static CURL *handle_take(struct httpc *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->nidle > 0)
		h = c->idle[--c->nidle];
	pthread_mutex_unlock(&c->lock);
	return h ? h : curl_easy_init();
}

static void handle_give(struct httpc *c, CURL *h)
{
	pthread_mutex_lock(&c->lock);
	if (c->nidle < c->max_idle) {
		c->idle[c->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

/* ---- one attempt ---- */

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t add = size * nmemb;

	if (add > s->max - s->len) {
		s->too_big = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (s->len + add + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *b;

		while (cap < s->len + add + 1)
			cap *= 2;
		if (cap > s->max + 1)
			cap = s->max + 1;
		b = realloc(s->buf, cap);
		if (!b)
			return 0;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, add);
	s->len += add;
	s->buf[s->len] = '\0';
	return add;
}

static void why(struct outcome *o, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void why(struct outcome *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
}

static const char *method_name(enum httpc_method m)
{
	switch (m) {
	case HTTPC_GET:
		return "GET";
	case HTTPC_HEAD:
		return "HEAD";
	case HTTPC_POST:
		return "POST";
	case HTTPC_PUT:
		return "PUT";
	case HTTPC_PATCH:
		return "PATCH";
	case HTTPC_DELETE:
		return "DELETE";
	}
	return NULL;
}

struct call {
	const struct httpc_request *req;
	const char *url;
	const char *body; /* NULL for no body */
	size_t body_len;
	struct curl_slist *headers;
};

static void map_curl_error(struct httpc *c, CURLcode cc, const char *errbuf,
                           const struct sink *sink, struct outcome *o)
{
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (sink->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
			o->rc = SHOP_EINVAL;
			o->result = "invalid";
			why(o, "response body larger than %zu bytes",
			    c->max_response_bytes);
		} else {
			o->rc = SHOP_ENOMEM;
			o->result = "error";
			why(o, "out of memory reading the response");
		}
		break;
	case CURLE_OPERATION_TIMEDOUT:
		o->rc = SHOP_ETIMEDOUT;
		o->result = "timeout";
		why(o, "%s", detail);
		break;
	case CURLE_OUT_OF_MEMORY:
		o->rc = SHOP_ENOMEM;
		o->result = "error";
		why(o, "out of memory");
		break;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		o->rc = SHOP_EINVAL;
		o->result = "invalid";
		why(o, "bad request url: %s", detail);
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2:
	case CURLE_PARTIAL_FILE:
		/* Not valid HTTP: the upstream is broken, the breaker
		 * counts it. */
		o->rc = SHOP_EINVAL;
		o->result = "invalid";
		o->broken = true;
		why(o, "invalid response: %s", detail);
		break;
	default:
		/* Refused, reset, closed without an answer, host not found,
		 * TLS handshake failed: the upstream cannot be reached. */
		o->rc = SHOP_EUNAVAIL;
		o->result = "unavailable";
		why(o, "%s", detail);
		break;
	}
}

static void attempt(struct httpc *c, CURL *h, const struct call *k,
                    uint64_t deadline_ns, struct sink *sink,
                    struct httpc_response *r, struct outcome *o)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	uint64_t now = shop_now_ns();
	long left_ms = deadline_ns > now
	                       ? (long)((deadline_ns - now + 999999) / 1000000)
	                       : 1;
	long connect_ms = c->connect_timeout_ms < left_ms
	                          ? c->connect_timeout_ms
	                          : left_ms;
	enum httpc_method m = k->req->method;
	char *ctype = NULL;
	CURLcode cc;

	curl_easy_reset(h); /* keeps the connection cache */
	curl_easy_setopt(h, CURLOPT_URL, k->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, k->headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	                 (curl_off_t)c->max_response_bytes);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (m == HTTPC_HEAD) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (m != HTTPC_GET) {
		if (m != HTTPC_POST)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
			                 method_name(m));
		if (k->body || m != HTTPC_DELETE) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			                 (curl_off_t)k->body_len);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS,
			                 k->body ? k->body : "");
		}
	}

	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		map_curl_error(c, cc, errbuf, sink, o);
		return;
	}
	o->rc = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &o->status);
	r->status = o->status;
	r->content_type[0] = '\0';
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK &&
	    ctype)
		snprintf(r->content_type, sizeof(r->content_type), "%s", ctype);
	o->result = o->status >= 500   ? "5xx"
	            : o->status >= 400 ? "4xx"
	            : o->status >= 300 ? "3xx"
	                               : "2xx";
	if (o->status >= 500)
		why(o, "answered %ld", o->status);
}

/* True for application/json and application/<x>+json, parameters ignored. */
static bool is_json_type(const char *t)
{
	size_t n = strcspn(t, "; \t");

	if (n == 16 && strncasecmp(t, "application/json", 16) == 0)
		return true;
	return n > 17 && strncasecmp(t, "application/", 12) == 0 &&
	       strncasecmp(t + n - 5, "+json", 5) == 0;
}

/* Parses the body of an answer into r->json when it says it is JSON. */
static void parse_body(const struct httpc_request *req, struct sink *sink,
                       struct httpc_response *r, struct outcome *o)
{
	char detail[160];
	bool json = is_json_type(r->content_type);

	if (req->expect_json && r->status >= 200 && r->status < 300 &&
	    (!json || sink->len == 0)) {
		o->rc = SHOP_EINVAL;
		o->result = "invalid";
		why(o, "expected a JSON body, got %s%s",
		    json ? "an empty one with " : "content type ",
		    r->content_type[0] ? r->content_type : "(none)");
		return;
	}
	if (!json || sink->len == 0)
		return;
	r->json = sjson_parse(sink->buf, sink->len, detail, sizeof(detail));
	if (!r->json) {
		o->rc = SHOP_EINVAL;
		o->result = "invalid";
		why(o, "invalid JSON in the %ld response: %s", r->status,
		    detail);
	}
}

static bool method_idempotent(enum httpc_method m)
{
	return m == HTTPC_GET || m == HTTPC_HEAD || m == HTTPC_PUT ||
	       m == HTTPC_DELETE;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
	                      .tv_nsec = (long)(ns % 1000000000u)};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* The backoff before retry number n (0-based): backoff_ms << n, jittered
 * down to half of it so that callers who failed together spread out. */
static uint64_t backoff_ns(const struct httpc *c, int n)
{
	uint64_t full = (uint64_t)c->backoff_ms * 1000000u << (n < 16 ? n : 16);
	uint32_t r = 0;

	if (shop_random_bytes(&r, sizeof(r)) < 0)
		r = 0;
	return full / 2 + (uint64_t)((double)(full / 2) * (r / 4294967296.0));
}

static int build_headers(struct httpc *c, const struct httpc_request *req,
                         bool has_body, struct curl_slist **out,
                         struct outcome *o)
{
	struct curl_slist *l = NULL, *t;
	const char *ct =
	        req->content_type ? req->content_type : "application/json";
	char *line;
	int ret = SHOP_ENOMEM;

#define APPEND(s)                                                              \
	do {                                                                   \
		t = curl_slist_append(l, (s));                                 \
		if (!t)                                                        \
			goto fail;                                             \
		l = t;                                                         \
	} while (0)
#define APPEND_KV(k, v)                                                        \
	do {                                                                   \
		line = header_line((k), (v));                                  \
		if (!line)                                                     \
			goto fail;                                             \
		t = curl_slist_append(l, line);                                \
		free(line);                                                    \
		if (!t)                                                        \
			goto fail;                                             \
		l = t;                                                         \
	} while (0)

	APPEND("Accept: application/json");
	APPEND("Expect:"); /* no 100-continue round trip */
	for (size_t i = 0; i < c->nfixed; i++)
		APPEND(c->fixed[i]);
	if (req->request_id)
		APPEND_KV("X-Request-ID", req->request_id);
	if (req->traceparent)
		APPEND_KV("traceparent", req->traceparent);
	if (has_body)
		APPEND_KV("Content-Type", ct);
	for (size_t i = 0; i < req->nheaders; i++)
		APPEND_KV(req->headers[i].name, req->headers[i].value);
#undef APPEND
#undef APPEND_KV
	*out = l;
	return 0;

fail:
	curl_slist_free_all(l);
	o->rc = ret;
	o->result = "error";
	why(o, "out of memory");
	return ret;
}

static int check_request(const struct httpc_request *req, struct outcome *o)
{
	const char *p = req->path;

	o->rc = SHOP_EINVAL;
	o->result = "invalid";
	if (!method_name(req->method)) {
		why(o, "bad request: unknown method %d", (int)req->method);
		return SHOP_EINVAL;
	}
	if (!p || p[0] != '/' || !clean_url(p)) {
		why(o, "bad request: path must start with '/' and hold no "
		       "spaces or control characters");
		return SHOP_EINVAL;
	}
	if ((req->json || req->body) &&
	    (req->method == HTTPC_GET || req->method == HTTPC_HEAD)) {
		why(o, "bad request: %s with a body", method_name(req->method));
		return SHOP_EINVAL;
	}
	if (req->json && req->body) {
		why(o, "bad request: both json and body given");
		return SHOP_EINVAL;
	}
	if ((req->request_id && !clean_value(req->request_id)) ||
	    (req->traceparent && !clean_value(req->traceparent)) ||
	    (req->content_type && !clean_value(req->content_type))) {
		why(o, "bad request: control character in a header");
		return SHOP_EINVAL;
	}
	for (size_t i = 0; i < req->nheaders; i++) {
		if (!clean_name(req->headers[i].name) ||
		    !clean_value(req->headers[i].value)) {
			why(o, "bad request: bad header name or control "
			       "character in a header value");
			return SHOP_EINVAL;
		}
	}
	o->rc = 0;
	o->result = NULL;
	return 0;
}

static void count_call(struct httpc *c, const char *result, double seconds)
{
	char labels[260];

	snprintf(labels, sizeof(labels), "%s,result=\"%s\"", c->label, result);
	metric_add(metrics_counter("http_client_requests_total",
	                           "Outgoing HTTP calls by upstream and "
	                           "result.",
	                           labels),
	           1);
	metric_observe(metrics_histogram("http_client_request_duration_seconds",
	                                 "Outgoing HTTP calls, retries "
	                                 "included.",
	                                 c->label),
	               seconds);
}

static void count_retry(struct httpc *c)
{
	metric_add(metrics_counter("http_client_retries_total",
	                           "Outgoing HTTP attempts that were retries.",
	                           c->label),
	           1);
}

int httpc_request(struct httpc *c, const struct httpc_request *req,
                  struct httpc_response *resp)
{
	uint64_t start = shop_now_ns();
	uint64_t deadline = start + (uint64_t)c->timeout_ms * 1000000u;
	struct outcome o = {.rc = 0};
	struct httpc_response r = {0};
	struct sink sink = {.max = c->max_response_bytes};
	struct call k = {.req = req};
	char *json_body = NULL;
	char *url = NULL;
	CURL *h = NULL;
	int max_retries;
	size_t n;

	if (check_request(req, &o) < 0)
		goto done;

	if (req->json) {
		json_body =
		        json_dumps(req->json, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!json_body)
			goto oom;
		k.body = json_body;
		k.body_len = strlen(json_body);
	} else if (req->body) {
		k.body = req->body;
		k.body_len = req->body_len;
	}
	n = strlen(c->base_url) + strlen(req->path) + 1;
	url = malloc(n);
	if (!url)
		goto oom;
	snprintf(url, n, "%s%s", c->base_url, req->path);
	k.url = url;
	if (build_headers(c, req, k.body != NULL, &k.headers, &o) < 0)
		goto done;

	max_retries = (method_idempotent(req->method) || req->idempotent)
	                      ? c->retries
	                      : 0;
	for (int i = 0;; i++) {
		bool probe = false;
		bool retriable;
		uint64_t pause;

		if (breaker_allow(c->breaker, &probe) < 0) {
			if (i == 0) {
				o.rc = SHOP_EUNAVAIL;
				o.result = "breaker_open";
				why(&o, "circuit to '%s' is open", c->name);
			}
			break; /* else keep the previous attempt's outcome */
		}
		if (!h)
			h = handle_take(c);
		if (!h) {
			breaker_cancel(c->breaker, probe);
			goto oom;
		}
		free(sink.buf);
		sink = (struct sink){.max = c->max_response_bytes};
		o = (struct outcome){.rc = 0};
		attempt(c, h, &k, deadline, &sink, &r, &o);
		if (o.rc == SHOP_ENOMEM)
			breaker_cancel(c->breaker, probe);
		else
			breaker_record(c->breaker, probe,
			               !(o.rc == SHOP_EUNAVAIL ||
			                 o.rc == SHOP_ETIMEDOUT || o.broken ||
			                 o.status >= 500));
		retriable = (o.rc == SHOP_EUNAVAIL || o.rc == SHOP_ETIMEDOUT ||
		             (o.rc == 0 && o.status >= 500));
		if (!retriable || i >= max_retries)
			break;
		pause = backoff_ns(c, i);
		if (shop_now_ns() + pause + 1000000u >= deadline)
			break; /* no time left for another attempt */
		slog_kv(SLOG_DEBUG, req->request_id, "retrying upstream call",
		        SLOG_S("upstream", c->name),
		        SLOG_S("method", method_name(req->method)),
		        SLOG_S("path", req->path), SLOG_S("error", o.why),
		        SLOG_I("backoff_ms", pause / 1000000u));
		count_retry(c);
		sleep_ns(pause);
	}
	if (o.rc == 0) {
		parse_body(req, &sink, &r, &o);
		if (o.rc == 0) {
			r.body = sink.buf ? sink.buf : strdup("");
			if (!r.body) {
				json_decref(r.json);
				goto oom;
			}
			r.body_len = sink.len;
			sink.buf = NULL;
		} else {
			json_decref(r.json);
		}
	}
	goto done;

oom:
	o.rc = SHOP_ENOMEM;
	o.result = "error";
	why(&o, "out of memory");
done:
	if (h)
		handle_give(c, h);
	curl_slist_free_all(k.headers);
	free(sink.buf);
	free(url);
	free(json_body);
	count_call(c, o.result ? o.result : "error",
	           (double)(shop_now_ns() - start) / 1e9);
	if (o.rc == 0) {
		*resp = r;
		return 0;
	}
	if (req->error && req->error_cap)
		snprintf(req->error, req->error_cap, "%s", o.why);
	if (!o.result || strcmp(o.result, "breaker_open") != 0)
		slog_kv(SLOG_WARN, req->request_id, "upstream call failed",
		        SLOG_S("upstream", c->name),
		        SLOG_S("method", method_name(req->method)),
		        SLOG_S("path", req->path ? req->path : ""),
		        SLOG_S("error", o.why),
		        SLOG_D("duration_s",
		               (double)(shop_now_ns() - start) / 1e9));
	return o.rc;
}
