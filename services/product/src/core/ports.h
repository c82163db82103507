#ifndef PRODUCT_CORE_PORTS_H
#define PRODUCT_CORE_PORTS_H

#include <stdbool.h>

#include "shop/arena.h"
#include "../domain/product.h"
#include "../domain/reservation.h"

/*
 * What the catalog's use cases need from the outside world. The
 * infrastructure layer implements these with libpq and hiredis; the unit
 * tests with an in-memory fake. Every string a slot returns is allocated
 * from the arena it is given. Every slot returns 0 or a negative shop_err:
 * SHOP_EUNAVAIL / SHOP_ETIMEDOUT when the store is down, SHOP_ERR otherwise.
 */
struct product_repo_ops {
	/* One page of the products matching q (already validated), in q's
	 * order, and the total number of matches. */
	int (*list)(void *self, struct arena *a, const struct product_query *q,
	            struct product_page *out);
	/* The product with this id (a valid UUID); SHOP_ENOTFOUND. */
	int (*get)(void *self, struct arena *a, const char *id,
	           struct product *out);
	/* Every category, by name, with its product count. */
	int (*categories)(void *self, struct arena *a,
	                  struct category_list *out);
	/* 1 when the category slug exists, 0 when not. */
	int (*category_exists)(void *self, const char *slug);
	/* Stores a new product (fields validated, defaults filled) and
	 * returns it as stored. SHOP_ECONFLICT when the sku is taken. */
	int (*create)(void *self, struct arena *a,
	              const struct product_fields *f, struct product *out);
	/* Applies the present fields in one statement and returns the row.
	 * SHOP_ENOTFOUND, SHOP_ECONFLICT (sku taken). */
	int (*update)(void *self, struct arena *a, const char *id,
	              const struct product_fields *f, struct product *out);
	/* Deletes the product. SHOP_ENOTFOUND. */
	int (*remove)(void *self, const char *id);
};

struct product_repo {
	const struct product_repo_ops *ops;
	void *self;
};

/*
 * A read cache in front of the repository. It may be down at any time:
 * callers treat every failure as a miss and keep serving from the
 * repository. Reads populate with put_if_absent, writes overwrite with put
 * or mark_deleted, so a reader that raced a writer can never put back an
 * older version than the writer's.
 */
struct product_cache_ops {
	/* 0 and *out on a hit; *gone set when the product is known deleted
	 * (then out is untouched); SHOP_ENOTFOUND on a miss. */
	int (*get)(void *self, struct arena *a, const char *id,
	           struct product *out, bool *gone);
	/* Stores p unless an entry for its id exists (read path). */
	int (*put_if_absent)(void *self, const struct product *p);
	/* Stores p, replacing any entry (write path). */
	int (*put)(void *self, const struct product *p);
	/* Replaces any entry for id with a deletion marker (write path). */
	int (*mark_deleted)(void *self, const char *id);
	/* Category list: get (SHOP_ENOTFOUND on miss), put, invalidate. */
	int (*get_categories)(void *self, struct arena *a,
	                      struct category_list *out);
	int (*put_categories)(void *self, const struct category_list *l);
	int (*invalidate_categories)(void *self);
};

struct product_cache {
	const struct product_cache_ops *ops;
	void *self;
};

/* Why a reservation was refused (reservation_repo_ops.reserve). */
enum reservation_refusal {
	RESERVATION_UNKNOWN_PRODUCT, /* product_id is no product */
	RESERVATION_INSUFFICIENT,    /* product_id has only `available` */
	RESERVATION_MIXED_CURRENCY,  /* the products' currencies differ */
	RESERVATION_MISMATCH,        /* the order holds other lines */
	RESERVATION_GONE,            /* the order's hold was released */
};

struct reservation_conflict {
	enum reservation_refusal why;
	char product_id[37]; /* UNKNOWN_PRODUCT, INSUFFICIENT */
	long long available; /* INSUFFICIENT */
};

/* The outcome of committing an order's reservation. */
enum reservation_commit {
	RESERVATION_COMMIT_DONE,    /* held -> committed */
	RESERVATION_COMMIT_ALREADY, /* committed before (a redelivery) */
	RESERVATION_COMMIT_NONE,    /* the order reserved nothing here */
	RESERVATION_COMMIT_LATE,    /* the hold had expired: stock retaken */
};

/* Products whose stock a step changed, as they are now (for the caches). */
struct product_list {
	struct product *items;
	size_t n;
};

/*
 * The reservations' store. `tx` is the caller's open transaction (an
 * opaque handle from the infrastructure: an event consumer's) or NULL to
 * run on a pooled connection of its own. Same return conventions as
 * product_repo_ops.
 */
struct reservation_repo_ops {
	/* Reserves every item of r (validated) for hold_s seconds, or
	 * nothing. 0 with *out (and *created false when it is the order's
	 * existing reservation, same items, answered again) and *changed
	 * (the products as they are after a new reservation; empty for a
	 * replay); SHOP_ECONFLICT with *cf. */
	int (*reserve)(void *self, struct arena *a,
	               const struct reservation_request *r, long long hold_s,
	               struct reservation *out, bool *created,
	               struct product_list *changed,
	               struct reservation_conflict *cf);
	/* Releases the order's hold (its stock comes back); *changed lists
	 * the products whose stock did (empty when nothing was held). */
	int (*release)(void *self, void *tx, struct arena *a,
	               const char *order_id, const char *reason,
	               struct product_list *changed);
	/* Commits the order's hold; *shortfall: units a late commit could
	 * not retake (stock already sold again); *changed: the products whose
	 * stock a late commit took again, as they are now (empty for any
	 * other outcome). */
	int (*commit)(void *self, void *tx, struct arena *a,
	              const char *order_id, enum reservation_commit *out,
	              long long *shortfall, struct product_list *changed);
	/* Releases up to limit holds past their expiry; *changed as in
	 * release. */
	int (*expire)(void *self, struct arena *a, int limit,
	              struct product_list *changed);
};

struct reservation_repo {
	const struct reservation_repo_ops *ops;
	void *self;
};

#endif
