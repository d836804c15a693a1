/*
 * /api/ssh: the caller's broker login keys, the org's connection profiles, one-time tickets, and
 * the broker's public address and host key (for clients to pin). Bodies are schema-checked here;
 * broker/profiles.c decides who may do what and does it in the request's transaction. A ticket
 * leaves only in the reply to its own request, after its audit row committed.
 */
#include "api/app.h"

#include <string.h>

#include "authz/authz.h"
#include "base/err.h"
#include "broker/broker.h"
#include "broker/profiles.h"

/* not_found for ids the caller may not see; other errors keep the module's message. */
static int
fail_ssh(struct http_req *req, int r, const char *msg, const char *what)
{
	if (r == VT_ERR_NOT_FOUND && (msg == NULL || msg[0] == '\0'))
		return http_fail(req, r, "no such %s", what);
	if (r == VT_ERR_FORBIDDEN && (msg == NULL || msg[0] == '\0'))
		return http_fail(req, r, "your role or token scopes do not allow this");
	return api_fail_msg(req, r, msg);
}

int
api_ssh_keys_create(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "name", JF_TEXT, 1, 1, 100 },
		{ "public_key", JF_STRING, 1, 1, SSH_PUBKEY_MAX },
	};
	char err[SSH_ERR_MAX] = "";
	struct audit_actor who;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = ssh_key_add(req->tx, &req->principal, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return fail_ssh(req, r, err, "key");
	http_reply_json(req, 201, out);
	return 0;
}

int
api_ssh_keys_list(struct http_req *req)
{
	json_t *out = NULL;
	int r;

	if ((r = ssh_key_list(req->tx, &req->principal, &out)) != 0)
		return fail_ssh(req, r, r == VT_ERR_FORBIDDEN ? "login keys belong to users; an API "
		    "token has none" : NULL, "key");
	http_reply_json(req, 200, out);
	return 0;
}

int
api_ssh_keys_delete(struct http_req *req)
{
	struct audit_actor who;
	struct vt_uuid id;
	int r;

	if ((r = http_param_uuid(req, 0, &id)) != 0)
		return r;
	api_actor(req, &who);
	if ((r = ssh_key_delete(req->tx, &req->principal, &id, &who)) != 0)
		return fail_ssh(req, r, r == VT_ERR_FORBIDDEN ? "login keys belong to users; an API "
		    "token has none" : NULL, "key");
	http_reply_empty(req, 204);
	return 0;
}

int
api_ssh_profiles_create(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "name", JF_TEXT, 1, 1, SSH_PROFILE_NAME_MAX },
		{ "host", JF_TEXT, 1, 1, SSH_HOST_MAX },
		{ "port", JF_INT, 0, 1, 65535 },
		{ "username", JF_TEXT, 1, 1, SSH_USER_MAX },
		{ "credential_secret_id", JF_STRING, 1, 1, 64 },
		{ "host_key", JF_STRING, 0, 0, SSH_PUBKEY_MAX },
	};
	char err[SSH_ERR_MAX] = "";
	struct audit_actor who;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = ssh_profile_create(req->tx, &req->principal, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return fail_ssh(req, r, err, "profile");
	http_reply_json(req, 201, out);
	return 0;
}

int
api_ssh_profiles_list(struct http_req *req)
{
	const char *cursor = http_query(req, "cursor");
	json_t *out = NULL;
	int r, limit;

	if ((r = http_query_limit(req, 100, SSH_PROFILE_LIST_MAX, &limit)) != 0)
		return r;
	if (cursor != NULL && (cursor[0] == '\0' || strlen(cursor) > SSH_PROFILE_NAME_MAX))
		return http_fail(req, VT_ERR_VALIDATION, "query 'cursor': is not a valid cursor");
	r = ssh_profile_list(req->tx, &req->principal, limit, cursor, &out);
	if (r == VT_ERR_VALIDATION)
		return http_fail(req, r, "query 'cursor': is not a valid cursor");
	if (r != 0)
		return fail_ssh(req, r, NULL, "profile");
	http_reply_json(req, 200, out);
	return 0;
}

int
api_ssh_profiles_get(struct http_req *req)
{
	struct vt_uuid id;
	json_t *out = NULL;
	int r;

	if ((r = http_param_uuid(req, 0, &id)) != 0)
		return r;
	if ((r = ssh_profile_get(req->tx, &req->principal, &id, &out)) != 0)
		return fail_ssh(req, r, NULL, "profile");
	http_reply_json(req, 200, out);
	return 0;
}

int
api_ssh_profiles_patch(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "name", JF_TEXT, 0, 1, SSH_PROFILE_NAME_MAX },
		{ "host", JF_TEXT, 0, 1, SSH_HOST_MAX },
		{ "port", JF_INT, 0, 1, 65535 },
		{ "username", JF_TEXT, 0, 1, SSH_USER_MAX },
		{ "credential_secret_id", JF_STRING, 0, 1, 64 },
		{ "host_key", JF_STRING, 0, 0, SSH_PUBKEY_MAX },
	};
	char err[SSH_ERR_MAX] = "";
	struct audit_actor who;
	struct vt_uuid id;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = http_param_uuid(req, 0, &id)) != 0)
		return r;
	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	r = ssh_profile_update(req->tx, &req->principal, &id, body, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return fail_ssh(req, r, err, "profile");
	http_reply_json(req, 200, out);
	return 0;
}

int
api_ssh_profiles_delete(struct http_req *req)
{
	struct audit_actor who;
	struct vt_uuid id;
	int r;

	if ((r = http_param_uuid(req, 0, &id)) != 0)
		return r;
	api_actor(req, &who);
	if ((r = ssh_profile_delete(req->tx, &req->principal, &id, &who)) != 0)
		return fail_ssh(req, r, NULL, "profile");
	http_reply_empty(req, 204);
	return 0;
}

int
api_ssh_tickets_create(struct http_req *req)
{
	static const struct jfield fields[] = {
		{ "profile_id", JF_STRING, 1, 1, 64 },
	};
	struct app *app = req->app;
	char err[SSH_ERR_MAX] = "";
	struct audit_actor who;
	json_t *body = NULL, *out = NULL;
	int r;

	if ((r = http_body_json(req, fields, VT_NELEM(fields), &body)) != 0)
		return r;
	api_actor(req, &who);
	/* Without a broker on this server the ticket is still good for the deployment's broker,
	 * whose address this server does not know: ssh_command is null then. */
	r = ssh_ticket_issue(req->tx, &req->principal, body,
	    app->broker != NULL ? broker_public_host(app->broker) : NULL,
	    app->broker != NULL ? broker_port(app->broker) : 0, &who, &out, err);
	json_decref(body);
	if (r != 0)
		return fail_ssh(req, r, err, "profile");
	http_reply_json(req, 201, out);
	return 0;
}

int
api_ssh_broker(struct http_req *req)
{
	struct app *app = req->app;
	int r;

	if ((r = api_require(req, ORG_PERM_VIEW)) != 0)
		return r;
	if (app->broker == NULL)
		return http_fail(req, VT_ERR_UNAVAILABLE, "the SSH broker is not running on this "
		    "server (SSH_BROKER_PORT=off)");
	http_reply_json(req, 200, json_packx("{s:s, s:i, s:s}", "host",
	    broker_public_host(app->broker), "port", broker_port(app->broker), "host_key",
	    broker_host_public_key(app->broker)));
	return 0;
}
