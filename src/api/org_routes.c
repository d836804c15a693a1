/*
 * /api/orgs/current: the caller's active org, its members and invites. Ids of another org's
 * users or invites are 404 (RLS makes them invisible), never 403.
 */
#include "api/app.h"

#include "authz/authz.h"
#include "base/err.h"
#include "broker/profiles.h"

int
api_orgs_current(struct http_req *req)
{
	json_t *out = NULL;
	int r;

	if ((r = api_require(req, ORG_PERM_VIEW)) != 0)
		return r;
	if ((r = org_current(req->tx, &out)) != 0)
		return http_fail(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

/* PATCH {name?, recording_enabled?}: renaming takes the owner, the recording switch an admin. */
int
api_orgs_rename(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "name", JF_TEXT, 0, 1, AUTH_ORG_NAME_MAX },
		{ "recording_enabled", JF_BOOL, 0, 0, 0 },
	};
	struct audit_actor who;
	const json_t *rec;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = api_require(req, ORG_PERM_VIEW)) != 0)
		return r;
	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	rec = json_null_as_absent(json_object_get(body, "recording_enabled"));
	if (json_get_str(body, "name") == NULL && rec == NULL) {
		json_decref(body);
		return http_fail(req, VT_ERR_VALIDATION, "nothing to change: send name or "
		    "recording_enabled");
	}
	api_actor(req, &who);
	if (rec != NULL) {
		r = ssh_org_recording_set(req->tx, &req->principal, json_is_true(rec), &who);
		if (r == VT_ERR_FORBIDDEN) {
			json_decref(body);
			return http_fail(req, r, "changing recording_enabled needs the admin or owner "
			    "role");
		}
	}
	if (r == 0 && json_get_str(body, "name") != NULL) {
		if ((r = api_require(req, ORG_PERM_MANAGE_ORG)) != 0) {
			json_decref(body);
			return r;
		}
		r = org_rename(req->tx, json_get_str(body, "name"), &who, &out);
	} else if (r == 0) {
		r = org_current(req->tx, &out);
	}
	json_decref(body);
	if (r != 0)
		return http_fail(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_orgs_members(struct http_req *req)
{
	const char *cursor = http_query(req, "cursor");
	json_t *out = NULL;
	int r, limit;

	if ((r = api_require(req, ORG_PERM_LIST_MEMBERS)) != 0)
		return r;
	if ((r = http_query_limit(req, 100, 500, &limit)) != 0)
		return r;
	if (cursor != NULL && !uuid_valid(cursor))
		return http_fail(req, VT_ERR_VALIDATION, "query 'cursor': is not a valid cursor");
	if ((r = org_members(req->tx, limit, cursor, &out)) != 0)
		return http_fail(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_orgs_member_patch(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "org_role", JF_STRING, 1, 1, 16 },
	};
	char err[AUTH_ERR_MAX] = "";
	struct audit_actor who;
	struct vt_uuid user;
	json_t *body = NULL;
	int r;

	if ((r = http_param_uuid(req, 0, &user)) != 0)
		return r;
	if ((r = api_require(req, ORG_PERM_MANAGE_MEMBERS)) != 0)
		return r;
	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = org_member_set_role(req->tx, &req->principal, &user, json_get_str(body, "org_role"),
	    &who, err);
	if (r == 0)
		http_reply_json(req, 200, json_packx("{s:s, s:s}", "user_id", req->params[0],
		    "org_role", json_get_str(body, "org_role")));
	json_decref(body);
	if (r != 0)
		return api_fail_msg(req, r, err);
	return 0;
}

int
api_orgs_member_delete(struct http_req *req)
{
	char err[AUTH_ERR_MAX] = "";
	struct audit_actor who;
	struct vt_uuid user;
	int r;

	if ((r = http_param_uuid(req, 0, &user)) != 0)
		return r;
	if ((r = api_require(req, ORG_PERM_VIEW)) != 0)
		return r;
	api_actor(req, &who);
	if ((r = org_member_remove(req->tx, &req->principal, &user, &who, err)) != 0)
		return api_fail_msg(req, r, err);
	http_reply_empty(req, 204);
	return 0;
}

int
api_orgs_invite_create(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "email", JF_STRING, 1, 1, AUTH_EMAIL_MAX },
		{ "org_role", JF_STRING, 0, 1, 16 },
	};
	struct app *app = req->app;
	char err[AUTH_ERR_MAX] = "";
	struct audit_actor who;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = api_require(req, ORG_PERM_MANAGE_MEMBERS)) != 0)
		return r;
	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = org_invite_create(&app->env, req->tx, &req->principal, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return api_fail_msg(req, r, err);
	http_reply_json(req, 201, out);
	return 0;
}

int
api_orgs_invites_list(struct http_req *req)
{
	json_t *out = NULL;
	int r;

	if ((r = api_require(req, ORG_PERM_MANAGE_MEMBERS)) != 0)
		return r;
	if ((r = org_invites_list(req->tx, &out)) != 0)
		return http_fail(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_orgs_invite_delete(struct http_req *req)
{
	struct audit_actor who;
	struct vt_uuid id;
	int r;

	if ((r = http_param_uuid(req, 0, &id)) != 0)
		return r;
	if ((r = api_require(req, ORG_PERM_MANAGE_MEMBERS)) != 0)
		return r;
	api_actor(req, &who);
	if ((r = org_invite_revoke(req->tx, &id, &who)) != 0)
		return http_fail(req, r, r == VT_ERR_NOT_FOUND ? "no such pending invite" : NULL);
	http_reply_empty(req, 204);
	return 0;
}
