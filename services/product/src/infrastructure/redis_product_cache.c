#include "redis_product_cache.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"
#include "shop/log.h"
#include "shop/metrics.h"

#define KEY_PREFIX     "product:v1:"
#define CATEGORIES_KEY KEY_PREFIX "categories"
#define TOMBSTONE      "deleted"
/* Written over the category list by a write: while it stands (a few
 * seconds), a reader that read the counts before the write cannot SET NX
 * its stale list back; readers meanwhile ask the database. */
#define CATEGORIES_STALE       "stale"
#define CATEGORIES_STALE_TTL_S 2
#define PENDING_MAX            256

struct redis_product_cache {
	struct redis_pool *redis;
	int ttl_s;
	struct metric *hits, *misses;
	/* Keys whose write failed while Redis was down: deleted before the
	 * next read. */
	pthread_mutex_t lock;
	char pending[PENDING_MAX][sizeof(KEY_PREFIX) + 40];
	size_t npending;
	bool overflowed;
};

static void product_key(char *buf, size_t cap, const char *id)
{
	snprintf(buf, cap, KEY_PREFIX "%s", id);
}

static void remember(struct redis_product_cache *c, const char *key)
{
	pthread_mutex_lock(&c->lock);
	if (c->npending < PENDING_MAX) {
		snprintf(c->pending[c->npending], sizeof(c->pending[0]), "%s",
		         key);
		c->npending++;
	} else if (!c->overflowed) {
		c->overflowed = true;
		slog_kv(SLOG_WARN, NULL,
		        "cache repair list full: entries may be stale until "
		        "they expire",
		        SLOG_I("ttl_s", c->ttl_s));
	}
	pthread_mutex_unlock(&c->lock);
}

/* Replays remembered invalidations. Returns 0 when nothing is pending. */
static int repair(struct redis_product_cache *c)
{
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	while (c->npending > 0) {
		const char *key = c->pending[c->npending - 1];
		rc = redis_del(c->redis, &key, 1, NULL);
		if (rc)
			break;
		c->npending--;
	}
	if (c->npending == 0)
		c->overflowed = false;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static bool has_pending(struct redis_product_cache *c)
{
	bool any;

	pthread_mutex_lock(&c->lock);
	any = c->npending > 0;
	pthread_mutex_unlock(&c->lock);
	return any;
}

static char *encode(const struct product *p, size_t *len)
{
	json_t *o = json_pack(
	        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "id",
	        p->id, "sku", p->sku, "name", p->name, "description",
	        p->description, "category", p->category, "currency",
	        p->currency, "image_url", p->image_url, "price_cents",
	        (json_int_t)p->price_cents, "stock", (json_int_t)p->stock,
	        "created_at", (json_int_t)p->created_at, "updated_at",
	        (json_int_t)p->updated_at);
	char *s;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s)
		*len = strlen(s);
	return s;
}

static int decode(struct arena *a, const char *buf, size_t len,
                  struct product *out)
{
	json_t *o = json_loadb(buf, len, 0, NULL);
	const char *id, *sku, *name, *desc, *cat, *cur, *img;
	json_int_t price, stock, created, updated;
	struct product p;
	int rc = SHOP_ERR;

	if (!o)
		return SHOP_ERR;
	if (json_unpack(
	            o,
	            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}",
	            "id", &id, "sku", &sku, "name", &name, "description", &desc,
	            "category", &cat, "currency", &cur, "image_url", &img,
	            "price_cents", &price, "stock", &stock, "created_at",
	            &created, "updated_at", &updated) != 0 ||
	    strlen(id) != 36 || strlen(cur) != 3)
		goto out;
	memcpy(p.id, id, 37);
	memcpy(p.currency, cur, 4);
	p.sku = arena_strdup(a, sku);
	p.name = arena_strdup(a, name);
	p.description = arena_strdup(a, desc);
	p.category = arena_strdup(a, cat);
	p.image_url = arena_strdup(a, img);
	p.price_cents = price;
	p.stock = stock;
	p.created_at = (time_t)created;
	p.updated_at = (time_t)updated;
	if (!p.sku || !p.name || !p.description || !p.category ||
	    !p.image_url) {
		rc = SHOP_ENOMEM;
		goto out;
	}
	*out = p;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

static int cache_get(void *self, struct arena *a, const char *id,
                     struct product *out, bool *gone)
{
	struct redis_product_cache *c = self;
	char key[sizeof(KEY_PREFIX) + 40];
	char *val = NULL;
	size_t len = 0;
	int rc;

	if (has_pending(c) && repair(c) != 0)
		return SHOP_EUNAVAIL; /* treat as a miss: repository answers */
	product_key(key, sizeof(key), id);
	rc = redis_get(c->redis, key, &val, &len);
	if (rc) {
		metric_add(c->misses, 1);
		return rc;
	}
	if (len == strlen(TOMBSTONE) && memcmp(val, TOMBSTONE, len) == 0) {
		*gone = true;
		rc = 0;
	} else {
		rc = decode(a, val, len, out);
		if (rc == 0)
			*gone = false;
	}
	free(val);
	metric_add(rc == 0 ? c->hits : c->misses, 1);
	return rc;
}

static int store(struct redis_product_cache *c, const struct product *p,
                 bool only_if_absent)
{
	char key[sizeof(KEY_PREFIX) + 40];
	size_t len = 0;
	char *val = encode(p, &len);
	int rc;

	if (!val)
		return SHOP_ENOMEM;
	product_key(key, sizeof(key), p->id);
	rc = only_if_absent ? redis_set_nx(c->redis, key, val, len, c->ttl_s)
	                    : redis_set(c->redis, key, val, len, c->ttl_s);
	free(val);
	if (rc == SHOP_ECONFLICT)
		rc = 0; /* a writer's newer version is there */
	if (rc && !only_if_absent)
		remember(c, key);
	return rc;
}

static int cache_put_if_absent(void *self, const struct product *p)
{
	struct redis_product_cache *c = self;

	/* Never populate while a repair is pending: it could be stale. */
	if (has_pending(c))
		return SHOP_EUNAVAIL;
	return store(c, p, true);
}

static int cache_put(void *self, const struct product *p)
{
	return store(self, p, false);
}

static int cache_mark_deleted(void *self, const char *id)
{
	struct redis_product_cache *c = self;
	char key[sizeof(KEY_PREFIX) + 40];
	int rc;

	product_key(key, sizeof(key), id);
	rc = redis_set(c->redis, key, TOMBSTONE, strlen(TOMBSTONE), c->ttl_s);
	if (rc)
		remember(c, key);
	return rc;
}

static int cache_get_categories(void *self, struct arena *a,
                                struct category_list *out)
{
	struct redis_product_cache *c = self;
	json_t *arr = NULL;
	struct category *items;
	char *val = NULL;
	size_t len = 0, n;
	int rc;

	if (has_pending(c) && repair(c) != 0)
		return SHOP_EUNAVAIL;
	rc = redis_get(c->redis, CATEGORIES_KEY, &val, &len);
	if (rc)
		return rc;
	if (len == strlen(CATEGORIES_STALE) &&
	    memcmp(val, CATEGORIES_STALE, len) == 0) {
		free(val);
		return SHOP_ENOTFOUND;
	}
	arr = json_loadb(val, len, 0, NULL);
	free(val);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return SHOP_ERR;
	}
	n = json_array_size(arr);
	items = arena_calloc(a, n ? n : 1, sizeof(*items));
	if (!items) {
		json_decref(arr);
		return SHOP_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const char *slug, *name;
		json_int_t count;

		if (json_unpack(json_array_get(arr, i), "[s, s, I]", &slug,
		                &name, &count) != 0) {
			json_decref(arr);
			return SHOP_ERR;
		}
		items[i].slug = arena_strdup(a, slug);
		items[i].name = arena_strdup(a, name);
		items[i].product_count = count;
		if (!items[i].slug || !items[i].name) {
			json_decref(arr);
			return SHOP_ENOMEM;
		}
	}
	json_decref(arr);
	out->items = items;
	out->n = n;
	return 0;
}

static int cache_put_categories(void *self, const struct category_list *l)
{
	struct redis_product_cache *c = self;
	json_t *arr = json_array();
	char *val;
	int rc;

	if (!arr || has_pending(c)) {
		json_decref(arr);
		return SHOP_EUNAVAIL;
	}
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(
		        arr, json_pack("[s, s, I]", l->items[i].slug,
		                       l->items[i].name,
		                       (json_int_t)l->items[i].product_count));
	val = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (!val)
		return SHOP_ENOMEM;
	/* NX: fails while a write's stale marker stands (see above). */
	rc = redis_set_nx(c->redis, CATEGORIES_KEY, val, strlen(val), c->ttl_s);
	free(val);
	return rc == SHOP_ECONFLICT ? 0 : rc;
}

static int cache_invalidate_categories(void *self)
{
	struct redis_product_cache *c = self;
	int rc = redis_set(c->redis, CATEGORIES_KEY, CATEGORIES_STALE,
	                   strlen(CATEGORIES_STALE), CATEGORIES_STALE_TTL_S);

	if (rc)
		remember(c, CATEGORIES_KEY);
	return rc;
}

static const struct product_cache_ops redis_cache_ops = {
        .get = cache_get,
        .put_if_absent = cache_put_if_absent,
        .put = cache_put,
        .mark_deleted = cache_mark_deleted,
        .get_categories = cache_get_categories,
        .put_categories = cache_put_categories,
        .invalidate_categories = cache_invalidate_categories,
};

struct product_cache redis_product_cache_new(struct redis_pool *redis,
                                             int ttl_s)
{
	struct product_cache cache = {NULL, NULL};
	struct redis_product_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return cache;
	c->redis = redis;
	c->ttl_s = ttl_s;
	pthread_mutex_init(&c->lock, NULL);
	c->hits = metrics_counter("cache_hits_total", "Product cache hits",
	                          "cache=\"product\"");
	c->misses =
	        metrics_counter("cache_misses_total", "Product cache misses",
	                        "cache=\"product\"");
	cache.ops = &redis_cache_ops;
	cache.self = c;
	return cache;
}

void redis_product_cache_free(struct product_cache cache)
{
	struct redis_product_cache *c = cache.self;

	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}
