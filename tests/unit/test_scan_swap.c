/*
 * Unit tests for scan_stream_swap_fps (src/scan/scan.h): a stream scanning with set A finds A's
 * values, and after a swap to B, B's values and not A's in the output fed after it; the swap is
 * refused while a value of A is pending (its anchor seen, its bytes not all in), and done once it
 * is decided, even before its finding is handed out (the finding keeps its label after A is
 * freed); swaps to and from no set (a window that grows, a token in progress whose start the
 * stream reads back, bytes already safe are not looked up again); a swap right after a finding;
 * and random feeds with a swap tried at every cut against one-shot scans with either set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/err.h"
#include "scan/scan.h"

static const uint8_t KEYS_A[SCAN_FP_KEYS_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38,
	39, 40, 41, 42, 43, 44, 45, 46, 47, 48 };
/* Another org's keys would do too; the same org's next set has the same keys. */
static const uint8_t *const KEYS_B = KEYS_A;

#define VAL_A "alphaSecretValue0001"
#define VAL_B "bravoSecretValue0002"
#define VAL_P "pendingAnchorToken77:xy" /* anchor "pendingAnchorToken77", then ":xy" */
#define LAB_A "aaaaaaaa-0000-0000-0000-000000000001/password"
#define LAB_B "bbbbbbbb-0000-0000-0000-000000000002/password"
#define LAB_P "cccccccc-0000-0000-0000-000000000003/token"

struct rec {
	char label[SCAN_FP_LABEL_MAX + 1];
	uint64_t start, end;
};

struct recs {
	struct rec v[256];
	size_t n;
};

static int
collect(void *ud, const struct scan_match *m)
{
	struct recs *r = ud;

	if (m->label == NULL)
		return 0; /* rule findings are not what these tests look at */
	assert_true(r->n < sizeof(r->v) / sizeof(r->v[0]));
	snprintf(r->v[r->n].label, sizeof(r->v[r->n].label), "%s", m->label);
	r->v[r->n].start = m->start;
	r->v[r->n].end = m->end;
	r->n++;
	return 0;
}

static size_t
count(const struct recs *r, const char *label)
{
	size_t i, k = 0;

	for (i = 0; i < r->n; i++)
		k += strcmp(r->v[i].label, label) == 0;
	return k;
}

static int
has(const struct recs *r, const char *label, uint64_t start, uint64_t end)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->v[i].label, label) == 0 && r->v[i].start == start &&
		    r->v[i].end == end)
			return 1;
	}
	return 0;
}

static void
add_value(struct scan_fpset *s, const uint8_t *keys, const char *value, const char *label)
{
	struct scan_fp fp[2];
	size_t nfp = 0, i;

	assert_int_equal(scan_fp_compute(keys, value, strlen(value), fp, &nfp), 0);
	assert_true(nfp >= 1);
	for (i = 0; i < nfp; i++)
		assert_int_equal(scan_fpset_add(s, &fp[i], label), 0);
}

static struct scan_fpset *
set_of(const uint8_t *keys, const char *v1, const char *l1, const char *v2, const char *l2)
{
	struct scan_fpset *s = NULL;

	assert_int_equal(scan_fpset_new(keys, &s), 0);
	if (v1 != NULL)
		add_value(s, keys, v1, l1);
	if (v2 != NULL)
		add_value(s, keys, v2, l2);
	return s;
}

static struct scan_db *
db_none(void)
{
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX];

	assert_int_equal(scan_db_open_rules(NULL, 0, &db, err), 0);
	return db;
}

static void
feed(struct scan_stream *s, const char *p, struct recs *r)
{
	assert_int_equal(scan_stream_feed(s, p, strlen(p), collect, r), 0);
}

/* A finds A; after the swap, B's value is found and A's is not. */
static void
test_swap_a_to_b(void **state)
{
	struct scan_db *db = db_none();
	struct scan_fpset *a = set_of(KEYS_A, VAL_A, LAB_A, NULL, NULL);
	struct scan_fpset *b = set_of(KEYS_B, VAL_B, LAB_B, NULL, NULL);
	struct scan_stream *s = NULL;
	struct recs r;
	const char *p1 = "$ cat a b\n" VAL_A "\n" VAL_B "\n";       /* 10 + 21 + 21 bytes */
	const char *p2 = "$ cat a b\n" VAL_A "\n" VAL_B "\n$ ";

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(scan_stream_open(db, a, &s), 0);
	feed(s, p1, &r);
	feed(s, "$ ", &r); /* hands out the finding waiting for a byte past its delimiter */
	assert_int_equal(r.n, 1);
	assert_true(has(&r, LAB_A, 10, 30));
	assert_int_equal(scan_stream_swap_fps(s, b), 1);
	scan_fpset_free(a); /* nothing of A is read after a swap that returned 1 (ASan tells) */
	feed(s, p2, &r);
	assert_int_equal(scan_stream_close(s, collect, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(count(&r, LAB_A), 1);
	assert_true(has(&r, LAB_B, 54 + 31, 54 + 51));
	scan_fpset_free(b);
	scan_db_free(db);
}

/* A value whose anchor is in but not the rest: no swap until it is decided (with A). */
static void
test_swap_waits_for_pending(void **state)
{
	struct scan_db *db = db_none();
	struct scan_fpset *a = set_of(KEYS_A, VAL_P, LAB_P, VAL_A, LAB_A);
	struct scan_fpset *b = set_of(KEYS_B, VAL_B, LAB_B, NULL, NULL);
	struct scan_stream *s = NULL;
	struct recs r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(scan_stream_open(db, a, &s), 0);
	feed(s, "> pendingAnchorToken77:", &r); /* the anchor ended at ':' */
	assert_int_equal(scan_stream_swap_fps(s, b), 0);
	assert_int_equal(scan_stream_swap_fps(s, b), 0); /* still: nothing changed */
	feed(s, "x", &r);
	assert_int_equal(scan_stream_swap_fps(s, b), 0);
	feed(s, "y\n", &r); /* the value is complete: found with A, handed out past its end */
	assert_int_equal(r.n, 0);
	assert_int_equal(scan_stream_swap_fps(s, b), 1); /* the waiting finding keeps its label */
	scan_fpset_free(a);
	feed(s, "> ", &r);
	assert_int_equal(r.n, 1);
	assert_true(has(&r, LAB_P, 2, 25));
	feed(s, VAL_P " " VAL_A " " VAL_B " ", &r);
	assert_int_equal(scan_stream_close(s, collect, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(count(&r, LAB_B), 1);
	scan_fpset_free(b);
	scan_db_free(db);
}

/* No set -> A -> no set, on a stream without rules (a window smaller than SCAN_FP_MAX_LEN). */
static void
test_swap_null(void **state)
{
	struct scan_db *db = db_none();
	struct scan_fpset *a = set_of(KEYS_A, VAL_A, LAB_A, NULL, NULL);
	struct scan_stream *s = NULL;
	struct recs r;
	char run[200];
	uint64_t at;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(scan_stream_open(db, NULL, &s), 0);
	assert_int_equal(scan_stream_swap_fps(s, NULL), 1);
	feed(s, "x " VAL_A "\n", &r);                     /* 23 bytes */
	assert_int_equal(r.n, 0);
	assert_int_equal(scan_stream_swap_fps(s, a), 1);
	feed(s, VAL_A "\n", &r);                          /* [23, 43) */
	feed(s, "y", &r);
	assert_int_equal(r.n, 1);
	assert_true(has(&r, LAB_A, 23, 43));
	assert_int_equal(scan_stream_swap_fps(s, NULL), 1);
	feed(s, " " VAL_A "\n", &r);                      /* 45 .. 67 */
	assert_int_equal(r.n, 1);
	/*
	 * A token in progress when the set comes: this stream had deemed its bytes safe already
	 * (no set, no rules: everything fed was safe), so a value starting there is not reported.
	 */
	feed(s, "z alphaSecret", &r);                      /* 67 .. 80 */
	assert_int_equal(scan_stream_swap_fps(s, a), 1);
	assert_int_equal(scan_stream_safe_orig(s), 80);   /* never moves back */
	feed(s, "Value0001\n ", &r);                      /* 80 .. 91 */
	assert_int_equal(r.n, 1);
	/* The next occurrence is. */
	at = 91;
	feed(s, VAL_A "\n ", &r);
	assert_int_equal(r.n, 2);
	assert_true(has(&r, LAB_A, at, at + 20));
	assert_int_equal(scan_stream_close(s, collect, &r), 0);

	/* A token longer than the window without a set: refused until its end (start unknown). */
	assert_int_equal(scan_stream_open(db, NULL, &s), 0);
	memset(run, 'q', sizeof(run) - 1);
	run[sizeof(run) - 1] = '\0';
	feed(s, run, &r);
	feed(s, run, &r);
	assert_int_equal(scan_stream_swap_fps(s, a), 0);
	feed(s, " ", &r);
	assert_int_equal(scan_stream_swap_fps(s, a), 1);
	feed(s, VAL_A "\n", &r);
	assert_int_equal(scan_stream_close(s, collect, &r), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(count(&r, LAB_A), 3);
	assert_true(has(&r, LAB_A, 399, 419));
	scan_fpset_free(a);
	scan_db_free(db);
}

/* With the built-in rules (a look-back past SCAN_FP_MAX_LEN): the token in progress is read back. */
static void
test_swap_null_rules(void **state)
{
	struct scan_db *db = NULL;
	struct scan_fpset *a = set_of(KEYS_A, VAL_A, LAB_A, NULL, NULL);
	struct scan_stream *s = NULL;
	struct recs r;
	char err[SCAN_ERR_MAX];

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(scan_db_open(&db, err), 0);
	assert_int_equal(scan_stream_open(db, NULL, &s), 0);
	feed(s, "z alphaSecret", &r);
	assert_int_equal(scan_stream_swap_fps(s, a), 1);
	feed(s, "Value0001\n", &r);
	/* The value spans the swap point; its anchor ended after it: looked up in A. */
	assert_int_equal(r.n, 0);
	assert_int_equal(scan_stream_swap_fps(s, NULL), 1); /* its finding is not handed out yet */
	scan_fpset_free(a);
	feed(s, " ", &r);
	assert_int_equal(r.n, 1);
	assert_true(has(&r, LAB_A, 2, 22));
	feed(s, VAL_A "\n", &r);
	assert_int_equal(scan_stream_close(s, collect, &r), 0);
	assert_int_equal(r.n, 1);
	scan_db_free(db);
}

/*
 * A value reported just before: the swap does not wait SCAN_FP_MAX_LEN bytes for the stream to
 * forget it (its label is carried over to the new set's copy, or dropped if the set lacks it).
 */
static void
test_swap_after_finding(void **state)
{
	struct scan_db *db = db_none();
	/* " padded value " gives two entries (the value and its trimmed form), one label. */
	struct scan_fpset *a = set_of(KEYS_A, " " VAL_A " ", LAB_A, NULL, NULL);
	struct scan_fpset *b = set_of(KEYS_B, " " VAL_A " ", LAB_A, VAL_B, LAB_B);
	struct scan_stream *s = NULL;
	struct recs r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(scan_stream_open(db, a, &s), 0);
	feed(s, "x " VAL_A " y", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(scan_stream_swap_fps(s, b), 1);
	scan_fpset_free(a);
	feed(s, " " VAL_B " .", &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(scan_stream_swap_fps(s, NULL), 1); /* b has LAB_A and LAB_B, NULL none */
	feed(s, " " VAL_B " " VAL_A " ", &r);
	assert_int_equal(scan_stream_close(s, collect, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(count(&r, LAB_A), 1);
	assert_int_equal(count(&r, LAB_B), 1);
	scan_fpset_free(b);
	scan_db_free(db);
}

/*
 * Random text of A's and B's values among filler, random feeds, a swap to B tried after every
 * feed until it is done at P (bytes fed then). Every finding is one a one-shot scan with its set
 * finds; A's values whose delimiter came before P are all found, and no other of A's; B's whose
 * delimiter came at or after P (their anchor token ended after the swap) are all found, and no
 * other of B's; values in both sets are found either way.
 */
static void
test_swap_random(void **state)
{
	static const char *const filler[] = { "ls -l\n", "$ ", "ok ", "\x1b[32mgreen\x1b[0m ",
		"x=1\n", "....\n", "token: ", "\"", "{\"k\": \"", "\"}\n" };
	struct scan_db *db = db_none();
	struct scan_fpset *a = set_of(KEYS_A, VAL_A, LAB_A, VAL_P, LAB_P);
	struct scan_fpset *b = set_of(KEYS_B, VAL_B, LAB_B, VAL_P, LAB_P);
	struct recs *got = calloc(3, sizeof(*got)), *want_a = got + 1, *want_b = got + 2;
	char text[4096];
	size_t round, n, i, prev, cut;
	uint64_t swap_at;

	(void)state;
	assert_non_null(got);
	for (round = 0; round < 300; round++) {
		struct scan_stream *s = NULL;
		/* the stream's own copy of A, freed at the swap: ASan tells if it is read after */
		struct scan_fpset *a2 = set_of(KEYS_A, VAL_A, LAB_A, VAL_P, LAB_P);

		n = 0;
		while (n < 1500) {
			const char *piece;
			uint32_t k = randombytes_uniform(14);

			piece = k < 10 ? filler[k] : k == 10 ? VAL_A : k == 11 ? VAL_B : k == 12 ?
			    VAL_P : " ";
			memcpy(text + n, piece, strlen(piece));
			n += strlen(piece);
			text[n++] = randombytes_uniform(2) ? '\n' : ' ';
		}
		memset(got, 0, 3 * sizeof(*got));
		assert_int_equal(scan_buffer(db, a, text, n, collect, want_a), 0);
		assert_int_equal(scan_buffer(db, b, text, n, collect, want_b), 0);
		assert_int_equal(scan_stream_open(db, a2, &s), 0);
		swap_at = UINT64_MAX;
		for (prev = 0; prev < n; prev = cut) {
			cut = prev + 1 + randombytes_uniform(64);
			if (cut > n)
				cut = n;
			assert_int_equal(scan_stream_feed(s, text + prev, cut - prev, collect, got), 0);
			if (swap_at == UINT64_MAX && cut > n / 3 && scan_stream_swap_fps(s, b) == 1) {
				swap_at = cut;
				scan_fpset_free(a2);
				a2 = NULL;
			}
		}
		assert_int_equal(scan_stream_close(s, collect, got), 0);
		assert_true(swap_at != UINT64_MAX);
		assert_null(a2);
		for (i = 0; i < got->n; i++) {
			const struct rec *g = &got->v[i];
			int in_a = has(want_a, g->label, g->start, g->end);
			int in_b = has(want_b, g->label, g->start, g->end);

			if (strcmp(g->label, LAB_A) == 0)
				assert_true(in_a && g->end < swap_at);
			else if (strcmp(g->label, LAB_B) == 0)
				assert_true(in_b && g->end >= swap_at);
			else
				assert_true(in_a && in_b); /* in both sets */
		}
		for (i = 0; i < want_a->n; i++) {
			const struct rec *w = &want_a->v[i];

			if (w->end < swap_at)
				assert_true(has(got, w->label, w->start, w->end));
		}
		for (i = 0; i < want_b->n; i++) {
			const struct rec *w = &want_b->v[i];

			/* B's values are one token: its end (the delimiter) came after the swap */
			if (strcmp(w->label, LAB_B) == 0 && w->end >= swap_at)
				assert_true(has(got, w->label, w->start, w->end));
		}
		/* each value once */
		for (i = 0; i < got->n; i++) {
			size_t j;

			for (j = i + 1; j < got->n; j++)
				assert_false(strcmp(got->v[i].label, got->v[j].label) == 0 &&
				    got->v[i].start == got->v[j].start);
		}
	}
	free(got);
	scan_fpset_free(a);
	scan_fpset_free(b);
	scan_db_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_a_to_b),
		cmocka_unit_test(test_swap_waits_for_pending),
		cmocka_unit_test(test_swap_null),
		cmocka_unit_test(test_swap_null_rules),
		cmocka_unit_test(test_swap_after_finding),
		cmocka_unit_test(test_swap_random),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
