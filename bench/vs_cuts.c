/*
 * Does Vectorscan report the same matches of the engine's database however its input is cut and
 * wherever each piece sits in memory? (issue 5; docs/scanner.md, Limits.)
 *
 *   vs_cuts [-r] [-f FEATURES] [-c PATH] [-x EXPR] [-s SEED] [-p PASSES] CORPUS ...
 *
 * The engine hands Vectorscan (streaming mode) the filtered bytes it has just appended to its
 * window, hb + off: pieces of any length up to a block, at whatever address the window's fill
 * gives them. This compiles nothing itself: it scans with the engine's own database (scan_db_open,
 * so exactly the expressions db.c compiles: triggers, endings) and compares the set of (rule,
 * end offset) Vectorscan reports over each CORPUS in one call against the same bytes fed
 *
 *   - in one call at each buffer offset 1..63 of a 64-byte-aligned buffer;
 *   - in random pieces of 1..64 KiB, 1..512 bytes, and 1..16 bytes (the first 8 MB), each copied
 *     to a random offset 0..63 of a 64-byte-aligned buffer, and again to a random offset 25..45;
 *   - in random pieces of 1..512 bytes at each fixed offset 0..63 (the first 16 MB);
 *
 * and, with one call, through each code path of a fat runtime build the CPU can run (core2,
 * corei7, avx2, avx512: the library dispatches to the widest; a database compiled for the host's
 * AVX-512 is refused by the others, so that comparison needs -f 0 or -f 4).
 *
 * PASSES repeats the random passes with new seeds. The corpus goes through the engine's ANSI/CR
 * filter first (what Vectorscan really sees), -r scans its bytes as they are. The bytes after a
 * piece in the buffer are left as the previous pieces left them, as in the engine's window.
 *
 *   -f FEATURES  compile the engine's expressions for a platform with only these
 *                HS_CPU_FEATURES_* (0: none, 4: AVX2, 12: AVX2|AVX-512)
 *   -c PATH      make every pass through that code path (corei7, avx2, ...) instead of the
 *                dispatched one (with -f 0)
 *   -x EXPR      compile one more expression with the engine's (a self-test of the check:
 *                -x 'x[a-z.]' shows Vectorscan 5.4.9's AVX-512 code path losing matches by
 *                address, -x with azure-storage-account-key's whole pattern its AVX2/AVX-512
 *                streaming bug; -c corei7 -f 0 shows neither)
 *
 * Prints, per pass, bytes, calls, matches compared, and each rule with a lost or extra match (the
 * first few end offsets, with the piece that held the end and its address modulo 64). Exit
 * status 0 if every pass agreed, 1 if any did not, 2 on a usage or setup error. ~15 s per 64 MB
 * corpus (tests/scan/gen_corpus.py), -p 3 ~40 s; tests/integration/test_scan_vs_cuts.sh runs it
 * on 2 MB.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "base/secmem.h"
#include "scan/scan.h"
#include "scan/scan_internal.h"

#include "bench.h"

#define PIECE_MAX 65536
#define SHOW 4

struct piece {
	uint64_t start;
	uint32_t len;
	uint8_t off;
};

struct run {
	uint64_t *m; /* (end << 8) | rule */
	size_t n, cap;
	struct piece *p;
	size_t np, capp;
};

/* The library's entry points: the dispatching ones, or one code path of a fat runtime build. */
struct path {
	const char *name;
	hs_error_t (*open)(const hs_database_t *, unsigned int, hs_stream_t **);
	hs_error_t (*scan)(hs_stream_t *, const char *, unsigned int, unsigned int, hs_scratch_t *,
	    match_event_handler, void *);
	hs_error_t (*close)(hs_stream_t *, hs_scratch_t *, match_event_handler, void *);
};

static struct path dispatch = { "dispatched", hs_open_stream, hs_scan_stream, hs_close_stream };

static uint64_t rng;

/* -f FEATURES (-1: the host's) and -x EXPR (id: the rule count) */
static long long features = -1;
static const char *extra;

/*
 * db.c's call to hs_compile_multi lands here (this program's definition comes before the
 * library's): the same expressions, ids and flags, for the -f platform, plus the -x expression.
 */
hs_error_t
hs_compile_multi(const char *const *e, const unsigned int *f, const unsigned int *ids,
    unsigned int n, unsigned int mode, const hs_platform_info_t *pi, hs_database_t **db,
    hs_compile_error_t **ce)
{
	hs_error_t (*real)(const char *const *, const unsigned int *, const unsigned int *,
	    unsigned int, unsigned int, const hs_platform_info_t *, hs_database_t **,
	    hs_compile_error_t **);
	const char *e2[257];
	unsigned int f2[257], i2[257], k;
	hs_platform_info_t p;

	*(void **)&real = dlsym(RTLD_NEXT, "hs_compile_multi");
	if (real == NULL || n > 256)
		return HS_UNKNOWN_ERROR;
	if (hs_populate_platform(&p) != HS_SUCCESS)
		return HS_UNKNOWN_ERROR;
	if (features >= 0)
		p.cpu_features = (unsigned long long)features;
	for (k = 0; k < n; k++) {
		e2[k] = e[k];
		f2[k] = f != NULL ? f[k] : 0;
		i2[k] = ids != NULL ? ids[k] : k;
	}
	if (extra != NULL) {
		e2[n] = extra;
		f2[n] = 0;
		i2[n] = n;
		n++;
	}
	return real(e2, f2, i2, n, mode, pi != NULL ? pi : &p, db, ce);
}

static void *
grow(void *v, size_t *cap, size_t want, size_t sz)
{
	if (want <= *cap)
		return v;
	*cap = want < 1024 ? 1024 : 2 * want;
	if ((v = realloc(v, *cap * sz)) == NULL) {
		fprintf(stderr, "vs_cuts: out of memory\n");
		exit(2);
	}
	return v;
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
    void *ctx)
{
	struct run *r = ctx;

	(void)from;
	(void)flags;
	r->m = grow(r->m, &r->cap, r->n + 1, sizeof(*r->m));
	r->m[r->n++] = ((uint64_t)to << 8) | id;
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint8_t *
slurp(const char *path, size_t *n)
{
	uint8_t *b = bench_slurp(path, n);

	if (b == NULL) {
		fprintf(stderr, "vs_cuts: cannot read %s\n", path);
		exit(2);
	}
	return b;
}

/* The engine's filter over the whole corpus, 16 KiB slices as feed() makes them. */
static uint8_t *
filter(const uint8_t *in, size_t n, size_t *m)
{
	struct scan_ansi a;
	struct scan_gapmap gm;
	size_t i, k = 0, slice = SCAN_BLOCK - SCAN_CR_RUN_MAX;
	uint8_t *out = malloc(n + SCAN_CR_RUN_MAX);
	long w;

	memset(&a, 0, sizeof(a));
	memset(&gm, 0, sizeof(gm));
	for (i = 0; out != NULL && i < n; i += slice) {
		if ((w = scan_ansi_filter(&a, in + i, n - i < slice ? n - i : slice, out + k,
		    &gm)) < 0)
			exit(2);
		k += (size_t)w;
		scan_gapmap_prune(&gm, k > 2 * SCAN_BLOCK ? k - 2 * SCAN_BLOCK : 0);
	}
	if (out == NULL || (w = scan_ansi_finish(&a, out + k, &gm)) < 0)
		exit(2);
	k += (size_t)w;
	scan_gapmap_free(&gm);
	*m = k;
	return out;
}

/*
 * Scans b[0 .. n) in pieces of 1..cut bytes (cut 0: one piece), each copied to buf + an offset
 * in [olo, ohi] before the call.
 */
static hs_error_t
scan_path(const struct path *x, const hs_database_t *db, hs_scratch_t *sc, uint8_t *buf,
    const uint8_t *b, size_t n, size_t cut, unsigned int olo, unsigned int ohi, struct run *r)
{
	hs_stream_t *st = NULL;
	hs_error_t e;
	size_t at = 0;

	r->n = r->np = 0;
	if ((e = x->open(db, 0, &st)) != HS_SUCCESS) {
		st = NULL;
		goto fail;
	}
	while (at < n) {
		size_t len = cut == 0 ? n - at : 1 + bench_next(&rng) % cut;
		unsigned int off = olo + (unsigned int)(bench_next(&rng) % (ohi - olo + 1));
		const uint8_t *p = b + at;

		if (len > n - at)
			len = n - at;
		if (cut != 0) {
			memcpy(buf + off, b + at, len);
			p = buf + off;
		}
		r->p = grow(r->p, &r->capp, r->np + 1, sizeof(*r->p));
		r->p[r->np].start = at;
		r->p[r->np].len = (uint32_t)len;
		r->p[r->np].off = (uint8_t)((uintptr_t)p & 63);
		r->np++;
		if ((e = x->scan(st, (const char *)p, (unsigned int)len, 0, sc, on_match, r)) !=
		    HS_SUCCESS)
			goto fail;
		at += len;
	}
	e = x->close(st, sc, on_match, r);
	st = NULL;
	if (e != HS_SUCCESS)
		goto fail;
	if (r->n > 1)
		qsort(r->m, r->n, sizeof(*r->m), u64_cmp);
	return HS_SUCCESS;
 fail:
	if (st != NULL)
		(void)x->close(st, sc, NULL, NULL);
	if (x != &dispatch) {
		/* a database compiled for the host's AVX-512 is refused by the narrower paths */
		printf("one call, %s code path: cannot run this database (Vectorscan error %d; -f 0 "
		    "compiles one it can)\n", x->name, e);
		return e;
	}
	fprintf(stderr, "vs_cuts: Vectorscan error %d\n", e);
	exit(2);
}

/* One code path of a fat runtime build (core2, corei7, avx2, avx512), if the library has it. */
static int
path_of(const char *name, struct path *x)
{
	char sym[64];

	x->name = name;
	snprintf(sym, sizeof(sym), "%s_hs_open_stream", name);
	*(void **)&x->open = dlsym(RTLD_DEFAULT, sym);
	snprintf(sym, sizeof(sym), "%s_hs_scan_stream", name);
	*(void **)&x->scan = dlsym(RTLD_DEFAULT, sym);
	snprintf(sym, sizeof(sym), "%s_hs_close_stream", name);
	*(void **)&x->close = dlsym(RTLD_DEFAULT, sym);
	return x->open != NULL && x->scan != NULL && x->close != NULL;
}

static int
cpu_has(size_t path)
{
	__builtin_cpu_init();
	switch (path) {
	case 0:
		return __builtin_cpu_supports("ssse3");
	case 1:
		return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt");
	case 2:
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
	default:
		return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
	}
}

static void
scan_pieces(const hs_database_t *db, hs_scratch_t *sc, uint8_t *buf, const uint8_t *b, size_t n,
    size_t cut, unsigned int olo, unsigned int ohi, struct run *r)
{
	(void)scan_path(&dispatch, db, sc, buf, b, n, cut, olo, ohi, r);
}

static const struct piece *
piece_of(const struct run *r, uint64_t end)
{
	size_t lo = 0, hi = r->np;

	/* the piece holding the match's last byte (end - 1) */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (r->p[mid].start <= end - 1)
			lo = mid;
		else
			hi = mid;
	}
	return r->np > 0 ? &r->p[lo] : NULL;
}

/* Prints the differences of r from ref per rule; returns how many matches differ. */
static size_t
compare(const struct scan_db *sdb, const char *name, const struct run *ref, const struct run *r,
    size_t bytes)
{
	size_t i = 0, j = 0, lost = 0, added = 0, rule, shown;

	while (i < ref->n || j < r->n) {
		if (j == r->n || (i < ref->n && ref->m[i] < r->m[j]))
			lost++, i++;
		else if (i == ref->n || r->m[j] < ref->m[i])
			added++, j++;
		else
			i++, j++;
	}
	printf("%-44s %10zu bytes %9zu calls %8zu matches: %s", name, bytes, r->np, ref->n,
	    lost + added == 0 ? "same\n" : "DIFFERENT\n");
	if (lost + added == 0)
		return 0;
	for (rule = 0; rule <= sdb->nrules + sdb->nhs_extra; rule++) {
		for (int side = 0; side < 2; side++) {
			const struct run *a = side == 0 ? ref : r, *b = side == 0 ? r : ref;
			size_t k = 0, c = 0;

			shown = 0;
			for (i = 0; i < a->n; i++) {
				if ((a->m[i] & 0xff) != rule)
					continue;
				while (k < b->n && b->m[k] < a->m[i])
					k++;
				if (k < b->n && b->m[k] == a->m[i])
					continue;
				if (c++ == 0)
					printf("  %s %s:", rule < sdb->nrules ?
					    sdb->rules[rule].id : rule < sdb->nrules +
					    sdb->nhs_extra ? sdb->rules[sdb->hs_rule[rule -
					    sdb->nrules]].id : "(-x EXPR)",
					    side == 0 ? "lost" : "extra");
				if (shown++ < SHOW) {
					const struct piece *p = piece_of(r, a->m[i] >> 8);

					printf(" end %llu (piece %llu+%u at address %% 64 = %u)",
					    (unsigned long long)(a->m[i] >> 8),
					    (unsigned long long)p->start, p->len, p->off);
				}
			}
			if (c > 0)
				printf(" — %zu in all\n", c);
		}
	}
	return lost + added;
}

int
main(int argc, char **argv)
{
	struct scan_db *sdb = NULL;
	char err[SCAN_ERR_MAX], name[128];
	hs_scratch_t *sc = NULL;
	struct run ref = { 0 }, ref8 = { 0 }, ref16 = { 0 }, r = { 0 };
	uint8_t *buf;
	uint64_t seed = 5;
	static const char *const paths[] = { "core2", "corei7", "avx2", "avx512" };
	size_t bad = 0, k;
	int raw = 0, passes = 1, a;

	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "-r") == 0)
			raw = 1;
		else if (strcmp(argv[a], "-s") == 0 && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "-f") == 0 && a + 1 < argc)
			features = strtoll(argv[++a], NULL, 0);
		else if (strcmp(argv[a], "-c") == 0 && a + 1 < argc) {
			if (!path_of(argv[++a], &dispatch)) {
				fprintf(stderr, "vs_cuts: no %s code path in this library\n", argv[a]);
				return 2;
			}
		} else if (strcmp(argv[a], "-x") == 0 && a + 1 < argc)
			extra = argv[++a];
		else if (strcmp(argv[a], "-p") == 0 && a + 1 < argc)
			passes = atoi(argv[++a]);
		else
			break;
	}
	if (a == argc || passes < 1) {
		fprintf(stderr, "usage: vs_cuts [-r] [-f FEATURES] [-c PATH] [-x EXPR] [-s SEED] [-p PASSES] CORPUS ...\n");
		return 2;
	}
	if (secmem_init() != 0 || scan_db_open(&sdb, err) != 0) {
		fprintf(stderr, "vs_cuts: %s\n", err);
		return 2;
	}
	if (sdb->nrules + sdb->nhs_extra > 255 || hs_alloc_scratch(sdb->hs, &sc) != HS_SUCCESS ||
	    (buf = aligned_alloc(64, PIECE_MAX + 128)) == NULL)
		return 2;
	memset(buf, 0, PIECE_MAX + 128);
	for (; a < argc; a++) {
		size_t n, m, n8, n16;
		uint8_t *in = slurp(argv[a], &n), *f = raw ? in : filter(in, n, &m), *one;
		int p;
		unsigned int off;

		if (raw)
			m = n;
		n8 = m < (8u << 20) ? m : 8u << 20;
		n16 = m < (16u << 20) ? m : 16u << 20;
		printf("%s: %zu bytes, %zu %s, seed %llu\n", argv[a], n, m,
		    raw ? "as they are" : "after the filter", (unsigned long long)seed);
		/* the references: one call from a 64-byte-aligned copy */
		if ((one = aligned_alloc(64, ((m + 64) / 64 + 1) * 64)) == NULL)
			return 2;
		memcpy(one, f, m);
		scan_pieces(sdb->hs, sc, buf, one, m, 0, 0, 0, &ref);
		scan_pieces(sdb->hs, sc, buf, one, n8, 0, 0, 0, &ref8);
		scan_pieces(sdb->hs, sc, buf, one, n16, 0, 0, 0, &ref16);
		for (off = 1; off < 64; off++) {
			memmove(one + off, one + off - 1, m);
			scan_pieces(sdb->hs, sc, buf, one + off, m, 0, 0, 0, &r);
			snprintf(name, sizeof(name), "one call at offset %u", off);
			bad += compare(sdb, name, &ref, &r, m);
		}
		memmove(one, one + 63, m);
		/* the same call through each code path the CPU can run (a fat runtime dispatches
		 * to the widest one) */
		for (k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
			struct path x;

			if (!path_of(paths[k], &x) || !cpu_has(k))
				continue;
			if (scan_path(&x, sdb->hs, sc, buf, one, m, 0, 0, 0, &r) != HS_SUCCESS)
				continue;
			snprintf(name, sizeof(name), "one call, %s code path", paths[k]);
			bad += compare(sdb, name, &ref, &r, m);
		}
		free(one);
		for (p = 0; p < passes; p++) {
			rng = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)p + 1;
			scan_pieces(sdb->hs, sc, buf, f, m, PIECE_MAX, 0, 63, &r);
			bad += compare(sdb, "1..65536-byte pieces, offsets 0..63", &ref, &r, m);
			scan_pieces(sdb->hs, sc, buf, f, m, PIECE_MAX, 25, 45, &r);
			bad += compare(sdb, "1..65536-byte pieces, offsets 25..45", &ref, &r, m);
			scan_pieces(sdb->hs, sc, buf, f, m, 512, 0, 63, &r);
			bad += compare(sdb, "1..512-byte pieces, offsets 0..63", &ref, &r, m);
			scan_pieces(sdb->hs, sc, buf, f, m, 512, 25, 45, &r);
			bad += compare(sdb, "1..512-byte pieces, offsets 25..45", &ref, &r, m);
			scan_pieces(sdb->hs, sc, buf, f, n8, 16, 0, 63, &r);
			bad += compare(sdb, "1..16-byte pieces (8 MB), offsets 0..63", &ref8, &r, n8);
			scan_pieces(sdb->hs, sc, buf, f, n8, 16, 25, 45, &r);
			bad += compare(sdb, "1..16-byte pieces (8 MB), offsets 25..45", &ref8, &r,
			    n8);
			for (off = 0; off < 64; off++) {
				scan_pieces(sdb->hs, sc, buf, f, n16, 512, off, off, &r);
				snprintf(name, sizeof(name), "1..512-byte pieces (16 MB), offset %u",
				    off);
				bad += compare(sdb, name, &ref16, &r, n16);
			}
		}
		if (!raw)
			free(f);
		free(in);
	}
	printf("vs_cuts: %zu matches lost or extra in all\n", bad);
	free(ref.m);
	free(ref.p);
	free(ref8.m);
	free(ref8.p);
	free(ref16.m);
	free(ref16.p);
	free(r.m);
	free(r.p);
	free(buf);
	hs_free_scratch(sc);
	scan_db_free(sdb);
	return bad == 0 ? 0 : 1;
}
