/*
 * The org-level decision table. Tokens are org-owned and never act as a person: they cannot manage
 * members or mint other tokens (an `admin` token creating a fresh admin token would let a leaked
 * token outlive its own revocation).
 */
#include "authz/authz.h"

#include <string.h>

#include "base/err.h"

static const char *const SCOPE_NAMES[] = { "vault:read", "vault:write", "audit:read",
	"ssh:connect", "admin", "scim" };

enum vault_role
authz_gate_min_role(enum vault_gate gate)
{
	switch (gate) {
	case GATE_READ:
		return VAULT_ROLE_VIEWER;
	case GATE_WRITE:
		return VAULT_ROLE_EDITOR;
	case GATE_DELETE:
	case GATE_MANAGE_MEMBERS:
		return VAULT_ROLE_ADMIN;
	case GATE_MANAGE_VAULT:
		return VAULT_ROLE_OWNER;
	}
	return VAULT_ROLE_OWNER + 1; /* unknown gate: nobody passes */
}

enum vault_role
authz_vault_effective(const struct principal *p, enum vault_role member_role)
{
	enum vault_role r = VAULT_ROLE_NONE;

	if (p == NULL)
		return VAULT_ROLE_NONE;
	switch (p->kind) {
	case PRINCIPAL_USER:
		/* Org owners and admins manage every vault of their org. */
		r = p->org_role >= ORG_ROLE_ADMIN ? VAULT_ROLE_OWNER : member_role;
		if (member_role > r)
			r = member_role;
		break;
	case PRINCIPAL_API_TOKEN:
		/* Tokens are org-owned, not vault members: their scopes set a fixed role. */
		if (p->scopes & SCOPE_VAULT_WRITE)
			r = VAULT_ROLE_EDITOR;
		else if (p->scopes & SCOPE_VAULT_READ)
			r = VAULT_ROLE_VIEWER;
		break;
	case PRINCIPAL_NONE:
		break;
	}
	return r;
}

int
authz_check(const struct principal *p, enum vault_role member_role, enum vault_gate gate)
{
	enum vault_role r = authz_vault_effective(p, member_role);

	if (r < VAULT_ROLE_VIEWER)
		return VT_ERR_NOT_FOUND;
	return (int)r >= (int)authz_gate_min_role(gate) ? 0 : VT_ERR_FORBIDDEN;
}

const char *
authz_vault_role_str(enum vault_role r)
{
	switch (r) {
	case VAULT_ROLE_VIEWER:
		return "VIEWER";
	case VAULT_ROLE_EDITOR:
		return "EDITOR";
	case VAULT_ROLE_ADMIN:
		return "ADMIN";
	case VAULT_ROLE_OWNER:
		return "OWNER";
	case VAULT_ROLE_NONE:
		break;
	}
	return "NONE";
}

enum vault_role
authz_vault_role_parse(const char *s)
{
	static const char *const names[] = { "VIEWER", "EDITOR", "ADMIN", "OWNER" };
	size_t i;

	if (s == NULL)
		return VAULT_ROLE_NONE;
	for (i = 0; i < VT_NELEM(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (enum vault_role)(i + 1);
	return VAULT_ROLE_NONE;
}

uint32_t
authz_scope_parse(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0; /* e.g. a non-string element of a request's "scopes" array */
	for (i = 0; i < VT_NELEM(SCOPE_NAMES); i++)
		if (strcmp(s, SCOPE_NAMES[i]) == 0)
			return 1u << i;
	return 0;
}

const char *
authz_scope_str(uint32_t bit)
{
	size_t i;

	for (i = 0; i < VT_NELEM(SCOPE_NAMES); i++)
		if (bit == 1u << i)
			return SCOPE_NAMES[i];
	return NULL;
}

const char *
authz_role_str(enum org_role r)
{
	switch (r) {
	case ORG_ROLE_OWNER:
		return "owner";
	case ORG_ROLE_ADMIN:
		return "admin";
	case ORG_ROLE_MEMBER:
		return "member";
	case ORG_ROLE_NONE:
		break;
	}
	return "none";
}

enum org_role
authz_role_parse(const char *s)
{
	if (s == NULL)
		return ORG_ROLE_NONE;
	if (strcmp(s, "owner") == 0)
		return ORG_ROLE_OWNER;
	if (strcmp(s, "admin") == 0)
		return ORG_ROLE_ADMIN;
	if (strcmp(s, "member") == 0)
		return ORG_ROLE_MEMBER;
	return ORG_ROLE_NONE;
}

int
authz_can_assign_role(enum org_role actor, enum org_role target_role)
{
	if (actor == ORG_ROLE_OWNER)
		return target_role != ORG_ROLE_NONE;
	if (actor == ORG_ROLE_ADMIN)
		return target_role == ORG_ROLE_ADMIN || target_role == ORG_ROLE_MEMBER;
	return 0;
}

int
authz_org_check(const struct principal *p, enum org_perm perm)
{
	if (p == NULL || p->kind == PRINCIPAL_NONE)
		return VT_ERR_UNAUTHORIZED;
	if (p->kind == PRINCIPAL_API_TOKEN) {
		switch (perm) {
		case ORG_PERM_VIEW:
			return 0;
		case ORG_PERM_READ_AUDIT:
			return (p->scopes & (SCOPE_AUDIT_READ | SCOPE_ADMIN)) ? 0 : VT_ERR_FORBIDDEN;
		case ORG_PERM_LIST_MEMBERS:
			return (p->scopes & (SCOPE_ADMIN | SCOPE_SCIM)) ? 0 : VT_ERR_FORBIDDEN;
		case ORG_PERM_MANAGE_MEMBERS:
		case ORG_PERM_MANAGE_TOKENS:
		case ORG_PERM_MANAGE_ORG:
			return VT_ERR_FORBIDDEN;
		}
		return VT_ERR_FORBIDDEN;
	}
	switch (perm) {
	case ORG_PERM_VIEW:
	case ORG_PERM_LIST_MEMBERS:
		return p->org_role >= ORG_ROLE_MEMBER ? 0 : VT_ERR_FORBIDDEN;
	case ORG_PERM_MANAGE_MEMBERS:
	case ORG_PERM_MANAGE_TOKENS:
	case ORG_PERM_READ_AUDIT:
		return p->org_role >= ORG_ROLE_ADMIN ? 0 : VT_ERR_FORBIDDEN;
	case ORG_PERM_MANAGE_ORG:
		return p->org_role >= ORG_ROLE_OWNER ? 0 : VT_ERR_FORBIDDEN;
	}
	return VT_ERR_FORBIDDEN;
}
