#include "emails.h"

#include "shop/error.h"

int emails_list(const struct email_reader *r, struct arena *a,
                const struct email_viewer *who, const char *order_id, long page,
                long page_size, struct field_errors *errs,
                struct email_page *out)
{
	struct email_filter f = {
	        .order_id = order_id,
	        .page = page,
	        .page_size = page_size,
	};

	if (order_id && !email_uuid_ok(order_id))
		field_errors_add(errs, "order_id", "must be a UUID");
	if (page < 1 || page > EMAILS_PAGE_MAX)
		field_errors_add(errs, "page",
		                 "must be an integer from 1 to 1000000");
	if (page_size < 1 || page_size > EMAILS_PAGE_SIZE_MAX)
		field_errors_add(errs, "page_size",
		                 "must be an integer from 1 to 100");
	if (errs->n)
		return SHOP_EINVAL;
	if (!who->is_admin) {
		if (!email_uuid_ok(who->user_id))
			return SHOP_EAUTH;
		f.user_id = who->user_id;
	}
	return r->ops->list(r->self, a, &f, out);
}
