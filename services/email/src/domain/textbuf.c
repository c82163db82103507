#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void textbuf_init(struct textbuf *b)
{
	*b = (struct textbuf){0};
}

void textbuf_release(struct textbuf *b)
{
	free(b->s);
	textbuf_init(b);
}

static bool reserve(struct textbuf *b, size_t more)
{
	size_t need, cap;
	char *grown;

	if (b->failed)
		return false;
	if (more > (size_t)-1 / 2 - b->len - 1) {
		b->failed = true;
		return false;
	}
	need = b->len + more + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	grown = realloc(b->s, cap);
	if (!grown) {
		b->failed = true;
		return false;
	}
	b->s = grown;
	b->cap = cap;
	return true;
}

void textbuf_add(struct textbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void textbuf_puts(struct textbuf *b, const char *s)
{
	textbuf_add(b, s, strlen(s));
}

void textbuf_printf(struct textbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *textbuf_take(struct textbuf *b, size_t *len)
{
	char *s = NULL;

	if (!b->failed && !b->s)
		reserve(b, 0);
	if (!b->failed) {
		s = b->s;
		if (len)
			*len = b->len;
		b->s = NULL;
	}
	textbuf_release(b);
	return s;
}
