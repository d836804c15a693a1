/*
 * Password hashing with argon2id (libsodium crypto_pwhash, PHC string format, random salt).
 * Unknown accounts are verified against a dummy hash so login timing does not reveal whether an
 * e-mail has an account.
 */
#ifndef VT_AUTH_PASSWORD_H
#define VT_AUTH_PASSWORD_H

#include <stddef.h>

#include "base/util.h"

#define PASSWORD_MIN_LEN 12     /* bytes */
#define PASSWORD_MAX_LEN 1024   /* bytes; longer input is refused before hashing (DoS) */
#define PASSWORD_HASH_MAX 128   /* bytes of the encoded hash string, with NUL */

/* Computes the dummy hash used by password_verify_dummy(). Call once at start. */
int password_init(void) VT_WUR;
/* VT_ERR_VALIDATION (with reason in err) if the password does not meet the policy. */
int password_check_policy(const char *pw, size_t len, char *err, size_t errsz) VT_WUR;
/* argon2id hash of pw into out. VT_ERR_NOMEM if the memory cost cannot be met. */
int password_hash(const char *pw, size_t len, char out[static PASSWORD_HASH_MAX]) VT_WUR;
/* 0 if pw matches hash, VT_ERR_VERIFY otherwise (including malformed hashes). */
int password_verify(const char *hash, const char *pw, size_t len) VT_WUR;
/* Spends the same time as a real verification and always fails. */
void password_verify_dummy(const char *pw, size_t len);

#endif
