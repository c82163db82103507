#include "rate_limit.h"

#include "shop/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define STRIPE_BITS 6
#define STRIPES     (1u << STRIPE_BITS)
#define MIN_SLOTS   16u
#define CACHE_LINE  64

/* One key's counts; hash 0 marks a free slot. */
struct rl_entry {
	uint64_t hash;
	long long window;
	uint64_t total;
	uint32_t pending;
	uint32_t inflight;
	unsigned char kind;
	unsigned char len;
	char id[RL_ID_MAX];
};

/* An open-addressing table (linear probing, load <= 1/2) under its own
 * mutex, on cache lines of its own so that workers locking different
 * stripes do not share a line. */
struct rl_stripe {
	_Alignas(CACHE_LINE) pthread_mutex_t lock;
	struct rl_entry *slots; /* cap slots, cap a power of two, or NULL */
	size_t cap;
	size_t used;
};

struct rate_limit {
	struct rl_stripe stripes[STRIPES];
	long long window_s;
	uint64_t limit[RL_KIND_COUNT];
	size_t max_keys;
	uint64_t seed;
	atomic_bool live;
	atomic_size_t keys;
};

/* ---- the map ---- */

/*
 * FNV-1a over the kind and id from a per-process random seed, then
 * murmur3's finalizer: addresses and subs are chosen by clients, so their
 * slots must not be predictable. Never 0 (the free mark).
 */
static uint64_t key_hash(const struct rate_limit *rl, unsigned kind,
                         const void *id, size_t len)
{
	const unsigned char *p = id;
	uint64_t h = rl->seed ^ ((uint64_t)(kind + 1) * 0x9e3779b97f4a7c15ull);

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h ? h : 1;
}

static struct rl_stripe *stripe_of(struct rate_limit *rl, uint64_t h)
{
	return &rl->stripes[h >> (64 - STRIPE_BITS)];
}

/* The slot of the key, or the free slot where it belongs. cap > 0. */
static struct rl_entry *probe(const struct rl_stripe *s, uint64_t h,
                              unsigned kind, const void *id, size_t len)
{
	size_t mask = s->cap - 1, i = (size_t)h & mask;

	for (;;) {
		struct rl_entry *e = &s->slots[i];

		if (!e->hash || (e->hash == h && e->kind == kind &&
		                 e->len == len && memcmp(e->id, id, len) == 0))
			return e;
		i = (i + 1) & mask;
	}
}

/* Moves the entries into a table of cap slots (a power of two, more than
 * twice the entries). */
static int resize(struct rl_stripe *s, size_t cap)
{
	struct rl_entry *old = s->slots, *slots = calloc(cap, sizeof(*slots));
	size_t oldcap = s->cap;

	if (!slots)
		return SHOP_ENOMEM;
	s->slots = slots;
	s->cap = cap;
	for (size_t i = 0; i < oldcap; i++) {
		const struct rl_entry *e = &old[i];

		if (e->hash)
			*probe(s, e->hash, e->kind, e->id, e->len) = *e;
	}
	free(old);
	return 0;
}

/* Frees slot i, shifting back the entries of its probe run (no tombstone:
 * lookups stay short however many keys come and go). */
static void remove_at(struct rl_stripe *s, size_t i)
{
	size_t mask = s->cap - 1, j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!s->slots[j].hash)
			break;
		home = (size_t)s->slots[j].hash & mask;
		/* j may move to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home <= i || home > j)
		           : (home <= i && home > j)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i].hash = 0;
	s->used--;
}

/* The entry of the key, added when missing; NULL when the map is full or
 * out of memory. Under the stripe's lock. */
static struct rl_entry *find_or_add(struct rate_limit *rl, struct rl_stripe *s,
                                    uint64_t h, unsigned kind, const void *id,
                                    size_t len)
{
	struct rl_entry *e;

	if (!s->cap && resize(s, MIN_SLOTS) < 0)
		return NULL;
	e = probe(s, h, kind, id, len);
	if (e->hash)
		return e;
	if (atomic_load_explicit(&rl->keys, memory_order_relaxed) >=
	    rl->max_keys)
		return NULL;
	if ((s->used + 1) * 2 > s->cap) {
		if (resize(s, s->cap * 2) < 0)
			return NULL;
		e = probe(s, h, kind, id, len);
	}
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->kind = (unsigned char)kind;
	e->len = (unsigned char)len;
	memcpy(e->id, id, len);
	e->window = -1; /* before any window: reset by the caller */
	s->used++;
	atomic_fetch_add_explicit(&rl->keys, 1, memory_order_relaxed);
	return e;
}

/* ---- the workers' side ---- */

static uint64_t random_seed(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
		       (uint64_t)getpid() << 32 ^ (uint64_t)ts.tv_sec;
	}
	return seed;
}

int rate_limit_new(const struct rate_limit_options *o, struct rate_limit **out)
{
	struct rate_limit *rl;

	if (!o || o->window_s < 1)
		return SHOP_EINVAL;
	for (int k = 0; k < RL_KIND_COUNT; k++)
		if (o->limit[k] < 0)
			return SHOP_EINVAL;
	rl = aligned_alloc(CACHE_LINE, sizeof(*rl));
	if (!rl)
		return SHOP_ENOMEM;
	memset(rl, 0, sizeof(*rl));
	for (unsigned i = 0; i < STRIPES; i++)
		pthread_mutex_init(&rl->stripes[i].lock, NULL);
	rl->window_s = o->window_s;
	for (int k = 0; k < RL_KIND_COUNT; k++)
		rl->limit[k] = (uint64_t)o->limit[k];
	rl->max_keys = o->max_keys ? o->max_keys : RL_MAX_KEYS;
	rl->seed = random_seed();
	atomic_init(&rl->live, false);
	atomic_init(&rl->keys, 0);
	*out = rl;
	return 0;
}

void rate_limit_free(struct rate_limit *rl)
{
	if (!rl)
		return;
	for (unsigned i = 0; i < STRIPES; i++) {
		free(rl->stripes[i].slots);
		pthread_mutex_destroy(&rl->stripes[i].lock);
	}
	free(rl);
}

unsigned rate_limit_admit(struct rate_limit *rl, enum rl_kind kind,
                          const void *id, size_t len, long long now)
{
	uint64_t limit, h;
	struct rl_stripe *s;
	struct rl_entry *e;
	long long window;
	unsigned refused = 0;

	if ((unsigned)kind >= RL_KIND_COUNT)
		return 0;
	limit = rl->limit[kind];
	if (!limit || !atomic_load_explicit(&rl->live, memory_order_relaxed) ||
	    len == 0 || len > RL_ID_MAX || now < 0)
		return 0;
	window = now / rl->window_s;
	h = key_hash(rl, kind, id, len);
	s = stripe_of(rl, h);
	pthread_mutex_lock(&s->lock);
	e = find_or_add(rl, s, h, kind, id, len);
	if (!e)
		goto unlock; /* full: admitted, uncounted */
	/* Only forward: two workers reading the clock on either side of a
	 * window's end must not reset each other's counts. */
	if (window > e->window) {
		e->window = window;
		e->total = 0;
		e->inflight = 0;
		e->pending = 0;
	}
	if (e->total + e->inflight + e->pending >= limit) {
		long long end = (e->window + 1) * rl->window_s;

		refused = end > now ? (unsigned)(end - now) : 1;
	} else {
		e->pending++;
	}
unlock:
	pthread_mutex_unlock(&s->lock);
	return refused;
}

long long rate_limit_limit(const struct rate_limit *rl, enum rl_kind kind)
{
	return (unsigned)kind < RL_KIND_COUNT ? (long long)rl->limit[kind] : 0;
}

long long rate_limit_window(const struct rate_limit *rl)
{
	return rl->window_s;
}

bool rate_limit_live(const struct rate_limit *rl)
{
	return atomic_load_explicit(&rl->live, memory_order_relaxed);
}

void rate_limit_set_live(struct rate_limit *rl, bool live)
{
	atomic_store_explicit(&rl->live, live, memory_order_relaxed);
}

size_t rate_limit_keys(const struct rate_limit *rl)
{
	return atomic_load_explicit(&rl->keys, memory_order_relaxed);
}

size_t rate_limit_address_id(const struct sockaddr *sa, unsigned char out[16])
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0,    0,
	                                           0, 0, 0, 0, 0xff, 0xff};

	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *a =
		        ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
			memcpy(out, a + 12, 4);
			return 4;
		}
		/* The /64: one host usually owns a whole one, so counting
		 * its 2^64 addresses apart would give it 2^64 budgets (and
		 * let it fill the key table). */
		memcpy(out, a, 8);
		return 8;
	}
	return 0;
}

/* ---- the syncer's side ---- */

void rl_batch_init(struct rl_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void rl_batch_release(struct rl_batch *b)
{
	free(b->items);
	rl_batch_init(b);
}

static struct rl_item *batch_add(struct rl_batch *b)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct rl_item *items = realloc(b->items, cap * sizeof(*items));

		if (!items)
			return NULL;
		b->items = items;
		b->cap = cap;
	}
	return &b->items[b->n++];
}

size_t rl_item_key(const struct rl_item *it, char *buf)
{
	char id[RL_ID_MAX + 1];
	int n;

	if (it->kind == RL_ADDRESS && it->len == 4) {
		if (!inet_ntop(AF_INET, it->id, id, sizeof(id)))
			snprintf(id, sizeof(id), "?");
	} else if (it->kind == RL_ADDRESS && it->len == 8) {
		unsigned char a6[16] = {0};

		memcpy(a6, it->id, 8);
		if (!inet_ntop(AF_INET6, a6, id, sizeof(id) - 3))
			snprintf(id, sizeof(id), "?");
		else
			strcat(id, "/64");
	} else if (it->kind == RL_ADDRESS) {
		snprintf(id, sizeof(id), "?");
	} else {
		memcpy(id, it->id, it->len);
		id[it->len] = '\0';
	}
	n = snprintf(buf, RL_KEY_MAX, "rl:%c:%s:%lld",
	             it->kind == RL_ADDRESS ? 'a' : 'u', id, it->window);
	return n < 0 ? 0 : (size_t)n >= RL_KEY_MAX ? RL_KEY_MAX - 1 : (size_t)n;
}

/* Halves a stripe's table while it is mostly empty. Under its lock. */
static void shrink(struct rl_stripe *s)
{
	size_t cap = s->cap;

	while (cap > MIN_SLOTS && s->used * 8 < cap)
		cap /= 2;
	if (cap != s->cap)
		resize(s, cap); /* out of memory: it stays as large */
}

int rate_limit_collect(struct rate_limit *rl, long long now, struct rl_batch *b)
{
	long long window = now / rl->window_s;
	int rc = 0;

	b->n = 0;
	for (unsigned k = 0; k < STRIPES; k++) {
		struct rl_stripe *s = &rl->stripes[k];
		size_t i = 0;

		pthread_mutex_lock(&s->lock);
		while (i < s->cap) {
			struct rl_entry *e = &s->slots[i];
			struct rl_item *it;

			if (!e->hash) {
				i++;
				continue;
			}
			if (!e->pending) {
				if (e->window < window && !e->inflight) {
					/* an entry shifts into slot i: look
					 * at i again */
					remove_at(s, i);
					atomic_fetch_sub_explicit(
					        &rl->keys, 1,
					        memory_order_relaxed);
					continue;
				}
				i++;
				continue;
			}
			it = batch_add(b);
			if (!it) {
				rc = SHOP_ENOMEM;
				i++;
				continue;
			}
			it->window = e->window;
			it->total = 0;
			it->delta = e->pending;
			it->kind = e->kind;
			it->len = e->len;
			memcpy(it->id, e->id, e->len);
			e->inflight += e->pending;
			e->pending = 0;
			i++;
		}
		shrink(s);
		pthread_mutex_unlock(&s->lock);
	}
	return rc;
}

void rate_limit_apply(struct rate_limit *rl, const struct rl_batch *b,
                      bool stored)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct rl_item *it = &b->items[i];
		uint64_t h = key_hash(rl, it->kind, it->id, it->len);
		struct rl_stripe *s = stripe_of(rl, h);
		struct rl_entry *e;

		pthread_mutex_lock(&s->lock);
		e = s->cap ? probe(s, h, it->kind, it->id, it->len) : NULL;
		if (e && e->hash && e->window == it->window) {
			e->inflight -= it->delta < e->inflight ? it->delta
			                                       : e->inflight;
			if (stored && it->total > 0 &&
			    (uint64_t)it->total > e->total)
				e->total = (uint64_t)it->total;
		}
		pthread_mutex_unlock(&s->lock);
	}
}
