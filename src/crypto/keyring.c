/*
 * Master key versions in guarded memory behind a read-write lock (rotation adds versions while
 * requests wrap and unwrap). Wrapping is AES-256-GCM with a random nonce; the caller's AAD binds a
 * wrapped DEK to its record so it cannot be moved to another row or tenant. Stored master key
 * versions are wrapped under the root with AAD "vaultterm/master-key/v1" ‖ u32 version.
 */
#include "crypto/keyring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>

#include "base/err.h"
#include "crypto/hash.h"

struct keyring_key {
	uint32_t version;
	struct secmem *key;
};

struct keyring {
	pthread_rwlock_t lock;
	struct keyring_key keys[KEYRING_MAX_VERSIONS];
	size_t nkeys;
	uint32_t current;
	uint32_t root_version;
	struct secmem *root; /* also keys[0].key; not freed separately */
};

int
keyring_new_local(struct secmem *root, uint32_t version, struct keyring **out)
{
	struct keyring *k;

	*out = NULL;
	if (root == NULL || secmem_len(root) != KEYRING_DEK_LEN || version == 0) {
		secmem_free(root);
		return VT_ERR_CONFIG;
	}
	k = xcalloc(1, sizeof(*k));
	pthread_rwlock_init(&k->lock, NULL);
	k->keys[0].version = version;
	k->keys[0].key = root;
	k->nkeys = 1;
	k->current = version;
	k->root_version = version;
	k->root = root;
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
	pthread_rwlock_destroy(&k->lock);
	free(k);
}

uint32_t
keyring_current_version(const struct keyring *k)
{
	struct keyring *m = (struct keyring *)k;
	uint32_t v;

	pthread_rwlock_rdlock(&m->lock);
	v = m->current;
	pthread_rwlock_unlock(&m->lock);
	return v;
}

/* Caller holds the lock. */
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
keyring_has_version(const struct keyring *k, uint32_t version)
{
	struct keyring *m = (struct keyring *)k;
	int has;

	pthread_rwlock_rdlock(&m->lock);
	has = keyring_find(m, version) != NULL;
	pthread_rwlock_unlock(&m->lock);
	return has;
}

int
keyring_wrap(const struct keyring *k, uint32_t version, const uint8_t *aad, size_t aadlen,
    const uint8_t dek[static KEYRING_DEK_LEN], uint8_t out[static KEYRING_WRAPPED_LEN])
{
	struct keyring *m = (struct keyring *)k;
	const struct secmem *mk;
	int r;

	random_bytes(out, AEAD_NONCE_LEN);
	pthread_rwlock_rdlock(&m->lock);
	if ((mk = keyring_find(m, version)) == NULL) {
		pthread_rwlock_unlock(&m->lock);
		sodium_memzero(out, KEYRING_WRAPPED_LEN);
		return VT_ERR_INTERNAL;
	}
	r = aead_seal(secmem_ptr(mk), out, aad, aadlen, dek, KEYRING_DEK_LEN,
	    out + AEAD_NONCE_LEN, out + AEAD_NONCE_LEN + KEYRING_DEK_LEN);
	pthread_rwlock_unlock(&m->lock);
	if (r != 0)
		sodium_memzero(out, KEYRING_WRAPPED_LEN);
	return r;
}

int
keyring_unwrap(const struct keyring *k, uint32_t version, const uint8_t *aad, size_t aadlen,
    const uint8_t wrapped[static KEYRING_WRAPPED_LEN], struct secmem **dek)
{
	struct keyring *m = (struct keyring *)k;
	const struct secmem *mk;
	struct secmem *d = NULL;
	int r;

	*dek = NULL;
	if ((d = secmem_new(KEYRING_DEK_LEN)) == NULL)
		return VT_ERR_NOMEM;
	pthread_rwlock_rdlock(&m->lock);
	mk = keyring_find(m, version);
	r = mk == NULL ? VT_ERR_CRYPTO :
	    aead_open(secmem_ptr(mk), wrapped, aad, aadlen, wrapped + AEAD_NONCE_LEN,
		KEYRING_DEK_LEN, wrapped + AEAD_NONCE_LEN + KEYRING_DEK_LEN, secmem_ptr(d));
	pthread_rwlock_unlock(&m->lock);
	if (r != 0) {
		secmem_free(d);
		return VT_ERR_CRYPTO;
	}
	*dek = d;
	return 0;
}

static void
version_aad(uint32_t version, uint8_t aad[static 28])
{
	static const char label[] = "vaultterm/master-key/v1"; /* 23 bytes + NUL */
	int i;

	memcpy(aad, label, sizeof(label));
	for (i = 0; i < 4; i++)
		aad[sizeof(label) + (size_t)i] = (uint8_t)(version >> (24 - 8 * i));
}

/* Adds key (taken) as version; caller holds the write lock. */
static int
add_locked(struct keyring *k, uint32_t version, struct secmem *key)
{
	if (k->nkeys >= KEYRING_MAX_VERSIONS) {
		secmem_free(key);
		return VT_ERR_TOO_LARGE;
	}
	k->keys[k->nkeys].version = version;
	k->keys[k->nkeys].key = key;
	k->nkeys++;
	if (version > k->current)
		k->current = version;
	return 0;
}

int
keyring_generate_version(struct keyring *k, uint32_t version,
    uint8_t wrapped[static KEYRING_WRAPPED_LEN])
{
	struct secmem *key = secmem_new(KEYRING_DEK_LEN);
	uint8_t aad[28];
	int r;

	if (key == NULL)
		return VT_ERR_NOMEM;
	random_bytes(secmem_ptr(key), KEYRING_DEK_LEN);
	version_aad(version, aad);
	random_bytes(wrapped, AEAD_NONCE_LEN);
	pthread_rwlock_wrlock(&k->lock);
	if (version <= k->current) {
		r = VT_ERR_CONFLICT;
		goto out;
	}
	if ((r = aead_seal(secmem_ptr(k->root), wrapped, aad, sizeof(aad), secmem_ptr(key),
	    KEYRING_DEK_LEN, wrapped + AEAD_NONCE_LEN,
	    wrapped + AEAD_NONCE_LEN + KEYRING_DEK_LEN)) != 0)
		goto out;
	r = add_locked(k, version, key);
	key = NULL;
 out:
	pthread_rwlock_unlock(&k->lock);
	secmem_free(key);
	if (r != 0)
		sodium_memzero(wrapped, KEYRING_WRAPPED_LEN);
	return r;
}

int
keyring_load_version(struct keyring *k, uint32_t version,
    const uint8_t wrapped[static KEYRING_WRAPPED_LEN])
{
	struct secmem *key = secmem_new(KEYRING_DEK_LEN);
	uint8_t aad[28];
	int r;

	if (key == NULL)
		return VT_ERR_NOMEM;
	version_aad(version, aad);
	pthread_rwlock_wrlock(&k->lock);
	if (keyring_find(k, version) != NULL) {
		r = 0;
		goto out;
	}
	if (version == 0 || aead_open(secmem_ptr(k->root), wrapped, aad, sizeof(aad),
	    wrapped + AEAD_NONCE_LEN, KEYRING_DEK_LEN, wrapped + AEAD_NONCE_LEN + KEYRING_DEK_LEN,
	    secmem_ptr(key)) != 0) {
		r = VT_ERR_CRYPTO;
		goto out;
	}
	r = add_locked(k, version, key);
	key = NULL;
 out:
	pthread_rwlock_unlock(&k->lock);
	secmem_free(key);
	return r;
}

int
keyring_derive(const struct keyring *k, const char *purpose, struct secmem **out)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4];
	struct secmem *d = NULL;
	char info[128];
	int r = VT_ERR_CRYPTO, n;

	*out = NULL;
	n = snprintf(info, sizeof(info), "vaultterm/%s", purpose);
	if (n < 0 || (size_t)n >= sizeof(info))
		return VT_ERR_INTERNAL;
	if ((d = secmem_new(32)) == NULL)
		return VT_ERR_NOMEM;
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	/* The root never changes for a deployment, so derived keys survive rotation. */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secmem_ptr(k->root),
	    secmem_len(k->root));
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
