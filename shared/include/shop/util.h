#ifndef SHOP_UTIL_H
#define SHOP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SHOP_UUID_LEN 36 /* without the NUL */

/* Writes a random (version 4) UUID, lowercase, into out[37]. */
void shop_uuid_v4(char out[SHOP_UUID_LEN + 1]);

/* Returns true when s is a canonical 8-4-4-4-12 hex UUID (any case). */
bool shop_uuid_valid(const char *s);

/* Writes t as RFC 3339 UTC with second precision ("2026-11-21T10:02:03Z")
 * into out[21]. */
void shop_time_rfc3339(time_t t, char out[21]);

/* The time ms (>= 0) from now on clock (CLOCK_MONOTONIC, or the one a
 * condition variable waits on), for pthread_cond_timedwait(). */
void shop_deadline_after_ms(clockid_t clock, long ms, struct timespec *out);

/* Monotonic clock in nanoseconds / seconds. */
uint64_t shop_now_ns(void);
double shop_now_s(void);

/* Fills buf with n random bytes from the kernel (getrandom). 0 or SHOP_ERR. */
int shop_random_bytes(void *buf, size_t n);

/* Parses a whole string as a decimal long in [min, max]: no sign games, no
 * spaces, no trailing bytes. Returns 0 or SHOP_EINVAL. */
int shop_parse_long(const char *s, long min, long max, long *out);

/* Number of CPUs available to this process (at least 1). */
int shop_ncpu(void);

#endif
