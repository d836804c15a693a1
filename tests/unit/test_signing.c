/*
 * Unit tests for audit/signing: the per-org audit keys derived from the deployment's root. The
 * derivation is pinned by a vector computed independently with OpenSSL (HMAC-SHA256 with
 * `openssl mac`, then the Ed25519 public key of that seed with `openssl pkey`): seed = 32 × 0x01,
 * org 0b7e3c1a-5d2f-4e6a-9c8b-1f2e3d4c5b6a. Then: keys are per org and per root, key names are
 * the origins, a checkpoint signed for one org verifies only with that org's key, and deployment
 * names that cannot be part of an origin are refused.
 */
#include "audit/signing.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"

#define ORG_A "0b7e3c1a-5d2f-4e6a-9c8b-1f2e3d4c5b6a"
#define ORG_B "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
/* Ed25519 public key of HMAC-SHA256(0x01 × 32, "vaultterm audit signing key v1" ‖ 00 ‖ ORG_A). */
#define PK_A "d42edb98ef898a297e7378e946721d4891a3e6169e657841234feb72e80bbc6c"

static int
setup(void **state)
{
	(void)state;
	return secmem_init();
}

static struct audit_keys *
keys(const char *deployment, uint8_t fill)
{
	uint8_t seed[AUDIT_SEED_LEN];
	struct audit_keys *k;

	memset(seed, fill, sizeof(seed));
	assert_int_equal(audit_keys_from_seed(deployment, seed, &k), 0);
	return k;
}

static void
org(const char *s, struct vt_uuid *u)
{
	assert_int_equal(uuid_parse(s, u), 0);
}

static void
test_vector(void **state)
{
	char origin[AUDIT_ORIGIN_MAX + 1], vkey[NOTE_VKEY_MAX + 1], want[NOTE_VKEY_MAX + 1];
	uint8_t pk[NOTE_ED25519_PK_LEN], id[NOTE_KEY_ID_LEN], raw[1 + NOTE_ED25519_PK_LEN];
	struct audit_keys *k = keys("prod-eu", 0x01);
	struct note_verifier *v;
	struct vt_uuid a;
	char b64[64];

	(void)state;
	org(ORG_A, &a);
	audit_origin(k, &a, origin);
	assert_string_equal(origin, "prod-eu/audit/" ORG_A);
	assert_string_equal(audit_keys_deployment(k), "prod-eu");
	assert_int_equal(audit_keys_verifier(k, &a, &v), 0);
	/* Expected vkey: name + key id + base64(0x01 ‖ pk), from the independent public key. */
	assert_int_equal(hex_decode(PK_A, strlen(PK_A), pk, sizeof(pk)), 0);
	note_key_id(origin, pk, id);
	raw[0] = NOTE_ALG_ED25519;
	memcpy(raw + 1, pk, sizeof(pk));
	b64_encode(raw, sizeof(raw), b64, sizeof(b64));
	snprintf(want, sizeof(want), "%s+%02x%02x%02x%02x+%s", origin, id[0], id[1], id[2], id[3],
	    b64);
	note_verifier_format(v, vkey);
	assert_string_equal(vkey, want);
	assert_string_equal(note_verifier_name(v), origin);
	note_verifier_free(v);
	audit_keys_free(k);
}

static void
test_per_org_and_root(void **state)
{
	char va[NOTE_VKEY_MAX + 1], vb[NOTE_VKEY_MAX + 1], va2[NOTE_VKEY_MAX + 1];
	char vother[NOTE_VKEY_MAX + 1];
	struct audit_keys *k = keys("d", 0x42), *k2 = keys("d", 0x42), *other = keys("d", 0x43);
	struct note_verifier *v;
	struct vt_uuid a, b;

	(void)state;
	org(ORG_A, &a);
	org(ORG_B, &b);
	assert_int_equal(audit_keys_verifier(k, &a, &v), 0);
	note_verifier_format(v, va);
	note_verifier_free(v);
	assert_int_equal(audit_keys_verifier(k, &b, &v), 0);
	note_verifier_format(v, vb);
	note_verifier_free(v);
	assert_int_equal(audit_keys_verifier(k2, &a, &v), 0);
	note_verifier_format(v, va2);
	note_verifier_free(v);
	assert_int_equal(audit_keys_verifier(other, &a, &v), 0);
	note_verifier_format(v, vother);
	note_verifier_free(v);
	assert_string_equal(va, va2);              /* deterministic */
	assert_string_not_equal(va, vb);           /* per org */
	assert_string_not_equal(va, vother);       /* per root */
	audit_keys_free(k);
	audit_keys_free(k2);
	audit_keys_free(other);
}

static void
test_sign_verify_only_own_org(void **state)
{
	static const char text[] = "d/audit/" ORG_A "\n1\n"
				   "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
	struct audit_keys *k = keys("d", 0x07);
	struct note_signer *s;
	struct note_verifier *va, *vb;
	struct vbuf *note = vbuf_new(NOTE_MAX);
	struct vt_uuid a, b;
	size_t tl;

	(void)state;
	org(ORG_A, &a);
	org(ORG_B, &b);
	assert_int_equal(audit_keys_signer(k, &a, &s), 0);
	assert_string_equal(note_signer_name(s), "d/audit/" ORG_A);
	assert_int_equal(note_sign(s, text, strlen(text), note), 0);
	assert_int_equal(audit_keys_verifier(k, &a, &va), 0);
	assert_int_equal(audit_keys_verifier(k, &b, &vb), 0);
	assert_int_equal(note_verify((const char *)vbuf_ptr(note), vbuf_len(note),
	    (const struct note_verifier *const *)&va, 1, &tl, NULL), 0);
	assert_int_equal(tl, strlen(text));
	assert_int_equal(note_verify((const char *)vbuf_ptr(note), vbuf_len(note),
	    (const struct note_verifier *const *)&vb, 1, &tl, NULL), VT_ERR_VERIFY);
	note_signer_free(s);
	note_verifier_free(va);
	note_verifier_free(vb);
	vbuf_free(note);
	audit_keys_free(k);
}

static void
test_deployment_names(void **state)
{
	static const char *const bad[] = { "", "-lead", ".lead", "with space", "a+b", "a/b",
		"caf\xc3\xa9", "x\n" };
	uint8_t seed[AUDIT_SEED_LEN] = { 0 };
	char longest[AUDIT_DEPLOYMENT_MAX + 2];
	struct audit_keys *k;
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++) {
		k = (struct audit_keys *)1;
		assert_int_equal(audit_keys_from_seed(bad[i], seed, &k), VT_ERR_INVALID);
		assert_null(k);
	}
	memset(longest, 'a', sizeof(longest));
	longest[AUDIT_DEPLOYMENT_MAX] = '\0';
	assert_int_equal(audit_keys_from_seed(longest, seed, &k), 0);
	audit_keys_free(k);
	longest[AUDIT_DEPLOYMENT_MAX] = 'a';
	longest[AUDIT_DEPLOYMENT_MAX + 1] = '\0';
	assert_int_equal(audit_keys_from_seed(longest, seed, &k), VT_ERR_INVALID);
	assert_int_equal(audit_keys_from_seed("Host_1.example-2", seed, &k), 0);
	audit_keys_free(k);
	audit_keys_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_per_org_and_root),
		cmocka_unit_test(test_sign_verify_only_own_org),
		cmocka_unit_test(test_deployment_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
