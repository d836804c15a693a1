/*
 * TOTP MFA for user accounts (RFC 6238, SHA-1, 6 digits, 30 s). The seed is generated here, shown
 * once at enrolment, and stored only as an envelope (kind "user_totp_pending" until confirmed,
 * then "user_totp", bound to the user id). A code is accepted once: the last accepted time step is
 * stored and an equal or older step is refused, also under concurrent replays.
 */
#include "auth/auth.h"

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
#include "crypto/totp.h"

#define MFA_ISSUER "VaultTerm"

struct mfa_creds {
	int enabled;
	struct vbuf *secret;  /* envelope or empty */
	struct vbuf *pending; /* envelope or empty */
	int64_t last_counter;
};

static void
creds_free(struct mfa_creds *c)
{
	vbuf_free(c->secret);
	vbuf_free(c->pending);
	memset(c, 0, sizeof(*c));
}

static int
creds_load(struct db_tx *tx, struct mfa_creds *c)
{
	struct db_res *res = NULL;
	int r;

	memset(c, 0, sizeof(*c));
	c->secret = vbuf_new(4096);
	c->pending = vbuf_new(4096);
	r = db_query(tx, "SELECT totp_enabled, totp_secret, totp_pending, totp_last_counter "
			 "FROM vt_self_credentials()", NULL, &res);
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_UNAUTHORIZED;
		goto out;
	}
	c->enabled = db_res_bool(res, 0, 0);
	if (!db_res_isnull(res, 0, 1) && (r = db_res_bytes(res, 0, 1, c->secret)) != 0)
		goto out;
	if (!db_res_isnull(res, 0, 2) && (r = db_res_bytes(res, 0, 2, c->pending)) != 0)
		goto out;
	if ((r = db_res_int(res, 0, 3, &c->last_counter)) != 0)
		goto out;
	r = 0;
 out:
	db_res_free(res);
	if (r != 0)
		creds_free(c);
	return r;
}

static void
seed_ctx(struct envelope_ctx *ctx, const struct vt_uuid *user, const char *kind)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->kind = kind;
	ctx->record = *user;
	ctx->version = 1;
}

static int
open_seed(const struct auth_env *env, struct db_tx *tx, const struct vt_uuid *user,
    const char *kind, const struct vbuf *blob, struct secmem **seed)
{
	struct envelope_ctx ctx;
	uint32_t kv;
	int r;

	seed_ctx(&ctx, user, kind);
	if (vbuf_len(blob) == 0)
		return VT_ERR_INTERNAL;
	/* Re-wrapped by a rotation this server has not seen yet: load the version first. */
	if (envelope_key_version(vbuf_ptr(blob), vbuf_len(blob), &kv) == 0 &&
	    !keyring_has_version(env->keyring, kv) &&
	    (r = keystore_maybe_sync(tx, env->keyring, 1)) != 0)
		return r;
	if (envelope_open(env->keyring, &ctx, vbuf_ptr(blob), vbuf_len(blob), seed) != 0) {
		log_error("a stored TOTP seed does not open (wrong master key or tampered row)");
		return VT_ERR_CRYPTO;
	}
	return 0;
}

static int
verify_code(const struct secmem *seed, const char *code, int64_t min_counter, uint64_t *matched)
{
	if (code == NULL)
		return VT_ERR_VERIFY;
	return totp_verify(HMAC_SHA1, secmem_ptr(seed), secmem_len(seed),
	    vtime_now_us() / 1000000, TOTP_DEFAULT_PERIOD, TOTP_DEFAULT_DIGITS, MFA_TOTP_WINDOW,
	    (uint64_t)min_counter, code, matched);
}

/* Percent-encodes everything but unreserved characters and '@'. Caller frees. */
static char *
uri_escape(const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t i, o = 0, n = strlen(s);
	char *out = xmalloc(3 * n + 1);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hexd[c >> 4];
			out[o++] = hexd[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

int
mfa_enroll(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const struct audit_actor *who, json_t **out)
{
	struct mfa_creds c;
	struct envelope_ctx ctx;
	struct secmem *seed = NULL;
	struct vbuf *blob = vbuf_new(4096);
	struct db_params prm;
	char b32[64], uid[UUID_STR_LEN + 1], *label = NULL, *uri = NULL;
	int r;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	if (p->kind != PRINCIPAL_USER) {
		r = VT_ERR_FORBIDDEN;
		goto out;
	}
	if ((r = creds_load(tx, &c)) != 0)
		goto out;
	if (c.enabled) {
		r = VT_ERR_CONFLICT;
		goto out;
	}
	if ((seed = secmem_new(TOTP_SECRET_LEN)) == NULL) {
		r = VT_ERR_NOMEM;
		goto out;
	}
	random_bytes(secmem_ptr(seed), secmem_len(seed));
	seed_ctx(&ctx, &p->user_id, "user_totp_pending");
	if ((r = keystore_maybe_sync(tx, env->keyring, 0)) != 0 ||
	    (r = envelope_seal(env->keyring, &ctx, secmem_ptr(seed), secmem_len(seed), blob)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_bytes(&prm, vbuf_ptr(blob), vbuf_len(blob));
	db_param_uuid(&prm, &p->user_id);
	r = db_exec_one(tx, "UPDATE users SET totp_pending = $1 WHERE id = $2", &prm);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	uuid_format(&p->user_id, uid);
	if ((r = audit_record(tx, who, "MFA_ENROLL_STARTED", "user", uid, AUDIT_SUCCESS, NULL)) != 0)
		goto out;
	/* The seed is shown once, to its owner, so the authenticator app can be set up. */
	base32_encode(secmem_ptr(seed), secmem_len(seed), b32);
	label = uri_escape(p->email);
	uri = xasprintf("otpauth://totp/" MFA_ISSUER ":%s?secret=%s&issuer=" MFA_ISSUER
			"&algorithm=SHA1&digits=%d&period=%d", label, b32, TOTP_DEFAULT_DIGITS,
	    TOTP_DEFAULT_PERIOD);
	*out = json_packx("{s:s, s:s, s:s, s:i, s:i}", "secret_base32", b32, "otpauth_uri", uri,
	    "algorithm", "SHA1", "digits", TOTP_DEFAULT_DIGITS, "period", TOTP_DEFAULT_PERIOD);
	r = 0;
 out:
	sodium_memzero(b32, sizeof(b32));
	vt_str_wipe_free(uri);
	free(label);
	secmem_free(seed);
	vbuf_free(blob);
	creds_free(&c);
	return r;
}

/*
 * The shared first half of confirm and disable: the caller must be a user whose MFA is in the
 * expected state (pending enrolment, or enabled), and code must be valid and unused for the seed
 * of that state. On success *seed (owned by the caller) and *matched are set.
 */
static int
seed_for_code(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    int want_enabled, const char *code, struct secmem **seed, uint64_t *matched)
{
	struct mfa_creds c;
	int r;

	*seed = NULL;
	*matched = 0;
	if (p->kind != PRINCIPAL_USER)
		return VT_ERR_FORBIDDEN;
	if ((r = creds_load(tx, &c)) != 0)
		return r;
	if (want_enabled ? !c.enabled : (c.enabled || vbuf_len(c.pending) == 0)) {
		r = VT_ERR_CONFLICT;
		goto out;
	}
	if ((r = open_seed(env, tx, &p->user_id, want_enabled ? "user_totp" : "user_totp_pending",
	    want_enabled ? c.secret : c.pending, seed)) != 0)
		goto out;
	if (verify_code(*seed, code, c.last_counter, matched) != 0) {
		secmem_free(*seed);
		*seed = NULL;
		r = VT_ERR_VALIDATION;
	}
 out:
	creds_free(&c);
	return r;
}

int
mfa_confirm(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const char *code, const struct audit_actor *who)
{
	struct envelope_ctx ctx;
	struct secmem *seed = NULL;
	struct vbuf *blob = vbuf_new(4096);
	struct db_params prm;
	char uid[UUID_STR_LEN + 1];
	uint64_t matched;
	int r;

	if ((r = seed_for_code(env, tx, p, 0, code, &seed, &matched)) != 0)
		goto out;
	/* Re-sealed under the enabled kind: a pending envelope can never pass for an active one. */
	seed_ctx(&ctx, &p->user_id, "user_totp");
	if ((r = keystore_maybe_sync(tx, env->keyring, 0)) != 0 ||
	    (r = envelope_seal(env->keyring, &ctx, secmem_ptr(seed), secmem_len(seed), blob)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_bytes(&prm, vbuf_ptr(blob), vbuf_len(blob));
	db_param_int(&prm, (int64_t)matched);
	db_param_uuid(&prm, &p->user_id);
	r = db_exec_one(tx, "UPDATE users SET totp_secret = $1, totp_pending = NULL, "
			    "totp_enabled = true, totp_last_counter = $2 WHERE id = $3", &prm);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	uuid_format(&p->user_id, uid);
	r = audit_record(tx, who, "MFA_ENABLED", "user", uid, AUDIT_SUCCESS, NULL);
 out:
	secmem_free(seed);
	vbuf_free(blob);
	return r;
}

int
mfa_disable(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const char *code, const struct audit_actor *who)
{
	struct secmem *seed = NULL;
	struct db_params prm;
	char uid[UUID_STR_LEN + 1];
	uint64_t matched;
	int r;

	if ((r = seed_for_code(env, tx, p, 1, code, &seed, &matched)) != 0)
		return r;
	secmem_free(seed);
	db_params_init(&prm);
	db_param_uuid(&prm, &p->user_id);
	db_param_int(&prm, (int64_t)matched);
	r = db_exec_one(tx, "UPDATE users SET totp_secret = NULL, totp_pending = NULL, "
			    "totp_enabled = false, totp_last_counter = $2 WHERE id = $1", &prm);
	db_params_free(&prm);
	if (r != 0)
		return r;
	uuid_format(&p->user_id, uid);
	return audit_record(tx, who, "MFA_DISABLED", "user", uid, AUDIT_SUCCESS, NULL);
}

int
mfa_check_login(const struct auth_env *env, struct db_tx *tx, const struct vt_uuid *user,
    const char *code)
{
	struct mfa_creds c;
	struct secmem *seed = NULL;
	struct db_params prm;
	uint64_t matched;
	int r;

	if ((r = creds_load(tx, &c)) != 0)
		return r;
	if (!c.enabled) {
		r = 0;
		goto out;
	}
	if (code == NULL) {
		r = VT_ERR_MFA_REQUIRED;
		goto out;
	}
	if ((r = open_seed(env, tx, user, "user_totp", c.secret, &seed)) != 0)
		goto out;
	if (verify_code(seed, code, c.last_counter, &matched) != 0) {
		r = VT_ERR_MFA_REQUIRED;
		goto out;
	}
	/* Record the step atomically: a concurrent replay of the same code loses here. */
	db_params_init(&prm);
	db_param_uuid(&prm, user);
	db_param_int(&prm, (int64_t)matched);
	r = db_exec_one(tx, "UPDATE users SET totp_last_counter = $2 "
			    "WHERE id = $1 AND totp_last_counter < $2", &prm);
	db_params_free(&prm);
	if (r == VT_ERR_NOT_FOUND)
		r = VT_ERR_MFA_REQUIRED;
 out:
	secmem_free(seed);
	creds_free(&c);
	return r;
}
