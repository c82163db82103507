#include "fake_payment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"

struct fake_payment {
	struct payment items[FAKE_PAYMENT_MAX];
	size_t n;
	struct fake_event events[FAKE_PAYMENT_MAX];
	size_t nevents;
	time_t clock;
	int fail_next[FAKE_SLOT_COUNT];
	int fail_always[FAKE_SLOT_COUNT];
	int calls[FAKE_SLOT_COUNT];
	char ref[PAYMENT_PROVIDER_REF_MAX];
	char reason[PAYMENT_REASON_MAX];
	char last_list_user[40];
};

/* Counts the call; returns the error it must fail with, or 0. */
static int enter(struct fake_payment *f, enum fake_payment_slot s)
{
	int err;

	f->calls[s]++;
	if (f->fail_always[s])
		return f->fail_always[s];
	err = f->fail_next[s];
	f->fail_next[s] = 0;
	return err;
}

struct fake_payment *fake_payment_new(void)
{
	struct fake_payment *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->clock = FAKE_PAYMENT_T0;
	snprintf(f->ref, sizeof(f->ref), "mock_ch_fake");
	return f;
}

void fake_payment_free(struct fake_payment *f)
{
	free(f);
}

void fake_payment_answer(struct fake_payment *f, const char *ref,
                         const char *reason)
{
	snprintf(f->ref, sizeof(f->ref), "%s", ref ? ref : "");
	snprintf(f->reason, sizeof(f->reason), "%s", reason ? reason : "");
}

void fake_payment_fail_next(struct fake_payment *f, enum fake_payment_slot slot,
                            int err)
{
	f->fail_next[slot] = err;
}

void fake_payment_fail_always(struct fake_payment *f,
                              enum fake_payment_slot slot, int err)
{
	f->fail_always[slot] = err;
}

int fake_payment_calls(const struct fake_payment *f,
                       enum fake_payment_slot slot)
{
	return f->calls[slot];
}

size_t fake_payment_count(const struct fake_payment *f)
{
	return f->n;
}

size_t fake_payment_events(const struct fake_payment *f)
{
	return f->nevents;
}

const struct fake_event *fake_payment_event(const struct fake_payment *f,
                                            size_t i)
{
	return i < f->nevents ? &f->events[i] : NULL;
}

const char *fake_payment_last_list_user(const struct fake_payment *f)
{
	return f->last_list_user;
}

static struct payment *by_order(struct fake_payment *f, const char *order_id)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->items[i].order_id, order_id) == 0)
			return &f->items[i];
	return NULL;
}

int fake_payment_put(struct fake_payment *f, const struct payment *p)
{
	if (by_order(f, p->order_id))
		return SHOP_ECONFLICT;
	if (f->n == FAKE_PAYMENT_MAX)
		return -1;
	f->items[f->n] = *p;
	f->items[f->n].created_at = f->clock++;
	f->n++;
	return 0;
}

/* ---- the repository ---- */

static int fake_list(void *self, struct arena *a, const char *user_id,
                     const struct payment_query *q, struct payment_page *out)
{
	struct fake_payment *f = self;
	struct payment *items;
	long long total = 0, skip = payment_query_offset(q);
	size_t k = 0;
	int err = enter(f, FAKE_REPO_LIST);

	snprintf(f->last_list_user, sizeof(f->last_list_user), "%s",
	         user_id ? user_id : "");
	if (err)
		return err;
	items = arena_calloc(a, (size_t)q->page_size, sizeof(*items));
	if (!items)
		return SHOP_ENOMEM;
	/* Newest first: the store is in insertion (= created_at) order. */
	for (size_t i = f->n; i-- > 0;) {
		const struct payment *p = &f->items[i];

		if (user_id && strcmp(p->user_id, user_id) != 0)
			continue;
		if (q->order_id && strcmp(p->order_id, q->order_id) != 0)
			continue;
		if (total++ < skip || k == (size_t)q->page_size)
			continue;
		items[k++] = *p;
	}
	out->items = items;
	out->n = k;
	out->total = total;
	return 0;
}

static int fake_get(void *self, const char *id, struct payment *out)
{
	struct fake_payment *f = self;
	int err = enter(f, FAKE_REPO_GET);

	if (err)
		return err;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->items[i].id, id) == 0) {
			*out = f->items[i];
			return 0;
		}
	return SHOP_ENOTFOUND;
}

static const struct payment_repo_ops fake_repo_ops = {
        .list = fake_list,
        .get = fake_get,
};

struct payment_repo fake_payment_repo(struct fake_payment *f)
{
	return (struct payment_repo){.ops = &fake_repo_ops, .self = f};
}

/* ---- the transaction ---- */

static int fake_lock(void *self, const char *order_id, bool *found,
                     struct payment *existing)
{
	struct fake_payment *f = self;
	const struct payment *p;
	int err = enter(f, FAKE_TX_LOCK);

	if (err)
		return err;
	p = by_order(f, order_id);
	*found = p != NULL;
	if (p)
		*existing = *p;
	return 0;
}

static int fake_insert(void *self, struct payment *p)
{
	struct fake_payment *f = self;
	int err = enter(f, FAKE_TX_INSERT);

	if (err)
		return err;
	if (by_order(f, p->order_id))
		return SHOP_ECONFLICT;
	if (f->n == FAKE_PAYMENT_MAX)
		return SHOP_ERR;
	p->created_at = f->clock;
	return fake_payment_put(f, p);
}

static int fake_publish(void *self, const struct payment *p,
                        const struct payment_trace *t)
{
	struct fake_payment *f = self;
	struct fake_event *e;
	int err = enter(f, FAKE_TX_PUBLISH);

	if (err)
		return err;
	if (f->nevents == FAKE_PAYMENT_MAX)
		return SHOP_ERR;
	e = &f->events[f->nevents++];
	memset(e, 0, sizeof(*e));
	snprintf(e->event_type, sizeof(e->event_type), "%s",
	         p->status == PAYMENT_SUCCEEDED ? "payment.completed"
	                                        : "payment.failed");
	e->payment = *p;
	if (t && t->correlation_id)
		snprintf(e->correlation_id, sizeof(e->correlation_id), "%s",
		         t->correlation_id);
	if (t && t->traceparent)
		snprintf(e->traceparent, sizeof(e->traceparent), "%s",
		         t->traceparent);
	return 0;
}

static const struct payment_tx_ops fake_tx_ops = {
        .lock_order = fake_lock,
        .insert = fake_insert,
        .publish = fake_publish,
};

struct payment_tx fake_payment_tx(struct fake_payment *f)
{
	return (struct payment_tx){.ops = &fake_tx_ops, .self = f};
}

/* ---- the processor ---- */

static int fake_charge(void *self, const struct payment_order *o,
                       const struct charge_cancel *cancel,
                       struct charge_result *out)
{
	struct fake_payment *f = self;
	int err = enter(f, FAKE_PROCESSOR_CHARGE);

	(void)o;
	if (err)
		return err;
	if (cancel && cancel->cancelled && cancel->cancelled(cancel->arg))
		return SHOP_EUNAVAIL;
	memset(out, 0, sizeof(*out));
	out->succeeded = f->reason[0] == '\0';
	if (out->succeeded)
		snprintf(out->provider_ref, sizeof(out->provider_ref), "%s",
		         f->ref);
	else
		snprintf(out->reason, sizeof(out->reason), "%s", f->reason);
	return 0;
}

static const struct payment_processor_ops fake_processor_ops = {
        .charge = fake_charge,
};

struct payment_processor fake_payment_processor(struct fake_payment *f)
{
	return (struct payment_processor){.ops = &fake_processor_ops,
	                                  .self = f};
}
