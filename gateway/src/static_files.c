#include "static_files.h"

#include "urlpath.h"

#include "shop/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void static_site_init(struct static_site *s, const char *dir)
{
	s->dir = dir;
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->real, NULL);
	s->real_len = 0;
}

void static_site_release(struct static_site *s)
{
	free(atomic_load(&s->real));
	atomic_store(&s->real, NULL);
	pthread_mutex_destroy(&s->lock);
}

/* realpath(dir), resolved on first use after the directory appears. */
static const char *site_root(struct static_site *s)
{
	char *r = atomic_load_explicit(&s->real, memory_order_acquire);

	if (r)
		return r;
	pthread_mutex_lock(&s->lock);
	r = atomic_load_explicit(&s->real, memory_order_relaxed);
	if (!r) {
		r = realpath(s->dir, NULL);
		if (r) {
			s->real_len = strlen(r);
			atomic_store_explicit(&s->real, r,
			                      memory_order_release);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

const char *static_content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	        {"html", "text/html; charset=utf-8"},
	        {"js", "text/javascript; charset=utf-8"},
	        {"mjs", "text/javascript; charset=utf-8"},
	        {"css", "text/css; charset=utf-8"},
	        {"svg", "image/svg+xml"},
	        {"png", "image/png"},
	        {"jpg", "image/jpeg"},
	        {"jpeg", "image/jpeg"},
	        {"webp", "image/webp"},
	        {"ico", "image/x-icon"},
	        {"json", "application/json"},
	        {"txt", "text/plain; charset=utf-8"},
	        {"woff2", "font/woff2"},
	        {"map", "application/json"},
	};
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash : name, '.');

	if (dot) {
		for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	}
	return "application/octet-stream";
}

const char *static_cache_control(const char *path, bool is_index)
{
	if (is_index)
		return "no-cache";
	/* the bundler puts a content hash in every name under /assets/ */
	if (strncmp(path, "/assets/", 8) == 0)
		return "public, max-age=31536000, immutable";
	return "public, max-age=300";
}

int static_resolve(const char *root_real, const char *path, char *out)
{
	char full[PATH_MAX];
	size_t rl = strlen(root_real);
	int n;

	n = snprintf(full, sizeof(full), "%s%s", root_real, path);
	if (n < 0 || (size_t)n >= sizeof(full))
		return SHOP_ENOTFOUND;
	if (!realpath(full, out))
		return SHOP_ENOTFOUND;
	if (strncmp(out, root_real, rl) != 0 ||
	    (out[rl] != '/' && out[rl] != '\0'))
		return SHOP_EFORBIDDEN;
	return 0;
}

static void fill(struct static_file *out, int fd, const struct stat *st,
                 const char *name, const char *path, bool is_index)
{
	out->fd = fd;
	out->size = st->st_size;
	out->content_type = static_content_type(name);
	out->cache_control = static_cache_control(path, is_index);
	snprintf(out->etag, sizeof(out->etag), "W/\"%llx-%llx.%lx\"",
	         (unsigned long long)st->st_size,
	         (unsigned long long)st->st_mtim.tv_sec,
	         (unsigned long)st->st_mtim.tv_nsec);
}

/* Opens a regular file; -1 when it is missing or not a regular file. */
static int open_regular(const char *real, struct stat *st)
{
	int fd = open(real, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

int static_site_open(struct static_site *s, const char *path,
                     struct static_file *out)
{
	char real[PATH_MAX];
	const char *root;
	struct stat st;
	int fd, rc;

	if (urlpath_has_dot_segment(path, strlen(path)))
		return SHOP_EINVAL;
	root = site_root(s);
	if (!root)
		return SHOP_ENOTFOUND;
	if (strcmp(path, "/") != 0) {
		rc = static_resolve(root, path, real);
		if (rc == SHOP_EFORBIDDEN)
			return rc;
		if (rc == 0) {
			fd = open_regular(real, &st);
			if (fd >= 0) {
				fill(out, fd, &st, real, path,
				     strcmp(path, "/index.html") == 0);
				return 0;
			}
		}
	}
	/* the single-page app answers every other path */
	if (static_resolve(root, "/index.html", real) != 0)
		return SHOP_ENOTFOUND;
	fd = open_regular(real, &st);
	if (fd < 0)
		return SHOP_ENOTFOUND;
	fill(out, fd, &st, real, "/index.html", true);
	return 0;
}

static bool etag_equal(const char *a, size_t alen, const char *b)
{
	size_t blen;

	if (alen >= 2 && a[0] == 'W' && a[1] == '/') {
		a += 2;
		alen -= 2;
	}
	if (b[0] == 'W' && b[1] == '/')
		b += 2;
	blen = strlen(b);
	return alen == blen && memcmp(a, b, alen) == 0;
}

bool static_etag_matches(const char *if_none_match, const char *etag)
{
	const char *p = if_none_match;

	while (*p) {
		const char *start, *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end - start == 1 && *start == '*')
			return true;
		if (etag_equal(start, (size_t)(end - start), etag))
			return true;
	}
	return false;
}
