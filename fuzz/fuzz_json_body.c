/*
 * Request bodies: every API route reads untrusted JSON through json_parse_object (one object, no
 * duplicate keys, bounded depth) and json_check (the route's schema). This harness takes the path
 * http_body_json takes (a body holding a NUL byte is refused first, then parse, then schema) for
 * the schemas of the auth, token and org routes, with the wiping allocator the server installs,
 * and checks that a body the schema accepts really satisfies it: required fields present with the
 * declared type, lengths and ranges within bounds, JF_TEXT printable. Accepted register bodies
 * then go through auth_email_normalize as auth_register does, and every parsed document through
 * the canonical dump used for audit details.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/auth.h"
#include "auth/password.h"
#include "base/err.h"
#include "base/json.h"
#include "crypto/totp.h"
#include "fuzz.h"

struct schema {
	const struct jfield *fields;
	size_t n;
};

/* Copies of the route schemas (src/api/auth_routes.c, token_routes.c, org_routes.c). */
static const struct jfield REGISTER[] = {
	{ "email", JF_TEXT, 1, 1, AUTH_EMAIL_MAX },
	{ "password", JF_STRING, 1, 0, PASSWORD_MAX_LEN },
	{ "name", JF_TEXT, 0, 0, AUTH_NAME_MAX },
};
static const struct jfield LOGIN[] = {
	{ "email", JF_STRING, 1, 1, AUTH_EMAIL_MAX },
	{ "password", JF_STRING, 1, 0, PASSWORD_MAX_LEN },
	{ "totp_code", JF_STRING, 0, 1, 16 },
};
static const struct jfield SWITCH_ORG[] = {
	{ "org_id", JF_STRING, 1, 1, 64 },
};
static const struct jfield TOTP[] = {
	{ "code", JF_STRING, 1, 1, TOTP_CODE_MAX },
};
static const struct jfield INVITE_ACCEPT[] = {
	{ "invite_token", JF_STRING, 1, 1, 128 },
	{ "password", JF_STRING, 0, 0, PASSWORD_MAX_LEN },
	{ "name", JF_TEXT, 0, 0, AUTH_NAME_MAX },
};
static const struct jfield TOKEN_CREATE[] = {
	{ "name", JF_TEXT, 1, 1, API_TOKEN_NAME_MAX },
	{ "scopes", JF_STRING_ARRAY, 1, 1, 16 },
	{ "expires_in_seconds", JF_INT, 0, API_TOKEN_MIN_TTL_S, API_TOKEN_MAX_TTL_S },
};
static const struct jfield ORG_RENAME[] = {
	{ "name", JF_TEXT, 1, 1, AUTH_ORG_NAME_MAX },
};
static const struct jfield INVITE_CREATE[] = {
	{ "email", JF_STRING, 1, 1, AUTH_EMAIL_MAX },
	{ "org_role", JF_STRING, 0, 1, 16 },
};

static const struct schema SCHEMAS[] = {
	{ REGISTER, VT_NELEM(REGISTER) },
	{ LOGIN, VT_NELEM(LOGIN) },
	{ SWITCH_ORG, VT_NELEM(SWITCH_ORG) },
	{ TOTP, VT_NELEM(TOTP) },
	{ INVITE_ACCEPT, VT_NELEM(INVITE_ACCEPT) },
	{ TOKEN_CREATE, VT_NELEM(TOKEN_CREATE) },
	{ ORG_RENAME, VT_NELEM(ORG_RENAME) },
	{ INVITE_CREATE, VT_NELEM(INVITE_CREATE) },
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	json_use_wiping_allocator();
	return 0;
}

static int
in_schema(const struct schema *sc, const char *key)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		if (strcmp(sc->fields[i].name, key) == 0)
			return 1;
	return 0;
}

/* What json_check promised when it returned 0, re-derived independently. */
static void
check_accepted(const json_t *obj, const struct schema *sc)
{
	const char *key;
	json_t *v, *e;
	size_t i, j;

	json_object_foreach((json_t *)obj, key, v)
		FUZZ_CHECK(in_schema(sc, key));
	for (i = 0; i < sc->n; i++) {
		const struct jfield *f = &sc->fields[i];

		v = json_object_get(obj, f->name);
		if (v == NULL || json_is_null(v)) {
			FUZZ_CHECK(!f->required);
			continue;
		}
		switch (f->type) {
		case JF_STRING:
		case JF_TEXT:
			FUZZ_CHECK(json_is_string(v));
			FUZZ_CHECK((int64_t)json_string_length(v) >= f->min);
			FUZZ_CHECK((int64_t)json_string_length(v) <= f->max);
			/* No NUL inside: the routes use the value as a C string. */
			FUZZ_CHECK(strlen(json_string_value(v)) == json_string_length(v));
			if (f->type == JF_TEXT)
				FUZZ_CHECK(json_text_printable(json_string_value(v)));
			break;
		case JF_INT:
			FUZZ_CHECK(json_is_integer(v));
			FUZZ_CHECK(json_integer_value(v) >= f->min);
			FUZZ_CHECK(json_integer_value(v) <= f->max);
			break;
		case JF_BOOL:
			FUZZ_CHECK(json_is_boolean(v));
			break;
		case JF_OBJECT:
			FUZZ_CHECK(json_is_object(v));
			break;
		case JF_STRING_ARRAY:
			FUZZ_CHECK(json_is_array(v));
			FUZZ_CHECK((int64_t)json_array_size(v) >= f->min);
			FUZZ_CHECK((int64_t)json_array_size(v) <= f->max);
			json_array_foreach(v, j, e)
				FUZZ_CHECK(json_is_string(e));
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[JSON_ERR_MAX], aerr[AUTH_ERR_MAX], email[AUTH_EMAIL_MAX + 1];
	char *body, *dump;
	json_t *obj = NULL;
	size_t i;
	int r;

	/* http_body_json refuses a body with a NUL byte before parsing (vbuf_cstr). */
	if (memchr(data, '\0', size) != NULL)
		return 0;
	body = fuzz_cstr(data, size);
	r = json_parse_object(body, size, &obj, err);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (r != 0) {
		FUZZ_CHECK(r == VT_ERR_INVALID && obj == NULL && err[0] != '\0');
		goto out;
	}
	FUZZ_CHECK(json_is_object(obj));

	for (i = 0; i < VT_NELEM(SCHEMAS); i++) {
		r = json_check(obj, SCHEMAS[i].fields, SCHEMAS[i].n, err);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		if (r != 0) {
			FUZZ_CHECK(r == VT_ERR_VALIDATION && err[0] != '\0');
			continue;
		}
		check_accepted(obj, &SCHEMAS[i]);
		if (SCHEMAS[i].fields == REGISTER &&
		    auth_email_normalize(json_get_str(obj, "email"), email, aerr) == 0)
			FUZZ_CHECK(strlen(email) == strlen(json_get_str(obj, "email")));
	}

	dump = json_dump_canonical(obj);
	free(dump);
 out:
	json_decref(obj);
	free(body);
	return 0;
}
