#ifndef SHOP_FIELD_ERRORS_H
#define SHOP_FIELD_ERRORS_H

#include <stddef.h>

/*
 * A list of validation failures, one per field, that becomes the "errors"
 * member of a 400 problem+json. Plain C with no I/O, so domain code can fill
 * it. The strings are borrowed: use literals or memory that outlives the
 * list (a request arena).
 */
#define FIELD_ERRORS_MAX 32

struct field_error {
	const char *field;
	const char *message;
};

struct field_errors {
	struct field_error items[FIELD_ERRORS_MAX];
	size_t n;
};

static inline void field_errors_init(struct field_errors *e)
{
	e->n = 0;
}

/* Records a failure; past FIELD_ERRORS_MAX the rest are dropped. */
static inline void field_errors_add(struct field_errors *e, const char *field,
                                    const char *message)
{
	if (e->n < FIELD_ERRORS_MAX) {
		e->items[e->n].field = field;
		e->items[e->n].message = message;
		e->n++;
	}
}

/* Returns nonzero when field already has an error. */
static inline int field_errors_has(const struct field_errors *e,
                                   const char *field)
{
	for (size_t i = 0; i < e->n; i++) {
		const char *a = e->items[i].field, *b = field;
		while (*a && *a == *b) {
			a++;
			b++;
		}
		if (*a == *b)
			return 1;
	}
	return 0;
}

#endif
