#include "shop/consumer.h"

#include "shop/error.h"
#include "shop/json.h"
#include "shop/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/*
 * The envelope of EVENTS.md, checked strictly: a consumer dead-letters
 * what it cannot trust rather than guess. Unknown members are refused
 * too: the envelope is versioned by event_version, so a new member comes
 * with a new version, which this consumer does not accept either.
 */

static const char *const envelope_members[] = {
        "event_id", "event_type",     "event_version", "occurred_at",
        "producer", "correlation_id", "data",
};

static bool digits(const char *s, int n, int min, int max)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v >= min && v <= max;
}

/* RFC 3339: 2026-11-21T10:02:03Z, with optional fraction and an offset. */
static bool rfc3339(const char *s)
{
	size_t n = strlen(s), i = 19;

	if (n < 20 || !digits(s, 4, 0, 9999) || s[4] != '-' ||
	    !digits(s + 5, 2, 1, 12) || s[7] != '-' ||
	    !digits(s + 8, 2, 1, 31) || s[10] != 'T' ||
	    !digits(s + 11, 2, 0, 23) || s[13] != ':' ||
	    !digits(s + 14, 2, 0, 59) || s[16] != ':' ||
	    !digits(s + 17, 2, 0, 60))
		return false;
	if (s[i] == '.') {
		size_t start = ++i;

		while (isdigit((unsigned char)s[i]))
			i++;
		if (i == start)
			return false;
	}
	if (s[i] == 'Z')
		return s[i + 1] == '\0';
	return (s[i] == '+' || s[i] == '-') && n - i == 6 &&
	       digits(s + i + 1, 2, 0, 23) && s[i + 3] == ':' &&
	       digits(s + i + 4, 2, 0, 59);
}

static bool bound(const struct amqp_queue_def *q, const char *type)
{
	for (size_t k = 0; k < AMQP_MAX_QUEUE_BINDINGS && q->bindings[k]; k++)
		if (strcmp(q->bindings[k], type) == 0)
			return true;
	return false;
}

/* A member that must be a non-empty string; NULL with why otherwise. */
static const char *string_member(json_t *root, const char *name, char *why,
                                 size_t cap)
{
	json_t *v = json_object_get(root, name);

	if (!v) {
		snprintf(why, cap, "missing member '%s'", name);
		return NULL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0) {
		snprintf(why, cap, "member '%s' must be a non-empty string",
		         name);
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(why, cap, "member '%s' holds a NUL character", name);
		return NULL;
	}
	return json_string_value(v);
}

static int check(const struct amqp_queue_def *q, json_t *root, const char *type,
                 const char *message_id, struct consumer_event *ev, char *why,
                 size_t cap)
{
	const char *key;
	json_t *v;

	if (!json_is_object(root)) {
		snprintf(why, cap, "the body is not a JSON object");
		return SHOP_EINVAL;
	}
	json_object_foreach(root, key, v)
	{
		bool known = false;

		for (size_t i = 0;
		     i < sizeof(envelope_members) / sizeof(envelope_members[0]);
		     i++)
			known = known || strcmp(key, envelope_members[i]) == 0;
		if (!known) {
			snprintf(why, cap, "unknown member '%.64s'", key);
			return SHOP_EINVAL;
		}
	}
	ev->event_id = string_member(root, "event_id", why, cap);
	if (!ev->event_id)
		return SHOP_EINVAL;
	if (!shop_uuid_valid(ev->event_id)) {
		snprintf(why, cap, "event_id '%.64s' is not a UUID",
		         ev->event_id);
		return SHOP_EINVAL;
	}
	ev->event_type = string_member(root, "event_type", why, cap);
	if (!ev->event_type)
		return SHOP_EINVAL;
	if (!bound(q, ev->event_type)) {
		snprintf(why, cap,
		         "event_type '%.64s' is not one the queue takes",
		         ev->event_type);
		return SHOP_EINVAL;
	}
	v = json_object_get(root, "event_version");
	if (!v) {
		snprintf(why, cap, "missing member 'event_version'");
		return SHOP_EINVAL;
	}
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		snprintf(why, cap, "event_version must be the integer 1");
		return SHOP_EINVAL;
	}
	ev->event_version = 1;
	ev->occurred_at = string_member(root, "occurred_at", why, cap);
	if (!ev->occurred_at)
		return SHOP_EINVAL;
	if (!rfc3339(ev->occurred_at)) {
		snprintf(why, cap,
		         "occurred_at '%.40s' is not an RFC 3339 time",
		         ev->occurred_at);
		return SHOP_EINVAL;
	}
	ev->producer = string_member(root, "producer", why, cap);
	if (!ev->producer)
		return SHOP_EINVAL;
	v = json_object_get(root, "correlation_id");
	if (v && !json_is_null(v)) {
		ev->correlation_id =
		        string_member(root, "correlation_id", why, cap);
		if (!ev->correlation_id)
			return SHOP_EINVAL;
	}
	ev->data = json_object_get(root, "data");
	if (!ev->data) {
		snprintf(why, cap, "missing member 'data'");
		return SHOP_EINVAL;
	}
	if (!json_is_object(ev->data)) {
		snprintf(why, cap, "member 'data' must be an object");
		return SHOP_EINVAL;
	}
	/* The properties the relay sets (message_id = event_id, type =
	 * event_type) must not contradict the body. */
	if (type && strcmp(type, ev->event_type) != 0) {
		snprintf(why, cap,
		         "the message's type '%.64s' differs from event_type",
		         type);
		return SHOP_EINVAL;
	}
	if (message_id && strcasecmp(message_id, ev->event_id) != 0) {
		snprintf(why, cap,
		         "the message's message_id '%.64s' differs from "
		         "event_id",
		         message_id);
		return SHOP_EINVAL;
	}
	return 0;
}

int consumer__parse_envelope(const struct amqp_queue_def *q, const char *body,
                             size_t len, const char *type,
                             const char *message_id, json_t **root,
                             struct consumer_event *ev, char *why, size_t cap,
                             char *id, size_t id_cap)
{
	struct consumer_event parsed = {0};
	json_t *doc, *jid;
	int rc;

	if (id_cap)
		id[0] = '\0';
	if (!body || len == 0) {
		snprintf(why, cap, "the body is empty");
		return SHOP_EINVAL;
	}
	doc = sjson_parse(body, len, why, cap);
	if (!doc)
		return SHOP_EINVAL;
	jid = json_is_object(doc) ? json_object_get(doc, "event_id") : NULL;
	if (json_is_string(jid) && id_cap)
		snprintf(id, id_cap, "%s", json_string_value(jid));
	rc = check(q, doc, type, message_id, &parsed, why, cap);
	if (rc) {
		json_decref(doc);
		return rc;
	}
	*root = doc;
	*ev = parsed;
	return 0;
}
