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
	uint64_t scanner_keys;
	uint64_t recording_chunks;  /* broker session recordings (envelope per chunk) */
};
/*
 * `vaultterm operator rotate-master`: adds master key version current+1 (stored wrapped under the
 * root), waits settle_ms so running servers start wrapping new data keys under it, then re-wraps
 * every secret version's DEK of every org (one transaction per batch, audited as
 * MASTER_KEY_ROTATED in each org), every org's recording chunks and scanner key and every
 * user's TOTP seed, until nothing older remains.
 */
int vault_rotate_master(struct db_pool *pool, struct keyring *kr, uint64_t settle_ms,
    struct rotate_report *rep, char err[static VAULT_ERR_MAX]) VT_WUR;

/* --- fingerprints.c: keyed fingerprints of stored values for the exposure scanner --- */

/*
 * Which values of a secret the scanner recognizes (docs/scanner-server.md): the credential fields
 * — PASSWORD.password, API_KEY.key, SSH_KEY.private_key and .passphrase, ENV_VAR.value,
 * SECURE_NOTE.body, TOTP.seed (and the secret= part of an otpauth:// seed), PAYMENT_CARD.number
 * (and its digits alone when written with spaces or dashes) and .cvv, PASSKEY.private_key. Names,
 * usernames, URLs, notes, PASSWORD.custom, IDENTITY and public keys are not credentials and are
 * not fingerprinted. Values shorter than SCAN_FP_MIN_LEN (8) give no fingerprint (a CVV never
 * does).
 */
#define VAULT_FP_VALUES_MAX 8   /* fingerprinted values of one secret version, at most */
#define VAULT_FP_FIELD_MAX 32   /* bytes of a field name in a label */

/* 1 if field `field` of type t is fingerprinted. */
int secret_fp_sensitive(enum secret_type t, const char *field);

enum secret_fp_form {
	SECRET_FP_AS_IS,  /* the bytes as they are */
	SECRET_FP_DIGITS, /* only the ASCII digits of the bytes (a card number without separators) */
};
/* One value to fingerprint: a slice of a string inside `fields` (borrowed, no copy). */
struct secret_fp_value {
	const char *field;
	const char *ptr;
	size_t len;
	enum secret_fp_form form;
};
/*
 * The values of validated `fields` of type t to fingerprint, in field-table order, into out[0 ..
 * *n). Pure: no key, no database. Empty values are skipped.
 */
void secret_fp_values(enum secret_type t, const json_t *fields,
    struct secret_fp_value out[static VAULT_FP_VALUES_MAX], size_t *n);

/* Label of a fingerprint in a scan_fpset: "<secret uuid>/<field>" (SCAN_FP_LABEL_MAX fits it). */
void vault_fp_label_format(const struct vt_uuid *secret, const char *field, char *out,
    size_t outsz);
/* Parses a label made by vault_fp_label_format. VT_ERR_INVALID if it is not one. */
int vault_fp_label_parse(const char *label, struct vt_uuid *secret,
    char field[static VAULT_FP_FIELD_MAX + 1]) VT_WUR;

struct scan_fpset;
/*
 * The transaction's org's fingerprints as a scan_fpset (labels as above), under the org's scanner
 * key (opened into guarded memory, wiped once the set holds its copy). *out is NULL when the org
 * has no scanner key yet (no secret was ever fingerprinted). Owned by the caller
 * (scan_fpset_free).
 */
int vault_fpset_load(struct db_tx *tx, struct keyring *kr, struct scan_fpset **out) VT_WUR;

/*
 * For each of ids[0 .. n), whether the principal may read that secret's metadata (the vault's
 * read gate) in the transaction's org: readable[i] = 1 or 0. Unknown ids (deleted meanwhile,
 * another org's) are 0.
 */
int vault_secrets_readable(struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *ids, size_t n, int *readable) VT_WUR;

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
/*
 * Just-in-time injection (the SSH broker, and only it): opens the current version of secret `id`
 * for principal p under the vault's read gate — an inject-only secret IS allowed here, the one
 * place it is — and appends CREDENTIAL_INJECTED (resource: the secret; detail: its version and
 * type merged into `detail`, which is stolen and may be NULL; never a value) in the caller's
 * transaction. The caller must commit before using *fields, and wipe them (json_decref wipes)
 * as soon as upstream authentication is done. VT_ERR_NOT_FOUND for a secret the principal may not
 * read (or another org's).
 */
int secret_open_for_inject(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, const struct audit_actor *who, json_t *detail,
    enum secret_type *type, int64_t *version, json_t **fields) VT_WUR;
/* The current TOTP code of a TOTP secret: {code, digits, period, remaining_seconds}. Same
 * inject-only rule as reveal. */
int secret_totp(struct keyring *kr, struct db_tx *tx, const struct principal *p,
    const struct vt_uuid *id, const struct audit_actor *who, json_t **out) VT_WUR;

#endif
