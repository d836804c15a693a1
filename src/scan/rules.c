/*
 * The exposure scanner's rules (docs/scanner-rules.md): our own patterns for the credential
 * formats the vendors publish, each with a validator that cuts the secret out of a match and drops
 * what is not one — an allowlisted documentation example, a placeholder, too little entropy, a bad
 * checksum (GitHub and npm CRC32, age's bech32), a JWT whose header is not JSON with "alg".
 *
 * Properties every rule keeps, which scan.c and tests/unit/test_scan_rules.c rely on:
 *  - ONE report per occurrence: a token of variable length ends with a consumed boundary byte (or
 *    \z, at the end of the stream), so Vectorscan never reports a prefix of a longer run, and a
 *    multi-line format cannot run from one block into the next (the engine joins ends that share
 *    a start, so such a match would hide the first block).
 *  - validate() reads from the END of what it is given: the exact match, or any longer window that
 *    ends where the match ends, gives the same secret span. Every rule has a validator.
 *  - Patterns use only what Vectorscan in streaming mode and PCRE2 (the engine's start finder)
 *    read the same way: no back-references, no look-around, no flags ([\s\S] or explicit classes
 *    instead of DOTALL, (?i:...) around keywords only, never around the secret).
 *  - max_len is exactly the longest match of a bounded pattern. The formats that run to kilobytes
 *    (PEM and PuTTY keys, PKCS#12, JWTs, Kubernetes Secrets, session tokens) use unbounded repeats
 *    instead, which compile in milliseconds where {a,12000} takes half a second each, and max_len
 *    caps them: a match longer than it is not found.
 * The test strings are synthetic (random values, valid checksums where a format has one). Literal
 * prefixes are split from the values ("ghp_" "...") so this file does not trip scanners, ours
 * included.
 */
#include "scan/scan.h"
#include "scan/scan_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- character classes ------------------------------------------------------------------- */

enum cc {
	CC_B62,     /* A-Z a-z 0-9 */
	CC_B64URL,  /* A-Z a-z 0-9 _ - */
	CC_B64,     /* A-Z a-z 0-9 + / */
	CC_B64PAD,  /* A-Z a-z 0-9 + / = */
	CC_HEX,     /* 0-9 a-f A-F */
	CC_DIGIT,   /* 0-9 */
	CC_B62DASH, /* A-Z a-z 0-9 - */
	CC_B62DOT,  /* A-Z a-z 0-9 . */
	CC_ALPHA,   /* A-Z a-z */
	CC_BECH32,  /* bech32's alphabet, upper case */
	CC_AAD,     /* A-Z a-z 0-9 _ ~ . - (Entra ID client secrets) */
	CC_URLPATH, /* A-Z a-z 0-9 _ - / (webhook URL paths) */
	CC_SASSIG,  /* A-Z a-z 0-9 % + / = (a URL-encoded base64 signature) */
	CC_BEARER,  /* RFC 6750 b64token: A-Z a-z 0-9 - . _ ~ + / = */
	CC_PCTB62,  /* A-Z a-z 0-9 % */
	CC_B64SNT,  /* A-Z a-z 0-9 + / = _ (Sentry org tokens) */
	CC_B64URLPAD, /* A-Z a-z 0-9 _ - = (Atlassian tokens) */
	CC_SCHEME,  /* A-Z a-z 0-9 + . - (a URI scheme) */
	CC_VALUE,   /* a bare config value: printable, no space, quote, separator or bracket */
	CC_NOSPACE, /* printable, no space or quote */
};

static int
is_digit(unsigned c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(unsigned c)
{
	return is_digit(c) || is_alpha(c);
}

static int
is_hex(unsigned c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
is_space(unsigned c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static unsigned
to_lower(unsigned c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int
cc_has_slow(enum cc k, unsigned c)
{
	switch (k) {
	case CC_B62:
		return is_alnum(c);
	case CC_B64URL:
		return is_alnum(c) || c == '_' || c == '-';
	case CC_B64:
		return is_alnum(c) || c == '+' || c == '/';
	case CC_B64PAD:
		return is_alnum(c) || c == '+' || c == '/' || c == '=';
	case CC_HEX:
		return is_hex(c);
	case CC_DIGIT:
		return is_digit(c);
	case CC_B62DASH:
		return is_alnum(c) || c == '-';
	case CC_B62DOT:
		return is_alnum(c) || c == '.';
	case CC_ALPHA:
		return is_alpha(c);
	case CC_BECH32:
		return c != 0 && strchr("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", (int)c) != NULL;
	case CC_AAD:
		return is_alnum(c) || c == '_' || c == '~' || c == '.' || c == '-';
	case CC_URLPATH:
		return is_alnum(c) || c == '_' || c == '-' || c == '/';
	case CC_SASSIG:
		return is_alnum(c) || c == '%' || c == '+' || c == '/' || c == '=';
	case CC_BEARER:
		return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
		    c == '/' || c == '=';
	case CC_PCTB62:
		return is_alnum(c) || c == '%';
	case CC_B64SNT:
		return is_alnum(c) || c == '+' || c == '/' || c == '=' || c == '_';
	case CC_B64URLPAD:
		return is_alnum(c) || c == '_' || c == '-' || c == '=';
	case CC_SCHEME:
		return is_alnum(c) || c == '+' || c == '.' || c == '-';
	case CC_VALUE:
		return c > 0x20 && c < 0x7f && strchr("\"'`,;&<>{}\\", (int)c) == NULL;
	case CC_NOSPACE:
		return c > 0x20 && c < 0x7f && c != '"' && c != '\'';
	}
	return 0;
}

/*
 * The classes as one bit mask per byte, built once from cc_has_slow (validators run per
 * candidate and test classes per byte: a table lookup instead of a switch and strchr).
 */
static uint32_t CC_TAB[256];
/* log2_ge1(i) for small counts and lengths: entropy() looks these up instead of iterating */
#define LOG2_TAB_N 4097
static double LOG2_TAB[LOG2_TAB_N];

static inline int
cc_has(enum cc k, unsigned c)
{
	return (CC_TAB[c & 0xff] >> k) & 1u;
}

/*
 * Length of the run of base64 bytes (CC_B64, or CC_B64PAD with '=') that p starts with: 16 bytes
 * at a time (SSE2), then by table. PEM bodies, PKCS#12 blobs and Kubernetes values are kilobytes
 * of it, read byte by byte otherwise.
 */
static size_t
b64_run(const uint8_t *p, size_t n, int pad)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i x20 = _mm_set1_epi8(0x20), la = _mm_set1_epi8('a' - 1);
	const __m128i lz = _mm_set1_epi8('z' + 1), d0 = _mm_set1_epi8('0' - 1);
	const __m128i d9 = _mm_set1_epi8('9' + 1), plus = _mm_set1_epi8('+');
	const __m128i slash = _mm_set1_epi8('/'), eq = _mm_set1_epi8(pad ? '=' : '+');

	for (; i + 16 <= n; i += 16) {
		/* signed compares: bytes >= 0x80 are below every bound; c | 0x20 folds A-Z to a-z */
		const __m128i c = _mm_loadu_si128((const __m128i *)(p + i));
		const __m128i l = _mm_or_si128(c, x20);
		__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(l, la), _mm_cmplt_epi8(l, lz));
		unsigned int bad;

		ok = _mm_or_si128(ok, _mm_and_si128(_mm_cmpgt_epi8(c, d0), _mm_cmplt_epi8(c, d9)));
		ok = _mm_or_si128(ok, _mm_or_si128(_mm_cmpeq_epi8(c, plus), _mm_cmpeq_epi8(c, slash)));
		ok = _mm_or_si128(ok, _mm_cmpeq_epi8(c, eq));
		bad = ~(unsigned int)_mm_movemask_epi8(ok) & 0xffffu;
		if (bad != 0)
			return i + (size_t)__builtin_ctz(bad);
	}
#endif
	while (i < n && cc_has(pad ? CC_B64PAD : CC_B64, p[i]))
		i++;
	return i;
}

size_t
scan_rules_b64_run(const uint8_t *p, size_t n, int pad)
{
	return b64_run(p, n, pad);
}

/* 1 if all 8 bytes at q are of class k: one branch, not eight. */
static inline int
cc_all8(const uint8_t *q, enum cc k)
{
	return (int)((CC_TAB[q[0]] & CC_TAB[q[1]] & CC_TAB[q[2]] & CC_TAB[q[3]] & CC_TAB[q[4]] &
	    CC_TAB[q[5]] & CC_TAB[q[6]] & CC_TAB[q[7]]) >> k & 1u);
}

static int
all_in(const uint8_t *p, size_t n, enum cc k)
{
	size_t i;

	if (k == CC_B64 || k == CC_B64PAD)
		return b64_run(p, n, k == CC_B64PAD) == n;
	for (i = 0; i + 8 <= n; i += 8)
		if (!cc_all8(p + i, k))
			return 0;
	for (; i < n; i++)
		if (!cc_has(k, p[i]))
			return 0;
	return 1;
}

int
scan_rules_all_in(const uint8_t *p, size_t n, int k)
{
	return all_in(p, n, (enum cc)k);
}

/* ---- byte-string helpers (public bytes: plain loops, no memcmp) --------------------------- */

/* 1 if lit occurs at m[i] (ci: ASCII case-insensitive) without running past n. */
static int
lit_at(const uint8_t *m, size_t n, size_t i, const char *lit, int ci)
{
	size_t k;
	unsigned a, b;

	for (k = 0; lit[k] != '\0'; k++) {
		if (i + k >= n)
			return 0;
		a = m[i + k];
		b = (uint8_t)lit[k];
		if (ci ? to_lower(a) != to_lower(b) : a != b)
			return 0;
	}
	return 1;
}

#define NOT_FOUND SIZE_MAX

/* Start of the last occurrence of lit that ends at or before n, or NOT_FOUND. */
static size_t
find_last(const uint8_t *m, size_t n, const char *lit, int ci)
{
	size_t l = strlen(lit), i;

	unsigned f0 = to_lower((uint8_t)lit[0]);

	if (l > n || l == 0)
		return l == 0 ? n : NOT_FOUND;
	if (!ci) {
		/* memrchr for the first byte: PEM bodies and JSON keys are kilobytes long */
		const uint8_t *q;

		for (i = n - l + 1; i > 0 && (q = memrchr(m, (uint8_t)lit[0], i)) != NULL;
		    i = (size_t)(q - m)) {
			if (lit_at(m, n, (size_t)(q - m), lit, 0))
				return (size_t)(q - m);
		}
		return NOT_FOUND;
	}
	for (i = n - l + 1; i-- > 0;)
		if ((ci ? to_lower(m[i]) : m[i]) == (ci ? f0 : (uint8_t)lit[0]) &&
		    lit_at(m, n, i, lit, ci))
			return i;
	return NOT_FOUND;
}

/* Start of the first occurrence of lit in m[from, n), or NOT_FOUND. */
static size_t
find_first(const uint8_t *m, size_t n, size_t from, const char *lit, int ci)
{
	size_t i, l = strlen(lit);
	const uint8_t *q;
	unsigned f0 = to_lower((uint8_t)lit[0]);

	if (from >= n || l == 0)
		return l == 0 && from < n ? from : NOT_FOUND;
	if (!ci) {
		for (q = m + from; l <= (size_t)(m + n - q) &&
		    (q = memchr(q, (uint8_t)lit[0], (size_t)(m + n - q) - (l - 1))) != NULL; q++)
			if (lit_at(m, n, (size_t)(q - m), lit, 0))
				return (size_t)(q - m);
		return NOT_FOUND;
	}
	for (i = from; i + l <= n; i++)
		if (to_lower(m[i]) == f0 && lit_at(m, n, i, lit, ci))
			return i;
	return NOT_FOUND;
}

/*
 * The match without its consumed boundary: drops up to two trailing bytes outside k (a pattern
 * consumes one byte after a token, two for "token." followed by a non-token byte).
 */
static size_t
strip_tail(const uint8_t *m, size_t n, enum cc k)
{
	int i;

	for (i = 0; i < 2 && n > 0 && !cc_has(k, m[n - 1]); i++)
		n--;
	if (k == CC_B64PAD && n >= 2 && m[n - 2] == '=' && m[n - 1] != '=')
		n--; /* E_B64PAD took the byte after a single '=' of padding */
	return n;
}

/* Length of the run of bytes in k that ends at e, at most cap. */
static size_t
run_back(const uint8_t *m, size_t e, enum cc k, size_t cap)
{
	const size_t lim = cap < e ? cap : e;
	size_t r = 0;

	/* 8 bytes a step while all of them are in k, then byte by byte */
	while (r + 8 <= lim && cc_all8(m + e - r - 8, k))
		r += 8;
	while (r < lim && cc_has(k, m[e - 1 - r]))
		r++;
	return r;
}

size_t
scan_rules_run_back(const uint8_t *m, size_t e, int k, size_t cap)
{
	return run_back(m, e, (enum cc)k, cap);
}

/* Skips spaces and tabs backwards from e. */
static size_t
skip_blank_back(const uint8_t *m, size_t e)
{
	while (e > 0 && (m[e - 1] == ' ' || m[e - 1] == '\t'))
		e--;
	return e;
}

/* ---- entropy, placeholders, allowlist ----------------------------------------------------- */

/* log2(x) for x >= 1 without libm: integer part by halving, 24 fraction bits by squaring. */
static double
log2_ge1(double x)
{
	double r = 0, bit = 0.5;
	int i;

	while (x >= 2) {
		x /= 2;
		r += 1;
	}
	for (i = 0; i < 24; i++) {
		x *= x;
		if (x >= 2) {
			x /= 2;
			r += bit;
		}
		bit /= 2;
	}
	return r;
}

/* log2_ge1 of a count or length (table up to LOG2_TAB_N, the same values). */
static inline double
log2_n(size_t x)
{
	return x < LOG2_TAB_N ? LOG2_TAB[x] : log2_ge1((double)x);
}

/* cnt[b] = occurrences of byte b in p[0 .. n) (two tables: no store-to-load chain on runs). */
static void
histogram(const uint8_t *p, size_t n, uint32_t cnt[static 256])
{
	uint32_t c2[256];
	size_t i;

	memset(cnt, 0, 256 * sizeof(*cnt));
	memset(c2, 0, sizeof(c2));
	for (i = 0; i + 1 < n; i += 2) {
		cnt[p[i]]++;
		c2[p[i + 1]]++;
	}
	if (i < n)
		cnt[p[i]]++;
	for (i = 0; i < 256; i++)
		cnt[i] += c2[i];
}

/*
 * Shannon entropy of n bytes with histogram cnt, in bits per byte (summed in byte order). The
 * counts above 1 are picked out 4 at a time (SSE2) and summed in the same order: no branch per
 * count for random data to mispredict.
 */
static double
entropy_of(const uint32_t cnt[static 256], size_t n)
{
	uint64_t many[4] = {0, 0, 0, 0}, w;
	double sum = 0;
	size_t i;

#ifdef __SSE2__
	const __m128i one = _mm_set1_epi32(1);

	/* counts are at most SCAN_RULE_MAX_LEN: a signed compare is exact */
	for (i = 0; i < 256; i += 4)
		many[i / 64] |= (uint64_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(
		    _mm_loadu_si128((const __m128i *)(cnt + i)), one))) << (i % 64);
#else
	for (i = 0; i < 256; i++)
		many[i / 64] |= (uint64_t)(cnt[i] > 1) << (i % 64);
#endif
	for (i = 0; i < 4; i++) {
		for (w = many[i]; w != 0; w &= w - 1) {
			const uint32_t c = cnt[i * 64 + (size_t)__builtin_ctzll(w)];

			sum += (double)c * log2_n(c);
		}
	}
	return log2_n(n) - sum / (double)n;
}

/*
 * entropy_of the n (1..128) bytes at p, counting only the bytes they hold and summing over them
 * in byte order through a bitmap of the values seen: the same terms in the same order, so the
 * same double, without passes over 256 counts. *most = the largest count.
 */
static double
entropy_short(const uint8_t *p, size_t n, uint32_t *most)
{
	uint32_t cnt[256], mx = 0;
	uint64_t seen[4] = {0, 0, 0, 0}, w;
	double sum = 0;
	size_t i;

	/* all counts cleared (a few vector stores) rather than a mispredicted branch per new byte */
	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < n; i++) {
		const unsigned b = p[i];

		seen[b >> 6] |= (uint64_t)1 << (b & 63);
		cnt[b]++;
	}
	for (i = 0; i < 4; i++) {
		for (w = seen[i]; w != 0; w &= w - 1) {
			const uint32_t c = cnt[i * 64 + (size_t)__builtin_ctzll(w)];

			mx = c > mx ? c : mx;
			if (c > 1)
				sum += (double)c * log2_n(c);
		}
	}
	*most = mx;
	return log2_n(n) - sum / (double)n;
}

/* Shannon entropy of the bytes, in bits per byte. */
static double
entropy(const uint8_t *p, size_t n)
{
	uint32_t cnt[256], most;

	if (n == 0)
		return 0;
	if (n > 128) {
		histogram(p, n, cnt);
		return entropy_of(cnt, n);
	}
	return entropy_short(p, n, &most);
}

double
scan_rules_entropy(const uint8_t *p, size_t n)
{
	return entropy(p, n);
}

double
scan_rules_entropy_hist(const uint8_t *p, size_t n)
{
	uint32_t cnt[256];
	double sum = 0;
	size_t i;

	if (n == 0)
		return 0;
	histogram(p, n, cnt);
	for (i = 0; i < 256; i++)
		if (cnt[i] > 1)
			sum += (double)cnt[i] * log2_n(cnt[i]);
	return log2_n(n) - sum / (double)n;
}

/*
 * Documentation examples that are published on purpose. A secret containing one of these is
 * dropped; the AWS values are the ones in AWS's own documentation, the JWT signature is jwt.io's
 * default token (signed with "your-256-bit-secret").
 */
static const char *const ALLOWLIST[] = {
	"AKIAIOSFODNN7EXAMPLE",
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
	"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
	"EXAMPLE",
};
/* entries that contain another entry: found whenever that one is (set by tables_init) */
static uint8_t ALLOWLIST_IMPLIED[VT_NELEM(ALLOWLIST)];
/*
 * entries that hold a placeholder word (either case, "EXAMPLE"): in a value of at most 64 bytes
 * placeholder() finds the word wherever the entry is (set by tables_init)
 */
static uint8_t ALLOWLIST_WORDED[VT_NELEM(ALLOWLIST)];
static size_t ALLOWLIST_LEN[VT_NELEM(ALLOWLIST)];

/*
 * Words that mark a value as a placeholder (case-insensitive, in values of at most 64 bytes),
 * CI masks among them ("[MASKED]", Rails' "[FILTERED]"); and runs of x (case-sensitive, so a
 * random "XxXx" is not one).
 */
static const char *const PLACEHOLDER_WORDS[] = {
	"example", "your", "changeme", "change_me", "change-me", "placeholder", "redacted",
	"masked", "filtered", "dummy", "sample", "insert", "replace", "notreal", "not_real", "fake",
	"<", ">", "${", "{{", "$(", "...", "***",
};
#define PLACEHOLDER_X_RUN 4 /* "xxxx", "XXXX" */
/* PLACEHOLDER_WORDS by first byte (all lower case or punctuation): a bit per word */
static uint32_t PLACEHOLDER_BY_FIRST[256];
/*
 * The first two bytes of the words of two bytes or more, a bit per pair (8 KB), and the words of
 * one byte: placeholder() looks at the words of a byte only where its pair or itself is one.
 */
static uint64_t PLACEHOLDER_PAIR[65536 / 64];
static uint8_t PLACEHOLDER_ONE[256];

/* Filled before main (and before any thread): the tables are read-only afterwards. */
__attribute__((constructor)) static void
tables_init(void)
{
	unsigned c, k;

	for (c = 0; c < 256; c++)
		for (k = 0; k <= CC_NOSPACE; k++)
			if (cc_has_slow((enum cc)k, c))
				CC_TAB[c] |= 1u << k;
	for (c = 1; c < LOG2_TAB_N; c++)
		LOG2_TAB[c] = log2_ge1((double)c);
	VT_ASSERT(VT_NELEM(PLACEHOLDER_WORDS) <= 32);
	for (k = 0; k < VT_NELEM(PLACEHOLDER_WORDS); k++) {
		const uint8_t *w = (const uint8_t *)PLACEHOLDER_WORDS[k];

		PLACEHOLDER_BY_FIRST[w[0]] |= 1u << k;
		if (w[1] == '\0')
			PLACEHOLDER_ONE[w[0]] = 1;
		else
			PLACEHOLDER_PAIR[(w[0] << 8 | w[1]) / 64] |= (uint64_t)1 << ((w[0] << 8 | w[1]) % 64);
	}
	for (k = 0; k < VT_NELEM(ALLOWLIST); k++)
		ALLOWLIST_LEN[k] = strlen(ALLOWLIST[k]);
	for (k = 0; k < VT_NELEM(ALLOWLIST); k++)
		for (c = 0; c < VT_NELEM(ALLOWLIST); c++)
			if (c != k && strlen(ALLOWLIST[c]) < strlen(ALLOWLIST[k]) &&
			    strstr(ALLOWLIST[k], ALLOWLIST[c]) != NULL)
				ALLOWLIST_IMPLIED[k] = 1;
	for (k = 0; k < VT_NELEM(ALLOWLIST); k++)
		for (c = 0; c < VT_NELEM(PLACEHOLDER_WORDS); c++)
			if (find_first((const uint8_t *)ALLOWLIST[k], ALLOWLIST_LEN[k], 0,
			    PLACEHOLDER_WORDS[c], 1) != NOT_FOUND)
				ALLOWLIST_WORDED[k] = 1;
}

/*
 * 1 if lit (of l bytes) occurs in p: memchr for its first byte, then the rest. In a long value
 * (a PEM body, a PKCS#12 blob: the allowlist is looked for in every one) the first byte of a
 * word like "EXAMPLE" is every ~64th byte of base64, so each memchr stops after a few dozen
 * bytes; there the first two bytes are compared 16 positions at a time (SSE2) instead.
 */
static int
contains(const uint8_t *p, size_t n, const char *lit, size_t l)
{
	const uint8_t *q = p, *end = p + n;
	size_t k;

	if (l == 0 || l > n)
		return l == 0;
#ifdef __SSE2__
	if (l >= 2 && n >= 256) {
		const __m128i c0 = _mm_set1_epi8((char)lit[0]), c1 = _mm_set1_epi8((char)lit[1]);
		size_t i;

		/* positions i .. i + 15 as starts: both loads stay below n (i + 17 <= n) */
		for (i = 0; i + 17 <= n; i += 16) {
			unsigned int bits = (unsigned int)_mm_movemask_epi8(_mm_and_si128(
			    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), c0),
			    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i + 1)), c1)));

			for (; bits != 0; bits &= bits - 1) {
				const size_t j = i + (size_t)__builtin_ctz(bits);

				if (j + l > n)
					return 0; /* and so every later start */
				for (k = 2; k < l && p[j + k] == (uint8_t)lit[k]; k++)
					;
				if (k == l)
					return 1;
			}
		}
		q = p + i; /* the starts from i on, as below */
		if ((size_t)(end - q) < l)
			return 0;
	}
#endif
	while ((q = memchr(q, (uint8_t)lit[0], (size_t)(end - q) - (l - 1))) != NULL) {
		for (k = 1; k < l && q[k] == (uint8_t)lit[k]; k++)
			;
		if (k == l)
			return 1;
		if ((size_t)(end - ++q) < l)
			break;
	}
	return 0;
}

static int
allowlisted(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < VT_NELEM(ALLOWLIST); i++)
		if (!ALLOWLIST_IMPLIED[i] && contains(p, n, ALLOWLIST[i], ALLOWLIST_LEN[i]))
			return 1;
	return 0;
}

/* Longest run of one repeated byte, and of bytes each one above the last ("123456", "abcdef"). */
static int
has_runs(const uint8_t *p, size_t n, size_t limit)
{
	size_t same = 1, up = 1, i;

	for (i = 1; i < n; i++) {
		same = p[i] == p[i - 1] ? same + 1 : 1;
		up = p[i] == p[i - 1] + 1 ? up + 1 : 1;
		if (same >= limit || up >= limit)
			return 1;
	}
	return 0;
}

/* has_runs(p, n, 6), or a run of PLACEHOLDER_X_RUN 'x' or 'X' (case-sensitive), in one pass */
static int
placeholder_runs(const uint8_t *p, size_t n)
{
	size_t same = 1, up = 1, i;

	for (i = 1; i < n; i++) {
		same = p[i] == p[i - 1] ? same + 1 : 1;
		up = p[i] == p[i - 1] + 1 ? up + 1 : 1;
		if (same >= 6 || up >= 6 || (same >= PLACEHOLDER_X_RUN && (p[i] | 0x20) == 'x'))
			return 1;
	}
	return 0;
}

/*
 * A placeholder: an allowlisted example; for values of up to 64 bytes a run of 6 equal or
 * ascending bytes, a placeholder word or a run of x; for longer ones (encoded binary, where
 * "AAAAAA" is zeros: every OpenSSH key has a run of them) one byte making up half of the value.
 */
static int
placeholder(const uint8_t *p, size_t n)
{
	size_t i, k;

	if (n > 64) {
		/* a byte that is more than half of them: the majority vote's candidate, counted */
		uint8_t cand = p[0];

		if (allowlisted(p, n))
			return 1;
		for (i = 0, k = 0; i < n; i++) {
			if (k == 0)
				cand = p[i];
			k += p[i] == cand ? 1 : (size_t)-1;
		}
		for (i = 0, k = 0; i < n; i++)
			k += p[i] == cand;
		return k > n / 2;
	}
	/* the allowlist: its entries that hold a word are found by the word loop below */
	for (i = 0; i < VT_NELEM(ALLOWLIST); i++)
		if (!ALLOWLIST_IMPLIED[i] && !ALLOWLIST_WORDED[i] &&
		    contains(p, n, ALLOWLIST[i], ALLOWLIST_LEN[i]))
			return 1;
	if (placeholder_runs(p, n))
		return 1;
	/*
	 * one pass: a word can only start where its first byte (lower-cased) is one of a one-byte
	 * word, or its first two bytes those of a longer one (random bytes: rarely)
	 */
	for (i = 0; i < n; i++) {
		const unsigned a = to_lower(p[i]), pair = i + 1 < n ? a << 8 | to_lower(p[i + 1]) : 0;
		uint32_t words;

		if (!PLACEHOLDER_ONE[a] && !((PLACEHOLDER_PAIR[pair / 64] >> (pair % 64)) & 1))
			continue;
		for (words = PLACEHOLDER_BY_FIRST[a]; words != 0; words &= words - 1) {
			const char *wd = PLACEHOLDER_WORDS[__builtin_ctz(words)];

			for (k = 1; wd[k] != '\0' && i + k < n &&
			    to_lower(p[i + k]) == (uint8_t)wd[k]; k++)
				;
			if (wd[k] == '\0')
				return 1;
		}
	}
	return 0;
}

int
scan_rules_placeholder(const uint8_t *p, size_t n)
{
	return placeholder(p, n);
}

/* A random-looking value: not a placeholder, and at least h10 / 10 bits of entropy per byte. */
static int
plausible(const uint8_t *p, size_t n, unsigned h10)
{
	uint32_t cnt[256];
	size_t i;

	if (n == 0)
		return 0;
	if (n <= 64) {
		if (placeholder(p, n))
			return 0;
		return entropy(p, n) * 10.0 >= (double)h10;
	}
	/* placeholder() of a long value and entropy() from one set of counts */
	if (allowlisted(p, n))
		return 0;
	if (n <= 128) {
		uint32_t most;
		const double h = entropy_short(p, n, &most);

		return most <= n / 2 && h * 10.0 >= (double)h10;
	}
	histogram(p, n, cnt);
	for (i = 0; i < 256; i++)
		if (cnt[i] > n / 2)
			return 0;
	return entropy_of(cnt, n) * 10.0 >= (double)h10;
}

int
scan_rules_plausible(const uint8_t *p, size_t n, unsigned int h10)
{
	return plausible(p, n, h10);
}

/* ---- checksums and decoders --------------------------------------------------------------- */

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32) — a checksum, bit by bit: tokens are short. */
static uint32_t
crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return c ^ 0xffffffffu;
}

static int
b62_digit(unsigned c)
{
	if (is_digit(c))
		return (int)(c - '0');
	if (c >= 'A' && c <= 'Z')
		return (int)(c - 'A') + 10;
	if (c >= 'a' && c <= 'z')
		return (int)(c - 'a') + 36;
	return -1;
}

/*
 * GitHub's and npm's token checksum: the last 6 base62 characters (0-9A-Za-z, most significant
 * first) are the CRC-32 of the 30 random characters before them.
 */
static int
crc62_ok(const uint8_t *body, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (n != 36)
		return 0;
	for (i = 30; i < 36; i++) {
		int d = b62_digit(body[i]);

		if (d < 0)
			return 0;
		v = v * 62 + (uint64_t)d;
	}
	return v == crc32_ieee(body, 30);
}

/* bech32 (BIP 173) over hrp (lower-cased) and the data characters, checksum included. */
static int
bech32_ok(const char *hrp, const uint8_t *data, size_t n)
{
	static const char alphabet[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	static const uint32_t gen[5] = {
		0x3b6a57b2u, 0x26508e6du, 0x1ea119fau, 0x3d4233ddu, 0x2a1462b3u,
	};
	uint32_t chk = 1;
	size_t i, pass;
	int k;

	for (pass = 0; pass < 3; pass++) {
		size_t cnt = pass == 2 ? n : strlen(hrp);

		if (pass == 1) { /* the separator between the two halves of the expanded hrp */
			uint32_t top = chk >> 25;

			chk = (chk & 0x1ffffffu) << 5;
			for (k = 0; k < 5; k++)
				chk ^= ((top >> k) & 1u) ? gen[k] : 0u;
		}
		for (i = 0; i < cnt; i++) {
			uint32_t v, top;

			if (pass == 0) {
				v = (uint32_t)to_lower((uint8_t)hrp[i]) >> 5;
			} else if (pass == 1) {
				v = (uint32_t)to_lower((uint8_t)hrp[i]) & 31u;
			} else {
				const char *q = data[i] == 0 ? NULL
				    : strchr(alphabet, (int)to_lower(data[i]));

				if (q == NULL)
					return 0;
				v = (uint32_t)(q - alphabet);
			}
			top = chk >> 25;
			chk = ((chk & 0x1ffffffu) << 5) ^ v;
			for (k = 0; k < 5; k++)
				chk ^= ((top >> k) & 1u) ? gen[k] : 0u;
		}
	}
	return chk == 1;
}

static int
b64_value(unsigned c)
{
	if (c >= 'A' && c <= 'Z')
		return (int)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (int)(c - 'a') + 26;
	if (is_digit(c))
		return (int)(c - '0') + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/*
 * Lenient base64 (either alphabet, padding optional, nothing after it): decodes in into out and
 * returns the length, or -1 on a stray byte or when more than outmax bytes would come out.
 */
static long
b64_dec(const uint8_t *in, size_t n, uint8_t *out, size_t outmax)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0;

	while (n > 0 && in[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		int v = b64_value(in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outmax)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)o;
}

/* ---- vendor prefixes (other rules own values that start with these) ----------------------- */

static const char *const VENDOR_PREFIXES[] = {
	"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "glptt-", "glrt-",
	"GR1348941", "xoxb-", "xoxp-", "xoxa-", "xoxe", "xoxr-", "xoxs-", "xapp-", "sk_live_",
	"rk_live_", "sk_test_", "rk_test_", "whsec_", "sq0atp-", "sq0csp-", "AKIA", "ASIA",
	"AIza", "GOCSPX-", "ya29.", "SG.", "npm_", "pypi-", "dckr_", "hvs.", "hvb.", "hvr.",
	"dop_v1_", "doo_v1_", "dor_v1_", "shpat_", "shpca_", "shppa_", "shpss_", "ATATT3",
	"ATCTT3", "ATBB", "sk-proj-", "sk-ant-", "sk.eyJ", "eyJ", "AGE-SECRET-KEY-", "glc_",
	"glsa_", "NRAK-", "PMAK-", "pul-", "lin_api_", "ntn_", "dapi", "hf_", "gsk_", "sbp_",
	"LTAI", "AKCp", "nfp_", "CCIPAT_", "bkua_", "rubygems_", "xkeysib-", "sntry",
	"tskey-", "dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit.", "LS0tLS1CRUdJTi",
	"secret_", "ABIA", "ACCA", "CCIPRJ_", "FwoGZXIvYXdzE", "IQoJb3JpZ2luX2Vj", "HRKU-",
	"cmVmdGtuOjAxOj", "ewogICJ0eXBl", "glagent-", "glcbt-", "gldt-", "glffct-", "glft-",
	"glimt-", "gloas-", "glsoat-", "glwt-", "https://hooks.slack.com/", "https://discord",
	"lin_oauth_", "v1.0-", "xoxo-", "xsmtpsib-", "dt0", "access_token$",
	"AAAAAAAAAAAAAAAAAAAAA",
};

/* ... and the parts inside a value that mark it as OpenAI's, Terraform's, FCM's, Telegram's. */
static const char *const VENDOR_INFIXES[] = {"T3BlbkFJ", ".atlasv1.", ":APA91b", ":AA"};

/*
 * A value another rule owns: a vendor prefix, or the shape of an Entra ID client secret, an OpenAI
 * key, an Airtable or Facebook token, a NuGet key or a Twilio key SID.
 */
/* VENDOR_PREFIXES grouped by first byte: those of byte c are VPFX_IDX[VPFX_AT[c] .. [c + 1]). */
static uint8_t VPFX_IDX[VT_NELEM(VENDOR_PREFIXES)];
static uint8_t VPFX_AT[257];

__attribute__((constructor)) static void
vpfx_init(void)
{
	size_t i, o = 0;
	unsigned c;

	VT_ASSERT(VT_NELEM(VENDOR_PREFIXES) < 256);
	for (c = 0; c < 256; c++) {
		VPFX_AT[c] = (uint8_t)o;
		for (i = 0; i < VT_NELEM(VENDOR_PREFIXES); i++)
			if ((uint8_t)VENDOR_PREFIXES[i][0] == c)
				VPFX_IDX[o++] = (uint8_t)i;
	}
	VPFX_AT[256] = (uint8_t)o;
}

static int
vendor_prefixed(const uint8_t *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = VPFX_AT[p[0]]; i < VPFX_AT[p[0] + 1]; i++)
		if (lit_at(p, n, 0, VENDOR_PREFIXES[VPFX_IDX[i]], 0))
			return 1;
	if (n >= 37 && is_digit(p[3]) && p[4] == 'Q' && p[5] == '~')
		return 1;
	for (i = 0; i < VT_NELEM(VENDOR_INFIXES); i++)
		if (find_first(p, n, 0, VENDOR_INFIXES[i], 0) != NOT_FOUND)
			return 1;
	if ((n == 40 && lit_at(p, n, 36, "NRAL", 0)) || (n >= 36 && lit_at(p, n, 32, "-us", 0)))
		return 1;
	return (n == 82 && lit_at(p, n, 0, "pat", 0) && p[17] == '.') ||
	    (n >= 84 && lit_at(p, n, 0, "EAA", 0)) || (n == 46 && lit_at(p, n, 0, "oy2", 0)) ||
	    (n == 34 && lit_at(p, n, 0, "SK", 0) && all_in(p + 2, 32, CC_HEX));
}

/* ---- the common token validator ----------------------------------------------------------- */

enum {
	TOK_CRC62 = 1 << 0,  /* GitHub/npm: CRC-32 in the last 6 base62 characters of the body */
	TOK_NOT_HEX = 1 << 1, /* a body of hex digits only is a digest, not this secret */
	TOK_BECH32 = 1 << 2, /* the prefix up to its last '1' is a bech32 hrp: verify the sum */
};

/*
 * A token: one of pfx (none: the value alone) followed by lo..hi bytes of body. Found from the
 * end: the boundary byte is dropped, then the longest body run that a prefix precedes wins (the
 * leftmost prefix, so a prefix-like string inside the body does not shorten it).
 */
struct tok_spec {
	const char *pfx[8];
	enum cc end;   /* what the pattern's closing boundary excludes (default CC_B62) */
	enum cc body;
	uint16_t lo, hi;
	uint8_t h10;   /* entropy floor of the body, bits/byte × 10 */
	uint8_t flags; /* TOK_* */
};

/*
 * The start of a token that ends at e: the longest body l (r >= l >= max(lo, 1)) that one of the
 * np prefixes (pl[i] bytes each) precedes, the first of them in order at that l; *body = l and
 * *which = i. With no prefix, the body alone (l = r). NOT_FOUND if none. A prefix is compared
 * only where its last byte is, its length not recomputed per l.
 */
static size_t
tok_start(const char *const *pfx, const size_t *pl, size_t np, size_t lo, const uint8_t *m,
    size_t e, size_t r, size_t *body, size_t *which)
{
	size_t l, i;

	for (l = r; l >= lo && l > 0; l--) {
		if (np == 0) {
			*body = l;
			*which = 0;
			return e - l;
		}
		for (i = 0; i < np; i++) {
			if (e - l >= pl[i] &&
			    (pl[i] == 0 || m[e - l - 1] == (uint8_t)pfx[i][pl[i] - 1]) &&
			    lit_at(m, e, e - l - pl[i], pfx[i], 0)) {
				*body = l;
				*which = i;
				return e - l - pl[i];
			}
		}
	}
	return NOT_FOUND;
}

size_t
scan_rules_tok_start(const char *const *pfx, size_t np, size_t lo, const uint8_t *m, size_t e,
    size_t r, size_t *body, size_t *which)
{
	size_t pl[8], i;

	VT_ASSERT(np <= VT_NELEM(pl));
	for (i = 0; i < np; i++)
		pl[i] = strlen(pfx[i]);
	return tok_start(pfx, pl, np, lo, m, e, r, body, which);
}

static int
tok_find(const struct tok_spec *t, const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, t->end);
	size_t r = run_back(m, e, t->body, t->hi);
	size_t l = 0, i = 0, np, start, pl[VT_NELEM(t->pfx)];
	const char *pfx;

	for (np = 0; np < VT_NELEM(t->pfx) && t->pfx[np] != NULL; np++)
		pl[np] = strlen(t->pfx[np]);
	start = tok_start(t->pfx, pl, np, t->lo, m, e, r, &l, &i);
	pfx = np > 0 ? t->pfx[i] : NULL;
	if (start == NOT_FOUND)
		return 0;
	if (t->flags & TOK_CRC62) {
		/*
		 * A valid CRC-32 says the token is real: a placeholder word that random base62 happens
		 * to spell ("...CfaKEYk...") does not drop it; examples and low entropy still do.
		 */
		if (!crc62_ok(m + e - l, l) || allowlisted(m + start, e - start) ||
		    entropy(m + e - l, l) * 10.0 < (double)t->h10)
			return 0;
	} else if (!plausible(m + e - l, l, t->h10) || allowlisted(m + start, e - start)) {
		return 0;
	}
	if ((t->flags & TOK_NOT_HEX) && all_in(m + e - l, l, CC_HEX))
		return 0;
	if (t->flags & TOK_BECH32) {
		char hrp[32];
		size_t hl = pfx != NULL ? strlen(pfx) : 0;

		if (hl < 2 || hl > sizeof(hrp) || pfx[hl - 1] != '1')
			return 0;
		memcpy(hrp, pfx, hl - 1);
		hrp[hl - 1] = '\0';
		if (!bech32_ok(hrp, m + e - l, l))
			return 0;
	}
	*off = start;
	*len = e - start;
	return 1;
}

#define TOK_RULE(fn, ...)                                                                      \
	static const struct tok_spec fn##_spec = {__VA_ARGS__};                                \
	static int fn(const uint8_t *m, size_t n, size_t *off, size_t *len)                    \
	{                                                                                      \
		return tok_find(&fn##_spec, m, n, off, len);                                   \
	}

/* ---- validators with their own shape ------------------------------------------------------ */

/* aws-secret-access-key: the 40 bytes before the boundary; a 40-hex value is a SHA-1, not this. */
TOK_RULE(v_aws_secret, .end = CC_B64PAD, .body = CC_B64, .lo = 40, .hi = 40, .h10 = 35,
    .flags = TOK_NOT_HEX)

static int pem_block(const uint8_t *m, size_t n, const char *label, size_t *off, size_t *len);

/*
 * gcp-service-account-key: a JSON key file's private_key_id (40 hex) through the end of its
 * private_key — the id tells which key to revoke, the key is the secret.
 */
static int
v_gcp_sa(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t i = find_last(m, n, "\"private_key_id\"", 0), q, po, pl;

	if (i == NOT_FOUND || !pem_block(m, n, "PRIVATE KEY", &po, &pl) || po < i)
		return 0;
	q = find_first(m, n, i + 16, "\"", 0);
	if (q == NOT_FOUND || q + 41 > n || !all_in(m + q + 1, 40, CC_HEX) ||
	    !plausible(m + q + 1, 40, 30))
		return 0;
	*off = q + 1;
	*len = n - (q + 1);
	return 1;
}

/* azure-sas-token: the sig= value, which must be a URL-encoded base64 HMAC-SHA256 (32 bytes). */
static int
v_azure_sas(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_SASSIG), s = find_last(m, e, "sig=", 0), i, dl = 0;
	uint8_t dec[48];

	if (s == NOT_FOUND)
		return 0;
	s += 4;
	for (i = s; i < e; i++) {
		uint8_t c = m[i];

		if (c == '%') {
			if (lit_at(m, e, i, "%2B", 1))
				c = '+';
			else if (lit_at(m, e, i, "%2F", 1))
				c = '/';
			else if (lit_at(m, e, i, "%3D", 1))
				c = '=';
			else
				return 0;
			i += 2;
		}
		if (dl >= sizeof(dec))
			return 0;
		dec[dl++] = c;
	}
	if (dl != 44 || dec[43] != '=' || !all_in(dec, 43, CC_B64) || !plausible(dec, 43, 40))
		return 0;
	*off = s;
	*len = e - s;
	return 1;
}

/* azure-ad-client-secret: 3 characters, a digit, "Q~", then 31-34 characters. */
static int
v_azure_ad(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_AAD), k, q;

	for (k = 34; k >= 31; k--) { /* bytes after "Q~"; the longest secret first */
		if (e < k + 6)
			continue;
		q = e - k - 2;
		if (!lit_at(m, e, q, "Q~", 0) || !is_digit(m[q - 1]) ||
		    !all_in(m + q - 4, 3, CC_AAD) || !all_in(m + q + 2, k, CC_AAD))
			continue;
		if (!plausible(m + q - 4, k + 6, 35))
			return 0;
		*off = q - 4;
		*len = k + 6;
		return 1;
	}
	return 0;
}

/* discord-bot-token: id.timestamp.hmac, where the first part is the base64 of a snowflake id. */
static int
v_discord_bot(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B64URL), r3, r2, r1, s;
	uint8_t id[32];
	long dl, i;

	r3 = run_back(m, e, CC_B64URL, 40);
	if (r3 < 27 || e < r3 + 1 || m[e - r3 - 1] != '.')
		return 0;
	r2 = run_back(m, e - r3 - 1, CC_B64URL, 6);
	if (r2 != 6 || e < r3 + 8 || m[e - r3 - 8] != '.')
		return 0;
	r1 = run_back(m, e - r3 - 8, CC_B64URL, 28);
	if (r1 < 23)
		return 0;
	s = e - r3 - 8 - r1;
	dl = b64_dec(m + s, r1, id, sizeof(id));
	if (dl < 17 || dl > 20)
		return 0;
	for (i = 0; i < dl; i++)
		if (!is_digit(id[i]))
			return 0;
	if (!plausible(m + e - r3, r3, 35))
		return 0;
	*off = s;
	*len = e - s;
	return 1;
}

/* telegram-bot-token: 8-10 digits of bot id, ':', "AA" and 33 more. */
static int
v_telegram(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B64URL), c, d;

	if (e < 35 + 1 + 8)
		return 0;
	c = e - 35 - 1;
	if (m[c] != ':' || !lit_at(m, e, c + 1, "AA", 0))
		return 0;
	d = run_back(m, c, CC_DIGIT, 10);
	if (d < 8 || !plausible(m + c + 3, 33, 35))
		return 0;
	*off = c - d;
	*len = e - (c - d);
	return 1;
}

/* twitter-bearer-token: 21+ 'A' then URL-encoded base64; the entropy is in the part after them. */
static int
v_twitter(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_PCTB62), r = run_back(m, e, CC_PCTB62, 164), s, a;

	s = e - r;
	while (r > 0 && m[s] != 'A') { /* a window may start inside a longer run: skip to the As */
		s++;
		r--;
	}
	for (a = 0; s + a < e && m[s + a] == 'A'; a++)
		;
	if (a < 21 || e - s - a < 40 || !plausible(m + s + a, e - s - a, 40))
		return 0;
	*off = s;
	*len = e - s;
	return 1;
}

/* jwt: header.payload.signature, the header JSON with "alg", the signature random-looking. */
static int
v_jwt(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B64URL), rs, rp, rh, pe, he, l;
	uint8_t hdr[1536];
	long hl;

	rs = run_back(m, e, CC_B64URL, 700);
	if (rs < 16 || e < rs + 1 || m[e - rs - 1] != '.')
		return 0;
	pe = e - rs - 1;
	rp = run_back(m, pe, CC_B64URL, 8003);
	if (rp < 5 || pe < rp + 1 || m[pe - rp - 1] != '.' || !lit_at(m, pe, pe - rp, "eyJ", 0))
		return 0;
	he = pe - rp - 1;
	rh = run_back(m, he, CC_B64URL, 2003);
	for (l = rh; l >= 13; l--) /* the leftmost "eyJ" of the run starts the header */
		if (lit_at(m, he, he - l, "eyJ", 0))
			break;
	if (l < 13)
		return 0;
	hl = b64_dec(m + he - l, l, hdr, sizeof(hdr));
	if (hl < 2 || hdr[0] != '{' || find_first(hdr, (size_t)hl, 0, "\"alg\"", 0) == NOT_FOUND)
		return 0;
	if (!plausible(m + e - rs, rs, 30) || allowlisted(m + he - l, e - (he - l)))
		return 0;
	*off = he - l;
	*len = e - (he - l);
	return 1;
}

/*
 * A PEM block that ends the window: "-----BEGIN <label>-----" (the last one) through
 * "-----END <label>-----". The body may hold base64, whitespace, header lines ("Proc-Type: ...",
 * "Version: ...") and JSON's \n escapes; "..." or any other byte means it is an illustration.
 */
static int
pem_block(const uint8_t *m, size_t n, const char *label, size_t *off, size_t *len)
{
	char begin[64], end[64];
	size_t bl, el, b, i, nb64 = 0, ls;
	int in_header = 0;

	bl = strlen(label);
	if (bl + 16 > sizeof(begin))
		return 0;
	memcpy(begin, "-----BEGIN ", 11);
	memcpy(begin + 11, label, bl);
	memcpy(begin + 11 + bl, "-----", 6);
	memcpy(end, "-----END ", 9);
	memcpy(end + 9, label, bl);
	memcpy(end + 9 + bl, "-----", 6);
	el = strlen(end);
	if (n < el || !lit_at(m, n, n - el, end, 0))
		return 0;
	b = find_last(m, n - el, begin, 0);
	if (b == NOT_FOUND)
		return 0;
	ls = b + strlen(begin); /* start of the current line */
	for (i = ls; i < n - el; i++) {
		uint8_t c;

		if (!in_header) {
			/* the body's bytes, nearly all of them: a line of base64 at a time */
			const size_t k = b64_run(m + i, n - el - i, 1);

			nb64 += k;
			if ((i += k) == n - el)
				break;
		}
		c = m[i]; /* outside base64, or in a header line */
		if (c == '\\' && i + 1 < n - el && (m[i + 1] == 'n' || m[i + 1] == 'r')) {
			i++;
			ls = i + 1;
			in_header = 0;
		} else if (c == '\n') {
			ls = i + 1;
			in_header = 0;
		} else if (in_header || is_space(c)) {
			continue;
		} else if (c == ':') {
			/* "Name-With-Dashes:" from the line start: an RFC 1421 / RFC 4880 header */
			size_t k = ls;

			while (k < i && is_space(m[k]))
				k++;
			if (k == i || !is_alpha(m[k]))
				return 0;
			for (; k < i; k++)
				if (!is_alnum(m[k]) && m[k] != '-')
					return 0;
			in_header = 1;
		} else if (c == '-') {
			continue; /* inside a header name, checked when its ':' comes */
		} else {
			return 0;
		}
	}
	if (nb64 < 64 || !plausible(m + b + strlen(begin), n - el - b - strlen(begin), 40))
		return 0;
	*off = b;
	*len = n - b;
	return 1;
}

#define PEM_RULE(fn, label)                                                                    \
	static int fn(const uint8_t *m, size_t n, size_t *off, size_t *len)                    \
	{                                                                                      \
		return pem_block(m, n, label, off, len);                                       \
	}

PEM_RULE(v_pem_rsa, "RSA PRIVATE KEY")
PEM_RULE(v_pem_ec, "EC PRIVATE KEY")
PEM_RULE(v_pem_dsa, "DSA PRIVATE KEY")
PEM_RULE(v_pem_pkcs8, "PRIVATE KEY")
PEM_RULE(v_pem_encrypted, "ENCRYPTED PRIVATE KEY")
PEM_RULE(v_pem_openssh, "OPENSSH PRIVATE KEY")
PEM_RULE(v_pem_pgp, "PGP PRIVATE KEY BLOCK")

/* putty-private-key: "PuTTY-User-Key-File-N:" (the last one) through the Private-MAC value. */
static int
v_putty(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_HEX), b = find_last(m, e, "PuTTY-User-Key-File-", 0);
	size_t mac = find_last(m, e, "Private-MAC:", 0);

	if (b == NOT_FOUND || mac == NOT_FOUND || mac < b ||
	    find_first(m, mac, b, "Private-Lines:", 0) == NOT_FOUND)
		return 0;
	for (mac += 12; mac < e && m[mac] == ' '; mac++)
		;
	if (!plausible(m + b, e - b, 40) || !plausible(m + mac, e - mac, 30))
		return 0;
	*off = b;
	*len = e - b;
	return 1;
}

/*
 * pkcs12-base64: the DER of a PFX (RFC 7292) with two-byte lengths, in base64: SEQUENCE,
 * INTEGER 3, SEQUENCE, OID 1.2.840.113549.1.7.1 (pkcs7-data), [0] — "MI?..?IBAzCC..?GCSqGSIb3DQEH
 * AaCC" — which no other common blob starts with.
 */
static int
pfx_at(const uint8_t *p, size_t n)
{
	if (n < 32 || p[0] != 'M' || p[1] != 'I' || strchr("IJKL", p[2]) == NULL ||
	    strchr("AQgw", p[5]) == NULL || !lit_at(p, n, 6, "IBAzCC", 0) || p[15] != 'G' ||
	    strchr("AEIMQUYcgkosw048", p[14]) == NULL || !lit_at(p, n, 16, "CSqGSIb3DQEHAaCC", 0))
		return 0;
	return 1;
}

static int
v_pkcs12(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B64PAD), r = run_back(m, e, CC_B64PAD, 16002), l;

	for (l = r; l >= 232; l--) {
		if (pfx_at(m + e - l, l)) {
			if (!plausible(m + e - l + 32, l - 32, 50))
				return 0;
			*off = e - l;
			*len = l;
			return 1;
		}
	}
	return 0;
}

/* ---- URIs and headers --------------------------------------------------------------------- */

static const char *const PW_PLACEHOLDERS[] = {
	"password", "passwd", "pass", "pwd", "pw", "secret", "changeme", "root", "admin",
	"postgres", "mysql", "guest", "test", "example", "redacted", "user", "username",
	"pass123", "password123", "123456", "12345678", "qwerty", "letmein", "none", "null",
};

/*
 * "$DB_PASS", "%APPDATA%", "%s", "!Ref", "@Microsoft.KeyVault", "#comment": a sigil and a name
 * (no digits, or no lower case). "!DrPG9#gV+7" or "!9Uapxw2qHqMT8Zd" is a real password, and so
 * is "#hpEtjAQXBucccrbvL": after '#' or '!' (a comment, a YAML tag, rarely a CamelCase name), 12
 * letters or more that switch case more often than every fourth letter are random. '$', '%' and
 * '@' name variables and vault references in CamelCase ("@Microsoft.KeyVault"): always names.
 */
static int
reference(const uint8_t *p, size_t n)
{
	size_t i, letters = 0, changes = 0;
	int digit = 0, lower = 0;

	if (n == 0 || strchr("$%!@#", p[0]) == NULL)
		return 0;
	for (i = 1; i < n; i++) {
		if (!is_alnum(p[i]) && strchr("_.-%", p[i]) == NULL)
			return 0;
		digit |= is_digit(p[i]);
		lower |= p[i] >= 'a' && p[i] <= 'z';
		if (is_alpha(p[i])) {
			letters++;
			if (i > 1 && is_alpha(p[i - 1]) && (p[i] >= 'a') != (p[i - 1] >= 'a'))
				changes++;
		}
	}
	if ((p[0] == '#' || p[0] == '!') && !digit && lower && letters >= 12 &&
	    changes * 4 > letters)
		return 0;
	return !digit || !lower;
}

/* A password that is a placeholder, a variable reference, a default, or the user name again. */
static int
pw_placeholder(const uint8_t *p, size_t n, const uint8_t *user, size_t un)
{
	size_t i, k;

	if (n < 4 || placeholder(p, n) || has_runs(p, n, n))
		return 1; /* has_runs(p, n, n): the whole value is one run ("aaaa", "1234") */
	if (strchr("<{[:", p[0]) != NULL || reference(p, n))
		return 1;
	for (i = 0; i < VT_NELEM(PW_PLACEHOLDERS); i++)
		if (strlen(PW_PLACEHOLDERS[i]) == n && lit_at(p, n, 0, PW_PLACEHOLDERS[i], 1))
			return 1;
	if (un == n) {
		for (k = 0; k < n && to_lower(p[k]) == to_lower(user[k]); k++)
			;
		if (k == n)
			return 1;
	}
	return 0;
}

/*
 * scheme://user:password@ — the window ends at the '@'. Finds the last "://" and splits the
 * userinfo at its first ':'. Returns the offsets of the scheme, the user and the password.
 */
static int
uri_userinfo(const uint8_t *m, size_t n, size_t *scheme, size_t *user, size_t *colon)
{
	size_t s, c;

	if (n < 6 || m[n - 1] != '@')
		return 0;
	s = find_last(m, n - 1, "://", 0);
	if (s == NOT_FOUND)
		return 0;
	c = find_first(m, n - 1, s + 3, ":", 0);
	if (c == NOT_FOUND || c + 1 >= n - 1)
		return 0;
	*scheme = s - run_back(m, s, CC_SCHEME, 32);
	while (*scheme < s && !is_alpha(m[*scheme]))
		(*scheme)++;
	*user = s + 3;
	*colon = c;
	return 1;
}

static int
v_uri_password(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t sch, u, c;

	if (!uri_userinfo(m, n, &sch, &u, &c))
		return 0;
	if (pw_placeholder(m + c + 1, n - 2 - c, m + u, c - u))
		return 0;
	*off = c + 1;
	*len = n - 2 - c;
	return 1;
}

/* Schemes whose URIs the database rules own. */
static const char *const DB_SCHEMES[] = {
	"postgres", "postgresql", "mysql", "mariadb", "mysqlx", "mongodb", "redis", "rediss",
	"amqp", "amqps",
};

static int
v_basic_auth_url(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t sch, u, c, i, sl, pl;

	if (!uri_userinfo(m, n, &sch, &u, &c))
		return 0;
	for (sl = 0; sch + sl < u - 3 && m[sch + sl] != '+'; sl++)
		;
	for (i = 0; i < VT_NELEM(DB_SCHEMES); i++)
		if (strlen(DB_SCHEMES[i]) == sl && lit_at(m, n, sch, DB_SCHEMES[i], 1))
			return 0;
	pl = n - 2 - c;
	/* a Sentry DSN with its secret key is sentry-dsn-secret's */
	if (c - u == 32 && pl == 32 && all_in(m + u, 32, CC_HEX) && all_in(m + c + 1, 32, CC_HEX))
		return 0;
	if (vendor_prefixed(m + c + 1, pl) || pw_placeholder(m + c + 1, pl, m + u, c - u))
		return 0;
	*off = c + 1;
	*len = pl;
	return 1;
}

/* sentry-dsn-secret: https://<public key>:<secret key>@host/project — the secret key. */
static int
v_sentry_dsn(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t s = find_last(m, n, "://", 0);

	if (s == NOT_FOUND || s + 3 + 66 > n || m[s + 3 + 32] != ':' ||
	    !all_in(m + s + 36, 32, CC_HEX) || !plausible(m + s + 36, 32, 30))
		return 0;
	*off = s + 36;
	*len = 32;
	return 1;
}

/* http-bearer-token: the credential after "Bearer"; JWTs and vendor tokens have their own rules. */
static int
v_bearer(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_BEARER), r = run_back(m, e, CC_BEARER, 4096), s = e - r;
	size_t b = skip_blank_back(m, s);

	if (b < 6 || b == s || !lit_at(m, e, b - 6, "bearer", 1) || r < 20)
		return 0;
	if (vendor_prefixed(m + s, r) || !plausible(m + s, r, 30))
		return 0;
	*off = s;
	*len = r;
	return 1;
}

/* http-basic-auth-header: base64 of "user:password" with a real password. */
static int
v_basic_header(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B64PAD), r = run_back(m, e, CC_B64PAD, 1024), s = e - r;
	size_t b = skip_blank_back(m, s), c;
	uint8_t dec[800];
	long dl, i;

	if (b < 5 || b == s || !lit_at(m, e, b - 5, "basic", 1))
		return 0;
	dl = b64_dec(m + s, r, dec, sizeof(dec));
	if (dl < 3)
		return 0;
	for (i = 0; i < dl; i++)
		if (dec[i] < 0x20 || dec[i] == 0x7f)
			return 0;
	c = find_first(dec, (size_t)dl, 0, ":", 0);
	if (c == NOT_FOUND || pw_placeholder(dec + c + 1, (size_t)dl - c - 1, dec, c))
		return 0;
	*off = s;
	*len = r;
	return 1;
}

/* netrc-password: the word after the last "password" of a machine/default entry. */
static int
v_netrc(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_NOSPACE), r = run_back(m, e, CC_NOSPACE, 256), s = e - r;
	size_t b = skip_blank_back(m, s), u, ue;

	if (b < 8 || b == s || !lit_at(m, e, b - 8, "password", 0))
		return 0;
	u = find_last(m, b - 8, "login", 0);
	if (u == NOT_FOUND)
		return 0;
	for (u += 5; u < b - 8 && is_space(m[u]); u++)
		;
	for (ue = u; ue < b - 8 && !is_space(m[ue]); ue++)
		;
	if (pw_placeholder(m + s, r, m + u, ue - u))
		return 0;
	*off = s;
	*len = r;
	return 1;
}

/* docker-config-auth: "auth": "<base64 of user:password>" in ~/.docker/config.json. */
static int
v_docker_auth(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B64PAD), r = run_back(m, e, CC_B64PAD, 1024), s = e - r, c;
	uint8_t dec[800];
	long dl, i;

	dl = b64_dec(m + s, r, dec, sizeof(dec));
	if (dl < 3)
		return 0;
	for (i = 0; i < dl; i++)
		if (dec[i] < 0x20 || dec[i] == 0x7f)
			return 0;
	c = find_first(dec, (size_t)dl, 0, ":", 0);
	if (c == NOT_FOUND || c == 0 || pw_placeholder(dec + c + 1, (size_t)dl - c - 1, dec, c))
		return 0;
	*off = s;
	*len = r;
	return 1;
}

/* npmrc-auth-token: the value of :_authToken= / :_auth= / :_password= in an .npmrc. */
static int
v_npmrc(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_NOSPACE), k = find_last(m, e, ":_", 0), s;

	if (k == NOT_FOUND)
		return 0;
	s = find_first(m, e, k, "=", 0);
	if (s == NOT_FOUND)
		return 0;
	s++;
	if (s < e && (m[s] == '"' || m[s] == '\''))
		s++;
	if (s >= e || e - s < 8 || !all_in(m + s, e - s, CC_NOSPACE) ||
	    vendor_prefixed(m + s, e - s) || !plausible(m + s, e - s, 30) ||
	    strchr("$%<{", m[s]) != NULL)
		return 0;
	*off = s;
	*len = e - s;
	return 1;
}

/* ---- generic key = value assignments ------------------------------------------------------ */

/*
 * Key names that a vendor rule with a context keyword owns, and the generic keywords in order of
 * precedence: a key holding two keywords ("secret_token") is reported once, by the first.
 */
static const char *const VENDOR_KEYS[] = {
	"aws", "twilio", "cloudflare", "cf_", "fastly", "vercel", "netlify", "okta", "heroku",
	"mailgun", "discord", "square", "vault", "npm", "_authtoken", "authorization",
};

enum gen_kind { GEN_PASSWORD, GEN_SECRET, GEN_APIKEY, GEN_TOKEN, GEN_NKINDS };

static const char *const GEN_KEYWORDS[GEN_NKINDS][4] = {
	[GEN_PASSWORD] = {"password", "passwd", "passphrase", "pass"},
	[GEN_SECRET] = {"secret", "encryption", "signing", "master"},
	[GEN_APIKEY] = {"api_key", "api-key", "apikey", "api.key"},
	[GEN_TOKEN] = {"token", NULL},
};

/* What in a key name makes an earlier kind report it ("db_password_token" is a password). */
static const char *const GEN_PRECEDENCE[GEN_NKINDS][4] = {
	[GEN_PASSWORD] = {"passw", "passphrase", NULL},
	[GEN_SECRET] = {"secret", NULL},
	[GEN_APIKEY] = {"api_key", "api-key", "apikey", "api.key"},
};

static int
is_ident(unsigned c)
{
	return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* The key name around [k, ke): the identifier run it sits in. */
static int
key_has(const uint8_t *m, size_t n, size_t k, size_t ke, const char *w)
{
	size_t a = k, z = ke;

	while (a > 0 && is_ident(m[a - 1]))
		a--;
	while (z < n && is_ident(m[z]))
		z++;
	return find_first(m, z, a, w, 1) != NOT_FOUND;
}

/*
 * The key name around [k, ke) lower-cased once, for the many key_has questions a candidate asks
 * (the words asked are lower case); a key longer than the buffer falls back to key_has.
 */
struct key_view {
	const uint8_t *m;
	size_t n, k, ke, len;
	int copied;
	uint8_t low[256];
};

static void
key_view_init(struct key_view *v, const uint8_t *m, size_t n, size_t k, size_t ke)
{
	size_t a = k, z = ke, i;

	while (a > 0 && is_ident(m[a - 1]))
		a--;
	while (z < n && is_ident(m[z]))
		z++;
	v->m = m;
	v->n = n;
	v->k = k;
	v->ke = ke;
	v->copied = z - a <= sizeof(v->low);
	v->len = v->copied ? z - a : 0;
	for (i = 0; i < v->len; i++)
		v->low[i] = (uint8_t)to_lower(m[a + i]);
}

static int
key_view_has(const struct key_view *v, const char *w)
{
	if (!v->copied)
		return key_has(v->m, v->n, v->k, v->ke, w);
	return contains(v->low, v->len, w, strlen(w));
}

/* VENDOR_KEYS by first byte (a bit per word) and their lengths: one pass over a key name. */
static uint32_t VENDOR_BY_FIRST[256];
static uint8_t VENDOR_LEN[VT_NELEM(VENDOR_KEYS)];
/* the bytes (either case) a keyword of each kind starts with: gen_assign's scan for them */
static uint8_t GEN_FIRST[GEN_NKINDS][256];
/* the same first bytes, lower-case letters (checked), the first repeated to fill 4 */
static uint8_t GEN_FIRST_LOW[GEN_NKINDS][4];

__attribute__((constructor)) static void
vendor_tables_init(void)
{
	size_t k, w;

	VT_ASSERT(VT_NELEM(VENDOR_KEYS) <= 32);
	for (k = 0; k < VT_NELEM(VENDOR_KEYS); k++) {
		VENDOR_BY_FIRST[(uint8_t)VENDOR_KEYS[k][0]] |= 1u << k;
		VENDOR_LEN[k] = (uint8_t)strlen(VENDOR_KEYS[k]);
	}
	for (k = 0; k < GEN_NKINDS; k++) {
		for (w = 0; w < 4 && GEN_KEYWORDS[k][w] != NULL; w++) {
			const uint8_t c = (uint8_t)GEN_KEYWORDS[k][w][0];

			VT_ASSERT(c >= 'a' && c <= 'z');
			GEN_FIRST_LOW[k][w] = c;
			GEN_FIRST[k][c] = 1;
			GEN_FIRST[k][c - 'a' + 'A'] = 1;
		}
		for (; w < 4; w++)
			GEN_FIRST_LOW[k][w] = GEN_FIRST_LOW[k][0];
	}
}

/* 1 if the key name holds one of VENDOR_KEYS (key_view_has of each, in one pass). */
static int
key_view_vendor(const struct key_view *v)
{
	size_t i, j, l;

	if (!v->copied) {
		for (j = 0; j < VT_NELEM(VENDOR_KEYS); j++)
			if (key_view_has(v, VENDOR_KEYS[j]))
				return 1;
		return 0;
	}
	for (i = 0; i < v->len; i++) {
		uint32_t words = VENDOR_BY_FIRST[v->low[i]];

		for (; words != 0; words &= words - 1) {
			const char *w = VENDOR_KEYS[__builtin_ctz(words)];

			l = VENDOR_LEN[__builtin_ctz(words)];
			if (l > v->len - i)
				continue;
			for (j = 1; j < l && v->low[i + j] == (uint8_t)w[j]; j++)
				;
			if (j == l)
				return 1;
		}
	}
	return 0;
}

/* Parses "<keyword><ident>{0,24}['"]?[ \t]*(:=|=>|:|=)[ \t]*['"]?" at k; the value start or 0. */
static size_t
assign_value_start(const uint8_t *m, size_t n, size_t k, size_t kl)
{
	size_t i = k + kl, t = 0;

	while (i < n && t < 24 && is_ident(m[i])) {
		i++;
		t++;
	}
	if (i < n && (m[i] == '"' || m[i] == '\''))
		i++;
	for (t = 0; i < n && t < 4 && (m[i] == ' ' || m[i] == '\t'); t++)
		i++;
	if (i + 1 < n && ((m[i] == ':' && m[i + 1] == '=') || (m[i] == '=' && m[i + 1] == '>')))
		i += 2;
	else if (i < n && (m[i] == ':' || m[i] == '='))
		i++;
	else
		return 0;
	for (t = 0; i < n && t < 4 && (m[i] == ' ' || m[i] == '\t'); t++)
		i++;
	if (i < n && (m[i] == '"' || m[i] == '\''))
		i++;
	return i;
}

/* Counts the kinds of characters (lower, upper, digit, other) in a value. */
static int
char_kinds(const uint8_t *p, size_t n)
{
	int lo = 0, up = 0, di = 0, ot = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] >= 'a' && p[i] <= 'z')
			lo = 1;
		else if (p[i] >= 'A' && p[i] <= 'Z')
			up = 1;
		else if (is_digit(p[i]))
			di = 1;
		else
			ot = 1;
	}
	return lo + up + di + ot;
}

/*
 * A file path: "/", "./", "../" or "~/" first, then path bytes in segments of at most 24 — a
 * base64 value that happens to start with '/' has a longer run between its slashes.
 */
static int
looks_like_path(const uint8_t *p, size_t n)
{
	size_t i, seg = 0;

	if (!(p[0] == '/' || lit_at(p, n, 0, "./", 0) || lit_at(p, n, 0, "../", 0) ||
		lit_at(p, n, 0, "~/", 0)))
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] == '/') {
			seg = 0;
			continue;
		}
		if (!is_alnum(p[i]) && strchr("._-~", p[i]) == NULL)
			return 0;
		if (++seg > 24)
			return 0;
	}
	return 1;
}

/* How often a run of letters switches between lower and upper case ("secretRef": 2). */
static size_t
case_changes(const uint8_t *p, size_t n)
{
	size_t i, c = 0;

	for (i = 1; i < n; i++)
		if (is_alpha(p[i]) && is_alpha(p[i - 1]) &&
		    (p[i] >= 'a') != (p[i - 1] >= 'a'))
			c++;
	return c;
}

/* A value that is code or configuration plumbing rather than a secret. */
static int
not_a_secret_value(const uint8_t *p, size_t n)
{
	size_t i;
	int digits = 0, letters_only = 1, punct = 0;

	if (reference(p, n) || looks_like_path(p, n) || find_first(p, n, 0, "://", 0) != NOT_FOUND)
		return 1; /* a variable, a YAML tag, a reference, a comment, a path, a URL */
	for (i = 0; i < n; i++) {
		if (is_digit(p[i]))
			digits = 1;
		else if (p[i] == '_' || p[i] == '.' || p[i] == '-')
			punct = 1;
		else if (!is_alpha(p[i]))
			letters_only = 0;
	}
	if (letters_only && !digits && (punct || case_changes(p, n) <= 3))
		return 1; /* an identifier: self.password, user_password, secretRef */
	for (i = 0; i < n && (is_ident(p[i]) || p[i] == '.'); i++)
		;
	if (i > 0 && i < n && (p[i] == '(' || p[i] == '[') && is_alpha(p[0]))
		return 1; /* code: getpass(), os.environ["X"], config.get(...) */
	if (all_in(p, n, CC_DIGIT))
		return 1; /* a number: a port, an id, a timeout */
	return char_kinds(p, n) < 2;
}

/*
 * gen_assign at one position k where a keyword of the kind may start: -1 when no keyword's
 * assignment there reaches exactly e (look further left), else gen_assign's answer.
 */
static int
gen_at(enum gen_kind kind, size_t min_len, unsigned h10, const uint8_t *m, size_t e, size_t k,
    size_t *off, size_t *len)
{
	struct key_view kv;
	size_t v, j;
	int w, g;

	for (w = 0; w < 4 && GEN_KEYWORDS[kind][w] != NULL; w++) {
		const char *kw = GEN_KEYWORDS[kind][w];

		if (to_lower(m[k]) != (uint8_t)kw[0] || !lit_at(m, e, k, kw, 1))
			continue;
		/* bare "pass" only as a whole part of a key: SMTP_PASS, not bypass */
		if (strlen(kw) == 4 && ((k > 0 && is_alpha(m[k - 1])) ||
			(k + 4 < e && is_alpha(m[k + 4]))))
			continue;
		v = assign_value_start(m, e, k, strlen(kw));
		if (v == 0 || v >= e || e - v < min_len || e - v > 128 ||
		    !all_in(m + v, e - v, CC_VALUE))
			continue;
		key_view_init(&kv, m, e, k, k + strlen(kw));
		if (key_view_vendor(&kv))
			return 0;
		/* SecretAccessKey: 40 bytes of base64 are aws-secret-access-key's */
		if (e - v == 40 && all_in(m + v, 40, CC_B64) &&
		    (key_view_has(&kv, "accesskey") || key_view_has(&kv, "access_key") ||
			key_view_has(&kv, "access-key")))
			return 0;
		for (g = 0; g < (int)kind; g++)
			for (j = 0; j < 4 && GEN_PRECEDENCE[g][j] != NULL; j++)
				if (key_view_has(&kv, GEN_PRECEDENCE[g][j]))
					return 0;
		if (vendor_prefixed(m + v, e - v) || not_a_secret_value(m + v, e - v) ||
		    !plausible(m + v, e - v, h10))
			return 0;
		/* "password123", "my-secret-token": the keyword again is a placeholder */
		for (j = 0; j < 4 && GEN_KEYWORDS[kind][j] != NULL; j++) {
			const char *kw2 = GEN_KEYWORDS[kind][j];

			if (strlen(kw2) >= 5 && find_first(m + v, e - v, 0, kw2, 1) != NOT_FOUND)
				return 0;
		}
		*off = v;
		*len = e - v;
		return 1;
	}
	return -1;
}

/*
 * The last position before k whose byte starts a keyword of the kind (GEN_FIRST), or NOT_FOUND:
 * 16 bytes at a time (a first byte is a lower-case letter, so c | 0x20 equal to it is the letter
 * in either case), then byte by byte.
 */
static size_t
gen_prev(enum gen_kind kind, const uint8_t *m, size_t k)
{
#ifdef __SSE2__
	const __m128i x20 = _mm_set1_epi8(0x20);
	const __m128i f0 = _mm_set1_epi8((char)GEN_FIRST_LOW[kind][0]);
	const __m128i f1 = _mm_set1_epi8((char)GEN_FIRST_LOW[kind][1]);
	const __m128i f2 = _mm_set1_epi8((char)GEN_FIRST_LOW[kind][2]);
	const __m128i f3 = _mm_set1_epi8((char)GEN_FIRST_LOW[kind][3]);

	for (; k >= 16; k -= 16) {
		const __m128i l = _mm_or_si128(_mm_loadu_si128((const __m128i *)(m + k - 16)), x20);
		const unsigned int bits = (unsigned int)_mm_movemask_epi8(
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(l, f0), _mm_cmpeq_epi8(l, f1)),
		    _mm_or_si128(_mm_cmpeq_epi8(l, f2), _mm_cmpeq_epi8(l, f3))));

		if (bits != 0)
			return k - 16 + (31u - (unsigned int)__builtin_clz(bits));
	}
#endif
	while (k-- > 0)
		if (GEN_FIRST[kind][m[k]])
			return k;
	return NOT_FOUND;
}

size_t
scan_rules_gen_prev(int kind, const uint8_t *m, size_t k)
{
	return gen_prev((enum gen_kind)kind, m, k);
}

static int
gen_assign(enum gen_kind kind, size_t min_len, unsigned h10, const uint8_t *m, size_t n,
    size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_VALUE), k = e;
	int r;

	/* the rightmost keyword whose assignment reaches exactly the end of the value */
	while ((k = gen_prev(kind, m, k)) != NOT_FOUND)
		if ((r = gen_at(kind, min_len, h10, m, e, k, off, len)) >= 0)
			return r;
	return 0;
}

static int
v_gen_password(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	return gen_assign(GEN_PASSWORD, 8, 30, m, n, off, len);
}

static int
v_gen_secret(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	return gen_assign(GEN_SECRET, 12, 33, m, n, off, len);
}

static int
v_gen_apikey(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	return gen_assign(GEN_APIKEY, 16, 33, m, n, off, len);
}

static int
v_gen_token(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	return gen_assign(GEN_TOKEN, 16, 33, m, n, off, len);
}

/* ---- Kubernetes ---------------------------------------------------------------------------- */

/* One line of YAML: [s, e) without the newline; indentation counts "- " as spaces. */
struct yline {
	size_t s, e, ind;
};

/* The line that ends just before position 'end' (end is a line start or the window end). */
static int
yline_before(const uint8_t *m, size_t end, struct yline *l)
{
	size_t s, i;

	if (end == 0)
		return 0;
	l->e = end;
	if (m[l->e - 1] == '\n')
		l->e--;
	if (l->e > 0 && m[l->e - 1] == '\r')
		l->e--;
	for (s = l->e; s > 0 && m[s - 1] != '\n'; s--)
		;
	l->s = s;
	for (i = s; i < l->e && (m[i] == ' ' || (m[i] == '-' && i + 1 < l->e && m[i + 1] == ' '));)
		i++;
	l->ind = i - s;
	return 1;
}

/* "key:" + rest on a line: the key must be a YAML plain key; returns the offset after ':' or 0. */
static size_t
yline_key(const uint8_t *m, const struct yline *l, const char *key)
{
	size_t i = l->s + l->ind;

	if (key != NULL)
		return lit_at(m, l->e, i, key, 0) && i + strlen(key) < l->e &&
		    m[i + strlen(key)] == ':' ? i + strlen(key) + 1 : 0;
	while (i < l->e && (is_ident(m[i])))
		i++;
	return i > l->s + l->ind && i < l->e && m[i] == ':' ? i + 1 : 0;
}

static int
blank_from(const uint8_t *m, size_t i, size_t e)
{
	for (; i < e; i++)
		if (m[i] != ' ' && m[i] != '\t')
			return 0;
	return 1;
}

/* A base64 value (data: entries): the standard alphabet, padded, a multiple of 4. */
static int
b64_strict(const uint8_t *p, size_t n)
{
	size_t pad = 0;

	while (pad < 2 && pad < n && p[n - 1 - pad] == '=')
		pad++;
	return n > 0 && n % 4 == 0 && all_in(p, n - pad, CC_B64);
}

/* The line that starts at s (no further than e). */
static void
yline_at(const uint8_t *m, size_t e, size_t s, struct yline *l)
{
	size_t i;

	l->s = s;
	for (l->e = s; l->e < e && m[l->e] != '\n'; l->e++)
		;
	if (l->e > s && m[l->e - 1] == '\r')
		l->e--;
	for (i = s; i < l->e && (m[i] == ' ' || (m[i] == '-' && i + 1 < l->e && m[i + 1] == ' '));)
		i++;
	l->ind = i - s;
}

/* The value of a "key: value" line without blanks and quotes: [*vs, *ve). */
static void
yline_value(const uint8_t *m, const struct yline *l, size_t k, size_t *vs, size_t *ve)
{
	size_t a = k, z = l->e;

	while (a < z && (m[a] == ' ' || m[a] == '\t'))
		a++;
	while (z > a && (m[z - 1] == ' ' || m[z - 1] == '\t'))
		z--;
	if (z - a >= 2 && (m[a] == '"' || m[a] == '\'') && m[z - 1] == m[a]) {
		a++;
		z--;
	}
	*vs = a;
	*ve = z;
}

/*
 * A data: value that holds a secret: base64 that is not a placeholder ("REDACTED", "xxxx..."
 * are valid base64 too) and does not decode to one (base64 of "changeme").
 */
static int
k8s_real_value(const uint8_t *p, size_t n)
{
	uint8_t dec[96];
	long dl, i;

	if (!b64_strict(p, n) || placeholder(p, n))
		return 0;
	if (n > 128)
		return 1;
	dl = b64_dec(p, n, dec, sizeof(dec));
	if (dl <= 0)
		return 0;
	for (i = 0; i < dl; i++)
		if (dec[i] < 0x20 || dec[i] >= 0x7f)
			return 1; /* binary: a key, not a word */
	return !placeholder(dec, (size_t)dl) && !pw_placeholder(dec, (size_t)dl, NULL, 0);
}

/*
 * kubernetes-secret-yaml: `kubectl get secret -o yaml` prints keys in order, so the data: block
 * comes before "kind: Secret". The match ends at that kind line; every line between the last
 * "data:" and it must be a "key: base64" entry (or "immutable:" beside data:). The secret is the
 * span of the values, first to last.
 */
static int
v_k8s_yaml(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	struct yline kl, l;
	size_t e = n, first = NOT_FOUND, last = 0, pos, k, vs, ve, ind = 0;
	int found = 0, real = 0;

	if (e > 0 && !is_alnum(m[e - 1]))
		e--;
	if (e < 6 || !lit_at(m, e, e - 6, "Secret", 0) || !yline_before(m, e, &kl) ||
	    !yline_key(m, &kl, "kind"))
		return 0;
	for (pos = kl.s; !found && yline_before(m, pos, &l); pos = l.s) {
		if (l.ind == kl.ind) {
			if ((k = yline_key(m, &l, "data")) != 0 && blank_from(m, k, l.e))
				found = 1;
			else if (yline_key(m, &l, "immutable") == 0 || first != NOT_FOUND)
				return 0;
			continue;
		}
		if (l.ind < kl.ind || (ind != 0 && l.ind != ind))
			return 0;
		if ((k = yline_key(m, &l, NULL)) == 0)
			return 0;
		ind = l.ind;
		yline_value(m, &l, k, &vs, &ve);
		if (vs == ve)
			continue;
		if (!b64_strict(m + vs, ve - vs))
			return 0;
		if (!real) /* one real value is enough: a long one costs passes over it */
			real = k8s_real_value(m + vs, ve - vs);
		if (last == 0)
			last = ve;
		first = vs;
	}
	if (!found || first == NOT_FOUND || real == 0)
		return 0;
	*off = first;
	*len = last - first;
	return 1;
}

/*
 * kubernetes-secret-manifest: the data: or stringData: block of a manifest whose "kind: Secret"
 * comes first. The match ends with the block's last entry; walking up: the entries (one
 * indentation), the block header, then the object's lines up to "kind: Secret" — with no document
 * or list-item boundary in between. The secret is the span of the values, first to last.
 */
static int
v_k8s_entry(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	struct yline l, hl;
	size_t e = n, pos, k, ind = 0, vs, ve, first = NOT_FOUND, last = 0, hdr_ind;
	int string_data = -1, found = 0, real = 0;

	while (e > 0 && (m[e - 1] == '\n' || m[e - 1] == '\r'))
		e--;
	/* the entries, bottom up, to their block header */
	for (pos = e; yline_before(m, pos, &l); pos = l.s) {
		k = yline_key(m, &l, "data");
		if (k == 0)
			k = yline_key(m, &l, "stringData");
		if (k != 0 && blank_from(m, k, l.e) && ind > l.ind) {
			string_data = m[l.s + l.ind] == 's';
			break;
		}
		if (l.ind == 0 || (ind != 0 && l.ind != ind) || yline_key(m, &l, NULL) == 0)
			return 0;
		ind = l.ind;
	}
	if (string_data < 0)
		return 0;
	hl = l;
	hdr_ind = l.ind;
	/* up through the object to its "kind: Secret", within one document and one list item */
	for (pos = l.s; yline_before(m, pos, &l); pos = l.s) {
		if (lit_at(m, l.e, l.s, "---", 0) || l.ind < hdr_ind)
			return 0;
		if (l.ind > hdr_ind)
			continue;
		if ((k = yline_key(m, &l, "kind")) != 0) {
			while (k < l.e && m[k] == ' ')
				k++;
			if (l.e - k != 6 || !lit_at(m, l.e, k, "Secret", 0))
				return 0;
			found = 1;
			break;
		}
		if (l.ind >= 2 && m[l.s + l.ind - 2] == '-')
			return 0; /* "- apiVersion": this list item has no kind: Secret above */
	}
	if (!found)
		return 0;
	/* the values, top down */
	for (pos = hl.e; pos < e && m[pos] != '\n'; pos++)
		;
	for (pos++; pos < e; pos = l.e + 1) {
		yline_at(m, e, pos, &l);
		if ((k = yline_key(m, &l, NULL)) == 0)
			return 0;
		yline_value(m, &l, k, &vs, &ve);
		if (l.e < e && m[l.e] == '\r')
			l.e++;
		if (vs == ve)
			continue;
		if (string_data ? !pw_placeholder(m + vs, ve - vs, NULL, 0)
				: k8s_real_value(m + vs, ve - vs))
			real++;
		else if (!string_data)
			return 0;
		if (first == NOT_FOUND)
			first = vs;
		last = ve;
	}
	if (real == 0 || first == NOT_FOUND)
		return 0;
	*off = first;
	*len = last - first;
	return 1;
}

/* kubernetes-secret-json: `kubectl get secret -o json`: "data": {...}, "kind": "Secret". */
static int
v_k8s_json(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t k = find_last(m, n, "\"kind\"", 0), close, open, d, s, e, i, q;
	int real = 0;

	if (k == NOT_FOUND || n < 8 || !lit_at(m, n, n - 8, "\"Secret\"", 0))
		return 0;
	for (close = k; close > 0 && m[close - 1] != '}'; close--)
		if (!is_space(m[close - 1]) && m[close - 1] != ',')
			return 0;
	if (close == 0)
		return 0;
	close--;
	for (open = close; open > 0 && m[open - 1] != '{'; open--)
		if (m[open - 1] == '}')
			return 0;
	if (open == 0)
		return 0;
	open--;
	d = skip_blank_back(m, open);
	while (d > 0 && is_space(m[d - 1]))
		d--;
	if (d == 0 || m[d - 1] != ':')
		return 0;
	d--;
	while (d > 0 && is_space(m[d - 1]))
		d--;
	if (d < 6 || !lit_at(m, d, d - 6, "\"data\"", 0))
		return 0;
	for (s = open + 1; s < close && is_space(m[s]); s++)
		;
	for (e = close; e > s && is_space(m[e - 1]); e--)
		;
	if (e - s < 8 || m[s] != '"' || m[e - 1] != '"')
		return 0;
	/* "key": "value" pairs: one real value at least (the rest need not be read) */
	for (i = s; i < e && !real; i = q + 1) {
		size_t v0, v1;

		v0 = find_first(m, e, i, ":", 0);
		if (v0 == NOT_FOUND)
			break;
		v0 = find_first(m, e, v0, "\"", 0);
		v1 = v0 == NOT_FOUND ? NOT_FOUND : find_first(m, e, v0 + 1, "\"", 0);
		if (v1 == NOT_FOUND)
			break;
		real = k8s_real_value(m + v0 + 1, v1 - v0 - 1);
		q = v1;
	}
	if (real == 0)
		return 0;
	*off = s;
	*len = e - s;
	return 1;
}

/* ---- small validators of particular shapes ------------------------------------------------- */

/* heroku-api-key-legacy: a UUID after a HEROKU_* key. */
static int
v_heroku_legacy(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B62), s, i;

	if (e < 36)
		return 0;
	s = e - 36;
	for (i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? m[s + i] != '-' : !is_hex(m[s + i]))
			return 0;
	if (!plausible(m + s, 36, 30))
		return 0;
	*off = s;
	*len = 36;
	return 1;
}

TOK_RULE(v_netlify_nfp, .pfx = {"nfp_"}, .end = CC_B64URL, .body = CC_B62, .lo = 36, .hi = 36,
    .h10 = 35)
TOK_RULE(v_netlify_ctx, .end = CC_B64URL, .body = CC_B64URL, .lo = 43, .hi = 43, .h10 = 35)

/* netlify-token: an nfp_ personal access token, or a 43-byte value after a NETLIFY_* key. */
static int
v_netlify(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	return v_netlify_nfp(m, n, off, len) || v_netlify_ctx(m, n, off, len);
}

/* fcm-server-key: AAAA + 7, ':', APA91b + 120-160 (a legacy Firebase Cloud Messaging key). */
static int
v_fcm(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B64URL), c = find_last(m, e, ":APA91b", 0);

	if (c == NOT_FOUND || c < 11 || !lit_at(m, e, c - 11, "AAAA", 0) ||
	    !plausible(m + c + 7, e - c - 7, 40))
		return 0;
	*off = c - 11;
	*len = e - (c - 11);
	return 1;
}

/* terraform-cloud-token: 14 alphanumerics, ".atlasv1.", 60-70 more. */
static int
v_terraform(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B64URL), r = run_back(m, e, CC_B64URL, 70), s;

	if (r < 60 || e < r + 9 + 14 || !lit_at(m, e, e - r - 9, ".atlasv1.", 0))
		return 0;
	s = e - r - 9 - 14;
	if (!all_in(m + s, 14, CC_B62) || !plausible(m + e - r, r, 40))
		return 0;
	*off = s;
	*len = e - s;
	return 1;
}

/* mailgun-api-key: key-<32 hex> (older keys) or <32 hex>-<8 hex>-<8 hex>. */
static int
v_mailgun(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B62), s;

	if (e >= 36 && lit_at(m, e, e - 36, "key-", 0) && all_in(m + e - 32, 32, CC_HEX))
		s = e - 36;
	else if (e >= 50 && m[e - 9] == '-' && m[e - 18] == '-' && all_in(m + e - 8, 8, CC_HEX) &&
	    all_in(m + e - 17, 8, CC_HEX) && all_in(m + e - 50, 32, CC_HEX))
		s = e - 50;
	else
		return 0;
	if (!plausible(m + s, e - s, 30))
		return 0;
	*off = s;
	*len = e - s;
	return 1;
}

/* mailchimp-api-key: <32 hex>-us<datacenter>. */
static int
v_mailchimp(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B62), d = run_back(m, e, CC_DIGIT, 2), s;

	if (d == 0 || e < d + 3 + 32 || !lit_at(m, e, e - d - 3, "-us", 0))
		return 0;
	s = e - d - 3 - 32;
	if (!all_in(m + s, 32, CC_HEX) || !plausible(m + s, 32, 30))
		return 0;
	*off = s;
	*len = e - s;
	return 1;
}

/* braintree-access-token: access_token$production$<16>$<32 hex>. */
static int
v_braintree(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	static const char pfx[] = "access_token$production$";
	size_t e = strip_tail(m, n, CC_B62), pl = sizeof(pfx) - 1, s;

	if (e < pl + 16 + 1 + 32 || m[e - 33] != '$' || !all_in(m + e - 32, 32, CC_HEX))
		return 0;
	s = e - 33 - 16 - pl;
	if (!lit_at(m, e, s, pfx, 0) || !plausible(m + e - 32, 32, 30))
		return 0;
	*off = s;
	*len = e - s;
	return 1;
}

TOK_RULE(v_openai_tok, .pfx = {"sk-"}, .end = CC_B64URL, .body = CC_B64URL, .lo = 40,
    .hi = 430, .h10 = 40)

/* openai-api-key: sk-[proj-|svcacct-|admin-]... with "T3BlbkFJ" (base64 of "OpenAI") inside. */
static int
v_openai(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	if (!v_openai_tok(m, n, off, len))
		return 0;
	return find_first(m, *off + *len, *off, "T3BlbkFJ", 0) != NOT_FOUND;
}

/* dynatrace-token: dt0<letter><2 digits>.<24>.<64>, upper-case alphanumerics. */
static int
v_dynatrace(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t e = strip_tail(m, n, CC_B62), s;

	if (e < 96 || m[e - 65] != '.' || m[e - 90] != '.')
		return 0;
	s = e - 96;
	if (!lit_at(m, e, s, "dt0", 0) || !is_alpha(m[s + 3]) || !is_digit(m[s + 4]) ||
	    !is_digit(m[s + 5]) || !plausible(m + e - 64, 64, 40))
		return 0;
	*off = s;
	*len = e - s;
	return 1;
}

/* ---- prefix tokens --------------------------------------------------------------------------- */

TOK_RULE(v_aws_akid, .pfx = {"AKIA", "ASIA", "ABIA", "ACCA"}, .body = CC_B62, .lo = 16,
    .hi = 16, .h10 = 25)
TOK_RULE(v_aws_session, .pfx = {"IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzE"}, .end = CC_B64PAD,
    .body = CC_B64PAD, .lo = 100, .hi = 4002, .h10 = 45)
TOK_RULE(v_gcp_sa_b64, .pfx = {"ewogICJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCIs",
    "eyJ0eXBlIjoic2VydmljZV9hY2NvdW50Iiw", "eyJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCIs"},
    .end = CC_B64PAD, .body = CC_B64PAD, .lo = 800, .hi = 8002, .h10 = 45)
TOK_RULE(v_google_api, .pfx = {"AIza"}, .end = CC_B64URL, .body = CC_B64URL, .lo = 35, .hi = 35,
    .h10 = 35)
TOK_RULE(v_google_oauth_secret, .pfx = {"GOCSPX-"}, .end = CC_B64URL, .body = CC_B64URL,
    .lo = 28, .hi = 28, .h10 = 35)
TOK_RULE(v_google_access, .pfx = {"ya29."}, .end = CC_B64URL, .body = CC_B64URL, .lo = 50,
    .hi = 2048, .h10 = 40)
TOK_RULE(v_azure_storage, .end = CC_B64PAD, .body = CC_B64PAD, .lo = 88, .hi = 88, .h10 = 45)
TOK_RULE(v_azure_shared, .end = CC_B64PAD, .body = CC_B64PAD, .lo = 44, .hi = 44, .h10 = 40)
TOK_RULE(v_alibaba, .pfx = {"LTAI"}, .body = CC_B62, .lo = 12, .hi = 20, .h10 = 30)
TOK_RULE(v_do_pat, .pfx = {"dop_v1_"}, .body = CC_HEX, .lo = 64, .hi = 64, .h10 = 35)
TOK_RULE(v_do_oauth, .pfx = {"doo_v1_", "dor_v1_"}, .body = CC_HEX, .lo = 64, .hi = 64,
    .h10 = 35)
TOK_RULE(v_heroku, .pfx = {"HRKU-"}, .end = CC_B64URL, .body = CC_B64URL, .lo = 50, .hi = 70,
    .h10 = 40)
TOK_RULE(v_cf_token, .end = CC_B64URL, .body = CC_B64URL, .lo = 40, .hi = 40, .h10 = 35,
    .flags = TOK_NOT_HEX)
TOK_RULE(v_cf_global, .body = CC_HEX, .lo = 37, .hi = 37, .h10 = 30)
TOK_RULE(v_cf_origin, .pfx = {"v1.0-"}, .body = CC_B62DASH, .lo = 171, .hi = 171, .h10 = 35)
TOK_RULE(v_fastly, .end = CC_B64URL, .body = CC_B64URL, .lo = 32, .hi = 32, .h10 = 35)
TOK_RULE(v_vercel, .body = CC_B62, .lo = 24, .hi = 24, .h10 = 35)
TOK_RULE(v_supabase, .pfx = {"sbp_"}, .body = CC_HEX, .lo = 40, .hi = 40, .h10 = 30)
TOK_RULE(v_databricks, .pfx = {"dapi"}, .end = CC_B62DASH, .body = CC_B62DASH, .lo = 32,
    .hi = 34, .h10 = 30)
TOK_RULE(v_tailscale, .pfx = {"tskey-"}, .body = CC_B62DASH, .lo = 30, .hi = 100, .h10 = 35)
TOK_RULE(v_gh_pat, .pfx = {"ghp_"}, .body = CC_B62, .lo = 36, .hi = 36, .h10 = 30,
    .flags = TOK_CRC62)
TOK_RULE(v_gh_oauth, .pfx = {"gho_"}, .body = CC_B62, .lo = 36, .hi = 36, .h10 = 30,
    .flags = TOK_CRC62)
TOK_RULE(v_gh_u2s, .pfx = {"ghu_"}, .body = CC_B62, .lo = 36, .hi = 36, .h10 = 30,
    .flags = TOK_CRC62)
TOK_RULE(v_gh_s2s, .pfx = {"ghs_"}, .body = CC_B62, .lo = 36, .hi = 36, .h10 = 30,
    .flags = TOK_CRC62)
TOK_RULE(v_gh_refresh, .pfx = {"ghr_"}, .body = CC_B62, .lo = 36, .hi = 36, .h10 = 30,
    .flags = TOK_CRC62)
TOK_RULE(v_gh_fine, .pfx = {"github_pat_"}, .body = CC_B64URL, .lo = 82, .hi = 82, .h10 = 40)
TOK_RULE(v_gitlab_pat, .pfx = {"glpat-"}, .end = CC_B64URL, .body = CC_AAD, .lo = 20,
    .hi = 320, .h10 = 30)
TOK_RULE(v_gitlab_ptt, .pfx = {"glptt-"}, .body = CC_HEX, .lo = 40, .hi = 40, .h10 = 30)
TOK_RULE(v_gitlab_runner_reg, .pfx = {"GR1348941"}, .end = CC_B64URL, .body = CC_B64URL,
    .lo = 20, .hi = 20, .h10 = 30)
TOK_RULE(v_gitlab_runner, .pfx = {"glrt-"}, .end = CC_B64URL, .body = CC_AAD, .lo = 20,
    .hi = 323, .h10 = 30)
TOK_RULE(v_gitlab_other, .pfx = {"gldt-", "glft-", "glsoat-", "gloas-", "glimt-", "glagent-",
    "glwt-", "glffct-"}, .end = CC_B64URL, .body = CC_B64URL, .lo = 20, .hi = 80, .h10 = 30)
TOK_RULE(v_gitlab_cbt, .pfx = {"glcbt-"}, .end = CC_B64URL, .body = CC_B64URL, .lo = 20,
    .hi = 80, .h10 = 30)
TOK_RULE(v_bb_app, .pfx = {"ATBB"}, .body = CC_B62, .lo = 32, .hi = 32, .h10 = 35)
TOK_RULE(v_atlassian, .pfx = {"ATATT3"}, .body = CC_B64URLPAD, .lo = 159, .hi = 259, .h10 = 40)
TOK_RULE(v_bb_access, .pfx = {"ATCTT3"}, .body = CC_B64URLPAD, .lo = 159, .hi = 259, .h10 = 40)
TOK_RULE(v_npm, .pfx = {"npm_"}, .body = CC_B62, .lo = 36, .hi = 36, .h10 = 30,
    .flags = TOK_CRC62)
TOK_RULE(v_pypi, .pfx = {"pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"},
    .end = CC_B64URL, .body = CC_B64URL, .lo = 50, .hi = 1000, .h10 = 40)
TOK_RULE(v_rubygems, .pfx = {"rubygems_"}, .body = CC_HEX, .lo = 48, .hi = 48, .h10 = 30)
TOK_RULE(v_nuget, .pfx = {"oy2"}, .body = CC_B62, .lo = 43, .hi = 43, .h10 = 35)
TOK_RULE(v_docker_hub, .pfx = {"dckr_pat_", "dckr_oat_"}, .end = CC_B64URL, .body = CC_B64URL,
    .lo = 27, .hi = 32, .h10 = 35)
TOK_RULE(v_artifactory, .pfx = {"AKCp"}, .body = CC_B62, .lo = 69, .hi = 69, .h10 = 40)
TOK_RULE(v_jfrog_ref, .pfx = {"cmVmdGtuOjAxOj"}, .body = CC_B62, .lo = 50, .hi = 50, .h10 = 40)
TOK_RULE(v_circleci, .pfx = {"CCIPAT_", "CCIPRJ_"}, .body = CC_B64URL, .lo = 63, .hi = 63,
    .h10 = 40)
TOK_RULE(v_buildkite, .pfx = {"bkua_"}, .body = CC_HEX, .lo = 40, .hi = 40, .h10 = 30)
TOK_RULE(v_vault, .pfx = {"hvs.", "hvb.", "hvr."}, .end = CC_B64URL, .body = CC_B64URL,
    .lo = 24, .hi = 1024, .h10 = 35)
TOK_RULE(v_vault_legacy, .pfx = {"s.", "b."}, .body = CC_B62, .lo = 24, .hi = 24, .h10 = 35)
TOK_RULE(v_pulumi, .pfx = {"pul-"}, .body = CC_HEX, .lo = 40, .hi = 40, .h10 = 30)
TOK_RULE(v_doppler, .pfx = {"dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."},
    .body = CC_AAD, .lo = 40, .hi = 80, .h10 = 35)
TOK_RULE(v_postman, .pfx = {"PMAK-"}, .body = CC_B62DASH, .lo = 59, .hi = 59, .h10 = 35)
TOK_RULE(v_linear, .pfx = {"lin_api_", "lin_oauth_"}, .body = CC_B62, .lo = 40, .hi = 64,
    .h10 = 35)
TOK_RULE(v_notion, .pfx = {"secret_", "ntn_"}, .body = CC_B62, .lo = 43, .hi = 46, .h10 = 35)
TOK_RULE(v_airtable, .pfx = {"pat"}, .body = CC_B62DOT, .lo = 79, .hi = 79, .h10 = 35)
TOK_RULE(v_huggingface, .pfx = {"hf_"}, .body = CC_ALPHA, .lo = 34, .hi = 34, .h10 = 35)
TOK_RULE(v_groq, .pfx = {"gsk_"}, .body = CC_B62, .lo = 52, .hi = 52, .h10 = 40)
TOK_RULE(v_slack_bot, .pfx = {"xoxb-"}, .body = CC_B62DASH, .lo = 33, .hi = 54, .h10 = 35)
TOK_RULE(v_slack_user, .pfx = {"xoxp-"}, .body = CC_B62DASH, .lo = 59, .hi = 77, .h10 = 35)
TOK_RULE(v_slack_app, .pfx = {"xapp-"}, .body = CC_B62DASH, .lo = 85, .hi = 94, .h10 = 35)
TOK_RULE(v_slack_other, .pfx = {"xoxe.xoxb-", "xoxe.xoxp-", "xoxa-", "xoxe-", "xoxo-", "xoxr-",
    "xoxs-"}, .end = CC_B62DASH, .body = CC_B62DASH, .lo = 41, .hi = 251, .h10 = 35)
TOK_RULE(v_slack_hook, .pfx = {"https://hooks.slack.com/services/",
    "https://hooks.slack.com/workflows/", "https://hooks.slack.com/triggers/"},
    .body = CC_URLPATH, .lo = 44, .hi = 90, .h10 = 35)
TOK_RULE(v_discord_hook, .pfx = {"https://discord.com/api/webhooks/",
    "https://discordapp.com/api/webhooks/", "https://canary.discord.com/api/webhooks/",
    "https://ptb.discord.com/api/webhooks/"}, .end = CC_B64URL, .body = CC_URLPATH, .lo = 78,
    .hi = 89, .h10 = 35)
TOK_RULE(v_twilio_auth, .body = CC_B62, .lo = 32, .hi = 32, .h10 = 30)
TOK_RULE(v_sendgrid, .pfx = {"SG."}, .end = CC_B64URL, .body = CC_AAD, .lo = 66, .hi = 66,
    .h10 = 40)
TOK_RULE(v_brevo, .pfx = {"xkeysib-", "xsmtpsib-"}, .body = CC_B62DASH, .lo = 81, .hi = 81,
    .h10 = 35)
TOK_RULE(v_stripe_live, .pfx = {"sk_live_"}, .body = CC_B62, .lo = 24, .hi = 247, .h10 = 35)
TOK_RULE(v_stripe_rk, .pfx = {"rk_live_"}, .body = CC_B62, .lo = 24, .hi = 247, .h10 = 35)
TOK_RULE(v_stripe_test, .pfx = {"sk_test_", "rk_test_"}, .body = CC_B62, .lo = 24, .hi = 247,
    .h10 = 35)
TOK_RULE(v_stripe_whsec, .pfx = {"whsec_"}, .end = CC_B64PAD, .body = CC_B64PAD, .lo = 32,
    .hi = 90, .h10 = 35)
TOK_RULE(v_square, .pfx = {"sq0atp-", "EAAA"}, .end = CC_B64URL, .body = CC_B64URL, .lo = 22,
    .hi = 60, .h10 = 35)
TOK_RULE(v_square_secret, .pfx = {"sq0csp-"}, .end = CC_B64URL, .body = CC_B64URL, .lo = 43,
    .hi = 43, .h10 = 40)
TOK_RULE(v_shopify, .pfx = {"shpat_", "shpca_", "shppa_"}, .body = CC_HEX, .lo = 32, .hi = 32,
    .h10 = 30)
TOK_RULE(v_shopify_ss, .pfx = {"shpss_"}, .body = CC_HEX, .lo = 32, .hi = 32, .h10 = 30)
TOK_RULE(v_facebook, .pfx = {"EAA"}, .body = CC_B62, .lo = 81, .hi = 301, .h10 = 40)
TOK_RULE(v_anthropic, .pfx = {"sk-ant-"}, .end = CC_B64URL, .body = CC_B64URL, .lo = 86,
    .hi = 130, .h10 = 40)
TOK_RULE(v_mapbox, .pfx = {"sk.eyJ"}, .end = CC_B64URL, .body = CC_AAD, .lo = 61, .hi = 365,
    .h10 = 40)
TOK_RULE(v_grafana_cloud, .pfx = {"glc_"}, .end = CC_B64PAD, .body = CC_B64PAD, .lo = 35,
    .hi = 405, .h10 = 40)
TOK_RULE(v_grafana_sa, .pfx = {"glsa_"}, .body = CC_B64URL, .lo = 41, .hi = 41, .h10 = 35)
TOK_RULE(v_newrelic_user, .pfx = {"NRAK-"}, .body = CC_B62, .lo = 27, .hi = 27, .h10 = 35)
TOK_RULE(v_newrelic_license, .body = CC_B62, .lo = 40, .hi = 40, .h10 = 30)
TOK_RULE(v_sentry_token, .pfx = {"sntryu_", "sntrys_"}, .end = CC_B64SNT, .body = CC_B64SNT,
    .lo = 63, .hi = 603, .h10 = 35)
TOK_RULE(v_okta, .pfx = {"00"}, .end = CC_B64URL, .body = CC_B64URL, .lo = 40, .hi = 40,
    .h10 = 35)
TOK_RULE(v_base64_pem, .pfx = {"LS0tLS1CRUdJTi"}, .end = CC_B64PAD, .body = CC_B64PAD,
    .lo = 120, .hi = 12040, .h10 = 45)
TOK_RULE(v_age, .pfx = {"AGE-SECRET-KEY-1"}, .body = CC_BECH32, .lo = 58, .hi = 58, .h10 = 35,
    .flags = TOK_BECH32)
TOK_RULE(v_wireguard, .end = CC_B64PAD, .body = CC_B64PAD, .lo = 44, .hi = 44, .h10 = 40)

/* ---- pattern pieces ------------------------------------------------------------------------ */

/* closing boundaries: one byte outside the token's alphabet, or the end of the stream */
#define E_B62 "(?:[^A-Za-z0-9]|\\z)"
#define E_B64URL "(?:[^A-Za-z0-9_-]|\\z)"
#define E_B64 "(?:[^A-Za-z0-9+/=]|\\z)"
/* base64 that may be padded: the padding ends it whatever follows (a prompt printed right after
 * `base64 -w0`, joined to it once the colour codes between are removed) */
#define E_B64PAD "(?:==|=(?:[^=]|\\z)|[^A-Za-z0-9+/=]|\\z)"
/* GitLab's routable tokens contain dots: a final '.' counts as a boundary only before a
 * non-alphanumeric byte (then two bytes are consumed) */
#define E_DOTTED "(?:[^A-Za-z0-9_.-]|\\.(?:[^A-Za-z0-9]|\\z)|\\z)"
/* key = value glue of env files, YAML, JSON, TOML, shell, HCL, Go and Ruby */
#define ASSIGN "[\"']?[ \\t]{0,4}(?::=|=>|[:=])[ \\t]{0,4}[\"']?"
/* the rest of a key name after its keyword: DB_PASSWORD_FILE, secretAccessKey, api.key */
#define IDTAIL "[A-Za-z0-9_.-]{0,24}"
/* the key name before a generic keyword, so the validator sees all of it (AWS_SECRET_...) */
#define IDHEAD "[A-Za-z0-9_.-]{0,32}"
/* user:password@ of a URI; the password may not hold '@', '/', '?', '#' or blanks */
#define USERINFO "[^\\s:@/?#\"'<>]{0,128}:[^\\s@/?#\"'<>]{1,256}@"
/* a bare config value, and what may follow it */
#define VALUE "[^\\s\"'`,;&<>{}\\\\]"
#define E_VALUE "(?:[\\s\"'`,;&<>{}\\\\]|\\z)"
/*
 * A PEM block: RFC 1421 / RFC 4880 header lines ("Proc-Type: ...", "Version: ..."), then a body of
 * base64, blanks and JSON's \n escapes — no '-', so one match never runs from one block's BEGIN to
 * a later block's END. WARNING: not "[^-]{64,}": Vectorscan 5.4.9 misses most matches of
 * "-----[^-]{n,}-----" shapes (tests/unit/test_scan_rules.c keeps a reproducer).
 */
#define PEM(label)                                                                             \
	"-----BEGIN " label "-----"                                                            \
	"(?:[ \\t]*(?:\\r?\\n|(?:\\\\r)?\\\\n)[ \\t]*[A-Za-z][A-Za-z0-9-]*:[^\\r\\n\\\\]*)*"    \
	"[A-Za-z0-9+/=\\s\\\\]{64,}-----END " label "-----"

/* ---- test strings (synthetic; prefixes split off so this file is not itself a finding) ----- */

#define T(name, ...) static const char *const name[] = {__VA_ARGS__, NULL}

T(P_AWS_AKID, "AKIA" "VQJXXVBOTHD2WTFL", "aws_access_key_id = " "ASIA" "HBMUAPTT2ZN5X2PD");
T(N_AWS_AKID, "AKIAIOSFODNN7EXAMPLE", "AKIA" "QXRYONJ3DYBVZXG", "AKIA" "24VDHLDSUNAVBPPXX", "AKIA"
    "QQQQQQQQQQQQQQQQ", "AKIA" "103CJEQQA5QIFPUW");
T(P_AWS_SECRET, "aws_secret_access_key = " "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",
    "\"SecretAccessKey\": \"" "ccVrKBccSMtnlOsx3V0DkHeiUws27DuN34Z6raP0" "\",",
    "export AWS_SECRET_ACCESS_KEY=" "vaNNWm5LC0gJaDf/liWlRHoiKY1zep8VptXbaLxz");
T(N_AWS_SECRET, "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "aws_secret_access_key = " "eba9032050d09c5892503e12b47fa42f93ceaf2f",
    "aws_secret_access_key = " "yk/Cx0iPxdhieJLxvOuinLUzHMb1QJ5w4z2FSWO", "aws_secret_access_key = "
    "1ozBchuFQMRFtWlOrf8NeGEhWHRvlF6vSwgIOXpOJ");
T(P_AWS_SESSION, "IQoJb3JpZ2luX2Vj"
    "5Gowarg907u3n3t4e0rp22/0uS6eV5Gh6PxY7o4ffsBDOsF6rx+3kcs9daE6EHjQKhlFgqzE8l4pmZzgOK2irzQLcFs"
    "6kQ4iIk5V6kByEfa+XZduvf/UTxv2dhGIaPv1xqSeymxhgXOsoF+FJPIZGbeZGKt6zToFg0NUd+2dB98hAlxrAThKYH"
    "s97jNI+eXaTFDZ7/H68e0fG/dzhJBDDK3iAFCaE6qgMF/L0g2jxNBs2MSw3jq2JflD00MGH2PbZmYCacWu7U1KklTfT"
    "h/CqAv8GAMkedQY85U2b0L+GvpLgCbbypHVyMvqihsgK6IuBYVlh3NJTOakeJ5pkjGHy0VLDa1DXV1T59tK+OFeqzhD"
    "aMrPmz/E7fuwf1CjrjeAP5hrMa1fnjnNyjjNunkcWCjJ52wO+NYsvcjbtNP5c6vBZo9+BEXYto72reNj/ygou/tRcTE"
    "68ijhY8fzbZCxhqup71Wi3WmEpw0NBxaRW6clWeoDxRt+viQFon5U/r3ItL16GccLVKPuP5tQjd4osfI47qztV9z5eF"
    "JGSmSIKpHZp0lb0f4QkvCEXXvV/6HQdS/0R2DMTTeeQpLMw3t4atFNVA7ZQvKVO4k7MAIky3i0",
    "aws_session_token = " "FwoGZXIvYXdzE"
    "dHVmLvih2B5V77GSCP7FvzOpAu3w/WBj7M+pGOSyvdDxZ5tqNYe3p7+dhM7kjLtb+iCEzsxks0jrOlfcCvDoJ55h2LO"
    "qTNEvFSZVPsRtqcyalc+MycT0TtLiircCDxGe8G7rOK3cbwwo16G0TxnRf6k1GHsh1MneGutY431Jm4sxmXxx7RBOGP"
    "/zfdB3Im7nawulJWXpQsfgbkT/mrDmuAW4Z/AOyyRly/BKJ4bamcVCAARjT89OI5i0vZ7Bxb8USRxB0L5mnjaj8lgux"
    "GINWxslDowMWTuJOB2/otEbeHqWBIfvi+anLvpP974tFr6r0a5KNw5nrb=");
T(N_AWS_SESSION, "IQoJb3JpZ2luX2Vj" "t33uKs3TWGJrdLl4YmCgC2lVP192EfzvMbqHaQvtPC6xIHN8H5KrzQ2/Aa3s",
    "FwoGZXIvYXdzE"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAA", "IQoJb3JpZ2luX2Vk"
    "bGrTvzvmn99eJwLtHPaUuhdEyyOblLBMUF6DhxuaberqOpsS7lYXd0gPBcao3Yb9SpeuKUXHYN3d1zk8NHnAeaa9eMj"
    "jEPGLSDQa9ICLDMasuFTy46vdMVTsTqMgiysojOH+D/3HOWu2RYhBdC17+/tkX36RTZFFAVVUp28Sgfqqkyx9KZkRUE"
    "QnXCWhpsnIjivc8LFVzAz9Pyz8bm409PlwNKhnbQI5C7lMBL0/1OSiUImQWkq6uxASN7WuHisQv4xIQKfVZ8dxkpF9N"
    "lsaaH6D5XSP1JvWx+4i48eZ2j/XXGE3ULkVq5+kPFm2frCbcMjtPmbQysv6VaUekqUACv7+aJzI16z1Q9J1TltZxovz"
    "HvPV0rBOAl6vAFooHToEvxEZfw7GwYJbOyA/");
T(P_GCP_SA, "{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo-vz06ku\",\n"
    "  \"private_key_id\": \"b3b46f9dda914c001dab552cf3c4b2fdd3a1ed8c\",\n"
    "  \"private_key\": \"-----BEGIN " "PRIVATE KEY-----"
    "\\nf7wDZe3QZn2M+yzE53Vz7hsdcl/hNuFqeWmzNervOT+YAdhoIBt0BlXGEn7rmt2S\\nVUgPOEOkOnF/oZp+leDEX"
    "eq22fv+EtSLDBPdC+tjKMbbtwaTMluO2FXikWJBIfUR\\nfPIueVIRFUps3id/yoLkMRDfV9IDihDiouOn/U0HZE7H/"
    "Ods3gs+1yF0wJMcOB35\\nWWrNyIxcvu0+Me2g4Z7RgF6gvhdlUOFO3Y4NPPhd9yRlLoKdj4dqg8WNhREPouqu\\nPQ"
    "mAj4Tat0Bka3GYnRARTTC5Oq2EuHK5vj/2Tqp9Fe0roxUG5AxIxnc+h0SfacqK\\nAsTMuHEQ3/IR/6TgvUsXbuc8Mh"
    "zd8xj007bQru+FImn30B0HvOs1f8OXwCtxfQvj\\n94MLOo6BpE5CsWm2we4h4OIHoE93Xzyy/i5MvTKHEnhu3x6Rra"
    "ezBOsNU9CqRYr7\\nliJgZkImnazCd7C1hFBYQf8hL9HBuvJ3ukjtYkxqRBqQLPTQR8rs9U+wjfW8V0MB\\nPrQBrHj"
    "f/HdjLalMpZkmg2uMC/itO1by6TtH7hqxV7mv4YcGtqPQvNj4M5r/nL5V\\nVGDCFHlDxAa2f/dJPgMLXS0Y/t68mXO"
    "wqVpVg/u7usWT67uZ8ihnL8hLVddnhJv1\\nt25yN/MgCay7m/iqLCrrHOXgipW/Wac+7i8Onam2CiPM4TzVy+ukqy1"
    "o8dQCXtA5\\nWivP0BgR3gDO0GOABQA0SXpBaYVhKBAsk3Xv0t37IrpgoUXV9I6esRLtrGlKhTwR\\nVhaEny3I0GUS"
    "IDKHxZ/8mQn5IpPyiiY9GP4n8ttgWfoMMrKk1G8+wlmyOyxpLd9R\\np2klUWbLjAwSlPhQTn35MCcibD8P4w+VSJ/y"
    "qSekmZKFpt/yvRrr9JQ8vaBKxybC\\nc6GCyPRCFyNM5auRXw965aXvzdpASdYJyslUJ/Esb9zwk/kWDOJCXYW6naH9"
    "uVap\\nfJZgXVpSUegkSMnLjg4cgBFN+evfR/8QuzuHN+Cr0sH8TPwLBAVVFrIiVDaAmPGT\\nLwsnZFih5V08r08VQ"
    "9r+y6HKUGci0ZltxblCWMeu3+roLOAELnzovIh/HITgVaKF\\nl90tw4lmEPQixwp+P8vuqHAJTu1r1LRORXUyKPwUJ"
    "TDb/q4fWU1Swnum2fI3bZio\\n9VqiMjfCfaKfEQ7uCX+E6XCpaxbuCWShK8x0COxOdfkPlFCKemMEeoEN0O8FNqGe"
    "\\n1O2K5rGTaQVLBzU45UF6RZmLmLrzbHDaRjImrMgUgyRLuU/jhH85gLqGC8U83vjF\\nrJlg4jSV4cCX2h+8saya0"
    "HfbbCtY3iLHPNrH1Xlvkg4IwM8cdxrtwO88yXlzcqqZ\\nSz01trcsGbj5cP4EaQ4sviSCFTlN64LItW5y4nGgDGors"
    "U5UR2km2wIem+ER8mBe\\nxEvgzmy8KwErqEw7xDcKOdZNC+pd36AdKLfwH1jc0AyX+ur6/oxK6tYMe7xrsgNd\\nql"
    "WmrHMpmnQ06DpeuaxbgL781/TXT/L9bqHHFobixv8+KUnj8hTvHS1K0auTHj9T\\nm1MtzhiMWF6n1bxNGD3Jw/88Lm"
    "UpCRlULkJKpNTzBrNittb3L4Uj2nTH2WNwuJPc\\n-----END PRIVATE KEY-----\\n\",\n"
    "  \"client_email\": \"ci@demo-lq3vhz.iam.gserviceaccount.com\"\n}",
    "{\"type\":\"service_account\",\"private_key_id\":\"f29e11366e36ef3245ba9ea90ffe730c74d99bfd"
    "\",\"private_key\":" "\"-----BEGIN "
    "PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCdWwZzCwZ+rcKqAA5bCVP/RZ5zmbVZ8kPnO5xXBa2"
    "cYFr/T3r9qyYKyYScxq0etE5\\np5jOpw25FEVhys7gwRvUKiuJKwoRzf+kOM9zsCEq8skDO6Nd9cGYLwe+H2dkXhbd"
    "\\nZdoDNptyRbaaY7uLL/sgKOAouSV7EmSejoXaiJKJY7kg05Fk235TZKMVWd8bfSyj\\nFNjhGwf1o4qG1b5QZu20+"
    "eaBWYpVbkCQ5FXQrnlEwRIQqD7xwQsKqOXfDrsQr109\\n9XuzxVomN94uopG/54aL9ijrwOuKC+xX3DDF/mQ+PGs7r"
    "BU87BUECAINceORw2S/\\nUz23SVp6tLppcpnFAj/1Mpe4KeJpx4AdGss/17LmoTnV4851lLadIzXz8OBmDHdJ\\nkz"
    "r6OwtWYamJTn0NoCniGhvHAxMZwC2TAi1Ni3AEUHWZLDhihdnp9jKYCAXSL/GX\\nbEjUPWmiYRnvO3AKzG/sp2xvh8"
    "N+GYp1OBh9I7iDQZa4rxRZ95me/aFbLTL6egSc\\nw5hiVa/JjIqiXg7Rr24wJfIYWJ4rrriDmZkF25SBwvW3kgZHsw"
    "AdnZ1gWk3InUK3\\ny7yJbM+5ZsTnTe8YKs7mbXRXy9NzMvH3rcWHxWn0/wL+j7gCTR3P8iEtTLVYOdaq\\niY5K1p/"
    "Vnd9b6L4WCdi1/5+eztAAPTxKQU0veXZ1p3upgl0auj9gTEA0QbgmPt8O\\n50QVzv7XSuq4BS1YBHE30tsC0gP2e3b"
    "GPK3BwFpkqbAvYbT2hhcmwJ8ynWtoGxZP\\nE1RWCptj7PsfiAeEbLNXR2xVr7lHbeKQmvtWIMnBqzjp5A2t5GmDP3R"
    "JsPQY4ats\\nn9QCM2xfe0lghtRzbg/AqB9BZcANqq5qu3NHWZnOVBXH1IWKwcKHUGYmQqNke6hx\\nYTSpoXTeS4yu"
    "Q0Oz950m2M/Raj342GlX1qhJ9MD5IfUOEGYy+hmwZrg2wjITchfM\\nP59mir/sR+w52c9FOxFHR5v0SEy4tNviH8Sb"
    "q2n1kzdGlYrsjGFkl3up5VUhnG4P\\nPjQraUm8qWELGqqR98AZ7b1tKUs7Kv12rh7AzWup/bCjDXtNFqB7i6gBBSBI"
    "fzZ2\\n73laLXe24ZK3Vjzs60EjD6fIYlmgUjeOn7RtZexvh6tKd9eQbOi1Ri3cYkweoOQ6\\nd1N5ez7FLsOdRybLq"
    "6aqKvufSQ/qabSqgpKJunO/8ZoC5ZSOd1AVEnrCFmmfAiVY\\ncHJH4QIpi+rgCGN+Az2phcEB9abyWRiUrwFc3cCmv"
    "TCbpR91D/YAtEK0Hhk8wHXC\\nW6DInaw4PYnkc4gvOX4/Bee7su/24ZD0tSibWP7qiwvBX2clDgY86oCm4rP9nkWy"
    "\\n5R3UCjgw9/vrvfRRI/Q4It0n4aC2fYUn51rkNFnzJFeC+riMlMQHietgWleWuHg4\\nIAC5SmCO+opqLxNPGKWAq"
    "aQ7kt724q8RuaYgErgx6n3ZLo2uLVbwegaEekXS8FGf\\nKkFKEbWKsMF9YS+eO5OAf0JAAYlwFC78q9fOLM5zQHenF"
    "OoCdWd5qkFSxeXApOkl\\nfANMbc/Pz7YCFUDJ95Et7+hmRF9K7juvJYWX7Ze3ZeQsg8aRLVM=\\n"
    "-----END PRIVATE KEY-----\\n\",\"client_id\":\"519751279009301131413\"}");
T(N_GCP_SA,
    "\"private_key_id\": \"50ec2458870715c8498ec62ec9854ccec1833fc\", \"private_key\": \"-----BE"
    "GIN PRIVATE KEY-----",
    "\"private_key_id\": \"f08810d2daaa016fb6fcd83197ece8ed99f2576c\", \"private_key\": \"-----B"
    "EGIN PRIVATE KEY-----\\n" "<your private key>\\n-----END PRIVATE KEY-----\\n\"",
    "\"private_key_id\": \"15a868b022048c145f772d01e2d5cf093ce0903b\", \"client_email\": \"ci@de"
    "mo.iam.gserviceaccount.com\"");
T(P_GCP_SA_B64, "ewogICJ0"
    "eXBlIjogInNlcnZpY2VfYWNjb3VudCIsCiAgInByb2plY3RfaWQiOiAiZGVtby1wcm9qLWQ0aGNrMiIsCiAgInByaXZ"
    "hdGVfa2V5X2lkIjogIjJmODJmNmM0MjBjNDIyZGNkMWMxNGUwYjNlNmRlYzEzYzI1OTdjOTQiLAogICJwcml2YXRlX2"
    "tleSI6ICItLS0tLUJFR0lOIFBSSVZBVEUgS0VZLS0tLS1cbjRacXNRNkRVOVBlM0RZSGVXa0dPZEhRcUxaUzlOT2ovS"
    "Wh3M1ltM1FaVWRHUzYzMXdSWThEcW9LMjFuMUFDV3lcbjArWG5ERzk3NkJqei8wU0VIenhSVS9rWi9VekZYRFgyTlIw"
    "QkhGa3NMcmE1bHBNZ1hiTTZFSHVBeXFiZ0xROEhcblNhVHR4MUVkeEZJRDdLTDhKMEttQ2tIbnorelUyMHppOEpNTFR"
    "ueEFWenAvNk9IRVU3SllySkorR1l1aEM1R2pcbmF3N2xRcjZOd1dMM0hrS3dIK2c2UkY2bkxFcjRYakJUbzE3VzJORj"
    "hIWTduY0NXZktzTURoWkNwZkFqcDQrWUZcbk00eDZBS09yRFlzT1RybWdKdFJLRjR5d05ONTVabnZUVkRjQjlQdzlzM"
    "U0yTGkrcHptQllNc1BlNlBLeDdzZXpcbmpmWU42ZVJRTHB4L050M1RMMVlQR29nbHdoOWVjYzhqcFcwK2g2aUxORTUw"
    "Z1FMRHBzTDhFd0RXcnlEdDdMMUtcbmV0WmMvQWJuNUo4bXNTaHBjOGFHNS9DNzE3VEc4YzNDNzgxa3IzN1gvajBMcGx"
    "kcHEwdjM5RkRUc2VKSEZDbFdcbm5HNVNGd1hmM09Ya2VJYzdZRHl0OUxDVENZTEpMTGlMVThZb0hCUWhjWENWOFpncE"
    "VYeGtMNmVmN1piZDN6aGtcbjlyakpPbGxWNWpyalVjMEM2Uk4yNEVCTnZDa1hBaUNjZnZoMkpKTnF1LzVtQW9qRHdqN"
    "llOMytweGJDMVdJSlVcbjF0VHlQUnlUTGtrc0NWYjU2L1JNM1NNWFdxMXhiKzR4TzlZYmxPRHFJVmx4enBsbm5LN3pw"
    "TGY3WXI5RlFqWFNcbkEvbkFSWkpmL3JrSUl5WmIwd2JMczVSYWdLc1hWTjJQc2djYnF6c2VsVURsak5SMkM4ZmxMeDl"
    "JNmxRL0lZaEJcblUveFBWWlE2cjExZE53VWo5ZVppMWMrRDNoMEhIYWFSVElEdFd5TDdyRnlYRHV5emZDNmZOL3FhY0"
    "hNMEZzZlJcbmFiV2FiZndwbUZIMTc5Q3QrYUhBcTlEWTVMWThOdkd3Q1VJMUhVQzJobzMzNGxsbTQycG95dndBNDFFS"
    "kdhVldcblVZcit5THZVQ2tVZEJhdE1KdnNiZzR2U2ZlMlhoa1lsc2ZDRDZvR2Q1L0dncG5kcFRuQTlmYy9LNnBMQ0V0"
    "bGNcbmhGUjQ1enBHNjQrMDI0ZVNhZkh5RklreW85cmxaRTg1SE9FRTNsa1ZpWm95TUJkUlJ3dDRUb0hCdEtseGNzRkh"
    "cbjA4OC9FZTJKMmVhUkNQQTZnZFVSYm1UUlpIQWtYbDUveVBiMkxWc25iQlR0UUxMVU96SW9sdGFnU2VqNWhCSUtcbk"
    "ozaWJnZk9TSEdnMHpkb3dnQmU4aFFMTlcrM28vRjJYU2pLcFpYWlNVQ1BPYXdjQ2NJODZXNHVubDYwWVE1K3pcbndoR"
    "FhtTXlsVU9ubEplOXY0Z3I1allzdk5EOFpMdnRHZUVNQk1saGI0WXNRSEtCeHU3dTNhMmd1blNmU3FjMFJcbnhOZHFX"
    "NEg2QStISGtDUCs4bjhDWEY4dUpxTEh5OGVUOC9QN3p0VCtuQ0JqU0pTbEFIcURDelUrTHVtUC9tNVdcbjB4bzdWOWR"
    "NZGxUQWNtYkZyQVAxYXhBT0dFUVRXQUZsL0pwTTg4UEpJYzJ2TE1wQlJhMENsM1lIb3ZweXdWbTZcbk96VDRObWZ2b3"
    "JPR2hIS3pVNml0UWZtR3JWbWwxc2dLNTkxWFBQNWhQSWRIRFdMTVNoV1hDOWhpVkhSMWxRL3VcbjFIRm82TURHdGdZU"
    "WplVHFZTERFN0cxZFJaVTdUUGtPTjhLRHJkT0RFSTlwMTQzdmJiZFpZbWhkMEtjWURqZVdcbjhlVytiTytmSVJLYkxh"
    "aDBTZmRKRFRCMHNhR01RMytUcWxOMDlVS0VLdE5NWUxDS0ZXY05WQjdJZ1VFWDNxNnZcbld4SmlOaHhGckFvTGVzbTZ"
    "Vd3hoc2oyczdZZlhQVG9iT2xvR1JBL2t0M3RYb2NUa3duSGs3SWkwcHRCbEQyTnZcbjA4WkRZbnNwNXVHT2htZEY5NE"
    "VSZnFOTm5vdzNoWGJXMG1PaDIwZno3WHg0eEgvTWkrL0tnZkJySjh3RkxzYnRcbi0tLS0tRU5EIFBSSVZBVEUgS0VZL"
    "S0tLS1cbiIsCiAgImNsaWVudF9lbWFpbCI6ICJjaUBkZW1vLmlhbS5nc2VydmljZWFjY291bnQuY29tIgp9Cg==",
    "GOOGLE_CREDENTIALS=eyJ0eXBl"
    "Ijoic2VydmljZV9hY2NvdW50IiwicHJvamVjdF9pZCI6ImRlbW8tcHJvai1mNnRzdGEiLCJwcml2YXRlX2tleV9pZCI"
    "6ImU1MjRjOGI4YzUxZTYwNDZmNmEzNmM1ZTQ0YTEwMmNiYTRjODAzYTYiLCJwcml2YXRlX2tleSI6Ii0tLS0tQkVHSU"
    "4gUFJJVkFURSBLRVktLS0tLVxuVGQ0cjhYRWwwVGNOT2JTWS9GRmhpbmdKWUhZdnZ2RlFYM0ZsNVZEeXA2c2cvWXJWU"
    "CtMRzd3bndZNGlFaWd4TVxuVzZKU2kzaEdYWEpCSitmd1QyV0VyWlB2a0x5R3J4WEZkNGEvQ21tTHpqSU9YZm0rRUc5"
    "QzRFMHlVZEtkbUJ5ZFxucWxLdmdVVVUyeHYxNlQzM1hZNkdUM25scmNFYmV0dklDMU9SYWZiSlhJUDNmQ3p3MzlCV1B"
    "2ZlcyRFJPODRKNFxuRWRQVjBaR1llSXpuU1NrNnR0eU1hYjVJd3ExVnkrUXl5OWZ1akVkS0lxdm9uV0NxNW5HS0RQek"
    "5Cb1JTR2plUlxuWng5WDg2SE9HbDcyd1puQ2NmOGp5YnBKd3RvbTJ0OHVpaUUyeStueUd2anBDTzVOdzZEdXlUZDZwb"
    "FozT3FQS1xubmk1cnRvcVBpQStEYUJmbVdpYkhacGkwejYvZkRYT1dmK3NTQWdTbkthNXorS3lsKzdSeHNKeXlXaE53"
    "TjlMS1xuQ0x5VHlPZTVwbmVlRFovY1h5WHZRNWdLUEtNYlpBRnVyc2J4YTNudkZMYkFnN1g0WlpwTTk3U1lRQjV3QXp"
    "pU1xudnZIK1dlZDlGRjVCZ2NrVE52aVhjUVRBWEI2c0JCVjRvaDBNbGtUa05Sb0RJWEpIbWgrSlZlQ0J2YmVUc3RTYV"
    "xuUVZZdnFVeVAxaVRxby9XTXpQVTVGVFhRSkk3bGNZVVBnWnZrUGppNHd0RkhGeDN0aURIZzdYOTFpNUZKVFRpclxuS"
    "mIvTVVJaVNWU21xdy9zQTVCTnQwaUJ2QkF2QjN1T2JTS0w3aUd1dkc2ZkVjaFZCNUNRa3pZZHlDRGJUZ2tGSVxubWQr"
    "UUg1cEhrZUVOd3VuZktReWkxQkpJRDE2STdLM1k2d3NlTEIxbkJDNUFlRXFRSFZoV1d5ZXhVT2txNEppYlxuK3BDYTZ"
    "MQ1JDUlJXMlRwcVc1Q1RIY0c4S3NnVnpva1gxbzU0MlRhMjVRMWlkeTJRM0NEY2svbkpXY3JvRUFvVFxuVW1TQXROSW"
    "FwWXBWRElhSTdNVHFBSXJ3SmNBakt2eTBEaFVwRzVac2xLbjNLT3VZcHVsSU1ldWJjVkp5RExDWFxuTEpTdnBDOHhPe"
    "mhyUHJ4Smdja202RmJUdVB6REVlMDhMQkkrZUxmV3h0Sk5lMjkwYXNzbGhOdEpYV1U2Z3RGd1xuNHdMbWcvYWp5SlY5"
    "NDV3MUphajVqaUZqUmhBeHFnbFo2UTlQVGRkRFhZODUzM0gxSXo3SERyTTY0czl5S3pxeVxuS3h1ZTV1M1JWM2xGQ3B"
    "5MEpuWlFRYk1HOHRRbWJFRlBLczRtV2xDRHNIZ1krd2cwL3k4Zng2OXZFRXNyeEdGelxuV00rUG9kN0FXMzkvTWtwen"
    "ZrcFZnRmZXWlJpdEdmS1paQVVuWVJObXQzQ0VxT2dQYlQ5TUdGUmlKUnBKVlpYaFxuNlFsSG9yQUF0dG5WQXFLcGxZS"
    "WtqV0tJUnM5dnRPaUkrRUNCUFpUMTY2VDNmSlFEelZyeW1YL3JyczUvWVdZSVxucHM3RFlzWDRUN1pra0JHbWo5UjV6"
    "MWVJSXBsaFhtODlqa3pzMHR4K2d1cGUwalphaXlRaHViNE5oM2N2MFN5Z1xuWVlDQmE5OHlGRGpiNHpzdUJwOE9Pbkc"
    "5NW8zTWJaU241ZndaYVYxQXUzNnd2OVZucHVSL1U2Ukp1SjhxbGhqL1xuVEVmNjRVUFBRQ0Y2MGtUVktlTk53OUg5ZT"
    "hzNHFEcnhYMUZXMnl0N3pqdUVoaEs0enF0dEh2VklsN01XSUxncVxuZmZyTkJwWlZKeUVlV3A2UUFpTnNOY1dNZzhHN"
    "y9WUitlQTNuSUFySzVYTjFicDhLbHdHN1p0eHdmcG1DL0pUcFxuRnlKbFRJbE8zNHA5NTFKOFRBN3NreWhXNzFZWXU4"
    "UzgydWprWW9VL2htL0x4SHRyZnA1U1E1RGV2elRRMmZxaVxuYWZBR0xQb1hNVlVqZzVaVkhCZzhzTVFCcmZiY2FBVGl"
    "RdUVpeTJtOHZveGhzNjJnais2SFhiY0NrdnUyWEpJZlxuSE1KcE1SSmM1U2M2dDJKNCt0T0p0d1dWcUxQKy83bDdmak"
    "svZ2xXNmtrSzBPckMyeFJKa1g3UFdTQTZvMHpFalxuLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLVxuIiwiY2xpZW50X"
    "2VtYWlsIjoiY2lAZGVtby5pYW0uZ3NlcnZpY2VhY2NvdW50LmNvbSJ9");
T(N_GCP_SA_B64, "ewogICJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCIs"
    "Alx+icJ4e4x0ZBAYE0ny+nvFyqtBfm1u7p4EKJhvzps3f9LeRAX0bm4vDVCR/Bjs3HykmLW0YrWQr6g6SpOTE5m7gM0"
    "Anao2AlN8/yJnPGtF585zIGcqX2zuKbWgtN2tWFHYw4emuB7ETlGchEk9ZuvXBFlNHJGJTSvEg+H/66WjfN0ywD2HhR"
    "5dcBFjaXhHJa6UclwBeRC0wb5rZBfDSktXhB+uc1oBwlMA6yZ/qukJEH9if5b1DmCH6kvZJKwfgSJXtuw8ug9kRBjRK"
    "H30h9yXAL5MsNcPSWApyaUXZBWzoNjdjmJJGZGMcq/AlJnHmEmlq6qT4PVbK+9TBJconUUc/ncFDVdbIH5xGnq7WVyl"
    "NdhwIs5FvK8DFVzxihtP0NgkhV2alOFPWobHdg57+TfbyY8U4lfn/WGz0Tzn6P1+HICqVWMhQpXGILTlE8HDQ7uVViE"
    "RsTFElB1m4dPNrTjWX2v7qdGZivlTLk0GJhXyxXiaxBWw", "ewogICJ0eXBlIjogImF1dGhvcml6ZWRfdXNlciIs"
    "smNLqtP7kL+qVpmJ2UI/jjgTm/ZVxbQtXcuNYJp2NHKOkkRH7BhccnUmS3T7JsbPFOacQMiFtaFKr2ODLCk7vHsve1J"
    "jaPjgitNbsgb5mnmlyzGUXr0rFMXsFa9/MJA/2mBZaLzIw+SjfQWT6sy4xQddwWy7L8sEgXr+Png8KDajAKJCumAgsA"
    "wOVkpFNlabrRRacwOJxCJeI+KiZpxI1/aW6BDst0SPUtji/Xm9g1IDVu0+DrukKEZHmygQ7wZj9tbZgF6x0faCdXg8n"
    "SBo0W7QBs7y14FVFU38anmByWg/KT1HmBmC4nMUzDC2mZNgZDWhKabd0Up6VHKIpQ5msrmhRyPgyCHDWdvckcP0CkdS"
    "JrlgNhwd5a8YTV+2YtWO7j4NS7xsvZKNPTLnFa4P7cF0okCmo6x6Sn2E0kZ6RV4qSX/Zdeh/dZXC8HrRW9F1A1ThsV5"
    "nWBa0gfMcokwiQbY57hfO1IxufhEcqYhGnScuhR0lmD2rp9U/DYNYePGeoOIw1oUTKHHqqygeVsByeGugRQPBveArYM"
    "vQxXOgHfrmU7oiQA6UellbxSg/A2ujGnX6z4pVLmOQDBnaqqBZaoNeHf8RephzQ+oUoWrhrcQ0jlGdqJT9eeoEh7UPV"
    "ed9vmhmWG5W7H8B4DwJJ+qn4+RPKNtmJ6KfYnLK0ojmLDaqnj3jvpd6TaL6fz1tpa15vaOXlpWHUWSY0qu370ZoEcQl"
    "Q5E5KvQ/LwCRyRxpsChrvC3CmZPQx4CNmLkiCByTuJ6RqEpgmSyQcQfBxYunScYLS6ZhV4xc3OyxxY4msKvsc9VqnZ+"
    "hIh6tUPqA+b58jZbf27mywAIKIqmwarCDmaRUgQh4luQpgbXa8btHRM1QwR/eZHJ3vPZnXZwtZNZMg82z7apCt/6k50"
    "uVBIxCZSv34kcyFUVYqf8A5QjqCPc/+K5L3tYZYqLC7pUlk1D2mw5ayAUaA252wmxZqNaD0Ht2FVvbPkF+Srdt/3oUl"
    "LEsl6J0gJTFrTTPG76k5d1og54PrHCYlgMyEqsTaAPlQIL9oHBPMRs90NghVYLJLzW4YiOfKUQM3RU+kRSU/H23Jktr"
    "VuurhVSxlenOJZSVlliZgOrh2Yl2PNFJad8/x8NVP6SO0Byqz811ylmtVZpTJJM3VA2z93qjCDPZZdrPuB8W0Xx9I10"
    "KMz0fp928z5viAcuMNhf1BEYZjcWH/vR/2SzlKmCceoTi/phrPXgWU+MGnSUxWGLbz3U+CIT3dKiqoN/rI1D/iIkA9f"
    "NSvqQJ+qyVV09eCQjJCXMt3vGCzdATFiuI110TU4gQBkiV52mtyj0E0HpMJhyw8Z5JkrYoixTLngQC2BCTqpjYf8/9k"
    "ADp1lEHipSSknAIls4/gNN2O7ZZeCbwedmE+mcRHenV6k62UQdnsGZuwEJW8Nl0XFOYA4J0DnFDgceUgB8/ahlD+01L"
    "omM2ZARCEgJ3alL6DiK7DhZcq5+pr+JGAT+oyRaaa58a");
T(P_GOOGLE_API, "AIza" "N0fNGhKwoEyBE7UwMsMNGf-E8VgC7VcqHVV",
    "https://maps.googleapis.com/maps/api/js?key=" "AIza"
    "-vF6oCFk1_p2vMx93hY1QiT0PdcbzCUz7zZ&callback=init");
T(N_GOOGLE_API, "AIza" "j1Lb_nxvKpxFIQvqrVUWx5sRNrbzm7HpZU", "AIza"
    "Ye3rq3CYTHW20DqPgF0knvm66acS4fv44GIW", "AIza" "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
T(P_GOOGLE_OAUTH_SECRET, "GOCSPX-" "43KMvvGRvTl_D93JUqkFf3PnKQIh", "\"client_secret\":\"" "GOCSPX-"
    "pUyn3hOsoAXhGyCsOhuQ44wTXx_W\"");
T(N_GOOGLE_OAUTH_SECRET, "GOCSPX-" "d1Q9mCg40JQ8esANELzfJamRFe5", "GOCSPX-"
    "1IvF3WNL7S2ykiZ3Hq4bt5fihYuxk", "GOCSPX-" "xxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_GOOGLE_ACCESS, "ya29."
    "PVXHcqi36pNakLlw-tOOw8vzXV7KVMYZtmU9gj33kptUbMl-WuyvsRLIMcXsLwH21nKjctToXxJ4ZME_WgtG1LfveHS"
    "IVFRofVGBNuwkM9GXf4lHxsxE8GOD6YVTNmQ1mMibJnVx1NxNA_a9bjlIe28aDUk1jjjmkoDpufq5Dfvd9FEm61f6",
    "Authorization: Bearer ya29."
    "ErlkLm5BcMde9vS8UKlF4-EU-P2bnTYvBoC3hmI912bkMmolo_gsO-LBzNSEh5UnXJoo_PFP6njUf5LQsHYajjoyaSz"
    "9vLUpMUx92RekPQRwBt3HaskhoNcWEePgUe6ze5rqS7FNglmQgAU2emn8dzk-ZsEIAyPNjCfdjWHrpAEZ5emLbQ0kd8"
    "Rmmce1U9jHi2wVp4YH5wMnEBDOAXU4SJX7of7m");
T(N_GOOGLE_ACCESS, "ya29." "pKwYTQg99CYWZGl1cF3yKXq99c25ux3DNqs7TwsW", "ya29."
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000", "ya28."
    "eoIPgX4piJd1JYA7epxG0MT_mSpxw61cNwdKnBJq7uy8yDOeur1DTegLo9UVKNYeyxbygPgXkDTudSq9IQ6_nrmohr4"
    "Z0mQ8m-UxwOD9gJxTQ9ovM_kQ84DFejI3X8yLaPofHcY1BD8f7cIb4MYJ9HymRbZl7LiSfoJxYe9YBU07S5P4QyTC");
T(P_AZURE_STORAGE, "DefaultEndpointsProtocol=https;AccountName=demosdq28l;AccountKey="
    "qH9339z3deBVFucmA50lPxB66JE+O4XWvrcEG8I9XxPpo1hjW2V9OEcEuMs7X34enkXVJSAFiudYQe1yxyLcDQ==;En"
    "dpointSuffix=core.windows.net", "AccountKey="
    "UJ1bj9nNWr9h9TVURZqspg0f4gEV/mS/4kL1+vRYvW5h05wuYKdVq/AEDOBvy27n5v5bMvOecCwVSmM9+Dg30Q==");
T(N_AZURE_STORAGE, "AccountKey="
    "TePSgULKvc/kWv9KY70TxP70VpYqEPoZaWxuAW5f761Ij/JbfHtddetJg5h6F617qMAA0A9OnKBaW4YJTlso",
    "AccountKey="
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx==",
    "AccountName=demo;AccountKey=<storage-account-key>");
T(P_AZURE_SAS, "https://demo7zr33i.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r"
    "&se=2030-01-01T00:00:00Z&st=2024-01-01T00:00:00Z&spr=https&sig="
    "D9ISgdJiNnT4UG6EvYYwJefgSxAj0owLQrWGgxTMmzU%3D", "?se=2030-01-01&sp=r&sv=2022-11-02&sr=b&sig="
    "c6OZZB3r9cLtanWB%2Fv2Jj4sqDyhBcZfqU9%2Bz2GHh%2FNo%3D ");
T(N_AZURE_SAS, "?sv=2022-11-02&sr=b&sig=" "C7XXIzMUjxAvwe2WlZ7ZaLtJ", "?sv=2022-11-02&sr=b&sig="
    "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "?sv=2022-11-02&sr=b&sig="
    "l1bwuo/KNGCFg+tbT5RQ6YIxZfD/NL5CiePHzAqsN59%3F");
T(P_AZURE_SHARED, "Endpoint=sb://demo8q26j9.servicebus.windows.net/;SharedAccessKeyName="
    "RootManageSharedAccessKey;SharedAccessKey=" "WFRIzjKwbuMWcAQKeYnrWaO0IFBpA1yO6Hr1OD4hIeo=",
    "SharedAccessKey=" "L7DtMoRUdgX7uUcAABUi/2+ELdQPyluX9rbG6HxXgl8=;EntityPath=jobs");
T(N_AZURE_SHARED, "SharedAccessKey=" "YMjGtAYhU142CtX+QcdHvrgYLkB8/2cVVAXCKvNN0Q==",
    "SharedAccessKey=" "PctX6VBlgqlPlpakvRAWvt+Gj5X3tHlqEl4V0JjZv/Z=", "SharedAccessKey="
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
T(P_AZURE_AD, "L4S8Q~" "Ue6kYd4g9aKkqoyXO5HY77LfidnVbaqLLp", "AZURE_CLIENT_SECRET=" "zmi7Q~"
    "cRKFG8NKi75728OaCheuHh9yGiKNkw.");
T(N_AZURE_AD, "LAo8Q~" "qDWdTiASBDRZ9ahotC-p", "o4nzQ~" "RzBr~tlUTWXxhWyUT-T7obxz2KOUWVzm4K",
    "abc8Q~" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_ALIBABA, "LTAI" "Gtu1UnpH3Myn78iTcNKN", "ALIBABA_CLOUD_ACCESS_KEY_ID=" "LTAI" "XSZS9wjQzsed");
T(N_ALIBABA, "LTAI" "NlnGbOF3026", "LTAI" "tKtz5lUcDQZzCX2vCJMsF", "LTAI" "aaaaaaaaaaaaaaaa");
T(P_DO_PAT, "dop_v1_" "d26de134bd02026079e3870f79117f2648c54d9827fb1cb62bca967f30db1ec4",
    "DIGITALOCEAN_ACCESS_TOKEN=" "dop_v1_"
    "a77ef4a6807b7188eb14d32749754a2d4c02f1e4687675f0e6033c0d85962f84");
T(N_DO_PAT, "dop_v1_" "c83cc4bf382fcfc5e16fdaf6fbdff78c31bb308957aa5ac2ec9e0f8cc871b9e", "dop_v1_"
    "7d6b86f20e36907fe31beb162152b8c0869d71a1f4ec998f0fe6bf661e6cb793a", "dop_v2_"
    "e09d4bff8779274fc483367c6c671a0d628a3168a68bb21c9dab3bd03f7bac0b");
T(P_DO_OAUTH, "doo_v1_" "7225a1742962e3c8adf07d6d37df75b27d91a4615986aa22fb0c4988df85389c",
    "\"refresh_token\": \"" "dor_v1_"
    "652e3a0c6c7efde3f2e71ef8e3ea7ee8d6f8b3fbf548e780888c42a620107500\"");
T(N_DO_OAUTH, "doo_v1_" "35d881f8330d360b197e049a6cea2e0d0e7be2f3861c1e0fad1e582706502dd", "dox_v1_"
    "243b88ff19adc2bec28c34f584282a99e663735bae940536cc9beaf7d978615c", "doo_v1_"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
T(P_HEROKU, "HRKU-" "mfMbXp_soTwK_jned2FCG__KDJ2Ca0-gXhT8S_SWTsqHXd_e8z2HAtxqXYVV",
    "HEROKU_API_KEY=" "HRKU-" "mC8hn5L59oPWd59LpKeuTMqKy9zvo94J-Jycl50Gwr-8ZRI9mRkI2YprhvITcKms");
T(N_HEROKU, "HRKU-" "m6dBD2zuvIxmJ-s7hCanlpJjQJRoq9-ssj2LFIeb", "HRKU-"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "HRKU-"
    "iaWDz0yHKFbiUIGHeAdNiqShHVEemevYQxSsNLxekzFbDiL3NL9QVGhMiqt3IOr05cgC97OwQVBvLGWo");
T(P_HEROKU_LEGACY, "HEROKU_API_KEY=" "a2c6cbd4-85c1-efcf-4ade-2cd7f4e09dc9", "heroku_token: \""
    "d6c74ff8-9f68-8a54-8f7f-1320aa56ef49\"");
T(N_HEROKU_LEGACY, "request_id=0a7f367f-dbe9-c580-58ec-5ae5389a82dc",
    "HEROKU_APP_ID=00000000-0000-0000-0000-000000000000",
    "HEROKU_API_KEY=8139ab38-040d-8da2-6d7600617b71");
T(P_CF_TOKEN, "CLOUDFLARE_API_TOKEN=" "a4WTrn0xDS44xecZ4xcIjwNQtooo6spxs3v-gKBI", "cf_api_token: \""
    "YMeKI2v1BzEXGeWAXU7FVBO6BixKXm9K60LuO8M-\"");
T(N_CF_TOKEN, "CLOUDFLARE_API_TOKEN=" "4c17ca4ba9d0970149812d66e384264f11ea2d69",
    "CLOUDFLARE_API_TOKEN=" "dEYCJ4UQE_SB2_k3APC3ZpqH5mQ6mPcerghD18X", "CF_ZONE_ID="
    "054fabb99c8572c3351f90890f3fc91a");
T(P_CF_GLOBAL, "X-Auth-Key: " "6a76ced6404d6178d4022d33ccbe0ddd3f00e", "CLOUDFLARE_API_KEY="
    "e4c7c27e6ecad23ef87d6f3f0e5c31053d06b");
T(N_CF_GLOBAL, "X-Auth-Key: " "205afde49091f02f76e7aaeef0f768384a27", "X-Auth-Key: "
    "4884d70729a445d7fbed7ca9a7a708efa9c78d", "CLOUDFLARE_ACCOUNT_ID="
    "408327ff8e208e3dc1e86c4f38ead533");
T(P_CF_ORIGIN, "v1.0-"
    "46b1adcc4dd5f718f308c023-0f8ba09763f581d2d9c628d6ef81b66cf0bc62b471439180f5f303ce626a309b3d"
    "fae24f0febd6a2e243a3cbbc608d7c3422a1a87d9956ceeec532540f5d855c68cb559dff8fd7c7ca",
    "CF_ORIGIN_CA_KEY=" "v1.0-"
    "ab6157fe455a20d078677fdc-931bbb7ae6aa861966b140afb91e0ac9d1d29fe057170d61efe9a096db70663d4a"
    "511af943b8b8f9de3ced2f7d5462a74c9707fe0602a8f6b7d35afca9caff2d55b70787ca50f9ded2");
T(N_CF_ORIGIN, "v1.0-"
    "9857e17258dc0f68c77782f7-d727f3b0a01a2d9b802e18b4cd6b272b7a206ec83ba9014914fc1e82321a73accf"
    "59e4d356266d8d9abeee58032babfa5134d7dabf1d605ede9086087a00d40e5fcda3673edc633d6", "v1.0-"
    "1f0f18b3df763c2af3651dd-a9674401cb307815ff0d22ea4f811c2933bb7d3d0e2e8969da717d8d594ae5d7ec4"
    "86d1ef4b4b3fbbc85b23ec8d9cdcb6d6eac40599137fbee01c550dd374d6b78f97d4e53d34bdbd2", "v1.1-"
    "0b2082c5ce5b670b43341206-1b65ecd4366bb5a9da153939ed966a608f992d13fb051a7955a19ed2bab7e7a859"
    "69cde9a01cc9afd0984db1e1f407ee06ce74cac8fc8bcda2932aa7cab336fb4190371314cea0e491");
T(P_FASTLY, "FASTLY_API_TOKEN=" "js3mi6gvgRZqPNzRgj8TR-MAlk7FSYg2", "Fastly-Key: "
    "tmPeCHijyejp2cgALmOE2cvTWDGgueFf");
T(N_FASTLY, "FASTLY_API_TOKEN=" "gHD1_z6OERG1QbOjOo_1b5Cm7y0adtd", "FASTLY_SERVICE_ID="
    "8y2RRvrfa2y9hbkTyB3pMV", "Fastly-Key: " "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_NETLIFY, "nfp_" "Mw9VpX9nzPwrUTaY00JsBKtTcpx195cONh6p", "NETLIFY_AUTH_TOKEN="
    "Ojpgq3kVx-TlL6D86_qxKE9tg_nUfGCuJ-jrKNiGJyV");
T(N_NETLIFY, "nfp_" "uI0tWWfcYhxIuhsI2xFvKiaNU2FcQCtyFQb", "NETLIFY_SITE_ID=" "b49dc29a-c3b2-f3ff",
    "NETLIFY_AUTH_TOKEN=" "N6RD-jojoQpYZtJzavAb-gDBL1yJPy9AgWi7mS9c1Y");
T(P_VERCEL, "VERCEL_TOKEN=" "ZajYfMQegn91bg6dPBYKf60H", "VERCEL_ACCESS_TOKEN: \""
    "PCgRRREXDtRTrDHWhPTarQYR\"");
T(N_VERCEL, "VERCEL_TOKEN=" "k9dsdAGkVc6JtkNSEH8AGKA", "VERCEL_ORG_ID=team_"
    "zew3ro1My8tPuPVWn9zIY4ks", "VERCEL_TOKEN=" "aaaaaaaaaaaaaaaaaaaaaaaa");
T(P_SUPABASE, "sbp_" "67267d75a3e9c539400fcad69d789748ded2890e", "SUPABASE_ACCESS_TOKEN=" "sbp_"
    "b0b45868e547603c4748c19477137a93088bee2a");
T(N_SUPABASE, "sbp_" "88719a2c9b023636aca6e9b96c148c2b6beed28", "sbp_"
    "vgTwRFTiuXvMW0h3XbkDUeCj5h5vk85UILOF31HVx", "sbp_" "0000000000000000000000000000000000000000");
T(P_DATABRICKS, "dapi" "713dc9337d1128430d047bd593b194e9", "DATABRICKS_TOKEN=" "dapi"
    "181475d826204f22a5b32e22636e5a18-3");
T(N_DATABRICKS, "dapi" "3f1d7ffa9c85102929d55a96122feea", "dapi"
    "f20321f7ef88d5704b2f195644df8da8a", "dapi" "00000000000000000000000000000000");
T(P_TAILSCALE, "tskey-" "auth-kLpddepnHtlCNTRL-JJJtCu8AzYYku9qa6fVBHeTEMBC1jO7n5", "TS_AUTHKEY="
    "tskey-" "client-k" "F2TtqFTXz9CNTRL-Gy8Usyl6M5VU476MnqjRAjLUhkUtTh27C");
T(N_TAILSCALE, "tskey-" "auth-kBKns1rcbN8CNTRL-dhOwz9uCDOR5", "tskey-" "other-k9EgeezgYuV-"
    "rfYCBQdtQ7NiaXuVQ50O05iURfkQNf6Rx", "tskey-"
    "auth-kN1kGuAuycyCNTRL-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_FCM, "AAAA" "NQLtG7D:APA91b"
    "7JYPLP_uoIKYUlRbD7z_Uw0Tjm79qAq7lMzZJShe4g2q8K7-FjEFmu9kwdp0nk46UHzDVEt3Bcds77mJDMs_nYUdd0Q"
    "nvfGxpzaa7tGClnq-_TNW9uBonEaGFeR1ao1iCmKmdk", "\"server_key\": \"" "AAAA" "6cuBPWP:APA91b"
    "47QeHyahE3MTm2P4D7NddHeEd7YNUdeXzJLq_H_Qw0pLO8ck1Y2qLCpARhKqo5qYXSYvmFaNgr5dTKos9u_3p5YZLtg"
    "PgtvfRXE_60hFnsZDJYsldommGuFLI_rJd7OEv1uckDl_Myt9\"");
T(N_FCM, "AAAA" "qE5GKRm:APA91b" "dqqJWLgp7OvMfYvuwZ6lhGa32tT8hv7on4b6mP01WU0mO5pp7LYuvQa-gM0C",
    "AAAA" "LSidXx:APA91b"
    "lCkFQpTaiMcCId0LhzCB-0VjdvMz4BnXibqkLnud7i9KkYOLwpH7i9TGlKEBkvBIIbAwpaeCHqLF7QNJ57XAgZ6Ugq5"
    "FuMCNaz6Ej4nPwQ4LiFLW6OXEBbardjNWutx2j8wd5e", "AAAA" "EYfVwPU:APA91c"
    "NEtFuhR3-iH_gqerPm-pWQ35W7v-hpmDkXRBwVWBwKVLqltE_4-RP-pwZbU1j7-HbgIC-VrluTEuRKN-PUaE_9J-34m"
    "ws7714gD-YXD1t9Ifx_dvhe0ppsXufG3zgoP7aHkoww");
T(P_GH_PAT, "ghp_" "cbYiHNO1z2QmdbtYs4sw9orzt1fz1k00C7t0", "export GITHUB_TOKEN=" "ghp_"
    "WKEIlmFDWTBQXKWAnDgtkXZt4Jd5UU13XjP2",
    /* a valid checksum wins over a placeholder word spelled by chance ("faKE") */
    "gh_token = \"" "ghp_" "PXDwCMCfaKEYki99hCM8lp6Cu2Dj1B1eNUNT" "\"");
T(N_GH_PAT, "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_"
    "CxMlzrg81fV7eQ7NPBKbS9xafuHJkVU9XIKP", "ghp_" "7jH09PCp3Gnyg3qxuYNUemwx2sFdXsgml4P", "ghp_"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_GH_OAUTH, "gho_" "EBuwkRgzfF1eJqyLbWgZn3q61RFxDR3eE8yE", "oauth_token: " "gho_"
    "kXAV3uPSMv0XBHVSTQNix2QyGq47ux3tn4zm");
T(N_GH_OAUTH, "gho_" "Gcm49WOp5XjZVC7tnmFKp2AR9WNbp0SqrnAL", "gho_"
    "0EfhLuHGf9FdsC9Lu9lfhfJtISqaj53O4x9K1", "gho_16C7e42F292c6912E7710c838347Ae178B4a");
T(P_GH_U2S, "ghu_" "I3hrdRhkrMGcZZcL0zIvq6i7BtdWw00DgEnO", "Authorization: token " "ghu_"
    "jjKZJ69vyq1mWs9GL3O5ziYPenL5BJ38GJzg");
T(N_GH_U2S, "ghu_" "dBWCvVKa0XYxB4PGQDxaxjPQ6o7mPyIjzXAg", "ghu_"
    "BEoUKmQn7L04ExBRYsXKICBvYZvfqcSxZPTya", "ghu_" "000000000000000000000000000000000000");
T(P_GH_S2S, "ghs_" "K7b4NB5MYq8qJ5QkpLwWarustJlvln2lqRCH", "https://x-access-token:" "ghs_"
    "Q5bZldnWW0b3Xy8DgbBK2qMXuh0cCS2a0c35@github.com/o/r.git");
T(N_GH_S2S, "ghs_" "svYkIv9h14FxgSVJJesKJ8NLzuUS6nZAoVhk", "ghs_" "ll1MznAGrCqOsAXdwvKtXlkZlGmxZy",
    "ghs_" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
T(P_GH_REFRESH, "ghr_" "AMcmQh84D5ic9q86pHil58u00TCKiZ3vKL4x", "\"refresh_token\":\"" "ghr_"
    "R6cgQhTOVyw1R45gAbE1TASRZTW4kQ05pwZL\"");
T(N_GH_REFRESH, "ghr_" "PlJ5hs2esdmWhr8kbkiuPhDNlAXf5ibUXbmR", "ghr_"
    "7Nbp12ojDSCZyHrjdG6zB1Mn3AYZ8av2mW0MRP9j1NVnOMsmnFFPoECLxIdN2EASk6Mjnu0qhzSw", "ghr_"
    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
T(P_GH_FINE, "github_pat_"
    "NLmxgW4FVSa4XHrrzh8Erp_R9UvjzsBVhQZMfFg98fuRBINj28pp6hfBroejNGfbfmhOVNkoHnNFh14jzf",
    "GH_TOKEN=" "github_pat_"
    "i15ePCEdXrbHOsG12Y0AVY_C3cPNuKazEk0dFgEZ5LyUsxcUIJ1ZVhEKWepLYXc6apA7fXv5KLaoUfYAwT");
T(N_GH_FINE, "github_pat_"
    "l6s56tVFz2OgU7Fo1zPL9X_tTHAsgr06hx87OwydaCNGZXRsWhsH1JjGuYseSBr89uHCZT8M22oGKSGbR",
    "github_pat_"
    "rba2Ic745zjNVk1AA0OZj_Ui5KSYfpjhKS2nRcKruQVFKKNLny0OVJI3iEhJwo7RHeTogoo8Z9SILIlrM",
    "github_pat_"
    "xxxxxxxxxxxxxxxxxxxxxx_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_GITLAB_PAT, "glpat-" "hd82OAASHtxR9tr0v0D1", "PRIVATE-TOKEN: " "glpat-"
    "gNXUCgFXMGTf3j0VTu7s71bGwLXZBwxraft4_rqf.01." "2nq80gxz1");
T(N_GITLAB_PAT, "glpat-" "VUhloZzp9pALPQqkXsq", "glpat-" "puKGP1N99_WYxwaMvPNCkneo", "glpat-"
    "xxxxxxxxxxxxxxxxxxxx");
T(P_GITLAB_PTT, "glptt-" "82be4777bd538b2bd2aa8fb3d293e0473afb643d", "curl -F token=" "glptt-"
    "87a9d290af315890a4306f6acd1f4686cccfc5d0 -F ref=main");
T(N_GITLAB_PTT, "glptt-" "0eb370c4913b0392a64bd0aaa84f92c8de545dd", "glptt-"
    "TMHrIJMdd21lavHTU1BjeazKr0jJYiKOUhPRglzkX", "glptt-"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
T(P_GITLAB_RUNNER_REG, "GR1348941" "Sp9ZVtT6OHe1uuow7vBu", "--registration-token " "GR1348941"
    "ADKeEsWA87bDOYKOrXFG");
T(N_GITLAB_RUNNER_REG, "GR1348941" "1Le0KKj-MRTr-lQ-nLg", "GR1348941" "ll_QRrfuidRlku2bNYDke",
    "GR1348941" "xxxxxxxxxxxxxxxxxxxx");
T(P_GITLAB_RUNNER, "glrt-" "sJm13BJdj1A1uURLTijd", "token = \"" "glrt-"
    "t1_d6CPXmp0B2Ka3coWMhlI\"");
T(N_GITLAB_RUNNER, "glrt-" "X5KWZ7c31MdEJHcDnmm", "glrt-" "nmzkEw8YK2U5lbEMJNaCqmL", "glrt-"
    "xxxxxxxxxxxxxxxxxxxx");
T(P_GITLAB_OTHER, "gldt-" "LDYPIdMugGoDcpjKZaWZ", "CI_DEPLOY_PASSWORD=" "gldt-"
    "1uL2aBOrwCAZahxFbTQm", "gloas-"
    "425b8e2a031acbe7f9fae0bbd4124a55f2d9c0a90b7bce4a6b7768d6470bfa1b");
T(N_GITLAB_OTHER, "gldt-" "y375pOKTPnEMnH9OkKD", "glxx-" "lglhMF4Pz9ctwZZgGm10", "gldt-"
    "xxxxxxxxxxxxxxxxxxxx");
T(P_GITLAB_CBT, "glcbt-" "58_sZx4MHkJYk87_50cjAhV", "CI_JOB_TOKEN=" "glcbt-"
    "g64akEeNK6e_8FBQebQU");
T(N_GITLAB_CBT, "glcbt-" "PKAyyHVbXOxdTwSqqYJ", "glcbt-"
    "68DXCnESAL008sz0leB1Cehfk17Wm7zPLsWytYyuFVSA3-_W6Y1N8mTc5_RlbmZWxlHncVB3qX6YNKxD4", "glcbt-"
    "xxxxxxxxxxxxxxxxxxxx");
T(P_BB_APP, "ATBB" "etYoqnCIdGSJBg6ms43JosHneMZ6vHh3", "BITBUCKET_APP_PASSWORD=" "ATBB"
    "xtdb6M0jfdsordTuRJ10SwDHHToZkMpu");
T(N_BB_APP, "ATBB" "XfzyEGAqf50SDLinO3UfvK2X4hrQoFr", "ATBB" "lWuP5pz0S5BfUm5LKBkK5kNs3jL0VLUHU",
    "ATBB" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_ATLASSIAN, "ATATT3"
    "xFfGF0tByVgDwQPl1B7FoZtAraXeWXtFLa9NkGMy7mdrwatTLfy9cmXTip0c8YPsYFY_cwA4uaqR02PkoKiR0MATSm1"
    "yHyGNPsI95sBaWvWtJdCtuMS7RxllHeg-SwbEuCvJMZEl6mbR4r1of9SI3tr6OQBoUZXB3BgFBPlRRacMJU_w=1137C"
    "041", "JIRA_API_TOKEN=" "ATATT3"
    "xFfGF0ckG_Tl6qbmFD1HZNV67kp4qqPE73ZaQ4QK2TW1Dlku9OBIg2I8WglInP6342A5M2H1TErkc0hW8M-xbc_bwiq"
    "pVOno2tWpGRq6lbymvlu2NK-t2RBvkoTrYl9vGheckH6CyM_kocM0QVPsDhp2HzHVBqpJ_Nu17F9yCp9Dje8hbJ73kF"
    "=CAFF25F6");
T(N_ATLASSIAN, "ATATT3"
    "xFfGF0dsU2Z3m89jT3RA9JRoqi-BTYWfMXPW3qRcyqAL17yX7ebwcxz_BZjdNZo_PEjVTEcssALJuC7QkmzNPLSekEU"
    "5mUt6YlBXN3dfceDT1RV1uGFZbB4Q_X4awgRAPHTXwcFP6X8O6bWeLf0MF_SQgBe3wd3-Pzv4YimGhLYnj_8Y",
    "ATATT3"
    "xFfGF0deO_tGUz8zuM2UGPJP-CHj99yJmKH5Ln9LhG8Ls5esHg3QdwIiZeMJNL6zr7sZx4m4nZr6N7hii86dQFG2Lju"
    "1yipk0lrEsG_g5Y=2CD98E52", "ATATT3"
    "xFfGF0Of9VSg9mtTcmvQIb4d5ovvtxYeIzc_mYJw49fw53Z-Y_kbFEXwz2tMYMB8qGFqNcb7lArmGwG2dsS4LrtUbFD"
    "q84ISqbJ_1SQoMnYqLxGdFe3qXPobshuE-pLDbQTRcn9_IwxJjW1XVdlPIu0g4aWeuxukcBkc61dv6A6z8c-F=2E5B2"
    "E4");
T(P_BB_ACCESS, "ATCTT3"
    "xFfGN01SBNqy5Utq-Ym7XStyQ-MN28pXM_iw4FyK9SqUSAWZFHpsqvEgZXkiUlaGtxZR26HAb5uVD5Ucqc--Sp7Dl4h"
    "vns53R39RKFJfzngpaopC_Vt9ciuCF8ZBYwAU81HIKS13dueUurXEDUiQZ192-W4Vx8l2U01CArYMl_DvGM6G=9F118"
    "BED", "BITBUCKET_TOKEN=" "ATCTT3"
    "xFfGN0Ivk-8ErVUOjtUHQaMX7XE389-5wGl_P25FzHN3elV_B2AANby8NgX3G1SACDbyyGw8T3e8U8lquom-TmycBFP"
    "ovfEY6jE6qG7KP_wvhRX1gk0YOWl3jWPDvUYmQQ0-EqCSZwXRIk5-vUQhdDFWmjymK2mWogf0JUOW0jDN2eNNy4eS34"
    "=6E585144");
T(N_BB_ACCESS, "ATCTT3"
    "xFfGN0R7WS5hcfGB1DZ815f-AMabZSnsBqPcki4_d78SidaXy0j0cT76773q3X4qi1K1RmFIeVUsuQkdTZz6ZTII4XU"
    "VylzgxbZ0L9d6_jeW1Td6AEj6vBQjyLCNLlECIpSLCbc6IP4oiB5rHpOuUqT-duQcC2jU3e6qe9v9bP7P1iS4",
    "ATCTT3"
    "xFfGN0G6gdOZxVDQT7hryvahWrq40Iisq68JIEKyJPj_SEkyGAjGd5ozxtUEL1mdUmWCwWuAJ-epazM3iTg-Mm6EPO2"
    "SUllAF03XfJzNod=1F853BB9", "ATCTT3"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=F47F70D7");
T(P_NPM, "npm_" "3uCIO6eNOJu8GCgrtIc0X87Fdp8I8s345PXB", "NPM_TOKEN=" "npm_"
    "TZTrz8iJwLEzn6UsFcfsGImbQAtlgG1RlTgj");
T(N_NPM, "npm_" "3GTzYsoIhHzDt3DsAXdPW3Vhw6E60bCooaWJ", "npm_"
    "siexu8H97AisuAmMd9wD1VhN1Z9cTfD7Kod", "npm_" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_NPMRC, "//registry.corp.internal/:_authToken="
    "brgbO6vVMh4S2XXwFm62TYWItj1qePTwtbq3hoohsw_j8Cv3", "//npm.corp.internal/:_auth="
    "Y2ktYm90OlZxMzh3VGRwN2xKRzhqaQ==");
T(N_NPMRC, "//registry.npmjs.org/:_authToken=${NPM_TOKEN}", "//registry.npmjs.org/:_authToken=abc",
    "//registry.npmjs.org/:_authToken=" "xxxxxxxxxxxxxxxxxxxxxxxx");
T(P_PYPI, "pypi-" "AgEIcHlwaS5vcmc"
    "39R-vS97Pd9NTHcgWWcTFze71clmp2kLfGT5lVm8_hJCPYzgDAPQ8uc0GD8_4dDwW4E1XsbzIVPF_ZjtBA5SuR3gtpK"
    "TgUoFmTjb8F9s8_H17SAPAY7OOQRCSiwz7Sd4rdDasif6mJxtBftzdX4aOLLgwlulfinL", "password = " "pypi-"
    "AgENdGVzdC5weXBpLm9yZw"
    "lgY67UoG_HmUCpdjfoksFYlVD4EVkcKwYZg2GqI14Jx2gXXmyk5ymO9kbsnaE97qrcptgMfEPHFES4574QeUo4R8nEJ"
    "a2WxLYcCPNOBws1ktxCTUKUauCSIebV_N0IukGPgAYY12_E8x");
T(N_PYPI, "pypi-" "AgEIcHlwaS5vcmc" "tMkDg7m-8GMU5BsWMHNUFffj4baRSAn-5ceI5gcf", "pypi-"
    "AgEIcHlwaS5vcmd"
    "D0Bu1lwJImU70S5KJMg9M8bNmb4htkHn8fWUX3zRkaJ6JZ1-K5bI45hZkB2u47vTui4MQvjSM09TWMpu4UlOzgDKByO"
    "TnD2yYUl1_vu06IjZQzLVWDeLZYDlmK0t4Epasusmq8Do4w1GuKjEX6l85iEQinMPfwoU", "pypi-"
    "AgEIcHlwaS5vcmc"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
T(P_RUBYGEMS, "rubygems_" "0fa819284acb1f2b814b89c6c8cc70c6ce2a3147ed6dc387", "GEM_HOST_API_KEY="
    "rubygems_" "6e65dca090037e977732441cb8ffd4f5d14ab17f8f2c644c");
T(N_RUBYGEMS, "rubygems_" "e259a3d45644cfb29c0864d86bc3a858c9a4bc33b26945c", "rubygems_"
    "6694a1eefafeb59d25d61e81d8b43cbe167f6254fe2d49b1b", "rubygems_"
    "000000000000000000000000000000000000000000000000");
T(P_NUGET, "oy2" "6oma4r3c3aoxvpzkuuovp7ybzenr636gmzquwex0tfi", "dotnet nuget push -k " "oy2"
    "eca508nl5pv11o1pu9faxyk92hiq7e7xtg2zajfcso8");
T(N_NUGET, "oy2" "yy1esgz43n0wz9w59epllfc2izs01x7jzn5tzffj0v", "oy2"
    "jqcbrz1dfeik0owke165m0lyxl18m0sjvhi3vdo9fadw", "oy2"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
T(P_DOCKER_HUB, "dckr_pat_" "9aD640A5V_I__6LK6ZKIyjcuIOS", "echo " "dckr_oat_"
    "7oaWh1T87LClR7qoz-REhn7BSMJpnGsK | docker login");
T(N_DOCKER_HUB, "dckr_pat_" "8xQ6mvgpIJiNnE8sYAEWBsnYDt", "dckr_pat_"
    "SeJP9Os9gGqWsgE1wWb5rivW74WQ4Q-23", "dckr_pat_" "xxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_DOCKER_AUTH, "\"auths\": {\"registry.corp.internal\": {\"auth\": \""
    "Y2ktYm90Olp0ODZyS0VieTFnTmhlaTRNYWtEWA==" "\"}}", "\"auth\":\""
    "ZGVwbG95OlJ3dzNBSDRLUlRCMktQcTVNSXVDUzk=\"");
T(N_DOCKER_AUTH, "\"auth\": \"" "dXNlcjpwYXNzd29yZA==\"", "\"auth\": \"" "bm9jb2xvbg==\"",
    "\"auth\": \"\"");
T(P_ARTIFACTORY, "AKCp" "0JrdgLPxMWFsA2soCnBeAznwqGtLFLCeGFTlCt3CJZk9NRmLWU2OmxzrRIv53iaBJteNg",
    "X-JFrog-Art-Api: " "AKCp"
    "B7rne3y1g12sNbwpsdHBOTZ7nFrbLy66thWRsz59EU0w7cvp1uCjuow006sRya4uRFukO");
T(N_ARTIFACTORY, "AKCp" "XjwC8dMzojYulfeKH0OA2f48hpzNuhluJ8iRbKxADqmBFZ2iFk5JDxfi5xge6q7NrFdR",
    "AKCp" "FoF7SSOZFiGs9rpioSFLIixiXPuMD0VMUEW4derv7DAUWUF1dGHwptnEzdP0LvnJMKc8Su", "AKCp"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_JFROG_REF, "cmVmdGtuOjAxOj" "AUHhyktBfwve6XToUGMQMZSpERVVEPIBhQYkeCCoxLzUPEQhlE",
    "JFROG_ACCESS_TOKEN=" "cmVmdGtuOjAxOj" "VYHZSfM0JB7cMYFhangJCj54XYAfC3ODPwkyXkQn2SxvQwgZqn");
T(N_JFROG_REF, "cmVmdGtuOjAxOj" "0bAa1YNC6cE1yzdiVOuEviXEzmxZy653gzR3x5Vi5vAIZv64G",
    "cmVmdGtuOjAxOj" "ivMBAmaLlapTvGaObYPbcQTdozDEaXLP0LNySGGrQ10J8WfktKA", "cmVmdGtuOjAxOj"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
T(P_CIRCLECI, "CCIPAT_" "9OAT3a7iJhQBuvgMAHm6qQ_29c76d7f7969783302f2de94ba4db8959ffd748f",
    "CIRCLE_TOKEN=" "CCIPRJ_" "hmOfVdDne0jDYWKyfgxlDB_1e4bd8c4a2007a28a8a775749ac76d87d2691c7b");
T(N_CIRCLECI, "CCIPAT_" "n3BCLVgjm3GqBwtn4sEmqD_4328d72c24d825cce037bf5d6e182e26d08e925", "CCIPAT_"
    "MFMk7n8jqsEZb6hFD4x9n_cbc2adc0ad05085e194d5017c06bfc4f14a31912", "CCIPAT_"
    "xxxxxxxxxxxxxxxxxxxxxx_0000000000000000000000000000000000000000");
T(P_BUILDKITE, "bkua_" "30148e2088eeac595d7157e97a9e1878ffeaa674", "BUILDKITE_API_TOKEN=" "bkua_"
    "baf8f46d6a969c86c924942f7dfe54c9875f7ce8");
T(N_BUILDKITE, "bkua_" "38a9202ad93e1f60ed7d56be7db2e2ce1a31c50", "bkua_"
    "e736cdd3affe695a5831392fdf3e9e9c35b861fd5", "bkua_"
    "0000000000000000000000000000000000000000");
T(P_TERRAFORM, "L6SpbZKmjR4q7x" ".atlasv1."
    "f-cmxTBQGp1-f-aYZIEUA3GDZsRM1lcVB8y57F0KWtHhMV8ykjmduEosWW5pelYKYKG", "token = \""
    "f6AXRhnPVxIbW2" ".atlasv1."
    "T84ESirOWPwWXPSRZE3gNphgzX0eS-n0zrHZkx3Dkz9FYQDdF8rG6BX5HGFp6T-GBEG\"");
T(N_TERRAFORM, "YcB2T6J7MmBJKI" ".atlasv1." "hUgmHODQ9wIb4eatk1GbvcbI4aC7rnyItHmBzNoyigGEOS_URr",
    "hORxeiQWugVdHY" ".atlasv2."
    "sUOF-0vmi7hOYyNUADOBhG5W855xYE7R6K71At_kRThvZ4l_dNIpeOjVkBUX1mfYYU9", "PHMlYa3crKoDmN"
    ".atlasv1." "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
T(P_VAULT, "hvs."
    "8X17gzQi6dZIUJGWhRu89umi3Vfop_83N4O2earrnOC5g2Y7t6p-oSQNbiymdCl7SkwW3J8W47_5fFHscv-Vhd5F9n",
    "VAULT_TOKEN=" "hvb."
    "e8QFhM0TTzMlJMvNe-WCpHOXFpA1uGL2WwxgcEf3JoGrY68XlCdAWO848bNVW1pPnSopJdI5i8ann99zw-2iYJyIM90"
    "hP6ypUjhAZWjs-ptQP9uNUFvtONbJzvyOvgiR9BeO5ghL5WHy");
T(N_VAULT, "hvs." "mJ9V0M1NuUDZv8AeFWF5", "hvx."
    "d70Ia0yvZDQQYCITnFf248008UAUXSvWWDxQRYgTLiYk8kbqwn6hEZMOauBE5H7mAQKfVrLdT_BAXpoqDAmAOkIhxI",
    "hvs."
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
T(P_VAULT_LEGACY, "VAULT_TOKEN=" "s." "2IgkVRvznhflNxTktfPGY6QN", "X-Vault-Token: " "s."
    "8feFSgO73oGdfVNenIPmedUo");
T(N_VAULT_LEGACY, "VAULT_TOKEN=" "s." "LXTGJPbYNzyEyPMvEA1hKzZ", "s." "l6bF70h5guJRYHFRzdqroFJI",
    "VAULT_TOKEN=" "s." "xxxxxxxxxxxxxxxxxxxxxxxx");
T(P_PULUMI, "pul-" "36771b568797d2446dc664c1debbce9716137060", "PULUMI_ACCESS_TOKEN=" "pul-"
    "e6a91a5313b4664b9c752a55c26c564e7d6e5d05");
T(N_PULUMI, "pul-" "f59f60e938216bfa69151005728def612158f7d", "pul-"
    "10dd08b15f56cf4f14ef1b71a24911cc0c5dddcfc", "pul-" "0000000000000000000000000000000000000000");
T(P_DOPPLER, "dp.pt." "7kwI9mQ2SIa9CXaJfDSXMunxrtWArZhm51Hh2pdvkvH", "DOPPLER_TOKEN=" "dp.st."
    "dev.XzbKZ7wWsDa0cc1DDANr9HnORvpya3WMywDoUiOGiOs");
T(N_DOPPLER, "dp.pt." "94G0bK9KHNy56IoCIQLduevN6ViHz2DNBGHyJWO", "dp.xx."
    "WsVZh2zZfRdThaHFxwpwlYdrMsTalDARNBjP9BdxnLD", "dp.pt."
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_POSTMAN, "PMAK-" "3db445eaffa191ed752a1311-5a178860739411221564804dc7781aa61a", "x-api-key: "
    "PMAK-" "f85901cd810ea81c8b291221-a5dc87cfa2f02cd0b4c43f83e7d28a3e4c");
T(N_POSTMAN, "PMAK-" "274464ce3a0cc2e9728b37bd-e9096e42164a12367991b31e5b082a105", "PMAK-"
    "50ffa0248f825b11c603981-e03021d02e1bb68bf11563c641a857531e", "PMAK-"
    "000000000000000000000000-0000000000000000000000000000000000");
T(P_LINEAR, "lin_api_" "EXJlm4LprqCVrORT3AZExapBxe0J1mYE2OPBizFv", "LINEAR_API_KEY=" "lin_oauth_"
    "9053397550cab3557d0e003c4e8e13f86243c5c4ce22ce08185891bbff6c0fab");
T(N_LINEAR, "lin_api_" "e7PG6FLZIDznIvB8CKZWmmadTh65QYT27qzbUZz", "lin_api_"
    "SNSrhccGdg9DaBPWYgwlUVzg23QykEh7vx5QxNRJX", "lin_api_"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_NOTION, "secret_" "IQ7cZvI7hty0pe9gMRNbvBHWKlaSrHi4xwwjRCkT7BN", "NOTION_TOKEN=" "ntn_"
    "59656277986vUTno3DsscV8SxgHp9J39mgLpxgJ4qSTVfz");
T(N_NOTION, "secret_" "LuE32K8QUZWPVoJQ3X88F10x1sttEjTOgDrO6CkGst", "ntn_"
    "FTUKOMeSUVdSMLN0sOPHDtNTm844LD4fThHEXeWOfFDcOj", "secret_"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_AIRTABLE, "pat"
    "1cis6XzdiAD2JP.33a1d7e5e1b05a18bde2ae3feac4010e0293c09336d4015606b953c99b8d967b",
    "AIRTABLE_API_KEY=" "pat"
    "rphYtx8P884P6f.3b61369a5116e3f3072bd1eb36769a04217a8d17d0af3563e354de2ba83fb425");
T(N_AIRTABLE, "pat"
    "FTEgsWpEwkyMaR.47e12fd4554c91dbd35ce6c3b757989c70e7d281d5b6e374ea99eb5da55038a", "pat"
    "WU98f8HWLDxdL.76bcf40906a77d64edca37f26683bb7557a5b0265f6302f78e99134003dcae1d", "pat"
    "9AumkrCuCLFbm3.0000000000000000000000000000000000000000000000000000000000000000");
T(P_HUGGINGFACE, "hf_" "erCxPCeIPYhvvcYZydDFqaHxnyWuExxNRj", "HF_TOKEN=" "hf_"
    "fnQrNdDBAIMMdOqUFBVbXiwNQADdDNtaLS");
T(N_HUGGINGFACE, "hf_" "gxwEaPXgxMkupyJdootCSnTHOXHdmecAL", "hf_"
    "AeOCDzUYLgBVMZCGHsZTTPTyMIsWzc1234", "hf_" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_GROQ, "gsk_" "vSGTkyRZRRyRcqmIdL7IQ7QYjcvNmgxJKRx8iZItjqRjzoixEHZ7", "GROQ_API_KEY=" "gsk_"
    "zx6UdYFKHmaWmIOpna2aZedaZcnO3TH3D3w1CmUmZv6QJAhDxBa1");
T(N_GROQ, "gsk_" "jR2WACIjGD2Id570vVTUNbJCwWrNTjfAyP0DJCn8OSklpWNclEQ", "gsk_"
    "Wj0O8nl51hVViXGEhPOz0XaQSUAfMD6lO1BlI7774c556EG8PTdEB", "gsk_"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_SLACK_BOT, "xoxb-" "363932929218-4466066690655-jnqxyMafWMIEsxKNUdshxqCL", "SLACK_BOT_TOKEN="
    "xoxb-" "20239637180-1ReCeANuHSuvITPC41lLepLD");
T(N_SLACK_BOT, "xoxb-" "638405365068-2728854769927-QXAtCOVts1isn51HgVRFHJQ", "xoxb-"
    "86780-3471831657265-" "35LPHT9FVxtHAh0XJ3V1XTN8", "xoxb-"
    "128812177674-2370072119730-xxxxxxxxxxxxxxxxxxxxxxxx");
T(P_SLACK_USER, "xoxp-" "966508914504-035700012700-0325705121588-b6241c326610d9c3215750afc0968e0a",
    "token=" "xoxp-" "1397230620-73556499287-829260717872-840b9e3c1c2ec40e5bf0e77c58211c3a");
T(N_SLACK_USER, "xoxp-" "708339289437-776996502757-6979185850845-7782ec125c0fc81e4ed3670952193ee",
    "xoxp-" "517857125998-615597804754-7a027685595531f7b1e25e5554ba54d5", "xoxp-"
    "772575914775-463878086202-2800829949509-" "00000000000000000000000000000000");
T(P_SLACK_APP, "xapp-"
    "1-AFFFR9IIETF-2792085531719-2501593cc836ac87abbf2c637dd0f67eb42a40cbe4f14af5d81815f34612e42"
    "a", "SLACK_APP_TOKEN=" "xapp-"
    "1-A270GIXECW-405609599750-3f1754a476a03b491569815b884528688a6ad036b0ed11ae6225ae08666c7068");
T(N_SLACK_APP, "xapp-"
    "1-A34HI3QOKUY-7010173188026-0b9f4ecde65e544482fb2a2575e28e9c9bcee061e7d52b475995249e1415c42",
    "xapp-" "1-a4c83per2on-"
    "0044627688716-5df2570479bdcc3940370f710d15af47f70e06919a41fdfa837a457610cb7410", "xapp-"
    "1-A4P0CZLMM6K-1059456254332-000000000000000000000000000000000000000000000000000000000000000"
    "0");
T(P_SLACK_OTHER, "xoxe.xoxp-"
    "1-g7ZUWVwhecRutZeEMI3JuDTKwhSKpI39QXykFmxmGPVoyzsUr29fkItkQ6f7midnqXTGE33V0KZ9uuWXoOwuxMfO4"
    "db33sNbPUYwvxmckJHeuVWo0JfS2r2GEfzMa7gwm1CMH7L1yGrZ", "\"refresh_token\": \"" "xoxe-"
    "1-L8bGDeYCVOoJ2EKpQ8uuq0i4ksl7way5f4bUaKoYJfjA82JOQ9FAhBiDbqS00t4s4eTCbaogYUSTKPBOlBczAWpAC"
    "oG5TbEFEaT66FmqEGPKxSiJKzk5VRvj\"");
T(N_SLACK_OTHER, "xoxe-" "1-WaRPFVi9uiumh8X76ogl2GXZrl8644", "xoxz-"
    "1-jdASg7gy9WMApve3tFgE2VUbUZW5TNfKZ04ckBEakszyutFZ0KRfioyZYrnjVBBZfqQZKr7FOCZJGP0NW0hL3DfE5"
    "Y5ULi3TcmdJpexlSgFCi6ujLlre0Eal", "xoxe-"
    "1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_SLACK_HOOK, "https://hooks.slack.com/services/"
    "TY8OQJ73AKU/BBQJ5K8H2KQ/aqeGiqyVRh0WToNAyryFbAa3", "webhook_url: "
    "https://hooks.slack.com/workflows/" "TZ4W28W9UU0/AHHK884V3OK/"
    "497363014627144841/2byIgzJ2pT94o1Cnwtmo1ZKUbRy2LBpL");
T(N_SLACK_HOOK, "https://hooks.slack.com/services/"
    "TMPAGC30424/BZP8O3P5K63/1wzb9ybENbqHWzkQ1rfh5mL", "https://hooks.slack.com/services/"
    "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "https://hooks.slack.com/services/"
    "T8Y8ZFQSWXU/BXBOJO5GGI2/xxxxxxxxxxxxxxxxxxxxxxxx");
T(P_DISCORD_BOT, "DISCORD_TOKEN="
    "ODI5MzA3NTExNTA3Mjg2ODg2OQ.KsxLLa.2ijsKsrZ6khCsYy0aohlVF28OADcQq3k3CLumv",
    "Authorization: Bot "
    "NTUxNzI3NTE5MDMxMTg1MzE0Mw.Z2ZXPY.satUnUHpunTsb6lNrRW-mzwvGvEPNzOIpaiRLx");
T(N_DISCORD_BOT,
    "DISCORD_TOKEN=awKlGWxPeX1Yp7A2mJ_VrBQC.UTo3uI.eWesRxqNyecEbQN5PvE_La4XpxG4-LKAKq5gFE",
    "NTQ0OTIxNTkyODcyNzQ4OTgxMQ.GPcV5H.OsXHrti0eUHef1JZ82nxjcByWH_X9AdIKK-93b",
    "DISCORD_TOKEN=MAAAAAAAAAAAAAAAAAAAAAAAAA.LOqXZk.nwqMtOIYytqFWuSmVuF32xnKDVawG1ohVeQIZR");
T(P_DISCORD_HOOK, "https://discord.com/api/webhooks/"
    "8543736896257548848/qFTTvDnhcjd2TpZvXVvPeR_BzwrkT19becm_x02WavPB_Z0UzfYuMnfszAMb1dk-nQ7w",
    "DISCORD_WEBHOOK=" "https://discordapp.com/api/webhooks/"
    "967291004116487102/3Y3qt42EzaJEsQbZkmiphhrXXbcVbp25YBoATXAP1azYNLn5BISNyp7MawBenNsCGyZA");
T(N_DISCORD_HOOK, "https://discord.com/api/webhooks/"
    "1575433382947150832/PXfks76GEhM9W8U69vMybjxVFZfZG5GcTLt1oB6X",
    "https://discord.com/api/webhooks/"
    "1147550327/ukESJ9ruzEWP8OmByfeaTCwkHOVEvTjNMQBO-tH19Cu-rTBjhP8DxiEM4qycQiwjYF6X",
    "https://discord.com/api/webhooks/"
    "0626366404025621475/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_TELEGRAM, "3680963674" ":AA" "nuDtGQvF-Bo5fOX0NE3GaO3uRwJcSYNNp", "TELEGRAM_BOT_TOKEN="
    "600255691" ":AA" "HYeD4kwjmcDaxFW6wCRfaZIoFecZmzrrW");
T(N_TELEGRAM, "3370075715" ":AA" "RRLGcrYJCH9LD0Xib4lWD7BuRpOMHSXO", "706978" ":AA"
    "g7xXpSdrE5-IbkbZGNqMFXrQy3xTJs3ZU", "2736093814" ":AB" "TLobxWOHXa-Penip3jyVF0IB37jGN-0bO");
T(P_TWILIO_KEY, "-u " "SK" "afa3868380669c0b0b40c62ac3173785:iVChWvBig1JskWa0zkzNnqfFjyuhOv8N",
    "TWILIO_API_SECRET=" "oNDe425WQTNZHEPlcm50mHWX5y4eZB1j");
T(N_TWILIO_KEY, "SK" "9f4d33da830844b07a71cb8e555fd068", "TWILIO_API_SECRET="
    "E6ANsqQQCcLdA6Om5L2c1k5oACn82XW", "-u " "SK"
    "f3b7dc769d5682d02661d38f42eb8788:$TWILIO_API_SECRET");
T(P_TWILIO_AUTH, "-u " "AC" "289d887c9c58cf96a00953407f1f2807:e4aaff607eb1762e1ad75f6c189f5f43",
    "TWILIO_AUTH_TOKEN=" "d1f4782f8dc1b7b94a290b9edbbb576c");
T(N_TWILIO_AUTH, "TWILIO_ACCOUNT_SID=" "AC" "0f12bb180ab36e9b3b4b1cd9bda3d2bc", "TWILIO_AUTH_TOKEN="
    "6443178576f4b5d1a13d878206541d8", "-u " "AC"
    "968293097ae00ca12303f695c38d64d1:$TWILIO_AUTH_TOKEN");
T(P_SENDGRID, "SG." "QSckYvJk7_2V75USbxpgTv.XoTNUHrSGCJZNHLI5XAIxKMqKeEzSSFglZjgIhWwXva",
    "SENDGRID_API_KEY=" "SG." "wFrMD5R-WnypTasvT-1cjn.yrKrER1TgioYRkzLvMZzaJpZ_Ui2NmCmM8cDxJdouBt");
T(N_SENDGRID, "SG." "RMgtPz_2NIOsPHZr5Vxi2d.7D6_5IhU5qGJ-meAJM4ayL84fsh8etvDVfUOaCA9tf", "SG."
    "t7lIYKJpm4mwDz03b0Vu-.DxsapYkInkWhR1OEexNMK5J6kuHuoA1YabIPpw1cyUS", "SG."
    "xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_MAILGUN, "MAILGUN_API_KEY=" "key-" "cc96136d93446d4657d7c916b42772e3", "curl -s --user 'api:"
    "aa16e0487c12e353da4c4f6a386ed1c6-" "2f1faee2-b62434b4' https://api.mailgun.net/v3/domains");
T(N_MAILGUN, "key-" "3e9d6c063cb410e0fc9fe93d43ddd31e", "MAILGUN_API_KEY=" "key-"
    "e99ee9a7ebef78ebff93dbdb9a2ff37", "MAILGUN_DOMAIN=mg.corp.internal");
T(P_MAILCHIMP, "9f3f53ac085f4bc50c3434a2fc260285" "-us" "14", "MAILCHIMP_API_KEY="
    "f3fd67d43d921c3e50908632dd0e0434" "-us" "6");
T(N_MAILCHIMP, "15bd5791a71d62151bba5aafbee4f37" "-us" "14", "7d8dee4b51522ac5c3c4eaf32cb2ce49"
    "-eu" "1", "00000000000000000000000000000000" "-us" "1");
T(P_BREVO, "xkeysib-"
    "803f3f7e9cd1f991e0d936251c86604617b9fc3c5214d6a624f191cf4da006d0-iTjUq0WfiN3DCEPl", "SMTP_KEY="
    "xsmtpsib-"
    "8f3989c2f0f0149d78956b120ef930b2b350445131dc4dc71263825facbeab5c-552gLSVBJlLmvgQy");
T(N_BREVO, "xkeysib-"
    "571d6a099dd0c88ad4ee8a58a3192a0f73f9600e501da7578e9791c09441481-mEkJlBoBZXUsTgWg", "xkeysib-"
    "33e3185299b94af32beaea973050cafc32611fd53e7f6736b7da84b02a1767d9-99iyEIlHmxeZwCi", "xkeysib-"
    "0000000000000000000000000000000000000000000000000000000000000000-CBwHMH4si3mwCjd5");
T(P_STRIPE_LIVE, "sk_live_" "aLrCmClHOlCrViRnT4U2rUfT", "STRIPE_SECRET_KEY=" "sk_live_"
    "blruJjJyE7ArH4AGgCnuWf6HrjoAlpQRunFhT2w5h7mtEO97TVZLStDy4vm0qa8F9JZ1Nj9Lvlr0egMKIYNCmeawG39"
    "i6V2o90i");
T(N_STRIPE_LIVE, "sk_live_" "FjXhF6JoOUG1bS0RAWFl8Bf", "pk_live_" "LMVxG6jTPQVjXGiD4K7UoHAW",
    "sk_live_" "xxxxxxxxxxxxxxxxxxxxxxxx");
T(P_STRIPE_RK, "rk_live_" "UmLjAaN2vQbmSJnNsVfRYQa1", "\"key\": \"" "rk_live_"
    "nA7TbZirsZUjVps8v0ZjIseBBj0haK2CwBcxAEoWmherqF0TLGtj3vvZU8QFkLMN9VO67KSVYVHNp0brC7XR5DTStmm"
    "QqTsJ5rN\"");
T(N_STRIPE_RK, "rk_live_" "pU8N6V35vBwsU6DoJMEAFXU", "rk_live_"
    "t48uGqigWGawd5LoaELOOF2uMDIkAKTM8KMHRwAznn6yCIsKEoFJXd8zd4S88827pZTgQHeapCG0bHcaN4COubyJiu8"
    "WqdvienuH1bUoLvXobRfgfWKegekXapGzHcjxhuhSMpjau9BkQslG3nv3nEJCMMTTopcOKr5rsvhh2LtaRIRAUbaRmY"
    "UJN2qxmfIgiH04dRHvPWg17enNOY0jgY6eWOKI8HWsfaWB648auuUQEjuoPEywQDPO", "rk_live_"
    "000000000000000000000000");
T(P_STRIPE_TEST, "sk_test_" "57PFC1kavbI9YF5L0P0PFsSy", "STRIPE_KEY=" "rk_test_"
    "hy32F2OJEqEJqtshR4OuhaOSRLx7aVz6l4eFu5JFvmkObGd93ZJEpTJZSNB6y3wvbSeuv4J4vL9DTF2f1vKJeppDuBk"
    "EabpEt4T");
T(N_STRIPE_TEST, "sk_test_" "jIG4hOq5h8qEQdeRASdBwY9", "pk_test_" "Adp8Y4eaTHIcUmAjnJOaT4Tn",
    "sk_test_" "xxxxxxxxxxxxxxxxxxxxxxxx");
T(P_STRIPE_WHSEC, "whsec_" "gApghBnWowqlevz1iidHqb9oVragxjbU", "STRIPE_WEBHOOK_SECRET=" "whsec_"
    "EjNhVmMlkyAFIxGuoe88qpcMchKJY6lQYbkQvr8vXcA=");
T(N_STRIPE_WHSEC, "whsec_" "dgik7WRCi2NGv2vdYAqrhgLQitSjWwQ", "whsec_"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "whsec_"
    "uicXasL6HbELTDLdlWkjcjnTZtU3TGzMMxwUFEA5G89doqkqg9CG62mG3hlS0sF0un5rU6BOWiLq8iow1qDlxR0MRX7");
T(P_SQUARE, "sq0atp-" "WLngbHuVOMYwAbp3fwIRJ3", "SQUARE_ACCESS_TOKEN=" "EAAA"
    "VCHa8bqVDOtZXP2CUoJHDWZEnQmenDolKnhqoy28cFUWyeVB69hkrsqLCiRn");
T(N_SQUARE, "sq0atp-" "DtXf90zCkDsWfam4AEG-X", "EAAA"
    "UoQyr_OErzblnpHYtR6GIC_RZ_858w8ua0gxXNnHzwUS36gfU6DO9kIMD8KK", "sq0atp-"
    "xxxxxxxxxxxxxxxxxxxxxx");
T(P_SQUARE_SECRET, "sq0csp-" "PV1QPyjw6mOI5Obln9YS2dV4Ol75T8Xgobr_dKRHMlR", "SQUARE_APP_SECRET="
    "sq0csp-" "QhmSi4snngxAFCjRU70ks8nV9rdVk8SVJhcuTdWpGBk");
T(N_SQUARE_SECRET, "sq0csp-" "i2M8h4t7dO3rSd3LWAQKcPdnRG13XRuCwEhnuqFTvX", "sq0csp-"
    "2emdYMXq1aJXY_zLB0OrG_WyG95X5DGpUJVXCU8Ehe6_", "sq0csp-"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_BRAINTREE, "access_token$production$" "v98rky7ts2ar4hi7$bc52ba806430e9c479823fb46d824449",
    "BRAINTREE_TOKEN=" "access_token$production$"
    "p0e79qv7ul3eszqz$12e4ab8bf38500f4beffae7c91cfec51");
T(N_BRAINTREE, "access_token$sandbox$" "f2ax3n2tquhs25ro$d1f1253584dcd5c0fd73355670ee0b92",
    "access_token$production$" "zahll31ghd0gdxz$651c619255c985bdae448031daafc4f3",
    "access_token$production$" "rh6x3ylg6eshb2kn$00000000000000000000000000000000");
T(P_SHOPIFY, "shpat_" "65d3d52ba327bd07da7412226fcf1727", "X-Shopify-Access-Token: " "shpca_"
    "E2D9795cCa26EF24DE64Ba6aA3f5883F");
T(N_SHOPIFY, "shpat_" "81bd6ca8bbff1357927a4b5e15878ef", "shpat_"
    "9lPzkLAKHvkTAIdss3DcajkMFoCeS91z", "shpat_" "00000000000000000000000000000000");
T(P_SHOPIFY_SS, "shpss_" "aa8a834faf93199e2cdcbc218ec65a14", "SHOPIFY_SHARED_SECRET=" "shpss_"
    "0963df5699e794acd917a5ccf272760e");
T(N_SHOPIFY_SS, "shpss_" "c178916575eb184cd257027d5c65a3472", "shpss_" "c727211645341c53", "shpss_"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
T(P_FACEBOOK, "EAAB"
    "CZCVeopxNngL8Gdo5aRE6BAfpD1MRDBMidcPgRnNqqSwKx9z6G60JZSKETthnyC3rKehK4bBgHywXvpSLfWPzkppMDy"
    "a2OebuRe4S75oCcObbc2VfYMOnd1vuPoT3Ee0PddyFuDKASJEeruIqEhT5CWLKOHJ6j4I1NpFIdJro5iG7jBdhePd",
    "access_token=" "EAAG"
    "jNPahWpUuCRy4rxrSwXQq3pY10Ow5ikLV8IBwFudikyowh89V13BnseO9kuVo29mlR9lPEORdfcKe3IYjmvlRmbe91E"
    "VZ00vYfMjE665ZrMuX1RS3uXjsQRMrXn2rv2795MGPKyFXad8dXUV5yilppJlrf4BhER6IryXokswoHP5rB1couLcyc"
    "Xe8hX4QYJQIBAcnPmP");
T(N_FACEBOOK, "EAAB" "aUGxUghYejr4kweHTQUaKT4vQRrbBxoE94Fe6AQOwOwR47DQnt", "EAAA"
    "QRvfkVfFoAcQJquj45rFgIkrhxhbx9qS4XlUBrnQwyZfniUopWTd1feHM7Sul3KWr3vLRjbr9OtfvbY7pVJ7QvkpiZ2"
    "wsSScqCXnNkeHzsTTUUlJ0lloLTH2uYzdU9UDkaa9rJjk9IKmmk5cWh21kVBjnSzfFwwHjQl13MmLJ1HHOdZ9gr62",
    "EAAB"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_TWITTER, "AAAAAAAAAAAAAAAAAAAAA"
    "C1tibXsmsonK0OGN5Q9SjKMWiLtkM4%3DAYBOVV0NSfzDlEX4Wf8NpkbdFvJycWdBrSxOlH3M4bsQ85Xq2cN8YkqcAP"
    "Pt", "TWITTER_BEARER_TOKEN=" "AAAAAAAAAAAAAAAAAAAAA"
    "siraDWoTMn3HQBPcYS0nuepiHTdtF6p5OhdA03AO3wbHeg3V5jaQgioLbaWEhXwojuGTpJDDRgvbxihyKxUYeilKYC");
T(N_TWITTER, "AAAAAAAAAAAAAAAAAAAAA" "IbvVOwgUcCYWxvXLUTyCleu9gh34mIj9a83H49Lz",
    "AAAAAAAAAAAAAAAAAAAA"
    "w3Jk4wouGpRZzFrneIem4MKnTNx3DLToLHt8YQ4303WqpApXb9LGONXOG9pcL5KbNdbSwMBprE40QTywlc7diVchJS",
    "AAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
T(P_OPENAI, "sk-"
    "proj-4IM9eQBnvLoUomL5ggeP6_ZDQMnIy5iPedbOC4oEQINJ6AdA3liffdUN04_xMOyaR9Dd6XIpqFT3BlbkFJCX0U"
    "v_CcvE4W31WHCSIPBDSi9s4qo_z3_bZVQwKAMEYAP6qZiXzChmKFA_kJCB8Xg8zUTX0pO-", "OPENAI_API_KEY="
    "sk-" "jZ1KqXQjkVaJPC81qtzmT3BlbkFJ8lul2tMYIQsmSYAQnxhN");
T(N_OPENAI, "sk-"
    "proj-JP2JOlGm8Mw9Za8tswd8vniiEWOr-uXeLOPvY7x7ZbJ-KJxC30EaYm5M7WQGUI8ssKQCqBwj5Yv6TmJSUBZAop"
    "dyUc00jGfsefcUSaBa7hZNyIg68WYBoKimeahIKnQ7p84E_mk_DNfH4p4RW8Nv8GwC9X3A", "sk-"
    "GIzAmoOJ7a7vuv5gyOTWT3BlbkFJSV8Q6kEN51", "sk-"
    "tUypecveCHvUgJFnGjAHT3BlbkFKoglDPxFVITNZFBNQ92CA");
T(P_ANTHROPIC, "sk-ant-"
    "api03-LbQG_vS2ru701ufe8jDGm9zt1pqphuwoueIcBtwtRqDbfzOAIVOV3IF0dmppIq5mJcwzhqme3gCPkio2oIEVP"
    "ppKxZmD-AA", "ANTHROPIC_API_KEY=" "sk-ant-"
    "admin01-bWNbbf6pIBOsd4JoScGYU_eJaAOhKCmaDDV2CXjHwUbmzCTDbIO5dD-EnPnT5tupirmLwoqnwSvOjpZ8cDG"
    "9P3jnwqluvAA");
T(N_ANTHROPIC, "sk-ant-" "api03-IOCE8mXJqy89ECEZGK7r5Jmlr_jJEroT3O9uXOIg", "sk-ant-"
    "xyz03-YjqHtcp2JRDk_8dn8oWQtFcPQ9ag62NqSJ73oU8UzNWs2BvkvZ0BOL4M2SejrHsm83Zmn-YDH224dVbzvEF6f"
    "SLn8_lvDAA", "sk-ant-"
    "api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxx");
T(P_MAPBOX, "sk."
    "eyJ1Ijoi-lyNBdUqfVDhTasrsA8Z2jVItwbBr8FQ3vpq9XXXa0oT5xL0vY3-j1VHEmll.lxmsPj6D4FlP51HhluNk8a",
    "MAPBOX_TOKEN=" "sk." "eyJ1Ijoi"
    "X0cBDa_NeqBTEv-cC7i_pDomvd0Xn1rj2W1yK8RiCmmkLvamE17GOZvKkycdkXvjizwq9dyqyJYBkDIa.OH2iC_wUGt"
    "sP81XTiJqPE6");
T(N_MAPBOX, "pk."
    "eyJ1Ijoi5kDUUTkbvnuEOcnNLb7iB9QZbq7V33g9QFPWLVgDawjf3Vs3CnPgGjpxhlIZ.szr9LCHq7K4iDMZwZPbf5B",
    "sk." "eyJ1IjoiLjlYH4I1KUAEfNfrTIFESOSRrApxDLvsQugxRMySHzL5rB3LSwDOWn55B4eu." "nokgyKvlk2",
    "sk."
    "eyJ1Ijoixxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxx");
T(P_GRAFANA_CLOUD, "glc_"
    "eyJWM3N8KcSCe8Ow2UFZZwWR/NXzhv+wfmLikh6KOn1OSEi3YoWvAFZuz0OAyvwEtijJ5ZyDGk/WwT/FG84CF9jxsgM"
    "IC5v1BtTAaQizgCcoayjS1kZwJ6Zqm8b", "GRAFANA_TOKEN=" "glc_"
    "eyJCU6qN1COm3TODu/TZEQUgEdNM9zoQZRUmC3dXjzcHUGYZphRLge75L7IluY/6cUvd8yS6VdUU4cDNGiuqrmd7Gtw"
    "ngeOhmIFL=");
T(N_GRAFANA_CLOUD, "glc_" "eyJRiu5JWM3HRN1EazVDHJp", "glc_"
    "abcadrUUWER4bFOwbyx4Spi6aygtSn61puQh25PPJ8uk6PXWuAH0cWhnp1w0qcxIXlbP4JUpDugo0p68BLOiq7OUCcd"
    "L8fFY//T0T1w0K23jtN3ucXkZd43U8WD", "glc_"
    "eyJAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
T(P_GRAFANA_SA, "glsa_" "GUevgmtEq0ETyexlXZl7ABhsl167uKUP_8583fc9a", "GRAFANA_SA_TOKEN=" "glsa_"
    "pCAhkH0bTLqHeuLBWm4UdKzOJif5WjP4_ac4e32c7");
T(N_GRAFANA_SA, "glsa_" "gP3Gr3lkE1OdtmmO5KcAvb1sdxK8Ry9_4662ae16", "glsa_"
    "7nrxTWfPppEz0v14onDPqqvHgfvBZg2z_cef1579", "glsa_"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx_b6fbc654");
T(P_NEWRELIC_USER, "NRAK-" "7V48EWG8GY1OO448TULTFT2FR5X", "NEW_RELIC_API_KEY=" "NRAK-"
    "1DG9RKENTMES0J61MJEWZ7J2U7M");
T(N_NEWRELIC_USER, "NRAK-" "SKIVQ6NGR55UN3KCGJZBU27L8K", "NRAK-" "BB4VNRADG54OVNW8UR767ELRO0RG",
    "NRAK-" "XXXXXXXXXXXXXXXXXXXXXXXXXXX");
T(P_NEWRELIC_LICENSE, "f01eeb417ad6a5c0ef28cd13586737c6abd3" "NRAL", "license_key: "
    "eu01xx503049515779c8088de7b60f3c6d43" "NRAL");
T(N_NEWRELIC_LICENSE, "6e3c96b8a4a38e742e724cc0b5f246131ad" "NRAL",
    "f75a961357f8b36767a46d8e704ccf536b2d" "NRAX", "000000000000000000000000000000000000" "NRAL");
T(P_DYNATRACE, "dt0c01."
    "QHO49WH2HKP7SRYV0VNGDVWP.P4469DYEJUMZ0USQTIP7TI61T0GDI2BW36WHPE4DY3C9FSQ0YORUOJQ1S7UZB0CY",
    "DT_API_TOKEN=" "dt0s01."
    "P05Z92SWF9MUEOZSDDWQJ6SI.QDEPZ1RJWR56S1FFF8T2XDBU0EGH256ZCX5JLN7J5DV9ZXBGC1N156DY2FPEFZCN");
T(N_DYNATRACE, "dt0c01."
    "6Z524KVB6G54HU1JL46VXNPF.BK5UEL59CZ3NBVUV7RS2NR31IYQMM1R99AFEGAS12HDK29HPEZ3DUQA2JSBT2ZL",
    "dt0c01."
    "YBM57L5G17OEEEQR3AJEXL5.FIOFZV93L8V66ED08F59T07JX94K3R0JK4DH70NLBKQJUV6WX4FWJZ5JHZER9IMM",
    "dt0c01."
    "DVTX8IBN6K5N8KJ9DW9T8SW8.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
T(P_SENTRY_DSN, "https://046bf0412883b8e838975bfbea34cf1f:"
    "862672cdc676051aa506c815b89c6123@o466899.ingest.sentry.io/7592909",
    "SENTRY_DSN=https://b9fa9916d2581f9ad35ef00649d34109:"
    "0aa91b03c2cf6f1928c05998559ff3ec@sentry.corp.internal/12");
T(N_SENTRY_DSN, "https://049dd65594d76bb5eda3d3823262d4e2@o954585.ingest.sentry.io/3252776",
    "https://6ac1fb25061048c2c1ec806e85df85fb:793b48a37e7a7f2b6fee0217cb41448e@sentry.corp.inter"
    "nal/",
    "https://90e5974329a0ce3546af68ef1fcc1f22:00000000000000000000000000000000@sentry.corp.inter"
    "nal/12");
T(P_SENTRY_TOKEN, "sntryu_" "4b5d0847d3c9a785cffab2b0973564cdf6de438f02b530915e315342565de349",
    "SENTRY_AUTH_TOKEN=" "sntrys_"
    "eyJMKvwZ2cOkIDh8ltEAwZwtGs7wyC1m/S2EgB54Wj2x7TqeAWSOfP+WwrKusjUITRuMDM8+rSyDz+4yuStLUFoSJgZ"
    "87ghukwpadfIrG+A7xILKDebfJSb0YC/_" "g4TM8CXDOVcNnlEg6Z4z2u/CYdtqlU4zZwMjK7cqpo4");
T(N_SENTRY_TOKEN, "sntryu_" "639c030b6d29710954d332521e4b2e771171755204799dac5d5c3cee6106193",
    "sntrys_"
    "abc2wRzOGc6lXaaLuWI/jlZkxbdTWiaBnvXTbx9umAKpU1qUxUBpg2OdvACh9O3sW7Ia5DbJwDAGhksG2A2tV/XpZNF"
    "Yy3e8NhpWcMOc08B/IJ2+sRtW6QTSYPr", "sntryu_"
    "0000000000000000000000000000000000000000000000000000000000000000");
T(P_OKTA, "Authorization: SSWS " "00" "tCUdrK5dNo9_BPzZIcBvj_PMVFas6e9MaRZ8xYrg", "OKTA_API_TOKEN="
    "00" "e3DPjMyzwVKRDyouubU61_YZ6uFzA5-nioyIjgbn");
T(N_OKTA, "Authorization: SSWS " "00" "q6s5G8ui_PRx97RmmRa1ymwz3hpbnTcoO_h4YGU", "00"
    "22TkvZkuNcDNPx6_fDW6G3TIJZ-VZW_PHid3FVWw", "OKTA_API_TOKEN=" "00"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_PEM_RSA, "-----BEGIN " "RSA PRIVATE KEY-----\n"
    "QFNP9RG1uz0SVjiTpAXJ3+qxVBhVn5NCSSZS8y8H618PEP3rEmKnW9S4KI1R1vM/\n"
    "E0Cqabxh/oUbKKruzDXonsgcnynwIEkX7JX1TEOPwMIuB4EGgEy5H/YYizRmaH8G\n"
    "79rp7O2iqz0k/vok+X9KqzgrA4Xb4T4nnIv08q5m1gJFMh161eBX+3q/liW77HOm\n"
    "Jzes8jPWqXk6AzlV2d070TQVqyH77IkxF6j4bMqesUnBN8ycXQZCjVTd77I+c4mo\n"
    "E2axD6VPSn0sojxlDACNeTkZVmej9UC+CQo1lk+Y2YnmkLMBRUYIBOyNbdyCwteF\n"
    "uXvHxC4cIGPpfzrMEaDL8SUZOD21hi7DeIlMAQhkjeX9NcuvGYroiQzTOpbrJbVU\n"
    "UTrCWL4EHvecPCkLVk02RkIKy8AMaKjlK5QKl8fXf4+kQZwjhewJJoUZekjau3OO\n"
    "5f0oK1QIBybghuLzw9Or0X35vIdZCPeQnHl8qSZL96TGIUwZTgSYDY+CHk76tlX+\n"
    "SCg33VCHvPFtQ971wFN+ib2QfWNsIZ3j2eCEj4D566WMmfp6BmMo1H/H0Om8uhji\n"
    "vsMuJZFg2VHD7eVqHNKOqeQxrAhZ7BU5Ki2n4WfIHQeigiCML4QkUoDGGQKYDDiN\n"
    "MwDp4FHTezQdhm+3+KKCX8BeyODrz+M3G+IzzKKNpwiti2XL9pUCJzFO1ESAa9VQ\n"
    "1Bvg/OSczb+igLemBx6aUJQKY24iJFA5HQEw0Q5AQq+ilsWt2jZDIpg6q7AB8K2O\n"
    "DkUxGsQ5pQVLZhM5ZT8cyPFTF2Czep5Mfq8Nd/qbBdcXQNltcUnpq2/eIrFxSKMJ\n"
    "1DG9pqmMPzIqGxyspPjUgDTuM6ZxE4hcEumVINF55g6FwN9pa8ctG2hnEyfeW88s\n"
    "avosHVWmnmKy++SGlrOfdl7iVeLQxrjZI1gefOt8mO1UXWuxBg1ajs1OUFLKNUKw\n"
    "4+ga74xGzHbfkhzg+Lk3F496rGpL3Gq7mHNM4fE91v8VSAlvDI+nqlTTynmzqeEE\n"
    "gSfuZmPVkaut+2dGqByHWu4gqAJ9/+kwWEnohbLUtrH6rmaxwY7AZeJTYN42yucP\n"
    "Gyi+F3oxsJzj4ezrq3JznJGpWMkgTiMSWnt7Vq2TeSAMeD6Ic0/0eeNun+5R4wr7\n"
    "Dsutia+nU5p9/3AUPW2wofWVdVTSwyhJp5FE8Kar27cosfrj5+AdOlqIEejB7kjP\n"
    "jaAmvgiV3B5TejFDgV/9G87ro+i02Ubs/zQFub46MI58NNnaN4Z4N0mqmdip/hAi\n"
    "NEHnu9HZYozRmmv78eVNopCr9dz6CtI+P8Rosn/dR01zYgt+mG+FxLgXnXskD6ze\n"
    "KHCyajHyhy3dytUggbIgySQF4dTUGUKbDgrzn0O/X554MkAjOF7OViOE8L8rFoxQ\n"
    "wOu+9HvL6v6C1TT64jnpkFmpK7LWkHExN5OKCuJ5rMhAdyFMQVx0qzUau4vpvkX3\n"
    "V/9v9bBGdex7W4gk/MehmUioQC6S/58FKUu3S7VWAIKmafhqG003D1dcJKZnXymQ\n"
    "kDp2TjpuKiCtlOTtgiVn3PfDHTxHEMR/lRgcAtUSI59PbaUUn6o=\n" "-----END RSA PRIVATE KEY-----",
    "-----BEGIN " "RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\nDEK-Info: AES-256-CBC,"
    "617C52CAEE0D395020330BCC3FCF314C\r\n" "\r\n"
    "bIAuSFwq1uTYIxOKiL8T1lAKM+cG1vXC2vm/pwySNY5zTDRKyYtym7km1K34FMIX\n"
    "ktvM8YnKVUiI/cyrRhVegh7zehNflSlzuKlbEvxM6Lvin0U/CfTT+9eurqfQuX6r\n"
    "J0/Yo7mDX3gavoix6dqXbJb4yJLiRVHge+nSWqmVbIGqkLdPaqcT3a1CfwrieFgx\n"
    "HdI+oA3AOjfGwefOOO3jHXMdMfjhSiOXFf9ocOSaWoLetzkFUiygIbXWpoar3h6a\n"
    "bt8Fh/zUDdwAIhyh5giSRTiilPKakoxv/Tdy3fAPvJ9v/ZhYCE6HbrTDNeLJB3tQ\n"
    "0Zvca6ipvWEr1eP/D5G1SSY7JRYKgMt/l6PuOt28NRkwhM9On1+N21MAXXmHuD9O\n"
    "QnC0h93xBscFkFMXHy15JFnQjUifnZQ4GrA/sKMDBMMQMoljStXPuwRLk7GvzWyN\n"
    "YjV7VUS0aeOMZlSOtCeP7ew7tYnvbLqNKSgMYk9vUC5rZfVDbMGN05mKV511mZEI\n"
    "C5QbWsoiLc0agRfV6TlhqDJ12NJ7DT7PFoOnafRqj6g224lE4TOloLVAYZJvoAkV\n"
    "6LnhDXzAsaf3S6+GHCiI0mZYC702v1/8a7HVIJ0r1jg+xKk1t254dM5TS4/t5r6P\n"
    "f3WFkXe85CfjuCjj73EXW0tT1qQn7iUYv1z4aMjgTh+ACSxkIj+kG92wqTLaYhX0\n"
    "H+e5wBcvuM0T+w3K7VSVJ3vJlokgxTIVMBdh4Z1U5CI/m+Zv/ZiDlZXWmbrX5UIV\n"
    "ECj5ssdmaucedQzJseOa2z3dkCtD7o49+qOJHbwVC5RzPHgPMtnV/KmAdBlbqcOa\n"
    "EfJFgmAqs7XrXqMSGpMxk023R38nyMhj+mg1Yq3hnraGAIB/exUBz5zud+ozgokL\n"
    "rNf6vwbkbI/AoapEw1UpU1gpJYFZmp0RAwhZLvE0k0+wDvolotb9u0HWPDroM1RJ\n"
    "94oR8NiW+ny+EZuTsh+lmyxeyxbNq0A7LCv+wbP/3gm8gq3QgBJLBi6lsFQqnjGu\n"
    "OhkiUjKwX40byjXt+mMAC0hLW24H1swEZCKR6oAFdK2tvHK3sjQRD9MSFPAtEFjv\n"
    "tYnXm/xO9r77UXk/Tt95s1wc4aVXZlspL1xpNAskVWjhxI9iBdi5PNGWXSb5qht6\n"
    "NOjU8IM51ENxURkFFsmg/N3909gCNyozoYIJUWOYZyamNJQRgnrqIR25myr3fsy3\n"
    "gJxmaBO6h8DuuBpnN2fxQX0oNJsafj2oHNO8J/PDKwR+7EeBgq8ANfCNJbCvruiw\n"
    "Yq7Ut+Kv0dpp1Zp+eGoo/TrdwrubdXdqqAcm5MFFhulwiEoZEqWbqKEZBw59iBur\n"
    "A0qZURis6UQKkGqhW1tZXaajpE3uUe7OnB46/lx0rSjsUIAla7HOOrK6s1q+sfUk\n"
    "asGwcXOC4BpiYbhBanS+oDYlje54koFf6CTIseFUrcRFhE3uXaJoImf9YRZEJMWh\n"
    "nUi0GDQkpVLnKgHsWhaHCyV9Ixxn1mSEvZXevq3+P188oq53puxlJYmKG5OVaibO\n"
    "f0YpyqphLRmuNGGleUyM6gadarTvGkOq7m+TI6x7SMHI9YpxFNVnt6m2TaIj7KRt\r\n"
    "-----END RSA PRIVATE KEY-----\r\n");
T(N_PEM_RSA, "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----\n" "MIIEpAIBAAKCAQEA<your key here>\n"
    "-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----\n"
    "D/sFzmPfhKktC37tQFluyvRFbk16EmNxb6cKcmJEC0g/6qNzdzg0fvtoy99w0EFk\n"
    "X+31q4TAshXapZkderXizk0hvtYLTRCdeSj/mxcKFEXfP/w5UEGGxkL3mrDHOrI6\n"
    "IlLtHWKE9X1BKayR2NAVwaE5gq0b2m+kVSyEkudQfvcY8C9Qb/n76xUFcu20zKAo\n"
    "Dgl5epkeKRH/h4CkIQR0pPFaJACoJKubHzGcruubpV/fsqsXLnkxHv/7hUTQuoNS\n"
    "On6SEvk6qScO4WAugY0uaJUh5IxwvCm+jOwXpKPWtmbtTPVkB6tCTJ13hWFhv48Y\n"
    "iwTUqQcniCf2WGQrmjUXqkSIlTJ9+LjGZfARtoDSUbUV55COK12LQJGNoAxr3mFv\n"
    "QG7UDta1Uf5pFiRBpl2Xpcn44+XY5aGRKw+B96xdBuyXw8caopgQUqEFCJoe7Wxw\n"
    "bkfZIa5jz71N3U6QMSa0O4ZP2v3HPX/VP+Mbe9kMUrcXnxx45jjuX42bJEUAs6iu\n"
    "fDsTn6zwVoUuG4Ijar+0Xlpd7hsMhwcyRPt0XjYB4WMD/HaQz21bNA2e9N+Yavnf\n"
    "6vAHdb7jVPPRosYKnupX97U+yBUU42TzeFsVt8fGVwDkWYLOM9pkUaGWm8pbEv0f\n"
    "qLl9nrMGU7fo8tY0BaNfONlKhxFDZ582nU5VkyPJd/INXaSOMX9FEt5XyUPBw/1D\n"
    "7V0KWcoBpH5XfIvTWiZBF3ux04e/DyCoT3ueC3I95/3EopKZffF8rh443Dfzds8d\n"
    "TJthsdrXTOa5qwIrj7O9v+oLTZxUIc+mOKVgpYJC77EsMU2Rv6Pv+K8x4gykFRlf\n"
    "XMMUZWE1vaIq6uNbFth/Fsodg9jlv+YMzK/QOceNs62OjLaY+/EW+5U/WqArh+zw\n"
    "3fDLfyKvkqOx9Vlf1DznSASI2qqDoEOtHMpF9VJUCjzmiPeXXO1n4si27rmbqQ/j\n"
    "pm3jDu2MetHSBZKou11hYps0bLSYBkJQI2RYQr7YQ7HJEFgMi2G3fNu5wsbWwPLp\n"
    "fpBw7KGpI9GJ0Rtc/fIvZaso+nLCA781vgv+uxhPzqKC1WUT2sOa5ndsFZLppPiV\n"
    "iCAWDr0Om225WR2BsoQOMD9MHXDwzHG3jKgl1YgpoHxAiQkcxrnmj5+CDTY4LcIz\n"
    "nZMSkdV2PDdxhgFovH4aSfCJ4c9wPzudUj5pOgFNBcTG5mttpfyrxxLnvzO5cd/d\n"
    "zPUcpiDsR4P3S8NwWJ4kzPGXND3g6rv/RiljRsZo1w1oR7LQo1Ux7LsY/N4NckWJ\n"
    "DEqkKFvXvAOEguAPqh9Bub7DIQofuWXGRDUDOmZofpPQywS9+ikHuWhD46nrL3nH\n"
    "eFNhSMt2NHiADhC0XACajey/09FI+XiAFfp2BD+s47FpZppalxXgulkB5zQqID2G\n"
    "JJk/VnFoZDGyKQSbfzUJXRopxZwIFZIh2AGlyaGbvfP8+WZC6/yBeduVtdVjBs4y\n"
    "mRVH4PYGRmMBIwkUUVPto0JnTv284cmtngsBTaUSFbVqxFwjuJK1N8unnTVoPIlo\n"
    "hXjWU9XltAlzzQ/X9O/qO9bRUB47d131INRGNkjFqWweMuzuins=\n" "-----END EC PRIVATE KEY-----");
T(P_PEM_EC, "-----BEGIN " "EC PRIVATE KEY-----\n"
    "JsJtqU3xoPUtV2ug3RTx37t9Jide8LfOymTeSRk/3u3Fe8dKdLkNqY0UxnO48/d+\n"
    "qoCJlvfFGsCGwEg+oWPLTI6b1cS2BQyM2AylzmYF5C0XBK41m0d/j1wmqgWKzmUL\n"
    "uegxWTL66VZREdD3Wuo6lO0xU3Sy8p0SFw==\n" "-----END EC PRIVATE KEY-----\n", "    -----BEGIN "
    "EC PRIVATE KEY-----\n" "    8nScVH4JF6Ll+jJBQu5DN/IAacRSqZoniwXRG/9lGV0O94mu8aXCngGZsg6KPoeF\n"
    "gK7khn0bh/qAn68A5LGDBzndmJ6HC2FDAVbrU2VO6hSnKWMLQL1ynS6z8UBQfNhe\n"
    "A5DicwxtK+U/j8bfwCdZrbrjZiAz2yJNYrPsd6sOKualpP6xXiebtCEeMpxc4Ati\n"
    "NyoG7dBzuj4UAM4xKOXp7tM2wIT+OS1mkTO+RxgVaClBkSTJMEJekma8CHToKZac\n"
    "3F+rIIMdNid98afGEtOd/lX5Uj50Zqugrupl5ZCIiA==\n" "    -----END EC PRIVATE KEY-----");
T(N_PEM_EC, "-----BEGIN EC PRIVATE KEY-----\n" "/T1JRJJjqttL36dlF76e8iANgKYG1SH3nvRqyY5/\n"
    "-----END EC PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----\n"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
    "-----END EC PRIVATE KEY-----",
    "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----");
T(P_PEM_DSA, "-----BEGIN " "DSA PRIVATE KEY-----\n"
    "KFxp9152hfSuwSeQIx9sLGm+X+Ny/D5LTYat6HlffkchKUcw0xyNDAtdHQa76gnT\n"
    "n81Npj0pg7i3ph3WxEHmdfP8e//HQFy/Q/OcDbwNEfTFRGbW3aFGGontOYZ4gsKs\n"
    "HlWLHg4HEf9b1cghOex6Sn4oglZSv1MkpoG6llhRubXnxlnVhCH2r6rECfTD5w0s\n"
    "tcGgDWTheiTGnb2iTtyQ45Z4qfvZ1PBFnRvW0SpVit6skgRC8SA81MAIh/F6Oz/b\n"
    "VTIbwfd1VTjZjyO2gQEvFmy8XMpiGaQgag/e27DrjgaOu+HYQM6tLFRn9xtjvLME\n"
    "AJXUvHgUZ7F6Gl5tilGEVyVxRWGk4HNbffqyPLqmpFJINANn2njVMmM94b9g4UYg\n"
    "vc6ZGZ1nrYS/gpXz8OL0Jzm33QY6RxcrMFcaJodqbMgoSs7w/w0+HYAYCWqzdwul\n"
    "m9tVedtEJjcq3AMjChs/XldtRKRdXpa8Bl1Xy/SPwgofNaiowpCNF3xqxoSfQUKl\n"
    "+erRIrqdpQ7idwVrzK43x70gieue+b8auYzkuNdfx5fPC6wqFjbYgBgdqxEMpjgR\n" "0BTHK5JNsL12hcOQLJ4=\n"
    "-----END DSA PRIVATE KEY-----", "-----BEGIN " "DSA PRIVATE KEY-----\n"
    "hRTPzhe2RDVqRSk36cWPUHQlVHqgygyXYGwOUXnUen2l+MScpmMlNlj+a9aUVY0e\n"
    "/EfrYRVeLiNF8owJo266+UTjI//yT1bMwXzaVuJJfod45q2iSkWzHyipT49WtMk0\n"
    "DwR772B2h1fsuVKee0dwhq2WPVFYXicmLxKEuw7TmqG3KItK5QqGAusWyK4BjWDv\n"
    "7cvaq4hxv5pFnVAjOVDCg0Z1ig5aHWHeEQWMiq2Caqw4dkKiZ5EuHNCBGL7iA2jM\n"
    "eyqeW1JxLbjlPCB+rCwsF4xHLjruRHQGg6zyWBeqjYuH9EnGcRqek5x6vzp8EFra\n"
    "i+HD11iueNH3UhDYgZCMhVmnkAUeRpUDUV5Q1YprbDvkCOsz0AMV60qDAyPjDEyS\n"
    "V98APbnmXElzr6egU1JAY1B5c9bbPX8J3Psl31D1r3WL0f3hC5iNctAYoHN3+uUl\n"
    "vjJy8/M0c8rUF5SFYrnQXx3dfsGrd4agZtQJt7UyGomB6uDzN6DEpajLtd9+7+vB\n"
    "se2oQ2Vt0D2ND3rf860ZJjsf+uHdIRv7AXIZGnx7Y3fcr9eltgwizy9yXt0W08Wj\n"
    "lfwt80VMijnpNQpssg719zBSAImIITeIAD7/dqeJwQqTiVFcmX1dOn4JQxQOTvhE\n"
    "yv+JP49Ny5sfILuP5xV6RKbVSoI5+8TN3ud8+Q7U16uSGWdNOYIWYuvSyQIBwPgz\n"
    "IvF1TgEVCPNjP5UEZdWdzT/hKseFYRtoqVI+EDV3oAXwTMEqz5P+gtl/Ozr0npnm\n"
    "zYAAhx00QysDalSqOCcBOGAQE7a7rZZTME58dXZxzrnuGF23gzDtbH6EdNC56SE3\n"
    "A15+VQrB9XH3jiSZF9D4HMPx4Gsd+UHjjBLQQ3aJuu/mcpx1kFO+ME2cSin3OV4h\n"
    "562ksh0nI7SDtcsIaBiMw0TTankiSEiJewgK1NCUYcwalf/s0x4ov902vxbf3UMH\n"
    "eTAE/N2Bvaias/mcJSkc8SyXBmaPYiCkd63/9MtOBz8hsMFvWGqMx7ZWB3i5FeMp\n"
    "v3ubDeeue7XTuiaTDRePyfrWdZJFVeHvc8CQXC0M2ud4GDx1TP6URZDDjrbFoDCR\n"
    "yHyNjfMli7cq0dRCCN150lDH2F/SlfIjfUkCuelrIfK8qnNc3s6+Xd+s0WY=\n"
    "-----END DSA PRIVATE KEY-----\n");
T(N_PEM_DSA, "-----BEGIN DSA PRIVATE KEY-----\n(key)\n-----END DSA PRIVATE KEY-----",
    "-----BEGIN DSA PRIVATE KEY-----\n" "lAvDSKCEyRJjfE+pn8tgQ/g6C46Pe1t1fumgHdQA\n"
    "-----END DSA PRIVATE KEY-----", "-----BEGIN DSA PARAMETERS-----\n"
    "/ERB7d7Acg1/kADYbEOAh4cZYn1LukqI+lUmCKqwq0fovMBiFyFDDzrCZp/0K7Qx\n"
    "PyhuPvxI+ZdvvGBUXKc4GYszu8040BwiTefMsJSNkgqnuubAOBju3jH9FnE2Qi4q\n"
    "oh503fgiLonwjAVWbToe9tXXHqbft2kDv+9GAzS/q4iqZPtpGTnynjlJwdbiyRLV\n"
    "Ywsx8W4PbaDVYJAP4GkJkBQhzLN7cPI8+q24SPUBodjRFDBghMgkx6G2Jav187i6\n"
    "aA2q9+9dt+43qQ/Jf+Ge/iqtxhIB62oynDh75wDP5W4LOLHlRx1LW1KnsEOOQ5Fz\n"
    "70yyTISMEr5ERkUHUdInX8Qwyg+EnASpWBVLWrW9/fviFoImN8XRfxF4kiC6E20G\n"
    "p0e5Z10TQkUfg3sBf3aq4+tcjb5AJmOI49MoIhl0GWwyV6Y25mbE4n9gDQ+dn/Vm\n"
    "Ihn3V5Q1fHp5qtUrtjtRflmjOM7WegTXPN+XvAEQSeJN+RZLNLlXSXV7ubV1Zguq\n"
    "oYb1CUdIhsQ7Zx6YdNn1oA==\n" "-----END DSA PARAMETERS-----");
T(P_PEM_PKCS8, "-----BEGIN " "PRIVATE KEY-----\n"
    "1RGcgdjUmJXRceyD67Q8EpxxDdTNGHwkkL92ehy/ewf0Ip4TvDEWQtxu6mCPYKrN\n"
    "-----END PRIVATE KEY-----", "-----BEGIN " "PRIVATE KEY-----\n"
    "vutAjn1B//zQuHtC6RcmTxmA8OTz6FmVeiBeS04XzbFZrKr0Rd6Z9Q1pz2K4onD/\n"
    "eXTbDjgjUJBD3TqnAvFD5gxWAemSVphrs27VG+0uI6oznyRCdI4XPX5T7BHKByil\n"
    "mBpwaMhWakhmchfMLnarMeOZ07uc/OfJbz/OApwfP5/Xn1SEQnk21CsFaCFy1zYJ\n"
    "PMAwJr+Y8wYjp+yOVe4AQy++2Iow84sQjRiM4dKUf0GUTCzUi8sWoNU2DW1YsfDg\n"
    "p7bQKqg9JcQchgjcD+cI6Dff8oZMHRgeB5XeHWEVw7Jn9QKhcsRTbJCyerd4IxB/\n"
    "UnUuYmFrf/ejMKPCiitLYdOL5QxX/+sxAcvnHniEX+skU51l81a8TfzGaG4GihVQ\n"
    "URo6CdYlcr0uYgrrhjkf0K8Nt+t4FKVpiB+pgWevnKd1Ry+JwxnNLgIsNERmM+zr\n"
    "Wf648uB4gGuBqO/ly0e+xNv8shBzs6oQ92AvFxNT2u39OlMS4VOelalWYed7Ngqj\n"
    "gGKbmjqqpP01hDU+gcR+exGyNwJswkQAlDS8qF2LBJuQar8evBWWLxhq5i0XmNWX\n"
    "AQLllwK/e10dszXdCxaJkM/JG43aoEVzvn1BX2KBaf2Za+zeXFE1zwWmnvPKkyey\n"
    "YOP2kB1oFfCqDRuHfJyW4iMcUf+Lhx9y9HZCIzPn1GnBf1+tcxkiWXWeIAdWyMCR\n"
    "OTtOMn5KO2rjKQ7RTMnJskr8SQQrNBs6UegibxiX2uG3ExXOvSs7UZADvzVlxXoO\n"
    "UYz1lHOd9wQtICOKZMfXbbdy92eD3ytd0VmD8l+QyXuoskSG0+7IKNdjEOEKXD0r\n"
    "Oa/ze96kUYtH5BGssdb22ustWjUkO96yKgHf2/ZZObUi/PUI4GTA1gaeJTfgJOlm\n"
    "aZKLuEaAbU7eGUY8h8LpWDOiIjKy0T0oYUYI58YU1yInTV4AByme2YrQqpD4kCp0\n"
    "kpGdSAJ4uhTH9xQ4/Pkhc+rlbVaYSOt49ShwayjISAVe5jSJfMVheJI+G7+4GOSq\n"
    "18me8hPuU85356xR9/37n1nXvlFC6eDISEgtR2SOgKZH25k670AzI7Bvf20pk6sP\n"
    "WoMPF2wOK6bT5lKaiNLmTyz7PwKLFdgai+TknmAyaUv2lxT/66vvsvNehs9BljN/\n"
    "8Ctdh2zdj1VoC49ew5QzayLoadHkLcmDa3XNmnI1/RpVDWY0Y4+W+WLCMODRhETD\n"
    "aYkcWsTtgeCCLGHR0iHHvLS6KMrBwMQ2HBIR6jKCstf+8dgqJDmTjRXsurdeetlC\n"
    "QXb3JnoZJTKedwv1JEWeMxJ7os7DWit3Gc9rU7vU3ra8ijdOiw8/7JelrX1XUdZ/\n"
    "ISM3vyVnIVVmCFwoJaYqxMtLEojAy69R9QU+U7fIVXf96Gos8FF+j0S2wDC7udg4\n"
    "ydoHfas3+FEOSPpKm4yWgnygLzMN9wjOKpeqIu6Foimo05p3IFKOz9Kqmn0SRN1e\n"
    "+iNFTCu5mf/p7/VOYsMS47NKn7lXpyTfQbr8OEVUSrRXOINHT79jgr4SbMiwpa/w\n"
    "vMROGS1XBCt8dTyhSQGauyAlT6YeDIeO8ef4cDVSQP0zeIFJgkzttQaAoUh/deJd\n"
    "FHiaQKD/gMB2B/mGENYjWN/4\n" "-----END PRIVATE KEY-----\n");
T(N_PEM_PKCS8, "-----BEGIN PRIVATE KEY-----\n[REDACTED]\n-----END PRIVATE KEY-----",
    "-----BEGIN PUBLIC KEY-----\n"
    "IouiHoW3exPe9uLKNGffdDbdp/ur2XPMBq9IpT+cUx5f11ETuEJJbDkmDTeB07vx\n"
    "Z1Efab4vHufLUWld9Z9OBylo0Q6H0qrZAH4bHrXkWRseZpyqhk5cPA8Ps2NgzsUE\n"
    "MPpAInQnhKZNbZaYbz8TFm3NDAuICbRHZ5BfhuMVzfVCAD8AxLhC3xXbQ64J0q9O\n"
    "DnIsLf6fCAgaQc13jNswbRurw9Qyw7uB8gRhEdELlUvN5FiXqzcKvzOt+gHgDoTD\n"
    "VMJsTPtp9h65kb/EQBreWdOa5Rp+5UsTwrugWjYpBtOGbDNkd/TmysSLm7ENDnuH\n"
    "fvXPpGuQCarJ1g5EONYZ0qXXQCB+OgPB8P/69SbzpwjtSSPGRF/p8CkF+MX7ZvOb\n" "ce/AK3TM\n"
    "-----END PUBLIC KEY-----", "-----BEGIN CERTIFICATE-----\n"
    "mZBBe+hk3EqUDmSBLGNdzWUStQO4+uYNZ5j9WiEbpVEEq+DB8EceEkIdSKP4VFX0\n"
    "CAQmydxF5AAvrOPs9jZCGr7B8HhTzjVOJjDGj6ZpAu1vRYg0OHJ6InYrsm+miMqO\n"
    "lNhJEGpdt0JM6fUqrB5O4mihIJ/puw37e5vp2uI7Kfy1OmTxdI8ONB6n5HyhZYoY\n"
    "lgbhc2AjJrmN1G5WVdpVQe57oOtZiMvjxAwL3HtZWoioSAFu5fT7pPbJdEz8SVNQ\n"
    "0Ui0mjjBjTrDMiy7HKXMJRLpfbsptBE/EPm+MXaqMNloNq7B02pk6QOHpqd34CvD\n"
    "RrEGjgVGygdKOuWIkBa8lRzgzQyBvzg4MzEROOnBUOSSqrh3rF4jj89QN7H9BC8X\n"
    "TX8sXhg9tsRZ+ouV9GnNcJko37QPVXcYSFXBXByfTW2dAwrfN632L80Ix0+NItbn\n"
    "LBg6E8HBRgArrZ8pBlT8v6FqIOWBT0dSlQKMBZsR9FGwYuTmaz77gLhKVzVcuYrb\n"
    "BYSpUYSwzxeswob9+61WinX/r2fk0DMj8YC3colqA/xvnszG1QLvjSSDXlP0yq/U\n"
    "vKA8VnTG40W43pwZicOKoIq4G9L4LlwdFssDVOv5yaMdvTILzdrAw1/bYUBvn2ER\n"
    "8P7n08d4rHv25ev3P8FWXXY17YFI06YZsQ7a6JoYzDdTXWe715L4ZSEfPpNGZFju\n"
    "DTg/Q+1utpPcTZW6uFNXPF7pCAMttMj+/admreeYAEoIbrGaPcZcNWcb1yWTgccR\n"
    "Exj1wI33pCJVXD9qB8Cl0OMQgPtxGbNRBl3TPjw8GvXQyZBFEAJvcCQDT+o4POiF\n"
    "y+OYzAjjOTv/y8V5S6wbYln06gQGiGS9e9rny2Il4dZ723LdooQ8FhSUgO4MD0Bq\n"
    "7HoUXo+/RKpyPLiSFGme0VP1XiADZjf9oAf+KtBJKs04dMRr+UNmRlvu/izuW1L4\n"
    "7Krf4tt7EfB5l0GfvYISC+GyCt1ZOLVIOqoYfBBosYk19F+6jBUjSIOXkvQvZw81\n"
    "4dRvTUXyDMm8NjkI93E5YspwLKAFoWZUGBLG/izdSe0=\n" "-----END CERTIFICATE-----");
T(P_PEM_ENCRYPTED, "-----BEGIN " "ENCRYPTED PRIVATE KEY-----\n"
    "kXH0Ll9WYsmguenlST5LXZZeK4pKat3tqjLLTYXPOWzZCTM0M4XfBr4bk9r6ZZAF\n"
    "G2a2EQrKjLw7mB59aNDW5VdDDWHWY1x3wHKkl3jZNQcwJyF0/+NKVh++3/0kX2f1\n"
    "0NNlAns+rfYq6GpDND0zw0Reil0cddJ7A2fGbQbjeCR/ma5527s0DpGMysMa93YT\n"
    "rup6oQxk1Ch6AHak81JRmNdEjbfWDj38FYdhLUuXDgklDp3e3dpgzhE71h4T24yc\n"
    "ddPLi5315exZL2PnRxoMgIiNU4rZ4WH1Mq6eNQUCHigOQW0yw/07UVU9rKP8mHFW\n"
    "R8f9rUA5nBZuei+qeK9q203PYCU7OO4XZt4yJQRDcL/U3pT4cYVA2w+P89TWtqNz\n"
    "8H9strVY0GTjXc5fxw6YBhDCGGjTEL/Nnr3EdYw53LLc1407JAP8AMW+Ueq09cJZ\n"
    "NJWLpll44ArWATo9pLbM60f2z61vDyHAriNsiHCe6zkdjovsSWSpNOUCs34F5Zv9\n"
    "eskZG6Kp4TIl/AN/4+VftZDlzpPOQTWPN1jcwn68iWA6onOxzGTO/yEeb+hSYYmf\n"
    "Q71Rd40arhfOsFYIiSByA5LwzO7LScrGRt466wuZGBn9SMLUEVXnnWf6ERY8N24T\n"
    "lDIcKOKO/hQCATV+WzquHzLp4qD9UytN8HFqm6Ui6fEb6NhIwWPxTL7y0ysMGLuL\n"
    "Hh0yBFkgdCZnHtTE7b39Hxm5klNlz25umoN3o9iPuk9buke8b0+N2skcYRj/5TWn\n"
    "ms7C+NdY3iIjB4s6as4jy2Fi3n+UK6WawNZScbPWICmnqYYA5Q5m8B6gnWpTmMjZ\n"
    "zAnND7Ao0DKQdQsoq5FoiDGBqR/ujdBy6T5VGItrUy0+sfoYBCMADux5/Bqk4Ycx\n"
    "xE2jqzsQuAgtetaQgHFnBg83ALqX7r1dMJwzLkBTITYbS/njxz8it5l5AZcMqLkT\n"
    "NVjgiqrIx2M6e5YX6SRaN0VSXzlpD19NZpT584SplmfiRp07HoCXAcuAD/AFAE1C\n"
    "AA+lxSSP7JBo+u0AJz46a63hfM1SBNBBOZpzUh0CZrAzUc2lUFJ9Ap0xPqgoVcvR\n"
    "ula2ppBm4CdQxvuDCHt9gRKXKAyS/6mwtXFxNK/BJf8NeobK/CVYSzGRurCccrIE\n"
    "EsLPREe1JqjwVPI6C9n7p33YeoB+K1C4kIedN10JRRO3+nNOKBO2TVH5w4r2/WN2\n"
    "16HwaE8QTUnfd/zXRB6e8nXk1C2XkNZzR3SFrsC8slvchc/PtEXW5eo0aVDeRBfO\n"
    "O8gFmBHvdWQuxlkQ0ErYR1/5hpITJbLgWQL2jlouoMpkKccWirfqTWTBPiYQEP8w\n"
    "aJsNxb4jP3p0ZoID8u8ojNVDeqFI7rRmTxY735Tb8GVS/V6bCiKXysl/XBOldqpl\n"
    "zAFpkRKLVDTcpQzFnzqp8zov3x11myNSelAUc3GFSqAXM4EKG6BkVjK5TN65PjzX\n"
    "qGXTEBmbHZyhiGCWMXrfu3Z9tuoX8FoYALgid0LHDw8ri+Iti/BYRFeOpfX+zUbu\n"
    "Sw73eOH52Rk+ePjFR0TofcBuO799vNFkXatzjaQsx3pGxUl7eO++BAZkbBdU+zwQ\n"
    "Gi71lSw4+5gYbARwQpvKkT4PAgOyqfRtK8hYLEHGTsNyVdBcVaAunTuNa2SfFley\n"
    "rWKWRTTV6ugzS9/ZLi5qyrb33oEcmAqCkVmn0usl9L401PDROlHZcyS+hJqZ6WjI\n" "GtQ=\n"
    "-----END ENCRYPTED PRIVATE KEY-----", "-----BEGIN " "ENCRYPTED PRIVATE KEY-----\n"
    "dBc8C37MKCA7Zeas7huY0g/SWTw4js/nPCivrWEDQ9wV+OgRMsJ4siBQOQlNaC4A\n"
    "qwFYW9AdvxFbfKJeyqnyzwANvyPUHHnHO2hpTN7NHbtvAt5AYgUVM1Hg2M87u5vD\n"
    "5W8zjhhPlNRcMGdgiVPy0xIWxeF4noMtiMFdXBDuzUZJlM7GQq5IxbQ30j9Vek+m\n"
    "w01ZkSLowGNr4qkzpG8FtY0qH//96p4bsJmKalBZba7Lq8jcLSkn2+A2qSOcOhAe\n"
    "cp6r6xgVs/p5UO8E1lUCssQcS7OZr4+oOp5A1Wi+c5CrysYH5Mc=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n");
T(N_PEM_ENCRYPTED,
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n...\n-----END ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" "tZuBzpKXxjgPtUibKr7BkJgv/8Q=\n"
    "-----END ENCRYPTED PRIVATE KEY-----", "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "ctMLj5X5Lpg3ncsa2BbPY4pwAdsytfiZ5Y3I7ojOoX4yxdzoRto8kZfzTgZY4Sy/\n"
    "oOhfL6/612tULVxsh7pxnv1urfvgtLho6fOE2hukylTjoFryRtjClYEzUUH3ePzM\n"
    "v6CnCaWfwCQ4H0daktw0aB2T/SiMRo2LHp7EllvCr8MjSruY4MuFfzBTvCkTbrEi\n"
    "oR7hukgwQIg7af+8IU2N7nvtYsrZsugCnljO7hgzEdmRJPILBw9WGinGzFahVUaN\n"
    "xQCj5cyhR/Hibs8fKCQh7nAfQKs1FJp5gECcFDSdNQ5JhyFTdPiA7m8aaw4+g5oo\n"
    "DZqigMZ8n4LYQ1bdE/rDTmuaV5+3E1GihUy9BBGVmCczPeJ9sd3SFP+btCPPwm8D\n" "1+/k6CO0RjNPIQP9\n"
    "-----END PRIVATE KEY-----");
T(P_PEM_OPENSSH, "-----BEGIN " "OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz\n"
    "c2gtZWQyNTUxOQAAACAkbM+HSpZACKc4zbak1u/GybkrwaF+SXSfGi1/U1pfT9hV\n"
    "OCvz3l+MDcj/L2Pa7GxbcNnEWJHnF8NOYIjTbHEj5Uy+GaN1Rhi6ggyDug/Gqylo\n"
    "MqMi03VT6J/IPcpmSFtAw7cTMoD9YoP/JwEB41Pd/mW2FcKQznfhMYE28tfqbTA5\n"
    "75CQ7KtbtiBp4+3mMRpQes9qavZzoKo4FLsqmm9amqp3ojwZ8DISS7QM9QB5yb8+\n"
    "mMuH1RvrrzPBEGm85lvtrQ7Gd6cIPEhakkw3X3vodLCRLY8JGkZUhpxIbRv9KdKc\n" "IPg4NAmTxdQ=\n"
    "-----END OPENSSH PRIVATE KEY-----", "-----BEGIN " "OPENSSH PRIVATE KEY-----\n"
    "WLM5oPBmXeDehiPKms3eQYTrhHgVeHRnMRrAvbO1hQw9AKQSWDBsCLmP7Kv0jA3m\n"
    "ji7WhDepUMH0avq5aSH1xn/dXPz19qN7NgKjHi2h2jwKqNLFSDNs+pJBBS8JX1or\n"
    "sQxS4kWnJuO1ptR/9obX6TcwUDkbIF7AZ1CRj+ZYvp62Dk+vxgKomF/JOJnwsz6/\n"
    "cjENnjICWdmJUZg3ZLmBV8K26LVhCECvJ7hBX8k9u2zkaC1i5IRPhP2qLn4HBwy6\n"
    "L1CKEP/MBUUxewKOOZiOh7T0+e6DgwOTUHqKsEc604Awa8n3Dkmefkfx3l0ukkKa\n"
    "DlDj2bH7wJcWSqdqW8yeXhNTQ0y6cfnJIlKkeOZmDoU3T1hiBcOCG0ANQv/SzSq5\n"
    "yARCtmmnsQ3qfPyRHHrB0BXkjs3vkctFP8aPZekeVZ2mqgWQd4faepuD1vL9c0ps\n"
    "5e3oQ6sgPpuqO8fChijn/mqpCGX7+NwYAahbSKz4BtHfHf+gKtj5Br7GMzSRucbk\n"
    "FqJ51GvSknsqrFZwwjgkzu9cOHJVzcxVCfn1j1JDBabJB0Tl2XrJCnWrsnvxbB7f\n"
    "rCCXK9JxLXMD7KVFDtW+fizIF2DvywO5gRAyIDRqnVSBxCr98hcqNyKcYSTSyg0e\n"
    "rnK8aQ3IxNozURY60ibfbTiCoSoRhaYbTjdx+L0w/+/z9Z0PPNphvqkKNJTkSwvv\n"
    "x1qtShrt8cscNRJqsKgSm+g3xcEc3b/Ah0no9wc7QWM1CZSQD2d874iG3potPcf9\n"
    "GTj6/BjB6eNfC4+g2IWVB7zForJXZMhzdnNQOCgjwfhczFxf+PrHPvtIfHgLCTPq\n"
    "GtPv7fC6VJQqrwAUoghonnwwjnrbrLQyeaBs/mviV8cDOuEcOwVG7LpMro2tLK+J\n"
    "zRw3EsOgIJCmRD9Md5lIqus3mGCPUFqLz4IhfYIPEVRr8IZ4LSHINV9tOkuLKdpa\n"
    "XP1r4uBqDwdCsNzsjonZVgwq2tCUInG6Tat/wlyUs7pPEnrgygo2jwYmF+zut0q4\n"
    "2Cucfa48EpvpKeWDOxMhDotVwXxAqAUu3oU8OakX9++Oi7ZbiVYhyY0M5+wdY4AM\n"
    "Uh+RY/16FgV0sNpbOWMWEBY3Ed8rCpgWi1ziaqP8U7GFtj4OoibR3XKAYB0qsMau\n"
    "VofDWjK8EYPzUcX2UM4kUL4r5mipK53WpG2/L+b3O7lmHzc106g3O1crslsDKkRO\n"
    "qaPkhosKL7u+d+W1i+q4F8v/nGhIwPDhBXtRcDz89q2O52u8JGIZZEEOExoPY+6H\n"
    "bJEygFVTfQFwrUh2j8jIcjgiiShfsgGPZu9YQTyIC2ccfiEPWcZ8IjFuD7Nnc8Xd\n"
    "iRoXKPZQTVmoxE9j1n8nvD3K1QcYbsp9p5DBL17toxX7HuF0Va3lrov+hEt4sQXi\n"
    "JpBANAx11tSougdT0A5WyqrLNTAAKMbcRYRb5BLtoXpUhy2Ggj4gkDj07k4a2Pga\n"
    "gqL1css8HIKyCh8Nnx6fFC+jyG2hjcdmY55PBnCIhBv6TaVuhT7tAUekFFtnUJ7k\n"
    "CBXS7um07+FyiFzFbCHZIGOWZtwDwRz5A/LUU8Ev/u6FWpNSba+EoJaBzjLlKIvK\n"
    "o750+sHmmrhzNL4F6ErZzy+o86ksEfkyk6ORQyr15LSjNF2lldsEvL/FJqZRstl3\n"
    "E9iY2UV/aY8swsNcsT55h+WXkw9LRd0F7jHUDGcnIaSigKIDAZYRrrstdUaKHFNy\n"
    "1Puv0Novg9FehOk9GgE7JU15MZTmEhv7JteV1PSb3Asj2X3+pWC40CgOVSrDietz\n"
    "A7VqsgAvgWBKdl7DzASlfZO8nmvsPwCoF4OSkiYaGFXz2IMbkBYXETL6oMF3JNPp\n"
    "/ogZqWHeXbMTR6MCthEdqc5I7wS/xeDjYHsYiCnKMAuM0stLvKSbFXuPxCF4SwQS\n"
    "q0vyXPa1I2L7UI2id9Idi0BOxcNG3qFHVf+TpOeMKxcVsLRFu+WeH8q/nOPLcRJP\n"
    "gvkZ7m7MNSr5fwkfSXIf9JAtAycXCmRUkQ6r64/DskcmeASsUamjBOdWFeJrsVVY\n"
    "uwXiWJsLO4IaxMdsPXJgArSmaqYmjnFIC1eaBd2Kyv5M6k9TirOB8m7oUmWQxoCE\n"
    "C31a95O5EQT1NQFmGX80HB4PsCVIWWg7wh8RBU8j4Fqrd77aT/1TMZeoo0VfEZi/\n"
    "I4XR3ZHgy7OyLGfl9EICakkHMz2EAKGq4t4ugb9K9IgVHRlFmGi0pIYi0wZtfm5+\n"
    "8oZSwvyJtDbacTy4dN7y8QJeojUPee1skNEv/7qLGHizdrwwTkc4a1Jpuahwo0xv\n"
    "IFPvd5InzsDHAT4GMh2CTDqeZS1x8NTkX8M7BZbXThE1lhEOYq6J7/r1NOQiAMQQ\n"
    "0a4RmvVzppfVXQ3MByY56IoxWeN6okaS\n" "-----END OPENSSH PRIVATE KEY-----\n");
T(N_PEM_OPENSSH, "-----BEGIN OPENSSH PRIVATE KEY-----\n<contents of ~/.ssh/id_ed25519>\n"
    "-----END OPENSSH PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\n/a/l3Rucb7au2PY9ohBsPHyhTephnjC1oRcd6TmO\n"
    "-----END OPENSSH PRIVATE KEY-----",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIzn3HbLoOH2zr3I5V58kP1ibSJvQ2YrG59MNOp1IwPxq ci@host");
T(P_PEM_PGP, "-----BEGIN " "PGP PRIVATE KEY BLOCK-----\n" "\n"
    "g1XX8hwDV4OpWvJUWRvVftMaR1OF95+o/AMfnaQ40cmrd3D6bh3BtpjmV9YhDJ47\n"
    "2xBKV/scWWUx06b+aTYtGuh1djvAblvzBO9RD4zAMKCeOM7mXAIrDFh+i6TL5mDI\n"
    "w7zDUjuBM/mh2gmaFoSkTFy6Jxuti4jhqT88g6vw0koHJDIm1PyB/sIsR+q0H2LP\n"
    "135sjKgtr48N2Gq9rGYKSF7EgdoHBWbjra+D/U8pjS6LASB6HmpMHweLUzO62Rj2\n"
    "TVI1fMOngtZDMbnKL9yOt94g8JyMvVrlrZi70uyVrggFRG0xo9RynkEEBdJGZ3Qj\n"
    "mpXv7C7O7aBt16sIjuBMJ7qLzhrbdTZ3NGMa1UtpZ66MemFKdcSc9Br8parDlOAc\n"
    "oCTI7jbvHbFDaJ/SIo8pepi+ONlPE7CYxxVLkJbTRgXKN32FMC+oT+VEdKJfZBXU\n"
    "+YB2uTQWkgX/g7lN9O3s2JGW3qPgh1oWa28XcvfgjlGR959L+VIWgt5bxBLuA+26\n"
    "J4RbFu8BYEzTG8hPA1r1rZeTNc0JoU4CRvjYSFyhPNQxsPrIZuR+Ev6+gZABmkbo\n"
    "M9A2w21YYXMC6MuqEMkCOotmNyFmSf8+6SSLG4BGDwdiSPvu+/tcvvN85cT5vJic\n"
    "w3zNPJi7sNPBmS8v9urQGKTKTBPuL2jmKPHBfsEY5L3L5ZdBr4aBh5LgfsLLd+WK\n"
    "K61Ra1nzz54GAL087hot+v2t1WXwv/rfRsr68uaYuaSg3OeQiF6P1rs2wPCMqzdz\n"
    "Tvt2EZtmUIF8kQqRoKGRjXT09rY3KMfO7XbdavHcKAW7VSFyfVnodSaWyQhiEooW\n"
    "tOWP8EXixUZEqks6FFo2NF+TcNkLxg5KSY6cpazSuDV8NssahqVtFQLiamMdQvaO\n"
    "M144EJVzS+8ixSzicYonmg4jA3cRT1bWnFYxT+bwebMHfdOKKeX7zTpYiLsO5d0i\n"
    "gndO3yxNnkvvgV8y/wrMO+JjD9rQxjCOrozvatojANq64N00kW8SLsx3sQz3wJEc\n"
    "vMfTxgb7wZpJRwGa5GEZMuVL1D3op6iL4LNBUS0z/cX5A7KxbBEgr0HC/9ZfTXBl\n"
    "FaLkYnQApF+fLdLIl8RlXwcLdz/GOr7X+0j46dQmF3f9+YUr4C4CbiLAJa/04kve\n"
    "op2C9T8/W3l0Qj6TamTZmJvSitSynHLAGJnj/qKyPd2mFrunURf4qn43AD9Or9+b\n"
    "1JjwGH/eMba7tiO0B5wnSf4oLKBC7r/WisuLjZkI7SNDdD16dVuIMpIpX6wkkLIy\n"
    "5+fVuHj0SBBlwy8ktkHNP0HKoprj5BQLrLYf9Qky5d0s3X/o4s8Q+0WUbyuPxqih\n"
    "j6gPPSnM/ilpQXha/puPF/dLVNuo7VHSz0xy8RPLic0gkR8jQsxU0B1EmIcucviE\n"
    "qG1jPZk4PKGj9SuA8kK/uLG2mrYMsUG3Neg2ULR07olg9/zuDMtx0rKs64C7ye+k\n"
    "JmUvAydyXVP8mvcwMGjJBSH8ch7Nv9w+tv5EBxCfRPP5TcCyhggxdhmMrFA1uLQN\n"
    "W1HGYnXL6iof/LSRR/qEViPVHBvE4JjHU5j8yZWi0NWEAG7kLUe2+tPD5iR5f6Il\n"
    "4JrCmmA33f2l0MaUK1Eyszt293KPHnDNY9LQJYG5nBR6QBq3I/nwwxF05M8d3jOH\n"
    "OeljIdeSrG3gX+HK3dj37JMZiFQFsNmBnrjxjSzpSNsRRMsqObmgyojDXN88ZGnm\n"
    "G46brq1Da1wQQNJPo6v2WTEWtAgE6m3jl8lw4druQ8nr9g6XLWTYATpTIbxhSK6a\n"
    "CLzHKC3FIk3gmYBlu8fG17E4+DTBO7B0k2mGH1CYH5nR8CjmnJX0u+1zSqcEPItD\n"
    "oGLCSmZSeDC+SGcbmqhJ8SygDZAgt6/Ap/KtmqgNfaxS32o+sgbCCINSZcgnbKY7\n"
    "CR2MUVne5ZGreEWeplgpp2RBnBoIusYSC9z48GpXGb8bf7GNzA+OWj2Epp9uL+do\n"
    "gJWJS7ztLoAkaC4M8IcjeIjgQuUhXWjNRtPPhtJ/o8eypM6ieCz8UTEoAVdtmAV6\n"
    "DpXLtBpCISEMRwmm/egKro61EIgGmg145UhTgg0xytQ4h3xpwfykiVlL6MdfcIer\n"
    "NBgODZYMAug4EcWhgTFHBCn1cyPMTh/t8SzA/SNK+flz41Ezcvi1Zl3A7z5pBPYw\n"
    "0CKvbE4KurV6JdXWNohR+alGJut9ptYa3zAZMJlJLKZ181BfoBSKFax62gB4ieX8\n"
    "MTtWhsxno75c7ECtlUeKdCeXpWDeiP4qyd/gLXanCok/OPD8E5Inl+zzGvSgwP1g\n"
    "i6PqY7+V3frdWICeukhRRkaTN6LyWQGoLoGxlmBE1SGUu6m3/ucJre7q5PEgYwiQ\n"
    "KQc2WKA8HyrE6XimM54pP/+KHaprkjtqxzc9SMjA961HGByrhuk+Et1bg+bWAg5I\n"
    "PvKZM4loUtchXWk42YoPXUwUUcSOJkKBHOIRCTBAhYO1RMu83gZli/6iypMsZham\n"
    "VbFBtHmc4jpDRvf6Vngld54iuZ5gW57Una8ck55s9KWmC2MO2HbSNSY4qHDGTrAO\n"
    "FuMREGsWr54iPrCqaDso2edIMltd4aAajDroZPdyePWwHQNQjfwz6spIRU8rgi/O\n"
    "k9FS/biVKEcBNM2P3EFOc5Dr/J/YyHe8e60TS1xpGm93m+i06wbWvYFDpHnotaEy\n"
    "1uGjLxWIQ+vvmFSqzv2bo63hficMDNEnHMwo3LQ0San9DRtx/FaGg9xetubnxxk1\n"
    "Vjl7QbP6iRIiTW+dgIaCYRfx2SUinOyMZRm1y5QchzD5FTGpubnakumevLLYELkz\n"
    "5xJ1QumkJ2dS41vTLCJkC/JMDWbzWyLEmzTxjQ0/mI5KWxpT7aW8Q4XvbwNepZIt\n"
    "UgXtQKpv159hWU8ARBvdSF0/OUPjONFiRE/lhAo1XWWF8TP+tu3JxxMWu58E8zU1\n"
    "fjv9sDczpnj1zcgG5fsydbkqKwCmI2Po34GY9veWjCrkjQaEnE8ee4lJxWSjXmjp\n"
    "DLG2PPEIyCSD2XwiCNdLHP9e65DDxfc+m7fHEscgi35i9zpSt9gxdaBDdlann8kh\n"
    "4LS4jgAtLI+R8CR0OHB7xZuZIII3P0e5AweBq3wdY9iIFLwPFhhSinsCeLk4IefM\n"
    "rByROjegKbLUnsAxz4osq6EPQ7kAzFRfkPhHWUgbltnRcCoJnWUc42Da0GdGYTNq\n"
    "tUI6pE0PgD2Fu358kz6uENdg4lkv1dqd8/vQ1u7C/xL4pQXu6vVz2h4DHJxwRJd+\n"
    "esXhdehGF5Mg4UKNtIfVrdkB5q91TKEZd2j7OoZIkFoCvNbLXXiaO7LuLtFx0v7o\n" "kPzfMQ==\n" "=ATix\n"
    "-----END PGP PRIVATE KEY BLOCK-----", "-----BEGIN " "PGP PRIVATE KEY BLOCK-----\n"
    "Version: GnuPG v2\n" "Comment: ci signing key\n" "\n"
    "V8W5BZc6o6F7wD9Y0R+J3wCUU+k+2F140gXi1FL2AJ6/3LFxv55oRk5WQe3II86k\n"
    "hnEDcLEcTHlFA/YKa+e2HIILLHtuinhyvhC1JnGfj1DmCwKAj07/2QBl3GOjUT5N\n"
    "yw4ui8fgDKaTIXVwGsI7dC+xD68ZQsoVMf/GU15FlGNJmvQ3UHc+abiuVXSYaLjg\n"
    "fpzfkNq2zk93K9+U7uUKWxfO1QilvejBNKgOCBu/7SLiPkBempNClvGzclnTgsuB\n"
    "AOqjVUd0GwMOseEwGw8TT4WV4szZAKS+BLfI53BZYhdxsH2aGl6DVlT/2zm8rcuf\n"
    "jhY0XOz6G+HbCf4uXFdIt2TaMiuDoUYdPXmwrv8uEYmBUjn3N3R8+H0HxnUwulTM\n"
    "Wbg+KxA65XtHpMHpZZX3gTRE/KIQKaWySeZk6Nj1oblC9iB2t2RlTLbOdOjxHItg\n"
    "SSxTBMuZ8sU5KZ4omkZD2ME5r4N4qlXU2NCsKwtlaEZBsAFa9y36glT/o5Uns8pz\n"
    "peQPrxHY3EYeCl9xaEId0KbS+kR64PZd7mS8JbksLkAs8hx0PWh+ZA19Jo4r59AF\n"
    "vchQXTd10AAZAqrp9a7d6d0D2veUu6O1FcGCT+DdKcnK8QqueCkCeERSjwKGoxtH\n"
    "nYNdVHBC0ua0WGlD2Q8h4PLJCfN2fg6WI8diMMkz9eAa0AsxPwXnRJWjRrnR2Z2w\n"
    "IxOE7+DOCAw+y6EDQ+F+lmcFbwG4T+78t0yFZtE4WUO01vTdQ+SZAGn9Fa/W9kNY\n"
    "XeYmu/Z8bwn6G8lNvxLOvZkCPc9ryuosfPXkxG0B4wvWE/dbK2SQVFvOiG96slUU\n"
    "vRF401DFB6sQwXqjn3yk35xBr77Y1vEDpSGzVumLD0TJFFVFOib67XurSdMxMqbv\n"
    "eU8jB6ph3ssRlLAWiaHxZhL00TevVi7Q11XvSmnb0zWreWQRWXVIGU8QrfYM+73N\n"
    "9+bt77fjZwW3pSvzK1WmGI8L6V5w89vfVZH//YJhcMXFsAJz+2oXBEhAKIEVbdCg\n"
    "NebfyfmDH4UMb/C3TDnIdftoQrbDantR1XtpVgTI0ghH7tSYXUYiwBZ+vW5PWlKs\n"
    "51cxvXk2D/36PZJpYUgp1SIZpqj6DfEiaQ06VlxeKK19rUhGXpKpeiO3EUBofIJ/\n"
    "UFimbo0VNNfSMeEKfwkmanZveecxkrdV8X2esMWkO1ZoRDca\n" "-----END PGP PRIVATE KEY BLOCK-----");
T(N_PEM_PGP, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n" "\n"
    "SSAjAd4N6vF63eHwt/2IeruCnY/Slxj7cnHzEkjGgBbOx8Ykz0NuqDFDrV20FPcz\n"
    "QsHd6Smu3MNPSQ5vCL2Nqx3ipSIOBGiVHKFI4CAVTD4rZ6rOt9IqiCDlnocV7JEJ\n"
    "YzKHhD7rpOWwEZvP1gaVgE/ZKmRKeq8SHx7WSPQasVFcANQsa9SAZXv0xqlSv+vH\n"
    "jbQZ1gJ6eZv/ixuOR/Voq4gWUbjGTQtf/n5I5wO7Cx9to+0xCWHMfgWojM5/CECW\n"
    "/Ksz11FNwz659lMWarK5LtywHznarq96E349/vglGV5oPmPoJvDsH68Ql8clH+JZ\n"
    "MUH/zsCkF5pmsQ3G0X21Ew+zhtV7sq6kNuE89frPg669LUmsvPBM1DIKCz9cw+ik\n"
    "R1zvI4ONagZMB69GQPhbknXsqc2BjrNqucBHc8+lq69dPV4wMrX1w06i0jqCaP7h\n"
    "IfGkL3KYxiVh6qZpcZdlhrRwgLxxefuvuBvwaMwfdGJTTkPimABIBYq/jOTcddwU\n"
    "KRp3GaVLDG/8CfkAqOnBtdcvxN4Kw2abKHmWdxksC6miWg/wPKE/exqKpw/eruAx\n"
    "B+S0NGsDzCt4DgFu+wuxcjLsB9SSu+b/tuM4eTeTmkQf+m6RIi8sNwkCVJO6uvlU\n"
    "47OedSWtj9Ek+Hb2VQ8RThDxPZLEBLopbeo8JCrZtoS4iNiRMJhqAzv0art7Uaku\n"
    "9BaxH+67n+zWvn9jYFsx6bAzMoWQC6GAzEsGyVzZQbW3dU+mSl5kEaTZheR2Bq/K\n"
    "YhShawpq5KTXxazY2ogKs1WzPBN/sw2lXuDe039d5ZRu1Q+C6lV/E8wzq20dfvr6\n"
    "8Lu2TwAy6IGUG6NT7nTOE17ERhCooN9TIqqjBc+aoDon+ITBOLLQTSTOIS/2oilH\n"
    "DzO/QThrM5ySWdizUEhmWZbh9x4bsJyehf9CW/uWVLsI6RiMOPR7AKmJZPrcBqEH\n"
    "S+hPOwI+gPcPitgvb3G27HH3FkyfZrsZvu78OLV+R9qvj5ske4zqY8StHJUxb0Xd\n"
    "xnwFHxePow5x9EAdy7ENq220C2Iil10KXrnF7Kzcfn/Q2144iueCAf0isomN0BZq\n"
    "AVs05jySq/ZjqjEVAkgIOZ2I9DklH9DiRLq3tzod9eLpSUOyr20M7wGEInhOzQWD\n"
    "fZleocVgzA5QqIc2B8Hs/dEIwdjiQe2gui0B06EwgZaVLrwc\n" "-----END PGP PUBLIC KEY BLOCK-----",
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n...\n-----END PGP PRIVATE KEY BLOCK-----",
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n" "ppHokITD1hkjkVHokY1kXt+j0/gdUQP+GLBcOPKo\n"
    "-----END PGP PRIVATE KEY BLOCK-----");
T(P_PUTTY, "PuTTY-User-Key-File-" "2: ssh-rsa\nEncryption: none\nComment: imported-openssh-key\n"
    "Public-Lines: 6\n" "aIbPlvYeoCz2nrp6JxOuYvw5xB4FwALqkTzoEs6ZgtlEkMjjrwXEVEtjsQHliQvH\n"
    "14dBKcYXo+h3dEMq8Xjj74qfzGE+Fdy7VcdAXk8fLIJdIUQf4Z0BZ+DzcWjzbkcE\n"
    "/jEqk0SRmI1YFaSqO1BlJJvwkcU/NyZ+qkk9RPMuOXZM4p66JdA+YzOLKWE8yKSC\n"
    "aCPnGvTCRi+rSkVFMNvTorr3KdBTKYU2JJr+HO9M8MpCeo4EkU5UM2WC1d74ESGd\n"
    "846L8raZ9+t4aHjx12sA321Gm9lH0oOpw1uMz1F4GUExhIrGDiiRz1Wwc5HZH3no\n"
    "fpakJ/3CBXMEyJNIexYgVYg+wdVwivn6caP6CBVxzOBDWHREgAoQ\n" "Private-Lines: 14\n"
    "J1vHZbIkOzzVFlggYHOEo/4uEFxxkfWIB7SX1oGUEQaIs4V3mwfpfwhZ8tjqB9sJ\n"
    "vWBBnrfEdPyk2KFSCYuVxBYaJ6wsVUJYPPMikWeAZ4RPBgbbqA4gzadWiUQQ3aqY\n"
    "yRNif2Ytb7G8YYjJhb6rM2TD1Bx/eAxHFLNfXnSTBx5mmdtIxffBJwAMD0LWZ7+v\n"
    "1UKCzBl2nmiRwCEKYUycRes9SfrKQ08uyLgVmAShTubfEF6EnZ68q7ld6HBs1jno\n"
    "QV67mY3S+IzBQglOCDo+J/bmQgllrvXBbZSagyM+Jg9zPsj4+/ofrWDyrI2gm0Ni\n"
    "EN2zXbvu8qLWwfjugAozL6VarHY6ZcTyI03jFzjZLngE7ImJYosoSM0+UvFEMhnH\n"
    "pQhvh9IqwYb4vPJGlPiklyJkZ3wy7uUSvO7/8UpQ6pGqSSnpf0vN/CJR3WMb20YP\n"
    "Qf60zqw9s9VU9TF3frPlI/giY1FvltOJ4LQbcHzHMnZ/JTAN1vcPEmqWMLiYExni\n"
    "a9nrEUkBS8fNfMriZo0j5TvMHTaEPGIlnm0NhtccfwKmVe+SdJFxoyrUapVZYCED\n"
    "X6FSmyIQSdmj2tOuwE3UevuzPNKZJlvKvVGw0qcCVzg9TeGawKHZRvOsD8ooRyKm\n"
    "fPcewHhnz8sa8tLUuPnaC9bEMbpYe9efdke0JDZmjxXEWPJslHSYHL0DON8778FS\n"
    "y74Crh2tvcHy/bNxIeP9XCtf1MUxYCkFBYqFyAA2Ai9T+3ly4BuvL/O3XvEqhy0I\n"
    "ir2BCJRsnxUjghAXJw7xEoKaTqMUCRSfZVm5neRcUpUHNeFJ4W4ciCVNjayMEmv/\n"
    "04EZqIVAh8Vr3mbJVpmeL2vFpbjFvWPoLQ/JIyPsPfDznWBRJ1eYpmgndg0BXHvf\n"
    "1dF6k0flkm4L8XgVS/hlKCg/PecuY4wjO9N7GvCVSgDglC8+wBZpsnGCz5UWFCVC\n"
    "3n2+48CfYdtBoaBi8CZJPX8dLQpEviiL3/EPvIZcDYQIByeTwmYMeZsj/fotOXb5\n"
    "kkTlmwYlpgYSN9c5qJlrWj4ORNMBf7dLP1UXgKPTgEdPYelgQ6AuePMQTaGo8nzz\n"
    "RsPN1vt2/QSAGAZKdXWbBjyFpCqrxMGeUWZnO982ZQGNvVGkPAuhA9RucKKmELyi\n"
    "s08qCZQxmnuJSLMo07DuGugVi7iEwL0h/oxyBL798t0s7w/8BMyDZtE5PDXRAo7a\n"
    "ztpnvCR0x+4jcz32hQrDT1zIH9QCZQbcCI2RoP9fsAmw5+ridPeJJYewoLpRCDkK\n"
    "Rfw5X9bj1v2sNQGl4quKF0X9FCHA0blHMjHYzPuchtZsMhdPcCfzsw==\n"
    "Private-MAC: 201c6c608a6a3ec9fbdb30bdbcbe5e13639f5590", "PuTTY-User-Key-File-"
    "3: ssh-ed25519\nEncryption: none\nComment: ci\nPublic-Lines: 2\n"
    "VikQa9e0hQR25Xu6qhUrWSHKEHoDwjvUpXDn5iIocF6wPQC7lA0cM+7dlhgjhV5m\n" "t6vB\n"
    "Private-Lines: 1\n" "bA9VFd4Z2v0gakcvb4w3KbDyg/fz+qaSkhh2PvzncuqskKh0\n"
    "Private-MAC: 50b5485f9f431f661bb6b4617b9e8182c8e03fd4db47fb4d4c371331de030d39\n");
T(N_PUTTY, "PuTTY-User-Key-File-2: ssh-rsa\n" "Encryption: none\n" "Public-Lines: 6\n"
    "uELEPEqnXeFkLnpdS3GJU26bKR+AH9kFi2sOV+vI4bnw4KNU+FOo7lfKdBUo9DOW\n"
    "tqS8LMPhJg9MedfPYi9M2CuD8nIiaJ6KxHEC4hPkeLmWEzD/cpybRf+RVRUX7/A+\n"
    "Yz3pnvutCuWHcMRWJc/94R9q+tSY+ly6WvLRAtu7Kl/oGVS0PQvYShd3KfxzaaZJ\n"
    "v0KbRBfvwpsp2prZrTL/BUDi5OG9Efae8QDE0T3laFTEanXfGotzDSv04m0jlXwD\n"
    "KHSICfnE8u7e798/rUjjZxcHaS0fdSXkBzA2zh5OnZvFXhEa7M7QmyFrt/tN/H7W\n"
    "yyXqDOt5wDNQbrEc8XQYhnwlpxW0V4p0lrsRpVna8QscWleO6bZv\n"
    "Private-MAC: c41d5f8bcc4d95cc5b8cf7474ca29ed7d229bb3d",
    "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 1\n"
    "BTRNqN+ncGRD1CjCKfkb5pjZ/GHTiGegsL5eABnb1UlSW0h7\n"
    "Private-MAC: 35c9be05400b5d6d01b99ac9ce924e649af5bc359878631f8e",
    "PuTTY-User-Key-File-2: ssh-rsa\nPrivate-Lines: 1\n"
    "mQEG5BNoqy4W0yrREP1Ebp9JKNqY8xiwrOf+IwEwUtUURljiRARyqNIA4DPQUZkt\n"
    "i4TNTiuMvg5gPV84f7ZHvwr5ZZmwhFm0x4l5m5P61B+5xH/WRBclc/DQWf46k98H\n"
    "fAigql3J5qgkPdH6zK9o9CsYgMAlHyP9lW5uYTU7u1S2z+ZSq8endzB6IMA96J+8\n"
    "Fi8PGBxS42Ut3wBPQgvu/hv6+4eFluwWU1Sk5Ov2V0zNo5c5wOmRlEp1GDLl2DHQ\n" "vE3QJaid/g8=\n"
    "Private-MAC: 0000000000000000000000000000000000000000");
T(P_BASE64_PEM, "    client-key-data: " "LS0tLS1C"
    "RUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo1MmJzTXI5WnlQQzh3Y2djbldNQlNLSkxCTjhTZkZNNFA5QnJpdGl1S0t"
    "waUFDbkJGcTVweDFNYXk3VTRaZGdPCjd5OFJPZS9CeXBFczVYUUVQbkZwUmFSMjdLMjdocUs4ZEp6OWdpd2hsVFEzRy"
    "toNEJMeE05VmtsLzh6eFVNclEKMHN3bzY2ZUdUdHNIM0NzV1JUazlDdDFZNElxeC9NaUJtRmV0Q2ZIblU2M3BsMEh3U"
    "HpmOGpCZklWTlNQUnhaZgovMzZ1NTd0b2RVclBaQklQQ2w5THBmM29seFFRWWttVy8yeWFVTitIQ3BHajdFV1JCaHdi"
    "UHpBWW0rdERKaXlPCnAxSzFGM1pBYjY1dU9iZVZVWHhEMDlvaDMwY0tZTVJXRm0rWG5mOWw4VUt0NUN2cmwvamtGZmg"
    "4bHVYUkd4VTcKYUE5UENOZDlFaHAwbmxxRUFkTGxwWFBmVFZ3WnNXVDFvTVhFY0wvYVk3R0VUNkJJWnJNYVgxYlh0bV"
    "l0aDU1MApPZ2NGTlh6UVB1d0J2dHZJZm15Y3duRTVyR3BhNmtlYjk2K0lEOTVSQXRjaDJGM2lZalNRODc1Q2R5NjJLO"
    "W1RCktiY1ByS21xa21HbmU2NzkweWZseW5QVFpDUWowTHpUd3VMb05YWEo3VjgwSDdTSzhWMjFOVTFFTjhscUtRUWoK"
    "RmVkSXIrSldkdkxjd3ZSL2lHeHlIRXdPUEROOVVCS0s1dFVTSGRyRHViQTJnS1IyMjBNeXVYcEZZSmY5SFFIYworMlh"
    "aUWJqajhtbjZMQ1hHQzhHSHo4eWtTTnc3U3J5N2tCbzVkWVVHQ3BJNXJaRldiTEw4dSt6R0luTzdLekx1CkJlUkxKa3"
    "FqU2EwSDdPK2NCK1FCUkQ1RjAzd29YeUxEYlRObnkySnZybytXZlZWb0k2Vi8xaDFId2YwL3hxRWsKc1VrT2NCYS9UR"
    "kM1QkZ2VEdveldGeW9XVDB2ZHBHRzIxTnJHdUNDUHIvRHJtUE5odWIzcEFKSGhjd3FyS0UzMQpjU2N6TDdxbkc3L0pu"
    "YWEyZWRsMXFibjhGZTR5YndWKzRyNi9Tb1ZNMGJ6SlpYSHQwNFFrTUdmaUxwSHBwWFhaCnJ6YXVTUFprNHFTVHRhb2Z"
    "IdGE1OGk1Y01CT2MrYkxwTTBKTVpwTFd2L0ljZkUrc1EwRXJ4ZnMvOFNYOHNUclUKS1IzVVcvcUZ6NWpUVVNlcXNESX"
    "d3bDBNWFlnaXNTODhxdzVtRUkwQk5pRzZERDN4US9MWlpTa2twZGpZNkQ2eQpPbWoyNzNwK1RtR0hLZEpERVVCWlBud"
    "FdVUGdNekJZa05TeGsxM0FaVWVoUWI5Z0tvY1lORHFwSlU5VHp4WEM3Cm1oWloyVElla205RnVmYWlsN0JhU1JhMkVr"
    "WVZnU2FocVVpb2ZKelU3Z2pDcXpyU3ZjY2lVbTkrU2VYaUdKUE8KS2FZMXhtV2kweUVKNVpSSjlZSDExT3BkOGYrV3d"
    "tWG13UXRrTHVqVkVvZ3dncW56S3dRcGZWNzlvUVBoNHg5MgpXamg1ZGFreUpVQitIQlR5N3BiTW5IckMyVVlmVFN5bW"
    "lpQzZ2NHptSGp2cFF5SjNNSXk5QzY3QjIveGFKVjlaCmJ4OWhkU0FoeWpOYTBzTWthTm01b2FsbC9ORDBHcEpvQnhYa"
    "2d5eXFUejRKYzR6dGY0eU9ZNlhMQ3hqcENYelgKcDJJRzZZcGRWeG1LWjNwWVVKQW5ZRXR6Qyt1M0d2aHI1WERrZjBa"
    "Wm1FM0o4S1ZTMU4zYU5zMkZKMEpOd3FrZAp0Vld5VnJMSi8rYnpjN3BxY2VnVWs3akxWbVo0ZVZRVFI0QWtOeXJHQUY"
    "1dWl3TTM5Q2V6K2lNZ0NoTHF5KzdSCjlmcmZBbHR1L2ZpQURGa1VramVwTWJydFg0TXh2bWd6L1NjMUtKdFI4bHJTZW"
    "cyenZrUTRrVzBVNWxhU0dxbW8KeG4rQU1uR2t2TGMvVjFHbVRwYzg5SEt4UFBwdXBsWkhJZVNmSXI2OCtMYXkxQnp6W"
    "nFJQmxybmFwa3ZVZ3NhdgpXYllYZmFGQUFkUXFMU2RDQ2FSbFo0THlUeWRjV09zZUZIU1FmRDlJV0U4czR4a2YxNUU9"
    "Ci0tLS0tRU5EIFJTQSBQUklWQVRFIEtFWS0tLS0tCg==", "tls.key: " "LS0tLS1C"
    "RUdJTiBQUklWQVRFIEtFWS0tLS0tCmF5VmVNQ3JBUkpIL1A0Q1VrUGFTV0puNTlPNzZKdWhmQU9kaUtualhTV3RiNGx"
    "PVk9wMVRHT0E1QzNkaENwYlEKRUx4S2hXTUtVVGZlVnZnOSs4RXlKaFBEdUU1OG9jVHB4RytlYm9obUR3b2MwSFBWVn"
    "Q0YjQ3WDIxUjVia0JrVAp3YklxWmpLS2MxS290ZGFYbzlqTko2TzN2eEFmUVZmczhzaGxSR1pjd21GdzdGenFZdFllb"
    "DRxQQotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==");
T(N_BASE64_PEM,
    "    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tu9tEycdiEi28tOXy6cpQHSPTaG"
    "wRRo+h3hV2bi/kVF2iw9Zz+dVpOJqe0LDol25nhpW/vlCH9PBvc5egxFScRnfFWiTh9vplSLek5RbfuPPWn89QhCVqc"
    "Pdv00Pjzb+tOPdIms/SMDR+YsVnaiBCXZ9TdjJjHSqBKkK7jIyQL45iTfrm0ORZ+OMj1KDs2mJZ2C1hon6B52s+f0gw"
    "N3bRnc9vOW3YfgIHyi0oWHpHWthkgHNW4m4uU1BxhOG72VBZOwcnb9ocJ3aBma1c82+0knTC/cZFxGhTz1t7OJB6VEU"
    "cSvf4SZ0Onw+Zako1CSnzB0UrEIX3HTRbV3Cl+t76im4HdTb4jQD5qc8mFNssH9Ta9LzqzWxW+5VvO9b/Tn6AswUxPm"
    "RT3J19k4fuylL0IyJ+UItBIM8B1SVjbs3HGz8+fWg05eXwJfR1WZIp4jtHvCq7m16dvQhrOPlX0svZ2bOn1Bl6ANoc2"
    "JYy/ovSd0HZa/fG7MEPk73o/grSuilfKWzBxR2PmrZzEjBJ9GRlMGGA0BBt4I2nAmqN8SWV7kjKcf46Wk6fj4O9kM4E"
    "m9Gw8CGh2gS1mOXzMD3745wAh+XOhL4nT8q2TZv5g5o3ZPTGfIAlz2prDwlTsIhDv7oDhftIh4BKoK2tGoKZ2pGF8eB"
    "Lgc213Rbi+jZ+WsvtM9rgBHqYIuir0Dr+BqQp44+gw3AGecGRJeyLdLcz+JB9sNgGEZB9wv9IeQUhj3mwtDzJNkPakj"
    "Hhj5nbh4rUv1SgwN1jSeNDJIAEbDci4gnIxg6l1eerUI+g", "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0t"
    "ZBwc5jj/LpkgQZMf6IBBPzbqUNG1V53fAMEOTjMT", "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0t"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
T(P_PKCS12, "MIIKKAIB"
    "AzCCCiAGCSqGSIb3DQEHAaCCCgDqOwyrhKCR0HBfLVUuSQ1+C0cp50CPubLueqfCvVhgijwkdMG6dnp3tXmPw4iDjLJ"
    "jzNpovpfKNnI8269ca4FQbEydP0ky5/4F5AjM34Rp9Ovtgpf8bVQMh6PDf/e0OTEoa9tVlUvBBWJhAVw7TSr8o3Wyie"
    "aE90g2Ow0P+4n71RcVKheZtE3enBdgukfqLfqzgytIV5QunuG+wJrmJ8SYn2YweuKCTDV0GpqCUa5ZKafis9BmnDfqI"
    "Ti5XQOy/hXBf6iJK7TTwjUzibt+gWtfpz3LmwBWyteSB1umcDE2FUXUo+0tHtNHcm4c5+MM4He9czJxEmKkawDhtTNp"
    "0o9NSOGIuVgfOZq81yW1dexUvv1JkxomGyO7aWXzW9sm3nqR0EwABjOV3SnhljlDgFr3P4oYxWdYgJePuu/wA3D4Q8P"
    "Ynm/gXbYrFPBDzODu6qyPTN+y0tXkC2rjnw6NqCooOgeWgmuKt4vaAJ2Yi5vhILcY9dFeUArnYJ4J8MgJ2mEVXZiNHv"
    "kgYriafZSeD3o7wl+qFFSIDePE/khjq09IkYiCXOxxjo67S1hDDJ4PgvNZ+KSIc+JMadDbz4ssPjR37v5hLUYi30UjU"
    "myEtWFbs16YxFT37wiZj41i5LuS8v8gqiuEQQ58bIRnrRZaJHpQV6iOu28C5vmrjlDbKYeLH5nCM8N1GfU7mjEGgbY+"
    "VHvcslJvTnh494MeSBt76TX732Ww3S1B3UXCj4nr8pJ2pOEBBOaz/DNt002BYN8aphjDnWoVEjMhKdCF45XDC9EZ/Py"
    "y8gHlpVQC8qwDpyN/y4Al1y+042MbyFAlpQ81uraGBbAWycAFEZGpa/kfOBwlsmnEL+MSyHKVlim+SxsuHAI3U3PT3Z"
    "EaAHV/oDJoRgYq7Ds/4Inqh1lZFZdhnulQ+xVJxQoWtjn9kR1vSM7T0h2BcB2QueKMKc+ukRW4+ppRN3n8JKbiv12l0"
    "VNxhySbbuqQj3hdvzJVPt7wXpVcOPbXTHqWUcKMHwlRLq77bL/ZhiKERFvnmHPXwgFG14WhH9EtWO+K9Z6LHWV4tIFt"
    "0AInMRtZYBnnSeyWt7by+1LOQAlknYeZzYpHrPxG+CYacBaftofPOWx7QcajrcatbkdoyPefbnIWHp8K8jsxo6+9hTU"
    "cYoWse1i8GCsYiUTXJnHmr8ol02AafE6dK/WwKZ9RQatTYpjRPZQIhMIOy18gnlGtV1n83sifqrkwZxmPVfuMYCUSK7"
    "Hhtq3wZi1L0p7/985FSGgImb/b2drw83QHjR6biGGqIkI3z8pzEV8VMJaDhf+BNC84MzujNFfgQvJgoYiaJ7zy59S+q"
    "ODSD1KHxktMjhDzYu2gGeH1bmKFdtErQjMqLx0fO09g7ODaPMogUHYCV6PHqWPSdeDc2OR2xwTCEdopOQzsAri9Lhr8"
    "u5R7KuBjuxmAld/DoTAvBpGs5xiJNaNdCSyb93PkyTEeJRzj2MWi5BPd5wxNfMUWz7qT7kg/3DfjfgPgTkhZ3demrvW"
    "lZ/Kvgwe3SfTXvv1UYDQujBzhw2KBW7Xx+JSV2lOOBNr/i9t1EAxW5y1DwnynID1M5QNxXhCRZGmjj+TwJG7UsKzvSQ"
    "6Iej4bOSPqgxt5mEApPXI+MIwti2prm7aVk3iUbVzx9MpN+C2fCbKB3EPDZ3BZEEBbs4ozqSAy5flucuRp1A51MnrY3"
    "cXqOKjThE5J1zpUQDDn5l8byC3xcxBIi6GYLBEtfOzSX6QgJLerw751m99RMfjPUX3BbHNjpugVgPD6+94BbNGLDyka"
    "B0iVGei7xqO+EcMe2nxZyGnxx9FYbpn68a2poJUvdb0cp4V8DnBpDPgKGBtLwtBq+zIvByI+xvu0PAshFdK41q6tCNh"
    "sq33srDHqgxFFfnfOIVAktQsw3HqUoFU3J00xk8on08KbwKO+k2WM2IFapcdJirqGI69nMe7IBFgD687iK37a/YgOI+"
    "rmQkEw3MBXEhzrDCnqFM3eF9vJyV2AIxaQtQ2ewQPBnV8YeSzW5OayutL2ToNz7ApjH2grjNANzVGJyCtdjR20IOJon"
    "zpXooeJe3iQ/I/He5PjLKcCwF1ib1Q8NltJY11IRYsJxhh1zEbpkwWHXBQMVyxSMNGQI47Oli+zXOOYFwXIngoYOVSP"
    "Le/0X/ELVAbHZwxDSPiSq7c0OagbjM7C8KJznmySta1XI6Fu/rATSJfqLABS3pXNhcq9tddd2DclSFQxF04w+pbiihe"
    "+CjbiPXZTT6Rwcw8Vxnwa8qBP2XDFWIYWJb8rfrF3wE52B8UJZTQ0fw2gyYMiVchVzgZmVAGTL9vzF3garrRkJ/077L"
    "mOF02Ix+pxYa/dE/8jqCX4Qd0JyYpmcmJU4FO/X6wJXMj/sP9VQ3T1a+ZwxCPljM1Yc09DJR30pZw/qBjjRzjU/c8Og"
    "UcowMLkO+zkmRiw66/akWHgtHr/wPTtlBaALYzB4kXfYK1bIPcwc/+uKX0i0YdJ68TOSewL8WrSJxDNx/g4XFN78pyC"
    "RwX3K4USr3ITD5iWb8ahA3SbHicsG2siMuKbF0P9X58o7rRpCZ6FEfpQekY68Zt8kQ08LpZDeYj/sbT4egAc2FnTpcB"
    "G9hS0ta6pnxx4yKAcy/hSoz+K6B3TSIBqAWg1TJ6hXHBxQFiAn0Bz8lO1BtMiEDQ92hPvtTkEE4E4R29CC5sfWuK8rc"
    "XCvFQ0HCJ3hU2/Se2YCgx9C/0HxpIK4TtA+M2igM2kcyaxHDA6YysAKv/8cT+m+qrczvbkY6V0CJ2C5cvCGx+Z6/P2F"
    "oCLbbxVj/fIi7hCHIp4ph6qGqN/EBKJIgvLOgJLWrF+M6x2TxzbM9rh0UpGMdWByx6lnEbEc1IFjCGh5B4JltSp65Wu"
    "ubgkJdOn03Hixpe+lMM0HngmaBhGJSMWeA0hnHvnck4XmElYrehmXmhWIPXSL4lHNF+gQfV4p+D7n2bxskGPfO/TpHz"
    "IkBoADyLknXrii5gaj9wd9hFDe1l98PiXeQAMBd+XPS5DRgk4ehVXQawype0yg9jrJvK9zGYX305OAWaglyvoeM6apP"
    "eccybrn7zDhqwynav8rS5KVVP8+eo7HjU8OL2lKJonaatOio3GvsbUD2Ldif44EzJW8q7rOd7CgQL8ieErOQxDz7K+6"
    "u3n2VZzyrD43q8Ui5oyZMNeY6hQ+FVjYFPpxayQ2afL/QGYUjXD8vsglTKm7AALFz619oE/u974B+H/oVvcpJABtwMj"
    "Svr+cgS0mOuaDasKjLIvJ4T0eFTxHRB34u0yGCu2n/ndX/VWKOgFiSYLasgE0Mjx+36EhSNt8LQ/4qnjnRAIgpdkJKN"
    "/imeO7HfTiQ6mJDJNk3GBe4ZIgSIQlnkVkL0D2K2VhVHacuqKm7RgD68SxIMHjTb+4zcezLTI2zU4BSRKrbiAnHIrj3"
    "g=", "\"certificate\": \"MIINSAIB"
    "AzCCDUAGCSqGSIb3DQEHAaCCDSD2vN50fEblOqt3lHEaK0tylwobevQFWtZJXllVFjVS91DUKizd3dkpJT92nbG9Vr0"
    "qtAqhFNItva1oMc6GInPC4ClsFv5ux79M60hfyxhgQrf0KMWwXyXoKxXxIOkWP0sgYirw8H8ddWoX2bBeylbUdc9Dwu"
    "6O3JA/vJgU4fLo8iBnHugOiXozSmpe6bkdLdZHvrbD4ZiqIofQPMqrIw//8y4fK+v1UxZOWnVkc9Uz+wyHIdSlW4n1u"
    "1Q7Du/x2IHMDMrmQ7zIlcyf8RtCQ4jUP/mFz1nGXqIaGDwbb/hzHIuEcmlcdUdsdiNnKDJP3cqSztEY+8zyKLBli0Mu"
    "3LfvVKoEdwB1J8Wj2+wIYgO1knPw2MgrT3rlckRHsdV25ORhOLaB2CusNxXj+cOtejd+g0o5pWS+XXojq3iKlx8YFwm"
    "/d7EC/DFnXgHsAWTKRTbUMBly2yHTUxqG0EQ/qTI4Dx0+vJ65kguUANznw6lwFgL8XxRY2mTxaFSX445N4Tviq4dHBL"
    "Dk7RzEI5ZlA8NS3iVRLGCqHT7dW/7ACyhllk3Gl8w1D3AX3Lucggkh86XdN9OAHfyl5ma5wu9iaVLOz7HsnXWnL9O7g"
    "T0FU4CKO1UOBYzUZEEiuAHfl9FiYUGmMqzoChbWJlEevGoTWzQl5fn615Uh2D1D8QqC3RfdGWNxUbUwH9SxMJ0MAZCX"
    "kCXg+2Rsve6KhWKZocyuQrib8QnvwhWDmw9teacwadEIBJvywpiVuSfbuwkqTAV3rWPLwk0dlNqDAJ/vBNOjmNUvejW"
    "6YLzK5YRp9y4VdSrOL2KZ3GeznaFjlEOxkfMaC0WdfmPdH30jJanXeOL+iCrODON7pyZbSNt25Hi3w/FAJ7wK4vGyVD"
    "TeZdcwNEU8pmr7m74n/i+Ugu+GLJeEZRKeZb1Kcmsb2DggMj7NgWxK+zAGYXNyHa6Mh360EJHRag5g/Pv5iNFZcNtC2"
    "WV7VljalK7ovypQhPCZEtdnyNsNULm2A1ByazES/JLzwAAYQlkSiJMoircuPqoMGVR/ThjpIfH9gBlAWRauxbp27dzP"
    "3MksatnrBYcxuLAiAgfgwyBPlspwph477pKggB6/F6BjxkSfEbAf80c5z140dQOLcnUtxe9o3QiW5YUfc9u4Krz2WQ4"
    "8kl/pBa/ANrClCrI2JVnWm1SJZagGAH3aaxPyYKa7Tbk2yVJaWXjhiwQvGQ+xzgppHmL0pxfQcAhil+ehdkRcnSYtxY"
    "sx4xGBrQlgqQtf4UIlhAYWSeLsX2zZV6tRO0Cm0z5Gtpp4B6NzLmH12KLv5ndT+yZxKmap1IC6SNeZtSLRbaeO0YcEX"
    "6pU9z02+F8E5NE7eN1vY4UmzvL1aCVtr/YOdE0zdFpJOMfBMm2BGxhl7ez1E6PZXhlnljJ7rwJYbtcwCCoiJnSYOB3T"
    "ruQfUG7DuPBWT49+YQqdsdhsA8gDmRaJEKpRt4prwmX9R2sL9npRDgnkk/tIeyZWgiQlsjtH2vG5mI90RdCrXskP+H5"
    "q0qz2Bf5emLL9BqZfyq+j14ag25ULbfBMaqPnGk/muDDaRDzZvSMuuJyhca31S8fqdU1pg3ciFsyNhrfLokSPUFkhZd"
    "VzDD8qpmQe0+xsdmWsc52mY2ZlBZoeTvpRG/CAifCNJmFMYTW07Xxtnq0Sr6eUM9UvbeOSvhqXocNiTxB1Wj/dNQw1q"
    "GiIEe8tB388f0tlt+BSrU7B/REhi7u529bXW8/fH8PaQ/iF0os7N2hKZvRm4iXLE0AfILzqGIMekjeVxtZgdSQlVjFy"
    "813Zd47eluolpaDWxmesmluWKhpD6BmYTvqjRsF8YeCcwiwUV4goRFwBBozPomsnTWYPzstwyB9n+ts5pnOfquYX+lK"
    "Jt9hioRRNTt2ASJuwf69DBIIRBsn5JghQbVDZUZZ7mO+xqJPq+ibU4eFyhxUZE3uY4Iabw5a7K7v+3GWlLydjx1WfSf"
    "MU05DuOU38FTh6uK+AICLqjGyMcHt1F/rVAHL8OKCLjmMJx5T5mJaTYUvK59cEPChPjxWTqzpfWsIFRCOSayG72Tt0C"
    "30XrPb3dCt1yPELeFSwa+1XFUpWXEMd19w40OmDCzE+PKIsUb2qUFyZ9mZhgpbYoFi9HD8Opcy0ZwtksD4sphwP+UFV"
    "GOBkV0WFDIp4XcrmF8tk05IzYa+I+OrP86kkk4Z9ic4LPVUjqBXMqKB+RKtOWixAzLh9NZkE/NyGt9Kcj1rJk4WE10W"
    "7C8OrIcOPt96Jh2D5GSvxxO3V3KiqzzhyonpY/QembxZ3psojdbP/7FOF8DKZ+XRK7DzxLVGDRiyWRzCUKihitKommM"
    "Q2VnBa6a1tas5iqtaZ4kQ5uHReDHuXL5U9WnGa0oNVGYQsxhYA30OQzf664+PFee23SZf+MZcZWHjKvrgM2RHxDt3CD"
    "yGEYTVXPbyMJm46T8puktpyCSFCICVKvCVtIi33SbbydkVAu+up/sDhV4+2knAAyXC2ERcxS7VfE8iy3MIMPabWc4Z/"
    "ocbTWoIMzkWJZ+0KGVHpeO+fEYr2GEO9UyLbKJB/o8IavWVTH85d2hIYC2IOUzAASJuMc8SY8EEKLx5JIAZUo1S9WxQ"
    "6Q1Oowzzh+4X+y+eTetXLXkE5uT6rpcJ6SkA3vE6rQqJrp3e7PAFXtgbThVlNIilroXpNqQVoUE4nMMGOAFtiUXNyOx"
    "p1HJFoYiZ8yNe7NiPEDOzGSWHtPsW8ahGkvtLDBcvA6QaloZlcgFdXEivmy8AYF2PXzBkI3a/Y39P5VlBoXK8jMy5ow"
    "5m8Y/GcMgxbXdC9qeQPIP/zJA8xdDjAyXgZZS6VlGP1VBaQ2VIiHumXAjd0ynVHWXB1jmnFC4xMGqKp6L6DeVHE2FfQ"
    "KSiqsKkdnlo/115agMYuZoQzkEr4m2WfywkFqVx2AKxDIpjoMS7Y7JrQ02FsB/3pirBpyaolOoCvXJGjUL3PBmJVKmv"
    "RvxrfKwD0FD837l1CUdmV/4YTR1eEyGjLtHY4vvsBaULI7ri43gcNxJESYxLcB72/Q6IzxfVynM3pcseKwfjrMp4f3c"
    "lrLoybgCJ92h7tWIJG+UOoKHm+o6n9/FT95ehF8SUVJUWgk8EccGiJ316/SNnuDxVku2Mqic2vhWL0Dt1aOKr35xtXJ"
    "WI7xMQSMA+fkXU+Z/7q7Erbww3D+0kY8DUpZE/veuhGC4WxS8vL7j1yNHIZwZjZRC49ZM7GGAsaoZqxuyRVcAGYqgqv"
    "18G6BM908x3nIW8CikXycmkz3Tdd9EBHBRKoWo+/ymqhUCPqf3fcdcd+MRfPROOeZZXWK9BRXP7hPZY7WE4JIla5Sxu"
    "5xPbOy2Ux2zJeikTe1nNfrLGzRROSOcSsXHFD8D+vfDEHA8phqhMy8m83jLGmossGwKZu0t1irwkg/y5PsoqaruPE/o"
    "ICYwsRmC4HMq5KknqlsugPgtCYmktBnTawAAS7n0mD3QVDVjXbGXgRhjZ9VodWY1jjZtyZ9Zh0Gn9ekM+RqXdNd2BIg"
    "qJ6D6uMEfSrtMYS6ZH0GZJFG5ZzKZwTjnCPgFXkwcmg2wrkv7nI8g7NeK2Wh5gN7KFl6RB0/YVYO8aZnIwdBOslwWuX"
    "YoljyvePbEbIEBAK3rA3DdjVCYEvkPfnPi0D7ZAADaEvNGfhWxoMc16i74t0i7EhzGSii16FCgGfKivBQGAqJ2ClSFD"
    "jb5LljtoTg+juCuY4wVUEO47PBR3NAEuly9bS5BdYAvzkcNAllFH0LXP8o81DGq7aZdjUEiNoAMCCHVLz3REc5zxb44"
    "3fFfLh3hQgAizphxdHrHGn6rN9T3Qr5uGLkhs5H9XFQ7hnV38C8EcBkp3Ln/8JmqMjR/NQnNSkpBe1jTxch9sQzuqJz"
    "tKL7SlmPw7ukxiAnsDwJRX4UUcT7PoEVr+RClH5lRDPEG8/nNmCbMkbNtoiab2nJxa1GwUqFK8OfbstT2OdjY8zj534"
    "pCtv9HoOMX3OtAbPcFQWJ+XbEtFkcyZ2EjKph8+yl5byloNTQShS2ddx5qNqlnhMB1caMjp+mtqi6i5rN+L+Zm8Hq26"
    "hAx64h+COcE4woYZG105lEOlU/JjV5dSxv8Thj3ZELFTDsiLixX/262cuHcxn63NTqMAoqQygKZfSCRGMQRbfE5tOWl"
    "TDFIOAuYbX1l9LHQUv7MQoiCXKIcGeeuD6S6/vGpNe719qWvod8X6bRs0/cqTLdgSvPm67XslrmZ2KVCByjvcDZwkfM"
    "NJMH2vNdSGHpX5rQtNTgHV/mP/lgHIj4jP6Y/nLTFm0au7zY0GVl/yrjoWTa7EbUyKJI4QzVm2q8LstCDD3u8ow4q2/"
    "3aF83ZIh8Orom8s3jbm88P4JCxv+lREbjHIt8tvIRHrY/CbG+IzOTEajnsJrw5her+TXuZPAoQK1VGvi2wNTJWhu3cB"
    "71WRCNgd7J+28SxeU2uGs0fl51ydCMcmxJw0U53uSVthWqbmpcsQvzYF+iTgWvlXCeQ==\"");
T(N_PKCS12, "MIIKpQIBAzCCCm8GCSqGSIb3DQEHAaCC" "MXEIbVDx5vRYsgENVkZ5JrxCYOvey1DmKIIvVGU9",
    "MIIKpQIBBDCCCm8GCSqGSIb3DQEHAaCC"
    "EOvcQ60bcAH3GvqdR/kbkysDB2bIyYdZSsnn2sAJiUm9X5xxNonMrxrhwh1zJvq1NA/W9sKtUqwSqKfAGv454KRyd4B"
    "2+UUpLrRRJSI+7OFC1N92zt99sUXEMRCFkrHyOhIR+FWmxmvAms0b7f+JaQYQqmNQbv93ObMPz/qAATFRE2fEGIkwxP"
    "l2KCo2eq4DC8WEApZb8E34F4KYO+4tbaPcD16n0SHjp2/xFJ59k7agCfsKLGfNK3j5+IoKmnSAHFC3zXYVdhm+ySEfM"
    "lmGM4X9FQxWlCP3AzMHkvWWZb2tZvwA8Mz7LB6ybBdrkmvYwzEhaJj/MHC1b1vM+JSkWtL3yrBWoNdK9wi3umQTY02w"
    "dJ0rdDatYCyLcB4uZP2NAmCBhI/dG8I8KFUETi1+WDJa0QZCaP2YVsqZaVz//IewQy+UozjG/2gJQLN3i/xe4/2bxPh"
    "m7ZOQGdoCa6Ws4ujBjmk+SJAcU9iaCi5SuM/4CEEnUgg3gKR2nCo14K4404nZ0+FZk8f9yBCqhZXCMU5y0NNUQU82MR"
    "HhpXUpeys8NZ9kOdK+vYTrp1PgPGTGfVGy/OajWY8AlU4GW7XQStnx5P9FBQ51WeRtTMvtQORhWlIjlKxaE2DG664tP"
    "/X4mjR2l7U/w5Bn4tCDH4mk/7dJu6CSN+WN4fr0OpEuCXpJ5638RjglWX/ltCsHDwpovt2tsUxHaHrDfsuOMcgA9xWl"
    "ZvbpBPfsxjHkhEnyDNqEpdOAiApySLiHxnHG45oEyhCxT35OoPCHqduU/za9tpytcR0ntLGP5nLCUW9brTjRnZ35rDN"
    "zz/ciaVBQLyhN0qt2y0HxiDoIsJQQxXQUXY1ge45vvK4mRu7xjBXTPFfapeTKyu8VBO0bWil8d1d0bQGb7A1jp7W96s"
    "LrjuL76l3QG4BIaOUV9ic+KQyjn3P9HLhVz1jIc5MowIyyvUi8KpET5Zacm3edfsjt92Y7Nj1YvdLYoeLhDFt3rRj1E"
    "ojv67UHmsIOeWbmbmaWf/2dNLcN7WlXvYfWYeLTdOf+qTmVpf+lg8FCkjTk550XObNZscONF2x6UZhcQ1F/te0QBVfs"
    "9itQnhklLKWFrFKzvCRq/68MNK+usCDtJ0ByCzSHC31/fXtiUEb1OpS9a0dhy8kq6wjZkIgPIQ4+BS6ThMi9muMFzpm"
    "pzOkOKzma50XpxxTrtpdm2CDsEFlRYjjy8gyCWcrPsDKjsBc7ik1RtBNgMezEr9S01I9MoEvhWRjefPRwJVTRleRO00"
    "ZSTXR3pE0xE+TahTUNtLiCRrKcKL4QcmN8GRUhskJCzRqbi4h7r4FkMLmWIT33n7QJpdjBrlYPAuh9a/x5euOoPHlZq"
    "jp5+/b3T6TIpWCDHRStfLQ+/P/cl1vQrvADeXHqo7day9O0PBxrLKze8EGdLCxgqmYlKEPWmjqO/YveKdHpoHHgNG5O"
    "DgA3WUNAU8Z7ofazNJSw1WCaAxpTn65BmZYB+x+OoV5N8hMCsW7+9aX8cZ4hvF39u7b3ifzhXrMVlnC4ROXqHJkTlvs"
    "QGv+BOyyrxuC+UDD6JREWDAuxoGSxZj2XZ3ErEKEqYlfKJWVYHZAtDJ2KLuzs+cPvEsThBpcdi/OX1vGLJWLM6a4TCo"
    "pfzRPs2Qi1UVVPV8tATrK6EsGoA7RcS/8MkIcWWnoxRvna2y4BOjlj0vJCGkMU/qXGe3ROhGrUtqgeaR3XoGF4R6cZV"
    "U1YOmrft5WVe8XieDPv+eSl6ZWUpXoN5FzUIIs4R5HcuFXkcop7ftj928U6fUpWmws0Uwp8rgnEDZM8xnxoZYVOR47W"
    "0HdhUL5k2hEFl7UpyzkcirifKLvDOnRlCP8rqzMyn4vHoUQ/712yijhfM4oHUPgUePWZ7cY0qWx8uRREKXXcsZiZaj/"
    "ZsRZiC+kBbgZkXxs0aKvPqfiEcTbtoYUjK3aJ1ifarrttvybXjaJqTjPXpXDC4NIfMQZFpowJgnjWtHkWMaAEIyUb49"
    "NUJ7zMAZgsQJX7KSTwjlGzOgMpJiF+gyokm0l262qU0Lyz/1hOE0F7BPrnYvMY+yUltSFchCqve9EPPpqTFsstRFc+j"
    "CXXHMPpbJ1mO7DqdTXGxcJBX0ItiFMEovDbXmdwxSqr5d8KTDnuv+Dz0EgoEa0V+Fk3LP/gpHQWie/zNscyskfe6gHc"
    "jB4myE632XVHDT3uGdJ8x+8eCLXtELhL7gHVYTwjB7IEOmwD+DAiKxjcI3K5tw9w9IUBbxhnnPGOmF/MK/B+WM0t9+N"
    "2IRVREmXoQ9uPJFwSOf1SwPZN/g5FUi3nKc/SJ228oAQdTFmNYBTivsn0xt2laIYaqUM/V7FtjH33xOoIzcRZumialQ"
    "TmQA2OeFVoSiO5KLabjkmhMzSPGEaU8rmNy0YTvoTzIphw6sSKBTAV4YONdPDxLbCvO8Ii4vDFMbNhWjz+oRgptVYjU"
    "Duk/IbB3JcguFInYWgIqE88SeZomMzfU3BZb0IRMMw1oqxfYFl88drMLoLNYe47I+Vg1GgCX1NPKH7iISWv1z7ywit1"
    "ZLoIsTx0qcW+sbT6Q//pR57Xhf7Fdml8GGS1E2JH1KVn+7DHBSli//cbBa7hLS98vUynl2LH1EzHlTmbiHOtm8m6rdE"
    "gTqjWB6FXWZNwAXvicjLMKJa/68bwbdWEhpz6NZIrGXUL/5Y0Qw91NN5Fb1/a1OcKv6ldszLMMku/JsMtoP6ye0mjdp"
    "oDw0lSD4DyiTnzZFbX828aaY2jtnuZckEotKD4JsLNbwb7PwbxZJc8efPwzzeQTyXcKgG72NDvxZreKD1lv+2bQF6Sk"
    "CADgHMpce94CtbRKBy32s6ShInx5yQjYbJjiNxD6pmce126tzK/cfVxG4Y0Ll7Pyj2ThfRv2f+vxfg9DMk8FkqMILmZ"
    "WTeBJQPGKLakpVPuqB2CKc82ZYcvdOgLJ/lh0kBcabjTvGeU8Vsw6Ph/XqZYEaGK8Kk10Jdad7x4Fw/wiMI9jQ0T",
    "MIIEowIBAAKCAQEAmeJeN3H8U8tbrS03lPvKXrnuXI4tibB/Ybjiu2GzN+IgJKdjbtBSXNU2LeYmHu9ibP0+kSn5oJq"
    "9N6z4EZu3Yh0jFPqP99TzbiifWbKWU7mfj0zSlAeRZjn4DFKgy704OSxjPlt3DYckkH3wKJ3jE71Q+YzcFrHGqryU2X"
    "eDv4j9WB9xTjJVaoDI5yMle2Rg9p4FYWs5RALAzsIMxIgqeggdFxg4GnTjuO7tmEpn7Vs1vYNFSM0f5253K/lSmxAvB"
    "D79ebG4ox51POFZ3iSmlnlSa9zqN864AbJaFSqlGQrax0gRhWm8BGVGCFG/y3YETzFKyb78qs0p+eUmmrpj9vScE6UX"
    "QQWyt5/Syj32bMk27XYNetzJe6BB7/3HtIcpt/pnxuRR9QXj6LekaejLO+fEGJiOgr1BQEiB+NNcuG4jw5fQeFeamvV"
    "W2DFaVCq57caAVqXyhspjqIGJSA+J70rFn5ZYOlM3Cl9MyjP3txjmsXQxik1wKIMM1OBO6lJ1qiMbOKdhFHtaqxrL+c"
    "O5pAL8rL0AFfotSbzQrMyJ6qyvyMSmhaGq4Z987ujk+P2y3gJcAZRWm0ARoS41sSckWGpfDttAcWsF8UjjvX18pRmiG"
    "IXymub6aq0dkPp5qJTnW41RYB3oeZOLBzypSHJoE25a8ZToz9BS2odJQp1W64psHxRPTY727LmA3DF1gOe4Ln/IWz7Z"
    "KnKjGA8ENrvkKYHYmyzjyI+GJvha/UdXuIV2ylUtkOZwb7PWUnM2fJ0WifEvLJHkn7f+j0YhaeuCs0qC0zcLFm8lu55"
    "JAZ2IouL2+N4bQaVz+z3LAiDUjrt8JSwcPrgJ09kPYOsx8W8UgUzfUNjKp9hsgln+VtQItE/IOo55uM+Gy/pUwuKOsN"
    "qzGfRqFR6mH669Oe7EdOKh4dRlHNNkYYAsmcwrHu21GvFwj+gj3WrzhhlN1N+ePaCXHojn1wiHjqsX+2tiTTGLwuI9C"
    "pE0Z0q1rnqaDQ7fOgSH7pnp+XTAZbLtOu1q+gdYdZvX17UQj3Tq1mjAbJrNTISOhZf+bHRIMeEPIWZIXY4CFKndM0n4"
    "JXwBGdqdClQ5uRhcuihEfPENVwYKhQxbXwJy+KtTVmXa75PglknWK6urEL1m11cvnLLSsCCyc1fh3FDtDhP7HR2+026"
    "Ajg6o9i/10jwZ/davZhWWMGRiHYxkCM9wlzsw+l4/KV1AYog97IwW6Ns70mST4Qdux3fvQywQS1xNbJWFyZ3QnQo+y1"
    "zC1id3nmC+yak5j42KgcCs0kajrdxECHil+93hqh+D6tVpkdt+aJg01TIF4qXypYa/nXBxSn3WeSGW6MpVJUDRIabGb"
    "cJhuBgBVJZkPsAGV7rb0/VKYicNeSVh5P9q0DP9wO5ut1VFDLaai+Pi5zY+AhvsRBUm8zyiZY7yf1lsMqp92sW1F4Ms"
    "mY2uyZnBTfdevDqE7gs0hO1sIyYvOZehLGZccsTx44HZ1buKL9LhQDTMAwkd");
T(P_AGE, "AGE-SECRET-KEY-1" "H8Y5KHDY0WX0GPJNMMEPSM7MYEH76RZA5RVGJKUE2J49S0CKL77Q5PJN00",
    "# created: 2024-05-01\nAGE-SECRET-KEY-1"
    "Q9XR0GY3SY0WZ2KK2Z720QG8PYSFN82809PCDYS7YVGA582TWT7QPNQQ4X\n");
T(N_AGE, "AGE-SECRET-KEY-1" "DJKH9Q6R0L20J3CX2CN0T8JM06DKJG3TTLJX2TQVEGD6MRFTU5M0H7K24L",
    "AGE-SECRET-KEY-1" "Z9QEP228YUCHG09H590QS222C7NDDMDAXUVZN6XJ75RUPNWKH6Y87RKYR",
    "age16mdfjtfm04jnsgcu43r3sscjgjrldpjnjvppgcpurj7t5al2s5u2wfr37p");
T(P_WIREGUARD, "[Interface]\nPrivateKey = "
    "RsgGjJzehqaL428G4NECXv0m8KgdaUsI5XjxQDnjE/s=\nAddress = 10.8.0.2/32", "PrivateKey="
    "7PFFpOVwtfIRQWKeoXAf+OdMrfLxA6TRdOGc7uWm4oI=");
T(N_WIREGUARD, "PublicKey = " "7CqJI+C0Kv7q0CMCkbplrFUx9CgVDf2fLYtQP3fNAvs=", "PrivateKey = "
    "jLktUmP4Tca79fogvXsXOVtJrfIjxmwLQMvNJaV2Hw==", "PrivateKey = "
    "8zzW9MzGzAfH9mFbhSCpH/0yzWKseXDdBDWtw5/CZlB=");
T(P_JWT, "eyJ"
    "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaS1ib3QiLCJpYXQiOiIxNzE3MTcxNzE3In0.BRPdQVjpr"
    "V_1VoLFCA6VRbk0t3GyBVhrSMoOsf9yBQH", "Authorization: Bearer " "eyJ"
    "hbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGguY29ycC5pbnRlcm5hbCIsImF1ZCI6I"
    "mFwaSJ9.o5JaMT67qIPr12mUQB9P26dfEJ72chy_n6UOtALCTqa3ZHxVvmz3J_VQ3GrAFKsAhzb93_dhNLf_PwCgfQF"
    "9rrvZHh_ft-LSkdk7DxlkPyVmWRw6RZqTOtGzuzRMcexr7GrzzKobeQVTppoBiMXAU2h6k4APLj5cIUY18tzsHqlMdz"
    "0MDNe3fCK3MDC0cLe6rQrM32ggqEsIjNk_mKCdfnk2DOr9XoJ2Yvw4hd87cIcHeYDeJDtTRY7Io1GXHqduaeOCKrbJX"
    "q3UbmcOiuTX-M2xTKOjTPsgy1j8ASd-2v3hxN6LP17Fkde2ZFZ-ZAgkT2PdWux3iXQdpTTnVSoKvj");
T(N_JWT, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9l"
    "IiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "eyJ"
    "0eXAiOiJKV1QifQ.eyJzdWIiOiJjaS1ib3QifQ.AwqIv6ppRO_ORDNCQ8ZEqiKh2soTPO6ZlcZ16gPgIN-", "eyJ"
    "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaS1ib3QifQ._0WYBO-i");
T(P_POSTGRES, "postgres://app:" "7QG2gXUJ4HU4SLW4XGPA@db.corp.internal:5432/app",
    "DATABASE_URL=postgresql+psycopg2://svc_reports:" "Sgq2biga%21aKMtc0@10.0.3.7/reports");
T(N_POSTGRES, "postgres://postgres:postgres@localhost:5432/app",
    "postgresql://app:${DB_PASSWORD}@db:5432/app", "postgres://db.corp.internal:5432/app");
T(P_MYSQL, "mysql://root:" "mLNlLGTWTmkzEOqq@127.0.0.1:3306/shop", "mysql+pymysql://etl:"
    "iGh546Mxbopj%23bGzN@db/etl");
T(N_MYSQL, "mysql://user:password@localhost/db", "mysql://root:<password>@localhost/db",
    "mysql://root@localhost/db");
T(P_MONGODB, "mongodb+srv://atlas-admin:"
    "LApofZgVbMRl3nWW@cluster0.i8yt2.mongodb.net/?retryWrites=true", "mongodb://reader:"
    "LcGyZKV2z3K9kE@mongo-0.mongo:27017,mongo-1.mongo:27017/app");
T(N_MONGODB, "mongodb+srv://admin:<password>@cluster0.abcde.mongodb.net/",
    "mongodb://admin:****@mongo:27017", "mongodb://mongo:27017/app");
T(P_REDIS, "redis://:" "Xbx7DKZ2oW59R2MTbhZ1ZPCI@redis.corp.internal:6379/0",
    "REDIS_URL=rediss://default:" "VHtTXrocHhQhuu1o0aBmqJlgfxl3CAT4@cache-9wazgu.upstash.io:6379");
T(N_REDIS, "redis://:xxx@localhost:6379", "redis://localhost:6379/0", "redis://default:%s@%s:6379");
T(P_AMQP, "amqp://orders:" "WdXxL8jPo8hdOPViBG@rabbitmq.corp.internal:5672/%2F",
    "CELERY_BROKER_URL=amqps://worker:"
    "LaYjt9YpeFs9XQBRFCamp2@b-m334cyaa.mq.eu-west-1.amazonaws.com:5671");
T(N_AMQP, "amqp://guest:guest@localhost:5672/", "amqp://user:pass@rabbitmq:5672/",
    "amqp://rabbitmq:5672/");
T(P_BASIC_URL, "https://deploy:" "exknflYCGU2vAAr0U1wo@git.corp.internal/ops/infra.git",
    "pip install --index-url https://ci:" "jJ4jAnrM0y1w99Zs@pypi.corp.internal/simple/ pkg");
T(N_BASIC_URL, "https://user:pass@example.com/", "https://git.corp.internal/ops/infra.git",
    "https://x-access-token:${GITHUB_TOKEN}@github.com/o/r.git");
T(P_BEARER, "Authorization: Bearer " "jY1tnDOtwpAxKWcKg3Bd5jARk3f_ZbWxKUwefUK68d2adtL6",
    "curl -H \"Authorization: Bearer "
    "pQMWJ0Z2k5uNcyMiTWmPkMUVs7lNDYqp4vecQlVi\" https://api.corp.internal/v1/me");
T(N_BEARER, "Authorization: Bearer $TOKEN", "Authorization: Bearer <token>",
    "Authorization: Bearer " "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_BASIC_HEADER, "Authorization: Basic " "c3ZjLWJhY2t1cDpLcDc4dVplbDFnMW94Qkk5",
    "-H 'authorization: basic " "amVua2luczpMdzI2clpnNldwdGtSbzk0SXJNcA=='");
T(N_BASIC_HEADER, "Authorization: Basic dXNlcjpwYXNzd29yZA==",
    "Authorization: Basic YWRtaW46YWRtaW4=", "Authorization: Basic $CREDS");
T(P_NETRC, "machine api.corp.internal login ci password " "660iAP0oeCgi1IFjHr0i",
    "machine git.corp.internal\n  login deploy\n  password " "GaKGc1E7uWZ4ivpx\n");
T(N_NETRC, "machine api.corp.internal login ci password password",
    "machine api.corp.internal login ci", "machine h login ci password ${NETRC_PASSWORD}");
T(P_GEN_PASSWORD, "DB_PASSWORD=" "ColbwsGIux#3cyLtc", "  \"password\": \"" "VqAzDeaDULY!\",",
    "spring.datasource.password: " "FSircAcWS13Ae1",
    /* a sigil first, then random letters: not a "$NAME" reference */
    "SMTP_PASS=" "#hpEtjAQXBucccrbvL", "REDIS_PASSWORD=" "!VYXPSuhtVlmMtcU_O");
T(N_GEN_PASSWORD, "password: changeme", "DB_PASSWORD=${DB_PASSWORD}", "password = self.password",
    "password_reset_token_ttl: 3600", "PASSWORD_FILE=/run/secrets/db",
    "DB_PASSWORD=%DbPasswordFromVault%", "SMTP_PASSWORD=@Microsoft.KeyVaultSecretName");
T(P_GEN_SECRET, "client_secret=" "n0azeJRzmiTuf9SlMs5MqCUwQZ2hg7aB", "SECRET_KEY_BASE: "
    "1687aa2ef611a3fdf18429d8d78c8e727e27d8374426c5d9cf91d8e66964e10d", "  \"app_secret\": \""
    "rpPokKTmjCmmIupoTVQNIwfXGGHPHwl0g4k/0Nzt\"");
T(N_GEN_SECRET, "client_secret: <client-secret>", "secretName: app-tls", "SECRET_KEY="
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "secret: ${{ secrets.DEPLOY_KEY }}");
T(P_GEN_APIKEY, "API_KEY=" "8pTWA4RZhlDKbrFVKl2N9HKkGoFXCTC6", "x-api-key: "
    "30a2cc016c69da65522a36844f4a7a28f4950653", "  \"apiKey\": \""
    "RHxLH_mKio3hsqcVWt1GONAAA66CyKqo5Wip6Oq\"");
T(N_GEN_APIKEY, "API_KEY=your-api-key-here", "api_key: None", "apikey = getenv(\"API_KEY\")",
    "API_KEY=" "00000000000000000000000000000000");
T(P_GEN_TOKEN, "ACCESS_TOKEN=" "fWx6h5xLosBtnfVsJl2LYPwJHEjm2MZxQpnDpFr4", "  refresh_token: \""
    "SVqhDcBXgsqwt1biEBrQh4QGdm23GSRNSfCU0xTWdNsNftEBG4FWfay9aoYK_eIS\"", "\"token\": \""
    "f96f61a7e562d53eb1642b0c6fcc0bb31b3535b27d63e214\"");
T(N_GEN_TOKEN, "token: ${{ secrets.GITHUB_TOKEN }}", "token_type: bearer", "token_expiry: 3600",
    "TOKEN=" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
T(P_K8S_YAML, "apiVersion: v1\ndata:\n  password: " "VnEzWEFScjc1WU8xM01y\n"
    "  username: c3ZjLWFwcA==\nkind: Secret\nmetadata:\n  name: db-creds\ntype: Opaque\n",
    "items:\n" "- apiVersion: v1\n" "  data:\n"
    "    tls.key: wPi1iBOnDn0wClYT0nYAKX6EPmtB0Z2ek+BCFM1vu/yRRSCYs+hm22/NTBjwoPOvQMfenfQistyRDI"
    "pxviGPZVRzpkJk7Jj7XBYTU+fj0od31rF1LjaadGKvodkGAHNBmTF4ZyF9dmI4UFb7aInsNfZ4knHFqxAi20Tonn4t9"
    "oFgxEmty9YR7cxdF7dfKP6WO1iYtS7n4bY+uc+j8QJedN+bHaNEirE5Z6VDlmUvsWGIrZI9pv0bbChJL66f6VDU4b+7"
    "Iq/X8TIFg5C4PUgPXhxJB8kI5kG7h1/RPXN7NZ4d3tNeUsgHHqcMN8c5Vedw9EkLJDfGo7TFeUnLjsYWJBpJJZRIAJp"
    "IPUWe+ibsnoP2WRasuL0UKU4dk216qWjXXQ0EX6NLP7RdKCAT\n" "  kind: Secret\n"
    "  metadata:\n    name: web-tls\n");
T(N_K8S_YAML, "apiVersion: v1\ndata:\n  LOG_LEVEL: debug\nkind: ConfigMap\n",
    "apiVersion: v1\ndata:\n  app.conf: |\n    port=80\nkind: Secret\n",
    "apiVersion: v1\ndata:\nkind: Secret\nmetadata:\n  name: empty\n",
    "apiVersion: v1\ndata:\n  password: changeme\n  token: REDACTED\n  key: Y2hhbmdlbWU=\n"
    "kind: Secret\n");
T(P_K8S_ENTRY, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-creds\ntype: Opaque\n"
    "data:\n  password: " "VnEzblk1Y3FRcnpoN0I5\n", "---\napiVersion: v1\nkind: Secret\n"
    "metadata:\n  name: api\nstringData:\n  API_TOKEN: \"porHetRrRnmPpS7rLuMvW6qP6Dhi979u\"\n");
T(N_K8S_ENTRY, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-creds\n  namespace: prod\n",
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: ConfigMap\n"
    "data:\n  LOG_LEVEL: debug\n",
    "apiVersion: v1\nkind: Secret\ndata:\n  password: not base64!\n");
T(P_K8S_JSON, "{\n    \"apiVersion\": \"v1\",\n    \"data\": {\n        \"password\": \""
    "V3oxR0d1Qk1Pb3dibFRr\"\n    },\n    \"kind\": \"Secret\",\n    \"metadata\": {}\n}",
    "{\"apiVersion\":\"v1\",\"data\":{\"token\":\"C5efJ6dnDdbMNzLYfrRThsqyivf4GOjKC03M1hjN\"},\""
    "kind\":\"Secret\"}");
T(N_K8S_JSON, "{\"apiVersion\":\"v1\",\"data\":{\"LOG_LEVEL\":\"debug\"},\"kind\":\"ConfigMap\"}",
    "{\"data\":{},\"kind\":\"Secret\"}", "{\"data\":{\"a\":{\"b\":\"c\"}},\"kind\":\"Secret\"}");

/* ---- the rules ---------------------------------------------------------------------------- */

#define RULE(id_, sev_, desc_, pat_, max_, fn_, tests_)                                        \
	{                                                                                      \
		.id = id_, .description = desc_, .severity = SCAN_SEV_##sev_, .pattern = pat_,   \
		.hs_flags = 0, .max_len = max_, .validate = fn_, .positives = P_##tests_,         \
		.negatives = N_##tests_,                                                       \
	}

/* clang-format off */
const struct scan_rule SCAN_RULES[] = {
	/* cloud providers */
	RULE("aws-access-key-id", HIGH,
	    "AWS access key id (AKIA long-term, ASIA temporary, ABIA/ACCA service ids)",
	    "\\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}" E_B62,
	    21, v_aws_akid, AWS_AKID),
	RULE("aws-secret-access-key", CRITICAL,
	    "AWS secret access key (40 base64 bytes after aws_secret_access_key /"
	    " SecretAccessKey)",
	    "(?i:secret[_.-]?access[_.-]?key|aws[_.-]?secret[_.-]?key)" ASSIGN "[A-Za-z0-9/+]{40}"
	    E_B64,
	    70, v_aws_secret, AWS_SECRET),
	RULE("aws-session-token", CRITICAL,
	    "AWS STS session token (IQoJb3JpZ2luX2Vj / FwoGZXIvYXdz prefixes)",
	    "\\b(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)[A-Za-z0-9/+]{100,}" E_B64PAD,
	    4019, v_aws_session, AWS_SESSION),
	RULE("gcp-service-account-key", CRITICAL,
	    "Google Cloud service-account JSON key (private_key_id through its PKCS#8 private_key)",
	    "\"private_key_id\"[ \\t\\r\\n]{0,16}:[ \\t\\r\\n]{0,16}\"[0-9a-f]{40}\""
	    "[ \\t\\r\\n]{0,16},"
	    "[ \\t\\r\\n]{0,16}\"private_key\"[ \\t\\r\\n]{0,16}:[ \\t\\r\\n]{0,16}"
	    "\"-----BEGIN PRIVATE KEY-----[A-Za-z0-9+/=\\s\\\\]{64,}-----END PRIVATE KEY-----",
	    8192, v_gcp_sa, GCP_SA),
	RULE("gcp-service-account-key-base64", CRITICAL,
	    "Google Cloud service-account JSON key, base64-encoded (GOOGLE_CREDENTIALS, Secrets)",
	    "\\b(?:ewogICJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCIs|eyJ0eXBlIjoic2VydmljZV9hY2NvdW50Iiw|"
	    "eyJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCIs)[A-Za-z0-9+/]{800,}" E_B64PAD,
	    8043, v_gcp_sa_b64, GCP_SA_B64),
	RULE("google-api-key", MEDIUM,
	    "Google API key (AIza + 35)",
	    "\\bAIza[0-9A-Za-z_-]{35}" E_B64URL,
	    40, v_google_api, GOOGLE_API),
	RULE("google-oauth-client-secret", HIGH,
	    "Google OAuth client secret (GOCSPX-)",
	    "\\bGOCSPX-[A-Za-z0-9_-]{28}" E_B64URL,
	    36, v_google_oauth_secret, GOOGLE_OAUTH_SECRET),
	RULE("google-oauth-access-token", HIGH,
	    "Google OAuth 2.0 access token (ya29.)",
	    "\\bya29\\.[A-Za-z0-9_-]{50,}" E_B64URL,
	    2054, v_google_access, GOOGLE_ACCESS),
	RULE("azure-storage-account-key", CRITICAL,
	    "Azure storage account key (64 bytes after AccountKey= or an AZURE_STORAGE_*KEY key)",
	    "(?:(?i:AccountKey)" ASSIGN "|(?i:azure|storage)" IDTAIL "(?i:key)" ASSIGN ")"
	    "[A-Za-z0-9+/]{86}==",
	    134, v_azure_storage, AZURE_STORAGE),
	RULE("azure-sas-token", HIGH,
	    "Azure shared access signature (sv=... &sig= URL-encoded HMAC-SHA256)",
	    "\\bsv=[0-9]{4}-[0-9]{2}-[0-9]{2}&[A-Za-z0-9_%.:,=&+-]{0,512}sig="
	    "[A-Za-z0-9%+/=]{40,120}(?:[^A-Za-z0-9%+/=]|\\z)",
	    651, v_azure_sas, AZURE_SAS),
	RULE("azure-shared-access-key", CRITICAL,
	    "Azure Service Bus / Event Hubs / IoT Hub SharedAccessKey (32 bytes)",
	    "(?i:SharedAccessKey)=[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=",
	    60, v_azure_shared, AZURE_SHARED),
	RULE("azure-ad-client-secret", HIGH,
	    "Microsoft Entra ID (Azure AD) application client secret (xxxNQ~...)",
	    "(?:^|[^A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}"
	    "(?:[^A-Za-z0-9_~.-]|\\z)",
	    42, v_azure_ad, AZURE_AD),
	RULE("alibaba-access-key-id", HIGH,
	    "Alibaba Cloud AccessKey id (LTAI)",
	    "\\bLTAI[A-Za-z0-9]{12,20}" E_B62,
	    25, v_alibaba, ALIBABA),
	RULE("digitalocean-pat", CRITICAL,
	    "DigitalOcean personal access token (dop_v1_)",
	    "\\bdop_v1_[a-f0-9]{64}" E_B62,
	    72, v_do_pat, DO_PAT),
	RULE("digitalocean-oauth-token", HIGH,
	    "DigitalOcean OAuth access/refresh token (doo_v1_/dor_v1_)",
	    "\\bdo[or]_v1_[a-f0-9]{64}" E_B62,
	    72, v_do_oauth, DO_OAUTH),
	RULE("heroku-api-key", HIGH,
	    "Heroku API key (HRKU-)",
	    "\\bHRKU-[A-Za-z0-9_-]{50,70}" E_B64URL,
	    76, v_heroku, HEROKU),
	RULE("heroku-api-key-legacy", HIGH,
	    "Heroku API key in UUID form after a HEROKU_* key",
	    "(?i:heroku)" IDTAIL ASSIGN
	    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-" "[0-9a-fA-F]{12}" E_B62,
	    79, v_heroku_legacy, HEROKU_LEGACY),
	RULE("cloudflare-api-token", HIGH,
	    "Cloudflare API token (40 bytes after a CLOUDFLARE_/CF_ key)",
	    "(?i:cloudflare|\\bcf[_-])" IDTAIL ASSIGN "[A-Za-z0-9_-]{40}" E_B64URL,
	    87, v_cf_token, CF_TOKEN),
	RULE("cloudflare-global-api-key", CRITICAL,
	    "Cloudflare global API key (37 hex after X-Auth-Key or a CLOUDFLARE_ key)",
	    "(?i:cloudflare|\\bcf[_-]|x-auth-key)" IDTAIL ASSIGN "[0-9a-f]{37}" E_B62,
	    84, v_cf_global, CF_GLOBAL),
	RULE("cloudflare-origin-ca-key", HIGH,
	    "Cloudflare Origin CA key (v1.0-)",
	    "\\bv1\\.0-[0-9a-f]{24}-[0-9a-f]{146}" E_B62,
	    177, v_cf_origin, CF_ORIGIN),
	RULE("fastly-api-token", HIGH,
	    "Fastly API token (after Fastly-Key or a FASTLY_ key)",
	    "(?i:fastly)" IDTAIL ASSIGN "[A-Za-z0-9_-]{32}" E_B64URL,
	    75, v_fastly, FASTLY),
	RULE("netlify-token", HIGH,
	    "Netlify personal access token (nfp_, or 43 bytes after NETLIFY_)",
	    "(?:\\bnfp_[A-Za-z0-9]{36}|(?i:netlify)" IDTAIL ASSIGN "[A-Za-z0-9_-]{43})" E_B64URL,
	    87, v_netlify, NETLIFY),
	RULE("vercel-token", HIGH,
	    "Vercel access token (24 bytes after a VERCEL_ key)",
	    "(?i:vercel)" IDTAIL ASSIGN "[A-Za-z0-9]{24}" E_B62,
	    67, v_vercel, VERCEL),
	RULE("supabase-token", HIGH,
	    "Supabase management API token (sbp_)",
	    "\\bsbp_[a-f0-9]{40}" E_B62,
	    45, v_supabase, SUPABASE),
	RULE("databricks-token", HIGH,
	    "Databricks personal access token (dapi + 32 hex)",
	    "\\bdapi[a-f0-9]{32}(?:-[0-9])?(?:[^A-Za-z0-9-]|\\z)",
	    39, v_databricks, DATABRICKS),
	RULE("tailscale-key", HIGH,
	    "Tailscale auth/API/OAuth key (tskey-)",
	    "\\btskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,20}-[A-Za-z0-9]{20,64}" E_B62,
	    100, v_tailscale, TAILSCALE),
	RULE("fcm-server-key", HIGH,
	    "Firebase Cloud Messaging legacy server key (AAAA...:APA91b)",
	    "\\bAAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{120,160}" E_B64URL,
	    179, v_fcm, FCM),

	/* source hosting, CI, package registries */
	RULE("github-pat", HIGH,
	    "GitHub classic personal access token (ghp_, CRC-32 checked)",
	    "\\bghp_[A-Za-z0-9]{36}" E_B62,
	    41, v_gh_pat, GH_PAT),
	RULE("github-fine-grained-pat", HIGH,
	    "GitHub fine-grained personal access token (github_pat_)",
	    "\\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}" E_B62,
	    94, v_gh_fine, GH_FINE),
	RULE("github-oauth-token", HIGH,
	    "GitHub OAuth access token (gho_, CRC-32 checked)",
	    "\\bgho_[A-Za-z0-9]{36}" E_B62,
	    41, v_gh_oauth, GH_OAUTH),
	RULE("github-user-to-server-token", HIGH,
	    "GitHub App user-to-server token (ghu_, CRC-32 checked)",
	    "\\bghu_[A-Za-z0-9]{36}" E_B62,
	    41, v_gh_u2s, GH_U2S),
	RULE("github-server-to-server-token", HIGH,
	    "GitHub App installation token (ghs_, CRC-32 checked)",
	    "\\bghs_[A-Za-z0-9]{36}" E_B62,
	    41, v_gh_s2s, GH_S2S),
	RULE("github-refresh-token", HIGH,
	    "GitHub App refresh token (ghr_, CRC-32 checked)",
	    "\\bghr_[A-Za-z0-9]{36}" E_B62,
	    41, v_gh_refresh, GH_REFRESH),
	RULE("gitlab-pat", HIGH,
	    "GitLab personal/project/group access token (glpat-, routable too)",
	    "\\bglpat-(?:[A-Za-z0-9_-]{20}|[A-Za-z0-9_-]{27,300}\\.[0-9a-z]{2}\\.[0-9a-z]{7,12})"
	    E_DOTTED,
	    324, v_gitlab_pat, GITLAB_PAT),
	RULE("gitlab-pipeline-trigger-token", HIGH,
	    "GitLab pipeline trigger token (glptt-)",
	    "\\bglptt-[0-9a-f]{40}" E_B62,
	    47, v_gitlab_ptt, GITLAB_PTT),
	RULE("gitlab-runner-registration-token", HIGH,
	    "GitLab runner registration token (GR1348941)",
	    "\\bGR1348941[A-Za-z0-9_-]{20}" E_B64URL,
	    30, v_gitlab_runner_reg, GITLAB_RUNNER_REG),
	RULE("gitlab-runner-auth-token", HIGH,
	    "GitLab runner authentication token (glrt-)",
	    "\\bglrt-(?:t[0-9]_)?(?:[A-Za-z0-9_-]{20}|[A-Za-z0-9_-]{27,300}\\.[0-9a-z]{2}\\."
	    "[0-9a-z]{7,12})" E_DOTTED,
	    326, v_gitlab_runner, GITLAB_RUNNER),
	RULE("gitlab-token", HIGH,
	    "GitLab deploy, feed, SCIM, OAuth-secret, mail, agent and feature-flag tokens",
	    "\\b(?:gldt|glft|glsoat|gloas|glimt|glagent|glwt|glffct)-[A-Za-z0-9_-]{20,80}" E_B64URL,
	    89, v_gitlab_other, GITLAB_OTHER),
	RULE("gitlab-ci-job-token", MEDIUM,
	    "GitLab CI/CD job token (glcbt-, valid while the job runs)",
	    "\\bglcbt-[A-Za-z0-9_-]{20,80}" E_B64URL,
	    87, v_gitlab_cbt, GITLAB_CBT),
	RULE("bitbucket-app-password", HIGH,
	    "Bitbucket app password (ATBB)",
	    "\\bATBB[A-Za-z0-9]{32}" E_B62,
	    37, v_bb_app, BB_APP),
	RULE("atlassian-api-token", HIGH,
	    "Atlassian (Jira/Confluence) API token (ATATT3)",
	    "\\bATATT3[A-Za-z0-9_-]{150,250}=[A-F0-9]{8}" E_B62,
	    266, v_atlassian, ATLASSIAN),
	RULE("bitbucket-access-token", HIGH,
	    "Bitbucket repository/project/workspace access token (ATCTT3)",
	    "\\bATCTT3[A-Za-z0-9_-]{150,250}=[A-F0-9]{8}" E_B62,
	    266, v_bb_access, BB_ACCESS),
	RULE("npm-token", HIGH,
	    "npm access token (npm_, CRC-32 checked)",
	    "\\bnpm_[A-Za-z0-9]{36}" E_B62,
	    41, v_npm, NPM),
	RULE("npmrc-auth-token", HIGH,
	    "registry credential in an .npmrc (:_authToken= / :_auth=)",
	    ":_(?:authToken|auth|password)=[\"']?[^\\s\"']{8,512}(?:[\"'\\s]|\\z)",
	    526, v_npmrc, NPMRC),
	RULE("pypi-token", HIGH,
	    "PyPI / TestPyPI API token (pypi-AgE... macaroon)",
	    "\\bpypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}" E_B64URL,
	    1028, v_pypi, PYPI),
	RULE("rubygems-api-key", HIGH,
	    "RubyGems API key (rubygems_)",
	    "\\brubygems_[a-f0-9]{48}" E_B62,
	    58, v_rubygems, RUBYGEMS),
	RULE("nuget-api-key", HIGH,
	    "NuGet.org API key (oy2 + 43)",
	    "\\boy2[a-z0-9]{43}" E_B62,
	    47, v_nuget, NUGET),
	RULE("docker-hub-token", HIGH,
	    "Docker Hub personal/organization access token (dckr_pat_)",
	    "\\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{27,32}" E_B64URL,
	    42, v_docker_hub, DOCKER_HUB),
	RULE("docker-config-auth", HIGH,
	    "registry user:password in ~/.docker/config.json (\"auth\")",
	    "\"auth\"[ \\t]{0,4}:[ \\t]{0,4}\"[A-Za-z0-9+/]{8,}={0,2}\"",
	    1043, v_docker_auth, DOCKER_AUTH),
	RULE("artifactory-api-key", HIGH,
	    "JFrog Artifactory API key (AKCp)",
	    "\\bAKCp[A-Za-z0-9]{69}" E_B62,
	    74, v_artifactory, ARTIFACTORY),
	RULE("jfrog-reference-token", HIGH,
	    "JFrog access/reference token (base64 of reftkn:01:)",
	    "\\bcmVmdGtuOjAxOj[A-Za-z0-9]{50}" E_B62,
	    65, v_jfrog_ref, JFROG_REF),
	RULE("circleci-token", HIGH,
	    "CircleCI personal/project API token (CCIPAT_/CCIPRJ_)",
	    "\\bCCIP(?:AT|RJ)_[A-Za-z0-9]{22}_[a-f0-9]{40}" E_B62,
	    71, v_circleci, CIRCLECI),
	RULE("buildkite-token", HIGH,
	    "Buildkite API access token (bkua_)",
	    "\\bbkua_[a-f0-9]{40}" E_B62,
	    46, v_buildkite, BUILDKITE),
	RULE("terraform-cloud-token", HIGH,
	    "HCP Terraform / Terraform Enterprise token (.atlasv1.)",
	    "\\b[A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_-]{60,70}" E_B64URL,
	    94, v_terraform, TERRAFORM),
	RULE("hashicorp-vault-token", CRITICAL,
	    "HashiCorp Vault service/batch/recovery token (hvs./hvb./hvr.)",
	    "\\bhv[sbr]\\.[A-Za-z0-9_-]{24,}" E_B64URL,
	    1029, v_vault, VAULT),
	RULE("hashicorp-vault-legacy-token", CRITICAL,
	    "HashiCorp Vault token in the pre-1.10 form (s./b.) after VAULT_TOKEN or"
	    " X-Vault-Token",
	    "(?i:vault[_-]?token|x-vault-token)" ASSIGN "[sb]\\.[A-Za-z0-9]{24}" E_B62,
	    52, v_vault_legacy, VAULT_LEGACY),
	RULE("pulumi-token", HIGH,
	    "Pulumi access token (pul-)",
	    "\\bpul-[a-f0-9]{40}" E_B62,
	    45, v_pulumi, PULUMI),
	RULE("doppler-token", CRITICAL,
	    "Doppler personal/service/CLI/SCIM/audit token (dp.pt. ...)",
	    "\\bdp\\.(?:pt|st|ct|sa|scim|audit)\\.(?:[a-z0-9_-]{2,35}\\.)?[A-Za-z0-9]{40,44}" E_B62,
	    90, v_doppler, DOPPLER),
	RULE("postman-api-key", HIGH,
	    "Postman API key (PMAK-)",
	    "\\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}" E_B62,
	    65, v_postman, POSTMAN),
	RULE("linear-api-key", HIGH,
	    "Linear API key or OAuth token (lin_api_/lin_oauth_)",
	    "\\blin_(?:api_[A-Za-z0-9]{40}|oauth_[a-f0-9]{64})" E_B62,
	    75, v_linear, LINEAR),
	RULE("notion-token", HIGH,
	    "Notion integration token (secret_ / ntn_)",
	    "\\b(?:secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35})" E_B62,
	    51, v_notion, NOTION),
	RULE("airtable-pat", HIGH,
	    "Airtable personal access token (pat + 14 . 64 hex)",
	    "\\bpat[A-Za-z0-9]{14}\\.[a-f0-9]{64}" E_B62,
	    83, v_airtable, AIRTABLE),
	RULE("huggingface-token", HIGH,
	    "Hugging Face user access token (hf_)",
	    "\\bhf_[A-Za-z]{34}" E_B62,
	    38, v_huggingface, HUGGINGFACE),
	RULE("groq-api-key", HIGH,
	    "Groq API key (gsk_)",
	    "\\bgsk_[A-Za-z0-9]{52}" E_B62,
	    57, v_groq, GROQ),

	/* chat and messaging */
	RULE("slack-bot-token", HIGH,
	    "Slack bot token (xoxb-)",
	    "\\bxoxb-[0-9]{8,14}-(?:[0-9]{8,14}-)?[A-Za-z0-9]{24}" E_B62,
	    60, v_slack_bot, SLACK_BOT),
	RULE("slack-user-token", HIGH,
	    "Slack user token (xoxp-)",
	    "\\bxoxp-[0-9]{8,14}-[0-9]{8,14}-[0-9]{8,14}-[a-f0-9]{32}" E_B62,
	    83, v_slack_user, SLACK_USER),
	RULE("slack-app-token", HIGH,
	    "Slack app-level token (xapp-)",
	    "\\bxapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{9,14}-[a-f0-9]{64}" E_B62,
	    100, v_slack_app, SLACK_APP),
	RULE("slack-token", HIGH,
	    "Slack rotating, refresh, workspace and legacy tokens (xoxe., xoxe-, xoxa-, xoxr-,"
	    " xoxs-)",
	    "\\bxox(?:e\\.xox[bp]|[aeors])-[0-9][A-Za-z0-9-]{40,250}(?:[^A-Za-z0-9-]|\\z)",
	    262, v_slack_other, SLACK_OTHER),
	RULE("slack-webhook-url", MEDIUM,
	    "Slack incoming webhook / workflow trigger URL",
	    "https://hooks\\.slack\\.com/(?:services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/"
	    "[A-Za-z0-9]{24}|"
	    "(?:workflows|triggers)/T[A-Z0-9]{8,12}/A[A-Z0-9]{8,12}/[0-9]{10,20}/[A-Za-z0-9]{32})"
	    E_B62,
	    116, v_slack_hook, SLACK_HOOK),
	RULE("discord-bot-token", HIGH,
	    "Discord bot token (after a DISCORD_ key or \"Authorization: Bot\")",
	    "(?:(?i:discord)" IDTAIL ASSIGN "|(?i:authorization)[\"']?[ \\t]{0,4}:[ \\t]{0,4}[\"']?"
	    "Bot[ \\t]{1,4})[MNO][A-Za-z0-9_-]{23,27}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,40}"
	    E_B64URL,
	    120, v_discord_bot, DISCORD_BOT),
	RULE("discord-webhook-url", MEDIUM,
	    "Discord webhook URL",
	    "https://(?:(?:canary|ptb)\\.)?discord(?:app)?\\.com/api/webhooks/[0-9]{17,20}/"
	    "[A-Za-z0-9_-]{60,68}" E_B64URL,
	    133, v_discord_hook, DISCORD_HOOK),
	RULE("telegram-bot-token", HIGH,
	    "Telegram Bot API token (bot id:AA...)",
	    "\\b[0-9]{8,10}:AA[A-Za-z0-9_-]{33}" E_B64URL,
	    47, v_telegram, TELEGRAM),
	RULE("twilio-api-key-secret", HIGH,
	    "Twilio API key secret (SKxxx:secret basic auth, or 32 bytes after a TWILIO_*SECRET"
	    " key)",
	    "(?:\\bSK[0-9a-f]{32}:|(?i:twilio)" IDTAIL "(?i:secret)[A-Za-z0-9_.-]{0,8}" ASSIGN ")"
	    "[A-Za-z0-9]{32}" E_B62,
	    89, v_twilio_auth, TWILIO_KEY),
	RULE("twilio-auth-token", HIGH,
	    "Twilio auth token (ACxxx:token basic auth, or 32 bytes after a TWILIO_*TOKEN key)",
	    "(?:\\bAC[0-9a-f]{32}:|(?i:twilio)" IDTAIL "(?i:token)[A-Za-z0-9_.-]{0,8}" ASSIGN ")"
	    "[A-Za-z0-9]{32}" E_B62,
	    88, v_twilio_auth, TWILIO_AUTH),
	RULE("sendgrid-api-key", HIGH,
	    "SendGrid API key (SG.xxx.yyy)",
	    "\\bSG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}" E_B64URL,
	    70, v_sendgrid, SENDGRID),
	RULE("mailgun-api-key", HIGH,
	    "Mailgun API key (key-<32 hex> or <32>-<8>-<8> with context)",
	    "(?:(?i:mailgun|\\bmg[_-])" IDTAIL ASSIGN "|\\bapi:)(?:key-[0-9a-f]{32}|"
	    "[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})" E_B62,
	    94, v_mailgun, MAILGUN),
	RULE("mailchimp-api-key", HIGH,
	    "Mailchimp API key (<32 hex>-us<dc>)",
	    "\\b[0-9a-f]{32}-us[0-9]{1,2}" E_B62,
	    38, v_mailchimp, MAILCHIMP),
	RULE("brevo-api-key", HIGH,
	    "Brevo (Sendinblue) API / SMTP key (xkeysib- / xsmtpsib-)",
	    "\\bx(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}" E_B62,
	    91, v_brevo, BREVO),

	/* payments and commerce */
	RULE("stripe-live-secret-key", CRITICAL,
	    "Stripe live secret key (sk_live_)",
	    "\\bsk_live_[A-Za-z0-9]{24,247}" E_B62,
	    256, v_stripe_live, STRIPE_LIVE),
	RULE("stripe-restricted-key", HIGH,
	    "Stripe live restricted key (rk_live_)",
	    "\\brk_live_[A-Za-z0-9]{24,247}" E_B62,
	    256, v_stripe_rk, STRIPE_RK),
	RULE("stripe-test-key", MEDIUM,
	    "Stripe test-mode secret/restricted key (sk_test_/rk_test_)",
	    "\\b[sr]k_test_[A-Za-z0-9]{24,247}" E_B62,
	    256, v_stripe_test, STRIPE_TEST),
	RULE("stripe-webhook-secret", HIGH,
	    "Stripe webhook signing secret (whsec_)",
	    "\\bwhsec_[A-Za-z0-9+/]{32,88}" E_B64PAD,
	    96, v_stripe_whsec, STRIPE_WHSEC),
	RULE("square-access-token", HIGH,
	    "Square access token (sq0atp-, or EAAA + 60 after a SQUARE_ key)",
	    "(?:\\bsq0atp-[A-Za-z0-9_-]{22}|(?i:square)" IDTAIL ASSIGN "(?:Bearer[ \\t]{1,4})?"
	    "EAAA[A-Za-z0-9_-]{60})" E_B64URL,
	    117, v_square, SQUARE),
	RULE("square-oauth-secret", HIGH,
	    "Square OAuth application secret (sq0csp-)",
	    "\\bsq0csp-[A-Za-z0-9_-]{43}" E_B64URL,
	    51, v_square_secret, SQUARE_SECRET),
	RULE("braintree-access-token", HIGH,
	    "PayPal Braintree production access token",
	    "\\baccess_token\\$production\\$[0-9a-z]{16}\\$[0-9a-f]{32}" E_B62,
	    74, v_braintree, BRAINTREE),
	RULE("shopify-access-token", HIGH,
	    "Shopify admin/custom/private app access token (shpat_/shpca_/shppa_)",
	    "\\bshp(?:at|ca|pa)_[a-fA-F0-9]{32}" E_B62,
	    39, v_shopify, SHOPIFY),
	RULE("shopify-shared-secret", HIGH,
	    "Shopify app shared secret (shpss_)",
	    "\\bshpss_[a-fA-F0-9]{32}" E_B62,
	    39, v_shopify_ss, SHOPIFY_SS),

	/* social, AI and mapping APIs */
	RULE("facebook-access-token", HIGH,
	    "Facebook / Meta Graph API access token (EAAB, EAAG, ...)",
	    "\\bEAA[B-Z0-9][A-Za-z0-9]{80,300}" E_B62,
	    305, v_facebook, FACEBOOK),
	RULE("twitter-bearer-token", HIGH,
	    "X (Twitter) app-only bearer token (AAAA...)",
	    "\\bAAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{60,140}(?:[^A-Za-z0-9%]|\\z)",
	    162, v_twitter, TWITTER),
	RULE("openai-api-key", HIGH,
	    "OpenAI API key (sk-, sk-proj-, sk-svcacct- with T3BlbkFJ)",
	    "\\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,200}T3BlbkFJ[A-Za-z0-9_-]{16,200}"
	    E_B64URL,
	    420, v_openai, OPENAI),
	RULE("anthropic-api-key", HIGH,
	    "Anthropic API / admin key (sk-ant-api03- ...)",
	    "\\bsk-ant-(?:api|admin|oat)[0-9]{2}-[A-Za-z0-9_-]{80,120}" E_B64URL,
	    136, v_anthropic, ANTHROPIC),
	RULE("mapbox-secret-token", HIGH,
	    "Mapbox secret access token (sk.eyJ...)",
	    "\\bsk\\.eyJ[A-Za-z0-9_-]{40,300}\\.[A-Za-z0-9_-]{20,64}" E_B64URL,
	    372, v_mapbox, MAPBOX),

	/* observability */
	RULE("grafana-cloud-token", HIGH,
	    "Grafana Cloud access policy / API token (glc_)",
	    "\\bglc_eyJ[A-Za-z0-9+/]{32,400}" E_B64PAD,
	    409, v_grafana_cloud, GRAFANA_CLOUD),
	RULE("grafana-service-account-token", HIGH,
	    "Grafana service account token (glsa_)",
	    "\\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}" E_B62,
	    47, v_grafana_sa, GRAFANA_SA),
	RULE("newrelic-user-api-key", HIGH,
	    "New Relic user API key (NRAK-)",
	    "\\bNRAK-[A-Z0-9]{27}" E_B62,
	    33, v_newrelic_user, NEWRELIC_USER),
	RULE("newrelic-license-key", MEDIUM,
	    "New Relic ingest license key (...NRAL)",
	    "\\b[A-Za-z0-9]{36}NRAL" E_B62,
	    41, v_newrelic_license, NEWRELIC_LICENSE),
	RULE("dynatrace-token", HIGH,
	    "Dynatrace API / PaaS token (dt0c01.)",
	    "\\bdt0[a-z][0-9]{2}\\.[A-Z0-9]{24}\\.[A-Z0-9]{64}" E_B62,
	    97, v_dynatrace, DYNATRACE),
	RULE("sentry-dsn-secret", MEDIUM,
	    "Sentry DSN that still carries its secret key",
	    "\\bhttps?://[0-9a-f]{32}:[0-9a-f]{32}@[A-Za-z0-9.-]{1,253}/[0-9]{1,12}(?:[^0-9]|\\z)",
	    341, v_sentry_dsn, SENTRY_DSN),
	RULE("sentry-auth-token", HIGH,
	    "Sentry user / organization auth token (sntryu_/sntrys_)",
	    "\\bsntry(?:u_[a-f0-9]{64}|s_eyJ[A-Za-z0-9+/=_]{60,600})(?:[^A-Za-z0-9+/=_]|\\z)",
	    611, v_sentry_token, SENTRY_TOKEN),
	RULE("okta-api-token", HIGH,
	    "Okta API token (00 + 40, after SSWS or an OKTA_ key)",
	    "(?:\\bSSWS[ \\t]{1,4}|(?i:okta)" IDTAIL ASSIGN ")00[A-Za-z0-9_-]{40}" E_B64URL,
	    83, v_okta, OKTA),

	/* private keys and key files */
	RULE("pem-rsa-private-key", CRITICAL,
	    "PEM RSA private key (PKCS#1, encrypted or not)",
	    PEM("RSA PRIVATE KEY"),
	    12288, v_pem_rsa, PEM_RSA),
	RULE("pem-ec-private-key", CRITICAL,
	    "PEM EC private key (SEC 1)",
	    PEM("EC PRIVATE KEY"),
	    4096, v_pem_ec, PEM_EC),
	RULE("pem-dsa-private-key", CRITICAL,
	    "PEM DSA private key",
	    PEM("DSA PRIVATE KEY"),
	    4096, v_pem_dsa, PEM_DSA),
	RULE("pem-pkcs8-private-key", CRITICAL,
	    "PEM PKCS#8 private key (any algorithm, Ed25519 too)",
	    PEM("PRIVATE KEY"),
	    12288, v_pem_pkcs8, PEM_PKCS8),
	RULE("pem-encrypted-private-key", HIGH,
	    "PEM encrypted PKCS#8 private key (its passphrase protects it)",
	    PEM("ENCRYPTED PRIVATE KEY"),
	    12288, v_pem_encrypted, PEM_ENCRYPTED),
	RULE("openssh-private-key", CRITICAL,
	    "OpenSSH private key (RSA, ECDSA, Ed25519; encrypted too)",
	    PEM("OPENSSH PRIVATE KEY"),
	    12288, v_pem_openssh, PEM_OPENSSH),
	RULE("pgp-private-key-block", CRITICAL,
	    "OpenPGP armored private key block",
	    PEM("PGP PRIVATE KEY BLOCK"),
	    16384, v_pem_pgp, PEM_PGP),
	RULE("putty-private-key", CRITICAL,
	    "PuTTY private key file (PPK v2/v3)",
	    "PuTTY-User-Key-File-[23]: [a-z0-9@.-]+\\r?\\n(?:(?:[ACEK][A-Za-z0-9-]*|Pu[a-z]"
	    "[A-Za-z0-9-]*|"
	    "Pr[A-Za-z0-9-]+): [^\\r\\n]*\\r?\\n|[A-Za-z0-9+/=]+\\r?\\n)+Private-MAC: "
	    "(?:[0-9a-f]{64}|[0-9a-f]{40})(?:[^0-9a-f]|\\z)",
	    12288, v_putty, PUTTY),
	RULE("base64-pem-private-key", CRITICAL,
	    "base64 of a PEM private key (kubeconfig client-key-data, tls.key, Helm values)",
	    "\\bLS0tLS1CRUdJTiB(?:SU0EgUFJJVkFURSBLRVkt|FQyBQUklWQVRFIEtFWS0t"
	    "|EU0EgUFJJVkFURSBLRVkt|"
	    "PUEVOU1NIIFBSSVZBVEUgS0VZLS0t|FTkNSWVBURUQgUFJJVkFURSBLRVkt|QUklWQVRFIEtFWS0t|"
	    "QR1AgUFJJVkFURSBLRVkgQkxPQ0st)[A-Za-z0-9+/]{100,}" E_B64PAD,
	    12288, v_base64_pem, BASE64_PEM),
	RULE("pkcs12-base64", CRITICAL,
	    "PKCS#12 / PFX file in base64 (DER: version 3, pkcs7-data OID)",
	    "\\bMI[IJKL][A-Za-z0-9+/]{2}[AQgw]IBAzCC[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]G"
	    "CSqGSIb3DQEHAaCC[A-Za-z0-9+/]{200,}" E_B64PAD,
	    16384, v_pkcs12, PKCS12),
	RULE("age-secret-key", CRITICAL,
	    "age encryption secret key (AGE-SECRET-KEY-1, bech32 checked)",
	    "\\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}" E_B62,
	    75, v_age, AGE),
	RULE("wireguard-private-key", CRITICAL,
	    "WireGuard interface PrivateKey",
	    "(?i:PrivateKey)[ \\t]{0,4}=[ \\t]{0,4}[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=",
	    63, v_wireguard, WIREGUARD),
	RULE("jwt", MEDIUM,
	    "JSON Web Token (signed: header with \"alg\", payload, signature)",
	    "\\beyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]{16,}" E_B64URL,
	    10709, v_jwt, JWT),

	/* connection strings and HTTP credentials */
	RULE("postgres-uri-password", HIGH,
	    "password in a PostgreSQL connection URI",
	    "\\b(?i:postgres(?:ql)?)(?:\\+[a-z0-9]{1,16})?://" USERINFO,
	    416, v_uri_password, POSTGRES),
	RULE("mysql-uri-password", HIGH,
	    "password in a MySQL / MariaDB connection URI",
	    "\\b(?i:mysqlx?|mariadb)(?:\\+[a-z0-9]{1,16})?://" USERINFO,
	    413, v_uri_password, MYSQL),
	RULE("mongodb-uri-password", HIGH,
	    "password in a MongoDB connection URI (mongodb+srv too)",
	    "\\b(?i:mongodb)(?:\\+srv)?://" USERINFO,
	    400, v_uri_password, MONGODB),
	RULE("redis-uri-password", HIGH,
	    "password in a Redis connection URI (redis://, rediss://)",
	    "\\b(?i:rediss?)://" USERINFO,
	    395, v_uri_password, REDIS),
	RULE("amqp-uri-password", HIGH,
	    "password in an AMQP (RabbitMQ) connection URI",
	    "\\b(?i:amqps?)://" USERINFO,
	    394, v_uri_password, AMQP),
	RULE("basic-auth-url", HIGH,
	    "password in the userinfo of any other URL (https://user:pass@)",
	    "\\b[A-Za-z][A-Za-z0-9+.-]{1,24}://" USERINFO,
	    414, v_basic_auth_url, BASIC_URL),
	RULE("http-bearer-token", HIGH,
	    "credential in an Authorization: Bearer header (not a JWT)",
	    "(?i:authorization)[\"']?[ \\t]{0,4}:[ \\t]{0,4}[\"']?(?i:bearer)[ \\t]{1,4}"
	    "[A-Za-z0-9._~+/-]{20,}={0,2}(?:[^A-Za-z0-9._~+/=-]|\\z)",
	    4133, v_bearer, BEARER),
	RULE("http-basic-auth-header", HIGH,
	    "user:password in an Authorization: Basic header",
	    "(?i:authorization)[\"']?[ \\t]{0,4}:[ \\t]{0,4}[\"']?(?i:basic)[ \\t]{1,4}"
	    "[A-Za-z0-9+/]{8,}" E_B64PAD,
	    1060, v_basic_header, BASIC_HEADER),
	RULE("netrc-password", HIGH,
	    "password of a machine entry in a .netrc",
	    "(?:\\bmachine[ \\t]{1,16}[^\\s]{1,253}|\\bdefault)\\s{1,16}login[ \\t]{1,16}"
	    "[^\\s]{1,256}" "\\s{1,16}password[ \\t]{1,16}[^\\s]{1,256}(?:\\s|\\z)",
	    866, v_netrc, NETRC),
	RULE("generic-password-assignment", MEDIUM,
	    "password/passwd/pass = value (env, YAML, JSON, shell), random-looking, no placeholder",
	    IDHEAD "(?i:pass(?:w(?:or)?d|phrase)?)" IDTAIL ASSIGN VALUE "{8,128}" E_VALUE,
	    207, v_gen_password, GEN_PASSWORD),
	RULE("generic-secret-assignment", MEDIUM,
	    "secret = value (client_secret, SECRET_KEY, ENCRYPTION_KEY, signing/master keys)",
	    IDHEAD "(?i:secret|encryption[_.-]?key|signing[_.-]?key|master[_.-]?key)" IDTAIL ASSIGN
	    VALUE "{12,128}" E_VALUE,
	    211, v_gen_secret, GEN_SECRET),
	RULE("generic-api-key-assignment", MEDIUM,
	    "api_key = value with enough entropy",
	    IDHEAD "(?i:api[_.-]?key)" IDTAIL ASSIGN VALUE "{16,128}" E_VALUE,
	    204, v_gen_apikey, GEN_APIKEY),
	RULE("generic-token-assignment", MEDIUM,
	    "token = value (access_token, AUTH_TOKEN, refresh_token) with enough entropy",
	    IDHEAD "(?i:token)" IDTAIL ASSIGN VALUE "{16,128}" E_VALUE,
	    202, v_gen_token, GEN_TOKEN),

	/* Kubernetes */
	RULE("kubernetes-secret-yaml", HIGH,
	    "data: block of a Secret printed by kubectl -o yaml (data: comes before kind: Secret)",
	    "(?:^|\\n)[ \\t]*data:[ \\t]*\\r?\\n(?:[ \\t]+[A-Za-z0-9._-]+:[ \\t]*[A-Za-z0-9+/=]*"
	    "[ \\t]*" "\\r?\\n)+(?:[ \\t]*immutable:[^\\r\\n]*\\r?\\n)?[ \\t-]*kind:[ \\t]*Secret"
	    "(?:[^A-Za-z0-9]|\\z)",
	    16384, v_k8s_yaml, K8S_YAML),
	RULE("kubernetes-secret-manifest", HIGH,
	    "data: / stringData: block of a Secret manifest (kind: Secret comes first)",
	    "\\bkind:[ \\t]*Secret[ \\t]*\\r?\\n(?:[ \\t]*[^\\s-][^\\r\\n]*\\r?\\n)*[ \\t]*"
	    "(?:data|stringData):[ \\t]*\\r?\\n(?:[ \\t]+[A-Za-z0-9._-]+:[ \\t]*"
	    "[^\\r\\n]+\\r?\\n)*" "[ \\t]+[A-Za-z0-9._-]+:[ \\t]*[^\\r\\n]+(?:\\r?\\n|\\z)",
	    16384, v_k8s_entry, K8S_ENTRY),
	RULE("kubernetes-secret-json", HIGH,
	    "data object of a Secret printed by kubectl -o json",
	    "\"data\"\\s*:\\s*\\{(?:\\s*\"[^\"\\\\]+\"\\s*:\\s*\"[A-Za-z0-9+/=]*\"\\s*,?)+\\s*\\}"
	    "\\s*,\\s*\"kind\"\\s*:\\s*\"Secret\"",
	    16384, v_k8s_json, K8S_JSON),
};
/* clang-format on */

const size_t SCAN_RULES_COUNT = VT_NELEM(SCAN_RULES);
