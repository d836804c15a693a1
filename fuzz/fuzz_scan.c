/*
 * The scanner's stream API (src/scan) on hostile terminal output. Byte 0..3 of the input seed the
 * feed sizes, the rest is the output. Checked:
 *  1. feeding it in pieces of random sizes (1 byte up to 4 KiB, from the seed), and a short input
 *     also a byte at a time, gives exactly the findings of the one-shot scan_buffer, in the same
 *     order;
 *  2. the redacting stream, fed in other random pieces, outputs exactly the buffer redaction
 *     (label and mask mode), and in mask mode every visible byte of every finding is '*': no
 *     found secret leaves the redactor;
 *  3. a printable value whose fingerprint exists is found when printed on a line of its own.
 * Rules: a small table of the shapes the built-in rules use (literal prefixes, bounded and
 * unbounded repeats, \b, a validate that narrows the span, a multi-line PEM block, the three
 * tails the engine follows itself after a Vectorscan trigger, the head-lines, PEM and base64
 * padding shapes whose ending alone Vectorscan runs) plus three stored fingerprints.
 * ASan/UBSan watch the rest. Seeds: fuzz/corpus/scan/.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "fuzz.h"
#include "scan/scan.h"

#define HS_FLAG_CASELESS 1 /* Vectorscan's value; the harness does not include <hs/hs.h> */
#define MAX_FINDINGS 4096
#define BYTEWISE_MAX 1024 /* inputs up to this long are also fed a byte at a time */

static int
validate_value(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t i = 0;

	while (i < n && m[i] != '=' && m[i] != ':')
		i++;
	while (i < n && (m[i] == '=' || m[i] == ':' || m[i] == ' '))
		i++;
	if (i == n || (m[i] == 'x' && m[n - 1] == 'x'))
		return 0;
	*off = i;
	*len = n - i;
	return 1;
}

static const struct scan_rule RULES[] = {
	{ "f-akia", "", SCAN_SEV_HIGH, "AKIA[0-9A-Z]{16}", 0, 20, NULL, NULL, NULL },
	{ "f-ghp", "", SCAN_SEV_HIGH, "gh[pousr]_[A-Za-z0-9]{36,40}", 0, 44, NULL, NULL, NULL },
	{ "f-pem", "", SCAN_SEV_CRITICAL,
	    "-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[\\s\\S]{8,600}-----END [A-Z ]{0,20}PRIVATE KEY-----",
	    0, 700, NULL, NULL, NULL },
	{ "f-password", "", SCAN_SEV_MEDIUM, "password\\s{0,3}[=:]\\s{0,3}[^\\s\"']{6,64}",
	    HS_FLAG_CASELESS, 80, validate_value, NULL, NULL },
	{ "f-url", "", SCAN_SEV_HIGH, "[a-z]{2,10}://[^\\s:/@]{1,32}:[^\\s:/@]{3,64}@[a-z0-9.]{1,64}", 0,
	    180, NULL, NULL, NULL },
	{ "f-word", "", SCAN_SEV_LOW, "\\bsk_[0-9a-f]{8}\\b", 0, 11, NULL, NULL, NULL },
	{ "f-unbounded", "", SCAN_SEV_LOW, "tok_[a-z]{4,}", 0, 24, NULL, NULL, NULL },
	/* the tails the engine follows itself (src/scan/db.c tail_split), as rules.c has them */
	{ "f-assign", "", SCAN_SEV_MEDIUM,
	    "[A-Za-z0-9_.-]{0,32}(?i:token|secret)[A-Za-z0-9_.-]{0,24}[\"']?[ \\t]{0,4}"
	    "(?::=|=>|[:=])[ \\t]{0,4}[\"']?[^\\s\"'`,;&<>{}\\\\]{8,40}"
	    "(?:[\\s\"'`,;&<>{}\\\\]|\\z)", 0, 140, validate_value, NULL, NULL },
	{ "f-userinfo", "", SCAN_SEV_HIGH,
	    "\\b[A-Za-z][A-Za-z0-9+.-]{1,24}://[^\\s:@/?#\"'<>]{0,128}:[^\\s@/?#\"'<>]{1,256}@", 0,
	    414, NULL, NULL, NULL },
	{ "f-lines", "", SCAN_SEV_HIGH,
	    "\\bkind:[ \\t]*Secret[ \\t]*\\r?\\n(?:[ \\t]*[^\\s-][^\\r\\n]*\\r?\\n)*[ \\t]*"
	    "(?:data|stringData):[ \\t]*\\r?\\n(?:[ \\t]+[A-Za-z0-9._-]+:[ \\t]*[^\\r\\n]+\\r?\\n)*"
	    "[ \\t]+[A-Za-z0-9._-]+:[ \\t]*[^\\r\\n]+(?:\\r?\\n|\\z)", 0, 600, NULL, NULL, NULL },
	/*
	 * kubernetes-secret-yaml's text exactly, so db.c recognises it (HEAD_LINES): Vectorscan runs
	 * only its "kind: Secret" ending and the start search bounds itself by the block of lines.
	 */
	{ "f-head-lines", "", SCAN_SEV_HIGH,
	    "(?:^|\\n)[ \\t]*data:[ \\t]*\\r?\\n(?:[ \\t]+[A-Za-z0-9._-]+:[ \\t]*[A-Za-z0-9+/=]*"
	    "[ \\t]*\\r?\\n)+(?:[ \\t]*immutable:[^\\r\\n]*\\r?\\n)?[ \\t-]*kind:[ \\t]*Secret"
	    "(?:[^A-Za-z0-9]|\\z)", 0, 16384, NULL, NULL, NULL },
	/* rules.c's PEM shape (db.c pem_ending): Vectorscan runs only the END line */
	{ "f-pem-end", "", SCAN_SEV_CRITICAL, "-----BEGIN RSA PRIVATE KEY-----"
	    "(?:[ \\t]*(?:\\r?\\n|(?:\\\\r)?\\\\n)[ \\t]*[A-Za-z][A-Za-z0-9-]*:[^\\r\\n\\\\]*)*"
	    "[A-Za-z0-9+/=\\s\\\\]{64,}-----END RSA PRIVATE KEY-----", 0, 2048, NULL, NULL, NULL },
	/* azure-storage-account-key's shape (db.c pad_ending): Vectorscan runs only "==" */
	{ "f-pad", "", SCAN_SEV_HIGH, "(?:(?i:AccountKey)[\"']?[ \\t]{0,4}(?::=|=>|[:=])[ \\t]{0,4}"
	    "[\"']?|(?i:azure|storage)[A-Za-z0-9_.-]{0,24}(?i:key)[\"']?[ \\t]{0,4}(?::=|=>|[:=])"
	    "[ \\t]{0,4}[\"']?)[A-Za-z0-9+/]{86}==", 0, 134, NULL, NULL, NULL },
};

static const uint8_t KEYS[SCAN_FP_KEYS_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };
static const char *const VALUES[] = { "hunter2-correct-horse", "pa ss=w:rd/with+base64==",
	"Zq8#mV2$pL9!nR4" };

static struct scan_db *db;
static struct scan_fpset *fps;

struct list {
	struct scan_match m[MAX_FINDINGS];
	size_t n;
};

static int
collect(void *ud, const struct scan_match *m)
{
	struct list *l = ud;

	FUZZ_CHECK(m->start < m->end);
	if (l->n < MAX_FINDINGS)
		l->m[l->n++] = *m;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[SCAN_ERR_MAX];
	struct scan_fp fp[2];
	size_t i, j, n;

	(void)argc;
	(void)argv;
	FUZZ_CHECK(secmem_init() == 0);
	FUZZ_CHECK(scan_db_open_rules(RULES, VT_NELEM(RULES), &db, err) == 0);
	FUZZ_CHECK(scan_fpset_new(KEYS, &fps) == 0);
	for (i = 0; i < VT_NELEM(VALUES); i++) {
		FUZZ_CHECK(scan_fp_compute(KEYS, VALUES[i], strlen(VALUES[i]), fp, &n) == 0);
		for (j = 0; j < n; j++)
			FUZZ_CHECK(scan_fpset_add(fps, &fp[j], VALUES[i]) == 0);
	}
	return 0;
}

static uint32_t
next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static size_t
piece(uint32_t *x, size_t left)
{
	size_t k = 1 + next(x) % (1u << (next(x) % 13));

	return k < left ? k : left;
}

static int
same(const struct list *a, const struct list *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (a->m[i].start != b->m[i].start || a->m[i].end != b->m[i].end ||
		    a->m[i].rule != b->m[i].rule || a->m[i].label != b->m[i].label)
			return 0;
	}
	return 1;
}

static void
check_redactor(const uint8_t *p, size_t n, const struct list *found, uint32_t x,
    enum scan_redact_mode mode)
{
	struct scan_redactor *rd = NULL;
	struct vbuf *want = vbuf_new(VBUF_MAX_ANY), *got = vbuf_new(VBUF_MAX_ANY);
	size_t off = 0, i, k;

	FUZZ_CHECK(scan_redact_buffer(p, n, found->m, found->n, mode, want) == 0);
	FUZZ_CHECK(scan_redactor_open(db, fps, mode, &rd) == 0);
	while (off < n) {
		k = piece(&x, n - off);
		FUZZ_CHECK(scan_redactor_feed(rd, p + off, k, got, NULL, NULL) == 0);
		/* what is out is a prefix of the redaction: no byte of a secret went early */
		FUZZ_CHECK(vbuf_len(got) <= vbuf_len(want));
		FUZZ_CHECK(vt_ct_eq(vbuf_ptr(got), vbuf_ptr(want), vbuf_len(got)));
		off += k;
	}
	FUZZ_CHECK(scan_redactor_close(rd, got, NULL, NULL) == 0);
	FUZZ_CHECK(vbuf_len(got) == vbuf_len(want));
	FUZZ_CHECK(vt_ct_eq(vbuf_ptr(got), vbuf_ptr(want), vbuf_len(got)));
	if (mode == SCAN_REDACT_MASK && found->n < MAX_FINDINGS) {
		const uint8_t *o = vbuf_ptr(got);

		FUZZ_CHECK(vbuf_len(got) == n);
		for (i = 0; i < found->n; i++) {
			uint64_t j;

			for (j = found->m[i].start; j < found->m[i].end; j++) {
				/* kept unmasked: line ends and escape sequences, nothing else */
				FUZZ_CHECK(o[j] == '*' || p[j] == '\r' || p[j] == '\n' ||
				    memchr(p, 0x1b, (size_t)j + 1) != NULL);
			}
		}
	}
	vbuf_free(want);
	vbuf_free(got);
}

/* A printable value with a fingerprint is found on a line of its own. */
static void
check_fingerprint(const uint8_t *p, size_t n)
{
	struct scan_fpset *one = NULL;
	struct scan_fp fp[2];
	struct list *found;
	uint8_t *line;
	size_t i, k;

	if (n < SCAN_FP_MIN_LEN || n > 300)
		return;
	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e)
			return;
	}
	FUZZ_CHECK(scan_fp_compute(KEYS, p, n, fp, &k) == 0);
	if (k == 0)
		return;
	FUZZ_CHECK(scan_fpset_new(KEYS, &one) == 0);
	for (i = 0; i < k; i++)
		FUZZ_CHECK(scan_fpset_add(one, &fp[i], "v") == 0);
	line = xmalloc(n + 2);
	line[0] = '\n';
	memcpy(line + 1, p, n);
	line[n + 1] = '\n';
	found = xcalloc(1, sizeof(*found));
	FUZZ_CHECK(scan_buffer(db, one, line, n + 2, collect, found) == 0);
	for (i = k = 0; i < found->n; i++)
		k += found->m[i].label != NULL;
	FUZZ_CHECK(k >= 1);
	free(found);
	free(line);
	scan_fpset_free(one);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct list *one, *many;
	struct scan_stream *s = NULL;
	uint8_t *p;
	size_t n, off = 0, k;
	uint32_t x;

	if (size < 4)
		return 0;
	x = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
	    (uint32_t)data[3] << 24 | 1u;
	n = size - 4;
	p = xmalloc(n == 0 ? 1 : n); /* exact size, so ASan sees reads past the end */
	if (n > 0)
		memcpy(p, data + 4, n);
	one = xcalloc(1, sizeof(*one));
	many = xcalloc(1, sizeof(*many));

	FUZZ_CHECK(scan_buffer(db, fps, p, n, collect, one) == 0);
	FUZZ_CHECK(scan_stream_open(db, fps, &s) == 0);
	while (off < n) {
		k = piece(&x, n - off);
		FUZZ_CHECK(scan_stream_feed(s, p + off, k, collect, many) == 0);
		off += k;
	}
	FUZZ_CHECK(scan_stream_close(s, collect, many) == 0);
	FUZZ_CHECK(same(one, many));
	/*
	 * A short input also a byte per feed: the cut that random pieces seldom make every time, and
	 * the one that showed Vectorscan 5.4.9 missing ends of a whole head-lines pattern.
	 */
	if (n <= BYTEWISE_MAX) {
		many->n = 0;
		FUZZ_CHECK(scan_stream_open(db, fps, &s) == 0);
		for (off = 0; off < n; off++)
			FUZZ_CHECK(scan_stream_feed(s, p + off, 1, collect, many) == 0);
		FUZZ_CHECK(scan_stream_close(s, collect, many) == 0);
		FUZZ_CHECK(same(one, many));
	}

	check_redactor(p, n, one, x * 2654435761u | 1u, SCAN_REDACT_MASK);
	check_redactor(p, n, one, x * 40503u | 1u, SCAN_REDACT_LABEL);
	check_fingerprint(p, n);

	free(one);
	free(many);
	free(p);
	return 0;
}
