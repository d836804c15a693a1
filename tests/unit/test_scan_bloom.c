/*
 * Unit tests for the fingerprint set's bloom filter (src/scan/scan_internal.h scan_fp_bloom_*,
 * built by src/scan/fp.c): after every add and every rehash the bitset is exactly the one a
 * straightforward loop builds from the stored slot keys (SCAN_FP_BLOOM_K bits, each from its own
 * 6 bits of the key, in the word the key's bits 32 and up choose), every stored key passes it (no
 * false negative), and for 10,000 entries random keys not in the set pass at the rate a blocked
 * filter of 4 bits in 64 should (~0.9%; the single bit per key it replaces passed 7.3%).
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

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The bitset as the plain definition gives it: one bit per (key, k), set one at a time. */
static uint64_t *
bloom_reference(const struct scan_fpset *s)
{
	const size_t nbits = s->nslots * 4;
	uint64_t *b = calloc(nbits / 64, sizeof(*b));
	size_t i, k;

	assert_non_null(b);
	for (i = 0; i < s->nslots; i++) {
		const uint64_t key = s->slot_key[i];
		const size_t word = (size_t)((key >> 32) % (nbits / 64));

		if (key == 0)
			continue;
		for (k = 0; k < SCAN_FP_BLOOM_K; k++) {
			const unsigned bit = (unsigned)((key >> (8 + 6 * k)) % 64);

			b[word] |= (uint64_t)1 << bit;
		}
	}
	return b;
}

/* 1 when every one of the key's SCAN_FP_BLOOM_K bits is set in the reference bitset. */
static int
reference_has(const uint64_t *b, size_t nslots, uint64_t key)
{
	const size_t word = (size_t)((key >> 32) % (nslots * 4 / 64));
	size_t k;

	for (k = 0; k < SCAN_FP_BLOOM_K; k++)
		if (!((b[word] >> ((key >> (8 + 6 * k)) % 64)) & 1))
			return 0;
	return 1;
}

static void
add_key(struct scan_fpset *s, uint64_t sip)
{
	struct scan_fp fp;
	size_t i;

	memset(&fp, 0, sizeof(fp));
	fp.anchor_sip = sip;
	fp.anchor_off = 0;
	fp.len = 16;
	for (i = 0; i < sizeof(fp.mac); i++)
		fp.mac[i] = (uint8_t)next();
	assert_int_equal(scan_fpset_add(s, &fp, "t"), 0);
}

static struct scan_fpset *
new_set(void)
{
	uint8_t keys[SCAN_FP_KEYS_LEN] = {0};
	struct scan_fpset *s = NULL;

	assert_int_equal(scan_fpset_new(keys, &s), 0);
	return s;
}

/* Random keys (and keys that differ from one another in a few bits only), checked as they go. */
static void
test_bloom_matches_reference(void **state)
{
	struct scan_fpset *s = new_set();
	uint64_t *ref, added[4096];
	size_t i, j, last_nslots = 0, checks = 0;

	(void)state;
	for (i = 0; i < 4096; i++) {
		uint64_t key;

		switch (i % 4) {
		case 0:
			key = next();
			break;
		case 1: /* the bit-position fields only */
			key = (added[i - 1] & ~(uint64_t)0xffffff00) | (next() & 0xffffff00);
			break;
		case 2: /* the word bits only */
			key = (added[i - 1] & 0xffffffff) | (next() << 32);
			break;
		default: /* 0 is stored as 1; small and all-ones keys */
			key = (i % 12 == 3) ? 0 : (i % 12 == 7) ? ~(uint64_t)0 : next() & 0xfff;
			break;
		}
		added[i] = scan_fp_slotkey(key);
		add_key(s, key);
		/* every add while small, every rehash (and a sample of adds) after */
		if (i < 300 || s->nslots != last_nslots || i % 97 == 0) {
			ref = bloom_reference(s);
			assert_memory_equal(s->bloom, ref, s->nslots * 4 / 8);
			for (j = 0; j <= i; j++) {
				assert_true(scan_fp_bloom_has(s, added[j]));
				assert_true(reference_has(ref, s->nslots, added[j]));
			}
			for (j = 0; j < 2000; j++) {
				const uint64_t k = next();

				assert_int_equal(scan_fp_bloom_has(s, k), reference_has(ref, s->nslots, k));
			}
			free(ref);
			last_nslots = s->nslots;
			checks++;
		}
	}
	assert_true(checks > 300);
	scan_fpset_free(s);
}

/* 10,000 entries (the benchmarks' set size): random keys outside the set pass at ~0.9%. */
static void
test_bloom_false_positive_rate(void **state)
{
	struct scan_fpset *s = new_set();
	size_t i, pass = 0, words_used = 0;
	const size_t tries = 1000000;

	(void)state;
	for (i = 0; i < 10000; i++)
		add_key(s, next());
	assert_int_equal(s->nslots, 32768);
	for (i = 0; i < s->nslots / 16; i++)
		words_used += s->bloom[i] != 0;
	/* ~5 keys per word: nearly every word is used (a layout that ignored the word bits fails) */
	assert_true(words_used > s->nslots / 16 * 95 / 100);
	for (i = 0; i < tries; i++)
		pass += (size_t)scan_fp_bloom_has(s, next());
	print_message("bloom: %zu of %zu random keys pass (%.3f%%)\n", pass, tries,
	    100.0 * (double)pass / (double)tries);
	/* expected 0.88% (Poisson load per word); one bit per key would give 7.3% */
	assert_true(pass > tries * 5 / 1000 && pass < tries * 13 / 1000);
	scan_fpset_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bloom_matches_reference),
		cmocka_unit_test(test_bloom_false_positive_rate),
	};

	if (secmem_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
