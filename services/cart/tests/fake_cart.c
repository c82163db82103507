#include "fake_cart.h"

#include <stdlib.h>
#include <string.h>

#include "shop/error.h"

#define MAX_USERS    8
#define MAX_PRODUCTS 160
#define NAME_CAP     64
#define TAKE_KEPT    8

struct fake_line {
	char product_id[37];
	int quantity;
	char sku[NAME_CAP], name[NAME_CAP];
	long long price;
	char currency[4];
};

struct fake_user_cart {
	char user[37];
	bool exists;
	time_t updated_at;
	struct fake_line lines[CART_MAX_LINES + 1];
	size_t n;
};

struct fake_product {
	char id[37];
	char sku[NAME_CAP], name[NAME_CAP];
	long long price, stock;
	char currency[4];
};

struct fake_cart {
	struct fake_user_cart carts[MAX_USERS];
	size_t ncarts;
	struct fake_product products[MAX_PRODUCTS];
	size_t nproducts;
	time_t clock;
	int fail_next[FAKE_SLOT_COUNT];
	int fail_always[FAKE_SLOT_COUNT];
	int calls[FAKE_SLOT_COUNT];
	size_t last_lookup_n;
	void *take_tx;
	char take_user[37];
	char take_ids[TAKE_KEPT][37];
	long long take_qty[TAKE_KEPT];
	size_t take_n;
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
static int enter(struct fake_cart *f, enum fake_cart_slot s)
{
	int err;

	f->calls[s]++;
	if (f->fail_always[s])
		return f->fail_always[s];
	err = f->fail_next[s];
	f->fail_next[s] = 0;
	return err;
}

static struct fake_user_cart *find_cart(struct fake_cart *f, const char *user,
                                        bool create)
{
	for (size_t i = 0; i < f->ncarts; i++) {
		if (strcmp(f->carts[i].user, user) == 0)
			return &f->carts[i];
	}
	if (!create || f->ncarts == MAX_USERS)
		return NULL;
	struct fake_user_cart *c = &f->carts[f->ncarts++];
	memset(c, 0, sizeof(*c));
	copy(c->user, sizeof(c->user), user);
	c->exists = true;
	return c;
}

static struct fake_line *find_line(struct fake_user_cart *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->lines[i].product_id, id) == 0)
			return &c->lines[i];
	}
	return NULL;
}

static int export_cart(struct arena *a, const struct fake_user_cart *c,
                       struct cart_stored *out)
{
	size_t n = c ? c->n : 0;
	struct cart_line *lines = arena_calloc(a, n ? n : 1, sizeof(*lines));

	if (!lines)
		return SHOP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct fake_line *fl = &c->lines[i];
		memcpy(lines[i].product_id, fl->product_id, 37);
		lines[i].quantity = fl->quantity;
		lines[i].sku = arena_strdup(a, fl->sku);
		lines[i].name = arena_strdup(a, fl->name);
		lines[i].added_price_cents = fl->price;
		memcpy(lines[i].currency, fl->currency, 4);
		if (!lines[i].sku || !lines[i].name)
			return SHOP_ENOMEM;
	}
	out->lines = lines;
	out->n = n;
	out->updated_at = c ? c->updated_at : 0;
	return 0;
}

static void snapshot(struct fake_line *fl, const struct cart_line *l)
{
	copy(fl->sku, sizeof(fl->sku), l->sku);
	copy(fl->name, sizeof(fl->name), l->name);
	fl->price = l->added_price_cents;
	copy(fl->currency, sizeof(fl->currency), l->currency);
}

static int fake_load(void *self, struct arena *a, const char *user_id,
                     struct cart_stored *out)
{
	struct fake_cart *f = self;
	int err = enter(f, FAKE_REPO_LOAD);

	if (err)
		return err;
	return export_cart(a, find_cart(f, user_id, false), out);
}

static int fake_add(void *self, struct arena *a, const char *user_id,
                    const struct cart_line *line, int max_quantity,
                    int max_lines, int *current, struct cart_stored *out)
{
	struct fake_cart *f = self;
	struct fake_user_cart *c;
	struct fake_line *fl;
	int err = enter(f, FAKE_REPO_ADD);

	if (err)
		return err;
	c = find_cart(f, user_id, true);
	if (!c)
		return SHOP_ENOMEM;
	fl = find_line(c, line->product_id);
	if ((fl ? fl->quantity : 0) + line->quantity > max_quantity) {
		*current = fl ? fl->quantity : 0;
		return CART_EQUANTITY;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (&c->lines[i] != fl &&
		    strcmp(c->lines[i].currency, line->currency) != 0)
			return CART_ECURRENCY;
	}
	if (!fl && (c->n >= (size_t)max_lines || c->n == CART_MAX_LINES + 1))
		return CART_ELINES;
	if (!fl) {
		fl = &c->lines[c->n++];
		memset(fl, 0, sizeof(*fl));
		memcpy(fl->product_id, line->product_id, 37);
	}
	fl->quantity += line->quantity;
	snapshot(fl, line);
	c->updated_at = ++f->clock;
	return export_cart(a, c, out);
}

static int fake_set(void *self, struct arena *a, const char *user_id,
                    const char *product_id, int quantity,
                    const struct cart_line *snap, struct cart_stored *out)
{
	struct fake_cart *f = self;
	struct fake_user_cart *c;
	struct fake_line *fl;
	int err = enter(f, FAKE_REPO_SET);

	if (err)
		return err;
	c = find_cart(f, user_id, false);
	fl = c ? find_line(c, product_id) : NULL;
	if (!fl)
		return SHOP_ENOTFOUND;
	for (size_t i = 0; snap && quantity > 0 && i < c->n; i++) {
		if (&c->lines[i] != fl &&
		    strcmp(c->lines[i].currency, snap->currency) != 0)
			return CART_ECURRENCY;
	}
	if (quantity == 0) {
		size_t i = (size_t)(fl - c->lines);
		memmove(&c->lines[i], &c->lines[i + 1],
		        (c->n - i - 1) * sizeof(*fl));
		c->n--;
	} else {
		fl->quantity = quantity;
		if (snap)
			snapshot(fl, snap);
	}
	c->updated_at = ++f->clock;
	return export_cart(a, c, out);
}

static int fake_clear(void *self, const char *user_id)
{
	struct fake_cart *f = self;
	struct fake_user_cart *c;
	int err = enter(f, FAKE_REPO_CLEAR);

	if (err)
		return err;
	c = find_cart(f, user_id, false);
	if (c && c->n) {
		c->n = 0;
		c->updated_at = ++f->clock;
	}
	return 0;
}

static int fake_lookup(void *self, struct arena *a, const struct cart_trace *t,
                       const char *const *ids, size_t n,
                       struct cart_product *out)
{
	struct fake_cart *f = self;
	int err = enter(f, FAKE_CATALOG_LOOKUP);

	(void)t;
	if (err)
		return err;
	f->last_lookup_n = n;
	for (size_t i = 0; i < n; i++) {
		struct cart_product *p = &out[i];
		memset(p, 0, sizeof(*p));
		copy(p->id, sizeof(p->id), ids[i]);
		p->sku = p->name = "";
		for (size_t k = 0; k < f->nproducts; k++) {
			const struct fake_product *fp = &f->products[k];
			if (strcmp(fp->id, ids[i]) != 0)
				continue;
			p->found = true;
			p->sku = arena_strdup(a, fp->sku);
			p->name = arena_strdup(a, fp->name);
			p->price_cents = fp->price;
			memcpy(p->currency, fp->currency, 4);
			p->stock = fp->stock;
			if (!p->sku || !p->name)
				return SHOP_ENOMEM;
		}
	}
	return 0;
}

static int fake_take_ordered(void *self, void *tx, const char *user_id,
                             const char *const *product_ids,
                             const long long *quantities, size_t n,
                             int *changed)
{
	struct fake_cart *f = self;
	struct fake_user_cart *c;
	int err = enter(f, FAKE_REPO_TAKE_ORDERED), k = 0;

	f->take_tx = tx;
	copy(f->take_user, sizeof(f->take_user), user_id);
	f->take_n = n;
	for (size_t i = 0; i < n && i < TAKE_KEPT; i++) {
		copy(f->take_ids[i], sizeof(f->take_ids[i]), product_ids[i]);
		f->take_qty[i] = quantities[i];
	}
	if (err)
		return err;
	*changed = 0;
	c = find_cart(f, user_id, false);
	if (!c)
		return 0;
	for (size_t l = 0; l < c->n;) {
		long long q = 0;
		bool ordered = false;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(product_ids[i], c->lines[l].product_id) ==
			    0) {
				q += quantities[i];
				ordered = true;
			}
		}
		if (!ordered) {
			l++;
			continue;
		}
		k++;
		if (c->lines[l].quantity <= q) {
			memmove(&c->lines[l], &c->lines[l + 1],
			        (c->n - l - 1) * sizeof(c->lines[0]));
			c->n--;
		} else {
			c->lines[l].quantity -= (int)q;
			l++;
		}
	}
	if (k)
		c->updated_at = ++f->clock;
	*changed = k;
	return 0;
}

static const struct cart_repo_ops repo_ops = {
        .load = fake_load,
        .add = fake_add,
        .set_quantity = fake_set,
        .clear = fake_clear,
        .take_ordered = fake_take_ordered,
};

static const struct product_catalog_ops catalog_ops = {
        .lookup = fake_lookup,
};

struct fake_cart *fake_cart_new(void)
{
	struct fake_cart *f = calloc(1, sizeof(*f));

	if (f)
		f->clock = FAKE_CART_T0;
	return f;
}

void fake_cart_free(struct fake_cart *f)
{
	free(f);
}

struct cart_repo fake_cart_repo(struct fake_cart *f)
{
	return (struct cart_repo){&repo_ops, f};
}

struct product_catalog fake_cart_catalog(struct fake_cart *f)
{
	return (struct product_catalog){&catalog_ops, f};
}

int fake_cart_add_product(struct fake_cart *f, const char *id, const char *sku,
                          const char *name, long long price_cents,
                          const char *currency, long long stock)
{
	struct fake_product *p = NULL;

	for (size_t i = 0; i < f->nproducts; i++) {
		if (strcmp(f->products[i].id, id) == 0)
			p = &f->products[i];
	}
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

void fake_cart_remove_product(struct fake_cart *f, const char *id)
{
	for (size_t i = 0; i < f->nproducts; i++) {
		if (strcmp(f->products[i].id, id) == 0) {
			f->products[i] = f->products[--f->nproducts];
			return;
		}
	}
}

void fake_cart_fail_next(struct fake_cart *f, enum fake_cart_slot slot, int err)
{
	f->fail_next[slot] = err;
}

void fake_cart_fail_always(struct fake_cart *f, enum fake_cart_slot slot,
                           int err)
{
	f->fail_always[slot] = err;
}

int fake_cart_calls(const struct fake_cart *f, enum fake_cart_slot slot)
{
	return f->calls[slot];
}

size_t fake_cart_last_lookup_n(const struct fake_cart *f)
{
	return f->last_lookup_n;
}

int fake_cart_quantity(const struct fake_cart *f, const char *user,
                       const char *product)
{
	struct fake_user_cart *c =
	        find_cart((struct fake_cart *)f, user, false);
	struct fake_line *l = c ? find_line(c, product) : NULL;

	return l ? l->quantity : 0;
}

int fake_cart_put_line(struct fake_cart *f, const char *user,
                       const struct cart_line *line)
{
	struct fake_user_cart *c = find_cart(f, user, true);
	struct fake_line *fl;

	if (!c || c->n == CART_MAX_LINES + 1)
		return -1;
	fl = find_line(c, line->product_id);
	if (!fl) {
		fl = &c->lines[c->n++];
		memset(fl, 0, sizeof(*fl));
		memcpy(fl->product_id, line->product_id, 37);
	}
	fl->quantity = line->quantity;
	snapshot(fl, line);
	c->updated_at = ++f->clock;
	return 0;
}

void *fake_cart_take_tx(const struct fake_cart *f)
{
	return f->take_tx;
}

const char *fake_cart_take_user(const struct fake_cart *f)
{
	return f->take_user;
}

size_t fake_cart_take_n(const struct fake_cart *f)
{
	return f->take_n;
}

const char *fake_cart_take_product(const struct fake_cart *f, size_t i)
{
	return i < TAKE_KEPT ? f->take_ids[i] : "";
}

long long fake_cart_take_quantity(const struct fake_cart *f, size_t i)
{
	return i < TAKE_KEPT ? f->take_qty[i] : 0;
}
