#include "shop/migrate.h"
#include "pg_common.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MIGRATE_WAIT_MS  30000
#define MIGRATE_FILE_MAX (16u << 20)
#define BYTEA_OID        17

struct migration {
	long version;
	char *file; /* "003_add_stock.sql" */
	char *name; /* "add_stock" */
	char *sql;  /* NUL-terminated contents */
	size_t len;
	char checksum[65];
};

struct plan {
	struct migration *m;
	size_t n, cap;
};

static void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->m[i].file);
		free(p->m[i].name);
		free(p->m[i].sql);
	}
	free(p->m);
	p->m = NULL;
	p->n = p->cap = 0;
}

/* Returns 1 when fname is a migration (version and name filled), 0 when it
 * is to be ignored, SHOP_EINVAL when it ends in .sql but is malformed. */
static int parse_file_name(const char *fname, long *version, const char **name,
                           size_t *name_len)
{
	size_t len = strlen(fname), digits = 0;
	const char *p;

	if (fname[0] == '.' || len < 4 || strcmp(fname + len - 4, ".sql") != 0)
		return 0;
	for (p = fname; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (digits == 0 || digits > 9 || *p != '_')
		return SHOP_EINVAL;
	*name = ++p;
	*name_len = (size_t)(fname + len - 4 - p);
	if (*name_len == 0)
		return SHOP_EINVAL;
	for (; p < fname + len - 4; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return SHOP_EINVAL;
	}
	*version = strtol(fname, NULL, 10);
	return *version > 0 ? 1 : SHOP_EINVAL;
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	struct stat st;
	size_t n;
	int rc = SHOP_EINVAL;

	if (!f)
		return SHOP_EINVAL;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0 ||
	    (uint64_t)st.st_size > MIGRATE_FILE_MAX)
		goto close_file;
	rc = SHOP_ENOMEM;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto close_file;
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (n != (size_t)st.st_size || ferror(f)) {
		rc = SHOP_EINVAL;
		goto free_buf;
	}
	buf[n] = '\0';
	if (strlen(buf) != n) { /* libpq would stop at the NUL */
		rc = SHOP_EINVAL;
		goto free_buf;
	}
	*out = buf;
	*len = n;
	buf = NULL;
	rc = 0;

free_buf:
	free(buf);
close_file:
	fclose(f);
	return rc;
}

static int by_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* Reads every migration of dir into p, sorted. Logs and returns
 * SHOP_EINVAL naming the culprit. */
static int scan_dir(const char *dir, struct plan *p)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	int rc = 0;

	if (!d) {
		slog_error("cannot read migrations directory '%s': %s", dir,
		           strerror(errno));
		return SHOP_EINVAL;
	}
	while ((e = readdir(d)) != NULL) {
		struct migration m = {0};
		struct stat st;
		const char *name;
		size_t name_len;
		int kind = parse_file_name(e->d_name, &m.version, &name,
		                           &name_len);

		if (kind == 0)
			continue;
		if (kind < 0) {
			slog_error("malformed migration file name '%s' in "
			           "'%s': expected NNN_name.sql",
			           e->d_name, dir);
			rc = SHOP_EINVAL;
			goto close_dir;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		                     e->d_name) >= sizeof(path) ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			slog_error("cannot read migration '%s' in '%s'",
			           e->d_name, dir);
			rc = SHOP_EINVAL;
			goto close_dir;
		}
		if (p->n == p->cap) {
			size_t cap = p->cap ? p->cap * 2 : 16;
			struct migration *grown =
			        realloc(p->m, cap * sizeof(*grown));

			if (!grown) {
				rc = SHOP_ENOMEM;
				goto close_dir;
			}
			p->m = grown;
			p->cap = cap;
		}
		m.file = strdup(e->d_name);
		m.name = strndup(name, name_len);
		if (!m.file || !m.name) {
			free(m.file);
			free(m.name);
			rc = SHOP_ENOMEM;
			goto close_dir;
		}
		rc = read_file(path, &m.sql, &m.len);
		if (rc) {
			if (rc == SHOP_EINVAL)
				slog_error("cannot read migration '%s' in "
				           "'%s': unreadable, over 16 MiB or "
				           "holding a NUL byte",
				           m.file, dir);
			free(m.file);
			free(m.name);
			goto close_dir;
		}
		p->m[p->n++] = m;
	}
	if (p->n > 0)
		qsort(p->m, p->n, sizeof(*p->m), by_version);
	for (size_t i = 1; i < p->n; i++) {
		if (p->m[i].version == p->m[i - 1].version) {
			slog_error("migrations '%s' and '%s' in '%s' share "
			           "version %ld",
			           p->m[i - 1].file, p->m[i].file, dir,
			           p->m[i].version);
			rc = SHOP_EINVAL;
			goto close_dir;
		}
	}

close_dir:
	closedir(d);
	return rc;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
	                      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int connect_waiting(const char *conninfo, const char *service,
                           const char *db, int wait_ms, PGconn **out)
{
	uint64_t start = shop_now_ns();
	uint64_t deadline = start + (uint64_t)wait_ms * 1000000u;
	bool warned = false;
	char err[512];
	long left_ms;

	for (;;) {
		uint64_t now = shop_now_ns();
		long left_s = now < deadline
		                      ? (long)((deadline - now) / 1000000000u)
		                      : 0;
		char timeout[16];
		const char *keys[] = {"dbname", "connect_timeout",
		                      "application_name", NULL};
		const char *vals[] = {conninfo, timeout, service, NULL};
		PGconn *pg;

		/* libpq treats 1 as 2 and 0 as forever. */
		snprintf(timeout, sizeof(timeout), "%ld",
		         left_s < 2   ? 2
		         : left_s > 5 ? 5
		                      : left_s);
		pg = PQconnectdbParams(keys, vals, 1);
		if (!pg)
			return SHOP_ENOMEM;
		if (PQstatus(pg) == CONNECTION_OK) {
			if (warned)
				slog_info("'%s' is up after %.1f s", db,
				          (double)(shop_now_ns() - start) /
				                  1e9);
			*out = pg;
			return 0;
		}
		pg__one_line(err, sizeof(err), PQerrorMessage(pg));
		PQfinish(pg);
		now = shop_now_ns();
		if (now >= deadline)
			break;
		if (!warned) {
			slog_warn("waiting for '%s' to accept connections: %s",
			          db, err);
			warned = true;
		}
		left_ms = (long)((deadline - now) / 1000000u);
		sleep_ms(left_ms < 500 ? (int)left_ms : 500);
	}
	slog_error("cannot connect to '%s': %s (gave up after %.1f s)", db, err,
	           (double)wait_ms / 1000);
	return SHOP_EUNAVAIL;
}

/* Runs one statement; returns 0 or a code with the server's message in err. */
static int run(PGconn *pg, const char *sql, int nparams,
               const char *const *params, PGresult **out, char *err, size_t cap)
{
	PGresult *res = nparams ? PQexecParams(pg, sql, nparams, NULL, params,
	                                       NULL, NULL, 0)
	                        : PQexec(pg, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
	    st == PGRES_EMPTY_QUERY) {
		if (out)
			*out = res;
		else
			PQclear(res);
		return 0;
	}
	pg__one_line(err, cap,
	             res ? PQresultErrorMessage(res) : PQerrorMessage(pg));
	PQclear(res);
	return PQstatus(pg) == CONNECTION_BAD ? SHOP_EUNAVAIL : SHOP_ERR;
}

static int checksum(PGconn *pg, struct migration *m, char *err, size_t cap)
{
	const char *vals[1] = {m->sql};
	const Oid types[1] = {BYTEA_OID};
	const int lens[1] = {(int)m->len};
	const int formats[1] = {1};
	PGresult *res = PQexecParams(pg, "SELECT encode(sha256($1), 'hex')", 1,
	                             types, vals, lens, formats, 0);
	int rc = 0;

	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		pg__one_line(err, cap,
		             res ? PQresultErrorMessage(res)
		                 : PQerrorMessage(pg));
		rc = PQstatus(pg) == CONNECTION_BAD ? SHOP_EUNAVAIL : SHOP_ERR;
	} else {
		snprintf(m->checksum, sizeof(m->checksum), "%s",
		         PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return rc;
}

/* The line of a 1-based character position, for error messages. */
static int line_of(const char *sql, const char *pos)
{
	long chars = pos ? strtol(pos, NULL, 10) : 0;
	int line = 1;

	for (const char *p = sql; *p && chars > 1; p++) {
		if (((unsigned char)*p & 0xC0) != 0x80)
			chars--;
		if (*p == '\n')
			line++;
	}
	return line;
}

static int apply(PGconn *pg, const char *db, const char *table,
                 const struct migration *m)
{
	char version[24], err[512], insert[160];
	const char *params[3] = {version, m->name, m->checksum};
	uint64_t start = shop_now_ns();
	PGresult *res;
	int rc;

	snprintf(version, sizeof(version), "%ld", m->version);
	rc = run(pg, "BEGIN", 0, NULL, NULL, err, sizeof(err));
	if (rc)
		goto fail;
	res = PQexec(pg, m->sql);
	if (!res || (PQresultStatus(res) != PGRES_COMMAND_OK &&
	             PQresultStatus(res) != PGRES_TUPLES_OK &&
	             PQresultStatus(res) != PGRES_EMPTY_QUERY)) {
		const char *primary =
		        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
		            : NULL;
		const char *state =
		        res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

		pg__one_line(err, sizeof(err),
		             primary ? primary : PQerrorMessage(pg));
		rc = PQstatus(pg) == CONNECTION_BAD ? SHOP_EUNAVAIL : SHOP_ERR;
		if (rc == SHOP_ERR)
			slog_error(
			        "cannot apply migration '%s' to '%s': line %d: "
			        "%s (%s)",
			        m->file, db,
			        line_of(m->sql,
			                res ? PQresultErrorField(
			                              res,
			                              PG_DIAG_STATEMENT_POSITION)
			                    : NULL),
			        err, state ? state : "-");
		else
			slog_error("lost connection to '%s' while applying "
			           "migration '%s': %s",
			           db, m->file, err);
		PQclear(res);
		goto rollback;
	}
	PQclear(res);
	if (PQtransactionStatus(pg) != PQTRANS_INTRANS) {
		slog_error("cannot apply migration '%s' to '%s': it ended the "
		           "transaction (no BEGIN/COMMIT in migrations)",
		           m->file, db);
		rc = SHOP_ERR;
		goto rollback;
	}
	snprintf(insert, sizeof(insert),
	         "INSERT INTO %s (version, name, checksum, applied_at) "
	         "VALUES ($1, $2, $3, now())",
	         table);
	rc = run(pg, insert, 3, params, NULL, err, sizeof(err));
	if (rc)
		goto fail_rollback;
	rc = run(pg, "COMMIT", 0, NULL, NULL, err, sizeof(err));
	if (rc)
		goto fail;
	slog_info("applied migration '%s' to '%s' in %.0f ms", m->file, db,
	          (double)(shop_now_ns() - start) / 1e6);
	return 0;

fail_rollback:
	slog_error("cannot record migration '%s' in '%s': %s", m->file, db,
	           err);
rollback:
	if (PQstatus(pg) != CONNECTION_BAD)
		PQclear(PQexec(pg, "ROLLBACK"));
	return rc;
fail:
	slog_error("cannot apply migration '%s' to '%s': %s", m->file, db, err);
	return rc;
}

/* FNV-1a over a fixed prefix and the service: a stable advisory lock key. */
static long long lock_key(const char *service)
{
	uint64_t h = 14695981039346656037u;

	for (const char *p = "shop.migrate:"; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	for (const char *p = service; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	return (long long)(h & 0x7fffffffffffffffu);
}

static const struct migration *find_version(const struct plan *p, long version)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->m[i].version == version)
			return &p->m[i];
	return NULL;
}

/* Compares the applied rows with the files; marks applied ones (version
 * set to 0 in *applied). Returns 0 or SHOP_EINVAL (logged). */
static int check_applied(const PGresult *rows, const struct plan *p,
                         const char *dir, const char *db, bool *applied)
{
	for (int r = 0; r < PQntuples(rows); r++) {
		long version = strtol(PQgetvalue(rows, r, 0), NULL, 10);
		const char *name = PQgetvalue(rows, r, 1);
		const char *sum = PQgetvalue(rows, r, 2);
		const struct migration *m = find_version(p, version);

		if (!m) {
			slog_warn("migration %ld '%s' applied to '%s' has no "
			          "file in '%s'",
			          version, name, db, dir);
			continue;
		}
		if (strcmp(m->checksum, sum) != 0) {
			slog_error("migration '%s' in '%s' was changed after "
			           "it was applied to '%s' (checksum %.12s, "
			           "applied %.12s)",
			           m->file, dir, db, m->checksum, sum);
			return SHOP_EINVAL;
		}
		applied[m - p->m] = true;
	}
	return 0;
}

/* A table name from the code (schema_migrations or a module's own): a
 * plain lowercase identifier, pasted into SQL. */
static bool plain_identifier(const char *s)
{
	if (!*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_' ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

/*
 * Applies the pending migrations of plan, tracked in `table`, under the
 * advisory lock of `service`. `source` names where the plan came from in
 * log lines (the directory, or the module of embedded migrations).
 */
static int run_plan(const char *conninfo, const char *service,
                    struct plan *plan, const char *table, const char *source,
                    int wait_ms)
{
	PGconn *pg = NULL;
	PGresult *rows = NULL;
	bool *applied = NULL;
	char db[128], key[24], err[512], sql[256];
	const char *params[1] = {key};
	size_t napplied = 0;
	int rc;

	if (!plain_identifier(table))
		BUG("migration table '%s' is not a plain identifier", table);
	if (pg__conninfo_name(conninfo, db, sizeof(db)) != 0) {
		slog_error("cannot parse the connection string of '%s'",
		           service);
		return SHOP_EINVAL;
	}
	applied = calloc(plan->n ? plan->n : 1, sizeof(*applied));
	if (!applied)
		return SHOP_ENOMEM;

	rc = connect_waiting(conninfo, service, db, wait_ms, &pg);
	if (rc)
		goto free_applied;
	PQsetNoticeProcessor(pg, pg__notice_to_log, db);

	/* Session lock: held until unlock or disconnect, across the per-file
	 * transactions. Another replica waits here, then finds nothing to do.
	 */
	snprintf(key, sizeof(key), "%lld", lock_key(service));
	rc = run(pg, "SELECT pg_advisory_lock($1::bigint)", 1, params, NULL,
	         err, sizeof(err));
	if (rc)
		goto fail_query;
	snprintf(sql, sizeof(sql),
	         "CREATE TABLE IF NOT EXISTS %s ("
	         " version integer PRIMARY KEY,"
	         " name text NOT NULL,"
	         " checksum text NOT NULL,"
	         " applied_at timestamptz NOT NULL DEFAULT now())",
	         table);
	rc = run(pg, sql, 0, NULL, NULL, err, sizeof(err));
	if (rc)
		goto fail_query;
	snprintf(sql, sizeof(sql),
	         "SELECT version, name, checksum FROM %s ORDER BY version",
	         table);
	rc = run(pg, sql, 0, NULL, &rows, err, sizeof(err));
	if (rc)
		goto fail_query;
	for (size_t i = 0; i < plan->n; i++) {
		rc = checksum(pg, &plan->m[i], err, sizeof(err));
		if (rc)
			goto fail_query;
	}
	rc = check_applied(rows, plan, source, db, applied);
	if (rc)
		goto unlock;

	for (size_t i = 0; i < plan->n; i++) {
		if (applied[i])
			continue;
		rc = apply(pg, db, table, &plan->m[i]);
		if (rc)
			goto unlock;
		napplied++;
	}
	if (napplied == 0)
		slog_info("schema of '%s' is up to date (%zu migrations%s%s)",
		          db, plan->n,
		          strcmp(table, "schema_migrations") ? " in " : "",
		          strcmp(table, "schema_migrations") ? table : "");
	else
		slog_info("applied %zu migrations to '%s'", napplied, db);
	rc = 0;
	goto unlock;

fail_query:
	slog_error("cannot migrate '%s': %s", db, err);
unlock:
	if (PQstatus(pg) != CONNECTION_BAD)
		PQclear(PQexecParams(pg,
		                     "SELECT pg_advisory_unlock($1::bigint)", 1,
		                     NULL, params, NULL, NULL, 0));
	PQclear(rows);
	PQfinish(pg);
free_applied:
	free(applied);
	return rc;
}

int migrate__run(const char *conninfo, const char *dir, const char *service,
                 int wait_ms)
{
	struct plan plan = {0};
	char db[128];
	int rc;

	if (!conninfo || !dir || !service || !*service)
		BUG("migrate_run needs a conninfo, a directory and a service");
	if (pg__conninfo_name(conninfo, db, sizeof(db)) != 0) {
		slog_error("cannot parse the connection string of '%s'",
		           service);
		return SHOP_EINVAL;
	}
	rc = scan_dir(dir, &plan);
	if (rc == 0)
		rc = run_plan(conninfo, service, &plan, "schema_migrations",
		              dir, wait_ms);
	plan_release(&plan);
	return rc;
}

int migrate__run_embedded(const char *conninfo, const char *service,
                          const char *table, const char *module,
                          const struct migrate__embedded *m, size_t n,
                          int wait_ms)
{
	struct plan plan = {0};
	int rc = SHOP_ENOMEM;

	if (!conninfo || !service || !*service || !table || !module ||
	    (n && !m))
		BUG("migrate__run_embedded needs a conninfo, a service, a "
		    "table, a module and its migrations");
	plan.m = calloc(n ? n : 1, sizeof(*plan.m));
	if (!plan.m)
		return SHOP_ENOMEM;
	plan.cap = n;
	for (size_t i = 0; i < n; i++) {
		struct migration *x = &plan.m[i];
		char file[160];

		if (m[i].version < 1 || !m[i].name || !m[i].sql ||
		    (i > 0 && m[i].version <= m[i - 1].version))
			BUG("embedded migrations of '%s' must have increasing "
			    "versions from 1, a name and SQL",
			    module);
		snprintf(file, sizeof(file), "%s/%03ld_%s", module,
		         m[i].version, m[i].name);
		x->version = m[i].version;
		x->file = strdup(file);
		x->name = strdup(m[i].name);
		x->sql = strdup(m[i].sql);
		plan.n++;
		if (!x->file || !x->name || !x->sql)
			goto release;
		x->len = strlen(x->sql);
	}
	rc = run_plan(conninfo, service, &plan, table, module, wait_ms);
release:
	plan_release(&plan);
	return rc;
}

int migrate_run(const char *conninfo, const char *dir, const char *service)
{
	return migrate__run(conninfo, dir, service, MIGRATE_WAIT_MS);
}
