/*
 * Unit tests for the tokenizer's batched SipHash (src/scan/scan.c scan_siphash24_batch): on every
 * path the CPU has (scalar, AVX-512F), each lane's hash equals scan_siphash24 — itself checked
 * against libsodium here too — for every length 0..600 and random lengths up to 4096, random keys
 * and bytes, at every lane position and batch fill, lanes of different lengths side by side; and
 * the tokenizer finds the same stored values on every path (delimiter masks by table, AVX2,
 * AVX-512BW; SipHash one at a time or in lanes), whole and in random pieces.
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

#include "base/secmem.h"
#include "scan/scan.h"
#include "scan/scan_internal.h"

#define BUF_LEN 8192

static uint8_t buf[BUF_LEN];

static uint64_t
sodium_sip(const uint8_t key[16], const uint8_t *p, size_t n)
{
	uint8_t h[crypto_shorthash_siphash24_BYTES];
	uint64_t v = 0;
	int j;

	crypto_shorthash_siphash24(h, p, n, key);
	for (j = 7; j >= 0; j--)
		v = v << 8 | h[j];
	return v;
}

/*
 * One batch: cnt strings of lengths n[] at random offsets in buf (a string may end at the very
 * end of buf, so a read past its bytes would show under ASan); every lane compared.
 */
static void
check_batch(uint64_t k0, uint64_t k1, const size_t *n, size_t cnt)
{
	size_t off[SCAN_SIP_LANES] = { 0 };
	uint64_t out[SCAN_SIP_LANES];
	size_t l;

	for (l = 0; l < cnt; l++) {
		if (randombytes_uniform(4) == 0)
			off[l] = BUF_LEN - n[l];
		else
			off[l] = randombytes_uniform((uint32_t)(BUF_LEN - n[l] + 1));
	}
	memset(out, 0xa5, sizeof(out));
	scan_siphash24_batch(k0, k1, buf, off, n, cnt, out);
	for (l = 0; l < cnt; l++) {
		if (out[l] != scan_siphash24(k0, k1, buf + off[l], n[l]))
			fail_msg("lane %zu of %zu, length %zu: batch differs", l, cnt, n[l]);
	}
	for (; l < SCAN_SIP_LANES; l++) {
		if (out[l] != 0xa5a5a5a5a5a5a5a5ull)
			fail_msg("lane %zu written beyond a batch of %zu", l, cnt);
	}
}

static void
run_level(int level)
{
	uint8_t key[16];
	uint64_t k0, k1;
	size_t n[SCAN_SIP_LANES], len, cnt, pos, l, round;

	scan_fp_simd(level);
	for (round = 0; round < 4; round++) {
		randombytes_buf(key, sizeof(key));
		randombytes_buf(buf, sizeof(buf));
		k0 = scan_le64(key);
		k1 = scan_le64(key + 8);
		/* the scalar reference is libsodium's */
		for (len = 0; len < 80; len++) {
			if (scan_siphash24(k0, k1, buf + round, len) != sodium_sip(key, buf + round, len))
				fail_msg("scan_siphash24 differs from libsodium at length %zu", len);
		}
		/* every length 0..600 at every lane position of every batch fill, beside random ones */
		for (len = 0; len <= 600; len++) {
			for (cnt = 1; cnt <= SCAN_SIP_LANES; cnt++) {
				for (pos = 0; pos < cnt; pos++) {
					for (l = 0; l < cnt; l++)
						n[l] = randombytes_uniform(3) == 0 ?
						    randombytes_uniform(601) : 8 + randombytes_uniform(40);
					n[pos] = len;
					check_batch(k0, k1, n, cnt);
				}
			}
		}
		/* random lengths up to 4096, mixed with short ones */
		for (l = 0; l < 3000; l++) {
			size_t i;

			cnt = 1 + randombytes_uniform(SCAN_SIP_LANES);
			for (i = 0; i < cnt; i++)
				n[i] = randombytes_uniform(2) ? randombytes_uniform(4097) :
				    randombytes_uniform(80);
			check_batch(k0, k1, n, cnt);
		}
		/* all lanes of one length */
		for (len = 0; len <= 130; len++) {
			for (l = 0; l < SCAN_SIP_LANES; l++)
				n[l] = len;
			check_batch(k0, k1, n, SCAN_SIP_LANES);
		}
	}
	scan_fp_simd(2);
}

static void
test_sip_batch_scalar(void **state)
{
	(void)state;
	run_level(0);
}

static void
test_sip_batch_simd(void **state)
{
	(void)state;
	run_level(2); /* the CPU's best path (scalar again where it has no AVX-512F) */
}

/* ---- the tokenizer on each path ------------------------------------------------------------- */
struct finds {
	char (*f)[96];
	size_t n, cap;
};

static int
rec(void *ud, const struct scan_match *m)
{
	struct finds *fs = ud;

	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 1024;
		fs->f = realloc(fs->f, fs->cap * sizeof(*fs->f));
		assert_non_null(fs->f);
	}
	snprintf(fs->f[fs->n++], sizeof(*fs->f), "%s %llu %llu %s", m->rule_id,
	    (unsigned long long)m->start, (unsigned long long)m->end,
	    m->label != NULL ? m->label : "-");
	return 0;
}

/* The text fed in random pieces (1 .. max bytes; seeded, so each path gets the same cuts). */
static void
scan_pieces(const struct scan_db *db, const struct scan_fpset *fps, const uint8_t *t, size_t n,
    size_t max, uint32_t seed, struct finds *fs)
{
	struct scan_stream *s;
	uint32_t x = seed;
	size_t o, k;

	fs->n = 0;
	assert_int_equal(scan_stream_open(db, fps, &s), 0);
	for (o = 0; o < n; o += k) {
		x = x * 1103515245u + 12345u;
		k = 1 + (x >> 8) % max;
		if (k > n - o)
			k = n - o;
		assert_int_equal(scan_stream_feed(s, t + o, k, rec, fs), 0);
	}
	assert_int_equal(scan_stream_close(s, rec, fs), 0);
}

/*
 * Random text of tokens (1 .. 150 bytes: letters, digits, - _ . + ~ and bytes >= 0x80) between
 * runs of delimiters; 400 of its values (one token, or a span of several with the delimiters
 * between them, 8 .. 200 bytes) stored. The findings are the same on every path (0: the table
 * and one SipHash at a time, as before the lanes), whole and in random pieces, and not none.
 */
static void
test_tokenizer_paths(void **state)
{
	static const char delims[] = " \"'`=:,;()[]{}<>|&?#@/\\\t\n\x7f\x01";
	static const char tok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.+~";
	const size_t n = 400000;
	uint8_t *t = malloc(n), keys[SCAN_FP_KEYS_LEN];
	struct finds ref = { 0 }, got = { 0 };
	struct scan_fpset *fps;
	struct scan_db *db;
	struct scan_fp fp[2];
	char err[SCAN_ERR_MAX], label[32];
	size_t i, j, nfp, added = 0;
	int level, cut;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < n;) {
		size_t len = randombytes_uniform(4) == 0 ? 1 + randombytes_uniform(150) :
		    1 + randombytes_uniform(30);

		for (j = 0; j < len && i < n; j++)
			t[i++] = randombytes_uniform(40) == 0 ? (uint8_t)(0x80 + randombytes_uniform(128)) :
			    (uint8_t)tok[randombytes_uniform(sizeof(tok) - 1)];
		len = 1 + randombytes_uniform(randombytes_uniform(8) == 0 ? 6 : 2);
		for (j = 0; j < len && i < n; j++)
			t[i++] = (uint8_t)delims[randombytes_uniform(sizeof(delims) - 1)];
	}
	randombytes_buf(keys, sizeof(keys));
	assert_int_equal(scan_fpset_new(keys, &fps), 0);
	while (added < 400) {
		size_t p = randombytes_uniform((uint32_t)n), s0, e;

		while (p < n && SCAN_DELIM[t[p]])
			p++;
		for (s0 = p; s0 > 0 && !SCAN_DELIM[t[s0 - 1]]; s0--)
			;
		for (e = p; e < n && !SCAN_DELIM[t[e]]; e++)
			;
		if (randombytes_uniform(3) == 0) {
			size_t want = 8 + randombytes_uniform(193);

			while (e < n && e - s0 < want) {
				while (e < n && SCAN_DELIM[t[e]])
					e++;
				while (e < n && !SCAN_DELIM[t[e]])
					e++;
			}
		}
		if (e - s0 < 8 || e - s0 > 200)
			continue;
		assert_int_equal(scan_fp_compute(keys, t + s0, e - s0, fp, &nfp), 0);
		snprintf(label, sizeof(label), "v%zu", added++);
		for (j = 0; j < nfp; j++)
			assert_int_equal(scan_fpset_add(fps, &fp[j], label), 0);
	}
	assert_int_equal(scan_db_open_rules(NULL, 0, &db, err), 0);
	for (cut = 0; cut < 3; cut++) {
		size_t max = cut == 0 ? n : cut == 1 ? 5000 : 70;

		scan_fp_simd(0);
		scan_pieces(db, fps, t, n, max, 7u + (uint32_t)cut, &ref);
		assert_true(ref.n >= 400); /* every stored value is in the text at least once */
		for (level = 1; level <= 2; level++) {
			scan_fp_simd(level);
			scan_pieces(db, fps, t, n, max, 7u + (uint32_t)cut, &got);
			if (got.n != ref.n)
				fail_msg("path %d, pieces of <= %zu: %zu findings, %zu on the portable path",
				    level, max, got.n, ref.n);
			for (i = 0; i < ref.n; i++) {
				if (strcmp(got.f[i], ref.f[i]) != 0)
					fail_msg("path %d, pieces of <= %zu: finding %zu: %s, not %s", level,
					    max, i, got.f[i], ref.f[i]);
			}
		}
	}
	scan_fp_simd(2);
	scan_db_free(db);
	scan_fpset_free(fps);
	free(ref.f);
	free(got.f);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sip_batch_scalar),
		cmocka_unit_test(test_sip_batch_simd),
		cmocka_unit_test(test_tokenizer_paths),
	};

	if (sodium_init() < 0 || secmem_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
