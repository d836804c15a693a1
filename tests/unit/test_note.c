/*
 * Unit tests for crypto/note: C2SP signed notes and tlog checkpoints. Interop vectors, each
 * checked byte for byte: the key pair and signed note of golang.org/x/mod/sumdb/note (note_test.go
 * and the package documentation: PeterNeumann, plus EnochRoot's signature of the same text), the
 * example of c2sp.org/signed-note (C2SP/C2SP@d4c16da, example.com/foo), a real sum.golang.org tree
 * head with three witness cosignatures and four Go-generated key pairs (transparency-dev/formats,
 * log/note_test.go), and the example of c2sp.org/tlog-checkpoint (text only: its key is not
 * published). Then the key id derivation, the Go package's key mangling and malformed-note cases,
 * the verification rules (unknown keys ignored, any bad known signature rejects, at least one must
 * verify, at most NOTE_MAX_SIGS lines), every single-bit change of a signed note, size limits at
 * max and max + 1, randomized round trips, and strict checkpoint parsing.
 */
#include "crypto/note.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/encode.h"
#include "base/err.h"
#include "crypto/hash.h"

#define EM "\xe2\x80\x94" /* U+2014 EM DASH */

/* golang.org/x/mod/sumdb/note, note_test.go and the package documentation. */
#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define GO_TEXT                                                                                    \
	"If you think cryptography is the answer to your problem,\n"                               \
	"then you don't know what your problem is.\n"
#define PETER_B64                                                                                  \
	"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
#define ENOCH_B64                                                                                  \
	"rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
#define PETER_SIG EM " PeterNeumann " PETER_B64 "\n"
#define ENOCH_SIG EM " EnochRoot " ENOCH_B64 "\n"
#define GO_NOTE GO_TEXT "\n" PETER_SIG

/* c2sp.org/signed-note, the example of C2SP/C2SP@d4c16da5e7687a016619074e78dad84b2c7238cc. */
#define FOO_VKEY "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
#define FOO_NOTE                                                                                   \
	"This is an example message.\n\n" EM " example.com/foo "                                   \
	"Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"

/* transparency-dev/formats log/note_test.go: a real sum.golang.org tree head and cosignatures. */
#define SUMDB_VKEY "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
#define SUMDB_TEXT "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
#define SUMDB_SIG                                                                                  \
	EM " sum.golang.org "                                                                      \
	"Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n"
#define MONKEYS_VKEY "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT"
#define BANANAS_VKEY "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M"
#define WITNESS_VKEY "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN"
#define WITNESS_SIGS                                                                               \
	EM " monkeys "                                                                             \
	"202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2NbvAnaepM6Y+8ww=\n" \
	EM " bananas "                                                                             \
	"z2OfE+2bbsBZ7NLgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/MggS1mDR6t3/9rQw=\n" \
	EM " witness "                                                                             \
	"8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n"

/* c2sp.org/tlog-checkpoint, the example (its key is not published: text only). */
#define SOFA_TEXT "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
#define SOFA_ROOT "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62"

static const struct {
	const char *skey, *vkey;
} GO_PAIRS[] = {
	{ PETER_SKEY, PETER_VKEY },
	/* transparency-dev/formats log/note_test.go */
	{ "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
	    "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs" },
	{ "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
	    "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH" },
	{ "PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
	    "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj" },
	{ "PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
	    "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots" },
};

static struct note_verifier *
vk(const char *vkey)
{
	struct note_verifier *v = NULL;

	assert_int_equal(note_verifier_parse(vkey, &v), 0);
	assert_non_null(v);
	return v;
}

static struct note_signer *
sk(const char *skey)
{
	struct note_signer *s = NULL;

	assert_int_equal(note_signer_parse(skey, &s), 0);
	assert_non_null(s);
	return s;
}

static struct note_signer *
gen(const char *name)
{
	struct note_signer *s = NULL;

	assert_int_equal(note_signer_generate(name, &s), 0);
	assert_non_null(s);
	return s;
}

/* note_verify of a C string; *text_len checked against the note when it verifies. */
static int
verify_n(const char *note, size_t len, struct note_verifier **vs, size_t n, size_t *text_len,
    uint8_t *flags)
{
	size_t tl = 12345;
	int r = note_verify(note, len, (const struct note_verifier *const *)vs, n, &tl, flags);

	if (r == 0) {
		assert_true(tl > 0 && tl < len);
		assert_int_equal(note[tl - 1], '\n');
		assert_int_equal(note[tl], '\n');
	} else {
		assert_int_equal(tl, 0);
	}
	if (text_len != NULL)
		*text_len = tl;
	return r;
}

static int
verify(const char *note, struct note_verifier **vs, size_t n)
{
	return verify_n(note, strlen(note), vs, n, NULL, NULL);
}

/* Signs text (a C string) and returns the note as a new C string. */
static char *
sign_str(const struct note_signer *s, const char *text)
{
	struct vbuf *b = vbuf_new(NOTE_MAX);
	char *out;

	assert_int_equal(note_sign(s, text, strlen(text), b), 0);
	out = xstrndup((const char *)vbuf_ptr(b), vbuf_len(b));
	assert_int_equal(strlen(out), vbuf_len(b));
	vbuf_free(b);
	return out;
}

static void
free_all(struct note_verifier **vs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		note_verifier_free(vs[i]);
}

/* --- keys ------------------------------------------------------------------------------- */

static void
test_key_id_derivation(void **state)
{
	static const uint8_t want[4] = { 0xc7, 0x4f, 0x20, 0xa3 };
	uint8_t raw[33], pk[32], id[4], buf[64], h[HASH_SHA256_LEN];
	size_t got;
	struct note_verifier *v;

	assert_int_equal(b64_decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", 44, raw,
	    sizeof(raw), &got), 0);
	assert_int_equal(got, 33);
	assert_int_equal(raw[0], NOTE_ALG_ED25519);
	memcpy(pk, raw + 1, 32);

	/* The published id, and the definition: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pk)[:4]. */
	note_key_id("PeterNeumann", pk, id);
	assert_memory_equal(id, want, 4);
	memcpy(buf, "PeterNeumann\n\x01", 14);
	memcpy(buf + 14, pk, 32);
	hash_sha256(buf, 46, h);
	assert_memory_equal(h, want, 4);

	/* The id binds the name, and the public key. */
	note_key_id("PeterNeumanm", pk, id);
	assert_memory_not_equal(id, want, 4);
	pk[31] ^= 1;
	note_key_id("PeterNeumann", pk, id);
	assert_memory_not_equal(id, want, 4);

	v = vk(PETER_VKEY);
	assert_int_equal(note_verifier_key_id(v), 0xc74f20a3);
	assert_string_equal(note_verifier_name(v), "PeterNeumann");
	note_verifier_free(v);
	v = vk(SUMDB_VKEY);
	assert_int_equal(note_verifier_key_id(v), 0x033de0ae);
	assert_string_equal(note_verifier_name(v), "sum.golang.org");
	note_verifier_free(v);
}

static void
test_vkey_round_trip(void **state)
{
	static const char *const keys[] = {
		PETER_VKEY, ENOCH_VKEY, FOO_VKEY, SUMDB_VKEY, MONKEYS_VKEY, BANANAS_VKEY,
		WITNESS_VKEY,
	};
	char out[NOTE_VKEY_MAX + 1];
	struct note_verifier *v, *w;
	uint8_t raw[33];
	size_t i, got;

	for (i = 0; i < VT_NELEM(keys); i++) {
		v = vk(keys[i]);
		note_verifier_format(v, out);
		assert_string_equal(out, keys[i]);
		note_verifier_free(v);
	}
	/* Upper-case hex ids parse (Go's ParseUint does too) and format back in lower case. */
	v = vk("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
	note_verifier_format(v, out);
	assert_string_equal(out, PETER_VKEY);
	/* note_verifier_new from the name and key gives the same. */
	assert_int_equal(b64_decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", 44, raw,
	    sizeof(raw), &got), 0);
	assert_int_equal(note_verifier_new("PeterNeumann", raw + 1, &w), 0);
	note_verifier_format(w, out);
	assert_string_equal(out, PETER_VKEY);
	note_verifier_free(v);
	note_verifier_free(w);
}

/* Go's TestNewVerifier: every proper substring and every byte incremented is refused. */
static void
test_vkey_manglings(void **state)
{
	char b[sizeof(PETER_VKEY)];
	struct note_verifier *v = (struct note_verifier *)&v;
	size_t n = strlen(PETER_VKEY), i, j;

	for (i = 0; i <= n; i++) {
		for (j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			memcpy(b, PETER_VKEY + i, j - i);
			b[j - i] = '\0';
			assert_int_equal(note_verifier_parse(b, &v), VT_ERR_INVALID);
			assert_null(v);
		}
	}
	memcpy(b, PETER_VKEY, sizeof(b));
	for (i = 0; i < n; i++) {
		b[i]++;
		assert_int_equal(note_verifier_parse(b, &v), VT_ERR_INVALID);
		b[i]--;
	}
	/* Go: wrong key length and unknown algorithm, each with the key id adjusted to match. */
	assert_int_equal(note_verifier_parse("PeterNeumann+cc469956+"
	    "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", &v), VT_ERR_INVALID);
	assert_int_equal(note_verifier_parse("PeterNeumann+173116ae+"
	    "ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v), VT_ERR_INVALID);
	/* Shapes the loops do not produce. */
	assert_int_equal(note_verifier_parse("", &v), VT_ERR_INVALID);
	assert_int_equal(note_verifier_parse("PeterNeumann", &v), VT_ERR_INVALID);
	assert_int_equal(note_verifier_parse("+c74f20a3+"
	    "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v), VT_ERR_INVALID);
	assert_int_equal(note_verifier_parse("PeterNeumann+c74f20a+"
	    "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v), VT_ERR_INVALID);
	assert_int_equal(note_verifier_parse("PeterNeumann+c74f20a3+"
	    "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW ", &v), VT_ERR_INVALID);
	assert_int_equal(note_verifier_parse("PeterNeumann+c74f20a3+", &v), VT_ERR_INVALID);
	assert_null(v);
}

/* The Go key pairs: the skey yields the published vkey, and formats back byte for byte. */
static void
test_skey_go_pairs(void **state)
{
	char out[NOTE_VKEY_MAX + 1];
	struct note_verifier *v, *w;
	struct secmem *m;
	size_t i;

	for (i = 0; i < VT_NELEM(GO_PAIRS); i++) {
		struct note_signer *s = sk(GO_PAIRS[i].skey);

		note_signer_format_vkey(s, out);
		assert_string_equal(out, GO_PAIRS[i].vkey);
		assert_int_equal(note_signer_format_skey(s, &m), 0);
		assert_int_equal(secmem_len(m), strlen(GO_PAIRS[i].skey));
		assert_string_equal((const char *)secmem_ptr(m), GO_PAIRS[i].skey);
		secmem_free(m);

		assert_int_equal(note_signer_verifier(s, &v), 0);
		w = vk(GO_PAIRS[i].vkey);
		assert_int_equal(note_verifier_key_id(v), note_verifier_key_id(w));
		assert_int_equal(note_signer_key_id(s), note_verifier_key_id(w));
		assert_string_equal(note_signer_name(s), note_verifier_name(w));
		note_verifier_format(v, out);
		assert_string_equal(out, GO_PAIRS[i].vkey);
		note_verifier_free(v);
		note_verifier_free(w);
		note_signer_free(s);
	}
}

/* Go's TestNewSigner. */
static void
test_skey_manglings(void **state)
{
	char b[sizeof(PETER_SKEY)];
	struct note_signer *s = (struct note_signer *)&s;
	size_t n = strlen(PETER_SKEY), i, j;

	for (i = 0; i <= n; i++) {
		for (j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			memcpy(b, PETER_SKEY + i, j - i);
			b[j - i] = '\0';
			assert_int_equal(note_signer_parse(b, &s), VT_ERR_INVALID);
			assert_null(s);
		}
	}
	memcpy(b, PETER_SKEY, sizeof(b));
	for (i = 0; i < n; i++) {
		b[i]++;
		assert_int_equal(note_signer_parse(b, &s), VT_ERR_INVALID);
		b[i]--;
	}
	/* A verifier key is not a signer key, and vice versa. */
	assert_int_equal(note_signer_parse(PETER_VKEY, &s), VT_ERR_INVALID);
	assert_int_equal(note_verifier_parse(PETER_SKEY, (struct note_verifier **)&s),
	    VT_ERR_INVALID);
	assert_null(s);
}

static void
test_name_rules(void **state)
{
	static const char *const bad[] = {
		"", "a b", "a+b", "a\tb", "a\nb", "a\x01" "b", "a\xc2\xa0" "b" /* NBSP */,
		"a\xe3\x80\x80" "b" /* ideographic space */, "a\xe2\x80\x8a" "b" /* hair space */,
		"a\xc2\x85" "b" /* NEL */, "\xff", "a\xc0\xaf", "a\xed\xa0\x80" /* surrogate */,
		"a\xe2\x80" /* truncated */,
	};
	static const char *const good[] = {
		"a", "vaultterm.example/audit/0b9e4c1a-5d2f-4e3b-8a7c-6f5e4d3c2b1a",
		"Se\xc3\xb1or-1",
		"a\x7f" "b", "\xf0\x9f\x94\x91",
	};
	uint8_t seed[32] = { 1 }, pk[32] = { 2 };
	char name[NOTE_NAME_MAX + 2];
	struct note_signer *s = NULL;
	struct note_verifier *v = NULL;
	size_t i;

	for (i = 0; i < VT_NELEM(bad); i++) {
		assert_int_equal(note_signer_new(bad[i], seed, &s), VT_ERR_INVALID);
		assert_int_equal(note_signer_generate(bad[i], &s), VT_ERR_INVALID);
		assert_int_equal(note_verifier_new(bad[i], pk, &v), VT_ERR_INVALID);
		assert_null(s);
		assert_null(v);
	}
	for (i = 0; i < VT_NELEM(good); i++) {
		assert_int_equal(note_signer_new(good[i], seed, &s), 0);
		assert_string_equal(note_signer_name(s), good[i]);
		note_signer_free(s);
		assert_int_equal(note_verifier_new(good[i], pk, &v), 0);
		note_verifier_free(v);
	}
	/* NOTE_NAME_MAX bytes, and one more. */
	memset(name, 'n', NOTE_NAME_MAX);
	name[NOTE_NAME_MAX] = '\0';
	assert_int_equal(note_signer_new(name, seed, &s), 0);
	note_signer_free(s);
	name[NOTE_NAME_MAX] = 'n';
	name[NOTE_NAME_MAX + 1] = '\0';
	assert_int_equal(note_signer_new(name, seed, &s), VT_ERR_INVALID);
	assert_int_equal(note_verifier_new(name, pk, &v), VT_ERR_INVALID);
}

/* A generated key: skey and vkey round-trip, and the parsed key signs identically (Ed25519 is
 * deterministic). */
static void
test_signer_generate(void **state)
{
	struct note_signer *s = gen("vaultterm.test/gen"), *t, *u;
	struct note_verifier *v, *w;
	char vkey[NOTE_VKEY_MAX + 1], vkey2[NOTE_VKEY_MAX + 1];
	struct secmem *m;
	char *n1, *n2;

	assert_int_equal(note_signer_format_skey(s, &m), 0);
	assert_int_equal(strncmp((const char *)secmem_ptr(m), "PRIVATE+KEY+vaultterm.test/gen+",
	    31), 0);
	t = sk((const char *)secmem_ptr(m));
	secmem_free(m);
	note_signer_format_vkey(s, vkey);
	note_signer_format_vkey(t, vkey2);
	assert_string_equal(vkey, vkey2);
	assert_int_equal(note_signer_key_id(s), note_signer_key_id(t));
	n1 = sign_str(s, "hello\n");
	n2 = sign_str(t, "hello\n");
	assert_string_equal(n1, n2);
	v = vk(vkey);
	assert_int_equal(verify(n1, &v, 1), 0);
	/* Two generated keys differ. */
	u = gen("vaultterm.test/gen");
	note_signer_format_vkey(u, vkey2);
	assert_string_not_equal(vkey, vkey2);
	w = vk(vkey2);
	assert_int_equal(verify(n1, &w, 1), VT_ERR_VERIFY);
	note_verifier_free(w);
	free(n1);
	free(n2);
	note_verifier_free(v);
	note_signer_free(s);
	note_signer_free(t);
	note_signer_free(u);
}

/* --- signing and verifying: interop vectors --------------------------------------------- */

static void
test_sign_go_vector(void **state)
{
	static const uint8_t seed_raw[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
	struct note_signer *s = sk(PETER_SKEY), *t;
	uint8_t raw[33];
	size_t got;
	char *n;

	n = sign_str(s, GO_TEXT);
	assert_string_equal(n, GO_NOTE);
	free(n);

	/* The same from the bare seed. */
	assert_int_equal(b64_decode((const char *)seed_raw, 44, raw, sizeof(raw), &got), 0);
	assert_int_equal(note_signer_new("PeterNeumann", raw + 1, &t), 0);
	n = sign_str(t, GO_TEXT);
	assert_string_equal(n, GO_NOTE);
	free(n);
	note_signer_free(s);
	note_signer_free(t);
}

/* Go's TestOpen, case by case. */
static void
test_open_go_vectors(void **state)
{
	struct note_verifier *peter = vk(PETER_VKEY), *enoch = vk(ENOCH_VKEY);
	const char *both = GO_TEXT "\n" PETER_SIG ENOCH_SIG;
	uint8_t flags[3];
	size_t tl;
	char *many, *p;
	size_t i;

	/* One verified, one unknown. */
	assert_int_equal(verify_n(both, strlen(both), &peter, 1, &tl, flags), 0);
	assert_int_equal(tl, strlen(GO_TEXT));
	assert_memory_equal(both, GO_TEXT, tl);
	assert_int_equal(flags[0], 1);
	/* Both verified. */
	assert_int_equal(verify_n(both, strlen(both), (struct note_verifier *[]){ peter, enoch }, 2,
	    &tl, flags), 0);
	assert_int_equal(flags[0], 1);
	assert_int_equal(flags[1], 1);
	/* Both unknown. */
	assert_int_equal(verify(both, NULL, 0), VT_ERR_VERIFY);
	/* A key passed twice (Go: "ambiguous key"): accepted when both copies verify, since they
	 * are the same key. */
	assert_int_equal(verify_n(GO_TEXT "\n" ENOCH_SIG, strlen(GO_TEXT "\n" ENOCH_SIG),
	    (struct note_verifier *[]){ enoch, peter, enoch }, 3, NULL, flags), 0);
	assert_int_equal(flags[0], 1);
	assert_int_equal(flags[1], 0);
	assert_int_equal(flags[2], 1);
	assert_int_equal(verify(GO_TEXT "\n" PETER_SIG, (struct note_verifier *[]){ enoch, peter,
	    enoch }, 3), 0);

	/* Too many signatures: 101 lines is malformed, whatever the keys. */
	many = xmalloc(strlen(GO_TEXT) + 1 + 101 * strlen(PETER_SIG) + 1);
	p = many;
	memcpy(p, GO_TEXT "\n", strlen(GO_TEXT) + 1);
	p += strlen(GO_TEXT) + 1;
	for (i = 0; i < 101; i++, p += strlen(PETER_SIG))
		memcpy(p, PETER_SIG, strlen(PETER_SIG));
	*p = '\0';
	assert_int_equal(verify(many, &peter, 1), VT_ERR_INVALID);
	assert_int_equal(verify(many, NULL, 0), VT_ERR_INVALID);
	/* 100 is the limit. */
	many[strlen(many) - strlen(PETER_SIG)] = '\0';
	assert_int_equal(verify(many, &peter, 1), 0);
	free(many);

	/* An invalid signature by a known key (Go: 4 base64 characters inserted at 60). */
	many = xasprintf("%s\n%.60sABCD%s", GO_TEXT, PETER_SIG, PETER_SIG + 60);
	assert_int_equal(verify(many, &peter, 1), VT_ERR_VERIFY);
	free(many);

	/* Duplicated verified and unverified signatures, one unverified one corrupt. */
	many = xasprintf("%s\n%s%s%s%s%.60sABCD%s", GO_TEXT, PETER_SIG, PETER_SIG, ENOCH_SIG,
	    ENOCH_SIG, ENOCH_SIG, ENOCH_SIG + 60);
	assert_int_equal(verify(many, &peter, 1), 0);
	/* ... but with Enoch known, its corrupt signature rejects the note. */
	assert_int_equal(verify(many, (struct note_verifier *[]){ peter, enoch }, 2),
	    VT_ERR_VERIFY);
	free(many);

	note_verifier_free(peter);
	note_verifier_free(enoch);
}

/* Go's badMsgs: each is malformed. */
static void
test_open_go_bad_messages(void **state)
{
	static const char *const bad[] = {
		GO_TEXT,
		GO_TEXT "\n",
		GO_TEXT "\n" EM " PeterNeumann " PETER_B64, /* no final newline */
		"\x01" GO_TEXT "\n" PETER_SIG,
		"\xff" GO_TEXT "\n" PETER_SIG,
		GO_TEXT "\n" EM " Bad Name " PETER_B64,
		GO_TEXT "\n" PETER_SIG "Unexpected line.\n",
	};
	struct note_verifier *peter = vk(PETER_VKEY);
	size_t i;

	for (i = 0; i < VT_NELEM(bad); i++)
		assert_int_equal(verify(bad[i], &peter, 1), VT_ERR_INVALID);
	note_verifier_free(peter);
}

static void
test_verify_c2sp_example(void **state)
{
	struct note_verifier *v = vk(FOO_VKEY), *peter = vk(PETER_VKEY);
	size_t tl;

	assert_int_equal(verify_n(FOO_NOTE, strlen(FOO_NOTE), &v, 1, &tl, NULL), 0);
	assert_int_equal(tl, strlen("This is an example message.\n"));
	assert_int_equal(verify(FOO_NOTE, &peter, 1), VT_ERR_VERIFY);
	note_verifier_free(v);
	note_verifier_free(peter);
}

/* A real sum.golang.org tree head, cosigned by three witnesses; its origin has spaces, which the
 * tlog-checkpoint spec allows but our strict parser does not. */
static void
test_verify_sumdb_witnesses(void **state)
{
	struct note_verifier *vs[4] = { vk(SUMDB_VKEY), vk(MONKEYS_VKEY), vk(BANANAS_VKEY),
		vk(WITNESS_VKEY) };
	const char *note = SUMDB_TEXT "\n" SUMDB_SIG WITNESS_SIGS;
	struct checkpoint cp;
	uint8_t flags[4];
	size_t tl;

	assert_int_equal(verify(SUMDB_TEXT "\n" SUMDB_SIG, vs, 1), 0);
	assert_int_equal(verify_n(note, strlen(note), vs, 4, &tl, flags), 0);
	assert_int_equal(tl, strlen(SUMDB_TEXT));
	assert_memory_equal(flags, ((uint8_t[]){ 1, 1, 1, 1 }), 4);
	/* The log's key alone; the witnesses alone (ignoring the log). */
	assert_int_equal(verify_n(note, strlen(note), vs + 3, 1, NULL, flags), 0);
	assert_int_equal(flags[0], 1);
	assert_int_equal(checkpoint_open(note, strlen(note),
	    (const struct note_verifier *const *)vs, 4, &cp), VT_ERR_INVALID);
	assert_int_equal(checkpoint_parse(SUMDB_TEXT, strlen(SUMDB_TEXT), &cp), VT_ERR_INVALID);
	free_all(vs, 4);
}

/* --- verification rules ------------------------------------------------------------------ */

static void
test_verify_known_key_rules(void **state)
{
	struct note_signer *a = gen("vaultterm.test/a"), *b = gen("vaultterm.test/b");
	struct note_signer *a2 = gen("vaultterm.test/a"); /* same name, another key */
	struct note_verifier *va, *vb, *va2, *peter = vk(PETER_VKEY);
	char *na = sign_str(a, "text\n"), *nb = sign_str(b, "text\n");
	char *na2 = sign_str(a2, "text\n");
	char *nother = sign_str(b, "other\n");
	const char *sa = strstr(na, EM), *sb = strstr(nb, EM), *sa2 = strstr(na2, EM);
	const char *sother = strstr(nother, EM);
	char *n;
	uint8_t flags[3];

	assert_int_equal(note_signer_verifier(a, &va), 0);
	assert_int_equal(note_signer_verifier(b, &vb), 0);
	assert_int_equal(note_signer_verifier(a2, &va2), 0);

	/* Two signatures, both known and good. */
	n = xasprintf("text\n\n%s%s", sa, sb);
	assert_int_equal(verify_n(n, strlen(n), (struct note_verifier *[]){ va, vb, peter }, 3,
	    NULL, flags), 0);
	assert_memory_equal(flags, ((uint8_t[]){ 1, 1, 0 }), 3);
	free(n);

	/* Two known keys, one signature bad (b's signature of another text): rejected, in either
	 * order, and also when only b is known. */
	n = xasprintf("text\n\n%s%s", sa, sother);
	assert_int_equal(verify(n, (struct note_verifier *[]){ va, vb }, 2), VT_ERR_VERIFY);
	assert_int_equal(verify(n, &vb, 1), VT_ERR_VERIFY);
	assert_int_equal(verify(n, &va, 1), 0); /* b unknown: ignored */
	free(n);
	n = xasprintf("text\n\n%s%s", sother, sa);
	assert_int_equal(verify(n, (struct note_verifier *[]){ va, vb }, 2), VT_ERR_VERIFY);
	free(n);

	/* Unknown keys only. */
	assert_int_equal(verify(na, &vb, 1), VT_ERR_VERIFY);
	assert_int_equal(verify(na, &peter, 1), VT_ERR_VERIFY);
	/* Same name, other key id: unknown, so ignored (not a failure) ... */
	n = xasprintf("text\n\n%s%s", sa2, sa);
	assert_int_equal(verify(n, &va, 1), 0);
	assert_int_equal(verify(n, &va2, 1), 0);
	assert_int_equal(verify(na2, &va, 1), VT_ERR_VERIFY);
	free(n);

	/* A repeated signature by a known key is verified again: a bad repeat rejects (Go would
	 * skip it). The bad one here is a's key id with b's signature bytes. */
	{
		uint8_t raw[68];
		char b64[93];
		size_t got;

		assert_int_equal(b64_decode(strchr(sb + 4, ' ') + 1, 92, raw, sizeof(raw), &got),
		    0);
		raw[0] = (uint8_t)(note_signer_key_id(a) >> 24);
		raw[1] = (uint8_t)(note_signer_key_id(a) >> 16);
		raw[2] = (uint8_t)(note_signer_key_id(a) >> 8);
		raw[3] = (uint8_t)note_signer_key_id(a);
		b64_encode(raw, sizeof(raw), b64, sizeof(b64));
		n = xasprintf("text\n\n%s" EM " vaultterm.test/a %s\n", sa, b64);
		assert_int_equal(verify(n, &va, 1), VT_ERR_VERIFY);
		free(n);
		/* A known key's signature of the wrong length (65 bytes after the id). */
		assert_int_equal(b64_decode(strchr(sa + 4, ' ') + 1, 92, raw, sizeof(raw), &got),
		    0);
		b64_encode(raw, 4 + 1, b64, sizeof(b64)); /* id ‖ 1 byte: well-formed, too short */
		n = xasprintf("text\n\n%s" EM " vaultterm.test/a %s\n", sa, b64);
		assert_int_equal(verify(n, &va, 1), VT_ERR_VERIFY);
		free(n);
	}

	free(na);
	free(nb);
	free(na2);
	free(nother);
	note_verifier_free(va);
	note_verifier_free(vb);
	note_verifier_free(va2);
	note_verifier_free(peter);
	note_signer_free(a);
	note_signer_free(b);
	note_signer_free(a2);
}

static void
test_verify_signature_count(void **state)
{
	struct note_signer *s[16];
	struct note_verifier *v[16];
	char name[32];
	char *note = xstrdup("count\n\n"), *one, *tmp;
	uint8_t flags[16];
	size_t i;

	/* 16 distinct keys (the spec's minimum), all known. */
	for (i = 0; i < 16; i++) {
		(void)snprintf(name, sizeof(name), "vaultterm.test/k%zu", i);
		s[i] = gen(name);
		assert_int_equal(note_signer_verifier(s[i], &v[i]), 0);
		one = sign_str(s[i], "count\n");
		tmp = xasprintf("%s%s", note, strstr(one, EM));
		free(note);
		free(one);
		note = tmp;
	}
	assert_int_equal(verify_n(note, strlen(note), v, 16, NULL, flags), 0);
	for (i = 0; i < 16; i++)
		assert_int_equal(flags[i], 1);
	/* Known keys beyond NOTE_MAX_VERIFIERS are refused outright. */
	{
		struct note_verifier *many[NOTE_MAX_VERIFIERS + 1];
		size_t tl;

		for (i = 0; i < VT_NELEM(many); i++)
			many[i] = v[0];
		assert_int_equal(note_verify(note, strlen(note),
		    (const struct note_verifier *const *)many, NOTE_MAX_VERIFIERS, &tl, NULL), 0);
		assert_int_equal(note_verify(note, strlen(note),
		    (const struct note_verifier *const *)many, NOTE_MAX_VERIFIERS + 1, &tl, NULL),
		    VT_ERR_INVALID);
	}
	free(note);
	for (i = 0; i < 16; i++) {
		note_signer_free(s[i]);
		note_verifier_free(v[i]);
	}
}

/* Every single-bit change anywhere in a signed note (text, blank line, dash, name, base64,
 * final newline) is refused. */
static void
test_verify_flip_every_bit(void **state)
{
	struct note_signer *s = gen("vaultterm.test/flip");
	struct note_verifier *v;
	char *note = sign_str(s, "vaultterm.example/audit/x\n42\n"
				 "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nt 1700000000\n");
	size_t len = strlen(note), i;
	int bit;

	assert_int_equal(note_signer_verifier(s, &v), 0);
	assert_int_equal(verify(note, &v, 1), 0);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			note[i] ^= (char)(1 << bit);
			assert_int_not_equal(verify_n(note, len, &v, 1, NULL, NULL), 0);
			note[i] ^= (char)(1 << bit);
		}
	}
	/* Every truncation too. */
	for (i = 0; i < len; i++)
		assert_int_not_equal(verify_n(note, i, &v, 1, NULL, NULL), 0);
	assert_int_equal(verify(note, &v, 1), 0);
	free(note);
	note_verifier_free(v);
	note_signer_free(s);
}

/* Malformed notes beyond Go's list; each is VT_ERR_INVALID with Peter's key known. */
static void
test_verify_malformed(void **state)
{
	static const char *const bad[] = {
		/* The dash: ASCII hyphen, en dash, no space, two spaces, a tab. */
		GO_TEXT "\n- PeterNeumann " PETER_B64 "\n",
		GO_TEXT "\n\xe2\x80\x93 PeterNeumann " PETER_B64 "\n",
		GO_TEXT "\n" EM "PeterNeumann " PETER_B64 "\n",
		GO_TEXT "\n" EM "  PeterNeumann " PETER_B64 "\n",
		GO_TEXT "\n" EM "\tPeterNeumann " PETER_B64 "\n",
		/* Separators: none, name and base64 glued, two spaces, a tab, a trailing space. */
		GO_TEXT PETER_SIG,
		GO_TEXT "\n" EM " PeterNeumann" PETER_B64 "\n",
		GO_TEXT "\n" EM " PeterNeumann  " PETER_B64 "\n",
		GO_TEXT "\n" EM " PeterNeumann\t" PETER_B64 "\n",
		GO_TEXT "\n" EM " PeterNeumann " PETER_B64 " \n",
		/* The blank line: missing inside a text with a blank line of its own; doubled;
		 * a blank line after the signatures; an empty signature block. */
		"a\n\nb\n" PETER_SIG,
		GO_TEXT "\n" PETER_SIG "\n",
		"\n\n",
		"",
		"\n",
		/* Trailing data, a CR line ending. */
		GO_TEXT "\n" PETER_SIG "x",
		GO_TEXT "\n" EM " PeterNeumann " PETER_B64 "\r\n",
		/* Names: empty, with '+', with NBSP. */
		GO_TEXT "\n" EM "  " PETER_B64 "\n",
		GO_TEXT "\n" EM " Peter+Neumann " PETER_B64 "\n",
		GO_TEXT "\n" EM " Peter\xc2\xa0" "Neumann " PETER_B64 "\n",
		/* Base64: empty, bad character, URL-safe alphabet, missing padding, extra padding,
		 * non-zero padding bits, 4 bytes only (no signature), whitespace inside. */
		GO_TEXT "\n" EM " PeterNeumann \n",
		GO_TEXT "\n" EM " PeterNeumann "
			"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
			"FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM!\n",
		GO_TEXT "\n" EM " PeterNeumann "
			"x08go_ZJkuBS9UG_SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
			"FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
		GO_TEXT "\n" EM " PeterNeumann "
			"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
			"FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n",
		GO_TEXT "\n" EM " PeterNeumann " PETER_B64 "=\n",
		GO_TEXT "\n" EM " PeterNeumann "
			"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
			"FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAN=\n",
		GO_TEXT "\n" EM " PeterNeumann x08gow==\n",
		GO_TEXT "\n" EM " PeterNeumann "
			"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
			"FFYC2pZSNXgKvqfqdngotpR Zb6KE6RyyBwJnAM=\n",
		/* Control characters in the text: tab, CR, NUL, ESC; and in the signature block. */
		"a\tb\n\n" PETER_SIG,
		"a\rb\n\n" PETER_SIG,
		"a\x1b[31m\n\n" PETER_SIG,
		GO_TEXT "\n" EM " PeterNeumann\x01 " PETER_B64 "\n",
		/* Not UTF-8: overlong '/', a surrogate, past U+10FFFF, a lone continuation byte, a
		 * truncated sequence at the end of the text. */
		"a\xc0\xaf\n\n" PETER_SIG,
		"a\xed\xa0\x80\n\n" PETER_SIG,
		"a\xf4\x90\x80\x80\n\n" PETER_SIG,
		"a\x80\n\n" PETER_SIG,
		"a\xe2\x80\n\n" PETER_SIG,
	};
	struct note_verifier *peter = vk(PETER_VKEY);
	size_t i;

	for (i = 0; i < VT_NELEM(bad); i++) {
		int r = verify(bad[i], &peter, 1);

		if (r != VT_ERR_INVALID)
			fail_msg("case %zu: %d", i, r);
	}
	/* The LAST blank line separates: here the first signature line belongs to the text, which
	 * the second does not sign. Well-formed, but it does not verify. */
	assert_int_equal(verify(GO_TEXT "\n" PETER_SIG "\n" PETER_SIG, &peter, 1), VT_ERR_VERIFY);
	/* A NUL inside: the length, not the terminator, delimits the note. */
	{
		char n[sizeof(GO_NOTE)];

		memcpy(n, GO_NOTE, sizeof(n));
		n[3] = '\0';
		assert_int_equal(verify_n(n, sizeof(n) - 1, &peter, 1, NULL, NULL), VT_ERR_INVALID);
	}
	note_verifier_free(peter);
}

/* DEL and non-ASCII are not control characters (below U+0020): texts with them sign and verify,
 * as do texts with blank lines of their own and the minimal text "\n". */
static void
test_sign_verify_text_shapes(void **state)
{
	static const char *const texts[] = {
		"\n", "a\x7f" "b\n", "caf\xc3\xa9 \xf0\x9f\x94\x91 \xe2\x80\x94 dash\n", "a\n\nb\n",
		"a\n\n", "\n\n\n", "trailing space \n", GO_TEXT,
	};
	struct note_signer *s = gen("vaultterm.test/shapes");
	struct note_verifier *v;
	size_t i, tl;

	assert_int_equal(note_signer_verifier(s, &v), 0);
	for (i = 0; i < VT_NELEM(texts); i++) {
		char *n = sign_str(s, texts[i]);

		assert_int_equal(verify_n(n, strlen(n), &v, 1, &tl, NULL), 0);
		assert_int_equal(tl, strlen(texts[i]));
		assert_memory_equal(n, texts[i], tl);
		free(n);
	}
	note_verifier_free(v);
	note_signer_free(s);
}

static void
test_sign_rejects(void **state)
{
	static const char *const bad[] = {
		"", "abc", "a\x01\n", "a\tb\n", "a\r\n", "\xff\n", "a\xc0\xaf\n", "x\n\x1b\n",
	};
	struct note_signer *s = sk(PETER_SKEY);
	struct vbuf *b = vbuf_new(NOTE_MAX);
	size_t i;

	for (i = 0; i < VT_NELEM(bad); i++) {
		assert_int_equal(note_sign(s, bad[i], strlen(bad[i]), b), VT_ERR_INVALID);
		assert_int_equal(vbuf_len(b), 0);
	}
	/* A NUL is a control character too. */
	assert_int_equal(note_sign(s, "a\0b\n", 4, b), VT_ERR_INVALID);
	/* out's own limit. */
	vbuf_free(b);
	b = vbuf_new(strlen(GO_NOTE) - 1);
	assert_int_equal(note_sign(s, GO_TEXT, strlen(GO_TEXT), b), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	vbuf_free(b);
	b = vbuf_new(strlen(GO_NOTE));
	assert_int_equal(note_sign(s, GO_TEXT, strlen(GO_TEXT), b), 0);
	assert_int_equal(vbuf_len(b), strlen(GO_NOTE));
	/* Appends to what out holds. */
	vbuf_free(b);
	b = vbuf_new(NOTE_MAX + 2);
	assert_int_equal(vbuf_put(b, "xy", 2), 0);
	assert_int_equal(note_sign(s, GO_TEXT, strlen(GO_TEXT), b), 0);
	assert_memory_equal(vbuf_ptr(b), "xy" GO_NOTE, 2 + strlen(GO_NOTE));
	vbuf_free(b);
	note_signer_free(s);
}

/* A note of exactly NOTE_MAX bytes signs and verifies; one byte more does neither. */
static void
test_note_size_limit(void **state)
{
	struct note_signer *s = sk(PETER_SKEY);
	struct note_verifier *v = vk(PETER_VKEY);
	size_t siglen = strlen(PETER_SIG), textlen = NOTE_MAX - 1 - siglen, tl;
	char *text = xmalloc(NOTE_MAX + 2);
	struct vbuf *b = vbuf_new(2 * NOTE_MAX);

	memset(text, 'a', textlen - 1);
	text[textlen - 1] = '\n';
	assert_int_equal(note_sign(s, text, textlen, b), 0);
	assert_int_equal(vbuf_len(b), NOTE_MAX);
	assert_int_equal(note_verify((const char *)vbuf_ptr(b), vbuf_len(b),
	    (const struct note_verifier *const *)&v, 1, &tl, NULL), 0);
	assert_int_equal(tl, textlen);

	/* One more byte of text. */
	memset(text, 'a', textlen);
	text[textlen] = '\n';
	vbuf_reset(b);
	assert_int_equal(note_sign(s, text, textlen + 1, b), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	assert_int_equal(note_sign(s, text, NOTE_MAX + 1, b), VT_ERR_TOO_LARGE);

	/* One more byte of note: a valid signature of a text one byte longer, refused unread. */
	{
		struct vbuf *big = vbuf_new(2 * NOTE_MAX);
		uint8_t *p;

		assert_int_equal(vbuf_reserve(big, NOTE_MAX + 1, &p), 0);
		memset(p, 'a', textlen);
		p[textlen] = '\n';
		p[textlen + 1] = '\n';
		memcpy(p + textlen + 2, PETER_SIG, siglen);
		assert_int_equal(note_verify((const char *)vbuf_ptr(big), vbuf_len(big),
		    (const struct note_verifier *const *)&v, 1, &tl, NULL), VT_ERR_TOO_LARGE);
		vbuf_free(big);
	}
	free(text);
	vbuf_free(b);
	note_verifier_free(v);
	note_signer_free(s);
}

/* Random texts and keys: sign, verify, and cross-check two keys and cosigning by concatenation. */
static void
test_sign_verify_random(void **state)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 +/=\n\n\x7f";
	char text[600], name[40];
	int i;

	for (i = 0; i < 100; i++) {
		struct note_signer *s1, *s2;
		struct note_verifier *v1, *v2;
		uint8_t rnd[600], flags[2];
		size_t len, j, tl;
		char *n1, *n2, *both;

		random_bytes(rnd, sizeof(rnd));
		len = 1 + (size_t)rnd[0] * 2;
		for (j = 0; j + 1 < len; j++)
			text[j] = alphabet[rnd[j + 1] % (sizeof(alphabet) - 1)];
		text[len - 1] = '\n';
		text[len] = '\0';
		(void)snprintf(name, sizeof(name), "vaultterm.test/r%d", i);
		s1 = gen(name);
		s2 = gen("vaultterm.test/other");
		assert_int_equal(note_signer_verifier(s1, &v1), 0);
		assert_int_equal(note_signer_verifier(s2, &v2), 0);
		n1 = sign_str(s1, text);
		n2 = sign_str(s2, text);
		assert_int_equal(verify_n(n1, strlen(n1), &v1, 1, &tl, NULL), 0);
		assert_int_equal(tl, len);
		assert_memory_equal(n1, text, len);
		assert_int_equal(verify(n1, &v2, 1), VT_ERR_VERIFY);
		both = xasprintf("%s%s", n1, n2 + len + 1);
		assert_int_equal(verify_n(both, strlen(both), (struct note_verifier *[]){ v1, v2 },
		    2, &tl, flags), 0);
		assert_int_equal(tl, len);
		assert_int_equal(flags[0] + flags[1], 2);
		free(n1);
		free(n2);
		free(both);
		note_verifier_free(v1);
		note_verifier_free(v2);
		note_signer_free(s1);
		note_signer_free(s2);
	}
}

/* --- checkpoints ------------------------------------------------------------------------ */

static const uint8_t ROOT[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
	0x1e, 0x1f,
};
#define ROOT_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void
expect_format(const char *origin, uint64_t size, const char *const *ext, size_t n,
    const char *want)
{
	struct vbuf *b = vbuf_new(NOTE_MAX);
	struct checkpoint cp;
	size_t i;

	assert_int_equal(checkpoint_format(origin, size, ROOT, ext, n, b), 0);
	assert_int_equal(vbuf_len(b), strlen(want));
	assert_memory_equal(vbuf_ptr(b), want, strlen(want));
	assert_int_equal(checkpoint_parse((const char *)vbuf_ptr(b), vbuf_len(b), &cp), 0);
	assert_string_equal(cp.origin, origin);
	assert_true(cp.size == size);
	assert_memory_equal(cp.root, ROOT, 32);
	assert_int_equal(cp.n_ext, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(cp.ext[i].len, strlen(ext[i]));
		assert_memory_equal(cp.ext[i].p, ext[i], cp.ext[i].len);
		/* Borrowed from the parsed text. */
		assert_true(cp.ext[i].p > (const char *)vbuf_ptr(b) &&
		    cp.ext[i].p < (const char *)vbuf_ptr(b) + vbuf_len(b));
	}
	vbuf_free(b);
}

static void
test_checkpoint_format_parse(void **state)
{
	static const char *const ext[] = {
		"prev 7f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8",
		"counter 17", "time 2026-11-28T19:49:35Z",
	};
	const char *many[CHECKPOINT_EXT_MAX];
	size_t i;

	expect_format("vaultterm.example/audit/0b9e4c1a-5d2f-4e3b-8a7c-6f5e4d3c2b1a", 42, NULL, 0,
	    "vaultterm.example/audit/0b9e4c1a-5d2f-4e3b-8a7c-6f5e4d3c2b1a\n42\n" ROOT_B64 "\n");
	expect_format("o", 0, NULL, 0, "o\n0\n" ROOT_B64 "\n");
	expect_format("o", UINT64_MAX, ext, 3,
	    "o\n18446744073709551615\n" ROOT_B64 "\n"
	    "prev 7f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8\n"
	    "counter 17\ntime 2026-11-28T19:49:35Z\n");
	for (i = 0; i < CHECKPOINT_EXT_MAX; i++)
		many[i] = "x";
	expect_format("o", 1, many, CHECKPOINT_EXT_MAX,
	    "o\n1\n" ROOT_B64 "\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\n");
}

static void
test_checkpoint_spec_example(void **state)
{
	struct checkpoint cp;
	uint8_t want[32];

	assert_int_equal(hex_decode(SOFA_ROOT, 64, want, 32), 0);
	assert_int_equal(checkpoint_parse(SOFA_TEXT, strlen(SOFA_TEXT), &cp), 0);
	assert_string_equal(cp.origin, "example.com/behind-the-sofa");
	assert_true(cp.size == 20852163);
	assert_memory_equal(cp.root, want, 32);
	assert_int_equal(cp.n_ext, 0);
	{
		struct vbuf *b = vbuf_new(NOTE_MAX);

		assert_int_equal(checkpoint_format(cp.origin, cp.size, cp.root, NULL, 0, b), 0);
		assert_int_equal(vbuf_len(b), strlen(SOFA_TEXT));
		assert_memory_equal(vbuf_ptr(b), SOFA_TEXT, strlen(SOFA_TEXT));
		vbuf_free(b);
	}
}

static void
test_checkpoint_parse_rejects(void **state)
{
	static const char *const bad[] = {
		/* size */
		"o\n00\n" ROOT_B64 "\n", "o\n012\n" ROOT_B64 "\n", "o\n-1\n" ROOT_B64 "\n",
		"o\n+1\n" ROOT_B64 "\n", "o\n 1\n" ROOT_B64 "\n", "o\n1 \n" ROOT_B64 "\n",
		"o\n\n" ROOT_B64 "\n", "o\n18446744073709551616\n" ROOT_B64 "\n",
		"o\n100000000000000000000\n" ROOT_B64 "\n", "o\n1e3\n" ROOT_B64 "\n",
		"o\n0x10\n" ROOT_B64 "\n", "o\n\xd9\xa1\n" ROOT_B64 "\n" /* Arabic-Indic one */,
		/* root: 31 and 33 bytes, no padding, non-zero padding bits, URL-safe, hex, empty */
		"o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
		"o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n",
		"o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		"o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n",
		"o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh_=\n",
		"o\n1\n000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		"o\n1\n\n",
		/* origin: empty, space, '+', NBSP, tab, non-UTF-8 */
		"\n1\n" ROOT_B64 "\n", "a b\n1\n" ROOT_B64 "\n", "a+b\n1\n" ROOT_B64 "\n",
		"a\xc2\xa0" "b\n1\n" ROOT_B64 "\n", "a\tb\n1\n" ROOT_B64 "\n",
		"\xff\n1\n" ROOT_B64 "\n",
		/* lines: too few, no final newline, empty extension, control characters, CR */
		"", "o\n", "o\n1\n", "o\n1\n" ROOT_B64, "o\n1\n" ROOT_B64 "\next",
		"o\n1\n" ROOT_B64 "\n\n", "o\n1\n" ROOT_B64 "\n\next\n",
		"o\n1\n" ROOT_B64 "\na\n\n",
		"o\n1\n" ROOT_B64 "\ne\x01xt\n", "o\n1\n" ROOT_B64 "\next\r\n",
		"o\r\n1\n" ROOT_B64 "\n",
		/* too many extension lines */
		"o\n1\n" ROOT_B64 "\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\nx\n",
	};
	struct checkpoint cp;
	char origin[CHECKPOINT_ORIGIN_MAX + 2];
	char *t;
	size_t i;

	for (i = 0; i < VT_NELEM(bad); i++) {
		memset(&cp, 0xa5, sizeof(cp));
		if (checkpoint_parse(bad[i], strlen(bad[i]), &cp) != VT_ERR_INVALID)
			fail_msg("case %zu accepted", i);
		assert_int_equal(cp.n_ext, 0);
		assert_int_equal(cp.origin[0], '\0');
	}
	/* A NUL inside the origin. */
	assert_int_equal(checkpoint_parse("o\0p\n1\n" ROOT_B64 "\n", 6 + 44 + 1, &cp),
	    VT_ERR_INVALID);
	/* The origin at CHECKPOINT_ORIGIN_MAX bytes, and one more. */
	memset(origin, 'o', CHECKPOINT_ORIGIN_MAX);
	origin[CHECKPOINT_ORIGIN_MAX] = '\0';
	t = xasprintf("%s\n1\n" ROOT_B64 "\n", origin);
	assert_int_equal(checkpoint_parse(t, strlen(t), &cp), 0);
	free(t);
	origin[CHECKPOINT_ORIGIN_MAX] = 'o';
	origin[CHECKPOINT_ORIGIN_MAX + 1] = '\0';
	t = xasprintf("%s\n1\n" ROOT_B64 "\n", origin);
	assert_int_equal(checkpoint_parse(t, strlen(t), &cp), VT_ERR_INVALID);
	free(t);
	/* Past NOTE_MAX. */
	t = xmalloc(NOTE_MAX + 1);
	memset(t, 'x', NOTE_MAX + 1);
	memcpy(t, "o\n1\n" ROOT_B64 "\n", 4 + 45);
	t[NOTE_MAX] = '\n';
	assert_int_equal(checkpoint_parse(t, NOTE_MAX + 1, &cp), VT_ERR_TOO_LARGE);
	assert_int_equal(checkpoint_parse(t, NOTE_MAX, &cp), VT_ERR_INVALID); /* no final '\n' */
	t[NOTE_MAX - 1] = '\n';
	assert_int_equal(checkpoint_parse(t, NOTE_MAX, &cp), 0);
	assert_int_equal(cp.n_ext, 1);
	assert_int_equal(cp.ext[0].len, NOTE_MAX - 1 - 49);
	free(t);
}

static void
test_checkpoint_format_rejects(void **state)
{
	static const char *const bad_origin[] = { "", "a b", "a+b", "a\nb", "\xff" };
	struct vbuf *b = vbuf_new(NOTE_MAX);
	const char *ext[CHECKPOINT_EXT_MAX + 1];
	size_t i;

	for (i = 0; i < VT_NELEM(bad_origin); i++)
		assert_int_equal(checkpoint_format(bad_origin[i], 1, ROOT, NULL, 0, b),
		    VT_ERR_INVALID);
	ext[0] = "";
	assert_int_equal(checkpoint_format("o", 1, ROOT, ext, 1, b), VT_ERR_INVALID);
	ext[0] = "a\nb";
	assert_int_equal(checkpoint_format("o", 1, ROOT, ext, 1, b), VT_ERR_INVALID);
	ext[0] = "a\tb";
	assert_int_equal(checkpoint_format("o", 1, ROOT, ext, 1, b), VT_ERR_INVALID);
	ext[0] = "\xc0\xaf";
	assert_int_equal(checkpoint_format("o", 1, ROOT, ext, 1, b), VT_ERR_INVALID);
	for (i = 0; i < VT_NELEM(ext); i++)
		ext[i] = "x";
	assert_int_equal(checkpoint_format("o", 1, ROOT, ext, CHECKPOINT_EXT_MAX + 1, b),
	    VT_ERR_INVALID);
	assert_int_equal(vbuf_len(b), 0);
	/* out's limit: unchanged on failure. */
	vbuf_free(b);
	b = vbuf_new(10);
	assert_int_equal(checkpoint_format("o", 1, ROOT, NULL, 0, b), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	vbuf_free(b);
}

/* A signed checkpoint opens to its fields; a changed root or an unknown key does not open. */
static void
test_checkpoint_open(void **state)
{
	static const char *const ext[] = { "counter 3" };
	const char *origin = "vaultterm.example/audit/0b9e4c1a-5d2f-4e3b-8a7c-6f5e4d3c2b1a";
	struct note_signer *s = gen(origin), *other = gen(origin);
	struct note_verifier *v, *vo;
	struct vbuf *text = vbuf_new(NOTE_MAX), *note = vbuf_new(NOTE_MAX);
	struct checkpoint cp;
	char *n, *root;

	assert_int_equal(note_signer_verifier(s, &v), 0);
	assert_int_equal(note_signer_verifier(other, &vo), 0);
	assert_int_equal(checkpoint_format(origin, 1234, ROOT, ext, 1, text), 0);
	assert_int_equal(note_sign(s, (const char *)vbuf_ptr(text), vbuf_len(text), note), 0);
	n = xstrndup((const char *)vbuf_ptr(note), vbuf_len(note));

	memset(&cp, 0xa5, sizeof(cp));
	assert_int_equal(checkpoint_open(n, strlen(n), (const struct note_verifier *const *)&v, 1,
	    &cp), 0);
	assert_string_equal(cp.origin, origin);
	assert_true(cp.size == 1234);
	assert_memory_equal(cp.root, ROOT, 32);
	assert_int_equal(cp.n_ext, 1);
	assert_int_equal(cp.ext[0].len, 9);
	assert_memory_equal(cp.ext[0].p, "counter 3", 9);
	assert_true(cp.ext[0].p > n && cp.ext[0].p < n + vbuf_len(text));

	assert_int_equal(checkpoint_open(n, strlen(n), (const struct note_verifier *const *)&vo, 1,
	    &cp), VT_ERR_VERIFY);
	assert_int_equal(cp.n_ext, 0);
	root = strstr(n, ROOT_B64);
	assert_non_null(root);
	root[5] ^= 1; /* another well-formed root */
	assert_int_equal(checkpoint_open(n, strlen(n), (const struct note_verifier *const *)&v, 1,
	    &cp), VT_ERR_VERIFY);
	root[5] ^= 1;
	/* A signed text that is not a checkpoint. */
	free(n);
	vbuf_reset(note);
	assert_int_equal(note_sign(s, "not a checkpoint\n", 17, note), 0);
	assert_int_equal(checkpoint_open((const char *)vbuf_ptr(note), vbuf_len(note),
	    (const struct note_verifier *const *)&v, 1, &cp), VT_ERR_INVALID);

	vbuf_free(text);
	vbuf_free(note);
	note_verifier_free(v);
	note_verifier_free(vo);
	note_signer_free(s);
	note_signer_free(other);
}

static int
group_setup(void **state)
{
	return secmem_init();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_id_derivation),
		cmocka_unit_test(test_vkey_round_trip),
		cmocka_unit_test(test_vkey_manglings),
		cmocka_unit_test(test_skey_go_pairs),
		cmocka_unit_test(test_skey_manglings),
		cmocka_unit_test(test_name_rules),
		cmocka_unit_test(test_signer_generate),
		cmocka_unit_test(test_sign_go_vector),
		cmocka_unit_test(test_open_go_vectors),
		cmocka_unit_test(test_open_go_bad_messages),
		cmocka_unit_test(test_verify_c2sp_example),
		cmocka_unit_test(test_verify_sumdb_witnesses),
		cmocka_unit_test(test_verify_known_key_rules),
		cmocka_unit_test(test_verify_signature_count),
		cmocka_unit_test(test_verify_flip_every_bit),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_sign_verify_text_shapes),
		cmocka_unit_test(test_sign_rejects),
		cmocka_unit_test(test_note_size_limit),
		cmocka_unit_test(test_sign_verify_random),
		cmocka_unit_test(test_checkpoint_format_parse),
		cmocka_unit_test(test_checkpoint_spec_example),
		cmocka_unit_test(test_checkpoint_parse_rejects),
		cmocka_unit_test(test_checkpoint_format_rejects),
		cmocka_unit_test(test_checkpoint_open),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
