/*
 * Signed notes and checkpoints, byte-compatible with golang.org/x/mod/sumdb/note (the reference
 * implementation of c2sp.org/signed-note) and c2sp.org/tlog-checkpoint. Ed25519 is libsodium's
 * crypto_sign_ed25519 (detached); SHA-256 for key ids is crypto/hash. Parsing is strict and done
 * in full before any signature is checked, so a malformed note is VT_ERR_INVALID whatever its
 * signatures, and the cryptography only ever sees well-formed input.
 *
 * Deliberate differences from the Go package, all stricter: base64 must be canonical (libsodium
 * rejects non-zero padding bits, Go does not); key names are at most NOTE_NAME_MAX bytes and may
 * not hold control characters; every signature by a known key is verified, also a repeated one
 * (Go checks only the first signature per key); and a key passed twice is accepted only if both
 * copies verify (Go reports an ambiguous key).
 */
#include "crypto/note.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/num.h"
#include "crypto/hash.h"

#define NOTE_SIG_PREFIX "\xe2\x80\x94 "        /* U+2014 EM DASH, space */
#define NOTE_SIG_PREFIX_LEN 4
#define NOTE_SKEY_PREFIX "PRIVATE+KEY+"
#define NOTE_SKEY_PREFIX_LEN 12
#define NOTE_KEY_RAW_LEN (1 + NOTE_ED25519_PK_LEN) /* type byte ‖ key, in vkeys and skeys */
#define NOTE_KEY_B64_LEN 44                        /* base64 of NOTE_KEY_RAW_LEN bytes */
#define NOTE_SIG_RAW_LEN (NOTE_KEY_ID_LEN + NOTE_ED25519_SIG_LEN)
#define NOTE_SIG_B64_LEN 92                        /* base64 of NOTE_SIG_RAW_LEN bytes */
#define CHECKPOINT_ROOT_B64_LEN 44

struct note_verifier {
	char name[NOTE_NAME_MAX + 1];
	size_t name_len;
	uint8_t id[NOTE_KEY_ID_LEN];
	uint8_t pk[NOTE_ED25519_PK_LEN];
};

struct note_signer {
	struct note_verifier pub; /* name, key id and public key */
	struct secmem *sk;        /* libsodium's 64-byte secret key: seed ‖ public key */
};

/* One parsed signature line; the name borrows the note. */
struct note_sig {
	const uint8_t *name;
	size_t name_len;
	uint8_t id[NOTE_KEY_ID_LEN];
	size_t sig_len;                     /* decoded length after the key id */
	uint8_t sig[NOTE_ED25519_SIG_LEN];  /* valid when sig_len is an Ed25519 signature's */
};

/*
 * The UTF-8 sequence at p (n bytes available): its length and code point, or 0 if it is not
 * well-formed (overlong forms, surrogates, values past U+10FFFF, truncation).
 */
static size_t
utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint8_t lo = 0x80, hi = 0xbf;
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		if (p[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		if (p[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	c = (c << 6) | (p[1] & 0x3f);
	for (i = 2; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	*cp = c;
	return len;
}

/* Go's unicode.IsSpace, which the reference uses for key names: Latin-1 spaces and White_Space. */
static int
is_unicode_space(uint32_t c)
{
	switch (c) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029: case 0x202f: case 0x205f:
	case 0x3000:
		return 1;
	default:
		return c >= 0x2000 && c <= 0x200a;
	}
}

/* Note text: well-formed UTF-8 with no control character (below U+0020) except '\n'. */
static int
text_ok(const uint8_t *p, size_t n)
{
	size_t i = 0, k;
	uint32_t c;

	while (i < n) {
		if ((k = utf8_decode(p + i, n - i, &c)) == 0)
			return 0;
		if (c < 0x20 && c != '\n')
			return 0;
		i += k;
	}
	return 1;
}

/* A key name or checkpoint origin: 1..max bytes of UTF-8, no control character, space or '+'. */
static int
name_ok(const uint8_t *p, size_t n, size_t max)
{
	size_t i = 0, k;
	uint32_t c;

	if (n == 0 || n > max)
		return 0;
	while (i < n) {
		if ((k = utf8_decode(p + i, n - i, &c)) == 0)
			return 0;
		if (c < 0x20 || c == '+' || is_unicode_space(c))
			return 0;
		i += k;
	}
	return 1;
}

static void
key_id(const char *name, size_t name_len, const uint8_t pk[static NOTE_ED25519_PK_LEN],
    uint8_t out[static NOTE_KEY_ID_LEN])
{
	uint8_t buf[NOTE_NAME_MAX + 2 + NOTE_ED25519_PK_LEN];
	uint8_t h[HASH_SHA256_LEN];

	VT_ASSERT(name_len <= NOTE_NAME_MAX);
	memcpy(buf, name, name_len);
	buf[name_len] = '\n';
	buf[name_len + 1] = NOTE_ALG_ED25519;
	memcpy(buf + name_len + 2, pk, NOTE_ED25519_PK_LEN);
	hash_sha256(buf, name_len + 2 + NOTE_ED25519_PK_LEN, h);
	memcpy(out, h, NOTE_KEY_ID_LEN);
}

void
note_key_id(const char *name, const uint8_t pk[static NOTE_ED25519_PK_LEN],
    uint8_t out[static NOTE_KEY_ID_LEN])
{
	key_id(name, strlen(name), pk, out);
}

static uint32_t
id_u32(const uint8_t id[static NOTE_KEY_ID_LEN])
{
	return (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
}

/*
 * Splits "<name>+<8 hex>+<base64>" (the Go key encodings after any "PRIVATE+KEY+") the way the
 * reference does: the name ends at the first '+', the id at the next, the rest is base64.
 */
static int
key_split(const char *s, size_t len, size_t *name_len, uint8_t id[static NOTE_KEY_ID_LEN],
    const char **b64, size_t *b64_len)
{
	const char *p1, *p2;

	if ((p1 = memchr(s, '+', len)) == NULL)
		return VT_ERR_INVALID;
	*name_len = (size_t)(p1 - s);
	p1++;
	p2 = memchr(p1, '+', len - (size_t)(p1 - s));
	if (p2 == NULL || p2 - p1 != 2 * NOTE_KEY_ID_LEN)
		return VT_ERR_INVALID;
	if (!name_ok((const uint8_t *)s, *name_len, NOTE_NAME_MAX) ||
	    hex_decode(p1, 2 * NOTE_KEY_ID_LEN, id, NOTE_KEY_ID_LEN) != 0)
		return VT_ERR_INVALID;
	*b64 = p2 + 1;
	*b64_len = len - (size_t)(*b64 - s);
	return 0;
}

/* Fills a verifier from a validated name and a public key, computing the key id. */
static void
verifier_fill(struct note_verifier *v, const char *name, size_t name_len,
    const uint8_t pk[static NOTE_ED25519_PK_LEN])
{
	memset(v, 0, sizeof(*v));
	memcpy(v->name, name, name_len);
	v->name[name_len] = '\0';
	v->name_len = name_len;
	memcpy(v->pk, pk, NOTE_ED25519_PK_LEN);
	key_id(v->name, name_len, v->pk, v->id);
}

int
note_verifier_parse(const char *vkey, struct note_verifier **out)
{
	struct note_verifier *v = NULL;
	uint8_t id[NOTE_KEY_ID_LEN], raw[NOTE_KEY_RAW_LEN];
	const char *b64;
	size_t len, name_len, b64_len, got;
	int r;

	*out = NULL;
	if ((len = strnlen(vkey, NOTE_VKEY_MAX + 1)) > NOTE_VKEY_MAX)
		return VT_ERR_INVALID;
	if ((r = key_split(vkey, len, &name_len, id, &b64, &b64_len)) != 0)
		return r;
	if (b64_decode(b64, b64_len, raw, sizeof(raw), &got) != 0 || got != NOTE_KEY_RAW_LEN ||
	    raw[0] != NOTE_ALG_ED25519)
		return VT_ERR_INVALID;
	v = xmalloc(sizeof(*v));
	verifier_fill(v, vkey, name_len, raw + 1);
	if (!vt_ct_eq(v->id, id, NOTE_KEY_ID_LEN)) {
		note_verifier_free(v);
		return VT_ERR_INVALID;
	}
	*out = v;
	return 0;
}

int
note_verifier_new(const char *name, const uint8_t pk[static NOTE_ED25519_PK_LEN],
    struct note_verifier **out)
{
	size_t name_len = strnlen(name, NOTE_NAME_MAX + 1);

	*out = NULL;
	if (!name_ok((const uint8_t *)name, name_len, NOTE_NAME_MAX))
		return VT_ERR_INVALID;
	*out = xmalloc(sizeof(**out));
	verifier_fill(*out, name, name_len, pk);
	return 0;
}

/*
 * Writes "<name>+<hex id>+" and the base64 of (type ‖ key) into out, NUL-terminated; returns the
 * length. out may be guarded memory: the key is encoded straight into it.
 */
static size_t
key_format(const struct note_verifier *v, const uint8_t key[static NOTE_ED25519_PK_LEN],
    char *out, size_t outsize)
{
	uint8_t raw[NOTE_KEY_RAW_LEN];
	size_t o = 0;

	VT_ASSERT(outsize >= v->name_len + 2 + 2 * NOTE_KEY_ID_LEN + NOTE_KEY_B64_LEN + 1);
	memcpy(out, v->name, v->name_len);
	o += v->name_len;
	out[o++] = '+';
	hex_encode(v->id, NOTE_KEY_ID_LEN, out + o);
	o += 2 * NOTE_KEY_ID_LEN;
	out[o++] = '+';
	raw[0] = NOTE_ALG_ED25519;
	memcpy(raw + 1, key, NOTE_ED25519_PK_LEN);
	b64_encode(raw, sizeof(raw), out + o, outsize - o);
	sodium_memzero(raw, sizeof(raw)); /* the signer's seed passes through here */
	return o + NOTE_KEY_B64_LEN;
}

void
note_verifier_format(const struct note_verifier *v, char out[static NOTE_VKEY_MAX + 1])
{
	(void)key_format(v, v->pk, out, NOTE_VKEY_MAX + 1);
}

const char *
note_verifier_name(const struct note_verifier *v)
{
	return v->name;
}

uint32_t
note_verifier_key_id(const struct note_verifier *v)
{
	return id_u32(v->id);
}

void
note_verifier_free(struct note_verifier *v)
{
	free(v);
}

/* A signer for a validated name from a seed (borrowed; copied into guarded memory). */
static int
signer_from_seed(const char *name, size_t name_len,
    const uint8_t seed[static NOTE_ED25519_SEED_LEN], struct note_signer **out)
{
	struct note_signer *s;
	uint8_t pk[NOTE_ED25519_PK_LEN];

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	if ((s->sk = secmem_new(crypto_sign_ed25519_SECRETKEYBYTES)) == NULL) {
		free(s);
		return VT_ERR_NOMEM;
	}
	if (crypto_sign_ed25519_seed_keypair(pk, secmem_ptr(s->sk), seed) != 0) {
		note_signer_free(s);
		return VT_ERR_CRYPTO;
	}
	verifier_fill(&s->pub, name, name_len, pk);
	*out = s;
	return 0;
}

int
note_signer_new(const char *name, const uint8_t seed[static NOTE_ED25519_SEED_LEN],
    struct note_signer **out)
{
	size_t name_len = strnlen(name, NOTE_NAME_MAX + 1);

	*out = NULL;
	if (!name_ok((const uint8_t *)name, name_len, NOTE_NAME_MAX))
		return VT_ERR_INVALID;
	return signer_from_seed(name, name_len, seed, out);
}

int
note_signer_generate(const char *name, struct note_signer **out)
{
	struct secmem *seed;
	size_t name_len = strnlen(name, NOTE_NAME_MAX + 1);
	int r;

	*out = NULL;
	if (!name_ok((const uint8_t *)name, name_len, NOTE_NAME_MAX))
		return VT_ERR_INVALID;
	if ((seed = secmem_new(NOTE_ED25519_SEED_LEN)) == NULL)
		return VT_ERR_NOMEM;
	random_bytes(secmem_ptr(seed), NOTE_ED25519_SEED_LEN);
	r = signer_from_seed(name, name_len, secmem_ptr(seed), out);
	secmem_free(seed);
	return r;
}

int
note_signer_parse(const char *skey, struct note_signer **out)
{
	struct note_signer *s = NULL;
	struct secmem *raw = NULL;
	uint8_t id[NOTE_KEY_ID_LEN];
	const char *rest, *b64;
	size_t len, name_len, b64_len, got;
	int r = VT_ERR_INVALID;

	*out = NULL;
	len = strnlen(skey, NOTE_SKEY_MAX + 1);
	if (len > NOTE_SKEY_MAX || len < NOTE_SKEY_PREFIX_LEN ||
	    !vt_ct_eq(skey, NOTE_SKEY_PREFIX, NOTE_SKEY_PREFIX_LEN))
		return VT_ERR_INVALID;
	rest = skey + NOTE_SKEY_PREFIX_LEN;
	if ((r = key_split(rest, len - NOTE_SKEY_PREFIX_LEN, &name_len, id, &b64, &b64_len)) != 0)
		return r;
	if ((raw = secmem_new(NOTE_KEY_RAW_LEN)) == NULL)
		return VT_ERR_NOMEM;
	if (b64_decode(b64, b64_len, secmem_ptr(raw), NOTE_KEY_RAW_LEN, &got) != 0 ||
	    got != NOTE_KEY_RAW_LEN || secmem_ptr(raw)[0] != NOTE_ALG_ED25519) {
		r = VT_ERR_INVALID;
		goto out;
	}
	if ((r = signer_from_seed(rest, name_len, secmem_ptr(raw) + 1, &s)) != 0)
		goto out;
	if (!vt_ct_eq(s->pub.id, id, NOTE_KEY_ID_LEN)) {
		r = VT_ERR_INVALID;
		goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
 out:
	note_signer_free(s);
	secmem_free(raw);
	return r;
}

int
note_signer_format_skey(const struct note_signer *s, struct secmem **out)
{
	struct secmem *m;
	size_t n;

	*out = NULL;
	if ((m = secmem_new(NOTE_SKEY_MAX + 1)) == NULL)
		return VT_ERR_NOMEM;
	memcpy(secmem_ptr(m), NOTE_SKEY_PREFIX, NOTE_SKEY_PREFIX_LEN);
	/* The seed is the first half of libsodium's secret key. */
	n = key_format(&s->pub, secmem_ptr(s->sk), (char *)secmem_ptr(m) + NOTE_SKEY_PREFIX_LEN,
	    NOTE_SKEY_MAX + 1 - NOTE_SKEY_PREFIX_LEN);
	secmem_truncate(m, NOTE_SKEY_PREFIX_LEN + n); /* wipes past the NUL, which stays */
	*out = m;
	return 0;
}

void
note_signer_format_vkey(const struct note_signer *s, char out[static NOTE_VKEY_MAX + 1])
{
	note_verifier_format(&s->pub, out);
}

int
note_signer_verifier(const struct note_signer *s, struct note_verifier **out)
{
	*out = xmalloc(sizeof(**out));
	memcpy(*out, &s->pub, sizeof(**out));
	return 0;
}

const char *
note_signer_name(const struct note_signer *s)
{
	return s->pub.name;
}

uint32_t
note_signer_key_id(const struct note_signer *s)
{
	return id_u32(s->pub.id);
}

void
note_signer_free(struct note_signer *s)
{
	if (s == NULL)
		return;
	secmem_free(s->sk);
	free(s);
}

int
note_sign(const struct note_signer *s, const char *text, size_t len, struct vbuf *out)
{
	uint8_t raw[NOTE_SIG_RAW_LEN];
	char b64[NOTE_SIG_B64_LEN + 1];
	uint8_t *p;
	size_t total;
	int r;

	if (len > NOTE_MAX)
		return VT_ERR_TOO_LARGE;
	if (len == 0 || text[len - 1] != '\n' || !text_ok((const uint8_t *)text, len))
		return VT_ERR_INVALID;
	/* text, blank line, "— <name> <base64>\n" */
	total = len + 1 + NOTE_SIG_PREFIX_LEN + s->pub.name_len + 1 + NOTE_SIG_B64_LEN + 1;
	if (total > NOTE_MAX)
		return VT_ERR_TOO_LARGE;
	memcpy(raw, s->pub.id, NOTE_KEY_ID_LEN);
	if (crypto_sign_ed25519_detached(raw + NOTE_KEY_ID_LEN, NULL, (const uint8_t *)text, len,
	    secmem_ptr(s->sk)) != 0)
		return VT_ERR_CRYPTO;
	b64_encode(raw, sizeof(raw), b64, sizeof(b64));
	if ((r = vbuf_reserve(out, total, &p)) != 0)
		return r;
	memcpy(p, text, len);
	p += len;
	*p++ = '\n';
	memcpy(p, NOTE_SIG_PREFIX, NOTE_SIG_PREFIX_LEN);
	p += NOTE_SIG_PREFIX_LEN;
	memcpy(p, s->pub.name, s->pub.name_len);
	p += s->pub.name_len;
	*p++ = ' ';
	memcpy(p, b64, NOTE_SIG_B64_LEN);
	p += NOTE_SIG_B64_LEN;
	*p = '\n';
	return 0;
}

/*
 * One signature line without its '\n': "— <name> <base64(key id ‖ signature)>". raw (rawmax bytes,
 * at least the line's length) is scratch space for the decoding.
 */
static int
sig_parse(const uint8_t *line, size_t len, uint8_t *raw, size_t rawmax, struct note_sig *sig)
{
	const uint8_t *name, *sp, *b64;
	size_t name_len, b64_len, got;

	memset(sig, 0, sizeof(*sig));
	if (len < NOTE_SIG_PREFIX_LEN || line[0] != 0xe2 || line[1] != 0x80 || line[2] != 0x94 ||
	    line[3] != ' ')
		return VT_ERR_INVALID;
	name = line + NOTE_SIG_PREFIX_LEN;
	if ((sp = memchr(name, ' ', len - NOTE_SIG_PREFIX_LEN)) == NULL)
		return VT_ERR_INVALID;
	name_len = (size_t)(sp - name);
	b64 = sp + 1;
	b64_len = len - (size_t)(b64 - line);
	if (!name_ok(name, name_len, NOTE_NAME_MAX) || b64_len == 0 ||
	    b64_decode((const char *)b64, b64_len, raw, rawmax, &got) != 0 ||
	    got < NOTE_KEY_ID_LEN + 1)
		return VT_ERR_INVALID;
	sig->name = name;
	sig->name_len = name_len;
	memcpy(sig->id, raw, NOTE_KEY_ID_LEN);
	sig->sig_len = got - NOTE_KEY_ID_LEN;
	if (sig->sig_len == NOTE_ED25519_SIG_LEN)
		memcpy(sig->sig, raw + NOTE_KEY_ID_LEN, NOTE_ED25519_SIG_LEN);
	return 0;
}

/* Whether a signature line names this key: both the name and the key id match. */
static int
sig_matches(const struct note_sig *sig, const struct note_verifier *v)
{
	return sig->name_len == v->name_len && vt_ct_eq(sig->name, v->name, v->name_len) &&
	    vt_ct_eq(sig->id, v->id, NOTE_KEY_ID_LEN);
}

int
note_verify(const char *note, size_t len, const struct note_verifier *const *verifiers, size_t n,
    size_t *text_len, uint8_t *verified)
{
	const uint8_t *m = (const uint8_t *)note;
	struct note_sig *sigs = NULL;
	uint8_t *raw = NULL;
	uint8_t ok[NOTE_MAX_VERIFIERS];
	size_t split = 0, pos, nsigs = 0, i, j;
	int r = VT_ERR_INTERNAL, found = 0, any = 0;

	*text_len = 0;
	if (verified != NULL && n > 0)
		memset(verified, 0, n);
	if (n > NOTE_MAX_VERIFIERS)
		return VT_ERR_INVALID;
	if (len > NOTE_MAX)
		return VT_ERR_TOO_LARGE;
	if (!text_ok(m, len))
		return VT_ERR_INVALID;
	/* The text ends at the last blank line: text = m[0..split], signatures from split + 2. */
	for (i = len; i >= 2 && !found; i--) {
		if (m[i - 1] == '\n' && m[i - 2] == '\n') {
			split = i - 2;
			found = 1;
		}
	}
	pos = split + 2;
	if (!found || pos == len || m[len - 1] != '\n')
		return VT_ERR_INVALID;

	sigs = xcalloc(NOTE_MAX_SIGS, sizeof(*sigs));
	raw = xmalloc(len); /* a line decodes to fewer bytes than the note has */
	while (pos < len) {
		const uint8_t *line = m + pos;
		const uint8_t *nl = memchr(line, '\n', len - pos); /* found: m ends in '\n' */
		size_t line_len = (size_t)(nl - line);

		pos += line_len + 1;
		if (nsigs == NOTE_MAX_SIGS) {
			r = VT_ERR_INVALID;
			goto out;
		}
		if ((r = sig_parse(line, line_len, raw, len, &sigs[nsigs])) != 0)
			goto out;
		nsigs++;
	}

	/* Well-formed: now the signatures by known keys, every one of them. */
	r = VT_ERR_VERIFY;
	memset(ok, 0, sizeof(ok));
	for (i = 0; i < nsigs; i++) {
		for (j = 0; j < n; j++) {
			VT_ASSERT(verifiers[j] != NULL);
			if (!sig_matches(&sigs[i], verifiers[j]))
				continue;
			if (sigs[i].sig_len != NOTE_ED25519_SIG_LEN ||
			    crypto_sign_ed25519_verify_detached(sigs[i].sig, m, split + 1,
			    verifiers[j]->pk) != 0)
				goto out;
			ok[j] = 1;
			any = 1;
		}
	}
	if (!any)
		goto out;
	*text_len = split + 1;
	if (verified != NULL && n > 0)
		memcpy(verified, ok, n);
	r = 0;
 out:
	free(raw);
	free(sigs);
	return r;
}

/* The tree size: decimal, no sign, no leading zero (except "0" itself), fits a u64. */
static int
size_parse(const char *p, size_t n, uint64_t *out)
{
	char buf[21];

	*out = 0;
	if (n == 0 || n >= sizeof(buf) || (n > 1 && p[0] == '0'))
		return VT_ERR_INVALID;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (num_parse_u64(buf, 0, UINT64_MAX, out) != 0)
		return VT_ERR_INVALID;
	return 0;
}

int
checkpoint_format(const char *origin, uint64_t size,
    const uint8_t root[static CHECKPOINT_HASH_LEN], const char *const *ext, size_t n_ext,
    struct vbuf *out)
{
	struct vbuf *b = NULL;
	char num[21], b64[CHECKPOINT_ROOT_B64_LEN + 1];
	size_t origin_len = strnlen(origin, CHECKPOINT_ORIGIN_MAX + 1), i;
	int r = VT_ERR_INVALID;

	if (!name_ok((const uint8_t *)origin, origin_len, CHECKPOINT_ORIGIN_MAX) ||
	    n_ext > CHECKPOINT_EXT_MAX)
		return VT_ERR_INVALID;
	for (i = 0; i < n_ext; i++) {
		size_t l = strnlen(ext[i], NOTE_MAX + 1);

		if (l == 0 || l > NOTE_MAX || memchr(ext[i], '\n', l) != NULL ||
		    !text_ok((const uint8_t *)ext[i], l))
			return VT_ERR_INVALID;
	}
	(void)snprintf(num, sizeof(num), "%" PRIu64, size);
	b64_encode(root, CHECKPOINT_HASH_LEN, b64, sizeof(b64));
	b = vbuf_new(NOTE_MAX);
	if ((r = vbuf_put(b, origin, origin_len)) != 0 || (r = vbuf_put_u8(b, '\n')) != 0 ||
	    (r = vbuf_put_cstr(b, num)) != 0 || (r = vbuf_put_u8(b, '\n')) != 0 ||
	    (r = vbuf_put_cstr(b, b64)) != 0 || (r = vbuf_put_u8(b, '\n')) != 0)
		goto out;
	for (i = 0; i < n_ext; i++) {
		if ((r = vbuf_put_cstr(b, ext[i])) != 0 || (r = vbuf_put_u8(b, '\n')) != 0)
			goto out;
	}
	r = vbuf_put(out, vbuf_ptr(b), vbuf_len(b));
 out:
	vbuf_free(b);
	return r;
}

int
checkpoint_parse(const char *text, size_t len, struct checkpoint *out)
{
	struct checkpoint cp;
	size_t pos = 0, nline = 0, got;

	memset(out, 0, sizeof(*out));
	memset(&cp, 0, sizeof(cp));
	if (len > NOTE_MAX)
		return VT_ERR_TOO_LARGE;
	if (len == 0 || text[len - 1] != '\n' || !text_ok((const uint8_t *)text, len))
		return VT_ERR_INVALID;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos); /* found: text ends in '\n' */
		size_t n = (size_t)(nl - line);

		pos += n + 1;
		switch (nline++) {
		case 0:
			if (!name_ok((const uint8_t *)line, n, CHECKPOINT_ORIGIN_MAX))
				return VT_ERR_INVALID;
			memcpy(cp.origin, line, n);
			cp.origin[n] = '\0';
			break;
		case 1:
			if (size_parse(line, n, &cp.size) != 0)
				return VT_ERR_INVALID;
			break;
		case 2:
			if (n != CHECKPOINT_ROOT_B64_LEN ||
			    b64_decode(line, n, cp.root, CHECKPOINT_HASH_LEN, &got) != 0 ||
			    got != CHECKPOINT_HASH_LEN)
				return VT_ERR_INVALID;
			break;
		default:
			if (n == 0 || cp.n_ext == CHECKPOINT_EXT_MAX)
				return VT_ERR_INVALID;
			cp.ext[cp.n_ext].p = line;
			cp.ext[cp.n_ext].len = n;
			cp.n_ext++;
			break;
		}
	}
	if (nline < 3)
		return VT_ERR_INVALID;
	*out = cp;
	return 0;
}

int
checkpoint_open(const char *note, size_t len, const struct note_verifier *const *verifiers,
    size_t n, struct checkpoint *out)
{
	size_t text_len;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = note_verify(note, len, verifiers, n, &text_len, NULL)) != 0)
		return r;
	return checkpoint_parse(note, text_len, out);
}
