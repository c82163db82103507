#ifndef EMAIL_API_EVENT_JSON_H
#define EMAIL_API_EVENT_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "../domain/message.h"

/*
 * The data of user.registered, order.confirmed and order.failed
 * (the schemas in shared/events/) decoded into struct email_event_data:
 * exactly the schema's members (an unknown or missing one is refused, as
 * additionalProperties: false says), each of its JSON type. Values are
 * checked afterwards by email_event_validate().
 */

/*
 * Decodes data (borrowed) for a message of kind. Strings of *out are
 * borrowed from data; out->lines is malloc'd (caller frees with
 * email_event_json_release()). Returns 0, -1 with the reason in why
 * (cap bytes), or -2 when out of memory.
 */
int email_event_from_json(json_t *data, enum email_kind kind,
                          struct email_event_data *out, char *why, size_t cap);

/* Frees what email_event_from_json() allocated. */
void email_event_json_release(struct email_event_data *d);

#endif
