#include "product.h"

#include <ctype.h>
#include <string.h>

#include "shop/error.h"

/* Length in characters (UTF-8 code points), not bytes. */
static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	}
	return n;
}

static bool blank(const char *s)
{
	for (; *s; s++) {
		if (!isspace((unsigned char)*s))
			return false;
	}
	return true;
}

static bool sku_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (!(isalnum(c) || c == '-' || c == '_'))
			return false;
	}
	return n >= 1 && n <= PRODUCT_SKU_MAX;
}

static bool currency_ok(const char *s)
{
	return strlen(s) == 3 && isupper((unsigned char)s[0]) &&
	       isupper((unsigned char)s[1]) && isupper((unsigned char)s[2]);
}

static bool image_url_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return true;
	if (utf8_len(s) > PRODUCT_IMAGE_URL_MAX) /* characters, like name */
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	}
	return s[0] == '/' || strncmp(s, "http://", 7) == 0 ||
	       strncmp(s, "https://", 8) == 0;
}

static bool slug_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (!(islower(c) || isdigit(c) || c == '-'))
			return false;
	}
	return n >= 1 && n <= 64;
}

int product_fields_validate(struct product_fields *f, bool creating,
                            struct field_errors *errs)
{
	size_t before = errs->n;

	if (creating) {
		static const struct {
			unsigned bit;
			const char *name;
		} req[] = {{PRODUCT_F_SKU, "sku"},
		           {PRODUCT_F_NAME, "name"},
		           {PRODUCT_F_DESCRIPTION, "description"},
		           {PRODUCT_F_CATEGORY, "category"},
		           {PRODUCT_F_PRICE, "price_cents"},
		           {PRODUCT_F_STOCK, "stock"}};
		for (size_t i = 0; i < sizeof(req) / sizeof(*req); i++) {
			if (!(f->set & req[i].bit))
				field_errors_add(errs, req[i].name,
				                 "is required");
		}
	} else if (f->set == 0) {
		field_errors_add(errs, "", "give at least one field to change");
	}
	if ((f->set & PRODUCT_F_SKU) && !sku_ok(f->sku))
		field_errors_add(errs, "sku",
		                 "must be 1 to 64 letters, digits, '-' or '_'");
	if (f->set & PRODUCT_F_NAME) {
		size_t n = utf8_len(f->name);
		if (n == 0 || blank(f->name) || n > PRODUCT_NAME_MAX)
			field_errors_add(errs, "name",
			                 "must be 1 to 200 characters");
	}
	if ((f->set & PRODUCT_F_DESCRIPTION) &&
	    utf8_len(f->description) > PRODUCT_DESCRIPTION_MAX)
		field_errors_add(errs, "description",
		                 "must be at most 5000 characters");
	if ((f->set & PRODUCT_F_CATEGORY) && !slug_ok(f->category))
		field_errors_add(errs, "category", "unknown category");
	if ((f->set & PRODUCT_F_PRICE) &&
	    (f->price_cents < 0 || f->price_cents > PRODUCT_PRICE_MAX))
		field_errors_add(errs, "price_cents",
		                 "must be an integer from 0 to 100000000");
	if ((f->set & PRODUCT_F_STOCK) &&
	    (f->stock < 0 || f->stock > PRODUCT_STOCK_MAX))
		field_errors_add(errs, "stock",
		                 "must be an integer from 0 to 1000000");
	if ((f->set & PRODUCT_F_CURRENCY) && !currency_ok(f->currency))
		field_errors_add(errs, "currency",
		                 "must be three capital letters, e.g. USD");
	if ((f->set & PRODUCT_F_IMAGE_URL) && !image_url_ok(f->image_url))
		field_errors_add(
		        errs, "image_url",
		        "must start with '/', 'http://' or 'https://' "
		        "and be at most 2048 characters without spaces");
	if (errs->n != before)
		return SHOP_EINVAL;
	if (creating) {
		if (!(f->set & PRODUCT_F_CURRENCY)) {
			f->currency = PRODUCT_DEFAULT_CURRENCY;
			f->set |= PRODUCT_F_CURRENCY;
		}
		if (!(f->set & PRODUCT_F_IMAGE_URL)) {
			f->image_url = "";
			f->set |= PRODUCT_F_IMAGE_URL;
		}
	}
	return 0;
}

void product_apply(struct product *p, const struct product_fields *f)
{
	if (f->set & PRODUCT_F_SKU)
		p->sku = f->sku;
	if (f->set & PRODUCT_F_NAME)
		p->name = f->name;
	if (f->set & PRODUCT_F_DESCRIPTION)
		p->description = f->description;
	if (f->set & PRODUCT_F_CATEGORY)
		p->category = f->category;
	if (f->set & PRODUCT_F_CURRENCY) {
		memcpy(p->currency, f->currency, 3);
		p->currency[3] = '\0';
	}
	if (f->set & PRODUCT_F_IMAGE_URL)
		p->image_url = f->image_url;
	if (f->set & PRODUCT_F_PRICE)
		p->price_cents = f->price_cents;
	if (f->set & PRODUCT_F_STOCK)
		p->stock = f->stock;
}

int product_sort_parse(const char *s, enum product_sort *out)
{
	static const struct {
		const char *name;
		enum product_sort sort;
	} sorts[] = {{"relevance", PRODUCT_SORT_RELEVANCE},
	             {"name", PRODUCT_SORT_NAME},
	             {"price_asc", PRODUCT_SORT_PRICE_ASC},
	             {"price_desc", PRODUCT_SORT_PRICE_DESC},
	             {"newest", PRODUCT_SORT_NEWEST}};

	for (size_t i = 0; i < sizeof(sorts) / sizeof(*sorts); i++) {
		if (strcmp(s, sorts[i].name) == 0) {
			*out = sorts[i].sort;
			return 0;
		}
	}
	return SHOP_EINVAL;
}

void product_query_init(struct product_query *q)
{
	memset(q, 0, sizeof(*q));
	q->min_price = -1;
	q->max_price = -1;
	q->sort = PRODUCT_SORT_DEFAULT;
	q->page = 1;
	q->page_size = PRODUCT_PAGE_SIZE_DEFAULT;
}

int product_query_validate(struct product_query *q, struct field_errors *errs)
{
	size_t before = errs->n;
	bool has_q;

	if (q->q && utf8_len(q->q) > PRODUCT_QUERY_MAX)
		field_errors_add(errs, "q", "must be at most 200 characters");
	if (q->min_price >= 0 && q->max_price >= 0 &&
	    q->min_price > q->max_price)
		field_errors_add(errs, "min_price_cents",
		                 "must not be greater than max_price_cents");
	if (q->page < 1)
		field_errors_add(errs, "page",
		                 "must be an integer of at least 1");
	if (q->page_size < 1 || q->page_size > PRODUCT_PAGE_SIZE_MAX)
		field_errors_add(errs, "page_size",
		                 "must be an integer from 1 to 100");
	if (errs->n != before)
		return SHOP_EINVAL;
	has_q = q->q && !blank(q->q);
	if (!has_q)
		q->q = NULL;
	if (q->sort == PRODUCT_SORT_DEFAULT)
		q->sort = has_q ? PRODUCT_SORT_RELEVANCE : PRODUCT_SORT_NEWEST;
	else if (q->sort == PRODUCT_SORT_RELEVANCE && !has_q)
		q->sort = PRODUCT_SORT_NEWEST;
	return 0;
}
