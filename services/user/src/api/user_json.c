#include "user_json.h"

#include "shop/error.h"
#include "shop/json.h"
#include "shop/util.h"

#define NFIELDS(t) (sizeof(t) / sizeof(*(t)))

json_t *user_to_json(const struct user *u)
{
	char created[21];

	shop_time_rfc3339(u->created_at, created);
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", u->id, "email",
	                 u->email, "name", u->name, "role",
	                 user_role_name(u->role), "created_at", created);
}

json_t *user_session_to_json(const struct user_session *s)
{
	json_t *user = user_to_json(&s->user);

	if (!user)
		return NULL;
	/* "o" steals user, even when packing fails. */
	return json_pack("{s:o, s:s, s:s, s:I}", "user", user, "access_token",
	                 s->token.token, "token_type", "Bearer", "expires_in",
	                 (json_int_t)s->token.expires_in);
}

/* The string member name of body, or NULL when absent (types are checked
 * by sjson_check before). */
static const char *member(json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

static const struct sjson_field registration_fields[] = {
        {"email", SJSON_STRING, true},
        {"password", SJSON_STRING, true},
        {"name", SJSON_STRING, true},
};

int user_registration_from_json(json_t *body, struct user_registration *out,
                                struct field_errors *errs)
{
	int rc = sjson_check(body, registration_fields,
	                     NFIELDS(registration_fields), errs);

	if (rc)
		return rc;
	out->email = member(body, "email");
	out->password = member(body, "password");
	out->name = member(body, "name");
	return 0;
}

static const struct sjson_field login_fields[] = {
        {"email", SJSON_STRING, true},
        {"password", SJSON_STRING, true},
};

int user_login_from_json(json_t *body, const char **email,
                         const char **password, struct field_errors *errs)
{
	int rc = sjson_check(body, login_fields, NFIELDS(login_fields), errs);

	if (rc)
		return rc;
	*email = member(body, "email");
	*password = member(body, "password");
	return 0;
}

static const struct sjson_field patch_fields[] = {
        {"name", SJSON_STRING, false},
        {"password", SJSON_STRING, false},
        {"current_password", SJSON_STRING, false},
};

int user_patch_from_json(json_t *body, struct user_patch *out,
                         struct field_errors *errs)
{
	int rc = sjson_check(body, patch_fields, NFIELDS(patch_fields), errs);

	if (rc)
		return rc;
	out->name = member(body, "name");
	out->password = member(body, "password");
	out->current_password = member(body, "current_password");
	return 0;
}
