/*
 * The keyring holds the master key versions in guarded memory and exposes only wrap/unwrap of
 * data keys: callers never see master key bytes.
 *
 * The provider's key (the `local` provider: DEV_MASTER_KEY) is the root and is master key
 * version `root_version` (1 in the server). Rotation adds versions: each is 32 random bytes,
 * stored in the database only wrapped under the root (keyring_seal_version), and loaded back with
 * keyring_load_version. New data keys are always wrapped under the newest version; old versions
 * stay loaded so older envelopes open until they are re-wrapped. `hcv-transit` and the
 * license-bound unlock are other ways to obtain the root; they are not implemented yet and are
 * refused at boot with a clear line. The keyring is safe to use from many threads.
 */
#ifndef VT_CRYPTO_KEYRING_H
#define VT_CRYPTO_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "base/secmem.h"
#include "base/util.h"
#include "crypto/aead.h"

#define KEYRING_DEK_LEN 32
#define KEYRING_MAX_VERSIONS 64
/* A wrapped DEK (or wrapped master key version): nonce ‖ AES-256-GCM(key) ‖ tag. */
#define KEYRING_WRAPPED_LEN (AEAD_NONCE_LEN + KEYRING_DEK_LEN + AEAD_TAG_LEN)

struct keyring;

/* New keyring owning `root` (32 bytes, taken even on failure) as version `version` (≥ 1). */
int keyring_new_local(struct secmem *root, uint32_t version, struct keyring **out) VT_WUR;
/* Wipes every key and frees; NULL-safe. */
void keyring_free(struct keyring *k);

/* The newest version: the one new data keys are wrapped under. */
uint32_t keyring_current_version(const struct keyring *k);
/* Whether a version is loaded. */
int keyring_has_version(const struct keyring *k, uint32_t version);

/* Wraps a 32-byte DEK under master key `version` (use keyring_current_version for new data). */
int keyring_wrap(const struct keyring *k, uint32_t version, const uint8_t *aad, size_t aadlen,
    const uint8_t dek[static KEYRING_DEK_LEN], uint8_t out[static KEYRING_WRAPPED_LEN]) VT_WUR;

/* Unwraps into new guarded memory (owned by the caller). VT_ERR_CRYPTO on any failure. */
int keyring_unwrap(const struct keyring *k, uint32_t version, const uint8_t *aad, size_t aadlen,
    const uint8_t wrapped[static KEYRING_WRAPPED_LEN], struct secmem **dek) VT_WUR;

/*
 * Rotation: generates master key `version` (must be newer than every loaded one), adds it to the
 * keyring, and writes it wrapped under the root to `wrapped` for storage. AAD binds the version.
 */
int keyring_generate_version(struct keyring *k, uint32_t version,
    uint8_t wrapped[static KEYRING_WRAPPED_LEN]) VT_WUR;
/*
 * Loads a stored version (wrapped under the root). Loading a version already present is a no-op.
 * VT_ERR_CRYPTO if it does not open under this root (another deployment's key, or tampering).
 */
int keyring_load_version(struct keyring *k, uint32_t version,
    const uint8_t wrapped[static KEYRING_WRAPPED_LEN]) VT_WUR;

/*
 * Derives a 32-byte purpose-specific key from the root with HKDF-SHA256 (info = "vaultterm/" ‖
 * purpose). Stable across restarts and rotations, never stored; e.g. the MAC key of the license
 * counter. Owned by the caller.
 */
int keyring_derive(const struct keyring *k, const char *purpose, struct secmem **out) VT_WUR;

#endif
