#include "fake_orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shop/error.h"

#define MAX_LINES    8
#define MAX_PRODUCTS 16
#define MAX_HOLDS    16
#define MAX_ORDERS   32
#define MAX_HISTORY  4
#define CAP          256

struct fake_product {
	char id[37];
	char sku[CAP], name[CAP];
	long long price, stock;
	char currency[4];
};

struct fake_cart_line {
	char product_id[37];
	char name[CAP];
	long long quantity;
};

struct fake_hold {
	char order_id[37];
	bool active;
	char product_id[MAX_LINES][37];
	long long quantity[MAX_LINES];
	size_t n;
};

struct fake_item {
	char product_id[37];
	char sku[CAP], name[CAP];
	long long price, quantity;
};

struct fake_stored {
	char id[37], user_id[37], email[CAP];
	enum order_status status;
	struct fake_item items[MAX_LINES];
	size_t nitems;
	long long total;
	char currency[4];
	char addr[6][CAP];
	bool has_line2;
	bool has_key;
	char key[CAP], fingerprint[CAP * 2];
	bool paid, succeeded;
	char payment_id[37], reason[CAP];
	bool has_reason;
	struct order_status_change history[MAX_HISTORY];
	size_t nhistory;
	time_t created_at, updated_at;
};

struct fake_orders {
	struct fake_cart_line cart[MAX_LINES];
	size_t ncart;
	char cart_user[37];

	struct fake_product products[MAX_PRODUCTS];
	size_t nproducts;
	struct fake_hold holds[MAX_HOLDS];
	size_t nholds;
	char last_reserved[37], last_cancelled[37];

	struct fake_stored orders[MAX_ORDERS];
	size_t norders;
	char twin[37], twin_fp[CAP * 2];
	bool twin_own_fp;
	int twin_lookup_err;
	time_t clock;
	int events;
	char last_token[CAP], last_key[CAP], last_fp[CAP * 2], last_rid[CAP];
	char list_user[37];
	long list_page, list_page_size;
	void *last_tx;
	int last_move;

	unsigned next_id;
	int fail_next[FAKE_ORDERS_SLOT_COUNT];
	int fail_always[FAKE_ORDERS_SLOT_COUNT];
	int calls[FAKE_ORDERS_SLOT_COUNT];
};

static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Counts the call; returns the error it must fail with, or 0. */
static int enter(struct fake_orders *f, enum fake_orders_slot s)
{
	int err;

	f->calls[s]++;
	if (f->fail_always[s])
		return f->fail_always[s];
	err = f->fail_next[s];
	f->fail_next[s] = 0;
	return err;
}

/* ---------------------------------------------------------------- cart */

static int fake_cart_get(void *self, struct arena *a,
                         const struct order_trace *t, const char *user_id,
                         struct cart_snapshot *out)
{
	struct fake_orders *f = self;
	struct cart_line *lines;
	int err = enter(f, FAKE_CART_GET);

	(void)t;
	copy(f->cart_user, sizeof(f->cart_user), user_id);
	if (err)
		return err;
	lines = arena_calloc(a, f->ncart + 1, sizeof(*lines));
	if (!lines)
		return SHOP_ENOMEM;
	for (size_t i = 0; i < f->ncart; i++) {
		memcpy(lines[i].product_id, f->cart[i].product_id, 37);
		lines[i].name = arena_strdup(a, f->cart[i].name);
		lines[i].quantity = f->cart[i].quantity;
		if (!lines[i].name)
			return SHOP_ENOMEM;
	}
	out->lines = lines;
	out->n = f->ncart;
	return 0;
}

static const struct cart_source_ops cart_ops = {.get = fake_cart_get};

/* ---------------------------------------------------------------- stock */

static struct fake_product *find_product(const struct fake_orders *f,
                                         const char *id)
{
	for (size_t i = 0; i < f->nproducts; i++)
		if (strcasecmp(f->products[i].id, id) == 0)
			return (struct fake_product *)&f->products[i];
	return NULL;
}

static struct fake_hold *find_hold(const struct fake_orders *f,
                                   const char *order_id)
{
	for (size_t i = 0; i < f->nholds; i++)
		if (strcmp(f->holds[i].order_id, order_id) == 0)
			return (struct fake_hold *)&f->holds[i];
	return NULL;
}

static int fake_reserve(void *self, struct arena *a,
                        const struct order_trace *t, const char *order_id,
                        const struct cart_snapshot *cart,
                        struct stock_reservation *out,
                        struct stock_conflict *cf)
{
	struct fake_orders *f = self;
	struct fake_hold *h;
	struct order_item *items;
	int err = enter(f, FAKE_STOCK_RESERVE);

	(void)t;
	copy(f->last_reserved, sizeof(f->last_reserved), order_id);
	if (err)
		return err;
	if (cart->n > MAX_LINES || f->nholds == MAX_HOLDS)
		return SHOP_ERR;
	for (size_t i = 0; i < cart->n; i++) {
		const struct cart_line *l = &cart->lines[i];
		const struct fake_product *p = find_product(f, l->product_id);
		if (!p || p->stock < l->quantity) {
			memset(cf, 0, sizeof(*cf));
			cf->why = p ? STOCK_INSUFFICIENT : STOCK_UNKNOWN;
			memcpy(cf->product_id, l->product_id, 37);
			cf->available = p ? p->stock : 0;
			cf->detail =
			        p ? "insufficient stock" : "no such product";
			return SHOP_ECONFLICT;
		}
	}
	items = arena_calloc(a, cart->n + 1, sizeof(*items));
	if (!items)
		return SHOP_ENOMEM;
	h = &f->holds[f->nholds++];
	memset(h, 0, sizeof(*h));
	copy(h->order_id, sizeof(h->order_id), order_id);
	h->active = true;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < cart->n; i++) {
		const struct cart_line *l = &cart->lines[i];
		struct fake_product *p = find_product(f, l->product_id);
		p->stock -= l->quantity;
		memcpy(h->product_id[i], p->id, 37);
		h->quantity[i] = l->quantity;
		memcpy(items[i].product_id, p->id, 37);
		items[i].sku = arena_strdup(a, p->sku);
		items[i].name = arena_strdup(a, p->name);
		items[i].unit_price_cents = p->price;
		items[i].quantity = l->quantity;
		memcpy(out->currency, p->currency, 4);
	}
	h->n = cart->n;
	out->items = items;
	out->n = cart->n;
	return 0;
}

static int fake_cancel(void *self, const struct order_trace *t,
                       const char *order_id)
{
	struct fake_orders *f = self;
	struct fake_hold *h;
	int err = enter(f, FAKE_STOCK_CANCEL);

	(void)t;
	copy(f->last_cancelled, sizeof(f->last_cancelled), order_id);
	if (err)
		return err;
	h = find_hold(f, order_id);
	if (h && h->active) {
		for (size_t i = 0; i < h->n; i++) {
			struct fake_product *p =
			        find_product(f, h->product_id[i]);
			if (p)
				p->stock += h->quantity[i];
		}
		h->active = false;
	}
	return 0;
}

static const struct stock_ops stock_ops = {
        .reserve = fake_reserve,
        .cancel = fake_cancel,
};

/* ---------------------------------------------------------------- repo */

static struct fake_stored *find_order(const struct fake_orders *f,
                                      const char *id)
{
	for (size_t i = 0; i < f->norders; i++)
		if (strcasecmp(f->orders[i].id, id) == 0)
			return (struct fake_stored *)&f->orders[i];
	return NULL;
}

static struct fake_stored *find_key(const struct fake_orders *f,
                                    const char *user, const char *key)
{
	for (size_t i = 0; i < f->norders; i++) {
		const struct fake_stored *s = &f->orders[i];
		if (s->has_key && strcmp(s->user_id, user) == 0 &&
		    strcmp(s->key, key) == 0)
			return (struct fake_stored *)s;
	}
	return NULL;
}

static void store(struct fake_stored *s, const struct order *o, const char *key,
                  const char *fingerprint)
{
	const struct order_address *ad = &o->address;

	memset(s, 0, sizeof(*s));
	copy(s->id, sizeof(s->id), o->id);
	copy(s->user_id, sizeof(s->user_id), o->user_id);
	copy(s->email, sizeof(s->email), o->user_email);
	s->status = o->status;
	for (size_t i = 0; i < o->nitems && i < MAX_LINES; i++) {
		struct fake_item *it = &s->items[i];
		copy(it->product_id, sizeof(it->product_id),
		     o->items[i].product_id);
		copy(it->sku, sizeof(it->sku), o->items[i].sku);
		copy(it->name, sizeof(it->name), o->items[i].name);
		it->price = o->items[i].unit_price_cents;
		it->quantity = o->items[i].quantity;
		s->nitems++;
	}
	s->total = o->total_cents;
	copy(s->currency, sizeof(s->currency), o->currency);
	copy(s->addr[0], CAP, ad->name);
	copy(s->addr[1], CAP, ad->line1);
	copy(s->addr[2], CAP, ad->line2);
	s->has_line2 = ad->line2 != NULL;
	copy(s->addr[3], CAP, ad->city);
	copy(s->addr[4], CAP, ad->postal_code);
	copy(s->addr[5], CAP, ad->country);
	if (key) {
		s->has_key = true;
		copy(s->key, sizeof(s->key), key);
		copy(s->fingerprint, sizeof(s->fingerprint), fingerprint);
	}
	s->paid = o->payment.known;
	s->succeeded = o->payment.succeeded;
	copy(s->payment_id, sizeof(s->payment_id), o->payment.payment_id);
	s->has_reason = o->payment.failure_reason != NULL;
	copy(s->reason, sizeof(s->reason), o->payment.failure_reason);
	for (size_t i = 0; i < o->nhistory && i < MAX_HISTORY; i++)
		s->history[s->nhistory++] = o->history[i];
	s->created_at = o->created_at;
	s->updated_at = o->updated_at;
}

static int export_order(struct arena *a, const struct fake_stored *s,
                        struct order *o)
{
	struct order_address *ad = &o->address;

	memset(o, 0, sizeof(*o));
	memcpy(o->id, s->id, 37);
	memcpy(o->user_id, s->user_id, 37);
	o->user_email = arena_strdup(a, s->email);
	o->status = s->status;
	o->items = arena_calloc(a, s->nitems + 1, sizeof(*o->items));
	o->history = arena_calloc(a, s->nhistory + 1, sizeof(*o->history));
	if (!o->user_email || !o->items || !o->history)
		return SHOP_ENOMEM;
	for (size_t i = 0; i < s->nitems; i++) {
		struct order_item *it = &o->items[i];
		memcpy(it->product_id, s->items[i].product_id, 37);
		it->sku = arena_strdup(a, s->items[i].sku);
		it->name = arena_strdup(a, s->items[i].name);
		it->unit_price_cents = s->items[i].price;
		it->quantity = s->items[i].quantity;
		if (!it->sku || !it->name)
			return SHOP_ENOMEM;
	}
	o->nitems = s->nitems;
	o->total_cents = s->total;
	memcpy(o->currency, s->currency, 4);
	ad->name = arena_strdup(a, s->addr[0]);
	ad->line1 = arena_strdup(a, s->addr[1]);
	ad->line2 = s->has_line2 ? arena_strdup(a, s->addr[2]) : NULL;
	ad->city = arena_strdup(a, s->addr[3]);
	ad->postal_code = arena_strdup(a, s->addr[4]);
	ad->country = arena_strdup(a, s->addr[5]);
	o->payment.known = s->paid;
	o->payment.succeeded = s->succeeded;
	memcpy(o->payment.payment_id, s->payment_id, 37);
	o->payment.failure_reason =
	        s->has_reason ? arena_strdup(a, s->reason) : NULL;
	memcpy(o->history, s->history, s->nhistory * sizeof(*o->history));
	o->nhistory = s->nhistory;
	o->created_at = s->created_at;
	o->updated_at = s->updated_at;
	return 0;
}

static int fake_find_by_key(void *self, struct arena *a, const char *user_id,
                            const char *key, struct order *out,
                            const char **fingerprint)
{
	struct fake_orders *f = self;
	const struct fake_stored *s;
	int err = enter(f, FAKE_REPO_FIND_BY_KEY);

	if (err)
		return err;
	s = find_key(f, user_id, key);
	if (!s)
		return SHOP_ENOTFOUND;
	err = export_order(a, s, out);
	if (err)
		return err;
	*fingerprint = arena_strdup(a, s->fingerprint);
	return *fingerprint ? 0 : SHOP_ENOMEM;
}

static int fake_create(void *self, struct arena *a, struct order *o,
                       const char *key, const char *fingerprint,
                       const char *payment_token, const struct order_trace *t)
{
	struct fake_orders *f = self;
	struct fake_stored *s;
	int err = enter(f, FAKE_REPO_CREATE);

	copy(f->last_token, sizeof(f->last_token), payment_token);
	copy(f->last_key, sizeof(f->last_key), key);
	copy(f->last_fp, sizeof(f->last_fp), fingerprint);
	copy(f->last_rid, sizeof(f->last_rid), t ? t->request_id : NULL);
	if (err)
		return err;
	if (key && f->twin[0] && f->norders < MAX_ORDERS) {
		/* A concurrent request with the same key was first. */
		struct order twin = {0};
		struct order_status_change h = {ORDER_PENDING, ++f->clock};
		memcpy(twin.id, f->twin, 37);
		memcpy(twin.user_id, o->user_id, 37);
		twin.user_email = o->user_email;
		twin.status = ORDER_PENDING;
		twin.address = o->address;
		twin.history = &h;
		twin.nhistory = 1;
		twin.created_at = twin.updated_at = h.at;
		store(&f->orders[f->norders++], &twin, key,
		      f->twin_own_fp ? fingerprint : f->twin_fp);
		f->events++;
		f->twin[0] = '\0';
		f->fail_next[FAKE_REPO_FIND_BY_KEY] = f->twin_lookup_err;
	}
	if (key && find_key(f, o->user_id, key))
		return SHOP_ECONFLICT;
	if (find_order(f, o->id))
		return SHOP_ECONFLICT;
	if (f->norders == MAX_ORDERS)
		return SHOP_ERR;
	o->history = arena_calloc(a, 1, sizeof(*o->history));
	if (!o->history)
		return SHOP_ENOMEM;
	o->created_at = o->updated_at = ++f->clock;
	o->history[0].status = ORDER_PENDING;
	o->history[0].at = o->created_at;
	o->nhistory = 1;
	s = &f->orders[f->norders++];
	store(s, o, key, fingerprint);
	f->events++; /* order.created */
	return 0;
}

static int fake_get(void *self, struct arena *a, const char *id,
                    struct order *out)
{
	struct fake_orders *f = self;
	const struct fake_stored *s;
	int err = enter(f, FAKE_REPO_GET);

	if (err)
		return err;
	s = find_order(f, id);
	return s ? export_order(a, s, out) : SHOP_ENOTFOUND;
}

static int fake_list(void *self, struct arena *a, const char *user_id,
                     long page, long page_size, struct order_page *out)
{
	struct fake_orders *f = self;
	struct order *items;
	long seen = 0, skip = (page - 1) * page_size;
	size_t n = 0;
	int err = enter(f, FAKE_REPO_LIST);

	copy(f->list_user, sizeof(f->list_user), user_id);
	f->list_page = page;
	f->list_page_size = page_size;
	if (err)
		return err;
	items = arena_calloc(a, f->norders + 1, sizeof(*items));
	if (!items)
		return SHOP_ENOMEM;
	for (size_t i = f->norders; i-- > 0;) { /* newest first */
		const struct fake_stored *s = &f->orders[i];
		if (strcmp(s->user_id, user_id) != 0)
			continue;
		if (seen >= skip && (long)n < page_size) {
			err = export_order(a, s, &items[n]);
			if (err)
				return err;
			n++;
		}
		seen++;
	}
	out->items = items;
	out->n = n;
	out->total = seen;
	return 0;
}

static int fake_apply_payment(void *self, void *tx, struct arena *a,
                              const struct payment_result *p,
                              enum order_status to, const struct order_trace *t,
                              bool *moved)
{
	struct fake_orders *f = self;
	struct fake_stored *s;
	int err = enter(f, FAKE_REPO_APPLY_PAYMENT);

	(void)a;
	(void)t;
	f->last_tx = tx;
	f->last_move = (int)to;
	*moved = false;
	if (err)
		return err;
	s = find_order(f, p->order_id);
	if (!s)
		return SHOP_ENOTFOUND;
	if (!order_can_move(s->status, to))
		return 0;
	if (s->nhistory == MAX_HISTORY)
		return SHOP_ERR;
	s->status = to;
	s->paid = true;
	s->succeeded = to == ORDER_CONFIRMED;
	copy(s->payment_id, sizeof(s->payment_id), p->payment_id);
	s->has_reason = !p->succeeded && p->reason;
	copy(s->reason, sizeof(s->reason), s->has_reason ? p->reason : NULL);
	s->updated_at = ++f->clock;
	s->history[s->nhistory].status = to;
	s->history[s->nhistory].at = s->updated_at;
	s->nhistory++;
	f->events++; /* order.confirmed / order.failed */
	*moved = true;
	return 0;
}

static const struct order_repo_ops repo_ops = {
        .find_by_key = fake_find_by_key,
        .create = fake_create,
        .get = fake_get,
        .list = fake_list,
        .apply_payment = fake_apply_payment,
};

/* ---------------------------------------------------------------- ids */

static void fake_new_id(void *self, char out[37])
{
	struct fake_orders *f = self;

	(void)enter(f, FAKE_IDS_NEW);
	snprintf(out, 37, "%08u-0000-4000-8000-000000000000", ++f->next_id);
}

static const struct id_source_ops id_ops = {.new_id = fake_new_id};

/* ---------------------------------------------------------------- setup */

struct fake_orders *fake_orders_new(void)
{
	struct fake_orders *f = calloc(1, sizeof(*f));

	if (f) {
		f->clock = FAKE_ORDERS_T0;
		f->last_move = -1;
	}
	return f;
}

void fake_orders_free(struct fake_orders *f)
{
	free(f);
}

struct order_repo fake_orders_repo(struct fake_orders *f)
{
	return (struct order_repo){&repo_ops, f};
}

struct cart_source fake_orders_cart(struct fake_orders *f)
{
	return (struct cart_source){&cart_ops, f};
}

struct stock fake_orders_stock(struct fake_orders *f)
{
	return (struct stock){&stock_ops, f};
}

struct id_source fake_orders_ids(struct fake_orders *f)
{
	return (struct id_source){&id_ops, f};
}

int fake_orders_cart_add(struct fake_orders *f, const char *product_id,
                         const char *name, long long quantity)
{
	struct fake_cart_line *l;

	if (f->ncart == MAX_LINES)
		return -1;
	l = &f->cart[f->ncart++];
	copy(l->product_id, sizeof(l->product_id), product_id);
	copy(l->name, sizeof(l->name), name);
	l->quantity = quantity;
	return 0;
}

void fake_orders_cart_clear(struct fake_orders *f)
{
	f->ncart = 0;
}

const char *fake_orders_cart_user(const struct fake_orders *f)
{
	return f->cart_user;
}

int fake_orders_add_product(struct fake_orders *f, const char *id,
                            const char *sku, const char *name,
                            long long price_cents, const char *currency,
                            long long stock)
{
	struct fake_product *p = find_product(f, id);

	if (!p) {
		if (f->nproducts == MAX_PRODUCTS)
			return -1;
		p = &f->products[f->nproducts++];
	}
	copy(p->id, sizeof(p->id), id);
	copy(p->sku, sizeof(p->sku), sku);
	copy(p->name, sizeof(p->name), name);
	p->price = price_cents;
	copy(p->currency, sizeof(p->currency), currency);
	p->stock = stock;
	return 0;
}

long long fake_orders_stock_of(const struct fake_orders *f, const char *id)
{
	const struct fake_product *p = find_product(f, id);

	return p ? p->stock : -1;
}

bool fake_orders_holds(const struct fake_orders *f, const char *order_id)
{
	const struct fake_hold *h = find_hold(f, order_id);

	return h && h->active;
}

const char *fake_orders_last_reserved(const struct fake_orders *f)
{
	return f->last_reserved;
}

const char *fake_orders_last_cancelled(const struct fake_orders *f)
{
	return f->last_cancelled;
}

void fake_orders_plant_twin(struct fake_orders *f, const char *twin_id,
                            const char *fingerprint, int lookup_err)
{
	copy(f->twin, sizeof(f->twin), twin_id);
	f->twin_own_fp = fingerprint == NULL;
	copy(f->twin_fp, sizeof(f->twin_fp), fingerprint);
	f->twin_lookup_err = lookup_err;
}

int fake_orders_put(struct fake_orders *f, const struct order *o,
                    const char *key, const char *fingerprint)
{
	if (f->norders == MAX_ORDERS)
		return -1;
	store(&f->orders[f->norders++], o, key, fingerprint);
	return 0;
}

size_t fake_orders_count(const struct fake_orders *f)
{
	return f->norders;
}

int fake_orders_status(const struct fake_orders *f, const char *id)
{
	const struct fake_stored *s = find_order(f, id);

	return s ? (int)s->status : -1;
}

const char *fake_orders_last_token(const struct fake_orders *f)
{
	return f->last_token;
}

const char *fake_orders_last_key(const struct fake_orders *f)
{
	return f->last_key;
}

const char *fake_orders_last_fingerprint(const struct fake_orders *f)
{
	return f->last_fp;
}

const char *fake_orders_last_request_id(const struct fake_orders *f)
{
	return f->last_rid;
}

int fake_orders_events(const struct fake_orders *f)
{
	return f->events;
}

const char *fake_orders_list_user(const struct fake_orders *f)
{
	return f->list_user;
}

long fake_orders_list_page(const struct fake_orders *f)
{
	return f->list_page;
}

long fake_orders_list_page_size(const struct fake_orders *f)
{
	return f->list_page_size;
}

void *fake_orders_last_tx(const struct fake_orders *f)
{
	return f->last_tx;
}

int fake_orders_last_move(const struct fake_orders *f)
{
	return f->last_move;
}

void fake_orders_fail_next(struct fake_orders *f, enum fake_orders_slot slot,
                           int err)
{
	f->fail_next[slot] = err;
}

void fake_orders_fail_always(struct fake_orders *f, enum fake_orders_slot slot,
                             int err)
{
	f->fail_always[slot] = err;
}

int fake_orders_calls(const struct fake_orders *f, enum fake_orders_slot slot)
{
	return f->calls[slot];
}
