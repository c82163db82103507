#include "sodium_password_hasher.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#if crypto_pwhash_STRBYTES > USER_PASSWORD_HASH_MAX
#error "USER_PASSWORD_HASH_MAX is smaller than crypto_pwhash_STRBYTES"
#endif

#define OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

struct sodium_hasher {
	pthread_mutex_t lock;
	pthread_cond_t slot_freed; /* on CLOCK_MONOTONIC */
	int running, waiting;
	struct sodium_hasher_options opt;
	char dummy[crypto_pwhash_STRBYTES];

	struct metric *in_flight, *queued;
	struct metric *hash_seconds, *verify_seconds;
	struct metric *queue_full, *timed_out;
};

static void publish_state(struct sodium_hasher *h)
{
	metric_set(h->in_flight, h->running);
	metric_set(h->queued, h->waiting);
}

/* Takes a slot, waiting in the bounded queue. Returns 0, SHOP_EUNAVAIL
 * (queue full) or SHOP_ETIMEDOUT. */
static int slot_acquire(struct sodium_hasher *h)
{
	struct timespec deadline;
	int rc = 0;

	shop_deadline_after_ms(CLOCK_MONOTONIC, h->opt.queue_timeout_ms,
	                       &deadline);
	pthread_mutex_lock(&h->lock);
	if (h->running >= h->opt.concurrency) {
		if (h->waiting >= h->opt.max_queue) {
			pthread_mutex_unlock(&h->lock);
			metric_add(h->queue_full, 1);
			return SHOP_EUNAVAIL;
		}
		h->waiting++;
		publish_state(h);
		while (h->running >= h->opt.concurrency && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&h->slot_freed, &h->lock,
			                            &deadline);
		h->waiting--;
		if (h->running >= h->opt.concurrency) {
			publish_state(h);
			pthread_mutex_unlock(&h->lock);
			metric_add(h->timed_out, 1);
			return SHOP_ETIMEDOUT;
		}
	}
	h->running++;
	publish_state(h);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

static void slot_release(struct sodium_hasher *h)
{
	pthread_mutex_lock(&h->lock);
	h->running--;
	publish_state(h);
	/* Every waiter re-checks: one that timed out meanwhile must not
	 * swallow the wake-up of another. */
	pthread_cond_broadcast(&h->slot_freed);
	pthread_mutex_unlock(&h->lock);
}

static int sodium_hash(void *self, const char *password,
                       char out[USER_PASSWORD_HASH_MAX])
{
	struct sodium_hasher *h = self;
	char hash[crypto_pwhash_STRBYTES];
	double start;
	int rc = slot_acquire(h);

	if (rc)
		return rc;
	start = shop_now_s();
	rc = crypto_pwhash_str(hash, password, strlen(password), OPSLIMIT,
	                       MEMLIMIT);
	metric_observe(h->hash_seconds, shop_now_s() - start);
	slot_release(h);
	if (rc != 0) {
		/* The only runtime failure is the 64 MiB allocation. */
		slog_error("cannot hash a password: out of memory");
		return SHOP_ENOMEM;
	}
	memcpy(out, hash, sizeof(hash));
	return 0;
}

static int sodium_verify(void *self, const char *hash, const char *password)
{
	struct sodium_hasher *h = self;
	double start;
	int rc = slot_acquire(h);

	if (rc)
		return rc;
	start = shop_now_s();
	rc = crypto_pwhash_str_verify(hash, password, strlen(password));
	metric_observe(h->verify_seconds, shop_now_s() - start);
	slot_release(h);
	return rc == 0 ? 0 : SHOP_EAUTH;
}

static int sodium_verify_dummy(void *self, const char *password)
{
	struct sodium_hasher *h = self;
	int rc = sodium_verify(self, h->dummy, password);

	return rc == 0 ? SHOP_EAUTH : rc;
}

static int sodium_needs_rehash(void *self, const char *hash)
{
	(void)self;
	/* -1: not an Argon2id string of today's format (say Argon2i), which
	 * verify() accepted: replace it too. */
	return crypto_pwhash_str_needs_rehash(hash, OPSLIMIT, MEMLIMIT) != 0;
}

static const struct password_hasher_ops sodium_ops = {
        .hash = sodium_hash,
        .verify = sodium_verify,
        .verify_dummy = sodium_verify_dummy,
        .needs_rehash = sodium_needs_rehash,
};

static void create_metrics(struct sodium_hasher *h)
{
	static const char hist_help[] =
	        "Time spent computing Argon2id (queueing excluded)";

	h->in_flight = metrics_gauge("password_hash_in_flight",
	                             "Password hashes being computed", "");
	h->queued = metrics_gauge("password_hash_queued",
	                          "Password hashes waiting for a slot", "");
	h->hash_seconds = metrics_histogram("password_hash_seconds", hist_help,
	                                    "op=\"hash\"");
	h->verify_seconds = metrics_histogram("password_hash_seconds",
	                                      hist_help, "op=\"verify\"");
	h->queue_full = metrics_counter(
	        "password_hash_rejected_total",
	        "Password hashes refused because too many were waiting",
	        "reason=\"queue_full\"");
	h->timed_out = metrics_counter(
	        "password_hash_rejected_total",
	        "Password hashes refused because too many were waiting",
	        "reason=\"timeout\"");
}

struct password_hasher
sodium_password_hasher_new(const struct sodium_hasher_options *opt)
{
	struct sodium_hasher *h;
	pthread_condattr_t attr;
	unsigned char secret[32];

	if (opt->concurrency < 1 || opt->max_queue < 0 ||
	    opt->queue_timeout_ms < 1)
		BUG("sodium_password_hasher_new: bad options");
	if (sodium_init() < 0) {
		slog_error("cannot initialize libsodium");
		return (struct password_hasher){0};
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return (struct password_hasher){0};
	h->opt = *opt;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&h->slot_freed, &attr);
	pthread_condattr_destroy(&attr);
	create_metrics(h);

	/* The dummy: a hash of a random secret nobody knows, made with
	 * today's parameters so that checking it costs what a real one
	 * does. */
	randombytes_buf(secret, sizeof(secret));
	if (crypto_pwhash_str(h->dummy, (const char *)secret, sizeof(secret),
	                      OPSLIMIT, MEMLIMIT) != 0) {
		slog_error("cannot hash a password: out of memory");
		sodium_memzero(secret, sizeof(secret));
		sodium_password_hasher_free((struct password_hasher){
		        .ops = &sodium_ops, .self = h});
		return (struct password_hasher){0};
	}
	sodium_memzero(secret, sizeof(secret));
	publish_state(h);
	return (struct password_hasher){.ops = &sodium_ops, .self = h};
}

void sodium_password_hasher_free(struct password_hasher hasher)
{
	struct sodium_hasher *h = hasher.self;

	if (!h)
		return;
	pthread_cond_destroy(&h->slot_freed);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
