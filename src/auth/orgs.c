/*
 * The current org, its members and invites. Every query runs under the request's org context, so
 * another org's members, invites and users are simply absent (404, never 403). Role changes follow
 * one rule set: owners manage everyone, admins manage admins and members, and an org always keeps
 * at least one owner (checked under row locks so two concurrent demotions cannot both pass).
 */
#include "auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/password.h"
#include "authz/authz.h"
#include "base/err.h"
#include "base/json.h"
#include "crypto/hash.h"

int
org_current(struct db_tx *tx, json_t **out)
{
	struct db_res *res = NULL;
	int r;

	*out = NULL;
	if ((r = db_query(tx, "SELECT id, name, " DB_SQL_RFC3339("created_at") ", "
			      "recording_enabled FROM orgs", NULL, &res)) != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND;
	}
	*out = json_packx("{s:s, s:s, s:s, s:b}", "id", db_res_text(res, 0, 0), "name",
	    db_res_text(res, 0, 1), "created_at", db_res_text(res, 0, 2), "recording_enabled",
	    db_res_bool(res, 0, 3));
	db_res_free(res);
	return 0;
}

int
org_rename(struct db_tx *tx, const char *name, const struct audit_actor *who, json_t **out)
{
	struct db_params p;
	json_t *d;
	int r;

	*out = NULL;
	db_params_init(&p);
	db_param_text(&p, name);
	db_param_uuid(&p, db_tx_org(tx));
	r = db_exec_one(tx, "UPDATE orgs SET name = $1 WHERE id = $2", &p);
	db_params_free(&p);
	if (r != 0)
		return r;
	d = json_packx("{s:s}", "name", name);
	{
		char oid[UUID_STR_LEN + 1];

		uuid_format(db_tx_org(tx), oid);
		r = audit_record(tx, who, "ORG_UPDATED", "org", oid, AUDIT_SUCCESS, d);
	}
	json_decref(d);
	if (r != 0)
		return r;
	return org_current(tx, out);
}

int
org_members(struct db_tx *tx, int limit, const char *cursor, json_t **out)
{
	struct db_params p;
	struct db_res *res = NULL;
	json_t *items;
	int r, i, n;

	*out = NULL;
	db_params_init(&p);
	db_param_text(&p, cursor);
	db_param_int(&p, limit + 1);
	r = db_query(tx, "SELECT m.user_id, u.email, u.name, m.org_role, "
			 DB_SQL_RFC3339("m.created_at") " FROM memberships m "
			 "JOIN users u ON u.id = m.user_id "
			 "WHERE ($1::uuid IS NULL OR m.user_id > $1::uuid) "
			 "ORDER BY m.user_id LIMIT $2", &p, &res);
	db_params_free(&p);
	if (r != 0)
		return r;
	items = json_array();
	n = db_page_rows(res, limit);
	for (i = 0; i < n; i++)
		json_array_append_new(items, json_packx("{s:s, s:s, s:s, s:s, s:s}", "user_id",
		    db_res_text(res, i, 0), "email", db_res_text(res, i, 1), "name",
		    db_res_text(res, i, 2), "org_role", db_res_text(res, i, 3), "joined_at",
		    db_res_text(res, i, 4)));
	*out = json_packx("{s:o, s:s?}", "items", items, "next_cursor",
	    db_page_next(res, limit, 0));
	db_res_free(res);
	return 0;
}

static void
make_invite_token(char token[static INVITE_TOKEN_LEN + 1], uint8_t h[static HASH_SHA256_LEN])
{
	size_t n = bearer_token_new(INVITE_TOKEN_PREFIX, token, INVITE_TOKEN_LEN + 1, h);

	VT_ASSERT(n == INVITE_TOKEN_LEN);
}

int
org_invite_create(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const json_t *body, const struct audit_actor *who, json_t **out,
    char err[static AUTH_ERR_MAX])
{
	char email[AUTH_EMAIL_MAX + 1], token[INVITE_TOKEN_LEN + 1], iid[UUID_STR_LEN + 1];
	uint8_t h[HASH_SHA256_LEN];
	const char *role_s = json_get_str(body, "org_role");
	enum org_role role = authz_role_parse(role_s != NULL ? role_s : "member");
	struct db_params prm;
	struct db_res *res = NULL;
	struct vt_uuid id;
	json_t *d = NULL;
	char *url = NULL;
	int r;

	*out = NULL;
	if ((r = auth_email_normalize(json_get_str(body, "email"), email, err)) != 0)
		return r;
	if (role == ORG_ROLE_NONE) {
		snprintf(err, AUTH_ERR_MAX, "field 'org_role': must be owner, admin or member");
		return VT_ERR_VALIDATION;
	}
	if (p->kind != PRINCIPAL_USER || !authz_can_assign_role(p->org_role, role)) {
		snprintf(err, AUTH_ERR_MAX, "your role cannot invite a member as %s",
		    authz_role_str(role));
		return VT_ERR_FORBIDDEN;
	}
	db_params_init(&prm);
	db_param_text(&prm, email);
	r = db_query(tx, "SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id "
			 "WHERE u.email = $1", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) > 0) {
		db_res_free(res);
		snprintf(err, AUTH_ERR_MAX, "this e-mail is already a member of the organization");
		return VT_ERR_CONFLICT;
	}
	db_res_free(res);
	res = NULL;

	make_invite_token(token, h);
	uuid_random(&id);
	uuid_format(&id, iid);
	db_params_init(&prm);
	db_param_uuid(&prm, &id);
	db_param_uuid(&prm, &p->org_id);
	db_param_text(&prm, email);
	db_param_text(&prm, authz_role_str(role));
	db_param_bytes(&prm, h, sizeof(h));
	db_param_uuid(&prm, &p->user_id);
	db_param_int(&prm, INVITE_TTL_S);
	r = db_query(tx, "INSERT INTO invites (id, org_id, email, org_role, token_hash, created_by, "
			 "expires_at) VALUES ($1, $2, $3, $4, $5, $6, "
			 "now() + make_interval(secs => $7)) RETURNING "
			 DB_SQL_RFC3339("expires_at"), &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	d = json_packx("{s:s, s:s}", "email", email, "org_role", authz_role_str(role));
	if ((r = audit_record(tx, who, "INVITE_CREATED", "invite", iid, AUDIT_SUCCESS, d)) != 0)
		goto out;
	/* In the fragment, so the token never reaches a web server's access log. */
	url = xasprintf("%s/invite#token=%s", env->base_url, token);
	*out = json_packx("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", iid, "invite_token", token,
	    "invite_url", url, "email", email, "org_role", authz_role_str(role), "expires_at",
	    db_res_text(res, 0, 0));
	r = 0;
 out:
	sodium_memzero(token, sizeof(token));
	vt_str_wipe_free(url);
	json_decref(d);
	db_res_free(res);
	return r;
}

int
org_invites_list(struct db_tx *tx, json_t **out)
{
	struct db_res *res = NULL;
	json_t *items;
	int r, i;

	*out = NULL;
	if ((r = db_query(tx, "SELECT id, email, org_role, " DB_SQL_RFC3339("created_at") ", "
			      DB_SQL_RFC3339("expires_at") " FROM invites "
			      "WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() "
			      "ORDER BY created_at DESC LIMIT 500", NULL, &res)) != 0)
		return r;
	items = json_array();
	for (i = 0; i < db_res_rows(res); i++)
		json_array_append_new(items, json_packx("{s:s, s:s, s:s, s:s, s:s}", "id",
		    db_res_text(res, i, 0), "email", db_res_text(res, i, 1), "org_role",
		    db_res_text(res, i, 2), "created_at", db_res_text(res, i, 3), "expires_at",
		    db_res_text(res, i, 4)));
	db_res_free(res);
	*out = json_packx("{s:o, s:n}", "items", items, "next_cursor");
	return 0;
}

int
org_invite_revoke(struct db_tx *tx, const struct vt_uuid *id, const struct audit_actor *who)
{
	struct db_params p;
	char iid[UUID_STR_LEN + 1];
	int r;

	db_params_init(&p);
	db_param_uuid(&p, id);
	r = db_exec_one(tx, "UPDATE invites SET revoked_at = now() WHERE id = $1 "
			    "AND accepted_at IS NULL AND revoked_at IS NULL", &p);
	db_params_free(&p);
	if (r != 0)
		return r;
	uuid_format(id, iid);
	return audit_record(tx, who, "INVITE_REVOKED", "invite", iid, AUDIT_SUCCESS, NULL);
}

int
org_invite_accept(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const json_t *body, const struct audit_actor *origin, json_t **out,
    char err[static AUTH_ERR_MAX])
{
	const char *token = json_get_str(body, "invite_token");
	const char *pw = json_get_str(body, "password");
	const char *name = json_get_str(body, "name");
	uint8_t h[HASH_SHA256_LEN];
	char email[AUTH_EMAIL_MAX + 1], role[16], hash[PASSWORD_HASH_MAX];
	char uid[UUID_STR_LEN + 1], iid[UUID_STR_LEN + 1];
	struct vt_uuid invite, org, user;
	struct audit_actor who = *origin;
	struct db_params prm;
	struct db_res *res = NULL;
	json_t *d = NULL;
	char *jwt = NULL, *org_name = NULL, *user_name = NULL;
	int r, exists;

	*out = NULL;
	hash[0] = '\0';
	if (strlen(token) != INVITE_TOKEN_LEN ||
	    strncmp(token, INVITE_TOKEN_PREFIX, strlen(INVITE_TOKEN_PREFIX)) != 0) {
		snprintf(err, AUTH_ERR_MAX, "invite not found, expired or already used");
		return VT_ERR_NOT_FOUND;
	}
	hash_sha256(token, strlen(token), h);
	db_params_init(&prm);
	db_param_bytes(&prm, h, sizeof(h));
	r = db_query(tx, "SELECT invite_id, org_id, email, org_role, vt_email_exists(email) "
			 "FROM vt_invite_lookup($1)", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		snprintf(err, AUTH_ERR_MAX, "invite not found, expired or already used");
		return VT_ERR_NOT_FOUND;
	}
	if ((r = db_res_uuid(res, 0, 0, &invite)) != 0 || (r = db_res_uuid(res, 0, 1, &org)) != 0) {
		db_res_free(res);
		return r;
	}
	snprintf(email, sizeof(email), "%s", db_res_text(res, 0, 2));
	snprintf(role, sizeof(role), "%s", db_res_text(res, 0, 3));
	exists = db_res_bool(res, 0, 4);
	db_res_free(res);
	res = NULL;

	if (p != NULL && p->kind == PRINCIPAL_USER) {
		if (strcmp(p->email, email) != 0) {
			snprintf(err, AUTH_ERR_MAX, "this invite is for a different e-mail address");
			return VT_ERR_FORBIDDEN;
		}
		user = p->user_id;
	} else if (p != NULL) {
		return VT_ERR_FORBIDDEN; /* API tokens do not accept invites */
	} else if (exists) {
		snprintf(err, AUTH_ERR_MAX, "an account with this e-mail exists: log in, then "
					    "accept the invite with your token");
		return VT_ERR_UNAUTHORIZED;
	} else {
		if (pw == NULL) {
			snprintf(err, AUTH_ERR_MAX, "field 'password': is required for a new account");
			return VT_ERR_VALIDATION;
		}
		if ((r = password_check_policy(pw, strlen(pw), err, AUTH_ERR_MAX)) != 0)
			return r;
		if ((r = password_hash(pw, strlen(pw), hash)) != 0)
			return r;
		uuid_random(&user);
	}
	if ((r = db_tx_set_org(tx, &org)) != 0 || (r = db_tx_set_user(tx, &user)) != 0)
		goto out;
	uuid_format(&user, uid);
	uuid_format(&invite, iid);
	who.type = AUDIT_ACTOR_USER;
	who.has_id = 1;
	who.id = user;
	who.email = email;

	/* Claim the invite first: a concurrent second acceptance finds it already used. */
	db_params_init(&prm);
	db_param_uuid(&prm, &invite);
	r = db_exec_one(tx, "UPDATE invites SET accepted_at = now() WHERE id = $1 "
			    "AND accepted_at IS NULL AND revoked_at IS NULL", &prm);
	db_params_free(&prm);
	if (r == VT_ERR_NOT_FOUND)
		snprintf(err, AUTH_ERR_MAX, "invite not found, expired or already used");
	if (r != 0)
		goto out;
	if (p == NULL) {
		db_params_init(&prm);
		db_param_uuid(&prm, &user);
		db_param_text(&prm, email);
		db_param_text(&prm, name != NULL ? name : "");
		db_param_text(&prm, hash);
		db_param_uuid(&prm, &org);
		r = db_query(tx, "INSERT INTO users (id, email, name, password_hash, default_org_id) "
				 "VALUES ($1, $2, $3, $4, $5)", &prm, NULL);
		db_params_free(&prm);
		if (r == VT_ERR_CONFLICT)
			snprintf(err, AUTH_ERR_MAX, "an account with this e-mail already exists");
		if (r != 0)
			goto out;
		if ((r = audit_record(tx, &who, "USER_REGISTERED", "user", uid, AUDIT_SUCCESS,
		    NULL)) != 0)
			goto out;
	}
	db_params_init(&prm);
	db_param_uuid(&prm, &org);
	db_param_uuid(&prm, &user);
	db_param_text(&prm, role);
	r = db_query(tx, "INSERT INTO memberships (org_id, user_id, org_role) VALUES ($1, $2, $3)",
	    &prm, NULL);
	db_params_free(&prm);
	if (r == VT_ERR_CONFLICT)
		snprintf(err, AUTH_ERR_MAX, "you are already a member of this organization");
	if (r != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, &invite);
	db_param_uuid(&prm, &user);
	r = db_exec_one(tx, "UPDATE invites SET accepted_by = $2 WHERE id = $1", &prm);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	d = json_packx("{s:s, s:s}", "invite_id", iid, "org_role", role);
	if ((r = audit_record(tx, &who, "INVITE_ACCEPTED", "user", uid, AUDIT_SUCCESS, d)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, &user);
	r = db_query(tx, "SELECT o.name, u.name FROM orgs o, users u WHERE u.id = $1", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	org_name = xstrdup(db_res_text(res, 0, 0));
	user_name = xstrdup(db_res_text(res, 0, 1));
	if ((r = auth_issue_jwt(env, &user, &org, p != NULL ? p->session_exp : 0, &jwt)) != 0)
		goto out;
	{
		char oid[UUID_STR_LEN + 1];

		uuid_format(&org, oid);
		*out = json_packx("{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:s}", "token", jwt,
		    "user", "id", uid, "email", email, "name", user_name, "org", "id", oid, "name",
		    org_name, "org_role", role);
	}
	r = 0;
 out:
	sodium_memzero(hash, sizeof(hash));
	vt_str_wipe_free(jwt);
	free(org_name);
	free(user_name);
	json_decref(d);
	db_res_free(res);
	return r;
}

/* Locks and counts the org's owners. */
static int
count_owners(struct db_tx *tx, int *n)
{
	struct db_res *res = NULL;
	int r;

	*n = 0;
	if ((r = db_query(tx, "SELECT user_id FROM memberships WHERE org_role = 'owner' FOR UPDATE",
	    NULL, &res)) != 0)
		return r;
	*n = db_res_rows(res);
	db_res_free(res);
	return 0;
}

static int
load_member_role(struct db_tx *tx, const struct vt_uuid *user, enum org_role *role)
{
	struct db_params p;
	struct db_res *res = NULL;
	int r;

	*role = ORG_ROLE_NONE;
	db_params_init(&p);
	db_param_uuid(&p, user);
	r = db_query(tx, "SELECT org_role FROM memberships WHERE user_id = $1 FOR UPDATE", &p,
	    &res);
	db_params_free(&p);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND;
	}
	*role = authz_role_parse(db_res_text(res, 0, 0));
	db_res_free(res);
	return *role == ORG_ROLE_NONE ? VT_ERR_INTERNAL : 0;
}

int
org_member_set_role(struct db_tx *tx, const struct principal *p, const struct vt_uuid *user,
    const char *role_s, const struct audit_actor *who, char err[static AUTH_ERR_MAX])
{
	enum org_role role = authz_role_parse(role_s), old;
	char uid[UUID_STR_LEN + 1];
	struct db_params prm;
	json_t *d;
	int r, owners;

	if (role == ORG_ROLE_NONE) {
		snprintf(err, AUTH_ERR_MAX, "field 'org_role': must be owner, admin or member");
		return VT_ERR_VALIDATION;
	}
	if ((r = count_owners(tx, &owners)) != 0 || (r = load_member_role(tx, user, &old)) != 0)
		return r;
	if (p->kind != PRINCIPAL_USER || !authz_can_assign_role(p->org_role, old) ||
	    !authz_can_assign_role(p->org_role, role)) {
		snprintf(err, AUTH_ERR_MAX, "your role cannot change a %s into a %s",
		    authz_role_str(old), authz_role_str(role));
		return VT_ERR_FORBIDDEN;
	}
	if (old == role)
		return 0;
	if (old == ORG_ROLE_OWNER && owners <= 1) {
		snprintf(err, AUTH_ERR_MAX, "the last owner cannot be demoted; make someone else an "
					    "owner first");
		return VT_ERR_CONFLICT;
	}
	db_params_init(&prm);
	db_param_text(&prm, authz_role_str(role));
	db_param_uuid(&prm, user);
	r = db_exec_one(tx, "UPDATE memberships SET org_role = $1 WHERE user_id = $2", &prm);
	db_params_free(&prm);
	if (r != 0)
		return r;
	uuid_format(user, uid);
	d = json_packx("{s:s, s:s}", "from", authz_role_str(old), "to", authz_role_str(role));
	r = audit_record(tx, who, "MEMBER_ROLE_CHANGED", "user", uid, AUDIT_SUCCESS, d);
	json_decref(d);
	return r;
}

int
org_member_remove(struct db_tx *tx, const struct principal *p, const struct vt_uuid *user,
    const struct audit_actor *who, char err[static AUTH_ERR_MAX])
{
	enum org_role old;
	char uid[UUID_STR_LEN + 1];
	struct db_params prm;
	json_t *d;
	int r, owners, self;

	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	self = uuid_eq(&p->user_id, user);
	if (!self && authz_org_check(p, ORG_PERM_MANAGE_MEMBERS) != 0)
		return VT_ERR_FORBIDDEN;
	if ((r = count_owners(tx, &owners)) != 0 || (r = load_member_role(tx, user, &old)) != 0)
		return r;
	if (!self && !authz_can_assign_role(p->org_role, old)) {
		snprintf(err, AUTH_ERR_MAX, "your role cannot remove a %s", authz_role_str(old));
		return VT_ERR_FORBIDDEN;
	}
	if (old == ORG_ROLE_OWNER && owners <= 1) {
		snprintf(err, AUTH_ERR_MAX, "the last owner cannot be removed");
		return VT_ERR_CONFLICT;
	}
	db_params_init(&prm);
	db_param_uuid(&prm, user);
	r = db_exec_one(tx, "DELETE FROM memberships WHERE user_id = $1", &prm);
	db_params_free(&prm);
	if (r != 0)
		return r;
	uuid_format(user, uid);
	d = json_packx("{s:s, s:b}", "org_role", authz_role_str(old), "self", self);
	r = audit_record(tx, who, "MEMBER_REMOVED", "user", uid, AUDIT_SUCCESS, d);
	json_decref(d);
	return r;
}
