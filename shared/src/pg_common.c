#include "pg_common.h"

#include "shop/error.h"
#include "shop/log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

void pg__one_line(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	if (cap == 0)
		return;
	if (!src)
		src = "";
	for (; *src && n + 1 < cap; src++) {
		char ch = *src == '\n' || *src == '\t' || *src == '\r' ? ' '
		                                                       : *src;

		if (ch == ' ' && (n == 0 || dst[n - 1] == ' '))
			continue;
		dst[n++] = ch;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

void pg__notice_to_log(void *arg, const char *message)
{
	char line[512];

	pg__one_line(line, sizeof(line), message);
	slog_debug("notice from '%s': %s", (const char *)arg, line);
}

int pg__conninfo_name(const char *conninfo, char *out, size_t cap)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
	const char *db = NULL, *user = NULL;

	if (!opts) {
		PQfreemem(err);
		return SHOP_EINVAL;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "dbname") == 0 && o->val && *o->val)
			db = o->val;
		else if (strcmp(o->keyword, "user") == 0 && o->val && *o->val)
			user = o->val;
	}
	snprintf(out, cap, "%s", db ? db : user ? user : "database");
	PQconninfoFree(opts);
	return 0;
}
