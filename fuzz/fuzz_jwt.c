/*
 * Bearer JWTs: any client can send an Authorization header, so jwt_verify parses fully untrusted
 * text (split, base64url, header JSON, MAC, then claims). This harness runs three checks per
 * input under one fixed HS256 key and a fixed "now". 1. The input as a token never verifies: only
 * jwt_sign with the key makes a token that does, so success on input bytes is a forgery (trap).
 * 2. The input as the claims JSON, correctly signed by the harness, so the fuzzer reaches the claim
 * checks behind the MAC: when it verifies, the claims must match the JSON and be within their
 * validity window. 3. Claims built from the input, signed with jwt_sign, verify to the same
 * claims until exp and not from exp on.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "auth/jwt.h"
#include "base/encode.h"
#include "base/err.h"
#include "base/json.h"
#include "base/secmem.h"
#include "crypto/hash.h"
#include "fuzz.h"

static const uint8_t KEY[32] = "vaultterm-fuzz-jwt-hs256-key-001";
static const char HEADER[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
#define NOW ((int64_t)1750000000) /* 2025-06-15T15:06:40Z */

static struct secmem *key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FUZZ_CHECK(secmem_init() == 0);
	json_use_wiping_allocator();
	FUZZ_CHECK((key = secmem_dup(KEY, sizeof(KEY))) != NULL);
	return 0;
}

static int
claims_zero(const struct jwt_claims *c)
{
	static const struct jwt_claims zero;

	return vt_ct_eq(c, &zero, sizeof(zero));
}

static char *
b64url_dup(const uint8_t *in, size_t n)
{
	char *s = xmalloc(b64url_encoded_size(n));

	b64url_encode(in, n, s, b64url_encoded_size(n));
	return s;
}

/* 2. data is the payload of a token the harness signs with the right key. */
static void
check_signed_payload(const uint8_t *data, size_t size)
{
	struct jwt_claims c;
	char *hb, *pb, *signing, *token, *sb;
	uint8_t mac[HMAC_MAX_LEN];
	size_t maclen;
	json_t *claims;
	struct vt_uuid u;

	hb = b64url_dup((const uint8_t *)HEADER, strlen(HEADER));
	pb = b64url_dup(data, size);
	signing = xasprintf("%s.%s", hb, pb);
	FUZZ_CHECK(hmac_compute(HMAC_SHA256, KEY, sizeof(KEY), signing, strlen(signing), mac,
	    &maclen) == 0);
	sb = b64url_dup(mac, maclen);
	token = xasprintf("%s.%s", signing, sb);
	if (jwt_verify(key, token, NOW, &c) == 0) {
		claims = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_CHECK(json_is_object(claims));
		FUZZ_CHECK(strcmp(json_get_str(claims, "iss"), JWT_ISSUER) == 0);
		FUZZ_CHECK(uuid_parse(json_get_str(claims, "sub"), &u) == 0 && uuid_eq(&u, &c.sub));
		FUZZ_CHECK(uuid_parse(json_get_str(claims, "org"), &u) == 0 && uuid_eq(&u, &c.org));
		FUZZ_CHECK(c.exp == json_get_int(claims, "exp", 0));
		FUZZ_CHECK(c.iat == json_get_int(claims, "iat", 0));
		FUZZ_CHECK(c.exp > NOW && c.iat <= NOW + JWT_CLOCK_SKEW_S && c.iat <= c.exp);
		FUZZ_CHECK(strlen(c.jti) <= JWT_JTI_LEN);
		json_decref(claims);
	} else {
		FUZZ_CHECK(claims_zero(&c));
	}
	free(hb);
	free(pb);
	free(signing);
	free(sb);
	free(token);
}

/* 3. jwt_sign → jwt_verify round trip with claims taken from the input. */
static void
check_sign_roundtrip(const uint8_t *data, size_t size)
{
	struct jwt_claims c, got;
	uint64_t iat = 0, life = 0;
	char *token = NULL;
	size_t i;

	if (size < 32 + 16 + 8 + 4)
		return;
	memset(&c, 0, sizeof(c));
	memcpy(c.sub.b, data, 16);
	memcpy(c.org.b, data + 16, 16);
	b64url_encode(data + 32, 16, c.jti, sizeof(c.jti));
	for (i = 0; i < 8; i++)
		iat = iat << 8 | data[48 + i];
	for (i = 0; i < 4; i++)
		life = life << 8 | data[56 + i];
	c.iat = (int64_t)(iat >> 24); /* up to 2^40 s: far future, no overflow */
	c.exp = c.iat + 1 + (int64_t)life;
	FUZZ_CHECK(jwt_sign(key, &c, &token) == 0);
	FUZZ_CHECK(jwt_verify(key, token, c.iat, &got) == 0);
	FUZZ_CHECK(uuid_eq(&got.sub, &c.sub) && uuid_eq(&got.org, &c.org));
	FUZZ_CHECK(got.iat == c.iat && got.exp == c.exp && strcmp(got.jti, c.jti) == 0);
	FUZZ_CHECK(jwt_verify(key, token, c.exp - 1, &got) == 0);
	FUZZ_CHECK(jwt_verify(key, token, c.exp, &got) == VT_ERR_VERIFY && claims_zero(&got));
	/* Any single flipped byte breaks it. */
	token[data[0] % strlen(token)] ^= 0x01;
	FUZZ_CHECK(jwt_verify(key, token, c.iat, &got) == VT_ERR_VERIFY);
	free(token);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwt_claims c;
	char *token = fuzz_cstr(data, size);
	int r;

	/* 1. Input bytes never verify. */
	r = jwt_verify(key, token, NOW, &c);
	if (r == 0) {
		fprintf(stderr, "fuzz: input bytes verified as a JWT\n");
		__builtin_trap();
	}
	FUZZ_CHECK(r == VT_ERR_VERIFY && claims_zero(&c));
	free(token);

	if (size <= 1024)
		check_signed_payload(data, size);
	check_sign_roundtrip(data, size);
	return 0;
}
