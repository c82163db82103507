#include "payments.h"

#include <stdio.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

void payments_init(struct payments *p, struct payment_repo repo,
                   struct payment_processor processor)
{
	p->repo = repo;
	p->processor = processor;
}

static void count_payment(enum payment_status s)
{
	metric_add(metrics_counter("payments_total",
	                           "Payments stored, by result of the charge",
	                           s == PAYMENT_SUCCEEDED
	                                   ? "status=\"succeeded\""
	                                   : "status=\"declined\""),
	           1);
}

/* A provider answer core can store: a reference or a reason that fits. */
static bool result_usable(const struct charge_result *r)
{
	const char *s = r->succeeded ? r->provider_ref : r->reason;
	size_t cap = r->succeeded ? sizeof(r->provider_ref) : sizeof(r->reason);

	return s[0] != '\0' && memchr(s, '\0', cap) != NULL;
}

int payments_charge(struct payments *p, struct payment_tx tx,
                    const struct payment_order *o,
                    const struct payment_trace *t,
                    const struct charge_cancel *cancel, struct payment *out,
                    bool *duplicate, char *why, size_t cap)
{
	char order_id[PAYMENT_ID_LEN + 1], id[SHOP_UUID_LEN + 1];
	struct charge_result res = {0};
	struct payment existing, pay;
	bool found = false;
	int rc;

	if (payment_order_validate(o, why, cap) < 0)
		return SHOP_EINVAL;
	payment_uuid_normalize(o->order_id, order_id);
	rc = tx.ops->lock_order(tx.self, order_id, &found, &existing);
	if (rc)
		return rc;
	if (found) {
		*out = existing;
		*duplicate = true;
		return 0;
	}
	rc = p->processor.ops->charge(p->processor.self, o, cancel, &res);
	if (rc)
		return rc;
	if (!result_usable(&res)) {
		slog_kv(SLOG_ERROR, t ? t->correlation_id : NULL,
		        "the payment provider answered without a reference or "
		        "a reason",
		        SLOG_S("order_id", order_id));
		return SHOP_ERR;
	}
	shop_uuid_v4(id);
	if (payment_from_order(&pay, id, o, res.succeeded, res.provider_ref,
	                       res.reason) < 0)
		return SHOP_ERR;
	rc = tx.ops->insert(tx.self, &pay);
	if (rc == SHOP_ECONFLICT) {
		/* Cannot happen while lock_order holds the order's turn;
		 * should it anyway, the other payment stands and this
		 * charge is dropped. Retrying finds it. */
		return SHOP_EUNAVAIL;
	}
	if (rc)
		return rc;
	rc = tx.ops->publish(tx.self, &pay, t);
	if (rc)
		return rc;
	count_payment(pay.status);
	*out = pay;
	*duplicate = false;
	return 0;
}

static bool query_valid(const struct payment_query *q)
{
	return q->page >= 1 && q->page <= PAYMENT_PAGE_MAX &&
	       q->page_size >= 1 && q->page_size <= PAYMENT_PAGE_SIZE_MAX &&
	       (!q->order_id || shop_uuid_valid(q->order_id));
}

int payments_list(struct payments *p, struct arena *a,
                  const struct payment_viewer *v, const struct payment_query *q,
                  struct payment_page *out)
{
	char user[PAYMENT_ID_LEN + 1], order[PAYMENT_ID_LEN + 1];
	struct payment_query nq = *q;

	if (!query_valid(q))
		return SHOP_EINVAL;
	if (q->order_id) {
		payment_uuid_normalize(q->order_id, order);
		nq.order_id = order;
	}
	if (v->is_admin)
		return p->repo.ops->list(p->repo.self, a, NULL, &nq, out);
	if (payment_uuid_normalize(v->user_id, user) < 0) {
		/* A subject that is no user id owns no payment. */
		out->items = NULL;
		out->n = 0;
		out->total = 0;
		return 0;
	}
	return p->repo.ops->list(p->repo.self, a, user, &nq, out);
}

int payments_get(struct payments *p, const struct payment_viewer *v,
                 const char *id, struct payment *out)
{
	char pid[PAYMENT_ID_LEN + 1], user[PAYMENT_ID_LEN + 1];
	struct payment pay;
	int rc;

	if (payment_uuid_normalize(id, pid) < 0)
		return SHOP_ENOTFOUND;
	rc = p->repo.ops->get(p->repo.self, pid, &pay);
	if (rc)
		return rc;
	if (!v->is_admin && (payment_uuid_normalize(v->user_id, user) < 0 ||
	                     strcmp(user, pay.user_id) != 0))
		return SHOP_ENOTFOUND;
	*out = pay;
	return 0;
}
