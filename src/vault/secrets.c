/*
 * Typed secrets. Metadata (type, name, tags, inject_only, version) is plain; every field value is
 * inside one envelope per version. A write validates the fields for the secret's type, seals them
 * under a fresh DEK and appends a version; concurrent writers are serialized on the secret's row,
 * so versions stay contiguous and `cas` detects a stale writer. A read of values (reveal, TOTP
 * code) opens exactly one envelope, after the authorization and inject-only checks, and writes
 * its audit row before anything is returned.
 */
#include "vault/vault_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/vtime.h"
#include "crypto/envelope.h"
#include "db/keystore.h"

#define SECRET_COLUMNS                                                                             \
	"s.id, s.vault_id, s.type, s.name, array_to_json(s.tags)::text, s.inject_only, "           \
	"s.version, " DB_SQL_RFC3339("s.created_at") ", " DB_SQL_RFC3339("s.updated_at") ", "     \
	"s.created_by, s.updated_by, vm.role"
/*
 * The envelope kind binds the inject-only flag the version was sealed with: a database writer who
 * flips secrets.inject_only to false gets an envelope that no longer opens, not a revealable one.
 */
#define SECRET_KIND "secret_version"
#define SECRET_KIND_INJECT_ONLY "secret_version+inject_only"

struct secret_meta {
	struct vt_uuid id;
	struct vt_uuid vault;
	enum secret_type type;
	int inject_only;
	int64_t version;
	enum vault_role member;
	json_t *json; /* the API metadata object */
};

static void
meta_clear(struct secret_meta *m)
{
	json_decref(m->json);
	memset(m, 0, sizeof(*m));
}

/* Row i of a SECRET_COLUMNS result into m. */
static int
meta_from_row(const struct db_res *res, int i, struct secret_meta *m)
{
	json_t *tags;
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = db_res_uuid(res, i, 0, &m->id)) != 0 || (r = db_res_uuid(res, i, 1, &m->vault)) != 0 ||
	    (r = db_res_int(res, i, 6, &m->version)) != 0)
		return r;
	if (secret_type_parse(db_res_text(res, i, 2), &m->type) != 0)
		return VT_ERR_DB;
	m->inject_only = db_res_bool(res, i, 5);
	m->member = db_res_isnull(res, i, 11) ? VAULT_ROLE_NONE :
	    authz_vault_role_parse(db_res_text(res, i, 11));
	tags = json_loads(db_res_text(res, i, 4), 0, NULL);
	if (!json_is_array(tags)) {
		json_decref(tags);
		tags = json_array();
	}
	m->json = json_packx("{s:s, s:s, s:s, s:s, s:o, s:b, s:I, s:s, s:s, s:s?, s:s?}", "id",
	    db_res_text(res, i, 0), "vault_id", db_res_text(res, i, 1), "type",
	    db_res_text(res, i, 2), "name", db_res_text(res, i, 3), "tags", tags, "inject_only",
	    m->inject_only, "version", (json_int_t)m->version, "created_at", db_res_text(res, i, 7),
	    "updated_at", db_res_text(res, i, 8), "created_by",
	    db_res_isnull(res, i, 9) ? NULL : db_res_text(res, i, 9), "updated_by",
	    db_res_isnull(res, i, 10) ? NULL : db_res_text(res, i, 10));
	return 0;
}

static int secret_load_envelope(struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, int for_update, enum vault_gate gate, struct secret_meta *m,
    struct vbuf *envelope);

/*
 * Loads a secret's metadata and the caller's membership role on its vault, and checks `gate`.
 * VT_ERR_NOT_FOUND for another org's secret or one the caller may not read.
 */
static int
secret_load(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id, int for_update,
    enum vault_gate gate, struct secret_meta *m)
{
	return secret_load_envelope(tx, p, id, for_update, gate, m, NULL);
}

/*
 * secret_load that also fetches the current version's envelope into `envelope` (when non-NULL)
 * in the same round trip: a reveal is one query fewer. Only ciphertext is fetched; nothing is
 * opened until the caller's checks pass.
 */
static int
secret_load_envelope(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    int for_update, enum vault_gate gate, struct secret_meta *m, struct vbuf *envelope)
{
	struct db_params prm;
	struct db_res *res = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	r = db_query(tx, envelope != NULL ?
		"SELECT " SECRET_COLUMNS ", sv.envelope FROM secrets s LEFT JOIN vault_members vm "
		"ON vm.vault_id = s.vault_id AND vm.user_id = $2 LEFT JOIN secret_versions sv "
		"ON sv.secret_id = s.id AND sv.version = s.version WHERE s.id = $1" :
		for_update ?
		"SELECT " SECRET_COLUMNS " FROM secrets s LEFT JOIN vault_members vm "
		"ON vm.vault_id = s.vault_id AND vm.user_id = $2 WHERE s.id = $1 FOR UPDATE OF s" :
		"SELECT " SECRET_COLUMNS " FROM secrets s LEFT JOIN vault_members vm "
		"ON vm.vault_id = s.vault_id AND vm.user_id = $2 WHERE s.id = $1",
	    &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return VT_ERR_NOT_FOUND;
	}
	r = meta_from_row(res, 0, m);
	/* A secret without its current version is a broken invariant: fail closed. */
	if (r == 0 && envelope != NULL)
		r = db_res_isnull(res, 0, 12) ? VT_ERR_INTERNAL : db_res_bytes(res, 0, 12, envelope);
	db_res_free(res);
	if (r == 0)
		r = authz_check(p, m->member, gate);
	if (r != 0)
		meta_clear(m);
	return r;
}

static void
secret_ctx(struct envelope_ctx *ctx, const struct vt_uuid *org, const struct vt_uuid *id,
    int64_t version, int inject_only)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->org = *org;
	ctx->kind = inject_only ? SECRET_KIND_INJECT_ONLY : SECRET_KIND;
	ctx->record = *id;
	ctx->version = (uint32_t)version;
}

/* Seals the canonical JSON of fields and appends it as `version` of the secret. */
static int
version_insert(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, int64_t version, int inject_only, const json_t *fields)
{
	struct envelope_ctx ctx;
	struct vbuf *blob = NULL;
	struct db_params prm;
	uint32_t kv;
	char *pt;
	size_t n;
	int r;

	if ((r = keystore_maybe_sync(tx, kr, 0)) != 0)
		return r;
	pt = json_dump_canonical(fields);
	n = strlen(pt);
	if (n > SECRET_PLAINTEXT_MAX) {
		sodium_memzero(pt, n);
		free(pt);
		return VT_ERR_TOO_LARGE;
	}
	blob = vbuf_new(ENVELOPE_OVERHEAD + n);
	secret_ctx(&ctx, db_tx_org(tx), id, version, inject_only);
	r = envelope_seal(kr, &ctx, (const uint8_t *)pt, n, blob);
	sodium_memzero(pt, n);
	free(pt);
	if (r != 0 || (r = envelope_key_version(vbuf_ptr(blob), vbuf_len(blob), &kv)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, db_tx_org(tx));
	db_param_uuid(&prm, id);
	db_param_int(&prm, version);
	db_param_int(&prm, kv);
	db_param_bytes(&prm, vbuf_ptr(blob), vbuf_len(blob));
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	db_param_bool(&prm, inject_only);
	r = db_query(tx, "INSERT INTO secret_versions (org_id, secret_id, version, key_version, "
			 "envelope, created_by, inject_only) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	    &prm, NULL);
	db_params_free(&prm);
 out:
	vbuf_free(blob);
	return r;
}

/* Opens an envelope of version `version` of a secret into a new JSON object (jansson memory is
 * wiped on free). */
static int
version_open(struct keyring *kr, struct db_tx *tx, const struct vt_uuid *id, int64_t version,
    int inject_only, const struct vbuf *blob, json_t **fields)
{
	struct envelope_ctx ctx;
	struct secmem *pt = NULL;
	uint32_t kv;
	int r;

	*fields = NULL;
	if (envelope_key_version(vbuf_ptr(blob), vbuf_len(blob), &kv) != 0)
		return VT_ERR_CRYPTO;
	/* A version added by a rotation elsewhere: load it now rather than fail. */
	if (!keyring_has_version(kr, kv) && (r = keystore_maybe_sync(tx, kr, 1)) != 0)
		return r;
	secret_ctx(&ctx, db_tx_org(tx), id, version, inject_only);
	if (envelope_open(kr, &ctx, vbuf_ptr(blob), vbuf_len(blob), &pt) != 0) {
		log_error("a secret version does not open (wrong master key, or a tampered or moved "
			  "row)");
		return VT_ERR_CRYPTO;
	}
	*fields = json_loadb((const char *)secmem_ptr(pt), secmem_len(pt), 0, NULL);
	r = json_is_object(*fields) ? 0 : VT_ERR_CRYPTO;
	if (r != 0) {
		json_decref(*fields);
		*fields = NULL;
	}
	secmem_free(pt);
	return r;
}

static int
tags_check(const json_t *tags, char err[static VAULT_ERR_MAX])
{
	size_t i;
	json_t *t;

	if (tags == NULL)
		return 0;
	json_array_foreach(tags, i, t) {
		const char *s = json_string_value(t);

		if (s == NULL || s[0] == '\0' || strlen(s) > SECRET_TAG_MAX || !json_text_printable(s)) {
			snprintf(err, VAULT_ERR_MAX, "field 'tags': each tag must be 1 to %d printable "
						     "bytes", SECRET_TAG_MAX);
			return VT_ERR_VALIDATION;
		}
	}
	return 0;
}

/* Reloads the metadata JSON after a write. */
static int
meta_reload(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id, json_t **out)
{
	struct secret_meta m;
	int r;

	*out = NULL;
	if ((r = secret_load(tx, p, id, 0, GATE_READ, &m)) != 0)
		return r;
	*out = m.json;
	m.json = NULL;
	meta_clear(&m);
	return 0;
}

static int
secret_audit(struct db_tx *tx, const struct audit_actor *who, const char *action,
    const struct vt_uuid *id, enum audit_outcome outcome, json_t *detail)
{
	char sid[UUID_STR_LEN + 1];
	int r;

	uuid_format(id, sid);
	r = audit_record(tx, who, action, "secret", sid, outcome, detail);
	json_decref(detail);
	return r;
}

int
secret_create(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *vault, const json_t *body, const struct audit_actor *who, json_t **out,
    char err[static VAULT_ERR_MAX])
{
	json_t *fields = json_without_nulls(json_object_get(body, "fields"));
	const json_t *tags = json_null_as_absent(json_object_get(body, "tags"));
	const char *name = json_get_str(body, "name");
	int inject_only = json_is_true(json_object_get(body, "inject_only"));
	char vid[UUID_STR_LEN + 1];
	enum secret_type type;
	enum vault_role eff;
	struct db_params prm;
	struct vt_uuid id;
	char *tags_s = NULL;
	int r;

	*out = NULL;
	if ((r = vault_access(tx, p, vault, GATE_WRITE, &eff)) != 0)
		goto out;
	if (secret_type_parse(json_get_str(body, "type"), &type) != 0) {
		snprintf(err, VAULT_ERR_MAX, "field 'type': must be one of PASSWORD, API_KEY, "
					     "SSH_KEY, ENV_VAR, SECURE_NOTE, TOTP, PAYMENT_CARD, "
					     "IDENTITY, PASSKEY");
		r = VT_ERR_VALIDATION;
		goto out;
	}
	if ((r = secret_fields_validate(type, fields, err)) != 0 || (r = tags_check(tags, err)) != 0)
		goto out;
	uuid_random(&id);
	tags_s = tags != NULL ? json_dump_canonical(tags) : xstrdup("[]");
	db_params_init(&prm);
	db_param_uuid(&prm, &id);
	db_param_uuid(&prm, db_tx_org(tx));
	db_param_uuid(&prm, vault);
	db_param_text(&prm, secret_type_str(type));
	db_param_text(&prm, name);
	db_param_text(&prm, tags_s);
	db_param_bool(&prm, inject_only);
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	r = db_query(tx, "INSERT INTO secrets (id, org_id, vault_id, type, name, tags, inject_only, "
			 "version, created_by, updated_by) VALUES ($1, $2, $3, $4, $5, "
			 "ARRAY(SELECT json_array_elements_text($6::json)), $7, 1, $8, $8)",
	    &prm, NULL);
	db_params_free(&prm);
	if (r == VT_ERR_CONFLICT)
		snprintf(err, VAULT_ERR_MAX, "a secret with this name already exists in the vault");
	if (r != 0)
		goto out;
	if ((r = version_insert(kr, tx, p, &id, 1, inject_only, fields)) != 0)
		goto out;
	/* The scanner's fingerprints commit with the version, or the write fails (fail closed). */
	if ((r = secret_fingerprints_replace(kr, tx, &id, type, fields)) != 0)
		goto out;
	uuid_format(vault, vid);
	if ((r = secret_audit(tx, who, "SECRET_CREATED", &id, AUDIT_SUCCESS,
	    json_packx("{s:s, s:s, s:s, s:i, s:b}", "vault_id", vid, "type",
		secret_type_str(type), "name", name, "version", 1, "inject_only", inject_only))) != 0)
		goto out;
	r = meta_reload(tx, p, &id, out);
 out:
	free(tags_s);
	json_decref(fields);
	return r;
}

int
secret_list(struct db_tx *tx, const struct principal *p, const struct vt_uuid *vault, int limit,
    const char *cursor, json_t **out)
{
	struct db_params prm;
	struct db_res *res = NULL;
	struct secret_meta m;
	enum vault_role eff;
	json_t *items;
	int r, i, n;

	*out = NULL;
	if ((r = vault_access(tx, p, vault, GATE_READ, &eff)) != 0)
		return r;
	db_params_init(&prm);
	db_param_uuid(&prm, vault);
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	db_param_text(&prm, cursor);
	db_param_int(&prm, limit + 1);
	r = db_query(tx, "SELECT " SECRET_COLUMNS " FROM secrets s LEFT JOIN vault_members vm "
			 "ON vm.vault_id = s.vault_id AND vm.user_id = $2 WHERE s.vault_id = $1 "
			 "AND ($3::uuid IS NULL OR s.id > $3::uuid) ORDER BY s.id LIMIT $4", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	items = json_array();
	n = db_page_rows(res, limit);
	for (i = 0; i < n; i++) {
		if ((r = meta_from_row(res, i, &m)) != 0) {
			json_decref(items);
			db_res_free(res);
			return r;
		}
		json_array_append(items, m.json);
		meta_clear(&m);
	}
	*out = json_packx("{s:o, s:s?}", "items", items, "next_cursor",
	    db_page_next(res, limit, 0));
	db_res_free(res);
	return 0;
}

int
secret_get(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id, json_t **out)
{
	return meta_reload(tx, p, id, out);
}

int
secret_update(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, const json_t *body, const struct audit_actor *who, json_t **out,
    char err[static VAULT_ERR_MAX])
{
	json_t *fields = json_without_nulls(json_object_get(body, "fields"));
	const json_t *tags = json_null_as_absent(json_object_get(body, "tags"));
	const json_t *inj = json_object_get(body, "inject_only");
	const json_t *cas = json_object_get(body, "cas");
	const char *name = json_get_str(body, "name");
	struct secret_meta m;
	struct db_params prm;
	char *tags_s = NULL;
	int64_t next;
	int r;

	*out = NULL;
	if ((r = secret_load(tx, p, id, 1, GATE_WRITE, &m)) != 0) {
		json_decref(fields);
		return r;
	}
	/* Clearing inject-only makes a secret revealable: that takes a vault admin. */
	if (m.inject_only && json_is_false(inj) &&
	    (r = authz_check(p, m.member, GATE_DELETE)) != 0) {
		snprintf(err, VAULT_ERR_MAX, "clearing inject_only needs the ADMIN or OWNER role");
		goto out;
	}
	if (cas != NULL && json_is_integer(cas) && json_integer_value(cas) != m.version) {
		snprintf(err, VAULT_ERR_MAX, "cas %lld does not match the current version %lld",
		    (long long)json_integer_value(cas), (long long)m.version);
		r = VT_ERR_VERSION_MISMATCH;
		goto out;
	}
	if ((r = secret_fields_validate(m.type, fields, err)) != 0 || (r = tags_check(tags, err)) != 0)
		goto out;
	next = m.version + 1;
	if ((r = version_insert(kr, tx, p, id, next,
	    json_is_boolean(inj) ? json_is_true(inj) : m.inject_only, fields)) != 0)
		goto out;
	/* The old version's fingerprints go, the new one's come, in this transaction. */
	if ((r = secret_fingerprints_replace(kr, tx, id, m.type, fields)) != 0)
		goto out;
	tags_s = tags != NULL ? json_dump_canonical(tags) : NULL;
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	db_param_int(&prm, next);
	db_param_text(&prm, name);
	db_param_text(&prm, tags_s);
	if (json_is_boolean(inj))
		db_param_bool(&prm, json_is_true(inj));
	else
		db_param_text(&prm, NULL);
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	r = db_exec_one(tx, "UPDATE secrets SET version = $2, name = coalesce($3, name), "
			    "tags = CASE WHEN $4::json IS NULL THEN tags "
			    "ELSE ARRAY(SELECT json_array_elements_text($4::json)) END, "
			    "inject_only = coalesce($5::boolean, inject_only), updated_by = $6, "
			    "updated_at = now() WHERE id = $1", &prm);
	db_params_free(&prm);
	free(tags_s);
	if (r == VT_ERR_CONFLICT)
		snprintf(err, VAULT_ERR_MAX, "a secret with this name already exists in the vault");
	if (r != 0)
		goto out;
	if ((r = secret_audit(tx, who, "SECRET_UPDATED", id, AUDIT_SUCCESS,
	    json_packx("{s:I, s:s?, s:o?}", "version", (json_int_t)next, "name", name,
		"inject_only", json_is_boolean(inj) ? json_boolean(json_is_true(inj)) : NULL))) != 0)
		goto out;
	r = meta_reload(tx, p, id, out);
 out:
	json_decref(fields);
	meta_clear(&m);
	return r;
}

int
secret_delete(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct audit_actor *who)
{
	struct secret_meta m;
	struct db_params prm;
	char vid[UUID_STR_LEN + 1];
	int r;

	if ((r = secret_load(tx, p, id, 1, GATE_DELETE, &m)) != 0)
		return r;
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	/* The versions (ciphertexts) and the scanner's fingerprints go with the row (CASCADE). */
	r = db_exec_one(tx, "DELETE FROM secrets WHERE id = $1", &prm);
	db_params_free(&prm);
	if (r == 0) {
		uuid_format(&m.vault, vid);
		r = secret_audit(tx, who, "SECRET_DELETED", id, AUDIT_SUCCESS,
		    json_packx("{s:s, s:s, s:O}", "vault_id", vid, "type", secret_type_str(m.type),
			"name", json_object_get(m.json, "name")));
	}
	meta_clear(&m);
	return r;
}

/* Records a refused read of an inject-only secret (committed by the caller despite the 403). */
static int
deny_inject_only(struct db_tx *tx, const struct audit_actor *who, const struct secret_meta *m,
    const char *action)
{
	int r = secret_audit(tx, who, action, &m->id, AUDIT_DENIED,
	    json_packx("{s:s, s:I}", "reason", "inject_only", "version", (json_int_t)m->version));

	return r != 0 ? r : VT_ERR_FORBIDDEN;
}

int
secret_reveal(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, const char *reason, const struct audit_actor *who, json_t **out)
{
	struct vbuf *blob = vbuf_new(ENVELOPE_OVERHEAD + SECRET_PLAINTEXT_MAX);
	struct secret_meta m;
	json_t *fields = NULL;
	char sid[UUID_STR_LEN + 1];
	int r;

	*out = NULL;
	if ((r = secret_load_envelope(tx, p, id, 0, GATE_READ, &m, blob)) != 0)
		goto out;
	if (m.inject_only) {
		r = deny_inject_only(tx, who, &m, "SECRET_REVEAL_DENIED");
		goto out;
	}
	if ((r = version_open(kr, tx, id, m.version, m.inject_only, blob, &fields)) != 0)
		goto out;
	/* The audit row is written (and committed by the caller) before any value leaves. */
	if ((r = secret_audit(tx, who, "SECRET_REVEALED", id, AUDIT_SUCCESS,
	    json_packx("{s:I, s:s, s:s?}", "version", (json_int_t)m.version, "type",
		secret_type_str(m.type), "reason", reason))) != 0)
		goto out;
	uuid_format(id, sid);
	*out = json_packx("{s:s, s:I, s:s, s:o}", "id", sid, "version", (json_int_t)m.version,
	    "type", secret_type_str(m.type), "fields", fields);
	fields = NULL;
 out:
	vbuf_free(blob);
	json_decref(fields);
	meta_clear(&m);
	return r;
}

int
secret_open_for_inject(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, const struct audit_actor *who, json_t *detail,
    enum secret_type *type, int64_t *version, json_t **fields)
{
	struct vbuf *blob = vbuf_new(ENVELOPE_OVERHEAD + SECRET_PLAINTEXT_MAX);
	struct secret_meta m;
	json_t *opened = NULL;
	int r;

	*fields = NULL;
	if (detail == NULL)
		detail = json_object();
	if ((r = secret_load_envelope(tx, p, id, 0, GATE_READ, &m, blob)) != 0)
		goto out;
	if ((r = version_open(kr, tx, id, m.version, m.inject_only, blob, &opened)) != 0)
		goto out;
	/* The row is in the caller's transaction: nothing is injected unless it commits. */
	if (json_object_set_new(detail, "version", json_integer(m.version)) != 0 ||
	    json_object_set_new(detail, "type", json_string(secret_type_str(m.type))) != 0 ||
	    json_object_set_new(detail, "inject_only", json_boolean(m.inject_only)) != 0) {
		r = VT_ERR_NOMEM;
		goto out;
	}
	r = secret_audit(tx, who, "CREDENTIAL_INJECTED", id, AUDIT_SUCCESS, detail);
	detail = NULL;
	if (r != 0)
		goto out;
	*type = m.type;
	*version = m.version;
	*fields = opened;
	opened = NULL;
 out:
	json_decref(detail);
	vbuf_free(blob);
	json_decref(opened);
	meta_clear(&m);
	return r;
}

int
secret_totp(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, const struct audit_actor *who, json_t **out)
{
	struct vbuf *blob = vbuf_new(ENVELOPE_OVERHEAD + SECRET_PLAINTEXT_MAX);
	struct secret_meta m;
	struct totp_params tp;
	json_t *fields = NULL;
	char code[TOTP_CODE_MAX + 1];
	int64_t now = vtime_now_us() / 1000000;
	int r;

	*out = NULL;
	memset(&tp, 0, sizeof(tp));
	if ((r = secret_load_envelope(tx, p, id, 0, GATE_READ, &m, blob)) != 0)
		goto out;
	if (m.type != SECRET_TOTP) {
		r = VT_ERR_VALIDATION;
		goto out;
	}
	if (m.inject_only) {
		r = deny_inject_only(tx, who, &m, "TOTP_CODE_DENIED");
		goto out;
	}
	if ((r = version_open(kr, tx, id, m.version, m.inject_only, blob, &fields)) != 0)
		goto out;
	if (secret_totp_params(fields, &tp) != 0 ||
	    totp_code_str(tp.alg, tp.seed, tp.seedlen, now, tp.period, tp.digits, code) != 0) {
		r = VT_ERR_INTERNAL; /* validated at write time */
		goto out;
	}
	if ((r = secret_audit(tx, who, "TOTP_CODE_GENERATED", id, AUDIT_SUCCESS,
	    json_packx("{s:I}", "version", (json_int_t)m.version))) != 0)
		goto out;
	*out = json_packx("{s:s, s:i, s:i, s:i}", "code", code, "digits", tp.digits, "period",
	    tp.period, "remaining_seconds", tp.period - (int)(now % tp.period));
 out:
	vbuf_free(blob);
	sodium_memzero(&tp, sizeof(tp));
	sodium_memzero(code, sizeof(code));
	json_decref(fields);
	meta_clear(&m);
	return r;
}
