#ifndef USER_INFRA_SODIUM_PASSWORD_HASHER_H
#define USER_INFRA_SODIUM_PASSWORD_HASHER_H

#include "../core/ports.h"

/*
 * The password hasher on libsodium: crypto_pwhash_str (Argon2id with
 * OPSLIMIT_INTERACTIVE and MEMLIMIT_INTERACTIVE, about 64 MiB each),
 * crypto_pwhash_str_verify and crypto_pwhash_str_needs_rehash.
 *
 * A counting semaphore bounds the hashes and verifications running at
 * once to `concurrency`, so a burst of sign-ins costs at most
 * concurrency x 64 MiB. A call that finds every slot taken waits in a
 * queue of at most `max_queue` callers for up to `queue_timeout_ms`:
 * beyond the queue it is refused at once with SHOP_EUNAVAIL, after the
 * timeout with SHOP_ETIMEDOUT. Waiting holds the calling HTTP thread, which
 * is why the daemon sizes its thread pool from these numbers (README.md).
 *
 * Metrics: password_hash_seconds{op="hash"|"verify"} (the Argon2 work,
 * queueing excluded), password_hash_in_flight, password_hash_queued,
 * password_hash_rejected_total{reason="queue_full"|"timeout"}.
 */
struct sodium_hasher_options {
	int concurrency;      /* >= 1 */
	int max_queue;        /* >= 0 */
	int queue_timeout_ms; /* >= 1 */
};

/*
 * Initializes libsodium and makes the dummy hash verify_dummy() checks
 * against. Returns a hasher (free with sodium_password_hasher_free), or
 * one with NULL ops when libsodium cannot start or memory runs out
 * (logged).
 */
struct password_hasher
sodium_password_hasher_new(const struct sodium_hasher_options *opt);

/* No call may be in progress. Accepts a hasher with NULL self. */
void sodium_password_hasher_free(struct password_hasher h);

#endif
