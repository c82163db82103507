#ifndef SHOP_CONFIG_H
#define SHOP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Configuration from the environment. Each getter reads one variable, falls
 * back to its default when the variable is unset or empty, validates it,
 * and on a value it cannot use logs one error line naming the variable and
 * the accepted values and returns SHOP_EINVAL (the out-parameter is then
 * untouched). Daemons call them all, then exit(2) if any failed, so one run
 * reports every bad variable.
 */

/* Any string; out is borrowed from the environment or is def. */
int config_string(const char *var, const char *def, const char **out);

/* A non-empty string. */
int config_required_string(const char *var, const char *def, const char **out);

/* A decimal integer in [min, max]. */
int config_long(const char *var, long def, long min, long max, long *out);

/* A TCP port 1..65535. */
int config_port(const char *var, int def, int *out);

/* true/false/1/0/yes/no/on/off. */
int config_bool(const char *var, bool def, bool *out);

/* A path to a readable regular file. */
int config_readable_file(const char *var, const char *def, const char **out);

/*
 * A secret kept in a file (INTERNAL_TOKEN_FILE...): the path is read from
 * var (or def), the file's first line without its line end becomes *out
 * (malloc'd; the caller wipes it with explicit_bzero and frees it). The
 * secret must be min_len to 4096 bytes of printable ASCII. Its value is
 * never logged.
 */
int config_secret_file(const char *var, const char *def, size_t min_len,
                       char **out);

/* A path to a directory. */
int config_directory(const char *var, const char *def, const char **out);

#endif
