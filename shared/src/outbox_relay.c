#define _GNU_SOURCE /* pipe2 */
#include "shop/outbox.h"

#include "shop/amqp.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include "pg_common.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * The outbox relay: a thread with its own PostgreSQL connection (LISTEN
 * outbox) and its own AMQP connection, publishing the rows outbox_add()
 * (outbox.c) inserted, in id order, with publisher confirms.
 */

/* The relay's statements, prepared on its own connection. */
#define STMT_TAKE "shop_outbox_take"
#define SQL_TAKE                                                               \
	"SELECT id, event_id, event_type, payload, correlation_id, "           \
	"traceparent, extract(epoch FROM created_at)::bigint "                 \
	"FROM outbox WHERE published_at IS NULL "                              \
	"AND (retry_at IS NULL OR retry_at <= now()) "                         \
	"ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED"
#define STMT_DONE "shop_outbox_done"
#define SQL_DONE                                                               \
	"UPDATE outbox SET published_at = now(), attempts = attempts + 1, "    \
	"retry_at = NULL, last_error = NULL WHERE id = ANY($1::bigint[])"
/* 1 s after the first failure, doubling to a minute. */
#define STMT_FAILED "shop_outbox_failed"
#define SQL_FAILED                                                             \
	"UPDATE outbox SET attempts = attempts + 1, last_error = $2::text, "   \
	"retry_at = now() + least(60, 2 ^ least(attempts, 6)) "                \
	"* interval '1 second' WHERE id = ANY($1::bigint[])"
#define STMT_BACKLOG "shop_outbox_backlog"
#define SQL_BACKLOG  "SELECT count(*) FROM outbox WHERE published_at IS NULL"
#define STMT_PURGE   "shop_outbox_purge"
#define SQL_PURGE                                                              \
	"DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "               \
	"WHERE published_at < now() - $1::int * interval '1 second' "          \
	"ORDER BY published_at LIMIT 5000)"

#define BACKOFF_MIN_MS       100
#define BACKOFF_MAX_MS       5000
#define PG_CONNECT_TIMEOUT_S "2"
#define AMQP_CONNECT_MS      2000
#define AMQP_RPC_MS          5000
#define BACKLOG_EVERY_NS     1000000000ull
#define PURGE_EVERY_NS       (600ull * 1000000000ull)
#define PURGE_MAX_ROUNDS     20

/* synchronous_commit off: a relay's commit only marks rows published, and
 * one lost to a database crash publishes them again, which the consumers
 * drop as duplicates (EVENTS.md: at least once); no WAL flush is waited
 * for per batch. The rows themselves were committed durably by the
 * service's own transaction. */
#define PG_SESSION_SETUP                                                       \
	"SET statement_timeout = 5000; SET synchronous_commit = off"

/* One side (database or broker): its backoff and the logged state. */
struct link {
	const char *name; /* for log lines: the database or the broker */
	bool down;        /* the last attempt failed; logged once */
	bool ever_up;
	unsigned backoff_ms;
	uint64_t retry_at; /* no new attempt before (shop_now_ns) */
	uint64_t down_since;
};

struct outbox_relay {
	char *service;
	char *conninfo;
	char *amqp_url;
	char *conn_name; /* "<service> outbox relay" */
	char db_name[128];
	char broker[300];
	int batch_size;
	int poll_ms;
	int confirm_ms;
	int retention_s;

	pthread_t thread;
	int wake[2]; /* outbox_relay_free() writes to wake[1] */
	atomic_bool stop;
	atomic_bool amqp_up;

	/* Owned by the thread. */
	PGconn *pg;
	struct amqp_conn *mq;
	struct link pg_link, mq_link;
	uint64_t next_backlog, next_purge;

	struct metric *failures, *backlog, *connected;
};

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* A failed attempt or a lost connection: log the transition once. */
static void link_failed(struct link *l, bool lost, const char *err)
{
	uint64_t now = shop_now_ns();

	if (!l->down) {
		l->down = true;
		l->down_since = now;
		if (lost)
			slog_warn("outbox relay lost '%s': %s", l->name, err);
		else
			slog_error("cannot connect to '%s': %s", l->name, err);
	} else {
		slog_debug("outbox relay still cannot use '%s': %s", l->name,
		           err);
	}
	l->retry_at = now + (uint64_t)l->backoff_ms * 1000000u;
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
	                                                   : l->backoff_ms * 2;
}

static void link_up(struct link *l)
{
	if (!l->ever_up && !l->down)
		slog_info("outbox relay connected to '%s'", l->name);
	else if (l->down)
		slog_info("outbox relay reaches '%s' again after %.1f s",
		          l->name,
		          (double)(shop_now_ns() - l->down_since) / 1e9);
	l->down = false;
	l->ever_up = true;
	l->backoff_ms = BACKOFF_MIN_MS;
	l->retry_at = 0;
}

static void pg_close(struct outbox_relay *r)
{
	PQfinish(r->pg);
	r->pg = NULL;
}

static void mq_close(struct outbox_relay *r)
{
	amqp_conn_free(r->mq);
	r->mq = NULL;
	atomic_store(&r->amqp_up, false);
	metric_set(r->connected, 0);
}

/* The broker connection died or misbehaves: close it, back off, log the
 * transition once with the reason. */
static void mq_failed(struct outbox_relay *r, bool lost, const char *fallback)
{
	char why[320];
	const char *err = amqp_conn_error(r->mq);

	snprintf(why, sizeof(why), "%s", *err ? err : fallback);
	mq_close(r);
	link_failed(&r->mq_link, lost, why);
}

/* A failure on the database: drop the connection, back off. */
static void pg_failed(struct outbox_relay *r, const char *what)
{
	char err[512], msg[600];

	pg__one_line(err, sizeof(err), r->pg ? PQerrorMessage(r->pg) : "");
	if (strcmp(what, "connect") == 0) /* the message says it already */
		snprintf(msg, sizeof(msg), "%s", *err ? err : "failed");
	else
		snprintf(msg, sizeof(msg), "%s: %s", what,
		         *err ? err : "failed");
	pg_close(r);
	link_failed(&r->pg_link, r->pg_link.ever_up, msg);
}

/* Runs one statement on the relay's connection; takes and checks res. */
static int pg_ok(struct outbox_relay *r, PGresult *res, const char *what,
                 PGresult **out)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out)
			*out = res;
		else
			PQclear(res);
		return 0;
	}
	if (res && PQstatus(r->pg) != CONNECTION_BAD) {
		char err[512], msg[600];

		pg__one_line(err, sizeof(err), PQresultErrorMessage(res));
		snprintf(msg, sizeof(msg), "%s: %s", what, err);
		PQclear(res);
		pg_close(r);
		link_failed(&r->pg_link, r->pg_link.ever_up, msg);
		return SHOP_ERR;
	}
	PQclear(res);
	pg_failed(r, what);
	return SHOP_EUNAVAIL;
}

static int pg_connect(struct outbox_relay *r)
{
	static const struct {
		const char *name, *sql;
	} stmts[] = {
	        {STMT_TAKE, SQL_TAKE},     {STMT_DONE, SQL_DONE},
	        {STMT_FAILED, SQL_FAILED}, {STMT_BACKLOG, SQL_BACKLOG},
	        {STMT_PURGE, SQL_PURGE},
	};
	const char *keys[] = {
	        "dbname",           "connect_timeout",  "application_name",
	        "keepalives",       "keepalives_idle",  "keepalives_interval",
	        "keepalives_count", "tcp_user_timeout", NULL};
	char app[64];
	/* tcp_user_timeout: a statement whose bytes the server never
	 * acknowledges (its host gone) fails in 10 s, not in the kernel's
	 * 15 minutes of retransmissions, so a stop stays prompt. */
	const char *vals[] = {r->conninfo, PG_CONNECT_TIMEOUT_S,
	                      app,         "1",
	                      "10",        "5",
	                      "3",         "10000",
	                      NULL};

	snprintf(app, sizeof(app), "%s-outbox", r->service);
	r->pg = PQconnectdbParams(keys, vals, 1);
	if (!r->pg || PQstatus(r->pg) != CONNECTION_OK) {
		pg_failed(r, "connect");
		return SHOP_EUNAVAIL;
	}
	PQsetNoticeProcessor(r->pg, quiet_notice, NULL);
	if (pg_ok(r, PQexec(r->pg, PG_SESSION_SETUP), "set", NULL) ||
	    pg_ok(r, PQexec(r->pg, "LISTEN " OUTBOX_CHANNEL), "listen", NULL))
		return SHOP_EUNAVAIL;
	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		if (pg_ok(r,
		          PQprepare(r->pg, stmts[i].name, stmts[i].sql, 0,
		                    NULL),
		          "prepare", NULL))
			return SHOP_EUNAVAIL;
	return 0;
}

static int mq_connect(struct outbox_relay *r)
{
	struct amqp_conn_options opt = {.url = r->amqp_url,
	                                .name = r->conn_name,
	                                .connect_timeout_ms = AMQP_CONNECT_MS,
	                                .rpc_timeout_ms = AMQP_RPC_MS};
	char err[512];
	int rc = amqp_conn_open(&opt, &r->mq, err, sizeof(err));

	if (rc) {
		/* amqp_conn_open's message names the broker already */
		const char *why = strstr(err, "': ");

		r->mq = NULL;
		link_failed(&r->mq_link, false, why ? why + 3 : err);
		return rc;
	}
	rc = amqp_topology_declare(r->mq);
	if (rc) {
		mq_failed(r, false, "cannot declare the topology");
		return rc;
	}
	link_up(&r->mq_link);
	atomic_store(&r->amqp_up, true);
	metric_set(r->connected, 1);
	return 0;
}

/* Params of STMT_DONE / STMT_FAILED: "{1,2,3}". */
struct id_list {
	char *buf;
	size_t len, cap;
	int n;
};

static int id_list_add(struct id_list *l, const char *id)
{
	size_t need = l->len + strlen(id) + 3;

	if (need > l->cap) {
		size_t cap = need * 2 > 256 ? need * 2 : 256;
		char *grown = realloc(l->buf, cap);

		if (!grown)
			return SHOP_ENOMEM;
		l->buf = grown;
		l->cap = cap;
	}
	l->len += (size_t)snprintf(l->buf + l->len, l->cap - l->len, "%s%s",
	                           l->n ? "," : "{", id);
	l->n++;
	return 0;
}

static const char *id_list_close(struct id_list *l)
{
	snprintf(l->buf + l->len, l->cap - l->len, "}");
	return l->buf;
}

static void count_published(const char *event_type)
{
	char esc[300], labels[320];

	metrics_escape_label(esc, sizeof(esc), event_type);
	snprintf(labels, sizeof(labels), "event_type=\"%s\"", esc);
	metric_add(metrics_counter("events_published_total",
	                           "Events published to the broker and "
	                           "confirmed by it",
	                           labels),
	           1);
}

/*
 * One batch: takes up to batch_size pending rows, publishes them, waits
 * for the confirms, marks the acked ones published and the refused ones
 * for a retry, commits. Returns the number of rows taken, or a negative
 * error after which the failed side is closed.
 */
static int relay_batch(struct outbox_relay *r)
{
	char limit[16];
	const char *p[2];
	PGresult *rows = NULL;
	struct amqp_outgoing *msgs = NULL;
	struct id_list done = {0}, returned = {0}, nacked = {0};
	int n, prc, rc;

	snprintf(limit, sizeof(limit), "%d", r->batch_size);
	p[0] = limit;
	if (pg_ok(r, PQexec(r->pg, "BEGIN"), "begin", NULL))
		return SHOP_EUNAVAIL;
	if (pg_ok(r, PQexecPrepared(r->pg, STMT_TAKE, 1, p, NULL, NULL, 0),
	          "take pending rows", &rows))
		return SHOP_EUNAVAIL;
	n = PQntuples(rows);
	if (n == 0) {
		PQclear(rows);
		return pg_ok(r, PQexec(r->pg, "COMMIT"), "commit", NULL);
	}
	rc = SHOP_ENOMEM;
	msgs = calloc((size_t)n, sizeof(*msgs));
	if (!msgs)
		goto rollback;
	for (int i = 0; i < n; i++) {
		struct amqp_outgoing *m = &msgs[i];

		m->routing_key = PQgetvalue(rows, i, 2);
		m->type = m->routing_key;
		m->message_id = PQgetvalue(rows, i, 1);
		m->body = PQgetvalue(rows, i, 3);
		m->len = (size_t)PQgetlength(rows, i, 3);
		m->correlation_id =
		        PQgetisnull(rows, i, 4) ? NULL : PQgetvalue(rows, i, 4);
		m->traceparent =
		        PQgetisnull(rows, i, 5) ? NULL : PQgetvalue(rows, i, 5);
		m->app_id = r->service;
		m->timestamp =
		        (time_t)strtoll(PQgetvalue(rows, i, 6), NULL, 10);
	}

	prc = amqp_publish_batch(r->mq, msgs, (size_t)n, r->confirm_ms);
	for (int i = 0; i < n; i++) {
		const char *id = PQgetvalue(rows, i, 0);
		int arc = 0;

		switch (msgs[i].result) {
		case AMQP_ACKED:
			arc = id_list_add(&done, id);
			break;
		case AMQP_RETURNED:
			arc = id_list_add(&returned, id);
			break;
		case AMQP_NACKED:
			slog_kv(SLOG_WARN, NULL,
			        "event refused by the broker (nack); retrying",
			        SLOG_S("event_id", msgs[i].message_id),
			        SLOG_S("event_type", msgs[i].routing_key));
			arc = id_list_add(&nacked, id);
			break;
		default: /* unconfirmed: stays pending as it was */
			break;
		}
		if (arc)
			goto rollback;
	}
	if (done.n) {
		p[0] = id_list_close(&done);
		if (pg_ok(r,
		          PQexecPrepared(r->pg, STMT_DONE, 1, p, NULL, NULL, 0),
		          "mark rows published", NULL)) {
			rc = SHOP_EUNAVAIL;
			goto free_all;
		}
	}
	if (returned.n) {
		p[0] = id_list_close(&returned);
		p[1] = "returned by the broker: no queue bound to the event "
		       "type";
		if (pg_ok(r,
		          PQexecPrepared(r->pg, STMT_FAILED, 2, p, NULL, NULL,
		                         0),
		          "mark rows for a retry", NULL)) {
			rc = SHOP_EUNAVAIL;
			goto free_all;
		}
	}
	if (nacked.n) {
		p[0] = id_list_close(&nacked);
		p[1] = "refused by the broker (nack)";
		if (pg_ok(r,
		          PQexecPrepared(r->pg, STMT_FAILED, 2, p, NULL, NULL,
		                         0),
		          "mark rows for a retry", NULL)) {
			rc = SHOP_EUNAVAIL;
			goto free_all;
		}
	}
	if (pg_ok(r, PQexec(r->pg, "COMMIT"), "commit", NULL)) {
		rc = SHOP_EUNAVAIL;
		goto free_all;
	}
	/* Counted once committed: a row counts when it is marked. */
	for (int i = 0; i < n; i++)
		if (msgs[i].result == AMQP_ACKED)
			count_published(msgs[i].routing_key);
	metric_add(r->failures, (double)(n - done.n));

	if (prc == SHOP_EUNAVAIL || prc == SHOP_ETIMEDOUT) {
		/* A broker that does not confirm in time is unhealthy too: a
		 * fresh connection, with backoff, beats piling up batches. */
		char why[64];

		snprintf(why, sizeof(why),
		         prc == SHOP_ETIMEDOUT
		                 ? "no publisher confirm within %d ms"
		                 : "connection lost while publishing",
		         r->confirm_ms);
		mq_failed(r, true, why);
	}
	rc = n;
	goto free_all;

rollback:
	if (r->pg)
		PQclear(PQexec(r->pg, "ROLLBACK"));
free_all:
	PQclear(rows);
	free(msgs);
	free(done.buf);
	free(returned.buf);
	free(nacked.buf);
	return rc;
}

static int refresh_backlog(struct outbox_relay *r)
{
	PGresult *res = NULL;
	int rc = pg_ok(
	        r, PQexecPrepared(r->pg, STMT_BACKLOG, 0, NULL, NULL, NULL, 0),
	        "count pending rows", &res);

	if (rc)
		return rc;
	metric_set(r->backlog, strtod(PQgetvalue(res, 0, 0), NULL));
	PQclear(res);
	return 0;
}

static void purge_published(struct outbox_relay *r)
{
	char secs[16];
	const char *p[1] = {secs};
	long total = 0;

	snprintf(secs, sizeof(secs), "%d", r->retention_s);
	for (int round = 0;
	     round < PURGE_MAX_ROUNDS && r->pg && !atomic_load(&r->stop);
	     round++) {
		PGresult *res = NULL;
		long n;

		if (pg_ok(r,
		          PQexecPrepared(r->pg, STMT_PURGE, 1, p, NULL, NULL,
		                         0),
		          "delete old published rows", &res))
			return;
		n = strtol(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		total += n;
		if (n < 5000)
			break;
	}
	if (total > 0)
		slog_info("outbox relay deleted %ld published rows older than "
		          "%d s",
		          total, r->retention_s);
}

/* Reads the notifications libpq has; returns true when there was one. */
static bool drain_notifies(struct outbox_relay *r)
{
	bool any = false;
	PGnotify *nf;

	while (r->pg && (nf = PQnotifies(r->pg)) != NULL) {
		any = true;
		PQfreemem(nf);
	}
	return any;
}

static int ms_until(uint64_t when, uint64_t now)
{
	return when <= now ? 0 : (int)((when - now + 999999u) / 1000000u);
}

/* Sleeps until a notification, the stop pipe, broker traffic or
 * timeout_ms. */
static void relay_wait(struct outbox_relay *r, int timeout_ms)
{
	struct pollfd fds[3];
	int nfds = 0, pg_at = -1;

	fds[nfds++] = (struct pollfd){.fd = r->wake[0], .events = POLLIN};
	if (r->pg) {
		pg_at = nfds;
		fds[nfds++] = (struct pollfd){.fd = PQsocket(r->pg),
		                              .events = POLLIN};
	}
	/* Broker traffic (a close, a heartbeat) wakes the loop, which
	 * services the connection on every turn. */
	if (r->mq && amqp_conn_fd(r->mq) >= 0) {
		fds[nfds++] = (struct pollfd){.fd = amqp_conn_fd(r->mq),
		                              .events = POLLIN};
	}
	if (poll(fds, (nfds_t)nfds, timeout_ms) < 0 && errno != EINTR)
		slog_warn("outbox relay cannot poll: %s", strerror(errno));
	if (fds[0].revents) {
		char buf[16];

		while (read(r->wake[0], buf, sizeof(buf)) > 0)
			;
	}
	if (pg_at >= 0 && fds[pg_at].revents && !PQconsumeInput(r->pg))
		pg_failed(r, "listen");
}

static void *relay_main(void *arg)
{
	struct outbox_relay *r = arg;
	bool more = true; /* a batch is due at once */

	while (!atomic_load(&r->stop)) {
		uint64_t now = shop_now_ns();
		int timeout;

		if (!r->pg && now >= r->pg_link.retry_at &&
		    pg_connect(r) == 0) {
			more = true;
			r->next_purge = 0;
		}
		if (atomic_load(&r->stop)) /* connecting took a while */
			break;
		if (!r->mq && now >= r->mq_link.retry_at && mq_connect(r) == 0)
			more = true;
		if (r->mq && amqp_conn_service(r->mq) != 0)
			mq_failed(r, true, "connection lost");
		if (atomic_load(&r->stop))
			break;

		if (r->pg && r->mq && more) {
			int n = relay_batch(r);

			if (n >= 0 && r->pg)
				link_up(&r->pg_link);
			more = n >= r->batch_size;
		} else {
			more = false;
		}
		now = shop_now_ns();
		if (r->pg && now >= r->next_backlog) {
			if (refresh_backlog(r) == 0)
				link_up(&r->pg_link);
			r->next_backlog = now + BACKLOG_EVERY_NS;
		}
		if (r->pg && now >= r->next_purge) {
			purge_published(r);
			r->next_purge = now + PURGE_EVERY_NS;
		}
		if (drain_notifies(r) || more) {
			more = true;
			continue;
		}

		timeout = r->poll_ms;
		if (!r->pg && ms_until(r->pg_link.retry_at, now) < timeout)
			timeout = ms_until(r->pg_link.retry_at, now);
		if (!r->mq && ms_until(r->mq_link.retry_at, now) < timeout)
			timeout = ms_until(r->mq_link.retry_at, now);
		relay_wait(r, timeout);
		/* woken by a notification, or the poll interval is over */
		more = true;
	}
	mq_close(r);
	pg_close(r);
	return NULL;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void relay_release(struct outbox_relay *r)
{
	if (r->wake[0] >= 0)
		close(r->wake[0]);
	if (r->wake[1] >= 0)
		close(r->wake[1]);
	free(r->service);
	free(r->conninfo);
	free(r->amqp_url);
	free(r->conn_name);
	free(r);
}

int outbox_relay_start(const struct outbox_relay_options *opt,
                       struct outbox_relay **out)
{
	struct outbox_relay *r;
	int rc;

	if (!opt || !opt->service || !*opt->service || !opt->conninfo ||
	    !opt->amqp_url || opt->batch_size < 0 || opt->batch_size > 10000 ||
	    opt->poll_interval_ms < 0 || opt->confirm_timeout_ms < 0 ||
	    opt->retention_s < 0) {
		slog_error("cannot start the outbox relay of '%s': missing or "
		           "out-of-range options",
		           opt && opt->service ? opt->service : "?");
		return SHOP_EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return SHOP_ENOMEM;
	r->wake[0] = r->wake[1] = -1;
	rc = amqp_url_check(opt->amqp_url, r->broker, sizeof(r->broker));
	if (rc == 0)
		rc = pg__conninfo_name(opt->conninfo, r->db_name,
		                       sizeof(r->db_name));
	if (rc) {
		if (rc == SHOP_EINVAL)
			slog_error("cannot start the outbox relay of '%s': "
			           "malformed AMQP URL or database conninfo",
			           opt->service);
		goto fail;
	}
	rc = SHOP_ENOMEM;
	r->service = xstrdup(opt->service);
	r->conninfo = xstrdup(opt->conninfo);
	r->amqp_url = xstrdup(opt->amqp_url);
	r->conn_name = malloc(strlen(opt->service) + 20);
	if (!r->service || !r->conninfo || !r->amqp_url || !r->conn_name)
		goto fail;
	snprintf(r->conn_name, strlen(opt->service) + 20, "%s outbox relay",
	         opt->service);
	r->batch_size = opt->batch_size ? opt->batch_size : 100;
	r->poll_ms = opt->poll_interval_ms ? opt->poll_interval_ms : 1000;
	r->confirm_ms =
	        opt->confirm_timeout_ms ? opt->confirm_timeout_ms : 5000;
	r->retention_s = opt->retention_s ? opt->retention_s : 7 * 86400;
	r->pg_link =
	        (struct link){.name = r->db_name, .backoff_ms = BACKOFF_MIN_MS};
	r->mq_link =
	        (struct link){.name = r->broker, .backoff_ms = BACKOFF_MIN_MS};
	atomic_init(&r->stop, false);
	atomic_init(&r->amqp_up, false);

	r->failures = metrics_counter(
	        "outbox_publish_failures_total",
	        "Outbox rows a batch did not get published: nacked, returned "
	        "as unroutable, unconfirmed in time or lost with the "
	        "connection",
	        "");
	r->backlog = metrics_gauge("outbox_backlog",
	                           "Outbox rows waiting to be published", "");
	r->connected = metrics_gauge(
	        "amqp_connected",
	        "1 when the outbox relay is connected to RabbitMQ", "");
	metric_set(r->connected, 0);

	rc = SHOP_ERR;
	if (pipe2(r->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		slog_error("cannot start the outbox relay of '%s': pipe: %s",
		           opt->service, strerror(errno));
		goto fail;
	}
	if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
		slog_error("cannot start the outbox relay of '%s': no thread",
		           opt->service);
		goto fail;
	}
	slog_info("outbox relay of '%s' started: '%s' to '%s'", r->service,
	          r->db_name, r->broker);
	*out = r;
	return 0;

fail:
	relay_release(r);
	return rc;
}

bool outbox_relay_connected(const struct outbox_relay *r)
{
	return r && atomic_load(&((struct outbox_relay *)r)->amqp_up);
}

void outbox_relay_free(struct outbox_relay *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	if (write(r->wake[1], "x", 1) < 0 && errno != EAGAIN)
		slog_warn("cannot wake the outbox relay: %s", strerror(errno));
	pthread_join(r->thread, NULL);
	relay_release(r);
}
