#include "amqp_internal.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One batch being confirmed, for the frame handler. */
struct batch {
	struct amqp_outgoing *msgs;
	bool *confirmed;
	size_t n;
	size_t unconfirmed;
	uint64_t first_tag;
};

static void copy_bytes(char *dst, size_t cap, amqp_bytes_t b)
{
	size_t n = b.len < cap - 1 ? b.len : cap - 1;

	if (n)
		memcpy(dst, b.bytes, n);
	dst[n] = '\0';
}

/* ---- confirms and returns ---- */

void amqp__confirm(struct batch *b, uint64_t tag, bool multiple,
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

void amqp__return_start(struct amqp_conn *c, const amqp_basic_return_t *r)
{
	char text[40];

	copy_bytes(text, sizeof(text), r->reply_text);
	snprintf(c->return_reason, sizeof(c->return_reason), "%u %s",
	         r->reply_code, text);
	copy_bytes(c->return_key, sizeof(c->return_key), r->routing_key);
	c->in_return = true;
	c->return_body_left = 0;
}

void amqp__return_content(struct amqp_conn *c, struct batch *b,
                          const amqp_frame_t *f)
{
	if (f->frame_type == AMQP_FRAME_HEADER) {
		returned(c, b, f->payload.properties.decoded);
		c->return_body_left = f->payload.properties.body_size;
	} else {
		size_t len = f->payload.body_fragment.len;

		c->return_body_left = len < c->return_body_left
		                              ? c->return_body_left - len
		                              : 0;
	}
	c->in_return = c->return_body_left > 0;
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
	rc = amqp__fail_rpc(c, r, why, sizeof(why));
	amqp__set_error(c, "cannot select confirms: %s", why);
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
			rc = amqp__fail_status(c, status, "a publish");
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
		tv = amqp__tv_of_ms(
		        (int)((deadline - now + 999999u) / 1000000u));
		status = amqp_simple_wait_frame_noblock(c->state, &f, &tv);
		if (status == AMQP_STATUS_TIMEOUT) {
			rc = SHOP_ETIMEDOUT;
			break;
		}
		if (status != AMQP_STATUS_OK) {
			rc = amqp__fail_status(c, status,
			                       "the wait for confirms");
			break;
		}
		rc = amqp__handle_frame(c, &f, &b);
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
