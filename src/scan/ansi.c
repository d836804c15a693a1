/*
 * The scanner's input filter: removes ANSI escape sequences and folds CR+ LF to LF, so that
 * colour codes inside a secret and a terminal's CRLF line ends cannot hide it from the rules or
 * the fingerprints, and keeps a deletion-only offset map so findings are reported in offsets of
 * the ORIGINAL stream. The state machine carries over between calls, so a sequence split across
 * feeds is removed the same way as a whole one. Plain runs are located with memchr and copied.
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
	/* Keep the last entry at or before keep_s: it gives the delta of keep_s itself. */
	while (gm->n - gm->head >= 2 && gm->s[gm->head + 1] <= keep_s)
		gm->head++;
}

/* Records that the next kept byte, stripped offset a->out_s, has original offset o. */
static inline int
kept_at(struct scan_ansi *a, uint64_t o, struct scan_gapmap *gm)
{
	uint64_t d = o - a->out_s;

	if (d == a->delta)
		return 0;
	a->delta = d;
	return gapmap_push(gm, a->out_s, d);
}

static int
flush_crs(struct scan_ansi *a, uint8_t **o, struct scan_gapmap *gm)
{
	int r;

	if (a->ncr == 0)
		return 0;
	if ((r = kept_at(a, a->cr_o, gm)) != 0)
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

static size_t (*plain_run)(const uint8_t *, size_t, size_t, uint8_t *) = plain_run_sse2;

__attribute__((constructor)) static void
plain_run_init(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		plain_run = plain_run_avx2;
}
#else
#define plain_run plain_run_sse2
#endif

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
		uint8_t b = in[i];
		size_t stop;

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
		if ((r = kept_at(a, a->in_o + i, gm)) != 0)
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
