#include "reservations.h"

#include <stdbool.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

/*
 * Cache order. Each change of a product's stock writes the product, as it
 * is after the change, to the caches. Two changes of one product that
 * commit one after the other could write in the other order and leave the
 * older stock cached until its TTL. So every change and its cache write
 * run under the product's stripe lock (all stripes when the products are
 * only known after the change: an order's result, the sweep); the
 * database's row locks order the changes, the stripes order their cache
 * writes the same way, within this process. Stripes are always taken in
 * index order, and a path holding them waits only for the database, never
 * for another stripe: no deadlock. Replicas of the daemon still race each
 * other (README.md "Known limit").
 */
static unsigned stripe_of(const char *id)
{
	unsigned h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)(*id | 0x20)) * 16777619u;
	return h % RESERVATIONS_STRIPES;
}

static void lock_all(struct reservations *rs)
{
	for (int i = 0; i < RESERVATIONS_STRIPES; i++)
		pthread_mutex_lock(&rs->stripes[i]);
}

static void unlock_all(struct reservations *rs)
{
	for (int i = RESERVATIONS_STRIPES - 1; i >= 0; i--)
		pthread_mutex_unlock(&rs->stripes[i]);
}

/* Locks the stripes of req's products in index order; want[] records
 * them for unlock_some(). */
static void lock_some(struct reservations *rs,
                      const struct reservation_request *req,
                      bool want[RESERVATIONS_STRIPES])
{
	memset(want, 0, RESERVATIONS_STRIPES * sizeof(*want));
	for (size_t i = 0; i < req->n; i++)
		want[stripe_of(req->items[i].product_id)] = true;
	for (int i = 0; i < RESERVATIONS_STRIPES; i++)
		if (want[i])
			pthread_mutex_lock(&rs->stripes[i]);
}

static void unlock_some(struct reservations *rs,
                        const bool want[RESERVATIONS_STRIPES])
{
	for (int i = RESERVATIONS_STRIPES - 1; i >= 0; i--)
		if (want[i])
			pthread_mutex_unlock(&rs->stripes[i]);
}

void reservations_init(struct reservations *rs, struct reservation_repo repo,
                       struct product_cache cache, long long default_hold_s)
{
	rs->repo = repo;
	rs->cache = cache;
	rs->default_hold_s = default_hold_s;
	for (int i = 0; i < RESERVATIONS_STRIPES; i++)
		pthread_mutex_init(&rs->stripes[i], NULL);
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
	bool want[RESERVATIONS_STRIPES];
	lock_some(rs, req, want);
	rc = rs->repo.ops->reserve(rs->repo.self, a, req, hold, out, created,
	                           &changed, cf);
	if (rc == 0)
		reservations_refresh(rs, &changed);
	unlock_some(rs, want);
	if (rc)
		return rc;
	if (!*created && out->status == RESERVATION_RELEASED) {
		memset(cf, 0, sizeof(*cf));
		cf->why = RESERVATION_GONE;
		return SHOP_ECONFLICT;
	}
	reservation_total(out);
	return 0;
}

int reservations_cancel(struct reservations *rs, struct arena *a,
                        const char *order_id)
{
	struct product_list changed = {0};
	int rc;

	if (!shop_uuid_valid(order_id))
		return SHOP_ENOTFOUND;
	lock_all(rs);
	rc = rs->repo.ops->release(rs->repo.self, NULL, a, order_id,
	                           "cancelled", &changed);
	if (rc == 0)
		reservations_refresh(rs, &changed);
	unlock_all(rs);
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
	int rc;

	*released = 0;
	lock_all(rs);
	rc = rs->repo.ops->expire(rs->repo.self, a, limit, &changed);
	if (rc == 0)
		reservations_refresh(rs, &changed);
	unlock_all(rs);
	if (rc)
		return rc;
	*released = changed.n;
	return 0;
}

int reservations_apply_order_result(struct reservations *rs, void *tx,
                                    struct arena *a, const char *event_type,
                                    const char *order_id)
{
	struct product_list changed = {0};
	int rc;

	lock_all(rs);
	rc = reservations_on_order_result(rs, tx, a, event_type, order_id,
	                                  &changed);
	if (rc == 0)
		reservations_refresh(rs, &changed);
	unlock_all(rs);
	return rc;
}
