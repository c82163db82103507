#include "shop/json.h"
#include "shop/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

json_t *sjson_parse(const char *buf, size_t len, char *detail, size_t cap)
{
	json_error_t err;
	json_t *v;

	if (!buf || len == 0) {
		snprintf(detail, cap,
		         "request body is empty; a JSON object is required");
		return NULL;
	}
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	               &err);
	if (!v) {
		/* jansson ends many messages with "near '<text>'", a piece of
		 * the body: that could be a password, so it is cut. */
		const char *near = strstr(err.text, " near ");
		int n = near ? (int)(near - err.text) : (int)strlen(err.text);

		snprintf(detail, cap,
		         "malformed JSON at line %d, column %d: %.*s", err.line,
		         err.column, n, err.text);
		return NULL;
	}
	return v;
}

static const char *type_message(enum sjson_type t)
{
	switch (t) {
	case SJSON_STRING:
		return "must be a string";
	case SJSON_INTEGER:
		return "must be an integer";
	case SJSON_NUMBER:
		return "must be a number";
	case SJSON_BOOLEAN:
		return "must be true or false";
	case SJSON_OBJECT:
		return "must be an object";
	case SJSON_ARRAY:
		return "must be an array";
	case SJSON_STRING_OR_NULL:
		return "must be a string or null";
	}
	return "has the wrong type";
}

static bool type_ok(const json_t *v, enum sjson_type t)
{
	switch (t) {
	case SJSON_STRING:
		return json_is_string(v);
	case SJSON_INTEGER:
		return json_is_integer(v);
	case SJSON_NUMBER:
		return json_is_number(v);
	case SJSON_BOOLEAN:
		return json_is_boolean(v);
	case SJSON_OBJECT:
		return json_is_object(v);
	case SJSON_ARRAY:
		return json_is_array(v);
	case SJSON_STRING_OR_NULL:
		return json_is_string(v) || json_is_null(v);
	}
	return false;
}

int sjson_check(const json_t *obj, const struct sjson_field *fields,
                size_t nfields, struct field_errors *errs)
{
	const char *key;
	json_t *val;
	size_t before = errs->n;

	if (!json_is_object(obj)) {
		field_errors_add(errs, "", "the body must be a JSON object");
		return SHOP_EINVAL;
	}
	/* Unknown members first, in document order. */
	json_object_foreach((json_t *)obj, key, val)
	{
		size_t i;
		for (i = 0; i < nfields; i++) {
			if (strcmp(fields[i].name, key) == 0)
				break;
		}
		if (i == nfields) {
			/* key is owned by obj, which outlives the error list
			 * for the length of the request. */
			field_errors_add(errs, key, "unknown field");
		}
	}
	for (size_t i = 0; i < nfields; i++) {
		val = json_object_get(obj, fields[i].name);
		if (!val) {
			if (fields[i].required)
				field_errors_add(errs, fields[i].name,
				                 "is required");
			continue;
		}
		if (!type_ok(val, fields[i].type))
			field_errors_add(errs, fields[i].name,
			                 type_message(fields[i].type));
	}
	return errs->n == before ? 0 : SHOP_EINVAL;
}

int sjson_unpack(json_t *root, char *detail, size_t cap, const char *fmt, ...)
{
	json_error_t err;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = json_vunpack_ex(root, &err, JSON_STRICT, fmt, ap);
	va_end(ap);
	if (rc != 0) {
		snprintf(detail, cap, "%s", err.text);
		return SHOP_EINVAL;
	}
	return 0;
}

char *sjson_dump(const json_t *v, size_t *len)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s && len)
		*len = strlen(s);
	return s;
}
