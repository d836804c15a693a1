/*
 * Strict JSON parsing and schema checks. Messages name fields and expectations only: a value from
 * the request is never echoed back, because it may be a password or a secret.
 */
#include "base/json.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"

static int
json_depth_ok(const json_t *v, int depth)
{
	const char *k;
	json_t *c;
	size_t i;

	/* Depth counts containers, the body being 1; a scalar leaf adds no level. */
	if (!json_is_object(v) && !json_is_array(v))
		return 1;
	if (depth > JSON_MAX_DEPTH)
		return 0;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c) {
			if (!json_depth_ok(c, depth + 1))
				return 0;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c) {
			if (!json_depth_ok(c, depth + 1))
				return 0;
		}
	}
	return 1;
}

int
json_parse_object(const char *s, size_t len, json_t **out, char err[static JSON_ERR_MAX])
{
	json_error_t je;
	json_t *v;

	*out = NULL;
	err[0] = '\0';
	v = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
	if (v == NULL) {
		/*
		 * Position only: jansson's je.text quotes the offending input ("near 'xyz'"), and
		 * that input may be a password or a secret.
		 */
		snprintf(err, JSON_ERR_MAX, "malformed JSON at line %d column %d", je.line,
		    je.column);
		return VT_ERR_INVALID;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(err, JSON_ERR_MAX, "the request body must be a JSON object");
		return VT_ERR_INVALID;
	}
	if (!json_depth_ok(v, 1)) {
		json_decref(v);
		snprintf(err, JSON_ERR_MAX, "the JSON document is nested too deeply");
		return VT_ERR_INVALID;
	}
	*out = v;
	return 0;
}

static void *
wiping_malloc(size_t n)
{
	return malloc(n);
}

static void
wiping_free(void *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

void
json_use_wiping_allocator(void)
{
	json_set_alloc_funcs(wiping_malloc, wiping_free);
}

int
json_text_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		/* U+0080-U+009F: C2 80 - C2 9F */
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 0;
		/*
		 * U+200E/F (marks) E2 80 8E-8F, U+2028/9 (line/paragraph separators) E2 80 A8-A9,
		 * U+202A-U+202E (embeddings, overrides) E2 80 AA-AE, U+2066-U+2069 E2 81 A6-A9.
		 */
		if (p[0] == 0xe2 && p[1] == 0x80 &&
		    ((p[2] >= 0x8e && p[2] <= 0x8f) || (p[2] >= 0xa8 && p[2] <= 0xae)))
			return 0;
		if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
			return 0;
	}
	return 1;
}

static const char *
type_name(enum jf_type t)
{
	switch (t) {
	case JF_STRING:
	case JF_TEXT:
		return "a string";
	case JF_INT:
		return "an integer";
	case JF_BOOL:
		return "a boolean";
	case JF_OBJECT:
		return "an object";
	case JF_STRING_ARRAY:
		return "an array of strings";
	}
	return "?";
}

int
json_check(const json_t *obj, const struct jfield *fields, size_t n, char err[static JSON_ERR_MAX])
{
	const char *key;
	json_t *v;
	size_t i;

	err[0] = '\0';
	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		if (i == n) {
			/* Field names are short identifiers; cap what we echo of an unknown one. */
			snprintf(err, JSON_ERR_MAX, "field '%.64s': unknown field", key);
			return VT_ERR_VALIDATION;
		}
	}
	for (i = 0; i < n; i++) {
		const struct jfield *f = &fields[i];
		int ok = 1;

		v = json_object_get(obj, f->name);
		if (v == NULL || json_is_null(v)) {
			if (f->required) {
				snprintf(err, JSON_ERR_MAX, "field '%s': is required", f->name);
				return VT_ERR_VALIDATION;
			}
			continue;
		}
		switch (f->type) {
		case JF_STRING:
		case JF_TEXT:
			if (!json_is_string(v)) {
				ok = 0;
				break;
			}
			if (f->type == JF_TEXT && !json_text_printable(json_string_value(v))) {
				snprintf(err, JSON_ERR_MAX,
				    "field '%s': must not contain control characters", f->name);
				return VT_ERR_VALIDATION;
			}
			if ((int64_t)json_string_length(v) < f->min ||
			    (int64_t)json_string_length(v) > f->max) {
				snprintf(err, JSON_ERR_MAX,
				    "field '%s': length must be between %lld and %lld bytes", f->name,
				    (long long)f->min, (long long)f->max);
				return VT_ERR_VALIDATION;
			}
			break;
		case JF_INT:
			if (!json_is_integer(v)) {
				ok = 0;
				break;
			}
			if (json_integer_value(v) < f->min || json_integer_value(v) > f->max) {
				snprintf(err, JSON_ERR_MAX,
				    "field '%s': must be between %lld and %lld", f->name,
				    (long long)f->min, (long long)f->max);
				return VT_ERR_VALIDATION;
			}
			break;
		case JF_BOOL:
			ok = json_is_boolean(v);
			break;
		case JF_OBJECT:
			ok = json_is_object(v);
			break;
		case JF_STRING_ARRAY: {
			size_t j;
			json_t *e;

			if (!json_is_array(v)) {
				ok = 0;
				break;
			}
			json_array_foreach(v, j, e) {
				if (!json_is_string(e))
					ok = 0;
			}
			if (ok && ((int64_t)json_array_size(v) < f->min ||
			    (int64_t)json_array_size(v) > f->max)) {
				snprintf(err, JSON_ERR_MAX,
				    "field '%s': must have between %lld and %lld items", f->name,
				    (long long)f->min, (long long)f->max);
				return VT_ERR_VALIDATION;
			}
			break;
		}
		}
		if (!ok) {
			snprintf(err, JSON_ERR_MAX, "field '%s': must be %s", f->name,
			    type_name(f->type));
			return VT_ERR_VALIDATION;
		}
	}
	return 0;
}

const json_t *
json_null_as_absent(const json_t *v)
{
	return json_is_null(v) ? NULL : v;
}

json_t *
json_without_nulls(const json_t *v)
{
	json_t *c, *m;
	const char *k;
	void *tmp;

	if (v == NULL)
		return NULL;
	if ((c = json_deep_copy(v)) == NULL)
		return NULL;
	if (json_is_object(c)) {
		json_object_foreach_safe(c, tmp, k, m) {
			if (json_is_null(m))
				json_object_del(c, k);
		}
	}
	return c;
}

const char *
json_get_str(const json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t
json_get_int(const json_t *obj, const char *name, int64_t dflt)
{
	json_t *v = json_object_get(obj, name);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

char *
json_dump_canonical(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	VT_ASSERT(s != NULL);
	return s;
}

json_t *
json_packx(const char *fmt, ...)
{
	json_error_t je;
	va_list ap;
	json_t *v;

	va_start(ap, fmt);
	v = json_vpack_ex(&je, 0, fmt, ap);
	va_end(ap);
	if (v == NULL) {
		fprintf(stderr, "vaultterm: json_pack failed: %s\n", je.text);
		VT_ASSERT(v != NULL);
	}
	return v;
}
