/*
 * Hashes, MACs and randomness on OpenSSL 3 and libsodium: SHA-256, HMAC (SHA-1/256/512), and
 * cryptographically secure random bytes. No primitive is implemented here.
 */
#ifndef VT_CRYPTO_HASH_H
#define VT_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define HASH_SHA256_LEN 32
#define HMAC_MAX_LEN 64

enum hmac_alg {
	HMAC_SHA1 = 1,
	HMAC_SHA256 = 2,
	HMAC_SHA512 = 3,
};

void hash_sha256(const void *data, size_t len, uint8_t out[static HASH_SHA256_LEN]);
/* HMAC of data under key; *outlen receives 20, 32 or 64. VT_ERR_CRYPTO on failure. */
int hmac_compute(enum hmac_alg alg, const uint8_t *key, size_t keylen, const void *data,
    size_t len, uint8_t out[static HMAC_MAX_LEN], size_t *outlen) VT_WUR;
/* n random bytes from the OS CSPRNG (libsodium randombytes). */
void random_bytes(void *buf, size_t n);

/*
 * A bearer secret shown once and stored only hashed (API tokens, invite tokens, broker
 * tickets): `prefix` followed by the unpadded base64url of 32 random bytes, NUL-terminated into
 * out (outsz must hold strlen(prefix) + 44), and its SHA-256 into h. Returns its length.
 */
#define BEARER_RANDOM_LEN 32
#define BEARER_B64_LEN 43
size_t bearer_token_new(const char *prefix, char *out, size_t outsz,
    uint8_t h[static HASH_SHA256_LEN]);

#endif
