/*
 * Unit tests for the scanner engine (src/scan/scan.h): with a small rule table of our own
 * (scan_db_open_rules) and with the built-in SCAN_RULES, every rule's positives are found exactly
 * once and its negatives not at all, also when split at every byte position across two feeds and
 * over random many-feed splits (identical findings, identical order); ANSI escape sequences inside
 * and around secrets (offsets in the original stream); CRLF folding; vault fingerprints (plain,
 * trimmed, JSON, URL, export, coloured, split, containing delimiters, multi-line, prefix only);
 * redaction of buffers and of streams at every split position; bad rules are refused; and the
 * memory of a stream and of 10,000 fingerprints is printed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hs/hs.h>
#include <pthread.h>
#include <sodium.h>

#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "scan/scan.h"
#include "scan/scan_internal.h"

/* ---- a rule table of our own --------------------------------------------------------------- */
static int
validate_after_sep(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t i = 0, j;
	int classes = 0, lower = 0, upper = 0, digit = 0, other = 0;

	while (i < n && m[i] != '=' && m[i] != ':')
		i++;
	while (i < n && (m[i] == '=' || m[i] == ':' || m[i] == ' ' || m[i] == '\t'))
		i++;
	if (i == n)
		return 0;
	for (j = i; j < n; j++) {
		lower |= m[j] >= 'a' && m[j] <= 'z';
		upper |= m[j] >= 'A' && m[j] <= 'Z';
		digit |= m[j] >= '0' && m[j] <= '9';
		other |= !((m[j] >= 'a' && m[j] <= 'z') || (m[j] >= 'A' && m[j] <= 'Z') ||
		    (m[j] >= '0' && m[j] <= '9'));
	}
	classes = lower + upper + digit + other;
	if (classes < 3)
		return 0; /* "changeme", "xxxxxxxx": a placeholder */
	*off = i;
	*len = n - i;
	return 1;
}

/* postgres://user:PASSWORD@host -> the password */
static int
validate_url_password(const uint8_t *m, size_t n, size_t *off, size_t *len)
{
	size_t i = 0, c, at;

	while (i + 2 < n && !(m[i] == ':' && m[i + 1] == '/' && m[i + 2] == '/'))
		i++;
	i += 3;
	for (c = i; c < n && m[c] != ':'; c++)
		;
	for (at = c; at < n && m[at] != '@'; at++)
		;
	if (c >= n || at >= n || at == c + 1)
		return 0;
	*off = c + 1;
	*len = at - c - 1;
	return 1;
}

static const char *const akia_pos[] = { "AKIAIOSFODNN7EXAMPLE", "id=AKIAZ2QWERTYUIOPASDF;", NULL };
static const char *const akia_neg[] = { "AKIAiosfodnn7example", "AKIA12345", NULL };
static const char *const ghp_pos[] = { "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", NULL };
static const char *const ghp_neg[] = { "ghp_short", NULL };
static const char *const pem_pos[] = {
	"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
	"VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
	"-----END RSA PRIVATE KEY-----",
	"-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\r\n"
	"-----END OPENSSH PRIVATE KEY-----",
	NULL
};
static const char *const pem_neg[] = { "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----",
	"-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----", NULL };
static const char *const pw_pos[] = { "password=Tr0ub4dor&3xyz", "PASSWORD: hK9$mq2Lx!", NULL };
static const char *const pw_neg[] = { "password=changeme", "password=xxxxxxxxxxxx", "password: short",
	NULL };
static const char *const db_pos[] = { "postgres://app:Sup3rS3cret@db.internal:5432/app",
	"mysql://root:hunter2pw@127.0.0.1/mysql", NULL };
static const char *const db_neg[] = { "postgres://db.internal:5432/app", "mysql://root@localhost", NULL };
static const char *const sk_pos[] = { "sk_live_4eC39HqLyjWDarjtT1zdp7dc", NULL };
static const char *const sk_neg[] = { "xsk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dcX", NULL };
static const char *const tok_pos[] = { "tok_abcdefgh", "tok_abcdefghijklmnopqrstuvwxyzabcdefgh", NULL };
static const char *const tok_neg[] = { "tok_abc", NULL };

static const struct scan_rule TEST_RULES[] = {
	{ "test-akia", "AWS-style access key id", SCAN_SEV_HIGH, "AKIA[0-9A-Z]{16}", 0, 20, NULL,
	    akia_pos, akia_neg },
	{ "test-ghp", "GitHub-style token", SCAN_SEV_HIGH, "ghp_[A-Za-z0-9]{36}", 0, 40, NULL,
	    ghp_pos, ghp_neg },
	{ "test-pem", "PEM private key", SCAN_SEV_CRITICAL,
	    "-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----[\\s\\S]{16,3000}-----END "
	    "(?:RSA |EC |OPENSSH )?PRIVATE KEY-----",
	    0, 3100, NULL, pem_pos, pem_neg },
	{ "test-password", "password assignment", SCAN_SEV_MEDIUM,
	    "password\\s{0,3}[=:]\\s{0,3}[^\\s\"']{8,64}", HS_FLAG_CASELESS, 80, validate_after_sep,
	    pw_pos, pw_neg },
	{ "test-db-url", "database URL with a password", SCAN_SEV_HIGH,
	    "(?:postgres(?:ql)?|mysql)://[^\\s:/@]{1,64}:[^\\s:/@]{3,128}@[A-Za-z0-9.\\-]{1,255}", 0,
	    480, validate_url_password, db_pos, db_neg },
	{ "test-sk-live", "Stripe-style key with word boundaries", SCAN_SEV_HIGH,
	    "\\bsk_live_[0-9a-zA-Z]{24}\\b", 0, 32, NULL, sk_pos, sk_neg },
	{ "test-unbounded", "an unbounded pattern capped by max_len", SCAN_SEV_LOW, "tok_[a-z]{8,}", 0,
	    40, NULL, tok_pos, tok_neg },
};

/* ---- helpers --------------------------------------------------------------------------------- */
struct rec {
	char id[SCAN_RULE_ID_MAX];
	char label[SCAN_FP_LABEL_MAX + 1];
	uint64_t start, end;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static int
collect(void *ud, const struct scan_match *m)
{
	struct recs *r = ud;

	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 16 : r->cap * 2;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		assert_non_null(r->v);
	}
	memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
	assert_non_null(m->rule_id);
	snprintf(r->v[r->n].id, sizeof(r->v[r->n].id), "%s", m->rule_id);
	if (m->label != NULL)
		snprintf(r->v[r->n].label, sizeof(r->v[r->n].label), "%s", m->label);
	assert_true(m->start < m->end);
	assert_true((m->rule == NULL) == (m->label != NULL));
	r->v[r->n].start = m->start;
	r->v[r->n].end = m->end;
	r->n++;
	return 0;
}

static void
recs_free(struct recs *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void
recs_equal(const struct recs *a, const struct recs *b, const char *what, size_t at)
{
	size_t i;

	if (a->n != b->n)
		fail_msg("%s (split %zu): %zu findings vs %zu", what, at, a->n, b->n);
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].id, b->v[i].id) != 0 || strcmp(a->v[i].label, b->v[i].label) != 0 ||
		    a->v[i].start != b->v[i].start || a->v[i].end != b->v[i].end)
			fail_msg("%s (split %zu): finding %zu differs: %s %s [%llu,%llu) vs %s %s "
			    "[%llu,%llu)", what, at, i, a->v[i].id, a->v[i].label,
			    (unsigned long long)a->v[i].start, (unsigned long long)a->v[i].end,
			    b->v[i].id, b->v[i].label, (unsigned long long)b->v[i].start,
			    (unsigned long long)b->v[i].end);
	}
}

static size_t
count_id(const struct recs *r, const char *id)
{
	size_t i, k = 0;

	for (i = 0; i < r->n; i++)
		k += strcmp(r->v[i].id, id) == 0;
	return k;
}

static void
scan_one(const struct scan_db *db, const struct scan_fpset *fps, const void *p, size_t n,
    struct recs *out)
{
	memset(out, 0, sizeof(*out));
	assert_int_equal(scan_buffer(db, fps, p, n, collect, out), 0);
}

/* Feeds p in pieces cut at cuts[0 .. ncuts) (increasing). */
static void
scan_cuts(const struct scan_db *db, const struct scan_fpset *fps, const uint8_t *p, size_t n,
    const size_t *cuts, size_t ncuts, struct recs *out)
{
	struct scan_stream *s = NULL;
	size_t prev = 0, i;

	memset(out, 0, sizeof(*out));
	assert_int_equal(scan_stream_open(db, fps, &s), 0);
	for (i = 0; i <= ncuts; i++) {
		size_t c = i < ncuts ? cuts[i] : n;

		assert_int_equal(scan_stream_feed(s, p + prev, c - prev, collect, out), 0);
		prev = c;
	}
	assert_int_equal(scan_stream_close(s, collect, out), 0);
}

/* One-shot vs every two-feed split vs random many-feed splits: identical findings. */
static void
check_splits(const struct scan_db *db, const struct scan_fpset *fps, const void *vp, size_t n,
    const struct recs *want, const char *what)
{
	const uint8_t *p = vp;
	struct recs got;
	size_t cut, cuts[64], k, i, round;

	for (cut = 0; cut <= n; cut++) {
		scan_cuts(db, fps, p, n, &cut, 1, &got);
		recs_equal(want, &got, what, cut);
		recs_free(&got);
	}
	for (round = 0; round < 8 && n > 1; round++) {
		k = 1 + randombytes_uniform(63);
		for (i = 0; i < k; i++)
			cuts[i] = randombytes_uniform((uint32_t)n + 1);
		/* sort the cut positions */
		for (i = 1; i < k; i++) {
			size_t j = i, v = cuts[i];

			while (j > 0 && cuts[j - 1] > v) {
				cuts[j] = cuts[j - 1];
				j--;
			}
			cuts[j] = v;
		}
		scan_cuts(db, fps, p, n, cuts, k, &got);
		recs_equal(want, &got, what, 1000000 + round);
		recs_free(&got);
	}
	/* a byte per feed */
	if (n <= 4096) {
		size_t *all = malloc((n + 1) * sizeof(*all));

		assert_non_null(all);
		for (i = 0; i < n; i++)
			all[i] = i + 1;
		scan_cuts(db, fps, p, n, all, n > 0 ? n - 1 : 0, &got);
		recs_equal(want, &got, what, 2000000);
		recs_free(&got);
		free(all);
	}
}

static struct scan_db *
open_test_db(void)
{
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX];

	if (scan_db_open_rules(TEST_RULES, VT_NELEM(TEST_RULES), &db, err) != 0)
		fail_msg("scan_db_open_rules: %s", err);
	return db;
}

static char *
cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);

	assert_non_null(s);
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/* Every positive found once (alone, in context, split) and every negative not found. */
static void
check_rule_table(const struct scan_db *db)
{
	size_t i, j, k;

	for (i = 0; i < scan_db_rule_count(db); i++) {
		const struct scan_rule *ru = scan_db_rule(db, i);

		assert_non_null(ru->positives);
		assert_non_null(ru->positives[0]);
		for (j = 0; ru->positives[j] != NULL; j++) {
			static const char *const ctx[][2] = { { "", "" }, { "$ echo ", "\n$ " },
				{ "\x1b[1;32m", "\x1b[0m\r\n" } };

			for (k = 0; k < VT_NELEM(ctx); k++) {
				char *s = cat3(ctx[k][0], ru->positives[j], ctx[k][1]);
				struct recs r;

				scan_one(db, NULL, s, strlen(s), &r);
				if (count_id(&r, ru->id) != 1)
					fail_msg("rule %s positive %zu context %zu: found %zu times",
					    ru->id, j, k, count_id(&r, ru->id));
				check_splits(db, NULL, s, strlen(s), &r, ru->id);
				recs_free(&r);
				free(s);
			}
		}
		for (j = 0; ru->negatives != NULL && ru->negatives[j] != NULL; j++) {
			struct recs r;

			scan_one(db, NULL, ru->negatives[j], strlen(ru->negatives[j]), &r);
			if (count_id(&r, ru->id) != 0)
				fail_msg("rule %s negative %zu: found", ru->id, j);
			recs_free(&r);
		}
	}
}

static int
setup(void **state)
{
	(void)state;
	return secmem_init();
}

/* ---- rules ----------------------------------------------------------------------------------- */
static void
test_rules_own_table(void **state)
{
	struct scan_db *db = open_test_db();

	(void)state;
	check_rule_table(db);
	scan_db_free(db);
}

static void
test_rules_offsets(void **state)
{
	struct scan_db *db = open_test_db();
	static const char text[] = "x AKIAIOSFODNN7EXAMPLE y password = Tr0ub4dor&3xyz\n"
				   "url postgres://app:Sup3rS3cret@db/x tok_abcdefghij.\n";
	const char *p;
	struct recs r;

	(void)state;
	scan_one(db, NULL, text, strlen(text), &r);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.v[0].id, "test-akia");
	assert_int_equal(r.v[0].start, 2);
	assert_int_equal(r.v[0].end, 22);
	/* validate narrowed the password finding to the value */
	p = strstr(text, "Tr0ub4dor");
	assert_int_equal(count_id(&r, "test-password"), 1);
	assert_int_equal(count_id(&r, "test-db-url"), 1);
	assert_int_equal(count_id(&r, "test-unbounded"), 1);
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.v[i].id, "test-password") == 0) {
			assert_int_equal(r.v[i].start, p - text);
			assert_int_equal(r.v[i].end, p - text + 14);
		}
		if (strcmp(r.v[i].id, "test-db-url") == 0) {
			assert_int_equal(r.v[i].start, strstr(text, "Sup3r") - text);
			assert_int_equal(r.v[i].end, strstr(text, "@db") - text);
		}
		if (strcmp(r.v[i].id, "test-unbounded") == 0) {
			assert_int_equal(r.v[i].start, strstr(text, "tok_") - text);
			assert_int_equal(r.v[i].end, strstr(text, "tok_") - text + 14);
		}
	}
	check_splits(db, NULL, text, strlen(text), &r, "offsets");
	recs_free(&r);
	scan_db_free(db);
}

static void
test_rules_overlaps_once(void **state)
{
	struct scan_db *db = open_test_db();
	/* Two keys back to back, and an unbounded token longer than its max_len. */
	static const char two[] = "AKIAIOSFODNN7EXAMPLEAKIAZ2QWERTYUIOPASDF";
	char longtok[200];
	struct recs r;

	(void)state;
	scan_one(db, NULL, two, strlen(two), &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[0].start, 0);
	assert_int_equal(r.v[0].end, 20);
	assert_int_equal(r.v[1].start, 20);
	assert_int_equal(r.v[1].end, 40);
	check_splits(db, NULL, two, strlen(two), &r, "two keys");
	recs_free(&r);

	memcpy(longtok, "tok_", 4);
	memset(longtok + 4, 'q', 100);
	longtok[104] = '\0';
	scan_one(db, NULL, longtok, strlen(longtok), &r);
	/* 104 bytes of an unbounded pattern capped at 40: tiles, each once, nothing overlapping */
	assert_true(r.n >= 1);
	for (size_t i = 0; i < r.n; i++) {
		assert_true(r.v[i].end - r.v[i].start <= 40);
		if (i > 0)
			assert_true(r.v[i].start >= r.v[i - 1].end);
	}
	check_splits(db, NULL, longtok, strlen(longtok), &r, "long token");
	recs_free(&r);
	scan_db_free(db);
}

/*
 * Two findings certain at the same offset, one of them known only a byte later (its \b needs the
 * byte after it): they come in rule order however the stream is cut. Before emit() held findings
 * certain at the stream's position, a cut there (or a byte per feed) handed out "key" first.
 */
static void
test_rules_order_ties(void **state)
{
	static const struct scan_rule rules[] = {
		{ "t-word", "", SCAN_SEV_LOW, "\\bsk_[0-9a-f]{8}\\b", 0, 11, NULL, NULL, NULL },
		{ "t-key", "", SCAN_SEV_LOW, "key=[a-z]{4,16}", 0, 20, NULL, NULL, NULL },
	};
	static const char text[] = "key=abcd sk_0123abcd\nmore";
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX];
	struct recs r;

	(void)state;
	if (scan_db_open_rules(rules, VT_NELEM(rules), &db, err) != 0)
		fail_msg("scan_db_open_rules: %s", err);
	scan_one(db, NULL, text, strlen(text), &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].id, "t-word");
	assert_int_equal(r.v[0].end, 20);
	assert_string_equal(r.v[1].id, "t-key");
	check_splits(db, NULL, text, strlen(text), &r, "order ties");
	recs_free(&r);
	scan_db_free(db);
}

static void
test_rules_bad_tables(void **state)
{
	static const struct scan_rule bad_syntax[] = { { "bad", "", SCAN_SEV_LOW, "ab(c", 0, 10,
		NULL, NULL, NULL } };
	static const struct scan_rule bad_len[] = { { "short-max", "", SCAN_SEV_LOW, "a{20}", 0, 10,
		NULL, NULL, NULL } };
	static const struct scan_rule bad_empty[] = { { "empty", "", SCAN_SEV_LOW, "a*", 0, 10, NULL,
		NULL, NULL } };
	static const struct scan_rule bad_flags[] = { { "flags", "", SCAN_SEV_LOW, "abc",
		HS_FLAG_SINGLEMATCH, 10, NULL, NULL, NULL } };
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX];
	struct recs r;

	(void)state;
	assert_int_equal(scan_db_open_rules(bad_syntax, 1, &db, err), VT_ERR_INTERNAL);
	assert_null(db);
	assert_non_null(strstr(err, "bad"));
	assert_int_equal(scan_db_open_rules(bad_len, 1, &db, err), VT_ERR_INTERNAL);
	assert_non_null(strstr(err, "short-max"));
	assert_int_equal(scan_db_open_rules(bad_empty, 1, &db, err), VT_ERR_INTERNAL);
	assert_int_equal(scan_db_open_rules(bad_flags, 1, &db, err), VT_ERR_INTERNAL);
	/* No rules at all: a database that finds nothing (fingerprints only). */
	assert_int_equal(scan_db_open_rules(NULL, 0, &db, err), 0);
	scan_one(db, NULL, "AKIAIOSFODNN7EXAMPLE", 20, &r);
	assert_int_equal(r.n, 0);
	recs_free(&r);
	scan_db_free(db);
	scan_db_free(NULL);
	assert_int_equal(scan_stream_close(NULL, NULL, NULL), 0);
}

static int
stop_first(void *ud, const struct scan_match *m)
{
	(*(int *)ud)++;
	(void)m;
	return 1;
}

static void
test_rules_stop(void **state)
{
	struct scan_db *db = open_test_db();
	static const char text[] = "AKIAIOSFODNN7EXAMPLE AKIAZ2QWERTYUIOPASDF ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
	int calls = 0;

	(void)state;
	assert_int_equal(scan_buffer(db, NULL, text, strlen(text), stop_first, &calls), 0);
	assert_int_equal(calls, 1);
	scan_db_free(db);
}

/*
 * Tails the engine follows itself (src/scan/db.c tail_split: the key-name rest + assignment glue +
 * value of the generic rules, a URI's user:password@, a Secret manifest's lines after "kind:
 * Secret"): the same ends as Vectorscan gives for the
 * whole pattern. Each rule is compiled twice, as written (Vectorscan sees the trigger, scan.c
 * follows the tail) and with its tail put in a group (not recognised: Vectorscan runs all of
 * it); without validators, on text made of the pieces these tails are made of, both report the
 * same matches, one-shot and over random feeds (down to single bytes).
 */
#define T_IDTAIL "[A-Za-z0-9_.-]{0,24}"
#define T_ASSIGN "[\"']?[ \\t]{0,4}(?::=|=>|[:=])[ \\t]{0,4}[\"']?"
#define T_VALUE "[^\\s\"'`,;&<>{}\\\\]"
#define T_E_VALUE "(?:[\\s\"'`,;&<>{}\\\\]|\\z)"
#define T_USERINFO "[^\\s:@/?#\"'<>]{0,128}:[^\\s@/?#\"'<>]{1,256}@"
#define T_TAIL_A(m, n) T_IDTAIL T_ASSIGN T_VALUE "{" #m "," #n "}" T_E_VALUE
#define T_LINES "(?:[ \\t]*[^\\s-][^\\r\\n]*\\r?\\n)*[ \\t]*(?:data|stringData):[ \\t]*\\r?\\n" \
	"(?:[ \\t]+[A-Za-z0-9._-]+:[ \\t]*[^\\r\\n]+\\r?\\n)*[ \\t]+[A-Za-z0-9._-]+:[ \\t]*[^\\r\\n]+" \
	"(?:\\r?\\n|\\z)"
#define T_KIND "\\bkind:[ \\t]*Secret[ \\t]*\\r?\\n"
/* kubernetes-secret-yaml as rules.c has it: db.c (head_lines) bounds its start searches */
#define T_YAML "(?:^|\\n)[ \\t]*data:[ \\t]*\\r?\\n(?:[ \\t]+[A-Za-z0-9._-]+:[ \\t]*" \
	"[A-Za-z0-9+/=]*[ \\t]*\\r?\\n)+(?:[ \\t]*immutable:[^\\r\\n]*\\r?\\n)?[ \\t-]*kind:" \
	"[ \\t]*Secret(?:[^A-Za-z0-9]|\\z)"

static const char *const tail_pos[] = { "x", NULL };
static const struct scan_rule TAIL_RULES[] = {
	{ "t-assign", "", SCAN_SEV_LOW, "(?i:pass(?:w(?:or)?d)?|token)" T_TAIL_A(8, 40), 0, 128,
	    NULL, tail_pos, NULL },
	{ "t-assign-head", "", SCAN_SEV_LOW, "[A-Za-z0-9_.-]{0,32}(?i:secret)" T_TAIL_A(3, 16), 0,
	    128, NULL, tail_pos, NULL },
	{ "t-userinfo", "", SCAN_SEV_LOW, "\\b[A-Za-z][A-Za-z0-9+.-]{1,24}://" T_USERINFO, 0, 414,
	    NULL, tail_pos, NULL },
	{ "t-userinfo-pg", "", SCAN_SEV_LOW, "\\b(?i:postgres(?:ql)?)(?:\\+[a-z0-9]{1,16})?://"
	    T_USERINFO, 0, 416, NULL, tail_pos, NULL },
	{ "t-lines", "", SCAN_SEV_LOW, T_KIND T_LINES, 0, 1024, NULL, tail_pos, NULL },
};
static const struct scan_rule TAIL_RULES_WHOLE[] = {
	{ "t-assign", "", SCAN_SEV_LOW, "(?i:pass(?:w(?:or)?d)?|token)(?:" T_TAIL_A(8, 40) ")", 0,
	    128, NULL, tail_pos, NULL },
	{ "t-assign-head", "", SCAN_SEV_LOW, "[A-Za-z0-9_.-]{0,32}(?i:secret)(?:" T_TAIL_A(3, 16)
	    ")", 0, 128, NULL, tail_pos, NULL },
	{ "t-userinfo", "", SCAN_SEV_LOW, "\\b[A-Za-z][A-Za-z0-9+.-]{1,24}://(?:" T_USERINFO ")", 0,
	    414, NULL, tail_pos, NULL },
	{ "t-userinfo-pg", "", SCAN_SEV_LOW, "\\b(?i:postgres(?:ql)?)(?:\\+[a-z0-9]{1,16})?://(?:"
	    T_USERINFO ")", 0, 416, NULL, tail_pos, NULL },
	{ "t-lines", "", SCAN_SEV_LOW, T_KIND "(?:" T_LINES ")", 0, 1024, NULL, tail_pos, NULL },
};

static uint64_t tail_rng = 0x2545f4914f6cdd1dull;

static uint32_t
tail_next(uint32_t n)
{
	tail_rng ^= tail_rng << 13;
	tail_rng ^= tail_rng >> 7;
	tail_rng ^= tail_rng << 17;
	return (uint32_t)(tail_rng % n);
}

static void
tail_put(uint8_t *t, size_t *o, size_t n, const char *p, size_t k)
{
	size_t i;

	for (i = 0; i < k && *o < n; i++)
		t[(*o)++] = (uint8_t)p[i];
}

/* k random bytes of alpha (zero-terminated) */
static void
tail_rand(uint8_t *t, size_t *o, size_t n, const char *alpha, size_t k)
{
	size_t a = strlen(alpha), i;

	for (i = 0; i < k && *o < n; i++)
		t[(*o)++] = (uint8_t)alpha[tail_next((uint32_t)a)];
}

/*
 * n bytes of key names, glue, values and URIs with lengths around every bound of the tails,
 * and loose pieces of the same, separators and colour codes between them.
 */
static uint8_t *
tail_text(size_t n)
{
	static const char *const piece[] = { "password", "PassWord", "passwd", "pass", "token",
		"TOKEN_", "secret", "SECRET", "db.", "_", "-", "=", ":", ":=", "=>", "\"", "'", " ",
		"\t", "    ", "\n", "\r\n", ",", ";", "{", "}", "<", ">", "&", "\\", "`", "://",
		"postgres://", "PostgreSQL+psycopg2://", "redis://", "https://", "git+ssh://", "@", "/",
		"?", "#", "user", "p@ss", "\x1b[31m", "\x1b[0m" };
	static const char *const kw[] = { "password", "Passwd", "pass", "TOKEN", "x_secret",
		"PASS_", "token", "Secret", "SECRET_", "db.secret", "secretKey" };
	static const char *const glue[] = { "=", ":", ":=", "=>", " = ", "\t:\t", "\"=\"", "': '",
		"    =    ", "     =", "=     ", " :=\"", "'=>'", "= '", "\"", "==" };
	static const char *const scheme[] = { "postgres", "PostgreSQL+psycopg2", "postgres+",
		"redis", "https", "git+ssh", "a", "x1", "-a", "9db", "abcdefghijklmnopqrstuvwxy",
		"abcdefghijklmnopqrstuvwxyz", "_x", "a.b-c+d", "\xc3\xa9x", "x+" };
	static const char *const line[] = { "kind: Secret", "kind:\tSecret  ", "  kind: Secret",
		"xkind: Secret", "apiVersion: v1", "metadata:", "  name: db", "data:", "  data:",
		"stringData: ", "data: x", "  password: cGFzcw==", "\tapi.key: abc", "  key:",
		"  key: ", "  k-1: v v", "- item", "  - item", "", "   ", "\x0bx", "  a\rb: c",
		"type: Opaque", "---", "  token: QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB" };
	static const char *const eol[] = { "\n", "\n", "\n", "\r\n", "\r\r\n" };
	static const char id[] = "ABCabcXYZxyz0189_.-";
	static const char val[] = "ABCabc0189+/=._-~!$%^*()[]|:@";
	static const char user[] = "ABCabc0189._-%!$";
	static const char pass[] = "ABCabc0189._-%!$:";
	static const unsigned int lens[] = { 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 39, 40,
		41, 127, 128, 129, 255, 256, 257 };
	uint8_t *t = malloc(n);
	size_t o = 0;
	const char *p;

	assert_non_null(t);
	while (o < n) {
		size_t k;

		switch (tail_next(5)) {
		case 3: /* lines of a manifest, sometimes a Secret's */
			for (k = 1 + tail_next(12); k > 0; k--) {
				p = line[tail_next(VT_NELEM(line))];
				tail_put(t, &o, n, p, strlen(p));
				p = eol[tail_next(VT_NELEM(eol))];
				tail_put(t, &o, n, p, strlen(p));
			}
			break;
		case 0: /* key name, glue, value */
			p = kw[tail_next(VT_NELEM(kw))];
			tail_put(t, &o, n, p, strlen(p));
			tail_rand(t, &o, n, id, lens[tail_next(14)]);
			p = glue[tail_next(VT_NELEM(glue))];
			tail_put(t, &o, n, p, strlen(p));
			tail_rand(t, &o, n, val, lens[tail_next(VT_NELEM(lens))]);
			break;
		case 1: /* scheme://user:password@ */
			p = scheme[tail_next(VT_NELEM(scheme))];
			tail_put(t, &o, n, p, strlen(p));
			tail_put(t, &o, n, "://", 3);
			tail_rand(t, &o, n, user, lens[tail_next(VT_NELEM(lens))]);
			if (tail_next(4) > 0)
				tail_put(t, &o, n, ":", 1);
			tail_rand(t, &o, n, pass, lens[tail_next(VT_NELEM(lens))]);
			if (tail_next(4) > 0)
				tail_put(t, &o, n, "@", 1);
			break;
		default:
			p = piece[tail_next(VT_NELEM(piece))];
			tail_put(t, &o, n, p, strlen(p));
			if (tail_next(2) == 0)
				tail_rand(t, &o, n, val, lens[tail_next(VT_NELEM(lens))]);
			break;
		}
	}
	return t;
}

/*
 * db finds what whole finds in one call (want, of all n bytes): fed in random pieces (feeds of
 * 1 .. 2^(round + 1) bytes, 8 rounds), and the first nbyte bytes one at a time. what names the
 * text in failures. Frees want.
 */
static void
cuts_match_whole(const struct scan_db *db, const struct scan_db *whole, const uint8_t *t,
    size_t n, size_t nbyte, size_t *cuts, struct recs *want, const char *what)
{
	struct recs got;
	char label[96];
	size_t k, i, round;

	snprintf(label, sizeof(label), "%s fed in pieces", what);
	for (round = 0; round < 8; round++) {
		for (k = 0, i = 1 + tail_next(2u << round); i < n; i += 1 + tail_next(2u << round))
			cuts[k++] = i;
		scan_cuts(db, NULL, t, n, cuts, k, &got);
		recs_equal(want, &got, label, round);
		recs_free(&got);
	}
	recs_free(want);
	for (i = 0; i + 1 < nbyte; i++)
		cuts[i] = i + 1;
	scan_one(whole, NULL, t, nbyte, want);
	scan_cuts(db, NULL, t, nbyte, cuts, nbyte - 1, &got);
	snprintf(label, sizeof(label), "%s byte by byte", what);
	recs_equal(want, &got, label, 0);
	recs_free(&got);
	recs_free(want);
}

/*
 * db (a shape the engine follows itself) against whole (the same rules as Vectorscan runs them
 * whole): each of rules[0 .. nrules) at least min times in t, then the same findings one-shot, in
 * random pieces and, over the first nbyte bytes, byte by byte. cuts: room for n offsets.
 */
static void
both_ways(const struct scan_db *db, const struct scan_db *whole, const struct scan_rule *rules,
    size_t nrules, size_t min, const uint8_t *t, size_t n, size_t nbyte, size_t *cuts,
    const char *what)
{
	struct recs want, got;
	char label[96];
	size_t i;

	scan_one(whole, NULL, t, n, &want);
	for (i = 0; i < nrules; i++) {
		if (count_id(&want, rules[i].id) < min)
			fail_msg("%s: only %zu matches in the text", rules[i].id,
			    count_id(&want, rules[i].id));
	}
	scan_one(db, NULL, t, n, &got);
	snprintf(label, sizeof(label), "%s one-shot", what);
	recs_equal(&want, &got, label, 0);
	recs_free(&got);
	cuts_match_whole(db, whole, t, n, nbyte, cuts, &want, what);
}

static void
test_rules_tails(void **state)
{
	struct scan_db *db = NULL, *whole = NULL;
	char err[SCAN_ERR_MAX];
	const size_t n = 300000, nbyte = 20000;
	size_t *cuts = malloc(n * sizeof(*cuts));
	uint8_t *t = tail_text(n);

	(void)state;
	assert_non_null(cuts);
	if (scan_db_open_rules(TAIL_RULES, VT_NELEM(TAIL_RULES), &db, err) != 0 ||
	    scan_db_open_rules(TAIL_RULES_WHOLE, VT_NELEM(TAIL_RULES_WHOLE), &whole, err) != 0)
		fail_msg("scan_db_open_rules: %s", err);
	/* the two are compiled differently (a tail's trigger queue is part of the stream) */
	assert_int_not_equal(scan_db_stream_size(db), scan_db_stream_size(whole));
	/* db.c scheme_start: t-userinfo's scheme is read in C, t-userinfo-pg's is not */
	assert_int_equal(db->rt[2].sch_max, 24);
	assert_int_equal(db->rt[3].sch_max, 0);
	both_ways(db, whole, TAIL_RULES, VT_NELEM(TAIL_RULES), 20, t, n, nbyte, cuts, "tails");
	free(cuts);
	free(t);
	scan_db_free(db);
	scan_db_free(whole);
}

/*
 * kubernetes-secret-yaml's start search skips what precedes the last byte outside its block's
 * bytes (db.c head_lines): compiled as written (the bound on) and in a group (db.c does not
 * recognise it: PCRE2 searches max_len back), the raw matches must be the same, one-shot, in
 * random pieces and byte by byte, on n bytes of
 * kubectl -o yaml output, mostly broken: headers, entries and endings in random order, bytes
 * outside the set (a prompt, '~', '$', a control byte) between and inside them, colour codes,
 * line ends of every kind, lines joined.
 */
static uint8_t *
yaml_text(size_t n)
{
	static const char *const pre[] = { "$ kubectl get secret db -o yaml", "apiVersion: v1",
		"user@host:~$ x", "", "  x: y", "a\x01b", "  k: v\tw", "\x1b[31m", "\x1b[0m" };
	static const char *const line[] = { "data:", "  data:", "data: ", "\tdata:\t", "data: x",
		"xdata:", "  password: cGFzcw==", "  api.key: QUJD", "  k:", "  k: ", "\tt.crt: LS0=",
		"  k-1: v v", "key: abc", "  a$b: c", "  k: ab~c", "immutable: true",
		"  immutable: ~$@", "kind: Secret", "- kind: Secret", "  kind:\tSecret",
		"kind: Secrets", "kind: Secret.", "kind: ConfigMap", "-kind: Secret2" };
	static const char *const eol[] = { "\n", "\n", "\n", "\r\n", "\r\r\n", "\x1b[0m\n" };
	uint8_t *t = malloc(n);
	size_t o = 0, k;
	const char *p;

	assert_non_null(t);
	while (o < n) {
		p = pre[tail_next(VT_NELEM(pre))];
		tail_put(t, &o, n, p, strlen(p));
		tail_put(t, &o, n, "\n", 1);
		for (k = 1 + tail_next(8); k > 0; k--) {
			/* mostly a header, then entries, then an ending */
			size_t w = k == 1 ? 15 + tail_next(9) : tail_next(4) == 0 ?
			    tail_next(VT_NELEM(line)) : 6 + tail_next(5);

			if (k > 1 && tail_next(3) == 0)
				w = tail_next(6);
			else if (k == 2 && tail_next(3) == 0)
				w = 15 + tail_next(2);
			p = line[w];
			tail_put(t, &o, n, p, strlen(p));
			p = eol[tail_next(VT_NELEM(eol))];
			tail_put(t, &o, n, p, tail_next(16) == 0 ? 0 : strlen(p));
		}
	}
	return t;
}

static void
test_rules_head_lines(void **state)
{
	static const struct scan_rule bound[] = {
		{ "t-yaml", "", SCAN_SEV_LOW, T_YAML, 0, 2048, NULL, tail_pos, NULL },
	};
	static const struct scan_rule plain[] = {
		{ "t-yaml", "", SCAN_SEV_LOW, "(?:" T_YAML ")", 0, 2048, NULL, tail_pos, NULL },
	};
	struct scan_db *db = NULL, *whole = NULL, *dflt = NULL;
	char err[SCAN_ERR_MAX];
	struct recs want, got;
	const size_t n = 300000, nbyte = 20000;
	size_t *cuts = malloc(n * sizeof(*cuts)), i;
	uint8_t *t = yaml_text(n);

	(void)state;
	assert_non_null(cuts);
	if (scan_db_open_rules(bound, 1, &db, err) != 0 ||
	    scan_db_open_rules(plain, 1, &whole, err) != 0 || scan_db_open(&dflt, err) != 0)
		fail_msg("scan_db_open_rules: %s", err);
	/* the bound is on for the built-in rule (db.c recognises rules.c's text), off for "whole" */
	assert_int_equal(db->rt[0].head_nl, 3);
	assert_int_equal(whole->rt[0].head_nl, 0);
	for (i = 0; i < dflt->nrules && strcmp(dflt->rules[i].id, "kubernetes-secret-yaml") != 0; i++)
		;
	assert_true(i < dflt->nrules);
	assert_int_equal(dflt->rt[i].head_nl, 3);
	/*
	 * Fed in pieces, the same as the whole pattern one-shot: Vectorscan gets only the ending
	 * (db.c HEAD_LINES), so its miss of some of the whole pattern's ends in some feedings
	 * (docs/scanner.md, Limits) does not reach the built-in rule.
	 */
	assert_non_null(db->rt[0].hs_ending);
	assert_null(whole->rt[0].hs_ending);
	both_ways(db, whole, bound, 1, 200, t, n, nbyte, cuts, "yaml");
	/* The smallest text Vectorscan 5.4.9 missed the whole pattern's end in, byte by byte. */
	{
		static const char bug[] =
		    "ser@host:~$ x\n  password: cGFzcw==\n data:\n k:\nkind:Secret\n";
		const size_t bn = sizeof(bug) - 1;

		for (i = 0; i + 1 < bn; i++)
			cuts[i] = i + 1;
		scan_one(db, NULL, (const uint8_t *)bug, bn, &want);
		assert_int_equal(want.n, 1);
		scan_cuts(db, NULL, (const uint8_t *)bug, bn, cuts, bn - 1, &got);
		recs_equal(&want, &got, "the Vectorscan reproducer byte by byte", 0);
		recs_free(&got);
		recs_free(&want);
	}
	free(cuts);
	free(t);
	scan_db_free(db);
	scan_db_free(whole);
	scan_db_free(dflt);
}

/*
 * PEM blocks: Vectorscan compiles only "-----END <label>-----" (db.c pem_ending), the start search
 * the whole pattern. Compiled as written (the ending on) and in a group (db.c does not recognise
 * it: Vectorscan runs the whole pattern), the raw matches must be the same, one-shot, in random
 * pieces and byte by byte, on n bytes of blocks of two labels (one a suffix of the other's),
 * bodies of every length around the bound with line ends, JSON's \n escapes, header lines and
 * stray bytes ('-', '.', a colour code), and BEGIN and END lines on their own.
 */
#define T_PEM(label) "-----BEGIN " label "-----" \
	"(?:[ \\t]*(?:\\r?\\n|(?:\\\\r)?\\\\n)[ \\t]*[A-Za-z][A-Za-z0-9-]*:[^\\r\\n\\\\]*)*" \
	"[A-Za-z0-9+/=\\s\\\\]{64,}-----END " label "-----"

static uint8_t *
pem_text(size_t n)
{
	static const char *const label[] = { "PRIVATE KEY", "PRIVATE KEY", "RSA PRIVATE KEY",
		"RSA PRIVATE KEY", "EC PRIVATE KEY" };
	static const char *const piece[] = { "\n", "\r\n", "\\n", "\\r\\n", " ", "\t",
		"Proc-Type: 4,ENCRYPTED\n", "DEK-Info: AES-128-CBC,00FF\n", "\nVersion: x\n", "-",
		"...", "\x1b[31m", "\x1b[0m", "=", "==", "Comment: \"a:b\"\\n" };
	static const char b64[] = "ABCabcxyzXYZ0189+/";
	static const unsigned int lens[] = { 0, 1, 30, 62, 63, 64, 65, 100, 400, 1500 };
	uint8_t *t = malloc(n);
	size_t o = 0, k;
	const char *p, *l;

	assert_non_null(t);
	while (o < n) {
		l = label[tail_next(VT_NELEM(label))];
		if (tail_next(8) > 0) {
			tail_put(t, &o, n, "-----BEGIN ", 11);
			tail_put(t, &o, n, l, strlen(l));
			tail_put(t, &o, n, "-----", 5);
		}
		for (k = 1 + tail_next(5); k > 0; k--) {
			if (tail_next(4) == 0) {
				p = piece[tail_next(VT_NELEM(piece))];
				tail_put(t, &o, n, p, strlen(p));
			}
			tail_rand(t, &o, n, b64, lens[tail_next(VT_NELEM(lens))]);
		}
		if (tail_next(8) > 0) {
			if (tail_next(6) == 0)
				l = label[tail_next(VT_NELEM(label))];
			tail_put(t, &o, n, "-----END ", 9);
			tail_put(t, &o, n, l, strlen(l));
			tail_put(t, &o, n, "-----", tail_next(10) == 0 ? 4 : 5);
		}
		tail_put(t, &o, n, "\n$ ", 1 + tail_next(3));
	}
	return t;
}

static void
test_rules_pem_endings(void **state)
{
	static const struct scan_rule ending[] = {
		{ "t-pkcs8", "", SCAN_SEV_LOW, T_PEM("PRIVATE KEY"), 0, 8192, NULL, tail_pos, NULL },
		{ "t-rsa", "", SCAN_SEV_LOW, T_PEM("RSA PRIVATE KEY"), 0, 8192, NULL, tail_pos, NULL },
	};
	static const struct scan_rule plain[] = {
		{ "t-pkcs8", "", SCAN_SEV_LOW, "(?:" T_PEM("PRIVATE KEY") ")", 0, 8192, NULL, tail_pos,
		    NULL },
		{ "t-rsa", "", SCAN_SEV_LOW, "(?:" T_PEM("RSA PRIVATE KEY") ")", 0, 8192, NULL,
		    tail_pos, NULL },
	};
	struct scan_db *db = NULL, *whole = NULL, *dflt = NULL;
	char err[SCAN_ERR_MAX];
	const size_t n = 400000, nbyte = 30000;
	size_t *cuts = malloc(n * sizeof(*cuts)), i, npem = 0;
	uint8_t *t = pem_text(n);

	(void)state;
	assert_non_null(cuts);
	if (scan_db_open_rules(ending, VT_NELEM(ending), &db, err) != 0 ||
	    scan_db_open_rules(plain, VT_NELEM(plain), &whole, err) != 0 ||
	    scan_db_open(&dflt, err) != 0)
		fail_msg("scan_db_open_rules: %s", err);
	assert_string_equal(db->rt[0].hs_ending, "-----END PRIVATE KEY-----");
	assert_string_equal(db->rt[1].hs_ending, "-----END RSA PRIVATE KEY-----");
	assert_null(whole->rt[0].hs_ending);
	assert_null(whole->rt[1].hs_ending);
	/* the built-in PEM rules are recognised (rules.c's PEM macro is this one) */
	for (i = 0; i < dflt->nrules; i++) {
		if (strncmp(dflt->rules[i].pattern, "-----BEGIN ", 11) == 0) {
			assert_non_null(dflt->rt[i].hs_ending);
			npem++;
		}
	}
	assert_true(npem >= 7);
	both_ways(db, whole, ending, VT_NELEM(ending), 50, t, n, nbyte, cuts, "pem");
	free(cuts);
	free(t);
	scan_db_free(db);
	scan_db_free(whole);
	scan_db_free(dflt);
}

/*
 * A pattern ending with base64 padding "==": Vectorscan compiles only "==" (db.c pad_ending), the
 * start search the whole pattern. azure-storage-account-key's shape, compiled as written and in a
 * group (not recognised: Vectorscan runs the whole pattern), gives the same raw matches one-shot,
 * in random pieces and byte by byte on n bytes of key names, glue and base64 runs of every length
 * around 86 with and without padding; and the smallest text in which Vectorscan 5.4.9 misses the
 * whole pattern's match when it is fed in three pieces is found fed that way.
 */
#define T_AZ "(?:(?i:AccountKey)" T_ASSIGN "|(?i:azure|storage)" T_IDTAIL "(?i:key)" T_ASSIGN ")" \
	"[A-Za-z0-9+/]{86}=="

static uint8_t *
pad_text(size_t n)
{
	static const char *const key[] = { "AccountKey", "accountkey", "AZURE_STORAGE_KEY",
		"storage_account_key", "StorageConnectionString", "azurekey", "Key", "x" };
	static const char *const glue[] = { "=", ": ", " := ", "=>", "\"=\"", "==", ";", " " };
	static const char *const after[] = { "==", "=", "", "==;", "===", "==\n", "=x", "\"" };
	static const char b64[] = "ABCabcxyzXYZ0189+/";
	static const unsigned int lens[] = { 0, 1, 84, 85, 86, 86, 86, 87, 88, 120 };
	uint8_t *t = malloc(n);
	size_t o = 0;
	const char *p;

	assert_non_null(t);
	while (o < n) {
		p = key[tail_next(VT_NELEM(key))];
		tail_put(t, &o, n, p, strlen(p));
		p = glue[tail_next(VT_NELEM(glue))];
		tail_put(t, &o, n, p, strlen(p));
		tail_rand(t, &o, n, b64, lens[tail_next(VT_NELEM(lens))]);
		p = after[tail_next(VT_NELEM(after))];
		tail_put(t, &o, n, p, strlen(p));
		if (tail_next(3) == 0)
			tail_put(t, &o, n, ";AccountName=x1;", 16);
	}
	return t;
}

static void
test_rules_pad_ending(void **state)
{
	static const struct scan_rule ending[] = {
		{ "t-az", "", SCAN_SEV_LOW, T_AZ, 0, 134, NULL, tail_pos, NULL },
	};
	static const struct scan_rule plain[] = {
		{ "t-az", "", SCAN_SEV_LOW, "(?:" T_AZ ")", 0, 134, NULL, tail_pos, NULL },
	};
	static const char bug[] = "e=vj4grt8o21lv1;AccountKey=tu/ibaEkSdpWFFQLsA5eMeqov1DpKguAf5D"
	    "581w7Vb/cE5oTWuW9I8cQoYCNu/gmN+pbkuK5L3IL3yFMPgK+Vg==;";
	struct scan_db *db = NULL, *whole = NULL, *dflt = NULL;
	char err[SCAN_ERR_MAX];
	struct recs want, got;
	const size_t n = 300000, nbyte = 30000;
	size_t *cuts = malloc(n * sizeof(*cuts)), i;
	uint8_t *t = pad_text(n);

	(void)state;
	assert_non_null(cuts);
	if (scan_db_open_rules(ending, 1, &db, err) != 0 ||
	    scan_db_open_rules(plain, 1, &whole, err) != 0 || scan_db_open(&dflt, err) != 0)
		fail_msg("scan_db_open_rules: %s", err);
	assert_string_equal(db->rt[0].hs_ending, "==");
	assert_null(whole->rt[0].hs_ending);
	for (i = 0; i < dflt->nrules && strcmp(dflt->rules[i].id, "azure-storage-account-key") != 0;
	    i++)
		;
	assert_true(i < dflt->nrules);
	assert_string_equal(dflt->rt[i].hs_ending, "==");
	/* db.c ending_run: the 86 base64 bytes before "==" are required before a start search */
	assert_int_equal(db->rt[0].run_min, 86);
	assert_int_equal(dflt->rt[i].run_min, 86);
	both_ways(db, whole, ending, 1, 100, t, n, nbyte, cuts, "pad");
	/* "e" | "=vj4grt8o21lv1;Ac" | the rest: Vectorscan 5.4.9 alone reports nothing */
	cuts[0] = 1;
	cuts[1] = 18;
	scan_one(whole, NULL, bug, sizeof(bug) - 1, &want);
	assert_int_equal(want.n, 1);
	scan_cuts(db, NULL, (const uint8_t *)bug, sizeof(bug) - 1, cuts, 2, &got);
	recs_equal(&want, &got, "the Vectorscan reproducer in three pieces", 0);
	recs_free(&got);
	recs_free(&want);
	free(cuts);
	free(t);
	scan_db_free(db);
	scan_db_free(whole);
	scan_db_free(dflt);
}

/*
 * A two-byte literal before a class in an alternative: Vectorscan gets one pattern per byte of the
 * class, each reporting under its own id (db.c alt_split). Twilio's shape, with short runs so that
 * matches are many, and a rule whose alternatives are all split (one of them also matching what a
 * kept one matches: the same end from two patterns), compiled as written and in a group (not
 * recognised: one pattern each), give the same raw matches one-shot, in random pieces and byte by
 * byte on n bytes of the literals, hex and alphanumeric runs of every length around the bounds,
 * word bytes before them (\b) and keywords.
 */
#define T_TW "(?:\\bAC[0-9a-f]{6}:|(?i:twilio)[ \\t]{0,4}=[ \\t]{0,4})[A-Za-z0-9]{8}" \
	"(?:[^A-Za-z0-9]|\\z)"
#define T_TW2 "(?:\\bAC[0-9a-f]{4}:|\\bSK[a-f]{4}:|\\bACa[0-9a-f]{3}:)[A-Za-z0-9]{4}" \
	"(?:[^A-Za-z0-9]|\\z)"
#define T_TW3 "(?:\\bAC[0-9a-f]{4}:|\\bSK[a-f]{4}:)[A-Za-z0-9]{4}(?:[^A-Za-z0-9]|\\z)"

static uint8_t *
split_text(size_t n)
{
	static const char *const piece[] = { "AC", "SK", "ACa", "xAC", " AC", "-SK", "Twilio = ",
		"TWILIO=", "twilio  =\t", ":", " ", "\n", "=", "_", "ACAC" };
	static const char hex[] = "0123456789abcdef";
	static const char alnum[] = "AZaz09bfKx";
	static const unsigned int hlen[] = { 2, 3, 4, 4, 5, 6, 6, 7 };
	static const unsigned int alen[] = { 3, 4, 4, 5, 7, 8, 8, 9 };
	uint8_t *t = malloc(n);
	size_t o = 0;
	const char *p;

	assert_non_null(t);
	while (o < n) {
		p = piece[tail_next(VT_NELEM(piece))];
		tail_put(t, &o, n, p, strlen(p));
		tail_rand(t, &o, n, hex, hlen[tail_next(VT_NELEM(hlen))]);
		if (tail_next(3) > 0)
			tail_put(t, &o, n, ":", 1);
		tail_rand(t, &o, n, tail_next(2) ? alnum : hex, alen[tail_next(VT_NELEM(alen))]);
		if (tail_next(4) > 0)
			tail_put(t, &o, n, tail_next(2) ? " \n" : ";\n", 1 + tail_next(2));
	}
	return t;
}

static void
test_rules_alt_split(void **state)
{
	static const struct scan_rule as_is[] = {
		{ "t-tw", "", SCAN_SEV_LOW, T_TW, 0, 64, NULL, tail_pos, NULL },
		{ "t-tw2", "", SCAN_SEV_LOW, T_TW2, 0, 64, NULL, tail_pos, NULL },
		{ "t-tw3", "", SCAN_SEV_LOW, T_TW3, 0, 64, NULL, tail_pos, NULL },
	};
	static const struct scan_rule grouped[] = {
		{ "t-tw", "", SCAN_SEV_LOW, "(?:" T_TW ")", 0, 64, NULL, tail_pos, NULL },
		{ "t-tw2", "", SCAN_SEV_LOW, "(?:" T_TW2 ")", 0, 64, NULL, tail_pos, NULL },
		{ "t-tw3", "", SCAN_SEV_LOW, "(?:" T_TW3 ")", 0, 64, NULL, tail_pos, NULL },
	};
	struct scan_db *db = NULL, *whole = NULL, *dflt = NULL;
	char err[SCAN_ERR_MAX];
	const size_t n = 300000, nbyte = 30000;
	size_t *cuts = malloc(n * sizeof(*cuts)), i, tw = 0, tw2 = 0, tw3 = 0, twa = 0, twk = 0;
	uint8_t *t = split_text(n);

	(void)state;
	assert_non_null(cuts);
	if (scan_db_open_rules(as_is, VT_NELEM(as_is), &db, err) != 0 ||
	    scan_db_open_rules(grouped, VT_NELEM(grouped), &whole, err) != 0 ||
	    scan_db_open(&dflt, err) != 0)
		fail_msg("scan_db_open_rules: %s", err);
	/*
	 * 16 more for t-tw ("AC" + each hex digit), 16 + 6 for t-tw2 ("\\bACa" is no class: kept
	 * under the rule's own id), 16 + 6 - 1 for t-tw3 (nothing kept: a split one takes its id)
	 */
	for (i = 0; i < db->nhs_extra; i++) {
		tw += db->hs_rule[i] == 0;
		tw2 += db->hs_rule[i] == 1;
		tw3 += db->hs_rule[i] == 2;
	}
	assert_int_equal(tw, 16);
	assert_int_equal(tw2, 22);
	assert_int_equal(tw3, 21);
	assert_int_equal(whole->nhs_extra, 0);
	for (i = 0; i < dflt->nhs_extra; i++) {
		twa += strcmp(dflt->rules[dflt->hs_rule[i]].id, "twilio-auth-token") == 0;
		twk += strcmp(dflt->rules[dflt->hs_rule[i]].id, "twilio-api-key-secret") == 0;
	}
	assert_int_equal(twa, 16);
	assert_int_equal(twk, 16);
	both_ways(db, whole, as_is, VT_NELEM(as_is), 50, t, n, nbyte, cuts, "alt split");
	free(cuts);
	free(t);
	scan_db_free(db);
	scan_db_free(whole);
	scan_db_free(dflt);
}

/*
 * db.c inner_set: a candidate is not tried against an end past the first byte outside the bytes
 * its pattern can hold before its last group. Compiled as written and in a group (db.c does not
 * recognise it: every end is tried), the raw matches must be the same, one-shot, in random
 * pieces and byte by byte, on base64 and JWT-like runs of every length, paddings, dots and
 * separators packed within max_len of each other. (A third rule with several ends per start,
 * "\\bx[a-z.]{2,}(?:\\.|;)", would test the reach's edge, but Vectorscan 5.4.9 loses some of
 * its matches fed in pieces, depending on the buffer's address alignment: not usable here.)
 */
#define T_P12 "\\bMI[IJKL][A-Za-z0-9+/]{2}IBAz[A-Za-z0-9+/]{20,}" \
	"(?:==|=(?:[^=]|\\z)|[^A-Za-z0-9+/=]|\\z)"
#define T_JWT "\\beyJ[A-Za-z0-9_-]{4,}\\.eyJ[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]{8,}" \
	"(?:[^A-Za-z0-9_-]|\\z)"

static uint8_t *
inner_text(size_t n)
{
	static const char *const piece[] = { "MIIab", " MIJxyIBAz", "=MILr+IBAz", "\nMIIabIBAz",
		"IBAz", "eyJ", " eyJhbGci", ".", ".eyJ", "-", "_", "=", "==", "===", " ", "\n", ";",
		"\"", "MI" };
	static const char b64[] = "ABCabcxyzXYZ0189+/";
	static const char b64url[] = "ABCabcxyzXYZ0189_-";
	uint8_t *t = malloc(n);
	size_t o = 0;
	const char *p;

	assert_non_null(t);
	while (o < n) {
		switch (tail_next(4)) {
		case 0: /* a JWT-like token, its parts around their bounds */
			tail_put(t, &o, n, " eyJ", 4);
			tail_rand(t, &o, n, b64url, tail_next(12));
			tail_put(t, &o, n, ".eyJ", 4);
			tail_rand(t, &o, n, b64url, tail_next(6));
			tail_put(t, &o, n, ".", 1);
			tail_rand(t, &o, n, b64url, tail_next(24));
			break;
		case 1: /* a PKCS#12-like blob */
			tail_put(t, &o, n, "\nMIIabIBAz", 10);
			tail_rand(t, &o, n, b64, tail_next(4) == 0 ? tail_next(600) : tail_next(40));
			break;
		default:
			p = piece[tail_next(VT_NELEM(piece))];
			tail_put(t, &o, n, p, strlen(p));
			tail_rand(t, &o, n, tail_next(2) ? b64 : b64url, tail_next(4) == 0 ?
			    tail_next(200) : tail_next(30));
		}
	}
	return t;
}

static void
test_rules_inner_set(void **state)
{
	static const struct scan_rule as_is[] = {
		{ "t-p12", "", SCAN_SEV_LOW, T_P12, 0, 600, NULL, tail_pos, NULL },
		{ "t-jwt", "", SCAN_SEV_LOW, T_JWT, 0, 400, NULL, tail_pos, NULL },
	};
	static const struct scan_rule grouped[] = {
		{ "t-p12", "", SCAN_SEV_LOW, "(?:" T_P12 ")", 0, 600, NULL, tail_pos, NULL },
		{ "t-jwt", "", SCAN_SEV_LOW, "(?:" T_JWT ")", 0, 400, NULL, tail_pos, NULL },
	};
	struct scan_db *db = NULL, *whole = NULL;
	char err[SCAN_ERR_MAX];
	const size_t n = 300000, nbyte = 20000;
	size_t *cuts = malloc(n * sizeof(*cuts));
	uint8_t *t = inner_text(n);

	(void)state;
	assert_non_null(cuts);
	if (scan_db_open_rules(as_is, 2, &db, err) != 0 ||
	    scan_db_open_rules(grouped, 2, &whole, err) != 0)
		fail_msg("scan_db_open_rules: %s", err);
	assert_true(db->rt[0].in_on && db->rt[1].in_on);
	assert_int_equal(db->rt[0].in_w, 2);
	assert_int_equal(db->rt[1].in_w, 1);
	assert_false(whole->rt[0].in_on || whole->rt[1].in_on);
	both_ways(db, whole, as_is, 2, 100, t, n, nbyte, cuts, "inner set");
	free(cuts);
	free(t);
	scan_db_free(db);
	scan_db_free(whole);
}

/* ---- ANSI and CRLF ---------------------------------------------------------------------------- */
static void
test_ansi_inside_and_around(void **state)
{
	struct scan_db *db = open_test_db();
	static const struct {
		const char *text;
		const char *id;
		uint64_t start, end;
	} cases[] = {
		/* a colour change inside the key: the span covers it */
		{ "AKIA\x1b[31mIOSFODNN7EXAMPLE\x1b[0m", "test-akia", 0, 25 },
		/* OSC title (BEL) and a 256-colour CSI before, reset after */
		{ "\x1b]0;user@host: ~\x07\x1b[38;5;196mAKIAIOSFODNN7EXAMPLE\x1b[0m\r\n", "test-akia",
		    28, 48 },
		/* OSC with ST, charset designation ESC ( B inside, erase-line inside */
		{ "\x1b]8;;http://x\x1b\\AKIAIOSF\x1b(BODNN7\x1b[KEXAMPLE", "test-akia", 15, 41 },
		/* bare ESC before a non-sequence byte is dropped, the byte kept */
		{ "AKIAIOSFODNN7EXAMPL\x1b\x01E", "test-akia", -1, 0 },
		/* CRLF line ends inside a PEM block fold to LF */
		{ "-----BEGIN RSA PRIVATE KEY-----\r\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0t\r\n"
		  "-----END RSA PRIVATE KEY-----\r\n",
		    "test-pem", 0, 112 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(cases); i++) {
		struct recs r;

		scan_one(db, NULL, cases[i].text, strlen(cases[i].text), &r);
		if (cases[i].start == (uint64_t)-1) {
			assert_int_equal(count_id(&r, cases[i].id), 0);
		} else {
			if (r.n != 1)
				fail_msg("ansi case %zu: %zu findings", i, r.n);
			assert_string_equal(r.v[0].id, cases[i].id);
			if (r.v[0].start != cases[i].start || r.v[0].end != cases[i].end)
				fail_msg("ansi case %zu: [%llu,%llu)", i,
				    (unsigned long long)r.v[0].start, (unsigned long long)r.v[0].end);
		}
		check_splits(db, NULL, cases[i].text, strlen(cases[i].text), &r, "ansi");
		recs_free(&r);
	}
	scan_db_free(db);
}

static void
test_ansi_long_sequences(void **state)
{
	struct scan_db *db = open_test_db();
	char buf[9000];
	size_t n = 0;
	struct recs r;

	(void)state;
	/* An unterminated OSC longer than SCAN_STR_MAX is aborted: what follows is scanned. */
	memcpy(buf, "\x1b]0;", 4);
	n = 4;
	memset(buf + n, 'x', 5000);
	n += 5000;
	memcpy(buf + n, " AKIAIOSFODNN7EXAMPLE ", 22);
	n += 22;
	scan_one(db, NULL, buf, n, &r);
	assert_int_equal(count_id(&r, "test-akia"), 1);
	recs_free(&r);
	/* A long run of CRs is kept (only CR+ directly before LF folds). */
	n = 0;
	memcpy(buf, "AKIAIOSFODNN7EXA", 16);
	n = 16;
	memset(buf + n, '\r', 40);
	n += 40;
	memcpy(buf + n, "MPLE\n", 5);
	n += 5;
	scan_one(db, NULL, buf, n, &r);
	assert_int_equal(r.n, 0);
	recs_free(&r);
	scan_db_free(db);
}

/* ---- fingerprints ---------------------------------------------------------------------------- */
static const uint8_t FP_KEYS[SCAN_FP_KEYS_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38,
	39, 40, 41, 42, 43, 44, 45, 46, 47, 48 };

static void
fpset_add_value(struct scan_fpset *s, const char *value, size_t n, const char *label)
{
	struct scan_fp fp[2];
	size_t nfp = 0, i;

	assert_int_equal(scan_fp_compute(FP_KEYS, value, n, fp, &nfp), 0);
	assert_true(nfp >= 1);
	for (i = 0; i < nfp; i++)
		assert_int_equal(scan_fpset_add(s, &fp[i], label), 0);
}

static const char PEM_VALUE[] = "-----BEGIN EC PRIVATE KEY-----\n"
				"MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\n"
				"AwEHoUQDQgAEPR3tU2Fta9ktY+6P9G0cWO+0kETA6SFs38GecTyudlHz6xvCdz8q\n"
				"-----END EC PRIVATE KEY-----\n";

static struct scan_fpset *
open_fpset(void)
{
	struct scan_fpset *s = NULL;
	static const char trimmed[] = "  s3cr3t-value-xyz-42 \n";

	assert_int_equal(scan_fpset_new(FP_KEYS, &s), 0);
	fpset_add_value(s, "hunter2-correct-horse", 21, "sec-1/password");
	fpset_add_value(s, trimmed, strlen(trimmed), "sec-2/token");
	fpset_add_value(s, "Zq8#mV2$pL9!nR4", 15, "sec-3/password");
	fpset_add_value(s, "pa ss=w:rd/with+base64==", 24, "sec-4/password");
	fpset_add_value(s, PEM_VALUE, strlen(PEM_VALUE), "sec-5/private_key");
	fpset_add_value(s, "https://user:Pw0rd-123@api.example.net/v1?key=abc", 49, "sec-6/url");
	return s;
}

static void
test_fp_compute(void **state)
{
	struct scan_fp fp[2];
	size_t n = 99;

	(void)state;
	/* too short, or no token of SCAN_FP_MIN_LEN: nothing */
	assert_int_equal(scan_fp_compute(FP_KEYS, "short", 5, fp, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(scan_fp_compute(FP_KEYS, "a:b:c:d:e:f:g:h", 15, fp, &n), 0);
	assert_int_equal(n, 0);
	/* no delimiters: the value is its own anchor */
	assert_int_equal(scan_fp_compute(FP_KEYS, "abcdefgh", 8, fp, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(fp[0].anchor_off, 0);
	assert_int_equal(fp[0].len, 8);
	/* longest token, first of equal ones; trimmed form as a second entry */
	assert_int_equal(scan_fp_compute(FP_KEYS, " pa ss=w:rd/with+base64== ", 26, fp, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fp[0].anchor_off, 12);
	assert_int_equal(fp[0].len, 26);
	assert_int_equal(fp[1].anchor_off, 11);
	assert_int_equal(fp[1].len, 24);
	assert_true(fp[0].anchor_sip == fp[1].anchor_sip);
	/* CRLF folds: a value stored with CRLF matches the LF form */
	{
		struct scan_fp a[2], b[2];
		size_t na, nb;

		assert_int_equal(scan_fp_compute(FP_KEYS, "line-one-abc\r\nline-two", 22, a, &na), 0);
		assert_int_equal(scan_fp_compute(FP_KEYS, "line-one-abc\nline-two", 21, b, &nb), 0);
		assert_int_equal(na, 1);
		assert_int_equal(nb, 1);
		assert_memory_equal(a[0].mac, b[0].mac, 32);
	}
	/* too long */
	{
		char *big = malloc(SCAN_FP_MAX_LEN + 1);

		memset(big, 'a', SCAN_FP_MAX_LEN + 1);
		assert_int_equal(scan_fp_compute(FP_KEYS, big, SCAN_FP_MAX_LEN + 1, fp, &n), 0);
		assert_int_equal(n, 0);
		assert_int_equal(scan_fp_compute(FP_KEYS, big, SCAN_FP_MAX_LEN, fp, &n), 0);
		assert_int_equal(n, 1);
		free(big);
	}
}

static void
test_fpset_add_errors(void **state)
{
	struct scan_fpset *s = NULL;
	struct scan_fp fps[2], fp;
	char label[SCAN_FP_LABEL_MAX + 2];
	size_t n;

	(void)state;
	assert_int_equal(scan_fpset_new(FP_KEYS, &s), 0);
	assert_int_equal(scan_fp_compute(FP_KEYS, "abcdefghij", 10, fps, &n), 0);
	fp = fps[0];
	memset(label, 'l', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	assert_int_equal(scan_fpset_add(s, &fp, label), VT_ERR_RANGE);
	label[SCAN_FP_LABEL_MAX] = '\0';
	assert_int_equal(scan_fpset_add(s, &fp, label), 0);
	fp.len = SCAN_FP_MAX_LEN + 1;
	assert_int_equal(scan_fpset_add(s, &fp, "x"), VT_ERR_INVALID);
	fp.len = 10;
	fp.anchor_off = 3;
	assert_int_equal(scan_fpset_add(s, &fp, "x"), VT_ERR_INVALID);
	assert_int_equal(scan_fpset_count(s), 1);
	scan_fpset_free(s);
	scan_fpset_free(NULL);
}

static void
test_fp_found(void **state)
{
	struct scan_db *db = open_test_db();
	struct scan_fpset *fps = open_fpset();
	char pem_crlf[512];
	size_t i, j, n = 0;
	struct {
		const char *text;
		const char *label;
		const char *value; /* the span found, as it appears in text */
	} cases[] = {
		{ "$ echo hunter2-correct-horse\n", "sec-1/password", "hunter2-correct-horse" },
		{ "X=s3cr3t-value-xyz-42\n", "sec-2/token", "s3cr3t-value-xyz-42" },
		{ "{\"user\":\"bob\",\"password\":\"Zq8#mV2$pL9!nR4\"}", "sec-3/password",
		    "Zq8#mV2$pL9!nR4" },
		{ "export DB_PASSWORD='pa ss=w:rd/with+base64=='\n", "sec-4/password",
		    "pa ss=w:rd/with+base64==" },
		{ "curl https://user:Pw0rd-123@api.example.net/v1?key=abc -s", "sec-6/url",
		    "https://user:Pw0rd-123@api.example.net/v1?key=abc" },
		{ "GET /login?u=bob&pw=hunter2-correct-horse&x=1", "sec-1/password",
		    "hunter2-correct-horse" },
		{ "\x1b[1;31mhunter2-\x1b[0mcorrect-horse\x1b[0m", "sec-1/password",
		    "hunter2-\x1b[0mcorrect-horse" },
		{ NULL, "sec-5/private_key", NULL }, /* the PEM, printed with CRLF by a tty */
	};

	(void)state;
	for (i = 0; PEM_VALUE[i] != '\0'; i++) {
		if (PEM_VALUE[i] == '\n')
			pem_crlf[n++] = '\r';
		pem_crlf[n++] = PEM_VALUE[i];
	}
	memcpy(pem_crlf + n, "$ ", 3);
	cases[VT_NELEM(cases) - 1].text = pem_crlf;
	cases[VT_NELEM(cases) - 1].value = pem_crlf;
	for (i = 0; i < VT_NELEM(cases); i++) {
		const char *t = cases[i].text;
		struct recs r;
		size_t found = 0;
		uint64_t want_s = (uint64_t)(strstr(t, cases[i].value) - t);
		uint64_t want_e = want_s + strlen(cases[i].value);

		if (i == VT_NELEM(cases) - 1)
			want_e = n - 2; /* up to the value's final LF (its CR folded into it) */
		scan_one(db, fps, t, strlen(t), &r);
		for (j = 0; j < r.n; j++) {
			if (strcmp(r.v[j].id, SCAN_RULE_VAULT) != 0)
				continue;
			found++;
			assert_string_equal(r.v[j].label, cases[i].label);
			if (r.v[j].start != want_s || r.v[j].end != want_e)
				fail_msg("fp case %zu: [%llu,%llu) want [%llu,%llu)", i,
				    (unsigned long long)r.v[j].start,
				    (unsigned long long)r.v[j].end, (unsigned long long)want_s,
				    (unsigned long long)want_e);
		}
		if (found != 1)
			fail_msg("fp case %zu: found %zu times", i, found);
		check_splits(db, fps, t, strlen(t), &r, "fp");
		recs_free(&r);
	}
	scan_fpset_free(fps);
	scan_db_free(db);
}

static void
test_fp_sip_and_tokenizer(void **state)
{
	static const char delims[] = " \"'`=:,;()[]{}<>|&?#@/\\\t\n\x7f\x01";
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct scan_db *db;
	struct scan_fpset *fps;
	struct scan_fp fp[2];
	uint8_t v[96], h[crypto_shorthash_siphash24_BYTES], buf[256];
	char err[SCAN_ERR_MAX];
	uint64_t want;
	size_t n, nfp, i, k, at;
	int j;

	(void)state;
	/* the engine's SipHash-2-4 is libsodium's, at every length around the block boundaries */
	for (n = SCAN_FP_MIN_LEN; n < sizeof(v); n++) {
		for (i = 0; i < n; i++)
			v[i] = (uint8_t)alnum[(i * 7 + n * 13) % (sizeof(alnum) - 1)];
		assert_int_equal(scan_fp_compute(FP_KEYS, v, n, fp, &nfp), 0);
		assert_int_equal(nfp, 1);
		crypto_shorthash_siphash24(h, v, n, FP_KEYS);
		for (want = 0, j = 7; j >= 0; j--)
			want = want << 8 | h[j];
		if (fp[0].anchor_sip != want)
			fail_msg("siphash differs from libsodium at length %zu", n);
	}
	/*
	 * The tokenizer cuts 64 bytes at a time from a delimiter mask: a value is found at every
	 * offset across those boundaries between each kind of delimiter, and not when a byte that
	 * is not a delimiter ('.', a UTF-8 byte) touches it.
	 */
	assert_int_equal(scan_db_open_rules(NULL, 0, &db, err), 0);
	assert_int_equal(scan_fpset_new(FP_KEYS, &fps), 0);
	/* a value of exactly SCAN_FP_MIN_LEN bytes, and a longer one, so tokens of 7 and 8 bytes
	 * cross the steps with the run of token bytes carried over */
	fpset_add_value(fps, "Zq7vN2kLw9", 10, "sec-9/token");
	fpset_add_value(fps, "Q8mZ3xLp", 8, "sec-8/pin");
	for (j = 0; j < 2; j++) {
		const char *val = j == 0 ? "Zq7vN2kLw9" : "Q8mZ3xLp";
		size_t vl = strlen(val);

		for (k = 0; k < sizeof(delims) - 1; k++) {
			for (at = 0; at < 140; at++) {
				struct recs r;

				memset(buf, 'x', sizeof(buf));
				for (i = 0; i < at; i += 5)
					buf[i] = (uint8_t)delims[(k + i) % (sizeof(delims) - 1)];
				if (at > 0)
					buf[at - 1] = (uint8_t)delims[k];
				memcpy(buf + at, val, vl);
				buf[at + vl] = (uint8_t)delims[k];
				/* then "Q8mZ3xL", 7 bytes of the 8-byte value: no finding */
				memcpy(buf + at + vl + 1, "Q8mZ3xL", 7);
				buf[at + vl + 8] = (uint8_t)delims[k];
				scan_one(db, fps, buf, at + 40, &r);
				if (count_id(&r, SCAN_RULE_VAULT) != 1 || r.v[0].start != at ||
				    r.v[0].end != at + vl)
					fail_msg("fp %d at %zu between 0x%02x: %zu findings", j, at,
					    (unsigned)(uint8_t)delims[k], r.n);
				recs_free(&r);
				buf[at + vl] = at % 2 == 0 ? '.' : 0xc3;
				scan_one(db, fps, buf, at + 40, &r);
				if (count_id(&r, SCAN_RULE_VAULT) != 0)
					fail_msg("fp %d at %zu glued to a non-delimiter found", j, at);
				recs_free(&r);
			}
		}
	}
	scan_fpset_free(fps);
	scan_db_free(db);
}

static void
test_fp_not_found(void **state)
{
	struct scan_db *db = open_test_db();
	struct scan_fpset *fps = open_fpset();
	static const char *const texts[] = {
		"hunter2-correct-hors",          /* a prefix only */
		"hunter2-correct-horse-battery", /* inside a longer token */
		"xhunter2-correct-horse",
		"pa ss=w:rd/with+base64",        /* the anchor without the rest */
		"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(texts); i++) {
		struct recs r;

		scan_one(db, fps, texts[i], strlen(texts[i]), &r);
		if (count_id(&r, SCAN_RULE_VAULT) != 0)
			fail_msg("fp negative %zu found", i);
		recs_free(&r);
	}
	scan_fpset_free(fps);
	scan_db_free(db);
}

static void
test_fp_repeated(void **state)
{
	struct scan_db *db = open_test_db();
	struct scan_fpset *fps = open_fpset();
	static const char text[] = "a=hunter2-correct-horse b=hunter2-correct-horse\n";
	struct recs r;

	(void)state;
	/* Two occurrences: two findings; the same fingerprint added twice still reports once each. */
	fpset_add_value(fps, "hunter2-correct-horse", 21, "sec-1/password");
	scan_one(db, fps, text, strlen(text), &r);
	assert_int_equal(count_id(&r, SCAN_RULE_VAULT), 2);
	assert_int_equal(r.v[0].start, 2);
	assert_int_equal(r.v[1].start, 26);
	check_splits(db, fps, text, strlen(text), &r, "fp repeated");
	recs_free(&r);
	scan_fpset_free(fps);
	scan_db_free(db);
}

/* ---- redaction ------------------------------------------------------------------------------- */
static char *
redact_buf(const struct scan_db *db, const struct scan_fpset *fps, const char *t,
    enum scan_redact_mode mode)
{
	struct recs r;
	struct scan_match *m;
	struct vbuf *out = vbuf_new(1 << 20);
	const char *p;
	char *s;
	size_t i;

	scan_one(db, fps, t, strlen(t), &r);
	m = calloc(r.n + 1, sizeof(*m));
	for (i = 0; i < r.n; i++) {
		m[i].rule_id = r.v[i].id;
		m[i].start = r.v[i].start;
		m[i].end = r.v[i].end;
	}
	assert_int_equal(scan_redact_buffer(t, strlen(t), m, r.n, mode, out), 0);
	assert_int_equal(vbuf_cstr(out, &p), 0);
	s = strdup(p);
	vbuf_free(out);
	free(m);
	recs_free(&r);
	return s;
}

static void
test_redact_buffer(void **state)
{
	struct scan_db *db = open_test_db();
	struct scan_match m[3];
	struct vbuf *out = vbuf_new(1024);
	const char *p;
	char *s;

	(void)state;
	s = redact_buf(db, NULL, "key AKIAIOSFODNN7EXAMPLE end", SCAN_REDACT_LABEL);
	assert_string_equal(s, "key [REDACTED:test-akia] end");
	free(s);
	s = redact_buf(db, NULL, "key AKIAIOSFODNN7EXAMPLE end", SCAN_REDACT_MASK);
	assert_string_equal(s, "key ******************** end");
	free(s);
	s = redact_buf(db, NULL, "k AKIA\x1b[31mIOSFODNN7EXAMPLE\x1b[0m.", SCAN_REDACT_MASK);
	assert_string_equal(s, "k ****\x1b[31m****************\x1b[0m.");
	free(s);
	s = redact_buf(db, NULL, "k AKIA\x1b[31mIOSFODNN7EXAMPLE\x1b[0m.", SCAN_REDACT_LABEL);
	assert_string_equal(s, "k [REDACTED:test-akia]\x1b[0m.");
	free(s);
	s = redact_buf(db, NULL, "password=Tr0ub4dor&3xyz\n", SCAN_REDACT_LABEL);
	assert_string_equal(s, "password=[REDACTED:test-password]\n");
	free(s);

	/* overlapping and out-of-order spans merge; out-of-range ends are clipped */
	memset(m, 0, sizeof(m));
	m[0] = (struct scan_match){ .rule_id = "b", .start = 4, .end = 8 };
	m[1] = (struct scan_match){ .rule_id = "a", .start = 2, .end = 5 };
	m[2] = (struct scan_match){ .rule_id = "c", .start = 9, .end = 99 };
	assert_int_equal(scan_redact_buffer("0123456789ab", 12, m, 3, SCAN_REDACT_LABEL, out), 0);
	assert_int_equal(vbuf_cstr(out, &p), 0);
	assert_string_equal(p, "01[REDACTED:a]8[REDACTED:c]");
	vbuf_reset(out);
	assert_int_equal(scan_redact_buffer("0123456789ab", 12, m, 3, SCAN_REDACT_MASK, out), 0);
	assert_int_equal(vbuf_cstr(out, &p), 0);
	assert_string_equal(p, "01******8***");
	vbuf_free(out);
	scan_db_free(db);
}

/* Redacting stream, input cut at cuts: output must equal the buffer redaction. */
static void
redact_stream_cuts(const struct scan_db *db, const struct scan_fpset *fps, const char *t,
    enum scan_redact_mode mode, const size_t *cuts, size_t ncuts, const char *want)
{
	struct scan_redactor *rd = NULL;
	struct vbuf *out = vbuf_new(1 << 20);
	size_t n = strlen(t), prev = 0, i;
	const char *p;

	assert_int_equal(scan_redactor_open(db, fps, mode, &rd), 0);
	assert_true(scan_redactor_holdback(rd) >= 20);
	for (i = 0; i <= ncuts; i++) {
		size_t c = i < ncuts ? cuts[i] : n;

		assert_int_equal(scan_redactor_feed(rd, t + prev, c - prev, out, NULL, NULL), 0);
		/* what is out so far is a prefix of the final redaction: nothing unmasked leaked */
		if (vbuf_len(out) > strlen(want) ||
		    memcmp(vbuf_ptr(out), want, vbuf_len(out)) != 0) /* checksrc:ok test output */
			fail_msg("redactor released bytes that differ from the redaction (cut %zu)", c);
		prev = c;
	}
	assert_int_equal(scan_redactor_close(rd, out, NULL, NULL), 0);
	assert_int_equal(vbuf_cstr(out, &p), 0);
	if (strcmp(p, want) != 0)
		fail_msg("redactor output differs (cuts %zu): '%s' vs '%s'", ncuts ? cuts[0] : 0, p,
		    want);
	vbuf_free(out);
}

static void
test_redact_stream(void **state)
{
	struct scan_db *db = open_test_db();
	struct scan_fpset *fps = open_fpset();
	static const char *const texts[] = {
		"$ env\nAWS=AKIAIOSFODNN7EXAMPLE\nPASS=hunter2-correct-horse\n$ ",
		"k AKIA\x1b[31mIOSFODNN7EXAMPLE\x1b[0m \x1b]0;t\x07password: hK9$mq2Lx!\r\n",
		"no secrets here, just \x1b[1mbold\x1b[0m text\r\n",
	};
	size_t i, cut, round, c, k, n;
	size_t *cuts;

	(void)state;
	for (i = 0; i < VT_NELEM(texts); i++) {
		n = strlen(texts[i]);
		cuts = calloc(n + 1, sizeof(*cuts));
		for (int mode = 0; mode < 2; mode++) {
			char *want = redact_buf(db, fps, texts[i], (enum scan_redact_mode)mode);

			for (cut = 0; cut <= n; cut++)
				redact_stream_cuts(db, fps, texts[i], (enum scan_redact_mode)mode,
				    &cut, 1, want);
			for (round = 0; round < 4; round++) {
				for (c = 0, k = 0; c <= n; c++) {
					if (randombytes_uniform(3) == 0)
						cuts[k++] = c;
				}
				redact_stream_cuts(db, fps, texts[i], (enum scan_redact_mode)mode,
				    cuts, k, want);
			}
			/* byte by byte */
			for (c = 0; c <= n; c++)
				cuts[c] = c;
			redact_stream_cuts(db, fps, texts[i], (enum scan_redact_mode)mode, cuts,
			    n + 1, want);
			free(want);
		}
		free(cuts);
	}
	scan_fpset_free(fps);
	scan_db_free(db);
}

static void
test_redact_releases(void **state)
{
	struct scan_db *db = open_test_db();
	struct scan_redactor *rd = NULL;
	struct vbuf *out = vbuf_new(1 << 24);
	uint8_t *big = malloc(1 << 20);
	size_t i;

	(void)state;
	/* A long feed without secrets is released but for at most the hold-back. */
	for (i = 0; i < (1 << 20); i++)
		big[i] = "abc def\n"[i % 8];
	assert_int_equal(scan_redactor_open(db, NULL, SCAN_REDACT_LABEL, &rd), 0);
	assert_int_equal(scan_redactor_feed(rd, big, 1 << 20, out, NULL, NULL), 0);
	assert_true(vbuf_len(out) + scan_redactor_holdback(rd) >= (1 << 20));
	assert_int_equal(scan_redactor_close(rd, out, NULL, NULL), 0);
	assert_int_equal(vbuf_len(out), 1 << 20);
	assert_memory_equal(vbuf_ptr(out), big, 1 << 20);
	assert_int_equal(scan_redactor_close(NULL, NULL, NULL, NULL), 0);
	free(big);
	vbuf_free(out);
	scan_db_free(db);
}

/* ---- the built-in rules ---------------------------------------------------------------------- */
static void
test_builtin_rules(void **state)
{
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX];

	(void)state;
	if (scan_db_open(&db, err) != 0)
		fail_msg("scan_db_open: %s", err);
	assert_int_equal(scan_db_rule_count(db), SCAN_RULES_COUNT);
	check_rule_table(db);
	scan_db_free(db);
}

/* ---- threads --------------------------------------------------------------------------------- */
struct thread_arg {
	const struct scan_db *db;
	const struct scan_fpset *fps;
	size_t found;
};

static void *
thread_scan(void *p)
{
	struct thread_arg *a = p;
	static const char text[] = "AKIAIOSFODNN7EXAMPLE x=hunter2-correct-horse\n";
	int i;

	for (i = 0; i < 200; i++) {
		struct scan_stream *s = NULL;
		size_t k = 0;
		struct recs r = { 0 };

		if (scan_stream_open(a->db, a->fps, &s) != 0)
			return NULL;
		for (k = 0; k < sizeof(text) - 1; k += 7) {
			size_t n = sizeof(text) - 1 - k < 7 ? sizeof(text) - 1 - k : 7;

			if (scan_stream_feed(s, text + k, n, collect, &r) != 0)
				return NULL;
		}
		if (scan_stream_close(s, collect, &r) != 0)
			return NULL;
		a->found += r.n;
		recs_free(&r);
	}
	return NULL;
}

/* One database and one fingerprint set shared by threads (the scratch pool under contention). */
static void
test_threads_share_db(void **state)
{
	struct scan_db *db = open_test_db();
	struct scan_fpset *fps = open_fpset();
	struct thread_arg a[4];
	pthread_t t[4];
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		a[i] = (struct thread_arg){ .db = db, .fps = fps };
		assert_int_equal(pthread_create(&t[i], NULL, thread_scan, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].found, 400);
	}
	scan_fpset_free(fps);
	scan_db_free(db);
}

/* ---- memory ---------------------------------------------------------------------------------- */
static void
test_memory_figures(void **state)
{
	struct scan_db *db = open_test_db();
	struct scan_fpset *fps = NULL;
	struct scan_stream *s = NULL;
	char v[32];
	size_t i;

	(void)state;
	assert_int_equal(scan_fpset_new(FP_KEYS, &fps), 0);
	for (i = 0; i < 10000; i++) {
		snprintf(v, sizeof(v), "value-%08zu-secret", i);
		fpset_add_value(fps, v, strlen(v), "00000000-0000-0000-0000-000000000000/password");
	}
	assert_int_equal(scan_fpset_count(fps), 10000);
	assert_int_equal(scan_stream_open(db, fps, &s), 0);
	assert_int_equal(scan_stream_feed(s, "hello value-00000042-secret\n", 28, NULL, NULL), 0);
	printf("scan memory (test rules): %zu bytes per stream without fingerprints, %zu with; "
	       "%zu bytes per 10,000 fingerprints\n",
	    scan_db_stream_size(db), scan_stream_memory(s), scan_fpset_memory(fps));
	assert_true(scan_db_stream_size(db) < 64 * 1024);
	assert_true(scan_fpset_memory(fps) < 4 * 1024 * 1024);
	assert_int_equal(scan_stream_close(s, NULL, NULL), 0);
	scan_fpset_free(fps);
	scan_db_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_own_table),
		cmocka_unit_test(test_rules_offsets),
		cmocka_unit_test(test_rules_overlaps_once),
		cmocka_unit_test(test_rules_order_ties),
		cmocka_unit_test(test_rules_bad_tables),
		cmocka_unit_test(test_rules_stop),
		cmocka_unit_test(test_rules_tails),
		cmocka_unit_test(test_rules_head_lines),
		cmocka_unit_test(test_rules_pem_endings),
		cmocka_unit_test(test_rules_pad_ending),
		cmocka_unit_test(test_rules_alt_split),
		cmocka_unit_test(test_rules_inner_set),
		cmocka_unit_test(test_ansi_inside_and_around),
		cmocka_unit_test(test_ansi_long_sequences),
		cmocka_unit_test(test_fp_compute),
		cmocka_unit_test(test_fpset_add_errors),
		cmocka_unit_test(test_fp_found),
		cmocka_unit_test(test_fp_sip_and_tokenizer),
		cmocka_unit_test(test_fp_not_found),
		cmocka_unit_test(test_fp_repeated),
		cmocka_unit_test(test_redact_buffer),
		cmocka_unit_test(test_redact_stream),
		cmocka_unit_test(test_redact_releases),
		cmocka_unit_test(test_threads_share_db),
		cmocka_unit_test(test_builtin_rules),
		cmocka_unit_test(test_memory_figures),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
