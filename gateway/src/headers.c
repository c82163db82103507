#include "headers.h"

#include <string.h>
#include <strings.h>

enum req_header headers_classify_request(const char *name)
{
	switch (strlen(name)) {
	case 4:
		if (!strcasecmp(name, "Host"))
			return REQH_HOST;
		break;
	case 6:
		if (!strcasecmp(name, "Accept") || !strcasecmp(name, "Cookie"))
			return REQH_FORWARD;
		if (!strcasecmp(name, "Origin"))
			return REQH_ORIGIN;
		break;
	case 8:
		if (!strcasecmp(name, "If-Match"))
			return REQH_FORWARD;
		break;
	case 10:
		if (!strcasecmp(name, "User-Agent") ||
		    !strcasecmp(name, "tracestate"))
			return REQH_FORWARD;
		break;
	case 11:
		if (!strcasecmp(name, "traceparent"))
			return REQH_TRACEPARENT;
		break;
	case 12:
		if (!strcasecmp(name, "X-Request-ID"))
			return REQH_REQUEST_ID;
		if (!strcasecmp(name, "Content-Type"))
			return REQH_FORWARD;
		break;
	case 13:
		if (!strcasecmp(name, "Authorization"))
			return REQH_AUTHORIZATION;
		if (!strcasecmp(name, "If-None-Match"))
			return REQH_IF_NONE_MATCH;
		break;
	case 14:
		if (!strcasecmp(name, "Content-Length"))
			return REQH_CONTENT_LENGTH;
		break;
	case 15:
		if (!strcasecmp(name, "Accept-Language") ||
		    !strcasecmp(name, "Idempotency-Key"))
			return REQH_FORWARD;
		break;
	case 17:
		if (!strcasecmp(name, "Transfer-Encoding"))
			return REQH_TRANSFER_ENCODING;
		if (!strcasecmp(name, "If-Modified-Since"))
			return REQH_FORWARD;
		break;
	case 29:
		if (!strcasecmp(name, "Access-Control-Request-Method"))
			return REQH_CORS_METHOD;
		break;
	default:
		break;
	}
	return REQH_OTHER;
}

bool headers_response_passed(const char *name)
{
	size_t len = strlen(name);

	switch (len) {
	case 2:
		return strcasecmp(name, "TE") != 0;
	case 4:
		return strcasecmp(name, "Date") != 0;
	case 7:
		return strcasecmp(name, "Trailer") != 0 &&
		       strcasecmp(name, "Upgrade") != 0;
	case 10:
		return strcasecmp(name, "Connection") != 0 &&
		       strcasecmp(name, "Keep-Alive") != 0;
	case 12:
		return strcasecmp(name, "X-Request-ID") != 0;
	case 14:
		return strcasecmp(name, "Content-Length") != 0;
	case 15:
		return strcasecmp(name, "X-Frame-Options") != 0 &&
		       strcasecmp(name, "Referrer-Policy") != 0;
	case 16:
		return strcasecmp(name, "Proxy-Connection") != 0;
	case 17:
		return strcasecmp(name, "Transfer-Encoding") != 0;
	case 22:
		return strcasecmp(name, "X-Content-Type-Options") != 0 &&
		       strncasecmp(name, "Access-Control-", 15) != 0;
	default:
		/* Access-Control-Max-Age (22) up to -Allow-Credentials (32) */
		return len < 22 ||
		       strncasecmp(name, "Access-Control-", 15) != 0;
	}
}
