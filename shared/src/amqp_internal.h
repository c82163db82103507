#ifndef SHOP_AMQP_INTERNAL_H
#define SHOP_AMQP_INTERNAL_H

#include "shop/amqp.h"

#include <amqp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

/*
 * What the shared library's RabbitMQ code shares between amqp.c (the
 * connection, its errors, the frame dispatcher, the topology),
 * amqp_publish.c (confirms and returns) and amqp_consume.c (deliveries),
 * hence the amqp__ prefix. Every frame read, whichever call reads it, goes
 * through amqp__handle_frame(), which hands confirms and returns to
 * amqp_publish.c and deliveries to amqp_consume.c.
 */

#define CHANNEL 1

struct delivery_node; /* a delivery being read or ready: amqp_consume.c */
struct batch;         /* a batch being confirmed: amqp_publish.c */

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

/* ---- amqp.c ---- */

/* ms milliseconds as a struct timeval (ms >= 0). */
struct timeval amqp__tv_of_ms(int ms);

/* Records why the connection died; the first cause wins. Not logged:
 * the caller logs the transition once (amqp_conn_error()). */
void amqp__set_error(struct amqp_conn *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/*
 * After a failed RPC: answers a close from the broker (close-ok) and marks
 * the connection dead. Returns SHOP_ERR when the broker refused (a channel
 * error: the server's reply is in buf), SHOP_EUNAVAIL otherwise.
 */
int amqp__fail_rpc(struct amqp_conn *c, amqp_rpc_reply_t r, char *buf,
                   size_t cap);

/* A library status from a frame read or a publish: the connection is dead. */
int amqp__fail_status(struct amqp_conn *c, int status, const char *what);

/*
 * Handles one frame read from the broker; b is the batch being confirmed
 * (NULL when none). Returns 0, or SHOP_EUNAVAIL when the broker closed
 * the channel or the connection (logged).
 */
int amqp__handle_frame(struct amqp_conn *c, const amqp_frame_t *f,
                       struct batch *b);

/* ---- amqp_publish.c ---- */

/* Marks the messages of the batch a confirm covers. */
void amqp__confirm(struct batch *b, uint64_t tag, bool multiple,
                   enum amqp_outcome outcome);

/* A Basic.Return (r borrowed): keeps its reason and routing key until its
 * content header comes. */
void amqp__return_start(struct amqp_conn *c, const amqp_basic_return_t *r);

/* The content header or a body frame of the returned message in progress
 * (c->in_return); b as amqp__handle_frame(). */
void amqp__return_content(struct amqp_conn *c, struct batch *b,
                          const amqp_frame_t *f);

/* ---- amqp_consume.c ---- */

/* A Basic.Deliver on the channel: starts the delivery its content will
 * complete. Returns 0, or SHOP_EUNAVAIL when out of memory (the connection
 * is then dead). */
int amqp__delivery_start(struct amqp_conn *c, const amqp_basic_deliver_t *m);

/* The content header or a body frame of the delivery in progress
 * (c->in_delivery). Returns as amqp__delivery_start(). */
int amqp__delivery_content(struct amqp_conn *c, const amqp_frame_t *f);

/* Frees the delivery in progress and the complete ones not handed out. */
void amqp__drop_deliveries(struct amqp_conn *c);

#endif
