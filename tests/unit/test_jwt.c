/*
 * Unit tests for auth/jwt: a signed token verifies and round-trips its claims, and every hostile
 * variant is refused with the one generic VT_ERR_VERIFY. Hostile tokens are built by hand here
 * (our own base64url and OpenSSL HMAC-SHA256, independent of the code under test) and carry a
 * valid MAC whenever the check under test runs after the MAC check, so each case proves that one
 * check rather than the MAC. A positive control built the same way shows the builder is right.
 */
#include "auth/jwt.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/err.h"
#include "base/secmem.h"

#define NOW 1700000000
#define SUB "3f0b6b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
#define ORG "7a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
#define JTI "abcdefghijklmnopqrstuv"
#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define HDR_B64 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

static const uint8_t KEY[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t OTHER_KEY[32] = "0123456789abcdef0123456789abcdeF";

static struct secmem *key;

enum sig_kind {
	SIG_HS256,       /* HMAC-SHA256 under KEY: a valid MAC */
	SIG_HS256_OTHER, /* HMAC-SHA256 under OTHER_KEY */
	SIG_HS512,       /* HMAC-SHA512 under KEY */
	SIG_EMPTY,       /* "" as for alg none */
};

/* base64url without padding, through OpenSSL's standard encoder. Caller frees. */
static char *
b64url(const void *in, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	size_t i, len;

	assert_non_null(out);
	len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

/* signing input ‖ "." ‖ signature of that exact input. Caller frees. */
static char *
sign_raw(const char *signing, enum sig_kind kind)
{
	uint8_t mac[EVP_MAX_MD_SIZE] = { 0 };
	unsigned int maclen = 0;
	char *sig, *tok;
	size_t n;

	switch (kind) {
	case SIG_HS256:
		assert_non_null(HMAC(EVP_sha256(), KEY, sizeof(KEY), (const unsigned char *)signing,
		    strlen(signing), mac, &maclen));
		break;
	case SIG_HS256_OTHER:
		assert_non_null(HMAC(EVP_sha256(), OTHER_KEY, sizeof(OTHER_KEY),
		    (const unsigned char *)signing, strlen(signing), mac, &maclen));
		break;
	case SIG_HS512:
		assert_non_null(HMAC(EVP_sha512(), KEY, sizeof(KEY), (const unsigned char *)signing,
		    strlen(signing), mac, &maclen));
		break;
	case SIG_EMPTY:
		break;
	}
	sig = b64url(mac, maclen);
	n = strlen(signing) + 1 + strlen(sig) + 1;
	tok = malloc(n);
	assert_non_null(tok);
	snprintf(tok, n, "%s.%s", signing, sig);
	free(sig);
	return tok;
}

/* b64url(hdr) "." b64url(payload) "." signature. Caller frees. */
static char *
make_token(const char *hdr, const char *payload, enum sig_kind kind)
{
	char *h = b64url(hdr, strlen(hdr)), *p = b64url(payload, strlen(payload)), *s, *tok;
	size_t n = strlen(h) + strlen(p) + 2;

	s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "%s.%s", h, p);
	tok = sign_raw(s, kind);
	free(h);
	free(p);
	free(s);
	return tok;
}

/* The claims jwt_sign writes (compact, sorted keys), with times of our choosing. */
static char *
payload_std(int64_t iat, int64_t exp)
{
	return xasprintf("{\"exp\":%lld,\"iat\":%lld,\"iss\":\"vaultterm\",\"jti\":\"" JTI
			 "\",\"org\":\"" ORG "\",\"sub\":\"" SUB "\"}", (long long)exp,
	    (long long)iat);
}

static void
expect_ok(const char *token, int64_t now)
{
	struct jwt_claims c;
	struct vt_uuid sub, org;

	assert_int_equal(uuid_parse(SUB, &sub), 0);
	assert_int_equal(uuid_parse(ORG, &org), 0);
	assert_int_equal(jwt_verify(key, token, now, &c), 0);
	assert_true(uuid_eq(&c.sub, &sub));
	assert_true(uuid_eq(&c.org, &org));
}

/* Refused with exactly VT_ERR_VERIFY, and the claims are left zeroed. */
static void
expect_reject_at(const char *token, int64_t now)
{
	static const struct jwt_claims zero;
	struct jwt_claims c;

	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(jwt_verify(key, token, now, &c), VT_ERR_VERIFY);
	assert_memory_equal(&c, &zero, sizeof(c));
}

static void
expect_reject(const char *token)
{
	expect_reject_at(token, NOW);
}

/* Verifies a hand-built token with a header and payload of our choosing; kind picks the MAC. */
static void
reject_built(const char *hdr, const char *payload, enum sig_kind kind)
{
	char *t = make_token(hdr, payload, kind);

	expect_reject(t);
	free(t);
}

static void
test_sign_verify_round_trip(void **state)
{
	struct jwt_claims in, out;
	char *tok = NULL, *tok2 = NULL, *expect, *payload, first_jti[JWT_JTI_LEN + 1];

	memset(&in, 0, sizeof(in));
	assert_int_equal(uuid_parse(SUB, &in.sub), 0);
	assert_int_equal(uuid_parse(ORG, &in.org), 0);
	in.iat = NOW;
	in.exp = NOW + 3600;
	assert_int_equal(jwt_sign(key, &in, &tok), 0);
	assert_non_null(tok);
	/* jti was generated: 22 base64url characters. */
	assert_int_equal(strlen(in.jti), JWT_JTI_LEN);
	assert_int_equal(strspn(in.jti, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					"0123456789-_"), JWT_JTI_LEN);
	memcpy(first_jti, in.jti, sizeof(first_jti));
	/* The exact token: fixed header, compact sorted claims, HMAC-SHA256 by an outside tool. */
	assert_int_equal(strncmp(tok, HDR_B64 ".", strlen(HDR_B64) + 1), 0);
	payload = xasprintf("{\"exp\":%lld,\"iat\":%lld,\"iss\":\"vaultterm\",\"jti\":\"%s\","
			    "\"org\":\"" ORG "\",\"sub\":\"" SUB "\"}", (long long)in.exp,
	    (long long)in.iat, in.jti);
	expect = make_token(HDR, payload, SIG_HS256);
	assert_string_equal(tok, expect);

	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(jwt_verify(key, tok, NOW, &out), 0);
	assert_true(uuid_eq(&out.sub, &in.sub));
	assert_true(uuid_eq(&out.org, &in.org));
	assert_int_equal(out.iat, NOW);
	assert_int_equal(out.exp, NOW + 3600);
	assert_string_equal(out.jti, in.jti);
	/* Still valid one second before expiry. */
	assert_int_equal(jwt_verify(key, tok, NOW + 3599, &out), 0);

	/* A caller-provided jti is kept; a second generated one differs from the first. */
	memcpy(in.jti, JTI, sizeof(JTI));
	assert_int_equal(jwt_sign(key, &in, &tok2), 0);
	assert_int_equal(jwt_verify(key, tok2, NOW, &out), 0);
	assert_string_equal(out.jti, JTI);
	free(tok2);
	tok2 = NULL;
	{
		struct jwt_claims again = in;

		again.jti[0] = '\0';
		assert_int_equal(jwt_sign(key, &again, &tok2), 0);
		assert_string_not_equal(again.jti, first_jti);
		assert_string_not_equal(again.jti, JTI);
		assert_string_not_equal(tok2, tok);
	}
	free(tok);
	free(tok2);
	free(expect);
	free(payload);
}

/* Positive controls: the hand builder produces tokens the verifier accepts. */
static void
test_handmade_token_accepted(void **state)
{
	struct jwt_claims c;
	char *p = payload_std(NOW, NOW + 600), *t;

	t = make_token(HDR, p, SIG_HS256);
	assert_int_equal(jwt_verify(key, t, NOW, &c), 0);
	assert_int_equal(c.iat, NOW);
	assert_int_equal(c.exp, NOW + 600);
	assert_string_equal(c.jti, JTI);
	free(t);
	/* typ is optional; member order is free. */
	t = make_token("{\"alg\":\"HS256\"}", p, SIG_HS256);
	expect_ok(t, NOW);
	free(t);
	t = make_token("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", p, SIG_HS256);
	expect_ok(t, NOW);
	free(t);
	free(p);
	/* Unknown extra claims are ignored (they are under the MAC). */
	p = xasprintf("{\"iss\":\"vaultterm\",\"sub\":\"" SUB "\",\"org\":\"" ORG "\",\"iat\":%d,"
		      "\"exp\":%d,\"x\":1}", NOW, NOW + 1);
	t = make_token(HDR, p, SIG_HS256);
	expect_ok(t, NOW);
	free(t);
	free(p);
}

static void
test_reject_expired(void **state)
{
	char *p, *t;

	p = payload_std(NOW - 3600, NOW);
	t = make_token(HDR, p, SIG_HS256);
	expect_reject_at(t, NOW);     /* exp == now */
	expect_reject_at(t, NOW + 1); /* exp < now */
	expect_reject_at(t, INT64_MAX);
	expect_ok(t, NOW - 1);        /* control: one second earlier it is fine */
	free(t);
	free(p);
	p = payload_std(NOW - 7200, NOW - 3600);
	reject_built(HDR, p, SIG_HS256);
	free(p);
}

static void
test_reject_iat_in_future(void **state)
{
	char *p, *t;

	p = payload_std(NOW + JWT_CLOCK_SKEW_S + 1, NOW + 3600);
	reject_built(HDR, p, SIG_HS256);
	free(p);
	p = payload_std(NOW + 86400, NOW + 90000);
	reject_built(HDR, p, SIG_HS256);
	free(p);
	/* Control: exactly at the tolerated skew. */
	p = payload_std(NOW + JWT_CLOCK_SKEW_S, NOW + 3600);
	t = make_token(HDR, p, SIG_HS256);
	expect_ok(t, NOW);
	free(t);
	free(p);
	/* iat after exp (both otherwise acceptable). */
	p = payload_std(NOW + 30, NOW + 10);
	reject_built(HDR, p, SIG_HS256);
	free(p);
}

static char
other_b64url_char(char ch)
{
	return ch == 'A' ? 'B' : 'A';
}

/* Every single-character change anywhere in the token is refused. */
static void
test_reject_bad_signature(void **state)
{
	char *p = payload_std(NOW, NOW + 600), *t = make_token(HDR, p, SIG_HS256);
	size_t i, n = strlen(t);

	expect_ok(t, NOW);
	for (i = 0; i < n; i++) {
		char saved = t[i];

		t[i] = other_b64url_char(saved);
		expect_reject(t);
		t[i] = saved;
	}
	free(t);
	free(p);
}

static void
test_reject_wrong_key(void **state)
{
	char *p = payload_std(NOW, NOW + 600);
	struct secmem *k2 = secmem_dup(OTHER_KEY, sizeof(OTHER_KEY));
	struct jwt_claims in, c;
	char *t;

	reject_built(HDR, p, SIG_HS256_OTHER);
	/* A real token checked under another key, and a key that is a prefix of the real one. */
	memset(&in, 0, sizeof(in));
	assert_int_equal(uuid_parse(SUB, &in.sub), 0);
	assert_int_equal(uuid_parse(ORG, &in.org), 0);
	in.iat = NOW;
	in.exp = NOW + 600;
	assert_int_equal(jwt_sign(k2, &in, &t), 0);
	expect_reject(t);
	assert_int_equal(jwt_verify(k2, t, NOW, &c), 0);
	free(t);
	secmem_free(k2);
	k2 = secmem_dup(KEY, sizeof(KEY) - 1);
	t = make_token(HDR, p, SIG_HS256);
	assert_int_equal(jwt_verify(k2, t, NOW, &c), VT_ERR_VERIFY);
	free(t);
	secmem_free(k2);
	free(p);
}

static void
test_reject_alg_none(void **state)
{
	char *p = payload_std(NOW, NOW + 600);

	reject_built("{\"alg\":\"none\",\"typ\":\"JWT\"}", p, SIG_EMPTY);
	reject_built("{\"alg\":\"none\"}", p, SIG_EMPTY);
	reject_built("{\"alg\":\"None\",\"typ\":\"JWT\"}", p, SIG_EMPTY);
	reject_built("{\"alg\":\"NONE\",\"typ\":\"JWT\"}", p, SIG_EMPTY);
	/* Even with a valid HS256 MAC appended, "none" is refused by the header check. */
	reject_built("{\"alg\":\"none\",\"typ\":\"JWT\"}", p, SIG_HS256);
	/* The real header with an empty signature. */
	reject_built(HDR, p, SIG_EMPTY);
	free(p);
}

static void
test_reject_alg_hs512(void **state)
{
	char *p = payload_std(NOW, NOW + 600);

	/* An HS256 MAC that would verify: only the alg check can refuse it. */
	reject_built("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", p, SIG_HS256);
	/* A genuine HS512 signature under the same key. */
	reject_built("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", p, SIG_HS512);
	reject_built("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", p, SIG_HS256);
	/* HS256 header with an HS512 MAC (64 bytes). */
	reject_built(HDR, p, SIG_HS512);
	free(p);
}

static void
test_reject_alg_rs256(void **state)
{
	char *p = payload_std(NOW, NOW + 600);

	/* Key confusion: RS256 named, "signature" an HMAC under the shared key. */
	reject_built("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", p, SIG_HS256);
	/* Near misses of the one accepted name. */
	reject_built("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256 \",\"typ\":\"JWT\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS2560\",\"typ\":\"JWT\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS25\",\"typ\":\"JWT\"}", p, SIG_HS256);
	free(p);
}

static void
test_reject_missing_alg(void **state)
{
	char *p = payload_std(NOW, NOW + 600);

	reject_built("{\"typ\":\"JWT\"}", p, SIG_HS256);
	reject_built("{}", p, SIG_HS256);
	reject_built("{\"alg\":null,\"typ\":\"JWT\"}", p, SIG_HS256);
	reject_built("{\"alg\":256,\"typ\":\"JWT\"}", p, SIG_HS256);
	reject_built("{\"alg\":[\"HS256\"],\"typ\":\"JWT\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"\",\"typ\":\"JWT\"}", p, SIG_HS256);
	reject_built("{\"ALG\":\"HS256\",\"typ\":\"JWT\"}", p, SIG_HS256);
	free(p);
}

static void
test_reject_extra_header_fields(void **state)
{
	char *p = payload_std(NOW, NOW + 600);

	reject_built("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":[\"exp\"]}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"jku\":\"https://x/\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"b64\":false}", p, SIG_HS256);
	/* Without typ the one extra member is still one too many. */
	reject_built("{\"alg\":\"HS256\",\"kid\":\"1\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\",\"crit\":[]}", p, SIG_HS256);
	/* Duplicate members are not "last one wins". */
	reject_built("{\"alg\":\"none\",\"alg\":\"HS256\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", p, SIG_HS256);
	free(p);
}

static void
test_reject_typ_not_jwt(void **state)
{
	char *p = payload_std(NOW, NOW + 600);

	reject_built("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\",\"typ\":\"\"}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\",\"typ\":null}", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\",\"typ\":1}", p, SIG_HS256);
	free(p);
}

/* A different payload under the original token's signature. */
static void
test_reject_tampered_payload(void **state)
{
	char *p = payload_std(NOW, NOW + 600), *t = make_token(HDR, p, SIG_HS256);
	char *p2, *pb, *forged;
	const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
	size_t n;

	expect_ok(t, NOW);
	/* Longer expiry. */
	p2 = payload_std(NOW, NOW + 86400 * 365);
	pb = b64url(p2, strlen(p2));
	n = (size_t)(d1 - t) + 1 + strlen(pb) + strlen(d2) + 1;
	forged = malloc(n);
	assert_non_null(forged);
	snprintf(forged, n, "%.*s.%s%s", (int)(d1 - t), t, pb, d2);
	expect_reject(forged);
	free(forged);
	free(pb);
	free(p2);
	/* Another user. */
	p2 = xasprintf("{\"exp\":%d,\"iat\":%d,\"iss\":\"vaultterm\",\"jti\":\"" JTI "\",\"org\":\""
		       ORG "\",\"sub\":\"00000000-0000-4000-8000-000000000001\"}", NOW + 600, NOW);
	pb = b64url(p2, strlen(p2));
	n = (size_t)(d1 - t) + 1 + strlen(pb) + strlen(d2) + 1;
	forged = malloc(n);
	assert_non_null(forged);
	snprintf(forged, n, "%.*s.%s%s", (int)(d1 - t), t, pb, d2);
	expect_reject(forged);
	free(forged);
	free(pb);
	free(p2);
	free(t);
	free(p);
}

static void
test_reject_missing_claims(void **state)
{
	char *p;

	p = xasprintf("{\"exp\":%d,\"iat\":%d,\"iss\":\"vaultterm\",\"org\":\"" ORG "\"}",
	    NOW + 600, NOW);
	reject_built(HDR, p, SIG_HS256);
	free(p);
	p = xasprintf("{\"exp\":%d,\"iat\":%d,\"iss\":\"vaultterm\",\"sub\":\"" SUB "\"}",
	    NOW + 600, NOW);
	reject_built(HDR, p, SIG_HS256);
	free(p);
	p = xasprintf("{\"iat\":%d,\"iss\":\"vaultterm\",\"org\":\"" ORG "\",\"sub\":\"" SUB
		      "\"}", NOW);
	reject_built(HDR, p, SIG_HS256);
	free(p);
	p = xasprintf("{\"exp\":%d,\"iss\":\"vaultterm\",\"org\":\"" ORG "\",\"sub\":\"" SUB
		      "\"}", NOW + 600);
	reject_built(HDR, p, SIG_HS256);
	free(p);
	p = xasprintf("{\"exp\":%d,\"iat\":%d,\"org\":\"" ORG "\",\"sub\":\"" SUB "\"}",
	    NOW + 600, NOW);
	reject_built(HDR, p, SIG_HS256);
	free(p);
	reject_built(HDR, "{}", SIG_HS256);
	/* Control: exactly those five present (jti is optional). */
	p = xasprintf("{\"exp\":%d,\"iat\":%d,\"iss\":\"vaultterm\",\"org\":\"" ORG "\",\"sub\":\""
		      SUB "\"}", NOW + 600, NOW);
	{
		char *t = make_token(HDR, p, SIG_HS256);
		struct jwt_claims c;

		assert_int_equal(jwt_verify(key, t, NOW, &c), 0);
		assert_string_equal(c.jti, "");
		free(t);
	}
	free(p);
}

static void
reject_with_ids(const char *sub_json, const char *org_json)
{
	char *p = xasprintf("{\"exp\":%d,\"iat\":%d,\"iss\":\"vaultterm\",\"org\":%s,\"sub\":%s}",
	    NOW + 600, NOW, org_json, sub_json);

	reject_built(HDR, p, SIG_HS256);
	free(p);
}

static void
test_reject_sub_not_uuid(void **state)
{
	static const char *const bad[] = {
		"\"admin\"",
		"\"\"",
		"\"3f0b6b8e1c2d4e5f8a9b0c1d2e3f4a5b\"",
		"\"3f0b6b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5\"",
		"\"3f0b6b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b0\"",
		"\"{3f0b6b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b}\"",
		"\"3f0b6b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5g\"",
		"\"3f0b6b8e_1c2d_4e5f_8a9b_0c1d2e3f4a5b\"",
		"\" 3f0b6b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5\"",
		"12345",
		"null",
		"[\"" SUB "\"]",
	};
	size_t i;

	for (i = 0; i < VT_NELEM(bad); i++) {
		reject_with_ids(bad[i], "\"" ORG "\"");
		reject_with_ids("\"" SUB "\"", bad[i]);
	}
}

static void
test_reject_wrong_iss(void **state)
{
	static const char *const bad[] = { "\"vaultterm2\"", "\"VaultTerm\"", "\"vaultter\"",
		"\"\"", "\"vaultterm \"", "null", "1", "[\"vaultterm\"]" };
	size_t i;

	for (i = 0; i < VT_NELEM(bad); i++) {
		char *p = xasprintf("{\"exp\":%d,\"iat\":%d,\"iss\":%s,\"org\":\"" ORG "\",\"sub\":\""
				    SUB "\"}", NOW + 600, NOW, bad[i]);

		reject_built(HDR, p, SIG_HS256);
		free(p);
	}
}

static void
test_reject_claim_types(void **state)
{
	static const char *const bad[][2] = {
		{ "\"1700000600\"", "1700000000" },
		{ "1700000600.0", "1700000000" },
		{ "1.7000006e9", "1700000000" },
		{ "true", "1700000000" },
		{ "null", "1700000000" },
		{ "1700000600", "\"1700000000\"" },
		{ "1700000600", "1700000000.5" },
		{ "1700000600", "null" },
		{ "99999999999999999999999", "1700000000" },
	};
	size_t i;

	for (i = 0; i < VT_NELEM(bad); i++) {
		char *p = xasprintf("{\"exp\":%s,\"iat\":%s,\"iss\":\"vaultterm\",\"org\":\"" ORG
				    "\",\"sub\":\"" SUB "\"}", bad[i][0], bad[i][1]);

		reject_built(HDR, p, SIG_HS256);
		free(p);
	}
	/* A duplicated claim cannot smuggle a second value past the MAC reader. */
	{
		char *p = xasprintf("{\"exp\":%d,\"exp\":%d,\"iat\":%d,\"iss\":\"vaultterm\",\"org\":\""
				    ORG "\",\"sub\":\"" SUB "\"}", NOW + 600, NOW + 999999, NOW);

		reject_built(HDR, p, SIG_HS256);
		free(p);
	}
}

static void
test_reject_not_json_object(void **state)
{
	char *p = payload_std(NOW, NOW + 600), *bad;

	reject_built("[\"HS256\"]", p, SIG_HS256);
	reject_built("\"HS256\"", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\"", p, SIG_HS256);
	reject_built("{\"alg\":\"HS256\"}x", p, SIG_HS256);
	reject_built(HDR, "[]", SIG_HS256);
	reject_built(HDR, "null", SIG_HS256);
	reject_built(HDR, "not json", SIG_HS256);
	bad = xasprintf("%s}", p);
	reject_built(HDR, bad, SIG_HS256);
	free(bad);
	free(p);
}

/* Splices: the token must have exactly three parts. */
static void
test_reject_structure(void **state)
{
	char *p = payload_std(NOW, NOW + 600), *t = make_token(HDR, p, SIG_HS256), *s;
	const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');

	expect_ok(t, NOW);
	/* Two parts (one dot): header.payload, and header.signature. */
	s = xstrndup(t, (size_t)(d2 - t));
	expect_reject(s);
	free(s);
	s = xasprintf("%.*s%s", (int)(d1 - t), t, d2);
	expect_reject(s);
	free(s);
	/* Four and five parts. */
	s = xasprintf("%s.%s", t, d2 + 1);
	expect_reject(s);
	free(s);
	s = xasprintf("%s.", t);
	expect_reject(s);
	free(s);
	s = xasprintf("%s.AAAA.AAAA", t);
	expect_reject(s);
	free(s);
	s = xasprintf(".%s", t);
	expect_reject(s);
	free(s);
	/* Only dots, empty parts. */
	expect_reject(".");
	expect_reject("..");
	expect_reject("...");
	expect_reject(HDR_B64 "..");
	s = xasprintf("%.*s..%s", (int)(d1 - t), t, d2 + 1);
	expect_reject(s);
	free(s);
	/* No dot at all. */
	s = xstrndup(t, (size_t)(d1 - t));
	expect_reject(s);
	free(s);
	free(t);
	free(p);
}

/* A payload whose base64url holds both '-' and '_' (so '+' and '/' can be swapped in). */
static char *
payload_with_url_chars(char **b64)
{
	int pad;

	for (pad = 0; pad < 3; pad++) {
		char *p = xasprintf("{%.*s\"exp\":%d,\"iat\":%d,\"iss\":\"vaultterm\",\"org\":\"" ORG
				    "\",\"sub\":\"" SUB "\",\"x\":\"?\?\?>>>?\?\?>>>\"}", pad, "   ",
		    NOW + 600, NOW);
		char *e = b64url(p, strlen(p));

		if (strchr(e, '-') != NULL && strchr(e, '_') != NULL) {
			*b64 = e;
			return p;
		}
		free(e);
		free(p);
	}
	fail_msg("no alignment of the payload produced '-' and '_'");
	return NULL;
}

static void
test_reject_non_base64url(void **state)
{
	char *p, *pb = NULL, *signing, *t, *c;
	size_t plen;

	p = payload_with_url_chars(&pb);
	/* Control: the URL-safe form with a valid MAC is accepted. */
	signing = xasprintf(HDR_B64 ".%s", pb);
	t = sign_raw(signing, SIG_HS256);
	expect_ok(t, NOW);
	free(t);
	/* '+' for '-' and '/' for '_' (standard alphabet), each with a valid MAC over the string. */
	c = strchr(signing, '-');
	*c = '+';
	t = sign_raw(signing, SIG_HS256);
	expect_reject(t);
	free(t);
	*c = '-';
	c = strchr(signing, '_');
	*c = '/';
	t = sign_raw(signing, SIG_HS256);
	expect_reject(t);
	free(t);
	*c = '_';
	free(signing);
	/* '=' padding on the payload part (its length is not a multiple of three). */
	plen = strlen(p);
	if (plen % 3 != 0) {
		signing = xasprintf(HDR_B64 ".%s%s", pb, plen % 3 == 1 ? "==" : "=");
	} else {
		free(pb);
		free(p);
		p = xasprintf("{\"exp\":%d,\"iat\":%d,\"iss\":\"vaultterm\",\"org\":\"" ORG
			      "\",\"sub\":\"" SUB "\",\"y\":1}", NOW + 600, NOW);
		assert_int_not_equal(strlen(p) % 3, 0);
		pb = b64url(p, strlen(p));
		signing = xasprintf(HDR_B64 ".%s%s", pb, strlen(p) % 3 == 1 ? "==" : "=");
	}
	t = sign_raw(signing, SIG_HS256);
	expect_reject(t);
	free(t);
	free(signing);
	/* Whitespace and other bytes inside a part, under a valid MAC. */
	{
		static const char *const ins[] = { " ", "\n", "\t", "%", "*", "\x80" };
		size_t i, mid = strlen(pb) / 2;

		for (i = 0; i < VT_NELEM(ins); i++) {
			signing = xasprintf(HDR_B64 ".%.*s%s%s", (int)mid, pb, ins[i], pb + mid);
			t = sign_raw(signing, SIG_HS256);
			expect_reject(t);
			free(t);
			free(signing);
		}
		signing = xasprintf(" " HDR_B64 ".%s", pb);
		t = sign_raw(signing, SIG_HS256);
		expect_reject(t);
		free(t);
		free(signing);
	}
	free(pb);
	free(p);
}

/* The signature part: exactly 32 bytes in canonical unpadded base64url. */
static void
test_reject_bad_signature_encoding(void **state)
{
	static const char ALPHA[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *p = payload_std(NOW, NOW + 600), *t = make_token(HDR, p, SIG_HS256), *s;
	char *dot = strrchr(t, '.'), *sig = dot + 1, last, *std;
	uint8_t mac[32];
	unsigned int maclen;
	size_t siglen = strlen(sig), v;

	assert_int_equal(siglen, 43);
	expect_ok(t, NOW);
	/*
	 * 43 characters carry 258 bits; the last character's two low bits are padding and must be
	 * zero. Setting them decodes to the same MAC, so only a strict decoder refuses this.
	 */
	last = sig[siglen - 1];
	v = (size_t)(strchr(ALPHA, last) - ALPHA);
	assert_int_equal(v & 3, 0);
	sig[siglen - 1] = ALPHA[v | 1];
	expect_reject(t);
	sig[siglen - 1] = ALPHA[v | 2];
	expect_reject(t);
	sig[siglen - 1] = last;
	expect_ok(t, NOW);
	/* Standard base64 with '=' padding. */
	*dot = '\0';
	assert_non_null(HMAC(EVP_sha256(), KEY, sizeof(KEY), (const unsigned char *)t, strlen(t),
	    mac, &maclen));
	std = malloc(64);
	assert_non_null(std);
	EVP_EncodeBlock((unsigned char *)std, mac, (int)maclen);
	assert_int_equal(std[43], '=');
	s = xasprintf("%s.%s", t, std);
	expect_reject(s);
	free(s);
	/* 31 and 33 bytes. */
	{
		uint8_t longer[33];
		char *b = b64url(mac, 31);

		s = xasprintf("%s.%s", t, b);
		expect_reject(s);
		free(s);
		free(b);
		/* The full MAC with one more byte appended. */
		memcpy(longer, mac, 32);
		longer[32] = 0;
		b = b64url(longer, sizeof(longer));
		s = xasprintf("%s.%s", t, b);
		expect_reject(s);
		free(s);
		free(b);
	}
	free(std);
	free(t);
	free(p);
}

/* A token padded with JSON whitespace to an exact total length, valid in every other way. */
static char *
token_of_length(size_t target)
{
	size_t hpad, ppad;

	for (hpad = 900; hpad < 903; hpad++) {
		for (ppad = 0; ppad < 1000; ppad++) {
			/* Sizes: {"alg":"HS256",<hpad>"typ":"JWT"} and the payload with <ppad>. */
			char *h, *p, *t;
			size_t hn = strlen(HDR) + hpad, pn, total;

			p = xasprintf("{%*s\"exp\":%d,\"iat\":%d,\"iss\":\"vaultterm\",\"org\":\"" ORG
				      "\",\"sub\":\"" SUB "\"}", (int)ppad, "", NOW + 600, NOW);
			pn = strlen(p);
			total = (4 * hn + 2) / 3 + 1 + (4 * pn + 2) / 3 + 1 + 43;
			if (total != target) {
				free(p);
				continue;
			}
			h = xasprintf("{\"alg\":\"HS256\",%*s\"typ\":\"JWT\"}", (int)hpad, "");
			t = make_token(h, p, SIG_HS256);
			free(h);
			free(p);
			assert_int_equal(strlen(t), target);
			return t;
		}
	}
	fail_msg("no padding reaches length %zu", target);
	return NULL;
}

static void
test_reject_too_long(void **state)
{
	char *t, *huge;

	t = token_of_length(JWT_MAX_LEN);
	expect_ok(t, NOW);
	free(t);
	t = token_of_length(JWT_MAX_LEN + 1);
	expect_reject(t);
	free(t);
	/* A megabyte of base64url is refused without being parsed. */
	huge = malloc((1u << 20) + 1);
	assert_non_null(huge);
	memset(huge, 'A', 1u << 20);
	huge[1000] = '.';
	huge[2000] = '.';
	huge[1u << 20] = '\0';
	expect_reject(huge);
	free(huge);
}

static void
test_reject_empty_and_null(void **state)
{
	expect_reject("");
	expect_reject(NULL);
	expect_reject("null");
	expect_reject(" ");
}

static int
group_setup(void **state)
{
	if (secmem_init() != 0)
		return -1;
	key = secmem_dup(KEY, sizeof(KEY));
	return key != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	secmem_free(key);
	key = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify_round_trip),
		cmocka_unit_test(test_handmade_token_accepted),
		cmocka_unit_test(test_reject_expired),
		cmocka_unit_test(test_reject_iat_in_future),
		cmocka_unit_test(test_reject_bad_signature),
		cmocka_unit_test(test_reject_wrong_key),
		cmocka_unit_test(test_reject_alg_none),
		cmocka_unit_test(test_reject_alg_hs512),
		cmocka_unit_test(test_reject_alg_rs256),
		cmocka_unit_test(test_reject_missing_alg),
		cmocka_unit_test(test_reject_extra_header_fields),
		cmocka_unit_test(test_reject_typ_not_jwt),
		cmocka_unit_test(test_reject_tampered_payload),
		cmocka_unit_test(test_reject_missing_claims),
		cmocka_unit_test(test_reject_sub_not_uuid),
		cmocka_unit_test(test_reject_wrong_iss),
		cmocka_unit_test(test_reject_claim_types),
		cmocka_unit_test(test_reject_not_json_object),
		cmocka_unit_test(test_reject_structure),
		cmocka_unit_test(test_reject_non_base64url),
		cmocka_unit_test(test_reject_bad_signature_encoding),
		cmocka_unit_test(test_reject_too_long),
		cmocka_unit_test(test_reject_empty_and_null),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
