#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdalign.h>
#include <string.h>

#include "shop/arena.h"

#define ALIGN alignof(max_align_t)

static int arena_setup(void **state)
{
	*state = arena_new(256);
	return *state ? 0 : -1;
}

static int arena_teardown(void **state)
{
	arena_free(*state);
	return 0;
}

static void test_alignment(void **state)
{
	struct arena *a = *state;
	static const size_t sizes[] = {1, 3, 7, 8, 15, 16, 17, 31, 100, 1};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		void *p = arena_alloc(a, sizes[i]);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % ALIGN, 0);
		memset(p, 0xab, sizes[i]);
	}
}

static void test_zero_size_is_distinct(void **state)
{
	struct arena *a = *state;
	void *p = arena_alloc(a, 0);
	void *q = arena_alloc(a, 0);

	assert_non_null(p);
	assert_non_null(q);
	assert_ptr_not_equal(p, q);
}

static void test_allocations_do_not_overlap(void **state)
{
	struct arena *a = *state;
	unsigned char *p[64];

	/* Spans several 256-byte chunks. */
	for (int i = 0; i < 64; i++) {
		p[i] = arena_alloc(a, 24);
		assert_non_null(p[i]);
		memset(p[i], i, 24);
	}
	for (int i = 0; i < 64; i++) {
		for (int j = 0; j < 24; j++)
			assert_int_equal(p[i][j], i);
	}
}

static void test_large_allocation_beyond_chunk(void **state)
{
	struct arena *a = *state;
	char *small = arena_strdup(a, "before");
	unsigned char *big = arena_alloc(a, 10000);
	char *after;

	assert_non_null(big);
	assert_int_equal((uintptr_t)big % ALIGN, 0);
	memset(big, 0x5a, 10000);
	after = arena_strdup(a, "after");
	assert_non_null(after);
	assert_string_equal(small, "before");
	assert_string_equal(after, "after");
	for (int i = 0; i < 10000; i++)
		assert_int_equal(big[i], 0x5a);
	assert_true(arena_used(a) >= 10000 + 7 + 6);
}

static void test_used_counts_and_reset(void **state)
{
	struct arena *a = *state;
	void *first, *again;

	assert_int_equal(arena_used(a), 0);
	first = arena_alloc(a, 10);
	assert_non_null(first);
	assert_true(arena_used(a) >= 10);
	assert_int_equal(arena_used(a) % ALIGN, 0);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	/* The first chunk is kept: the next allocation reuses its memory. */
	again = arena_alloc(a, 10);
	assert_ptr_equal(first, again);
}

static void test_reset_after_many_chunks(void **state)
{
	struct arena *a = *state;

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 100; i++)
			assert_non_null(arena_alloc(a, 100));
		assert_non_null(arena_alloc(a, 5000));
		arena_reset(a);
		assert_int_equal(arena_used(a), 0);
	}
	char *s = arena_strdup(a, "still works");
	assert_string_equal(s, "still works");
}

static void test_reset_after_only_big_allocations(void **state)
{
	struct arena *a = *state;

	assert_non_null(arena_alloc(a, 4096));
	assert_non_null(arena_alloc(a, 8192));
	arena_reset(a);
	assert_string_equal(arena_strdup(a, "x"), "x");
}

static void test_calloc_zeroes(void **state)
{
	struct arena *a = *state;
	unsigned char *p;

	/* Dirty the memory first so that zeroing is observable. */
	memset(arena_alloc(a, 200), 0xff, 200);
	arena_reset(a);
	p = arena_calloc(a, 50, 4);
	assert_non_null(p);
	for (int i = 0; i < 200; i++)
		assert_int_equal(p[i], 0);
	assert_non_null(arena_calloc(a, 0, 16));
	assert_non_null(arena_calloc(a, 16, 0));
}

static void test_calloc_overflow_returns_null(void **state)
{
	struct arena *a = *state;
	size_t before = arena_used(a);

	assert_null(arena_calloc(a, SIZE_MAX / 2 + 1, 2));
	assert_null(arena_calloc(a, SIZE_MAX, SIZE_MAX));
	assert_null(arena_calloc(a, (SIZE_MAX >> 4) + 1, 16));
	assert_int_equal(arena_used(a), before);
}

static void test_alloc_huge_returns_null(void **state)
{
	struct arena *a = *state;

	/* Rounding up to the alignment would wrap around. */
	assert_null(arena_alloc(a, SIZE_MAX));
	assert_null(arena_alloc(a, SIZE_MAX - 1));
	assert_non_null(arena_alloc(a, 1));
}

static void test_strdup_strndup(void **state)
{
	struct arena *a = *state;
	const char *src = "hello, world";
	char *d = arena_strdup(a, src);

	assert_ptr_not_equal(d, src);
	assert_string_equal(d, src);
	assert_string_equal(arena_strdup(a, ""), "");
	assert_string_equal(arena_strndup(a, src, 5), "hello");
	assert_string_equal(arena_strndup(a, src, 0), "");
	/* n past the end of s copies s only, like strndup(3). */
	assert_string_equal(arena_strndup(a, "abc", 100), "abc");
}

static void test_strndup_of_unterminated_buffer(void **state)
{
	struct arena *a = *state;
	const char buf[4] = {'a', 'b', 'c', 'd'};

	assert_string_equal(arena_strndup(a, buf, 4), "abcd");
	assert_string_equal(arena_strndup(a, buf, 2), "ab");
}

static char *vwrap(struct arena *a, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static char *vwrap(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = arena_vsprintf(a, fmt, ap);
	va_end(ap);
	return s;
}

static void test_sprintf(void **state)
{
	struct arena *a = *state;
	char big[3000];

	assert_string_equal(arena_sprintf(a, "%s-%d-%05.1f", "x", 42, 3.14),
	                    "x-42-003.1");
	assert_string_equal(arena_sprintf(a, "%s", ""), "");
	assert_string_equal(vwrap(a, "%d/%s", 7, "seven"), "7/seven");
	/* Longer than a chunk. */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char *s = arena_sprintf(a, "<%s>", big);
	assert_non_null(s);
	assert_int_equal(strlen(s), sizeof(big) + 1);
	assert_int_equal(s[0], '<');
	assert_int_equal(s[sizeof(big)], '>');
}

static void test_default_chunk_size(void **state)
{
	struct arena *a = arena_new(0);

	(void)state;
	assert_non_null(a);
	for (int i = 0; i < 1000; i++)
		assert_non_null(arena_alloc(a, 64));
	assert_true(arena_used(a) >= 64000);
	arena_free(a);
}

static void test_free_and_used_accept_null(void **state)
{
	(void)state;
	arena_free(NULL);
	assert_int_equal(arena_used(NULL), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)
	const struct CMUnitTest tests[] = {
	        T(test_alignment),
	        T(test_zero_size_is_distinct),
	        T(test_allocations_do_not_overlap),
	        T(test_large_allocation_beyond_chunk),
	        T(test_used_counts_and_reset),
	        T(test_reset_after_many_chunks),
	        T(test_reset_after_only_big_allocations),
	        T(test_calloc_zeroes),
	        T(test_calloc_overflow_returns_null),
	        T(test_alloc_huge_returns_null),
	        T(test_strdup_strndup),
	        T(test_strndup_of_unterminated_buffer),
	        T(test_sprintf),
	        cmocka_unit_test(test_default_chunk_size),
	        cmocka_unit_test(test_free_and_used_accept_null),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
