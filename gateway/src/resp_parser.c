#include "resp_parser.h"

#include <string.h>
#include <strings.h>

void resp_parser_init(struct resp_parser *p, size_t max_size, bool no_body)
{
	p->max_size = max_size;
	p->no_body = no_body;
	p->status = 0;
	p->keep_alive = false;
	p->nheaders = 0;
	p->body_off = 0;
	p->body_len = 0;
	p->state = RESP_S_STATUS;
	p->pos = 0;
	p->head_start = 0;
	p->remaining = 0;
	p->content_length = 0;
	p->has_length = false;
	p->chunked = false;
	p->minor = 1;
}

bool resp_parser_started(const struct resp_parser *p, const struct gbuf *b)
{
	return p->pos > 0 || b->len > 0;
}

static bool is_tchar(unsigned char c)
{
	/* RFC 9110 token characters */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Finds the next line at p->pos. Returns its length without CR LF (and sets
 * *next to the byte after the LF), or -1 when no whole line is there yet. */
static long next_line(const struct resp_parser *p, const struct gbuf *b,
                      size_t *next)
{
	const char *s = b->data + p->pos;
	const char *nl = memchr(s, '\n', b->len - p->pos);
	size_t n;

	if (!nl)
		return -1;
	n = (size_t)(nl - s);
	*next = p->pos + n + 1;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	return (long)n;
}

static bool token_list_has(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok);
	size_t i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end - start == tl && strncasecmp(v + start, tok, tl) == 0)
			return true;
	}
	return false;
}

static int parse_status_line(struct resp_parser *p, const char *s, size_t n)
{
	/* HTTP/1.x SP 3DIGIT [SP reason] */
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ')
		return RESP_PARSE_EBAD;
	for (int i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return RESP_PARSE_EBAD;
	if (n > 12 && s[12] != ' ')
		return RESP_PARSE_EBAD;
	p->minor = s[7] - '0';
	p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (p->status < 100)
		return RESP_PARSE_EBAD;
	p->keep_alive = p->minor == 1;
	p->nheaders = 0;
	p->has_length = false;
	p->chunked = false;
	return 0;
}

static int parse_header_line(struct resp_parser *p, char *base, size_t off,
                             size_t n)
{
	const char *s = base + off;
	size_t colon = 0, vs, ve;
	struct resp_header *h;

	if (s[0] == ' ' || s[0] == '\t')
		return RESP_PARSE_EBAD; /* obsolete line folding */
	while (colon < n && is_tchar((unsigned char)s[colon]))
		colon++;
	if (colon == 0 || colon == n || s[colon] != ':')
		return RESP_PARSE_EBAD;
	vs = colon + 1;
	while (vs < n && (s[vs] == ' ' || s[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
		ve--;
	for (size_t i = vs; i < ve; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return RESP_PARSE_EBAD;
	}
	if (p->nheaders == RESP_MAX_HEADERS)
		return RESP_PARSE_EBAD;
	h = &p->headers[p->nheaders++];
	h->name = (uint32_t)off;
	h->name_len = (uint32_t)colon;
	h->value = (uint32_t)(off + vs);
	h->value_len = (uint32_t)(ve - vs);

	if (colon == 14 && strncasecmp(s, "Content-Length", 14) == 0) {
		size_t v = 0;

		if (ve == vs || ve - vs > 18)
			return RESP_PARSE_EBAD;
		for (size_t i = vs; i < ve; i++) {
			if (s[i] < '0' || s[i] > '9')
				return RESP_PARSE_EBAD;
			v = v * 10 + (size_t)(s[i] - '0');
		}
		if (p->has_length && p->content_length != v)
			return RESP_PARSE_EBAD;
		p->has_length = true;
		p->content_length = v;
	} else if (colon == 17 &&
	           strncasecmp(s, "Transfer-Encoding", 17) == 0) {
		/* Only "chunked" is understood; it must be the last coding,
		 * and any other coding would reach the client still encoded
		 * without saying so. */
		if (ve - vs != 7 || strncasecmp(s + vs, "chunked", 7) != 0)
			return RESP_PARSE_EBAD;
		if (p->chunked)
			return RESP_PARSE_EBAD;
		p->chunked = true;
	} else if (colon == 10 && strncasecmp(s, "Connection", 10) == 0) {
		if (token_list_has(s + vs, ve - vs, "close"))
			p->keep_alive = false;
		else if (p->minor == 0 &&
		         token_list_has(s + vs, ve - vs, "keep-alive"))
			p->keep_alive = true;
	}
	return 0;
}

/* Called at the empty line that ends the head. */
static int end_of_head(struct resp_parser *p)
{
	size_t head = p->pos - p->head_start;

	if (p->status >= 100 && p->status < 200) {
		if (p->status == 101)
			return RESP_PARSE_EBAD; /* no upgrades through here */
		/* an interim response: skip it and parse the next one */
		p->head_start = p->pos;
		p->state = RESP_S_STATUS;
		return RESP_PARSE_MORE;
	}
	p->body_off = p->pos;
	p->body_len = 0;
	if (p->no_body || p->status == 204 || p->status == 304) {
		p->state = RESP_S_DONE;
		return RESP_PARSE_DONE;
	}
	if (p->chunked) {
		/* a message with both is suspect: never reuse the connection */
		if (p->has_length)
			p->keep_alive = false;
		p->state = RESP_S_CHUNK_SIZE;
		return RESP_PARSE_MORE;
	}
	if (p->has_length) {
		if (p->content_length > p->max_size ||
		    head > p->max_size - p->content_length)
			return RESP_PARSE_ETOOBIG;
		p->remaining = p->content_length;
		p->state = RESP_S_BODY_LENGTH;
		return RESP_PARSE_MORE;
	}
	p->keep_alive = false;
	p->state = RESP_S_BODY_CLOSE;
	return RESP_PARSE_MORE;
}

static int parse_head(struct resp_parser *p, struct gbuf *b)
{
	for (;;) {
		size_t next;
		long n = next_line(p, b, &next);
		int rc;

		if (n < 0) {
			if (b->len - p->head_start > p->max_size)
				return RESP_PARSE_ETOOBIG;
			if (b->len - p->pos > RESP_MAX_LINE)
				return RESP_PARSE_EBAD;
			return RESP_PARSE_MORE;
		}
		if ((size_t)n > RESP_MAX_LINE)
			return RESP_PARSE_EBAD;
		if (next - p->head_start > p->max_size)
			return RESP_PARSE_ETOOBIG;
		if (p->state == RESP_S_STATUS) {
			rc = parse_status_line(p, b->data + p->pos, (size_t)n);
			if (rc < 0)
				return rc;
			p->state = RESP_S_HEADERS;
			p->pos = next;
			continue;
		}
		if (n == 0) {
			p->pos = next;
			rc = end_of_head(p);
			if (rc != RESP_PARSE_MORE || p->state != RESP_S_STATUS)
				return rc;
			continue;
		}
		rc = parse_header_line(p, b->data, p->pos, (size_t)n);
		if (rc < 0)
			return rc;
		p->pos = next;
	}
}

static int parse_chunk_size(struct resp_parser *p, struct gbuf *b)
{
	size_t next, i = 0, size = 0;
	long n = next_line(p, b, &next);
	const char *s = b->data + p->pos;

	if (n < 0)
		return b->len - p->pos > RESP_MAX_LINE ? RESP_PARSE_EBAD
		                                       : RESP_PARSE_MORE;
	while (i < (size_t)n) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		if (i >= 15)
			return RESP_PARSE_EBAD;
		size = size * 16 + d;
		i++;
	}
	if (i == 0)
		return RESP_PARSE_EBAD;
	while (i < (size_t)n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < (size_t)n && s[i] != ';')
		return RESP_PARSE_EBAD; /* only a chunk extension may follow */
	p->pos = next;
	if (size == 0) {
		p->state = RESP_S_TRAILERS;
		return 0;
	}
	if (size > p->max_size ||
	    p->body_off - p->head_start + p->body_len > p->max_size - size)
		return RESP_PARSE_ETOOBIG;
	p->remaining = size;
	p->state = RESP_S_CHUNK_DATA;
	return 0;
}

static int parse_chunked(struct resp_parser *p, struct gbuf *b)
{
	for (;;) {
		size_t avail = b->len - p->pos, next;
		long n;
		int rc;

		switch (p->state) {
		case RESP_S_CHUNK_SIZE:
			rc = parse_chunk_size(p, b);
			if (rc != 0)
				return rc;
			break;
		case RESP_S_CHUNK_DATA: {
			size_t take =
			        avail < p->remaining ? avail : p->remaining;
			size_t dst = p->body_off + p->body_len;

			if (take == 0)
				return RESP_PARSE_MORE;
			if (dst != p->pos)
				memmove(b->data + dst, b->data + p->pos, take);
			p->body_len += take;
			p->pos += take;
			p->remaining -= take;
			if (p->remaining == 0)
				p->state = RESP_S_CHUNK_CRLF;
			break;
		}
		case RESP_S_CHUNK_CRLF:
			if (avail == 0)
				return RESP_PARSE_MORE;
			if (b->data[p->pos] == '\n') {
				p->pos++;
			} else if (b->data[p->pos] == '\r') {
				if (avail < 2)
					return RESP_PARSE_MORE;
				if (b->data[p->pos + 1] != '\n')
					return RESP_PARSE_EBAD;
				p->pos += 2;
			} else {
				return RESP_PARSE_EBAD;
			}
			p->state = RESP_S_CHUNK_SIZE;
			break;
		case RESP_S_TRAILERS:
			n = next_line(p, b, &next);
			if (n < 0)
				return avail > RESP_MAX_LINE ? RESP_PARSE_EBAD
				                             : RESP_PARSE_MORE;
			if (next - p->head_start > p->max_size)
				return RESP_PARSE_ETOOBIG;
			p->pos = next;
			if (n == 0) {
				p->state = RESP_S_DONE;
				return RESP_PARSE_DONE;
			}
			break; /* trailer fields are dropped */
		default:
			return RESP_PARSE_EBAD;
		}
	}
}

/* Moves the unparsed tail down to the end of the de-chunked body, so the
 * buffer holds the head, the body so far and one partial read. */
static void compact(struct resp_parser *p, struct gbuf *b)
{
	size_t dst = p->body_off + p->body_len;

	if (p->pos > dst) {
		size_t tail = b->len - p->pos;

		if (tail)
			memmove(b->data + dst, b->data + p->pos, tail);
		b->len = dst + tail;
		p->pos = dst;
	}
}

int resp_parser_feed(struct resp_parser *p, struct gbuf *b)
{
	int rc = RESP_PARSE_MORE;

	if (p->state == RESP_S_STATUS || p->state == RESP_S_HEADERS) {
		rc = parse_head(p, b);
		if (rc != RESP_PARSE_MORE || p->state == RESP_S_HEADERS ||
		    p->state == RESP_S_STATUS)
			goto out;
	}
	switch (p->state) {
	case RESP_S_BODY_LENGTH: {
		size_t avail = b->len - p->pos;

		if (avail >= p->remaining) {
			p->pos += p->remaining;
			p->body_len += p->remaining;
			p->remaining = 0;
			p->state = RESP_S_DONE;
			rc = RESP_PARSE_DONE;
		} else {
			p->pos = b->len;
			p->body_len += avail;
			p->remaining -= avail;
			rc = RESP_PARSE_MORE;
		}
		break;
	}
	case RESP_S_BODY_CLOSE:
		p->body_len = b->len - p->body_off;
		p->pos = b->len;
		rc = b->len - p->head_start > p->max_size ? RESP_PARSE_ETOOBIG
		                                          : RESP_PARSE_MORE;
		break;
	case RESP_S_CHUNK_SIZE:
	case RESP_S_CHUNK_DATA:
	case RESP_S_CHUNK_CRLF:
	case RESP_S_TRAILERS:
		rc = parse_chunked(p, b);
		if (rc >= 0)
			compact(p, b);
		break;
	case RESP_S_DONE:
		rc = RESP_PARSE_DONE;
		break;
	default:
		break;
	}
out:
	if (rc == RESP_PARSE_DONE && b->len > p->pos)
		p->keep_alive = false; /* bytes after the response */
	return rc;
}

int resp_parser_eof(struct resp_parser *p, struct gbuf *b)
{
	int rc = resp_parser_feed(p, b);

	if (rc != RESP_PARSE_MORE)
		return rc;
	if (p->state == RESP_S_BODY_CLOSE) {
		p->state = RESP_S_DONE;
		p->keep_alive = false;
		return RESP_PARSE_DONE;
	}
	return RESP_PARSE_EBAD;
}

void resp_parser_header(const struct resp_parser *p, struct gbuf *b, size_t i,
                        const char **name, const char **value)
{
	const struct resp_header *h = &p->headers[i];

	b->data[h->name + h->name_len] = '\0';
	b->data[h->value + h->value_len] = '\0';
	*name = b->data + h->name;
	*value = b->data + h->value;
}
