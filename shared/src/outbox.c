#include "shop/outbox.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/migrate.h"
#include "shop/util.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The producer side of the outbox: its table and outbox_add(). The relay
 * that publishes the table is in outbox_relay.c.
 *
 * The outbox table and its upgrades. They are compiled in and tracked in
 * their own table, outbox_schema_migrations, rather than shipped as files
 * for each service's migrations folder: the relay's SQL and the
 * schema must change together, and a version number of the outbox must
 * never collide with a service's own 001_..., 002_... A new column is a
 * new entry here; an applied entry is never edited (its checksum is
 * checked like a file's).
 *
 * payload is text, not jsonb: the relay publishes exactly the bytes
 * outbox_add() wrote (jsonb would reorder keys and reformat numbers).
 * published_at NULL means pending; retry_at delays a row the broker
 * refused (nack, unroutable), with its attempts and last_error for the
 * operator. The relay's statements (outbox_relay.c) follow this schema.
 */
static const struct migrate__embedded outbox_migrations[] = {
        {1, "create_outbox",
         "CREATE TABLE outbox (\n"
         "  id bigserial PRIMARY KEY,\n"
         "  event_id uuid NOT NULL UNIQUE,\n"
         "  event_type text NOT NULL,\n"
         "  payload text NOT NULL,\n"
         "  correlation_id text,\n"
         "  traceparent text,\n"
         "  created_at timestamptz NOT NULL DEFAULT now(),\n"
         "  published_at timestamptz,\n"
         "  attempts integer NOT NULL DEFAULT 0,\n"
         "  retry_at timestamptz,\n"
         "  last_error text\n"
         ");\n"
         "CREATE INDEX outbox_pending_idx ON outbox (id)\n"
         "  WHERE published_at IS NULL;\n"
         "CREATE INDEX outbox_published_at_idx ON outbox (published_at)\n"
         "  WHERE published_at IS NOT NULL;\n"},
};

#define OUTBOX_MIGRATE_WAIT_MS 30000
#define OUTBOX_ADD_STMT        "shop_outbox_add"
#define OUTBOX_ADD_SQL                                                         \
	"WITH ins AS (INSERT INTO outbox (event_id, event_type, payload, "     \
	"correlation_id, traceparent) VALUES ($1::uuid, $2, $3, $4, $5) "      \
	"RETURNING id) SELECT pg_notify('" OUTBOX_CHANNEL "', '') FROM ins"

/* ---- the producer side ---- */

int outbox_migrate(const char *conninfo, const char *service)
{
	return migrate__run_embedded(
	        conninfo, service, "outbox_schema_migrations", "outbox",
	        outbox_migrations,
	        sizeof(outbox_migrations) / sizeof(outbox_migrations[0]),
	        OUTBOX_MIGRATE_WAIT_MS);
}

int outbox_prepare(struct db_pool *pool)
{
	return db_pool_prepare(pool, OUTBOX_ADD_STMT, OUTBOX_ADD_SQL);
}

int outbox_add(struct db_conn *c, const struct outbox_event *ev,
               char *event_id_out)
{
	char id[SHOP_UUID_LEN + 1], at[21];
	const char *params[5];
	json_error_t jerr;
	json_t *envelope;
	char *payload;
	int rc;

	if (!ev || !ev->event_type || !*ev->event_type ||
	    strlen(ev->event_type) > 255 || !ev->producer || !*ev->producer ||
	    !json_is_object(ev->data) || ev->event_version < 0) {
		slog_error(
		        "cannot add an event to the outbox: it lacks a type, "
		        "a producer or a data object (a bug in the caller)");
		return SHOP_EINVAL;
	}
	if (PQtransactionStatus(db_conn_pg(c)) == PQTRANS_IDLE) {
		slog_error("cannot add event '%s' to the outbox outside a "
		           "transaction (a bug in the caller)",
		           ev->event_type);
		return SHOP_EINVAL;
	}
	shop_uuid_v4(id);
	shop_time_rfc3339(time(NULL), at);
	envelope = json_pack_ex(
	        &jerr, 0, "{s:s, s:s, s:i, s:s, s:s, s:s?, s:O}", "event_id",
	        id, "event_type", ev->event_type, "event_version",
	        ev->event_version ? ev->event_version : 1, "occurred_at", at,
	        "producer", ev->producer, "correlation_id", ev->correlation_id,
	        "data", ev->data);
	if (!envelope) {
		slog_error("cannot build the envelope of event '%s': %s",
		           ev->event_type, jerr.text);
		return SHOP_EINVAL;
	}
	payload = json_dumps(envelope, JSON_COMPACT);
	json_decref(envelope);
	if (!payload)
		return SHOP_ENOMEM;
	params[0] = id;
	params[1] = ev->event_type;
	params[2] = payload;
	params[3] = ev->correlation_id;
	params[4] = ev->traceparent;
	rc = db_exec(c, OUTBOX_ADD_STMT, 5, params, NULL);
	free(payload);
	if (rc == 0 && event_id_out)
		memcpy(event_id_out, id, sizeof(id));
	return rc;
}
