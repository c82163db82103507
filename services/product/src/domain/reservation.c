#include "reservation.h"

#include <string.h>
#include <strings.h>

#include "shop/error.h"
#include "shop/util.h"

static const char *const status_names[] = {
        [RESERVATION_HELD] = "held",
        [RESERVATION_COMMITTED] = "committed",
        [RESERVATION_RELEASED] = "released",
};

const char *reservation_status_name(enum reservation_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(*status_names)
	               ? status_names[s]
	               : "unknown";
}

int reservation_status_parse(const char *s, enum reservation_status *out)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(*status_names);
	     i++) {
		if (s && strcmp(s, status_names[i]) == 0) {
			*out = (enum reservation_status)i;
			return 0;
		}
	}
	return SHOP_EINVAL;
}

int reservation_request_validate(const struct reservation_request *r,
                                 struct field_errors *errs)
{
	size_t before = errs->n;

	if (!r->order_id || !shop_uuid_valid(r->order_id))
		field_errors_add(errs, "order_id", "must be a UUID");
	if (r->n == 0 || r->n > RESERVATION_LINES_MAX)
		field_errors_add(errs, "items", "must hold 1 to 200 items");
	if (r->hold_s != 0 && (r->hold_s < RESERVATION_HOLD_MIN_S ||
	                       r->hold_s > RESERVATION_HOLD_MAX_S))
		field_errors_add(errs, "hold_seconds",
		                 "must be an integer from 1 to 86400");
	/* items may be NULL with n past the limit: the JSON layer does not
	 * copy an array it refuses anyway. */
	for (size_t i = 0; r->items && i < r->n && i < RESERVATION_LINES_MAX;
	     i++) {
		const struct reservation_item *it = &r->items[i];

		if (!it->product_id || !shop_uuid_valid(it->product_id)) {
			if (!field_errors_has(errs, "items[].product_id"))
				field_errors_add(errs, "items[].product_id",
				                 "every product_id must be a "
				                 "UUID");
			continue;
		}
		if (it->quantity < 1 || it->quantity > RESERVATION_QTY_MAX) {
			if (!field_errors_has(errs, "items[].quantity"))
				field_errors_add(errs, "items[].quantity",
				                 "every quantity must be an "
				                 "integer from 1 to 1000000");
		}
		for (size_t j = 0; j < i; j++) {
			if (r->items[j].product_id &&
			    strcasecmp(r->items[j].product_id,
			               it->product_id) == 0) {
				if (!field_errors_has(errs, "items"))
					field_errors_add(
					        errs, "items",
					        "a product may be named only "
					        "once");
				break;
			}
		}
	}
	return errs->n > before ? SHOP_EINVAL : 0;
}

void reservation_total(struct reservation *r)
{
	long long t = 0;

	for (size_t i = 0; i < r->n; i++)
		t += r->lines[i].unit_price_cents * r->lines[i].quantity;
	r->total_cents = t;
}
