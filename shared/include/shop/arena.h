#ifndef SHOP_ARENA_H
#define SHOP_ARENA_H

#include <stddef.h>
#include <stdarg.h>

/*
 * A bump allocator for memory that lives as long as one request (nginx
 * pools). Allocations are never freed one by one: arena_reset() or
 * arena_free() releases them all. Not thread-safe: one arena per request.
 */
struct arena;

/* Returns a new arena whose chunks are at least chunk_size bytes (0 picks a
 * default), or NULL when out of memory. Caller frees with arena_free(). */
struct arena *arena_new(size_t chunk_size);

/* Frees the arena and every allocation from it. Accepts NULL. */
void arena_free(struct arena *a);

/* Forgets every allocation but keeps the first chunk for reuse. */
void arena_reset(struct arena *a);

/* Returns size bytes aligned for any type, owned by the arena, or NULL. */
void *arena_alloc(struct arena *a, size_t size);

/* Like arena_alloc() but zero-filled. Returns NULL on overflow of n * size. */
void *arena_calloc(struct arena *a, size_t n, size_t size);

/* Copies s (or at most its first n bytes) into the arena, NUL-terminated. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* printf into the arena; returns NULL on failure. */
char *arena_sprintf(struct arena *a, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
char *arena_vsprintf(struct arena *a, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

/* Bytes handed out since creation or the last reset (for tests/metrics). */
size_t arena_used(const struct arena *a);

#endif
