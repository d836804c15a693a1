/*
 * RFC 4226 dynamic truncation over OpenSSL HMAC. Verification computes every candidate in the
 * window and compares each against the submitted code in constant time, so timing does not reveal
 * which counter (if any) matched.
 */
#include "crypto/totp.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"

static const uint32_t POW10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
	100000000 };

int
hotp_code(enum hmac_alg alg, const uint8_t *key, size_t keylen, uint64_t counter, int digits,
    uint32_t *code)
{
	uint8_t msg[8], mac[HMAC_MAX_LEN];
	size_t maclen, off;
	uint32_t bin;
	int i, r;

	*code = 0;
	if (digits < 6 || digits > TOTP_CODE_MAX || keylen == 0 || keylen > TOTP_SECRET_MAX)
		return VT_ERR_VALIDATION;
	for (i = 0; i < 8; i++)
		msg[i] = (uint8_t)(counter >> (56 - 8 * i));
	if ((r = hmac_compute(alg, key, keylen, msg, sizeof(msg), mac, &maclen)) != 0)
		return r;
	off = mac[maclen - 1] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	    ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
	*code = bin % POW10[digits];
	sodium_memzero(mac, sizeof(mac));
	return 0;
}

uint64_t
totp_counter(int64_t unix_time, int period)
{
	VT_ASSERT(period > 0);
	if (unix_time < 0)
		return 0;
	return (uint64_t)unix_time / (uint64_t)period;
}

static void
format_code(uint32_t v, int digits, char out[static TOTP_CODE_MAX + 1])
{
	snprintf(out, TOTP_CODE_MAX + 1, "%0*u", digits, v);
}

int
totp_code_str(enum hmac_alg alg, const uint8_t *key, size_t keylen, int64_t unix_time, int period,
    int digits, char out[static TOTP_CODE_MAX + 1])
{
	uint32_t v;
	int r;

	out[0] = '\0';
	if (period < 1 || period > 3600)
		return VT_ERR_VALIDATION;
	if ((r = hotp_code(alg, key, keylen, totp_counter(unix_time, period), digits, &v)) != 0)
		return r;
	format_code(v, digits, out);
	return 0;
}

int
totp_verify(enum hmac_alg alg, const uint8_t *key, size_t keylen, int64_t unix_time, int period,
    int digits, int window, uint64_t min_counter, const char *code, uint64_t *matched)
{
	char cand[TOTP_CODE_MAX + 1];
	uint64_t now, c, found = 0;
	int ok = 0, r, d;
	uint32_t v;

	*matched = 0;
	if (period < 1 || period > 3600 || window < 0 || window > 10)
		return VT_ERR_VALIDATION;
	if (code == NULL || strlen(code) != (size_t)digits)
		return VT_ERR_VERIFY;
	now = totp_counter(unix_time, period);
	for (d = -window; d <= window; d++) {
		if (d < 0 && now < (uint64_t)-d)
			continue;
		c = now + (uint64_t)(int64_t)d;
		if ((r = hotp_code(alg, key, keylen, c, digits, &v)) != 0)
			return r;
		format_code(v, digits, cand);
		if (sodium_memcmp(cand, code, (size_t)digits) == 0 && c > min_counter) {
			ok = 1;
			found = c;
		}
	}
	sodium_memzero(cand, sizeof(cand));
	if (!ok)
		return VT_ERR_VERIFY;
	*matched = found;
	return 0;
}
