/*
 * Thin wrappers over OpenSSL's SHA-256/HMAC and libsodium's CSPRNG.
 */
#include "crypto/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "base/err.h"

void
hash_sha256(const void *data, size_t len, uint8_t out[static HASH_SHA256_LEN])
{
	VT_ASSERT(SHA256(data, len, out) != NULL);
}

int
hmac_compute(enum hmac_alg alg, const uint8_t *key, size_t keylen, const void *data, size_t len,
    uint8_t out[static HMAC_MAX_LEN], size_t *outlen)
{
	const EVP_MD *md;
	unsigned int n = 0;

	*outlen = 0;
	switch (alg) {
	case HMAC_SHA1:
		md = EVP_sha1();
		break;
	case HMAC_SHA256:
		md = EVP_sha256();
		break;
	case HMAC_SHA512:
		md = EVP_sha512();
		break;
	default:
		return VT_ERR_INTERNAL;
	}
	if (keylen > INT32_MAX || HMAC(md, key, (int)keylen, data, len, out, &n) == NULL)
		return VT_ERR_CRYPTO;
	*outlen = n;
	return 0;
}

void
random_bytes(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}
