#include "shop/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_DEFAULT_CHUNK 4096
#define ARENA_ALIGN         alignof(max_align_t)

struct arena_chunk {
	struct arena_chunk *next;
	size_t cap;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct arena {
	struct arena_chunk *head; /* current chunk; older ones follow */
	size_t chunk_size;
	size_t total;
};

static struct arena_chunk *chunk_new(size_t cap)
{
	struct arena_chunk *c;

	if (cap > SIZE_MAX - sizeof(*c))
		return NULL;
	c = malloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	c->next = NULL;
	c->cap = cap;
	c->used = 0;
	return c;
}

struct arena *arena_new(size_t chunk_size)
{
	struct arena *a = malloc(sizeof(*a));

	if (!a)
		return NULL;
	a->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
	a->total = 0;
	a->head = chunk_new(a->chunk_size);
	if (!a->head) {
		free(a);
		return NULL;
	}
	return a;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c, *next, *first = NULL;

	if (!a)
		return;
	/* Keep the oldest chunk of default size: it is the common case. */
	for (c = a->head; c; c = next) {
		next = c->next;
		if (!next && c->cap == a->chunk_size) {
			first = c;
			break;
		}
		free(c);
	}
	if (!first)
		first = chunk_new(a->chunk_size); /* NULL is handled on alloc */
	if (first) {
		first->next = NULL;
		first->used = 0;
	}
	a->head = first;
	a->total = 0;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t off, need;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (c) {
		off = c->used;
		if (c->cap - off >= need) {
			c->used = off + need;
			a->total += need;
			return c->data + off;
		}
	}
	c = chunk_new(need > a->chunk_size ? need : a->chunk_size);
	if (!c)
		return NULL;
	c->next = a->head;
	a->head = c;
	c->used = need;
	a->total += need;
	return c->data;
}

void *arena_calloc(struct arena *a, size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = arena_alloc(a, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	n = strnlen(s, n); /* like strndup(3): s may be shorter than n */
	p = arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_vsprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	char *p;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return NULL;
	p = arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_sprintf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vsprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

size_t arena_used(const struct arena *a)
{
	return a ? a->total : 0;
}
