/*
 * /api/ssh: users' broker login keys, connection profiles, one-time tickets, and the org's
 * recording switch. Everything runs in the request's transaction under the org's RLS context, so
 * another org's ids are simply absent (404). Profiles are managed by org admins and owners (API
 * tokens: admin scope) and read by every member; a profile's credential must be an SSH_KEY or
 * PASSWORD secret its creator (or whoever changes it) can read. Tickets are 256 random bits shown
 * once; only their SHA-256 is stored, and neither is ever logged or audited.
 */
#include "broker/profiles.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "authz/authz.h"
#include "base/err.h"
#include "base/json.h"
#include "broker/sshkey.h"
#include "crypto/hash.h"
#include "vault/vault.h"

#define SSH_TICKET_LEN (4 + 43) /* "vtt_" + base64url(32 bytes), unpadded */

#define KEY_COLUMNS                                                                                \
	"k.id, k.name, k.public_key, k.fingerprint, " DB_SQL_RFC3339("k.created_at") ", "         \
	DB_SQL_RFC3339("k.last_used_at")

#define PROFILE_COLUMNS                                                                            \
	"p.id, p.name, p.host, p.port, p.username, p.credential_secret_id, p.host_key, "           \
	DB_SQL_RFC3339("p.host_key_pinned_at") ", p.created_by, " DB_SQL_RFC3339("p.created_at")   \
	", " DB_SQL_RFC3339("p.updated_at")

/* --- checks ----------------------------------------------------------------------------------- */

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The schema's rule: ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ (it is the SSH user name typed). */
static int
profile_name_valid(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > SSH_PROFILE_NAME_MAX || !is_alnum(s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* A DNS name (letters, digits, '-', '_', dot-separated labels of 1..63), or an IP literal. */
static int
host_valid(const char *s)
{
	unsigned char a6[16];
	size_t i, n = s != NULL ? strlen(s) : 0, label = 0;

	if (n == 0 || n > SSH_HOST_MAX)
		return 0;
	if (strchr(s, ':') != NULL)
		return inet_pton(AF_INET6, s, a6) == 1;
	if (s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* Printable ASCII without spaces, not starting with '-' (it is never an option anywhere). */
static int
username_valid(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > SSH_USER_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* Admins and owners, or tokens with the admin scope. */
static int
may_manage_profiles(const struct principal *p)
{
	if (p->kind == PRINCIPAL_USER)
		return p->org_role >= ORG_ROLE_ADMIN;
	return p->kind == PRINCIPAL_API_TOKEN && (p->scopes & SCOPE_ADMIN) != 0;
}

/* Every member; tokens that connect (ssh:connect) or administer (admin). */
static int
may_read_profiles(const struct principal *p)
{
	if (p->kind == PRINCIPAL_USER)
		return p->org_role >= ORG_ROLE_MEMBER;
	return p->kind == PRINCIPAL_API_TOKEN &&
	    (p->scopes & (SCOPE_SSH_CONNECT | SCOPE_ADMIN)) != 0;
}

/*
 * credential_secret_id: a secret of type SSH_KEY or PASSWORD that p may read (inject-only is
 * fine: the broker is the one place it is used). Unknown ids, another org's, and ones p may not
 * read all get the same message.
 */
static int
credential_check(struct db_tx *tx, const struct principal *p, const char *sid,
    struct vt_uuid *id, char err[static SSH_ERR_MAX])
{
	json_t *meta = NULL;
	const char *type;
	int r;

	if (sid == NULL || uuid_parse(sid, id) != 0) {
		snprintf(err, SSH_ERR_MAX, "field 'credential_secret_id': must be a secret id (UUID)");
		return VT_ERR_VALIDATION;
	}
	r = secret_get(tx, p, id, &meta);
	if (r == VT_ERR_NOT_FOUND || r == VT_ERR_FORBIDDEN) {
		snprintf(err, SSH_ERR_MAX, "field 'credential_secret_id': no secret with this id that "
		    "you can read");
		return VT_ERR_VALIDATION;
	}
	if (r != 0)
		return r;
	type = json_get_str(meta, "type");
	if (type == NULL || (strcmp(type, "SSH_KEY") != 0 && strcmp(type, "PASSWORD") != 0)) {
		snprintf(err, SSH_ERR_MAX, "field 'credential_secret_id': must be an SSH_KEY or "
		    "PASSWORD secret (this one is %s)", type != NULL ? type : "of another type");
		r = VT_ERR_VALIDATION;
	}
	json_decref(meta);
	return r;
}

/* The profile fields shared by create and update; absent ones (NULL) are not checked. */
static int
profile_fields_check(const char *name, const char *host, const char *username,
    char err[static SSH_ERR_MAX])
{
	if (name != NULL && !profile_name_valid(name)) {
		snprintf(err, SSH_ERR_MAX, "field 'name': 1 to %d letters, digits, '.', '_' or '-', "
		    "starting with a letter or digit (it is the user name in `ssh -p PORT "
		    "NAME@broker`)", SSH_PROFILE_NAME_MAX);
		return VT_ERR_VALIDATION;
	}
	if (host != NULL && !host_valid(host)) {
		snprintf(err, SSH_ERR_MAX, "field 'host': must be a DNS name or an IP address");
		return VT_ERR_VALIDATION;
	}
	if (username != NULL && !username_valid(username)) {
		snprintf(err, SSH_ERR_MAX, "field 'username': 1 to %d printable characters without "
		    "spaces, not starting with '-'", SSH_USER_MAX);
		return VT_ERR_VALIDATION;
	}
	return 0;
}

/* host_key: "" means none (trust on first use); otherwise one key line, normalized. */
static int
host_key_parse(const char *text, struct sshkey_pub *k, char err[static SSH_ERR_MAX])
{
	char why[SSH_ERR_MAX];
	int r;

	if ((r = sshkey_parse(text, SSHKEY_FORM_KNOWN_HOSTS, k, why)) != 0)
		snprintf(err, SSH_ERR_MAX, "field 'host_key': %.200s", why);
	return r;
}

/* --- login keys ------------------------------------------------------------------------------ */

static json_t *
key_json(const struct db_res *res, int i)
{
	const char *line = db_res_text(res, i, 2);
	const char *sp = strchr(line, ' ');

	return json_packx("{s:s, s:s, s:s%, s:s, s:s, s:s, s:s?}", "id", db_res_text(res, i, 0),
	    "name", db_res_text(res, i, 1), "type", line,
	    sp != NULL ? (size_t)(sp - line) : strlen(line), "public_key", line, "fingerprint",
	    db_res_text(res, i, 3), "created_at", db_res_text(res, i, 4), "last_used_at",
	    db_res_isnull(res, i, 5) ? NULL : db_res_text(res, i, 5));
}

int
ssh_key_add(struct db_tx *tx, const struct principal *p, const json_t *body,
    const struct audit_actor *who, json_t **out, char err[static SSH_ERR_MAX])
{
	const char *name = json_get_str(body, "name");
	char why[SSH_ERR_MAX], kid[UUID_STR_LEN + 1];
	struct sshkey_pub k;
	struct db_params prm;
	struct db_res *res = NULL;
	struct vt_uuid id;
	int64_t have = 0;
	json_t *d;
	int r;

	*out = NULL;
	memset(&k, 0, sizeof(k));
	if (p->kind != PRINCIPAL_USER) {
		snprintf(err, SSH_ERR_MAX, "login keys belong to users; an API token connects with "
		    "a ticket (POST /api/ssh/tickets)");
		return VT_ERR_FORBIDDEN;
	}
	if (name == NULL || name[0] == '\0' || strlen(name) > 100 || !json_text_printable(name)) {
		snprintf(err, SSH_ERR_MAX, "field 'name': 1 to 100 printable characters");
		return VT_ERR_VALIDATION;
	}
	if ((r = sshkey_parse(json_get_str(body, "public_key"), SSHKEY_FORM_PUBLIC, &k, why)) != 0) {
		snprintf(err, SSH_ERR_MAX, "field 'public_key': %.200s", why);
		return r;
	}
	/* The membership row serializes one user's concurrent additions (the per-user limit). */
	db_params_init(&prm);
	db_param_uuid(&prm, &p->user_id);
	r = db_query(tx, "SELECT (SELECT count(*) FROM ssh_keys WHERE user_id = $1) "
			 "FROM memberships WHERE user_id = $1 FOR UPDATE", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1 || db_res_int(res, 0, 0, &have) != 0) {
		r = VT_ERR_UNAUTHORIZED; /* no longer a member */
		goto out;
	}
	db_res_free(res);
	res = NULL;
	if (have >= SSH_KEYS_PER_USER_MAX) {
		snprintf(err, SSH_ERR_MAX, "you have %d login keys in this organization, the most "
		    "allowed; delete one first", SSH_KEYS_PER_USER_MAX);
		r = VT_ERR_VALIDATION;
		goto out;
	}
	uuid_random(&id);
	db_params_init(&prm);
	db_param_uuid(&prm, &id);
	db_param_uuid(&prm, &p->org_id);
	db_param_uuid(&prm, &p->user_id);
	db_param_text(&prm, name);
	db_param_text(&prm, k.line);
	db_param_text(&prm, k.fingerprint);
	r = db_query(tx, "INSERT INTO ssh_keys AS k (id, org_id, user_id, name, public_key, "
			 "fingerprint) VALUES ($1, $2, $3, $4, $5, $6) RETURNING " KEY_COLUMNS, &prm,
	    &res);
	db_params_free(&prm);
	if (r == VT_ERR_CONFLICT)
		snprintf(err, SSH_ERR_MAX, "this key is already registered in this organization");
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	uuid_format(&id, kid);
	d = json_packx("{s:s, s:s, s:s, s:i}", "name", name, "fingerprint", k.fingerprint, "type",
	    k.type, "bits", k.bits);
	r = audit_record(tx, who, "SSH_KEY_ADDED", "ssh_key", kid, AUDIT_SUCCESS, d);
	json_decref(d);
	if (r != 0)
		goto out;
	*out = key_json(res, 0);
 out:
	db_res_free(res);
	sshkey_pub_clear(&k);
	return r;
}

int
ssh_key_list(struct db_tx *tx, const struct principal *p, json_t **out)
{
	struct db_params prm;
	struct db_res *res = NULL;
	json_t *items;
	int r, i;

	*out = NULL;
	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	db_params_init(&prm);
	db_param_uuid(&prm, &p->user_id);
	db_param_int(&prm, SSH_KEYS_PER_USER_MAX);
	r = db_query(tx, "SELECT " KEY_COLUMNS " FROM ssh_keys k WHERE k.user_id = $1 "
			 "ORDER BY k.created_at, k.id LIMIT $2", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	items = json_array();
	for (i = 0; i < db_res_rows(res); i++)
		json_array_append_new(items, key_json(res, i));
	db_res_free(res);
	*out = json_packx("{s:o, s:n}", "items", items, "next_cursor");
	return 0;
}

int
ssh_key_delete(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct audit_actor *who)
{
	struct db_params prm;
	struct db_res *res = NULL;
	char kid[UUID_STR_LEN + 1];
	json_t *d;
	int r;

	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	/* Only one's own key: another member's key is as absent as another org's. */
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	db_param_uuid(&prm, &p->user_id);
	r = db_query(tx, "DELETE FROM ssh_keys WHERE id = $1 AND user_id = $2 "
			 "RETURNING name, fingerprint", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND;
	}
	uuid_format(id, kid);
	d = json_packx("{s:s, s:s}", "name", db_res_text(res, 0, 0), "fingerprint",
	    db_res_text(res, 0, 1));
	db_res_free(res);
	r = audit_record(tx, who, "SSH_KEY_DELETED", "ssh_key", kid, AUDIT_SUCCESS, d);
	json_decref(d);
	return r;
}

/* --- profiles -------------------------------------------------------------------------------- */

static json_t *
profile_json(const struct db_res *res, int i)
{
	char fp[SSH_FINGERPRINT_LEN + 1];
	int64_t port = 0;
	int pinned = !db_res_isnull(res, i, 6);

	if (db_res_int(res, i, 3, &port) != 0)
		port = 0;
	if (!pinned || sshkey_line_fingerprint(db_res_text(res, i, 6), fp) != 0)
		fp[0] = '\0';
	return json_packx("{s:s, s:s, s:s, s:I, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:s}",
	    "id", db_res_text(res, i, 0), "name", db_res_text(res, i, 1), "host",
	    db_res_text(res, i, 2), "port", (json_int_t)port, "username", db_res_text(res, i, 4),
	    "credential_secret_id", db_res_text(res, i, 5), "host_key",
	    pinned ? db_res_text(res, i, 6) : NULL, "host_key_fingerprint",
	    fp[0] != '\0' ? fp : NULL, "host_key_pinned_at",
	    db_res_isnull(res, i, 7) ? NULL : db_res_text(res, i, 7), "created_by",
	    db_res_isnull(res, i, 8) ? NULL : db_res_text(res, i, 8), "created_at",
	    db_res_text(res, i, 9), "updated_at", db_res_text(res, i, 10));
}

static int
profile_audit(struct db_tx *tx, const struct audit_actor *who, const char *action,
    const struct vt_uuid *id, json_t *detail)
{
	char pid[UUID_STR_LEN + 1];
	int r;

	uuid_format(id, pid);
	r = audit_record(tx, who, action, "ssh_profile", pid, AUDIT_SUCCESS, detail);
	json_decref(detail);
	return r;
}

int
ssh_profile_create(struct db_tx *tx, const struct principal *p, const json_t *body,
    const struct audit_actor *who, json_t **out, char err[static SSH_ERR_MAX])
{
	const char *name = json_get_str(body, "name"), *host = json_get_str(body, "host");
	const char *username = json_get_str(body, "username");
	const char *host_key = json_get_str(body, "host_key");
	int64_t port = json_get_int(body, "port", 22);
	struct sshkey_pub hk;
	struct db_params prm;
	struct db_res *res = NULL;
	struct vt_uuid id, cred;
	int r;

	*out = NULL;
	memset(&hk, 0, sizeof(hk));
	if (!may_manage_profiles(p)) {
		snprintf(err, SSH_ERR_MAX, "creating connection profiles needs the admin or owner "
		    "role (API tokens: the admin scope)");
		return VT_ERR_FORBIDDEN;
	}
	if (name == NULL || host == NULL || username == NULL) {
		snprintf(err, SSH_ERR_MAX, "fields 'name', 'host', 'username' and "
		    "'credential_secret_id' are required");
		return VT_ERR_VALIDATION;
	}
	if ((r = profile_fields_check(name, host, username, err)) != 0)
		return r;
	if (port < 1 || port > 65535) {
		snprintf(err, SSH_ERR_MAX, "field 'port': must be between 1 and 65535");
		return VT_ERR_VALIDATION;
	}
	if ((r = credential_check(tx, p, json_get_str(body, "credential_secret_id"), &cred,
	    err)) != 0)
		return r;
	if (host_key != NULL && host_key[0] != '\0' && (r = host_key_parse(host_key, &hk, err)) != 0)
		return r;
	uuid_random(&id);
	db_params_init(&prm);
	db_param_uuid(&prm, &id);
	db_param_uuid(&prm, db_tx_org(tx));
	db_param_text(&prm, name);
	db_param_text(&prm, host);
	db_param_int(&prm, port);
	db_param_text(&prm, username);
	db_param_uuid(&prm, &cred);
	db_param_text(&prm, hk.line);
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	r = db_query(tx, "INSERT INTO ssh_profiles AS p (id, org_id, name, host, port, username, "
			 "credential_secret_id, host_key, host_key_pinned_at, created_by) VALUES ($1, "
			 "$2, $3, $4, $5, $6, $7, $8, CASE WHEN $8::text IS NULL THEN NULL ELSE now() END, "
			 "$9) RETURNING " PROFILE_COLUMNS, &prm, &res);
	db_params_free(&prm);
	if (r == VT_ERR_CONFLICT)
		snprintf(err, SSH_ERR_MAX, "a profile with this name already exists");
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	if ((r = profile_audit(tx, who, "SSH_PROFILE_CREATED", &id,
	    json_packx("{s:s, s:s, s:I, s:s, s:s, s:s?}", "name", name, "host", host, "port",
		(json_int_t)port, "username", username, "credential_secret_id",
		db_res_text(res, 0, 5), "host_key_fingerprint",
		hk.line != NULL ? hk.fingerprint : NULL))) != 0)
		goto out;
	*out = profile_json(res, 0);
 out:
	db_res_free(res);
	sshkey_pub_clear(&hk);
	return r;
}

int
ssh_profile_list(struct db_tx *tx, const struct principal *p, int limit, const char *cursor,
    json_t **out)
{
	struct db_params prm;
	struct db_res *res = NULL;
	json_t *items;
	int r, i, n;

	*out = NULL;
	if (!may_read_profiles(p))
		return VT_ERR_FORBIDDEN;
	if (limit < 1 || limit > SSH_PROFILE_LIST_MAX || (cursor != NULL &&
	    !profile_name_valid(cursor)))
		return VT_ERR_VALIDATION;
	db_params_init(&prm);
	db_param_text(&prm, cursor);
	db_param_int(&prm, limit + 1);
	/* Names are compared byte-wise (COLLATE "C"): the cursor order does not depend on a locale. */
	r = db_query(tx, "SELECT " PROFILE_COLUMNS " FROM ssh_profiles p "
			 "WHERE $1::text IS NULL OR p.name COLLATE \"C\" > $1::text COLLATE \"C\" "
			 "ORDER BY p.name COLLATE \"C\" LIMIT $2", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	items = json_array();
	n = db_page_rows(res, limit);
	for (i = 0; i < n; i++)
		json_array_append_new(items, profile_json(res, i));
	*out = json_packx("{s:o, s:s?}", "items", items, "next_cursor",
	    db_page_next(res, limit, 1));
	db_res_free(res);
	return 0;
}

/* Row of profile id (locked for update when asked) into *res. VT_ERR_NOT_FOUND when absent. */
static int
profile_fetch(struct db_tx *tx, const struct vt_uuid *id, int for_update, struct db_res **res)
{
	struct db_params prm;
	int r;

	*res = NULL;
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	r = db_query(tx, for_update ?
		"SELECT " PROFILE_COLUMNS " FROM ssh_profiles p WHERE p.id = $1 FOR UPDATE" :
		"SELECT " PROFILE_COLUMNS " FROM ssh_profiles p WHERE p.id = $1", &prm, res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(*res) != 1) {
		db_res_free(*res);
		*res = NULL;
		return VT_ERR_NOT_FOUND;
	}
	return 0;
}

int
ssh_profile_get(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    json_t **out)
{
	struct db_res *res = NULL;
	int r;

	*out = NULL;
	if (!may_read_profiles(p))
		return VT_ERR_FORBIDDEN;
	if ((r = profile_fetch(tx, id, 0, &res)) != 0)
		return r;
	*out = profile_json(res, 0);
	db_res_free(res);
	return 0;
}

int
ssh_profile_update(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const json_t *body, const struct audit_actor *who, json_t **out,
    char err[static SSH_ERR_MAX])
{
	static const char *const FIELDS[] = { "name", "host", "port", "username",
		"credential_secret_id", "host_key" };
	const char *name = json_get_str(body, "name"), *host = json_get_str(body, "host");
	const char *username = json_get_str(body, "username");
	const char *cred_s = json_get_str(body, "credential_secret_id");
	const json_t *port_j = json_null_as_absent(json_object_get(body, "port"));
	const json_t *hk_j = json_object_get(body, "host_key");
	const char *hk_s = json_string_value(hk_j);
	struct sshkey_pub hk;
	struct db_params prm;
	struct db_res *res = NULL;
	struct vt_uuid cred;
	json_t *changed = NULL, *d = NULL;
	int r, hk_mode = 0; /* 0 unchanged, 1 pin hk.line, 2 unpin */
	size_t i;

	*out = NULL;
	memset(&hk, 0, sizeof(hk));
	if (!may_manage_profiles(p)) {
		snprintf(err, SSH_ERR_MAX, "changing connection profiles needs the admin or owner "
		    "role (API tokens: the admin scope)");
		return VT_ERR_FORBIDDEN;
	}
	if ((r = profile_fetch(tx, id, 1, &res)) != 0)
		return r;
	db_res_free(res);
	res = NULL;
	changed = json_array();
	for (i = 0; i < VT_NELEM(FIELDS); i++)
		if (json_object_get(body, FIELDS[i]) != NULL &&
		    (strcmp(FIELDS[i], "host_key") == 0 ||
		    !json_is_null(json_object_get(body, FIELDS[i]))))
			json_array_append_new(changed, json_string(FIELDS[i]));
	if (json_array_size(changed) == 0) {
		snprintf(err, SSH_ERR_MAX, "nothing to change: send one or more of name, host, port, "
		    "username, credential_secret_id, host_key");
		r = VT_ERR_VALIDATION;
		goto out;
	}
	if ((r = profile_fields_check(name, host, username, err)) != 0)
		goto out;
	if (port_j != NULL && (!json_is_integer(port_j) || json_integer_value(port_j) < 1 ||
	    json_integer_value(port_j) > 65535)) {
		snprintf(err, SSH_ERR_MAX, "field 'port': must be between 1 and 65535");
		r = VT_ERR_VALIDATION;
		goto out;
	}
	/* A new credential is checked against the rights of whoever changes it. */
	if (cred_s != NULL && (r = credential_check(tx, p, cred_s, &cred, err)) != 0)
		goto out;
	if (hk_j != NULL) {
		/* "" or null: forget the pin, the next connect pins again (trust on first use). */
		if (hk_s == NULL || hk_s[0] == '\0') {
			hk_mode = 2;
		} else {
			if ((r = host_key_parse(hk_s, &hk, err)) != 0)
				goto out;
			hk_mode = 1;
		}
	}
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	db_param_text(&prm, name);
	db_param_text(&prm, host);
	if (port_j != NULL)
		db_param_int(&prm, json_integer_value(port_j));
	else
		db_param_text(&prm, NULL);
	db_param_text(&prm, username);
	db_param_uuid(&prm, cred_s != NULL ? &cred : NULL);
	db_param_int(&prm, hk_mode);
	db_param_text(&prm, hk.line);
	r = db_query(tx, "UPDATE ssh_profiles AS p SET name = coalesce($2, name), "
			 "host = coalesce($3, host), port = coalesce($4::integer, port), "
			 "username = coalesce($5, username), "
			 "credential_secret_id = coalesce($6::uuid, credential_secret_id), "
			 "host_key = CASE $7::integer WHEN 0 THEN host_key WHEN 1 THEN $8 END, "
			 "host_key_pinned_at = CASE $7::integer WHEN 0 THEN host_key_pinned_at "
			 "WHEN 1 THEN now() END, updated_at = now() WHERE p.id = $1 "
			 "RETURNING " PROFILE_COLUMNS, &prm, &res);
	db_params_free(&prm);
	if (r == VT_ERR_CONFLICT)
		snprintf(err, SSH_ERR_MAX, "a profile with this name already exists");
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_NOT_FOUND;
		goto out;
	}
	d = json_packx("{s:s, s:O}", "name", db_res_text(res, 0, 1), "changed", changed);
	if (host != NULL)
		json_object_set_new(d, "host", json_string(host));
	if (port_j != NULL)
		json_object_set_new(d, "port", json_integer(json_integer_value(port_j)));
	if (username != NULL)
		json_object_set_new(d, "username", json_string(username));
	if (cred_s != NULL)
		json_object_set_new(d, "credential_secret_id", json_string(db_res_text(res, 0, 5)));
	if (hk_mode != 0)
		json_object_set_new(d, "host_key_fingerprint",
		    hk_mode == 1 ? json_string(hk.fingerprint) : json_null());
	r = profile_audit(tx, who, "SSH_PROFILE_UPDATED", id, d);
	d = NULL;
	if (r != 0)
		goto out;
	*out = profile_json(res, 0);
 out:
	json_decref(d);
	json_decref(changed);
	db_res_free(res);
	sshkey_pub_clear(&hk);
	return r;
}

int
ssh_profile_delete(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct audit_actor *who)
{
	struct db_params prm;
	struct db_res *res = NULL;
	json_t *d;
	int r;

	if (!may_manage_profiles(p))
		return VT_ERR_FORBIDDEN;
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	/* Its unused tickets stay until they expire, and resolve to no profile (refused). */
	r = db_query(tx, "DELETE FROM ssh_profiles WHERE id = $1 RETURNING name, host", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND;
	}
	d = json_packx("{s:s, s:s}", "name", db_res_text(res, 0, 0), "host", db_res_text(res, 0, 1));
	db_res_free(res);
	return profile_audit(tx, who, "SSH_PROFILE_DELETED", id, d);
}

/* --- tickets --------------------------------------------------------------------------------- */

int
ssh_ticket_issue(struct db_tx *tx, const struct principal *p, const json_t *body,
    const char *broker_host, int broker_port, const struct audit_actor *who, json_t **out,
    char err[static SSH_ERR_MAX])
{
	const char *pid_s = json_get_str(body, "profile_id");
	char ticket[SSH_TICKET_LEN + 1], *cmd = NULL, *name = NULL;
	uint8_t h[HASH_SHA256_LEN];
	size_t n;
	struct db_params prm;
	struct db_res *res = NULL;
	struct vt_uuid pid, cred;
	int r, readable = 0;

	*out = NULL;
	memset(ticket, 0, sizeof(ticket));
	if (p->kind == PRINCIPAL_API_TOKEN && (p->scopes & SCOPE_SSH_CONNECT) == 0) {
		snprintf(err, SSH_ERR_MAX, "this API token lacks the ssh:connect scope");
		return VT_ERR_FORBIDDEN;
	}
	if (p->kind != PRINCIPAL_USER && p->kind != PRINCIPAL_API_TOKEN)
		return VT_ERR_UNAUTHORIZED;
	if (pid_s == NULL || uuid_parse(pid_s, &pid) != 0) {
		snprintf(err, SSH_ERR_MAX, "field 'profile_id': must be a profile id (UUID)");
		return VT_ERR_VALIDATION;
	}
	db_params_init(&prm);
	db_param_uuid(&prm, &pid);
	r = db_query(tx, "SELECT name, credential_secret_id FROM ssh_profiles WHERE id = $1", &prm,
	    &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1 || db_res_uuid(res, 0, 1, &cred) != 0) {
		db_res_free(res);
		snprintf(err, SSH_ERR_MAX, "no such profile");
		return VT_ERR_NOT_FOUND;
	}
	name = xstrdup(db_res_text(res, 0, 0));
	db_res_free(res);
	res = NULL;
	/*
	 * The broker checks the credential's read gate again at connect time; checking it now too
	 * refuses a ticket that could only fail, with a clearer message.
	 */
	if ((r = vault_secrets_readable(tx, p, &cred, 1, &readable)) != 0)
		goto out;
	if (!readable) {
		snprintf(err, SSH_ERR_MAX, "you may not use this profile: its credential is in a "
		    "vault you cannot read%s", p->kind == PRINCIPAL_API_TOKEN ?
		    " (API tokens need vault:read)" : "");
		r = VT_ERR_FORBIDDEN;
		goto out;
	}
	n = bearer_token_new(SSH_TICKET_PREFIX, ticket, sizeof(ticket), h);
	VT_ASSERT(n == SSH_TICKET_LEN && SSH_TICKET_LEN <= SSH_TICKET_MAX);
	/* The app role may only INSERT tickets (no RETURNING): the expiry is computed first. */
	db_params_init(&prm);
	db_param_int(&prm, SSH_TICKET_TTL_S);
	r = db_query(tx, "SELECT " DB_SQL_RFC3339("e") ", e::text FROM "
			 "(SELECT now() + make_interval(secs => $1::integer) AS e) x", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	db_params_init(&prm);
	db_param_bytes(&prm, h, sizeof(h));
	db_param_uuid(&prm, db_tx_org(tx));
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	db_param_uuid(&prm, p->kind == PRINCIPAL_API_TOKEN ? &p->token_id : NULL);
	db_param_uuid(&prm, &pid);
	db_param_text(&prm, db_res_text(res, 0, 1));
	r = db_query(tx, "INSERT INTO ssh_tickets (ticket_hash, org_id, user_id, token_id, "
			 "profile_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz)", &prm,
	    NULL);
	db_params_free(&prm);
	sodium_memzero(h, sizeof(h));
	if (r != 0)
		goto out;
	/* Neither the ticket nor its hash: only which profile, and until when. */
	if ((r = profile_audit(tx, who, "SSH_TICKET_ISSUED", &pid,
	    json_packx("{s:s, s:s}", "profile", name, "expires_at", db_res_text(res, 0, 0)))) != 0)
		goto out;
	if (broker_host != NULL && broker_port > 0)
		cmd = xasprintf("ssh -p %d %s@%s", broker_port, name, broker_host);
	*out = json_packx("{s:s, s:s, s:s, s:s, s:s?}", "ticket", ticket, "expires_at",
	    db_res_text(res, 0, 0), "profile_id", pid_s, "profile", name, "ssh_command", cmd);
 out:
	sodium_memzero(ticket, sizeof(ticket));
	db_res_free(res);
	free(cmd);
	free(name);
	return r;
}

/* --- the org's recording switch -------------------------------------------------------------- */

int
ssh_org_recording_set(struct db_tx *tx, const struct principal *p, int enabled,
    const struct audit_actor *who)
{
	char oid[UUID_STR_LEN + 1];
	struct db_params prm;
	struct db_res *res = NULL;
	json_t *d;
	int r, was;

	if (p->kind != PRINCIPAL_USER || p->org_role < ORG_ROLE_ADMIN)
		return VT_ERR_FORBIDDEN;
	db_params_init(&prm);
	db_param_uuid(&prm, db_tx_org(tx));
	r = db_query(tx, "SELECT recording_enabled FROM orgs WHERE id = $1 FOR UPDATE", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND;
	}
	was = db_res_bool(res, 0, 0);
	db_res_free(res);
	db_params_init(&prm);
	db_param_uuid(&prm, db_tx_org(tx));
	db_param_bool(&prm, enabled);
	r = db_exec_one(tx, "UPDATE orgs SET recording_enabled = $2 WHERE id = $1", &prm);
	db_params_free(&prm);
	if (r != 0)
		return r;
	uuid_format(db_tx_org(tx), oid);
	d = json_packx("{s:b, s:b}", "recording_enabled", enabled != 0, "was", was);
	r = audit_record(tx, who, "ORG_UPDATED", "org", oid, AUDIT_SUCCESS, d);
	json_decref(d);
	return r;
}
