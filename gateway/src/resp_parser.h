#ifndef GATEWAY_RESP_PARSER_H
#define GATEWAY_RESP_PARSER_H

#include "gbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An incremental HTTP/1.x response parser working in place on the buffer
 * the upstream bytes are read into. The caller appends what recv() returned
 * to the gbuf and calls resp_parser_feed() again; the parser picks up where
 * it stopped. A chunked body is de-chunked in place, so that once the
 * response is complete its body is one contiguous range of the buffer
 * (body_off, body_len) and can be handed to the client without a copy.
 * Header names and values are kept as offsets into the same buffer.
 */

#define RESP_MAX_HEADERS 64
#define RESP_MAX_LINE    8192 /* a status, header, chunk-size or trailer line */

enum resp_parse_result {
	RESP_PARSE_DONE = 0,     /* a whole response is in the buffer */
	RESP_PARSE_MORE = 1,     /* feed more bytes */
	RESP_PARSE_EBAD = -1,    /* not a valid HTTP/1.x response */
	RESP_PARSE_ETOOBIG = -2, /* larger than max_size */
};

struct resp_header {
	uint32_t name, name_len;   /* offsets into the buffer */
	uint32_t value, value_len; /* the value without surrounding spaces */
};

enum resp_state {
	RESP_S_STATUS,
	RESP_S_HEADERS,
	RESP_S_BODY_LENGTH,
	RESP_S_BODY_CLOSE,
	RESP_S_CHUNK_SIZE,
	RESP_S_CHUNK_DATA,
	RESP_S_CHUNK_CRLF,
	RESP_S_TRAILERS,
	RESP_S_DONE,
};

struct resp_parser {
	/* set by resp_parser_init() */
	size_t max_size; /* head + body, in bytes */
	bool no_body; /* the request was HEAD: no body whatever the headers */

	/* results, meaningful once feed returned RESP_PARSE_DONE */
	int status;
	bool keep_alive; /* the connection may carry another request */
	size_t nheaders;
	struct resp_header headers[RESP_MAX_HEADERS];
	size_t body_off;
	size_t body_len;

	/* private */
	enum resp_state state;
	size_t pos;        /* first byte not parsed yet */
	size_t head_start; /* start of the (final) status line */
	size_t remaining;  /* body bytes still due, or of the current chunk */
	size_t content_length;
	bool has_length;
	bool chunked;
	int minor;
};

/* Prepares p for a new response; max_size bounds head plus body. */
void resp_parser_init(struct resp_parser *p, size_t max_size, bool no_body);

/*
 * Parses what was appended to b since the last call. May move bytes inside
 * b and shrink b->len (de-chunking). Returns a resp_parse_result; after
 * RESP_PARSE_DONE, bytes that follow the response (which a well-behaved
 * upstream never sends) have cleared keep_alive.
 */
int resp_parser_feed(struct resp_parser *p, struct gbuf *b);

/*
 * The upstream closed the connection. Completes a response whose body is
 * delimited by the close (RESP_PARSE_DONE); anything else cut short is
 * RESP_PARSE_EBAD.
 */
int resp_parser_eof(struct resp_parser *p, struct gbuf *b);

/* True once the parser consumed at least one byte of a response. */
bool resp_parser_started(const struct resp_parser *p, const struct gbuf *b);

/*
 * NUL-terminates header i in place and returns its name and value (both
 * pointing into b). Only valid after RESP_PARSE_DONE, and b must not be
 * fed again afterwards.
 */
void resp_parser_header(const struct resp_parser *p, struct gbuf *b, size_t i,
                        const char **name, const char **value);

#endif
