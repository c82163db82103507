#include "upstream.h"

#include "shop/error.h"
#include "shop/log.h"
#include "shop/util.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

int upstream_parse_hostport(const char *s, size_t len, char *host,
                            size_t hostcap, int *port)
{
	const char *colon;
	const char *h = s;
	size_t hlen;
	char num[8];
	long p;

	if (len == 0)
		return SHOP_EINVAL;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close || close + 1 >= s + len || close[1] != ':')
			return SHOP_EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = NULL;
		for (size_t i = len; i > 0; i--) {
			if (s[i - 1] == ':') {
				colon = s + i - 1;
				break;
			}
		}
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return SHOP_EINVAL; /* none, or an unbracketed IPv6 */
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= hostcap)
		return SHOP_EINVAL;
	for (size_t i = 0; i < hlen; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == ':' || c == '_'))
			return SHOP_EINVAL;
	}
	len -= (size_t)(colon + 1 - s);
	if (len == 0 || len >= sizeof(num))
		return SHOP_EINVAL;
	memcpy(num, colon + 1, len);
	num[len] = '\0';
	if (shop_parse_long(num, 1, 65535, &p) < 0)
		return SHOP_EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)p;
	return 0;
}

void upstream_set_init(struct upstream_set *set)
{
	memset(set, 0, sizeof(*set));
	set->cooldown_ns = (uint64_t)UPSTREAM_COOLDOWN_DEFAULT_MS * 1000000u;
}

bool upstream_mark_down(struct upstream_addr *a, uint64_t now_ns,
                        uint64_t cooldown_ns)
{
	atomic_store_explicit(&a->retry_at, now_ns + cooldown_ns,
	                      memory_order_relaxed);
	return atomic_exchange_explicit(&a->health, UPSTREAM_DOWN,
	                                memory_order_relaxed) != UPSTREAM_DOWN;
}

bool upstream_mark_up(struct upstream_addr *a)
{
	return atomic_exchange_explicit(&a->health, UPSTREAM_UP,
	                                memory_order_relaxed) != UPSTREAM_UP;
}

bool upstream_claim_trial(struct upstream_addr *a, uint64_t now_ns,
                          uint64_t cooldown_ns)
{
	uint64_t at = atomic_load_explicit(&a->retry_at, memory_order_relaxed);

	if (now_ns < at)
		return false;
	return atomic_compare_exchange_strong_explicit(
	        &a->retry_at, &at, now_ns + cooldown_ns, memory_order_relaxed,
	        memory_order_relaxed);
}

static int resolve(struct upstream_addr *a, const char *host, int port)
{
	struct addrinfo hints = {0}, *res = NULL;
	char service[8];
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0 || !res)
		return SHOP_EINVAL;
	memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
	a->salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* The same line config.h's getters write for a value they cannot use. */
static void reject(const char *var, const char *value, const char *want)
{
	slog_kv(SLOG_ERROR, NULL, "invalid configuration",
	        SLOG_S("variable", var), SLOG_S("value", value),
	        SLOG_S("expected", want));
}

int upstream_set_add_list(struct upstream_set *set, enum service_id service,
                          const char *var, const char *list)
{
	const char *p = list;
	size_t first = set->naddrs;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char host[UPSTREAM_NAME_MAX];
		struct upstream_addr *a;
		int port;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (upstream_parse_hostport(p, len, host, sizeof(host),
		                            &port)) {
			reject(var, list,
			       "a comma-separated list of host:port");
			return SHOP_EINVAL;
		}
		if (set->naddrs == UPSTREAM_MAX_ADDRS) {
			reject(var, list,
			       "at most 64 upstream addresses in all");
			return SHOP_EINVAL;
		}
		a = &set->addrs[set->naddrs];
		if (resolve(a, host, port) < 0) {
			reject(var, list, "host names that resolve");
			return SHOP_EINVAL;
		}
		a->service = service;
		snprintf(a->name, sizeof(a->name), "%.*s", (int)len, p);
		atomic_init(&a->health, UPSTREAM_UNKNOWN);
		atomic_init(&a->retry_at, 0);
		set->naddrs++;
		if (!end)
			break;
		p = end + 1;
	}
	set->services[service].first = first;
	set->services[service].count = set->naddrs - first;
	return 0;
}

const char *upstream_health_name(int h)
{
	switch (h) {
	case UPSTREAM_UP:
		return "up";
	case UPSTREAM_DOWN:
		return "down";
	default:
		return "unknown";
	}
}
