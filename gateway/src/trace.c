#include "trace.h"

#include "shop/error.h"
#include "shop/util.h"

#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

void trace_rng_init(struct trace_rng *r)
{
	r->pos = sizeof(r->buf);
}

void trace_rng_bytes(struct trace_rng *r, void *out, size_t n)
{
	unsigned char *o = out;

	while (n > 0) {
		size_t take;

		if (r->pos == sizeof(r->buf)) {
			if (shop_random_bytes(r->buf, sizeof(r->buf)) < 0)
				BUG("getrandom failed");
			r->pos = 0;
		}
		take = sizeof(r->buf) - r->pos;
		if (take > n)
			take = n;
		memcpy(o, r->buf + r->pos, take);
		/* never hand out the same bytes twice */
		memset(r->buf + r->pos, 0, take);
		r->pos += take;
		o += take;
		n -= take;
	}
}

bool trace_request_id_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (n == TRACE_REQUEST_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return n > 0;
}

static char *put_hex(char *o, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*o++ = hexdigits[b[i] >> 4];
		*o++ = hexdigits[b[i] & 15];
	}
	return o;
}

void trace_request_id_new(struct trace_rng *r, char out[37])
{
	unsigned char b[16];
	char *o = out;

	trace_rng_bytes(r, b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	o = put_hex(o, b, 4);
	*o++ = '-';
	o = put_hex(o, b + 4, 2);
	*o++ = '-';
	o = put_hex(o, b + 6, 2);
	*o++ = '-';
	o = put_hex(o, b + 8, 2);
	*o++ = '-';
	o = put_hex(o, b + 10, 6);
	*o = '\0';
}

/* n lowercase hex digits, not all zero when nonzero is set. */
static bool lower_hex(const char *s, size_t n, bool nonzero)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		if (c != '0')
			any = true;
	}
	return any || !nonzero;
}

bool trace_parent_valid(const char *s)
{
	size_t n = strnlen(s, TRACE_PARENT_LEN + 1);

	if (n < TRACE_PARENT_LEN)
		return false;
	if (!lower_hex(s, 2, false) || s[2] != '-' ||
	    !lower_hex(s + 3, 32, true) || s[35] != '-' ||
	    !lower_hex(s + 36, 16, true) || s[52] != '-' ||
	    !lower_hex(s + 53, 2, false))
		return false;
	if (s[0] == 'f' && s[1] == 'f')
		return false;
	if (s[0] == '0' && s[1] == '0')
		return n == TRACE_PARENT_LEN;
	/* a later version may append fields after a dash */
	return n == TRACE_PARENT_LEN || s[TRACE_PARENT_LEN] == '-';
}

void trace_parent_new(struct trace_rng *r, char out[TRACE_PARENT_LEN + 1])
{
	unsigned char b[24];
	char *o = out;

	do {
		trace_rng_bytes(r, b, sizeof(b));
	} while (!b[0] && !memcmp(b, b + 1, 15)); /* all-zero trace id */
	b[16] |= 1; /* a parent id is never all zero */
	memcpy(o, "00-", 3);
	o = put_hex(o + 3, b, 16);
	*o++ = '-';
	o = put_hex(o, b + 16, 8);
	memcpy(o, "-01", 4); /* with the NUL */
}
