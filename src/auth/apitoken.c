/*
 * Org-owned API tokens. The token value ("vt_" + 256 random bits, base64url) is returned once at
 * creation; only its SHA-256 is stored (a preimage search on 256 random bits is infeasible, so a
 * slow hash adds nothing). Revocation stamps revoked_at; the lookup function ignores revoked rows,
 * so the very next request with the token fails.
 */
#include "auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "authz/authz.h"
#include "base/err.h"
#include "base/json.h"
#include "crypto/hash.h"

static json_t *
token_row_json(const struct db_res *res, int i)
{
	json_t *scopes = json_array();
	const char *s = db_res_text(res, i, 2);
	char *copy = xstrdup(s), *tok, *next;

	for (tok = copy; tok != NULL && tok[0] != '\0'; tok = next) {
		if ((next = strchr(tok, ' ')) != NULL)
			*next++ = '\0';
		json_array_append_new(scopes, json_string(tok));
	}
	free(copy);
	return json_packx("{s:s, s:s, s:o, s:s?, s:s, s:s?, s:s?}", "id", db_res_text(res, i, 0),
	    "name", db_res_text(res, i, 1), "scopes", scopes, "created_by",
	    db_res_isnull(res, i, 3) ? NULL : db_res_text(res, i, 3), "created_at",
	    db_res_text(res, i, 4), "expires_at",
	    db_res_isnull(res, i, 5) ? NULL : db_res_text(res, i, 5), "revoked_at",
	    db_res_isnull(res, i, 6) ? NULL : db_res_text(res, i, 6));
}

#define TOKEN_COLUMNS                                                                              \
	"id, name, array_to_string(scopes, ' '), created_by, " DB_SQL_RFC3339("created_at") ", " \
	DB_SQL_RFC3339("expires_at") ", " DB_SQL_RFC3339("revoked_at")

int
apitoken_create(struct db_tx *tx, const struct principal *p, const json_t *body,
    const struct audit_actor *who, json_t **out, char err[static AUTH_ERR_MAX])
{
	const char *name = json_get_str(body, "name");
	json_t *scopes = json_object_get(body, "scopes"), *e, *detail = NULL, *row = NULL;
	int64_t ttl = json_get_int(body, "expires_in_seconds", 0);
	uint8_t h[HASH_SHA256_LEN];
	size_t n;
	char token[API_TOKEN_LEN + 1], tid[UUID_STR_LEN + 1];
	char scope_list[256] = "";
	uint32_t seen = 0, bit;
	struct vt_uuid id;
	struct db_params prm;
	struct db_res *res = NULL;
	size_t i, off;
	int r;

	*out = NULL;
	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	json_array_foreach(scopes, i, e) {
		bit = authz_scope_parse(json_string_value(e));
		if (bit == 0) {
			snprintf(err, AUTH_ERR_MAX, "field 'scopes': unknown scope at index %zu "
						    "(known: vault:read, vault:write, audit:read, "
						    "ssh:connect, admin, scim)", i);
			return VT_ERR_VALIDATION;
		}
		seen |= bit;
	}
	/* Canonical order, no duplicates. */
	for (bit = 1, off = 0; bit <= SCOPE_SCIM; bit <<= 1) {
		if (seen & bit)
			off += (size_t)snprintf(scope_list + off, sizeof(scope_list) - off, "%s%s",
			    off > 0 ? " " : "", authz_scope_str(bit));
	}
	n = bearer_token_new(API_TOKEN_PREFIX, token, sizeof(token), h);
	VT_ASSERT(n == API_TOKEN_LEN);
	uuid_random(&id);
	uuid_format(&id, tid);

	db_params_init(&prm);
	db_param_uuid(&prm, &id);
	db_param_uuid(&prm, &p->org_id);
	db_param_text(&prm, name);
	db_param_text(&prm, scope_list);
	db_param_bytes(&prm, h, sizeof(h));
	db_param_uuid(&prm, &p->user_id);
	if (ttl > 0)
		db_param_int(&prm, ttl);
	else
		db_param_text(&prm, NULL);
	r = db_query(tx, "INSERT INTO api_tokens (id, org_id, name, scopes, token_hash, created_by, "
			 "expires_at) VALUES ($1, $2, $3, string_to_array($4, ' '), $5, $6, "
			 "now() + make_interval(secs => $7::bigint)) RETURNING " TOKEN_COLUMNS,
	    &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	row = token_row_json(res, 0);
	detail = json_packx("{s:s, s:O}", "name", name, "scopes", json_object_get(row, "scopes"));
	if ((r = audit_record(tx, who, "API_TOKEN_CREATED", "api_token", tid, AUDIT_SUCCESS,
	    detail)) != 0)
		goto out;
	json_object_set_new(row, "token", json_string(token));
	*out = row;
	row = NULL;
	r = 0;
 out:
	sodium_memzero(token, sizeof(token));
	json_decref(row);
	json_decref(detail);
	db_res_free(res);
	return r;
}

int
apitoken_list(struct db_tx *tx, json_t **out)
{
	struct db_res *res = NULL;
	json_t *items;
	int r, i;

	*out = NULL;
	if ((r = db_query(tx, "SELECT " TOKEN_COLUMNS " FROM api_tokens "
			      "ORDER BY created_at DESC, id LIMIT 500", NULL, &res)) != 0)
		return r;
	items = json_array();
	for (i = 0; i < db_res_rows(res); i++)
		json_array_append_new(items, token_row_json(res, i));
	db_res_free(res);
	*out = json_packx("{s:o, s:n}", "items", items, "next_cursor");
	return 0;
}

int
apitoken_revoke(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct audit_actor *who)
{
	struct db_params prm;
	struct db_res *res = NULL;
	char tid[UUID_STR_LEN + 1];
	int r;

	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	r = db_query(tx, "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = $1 FOR UPDATE",
	    &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND; /* also another org's token: RLS hides it */
	}
	if (db_res_bool(res, 0, 0)) {
		db_res_free(res);
		return 0; /* already revoked: idempotent */
	}
	db_res_free(res);
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	db_param_uuid(&prm, &p->user_id);
	r = db_exec_one(tx, "UPDATE api_tokens SET revoked_at = now(), revoked_by = $2 "
			    "WHERE id = $1 AND revoked_at IS NULL", &prm);
	db_params_free(&prm);
	if (r != 0)
		return r;
	uuid_format(id, tid);
	return audit_record(tx, who, "API_TOKEN_REVOKED", "api_token", tid, AUDIT_SUCCESS, NULL);
}
