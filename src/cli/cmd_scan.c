/*
 * `vaultterm scan [FILE|-] [--format text|json|sarif] [--redact]`: the exposure scanner on its own,
 * no server — a file or a pipe is fed to one scan stream in 64 KiB reads and each finding is
 * printed with its rule, severity, byte offsets and line:column, never the secret itself. With
 * --redact the input comes out on stdout with each secret replaced by "[REDACTED:<rule_id>]" (a
 * scan_redactor: a secret split across reads is masked before any of it is written) and the
 * findings go to stderr. Exit: 0 nothing found, 1 something found, 2 usage, 3 I/O or scanner
 * error. Useful in CI on its own, like gitleaks on stdin.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/err.h"
#include "base/num.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "scan/scan.h"

#define SCAN_CLI_CHUNK ((size_t)64 << 10) /* bytes per read and per feed */
/*
 * Reads kept to turn a finding's start offset into line:column: 960 KiB of look-back before the
 * current read, 15 times the longest rule (SCAN_RULE_MAX_LEN) — room for escape codes inside a
 * secret — while the ring (1 MiB) stays in L2: 64 reads cost the CLI 20% of its throughput. A
 * start before the kept reads (not expected) is printed as line 0, column 0.
 */
#define SCAN_CLI_RING 16
#define SCAN_CLI_OUT_MAX ((size_t)64 << 20) /* redacted output of one feed (with held-back bytes) */
#define SCAN_CLI_BENCH_FP_MAX 10000000      /* --bench-fingerprints */
#define SCAN_CLI_BENCH_FP_LEN 32            /* bytes of each random bench value */
#define SCAN_CLI_FEED_SEED 0x9e3779b9u      /* --feed-max: the same pieces every run */

#define SCAN_EXIT_CLEAN 0
#define SCAN_EXIT_FOUND 1

static const char SCAN_USAGE[] =
    "usage: vaultterm scan [FILE|-] [--format text|json|sarif] [--redact]\n\n"
    "Scans FILE (or stdin, also with -) for credentials with the built-in rules, locally (no\n"
    "server). Findings never include the secret itself:\n"
    "  text   <file>:<line>:<column> <rule_id> <severity>, one per line (default)\n"
    "  json   {\"findings\":[{rule_id, severity, start, end, line, column}], \"bytes\",\n"
    "         \"duration_ms\"}; start/end are byte offsets [start, end), column counts bytes\n"
    "  sarif  a SARIF 2.1.0 log (rules, and results with their regions)\n"
    "--redact writes the input to stdout with each secret replaced by [REDACTED:<rule_id>] and\n"
    "the findings to stderr.\n\n"
    "Exit status: 0 nothing found, 1 something found, 2 usage error, 3 I/O or scanner error.\n\n"
    "Benchmarking: --bench-fingerprints N also matches N random vault fingerprints (none of\n"
    "which can occur in the input) and prints their memory and the stream's on stderr.\n"
    "Testing: --feed-max N hands the scanner the input in pieces of 1 to N bytes (the same\n"
    "pieces every run) instead of whole reads. The findings must not change: it shows that no\n"
    "rule depends on where terminal output happens to be cut.\n";

enum scan_out {
	SCAN_OUT_TEXT,
	SCAN_OUT_JSON,
	SCAN_OUT_SARIF,
};

/* One read kept for line numbers. */
struct scan_chunk {
	uint8_t *data;
	size_t len;
	uint64_t base;   /* stream offset of data[0] */
	uint64_t line;   /* newlines before base */
	uint64_t bol;    /* offset of the first byte of the line holding base */
};

struct scan_cli {
	enum scan_out fmt;
	FILE *out;                       /* findings: stdout, or stderr with --redact */
	const char *name;                /* for text output */
	uint64_t nfound;
	struct scan_chunk ring[SCAN_CLI_RING];
	uint64_t nchunks;                /* reads so far; chunk k lives in ring[k % SCAN_CLI_RING] */
	uint64_t cur_k, cur_off, cur_line, cur_bol; /* the last position looked up */
	int cur_valid;
};

#if defined(__SSE2__)
/* Newlines in p[0 .. n): 16 bytes per compare, byte counters summed every 255 blocks. */
static uint64_t
count_nl(const uint8_t *p, size_t n)
{
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
	uint64_t c = 0;
	size_t i = 0, k;

	while (i + 16 <= n) {
		__m128i acc = zero, sum;

		for (k = 0; k < 255 && i + 16 <= n; k++, i += 16)
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const void *)(p + i)), nl));
		sum = _mm_sad_epu8(acc, zero);
		c += (uint64_t)_mm_cvtsi128_si64(sum) +
		    (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum));
	}
	for (; i < n; i++)
		c += p[i] == '\n';
	return c;
}
#else
/*
 * Newlines in p[0 .. n), eight bytes at a time: each word XOR "\n\n…" has a zero byte where p has
 * a newline; those become a 1 in that byte's lane of acc, summed across lanes every 255 words
 * (before a lane can overflow). No popcount: without -mpopcnt it is a libgcc call.
 */
static uint64_t
count_nl(const uint8_t *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, nl = ones * '\n', low7 = ones * 0x7f;
	const uint64_t even = 0x00ff00ff00ff00ffULL;
	uint64_t c = 0, acc, w, t;
	size_t i = 0, k;

	while (i + 8 <= n) {
		acc = 0;
		for (k = 0; k < 255 && i + 8 <= n; k++, i += 8) {
			memcpy(&w, p + i, 8);
			w ^= nl;
			t = ((w & low7) + low7) | w;     /* high bit set in each non-zero byte */
			acc += (~t >> 7) & ones;         /* 1 in each zero byte's lane */
		}
		acc = (acc & even) + ((acc >> 8) & even);
		c += (acc * 0x0001000100010001ULL) >> 48;
	}
	for (; i < n; i++)
		c += p[i] == '\n';
	return c;
}
#endif

/* Line and column (1-based, bytes) of stream offset x; 0, 0 if x is older than the kept reads. */
static void
scan_cli_position(struct scan_cli *c, uint64_t x, uint64_t *line, uint64_t *col)
{
	uint64_t k, oldest, from, ln, bol;
	const struct scan_chunk *ch;
	const uint8_t *seg, *p;
	size_t n;

	*line = *col = 0;
	if (c->nchunks == 0)
		return;
	oldest = c->nchunks > SCAN_CLI_RING ? c->nchunks - SCAN_CLI_RING : 0;
	k = c->nchunks - 1;
	while (k > oldest && c->ring[k % SCAN_CLI_RING].base > x)
		k--;
	ch = &c->ring[k % SCAN_CLI_RING];
	if (ch->base > x || x - ch->base > ch->len)
		return;
	if (c->cur_valid && c->cur_k == k && c->cur_off <= x) {
		from = c->cur_off;
		ln = c->cur_line;
		bol = c->cur_bol;
	} else {
		from = ch->base;
		ln = ch->line;
		bol = ch->bol;
	}
	seg = ch->data + (from - ch->base);
	n = (size_t)(x - from);
	ln += count_nl(seg, n);
	if (n > 0 && (p = memrchr(seg, '\n', n)) != NULL)
		bol = ch->base + (uint64_t)(p - ch->data) + 1;
	c->cur_valid = 1;
	c->cur_k = k;
	c->cur_off = x;
	c->cur_line = ln;
	c->cur_bol = bol;
	*line = ln + 1;
	*col = x - bol + 1;
}

/*
 * Records the read of n > 0 bytes just made into the next slot's data (which held the oldest
 * read: nothing looks positions up between that read and this call): its base, and its line
 * from the read before it.
 */
static void
scan_cli_commit(struct scan_cli *c, size_t n)
{
	struct scan_chunk *ch = &c->ring[c->nchunks % SCAN_CLI_RING];
	const struct scan_chunk *prev;
	const uint8_t *p;

	if (c->nchunks == 0) {
		ch->base = ch->line = ch->bol = 0;
	} else {
		prev = &c->ring[(c->nchunks - 1) % SCAN_CLI_RING];
		ch->base = prev->base + prev->len;
		ch->line = prev->line + count_nl(prev->data, prev->len);
		p = prev->len > 0 ? memrchr(prev->data, '\n', prev->len) : NULL;
		ch->bol = p != NULL ? prev->base + (uint64_t)(p - prev->data) + 1 : prev->bol;
	}
	if (c->cur_valid && c->cur_k + SCAN_CLI_RING <= c->nchunks)
		c->cur_valid = 0; /* its read was overwritten */
	ch->len = n;
	c->nchunks++;
}

static int
on_ignore(void *ud, const struct scan_match *m)
{
	return 0;
}

/* A JSON string (quotes included) of s. */
static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* A relative URI reference for SARIF: unreserved bytes and '/' as they are, the rest %XX. */
static void
json_uri(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p) != NULL)
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
	}
	fputc('"', f);
}

static const char *
sarif_level(enum scan_severity s)
{
	switch (s) {
	case SCAN_SEV_CRITICAL:
	case SCAN_SEV_HIGH:
		return "error";
	case SCAN_SEV_MEDIUM:
		return "warning";
	default:
		return "note";
	}
}

/* GitHub code scanning's "security-severity" (0.0 - 10.0). */
static const char *
sarif_security_severity(enum scan_severity s)
{
	switch (s) {
	case SCAN_SEV_CRITICAL:
		return "9.5";
	case SCAN_SEV_HIGH:
		return "8.0";
	case SCAN_SEV_MEDIUM:
		return "5.5";
	default:
		return "3.0";
	}
}

static void
sarif_begin(FILE *f)
{
	size_t i;

	fprintf(f, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
		   "\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"vaultterm\","
		   "\"version\":\"%s\",\"semanticVersion\":\"%s\",\"rules\":[", VT_VERSION, VT_VERSION);
	for (i = 0; i < SCAN_RULES_COUNT; i++) {
		const struct scan_rule *r = &SCAN_RULES[i];

		fprintf(f, "%s\n{\"id\":", i > 0 ? "," : "");
		json_str(f, r->id);
		fprintf(f, ",\"shortDescription\":{\"text\":");
		json_str(f, r->description);
		fprintf(f, "},\"defaultConfiguration\":{\"level\":\"%s\"},\"properties\":"
			   "{\"security-severity\":\"%s\",\"tags\":[\"security\",\"secret\"]}}",
		    sarif_level(r->severity), sarif_security_severity(r->severity));
	}
	/* XXX: columns count bytes, which equal code points only on ASCII lines. */
	fprintf(f, "]}},\"columnKind\":\"unicodeCodePoints\",\"results\":[");
}

/* Index of m's rule in SCAN_RULES, or -1 (a fingerprint, or a rule from elsewhere). */
static long
rule_index(const struct scan_match *m)
{
	if (m->rule == NULL || m->rule < SCAN_RULES || m->rule >= SCAN_RULES + SCAN_RULES_COUNT)
		return -1;
	return (long)(m->rule - SCAN_RULES);
}

static int
on_match(void *ud, const struct scan_match *m)
{
	struct scan_cli *c = ud;
	uint64_t line, col;
	long idx;

	scan_cli_position(c, m->start, &line, &col);
	switch (c->fmt) {
	case SCAN_OUT_TEXT:
		fprintf(c->out, "%s:%llu:%llu %s %s\n", c->name, (unsigned long long)line,
		    (unsigned long long)col, m->rule_id, scan_severity_str(m->severity));
		break;
	case SCAN_OUT_JSON:
		fprintf(c->out, "%s\n{\"rule_id\":", c->nfound > 0 ? "," : "");
		json_str(c->out, m->rule_id);
		fprintf(c->out, ",\"severity\":\"%s\",\"start\":%llu,\"end\":%llu,\"line\":%llu,"
				"\"column\":%llu}", scan_severity_str(m->severity),
		    (unsigned long long)m->start, (unsigned long long)m->end,
		    (unsigned long long)line, (unsigned long long)col);
		break;
	case SCAN_OUT_SARIF:
		idx = rule_index(m);
		fprintf(c->out, "%s\n{\"ruleId\":", c->nfound > 0 ? "," : "");
		json_str(c->out, m->rule_id);
		if (idx >= 0)
			fprintf(c->out, ",\"ruleIndex\":%ld", idx);
		fprintf(c->out, ",\"level\":\"%s\",\"message\":{\"text\":",
		    sarif_level(m->severity));
		json_str(c->out, m->rule != NULL ? m->rule->description : m->rule_id);
		fprintf(c->out, "},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
		json_uri(c->out, strcmp(c->name, "<stdin>") == 0 ? "stdin" : c->name);
		fprintf(c->out, "},\"region\":{");
		if (line > 0)
			fprintf(c->out, "\"startLine\":%llu,\"startColumn\":%llu,",
			    (unsigned long long)line, (unsigned long long)col);
		fprintf(c->out, "\"byteOffset\":%llu,\"byteLength\":%llu}}}]}",
		    (unsigned long long)m->start, (unsigned long long)(m->end - m->start));
		break;
	}
	c->nfound++;
	return 0;
}

/* --bench-fingerprints: n random values under random keys; they cannot occur in the input. */
static int
bench_fpset(uint64_t n, struct scan_fpset **out)
{
	uint8_t keys[SCAN_FP_KEYS_LEN], v[SCAN_CLI_BENCH_FP_LEN];
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	struct scan_fpset *s = NULL;
	struct scan_fp fp[2];
	size_t nfp, j;
	uint64_t i;
	char label[32];
	int r;

	*out = NULL;
	randombytes_buf(keys, sizeof(keys));
	if ((r = scan_fpset_new(keys, &s)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		randombytes_buf(v, sizeof(v));
		for (j = 0; j < sizeof(v); j++)
			v[j] = (uint8_t)b62[v[j] % 62];
		if ((r = scan_fp_compute(keys, v, sizeof(v), fp, &nfp)) != 0)
			goto out;
		snprintf(label, sizeof(label), "bench/%llu", (unsigned long long)i);
		for (j = 0; j < nfp; j++)
			if ((r = scan_fpset_add(s, &fp[j], label)) != 0)
				goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
 out:
	sodium_memzero(keys, sizeof(keys));
	scan_fpset_free(s);
	return r;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Writes the redactor's output so far and empties it; -1 on a write error. */
static int
flush_out(struct vbuf *b)
{
	size_t n = vbuf_len(b);

	if (n > 0 && fwrite(vbuf_ptr(b), 1, n, stdout) != n)
		return -1;
	vbuf_reset(b);
	return 0;
}

/*
 * Pulls out --format V / --format=V (one or two dashes) before cli_parse, which knows only
 * table|json; stops at "--". Returns 0, or CLI_EXIT_USAGE after printing why.
 */
static int
take_format(int *argc, char **argv, enum scan_out *fmt)
{
	int i, j = 1, rest = 0;

	*fmt = SCAN_OUT_TEXT;
	for (i = 1; i < *argc; i++) {
		const char *a = argv[i], *name, *val = NULL;

		if (rest || strcmp(a, "--") == 0 || a[0] != '-' || a[1] == '\0') {
			rest = rest || strcmp(a, "--") == 0;
			argv[j++] = argv[i];
			continue;
		}
		name = a + (a[1] == '-' ? 2 : 1);
		if (strcmp(name, "format") == 0) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "vaultterm: --format needs a value\n\n%s", SCAN_USAGE);
				return CLI_EXIT_USAGE;
			}
			val = argv[++i];
		} else if (strncmp(name, "format=", 7) == 0) {
			val = name + 7;
		} else {
			argv[j++] = argv[i];
			continue;
		}
		if (strcmp(val, "text") == 0) {
			*fmt = SCAN_OUT_TEXT;
		} else if (strcmp(val, "json") == 0) {
			*fmt = SCAN_OUT_JSON;
		} else if (strcmp(val, "sarif") == 0) {
			*fmt = SCAN_OUT_SARIF;
		} else {
			fprintf(stderr, "vaultterm: --format must be text, json or sarif\n\n%s",
			    SCAN_USAGE);
			return CLI_EXIT_USAGE;
		}
	}
	*argc = j;
	argv[j] = NULL;
	return 0;
}

/* Feeds p[0, n) to the redactor or the stream: whole, or (feed_max > 0) in pieces of 1..feed_max. */
static int
feed(struct scan_redactor *red, struct scan_stream *st, struct vbuf *ob, struct scan_cli *c,
    const uint8_t *p, size_t n, uint64_t feed_max, uint32_t *x)
{
	size_t off = 0, k;
	int r;

	do {
		k = n - off;
		if (feed_max > 0) {
			*x ^= *x << 13;
			*x ^= *x >> 17;
			*x ^= *x << 5;
			if (k > 1 + *x % feed_max)
				k = 1 + *x % feed_max;
		}
		r = red != NULL ? scan_redactor_feed(red, p + off, k, ob, on_match, c) :
		    scan_stream_feed(st, p + off, k, on_match, c);
		off += k;
	} while (r == 0 && off < n);
	return r;
}

int
cmd_scan_main(int argc, char **argv)
{
	static const struct cli_optspec specs[] = {
		{ "redact", 0, 0 },
		{ "bench-fingerprints", 1, 0 },
		{ "feed-max", 1, 0 },
	};
	struct scan_cli c;
	struct cli_args a;
	struct scan_db *db = NULL;
	struct scan_fpset *fps = NULL;
	struct scan_stream *st = NULL;
	struct scan_redactor *red = NULL;
	struct vbuf *ob = NULL;
	const char *path = NULL, *nfp_arg, *feed_arg;
	char err[SCAN_ERR_MAX];
	uint64_t total = 0, nfp = 0, feed_max = 0;
	uint32_t feed_x = SCAN_CLI_FEED_SEED;
	double t0;
	int fd = -1, redact, r, rc = CLI_EXIT_LOCAL, i;

	memset(&c, 0, sizeof(c));
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *h = argv[i] + (strncmp(argv[i], "--", 2) == 0 ? 2 : 1);

		if (argv[i][0] == '-' && (strcmp(h, "h") == 0 || strcmp(h, "help") == 0)) {
			fputs(SCAN_USAGE, stdout);
			return CLI_EXIT_OK;
		}
	}
	if ((r = take_format(&argc, argv, &c.fmt)) != 0)
		return r;
	if ((r = cli_parse(argc, argv, specs, VT_NELEM(specs), SCAN_USAGE, &a)) != 0)
		return r == 1 ? CLI_EXIT_OK : r;
	if (a.npositional > 1) {
		fprintf(stderr, "vaultterm: scan takes one FILE (or -)\n\n%s", SCAN_USAGE);
		return CLI_EXIT_USAGE;
	}
	if ((nfp_arg = cli_opt(&a, "bench-fingerprints")) != NULL &&
	    num_parse_u64(nfp_arg, 0, SCAN_CLI_BENCH_FP_MAX, &nfp) != 0) {
		fprintf(stderr, "vaultterm: --bench-fingerprints must be 0 to %d\n\n%s",
		    SCAN_CLI_BENCH_FP_MAX, SCAN_USAGE);
		return CLI_EXIT_USAGE;
	}
	if ((feed_arg = cli_opt(&a, "feed-max")) != NULL &&
	    num_parse_u64(feed_arg, 1, SCAN_CLI_CHUNK, &feed_max) != 0) {
		fprintf(stderr, "vaultterm: --feed-max must be 1 to %zu\n\n%s", SCAN_CLI_CHUNK,
		    SCAN_USAGE);
		return CLI_EXIT_USAGE;
	}
	redact = cli_opt(&a, "redact") != NULL;
	if (a.npositional == 1 && strcmp(a.positional[0], "-") != 0)
		path = a.positional[0];
	c.name = path != NULL ? path : "<stdin>";
	c.out = redact ? stderr : stdout;

	/* No core dump or ptrace of a process that holds whatever secrets the input carries. */
	(void)secmem_no_dumps();
	if (secmem_init() != 0) {
		fprintf(stderr, "vaultterm: cannot initialise libsodium\n");
		return CLI_EXIT_LOCAL;
	}
	if (path == NULL) {
		fd = STDIN_FILENO;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "vaultterm: cannot open %s: %s\n", path, strerror(errno));
		return CLI_EXIT_LOCAL;
	}
	if (scan_db_open(&db, err) != 0) {
		fprintf(stderr, "vaultterm: cannot compile the scanner rules: %s\n", err);
		goto out;
	}
	if (nfp_arg != NULL) {
		if ((r = bench_fpset(nfp, &fps)) != 0) {
			fprintf(stderr, "vaultterm: bench fingerprints: %s\n", vt_err_str(r));
			goto out;
		}
	}
	for (i = 0; i < SCAN_CLI_RING; i++)
		c.ring[i].data = xmalloc(SCAN_CLI_CHUNK);
	if (redact) {
		if ((r = scan_redactor_open(db, fps, SCAN_REDACT_LABEL, &red)) != 0) {
			fprintf(stderr, "vaultterm: scan: %s\n", vt_err_str(r));
			goto out;
		}
		ob = vbuf_new(SCAN_CLI_OUT_MAX);
	} else if ((r = scan_stream_open(db, fps, &st)) != 0) {
		fprintf(stderr, "vaultterm: scan: %s\n", vt_err_str(r));
		goto out;
	}
	if (c.fmt == SCAN_OUT_JSON)
		fputs("{\"findings\":[", c.out);
	else if (c.fmt == SCAN_OUT_SARIF)
		sarif_begin(c.out);

	t0 = now_ms();
	for (;;) {
		struct scan_chunk *ch = &c.ring[c.nchunks % SCAN_CLI_RING];
		ssize_t n = read(fd, ch->data, SCAN_CLI_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "vaultterm: cannot read %s: %s\n", c.name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		scan_cli_commit(&c, (size_t)n);
		total += (uint64_t)n;
		r = feed(red, st, ob, &c, ch->data, ch->len, feed_max, &feed_x);
		if (r != 0) {
			fprintf(stderr, "vaultterm: scan: %s\n", vt_err_str(r));
			goto out;
		}
		if (redact && flush_out(ob) != 0) {
			fprintf(stderr, "vaultterm: cannot write: %s\n", strerror(errno));
			goto out;
		}
	}
	/* The stream's window has grown to what fingerprints need by now. */
	if (fps != NULL && st != NULL)
		fprintf(stderr, "scan: %zu fingerprints in %zu bytes; %zu bytes per stream with them, "
				"%zu without\n", scan_fpset_count(fps), scan_fpset_memory(fps),
		    scan_stream_memory(st), scan_db_stream_size(db));
	if (redact) {
		r = scan_redactor_close(red, ob, on_match, &c);
		red = NULL;
		if (r == 0 && flush_out(ob) != 0) {
			fprintf(stderr, "vaultterm: cannot write: %s\n", strerror(errno));
			goto out;
		}
	} else {
		r = scan_stream_close(st, on_match, &c);
		st = NULL;
	}
	if (r != 0) {
		fprintf(stderr, "vaultterm: scan: %s\n", vt_err_str(r));
		goto out;
	}
	if (c.fmt == SCAN_OUT_JSON)
		fprintf(c.out, "%s],\"bytes\":%llu,\"duration_ms\":%.3f}\n", c.nfound > 0 ? "\n" : "",
		    (unsigned long long)total, now_ms() - t0);
	else if (c.fmt == SCAN_OUT_SARIF)
		fprintf(c.out, "%s]}]}\n", c.nfound > 0 ? "\n" : "");
	if (fflush(stdout) != 0 || ferror(stdout) || fflush(stderr) != 0) {
		fprintf(stderr, "vaultterm: cannot write the output\n");
		goto out;
	}
	rc = c.nfound > 0 ? SCAN_EXIT_FOUND : SCAN_EXIT_CLEAN;
 out:
	/* WARNING: a failure mid-way leaves the json/sarif document unterminated: exit 3 says so. */
	if (red != NULL)
		(void)scan_redactor_close(red, ob, on_ignore, NULL); /* the rest is not written */
	(void)scan_stream_close(st, on_ignore, NULL);
	vbuf_free(ob);
	for (i = 0; i < SCAN_CLI_RING; i++) {
		if (c.ring[i].data != NULL)
			sodium_memzero(c.ring[i].data, SCAN_CLI_CHUNK);
		free(c.ring[i].data);
	}
	scan_fpset_free(fps);
	scan_db_free(db);
	if (fd > STDIN_FILENO)
		close(fd);
	return rc;
}
