#ifndef PAYMENT_INFRA_MOCK_PROCESSOR_H
#define PAYMENT_INFRA_MOCK_PROCESSOR_H

#include "../core/ports.h"

/*
 * The built-in mock payment provider (API.md "Payments"), the
 * implementation of core's payment_processor port:
 *
 *   amount_cents > amount_limit_cents  declined "amount_limit_exceeded"
 *                                      (checked first, whatever the token)
 *   tok_visa, tok_mastercard           succeeded, provider_ref
 *                                      "mock_ch_" + 24 random hex digits
 *   tok_chargeDeclined                 declined "card_declined"
 *   tok_insufficientFunds              declined "insufficient_funds"
 *   any other token                    declined "invalid_payment_token"
 *
 * Tokens are compared exactly (case-sensitive). Before answering it sleeps
 * latency_ms (a simulated provider round trip) in slices of at most 50 ms,
 * and gives up with SHOP_EUNAVAIL, charging nothing, as soon as the
 * caller's cancel says so.
 */
struct mock_processor_options {
	long long amount_limit_cents; /* >= 0 */
	int latency_ms;               /* 0..60000 */
};

/* The rule above without the sleep: fills *out for o. Returns 0, or
 * SHOP_ERR when the kernel gives no random bytes. */
int mock_processor_decide(const struct mock_processor_options *opt,
                          const struct payment_order *o,
                          struct charge_result *out);

/*
 * Returns a processor whose self is heap-allocated (free with
 * mock_processor_free), or one with NULL ops when out of memory or an
 * option is out of range. opt is copied.
 */
struct payment_processor
mock_processor_new(const struct mock_processor_options *opt);

/* Accepts a processor with NULL self. */
void mock_processor_free(struct payment_processor p);

#endif
