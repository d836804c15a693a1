/*
 * The server's composition root: configuration, key material, the database pool and the
 * identity environment, shared (read-only after start) by every request. The route table and the
 * http hooks that run each request in its own transaction live in the api/ files.
 */
#ifndef VT_API_APP_H
#define VT_API_APP_H

#include <stddef.h>

#include "audit/sequencer.h"
#include "audit/signing.h"
#include "auth/auth.h"
#include "base/config.h"
#include "crypto/keyring.h"
#include "db/db.h"
#include "http/http.h"

#define API_SCAN_FINDINGS_MAX 1000 /* findings listed by POST /api/vault/scan (all are counted) */

struct scan_db;
struct broker;
struct vault_fpcache;

struct app {
	struct config cfg;
	struct keyring *keyring;
	struct db_pool *pool;
	struct auth_env env;
	struct audit_keys *audit_keys;  /* the audit chain's signing root */
	struct sequencer *sequencer;    /* NULL only in tools that do not serve */
	struct scan_db *scan_db;        /* the exposure scanner's rules, compiled once at boot */
	struct vault_fpcache *fpcache;  /* each org's fingerprint set, shared by scans and sessions */
	struct broker *broker;          /* the SSH broker; NULL when SSH_BROKER_PORT=off */
};

/* The route table and its size. */
extern const struct http_route API_ROUTES[];
extern const size_t API_ROUTES_COUNT;

/* http hooks (dispatch.c). */
int api_authenticate(struct http_req *req, const char *bearer);
int api_dispatch(struct http_req *req, const struct http_route *route);

/* The audit actor of this request. */
void api_actor(const struct http_req *req, struct audit_actor *who);
/* Records error r with msg when the module gave one (msg may be NULL or ""). Returns r. */
int api_fail_msg(struct http_req *req, int r, const char *msg);
/* Fails with 403 unless the caller has perm in its org. */
int api_require(struct http_req *req, int perm) VT_WUR;

/* Handlers, one file per route group. */
int api_health(struct http_req *req);
int api_auth_register(struct http_req *req);
int api_auth_login(struct http_req *req);
int api_auth_me(struct http_req *req);
int api_auth_switch_org(struct http_req *req);
int api_auth_totp_enroll(struct http_req *req);
int api_auth_totp_confirm(struct http_req *req);
int api_auth_totp_disable(struct http_req *req);
int api_auth_accept_invite(struct http_req *req);
int api_auth_logout(struct http_req *req);
int api_auth_logout_all(struct http_req *req);
int api_auth_password(struct http_req *req);
int api_orgs_current(struct http_req *req);
int api_orgs_rename(struct http_req *req);
int api_orgs_members(struct http_req *req);
int api_orgs_member_patch(struct http_req *req);
int api_orgs_member_delete(struct http_req *req);
int api_orgs_invite_create(struct http_req *req);
int api_orgs_invites_list(struct http_req *req);
int api_orgs_invite_delete(struct http_req *req);
int api_tokens_create(struct http_req *req);
int api_tokens_list(struct http_req *req);
int api_tokens_revoke(struct http_req *req);
int api_audit_list(struct http_req *req);
int api_vaults_create(struct http_req *req);
int api_vaults_list(struct http_req *req);
int api_vaults_get(struct http_req *req);
int api_vaults_patch(struct http_req *req);
int api_vaults_delete(struct http_req *req);
int api_vault_members_list(struct http_req *req);
int api_vault_members_put(struct http_req *req);
int api_vault_members_delete(struct http_req *req);
int api_secrets_create(struct http_req *req);
int api_secrets_list(struct http_req *req);
int api_secrets_get(struct http_req *req);
int api_secrets_put(struct http_req *req);
int api_secrets_delete(struct http_req *req);
int api_secrets_reveal(struct http_req *req);
int api_secrets_totp(struct http_req *req);
int api_vault_scan(struct http_req *req);
int api_terminal_sessions_list(struct http_req *req);
int api_terminal_recording(struct http_req *req);
int api_events_list(struct http_req *req);
int api_audit_checkpoints(struct http_req *req);
int api_audit_checkpoint_latest(struct http_req *req);
int api_audit_proof_inclusion(struct http_req *req);
int api_audit_proof_consistency(struct http_req *req);
int api_audit_export(struct http_req *req);
int api_audit_public_key(struct http_req *req);
int api_ssh_keys_create(struct http_req *req);
int api_ssh_keys_list(struct http_req *req);
int api_ssh_keys_delete(struct http_req *req);
int api_ssh_profiles_create(struct http_req *req);
int api_ssh_profiles_list(struct http_req *req);
int api_ssh_profiles_get(struct http_req *req);
int api_ssh_profiles_patch(struct http_req *req);
int api_ssh_profiles_delete(struct http_req *req);
int api_ssh_tickets_create(struct http_req *req);
int api_ssh_broker(struct http_req *req);

/* `vaultterm server` and `vaultterm migrate` (serve.c). */
int cmd_server_main(int argc, char **argv);
int cmd_migrate_main(int argc, char **argv);
int cmd_operator_main(int argc, char **argv);

#endif
