#ifndef SHOP_TESTS_SUPPORT_PG_H
#define SHOP_TESTS_SUPPORT_PG_H

#include <libpq-fe.h>
#include <stddef.h>

/*
 * The test database URL (SHOP_TEST_DATABASE_URL) rewritten as a
 * keyword/value conninfo whose options set search_path, so that a test
 * works in a schema of its own. Returns 0, or -1 when libpq cannot parse
 * url.
 */
int support_conninfo(const char *url, const char *search_path, char *out,
                     size_t cap);

/* Runs sql on c; fails the current cmocka test unless it succeeds. */
void support_pg_exec(PGconn *c, const char *sql);

#endif
