/*
 * Envelope v1:
 *   "VTEN" | u8 format=1 | u32 master_key_version | wrapped DEK (nonce12 ‖ ct32 ‖ tag16)
 *   | data nonce12 | u32 ct_len | ct | tag16
 * AAD = "vaultterm/envelope/v1" ‖ 0x00 ‖ layer ('K' wrap, 'D' data) ‖ org16 ‖ u32 len ‖ kind
 *       ‖ record16 ‖ u32 version [‖ u32 master_key_version, 'K' layer only]
 * The master key version binds only the wrapped DEK, so rotation re-wraps the DEK without touching
 * the data ciphertext. The DEK lives only in guarded memory and is wiped before return.
 */
#include "crypto/envelope.h"

#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "crypto/hash.h"

static const uint8_t MAGIC[4] = { 'V', 'T', 'E', 'N' };
#define AAD_MAX (32 + 1 + 16 + 4 + ENVELOPE_KIND_MAX + 16 + 4 + 4)

static int
build_aad(const struct envelope_ctx *ctx, char layer, uint32_t mkv, uint8_t *aad, size_t *aadlen)
{
	static const char label[] = "vaultterm/envelope/v1";
	size_t kl, o = 0;
	int i;

	*aadlen = 0;
	if (ctx->kind == NULL || (kl = strlen(ctx->kind)) == 0 || kl > ENVELOPE_KIND_MAX)
		return VT_ERR_INTERNAL;
	memcpy(aad + o, label, sizeof(label)); /* includes the NUL separator */
	o += sizeof(label);
	aad[o++] = (uint8_t)layer;
	memcpy(aad + o, ctx->org.b, 16);
	o += 16;
	for (i = 0; i < 4; i++)
		aad[o++] = (uint8_t)(kl >> (24 - 8 * i));
	memcpy(aad + o, ctx->kind, kl);
	o += kl;
	memcpy(aad + o, ctx->record.b, 16);
	o += 16;
	for (i = 0; i < 4; i++)
		aad[o++] = (uint8_t)(ctx->version >> (24 - 8 * i));
	if (layer == 'K')
		for (i = 0; i < 4; i++)
			aad[o++] = (uint8_t)(mkv >> (24 - 8 * i));
	*aadlen = o;
	return 0;
}

int
envelope_seal(const struct keyring *k, const struct envelope_ctx *ctx, const uint8_t *pt,
    size_t ptlen, struct vbuf *out)
{
	uint8_t aad[AAD_MAX], wrapped[KEYRING_WRAPPED_LEN], nonce[AEAD_NONCE_LEN];
	uint8_t *ct, *tag;
	struct secmem *dek = NULL;
	size_t aadlen;
	uint32_t mkv = keyring_current_version(k);
	int r;

	if (ptlen > ENVELOPE_PLAINTEXT_MAX)
		return VT_ERR_TOO_LARGE;
	if ((dek = secmem_new(KEYRING_DEK_LEN)) == NULL)
		return VT_ERR_NOMEM;
	random_bytes(secmem_ptr(dek), KEYRING_DEK_LEN);
	if ((r = build_aad(ctx, 'K', mkv, aad, &aadlen)) != 0)
		goto out;
	if ((r = keyring_wrap(k, mkv, aad, aadlen, secmem_ptr(dek), wrapped)) != 0)
		goto out;
	if ((r = build_aad(ctx, 'D', mkv, aad, &aadlen)) != 0)
		goto out;
	random_bytes(nonce, sizeof(nonce));
	if ((r = vbuf_put(out, MAGIC, sizeof(MAGIC))) != 0 ||
	    (r = vbuf_put_u8(out, ENVELOPE_FORMAT_V1)) != 0 || (r = vbuf_put_u32(out, mkv)) != 0 ||
	    (r = vbuf_put(out, wrapped, sizeof(wrapped))) != 0 ||
	    (r = vbuf_put(out, nonce, sizeof(nonce))) != 0 ||
	    (r = vbuf_put_u32(out, (uint32_t)ptlen)) != 0 ||
	    (r = vbuf_reserve(out, ptlen + AEAD_TAG_LEN, &ct)) != 0)
		goto out;
	/*
	 * One reservation for ct and tag: a second one may grow (move) the buffer and leave ct
	 * pointing into freed memory. No further growth happens before use.
	 */
	tag = ct + ptlen;
	r = aead_seal(secmem_ptr(dek), nonce, aad, aadlen, pt, ptlen, ct, tag);
 out:
	secmem_free(dek);
	return r;
}

struct envelope_parts {
	uint32_t mkv;
	const uint8_t *wrapped;
	const uint8_t *nonce;
	const uint8_t *ct;
	size_t ctlen;
	const uint8_t *tag;
};

static int
envelope_parse(const uint8_t *blob, size_t bloblen, struct envelope_parts *p)
{
	struct vbuf *b = vbuf_view(blob, bloblen);
	const uint8_t *magic;
	uint8_t fmt;
	uint32_t ctlen;
	int r = VT_ERR_INVALID;

	memset(p, 0, sizeof(*p));
	if (vbuf_get_ptr(b, 4, &magic) != 0 || memcmp(magic, MAGIC, 4) != 0 || /* checksrc:ok public */
	    vbuf_get_u8(b, &fmt) != 0 || fmt != ENVELOPE_FORMAT_V1 ||
	    vbuf_get_u32(b, &p->mkv) != 0 ||
	    vbuf_get_ptr(b, KEYRING_WRAPPED_LEN, &p->wrapped) != 0 ||
	    vbuf_get_ptr(b, AEAD_NONCE_LEN, &p->nonce) != 0 || vbuf_get_u32(b, &ctlen) != 0 ||
	    ctlen > ENVELOPE_PLAINTEXT_MAX || vbuf_get_ptr(b, ctlen, &p->ct) != 0 ||
	    vbuf_get_ptr(b, AEAD_TAG_LEN, &p->tag) != 0 || vbuf_expect_end(b) != 0)
		goto out;
	p->ctlen = ctlen;
	r = 0;
 out:
	vbuf_free(b);
	return r;
}

int
envelope_key_version(const uint8_t *blob, size_t bloblen, uint32_t *version)
{
	struct envelope_parts p;
	int r;

	*version = 0;
	if ((r = envelope_parse(blob, bloblen, &p)) != 0)
		return r;
	*version = p.mkv;
	return 0;
}

int
envelope_rewrap(const struct keyring *k, const struct envelope_ctx *ctx, uint8_t *blob,
    size_t bloblen, uint32_t *new_version)
{
	struct envelope_parts p;
	struct secmem *dek = NULL;
	uint8_t aad[AAD_MAX], wrapped[KEYRING_WRAPPED_LEN];
	uint32_t mkv = keyring_current_version(k);
	size_t aadlen;
	int r, i;

	*new_version = 0;
	if (envelope_parse(blob, bloblen, &p) != 0)
		return VT_ERR_CRYPTO;
	if (p.mkv == mkv) {
		*new_version = mkv;
		return 0;
	}
	if ((r = build_aad(ctx, 'K', p.mkv, aad, &aadlen)) != 0)
		return r;
	if (keyring_unwrap(k, p.mkv, aad, aadlen, p.wrapped, &dek) != 0)
		return VT_ERR_CRYPTO;
	if ((r = build_aad(ctx, 'K', mkv, aad, &aadlen)) != 0 ||
	    (r = keyring_wrap(k, mkv, aad, aadlen, secmem_ptr(dek), wrapped)) != 0)
		goto out;
	/* In place: the version field and the wrapped DEK; the data ciphertext is untouched. */
	for (i = 0; i < 4; i++)
		blob[5 + i] = (uint8_t)(mkv >> (24 - 8 * i));
	memcpy(blob + 9, wrapped, sizeof(wrapped));
	*new_version = mkv;
	r = 0;
 out:
	secmem_free(dek);
	sodium_memzero(wrapped, sizeof(wrapped));
	return r;
}

int
envelope_open(const struct keyring *k, const struct envelope_ctx *ctx, const uint8_t *blob,
    size_t bloblen, struct secmem **pt)
{
	struct envelope_parts p;
	struct secmem *dek = NULL, *out = NULL;
	uint8_t aad[AAD_MAX];
	size_t aadlen;
	int r;

	*pt = NULL;
	if (envelope_parse(blob, bloblen, &p) != 0)
		return VT_ERR_CRYPTO;
	if ((r = build_aad(ctx, 'K', p.mkv, aad, &aadlen)) != 0)
		return r;
	if ((r = keyring_unwrap(k, p.mkv, aad, aadlen, p.wrapped, &dek)) != 0)
		goto out;
	if ((r = build_aad(ctx, 'D', p.mkv, aad, &aadlen)) != 0)
		goto out;
	if ((out = secmem_new(p.ctlen)) == NULL) {
		r = VT_ERR_NOMEM;
		goto out;
	}
	if (aead_open(secmem_ptr(dek), p.nonce, aad, aadlen, p.ct, p.ctlen, p.tag,
	    secmem_ptr(out)) != 0) {
		r = VT_ERR_CRYPTO;
		goto out;
	}
	*pt = out;
	out = NULL;
	r = 0;
 out:
	secmem_free(out);
	secmem_free(dek);
	return r;
}
