#include "shop/http_status.h"

#include <stddef.h>

struct status_info {
	unsigned status;
	const char *title;
	const char *slug;
};

static const struct status_info statuses[] = {
        {400, "Bad Request", "bad-request"},
        {401, "Unauthorized", "unauthorized"},
        {403, "Forbidden", "forbidden"},
        {404, "Not Found", "not-found"},
        {405, "Method Not Allowed", "method-not-allowed"},
        {406, "Not Acceptable", "not-acceptable"},
        {408, "Request Timeout", "request-timeout"},
        {409, "Conflict", "conflict"},
        {411, "Length Required", "length-required"},
        {413, "Content Too Large", "payload-too-large"},
        {414, "URI Too Long", "uri-too-long"},
        {415, "Unsupported Media Type", "unsupported-media-type"},
        {422, "Unprocessable Content", "unprocessable"},
        {429, "Too Many Requests", "too-many-requests"},
        {431, "Request Header Fields Too Large", "headers-too-large"},
        {500, "Internal Server Error", "internal"},
        {502, "Bad Gateway", "bad-gateway"},
        {503, "Service Unavailable", "service-unavailable"},
        {504, "Gateway Timeout", "gateway-timeout"},
};

static const struct status_info *find(unsigned status)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(*statuses); i++) {
		if (statuses[i].status == status)
			return &statuses[i];
	}
	return NULL;
}

const char *http_status_title(unsigned status)
{
	const struct status_info *s = find(status);

	return s ? s->title : status >= 500 ? "Server Error" : "Client Error";
}

const char *http_problem_type(unsigned status)
{
	const struct status_info *s = find(status);

	return s ? s->slug : status >= 500 ? "server-error" : "client-error";
}
