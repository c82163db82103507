#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rate_limit.h"
#include "rate_sync.h"

#include "shop/error.h"
#include "shop/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a fake clock: seconds since the epoch, a window of 10 s starting here */
#define T0     1800000000LL
#define WINDOW 10

static struct rate_limit *new_limit(long long per_address, long long per_user,
                                    size_t max_keys)
{
	struct rate_limit_options o = {
	        .window_s = WINDOW,
	        .limit = {per_address, per_user},
	        .max_keys = max_keys,
	};
	struct rate_limit *rl = NULL;

	assert_int_equal(rate_limit_new(&o, &rl), 0);
	rate_limit_set_live(rl, true);
	return rl;
}

static unsigned admit_ip(struct rate_limit *rl, const char *ip, long long now)
{
	unsigned char a[4];

	assert_int_equal(inet_pton(AF_INET, ip, a), 1);
	return rate_limit_admit(rl, RL_ADDRESS, a, 4, now);
}

static unsigned admit_user(struct rate_limit *rl, const char *sub,
                           long long now)
{
	return rate_limit_admit(rl, RL_USER, sub, strlen(sub), now);
}

/* ---- a fake store: counters by key, shared by several "processes" ---- */

struct fake_counter {
	char key[RL_KEY_MAX];
	long long value;
	long ttl;
};

#define FAKE_SLOTS 16384 /* a power of two */

struct fake_store {
	struct fake_counter counters[FAKE_SLOTS]; /* by hash; key "" free */
	size_t n;
	int fail;        /* push and ping return this while nonzero */
	unsigned pushes; /* calls */
	unsigned pings;
	long last_ttl;
};

static struct fake_counter *fake_counter(struct fake_store *f, const char *key)
{
	size_t h = 5381;

	for (const char *p = key; *p; p++)
		h = h * 33 + (unsigned char)*p;
	for (size_t i = h % FAKE_SLOTS;; i = (i + 1) % FAKE_SLOTS) {
		struct fake_counter *c = &f->counters[i];

		if (strcmp(c->key, key) == 0)
			return c;
		if (!c->key[0]) {
			assert_true(++f->n < FAKE_SLOTS / 2);
			snprintf(c->key, RL_KEY_MAX, "%s", key);
			return c;
		}
	}
}

static int fake_push(void *self, struct rl_item *items, size_t n, long ttl_s,
                     char *why, size_t cap)
{
	struct fake_store *f = self;

	f->pushes++;
	f->last_ttl = ttl_s;
	if (f->fail) {
		snprintf(why, cap, "fake failure");
		return f->fail;
	}
	for (size_t i = 0; i < n; i++) {
		char key[RL_KEY_MAX];
		struct fake_counter *c;

		rl_item_key(&items[i], key);
		c = fake_counter(f, key);
		c->value += items[i].delta;
		c->ttl = ttl_s;
		items[i].total = c->value;
	}
	return 0;
}

static int fake_ping(void *self, char *why, size_t cap)
{
	struct fake_store *f = self;

	f->pings++;
	if (f->fail)
		snprintf(why, cap, "fake failure");
	return f->fail;
}

static void fake_free(void *self)
{
	(void)self; /* the tests own their fakes */
}

static const struct rl_store_ops fake_ops = {
        .push = fake_push,
        .ping = fake_ping,
        .free = fake_free,
};

static struct rate_sync *new_sync(struct rate_limit *rl, struct fake_store *f)
{
	struct rate_sync *s = NULL;
	struct rl_store store = {&fake_ops, f};

	assert_int_equal(rate_sync_new(rl, store, 100, "fake", &s), 0);
	return s;
}

static double live_gauge(void)
{
	return metric_value(metrics_gauge("gateway_rate_limit_live", "", ""));
}

/* ---- the decision ---- */

static void test_limit_and_retry_after(void **state)
{
	struct rate_limit *rl = new_limit(3, 0, 0);

	(void)state;
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + 1), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + 2), 0);
	/* the 4th in the window: the seconds to its end */
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + 3), WINDOW - 3);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + 9), 1);
	/* refusals do not count, other keys are apart */
	assert_int_equal(admit_ip(rl, "10.0.0.2", T0 + 9), 0);
	/* the next window starts afresh */
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW + 4), WINDOW - 4);
	assert_int_equal(rate_limit_keys(rl), 2);
	rate_limit_free(rl);
}

static void test_kinds_apart(void **state)
{
	struct rate_limit *rl = new_limit(0, 2, 0);
	unsigned char same[4] = {'u', 's', 'e', 'r'};

	(void)state;
	/* no address limit: never counted */
	for (int i = 0; i < 100; i++)
		assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_equal(rate_limit_keys(rl), 0);
	assert_int_equal(admit_user(rl, "user", T0), 0);
	assert_int_equal(admit_user(rl, "user", T0), 0);
	assert_int_not_equal(admit_user(rl, "user", T0), 0);
	assert_int_equal(admit_user(rl, "other", T0), 0);
	/* the same bytes as an address are another key */
	assert_int_equal(rate_limit_admit(rl, RL_ADDRESS, same, 4, T0), 0);
	/* ids of no or too many bytes are not counted */
	assert_int_equal(rate_limit_admit(rl, RL_USER, "", 0, T0), 0);
	assert_int_equal(rate_limit_admit(rl, RL_USER, "x", RL_ID_MAX + 1, T0),
	                 0);
	assert_int_equal(rate_limit_limit(rl, RL_USER), 2);
	assert_int_equal(rate_limit_limit(rl, RL_ADDRESS), 0);
	rate_limit_free(rl);
}

static void test_not_live_fails_open(void **state)
{
	struct rate_limit *rl = new_limit(1, 1, 0);

	(void)state;
	rate_limit_set_live(rl, false);
	assert_false(rate_limit_live(rl));
	for (int i = 0; i < 10; i++)
		assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_equal(rate_limit_keys(rl), 0);
	rate_limit_set_live(rl, true);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_not_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	rate_limit_free(rl);
}

static void test_bad_options(void **state)
{
	struct rate_limit_options o = {.window_s = 0, .limit = {1, 1}};
	struct rate_limit *rl = NULL;

	(void)state;
	assert_int_equal(rate_limit_new(&o, &rl), SHOP_EINVAL);
	o.window_s = 1;
	o.limit[RL_USER] = -1;
	assert_int_equal(rate_limit_new(&o, &rl), SHOP_EINVAL);
	assert_null(rl);
	rate_limit_free(NULL);
}

static void test_clock_going_back(void **state)
{
	struct rate_limit *rl = new_limit(2, 0, 0);

	(void)state;
	/* one worker already in the next window, another a hair behind:
	 * the counts stay in the later window */
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW - 1), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW - 1), WINDOW + 1);
	assert_int_not_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW), 0);
	rate_limit_free(rl);
}

static void test_full_map_admits(void **state)
{
	struct rate_limit *rl = new_limit(1, 0, 2);

	(void)state;
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.2", T0), 0);
	/* no room for a third key: admitted, uncounted */
	for (int i = 0; i < 5; i++)
		assert_int_equal(admit_ip(rl, "10.0.0.3", T0), 0);
	assert_int_not_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_equal(rate_limit_keys(rl), 2);
	rate_limit_free(rl);
}

/* ---- collect and apply, with fake sync results ---- */

static void test_collect_and_apply(void **state)
{
	struct rate_limit *rl = new_limit(5, 0, 0);
	struct rl_batch b;
	char key[RL_KEY_MAX];

	(void)state;
	rl_batch_init(&b);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_equal(rate_limit_collect(rl, T0, &b), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.items[0].delta, 2);
	assert_int_equal(b.items[0].window, T0 / WINDOW);
	rl_item_key(&b.items[0], key);
	assert_string_equal(key, "rl:a:10.0.0.1:180000000");
	/* in flight: still counted */
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0); /* 3 */
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0); /* 4 */
	/* Redis says 2 others counted elsewhere: 2 + ours 2 = 4, plus the 2
	 * pending here makes 6 > 5 */
	b.items[0].total = 4;
	rate_limit_apply(rl, &b, true);
	assert_int_not_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	/* the next collect takes the 2 pending; nothing new is pending */
	assert_int_equal(rate_limit_collect(rl, T0, &b), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.items[0].delta, 2);
	b.items[0].total = 6;
	rate_limit_apply(rl, &b, true);
	assert_int_equal(rate_limit_collect(rl, T0, &b), 0);
	assert_int_equal(b.n, 0);
	assert_int_not_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	rl_batch_release(&b);
	rate_limit_free(rl);
}

static void test_failed_sync_drops_counts(void **state)
{
	struct rate_limit *rl = new_limit(2, 0, 0);
	struct rl_batch b;

	(void)state;
	rl_batch_init(&b);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_not_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_equal(rate_limit_collect(rl, T0, &b), 0);
	assert_int_not_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	/* not stored: rather admit too many than count twice */
	rate_limit_apply(rl, &b, false);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	rl_batch_release(&b);
	rate_limit_free(rl);
}

static void test_apply_after_window_moved(void **state)
{
	struct rate_limit *rl = new_limit(3, 0, 0);
	struct rl_batch b;

	(void)state;
	rl_batch_init(&b);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + 9), 0);
	assert_int_equal(rate_limit_collect(rl, T0 + 9, &b), 0);
	assert_int_equal(b.n, 1);
	/* meanwhile the next window began */
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW), 0);
	b.items[0].total = 1000;
	rate_limit_apply(rl, &b, true);
	/* the old window's total does not spill over */
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW), 0);
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW), 0);
	assert_int_not_equal(admit_ip(rl, "10.0.0.1", T0 + WINDOW), 0);
	rl_batch_release(&b);
	rate_limit_free(rl);
}

static void test_many_keys_and_eviction(void **state)
{
	struct rate_limit *rl = new_limit(1, 0, 0);
	struct rl_batch b;
	const int n = 20000;

	(void)state;
	rl_batch_init(&b);
	for (int i = 0; i < n; i++) {
		unsigned char a[4] = {10, (unsigned char)(i >> 16),
		                      (unsigned char)(i >> 8),
		                      (unsigned char)i};

		assert_int_equal(rate_limit_admit(rl, RL_ADDRESS, a, 4, T0), 0);
	}
	assert_int_equal(rate_limit_keys(rl), n);
	for (int i = 0; i < n; i++) {
		unsigned char a[4] = {10, (unsigned char)(i >> 16),
		                      (unsigned char)(i >> 8),
		                      (unsigned char)i};

		assert_int_not_equal(rate_limit_admit(rl, RL_ADDRESS, a, 4, T0),
		                     0);
	}
	assert_int_equal(rate_limit_collect(rl, T0, &b), 0);
	assert_int_equal(b.n, n);
	for (size_t i = 0; i < b.n; i++)
		b.items[i].total = 1;
	rate_limit_apply(rl, &b, true);
	/* still this window: kept */
	assert_int_equal(rate_limit_collect(rl, T0 + 1, &b), 0);
	assert_int_equal(b.n, 0);
	assert_int_equal(rate_limit_keys(rl), n);
	/* half of them come back in the next window */
	for (int i = 0; i < n; i += 2) {
		unsigned char a[4] = {10, (unsigned char)(i >> 16),
		                      (unsigned char)(i >> 8),
		                      (unsigned char)i};

		assert_int_equal(
		        rate_limit_admit(rl, RL_ADDRESS, a, 4, T0 + WINDOW), 0);
	}
	/* the others are dropped; those left are all still found */
	assert_int_equal(rate_limit_collect(rl, T0 + WINDOW, &b), 0);
	assert_int_equal(b.n, n / 2);
	assert_int_equal(rate_limit_keys(rl), n / 2);
	for (int i = 0; i < n; i += 2) {
		unsigned char a[4] = {10, (unsigned char)(i >> 16),
		                      (unsigned char)(i >> 8),
		                      (unsigned char)i};

		assert_int_not_equal(
		        rate_limit_admit(rl, RL_ADDRESS, a, 4, T0 + WINDOW), 0);
	}
	rate_limit_apply(rl, &b, true);
	assert_int_equal(rate_limit_collect(rl, T0 + 3 * WINDOW, &b), 0);
	assert_int_equal(rate_limit_keys(rl), 0);
	rl_batch_release(&b);
	rate_limit_free(rl);
}

static void test_keys_and_ids(void **state)
{
	struct rl_item it = {.window = 42, .kind = RL_ADDRESS, .len = 4};
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct sockaddr other = {.sa_family = AF_UNIX};
	unsigned char id[16];
	char key[RL_KEY_MAX];

	(void)state;
	inet_pton(AF_INET, "192.168.1.20", &in.sin_addr);
	assert_int_equal(rate_limit_address_id((struct sockaddr *)&in, id), 4);
	memcpy(it.id, id, 4);
	rl_item_key(&it, key);
	assert_string_equal(key, "rl:a:192.168.1.20:42");

	inet_pton(AF_INET6, "::ffff:192.168.1.20", &in6.sin6_addr);
	assert_int_equal(rate_limit_address_id((struct sockaddr *)&in6, id), 4);
	assert_memory_equal(id, it.id, 4);

	/* IPv6: counted per /64, whatever the low 64 bits. */
	inet_pton(AF_INET6, "2001:db8:0:1::7", &in6.sin6_addr);
	assert_int_equal(rate_limit_address_id((struct sockaddr *)&in6, id), 8);
	memcpy(it.id, id, 8);
	it.len = 8;
	rl_item_key(&it, key);
	assert_string_equal(key, "rl:a:2001:db8:0:1::/64:42");
	inet_pton(AF_INET6, "2001:db8:0:1:dead:beef:1:2", &in6.sin6_addr);
	assert_int_equal(rate_limit_address_id((struct sockaddr *)&in6, id), 8);
	assert_memory_equal(id, it.id, 8);

	assert_int_equal(rate_limit_address_id(&other, id), 0);
	assert_int_equal(rate_limit_address_id(NULL, id), 0);

	it.kind = RL_USER;
	it.len = 36;
	memcpy(it.id, "7c1f7d2e-5b7a-4d55-9d55-0b6e1a6f0c11", 36);
	rl_item_key(&it, key);
	assert_string_equal(key,
	                    "rl:u:7c1f7d2e-5b7a-4d55-9d55-0b6e1a6f0c11:42");
}

/* ---- the syncer, against a fake store ---- */

static void test_sync_two_processes(void **state)
{
	static struct fake_store f;
	struct rate_limit *a = new_limit(10, 0, 0), *b = new_limit(10, 0, 0);
	struct rate_sync *sa = new_sync(a, &f), *sb = new_sync(b, &f);
	int admitted = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	/* both admit 6 before either syncs: within a process the limit is
	 * exact, across processes they learn at the next sync */
	for (int i = 0; i < 6; i++) {
		assert_int_equal(admit_ip(a, "10.0.0.1", T0), 0);
		assert_int_equal(admit_ip(b, "10.0.0.1", T0), 0);
	}
	assert_int_equal(rate_sync_round(sa, T0, 1000), 0);
	assert_int_equal(rate_sync_round(sb, T0, 1000), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(fake_counter(&f, "rl:a:10.0.0.1:180000000")->value,
	                 12);
	assert_int_equal(f.last_ttl, WINDOW + 2);
	/* b knows the whole budget is spent */
	assert_int_equal(admit_ip(b, "10.0.0.1", T0 + 1), WINDOW - 1);
	/* a still thinks 6: one more, then it learns too */
	assert_int_equal(admit_ip(a, "10.0.0.1", T0 + 1), 0);
	assert_int_equal(rate_sync_round(sa, T0 + 1, 2000), 0);
	assert_int_equal(fake_counter(&f, "rl:a:10.0.0.1:180000000")->value,
	                 13);
	assert_int_not_equal(admit_ip(a, "10.0.0.1", T0 + 1), 0);
	/* the next window: a fresh counter, shared again */
	for (int i = 0; i < 20; i++) {
		if (!admit_ip(a, "10.0.0.1", T0 + WINDOW))
			admitted++;
		if (!admit_ip(b, "10.0.0.1", T0 + WINDOW))
			admitted++;
		assert_int_equal(rate_sync_round(sa, T0 + WINDOW, 3000), 0);
		assert_int_equal(rate_sync_round(sb, T0 + WINDOW, 3000), 0);
	}
	/* syncing after every request, each process is one request of the
	 * other's behind: over by at most that */
	assert_in_range(admitted, 10, 11);
	assert_int_equal(f.n, 2);
	assert_int_equal(fake_counter(&f, "rl:a:10.0.0.1:180000001")->value,
	                 admitted);
	rate_sync_free(sa);
	rate_sync_free(sb);
	rate_limit_free(a);
	rate_limit_free(b);
}

static void test_sync_live_state(void **state)
{
	static struct fake_store f;
	struct rate_limit *rl = NULL;
	struct rate_limit_options o = {.window_s = WINDOW, .limit = {1, 1}};
	struct rate_sync *s;
	uint64_t ns = 5000000000ull;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(rate_limit_new(&o, &rl), 0);
	s = new_sync(rl, &f);
	/* not live before the store has answered */
	assert_false(rate_limit_live(rl));
	assert_true(live_gauge() == 0);
	assert_int_equal(rate_sync_round(s, T0, ns), 0);
	assert_int_equal(f.pings, 1);
	assert_true(rate_limit_live(rl));
	assert_true(live_gauge() == 1);
	/* idle and live: a ping once a second, not every round */
	assert_int_equal(rate_sync_round(s, T0, ns + 100000000ull), 0);
	assert_int_equal(f.pings, 1);
	assert_int_equal(rate_sync_round(s, T0, ns + 1000000000ull), 0);
	assert_int_equal(f.pings, 2);
	/* the store goes away: the push fails, the limits fail open */
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	f.fail = SHOP_EUNAVAIL;
	assert_int_equal(rate_sync_round(s, T0, ns + 1100000000ull),
	                 SHOP_EUNAVAIL);
	assert_int_equal(f.pushes, 1);
	assert_false(rate_limit_live(rl));
	assert_true(live_gauge() == 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	/* while down, every round asks again */
	assert_int_equal(rate_sync_round(s, T0, ns + 1200000000ull),
	                 SHOP_EUNAVAIL);
	assert_int_equal(f.pings, 3);
	/* back: live again, counting from what the store has */
	f.fail = 0;
	assert_int_equal(rate_sync_round(s, T0, ns + 1300000000ull), 0);
	assert_true(rate_limit_live(rl));
	assert_int_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	assert_int_not_equal(admit_ip(rl, "10.0.0.1", T0), 0);
	rate_sync_free(s);
	rate_limit_free(rl);
}

/* ---- workers and the syncer thread at once ---- */

#define THREADS      4
#define PER_THREAD   5000
#define SHARED_LIMIT 3000

struct hammer {
	struct rate_limit *rl;
	atomic_int admitted;
	atomic_bool go;
	atomic_int done;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;

	while (!atomic_load(&h->go))
		;
	for (int i = 0; i < PER_THREAD; i++) {
		unsigned char other[4] = {10, 1, (unsigned char)(i >> 8),
		                          (unsigned char)i};

		if (!admit_ip(h->rl, "10.0.0.9", T0))
			atomic_fetch_add(&h->admitted, 1);
		rate_limit_admit(h->rl, RL_ADDRESS, other, 4, T0);
	}
	atomic_fetch_add(&h->done, 1);
	return NULL;
}

static void test_threads_exact_in_process(void **state)
{
	static struct fake_store f;
	struct hammer h = {.rl = new_limit(SHARED_LIMIT, 0, 0)};
	struct rate_sync *s = new_sync(h.rl, &f);
	pthread_t t[THREADS];

	(void)state;
	memset(&f, 0, sizeof(f));
	atomic_init(&h.admitted, 0);
	atomic_init(&h.go, false);
	atomic_init(&h.done, 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h),
		                 0);
	atomic_store(&h.go, true);
	/* the syncer runs all along: collects while the workers add keys,
	 * grow the stripes and count */
	for (uint64_t r = 0; atomic_load(&h.done) < THREADS; r++)
		rate_sync_round(s, T0, 1000 + r);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	rate_sync_round(s, T0, 2000);
	/* one process: exactly the limit, whatever the syncer did meanwhile */
	assert_int_equal(atomic_load(&h.admitted), SHARED_LIMIT);
	assert_int_equal(fake_counter(&f, "rl:a:10.0.0.9:180000000")->value,
	                 SHARED_LIMIT);
	rate_sync_free(s);
	rate_limit_free(h.rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_limit_and_retry_after),
	        cmocka_unit_test(test_kinds_apart),
	        cmocka_unit_test(test_not_live_fails_open),
	        cmocka_unit_test(test_bad_options),
	        cmocka_unit_test(test_clock_going_back),
	        cmocka_unit_test(test_full_map_admits),
	        cmocka_unit_test(test_collect_and_apply),
	        cmocka_unit_test(test_failed_sync_drops_counts),
	        cmocka_unit_test(test_apply_after_window_moved),
	        cmocka_unit_test(test_many_keys_and_eviction),
	        cmocka_unit_test(test_keys_and_ids),
	        cmocka_unit_test(test_sync_two_processes),
	        cmocka_unit_test(test_sync_live_state),
	        cmocka_unit_test(test_threads_exact_in_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
