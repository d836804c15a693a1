/*
 * Bearer resolution and per-request binding. A JWT proves who the user is and which org they
 * chose; membership and role are re-read from the database on every request, so removing a
 * member or changing a role takes effect immediately. API tokens are found by SHA-256 of the
 * presented value through a SECURITY DEFINER function, which returns nothing for a revoked or
 * expired token, so revocation takes effect on the next request.
 */
#include "auth/auth.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth/jwt.h"
#include "authz/authz.h"
#include "base/err.h"
#include "base/log.h"
#include "base/vtime.h"
#include "crypto/hash.h"

int
auth_email_normalize(const char *in, char out[static AUTH_EMAIL_MAX + 1],
    char err[static AUTH_ERR_MAX])
{
	size_t n, i, at = 0, nat = 0;

	out[0] = '\0';
	if (in == NULL || (n = strlen(in)) < 3 || n > AUTH_EMAIL_MAX) {
		snprintf(err, AUTH_ERR_MAX, "field 'email': must be 3 to %d characters",
		    AUTH_EMAIL_MAX);
		return VT_ERR_VALIDATION;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' ||
		    c == '"' || c == '\\') {
			snprintf(err, AUTH_ERR_MAX, "field 'email': contains a character not "
						    "allowed in an address");
			out[0] = '\0'; /* not a half-copied address: out is set only on success */
			return VT_ERR_VALIDATION;
		}
		if (c == '@') {
			at = i;
			nat++;
		}
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[n] = '\0';
	if (nat != 1 || at == 0 || at > 64 || at == n - 1 || strchr(out + at, '.') == NULL ||
	    out[n - 1] == '.' || out[at + 1] == '.') {
		snprintf(err, AUTH_ERR_MAX, "field 'email': is not a valid address");
		out[0] = '\0';
		return VT_ERR_VALIDATION;
	}
	return 0;
}

/* The scope bits of a space-separated scope list (unknown names are ignored). */
static uint32_t
scopes_parse(const char *list)
{
	char *copy = xstrdup(list), *tok, *next;
	uint32_t bits = 0;

	for (tok = copy; tok != NULL; tok = next) {
		if ((next = strchr(tok, ' ')) != NULL)
			*next++ = '\0';
		bits |= authz_scope_parse(tok);
	}
	free(copy);
	return bits;
}

static int
resolve_api_token(const struct auth_env *env, const char *bearer, struct principal *p)
{
	uint8_t h[HASH_SHA256_LEN];
	struct db_params prm;
	struct db_res *res = NULL;
	struct db_tx *tx = NULL;
	const char *name;
	int r;

	if (strlen(bearer) != API_TOKEN_LEN)
		return VT_ERR_UNAUTHORIZED;
	hash_sha256(bearer, strlen(bearer), h);
	if ((r = db_tx_begin(env->pool, &tx)) != 0)
		return r;
	db_params_init(&prm);
	db_param_bytes(&prm, h, sizeof(h));
	r = db_query(tx, "SELECT token_id, org_id, name, array_to_string(scopes, ' ') "
			 "FROM vt_api_token_lookup($1)", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_UNAUTHORIZED;
		goto out;
	}
	if ((r = db_res_uuid(res, 0, 0, &p->token_id)) != 0 ||
	    (r = db_res_uuid(res, 0, 1, &p->org_id)) != 0)
		goto out;
	name = db_res_text(res, 0, 2);
	snprintf(p->token_name, sizeof(p->token_name), "%s", name);
	p->scopes = scopes_parse(db_res_text(res, 0, 3));
	p->kind = PRINCIPAL_API_TOKEN;
	r = 0;
 out:
	db_res_free(res);
	if (tx != NULL && db_tx_commit(tx) != 0 && r == 0)
		r = VT_ERR_UNAVAILABLE;
	return r;
}

int
auth_bearer_resolve(const struct auth_env *env, const char *bearer, struct principal *p)
{
	struct jwt_claims c;
	int r;

	memset(p, 0, sizeof(*p));
	if (bearer == NULL || strlen(bearer) > BEARER_MAX)
		return VT_ERR_UNAUTHORIZED;
	if (strncmp(bearer, API_TOKEN_PREFIX, strlen(API_TOKEN_PREFIX)) == 0) {
		r = resolve_api_token(env, bearer, p);
		if (r != 0)
			memset(p, 0, sizeof(*p));
		return r == VT_ERR_UNAVAILABLE ? r : (r != 0 ? VT_ERR_UNAUTHORIZED : 0);
	}
	if (jwt_verify(env->jwt_key, bearer, vtime_now_us() / 1000000, &c) != 0)
		return VT_ERR_UNAUTHORIZED;
	p->kind = PRINCIPAL_USER;
	p->user_id = c.sub;
	p->org_id = c.org;
	p->session_exp = c.exp;
	p->session_iat = c.iat;
	snprintf(p->session_id, sizeof(p->session_id), "%s", c.jti);
	return 0;
}

int
auth_principal_bind(struct db_tx *tx, struct principal *p)
{
	struct db_params prm;
	struct db_res *res = NULL;
	int r;

	if (p->kind == PRINCIPAL_NONE)
		return VT_ERR_UNAUTHORIZED;
	if ((db_tx_org(tx) == NULL || !uuid_eq(db_tx_org(tx), &p->org_id)) &&
	    (r = db_tx_set_org(tx, &p->org_id)) != 0)
		return r;
	if (p->kind == PRINCIPAL_API_TOKEN)
		return 0;
	if ((db_tx_user(tx) == NULL || !uuid_eq(db_tx_user(tx), &p->user_id)) &&
	    (r = db_tx_set_user(tx, &p->user_id)) != 0)
		return r;
	/*
	 * Membership, role and whether the session was ended (log out everywhere, password change,
	 * or this token logged out), all in the one query every request already makes.
	 */
	db_params_init(&prm);
	db_param_uuid(&prm, &p->user_id);
	db_param_int(&prm, p->session_iat);
	db_param_text(&prm, p->session_id);
	r = db_query(tx, "SELECT m.org_role, u.email, "
			 " u.sessions_valid_after > to_timestamp($2::bigint), "
			 " EXISTS (SELECT 1 FROM revoked_sessions r WHERE r.jti = $3) "
			 "FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.user_id = $1",
	    &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_UNAUTHORIZED; /* no longer a member of the token's org */
		goto out;
	}
	if (db_res_bool(res, 0, 2) || db_res_bool(res, 0, 3)) {
		r = VT_ERR_UNAUTHORIZED; /* the session was ended */
		goto out;
	}
	p->org_role = authz_role_parse(db_res_text(res, 0, 0));
	snprintf(p->email, sizeof(p->email), "%s", db_res_text(res, 0, 1));
	r = p->org_role == ORG_ROLE_NONE ? VT_ERR_UNAUTHORIZED : 0;
 out:
	db_res_free(res);
	return r;
}

int
auth_principal_load(struct db_tx *tx, struct principal *p)
{
	struct db_params prm;
	struct db_res *res = NULL;
	int r;

	if (p->kind != PRINCIPAL_USER && p->kind != PRINCIPAL_API_TOKEN)
		return VT_ERR_UNAUTHORIZED;
	if ((db_tx_org(tx) == NULL || !uuid_eq(db_tx_org(tx), &p->org_id)) &&
	    (r = db_tx_set_org(tx, &p->org_id)) != 0)
		return r;
	db_params_init(&prm);
	if (p->kind == PRINCIPAL_API_TOKEN) {
		/* What vt_api_token_lookup answers for a bearer, by id, in the org's RLS context. */
		db_param_uuid(&prm, &p->token_id);
		r = db_query(tx, "SELECT name, array_to_string(scopes, ' ') FROM api_tokens "
				 "WHERE id = $1 AND revoked_at IS NULL "
				 "AND (expires_at IS NULL OR expires_at > now())", &prm, &res);
	} else {
		if ((db_tx_user(tx) == NULL || !uuid_eq(db_tx_user(tx), &p->user_id)) &&
		    (r = db_tx_set_user(tx, &p->user_id)) != 0) {
			db_params_free(&prm);
			return r;
		}
		db_param_uuid(&prm, &p->user_id);
		r = db_query(tx, "SELECT m.org_role, u.email FROM memberships m "
				 "JOIN users u ON u.id = m.user_id WHERE m.user_id = $1", &prm, &res);
	}
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_UNAUTHORIZED; /* not a member (any more), or a revoked or expired token */
		goto out;
	}
	if (p->kind == PRINCIPAL_API_TOKEN) {
		snprintf(p->token_name, sizeof(p->token_name), "%s", db_res_text(res, 0, 0));
		p->scopes = scopes_parse(db_res_text(res, 0, 1));
		r = 0;
	} else {
		p->org_role = authz_role_parse(db_res_text(res, 0, 0));
		snprintf(p->email, sizeof(p->email), "%s", db_res_text(res, 0, 1));
		r = p->org_role == ORG_ROLE_NONE ? VT_ERR_UNAUTHORIZED : 0;
	}
 out:
	db_res_free(res);
	return r;
}

int
auth_issue_jwt(const struct auth_env *env, const struct vt_uuid *user, const struct vt_uuid *org,
    int64_t not_after, char **jwt)
{
	struct jwt_claims c;
	int64_t now = vtime_now_us() / 1000000;

	memset(&c, 0, sizeof(c));
	c.sub = *user;
	c.org = *org;
	c.iat = now;
	c.exp = now + (int64_t)(env->jwt_ttl_ms / 1000);
	if (not_after > 0 && c.exp > not_after)
		c.exp = not_after;
	if (c.exp <= now)
		return VT_ERR_UNAUTHORIZED;
	return jwt_sign(env->jwt_key, &c, jwt);
}

void
auth_actor(const struct principal *p, const char *source_ip, const char *request_id,
    struct audit_actor *a)
{
	memset(a, 0, sizeof(*a));
	a->source_ip = source_ip;
	a->request_id = request_id;
	switch (p != NULL ? p->kind : PRINCIPAL_NONE) {
	case PRINCIPAL_USER:
		a->type = AUDIT_ACTOR_USER;
		a->has_id = 1;
		a->id = p->user_id;
		a->email = p->email[0] != '\0' ? p->email : NULL;
		break;
	case PRINCIPAL_API_TOKEN:
		a->type = AUDIT_ACTOR_API_TOKEN;
		a->has_id = 1;
		a->id = p->token_id;
		break;
	case PRINCIPAL_NONE:
		a->type = AUDIT_ACTOR_ANONYMOUS;
		break;
	}
}
