#include "amqp_internal.h"

#include "shop/error.h"
#include "shop/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A delivery and its place in the list of complete ones. */
struct delivery_node {
	struct amqp_delivery d; /* first: amqp_delivery_free() casts back */
	struct delivery_node *next;
	uint64_t body_left; /* bytes of content still to come */
};

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
	amqp__set_error(c, "out of memory while reading a delivery");
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

int amqp__delivery_start(struct amqp_conn *c, const amqp_basic_deliver_t *m)
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

int amqp__delivery_content(struct amqp_conn *c, const amqp_frame_t *f)
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

void amqp__drop_deliveries(struct amqp_conn *c)
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
		rc = amqp__fail_rpc(c, r, why, sizeof(why));
		amqp__set_error(c, "cannot set the prefetch: %s", why);
		return rc;
	}
	amqp_basic_consume(c->state, CHANNEL, amqp_cstring_bytes(queue),
	                   amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	r = amqp_get_rpc_reply(c->state);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		rc = amqp__fail_rpc(c, r, why, sizeof(why));
		amqp__set_error(c, "cannot consume queue '%s': %s", queue, why);
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
			tv = amqp__tv_of_ms(
			        (int)((deadline - now + 999999u) / 1000000u));
		status = amqp_simple_wait_frame_noblock(c->state, &f, &tv);
		if (status == AMQP_STATUS_TIMEOUT)
			break;
		if (status != AMQP_STATUS_OK)
			return amqp__fail_status(c, status, "a read");
		rc = amqp__handle_frame(c, &f, NULL);
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
	return status == AMQP_STATUS_OK
	               ? 0
	               : amqp__fail_status(c, status, "an ack");
}

int amqp_conn_reject(struct amqp_conn *c, uint64_t delivery_tag, bool requeue)
{
	int status;

	if (!c || !c->ok)
		return SHOP_EUNAVAIL;
	status = amqp_basic_reject(c->state, CHANNEL, delivery_tag, requeue);
	return status == AMQP_STATUS_OK
	               ? 0
	               : amqp__fail_status(c, status, "a reject");
}
