/*
 * Unit tests for recorder_set_fps (src/broker/recorder.h), scan only (record = 0, no database):
 * a recorder scanning with set A takes set B at the next output or tick its stream allows, and
 * not while a value of A is pending; after it took B (recorder_fps), A is never read again (the
 * tests free it: ASan would tell); exposures of the output after the swap come from B; an
 * exposure stays one per secret per session across sets (a rotated secret's new value printed
 * after its old one); a recorder that started without a set takes one.
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
#include "broker/recorder.h"
#include "scan/scan.h"

static const uint8_t KEYS[SCAN_FP_KEYS_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39,
	40, 41, 42, 43, 44, 45, 46, 47, 48 };

#define VAL_A "alphaSecretValue0001"
#define VAL_B "bravoSecretValue0002"
#define VAL_P "pendingAnchorToken77:xy"
#define LAB_A "aaaaaaaa-0000-0000-0000-000000000001/password"
#define LAB_A2 "aaaaaaaa-0000-0000-0000-000000000001/username"
#define LAB_B "bbbbbbbb-0000-0000-0000-000000000002/password"
#define LAB_P "cccccccc-0000-0000-0000-000000000003/token"
#define T0 ((int64_t)1700000000 * 1000000)

struct exps {
	int n;
	char label[8][SCAN_FP_LABEL_MAX + 1];
};

static int
on_exposure(void *ud, const struct scan_match *m)
{
	struct exps *e = ud;

	assert_non_null(m->label);
	assert_true(e->n < 8);
	snprintf(e->label[e->n++], sizeof(e->label[0]), "%s", m->label);
	return 0;
}

static struct scan_fpset *
set_of(const char *v1, const char *l1, const char *v2, const char *l2)
{
	struct scan_fpset *s = NULL;
	const char *v[2] = { v1, v2 }, *l[2] = { l1, l2 };
	struct scan_fp fp[2];
	size_t nfp, i, j;

	assert_int_equal(scan_fpset_new(KEYS, &s), 0);
	for (i = 0; i < 2; i++) {
		if (v[i] == NULL)
			continue;
		nfp = 0;
		assert_int_equal(scan_fp_compute(KEYS, v[i], strlen(v[i]), fp, &nfp), 0);
		for (j = 0; j < nfp; j++)
			assert_int_equal(scan_fpset_add(s, &fp[j], l[i]), 0);
	}
	return s;
}

static struct scan_db *DB;
static struct vt_uuid ORG, SESS;
static int64_t T = T0;

static struct recorder *
open_with(const struct scan_fpset *fps, struct exps *e)
{
	struct recorder_params prm;
	struct recorder *r = NULL;

	memset(e, 0, sizeof(*e));
	memset(&prm, 0, sizeof(prm));
	prm.org = &ORG;
	prm.session = &SESS;
	prm.record = 0;
	prm.start_us = T0;
	prm.on_exposure = on_exposure;
	prm.ud = e;
	assert_int_equal(recorder_open(NULL, NULL, DB, fps, &prm, &r), 0);
	return r;
}

static void
out(struct recorder *r, const char *s)
{
	assert_int_equal(recorder_output(r, T += 1000, s, strlen(s)), 0);
}

/* A -> B: taken at the next tick once nothing of A is pending; B's values found after it. */
static void
test_set_fps_swaps(void **state)
{
	struct scan_fpset *a = set_of(VAL_A, LAB_A, VAL_P, LAB_P);
	struct scan_fpset *b = set_of(VAL_B, LAB_B, NULL, NULL);
	struct recorder_stats st;
	struct exps e;
	struct recorder *r = open_with(a, &e);

	(void)state;
	out(r, "$ cat a\nx " VAL_A " y\n");
	assert_int_equal(e.n, 1);
	assert_string_equal(e.label[0], LAB_A);
	/* A value of A whose anchor is in, its last bytes not: B waits. */
	out(r, "$ cat p\n" "pendingAnchorToken77:");
	recorder_set_fps(r, b);
	assert_ptr_equal(recorder_fps(r), a);
	assert_int_equal(recorder_tick(r, T += 1000), 0);
	assert_ptr_equal(recorder_fps(r), a);
	out(r, "x");
	assert_ptr_equal(recorder_fps(r), a);
	out(r, "y\n$ ");      /* decided with A, reported */
	assert_int_equal(e.n, 2);
	assert_string_equal(e.label[1], LAB_P);
	assert_int_equal(recorder_tick(r, T += 1000), 0);
	assert_ptr_equal(recorder_fps(r), b);
	scan_fpset_free(a);   /* never read again */
	out(r, "cat a b p\n" VAL_A "\n" VAL_B "\n" VAL_P "\n$ ");
	assert_int_equal(recorder_close(r, T += 1000, &st), 0);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.label[2], LAB_B);
	assert_int_equal(st.exposures, 3);
	scan_fpset_free(b);
}

/*
 * A rotation: the secret's new value in the next set. Printing it after the old one is the same
 * secret in this session: redacted, no second exposure. Another field of it neither.
 */
static void
test_set_fps_same_secret(void **state)
{
	struct scan_fpset *a = set_of(VAL_A, LAB_A, NULL, NULL);
	struct scan_fpset *b = set_of(VAL_B, LAB_A, VAL_P, LAB_A2);
	struct recorder_stats st;
	struct exps e;
	struct recorder *r = open_with(a, &e);

	(void)state;
	out(r, "x " VAL_A " y\n");
	recorder_set_fps(r, b);
	out(r, "x " VAL_B " y\n");  /* the swap comes at the start of this output */
	assert_ptr_equal(recorder_fps(r), b);
	scan_fpset_free(a);
	out(r, VAL_P "\n" VAL_A "\n$ ");
	assert_int_equal(recorder_close(r, T += 1000, &st), 0);
	assert_int_equal(e.n, 1);
	assert_int_equal(st.exposures, 1);
	scan_fpset_free(b);
}

/* No set at the start (an org without a scanner key yet), then one, then none again. */
static void
test_set_fps_from_null(void **state)
{
	struct scan_fpset *a = set_of(VAL_A, LAB_A, NULL, NULL);
	struct scan_fpset *b = set_of(VAL_B, LAB_B, NULL, NULL);
	struct recorder_stats st;
	struct exps e;
	struct recorder *r = open_with(NULL, &e);

	(void)state;
	out(r, "x " VAL_A " y\n");
	assert_int_equal(e.n, 0);
	recorder_set_fps(r, b);
	recorder_set_fps(r, a);  /* replaces b before it was taken: b is never read */
	scan_fpset_free(b);
	assert_null(recorder_fps(r));
	assert_int_equal(recorder_tick(r, T += 1000), 0);
	assert_ptr_equal(recorder_fps(r), a);
	out(r, "x " VAL_A " y\n" VAL_B "\n");
	assert_int_equal(e.n, 1);
	recorder_set_fps(r, NULL);
	assert_int_equal(recorder_tick(r, T += 1000), 0);
	assert_null(recorder_fps(r));
	scan_fpset_free(a);
	out(r, "x " VAL_A " y\n");
	assert_int_equal(recorder_close(r, T += 1000, &st), 0);
	assert_int_equal(st.exposures, 1);
}

static int
setup(void **state)
{
	char err[SCAN_ERR_MAX];

	(void)state;
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(&ORG, sizeof(ORG));
	randombytes_buf(&SESS, sizeof(SESS));
	return scan_db_open_rules(NULL, 0, &DB, err) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	scan_db_free(DB);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_fps_swaps),
		cmocka_unit_test(test_set_fps_same_secret),
		cmocka_unit_test(test_set_fps_from_null),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
