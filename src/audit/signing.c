/*
 * The deployment's audit signing root and the per-org keys derived from it (signing.h).
 */
#include "audit/signing.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "db/keystore.h"

#define SEED_LEN AUDIT_SEED_LEN
#define ENVELOPE_KIND "audit_signing_key"
#define DERIVE_LABEL "vaultterm audit signing key v1"

struct audit_keys {
	char deployment[AUDIT_DEPLOYMENT_MAX + 1];
	struct secmem *root; /* SEED_LEN bytes */
};

static void
seal_ctx(struct envelope_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx)); /* deployment-wide: the zero org and record ids */
	ctx->kind = ENVELOPE_KIND;
	ctx->version = 1;
}

/* A valid deployment name: [A-Za-z0-9][A-Za-z0-9._-]{0,127} (as the table's CHECK). */
static int
deployment_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '.' || c == '-' || c == '_'))))
			return 0;
	}
	return i > 0 && i <= AUDIT_DEPLOYMENT_MAX;
}

/* The host name, with anything an origin cannot hold replaced by '-'. */
static void
default_deployment(char out[static AUDIT_DEPLOYMENT_MAX + 1])
{
	size_t i;

	if (gethostname(out, AUDIT_DEPLOYMENT_MAX) != 0 || out[0] == '\0')
		snprintf(out, AUDIT_DEPLOYMENT_MAX + 1, "vaultterm");
	out[AUDIT_DEPLOYMENT_MAX] = '\0';
	for (i = 0; out[i] != '\0'; i++) {
		char c = out[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '.' || c == '_'))))
			out[i] = i == 0 ? 'x' : '-';
	}
}

int
audit_keys_load(struct db_pool *pool, const struct keyring *kr, const char *deployment,
    struct audit_keys **out)
{
	char dflt[AUDIT_DEPLOYMENT_MAX + 1];
	struct envelope_ctx ctx;
	struct db_tx *tx = NULL;
	struct db_res *res = NULL;
	struct db_params prm;
	struct vbuf *blob = vbuf_new(ENVELOPE_OVERHEAD + SEED_LEN);
	struct secmem *seed = NULL;
	const char *name;
	int r;

	*out = NULL;
	seal_ctx(&ctx);
	if (deployment == NULL) {
		default_deployment(dflt);
		deployment = dflt;
	}
	if (!deployment_ok(deployment)) {
		r = VT_ERR_INVALID;
		goto out;
	}
	if ((r = db_tx_begin(pool, &tx)) != 0 ||
	    (r = db_query(tx, "SELECT deployment, sealed FROM vt_audit_key()", NULL, &res)) != 0)
		goto out;
	if (db_res_rows(res) == 0) {
		/* First use: draw the root, seal it, and let the first writer win. */
		db_res_free(res);
		res = NULL;
		if ((seed = secmem_new(SEED_LEN)) == NULL) {
			r = VT_ERR_NOMEM;
			goto out;
		}
		random_bytes(secmem_ptr(seed), SEED_LEN);
		r = envelope_seal(kr, &ctx, secmem_ptr(seed), SEED_LEN, blob);
		secmem_free(seed);
		seed = NULL;
		if (r != 0)
			goto out;
		db_params_init(&prm);
		db_param_text(&prm, deployment);
		db_param_bytes(&prm, vbuf_ptr(blob), vbuf_len(blob));
		db_param_int(&prm, keyring_current_version(kr));
		r = db_query(tx, "SELECT deployment, sealed FROM vt_audit_key_init($1, $2, $3)",
		    &prm, &res);
		db_params_free(&prm);
		if (r != 0)
			goto out;
		log_info("audit signing key created for deployment '%s'", deployment);
	}
	if (db_res_rows(res) != 1) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	vbuf_reset(blob);
	name = db_res_text(res, 0, 0);
	if (name == NULL || !deployment_ok(name) ||
	    (r = db_res_bytes(res, 0, 1, blob)) != 0) {
		r = r != 0 ? r : VT_ERR_INVALID;
		goto out;
	}
	if ((r = envelope_open(kr, &ctx, vbuf_ptr(blob), vbuf_len(blob), &seed)) != 0) {
		r = VT_ERR_CRYPTO;
		goto out;
	}
	if (secmem_len(seed) != SEED_LEN) {
		r = VT_ERR_CRYPTO;
		goto out;
	}
	if ((r = db_tx_commit(tx)) != 0) {
		tx = NULL;
		goto out;
	}
	tx = NULL;
	r = audit_keys_from_seed(name, secmem_ptr(seed), out);
 out:
	secmem_free(seed);
	db_res_free(res);
	db_tx_rollback(tx);
	vbuf_free(blob);
	return r;
}

int
audit_keys_from_seed(const char *deployment, const uint8_t seed[static AUDIT_SEED_LEN],
    struct audit_keys **out)
{
	struct audit_keys *k;

	*out = NULL;
	if (!deployment_ok(deployment))
		return VT_ERR_INVALID;
	k = xcalloc(1, sizeof(*k));
	if ((k->root = secmem_dup(seed, AUDIT_SEED_LEN)) == NULL) {
		free(k);
		return VT_ERR_NOMEM;
	}
	snprintf(k->deployment, sizeof(k->deployment), "%s", deployment);
	*out = k;
	return 0;
}

void
audit_keys_free(struct audit_keys *k)
{
	if (k == NULL)
		return;
	secmem_free(k->root);
	free(k);
}

const char *
audit_keys_deployment(const struct audit_keys *k)
{
	return k->deployment;
}

void
audit_origin(const struct audit_keys *k, const struct vt_uuid *org,
    char out[static AUDIT_ORIGIN_MAX + 1])
{
	char id[UUID_STR_LEN + 1];

	uuid_format(org, id);
	snprintf(out, AUDIT_ORIGIN_MAX + 1, "%s/audit/%s", k->deployment, id);
}

int
audit_keys_signer(const struct audit_keys *k, const struct vt_uuid *org, struct note_signer **out)
{
	uint8_t msg[sizeof(DERIVE_LABEL) + 16], seed[HMAC_MAX_LEN];
	char origin[AUDIT_ORIGIN_MAX + 1];
	size_t n;
	int r;

	*out = NULL;
	memcpy(msg, DERIVE_LABEL, sizeof(DERIVE_LABEL)); /* with its NUL: the 0x00 separator */
	memcpy(msg + sizeof(DERIVE_LABEL), org->b, 16);
	r = hmac_compute(HMAC_SHA256, secmem_ptr(k->root), secmem_len(k->root), msg, sizeof(msg),
	    seed, &n);
	if (r == 0) {
		audit_origin(k, org, origin);
		r = note_signer_new(origin, seed, out);
	}
	sodium_memzero(seed, sizeof(seed));
	return r;
}

int
audit_keys_verifier(const struct audit_keys *k, const struct vt_uuid *org,
    struct note_verifier **out)
{
	struct note_signer *s;
	int r;

	*out = NULL;
	if ((r = audit_keys_signer(k, org, &s)) != 0)
		return r;
	r = note_signer_verifier(s, out);
	note_signer_free(s);
	return r;
}

int
audit_keys_rewrap(struct db_pool *pool, const struct keyring *kr)
{
	struct envelope_ctx ctx;

	seal_ctx(&ctx);
	return keystore_rewrap_sealed(pool, kr, &ctx, SEED_LEN, "SELECT sealed FROM vt_audit_key()",
	    "SELECT vt_audit_key_replace($1, $2, $3)");
}
