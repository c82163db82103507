#include "curl_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct upload {
	const char *p;
	size_t left;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct cc_reply *r = arg;
	char *nb = realloc(r->body, r->len + size * n + 1);

	if (!nb)
		return 0;
	memcpy(nb + r->len, p, size * n);
	r->body = nb;
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct cc_reply *r = arg;

	if (size * n > 5 && strncmp(p, "HTTP/", 5) == 0)
		r->hlen = 0; /* a "100 Continue" came first */
	if (r->hlen + size * n < sizeof(r->headers)) {
		memcpy(r->headers + r->hlen, p, size * n);
		r->hlen += size * n;
		r->headers[r->hlen] = '\0';
	}
	return size * n;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t k = size * n < u->left ? size * n : u->left;

	memcpy(buf, u->p, k);
	u->p += k;
	u->left -= k;
	return k;
}

CURLcode cc_request(CURL *curl, int port, const struct cc_call *in,
                    struct cc_reply *out)
{
	struct curl_slist *hdrs = NULL;
	struct upload up = {in->body, in->body ? strlen(in->body) : 0};
	char url[1024];
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, in->path);
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, in->method);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	for (size_t i = 0; i < 4 && in->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, in->headers[i]);
	if (in->body && in->chunked) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(curl, CURLOPT_READDATA, &up);
		hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
	} else if (in->body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, in->body);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(hdrs);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	if (out->body)
		out->json = json_loads(out->body, 0, NULL);
	return rc;
}

void cc_reply_release(struct cc_reply *r)
{
	free(r->body);
	json_decref(r->json);
	r->body = NULL;
	r->json = NULL;
}

const char *cc_header(const struct cc_reply *r, const char *name, char *buf,
                      size_t cap)
{
	size_t n = strlen(name);

	for (const char *l = r->headers; *l;) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1 + strspn(l + n + 1, " ");
			snprintf(buf, cap, "%.*s", (int)strcspn(v, "\r\n"), v);
			return buf;
		}
		l = strchr(l, '\n');
		if (!l)
			break;
		l++;
	}
	return NULL;
}

const char *cc_json_string(const struct cc_reply *r, const char *key)
{
	return json_string_value(json_object_get(r->json, key));
}
