#include "shop/config.h"
#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *raw(const char *var)
{
	const char *v = getenv(var);

	return v && *v ? v : NULL;
}

static void reject(const char *var, const char *value, const char *want)
{
	slog_kv(SLOG_ERROR, NULL, "invalid configuration",
	        SLOG_S("variable", var), SLOG_S("value", value),
	        SLOG_S("expected", want));
}

int config_string(const char *var, const char *def, const char **out)
{
	const char *v = raw(var);

	*out = v ? v : def;
	return 0;
}

int config_required_string(const char *var, const char *def, const char **out)
{
	const char *v = raw(var);

	if (!v)
		v = def;
	if (!v || !*v) {
		reject(var, "", "a non-empty value");
		return SHOP_EINVAL;
	}
	*out = v;
	return 0;
}

int config_long(const char *var, long def, long min, long max, long *out)
{
	const char *v = raw(var);
	char want[96];
	long n;

	if (!v) {
		*out = def;
		return 0;
	}
	if (shop_parse_long(v, min, max, &n) < 0) {
		snprintf(want, sizeof(want), "an integer from %ld to %ld", min,
		         max);
		reject(var, v, want);
		return SHOP_EINVAL;
	}
	*out = n;
	return 0;
}

int config_port(const char *var, int def, int *out)
{
	long n;
	int err = config_long(var, def, 1, 65535, &n);

	if (err)
		return err;
	*out = (int)n;
	return 0;
}

int config_bool(const char *var, bool def, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	const char *v = raw(var);

	if (!v) {
		*out = def;
		return 0;
	}
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	reject(var, v, "true or false");
	return SHOP_EINVAL;
}

int config_readable_file(const char *var, const char *def, const char **out)
{
	const char *v = raw(var);
	struct stat st;

	if (!v)
		v = def;
	if (!v || stat(v, &st) != 0 || !S_ISREG(st.st_mode) ||
	    access(v, R_OK) != 0) {
		reject(var, v ? v : "", "a readable file");
		return SHOP_EINVAL;
	}
	*out = v;
	return 0;
}

#define SECRET_MAX 4096

int config_secret_file(const char *var, const char *def, size_t min_len,
                       char **out)
{
	const char *path = raw(var);
	char want[96], *buf;
	size_t n = 0;
	FILE *f;
	int c;

	if (!path)
		path = def;
	snprintf(want, sizeof(want),
	         "a readable file whose first line is a secret of %zu to %d "
	         "printable characters",
	         min_len, SECRET_MAX);
	buf = malloc(SECRET_MAX + 1);
	if (!buf)
		return SHOP_ENOMEM;
	f = path ? fopen(path, "re") : NULL;
	if (!f) {
		free(buf);
		reject(var, path ? path : "", want);
		return SHOP_EINVAL;
	}
	while ((c = getc(f)) != EOF && c != '\n' && c != '\r') {
		if (n == SECRET_MAX || c < 0x21 || c > 0x7e) {
			n = 0;
			break;
		}
		buf[n++] = (char)c;
	}
	fclose(f);
	buf[n] = '\0';
	if (n < min_len || n == 0) {
		explicit_bzero(buf, SECRET_MAX + 1);
		free(buf);
		reject(var, path, want); /* the path, never the contents */
		return SHOP_EINVAL;
	}
	*out = buf;
	return 0;
}

int config_directory(const char *var, const char *def, const char **out)
{
	const char *v = raw(var);
	struct stat st;

	if (!v)
		v = def;
	if (!v || stat(v, &st) != 0 || !S_ISDIR(st.st_mode)) {
		reject(var, v ? v : "", "an existing directory");
		return SHOP_EINVAL;
	}
	*out = v;
	return 0;
}
