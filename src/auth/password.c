/*
 * argon2id via libsodium. Parameters are libsodium's INTERACTIVE profile (t=2, m=64 MiB), above
 * OWASP's minimum for argon2id; the parameters are stored in each hash so they can be raised later.
 */
#include "auth/password.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"

#define PW_OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PW_MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

static char dummy_hash[PASSWORD_HASH_MAX];

int
password_init(void)
{
	uint8_t rnd[32];
	char pw[65];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(pw, sizeof(pw), rnd, sizeof(rnd));
	sodium_memzero(rnd, sizeof(rnd));
	return password_hash(pw, strlen(pw), dummy_hash);
}

int
password_check_policy(const char *pw, size_t len, char *err, size_t errsz)
{
	if (len < PASSWORD_MIN_LEN) {
		snprintf(err, errsz, "field 'password': must be at least %d characters",
		    PASSWORD_MIN_LEN);
		return VT_ERR_VALIDATION;
	}
	if (len > PASSWORD_MAX_LEN) {
		snprintf(err, errsz, "field 'password': must be at most %d bytes", PASSWORD_MAX_LEN);
		return VT_ERR_VALIDATION;
	}
	if (memchr(pw, '\0', len) != NULL) {
		snprintf(err, errsz, "field 'password': must not contain NUL");
		return VT_ERR_VALIDATION;
	}
	return 0;
}

int
password_hash(const char *pw, size_t len, char out[static PASSWORD_HASH_MAX])
{
	VT_ASSERT(crypto_pwhash_STRBYTES <= PASSWORD_HASH_MAX);
	if (len > PASSWORD_MAX_LEN)
		return VT_ERR_VALIDATION;
	if (crypto_pwhash_str_alg(out, pw, len, PW_OPSLIMIT, PW_MEMLIMIT,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return VT_ERR_NOMEM;
	return 0;
}

int
password_verify(const char *hash, const char *pw, size_t len)
{
	if (hash == NULL || len > PASSWORD_MAX_LEN ||
	    strnlen(hash, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX)
		return VT_ERR_VERIFY;
	if (strncmp(hash, "$argon2id$", 10) != 0)
		return VT_ERR_VERIFY;
	return crypto_pwhash_str_verify(hash, pw, len) == 0 ? 0 : VT_ERR_VERIFY;
}

void
password_verify_dummy(const char *pw, size_t len)
{
	if (dummy_hash[0] != '\0' && len <= PASSWORD_MAX_LEN)
		if (crypto_pwhash_str_verify(dummy_hash, pw, len) == 0)
			VT_ASSERT(0); /* a random password never matches */
}
