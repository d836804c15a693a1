/*
 * The envelope format: one record's bytes sealed with a fresh random 256-bit data key (DEK) under
 * AES-256-GCM, the DEK wrapped under the current master key version, both bound by AAD to the
 * record's place (org, kind, record id, version). Byte layout in docs/crypto.md. A blob copied to
 * another row, tenant, kind or version does not open.
 */
#ifndef VT_CRYPTO_ENVELOPE_H
#define VT_CRYPTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "base/encode.h"
#include "base/secmem.h"
#include "base/util.h"
#include "base/vbuf.h"
#include "crypto/keyring.h"

#define ENVELOPE_FORMAT_V1 1
#define ENVELOPE_KIND_MAX 64                /* bytes of a record kind name */
#define ENVELOPE_PLAINTEXT_MAX ((size_t)4 << 20) /* 4 MiB of plaintext per record */
#define ENVELOPE_OVERHEAD (4 + 1 + 4 + KEYRING_WRAPPED_LEN + AEAD_NONCE_LEN + 4 + AEAD_TAG_LEN)
/*
 * The kind of a recording chunk (broker/recorder.c seals them, broker/sessions.c opens them, the
 * master-key rotation in vault/keys.c re-wraps them): here, so that rotation does not depend on
 * the broker.
 */
#define ENVELOPE_KIND_RECORDING_CHUNK "recording_chunk"

/* Where a record lives; every field goes into the AAD. The nil org is for global records. */
struct envelope_ctx {
	struct vt_uuid org;
	const char *kind; /* e.g. "secret_version", "user_totp" */
	struct vt_uuid record;
	uint32_t version;
};

/* Seals plaintext into a new envelope appended to out. */
int envelope_seal(const struct keyring *k, const struct envelope_ctx *ctx, const uint8_t *pt,
    size_t ptlen, struct vbuf *out) VT_WUR;

/* Opens an envelope into new guarded memory owned by the caller. VT_ERR_CRYPTO on any failure. */
int envelope_open(const struct keyring *k, const struct envelope_ctx *ctx, const uint8_t *blob,
    size_t bloblen, struct secmem **pt) VT_WUR;

/*
 * Re-wraps the envelope's DEK under the keyring's current master key version, in place (the data
 * ciphertext is unchanged; the blob keeps its length). *new_version receives the version it is
 * now under. VT_ERR_CRYPTO if the envelope does not open for ctx.
 */
int envelope_rewrap(const struct keyring *k, const struct envelope_ctx *ctx, uint8_t *blob,
    size_t bloblen, uint32_t *new_version) VT_WUR;

/* The master key version an envelope was wrapped under (for rotation). VT_ERR_INVALID if malformed. */
int envelope_key_version(const uint8_t *blob, size_t bloblen, uint32_t *version) VT_WUR;

#endif
