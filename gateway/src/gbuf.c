#include "gbuf.h"

#include "shop/error.h"

#include <stdlib.h>
#include <string.h>

void gbuf_init(struct gbuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void gbuf_release(struct gbuf *b)
{
	free(b->data);
	gbuf_init(b);
}

void gbuf_reset(struct gbuf *b, size_t keep)
{
	if (b->cap > keep)
		gbuf_release(b);
	else
		b->len = 0;
}

int gbuf_reserve(struct gbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->cap - b->len >= n)
		return 0;
	if (n > ((size_t)-1 >> 2) - b->len)
		return SHOP_ENOMEM;
	cap = b->cap ? b->cap : 1024;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return SHOP_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int gbuf_append(struct gbuf *b, const void *p, size_t n)
{
	if (gbuf_reserve(b, n) < 0)
		return SHOP_ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int gbuf_puts(struct gbuf *b, const char *s)
{
	return gbuf_append(b, s, strlen(s));
}

int gbuf_put_ulong(struct gbuf *b, unsigned long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return gbuf_append(b, tmp + i, sizeof(tmp) - i);
}
