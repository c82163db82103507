#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/arena.h"
#include "shop/error.h"
#include "shop/util.h"
#include "../src/core/reservations.h"
#include "../src/domain/reservation.h"
#include "fake_catalog.h"

/*
 * Stock reservations: the domain's rules (domain/reservation.c) and the use
 * cases (core/reservations.c) over a scripted fake reservation_repo (below)
 * and the catalog fake's cache half (fake_catalog.c) as the product_cache.
 */
#define ORDER        "0a0a0a0a-0000-4000-8000-00000000000a"
#define ORDER_UPPER  "0A0A0A0A-0000-4000-8000-00000000000A"
#define P1           "aaaaaaaa-0000-4000-8000-000000000001"
#define P2           "aaaaaaaa-0000-4000-8000-000000000002"
#define P3           "aaaaaaaa-0000-4000-8000-000000000003"
#define P1_UPPER     "AAAAAAAA-0000-4000-8000-000000000001"
#define DEFAULT_HOLD 900
#define TX           ((void *)0x7e57)

/* ---- a scripted reservation_repo ---- */

enum fake_res_slot { RES_RESERVE, RES_RELEASE, RES_COMMIT, RES_EXPIRE, RES_N };

struct fake_res {
	unsigned calls[RES_N];
	int rc[RES_N]; /* what each slot answers */

	/* reserve: what it was given */
	const struct reservation_request *req;
	long long hold_s;
	/* reserve: what it answers with rc 0 */
	bool created;
	enum reservation_status status;
	struct reservation_line lines[4];
	size_t nlines;
	const char *currency;
	/* reserve: the conflict it answers with SHOP_ECONFLICT */
	struct reservation_conflict cf;

	/* release / commit: what they were given */
	void *tx;
	char order_id[64];
	char reason[32];
	/* commit: what it answers */
	enum reservation_commit outcome;
	long long shortfall;

	/* reserve / release / expire: the products they report changed */
	struct product changed[4];
	size_t nchanged;
	int expire_limit;
};

static void report_changed(struct fake_res *f, struct arena *a,
                           struct product_list *changed)
{
	changed->n = f->nchanged;
	changed->items = NULL;
	if (f->nchanged) {
		changed->items =
		        arena_calloc(a, f->nchanged, sizeof(*changed->items));
		assert_non_null(changed->items);
		memcpy(changed->items, f->changed,
		       f->nchanged * sizeof(*changed->items));
	}
}

static int fake_reserve(void *self, struct arena *a,
                        const struct reservation_request *r, long long hold_s,
                        struct reservation *out, bool *created,
                        struct product_list *changed,
                        struct reservation_conflict *cf)
{
	struct fake_res *f = self;

	f->calls[RES_RESERVE]++;
	f->req = r;
	f->hold_s = hold_s;
	if (f->rc[RES_RESERVE] == SHOP_ECONFLICT)
		*cf = f->cf;
	if (f->rc[RES_RESERVE])
		return f->rc[RES_RESERVE];
	memset(out, 0, sizeof(*out));
	snprintf(out->order_id, sizeof(out->order_id), "%s", r->order_id);
	out->status = f->status;
	snprintf(out->currency, sizeof(out->currency), "%s",
	         f->currency ? f->currency : "USD");
	out->expires_at = 1767225600 + (time_t)hold_s;
	out->lines =
	        arena_calloc(a, f->nlines ? f->nlines : 1, sizeof(*out->lines));
	assert_non_null(out->lines);
	memcpy(out->lines, f->lines, f->nlines * sizeof(*out->lines));
	out->n = f->nlines;
	out->total_cents = -1; /* the core must compute it */
	*created = f->created;
	if (f->created)
		report_changed(f, a, changed);
	else
		changed->n = 0;
	return 0;
}

static int fake_release(void *self, void *tx, struct arena *a,
                        const char *order_id, const char *reason,
                        struct product_list *changed)
{
	struct fake_res *f = self;

	f->calls[RES_RELEASE]++;
	f->tx = tx;
	snprintf(f->order_id, sizeof(f->order_id), "%s", order_id);
	snprintf(f->reason, sizeof(f->reason), "%s", reason);
	if (f->rc[RES_RELEASE])
		return f->rc[RES_RELEASE];
	report_changed(f, a, changed);
	return 0;
}

static int fake_commit(void *self, void *tx, struct arena *a,
                       const char *order_id, enum reservation_commit *out,
                       long long *shortfall, struct product_list *changed)
{
	struct fake_res *f = self;

	f->calls[RES_COMMIT]++;
	f->tx = tx;
	snprintf(f->order_id, sizeof(f->order_id), "%s", order_id);
	if (f->rc[RES_COMMIT])
		return f->rc[RES_COMMIT];
	*out = f->outcome;
	*shortfall = f->shortfall;
	/* A late commit takes the stock again: those products changed. */
	if (f->outcome == RESERVATION_COMMIT_LATE)
		report_changed(f, a, changed);
	else
		changed->n = 0;
	return 0;
}

static int fake_expire(void *self, struct arena *a, int limit,
                       struct product_list *changed)
{
	struct fake_res *f = self;

	f->calls[RES_EXPIRE]++;
	f->expire_limit = limit;
	if (f->rc[RES_EXPIRE])
		return f->rc[RES_EXPIRE];
	report_changed(f, a, changed);
	return 0;
}

static const struct reservation_repo_ops fake_res_ops = {
        .reserve = fake_reserve,
        .release = fake_release,
        .commit = fake_commit,
        .expire = fake_expire,
};

static unsigned res_calls(const struct fake_res *f)
{
	unsigned n = 0;

	for (int i = 0; i < RES_N; i++)
		n += f->calls[i];
	return n;
}

/* ---- fixture ---- */

struct fixture {
	struct fake_res repo;
	struct fake_catalog *cache; /* only its cache half is used */
	struct arena *a;
	struct reservations rs;
	struct field_errors errs;
	struct reservation_item items[RESERVATION_LINES_MAX + 1];
	struct reservation_request req;
	struct reservation out;
	struct reservation_conflict cf;
	bool created;
};

static struct product product_of(const char *id, long long stock)
{
	struct product p = {
	        .sku = "SKU-1",
	        .name = "Thing",
	        .description = "",
	        .category = "audio",
	        .image_url = "",
	        .price_cents = 1000,
	        .stock = stock,
	        .created_at = 1767225600,
	        .updated_at = 1767225600,
	};
	snprintf(p.id, sizeof(p.id), "%s", id);
	memcpy(p.currency, "USD", 4);
	return p;
}

static struct reservation_line line_of(const char *id, long long price,
                                       long long qty)
{
	struct reservation_line l = {
	        .sku = "SKU",
	        .name = "Thing",
	        .unit_price_cents = price,
	        .quantity = qty,
	};
	snprintf(l.product_id, sizeof(l.product_id), "%s", id);
	return l;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->cache = fake_catalog_new();
	fx->a = arena_new(0);
	if (!fx->cache || !fx->a)
		return -1;
	reservations_init(&fx->rs,
	                  (struct reservation_repo){&fake_res_ops, &fx->repo},
	                  fake_catalog_cache(fx->cache), DEFAULT_HOLD);
	field_errors_init(&fx->errs);
	/* A valid request: two lines. */
	fx->items[0] = (struct reservation_item){P1, 2};
	fx->items[1] = (struct reservation_item){P2, 1};
	fx->req = (struct reservation_request){ORDER, fx->items, 2, 0};
	/* The repository's answer to it: created, held, both lines. */
	fx->repo.created = true;
	fx->repo.status = RESERVATION_HELD;
	fx->repo.lines[0] = line_of(P1, 1250, 2);
	fx->repo.lines[1] = line_of(P2, 999, 1);
	fx->repo.nlines = 2;
	fx->repo.changed[0] = product_of(P1, 8);
	fx->repo.changed[1] = product_of(P2, 4);
	fx->repo.nchanged = 2;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fake_catalog_free(fx->cache);
	arena_free(fx->a);
	free(fx);
	return 0;
}

static int reserve(struct fixture *fx)
{
	memset(&fx->cf, 0x5a, sizeof(fx->cf));
	fx->created = false;
	return reservations_reserve(&fx->rs, fx->a, &fx->req, &fx->errs,
	                            &fx->out, &fx->created, &fx->cf);
}

/* ---- domain: validation ---- */

/* Validates fx->req; asserts the outcome and, when bad, that exactly the
 * given fields are named (NULL-terminated), each once. */
static void check_request(struct fixture *fx, bool ok, ...)
{
	struct field_errors errs;
	va_list ap;
	size_t nwanted = 0;
	const char *f;

	field_errors_init(&errs);
	assert_int_equal(reservation_request_validate(&fx->req, &errs),
	                 ok ? 0 : SHOP_EINVAL);
	va_start(ap, ok);
	while ((f = va_arg(ap, const char *)) != NULL) {
		nwanted++;
		if (!field_errors_has(&errs, f))
			fail_msg("expected an error naming '%s'", f);
	}
	va_end(ap);
	assert_int_equal(errs.n, nwanted);
	for (size_t i = 0; i < errs.n; i++) {
		assert_non_null(errs.items[i].message);
		assert_true(strlen(errs.items[i].message) > 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(errs.items[i].field,
			                        errs.items[j].field);
	}
}

static void test_validate_valid(void **state)
{
	struct fixture *fx = *state;

	check_request(fx, true, NULL);
	fx->req.order_id = ORDER_UPPER;
	check_request(fx, true, NULL);
	fx->req.n = 1;
	check_request(fx, true, NULL);
}

static void test_validate_order_id(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = {
	        "",
	        "not-a-uuid",
	        "0a0a0a0a-0000-4000-8000-00000000000",   /* one short */
	        "0a0a0a0a-0000-4000-8000-00000000000aa", /* one long */
	        "0a0a0a0a00000-4000-8000-00000000000a",  /* dash missing */
	        "0a0a0a0a-0000-4000-8000-00000000000g",  /* not hex */
	        "{0a0a0a0a-0000-4000-8000-00000000000a}",
	};

	fx->req.order_id = NULL;
	check_request(fx, false, "order_id", NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		fx->req.order_id = bad[i];
		check_request(fx, false, "order_id", NULL);
	}
}

static void test_validate_item_count(void **state)
{
	struct fixture *fx = *state;
	static char ids[RESERVATION_LINES_MAX + 1][37];

	fx->req.n = 0;
	fx->req.items = NULL;
	check_request(fx, false, "items", NULL);

	for (size_t i = 0; i <= RESERVATION_LINES_MAX; i++) {
		snprintf(ids[i], sizeof(ids[i]),
		         "bbbbbbbb-0000-4000-8000-%012zx", i);
		fx->items[i] = (struct reservation_item){ids[i], 1};
	}
	fx->req.items = fx->items;
	fx->req.n = RESERVATION_LINES_MAX;
	check_request(fx, true, NULL);
	fx->req.n = RESERVATION_LINES_MAX + 1;
	check_request(fx, false, "items", NULL);
}

/* What reservation_request_from_json() hands over for an "items" list past
 * the limit: its length, no copy (a NULL dereference crashed the daemon). */
static void test_validate_too_many_items_not_copied(void **state)
{
	struct fixture *fx = *state;

	fx->req.items = NULL;
	fx->req.n = RESERVATION_LINES_MAX + 1;
	check_request(fx, false, "items", NULL);
	fx->req.n = 100000;
	check_request(fx, false, "items", NULL);
	fx->req.order_id = "bad";
	check_request(fx, false, "items", "order_id", NULL);
	/* Through the use case too: refused before the store. */
	fx->req.order_id = ORDER;
	assert_int_equal(reserve(fx), SHOP_EINVAL);
	assert_int_equal(res_calls(&fx->repo), 0);
}

static void test_validate_product_ids(void **state)
{
	struct fixture *fx = *state;

	fx->items[0].product_id = "nope";
	check_request(fx, false, "items[].product_id", NULL);
	fx->items[0].product_id = NULL;
	check_request(fx, false, "items[].product_id", NULL);
	/* Both wrong: named once. */
	fx->items[1].product_id = "also-not-a-uuid";
	check_request(fx, false, "items[].product_id", NULL);
	/* With a bad quantity elsewhere too. */
	fx->items[1] = (struct reservation_item){P2, 0};
	check_request(fx, false, "items[].product_id", "items[].quantity",
	              NULL);
}

static void test_validate_quantities(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		long long q;
		bool ok;
	} cases[] = {
	        {LLONG_MIN, false}, {-1, false},      {0, false},
	        {1, true},          {2, true},        {999999, true},
	        {1000000, true},    {1000001, false}, {LLONG_MAX, false},
	};

	assert_int_equal(RESERVATION_QTY_MAX, 1000000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fx->items[1].quantity = cases[i].q;
		if (cases[i].ok)
			check_request(fx, true, NULL);
		else
			check_request(fx, false, "items[].quantity", NULL);
	}
	/* Several wrong: named once. */
	fx->items[0].quantity = 0;
	fx->items[1].quantity = 1000001;
	check_request(fx, false, "items[].quantity", NULL);
}

static void test_validate_duplicates(void **state)
{
	struct fixture *fx = *state;

	fx->items[1].product_id = P1;
	check_request(fx, false, "items", NULL);
	/* A PostgreSQL uuid: case does not make another product. */
	fx->items[1].product_id = P1_UPPER;
	check_request(fx, false, "items", NULL);
	/* Three of one product, and another pair: still named once. */
	fx->items[2] = (struct reservation_item){P1, 1};
	fx->items[3] = (struct reservation_item){P2, 1};
	fx->items[4] = (struct reservation_item){P2, 1};
	fx->req.n = 5;
	check_request(fx, false, "items", NULL);
	/* Distinct ids are fine. */
	fx->items[1].product_id = P2;
	fx->items[2].product_id = P3;
	fx->req.n = 3;
	check_request(fx, true, NULL);
}

static void test_validate_hold(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		long long h;
		bool ok;
	} cases[] = {
	        {0, true}, /* the daemon's default */
	        {1, true},          {60, true},  {86400, true},
	        {86401, false},     {-1, false}, {LLONG_MIN, false},
	        {LLONG_MAX, false},
	};

	assert_int_equal(RESERVATION_HOLD_MIN_S, 1);
	assert_int_equal(RESERVATION_HOLD_MAX_S, 86400);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fx->req.hold_s = cases[i].h;
		if (cases[i].ok)
			check_request(fx, true, NULL);
		else
			check_request(fx, false, "hold_seconds", NULL);
	}
}

static void test_validate_everything_wrong(void **state)
{
	struct fixture *fx = *state;

	fx->req.order_id = "x";
	fx->req.hold_s = 86401;
	fx->items[0] = (struct reservation_item){"y", 1};
	fx->items[1] = (struct reservation_item){P2, 0};
	fx->items[2] = (struct reservation_item){P2, 5};
	fx->req.n = 3;
	check_request(fx, false, "order_id", "hold_seconds",
	              "items[].product_id", "items[].quantity", "items", NULL);
}

static void test_validate_keeps_earlier_errors(void **state)
{
	struct fixture *fx = *state;
	struct field_errors errs;

	/* Errors already in the list are not the request's fault. */
	field_errors_init(&errs);
	field_errors_add(&errs, "other", "was wrong before");
	assert_int_equal(reservation_request_validate(&fx->req, &errs), 0);
	assert_int_equal(errs.n, 1);
	fx->req.order_id = "bad";
	assert_int_equal(reservation_request_validate(&fx->req, &errs),
	                 SHOP_EINVAL);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.items[1].field, "order_id");
}

/* ---- domain: status names, totals ---- */

static void test_status_names(void **state)
{
	static const struct {
		enum reservation_status s;
		const char *name;
	} names[] = {
	        {RESERVATION_HELD, "held"},
	        {RESERVATION_COMMITTED, "committed"},
	        {RESERVATION_RELEASED, "released"},
	};
	enum reservation_status s;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		assert_string_equal(reservation_status_name(names[i].s),
		                    names[i].name);
		s = (enum reservation_status)99;
		assert_int_equal(reservation_status_parse(names[i].name, &s),
		                 0);
		assert_int_equal(s, names[i].s);
	}
	assert_string_equal(reservation_status_name((enum reservation_status)3),
	                    "unknown");
	assert_string_equal(
	        reservation_status_name((enum reservation_status) - 1),
	        "unknown");
	s = RESERVATION_COMMITTED;
	assert_int_equal(reservation_status_parse("HELD", &s), SHOP_EINVAL);
	assert_int_equal(reservation_status_parse("", &s), SHOP_EINVAL);
	assert_int_equal(reservation_status_parse("held ", &s), SHOP_EINVAL);
	assert_int_equal(reservation_status_parse("expired", &s), SHOP_EINVAL);
	assert_int_equal(reservation_status_parse(NULL, &s), SHOP_EINVAL);
	assert_int_equal(s, RESERVATION_COMMITTED); /* untouched */
}

static void test_totals(void **state)
{
	struct reservation_line lines[3] = {
	        line_of(P1, 1250, 2),
	        line_of(P2, 999, 3),
	        line_of(P3, 0, 7),
	};
	struct reservation r = {.lines = lines, .n = 3, .total_cents = -5};

	(void)state;
	reservation_total(&r);
	assert_int_equal(r.total_cents, 2500 + 2997);
	r.n = 0;
	reservation_total(&r);
	assert_int_equal(r.total_cents, 0);
	/* The largest line there can be: 1e6 units at 1e8 cents. */
	lines[0] = line_of(P1, 100000000, 1000000);
	r.n = 1;
	reservation_total(&r);
	assert_true(r.total_cents == 100000000000000LL);
}

/* ---- core: reserve ---- */

static void test_reserve_default_hold(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(reserve(fx), 0);
	assert_int_equal(fx->repo.calls[RES_RESERVE], 1);
	assert_ptr_equal(fx->repo.req, &fx->req);
	assert_int_equal(fx->repo.hold_s, DEFAULT_HOLD);

	fx->req.hold_s = 1;
	assert_int_equal(reserve(fx), 0);
	assert_int_equal(fx->repo.hold_s, 1);
	fx->req.hold_s = 86400;
	assert_int_equal(reserve(fx), 0);
	assert_int_equal(fx->repo.hold_s, 86400);
}

static void test_reserve_created(void **state)
{
	struct fixture *fx = *state;

	/* A stale version in the cache, and a product not involved. */
	struct product stale = product_of(P1, 10), other = product_of(P3, 3);
	assert_int_equal(fake_catalog_cache_seed(fx->cache, &stale), 0);
	assert_int_equal(fake_catalog_cache_seed(fx->cache, &other), 0);

	assert_int_equal(reserve(fx), 0);
	assert_true(fx->created);
	assert_string_equal(fx->out.order_id, ORDER);
	assert_int_equal(fx->out.status, RESERVATION_HELD);
	assert_int_equal(fx->out.n, 2);
	assert_int_equal(fx->out.total_cents, 2 * 1250 + 999);
	assert_int_equal(fx->errs.n, 0);
	/* The cache now holds the products as they are after the reservation,
	 * written (put, not put_if_absent) for the changed ones only. */
	assert_int_equal(fake_catalog_calls(fx->cache, FAKE_CACHE_PUT), 2);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 2);
	assert_int_equal(fake_catalog_cached(fx->cache, P1),
	                 FAKE_CACHED_PRODUCT);
	assert_int_equal(fake_catalog_cached(fx->cache, P2),
	                 FAKE_CACHED_PRODUCT);
	{
		struct product got;
		bool gone = true;
		assert_int_equal(fake_catalog_cache(fx->cache).ops->get(
		                         fx->cache, fx->a, P1, &got, &gone),
		                 0);
		assert_false(gone);
		assert_int_equal(got.stock, 8);
		assert_int_equal(fake_catalog_cache(fx->cache).ops->get(
		                         fx->cache, fx->a, P3, &got, &gone),
		                 0);
		assert_int_equal(got.stock, 3); /* untouched */
	}
}

static void test_reserve_replayed(void **state)
{
	struct fixture *fx = *state;

	fx->repo.created = false;
	assert_int_equal(reserve(fx), 0);
	assert_false(fx->created);
	assert_int_equal(fx->out.status, RESERVATION_HELD);
	assert_int_equal(fx->out.total_cents, 2 * 1250 + 999);
	/* Nothing changed: the cache is left alone. */
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);

	/* A replay after the order was confirmed answers it too. */
	fx->repo.status = RESERVATION_COMMITTED;
	assert_int_equal(reserve(fx), 0);
	assert_false(fx->created);
	assert_int_equal(fx->out.status, RESERVATION_COMMITTED);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
}

static void test_reserve_replay_of_released(void **state)
{
	struct fixture *fx = *state;

	fx->repo.created = false;
	fx->repo.status = RESERVATION_RELEASED;
	assert_int_equal(reserve(fx), SHOP_ECONFLICT);
	assert_int_equal(fx->cf.why, RESERVATION_GONE);
	assert_string_equal(fx->cf.product_id, "");
	assert_int_equal(fx->cf.available, 0);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
}

static void test_reserve_conflicts_passed_through(void **state)
{
	struct fixture *fx = *state;
	static const struct reservation_conflict cases[] = {
	        {RESERVATION_UNKNOWN_PRODUCT, P2, 0},
	        {RESERVATION_INSUFFICIENT, P1, 1},
	        {RESERVATION_INSUFFICIENT, P2, 0},
	        {RESERVATION_MIXED_CURRENCY, "", 0},
	        {RESERVATION_MISMATCH, "", 0},
	};

	fx->repo.rc[RES_RESERVE] = SHOP_ECONFLICT;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fx->repo.cf = cases[i];
		assert_int_equal(reserve(fx), SHOP_ECONFLICT);
		assert_int_equal(fx->cf.why, cases[i].why);
		assert_string_equal(fx->cf.product_id, cases[i].product_id);
		assert_int_equal(fx->cf.available, cases[i].available);
	}
	assert_int_equal(fx->repo.calls[RES_RESERVE], 5);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
}

static void test_reserve_store_errors_passed_through(void **state)
{
	struct fixture *fx = *state;
	static const int errs[] = {SHOP_EUNAVAIL, SHOP_ETIMEDOUT, SHOP_ERR,
	                           SHOP_ENOMEM};

	for (size_t i = 0; i < sizeof(errs) / sizeof(*errs); i++) {
		fx->repo.rc[RES_RESERVE] = errs[i];
		assert_int_equal(reserve(fx), errs[i]);
	}
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
}

static void test_reserve_invalid_never_reaches_store(void **state)
{
	struct fixture *fx = *state;

	fx->items[1].quantity = 0;
	assert_int_equal(reserve(fx), SHOP_EINVAL);
	assert_true(field_errors_has(&fx->errs, "items[].quantity"));
	fx->req.n = 0;
	field_errors_init(&fx->errs);
	assert_int_equal(reserve(fx), SHOP_EINVAL);
	assert_true(field_errors_has(&fx->errs, "items"));
	fx->req.n = 2;
	fx->items[1].quantity = 1;
	fx->req.hold_s = -1; /* what the JSON layer makes of "hold_seconds":0 */
	field_errors_init(&fx->errs);
	assert_int_equal(reserve(fx), SHOP_EINVAL);
	assert_true(field_errors_has(&fx->errs, "hold_seconds"));
	assert_int_equal(res_calls(&fx->repo), 0);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
}

static void test_reserve_cache_down_or_absent(void **state)
{
	struct fixture *fx = *state;

	/* A failing cache does not fail the reservation. */
	fake_catalog_fail_always(fx->cache, FAKE_CACHE_PUT, SHOP_EUNAVAIL);
	assert_int_equal(reserve(fx), 0);
	assert_true(fx->created);
	assert_int_equal(fake_catalog_calls(fx->cache, FAKE_CACHE_PUT), 2);

	/* No cache at all. */
	reservations_init(&fx->rs,
	                  (struct reservation_repo){&fake_res_ops, &fx->repo},
	                  (struct product_cache){NULL, NULL}, DEFAULT_HOLD);
	assert_int_equal(reserve(fx), 0);
	assert_true(fx->created);
	assert_int_equal(fx->repo.hold_s, DEFAULT_HOLD);
}

/* ---- core: cancel ---- */

static void test_cancel(void **state)
{
	struct fixture *fx = *state;

	fx->repo.nchanged = 1;
	assert_int_equal(reservations_cancel(&fx->rs, fx->a, ORDER), 0);
	assert_int_equal(fx->repo.calls[RES_RELEASE], 1);
	assert_null(fx->repo.tx); /* a pooled connection of its own */
	assert_string_equal(fx->repo.order_id, ORDER);
	assert_string_equal(fx->repo.reason, "cancelled");
	assert_int_equal(fake_catalog_calls(fx->cache, FAKE_CACHE_PUT), 1);
	assert_int_equal(fake_catalog_cached(fx->cache, P1),
	                 FAKE_CACHED_PRODUCT);
	assert_int_equal(fake_catalog_cached(fx->cache, P2), FAKE_CACHED_NONE);

	/* Nothing held (or released twice): not an error, nothing cached. */
	fake_catalog_reset_calls(fx->cache);
	fx->repo.nchanged = 0;
	assert_int_equal(reservations_cancel(&fx->rs, fx->a, ORDER), 0);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);

	/* Store errors pass through, the cache is left alone. */
	fx->repo.rc[RES_RELEASE] = SHOP_EUNAVAIL;
	fx->repo.nchanged = 2;
	assert_int_equal(reservations_cancel(&fx->rs, fx->a, ORDER),
	                 SHOP_EUNAVAIL);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
}

static void test_cancel_not_a_uuid(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = {
	        "",
	        "x",
	        "123",
	        "0a0a0a0a-0000-4000-8000-00000000000",
	        "0a0a0a0a-0000-4000-8000-00000000000a/x",
	        "0a0a0a0a-0000-4000-8000-00000000000z"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(reservations_cancel(&fx->rs, fx->a, bad[i]),
		                 SHOP_ENOTFOUND);
	assert_int_equal(res_calls(&fx->repo), 0);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
}

/* ---- core: the orders' outcomes ---- */

static int on_result(struct fixture *fx, const char *type, const char *order,
                     struct product_list *changed)
{
	changed->items = (struct product *)0x1;
	changed->n = 77;
	return reservations_on_order_result(&fx->rs, TX, fx->a, type, order,
	                                    changed);
}

static void test_order_confirmed_commits(void **state)
{
	struct fixture *fx = *state;
	static const enum reservation_commit outcomes[] = {
	        RESERVATION_COMMIT_DONE,
	        RESERVATION_COMMIT_ALREADY,
	        RESERVATION_COMMIT_NONE,
	        RESERVATION_COMMIT_LATE,
	};
	struct product_list changed;

	for (size_t i = 0; i < sizeof(outcomes) / sizeof(*outcomes); i++) {
		fx->repo.outcome = outcomes[i];
		fx->repo.shortfall = outcomes[i] == RESERVATION_COMMIT_LATE;
		assert_int_equal(
		        on_result(fx, "order.confirmed", ORDER, &changed), 0);
		assert_int_equal(fx->repo.calls[RES_COMMIT], i + 1);
		assert_ptr_equal(fx->repo.tx, TX); /* the consumer's tx */
		assert_string_equal(fx->repo.order_id, ORDER);
	}
	assert_int_equal(fx->repo.calls[RES_RELEASE], 0);
	/* Nothing is written to the cache inside the transaction. */
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);

	fx->repo.rc[RES_COMMIT] = SHOP_EUNAVAIL;
	assert_int_equal(on_result(fx, "order.confirmed", ORDER, &changed),
	                 SHOP_EUNAVAIL);
}

static void test_order_confirmed_late_reports_changed(void **state)
{
	struct fixture *fx = *state;
	struct product_list changed;

	/* In time: no stock moves, nothing to refresh. */
	fx->repo.outcome = RESERVATION_COMMIT_DONE;
	assert_int_equal(on_result(fx, "order.confirmed", ORDER, &changed), 0);
	assert_int_equal(changed.n, 0);
	/* After expiry: the stock taken again must reach the caches once the
	 * event's transaction commits (else they show the released stock). */
	fx->repo.outcome = RESERVATION_COMMIT_LATE;
	fx->repo.shortfall = 1;
	assert_int_equal(on_result(fx, "order.confirmed", ORDER, &changed), 0);
	assert_int_equal(changed.n, 2);
	assert_string_equal(changed.items[0].id, P1);
	assert_int_equal(changed.items[0].stock, 8);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
	reservations_refresh(&fx->rs, &changed);
	assert_int_equal(fake_catalog_calls(fx->cache, FAKE_CACHE_PUT), 2);
}

static void test_order_failed_releases(void **state)
{
	struct fixture *fx = *state;
	struct product_list changed;

	assert_int_equal(on_result(fx, "order.failed", ORDER, &changed), 0);
	assert_int_equal(fx->repo.calls[RES_RELEASE], 1);
	assert_int_equal(fx->repo.calls[RES_COMMIT], 0);
	assert_ptr_equal(fx->repo.tx, TX);
	assert_string_equal(fx->repo.order_id, ORDER);
	assert_string_equal(fx->repo.reason, "order_failed");
	/* The changed products come back for a refresh after the commit... */
	assert_int_equal(changed.n, 2);
	assert_string_equal(changed.items[0].id, P1);
	assert_string_equal(changed.items[1].id, P2);
	/* ...not before it. */
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
	reservations_refresh(&fx->rs, &changed);
	assert_int_equal(fake_catalog_calls(fx->cache, FAKE_CACHE_PUT), 2);
	assert_int_equal(fake_catalog_cached(fx->cache, P2),
	                 FAKE_CACHED_PRODUCT);

	/* A redelivery / nothing held: nothing changed. */
	fx->repo.nchanged = 0;
	assert_int_equal(on_result(fx, "order.failed", ORDER, &changed), 0);
	assert_int_equal(changed.n, 0);

	fx->repo.rc[RES_RELEASE] = SHOP_ETIMEDOUT;
	assert_int_equal(on_result(fx, "order.failed", ORDER, &changed),
	                 SHOP_ETIMEDOUT);
}

static void test_order_result_poison(void **state)
{
	struct fixture *fx = *state;
	struct product_list changed;
	static const char *const types[] = {"order.created",
	                                    "payment.completed",
	                                    "order.Failed",
	                                    "order.confirmed.",
	                                    "",
	                                    "order"};
	static const char *const ids[] = {
	        "", "x", "0a0a0a0a-0000-4000-8000-00000000000",
	        "0a0a0a0a-0000-4000-8000-00000000000az"};

	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++) {
		assert_int_equal(on_result(fx, types[i], ORDER, &changed),
		                 SHOP_EINVAL);
		assert_int_equal(changed.n, 0);
	}
	for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
		assert_int_equal(
		        on_result(fx, "order.confirmed", ids[i], &changed),
		        SHOP_EINVAL);
		assert_int_equal(
		        on_result(fx, "order.failed", ids[i], &changed),
		        SHOP_EINVAL);
		assert_int_equal(changed.n, 0);
	}
	/* No order_id in the data at all. */
	assert_int_equal(on_result(fx, "order.failed", NULL, &changed),
	                 SHOP_EINVAL);
	assert_int_equal(on_result(fx, "order.confirmed", NULL, &changed),
	                 SHOP_EINVAL);
	assert_int_equal(res_calls(&fx->repo), 0);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
}

/* ---- core: expiry ---- */

static void test_expire(void **state)
{
	struct fixture *fx = *state;
	size_t released = 99;

	/* Two expired orders both held P1: it comes back twice. */
	fx->repo.changed[2] = product_of(P1, 9);
	fx->repo.nchanged = 3;
	assert_int_equal(reservations_expire(&fx->rs, fx->a, 500, &released),
	                 0);
	assert_int_equal(released, 3);
	assert_int_equal(fx->repo.expire_limit, 500);
	assert_int_equal(fake_catalog_calls(fx->cache, FAKE_CACHE_PUT), 3);
	{
		struct product got;
		bool gone;
		assert_int_equal(fake_catalog_cache(fx->cache).ops->get(
		                         fx->cache, fx->a, P1, &got, &gone),
		                 0);
		assert_int_equal(got.stock, 9); /* the last one written */
	}

	fake_catalog_reset_calls(fx->cache);
	fx->repo.nchanged = 0;
	released = 99;
	assert_int_equal(reservations_expire(&fx->rs, fx->a, 1, &released), 0);
	assert_int_equal(released, 0);
	assert_int_equal(fx->repo.expire_limit, 1);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);

	fx->repo.rc[RES_EXPIRE] = SHOP_EUNAVAIL;
	fx->repo.nchanged = 2;
	released = 99;
	assert_int_equal(reservations_expire(&fx->rs, fx->a, 500, &released),
	                 SHOP_EUNAVAIL);
	assert_int_equal(released, 0);
	assert_int_equal(fake_catalog_cache_calls(fx->cache), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_validate_valid),
	        T(test_validate_order_id),
	        T(test_validate_item_count),
	        T(test_validate_too_many_items_not_copied),
	        T(test_validate_product_ids),
	        T(test_validate_quantities),
	        T(test_validate_duplicates),
	        T(test_validate_hold),
	        T(test_validate_everything_wrong),
	        T(test_validate_keeps_earlier_errors),
	        T(test_status_names),
	        T(test_totals),
	        T(test_reserve_default_hold),
	        T(test_reserve_created),
	        T(test_reserve_replayed),
	        T(test_reserve_replay_of_released),
	        T(test_reserve_conflicts_passed_through),
	        T(test_reserve_store_errors_passed_through),
	        T(test_reserve_invalid_never_reaches_store),
	        T(test_reserve_cache_down_or_absent),
	        T(test_cancel),
	        T(test_cancel_not_a_uuid),
	        T(test_order_confirmed_commits),
	        T(test_order_confirmed_late_reports_changed),
	        T(test_order_failed_releases),
	        T(test_order_result_poison),
	        T(test_expire),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
