/*
 * The route table: every endpoint the server answers, with its methods and whether it needs a
 * bearer. docs/openapi.yaml documents exactly these.
 */
#include "api/app.h"

const struct http_route API_ROUTES[] = {
	{ HTTP_GET, "/health", api_health, ROUTE_NO_TX },
	{ HTTP_POST, "/api/auth/register", api_auth_register, ROUTE_RATE_LIMIT },
	{ HTTP_POST, "/api/auth/login", api_auth_login, ROUTE_RATE_LIMIT },
	{ HTTP_POST, "/api/auth/accept-invite", api_auth_accept_invite, ROUTE_RATE_LIMIT },
	{ HTTP_GET, "/api/auth/me", api_auth_me, ROUTE_AUTH },
	{ HTTP_POST, "/api/auth/switch-org", api_auth_switch_org, ROUTE_AUTH },
	{ HTTP_POST, "/api/auth/totp/enroll", api_auth_totp_enroll, ROUTE_AUTH },
	{ HTTP_POST, "/api/auth/totp/confirm", api_auth_totp_confirm, ROUTE_AUTH },
	{ HTTP_POST, "/api/auth/totp/disable", api_auth_totp_disable, ROUTE_AUTH },
	{ HTTP_POST, "/api/auth/logout", api_auth_logout, ROUTE_AUTH },
	{ HTTP_POST, "/api/auth/logout-all", api_auth_logout_all, ROUTE_AUTH },
	{ HTTP_POST, "/api/auth/password", api_auth_password, ROUTE_AUTH },
	{ HTTP_GET, "/api/orgs/current", api_orgs_current, ROUTE_AUTH },
	{ HTTP_PATCH, "/api/orgs/current", api_orgs_rename, ROUTE_AUTH },
	{ HTTP_GET, "/api/orgs/current/members", api_orgs_members, ROUTE_AUTH },
	{ HTTP_PATCH, "/api/orgs/current/members/{user_id}", api_orgs_member_patch, ROUTE_AUTH },
	{ HTTP_DELETE, "/api/orgs/current/members/{user_id}", api_orgs_member_delete, ROUTE_AUTH },
	{ HTTP_POST, "/api/orgs/current/invites", api_orgs_invite_create, ROUTE_AUTH },
	{ HTTP_GET, "/api/orgs/current/invites", api_orgs_invites_list, ROUTE_AUTH },
	{ HTTP_DELETE, "/api/orgs/current/invites/{id}", api_orgs_invite_delete, ROUTE_AUTH },
	{ HTTP_POST, "/api/tokens", api_tokens_create, ROUTE_AUTH },
	{ HTTP_GET, "/api/tokens", api_tokens_list, ROUTE_AUTH },
	{ HTTP_DELETE, "/api/tokens/{id}", api_tokens_revoke, ROUTE_AUTH },
	{ HTTP_GET, "/api/audit", api_audit_list, ROUTE_AUTH },
	{ HTTP_GET, "/api/events/v1", api_events_list, ROUTE_AUTH },
	{ HTTP_POST, "/api/vault/vaults", api_vaults_create, ROUTE_AUTH },
	{ HTTP_GET, "/api/vault/vaults", api_vaults_list, ROUTE_AUTH },
	{ HTTP_GET, "/api/vault/vaults/{vault_id}", api_vaults_get, ROUTE_AUTH },
	{ HTTP_PATCH, "/api/vault/vaults/{vault_id}", api_vaults_patch, ROUTE_AUTH },
	{ HTTP_DELETE, "/api/vault/vaults/{vault_id}", api_vaults_delete, ROUTE_AUTH },
	{ HTTP_GET, "/api/vault/vaults/{vault_id}/members", api_vault_members_list, ROUTE_AUTH },
	{ HTTP_PUT, "/api/vault/vaults/{vault_id}/members/{user_id}", api_vault_members_put,
	  ROUTE_AUTH },
	{ HTTP_DELETE, "/api/vault/vaults/{vault_id}/members/{user_id}", api_vault_members_delete,
	  ROUTE_AUTH },
	{ HTTP_POST, "/api/vault/vaults/{vault_id}/secrets", api_secrets_create, ROUTE_AUTH },
	{ HTTP_GET, "/api/vault/vaults/{vault_id}/secrets", api_secrets_list, ROUTE_AUTH },
	{ HTTP_GET, "/api/vault/secrets/{secret_id}", api_secrets_get, ROUTE_AUTH },
	{ HTTP_PUT, "/api/vault/secrets/{secret_id}", api_secrets_put, ROUTE_AUTH },
	{ HTTP_DELETE, "/api/vault/secrets/{secret_id}", api_secrets_delete, ROUTE_AUTH },
	{ HTTP_POST, "/api/vault/secrets/{secret_id}/reveal", api_secrets_reveal, ROUTE_AUTH },
	{ HTTP_POST, "/api/vault/secrets/{secret_id}/totp", api_secrets_totp, ROUTE_AUTH },
};

const size_t API_ROUTES_COUNT = VT_NELEM(API_ROUTES);
