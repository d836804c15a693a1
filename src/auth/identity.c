/*
 * Registration, login, "me" and org switching. Passwords are hashed before any row is written so
 * a slow hash never holds a transaction open longer than needed; unknown e-mails get a dummy
 * verification so timing does not reveal whether an account exists.
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
#include "base/log.h"
#include "base/vtime.h"
#include "crypto/hash.h"

static json_t *
user_json(const struct vt_uuid *id, const char *email, const char *name)
{
	char s[UUID_STR_LEN + 1];

	uuid_format(id, s);
	return json_packx("{s:s, s:s, s:s}", "id", s, "email", email, "name", name);
}

static json_t *
org_json(const struct vt_uuid *id, const char *name)
{
	char s[UUID_STR_LEN + 1];

	uuid_format(id, s);
	return json_packx("{s:s, s:s}", "id", s, "name", name);
}

int
auth_register(const struct auth_env *env, struct db_tx *tx, const json_t *body,
    const struct audit_actor *origin, json_t **out, char err[static AUTH_ERR_MAX])
{
	char email[AUTH_EMAIL_MAX + 1], hash[PASSWORD_HASH_MAX], uid[UUID_STR_LEN + 1];
	const char *pw = json_get_str(body, "password");
	const char *name = json_get_str(body, "name");
	struct vt_uuid user, org;
	struct audit_actor who = *origin;
	struct db_params p;
	char *jwt = NULL, *org_name = NULL;
	int r;

	*out = NULL;
	if (name == NULL)
		name = "";
	if ((r = auth_email_normalize(json_get_str(body, "email"), email, err)) != 0)
		return r;
	if ((r = password_check_policy(pw, strlen(pw), err, AUTH_ERR_MAX)) != 0)
		return r;
	if ((r = password_hash(pw, strlen(pw), hash)) != 0)
		return r;
	uuid_random(&user);
	uuid_random(&org);
	/* "<name>'s org" fits the 200-character org name limit; a longer name is used as is. */
	if (name[0] == '\0')
		org_name = xstrdup(email);
	else if (strlen(name) <= AUTH_ORG_NAME_MAX - 6)
		org_name = xasprintf("%s's org", name);
	else
		org_name = xstrdup(name);

	if ((r = db_tx_set_org(tx, &org)) != 0 || (r = db_tx_set_user(tx, &user)) != 0)
		goto out;
	db_params_init(&p);
	db_param_uuid(&p, &org);
	db_param_text(&p, org_name);
	r = db_query(tx, "INSERT INTO orgs (id, name) VALUES ($1, $2)", &p, NULL);
	db_params_free(&p);
	if (r != 0)
		goto out;
	db_params_init(&p);
	db_param_uuid(&p, &user);
	db_param_text(&p, email);
	db_param_text(&p, name);
	db_param_text(&p, hash);
	db_param_uuid(&p, &org);
	r = db_query(tx, "INSERT INTO users (id, email, name, password_hash, default_org_id) "
			 "VALUES ($1, $2, $3, $4, $5)", &p, NULL);
	db_params_free(&p);
	if (r == VT_ERR_CONFLICT) {
		snprintf(err, AUTH_ERR_MAX, "an account with this e-mail already exists");
		goto out;
	}
	if (r != 0)
		goto out;
	db_params_init(&p);
	db_param_uuid(&p, &org);
	db_param_uuid(&p, &user);
	r = db_query(tx, "INSERT INTO memberships (org_id, user_id, org_role) "
			 "VALUES ($1, $2, 'owner')", &p, NULL);
	db_params_free(&p);
	if (r != 0)
		goto out;

	who.type = AUDIT_ACTOR_USER;
	who.has_id = 1;
	who.id = user;
	who.email = email;
	uuid_format(&user, uid);
	if ((r = audit_record(tx, &who, "USER_REGISTERED", "user", uid, AUDIT_SUCCESS, NULL)) != 0)
		goto out;
	if ((r = auth_issue_jwt(env, &user, &org, 0, &jwt)) != 0)
		goto out;
	*out = json_packx("{s:s, s:o, s:o}", "token", jwt, "user", user_json(&user, email, name),
	    "org", org_json(&org, org_name));
	r = 0;
 out:
	sodium_memzero(hash, sizeof(hash));
	vt_str_wipe_free(jwt);
	free(org_name);
	return r;
}

/* The org a login lands in: the user's default org if still a member, else the oldest. */
static int
login_pick_org(struct db_tx *tx, const struct vt_uuid *dflt, int has_dflt, struct vt_uuid *org,
    char **org_name)
{
	struct db_res *res = NULL;
	struct vt_uuid id;
	int r, i, pick = -1;

	*org_name = NULL;
	if ((r = db_query(tx, "SELECT org_id, name FROM vt_self_orgs()", NULL, &res)) != 0)
		return r;
	for (i = 0; i < db_res_rows(res); i++) {
		if ((r = db_res_uuid(res, i, 0, &id)) != 0)
			goto out;
		if (pick < 0 || (has_dflt && uuid_eq(&id, dflt)))
			pick = i;
	}
	if (pick < 0) {
		r = VT_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = db_res_uuid(res, pick, 0, org)) != 0)
		goto out;
	*org_name = xstrdup(db_res_text(res, pick, 1));
	r = 0;
 out:
	db_res_free(res);
	return r;
}

static int
login_fail(struct db_tx *tx, const struct audit_actor *who, int tenant, const char *reason,
    int ret)
{
	json_t *d = json_packx("{s:s}", "reason", reason);
	struct audit_event ev = {
		.action = "LOGIN_FAILED",
		.actor_type = who->type,
		.actor_id = who->has_id ? &who->id : NULL,
		.actor_email = who->email,
		.resource_type = who->has_id ? "user" : NULL,
		.outcome = AUDIT_FAILURE,
		.source_ip = who->source_ip,
		.request_id = who->request_id,
		.detail = d,
	};
	char uid[UUID_STR_LEN + 1];
	int r;

	if (who->has_id) {
		uuid_format(&who->id, uid);
		ev.resource_id = uid;
	}
	r = tenant ? audit_append(tx, &ev) : audit_append_system(tx, &ev);
	json_decref(d);
	return r != 0 ? r : ret;
}

int
auth_login(const struct auth_env *env, struct db_tx *tx, const json_t *body,
    const struct audit_actor *origin, json_t **out, char err[static AUTH_ERR_MAX])
{
	char email[AUTH_EMAIL_MAX + 1], key[8 + 2 * HASH_SHA256_LEN + 1], uid[UUID_STR_LEN + 1];
	uint8_t h[HASH_SHA256_LEN];
	const char *pw = json_get_str(body, "password");
	const char *code = json_get_str(body, "totp_code");
	struct audit_actor who = *origin;
	struct vt_uuid user, org, dflt;
	struct db_params p;
	struct db_res *res = NULL;
	char *hash = NULL, *org_name = NULL, *jwt = NULL, *name = NULL;
	int r, has_dflt, pw_ok;

	*out = NULL;
	if ((r = auth_email_normalize(json_get_str(body, "email"), email, err)) != 0)
		return r;
	/* Per-account limit, in addition to the per-address one the router applies. */
	hash_sha256(email, strlen(email), h);
	memcpy(key, "email:", 6);
	hex_encode(h, sizeof(h), key + 6);
	if ((r = auth_rate_hit(env, tx, key, env->rate_max, env->rate_window_ms)) != 0)
		return r;

	who.email = email;
	db_params_init(&p);
	db_param_text(&p, email);
	r = db_query(tx, "SELECT user_id, password_hash, default_org_id "
			 "FROM vt_auth_lookup_email($1)", &p, &res);
	db_params_free(&p);
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		password_verify_dummy(pw, strlen(pw));
		r = login_fail(tx, &who, 0, "unknown_account", VT_ERR_UNAUTHORIZED);
		goto out;
	}
	if ((r = db_res_uuid(res, 0, 0, &user)) != 0)
		goto out;
	hash = db_res_isnull(res, 0, 1) ? NULL : xstrdup(db_res_text(res, 0, 1));
	has_dflt = !db_res_isnull(res, 0, 2) && db_res_uuid(res, 0, 2, &dflt) == 0;
	db_res_free(res);
	res = NULL;

	if (hash != NULL) {
		pw_ok = password_verify(hash, pw, strlen(pw)) == 0;
	} else {
		password_verify_dummy(pw, strlen(pw));
		pw_ok = 0;
	}
	who.type = AUDIT_ACTOR_USER;
	who.has_id = 1;
	who.id = user;
	if ((r = db_tx_set_user(tx, &user)) != 0)
		goto out;
	r = login_pick_org(tx, &dflt, has_dflt, &org, &org_name);
	if (r == VT_ERR_NOT_FOUND) {
		r = login_fail(tx, &who, 0, pw_ok ? "no_organization" : "bad_password",
		    pw_ok ? VT_ERR_FORBIDDEN : VT_ERR_UNAUTHORIZED);
		if (r == VT_ERR_FORBIDDEN)
			snprintf(err, AUTH_ERR_MAX, "this account is not a member of any organization");
		goto out;
	}
	if (r != 0 || (r = db_tx_set_org(tx, &org)) != 0)
		goto out;
	if (!pw_ok) {
		r = login_fail(tx, &who, 1, "bad_password", VT_ERR_UNAUTHORIZED);
		goto out;
	}
	if ((r = mfa_check_login(env, tx, &user, code)) != 0) {
		if (r == VT_ERR_MFA_REQUIRED)
			r = login_fail(tx, &who, 1, code == NULL ? "mfa_required" : "mfa_invalid",
			    VT_ERR_MFA_REQUIRED);
		goto out;
	}
	db_params_init(&p);
	db_param_uuid(&p, &user);
	r = db_query(tx, "SELECT name FROM users WHERE id = $1", &p, &res);
	db_params_free(&p);
	if (r != 0 || db_res_rows(res) != 1) {
		r = r != 0 ? r : VT_ERR_INTERNAL;
		goto out;
	}
	name = xstrdup(db_res_text(res, 0, 0));
	uuid_format(&user, uid);
	if ((r = audit_record(tx, &who, "LOGIN_SUCCEEDED", "user", uid, AUDIT_SUCCESS, NULL)) != 0)
		goto out;
	if ((r = auth_issue_jwt(env, &user, &org, 0, &jwt)) != 0)
		goto out;
	*out = json_packx("{s:s, s:o, s:o}", "token", jwt, "user", user_json(&user, email, name),
	    "org", org_json(&org, org_name));
	r = 0;
 out:
	db_res_free(res);
	vt_str_wipe_free(hash);
	vt_str_wipe_free(jwt);
	free(org_name);
	free(name);
	return r;
}

int
auth_me(struct db_tx *tx, const struct principal *p, json_t **out)
{
	struct db_res *res = NULL, *ores = NULL;
	json_t *user = NULL, *orgs = NULL, *org = NULL, *token = NULL;
	char oid[UUID_STR_LEN + 1];
	struct db_params prm;
	struct vt_uuid id;
	uint32_t bit;
	int r, i;

	*out = NULL;
	if ((r = db_query(tx, "SELECT id, name, created_at FROM orgs", NULL, &ores)) != 0)
		return r;
	if (db_res_rows(ores) != 1) {
		r = VT_ERR_UNAUTHORIZED;
		goto out;
	}
	org = json_packx("{s:s, s:s}", "id", db_res_text(ores, 0, 0), "name",
	    db_res_text(ores, 0, 1));
	orgs = json_array();
	if (p->kind == PRINCIPAL_API_TOKEN) {
		json_t *scopes = json_array();

		for (bit = 1; bit != 0 && bit <= SCOPE_SCIM; bit <<= 1)
			if (p->scopes & bit)
				json_array_append_new(scopes, json_string(authz_scope_str(bit)));
		uuid_format(&p->token_id, oid);
		token = json_packx("{s:s, s:s, s:o}", "id", oid, "name", p->token_name, "scopes",
		    scopes);
		*out = json_packx("{s:n, s:O, s:n, s:O, s:O}", "user", "org", org, "org_role",
		    "orgs", orgs, "token", token);
		r = 0;
		goto out;
	}
	db_params_init(&prm);
	db_param_uuid(&prm, &p->user_id);
	r = db_query(tx, "SELECT email, name, totp_enabled FROM users WHERE id = $1", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_UNAUTHORIZED;
		goto out;
	}
	user = user_json(&p->user_id, db_res_text(res, 0, 0), db_res_text(res, 0, 1));
	json_object_set_new(user, "mfa_enabled", json_boolean(db_res_bool(res, 0, 2)));
	db_res_free(res);
	res = NULL;
	if ((r = db_query(tx, "SELECT org_id, name, org_role FROM vt_self_orgs()", NULL, &res)) != 0)
		goto out;
	for (i = 0; i < db_res_rows(res); i++) {
		if ((r = db_res_uuid(res, i, 0, &id)) != 0)
			goto out;
		json_array_append_new(orgs, json_packx("{s:s, s:s, s:s}", "id",
		    db_res_text(res, i, 0), "name", db_res_text(res, i, 1), "org_role",
		    db_res_text(res, i, 2)));
	}
	*out = json_packx("{s:O, s:O, s:s, s:O}", "user", user, "org", org, "org_role",
	    authz_role_str(p->org_role), "orgs", orgs);
	r = 0;
 out:
	db_res_free(res);
	db_res_free(ores);
	json_decref(user);
	json_decref(org);
	json_decref(orgs);
	json_decref(token);
	return r;
}

int
auth_switch_org(const struct auth_env *env, struct db_tx *tx, struct principal *p,
    const struct vt_uuid *org, const struct audit_actor *who, json_t **out)
{
	struct db_res *res = NULL;
	struct db_params prm;
	struct audit_actor a = *who;
	struct vt_uuid id;
	char oid[UUID_STR_LEN + 1], *jwt = NULL;
	int r, i, found = -1;

	*out = NULL;
	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	if ((r = db_query(tx, "SELECT org_id, name FROM vt_self_orgs()", NULL, &res)) != 0)
		return r;
	for (i = 0; i < db_res_rows(res); i++) {
		if (db_res_uuid(res, i, 0, &id) == 0 && uuid_eq(&id, org))
			found = i;
	}
	if (found < 0) {
		r = VT_ERR_NOT_FOUND; /* not a member: indistinguishable from a missing org */
		goto out;
	}
	if ((r = db_tx_set_org(tx, org)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, org);
	db_param_uuid(&prm, &p->user_id);
	r = db_exec_one(tx, "UPDATE users SET default_org_id = $1 WHERE id = $2", &prm);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	uuid_format(org, oid);
	if ((r = audit_record(tx, &a, "ORG_SWITCHED", "org", oid, AUDIT_SUCCESS, NULL)) != 0)
		goto out;
	if ((r = auth_issue_jwt(env, &p->user_id, org, p->session_exp, &jwt)) != 0)
		goto out;
	*out = json_packx("{s:s, s:o}", "token", jwt, "org",
	    org_json(org, db_res_text(res, found, 1)));
	r = 0;
 out:
	db_res_free(res);
	vt_str_wipe_free(jwt);
	return r;
}

int
auth_logout(struct db_tx *tx, const struct principal *p, const struct audit_actor *who)
{
	struct db_params prm;
	char uid[UUID_STR_LEN + 1];
	int r;

	if (p->kind != PRINCIPAL_USER || p->session_id[0] == '\0')
		return VT_ERR_FORBIDDEN;
	db_params_init(&prm);
	db_param_text(&prm, p->session_id);
	db_param_uuid(&prm, &p->user_id);
	db_param_int(&prm, p->session_exp);
	/* Rows of this user's tokens that have expired anyway are dropped on the way. */
	r = db_query(tx, "WITH gone AS (DELETE FROM revoked_sessions WHERE user_id = $2 "
			 "AND expires_at < now()) "
			 "INSERT INTO revoked_sessions (jti, user_id, expires_at) "
			 "VALUES ($1, $2, to_timestamp($3::bigint)) ON CONFLICT (jti) DO NOTHING",
	    &prm, NULL);
	db_params_free(&prm);
	if (r != 0)
		return r;
	uuid_format(&p->user_id, uid);
	return audit_record(tx, who, "LOGOUT", "user", uid, AUDIT_SUCCESS, NULL);
}

/*
 * Ends every session of the user issued before this second (JWT iat has 1 s resolution). The
 * cut-off comes from this server's clock, the same clock that stamps iat, so a skew between the
 * server and the database cannot refuse the token issued right after it.
 */
static int
end_sessions(struct db_tx *tx, const struct vt_uuid *user)
{
	struct db_params prm;
	int r;

	db_params_init(&prm);
	db_param_uuid(&prm, user);
	db_param_int(&prm, vtime_now_us() / 1000000);
	r = db_exec_one(tx, "UPDATE users SET sessions_valid_after = to_timestamp($2::bigint) "
			    "WHERE id = $1", &prm);
	db_params_free(&prm);
	return r;
}

int
auth_logout_all(struct db_tx *tx, const struct principal *p, const struct audit_actor *who)
{
	char uid[UUID_STR_LEN + 1];
	int r;

	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	if ((r = end_sessions(tx, &p->user_id)) != 0)
		return r;
	uuid_format(&p->user_id, uid);
	return audit_record(tx, who, "SESSIONS_REVOKED", "user", uid, AUDIT_SUCCESS, NULL);
}

/* The refused attempt is on the trail (the caller commits despite the error). */
static int
password_change_failed(struct db_tx *tx, const struct audit_actor *who, const char *uid,
    const char *reason)
{
	json_t *d = json_packx("{s:s}", "reason", reason);
	int r = audit_record(tx, who, "PASSWORD_CHANGED", "user", uid, AUDIT_FAILURE, d);

	json_decref(d);
	if (r != 0)
		return r;
	return strncmp(reason, "mfa_", 4) == 0 ? VT_ERR_MFA_REQUIRED : VT_ERR_FORBIDDEN;
}

int
auth_change_password(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const json_t *body, const struct audit_actor *who, json_t **out, char err[static AUTH_ERR_MAX])
{
	const char *cur = json_get_str(body, "current_password");
	const char *next = json_get_str(body, "new_password");
	char hash[PASSWORD_HASH_MAX], uid[UUID_STR_LEN + 1];
	struct db_res *res = NULL;
	struct db_params prm;
	char *jwt = NULL, *old = NULL;
	int r;

	*out = NULL;
	hash[0] = '\0';
	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	uuid_format(&p->user_id, uid);
	/* A stolen session must not be able to guess the current password at leisure. */
	snprintf(hash, sizeof(hash), "pwchange:%s", uid);
	if ((r = auth_rate_hit(env, tx, hash, env->rate_max, env->rate_window_ms)) != 0)
		return r;
	hash[0] = '\0';
	if ((r = password_check_policy(next, strlen(next), err, AUTH_ERR_MAX)) != 0) {
		/* The policy names "password"; this body calls it new_password. */
		snprintf(err, AUTH_ERR_MAX, "field 'new_password': must be %d to %d bytes without NUL",
		    PASSWORD_MIN_LEN, PASSWORD_MAX_LEN);
		return r;
	}
	if ((r = db_query(tx, "SELECT password_hash FROM vt_self_credentials()", NULL, &res)) != 0)
		return r;
	if (db_res_rows(res) == 1 && !db_res_isnull(res, 0, 0))
		old = xstrdup(db_res_text(res, 0, 0));
	db_res_free(res);
	if (old == NULL) {
		password_verify_dummy(cur, strlen(cur));
		r = VT_ERR_VERIFY;
	} else {
		r = password_verify(old, cur, strlen(cur));
	}
	vt_str_wipe_free(old);
	if (r != 0) {
		snprintf(err, AUTH_ERR_MAX, "field 'current_password': is not correct");
		r = password_change_failed(tx, who, uid, "bad_password");
		goto out;
	}
	/* With MFA on, a stolen session and a known password are not enough. */
	if ((r = mfa_check_login(env, tx, &p->user_id, json_get_str(body, "totp_code"))) != 0) {
		if (r == VT_ERR_MFA_REQUIRED)
			r = password_change_failed(tx, who, uid,
			    json_get_str(body, "totp_code") == NULL ? "mfa_required" : "mfa_invalid");
		goto out;
	}
	if ((r = password_hash(next, strlen(next), hash)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, &p->user_id);
	db_param_text(&prm, hash);
	r = db_exec_one(tx, "UPDATE users SET password_hash = $2 WHERE id = $1", &prm);
	db_params_free(&prm);
	if (r != 0 || (r = end_sessions(tx, &p->user_id)) != 0)
		goto out;
	if ((r = audit_record(tx, who, "PASSWORD_CHANGED", "user", uid, AUDIT_SUCCESS, NULL)) != 0)
		goto out;
	/* Every older session is over; this one continues with a new token (same expiry). */
	if ((r = auth_issue_jwt(env, &p->user_id, &p->org_id, p->session_exp, &jwt)) != 0)
		goto out;
	*out = json_packx("{s:s}", "token", jwt);
	r = 0;
 out:
	sodium_memzero(hash, sizeof(hash));
	vt_str_wipe_free(jwt);
	return r;
}
