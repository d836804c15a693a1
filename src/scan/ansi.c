/*
 * The scanner's input filter: removes ANSI escape sequences and folds CR+ LF to LF, so that
 * colour codes inside a secret and a terminal's CRLF line ends cannot hide it from the rules or
 * the fingerprints, and keeps a deletion-only offset map so findings are reported in offsets of
 * the ORIGINAL stream. The state machine carries over between calls, so a sequence split across
 * feeds is removed the same way as a whole one. With AVX-512 (VBMI2), output made of plain
 * text, colour codes and CR LF is filtered 64 bytes at a time by masks (ground_avx512); the
 * rest, and every byte on CPUs without it, goes through the state machine, plain runs copied a
 * vector at a time (plain_run).
 *
 * Removed: CSI (ESC [ params/intermediates final 0x40-0x7E), the string sequences OSC (ESC ]),
 * DCS (ESC P), SOS (ESC X), PM (ESC ^) and APC (ESC _) up to BEL or ST (ESC \), and the other
 * ESC sequences (ESC, intermediates 0x20-0x2F, a final 0x30-0x7E). A byte that cannot continue a
 * sequence aborts it (the sequence so far is removed, the byte is kept), as terminals do; so do
 * over-long sequences (SCAN_CSI_MAX, SCAN_STR_MAX), which bounds what one sequence can hide.
 * The 8-bit C1 CSI (0x9B) is left alone: it is a UTF-8 continuation byte in real output.
 */
#include "scan/scan_internal.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/err.h"

#define ESC 0x1b
#define BEL 0x07
#define CAN 0x18
#define SUB 0x1a

/* Input bytes the fast path needs ahead: one window. */
#define FAST_AHEAD 64

static const uint8_t crs[SCAN_CR_RUN_MAX] = { '\r', '\r', '\r', '\r', '\r', '\r', '\r', '\r',
	'\r', '\r', '\r', '\r', '\r', '\r', '\r', '\r' };

/* Makes room for one more entry: slides live entries down when most are dead, else grows. */
static int
gapmap_grow(struct scan_gapmap *gm)
{
	size_t live = gm->n - gm->head, cap = gm->cap;
	uint64_t *ns, *nd;

	if (gm->head > 0 && gm->head >= live) {
		memmove(gm->s, gm->s + gm->head, live * sizeof(*gm->s));
		memmove(gm->d, gm->d + gm->head, live * sizeof(*gm->d));
		gm->head = 0;
		gm->n = live;
		return 0;
	}
	cap = cap == 0 ? 16 : cap * 2;
	if ((ns = realloc(gm->s, cap * sizeof(*ns))) == NULL)
		return VT_ERR_NOMEM;
	gm->s = ns;
	if ((nd = realloc(gm->d, cap * sizeof(*nd))) == NULL)
		return VT_ERR_NOMEM;
	gm->d = nd;
	gm->cap = cap;
	return 0;
}

/* Makes room for k more entries. */
static int
gapmap_reserve(struct scan_gapmap *gm, size_t k)
{
	int r;

	while (gm->cap - gm->n < k)
		if ((r = gapmap_grow(gm)) != 0)
			return r;
	return 0;
}

static inline int
gapmap_push(struct scan_gapmap *gm, uint64_t s, uint64_t d)
{
	int r;

	if (gm == NULL)
		return 0;
	if (gm->n > gm->head && gm->s[gm->n - 1] == s) {
		gm->d[gm->n - 1] = d;
		return 0;
	}
	if (gm->n == gm->cap && (r = gapmap_grow(gm)) != 0)
		return r;
	gm->s[gm->n] = s;
	gm->d[gm->n] = d;
	gm->n++;
	return 0;
}

void
scan_gapmap_free(struct scan_gapmap *gm)
{
	if (gm == NULL)
		return;
	free(gm->s);
	free(gm->d);
	memset(gm, 0, sizeof(*gm));
}

uint64_t
scan_gapmap_orig(const struct scan_gapmap *gm, uint64_t s)
{
	size_t lo, hi;

	if (gm->n == gm->head || s < gm->s[gm->head])
		return s; /* before the first change (pruned entries only ever precede keep_s) */
	lo = gm->head;
	hi = gm->n; /* answer in [lo, hi) : last entry with s[j] <= s */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (gm->s[mid] <= s)
			lo = mid;
		else
			hi = mid;
	}
	return s + gm->d[lo];
}

void
scan_gapmap_prune(struct scan_gapmap *gm, uint64_t keep_s)
{
	size_t lo = gm->head, hi = gm->n;

	/* Keep the last entry at or before keep_s: it gives the delta of keep_s itself. */
	if (hi - lo < 2 || gm->s[lo + 1] > keep_s)
		return;
	lo++; /* answer in [lo, hi): last entry with s[j] <= keep_s */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (gm->s[mid] <= keep_s)
			lo = mid;
		else
			hi = mid;
	}
	gm->head = lo;
}

/* Records that the next kept byte, stripped offset s, has original offset o. */
static inline int
kept_at(struct scan_ansi *a, uint64_t o, uint64_t s, struct scan_gapmap *gm)
{
	uint64_t d = o - s;

	if (d == a->delta)
		return 0;
	a->delta = d;
	return gapmap_push(gm, s, d);
}

static int
flush_crs(struct scan_ansi *a, uint8_t **o, struct scan_gapmap *gm)
{
	int r;

	if (a->ncr == 0)
		return 0;
	if ((r = kept_at(a, a->cr_o, a->out_s, gm)) != 0)
		return r;
	memcpy(*o, crs, a->ncr);
	*o += a->ncr;
	a->out_s += a->ncr;
	a->ncr = 0;
	return 0;
}

/* One byte inside a sequence: returns 1 if the byte was consumed, 0 if it goes back to GROUND. */
static int
seq_byte(struct scan_ansi *a, uint8_t b)
{
	switch (a->st) {
	case ANSI_ESC:
		a->seqlen++;
		if (b == '[') {
			a->st = ANSI_CSI;
		} else if (b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_') {
			a->st = ANSI_STR;
		} else if (b >= 0x20 && b <= 0x2f) {
			a->st = ANSI_NF;
		} else if (b >= 0x30 && b <= 0x7e) {
			a->st = ANSI_GROUND;
		} else if (b == ESC) {
			a->seqlen = 1;
		} else {
			a->st = ANSI_GROUND;
			return 0;
		}
		return 1;
	case ANSI_NF:
	case ANSI_CSI:
		if (b == ESC) {
			a->st = ANSI_ESC;
			a->seqlen = 1;
			return 1;
		}
		if (++a->seqlen > SCAN_CSI_MAX) {
			a->st = ANSI_GROUND;
			return 0;
		}
		if (b >= 0x20 && b <= 0x2f)
			return 1;
		if (a->st == ANSI_CSI && b >= 0x30 && b <= 0x3f)
			return 1;
		if ((a->st == ANSI_CSI && b >= 0x40 && b <= 0x7e) ||
		    (a->st == ANSI_NF && b >= 0x30 && b <= 0x7e)) {
			a->st = ANSI_GROUND;
			return 1;
		}
		a->st = ANSI_GROUND;
		return 0;
	case ANSI_STR:
		if (b == ESC) {
			a->st = ANSI_STR_ESC;
			return 1;
		}
		if (b == BEL || b == CAN || b == SUB) {
			a->st = ANSI_GROUND;
			return 1;
		}
		if (++a->seqlen > SCAN_STR_MAX) {
			a->st = ANSI_GROUND;
			return 0;
		}
		return 1;
	case ANSI_STR_ESC:
		if (b == '\\') {
			a->st = ANSI_GROUND;
			return 1;
		}
		/* ESC ends the string and starts a new sequence with this byte. */
		a->st = ANSI_ESC;
		a->seqlen = 1;
		return seq_byte(a, b);
	case ANSI_GROUND:
		break;
	}
	return 0;
}

/*
 * Copies in[i ..) up to the first ESC or CR (or n) to o and returns where it stopped. A vector
 * at a time (AVX2 when the CPU has it, chosen at start-up, else SSE2, which every x86-64 has),
 * each vector stored whole before its ESC/CR mask is looked at: terminal output is mostly short
 * runs, where a length-exact copy of the last piece costs more than the bytes. The store may
 * reach a vector past the run, never past the room scan_ansi_filter promises (n + CR run
 * max): o - out <= i + SCAN_CR_RUN_MAX and a store at input offset j needs j + width <= n.
 */
static size_t
plain_run_sse2(const uint8_t *in, size_t i, size_t n, uint8_t *o)
{
	size_t j = i;
#ifdef __SSE2__
	const __m128i esc = _mm_set1_epi8(ESC), cr = _mm_set1_epi8('\r');

	while (n - j >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(in + j));
		unsigned int m = (unsigned int)_mm_movemask_epi8(
		    _mm_or_si128(_mm_cmpeq_epi8(v, esc), _mm_cmpeq_epi8(v, cr)));

		_mm_storeu_si128((__m128i *)(void *)(o + (j - i)), v);
		if (m != 0)
			return j + (size_t)__builtin_ctz(m);
		j += 16;
	}
#endif
	while (j < n && in[j] != ESC && in[j] != '\r') {
		o[j - i] = in[j];
		j++;
	}
	return j;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2"))) static size_t
plain_run_avx2(const uint8_t *in, size_t i, size_t n, uint8_t *o)
{
	const __m256i esc = _mm256_set1_epi8(ESC), cr = _mm256_set1_epi8('\r');
	size_t j = i;

	while (n - j >= 32) {
		__m256i v = _mm256_loadu_si256((const void *)(in + j));
		uint32_t m = (uint32_t)_mm256_movemask_epi8(
		    _mm256_or_si256(_mm256_cmpeq_epi8(v, esc), _mm256_cmpeq_epi8(v, cr)));

		_mm256_storeu_si256((void *)(o + (j - i)), v);
		if (m != 0)
			return j + (size_t)__builtin_ctz(m);
		j += 32;
	}
	return plain_run_sse2(in, j, n, o + (j - i));
}

#define AVX512 "avx512f,avx512bw,avx512vbmi2,bmi,bmi2,popcnt,lzcnt"

/*
 * The string sequence at p (ESC and one of ] P X ^ _), avail bytes readable: its length up to
 * where the ground state resumes, as seq_byte would leave it, or 0 when it does not end inside
 * avail bytes or is aborted as over-long (the state machine takes those). BEL, CAN and SUB end
 * it, so does ST (ESC '\\'); an ESC not followed by '\\' ends it and starts a new sequence, which
 * is what the ground state does with that ESC.
 */
__attribute__((target(AVX512))) static size_t
str_len_avx512(const uint8_t *p, size_t avail)
{
	const __m512i esc = _mm512_set1_epi8(ESC), bel = _mm512_set1_epi8(BEL);
	const __m512i can = _mm512_set1_epi8(CAN), sub = _mm512_set1_epi8(SUB);
	size_t j, t;

	for (j = 2; avail - j > 64 && j <= SCAN_STR_MAX; j += 64) {
		__m512i v = _mm512_loadu_si512(p + j);
		uint64_t m = _mm512_cmpeq_epi8_mask(v, esc) | _mm512_cmpeq_epi8_mask(v, bel) |
		    _mm512_cmpeq_epi8_mask(v, can) | _mm512_cmpeq_epi8_mask(v, sub);

		if (m == 0)
			continue;
		t = j + (size_t)__builtin_ctzll(m);
		if (t > SCAN_STR_MAX)
			return 0; /* over-long: aborted at byte SCAN_STR_MAX */
		if (p[t] != ESC)
			return t + 1;
		return p[t + 1] == '\\' ? t + 2 : t; /* t + 1 < avail, see the loop */
	}
	return 0;
}

/*
 * The ground state's fast path (AVX-512), entered with no CR pending. A window of 64 bytes at a
 * time: the bytes the state machine would remove are found with masks for all the events of
 * the window at once, the kept ones compressed to the output, the map entries computed from the
 * same masks. Handled so: CR LF (the CR dropped), a lone CR (kept), CSI sequences that end in
 * the window (a parameter run found by a carry: adding the run's first bit to the parameter
 * mask clears the run and sets the bit of its terminator), and a string sequence at the
 * window's start. A window is cut before the first event it cannot resolve: a CR or an ESC in
 * its last byte, a CSI that runs past it, a run of CRs, any other ESC sequence; the next window
 * starts there. At such an event at the window's start, the state machine takes it: *ip stops
 * there, the state untouched.
 *
 * The inner loop calls nothing (its constants stay in registers) and nothing in a window waits
 * for the window before it but where it starts, which is 64 bytes on unless the window was cut
 * (a branch, predicted). Without a map (gm NULL), entries go to a scratch array and are dropped.
 */
__attribute__((target(AVX512))) static int
ground_avx512(struct scan_ansi *a, const uint8_t *in, size_t *ip, size_t n, uint8_t **op,
    struct scan_gapmap *gm)
{
	static const uint8_t iota[64] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
		38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58,
		59, 60, 61, 62, 63 };
	const __m512i esc = _mm512_set1_epi8(ESC), cr = _mm512_set1_epi8('\r');
	const __m512i lf = _mm512_set1_epi8('\n'), lb = _mm512_set1_epi8('[');
	const __m512i hi3 = _mm512_set1_epi8((char)0xe0), sp = _mm512_set1_epi8(0x20);
	const __m512i at40 = _mm512_set1_epi8(0x40), fin_n = _mm512_set1_epi8(0x3e);
	const __m512i pos = _mm512_loadu_si512(iota);
	const uint64_t last = 1ull << 63;
	uint64_t scratch_s[128], scratch_d[128];
	uint64_t s = a->out_s, delta = a->delta, in_o = a->in_o;
	uint64_t *ms = scratch_s, *md = scratch_d;
	size_t i = *ip, k, mn = 0, mcap = 128;
	uint8_t *o = *op;
	int r = 0;

	if (gm != NULL)
		mn = gm->n;
	for (;;) {
		if (gm != NULL) {
			gm->n = mn;
			if ((r = gapmap_reserve(gm, 64)) != 0) {
				mn = gm->n;
				break;
			}
			ms = gm->s;
			md = gm->d;
			mn = gm->n;
			mcap = gm->cap;
		} else {
			mn = 0;
		}
		while (n - i >= FAST_AHEAD && mcap - mn >= 64) {
			__m512i v = _mm512_loadu_si512(in + i), tv, jv;
			uint64_t e = _mm512_cmpeq_epi8_mask(v, esc);
			uint64_t c = _mm512_cmpeq_epi8_mask(v, cr);
			uint64_t par, fin, csi, body, term, stop, keep, gaps, d0 = in_o + i - s;
			size_t x, ng;

			/*
			 * Input read from memory (a large buffer fed in pieces) kept the loop
			 * waiting with the hardware prefetcher alone. A hint: past the input (or
			 * an unmapped page) it does nothing.
			 */
			_mm_prefetch((const char *)in + i + 2048, _MM_HINT_T0);
			if ((e | c) == 0) {
				/* no event: stored as they are, an entry if bytes were removed */
				_mm512_storeu_si512(o, v);
				if (d0 != delta) {
					delta = d0;
					ms[mn] = s;
					md[mn++] = d0;
				}
				i += 64;
				o += 64;
				s += 64;
				continue;
			}
			/* parameters and intermediates 0x20-0x3F; finals 0x40-0x7E */
			par = _mm512_cmpeq_epi8_mask(_mm512_and_si512(v, hi3), sp);
			fin = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, at40), fin_n);
			csi = e & (_mm512_cmpeq_epi8_mask(v, lb) >> 1);
			body = par + ((csi << 2) & par);
			term = (body | csi << 2) & ~par & fin;
			body = par & ~body;
			stop = (e & ~csi) | (c & (c << 1 | c >> 1 | last)) | (csi & last >> 1);
			if (__builtin_expect((body & last) != 0, 0))
				stop |= last >> __builtin_clzll(csi);
			if (__builtin_expect(stop & 1, 0))
				break;
			keep = ~(csi | csi << 1 | body | term |
			    (c & _mm512_cmpeq_epi8_mask(v, lf) >> 1)) & ((stop & -stop) - 1);
			_mm512_storeu_si512(o, _mm512_maskz_compress_epi8(keep, v));
			/*
			 * A kept byte at window position j, the t-th kept byte, whose delta differs
			 * from the kept byte's before it gets the entry (s + t, d0 + j - t): the
			 * first 8 written whole (there is room), more one by one.
			 */
			gaps = keep & ~(keep << 1 | (d0 == delta));
			tv = _mm512_maskz_compress_epi8(_pext_u64(gaps, keep), pos);
			jv = _mm512_maskz_compress_epi8(gaps, pos);
			tv = _mm512_cvtepu8_epi64(_mm512_castsi512_si128(tv));
			jv = _mm512_cvtepu8_epi64(_mm512_castsi512_si128(jv));
			_mm512_storeu_si512(ms + mn,
			    _mm512_add_epi64(_mm512_set1_epi64((long long)s), tv));
			jv = _mm512_sub_epi64(jv, tv);
			_mm512_storeu_si512(md + mn,
			    _mm512_add_epi64(_mm512_set1_epi64((long long)d0), jv));
			ng = (size_t)__builtin_popcountll(gaps);
			for (x = 8; x < ng; x++) {
				uint64_t j = (uint64_t)__builtin_ctzll(_pdep_u64(1ull << x, gaps));
				uint64_t t = (uint64_t)__builtin_popcountll(_bzhi_u64(keep,
				    (unsigned int)j));

				ms[mn + x] = s + t;
				md[mn + x] = d0 + j - t;
			}
			mn += ng;
			k = (size_t)__builtin_popcountll(keep);
			if (keep != 0)
				delta = d0 + (uint64_t)(63 - __builtin_clzll(keep)) + 1 - k;
			o += k;
			s += k;
			if (__builtin_expect(stop == 0, 1)) {
				i += 64;
			} else {
				k = (size_t)__builtin_ctzll(stop);
				/* a branch, not a conditional move: the next load must not wait */
				__asm__ volatile("" : "+r"(k));
				i += k;
			}
		}
		if (mcap - mn < 64)
			continue; /* room for the map */
		if (n - i < FAST_AHEAD)
			break;
		/* An event at the window's start: a string sequence, or the state machine. */
		if (in[i] == ESC && (in[i + 1] == ']' || in[i + 1] == 'P' || in[i + 1] == 'X' ||
		    in[i + 1] == '^' || in[i + 1] == '_') &&
		    (k = str_len_avx512(in + i, n - i)) != 0) {
			i += k;
			continue;
		}
		break;
	}
	if (gm != NULL)
		gm->n = mn;
	a->out_s = s;
	a->delta = delta;
	*ip = i;
	*op = o;
	return r;
}
#endif

static size_t (*plain_run)(const uint8_t *, size_t, size_t, uint8_t *) = plain_run_sse2;
/* The ground state's fast path, NULL where the CPU has none: plain_run and the state machine. */
static int (*ground_fast)(struct scan_ansi *, const uint8_t *, size_t *, size_t, uint8_t **,
    struct scan_gapmap *);

void
scan_ansi_simd(int level)
{
	plain_run = plain_run_sse2;
	ground_fast = NULL;
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (level >= 1 && __builtin_cpu_supports("avx2"))
		plain_run = plain_run_avx2;
	if (level >= 2 && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2"))
		ground_fast = ground_avx512;
#else
	(void)level;
#endif
}

__attribute__((constructor)) static void
plain_run_init(void)
{
	scan_ansi_simd(2);
}

/*
 * A CSI sequence at in[i] (ESC '[') that ends inside in[0, n): where the ground state resumes
 * (past its final byte, or at the byte that aborted it, which is kept), exactly as seq_byte would
 * leave it; 0 when the state machine must take it (split across feeds, ESC inside, over-long).
 * Colour codes are most of the escapes in terminal output.
 */
static size_t
csi_whole(const uint8_t *in, size_t i, size_t n)
{
	size_t j, len = 2;

	if (n - i < 3 || in[i + 1] != '[')
		return 0;
	for (j = i + 2; j < n; j++) {
		uint8_t b = in[j];

		if (b == ESC || ++len > SCAN_CSI_MAX)
			return 0;
		if (b >= 0x20 && b <= 0x3f)
			continue;
		return b >= 0x40 && b <= 0x7e ? j + 1 : j;
	}
	return 0;
}

long
scan_ansi_filter(struct scan_ansi *a, const uint8_t *in, size_t n, uint8_t *out,
    struct scan_gapmap *gm)
{
	uint8_t *o = out;
	size_t i = 0;
	int r;

	while (i < n) {
		uint8_t b;
		size_t stop;

		if (a->st == ANSI_GROUND && a->ncr == 0 && ground_fast != NULL &&
		    n - i >= FAST_AHEAD) {
			if ((r = ground_fast(a, in, &i, n, &o, gm)) != 0)
				return r;
			if (i == n)
				break; /* a string sequence ended the input */
		}
		b = in[i];
		if (a->st != ANSI_GROUND) {
			if (seq_byte(a, b))
				i++;
			continue;
		}
		if (b == '\r' && a->ncr == 0 && i + 1 < n && in[i + 1] == '\n') {
			i++; /* a tty's line end: CR LF -> LF, the LF is the next kept byte */
			continue;
		}
		if (b == '\r') {
			if (a->ncr == SCAN_CR_RUN_MAX && (r = flush_crs(a, &o, gm)) != 0)
				return r;
			if (a->ncr++ == 0)
				a->cr_o = a->in_o + i;
			i++;
			continue;
		}
		if (a->ncr > 0) {
			if (b == '\n')
				a->ncr = 0; /* CR+ LF -> LF */
			else if ((r = flush_crs(a, &o, gm)) != 0)
				return r;
		}
		if (b == ESC) {
			size_t j = csi_whole(in, i, n);

			if (j > 0) {
				i = j; /* a whole colour code: removed without the state machine */
				continue;
			}
			a->st = ANSI_ESC;
			a->seqlen = 1;
			i++;
			continue;
		}
		/* A plain run up to the next ESC or CR, copied as it is scanned. */
		if ((r = kept_at(a, a->in_o + i, a->out_s, gm)) != 0)
			return r;
		stop = plain_run(in, i, n, o);
		o += stop - i;
		a->out_s += stop - i;
		i = stop;
	}
	a->in_o += n;
	return o - out;
}

long
scan_ansi_finish(struct scan_ansi *a, uint8_t *out, struct scan_gapmap *gm)
{
	uint8_t *o = out;
	int r;

	if ((r = flush_crs(a, &o, gm)) != 0)
		return r;
	a->st = ANSI_GROUND;
	return o - out;
}

uint64_t
scan_ansi_unresolved(const struct scan_ansi *a)
{
	return a->ncr > 0 ? a->cr_o : a->in_o;
}

size_t
scan_ansi_seq_len(const uint8_t *p, size_t n)
{
	struct scan_ansi a = { .st = ANSI_ESC, .seqlen = 1 };
	size_t i;

	if (n == 0 || p[0] != ESC)
		return 0;
	for (i = 1; i < n && a.st != ANSI_GROUND; i++) {
		if (!seq_byte(&a, p[i]))
			return i;
	}
	return i;
}
