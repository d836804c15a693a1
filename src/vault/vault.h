/*
 * Vaults and typed secrets. A vault belongs to one org and has members with roles VIEWER < EDITOR
 * < ADMIN < OWNER; every decision goes through authz_check(). A secret is metadata (type, name,
 * tags, inject_only, version) plus versions whose fields are one envelope each: a fresh DEK per
 * version, AES-256-GCM, the DEK wrapped under the newest master key version, AAD bound to (org,
 * "secret_version", secret id, version). Plaintext exists only inside a reveal/TOTP request, in
 * guarded or wiped memory, after its audit row is written; no endpoint opens more than one secret
 * per request, and inject-only secrets are never opened for a reader.
 *
 * Every function runs in the caller's request transaction with the org context set, writes its
 * audit row there, and never commits.
 */
#ifndef VT_VAULT_VAULT_H
#define VT_VAULT_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "auth/principal.h"
#include "base/util.h"
#include "crypto/keyring.h"
#include "crypto/totp.h"
#include "db/db.h"

#define VAULT_ERR_MAX 256
#define VAULT_NAME_MAX 100
#define VAULT_DESC_MAX 1000
#define SECRET_NAME_MAX 200
#define SECRET_TAGS_MAX 32
#define SECRET_TAG_MAX 64
#define SECRET_REASON_MAX 500
#define SECRET_FIELD_MAX (256 * 1024)       /* bytes of one field value */
#define SECRET_PLAINTEXT_MAX (768 * 1024)   /* bytes of a version's canonical fields JSON */
#define SECRET_CUSTOM_MAX 50                /* PASSWORD.custom entries */
#define SECRET_LIST_MAX 500

enum secret_type {
	SECRET_PASSWORD,
	SECRET_API_KEY,
	SECRET_SSH_KEY,
	SECRET_ENV_VAR,
	SECRET_SECURE_NOTE,
	SECRET_TOTP,
	SECRET_PAYMENT_CARD,
	SECRET_IDENTITY,
	SECRET_PASSKEY,
};

/* --- types.c: the nine types and their fields --- */

int secret_type_parse(const char *s, enum secret_type *t) VT_WUR;
const char *secret_type_str(enum secret_type t);
/*
 * Validates `fields` (a JSON object) for type t: unknown fields, wrong JSON types, missing or
 * empty required fields, sizes, and per-type formats (SSH private keys parse as Ed25519, RSA or
 * ECDSA with their passphrase; TOTP seeds decode; card numbers pass Luhn; ...). 0, or
 * VT_ERR_VALIDATION with "field 'x': ..." in err (never a value).
 */
int secret_fields_validate(enum secret_type t, const json_t *fields, char err[static VAULT_ERR_MAX]) VT_WUR;

struct totp_params {
	uint8_t seed[TOTP_SECRET_MAX];
	size_t seedlen;
	int digits;
	int period;
	enum hmac_alg alg;
};
/* The TOTP parameters of validated TOTP fields (seed: base32 or an otpauth:// URI). */
int secret_totp_params(const json_t *fields, struct totp_params *out) VT_WUR;

/* --- keys.c: master key rotation --- */

struct rotate_report {
	uint32_t new_version;
	uint64_t orgs;
	uint64_t secret_versions;
	uint64_t totp_seeds;
};
/*
 * `vaultterm operator rotate-master`: adds master key version current+1 (stored wrapped under the
 * root), waits settle_ms so running servers start wrapping new data keys under it, then re-wraps
 * every secret version's DEK of every org (one transaction per batch, audited as
 * MASTER_KEY_ROTATED in each org) and every user's TOTP seed, until nothing older remains.
 */
int vault_rotate_master(struct db_pool *pool, struct keyring *kr, uint64_t settle_ms,
    struct rotate_report *rep, char err[static VAULT_ERR_MAX]) VT_WUR;

/* --- vaults.c --- */

int vault_create(struct db_tx *tx, const struct principal *p, const json_t *body,
    const struct audit_actor *who, json_t **out, char err[static VAULT_ERR_MAX]) VT_WUR;
int vault_list(struct db_tx *tx, const struct principal *p, int limit, const char *cursor,
    json_t **out) VT_WUR;
int vault_get(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    json_t **out) VT_WUR;
int vault_update(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const json_t *body, const struct audit_actor *who, json_t **out,
    char err[static VAULT_ERR_MAX]) VT_WUR;
int vault_delete(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct audit_actor *who) VT_WUR;
int vault_members(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    int limit, const char *cursor, json_t **out) VT_WUR;
int vault_member_put(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct vt_uuid *user, const char *role, const struct audit_actor *who, json_t **out,
    char err[static VAULT_ERR_MAX]) VT_WUR;
int vault_member_delete(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct vt_uuid *user, const struct audit_actor *who,
    char err[static VAULT_ERR_MAX]) VT_WUR;

/* --- secrets.c --- */

int secret_create(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *vault, const json_t *body, const struct audit_actor *who, json_t **out,
    char err[static VAULT_ERR_MAX]) VT_WUR;
int secret_list(struct db_tx *tx, const struct principal *p, const struct vt_uuid *vault,
    int limit, const char *cursor, json_t **out) VT_WUR;
int secret_get(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    json_t **out) VT_WUR;
int secret_update(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, const json_t *body, const struct audit_actor *who, json_t **out,
    char err[static VAULT_ERR_MAX]) VT_WUR;
int secret_delete(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct audit_actor *who) VT_WUR;
/*
 * Reveal: {id, version, type, fields}. An inject-only secret is refused (VT_ERR_FORBIDDEN) and
 * the refusal is audited (SECRET_REVEAL_DENIED): the caller must commit despite the error.
 */
int secret_reveal(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, const char *reason, const struct audit_actor *who, json_t **out) VT_WUR;
/* The current TOTP code of a TOTP secret: {code, digits, period, remaining_seconds}. Same
 * inject-only rule as reveal. */
int secret_totp(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, const struct audit_actor *who, json_t **out) VT_WUR;

#endif
