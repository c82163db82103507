#ifndef SHOP_OUTBOX_H
#define SHOP_OUTBOX_H

#include <jansson.h>
#include <stdbool.h>

#include "shop/db.h"

/*
 * The transactional outbox (EVENTS.md "Delivery rules").
 *
 * A producer never publishes from a request handler: inside the same
 * transaction as its state change it calls outbox_add(), which inserts one
 * row into the producer's `outbox` table and NOTIFYs the relay (PostgreSQL
 * delivers the notification at commit, and only if the transaction
 * commits). A relay thread per daemon (struct outbox_relay) takes pending
 * rows in id order with FOR UPDATE SKIP LOCKED (replicas can run side by
 * side), publishes each to the shop.events exchange with publisher
 * confirms, and marks them published only after the broker's Basic.Ack.
 * It is woken by LISTEN/NOTIFY and by a short poll, and reconnects to
 * PostgreSQL and RabbitMQ with backoff when either goes away: an event is
 * published at least once, never lost (consumers dedupe by event_id).
 *
 * The table belongs to this module: outbox_migrate() creates or upgrades
 * it; services do not copy its DDL into their own migrations. Its
 * versions are compiled into outbox.c and tracked in their own table,
 * outbox_schema_migrations (never in the service's schema_migrations):
 *   outbox(id bigserial primary key, event_id uuid unique, event_type,
 *          payload text (the exact bytes published), correlation_id,
 *          traceparent, created_at, published_at (NULL: pending),
 *          attempts, retry_at, last_error)
 * with a partial index on the pending rows.
 *
 * Start-up order in a daemon: migrate_run(), outbox_migrate(),
 * outbox_prepare() and db_pool_start() (the statement needs the table),
 * then outbox_relay_start(); at shutdown outbox_relay_free() after the
 * HTTP server has stopped.
 *
 * Metrics (shop/metrics.h): events_published_total{event_type} (rows
 * confirmed by the broker and marked), outbox_publish_failures_total
 * (rows of a batch not published: nacked, returned as unroutable,
 * unconfirmed in time, lost with the connection), outbox_backlog (pending
 * rows, refreshed by the relay about every second) and amqp_connected
 * (1 while the relay is connected to the broker).
 */

/* The LISTEN/NOTIFY channel outbox_add() notifies and the relay listens
 * on. */
#define OUTBOX_CHANNEL "outbox"

/*
 * One event to publish, as EVENTS.md's envelope describes it. Strings are
 * borrowed for the duration of the call.
 */
struct outbox_event {
	const char *event_type; /* "user.registered"; also the routing key */
	int event_version;      /* 0 means 1 */
	const char *producer;   /* "user" */
	const char *correlation_id; /* the X-Request-ID that caused it; may be
	                               NULL */
	const char *traceparent;    /* W3C traceparent; may be NULL */
	json_t *data;               /* the event's "data" object; borrowed */
};

/*
 * Inserts the envelope of ev (a fresh event_id, occurred_at = now) as a
 * pending outbox row on c, which must be inside a transaction the caller
 * commits (db_begin() ... db_commit()); NOTIFYs the relay in the same
 * transaction (one statement, one round trip). The payload is the compact
 * JSON envelope {"event_id", "event_type", "event_version",
 * "occurred_at", "producer", "correlation_id" (null when NULL), "data"},
 * in that order. When event_id_out is not NULL, the new event id is
 * written to it (37 bytes: a UUID and its NUL). Returns 0, SHOP_EINVAL
 * when ev lacks a type (or it is over 255 bytes), producer or data
 * object, or c is not inside a transaction (a bug in the caller: logged),
 * or a db_exec() error. Never publishes anything itself.
 */
int outbox_add(struct db_conn *c, const struct outbox_event *ev,
               char *event_id_out);

/*
 * Creates or upgrades the outbox table in the database at conninfo
 * (borrowed, never logged) under the same advisory lock as migrate_run()
 * for `service`, waiting up to 30 s for the database like migrate_run().
 * Call it at start-up, after migrate_run() and before db_pool_start().
 * Returns 0 or an error of migrate_run().
 */
int outbox_migrate(const char *conninfo, const char *service);

/*
 * Registers the statement outbox_add() uses on the pool (call before
 * db_pool_start(), after outbox_migrate()). Returns 0 or an error of
 * db_pool_prepare().
 */
int outbox_prepare(struct db_pool *pool);

struct outbox_relay_options {
	const char *service; /* producer name for logs and metrics; copied */
	const char
	        *conninfo; /* the producer's database; copied, never logged */
	const char *amqp_url;   /* amqp://user:pass@host:port/vhost; copied */
	int batch_size;         /* rows per transaction; 0 means 100 */
	int poll_interval_ms;   /* wake-up without NOTIFY; 0 means 1000 */
	int confirm_timeout_ms; /* wait for the broker's acks; 0 means 5000 */
	/* published rows older than this are deleted; 0 means 7 days */
	int retention_s;
};

struct outbox_relay;

/*
 * Starts the relay thread, which owns one PostgreSQL connection (LISTEN)
 * and one AMQP connection, and declares the shop.events topology
 * (amqp_topology_declare()) each time it connects. Neither needs to be
 * reachable yet: the thread connects with backoff (100 ms doubling to
 * 5 s), logging each transition once. Each turn takes up to batch_size
 * pending rows (FOR UPDATE SKIP LOCKED), publishes them all, waits for
 * the confirms, marks the acked ones published and the nacked or
 * returned ones for a retry (1 s doubling to 60 s), and commits; a full
 * batch is followed by the next at once. A broker that does not confirm
 * within confirm_timeout_ms is reconnected. Published rows older than
 * retention_s are deleted at connect and every 10 minutes.
 * Returns 0 and *out (caller frees with outbox_relay_free()), SHOP_EINVAL
 * for a malformed amqp_url, conninfo or option (logged), SHOP_ENOMEM, or
 * SHOP_ERR when no thread could be started (logged).
 */
int outbox_relay_start(const struct outbox_relay_options *opt,
                       struct outbox_relay **out);

/*
 * For /ready: true when the relay is connected to the broker (it can
 * publish). The database side is reported by the daemon's own pool.
 */
bool outbox_relay_connected(const struct outbox_relay *r);

/*
 * Stops the relay: wakes it at once, lets it finish the batch in hand
 * (waiting for its confirms up to confirm_timeout_ms), closes both
 * connections and joins the thread (well within 10 s with the defaults,
 * including while a connection attempt is under way). Rows not marked
 * published stay pending for the next start or another replica. Accepts
 * NULL.
 */
void outbox_relay_free(struct outbox_relay *r);

#endif
