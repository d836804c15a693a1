/*
 * Unit tests for crypto/aead: AES-256-GCM against the McGrew-Viega GCM specification test cases
 * 13-16 (256-bit key, 96-bit IV; also in NIST SP 800-38D's validation material), and the failure
 * contract of aead_open: any change to key, nonce, AAD, ciphertext or tag yields VT_ERR_CRYPTO and
 * the output buffer is wiped, so no unauthenticated plaintext is ever left for a caller to use.
 */
#include "crypto/aead.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/secmem.h"
#include "crypto/hash.h"

struct gcm_vector {
	const char *name;
	const char *key, *iv, *pt, *aad, *ct, *tag; /* hex */
};

#define K15 "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define P15 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
#define C15 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" \
	"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"

static const struct gcm_vector VECTORS[] = {
	{ "Test Case 13", "0000000000000000000000000000000000000000000000000000000000000000",
	    "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "Test Case 14", "0000000000000000000000000000000000000000000000000000000000000000",
	    "000000000000000000000000", "00000000000000000000000000000000", "",
	    "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "Test Case 15", K15, "cafebabefacedbaddecaf888", P15, "", C15,
	    "b094dac5d93471bdec1a502270e3cc6c" },
	/* 60-byte plaintext (a partial last block) and 20 bytes of AAD. */
	{ "Test Case 16", K15, "cafebabefacedbaddecaf888",
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	    "76fc6ece0f4e1768cddf8853bb2d551b" },
};

#define BUF_MAX 64

struct decoded {
	uint8_t key[AEAD_KEY_LEN], iv[AEAD_NONCE_LEN], tag[AEAD_TAG_LEN];
	uint8_t pt[BUF_MAX], aad[BUF_MAX], ct[BUF_MAX];
	size_t ptlen, aadlen, ctlen;
};

static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2;

	assert_true(n <= max);
	assert_int_equal(hex_decode(s, strlen(s), out, n), 0);
	return n;
}

static void
decode(const struct gcm_vector *v, struct decoded *d)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(unhex(v->key, d->key, sizeof(d->key)), AEAD_KEY_LEN);
	assert_int_equal(unhex(v->iv, d->iv, sizeof(d->iv)), AEAD_NONCE_LEN);
	assert_int_equal(unhex(v->tag, d->tag, sizeof(d->tag)), AEAD_TAG_LEN);
	d->ptlen = unhex(v->pt, d->pt, sizeof(d->pt));
	d->aadlen = unhex(v->aad, d->aad, sizeof(d->aad));
	d->ctlen = unhex(v->ct, d->ct, sizeof(d->ct));
	assert_int_equal(d->ptlen, d->ctlen);
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
test_gcm_spec_vectors_seal(void **state)
{
	uint8_t ct[BUF_MAX + 1], tag[AEAD_TAG_LEN];
	struct decoded d;
	size_t i;

	for (i = 0; i < VT_NELEM(VECTORS); i++) {
		decode(&VECTORS[i], &d);
		memset(ct, 0xee, sizeof(ct));
		memset(tag, 0xee, sizeof(tag));
		assert_int_equal(aead_seal(d.key, d.iv, d.aad, d.aadlen, d.pt, d.ptlen, ct, tag), 0);
		if (d.ctlen > 0)
			assert_memory_equal(ct, d.ct, d.ctlen);
		assert_memory_equal(tag, d.tag, AEAD_TAG_LEN);
		/* Nothing written past the ciphertext. */
		assert_int_equal(ct[d.ctlen], 0xee);
	}
}

static void
test_gcm_spec_vectors_open(void **state)
{
	uint8_t pt[BUF_MAX + 1];
	struct decoded d;
	size_t i;

	for (i = 0; i < VT_NELEM(VECTORS); i++) {
		decode(&VECTORS[i], &d);
		memset(pt, 0xee, sizeof(pt));
		assert_int_equal(aead_open(d.key, d.iv, d.aad, d.aadlen, d.ct, d.ctlen, d.tag, pt), 0);
		if (d.ptlen > 0)
			assert_memory_equal(pt, d.pt, d.ptlen);
		assert_int_equal(pt[d.ptlen], 0xee);
	}
}

/* Opens the vector with one thing changed; must fail and leave pt all zero. */
static void
expect_open_fails(const uint8_t *key, const uint8_t *iv, const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t ctlen, const uint8_t *tag)
{
	uint8_t pt[BUF_MAX];

	memset(pt, 0xa5, sizeof(pt));
	assert_int_equal(aead_open(key, iv, aad, aadlen, ct, ctlen, tag, pt), VT_ERR_CRYPTO);
	assert_true(all_zero(pt, ctlen));
}

/* Test Case 16 has everything: ciphertext, AAD, a partial block. Flip each bit of each input. */
static void
test_tamper_every_bit(void **state)
{
	struct decoded d;
	size_t i;
	int bit;

	decode(&VECTORS[3], &d);
	for (i = 0; i < d.ctlen; i++) {
		for (bit = 0; bit < 8; bit++) {
			d.ct[i] ^= (uint8_t)(1u << bit);
			expect_open_fails(d.key, d.iv, d.aad, d.aadlen, d.ct, d.ctlen, d.tag);
			d.ct[i] ^= (uint8_t)(1u << bit);
		}
	}
	for (i = 0; i < AEAD_TAG_LEN; i++) {
		for (bit = 0; bit < 8; bit++) {
			d.tag[i] ^= (uint8_t)(1u << bit);
			expect_open_fails(d.key, d.iv, d.aad, d.aadlen, d.ct, d.ctlen, d.tag);
			d.tag[i] ^= (uint8_t)(1u << bit);
		}
	}
	for (i = 0; i < d.aadlen; i++) {
		for (bit = 0; bit < 8; bit++) {
			d.aad[i] ^= (uint8_t)(1u << bit);
			expect_open_fails(d.key, d.iv, d.aad, d.aadlen, d.ct, d.ctlen, d.tag);
			d.aad[i] ^= (uint8_t)(1u << bit);
		}
	}
	for (i = 0; i < AEAD_NONCE_LEN; i++) {
		d.iv[i] ^= 0x01;
		expect_open_fails(d.key, d.iv, d.aad, d.aadlen, d.ct, d.ctlen, d.tag);
		d.iv[i] ^= 0x01;
	}
	for (i = 0; i < AEAD_KEY_LEN; i++) {
		d.key[i] ^= 0x80;
		expect_open_fails(d.key, d.iv, d.aad, d.aadlen, d.ct, d.ctlen, d.tag);
		d.key[i] ^= 0x80;
	}
	/* Unchanged it still opens: the loop restored every byte. */
	{
		uint8_t pt[BUF_MAX];

		assert_int_equal(aead_open(d.key, d.iv, d.aad, d.aadlen, d.ct, d.ctlen, d.tag, pt),
		    0);
		assert_memory_equal(pt, d.pt, d.ptlen);
	}
}

static void
test_tamper_lengths(void **state)
{
	static const uint8_t zero_tag[AEAD_TAG_LEN];
	struct decoded d;

	decode(&VECTORS[3], &d);
	/* AAD dropped, shortened, extended. */
	expect_open_fails(d.key, d.iv, NULL, 0, d.ct, d.ctlen, d.tag);
	expect_open_fails(d.key, d.iv, d.aad, d.aadlen - 1, d.ct, d.ctlen, d.tag);
	expect_open_fails(d.key, d.iv, d.aad, d.aadlen + 1, d.ct, d.ctlen, d.tag);
	/* Ciphertext shortened (the GCM length block is authenticated). */
	expect_open_fails(d.key, d.iv, d.aad, d.aadlen, d.ct, d.ctlen - 1, d.tag);
	expect_open_fails(d.key, d.iv, d.aad, d.aadlen, d.ct, 0, d.tag);
	/* An all-zero tag. */
	expect_open_fails(d.key, d.iv, d.aad, d.aadlen, d.ct, d.ctlen, zero_tag);
	/* Test Case 15's ciphertext (no AAD) presented as Test Case 16's: the AAD now differs. */
	decode(&VECTORS[2], &d);
	expect_open_fails(d.key, d.iv, (const uint8_t *)"\xfe\xed", 2, d.ct, d.ctlen, d.tag);
	/* An empty message with AAD added afterwards. */
	decode(&VECTORS[0], &d);
	expect_open_fails(d.key, d.iv, (const uint8_t *)"x", 1, d.ct, 0, d.tag);
}

/* Randomized round trips over lengths around the 16-byte block size, with and without AAD. */
static void
test_random_round_trip(void **state)
{
	uint8_t key[AEAD_KEY_LEN], nonce[AEAD_NONCE_LEN], tag[AEAD_TAG_LEN];
	uint8_t pt[100], ct[100], back[100], aad[40];
	size_t len, aadlen;

	for (len = 0; len <= sizeof(pt); len++) {
		aadlen = len % (sizeof(aad) + 1);
		random_bytes(key, sizeof(key));
		random_bytes(nonce, sizeof(nonce));
		random_bytes(pt, sizeof(pt));
		random_bytes(aad, sizeof(aad));
		assert_int_equal(aead_seal(key, nonce, aad, aadlen, pt, len, ct, tag), 0);
		if (len >= 16)
			assert_memory_not_equal(ct, pt, len);
		memset(back, 0, sizeof(back));
		assert_int_equal(aead_open(key, nonce, aad, aadlen, ct, len, tag, back), 0);
		assert_memory_equal(back, pt, len);
		if (len > 0) {
			ct[len - 1] ^= 0x40;
			memset(back, 0x77, sizeof(back));
			assert_int_equal(aead_open(key, nonce, aad, aadlen, ct, len, tag, back),
			    VT_ERR_CRYPTO);
			assert_true(all_zero(back, len));
			/* Only the len bytes written are wiped. */
			if (len < sizeof(back))
				assert_int_equal(back[len], 0x77);
		}
	}
}

/* Same key and plaintext, different nonce: different ciphertext and tag. */
static void
test_nonce_changes_output(void **state)
{
	uint8_t key[AEAD_KEY_LEN] = { 1 }, n1[AEAD_NONCE_LEN] = { 0 }, n2[AEAD_NONCE_LEN] = { 0 };
	uint8_t pt[32] = { 0 }, c1[32], c2[32], t1[AEAD_TAG_LEN], t2[AEAD_TAG_LEN];

	n2[11] = 1;
	assert_int_equal(aead_seal(key, n1, NULL, 0, pt, sizeof(pt), c1, t1), 0);
	assert_int_equal(aead_seal(key, n2, NULL, 0, pt, sizeof(pt), c2, t2), 0);
	assert_memory_not_equal(c1, c2, sizeof(c1));
	assert_memory_not_equal(t1, t2, sizeof(t1));
}

static int
group_setup(void **state)
{
	return secmem_init() == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_spec_vectors_seal),
		cmocka_unit_test(test_gcm_spec_vectors_open),
		cmocka_unit_test(test_tamper_every_bit),
		cmocka_unit_test(test_tamper_lengths),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_nonce_changes_output),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
