#ifndef SHOP_PG_COMMON_H
#define SHOP_PG_COMMON_H

#include <stddef.h>

/*
 * Helpers private to shop_pg (db.c and migrate.c), hence the pg__ prefix.
 */

/* Copies a libpq message (which ends with a newline and may span lines)
 * into dst as one line with runs of whitespace collapsed. NULL is "". */
void pg__one_line(char *dst, size_t cap, const char *src);

/* A libpq notice processor logging each notice at debug level; arg is the
 * database name (a borrowed string that outlives the connection). */
void pg__notice_to_log(void *arg, const char *message);

#endif
