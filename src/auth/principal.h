/*
 * Who is calling: a user (JWT) acting in one org with an org role loaded from the database on
 * every request, or an org-owned API token with scopes. Pure types; auth/ fills them, authz/
 * decides with them.
 */
#ifndef VT_AUTH_PRINCIPAL_H
#define VT_AUTH_PRINCIPAL_H

#include <stdint.h>

#include "base/encode.h"

#define PRINCIPAL_EMAIL_MAX 254
#define PRINCIPAL_NAME_MAX 100

enum principal_kind {
	PRINCIPAL_NONE = 0,
	PRINCIPAL_USER,
	PRINCIPAL_API_TOKEN,
};

enum org_role {
	ORG_ROLE_NONE = 0,
	ORG_ROLE_MEMBER = 1,
	ORG_ROLE_ADMIN = 2,
	ORG_ROLE_OWNER = 3,
};

/* API token scopes (API.md). */
enum token_scope {
	SCOPE_VAULT_READ = 1u << 0,
	SCOPE_VAULT_WRITE = 1u << 1,
	SCOPE_AUDIT_READ = 1u << 2,
	SCOPE_SSH_CONNECT = 1u << 3,
	SCOPE_ADMIN = 1u << 4,
	SCOPE_SCIM = 1u << 5,
};

struct principal {
	enum principal_kind kind;
	struct vt_uuid org_id;
	struct vt_uuid user_id;  /* PRINCIPAL_USER */
	struct vt_uuid token_id; /* PRINCIPAL_API_TOKEN */
	enum org_role org_role;  /* PRINCIPAL_USER, loaded per request */
	uint32_t scopes;         /* PRINCIPAL_API_TOKEN */
	int64_t session_exp;     /* PRINCIPAL_USER: the JWT's expiry (Unix seconds) */
	int64_t session_iat;     /* PRINCIPAL_USER: when the JWT was issued */
	char session_id[24];     /* PRINCIPAL_USER: the JWT's jti (for logout) */
	char email[PRINCIPAL_EMAIL_MAX + 1];
	char token_name[PRINCIPAL_NAME_MAX + 1];
};

#endif
