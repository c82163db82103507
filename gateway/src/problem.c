#include "problem.h"

#include "shop/log.h"

#include <stdio.h>
#include <string.h>

static const struct {
	unsigned status;
	const char *title, *slug;
} statuses[] = {
        {400, "Bad Request", "bad-request"},
        {401, "Unauthorized", "unauthorized"},
        {403, "Forbidden", "forbidden"},
        {404, "Not Found", "not-found"},
        {405, "Method Not Allowed", "method-not-allowed"},
        {408, "Request Timeout", "request-timeout"},
        {413, "Content Too Large", "payload-too-large"},
        {414, "URI Too Long", "uri-too-long"},
        {429, "Too Many Requests", "too-many-requests"},
        {431, "Request Header Fields Too Large", "headers-too-large"},
        {500, "Internal Server Error", "internal"},
        {502, "Bad Gateway", "bad-gateway"},
        {503, "Service Unavailable", "service-unavailable"},
        {504, "Gateway Timeout", "gateway-timeout"},
};

const char *problem_title(unsigned status)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(*statuses); i++)
		if (statuses[i].status == status)
			return statuses[i].title;
	return status >= 500 ? "Server Error" : "Client Error";
}

const char *problem_slug(unsigned status)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(*statuses); i++)
		if (statuses[i].status == status)
			return statuses[i].slug;
	return status >= 500 ? "server-error" : "client-error";
}

size_t problem_body(char *buf, size_t cap, unsigned status, const char *detail)
{
	char esc[512];
	const char *title = problem_title(status);
	int n;

	slog_json_escape(esc, sizeof(esc), detail ? detail : title);
	n = snprintf(buf, cap,
	             "{\"type\":\"/problems/%s\",\"title\":\"%s\","
	             "\"status\":%u,\"detail\":\"%s\"}",
	             problem_slug(status), title, status, esc);
	if (n < 0)
		n = 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}
