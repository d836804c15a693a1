/*
 * The nine secret types and their fields. Each type is a table of fields (name, JSON type,
 * required, size limit, format check); validation rejects unknown fields, wrong JSON types,
 * missing or empty required fields and malformed values, naming the field and never echoing a
 * value. SSH private keys are parsed with libssh (OpenSSH and PEM formats, encrypted ones with
 * their passphrase); the key material stays inside libssh for the length of the check only.
 */
#include "vault/vault.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libssh/libssh.h>
#include <sodium.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/json.h"
#include "base/num.h"

enum fcheck {
	FC_NONE,
	FC_ENV_NAME,   /* [A-Za-z_][A-Za-z0-9_]* */
	FC_SSH_KEY,    /* checked together with passphrase/public_key */
	FC_TOTP_SEED,
	FC_TOTP_ALG,
	FC_CARD_NUMBER,
	FC_CARD_EXPIRY,
	FC_CARD_CVV,
	FC_TEXT,       /* single-line printable */
};

enum ftype {
	FT_STRING,
	FT_INT,
	FT_STRMAP, /* object of string values (PASSWORD.custom) */
};

struct field_spec {
	const char *name;
	enum ftype type;
	int required;
	size_t max; /* string bytes; int: max value */
	enum fcheck check;
	size_t min; /* int: min value */
};

struct type_spec {
	enum secret_type type;
	const char *name;
	const struct field_spec *fields;
	size_t nfields;
	int need_any; /* at least one field (IDENTITY) */
};

#define KB 1024

static const struct field_spec PASSWORD_F[] = {
	{ "password", FT_STRING, 1, 4 * KB, FC_NONE, 0 },
	{ "username", FT_STRING, 0, 1 * KB, FC_TEXT, 0 },
	{ "url", FT_STRING, 0, 2 * KB, FC_TEXT, 0 },
	{ "notes", FT_STRING, 0, 64 * KB, FC_NONE, 0 },
	{ "custom", FT_STRMAP, 0, 4 * KB, FC_NONE, 0 },
};
static const struct field_spec API_KEY_F[] = {
	{ "key", FT_STRING, 1, 16 * KB, FC_NONE, 0 },
	{ "label", FT_STRING, 0, 200, FC_TEXT, 0 },
	{ "service", FT_STRING, 0, 200, FC_TEXT, 0 },
	{ "notes", FT_STRING, 0, 64 * KB, FC_NONE, 0 },
};
static const struct field_spec SSH_KEY_F[] = {
	{ "private_key", FT_STRING, 1, 64 * KB, FC_SSH_KEY, 0 },
	{ "passphrase", FT_STRING, 0, 1 * KB, FC_NONE, 0 },
	{ "public_key", FT_STRING, 0, 16 * KB, FC_NONE, 0 },
};
static const struct field_spec ENV_VAR_F[] = {
	{ "name", FT_STRING, 1, 256, FC_ENV_NAME, 0 },
	{ "value", FT_STRING, 1, 128 * KB, FC_NONE, 0 },
};
static const struct field_spec SECURE_NOTE_F[] = {
	{ "body", FT_STRING, 1, 256 * KB, FC_NONE, 0 },
	{ "title", FT_STRING, 0, 200, FC_TEXT, 0 },
};
static const struct field_spec TOTP_F[] = {
	{ "seed", FT_STRING, 1, 2 * KB, FC_TOTP_SEED, 0 },
	{ "issuer", FT_STRING, 0, 200, FC_TEXT, 0 },
	{ "account", FT_STRING, 0, 200, FC_TEXT, 0 },
	{ "digits", FT_INT, 0, 8, FC_NONE, 6 },
	{ "period", FT_INT, 0, 300, FC_NONE, 10 },
	{ "algorithm", FT_STRING, 0, 16, FC_TOTP_ALG, 0 },
};
static const struct field_spec PAYMENT_CARD_F[] = {
	{ "number", FT_STRING, 1, 64, FC_CARD_NUMBER, 0 },
	{ "cardholder", FT_STRING, 0, 200, FC_TEXT, 0 },
	{ "expiry", FT_STRING, 0, 16, FC_CARD_EXPIRY, 0 },
	{ "cvv", FT_STRING, 0, 8, FC_CARD_CVV, 0 },
	{ "notes", FT_STRING, 0, 64 * KB, FC_NONE, 0 },
};
static const struct field_spec IDENTITY_F[] = {
	{ "name", FT_STRING, 0, 200, FC_TEXT, 0 },
	{ "address", FT_STRING, 0, 1 * KB, FC_NONE, 0 },
	{ "email", FT_STRING, 0, 254, FC_TEXT, 0 },
	{ "phone", FT_STRING, 0, 64, FC_TEXT, 0 },
	{ "document_number", FT_STRING, 0, 128, FC_TEXT, 0 },
	{ "notes", FT_STRING, 0, 64 * KB, FC_NONE, 0 },
};
static const struct field_spec PASSKEY_F[] = {
	{ "rp_id", FT_STRING, 1, 253, FC_TEXT, 0 },
	{ "credential_id", FT_STRING, 1, 1 * KB, FC_TEXT, 0 },
	{ "private_key", FT_STRING, 1, 16 * KB, FC_NONE, 0 },
	{ "user_handle", FT_STRING, 0, 1 * KB, FC_TEXT, 0 },
};

#define TYPE(t, n, f, any) { t, n, f, VT_NELEM(f), any }
static const struct type_spec TYPES[] = {
	TYPE(SECRET_PASSWORD, "PASSWORD", PASSWORD_F, 0),
	TYPE(SECRET_API_KEY, "API_KEY", API_KEY_F, 0),
	TYPE(SECRET_SSH_KEY, "SSH_KEY", SSH_KEY_F, 0),
	TYPE(SECRET_ENV_VAR, "ENV_VAR", ENV_VAR_F, 0),
	TYPE(SECRET_SECURE_NOTE, "SECURE_NOTE", SECURE_NOTE_F, 0),
	TYPE(SECRET_TOTP, "TOTP", TOTP_F, 0),
	TYPE(SECRET_PAYMENT_CARD, "PAYMENT_CARD", PAYMENT_CARD_F, 0),
	TYPE(SECRET_IDENTITY, "IDENTITY", IDENTITY_F, 1),
	TYPE(SECRET_PASSKEY, "PASSKEY", PASSKEY_F, 0),
};

int
secret_type_parse(const char *s, enum secret_type *t)
{
	size_t i;

	for (i = 0; s != NULL && i < VT_NELEM(TYPES); i++) {
		if (strcmp(s, TYPES[i].name) == 0) {
			*t = TYPES[i].type;
			return 0;
		}
	}
	return VT_ERR_VALIDATION;
}

const char *
secret_type_str(enum secret_type t)
{
	size_t i;

	for (i = 0; i < VT_NELEM(TYPES); i++)
		if (TYPES[i].type == t)
			return TYPES[i].name;
	return "UNKNOWN";
}

static const struct type_spec *
type_spec(enum secret_type t)
{
	size_t i;

	for (i = 0; i < VT_NELEM(TYPES); i++)
		if (TYPES[i].type == t)
			return &TYPES[i];
	return NULL;
}

#define FERR(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, VAULT_ERR_MAX, __VA_ARGS__);                                         \
		return VT_ERR_VALIDATION;                                                          \
	} while (0)

static int
check_env_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Digits of a card number (spaces and dashes allowed between groups) and the Luhn check. */
static int
check_card_number(const char *s)
{
	int sum = 0, n = 0, dbl = 0;
	size_t i = strlen(s);

	while (i-- > 0) {
		int d;

		if (s[i] == ' ' || s[i] == '-')
			continue;
		if (s[i] < '0' || s[i] > '9')
			return 0;
		d = s[i] - '0';
		if (dbl && (d *= 2) > 9)
			d -= 9;
		sum += d;
		dbl = !dbl;
		n++;
	}
	return n >= 12 && n <= 19 && sum % 10 == 0;
}

/* MM/YY or MM/YYYY. */
static int
check_card_expiry(const char *s)
{
	size_t n = strlen(s);
	int mm;

	if ((n != 5 && n != 7) || s[2] != '/' || s[0] < '0' || s[0] > '1' || s[1] < '0' ||
	    s[1] > '9')
		return 0;
	mm = (s[0] - '0') * 10 + (s[1] - '0');
	if (mm < 1 || mm > 12)
		return 0;
	for (size_t i = 3; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
check_cvv(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 3 || n > 4)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
alg_parse(const char *s, enum hmac_alg *alg)
{
	if (strcasecmp(s, "SHA1") == 0)
		*alg = HMAC_SHA1;
	else if (strcasecmp(s, "SHA256") == 0)
		*alg = HMAC_SHA256;
	else if (strcasecmp(s, "SHA512") == 0)
		*alg = HMAC_SHA512;
	else
		return VT_ERR_VALIDATION;
	return 0;
}

/* Value of query parameter `name` in an otpauth URI (percent-decoding not needed for our keys:
 * base32, digits, algorithm names). Copies at most outsz-1 bytes; 0 if found. */
static int
uri_param(const char *uri, const char *name, char *out, size_t outsz)
{
	const char *q = strchr(uri, '?'), *p;
	size_t nl = strlen(name);

	if (q == NULL)
		return -1;
	for (p = q + 1; p != NULL && *p != '\0';) {
		const char *amp = strchr(p, '&');
		size_t len = amp != NULL ? (size_t)(amp - p) : strlen(p);

		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
			if (len - nl - 1 >= outsz)
				return -1;
			memcpy(out, p + nl + 1, len - nl - 1);
			out[len - nl - 1] = '\0';
			return 0;
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
	return -1;
}

int
secret_totp_params(const json_t *fields, struct totp_params *out)
{
	const char *seed = json_get_str(fields, "seed");
	const char *alg = json_get_str(fields, "algorithm");
	char b32[1024], buf[32];
	const char *s = seed;
	int v, r = VT_ERR_VALIDATION;

	memset(out, 0, sizeof(*out));
	out->digits = TOTP_DEFAULT_DIGITS;
	out->period = TOTP_DEFAULT_PERIOD;
	out->alg = HMAC_SHA1;
	if (seed == NULL)
		goto out;
	if (strncasecmp(seed, "otpauth://totp/", 15) == 0) {
		/* URI parameters first; explicit fields override them below. */
		if (uri_param(seed, "secret", b32, sizeof(b32)) != 0)
			goto out;
		s = b32;
		if (uri_param(seed, "digits", buf, sizeof(buf)) == 0 &&
		    num_parse_int(buf, 6, 8, &out->digits) != 0)
			goto out;
		if (uri_param(seed, "period", buf, sizeof(buf)) == 0 &&
		    num_parse_int(buf, 10, 300, &out->period) != 0)
			goto out;
		if (uri_param(seed, "algorithm", buf, sizeof(buf)) == 0 && alg_parse(buf, &out->alg) != 0)
			goto out;
	} else if (strncasecmp(seed, "otpauth://", 10) == 0) {
		goto out; /* hotp and others: not a time-based seed */
	}
	if (base32_decode(s, strlen(s), out->seed, sizeof(out->seed), &out->seedlen) != 0 ||
	    out->seedlen < 10)
		goto out;
	if (json_is_integer(json_object_get(fields, "digits")))
		out->digits = (int)json_get_int(fields, "digits", 6);
	if (json_is_integer(json_object_get(fields, "period")))
		out->period = (int)json_get_int(fields, "period", 30);
	/* An empty optional field is an absent one, as for every other type. */
	if (alg != NULL && alg[0] != '\0' && alg_parse(alg, &out->alg) != 0)
		goto out;
	v = out->digits;
	if (v < 6 || v > 8 || out->period < 10 || out->period > 300)
		goto out;
	r = 0;
 out:
	sodium_memzero(b32, sizeof(b32));
	if (r != 0)
		sodium_memzero(out, sizeof(*out));
	return r;
}

/*
 * libssh asks this for a passphrase that was not given: no, at once. Without a callback, libssh
 * lets OpenSSL's default one read an encrypted PEM key's passphrase from the controlling terminal,
 * which blocks the request's thread until someone types there (and, without a terminal, writes a
 * prompt into the server's log).
 */
static int
no_passphrase(const char *prompt, char *buf, size_t len, int echo, int verify, void *userdata)
{
	(void)prompt;
	(void)echo;
	(void)verify;
	(void)userdata;
	if (len > 0)
		buf[0] = '\0';
	return -1;
}

/*
 * SSH_KEY: the private key must import (with its passphrase when encrypted) as Ed25519, RSA or
 * ECDSA; a given public_key must be the private key's.
 */
static int
check_ssh_key(const json_t *fields, char err[static VAULT_ERR_MAX])
{
	const char *priv = json_get_str(fields, "private_key");
	const char *pass = json_get_str(fields, "passphrase");
	const char *pub = json_get_str(fields, "public_key");
	ssh_key key = NULL, pubkey = NULL;
	char *b64 = NULL;
	enum ssh_keytypes_e kt;
	int r = VT_ERR_VALIDATION;

	if (ssh_pki_import_privkey_base64(priv, pass != NULL && pass[0] != '\0' ? pass : NULL,
	    no_passphrase, NULL, &key) != SSH_OK) {
		snprintf(err, VAULT_ERR_MAX, pass != NULL ?
		    "field 'fields.private_key': does not parse as a private key with this passphrase" :
		    "field 'fields.private_key': does not parse as an OpenSSH or PEM private key (an "
		    "encrypted key needs its 'passphrase')");
		goto out;
	}
	kt = ssh_key_type(key);
	if (kt != SSH_KEYTYPE_ED25519 && kt != SSH_KEYTYPE_RSA && kt != SSH_KEYTYPE_ECDSA_P256 &&
	    kt != SSH_KEYTYPE_ECDSA_P384 && kt != SSH_KEYTYPE_ECDSA_P521) {
		snprintf(err, VAULT_ERR_MAX, "field 'fields.private_key': must be an Ed25519, RSA or ECDSA "
					     "key");
		goto out;
	}
	if (pub != NULL && pub[0] != '\0') {
		const char *sp = strchr(pub, ' ');
		size_t blen;

		if (ssh_pki_export_privkey_to_pubkey(key, &pubkey) != SSH_OK ||
		    ssh_pki_export_pubkey_base64(pubkey, &b64) != SSH_OK) {
			snprintf(err, VAULT_ERR_MAX, "field 'fields.private_key': cannot derive its public key");
			goto out;
		}
		/* "type base64 [comment]": compare the base64 blob. */
		blen = strlen(b64);
		if (sp == NULL || strncmp(sp + 1, b64, blen) != 0 ||
		    (sp[1 + blen] != '\0' && sp[1 + blen] != ' ' && sp[1 + blen] != '\n')) {
			snprintf(err, VAULT_ERR_MAX, "field 'fields.public_key': does not match the private "
						     "key");
			goto out;
		}
	}
	r = 0;
 out:
	if (b64 != NULL)
		ssh_string_free_char(b64);
	ssh_key_free(pubkey);
	ssh_key_free(key);
	return r;
}

int
secret_fields_validate(enum secret_type t, const json_t *fields, char err[static VAULT_ERR_MAX])
{
	const struct type_spec *ts = type_spec(t);
	const char *key;
	json_t *v;
	size_t i, present = 0;

	err[0] = '\0';
	if (ts == NULL)
		FERR("field 'type': unknown type");
	if (!json_is_object(fields))
		FERR("field 'fields': must be an object");
	json_object_foreach((json_t *)fields, key, v) {
		for (i = 0; i < ts->nfields; i++)
			if (strcmp(key, ts->fields[i].name) == 0)
				break;
		if (i == ts->nfields)
			FERR("field 'fields.%.64s': unknown field for type %s", key, ts->name);
	}
	for (i = 0; i < ts->nfields; i++) {
		const struct field_spec *f = &ts->fields[i];
		const char *s;

		v = json_object_get(fields, f->name);
		if (v == NULL || json_is_null(v)) {
			if (f->required)
				FERR("field 'fields.%s': is required for type %s", f->name, ts->name);
			continue;
		}
		switch (f->type) {
		case FT_INT:
			if (!json_is_integer(v))
				FERR("field 'fields.%s': must be an integer", f->name);
			if (json_integer_value(v) < (json_int_t)f->min ||
			    json_integer_value(v) > (json_int_t)f->max)
				FERR("field 'fields.%s': must be between %zu and %zu", f->name,
				    f->min, f->max);
			present++;
			continue;
		case FT_STRMAP: {
			const char *k2;
			json_t *v2;

			if (!json_is_object(v))
				FERR("field 'fields.%s': must be an object of strings", f->name);
			if (json_object_size(v) > SECRET_CUSTOM_MAX)
				FERR("field 'fields.%s': at most %d entries", f->name,
				    SECRET_CUSTOM_MAX);
			json_object_foreach(v, k2, v2) {
				if (strlen(k2) == 0 || strlen(k2) > 100 || !json_text_printable(k2))
					FERR("field 'fields.%s': keys must be 1 to 100 printable "
					     "characters", f->name);
				/* The key names are encrypted too: not echoed. */
				if (!json_is_string(v2) || json_string_length(v2) > f->max)
					FERR("field 'fields.%s': values must be strings of at most "
					     "%zu bytes", f->name, f->max);
			}
			present++;
			continue;
		}
		case FT_STRING:
			break;
		}
		if (!json_is_string(v))
			FERR("field 'fields.%s': must be a string", f->name);
		s = json_string_value(v);
		if (json_string_length(v) > f->max)
			FERR("field 'fields.%s': must be at most %zu bytes", f->name, f->max);
		if (f->required && s[0] == '\0')
			FERR("field 'fields.%s': must not be empty", f->name);
		if (s[0] != '\0')
			present++;
		if (s[0] == '\0')
			continue;
		switch (f->check) {
		case FC_NONE:
		case FC_SSH_KEY:
			break;
		case FC_TEXT:
			if (!json_text_printable(s))
				FERR("field 'fields.%s': must be one line without control characters",
				    f->name);
			break;
		case FC_ENV_NAME:
			if (!check_env_name(s))
				FERR("field 'fields.%s': must be a variable name ([A-Za-z_][A-Za-z0-9_]*)",
				    f->name);
			break;
		case FC_TOTP_SEED:
			break; /* checked as a whole below */
		case FC_TOTP_ALG: {
			enum hmac_alg a;

			if (alg_parse(s, &a) != 0)
				FERR("field 'fields.%s': must be SHA1, SHA256 or SHA512", f->name);
			break;
		}
		case FC_CARD_NUMBER:
			if (!check_card_number(s))
				FERR("field 'fields.%s': is not a valid card number (12-19 digits, "
				     "Luhn)", f->name);
			break;
		case FC_CARD_EXPIRY:
			if (!check_card_expiry(s))
				FERR("field 'fields.%s': must be MM/YY or MM/YYYY", f->name);
			break;
		case FC_CARD_CVV:
			if (!check_cvv(s))
				FERR("field 'fields.%s': must be 3 or 4 digits", f->name);
			break;
		}
	}
	if (ts->need_any && present == 0)
		FERR("field 'fields': type %s needs at least one field", ts->name);
	if (t == SECRET_SSH_KEY)
		return check_ssh_key(fields, err);
	if (t == SECRET_TOTP) {
		struct totp_params tp;

		if (secret_totp_params(fields, &tp) != 0)
			FERR("field 'fields.seed': must be a base32 seed (at least 80 bits) or an "
			     "otpauth://totp/ URI with valid parameters");
		sodium_memzero(&tp, sizeof(tp));
	}
	return 0;
}
