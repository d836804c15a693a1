/*
 * The built-in rule database compiled at build time (src/tools/scan_dbgen.c, src/scan/db.c
 * hs_prebuilt): this executable links it (vtscandb), so scan_db_open() deserializes it instead of
 * compiling. Its findings on a few MB of mixed text (every built-in rule's positives and
 * negatives between random filler, terminal colours and line ends) are the ones of the same rules
 * compiled at run time; a blob whose digest is not the one of what would be compiled (another
 * table, another platform, a flipped digest) or that Vectorscan cannot deserialize is not used,
 * and the compiled database still finds everything.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/secmem.h"
#include "scan/scan.h"
#include "scan/scan_internal.h"

struct rec {
	const char *rule_id;
	uint64_t start, end;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static int
collect(void *ud, const struct scan_match *m)
{
	struct recs *r = ud;

	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 1024 : 2 * r->cap;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		assert_non_null(r->v);
	}
	r->v[r->n].rule_id = m->rule_id;
	r->v[r->n].start = m->start;
	r->v[r->n].end = m->end;
	r->n++;
	return 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
next(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void
put(uint8_t *t, size_t *o, size_t n, const char *s, size_t l)
{
	if (l > n - *o)
		l = n - *o;
	memcpy(t + *o, s, l);
	*o += l;
}

/* n bytes: filler words and separators, with a built-in rule's positive or negative every ~600 */
static uint8_t *
mixed_text(size_t n)
{
	static const char *const sep[] = { " ", " ", " ", "\n", "\r\n", "\t", "=", ": ", "\"",
		"\x1b[32m", "\x1b[0m", "$ ", "/", "," };
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "_-.+/";
	uint8_t *t = malloc(n);
	size_t o = 0;

	assert_non_null(t);
	while (o < n) {
		if (next(100) == 0) {
			const struct scan_rule *ru = &SCAN_RULES[next((uint32_t)SCAN_RULES_COUNT)];
			const char *const *l = next(2) == 0 ? ru->positives : ru->negatives;
			size_t k = 0;

			while (l != NULL && l[k] != NULL)
				k++;
			if (k > 0) {
				const char *s = l[next((uint32_t)k)];

				put(t, &o, n, s, strlen(s));
			}
		} else {
			size_t k, w = 1 + next(12);
			const char *s = sep[next(VT_NELEM(sep))];

			for (k = 0; k < w && o < n; k++)
				t[o++] = (uint8_t)alpha[next(sizeof(alpha) - 1)];
			put(t, &o, n, s, strlen(s));
		}
	}
	return t;
}

static void
scan_all(const struct scan_db *db, const uint8_t *t, size_t n, struct recs *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(scan_buffer(db, NULL, t, n, collect, r), 0);
}

static void
recs_equal(const struct recs *a, const struct recs *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].rule_id, b->v[i].rule_id) != 0 || a->v[i].start != b->v[i].start ||
		    a->v[i].end != b->v[i].end)
			fail_msg("finding %zu: %s [%llu, %llu) vs %s [%llu, %llu)", i, a->v[i].rule_id,
			    (unsigned long long)a->v[i].start, (unsigned long long)a->v[i].end,
			    b->v[i].rule_id, (unsigned long long)b->v[i].start,
			    (unsigned long long)b->v[i].end);
	}
}

static struct scan_db *
open_builtin(void)
{
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX];

	if (scan_db_open(&db, err) != 0)
		fail_msg("scan_db_open: %s", err);
	return db;
}

/* Every built-in positive, each on its own line: the findings of db on them. */
static void
positives(const struct scan_db *db, struct recs *r)
{
	uint8_t *b = NULL;
	size_t i, k, n = 0, l;

	for (i = 0; i < SCAN_RULES_COUNT; i++) {
		for (k = 0; SCAN_RULES[i].positives != NULL && SCAN_RULES[i].positives[k] != NULL; k++) {
			l = strlen(SCAN_RULES[i].positives[k]);
			b = realloc(b, n + l + 2);
			assert_non_null(b);
			memcpy(b + n, SCAN_RULES[i].positives[k], l);
			memcpy(b + n + l, "\n\n", 2);
			n += l + 2;
		}
	}
	scan_all(db, b, n, r);
	free(b);
}

static void
test_builtin_is_prebuilt(void **state)
{
	struct scan_db *db;
	size_t len = 0;

	(void)state;
	assert_true(scan_db_blob_linked(NULL, &len, NULL));
	print_message("blob: %zu bytes\n", len);
	db = open_builtin();
	assert_true(scan_db_prebuilt(db));
	scan_db_free(db);
}

static void
test_prebuilt_finds_what_compiled_finds(void **state)
{
	const size_t n = 4u << 20;
	struct scan_db *pre, *comp;
	struct recs a, b;
	uint8_t *t = mixed_text(n);

	(void)state;
	assert_true(scan_db_blob_linked(NULL, NULL, NULL));
	pre = open_builtin();
	scan_db_blob_use(NULL, 0, NULL);
	comp = open_builtin();
	(void)scan_db_blob_linked(NULL, NULL, NULL);
	assert_true(scan_db_prebuilt(pre));
	assert_false(scan_db_prebuilt(comp));
	assert_int_equal(scan_db_stream_size(pre), scan_db_stream_size(comp));
	scan_all(pre, t, n, &a);
	scan_all(comp, t, n, &b);
	print_message("%zu findings in %zu bytes\n", a.n, n);
	assert_true(a.n > 1000);
	recs_equal(&a, &b);
	free(a.v);
	free(b.v);
	positives(pre, &a);
	positives(comp, &b);
	assert_true(a.n > SCAN_RULES_COUNT);
	recs_equal(&a, &b);
	free(a.v);
	free(b.v);
	scan_db_free(pre);
	scan_db_free(comp);
	free(t);
}

/* With blob (len bytes, digest) in use, the built-in database compiles and finds everything. */
static void
compiles_over(const void *blob, size_t len, const uint8_t *digest, const struct recs *want)
{
	struct scan_db *db;
	struct recs got;

	scan_db_blob_use(blob, len, digest);
	db = open_builtin();
	(void)scan_db_blob_linked(NULL, NULL, NULL);
	assert_false(scan_db_prebuilt(db));
	positives(db, &got);
	recs_equal(want, &got);
	free(got.v);
	scan_db_free(db);
}

static void
test_bad_blob_is_not_used(void **state)
{
	const void *blob;
	const uint8_t *digest;
	uint8_t d[SCAN_DB_DIGEST_LEN], *copy;
	size_t len, i;
	struct scan_db *db;
	struct recs want;

	(void)state;
	assert_true(scan_db_blob_linked(&blob, &len, &digest));
	db = open_builtin();
	assert_true(scan_db_prebuilt(db));
	positives(db, &want);
	scan_db_free(db);

	/* the same bytes under a digest that is not the one of what would be compiled */
	for (i = 0; i < SCAN_DB_DIGEST_LEN; i += 31) {
		memcpy(d, digest, sizeof(d));
		d[i] ^= 0x01;
		compiles_over(blob, len, d, &want);
	}
	/* the right digest over bytes Vectorscan refuses: truncated, a wrong magic, a bit flipped */
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, blob, len);
	compiles_over(copy, len / 2, digest, &want);
	compiles_over(copy, len - 1, digest, &want);
	copy[0] ^= 0xff;
	compiles_over(copy, len, digest, &want);
	copy[0] ^= 0xff;
	copy[len / 2] ^= 0x10;
	compiles_over(copy, len, digest, &want);
	copy[len / 2] ^= 0x10;
	/* and the intact copy is used: what made the others fail is what was changed */
	scan_db_blob_use(copy, len, digest);
	db = open_builtin();
	(void)scan_db_blob_linked(NULL, NULL, NULL);
	assert_true(scan_db_prebuilt(db));
	scan_db_free(db);
	free(copy);
	free(want.v);
}

/* The digest decides, not the table's address: a copy of the table is the same database. */
static void
test_only_the_same_patterns_match(void **state)
{
	struct scan_rule *copy = malloc(SCAN_RULES_COUNT * sizeof(*copy));
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX];

	(void)state;
	assert_non_null(copy);
	memcpy(copy, SCAN_RULES, SCAN_RULES_COUNT * sizeof(*copy));
	assert_int_equal(scan_db_open_rules(copy, SCAN_RULES_COUNT, &db, err), 0);
	assert_true(scan_db_prebuilt(db));
	scan_db_free(db);
	/* one rule fewer: another database, compiled */
	assert_int_equal(scan_db_open_rules(copy, SCAN_RULES_COUNT - 1, &db, err), 0);
	assert_false(scan_db_prebuilt(db));
	scan_db_free(db);
	/* one flag more on a rule: compiled */
	copy[0].hs_flags |= HS_FLAG_DOTALL;
	assert_int_equal(scan_db_open_rules(copy, SCAN_RULES_COUNT, &db, err), 0);
	assert_false(scan_db_prebuilt(db));
	scan_db_free(db);
	free(copy);
}

/* A database for another platform (the library's own choice of Vectorscan build) compiles. */
static void
test_other_platform_compiles(void **state)
{
	struct scan_db *db;
	int pinned = scan_hs()->pinned;

	(void)state;
	if (!pinned) {
		print_message("Vectorscan build not pinned here: one platform only\n");
		return;
	}
	scan_hs_pin(0);
	db = open_builtin();
	assert_false(scan_db_prebuilt(db));
	scan_db_free(db);
	scan_hs_pin(1);
	db = open_builtin();
	assert_true(scan_db_prebuilt(db));
	scan_db_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_is_prebuilt),
		cmocka_unit_test(test_prebuilt_finds_what_compiled_finds),
		cmocka_unit_test(test_bad_blob_is_not_used),
		cmocka_unit_test(test_only_the_same_patterns_match),
		/* last: it changes the Vectorscan build every database uses */
		cmocka_unit_test(test_other_platform_compiles),
	};

	if (secmem_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
