/*
 * Unit tests for vault/types.c, the nine secret types and their fields. Table-driven over a copy
 * of the field table: for every type a happy path; every required field missing, null or empty;
 * an unknown field; every wrong JSON type; every size limit at max (accepted where a value of that
 * length can be valid) and max + 1 (refused); control characters in one-line fields. Then the
 * per-type formats: ENV_VAR names, PAYMENT_CARD Luhn (a randomized loop of generated numbers and
 * every single-digit change), expiry and cvv; IDENTITY's "at least one"; TOTP seeds as base32
 * (padded, lower case, spaced) and otpauth://totp/ URIs (parameters parsed, explicit fields
 * override, checked end to end against RFC 6238 codes), hotp refused, short seeds and bad
 * digits/period/algorithm refused; SSH keys made by ssh-keygen at test time (Ed25519, RSA 2048,
 * ECDSA 256/384, PEM RSA, each also encrypted), wrong or missing passphrases, public key match and
 * mismatch, DSA (tests/data/ssh_dsa_test_key, and one from ssh-keygen when it still makes them).
 * An encrypted key without its passphrase must be refused without asking a terminal for one.
 * Every refusal is VT_ERR_VALIDATION with a message naming the field, and no message contains any
 * string value of the refused fields (they carry random canaries).
 */
#include "vault/vault.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/secmem.h"
#include "crypto/hash.h"
#include "crypto/totp.h"

#ifndef VT_TEST_DATA_DIR
#error "VT_TEST_DATA_DIR must name tests/data (CMakeLists.txt sets it)"
#endif

#define KB 1024

/* --- a copy of the field table of types.c: what the API promises ------------------------------ */

enum fkind {
	K_FREE,   /* any string */
	K_TEXT,   /* one line, printable */
	K_ENV,    /* variable name */
	K_CARD,   /* card number */
	K_EXPIRY, /* MM/YY or MM/YYYY */
	K_CVV,    /* 3 or 4 digits */
	K_SEED,   /* base32 or otpauth URI */
	K_ALG,    /* SHA1 SHA256 SHA512 */
	K_SSHPRIV,
	K_SSHPUB,
	K_INT,
	K_MAP, /* object of strings (PASSWORD.custom) */
};

struct fspec {
	const char *name;
	enum fkind kind;
	int required;
	size_t max; /* bytes, or the largest integer */
	size_t min; /* smallest integer */
};

struct tspec {
	enum secret_type type;
	const char *name;
	const struct fspec *f;
	size_t n;
};

static const struct fspec PASSWORD_F[] = {
	{ "password", K_FREE, 1, 4 * KB, 0 },
	{ "username", K_TEXT, 0, 1 * KB, 0 },
	{ "url", K_TEXT, 0, 2 * KB, 0 },
	{ "notes", K_FREE, 0, 64 * KB, 0 },
	{ "custom", K_MAP, 0, 4 * KB, 0 },
};
static const struct fspec API_KEY_F[] = {
	{ "key", K_FREE, 1, 16 * KB, 0 },
	{ "label", K_TEXT, 0, 200, 0 },
	{ "service", K_TEXT, 0, 200, 0 },
	{ "notes", K_FREE, 0, 64 * KB, 0 },
};
static const struct fspec SSH_KEY_F[] = {
	{ "private_key", K_SSHPRIV, 1, 64 * KB, 0 },
	{ "passphrase", K_FREE, 0, 1 * KB, 0 },
	{ "public_key", K_SSHPUB, 0, 16 * KB, 0 },
};
static const struct fspec ENV_VAR_F[] = {
	{ "name", K_ENV, 1, 256, 0 },
	{ "value", K_FREE, 1, 128 * KB, 0 },
};
static const struct fspec SECURE_NOTE_F[] = {
	{ "body", K_FREE, 1, 256 * KB, 0 },
	{ "title", K_TEXT, 0, 200, 0 },
};
static const struct fspec TOTP_F[] = {
	{ "seed", K_SEED, 1, 2 * KB, 0 },
	{ "issuer", K_TEXT, 0, 200, 0 },
	{ "account", K_TEXT, 0, 200, 0 },
	{ "digits", K_INT, 0, 8, 6 },
	{ "period", K_INT, 0, 300, 10 },
	{ "algorithm", K_ALG, 0, 16, 0 },
};
static const struct fspec PAYMENT_CARD_F[] = {
	{ "number", K_CARD, 1, 64, 0 },
	{ "cardholder", K_TEXT, 0, 200, 0 },
	{ "expiry", K_EXPIRY, 0, 16, 0 },
	{ "cvv", K_CVV, 0, 8, 0 },
	{ "notes", K_FREE, 0, 64 * KB, 0 },
};
static const struct fspec IDENTITY_F[] = {
	{ "name", K_TEXT, 0, 200, 0 },
	{ "address", K_FREE, 0, 1 * KB, 0 },
	{ "email", K_TEXT, 0, 254, 0 },
	{ "phone", K_TEXT, 0, 64, 0 },
	{ "document_number", K_TEXT, 0, 128, 0 },
	{ "notes", K_FREE, 0, 64 * KB, 0 },
};
static const struct fspec PASSKEY_F[] = {
	{ "rp_id", K_TEXT, 1, 253, 0 },
	{ "credential_id", K_TEXT, 1, 1 * KB, 0 },
	{ "private_key", K_FREE, 1, 16 * KB, 0 },
	{ "user_handle", K_TEXT, 0, 1 * KB, 0 },
};

#define T(t, f) { t, #t + 7, f, VT_NELEM(f) }
static const struct tspec TYPES[] = {
	T(SECRET_PASSWORD, PASSWORD_F),
	T(SECRET_API_KEY, API_KEY_F),
	T(SECRET_SSH_KEY, SSH_KEY_F),
	T(SECRET_ENV_VAR, ENV_VAR_F),
	T(SECRET_SECURE_NOTE, SECURE_NOTE_F),
	T(SECRET_TOTP, TOTP_F),
	T(SECRET_PAYMENT_CARD, PAYMENT_CARD_F),
	T(SECRET_IDENTITY, IDENTITY_F),
	T(SECRET_PASSKEY, PASSKEY_F),
};

/* --- SSH keys made by ssh-keygen in a temp dir at group setup --------------------------------- */

struct sshkey {
	const char *name;
	const char *args;
	int encrypted;
	char *priv; /* file contents */
	char *pub;  /* "type base64 comment", without the newline */
};

static struct sshkey KEYS[] = {
	{ "ed25519", "-t ed25519", 0, NULL, NULL },
	{ "rsa2048", "-t rsa -b 2048", 0, NULL, NULL },
	{ "ecdsa256", "-t ecdsa -b 256", 0, NULL, NULL },
	{ "ecdsa384", "-t ecdsa -b 384", 0, NULL, NULL },
	{ "rsa2048_pem", "-t rsa -b 2048 -m PEM", 0, NULL, NULL },
	{ "ed25519_enc", "-t ed25519", 1, NULL, NULL },
	{ "rsa2048_enc", "-t rsa -b 2048", 1, NULL, NULL },
	{ "ecdsa256_enc", "-t ecdsa -b 256", 1, NULL, NULL },
	{ "rsa2048_pem_enc", "-t rsa -b 2048 -m PEM", 1, NULL, NULL },
};
#define KEY_PLAIN (&KEYS[0])
#define KEY_OTHER (&KEYS[2])

static char tmpdir[] = "/tmp/vt-test-vault-types.XXXXXX";
static char passphrase[48]; /* a canary: must never show up in a message */
static char *dsa_vector;    /* tests/data/ssh_dsa_test_key */
static char *dsa_generated; /* NULL when this ssh-keygen no longer makes DSA keys */

/* --- helpers ----------------------------------------------------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A fresh random canary "cn-<tag>-<20 hex>" into out. */
static void
canary(char out[static 48], const char *tag)
{
	uint8_t r[10];
	char hex[21];

	random_bytes(r, sizeof(r));
	hex_encode(r, sizeof(r), hex);
	snprintf(out, 48, "cn-%.16s-%s", tag, hex);
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	assert_int_equal(json_object_set_new(o, k, json_string(v)), 0);
}

/* A valid card number of ndigits digits (random, Luhn check digit last). */
static void
card_number(char *out, int ndigits)
{
	uint8_t r[32];
	int i, sum = 0;

	random_bytes(r, sizeof(r));
	out[0] = '4';
	for (i = 1; i < ndigits - 1; i++)
		out[i] = (char)('0' + r[i] % 10);
	out[ndigits - 1] = '0';
	out[ndigits] = '\0';
	for (i = ndigits - 1; i >= 0; i--) {
		int d = out[i] - '0', pos = ndigits - 1 - i;

		if (pos % 2 == 1 && (d *= 2) > 9)
			d -= 9;
		sum += d;
	}
	out[ndigits - 1] = (char)('0' + (10 - sum % 10) % 10);
}

/* base32 (upper case, no padding) of n random bytes into out. */
static void
random_seed_b32(char *out, size_t n)
{
	uint8_t r[TOTP_SECRET_MAX];

	assert_true(n <= sizeof(r));
	random_bytes(r, n);
	base32_encode(r, n, out);
}

/* The smallest valid fields of each type, every value a fresh canary. */
static json_t *
base_fields(enum secret_type t)
{
	json_t *o = json_object();
	char c[48], c2[48], c3[48];

	canary(c, "a");
	canary(c2, "b");
	canary(c3, "c");
	switch (t) {
	case SECRET_PASSWORD:
		set_str(o, "password", c);
		break;
	case SECRET_API_KEY:
		set_str(o, "key", c);
		break;
	case SECRET_SSH_KEY:
		set_str(o, "private_key", KEY_PLAIN->priv);
		break;
	case SECRET_ENV_VAR:
		c2[2] = '_'; /* "cn_b_…": a valid variable name */
		c2[4] = '_';
		set_str(o, "name", c2);
		set_str(o, "value", c);
		break;
	case SECRET_SECURE_NOTE:
		set_str(o, "body", c);
		break;
	case SECRET_TOTP: {
		char b32[64];

		random_seed_b32(b32, 20);
		set_str(o, "seed", b32);
		break;
	}
	case SECRET_PAYMENT_CARD: {
		char num[24];

		card_number(num, 16);
		set_str(o, "number", num);
		break;
	}
	case SECRET_IDENTITY:
		set_str(o, "name", c);
		break;
	case SECRET_PASSKEY:
		set_str(o, "rp_id", c);
		set_str(o, "credential_id", c2);
		set_str(o, "private_key", c3);
		break;
	}
	return o;
}

/*
 * A valid value of exactly n bytes for field f, or NULL when none exists (a cvv of 8 bytes).
 * Owned by the caller.
 */
static char *
value_of_len(const struct fspec *f, size_t n)
{
	char *s = malloc(n + 1), c[48];
	const char *head = NULL;
	char fill = 'x';
	size_t hl;

	assert_non_null(s);
	canary(c, f->name);
	switch (f->kind) {
	case K_FREE:
	case K_TEXT:
		head = c;
		break;
	case K_ENV:
		head = "CN_VAR_";
		fill = 'A';
		break;
	case K_CARD: {
		static char num[24];

		card_number(num, 16);
		head = num;
		fill = ' '; /* spaces between or after digit groups are allowed */
		break;
	}
	case K_SEED: {
		static char b32[64];

		random_seed_b32(b32, 20);
		head = b32;
		fill = ' ';
		break;
	}
	case K_SSHPRIV:
		head = KEY_PLAIN->priv;
		fill = '\n';
		break;
	case K_SSHPUB:
		/* "type base64 comment": the comment may be anything */
		head = KEY_PLAIN->pub;
		fill = 'x';
		break;
	case K_EXPIRY:
	case K_CVV:
	case K_ALG:
	case K_INT:
	case K_MAP:
		free(s);
		return NULL;
	}
	hl = strlen(head);
	if (hl > n) {
		free(s);
		return NULL;
	}
	memcpy(s, head, hl);
	memset(s + hl, fill, n - hl);
	if (f->kind == K_SSHPUB && n > hl)
		s[hl] = ' ';
	s[n] = '\0';
	return s;
}

/* No string value of `v` (recursively) appears in err: messages name fields, never values. */
static void
assert_no_values(const char *err, const json_t *v, const char *where)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = strlen(s);
		char head[13];

		if (n >= 4 && strstr(err, s) != NULL)
			fail_msg("%s: the message echoes a value: '%s'", where, err);
		/* (a URI's scheme is a format word: messages name it) */
		if (n >= 8 && strncmp(s, "otpauth:", 8) != 0) {
			snprintf(head, sizeof(head), "%s", s);
			if (strstr(err, head) != NULL)
				fail_msg("%s: the message echoes the start of a value: '%s'", where,
				    err);
		}
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
			assert_no_values(err, x, where);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			assert_no_values(err, x, where);
	}
}

/* Validation must succeed. Consumes fields. */
static void
expect_ok_(enum secret_type t, json_t *fields, const char *where)
{
	char err[VAULT_ERR_MAX];
	int r = secret_fields_validate(t, fields, err);

	if (r != 0)
		fail_msg("%s: %s refused (%d): %s", where, secret_type_str(t), r, err);
	assert_string_equal(err, "");
	json_decref(fields);
}

/*
 * Validation must fail with VT_ERR_VALIDATION, the message must contain `want` (the field) and
 * no value. Consumes fields.
 */
static void
expect_bad_(enum secret_type t, json_t *fields, const char *want, const char *where)
{
	char err[VAULT_ERR_MAX];
	int r = secret_fields_validate(t, fields, err);

	if (r != VT_ERR_VALIDATION)
		fail_msg("%s: %s: expected VT_ERR_VALIDATION, got %d (%s)", where,
		    secret_type_str(t), r, err);
	if (strstr(err, want) == NULL)
		fail_msg("%s: %s: the message '%s' does not contain '%s'", where,
		    secret_type_str(t), err, want);
	assert_true(strlen(err) < VAULT_ERR_MAX);
	assert_no_values(err, fields, where);
	json_decref(fields);
}

#define STR2(x) #x
#define STR(x) STR2(x)
#define HERE __FILE__ ":" STR(__LINE__)
#define expect_ok(t, f) expect_ok_(t, f, HERE)
#define expect_bad(t, f, w) expect_bad_(t, f, w, HERE)

/* "'fields.<name>'" into out. */
static const char *
fname(char out[static 96], const char *name)
{
	snprintf(out, 96, "'fields.%s'", name);
	return out;
}

/* --- type names ------------------------------------------------------------------------------- */

static void
test_type_parse(void **state)
{
	enum secret_type t;
	size_t i;

	for (i = 0; i < VT_NELEM(TYPES); i++) {
		t = (enum secret_type)-1;
		assert_int_equal(secret_type_parse(TYPES[i].name, &t), 0);
		assert_int_equal(t, TYPES[i].type);
		assert_string_equal(secret_type_str(t), TYPES[i].name);
	}
	assert_int_equal(secret_type_parse("password", &t), VT_ERR_VALIDATION);
	assert_int_equal(secret_type_parse("PASSWORD ", &t), VT_ERR_VALIDATION);
	assert_int_equal(secret_type_parse("", &t), VT_ERR_VALIDATION);
	assert_int_equal(secret_type_parse(NULL, &t), VT_ERR_VALIDATION);
	assert_int_equal(secret_type_parse("CERTIFICATE", &t), VT_ERR_VALIDATION);
	assert_string_equal(secret_type_str((enum secret_type)99), "UNKNOWN");
}

/* --- generic, for every type and field -------------------------------------------------------- */

static void
test_happy_path_each_type(void **state)
{
	size_t i;

	for (i = 0; i < VT_NELEM(TYPES); i++)
		expect_ok(TYPES[i].type, base_fields(TYPES[i].type));
}

/* Every field of every type set to a valid value at once. */
static void
test_all_fields_each_type(void **state)
{
	char c[48];
	json_t *o;
	size_t i, j;

	for (i = 0; i < VT_NELEM(TYPES); i++) {
		const struct tspec *ts = &TYPES[i];

		o = base_fields(ts->type);
		for (j = 0; j < ts->n; j++) {
			const struct fspec *f = &ts->f[j];

			canary(c, f->name);
			switch (f->kind) {
			case K_FREE:
			case K_TEXT:
				if (json_object_get(o, f->name) == NULL)
					set_str(o, f->name, c);
				break;
			case K_EXPIRY:
				set_str(o, f->name, "09/2031");
				break;
			case K_CVV:
				set_str(o, f->name, "0421");
				break;
			case K_ALG:
				set_str(o, f->name, "SHA256");
				break;
			case K_INT:
				json_object_set_new(o, f->name, json_integer((json_int_t)f->max));
				break;
			case K_MAP:
				json_object_set_new(o, f->name, json_pack("{s:s, s:s}", "pin", c,
				    "recovery code", "cn-recovery"));
				break;
			case K_SSHPUB:
				set_str(o, f->name, KEY_PLAIN->pub);
				break;
			case K_ENV:
			case K_CARD:
			case K_SEED:
			case K_SSHPRIV:
				break; /* set by base_fields */
			}
		}
		if (ts->type == SECRET_SSH_KEY) {
			/* An unencrypted key ignores a passphrase. */
			set_str(o, "passphrase", passphrase);
		}
		expect_ok(ts->type, o);
	}
}

static void
test_required_missing_null_empty(void **state)
{
	char want[96];
	size_t i, j;
	json_t *o;

	for (i = 0; i < VT_NELEM(TYPES); i++) {
		const struct tspec *ts = &TYPES[i];

		for (j = 0; j < ts->n; j++) {
			const struct fspec *f = &ts->f[j];

			if (!f->required)
				continue;
			fname(want, f->name);
			o = base_fields(ts->type);
			assert_int_equal(json_object_del(o, f->name), 0);
			expect_bad(ts->type, o, want);
			o = base_fields(ts->type);
			json_object_set_new(o, f->name, json_null());
			expect_bad(ts->type, o, want);
			o = base_fields(ts->type);
			set_str(o, f->name, "");
			expect_bad(ts->type, o, want);
		}
	}
	/* The message says "required" for a missing field. */
	{
		char err[VAULT_ERR_MAX];

		o = json_object();
		assert_int_equal(secret_fields_validate(SECRET_ENV_VAR, o, err), VT_ERR_VALIDATION);
		assert_non_null(strstr(err, "'fields.name': is required"));
		json_decref(o);
	}
}

/* Optional fields may be absent, null or empty (IDENTITY needs one non-empty field). */
static void
test_optional_null_or_empty(void **state)
{
	size_t i, j;
	json_t *o;

	for (i = 0; i < VT_NELEM(TYPES); i++) {
		const struct tspec *ts = &TYPES[i];

		for (j = 0; j < ts->n; j++) {
			const struct fspec *f = &ts->f[j];

			/* IDENTITY's base is its name: without it nothing is left (tested below) */
			if (f->required || (ts->type == SECRET_IDENTITY && strcmp(f->name, "name") == 0))
				continue;
			o = base_fields(ts->type);
			json_object_set_new(o, f->name, json_null());
			expect_ok(ts->type, o);
			if (f->kind == K_INT || f->kind == K_MAP)
				continue;
			o = base_fields(ts->type);
			set_str(o, f->name, "");
			expect_ok(ts->type, o);
		}
	}
}

static void
test_unknown_field(void **state)
{
	size_t i;
	json_t *o;

	for (i = 0; i < VT_NELEM(TYPES); i++) {
		o = base_fields(TYPES[i].type);
		set_str(o, "bogus_field", "cn-unknown-field-value-71a3");
		expect_bad(TYPES[i].type, o, "'fields.bogus_field': unknown field");
	}
	/* A field of another type is unknown here. */
	o = base_fields(SECRET_API_KEY);
	set_str(o, "password", "cn-other-types-field-9c1e");
	expect_bad(SECRET_API_KEY, o, "'fields.password': unknown field");
	/* Field names are case sensitive. */
	o = base_fields(SECRET_SECURE_NOTE);
	set_str(o, "Title", "cn-case-title-0b2d");
	expect_bad(SECRET_SECURE_NOTE, o, "'fields.Title'");
}

static void
test_fields_not_object(void **state)
{
	char err[VAULT_ERR_MAX];
	json_t *v[4];
	size_t i;

	v[0] = json_string("cn-fields-as-string-55aa");
	v[1] = json_pack("[s]", "cn-fields-as-array-66bb");
	v[2] = json_integer(7);
	v[3] = json_null();
	for (i = 0; i < VT_NELEM(v); i++) {
		assert_int_equal(secret_fields_validate(SECRET_PASSWORD, v[i], err),
		    VT_ERR_VALIDATION);
		assert_non_null(strstr(err, "'fields': must be an object"));
		assert_no_values(err, v[i], HERE);
		json_decref(v[i]);
	}
	assert_int_equal(secret_fields_validate(SECRET_PASSWORD, NULL, err), VT_ERR_VALIDATION);
	assert_int_equal(secret_fields_validate((enum secret_type)99, v[0], err), VT_ERR_VALIDATION);
	assert_non_null(strstr(err, "'type'"));
}

static void
test_wrong_json_types(void **state)
{
	char want[96];
	size_t i, j, k;
	json_t *o;

	for (i = 0; i < VT_NELEM(TYPES); i++) {
		const struct tspec *ts = &TYPES[i];

		for (j = 0; j < ts->n; j++) {
			const struct fspec *f = &ts->f[j];
			json_t *bad[5];

			fname(want, f->name);
			bad[0] = json_integer(12345);
			bad[1] = json_true();
			bad[2] = json_pack("[s]", "cn-in-array-3f3f");
			bad[3] = json_real(6.0);
			bad[4] = f->kind == K_INT ? json_string("6") : json_pack("{s:s}", "k",
			    "cn-in-object-4e4e");
			for (k = 0; k < VT_NELEM(bad); k++) {
				if (f->kind == K_MAP && k == 4) {
					json_decref(bad[k]); /* an object is right for custom */
					continue;
				}
				o = base_fields(ts->type);
				json_object_set_new(o, f->name, bad[k]);
				expect_bad(ts->type, o, want);
			}
		}
	}
	/* The messages say which type is wanted. */
	o = base_fields(SECRET_TOTP);
	set_str(o, "digits", "6");
	expect_bad(SECRET_TOTP, o, "'fields.digits': must be an integer");
	o = base_fields(SECRET_PASSWORD);
	json_object_set_new(o, "password", json_integer(123456));
	expect_bad(SECRET_PASSWORD, o, "'fields.password': must be a string");
	o = base_fields(SECRET_PASSWORD);
	set_str(o, "custom", "cn-custom-as-string-8d8d");
	expect_bad(SECRET_PASSWORD, o, "'fields.custom': must be an object of strings");
}

/* Each size limit: max accepted (when a value that long can be valid), max + 1 refused. */
static void
test_size_limits(void **state)
{
	char want[96], err[VAULT_ERR_MAX];
	size_t i, j;
	json_t *o;

	for (i = 0; i < VT_NELEM(TYPES); i++) {
		const struct tspec *ts = &TYPES[i];

		for (j = 0; j < ts->n; j++) {
			const struct fspec *f = &ts->f[j];
			char *v;

			if (f->kind == K_INT || f->kind == K_MAP)
				continue;
			fname(want, f->name);
			/* max + 1: refused on size, whatever the content */
			v = malloc(f->max + 2);
			assert_non_null(v);
			memset(v, f->kind == K_ENV ? 'A' : '7', f->max + 1);
			v[f->max + 1] = '\0';
			o = base_fields(ts->type);
			set_str(o, f->name, v);
			free(v);
			snprintf(err, sizeof(err), "'fields.%s': must be at most %zu bytes", f->name,
			    f->max);
			expect_bad(ts->type, o, err);
			/* max: accepted when valid; otherwise refused for its format, not its size */
			v = value_of_len(f, f->max);
			o = base_fields(ts->type);
			if (v != NULL) {
				assert_int_equal(strlen(v), f->max);
				set_str(o, f->name, v);
				free(v);
				expect_ok(ts->type, o);
			} else {
				v = malloc(f->max + 1);
				assert_non_null(v);
				memset(v, '7', f->max);
				v[f->max] = '\0';
				set_str(o, f->name, v);
				free(v);
				assert_int_equal(secret_fields_validate(ts->type, o, err),
				    VT_ERR_VALIDATION);
				assert_non_null(strstr(err, want));
				assert_null(strstr(err, "at most"));
				json_decref(o);
			}
		}
	}
}

static void
test_one_line_fields(void **state)
{
	static const char *const bad[] = { "cn-line\nbreak-1a1a", "cn-tab\tchar-2b2b",
		"cn-del\x7f-3c3c", "cn-c1\xc2\x85-4d4d", "cn-rlo\xe2\x80\xae-5e5e" };
	char want[96];
	size_t i, j, k;
	json_t *o;

	for (i = 0; i < VT_NELEM(TYPES); i++) {
		const struct tspec *ts = &TYPES[i];

		for (j = 0; j < ts->n; j++) {
			const struct fspec *f = &ts->f[j];

			if (f->kind != K_TEXT && f->kind != K_FREE)
				continue;
			for (k = 0; k < VT_NELEM(bad); k++) {
				o = base_fields(ts->type);
				set_str(o, f->name, bad[k]);
				if (f->kind == K_FREE) {
					expect_ok(ts->type, o); /* notes, passwords: anything */
				} else {
					fname(want, f->name);
					expect_bad(ts->type, o, want);
				}
			}
		}
	}
}

/* --- PASSWORD.custom ----------------------------------------------------------------------- */

static void
test_password_custom(void **state)
{
	char key[128], c[48], *v;
	json_t *o, *m;
	int i;

	/* SECRET_CUSTOM_MAX entries accepted, one more refused */
	o = base_fields(SECRET_PASSWORD);
	m = json_object();
	for (i = 0; i < SECRET_CUSTOM_MAX; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		canary(c, "custom");
		set_str(m, key, c);
	}
	json_object_set(o, "custom", m);
	expect_ok(SECRET_PASSWORD, o);
	o = base_fields(SECRET_PASSWORD);
	set_str(m, "one-too-many", "cn-custom-51st-6f6f");
	json_object_set_new(o, "custom", m);
	expect_bad(SECRET_PASSWORD, o, "'fields.custom': at most");
	/* value of 4096 bytes accepted, 4097 refused, not a string refused */
	v = malloc(4 * KB + 2);
	assert_non_null(v);
	memset(v, 'v', 4 * KB + 1);
	v[4 * KB] = '\0';
	o = base_fields(SECRET_PASSWORD);
	json_object_set_new(o, "custom", json_pack("{s:s}", "pin", v));
	expect_ok(SECRET_PASSWORD, o);
	v[4 * KB] = 'v';
	v[4 * KB + 1] = '\0';
	o = base_fields(SECRET_PASSWORD);
	json_object_set_new(o, "custom", json_pack("{s:s}", "pin", v));
	expect_bad(SECRET_PASSWORD, o, "'fields.custom");
	free(v);
	o = base_fields(SECRET_PASSWORD);
	json_object_set_new(o, "custom", json_pack("{s:i}", "pin", 1234));
	expect_bad(SECRET_PASSWORD, o, "'fields.custom");
	/* keys: 1 to 100 printable bytes */
	memset(key, 'k', 100);
	key[100] = '\0';
	o = base_fields(SECRET_PASSWORD);
	json_object_set_new(o, "custom", json_pack("{s:s}", key, "cn-custom-key100-7a7a"));
	expect_ok(SECRET_PASSWORD, o);
	key[100] = 'k';
	key[101] = '\0';
	o = base_fields(SECRET_PASSWORD);
	json_object_set_new(o, "custom", json_pack("{s:s}", key, "cn-custom-key101-8b8b"));
	expect_bad(SECRET_PASSWORD, o, "'fields.custom': keys must be 1 to 100");
	o = base_fields(SECRET_PASSWORD);
	json_object_set_new(o, "custom", json_pack("{s:s}", "", "cn-custom-emptykey-9c9c"));
	expect_bad(SECRET_PASSWORD, o, "'fields.custom': keys");
	o = base_fields(SECRET_PASSWORD);
	json_object_set_new(o, "custom", json_pack("{s:s}", "a\nb", "cn-custom-ctlkey-adad"));
	expect_bad(SECRET_PASSWORD, o, "'fields.custom': keys");
	/* an empty object is fine */
	o = base_fields(SECRET_PASSWORD);
	json_object_set_new(o, "custom", json_object());
	expect_ok(SECRET_PASSWORD, o);
}

/* --- ENV_VAR ------------------------------------------------------------------------------------ */

static void
test_env_var_name(void **state)
{
	static const char *const good[] = { "A", "_", "a", "_A1", "DATABASE_URL", "lower_case_9",
		"__x__" };
	static const char *const bad[] = { "1ABC_cnry", "A-B_cnry", "A B_cnry", "A=B_cnry",
		"A.B_cnry", "\xc3\x84_cnry", "$HOME_cnry", "A\nB_cnry" };
	json_t *o;
	size_t i;

	for (i = 0; i < VT_NELEM(good); i++) {
		o = base_fields(SECRET_ENV_VAR);
		set_str(o, "name", good[i]);
		expect_ok(SECRET_ENV_VAR, o);
	}
	for (i = 0; i < VT_NELEM(bad); i++) {
		o = base_fields(SECRET_ENV_VAR);
		set_str(o, "name", bad[i]);
		expect_bad(SECRET_ENV_VAR, o, "'fields.name': must be a variable name");
	}
}

/* --- PAYMENT_CARD ------------------------------------------------------------------------------- */

static void
test_card_luhn(void **state)
{
	static const char *const good[] = { "4111111111111111", "4111 1111 1111 1111",
		"4111-1111-1111-1111", "5555555555554444", "378282246310005", "6011111111111117",
		" 4111111111111111 " };
	static const char *const bad[] = { "4111111111111112", "4111111111111110",
		"4111 1111 1111 111a", "4111_1111_1111_1111", "0000000000", "12345678903",
		"41111111111111111113", "", "    ", "+4111111111111111" };
	char num[24], mod[24];
	json_t *o;
	size_t i;
	int n, d, iter;

	for (i = 0; i < VT_NELEM(good); i++) {
		o = base_fields(SECRET_PAYMENT_CARD);
		set_str(o, "number", good[i]);
		expect_ok(SECRET_PAYMENT_CARD, o);
	}
	for (i = 0; i < VT_NELEM(bad); i++) {
		o = base_fields(SECRET_PAYMENT_CARD);
		set_str(o, "number", bad[i]);
		expect_bad(SECRET_PAYMENT_CARD, o, "'fields.number'");
	}
	/* Generated numbers of 12..19 digits pass; changing any one digit by 1..9 fails Luhn. */
	for (iter = 0; iter < 64; iter++) {
		n = 12 + iter % 8;
		card_number(num, n);
		o = base_fields(SECRET_PAYMENT_CARD);
		set_str(o, "number", num);
		expect_ok(SECRET_PAYMENT_CARD, o);
		for (i = 0; i < (size_t)n; i++) {
			d = 1 + iter % 9;
			memcpy(mod, num, sizeof(mod));
			mod[i] = (char)('0' + (mod[i] - '0' + d) % 10);
			/*
			 * Luhn catches every single-digit change: on the doubled positions the map
			 * 0..9 -> 0 2 4 6 8 1 3 5 7 9 is a permutation, so the sum mod 10 changes.
			 */
			o = base_fields(SECRET_PAYMENT_CARD);
			set_str(o, "number", mod);
			expect_bad(SECRET_PAYMENT_CARD, o, "'fields.number': is not a valid card");
		}
	}
	/* 11 and 20 digits refused even with a valid check digit. */
	card_number(num, 11);
	o = base_fields(SECRET_PAYMENT_CARD);
	set_str(o, "number", num);
	expect_bad(SECRET_PAYMENT_CARD, o, "'fields.number'");
	card_number(num, 20);
	o = base_fields(SECRET_PAYMENT_CARD);
	set_str(o, "number", num);
	expect_bad(SECRET_PAYMENT_CARD, o, "'fields.number'");
}

static void
test_card_expiry_cvv(void **state)
{
	static const char *const exp_good[] = { "01/27", "12/99", "09/2031", "10/1999" };
	static const char *const exp_bad[] = { "13/27", "00/27", "1/27", "01-27", "01/2", "01/ab",
		"21/27", "01/20271", "0127", "01/027", "ab/cd", "01/27 " };
	static const char *const cvv_good[] = { "000", "123", "1234" };
	static const char *const cvv_bad[] = { "12", "12345", "12a", "1 23", "-123", "١٢٣" };
	json_t *o;
	size_t i;

	for (i = 0; i < VT_NELEM(exp_good); i++) {
		o = base_fields(SECRET_PAYMENT_CARD);
		set_str(o, "expiry", exp_good[i]);
		expect_ok(SECRET_PAYMENT_CARD, o);
	}
	for (i = 0; i < VT_NELEM(exp_bad); i++) {
		o = base_fields(SECRET_PAYMENT_CARD);
		set_str(o, "expiry", exp_bad[i]);
		expect_bad(SECRET_PAYMENT_CARD, o, "'fields.expiry': must be MM/YY or MM/YYYY");
	}
	for (i = 0; i < VT_NELEM(cvv_good); i++) {
		o = base_fields(SECRET_PAYMENT_CARD);
		set_str(o, "cvv", cvv_good[i]);
		expect_ok(SECRET_PAYMENT_CARD, o);
	}
	for (i = 0; i < VT_NELEM(cvv_bad); i++) {
		o = base_fields(SECRET_PAYMENT_CARD);
		set_str(o, "cvv", cvv_bad[i]);
		expect_bad(SECRET_PAYMENT_CARD, o, "'fields.cvv': must be 3 or 4 digits");
	}
}

/* --- IDENTITY ----------------------------------------------------------------------------------- */

static void
test_identity_at_least_one(void **state)
{
	char c[48];
	json_t *o;
	size_t j;

	o = json_object();
	expect_bad(SECRET_IDENTITY, o, "'fields': type IDENTITY needs at least one field");
	o = json_pack("{s:s, s:s, s:n}", "name", "", "email", "", "phone");
	expect_bad(SECRET_IDENTITY, o, "needs at least one field");
	for (j = 0; j < VT_NELEM(IDENTITY_F); j++) {
		canary(c, IDENTITY_F[j].name);
		o = json_object();
		set_str(o, IDENTITY_F[j].name, c);
		expect_ok(SECRET_IDENTITY, o);
	}
}

/* --- TOTP --------------------------------------------------------------------------------------- */

/* secret_totp_params of validated fields; checks that validation agrees. */
static void
totp_params_ok(json_t *o, struct totp_params *tp)
{
	char err[VAULT_ERR_MAX];

	if (secret_fields_validate(SECRET_TOTP, o, err) != 0)
		fail_msg("TOTP fields refused: %s", err);
	assert_int_equal(secret_totp_params(o, tp), 0);
}

static void
test_totp_seed_forms(void **state)
{
	uint8_t raw[TOTP_SECRET_MAX];
	char b32[256], form[320];
	struct totp_params tp;
	size_t n, i, o2;
	json_t *o;

	for (n = 10; n <= 64; n += 9) {
		random_bytes(raw, n);
		base32_encode(raw, n, b32);
		/* plain */
		o = json_pack("{s:s}", "seed", b32);
		totp_params_ok(o, &tp);
		assert_int_equal(tp.seedlen, n);
		assert_memory_equal(tp.seed, raw, n);
		assert_int_equal(tp.digits, 6);
		assert_int_equal(tp.period, 30);
		assert_int_equal(tp.alg, HMAC_SHA1);
		json_decref(o);
		/* padded to a multiple of 8 */
		snprintf(form, sizeof(form), "%s", b32);
		while (strlen(form) % 8 != 0)
			strncat(form, "=", sizeof(form) - strlen(form) - 1);
		o = json_pack("{s:s}", "seed", form);
		totp_params_ok(o, &tp);
		assert_int_equal(tp.seedlen, n);
		assert_memory_equal(tp.seed, raw, n);
		json_decref(o);
		/* lower case, in groups of four separated by spaces (as apps show it) */
		for (i = 0, o2 = 0; b32[i] != '\0'; i++) {
			if (i > 0 && i % 4 == 0)
				form[o2++] = ' ';
			form[o2++] = (char)tolower((unsigned char)b32[i]);
		}
		form[o2] = '\0';
		o = json_pack("{s:s}", "seed", form);
		totp_params_ok(o, &tp);
		assert_int_equal(tp.seedlen, n);
		assert_memory_equal(tp.seed, raw, n);
		json_decref(o);
	}
}

static void
test_totp_seed_bad(void **state)
{
	uint8_t raw[TOTP_SECRET_MAX + 1];
	char b32[512], big[512];
	struct totp_params tp;
	json_t *o;

	/* 9 bytes (72 bits): too short; 10 bytes is the minimum (tested above) */
	random_bytes(raw, 9);
	base32_encode(raw, 9, b32);
	o = json_pack("{s:s}", "seed", b32);
	assert_int_not_equal(secret_totp_params(o, &tp), 0);
	assert_int_equal(tp.seedlen, 0); /* cleared on failure */
	expect_bad(SECRET_TOTP, o, "'fields.seed'");
	/* longer than TOTP_SECRET_MAX bytes */
	random_bytes(raw, TOTP_SECRET_MAX + 1);
	base32_encode(raw, TOTP_SECRET_MAX + 1, big);
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", big), "'fields.seed'");
	/* not base32: '1', '0', '8' and punctuation; data after padding; bad final group */
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", "JBSWY3DPEHPK3PX1JBSWY3DP"),
	    "'fields.seed'");
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", "JBSWY3DPEHPK3PX8JBSWY3DP"),
	    "'fields.seed'");
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", "JBSWY3DP-EHPK3PXP-JBSWY3DP"),
	    "'fields.seed'");
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", "JBSWY3DPEHPK3PXP====JBSW"),
	    "'fields.seed'");
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", "JBSWY3DPEHPK3PXPA"), "'fields.seed'");
	/* hotp and other otpauth kinds are not time-based */
	expect_bad(SECRET_TOTP,
	    json_pack("{s:s}", "seed",
		"otpauth://hotp/Example:cn?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&counter=1"),
	    "'fields.seed'");
	expect_bad(SECRET_TOTP,
	    json_pack("{s:s}", "seed", "otpauth://steam/x?secret=JBSWY3DPEHPK3PXPJBSWY3DP"),
	    "'fields.seed'");
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", "otpauth://totp/NoSecret?issuer=cnry"),
	    "'fields.seed'");
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", "otpauth://totp/NoQuery"),
	    "'fields.seed'");
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed",
	    "https://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DP"), "'fields.seed'");
}

static void
test_totp_uri(void **state)
{
	/* RFC 6238 Appendix B seeds: 20, 32 and 64 ASCII bytes. */
	static const char *const seed1 = "12345678901234567890";
	static const char *const seed256 = "12345678901234567890123456789012";
	static const char *const seed512 =
	    "1234567890123456789012345678901234567890123456789012345678901234";
	char b32[256], uri[512], code[TOTP_CODE_MAX + 1];
	struct totp_params tp;
	json_t *o;

	base32_encode((const uint8_t *)seed256, strlen(seed256), b32);
	snprintf(uri, sizeof(uri), "otpauth://totp/Example:alice%%40example.com?secret=%s"
				   "&issuer=Example&algorithm=SHA256&digits=8&period=30", b32);
	o = json_pack("{s:s}", "seed", uri);
	totp_params_ok(o, &tp);
	assert_int_equal(tp.alg, HMAC_SHA256);
	assert_int_equal(tp.digits, 8);
	assert_int_equal(tp.period, 30);
	assert_int_equal(tp.seedlen, 32);
	assert_int_equal(totp_code_str(tp.alg, tp.seed, tp.seedlen, 59, tp.period, tp.digits, code),
	    0);
	assert_string_equal(code, "46119246");
	json_decref(o);

	/* SHA512 in lower case, upper-case scheme, parameters in another order */
	base32_encode((const uint8_t *)seed512, strlen(seed512), b32);
	snprintf(uri, sizeof(uri), "OTPAUTH://TOTP/x?digits=8&algorithm=sha512&secret=%s", b32);
	o = json_pack("{s:s}", "seed", uri);
	totp_params_ok(o, &tp);
	assert_int_equal(tp.alg, HMAC_SHA512);
	assert_int_equal(totp_code_str(tp.alg, tp.seed, tp.seedlen, 1111111109, tp.period,
	    tp.digits, code), 0);
	assert_string_equal(code, "25091201");
	json_decref(o);

	/* only secret: the defaults (SHA1, 6 digits, 30 s) */
	base32_encode((const uint8_t *)seed1, strlen(seed1), b32);
	snprintf(uri, sizeof(uri), "otpauth://totp/Example?secret=%s", b32);
	o = json_pack("{s:s}", "seed", uri);
	totp_params_ok(o, &tp);
	assert_int_equal(tp.alg, HMAC_SHA1);
	assert_int_equal(tp.digits, 6);
	assert_int_equal(tp.period, 30);
	assert_int_equal(totp_code_str(tp.alg, tp.seed, tp.seedlen, 59, tp.period, tp.digits, code),
	    0);
	assert_string_equal(code, "287082");
	json_decref(o);

	/* explicit fields override the URI's parameters */
	snprintf(uri, sizeof(uri), "otpauth://totp/E?secret=%s&algorithm=SHA256&digits=8"
				   "&period=60", b32);
	o = json_pack("{s:s, s:i, s:i, s:s}", "seed", uri, "digits", 7, "period", 45, "algorithm",
	    "SHA512");
	totp_params_ok(o, &tp);
	assert_int_equal(tp.alg, HMAC_SHA512);
	assert_int_equal(tp.digits, 7);
	assert_int_equal(tp.period, 45);
	json_decref(o);
	o = json_pack("{s:s, s:i}", "seed", uri, "digits", 6);
	totp_params_ok(o, &tp);
	assert_int_equal(tp.alg, HMAC_SHA256); /* from the URI */
	assert_int_equal(tp.digits, 6);        /* the field */
	assert_int_equal(tp.period, 60);       /* from the URI */
	json_decref(o);
	/* explicit fields with a plain base32 seed */
	o = json_pack("{s:s, s:i, s:i, s:s}", "seed", b32, "digits", 8, "period", 10, "algorithm",
	    "sha256");
	totp_params_ok(o, &tp);
	assert_int_equal(tp.alg, HMAC_SHA256);
	assert_int_equal(tp.digits, 8);
	assert_int_equal(tp.period, 10);
	json_decref(o);

	/* bad URI parameters are refused */
	snprintf(uri, sizeof(uri), "otpauth://totp/E?secret=%s&digits=9", b32);
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", uri), "'fields.seed'");
	snprintf(uri, sizeof(uri), "otpauth://totp/E?secret=%s&digits=5", b32);
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", uri), "'fields.seed'");
	snprintf(uri, sizeof(uri), "otpauth://totp/E?secret=%s&period=9", b32);
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", uri), "'fields.seed'");
	snprintf(uri, sizeof(uri), "otpauth://totp/E?secret=%s&period=301", b32);
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", uri), "'fields.seed'");
	snprintf(uri, sizeof(uri), "otpauth://totp/E?secret=%s&period=abc", b32);
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", uri), "'fields.seed'");
	snprintf(uri, sizeof(uri), "otpauth://totp/E?secret=%s&algorithm=MD5", b32);
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", uri), "'fields.seed'");
	snprintf(uri, sizeof(uri), "otpauth://totp/E?secret=JBSWY3DPEHPK3PX&issuer=cnry");
	expect_bad(SECRET_TOTP, json_pack("{s:s}", "seed", uri), "'fields.seed'");
}

static void
test_totp_digits_period_algorithm(void **state)
{
	static const char *const alg_bad[] = { "MD5", "SHA-1", "sha384", "SHA1 ", "" };
	json_t *o;
	int v;
	size_t i;

	for (v = 0; v <= 12; v++) {
		o = base_fields(SECRET_TOTP);
		json_object_set_new(o, "digits", json_integer(v));
		if (v >= 6 && v <= 8)
			expect_ok(SECRET_TOTP, o);
		else
			expect_bad(SECRET_TOTP, o, "'fields.digits': must be between 6 and 8");
	}
	{
		static const int periods[] = { -30, 0, 1, 9, 10, 11, 30, 299, 300, 301, 3600 };

		for (i = 0; i < VT_NELEM(periods); i++) {
			o = base_fields(SECRET_TOTP);
			json_object_set_new(o, "period", json_integer(periods[i]));
			if (periods[i] >= 10 && periods[i] <= 300)
				expect_ok(SECRET_TOTP, o);
			else
				expect_bad(SECRET_TOTP, o,
				    "'fields.period': must be between 10 and 300");
		}
	}
	o = base_fields(SECRET_TOTP);
	json_object_set_new(o, "digits", json_integer((json_int_t)1 << 40));
	expect_bad(SECRET_TOTP, o, "'fields.digits'");
	for (i = 0; i < VT_NELEM(alg_bad); i++) {
		o = base_fields(SECRET_TOTP);
		set_str(o, "algorithm", alg_bad[i]);
		if (alg_bad[i][0] == '\0')
			expect_ok(SECRET_TOTP, o); /* empty optional: the default */
		else
			expect_bad(SECRET_TOTP, o, "'fields.algorithm': must be SHA1, SHA256 or "
						   "SHA512");
	}
}

/* --- SSH_KEY ------------------------------------------------------------------------------------ */

static json_t *
ssh_fields(const char *priv, const char *pass, const char *pub)
{
	json_t *o = json_object();

	set_str(o, "private_key", priv);
	if (pass != NULL)
		set_str(o, "passphrase", pass);
	if (pub != NULL)
		set_str(o, "public_key", pub);
	return o;
}

static void
test_ssh_keys_accepted(void **state)
{
	char pubnl[4096];
	size_t i;

	for (i = 0; i < VT_NELEM(KEYS); i++) {
		const struct sshkey *k = &KEYS[i];

		expect_ok(SECRET_SSH_KEY, ssh_fields(k->priv, k->encrypted ? passphrase : NULL,
		    NULL));
		/* with its own public key: as in the .pub file, and with a trailing newline */
		expect_ok(SECRET_SSH_KEY, ssh_fields(k->priv, k->encrypted ? passphrase : NULL,
		    k->pub));
		snprintf(pubnl, sizeof(pubnl), "%s\n", k->pub);
		expect_ok(SECRET_SSH_KEY, ssh_fields(k->priv, k->encrypted ? passphrase : NULL,
		    pubnl));
	}
}

static void
test_ssh_keys_refused(void **state)
{
	char wrong[48], pub[4096], *sp;
	size_t i;

	canary(wrong, "wrongpass");
	for (i = 0; i < VT_NELEM(KEYS); i++) {
		const struct sshkey *k = &KEYS[i];

		/* another key's public key */
		const struct sshkey *other = k == KEY_OTHER ? KEY_PLAIN : KEY_OTHER;

		expect_bad(SECRET_SSH_KEY, ssh_fields(k->priv, k->encrypted ? passphrase : NULL,
		    other->pub), "'fields.public_key': does not match");
		/* this key's type with one base64 character changed */
		snprintf(pub, sizeof(pub), "%s", k->pub);
		sp = strchr(pub, ' ');
		assert_non_null(sp);
		sp[20] = sp[20] == 'A' ? 'B' : 'A';
		expect_bad(SECRET_SSH_KEY, ssh_fields(k->priv, k->encrypted ? passphrase : NULL,
		    pub), "'fields.public_key'");
		/* the blob without its type, and the blob with a suffix */
		expect_bad(SECRET_SSH_KEY, ssh_fields(k->priv, k->encrypted ? passphrase : NULL,
		    strchr(k->pub, ' ') + 1), "'fields.public_key'");
		snprintf(pub, sizeof(pub), "%s", k->pub);
		sp = strchr(strchr(pub, ' ') + 1, ' ');
		assert_non_null(sp);
		*sp = 'Q';
		expect_bad(SECRET_SSH_KEY, ssh_fields(k->priv, k->encrypted ? passphrase : NULL,
		    pub), "'fields.public_key'");
		if (!k->encrypted)
			continue;
		/* encrypted: no passphrase, an empty one, a wrong one */
		expect_bad(SECRET_SSH_KEY, ssh_fields(k->priv, NULL, NULL),
		    "'fields.private_key'");
		expect_bad(SECRET_SSH_KEY, ssh_fields(k->priv, "", NULL), "'fields.private_key'");
		expect_bad(SECRET_SSH_KEY, ssh_fields(k->priv, wrong, NULL),
		    "'fields.private_key': does not parse as a private key with this passphrase");
	}
	/* garbage, a public key, a truncated key, a key with its body damaged */
	expect_bad(SECRET_SSH_KEY, ssh_fields("cn-garbage-not-a-key-1f2e3d4c", NULL, NULL),
	    "'fields.private_key': does not parse");
	expect_bad(SECRET_SSH_KEY, ssh_fields(KEY_PLAIN->pub, NULL, NULL), "'fields.private_key'");
	{
		char *t = strdup(KEY_PLAIN->priv);

		assert_non_null(t);
		t[strlen(t) / 2] = '\0';
		expect_bad(SECRET_SSH_KEY, ssh_fields(t, NULL, NULL), "'fields.private_key'");
		free(t);
		t = strdup(KEYS[1].priv);
		assert_non_null(t);
		memset(t + 200, '#', 8); /* not base64 */
		expect_bad(SECRET_SSH_KEY, ssh_fields(t, NULL, NULL), "'fields.private_key'");
		free(t);
		expect_bad(SECRET_SSH_KEY, ssh_fields("-----BEGIN OPENSSH PRIVATE KEY-----\n"
		    "-----END OPENSSH PRIVATE KEY-----\n", NULL, NULL), "'fields.private_key'");
	}
}

static void
test_ssh_dsa_refused(void **state)
{
	expect_bad(SECRET_SSH_KEY, ssh_fields(dsa_vector, NULL, NULL),
	    "'fields.private_key': must be an Ed25519, RSA or ECDSA key");
	if (dsa_generated != NULL)
		expect_bad(SECRET_SSH_KEY, ssh_fields(dsa_generated, NULL, NULL),
		    "'fields.private_key': must be an Ed25519, RSA or ECDSA key");
	else
		print_message("note: this ssh-keygen no longer makes DSA keys; only the checked-in "
			      "tests/data/ssh_dsa_test_key was tested\n");
}

/*
 * An encrypted key without its passphrase is refused at once. Each check runs in a child whose
 * controlling terminal is a fresh pseudo-terminal: asking a terminal for the passphrase (what
 * OpenSSL does for PEM keys when libssh has no callback) would block there, and the child is
 * killed after 10 s; anything written to the terminal is a prompt and fails the test too.
 */
static void
test_ssh_encrypted_never_prompts(void **state)
{
	static const char *const passes[] = { NULL, "" };
	size_t i, p;

	for (i = 0; i < VT_NELEM(KEYS); i++) {
		if (!KEYS[i].encrypted)
			continue;
		for (p = 0; p < VT_NELEM(passes); p++) {
			char buf[256], *name;
			ssize_t got;
			pid_t pid, done = 0;
			int m, w, st = 0;

			m = posix_openpt(O_RDWR | O_NOCTTY);
			assert_true(m >= 0);
			assert_int_equal(grantpt(m), 0);
			assert_int_equal(unlockpt(m), 0);
			name = ptsname(m);
			assert_non_null(name);
			pid = fork();
			assert_true(pid >= 0);
			if (pid == 0) {
				char err[VAULT_ERR_MAX];
				json_t *o;
				int s, r;

				if (setsid() < 0 || (s = open(name, O_RDWR)) < 0)
					_exit(3);
				dup2(s, 0);
				dup2(s, 1);
				dup2(s, 2);
				o = ssh_fields(KEYS[i].priv, passes[p], NULL);
				r = secret_fields_validate(SECRET_SSH_KEY, o, err);
				json_decref(o);
				_exit(r == VT_ERR_VALIDATION ? 0 : 4);
			}
			/*
			 * Wait up to 10 s, draining the terminal so that a prompt cannot block on a
			 * full buffer. (OpenSSL's prompt catches SIGALRM: the parent must kill.)
			 */
			assert_int_equal(fcntl(m, F_SETFL, O_NONBLOCK), 0);
			got = 0;
			for (w = 0; w < 1000; w++) {
				ssize_t n = read(m, buf + got, sizeof(buf) - 1 - (size_t)got);

				if (n > 0)
					got += n;
				if ((done = waitpid(pid, &st, WNOHANG)) == pid)
					break;
				assert_int_equal(done, 0);
				usleep(10000);
			}
			buf[got] = '\0';
			close(m);
			if (done != pid) {
				kill(pid, SIGKILL);
				assert_int_equal(waitpid(pid, &st, 0), pid);
				fail_msg("%s, passphrase %s: validation blocked for 10 s asking the "
					 "terminal for a passphrase; it wrote '%s'", KEYS[i].name,
				    passes[p] == NULL ? "absent" : "empty", buf);
			}
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				fail_msg("%s: child exit status %d", KEYS[i].name, st);
			if (got > 0)
				fail_msg("%s, passphrase %s: validation wrote to the terminal: '%s'",
				    KEYS[i].name, passes[p] == NULL ? "absent" : "empty", buf);
		}
	}
}

/* --- setup ---------------------------------------------------------------------------------- */

static int
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int
group_setup(void **state)
{
	char path[512];
	size_t i;

	if (secmem_init() != 0)
		return -1;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	canary(passphrase, "passphrase");
	for (i = 0; i < VT_NELEM(KEYS); i++) {
		struct sshkey *k = &KEYS[i];
		char *nl;

		if (sh("ssh-keygen -q %s -N '%s' -C 'cn-comment-%s' -f '%s/%s' </dev/null >/dev/null",
		    k->args, k->encrypted ? passphrase : "", k->name, tmpdir, k->name) != 0) {
			fprintf(stderr, "ssh-keygen %s failed (is openssh-client installed?)\n",
			    k->args);
			return -1;
		}
		snprintf(path, sizeof(path), "%s/%s", tmpdir, k->name);
		k->priv = slurp(path);
		snprintf(path, sizeof(path), "%s/%s.pub", tmpdir, k->name);
		k->pub = slurp(path);
		if (k->priv == NULL || k->pub == NULL)
			return -1;
		if ((nl = strchr(k->pub, '\n')) != NULL)
			*nl = '\0';
	}
	dsa_vector = slurp(VT_TEST_DATA_DIR "/ssh_dsa_test_key");
	if (dsa_vector == NULL) {
		fprintf(stderr, "cannot read %s/ssh_dsa_test_key\n", VT_TEST_DATA_DIR);
		return -1;
	}
	if (sh("ssh-keygen -q -t dsa -N '' -f '%s/dsa' </dev/null >/dev/null 2>&1", tmpdir) == 0) {
		snprintf(path, sizeof(path), "%s/dsa", tmpdir);
		dsa_generated = slurp(path);
	}
	return 0;
}

static int
group_teardown(void **state)
{
	size_t i;

	for (i = 0; i < VT_NELEM(KEYS); i++) {
		free(KEYS[i].priv);
		free(KEYS[i].pub);
	}
	free(dsa_vector);
	free(dsa_generated);
	if (tmpdir[strlen(tmpdir) - 1] != 'X')
		(void)sh("rm -rf '%s'", tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_parse),
		cmocka_unit_test(test_happy_path_each_type),
		cmocka_unit_test(test_all_fields_each_type),
		cmocka_unit_test(test_required_missing_null_empty),
		cmocka_unit_test(test_optional_null_or_empty),
		cmocka_unit_test(test_unknown_field),
		cmocka_unit_test(test_fields_not_object),
		cmocka_unit_test(test_wrong_json_types),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_one_line_fields),
		cmocka_unit_test(test_password_custom),
		cmocka_unit_test(test_env_var_name),
		cmocka_unit_test(test_card_luhn),
		cmocka_unit_test(test_card_expiry_cvv),
		cmocka_unit_test(test_identity_at_least_one),
		cmocka_unit_test(test_totp_seed_forms),
		cmocka_unit_test(test_totp_seed_bad),
		cmocka_unit_test(test_totp_uri),
		cmocka_unit_test(test_totp_digits_period_algorithm),
		cmocka_unit_test(test_ssh_keys_accepted),
		cmocka_unit_test(test_ssh_keys_refused),
		cmocka_unit_test(test_ssh_dsa_refused),
		cmocka_unit_test(test_ssh_encrypted_never_prompts),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
