/*
 * Unit tests for crypto/totp: the published RFC 4226 Appendix D HOTP values and RFC 6238
 * Appendix B TOTP values (SHA-1, SHA-256 and SHA-512 with their 20-, 32- and 64-byte seeds), and
 * the verifier's contract: a code is accepted only inside ±window of the current counter, only
 * for counters above min_counter (replay), only when it has exactly `digits` characters, and bad
 * parameters are refused rather than guessed at.
 */
#include "crypto/totp.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/secmem.h"

static const uint8_t SEED20[] = "12345678901234567890";
static const uint8_t SEED32[] = "12345678901234567890123456789012";
static const uint8_t SEED64[] =
    "1234567890123456789012345678901234567890123456789012345678901234";

/* The RFC seeds without the string literal's NUL. */
#define SEED20_LEN 20
#define SEED32_LEN 32
#define SEED64_LEN 64

static void
seed_for(enum hmac_alg alg, const uint8_t **key, size_t *keylen)
{
	switch (alg) {
	case HMAC_SHA1:
		*key = SEED20;
		*keylen = SEED20_LEN;
		return;
	case HMAC_SHA256:
		*key = SEED32;
		*keylen = SEED32_LEN;
		return;
	case HMAC_SHA512:
		*key = SEED64;
		*keylen = SEED64_LEN;
		return;
	}
	fail_msg("unknown algorithm %d", (int)alg);
}

/* The code for one counter as the verifier expects it: zero-padded to `digits`. */
static void
code_at_counter(enum hmac_alg alg, uint64_t counter, int digits, char out[TOTP_CODE_MAX + 1])
{
	const uint8_t *key;
	size_t keylen;
	uint32_t v;

	seed_for(alg, &key, &keylen);
	assert_int_equal(hotp_code(alg, key, keylen, counter, digits, &v), 0);
	snprintf(out, TOTP_CODE_MAX + 1, "%0*u", digits, v);
}

static void
test_hotp_rfc4226_appendix_d(void **state)
{
	static const uint32_t expect[10] = { 755224, 287082, 359152, 969429, 338314, 254676,
		287922, 162583, 399871, 520489 };
	uint32_t v;
	uint64_t c;

	for (c = 0; c < 10; c++) {
		v = 0xdeadbeef;
		assert_int_equal(hotp_code(HMAC_SHA1, SEED20, SEED20_LEN, c, 6, &v), 0);
		assert_int_equal(v, expect[c]);
	}
}

struct totp_vector {
	int64_t t;
	uint64_t counter; /* the "T (hex)" column of the RFC table */
	const char *sha1, *sha256, *sha512;
};

static const struct totp_vector RFC6238[] = {
	{ 59, 0x1, "94287082", "46119246", "90693936" },
	{ 1111111109, 0x23523EC, "07081804", "68084774", "25091201" },
	{ 1111111111, 0x23523ED, "14050471", "67062674", "99943326" },
	{ 1234567890, 0x273EF07, "89005924", "91819424", "93441116" },
	{ 2000000000, 0x3F940AA, "69279037", "90698825", "38618901" },
	{ 20000000000, 0x27BC86AA, "65353130", "77737706", "47863826" },
};

static void
test_totp_rfc6238_appendix_b(void **state)
{
	char out[TOTP_CODE_MAX + 1];
	size_t i;

	for (i = 0; i < VT_NELEM(RFC6238); i++) {
		const struct totp_vector *v = &RFC6238[i];

		assert_int_equal(totp_counter(v->t, 30), v->counter);
		assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, SEED20_LEN, v->t, 30, 8, out), 0);
		assert_string_equal(out, v->sha1);
		assert_int_equal(totp_code_str(HMAC_SHA256, SEED32, SEED32_LEN, v->t, 30, 8, out), 0);
		assert_string_equal(out, v->sha256);
		assert_int_equal(totp_code_str(HMAC_SHA512, SEED64, SEED64_LEN, v->t, 30, 8, out), 0);
		assert_string_equal(out, v->sha512);
	}
}

static void
test_totp_rfc6238_verify(void **state)
{
	static const enum hmac_alg algs[] = { HMAC_SHA1, HMAC_SHA256, HMAC_SHA512 };
	const uint8_t *key = NULL;
	size_t i, a, keylen = 0;
	uint64_t matched;

	for (i = 0; i < VT_NELEM(RFC6238); i++) {
		for (a = 0; a < VT_NELEM(algs); a++) {
			const char *code = algs[a] == HMAC_SHA1 ? RFC6238[i].sha1 :
			    algs[a] == HMAC_SHA256 ? RFC6238[i].sha256 : RFC6238[i].sha512;

			seed_for(algs[a], &key, &keylen);
			matched = 12345;
			assert_int_equal(totp_verify(algs[a], key, keylen, RFC6238[i].t, 30, 8, 0, 0,
			    code, &matched), 0);
			assert_int_equal(matched, RFC6238[i].counter);
		}
	}
}

/* The 6-digit code is the RFC's 8-digit code modulo 10^6, leading zeros kept. */
static void
test_totp_six_digits_leading_zero(void **state)
{
	char out[TOTP_CODE_MAX + 1];

	assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, SEED20_LEN, 1111111109, 30, 6, out), 0);
	assert_string_equal(out, "081804");
	assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, SEED20_LEN, 1234567890, 30, 6, out), 0);
	assert_string_equal(out, "005924");
	assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, SEED20_LEN, 1111111109, 30, 7, out), 0);
	assert_string_equal(out, "7081804");
}

static void
test_totp_counter(void **state)
{
	assert_int_equal(totp_counter(0, 30), 0);
	assert_int_equal(totp_counter(29, 30), 0);
	assert_int_equal(totp_counter(30, 30), 1);
	assert_int_equal(totp_counter(59, 30), 1);
	assert_int_equal(totp_counter(60, 30), 2);
	assert_int_equal(totp_counter(-1, 30), 0);
	assert_int_equal(totp_counter(INT64_MIN, 30), 0);
	assert_int_equal(totp_counter(INT64_MAX, 1), (uint64_t)INT64_MAX);
	assert_int_equal(totp_counter(1000, 60), 16);
}

static void
test_hotp_bad_parameters(void **state)
{
	uint8_t big[TOTP_SECRET_MAX + 1];
	uint32_t v;

	memset(big, 0x5a, sizeof(big));
	v = 1;
	assert_int_equal(hotp_code(HMAC_SHA1, SEED20, SEED20_LEN, 0, 5, &v), VT_ERR_VALIDATION);
	assert_int_equal(v, 0);
	v = 1;
	assert_int_equal(hotp_code(HMAC_SHA1, SEED20, SEED20_LEN, 0, 9, &v), VT_ERR_VALIDATION);
	assert_int_equal(v, 0);
	v = 1;
	assert_int_equal(hotp_code(HMAC_SHA1, SEED20, SEED20_LEN, 0, 0, &v), VT_ERR_VALIDATION);
	assert_int_equal(hotp_code(HMAC_SHA1, SEED20, SEED20_LEN, 0, -6, &v), VT_ERR_VALIDATION);
	assert_int_equal(hotp_code(HMAC_SHA1, SEED20, 0, 0, 6, &v), VT_ERR_VALIDATION);
	assert_int_equal(v, 0);
	assert_int_equal(hotp_code(HMAC_SHA1, big, sizeof(big), 0, 6, &v), VT_ERR_VALIDATION);
	assert_int_equal(v, 0);
	/* The longest accepted seed works. */
	assert_int_equal(hotp_code(HMAC_SHA1, big, TOTP_SECRET_MAX, 0, 6, &v), 0);
	assert_true(v < 1000000);
	/* An algorithm outside the enum is a programming error and fails closed. */
	v = 1;
	assert_int_equal(hotp_code((enum hmac_alg)0, SEED20, SEED20_LEN, 0, 6, &v),
	    VT_ERR_INTERNAL);
	assert_int_equal(v, 0);
}

static void
test_totp_code_str_bad_parameters(void **state)
{
	char out[TOTP_CODE_MAX + 1];

	memcpy(out, "xxxxxxxx", sizeof(out));
	assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, SEED20_LEN, 59, 0, 8, out),
	    VT_ERR_VALIDATION);
	assert_string_equal(out, "");
	assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, SEED20_LEN, 59, -30, 8, out),
	    VT_ERR_VALIDATION);
	assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, SEED20_LEN, 59, 3601, 8, out),
	    VT_ERR_VALIDATION);
	memcpy(out, "xxxxxxxx", sizeof(out));
	assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, SEED20_LEN, 59, 30, 9, out),
	    VT_ERR_VALIDATION);
	assert_string_equal(out, "");
	assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, 0, 59, 30, 6, out), VT_ERR_VALIDATION);
	/* Boundaries that are accepted. */
	assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, SEED20_LEN, 59, 3600, 6, out), 0);
	assert_int_equal(strlen(out), 6);
	assert_int_equal(totp_code_str(HMAC_SHA1, SEED20, SEED20_LEN, 59, 1, 6, out), 0);
	assert_int_equal(strlen(out), 6);
}

/* T = 1111111111: counter 0x23523ED, well away from zero so -window never underflows. */
#define VT_NOW 1111111111
#define VT_NOW_COUNTER 0x23523EDu

static void
test_totp_verify_window(void **state)
{
	char code[TOTP_CODE_MAX + 1];
	uint64_t matched, c = VT_NOW_COUNTER;
	int w, d;

	for (w = 0; w <= 3; w++) {
		for (d = -(w + 2); d <= w + 2; d++) {
			uint64_t target = c + (uint64_t)(int64_t)d;
			int r;

			code_at_counter(HMAC_SHA1, target, 6, code);
			matched = 777;
			r = totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, w, 0, code,
			    &matched);
			if (d >= -w && d <= w) {
				assert_int_equal(r, 0);
				assert_int_equal(matched, target);
			} else {
				/* These particular codes do not collide with any in-window one. */
				assert_int_equal(r, VT_ERR_VERIFY);
				assert_int_equal(matched, 0);
			}
		}
	}
	/* The largest allowed window (10) still accepts its edges. */
	code_at_counter(HMAC_SHA1, c + 10, 6, code);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 10, 0, code,
	    &matched), 0);
	assert_int_equal(matched, c + 10);
	code_at_counter(HMAC_SHA1, c - 10, 6, code);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 10, 0, code,
	    &matched), 0);
	assert_int_equal(matched, c - 10);
}

/* The window moves with the clock: the same code dies once its counter leaves the window. */
static void
test_totp_verify_clock(void **state)
{
	char code[TOTP_CODE_MAX + 1];
	uint64_t matched;
	int64_t start = (int64_t)VT_NOW_COUNTER * 30;

	code_at_counter(HMAC_SHA1, VT_NOW_COUNTER, 6, code);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, start + 29, 30, 6, 0, 0, code,
	    &matched), 0);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, start + 30, 30, 6, 0, 0, code,
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, start - 1, 30, 6, 0, 0, code,
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, start + 59, 30, 6, 1, 0, code,
	    &matched), 0);
	assert_int_equal(matched, VT_NOW_COUNTER);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, start + 60, 30, 6, 1, 0, code,
	    &matched), VT_ERR_VERIFY);
}

static void
test_totp_verify_replay(void **state)
{
	char code[TOTP_CODE_MAX + 1], next[TOTP_CODE_MAX + 1], prev[TOTP_CODE_MAX + 1];
	uint64_t matched, c = VT_NOW_COUNTER;

	code_at_counter(HMAC_SHA1, c, 6, code);
	code_at_counter(HMAC_SHA1, c + 1, 6, next);
	code_at_counter(HMAC_SHA1, c - 1, 6, prev);

	/* The code just used (min_counter = its counter) is refused, as is any older one. */
	matched = 5;
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, c, code,
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(matched, 0);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, c, prev,
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, c + 5, next,
	    &matched), VT_ERR_VERIFY);
	/* A later counter is still fine. */
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, c, next,
	    &matched), 0);
	assert_int_equal(matched, c + 1);
	/* min_counter one below: the current code is accepted. */
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, c - 1, code,
	    &matched), 0);
	assert_int_equal(matched, c);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, c - 1, prev,
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(matched, 0);
}

/* Near the epoch the window does not wrap below counter 0, and counter 0 ≤ min_counter 0. */
static void
test_totp_verify_near_epoch(void **state)
{
	char code[TOTP_CODE_MAX + 1];
	uint64_t matched;

	code_at_counter(HMAC_SHA1, 0, 6, code);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, 10, 30, 6, 2, 0, code,
	    &matched), VT_ERR_VERIFY);
	code_at_counter(HMAC_SHA1, 1, 6, code);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, 10, 30, 6, 2, 0, code,
	    &matched), 0);
	assert_int_equal(matched, 1);
	/* The wrapped counter UINT64_MAX is never a candidate. */
	code_at_counter(HMAC_SHA1, UINT64_MAX, 6, code);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, 10, 30, 6, 2, 0, code,
	    &matched), VT_ERR_VERIFY);
}

static void
test_totp_verify_wrong_length(void **state)
{
	char code[TOTP_CODE_MAX + 1], buf[TOTP_CODE_MAX + 4];
	uint64_t matched;

	code_at_counter(HMAC_SHA1, VT_NOW_COUNTER, 6, code);
	/* Sanity: the unmodified code passes. */
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, 0, code,
	    &matched), 0);

	/* Five of the six digits. */
	memcpy(buf, code, 5);
	buf[5] = '\0';
	matched = 3;
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, 0, buf,
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(matched, 0);
	/* The right six digits plus one more. */
	snprintf(buf, sizeof(buf), "%s0", code);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, 0, buf,
	    &matched), VT_ERR_VERIFY);
	/* The 8-digit code of the same counter against digits = 6. */
	code_at_counter(HMAC_SHA1, VT_NOW_COUNTER, 8, buf);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, 0, buf,
	    &matched), VT_ERR_VERIFY);
	/* And the 6-digit code against digits = 8. */
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 8, 1, 0, code,
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, 0, "",
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, 0, NULL,
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(matched, 0);
}

static void
test_totp_verify_non_digit(void **state)
{
	char code[TOTP_CODE_MAX + 1], buf[TOTP_CODE_MAX + 1];
	static const char bad[] = { 'a', ' ', '-', '+', '/', ':', 'O', '\t' };
	uint64_t matched;
	size_t i, pos;

	code_at_counter(HMAC_SHA1, VT_NOW_COUNTER, 6, code);
	for (pos = 0; pos < 6; pos++) {
		for (i = 0; i < sizeof(bad); i++) {
			memcpy(buf, code, sizeof(buf));
			buf[pos] = bad[i];
			matched = 9;
			assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1,
			    0, buf, &matched), VT_ERR_VERIFY);
			assert_int_equal(matched, 0);
		}
	}
	/* A NUL inside shortens the string: length check. */
	memcpy(buf, code, sizeof(buf));
	buf[3] = '\0';
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 1, 0, buf,
	    &matched), VT_ERR_VERIFY);
	/* A wrong but well-formed code. */
	memcpy(buf, code, sizeof(buf));
	buf[5] = buf[5] == '9' ? '0' : (char)(buf[5] + 1);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 0, 0, buf,
	    &matched), VT_ERR_VERIFY);
}

static void
test_totp_verify_wrong_key_or_alg(void **state)
{
	char code[TOTP_CODE_MAX + 1];
	uint64_t matched;

	code_at_counter(HMAC_SHA1, VT_NOW_COUNTER, 8, code);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN - 1, VT_NOW, 30, 8, 1, 0, code,
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(totp_verify(HMAC_SHA256, SEED20, SEED20_LEN, VT_NOW, 30, 8, 1, 0, code,
	    &matched), VT_ERR_VERIFY);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED32, SEED32_LEN, VT_NOW, 30, 8, 1, 0, code,
	    &matched), VT_ERR_VERIFY);
	/* Same code, different period: a different counter. */
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 60, 8, 1, 0, code,
	    &matched), VT_ERR_VERIFY);
}

static void
test_totp_verify_bad_parameters(void **state)
{
	char code[TOTP_CODE_MAX + 1];
	uint64_t matched;

	code_at_counter(HMAC_SHA1, VT_NOW_COUNTER, 6, code);
	matched = 1;
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 0, 6, 1, 0, code,
	    &matched), VT_ERR_VALIDATION);
	assert_int_equal(matched, 0);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, -30, 6, 1, 0, code,
	    &matched), VT_ERR_VALIDATION);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 3601, 6, 1, 0, code,
	    &matched), VT_ERR_VALIDATION);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, -1, 0, code,
	    &matched), VT_ERR_VALIDATION);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 6, 11, 0, code,
	    &matched), VT_ERR_VALIDATION);
	/* digits outside [6, 8], with a code of that length so the length check passes. */
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 5, 1, 0, "12345",
	    &matched), VT_ERR_VALIDATION);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, SEED20_LEN, VT_NOW, 30, 9, 1, 0,
	    "123456789", &matched), VT_ERR_VALIDATION);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, 0, VT_NOW, 30, 6, 1, 0, code, &matched),
	    VT_ERR_VALIDATION);
	assert_int_equal(totp_verify(HMAC_SHA1, SEED20, TOTP_SECRET_MAX + 1, VT_NOW, 30, 6, 1, 0,
	    code, &matched), VT_ERR_VALIDATION);
	assert_int_equal(matched, 0);
}

/* Randomized: a code generated at a random time verifies at that time and nowhere far off. */
static void
test_totp_random_round_trip(void **state)
{
	uint8_t key[TOTP_SECRET_LEN];
	char code[TOTP_CODE_MAX + 1];
	uint64_t matched;
	int i, digits;

	for (i = 0; i < 200; i++) {
		int64_t t;

		random_bytes(key, sizeof(key));
		random_bytes(&t, sizeof(t));
		t = (t < 0 ? -(t + 1) : t) % ((int64_t)1 << 40);
		digits = 6 + i % 3;
		assert_int_equal(totp_code_str(HMAC_SHA1, key, sizeof(key), t, 30, digits, code), 0);
		assert_int_equal(strlen(code), (size_t)digits);
		assert_int_equal(totp_verify(HMAC_SHA1, key, sizeof(key), t, 30, digits, 1, 0, code,
		    &matched), 0);
		assert_int_equal(matched, totp_counter(t, 30));
	}
}

static int
group_setup(void **state)
{
	return secmem_init() == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hotp_rfc4226_appendix_d),
		cmocka_unit_test(test_totp_rfc6238_appendix_b),
		cmocka_unit_test(test_totp_rfc6238_verify),
		cmocka_unit_test(test_totp_six_digits_leading_zero),
		cmocka_unit_test(test_totp_counter),
		cmocka_unit_test(test_hotp_bad_parameters),
		cmocka_unit_test(test_totp_code_str_bad_parameters),
		cmocka_unit_test(test_totp_verify_window),
		cmocka_unit_test(test_totp_verify_clock),
		cmocka_unit_test(test_totp_verify_replay),
		cmocka_unit_test(test_totp_verify_near_epoch),
		cmocka_unit_test(test_totp_verify_wrong_length),
		cmocka_unit_test(test_totp_verify_non_digit),
		cmocka_unit_test(test_totp_verify_wrong_key_or_alg),
		cmocka_unit_test(test_totp_verify_bad_parameters),
		cmocka_unit_test(test_totp_random_round_trip),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
