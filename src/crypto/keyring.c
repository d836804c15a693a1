/*
 * Master key versions in guarded memory. Wrapping is AES-256-GCM with a random nonce; the caller's
 * AAD binds the wrapped DEK to its record so it cannot be moved to another row or tenant.
 */
#include "crypto/keyring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <sodium.h>

#include "base/err.h"
#include "crypto/hash.h"

struct keyring_key {
	uint32_t version;
	struct secmem *key;
};

struct keyring {
	struct keyring_key keys[KEYRING_MAX_VERSIONS];
	size_t nkeys;
	uint32_t current;
};

int
keyring_new_local(struct secmem *master, uint32_t version, struct keyring **out)
{
	struct keyring *k;

	*out = NULL;
	if (master == NULL || secmem_len(master) != KEYRING_DEK_LEN || version == 0) {
		secmem_free(master);
		return VT_ERR_CONFIG;
	}
	k = xcalloc(1, sizeof(*k));
	k->keys[0].version = version;
	k->keys[0].key = master;
	k->nkeys = 1;
	k->current = version;
	*out = k;
	return 0;
}

void
keyring_free(struct keyring *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->nkeys; i++)
		secmem_free(k->keys[i].key);
	free(k);
}

uint32_t
keyring_current_version(const struct keyring *k)
{
	return k->current;
}

static const struct secmem *
keyring_find(const struct keyring *k, uint32_t version)
{
	size_t i;

	for (i = 0; i < k->nkeys; i++)
		if (k->keys[i].version == version)
			return k->keys[i].key;
	return NULL;
}

int
keyring_wrap(const struct keyring *k, const uint8_t *aad, size_t aadlen,
    const uint8_t dek[static KEYRING_DEK_LEN], uint32_t *version,
    uint8_t out[static KEYRING_WRAPPED_LEN])
{
	const struct secmem *mk = keyring_find(k, k->current);
	int r;

	*version = 0;
	if (mk == NULL)
		return VT_ERR_INTERNAL;
	random_bytes(out, AEAD_NONCE_LEN);
	if ((r = aead_seal(secmem_ptr(mk), out, aad, aadlen, dek, KEYRING_DEK_LEN,
	    out + AEAD_NONCE_LEN, out + AEAD_NONCE_LEN + KEYRING_DEK_LEN)) != 0) {
		sodium_memzero(out, KEYRING_WRAPPED_LEN);
		return r;
	}
	*version = k->current;
	return 0;
}

int
keyring_unwrap(const struct keyring *k, uint32_t version, const uint8_t *aad, size_t aadlen,
    const uint8_t wrapped[static KEYRING_WRAPPED_LEN], struct secmem **dek)
{
	const struct secmem *mk = keyring_find(k, version);
	struct secmem *d = NULL;
	int r;

	*dek = NULL;
	if (mk == NULL)
		return VT_ERR_CRYPTO;
	if ((d = secmem_new(KEYRING_DEK_LEN)) == NULL)
		return VT_ERR_NOMEM;
	if ((r = aead_open(secmem_ptr(mk), wrapped, aad, aadlen, wrapped + AEAD_NONCE_LEN,
	    KEYRING_DEK_LEN, wrapped + AEAD_NONCE_LEN + KEYRING_DEK_LEN, secmem_ptr(d))) != 0) {
		secmem_free(d);
		return VT_ERR_CRYPTO;
	}
	*dek = d;
	return 0;
}

int
keyring_derive(const struct keyring *k, const char *purpose, struct secmem **out)
{
	const struct secmem *mk = keyring_find(k, k->current);
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4];
	struct secmem *d = NULL;
	char info[128];
	int r = VT_ERR_CRYPTO, n;

	*out = NULL;
	n = snprintf(info, sizeof(info), "vaultterm/%s", purpose);
	if (mk == NULL || n < 0 || (size_t)n >= sizeof(info))
		return VT_ERR_INTERNAL;
	if ((d = secmem_new(32)) == NULL)
		return VT_ERR_NOMEM;
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secmem_ptr(mk),
	    secmem_len(mk));
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, (size_t)n);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, secmem_ptr(d), secmem_len(d), params) != 1)
		goto out;
	*out = d;
	d = NULL;
	r = 0;
 out:
	secmem_free(d);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return r;
}
