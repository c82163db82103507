#ifndef GATEWAY_PROBLEM_H
#define GATEWAY_PROBLEM_H

#include <stddef.h>

/*
 * RFC 9457 problem details as the rest of the fleet writes them:
 * {"type":"/problems/<slug>","title","status","detail"}, served as
 * application/problem+json.
 */

#define PROBLEM_CONTENT_TYPE "application/problem+json"

/* The reason phrase of status ("Bad Gateway"): a static string. */
const char *problem_title(unsigned status);

/* The slug of status ("bad-gateway"): a static string. */
const char *problem_slug(unsigned status);

/*
 * Writes the problem body for status with detail (JSON-escaped; NULL means
 * the title) into buf (cap bytes, NUL-terminated; a detail that does not
 * fit is cut, the JSON stays valid). Returns the body length.
 */
size_t problem_body(char *buf, size_t cap, unsigned status, const char *detail);

#endif
