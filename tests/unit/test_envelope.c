/*
 * Unit tests for crypto/keyring and crypto/envelope. The keyring: construction refuses a master
 * key of the wrong length or version 0 (and still frees it), wrap/unwrap round-trips and refuses
 * any change, and keyring_derive equals an HKDF-SHA256 computed here with plain HMAC. The
 * envelope: the documented v1 layout, a round trip at 0 and ENVELOPE_PLAINTEXT_MAX bytes, AAD
 * binding to org, kind, record and version, and that every single-byte change, every truncation,
 * a trailing byte, cut-and-paste between envelopes and a wrong master key all fail to open.
 */
#include "crypto/envelope.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/err.h"
#include "crypto/hash.h"

#define MKV 7
#define ORG_STR "0b9e4c1a-5d2f-4e3b-8a7c-6f5e4d3c2b1a"
#define REC_STR "c4d5e6f7-0819-4a2b-9c3d-4e5f60718293"
#define KIND "secret_version"

/* Offsets in the v1 layout (the comment at the top of envelope.c). */
#define OFF_FORMAT 4
#define OFF_MKV 5
#define OFF_WRAPPED 9
#define OFF_NONCE (OFF_WRAPPED + KEYRING_WRAPPED_LEN)
#define OFF_CTLEN (OFF_NONCE + AEAD_NONCE_LEN)
#define OFF_CT (OFF_CTLEN + 4)

static uint8_t MASTER[KEYRING_DEK_LEN];
static struct keyring *kr;

static struct keyring *
keyring_from(const uint8_t *bytes, size_t len, uint32_t version)
{
	struct keyring *k = NULL;

	assert_int_equal(keyring_new_local(secmem_dup(bytes, len), version, &k), 0);
	assert_non_null(k);
	return k;
}

static struct envelope_ctx
ctx_default(void)
{
	struct envelope_ctx c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(uuid_parse(ORG_STR, &c.org), 0);
	assert_int_equal(uuid_parse(REC_STR, &c.record), 0);
	c.kind = KIND;
	c.version = 3;
	return c;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Seals pt under ctx with kr into a new buffer. */
static struct vbuf *
seal(const struct envelope_ctx *ctx, const void *pt, size_t len)
{
	struct vbuf *b = vbuf_new(ENVELOPE_OVERHEAD + len);

	assert_int_equal(envelope_seal(kr, ctx, pt, len, b), 0);
	assert_int_equal(vbuf_len(b), ENVELOPE_OVERHEAD + len);
	return b;
}

static void
expect_open_fails_with(const struct keyring *k, const struct envelope_ctx *ctx,
    const uint8_t *blob, size_t len)
{
	struct secmem *pt = (struct secmem *)1;

	assert_int_equal(envelope_open(k, ctx, blob, len, &pt), VT_ERR_CRYPTO);
	assert_null(pt);
}

static void
expect_open_fails(const struct envelope_ctx *ctx, const uint8_t *blob, size_t len)
{
	expect_open_fails_with(kr, ctx, blob, len);
}

static void
expect_opens_to(const struct envelope_ctx *ctx, const uint8_t *blob, size_t len,
    const void *want, size_t wantlen)
{
	struct secmem *pt = NULL;

	assert_int_equal(envelope_open(kr, ctx, blob, len, &pt), 0);
	assert_non_null(pt);
	assert_int_equal(secmem_len(pt), wantlen);
	if (wantlen > 0)
		assert_memory_equal(secmem_ptr(pt), want, wantlen);
	secmem_free(pt);
}

/* ---- keyring ---------------------------------------------------------------------------- */

static void
test_keyring_new_rejects(void **state)
{
	static const size_t bad_len[] = { 0, 1, 16, 31, 33, 64 };
	struct keyring *k;
	uint8_t bytes[64] = { 0 };
	size_t i;

	/* Each rejected master is still taken and freed: LeakSanitizer checks that. */
	for (i = 0; i < VT_NELEM(bad_len); i++) {
		k = (struct keyring *)1;
		assert_int_equal(keyring_new_local(secmem_dup(bytes, bad_len[i]), 1, &k),
		    VT_ERR_CONFIG);
		assert_null(k);
	}
	k = (struct keyring *)1;
	assert_int_equal(keyring_new_local(secmem_dup(bytes, KEYRING_DEK_LEN), 0, &k),
	    VT_ERR_CONFIG);
	assert_null(k);
	k = (struct keyring *)1;
	assert_int_equal(keyring_new_local(NULL, 1, &k), VT_ERR_CONFIG);
	assert_null(k);
	/* Control: 32 bytes and version 1 are fine. */
	assert_int_equal(keyring_new_local(secmem_dup(bytes, KEYRING_DEK_LEN), 1, &k), 0);
	assert_int_equal(keyring_current_version(k), 1);
	keyring_free(k);
	keyring_free(NULL);
}

static void
test_keyring_version(void **state)
{
	struct keyring *k = keyring_from(MASTER, sizeof(MASTER), UINT32_MAX);

	assert_int_equal(keyring_current_version(kr), MKV);
	assert_int_equal(keyring_current_version(k), UINT32_MAX);
	keyring_free(k);
}

static void
test_keyring_wrap_unwrap(void **state)
{
	uint8_t dek[KEYRING_DEK_LEN], w[KEYRING_WRAPPED_LEN], w2[KEYRING_WRAPPED_LEN];
	static const uint8_t aad[] = "row binding";
	struct secmem *out;
	size_t i;

	random_bytes(dek, sizeof(dek));
	assert_int_equal(keyring_wrap(kr, MKV, aad, sizeof(aad), dek, w), 0);
	/* An unknown version cannot wrap. */
	assert_int_equal(keyring_wrap(kr, MKV + 1, aad, sizeof(aad), dek, w2), VT_ERR_INTERNAL);
	/* The DEK does not appear in the clear. */
	assert_memory_not_equal(w + AEAD_NONCE_LEN, dek, sizeof(dek));
	assert_int_equal(keyring_unwrap(kr, MKV, aad, sizeof(aad), w, &out), 0);
	assert_int_equal(secmem_len(out), KEYRING_DEK_LEN);
	assert_memory_equal(secmem_ptr(out), dek, sizeof(dek));
	secmem_free(out);
	/* Fresh nonce each time. */
	assert_int_equal(keyring_wrap(kr, MKV, aad, sizeof(aad), dek, w2), 0);
	assert_memory_not_equal(w, w2, sizeof(w));

	for (i = 0; i < sizeof(w); i++) {
		w[i] ^= 0x01;
		out = (struct secmem *)1;
		assert_int_equal(keyring_unwrap(kr, MKV, aad, sizeof(aad), w, &out), VT_ERR_CRYPTO);
		assert_null(out);
		w[i] ^= 0x01;
	}
	out = (struct secmem *)1;
	assert_int_equal(keyring_unwrap(kr, MKV + 1, aad, sizeof(aad), w, &out), VT_ERR_CRYPTO);
	assert_null(out);
	assert_int_equal(keyring_unwrap(kr, 0, aad, sizeof(aad), w, &out), VT_ERR_CRYPTO);
	assert_int_equal(keyring_unwrap(kr, MKV, aad, sizeof(aad) - 1, w, &out), VT_ERR_CRYPTO);
	assert_int_equal(keyring_unwrap(kr, MKV, NULL, 0, w, &out), VT_ERR_CRYPTO);
	assert_null(out);
	/* Without AAD on both sides it works too. */
	assert_int_equal(keyring_wrap(kr, MKV, NULL, 0, dek, w), 0);
	assert_int_equal(keyring_unwrap(kr, MKV, NULL, 0, w, &out), 0);
	assert_memory_equal(secmem_ptr(out), dek, sizeof(dek));
	secmem_free(out);
}

/* RFC 5869 HKDF-SHA256 with the default salt (HashLen zeros), one output block. */
static void
hkdf_sha256_32(const uint8_t *ikm, size_t ikmlen, const char *info, uint8_t out[32])
{
	static const uint8_t salt[32];
	uint8_t prk[32], msg[256];
	unsigned int n = 0;
	size_t ilen = strlen(info);

	assert_true(ilen + 1 <= sizeof(msg));
	assert_non_null(HMAC(EVP_sha256(), salt, sizeof(salt), ikm, ikmlen, prk, &n));
	assert_int_equal(n, 32);
	memcpy(msg, info, ilen);
	msg[ilen] = 0x01;
	assert_non_null(HMAC(EVP_sha256(), prk, sizeof(prk), msg, ilen + 1, out, &n));
	assert_int_equal(n, 32);
}

static void
test_keyring_derive(void **state)
{
	struct secmem *a = NULL, *a2 = NULL, *b = NULL, *c = NULL, *d = NULL;
	struct keyring *same = keyring_from(MASTER, sizeof(MASTER), MKV), *other;
	uint8_t want[32], other_master[KEYRING_DEK_LEN];

	assert_int_equal(keyring_derive(kr, "license-counter", &a), 0);
	assert_int_equal(secmem_len(a), 32);
	hkdf_sha256_32(MASTER, sizeof(MASTER), "vaultterm/license-counter", want);
	assert_memory_equal(secmem_ptr(a), want, 32);
	/* Deterministic: again, and from another keyring holding the same master key. */
	assert_int_equal(keyring_derive(kr, "license-counter", &a2), 0);
	assert_true(secmem_eq(a, a2));
	secmem_free(a2);
	assert_int_equal(keyring_derive(same, "license-counter", &a2), 0);
	assert_true(secmem_eq(a, a2));
	/* Different purposes, including a prefix, differ. */
	assert_int_equal(keyring_derive(kr, "webhook", &b), 0);
	assert_false(secmem_eq(a, b));
	hkdf_sha256_32(MASTER, sizeof(MASTER), "vaultterm/webhook", want);
	assert_memory_equal(secmem_ptr(b), want, 32);
	assert_int_equal(keyring_derive(kr, "license-counte", &c), 0);
	assert_false(secmem_eq(a, c));
	/* A different master key gives a different key for the same purpose. */
	memcpy(other_master, MASTER, sizeof(other_master));
	other_master[0] ^= 1;
	other = keyring_from(other_master, sizeof(other_master), MKV);
	assert_int_equal(keyring_derive(other, "license-counter", &d), 0);
	assert_false(secmem_eq(a, d));
	secmem_free(a);
	secmem_free(a2);
	secmem_free(b);
	secmem_free(c);
	secmem_free(d);
	keyring_free(same);
	keyring_free(other);
}

static void
test_keyring_derive_purpose_length(void **state)
{
	char purpose[200];
	struct secmem *out;

	/* info = "vaultterm/" (10) + purpose must stay below 128 bytes. */
	memset(purpose, 'p', sizeof(purpose));
	purpose[117] = '\0';
	assert_int_equal(keyring_derive(kr, purpose, &out), 0);
	secmem_free(out);
	purpose[117] = 'p';
	purpose[118] = '\0';
	out = (struct secmem *)1;
	assert_int_equal(keyring_derive(kr, purpose, &out), VT_ERR_INTERNAL);
	assert_null(out);
	assert_int_equal(keyring_derive(kr, "", &out), 0);
	secmem_free(out);
}

/* ---- envelope --------------------------------------------------------------------------- */

static void
test_envelope_round_trip_layout(void **state)
{
	static const char msg[] = "the quick brown fox jumps over the lazy dog";
	struct envelope_ctx ctx = ctx_default();
	struct vbuf *b = seal(&ctx, msg, sizeof(msg));
	const uint8_t *p = vbuf_ptr(b);
	uint32_t v = 0;

	assert_memory_equal(p, "VTEN", 4);
	assert_int_equal(p[OFF_FORMAT], ENVELOPE_FORMAT_V1);
	assert_int_equal(be32(p + OFF_MKV), MKV);
	assert_int_equal(be32(p + OFF_CTLEN), sizeof(msg));
	assert_int_equal(ENVELOPE_OVERHEAD, OFF_CT + AEAD_TAG_LEN);
	/* The plaintext does not appear in the ciphertext. */
	assert_memory_not_equal(p + OFF_CT, msg, sizeof(msg));
	expect_opens_to(&ctx, p, vbuf_len(b), msg, sizeof(msg));
	assert_int_equal(envelope_key_version(p, vbuf_len(b), &v), 0);
	assert_int_equal(v, MKV);
	vbuf_free(b);
}

static void
test_envelope_aad_binding(void **state)
{
	static const char msg[] = "s3cr3t";
	struct envelope_ctx ctx = ctx_default(), o;
	struct vbuf *b = seal(&ctx, msg, sizeof(msg));
	const uint8_t *p = vbuf_ptr(b);
	size_t n = vbuf_len(b), i;

	expect_opens_to(&ctx, p, n, msg, sizeof(msg));
	/* Another org: each byte of the id matters, and the nil (global) org. */
	for (i = 0; i < 16; i++) {
		o = ctx;
		o.org.b[i] ^= 0x01;
		expect_open_fails(&o, p, n);
	}
	o = ctx;
	memset(o.org.b, 0, sizeof(o.org.b));
	expect_open_fails(&o, p, n);
	/* Another kind, a prefix of it, an extension of it, a case change. */
	o = ctx;
	o.kind = "user_totp";
	expect_open_fails(&o, p, n);
	o.kind = "secret_versio";
	expect_open_fails(&o, p, n);
	o.kind = "secret_version2";
	expect_open_fails(&o, p, n);
	o.kind = "Secret_version";
	expect_open_fails(&o, p, n);
	/* Another record. */
	for (i = 0; i < 16; i++) {
		o = ctx;
		o.record.b[i] ^= 0x80;
		expect_open_fails(&o, p, n);
	}
	/* Another version of the same record. */
	o = ctx;
	o.version = 4;
	expect_open_fails(&o, p, n);
	o.version = 2;
	expect_open_fails(&o, p, n);
	o.version = 3 | (1u << 31);
	expect_open_fails(&o, p, n);
	/* Org and record swapped. */
	o = ctx;
	o.org = ctx.record;
	o.record = ctx.org;
	expect_open_fails(&o, p, n);
	vbuf_free(b);
}

static void
test_envelope_flip_every_byte(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	static const char msg[] = "0123456789abcdef0123456789abcdef01234";
	struct envelope_ctx ctx = ctx_default();
	struct vbuf *b = seal(&ctx, msg, sizeof(msg));
	uint8_t *copy = malloc(vbuf_len(b));
	size_t n = vbuf_len(b), i, m;

	assert_non_null(copy);
	memcpy(copy, vbuf_ptr(b), n);
	for (i = 0; i < n; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			copy[i] ^= masks[m];
			expect_open_fails(&ctx, copy, n);
			copy[i] ^= masks[m];
		}
	}
	expect_opens_to(&ctx, copy, n, msg, sizeof(msg));
	free(copy);
	vbuf_free(b);
}

static void
test_envelope_truncation_and_trailing(void **state)
{
	static const char msg[] = "truncate me";
	struct envelope_ctx ctx = ctx_default();
	struct vbuf *b = seal(&ctx, msg, sizeof(msg));
	size_t n = vbuf_len(b), len;
	uint8_t *copy = malloc(n + 16);
	uint32_t v;

	assert_non_null(copy);
	memcpy(copy, vbuf_ptr(b), n);
	for (len = 0; len < n; len++) {
		/* A fresh heap copy of exactly len bytes so ASan catches any over-read. */
		uint8_t *t = malloc(len > 0 ? len : 1);

		assert_non_null(t);
		memcpy(t, copy, len);
		expect_open_fails(&ctx, t, len);
		v = 99;
		assert_int_equal(envelope_key_version(t, len, &v), VT_ERR_INVALID);
		assert_int_equal(v, 0);
		free(t);
	}
	/* One, and sixteen, trailing bytes. */
	copy[n] = 0;
	expect_open_fails(&ctx, copy, n + 1);
	assert_int_equal(envelope_key_version(copy, n + 1, &v), VT_ERR_INVALID);
	memset(copy + n, 0xaa, 16);
	expect_open_fails(&ctx, copy, n + 16);
	/* Control. */
	expect_opens_to(&ctx, copy, n, msg, sizeof(msg));
	free(copy);
	vbuf_free(b);
}

/* A shorter ciphertext with a consistent length field still fails (GCM covers the length). */
static void
test_envelope_consistent_truncation(void **state)
{
	static const char msg[] = "0123456789abcdef0123";
	struct envelope_ctx ctx = ctx_default();
	struct vbuf *b = seal(&ctx, msg, sizeof(msg));
	size_t n = vbuf_len(b), ctlen = sizeof(msg);
	uint8_t *t = malloc(n);

	assert_non_null(t);
	/* Drop the last ciphertext byte, keep the tag, fix up ct_len. */
	memcpy(t, vbuf_ptr(b), OFF_CT + ctlen - 1);
	memcpy(t + OFF_CT + ctlen - 1, vbuf_ptr(b) + OFF_CT + ctlen, AEAD_TAG_LEN);
	t[OFF_CTLEN + 3] = (uint8_t)(ctlen - 1);
	expect_open_fails(&ctx, t, n - 1);
	/* ct_len larger than the plaintext limit. */
	memcpy(t, vbuf_ptr(b), n);
	t[OFF_CTLEN] = 0x7f;
	expect_open_fails(&ctx, t, n);
	free(t);
	vbuf_free(b);
}

/* Parts of two envelopes for the same place do not combine. */
static void
test_envelope_cut_and_paste(void **state)
{
	static const char m1[] = "first secret....";
	static const char m2[] = "second secret...";
	struct envelope_ctx ctx = ctx_default();
	struct vbuf *b1 = seal(&ctx, m1, sizeof(m1)), *b2 = seal(&ctx, m2, sizeof(m2));
	size_t n = vbuf_len(b1);
	uint8_t *x = malloc(n);

	assert_int_equal(n, vbuf_len(b2));
	assert_non_null(x);
	/* Wrapped DEK of the second with the data of the first. */
	memcpy(x, vbuf_ptr(b1), n);
	memcpy(x + OFF_WRAPPED, vbuf_ptr(b2) + OFF_WRAPPED, KEYRING_WRAPPED_LEN);
	expect_open_fails(&ctx, x, n);
	/* Data nonce of the second. */
	memcpy(x, vbuf_ptr(b1), n);
	memcpy(x + OFF_NONCE, vbuf_ptr(b2) + OFF_NONCE, AEAD_NONCE_LEN);
	expect_open_fails(&ctx, x, n);
	/* Tag of the second. */
	memcpy(x, vbuf_ptr(b1), n);
	memcpy(x + n - AEAD_TAG_LEN, vbuf_ptr(b2) + n - AEAD_TAG_LEN, AEAD_TAG_LEN);
	expect_open_fails(&ctx, x, n);
	/* Both still open on their own. */
	expect_opens_to(&ctx, vbuf_ptr(b1), n, m1, sizeof(m1));
	expect_opens_to(&ctx, vbuf_ptr(b2), n, m2, sizeof(m2));
	free(x);
	vbuf_free(b1);
	vbuf_free(b2);
}

static void
test_envelope_wrong_master_key(void **state)
{
	static const char msg[] = "master bound";
	struct envelope_ctx ctx = ctx_default();
	struct vbuf *b = seal(&ctx, msg, sizeof(msg));
	uint8_t other[KEYRING_DEK_LEN];
	struct keyring *k;

	/* Other key bytes under the same version number. */
	memcpy(other, MASTER, sizeof(other));
	other[31] ^= 0x01;
	k = keyring_from(other, sizeof(other), MKV);
	expect_open_fails_with(k, &ctx, vbuf_ptr(b), vbuf_len(b));
	keyring_free(k);
	/* The right key bytes but registered as another version: no key for version 7. */
	k = keyring_from(MASTER, sizeof(MASTER), MKV + 1);
	expect_open_fails_with(k, &ctx, vbuf_ptr(b), vbuf_len(b));
	keyring_free(k);
	/* The same master and version in a second keyring opens it. */
	k = keyring_from(MASTER, sizeof(MASTER), MKV);
	{
		struct secmem *pt = NULL;

		assert_int_equal(envelope_open(k, &ctx, vbuf_ptr(b), vbuf_len(b), &pt), 0);
		assert_memory_equal(secmem_ptr(pt), msg, sizeof(msg));
		secmem_free(pt);
	}
	keyring_free(k);
	vbuf_free(b);
}

static void
test_envelope_key_version(void **state)
{
	struct envelope_ctx ctx = ctx_default();
	struct keyring *k = keyring_from(MASTER, sizeof(MASTER), 0x01020304);
	struct vbuf *b = vbuf_new(ENVELOPE_OVERHEAD + 1);
	uint8_t *x;
	uint32_t v;
	size_t n;

	assert_int_equal(envelope_seal(k, &ctx, (const uint8_t *)"x", 1, b), 0);
	n = vbuf_len(b);
	assert_int_equal(envelope_key_version(vbuf_ptr(b), n, &v), 0);
	assert_int_equal(v, 0x01020304);
	assert_memory_equal(vbuf_ptr(b) + OFF_MKV, "\x01\x02\x03\x04", 4);
	x = malloc(n);
	assert_non_null(x);
	/* Bad magic and an unknown format are malformed. */
	memcpy(x, vbuf_ptr(b), n);
	x[0] = 'W';
	v = 5;
	assert_int_equal(envelope_key_version(x, n, &v), VT_ERR_INVALID);
	assert_int_equal(v, 0);
	memcpy(x, vbuf_ptr(b), n);
	x[OFF_FORMAT] = 2;
	assert_int_equal(envelope_key_version(x, n, &v), VT_ERR_INVALID);
	x[OFF_FORMAT] = 0;
	assert_int_equal(envelope_key_version(x, n, &v), VT_ERR_INVALID);
	assert_int_equal(envelope_key_version(x, 0, &v), VT_ERR_INVALID);
	free(x);
	vbuf_free(b);
	keyring_free(k);
}

static void
test_envelope_sizes(void **state)
{
	struct envelope_ctx ctx = ctx_default();
	struct vbuf *b;
	uint8_t *big;
	size_t i;

	/* Empty plaintext, with and without a pointer. */
	b = vbuf_new(ENVELOPE_OVERHEAD);
	assert_int_equal(envelope_seal(kr, &ctx, NULL, 0, b), 0);
	assert_int_equal(vbuf_len(b), ENVELOPE_OVERHEAD);
	assert_int_equal(be32(vbuf_ptr(b) + OFF_CTLEN), 0);
	expect_opens_to(&ctx, vbuf_ptr(b), vbuf_len(b), NULL, 0);
	vbuf_free(b);
	b = vbuf_new(ENVELOPE_OVERHEAD);
	assert_int_equal(envelope_seal(kr, &ctx, (const uint8_t *)"", 0, b), 0);
	expect_opens_to(&ctx, vbuf_ptr(b), vbuf_len(b), NULL, 0);
	vbuf_free(b);

	/* Exactly ENVELOPE_PLAINTEXT_MAX bytes. */
	big = malloc(ENVELOPE_PLAINTEXT_MAX + 1);
	assert_non_null(big);
	for (i = 0; i < ENVELOPE_PLAINTEXT_MAX + 1; i++)
		big[i] = (uint8_t)(i * 131 + (i >> 12));
	b = vbuf_new(ENVELOPE_OVERHEAD + ENVELOPE_PLAINTEXT_MAX);
	assert_int_equal(envelope_seal(kr, &ctx, big, ENVELOPE_PLAINTEXT_MAX, b), 0);
	assert_int_equal(vbuf_len(b), ENVELOPE_OVERHEAD + ENVELOPE_PLAINTEXT_MAX);
	expect_opens_to(&ctx, vbuf_ptr(b), vbuf_len(b), big, ENVELOPE_PLAINTEXT_MAX);
	vbuf_free(b);

	/* One byte more is refused before anything is written, even with room in the buffer. */
	b = vbuf_new(2 * (ENVELOPE_OVERHEAD + ENVELOPE_PLAINTEXT_MAX));
	assert_int_equal(envelope_seal(kr, &ctx, big, ENVELOPE_PLAINTEXT_MAX + 1, b),
	    VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	vbuf_free(b);
	free(big);

	/* An output buffer too small for the envelope. */
	b = vbuf_new(ENVELOPE_OVERHEAD + 9);
	assert_int_equal(envelope_seal(kr, &ctx, (const uint8_t *)"0123456789", 10, b),
	    VT_ERR_TOO_LARGE);
	vbuf_free(b);
}

/* Envelopes append to what the buffer already holds. */
static void
test_envelope_appends(void **state)
{
	struct envelope_ctx ctx = ctx_default();
	struct vbuf *b = vbuf_new(3 + ENVELOPE_OVERHEAD + 2);

	assert_int_equal(vbuf_put(b, "abc", 3), 0);
	assert_int_equal(envelope_seal(kr, &ctx, (const uint8_t *)"hi", 2, b), 0);
	assert_int_equal(vbuf_len(b), 3 + ENVELOPE_OVERHEAD + 2);
	assert_memory_equal(vbuf_ptr(b), "abc", 3);
	expect_opens_to(&ctx, vbuf_ptr(b) + 3, vbuf_len(b) - 3, "hi", 2);
	vbuf_free(b);
}

static void
test_envelope_seals_differ(void **state)
{
	static const char msg[] = "same plaintext, same place";
	struct envelope_ctx ctx = ctx_default();
	struct vbuf *b1 = seal(&ctx, msg, sizeof(msg)), *b2 = seal(&ctx, msg, sizeof(msg));
	const uint8_t *p1 = vbuf_ptr(b1), *p2 = vbuf_ptr(b2);

	/* Same header, fresh wrapped DEK, nonce, ciphertext and tag. */
	assert_memory_equal(p1, p2, OFF_WRAPPED);
	assert_memory_not_equal(p1 + OFF_WRAPPED, p2 + OFF_WRAPPED, KEYRING_WRAPPED_LEN);
	assert_memory_not_equal(p1 + OFF_NONCE, p2 + OFF_NONCE, AEAD_NONCE_LEN);
	assert_memory_not_equal(p1 + OFF_CT, p2 + OFF_CT, sizeof(msg));
	assert_memory_not_equal(p1 + OFF_CT + sizeof(msg), p2 + OFF_CT + sizeof(msg),
	    AEAD_TAG_LEN);
	expect_opens_to(&ctx, p1, vbuf_len(b1), msg, sizeof(msg));
	expect_opens_to(&ctx, p2, vbuf_len(b2), msg, sizeof(msg));
	vbuf_free(b1);
	vbuf_free(b2);
}

static void
test_envelope_kind_limits(void **state)
{
	char kind[ENVELOPE_KIND_MAX + 2];
	struct envelope_ctx ctx = ctx_default();
	struct vbuf *b;
	struct secmem *pt;

	memset(kind, 'k', sizeof(kind));
	kind[ENVELOPE_KIND_MAX] = '\0';
	ctx.kind = kind;
	b = seal(&ctx, "v", 1);
	expect_opens_to(&ctx, vbuf_ptr(b), vbuf_len(b), "v", 1);
	/* A kind one byte longer is a programming error: refused on both sides. */
	kind[ENVELOPE_KIND_MAX] = 'k';
	kind[ENVELOPE_KIND_MAX + 1] = '\0';
	pt = (struct secmem *)1;
	assert_int_equal(envelope_open(kr, &ctx, vbuf_ptr(b), vbuf_len(b), &pt), VT_ERR_INTERNAL);
	assert_null(pt);
	vbuf_free(b);
	b = vbuf_new(ENVELOPE_OVERHEAD + 1);
	assert_int_equal(envelope_seal(kr, &ctx, (const uint8_t *)"v", 1, b), VT_ERR_INTERNAL);
	assert_int_equal(vbuf_len(b), 0);
	ctx.kind = "";
	assert_int_equal(envelope_seal(kr, &ctx, (const uint8_t *)"v", 1, b), VT_ERR_INTERNAL);
	ctx.kind = NULL;
	assert_int_equal(envelope_seal(kr, &ctx, (const uint8_t *)"v", 1, b), VT_ERR_INTERNAL);
	assert_int_equal(vbuf_len(b), 0);
	vbuf_free(b);
}

/*
 * Every plaintext length up to a few KiB, sealed into a roomy buffer (which grows while sealing)
 * and into an exact-size one. Lengths where the tag no longer fits the buffer's current capacity
 * once the ciphertext is reserved catch a reservation that moves the ciphertext under the cipher.
 */
static void
test_envelope_all_small_lengths(void **state)
{
	struct envelope_ctx ctx = ctx_default();
	uint8_t pt[2100];
	size_t len;

	random_bytes(pt, sizeof(pt));
	for (len = 0; len <= sizeof(pt); len++) {
		struct vbuf *b = vbuf_new((size_t)1 << 20);

		assert_int_equal(envelope_seal(kr, &ctx, pt, len, b), 0);
		assert_int_equal(vbuf_len(b), ENVELOPE_OVERHEAD + len);
		expect_opens_to(&ctx, vbuf_ptr(b), vbuf_len(b), pt, len);
		vbuf_free(b);
		b = seal(&ctx, pt, len);
		expect_opens_to(&ctx, vbuf_ptr(b), vbuf_len(b), pt, len);
		vbuf_free(b);
	}
}

/* Randomized: random places and lengths round-trip and do not open at a neighbour's place. */
static void
test_envelope_random(void **state)
{
	uint8_t pt[300];
	int i;

	for (i = 0; i < 100; i++) {
		struct envelope_ctx ctx, o;
		struct vbuf *b;
		uint32_t len;

		random_bytes(&len, sizeof(len));
		len %= sizeof(pt) + 1;
		random_bytes(pt, sizeof(pt));
		uuid_random(&ctx.org);
		uuid_random(&ctx.record);
		random_bytes(&ctx.version, sizeof(ctx.version));
		ctx.kind = i % 2 ? "user_totp" : KIND;
		b = seal(&ctx, pt, len);
		expect_opens_to(&ctx, vbuf_ptr(b), vbuf_len(b), pt, len);
		o = ctx;
		o.version++;
		expect_open_fails(&o, vbuf_ptr(b), vbuf_len(b));
		vbuf_free(b);
	}
}

static int
group_setup(void **state)
{
	struct keyring *k = NULL;
	size_t i;

	if (secmem_init() != 0)
		return -1;
	for (i = 0; i < sizeof(MASTER); i++)
		MASTER[i] = (uint8_t)(0x40 + i);
	if (keyring_new_local(secmem_dup(MASTER, sizeof(MASTER)), MKV, &k) != 0)
		return -1;
	kr = k;
	return 0;
}

static int
group_teardown(void **state)
{
	keyring_free(kr);
	kr = NULL;
	return 0;
}

/* Rotation: a new master key version, stored wrapped under the root, re-wraps DEKs in place. */
static void
test_rotation_rewrap(void **state)
{
	static const char pt[] = "rotate me, but never re-encrypt me";
	struct envelope_ctx ctx = ctx_default(), other = ctx_default();
	struct keyring *k = keyring_from(MASTER, sizeof(MASTER), 1);
	struct keyring *k2 = keyring_from(MASTER, sizeof(MASTER), 1);
	struct keyring *stranger;
	uint8_t wrapped[KEYRING_WRAPPED_LEN], bad[KEYRING_WRAPPED_LEN], ct_before[sizeof(pt)];
	uint8_t rnd[KEYRING_DEK_LEN];
	struct vbuf *b = vbuf_new(ENVELOPE_OVERHEAD + sizeof(pt));
	struct secmem *out = NULL;
	uint32_t v = 0;
	uint8_t *blob;

	(void)state;
	assert_int_equal(envelope_seal(k, &ctx, (const uint8_t *)pt, sizeof(pt), b), 0);
	blob = (uint8_t *)(uintptr_t)vbuf_ptr(b);
	assert_int_equal(be32(blob + OFF_MKV), 1);
	memcpy(ct_before, blob + OFF_CT, sizeof(pt));

	/* A version must be newer than every loaded one. */
	assert_int_equal(keyring_generate_version(k, 1, wrapped), VT_ERR_CONFLICT);
	assert_int_equal(keyring_generate_version(k, 2, wrapped), 0);
	assert_int_equal(keyring_current_version(k), 2);
	assert_true(keyring_has_version(k, 2));

	/* Re-wrap in place: version 2, same length, data ciphertext untouched, still opens. */
	assert_int_equal(envelope_rewrap(k, &ctx, blob, vbuf_len(b), &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(be32(blob + OFF_MKV), 2);
	assert_memory_equal(blob + OFF_CT, ct_before, sizeof(pt));
	assert_int_equal(envelope_open(k, &ctx, blob, vbuf_len(b), &out), 0);
	assert_memory_equal(secmem_ptr(out), pt, sizeof(pt));
	secmem_free(out);
	/* Already current: a no-op. */
	assert_int_equal(envelope_rewrap(k, &ctx, blob, vbuf_len(b), &v), 0);
	assert_int_equal(v, 2);

	/* Another server with the same root loads the stored version and opens the record. */
	assert_int_equal(envelope_open(k2, &ctx, blob, vbuf_len(b), &out), VT_ERR_CRYPTO);
	assert_int_equal(keyring_load_version(k2, 2, wrapped), 0);
	assert_int_equal(keyring_load_version(k2, 2, wrapped), 0); /* idempotent */
	assert_int_equal(envelope_open(k2, &ctx, blob, vbuf_len(b), &out), 0);
	secmem_free(out);

	/* The stored version is bound to its number and to the root. */
	assert_int_equal(keyring_load_version(k2, 3, wrapped), VT_ERR_CRYPTO);
	memcpy(bad, wrapped, sizeof(bad));
	bad[AEAD_NONCE_LEN] ^= 1;
	assert_int_equal(keyring_load_version(k2, 4, bad), VT_ERR_CRYPTO);
	random_bytes(rnd, sizeof(rnd));
	stranger = keyring_from(rnd, sizeof(rnd), 1);
	assert_int_equal(keyring_load_version(stranger, 2, wrapped), VT_ERR_CRYPTO);
	keyring_free(stranger);

	/* Re-wrapping (to a newer version) checks the record binding: another version fails. */
	assert_int_equal(keyring_generate_version(k, 3, wrapped), 0);
	other.version = ctx.version + 1;
	assert_int_equal(envelope_rewrap(k, &other, blob, vbuf_len(b), &v), VT_ERR_CRYPTO);
	assert_int_equal(be32(blob + OFF_MKV), 2); /* untouched on failure */
	/* A tampered wrapped DEK does not re-wrap either. */
	blob[OFF_WRAPPED + AEAD_NONCE_LEN] ^= 1;
	assert_int_equal(envelope_rewrap(k, &ctx, blob, vbuf_len(b), &v), VT_ERR_CRYPTO);

	/* Derived keys come from the root, so rotation does not change them. */
	{
		struct secmem *d1 = NULL, *d2 = NULL;

		assert_int_equal(keyring_derive(k, "license-counter", &d1), 0);
		assert_int_equal(keyring_derive(k2, "license-counter", &d2), 0);
		assert_memory_equal(secmem_ptr(d1), secmem_ptr(d2), 32);
		secmem_free(d1);
		secmem_free(d2);
	}
	vbuf_free(b);
	keyring_free(k);
	keyring_free(k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyring_new_rejects),
		cmocka_unit_test(test_keyring_version),
		cmocka_unit_test(test_keyring_wrap_unwrap),
		cmocka_unit_test(test_keyring_derive),
		cmocka_unit_test(test_keyring_derive_purpose_length),
		cmocka_unit_test(test_envelope_round_trip_layout),
		cmocka_unit_test(test_envelope_aad_binding),
		cmocka_unit_test(test_envelope_flip_every_byte),
		cmocka_unit_test(test_envelope_truncation_and_trailing),
		cmocka_unit_test(test_envelope_consistent_truncation),
		cmocka_unit_test(test_envelope_cut_and_paste),
		cmocka_unit_test(test_envelope_wrong_master_key),
		cmocka_unit_test(test_envelope_key_version),
		cmocka_unit_test(test_envelope_sizes),
		cmocka_unit_test(test_envelope_appends),
		cmocka_unit_test(test_envelope_seals_differ),
		cmocka_unit_test(test_envelope_kind_limits),
		cmocka_unit_test(test_envelope_all_small_lengths),
		cmocka_unit_test(test_envelope_random),
		cmocka_unit_test(test_rotation_rewrap),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
