/*
 * The broker's lookups: who a login is (a registered key's owners, or a ticket's issuer, through
 * the two SECURITY DEFINER functions of schema 6, since the org is not known yet), then, in that
 * org, the principal (re-read now: org role, or token scopes) and the profile the SSH user name
 * names. Refusals here are codes; the session answers and audits them.
 */
#include "broker/profiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "base/err.h"
#include "crypto/hash.h"

#define SSH_TICKET_LEN (4 + 43)

static int
fingerprint_shaped(const char *fp)
{
	size_t i;

	if (fp == NULL || strlen(fp) != SSH_FINGERPRINT_LEN || strncmp(fp, "SHA256:", 7) != 0)
		return 0;
	for (i = 7; i < SSH_FINGERPRINT_LEN; i++) {
		char c = fp[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/'))
			return 0;
	}
	return 1;
}

int
ssh_login_by_key(struct db_tx *tx, const char *fingerprint,
    struct ssh_login out[static SSH_LOGIN_CANDIDATES_MAX], int *n)
{
	struct db_params prm;
	struct db_res *res = NULL;
	int r, i, rows;

	*n = 0;
	memset(out, 0, sizeof(*out) * SSH_LOGIN_CANDIDATES_MAX);
	if (!fingerprint_shaped(fingerprint))
		return 0;
	db_params_init(&prm);
	db_param_text(&prm, fingerprint);
	db_param_int(&prm, SSH_LOGIN_CANDIDATES_MAX);
	r = db_query(tx, "SELECT key_id, org_id, user_id, email FROM vt_ssh_key_lookup($1) LIMIT $2",
	    &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	rows = db_res_rows(res);
	for (i = 0; i < rows; i++) {
		struct ssh_login *l = &out[i];

		if ((r = db_res_uuid(res, i, 0, &l->key_id)) != 0 ||
		    (r = db_res_uuid(res, i, 1, &l->org_id)) != 0 ||
		    (r = db_res_uuid(res, i, 2, &l->user_id)) != 0)
			break;
		l->has_key = 1;
		l->has_user = 1;
		snprintf(l->email, sizeof(l->email), "%s", db_res_text(res, i, 3));
	}
	db_res_free(res);
	if (r != 0) {
		memset(out, 0, sizeof(*out) * SSH_LOGIN_CANDIDATES_MAX);
		return r;
	}
	*n = rows;
	return 0;
}

int
ssh_login_by_ticket(struct db_tx *tx, const char *ticket, struct ssh_login *out)
{
	uint8_t h[HASH_SHA256_LEN];
	struct db_params prm;
	struct db_res *res = NULL;
	struct ssh_login l;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	if (ticket == NULL || strnlen(ticket, SSH_TICKET_MAX + 1) != SSH_TICKET_LEN ||
	    strncmp(ticket, SSH_TICKET_PREFIX, strlen(SSH_TICKET_PREFIX)) != 0)
		return VT_ERR_NOT_FOUND;
	hash_sha256(ticket, SSH_TICKET_LEN, h);
	db_params_init(&prm);
	db_param_bytes(&prm, h, sizeof(h));
	/* Consumed by this statement: the caller must commit, or the ticket stays usable. */
	r = db_query(tx, "SELECT org_id, user_id, token_id, profile_id, email "
			 "FROM vt_ssh_ticket_consume($1)", &prm, &res);
	db_params_free(&prm);
	sodium_memzero(h, sizeof(h));
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_NOT_FOUND; /* unknown, used or expired: one answer */
		goto out;
	}
	if ((r = db_res_uuid(res, 0, 0, &l.org_id)) != 0 ||
	    (r = db_res_uuid(res, 0, 3, &l.profile_id)) != 0)
		goto out;
	l.has_profile = 1;
	if (!db_res_isnull(res, 0, 1)) {
		if ((r = db_res_uuid(res, 0, 1, &l.user_id)) != 0)
			goto out;
		l.has_user = 1;
		snprintf(l.email, sizeof(l.email), "%s", db_res_text(res, 0, 4));
	} else if (!db_res_isnull(res, 0, 2)) {
		if ((r = db_res_uuid(res, 0, 2, &l.token_id)) != 0)
			goto out;
		l.has_token = 1;
	} else {
		r = VT_ERR_INTERNAL; /* the table's CHECK makes this impossible */
		goto out;
	}
	*out = l;
 out:
	db_res_free(res);
	return r;
}

void
ssh_profile_clear(struct ssh_profile *pr)
{
	if (pr == NULL)
		return;
	free(pr->host_key);
	memset(pr, 0, sizeof(*pr));
}

/* The schema's name rule (a name that cannot exist is not looked up). */
static int
name_valid(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > SSH_PROFILE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

int
ssh_profile_resolve(struct db_tx *tx, const struct ssh_login *login, const char *name,
    struct principal *p, struct ssh_profile *out)
{
	struct db_params prm;
	struct db_res *res = NULL;
	struct ssh_profile pr;
	int64_t port = 0;
	int r;

	memset(p, 0, sizeof(*p));
	memset(out, 0, sizeof(*out));
	memset(&pr, 0, sizeof(pr));
	p->org_id = login->org_id;
	if (login->has_user) {
		p->kind = PRINCIPAL_USER;
		p->user_id = login->user_id;
	} else if (login->has_token) {
		p->kind = PRINCIPAL_API_TOKEN;
		p->token_id = login->token_id;
	} else {
		return VT_ERR_FORBIDDEN;
	}
	/* Who first: a login that may not connect learns nothing about the org's profiles. */
	r = auth_principal_load(tx, p);
	if (r == VT_ERR_UNAUTHORIZED)
		r = VT_ERR_FORBIDDEN;
	if (r == 0 && p->kind == PRINCIPAL_API_TOKEN && (p->scopes & SCOPE_SSH_CONNECT) == 0)
		r = VT_ERR_FORBIDDEN;
	if (r == 0 && p->kind == PRINCIPAL_USER && p->org_role < ORG_ROLE_MEMBER)
		r = VT_ERR_FORBIDDEN;
	if (r != 0)
		goto out;
	if (!name_valid(name)) {
		r = VT_ERR_NOT_FOUND;
		goto out;
	}
	db_params_init(&prm);
	db_param_text(&prm, name);
	db_param_uuid(&prm, login->has_profile ? &login->profile_id : NULL);
	r = db_query(tx, "SELECT p.id, p.name, p.host, p.port, p.username, p.credential_secret_id, "
			 "p.host_key, o.recording_enabled FROM ssh_profiles p "
			 "JOIN orgs o ON o.id = p.org_id "
			 "WHERE p.name = $1 AND ($2::uuid IS NULL OR p.id = $2::uuid)", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_NOT_FOUND; /* none by that name (or not the ticket's profile) */
		goto out;
	}
	if ((r = db_res_uuid(res, 0, 0, &pr.id)) != 0 || (r = db_res_int(res, 0, 3, &port)) != 0 ||
	    (r = db_res_uuid(res, 0, 5, &pr.credential_secret_id)) != 0)
		goto out;
	snprintf(pr.name, sizeof(pr.name), "%s", db_res_text(res, 0, 1));
	snprintf(pr.host, sizeof(pr.host), "%s", db_res_text(res, 0, 2));
	snprintf(pr.username, sizeof(pr.username), "%s", db_res_text(res, 0, 4));
	pr.port = (int)port;
	pr.host_key = db_res_isnull(res, 0, 6) ? NULL : xstrdup(db_res_text(res, 0, 6));
	pr.recording_enabled = db_res_bool(res, 0, 7);
	db_res_free(res);
	res = NULL;
	if (login->has_key) {
		/* Kept when the caller commits. */
		db_params_init(&prm);
		db_param_uuid(&prm, &login->key_id);
		r = db_query(tx, "UPDATE ssh_keys SET last_used_at = now() WHERE id = $1", &prm,
		    NULL);
		db_params_free(&prm);
		if (r != 0)
			goto out;
	}
	*out = pr;
	memset(&pr, 0, sizeof(pr));
	r = 0;
 out:
	db_res_free(res);
	ssh_profile_clear(&pr);
	if (r != 0)
		memset(p, 0, sizeof(*p));
	return r;
}

int
ssh_profile_pin(struct db_tx *tx, const struct vt_uuid *id, const char *host_key, int *pinned)
{
	struct db_params prm;
	struct db_res *res = NULL;
	size_t n = host_key != NULL ? strlen(host_key) : 0;
	const char *sp = host_key != NULL ? strchr(host_key, ' ') : NULL;
	int r;

	*pinned = 0;
	/* The broker's own export of the target's key: "<type> <base64>", within the column's bounds. */
	if (n < 16 || n > SSH_PUBKEY_MAX || sp == NULL || sp == host_key || strchr(sp + 1, ' '))
		return VT_ERR_INVALID;
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	db_param_text(&prm, host_key);
	r = db_query(tx, "UPDATE ssh_profiles SET host_key = $2, host_key_pinned_at = now(), "
			 "updated_at = now() WHERE id = $1 AND host_key IS NULL RETURNING 1", &prm,
	    &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	*pinned = db_res_rows(res) == 1;
	db_res_free(res);
	return 0;
}
