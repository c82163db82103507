#include "smtp_transport.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop/error.h"

struct smtp_transport {
	CURL *curl;
	struct smtp_options opt;
	char errbuf[CURL_ERROR_SIZE];
};

/* What the read callback hands to curl. */
struct upload {
	const char *p;
	size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems;

	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

int smtp_transport_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : SHOP_ERR;
}

bool smtp_url_ok(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	bool ok = false;

	if (!url || (strncmp(url, "smtp://", 7) != 0 &&
	             strncmp(url, "smtps://", 8) != 0))
		return false;
	u = curl_url();
	if (!u)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		ok = host && *host;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* Errors of the connection itself, after which a fresh connection may
 * well work (the server closed the kept one while it was idle). */
static bool connection_error(CURLcode c)
{
	return c == CURLE_SEND_ERROR || c == CURLE_RECV_ERROR ||
	       c == CURLE_GOT_NOTHING || c == CURLE_WEIRD_SERVER_REPLY;
}

static int map_error(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		return SHOP_ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
		return SHOP_EUNAVAIL;
	default:
		return SHOP_ERR;
	}
}

static CURLcode perform(struct smtp_transport *t, struct curl_slist *rcpt,
                        const char *from, const char *raw, size_t len,
                        bool fresh)
{
	char mail_from[300];
	struct upload u = {raw, len};
	CURL *c = t->curl;

	snprintf(mail_from, sizeof(mail_from), "<%s>", from);
	t->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, t->opt.url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 t->opt.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t->opt.timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	return curl_easy_perform(c);
}

static int smtp_send(void *self, const char *from, const char *to,
                     const char *raw, size_t len, char *why, size_t cap)
{
	struct smtp_transport *t = self;
	struct curl_slist *rcpt;
	char addr[300];
	long connects = 0, code = 0;
	CURLcode c;

	snprintf(addr, sizeof(addr), "<%s>", to);
	rcpt = curl_slist_append(NULL, addr);
	if (!rcpt) {
		snprintf(why, cap, "out of memory");
		return SHOP_ENOMEM;
	}
	c = perform(t, rcpt, from, raw, len, false);
	if (c != CURLE_OK && connection_error(c) &&
	    curl_easy_getinfo(t->curl, CURLINFO_NUM_CONNECTS, &connects) ==
	            CURLE_OK &&
	    connects == 0)
		c = perform(t, rcpt, from, raw, len, true); /* was reused */
	curl_slist_free_all(rcpt);
	if (c == CURLE_OK)
		return 0;
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code)
		snprintf(why, cap, "%s (SMTP %ld)",
		         t->errbuf[0] ? t->errbuf : curl_easy_strerror(c),
		         code);
	else
		snprintf(why, cap, "%s",
		         t->errbuf[0] ? t->errbuf : curl_easy_strerror(c));
	return map_error(c);
}

static const struct mail_transport_ops smtp_ops = {.send = smtp_send};

struct mail_transport smtp_transport_new(const struct smtp_options *opt)
{
	struct smtp_transport *t = calloc(1, sizeof(*t));

	if (!t)
		return (struct mail_transport){0};
	t->curl = curl_easy_init();
	if (!t->curl) {
		free(t);
		return (struct mail_transport){0};
	}
	t->opt = *opt;
	return (struct mail_transport){.ops = &smtp_ops, .self = t};
}

void smtp_transport_free(struct mail_transport tr)
{
	struct smtp_transport *t = tr.self;

	if (!tr.ops || !t)
		return;
	curl_easy_cleanup(t->curl);
	free(t);
}
