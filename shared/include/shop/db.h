#ifndef SHOP_DB_H
#define SHOP_DB_H

#include <libpq-fe.h>
#include <stddef.h>

/*
 * A pool of PostgreSQL connections on libpq (kore's pgsql pool, pgbouncer's
 * idea of a fixed set of server connections). The caller sizes it to its
 * HTTP worker threads so a worker never waits for a connection under normal
 * load. Statements registered with db_pool_prepare() are prepared on every
 * connection when it (re)connects, so hot queries always run as prepared
 * statements through db_exec().
 *
 * A connection that breaks is closed on release (or noticed on acquire) and
 * reconnected by the next acquire that gets its slot. When connecting fails,
 * the pool backs off (100 ms doubling to 5 s): until the next attempt is
 * due, an acquire that would have to connect fails at once with
 * SHOP_EUNAVAIL instead of waiting, so a daemon answers 503 fast while its
 * database is down. The down and up transitions are logged once each.
 *
 * Thread-safety: the pool is thread-safe. A struct db_conn belongs to the
 * thread that acquired it until db_release().
 *
 * Errors from the database map to shop_err codes the same way everywhere:
 *   unique_violation (23505)                       SHOP_ECONFLICT
 *   query_canceled (57014: statement_timeout),
 *   lock_not_available (55P03: lock_timeout)       SHOP_ETIMEDOUT
 *   connection failures (class 08, 57P01-57P03,
 *   53300, a broken connection)                    SHOP_EUNAVAIL
 *   anything else                                  SHOP_ERR, logged
 * Conninfo strings are never logged (they may hold a password).
 */

struct db_pool;
struct db_conn;

struct db_pool_options {
	/* libpq connection string or URI. Copied; never logged. */
	const char *conninfo;
	/* Database name for log lines and the metrics label, e.g.
	 * "product_db". Copied. NULL means "database". */
	const char *name;
	/* application_name shown in pg_stat_activity, normally the service
	 * ("product"). Copied. NULL leaves libpq's default. */
	const char *application_name;
	/* Number of connections, >= 1. */
	int size;
	/* Seconds libpq may spend connecting (libpq's minimum is 2).
	 * 0 means 5. */
	int connect_timeout_s;
	/* How long db_acquire() waits for a free connection. 0 means 5000. */
	int acquire_timeout_ms;
	/* statement_timeout set on every connection; 0 keeps the server's. */
	int statement_timeout_ms;
};

/*
 * Creates a pool; connects nothing yet (db_pool_start() or the first
 * db_acquire() does). Returns 0 and *out (caller frees with db_pool_free()),
 * SHOP_EINVAL when opt->conninfo is NULL or a number is out of range, or
 * SHOP_ENOMEM.
 */
int db_pool_new(const struct db_pool_options *opt, struct db_pool **out);

/*
 * Closes every connection and frees the pool. Accepts NULL. Every acquired
 * connection must have been released (BUG() otherwise), and nothing may use
 * the pool afterwards, including a metrics hook registered for it: stop the
 * HTTP server first.
 */
void db_pool_free(struct db_pool *pool);

/*
 * Registers the prepared statement `name` (copied) for `sql` (copied). Each
 * connection prepares it when it (re)connects, or on its next acquire if it
 * is already connected. Before db_pool_start() this only records it and
 * db_pool_start() reports a bad statement; after, the SQL is checked on a
 * connection at once. Registering the same name with the same SQL again is
 * a no-op; with different SQL it is a BUG().
 * Returns 0; SHOP_EINVAL when the server rejects the SQL (logged with the
 * server's message); an error of db_acquire() when no connection could
 * check it (the statement stays registered and is checked wherever it is
 * prepared); or SHOP_ENOMEM.
 */
int db_pool_prepare(struct db_pool *pool, const char *name, const char *sql);

/*
 * db_pool_prepare() for each of n {name, sql} pairs, the table a
 * repository keeps. A pair that could not be checked for want of a
 * connection (SHOP_EUNAVAIL / SHOP_ETIMEDOUT: it stays registered) does
 * not stop the rest. Returns 0, or the first other error (SHOP_EINVAL,
 * SHOP_ENOMEM).
 */
int db_pool_prepare_all(struct db_pool *pool, const char *const (*stmts)[2],
                        size_t n);

/*
 * Connects every connection and prepares every registered statement, so a
 * daemon fails at start rather than on its first request. Returns 0,
 * SHOP_EUNAVAIL when the database cannot be reached (logged; the pool stays
 * usable and reconnects lazily), or SHOP_EINVAL when a registered statement
 * does not prepare (logged with its name and the server's message).
 */
int db_pool_start(struct db_pool *pool);

/*
 * For /ready: runs SELECT 1 on a connection. When every connection is busy
 * and the pool is connected, that counts as ready (the database is
 * answering someone) after at most a second of waiting. Returns 0,
 * SHOP_EUNAVAIL or SHOP_ETIMEDOUT.
 */
int db_pool_ping(struct db_pool *pool);

/*
 * Takes a connection, waiting up to the pool's acquire timeout for one to
 * be free, connecting or reconnecting it if needed (and preparing the
 * registered statements). Returns 0 and *out (borrowed from the pool until
 * db_release()), SHOP_EUNAVAIL when no connection was free in time or the
 * database cannot be reached, or SHOP_ERR when a registered statement no
 * longer prepares (logged).
 */
int db_acquire(struct db_pool *pool, struct db_conn **out);

/*
 * Gives the connection back. Rolls back a transaction left open (the error
 * paths of a caller need no explicit db_rollback()), and closes a broken
 * connection so the next acquire reconnects it. Accepts NULL.
 */
void db_release(struct db_conn *c);

/*
 * Executes the registered prepared statement `stmt` with nparams text
 * parameters (a NULL entry is SQL NULL; params may be NULL when nparams is
 * 0). Returns 0 and, when out is not NULL, *out (caller frees with
 * PQclear()); or a mapped error (see the top of this file), *out untouched.
 */
int db_exec(struct db_conn *c, const char *stmt, int nparams,
            const char *const *params, PGresult **out);

/*
 * db_exec() on a connection of the pool: acquires one (db_acquire()), runs
 * the prepared statement, releases it. For the one-statement calls that
 * need no transaction. Returns what db_acquire() or db_exec() returns.
 */
int db_pool_exec(struct db_pool *pool, const char *stmt, int nparams,
                 const char *const *params, PGresult **out);

/*
 * Like db_exec() for a one-off SQL text that is not worth preparing (DDL,
 * admin queries). With nparams 0 it uses the simple query protocol, so sql
 * may hold several statements; with parameters it holds exactly one.
 */
int db_query(struct db_conn *c, const char *sql, int nparams,
             const char *const *params, PGresult **out);

/*
 * Transactions. db_commit() returns SHOP_ERR (logged) when the server
 * rolled back instead because a statement of the transaction had failed.
 * Each returns 0 or a mapped error.
 */
int db_begin(struct db_conn *c);
int db_commit(struct db_conn *c);
int db_rollback(struct db_conn *c);

/*
 * Name of the constraint behind the last SHOP_ECONFLICT on this connection
 * (which unique key was taken), or "" when unknown. Borrowed; valid until
 * the next call on the connection.
 */
const char *db_conflict_constraint(const struct db_conn *c);

/* The libpq connection, borrowed while the connection is acquired, for
 * what the helpers above do not cover (escaping, COPY). */
PGconn *db_conn_pg(struct db_conn *c);

struct db_pool_stats {
	int size;      /* connections in the pool */
	int in_use;    /* acquired right now */
	int connected; /* with an open server connection */
	unsigned long long acquire_timeouts; /* since creation */
};

/* Fills *out with a consistent snapshot. */
void db_pool_get_stats(struct db_pool *pool, struct db_pool_stats *out);

/*
 * A metrics_on_render() hook: sets the gauges db_pool_size,
 * db_pool_in_use and db_pool_connected labelled db="<name>". Register it
 * with metrics_on_render(db_pool_metrics_hook, pool); the pool must then
 * outlive rendering. (Acquire timeouts are counted as they happen in
 * db_pool_acquire_timeouts_total{db="<name>"}.)
 */
void db_pool_metrics_hook(void *pool);

#endif
