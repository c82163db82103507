#ifndef PRODUCT_CORE_RESERVATIONS_H
#define PRODUCT_CORE_RESERVATIONS_H

#include <pthread.h>

#include "ports.h"

/*
 * Stock reservations' use cases (README.md "Reservations"). Same return
 * conventions as catalog.h, plus SHOP_ECONFLICT with a
 * reservation_conflict for a refused reservation.
 */
/* Stripes of the cache-write order (reservations.c "Cache order"). */
#define RESERVATIONS_STRIPES 64

struct reservations {
	struct reservation_repo repo;
	struct product_cache cache; /* ops may be NULL: no cache */
	long long default_hold_s;
	pthread_mutex_t stripes[RESERVATIONS_STRIPES];
};

/* Borrowed ports: they must outlive rs. */
void reservations_init(struct reservations *rs, struct reservation_repo repo,
                       struct product_cache cache, long long default_hold_s);

/*
 * Reserves every item of req or none (README.md). 0 with *out and
 * *created (false: the order's reservation of the same items, answered
 * again); SHOP_EINVAL with errs; SHOP_ECONFLICT with *cf (RESERVATION_GONE
 * when the order's earlier hold has since been released: expired or
 * failed). The caches are refreshed with the products' new stock.
 */
int reservations_reserve(struct reservations *rs, struct arena *a,
                         const struct reservation_request *req,
                         struct field_errors *errs, struct reservation *out,
                         bool *created, struct reservation_conflict *cf);

/*
 * Releases the order's hold now (the order service gave up on the
 * order). Releasing nothing, or twice, is not an error. SHOP_ENOTFOUND
 * for an order id that is not a UUID.
 */
int reservations_cancel(struct reservations *rs, struct arena *a,
                        const char *order_id);

/*
 * An order's outcome, inside the event consumer's transaction tx:
 * "order.confirmed" commits its hold, "order.failed" releases it.
 * *changed receives the products whose stock changed, for
 * reservations_refresh() once tx has committed. SHOP_EINVAL for an event
 * type or order id that is not one (the event is poison).
 */
int reservations_on_order_result(struct reservations *rs, void *tx,
                                 struct arena *a, const char *event_type,
                                 const char *order_id,
                                 struct product_list *changed);

/*
 * What the event consumer calls: reservations_on_order_result() and the
 * cache refresh of its changes, in the cache order (below), inside the
 * consumer's transaction tx (the refresh comes before tx commits, while
 * its row locks hold back every other change of those products; a
 * rolled-back event leaves a cache entry its redelivery writes again).
 */
int reservations_apply_order_result(struct reservations *rs, void *tx,
                                    struct arena *a, const char *event_type,
                                    const char *order_id);

/* Releases up to limit expired holds; *released: the products' count. */
int reservations_expire(struct reservations *rs, struct arena *a, int limit,
                        size_t *released);

/* Puts the products into the caches (failures are ignored: a cache entry
 * then expires on its own). */
void reservations_refresh(struct reservations *rs,
                          const struct product_list *changed);

#endif
