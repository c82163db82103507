#ifndef EMAIL_API_EMAIL_JSON_H
#define EMAIL_API_EMAIL_JSON_H

#include <jansson.h>

#include "../core/ports.h"

/* API.md's Email object; a new reference, or NULL when out of memory. */
json_t *email_view_to_json(const struct email_view *v);

/* {"items","page","page_size","total"}; NULL when out of memory. */
json_t *email_page_to_json(const struct email_page *p, long page,
                           long page_size);

#endif
