#include "mock_processor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shop/error.h"
#include "shop/util.h"

#define SLICE_MS    50
#define LATENCY_MAX 60000

struct mock_processor {
	struct mock_processor_options opt;
};

/* The token table; NULL reason means the charge succeeds. */
static const struct {
	const char *token;
	const char *reason;
} tokens[] = {
        {"tok_visa", NULL},
        {"tok_mastercard", NULL},
        {"tok_chargeDeclined", PAYMENT_REASON_CARD_DECLINED},
        {"tok_insufficientFunds", PAYMENT_REASON_INSUFFICIENT},
};

static void decline(struct charge_result *out, const char *reason)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
}

int mock_processor_decide(const struct mock_processor_options *opt,
                          const struct payment_order *o,
                          struct charge_result *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[12];
	struct charge_result r = {0};
	size_t i, k;

	if (o->amount_cents > opt->amount_limit_cents) {
		decline(out, PAYMENT_REASON_AMOUNT_LIMIT);
		return 0;
	}
	for (i = 0; i < sizeof(tokens) / sizeof(*tokens); i++)
		if (strcmp(o->payment_token, tokens[i].token) == 0)
			break;
	if (i == sizeof(tokens) / sizeof(*tokens)) {
		decline(out, PAYMENT_REASON_INVALID_TOKEN);
		return 0;
	}
	if (tokens[i].reason) {
		decline(out, tokens[i].reason);
		return 0;
	}
	if (shop_random_bytes(rnd, sizeof(rnd)) < 0)
		return SHOP_ERR;
	r.succeeded = true;
	memcpy(r.provider_ref, "mock_ch_", 8);
	for (k = 0; k < sizeof(rnd); k++) {
		r.provider_ref[8 + 2 * k] = hex[rnd[k] >> 4];
		r.provider_ref[9 + 2 * k] = hex[rnd[k] & 15];
	}
	r.provider_ref[8 + 2 * sizeof(rnd)] = '\0';
	*out = r;
	return 0;
}

static bool cancelled(const struct charge_cancel *c)
{
	return c && c->cancelled && c->cancelled(c->arg);
}

static int mock_charge(void *self, const struct payment_order *o,
                       const struct charge_cancel *cancel,
                       struct charge_result *out)
{
	struct mock_processor *m = self;
	int left = m->opt.latency_ms;

	while (left > 0) {
		int ms = left < SLICE_MS ? left : SLICE_MS;
		struct timespec ts = {0, (long)ms * 1000000L};

		if (cancelled(cancel))
			return SHOP_EUNAVAIL;
		nanosleep(&ts, NULL);
		left -= ms;
	}
	if (cancelled(cancel))
		return SHOP_EUNAVAIL;
	return mock_processor_decide(&m->opt, o, out);
}

static const struct payment_processor_ops mock_ops = {
        .charge = mock_charge,
};

struct payment_processor
mock_processor_new(const struct mock_processor_options *opt)
{
	struct mock_processor *m;

	if (opt->amount_limit_cents < 0 || opt->latency_ms < 0 ||
	    opt->latency_ms > LATENCY_MAX)
		return (struct payment_processor){0};
	m = calloc(1, sizeof(*m));
	if (!m)
		return (struct payment_processor){0};
	m->opt = *opt;
	return (struct payment_processor){.ops = &mock_ops, .self = m};
}

void mock_processor_free(struct payment_processor p)
{
	free(p.self);
}
