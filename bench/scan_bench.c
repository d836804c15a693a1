/*
 * Single-core throughput of the scanner engine (src/scan) on a generated terminal-output buffer:
 * all built-in rules, then rules + 10,000 vault fingerprints, then the redacting stream; fed in
 * chunks like a broker relays them; then the input filter alone (src/scan/ansi.c), with the
 * vector path the CPU has and with the portable one. Prints MB/s (best of a few runs) and the
 * memory of a stream and of the fingerprint set. Usage: scan_bench [MB (default 64) | FILE]
 * [feed bytes (65536)]: a FILE (e.g. from tests/scan/gen_corpus.py) is scanned instead of the
 * built-in generator.
 * bench/scan.sh measures the CLI end to end on its own corpus; this isolates the engine.
 * Times are the CPU time of the scanning thread (CLOCK_THREAD_CPUTIME_ID), so another process
 * sharing the core does not count against the engine (it still competes for caches);
 * bench/scan.sh reports wall-clock figures of the CLI.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/num.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "scan/scan.h"
#include "scan/scan_internal.h"

#include "bench.h"

#define RUNS 3

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static size_t
put(uint8_t *b, size_t n, size_t cap, const char *s)
{
	size_t k = strlen(s);

	if (n + k > cap)
		k = cap - n;
	memcpy(b + n, s, k);
	return n + k;
}

static size_t
put_rand(uint8_t *b, size_t n, size_t cap, const char *alpha, size_t len)
{
	size_t a = strlen(alpha), i;

	for (i = 0; i < len && n < cap; i++)
		b[n++] = (uint8_t)alpha[bench_next(&rng) % a];
	return n;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char HEX[] = "0123456789abcdef";

/* Shell sessions: prompts, ls, env, JSON logs, git log, build output, base64, minified JS. */
static void
gen(uint8_t *b, size_t cap)
{
	static const char *const lines[] = {
		"\x1b[01;32muser@build-7\x1b[00m:\x1b[01;34m~/src/project\x1b[00m$ ls -la\r\n",
		"drwxr-xr-x  5 user user  4096 Jan 12 10:22 \x1b[01;34m.git\x1b[0m\r\n",
		"-rw-r--r--  1 user user 18234 Jan 12 10:20 main.c\r\n",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\r\n",
		"HOME=/home/user\r\nLANG=C.UTF-8\r\nTERM=xterm-256color\r\n",
		"{\"ts\":\"2024-05-01T12:00:01Z\",\"level\":\"info\",\"msg\":\"request done\",\"status\":200,"
		"\"path\":\"/api/v1/items?page=2\",\"ms\":12}\r\n",
		"Author: Jane Doe <jane@example.com>\r\nDate:   Mon Jan 8 10:00:00 2024 +0100\r\n",
		"[INFO] Compiling module core (142 files) ... done in 3.21s\r\n",
		"  apiVersion: v1\r\n  kind: ConfigMap\r\n  metadata:\r\n    name: app-config\r\n",
		"function(e){return e&&e.__esModule?e:{default:e}}var t=n(12),r=n(7);Object."
		"defineProperty(t,\"__esModule\",{value:!0});\r\n",
	};
	size_t n = 0;

	while (n < cap) {
		uint64_t k = bench_next(&rng) % 16;

		if (k < VT_NELEM(lines)) {
			n = put(b, n, cap, lines[k]);
		} else if (k == 10) {
			n = put(b, n, cap, "commit ");
			n = put_rand(b, n, cap, HEX, 40);
			n = put(b, n, cap, "\r\n");
		} else if (k == 11) {
			n = put(b, n, cap, "  data: ");
			n = put_rand(b, n, cap, B64, 76 * (1 + bench_next(&rng) % 4));
			n = put(b, n, cap, "==\r\n");
		} else if (k == 12) {
			n = put(b, n, cap, "id=");
			n = put_rand(b, n, cap, HEX, 8);
			n = put(b, n, cap, "-");
			n = put_rand(b, n, cap, HEX, 4);
			n = put(b, n, cap, "-4");
			n = put_rand(b, n, cap, HEX, 3);
			n = put(b, n, cap, " ok\r\n");
		} else {
			n = put(b, n, cap, "\x1b[2K\r[");
			n = put_rand(b, n, cap, "=#", 1 + bench_next(&rng) % 30);
			n = put(b, n, cap, "] building target ");
			n = put_rand(b, n, cap, "abcdefghijklmnopqrstuvwxyz_",
			    4 + bench_next(&rng) % 12);
			n = put(b, n, cap, ".o\r\n");
		}
	}
}

static int
count(void *ud, const struct scan_match *m)
{
	(void)m;
	(*(size_t *)ud)++;
	return 0;
}

static double
run_scan(const struct scan_db *db, const struct scan_fpset *fps, const uint8_t *b, size_t n,
    size_t feed, size_t *found)
{
	struct scan_stream *s = NULL;
	double t0, best = 0;
	size_t off;
	int i;

	for (i = 0; i < RUNS; i++) {
		*found = 0;
		if (scan_stream_open(db, fps, &s) != 0)
			exit(1);
		t0 = bench_cpu_now();
		for (off = 0; off < n; off += feed) {
			if (scan_stream_feed(s, b + off, n - off < feed ? n - off : feed, count,
			    found) != 0)
				exit(1);
		}
		if (scan_stream_close(s, count, found) != 0)
			exit(1);
		t0 = bench_cpu_now() - t0;
		if (best == 0 || t0 < best)
			best = t0;
	}
	return (double)n / best / 1e6;
}

/*
 * The input filter alone (src/scan/ansi.c), fed as a stream feeds it (SCAN_BLOCK slices), its
 * offset map pruned as it goes: escape sequences out, CR LF folded.
 */
static double
run_filter(const uint8_t *b, size_t n)
{
	static uint8_t out[SCAN_BLOCK];
	const size_t slice = SCAN_BLOCK - SCAN_CR_RUN_MAX;
	double t0, best = 0;
	size_t off, kept = 0;
	int i;

	for (i = 0; i < RUNS; i++) {
		struct scan_ansi a = { 0 };
		struct scan_gapmap gm = { 0 };
		long k;

		t0 = bench_cpu_now();
		for (off = 0; off < n; off += slice) {
			size_t len = n - off < slice ? n - off : slice;

			if ((k = scan_ansi_filter(&a, b + off, len, out, &gm)) < 0)
				exit(1);
			kept += (size_t)k;
			scan_gapmap_prune(&gm, a.out_s);
		}
		if (scan_ansi_finish(&a, out, &gm) < 0)
			exit(1);
		t0 = bench_cpu_now() - t0;
		scan_gapmap_free(&gm);
		if (best == 0 || t0 < best)
			best = t0;
	}
	if (kept == 0 && n > 0)
		exit(1); /* keeps the output observable */
	return (double)n / best / 1e6;
}

static double
run_redact(const struct scan_db *db, const uint8_t *b, size_t n, size_t feed)
{
	struct scan_redactor *rd = NULL;
	struct vbuf *out = vbuf_new(VBUF_MAX_ANY);
	double t0, best = 0;
	size_t off;
	int i;

	for (i = 0; i < RUNS; i++) {
		vbuf_reset(out);
		if (scan_redactor_open(db, NULL, SCAN_REDACT_MASK, &rd) != 0)
			exit(1);
		t0 = bench_cpu_now();
		for (off = 0; off < n; off += feed) {
			if (scan_redactor_feed(rd, b + off, n - off < feed ? n - off : feed, out, NULL,
			    NULL) != 0)
				exit(1);
			vbuf_reset(out);
		}
		if (scan_redactor_close(rd, out, NULL, NULL) != 0)
			exit(1);
		t0 = bench_cpu_now() - t0;
		if (best == 0 || t0 < best)
			best = t0;
	}
	vbuf_free(out);
	return (double)n / best / 1e6;
}

int
main(int argc, char **argv)
{
	uint8_t keys[SCAN_FP_KEYS_LEN];
	struct scan_db *db = NULL;
	struct scan_fpset *fps = NULL;
	struct scan_stream *s = NULL;
	char err[SCAN_ERR_MAX], v[64];
	uint64_t mb = 64, feed = 65536;
	size_t n = 0, found = 0, i, k, nfp;
	struct scan_fp fp[2];
	uint8_t *b = NULL;
	double rules, withfp, red, filt, filt_portable, t_open;

	const char *file = NULL;

	if (argc > 1 && num_parse_u64(argv[1], 1, 4096, &mb) != 0)
		file = argv[1];
	if (argc > 2 && num_parse_u64(argv[2], 1, 1 << 26, &feed) != 0) {
		fprintf(stderr, "usage: scan_bench [MB | FILE] [feed bytes]\n");
		return 2;
	}
	t_open = bench_cpu_now();
	if (secmem_init() != 0 || scan_db_open(&db, err) != 0) {
		fprintf(stderr, "scan_bench: %s\n", err);
		return 1;
	}
	t_open = bench_cpu_now() - t_open;
	fprintf(stderr, "scan_bench: rule database %s, opened in %.0f ms of CPU\n",
	    scan_db_prebuilt(db) ? "compiled at build time" : "compiled at start-up",
	    t_open * 1e3);
	if (file != NULL) {
		if ((b = bench_slurp(file, &n)) == NULL) {
			fprintf(stderr, "scan_bench: cannot read %s\n", file);
			return 1;
		}
		mb = n >> 20;
	} else {
		n = (size_t)mb << 20;
		if ((b = malloc(n)) == NULL)
			return 1;
		gen(b, n);
	}

	for (i = 0; i < sizeof(keys); i++)
		keys[i] = (uint8_t)(i * 7 + 1);
	if (scan_fpset_new(keys, &fps) != 0)
		return 1;
	for (i = 0; i < 10000; i++) {
		k = (size_t)snprintf(v, sizeof(v), "%016llx%08llx",
		    (unsigned long long)bench_next(&rng),
		    (unsigned long long)(bench_next(&rng) & 0xffffffff));
		if (scan_fp_compute(keys, v, k, fp, &nfp) != 0 || nfp != 1 ||
		    scan_fpset_add(fps, &fp[0], "00000000-0000-0000-0000-000000000000/value") != 0)
			return 1;
	}

	rules = run_scan(db, NULL, b, n, (size_t)feed, &found);
	printf("scan_bench: %zu rules, %llu MB corpus, feeds of %llu bytes\n",
	    scan_db_rule_count(db), (unsigned long long)mb, (unsigned long long)feed);
	printf("scan_bench: rules only:             %8.0f MB/s  (%zu findings)\n", rules, found);
	withfp = run_scan(db, fps, b, n, (size_t)feed, &found);
	printf("scan_bench: rules + 10k fingerprints: %6.0f MB/s  (%zu findings)\n", withfp, found);
	red = run_redact(db, b, n, (size_t)feed);
	printf("scan_bench: redacting stream (mask):  %6.0f MB/s\n", red);
	filt = run_filter(b, n);
	scan_ansi_simd(0);
	filt_portable = run_filter(b, n);
	scan_ansi_simd(2);
	printf("scan_bench: filter alone:             %6.0f MB/s  (portable path: %.0f MB/s)\n",
	    filt, filt_portable);

	if (scan_stream_open(db, fps, &s) != 0)
		return 1;
	if (scan_stream_feed(s, b, n < (1 << 20) ? n : (1 << 20), NULL, NULL) != 0)
		return 1;
	printf("scan_bench: memory per stream: %zu bytes (rules), %zu bytes (with fingerprints, "
	       "after 1 MB); per 10,000 fingerprints: %zu bytes\n",
	    scan_db_stream_size(db), scan_stream_memory(s), scan_fpset_memory(fps));
	(void)scan_stream_close(s, NULL, NULL);
	scan_fpset_free(fps);
	scan_db_free(db);
	free(b);
	return 0;
}
