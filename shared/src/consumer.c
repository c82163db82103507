#define _GNU_SOURCE /* pipe2 */
#include "shop/consumer.h"
#include "shop/arena.h"

#include "shop/amqp.h"
#include "shop/db.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include <errno.h>
#include <fcntl.h>
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
 * The consumer: a thread that owns the AMQP connection (consumer_main) and
 * a worker thread that runs the database transaction and the handler
 * (worker_main); see shop/consumer.h for why there are two. They share a
 * job slot each way under `lock`: `handed` (consumer -> worker) and
 * `finished` (worker -> consumer, with a byte on the wake pipe). A job is
 * created, settled (acked, rejected or left) and freed by the consumer
 * thread only; the worker reads it between the two hand-overs.
 */

#define BACKOFF_MIN_MS      100
#define BACKOFF_MAX_MS      5000
#define AMQP_CONNECT_MS     2000
#define AMQP_RPC_MS         5000
#define DEFAULT_PREFETCH    16
#define MAX_PREFETCH        1000
#define DEFAULT_HEARTBEAT_S 30
#define DEFAULT_SHUTDOWN_MS 4000
#define DEFAULT_RETENTION_S (30 * 86400)
/* The consumer thread reads the socket at least this often, which keeps
 * heartbeats of 1 s and more serviced. */
#define POLL_MAX_MS 200
/* The first purge of processed_events a minute after start (not during
 * start-up), then hourly; a minute later again when it failed. */
#define FIRST_PURGE_NS   (60ull * 1000000000ull)
#define PURGE_EVERY_NS   (3600ull * 1000000000ull)
#define PURGE_RETRY_NS   (60ull * 1000000000ull)
#define PURGE_MAX_ROUNDS 20
/* A handler still failing is logged as a warning again every this many
 * attempts (about a minute at the 5 s ceiling). */
#define RETRY_WARN_EVERY 12

enum job_outcome {
	JOB_OK,        /* committed: ack */
	JOB_DUPLICATE, /* already processed: ack */
	JOB_POISON,    /* the handler refused it: reject, no requeue */
	JOB_RELEASED,  /* given up (shutdown, connection lost): leave it */
};

struct consumer_job {
	struct amqp_delivery *d;
	json_t *root;
	struct consumer_event ev;
	uint64_t generation; /* of the connection it came on */
	atomic_bool cancelled;
	void *data; /* consumer_event_set_data() */
	/* Set by the worker before it hands the job back. */
	enum job_outcome outcome;
	int attempts; /* failed ones */
	char why[256];
	struct consumer_job *next; /* in the consumer thread's queue */
};

/* The broker side: its backoff and the logged state. */
struct link {
	bool down; /* the last attempt failed; logged once */
	bool ever_up;
	unsigned backoff_ms;
	uint64_t retry_at; /* no new attempt before (shop_now_ns) */
	uint64_t down_since;
};

struct consumer {
	char *service;
	char *amqp_url;
	char *conn_name; /* "<service> consumer <queue>" */
	char *queue_name;
	char *keys[AMQP_MAX_QUEUE_BINDINGS];
	struct amqp_queue_def queue; /* points at queue_name and keys */
	char broker[300];
	char qlabel[300]; /* the queue, escaped for metric labels */
	struct db_pool *pool;
	consumer_handle_fn handle;
	consumer_committed_fn committed;
	void *arg;
	int prefetch, heartbeat_s, shutdown_ms, retention_s;
	struct arena *arena; /* the worker's: ev->arena */

	pthread_t thread, worker;
	bool thread_started, worker_started;
	int wake[2]; /* wakes the consumer thread */
	atomic_bool stop;
	atomic_bool up;

	/* Owned by the consumer thread. */
	struct amqp_conn *mq;
	uint64_t generation; /* bumped at each connect and loss */
	struct link link;
	struct consumer_job *queued, **queued_tail;
	struct consumer_job *busy; /* handed to the worker, not settled */

	/* Shared, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a job handed, stop, cancel, quit */
	struct consumer_job *handed;
	struct consumer_job *finished;
	bool quit;
	PGcancel *cancel; /* of the worker's connection, while it has one */

	struct metric *connected, *connects, *dead_lettered;
};

/* ---- small helpers ---- */

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int ms_until(uint64_t when, uint64_t now)
{
	return when <= now ? 0 : (int)((when - now + 999999u) / 1000000u);
}

static void wake(struct consumer *c)
{
	if (write(c->wake[1], "x", 1) < 0 && errno != EAGAIN)
		slog_warn("cannot wake the consumer of '%s': %s", c->queue_name,
		          strerror(errno));
}

/* Broadcasts cond: stop, a cancel or quit for the worker. */
static void nudge_worker(struct consumer *c)
{
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void count_consumed(struct consumer *c, const char *event_type,
                           const char *result)
{
	char type[300], labels[700];

	metrics_escape_label(type, sizeof(type), event_type);
	snprintf(labels, sizeof(labels),
	         "queue=\"%s\",event_type=\"%s\",result=\"%s\"", c->qlabel,
	         type, result);
	metric_add(metrics_counter("events_consumed_total",
	                           "Events taken from a queue, by result",
	                           labels),
	           1);
}

/* The event_type label: only the queue's own types, so that garbage in a
 * dead letter cannot create series. */
static const char *type_label(const struct consumer *c, const char *type)
{
	for (size_t k = 0; type && c->queue.bindings[k]; k++)
		if (strcmp(c->queue.bindings[k], type) == 0)
			return type;
	return "unknown";
}

static void job_free(struct consumer_job *job)
{
	if (!job)
		return;
	json_decref(job->root);
	amqp_delivery_free(job->d);
	free(job);
}

/* ---- the worker thread: one transaction per attempt ---- */

static void set_cancel(struct consumer *c, PGcancel *pc)
{
	pthread_mutex_lock(&c->lock);
	c->cancel = pc;
	pthread_mutex_unlock(&c->lock);
}

/*
 * One attempt at a job: BEGIN, record the event, run the handler, COMMIT.
 * Returns 0 (committed), 1 (a duplicate: nothing done), SHOP_EINVAL (the
 * handler refused the event) or another error (transient), with why.
 */
static int attempt(struct consumer *c, struct consumer_job *job, char *why,
                   size_t cap)
{
	const struct consumer_event *ev = &job->ev;
	struct db_conn *conn = NULL;
	PGcancel *pc;
	int rc = db_acquire(c->pool, &conn);

	if (rc) {
		snprintf(why, cap, "no database connection: %s",
		         shop_strerror(rc));
		return rc == SHOP_EINVAL ? SHOP_ERR : rc;
	}
	pc = PQgetCancel(db_conn_pg(conn));
	set_cancel(c, pc);
	rc = db_begin(conn);
	if (rc) {
		snprintf(why, cap, "cannot begin a transaction: %s",
		         shop_strerror(rc));
		goto release;
	}
	rc = consumer__mark(conn, ev->event_id, c->queue_name, ev->event_type);
	if (rc == 1) {
		db_rollback(conn); /* nothing was written */
		goto release;
	}
	if (rc) {
		snprintf(why, cap, "cannot record the event: %s",
		         shop_strerror(rc));
		rc = rc == SHOP_EINVAL ? SHOP_ERR : rc;
		goto release;
	}
	arena_reset(c->arena);
	job->ev.arena = c->arena;
	job->data = NULL;
	rc = c->handle(c->arg, conn, ev);
	if (rc > 0)
		BUG("the handler of queue '%s' returned %d: 0 or an error "
		    "expected",
		    c->queue_name, rc);
	if (rc == 0) {
		if (PQtransactionStatus(db_conn_pg(conn)) == PQTRANS_IDLE)
			BUG("the handler of queue '%s' ended the consumer's "
			    "transaction",
			    c->queue_name);
		rc = db_commit(conn);
		if (rc)
			snprintf(why, cap, "cannot commit: %s",
			         shop_strerror(rc));
		else if (c->committed)
			c->committed(c->arg, ev);
	} else {
		if (rc == SHOP_EINVAL)
			snprintf(why, cap, "the handler refused the event");
		else
			snprintf(why, cap, "the handler failed: %s",
			         shop_strerror(rc));
		db_rollback(conn);
	}
release:
	set_cancel(c, NULL);
	PQfreeCancel(pc);
	db_release(conn); /* rolls back what is still open */
	return rc;
}

/* Sleeps ms, or less when the consumer stops or gives up on the job. */
static void backoff_sleep(struct consumer *c, struct consumer_job *job,
                          unsigned ms)
{
	struct timespec until;

	shop_deadline_after_ms(CLOCK_MONOTONIC, (long)ms, &until);
	pthread_mutex_lock(&c->lock);
	while (!atomic_load(&c->stop) && !atomic_load(&job->cancelled) &&
	       pthread_cond_timedwait(&c->cond, &c->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&c->lock);
}

/* Runs a job until it is done, refused or given up; sets its outcome. */
static void run_job(struct consumer *c, struct consumer_job *job)
{
	const struct consumer_event *ev = &job->ev;
	unsigned backoff = BACKOFF_MIN_MS;
	const char *rid = ev->correlation_id;

	for (;;) {
		char why[256];
		int rc = attempt(c, job, why, sizeof(why));

		if (rc == 0 || rc == 1) {
			job->outcome = rc == 0 ? JOB_OK : JOB_DUPLICATE;
			if (job->attempts > 0)
				slog_kv(SLOG_INFO, rid,
				        "event handled after transient "
				        "failures",
				        SLOG_S("queue", c->queue_name),
				        SLOG_S("event_id", ev->event_id),
				        SLOG_I("attempts", job->attempts + 1));
			return;
		}
		if (rc == SHOP_EINVAL) {
			job->outcome = JOB_POISON;
			snprintf(job->why, sizeof(job->why), "%s", why);
			return;
		}
		job->attempts++;
		count_consumed(c, ev->event_type, "retry");
		if (atomic_load(&c->stop) || atomic_load(&job->cancelled)) {
			job->outcome = JOB_RELEASED;
			snprintf(job->why, sizeof(job->why), "%s", why);
			return;
		}
		slog_kv(job->attempts % RETRY_WARN_EVERY == 1 ? SLOG_WARN
		                                              : SLOG_DEBUG,
		        rid, "cannot handle event yet: retrying with backoff",
		        SLOG_S("queue", c->queue_name),
		        SLOG_S("event_id", ev->event_id),
		        SLOG_S("event_type", ev->event_type),
		        SLOG_S("reason", why),
		        SLOG_I("attempts", job->attempts),
		        SLOG_I("retry_in_ms", backoff));
		backoff_sleep(c, job, backoff);
		if (atomic_load(&c->stop) || atomic_load(&job->cancelled)) {
			job->outcome = JOB_RELEASED;
			snprintf(job->why, sizeof(job->why), "%s", why);
			return;
		}
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
		                                       : backoff * 2;
	}
}

/* Deletes old processed_events rows of the queue; returns when to run
 * next. */
static uint64_t purge(struct consumer *c)
{
	struct db_conn *conn = NULL;
	long total = 0;
	int rc = db_acquire(c->pool, &conn);

	for (int round = 0;
	     rc == 0 && round < PURGE_MAX_ROUNDS && !atomic_load(&c->stop);
	     round++) {
		long n = consumer__purge(conn, c->queue_name, c->retention_s);

		if (n < 0)
			rc = (int)n;
		else
			total += n;
		if (n < 5000)
			break;
	}
	db_release(conn);
	if (total > 0)
		slog_info("consumer of '%s' deleted %ld processed events older "
		          "than %d s",
		          c->queue_name, total, c->retention_s);
	if (rc)
		slog_debug("consumer of '%s' cannot purge processed events: %s",
		           c->queue_name, shop_strerror(rc));
	return shop_now_ns() + (rc ? PURGE_RETRY_NS : PURGE_EVERY_NS);
}

static struct timespec deadline_of(uint64_t mono_ns)
{
	struct timespec ts = {.tv_sec = (time_t)(mono_ns / 1000000000u),
	                      .tv_nsec = (long)(mono_ns % 1000000000u)};

	return ts;
}

static void *worker_main(void *arg)
{
	struct consumer *c = arg;
	uint64_t next_purge = shop_now_ns() + FIRST_PURGE_NS;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct consumer_job *job;

		while (!c->handed && !c->quit) {
			struct timespec until;

			/* Stopping: no purge any more, and no deadline in the
			 * past to spin on until quit. */
			if (atomic_load(&c->stop) &&
			    shop_now_ns() >= next_purge)
				next_purge = shop_now_ns() + 3600000000000ull;
			until = deadline_of(next_purge);

			if (shop_now_ns() >= next_purge &&
			    !atomic_load(&c->stop)) {
				pthread_mutex_unlock(&c->lock);
				next_purge = purge(c);
				pthread_mutex_lock(&c->lock);
				continue;
			}
			pthread_cond_timedwait(&c->cond, &c->lock, &until);
		}
		if (!c->handed)
			break; /* quit */
		job = c->handed;
		c->handed = NULL;
		pthread_mutex_unlock(&c->lock);

		run_job(c, job);

		pthread_mutex_lock(&c->lock);
		c->finished = job;
		wake(c);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- the consumer thread: the AMQP connection ---- */

static void link_failed(struct consumer *c, bool lost, const char *err)
{
	struct link *l = &c->link;
	uint64_t now = shop_now_ns();

	if (!l->down) {
		l->down = true;
		l->down_since = now;
		if (lost)
			slog_warn("consumer of '%s' lost '%s': %s",
			          c->queue_name, c->broker, err);
		else
			slog_error(
			        "consumer of '%s' cannot connect to '%s': %s",
			        c->queue_name, c->broker, err);
	} else {
		slog_debug("consumer of '%s' still cannot use '%s': %s",
		           c->queue_name, c->broker, err);
	}
	l->retry_at = now + (uint64_t)l->backoff_ms * 1000000u;
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
	                                                   : l->backoff_ms * 2;
}

static void link_up(struct consumer *c)
{
	struct link *l = &c->link;

	if (!l->ever_up && !l->down)
		slog_info("consumer of '%s' consuming from '%s'", c->queue_name,
		          c->broker);
	else if (l->down)
		slog_info("consumer of '%s' reaches '%s' again after %.1f s",
		          c->queue_name, c->broker,
		          (double)(shop_now_ns() - l->down_since) / 1e9);
	l->down = false;
	l->ever_up = true;
	l->backoff_ms = BACKOFF_MIN_MS;
	l->retry_at = 0;
}

static void drop_queued(struct consumer *c)
{
	while (c->queued) {
		struct consumer_job *next = c->queued->next;

		job_free(c->queued);
		c->queued = next;
	}
	c->queued_tail = &c->queued;
}

/* Closes the connection: every unacked delivery goes back to the queue,
 * so the prefetched jobs are dropped and the one in hand is given up (its
 * handler may finish; nothing will be acked). */
static void mq_close(struct consumer *c)
{
	amqp_conn_free(c->mq);
	c->mq = NULL;
	c->generation++;
	atomic_store(&c->up, false);
	metric_set(c->connected, 0);
	drop_queued(c);
	if (c->busy) {
		atomic_store(&c->busy->cancelled, true);
		nudge_worker(c);
	}
}

/* The connection died or was refused: close it, back off, log once. */
static void mq_failed(struct consumer *c, bool lost, const char *fallback)
{
	char why[320];
	const char *err = amqp_conn_error(c->mq);

	snprintf(why, sizeof(why), "%s", *err ? err : fallback);
	mq_close(c);
	link_failed(c, lost, why);
}

static void mq_connect(struct consumer *c)
{
	struct amqp_conn_options opt = {.url = c->amqp_url,
	                                .name = c->conn_name,
	                                .connect_timeout_ms = AMQP_CONNECT_MS,
	                                .rpc_timeout_ms = AMQP_RPC_MS,
	                                .heartbeat_s = c->heartbeat_s};
	char err[512];
	int rc = amqp_conn_open(&opt, &c->mq, err, sizeof(err));

	if (rc) {
		/* amqp_conn_open's message names the broker already */
		const char *why = strstr(err, "': ");

		c->mq = NULL;
		link_failed(c, false, why ? why + 3 : err);
		return;
	}
	if (amqp_topology_declare(c->mq) != 0 ||
	    amqp_topology_declare_queue(c->mq, &c->queue) != 0) {
		mq_failed(c, false, "cannot declare the topology");
		return;
	}
	if (amqp_conn_consume(c->mq, c->queue_name, c->prefetch) != 0) {
		mq_failed(c, false, "cannot consume");
		return;
	}
	c->generation++;
	link_up(c);
	atomic_store(&c->up, true);
	metric_set(c->connected, 1);
	metric_add(c->connects, 1);
}

/* Rejects a delivery without requeue (the broker dead-letters it) and
 * logs it with the best id there is. */
static void dead_letter(struct consumer *c, const struct amqp_delivery *d,
                        const char *event_id, const char *event_type,
                        const char *why, const char *rid)
{
	const char *id = event_id && *event_id ? event_id : d->message_id;

	if (amqp_conn_reject(c->mq, d->delivery_tag, false) != 0) {
		mq_failed(c, true, "connection lost");
		return;
	}
	slog_kv(SLOG_ERROR, rid, "event rejected to the dead-letter queue",
	        SLOG_S("queue", c->queue_name), SLOG_S("event_id", id),
	        SLOG_I("delivery_tag", d->delivery_tag),
	        SLOG_S("event_type", event_type ? event_type : d->type),
	        SLOG_S("reason", why));
	count_consumed(c, type_label(c, event_type ? event_type : d->type),
	               "poison");
	metric_add(c->dead_lettered, 1);
}

/* A new delivery: rejected at once when it is not a valid envelope,
 * queued for the worker otherwise. Takes d. */
static void accept_delivery(struct consumer *c, struct amqp_delivery *d)
{
	struct consumer_job *job;
	char why[256], id[64];
	json_t *root = NULL;
	struct consumer_event ev;
	int rc;

	if (atomic_load(&c->stop)) {
		/* left unacked: back to the queue when the connection
		 * closes */
		amqp_delivery_free(d);
		return;
	}
	if (d->oversize) {
		snprintf(why, sizeof(why), "the body is over %u bytes",
		         AMQP_MAX_BODY);
		dead_letter(c, d, NULL, NULL, why, d->correlation_id);
		amqp_delivery_free(d);
		return;
	}
	rc = consumer__parse_envelope(&c->queue, d->body, d->len, d->type,
	                              d->message_id, &root, &ev, why,
	                              sizeof(why), id, sizeof(id));
	if (rc) {
		dead_letter(c, d, id, NULL, why, d->correlation_id);
		amqp_delivery_free(d);
		return;
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		/* the broker redelivers it after the reconnect */
		json_decref(root);
		amqp_delivery_free(d);
		mq_failed(c, true, "out of memory");
		return;
	}
	job->d = d;
	job->root = root;
	job->ev = ev;
	job->ev.traceparent = d->traceparent;
	job->ev.queue = c->queue_name;
	job->ev.redelivered = d->redelivered;
	job->ev.delivery_count = d->delivery_count;
	job->ev.job_ = job;
	job->generation = c->generation;
	atomic_init(&job->cancelled, false);
	*c->queued_tail = job;
	c->queued_tail = &job->next;
}

/* Reads everything the socket holds (and services the heartbeats). */
static void receive(struct consumer *c)
{
	while (c->mq) {
		struct amqp_delivery *d = NULL;
		int rc = amqp_conn_receive(c->mq, 0, &d);

		if (rc == 0)
			return;
		if (rc < 0) {
			mq_failed(c, true, "connection lost");
			return;
		}
		accept_delivery(c, d);
	}
}

/* Acks, rejects or leaves the job the worker finished, and frees it. */
static void settle(struct consumer *c, struct consumer_job *job)
{
	const struct consumer_event *ev = &job->ev;
	const char *rid = ev->correlation_id;
	bool live = c->mq && job->generation == c->generation;

	switch (job->outcome) {
	case JOB_OK:
	case JOB_DUPLICATE:
		count_consumed(c, ev->event_type,
		               job->outcome == JOB_OK ? "ok" : "duplicate");
		if (job->outcome == JOB_DUPLICATE)
			slog_kv(SLOG_INFO, rid,
			        "event already processed: acked without "
			        "handling it again",
			        SLOG_S("queue", c->queue_name),
			        SLOG_S("event_id", ev->event_id),
			        SLOG_S("event_type", ev->event_type));
		if (!live)
			slog_kv(SLOG_DEBUG, rid,
			        "event handled after its connection was lost: "
			        "its redelivery will be a duplicate",
			        SLOG_S("queue", c->queue_name),
			        SLOG_S("event_id", ev->event_id));
		else if (amqp_conn_ack(c->mq, job->d->delivery_tag) != 0)
			mq_failed(c, true, "connection lost");
		break;
	case JOB_POISON:
		if (live)
			dead_letter(c, job->d, ev->event_id, ev->event_type,
			            job->why, rid);
		else
			slog_kv(SLOG_WARN, rid,
			        "event refused by the handler after its "
			        "connection was lost: it will be redelivered",
			        SLOG_S("queue", c->queue_name),
			        SLOG_S("event_id", ev->event_id),
			        SLOG_S("reason", job->why));
		break;
	case JOB_RELEASED:
		slog_kv(SLOG_INFO, rid,
		        "event left unacked for redelivery: the consumer "
		        "stopped or lost its connection",
		        SLOG_S("queue", c->queue_name),
		        SLOG_S("event_id", ev->event_id),
		        SLOG_S("reason", job->why));
		break;
	}
	job_free(job);
}

/* Settles the job the worker handed back, if any. */
static void collect(struct consumer *c)
{
	struct consumer_job *job;

	pthread_mutex_lock(&c->lock);
	job = c->finished;
	c->finished = NULL;
	pthread_mutex_unlock(&c->lock);
	if (!job)
		return;
	if (job != c->busy)
		BUG("consumer of '%s': the worker finished a job it was not "
		    "given",
		    c->queue_name);
	c->busy = NULL;
	settle(c, job);
}

/* Hands the next queued job to an idle worker. */
static void dispatch(struct consumer *c)
{
	struct consumer_job *job = c->queued;

	if (c->busy || !job || atomic_load(&c->stop))
		return;
	c->queued = job->next;
	if (!c->queued)
		c->queued_tail = &c->queued;
	job->next = NULL;
	c->busy = job;
	pthread_mutex_lock(&c->lock);
	c->handed = job;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Sleeps until the wake pipe, broker traffic or timeout_ms. */
static void consumer_wait(struct consumer *c, int timeout_ms)
{
	struct pollfd fds[2];
	int nfds = 0;

	fds[nfds++] = (struct pollfd){.fd = c->wake[0], .events = POLLIN};
	if (c->mq && amqp_conn_fd(c->mq) >= 0)
		fds[nfds++] = (struct pollfd){.fd = amqp_conn_fd(c->mq),
		                              .events = POLLIN};
	if (poll(fds, (nfds_t)nfds, timeout_ms) < 0 && errno != EINTR)
		slog_warn("consumer of '%s' cannot poll: %s", c->queue_name,
		          strerror(errno));
	if (fds[0].revents) {
		char buf[64];

		while (read(c->wake[0], buf, sizeof(buf)) > 0)
			;
	}
}

/*
 * The end: waits up to shutdown_ms for the job in hand (acking it when it
 * finishes), then gives it up: cancels its statement and closes the
 * connection, which leaves it unacked. Joins the worker.
 */
static void shut_down(struct consumer *c)
{
	uint64_t deadline = shop_now_ns() + (uint64_t)c->shutdown_ms * 1000000u;

	drop_queued(c);
	nudge_worker(c); /* a retry in backoff gives up at once */
	while (c->busy) {
		uint64_t now;

		collect(c);
		if (!c->busy)
			break;
		now = shop_now_ns();
		if (now >= deadline)
			break;
		receive(c); /* heartbeats; new deliveries stay unacked */
		consumer_wait(c, ms_until(deadline, now) < POLL_MAX_MS
		                         ? ms_until(deadline, now)
		                         : POLL_MAX_MS);
	}
	if (c->busy) {
		char err[256];

		slog_kv(SLOG_WARN, c->busy->ev.correlation_id,
		        "event handler did not finish before shutdown: leaving "
		        "the event unacked for redelivery",
		        SLOG_S("queue", c->queue_name),
		        SLOG_S("event_id", c->busy->ev.event_id),
		        SLOG_I("waited_ms", c->shutdown_ms));
		atomic_store(&c->busy->cancelled, true);
		pthread_mutex_lock(&c->lock);
		if (c->cancel && !PQcancel(c->cancel, err, sizeof(err)))
			slog_debug("cannot cancel the handler's statement: %s",
			           err);
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
	mq_close(c);
	pthread_mutex_lock(&c->lock);
	c->quit = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->worker, NULL);
	c->worker_started = false;
	collect(c); /* the late job: its connection is closed, nothing acked */
}

static void *consumer_main(void *arg)
{
	struct consumer *c = arg;

	while (!atomic_load(&c->stop)) {
		uint64_t now = shop_now_ns();
		int timeout = POLL_MAX_MS;

		if (!c->mq && now >= c->link.retry_at)
			mq_connect(c);
		receive(c);
		collect(c);
		dispatch(c);
		if (atomic_load(&c->stop))
			break;
		now = shop_now_ns();
		if (!c->mq && ms_until(c->link.retry_at, now) < timeout)
			timeout = ms_until(c->link.retry_at, now);
		consumer_wait(c, timeout);
	}
	shut_down(c);
	return NULL;
}

/* ---- the API ---- */

static void consumer_release(struct consumer *c)
{
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	arena_free(c->arena);
	free(c->service);
	free(c->amqp_url);
	free(c->conn_name);
	free(c->queue_name);
	for (size_t k = 0; k < AMQP_MAX_QUEUE_BINDINGS; k++)
		free(c->keys[k]);
	free(c);
}

static bool options_ok(const struct consumer_options *opt)
{
	const struct amqp_queue_def *q = opt ? opt->queue : NULL;

	return opt && opt->service && *opt->service && opt->amqp_url && q &&
	       q->name && *q->name && strlen(q->name) < 200 && q->bindings[0] &&
	       opt->pool && opt->handle && opt->prefetch >= 0 &&
	       opt->prefetch <= MAX_PREFETCH && opt->heartbeat_s >= 0 &&
	       opt->shutdown_timeout_ms >= 0 && opt->retention_s >= 0;
}

/* Copies the options into c; SHOP_ENOMEM or 0. */
static int copy_options(struct consumer *c, const struct consumer_options *opt)
{
	const struct amqp_queue_def *q = opt->queue;
	size_t n = strlen(opt->service) + strlen(q->name) + 16;

	c->service = xstrdup(opt->service);
	c->amqp_url = xstrdup(opt->amqp_url);
	c->queue_name = xstrdup(q->name);
	c->conn_name = malloc(n);
	if (!c->service || !c->amqp_url || !c->queue_name || !c->conn_name)
		return SHOP_ENOMEM;
	snprintf(c->conn_name, n, "%s consumer %s", opt->service, q->name);
	c->queue.name = c->queue_name;
	for (size_t k = 0; k < AMQP_MAX_QUEUE_BINDINGS && q->bindings[k]; k++) {
		c->keys[k] = xstrdup(q->bindings[k]);
		if (!c->keys[k])
			return SHOP_ENOMEM;
		c->queue.bindings[k] = c->keys[k];
	}
	c->pool = opt->pool;
	c->handle = opt->handle;
	c->committed = opt->committed;
	c->arg = opt->arg;
	c->prefetch = opt->prefetch ? opt->prefetch : DEFAULT_PREFETCH;
	c->heartbeat_s =
	        opt->heartbeat_s ? opt->heartbeat_s : DEFAULT_HEARTBEAT_S;
	c->shutdown_ms = opt->shutdown_timeout_ms ? opt->shutdown_timeout_ms
	                                          : DEFAULT_SHUTDOWN_MS;
	c->retention_s =
	        opt->retention_s ? opt->retention_s : DEFAULT_RETENTION_S;
	return 0;
}

static void register_metrics(struct consumer *c)
{
	char labels[320];

	metrics_escape_label(c->qlabel, sizeof(c->qlabel), c->queue_name);
	snprintf(labels, sizeof(labels), "queue=\"%s\"", c->qlabel);
	c->connected = metrics_gauge(
	        "consumer_connected",
	        "1 while the consumer of the queue is connected and consuming",
	        labels);
	c->connects = metrics_counter(
	        "consumer_connects_total",
	        "Connections the consumer of the queue opened to RabbitMQ",
	        labels);
	c->dead_lettered = metrics_counter(
	        "events_dead_lettered_total",
	        "Messages the consumer rejected to the dead-letter queue",
	        labels);
	metric_set(c->connected, 0);
}

int consumer_start(const struct consumer_options *opt, struct consumer **out)
{
	struct consumer *c;
	pthread_condattr_t ca;
	int rc;

	if (!options_ok(opt)) {
		slog_error("cannot start the consumer of '%s': missing or "
		           "out-of-range options",
		           opt && opt->queue && opt->queue->name
		                   ? opt->queue->name
		                   : "?");
		return SHOP_EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return SHOP_ENOMEM;
	c->wake[0] = c->wake[1] = -1;
	c->queued_tail = &c->queued;
	c->link.backoff_ms = BACKOFF_MIN_MS;
	atomic_init(&c->stop, false);
	atomic_init(&c->up, false);
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);

	rc = copy_options(c, opt);
	if (rc)
		goto fail;
	c->arena = arena_new(0);
	if (!c->arena) {
		rc = SHOP_ENOMEM;
		goto fail;
	}
	rc = amqp_url_check(opt->amqp_url, c->broker, sizeof(c->broker));
	if (rc) {
		if (rc == SHOP_EINVAL)
			slog_error("cannot start the consumer of '%s': "
			           "malformed AMQP URL",
			           c->queue_name);
		goto fail;
	}
	rc = consumer__prepare(c->pool);
	if (rc == SHOP_EINVAL || rc == SHOP_ENOMEM) {
		if (rc == SHOP_EINVAL)
			slog_error("cannot start the consumer of '%s': its "
			           "statements do not prepare (was "
			           "consumer_migrate() run?)",
			           c->queue_name);
		goto fail;
	}
	/* any other error: the database is away; the statements are
	 * registered and prepared when it comes back */
	register_metrics(c);

	rc = SHOP_ERR;
	if (pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		slog_error("cannot start the consumer of '%s': pipe: %s",
		           c->queue_name, strerror(errno));
		goto fail;
	}
	if (pthread_create(&c->worker, NULL, worker_main, c) != 0) {
		slog_error("cannot start the consumer of '%s': no thread",
		           c->queue_name);
		goto fail;
	}
	c->worker_started = true;
	if (pthread_create(&c->thread, NULL, consumer_main, c) != 0) {
		slog_error("cannot start the consumer of '%s': no thread",
		           c->queue_name);
		goto fail;
	}
	slog_info("consumer of '%s' started on '%s' (prefetch %d, heartbeat "
	          "%d s)",
	          c->queue_name, c->broker, c->prefetch, c->heartbeat_s);
	*out = c;
	return 0;

fail:
	if (c->worker_started) {
		pthread_mutex_lock(&c->lock);
		c->quit = true;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->worker, NULL);
	}
	consumer_release(c);
	return rc;
}

bool consumer_connected(const struct consumer *c)
{
	return c && atomic_load(&((struct consumer *)c)->up);
}

bool consumer_cancelled(const struct consumer_event *ev)
{
	return ev && ev->job_ && atomic_load(&ev->job_->cancelled);
}

void consumer_free(struct consumer *c)
{
	if (!c)
		return;
	atomic_store(&c->stop, true);
	wake(c);
	nudge_worker(c);
	pthread_join(c->thread, NULL);
	consumer_release(c);
}

void consumer_event_set_data(const struct consumer_event *ev, void *data)
{
	if (ev && ev->job_)
		ev->job_->data = data;
}

void *consumer_event_data(const struct consumer_event *ev)
{
	return ev && ev->job_ ? ev->job_->data : NULL;
}

/* ---- groups ---- */

struct consumer_group {
	int n;
	struct consumer *c[CONSUMER_GROUP_MAX];
};

int consumer_group_start(const struct consumer_options *opt, int n,
                         struct consumer_group **out)
{
	struct consumer_group *g;
	int rc;

	*out = NULL;
	if (n < 1 || n > CONSUMER_GROUP_MAX)
		return SHOP_EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return SHOP_ENOMEM;
	for (; g->n < n; g->n++) {
		rc = consumer_start(opt, &g->c[g->n]);
		if (rc) {
			consumer_group_free(g);
			return rc;
		}
	}
	*out = g;
	return 0;
}

bool consumer_group_connected(const struct consumer_group *g)
{
	if (!g)
		return false;
	for (int i = 0; i < g->n; i++)
		if (!consumer_connected(g->c[i]))
			return false;
	return true;
}

void consumer_group_free(struct consumer_group *g)
{
	if (!g)
		return;
	while (g->n > 0)
		consumer_free(g->c[--g->n]);
	free(g);
}
