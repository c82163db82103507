#ifndef SHOP_JSON_H
#define SHOP_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "shop/field_errors.h"

/*
 * Strict JSON on jansson. Request bodies are parsed with duplicate keys
 * rejected, then checked against a field table that reports every unknown,
 * missing or mistyped field at once (for problem+json "errors"), and then
 * unpacked with json_unpack_ex and a format string ending in '!' so that an
 * unknown field can never slip through.
 */

enum sjson_type {
	SJSON_STRING,
	SJSON_INTEGER, /* a JSON integer: 1.0 and "1" are not integers */
	SJSON_NUMBER,  /* integer or real */
	SJSON_BOOLEAN,
	SJSON_OBJECT,
	SJSON_ARRAY,
	SJSON_STRING_OR_NULL,
};

struct sjson_field {
	const char *name;
	enum sjson_type type;
	bool required;
};

/*
 * Parses len bytes as one JSON value, rejecting duplicate object keys and
 * trailing garbage. Returns a new reference (caller json_decref()s) or NULL
 * with a one-line description written to detail (cap bytes), e.g.
 * "malformed JSON at line 1, column 9: unexpected token".
 */
json_t *sjson_parse(const char *buf, size_t len, char *detail, size_t cap);

/*
 * Checks that obj is an object whose members are all named in fields, have
 * the declared type, and that required ones are present. Adds one error
 * per bad field to errs ("unknown field", "is required", "must be a
 * string", ...). Returns 0 when obj passed, SHOP_EINVAL otherwise.
 */
int sjson_check(const json_t *obj, const struct sjson_field *fields,
                size_t nfields, struct field_errors *errs);

/*
 * json_unpack_ex with JSON_STRICT semantics for the caller's format (which
 * should end in '!'). Returns 0 or SHOP_EINVAL with jansson's message in
 * detail.
 */
int sjson_unpack(json_t *root, char *detail, size_t cap, const char *fmt, ...);

/* Dumps compactly; returns a malloc'd string (caller frees) or NULL. */
char *sjson_dump(const json_t *v, size_t *len);

#endif
