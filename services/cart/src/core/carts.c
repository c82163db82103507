#include "carts.h"

#include <string.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

void carts_init(struct carts *c, struct cart_repo repo,
                struct product_catalog catalog)
{
	c->repo = repo;
	c->catalog = catalog;
}

/* A lookup failure as a change reports it. */
static int products_error(int rc)
{
	return rc == SHOP_EUNAVAIL || rc == SHOP_ETIMEDOUT ? CART_EPRODUCTS
	                                                   : rc;
}

/*
 * Asks the product service about every product of `stored`, plus `extra`
 * (a lower-case id, may be NULL) when the cart has no line of it. On
 * success *products holds the answers (the extra one included) and
 * *nproducts their number.
 */
static int lookup_products(struct carts *c, struct arena *a,
                           const struct cart_trace *t,
                           const struct cart_stored *stored, const char *extra,
                           struct cart_product **products, size_t *nproducts)
{
	size_t n = 0, cap = stored->n + 1;
	const char **ids = arena_calloc(a, cap, sizeof(*ids));
	struct cart_product *out = arena_calloc(a, cap, sizeof(*out));
	int rc;

	if (!ids || !out)
		return SHOP_ENOMEM;
	for (size_t i = 0; i < stored->n; i++)
		ids[n++] = stored->lines[i].product_id;
	if (extra) {
		bool have = false;
		for (size_t i = 0; i < stored->n && !have; i++)
			have = strcmp(stored->lines[i].product_id, extra) == 0;
		if (!have)
			ids[n++] = extra;
	}
	if (n == 0) {
		*products = out;
		*nproducts = 0;
		return 0;
	}
	rc = c->catalog.ops->lookup(c->catalog.self, a, t, ids, n, out);
	if (rc)
		return rc;
	*products = out;
	*nproducts = n;
	return 0;
}

static const struct cart_product *find(const struct cart_product *p, size_t n,
                                       const char *id)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(p[i].id, id) == 0)
			return &p[i];
	}
	return NULL;
}

static const struct cart_line *find_line(const struct cart_stored *s,
                                         const char *id)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->lines[i].product_id, id) == 0)
			return &s->lines[i];
	}
	return NULL;
}

/* The view of stored with the answers the product service gave (NULL:
 * it could not be asked). */
static int view(struct arena *a, const struct cart_stored *stored,
                const struct cart_product *products, size_t nproducts,
                struct cart_view *out)
{
	struct cart_view_line *lines =
	        arena_calloc(a, stored->n ? stored->n : 1, sizeof(*lines));

	if (!lines)
		return SHOP_ENOMEM;
	cart_view_build(stored, products, nproducts, lines, out);
	return 0;
}

int carts_get(struct carts *c, struct arena *a, const struct cart_trace *t,
              const char *user_id, struct cart_view *out)
{
	struct cart_stored stored;
	struct cart_product *products = NULL;
	size_t n = 0;
	int rc = c->repo.ops->load(c->repo.self, a, user_id, &stored);

	if (rc)
		return rc;
	rc = lookup_products(c, a, t, &stored, NULL, &products, &n);
	if (rc == SHOP_ENOMEM)
		return rc;
	if (rc) {
		/* The stored lines are still worth showing (the catalog
		 * port logged why it could not answer). */
		slog_kv(SLOG_DEBUG, t ? t->request_id : NULL,
		        "showing the stored prices: the product service did "
		        "not "
		        "answer",
		        SLOG_S("error", shop_strerror(rc)));
		products = NULL;
	}
	return view(a, &stored, products, n, out);
}

int carts_get_stored(struct carts *c, struct arena *a, const char *user_id,
                     struct cart_view *out)
{
	struct cart_stored stored;
	int rc = c->repo.ops->load(c->repo.self, a, user_id, &stored);

	if (rc)
		return rc;
	return view(a, &stored, NULL, 0, out);
}

/* The snapshot a line keeps of p. */
static void snapshot_of(const struct cart_product *p, int quantity,
                        struct cart_line *l)
{
	memset(l, 0, sizeof(*l));
	memcpy(l->product_id, p->id, sizeof(l->product_id));
	l->quantity = quantity;
	l->sku = p->sku;
	l->name = p->name;
	l->added_price_cents = p->price_cents;
	memcpy(l->currency, p->currency, sizeof(l->currency));
}

static void conflict_fill(struct cart_conflict *cf, enum cart_conflict_kind k,
                          const struct cart_product *p, int in_cart,
                          const char *currency)
{
	memset(cf, 0, sizeof(*cf));
	cf->kind = k;
	memcpy(cf->product_id, p->id, sizeof(cf->product_id));
	cf->product_name = p->name ? p->name : "";
	cf->stock = p->stock;
	cf->in_cart = in_cart;
	if (currency)
		memcpy(cf->currency, currency, strlen(currency) + 1);
}

/* Why a line of p cannot hold `want`: its stock, or CART_QTY_MAX. */
static enum cart_conflict_kind over_limit(const struct cart_product *p,
                                          long long want)
{
	return want > p->stock ? CART_CONFLICT_STOCK : CART_CONFLICT_QUANTITY;
}

int carts_add(struct carts *c, struct arena *a, const struct cart_trace *t,
              const char *user_id, const char *product_id, long long quantity,
              struct field_errors *errs, struct cart_conflict *conflict,
              struct cart_view *out)
{
	char id[37];
	struct cart_stored stored, after;
	struct cart_product *products;
	const struct cart_product *p;
	const struct cart_line *have;
	struct cart_line line;
	size_t n;
	int rc, current = 0, max;

	rc = cart_quantity_validate(quantity, "quantity", errs);
	if (!product_id || !shop_uuid_valid(product_id)) {
		field_errors_add(errs, "product_id",
		                 "must be a product id (a UUID)");
		rc = SHOP_EINVAL;
	}
	if (rc)
		return rc;
	cart_product_id_normalize(product_id, id);

	rc = c->repo.ops->load(c->repo.self, a, user_id, &stored);
	if (rc)
		return rc;
	rc = lookup_products(c, a, t, &stored, id, &products, &n);
	if (rc)
		return products_error(rc);
	p = find(products, n, id);
	if (!p || !p->found)
		return SHOP_ENOTFOUND;
	have = find_line(&stored, id);
	max = cart_line_max_quantity(p);
	if ((have ? have->quantity : 0) + quantity > max) {
		int in_cart = have ? have->quantity : 0;
		conflict_fill(conflict, over_limit(p, in_cart + quantity), p,
		              in_cart, NULL);
		return SHOP_ECONFLICT;
	}

	snapshot_of(p, (int)quantity, &line);
	rc = c->repo.ops->add(c->repo.self, a, user_id, &line, max,
	                      CART_MAX_LINES, &current, &after);
	switch (rc) {
	case 0:
		break;
	case CART_EQUANTITY: /* a concurrent add got there first */
		conflict_fill(conflict, over_limit(p, current + quantity), p,
		              current, NULL);
		return SHOP_ECONFLICT;
	case CART_ELINES:
		conflict_fill(conflict, CART_CONFLICT_LINES, p, 0, NULL);
		return SHOP_ECONFLICT;
	case CART_ECURRENCY:
		conflict_fill(conflict, CART_CONFLICT_CURRENCY, p, 0,
		              cart_currency(&stored));
		return SHOP_ECONFLICT;
	default:
		return rc;
	}
	return view(a, &after, products, n, out);
}

int carts_set_quantity(struct carts *c, struct arena *a,
                       const struct cart_trace *t, const char *user_id,
                       const char *product_id, long long quantity,
                       struct field_errors *errs,
                       struct cart_conflict *conflict, struct cart_view *out)
{
	char id[37];
	struct cart_stored stored, after;
	struct cart_product *products = NULL;
	const struct cart_product *p;
	struct cart_line snap;
	size_t n = 0;
	int rc;

	if (!product_id || !shop_uuid_valid(product_id))
		return CART_ENOLINE;
	rc = cart_set_quantity_validate(quantity, "quantity", errs);
	if (rc)
		return rc;
	cart_product_id_normalize(product_id, id);

	rc = c->repo.ops->load(c->repo.self, a, user_id, &stored);
	if (rc)
		return rc;
	if (!find_line(&stored, id))
		return CART_ENOLINE;
	rc = lookup_products(c, a, t, &stored, NULL, &products, &n);
	if (rc == SHOP_ENOMEM)
		return rc;
	if (rc && quantity > 0) /* cannot check the product: change nothing */
		return products_error(rc);
	if (rc)
		products = NULL; /* a removal needs no product service */

	p = products ? find(products, n, id) : NULL;
	if (quantity > 0) {
		if (!p || !p->found)
			return SHOP_ENOTFOUND;
		if (quantity > cart_line_max_quantity(p)) {
			const struct cart_line *l = find_line(&stored, id);
			conflict_fill(conflict, over_limit(p, quantity), p,
			              l ? l->quantity : 0, NULL);
			return SHOP_ECONFLICT;
		}
		snapshot_of(p, (int)quantity, &snap);
	}
	rc = c->repo.ops->set_quantity(c->repo.self, a, user_id, id,
	                               (int)quantity,
	                               quantity > 0 ? &snap : NULL, &after);
	if (rc == SHOP_ENOTFOUND)
		return CART_ENOLINE; /* removed meanwhile */
	if (rc == CART_ECURRENCY) {
		conflict_fill(conflict, CART_CONFLICT_CURRENCY, p, 0,
		              cart_currency(&stored));
		return SHOP_ECONFLICT;
	}
	if (rc)
		return rc;
	return view(a, &after, products, n, out);
}

int carts_remove(struct carts *c, struct arena *a, const struct cart_trace *t,
                 const char *user_id, const char *product_id,
                 struct cart_view *out)
{
	struct field_errors errs;
	struct cart_conflict unused;

	field_errors_init(&errs);
	return carts_set_quantity(c, a, t, user_id, product_id, 0, &errs,
	                          &unused, out);
}

int carts_clear(struct carts *c, const char *user_id)
{
	return c->repo.ops->clear(c->repo.self, user_id);
}

int carts_on_order_created(struct carts *c, void *tx, struct arena *a,
                           const char *user_id,
                           const struct cart_ordered_line *lines, size_t n,
                           int *changed)
{
	const char **ids;
	long long *qty;

	*changed = 0;
	if (!user_id || !shop_uuid_valid(user_id) || n > 1000)
		return SHOP_EINVAL;
	if (n == 0)
		return 0;
	ids = arena_calloc(a, n, sizeof(*ids));
	qty = arena_calloc(a, n, sizeof(*qty));
	if (!ids || !qty)
		return SHOP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!lines[i].product_id ||
		    !shop_uuid_valid(lines[i].product_id) ||
		    lines[i].quantity < 1 || lines[i].quantity > 1000000)
			return SHOP_EINVAL;
		ids[i] = lines[i].product_id;
		qty[i] = lines[i].quantity;
	}
	return c->repo.ops->take_ordered(c->repo.self, tx, user_id, ids, qty, n,
	                                 changed);
}
