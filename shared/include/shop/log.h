#ifndef SHOP_LOG_H
#define SHOP_LOG_H

#include <stddef.h>

/*
 * Structured logs: one JSON object per line on stdout with ts, level,
 * service, msg, request_id (when known) and the fields of the moment.
 * Each line is written with a single write(2), so lines from several
 * threads never interleave. Safe to call from any thread after slog_init().
 */
enum slog_level { SLOG_DEBUG = 0, SLOG_INFO, SLOG_WARN, SLOG_ERROR };

enum slog_type { SLOG_T_STR, SLOG_T_INT, SLOG_T_DBL };

struct slog_field {
	const char *key;
	enum slog_type type;
	const char *s; /* borrowed; NULL is written as null */
	long long i;
	double d;
};

#define SLOG_S(k, v)                                                           \
	((struct slog_field){.key = (k), .type = SLOG_T_STR, .s = (v)})
#define SLOG_I(k, v)                                                           \
	((struct slog_field){                                                  \
	        .key = (k), .type = SLOG_T_INT, .i = (long long)(v)})
#define SLOG_D(k, v)                                                           \
	((struct slog_field){.key = (k), .type = SLOG_T_DBL, .d = (double)(v)})

/* Sets the service name (borrowed: must outlive logging) and the floor. */
void slog_init(const char *service, enum slog_level floor);

/* Parses "debug", "info", "warn" or "error". Returns 0 or SHOP_EINVAL. */
int slog_level_parse(const char *s, enum slog_level *out);

/* Returns nonzero when a line at this level would be written. */
int slog_enabled(enum slog_level level);

/* Writes one line with the given fields; request_id may be NULL. */
void slog_write(enum slog_level level, const char *request_id, const char *msg,
                const struct slog_field *fields, size_t nfields);

/* Writes one line whose msg is printf-formatted. */
void slog_msg(enum slog_level level, const char *request_id, const char *fmt,
              ...) __attribute__((format(printf, 3, 4)));

/* Fields as a compound literal: slog_kv(SLOG_INFO, rid, "msg", SLOG_S(..), ..)
 */
#define slog_kv(level, rid, msg, ...)                                          \
	slog_write((level), (rid), (msg),                                      \
	           (const struct slog_field[]){__VA_ARGS__},                   \
	           sizeof((const struct slog_field[]){__VA_ARGS__}) /          \
	                   sizeof(struct slog_field))

#define slog_debug(...) slog_msg(SLOG_DEBUG, NULL, __VA_ARGS__)
#define slog_info(...)  slog_msg(SLOG_INFO, NULL, __VA_ARGS__)
#define slog_warn(...)  slog_msg(SLOG_WARN, NULL, __VA_ARGS__)
#define slog_error(...) slog_msg(SLOG_ERROR, NULL, __VA_ARGS__)

/* Appends s to buf as a JSON string body (no quotes), escaping as needed;
 * invalid UTF-8 becomes U+FFFD. Returns the number of bytes written, at
 * most cap - 1 (always NUL-terminates when cap > 0); a string that does not
 * fit is cut between characters. */
size_t slog_json_escape(char *buf, size_t cap, const char *s);

#endif
