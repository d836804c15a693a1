/*
 * Vault fingerprints for the exposure scanner (docs/scanner-server.md): at every write of a
 * secret version, the credential fields' values are turned into keyed fingerprints
 * (scan_fp_compute: SipHash of the value's longest token as the fast filter, HMAC-SHA256 of the
 * whole value as the proof) under the org's scanner key, and stored in secret_fingerprints in the
 * write's own transaction, replacing the previous version's. The values themselves are never
 * stored. The scanner key — 48 random bytes per org — is sealed under the master key as an
 * envelope of kind "scanner_key", created on the org's first fingerprinted write, opened into
 * guarded memory for as long as one write or one fingerprint-set load needs it, and re-wrapped by
 * master key rotation like every other envelope.
 */
#include "vault/vault_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "db/keystore.h"
#include "scan/scan.h"

#define SCANNER_KEY_KIND "scanner_key"
#define SCANNER_KEY_ENVELOPE_LEN (ENVELOPE_OVERHEAD + SCAN_FP_KEYS_LEN)
/* Rows of one secret version: two forms (as is, trimmed) of each value. */
#define FP_ROWS_MAX (2 * VAULT_FP_VALUES_MAX)
/* The text arrays of one INSERT: per row a field name, an int64, two ints, 64 hex digits. */
#define FP_ARRAY_MAX (FP_ROWS_MAX * (VAULT_FP_FIELD_MAX + 2) + 64)
#define FP_MAC_ARRAY_MAX (FP_ROWS_MAX * (2 * 32 + 2) + 64)

struct fp_field {
	enum secret_type type;
	const char *field;
};

/*
 * The credential fields (see vault.h for what is left out and why). Order: the field table's
 * order in types.c, so a secret's labels come out in a stable order.
 */
static const struct fp_field FP_FIELDS[] = {
	{ SECRET_PASSWORD, "password" },
	{ SECRET_API_KEY, "key" },
	{ SECRET_SSH_KEY, "private_key" },
	{ SECRET_SSH_KEY, "passphrase" },
	{ SECRET_ENV_VAR, "value" },
	{ SECRET_SECURE_NOTE, "body" },
	{ SECRET_TOTP, "seed" },
	{ SECRET_PAYMENT_CARD, "number" },
	{ SECRET_PAYMENT_CARD, "cvv" },
	{ SECRET_PASSKEY, "private_key" },
};

int
secret_fp_sensitive(enum secret_type t, const char *field)
{
	size_t i;

	for (i = 0; field != NULL && i < VT_NELEM(FP_FIELDS); i++) {
		if (FP_FIELDS[i].type == t && strcmp(FP_FIELDS[i].field, field) == 0)
			return 1;
	}
	return 0;
}

/*
 * The value of the secret= parameter of an otpauth:// URI, as it is written in the URI (the form
 * that shows up when the URI is printed; base32 needs no percent-encoding). *n = 0 if none.
 */
static const char *
otpauth_secret(const char *uri, size_t len, size_t *n)
{
	size_t i, j;

	*n = 0;
	for (i = 0; i < len && uri[i] != '?' && uri[i] != '#'; i++)
		;
	while (i < len && uri[i] != '#') {
		i++; /* past '?' or '&' */
		if (len - i > 7 && strncasecmp(uri + i, "secret=", 7) == 0) {
			for (j = i + 7; j < len && uri[j] != '&' && uri[j] != '#'; j++)
				;
			*n = j - (i + 7);
			return uri + i + 7;
		}
		while (i < len && uri[i] != '&' && uri[i] != '#')
			i++;
	}
	return NULL;
}

static void
fp_value_add(struct secret_fp_value out[static VAULT_FP_VALUES_MAX], size_t *n, const char *field,
    const char *ptr, size_t len, enum secret_fp_form form)
{
	VT_ASSERT(*n < VAULT_FP_VALUES_MAX);
	out[*n].field = field;
	out[*n].ptr = ptr;
	out[*n].len = len;
	out[*n].form = form;
	(*n)++;
}

void
secret_fp_values(enum secret_type t, const json_t *fields,
    struct secret_fp_value out[static VAULT_FP_VALUES_MAX], size_t *n)
{
	size_t i, j, len, slen;
	const char *s, *sec;
	json_t *v;

	*n = 0;
	for (i = 0; i < VT_NELEM(FP_FIELDS); i++) {
		if (FP_FIELDS[i].type != t)
			continue;
		v = json_object_get(fields, FP_FIELDS[i].field);
		if (!json_is_string(v) || (len = json_string_length(v)) == 0)
			continue;
		s = json_string_value(v);
		fp_value_add(out, n, FP_FIELDS[i].field, s, len, SECRET_FP_AS_IS);
		/* The base32 secret inside an otpauth:// URI is what a `cat` or a QR decoder prints. */
		if (t == SECRET_TOTP && len > 10 && strncasecmp(s, "otpauth://", 10) == 0 &&
		    (sec = otpauth_secret(s, len, &slen)) != NULL && slen > 0)
			fp_value_add(out, n, FP_FIELDS[i].field, sec, slen, SECRET_FP_AS_IS);
		/* A card number stored as "4111 1111 …" is printed as often without the spaces. */
		if (t == SECRET_PAYMENT_CARD && strcmp(FP_FIELDS[i].field, "number") == 0) {
			for (j = 0; j < len && s[j] >= '0' && s[j] <= '9'; j++)
				;
			if (j < len)
				fp_value_add(out, n, FP_FIELDS[i].field, s, len, SECRET_FP_DIGITS);
		}
	}
}

void
vault_fp_label_format(const struct vt_uuid *secret, const char *field, char *out, size_t outsz)
{
	char sid[UUID_STR_LEN + 1];

	uuid_format(secret, sid);
	snprintf(out, outsz, "%s/%s", sid, field);
}

int
vault_fp_label_parse(const char *label, struct vt_uuid *secret,
    char field[static VAULT_FP_FIELD_MAX + 1])
{
	char sid[UUID_STR_LEN + 1];
	size_t i, n;

	field[0] = '\0';
	if (label == NULL || strnlen(label, UUID_STR_LEN + 1) < UUID_STR_LEN + 1 ||
	    label[UUID_STR_LEN] != '/')
		return VT_ERR_INVALID;
	memcpy(sid, label, UUID_STR_LEN);
	sid[UUID_STR_LEN] = '\0';
	if (uuid_parse(sid, secret) != 0)
		return VT_ERR_INVALID;
	label += UUID_STR_LEN + 1;
	n = strnlen(label, VAULT_FP_FIELD_MAX + 1);
	if (n == 0 || n > VAULT_FP_FIELD_MAX)
		return VT_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (!((label[i] >= 'a' && label[i] <= 'z') || label[i] == '_'))
			return VT_ERR_INVALID;
	}
	memcpy(field, label, n + 1);
	return 0;
}

/* ---- the org's scanner key ------------------------------------------------------------------ */

static void
scanner_key_ctx(struct envelope_ctx *ctx, const struct vt_uuid *org)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->org = *org;
	ctx->kind = SCANNER_KEY_KIND;
	ctx->record = *org; /* one key per org: the org is also the record */
	ctx->version = 1;
}

/* The org's sealed scanner key into blob; *found = 0 when the org has none. */
static int
scanner_key_read(struct db_tx *tx, struct vbuf *blob, int *found)
{
	struct db_params prm;
	struct db_res *res = NULL;
	int r;

	*found = 0;
	vbuf_reset(blob);
	db_params_init(&prm);
	db_param_uuid(&prm, db_tx_org(tx));
	r = db_query(tx, "SELECT envelope FROM scanner_keys WHERE org_id = $1", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	if (db_res_rows(res) == 1) {
		r = db_res_bytes(res, 0, 0, blob);
		*found = r == 0;
	}
	db_res_free(res);
	return r;
}

/*
 * Seals 48 fresh random bytes under the current master key version and stores them, unless a
 * concurrent first write stored its own first (then that one is used: ON CONFLICT DO NOTHING
 * waits for the other transaction and keeps its row).
 */
static int
scanner_key_create(struct keyring *kr, struct db_tx *tx)
{
	struct envelope_ctx ctx;
	struct secmem *keys = NULL;
	struct vbuf *blob = vbuf_new(SCANNER_KEY_ENVELOPE_LEN);
	struct db_params prm;
	uint32_t kv;
	int r;

	if ((r = keystore_maybe_sync(tx, kr, 0)) != 0)
		goto out;
	if ((keys = secmem_new(SCAN_FP_KEYS_LEN)) == NULL) {
		r = VT_ERR_NOMEM;
		goto out;
	}
	random_bytes(secmem_ptr(keys), SCAN_FP_KEYS_LEN);
	scanner_key_ctx(&ctx, db_tx_org(tx));
	if ((r = envelope_seal(kr, &ctx, secmem_ptr(keys), SCAN_FP_KEYS_LEN, blob)) != 0 ||
	    (r = envelope_key_version(vbuf_ptr(blob), vbuf_len(blob), &kv)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, db_tx_org(tx));
	db_param_int(&prm, kv);
	db_param_bytes(&prm, vbuf_ptr(blob), vbuf_len(blob));
	r = db_query(tx, "INSERT INTO scanner_keys (org_id, key_version, envelope) VALUES ($1, $2, "
			 "$3) ON CONFLICT (org_id) DO NOTHING", &prm, NULL);
	db_params_free(&prm);
 out:
	secmem_free(keys);
	vbuf_free(blob);
	return r;
}

/*
 * Opens the org's scanner key into new guarded memory (SCAN_FP_KEYS_LEN bytes, owned by the
 * caller). Without a stored key: created first when `create`, else *keys stays NULL (and 0).
 */
static int
scanner_key_open(struct keyring *kr, struct db_tx *tx, int create, struct secmem **keys)
{
	struct vbuf *blob = vbuf_new(SCANNER_KEY_ENVELOPE_LEN);
	struct envelope_ctx ctx;
	uint32_t kv;
	int r, found;

	*keys = NULL;
	if (db_tx_org(tx) == NULL) {
		r = VT_ERR_INTERNAL; /* a scanner key always belongs to an org */
		goto out;
	}
	if ((r = scanner_key_read(tx, blob, &found)) != 0)
		goto out;
	if (!found && create) {
		if ((r = scanner_key_create(kr, tx)) != 0 ||
		    (r = scanner_key_read(tx, blob, &found)) != 0)
			goto out;
		if (!found) {
			r = VT_ERR_INTERNAL;
			goto out;
		}
	}
	if (!found)
		goto out; /* r == 0, *keys == NULL */
	if (envelope_key_version(vbuf_ptr(blob), vbuf_len(blob), &kv) != 0) {
		r = VT_ERR_CRYPTO;
		goto out;
	}
	/* Re-wrapped by a rotation elsewhere: load that version rather than fail. */
	if (!keyring_has_version(kr, kv) && (r = keystore_maybe_sync(tx, kr, 1)) != 0)
		goto out;
	scanner_key_ctx(&ctx, db_tx_org(tx));
	if (envelope_open(kr, &ctx, vbuf_ptr(blob), vbuf_len(blob), keys) != 0 ||
	    secmem_len(*keys) != SCAN_FP_KEYS_LEN) {
		log_error("an organization's scanner key does not open (wrong master key, or a "
			  "tampered or moved row)");
		secmem_free(*keys);
		*keys = NULL;
		r = VT_ERR_CRYPTO;
		goto out;
	}
	r = 0;
 out:
	vbuf_free(blob);
	return r;
}

/* ---- writing fingerprints ------------------------------------------------------------------- */

/* The rows of one INSERT, as PostgreSQL array literals (no value is secret: keyed hashes only). */
struct fp_rows {
	size_t n;
	struct {
		const char *field;
		struct scan_fp fp;
	} row[FP_ROWS_MAX];
};

static void
fp_rows_add(struct fp_rows *rows, const char *field, const struct scan_fp *fp)
{
	size_t i;

	/* The same fingerprint twice (a trimmed form equal to a digits-only one): keep one. */
	for (i = 0; i < rows->n; i++) {
		if (strcmp(rows->row[i].field, field) == 0 &&
		    sodium_memcmp(rows->row[i].fp.mac, fp->mac, sizeof(fp->mac)) == 0)
			return;
	}
	VT_ASSERT(rows->n < FP_ROWS_MAX);
	rows->row[rows->n].field = field;
	rows->row[rows->n].fp = *fp;
	rows->n++;
}

/* A uint64 as the int64 PostgreSQL's bigint holds (the same 64 bits). */
static int64_t
sip_to_db(uint64_t v)
{
	int64_t s;

	memcpy(&s, &v, sizeof(s));
	return s;
}

static uint64_t
sip_from_db(int64_t v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	return u;
}

/* Appends "{a,b,...}"-style element text; VT_ERR_INTERNAL if the bounded buffer is too small. */
static int
arr_put(struct vbuf *b, size_t i, const char *s)
{
	if (i > 0 && vbuf_put(b, ",", 1) != 0)
		return VT_ERR_INTERNAL;
	return vbuf_put(b, s, strlen(s)) != 0 ? VT_ERR_INTERNAL : 0;
}

static int
fp_rows_insert(struct db_tx *tx, const struct vt_uuid *secret, const struct fp_rows *rows)
{
	struct vbuf *a[5];
	const char *txt[5];
	struct db_params prm;
	char num[32], mac[2 * 32 + 1];
	size_t i, k;
	int r = 0;

	for (k = 0; k < 5; k++)
		a[k] = vbuf_new(k == 4 ? FP_MAC_ARRAY_MAX : FP_ARRAY_MAX);
	for (k = 0; k < 5 && r == 0; k++)
		r = vbuf_put(a[k], "{", 1) != 0 ? VT_ERR_INTERNAL : 0;
	for (i = 0; i < rows->n && r == 0; i++) {
		const struct scan_fp *fp = &rows->row[i].fp;

		if ((r = arr_put(a[0], i, rows->row[i].field)) != 0)
			break;
		snprintf(num, sizeof(num), "%lld", (long long)sip_to_db(fp->anchor_sip));
		if ((r = arr_put(a[1], i, num)) != 0)
			break;
		snprintf(num, sizeof(num), "%u", fp->anchor_off);
		if ((r = arr_put(a[2], i, num)) != 0)
			break;
		snprintf(num, sizeof(num), "%u", fp->len);
		if ((r = arr_put(a[3], i, num)) != 0)
			break;
		hex_encode(fp->mac, sizeof(fp->mac), mac);
		r = arr_put(a[4], i, mac);
	}
	for (k = 0; k < 5 && r == 0; k++)
		r = vbuf_put(a[k], "}", 1) != 0 || vbuf_cstr(a[k], &txt[k]) != 0 ? VT_ERR_INTERNAL : 0;
	if (r != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, db_tx_org(tx));
	db_param_uuid(&prm, secret);
	for (k = 0; k < 5; k++)
		db_param_text(&prm, txt[k]);
	r = db_query(tx, "INSERT INTO secret_fingerprints (org_id, secret_id, field, anchor_sip, "
			 "anchor_off, len, mac) SELECT $1, $2, f, s, o, l, decode(m, 'hex') FROM "
			 "unnest($3::text[], $4::bigint[], $5::integer[], $6::integer[], $7::text[]) "
			 "AS t(f, s, o, l, m)", &prm, NULL);
	db_params_free(&prm);
 out:
	for (k = 0; k < 5; k++)
		vbuf_free(a[k]);
	return r;
}

/* Fingerprints of one value (in its form) into rows. */
static int
fp_value_compute(const uint8_t keys[static SCAN_FP_KEYS_LEN], const struct secret_fp_value *v,
    struct fp_rows *rows)
{
	struct secmem *digits = NULL;
	struct scan_fp fp[2];
	const void *p = v->ptr;
	size_t i, n = v->len, nfp = 0;
	int r;

	if (v->form == SECRET_FP_DIGITS) {
		/* A copy of a card number's digits: guarded, wiped on free. */
		if ((digits = secmem_new(v->len)) == NULL)
			return VT_ERR_NOMEM;
		for (i = 0, n = 0; i < v->len; i++) {
			if (v->ptr[i] >= '0' && v->ptr[i] <= '9')
				secmem_ptr(digits)[n++] = (uint8_t)v->ptr[i];
		}
		p = secmem_ptr(digits);
	}
	r = scan_fp_compute(keys, p, n, fp, &nfp);
	secmem_free(digits);
	for (i = 0; r == 0 && i < nfp && i < 2; i++)
		fp_rows_add(rows, v->field, &fp[i]);
	sodium_memzero(fp, sizeof(fp));
	return r;
}

int
secret_fingerprints_replace(struct keyring *kr, struct db_tx *tx, const struct vt_uuid *secret,
    enum secret_type t, const json_t *fields)
{
	struct secret_fp_value v[VAULT_FP_VALUES_MAX];
	struct secmem *keys = NULL;
	struct fp_rows *rows = xcalloc(1, sizeof(*rows));
	struct db_params prm;
	size_t i, nv;
	int r;

	/* The previous version's fingerprints go first, whatever the new version has. */
	db_params_init(&prm);
	db_param_uuid(&prm, secret);
	r = db_query(tx, "DELETE FROM secret_fingerprints WHERE secret_id = $1", &prm, NULL);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	secret_fp_values(t, fields, v, &nv);
	if (nv == 0)
		goto out;
	if ((r = scanner_key_open(kr, tx, 1, &keys)) != 0)
		goto out;
	for (i = 0; i < nv; i++) {
		if ((r = fp_value_compute(secmem_ptr(keys), &v[i], rows)) != 0)
			goto out;
	}
	if (rows->n > 0)
		r = fp_rows_insert(tx, secret, rows);
 out:
	secmem_free(keys);
	sodium_memzero(v, sizeof(v));
	sodium_memzero(rows, sizeof(*rows));
	free(rows);
	return r;
}

/* ---- reading fingerprints ------------------------------------------------------------------- */

int
vault_fpset_load(struct db_tx *tx, struct keyring *kr, struct scan_fpset **out)
{
	struct scan_fpset *set = NULL;
	struct secmem *keys = NULL;
	struct db_res *res = NULL;
	struct db_params prm;
	struct vbuf *mac = vbuf_new(32);
	char label[SCAN_FP_LABEL_MAX + 1];
	int r, i;

	*out = NULL;
	if ((r = scanner_key_open(kr, tx, 0, &keys)) != 0 || keys == NULL)
		goto out;
	r = scan_fpset_new(secmem_ptr(keys), &set);
	secmem_free(keys); /* the set holds its own copy */
	keys = NULL;
	if (r != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, db_tx_org(tx));
	r = db_query(tx, "SELECT secret_id, field, anchor_sip, anchor_off, len, mac FROM "
			 "secret_fingerprints WHERE org_id = $1", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	for (i = 0; i < db_res_rows(res); i++) {
		struct scan_fp fp;
		struct vt_uuid sid;
		int64_t sip, off, len;

		memset(&fp, 0, sizeof(fp));
		vbuf_reset(mac);
		if ((r = db_res_uuid(res, i, 0, &sid)) != 0 || (r = db_res_int(res, i, 2, &sip)) != 0 ||
		    (r = db_res_int(res, i, 3, &off)) != 0 || (r = db_res_int(res, i, 4, &len)) != 0 ||
		    (r = db_res_bytes(res, i, 5, mac)) != 0)
			goto out;
		/* The table's CHECKs hold these; a row that breaks them is refused, not trusted. */
		if (vbuf_len(mac) != sizeof(fp.mac) || off < 0 || len < SCAN_FP_MIN_LEN ||
		    len > SCAN_FP_MAX_LEN || off >= len) {
			r = VT_ERR_DB;
			goto out;
		}
		fp.anchor_sip = sip_from_db(sip);
		fp.anchor_off = (uint32_t)off;
		fp.len = (uint32_t)len;
		memcpy(fp.mac, vbuf_ptr(mac), sizeof(fp.mac));
		vault_fp_label_format(&sid, db_res_text(res, i, 1), label, sizeof(label));
		if ((r = scan_fpset_add(set, &fp, label)) != 0)
			goto out;
	}
	*out = set;
	set = NULL;
	r = 0;
 out:
	db_res_free(res);
	scan_fpset_free(set);
	secmem_free(keys);
	vbuf_free(mac);
	return r;
}

int
vault_secrets_readable(struct db_tx *tx, const struct principal *p, const struct vt_uuid *ids,
    size_t n, int *readable)
{
	struct vbuf *arr = NULL;
	struct db_res *res = NULL;
	struct db_params prm;
	char sid[UUID_STR_LEN + 1];
	const char *txt;
	size_t i;
	int r = 0, row;

	for (i = 0; i < n; i++)
		readable[i] = 0;
	if (n == 0)
		return 0;
	arr = vbuf_new(n * (UUID_STR_LEN + 1) + 3);
	for (i = 0; i < n && r == 0; i++) {
		uuid_format(&ids[i], sid);
		r = vbuf_put(arr, i == 0 ? "{" : ",", 1) != 0 || vbuf_put(arr, sid, UUID_STR_LEN) != 0 ?
		    VT_ERR_INTERNAL : 0;
	}
	if (r != 0 || vbuf_put(arr, "}", 1) != 0 || vbuf_cstr(arr, &txt) != 0) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	db_params_init(&prm);
	db_param_text(&prm, txt);
	db_param_uuid(&prm, p->kind == PRINCIPAL_USER ? &p->user_id : NULL);
	r = db_query(tx, "SELECT s.id, vm.role FROM secrets s LEFT JOIN vault_members vm "
			 "ON vm.vault_id = s.vault_id AND vm.user_id = $2 WHERE s.id = ANY($1::uuid[])",
	    &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	for (row = 0; row < db_res_rows(res); row++) {
		enum vault_role member;
		struct vt_uuid id;

		if ((r = db_res_uuid(res, row, 0, &id)) != 0)
			goto out;
		member = db_res_isnull(res, row, 1) ? VAULT_ROLE_NONE :
		    authz_vault_role_parse(db_res_text(res, row, 1));
		for (i = 0; i < n; i++) {
			if (uuid_eq(&ids[i], &id))
				readable[i] = authz_check(p, member, GATE_READ) == 0;
		}
	}
 out:
	db_res_free(res);
	vbuf_free(arr);
	return r;
}

/* ---- rotation ------------------------------------------------------------------------------- */

int
vault_scanner_key_rewrap(struct db_pool *pool, struct keyring *kr, const struct vt_uuid *org,
    uint32_t to, int *done)
{
	struct vbuf *blob = vbuf_new(SCANNER_KEY_ENVELOPE_LEN);
	struct envelope_ctx ctx;
	struct db_tx *tx = NULL;
	struct db_res *res = NULL;
	struct db_params prm;
	uint32_t nv;
	int r;

	*done = 0;
	if ((r = db_tx_begin_as(pool, org, NULL, &tx)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, org);
	db_param_int(&prm, to);
	r = db_query(tx, "SELECT envelope FROM scanner_keys WHERE org_id = $1 AND key_version < $2 "
			 "FOR UPDATE", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	if (db_res_rows(res) == 1) {
		if ((r = db_res_bytes(res, 0, 0, blob)) != 0)
			goto out;
		scanner_key_ctx(&ctx, org);
		if ((r = envelope_rewrap(kr, &ctx, (uint8_t *)(uintptr_t)vbuf_ptr(blob),
		    vbuf_len(blob), &nv)) != 0) {
			log_error("an organization's scanner key does not open; rotation stops");
			goto out;
		}
		db_params_init(&prm);
		db_param_uuid(&prm, org);
		db_param_bytes(&prm, vbuf_ptr(blob), vbuf_len(blob));
		db_param_int(&prm, nv);
		r = db_exec_one(tx, "UPDATE scanner_keys SET envelope = $2, key_version = $3 "
				    "WHERE org_id = $1", &prm);
		db_params_free(&prm);
		if (r != 0)
			goto out;
		*done = 1;
	}
	db_res_free(res);
	res = NULL;
	r = db_tx_commit(tx);
	tx = NULL;
	if (r != 0)
		*done = 0;
 out:
	db_res_free(res);
	db_tx_rollback(tx);
	vbuf_free(blob);
	return r;
}
