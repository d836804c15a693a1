/*
 * Authorization decisions: one function answers "may this principal do this in its org". Org
 * roles are owner > admin > member; API tokens act through their scopes. Vault and team roles
 * (VIEWER < EDITOR < ADMIN < OWNER) join this module with the vault issue.
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

/* May `actor` (an org role) grant or take away `target_role`? owners: all; admins: admin/member. */
int authz_can_assign_role(enum org_role actor, enum org_role target_role);

/* Role names ("owner", "admin", "member"). parse returns ORG_ROLE_NONE for anything else. */
const char *authz_role_str(enum org_role r);
enum org_role authz_role_parse(const char *s);

/* Scope names; parse returns 0 for an unknown name. */
uint32_t authz_scope_parse(const char *s);
const char *authz_scope_str(uint32_t bit);

#endif
