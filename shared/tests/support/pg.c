/* PostgreSQL helpers shared by the cmocka tests (not part of any daemon). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pg.h"

#include <stdio.h>
#include <string.h>

/* keyword='value' with ' and \ escaped, appended to buf. */
static void append_kv(char *buf, size_t cap, const char *k, const char *v)
{
	size_t n = strlen(buf);

	n += (size_t)snprintf(buf + n, cap - n, "%s%s='", n ? " " : "", k);
	for (; *v && n + 3 < cap; v++) {
		if (*v == '\'' || *v == '\\')
			buf[n++] = '\\';
		buf[n++] = *v;
	}
	snprintf(buf + n, cap - n, "'");
}

int support_conninfo(const char *url, const char *search_path, char *out,
                     size_t cap)
{
	char *err = NULL, opts[128];
	PQconninfoOption *o, *all = PQconninfoParse(url, &err);

	if (!all) {
		PQfreemem(err);
		return -1;
	}
	out[0] = '\0';
	for (o = all; o->keyword; o++)
		if (o->val && *o->val && strcmp(o->keyword, "options") != 0)
			append_kv(out, cap, o->keyword, o->val);
	PQconninfoFree(all);
	snprintf(opts, sizeof(opts), "-c search_path=%s", search_path);
	append_kv(out, cap, "options", opts);
	return 0;
}

void support_pg_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("'%s': %s", sql, PQerrorMessage(c));
	PQclear(res);
}
