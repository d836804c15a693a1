/*
 * The keyring holds the master key versions in guarded memory and exposes only wrap/unwrap of
 * data keys: callers never see master key bytes. Providers load the master key at boot: `local`
 * from DEV_MASTER_KEY (dev and tests). The provider interface leaves room for `hcv-transit` and the
 * license-bound unlock, which are not implemented yet and are refused at boot with a clear line.
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
/* A wrapped DEK: nonce ‖ AES-256-GCM(DEK) ‖ tag. */
#define KEYRING_WRAPPED_LEN (AEAD_NONCE_LEN + KEYRING_DEK_LEN + AEAD_TAG_LEN)

struct keyring;

/* New keyring owning `master` (32 bytes, taken even on failure) as version `version` (≥ 1). */
int keyring_new_local(struct secmem *master, uint32_t version, struct keyring **out) VT_WUR;
/* Wipes every key and frees; NULL-safe. */
void keyring_free(struct keyring *k);

/* The version new wraps use. */
uint32_t keyring_current_version(const struct keyring *k);

/* Wraps a 32-byte DEK under the current master version; the version is also written to *version. */
int keyring_wrap(const struct keyring *k, const uint8_t *aad, size_t aadlen,
    const uint8_t dek[static KEYRING_DEK_LEN], uint32_t *version,
    uint8_t out[static KEYRING_WRAPPED_LEN]) VT_WUR;

/* Unwraps into new guarded memory (owned by the caller). VT_ERR_CRYPTO on any failure. */
int keyring_unwrap(const struct keyring *k, uint32_t version, const uint8_t *aad, size_t aadlen,
    const uint8_t wrapped[static KEYRING_WRAPPED_LEN], struct secmem **dek) VT_WUR;

/*
 * Derives a 32-byte purpose-specific key from the current master version with HKDF-SHA256
 * (info = "vaultterm/" ‖ purpose). Used for keys that must be stable across restarts but never
 * stored, e.g. the MAC key of the license counter. Owned by the caller.
 */
int keyring_derive(const struct keyring *k, const char *purpose, struct secmem **out) VT_WUR;

#endif
