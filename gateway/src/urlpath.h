#ifndef GATEWAY_URLPATH_H
#define GATEWAY_URLPATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The request target as the client sent it: checked, split into path and
 * query, and percent-decoded for routing and for the static file lookup.
 * The raw target is what goes upstream, so the upstream decodes exactly the
 * bytes the gateway routed on.
 */

/* True when uri is an origin-form target: it starts with '/' and holds only
 * visible ASCII (no spaces, controls or bytes >= 0x80). */
bool urlpath_target_valid(const char *uri);

/* Length of the path part of uri (up to '?' or the end). */
size_t urlpath_path_len(const char *uri);

/*
 * Percent-decodes raw[0..len) into out (cap bytes, NUL-terminated) and
 * stores the decoded length in *outlen. Returns 0, or SHOP_EINVAL for a
 * malformed escape, an encoded or literal NUL, or a result that does not
 * fit (out is then unspecified, *outlen untouched).
 */
int urlpath_decode(const char *raw, size_t len, char *out, size_t cap,
                   size_t *outlen);

/* True when a segment of path is "." or "..". */
bool urlpath_has_dot_segment(const char *path, size_t len);

#endif
