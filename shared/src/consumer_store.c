#include "shop/consumer.h"

#include "shop/db.h"
#include "shop/error.h"
#include "shop/migrate.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * The consumer's table, processed_events, and the statements on it. Like
 * the outbox's, its migrations are compiled in and tracked in their own
 * table (consumer_schema_migrations): the consumer's SQL and its schema
 * change together, and its versions never collide with the service's
 * files. An applied entry is never edited; a change is a new entry.
 *
 * The primary key (event_id, queue) is the deduplication itself: the
 * consumer's INSERT ... ON CONFLICT DO NOTHING in the handler's
 * transaction either adds the row (first delivery) or finds it (a
 * duplicate), and waits for a concurrent transaction holding the same key
 * to end. The index on (queue, processed_at) serves the retention purge.
 */
static const struct migrate__embedded consumer_migrations[] = {
        {1, "create_processed_events",
         "CREATE TABLE processed_events (\n"
         "  event_id uuid NOT NULL,\n"
         "  queue text NOT NULL,\n"
         "  event_type text NOT NULL,\n"
         "  processed_at timestamptz NOT NULL DEFAULT now(),\n"
         "  PRIMARY KEY (event_id, queue)\n"
         ");\n"
         "CREATE INDEX processed_events_queue_processed_at_idx\n"
         "  ON processed_events (queue, processed_at);\n"},
};

#define CONSUMER_MIGRATE_WAIT_MS 30000
#define STMT_MARK                "shop_consumer_mark"
#define SQL_MARK                                                               \
	"INSERT INTO processed_events (event_id, queue, event_type) "          \
	"VALUES ($1::uuid, $2, $3) ON CONFLICT DO NOTHING RETURNING 1"
#define STMT_PURGE "shop_consumer_purge"
#define SQL_PURGE                                                              \
	"DELETE FROM processed_events WHERE queue = $1 AND event_id IN "       \
	"(SELECT event_id FROM processed_events WHERE queue = $1 AND "         \
	"processed_at < now() - $2::int * interval '1 second' "                \
	"ORDER BY processed_at LIMIT 5000)"

int consumer_migrate(const char *conninfo, const char *service)
{
	return migrate__run_embedded(
	        conninfo, service, "consumer_schema_migrations", "consumer",
	        consumer_migrations,
	        sizeof(consumer_migrations) / sizeof(consumer_migrations[0]),
	        CONSUMER_MIGRATE_WAIT_MS);
}

int consumer__prepare(struct db_pool *pool)
{
	int rc = db_pool_prepare(pool, STMT_MARK, SQL_MARK);

	return rc ? rc : db_pool_prepare(pool, STMT_PURGE, SQL_PURGE);
}

int consumer__mark(struct db_conn *c, const char *event_id, const char *queue,
                   const char *event_type)
{
	const char *params[3] = {event_id, queue, event_type};
	PGresult *res = NULL;
	int rc = db_exec(c, STMT_MARK, 3, params, &res);

	if (rc)
		return rc;
	rc = PQntuples(res) == 1 ? 0 : 1;
	PQclear(res);
	return rc;
}

long consumer__purge(struct db_conn *c, const char *queue, int retention_s)
{
	char secs[16];
	const char *params[2] = {queue, secs};
	PGresult *res = NULL;
	long n;
	int rc;

	snprintf(secs, sizeof(secs), "%d", retention_s);
	rc = db_exec(c, STMT_PURGE, 2, params, &res);
	if (rc)
		return rc;
	n = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}
