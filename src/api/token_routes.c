/*
 * /api/tokens: org-owned API tokens, managed by org owners and admins (users only: a token cannot
 * mint or revoke tokens). The token value appears in the creation response and nowhere else.
 */
#include "api/app.h"

#include "authz/authz.h"
#include "base/err.h"

int
api_tokens_create(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "name", JF_TEXT, 1, 1, API_TOKEN_NAME_MAX },
		{ "scopes", JF_STRING_ARRAY, 1, 1, 16 },
		{ "expires_in_seconds", JF_INT, 0, API_TOKEN_MIN_TTL_S, API_TOKEN_MAX_TTL_S },
	};
	char err[AUTH_ERR_MAX] = "";
	struct audit_actor who;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = api_require(req, ORG_PERM_MANAGE_TOKENS)) != 0)
		return r;
	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = apitoken_create(req->tx, &req->principal, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return api_fail_msg(req, r, err);
	http_reply_json(req, 201, out);
	return 0;
}

int
api_tokens_list(struct http_req *req)
{
	json_t *out = NULL;
	int r;

	if ((r = api_require(req, ORG_PERM_MANAGE_TOKENS)) != 0)
		return r;
	if ((r = apitoken_list(req->tx, &out)) != 0)
		return http_fail(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_tokens_revoke(struct http_req *req)
{
	struct audit_actor who;
	struct vt_uuid id;
	int r;

	if ((r = http_param_uuid(req, 0, &id)) != 0)
		return r;
	if ((r = api_require(req, ORG_PERM_MANAGE_TOKENS)) != 0)
		return r;
	api_actor(req, &who);
	if ((r = apitoken_revoke(req->tx, &req->principal, &id, &who)) != 0)
		return http_fail(req, r, r == VT_ERR_NOT_FOUND ? "no such token" : NULL);
	http_reply_empty(req, 204);
	return 0;
}
