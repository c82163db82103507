#ifndef SHOP_HTTP_STATUS_H
#define SHOP_HTTP_STATUS_H

/*
 * The problem+json vocabulary of HTTP statuses, shared by the daemons'
 * HTTP server and the gateway (which does not use that server). No I/O,
 * no allocation: both return static strings.
 */

/* The title of a status for problem+json ("Not Found"); a generic
 * "Client Error" / "Server Error" for statuses not in the table. */
const char *http_status_title(unsigned status);

/* The slug of the problem type, as in "/problems/<slug>" ("not-found"). */
const char *http_problem_type(unsigned status);

#endif
