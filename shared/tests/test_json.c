#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/json.h"

static json_t *parse(const char *s, char *detail, size_t cap)
{
	return sjson_parse(s, strlen(s), detail, cap);
}

/* Asserts that s is rejected with a detail containing want. */
static void assert_rejected(const char *s, const char *want)
{
	char detail[256] = "";
	json_t *v = parse(s, detail, sizeof(detail));

	if (v) {
		json_decref(v);
		fail_msg("accepted '%s'", s);
	}
	if (!strstr(detail, want))
		fail_msg("detail for '%s' is '%s', wanted '%s'", s, detail,
		         want);
}

static void test_parse_valid(void **state)
{
	char detail[128];
	json_t *v;

	(void)state;
	v = parse("{\"a\": 1, \"b\": [true, null], \"c\": {\"d\": \"x\"}}",
	          detail, sizeof(detail));
	assert_non_null(v);
	assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
	json_decref(v);
	/* Any value, and surrounding whitespace. */
	v = parse("  [1, 2]\n", detail, sizeof(detail));
	assert_true(json_is_array(v));
	json_decref(v);
	v = parse("\"str\"", detail, sizeof(detail));
	assert_true(json_is_string(v));
	json_decref(v);
	/* The length is honoured: bytes past it are not read. */
	v = sjson_parse("{}garbage", 2, detail, sizeof(detail));
	assert_true(json_is_object(v));
	json_decref(v);
}

static void test_parse_rejects(void **state)
{
	char detail[128] = "";

	(void)state;
	assert_rejected("{\"a\": 1, \"a\": 2}", "line 1");
	assert_rejected("{\"a\": 1, \"a\": 2}", "duplicate");
	assert_rejected("{\"x\": {\"a\": 1, \"a\": 1}}", "duplicate");
	assert_rejected("{\"a\": 1} x", "column");
	assert_rejected("{\"a\": 1}{}", "malformed JSON");
	assert_rejected("{\"a\": 1,}", "line 1, column 9");
	assert_rejected("{\n  \"a\": tru\n}", "line 2");
	assert_rejected("{\"a\": \"\xff\"}", "malformed JSON");
	assert_rejected("{\"a\": \"\\u0000\"}", "malformed JSON");
	assert_rejected("   ", "malformed JSON");
	assert_null(sjson_parse("", 0, detail, sizeof(detail)));
	assert_non_null(strstr(detail, "empty"));
	assert_null(sjson_parse(NULL, 0, detail, sizeof(detail)));
	assert_null(sjson_parse("{}", 0, detail, sizeof(detail)));
	/* A NUL byte inside the length is not the end of the document. */
	assert_null(sjson_parse("{}\0{}", 5, detail, sizeof(detail)));
	/* The detail never quotes the body (it may hold a password). */
	assert_null(sjson_parse("{\"password\": hunter2secret}", 27, detail,
	                        sizeof(detail)));
	assert_non_null(strstr(detail, "line 1"));
	assert_null(strstr(detail, "hunter2"));
	assert_null(strstr(detail, "near"));
	assert_null(sjson_parse("{\"password\": \"s3cret\"} s3cret", 30, detail,
	                        sizeof(detail)));
	assert_null(strstr(detail, "s3cret"));
}

static void test_parse_detail_is_bounded(void **state)
{
	char detail[16];

	(void)state;
	memset(detail, 'z', sizeof(detail));
	assert_null(parse("{\"a\": 1, \"a\": 2}", detail, sizeof(detail)));
	assert_int_equal(strlen(detail), sizeof(detail) - 1);
}

static const struct sjson_field product_fields[] = {
        {"name", SJSON_STRING, true},
        {"price_cents", SJSON_INTEGER, true},
        {"weight", SJSON_NUMBER, false},
        {"active", SJSON_BOOLEAN, false},
        {"attrs", SJSON_OBJECT, false},
        {"tags", SJSON_ARRAY, false},
        {"note", SJSON_STRING_OR_NULL, false},
};
#define NFIELDS (sizeof(product_fields) / sizeof(*product_fields))

/* Checks the document s; returns the result and fills errs. */
static int check(const char *s, struct field_errors *errs)
{
	char detail[128];
	json_t *v = parse(s, detail, sizeof(detail));
	int rc;

	assert_non_null(v);
	field_errors_init(errs);
	rc = sjson_check(v, product_fields, NFIELDS, errs);
	/* Unknown field names point into the document: copy them out. */
	for (size_t i = 0; i < errs->n; i++)
		errs->items[i].field = strdup(errs->items[i].field);
	json_decref(v);
	return rc;
}

static void free_errs(struct field_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free((char *)errs->items[i].field);
}

static const char *message_for(const struct field_errors *errs,
                               const char *field)
{
	for (size_t i = 0; i < errs->n; i++) {
		if (strcmp(errs->items[i].field, field) == 0)
			return errs->items[i].message;
	}
	return NULL;
}

static void test_check_accepts_good(void **state)
{
	struct field_errors errs;

	(void)state;
	assert_int_equal(
	        check("{\"name\": \"x\", \"price_cents\": 100}", &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(
	        check("{\"name\": \"x\", \"price_cents\": -1, \"weight\": 1.5, "
	              "\"active\": false, \"attrs\": {}, \"tags\": [], "
	              "\"note\": null}",
	              &errs),
	        0);
	assert_int_equal(check("{\"name\": \"x\", \"price_cents\": 0, "
	                       "\"weight\": 2, \"note\": \"n\"}",
	                       &errs),
	                 0);
}

static void test_check_reports_everything_at_once(void **state)
{
	struct field_errors errs;

	(void)state;
	assert_int_equal(check("{\"name\": 5, \"colour\": \"red\", "
	                       "\"weight\": \"1\", \"active\": 1, "
	                       "\"attrs\": [], \"tags\": {}, \"note\": 3, "
	                       "\"size\": 1}",
	                       &errs),
	                 SHOP_EINVAL);
	assert_int_equal(errs.n, 9);
	assert_string_equal(message_for(&errs, "colour"), "unknown field");
	assert_string_equal(message_for(&errs, "size"), "unknown field");
	assert_string_equal(message_for(&errs, "name"), "must be a string");
	assert_string_equal(message_for(&errs, "price_cents"), "is required");
	assert_string_equal(message_for(&errs, "weight"), "must be a number");
	assert_string_equal(message_for(&errs, "active"),
	                    "must be true or false");
	assert_string_equal(message_for(&errs, "attrs"), "must be an object");
	assert_string_equal(message_for(&errs, "tags"), "must be an array");
	assert_string_equal(message_for(&errs, "note"),
	                    "must be a string or null");
	free_errs(&errs);
}

static void test_check_integer_strictness(void **state)
{
	static const char *const bad[] = {"1.5",  "\"1\"", "true", "1.0",
	                                  "null", "[1]",   "1e2"};
	char doc[96];
	struct field_errors errs;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(doc, sizeof(doc),
		         "{\"name\": \"x\", \"price_cents\": %s}", bad[i]);
		assert_int_equal(check(doc, &errs), SHOP_EINVAL);
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.items[0].field, "price_cents");
		assert_string_equal(errs.items[0].message,
		                    "must be an integer");
		free_errs(&errs);
	}
	assert_int_equal(check("{\"name\": null, \"price_cents\": 1}", &errs),
	                 SHOP_EINVAL);
	assert_string_equal(message_for(&errs, "name"), "must be a string");
	free_errs(&errs);
}

static void test_check_missing_required(void **state)
{
	struct field_errors errs;

	(void)state;
	assert_int_equal(check("{}", &errs), SHOP_EINVAL);
	assert_int_equal(errs.n, 2);
	assert_string_equal(message_for(&errs, "name"), "is required");
	assert_string_equal(message_for(&errs, "price_cents"), "is required");
	free_errs(&errs);
}

static void test_check_non_object(void **state)
{
	struct field_errors errs;
	json_t *arr = json_array();

	(void)state;
	field_errors_init(&errs);
	assert_int_equal(sjson_check(arr, product_fields, NFIELDS, &errs),
	                 SHOP_EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.items[0].field, "");
	json_decref(arr);
	field_errors_init(&errs);
	assert_int_equal(sjson_check(NULL, product_fields, NFIELDS, &errs),
	                 SHOP_EINVAL);
}

static void test_check_appends_to_existing_errors(void **state)
{
	struct field_errors errs;
	json_t *ok = json_pack("{s:s, s:i}", "name", "x", "price_cents", 1);

	(void)state;
	field_errors_init(&errs);
	field_errors_add(&errs, "earlier", "was wrong");
	/* Only errors added by this call decide the result. */
	assert_int_equal(sjson_check(ok, product_fields, NFIELDS, &errs), 0);
	assert_int_equal(errs.n, 1);
	json_decref(ok);
}

static void test_unpack(void **state)
{
	char detail[160] = "";
	const char *name = NULL;
	json_int_t cents = 0;
	int active = 0;
	json_t *v = json_pack("{s:s, s:I, s:b}", "name", "x", "price_cents",
	                      (json_int_t)250, "active", 1);

	(void)state;
	assert_int_equal(sjson_unpack(v, detail, sizeof(detail),
	                              "{s:s, s:I, s:b !}", "name", &name,
	                              "price_cents", &cents, "active", &active),
	                 0);
	assert_string_equal(name, "x");
	assert_int_equal(cents, 250);
	assert_true(active);

	/* '!' rejects a key the format does not name. */
	assert_int_equal(sjson_unpack(v, detail, sizeof(detail), "{s:s, s:I !}",
	                              "name", &name, "price_cents", &cents),
	                 SHOP_EINVAL);
	assert_non_null(strstr(detail, "active"));
	/* Strict even without the '!'. */
	assert_int_equal(sjson_unpack(v, detail, sizeof(detail), "{s:s, s:I}",
	                              "name", &name, "price_cents", &cents),
	                 SHOP_EINVAL);
	/* A wrong type and a missing key. */
	assert_int_equal(sjson_unpack(v, detail, sizeof(detail),
	                              "{s:I, s:I, s:b !}", "name", &cents,
	                              "price_cents", &cents, "active", &active),
	                 SHOP_EINVAL);
	assert_int_equal(sjson_unpack(v, detail, sizeof(detail),
	                              "{s:s, s:I, s:b, s:s !}", "name", &name,
	                              "price_cents", &cents, "active", &active,
	                              "missing", &name),
	                 SHOP_EINVAL);
	assert_non_null(strstr(detail, "missing"));
	json_decref(v);
}

static void test_dump(void **state)
{
	json_t *v = json_pack("{s:i, s:[s, n]}", "a", 1, "b", "x");
	size_t len = 0;
	char *s;

	(void)state;
	s = sjson_dump(v, &len);
	assert_string_equal(s, "{\"a\":1,\"b\":[\"x\",null]}");
	assert_int_equal(len, strlen(s));
	free(s);
	json_decref(v);
	v = json_integer(5);
	s = sjson_dump(v, NULL);
	assert_string_equal(s, "5");
	free(s);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_valid),
	        cmocka_unit_test(test_parse_rejects),
	        cmocka_unit_test(test_parse_detail_is_bounded),
	        cmocka_unit_test(test_check_accepts_good),
	        cmocka_unit_test(test_check_reports_everything_at_once),
	        cmocka_unit_test(test_check_integer_strictness),
	        cmocka_unit_test(test_check_missing_required),
	        cmocka_unit_test(test_check_non_object),
	        cmocka_unit_test(test_check_appends_to_existing_errors),
	        cmocka_unit_test(test_unpack),
	        cmocka_unit_test(test_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
