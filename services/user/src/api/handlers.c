#include "handlers.h"

#include <stdio.h>

#include "shop/error.h"
#include "shop/metrics.h"
#include "user_json.h"

/* Series of the service's own metrics (NULL until user_api_metrics_init:
 * the metric functions accept NULL). */
static struct {
	struct metric *registrations;
	struct metric *login_ok, *login_failed, *login_throttled;
} m;

void user_api_metrics_init(void)
{
	static const char logins_help[] =
	        "Sign-ins by result: ok, failed (wrong email or password), "
	        "throttled (too many failures, password not checked)";

	m.registrations = metrics_counter("user_registrations_total",
	                                  "Accounts created", "");
	m.login_ok = metrics_counter("user_logins_total", logins_help,
	                             "result=\"ok\"");
	m.login_failed = metrics_counter("user_logins_total", logins_help,
	                                 "result=\"failed\"");
	m.login_throttled = metrics_counter("user_logins_total", logins_help,
	                                    "result=\"throttled\"");
}

static struct user_trace trace_of(const struct http_request *req)
{
	return (struct user_trace){.request_id = req->request_id,
	                           .traceparent = req->traceparent};
}

/* Answers that carry a token or an account must not be cached. */
static void no_store(struct http_request *req)
{
	http_add_header(req, "Cache-Control", "no-store");
}

/* The failures every use case shares: the shared mapping (a dependency
 * down or busy is 503 with Retry-After). */
static void respond_failure(struct http_request *req, int rc)
{
	http_respond_error(req, rc, NULL);
}

static void respond_throttled(struct http_request *req, long long retry_after)
{
	char seconds[24];

	snprintf(seconds, sizeof(seconds), "%lld", retry_after);
	http_add_header(req, "Retry-After", seconds);
	http_respond_problem(req, 429,
	                     "too many failed sign-ins for this account; "
	                     "retry in %lld seconds",
	                     retry_after);
}

/* The account behind a valid token is gone: the token is no good. */
static void respond_unknown_account(struct http_request *req)
{
	http_add_header(req, "WWW-Authenticate",
	                "Bearer error=\"invalid_token\"");
	http_respond_problem(req, 401,
	                     "the account of this token no longer exists");
}

static void register_user(struct http_request *req)
{
	struct user_app *app = req->app;
	struct user_registration in = {0};
	struct user_trace t = trace_of(req);
	struct field_errors errs;
	struct user_session s;
	int rc;

	field_errors_init(&errs);
	rc = user_registration_from_json(req->json, &in, &errs);
	if (rc == 0)
		rc = users_register(app->users, req->arena, &t, &in, &errs, &s);
	switch (rc) {
	case 0:
		metric_add(m.registrations, 1);
		no_store(req);
		http_add_header(req, "Location", "/api/users/me");
		http_respond_json(req, 201, user_session_to_json(&s));
		break;
	case SHOP_EINVAL:
		http_respond_invalid(req, "the registration is invalid", &errs);
		break;
	case SHOP_ECONFLICT:
		http_respond_problem(req, 409,
		                     "an account with this email already "
		                     "exists");
		break;
	default:
		respond_failure(req, rc);
		break;
	}
}

static void login(struct http_request *req)
{
	struct user_app *app = req->app;
	struct user_trace t = trace_of(req);
	const char *email = NULL, *password = NULL;
	struct field_errors errs;
	struct user_session s;
	long long retry_after = 0;
	int rc;

	field_errors_init(&errs);
	rc = user_login_from_json(req->json, &email, &password, &errs);
	if (rc == 0)
		rc = users_login(app->users, req->arena, &t, email, password,
		                 &errs, &s, &retry_after);
	switch (rc) {
	case 0:
		metric_add(m.login_ok, 1);
		no_store(req);
		http_respond_json(req, 200, user_session_to_json(&s));
		break;
	case SHOP_EINVAL:
		http_respond_invalid(req, "the sign-in is invalid", &errs);
		break;
	case SHOP_EAUTH:
		metric_add(m.login_failed, 1);
		http_respond_problem(req, 401, "invalid email or password");
		break;
	case USERS_ETHROTTLED:
		metric_add(m.login_throttled, 1);
		respond_throttled(req, retry_after);
		break;
	default:
		respond_failure(req, rc);
		break;
	}
}

static void logout(struct http_request *req)
{
	struct user_app *app = req->app;
	int rc = users_logout(app->users, req->principal->jti,
	                      req->principal->exp);

	switch (rc) {
	case 0:
		http_respond_empty(req, 204);
		break;
	case SHOP_EINVAL:
		http_respond_problem(req, 400,
		                     "this token has no usable id (jti), so it "
		                     "cannot be revoked");
		break;
	case SHOP_EUNAVAIL:
	case SHOP_ETIMEDOUT:
		http_add_header(req, "Retry-After", "1");
		http_respond_problem(req, 503,
		                     "cannot revoke the token now: the "
		                     "revocation store is unavailable; retry "
		                     "later");
		break;
	default:
		respond_failure(req, rc);
		break;
	}
}

static void get_me(struct http_request *req)
{
	struct user_app *app = req->app;
	struct user u;
	int rc = users_get(app->users, req->arena, req->principal->sub, &u);

	if (rc == SHOP_ENOTFOUND) {
		respond_unknown_account(req);
		return;
	}
	if (rc) {
		respond_failure(req, rc);
		return;
	}
	no_store(req);
	http_respond_json(req, 200, user_to_json(&u));
}

static void patch_me(struct http_request *req)
{
	struct user_app *app = req->app;
	struct user_trace t = trace_of(req);
	struct user_patch p = {0};
	struct field_errors errs;
	long long retry_after = 0;
	struct user u;
	int rc;

	field_errors_init(&errs);
	rc = user_patch_from_json(req->json, &p, &errs);
	if (rc == 0)
		rc = users_patch(app->users, req->arena, &t,
		                 req->principal->sub, &p, &errs, &u,
		                 &retry_after);
	switch (rc) {
	case 0:
		no_store(req);
		http_respond_json(req, 200, user_to_json(&u));
		break;
	case SHOP_EINVAL:
		http_respond_invalid(req, "the update is invalid", &errs);
		break;
	case SHOP_ENOTFOUND:
		respond_unknown_account(req);
		break;
	case SHOP_ECONFLICT:
		http_respond_problem(req, 409,
		                     "the password was changed by another "
		                     "request meanwhile; retry");
		break;
	case USERS_ETHROTTLED:
		respond_throttled(req, retry_after);
		break;
	default:
		respond_failure(req, rc);
		break;
	}
}

static void jwks(struct http_request *req)
{
	struct user_app *app = req->app;

	http_add_header(req, "Cache-Control", "public, max-age=300");
	http_respond_raw(req, 200, "application/json", app->jwks,
	                 app->jwks_len);
}

const struct http_route user_routes[] = {
        {"POST", "/api/auth/register", register_user, HTTP_JSON_BODY},
        {"POST", "/api/auth/login", login, HTTP_JSON_BODY},
        {"POST", "/api/auth/logout", logout, HTTP_AUTH},
        {"GET", "/api/users/me", get_me, HTTP_AUTH},
        {"PATCH", "/api/users/me", patch_me, HTTP_AUTH | HTTP_JSON_BODY},
        {"GET", "/.well-known/jwks.json", jwks, 0},
};

const size_t user_nroutes = sizeof(user_routes) / sizeof(*user_routes);
