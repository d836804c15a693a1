/*
 * JSON helpers on jansson: strict body parsing (one top-level object, no duplicate keys, no NUL in
 * strings) and a small declarative schema check that rejects unknown fields, wrong types, missing
 * required fields and out-of-range lengths, naming the offending field (never its value).
 */
#ifndef VT_BASE_JSON_H
#define VT_BASE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/util.h"

#define JSON_ERR_MAX 256   /* size of a validation message buffer */
#define JSON_MAX_DEPTH 32  /* deeper documents are refused as malformed */

enum jf_type {
	JF_STRING,       /* any string (passwords, tokens) */
	JF_TEXT,         /* a printable single-line string: no control or bidi-override chars */
	JF_INT,
	JF_BOOL,
	JF_OBJECT,
	JF_STRING_ARRAY,
};

struct jfield {
	const char *name;
	enum jf_type type;
	int required;
	int64_t min; /* string: min bytes; int: min value; array: min items */
	int64_t max; /* string: max bytes; int: max value; array: max items */
};

/*
 * Parses a request body that must be one JSON object. Returns 0 and a new reference in *out, or
 * VT_ERR_INVALID (malformed, not an object, duplicate keys, too deep) with a message in err.
 */
int json_parse_object(const char *s, size_t len, json_t **out, char err[static JSON_ERR_MAX]) VT_WUR;

/* Checks obj against the schema. 0, or VT_ERR_VALIDATION with "field 'x': ..." in err. */
int json_check(const json_t *obj, const struct jfield *fields, size_t n,
    char err[static JSON_ERR_MAX]) VT_WUR;

/*
 * Whether UTF-8 text is printable on one line: no C0/C1 control characters, no DEL, no Unicode
 * line/paragraph separators (U+2028/9), and no bidirectional marks or overrides (U+200E/F,
 * U+202A-U+202E, U+2066-U+2069) that could disguise a name.
 */
int json_text_printable(const char *s);

/* v, or NULL when v is JSON null (an optional member sent as null means "absent"). */
const json_t *json_null_as_absent(const json_t *v);
/*
 * A new reference to a copy of object v without its null members (a copy of v itself when it is
 * not an object; NULL for NULL).
 */
json_t *json_without_nulls(const json_t *v);

/* Borrowed string value of obj[name], or NULL when absent, null or not a string. */
const char *json_get_str(const json_t *obj, const char *name);
/* Integer value of obj[name] or dflt. */
int64_t json_get_int(const json_t *obj, const char *name, int64_t dflt);

/*
 * Makes jansson wipe every allocation before freeing it, so passwords and tokens parsed from
 * request bodies do not linger in freed heap memory. Call once at start, before any JSON exists.
 */
void json_use_wiping_allocator(void);

/* Serializes compactly with sorted keys (the canonical form used for audit details). Caller frees. */
char *json_dump_canonical(const json_t *v);

/* Builds {"a":...} with jansson's pack and aborts on failure (programmer error). */
json_t *json_packx(const char *fmt, ...);

#endif
