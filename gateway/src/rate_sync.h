#ifndef GATEWAY_RATE_SYNC_H
#define GATEWAY_RATE_SYNC_H

#include "rate_limit.h"
#include "rl_store.h"

#include <stdint.h>

/*
 * The rate limits' syncer: a thread that every interval takes the counts the
 * workers admitted (rate_limit_collect()), adds them to the shared counters
 * in one call to the store (one Redis round trip), and publishes the totals
 * it reads back (rate_limit_apply()). With nothing to push it pings the
 * store once a second, so that the live state follows the store even when
 * idle.
 *
 * The limits are live (enforced) while the store answers: the last push or
 * ping succeeded. When it fails they stop being live (fail open: nothing
 * counted, nothing refused); one warning says so, and one line when they
 * are live again. The gauge gateway_rate_limit_live is 1 or 0.
 */

struct rate_sync;

/*
 * A syncer of rl (borrowed, must outlive it) through store (owned from now
 * on, even on failure: freed by rate_sync_free()) every interval_ms (>= 1);
 * where names the store in logs (copied; never a password). No thread
 * yet. Returns 0 and *out, or SHOP_ENOMEM.
 */
int rate_sync_new(struct rate_limit *rl, struct rl_store store,
                  long interval_ms, const char *where, struct rate_sync **out);

/* Starts the thread. Returns 0 or SHOP_ERR (logged). */
int rate_sync_start(struct rate_sync *s);

/*
 * One round at now (seconds since the epoch) and now_ns (monotonic), as the
 * thread runs it: collect, push or ping, apply, and the live state. For
 * tests; not while the thread runs. Returns what the store returned (0
 * when nothing was due).
 */
int rate_sync_round(struct rate_sync *s, long long now, uint64_t now_ns);

/* Stops the thread (within one interval and one store call), frees the
 * store and s. Accepts NULL. */
void rate_sync_free(struct rate_sync *s);

#endif
