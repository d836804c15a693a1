/*
 * Authorization decisions. authz_org_check answers "may this principal do this in its org" (org
 * roles owner > admin > member; API tokens through their scopes). authz_check answers "may this
 * principal pass this gate of this vault": the effective role is the higher of the caller's vault
 * role and OWNER for org owners/admins; tokens get VIEWER with vault:read and EDITOR with
 * vault:write. Gates: read (VIEWER+), write (EDITOR+), delete and manage_members (ADMIN+),
 * manage_vault (OWNER).
 */
#ifndef VT_AUTHZ_AUTHZ_H
#define VT_AUTHZ_AUTHZ_H

#include <stdint.h>

#include "auth/principal.h"
#include "base/util.h"

enum org_perm {
	ORG_PERM_VIEW,           /* read org name and own membership */
	ORG_PERM_LIST_MEMBERS,   /* list members */
	ORG_PERM_MANAGE_MEMBERS, /* invite, change roles, remove members */
	ORG_PERM_MANAGE_TOKENS,  /* create, list, revoke API tokens */
	ORG_PERM_READ_AUDIT,     /* audit log and events */
	ORG_PERM_MANAGE_ORG,     /* rename the org */
};

/* 0 if allowed, VT_ERR_FORBIDDEN otherwise (VT_ERR_UNAUTHORIZED without a principal). */
int authz_org_check(const struct principal *p, enum org_perm perm) VT_WUR;

enum vault_role {
	VAULT_ROLE_NONE = 0,
	VAULT_ROLE_VIEWER = 1,
	VAULT_ROLE_EDITOR = 2,
	VAULT_ROLE_ADMIN = 3,
	VAULT_ROLE_OWNER = 4,
};

enum vault_gate {
	GATE_READ,
	GATE_WRITE,
	GATE_DELETE,
	GATE_MANAGE_MEMBERS,
	GATE_MANAGE_VAULT,
};

/* The role the principal acts with on a vault where its own membership role is `member_role`. */
enum vault_role authz_vault_effective(const struct principal *p, enum vault_role member_role);
/*
 * The one vault decision: 0 if the principal (with vault membership role `member_role`, NONE if
 * it has none) passes `gate`; VT_ERR_NOT_FOUND if it may not even read the vault (its existence
 * is not revealed); VT_ERR_FORBIDDEN otherwise.
 */
int authz_check(const struct principal *p, enum vault_role member_role, enum vault_gate gate) VT_WUR;
/* The minimum role for a gate. */
enum vault_role authz_gate_min_role(enum vault_gate gate);

const char *authz_vault_role_str(enum vault_role r);
enum vault_role authz_vault_role_parse(const char *s);

/* May `actor` (an org role) grant or take away `target_role`? owners: all; admins: admin/member. */
int authz_can_assign_role(enum org_role actor, enum org_role target_role);

/* Role names ("owner", "admin", "member"). parse returns ORG_ROLE_NONE for anything else. */
const char *authz_role_str(enum org_role r);
enum org_role authz_role_parse(const char *s);

/* Scope names; parse returns 0 for an unknown name. */
uint32_t authz_scope_parse(const char *s);
const char *authz_scope_str(uint32_t bit);

#endif
