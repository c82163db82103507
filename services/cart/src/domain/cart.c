#include "cart.h"

#include <ctype.h>
#include <string.h>

#include "shop/error.h"

int cart_quantity_validate(long long q, const char *field,
                           struct field_errors *errs)
{
	if (q < CART_QTY_MIN || q > CART_QTY_MAX) {
		field_errors_add(errs, field,
		                 "must be an integer from 1 to 99");
		return SHOP_EINVAL;
	}
	return 0;
}

int cart_set_quantity_validate(long long q, const char *field,
                               struct field_errors *errs)
{
	if (q < 0 || q > CART_QTY_MAX) {
		field_errors_add(errs, field,
		                 "must be an integer from 0 to 99 (0 removes "
		                 "the line)");
		return SHOP_EINVAL;
	}
	return 0;
}

void cart_product_id_normalize(const char *in, char out[37])
{
	size_t i;

	for (i = 0; i < 36 && in[i]; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

int cart_line_max_quantity(const struct cart_product *p)
{
	if (p->stock <= 0)
		return 0;
	return p->stock < CART_QTY_MAX ? (int)p->stock : CART_QTY_MAX;
}

const char *cart_currency(const struct cart_stored *c)
{
	if (c->n > 0 && c->lines[0].currency[0])
		return c->lines[0].currency;
	return CART_CURRENCY_DEFAULT;
}

static const struct cart_product *
find_product(const struct cart_product *products, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(products[i].id, id) == 0)
			return &products[i];
	}
	return NULL;
}

void cart_view_build(const struct cart_stored *c,
                     const struct cart_product *products, size_t nproducts,
                     struct cart_view_line *lines, struct cart_view *v)
{
	const char *currency = cart_currency(c);

	memset(v, 0, sizeof(*v));
	v->lines = lines;
	v->n = c->n;
	v->updated_at = c->updated_at;
	v->prices_current = products != NULL;
	for (size_t i = 0; i < c->n; i++) {
		const struct cart_line *l = &c->lines[i];
		const struct cart_product *p =
		        products ? find_product(products, nproducts,
		                                l->product_id)
		                 : NULL;
		struct cart_view_line *vl = &lines[i];

		vl->line = l;
		vl->available = true;
		vl->sku = l->sku;
		vl->name = l->name;
		vl->unit_price_cents = l->added_price_cents;
		if (p && p->found && strcmp(p->currency, currency) == 0) {
			vl->sku = p->sku;
			vl->name = p->name;
			vl->unit_price_cents = p->price_cents;
		} else if (p) {
			/* Gone, or now priced in another currency than the
			 * cart's: it cannot be bought from this cart. */
			vl->available = false;
		}
		vl->line_total_cents =
		        vl->available ? vl->unit_price_cents * l->quantity : 0;
		if (vl->available) {
			v->item_count += l->quantity;
			v->total_cents += vl->line_total_cents;
		}
	}
	memcpy(v->currency, currency, strlen(currency) + 1);
}
