/*
 * AES-256-GCM through OpenSSL's EVP interface. Lengths are bounded to INT_MAX because EVP takes
 * int lengths.
 */
#include "crypto/aead.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "base/err.h"

int
aead_seal(const uint8_t key[static AEAD_KEY_LEN], const uint8_t nonce[static AEAD_NONCE_LEN],
    const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t len, uint8_t *ct,
    uint8_t tag[static AEAD_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, r = VT_ERR_CRYPTO;

	if (len > INT_MAX || aadlen > INT_MAX)
		return VT_ERR_TOO_LARGE;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AEAD_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
		goto out;
	if (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		goto out;
	if (len > 0 && EVP_EncryptUpdate(ctx, ct, &n, pt, (int)len) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, tag) != 1)
		goto out;
	r = 0;
 out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
aead_open(const uint8_t key[static AEAD_KEY_LEN], const uint8_t nonce[static AEAD_NONCE_LEN],
    const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t len,
    const uint8_t tag[static AEAD_TAG_LEN], uint8_t *pt)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t tagcopy[AEAD_TAG_LEN];
	int n, r = VT_ERR_CRYPTO;

	if (len > INT_MAX || aadlen > INT_MAX)
		return VT_ERR_CRYPTO;
	memcpy(tagcopy, tag, AEAD_TAG_LEN);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AEAD_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
		goto out;
	if (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		goto out;
	if (len > 0 && EVP_DecryptUpdate(ctx, pt, &n, ct, (int)len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN, tagcopy) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + len, &n) != 1)
		goto out;
	r = 0;
 out:
	if (r != 0 && len > 0)
		sodium_memzero(pt, len);
	EVP_CIPHER_CTX_free(ctx);
	return r;
}
