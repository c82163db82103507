#include "shop/log.h"
#include "shop/error.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SLOG_LINE_MAX 8192

static const char *slog_service = "shop";
static enum slog_level slog_floor = SLOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void slog_init(const char *service, enum slog_level floor)
{
	slog_service = service;
	slog_floor = floor;
}

int slog_level_parse(const char *s, enum slog_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(*level_names);
	     i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum slog_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = SLOG_WARN;
		return 0;
	}
	return SHOP_EINVAL;
}

int slog_enabled(enum slog_level level)
{
	return level >= slog_floor;
}

/* Length of the valid UTF-8 sequence at s (as strict as jansson), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80; /* overlong */
		hi = s[0] == 0xed ? 0x9f : 0xbf; /* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		lo = s[0] == 0xf0 ? 0x90 : 0x80; /* overlong */
		hi = s[0] == 0xf4 ? 0x8f : 0xbf; /* past U+10FFFF */
	} else {
		return 0;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return len;
}

size_t slog_json_escape(char *buf, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (cap == 0)
		return 0;
	while (*s) {
		unsigned char c = (unsigned char)*s;
		char esc[7];
		size_t len, used = 1;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			len = 2;
		} else if (c == '\n') {
			memcpy(esc, "\\n", 2);
			len = 2;
		} else if (c == '\r') {
			memcpy(esc, "\\r", 2);
			len = 2;
		} else if (c == '\t') {
			memcpy(esc, "\\t", 2);
			len = 2;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			len = 6;
		} else if (c < 0x80) {
			esc[0] = (char)c;
			len = 1;
		} else if ((used = utf8_len((const unsigned char *)s)) > 0) {
			/* Whole characters only, so a cut keeps valid UTF-8. */
			memcpy(esc, s, used);
			len = used;
		} else {
			/* Invalid UTF-8 would make the line invalid JSON. */
			memcpy(esc, "\\ufffd", 6);
			len = 6;
			used = 1;
		}
		if (n + len >= cap)
			break;
		memcpy(buf + n, esc, len);
		n += len;
		s += used;
	}
	buf[n] = '\0';
	return n;
}

/* Appends s whole, or nothing and false when it does not fit before
 * cap - 1, so that a full line is never cut inside its JSON syntax. */
static bool put(char *line, size_t cap, size_t *n, const char *s)
{
	size_t len = strlen(s);

	if (*n + len >= cap)
		return false;
	memcpy(line + *n, s, len + 1);
	*n += len;
	return true;
}

/* Appends s as a JSON string, its body cut to fit; false when not even
 * the two quotes fit. */
static bool put_str(char *line, size_t cap, size_t *n, const char *s)
{
	if (!s)
		return put(line, cap, n, "null");
	if (*n + 2 >= cap)
		return false;
	line[(*n)++] = '"';
	*n += slog_json_escape(line + *n, cap - *n - 1, s);
	line[(*n)++] = '"';
	line[*n] = '\0';
	return true;
}

/* Appends ,"key":value as a unit, or nothing and false when it does not
 * fit. value is raw JSON when raw is set, else the string s. */
static bool member(char *line, size_t cap, size_t *n, const char *key,
                   const char *s, const char *raw)
{
	size_t mark = *n;

	if (put(line, cap, n, ",") && put_str(line, cap, n, key) &&
	    put(line, cap, n, ":") &&
	    (raw ? put(line, cap, n, raw) : put_str(line, cap, n, s)))
		return true;
	*n = mark;
	line[mark] = '\0';
	return false;
}

void slog_write(enum slog_level level, const char *request_id, const char *msg,
                const struct slog_field *fields, size_t nfields)
{
	char line[SLOG_LINE_MAX];
	char ts[80], num[64];
	size_t n = 0;
	struct timeval tv;
	struct tm tm;
	ssize_t w;
	size_t off;

	if (level < slog_floor)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));

	/* Leave room for the closing brace and newline. A member that does
	 * not fit is left out with every one after it. */
	size_t cap = sizeof(line) - 2;
	bool ok;
	put(line, cap, &n, "{\"ts\":\"");
	put(line, cap, &n, ts);
	put(line, cap, &n, "\",\"level\":\"");
	put(line, cap, &n, level_names[level]);
	put(line, cap, &n, "\"");
	ok = member(line, cap, &n, "service", slog_service, NULL) &&
	     member(line, cap, &n, "msg", msg ? msg : "", NULL);
	if (ok && request_id)
		ok = member(line, cap, &n, "request_id", request_id, NULL);
	for (size_t i = 0; ok && i < nfields; i++) {
		const char *raw = NULL;

		switch (fields[i].type) {
		case SLOG_T_STR:
			break;
		case SLOG_T_INT:
			snprintf(num, sizeof(num), "%lld", fields[i].i);
			raw = num;
			break;
		case SLOG_T_DBL:
			/* JSON has no NaN or infinity. */
			if (isfinite(fields[i].d))
				snprintf(num, sizeof(num), "%.6g", fields[i].d);
			else
				strcpy(num, "null");
			raw = num;
			break;
		}
		ok = member(line, cap, &n, fields[i].key, fields[i].s, raw);
	}
	line[n++] = '}';
	line[n++] = '\n';

	for (off = 0; off < n;) {
		w = write(STDOUT_FILENO, line + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		off += (size_t)w;
	}
}

void slog_msg(enum slog_level level, const char *request_id, const char *fmt,
              ...)
{
	char msg[2048];
	va_list ap;

	if (level < slog_floor)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	slog_write(level, request_id, msg, NULL, 0);
}
