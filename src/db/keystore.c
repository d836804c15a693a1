/*
 * Master key versions through the database: sync of rotated versions and the boot-time keyring
 * check. See keystore.h.
 */
#include "db/keystore.h"

#include <stdatomic.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/vbuf.h"
#include "base/vtime.h"
#include "crypto/envelope.h"

static _Atomic uint64_t last_sync_ms;
/* Versions already reported as not opening (bit v for v < 64): one log line each, not one per sync. */
static _Atomic uint64_t reported_bad;

int
keystore_sync(struct db_tx *tx, struct keyring *kr)
{
	struct db_res *res = NULL;
	struct vbuf *b = vbuf_new(KEYRING_WRAPPED_LEN);
	int64_t v;
	int r, i;

	if ((r = db_query(tx, "SELECT version, wrapped FROM vt_master_keys()", NULL, &res)) != 0)
		goto out;
	for (i = 0; i < db_res_rows(res); i++) {
		if ((r = db_res_int(res, i, 0, &v)) != 0)
			goto out;
		if (v < 1 || v > UINT32_MAX || keyring_has_version(kr, (uint32_t)v))
			continue;
		vbuf_reset(b);
		if ((r = db_res_bytes(res, i, 1, b)) != 0 || vbuf_len(b) != KEYRING_WRAPPED_LEN) {
			r = VT_ERR_CRYPTO;
			goto out;
		}
		if (keyring_load_version(kr, (uint32_t)v, vbuf_ptr(b)) != 0) {
			/* Skipped, not fatal: it can wrap nothing, and one bad row must not stop
			 * every write. Envelopes that name it fail to open, as they should. */
			uint64_t bit = v < 64 ? (uint64_t)1 << v : 0;

			if (bit == 0 || (atomic_fetch_or(&reported_bad, bit) & bit) == 0)
				log_error("master key version %lld does not open under this root key "
					  "(another deployment's key, or a tampered row); ignoring it",
				    (long long)v);
			continue;
		}
		log_info("loaded master key version %lld", (long long)v);
	}
	r = 0;
 out:
	db_res_free(res);
	vbuf_free(b);
	return r;
}

#define CHECK_PLAINTEXT "vaultterm keyring check v1"

int
keystore_verify(struct db_tx *tx, struct keyring *kr)
{
	struct envelope_ctx ctx;
	struct db_res *res = NULL;
	struct db_params prm;
	struct vbuf *b = vbuf_new(ENVELOPE_OVERHEAD + sizeof(CHECK_PLAINTEXT));
	struct secmem *pt = NULL;
	int r, sealed = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.kind = "keyring_check";
	ctx.version = 1;
 again:
	if ((r = db_query(tx, "SELECT vt_keyring_check()", NULL, &res)) != 0)
		goto out;
	if (db_res_rows(res) == 1 && !db_res_isnull(res, 0, 0)) {
		if ((r = db_res_bytes(res, 0, 0, b)) != 0)
			goto out;
		if (envelope_open(kr, &ctx, vbuf_ptr(b), vbuf_len(b), &pt) != 0 ||
		    secmem_len(pt) != strlen(CHECK_PLAINTEXT) ||
		    !vt_ct_eq(secmem_ptr(pt), CHECK_PLAINTEXT, strlen(CHECK_PLAINTEXT)))
			r = VT_ERR_CRYPTO;
		goto out;
	}
	if (sealed) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	/* First boot: seal the check under the root (the only version there is yet), then read
	 * back whichever check won if several servers started at once. */
	if ((r = envelope_seal(kr, &ctx, (const uint8_t *)CHECK_PLAINTEXT, strlen(CHECK_PLAINTEXT),
	    b)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_bytes(&prm, vbuf_ptr(b), vbuf_len(b));
	r = db_query(tx, "SELECT vt_keyring_check_init($1)", &prm, NULL);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	sealed = 1;
	db_res_free(res);
	res = NULL;
	vbuf_reset(b);
	goto again;
 out:
	secmem_free(pt);
	db_res_free(res);
	vbuf_free(b);
	return r;
}

int
keystore_maybe_sync(struct db_tx *tx, struct keyring *kr, int force)
{
	uint64_t now = vtime_mono_ms(), last = atomic_load(&last_sync_ms);
	int r;

	if (!force && last != 0 && now - last < KEYSTORE_SYNC_INTERVAL_MS)
		return 0;
	if ((r = keystore_sync(tx, kr)) == 0)
		atomic_store(&last_sync_ms, now);
	return r;
}

int
keystore_rewrap_sealed(struct db_pool *pool, const struct keyring *kr,
    const struct envelope_ctx *ctx, size_t max, const char *select_sql, const char *replace_sql)
{
	struct db_tx *tx = NULL;
	struct db_res *res = NULL, *ok = NULL;
	struct db_params prm;
	struct vbuf *old = vbuf_new(ENVELOPE_OVERHEAD + max);
	struct vbuf *blob = vbuf_new(ENVELOPE_OVERHEAD + max);
	uint32_t kv, nv;
	int r;

	if ((r = db_tx_begin(pool, &tx)) != 0 || (r = db_query(tx, select_sql, NULL, &res)) != 0)
		goto out;
	if (db_res_rows(res) == 0) { /* no server has created it yet: nothing to re-wrap */
		r = 0;
		goto out;
	}
	if ((r = db_res_bytes(res, 0, 0, old)) != 0 || (r = db_res_bytes(res, 0, 0, blob)) != 0)
		goto out;
	if (envelope_key_version(vbuf_ptr(blob), vbuf_len(blob), &kv) != 0) {
		r = VT_ERR_CRYPTO;
		goto out;
	}
	if (kv == keyring_current_version(kr)) {
		r = 0;
		goto out;
	}
	if ((r = envelope_rewrap(kr, ctx, (uint8_t *)(uintptr_t)vbuf_ptr(blob), vbuf_len(blob),
	    &nv)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_bytes(&prm, vbuf_ptr(old), vbuf_len(old));
	db_param_bytes(&prm, vbuf_ptr(blob), vbuf_len(blob));
	db_param_int(&prm, nv);
	r = db_query(tx, replace_sql, &prm, &ok);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	if (!db_res_bool(ok, 0, 0)) {
		r = VT_ERR_CONFLICT;
		goto out;
	}
	r = db_tx_commit(tx);
	tx = NULL;
 out:
	db_res_free(ok);
	db_res_free(res);
	db_tx_rollback(tx);
	vbuf_free(old);
	vbuf_free(blob);
	return r;
}
