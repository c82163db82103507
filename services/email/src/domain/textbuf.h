#ifndef EMAIL_DOMAIN_TEXTBUF_H
#define EMAIL_DOMAIN_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A growing NUL-terminated string on malloc, for rendering. Once an
 * allocation fails the buffer stays failed (every append is a no-op) and
 * textbuf_take() returns NULL, so callers check once at the end.
 */
struct textbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

void textbuf_init(struct textbuf *b);
/* Frees the string unless taken. Accepts a released buffer. */
void textbuf_release(struct textbuf *b);
void textbuf_add(struct textbuf *b, const char *s, size_t n);
void textbuf_puts(struct textbuf *b, const char *s);
void textbuf_printf(struct textbuf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* The string (caller frees) and its length in *len (may be NULL); NULL
 * after an allocation failure. The buffer is empty afterwards. */
char *textbuf_take(struct textbuf *b, size_t *len);

#endif
