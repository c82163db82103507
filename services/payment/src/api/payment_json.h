#ifndef PAYMENT_API_PAYMENT_JSON_H
#define PAYMENT_API_PAYMENT_JSON_H

#include <jansson.h>

#include "../domain/payment.h"

/*
 * The API's JSON shapes (API.md "Payments"). Each returns a new reference
 * or NULL when out of memory.
 */

/* {"id","order_id","user_id","amount_cents","currency","status",
 *  "failure_reason","provider_ref","created_at"}: failure_reason and
 *  provider_ref null when absent, created_at RFC 3339 UTC. */
json_t *payment_to_json(const struct payment *p);

/* {"items": [...], "page", "page_size", "total"}. */
json_t *payment_page_to_json(const struct payment_page *pg, long page,
                             long page_size);

#endif
