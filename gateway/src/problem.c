#include "problem.h"

#include "shop/http_status.h"
#include "shop/log.h"

#include <stdio.h>
#include <string.h>

const char *problem_title(unsigned status)
{
	return http_status_title(status);
}

const char *problem_slug(unsigned status)
{
	return http_problem_type(status);
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
