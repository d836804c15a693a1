/*
 * HS256 JWT signing and verification. Verification checks the header's algorithm before anything
 * else, compares the MAC in constant time, and only then parses claims. Every failure path returns
 * the same code so a caller cannot learn which check failed.
 */
#include "auth/jwt.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "base/err.h"
#include "base/json.h"
#include "crypto/hash.h"

#define JWT_PART_MAX 1024

static const char JWT_HEADER[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

int
jwt_sign(const struct secmem *key, struct jwt_claims *c, char **out)
{
	char sub[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1];
	char hb[128], *pb = NULL, sb[64], *payload = NULL, *signing = NULL;
	uint8_t mac[HMAC_MAX_LEN], rnd[16];
	size_t maclen, plen;
	json_t *claims;
	int r = VT_ERR_INTERNAL;

	*out = NULL;
	if (c->jti[0] == '\0') {
		random_bytes(rnd, sizeof(rnd));
		b64url_encode(rnd, sizeof(rnd), c->jti, sizeof(c->jti));
	}
	uuid_format(&c->sub, sub);
	uuid_format(&c->org, org);
	claims = json_packx("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", JWT_ISSUER, "sub", sub, "org",
	    org, "iat", (json_int_t)c->iat, "exp", (json_int_t)c->exp, "jti", c->jti);
	payload = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(claims);
	if (payload == NULL)
		goto out;
	plen = strlen(payload);
	b64url_encode((const uint8_t *)JWT_HEADER, strlen(JWT_HEADER), hb, sizeof(hb));
	pb = xmalloc(b64url_encoded_size(plen));
	b64url_encode((const uint8_t *)payload, plen, pb, b64url_encoded_size(plen));
	signing = xasprintf("%s.%s", hb, pb);
	if ((r = hmac_compute(HMAC_SHA256, secmem_ptr(key), secmem_len(key), signing,
	    strlen(signing), mac, &maclen)) != 0)
		goto out;
	b64url_encode(mac, maclen, sb, sizeof(sb));
	*out = xasprintf("%s.%s", signing, sb);
	r = 0;
 out:
	free(payload);
	free(pb);
	free(signing);
	sodium_memzero(mac, sizeof(mac));
	return r;
}

static int
b64url_json(const char *s, size_t n, json_t **out)
{
	uint8_t buf[JWT_PART_MAX];
	size_t len;
	json_t *v;

	*out = NULL;
	if (n == 0 || n > b64url_encoded_size(sizeof(buf)) ||
	    b64url_decode(s, n, buf, sizeof(buf), &len) != 0)
		return VT_ERR_VERIFY;
	v = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(v)) {
		json_decref(v);
		return VT_ERR_VERIFY;
	}
	*out = v;
	return 0;
}

int
jwt_verify(const struct secmem *key, const char *token, int64_t now, struct jwt_claims *c)
{
	const char *d1, *d2, *s;
	uint8_t mac[HMAC_MAX_LEN], sig[64];
	size_t maclen, siglen, n;
	json_t *hdr = NULL, *claims = NULL, *v;
	int r = VT_ERR_VERIFY;

	memset(c, 0, sizeof(*c));
	if (token == NULL || (n = strnlen(token, JWT_MAX_LEN + 1)) > JWT_MAX_LEN)
		return VT_ERR_VERIFY;
	if ((d1 = strchr(token, '.')) == NULL || (d2 = strchr(d1 + 1, '.')) == NULL ||
	    strchr(d2 + 1, '.') != NULL)
		return VT_ERR_VERIFY;

	/* 1. The header must say HS256 (and at most typ JWT); "none" and others are refused. */
	if (b64url_json(token, (size_t)(d1 - token), &hdr) != 0)
		goto out;
	if ((s = json_get_str(hdr, "alg")) == NULL || strcmp(s, "HS256") != 0)
		goto out;
	if ((v = json_object_get(hdr, "typ")) != NULL &&
	    (!json_is_string(v) || strcmp(json_string_value(v), "JWT") != 0))
		goto out;
	if (json_object_size(hdr) > (size_t)(v != NULL ? 2 : 1))
		goto out; /* crit, kid, jku, ...: not ours */

	/* 2. The MAC over header.payload, compared in constant time. */
	if (b64url_decode(d2 + 1, strlen(d2 + 1), sig, sizeof(sig), &siglen) != 0 || siglen != 32)
		goto out;
	if (hmac_compute(HMAC_SHA256, secmem_ptr(key), secmem_len(key), token,
	    (size_t)(d2 - token), mac, &maclen) != 0 || maclen != siglen ||
	    sodium_memcmp(mac, sig, siglen) != 0)
		goto out;

	/* 3. Only now parse and check the claims. */
	if (b64url_json(d1 + 1, (size_t)(d2 - d1 - 1), &claims) != 0)
		goto out;
	if ((s = json_get_str(claims, "iss")) == NULL || strcmp(s, JWT_ISSUER) != 0)
		goto out;
	if (uuid_parse(json_get_str(claims, "sub"), &c->sub) != 0 ||
	    uuid_parse(json_get_str(claims, "org"), &c->org) != 0)
		goto out;
	if (!json_is_integer(json_object_get(claims, "exp")) ||
	    !json_is_integer(json_object_get(claims, "iat")))
		goto out;
	c->exp = json_get_int(claims, "exp", 0);
	c->iat = json_get_int(claims, "iat", 0);
	if (c->exp <= now || c->iat > now + JWT_CLOCK_SKEW_S || c->iat > c->exp)
		goto out;
	if ((s = json_get_str(claims, "jti")) != NULL && strlen(s) <= JWT_JTI_LEN)
		memcpy(c->jti, s, strlen(s) + 1);
	r = 0;
 out:
	if (r != 0)
		memset(c, 0, sizeof(*c));
	json_decref(hdr);
	json_decref(claims);
	sodium_memzero(mac, sizeof(mac));
	return r;
}
