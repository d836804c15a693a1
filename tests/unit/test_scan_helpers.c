/*
 * Unit tests for validator helpers of src/scan/rules.c that were rewritten for speed, against
 * the straightforward definitions they replace (written out here, as they stood):
 * - placeholder(): the allowlist, a run of 6 equal or ascending bytes, a placeholder word
 *   (either case), "xxxx" / "XXXX" for values of up to 64 bytes; the allowlist and a majority
 *   byte for longer ones. The fast one skips allowlist entries a word finds, looks for words
 *   only where a byte pair starts one and finds the x runs in the runs pass.
 * - tok_find's prefix search (scan_rules_tok_start): the longest body that a prefix precedes,
 *   the first prefix in order at that length. The fast one compares a prefix only where its last
 *   byte is.
 * - the class runs (b64_run 16 bytes at a time, run_back and all_in 8 at a time): every byte
 *   value at every position of runs of 0..48 bytes of a class.
 * - entropy() (sparse counts up to 128 bytes, the counts above 1 picked 4 at a time after) and
 *   plausible() (the same counts for its majority test up to 128 bytes): bit for bit.
 * - gen_assign's scan for keyword starts (16 bytes at a time, right to left): every byte value
 *   at every position, from every end, for every kind.
 * On random values over alphabets dense in the bytes that matter and on crafted ones (every word
 * and allowlist entry at every position, in mixed case, cut short by one byte; runs of every
 * length around the limits).
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

/* as in rules.c */
static const char *const ALLOW[] = {
	"AKIAIOSFODNN7EXAMPLE",
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
	"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
	"EXAMPLE",
};
static const char *const WORDS[] = {
	"example", "your", "changeme", "change_me", "change-me", "placeholder", "redacted",
	"masked", "filtered", "dummy", "sample", "insert", "replace", "notreal", "not_real", "fake",
	"<", ">", "${", "{{", "$(", "...", "***",
};

static uint64_t rng = 0x3c6ef372fe94f82bull;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* lit (l bytes) at some position of p[0 .. n), case-sensitive or not */
static int
has(const uint8_t *p, size_t n, const char *lit, size_t l, int ci)
{
	size_t i, k;

	for (i = 0; i + l <= n; i++) {
		for (k = 0; k < l; k++)
			if (ci ? lower(p[i + k]) != lower((uint8_t)lit[k]) : p[i + k] != (uint8_t)lit[k])
				break;
		if (k == l)
			return 1;
	}
	return 0;
}

static int
ref_placeholder(const uint8_t *p, size_t n)
{
	size_t i, k, same = 1, up = 1;

	for (i = 0; i < sizeof(ALLOW) / sizeof(ALLOW[0]); i++)
		if (has(p, n, ALLOW[i], strlen(ALLOW[i]), 0))
			return 1;
	if (n > 64) {
		for (i = 0; i < n; i++) {
			for (k = 0, same = 0; k < n; k++)
				same += p[k] == p[i];
			if (same > n / 2)
				return 1;
		}
		return 0;
	}
	for (i = 1; i < n; i++) {
		same = p[i] == p[i - 1] ? same + 1 : 1;
		up = p[i] == p[i - 1] + 1 ? up + 1 : 1;
		if (same >= 6 || up >= 6)
			return 1;
	}
	for (i = 0; i < sizeof(WORDS) / sizeof(WORDS[0]); i++)
		if (has(p, n, WORDS[i], strlen(WORDS[i]), 1))
			return 1;
	return has(p, n, "xxxx", 4, 0) || has(p, n, "XXXX", 4, 0);
}

static size_t placeholder_checks, placeholder_hits;

static void
check_placeholder(const uint8_t *p, size_t n)
{
	const int want = ref_placeholder(p, n), got = scan_rules_placeholder(p, n);

	if (want != got)
		fail_msg("placeholder of %zu bytes \"%.*s\": %d, expected %d", n, (int)n, p, got,
		    want);
	placeholder_checks++;
	placeholder_hits += (size_t)want;
}

static void
fill(uint8_t *p, size_t n, const char *alpha)
{
	const size_t al = strlen(alpha);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)alpha[next() % al];
}

static void
test_placeholder_random(void **state)
{
	static const char *const alphas[] = {
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		"xXyYaAeEmMpPlLsS.*<${(-_0123",
		"exampleEXAMPLEyourchangemeplaceholderredactedmaskedfiltereddummysampleinsertreplace",
		"xX",
		"abcdefg123456",
		"AKIOSFDN7EXMPLKYwJalrXUtn/",
	};
	uint8_t v[300];
	size_t a, t, n;

	(void)state;
	for (a = 0; a < sizeof(alphas) / sizeof(alphas[0]); a++) {
		for (t = 0; t < 20000; t++) {
			n = t < 300 ? t % 130 : next() % 200;
			fill(v, n, alphas[a]);
			check_placeholder(v, n);
		}
	}
	assert_true(placeholder_hits > 10000 && placeholder_hits + 10000 < placeholder_checks);
}

static void
test_placeholder_crafted(void **state)
{
	const char *const b62 = "ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmnopqrstuvwyz0123456789";
	uint8_t v[300];
	size_t w, n, i, k, l, c;

	(void)state;
	/* every word and allowlist entry at every position, in random case, whole and cut short */
	for (w = 0; w < sizeof(WORDS) / sizeof(WORDS[0]) + sizeof(ALLOW) / sizeof(ALLOW[0]); w++) {
		const char *lit = w < sizeof(WORDS) / sizeof(WORDS[0]) ? WORDS[w] :
		    ALLOW[w - sizeof(WORDS) / sizeof(WORDS[0])];

		l = strlen(lit);
		for (n = l; n <= 70 && n < sizeof(v); n += (n < 66 ? 1 : 4)) {
			for (i = 0; i + l <= n; i++) {
				for (c = 0; c < 2; c++) {
					fill(v, n, b62);
					for (k = 0; k < l; k++) {
						int ch = (uint8_t)lit[k];

						if (c == 1 && ch >= 'a' && ch <= 'z' && next() % 2)
							ch -= 32;
						v[i + k] = (uint8_t)ch;
					}
					check_placeholder(v, n);
					if (l > 1) /* its last byte changed */
						v[i + l - 1] = '#';
					check_placeholder(v, n);
				}
			}
		}
	}
	/* runs of x, X, mixed and of equal or ascending bytes, of lengths 1..8, anywhere */
	for (n = 1; n <= 66; n++) {
		for (l = 1; l <= 8 && l <= n; l++) {
			for (i = 0; i + l <= n; i++) {
				for (c = 0; c < 5; c++) {
					fill(v, n, b62);
					for (k = 0; k < l; k++)
						v[i + k] = c == 0 ? 'x' : c == 1 ? 'X' :
						    c == 2 ? (uint8_t)("xX"[k % 2]) :
						    c == 3 ? 'q' : (uint8_t)('a' + k);
					check_placeholder(v, n);
				}
			}
		}
	}
	assert_true(placeholder_checks > 100000);
}

/* tok_find's prefix search as it stood: strlen and a full compare per length and prefix */
static size_t
ref_tok_start(const char *const *pfx, size_t np, size_t lo, const uint8_t *m, size_t e, size_t r,
    size_t *body, size_t *which)
{
	size_t l, i;

	for (l = r; l >= lo && l > 0; l--) {
		if (np == 0) {
			*body = l;
			*which = 0;
			return e - l;
		}
		for (i = 0; i < np; i++) {
			const size_t pl = strlen(pfx[i]);

			if (e - l >= pl && memcmp(m + e - l - pl, pfx[i], pl) == 0) {
				*body = l;
				*which = i;
				return e - l - pl;
			}
		}
	}
	return SIZE_MAX;
}

static void
test_tok_start(void **state)
{
	static const char alpha[] = "ab_1";
	char pbuf[8][6];
	const char *pfx[8];
	uint8_t m[64];
	size_t t, np, i, k, n, e, r, lo, found = 0;

	(void)state;
	for (t = 0; t < 400000; t++) {
		size_t b1 = 0, w1 = 0, b2 = 0, w2 = 0, s1, s2;

		np = next() % 9;
		for (i = 0; i < np; i++) {
			const size_t pl = next() % 13 == 0 ? 0 : 1 + next() % 4;

			for (k = 0; k < pl; k++)
				pbuf[i][k] = alpha[next() % 4];
			pbuf[i][pl] = '\0';
			pfx[i] = pbuf[i];
		}
		n = next() % sizeof(m);
		for (k = 0; k < n; k++)
			m[k] = (uint8_t)alpha[next() % 4];
		e = n == 0 ? 0 : next() % (n + 1);
		r = e == 0 ? 0 : next() % (e + 1);
		lo = next() % (r + 2);
		s1 = ref_tok_start(pfx, np, lo, m, e, r, &b1, &w1);
		s2 = scan_rules_tok_start(pfx, np, lo, m, e, r, &b2, &w2);
		assert_int_equal(s1, s2);
		if (s1 != SIZE_MAX) {
			assert_int_equal(b1, b2);
			assert_int_equal(w1, w2);
			found++;
		}
	}
	assert_true(found > 100000 && found < 390000);
}

/* rules.c enum cc: the classes checked here, by their definitions */
enum { CC_B62 = 0, CC_B64 = 2, CC_B64PAD = 3, CC_HEX = 4, CC_VALUE = 18 };

static int
in_class(int k, int c)
{
	const int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

	switch (k) {
	case CC_B62:
		return alnum;
	case CC_B64:
		return alnum || c == '+' || c == '/';
	case CC_B64PAD:
		return alnum || c == '+' || c == '/' || c == '=';
	case CC_HEX:
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	default:
		return c > 0x20 && c < 0x7f && strchr("\"'`,;&<>{}\\", c) == NULL;
	}
}

/* runs of a class with a byte outside it (or any byte value) at every position */
static void
test_class_runs(void **state)
{
	static const int classes[] = {CC_B62, CC_B64, CC_B64PAD, CC_HEX, CC_VALUE};
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	uint8_t m[96];
	size_t n, i, c, e, cap, want, checks = 0;
	int k;

	(void)state;
	for (c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
		k = classes[c];
		for (n = 0; n <= 48; n++) {
			for (i = 0; i <= n; i++) {
				unsigned int b;

				for (b = 0; b < 256; b += (i == n ? 256 : 1)) {
					size_t j;

					for (j = 0; j < n; j++) {
						do
							m[j] = (uint8_t)b64[next() % 65];
						while (!in_class(k, m[j]));
					}
					if (i < n)
						m[i] = (uint8_t)b;
					/* run from the start (b64_run: the base64 classes) */
					for (want = 0; want < n && in_class(k, m[want]); want++)
						;
					if (k == CC_B64 || k == CC_B64PAD)
						assert_int_equal(scan_rules_b64_run(m, n,
						    k == CC_B64PAD), want);
					assert_int_equal(scan_rules_all_in(m, n, k), want == n);
					/* run back from a random end, under a random cap */
					e = next() % (n + 1);
					cap = next() % 3 == 0 ? SIZE_MAX : next() % (n + 2);
					for (want = 0; want < cap && want < e && in_class(k, m[e - 1 - want]);
					    want++)
						;
					assert_int_equal(scan_rules_run_back(m, e, k, cap), want);
					checks++;
				}
			}
		}
	}
	assert_true(checks > 1000000);
}

/* rules.c GEN_KEYWORDS' first letters, by kind (password, secret, api key, token) */
static const char *const GEN_FIRSTS[] = {"p", "sem", "a", "t"};

/* every byte value at every position of 0..80 bytes, from every k, for every kind */
static void
test_gen_prev(void **state)
{
	uint8_t m[80];
	size_t kind, n, i, k, want, checks = 0;

	(void)state;
	for (kind = 0; kind < 4; kind++) {
		for (n = 0; n <= sizeof(m); n += 1 + next() % 3) {
			for (i = 0; i < n; i++) {
				unsigned int b;

				for (b = 0; b < 256; b++) {
					size_t j;

					/* sparse: random letters other than the firsts, some of them */
					for (j = 0; j < n; j++) {
						do
							m[j] = (uint8_t)next();
						while (strchr(GEN_FIRSTS[kind], lower(m[j])) != NULL &&
						    next() % 8 != 0);
					}
					m[i] = (uint8_t)b;
					k = next() % (n + 1);
					for (want = k; want-- > 0;)
						if (m[want] < 0x80 && m[want] != 0 &&
						    (lower(m[want]) >= 'a' && lower(m[want]) <= 'z') &&
						    strchr(GEN_FIRSTS[kind], lower(m[want])) != NULL)
							break;
					assert_int_equal(scan_rules_gen_prev((int)kind, m, k), want);
					checks++;
				}
			}
		}
	}
	assert_true(checks > 200000);
}

/*
 * entropy() is the histogram's, to the bit, at every length (the sparse path up to 128 bytes,
 * the SSE2 pick of the counts above 1 after); plausible() is !placeholder() && entropy >= h10/10
 * at every length, values with a byte at, just under and just over half of them included.
 */
static void
test_entropy_plausible(void **state)
{
	static const char *const alphas[] = {
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
		"0123456789abcdef", "ab", "aaaaaaab", "EXAMPLExample.<",
	};
	static const unsigned int h10s[] = {30, 33, 35, 40, 45};
	uint8_t v[600];
	size_t t, n, i, a, plausibles = 0, checks = 0;

	(void)state;
	for (t = 0; t < 60000; t++) {
		double e1, e2;
		unsigned int h10;
		int want;

		n = t < 6000 ? t % 600 : next() % 300;
		a = next() % 7;
		if (a < 5) {
			fill(v, n, alphas[a]);
		} else {
			for (i = 0; i < n; i++)
				v[i] = (uint8_t)next();
		}
		if (a == 6 && n > 0) { /* one byte at about half of them */
			const size_t half = n / 2 + (size_t)(next() % 3) - 1;

			for (i = 0; i < half && i < n; i++)
				v[i] = 'Q';
		}
		e1 = scan_rules_entropy(v, n);
		e2 = scan_rules_entropy_hist(v, n);
		if (memcmp(&e1, &e2, sizeof(e1)) != 0)
			fail_msg("entropy of %zu bytes: %.17g, histogram %.17g", n, e1, e2);
		h10 = h10s[next() % 5];
		want = n > 0 && !scan_rules_placeholder(v, n) && e2 * 10.0 >= (double)h10;
		if (scan_rules_plausible(v, n, h10) != want)
			fail_msg("plausible of %zu bytes (h10 %u): %d", n, h10, !want);
		plausibles += (size_t)want;
		checks++;
	}
	assert_true(plausibles > 5000 && plausibles + 5000 < checks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholder_random),
		cmocka_unit_test(test_placeholder_crafted),
		cmocka_unit_test(test_tok_start),
		cmocka_unit_test(test_class_runs),
		cmocka_unit_test(test_gen_prev),
		cmocka_unit_test(test_entropy_plausible),
	};

	if (secmem_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
