#ifndef GATEWAY_STATIC_FILES_H
#define GATEWAY_STATIC_FILES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The built storefront under STATIC_DIR. A path names a regular file under
 * the directory when one exists there (after percent-decoding, with no "."
 * or ".." segment, and its real path inside the directory's real path);
 * anything else is the single-page app's index.html.
 */

struct static_site {
	const char *dir;      /* borrowed, as configured */
	pthread_mutex_t lock; /* guards resolving real */
	_Atomic(char *) real; /* realpath(dir), once it exists; owned */
	size_t real_len;
};

struct static_file {
	int fd; /* owned by the caller once opened */
	off_t size;
	const char *content_type; /* static strings */
	const char *cache_control;
	char etag[64];
};

/* dir is borrowed. The directory need not exist yet (the storefront may be
 * built after the gateway starts). */
void static_site_init(struct static_site *s, const char *dir);
void static_site_release(struct static_site *s);

/*
 * Opens the file for the decoded path (NUL-terminated, starting with '/').
 * Returns 0 with *out filled (the caller closes out->fd or hands it to
 * libmicrohttpd), SHOP_EINVAL for a path with a dot segment, SHOP_ENOTFOUND
 * when neither the file nor index.html exists, SHOP_EFORBIDDEN when the
 * file resolves outside the directory.
 */
int static_site_open(struct static_site *s, const char *path,
                     struct static_file *out);

/* The Content-Type for a file name, by extension: a static string. */
const char *static_content_type(const char *name);

/* The Cache-Control for a path relative to the root ("/assets/x.js"). */
const char *static_cache_control(const char *path, bool is_index);

/*
 * Resolves root_real + path with realpath() into out (PATH_MAX bytes) and
 * checks that it stays inside root_real. Returns 0, SHOP_ENOTFOUND when the
 * path does not exist, SHOP_EFORBIDDEN when it leads outside the root.
 */
int static_resolve(const char *root_real, const char *path, char *out);

/* True when the If-None-Match value (a list, or "*") matches etag (weak
 * comparison). */
bool static_etag_matches(const char *if_none_match, const char *etag);

#endif
