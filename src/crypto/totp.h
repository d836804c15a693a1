/*
 * HOTP/TOTP (RFC 4226 / RFC 6238) with SHA-1, SHA-256 and SHA-512, 6-8 digits, and a verifier that
 * accepts a small clock-skew window, compares in constant time and reports the matched counter so
 * callers can refuse a replayed code.
 */
#ifndef VT_CRYPTO_TOTP_H
#define VT_CRYPTO_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "crypto/hash.h"

#define TOTP_SECRET_LEN 20     /* bytes of a generated seed (160 bits, RFC 4226 §4) */
#define TOTP_SECRET_MAX 128    /* longest seed accepted */
#define TOTP_DEFAULT_PERIOD 30
#define TOTP_DEFAULT_DIGITS 6
#define TOTP_CODE_MAX 8        /* digits */

/* HOTP value for counter: digits in [6, 8]. VT_ERR_VALIDATION on bad parameters. */
int hotp_code(enum hmac_alg alg, const uint8_t *key, size_t keylen, uint64_t counter, int digits,
    uint32_t *code) VT_WUR;

/* TOTP counter for a Unix time. */
uint64_t totp_counter(int64_t unix_time, int period);

/* Code at unix_time, formatted with leading zeros into out[TOTP_CODE_MAX + 1]. */
int totp_code_str(enum hmac_alg alg, const uint8_t *key, size_t keylen, int64_t unix_time,
    int period, int digits, char out[static TOTP_CODE_MAX + 1]) VT_WUR;

/*
 * Verifies code against counters within ±window of now's counter, all compared in constant time.
 * Counters ≤ min_counter are refused (replay). Returns 0 and the matched counter, or VT_ERR_VERIFY.
 */
int totp_verify(enum hmac_alg alg, const uint8_t *key, size_t keylen, int64_t unix_time,
    int period, int digits, int window, uint64_t min_counter, const char *code,
    uint64_t *matched) VT_WUR;

#endif
