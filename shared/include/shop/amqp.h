#ifndef SHOP_AMQP_H
#define SHOP_AMQP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * RabbitMQ on rabbitmq-c: one connection with one channel (number 1), the
 * shop.events topology of EVENTS.md, and a publisher with confirms.
 *
 * Thread-safety: a struct amqp_conn belongs to one thread (rabbitmq-c's
 * connection state is not thread-safe): open one per thread. The topology
 * table below is constant and may be read from anywhere.
 *
 * There is no automatic recovery: when a call returns SHOP_EUNAVAIL the
 * connection is dead (amqp_conn_ok() says false) and the caller frees it
 * and opens a new one, with its own backoff. Heartbeats (30 s by default)
 * are serviced whenever the connection is used: a caller that keeps one
 * idle calls amqp_conn_service() at least every few seconds (the outbox
 * relay does on every poll).
 *
 * Consuming (amqp_conn_consume(), amqp_conn_receive(), amqp_conn_ack(),
 * amqp_conn_reject()) serves shop/consumer.h: deliveries are read frame by
 * frame along with everything else, so heartbeats, confirms and closes
 * are handled the same way whichever call reads them.
 *
 * Log lines name the broker as 'amqp://host:port' (and the vhost when it
 * is not "/"): never the user or password of the URL.
 */

#define AMQP_EVENTS_EXCHANGE    "shop.events"
#define AMQP_DLX_EXCHANGE       "shop.dlx"
#define AMQP_DELIVERY_LIMIT     5
#define AMQP_DLQ_SUFFIX         ".dlq"
#define AMQP_MAX_QUEUE_BINDINGS 4

/*
 * The topology of EVENTS.md, identical to
 * infrastructure/rabbitmq/definitions.json (a declare with other arguments
 * is a PRECONDITION_FAILED channel error): the durable topic exchange
 * shop.events, the durable direct exchange shop.dlx, and per entry below a
 * durable quorum queue with x-delivery-limit AMQP_DELIVERY_LIMIT,
 * x-dead-letter-exchange shop.dlx and x-dead-letter-routing-key
 * "<name>.dlq", bound to shop.events with each routing key; beside it the
 * quorum queue "<name>.dlq", bound to shop.dlx with its own name.
 *
 * shop.dlx is a direct exchange, not EVENTS.md's fanout: each queue
 * dead-letters with its own routing key, so a fanout would copy every dead
 * letter into every dead-letter queue.
 */
struct amqp_queue_def {
	const char *name; /* "payment.order-created" */
	/* routing keys (event types) on shop.events, NULL-terminated */
	const char *bindings[AMQP_MAX_QUEUE_BINDINGS + 1];
};

/* The queues, in EVENTS.md's order; amqp_topology_nqueues entries. */
extern const struct amqp_queue_def amqp_topology_queues[];
extern const size_t amqp_topology_nqueues;

/* The entry of the queue called name (borrowed), or NULL. */
const struct amqp_queue_def *amqp_topology_queue(const char *name);

struct amqp_conn;

struct amqp_conn_options {
	/* amqp://user:pass@host:port/vhost (vhost percent-encoded, "%2F" is
	 * "/"). Borrowed; its password is never logged. amqps is not
	 * supported. */
	const char *url;
	/* Shown as the connection's name in the management UI, e.g.
	 * "order outbox relay". Borrowed; NULL for none. */
	const char *name;
	/* Budget for the TCP connect and for the AMQP handshake; 0 means
	 * 5000. */
	int connect_timeout_ms;
	/* Timeout of each synchronous method (declare, channel open, ...);
	 * 0 means 10000. After one expires the connection is dead. */
	int rpc_timeout_ms;
	/* Heartbeat interval asked of the broker, in seconds; 0 means 30,
	 * negative disables heartbeats. */
	int heartbeat_s;
};

/*
 * Checks that url is an amqp:// URL rabbitmq-c can use and, when display
 * is not NULL, writes its log form ("amqp://host:port", with "/vhost"
 * when the vhost is not "/") into display (cap bytes). Returns 0 or
 * SHOP_EINVAL (nothing logged; the URL may hold a password).
 */
int amqp_url_check(const char *url, char *display, size_t cap);

/*
 * Connects to the broker: TCP connect within the timeout, login, channel 1
 * open. Returns 0 and *out (caller frees with amqp_conn_free()),
 * SHOP_EINVAL for a malformed URL, SHOP_EUNAVAIL when the broker cannot be
 * reached or refuses the login, or SHOP_ENOMEM.
 *
 * The failure is described in STYLE.md's form ("cannot connect to
 * 'amqp://host:port': connection refused"): when err is not NULL it is
 * written there (errcap bytes) and not logged, for a caller that retries
 * with backoff and logs only the transitions; otherwise it is logged once
 * as an error.
 */
int amqp_conn_open(const struct amqp_conn_options *opt, struct amqp_conn **out,
                   char *err, size_t errcap);

/*
 * Closes the channel and the connection cleanly when they are still up
 * (bounded by the rpc timeout) and frees c. Accepts NULL.
 */
void amqp_conn_free(struct amqp_conn *c);

/* False once the connection is dead: free it and open another. */
bool amqp_conn_ok(const struct amqp_conn *c);

/*
 * Why the connection died, e.g. "connection closed by the broker: 320
 * CONNECTION_FORCED - ..." or "cannot declare queue 'x': 406
 * PRECONDITION_FAILED - ..."; "" while it is ok. Borrowed from c. The
 * functions below do not log a dead connection themselves (a caller that
 * reconnects with backoff logs each transition once, with this reason).
 */
const char *amqp_conn_error(const struct amqp_conn *c);

/* The log form of the broker's address ("amqp://host:port"). Borrowed. */
const char *amqp_conn_display(const struct amqp_conn *c);

/* The connection's socket, for poll() (readable: call
 * amqp_conn_service()); -1 when dead. */
int amqp_conn_fd(const struct amqp_conn *c);

/*
 * Reads whatever the broker sent without blocking and services the
 * heartbeats: sends one when due, notices a broker that went silent, a
 * connection closed by the broker or a late confirm (ignored). Returns 0,
 * or SHOP_EUNAVAIL when the connection is dead (amqp_conn_error() says
 * why).
 */
int amqp_conn_service(struct amqp_conn *c);

/*
 * Declares, idempotently, every exchange, queue and binding of the table
 * above, with the arguments of definitions.json. Every daemon declares the
 * whole topology (not only what it uses) so that an event published before
 * its consumers ever started is routed to their queues rather than
 * returned. Returns 0; SHOP_ERR when the broker refuses a declaration
 * (its reply, e.g. "PRECONDITION_FAILED - inequivalent arg ...", is in
 * amqp_conn_error(); the channel is then closed, so the connection is
 * dead); or SHOP_EUNAVAIL.
 */
int amqp_topology_declare(struct amqp_conn *c);

/*
 * Declares, idempotently, one queue described like an entry of the table
 * (q and its strings borrowed): its dead-letter queue "<name>.dlq" bound
 * to shop.dlx, the queue itself with the arguments above, and its bindings
 * on shop.events; the exchanges must exist (amqp_topology_declare()).
 * For queues outside the table (tests); a table entry may be passed too.
 * Returns as amqp_topology_declare().
 */
int amqp_topology_declare_queue(struct amqp_conn *c,
                                const struct amqp_queue_def *q);

/*
 * Outcome of one outgoing message (struct amqp_outgoing.result).
 */
enum amqp_outcome {
	AMQP_PENDING = 0,  /* not confirmed (timeout, or connection lost) */
	AMQP_ACKED = 1,    /* Basic.Ack: the broker routed and stored it */
	AMQP_NACKED = 2,   /* Basic.Nack: the broker could not take it */
	AMQP_RETURNED = 3, /* Basic.Return: routed to no queue (then acked) */
	AMQP_NOT_SENT = 4, /* the connection died before it was written */
};

/*
 * One message to publish with amqp_publish_batch(). Every pointer is
 * borrowed for the call. Properties follow EVENTS.md: content_type
 * application/json, delivery_mode 2 (persistent), message_id, type,
 * correlation_id when not NULL, app_id when not NULL, the header
 * `traceparent` when not NULL, and timestamp.
 */
struct amqp_outgoing {
	const char *exchange;    /* NULL means shop.events */
	const char *routing_key; /* the event type */
	const char *message_id;  /* the event_id; matches a Basic.Return */
	const char *type;        /* the event type */
	const char *correlation_id;
	const char *traceparent;
	const char *app_id; /* the producer */
	const void *body;
	size_t len;
	time_t timestamp; /* 0 means now */

	/* Out: what became of it. */
	enum amqp_outcome result;
	/* Out: for AMQP_RETURNED, the broker's reason ("NO_ROUTE"). */
	char reason[48];
};

/*
 * Publishes the n messages with mandatory=1 on the connection's channel in
 * confirm mode (Confirm.Select is sent once per channel), all of them
 * first, then waits for their confirms until timeout_ms has passed since
 * the call (pipelining: one round trip per batch, not per message). Sets
 * msgs[i].result for each. A message the broker returns as unroutable
 * counts as AMQP_RETURNED even though its Basic.Ack follows, and is
 * logged with its message_id.
 *
 * Returns 0 when every message got a confirm (look at each result);
 * SHOP_ETIMEDOUT when some did not within timeout_ms (they stay
 * AMQP_PENDING; the connection is still usable and ignores their late
 * confirms); SHOP_EUNAVAIL when the connection is or went dead
 * (amqp_conn_error(); unconfirmed ones are AMQP_PENDING, unsent ones
 * AMQP_NOT_SENT); SHOP_ENOMEM; SHOP_EINVAL when a
 * message lacks a routing key or message_id (a BUG in the caller: nothing
 * is sent).
 */
int amqp_publish_batch(struct amqp_conn *c, struct amqp_outgoing *msgs,
                       size_t n, int timeout_ms);

/* ---- consuming ---- */

/* A delivery's body over this size is discarded as it arrives (the
 * delivery comes with oversize set, for the caller to reject). */
#define AMQP_MAX_BODY (8u << 20)

/*
 * One message delivered to the consumer of the connection (Basic.Deliver
 * with its content). Everything is copied out of rabbitmq-c's buffers and
 * belongs to the delivery: free it with amqp_delivery_free(). Its
 * delivery_tag is valid only on the connection it came from.
 */
struct amqp_delivery {
	uint64_t delivery_tag;
	bool redelivered;
	char *exchange;    /* never NULL ("" for the default exchange) */
	char *routing_key; /* never NULL */
	/* Properties; NULL when the message has none. */
	char *message_id;
	char *type;
	char *correlation_id;
	char *app_id;
	char *traceparent; /* the `traceparent` header (a string) */
	/* The x-delivery-count header quorum queues add on redeliveries;
	 * 0 when absent. */
	long delivery_count;
	/* The body, NUL-terminated (the NUL not counted in len); NULL with
	 * oversize set when it was over AMQP_MAX_BODY. */
	char *body;
	size_t len;
	bool oversize;
};

/* Frees d and everything it holds. Accepts NULL. */
void amqp_delivery_free(struct amqp_delivery *d);

/*
 * Starts consuming queue (borrowed) on the connection's channel: Basic.Qos
 * with prefetch_count prefetch (>= 1, per consumer) then Basic.Consume
 * with manual acknowledgements (no_ack = 0). One consumer per connection.
 * Deliveries are then read by amqp_conn_receive() (amqp_conn_service()
 * reads and keeps them too). Returns 0; SHOP_ERR when the broker refuses
 * (e.g. "404 NOT_FOUND - no queue", in amqp_conn_error(); the connection
 * is then dead); SHOP_EUNAVAIL; SHOP_EINVAL for a bad argument.
 */
int amqp_conn_consume(struct amqp_conn *c, const char *queue, int prefetch);

/*
 * Takes the next delivery: one already read, or one arriving within
 * timeout_ms (0: only what the socket holds now). Services the heartbeats
 * and the other frames like amqp_conn_service(). Returns 1 and *out
 * (caller frees with amqp_delivery_free()), 0 when none came in time, or
 * SHOP_EUNAVAIL when the connection is or went dead (amqp_conn_error();
 * a Basic.Cancel from the broker, e.g. the queue was deleted, counts as
 * dead too: reconnect and consume again). Deliveries not taken when the
 * connection dies are freed with it; the broker redelivers them.
 */
int amqp_conn_receive(struct amqp_conn *c, int timeout_ms,
                      struct amqp_delivery **out);

/*
 * Basic.Ack of one delivery tag / Basic.Reject of one (requeue false: the
 * broker dead-letters it through the queue's x-dead-letter-exchange).
 * Asynchronous: nothing is awaited. Returns 0, or SHOP_EUNAVAIL when the
 * connection is dead (the broker then requeues every unacked delivery).
 */
int amqp_conn_ack(struct amqp_conn *c, uint64_t delivery_tag);
int amqp_conn_reject(struct amqp_conn *c, uint64_t delivery_tag, bool requeue);

#endif
