#ifndef SHOP_PG_COMMON_H
#define SHOP_PG_COMMON_H

#include <stddef.h>

/*
 * Helpers private to the shared library's PostgreSQL code (db.c,
 * migrate.c, outbox_relay.c, consumer*.c), hence the pg__ prefix.
 */

/* Copies a libpq message (which ends with a newline and may span lines)
 * into dst as one line with runs of whitespace collapsed. NULL is "". */
void pg__one_line(char *dst, size_t cap, const char *src);

/* A libpq notice processor logging each notice at debug level; arg is the
 * database name (a borrowed string that outlives the connection). */
void pg__notice_to_log(void *arg, const char *message);

/* Writes the name to log for conninfo into out: its dbname, else its user,
 * else "database"; never the conninfo itself (it may hold a password).
 * Returns 0, or SHOP_EINVAL when libpq cannot parse conninfo. */
int pg__conninfo_name(const char *conninfo, char *out, size_t cap);

#endif
