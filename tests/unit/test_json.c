/*
 * Unit tests for strict JSON bodies and schema checks (src/base/json.h): one top-level object,
 * duplicate keys, trailing junk, NULs and over-deep nesting refused; json_check rejects unknown
 * fields (naming them), missing required fields, the wrong type for each jf_type and out-of-range
 * lengths, integers and item counts at their exact boundaries; no error message ever echoes a
 * value from the request (a body carrying "hunter2secret" is tried against every failure path);
 * and json_dump_canonical is compact with sorted keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/json.h"

#define SECRET "hunter2secret"

/* Parses a NUL-free literal; the caller owns the result. */
static json_t *
parse_ok(const char *s)
{
	char err[JSON_ERR_MAX];
	json_t *v = NULL;

	if (json_parse_object(s, strlen(s), &v, err) != 0)
		fail_msg("refused %s: %s", s, err);
	assert_string_equal(err, "");
	return v;
}

static void
expect_parse_fails(const char *s, size_t len, const char *want_msg)
{
	char err[JSON_ERR_MAX];
	json_t *v = (json_t *)1;

	memset(err, 'x', sizeof(err));
	assert_int_equal(json_parse_object(s, len, &v, err), VT_ERR_INVALID);
	assert_null(v);
	assert_true(memchr(err, '\0', sizeof(err)) != NULL);
	assert_true(strlen(err) > 0);
	if (want_msg != NULL)
		assert_string_equal(err, want_msg);
	assert_null(strstr(err, SECRET));
}

/* ---- json_parse_object ---- */

static void
test_parse_object(void **state)
{
	json_t *v = parse_ok(" {\"a\": 1, \"b\": \"x\", \"c\": [true, null], \"d\": {}} \n");

	(void)state;
	assert_true(json_is_object(v));
	assert_int_equal(json_object_size(v), 4);
	assert_int_equal(json_get_int(v, "a", -1), 1);
	assert_string_equal(json_get_str(v, "b"), "x");
	json_decref(v);
	v = parse_ok("{}");
	assert_int_equal(json_object_size(v), 0);
	json_decref(v);
}

static void
test_parse_uses_len_not_nul(void **state)
{
	static const char body[] = "{\"a\":1}trailing garbage";
	char err[JSON_ERR_MAX];
	json_t *v = NULL;

	(void)state;
	/* Only len bytes are read: the buffer need not be NUL-terminated. */
	assert_int_equal(json_parse_object(body, 7, &v, err), 0);
	assert_int_equal(json_get_int(v, "a", 0), 1);
	json_decref(v);
	expect_parse_fails(body, strlen(body), NULL);
	expect_parse_fails(body, 6, NULL);
}

static void
test_parse_rejects_non_object(void **state)
{
	static const char *const bad[] = { "[]", "[1,2]", "[{\"a\":1}]" };
	static const char *const scalar[] = { "1", "\"s\"", "null", "true", "false", "1.5" };
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++)
		expect_parse_fails(bad[i], strlen(bad[i]),
		    "the request body must be a JSON object");
	/* Scalars never make it past the parser (no JSON_DECODE_ANY). */
	for (i = 0; i < VT_NELEM(scalar); i++)
		expect_parse_fails(scalar[i], strlen(scalar[i]), NULL);
}

static void
test_parse_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{'a':1}", "{a:1}",
		"{\"a\":1} {}", "{}{}", "{} x", "{\"a\":01}", "{\"a\":+1}", "{\"a\":NaN}",
		"{\"a\":Infinity}", "{\"a\":\"\\x41\"}", "{\"a\":\"tab\there\"}", "{\"a\":[1,]}",
		"{\"a\":\"\xff\"}",          /* invalid UTF-8 */
		"{\"a\":\"\xc0\xaf\"}",      /* overlong */
		"{\"a\":\"\\ud800\"}",       /* lone surrogate */
		"{\"a\":1}\n}",
		"/* c */ {}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++)
		expect_parse_fails(bad[i], strlen(bad[i]), NULL);
}

static void
test_parse_message_is_position_only(void **state)
{
	(void)state;
	expect_parse_fails("{\"a\":}", 6, "malformed JSON at line 1 column 6");
	expect_parse_fails("{\n\"a\": 1,\n\"b\" 2}", 16, "malformed JSON at line 3 column 5");
}

static void
test_parse_rejects_duplicates(void **state)
{
	static const char *const dup[] = {
		"{\"a\":1,\"a\":2}",
		"{\"a\":1,\"b\":2,\"a\":1}",
		"{\"x\":{\"a\":1,\"a\":1}}",
		"{\"x\":[{\"k\":\"v\",\"k\":\"v\"}]}",
		"{\"a\":1,\"\\u0061\":2}", /* the same key spelt with an escape */
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(dup); i++)
		expect_parse_fails(dup[i], strlen(dup[i]), NULL);
}

static void
test_parse_rejects_nul(void **state)
{
	static const char raw[] = "{\"a\":\"b\0c\"}";
	static const char raw_out[] = "{\"a\":1}\0";
	static const char raw_key[] = "{\"a\0b\":1}";

	(void)state;
	/* Escaped NUL inside a string is refused (no JSON_ALLOW_NUL)... */
	expect_parse_fails("{\"a\":\"b\\u0000c\"}", 16, NULL);
	expect_parse_fails("{\"a\\u0000b\":1}", 14, NULL);
	/* ...and so are raw NUL bytes, inside a string, a key, or after the object. */
	expect_parse_fails(raw, sizeof(raw) - 1, NULL);
	expect_parse_fails(raw_key, sizeof(raw_key) - 1, NULL);
	expect_parse_fails(raw_out, sizeof(raw_out) - 1, NULL);
}

/*
 * n nested containers: the outermost is an object (a body must be), the inner ones arrays or
 * objects keyed "a". The innermost holds leaf, or is empty when leaf is "".
 */
static char *
nested(int n, int arrays, const char *leaf)
{
	size_t cap = (size_t)n * 6 + strlen(leaf) + 8, o = 0;
	char *s = malloc(cap);
	int i;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		int obj = i == 0 || !arrays;

		if (i == n - 1 && leaf[0] == '\0') {
			memcpy(s + o, obj ? "{}" : "[]", 2);
			o += 2;
			break;
		}
		memcpy(s + o, obj ? "{\"a\":" : "[", obj ? 5 : 1);
		o += obj ? 5 : 1;
		if (i == n - 1) {
			memcpy(s + o, leaf, strlen(leaf));
			o += strlen(leaf);
			s[o++] = obj ? '}' : ']';
		}
	}
	for (i = n - 2; i >= 0; i--)
		s[o++] = (i == 0 || !arrays) ? '}' : ']';
	s[o] = '\0';
	assert_true(o < cap);
	return s;
}

static void
expect_depth(int n, int arrays, const char *leaf, int ok)
{
	char err[JSON_ERR_MAX];
	char *s = nested(n, arrays, leaf);
	json_t *v = NULL;
	int r = json_parse_object(s, strlen(s), &v, err);

	if (ok && r != 0)
		fail_msg("depth %d (%s, leaf '%s') refused: %s", n, arrays ? "arrays" : "objects",
		    leaf, err);
	if (!ok) {
		if (r != VT_ERR_INVALID)
			fail_msg("depth %d (%s, leaf '%s') accepted", n,
			    arrays ? "arrays" : "objects", leaf);
		assert_null(v);
		assert_string_equal(err, "the JSON document is nested too deeply");
	}
	json_decref(v);
	free(s);
}

static void
test_parse_depth_limit(void **state)
{
	(void)state;
	/* The helper itself: two levels. */
	{
		char *s = nested(2, 0, "1");

		assert_string_equal(s, "{\"a\":{\"a\":1}}");
		free(s);
		s = nested(3, 1, "");
		assert_string_equal(s, "{\"a\":[[]]}");
		free(s);
		s = nested(3, 1, "1");
		assert_string_equal(s, "{\"a\":[[1]]}");
		free(s);
		s = nested(1, 0, "");
		assert_string_equal(s, "{}");
		free(s);
		s = nested(2, 0, "");
		assert_string_equal(s, "{\"a\":{}}");
		free(s);
	}
	/*
	 * Depth counts nested containers, the body itself being 1. The limit must not depend on
	 * whether the innermost container is empty or holds a scalar.
	 */
	expect_depth(JSON_MAX_DEPTH, 0, "1", 1);
	expect_depth(JSON_MAX_DEPTH, 0, "", 1);
	expect_depth(JSON_MAX_DEPTH, 1, "\"x\"", 1);
	expect_depth(JSON_MAX_DEPTH, 1, "", 1);
	expect_depth(JSON_MAX_DEPTH + 1, 0, "1", 0);
	expect_depth(JSON_MAX_DEPTH + 1, 0, "", 0);
	expect_depth(JSON_MAX_DEPTH + 1, 1, "\"x\"", 0);
	expect_depth(JSON_MAX_DEPTH + 1, 1, "", 0);
	expect_depth(200, 1, "", 0);
	expect_depth(2000, 0, "1", 0);
}

static void
test_parse_very_deep_does_not_crash(void **state)
{
	enum { N = 200000 };
	char *s = malloc(N + 8);

	(void)state;
	assert_non_null(s);
	memcpy(s, "{\"a\":", 5);
	memset(s + 5, '[', N);
	s[N + 5] = '\0';
	/* jansson's own recursion cap refuses it before our check runs. */
	expect_parse_fails(s, strlen(s), NULL);
	free(s);
}

static void
test_parse_errors_never_echo_input(void **state)
{
	static const char *const bad[] = {
		"{\"password\":\"" SECRET,
		"{\"password\":\"" SECRET "\"",
		"{\"password\":" SECRET "}",
		"{\"password\":\"" SECRET "\",}",
		"{\"" SECRET "\"}",
		"{\"password\":\"" SECRET "\" \"x\"}",
		"{\"a\":\"" SECRET "\",\"a\":\"" SECRET "\"}",
		"{\"password\":\"" SECRET "\\q\"}",
		"{\"password\":\"" SECRET "\xff\"}",
		"{\"password\":\"" SECRET "\\u0000\"}",
		"[\"" SECRET "\"]",
		"\"" SECRET "\"",
		SECRET,
		"{} " SECRET,
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++)
		expect_parse_fails(bad[i], strlen(bad[i]), NULL);
}

/* ---- json_check ---- */

static const struct jfield SCHEMA[] = {
	{ "name", JF_STRING, 1, 1, 8 },
	{ "age", JF_INT, 0, 0, 150 },
	{ "admin", JF_BOOL, 0, 0, 0 },
	{ "meta", JF_OBJECT, 0, 0, 0 },
	{ "tags", JF_STRING_ARRAY, 0, 0, 3 },
};

static void
check_body(const char *body, int want_r, const char *want_msg)
{
	char err[JSON_ERR_MAX];
	json_t *v = parse_ok(body);
	int r;

	memset(err, 'x', sizeof(err));
	r = json_check(v, SCHEMA, VT_NELEM(SCHEMA), err);
	if (r != want_r)
		fail_msg("%s: got %d (%s), want %d", body, r, err, want_r);
	assert_string_equal(err, want_msg);
	assert_null(strstr(err, SECRET));
	json_decref(v);
}

static void
test_check_happy(void **state)
{
	(void)state;
	check_body("{\"name\":\"alice\",\"age\":30,\"admin\":true,\"meta\":{\"k\":1},"
		     "\"tags\":[\"a\",\"b\"]}",
	    0, "");
	check_body("{\"name\":\"a\"}", 0, "");
	/* null counts as absent for optional fields. */
	check_body("{\"name\":\"a\",\"age\":null,\"admin\":null,\"meta\":null,\"tags\":null}", 0,
	    "");
	check_body("{\"name\":\"a\",\"admin\":false,\"meta\":{},\"tags\":[]}", 0, "");
}

static void
test_check_required(void **state)
{
	(void)state;
	check_body("{}", VT_ERR_VALIDATION, "field 'name': is required");
	check_body("{\"age\":3}", VT_ERR_VALIDATION, "field 'name': is required");
	check_body("{\"name\":null}", VT_ERR_VALIDATION, "field 'name': is required");
}

static void
test_check_unknown_field(void **state)
{
	char body[256], want[128];
	char key[101];

	(void)state;
	check_body("{\"name\":\"a\",\"extra\":1}", VT_ERR_VALIDATION,
	    "field 'extra': unknown field");
	/* Unknown fields are found before missing required ones. */
	check_body("{\"Name\":\"a\"}", VT_ERR_VALIDATION, "field 'Name': unknown field");
	/* The unknown field's value is never echoed. */
	check_body("{\"name\":\"a\",\"pasword\":\"" SECRET "\"}", VT_ERR_VALIDATION,
	    "field 'pasword': unknown field");
	/* A long unknown key is cut at 64 bytes. */
	memset(key, 'k', 100);
	key[100] = '\0';
	snprintf(body, sizeof(body), "{\"%s\":1}", key);
	snprintf(want, sizeof(want), "field '%.64s': unknown field", key);
	check_body(body, VT_ERR_VALIDATION, want);
}

static void
test_check_empty_schema(void **state)
{
	char err[JSON_ERR_MAX];
	json_t *v = parse_ok("{}");

	(void)state;
	assert_int_equal(json_check(v, NULL, 0, err), 0);
	json_decref(v);
	v = parse_ok("{\"a\":1}");
	assert_int_equal(json_check(v, NULL, 0, err), VT_ERR_VALIDATION);
	assert_string_equal(err, "field 'a': unknown field");
	json_decref(v);
}

static void
test_check_wrong_types(void **state)
{
	static const struct {
		const char *body;
		const char *msg;
	} cases[] = {
		{ "{\"name\":5}", "field 'name': must be a string" },
		{ "{\"name\":true}", "field 'name': must be a string" },
		{ "{\"name\":[\"a\"]}", "field 'name': must be a string" },
		{ "{\"name\":{}}", "field 'name': must be a string" },
		{ "{\"name\":\"a\",\"age\":\"5\"}", "field 'age': must be an integer" },
		{ "{\"name\":\"a\",\"age\":5.0}", "field 'age': must be an integer" },
		{ "{\"name\":\"a\",\"age\":5.5}", "field 'age': must be an integer" },
		{ "{\"name\":\"a\",\"age\":true}", "field 'age': must be an integer" },
		{ "{\"name\":\"a\",\"age\":[5]}", "field 'age': must be an integer" },
		{ "{\"name\":\"a\",\"admin\":1}", "field 'admin': must be a boolean" },
		{ "{\"name\":\"a\",\"admin\":\"true\"}", "field 'admin': must be a boolean" },
		{ "{\"name\":\"a\",\"meta\":[]}", "field 'meta': must be an object" },
		{ "{\"name\":\"a\",\"meta\":\"{}\"}", "field 'meta': must be an object" },
		{ "{\"name\":\"a\",\"tags\":\"a\"}", "field 'tags': must be an array of strings" },
		{ "{\"name\":\"a\",\"tags\":{}}", "field 'tags': must be an array of strings" },
		{ "{\"name\":\"a\",\"tags\":[1]}", "field 'tags': must be an array of strings" },
		{ "{\"name\":\"a\",\"tags\":[\"a\",null]}",
		  "field 'tags': must be an array of strings" },
		{ "{\"name\":\"a\",\"tags\":[[\"a\"]]}",
		  "field 'tags': must be an array of strings" },
		/* A wrong type is reported even when the count is also out of range. */
		{ "{\"name\":\"a\",\"tags\":[1,2,3,4,5]}",
		  "field 'tags': must be an array of strings" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(cases); i++)
		check_body(cases[i].body, VT_ERR_VALIDATION, cases[i].msg);
}

static void
test_check_string_length(void **state)
{
	static const char *msg = "field 'name': length must be between 1 and 8 bytes";

	(void)state;
	check_body("{\"name\":\"\"}", VT_ERR_VALIDATION, msg);
	check_body("{\"name\":\"a\"}", 0, "");
	check_body("{\"name\":\"12345678\"}", 0, "");
	check_body("{\"name\":\"123456789\"}", VT_ERR_VALIDATION, msg);
	/* Bytes, not characters: four two-byte characters fit, five do not. */
	check_body("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", 0, "");
	check_body("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", VT_ERR_VALIDATION,
	    msg);
	check_body("{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}", VT_ERR_VALIDATION, msg);
}

static void
test_check_int_range(void **state)
{
	static const char *msg = "field 'age': must be between 0 and 150";

	(void)state;
	check_body("{\"name\":\"a\",\"age\":-1}", VT_ERR_VALIDATION, msg);
	check_body("{\"name\":\"a\",\"age\":0}", 0, "");
	check_body("{\"name\":\"a\",\"age\":150}", 0, "");
	check_body("{\"name\":\"a\",\"age\":151}", VT_ERR_VALIDATION, msg);
	check_body("{\"name\":\"a\",\"age\":9223372036854775807}", VT_ERR_VALIDATION, msg);
	check_body("{\"name\":\"a\",\"age\":-9223372036854775808}", VT_ERR_VALIDATION, msg);
}

static void
test_check_int_out_of_int64_is_malformed(void **state)
{
	(void)state;
	/* Larger than int64: jansson refuses it while parsing, it never reaches the schema. */
	expect_parse_fails("{\"age\":9223372036854775808}", 27, NULL);
}

static void
test_check_array_items(void **state)
{
	static const struct jfield f[] = { { "ids", JF_STRING_ARRAY, 1, 1, 2 } };
	static const char *const cases[] = { "{\"ids\":[]}", "{\"ids\":[\"a\"]}",
		"{\"ids\":[\"a\",\"b\"]}", "{\"ids\":[\"a\",\"b\",\"c\"]}" };
	static const int want[] = { VT_ERR_VALIDATION, 0, 0, VT_ERR_VALIDATION };
	char err[JSON_ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(cases); i++) {
		json_t *v = parse_ok(cases[i]);

		assert_int_equal(json_check(v, f, 1, err), want[i]);
		if (want[i] != 0)
			assert_string_equal(err, "field 'ids': must have between 1 and 2 items");
		else
			assert_string_equal(err, "");
		json_decref(v);
	}
	check_body("{\"name\":\"a\",\"tags\":[\"1\",\"2\",\"3\",\"4\"]}", VT_ERR_VALIDATION,
	    "field 'tags': must have between 0 and 3 items");
}

static void
test_check_errors_never_echo_values(void **state)
{
	static const struct jfield f[] = {
		{ "password", JF_STRING, 1, 12, 12 },
		{ "pin", JF_INT, 0, 0, 9999 },
		{ "flag", JF_BOOL, 0, 0, 0 },
		{ "obj", JF_OBJECT, 0, 0, 0 },
		{ "list", JF_STRING_ARRAY, 0, 0, 1 },
	};
	static const char *const bodies[] = {
		"{\"password\":\"" SECRET "\"}",                 /* too long */
		"{\"password\":[\"" SECRET "\"]}",               /* wrong type */
		"{\"password\":{\"" SECRET "\":\"" SECRET "\"}}",
		"{\"password\":\"123456789012\",\"pin\":\"" SECRET "\"}",
		"{\"password\":\"123456789012\",\"flag\":\"" SECRET "\"}",
		"{\"password\":\"123456789012\",\"obj\":\"" SECRET "\"}",
		"{\"password\":\"123456789012\",\"list\":\"" SECRET "\"}",
		"{\"password\":\"123456789012\",\"list\":[\"" SECRET "\",\"" SECRET "\"]}",
		"{\"password\":\"123456789012\",\"list\":[1,\"" SECRET "\"]}",
		"{\"password\":\"123456789012\",\"other\":\"" SECRET "\"}",
		"{\"pin\":\"" SECRET "\"}",                      /* required missing */
	};
	char err[JSON_ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bodies); i++) {
		json_t *v = parse_ok(bodies[i]);

		assert_int_equal(json_check(v, f, VT_NELEM(f), err), VT_ERR_VALIDATION);
		assert_true(strlen(err) > 0);
		assert_null(strstr(err, SECRET));
		assert_null(strstr(err, "hunter"));
		json_decref(v);
	}
}

/* ---- getters and canonical form ---- */

static void
test_getters(void **state)
{
	json_t *v = parse_ok("{\"s\":\"x\",\"i\":-7,\"n\":null,\"f\":1.5,\"b\":true}");

	(void)state;
	assert_string_equal(json_get_str(v, "s"), "x");
	assert_null(json_get_str(v, "i"));
	assert_null(json_get_str(v, "n"));
	assert_null(json_get_str(v, "missing"));
	assert_int_equal(json_get_int(v, "i", 0), -7);
	assert_int_equal(json_get_int(v, "s", 42), 42);
	assert_int_equal(json_get_int(v, "f", 42), 42);
	assert_int_equal(json_get_int(v, "b", 42), 42);
	assert_int_equal(json_get_int(v, "missing", 42), 42);
	json_decref(v);
}

static void
test_dump_canonical(void **state)
{
	json_t *a = parse_ok("{ \"b\" : 1, \"a\" : [ 3, 1, 2 ], \"c\" : { \"z\" : null, \"y\" : "
			     "\"x\" }, \"A\": true, \"\\u00e9\": \"\\u00e9\" }");
	json_t *b = parse_ok("{\"\xc3\xa9\":\"\xc3\xa9\",\"A\":true,\"c\":{\"y\":\"x\",\"z\":null},"
			     "\"a\":[3,1,2],\"b\":1}");
	char *sa = json_dump_canonical(a), *sb = json_dump_canonical(b);

	(void)state;
	/* Keys sorted bytewise at every level, arrays keep their order, no whitespace. */
	assert_string_equal(sa, "{\"A\":true,\"a\":[3,1,2],\"b\":1,\"c\":{\"y\":\"x\",\"z\":null},"
				"\"\xc3\xa9\":\"\xc3\xa9\"}");
	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
}

static void
test_dump_canonical_scalars_and_escapes(void **state)
{
	json_t *v = json_integer(-5);
	char *s = json_dump_canonical(v);

	(void)state;
	assert_string_equal(s, "-5");
	free(s);
	json_decref(v);
	v = json_string("a\"b\\c\n\x01");
	s = json_dump_canonical(v);
	assert_string_equal(s, "\"a\\\"b\\\\c\\n\\u0001\"");
	free(s);
	json_decref(v);
	v = json_object();
	s = json_dump_canonical(v);
	assert_string_equal(s, "{}");
	free(s);
	json_decref(v);
}

static void
test_packx(void **state)
{
	json_t *v = json_packx("{s:s, s:i, s:b}", "k", "v", "n", 3, "t", 1);
	char *s = json_dump_canonical(v);

	(void)state;
	assert_string_equal(s, "{\"k\":\"v\",\"n\":3,\"t\":true}");
	free(s);
	json_decref(v);
}

static void
test_text_printable(void **state)
{
	static const char *const ok[] = { "", "Alice", "Zoë's org", "日本語", "a-b_c.d e",
		"\xe2\x80\x8d" /* U+200D zero-width joiner (emoji sequences) is allowed */ };
	static const char *const bad[] = { "a\nb", "tab\there", "\x1b[31mred", "del\x7f",
		"c1\xc2\x85", "lrm\xe2\x80\x8e", "rlm\xe2\x80\x8f", "ls\xe2\x80\xa8",
		"ps\xe2\x80\xa9", "lre\xe2\x80\xaa", "rlo\xe2\x80\xae", "lri\xe2\x81\xa6",
		"pdi\xe2\x81\xa9" };
	static const struct jfield f[] = { { "name", JF_TEXT, 1, 0, 100 } };
	char err[JSON_ERR_MAX];
	json_t *o;
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(ok); i++)
		assert_true(json_text_printable(ok[i]));
	for (i = 0; i < VT_NELEM(bad); i++)
		assert_false(json_text_printable(bad[i]));
	/* JF_TEXT applies the check; JF_STRING (passwords) does not. */
	o = json_pack("{s:s}", "name", "evil\xe2\x80\xaegnp.exe");
	assert_int_equal(json_check(o, f, 1, err), VT_ERR_VALIDATION);
	assert_string_equal(err, "field 'name': must not contain control characters");
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_object),
		cmocka_unit_test(test_parse_uses_len_not_nul),
		cmocka_unit_test(test_parse_rejects_non_object),
		cmocka_unit_test(test_parse_rejects_malformed),
		cmocka_unit_test(test_parse_message_is_position_only),
		cmocka_unit_test(test_parse_rejects_duplicates),
		cmocka_unit_test(test_parse_rejects_nul),
		cmocka_unit_test(test_parse_depth_limit),
		cmocka_unit_test(test_parse_very_deep_does_not_crash),
		cmocka_unit_test(test_parse_errors_never_echo_input),
		cmocka_unit_test(test_check_happy),
		cmocka_unit_test(test_check_required),
		cmocka_unit_test(test_check_unknown_field),
		cmocka_unit_test(test_check_empty_schema),
		cmocka_unit_test(test_check_wrong_types),
		cmocka_unit_test(test_check_string_length),
		cmocka_unit_test(test_check_int_range),
		cmocka_unit_test(test_check_int_out_of_int64_is_malformed),
		cmocka_unit_test(test_check_array_items),
		cmocka_unit_test(test_check_errors_never_echo_values),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_dump_canonical),
		cmocka_unit_test(test_dump_canonical_scalars_and_escapes),
		cmocka_unit_test(test_packx),
		cmocka_unit_test(test_text_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
