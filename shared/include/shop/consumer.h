#ifndef SHOP_CONSUMER_H
#define SHOP_CONSUMER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "shop/amqp.h"

/*
 * The consumer side of the event backbone (EVENTS.md "Delivery rules").
 *
 * A daemon runs one consumer per queue it consumes (struct consumer). It
 * has its own AMQP connection, declares the whole topology and its own
 * queue at each connect (idempotently), sets a bounded prefetch
 * (Basic.Qos) and consumes with manual acknowledgements. Each delivery:
 *
 *   1. is parsed as EVENTS.md's envelope, strictly: one JSON object with
 *      exactly event_id (a UUID), event_type (one of the queue's routing
 *      keys), event_version 1, occurred_at (RFC 3339), producer (a
 *      non-empty string), data (an object) and optionally correlation_id
 *      (a string or null); the AMQP `type` and `message_id` properties,
 *      when present, must equal event_type and event_id. A message that
 *      fails is rejected without requeue (Basic.Reject requeue=0: the
 *      broker dead-letters it to "<queue>.dlq" through shop.dlx) and
 *      logged with its event_id (or message_id, or delivery tag) and why;
 *   2. is handled in ONE database transaction on a connection of the
 *      daemon's pool: INSERT of (event_id, queue) into processed_events
 *      ... ON CONFLICT DO NOTHING, then the daemon's handler, which may
 *      write its state and call outbox_add() on the same connection, then
 *      COMMIT. When the row is already there (a redelivery, or the same
 *      event published twice) the handler is not called: the message is
 *      just acked. Two replicas handed the same event at once serialize on
 *      that row: the second waits for the first's commit, then sees a
 *      duplicate;
 *   3. is acked only after the commit. A crash between the commit and the
 *      ack makes the broker redeliver it, and step 2 finds the duplicate.
 *
 * The handler's result decides the rest:
 *   0            commit, ack (events_consumed_total result="ok");
 *   SHOP_EINVAL  poison: roll back, reject without requeue (dead-lettered),
 *                log (result="poison");
 *   anything else (SHOP_EUNAVAIL, SHOP_ETIMEDOUT, SHOP_ERR, ...)
 *                transient: roll back and run the handler again after a
 *                backoff of 100 ms doubling to 5 s, for as long as it
 *                takes, keeping the message in hand (unacked; one
 *                result="retry" per failed attempt). A failure to reach the
 *                database counts the same.
 *
 * Retries stay in hand rather than Basic.Nack(requeue=1): the quorum
 * queues count every requeue against x-delivery-limit (5), so requeueing
 * would dead-letter a perfectly good event after five tries of a database
 * or payment-provider outage, where EVENTS.md says a transient failure is
 * retried and never dropped. The price is head-of-line blocking of this
 * queue while one event keeps failing, which an outage causes anyway.
 * Redeliveries the broker makes on its own (connection lost, daemon
 * restarted, the broker's consumer_timeout of 30 min on an unacked
 * message) do count: an event that fails for hours can still end in the
 * .dlq, from where an operator moves it back. RabbitMQ 3.10 also counts
 * every unacked message a closing connection hands back, prefetched ones
 * included (the tests see x-delivery-count 1 after a shutdown): one more
 * reason to keep the prefetch small.
 *
 * Heartbeats while a handler is slow: rabbitmq-c connections are not
 * thread-safe and heartbeats are only sent and checked when the
 * connection is read, so a handler run on the thread that owns the socket
 * (an SMTP send, a payment call: seconds) would let the broker close the
 * connection after two missed heartbeats, and the message would be
 * redelivered and handled again. Making the heartbeat longer than any
 * handler only trades that for slow detection of a dead broker and a
 * limit nobody checks. So each consumer has two threads:
 *   - the consumer thread owns the AMQP connection and nothing else
 *     touches it: it polls the socket at least every 200 ms (heartbeats,
 *     broker closes), receives deliveries, validates them, rejects
 *     poison, queues the rest (at most `prefetch`), hands them one at a
 *     time, in order, to the worker, and acks when the worker is done;
 *   - the worker thread never touches the socket: it runs the database
 *     transaction and the handler, with its retries, and reports back
 *     through a pipe.
 * A delivery tag is only valid on its connection: when the connection is
 * lost while the worker has a message, the worker finishes (and commits:
 * the redelivery will then be a duplicate rather than a repeat of the
 * handler's side effects) but stops retrying, nothing is acked, and the
 * prefetched messages are dropped (the broker redelivers all of them).
 *
 * Shutdown (consumer_free()): the consumer stops taking messages (those
 * prefetched but not started go back to the queue with the connection)
 * and waits up to shutdown_timeout_ms for the message in hand, still
 * servicing the connection, and acks it. A transient retry loop stops at once
 * (the message is left unacked). When the handler does not finish in time, the
 * consumer marks the event cancelled (consumer_cancelled() turns true, for
 * a handler that loops), cancels the statement running on its database
 * connection, and closes the AMQP connection, which leaves the message
 * unacked: the broker redelivers it to another replica or the next start.
 * It then waits for the handler to return (rolled back unless it returns
 * 0) and joins both threads. The handler must bound its own calls (every
 * outgoing call has a timeout, OPERATIONS.md): consumer_free() cannot
 * interrupt an SMTP or HTTP call, only a database statement.
 *
 * The table belongs to this module: consumer_migrate() creates it, its
 * versions compiled in and tracked in consumer_schema_migrations:
 *   processed_events(event_id uuid, queue text, event_type text,
 *                    processed_at timestamptz,
 *                    primary key (event_id, queue))
 * The key includes the queue so that one database may serve two
 * consumers of the same event (two queues bound to one event type) without
 * the second skipping it. Rows older than retention_s are deleted by the
 * worker when idle, a minute after start and then hourly; the retention
 * must exceed the longest time an event can wait in a queue or be
 * republished.
 *
 * Start-up order in a daemon: migrate_run(), consumer_migrate() (and
 * outbox_migrate() when the handler writes events), db_pool_new(), then
 * consumer_start() (which registers its statements on the pool) before or
 * after db_pool_start(). Size the pool with one connection more per
 * consumer: the worker holds one for the length of each handler. At
 * shutdown, consumer_free() after the HTTP server stopped and before
 * db_pool_free().
 *
 * Metrics (shop/metrics.h), labelled queue="<name>":
 *   events_consumed_total{queue,event_type,result="ok|duplicate|poison|
 *     retry"} (event_type "unknown" when it is not one of the queue's),
 *   events_dead_lettered_total{queue} (rejected without requeue),
 *   consumer_connected{queue} (1 while consuming),
 *   consumer_connects_total{queue} (successful connects: a count that
 *     grows means the connection keeps dropping).
 */

struct arena;
struct db_conn;
struct db_pool;
struct consumer;
struct consumer_job;

/* One event, as the handler sees it. Every pointer is borrowed for the
 * duration of the call. */
struct consumer_event {
	const char *event_id;   /* a UUID, as the producer wrote it */
	const char *event_type; /* one of the queue's routing keys */
	int event_version;      /* 1 */
	const char *occurred_at;
	const char *producer;
	const char *correlation_id; /* NULL when none */
	const char *traceparent;    /* the AMQP header; NULL when none */
	json_t *data;               /* the "data" object */
	const char *queue;
	bool redelivered;    /* the broker delivered it before */
	long delivery_count; /* x-delivery-count: earlier deliveries */
	/* The worker's arena, reset before each attempt: for what the
	 * handler (and the committed hook) need during this event. */
	struct arena *arena;
	/* private: for consumer_cancelled() */
	struct consumer_job *job_;
};

/*
 * The daemon's handler: does its work on c, inside the transaction the
 * consumer opened (it must neither commit nor roll back: a BUG()), and may
 * call outbox_add(c, ...). Returns 0 (commit), SHOP_EINVAL for an event it
 * can never handle (dead-lettered; log why), or any other error for a
 * transient failure (retried). Runs on the consumer's worker thread, one
 * event at a time.
 */
typedef int (*consumer_handle_fn)(void *arg, struct db_conn *c,
                                  const struct consumer_event *ev);

/*
 * Optional: called on the worker thread right after the handler's
 * transaction committed (never for a duplicate or a rolled-back attempt),
 * before the ack: for work that must see the committed state, such as
 * refreshing a cache. It cannot fail the event; a crash before it runs
 * loses the call (the redelivery is a duplicate), so use it only for what
 * can be lost (a cache entry that then expires on its own).
 */
typedef void (*consumer_committed_fn)(void *arg,
                                      const struct consumer_event *ev);

struct consumer_options {
	/* The daemon ("order"): logs, the connection name. Copied. */
	const char *service;
	/* amqp://user:pass@host:port/vhost. Copied; never logged. */
	const char *amqp_url;
	/* The queue to consume: its name and routing keys (the event types
	 * it accepts); its dead-letter queue is "<name>.dlq". Normally
	 * amqp_topology_queue("order.payment-results"); a queue outside the
	 * table is declared like one of it. Copied. */
	const struct amqp_queue_def *queue;
	/* The daemon's pool; borrowed, must outlive the consumer. */
	struct db_pool *pool;
	consumer_handle_fn handle;
	consumer_committed_fn committed; /* NULL: none */
	void *arg; /* passed to handle and committed; borrowed */
	/* Basic.Qos prefetch, 1 to 1000; 0 means 16. */
	int prefetch;
	/* AMQP heartbeat in seconds; 0 means 30. */
	int heartbeat_s;
	/* How long consumer_free() waits for the message in hand; 0 means
	 * 4000. */
	int shutdown_timeout_ms;
	/* processed_events rows older than this are deleted; 0 means 30
	 * days. */
	int retention_s;
};

/*
 * Creates or upgrades processed_events in the database at conninfo
 * (borrowed, never logged), under the same advisory lock as migrate_run()
 * for `service`, waiting up to 30 s for the database. Returns 0 or an
 * error of migrate_run().
 */
int consumer_migrate(const char *conninfo, const char *service);

/*
 * Registers the consumer's statements on opt->pool and starts its two
 * threads. Neither the broker nor the database needs to be reachable
 * yet: the consumer connects to the broker with backoff (100 ms doubling
 * to 5 s), logging each transition once; the pool reconnects on its own
 * and the worker retries with the same backoff. Returns 0 and *out
 * (caller frees with consumer_free()); SHOP_EINVAL for a missing or
 * out-of-range option, a malformed URL, or a statement the database
 * rejects (consumer_migrate() not run) (logged); SHOP_ENOMEM; SHOP_ERR
 * when no thread could be started (logged).
 */
int consumer_start(const struct consumer_options *opt, struct consumer **out);

/* For /ready: true while the consumer is connected and consuming. */
bool consumer_connected(const struct consumer *c);

/*
 * Stops the consumer as described above (within shutdown_timeout_ms plus
 * about a second to close the connection, unless a handler ignores its
 * own timeouts), closes the connection and joins its threads. Accepts
 * NULL.
 */
void consumer_free(struct consumer *c);

/*
 * For a handler that loops or waits: true once the consumer has given up
 * on this event (shutdown past its bound, or the connection was lost);
 * whatever the handler then returns other than 0 is rolled back and the
 * broker redelivers the event.
 */
bool consumer_cancelled(const struct consumer_event *ev);

/*
 * For a handler that leaves something for the committed hook (the products
 * whose cache it must refresh, say): the pointer is kept with the event in
 * hand and reset before each attempt. Allocate it from ev->arena.
 */
void consumer_event_set_data(const struct consumer_event *ev, void *data);
void *consumer_event_data(const struct consumer_event *ev);

/*
 * A group: n competing consumers of one queue in this process (1 to
 * CONSUMER_GROUP_MAX), started with the same options, each with its own
 * connection, worker and arena. Each handles one event at a time, so n of
 * them let n events (and their commits) overlap; the handler must be safe
 * to run n times at once (its state in ev->arena, its arg shared) and the
 * events of one queue may then be handled out of order. Size the pool
 * with n connections more. The gauge consumer_connected{queue} shows the
 * last one to change. consumer_group_start() returns 0 and *out, SHOP_EINVAL
 * for n out of range, or an error of consumer_start() (the ones started
 * are stopped).
 */
#define CONSUMER_GROUP_MAX 16

struct consumer_group;

int consumer_group_start(const struct consumer_options *opt, int n,
                         struct consumer_group **out);
/* True while every consumer of the group is connected. */
bool consumer_group_connected(const struct consumer_group *g);
/* Stops them all (consumer_free()). Accepts NULL. */
void consumer_group_free(struct consumer_group *g);

/* ---- internal, exposed for tests ---- */

/*
 * Parses and checks body (len bytes) as an envelope for queue q, with the
 * AMQP properties type and message_id (NULL when absent). Returns 0 with
 * *root (caller json_decref()s) and ev filled (its strings borrowed from
 * *root; traceparent, queue, redelivered and delivery_count left for the
 * caller), or SHOP_EINVAL with the reason in why (cap bytes). In both
 * cases, id (id_cap bytes) receives the event_id when the body has a
 * string one, else "" (for the log line of a rejected message).
 */
int consumer__parse_envelope(const struct amqp_queue_def *q, const char *body,
                             size_t len, const char *type,
                             const char *message_id, json_t **root,
                             struct consumer_event *ev, char *why, size_t cap,
                             char *id, size_t id_cap);

/* Registers the statements below on pool (db_pool_prepare()). */
int consumer__prepare(struct db_pool *pool);

/*
 * Inserts (event_id, queue, event_type) into processed_events on c, inside
 * the caller's transaction. Returns 0 when the row is new, 1 when it was
 * there already (a duplicate), or a db_exec() error.
 */
int consumer__mark(struct db_conn *c, const char *event_id, const char *queue,
                   const char *event_type);

/*
 * Deletes up to 5000 rows of queue older than retention_s on c (outside a
 * transaction). Returns the number deleted or a db_exec() error.
 */
long consumer__purge(struct db_conn *c, const char *queue, int retention_s);

#endif
