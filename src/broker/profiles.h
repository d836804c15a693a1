/*
 * What the broker knows about who may connect where, in the database: users' broker login keys
 * (ssh_keys), connection profiles (ssh_profiles), one-time tickets (ssh_tickets), and the
 * org's recording switch. The CRUD half serves /api/ssh/... (JSON in,
 * JSON out, like vault.h); the lookup half serves the broker's session threads.
 *
 * Every function runs in the caller's transaction with the org context set (except the two
 * cross-org lookups, which call the narrow SECURITY DEFINER functions of schema 6), writes its
 * audit row there, and never commits. Another org's id is VT_ERR_NOT_FOUND, never FORBIDDEN.
 * (Terminal sessions and recordings: recorder.h.)
 */
#ifndef VT_BROKER_PROFILES_H
#define VT_BROKER_PROFILES_H

#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "auth/principal.h"
#include "base/util.h"
#include "db/db.h"

#define SSH_ERR_MAX 256
#define SSH_PROFILE_NAME_MAX 64
#define SSH_HOST_MAX 253
#define SSH_USER_MAX 64
#define SSH_PUBKEY_MAX 16384
#define SSH_FINGERPRINT_LEN 50     /* "SHA256:" + 43 base64 characters */
#define SSH_TICKET_TTL_S 60
#define SSH_TICKET_PREFIX "vtt_"
#define SSH_TICKET_MAX 64          /* "vtt_" + base64url of 32 random bytes (43) */
#define SSH_KEYS_PER_USER_MAX 50

/* --- CRUD for the API (profiles.c) --- */

/* POST /api/ssh/keys {name, public_key}: the caller's (a user's) own key; any org member. The
 * public key must parse (ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa ≥ 2048 bits). */
int ssh_key_add(struct db_tx *tx, const struct principal *p, const json_t *body,
    const struct audit_actor *who, json_t **out, char err[static SSH_ERR_MAX]) VT_WUR;
int ssh_key_list(struct db_tx *tx, const struct principal *p, json_t **out) VT_WUR;
int ssh_key_delete(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct audit_actor *who) VT_WUR;

/* Profiles: org admins and owners (or tokens with admin) create, change and delete; every member
 * lists and reads. credential_secret_id must be an SSH_KEY or PASSWORD secret the creator may
 * read (inject-only allowed). host_key: an OpenSSH public key line, "" or absent = trust on first
 * use. */
int ssh_profile_create(struct db_tx *tx, const struct principal *p, const json_t *body,
    const struct audit_actor *who, json_t **out, char err[static SSH_ERR_MAX]) VT_WUR;
/* A page of the org's profiles by name: limit 1..SSH_PROFILE_LIST_MAX, cursor the last name seen
 * (NULL: from the start). */
#define SSH_PROFILE_LIST_MAX 500
int ssh_profile_list(struct db_tx *tx, const struct principal *p, int limit, const char *cursor,
    json_t **out) VT_WUR;
int ssh_profile_get(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    json_t **out) VT_WUR;
int ssh_profile_update(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const json_t *body, const struct audit_actor *who, json_t **out,
    char err[static SSH_ERR_MAX]) VT_WUR;
int ssh_profile_delete(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id,
    const struct audit_actor *who) VT_WUR;

/* POST /api/ssh/tickets {profile_id} → {ticket, expires_at, ssh_command}. Users, or API tokens
 * with ssh:connect. The ticket is random; only its SHA-256 is stored. broker_host/port build
 * ssh_command ("ssh -p <port> <profile>@<host>"). Audited SSH_TICKET_ISSUED. */
int ssh_ticket_issue(struct db_tx *tx, const struct principal *p, const json_t *body,
    const char *broker_host, int broker_port, const struct audit_actor *who, json_t **out,
    char err[static SSH_ERR_MAX]) VT_WUR;

/* PATCH /api/orgs/current {recording_enabled}: admins and owners. */
int ssh_org_recording_set(struct db_tx *tx, const struct principal *p, int enabled,
    const struct audit_actor *who) VT_WUR;

/* --- lookups for the broker (login.c) --- */

/* Who a login is. user_id or token_id (tickets issued to an API token). */
struct ssh_login {
	struct vt_uuid org_id;
	int has_user;
	struct vt_uuid user_id;
	int has_token;
	struct vt_uuid token_id;
	int has_profile;           /* a ticket names its profile */
	struct vt_uuid profile_id;
	int has_key;
	struct vt_uuid key_id;
	char email[PRINCIPAL_EMAIL_MAX + 1];
};

#define SSH_LOGIN_CANDIDATES_MAX 16
/* The (org, user) pairs a registered key logs in as (no org context needed). *n = 0: unknown. */
int ssh_login_by_key(struct db_tx *tx, const char *fingerprint,
    struct ssh_login out[static SSH_LOGIN_CANDIDATES_MAX], int *n) VT_WUR;
/* Consumes a ticket: 0 and *out, or VT_ERR_NOT_FOUND (unknown, used, expired). */
int ssh_login_by_ticket(struct db_tx *tx, const char *ticket, struct ssh_login *out) VT_WUR;

/* A profile as the broker needs it. */
struct ssh_profile {
	struct vt_uuid id;
	char name[SSH_PROFILE_NAME_MAX + 1];
	char host[SSH_HOST_MAX + 1];
	int port;
	char username[SSH_USER_MAX + 1];
	struct vt_uuid credential_secret_id;
	char *host_key;          /* owned; NULL: not pinned yet */
	int recording_enabled;   /* the org's setting */
};
void ssh_profile_clear(struct ssh_profile *pr);

/*
 * In the transaction's org (set to login->org_id): the profile named `name` (or login's ticket
 * profile, which must then be named `name`), with the principal built for the login (its org
 * role or token scopes, loaded now). VT_ERR_NOT_FOUND when no such profile exists in that org;
 * VT_ERR_FORBIDDEN when the principal may not connect (a token without ssh:connect, a user no
 * longer a member). The vault gate on the credential is checked when it is opened.
 */
int ssh_profile_resolve(struct db_tx *tx, const struct ssh_login *login, const char *name,
    struct principal *p, struct ssh_profile *out) VT_WUR;

/* Trust on first use: pins host_key on a profile that has none (a no-op if one raced in
 * first; *pinned tells). */
int ssh_profile_pin(struct db_tx *tx, const struct vt_uuid *id, const char *host_key,
    int *pinned) VT_WUR;

#endif
