/*
 * Master key rotation (db/keystore.c shares the stored versions with every server). Rotation
 * adds a version, waits for servers to pick it up for new writes, then re-wraps
 * every older DEK in place — one org at a time under that org's RLS context, each batch audited
 * in the org's own trail, then its session recordings' chunks and its scanner key — and every
 * user's TOTP seed, until nothing older remains.
 */
#include "vault/vault_internal.h"

#include "db/keystore.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/vtime.h"
#include "audit/signing.h"
#include "crypto/envelope.h"

#define ROTATE_BATCH 500
#define ROTATE_CHUNK_BATCH 16 /* recording chunks hold up to a few hundred KiB each */

/*
 * A table of per-org records sealed as envelopes (record id, version) that rotation re-wraps.
 * select_sql: $1 = the new master key version, $2 = the batch size → (record uuid, version,
 * envelope[, inject_only]) rows still under an older version, locked FOR UPDATE. update_sql: $1
 * = record, $2 = version, $3 = envelope, $4 = key_version.
 */
struct rotate_table {
	const char *what;           /* for the log: "a secret version" */
	const char *select_sql;
	const char *update_sql;
	int batch;
	size_t blob_max;
	uint32_t version_offset;    /* envelope version = the row's version + this */
	const char *detail_key;     /* the count's name in MASTER_KEY_ROTATED */
	const char *(*kind)(const struct db_res *res, int i);
};

/* The kind of the flag a secret version was sealed with (see secrets.c). */
static const char *
secret_version_kind(const struct db_res *res, int i)
{
	return db_res_bool(res, i, 3) ? "secret_version+inject_only" : "secret_version";
}

static const char *
recording_chunk_kind(const struct db_res *res, int i)
{
	(void)res, (void)i;
	return ENVELOPE_KIND_RECORDING_CHUNK;
}

static const struct rotate_table SECRET_VERSIONS = {
	"a secret version",
	"SELECT secret_id, version, envelope, inject_only FROM secret_versions "
	"WHERE key_version < $1 ORDER BY secret_id, version LIMIT $2 FOR UPDATE",
	"UPDATE secret_versions SET envelope = $3, key_version = $4 "
	"WHERE secret_id = $1 AND version = $2",
	ROTATE_BATCH, ENVELOPE_OVERHEAD + SECRET_PLAINTEXT_MAX, 0, "rewrapped", secret_version_kind,
};

/*
 * Recording chunks (kind ENVELOPE_KIND_RECORDING_CHUNK, record = session, version = seq
 * + 1). Rows are locked FOR UPDATE, so a provisional chunk the recorder rewrites meanwhile waits
 * (or is read after).
 */
static const struct rotate_table RECORDING_CHUNKS = {
	"a recording chunk",
	"SELECT session_id, seq, envelope FROM recording_chunks "
	"WHERE key_version < $1 ORDER BY session_id, seq LIMIT $2 FOR UPDATE",
	"UPDATE recording_chunks SET envelope = $3, key_version = $4 "
	"WHERE session_id = $1 AND seq = $2",
	ROTATE_CHUNK_BATCH, ENVELOPE_OVERHEAD + ENVELOPE_PLAINTEXT_MAX, 1, "recording_chunks",
	recording_chunk_kind,
};

/* Re-wraps up to t->batch older records of table t in one org; *done counts them. */
static int
rotate_batch(struct db_pool *pool, struct keyring *kr, const struct vt_uuid *org, uint32_t to,
    const struct rotate_table *t, uint64_t *done)
{
	struct db_tx *tx = NULL;
	struct db_res *res = NULL;
	struct db_params prm;
	struct vbuf *blob = vbuf_new(t->blob_max);
	struct audit_actor who;
	char oid[UUID_STR_LEN + 1];
	json_t *d;
	int r, i, n;

	*done = 0;
	memset(&who, 0, sizeof(who));
	who.type = AUDIT_ACTOR_SYSTEM;
	if ((r = db_tx_begin_as(pool, org, NULL, &tx)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_int(&prm, to);
	db_param_int(&prm, t->batch);
	r = db_query(tx, t->select_sql, &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	n = db_res_rows(res);
	for (i = 0; i < n; i++) {
		struct envelope_ctx ctx;
		struct vt_uuid rid;
		int64_t ver;
		uint32_t nv;

		vbuf_reset(blob);
		if ((r = db_res_uuid(res, i, 0, &rid)) != 0 || (r = db_res_int(res, i, 1, &ver)) != 0 ||
		    (r = db_res_bytes(res, i, 2, blob)) != 0)
			goto out;
		memset(&ctx, 0, sizeof(ctx));
		ctx.org = *org;
		ctx.kind = t->kind(res, i);
		ctx.record = rid;
		ctx.version = (uint32_t)ver + t->version_offset;
		if ((r = envelope_rewrap(kr, &ctx, (uint8_t *)(uintptr_t)vbuf_ptr(blob),
		    vbuf_len(blob), &nv)) != 0) {
			log_error("%s of org %s does not open; rotation stops", t->what,
			    (uuid_format(org, oid), oid));
			goto out;
		}
		db_params_init(&prm);
		db_param_uuid(&prm, &rid);
		db_param_int(&prm, ver);
		db_param_bytes(&prm, vbuf_ptr(blob), vbuf_len(blob));
		db_param_int(&prm, nv);
		r = db_exec_one(tx, t->update_sql, &prm);
		db_params_free(&prm);
		if (r != 0)
			goto out;
	}
	if (n > 0) {
		d = json_packx("{s:i, s:i}", "to_version", (int)to, t->detail_key, n);
		uuid_format(org, oid);
		r = audit_record(tx, &who, "MASTER_KEY_ROTATED", "org", oid, AUDIT_SUCCESS, d);
		json_decref(d);
		if (r != 0)
			goto out;
	}
	db_res_free(res);
	res = NULL;
	r = db_tx_commit(tx);
	tx = NULL;
	if (r == 0)
		*done = (uint64_t)n;
 out:
	db_res_free(res);
	db_tx_rollback(tx);
	vbuf_free(blob);
	return r;
}

/* Re-wraps one TOTP envelope column value; *changed when it was under an older version. */
static int
rewrap_totp(struct keyring *kr, const struct vt_uuid *user, const char *kind, struct vbuf *blob,
    int *changed)
{
	struct envelope_ctx ctx;
	uint32_t kv, nv;
	int r;

	*changed = 0;
	if (vbuf_len(blob) == 0)
		return 0;
	if ((r = envelope_key_version(vbuf_ptr(blob), vbuf_len(blob), &kv)) != 0)
		return VT_ERR_CRYPTO;
	if (kv == keyring_current_version(kr))
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.kind = kind;
	ctx.record = *user;
	ctx.version = 1;
	if ((r = envelope_rewrap(kr, &ctx, (uint8_t *)(uintptr_t)vbuf_ptr(blob), vbuf_len(blob),
	    &nv)) != 0)
		return r;
	*changed = 1;
	return 0;
}

static int
rotate_totp(struct db_pool *pool, struct keyring *kr, uint64_t *done)
{
	struct db_tx *tx = NULL;
	struct db_res *res = NULL;
	struct vbuf *s = vbuf_new(4096), *p = vbuf_new(4096), *os = vbuf_new(4096);
	struct vbuf *op = vbuf_new(4096);
	int r, i;

	*done = 0;
	if ((r = db_tx_begin(pool, &tx)) != 0)
		goto out;
	if ((r = db_query(tx, "SELECT user_id, totp_secret, totp_pending FROM vt_totp_envelopes()",
	    NULL, &res)) != 0)
		goto out;
	for (i = 0; i < db_res_rows(res); i++) {
		struct db_params prm;
		struct db_res *ok = NULL;
		struct vt_uuid user;
		int c1, c2;

		vbuf_reset(s);
		vbuf_reset(p);
		vbuf_reset(os);
		vbuf_reset(op);
		if ((r = db_res_uuid(res, i, 0, &user)) != 0 ||
		    (!db_res_isnull(res, i, 1) && ((r = db_res_bytes(res, i, 1, s)) != 0 ||
			(r = db_res_bytes(res, i, 1, os)) != 0)) ||
		    (!db_res_isnull(res, i, 2) && ((r = db_res_bytes(res, i, 2, p)) != 0 ||
			(r = db_res_bytes(res, i, 2, op)) != 0)))
			goto out;
		if ((r = rewrap_totp(kr, &user, "user_totp", s, &c1)) != 0 ||
		    (r = rewrap_totp(kr, &user, "user_totp_pending", p, &c2)) != 0) {
			log_error("a user's TOTP seed does not open; rotation stops");
			goto out;
		}
		if (!c1 && !c2)
			continue;
		db_params_init(&prm);
		db_param_uuid(&prm, &user);
		if (vbuf_len(os) > 0)
			db_param_bytes(&prm, vbuf_ptr(os), vbuf_len(os));
		else
			db_param_text(&prm, NULL);
		if (vbuf_len(s) > 0)
			db_param_bytes(&prm, vbuf_ptr(s), vbuf_len(s));
		else
			db_param_text(&prm, NULL);
		if (vbuf_len(op) > 0)
			db_param_bytes(&prm, vbuf_ptr(op), vbuf_len(op));
		else
			db_param_text(&prm, NULL);
		if (vbuf_len(p) > 0)
			db_param_bytes(&prm, vbuf_ptr(p), vbuf_len(p));
		else
			db_param_text(&prm, NULL);
		/* Compare-and-swap: a seed changed meanwhile (new enrolment) is left alone. */
		r = db_query(tx, "SELECT vt_totp_envelopes_replace($1, $2::bytea, $3::bytea, "
				 "$4::bytea, $5::bytea)", &prm, &ok);
		db_params_free(&prm);
		if (r != 0)
			goto out;
		if (db_res_bool(ok, 0, 0))
			(*done)++;
		db_res_free(ok);
	}
	db_res_free(res);
	res = NULL;
	r = db_tx_commit(tx);
	tx = NULL;
 out:
	db_res_free(res);
	db_tx_rollback(tx);
	vbuf_free(s);
	vbuf_free(p);
	vbuf_free(os);
	vbuf_free(op);
	return r;
}

int
vault_rotate_master(struct db_pool *pool, struct keyring *kr, uint64_t settle_ms,
    struct rotate_report *rep, char err[static VAULT_ERR_MAX])
{
	uint8_t wrapped[KEYRING_WRAPPED_LEN];
	struct db_tx *tx = NULL;
	struct db_res *orgs = NULL;
	struct db_params prm;
	struct audit_event ev;
	json_t *d = NULL;
	uint32_t to;
	int r, i, pass;

	memset(rep, 0, sizeof(*rep));
	err[0] = '\0';
	/* 1. Know every stored version, then add the next one. */
	if ((r = db_tx_begin(pool, &tx)) != 0 || (r = keystore_sync(tx, kr)) != 0) {
		snprintf(err, VAULT_ERR_MAX, "cannot load the stored master key versions");
		goto out;
	}
	to = keyring_current_version(kr) + 1;
	if ((r = keyring_generate_version(kr, to, wrapped)) != 0) {
		snprintf(err, VAULT_ERR_MAX, "cannot generate master key version %u", to);
		goto out;
	}
	db_params_init(&prm);
	db_param_int(&prm, to);
	db_param_bytes(&prm, wrapped, sizeof(wrapped));
	r = db_query(tx, "SELECT vt_master_key_add($1, $2)", &prm, NULL);
	db_params_free(&prm);
	if (r != 0) {
		snprintf(err, VAULT_ERR_MAX, r == VT_ERR_CONFLICT ?
		    "another rotation added version %u first; run rotate-master again later" :
		    "cannot store master key version %u", to);
		goto out;
	}
	memset(&ev, 0, sizeof(ev));
	ev.action = "MASTER_KEY_ROTATED";
	ev.actor_type = AUDIT_ACTOR_SYSTEM;
	ev.outcome = AUDIT_SUCCESS;
	d = json_packx("{s:i, s:s}", "to_version", (int)to, "phase", "version_added");
	ev.detail = d;
	if ((r = audit_append_system(tx, &ev)) != 0 || (r = db_tx_commit(tx)) != 0) {
		tx = NULL;
		snprintf(err, VAULT_ERR_MAX, "cannot commit master key version %u", to);
		goto out;
	}
	tx = NULL;
	rep->new_version = to;
	log_info("master key version %u added; waiting %llu ms for servers to start using it", to,
	    (unsigned long long)settle_ms);
	/* 2. Servers sync within KEYSTORE_SYNC_INTERVAL_MS; after that nothing new uses older keys. */
	usleep((useconds_t)(settle_ms * 1000));

	/*
	 * 3. Re-wrap every org's secret versions. A second pass catches a write that sealed under
	 * the old version just before its server synced and committed after the first pass.
	 */
	for (pass = 0; pass < 2; pass++) {
		db_res_free(orgs);
		orgs = NULL;
		if ((r = db_tx_begin(pool, &tx)) != 0 ||
		    (r = db_query(tx, "SELECT id FROM vt_org_ids() AS id", NULL, &orgs)) != 0 ||
		    (r = db_tx_commit(tx)) != 0) {
			tx = NULL;
			snprintf(err, VAULT_ERR_MAX, "cannot list organizations");
			goto out;
		}
		tx = NULL;
		for (i = 0; i < db_res_rows(orgs); i++) {
			struct vt_uuid org;
			uint64_t n;
			int done;

			if ((r = db_res_uuid(orgs, i, 0, &org)) != 0)
				goto out;
			do {
				if ((r = rotate_batch(pool, kr, &org, to, &SECRET_VERSIONS, &n)) != 0) {
					snprintf(err, VAULT_ERR_MAX, "re-wrapping stopped (see the "
								     "log); run rotate-master again");
					goto out;
				}
				rep->secret_versions += n;
			} while (n == ROTATE_BATCH);
			/* Its session recordings' chunks. */
			do {
				if ((r = rotate_batch(pool, kr, &org, to, &RECORDING_CHUNKS, &n)) != 0) {
					snprintf(err, VAULT_ERR_MAX, "re-wrapping recordings stopped "
								     "(see the log); run rotate-master "
								     "again");
					goto out;
				}
				rep->recording_chunks += n;
			} while (n == ROTATE_CHUNK_BATCH);
			/* The org's scanner key (fingerprints need no re-wrap: keyed hashes). */
			if ((r = vault_scanner_key_rewrap(pool, kr, &org, to, &done)) != 0) {
				snprintf(err, VAULT_ERR_MAX, "re-wrapping a scanner key stopped (see "
							     "the log); run rotate-master again");
				goto out;
			}
			rep->scanner_keys += (uint64_t)done;
			if (pass == 0)
				rep->orgs++;
		}
	}
	/* 4. Users' TOTP seeds (not tenant data: no org). */
	if ((r = rotate_totp(pool, kr, &rep->totp_seeds)) != 0) {
		snprintf(err, VAULT_ERR_MAX, "re-wrapping TOTP seeds failed (see the log)");
		goto out;
	}
	/* 5. The audit signing root. */
	if ((r = audit_keys_rewrap(pool, kr)) != 0) {
		snprintf(err, VAULT_ERR_MAX, "re-wrapping the audit signing key failed; run "
		    "rotate-master again");
		goto out;
	}
	r = 0;
 out:
	json_decref(d);
	db_res_free(orgs);
	db_tx_rollback(tx);
	sodium_memzero(wrapped, sizeof(wrapped));
	return r;
}
