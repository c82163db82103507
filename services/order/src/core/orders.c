#include "orders.h"

#include <string.h>
#include <strings.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

void orders_init(struct orders *o, struct order_repo repo,
                 struct cart_source cart, struct stock stock,
                 struct id_source ids)
{
	o->repo = repo;
	o->cart = cart;
	o->stock = stock;
	o->ids = ids;
}

/* The order answered again for a key used before, or ORDER_EKEYREUSED. */
static int replay(struct orders *o, struct arena *a, const char *user_id,
                  const char *key, const char *fingerprint, struct order *out,
                  bool *replayed)
{
	const char *stored = NULL;
	int rc = o->repo.ops->find_by_key(o->repo.self, a, user_id, key, out,
	                                  &stored);

	if (rc)
		return rc;
	if (!stored || strcmp(stored, fingerprint) != 0)
		return ORDER_EKEYREUSED;
	*replayed = true;
	return 0;
}

/*
 * rc, unless a twin with the same key was stored meanwhile: then its
 * replay. A twin sent at the same moment as the request that won may find
 * the cart already emptied (the cart service drops an order's lines as
 * soon as it consumes order.created) or the stock already taken by the
 * winner's reservation; its answer is the winner's order all the same.
 */
static int twin_or(struct orders *o, struct arena *a, const char *user_id,
                   const char *key, const char *fingerprint, struct order *out,
                   bool *replayed, int rc)
{
	int again;

	if (!key)
		return rc;
	again = replay(o, a, user_id, key, fingerprint, out, replayed);
	return again == SHOP_ENOTFOUND ? rc : again;
}

int orders_place(struct orders *o, struct arena *a, const struct order_trace *t,
                 const struct order_caller *who, const char *key,
                 const char *fingerprint, const struct order_request *req,
                 struct field_errors *errs, struct order *out, bool *replayed,
                 struct stock_conflict *cf)
{
	struct cart_snapshot cart = {0};
	struct stock_reservation res = {0};
	int rc;

	*replayed = false;
	if (order_request_validate(req, errs))
		return SHOP_EINVAL;
	if (key) {
		rc = replay(o, a, who->user_id, key, fingerprint, out,
		            replayed);
		if (rc != SHOP_ENOTFOUND)
			return rc;
	}

	rc = o->cart.ops->get(o->cart.self, a, t, who->user_id, &cart);
	if (rc)
		return rc == SHOP_ENOMEM ? rc : ORDER_ECART;
	if (cart.n == 0)
		return twin_or(o, a, who->user_id, key, fingerprint, out,
		               replayed, ORDER_EEMPTY);
	if (cart.n > ORDER_ITEMS_MAX)
		return SHOP_ERR; /* the cart service allows fewer */

	memset(out, 0, sizeof(*out));
	o->ids.ops->new_id(o->ids.self, out->id);
	rc = o->stock.ops->reserve(o->stock.self, a, t, out->id, &cart, &res,
	                           cf);
	if (rc == SHOP_ECONFLICT) {
		for (size_t i = 0; i < cart.n; i++)
			if (strcasecmp(cart.lines[i].product_id,
			               cf->product_id) == 0)
				cf->product_name = cart.lines[i].name;
		return twin_or(o, a, who->user_id, key, fingerprint, out,
		               replayed, rc);
	}
	if (rc == SHOP_ENOMEM)
		return rc;
	if (rc) {
		/* A timeout may have left a hold behind: give it back now
		 * if the product service answers (else it expires). */
		(void)o->stock.ops->cancel(o->stock.self, t, out->id);
		return ORDER_ESTOCK;
	}

	memcpy(out->user_id, who->user_id, 37);
	out->user_email = who->email;
	out->status = ORDER_PENDING;
	out->items = res.items;
	out->nitems = res.n;
	memcpy(out->currency, res.currency, 4);
	out->address = req->address;
	order_total(out);

	rc = o->repo.ops->create(o->repo.self, a, out, key, fingerprint,
	                         req->payment_token, t);
	if (rc == 0)
		return 0;
	/* Not stored: give the stock back at once rather than at the
	 * hold's expiry. */
	if (o->stock.ops->cancel(o->stock.self, t, out->id))
		slog_kv(SLOG_WARN, t->request_id,
		        "cannot give back the stock of an order that was not "
		        "stored: it returns when the hold expires",
		        SLOG_S("order_id", out->id));
	if (rc == SHOP_ECONFLICT && key)
		/* A twin with the same key was stored first. */
		return replay(o, a, who->user_id, key, fingerprint, out,
		              replayed);
	return rc;
}

int orders_get(struct orders *o, struct arena *a,
               const struct order_caller *who, const char *id,
               struct order *out)
{
	int rc;

	if (!shop_uuid_valid(id))
		return SHOP_ENOTFOUND;
	rc = o->repo.ops->get(o->repo.self, a, id, out);
	if (rc)
		return rc;
	if (!who->admin && strcasecmp(out->user_id, who->user_id) != 0)
		return SHOP_ENOTFOUND; /* its existence is not revealed */
	return 0;
}

int orders_list(struct orders *o, struct arena *a,
                const struct order_caller *who, long page, long page_size,
                struct order_page *out)
{
	return o->repo.ops->list(o->repo.self, a, who->user_id, page, page_size,
	                         out);
}

int orders_on_payment(struct orders *o, void *tx, struct arena *a,
                      const struct order_trace *t,
                      const struct payment_result *p, bool *moved)
{
	int rc;

	*moved = false;
	if (!p->order_id || !shop_uuid_valid(p->order_id) || !p->payment_id ||
	    !shop_uuid_valid(p->payment_id))
		return SHOP_EINVAL;
	if (!p->succeeded &&
	    (!p->reason || !*p->reason || strlen(p->reason) > ORDER_REASON_MAX))
		return SHOP_EINVAL;
	rc = o->repo.ops->apply_payment(
	        o->repo.self, tx, a, p,
	        p->succeeded ? ORDER_CONFIRMED : ORDER_FAILED, t, moved);
	if (rc == SHOP_ENOTFOUND) {
		slog_kv(SLOG_WARN, t->request_id,
		        "a payment result for an order this service does not "
		        "know: dropped",
		        SLOG_S("order_id", p->order_id));
		return 0;
	}
	if (rc == 0 && !*moved)
		slog_kv(SLOG_INFO, t->request_id,
		        "a payment result for an order that is no longer "
		        "pending: nothing to do",
		        SLOG_S("order_id", p->order_id));
	return rc;
}
