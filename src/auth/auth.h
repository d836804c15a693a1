/*
 * Identity: registration, login (password + TOTP MFA), bearer resolution (user JWTs and hashed
 * org-owned API tokens), org membership, invites, and rate limits on unauthenticated endpoints.
 * Every state change writes its audit row in the caller's transaction and fails if it cannot.
 * Functions take the request transaction; they never commit it (the caller commits, then replies).
 */
#ifndef VT_AUTH_AUTH_H
#define VT_AUTH_AUTH_H

#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "auth/principal.h"
#include "base/secmem.h"
#include "base/util.h"
#include "crypto/keyring.h"
#include "db/db.h"

#define AUTH_ERR_MAX 256
#define AUTH_EMAIL_MAX 254
#define AUTH_NAME_MAX 200
#define AUTH_ORG_NAME_MAX 200
#define API_TOKEN_PREFIX "vt_"
#define API_TOKEN_LEN (3 + 43)       /* "vt_" + base64url(32 random bytes) */
#define API_TOKEN_NAME_MAX 100
#define API_TOKEN_MAX_TTL_S (10LL * 365 * 86400)
#define API_TOKEN_MIN_TTL_S 60
#define INVITE_TOKEN_PREFIX "vti_"
#define INVITE_TOKEN_LEN (4 + 43)
#define INVITE_TTL_S (7 * 86400)
#define MFA_TOTP_WINDOW 1            /* accept ±1 step of clock skew */
#define BEARER_MAX 4096

/* Server-wide inputs of the identity functions (borrowed, outlive every request). */
struct auth_env {
	struct db_pool *pool;
	struct keyring *keyring; /* versions are added at run time by keystore_sync */
	const struct secmem *jwt_key;
	uint64_t jwt_ttl_ms;
	int rate_max;
	uint64_t rate_window_ms;
	const char *base_url;
};

/* Lower-cases and validates an e-mail address into out. VT_ERR_VALIDATION with reason in err. */
int auth_email_normalize(const char *in, char out[static AUTH_EMAIL_MAX + 1],
    char err[static AUTH_ERR_MAX]) VT_WUR;

/* --- sessions (session.c) --- */

/*
 * Resolves "Bearer <x>": a user JWT (signature and expiry checked) or an API token (looked up by
 * hash; revoked or expired tokens fail). VT_ERR_UNAUTHORIZED on any failure.
 */
int auth_bearer_resolve(const struct auth_env *env, const char *bearer, struct principal *p) VT_WUR;
/*
 * Binds the principal to the transaction: sets the org (and user) context unless the transaction
 * was begun with exactly that context (db_tx_begin_as), and for users loads the org role and
 * e-mail, refusing (VT_ERR_UNAUTHORIZED) a user who is no longer a member.
 */
int auth_principal_bind(struct db_tx *tx, struct principal *p) VT_WUR;
/*
 * The principal of a login that presents no bearer (the SSH broker: a registered key or a
 * ticket). The caller sets p->kind, p->org_id and p->user_id or p->token_id; this sets the
 * transaction's org (and user) context and loads the user's org role and e-mail, or the token's
 * name and scopes. VT_ERR_UNAUTHORIZED for a user who is no longer a member of the org, or a
 * revoked or expired token. There is no JWT, so no session check.
 */
int auth_principal_load(struct db_tx *tx, struct principal *p) VT_WUR;
/*
 * Issues a user JWT for (user, org) valid for JWT_TTL, but never past not_after (Unix seconds)
 * when it is non-zero: a token exchanged for another (switch-org) must not extend the session.
 * *jwt owned by the caller.
 */
int auth_issue_jwt(const struct auth_env *env, const struct vt_uuid *user, const struct vt_uuid *org,
    int64_t not_after, char **jwt) VT_WUR;
/* The audit actor for a principal and request origin. */
void auth_actor(const struct principal *p, const char *source_ip, const char *request_id,
    struct audit_actor *a);

/* --- rate limits (ratelimit.c) --- */

/*
 * Counts one hit for key (at most 128 bytes) against max hits per window_ms: in tx when given (the
 * hit commits with the request, which must then commit even on failure), else in its own
 * transaction. 0, or VT_ERR_RATE_LIMITED past the limit. The auth limits pass env->rate_max and
 * env->rate_window_ms.
 */
int auth_rate_hit(const struct auth_env *env, struct db_tx *tx, const char *key, int max,
    uint64_t window_ms) VT_WUR;

/* --- identity (identity.c) --- */

/* POST /api/auth/register: body already schema-checked. *out = {token,user,org}. */
int auth_register(const struct auth_env *env, struct db_tx *tx, const json_t *body,
    const struct audit_actor *origin, json_t **out, char err[static AUTH_ERR_MAX]) VT_WUR;
/*
 * POST /api/auth/login. The failure audit row is written in tx too, so the caller commits tx even
 * when this returns VT_ERR_UNAUTHORIZED or VT_ERR_MFA_REQUIRED.
 */
int auth_login(const struct auth_env *env, struct db_tx *tx, const json_t *body,
    const struct audit_actor *origin, json_t **out, char err[static AUTH_ERR_MAX]) VT_WUR;
/* GET /api/auth/me */
int auth_me(struct db_tx *tx, const struct principal *p, json_t **out) VT_WUR;
/* POST /api/auth/switch-org: VT_ERR_NOT_FOUND unless the user is a member of org. */
int auth_switch_org(const struct auth_env *env, struct db_tx *tx, struct principal *p,
    const struct vt_uuid *org, const struct audit_actor *who, json_t **out) VT_WUR;

/* POST /api/auth/logout: ends this session (its JWT) on the server. */
int auth_logout(struct db_tx *tx, const struct principal *p, const struct audit_actor *who) VT_WUR;
/* POST /api/auth/logout-all: ends every session of the user issued until now. */
int auth_logout_all(struct db_tx *tx, const struct principal *p, const struct audit_actor *who) VT_WUR;
/*
 * POST /api/auth/password: checks the current password (and a TOTP code when MFA is on), sets
 * the new one, ends every other session, and returns a fresh {token}.
 */
int auth_change_password(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const json_t *body, const struct audit_actor *who, json_t **out,
    char err[static AUTH_ERR_MAX]) VT_WUR;

/* --- TOTP MFA (mfa.c) --- */

int mfa_enroll(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const struct audit_actor *who, json_t **out) VT_WUR;
int mfa_confirm(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const char *code, const struct audit_actor *who) VT_WUR;
int mfa_disable(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const char *code, const struct audit_actor *who) VT_WUR;
/*
 * Checks a login TOTP code for the transaction's user (db_tx_set_user done). 0 if MFA is off or
 * the code is valid and unused (then recorded), VT_ERR_MFA_REQUIRED otherwise.
 */
int mfa_check_login(const struct auth_env *env, struct db_tx *tx, const struct vt_uuid *user,
    const char *code) VT_WUR;

/* --- API tokens (apitoken.c) --- */

int apitoken_create(struct db_tx *tx, const struct principal *p, const json_t *body,
    const struct audit_actor *who, json_t **out, char err[static AUTH_ERR_MAX]) VT_WUR;
int apitoken_list(struct db_tx *tx, json_t **out) VT_WUR;
int apitoken_revoke(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct audit_actor *who) VT_WUR;

/* --- orgs, members, invites (orgs.c) --- */

int org_current(struct db_tx *tx, json_t **out) VT_WUR;
int org_rename(struct db_tx *tx, const char *name, const struct audit_actor *who, json_t **out) VT_WUR;
int org_members(struct db_tx *tx, int limit, const char *cursor, json_t **out) VT_WUR;
int org_invite_create(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const json_t *body, const struct audit_actor *who, json_t **out,
    char err[static AUTH_ERR_MAX]) VT_WUR;
int org_invites_list(struct db_tx *tx, json_t **out) VT_WUR;
int org_invite_revoke(struct db_tx *tx, const struct vt_uuid *id, const struct audit_actor *who) VT_WUR;
/* p is the caller if authenticated (existing user), else NULL (new user). */
int org_invite_accept(const struct auth_env *env, struct db_tx *tx, const struct principal *p,
    const json_t *body, const struct audit_actor *origin, json_t **out,
    char err[static AUTH_ERR_MAX]) VT_WUR;
int org_member_set_role(struct db_tx *tx, const struct principal *p, const struct vt_uuid *user,
    const char *role, const struct audit_actor *who, char err[static AUTH_ERR_MAX]) VT_WUR;
int org_member_remove(struct db_tx *tx, const struct principal *p, const struct vt_uuid *user,
    const struct audit_actor *who, char err[static AUTH_ERR_MAX]) VT_WUR;

#endif
