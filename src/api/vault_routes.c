/*
 * /api/vault: vaults, vault members, typed secrets, reveal and TOTP codes. Bodies are
 * schema-checked here; the vault module decides access (authz_check) and does the work in the
 * request's transaction. A reveal's reply is built before COMMIT but sent only after it, so a
 * value never leaves unless its SECRET_REVEALED row committed.
 */
#include "api/app.h"

#include "authz/authz.h"
#include "base/err.h"
#include "vault/vault.h"

static int
param_id(struct http_req *req, int idx, struct vt_uuid *u)
{
	return http_param_uuid(req, idx, u);
}

/* not_found for ids the caller may not see; other errors keep the module's message. */
static int
fail_vault(struct http_req *req, int r, const char *msg)
{
	if (r == VT_ERR_NOT_FOUND && (msg == NULL || msg[0] == '\0'))
		return http_fail(req, r, "no such vault or secret");
	if (r == VT_ERR_FORBIDDEN && (msg == NULL || msg[0] == '\0'))
		return http_fail(req, r, "your role on this vault does not allow this");
	return api_fail_msg(req, r, msg);
}

int
api_vaults_create(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "name", JF_TEXT, 1, 1, VAULT_NAME_MAX },
		{ "description", JF_STRING, 0, 0, VAULT_DESC_MAX },
	};
	char err[VAULT_ERR_MAX] = "";
	struct audit_actor who;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = vault_create(req->tx, &req->principal, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return fail_vault(req, r, err);
	http_reply_json(req, 201, out);
	return 0;
}

/* limit (1..SECRET_LIST_MAX, default 100) and an optional UUID cursor. */
static int
page_params(struct http_req *req, int *limit, const char **cursor)
{
	int r;

	*cursor = http_query(req, "cursor");
	if ((r = http_query_limit(req, 100, SECRET_LIST_MAX, limit)) != 0)
		return r;
	if (*cursor != NULL && !uuid_valid(*cursor))
		return http_fail(req, VT_ERR_VALIDATION, "query 'cursor': is not a valid cursor");
	return 0;
}

int
api_vaults_list(struct http_req *req)
{
	const char *cursor;
	json_t *out = NULL;
	int r, limit;

	if ((r = page_params(req, &limit, &cursor)) != 0)
		return r;
	if ((r = vault_list(req->tx, &req->principal, limit, cursor, &out)) != 0)
		return fail_vault(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_vaults_get(struct http_req *req)
{
	struct vt_uuid id;
	json_t *out = NULL;
	int r;

	if ((r = param_id(req, 0, &id)) != 0)
		return r;
	if ((r = vault_get(req->tx, &req->principal, &id, &out)) != 0)
		return fail_vault(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_vaults_patch(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "name", JF_TEXT, 0, 1, VAULT_NAME_MAX },
		{ "description", JF_STRING, 0, 0, VAULT_DESC_MAX },
	};
	char err[VAULT_ERR_MAX] = "";
	struct audit_actor who;
	struct vt_uuid id;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = param_id(req, 0, &id)) != 0)
		return r;
	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = vault_update(req->tx, &req->principal, &id, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return fail_vault(req, r, err);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_vaults_delete(struct http_req *req)
{
	struct audit_actor who;
	struct vt_uuid id;
	int r;

	if ((r = param_id(req, 0, &id)) != 0)
		return r;
	api_actor(req, &who);
	if ((r = vault_delete(req->tx, &req->principal, &id, &who)) != 0)
		return fail_vault(req, r, NULL);
	http_reply_empty(req, 204);
	return 0;
}

int
api_vault_members_list(struct http_req *req)
{
	const char *cursor;
	struct vt_uuid id;
	json_t *out = NULL;
	int r, limit;

	if ((r = param_id(req, 0, &id)) != 0 || (r = page_params(req, &limit, &cursor)) != 0)
		return r;
	if ((r = vault_members(req->tx, &req->principal, &id, limit, cursor, &out)) != 0)
		return fail_vault(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_vault_members_put(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "role", JF_STRING, 1, 1, 16 },
	};
	char err[VAULT_ERR_MAX] = "";
	struct audit_actor who;
	struct vt_uuid id, user;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = param_id(req, 0, &id)) != 0 || (r = param_id(req, 1, &user)) != 0)
		return r;
	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = vault_member_put(req->tx, &req->principal, &id, &user, json_get_str(body, "role"), &who,
	    &out, err);
	json_decref(body);
	if (r != 0)
		return fail_vault(req, r, err);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_vault_members_delete(struct http_req *req)
{
	char err[VAULT_ERR_MAX] = "";
	struct audit_actor who;
	struct vt_uuid id, user;
	int r;

	if ((r = param_id(req, 0, &id)) != 0 || (r = param_id(req, 1, &user)) != 0)
		return r;
	api_actor(req, &who);
	if ((r = vault_member_delete(req->tx, &req->principal, &id, &user, &who, err)) != 0)
		return fail_vault(req, r, err);
	http_reply_empty(req, 204);
	return 0;
}

int
api_secrets_create(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "type", JF_STRING, 1, 1, 32 },
		{ "name", JF_TEXT, 1, 1, SECRET_NAME_MAX },
		{ "fields", JF_OBJECT, 1, 0, 0 },
		{ "inject_only", JF_BOOL, 0, 0, 0 },
		{ "tags", JF_STRING_ARRAY, 0, 0, SECRET_TAGS_MAX },
	};
	struct app *app = req->app;
	char err[VAULT_ERR_MAX] = "";
	struct audit_actor who;
	struct vt_uuid vault;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = param_id(req, 0, &vault)) != 0)
		return r;
	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = secret_create(app->keyring, req->tx, &req->principal, &vault, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return fail_vault(req, r, err);
	http_reply_json(req, 201, out);
	return 0;
}

int
api_secrets_list(struct http_req *req)
{
	const char *cursor;
	struct vt_uuid vault;
	json_t *out = NULL;
	int r, limit;

	if ((r = param_id(req, 0, &vault)) != 0 || (r = page_params(req, &limit, &cursor)) != 0)
		return r;
	if ((r = secret_list(req->tx, &req->principal, &vault, limit, cursor, &out)) != 0)
		return fail_vault(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_secrets_get(struct http_req *req)
{
	struct vt_uuid id;
	json_t *out = NULL;
	int r;

	if ((r = param_id(req, 0, &id)) != 0)
		return r;
	if ((r = secret_get(req->tx, &req->principal, &id, &out)) != 0)
		return fail_vault(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_secrets_put(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "fields", JF_OBJECT, 1, 0, 0 },
		{ "name", JF_TEXT, 0, 1, SECRET_NAME_MAX },
		{ "tags", JF_STRING_ARRAY, 0, 0, SECRET_TAGS_MAX },
		{ "inject_only", JF_BOOL, 0, 0, 0 },
		{ "cas", JF_INT, 0, 0, INT32_MAX }, /* 0 never matches: "create only" */
	};
	struct app *app = req->app;
	char err[VAULT_ERR_MAX] = "";
	struct audit_actor who;
	struct vt_uuid id;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = param_id(req, 0, &id)) != 0)
		return r;
	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = secret_update(app->keyring, req->tx, &req->principal, &id, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return fail_vault(req, r, err);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_secrets_delete(struct http_req *req)
{
	struct audit_actor who;
	struct vt_uuid id;
	int r;

	if ((r = param_id(req, 0, &id)) != 0)
		return r;
	api_actor(req, &who);
	if ((r = secret_delete(req->tx, &req->principal, &id, &who)) != 0)
		return fail_vault(req, r, NULL);
	http_reply_empty(req, 204);
	return 0;
}

int
api_secrets_reveal(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "reason", JF_TEXT, 0, 0, SECRET_REASON_MAX },
	};
	struct app *app = req->app;
	struct audit_actor who;
	struct vt_uuid id;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = param_id(req, 0, &id)) != 0)
		return r;
	/* The body is optional: an empty POST reveals without a reason. */
	if (vbuf_len(req->body) > 0 &&
	    (r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = secret_reveal(app->keyring, req->tx, &req->principal, &id,
	    body != NULL ? json_get_str(body, "reason") : NULL, &who, &out);
	json_decref(body);
	if (r == VT_ERR_FORBIDDEN) {
		req->commit_on_error = 1; /* the refusal is on the audit trail */
		return http_fail(req, r, "this secret is inject-only: it is used by the broker and "
					 "never revealed");
	}
	if (r != 0)
		return fail_vault(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_secrets_totp(struct http_req *req)
{
	struct app *app = req->app;
	struct audit_actor who;
	struct vt_uuid id;
	json_t *out = NULL;
	int r;

	if ((r = param_id(req, 0, &id)) != 0)
		return r;
	api_actor(req, &who);
	r = secret_totp(app->keyring, req->tx, &req->principal, &id, &who, &out);
	if (r == VT_ERR_FORBIDDEN) {
		req->commit_on_error = 1;
		return http_fail(req, r, "this secret is inject-only: no code is generated for a "
					 "reader");
	}
	if (r == VT_ERR_VALIDATION)
		return http_fail(req, r, "this secret is not of type TOTP");
	if (r != 0)
		return fail_vault(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}
