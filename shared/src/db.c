#include "shop/db.h"
#include "pg_common.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 5000
#define DB_PING_WAIT_MS   1000

/*
 * Registered statements form a list that only grows at its head, and a node
 * never changes once published: a thread that read the head and the count
 * under the lock can walk that snapshot without it.
 */
struct db_stmt {
	struct db_stmt *next;
	char *name;
	char *sql;
};

struct db_conn {
	struct db_pool *pool;
	PGconn *pg;       /* NULL while disconnected */
	size_t nprepared; /* statements of the list prepared on pg */
	bool busy;        /* under pool->lock */
	bool up;          /* pg != NULL, as seen under pool->lock */
	char constraint[64];
};

struct db_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	char *conninfo;
	char *name;
	char *app;
	char label[160]; /* db="<name>", escaped */
	int size;
	int connect_timeout_s;
	int acquire_timeout_ms;
	int statement_timeout_ms;
	struct db_conn *conns;

	/* Under lock. */
	int in_use;
	int connected;
	struct db_stmt *stmts;
	size_t nstmts;
	bool started;
	bool down;            /* the last connection attempt failed */
	uint64_t retry_at_ns; /* no new attempt before this while down */
	unsigned backoff_ms;
	unsigned long long acquire_timeouts;
};

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

static void deadline_after(struct timespec *ts, int ms)
{
	shop_deadline_after_ms(CLOCK_MONOTONIC, ms, ts);
}

int db_pool_new(const struct db_pool_options *opt, struct db_pool **out)
{
	struct db_pool *p = NULL;
	pthread_condattr_t ca;
	bool lock_ok = false, cond_ok = false;
	int rc = SHOP_ENOMEM;

	if (!opt || !opt->conninfo || opt->size < 1 || opt->size > 1024 ||
	    opt->connect_timeout_s < 0 || opt->acquire_timeout_ms < 0 ||
	    opt->statement_timeout_ms < 0)
		return SHOP_EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto fail;
	p->conninfo = xstrdup(opt->conninfo);
	p->name = xstrdup(opt->name ? opt->name : "database");
	p->app = opt->application_name ? xstrdup(opt->application_name) : NULL;
	p->conns = calloc((size_t)opt->size, sizeof(*p->conns));
	if (!p->conninfo || !p->name || (opt->application_name && !p->app) ||
	    !p->conns)
		goto fail;
	p->size = opt->size;
	p->connect_timeout_s =
	        opt->connect_timeout_s ? opt->connect_timeout_s : 5;
	p->acquire_timeout_ms =
	        opt->acquire_timeout_ms ? opt->acquire_timeout_ms : 5000;
	p->statement_timeout_ms = opt->statement_timeout_ms;
	p->backoff_ms = DB_BACKOFF_MIN_MS;
	for (int i = 0; i < p->size; i++)
		p->conns[i].pool = p;
	{
		char esc[128];

		metrics_escape_label(esc, sizeof(esc), p->name);
		snprintf(p->label, sizeof(p->label), "db=\"%s\"", esc);
	}

	rc = SHOP_ERR;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		goto fail;
	lock_ok = true;
	if (pthread_condattr_init(&ca) != 0)
		goto fail;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(&p->freed, &ca) == 0)
		cond_ok = true;
	pthread_condattr_destroy(&ca);
	if (!cond_ok)
		goto fail;

	*out = p;
	return 0;

fail:
	if (p) {
		if (lock_ok)
			pthread_mutex_destroy(&p->lock);
		free(p->conns);
		free(p->app);
		free(p->name);
		free(p->conninfo);
		free(p);
	}
	return rc;
}

void db_pool_free(struct db_pool *pool)
{
	struct db_stmt *s, *next;

	if (!pool)
		return;
	if (pool->in_use != 0)
		BUG("db_pool_free('%s') with %d connections still acquired",
		    pool->name, pool->in_use);
	for (int i = 0; i < pool->size; i++)
		PQfinish(pool->conns[i].pg);
	for (s = pool->stmts; s; s = next) {
		next = s->next;
		free(s->name);
		free(s->sql);
		free(s);
	}
	pthread_cond_destroy(&pool->freed);
	pthread_mutex_destroy(&pool->lock);
	free(pool->conns);
	free(pool->app);
	free(pool->name);
	free(pool->conninfo);
	free(pool);
}

/* ---- error mapping ---- */

static bool sqlstate_is_unavailable(const char *st)
{
	return strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 ||
	       strcmp(st, "57P02") == 0 || strcmp(st, "57P03") == 0 ||
	       strcmp(st, "53300") == 0;
}

/* Maps a failed result (res may be NULL) and logs what deserves it. */
static int map_failure(struct db_conn *c, const PGresult *res, const char *what)
{
	struct db_pool *p = c->pool;
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[512];
	const char *primary =
	        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	c->constraint[0] = '\0';
	/* The primary message only: the full one can quote the statement and
	 * its parameters. */
	pg__one_line(msg, sizeof(msg),
	             primary ? primary : PQerrorMessage(c->pg));
	if (PQstatus(c->pg) == CONNECTION_BAD ||
	    (st && sqlstate_is_unavailable(st))) {
		slog_warn("lost connection to '%s' during %s: %s", p->name,
		          what, msg);
		return SHOP_EUNAVAIL;
	}
	if (!res)
		return SHOP_ENOMEM;
	if (st && strcmp(st, "23505") == 0) {
		const char *cn =
		        PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

		snprintf(c->constraint, sizeof(c->constraint), "%s",
		         cn ? cn : "");
		slog_debug("%s on '%s': unique violation on '%s'", what,
		           p->name, c->constraint);
		return SHOP_ECONFLICT;
	}
	if (st && (strcmp(st, "57014") == 0 || strcmp(st, "55P03") == 0)) {
		slog_warn("%s on '%s' timed out: %s", what, p->name, msg);
		return SHOP_ETIMEDOUT;
	}
	slog_error("%s failed on '%s': %s %s", what, p->name, st ? st : "-",
	           msg);
	return SHOP_ERR;
}

/* Takes ownership of res. */
static int finish(struct db_conn *c, PGresult *res, const char *what,
                  PGresult **out)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int rc;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
	    st == PGRES_EMPTY_QUERY) {
		c->constraint[0] = '\0';
		if (out)
			*out = res;
		else
			PQclear(res);
		return 0;
	}
	if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR)
		rc = map_failure(c, res, what);
	else {
		/* COPY and friends are not for these helpers: leave the
		 * connection in a state release will not reuse. */
		slog_error("%s on '%s': unexpected result %s", what,
		           c->pool->name, PQresStatus(st));
		rc = SHOP_ERR;
	}
	PQclear(res);
	return rc;
}

/* ---- connecting ---- */

static void conn_close(struct db_conn *c)
{
	PQfinish(c->pg);
	c->pg = NULL;
	c->nprepared = 0;
}

/* Opens c->pg. Returns 0, SHOP_EUNAVAIL (message in err) or SHOP_ENOMEM. */
static int conn_open(struct db_pool *p, struct db_conn *c, char *err,
                     size_t cap)
{
	const char *keys[4], *vals[4];
	char timeout[16];
	PGconn *pg;
	int n = 0, rc;

	snprintf(timeout, sizeof(timeout), "%d", p->connect_timeout_s);
	/* dbname first: with expand_dbname the later keywords override it. */
	keys[n] = "dbname", vals[n++] = p->conninfo;
	keys[n] = "connect_timeout", vals[n++] = timeout;
	if (p->app)
		keys[n] = "application_name", vals[n++] = p->app;
	keys[n] = NULL, vals[n] = NULL;

	pg = PQconnectdbParams(keys, vals, 1);
	if (!pg)
		return SHOP_ENOMEM;
	if (PQstatus(pg) != CONNECTION_OK) {
		pg__one_line(err, cap, PQerrorMessage(pg));
		rc = SHOP_EUNAVAIL;
		goto close_pg;
	}
	PQsetNoticeProcessor(pg, pg__notice_to_log, p->name);
	if (p->statement_timeout_ms > 0) {
		char sql[64];
		PGresult *res;

		snprintf(sql, sizeof(sql), "SET statement_timeout = %d",
		         p->statement_timeout_ms);
		res = PQexec(pg, sql);
		rc = res && PQresultStatus(res) == PGRES_COMMAND_OK
		             ? 0
		             : SHOP_EUNAVAIL;
		if (rc)
			pg__one_line(err, cap, PQerrorMessage(pg));
		PQclear(res);
		if (rc)
			goto close_pg;
	}
	c->pg = pg;
	c->nprepared = 0;
	return 0;

close_pg:
	PQfinish(pg);
	return rc;
}

/*
 * Prepares the statements of the snapshot (head, n) that c lacks: the
 * n - c->nprepared newest ones. Returns 0, SHOP_EUNAVAIL, or SHOP_ERR /
 * SHOP_EINVAL (bad statement, logged; rc_bad says which).
 */
static int conn_catch_up(struct db_conn *c, const struct db_stmt *head,
                         size_t n, int rc_bad)
{
	size_t missing = n - c->nprepared;
	int rc = 0;

	for (const struct db_stmt *s = head; s && missing > 0;
	     s = s->next, missing--) {
		PGresult *res = PQprepare(c->pg, s->name, s->sql, 0, NULL);
		char what[160];

		if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(what, sizeof(what), "preparing '%s'", s->name);
			rc = map_failure(c, res, what);
			if (rc != SHOP_EUNAVAIL && rc != SHOP_ENOMEM)
				rc = rc_bad;
			PQclear(res);
			return rc;
		}
		PQclear(res);
	}
	c->nprepared = n;
	return 0;
}

/*
 * An idle connection the server closed (restart, terminated backend) is
 * readable: a FATAL message, then EOF. Reading it now, without blocking,
 * notices the loss on acquire rather than on the caller's query.
 */
static bool conn_alive(PGconn *pg)
{
	for (int i = 0; i < 4; i++) {
		struct pollfd pfd = {.fd = PQsocket(pg), .events = POLLIN};

		if (PQstatus(pg) == CONNECTION_BAD || pfd.fd < 0)
			return false;
		if (poll(&pfd, 1, 0) <= 0)
			return true;
		if (!PQconsumeInput(pg))
			return false;
	}
	return PQstatus(pg) != CONNECTION_BAD;
}

/* After a failed connection attempt: back off, and log the transition
 * once (later failures at debug level). */
static void mark_down(struct db_pool *p, const char *err)
{
	bool was_up;

	pthread_mutex_lock(&p->lock);
	was_up = !p->down;
	p->down = true;
	p->retry_at_ns = shop_now_ns() + (uint64_t)p->backoff_ms * 1000000u;
	p->backoff_ms = p->backoff_ms * 2 > DB_BACKOFF_MAX_MS
	                        ? DB_BACKOFF_MAX_MS
	                        : p->backoff_ms * 2;
	pthread_mutex_unlock(&p->lock);
	if (was_up)
		slog_error("cannot connect to '%s': %s", p->name, err);
	else
		slog_debug("still cannot connect to '%s': %s", p->name, err);
}

/* Under p->lock. */
static void give_back_locked(struct db_pool *p, struct db_conn *c)
{
	if (c->up && !c->pg) {
		c->up = false;
		p->connected--;
	}
	c->busy = false;
	p->in_use--;
	pthread_cond_signal(&p->freed);
}

static void count_timeout(struct db_pool *p)
{
	metric_add(
	        metrics_counter(
	                "db_pool_acquire_timeouts_total",
	                "Times no pooled database connection was free in time.",
	                p->label),
	        1);
}

/*
 * The acquire behind db_acquire() and db_pool_ping(). Returns 0, SHOP_EUNAVAIL,
 * SHOP_ETIMEDOUT (no free connection within wait_ms) or SHOP_ERR.
 */
static int acquire(struct db_pool *p, int wait_ms, struct db_conn **out)
{
	struct db_conn *c = NULL;
	const struct db_stmt *head;
	struct timespec deadline;
	size_t nstmts;
	bool need_connect;
	char err[512];
	int rc;

	deadline_after(&deadline, wait_ms);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct db_conn *idle_down = NULL;

		for (int i = 0; i < p->size && !c; i++) {
			if (p->conns[i].busy)
				continue;
			if (p->conns[i].up)
				c = &p->conns[i];
			else if (!idle_down)
				idle_down = &p->conns[i];
		}
		if (!c)
			c = idle_down;
		if (c)
			break;
		rc = pthread_cond_timedwait(&p->freed, &p->lock, &deadline);
		if (rc == ETIMEDOUT) {
			p->acquire_timeouts++;
			pthread_mutex_unlock(&p->lock);
			return SHOP_ETIMEDOUT;
		}
	}
	need_connect = !c->up;
	if (need_connect && p->down && shop_now_ns() < p->retry_at_ns) {
		/* Backing off: fail fast rather than hammer a dead server. */
		pthread_mutex_unlock(&p->lock);
		return SHOP_EUNAVAIL;
	}
	if (need_connect && p->down)
		p->retry_at_ns =
		        shop_now_ns() + (uint64_t)p->backoff_ms * 1000000u;
	c->busy = true;
	p->in_use++;
	head = p->stmts;
	nstmts = p->nstmts;
	pthread_mutex_unlock(&p->lock);

	if (!need_connect && !conn_alive(c->pg)) {
		pg__one_line(err, sizeof(err), PQerrorMessage(c->pg));
		slog_info("connection to '%s' was closed, reconnecting: %s",
		          p->name, err);
		conn_close(c);
		need_connect = true;
	}
	if (need_connect) {
		bool was_down;

		rc = conn_open(p, c, err, sizeof(err));
		if (rc == SHOP_EUNAVAIL)
			mark_down(p, err);
		pthread_mutex_lock(&p->lock);
		if (rc) {
			give_back_locked(p, c);
			pthread_mutex_unlock(&p->lock);
			return rc;
		}
		if (!c->up) {
			c->up = true;
			p->connected++;
		}
		was_down = p->down;
		p->down = false;
		p->backoff_ms = DB_BACKOFF_MIN_MS;
		pthread_mutex_unlock(&p->lock);
		if (was_down)
			slog_info("reconnected to '%s'", p->name);
	}
	if (c->nprepared < nstmts) {
		rc = conn_catch_up(c, head, nstmts, SHOP_ERR);
		if (rc) {
			/* Some statements may be prepared: start over next
			 * time. */
			conn_close(c);
			db_release(c);
			return rc;
		}
	}
	*out = c;
	return 0;
}

int db_acquire(struct db_pool *pool, struct db_conn **out)
{
	int rc = acquire(pool, pool->acquire_timeout_ms, out);

	if (rc == SHOP_ETIMEDOUT) {
		slog_warn("no free connection to '%s' after %d ms (pool of %d)",
		          pool->name, pool->acquire_timeout_ms, pool->size);
		count_timeout(pool);
		rc = SHOP_EUNAVAIL;
	}
	return rc;
}

void db_release(struct db_conn *c)
{
	struct db_pool *p;

	if (!c)
		return;
	p = c->pool;
	if (c->pg && PQstatus(c->pg) != CONNECTION_BAD) {
		switch (PQtransactionStatus(c->pg)) {
		case PQTRANS_IDLE:
			break;
		case PQTRANS_INTRANS:
		case PQTRANS_INERROR: {
			PGresult *res = PQexec(c->pg, "ROLLBACK");

			slog_debug(
			        "rolled back a transaction left open on '%s'",
			        p->name);
			if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
				conn_close(c);
			PQclear(res);
			break;
		}
		default: /* a query in flight or unknown: not reusable */
			conn_close(c);
			break;
		}
	} else if (c->pg) {
		conn_close(c);
	}
	pthread_mutex_lock(&p->lock);
	give_back_locked(p, c);
	pthread_mutex_unlock(&p->lock);
}

int db_pool_prepare(struct db_pool *pool, const char *name, const char *sql)
{
	struct db_stmt *s = NULL;
	struct db_conn *c = NULL;
	bool started;
	int rc;

	if (!name || !*name || !sql)
		BUG("db_pool_prepare needs a name and SQL");

	pthread_mutex_lock(&pool->lock);
	for (s = pool->stmts; s; s = s->next) {
		if (strcmp(s->name, name) != 0)
			continue;
		if (strcmp(s->sql, sql) != 0)
			BUG("statement '%s' registered twice with different "
			    "SQL",
			    name);
		pthread_mutex_unlock(&pool->lock);
		return 0;
	}
	started = pool->started;
	pthread_mutex_unlock(&pool->lock);

	if (started) {
		/* Check the SQL as an unnamed statement before registering it,
		 * so a bad one never reaches the list every connection
		 * prepares. */
		PGresult *res;
		char what[160];

		rc = db_acquire(pool, &c);
		if (rc)
			goto register_it;
		res = PQprepare(c->pg, "", sql, 0, NULL);
		if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(what, sizeof(what), "preparing '%s'", name);
			rc = map_failure(c, res, what);
			PQclear(res);
			if (rc != SHOP_EUNAVAIL && rc != SHOP_ENOMEM) {
				rc = SHOP_EINVAL;
				goto release;
			}
			goto register_it;
		}
		PQclear(res);
	}
	rc = 0;

register_it:
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = xstrdup(name)) || !(s->sql = xstrdup(sql))) {
		if (s) {
			free(s->name);
			free(s);
		}
		rc = SHOP_ENOMEM;
		goto release;
	}
	pthread_mutex_lock(&pool->lock);
	for (struct db_stmt *o = pool->stmts; o; o = o->next) {
		if (strcmp(o->name, name) == 0) {
			/* Lost a race with the same registration. */
			if (strcmp(o->sql, sql) != 0)
				BUG("statement '%s' registered twice with "
				    "different SQL",
				    name);
			free(s->name);
			free(s->sql);
			free(s);
			s = NULL;
			break;
		}
	}
	if (s) {
		s->next = pool->stmts;
		pool->stmts = s;
		pool->nstmts++;
	}
	pthread_mutex_unlock(&pool->lock);

release:
	db_release(c);
	return rc;
}

int db_pool_start(struct db_pool *pool)
{
	const struct db_stmt *head;
	size_t nstmts;
	char err[512];
	int rc = 0;

	pthread_mutex_lock(&pool->lock);
	pool->started = true;
	head = pool->stmts;
	nstmts = pool->nstmts;
	if (pool->in_use != 0)
		BUG("db_pool_start('%s') with connections acquired",
		    pool->name);
	pool->in_use = pool->size; /* keep acquirers out while connecting */
	for (int i = 0; i < pool->size; i++)
		pool->conns[i].busy = true;
	pthread_mutex_unlock(&pool->lock);

	for (int i = 0; i < pool->size && rc == 0; i++) {
		struct db_conn *c = &pool->conns[i];

		if (!c->pg) {
			rc = conn_open(pool, c, err, sizeof(err));
			if (rc == SHOP_EUNAVAIL)
				mark_down(pool, err);
			if (rc)
				break;
		}
		rc = conn_catch_up(c, head, nstmts, SHOP_EINVAL);
		if (rc)
			conn_close(c);
	}

	pthread_mutex_lock(&pool->lock);
	pool->connected = 0;
	for (int i = 0; i < pool->size; i++) {
		pool->conns[i].busy = false;
		pool->conns[i].up = pool->conns[i].pg != NULL;
		pool->connected += pool->conns[i].up;
	}
	pool->in_use = 0;
	if (rc == 0) {
		pool->down = false;
		pool->backoff_ms = DB_BACKOFF_MIN_MS;
	}
	pthread_cond_broadcast(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
	if (rc == 0)
		slog_info("connected to '%s' with %d connections", pool->name,
		          pool->size);
	return rc;
}

int db_pool_ping(struct db_pool *pool)
{
	struct db_conn *c = NULL;
	int wait = pool->acquire_timeout_ms < DB_PING_WAIT_MS
	                   ? pool->acquire_timeout_ms
	                   : DB_PING_WAIT_MS;
	int rc = acquire(pool, wait, &c);

	if (rc == SHOP_ETIMEDOUT) {
		bool busy_but_up;

		pthread_mutex_lock(&pool->lock);
		busy_but_up = pool->connected > 0 && !pool->down;
		pthread_mutex_unlock(&pool->lock);
		return busy_but_up ? 0 : SHOP_EUNAVAIL;
	}
	if (rc)
		return rc;
	rc = finish(c, PQexec(c->pg, "SELECT 1"), "ping", NULL);
	db_release(c);
	return rc;
}

/* ---- statements ---- */

int db_exec(struct db_conn *c, const char *stmt, int nparams,
            const char *const *params, PGresult **out)
{
	char what[160];

	snprintf(what, sizeof(what), "statement '%s'", stmt);
	return finish(
	        c, PQexecPrepared(c->pg, stmt, nparams, params, NULL, NULL, 0),
	        what, out);
}

int db_pool_exec(struct db_pool *pool, const char *stmt, int nparams,
                 const char *const *params, PGresult **out)
{
	struct db_conn *c;
	int rc = db_acquire(pool, &c);

	if (rc)
		return rc;
	rc = db_exec(c, stmt, nparams, params, out);
	db_release(c);
	return rc;
}

int db_query(struct db_conn *c, const char *sql, int nparams,
             const char *const *params, PGresult **out)
{
	char what[160];
	PGresult *res;

	snprintf(what, sizeof(what), "query '%.80s'", sql);
	if (nparams == 0)
		res = PQexec(c->pg, sql);
	else
		res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL,
		                   NULL, 0);
	return finish(c, res, what, out);
}

int db_begin(struct db_conn *c)
{
	return db_query(c, "BEGIN", 0, NULL, NULL);
}

int db_commit(struct db_conn *c)
{
	PGresult *res = NULL;
	int rc = db_query(c, "COMMIT", 0, NULL, &res);

	if (rc)
		return rc;
	/* COMMIT of a failed transaction "succeeds" with the tag ROLLBACK. */
	if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		slog_error("commit on '%s' rolled back: a statement of the "
		           "transaction had failed",
		           c->pool->name);
		rc = SHOP_ERR;
	}
	PQclear(res);
	return rc;
}

int db_rollback(struct db_conn *c)
{
	return db_query(c, "ROLLBACK", 0, NULL, NULL);
}

const char *db_conflict_constraint(const struct db_conn *c)
{
	return c->constraint;
}

PGconn *db_conn_pg(struct db_conn *c)
{
	return c->pg;
}

/* ---- stats ---- */

void db_pool_get_stats(struct db_pool *pool, struct db_pool_stats *out)
{
	pthread_mutex_lock(&pool->lock);
	out->size = pool->size;
	out->in_use = pool->in_use;
	out->connected = pool->connected;
	out->acquire_timeouts = pool->acquire_timeouts;
	pthread_mutex_unlock(&pool->lock);
}

void db_pool_metrics_hook(void *arg)
{
	struct db_pool *pool = arg;
	struct db_pool_stats st;

	db_pool_get_stats(pool, &st);
	metric_set(metrics_gauge("db_pool_size",
	                         "Connections in the database pool.",
	                         pool->label),
	           st.size);
	metric_set(
	        metrics_gauge("db_pool_in_use",
	                      "Database pool connections acquired right now.",
	                      pool->label),
	        st.in_use);
	metric_set(metrics_gauge("db_pool_connected",
	                         "Database pool connections with an open "
	                         "server connection.",
	                         pool->label),
	           st.connected);
}

int db_pool_prepare_all(struct db_pool *pool, const char *const (*stmts)[2],
                        size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = db_pool_prepare(pool, stmts[i][0], stmts[i][1]);

		if (rc && rc != SHOP_EUNAVAIL && rc != SHOP_ETIMEDOUT)
			return rc;
	}
	return 0;
}
