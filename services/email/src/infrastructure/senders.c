#define _GNU_SOURCE /* pipe2 */
#include "senders.h"

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

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#include "pg_email_queue.h"
#include "pg_email_store.h"

#define BACKOFF_MIN_MS  100
#define BACKOFF_MAX_MS  5000
#define DEPTH_EVERY_NS  1000000000ull
#define LEASE_MARGIN_MS 5000

struct sender {
	struct email_senders *owner;
	int index;
	pthread_t thread;
	bool started;
	PGconn *pg;
	struct pg_email_queue queue;
	struct mail_transport smtp;
	struct arena *arena;
	bool down, ever_up;
	unsigned backoff_ms;
	uint64_t retry_at, next_depth;
};

/* The one thread that LISTENs: each NOTIFY it reads wakes one sender. */
struct listener {
	pthread_t thread;
	bool started;
	PGconn *pg;
	bool down;
	unsigned backoff_ms;
};

struct email_senders {
	char *conninfo;
	char *db_name;
	int n;
	int poll_ms;
	struct delivery delivery; /* transport set per sender */
	struct smtp_options smtp;
	int wake[2]; /* written once at stop, never drained */
	atomic_bool stop;
	atomic_int connected;
	/* wake-ups handed out by the listener and not taken yet (at most n):
	 * a sender waits on cv until it takes one or its poll falls due */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	bool sync_ready;   /* mu and cv initialised */
	int tokens;
	struct listener listener;
	struct sender *senders;
	struct metric *sent, *send_failures, *failed, *depth, *up;
	struct metric *claims_found, *claims_empty;
};

static time_t wall_now(void *self)
{
	(void)self;
	return time(NULL);
}

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* libpq's messages run over lines indented with tabs: one line, spaces. */
static void one_line(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
	for (char *p = dst; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	for (size_t n = strlen(dst); n > 0 && dst[n - 1] == ' '; n--)
		dst[n - 1] = '\0';
}

static void disconnect(struct sender *s)
{
	if (s->pg) {
		PQfinish(s->pg);
		s->pg = NULL;
		s->queue.pg = NULL;
		atomic_fetch_sub(&s->owner->connected, 1);
		metric_set(s->owner->up,
		           (double)atomic_load(&s->owner->connected));
	}
}

/* A failed connect or a lost connection: log the transition once. */
static void link_failed(struct sender *s, const char *err)
{
	uint64_t now = shop_now_ns();

	disconnect(s);
	if (!s->down)
		slog_warn("email sender %d cannot use '%s': %s", s->index,
		          s->owner->db_name, err);
	s->down = true;
	s->retry_at = now + (uint64_t)s->backoff_ms * 1000000u;
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
	                                                   : s->backoff_ms * 2;
}

static PGconn *open_pg(const char *conninfo, const char *app)
{
	const char *keys[] = {
	        "dbname",     "connect_timeout", "application_name",
	        "keepalives", "keepalives_idle", "tcp_user_timeout",
	        NULL};
	const char *vals[] = {conninfo, "2", app, "1", "10", "10000", NULL};

	return PQconnectdbParams(keys, vals, 1);
}

static int connect_db(struct sender *s)
{
	char err[512];
	PGresult *res;

	s->pg = open_pg(s->owner->conninfo, "email-sender");
	if (!s->pg || PQstatus(s->pg) != CONNECTION_OK) {
		one_line(err, sizeof(err),
		         s->pg ? PQerrorMessage(s->pg) : "out of memory");
		PQfinish(s->pg);
		s->pg = NULL;
		link_failed(s, err);
		return SHOP_EUNAVAIL;
	}
	atomic_fetch_add(&s->owner->connected, 1);
	metric_set(s->owner->up, (double)atomic_load(&s->owner->connected));
	PQsetNoticeProcessor(s->pg, quiet_notice, NULL);
	/* synchronous_commit off: a claim or an outcome lost to a database
	 * crash only makes the message due again (sent once more, same
	 * Message-ID): the at-least-once the senders promise anyway, and no
	 * fsync wait per message. The consumer's transactions stay durable. */
	res = PQexec(s->pg, "SET statement_timeout = 5000; "
	                    "SET synchronous_commit = off");
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		one_line(err, sizeof(err),
		         res ? PQresultErrorMessage(res) : "setup failed");
		PQclear(res);
		link_failed(s, err);
		return SHOP_EUNAVAIL;
	}
	PQclear(res);
	if (pg_email_queue_prepare(s->pg, s->owner->db_name) != 0) {
		link_failed(s, "cannot prepare statements");
		return SHOP_EUNAVAIL;
	}
	s->queue.pg = s->pg;
	if (s->down)
		slog_info("email sender %d reaches '%s' again", s->index,
		          s->owner->db_name);
	else if (!s->ever_up)
		slog_debug("email sender %d connected to '%s'", s->index,
		           s->owner->db_name);
	s->down = false;
	s->ever_up = true;
	s->backoff_ms = BACKOFF_MIN_MS;
	return 0;
}

/* ---- the listener ---- */

/* Hands out n wake-ups, one sender each (every sender at most once). */
static void wake_senders(struct email_senders *o, int n)
{
	pthread_mutex_lock(&o->mu);
	o->tokens = o->tokens + n > o->n ? o->n : o->tokens + n;
	if (o->tokens >= o->n)
		pthread_cond_broadcast(&o->cv);
	else
		for (int i = 0; i < n; i++)
			pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

static void listener_failed(struct email_senders *o, const char *err)
{
	struct listener *l = &o->listener;

	PQfinish(l->pg);
	l->pg = NULL;
	if (!l->down)
		slog_warn("the email senders' listener cannot use '%s': %s; "
		          "they poll every %d ms meanwhile",
		          o->db_name, err, o->poll_ms);
	l->down = true;
}

static void listener_connect(struct email_senders *o)
{
	struct listener *l = &o->listener;
	char err[512];
	PGresult *res;

	l->pg = open_pg(o->conninfo, "email-listener");
	if (!l->pg || PQstatus(l->pg) != CONNECTION_OK) {
		one_line(err, sizeof(err),
		         l->pg ? PQerrorMessage(l->pg) : "out of memory");
		listener_failed(o, err);
		return;
	}
	PQsetNoticeProcessor(l->pg, quiet_notice, NULL);
	res = PQexec(l->pg, "LISTEN " EMAIL_QUEUED_CHANNEL);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		one_line(err, sizeof(err),
		         res ? PQresultErrorMessage(res) : "listen failed");
		PQclear(res);
		listener_failed(o, err);
		return;
	}
	PQclear(res);
	if (l->down)
		slog_info("the email senders' listener reaches '%s' again",
		          o->db_name);
	l->down = false;
	l->backoff_ms = BACKOFF_MIN_MS;
	/* what was queued while nobody listened */
	wake_senders(o, o->n);
}

/* Reads the NOTIFYs that came in: one per transaction that queued mail. */
static int listener_drain(struct listener *l)
{
	PGnotify *nf;
	int n = 0;

	while ((nf = PQnotifies(l->pg)) != NULL) {
		n++;
		PQfreemem(nf);
	}
	return n;
}

static void *listener_main(void *arg)
{
	struct email_senders *o = arg;
	struct listener *l = &o->listener;

	while (!atomic_load(&o->stop)) {
		struct pollfd fds[2] = {{.fd = o->wake[0], .events = POLLIN},
		                        {.fd = -1, .events = POLLIN}};
		int timeout = -1;
		int n;

		if (!l->pg)
			listener_connect(o);
		if (!l->pg) {
			timeout = (int)l->backoff_ms;
			l->backoff_ms *= 2;
			if (l->backoff_ms > BACKOFF_MAX_MS)
				l->backoff_ms = BACKOFF_MAX_MS;
		}
		if (l->pg)
			fds[1].fd = PQsocket(l->pg);
		if (poll(fds, 2, timeout) < 0 && errno != EINTR)
			slog_warn("the email listener cannot poll: %s",
			          strerror(errno));
		if (!l->pg || !fds[1].revents)
			continue;
		/* a backend terminated says so first, then closes */
		if (!PQconsumeInput(l->pg) ||
		    PQstatus(l->pg) == CONNECTION_BAD) {
			char err[512];

			one_line(err, sizeof(err), PQerrorMessage(l->pg));
			listener_failed(o, err);
			continue;
		}
		n = listener_drain(l);
		if (n > 0)
			wake_senders(o, n);
	}
	PQfinish(l->pg);
	l->pg = NULL;
	return NULL;
}

/* ---- the senders ---- */

/* Sends until nothing is due, the connection broke or we stop. */
static void send_due(struct sender *s)
{
	struct email_senders *o = s->owner;
	struct delivery d = o->delivery;

	d.transport = s->smtp;
	while (s->pg && !atomic_load(&o->stop)) {
		enum delivery_outcome outcome = DELIVERY_IDLE;
		char why[512] = "";
		int rc =
		        delivery_run_once(&d, pg_email_queue_port(&s->queue),
		                          s->arena, &outcome, why, sizeof(why));

		arena_reset(s->arena);
		if (rc == 0)
			metric_add(outcome == DELIVERY_IDLE ? o->claims_empty
			                                    : o->claims_found,
			           1);
		if (rc) {
			if (rc == SHOP_EUNAVAIL ||
			    PQstatus(s->pg) == CONNECTION_BAD) {
				char err[512];

				one_line(err, sizeof(err),
				         PQerrorMessage(s->pg));
				link_failed(s, *err ? err : "connection lost");
			}
			return;
		}
		switch (outcome) {
		case DELIVERY_IDLE:
			return;
		case DELIVERY_SENT:
			metric_add(o->sent, 1);
			break;
		case DELIVERY_RETRY:
			metric_add(o->send_failures, 1);
			slog_kv(SLOG_WARN, NULL,
			        "cannot send an email; will retry",
			        SLOG_S("error", why));
			break;
		case DELIVERY_FAILED:
			metric_add(o->send_failures, 1);
			metric_add(o->failed, 1);
			slog_kv(SLOG_ERROR, NULL,
			        "cannot send an email; giving up after the "
			        "last "
			        "attempt",
			        SLOG_S("error", why),
			        SLOG_I("max_attempts", d.max_attempts));
			break;
		}
	}
}

static void refresh_depth(struct sender *s)
{
	long long depth;
	uint64_t now = shop_now_ns();

	if (s->index != 0 || !s->pg || now < s->next_depth)
		return;
	s->next_depth = now + DEPTH_EVERY_NS;
	if (pg_email_queue_depth(&s->queue, &depth) == 0)
		metric_set(s->owner->depth, (double)depth);
}

static int ms_until(uint64_t when, uint64_t now)
{
	return when <= now ? 0 : (int)((when - now + 999999u) / 1000000u);
}

/* Waits for a wake-up from the listener, the stop, or timeout_ms. */
static void wait_for_work(struct sender *s, int timeout_ms)
{
	struct email_senders *o = s->owner;
	struct timespec until;

	shop_deadline_after_ms(CLOCK_MONOTONIC, timeout_ms, &until);
	pthread_mutex_lock(&o->mu);
	while (o->tokens == 0 && !atomic_load(&o->stop))
		if (pthread_cond_timedwait(&o->cv, &o->mu, &until) == ETIMEDOUT)
			break;
	if (o->tokens > 0)
		o->tokens--;
	pthread_mutex_unlock(&o->mu);
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	struct email_senders *o = s->owner;

	while (!atomic_load(&o->stop)) {
		uint64_t now = shop_now_ns();
		int timeout = o->poll_ms;

		if (!s->pg && now >= s->retry_at)
			connect_db(s);
		if (s->pg) {
			send_due(s);
			refresh_depth(s);
		}
		if (atomic_load(&o->stop))
			break;
		now = shop_now_ns();
		if (!s->pg && ms_until(s->retry_at, now) < timeout)
			timeout = ms_until(s->retry_at, now);
		if (s->index == 0 && s->pg &&
		    ms_until(s->next_depth, now) < timeout)
			timeout = ms_until(s->next_depth, now);
		wait_for_work(s, timeout);
	}
	disconnect(s);
	return NULL;
}

static int sync_init(struct email_senders *o)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr) != 0)
		return -1;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&o->cv, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0)
		return -1;
	if (pthread_mutex_init(&o->mu, NULL) != 0) {
		pthread_cond_destroy(&o->cv);
		return -1;
	}
	o->sync_ready = true;
	return 0;
}

static void senders_release(struct email_senders *o)
{
	if (!o)
		return;
	for (int i = 0; o->senders && i < o->n; i++) {
		smtp_transport_free(o->senders[i].smtp);
		arena_free(o->senders[i].arena);
	}
	free(o->senders);
	if (o->sync_ready) {
		pthread_cond_destroy(&o->cv);
		pthread_mutex_destroy(&o->mu);
	}
	if (o->wake[0] >= 0)
		close(o->wake[0]);
	if (o->wake[1] >= 0)
		close(o->wake[1]);
	free(o->conninfo);
	free(o->db_name);
	free(o);
}

int email_senders_start(const struct email_senders_options *opt,
                        struct email_senders **out)
{
	struct email_senders *o;
	int rc = SHOP_ENOMEM;

	if (!opt || !opt->conninfo || opt->senders < 1 || opt->senders > 256 ||
	    opt->poll_ms < 0 || !opt->from || opt->max_attempts < 1 ||
	    !opt->smtp.url || opt->smtp.timeout_ms < 1)
		return SHOP_EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return SHOP_ENOMEM;
	o->wake[0] = o->wake[1] = -1;
	if (sync_init(o) != 0) {
		free(o);
		return SHOP_ENOMEM;
	}
	o->conninfo = strdup(opt->conninfo);
	o->db_name = strdup(opt->db_name ? opt->db_name : "database");
	o->senders = calloc((size_t)opt->senders, sizeof(*o->senders));
	if (!o->conninfo || !o->db_name || !o->senders)
		goto fail;
	o->n = opt->senders;
	o->poll_ms = opt->poll_ms ? opt->poll_ms : 1000;
	o->smtp = opt->smtp;
	o->delivery = (struct delivery){
	        .clock = {.now = wall_now},
	        .from = opt->from,
	        .max_attempts = opt->max_attempts,
	        .lease_ms = (int)opt->smtp.timeout_ms * 2 + LEASE_MARGIN_MS,
	};
	atomic_init(&o->stop, false);
	atomic_init(&o->connected, 0);
	o->sent = metrics_counter("emails_sent_total",
	                          "Emails the SMTP server accepted", "");
	o->send_failures = metrics_counter(
	        "email_send_failures_total",
	        "Send attempts that failed (retried or given up)", "");
	o->failed = metrics_counter(
	        "emails_failed_total",
	        "Emails given up after their last failed attempt", "");
	o->depth = metrics_gauge("email_queue_depth",
	                         "Emails queued and not yet sent", "");
	o->up = metrics_gauge("email_senders_connected",
	                      "Sender threads connected to the database", "");
	metric_set(o->up, 0);
	o->claims_found = metrics_counter(
	        "email_claims_total",
	        "Senders' looks for a due message, by what they found",
	        "result=\"message\"");
	o->claims_empty = metrics_counter(
	        "email_claims_total",
	        "Senders' looks for a due message, by what they found",
	        "result=\"none\"");
	for (int i = 0; i < o->n; i++) {
		struct sender *s = &o->senders[i];

		s->owner = o;
		s->index = i;
		s->backoff_ms = BACKOFF_MIN_MS;
		s->queue.db_name = o->db_name;
		s->smtp = smtp_transport_new(&o->smtp);
		s->arena = arena_new(0);
		if (!s->smtp.ops || !s->arena)
			goto fail;
	}
	rc = SHOP_ERR;
	if (pipe2(o->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		slog_error("cannot start the email senders: pipe: %s",
		           strerror(errno));
		goto fail;
	}
	for (int i = 0; i < o->n; i++) {
		if (pthread_create(&o->senders[i].thread, NULL, sender_main,
		                   &o->senders[i]) != 0) {
			slog_error("cannot start email sender %d: no thread",
			           i);
			email_senders_free(o);
			return SHOP_ERR;
		}
		o->senders[i].started = true;
	}
	o->listener.backoff_ms = BACKOFF_MIN_MS;
	if (pthread_create(&o->listener.thread, NULL, listener_main, o) != 0) {
		slog_error("cannot start the email listener: no thread");
		email_senders_free(o);
		return SHOP_ERR;
	}
	o->listener.started = true;
	*out = o;
	return 0;
fail:
	senders_release(o);
	return rc;
}

void email_senders_free(struct email_senders *o)
{
	if (!o)
		return;
	atomic_store(&o->stop, true);
	if (o->wake[1] >= 0 && write(o->wake[1], "x", 1) < 0 && errno != EAGAIN)
		slog_warn("cannot wake the email listener: %s",
		          strerror(errno));
	pthread_mutex_lock(&o->mu);
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	if (o->listener.started)
		pthread_join(o->listener.thread, NULL);
	for (int i = 0; i < o->n; i++)
		if (o->senders[i].started)
			pthread_join(o->senders[i].thread, NULL);
	senders_release(o);
}
