#ifndef SHOP_MIGRATE_H
#define SHOP_MIGRATE_H

#include <stddef.h>

/*
 * Schema migrations applied at start-up.
 *
 * A migration is a file `NNN_name.sql` in one directory: NNN a decimal
 * version (1 to 9 digits, leading zeros allowed, 0 not), name made of
 * [A-Za-z0-9_-]. Other files not ending in `.sql`, and hidden files, are
 * ignored. Versions are applied in numeric order, each file in its own
 * transaction together with its row in
 *   schema_migrations(version integer primary key, name text,
 *                     checksum text, applied_at timestamptz)
 * (created when missing, in the connection's search_path), so a file is
 * applied entirely or not at all. A file must therefore not contain
 * transaction control (BEGIN, COMMIT) nor statements that cannot run in a
 * transaction (CREATE INDEX CONCURRENTLY); a file that ends the transaction
 * is reported as an error. The checksum is the SHA-256 of the file's bytes.
 */

/*
 * Applies the pending migrations of dir to the database at conninfo
 * (borrowed, never logged). `service` (borrowed) names the lock and is the
 * connection's application_name.
 *
 * Waits for the database to accept connections for up to 30 seconds, then
 * holds a PostgreSQL advisory lock derived from the service name for the
 * whole run, so replicas starting together apply each file once. Applied
 * versions are skipped; before anything is applied, every applied version
 * whose file is present must still have the same checksum. Logs each
 * applied file.
 *
 * Returns 0 when the schema is up to date; SHOP_EINVAL (logged, naming the
 * file) when dir cannot be read, a file name is malformed, two files share
 * a version, or an applied file was changed, in which case nothing is
 * applied; SHOP_ERR (logged with the server's message and line) when a
 * migration fails: that file is rolled back, those before it stay applied,
 * those after it are not tried; SHOP_EUNAVAIL when the database did not
 * come up in time or the connection broke; SHOP_ENOMEM.
 */
int migrate_run(const char *conninfo, const char *dir, const char *service);

/* migrate_run() with the wait for the database bounded by wait_ms
 * instead of 30 s (for tests). */
int migrate__run(const char *conninfo, const char *dir, const char *service,
                 int wait_ms);

/*
 * Migrations compiled into a module of the shared library that owns a
 * table in the services' databases (the outbox): services do not copy its
 * DDL, and the module upgrades its schema itself.
 */
struct migrate__embedded {
	long version;     /* >= 1, increasing along the array */
	const char *name; /* [A-Za-z0-9_-], e.g. "create_outbox" */
	const char *sql;  /* same rules as a file: no BEGIN/COMMIT */
};

/*
 * Applies the embedded migrations m[0..n) exactly as migrate_run() applies
 * files (each in its own transaction with its row, checksummed, under the
 * same advisory lock for `service`, waiting up to wait_ms for the
 * database), but tracked in their own table `table` (a plain lowercase
 * identifier, e.g. "outbox_schema_migrations", created with the columns
 * of schema_migrations), so a module's versions never mix with the
 * service's own. `module` (e.g. "outbox") names them in log lines
 * ("outbox/001_create_outbox"). All strings are borrowed. Returns as
 * migrate_run().
 */
int migrate__run_embedded(const char *conninfo, const char *service,
                          const char *table, const char *module,
                          const struct migrate__embedded *m, size_t n,
                          int wait_ms);

#endif
