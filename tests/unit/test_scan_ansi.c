/*
 * The scanner's ANSI/CR input filter (src/scan/ansi.c) against a byte-at-a-time reference of the
 * same state machine, written here from the rules in ansi.c's header and docs/scanner.md: on
 * random and adversarial inputs (ESC, CR, LF, BEL, CAN, SUB and ST dense; colour codes; CSI and
 * string sequences around their length limits; CR runs around SCAN_CR_RUN_MAX), fed whole, split
 * at every position and in random pieces, the filter must give the same output bytes, the same
 * original offset for every output byte (scan_gapmap_orig), a minimal offset map (no entry that
 * does not change the delta, none past the output) and the same scan_ansi_unresolved after every
 * feed; without a map, the same output bytes; pruned, the same offsets from the pruning point on.
 * Run with every path the CPU has: the AVX-512 windows, AVX2 runs and the portable (SSE2) path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/scan_internal.h"

#define ESC 0x1b
#define BEL 0x07
#define CAN 0x18
#define SUB 0x1a
#define MAX_IN 12000

/* ---- the reference: one byte at a time ----------------------------------------------------- */
enum ref_state { R_GROUND, R_ESC, R_NF, R_CSI, R_STR, R_STR_ESC };

struct ref {
	enum ref_state st;
	size_t seqlen, ncr;
	uint64_t cr_o, in_o;
	size_t nout;
	uint8_t out[MAX_IN + 64];
	uint64_t orig[MAX_IN + 64];
};

static void
ref_emit(struct ref *r, uint8_t b, uint64_t o)
{
	r->out[r->nout] = b;
	r->orig[r->nout++] = o;
}

static void
ref_flush_crs(struct ref *r)
{
	size_t k;

	for (k = 0; k < r->ncr; k++)
		ref_emit(r, '\r', r->cr_o + k);
	r->ncr = 0;
}

/* One byte in a sequence state: 1 if it was taken, 0 if the sequence aborts and it is kept. */
static int
ref_seq(struct ref *r, uint8_t b)
{
	for (;;) {
		switch (r->st) {
		case R_ESC:
			r->seqlen++;
			if (b == '[')
				r->st = R_CSI;
			else if (b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_')
				r->st = R_STR;
			else if (b >= 0x20 && b <= 0x2f)
				r->st = R_NF;
			else if (b >= 0x30 && b <= 0x7e)
				r->st = R_GROUND;
			else if (b == ESC)
				r->seqlen = 1;
			else
				return r->st = R_GROUND, 0;
			return 1;
		case R_CSI:
		case R_NF:
			if (b == ESC) {
				r->st = R_ESC;
				r->seqlen = 1;
				return 1;
			}
			r->seqlen++;
			if (r->seqlen > SCAN_CSI_MAX)
				return r->st = R_GROUND, 0;
			if (b >= 0x20 && b <= 0x2f)
				return 1;
			if (r->st == R_CSI && b >= 0x30 && b <= 0x3f)
				return 1;
			if (r->st == R_CSI ? b >= 0x40 && b <= 0x7e : b >= 0x30 && b <= 0x7e)
				return r->st = R_GROUND, 1;
			return r->st = R_GROUND, 0;
		case R_STR:
			if (b == ESC)
				return r->st = R_STR_ESC, 1;
			if (b == BEL || b == CAN || b == SUB)
				return r->st = R_GROUND, 1;
			r->seqlen++;
			if (r->seqlen > SCAN_STR_MAX)
				return r->st = R_GROUND, 0;
			return 1;
		case R_STR_ESC:
			if (b == '\\')
				return r->st = R_GROUND, 1;
			r->st = R_ESC; /* the ESC starts a new sequence, b is its second byte */
			r->seqlen = 1;
			continue;
		case R_GROUND:
			return 0;
		}
	}
}

static void
ref_byte(struct ref *r, uint8_t b)
{
	uint64_t o = r->in_o++;

	if (r->st != R_GROUND && ref_seq(r, b))
		return;
	if (b == '\r') {
		if (r->ncr == SCAN_CR_RUN_MAX)
			ref_flush_crs(r);
		if (r->ncr++ == 0)
			r->cr_o = o;
		return;
	}
	if (r->ncr > 0) {
		if (b == '\n')
			r->ncr = 0; /* CR+ LF -> LF */
		else
			ref_flush_crs(r);
	}
	if (b == ESC) {
		r->st = R_ESC;
		r->seqlen = 1;
		return;
	}
	ref_emit(r, b, o);
}

static uint64_t
ref_unresolved(const struct ref *r)
{
	return r->ncr > 0 ? r->cr_o : r->in_o;
}

/* ---- inputs -------------------------------------------------------------------------------- */
static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t
put(uint8_t *b, size_t n, size_t cap, const char *s, size_t k)
{
	if (k > cap - n)
		k = cap - n;
	memcpy(b + n, s, k);
	return n + k;
}

static size_t
put_rep(uint8_t *b, size_t n, size_t cap, uint8_t c, size_t k)
{
	while (k-- > 0 && n < cap)
		b[n++] = c;
	return n;
}

/* Terminal-like output, or (dense) mostly the bytes the state machine turns on. */
static size_t
gen(uint8_t *b, size_t cap, int dense)
{
	static const char *const bits[] = { "\x1b[0m", "\x1b[01;32m", "\x1b[?2004h", "\x1b[K",
		"\x1b[38;2;114;156;31m", "\r\n", "\r", "\n", "\x1b]0;user@host: ~\a",
		"\x1b]2;t\x1b\\", "\x1bP1$r0m\x1b\\", "\x1b(B", "\x1b=", "\x1b" "7", "\x1b[",
		"\x1b]", "\x1b\x1b[1m", "\x1b[1\x1b[2m", "\x1b[12\n", "\x1b[\r\n", "\x1b]x\x1b[3m",
		"\x1b]x\x18", "\x1b_y\x1a", "\x1b#8", "\x1b (", "\xc2\x9b" "31m", "\x1b[1;2\x7f",
		"\x1b\r\n", "\x1b]\r\n\a",
		/* many removals in one 64-byte window */
		"a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nj\r\nk\r\nl\r\nm\r\n",
		"a\x1b[mb\x1b[mc\x1b[md\x1b[me\x1b[mf\x1b[mg\x1b[mh\x1b[mi\x1b[mj\x1b[mk\x1b[m" };
	static const char dense_bytes[] =
	    "\x1b\x1b\x1b\r\r\r\n\n\a\x18\x1a[[]]P^_X\\;0m(#  \x7f\x9b";
	static const char text[] = "abcdefghijklmnopqrstuvwxyz0123456789 $/=:.-_{}\"";
	size_t n = 0, k;

	while (n < cap) {
		uint64_t c = rnd() % 24;

		if (dense && c < 12) {
			b[n++] = (uint8_t)dense_bytes[rnd() % (sizeof(dense_bytes) - 1)];
		} else if (c < 8) {
			k = 1 + rnd() % 40;
			while (k-- > 0 && n < cap)
				b[n++] = (uint8_t)text[rnd() % (sizeof(text) - 1)];
		} else if (c < 17) {
			const char *s = bits[rnd() % (sizeof(bits) / sizeof(bits[0]))];

			n = put(b, n, cap, s, strlen(s));
		} else if (c < 19) {
			/* a CR run around SCAN_CR_RUN_MAX, then LF or not */
			n = put_rep(b, n, cap, '\r', 1 + rnd() % (3 * SCAN_CR_RUN_MAX + 2));
			if (rnd() % 2)
				n = put(b, n, cap, "\n", 1);
		} else if (c < 21) {
			/* a CSI around SCAN_CSI_MAX bytes, ended by a final or not */
			n = put(b, n, cap, "\x1b[", 2);
			n = put_rep(b, n, cap, (uint8_t)(rnd() % 2 ? '1' : ';'),
			    SCAN_CSI_MAX - 6 + rnd() % 10);
			if (rnd() % 2)
				n = put(b, n, cap, "m", 1);
		} else if (c < 22 && rnd() % 4 == 0) {
			/* a string sequence around SCAN_STR_MAX bytes */
			n = put(b, n, cap, "\x1b]", 2);
			n = put_rep(b, n, cap, 'x', SCAN_STR_MAX - 6 + rnd() % 10);
			n = put(b, n, cap, rnd() % 2 ? "\a" : "\x1b\\", rnd() % 2 ? 1 : 2);
		} else {
			b[n++] = (uint8_t)(rnd() & 0xff);
		}
	}
	return n;
}

/* ---- the comparison ------------------------------------------------------------------------ */
struct run {
	struct scan_ansi a, a0;         /* a0: the same input filtered without a map */
	struct scan_gapmap gm;
	size_t nout, nout0;
	uint8_t out[MAX_IN + 2 * SCAN_CR_RUN_MAX];
	uint8_t out0[MAX_IN + 2 * SCAN_CR_RUN_MAX];
};

static void
feed_both(struct run *f, struct ref *r, const uint8_t *in, size_t n, const char *what)
{
	long k;
	size_t i;

	k = scan_ansi_filter(&f->a, in, n, f->out + f->nout, &f->gm);
	if (k < 0)
		fail_msg("%s: filter returned %ld", what, k);
	f->nout += (size_t)k;
	if ((k = scan_ansi_filter(&f->a0, in, n, f->out0 + f->nout0, NULL)) < 0)
		fail_msg("%s: filter without a map returned %ld", what, k);
	f->nout0 += (size_t)k;
	for (i = 0; i < n; i++)
		ref_byte(r, in[i]);
	if (scan_ansi_unresolved(&f->a) != ref_unresolved(r))
		fail_msg("%s: unresolved %llu, reference %llu", what,
		    (unsigned long long)scan_ansi_unresolved(&f->a),
		    (unsigned long long)ref_unresolved(r));
}

static void
compare(struct run *f, const struct ref *r, const char *what)
{
	size_t s, j;

	if (f->nout != r->nout)
		fail_msg("%s: %zu output bytes, reference %zu", what, f->nout, r->nout);
	for (s = 0; s < r->nout; s++) {
		if (f->out[s] != r->out[s])
			fail_msg("%s: output byte %zu is %02x, reference %02x", what, s, f->out[s],
			    r->out[s]);
		if (scan_gapmap_orig(&f->gm, s) != r->orig[s])
			fail_msg("%s: output byte %zu at original %llu, reference %llu", what, s,
			    (unsigned long long)scan_gapmap_orig(&f->gm, s),
			    (unsigned long long)r->orig[s]);
	}
	/* Minimal: every entry changes the delta and names a byte that was output. */
	for (j = f->gm.head; j < f->gm.n; j++) {
		if (f->gm.s[j] >= f->nout)
			fail_msg("%s: map entry %zu at %llu, past the output", what, j,
			    (unsigned long long)f->gm.s[j]);
		if (j > f->gm.head &&
		    (f->gm.s[j] <= f->gm.s[j - 1] || f->gm.d[j] == f->gm.d[j - 1]))
			fail_msg("%s: map entry %zu does not change the delta", what, j);
	}
	if (f->gm.n > f->gm.head && f->gm.d[f->gm.head] == 0)
		fail_msg("%s: first map entry does not change the delta", what);
	if (f->nout0 != r->nout || memcmp(f->out0, r->out, r->nout) != 0)
		fail_msg("%s: output without a map differs", what);
}

/* Pruned to keep_s, the map still gives every byte from keep_s on, with the fewest entries. */
static void
check_prune(struct run *f, const struct ref *r, uint64_t keep_s, const char *what)
{
	size_t head = f->gm.head, s;

	while (f->gm.n - head >= 2 && f->gm.s[head + 1] <= keep_s)
		head++;
	scan_gapmap_prune(&f->gm, keep_s);
	if (f->gm.head != head)
		fail_msg("%s: pruned to %llu, head %zu, expected %zu", what,
		    (unsigned long long)keep_s, f->gm.head, head);
	for (s = keep_s; s < r->nout; s++) {
		if (scan_gapmap_orig(&f->gm, s) != r->orig[s])
			fail_msg("%s: after pruning to %llu, output byte %zu at original %llu, "
			    "reference %llu", what, (unsigned long long)keep_s, s,
			    (unsigned long long)scan_gapmap_orig(&f->gm, s),
			    (unsigned long long)r->orig[s]);
	}
}

/* Feeds in at the cut points cuts[0..ncuts) (ascending), then finishes; compares. */
static void
check_cuts(const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts, const char *what)
{
	static struct run f;
	static struct ref r;
	size_t c, at = 0;
	long k;

	memset(&f.a, 0, sizeof(f.a));
	memset(&f.a0, 0, sizeof(f.a0));
	memset(&f.gm, 0, sizeof(f.gm));
	f.nout = f.nout0 = 0;
	memset(&r, 0, sizeof(r));
	for (c = 0; c <= ncuts; c++) {
		size_t end = c < ncuts ? cuts[c] : n;

		feed_both(&f, &r, in + at, end - at, what);
		at = end;
	}
	if ((k = scan_ansi_finish(&f.a, f.out + f.nout, &f.gm)) < 0)
		fail_msg("%s: finish returned %ld", what, k);
	f.nout += (size_t)k;
	if ((k = scan_ansi_finish(&f.a0, f.out0 + f.nout0, NULL)) < 0)
		fail_msg("%s: finish without a map returned %ld", what, k);
	f.nout0 += (size_t)k;
	ref_flush_crs(&r);
	compare(&f, &r, what);
	if (r.nout > 0) {
		uint64_t keep_s = rnd() % r.nout;

		check_prune(&f, &r, keep_s, what);
		check_prune(&f, &r, keep_s + rnd() % (r.nout - keep_s), what); /* never backwards */
	}
	scan_gapmap_free(&f.gm);
}

static void
check_input(const uint8_t *in, size_t n, int every_split, const char *what)
{
	size_t cuts[64], nc, c, t;

	check_cuts(in, n, NULL, 0, what);
	if (every_split) {
		for (c = 1; c < n; c++)
			check_cuts(in, n, &c, 1, what);
	}
	for (t = 0; t < 8; t++) {
		size_t at = 0;

		/* random pieces: mostly small (1-16 bytes) or around the fast path's reach */
		for (nc = 0; nc < 64; nc++) {
			at += rnd() % 2 ? 1 + rnd() % 16 : 1 + rnd() % 300;
			if (at >= n)
				break;
			cuts[nc] = at;
		}
		check_cuts(in, n, cuts, nc, what);
	}
}

static void
run_all(void)
{
	static uint8_t in[MAX_IN];
	static const char *const fixed[] = {
		"ab\r\ncd", "\r\r\r\n", "\x1b[31mAKIA\x1b[0mX\r\n", "x\x1b]0;t\x07y",
		"x\x1b]0;t\x1b\\y",
		"\x1b[1\x1b[2mz", "\r\x1b[K\rdone\r\n", "\x1b\x1b\x1b[m", "\x1b]a\x1b]b\x07",
	};
	char what[64];
	size_t i, n;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		n = strlen(fixed[i]);
		memcpy(in, fixed[i], n);
		/* the same bytes at every distance from the end of a long plain prefix */
		snprintf(what, sizeof(what), "fixed %zu", i);
		check_input(in, n, 1, what);
		for (size_t pad = 0; pad < 140; pad++) {
			memset(in, 'p', pad);
			memcpy(in + pad, fixed[i], n);
			memset(in + pad + n, 'q', 140 - pad);
			check_input(in, 140 + n, 0, what);
		}
	}
	for (i = 0; i < 400; i++) {
		n = i < 300 ? 64 + rnd() % 400 : 1000 + rnd() % (MAX_IN - 1000);
		n = gen(in, n, (int)(i % 3 == 0));
		snprintf(what, sizeof(what), "random %zu (%zu bytes)", i, n);
		check_input(in, n, i < 120, what);
	}
}

static void
test_filter_vs_reference(void **state)
{
	(void)state;
	run_all();
}

static void
test_filter_avx2_vs_reference(void **state)
{
	(void)state;
	scan_ansi_simd(1); /* what a CPU without AVX-512 runs */
	run_all();
	scan_ansi_simd(2);
}

static void
test_filter_portable_vs_reference(void **state)
{
	(void)state;
	scan_ansi_simd(0);
	run_all();
	scan_ansi_simd(2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_vs_reference),
		cmocka_unit_test(test_filter_avx2_vs_reference),
		cmocka_unit_test(test_filter_portable_vs_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
