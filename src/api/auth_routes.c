/*
 * /api/auth: register, login, TOTP MFA, me, switch-org, accept-invite. Request bodies are checked
 * against a schema first (unknown fields, wrong types and lengths are 400 naming the field).
 */
#include "api/app.h"

#include "auth/password.h"
#include "base/err.h"
#include "crypto/totp.h"

int
api_auth_register(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "email", JF_TEXT, 1, 1, AUTH_EMAIL_MAX },
		{ "password", JF_STRING, 1, 0, PASSWORD_MAX_LEN },
		{ "name", JF_TEXT, 0, 0, AUTH_NAME_MAX },
	};
	struct app *app = req->app;
	char err[AUTH_ERR_MAX] = "";
	struct audit_actor who;
	json_t *body = NULL, *out = NULL;
	int r;

	if (req->principal.kind != PRINCIPAL_NONE)
		return http_fail(req, VT_ERR_CONFLICT, "already authenticated; log out to register "
						       "a new account");
	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = auth_register(&app->env, req->tx, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return api_fail_msg(req, r, err);
	http_reply_json(req, 201, out);
	return 0;
}

int
api_auth_login(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "email", JF_STRING, 1, 1, AUTH_EMAIL_MAX },
		{ "password", JF_STRING, 1, 0, PASSWORD_MAX_LEN },
		{ "totp_code", JF_STRING, 0, 1, 16 },
	};
	struct app *app = req->app;
	char err[AUTH_ERR_MAX] = "";
	struct audit_actor who;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = auth_login(&app->env, req->tx, body, &who, &out, err);
	json_decref(body);
	if (r == VT_ERR_RATE_LIMITED) {
		req->commit_on_error = 1; /* the hit counts */
		return http_fail(req, r, "too many attempts for this account; try again later");
	}
	if (r == VT_ERR_UNAUTHORIZED || r == VT_ERR_MFA_REQUIRED || r == VT_ERR_FORBIDDEN) {
		/* The LOGIN_FAILED row must commit even though the login did not succeed. */
		req->commit_on_error = 1;
		if (r == VT_ERR_UNAUTHORIZED)
			return http_fail(req, r, "wrong e-mail or password");
		if (r == VT_ERR_MFA_REQUIRED)
			return http_fail(req, r, "a valid TOTP code is required (totp_code)");
	}
	if (r != 0)
		return api_fail_msg(req, r, err);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_auth_me(struct http_req *req)
{
	json_t *out = NULL;
	int r;

	if ((r = auth_me(req->tx, &req->principal, &out)) != 0)
		return http_fail(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_auth_switch_org(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "org_id", JF_STRING, 1, 1, 64 },
	};
	struct app *app = req->app;
	struct audit_actor who;
	struct vt_uuid org;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	r = uuid_parse(json_get_str(body, "org_id"), &org);
	json_decref(body);
	if (r != 0)
		return http_fail(req, VT_ERR_VALIDATION, "field 'org_id': must be a UUID");
	if (req->principal.kind != PRINCIPAL_USER)
		return http_fail(req, VT_ERR_FORBIDDEN, "API tokens are bound to one organization");
	api_actor(req, &who);
	if ((r = auth_switch_org(&app->env, req->tx, &req->principal, &org, &who, &out)) != 0)
		return http_fail(req, r, r == VT_ERR_NOT_FOUND ? "no such organization" : NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_auth_totp_enroll(struct http_req *req)
{
	struct app *app = req->app;
	struct audit_actor who;
	json_t *out = NULL;
	int r;

	api_actor(req, &who);
	if ((r = mfa_enroll(&app->env, req->tx, &req->principal, &who, &out)) != 0)
		return http_fail(req, r, r == VT_ERR_CONFLICT ?
			"TOTP is already enabled; disable it first to enrol a new device" :
			r == VT_ERR_FORBIDDEN ? "only user accounts have MFA" : NULL);
	http_reply_json(req, 200, out);
	return 0;
}

typedef int (*mfa_code_fn)(const struct auth_env *, struct db_tx *, const struct principal *,
    const char *, const struct audit_actor *);

/* Confirm and disable share one shape: a {code} body, one MFA call, 204. */
static int
totp_code_action(struct http_req *req, mfa_code_fn fn, const char *conflict_msg)
{
	static const struct jfield fields[] = {
		{ "code", JF_STRING, 1, 1, TOTP_CODE_MAX },
	};
	struct app *app = req->app;
	struct audit_actor who;
	json_t *body = NULL;
	int r;

	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = fn(&app->env, req->tx, &req->principal, json_get_str(body, "code"), &who);
	json_decref(body);
	if (r != 0)
		return api_fail_msg(req, r, r == VT_ERR_VALIDATION ? "field 'code': is not valid" :
			r == VT_ERR_CONFLICT ? conflict_msg : NULL);
	http_reply_empty(req, 204);
	return 0;
}

int
api_auth_totp_confirm(struct http_req *req)
{
	return totp_code_action(req, mfa_confirm, "no TOTP enrolment is in progress");
}

int
api_auth_totp_disable(struct http_req *req)
{
	return totp_code_action(req, mfa_disable, "TOTP is not enabled");
}

int
api_auth_accept_invite(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "invite_token", JF_STRING, 1, 1, 128 },
		{ "password", JF_STRING, 0, 0, PASSWORD_MAX_LEN },
		{ "name", JF_TEXT, 0, 0, AUTH_NAME_MAX },
	};
	struct app *app = req->app;
	char err[AUTH_ERR_MAX] = "";
	struct audit_actor who;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = org_invite_accept(&app->env, req->tx,
	    req->principal.kind != PRINCIPAL_NONE ? &req->principal : NULL, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return api_fail_msg(req, r, err);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_auth_logout(struct http_req *req)
{
	struct audit_actor who;
	int r;

	api_actor(req, &who);
	if ((r = auth_logout(req->tx, &req->principal, &who)) != 0)
		return http_fail(req, r, r == VT_ERR_FORBIDDEN ? "only user sessions log out; "
								 "revoke an API token instead" : NULL);
	http_reply_empty(req, 204);
	return 0;
}

int
api_auth_logout_all(struct http_req *req)
{
	struct audit_actor who;
	int r;

	api_actor(req, &who);
	if ((r = auth_logout_all(req->tx, &req->principal, &who)) != 0)
		return http_fail(req, r, r == VT_ERR_FORBIDDEN ? "only user sessions log out; "
								 "revoke an API token instead" : NULL);
	http_reply_empty(req, 204);
	return 0;
}

int
api_auth_password(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "current_password", JF_STRING, 1, 0, PASSWORD_MAX_LEN },
		{ "new_password", JF_STRING, 1, 0, PASSWORD_MAX_LEN },
		{ "totp_code", JF_STRING, 0, 1, 16 },
	};
	struct app *app = req->app;
	char err[AUTH_ERR_MAX] = "";
	struct audit_actor who;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = auth_change_password(&app->env, req->tx, &req->principal, body, &who, &out, err);
	json_decref(body);
	if (r == VT_ERR_FORBIDDEN || r == VT_ERR_MFA_REQUIRED || r == VT_ERR_RATE_LIMITED) {
		req->commit_on_error = 1; /* the failed attempt (and its rate-limit hit) count */
		if (r == VT_ERR_MFA_REQUIRED)
			return http_fail(req, r, "a valid TOTP code is required (totp_code)");
	}
	if (r != 0)
		return api_fail_msg(req, r, err);
	http_reply_json(req, 200, out);
	return 0;
}
