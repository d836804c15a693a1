/*
 * AES-256-GCM (OpenSSL EVP) with a 96-bit random nonce and a 128-bit tag. The only AEAD the
 * envelope format uses. Failures to open return one generic VT_ERR_CRYPTO.
 */
#ifndef VT_CRYPTO_AEAD_H
#define VT_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define AEAD_KEY_LEN 32
#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN 16

/* Encrypts len bytes of pt into ct (same length) and writes tag. nonce is caller-chosen (random). */
int aead_seal(const uint8_t key[static AEAD_KEY_LEN], const uint8_t nonce[static AEAD_NONCE_LEN],
    const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t len, uint8_t *ct,
    uint8_t tag[static AEAD_TAG_LEN]) VT_WUR;
/* Decrypts and authenticates; on failure pt is wiped and VT_ERR_CRYPTO returned. */
int aead_open(const uint8_t key[static AEAD_KEY_LEN], const uint8_t nonce[static AEAD_NONCE_LEN],
    const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t len,
    const uint8_t tag[static AEAD_TAG_LEN], uint8_t *pt) VT_WUR;

#endif
