/*
 * Unit tests for the pure parts of vault/fingerprints.c: which fields of which type are
 * fingerprinted (the documented table, and nothing else: every other field of every type is
 * checked to be left out), the values taken from a fields object (empty values skipped, the
 * secret= part of otpauth:// seeds found wherever it sits among the parameters and never past a
 * fragment, the digits-only form of card numbers written with separators, non-string members
 * ignored), and the fingerprint labels "<secret uuid>/<field>": round trip, the longest label fits
 * SCAN_FP_LABEL_MAX, and every malformed label refused.
 */
#include "vault/vault.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/encode.h"
#include "base/err.h"
#include "scan/scan.h"

struct sens {
	enum secret_type type;
	const char *field;
	int sensitive;
};

/* Every field of every type (types.c), with the decision documented in vault.h. */
static const struct sens TABLE[] = {
	{ SECRET_PASSWORD, "password", 1 },
	{ SECRET_PASSWORD, "username", 0 },
	{ SECRET_PASSWORD, "url", 0 },
	{ SECRET_PASSWORD, "notes", 0 },
	{ SECRET_PASSWORD, "custom", 0 },
	{ SECRET_API_KEY, "key", 1 },
	{ SECRET_API_KEY, "label", 0 },
	{ SECRET_API_KEY, "service", 0 },
	{ SECRET_API_KEY, "notes", 0 },
	{ SECRET_SSH_KEY, "private_key", 1 },
	{ SECRET_SSH_KEY, "passphrase", 1 },
	{ SECRET_SSH_KEY, "public_key", 0 },
	{ SECRET_ENV_VAR, "name", 0 },
	{ SECRET_ENV_VAR, "value", 1 },
	{ SECRET_SECURE_NOTE, "body", 1 },
	{ SECRET_SECURE_NOTE, "title", 0 },
	{ SECRET_TOTP, "seed", 1 },
	{ SECRET_TOTP, "issuer", 0 },
	{ SECRET_TOTP, "account", 0 },
	{ SECRET_TOTP, "digits", 0 },
	{ SECRET_TOTP, "period", 0 },
	{ SECRET_TOTP, "algorithm", 0 },
	{ SECRET_PAYMENT_CARD, "number", 1 },
	{ SECRET_PAYMENT_CARD, "cardholder", 0 },
	{ SECRET_PAYMENT_CARD, "expiry", 0 },
	{ SECRET_PAYMENT_CARD, "cvv", 1 },
	{ SECRET_PAYMENT_CARD, "notes", 0 },
	{ SECRET_IDENTITY, "name", 0 },
	{ SECRET_IDENTITY, "address", 0 },
	{ SECRET_IDENTITY, "email", 0 },
	{ SECRET_IDENTITY, "phone", 0 },
	{ SECRET_IDENTITY, "document_number", 0 },
	{ SECRET_IDENTITY, "notes", 0 },
	{ SECRET_PASSKEY, "rp_id", 0 },
	{ SECRET_PASSKEY, "credential_id", 0 },
	{ SECRET_PASSKEY, "private_key", 1 },
	{ SECRET_PASSKEY, "user_handle", 0 },
};

static void
test_sensitive_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(TABLE); i++) {
		if (secret_fp_sensitive(TABLE[i].type, TABLE[i].field) != TABLE[i].sensitive)
			fail_msg("%s.%s: expected sensitive=%d", secret_type_str(TABLE[i].type),
			    TABLE[i].field, TABLE[i].sensitive);
	}
	/* A field of another type, an unknown one, NULL. */
	assert_int_equal(secret_fp_sensitive(SECRET_PASSWORD, "key"), 0);
	assert_int_equal(secret_fp_sensitive(SECRET_API_KEY, "password"), 0);
	assert_int_equal(secret_fp_sensitive(SECRET_PASSWORD, "PASSWORD"), 0);
	assert_int_equal(secret_fp_sensitive(SECRET_PASSWORD, NULL), 0);
}

/* The values of fields (JSON text) for type t; checks count and each (field, bytes, form). */
static void
expect_values(enum secret_type t, const char *json, size_t n, ...)
{
	struct secret_fp_value v[VAULT_FP_VALUES_MAX];
	json_t *fields = json_loads(json, JSON_ALLOW_NUL, NULL);
	va_list ap;
	size_t i, got;

	assert_non_null(fields);
	memset(v, 0xa5, sizeof(v));
	secret_fp_values(t, fields, v, &got);
	if (got != n)
		fail_msg("%s: %zu values, expected %zu", json, got, n);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		const char *field = va_arg(ap, const char *);
		const char *bytes = va_arg(ap, const char *);
		int form = va_arg(ap, int);

		assert_string_equal(v[i].field, field);
		assert_int_equal(v[i].len, strlen(bytes));
		assert_memory_equal(v[i].ptr, bytes, v[i].len);
		assert_int_equal((int)v[i].form, form);
	}
	va_end(ap);
	json_decref(fields);
}

static void
test_values(void **state)
{
	(void)state;
	expect_values(SECRET_PASSWORD, "{\"password\":\"hunter2-hunter2\",\"username\":\"alice\","
	    "\"notes\":\"not this\",\"custom\":{\"pin\":\"12345678\"}}", 1, "password",
	    "hunter2-hunter2", SECRET_FP_AS_IS);
	/* Bytes as they are: surrounding whitespace kept (the engine adds the trimmed form). */
	expect_values(SECRET_API_KEY, "{\"key\":\"  sk_live_abc \\n\"}", 1, "key",
	    "  sk_live_abc \n", SECRET_FP_AS_IS);
	/* An embedded NUL is part of the value (length, not strlen). */
	{
		struct secret_fp_value v[VAULT_FP_VALUES_MAX];
		json_t *f = json_loads("{\"value\":\"abc\\u0000defghij\",\"name\":\"X\"}",
		    JSON_ALLOW_NUL, NULL);
		size_t n;

		assert_non_null(f);
		secret_fp_values(SECRET_ENV_VAR, f, v, &n);
		assert_int_equal(n, 1);
		assert_int_equal(v[0].len, 11);
		assert_memory_equal(v[0].ptr, "abc\0defghij", 11);
		json_decref(f);
	}
	expect_values(SECRET_SSH_KEY, "{\"private_key\":\"-----BEGIN-----\",\"passphrase\":"
	    "\"correct horse\",\"public_key\":\"ssh-ed25519 AAAA\"}", 2, "private_key",
	    "-----BEGIN-----", SECRET_FP_AS_IS, "passphrase", "correct horse", SECRET_FP_AS_IS);
	/* Empty and absent values give nothing; so do non-strings. */
	expect_values(SECRET_SSH_KEY, "{\"private_key\":\"k\",\"passphrase\":\"\"}", 1,
	    "private_key", "k", SECRET_FP_AS_IS);
	expect_values(SECRET_PASSWORD, "{\"password\":12345678}", 0);
	expect_values(SECRET_PASSWORD, "{}", 0);
	expect_values(SECRET_IDENTITY, "{\"document_number\":\"P123456789\",\"notes\":\"x\"}", 0);
	expect_values(SECRET_SECURE_NOTE, "{\"body\":\"line one\\nline two\",\"title\":\"t\"}", 1,
	    "body", "line one\nline two", SECRET_FP_AS_IS);
	expect_values(SECRET_PASSKEY, "{\"rp_id\":\"example.com\",\"credential_id\":\"abc\","
	    "\"private_key\":\"MIGHAgEAMBMG\",\"user_handle\":\"u\"}", 1, "private_key",
	    "MIGHAgEAMBMG", SECRET_FP_AS_IS);
}

static void
test_totp_values(void **state)
{
	(void)state;
	expect_values(SECRET_TOTP, "{\"seed\":\"JBSWY3DPEHPK3PXP\",\"issuer\":\"Acme\"}", 1, "seed",
	    "JBSWY3DPEHPK3PXP", SECRET_FP_AS_IS);
	expect_values(SECRET_TOTP, "{\"seed\":\"otpauth://totp/Acme:a?secret=JBSWY3DPEHPK3PXP"
	    "&issuer=Acme\"}", 2, "seed", "otpauth://totp/Acme:a?secret=JBSWY3DPEHPK3PXP&issuer=Acme",
	    SECRET_FP_AS_IS, "seed", "JBSWY3DPEHPK3PXP", SECRET_FP_AS_IS);
	/* secret= not first; the name case-insensitive; up to the fragment. */
	expect_values(SECRET_TOTP, "{\"seed\":\"otpauth://totp/x?issuer=A&Secret=GEZDGNBVGY3TQOJQ"
	    "#frag\"}", 2, "seed", "otpauth://totp/x?issuer=A&Secret=GEZDGNBVGY3TQOJQ#frag",
	    SECRET_FP_AS_IS, "seed", "GEZDGNBVGY3TQOJQ", SECRET_FP_AS_IS);
	/* A parameter that only ends in "secret", one inside the fragment, an empty one: none. */
	expect_values(SECRET_TOTP, "{\"seed\":\"otpauth://totp/x?mysecret=AAAA&b=c\"}", 1, "seed",
	    "otpauth://totp/x?mysecret=AAAA&b=c", SECRET_FP_AS_IS);
	expect_values(SECRET_TOTP, "{\"seed\":\"otpauth://totp/x?a=b#secret=AAAA\"}", 1, "seed",
	    "otpauth://totp/x?a=b#secret=AAAA", SECRET_FP_AS_IS);
	expect_values(SECRET_TOTP, "{\"seed\":\"otpauth://totp/x?secret=&a=b\"}", 1, "seed",
	    "otpauth://totp/x?secret=&a=b", SECRET_FP_AS_IS);
	expect_values(SECRET_TOTP, "{\"seed\":\"otpauth://totp/x?secret=ABCDEFGH\"}", 2, "seed",
	    "otpauth://totp/x?secret=ABCDEFGH", SECRET_FP_AS_IS, "seed", "ABCDEFGH",
	    SECRET_FP_AS_IS);
}

static void
test_card_values(void **state)
{
	(void)state;
	expect_values(SECRET_PAYMENT_CARD, "{\"number\":\"4111111111111111\",\"cvv\":\"123\","
	    "\"cardholder\":\"A B\"}", 2, "number", "4111111111111111", SECRET_FP_AS_IS, "cvv", "123",
	    SECRET_FP_AS_IS);
	expect_values(SECRET_PAYMENT_CARD, "{\"number\":\"4111 1111-1111 1111\"}", 2, "number",
	    "4111 1111-1111 1111", SECRET_FP_AS_IS, "number", "4111 1111-1111 1111",
	    SECRET_FP_DIGITS);
}

static void
test_labels(void **state)
{
	char label[SCAN_FP_LABEL_MAX + 1], field[VAULT_FP_FIELD_MAX + 1];
	char longest[VAULT_FP_FIELD_MAX + 1];
	struct vt_uuid id, got;
	static const char *const bad[] = {
		"",
		"0e2c1a5c-8b1e-4d0f-9a51-3c1f7e0b9d2a",            /* no field */
		"0e2c1a5c-8b1e-4d0f-9a51-3c1f7e0b9d2a/",           /* empty field */
		"0e2c1a5c-8b1e-4d0f-9a51-3c1f7e0b9d2a:password",   /* wrong separator */
		"0e2c1a5c-8b1e-4d0f-9a51-3c1f7e0b9d2/password",    /* short uuid */
		"0e2c1a5c-8b1e-4d0f-9a51-3c1f7e0b9d2x/password",   /* not hex */
		"0e2c1a5c-8b1e-4d0f-9a51-3c1f7e0b9d2a/Password",   /* upper case */
		"0e2c1a5c-8b1e-4d0f-9a51-3c1f7e0b9d2a/pass/word",  /* a second slash */
		"0e2c1a5c-8b1e-4d0f-9a51-3c1f7e0b9d2a/pass word",
		"0e2c1a5c-8b1e-4d0f-9a51-3c1f7e0b9d2a/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 33 */
	};
	size_t i;

	(void)state;
	uuid_random(&id);
	vault_fp_label_format(&id, "private_key", label, sizeof(label));
	assert_int_equal(strlen(label), UUID_STR_LEN + 1 + strlen("private_key"));
	assert_int_equal(vault_fp_label_parse(label, &got, field), 0);
	assert_true(uuid_eq(&id, &got));
	assert_string_equal(field, "private_key");
	/* The longest field name fits a scanner label. */
	memset(longest, 'z', VAULT_FP_FIELD_MAX);
	longest[VAULT_FP_FIELD_MAX] = '\0';
	vault_fp_label_format(&id, longest, label, sizeof(label));
	assert_true(strlen(label) <= SCAN_FP_LABEL_MAX);
	assert_int_equal(vault_fp_label_parse(label, &got, field), 0);
	assert_string_equal(field, longest);
	for (i = 0; i < VT_NELEM(bad); i++) {
		if (vault_fp_label_parse(bad[i], &got, field) != VT_ERR_INVALID)
			fail_msg("label '%s' was accepted", bad[i]);
		assert_string_equal(field, "");
	}
	assert_int_equal(vault_fp_label_parse(NULL, &got, field), VT_ERR_INVALID);
	/* Every sensitive field name is a valid label field. */
	for (i = 0; i < VT_NELEM(TABLE); i++) {
		if (!TABLE[i].sensitive)
			continue;
		vault_fp_label_format(&id, TABLE[i].field, label, sizeof(label));
		assert_int_equal(vault_fp_label_parse(label, &got, field), 0);
		assert_string_equal(field, TABLE[i].field);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sensitive_table),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_totp_values),
		cmocka_unit_test(test_card_values),
		cmocka_unit_test(test_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
