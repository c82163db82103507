#include "gw_config.h"

#include "shop/config.h"
#include "shop/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static void reject(const char *var, const char *value, const char *want)
{
	slog_kv(SLOG_ERROR, NULL, "invalid configuration",
	        SLOG_S("variable", var), SLOG_S("value", value),
	        SLOG_S("expected", want));
}

static int listen_address(struct gw_config *c)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&c->listen;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&c->listen;

	memset(&c->listen, 0, sizeof(c->listen));
	if (inet_pton(AF_INET, c->address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)c->port);
		c->listen_len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, c->address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)c->port);
		c->listen_len = sizeof(*v6);
		return 0;
	}
	reject("HTTP_ADDRESS", c->address, "an IPv4 or IPv6 address");
	return SHOP_EINVAL;
}

int gw_config_load(struct gw_config *c)
{
	const char *level = NULL;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	bad |= config_required_string("HTTP_ADDRESS", "0.0.0.0", &c->address);
	bad |= config_port("HTTP_PORT", 9000, &c->port);
	bad |= config_long("GATEWAY_THREADS", 0, 0, 256, &c->threads);
	bad |= config_long("HTTP_MAX_CONNECTIONS", 4096, 1, 1000000,
	                   &c->max_connections);
	bad |= config_long("HTTP_PER_IP_CONNECTIONS", 256, 0, 1000000,
	                   &c->per_ip_connections);
	bad |= config_long("HTTP_TIMEOUT_S", 30, 1, 3600, &c->client_timeout_s);
	bad |= config_long("HTTP_CONNECTION_MEMORY_BYTES", 16384, 4096,
	                   16 * 1024 * 1024, &c->connection_memory);
	bad |= config_long("GATEWAY_MAX_BODY_BYTES", 1048576, 0,
	                   256L * 1024 * 1024, &c->max_body);
	bad |= config_long("GATEWAY_MAX_RESPONSE_BYTES", 8L * 1024 * 1024, 1024,
	                   1024L * 1024 * 1024, &c->max_response);
	bad |= config_long("GATEWAY_CONNECT_TIMEOUT_MS", 100, 1, 60000,
	                   &c->connect_timeout_ms);
	bad |= config_long("GATEWAY_RESPONSE_TIMEOUT_MS", 10000, 1, 3600000,
	                   &c->response_timeout_ms);
	bad |= config_long("GATEWAY_UPSTREAM_KEEPALIVE", 64, 0, 100000,
	                   &c->upstream_keepalive);
	bad |= config_long("GATEWAY_UPSTREAM_IDLE_TIMEOUT_MS", 10000, 100,
	                   3600000, &c->upstream_idle_ms);
	bad |= config_long("GATEWAY_HEALTH_INTERVAL_MS", 1000, 100, 3600000,
	                   &c->health_interval_ms);
	bad |= config_long("GATEWAY_HEALTH_TIMEOUT_MS", 1000, 1, 60000,
	                   &c->health_timeout_ms);
	bad |= config_long("GATEWAY_SHUTDOWN_TIMEOUT_MS", 8000, 0, 9000,
	                   &c->shutdown_timeout_ms);
	bad |= config_long("GATEWAY_SPIN_US", 0, 0, 1000, &c->spin_us);
	bad |= config_string("STATIC_DIR", "frontend/dist", &c->static_dir);
	bad |= config_string("LOG_LEVEL", "info", &level);
	if (level && slog_level_parse(level, &c->log_level) < 0) {
		reject("LOG_LEVEL", level, "debug, info, warn or error");
		bad = 1;
	}
	for (int s = 0; s < SVC_COUNT; s++)
		bad |= config_string(service_env(s),
		                     service_default_upstreams(s),
		                     &c->upstreams[s]);
	bad |= config_readable_file("JWT_PUBLIC_KEY_FILE",
	                            ".state/dev/secrets/jwt_public.pem",
	                            &c->jwt_public_key_file);
	bad |= config_required_string("JWT_ISSUER", "shop-user",
	                              &c->jwt_issuer);
	bad |= config_required_string("JWT_AUDIENCE", "shop", &c->jwt_audience);
	bad |= config_required_string("REDIS_URL", "redis://127.0.0.1:6379/0",
	                              &c->redis_url);
	bad |= config_long("RATE_LIMIT_WINDOW_S", 10, 1, 86400,
	                   &c->rate_limit_window_s);
	bad |= config_long("RATE_LIMIT_PER_ADDRESS", 2000, 0, 1000000000,
	                   &c->rate_limit_per_address);
	bad |= config_long("RATE_LIMIT_PER_USER", 1000, 0, 1000000000,
	                   &c->rate_limit_per_user);
	bad |= config_long("RATE_LIMIT_SYNC_MS", 100, 10, 10000,
	                   &c->rate_limit_sync_ms);
	bad |= config_string("CORS_ORIGINS", "", &c->cors_origins);
	if (c->cors_origins && cors_parse(&c->cors, c->cors_origins) < 0) {
		reject("CORS_ORIGINS", c->cors_origins,
		       "comma-separated origins, each scheme://host[:port] "
		       "with http or https and no path");
		bad = 1;
	}
	if (!bad && listen_address(c) < 0)
		bad = 1;
	return bad ? SHOP_EINVAL : 0;
}
