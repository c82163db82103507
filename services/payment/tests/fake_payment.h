#ifndef PAYMENT_TESTS_FAKE_PAYMENT_H
#define PAYMENT_TESTS_FAKE_PAYMENT_H

#include <stdbool.h>

#include "../src/core/ports.h"

/*
 * In-memory stand-ins for the payment's ports (core/ports.h), for the unit
 * tests (git's odb/source-inmemory.c).
 *
 * One store of payments backs both the repository (reads) and the
 * transaction port (writes): insert refuses a second payment of an order
 * with SHOP_ECONFLICT like the unique constraint, publish records the
 * events it was given, and created_at is a clock that advances one second
 * per insert from FAKE_PAYMENT_T0. Lists are newest first.
 *
 * The processor answers what the test scripted (succeeded with a
 * reference, or declined with a reason) and counts its calls.
 *
 * Any slot can be told to fail its next call, or every call, with a given
 * error; a failing call changes nothing.
 */
#define FAKE_PAYMENT_T0  ((time_t)1763719323) /* 2025-11-21T10:02:03Z */
#define FAKE_PAYMENT_MAX 64

struct fake_payment;

enum fake_payment_slot {
	FAKE_REPO_LIST,
	FAKE_REPO_GET,
	FAKE_TX_LOCK,
	FAKE_TX_INSERT,
	FAKE_TX_PUBLISH,
	FAKE_PROCESSOR_CHARGE,
	FAKE_SLOT_COUNT
};

/* One event publish was given. */
struct fake_event {
	char event_type[32]; /* payment.completed / payment.failed */
	struct payment payment;
	char correlation_id[64]; /* "" when NULL */
	char traceparent[64];    /* "" when NULL */
};

/* Returns an empty fake or NULL; free with fake_payment_free (accepts
 * NULL). */
struct fake_payment *fake_payment_new(void);
void fake_payment_free(struct fake_payment *f);

/* The ports, borrowing f: they must not outlive it. */
struct payment_repo fake_payment_repo(struct fake_payment *f);
struct payment_tx fake_payment_tx(struct fake_payment *f);
struct payment_processor fake_payment_processor(struct fake_payment *f);

/* What the processor answers from now on: succeeded with ref (reason
 * NULL) or declined with reason (ref NULL). Initially succeeded with
 * "mock_ch_fake". */
void fake_payment_answer(struct fake_payment *f, const char *ref,
                         const char *reason);

/* The next call of slot fails with err (0 clears); fail_always: every
 * call until cleared. */
void fake_payment_fail_next(struct fake_payment *f, enum fake_payment_slot slot,
                            int err);
void fake_payment_fail_always(struct fake_payment *f,
                              enum fake_payment_slot slot, int err);

/* Calls of slot so far, failing or not. */
int fake_payment_calls(const struct fake_payment *f,
                       enum fake_payment_slot slot);

/* Stored payments / published events, and the i-th of each. */
size_t fake_payment_count(const struct fake_payment *f);
size_t fake_payment_events(const struct fake_payment *f);
const struct fake_event *fake_payment_event(const struct fake_payment *f,
                                            size_t i);

/* Stores p directly (as if charged earlier), created_at from the clock.
 * Returns 0, SHOP_ECONFLICT or -1 when full. */
int fake_payment_put(struct fake_payment *f, const struct payment *p);

/* The user_id the last list was asked for ("" for NULL: every user). */
const char *fake_payment_last_list_user(const struct fake_payment *f);

#endif
