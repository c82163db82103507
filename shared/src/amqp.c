#include "shop/amqp.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CHANNEL                    1
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_RPC_TIMEOUT_MS     10000
#define DEFAULT_HEARTBEAT_S        30
/* How long amqp_conn_free() waits for the broker's close-ok. */
#define CLOSE_TIMEOUT_MS 1000

struct amqp_conn {
	amqp_connection_state_t state;
	bool ok;           /* usable: socket, connection and channel open */
	bool conn_open;    /* the AMQP connection is open (close is due) */
	bool channel_open; /* channel 1 is open (close is due) */
	bool confirming;   /* Confirm.Select done on channel 1 */
	uint64_t next_tag; /* delivery tag of the next publish */

	/* A Basic.Return whose content header is still to come. */
	bool in_return;
	uint64_t return_body_left;
	char return_reason[48];
	char return_key[256];

	/* The delivery whose content is still to come, and the complete ones
	 * amqp_conn_receive() has not handed out yet (oldest first). */
	struct delivery_node *in_delivery;
	struct delivery_node *ready, **ready_tail;

	char display[300];
	/* Why the connection died (the first cause); "" while it is ok. */
	char error[300];
};

/* A delivery and its place in the list of complete ones. */
struct delivery_node {
	struct amqp_delivery d; /* first: amqp_delivery_free() casts back */
	struct delivery_node *next;
	uint64_t body_left; /* bytes of content still to come */
};

/* One batch being confirmed, for the frame handler. */
struct batch {
	struct amqp_outgoing *msgs;
	bool *confirmed;
	size_t n;
	size_t unconfirmed;
	uint64_t first_tag;
};

static struct timeval tv_of_ms(int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (long)(ms % 1000) * 1000L};

	return tv;
}

static void copy_bytes(char *dst, size_t cap, amqp_bytes_t b)
{
	size_t n = b.len < cap - 1 ? b.len : cap - 1;

	if (n)
		memcpy(dst, b.bytes, n);
	dst[n] = '\0';
}

/* ---- URL ---- */

/* Parses a private copy of url (buf, freed by the caller) into ci and
 * writes the log form. */
static int parse_url(const char *url, char **buf,
                     struct amqp_connection_info *ci, char *display, size_t cap)
{
	char *copy;

	if (!url || strncmp(url, "amqp://", 7) != 0)
		return SHOP_EINVAL;
	copy = strdup(url);
	if (!copy)
		return SHOP_ENOMEM;
	if (amqp_parse_url(copy, ci) != AMQP_STATUS_OK || ci->ssl ||
	    !ci->host || !*ci->host || !ci->vhost || !*ci->vhost) {
		free(copy);
		return SHOP_EINVAL;
	}
	if (display && cap) {
		bool v6 = strchr(ci->host, ':') != NULL;
		bool root = strcmp(ci->vhost, "/") == 0;

		snprintf(display, cap, "amqp://%s%s%s:%d%s%s", v6 ? "[" : "",
		         ci->host, v6 ? "]" : "", ci->port, root ? "" : "/",
		         root ? "" : ci->vhost);
	}
	*buf = copy;
	return 0;
}

int amqp_url_check(const char *url, char *display, size_t cap)
{
	struct amqp_connection_info ci;
	char *buf = NULL;
	int rc = parse_url(url, &buf, &ci, display, cap);

	free(buf);
	return rc == SHOP_ENOMEM ? rc : rc ? SHOP_EINVAL : 0;
}

/* ---- errors ---- */

/* Describes a failed RPC reply in buf. */
static void describe_reply(amqp_rpc_reply_t r, char *buf, size_t cap)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		snprintf(buf, cap, "no error");
		break;
	case AMQP_RESPONSE_NONE:
		snprintf(buf, cap, "no reply from the broker");
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(buf, cap, "%s",
		         r.library_error == AMQP_STATUS_CONNECTION_CLOSED
		                 ? "connection closed by the broker"
		                 : amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			const amqp_connection_close_t *m = r.reply.decoded;

			snprintf(buf, cap, "%u %.*s", m->reply_code,
			         (int)m->reply_text.len,
			         (const char *)m->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			const amqp_channel_close_t *m = r.reply.decoded;

			snprintf(buf, cap, "%u %.*s", m->reply_code,
			         (int)m->reply_text.len,
			         (const char *)m->reply_text.bytes);
		} else {
			snprintf(buf, cap, "unexpected method 0x%08x",
			         (unsigned)r.reply.id);
		}
		break;
	}
}

static void set_error(struct amqp_conn *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Records why the connection died; the first cause wins. Not logged:
 * the caller logs the transition once (amqp_conn_error()). */
static void set_error(struct amqp_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	slog_debug("connection to '%s' is dead: %s", c->display, c->error);
}

/*
 * After a failed RPC: answers a close from the broker (close-ok) and marks
 * the connection dead. Returns SHOP_ERR when the broker refused (a channel
 * error: the server's reply is in buf), SHOP_EUNAVAIL otherwise.
 */
static int fail_rpc(struct amqp_conn *c, amqp_rpc_reply_t r, char *buf,
                    size_t cap)
{
	int rc = SHOP_EUNAVAIL;

	describe_reply(r, buf, cap);
	c->ok = false;
	if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
	    r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
		amqp_channel_close_ok_t ok = {0};

		c->channel_open = false;
		if (amqp_send_method(c->state, CHANNEL,
		                     AMQP_CHANNEL_CLOSE_OK_METHOD,
		                     &ok) != AMQP_STATUS_OK)
			c->conn_open = false;
		rc = SHOP_ERR;
	} else if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
	           r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
		amqp_connection_close_ok_t ok = {0};

		amqp_send_method(c->state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD,
		                 &ok);
		c->conn_open = c->channel_open = false;
	} else {
		/* A library error (socket, timeout): the connection state is
		 * undefined, nothing more may be sent on it. */
		c->conn_open = c->channel_open = false;
	}
	return rc;
}

/* A library status from a frame read or a publish: the connection is dead. */
static int fail_status(struct amqp_conn *c, int status, const char *what)
{
	set_error(c, "%s during %s",
	          status == AMQP_STATUS_CONNECTION_CLOSED
	                  ? "connection closed"
	                  : amqp_error_string2(status),
	          what);
	c->ok = c->conn_open = c->channel_open = false;
	return SHOP_EUNAVAIL;
}

/* ---- connection ---- */

static void report_open_failure(char *err, size_t errcap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void report_open_failure(char *err, size_t errcap, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (err && errcap)
		snprintf(err, errcap, "%s", line);
	else
		slog_error("%s", line);
}

/*
 * rabbitmq-c reports a failed TCP connect as a bare "socket error" (the
 * errno of the connect is lost inside it). For the log line only, one quick
 * non-blocking probe of the first address finds out why: "connection
 * refused", "no route to host". Returns that errno, or 0 when unknown.
 */
static int probe_connect_errno(const char *host, int port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	char service[16];
	int fd, err = 0;
	socklen_t len = sizeof(err);

	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai)
		return 0;
	fd = socket(ai->ai_family,
	            ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            ai->ai_protocol);
	if (fd < 0)
		goto free_ai;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		err = 0;
	} else if (errno != EINPROGRESS) {
		err = errno;
	} else {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};

		if (poll(&pfd, 1, 250) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = 0;
	}
	close(fd);
free_ai:
	freeaddrinfo(ai);
	return err;
}

static const char *socket_error(int status,
                                const struct amqp_connection_info *ci,
                                int timeout_ms, char *buf, size_t cap)
{
	int err;

	switch (status) {
	case AMQP_STATUS_TIMEOUT:
	case AMQP_STATUS_SOCKET_ERROR:
		err = status == AMQP_STATUS_SOCKET_ERROR
		              ? probe_connect_errno(ci->host, ci->port)
		              : ETIMEDOUT;
		if (err == ETIMEDOUT) {
			snprintf(buf, cap, "timeout after %.1f s",
			         (double)timeout_ms / 1000);
			return buf;
		}
		if (err != 0) {
			/* lowercase, as every log line */
			snprintf(buf, cap, "%s", strerror(err));
			buf[0] = (char)tolower((unsigned char)buf[0]);
			return buf;
		}
		return "connection failed";
	case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED:
		return "cannot resolve the host name";
	default:
		return amqp_error_string2(status);
	}
}

int amqp_conn_open(const struct amqp_conn_options *opt, struct amqp_conn **out,
                   char *err, size_t errcap)
{
	struct amqp_connection_info ci;
	struct amqp_conn *c = NULL;
	amqp_socket_t *sock;
	amqp_rpc_reply_t r;
	struct timeval tv;
	char *buf = NULL, why[256];
	int connect_ms, rpc_ms, heartbeat, status, rc;

	if (!opt || !opt->url)
		return SHOP_EINVAL;
	connect_ms = opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms
	                                         : DEFAULT_CONNECT_TIMEOUT_MS;
	rpc_ms = opt->rpc_timeout_ms > 0 ? opt->rpc_timeout_ms
	                                 : DEFAULT_RPC_TIMEOUT_MS;
	heartbeat = opt->heartbeat_s == 0  ? DEFAULT_HEARTBEAT_S
	            : opt->heartbeat_s < 0 ? 0
	                                   : opt->heartbeat_s;
	c = calloc(1, sizeof(*c));
	if (!c)
		return SHOP_ENOMEM;
	c->ready_tail = &c->ready;
	rc = parse_url(opt->url, &buf, &ci, c->display, sizeof(c->display));
	if (rc) {
		if (rc == SHOP_EINVAL)
			report_open_failure(
			        err, errcap,
			        "cannot use the AMQP URL: expected "
			        "amqp://user:password@host:port/vhost");
		goto free_conn;
	}
	rc = SHOP_ENOMEM;
	c->state = amqp_new_connection();
	if (!c->state)
		goto free_conn;
	sock = amqp_tcp_socket_new(c->state);
	if (!sock)
		goto free_conn;

	tv = tv_of_ms(connect_ms);
	status = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv);
	if (status != AMQP_STATUS_OK) {
		report_open_failure(err, errcap, "cannot connect to '%s': %s",
		                    c->display,
		                    socket_error(status, &ci, connect_ms, why,
		                                 sizeof(why)));
		rc = SHOP_EUNAVAIL;
		goto free_conn;
	}
	tv = tv_of_ms(connect_ms);
	amqp_set_handshake_timeout(c->state, &tv);
	tv = tv_of_ms(rpc_ms);
	amqp_set_rpc_timeout(c->state, &tv);

	{
		/* consumer_cancel_notify: a consumer whose queue is deleted
		 * gets a Basic.Cancel instead of silence (rabbitmq-c merges it
		 * with its own capabilities). */
		amqp_table_entry_t cap = {
		        .key = amqp_cstring_bytes("consumer_cancel_notify"),
		        .value = {.kind = AMQP_FIELD_KIND_BOOLEAN,
		                  .value.boolean = 1}};
		amqp_table_entry_t prop[2] = {
		        {.key = amqp_cstring_bytes("capabilities"),
		         .value = {.kind = AMQP_FIELD_KIND_TABLE,
		                   .value.table = {.num_entries = 1,
		                                   .entries = &cap}}},
		        {.key = amqp_cstring_bytes("connection_name"),
		         .value = {.kind = AMQP_FIELD_KIND_UTF8,
		                   .value.bytes = amqp_cstring_bytes(
		                           opt->name ? opt->name : "")}}};
		amqp_table_t props = {.num_entries = opt->name ? 2 : 1,
		                      .entries = prop};

		r = amqp_login_with_properties(
		        c->state, ci.vhost, 0, AMQP_DEFAULT_FRAME_SIZE,
		        heartbeat, &props, AMQP_SASL_METHOD_PLAIN, ci.user,
		        ci.password);
	}
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		describe_reply(r, why, sizeof(why));
		report_open_failure(
		        err, errcap, "cannot connect to '%s': login failed: %s",
		        c->display,
		        r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		                        r.library_error ==
		                                AMQP_STATUS_CONNECTION_CLOSED
		                ? "closed by the broker (wrong user, password "
		                  "or vhost?)"
		                : why);
		rc = SHOP_EUNAVAIL;
		goto free_conn;
	}
	c->conn_open = true;

	amqp_channel_open(c->state, CHANNEL);
	r = amqp_get_rpc_reply(c->state);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		fail_rpc(c, r, why, sizeof(why));
		report_open_failure(
		        err, errcap,
		        "cannot connect to '%s': cannot open a channel: %s",
		        c->display, why);
		rc = SHOP_EUNAVAIL;
		goto close_conn;
	}
	c->channel_open = true;
	c->ok = true;
	free(buf);
	*out = c;
	return 0;

close_conn:
	if (c->conn_open)
		amqp_connection_close(c->state, AMQP_REPLY_SUCCESS);
free_conn:
	if (c->state)
		amqp_destroy_connection(c->state);
	free(buf);
	free(c);
	return rc;
}

static void drop_deliveries(struct amqp_conn *c)
{
	struct delivery_node *n = c->ready;

	while (n) {
		struct delivery_node *next = n->next;

		amqp_delivery_free(&n->d);
		n = next;
	}
	c->ready = NULL;
	c->ready_tail = &c->ready;
	amqp_delivery_free(c->in_delivery ? &c->in_delivery->d : NULL);
	c->in_delivery = NULL;
}

void amqp_conn_free(struct amqp_conn *c)
{
	if (!c)
		return;
	drop_deliveries(c);
	if (c->conn_open) {
		struct timeval tv = tv_of_ms(CLOSE_TIMEOUT_MS);

		amqp_set_rpc_timeout(c->state, &tv);
		if (c->channel_open) {
			amqp_rpc_reply_t r = amqp_channel_close(
			        c->state, CHANNEL, AMQP_REPLY_SUCCESS);

			if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
				c->conn_open = false;
		}
		if (c->conn_open)
			amqp_connection_close(c->state, AMQP_REPLY_SUCCESS);
	}
	amqp_destroy_connection(c->state);
	free(c);
}

bool amqp_conn_ok(const struct amqp_conn *c)
{
	return c && c->ok;
}

const char *amqp_conn_display(const struct amqp_conn *c)
{
	return c ? c->display : "";
}

const char *amqp_conn_error(const struct amqp_conn *c)
{
	return c ? c->error : "";
}

int amqp_conn_fd(const struct amqp_conn *c)
{
	return c && c->ok ? amqp_get_sockfd(c->state) : -1;
}

/* ---- incoming frames ---- */

/* Marks the messages of the batch a confirm covers. */
static void confirm(struct batch *b, uint64_t tag, bool multiple,
                    enum amqp_outcome outcome)
{
	size_t lo, hi;

	if (!b || b->n == 0 || tag < b->first_tag)
		return; /* a late confirm of an earlier batch */
	if (multiple) {
		lo = 0;
		hi = tag - b->first_tag + 1 < b->n ? tag - b->first_tag + 1
		                                   : b->n;
	} else {
		if (tag - b->first_tag >= b->n)
			return;
		lo = tag - b->first_tag;
		hi = lo + 1;
	}
	for (size_t i = lo; i < hi; i++) {
		struct amqp_outgoing *m = &b->msgs[i];

		if (b->confirmed[i])
			continue;
		b->confirmed[i] = true;
		b->unconfirmed--;
		if (outcome == AMQP_NACKED || m->result != AMQP_RETURNED)
			m->result = outcome;
	}
}

/* The content header of a returned message: match it by message_id (the
 * Return itself carries no delivery tag; its ack follows it). */
static void returned(struct amqp_conn *c, struct batch *b,
                     const amqp_basic_properties_t *p)
{
	char id[128] = "";
	bool matched = false;

	if (p && (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG))
		copy_bytes(id, sizeof(id), p->message_id);
	for (size_t i = 0; b && *id && i < b->n; i++) {
		struct amqp_outgoing *m = &b->msgs[i];

		if (!b->confirmed[i] && strcmp(m->message_id, id) == 0) {
			m->result = AMQP_RETURNED;
			snprintf(m->reason, sizeof(m->reason), "%s",
			         c->return_reason);
			matched = true;
			break;
		}
	}
	slog_kv(SLOG_WARN, NULL,
	        "event returned by the broker: no queue is bound to its "
	        "routing key",
	        SLOG_S("event_id", *id ? id : NULL),
	        SLOG_S("routing_key", c->return_key),
	        SLOG_S("reason", c->return_reason),
	        SLOG_S("broker", c->display), SLOG_I("in_batch", matched));
}

/* ---- deliveries ---- */

/* A NUL-terminated copy of b, or NULL when out of memory. */
static char *dup_bytes(amqp_bytes_t b)
{
	char *s = malloc(b.len + 1);

	if (!s)
		return NULL;
	if (b.len)
		memcpy(s, b.bytes, b.len);
	s[b.len] = '\0';
	return s;
}

/* Copies an optional property; false when out of memory. */
static bool copy_prop(char **dst, const amqp_basic_properties_t *p,
                      amqp_flags_t flag, amqp_bytes_t b)
{
	if (!(p->_flags & flag))
		return true;
	*dst = dup_bytes(b);
	return *dst != NULL;
}

static bool field_integer(const amqp_field_value_t *v, long *out)
{
	switch (v->kind) {
	case AMQP_FIELD_KIND_I8:
		*out = v->value.i8;
		return true;
	case AMQP_FIELD_KIND_U8:
		*out = v->value.u8;
		return true;
	case AMQP_FIELD_KIND_I16:
		*out = v->value.i16;
		return true;
	case AMQP_FIELD_KIND_U16:
		*out = v->value.u16;
		return true;
	case AMQP_FIELD_KIND_I32:
		*out = v->value.i32;
		return true;
	case AMQP_FIELD_KIND_U32:
		*out = (long)v->value.u32;
		return true;
	case AMQP_FIELD_KIND_I64:
		*out = (long)v->value.i64;
		return true;
	case AMQP_FIELD_KIND_U64:
		*out = (long)v->value.u64;
		return true;
	default:
		return false;
	}
}

/* Out of memory while a delivery arrives: the connection cannot go on
 * (its frames would be misread), the broker redelivers. */
static int delivery_nomem(struct amqp_conn *c)
{
	set_error(c, "out of memory while reading a delivery");
	c->ok = false;
	return SHOP_EUNAVAIL;
}

static void delivery_done(struct amqp_conn *c)
{
	struct delivery_node *n = c->in_delivery;

	c->in_delivery = NULL;
	*c->ready_tail = n;
	c->ready_tail = &n->next;
}

static int delivery_start(struct amqp_conn *c, const amqp_basic_deliver_t *m)
{
	struct delivery_node *n = calloc(1, sizeof(*n));

	/* a delivery cut short by another method cannot happen on a sane
	 * connection; drop it rather than leak it */
	amqp_delivery_free(c->in_delivery ? &c->in_delivery->d : NULL);
	c->in_delivery = NULL;
	if (!n)
		return delivery_nomem(c);
	n->d.delivery_tag = m->delivery_tag;
	n->d.redelivered = m->redelivered != 0;
	n->d.exchange = dup_bytes(m->exchange);
	n->d.routing_key = dup_bytes(m->routing_key);
	c->in_delivery = n;
	if (!n->d.exchange || !n->d.routing_key)
		return delivery_nomem(c);
	return 0;
}

/* The content header or a body frame of the delivery in progress. */
static int delivery_content(struct amqp_conn *c, const amqp_frame_t *f)
{
	struct delivery_node *n = c->in_delivery;
	struct amqp_delivery *d = &n->d;

	if (f->frame_type == AMQP_FRAME_HEADER) {
		const amqp_basic_properties_t *p =
		        f->payload.properties.decoded;
		uint64_t size = f->payload.properties.body_size;

		if (!copy_prop(&d->message_id, p, AMQP_BASIC_MESSAGE_ID_FLAG,
		               p->message_id) ||
		    !copy_prop(&d->type, p, AMQP_BASIC_TYPE_FLAG, p->type) ||
		    !copy_prop(&d->correlation_id, p,
		               AMQP_BASIC_CORRELATION_ID_FLAG,
		               p->correlation_id) ||
		    !copy_prop(&d->app_id, p, AMQP_BASIC_APP_ID_FLAG,
		               p->app_id))
			return delivery_nomem(c);
		for (int i = 0; (p->_flags & AMQP_BASIC_HEADERS_FLAG) &&
		                i < p->headers.num_entries;
		     i++) {
			const amqp_table_entry_t *e = &p->headers.entries[i];
			const amqp_field_value_t *v = &e->value;

			if (e->key.len == 11 &&
			    memcmp(e->key.bytes, "traceparent", 11) == 0 &&
			    (v->kind == AMQP_FIELD_KIND_UTF8 ||
			     v->kind == AMQP_FIELD_KIND_BYTES) &&
			    !d->traceparent) {
				d->traceparent = dup_bytes(v->value.bytes);
				if (!d->traceparent)
					return delivery_nomem(c);
			} else if (e->key.len == 16 &&
			           memcmp(e->key.bytes, "x-delivery-count",
			                  16) == 0) {
				field_integer(v, &d->delivery_count);
			}
		}
		n->body_left = size;
		if (size > AMQP_MAX_BODY) {
			d->oversize = true;
		} else {
			d->body = malloc((size_t)size + 1);
			if (!d->body)
				return delivery_nomem(c);
			d->body[0] = '\0';
		}
	} else {
		size_t len = f->payload.body_fragment.len;

		if (len > n->body_left)
			len = (size_t)n->body_left;
		if (d->body && len) {
			memcpy(d->body + d->len, f->payload.body_fragment.bytes,
			       len);
			d->len += len;
			d->body[d->len] = '\0';
		}
		n->body_left -= len;
	}
	if (n->body_left == 0)
		delivery_done(c);
	return 0;
}

void amqp_delivery_free(struct amqp_delivery *d)
{
	if (!d)
		return;
	free(d->exchange);
	free(d->routing_key);
	free(d->message_id);
	free(d->type);
	free(d->correlation_id);
	free(d->app_id);
	free(d->traceparent);
	free(d->body);
	free((struct delivery_node *)d);
}

/*
 * Handles one frame read from the broker; b is the batch being confirmed
 * (NULL when none). Returns 0, or SHOP_EUNAVAIL when the broker closed
 * the channel or the connection (logged).
 */
static int handle_frame(struct amqp_conn *c, const amqp_frame_t *f,
                        struct batch *b)
{
	if (f->channel == CHANNEL && c->in_delivery &&
	    (f->frame_type == AMQP_FRAME_HEADER ||
	     f->frame_type == AMQP_FRAME_BODY))
		return delivery_content(c, f);
	if (f->frame_type == AMQP_FRAME_HEADER) {
		if (f->channel == CHANNEL && c->in_return) {
			returned(c, b, f->payload.properties.decoded);
			c->return_body_left = f->payload.properties.body_size;
			c->in_return = c->return_body_left > 0;
		}
		return 0;
	}
	if (f->frame_type == AMQP_FRAME_BODY) {
		if (f->channel == CHANNEL && c->in_return) {
			size_t len = f->payload.body_fragment.len;

			c->return_body_left =
			        len < c->return_body_left
			                ? c->return_body_left - len
			                : 0;
			c->in_return = c->return_body_left > 0;
		}
		return 0;
	}
	if (f->frame_type != AMQP_FRAME_METHOD)
		return 0;

	switch (f->payload.method.id) {
	case AMQP_BASIC_ACK_METHOD: {
		const amqp_basic_ack_t *a = f->payload.method.decoded;

		confirm(b, a->delivery_tag, a->multiple, AMQP_ACKED);
		return 0;
	}
	case AMQP_BASIC_NACK_METHOD: {
		const amqp_basic_nack_t *a = f->payload.method.decoded;

		confirm(b, a->delivery_tag, a->multiple, AMQP_NACKED);
		return 0;
	}
	case AMQP_BASIC_RETURN_METHOD: {
		const amqp_basic_return_t *r = f->payload.method.decoded;
		char text[40];

		copy_bytes(text, sizeof(text), r->reply_text);
		snprintf(c->return_reason, sizeof(c->return_reason), "%u %s",
		         r->reply_code, text);
		copy_bytes(c->return_key, sizeof(c->return_key),
		           r->routing_key);
		c->in_return = true;
		c->return_body_left = 0;
		return 0;
	}
	case AMQP_CHANNEL_CLOSE_METHOD: {
		const amqp_channel_close_t *m = f->payload.method.decoded;
		amqp_channel_close_ok_t ok = {0};

		set_error(c, "channel closed by the broker: %u %.*s",
		          m->reply_code, (int)m->reply_text.len,
		          (const char *)m->reply_text.bytes);
		c->ok = c->channel_open = false;
		if (amqp_send_method(c->state, f->channel,
		                     AMQP_CHANNEL_CLOSE_OK_METHOD,
		                     &ok) != AMQP_STATUS_OK)
			c->conn_open = false;
		return SHOP_EUNAVAIL;
	}
	case AMQP_CONNECTION_CLOSE_METHOD: {
		const amqp_connection_close_t *m = f->payload.method.decoded;
		amqp_connection_close_ok_t ok = {0};

		set_error(c, "connection closed by the broker: %u %.*s",
		          m->reply_code, (int)m->reply_text.len,
		          (const char *)m->reply_text.bytes);
		amqp_send_method(c->state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD,
		                 &ok);
		c->ok = c->conn_open = c->channel_open = false;
		return SHOP_EUNAVAIL;
	}
	case AMQP_BASIC_DELIVER_METHOD:
		if (f->channel != CHANNEL)
			return 0;
		return delivery_start(c, f->payload.method.decoded);
	case AMQP_BASIC_CANCEL_METHOD: {
		/* The broker ended our consumer (queue deleted, node down):
		 * nothing more will come on this channel. */
		const amqp_basic_cancel_t *m = f->payload.method.decoded;

		set_error(c,
		          "consumer '%.*s' cancelled by the broker (queue "
		          "deleted?)",
		          (int)m->consumer_tag.len,
		          (const char *)m->consumer_tag.bytes);
		c->ok = false;
		return SHOP_EUNAVAIL;
	}
	case AMQP_CONNECTION_BLOCKED_METHOD:
		slog_warn("'%s' blocks publishing (resource alarm)",
		          c->display);
		return 0;
	case AMQP_CONNECTION_UNBLOCKED_METHOD:
		slog_info("'%s' accepts publishing again", c->display);
		return 0;
	default:
		slog_debug("ignoring method 0x%08x from '%s'",
		           (unsigned)f->payload.method.id, c->display);
		return 0;
	}
}

int amqp_conn_service(struct amqp_conn *c)
{
	int rc = 0;

	if (!c || !c->ok)
		return SHOP_EUNAVAIL;
	for (int i = 0; i < 1024 && rc == 0; i++) {
		struct timeval zero = {0, 0};
		amqp_frame_t f;
		int status =
		        amqp_simple_wait_frame_noblock(c->state, &f, &zero);

		if (status == AMQP_STATUS_TIMEOUT)
			break;
		if (status != AMQP_STATUS_OK)
			return fail_status(c, status, "a read");
		rc = handle_frame(c, &f, NULL);
	}
	if (c->ok)
		amqp_maybe_release_buffers(c->state);
	return rc;
}

/* ---- topology ---- */

static int declared(struct amqp_conn *c, const char *what, const char *name)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(c->state);
	char why[256];
	int rc;

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	rc = fail_rpc(c, r, why, sizeof(why));
	set_error(c, "cannot declare %s '%s': %s", what, name, why);
	return rc;
}

static int declare_exchange(struct amqp_conn *c, const char *name,
                            const char *type)
{
	amqp_exchange_declare(c->state, CHANNEL, amqp_cstring_bytes(name),
	                      amqp_cstring_bytes(type), 0, 1, 0, 0,
	                      amqp_empty_table);
	return declared(c, "exchange", name);
}

/* A quorum queue; with a dead-letter routing key, also the delivery limit
 * and the dead-letter exchange (definitions.json's two shapes). */
static int declare_queue(struct amqp_conn *c, const char *name,
                         const char *dlq_key)
{
	amqp_table_entry_t args[4];
	amqp_table_t table = {.entries = args};

	args[table.num_entries].key = amqp_cstring_bytes("x-queue-type");
	args[table.num_entries].value.kind = AMQP_FIELD_KIND_UTF8;
	args[table.num_entries++].value.value.bytes =
	        amqp_cstring_bytes("quorum");
	if (dlq_key) {
		args[table.num_entries].key =
		        amqp_cstring_bytes("x-delivery-limit");
		args[table.num_entries].value.kind = AMQP_FIELD_KIND_I32;
		args[table.num_entries++].value.value.i32 = AMQP_DELIVERY_LIMIT;
		args[table.num_entries].key =
		        amqp_cstring_bytes("x-dead-letter-exchange");
		args[table.num_entries].value.kind = AMQP_FIELD_KIND_UTF8;
		args[table.num_entries++].value.value.bytes =
		        amqp_cstring_bytes(AMQP_DLX_EXCHANGE);
		args[table.num_entries].key =
		        amqp_cstring_bytes("x-dead-letter-routing-key");
		args[table.num_entries].value.kind = AMQP_FIELD_KIND_UTF8;
		args[table.num_entries++].value.value.bytes =
		        amqp_cstring_bytes(dlq_key);
	}
	amqp_queue_declare(c->state, CHANNEL, amqp_cstring_bytes(name), 0, 1, 0,
	                   0, table);
	return declared(c, "queue", name);
}

static int bind_queue(struct amqp_conn *c, const char *queue,
                      const char *exchange, const char *key)
{
	char what[300];

	amqp_queue_bind(c->state, CHANNEL, amqp_cstring_bytes(queue),
	                amqp_cstring_bytes(exchange), amqp_cstring_bytes(key),
	                amqp_empty_table);
	snprintf(what, sizeof(what), "%s -> %s", key, queue);
	return declared(c, "binding", what);
}

/* The dead-letter queue of q, q itself and its bindings. */
static int declare_one_queue(struct amqp_conn *c,
                             const struct amqp_queue_def *q)
{
	char dlq[256];
	int rc;

	snprintf(dlq, sizeof(dlq), "%s%s", q->name, AMQP_DLQ_SUFFIX);
	rc = declare_queue(c, dlq, NULL);
	if (rc == 0)
		rc = bind_queue(c, dlq, AMQP_DLX_EXCHANGE, dlq);
	if (rc == 0)
		rc = declare_queue(c, q->name, dlq);
	for (size_t k = 0; rc == 0 && q->bindings[k]; k++)
		rc = bind_queue(c, q->name, AMQP_EVENTS_EXCHANGE,
		                q->bindings[k]);
	return rc;
}

int amqp_topology_declare(struct amqp_conn *c)
{
	int rc;

	if (!c || !c->ok)
		return SHOP_EUNAVAIL;
	rc = declare_exchange(c, AMQP_EVENTS_EXCHANGE, "topic");
	if (rc)
		return rc;
	rc = declare_exchange(c, AMQP_DLX_EXCHANGE, "direct");
	if (rc)
		return rc;
	for (size_t i = 0; i < amqp_topology_nqueues; i++) {
		rc = declare_one_queue(c, &amqp_topology_queues[i]);
		if (rc)
			return rc;
	}
	amqp_maybe_release_buffers(c->state);
	return 0;
}

int amqp_topology_declare_queue(struct amqp_conn *c,
                                const struct amqp_queue_def *q)
{
	int rc;

	if (!q || !q->name || !*q->name)
		return SHOP_EINVAL;
	if (!c || !c->ok)
		return SHOP_EUNAVAIL;
	rc = declare_one_queue(c, q);
	if (rc == 0)
		amqp_maybe_release_buffers(c->state);
	return rc;
}

/* ---- publishing ---- */

static int select_confirms(struct amqp_conn *c)
{
	amqp_rpc_reply_t r;
	char why[256];
	int rc;

	amqp_confirm_select(c->state, CHANNEL);
	r = amqp_get_rpc_reply(c->state);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		c->confirming = true;
		c->next_tag = 1;
		return 0;
	}
	rc = fail_rpc(c, r, why, sizeof(why));
	set_error(c, "cannot select confirms: %s", why);
	return rc == SHOP_ERR ? SHOP_EUNAVAIL : rc;
}

static int publish_one(struct amqp_conn *c, const struct amqp_outgoing *m)
{
	amqp_basic_properties_t p;
	amqp_table_entry_t header;
	amqp_bytes_t body = {.len = m->len, .bytes = (void *)m->body};

	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	           AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	           AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.message_id = amqp_cstring_bytes(m->message_id);
	p.type = amqp_cstring_bytes(m->type ? m->type : m->routing_key);
	p.timestamp = (uint64_t)(m->timestamp ? m->timestamp : time(NULL));
	if (m->correlation_id) {
		p._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
		p.correlation_id = amqp_cstring_bytes(m->correlation_id);
	}
	if (m->app_id) {
		p._flags |= AMQP_BASIC_APP_ID_FLAG;
		p.app_id = amqp_cstring_bytes(m->app_id);
	}
	if (m->traceparent) {
		header.key = amqp_cstring_bytes("traceparent");
		header.value.kind = AMQP_FIELD_KIND_UTF8;
		header.value.value.bytes = amqp_cstring_bytes(m->traceparent);
		p._flags |= AMQP_BASIC_HEADERS_FLAG;
		p.headers.num_entries = 1;
		p.headers.entries = &header;
	}
	return amqp_basic_publish(
	        c->state, CHANNEL,
	        amqp_cstring_bytes(m->exchange ? m->exchange
	                                       : AMQP_EVENTS_EXCHANGE),
	        amqp_cstring_bytes(m->routing_key), 1, 0, &p, body);
}

int amqp_publish_batch(struct amqp_conn *c, struct amqp_outgoing *msgs,
                       size_t n, int timeout_ms)
{
	uint64_t deadline =
	        shop_now_ns() +
	        (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	struct batch b = {.msgs = msgs, .n = n};
	size_t sent = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (!msgs[i].routing_key || !msgs[i].message_id ||
		    (!msgs[i].body && msgs[i].len)) {
			slog_error(
			        "cannot publish message %zu of %zu: it lacks "
			        "a routing key, a message_id or a body",
			        i, n);
			return SHOP_EINVAL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		msgs[i].result = AMQP_NOT_SENT;
		msgs[i].reason[0] = '\0';
	}
	if (!c || !c->ok)
		return SHOP_EUNAVAIL;
	if (n == 0)
		return 0;
	if (!c->confirming) {
		rc = select_confirms(c);
		if (rc)
			return rc;
	}
	b.confirmed = calloc(n, sizeof(*b.confirmed));
	if (!b.confirmed)
		return SHOP_ENOMEM;
	b.first_tag = c->next_tag;

	for (; sent < n; sent++) {
		int status = publish_one(c, &msgs[sent]);

		if (status != AMQP_STATUS_OK) {
			rc = fail_status(c, status, "a publish");
			break;
		}
		msgs[sent].result = AMQP_PENDING;
		c->next_tag++;
	}
	b.n = sent;
	b.unconfirmed = sent;

	while (rc == 0 && b.unconfirmed > 0) {
		uint64_t now = shop_now_ns();
		struct timeval tv;
		amqp_frame_t f;
		int status;

		if (now >= deadline) {
			rc = SHOP_ETIMEDOUT;
			break;
		}
		tv = tv_of_ms((int)((deadline - now + 999999u) / 1000000u));
		status = amqp_simple_wait_frame_noblock(c->state, &f, &tv);
		if (status == AMQP_STATUS_TIMEOUT) {
			rc = SHOP_ETIMEDOUT;
			break;
		}
		if (status != AMQP_STATUS_OK) {
			rc = fail_status(c, status, "the wait for confirms");
			break;
		}
		rc = handle_frame(c, &f, &b);
	}
	if (rc == SHOP_ETIMEDOUT)
		slog_debug("'%s' did not confirm %zu of %zu messages within %d "
		           "ms",
		           c->display, b.unconfirmed, n, timeout_ms);
	/* A Return whose ack has not come yet is still unconfirmed. */
	for (size_t i = 0; i < b.n; i++)
		if (!b.confirmed[i] && msgs[i].result == AMQP_RETURNED)
			msgs[i].result = AMQP_PENDING;
	if (c->ok)
		amqp_maybe_release_buffers(c->state);
	free(b.confirmed);
	return rc;
}

/* ---- consuming ---- */

int amqp_conn_consume(struct amqp_conn *c, const char *queue, int prefetch)
{
	amqp_rpc_reply_t r;
	char why[256];
	int rc;

	if (!queue || !*queue || prefetch < 1 || prefetch > UINT16_MAX)
		return SHOP_EINVAL;
	if (!c || !c->ok)
		return SHOP_EUNAVAIL;
	amqp_basic_qos(c->state, CHANNEL, 0, (uint16_t)prefetch, 0);
	r = amqp_get_rpc_reply(c->state);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		rc = fail_rpc(c, r, why, sizeof(why));
		set_error(c, "cannot set the prefetch: %s", why);
		return rc;
	}
	amqp_basic_consume(c->state, CHANNEL, amqp_cstring_bytes(queue),
	                   amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	r = amqp_get_rpc_reply(c->state);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		rc = fail_rpc(c, r, why, sizeof(why));
		set_error(c, "cannot consume queue '%s': %s", queue, why);
		return rc;
	}
	return 0;
}

/* The oldest complete delivery, taken off the list; NULL when none. */
static struct amqp_delivery *take_ready(struct amqp_conn *c)
{
	struct delivery_node *n = c->ready;

	if (!n)
		return NULL;
	c->ready = n->next;
	if (!c->ready)
		c->ready_tail = &c->ready;
	n->next = NULL;
	return &n->d;
}

int amqp_conn_receive(struct amqp_conn *c, int timeout_ms,
                      struct amqp_delivery **out)
{
	uint64_t deadline =
	        shop_now_ns() +
	        (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	int rc = 0;

	if (!c || !c->ok)
		return SHOP_EUNAVAIL;
	/* Read what the socket holds even when a delivery is ready: the
	 * heartbeats are serviced on every call. */
	for (int i = 0; i < 1024 && rc == 0; i++) {
		uint64_t now = shop_now_ns();
		struct timeval tv = {0, 0};
		amqp_frame_t f;
		int status;

		if (!c->ready && now < deadline)
			tv = tv_of_ms(
			        (int)((deadline - now + 999999u) / 1000000u));
		status = amqp_simple_wait_frame_noblock(c->state, &f, &tv);
		if (status == AMQP_STATUS_TIMEOUT)
			break;
		if (status != AMQP_STATUS_OK)
			return fail_status(c, status, "a read");
		rc = handle_frame(c, &f, NULL);
	}
	if (rc)
		return rc;
	if (c->ok && !c->in_delivery)
		amqp_maybe_release_buffers(c->state);
	*out = take_ready(c);
	return *out ? 1 : 0;
}

int amqp_conn_ack(struct amqp_conn *c, uint64_t delivery_tag)
{
	int status;

	if (!c || !c->ok)
		return SHOP_EUNAVAIL;
	status = amqp_basic_ack(c->state, CHANNEL, delivery_tag, 0);
	return status == AMQP_STATUS_OK ? 0 : fail_status(c, status, "an ack");
}

int amqp_conn_reject(struct amqp_conn *c, uint64_t delivery_tag, bool requeue)
{
	int status;

	if (!c || !c->ok)
		return SHOP_EUNAVAIL;
	status = amqp_basic_reject(c->state, CHANNEL, delivery_tag, requeue);
	return status == AMQP_STATUS_OK ? 0
	                                : fail_status(c, status, "a reject");
}
