#include "shop/revoked_set.h"

#include "shop/auth.h"
#include "shop/error.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SLOTS 16

void revoked_set_init(struct revoked_set *s, long long grace_s)
{
	memset(s, 0, sizeof(*s));
	pthread_rwlock_init(&s->lock, NULL);
	atomic_init(&s->count, 0);
	s->grace_s = grace_s > 0 ? grace_s : 0;
	s->max = REVOKED_SET_MAX;
}

void revoked_set_release(struct revoked_set *s)
{
	free(s->slots);
	s->slots = NULL;
	s->cap = s->used = 0;
	pthread_rwlock_destroy(&s->lock);
}

/* FNV-1a: jtis come from signed tokens and from the user service, never
 * from whoever sends a request, so no seed is needed against flooding. */
static size_t jti_hash(const char *jti)
{
	uint64_t h = 14695981039346656037ull;

	for (const unsigned char *p = (const unsigned char *)jti; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 32));
}

static bool jti_valid(const char *jti, size_t len)
{
	if (len == 0 || len >= JWT_JTI_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)jti[i] <= ' ' || jti[i] == 0x7f)
			return false;
	return true;
}

/* The slot holding jti, or the empty slot where it belongs. cap > 0, and
 * the table is never full (load <= 1/2). */
static struct revoked_entry *probe(const struct revoked_set *s, const char *jti)
{
	size_t mask = s->cap - 1, i = jti_hash(jti) & mask;

	while (s->slots[i].until && strcmp(s->slots[i].jti, jti) != 0)
		i = (i + 1) & mask;
	return &s->slots[i];
}

/* Moves the entries still valid at now into a new table with room for
 * `extra` more at a load of at most 1/3. Under the write lock. */
static int rebuild(struct revoked_set *s, long long now, size_t extra)
{
	struct revoked_entry *old = s->slots, *slots;
	size_t live = 0, cap = MIN_SLOTS, oldcap = s->cap;

	for (size_t i = 0; i < oldcap; i++)
		if (old[i].until > now)
			live++;
	while (cap / 3 < live + extra)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return SHOP_ENOMEM;
	s->slots = slots;
	s->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].until > now)
			*probe(s, old[i].jti) = old[i];
	s->used = live;
	atomic_store_explicit(&s->count, live, memory_order_release);
	free(old);
	return 0;
}

int revoked_set_add(struct revoked_set *s, const char *jti, long long exp,
                    long long now)
{
	struct revoked_entry *e;
	long long until;
	int rc = 0;

	if (!jti || !jti_valid(jti, strnlen(jti, JWT_JTI_MAX)))
		return SHOP_EINVAL;
	if (exp > LLONG_MAX - s->grace_s)
		exp = LLONG_MAX - s->grace_s;
	until = exp + s->grace_s;
	if (until <= now)
		return 0; /* the token is refused as expired anyway */
	pthread_rwlock_wrlock(&s->lock);
	if (s->cap) {
		e = probe(s, jti);
		if (e->until) {
			if (until > e->until)
				e->until = until;
			goto unlock;
		}
	}
	if (s->used + 1 > s->cap / 2 || s->used >= s->max) {
		rc = rebuild(s, now, 1);
		if (rc < 0)
			goto unlock;
		if (s->used >= s->max) {
			rc = SHOP_ECONFLICT;
			goto unlock;
		}
	}
	e = probe(s, jti);
	memcpy(e->jti, jti, strlen(jti) + 1);
	e->until = until;
	s->used++;
	atomic_store_explicit(&s->count, s->used, memory_order_release);
unlock:
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

bool revoked_set_contains(struct revoked_set *s, const char *jti, long long now)
{
	const struct revoked_entry *e;
	bool found;

	if (atomic_load_explicit(&s->count, memory_order_acquire) == 0 ||
	    !jti || !*jti)
		return false;
	pthread_rwlock_rdlock(&s->lock);
	e = s->cap ? probe(s, jti) : NULL;
	found = e && e->until > now;
	pthread_rwlock_unlock(&s->lock);
	return found;
}

/* Parses a decimal long long of 1..19 digits. */
static int parse_seconds(const char *p, size_t n, long long *out)
{
	long long v = 0;

	if (n == 0 || n > 19)
		return SHOP_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return SHOP_EINVAL;
		if (v > (LLONG_MAX - (p[i] - '0')) / 10)
			return SHOP_EINVAL;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

int revoked_set_add_message(struct revoked_set *s, const char *msg, size_t len,
                            long long now)
{
	char jti[JWT_JTI_MAX];
	const char *sp = msg ? memchr(msg, ' ', len) : NULL;
	size_t jlen;
	long long exp;

	if (!sp)
		return SHOP_EINVAL;
	jlen = (size_t)(sp - msg);
	if (!jti_valid(msg, jlen) ||
	    parse_seconds(sp + 1, len - jlen - 1, &exp) < 0)
		return SHOP_EINVAL;
	memcpy(jti, msg, jlen);
	jti[jlen] = '\0';
	return revoked_set_add(s, jti, exp, now);
}

int revoked_set_add_key(struct revoked_set *s, const char *key,
                        long long ttl_ms, long long now)
{
	size_t n = sizeof(AUTH_REVOKED_PREFIX) - 1;
	long long exp;

	if (!key || strncmp(key, AUTH_REVOKED_PREFIX, n) != 0 || ttl_ms < -1)
		return SHOP_EINVAL;
	if (ttl_ms == -1)
		exp = now + REVOKED_SET_NO_TTL_S;
	else /* rounded up: never forget a token before Redis does */
		exp = now + ttl_ms / 1000 + (ttl_ms % 1000 ? 1 : 0);
	return revoked_set_add(s, key + n, exp, now);
}

size_t revoked_set_prune(struct revoked_set *s, long long now)
{
	size_t expired = 0, left;

	pthread_rwlock_wrlock(&s->lock);
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].until && s->slots[i].until <= now)
			expired++;
	if (expired)
		rebuild(s, now, 0); /* out of memory: they stay, ignored */
	left = s->used;
	pthread_rwlock_unlock(&s->lock);
	return left;
}

size_t revoked_set_size(const struct revoked_set *s)
{
	return atomic_load_explicit(&s->count, memory_order_acquire);
}
