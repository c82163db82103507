#include "local_product_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"
#include "shop/util.h"

#define CHANNEL        "product:v1:invalidate"
#define CATEGORIES_MSG "categories"
#define NBUCKETS       1024

struct entry {
	struct entry *next;
	uint64_t expires_ns;
	struct product p; /* strings point into the same allocation */
};

struct local_cache {
	struct product_cache inner;
	struct redis_pool *redis;
	struct redis_subscription *sub;
	uint64_t ttl_ns;
	size_t max_entries;
	atomic_bool live;
	/* Bumped by every invalidation: a fill that raced one is dropped. */
	atomic_uint_fast64_t generation;
	struct metric *hits;

	pthread_rwlock_t lock;
	struct entry *buckets[NBUCKETS];
	size_t nentries;
	struct category *categories; /* one allocation, NULL when none */
	size_t ncategories;
	uint64_t categories_expire_ns;
};

static size_t bucket_of(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % NBUCKETS;
}

/* Under the write lock. */
static void drop_all_locked(struct local_cache *c)
{
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct entry *e = c->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
		c->buckets[i] = NULL;
	}
	c->nentries = 0;
	free(c->categories);
	c->categories = NULL;
	c->ncategories = 0;
}

static void drop(struct local_cache *c, const char *id)
{
	atomic_fetch_add(&c->generation, 1);
	pthread_rwlock_wrlock(&c->lock);
	if (strcmp(id, CATEGORIES_MSG) == 0) {
		free(c->categories);
		c->categories = NULL;
		c->ncategories = 0;
	} else {
		struct entry **pp = &c->buckets[bucket_of(id)];
		while (*pp) {
			if (strcmp((*pp)->p.id, id) == 0) {
				struct entry *e = *pp;
				*pp = e->next;
				free(e);
				c->nentries--;
				break;
			}
			pp = &(*pp)->next;
		}
	}
	pthread_rwlock_unlock(&c->lock);
}

static void on_message(void *arg, const char *msg, size_t len)
{
	char id[40];

	if (len == 0 || len >= sizeof(id))
		return;
	memcpy(id, msg, len);
	id[len] = '\0';
	drop(arg, id);
}

static void on_state(void *arg, bool live)
{
	struct local_cache *c = arg;

	/* Whatever happened while not subscribed is unknown: start empty. */
	atomic_fetch_add(&c->generation, 1);
	pthread_rwlock_wrlock(&c->lock);
	drop_all_locked(c);
	pthread_rwlock_unlock(&c->lock);
	atomic_store(&c->live, live);
	slog_kv(SLOG_INFO, NULL,
	        live ? "local product cache enabled"
	             : "local product cache bypassed: invalidations "
	               "unavailable",
	        SLOG_S("channel", CHANNEL));
}

/* Copies p with its strings into one allocation. */
static struct entry *entry_new(const struct product *p, uint64_t expires_ns)
{
	const char *strs[5] = {p->sku, p->name, p->description, p->category,
	                       p->image_url};
	size_t lens[5], total = sizeof(struct entry);
	struct entry *e;
	char *at;

	for (int i = 0; i < 5; i++) {
		lens[i] = strlen(strs[i]) + 1;
		total += lens[i];
	}
	e = malloc(total);
	if (!e)
		return NULL;
	e->next = NULL;
	e->expires_ns = expires_ns;
	e->p = *p;
	at = (char *)(e + 1);
	const char **dst[5] = {&e->p.sku, &e->p.name, &e->p.description,
	                       &e->p.category, &e->p.image_url};
	for (int i = 0; i < 5; i++) {
		memcpy(at, strs[i], lens[i]);
		*dst[i] = at;
		at += lens[i];
	}
	return e;
}

static void insert(struct local_cache *c, const struct product *p,
                   uint_fast64_t gen)
{
	struct entry *e = entry_new(p, shop_now_ns() + c->ttl_ns);
	size_t b = bucket_of(p->id);

	if (!e)
		return;
	pthread_rwlock_wrlock(&c->lock);
	if (atomic_load(&c->generation) != gen || !atomic_load(&c->live)) {
		pthread_rwlock_unlock(&c->lock);
		free(e); /* an invalidation came in meanwhile */
		return;
	}
	for (struct entry **pp = &c->buckets[b]; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->p.id, p->id) == 0) {
			struct entry *old = *pp;
			e->next = old->next;
			*pp = e;
			free(old);
			pthread_rwlock_unlock(&c->lock);
			return;
		}
	}
	if (c->nentries >= c->max_entries)
		drop_all_locked(c); /* crude but bounded; the catalog is hot */
	e->next = c->buckets[b];
	c->buckets[b] = e;
	c->nentries++;
	pthread_rwlock_unlock(&c->lock);
}

static int copy_out(struct arena *a, const struct product *src,
                    struct product *out)
{
	struct product p = *src;

	p.sku = arena_strdup(a, src->sku);
	p.name = arena_strdup(a, src->name);
	p.description = arena_strdup(a, src->description);
	p.category = arena_strdup(a, src->category);
	p.image_url = arena_strdup(a, src->image_url);
	if (!p.sku || !p.name || !p.description || !p.category || !p.image_url)
		return SHOP_ENOMEM;
	*out = p;
	return 0;
}

static int local_get(void *self, struct arena *a, const char *id,
                     struct product *out, bool *gone)
{
	struct local_cache *c = self;
	uint_fast64_t gen;
	int rc = SHOP_ENOTFOUND;

	if (!atomic_load(&c->live))
		return c->inner.ops->get(c->inner.self, a, id, out, gone);
	pthread_rwlock_rdlock(&c->lock);
	for (struct entry *e = c->buckets[bucket_of(id)]; e; e = e->next) {
		if (strcmp(e->p.id, id) == 0) {
			if (e->expires_ns > shop_now_ns())
				rc = copy_out(a, &e->p, out);
			break;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	if (rc == 0) {
		*gone = false;
		metric_add(c->hits, 1);
		return 0;
	}
	gen = atomic_load(&c->generation);
	rc = c->inner.ops->get(c->inner.self, a, id, out, gone);
	if (rc == 0 && !*gone)
		insert(c, out, gen);
	return rc;
}

static void publish(struct local_cache *c, const char *msg)
{
	int rc = redis_publish(c->redis, CHANNEL, msg, strlen(msg), NULL);

	if (rc)
		slog_kv(SLOG_WARN, NULL, "cannot publish a cache invalidation",
		        SLOG_S("key", msg), SLOG_S("error", shop_strerror(rc)));
}

static int local_put_if_absent(void *self, const struct product *p)
{
	struct local_cache *c = self;

	return c->inner.ops->put_if_absent(c->inner.self, p);
}

static int local_put(void *self, const struct product *p)
{
	struct local_cache *c = self;
	int rc = c->inner.ops->put(c->inner.self, p);

	drop(c, p->id);
	publish(c, p->id);
	return rc;
}

static int local_mark_deleted(void *self, const char *id)
{
	struct local_cache *c = self;
	int rc = c->inner.ops->mark_deleted(c->inner.self, id);

	drop(c, id);
	publish(c, id);
	return rc;
}

static int local_get_categories(void *self, struct arena *a,
                                struct category_list *out)
{
	struct local_cache *c = self;
	uint_fast64_t gen;
	int rc = SHOP_ENOTFOUND;

	if (!atomic_load(&c->live))
		return c->inner.ops->get_categories(c->inner.self, a, out);
	pthread_rwlock_rdlock(&c->lock);
	if (c->categories && c->categories_expire_ns > shop_now_ns()) {
		struct category *items =
		        arena_calloc(a, c->ncategories, sizeof(*items));
		rc = items ? 0 : SHOP_ENOMEM;
		for (size_t i = 0; items && i < c->ncategories; i++) {
			items[i] = c->categories[i];
			items[i].slug = arena_strdup(a, c->categories[i].slug);
			items[i].name = arena_strdup(a, c->categories[i].name);
			if (!items[i].slug || !items[i].name)
				rc = SHOP_ENOMEM;
		}
		if (rc == 0) {
			out->items = items;
			out->n = c->ncategories;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	if (rc == 0)
		return 0;
	gen = atomic_load(&c->generation);
	rc = c->inner.ops->get_categories(c->inner.self, a, out);
	if (rc == 0) {
		/* Keep a private copy: slugs and names in one allocation. */
		size_t total = out->n * sizeof(struct category) + 1;
		for (size_t i = 0; i < out->n; i++)
			total += strlen(out->items[i].slug) +
			         strlen(out->items[i].name) + 2;
		struct category *copy = malloc(total);
		if (!copy)
			return 0;
		char *at = (char *)(copy + out->n);
		for (size_t i = 0; i < out->n; i++) {
			size_t ls = strlen(out->items[i].slug) + 1;
			size_t ln = strlen(out->items[i].name) + 1;
			copy[i] = out->items[i];
			memcpy(at, out->items[i].slug, ls);
			copy[i].slug = at;
			at += ls;
			memcpy(at, out->items[i].name, ln);
			copy[i].name = at;
			at += ln;
		}
		pthread_rwlock_wrlock(&c->lock);
		if (atomic_load(&c->generation) == gen &&
		    atomic_load(&c->live)) {
			free(c->categories);
			c->categories = copy;
			c->ncategories = out->n;
			c->categories_expire_ns = shop_now_ns() + c->ttl_ns;
			copy = NULL;
		}
		pthread_rwlock_unlock(&c->lock);
		free(copy);
	}
	return rc;
}

static int local_put_categories(void *self, const struct category_list *l)
{
	struct local_cache *c = self;

	return c->inner.ops->put_categories(c->inner.self, l);
}

static int local_invalidate_categories(void *self)
{
	struct local_cache *c = self;
	int rc = c->inner.ops->invalidate_categories(c->inner.self);

	drop(c, CATEGORIES_MSG);
	publish(c, CATEGORIES_MSG);
	return rc;
}

static const struct product_cache_ops local_ops = {
        .get = local_get,
        .put_if_absent = local_put_if_absent,
        .put = local_put,
        .mark_deleted = local_mark_deleted,
        .get_categories = local_get_categories,
        .put_categories = local_put_categories,
        .invalidate_categories = local_invalidate_categories,
};

struct product_cache local_product_cache_new(struct product_cache inner,
                                             struct redis_pool *redis,
                                             int ttl_s, size_t max_entries)
{
	struct product_cache cache = {NULL, NULL};
	struct local_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return cache;
	c->inner = inner;
	c->redis = redis;
	c->ttl_ns = (uint64_t)ttl_s * 1000000000u;
	c->max_entries = max_entries ? max_entries : 10000;
	atomic_init(&c->live, false);
	atomic_init(&c->generation, 0);
	c->hits = metrics_counter("cache_hits_total", "Product cache hits",
	                          "cache=\"product-local\"");
	if (pthread_rwlock_init(&c->lock, NULL) != 0) {
		free(c);
		return cache;
	}
	if (redis_subscribe(redis, CHANNEL, on_message, on_state, c, &c->sub) !=
	    0) {
		pthread_rwlock_destroy(&c->lock);
		free(c);
		return cache;
	}
	cache.ops = &local_ops;
	cache.self = c;
	return cache;
}

void local_product_cache_free(struct product_cache cache)
{
	struct local_cache *c = cache.self;

	if (!c)
		return;
	redis_subscription_free(c->sub);
	drop_all_locked(c);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}
