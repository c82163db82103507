#include "reservations.h"

#include <string.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

void reservations_init(struct reservations *rs, struct reservation_repo repo,
                       struct product_cache cache, long long default_hold_s)
{
	rs->repo = repo;
	rs->cache = cache;
	rs->default_hold_s = default_hold_s;
}

void reservations_refresh(struct reservations *rs,
                          const struct product_list *changed)
{
	if (!rs->cache.ops)
		return;
	for (size_t i = 0; i < changed->n; i++)
		(void)rs->cache.ops->put(rs->cache.self, &changed->items[i]);
}

int reservations_reserve(struct reservations *rs, struct arena *a,
                         const struct reservation_request *req,
                         struct field_errors *errs, struct reservation *out,
                         bool *created, struct reservation_conflict *cf)
{
	struct product_list changed = {0};
	long long hold;
	int rc;

	if (reservation_request_validate(req, errs))
		return SHOP_EINVAL;
	hold = req->hold_s ? req->hold_s : rs->default_hold_s;
	rc = rs->repo.ops->reserve(rs->repo.self, a, req, hold, out, created,
	                           &changed, cf);
	if (rc)
		return rc;
	if (!*created && out->status == RESERVATION_RELEASED) {
		memset(cf, 0, sizeof(*cf));
		cf->why = RESERVATION_GONE;
		return SHOP_ECONFLICT;
	}
	reservation_total(out);
	reservations_refresh(rs, &changed);
	return 0;
}

int reservations_cancel(struct reservations *rs, struct arena *a,
                        const char *order_id)
{
	struct product_list changed = {0};
	int rc;

	if (!shop_uuid_valid(order_id))
		return SHOP_ENOTFOUND;
	rc = rs->repo.ops->release(rs->repo.self, NULL, a, order_id,
	                           "cancelled", &changed);
	if (rc == 0)
		reservations_refresh(rs, &changed);
	return rc;
}

int reservations_on_order_result(struct reservations *rs, void *tx,
                                 struct arena *a, const char *event_type,
                                 const char *order_id,
                                 struct product_list *changed)
{
	enum reservation_commit outcome;
	long long shortfall = 0;
	int rc;

	changed->items = NULL;
	changed->n = 0;
	if (!order_id || !shop_uuid_valid(order_id))
		return SHOP_EINVAL;
	if (strcmp(event_type, "order.failed") == 0)
		return rs->repo.ops->release(rs->repo.self, tx, a, order_id,
		                             "order_failed", changed);
	if (strcmp(event_type, "order.confirmed") != 0)
		return SHOP_EINVAL;
	rc = rs->repo.ops->commit(rs->repo.self, tx, a, order_id, &outcome,
	                          &shortfall, changed);
	if (rc)
		return rc;
	if (outcome == RESERVATION_COMMIT_NONE)
		slog_warn("order %s was confirmed but reserved nothing here",
		          order_id);
	else if (outcome == RESERVATION_COMMIT_LATE)
		slog_warn("order %s was confirmed after its hold expired: its "
		          "stock was taken again, %lld unit(s) short",
		          order_id, shortfall);
	return 0;
}

int reservations_expire(struct reservations *rs, struct arena *a, int limit,
                        size_t *released)
{
	struct product_list changed = {0};
	int rc = rs->repo.ops->expire(rs->repo.self, a, limit, &changed);

	*released = 0;
	if (rc)
		return rc;
	*released = changed.n;
	reservations_refresh(rs, &changed);
	return 0;
}
