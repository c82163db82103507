#include "amqp_internal.h"

#include "shop/error.h"
#include "shop/log.h"

#include <amqp_tcp_socket.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_RPC_TIMEOUT_MS     10000
#define DEFAULT_HEARTBEAT_S        30
/* How long amqp_conn_free() waits for the broker's close-ok. */
#define CLOSE_TIMEOUT_MS 1000

struct timeval amqp__tv_of_ms(int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (long)(ms % 1000) * 1000L};

	return tv;
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

void amqp__set_error(struct amqp_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	slog_debug("connection to '%s' is dead: %s", c->display, c->error);
}

int amqp__fail_rpc(struct amqp_conn *c, amqp_rpc_reply_t r, char *buf,
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

int amqp__fail_status(struct amqp_conn *c, int status, const char *what)
{
	amqp__set_error(c, "%s during %s",
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

	tv = amqp__tv_of_ms(connect_ms);
	status = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv);
	if (status != AMQP_STATUS_OK) {
		report_open_failure(err, errcap, "cannot connect to '%s': %s",
		                    c->display,
		                    socket_error(status, &ci, connect_ms, why,
		                                 sizeof(why)));
		rc = SHOP_EUNAVAIL;
		goto free_conn;
	}
	tv = amqp__tv_of_ms(connect_ms);
	amqp_set_handshake_timeout(c->state, &tv);
	tv = amqp__tv_of_ms(rpc_ms);
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
		amqp__fail_rpc(c, r, why, sizeof(why));
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

void amqp_conn_free(struct amqp_conn *c)
{
	if (!c)
		return;
	amqp__drop_deliveries(c);
	if (c->conn_open) {
		struct timeval tv = amqp__tv_of_ms(CLOSE_TIMEOUT_MS);

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

int amqp__handle_frame(struct amqp_conn *c, const amqp_frame_t *f,
                       struct batch *b)
{
	if (f->channel == CHANNEL && c->in_delivery &&
	    (f->frame_type == AMQP_FRAME_HEADER ||
	     f->frame_type == AMQP_FRAME_BODY))
		return amqp__delivery_content(c, f);
	if (f->frame_type == AMQP_FRAME_HEADER ||
	    f->frame_type == AMQP_FRAME_BODY) {
		if (f->channel == CHANNEL && c->in_return)
			amqp__return_content(c, b, f);
		return 0;
	}
	if (f->frame_type != AMQP_FRAME_METHOD)
		return 0;

	switch (f->payload.method.id) {
	case AMQP_BASIC_ACK_METHOD: {
		const amqp_basic_ack_t *a = f->payload.method.decoded;

		amqp__confirm(b, a->delivery_tag, a->multiple, AMQP_ACKED);
		return 0;
	}
	case AMQP_BASIC_NACK_METHOD: {
		const amqp_basic_nack_t *a = f->payload.method.decoded;

		amqp__confirm(b, a->delivery_tag, a->multiple, AMQP_NACKED);
		return 0;
	}
	case AMQP_BASIC_RETURN_METHOD:
		amqp__return_start(c, f->payload.method.decoded);
		return 0;
	case AMQP_CHANNEL_CLOSE_METHOD: {
		const amqp_channel_close_t *m = f->payload.method.decoded;
		amqp_channel_close_ok_t ok = {0};

		amqp__set_error(c, "channel closed by the broker: %u %.*s",
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

		amqp__set_error(c, "connection closed by the broker: %u %.*s",
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
		return amqp__delivery_start(c, f->payload.method.decoded);
	case AMQP_BASIC_CANCEL_METHOD: {
		/* The broker ended our consumer (queue deleted, node down):
		 * nothing more will come on this channel. */
		const amqp_basic_cancel_t *m = f->payload.method.decoded;

		amqp__set_error(
		        c,
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
			return amqp__fail_status(c, status, "a read");
		rc = amqp__handle_frame(c, &f, NULL);
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
	rc = amqp__fail_rpc(c, r, why, sizeof(why));
	amqp__set_error(c, "cannot declare %s '%s': %s", what, name, why);
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
	/* names are at most 255 bytes (AMQP); the label is only logged */
	snprintf(what, sizeof(what), "%.140s -> %.140s", key, queue);
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
