/*
 * Unit tests for auth/password: argon2id hashing in PHC form with a random salt and libsodium's
 * INTERACTIVE parameters, verification that fails with VT_ERR_VERIFY for a wrong password or any
 * malformed or foreign hash string, the length and NUL policy at its exact boundaries, and the
 * dummy verification used for unknown accounts. Hashing costs 64 MiB and some tens of ms each, so
 * the number of hashes computed here is kept small.
 */
#include "auth/password.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/secmem.h"

#define PW "correct horse battery staple"
#define PHC_PREFIX "$argon2id$v=19$m=65536,t=2,p=1$"

/* One hash of PW shared by the tests that only need to read it. */
static char hash_pw[PASSWORD_HASH_MAX];

static void
test_hash_verify(void **state)
{
	assert_int_equal(password_verify(hash_pw, PW, strlen(PW)), 0);
	/* argon2id, version 19, the documented cost, then salt and tag. */
	assert_int_equal(strncmp(hash_pw, "$argon2id$", 10), 0);
	assert_int_equal(strncmp(hash_pw, PHC_PREFIX, strlen(PHC_PREFIX)), 0);
	assert_true(strlen(hash_pw) < PASSWORD_HASH_MAX);
	/* Salt (16 bytes) and tag (32 bytes) in unpadded base64: 22 + 1 + 43 characters. */
	assert_int_equal(strlen(hash_pw), strlen(PHC_PREFIX) + 22 + 1 + 43);
}

static void
test_wrong_password(void **state)
{
	char pw[] = PW;
	size_t i, n = strlen(PW);

	assert_int_equal(password_verify(hash_pw, "wrong password!!", 16), VT_ERR_VERIFY);
	assert_int_equal(password_verify(hash_pw, "", 0), VT_ERR_VERIFY);
	/* A prefix, and the password with one more byte. */
	assert_int_equal(password_verify(hash_pw, PW, n - 1), VT_ERR_VERIFY);
	assert_int_equal(password_verify(hash_pw, PW "!", n + 1), VT_ERR_VERIFY);
	/* Case and single-character changes at the ends and the middle. */
	for (i = 0; i < n; i += n / 2 - 1) {
		char saved = pw[i];

		pw[i] = (char)(saved ^ 0x01);
		assert_int_equal(password_verify(hash_pw, pw, n), VT_ERR_VERIFY);
		pw[i] = saved;
	}
	/* The length is honoured: a NUL-separated tail counts. */
	assert_int_equal(password_verify(hash_pw, PW "\0x", n + 2), VT_ERR_VERIFY);
}

static void
test_salted(void **state)
{
	char h2[PASSWORD_HASH_MAX];

	assert_int_equal(password_hash(PW, strlen(PW), h2), 0);
	assert_string_not_equal(h2, hash_pw);
	/* Same parameters, different salt (and so a different tag). */
	assert_int_equal(strncmp(h2, PHC_PREFIX, strlen(PHC_PREFIX)), 0);
	assert_memory_not_equal(h2 + strlen(PHC_PREFIX), hash_pw + strlen(PHC_PREFIX), 22);
	assert_int_equal(password_verify(h2, PW, strlen(PW)), 0);
}

static void
test_malformed_hashes(void **state)
{
	static const char *const bad[] = {
		"",
		"$",
		"$argon2id$",
		"$argon2id$v=19$",
		"$argon2id$v=19$m=65536,t=2,p=1$",
		"$argon2id$v=19$m=65536,t=2,p=1$$",
		"argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAA",
		"plaintext password",
		"$2b$12$abcdefghijklmnopqrstuuM0yJq6M1Q9y2Qv1R0t2w3x4y5z6A7B8",
		"$5$rounds=5000$salt$hash",
	};
	char buf[PASSWORD_HASH_MAX + 8], unterminated[PASSWORD_HASH_MAX];
	size_t i, n = strlen(hash_pw);

	for (i = 0; i < VT_NELEM(bad); i++)
		assert_int_equal(password_verify(bad[i], PW, strlen(PW)), VT_ERR_VERIFY);
	assert_int_equal(password_verify(NULL, PW, strlen(PW)), VT_ERR_VERIFY);

	/* The real hash under other algorithm names: argon2i / argon2d / upper case. */
	snprintf(buf, sizeof(buf), "$argon2i$%s", hash_pw + 10);
	assert_int_equal(password_verify(buf, PW, strlen(PW)), VT_ERR_VERIFY);
	snprintf(buf, sizeof(buf), "$argon2d$%s", hash_pw + 10);
	assert_int_equal(password_verify(buf, PW, strlen(PW)), VT_ERR_VERIFY);
	snprintf(buf, sizeof(buf), "$ARGON2ID$%s", hash_pw + 10);
	assert_int_equal(password_verify(buf, PW, strlen(PW)), VT_ERR_VERIFY);

	/* Truncations: inside the prefix, the parameters, the salt and the tag. */
	for (i = 5; i < n; i += 9) {
		memcpy(buf, hash_pw, i);
		buf[i] = '\0';
		assert_int_equal(password_verify(buf, PW, strlen(PW)), VT_ERR_VERIFY);
	}
	memcpy(buf, hash_pw, n - 1);
	buf[n - 1] = '\0';
	assert_int_equal(password_verify(buf, PW, strlen(PW)), VT_ERR_VERIFY);

	/* One changed character in the salt and in the tag. */
	memcpy(buf, hash_pw, n + 1);
	buf[strlen(PHC_PREFIX) + 3] = buf[strlen(PHC_PREFIX) + 3] == 'A' ? 'B' : 'A';
	assert_int_equal(password_verify(buf, PW, strlen(PW)), VT_ERR_VERIFY);
	memcpy(buf, hash_pw, n + 1);
	buf[n - 5] = buf[n - 5] == 'A' ? 'B' : 'A';
	assert_int_equal(password_verify(buf, PW, strlen(PW)), VT_ERR_VERIFY);
	/* Trailing junk. */
	snprintf(buf, sizeof(buf), "%s$", hash_pw);
	assert_int_equal(password_verify(buf, PW, strlen(PW)), VT_ERR_VERIFY);
	/* Cheaper parameters substituted: the tag no longer matches. */
	snprintf(buf, sizeof(buf), "$argon2id$v=19$m=8,t=1,p=1$%s", hash_pw + strlen(PHC_PREFIX));
	assert_int_equal(password_verify(buf, PW, strlen(PW)), VT_ERR_VERIFY);

	/* PASSWORD_HASH_MAX bytes with no NUL: refused without reading past the buffer. */
	memset(unterminated, 'a', sizeof(unterminated));
	memcpy(unterminated, "$argon2id$", 10);
	assert_int_equal(password_verify(unterminated, PW, strlen(PW)), VT_ERR_VERIFY);

	/* The real hash, but a password over the limit is refused before any work. */
	{
		char *big = malloc(PASSWORD_MAX_LEN + 1);

		assert_non_null(big);
		memset(big, 'x', PASSWORD_MAX_LEN + 1);
		memcpy(big, PW, strlen(PW));
		assert_int_equal(password_verify(hash_pw, big, PASSWORD_MAX_LEN + 1), VT_ERR_VERIFY);
		free(big);
	}
}

static void
test_policy(void **state)
{
	char pw[PASSWORD_MAX_LEN + 2], err[128];

	memset(pw, 'p', sizeof(pw));

	err[0] = '\0';
	assert_int_equal(password_check_policy(pw, 11, err, sizeof(err)), VT_ERR_VALIDATION);
	assert_string_equal(err, "field 'password': must be at least 12 characters");
	assert_int_equal(password_check_policy(pw, 0, err, sizeof(err)), VT_ERR_VALIDATION);
	assert_int_equal(password_check_policy("", 0, err, sizeof(err)), VT_ERR_VALIDATION);

	memcpy(err, "untouched", 10);
	assert_int_equal(password_check_policy(pw, 12, err, sizeof(err)), 0);
	assert_string_equal(err, "untouched");
	assert_int_equal(password_check_policy(pw, PASSWORD_MAX_LEN, err, sizeof(err)), 0);
	assert_string_equal(err, "untouched");

	assert_int_equal(password_check_policy(pw, PASSWORD_MAX_LEN + 1, err, sizeof(err)),
	    VT_ERR_VALIDATION);
	assert_string_equal(err, "field 'password': must be at most 1024 bytes");

	/* NUL inside, at the start and at the end of an otherwise valid length. */
	pw[5] = '\0';
	assert_int_equal(password_check_policy(pw, 12, err, sizeof(err)), VT_ERR_VALIDATION);
	assert_string_equal(err, "field 'password': must not contain NUL");
	pw[5] = 'p';
	pw[0] = '\0';
	assert_int_equal(password_check_policy(pw, 20, err, sizeof(err)), VT_ERR_VALIDATION);
	pw[0] = 'p';
	pw[PASSWORD_MAX_LEN - 1] = '\0';
	assert_int_equal(password_check_policy(pw, PASSWORD_MAX_LEN, err, sizeof(err)),
	    VT_ERR_VALIDATION);
	pw[PASSWORD_MAX_LEN - 1] = 'p';

	/* Multi-byte UTF-8: the limit counts bytes. 4 x "é" = 8 bytes is too short. */
	assert_int_equal(password_check_policy("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8, err,
	    sizeof(err)), VT_ERR_VALIDATION);
	assert_int_equal(password_check_policy("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	    12, err, sizeof(err)), 0);

	/* A tiny error buffer is not overrun (ASan would see it). */
	{
		char small[8];

		assert_int_equal(password_check_policy(pw, 3, small, sizeof(small)),
		    VT_ERR_VALIDATION);
		assert_string_equal(small, "field '");
	}
}

/* The longest accepted password hashes and verifies; one byte more is refused by hash. */
static void
test_hash_max_length(void **state)
{
	char pw[PASSWORD_MAX_LEN + 1], h[PASSWORD_HASH_MAX];

	memset(pw, 'm', sizeof(pw));
	memcpy(h, "unchanged", 10);
	assert_int_equal(password_hash(pw, PASSWORD_MAX_LEN + 1, h), VT_ERR_VALIDATION);
	assert_int_equal(password_hash(pw, PASSWORD_MAX_LEN, h), 0);
	assert_int_equal(password_verify(h, pw, PASSWORD_MAX_LEN), 0);
	assert_int_equal(password_verify(h, pw, PASSWORD_MAX_LEN - 1), VT_ERR_VERIFY);
}

static void
test_verify_dummy(void **state)
{
	char big[PASSWORD_MAX_LEN + 1];

	assert_int_equal(password_init(), 0);
	password_verify_dummy(PW, strlen(PW));
	password_verify_dummy("", 0);
	memset(big, 'd', sizeof(big));
	password_verify_dummy(big, sizeof(big));
	/* Initialising twice is harmless and the real hash still verifies. */
	assert_int_equal(password_init(), 0);
	password_verify_dummy(PW, strlen(PW));
	assert_int_equal(password_verify(hash_pw, PW, strlen(PW)), 0);
}

static int
group_setup(void **state)
{
	if (secmem_init() != 0)
		return -1;
	return password_hash(PW, strlen(PW), hash_pw) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_salted),
		cmocka_unit_test(test_malformed_hashes),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_hash_max_length),
		cmocka_unit_test(test_verify_dummy),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
