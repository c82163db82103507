#ifndef GATEWAY_GBUF_H
#define GATEWAY_GBUF_H

#include <stddef.h>

/*
 * A growable byte buffer. Request contexts keep theirs across requests (on
 * the worker's free-list), so in the steady state nothing is allocated: the
 * capacity a buffer grew to is reused by the next request.
 */
struct gbuf {
	char *data; /* owned; NULL while cap == 0 */
	size_t len;
	size_t cap;
};

/* Makes an empty buffer; allocates nothing. */
void gbuf_init(struct gbuf *b);

/* Frees the storage and makes the buffer empty. */
void gbuf_release(struct gbuf *b);

/* Forgets the contents; keeps the storage unless it grew beyond keep bytes,
 * in which case it is freed (so one huge response does not pin memory). */
void gbuf_reset(struct gbuf *b, size_t keep);

/* Makes room for at least n more bytes. Returns 0, or SHOP_ENOMEM (the
 * buffer is then unchanged). */
int gbuf_reserve(struct gbuf *b, size_t n);

/* Appends n bytes. Returns 0 or SHOP_ENOMEM. */
int gbuf_append(struct gbuf *b, const void *p, size_t n);

/* Appends a NUL-terminated string (without the NUL). */
int gbuf_puts(struct gbuf *b, const char *s);

/* Appends a decimal number. */
int gbuf_put_ulong(struct gbuf *b, unsigned long v);

#endif
