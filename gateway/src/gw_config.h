#ifndef GATEWAY_GW_CONFIG_H
#define GATEWAY_GW_CONFIG_H

#include "cors.h"
#include "router.h"

#include "shop/log.h"

#include <stddef.h>
#include <sys/socket.h>

/* The gateway's settings, all from the environment (gateway/.env.example
 * lists every variable with its default). */
struct gw_config {
	const char *address; /* HTTP_ADDRESS, an IP literal */
	struct sockaddr_storage listen;
	socklen_t listen_len;
	int port;                  /* HTTP_PORT */
	long threads;              /* GATEWAY_THREADS, 0 = cores */
	long max_connections;      /* HTTP_MAX_CONNECTIONS, process-wide */
	long per_ip_connections;   /* HTTP_PER_IP_CONNECTIONS, 0 = off */
	long client_timeout_s;     /* HTTP_TIMEOUT_S, idle client */
	long connection_memory;    /* HTTP_CONNECTION_MEMORY_BYTES */
	long max_body;             /* GATEWAY_MAX_BODY_BYTES */
	long max_response;         /* GATEWAY_MAX_RESPONSE_BYTES */
	long connect_timeout_ms;   /* GATEWAY_CONNECT_TIMEOUT_MS */
	long response_timeout_ms;  /* GATEWAY_RESPONSE_TIMEOUT_MS */
	long upstream_keepalive;   /* GATEWAY_UPSTREAM_KEEPALIVE */
	long upstream_idle_ms;     /* GATEWAY_UPSTREAM_IDLE_TIMEOUT_MS */
	long health_interval_ms;   /* GATEWAY_HEALTH_INTERVAL_MS */
	long health_timeout_ms;    /* GATEWAY_HEALTH_TIMEOUT_MS */
	long shutdown_timeout_ms;  /* GATEWAY_SHUTDOWN_TIMEOUT_MS */
	long spin_us;              /* GATEWAY_SPIN_US */
	const char *static_dir;    /* STATIC_DIR */
	enum slog_level log_level; /* LOG_LEVEL */
	const char *upstreams[SVC_COUNT]; /* <SVC>_UPSTREAMS, "" = none */
	const char *jwt_public_key_file;  /* JWT_PUBLIC_KEY_FILE */
	const char *jwt_issuer;           /* JWT_ISSUER */
	const char *jwt_audience;         /* JWT_AUDIENCE */
	const char *redis_url;            /* REDIS_URL */
	long rate_limit_window_s;         /* RATE_LIMIT_WINDOW_S */
	long rate_limit_per_address;      /* RATE_LIMIT_PER_ADDRESS, 0 = off */
	long rate_limit_per_user;         /* RATE_LIMIT_PER_USER, 0 = off */
	long rate_limit_sync_ms;          /* RATE_LIMIT_SYNC_MS */
	const char *cors_origins;         /* CORS_ORIGINS, as given */
	struct cors cors;                 /* CORS_ORIGINS, parsed */
};

/*
 * Reads every variable into c. A value it cannot use is reported with one
 * line naming the variable; all are checked before it returns SHOP_EINVAL.
 * Returns 0 otherwise.
 */
int gw_config_load(struct gw_config *c);

#endif
