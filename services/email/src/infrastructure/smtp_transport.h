#ifndef EMAIL_INFRA_SMTP_TRANSPORT_H
#define EMAIL_INFRA_SMTP_TRANSPORT_H

#include "../core/ports.h"

/*
 * The mail transport on libcurl's SMTP: one easy handle per transport
 * (one transport per sender thread), so the connection to the server is
 * kept and reused between messages. Not thread-safe: one thread per
 * transport.
 */
struct smtp_options {
	/* smtp://host:port (smtps:// for TLS; user:password@ for AUTH).
	 * Borrowed; must outlive the transport; never logged whole. */
	const char *url;
	long connect_timeout_ms;
	long timeout_ms; /* total per message */
};

/* Calls curl_global_init() once, before any thread starts. 0 or
 * SHOP_ERR. */
int smtp_transport_global_init(void);

/* True when url is an smtp:// or smtps:// URL libcurl can parse. */
bool smtp_url_ok(const char *url);

/* Returns the transport (ops NULL when out of memory); free it with
 * smtp_transport_free(). */
struct mail_transport smtp_transport_new(const struct smtp_options *opt);

/* Closes the connection and frees t. Accepts a transport with ops NULL. */
void smtp_transport_free(struct mail_transport t);

#endif
