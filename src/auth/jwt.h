/*
 * User access tokens: JWT (RFC 7519) with HS256 only. The header must name exactly HS256; "none",
 * other algorithms, a bad signature, a malformed token, expiry or a wrong issuer all fail with the
 * same VT_ERR_VERIFY. Claims carry the user id (sub), the active org id (org), iat, exp and jti.
 */
#ifndef VT_AUTH_JWT_H
#define VT_AUTH_JWT_H

#include <stdint.h>

#include "base/encode.h"
#include "base/secmem.h"
#include "base/util.h"

#define JWT_MAX_LEN 2048     /* longer bearer strings are refused unparsed */
#define JWT_ISSUER "vaultterm"
#define JWT_CLOCK_SKEW_S 60  /* tolerated future iat */
#define JWT_JTI_LEN 22       /* base64url of 16 random bytes */

struct jwt_claims {
	struct vt_uuid sub;
	struct vt_uuid org;
	int64_t iat;
	int64_t exp;
	char jti[JWT_JTI_LEN + 1];
};

/* Signs claims (jti is generated if empty). *out is a new string owned by the caller. */
int jwt_sign(const struct secmem *key, struct jwt_claims *c, char **out) VT_WUR;
/* Verifies token at time now (Unix seconds). 0 and *c, or VT_ERR_VERIFY. */
int jwt_verify(const struct secmem *key, const char *token, int64_t now, struct jwt_claims *c) VT_WUR;

#endif
