/*
 * The compiled rule database: every rule in ONE Vectorscan streaming database (no start-of-match
 * tracking: Vectorscan refuses HS_FLAG_SOM_LEFTMOST for the bounded repeats credential patterns
 * are made of, "Pattern is too large"), plus, per rule, the same pattern compiled by PCRE2 with
 * PCRE2_ENDANCHORED and JIT, which finds the leftmost start of a match once Vectorscan has
 * reported where it ends (docs/scanner.md, "Matching"). Both are read-only once built and shared
 * by every thread; the only mutable part is a small pool of Vectorscan scratch spaces, taken for
 * the length of one scan call. The Vectorscan database of the built-in rules is compiled at build
 * time (src/tools/scan_dbgen.c) and deserialized here when it is exactly what would be compiled
 * (hs_digest, hs_prebuilt): compiling it costs ~0.3 s at every start.
 */
#include "scan/scan_internal.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"

const char *
scan_severity_str(enum scan_severity s)
{
	switch (s) {
	case SCAN_SEV_LOW:
		return "low";
	case SCAN_SEV_MEDIUM:
		return "medium";
	case SCAN_SEV_HIGH:
		return "high";
	case SCAN_SEV_CRITICAL:
		return "critical";
	}
	return "unknown";
}

/* Vectorscan flags that the engine depends on not being set, or that change match shapes. */
#define HS_FLAGS_ALLOWED (HS_FLAG_CASELESS | HS_FLAG_DOTALL | HS_FLAG_MULTILINE | HS_FLAG_UTF8 | \
	HS_FLAG_UCP)

static uint32_t
pcre_flags(unsigned int hs_flags)
{
	uint32_t o = PCRE2_ENDANCHORED;

	if (hs_flags & HS_FLAG_CASELESS)
		o |= PCRE2_CASELESS;
	if (hs_flags & HS_FLAG_DOTALL)
		o |= PCRE2_DOTALL;
	if (hs_flags & HS_FLAG_MULTILINE)
		o |= PCRE2_MULTILINE;
	if (hs_flags & HS_FLAG_UTF8)
		o |= PCRE2_UTF;
	if (hs_flags & HS_FLAG_UCP)
		o |= PCRE2_UCP;
	return o;
}

/*
 * A leading "[class]{0,N}" followed by a rest with no top-level alternation: *rest points past
 * it, *nmax = N, and the class's length (with its brackets) is returned; 0 when the pattern does
 * not have that shape (then it is searched whole). Conservative: a class holding '[' (POSIX
 * classes), a lazy or possessive repeat, or anything unusual keeps the pattern whole.
 */
static size_t
lead_class(const char *p, const char **rest, unsigned int *nmax)
{
	size_t i = 1, cl;
	unsigned long v = 0;
	int depth = 0, inclass = 0;
	const char *q;

	if (p[0] != '[' || p[1] == ']' || p[1] == '^')
		return 0;
	for (; p[i] != '\0' && p[i] != ']'; i++) {
		if (p[i] == '[')
			return 0;
		if (p[i] == '\\' && p[++i] == '\0')
			return 0;
	}
	if (p[i] != ']')
		return 0;
	cl = i + 1;
	if (strncmp(p + cl, "{0,", 3) != 0)
		return 0;
	for (i = cl + 3; p[i] >= '0' && p[i] <= '9' && v < 100000; i++)
		v = v * 10 + (unsigned long)(p[i] - '0');
	if (i == cl + 3 || p[i] != '}' || v == 0 || v >= 100000)
		return 0;
	q = p + i + 1;
	if (*q == '\0' || *q == '?' || *q == '+' || *q == '*' || *q == '{')
		return 0;
	for (i = 0; q[i] != '\0'; i++) {
		if (q[i] == '\\') {
			if (q[++i] == '\0')
				return 0;
		} else if (inclass) {
			inclass = q[i] != ']';
		} else if (q[i] == '[') {
			inclass = 1;
			if (q[i + 1] == '^')
				i++;
			if (q[i + 1] == ']')
				i++; /* a literal ']' first in the class */
		} else if (q[i] == '(') {
			depth++;
		} else if (q[i] == ')') {
			depth--;
		} else if (q[i] == '|' && depth == 0) {
			return 0;
		}
	}
	if (depth != 0 || inclass)
		return 0;
	*rest = q;
	*nmax = (unsigned int)v;
	return cl;
}

/*
 * The first run of at least 3 literal bytes at the top level of a pattern without top-level
 * alternation or inline flags, and the longest match of what precedes it: every match holds the
 * run at most that far from its start. 0 when there is none (or the shape is unusual).
 */
static int
lit_anchor(const char *p, unsigned int hs_flags, struct scan_rule_rt *rt)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *ce = NULL;
	char pre[256];
	size_t i, n = 0, run_at = 0, best_at = 0, best_n = 0;
	int depth = 0, found = 0;

	if (hs_flags != 0)
		return 0;
	for (i = 0; p[i] != '\0'; i++) {
		const char c = p[i];
		int is_lit = 0, width = 1;
		char lc;

		if (c == '(' && p[i + 1] == '?' && p[i + 2] != ':') {
			size_t k = i + 2;

			while ((p[k] >= 'a' && p[k] <= 'z') || p[k] == '-')
				k++;
			if (p[k] != ':')
				return 0; /* inline flags or look-around: leave the pattern alone */
		}
		if (c == '\\') {
			if (p[i + 1] == '\0')
				return 0;
			lc = p[i + 1];
			is_lit = depth == 0 && !((lc >= 'a' && lc <= 'z') || (lc >= 'A' && lc <= 'Z') ||
			    (lc >= '0' && lc <= '9'));
			width = 2;
		} else if (c == '[') {
			size_t k = i + 1;

			if (p[k] == '^')
				k++;
			if (p[k] == ']')
				k++;
			for (; p[k] != '\0' && p[k] != ']'; k++)
				if (p[k] == '\\' && p[++k] == '\0')
					return 0;
			if (p[k] == '\0')
				return 0;
			width = (int)(k - i + 1);
		} else if (c == '{') {
			size_t k = i + 1;

			while (p[k] != '\0' && p[k] != '}')
				k++;
			if (p[k] == '\0')
				return 0;
			width = (int)(k - i + 1); /* a repeat count: not literal bytes */
		} else if (c == '(') {
			depth++;
		} else if (c == ')') {
			depth--;
		} else if (c == '|' && depth == 0) {
			return 0;
		} else if (depth == 0 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' && strchr("_-:/@=\"',;<>!%&~#", c) != NULL))) {
			is_lit = 1;
		}
		/* a quantified byte is not part of a literal run */
		if (is_lit && p[i + width] != '\0' && strchr("?*+{", p[i + width]) != NULL)
			is_lit = 0;
		if (is_lit && !found) {
			if (n == 0)
				run_at = i;
			if (n < sizeof(rt->lit))
				n++;
		} else if (!found) {
			if (n >= 3) {
				found = 1;
				best_at = run_at;
				best_n = n;
			}
			n = 0;
		}
		i += (size_t)width - 1;
	}
	if (!found && n >= 3) {
		found = 1;
		best_at = run_at;
		best_n = n;
	}
	if (!found || depth != 0 || best_n > sizeof(rt->lit) || best_at >= sizeof(pre))
		return 0;
	if (best_at == 0) {
		rt->lit_before = 0;
	} else {
		memcpy(pre, p, best_at);
		pre[best_at] = '\0';
		if (hs_expression_info(pre, 0, &info, &ce) != HS_SUCCESS) {
			if (ce != NULL)
				hs_free_compile_error(ce);
			return 0;
		}
		if (info->max_width == UINT_MAX || info->max_width > SCAN_RULE_MAX_LEN) {
			free(info);
			return 0;
		}
		rt->lit_before = info->max_width;
		free(info);
	}
	for (i = 0, n = 0; n < best_n; i++) {
		const char c = p[best_at + i];

		if (c == '\\')
			i++;
		rt->lit[n++] = p[best_at + i];
	}
	rt->lit_len = (uint8_t)best_n;
	return 1;
}

/*
 * The tails scan.c follows itself (enum scan_tail; scan.c tail_ends, lines_run), as rules.c
 * writes them: IDTAIL ASSIGN VALUE{m,n} E_VALUE, USERINFO, and a Secret manifest's lines.
 */
#define TAIL_ASSIGN_HEAD "[A-Za-z0-9_.-]{0,24}[\"']?[ \\t]{0,4}(?::=|=>|[:=])[ \\t]{0,4}[\"']?" \
	"[^\\s\"'`,;&<>{}\\\\]{"
#define TAIL_ASSIGN_END "}(?:[\\s\"'`,;&<>{}\\\\]|\\z)"
#define TAIL_USERINFO "[^\\s:@/?#\"'<>]{0,128}:[^\\s@/?#\"'<>]{1,256}@"
/* kubernetes-secret-manifest after its "kind: Secret" line (the trigger must end with \n) */
#define TAIL_LINES "(?:[ \\t]*[^\\s-][^\\r\\n]*\\r?\\n)*[ \\t]*(?:data|stringData):[ \\t]*\\r?\\n" \
	"(?:[ \\t]+[A-Za-z0-9._-]+:[ \\t]*[^\\r\\n]+\\r?\\n)*[ \\t]+[A-Za-z0-9._-]+:[ \\t]*[^\\r\\n]+" \
	"(?:\\r?\\n|\\z)"

/*
 * Patterns made of a block of lines and an ending with at most nl - 1 '\n' (counting classes
 * that can match one), recognised by their whole text (no flags): every byte of a match up to
 * its nl-th last '\n' lies in the block, so it is one of the block's bytes (alphanumerics and
 * extra). kubernetes-secret-yaml: "\n" or the stream's start, a "data:" header and
 * "key: base64" entries, then an optional "immutable:" line (one '\n') and the kind line with
 * the byte after it (which may be a '\n'). Its start search then skips what precedes the last
 * byte outside the set before the kind line (usually a shell prompt), instead of searching
 * max_len (16 KiB) back: ~14 kcycles per search.
 */
/*
 * ending: what Vectorscan compiles instead (scan_rule_rt.hs_ending). Vectorscan 5.4.9 misses
 * some ends of kubernetes-secret-yaml's whole pattern when the stream comes a byte or two at a
 * time (the "[ \t]*" after "data:"; docs/scanner.md, Limits), so its findings depended on how
 * output was cut. Its ending "kind: Secret" alone reports every end of the rule (and ends of
 * nothing, which the start search rejects), and is cheaper: the rule is rare and so is the line.
 */
static const struct {
	const char *pattern;
	const char *extra;
	uint8_t nl;
	const char *ending;
} HEAD_LINES[] = {
	{ "(?:^|\\n)[ \\t]*data:[ \\t]*\\r?\\n(?:[ \\t]+[A-Za-z0-9._-]+:[ \\t]*[A-Za-z0-9+/=]*"
	  "[ \\t]*\\r?\\n)+(?:[ \\t]*immutable:[^\\r\\n]*\\r?\\n)?[ \\t-]*kind:[ \\t]*Secret"
	  "(?:[^A-Za-z0-9]|\\z)", " \t\r\n._:+/=-", 3, "kind:[ \\t]*Secret(?:[^A-Za-z0-9]|\\z)" },
};

static void
head_lines(const char *p, unsigned int hs_flags, struct scan_rule_rt *rt)
{
	size_t i;
	const char *x;
	unsigned int c;

	if (hs_flags != 0)
		return;
	for (i = 0; i < VT_NELEM(HEAD_LINES); i++) {
		if (strcmp(p, HEAD_LINES[i].pattern) != 0)
			continue;
		memset(rt->head_set, 0, sizeof(rt->head_set));
		for (c = 0; c < 256; c++) {
			if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
				rt->head_set[c >> 3] |= (uint8_t)(1u << (c & 7));
		}
		for (x = HEAD_LINES[i].extra; *x != '\0'; x++)
			rt->head_set[(uint8_t)*x >> 3] |= (uint8_t)(1u << ((uint8_t)*x & 7));
		rt->head_nl = HEAD_LINES[i].nl;
		rt->hs_ending = HEAD_LINES[i].ending;
		return;
	}
}

/*
 * p[i] is '[': the index of the ']' that closes the class, or t if none does before t. A '^'
 * right after the '[' and a ']' right after that belong to the class; escapes are skipped.
 */
static size_t
class_close(const char *p, size_t i, size_t t)
{
	if (i + 1 < t && p[i + 1] == '^')
		i++;
	if (i + 1 < t && p[i + 1] == ']')
		i++;
	while (++i < t && p[i] != ']') {
		if (p[i] == '\\' && ++i == t)
			return t;
	}
	return i;
}

/*
 * 1 if p[0 .. t) is a whole top-level piece of a pattern: no top-level alternation, every group
 * and class closed, not ending inside an escape. What follows it then follows every match of it.
 */
static int
whole_piece(const char *p, size_t t)
{
	size_t i;
	int depth = 0;

	for (i = 0; i < t; i++) {
		if (p[i] == '\\') {
			if (++i == t)
				return 0;
		} else if (p[i] == '[') {
			if ((i = class_close(p, i, t)) == t)
				return 0;
		} else if (p[i] == '(') {
			depth++;
		} else if (p[i] == ')') {
			depth--;
		} else if (p[i] == '|' && depth == 0) {
			return 0;
		}
	}
	return depth == 0;
}

/*
 * A PEM block "-----BEGIN <label>-----...-----END <label>-----" (rules.c PEM, no flags): Vectorscan
 * compiles only the ending "-----END <label>-----" (scan_rule_rt.hs_ending). Every end of the rule
 * is an end of that literal; its other ends (an END line after no block, or after an illustration)
 * are ends of nothing, for which the start search (the whole pattern, PCRE2) finds no start, as
 * for kubernetes-secret-yaml's ending. The literal is as rare as the block, and Vectorscan no
 * longer keeps each rule's body repeat alive over every block's kilobytes of base64 (~8% of the
 * scan on the corpus with secrets).
 */
static void
pem_ending(const char *p, unsigned int hs_flags, struct scan_rule_rt *rt)
{
	static const char begin[] = "-----BEGIN ", end[] = "-----END ";
	const char *q, *e = NULL, *x;
	size_t n = strlen(p);

	if (hs_flags != 0 || rt->hs_ending != NULL || strncmp(p, begin, sizeof(begin) - 1) != 0)
		return;
	for (q = p; (q = strstr(q, end)) != NULL; q++)
		e = q;
	if (e == NULL || n < 5 || strcmp(p + n - 5, "-----") != 0 ||
	    (size_t)(p + n - 5 - e) <= sizeof(end) - 1)
		return;
	for (x = e + sizeof(end) - 1; x < p + n - 5; x++) {
		if (!((*x >= 'A' && *x <= 'Z') || (*x >= 'a' && *x <= 'z') ||
		    (*x >= '0' && *x <= '9') || *x == ' '))
			return;
	}
	if (whole_piece(p, (size_t)(e - p)))
		rt->hs_ending = e;
}

/*
 * A pattern that ends with base64 padding "==" after a whole top-level piece (no flags):
 * Vectorscan compiles only "==" (scan_rule_rt.hs_ending). Every end of the rule is an end of
 * "=="; the others (padding that ends no match) are ends of nothing, for which the start search
 * (the whole pattern, PCRE2, over max_len) finds no start. azure-storage-account-key is the one
 * built-in rule of this shape: Vectorscan 5.4.9 misses some of its matches when the stream is
 * cut inside "AccountKey" (docs/scanner.md, Limits), so its findings depended on how output was
 * cut; "==" alone cannot be missed, and costs a short start search per "==" (~20,000 in 64 MB).
 */
static void
pad_ending(const char *p, unsigned int hs_flags, struct scan_rule_rt *rt)
{
	size_t n = strlen(p);

	if (hs_flags != 0 || rt->hs_ending != NULL || n < 3 || strcmp(p + n - 2, "==") != 0 ||
	    !whole_piece(p, n - 2))
		return;
	rt->hs_ending = p + n - 2;
}

/*
 * p[0] is '(': the index of the ')' that closes it (0: none), and the '|' directly inside it in
 * bar[0 .. *nb) (0 too when there are more than nbar).
 */
static size_t
group_bars(const char *p, size_t *bar, size_t nbar, size_t *nb)
{
	size_t i, n = strlen(p);
	int depth = 0;

	*nb = 0;
	for (i = 0; i < n; i++) {
		if (p[i] == '\\') {
			if (++i == n)
				return 0;
		} else if (p[i] == '[') {
			if ((i = class_close(p, i, n)) == n)
				return 0;
		} else if (p[i] == '(') {
			depth++;
		} else if (p[i] == ')') {
			if (--depth == 0)
				return i;
		} else if (p[i] == '|' && depth == 1) {
			if (*nb == nbar)
				return 0;
			bar[(*nb)++] = i;
		}
	}
	return 0;
}

static int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int lead_set(const char *pattern, size_t cl, uint32_t flags, uint8_t set[static 32]);

#define SPLIT_CLASS_MAX 16
#define SPLIT_MAX (4 * SPLIT_CLASS_MAX + 1) /* patterns per rule */

/*
 * x[0 .. l) is "\bXY[C]{n}W" (X, Y alphanumeric, C at most SPLIT_CLASS_MAX alphanumeric bytes,
 * n >= 2, no quantifier right after the "{n}"): the members of C in set and n; 0 if not.
 */
static unsigned long
split_head(const char *x, size_t l, uint8_t set[static 32], size_t *cl)
{
	size_t e, i, nm = 0;
	unsigned long v = 0;
	int c;

	if (l < 9 || x[0] != '\\' || x[1] != 'b' || !is_alnum(x[2]) || !is_alnum(x[3]) ||
	    x[4] != '[' || (e = class_close(x, 4, l)) >= l - 3 || x[e + 1] != '{')
		return 0;
	for (i = e + 2; i < l && x[i] >= '0' && x[i] <= '9' && v < 65536; i++)
		v = v * 10 + (unsigned long)(x[i] - '0');
	if (i == e + 2 || i >= l || x[i] != '}' || v < 2 || v >= 65536 ||
	    (i + 1 < l && strchr("*+?{", x[i + 1]) != NULL))
		return 0;
	if (lead_set(x + 4, e - 3, 0, set) != 0)
		return 0;
	for (c = 0; c < 256; c++) {
		if (scan_set_has(set, c)) {
			if (!is_alnum(c) || ++nm > SPLIT_CLASS_MAX)
				return 0;
		}
	}
	*cl = e + 1;
	return nm > 0 ? v : 0;
}

/*
 * Vectorscan takes the two-byte literal of "\bAC[0-9a-f]{32}:" (twilio-auth-token; "\bSK" in
 * twilio-api-key-secret) rather than the sixteen three-byte ones after it, and two-byte literals
 * cost its literal matcher dearly: those two alone ~8% of its time on ordinary output. A rule
 * "(?:A1|...|Ak)R" (no flags) whose alternative Ai is "\bXY[C]{n}W" (split_head) goes to
 * Vectorscan as one pattern "\bXYc[C]{n-1}W R" per byte c of C, plus "(?:the other
 * alternatives)R": the same strings, since a concatenation distributes over an alternation, so
 * together their ends are the rule's. Each reports under its own id, mapped back to the rule
 * (scan_db.hs_rule); an end two of them report is one end (rule_end takes an end once, and
 * Vectorscan reports ends in order unless hs_expression_info says otherwise, which is refused).
 * out[0] (the rule's own id) and out[1 .. return) are allocated; 0: not split.
 */
static size_t
alt_split(const char *p, unsigned int hs_flags, char **out, size_t max)
{
	size_t bar[32], nb, g, k, a, b, m = 1, cl, keepn = 0;
	const char *rest, *x, *w;
	char *keep = NULL;
	unsigned long v;
	uint8_t set[32];
	hs_expr_info_t *info;
	hs_compile_error_t *ce;
	int c, bad = 0;

	if (hs_flags != 0 || strncmp(p, "(?:", 3) != 0 || max < 2 ||
	    (g = group_bars(p, bar, VT_NELEM(bar), &nb)) == 0 || nb == 0)
		return 0;
	rest = p + g + 1;
	if (*rest == '\0' || strchr("*+?{", *rest) != NULL || !whole_piece(rest, strlen(rest)))
		return 0;
	out[0] = NULL;
	for (k = 0; k <= nb; k++) {
		a = k == 0 ? 3 : bar[k - 1] + 1;
		b = k == nb ? g : bar[k];
		x = p + a;
		if ((v = split_head(x, b - a, set, &cl)) > 0 && m + SPLIT_CLASS_MAX < max) {
			w = strchr(x + cl, '}') + 1; /* W, up to p + b */
			for (c = 0; c < 256; c++) {
				if (scan_set_has(set, c))
					out[m++] = xasprintf("\\b%c%c%c%.*s{%lu}%.*s%s", x[2], x[3], c,
					    (int)(cl - 4), x + 4, v - 1, (int)(p + b - w), w, rest);
			}
			continue;
		}
		keep = xrealloc(keep, keepn + (b - a) + 2);
		if (keepn > 0)
			keep[keepn++] = '|';
		memcpy(keep + keepn, x, b - a);
		keepn += b - a;
		keep[keepn] = '\0';
	}
	if (m == 1) {
		free(keep);
		return 0;
	}
	if (keep != NULL)
		out[0] = xasprintf("(?:%s)%s", keep, rest);
	else
		out[0] = out[--m];
	free(keep);
	for (k = 0; k < m && !bad; k++) {
		info = NULL;
		ce = NULL;
		if (hs_expression_info(out[k], 0, &info, &ce) != HS_SUCCESS ||
		    info->unordered_matches)
			bad = 1;
		free(info);
		if (ce != NULL)
			hs_free_compile_error(ce);
	}
	if (bad) {
		for (k = 0; k < m; k++)
			free(out[k]);
		return 0;
	}
	return m;
}

/* The number whose last digit is p[j - 1], and *k where it starts; -1 if none (or over 65535). */
static long
digits_before(const char *p, size_t j, size_t *k)
{
	long v = 0, m = 1;

	for (*k = j; *k > 0 && p[*k - 1] >= '0' && p[*k - 1] <= '9' && *k + 5 > j; (*k)--) {
		v += (long)(p[*k - 1] - '0') * m;
		m *= 10;
	}
	return *k == j || v > 65535 ? -1 : v;
}

/*
 * A pattern "T TAIL" whose tail scan.c follows itself: sets rt->tail (and the value bounds) and
 * returns the length of T; Vectorscan compiles p[*from .. T's end) instead of the whole pattern
 * (*from is 0: all of T); 0 when the pattern has no such tail. T must be a whole top-level
 * piece (no top-level alternation, not inside a group or class, not ending in an escape) that
 * cannot match the empty string.
 *
 * A USERINFO trigger "[class]...://" (basic-auth-url's any-scheme "\b[A-Za-z][A-Za-z0-9+.-]{1,24}"
 * gives Vectorscan no literal to start from, and costs it ~10% of the scan) is given to
 * Vectorscan as "://" alone: every end of the rule is still among the ends reported, and the
 * others (no scheme before the "://") are ends of nothing, which the start search (the whole
 * pattern, PCRE2) finds no start for and the selection never takes (docs/scanner.md).
 */
static size_t
tail_split(const char *p, unsigned int hs_flags, struct scan_rule_rt *rt, size_t *from)
{
	const size_t n = strlen(p), hl = strlen(TAIL_ASSIGN_HEAD), el = strlen(TAIL_ASSIGN_END),
	    ul = strlen(TAIL_USERINFO), ll = strlen(TAIL_LINES);
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *ce = NULL;
	size_t t = 0, k;
	long vmin = -1, vmax = -1;
	int kind = SCAN_TAIL_NONE, ok;
	char *trig;

	if (hs_flags != 0)
		return 0;
	if (n > ul && strcmp(p + n - ul, TAIL_USERINFO) == 0) {
		kind = SCAN_TAIL_USERINFO;
		t = n - ul;
	} else if (n > ll + 2 && strcmp(p + n - ll, TAIL_LINES) == 0 &&
	    strncmp(p + n - ll - 2, "\\n", 2) == 0 && (n - ll < 3 || p[n - ll - 3] != '\\')) {
		/* the trigger ends with a newline: its ends are line starts (scan.c lines_run) */
		kind = SCAN_TAIL_LINES;
		t = n - ll;
	} else if (n > el && strcmp(p + n - el, TAIL_ASSIGN_END) == 0 &&
	    (vmax = digits_before(p, n - el, &k)) >= 0 && k > 0 && p[k - 1] == ',' &&
	    (vmin = digits_before(p, k - 1, &k)) >= 0 && k >= hl &&
	    strncmp(p + k - hl, TAIL_ASSIGN_HEAD, hl) == 0) {
		/* m >= 3: scan.c relies on it (one value per trigger; see tail_ends) */
		if (vmin < 3 || vmax < vmin)
			return 0;
		kind = SCAN_TAIL_ASSIGN;
		t = k - hl;
	}
	if (kind == SCAN_TAIL_NONE || t == 0 || !whole_piece(p, t))
		return 0;
	trig = xmalloc(t + 1);
	memcpy(trig, p, t);
	trig[t] = '\0';
	ok = hs_expression_info(trig, 0, &info, &ce) == HS_SUCCESS && info->min_width > 0;
	if (ok && info->max_width <= 4096)
		rt->trig_max = (uint16_t)info->max_width;
	if (ok && kind == SCAN_TAIL_USERINFO && p[t - 1] == '/' && info->max_width <= 4096)
		rt->tail_back = (uint16_t)info->max_width;
	*from = 0;
	if (ok && rt->tail_back > 0 && t > 3 && strncmp(p + t - 3, "://", 3) == 0 &&
	    (p[0] == '[' || strncmp(p, "\\b[", 3) == 0))
		*from = t - 3;
	free(trig);
	free(info);
	if (ce != NULL)
		hs_free_compile_error(ce);
	if (!ok)
		return 0;
	rt->tail = (uint8_t)kind;
	rt->tail_min = (uint16_t)(vmin < 0 ? 0 : vmin);
	rt->tail_max = (uint16_t)(vmax < 0 ? 0 : vmax);
	return t;
}

/* The bytes the leading class of pattern (cl bytes) matches, as PCRE2 reads it with flags. */
static int
lead_set(const char *pattern, size_t cl, uint32_t flags, uint8_t set[static 32])
{
	pcre2_code *re;
	pcre2_match_data *md;
	PCRE2_SIZE eoff = 0;
	int ecode = 0, c;
	uint8_t b;

	memset(set, 0, 32);
	re = pcre2_compile((PCRE2_SPTR)pattern, cl, (flags & ~(uint32_t)PCRE2_ENDANCHORED) |
	    PCRE2_ANCHORED, &ecode, &eoff, NULL);
	if (re == NULL)
		return -1;
	if ((md = pcre2_match_data_create_from_pattern(re, NULL)) == NULL) {
		pcre2_code_free(re);
		return -1;
	}
	for (c = 0; c < 256; c++) {
		b = (uint8_t)c;
		if (pcre2_match(re, &b, 1, 0, 0, md, NULL) > 0)
			set[c >> 3] |= (uint8_t)(1u << (c & 7));
	}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return 0;
}

/* Index just past the class that opens at p[i] ('['), or 0 if p[i] opens none. */
static size_t
class_end(const char *p, size_t i)
{
	size_t t = strlen(p), c;

	if (p[i] != '[' || (c = class_close(p, i, t)) == t)
		return 0;
	return c + 1;
}

/*
 * A "://" trigger (tail_split, *from > 0) spelled "\b[C1][C2]{m,n}://" (basic-auth-url's any
 * scheme): scan.c finds a match's leftmost start itself, without PCRE2 — the "://" is where the
 * userinfo's run starts (tail_back), the scheme the bytes before it. Needs C1 to hold word bytes
 * only (\b before one is "no word byte before it") and neither class to hold ':'. No such shape:
 * nothing set, PCRE2 searches as before.
 */
static void
scheme_start(const char *p, size_t t, struct scan_rule_rt *rt)
{
	size_t i = 0, c1, c2, k;
	long m, n;
	int c, bnd = 0;

	if (t < 3 || strncmp(p + t - 3, "://", 3) != 0)
		return;
	if (strncmp(p, "\\b", 2) == 0) {
		bnd = 1;
		i = 2;
	}
	if ((c1 = class_end(p, i)) == 0 || (c2 = class_end(p, c1)) == 0 || p[c2] != '{' ||
	    p[t - 4] != '}' || (n = digits_before(p, t - 4, &k)) < 0 || k == 0 ||
	    p[k - 1] != ',' || (m = digits_before(p, k - 1, &k)) < 1 || k != c2 + 1 || n < m ||
	    n > 200)
		return;
	if (lead_set(p + i, c1 - i, 0, rt->sch_set1) != 0 ||
	    lead_set(p + c1, c2 - c1, 0, rt->sch_set2) != 0)
		return;
	for (c = 0; c < 256; c++) {
		const int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_';

		if ((bnd && !word && scan_set_has(rt->sch_set1, c)) ||
		    (c == ':' && ((rt->sch_set1[c >> 3] | rt->sch_set2[c >> 3]) >> (c & 7) & 1)))
			return;
	}
	rt->sch_min = (uint8_t)m;
	rt->sch_max = (uint8_t)n;
	rt->sch_b = (uint8_t)bnd;
}

/*
 * Where the top-level class that closes at p[t - 1] opens (a '[' at depth 0), or -1: scanned as
 * whole_piece reads the pattern, so escapes and brackets inside classes are skipped.
 */
static long
class_before(const char *p, size_t t)
{
	size_t i, c;
	int depth = 0;

	for (i = 0; i < t; i++) {
		if (p[i] == '\\') {
			if (++i == t)
				return -1;
		} else if (p[i] == '[') {
			c = i;
			if ((i = class_close(p, i, t)) == t)
				return -1;
			if (i == t - 1)
				return depth == 0 ? (long)c : -1;
		} else if (p[i] == '(') {
			depth++;
		} else if (p[i] == ')') {
			depth--;
		}
	}
	return -1;
}

/*
 * A literal ending (hs_ending, as pad_ending gives "==") right after "[class]{n}", "{n,m}" or
 * "{n,}" at the top level (n >= 1): every match holds n bytes of the class before the ending,
 * a test much cheaper than the start search for the many ends of the literal that have none
 * (~2/3 of the "==" in terminal output lack azure-storage-account-key's 86 base64 bytes).
 */
static void
ending_run(const char *p, unsigned int hs_flags, struct scan_rule_rt *rt)
{
	const char *x;
	size_t t, k, q;
	long cs, v;

	if (rt->hs_ending == NULL || hs_flags != 0 || rt->hs_ending[0] == '\0')
		return;
	for (x = rt->hs_ending; *x != '\0'; x++) {
		if (strchr("\\[](){}?*+|^$.", *x) != NULL)
			return; /* not a plain literal */
	}
	/* an inline option group "(?i)" would change what the class matches */
	for (x = p; (x = strstr(x, "(?")) != NULL; x++) {
		const char *o = x + 2;

		while ((*o >= 'a' && *o <= 'z') || (*o >= 'A' && *o <= 'Z') || *o == '-' ||
		    *o == '^')
			o++;
		if (*o == ')')
			return;
	}
	t = (size_t)(rt->hs_ending - p);
	if (t < 5 || p[t - 1] != '}' || strlen(rt->hs_ending) > UINT8_MAX)
		return;
	k = t - 1; /* the '}' */
	if (p[k - 1] == ',')
		k--; /* "{n,}" */
	else if (digits_before(p, k, &q) >= 0 && q > 0 && p[q - 1] == ',')
		k = q - 1; /* "{n,m}": only n matters */
	if ((v = digits_before(p, k, &k)) < 1 || v > UINT8_MAX || k < 2 || p[k - 1] != '{' ||
	    (cs = class_before(p, k - 1)) < 0)
		return;
	if (lead_set(p + cs, k - 1 - (size_t)cs, 0, rt->run_set) != 0)
		return;
	rt->run_min = (uint8_t)v;
	rt->run_end = (uint8_t)strlen(rt->hs_ending);
}

/* Adds c (and its other case when fold) to set. */
static void
set_add(uint8_t set[static 32], unsigned int c, int fold)
{
	set[c >> 3] |= (uint8_t)(1u << (c & 7));
	if (fold && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
		c ^= 0x20;
		set[c >> 3] |= (uint8_t)(1u << (c & 7));
	}
}

/* ORs into set the bytes PCRE2 matches with the one-byte atom p[0 .. l); -1 if it cannot tell. */
static int
set_atom(const char *p, size_t l, int fold, uint8_t set[static 32])
{
	uint8_t a[32];
	size_t i;

	if (lead_set(p, l, fold ? PCRE2_CASELESS : 0, a) != 0)
		return -1;
	for (i = 0; i < 32; i++)
		set[i] |= a[i];
	return 0;
}

/*
 * Every byte that any atom of p[0 .. t) can consume (a superset of the bytes of its matches):
 * classes, escapes and literals, with groups, alternation, quantifiers and zero-width assertions
 * read as nothing. -1 for any syntax not read here (backreferences, lookarounds, inline options
 * other than "(?i:", \Q, \p, POSIX classes, ...): the caller then assumes nothing.
 */
static int
atom_union(const char *p, size_t t, int fold, uint8_t set[static 32])
{
	size_t i = 0, e;

	memset(set, 0, 32);
	while (i < t) {
		const char c = p[i];

		if (c == '\\') {
			const char d = i + 1 < t ? p[i + 1] : '\0';

			if (d == '\0')
				return -1;
			if (strchr("bBAzZG", d) != NULL) {
				i += 2; /* zero-width */
			} else if (strchr("dDwWsShHvVnrtfea", d) != NULL) {
				if (set_atom(p + i, 2, fold, set) != 0)
					return -1;
				i += 2;
			} else if (d == 'x') {
				for (e = i + 2; e < t && e < i + 4 && strchr("0123456789abcdefABCDEF",
				    p[e]) != NULL && p[e] != '\0'; e++)
					;
				if (e == i + 2 || set_atom(p + i, e - i, fold, set) != 0)
					return -1;
				i = e;
			} else if (!((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') ||
			    (d >= '0' && d <= '9'))) {
				set_add(set, (uint8_t)d, fold); /* an escaped punctuation byte */
				i += 2;
			} else {
				return -1;
			}
		} else if (c == '[') {
			if ((e = class_end(p, i)) == 0 || e > t)
				return -1;
			if (memmem(p + i + 1, e - i - 1, "[:", 2) != NULL)
				return -1; /* a POSIX class: class_end does not read it */
			if (set_atom(p + i, e - i, fold, set) != 0)
				return -1;
			i = e;
		} else if (c == '(') {
			if (strncmp(p + i, "(?:", 3) == 0) {
				i += 3;
			} else if (strncmp(p + i, "(?i:", 4) == 0) {
				fold = 1; /* from here on, and before: a superset either way */
				i += 4;
			} else if (i + 1 < t && p[i + 1] == '?') {
				return -1;
			} else {
				i++;
			}
		} else if (c == '{') {
			for (e = i + 1; e < t && ((p[e] >= '0' && p[e] <= '9') || p[e] == ','); e++)
				;
			if (e < t && p[e] == '}' && e > i + 1 && p[i + 1] != ',') {
				i = e + 1; /* a quantifier */
			} else {
				set_add(set, '{', fold);
				i++;
			}
		} else if (c == '.') {
			memset(set, 0xff, 32);
			i++;
		} else if (strchr(")|*+?^$", c) != NULL) {
			i++;
		} else {
			set_add(set, (uint8_t)c, fold);
			i++;
		}
	}
	return 0;
}

/*
 * A pattern "X E" whose last top-level piece E is a group of at most 8 bytes (an ending such as
 * E_B64PAD, E_B64URL) after a whole piece X, when X's bytes are a small set (rt->in_set: the
 * bytes any atom of X can consume; fewer than 200 of the 256): every match [s, e) has its bytes
 * [s, e - in_w) in the set, so an end whose [start, e - in_w) holds another byte is not tried
 * from a candidate's start (scan.c rule_finalize): the ends of a later blob within max_len,
 * each of which cost a failing anchored match over the earlier blob (PKCS#12, base64 PEM).
 * (Bounding the start search the same way, walking back from the end over the set, cost more
 * than it saved: measured, dropped.)
 */
static void
inner_set(const char *p, unsigned int hs_flags, struct scan_rule_rt *rt)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *ce = NULL;
	size_t n = strlen(p), i, g = 0, gc = 0, nb = 0;
	int depth = 0, c;
	uint8_t set[32];

	if ((hs_flags & ~(unsigned int)HS_FLAG_CASELESS) != 0 || n < 2 || p[n - 1] != ')')
		return;
	for (i = 0; i < n; i++) {
		if (p[i] == '\\') {
			i++;
		} else if (p[i] == '[') {
			if ((i = class_end(p, i)) == 0)
				return;
			i--;
		} else if (p[i] == '(') {
			if (depth++ == 0)
				g = i;
		} else if (p[i] == ')') {
			if (--depth == 0)
				gc = i;
		}
	}
	if (depth != 0 || g == 0 || gc != n - 1 || !whole_piece(p, g) ||
	    atom_union(p, g, (hs_flags & HS_FLAG_CASELESS) != 0, set) != 0)
		return;
	for (c = 0; c < 256; c++)
		nb += scan_set_has(set, c);
	if (nb >= 200)
		return;
	if (hs_expression_info(p + g, HS_FLAG_ALLOWEMPTY, &info, &ce) != HS_SUCCESS) {
		if (ce != NULL)
			hs_free_compile_error(ce);
		return;
	}
	if (info->max_width <= 8) {
		memcpy(rt->in_set, set, 32);
		rt->in_w = (uint8_t)info->max_width;
		rt->in_on = 1;
	}
	free(info);
}

static int
check_rule(const struct scan_rule *ru, size_t i, struct scan_rule_rt *rt,
    char err[static SCAN_ERR_MAX])
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *ce = NULL;
	PCRE2_SIZE eoff = 0;
	const char *search, *rest = NULL;
	char *caret = NULL;
	unsigned int lead_max = 0;
	size_t cl;
	int ecode = 0;
	int r = VT_ERR_INTERNAL;

	if (ru->id == NULL || ru->pattern == NULL || ru->id[0] == '\0' ||
	    strlen(ru->id) >= SCAN_RULE_ID_MAX) {
		snprintf(err, SCAN_ERR_MAX, "rule %zu: missing or over-long id or pattern", i);
		goto out;
	}
	if ((ru->hs_flags & ~(unsigned int)HS_FLAGS_ALLOWED) != 0) {
		snprintf(err, SCAN_ERR_MAX, "rule %s: unsupported hs_flags 0x%x", ru->id,
		    ru->hs_flags);
		goto out;
	}
	if (ru->max_len == 0 || ru->max_len > SCAN_RULE_MAX_LEN) {
		snprintf(err, SCAN_ERR_MAX, "rule %s: max_len %u outside 1..%u", ru->id,
		    ru->max_len, (unsigned int)SCAN_RULE_MAX_LEN);
		goto out;
	}
	if (hs_expression_info(ru->pattern, ru->hs_flags, &info, &ce) != HS_SUCCESS) {
		snprintf(err, SCAN_ERR_MAX, "rule %s: %s", ru->id, ce != NULL ? ce->message : "?");
		goto out;
	}
	if (info->min_width == 0) {
		snprintf(err, SCAN_ERR_MAX, "rule %s: pattern can match the empty string", ru->id);
		goto out;
	}
	if (info->max_width != UINT_MAX && info->max_width > ru->max_len) {
		snprintf(err, SCAN_ERR_MAX, "rule %s: max_len %u below the pattern's longest match %u",
		    ru->id, ru->max_len, info->max_width);
		goto out;
	}
	if (info->min_width > ru->max_len) {
		snprintf(err, SCAN_ERR_MAX, "rule %s: max_len %u below the pattern's shortest match %u",
		    ru->id, ru->max_len, info->min_width);
		goto out;
	}
	rt->min_width = info->min_width;
	rt->max_len = ru->max_len;
	/* A generous max_len must not widen every start search nor delay every decision. */
	rt->span = info->max_width != UINT_MAX ? info->max_width : ru->max_len;
	/* The start finder searches the rest after a leading optional class (see lead_max). */
	search = ru->pattern;
	if ((ru->hs_flags & (HS_FLAG_UTF8 | HS_FLAG_UCP)) == 0 &&
	    (cl = lead_class(ru->pattern, &rest, &lead_max)) > 0 &&
	    lead_set(ru->pattern, cl, pcre_flags(ru->hs_flags), rt->lead_set) == 0) {
		rt->lead_max = lead_max;
		search = rest;
	}
	/* "(?:^|X)R": "^" only matches at the stream's start, tried on its own (re_anchored) */
	if (search == ru->pattern && strncmp(search, "(?:^|", 5) == 0 &&
	    (ru->hs_flags & HS_FLAG_MULTILINE) == 0) {
		size_t sl = strlen(search);

		caret = xmalloc(sl);
		memcpy(caret, "(?:", 3);
		memcpy(caret + 3, search + 5, sl - 5 + 1);
		search = caret;
		rt->caret_alt = 1;
	}
	(void)lit_anchor(search, ru->hs_flags, rt);
	head_lines(ru->pattern, ru->hs_flags, rt);
	pem_ending(ru->pattern, ru->hs_flags, rt);
	pad_ending(ru->pattern, ru->hs_flags, rt);
	ending_run(ru->pattern, ru->hs_flags, rt);
	inner_set(ru->pattern, ru->hs_flags, rt);
	rt->re = pcre2_compile((PCRE2_SPTR)search, PCRE2_ZERO_TERMINATED,
	    pcre_flags(ru->hs_flags), &ecode, &eoff, NULL);
	if (rt->re == NULL) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(ecode, msg, sizeof(msg));
		snprintf(err, SCAN_ERR_MAX, "rule %s: PCRE2 at %zu: %s", ru->id, (size_t)eoff,
		    (const char *)msg);
		goto out;
	}
	rt->re_anchored = pcre2_compile((PCRE2_SPTR)ru->pattern, PCRE2_ZERO_TERMINATED,
	    pcre_flags(ru->hs_flags) | PCRE2_ANCHORED, &ecode, &eoff, NULL);
	if (rt->re_anchored == NULL) {
		snprintf(err, SCAN_ERR_MAX, "rule %s: PCRE2 cannot compile it anchored", ru->id);
		goto out;
	}
	/* Without JIT the interpreter still answers, only slower: not an error. */
	(void)pcre2_jit_compile(rt->re, PCRE2_JIT_COMPLETE);
	(void)pcre2_jit_compile(rt->re_anchored, PCRE2_JIT_COMPLETE);
	r = 0;
 out:
	free(caret);
	free(info);
	if (ce != NULL)
		hs_free_compile_error(ce);
	return r;
}

/* ---- which build of Vectorscan's scan code ------------------------------------------------- */
static struct scan_hs_api hs_api;
static hs_platform_info_t hs_plat; /* the pinned build's: no CPU features */
static int hs_pin = 1;
static pthread_once_t hs_once = PTHREAD_ONCE_INIT;

static void
hs_api_init(void)
{
	hs_api.open_stream = hs_open_stream;
	hs_api.scan_stream = hs_scan_stream;
	hs_api.close_stream = hs_close_stream;
	hs_api.stream_size = hs_stream_size;
	hs_api.pinned = 0;
	hs_api.build = "the library's choice";
	hs_api.platform = NULL;
#if defined(__x86_64__) && defined(__GNUC__)
	void *o, *sc, *c, *z;

	__builtin_cpu_init();
	if (!hs_pin || !__builtin_cpu_supports("sse4.2") || !__builtin_cpu_supports("popcnt"))
		return;
	/*
	 * A fat libhs exports each build's entry points under its name; the public ones pick the
	 * widest the CPU has. All four or none: the stream's layout is the same in every build, but
	 * one stream is never handed to two of them.
	 */
	if ((o = dlsym(RTLD_DEFAULT, "corei7_hs_open_stream")) == NULL ||
	    (sc = dlsym(RTLD_DEFAULT, "corei7_hs_scan_stream")) == NULL ||
	    (c = dlsym(RTLD_DEFAULT, "corei7_hs_close_stream")) == NULL ||
	    (z = dlsym(RTLD_DEFAULT, "corei7_hs_stream_size")) == NULL)
		return;
	/* every build of the scan code runs a database made for no CPU features */
	if (hs_populate_platform(&hs_plat) != HS_SUCCESS)
		return;
	hs_plat.cpu_features = 0;
	hs_plat.tune = HS_TUNE_FAMILY_GENERIC;
	*(void **)&hs_api.open_stream = o;
	*(void **)&hs_api.scan_stream = sc;
	*(void **)&hs_api.close_stream = c;
	*(void **)&hs_api.stream_size = z;
	hs_api.platform = &hs_plat;
	hs_api.pinned = 1;
	hs_api.build = "SSE4.2";
#endif
}

const struct scan_hs_api *
scan_hs(void)
{
	VT_ASSERT(pthread_once(&hs_once, hs_api_init) == 0);
	return &hs_api;
}

void
scan_hs_pin(int on)
{
	hs_pin = on;
	(void)scan_hs();
	hs_api_init();
}

/* ---- the built-in database compiled at build time ------------------------------------------ */
static const unsigned char *blob_bytes;
static size_t blob_len;
static const uint8_t *blob_digest;
static int blob_chosen; /* 0: the linked one (scan_db_blob), 1: blob_* (tests) */

/* The blob to use: the linked one unless a test chose another. 0 if there is none. */
static int
blob_get(const unsigned char **b, size_t *len, const uint8_t **d)
{
	if (blob_chosen) {
		*b = blob_bytes;
		*len = blob_len;
		*d = blob_digest;
	} else if (scan_db_blob != NULL && &scan_db_blob_len != NULL &&
	    scan_db_blob_digest != NULL) {
		*b = scan_db_blob;
		*len = scan_db_blob_len;
		*d = scan_db_blob_digest;
	} else {
		return 0;
	}
	return *b != NULL && *len > 0 && *d != NULL;
}

int
scan_db_blob_linked(const void **blob, size_t *len, const uint8_t **digest)
{
	const unsigned char *b;
	const uint8_t *d;
	size_t l;

	blob_chosen = 0;
	if (!blob_get(&b, &l, &d))
		return 0;
	if (blob != NULL)
		*blob = b;
	if (len != NULL)
		*len = l;
	if (digest != NULL)
		*digest = d;
	return 1;
}

void
scan_db_blob_use(const void *blob, size_t len, const uint8_t *digest)
{
	blob_bytes = blob;
	blob_len = len;
	blob_digest = digest;
	blob_chosen = 1;
}

static void
hash_u64(crypto_generichash_state *st, uint64_t v)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(v >> (8 * i));
	VT_ASSERT(crypto_generichash_update(st, b, sizeof(b)) == 0);
}

/*
 * The digest of one hs_compile_multi(pats, flags, ids, n, HS_MODE_STREAM, plat) call: every
 * input of it, the fields of the platform it compiles for (the host's when plat is NULL), and
 * the version of Vectorscan. Equal digests: the same database. -1 if the host's platform is
 * unknown (then no blob is used).
 */
static int
hs_digest(const char *const *pats, const unsigned int *flags, const unsigned int *ids, size_t n,
    const hs_platform_info_t *plat, uint8_t out[static SCAN_DB_DIGEST_LEN])
{
	static const char tag[] = "vaultterm scan_db hs_compile_multi v1";
	crypto_generichash_state st;
	hs_platform_info_t host;
	const char *v = hs_version();
	size_t i, l;

	if (plat == NULL) {
		if (hs_populate_platform(&host) != HS_SUCCESS)
			return -1;
	}
	VT_ASSERT(crypto_generichash_init(&st, NULL, 0, SCAN_DB_DIGEST_LEN) == 0);
	VT_ASSERT(crypto_generichash_update(&st, (const uint8_t *)tag, sizeof(tag)) == 0);
	l = strlen(v);
	hash_u64(&st, l);
	VT_ASSERT(crypto_generichash_update(&st, (const uint8_t *)v, l) == 0);
	hash_u64(&st, HS_MODE_STREAM);
	hash_u64(&st, plat == NULL); /* compiled for the host's CPU, or for plat */
	if (plat == NULL)
		plat = &host;
	hash_u64(&st, plat->tune);
	hash_u64(&st, plat->cpu_features);
	hash_u64(&st, plat->reserved1);
	hash_u64(&st, plat->reserved2);
	hash_u64(&st, n);
	for (i = 0; i < n; i++) {
		l = strlen(pats[i]);
		hash_u64(&st, ids[i]);
		hash_u64(&st, flags[i]);
		hash_u64(&st, l);
		VT_ASSERT(crypto_generichash_update(&st, (const uint8_t *)pats[i], l) == 0);
	}
	VT_ASSERT(crypto_generichash_final(&st, out, SCAN_DB_DIGEST_LEN) == 0);
	return 0;
}

/*
 * The database compiled at build time, if there is one and its digest is the one of what would
 * be compiled now: *hs deserialized from it, 1. Else 0: compile.
 */
static int
hs_prebuilt(const uint8_t digest[static SCAN_DB_DIGEST_LEN], hs_database_t **hs)
{
	const unsigned char *b;
	const uint8_t *d;
	size_t len;

	if (!blob_get(&b, &len, &d) || !vt_ct_eq(d, digest, SCAN_DB_DIGEST_LEN))
		return 0;
	if (hs_deserialize_database((const char *)b, len, hs) != HS_SUCCESS) {
		*hs = NULL;
		return 0;
	}
	return 1;
}

int
scan_db_prebuilt(const struct scan_db *db)
{
	return db->prebuilt;
}

int
scan_db_serialize(const struct scan_db *db, char **bytes, size_t *len,
    uint8_t digest[static SCAN_DB_DIGEST_LEN])
{
	*bytes = NULL;
	*len = 0;
	if (db->hs == NULL || !db->digest_ok ||
	    hs_serialize_database(db->hs, bytes, len) != HS_SUCCESS)
		return VT_ERR_INTERNAL;
	memcpy(digest, db->digest, SCAN_DB_DIGEST_LEN);
	return 0;
}

int
scan_db_open_rules(const struct scan_rule *rules, size_t n, struct scan_db **out,
    char err[static SCAN_ERR_MAX])
{
	struct scan_db *db = NULL;
	const char **pats = NULL;
	char **trigs = NULL, **alts = NULL;
	unsigned int *flags = NULL, *ids = NULL, lead_max;
	size_t nalts = 0, nhs;
	hs_compile_error_t *ce = NULL;
	size_t i;
	int r = VT_ERR_INTERNAL;

	*out = NULL;
	err[0] = '\0';
	if (n > SCAN_RULES_MAX || (n > 0 && rules == NULL)) {
		snprintf(err, SCAN_ERR_MAX, "too many rules (%zu)", n);
		return VT_ERR_RANGE;
	}
	db = xcalloc(1, sizeof(*db));
	VT_ASSERT(pthread_mutex_init(&db->lock, NULL) == 0);
	db->api = scan_hs();
	db->rules = rules;
	db->nrules = n;
	db->rt = xcalloc(n == 0 ? 1 : n, sizeof(*db->rt));
	if ((db->mctx = pcre2_match_context_create(NULL)) == NULL) {
		r = VT_ERR_NOMEM;
		goto out;
	}
	pcre2_set_match_limit(db->mctx, SCAN_PCRE_MATCH_LIMIT);
	pcre2_set_depth_limit(db->mctx, SCAN_PCRE_MATCH_LIMIT);
	for (i = 0; i < n; i++) {
		if ((r = check_rule(&rules[i], i, &db->rt[i], err)) != 0)
			goto out;
		if (rules[i].max_len > db->max_len)
			db->max_len = rules[i].max_len;
	}
	if (n > 0) {
		pats = xcalloc(n, sizeof(*pats));
		trigs = xcalloc(n, sizeof(*trigs));
		flags = xcalloc(n, sizeof(*flags));
		ids = xcalloc(n, sizeof(*ids));
		db->tails = xcalloc(n, sizeof(*db->tails));
		for (i = 0; i < n; i++) {
			size_t t, from = 0;

			/* the same ends: a leading optional class never decides where a match ends */
			pats[i] = rules[i].pattern;
			if (db->rt[i].lead_max > 0)
				(void)lead_class(rules[i].pattern, &pats[i], &lead_max);
			if (db->rt[i].hs_ending != NULL)
				pats[i] = db->rt[i].hs_ending;
			/* a tail scan.c follows itself: Vectorscan looks for the trigger only */
			else if ((t = tail_split(pats[i], rules[i].hs_flags, &db->rt[i], &from)) > 0) {
				if (from > 0 && db->rt[i].lead_max == 0)
					scheme_start(pats[i], t, &db->rt[i]);
				trigs[i] = xmalloc(t - from + 1);
				memcpy(trigs[i], pats[i] + from, t - from);
				trigs[i][t - from] = '\0';
				pats[i] = trigs[i];
				db->rt[i].tail_idx = (uint32_t)db->ntails;
				db->tails[db->ntails++] = (uint32_t)i;
			} else if (db->rt[i].lead_max == 0) {
				/* a two-byte literal before a class: one pattern per byte of it */
				char *o[SPLIT_MAX];
				size_t m = alt_split(pats[i], rules[i].hs_flags, o, SPLIT_MAX), k;

				if (m > 0) {
					alts = xrealloc(alts, (nalts + m) * sizeof(*alts));
					pats = xrealloc(pats, (n + nalts + m) * sizeof(*pats));
					flags = xrealloc(flags, (n + nalts + m) * sizeof(*flags));
					ids = xrealloc(ids, (n + nalts + m) * sizeof(*ids));
					db->hs_rule = xrealloc(db->hs_rule,
					    (nalts + m) * sizeof(*db->hs_rule));
					pats[i] = o[0];
					alts[nalts++] = o[0];
					for (k = 1; k < m; k++) {
						pats[n + db->nhs_extra] = o[k];
						flags[n + db->nhs_extra] = rules[i].hs_flags;
						ids[n + db->nhs_extra] = (unsigned int)(n +
						    db->nhs_extra);
						db->hs_rule[db->nhs_extra++] = (uint32_t)i;
						alts[nalts++] = o[k];
					}
				}
			}
			flags[i] = rules[i].hs_flags;
			ids[i] = (unsigned int)i;
		}
		nhs = n + db->nhs_extra;
		db->digest_ok = hs_digest(pats, flags, ids, nhs, db->api->platform,
		    db->digest) == 0;
		if (db->digest_ok && hs_prebuilt(db->digest, &db->hs))
			db->prebuilt = 1;
		else if (hs_compile_multi(pats, flags, ids, (unsigned int)nhs, HS_MODE_STREAM,
		    db->api->platform, &db->hs, &ce) != HS_SUCCESS) {
			if (ce != NULL && ce->expression >= 0 && (size_t)ce->expression < nhs)
				snprintf(err, SCAN_ERR_MAX, "rule %s: %s",
				    rules[(size_t)ce->expression < n ? (size_t)ce->expression :
				    db->hs_rule[(size_t)ce->expression - n]].id, ce->message);
			else
				snprintf(err, SCAN_ERR_MAX, "vectorscan: %s",
				    ce != NULL ? ce->message : "compile failed");
			r = VT_ERR_INTERNAL;
			goto out;
		}
		if (db->api->stream_size(db->hs, &db->hs_stream_bytes) != HS_SUCCESS ||
		    hs_alloc_scratch(db->hs, &db->proto) != HS_SUCCESS) {
			snprintf(err, SCAN_ERR_MAX, "vectorscan: cannot size the database");
			r = VT_ERR_INTERNAL;
			goto out;
		}
	}
	*out = db;
	db = NULL;
	r = 0;
 out:
	if (ce != NULL)
		hs_free_compile_error(ce);
	for (i = 0; trigs != NULL && i < n; i++)
		free(trigs[i]);
	free(trigs);
	for (i = 0; i < nalts; i++)
		free(alts[i]);
	free(alts);
	free(pats);
	free(flags);
	free(ids);
	scan_db_free(db);
	return r;
}

void
scan_db_free(struct scan_db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < db->npool; i++)
		hs_free_scratch(db->pool[i]);
	free(db->pool);
	if (db->proto != NULL)
		hs_free_scratch(db->proto);
	if (db->hs != NULL)
		hs_free_database(db->hs);
	for (i = 0; i < db->nrules; i++) {
		pcre2_code_free(db->rt[i].re);
		pcre2_code_free(db->rt[i].re_anchored);
	}
	free(db->rt);
	free(db->tails);
	free(db->hs_rule);
	pcre2_match_context_free(db->mctx);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

size_t
scan_db_rule_count(const struct scan_db *db)
{
	return db->nrules;
}

const struct scan_rule *
scan_db_rule(const struct scan_db *db, size_t i)
{
	return i < db->nrules ? &db->rules[i] : NULL;
}

hs_scratch_t *
scan_db_scratch_get(const struct scan_db *cdb)
{
	struct scan_db *db = (struct scan_db *)cdb; /* only the pool, under its lock */
	hs_scratch_t *s = NULL;

	VT_ASSERT(pthread_mutex_lock(&db->lock) == 0);
	if (db->npool > 0)
		s = db->pool[--db->npool];
	VT_ASSERT(pthread_mutex_unlock(&db->lock) == 0);
	if (s == NULL && hs_clone_scratch(db->proto, &s) != HS_SUCCESS)
		return NULL;
	return s;
}

void
scan_db_scratch_put(const struct scan_db *cdb, hs_scratch_t *s)
{
	struct scan_db *db = (struct scan_db *)cdb;

	if (s == NULL)
		return;
	VT_ASSERT(pthread_mutex_lock(&db->lock) == 0);
	if (db->npool == db->cappool) {
		size_t cap = db->cappool == 0 ? 4 : db->cappool * 2;
		hs_scratch_t **p = realloc(db->pool, cap * sizeof(*p));

		if (p == NULL) {
			VT_ASSERT(pthread_mutex_unlock(&db->lock) == 0);
			hs_free_scratch(s);
			return;
		}
		db->pool = p;
		db->cappool = cap;
	}
	db->pool[db->npool++] = s;
	VT_ASSERT(pthread_mutex_unlock(&db->lock) == 0);
}
