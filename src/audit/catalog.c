/*
 * The event catalog: a human title, a category and a severity for each audit action, used by the
 * Events API and (later) the push integrations. Unknown actions still export with defaults.
 */
#include "audit/audit.h"

#include <string.h>

static const struct audit_catalog_entry CATALOG[] = {
	{ "USER_REGISTERED", "User registered", "identity", "info" },
	{ "LOGIN_SUCCEEDED", "Login succeeded", "authentication", "info" },
	{ "LOGIN_FAILED", "Login failed", "authentication", "medium" },
	{ "LOGIN_RATE_LIMITED", "Login rate limited", "authentication", "medium" },
	{ "MFA_ENROLL_STARTED", "TOTP enrolment started", "authentication", "info" },
	{ "MFA_ENABLED", "TOTP MFA enabled", "authentication", "low" },
	{ "MFA_DISABLED", "TOTP MFA disabled", "authentication", "high" },
	{ "ORG_SWITCHED", "Active organization switched", "identity", "info" },
	{ "LOGOUT", "Logged out", "authentication", "info" },
	{ "SESSIONS_REVOKED", "All sessions ended", "authentication", "low" },
	{ "PASSWORD_CHANGED", "Password changed", "authentication", "medium" },
	{ "ORG_UPDATED", "Organization updated", "configuration", "low" },
	{ "INVITE_CREATED", "Member invited", "membership", "low" },
	{ "INVITE_REVOKED", "Invite revoked", "membership", "low" },
	{ "INVITE_ACCEPTED", "Invite accepted", "membership", "low" },
	{ "MEMBER_ROLE_CHANGED", "Member role changed", "membership", "medium" },
	{ "MEMBER_REMOVED", "Member removed", "membership", "medium" },
	{ "API_TOKEN_CREATED", "API token created", "credentials", "medium" },
	{ "API_TOKEN_REVOKED", "API token revoked", "credentials", "medium" },
	{ "SECRET_CREATED", "Secret created", "vault", "low" },
	{ "SECRET_UPDATED", "Secret updated", "vault", "low" },
	{ "SECRET_DELETED", "Secret deleted", "vault", "medium" },
	{ "SECRET_REVEALED", "Secret revealed", "vault", "medium" },
	{ "SECRET_REVEAL_DENIED", "Reveal of an inject-only secret refused", "vault", "high" },
	{ "TOTP_CODE_GENERATED", "TOTP code generated", "vault", "low" },
	{ "TOTP_CODE_DENIED", "TOTP code of an inject-only secret refused", "vault", "high" },
	{ "VAULT_CREATED", "Vault created", "vault", "low" },
	{ "VAULT_UPDATED", "Vault updated", "vault", "low" },
	{ "VAULT_DELETED", "Vault deleted", "vault", "high" },
	{ "VAULT_MEMBER_CHANGED", "Vault membership changed", "vault", "medium" },
	{ "MASTER_KEY_ROTATED", "Master key rotated", "crypto", "high" },
	{ "CREDENTIAL_EXPOSURE_DETECTED", "Credential exposure detected", "detection", "high" },
	{ "CREDENTIAL_BREACH_DETECTED", "Credential breach detected", "detection", "high" },
	{ "AUDIT_ROLLBACK_DETECTED", "Audit rollback detected", "integrity", "critical" },
	{ "AUDIT_ROLLBACK_ACKNOWLEDGED", "Audit rollback acknowledged by an operator", "integrity",
	  "high" },
	{ "AUDIT_TAMPER_DETECTED", "Audit log tampering detected", "integrity", "critical" },
	{ "SSH_KEY_ADDED", "Broker login key added", "credentials", "low" },
	{ "SSH_KEY_DELETED", "Broker login key deleted", "credentials", "low" },
	{ "SSH_PROFILE_CREATED", "Connection profile created", "configuration", "low" },
	{ "SSH_PROFILE_UPDATED", "Connection profile updated", "configuration", "medium" },
	{ "SSH_PROFILE_DELETED", "Connection profile deleted", "configuration", "low" },
	{ "SSH_TICKET_ISSUED", "Broker ticket issued", "access", "info" },
	{ "SSH_LOGIN_DENIED", "Broker login refused", "access", "medium" },
	{ "SESSION_STARTED", "Terminal session started", "access", "low" },
	{ "SESSION_DENIED", "Terminal session refused", "access", "medium" },
	{ "FORWARDING_DENIED", "Port or X11 forwarding refused in a session", "access", "low" },
	{ "SESSION_ENDED", "Terminal session ended", "access", "info" },
	{ "CREDENTIAL_INJECTED", "Credential injected into a session", "vault", "medium" },
	{ "HOST_KEY_PINNED", "Target host key pinned on first use", "access", "medium" },
	{ "HOST_KEY_MISMATCH", "Target host key mismatch", "detection", "critical" },
	{ "COMMAND_EXECUTED", "Command executed", "access", "low" },
	{ "RECORDING_VIEWED", "Session recording viewed", "access", "medium" },
	{ "UPSTREAM_AUTH_FAILED", "Injected credential refused by the target", "access", "medium" },
};

const struct audit_catalog_entry *
audit_catalog_lookup(const char *action)
{
	static const struct audit_catalog_entry unknown = { "", "Audit event", "other", "info" };
	size_t i;

	for (i = 0; i < VT_NELEM(CATALOG); i++)
		if (strcmp(CATALOG[i].action, action) == 0)
			return &CATALOG[i];
	return &unknown;
}
