/*
 * The floor under the scanner's design: how fast its two mandatory passes run on their own, with
 * no work per match, on a corpus (issue 5's 1 GB/s target; docs/scanner.md, "The floor").
 *
 *   scan_floor CORPUS [SET ...]
 *
 * 1. The ANSI/CR filter alone (scan_ansi_filter, the engine's, fed 16 KiB slices as feed() does,
 *    keeping the offset map): every byte goes through it before anything is matched (an escape
 *    sequence must not hide a secret).
 * 2. Vectorscan alone, streaming mode, the filtered bytes in 16 KiB calls as the engine makes them,
 *    a callback that only counts: over the engine's own compiled database, then over each SET, a
 *    file of "rule-id<TAB>expression" lines compiled the same way (bench/scan-floor/: every rule
 *    cut down to a literal trigger, and the triggers of only the formats issue 5 names). A SET is
 *    a lower bound on what Vectorscan must do for those rules, whatever is done around it.
 *
 * Rates are MB/s (10^6 bytes of the ORIGINAL corpus per CPU second of this thread, best of 3),
 * with matches per MB. Asserts nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "base/secmem.h"
#include "scan/scan.h"
#include "scan/scan_internal.h"

#include "bench.h"

#define RUNS 3
#define SETS_MAX 512

static int
count(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
    void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(*(uint64_t *)ctx)++;
	return 0;
}

static uint8_t *
slurp(const char *path, size_t *n)
{
	uint8_t *b = bench_slurp(path, n);

	if (b == NULL) {
		fprintf(stderr, "scan_floor: cannot read %s\n", path);
		exit(1);
	}
	return b;
}

/* The filter alone, best of RUNS; leaves the filtered bytes in out (*m of them). */
static double
filter_alone(const uint8_t *in, size_t n, uint8_t *out, size_t *m)
{
	double best = 0;
	int run;

	for (run = 0; run < RUNS; run++) {
		struct scan_ansi a;
		struct scan_gapmap gm;
		size_t i, k = 0, slice = SCAN_BLOCK - SCAN_CR_RUN_MAX;
		double t0 = bench_cpu_now(), t;
		long w;

		memset(&a, 0, sizeof(a));
		memset(&gm, 0, sizeof(gm));
		for (i = 0; i < n; i += slice) {
			if ((w = scan_ansi_filter(&a, in + i, n - i < slice ? n - i : slice, out + k,
			    &gm)) < 0) {
				fprintf(stderr, "scan_floor: filter failed\n");
				exit(1);
			}
			k += (size_t)w;
			/* the offset map as the engine keeps it: a window's worth */
			scan_gapmap_prune(&gm, k > 2 * SCAN_BLOCK ? k - 2 * SCAN_BLOCK : 0);
		}
		if ((w = scan_ansi_finish(&a, out + k, &gm)) < 0)
			exit(1);
		k += (size_t)w;
		t = bench_cpu_now() - t0;
		scan_gapmap_free(&gm);
		if ((double)n / 1e6 / t > best)
			best = (double)n / 1e6 / t;
		*m = k;
	}
	return best;
}

/*
 * Vectorscan alone over the filtered bytes, through the build of its scan code the engine uses
 * (db.c scan_hs), best of RUNS; *matches of the last run.
 */
static double
hs_alone(const hs_database_t *db, const uint8_t *b, size_t m, size_t n_orig, uint64_t *matches)
{
	const struct scan_hs_api *api = scan_hs();
	hs_scratch_t *scratch = NULL;
	double best = 0;
	int run;

	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
		exit(1);
	for (run = 0; run < RUNS; run++) {
		hs_stream_t *st;
		uint64_t c = 0;
		double t0 = bench_cpu_now(), t;
		size_t i;

		if (api->open_stream(db, 0, &st) != HS_SUCCESS)
			exit(1);
		for (i = 0; i < m; i += SCAN_BLOCK)
			(void)api->scan_stream(st, (const char *)b + i,
			    (unsigned int)(m - i < SCAN_BLOCK ? m - i : SCAN_BLOCK), 0, scratch, count, &c);
		(void)api->close_stream(st, scratch, count, &c);
		t = bench_cpu_now() - t0;
		if ((double)n_orig / 1e6 / t > best)
			best = (double)n_orig / 1e6 / t;
		*matches = c;
	}
	hs_free_scratch(scratch);
	return best;
}

/*
 * Compiles a SET file ("rule-id<TAB>expression" lines; # comments) in streaming mode, for the
 * platform db.c compiles the engine's database for.
 */
static hs_database_t *
compile_set(const char *path, unsigned int *nexpr)
{
	size_t n;
	char *text = (char *)slurp(path, &n), *line, *save = NULL, *tab;
	const char *expr[SETS_MAX];
	unsigned int ids[SETS_MAX], k = 0;
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((tab = strchr(line, '\t')) == NULL || k == SETS_MAX) {
			fprintf(stderr, "scan_floor: %s: bad line: %s\n", path, line);
			exit(1);
		}
		expr[k] = tab + 1;
		ids[k] = k;
		k++;
	}
	if (hs_compile_multi(expr, NULL, ids, k, HS_MODE_STREAM, scan_hs()->platform, &db,
	    &ce) != HS_SUCCESS) {
		fprintf(stderr, "scan_floor: %s: expression %d: %s\n", path, ce->expression,
		    ce->message);
		exit(1);
	}
	free(text);
	*nexpr = k;
	return db;
}

int
main(int argc, char **argv)
{
	struct scan_db *sdb = NULL;
	char err[SCAN_ERR_MAX];
	uint8_t *in, *f;
	size_t n, m;
	uint64_t c;
	double fr, r;
	unsigned int k;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: scan_floor CORPUS [SET ...]\n");
		return 2;
	}
	if (secmem_init() != 0 || scan_db_open(&sdb, err) != 0) {
		fprintf(stderr, "scan_floor: %s\n", err);
		return 1;
	}
	in = slurp(argv[1], &n);
	if ((f = malloc(n + SCAN_CR_RUN_MAX)) == NULL)
		return 1;
	fr = filter_alone(in, n, f, &m);
	printf("scan_floor: %.0f MB corpus, %.0f MB after the filter; Vectorscan's %s build\n",
	    (double)n / 1e6, (double)m / 1e6, scan_hs()->build);
	printf("scan_floor: filter alone: %.0f MB/s\n", fr);
	r = hs_alone(sdb->hs, f, m, n, &c);
	printf("scan_floor: Vectorscan alone, engine database (%zu rules): %.0f MB/s, %.0f "
	       "matches/MB; with the filter %.0f MB/s\n", scan_db_rule_count(sdb), r,
	    (double)c / ((double)n / 1e6), 1.0 / (1.0 / r + 1.0 / fr));
	for (i = 2; i < argc; i++) {
		const char *base = strrchr(argv[i], '/') != NULL ? strrchr(argv[i], '/') + 1 : argv[i];
		hs_database_t *db = compile_set(argv[i], &k);

		r = hs_alone(db, f, m, n, &c);
		printf("scan_floor: Vectorscan alone, %s (%u expressions): %.0f MB/s, %.0f "
		       "matches/MB; with the filter %.0f MB/s\n", base, k, r,
		    (double)c / ((double)n / 1e6), 1.0 / (1.0 / r + 1.0 / fr));
		hs_free_database(db);
	}
	free(f);
	free(in);
	scan_db_free(sdb);
	return 0;
}
