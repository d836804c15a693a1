/*
 * Unit tests for the error table (src/base/err.h): every stable error number maps to the HTTP
 * status and snake_case API code documented in err.h, verification and crypto failures share
 * generic codes, and any number outside the table (positive, past the end, INT_MIN) fails closed
 * to 500 "internal" instead of indexing out of bounds or overflowing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/util.h"

struct err_expect {
	int err;
	int value; /* the stable number the enum must keep */
	const char *code;
	int http;
};

/* Written out from the comments in err.h, not copied from err.c, so a drift in either fails. */
static const struct err_expect EXPECT[] = {
	{ VT_OK, 0, "ok", 200 },
	{ VT_ERR_INTERNAL, -1, "internal", 500 },
	{ VT_ERR_NOMEM, -2, "internal", 500 },
	{ VT_ERR_INVALID, -3, "invalid_request", 400 },
	{ VT_ERR_VALIDATION, -4, "validation_failed", 400 },
	{ VT_ERR_UNAUTHORIZED, -5, "unauthorized", 401 },
	{ VT_ERR_FORBIDDEN, -6, "forbidden", 403 },
	{ VT_ERR_MFA_REQUIRED, -7, "mfa_required", 403 },
	{ VT_ERR_STEP_UP_REQUIRED, -8, "step_up_required", 403 },
	{ VT_ERR_NOT_FOUND, -9, "not_found", 404 },
	{ VT_ERR_CONFLICT, -10, "conflict", 409 },
	{ VT_ERR_VERSION_MISMATCH, -11, "version_mismatch", 409 },
	{ VT_ERR_TOO_LARGE, -12, "too_large", 413 },
	{ VT_ERR_RATE_LIMITED, -13, "rate_limited", 429 },
	{ VT_ERR_UNAVAILABLE, -14, "unavailable", 503 },
	{ VT_ERR_CRYPTO, -15, "internal", 500 },
	{ VT_ERR_DB, -16, "internal", 500 },
	{ VT_ERR_IO, -17, "internal", 500 },
	{ VT_ERR_CONFIG, -18, "internal", 500 },
	{ VT_ERR_METHOD, -19, "method_not_allowed", 405 },
	{ VT_ERR_MEDIA_TYPE, -20, "unsupported_media_type", 415 },
	{ VT_ERR_VERIFY, -21, "unauthorized", 401 },
	{ VT_ERR_RANGE, -22, "validation_failed", 400 },
	{ VT_ERR_HEADERS_TOO_LARGE, -23, "headers_too_large", 431 },
};

static int
is_snake_case(const char *s)
{
	size_t i;

	if (s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	}
	return s[i - 1] != '_';
}

static void
test_err_count_matches_table(void **state)
{
	(void)state;
	assert_int_equal(VT_ERR_COUNT, 24);
	assert_int_equal(VT_NELEM(EXPECT), VT_ERR_COUNT);
}

static void
test_err_numbers_are_stable(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(EXPECT); i++) {
		assert_int_equal(EXPECT[i].err, EXPECT[i].value);
		assert_int_equal(EXPECT[i].err, -(int)i);
	}
}

static void
test_err_codes_and_statuses(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(EXPECT); i++) {
		const char *code = vt_err_str(EXPECT[i].err);

		assert_non_null(code);
		assert_string_equal(code, EXPECT[i].code);
		assert_true(is_snake_case(code));
		assert_int_equal(vt_err_http(EXPECT[i].err), EXPECT[i].http);
	}
}

static void
test_err_messages_present_and_generic(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(EXPECT); i++) {
		const char *m = vt_err_message(EXPECT[i].err);

		assert_non_null(m);
		assert_true(strlen(m) > 1);
		/* A sentence: capitalised and ending with a full stop. */
		assert_true(m[0] >= 'A' && m[0] <= 'Z');
		assert_int_equal(m[strlen(m) - 1], '.');
		/* No format directives that a caller could mistake for a template. */
		assert_null(strchr(m, '%'));
	}
	assert_string_equal(vt_err_message(VT_OK), "OK.");
	assert_string_equal(vt_err_message(VT_ERR_INTERNAL), "Internal error.");
	assert_string_equal(vt_err_message(VT_ERR_CRYPTO), "Internal error.");
	assert_string_equal(vt_err_message(VT_ERR_VERIFY), "Authentication failed.");
}

static void
test_err_verify_is_indistinguishable_per_code(void **state)
{
	(void)state;
	/* A failed MAC, signature, token or password check never reveals itself in the code. */
	assert_string_equal(vt_err_str(VT_ERR_VERIFY), vt_err_str(VT_ERR_UNAUTHORIZED));
	assert_int_equal(vt_err_http(VT_ERR_VERIFY), vt_err_http(VT_ERR_UNAUTHORIZED));
	/* Internal failures of every kind look the same to a client. */
	assert_string_equal(vt_err_message(VT_ERR_CRYPTO), vt_err_message(VT_ERR_DB));
	assert_string_equal(vt_err_message(VT_ERR_DB), vt_err_message(VT_ERR_IO));
	assert_string_equal(vt_err_message(VT_ERR_NOMEM), vt_err_message(VT_ERR_INTERNAL));
}

static void
test_err_unknown_fails_closed(void **state)
{
	static const int unknown[] = { 1, 2, 200, -VT_ERR_COUNT, -VT_ERR_COUNT - 1, -100, -1000000,
		INT_MAX, INT_MIN, INT_MIN + 1 };
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(unknown); i++) {
		assert_string_equal(vt_err_str(unknown[i]), "internal");
		assert_int_equal(vt_err_http(unknown[i]), 500);
		assert_string_equal(vt_err_message(unknown[i]), "Internal error.");
	}
}

static void
test_err_last_code_boundary(void **state)
{
	(void)state;
	/* -23 is the last row; -24 is one past it and must not read beyond the table. */
	assert_int_equal(vt_err_http(-(VT_ERR_COUNT - 1)), 431);
	assert_string_equal(vt_err_str(-(VT_ERR_COUNT - 1)), "headers_too_large");
	assert_int_equal(vt_err_http(-VT_ERR_COUNT), 500);
	assert_string_equal(vt_err_str(-VT_ERR_COUNT), "internal");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_count_matches_table),
		cmocka_unit_test(test_err_numbers_are_stable),
		cmocka_unit_test(test_err_codes_and_statuses),
		cmocka_unit_test(test_err_messages_present_and_generic),
		cmocka_unit_test(test_err_verify_is_indistinguishable_per_code),
		cmocka_unit_test(test_err_unknown_fails_closed),
		cmocka_unit_test(test_err_last_code_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
