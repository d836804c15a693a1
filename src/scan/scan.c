/*
 * The scanner's stream engine (docs/scanner.md). Each feed is cut into slices; a slice goes
 * through the ANSI/CR filter into the stream's window buffer (the last `win` filtered bytes plus
 * the new block), then:
 *  - Vectorscan scans the block in streaming mode and reports (rule, end) pairs; the callback
 *    only hands each end to that rule's small state machine: the leftmost start of a match ending
 *    there comes from the rule's PCRE2 twin run over the look-back window (Vectorscan cannot
 *    report starts for these patterns), later ends extend the candidate while a match from the
 *    same start reaches them, and the candidate is decided once no longer match from its start
 *    can still come (start + max_len <= position, or the stream's end): leftmost-longest, one
 *    finding per rule per overlapping region, then the rule's validate. For a rule with a tail
 *    (db.c tail_split) Vectorscan reports the ends of its trigger, and the tail is followed here
 *    to the rule's ends ("tails" below);
 *  - the tokenizer cuts the block at SCAN_DELIM bytes; each token of SCAN_FP_MIN_LEN ..
 *    SCAN_FP_MAX_LEN bytes is SipHashed and looked up in the fingerprint set; a hit becomes a
 *    pending value span, confirmed by HMAC once all its bytes are in.
 * Findings are sorted by the offset at which they became certain and handed out once the stream
 * is a byte past it (emit), so the sequence a caller sees is the same however the stream was cut
 * into feeds.
 */
#include "scan/scan_internal.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "crypto/hash.h"

#define FP_PEND_MAX 65536 /* XXX: hits past this many pending values in one window are dropped */

struct rule_st {
	uint64_t floor;   /* a new match starts at or after this */
	uint64_t cs;      /* open candidate: leftmost start */
	uint64_t first;   /* open candidate: the end it was found from (known to match from cs) */
	int open;
	uint64_t *e;      /* ends reported since, ascending */
	size_t ne, cap;
};

/* A rule with a tail (db->tails[i]): trigger ends not followed to the end yet, q[h .. n). */
struct tail_st {
	uint64_t *q;
	size_t h, n, cap;
	uint64_t last;    /* the last end handed on (ends of nearby triggers coincide) */
	/* SCAN_TAIL_LINES: one follower for all triggers (lines_run) */
	uint64_t p;       /* the start of the next line to read */
	uint64_t stop;    /* past the last trigger + span: any later end would be too long */
	uint8_t on;       /* following */
	uint8_t st;       /* LN_A | LN_B: where in the tail the lines read so far may be */
};

struct fp_pend {
	uint64_t vs, ve;
	uint64_t d;       /* decided once pos >= d: past the value and past its token's delimiter */
	uint32_t ent;
};

struct fp_seen {
	const char *label;
	uint64_t vs, ve;
};

struct finding {
	struct scan_match m;
	uint64_t d;       /* the stripped offset at which the finding became certain */
	uint32_t kind;    /* 0 rule, 1 fingerprint */
	uint32_t idx;     /* rule index */
};

struct scan_stream {
	const struct scan_db *db;
	const struct scan_fpset *fps;
	hs_stream_t *hs;
	hs_scratch_t *scratch; /* during a feed or close only */
	struct scan_ansi ansi;
	struct scan_gapmap gm;

	uint8_t *hb;           /* filtered bytes [hb_s, hb_s + hb_len) */
	size_t hb_len, hb_cap, win;
	uint64_t hb_s;

	struct rule_st *rs;
	struct tail_st *ts;    /* one per db->tails[] */
	size_t tails_waiting;  /* triggers queued in ts[] */
	size_t lines_on;       /* SCAN_TAIL_LINES followers on */
	pcre2_match_data *md;

	int in_tok;
	uint64_t tok_s;
	/*
	 * Values starting before this (stripped) offset are not looked up: bytes below it may have
	 * been released as safe while the stream had no fingerprint set (scan_stream_swap_fps).
	 */
	uint64_t fp_floor;
	struct fp_pend *pend;
	size_t npend, cappend;
	struct fp_seen *seen;
	size_t nseen, capseen;
	/* Copies of the labels that seen[] and waiting findings held at the last swap. */
	char *lab;
	size_t nlab;

	struct finding *out;
	size_t nout, capout;

	scan_match_fn fn;
	void *ud;
	int err;
	int stopped;
	uint64_t estimated; /* starts estimated because PCRE2 gave up (stat) */
};

static int
grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap;
	void *np;

	if (need <= c)
		return 0;
	while (c < need)
		c = c == 0 ? 8 : c * 2;
	if ((np = realloc(*p, c * elem)) == NULL)
		return VT_ERR_NOMEM;
	*p = np;
	*cap = c;
	return 0;
}

static inline const uint8_t *
at(const struct scan_stream *s, uint64_t off)
{
	VT_ASSERT(off >= s->hb_s && off <= s->hb_s + s->hb_len);
	return s->hb + (off - s->hb_s);
}

static inline uint64_t
pos_of(const struct scan_stream *s)
{
	return s->hb_s + s->hb_len;
}

size_t
scan_stream_window(const struct scan_db *db, const struct scan_fpset *fps)
{
	size_t w = (size_t)db->max_len + 1;

	if (fps != NULL && w < SCAN_FP_MAX_LEN)
		w = SCAN_FP_MAX_LEN;
	return w + 16;
}

/* ---- findings ------------------------------------------------------------------------------ */
static int
add_finding(struct scan_stream *s, uint32_t kind, uint32_t idx, const char *label, uint64_t ss,
    uint64_t se, uint64_t d)
{
	struct finding *f;
	int r;

	if ((r = grow((void **)&s->out, &s->capout, s->nout + 1, sizeof(*s->out))) != 0)
		return r;
	f = &s->out[s->nout++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->idx = idx;
	f->d = d;
	if (kind == 0) {
		const struct scan_rule *ru = &s->db->rules[idx];

		f->m.rule = ru;
		f->m.rule_id = ru->id;
		f->m.severity = ru->severity;
	} else {
		f->m.rule_id = SCAN_RULE_VAULT;
		f->m.severity = SCAN_SEV_CRITICAL;
		f->m.label = label;
	}
	f->m.start = scan_gapmap_orig(&s->gm, ss);
	f->m.end = scan_gapmap_orig(&s->gm, se - 1) + 1;
	return 0;
}

static int
finding_cmp(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	int c;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->kind == 0 && x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	if (x->kind == 1 && (c = strcmp(x->m.label, y->m.label)) != 0)
		return c;
	if (x->m.start != y->m.start)
		return x->m.start < y->m.start ? -1 : 1;
	if (x->m.end != y->m.end)
		return x->m.end < y->m.end ? -1 : 1;
	return 0;
}

/*
 * Hands the caller the findings certain before pos (all of them when closing), in order; the
 * others wait for the next sweep. A finding certain at d may only be known at d + 1: an end
 * before a \b (or the stream's end) is reported once the byte after it is in. Emitting one
 * certain at pos now could put it before one certain at the same pos that comes with the next
 * byte, and the order would depend on where the feeds were cut.
 */
static void
emit(struct scan_stream *s, uint64_t pos, int closing)
{
	size_t i, j;

	if (s->nout == 0)
		return;
	if (s->nout > 1)
		qsort(s->out, s->nout, sizeof(*s->out), finding_cmp);
	for (i = 0; i < s->nout && (closing || s->out[i].d < pos); i++) {
		if (!s->stopped && s->fn != NULL && s->fn(s->ud, &s->out[i].m) != 0)
			s->stopped = 1;
	}
	for (j = 0; i < s->nout; i++, j++)
		s->out[j] = s->out[i];
	s->nout = j;
}

/* ---- byte classes of the tails (see "tails" below) -------------------------------------------- */
#define T_ID 1u    /* [A-Za-z0-9_.-]: IDTAIL */
#define T_VAL 2u   /* [^\s"'`,;&<>{}\\]: VALUE (E_VALUE is its complement) */
#define T_USER 4u  /* [^\s:@/?#"'<>]: a URI's user name */
#define T_PASS 8u  /* [^\s@/?#"'<>]: a URI's password */
#define T_BLANK 16u /* [ \t] */
#define T_QUOTE 32u /* ["'] */
#define TAIL_MORE (-1)
#define TAIL_ENDS_MAX 16 /* distinct ends of one ASSIGN trigger: one per value start, <= 14 */

static uint8_t TCLS[257]; /* indexed by byte + 1: [0] is "no byte" (past the bytes fed) */

__attribute__((constructor)) static void
tail_tables_init(void)
{
	unsigned int c;

	for (c = 0; c < 256; c++) {
		const int sp = c == ' ' || (c >= '\t' && c <= '\r');
		uint8_t v = 0;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-')
			v |= T_ID;
		if (!sp && (c == 0 || strchr("\"'`,;&<>{}\\", (int)c) == NULL))
			v |= T_VAL;
		if (!sp && (c == 0 || strchr(":@/?#\"'<>", (int)c) == NULL))
			v |= T_USER;
		if (!sp && (c == 0 || strchr("@/?#\"'<>", (int)c) == NULL))
			v |= T_PASS;
		if (c == ' ' || c == '\t')
			v |= T_BLANK;
		if (c == '"' || c == '\'')
			v |= T_QUOTE;
		TCLS[c + 1] = v;
	}
}

static inline unsigned int
tcls(int c)
{
	return TCLS[c + 1];
}

/* ---- rules: start finding and leftmost-longest selection ---------------------------------- */
static int tail_userinfo(const struct scan_stream *s, uint64_t te, uint64_t lim, int closing,
    uint64_t *e);

/* 1 if rule r matches exactly [cs, e) (the anchored twin: one attempt, at cs). */
static int
rule_spans(struct scan_stream *s, size_t r, uint64_t cs, uint64_t e)
{
	const struct scan_rule_rt *rt = &s->db->rt[r];
	uint64_t sub0 = cs > s->hb_s ? cs - 1 : cs;
	int rc;

	if (e - cs < rt->min_width)
		return 0;
	rc = pcre2_match(rt->re_anchored, at(s, sub0), (PCRE2_SIZE)(e - sub0),
	    (PCRE2_SIZE)(cs - sub0), 0, s->md, s->db->mctx);
	if (rc > 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	s->estimated++; /* XXX: out of budget: Vectorscan saw an end, take it as an extension */
	return 1;
}

/*
 * db.c scheme_start: every match ending at e has its "://" right before a (the userinfo [a, e)
 * is what the tail matched; checked again here), so the leftmost start is the first s >= lo
 * with [C1] at s, [C2]{m,n} from s + 1 to the "://", and \b before s: no word byte before it,
 * or no byte at all when s is the window's first (PCRE2's subject starts there). The start
 * PCRE2 would find, without a call.
 */
static int
scheme_leftmost(const struct scan_stream *s, const struct scan_rule_rt *rt, uint64_t lo,
    uint64_t a, uint64_t e, uint64_t *start)
{
	static const uint8_t W[32] = { /* [A-Za-z0-9_]: PCRE2's word bytes (default tables) */
		0, 0, 0, 0, 0, 0, 0xff, 0x03, 0xfe, 0xff, 0xff, 0x87, 0xfe, 0xff, 0xff, 0x07,
	};
	uint64_t c = a - 3, r, x, u;
	const uint8_t *b;

	if (a < lo + 3 + 1 + rt->sch_min)
		return 1;
	b = at(s, c);
	if (b[0] != ':' || b[1] != '/' || b[2] != '/' || tail_userinfo(s, a, e, 1, &u) != 1 ||
	    u != e)
		return 1;
	/* [r, c): the run of C2 before the "://", as long as a scheme's can be and above lo */
	for (r = c; r > lo + 1 && c - r < rt->sch_max &&
	    scan_set_has(rt->sch_set2, *at(s, r - 1)); r--)
		;
	for (x = r - 1; x + 1 + rt->sch_min <= c; x++) {
		const uint8_t y = *at(s, x);

		if (!scan_set_has(rt->sch_set1, y))
			continue;
		if (rt->sch_b && x > s->hb_s && scan_set_has(W, *at(s, x - 1)))
			continue;
		*start = x;
		return 0;
	}
	return 1;
}

/*
 * Leftmost start >= lo of a match of rule r ending exactly at e; 0 and *start, or 1 if none.
 * One byte before lo is passed as context (for \b and multi-line ^), never as a start.
 * trig: for a rule with a tail, the first trigger end the tail reached e from (0: unknown);
 * every match ending at e then starts at most trig_max before it (its trigger ends there or
 * later), or, with a leading optional class, the rest of the pattern does.
 */
static int
rule_leftmost(struct scan_stream *s, size_t r, uint64_t lo, uint64_t e, uint64_t trig,
    uint64_t *start)
{
	const struct scan_rule_rt *rt = &s->db->rt[r];
	const uint64_t lo0 = lo; /* the leading class may extend a start back to here */
	uint64_t sub0;
	PCRE2_SIZE *ov;
	int rc;

	if (e < lo || e - lo < rt->min_width)
		return 1;
	if (rt->run_min > 0) {
		/* "[class]{n,...}" + ending: n bytes of the class before it, or no match (db.c) */
		uint64_t z = e - rt->run_end, a;
		const uint8_t *p;

		if (z < lo || z - lo < rt->run_min)
			return 1;
		p = at(s, z - rt->run_min);
		for (a = rt->run_min; a > 0; a--) {
			if (!scan_set_has(rt->run_set, p[a - 1]))
				return 1;
		}
	}
	if (rt->trig_max > 0 && trig > lo + rt->trig_max)
		lo = trig - rt->trig_max; /* never below lo (the floor: a trigger may lie under it) */
	/* "(?:^|X)R" at the stream's start: the leftmost start there is, if it matches */
	if (rt->caret_alt && lo == 0 && s->hb_s == 0 && rule_spans(s, r, 0, e)) {
		*start = 0;
		return 0;
	}
	if (rt->tail_back > 0 && rt->lead_max == 0) {
		/*
		 * scheme://user:password@ (db.c tail_split): the userinfo holds no byte outside the
		 * password class and the trigger ends with '/', which is outside it: the trigger ended
		 * where the run of that class before e - 1 starts, and the match starts at most
		 * tail_back bytes before that. A run reaching lo leaves no start at or after lo.
		 */
		const uint8_t *p = at(s, lo);
		uint64_t a = e - 1;

		while (a > lo && (tcls(p[a - 1 - lo]) & T_PASS))
			a--;
		if (a == lo)
			return 1;
		if (a - lo > rt->tail_back)
			lo = a - rt->tail_back;
		if (e - lo < rt->min_width)
			return 1;
		if (rt->sch_max > 0)
			return scheme_leftmost(s, rt, lo, a, e, start);
	}
	if (rt->head_nl > 0) {
		/*
		 * every byte of a match up to its head_nl-th last '\n' is in head_set: a start before
		 * the last byte outside it (before the window's head_nl-th last '\n') would hold it.
		 * Fewer '\n' in the window: no bound.
		 */
		const uint8_t *p = at(s, lo), *q;
		uint64_t a = e;
		unsigned int k = rt->head_nl;

		(void)at(s, e); /* [lo, e) within the buffer (asserted) */
		for (; k > 0 && (q = memrchr(p, '\n', (size_t)(a - lo))) != NULL; k--)
			a = lo + (uint64_t)(q - p);
		if (k == 0) {
			while (a > lo && scan_set_has(rt->head_set, p[a - 1 - lo]))
				a--;
			lo = a;
			if (e - lo < rt->min_width)
				return 1;
		}
	}
	if (rt->lit_len > 0 && rt->lit_before > 0) {
		/*
		 * every match holds lit at most lit_before bytes after its start (a pattern that
		 * starts with it needs no help: PCRE2 skips to its first byte)
		 */
		const uint8_t *w = at(s, lo), *q = memmem(w, (size_t)(e - lo), rt->lit, rt->lit_len);

		if (q == NULL)
			return 1;
		if ((uint64_t)(q - w) > rt->lit_before)
			lo += (uint64_t)(q - w) - rt->lit_before;
		if (e - lo < rt->min_width)
			return 1;
	}
	sub0 = lo > s->hb_s ? lo - 1 : lo;
	rc = pcre2_match(rt->re, at(s, sub0), (PCRE2_SIZE)(e - sub0), (PCRE2_SIZE)(lo - sub0), 0,
	    s->md, s->db->mctx);
	if (rc > 0) {
		uint64_t q;

		ov = pcre2_get_ovector_pointer(s->md);
		q = *start = sub0 + ov[0];
		/*
		 * C{0,n}R: R's leftmost start extended back over C. Leftmost too: a later start of R
		 * with a longer run of C before it would have that run before this one as well.
		 */
		while (rt->lead_max > 0 && *start > lo0 && q - *start < rt->lead_max &&
		    scan_set_has(rt->lead_set, *at(s, *start - 1)))
			(*start)--;
		return 0;
	}
	if (rc == PCRE2_ERROR_NOMATCH)
		return 1;
	/*
	 * XXX: the backtracking budget ran out (a pathological pattern or input). Vectorscan has
	 * seen a match end here, so report one rather than none: from the widest start allowed.
	 */
	s->estimated++;
	*start = lo;
	return 0;
}

/*
 * Decides the open candidate: the longest end that matches from its start (tried from the
 * largest down: usually the first try), validate, report, and move the floor past it.
 */
static int
rule_finalize(struct scan_stream *s, size_t r)
{
	const struct scan_rule *ru = &s->db->rules[r];
	struct rule_st *st = &s->rs[r];
	const struct scan_rule_rt *rt = &s->db->rt[r];
	uint64_t cs = st->cs, ce = st->first, maxl = rt->span, reach = cs;
	size_t n, off = 0, len, i, j;
	int ok = 1, rc = 0, walked = 0;

	for (i = st->ne; i > 0; i--) {
		uint64_t e = st->e[i - 1];

		if (e <= ce)
			break;
		if (rt->in_on && e - cs > rt->in_w) {
			/*
			 * [cs, e - in_w) must be in in_set (db.c inner_set): reach is the first byte
			 * from cs that is not, found once (the ends come from the largest down)
			 */
			if (!walked) {
				while (reach < e - rt->in_w &&
				    scan_set_has(rt->in_set, *at(s, reach)))
					reach++;
				walked = 1;
			}
			if (e - rt->in_w > reach)
				continue;
		}
		if (e - cs <= maxl && rule_spans(s, r, cs, e)) {
			ce = e;
			break;
		}
	}
	n = (size_t)(ce - cs);
	len = n;
	st->open = 0;
	if (ru->validate != NULL) {
		ok = ru->validate(at(s, cs), n, &off, &len) == 1;
		if (ok && (len == 0 || off > n || len > n - off))
			ok = 0; /* a validate that answers outside the match is a rule bug: drop */
	}
	/* Findings of a rule never overlap: later ends must start past this match. */
	st->floor = ce;
	for (i = j = 0; i < st->ne; i++) {
		if (st->e[i] > ce)
			st->e[j++] = st->e[i];
	}
	st->ne = j;
	if (ok)
		rc = add_finding(s, 0, (uint32_t)r, NULL, cs + off, cs + off + len, cs + maxl);
	return rc;
}

/* Opens the next candidate: the leftmost start (above the floor) of the first kept end. */
static void
rule_promote(struct scan_stream *s, size_t r)
{
	struct rule_st *st = &s->rs[r];
	uint64_t maxl = s->db->rt[r].span, start;
	size_t i;

	for (i = 0; i < st->ne; i++) {
		uint64_t e = st->e[i];

		if (rule_leftmost(s, r, e - st->floor > maxl ? e - maxl : st->floor, e, 0,
		    &start) == 0) {
			st->open = 1;
			st->cs = start;
			st->first = e;
			i++;
			break;
		}
	}
	if (i > 0) {
		memmove(st->e, st->e + i, (st->ne - i) * sizeof(*st->e));
		st->ne -= i;
	}
}

/* Decides candidates whose look-ahead is over: start + max_len <= pos (all of them if closing). */
static int
rule_settle(struct scan_stream *s, size_t r, uint64_t pos, int closing)
{
	struct rule_st *st = &s->rs[r];
	uint64_t maxl = s->db->rt[r].span;
	int rc;

	while (st->open && (closing || st->cs + maxl <= pos)) {
		if ((rc = rule_finalize(s, r)) != 0)
			return rc;
		rule_promote(s, r);
	}
	return 0;
}

/*
 * A match of rule r ends at e (ends arrive in increasing order): mostly just noted. trig: see
 * rule_leftmost (0: none).
 */
static int
rule_end(struct scan_stream *s, size_t r, uint64_t e, uint64_t trig)
{
	struct rule_st *st = &s->rs[r];
	uint64_t maxl = s->db->rt[r].span, start;
	int rc;

	/* A candidate that e cannot belong to any more is decided first (all ends before e are in). */
	if ((rc = rule_settle(s, r, e - 1, 0)) != 0)
		return rc;
	if (e <= st->floor || (st->open && e <= st->first) || (st->ne > 0 && e <= st->e[st->ne - 1]))
		return 0;
	if (!st->open) {
		if (rule_leftmost(s, r, e - st->floor > maxl ? e - maxl : st->floor, e, trig,
		    &start) == 0) {
			st->open = 1;
			st->cs = start;
			st->first = e;
		}
		return 0;
	}
	if (st->ne == st->cap && grow((void **)&st->e, &st->cap, st->ne + 1, sizeof(*st->e)) != 0)
		return VT_ERR_NOMEM;
	st->e[st->ne++] = e;
	return 0;
}

/* ---- tails: a trigger's end followed to the ends of the whole pattern ------------------- */
/*
 * For a rule "T TAIL" (db.c tail_split) Vectorscan reports the ends of T; the ends of the rule
 * are the ends of TAIL from there, computed here byte by byte: the same set of ends Vectorscan
 * would report for the whole pattern (a concatenation matches [s, e) iff T matches [s, a) and
 * TAIL matches [a, e)), handed to rule_end in the same increasing order and before the sweep
 * that could need them. A trigger whose tail runs past the bytes fed so far waits in the rule's
 * queue; it is followed again after the next block (or at the close, where \z may end it).
 */
/* The byte at off, or -1 (and *more) at or past lim. */
static inline int
tail_byte(const struct scan_stream *s, uint64_t off, uint64_t lim, int *more)
{
	if (off >= lim) {
		*more = 1;
		return -1;
	}
	return s->hb[off - s->hb_s]; /* hb_s <= a trigger's end <= off < lim <= pos */
}


static void
tail_add(uint64_t *e, size_t *ne, uint64_t x)
{
	size_t i;

	for (i = 0; i < *ne; i++)
		if (e[i] == x)
			return;
	if (*ne < TAIL_ENDS_MAX)
		e[(*ne)++] = x;
}

/* VALUE{vmin,vmax} E_VALUE from a: the value is the whole run of VALUE bytes from a. */
static void
tail_value(const struct scan_stream *s, const struct scan_rule_rt *rt, uint64_t a, uint64_t lim,
    int closing, uint64_t *e, size_t *ne, int *more)
{
	uint64_t r;
	int c;

	for (r = a; r - a <= rt->tail_max; r++) {
		if ((c = tail_byte(s, r, lim, more)) < 0) {
			if (closing && r - a >= rt->tail_min)
				tail_add(e, ne, r); /* \z */
			return;
		}
		if (!(tcls(c) & T_VAL)) {
			if (r - a >= rt->tail_min)
				tail_add(e, ne, r + 1);
			return;
		}
	}
}

/*
 * IDTAIL ASSIGN VALUE{m,n} E_VALUE from te. The key name's rest is the whole run of its bytes
 * (none of them can start ASSIGN); every way ASSIGN can be read (quote, blanks, ":=", "=>", ":"
 * or "=", blanks, quote) gives a value start. A trigger is followed to its ends only once no
 * way needs a byte not fed yet: with m >= 3 a value of m bytes cannot sit inside the glue, so
 * no end of a trigger is ever held back while another way waits (they all end at the same run).
 */
static int
tail_assign(const struct scan_stream *s, const struct scan_rule_rt *rt, uint64_t te, uint64_t lim,
    int closing, uint64_t *e)
{
	uint64_t q, p1, p2, p3, ops[2];
	size_t ne = 0, no, i;
	int more = 0, c, c2, cq;

	for (q = te;; q++) {
		if ((c = tail_byte(s, q, lim, &more)) < 0)
			return closing ? 0 : TAIL_MORE;
		if (!(tcls(c) & T_ID))
			break;
		if (q - te == 24)
			return 0; /* a 25th byte of key name: ASSIGN cannot follow */
	}
	/* most triggers are a word in text: ASSIGN starts with a quote, a blank, ':' or '=' */
	if (c != ':' && c != '=' && !(tcls(c) & (T_BLANK | T_QUOTE)))
		return 0;
	for (p1 = q; p1 <= q + 1; p1++) {
		if (p1 > q && !(tcls(tail_byte(s, q, lim, &more)) & T_QUOTE))
			break;
		for (p2 = p1;; p2++) {
			c = tail_byte(s, p2, lim, &more);
			no = 0;
			if (c == ':' || c == '=') {
				ops[no++] = p2 + 1;
				c2 = tail_byte(s, p2 + 1, lim, &more);
				if ((c == ':' && c2 == '=') || (c == '=' && c2 == '>'))
					ops[no++] = p2 + 2;
			}
			for (i = 0; i < no; i++) {
				for (p3 = ops[i];; p3++) {
					tail_value(s, rt, p3, lim, closing, e, &ne, &more);
					cq = tail_byte(s, p3, lim, &more);
					if (tcls(cq) & T_QUOTE)
						tail_value(s, rt, p3 + 1, lim, closing, e, &ne, &more);
					if (p3 - ops[i] == 4 || !(tcls(cq) & T_BLANK))
						break;
				}
			}
			if (p2 - p1 == 4 || !(tcls(c) & T_BLANK))
				break;
		}
	}
	return more && !closing ? TAIL_MORE : (int)ne;
}

/* USERINFO from te: user (no ':'), ':', password (1..256 bytes, no '@'), '@'. One end at most. */
static int
tail_userinfo(const struct scan_stream *s, uint64_t te, uint64_t lim, int closing, uint64_t *e)
{
	uint64_t r, r2;
	int more = 0, c;

	for (r = te;; r++) {
		if ((c = tail_byte(s, r, lim, &more)) < 0)
			return closing ? 0 : TAIL_MORE;
		if (!(tcls(c) & T_USER))
			break;
		if (r - te == 128)
			return 0;
	}
	if (c != ':')
		return 0;
	for (r2 = r + 1;; r2++) {
		if ((c = tail_byte(s, r2, lim, &more)) < 0)
			return closing ? 0 : TAIL_MORE;
		if (!(tcls(c) & T_PASS))
			break;
		if (r2 - (r + 1) == 256)
			return 0;
	}
	if (c != '@' || r2 == r + 1)
		return 0;
	e[0] = r2 + 1;
	return 1;
}

/* Ends of rule r's tail from trigger end te, ascending; TAIL_MORE if bytes past lim are needed. */
static int
tail_ends(const struct scan_stream *s, size_t r, uint64_t te, uint64_t lim, int closing,
    uint64_t e[static TAIL_ENDS_MAX])
{
	const struct scan_rule_rt *rt = &s->db->rt[r];
	int n, i, j;

	if (rt->tail == SCAN_TAIL_USERINFO)
		return tail_userinfo(s, te, lim, closing, e);
	if ((n = tail_assign(s, rt, te, lim, closing, e)) <= 1)
		return n;
	for (i = 1; i < n; i++) {
		uint64_t x = e[i];

		for (j = i; j > 0 && e[j - 1] > x; j--)
			e[j] = e[j - 1];
		e[j] = x;
	}
	return n;
}

/*
 * Hands the ends of trigger end te of tail rule r to rule_end (ascending, once each: an end
 * goes with the first, so the lowest, trigger end that reaches it).
 */
static int
tail_deliver(struct scan_stream *s, size_t r, struct tail_st *ts, uint64_t te, const uint64_t *e,
    int n)
{
	int i, rc;

	for (i = 0; i < n; i++) {
		if (e[i] <= ts->last)
			continue;
		ts->last = e[i];
		if ((rc = rule_end(s, r, e[i], te)) != 0)
			return rc;
	}
	return 0;
}

/*
 * SCAN_TAIL_LINES (kubernetes-secret-manifest after "kind: Secret\n"): the tail is made of whole
 * lines, each "\r?\n"-terminated line read one of three ways (a body without '\r'):
 *   other   [ \t]*[^\s-][^\r\n]*         the object's lines before the block (state A)
 *   header  [ \t]*(?:data|stringData):[ \t]*   A -> B
 *   entry   [ \t]+[A-Za-z0-9._-]+:[ \t]*[^\r\n]+   B -> B, and the rule ends after it
 * (the last entry may also end at the stream's end without a newline). Every trigger ends at a
 * line start, where the tail starts in A, so one follower reads the lines for all of them: the
 * states it holds are the union of every trigger's, its ends the union of their ends, found in
 * order line by line, each handed on as soon as its line is in (before the sweep). It stops
 * when no state is left, or past the last trigger + span (later ends are too long for any start
 * and would be dropped by the start search anyway), and jumps to the next queued trigger.
 */
#define LN_A 1u
#define LN_B 2u

static int
ln_other(const uint8_t *b, size_t n)
{
	size_t i = 0;

	while (i < n && (b[i] == ' ' || b[i] == '\t'))
		i++;
	return i < n && b[i] != '-' && !(b[i] >= '\t' && b[i] <= '\r'); /* [^\s-] */
}

static int
ln_header(const uint8_t *b, size_t n)
{
	static const char d[] = "data:", sd[] = "stringData:";
	size_t i = 0, k;

	while (i < n && (b[i] == ' ' || b[i] == '\t'))
		i++;
	if (i + 5 <= n && b[i] == 'd') {
		for (k = 0; k < 5 && b[i + k] == (uint8_t)d[k]; k++)
			;
		if (k < 5)
			return 0;
		i += 5;
	} else if (i + 11 <= n && b[i] == 's') {
		for (k = 0; k < 11 && b[i + k] == (uint8_t)sd[k]; k++)
			;
		if (k < 11)
			return 0;
		i += 11;
	} else {
		return 0;
	}
	while (i < n && (b[i] == ' ' || b[i] == '\t'))
		i++;
	return i == n;
}

static int
ln_entry(const uint8_t *b, size_t n)
{
	size_t i = 0, k;

	while (i < n && (b[i] == ' ' || b[i] == '\t'))
		i++;
	if (i == 0)
		return 0;
	for (k = i; i < n && (tcls(b[i]) & T_ID); i++)
		;
	return i > k && i < n && b[i] == ':' && n - i >= 2;
}

static int
lines_end(struct scan_stream *s, size_t r, struct tail_st *ts, uint64_t e)
{
	if (e <= ts->last)
		return 0;
	ts->last = e;
	return rule_end(s, r, e, 0);
}

static void
lines_off(struct scan_stream *s, struct tail_st *ts)
{
	ts->on = 0;
	s->lines_on--;
}

static int
lines_run(struct scan_stream *s, size_t r, struct tail_st *ts, uint64_t lim, int closing)
{
	const uint64_t span = s->db->rt[r].span;
	int rc;

	for (;;) {
		const uint8_t *b, *nl;
		size_t n;
		unsigned int st;
		int o, h, d;

		if (!ts->on) {
			if (ts->h == ts->n)
				return 0;
			ts->p = ts->q[ts->h];
			ts->st = LN_A;
			ts->on = 1;
			s->lines_on++;
		}
		/* triggers that end at this line's start join in (they are queued in order) */
		while (ts->h < ts->n && ts->q[ts->h] <= ts->p) {
			ts->st |= LN_A;
			ts->stop = ts->q[ts->h] + span;
			ts->h++;
			s->tails_waiting--;
		}
		if (ts->st == 0 || ts->p > ts->stop) {
			lines_off(s, ts);
			continue;
		}
		b = at(s, ts->p);
		if ((nl = memchr(b, '\n', (size_t)(lim - ts->p))) == NULL) {
			/* the line is not all in: at the close an entry may end the stream */
			n = (size_t)(lim - ts->p);
			if (closing) {
				if ((ts->st & LN_B) && n > 0 && memchr(b, '\r', n) == NULL &&
				    ln_entry(b, n) && (rc = lines_end(s, r, ts, lim)) != 0)
					return rc;
				lines_off(s, ts);
				continue;
			}
			if (lim - ts->p > span)
				lines_off(s, ts); /* too long for any end: and the window moves on */
			return 0;
		}
		n = (size_t)(nl - b);
		if (n > 0 && b[n - 1] == '\r')
			n--;
		o = h = d = 0;
		if (memchr(b, '\r', n) == NULL) {
			o = ln_other(b, n);
			h = ln_header(b, n);
			d = ln_entry(b, n);
		}
		if ((ts->st & LN_B) && d &&
		    (rc = lines_end(s, r, ts, ts->p + (uint64_t)(nl - b) + 1)) != 0)
			return rc;
		st = ((ts->st & LN_A) && o ? LN_A : 0) |
		    (((ts->st & LN_A) && h) || ((ts->st & LN_B) && d) ? LN_B : 0);
		ts->st = (uint8_t)st;
		ts->p += (uint64_t)(nl - b) + 1;
	}
}

/*
 * Follows the queued triggers of every tail rule as far as the bytes fed allow (all if closing).
 * lines: the SCAN_TAIL_LINES followers too (only once the block's triggers are all queued).
 */
static int
tails_run(struct scan_stream *s, int closing, int lines)
{
	const uint64_t lim = pos_of(s);
	uint64_t e[TAIL_ENDS_MAX];
	size_t t;
	int n, rc;

	for (t = 0; t < s->db->ntails && (s->tails_waiting > 0 || s->lines_on > 0); t++) {
		const size_t r = s->db->tails[t];
		struct tail_st *ts = &s->ts[t];

		if (s->db->rt[r].tail == SCAN_TAIL_LINES) {
			if (lines && (rc = lines_run(s, r, ts, lim, closing)) != 0)
				return rc;
			goto compact;
		}
		while (ts->h < ts->n) {
			const uint64_t te = ts->q[ts->h];

			if ((n = tail_ends(s, r, te, lim, closing, e)) == TAIL_MORE)
				break;
			ts->h++;
			s->tails_waiting--;
			if ((rc = tail_deliver(s, r, ts, te, e, n)) != 0)
				return rc;
		}
 compact:
		if (ts->h == ts->n) {
			ts->h = ts->n = 0;
		} else if (ts->h > 0) {
			memmove(ts->q, ts->q + ts->h, (ts->n - ts->h) * sizeof(*ts->q));
			ts->n -= ts->h;
			ts->h = 0;
		}
	}
	return 0;
}

static int
on_hs_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
    void *ctx)
{
	struct scan_stream *s = ctx;
	struct tail_st *ts;
	uint64_t e[TAIL_ENDS_MAX];
	int r, n;

	(void)from;
	(void)flags;
	if (id >= s->db->nrules)
		id = s->db->hs_rule[id - s->db->nrules]; /* a rule split in several (db.c alt_split) */
	if (s->db->rt[id].tail != SCAN_TAIL_NONE) {
		/*
		 * A trigger: followed now when no earlier one of the rule waits and the block holds
		 * its tail (the whole block is in the window before Vectorscan sees it), else queued
		 * behind and followed after the block (tails_run).
		 */
		ts = &s->ts[s->db->rt[id].tail_idx];
		if (ts->h == ts->n && s->db->rt[id].tail != SCAN_TAIL_LINES &&
		    (n = tail_ends(s, id, to, pos_of(s), 0, e)) != TAIL_MORE) {
			r = tail_deliver(s, id, ts, to, e, n);
		} else if (ts->n == ts->cap &&
		    grow((void **)&ts->q, &ts->cap, ts->n + 1, sizeof(*ts->q)) != 0) {
			r = VT_ERR_NOMEM;
		} else {
			ts->q[ts->n++] = to;
			s->tails_waiting++;
			r = 0;
		}
		if (r != 0) {
			s->err = r;
			return 1;
		}
		return 0;
	}
	if ((r = rule_end(s, id, to, 0)) != 0) {
		s->err = r;
		return 1;
	}
	return 0;
}

/* ---- fingerprints --------------------------------------------------------------------------- */
/* A token [ts, te) whose slot key passed the bloom bits: note the values the set anchors there. */
static int
token_hit(struct scan_stream *s, uint64_t key, uint64_t ts, uint64_t te)
{
	const struct scan_fpset *f = s->fps;
	uint64_t n = te - ts;
	size_t mask, i;
	int r;

	mask = f->nslots - 1;
	for (i = (size_t)key & mask; f->slot_key[i] != 0; i = (i + 1) & mask) {
		const struct scan_fp_entry *e;
		struct fp_pend *p;

		if (f->slot_key[i] != key)
			continue;
		e = &f->ent[f->slot_idx[i]];
		if (e->anchor_off > ts || (uint64_t)e->anchor_off + n > e->len ||
		    ts - e->anchor_off < s->fp_floor)
			continue;
		if (s->npend >= FP_PEND_MAX)
			return 0;
		if ((r = grow((void **)&s->pend, &s->cappend, s->npend + 1, sizeof(*s->pend))) != 0)
			return r;
		p = &s->pend[s->npend++];
		p->vs = ts - e->anchor_off;
		p->ve = p->vs + e->len;
		p->d = (p->ve > te ? p->ve : te) + 1;
		p->ent = f->slot_idx[i];
	}
	return 0;
}

/* A token [ts, te) ended: SipHash it and note the values the fingerprint set anchors there. */
static int
token_done(struct scan_stream *s, uint64_t k0, uint64_t k1, uint64_t ts, uint64_t te)
{
	uint64_t key = scan_fp_slotkey(scan_siphash24(k0, k1, at(s, ts), (size_t)(te - ts)));

	if (!scan_fp_bloom_has(s->fps, key))
		return 0;
	return token_hit(s, key, ts, te);
}

/*
 * SipHash-2-4 of up to SCAN_SIP_LANES strings base[off[l] ..] at once. The scalar path hashes
 * them one by one; the AVX-512F one in 8 lanes of 64 bits, block by block (gathered), a lane's
 * state updated only while it has blocks (masked), its last block (the tail bytes, read as the
 * string's last 8, and the length) built first. A string shorter than 8 bytes (never a token) or
 * of SIP_VEC_MAX bytes or more (it would make every lane wait for its blocks) is hashed alone.
 */
#define SIP_VEC_MAX 64

static void
sip_batch_scalar(uint64_t k0, uint64_t k1, const uint8_t *base, const size_t *off,
    const size_t *n, size_t cnt, uint64_t *out)
{
	size_t l;

	for (l = 0; l < cnt; l++)
		out[l] = scan_siphash24(k0, k1, base + off[l], n[l]);
}

static void (*sip_batch)(uint64_t, uint64_t, const uint8_t *, const size_t *, const size_t *,
    size_t, uint64_t *) = sip_batch_scalar;

#if defined(__x86_64__) && defined(__GNUC__) && defined(__LP64__)
#include <immintrin.h>

#define SIP_ROUND_X8                                                                           \
	do {                                                                                   \
		v0 = _mm512_add_epi64(v0, v1); v1 = _mm512_rol_epi64(v1, 13);                  \
		v1 = _mm512_xor_si512(v1, v0); v0 = _mm512_rol_epi64(v0, 32);                  \
		v2 = _mm512_add_epi64(v2, v3); v3 = _mm512_rol_epi64(v3, 16);                  \
		v3 = _mm512_xor_si512(v3, v2);                                                 \
		v0 = _mm512_add_epi64(v0, v3); v3 = _mm512_rol_epi64(v3, 21);                  \
		v3 = _mm512_xor_si512(v3, v0);                                                 \
		v2 = _mm512_add_epi64(v2, v1); v1 = _mm512_rol_epi64(v1, 17);                  \
		v1 = _mm512_xor_si512(v1, v2); v2 = _mm512_rol_epi64(v2, 32);                  \
	} while (0)

__attribute__((target("avx512f"))) static void
sip_batch_avx512(uint64_t k0, uint64_t k1, const uint8_t *base, const size_t *off,
    const size_t *n, size_t cnt, uint64_t *out)
{
	const __m512i eight = _mm512_set1_epi64(8);
	__mmask8 in = (__mmask8)((1u << cnt) - 1), on;
	__m512i nv, ptrv, fullv, lastv, left, v0, v1, v2, v3;
	uint64_t h[SCAN_SIP_LANES], steps, j;
	size_t l;

	/* lanes of 8 .. SIP_VEC_MAX - 1 bytes (a token's lengths): the others are hashed alone */
	nv = _mm512_maskz_loadu_epi64(in, (const void *)n);
	ptrv = _mm512_add_epi64(_mm512_set1_epi64((long long)(uintptr_t)base),
	    _mm512_maskz_loadu_epi64(in, (const void *)off));
	on = _mm512_mask_cmpge_epu64_mask(in, nv, eight) &
	    _mm512_mask_cmplt_epu64_mask(in, nv, _mm512_set1_epi64(SIP_VEC_MAX));
	fullv = _mm512_srli_epi64(nv, 3);
	/* the last block: the tail bytes (the last 8 bytes shifted down; none: a shift by 64) */
	left = _mm512_slli_epi64(_mm512_and_si512(nv, _mm512_set1_epi64(7)), 3);
	lastv = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), on,
	    _mm512_sub_epi64(_mm512_add_epi64(ptrv, nv), eight), NULL, 1);
	lastv = _mm512_or_si512(_mm512_srlv_epi64(lastv,
	    _mm512_sub_epi64(_mm512_set1_epi64(64), left)), _mm512_slli_epi64(nv, 56));
	steps = _mm512_mask_reduce_max_epu64(on, fullv) + 1;
	v0 = _mm512_set1_epi64((long long)(k0 ^ 0x736f6d6570736575ull));
	v1 = _mm512_set1_epi64((long long)(k1 ^ 0x646f72616e646f6dull));
	v2 = _mm512_set1_epi64((long long)(k0 ^ 0x6c7967656e657261ull));
	v3 = _mm512_set1_epi64((long long)(k1 ^ 0x7465646279746573ull));
	for (j = 0; j < steps && on != 0; j++) {
		__m512i jv = _mm512_set1_epi64((long long)j);
		__mmask8 ld = _mm512_mask_cmpgt_epu64_mask(on, fullv, jv);
		__mmask8 up = _mm512_mask_cmpge_epu64_mask(on, fullv, jv);
		__m512i m = _mm512_mask_i64gather_epi64(lastv, ld, ptrv, NULL, 1);
		__m512i s0 = v0, s1 = v1, s2 = v2, s3 = v3;

		ptrv = _mm512_add_epi64(ptrv, eight);
		v3 = _mm512_xor_si512(v3, m);
		SIP_ROUND_X8;
		SIP_ROUND_X8;
		v0 = _mm512_xor_si512(v0, m);
		v0 = _mm512_mask_mov_epi64(s0, up, v0);
		v1 = _mm512_mask_mov_epi64(s1, up, v1);
		v2 = _mm512_mask_mov_epi64(s2, up, v2);
		v3 = _mm512_mask_mov_epi64(s3, up, v3);
	}
	v2 = _mm512_xor_si512(v2, _mm512_set1_epi64(0xff));
	SIP_ROUND_X8;
	SIP_ROUND_X8;
	SIP_ROUND_X8;
	SIP_ROUND_X8;
	_mm512_storeu_si512((void *)h, _mm512_xor_si512(_mm512_xor_si512(v0, v1),
	    _mm512_xor_si512(v2, v3)));
	for (l = 0; l < cnt; l++)
		out[l] = (on >> l) & 1 ? h[l] : scan_siphash24(k0, k1, base + off[l], n[l]);
}
#endif

void
scan_siphash24_batch(uint64_t k0, uint64_t k1, const uint8_t *base, const size_t *off,
    const size_t *n, size_t cnt, uint64_t *out)
{
	VT_ASSERT(cnt <= SCAN_SIP_LANES);
	sip_batch(k0, k1, base, off, n, cnt, out);
}

/*
 * Tokens that ended, hashed and looked up together (token_flush), in the order they ended: token
 * l is [off[l], off[l] + n[l]) of the window, i.e. starts at stream offset hb_s + off[l].
 */
struct tok_batch {
	size_t off[SCAN_SIP_LANES];
	size_t n[SCAN_SIP_LANES];
	size_t cnt;
};

static int
token_flush(struct scan_stream *s, uint64_t k0, uint64_t k1, struct tok_batch *bt)
{
	uint64_t h[SCAN_SIP_LANES];
	size_t l, cnt = bt->cnt;
	unsigned int hits = 0;
	int r;

	bt->cnt = 0;
	if (cnt == 0)
		return 0;
	for (l = 0; l < cnt; l++)
		VT_ASSERT(bt->off[l] + bt->n[l] <= s->hb_len); /* as at() checks */
	sip_batch(k0, k1, s->hb, bt->off, bt->n, cnt, h);
	for (l = 0; l < cnt; l++) {
		h[l] = scan_fp_slotkey(h[l]);
		hits |= (unsigned int)scan_fp_bloom_has(s->fps, h[l]) << l;
	}
	for (; hits != 0; hits &= hits - 1) {
		l = (size_t)__builtin_ctz(hits);
		if ((r = token_hit(s, h[l], s->hb_s + bt->off[l], s->hb_s + bt->off[l] + bt->n[l])) !=
		    0)
			return r;
	}
	return 0;
}

/* Bit j set when p[j] (j < w <= 64) is a delimiter. */
static uint64_t
delim_mask_table(const uint8_t *p, size_t w)
{
	uint64_t m = 0;
	size_t j;

	for (j = 0; j < w; j++)
		m |= (uint64_t)SCAN_DELIM[p[j]] << j;
	return m;
}

/* The masks of p[0 .. n), 64 bytes each: m[q] is delim_mask_table(p + 64 q, ...). */
static void
delim_masks_table(const uint8_t *p, size_t n, uint64_t *m)
{
	size_t q;

	for (q = 0; q * 64 < n; q++)
		m[q] = delim_mask_table(p + q * 64, n - q * 64 < 64 ? n - q * 64 : 64);
}

static void (*delim_masks)(const uint8_t *, size_t, uint64_t *) = delim_masks_table;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/*
 * The same with AVX2, 32 bytes per step, or AVX-512BW, 64 (chosen at run time): a byte is a
 * delimiter when the row bit of its high nibble (rows 0-7, ASCII) is set in its low nibble's
 * entry. The two 16-byte tables are built from SCAN_DELIM by delim_tables_init.
 */
static uint8_t DELIM_HI[16], DELIM_LO[16];

__attribute__((target("avx2"))) static void
delim_masks_avx2(const uint8_t *p, size_t n, uint64_t *m)
{
	const __m256i hi_t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const void *)DELIM_HI));
	const __m256i lo_t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const void *)DELIM_LO));
	const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
	size_t q, j;

	for (q = 0; q * 64 + 64 <= n; q++) {
		m[q] = 0;
		for (j = 0; j < 64; j += 32) {
			__m256i v = _mm256_loadu_si256((const void *)(p + q * 64 + j));
			__m256i h = _mm256_shuffle_epi8(hi_t,
			    _mm256_and_si256(_mm256_srli_epi16(v, 4), nib));
			__m256i l = _mm256_shuffle_epi8(lo_t, _mm256_and_si256(v, nib));
			uint32_t plain = (uint32_t)_mm256_movemask_epi8(
			    _mm256_cmpeq_epi8(_mm256_and_si256(h, l), zero));

			m[q] |= (uint64_t)(uint32_t)~plain << j;
		}
	}
	if (q * 64 < n)
		m[q] = delim_mask_table(p + q * 64, n - q * 64);
}

__attribute__((target("avx512bw"))) static void
delim_masks_avx512(const uint8_t *p, size_t n, uint64_t *m)
{
	const __m512i hi_t = _mm512_broadcast_i32x4(_mm_loadu_si128((const void *)DELIM_HI));
	const __m512i lo_t = _mm512_broadcast_i32x4(_mm_loadu_si128((const void *)DELIM_LO));
	const __m512i nib = _mm512_set1_epi8(0x0f);
	size_t q;

	for (q = 0; q * 64 < n; q++) {
		__mmask64 in = n - q * 64 >= 64 ? ~(__mmask64)0 :
		    ((__mmask64)1 << (n - q * 64)) - 1;
		__m512i v = _mm512_maskz_loadu_epi8(in, (const void *)(p + q * 64));
		__m512i h = _mm512_shuffle_epi8(hi_t,
		    _mm512_and_si512(_mm512_srli_epi16(v, 4), nib));
		__m512i l = _mm512_shuffle_epi8(lo_t, _mm512_and_si512(v, nib));

		m[q] = (uint64_t)_mm512_mask_test_epi8_mask(in, h, l);
	}
}

__attribute__((constructor)) static void
delim_tables_init(void)
{
	unsigned c;

	for (c = 0; c < 8; c++)
		DELIM_HI[c] = (uint8_t)(1u << c);
	for (c = 0; c < 128; c++)
		if (SCAN_DELIM[c])
			DELIM_LO[c & 15] |= (uint8_t)(1u << (c >> 4));
	for (c = 128; c < 256; c++)
		VT_ASSERT(!SCAN_DELIM[c]); /* rows 8-15 are not in the tables */
	scan_fp_simd(2);
}
#endif

void
scan_fp_simd(int level)
{
	delim_masks = delim_masks_table;
	sip_batch = sip_batch_scalar;
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (level >= 1 && __builtin_cpu_supports("avx2"))
		delim_masks = delim_masks_avx2;
	if (level >= 2 && __builtin_cpu_supports("avx512bw"))
		delim_masks = delim_masks_avx512;
#if defined(__LP64__)
	if (level >= 2 && __builtin_cpu_supports("avx512f"))
		sip_batch = sip_batch_avx512;
#endif
#else
	(void)level;
#endif
}

#define DELIM_CHUNK 4096 /* bytes whose delimiter masks are made at once */

/*
 * Cuts the block at delimiters, 64 bytes at a time. From the delimiter mask d, a token's end is
 * a delimiter right after a token byte; it ended a token of at least SCAN_FP_MIN_LEN (8) bytes
 * when the 8 bytes before it are token bytes: bit j of the AND of the token mask shifted by
 * 1..8 (the 8 bytes before the word come from the run carried over). Only those ends are
 * visited; the token's start is just after the last delimiter before it (or the start carried
 * over from earlier words). Tokens of 8 .. max_tok bytes (no anchor is longer) are hashed,
 * SCAN_SIP_LANES at a time, and looked up in the order they ended.
 */
static int
tokenize(struct scan_stream *s, const uint8_t *b, size_t k, uint64_t base)
{
	const struct scan_fpset *f = s->fps;
	const uint8_t *key = secmem_ptr(f->keys);
	uint64_t k0 = scan_le64(key), k1 = scan_le64(key + 8);
	uint64_t maxt = f->max_tok < SCAN_FP_MAX_LEN ? f->max_tok : SCAN_FP_MAX_LEN;
	uint64_t tok_s = s->tok_s;
	struct tok_batch bt;
	uint64_t dm[DELIM_CHUNK / 64];
	size_t i, w;
	int r, in_tok = s->in_tok;

	if (f->nent == 0)
		return 0; /* nothing to look up: s->in_tok is not used either */
	bt.cnt = 0;
	for (i = 0; i < k; i += w) {
		uint64_t d, t, ends, run, pre, lo, hi, o;

		w = k - i < 64 ? k - i : 64;
		if (i % DELIM_CHUNK == 0)
			delim_masks(b + i, k - i < DELIM_CHUNK ? k - i : DELIM_CHUNK, dm);
		d = dm[i % DELIM_CHUNK / 64];
		t = ~d & (w == 64 ? ~(uint64_t)0 : ((uint64_t)1 << w) - 1);
		ends = d & ((t << 1) | (uint64_t)in_tok);
		/* the token bytes just before this word (at most 8 matter) */
		run = in_tok ? base + i - tok_s : 0;
		pre = run >= 8 ? 0xff : (((uint64_t)1 << run) - 1) << (8 - run);
		/* x = t:pre as 72 bits (hi:lo); a = x & x >> 1 & ... & x >> 7, in three doublings */
		lo = (t << 8) | pre;
		hi = t >> 56;
		lo &= (lo >> 1) | (hi << 63);
		hi &= hi >> 1;
		lo &= (lo >> 2) | (hi << 62);
		hi &= hi >> 2;
		lo &= (lo >> 4) | (hi << 60);
		for (ends &= lo; ends != 0; ends &= ends - 1) {
			unsigned int j = (unsigned int)__builtin_ctzll(ends);
			uint64_t before = d & (((uint64_t)1 << j) - 1), ts;

			/* after the last delimiter before j; none: the word's first byte, or earlier */
			if (before != 0)
				ts = base + i + (uint64_t)(64 - __builtin_clzll(before));
			else
				ts = in_tok ? tok_s : base + i;
			o = base + i + j;
			/* kept when not longer than max_tok (without a branch: that one is erratic) */
			bt.off[bt.cnt] = (size_t)(ts - s->hb_s);
			bt.n[bt.cnt] = (size_t)(o - ts);
			bt.cnt += o - ts <= maxt;
			if (bt.cnt == SCAN_SIP_LANES && (r = token_flush(s, k0, k1, &bt)) != 0)
				return r;
		}
		/* the token in progress at the end of the word, if any */
		if ((t >> (w - 1)) & 1) {
			if (d != 0)
				tok_s = base + i + (uint64_t)(64 - __builtin_clzll(d));
			else if (!in_tok)
				tok_s = base + i;
			in_tok = 1;
		} else {
			in_tok = 0;
		}
	}
	s->tok_s = tok_s;
	s->in_tok = in_tok;
	return token_flush(s, k0, k1, &bt);
}

static int
pend_cmp(const void *a, const void *b)
{
	const struct fp_pend *x = a, *y = b;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	if (x->ent != y->ent)
		return x->ent < y->ent ? -1 : 1;
	if (x->vs != y->vs)
		return x->vs < y->vs ? -1 : 1;
	return 0;
}

static int
fp_confirm(struct scan_stream *s, const struct fp_pend *p)
{
	const struct scan_fpset *f = s->fps;
	const struct scan_fp_entry *e = &f->ent[p->ent];
	const char *label = f->labels + e->label_off;
	uint8_t mac[HMAC_MAX_LEN];
	size_t maclen = 0, i;
	int r, same;

	if ((r = hmac_compute(HMAC_SHA256, secmem_ptr(f->keys) + 16, 32, at(s, p->vs), e->len, mac,
	    &maclen)) != 0)
		return r;
	same = maclen == 32 && sodium_memcmp(mac, e->mac, 32) == 0;
	sodium_memzero(mac, sizeof(mac));
	if (!same)
		return 0;
	for (i = 0; i < s->nseen; i++) {
		const struct fp_seen *q = &s->seen[i];

		if (q->vs < p->ve && p->vs < q->ve && strcmp(q->label, label) == 0)
			return 0; /* this label was already reported over these bytes */
	}
	if ((r = grow((void **)&s->seen, &s->capseen, s->nseen + 1, sizeof(*s->seen))) != 0)
		return r;
	s->seen[s->nseen].label = label;
	s->seen[s->nseen].vs = p->vs;
	s->seen[s->nseen].ve = p->ve;
	s->nseen++;
	return add_finding(s, 1, 0, label, p->vs, p->ve, p->d);
}

/* Confirms the pending values decided by pos (at the close: all whose bytes are all in). */
static int
fp_sweep(struct scan_stream *s, uint64_t pos, int closing)
{
	size_t i, j;
	int r;

	if (s->npend == 0)
		goto prune;
	if (s->npend > 1)
		qsort(s->pend, s->npend, sizeof(*s->pend), pend_cmp);
	for (i = 0; i < s->npend && (closing || s->pend[i].d <= pos); i++) {
		if (s->pend[i].ve <= pos && (r = fp_confirm(s, &s->pend[i])) != 0)
			return r;
	}
	memmove(s->pend, s->pend + i, (s->npend - i) * sizeof(*s->pend));
	s->npend -= i;
 prune:
	/* A value reported earlier can no longer overlap a value that ends after pos. */
	for (i = j = 0; i < s->nseen; i++) {
		if (s->seen[i].ve + SCAN_FP_MAX_LEN > pos)
			s->seen[j++] = s->seen[i];
	}
	s->nseen = j;
	return 0;
}

/* ---- blocks --------------------------------------------------------------------------------- */
static int
sweep(struct scan_stream *s, int closing)
{
	uint64_t pos = pos_of(s);
	size_t r;
	int rc;

	for (r = 0; r < s->db->nrules; r++) {
		if (s->rs[r].open && (rc = rule_settle(s, r, pos, closing)) != 0)
			return rc;
	}
	if (s->fps != NULL && (rc = fp_sweep(s, pos, closing)) != 0)
		return rc;
	emit(s, pos, closing);
	return 0;
}

/* Scans the k filtered bytes just appended at hb[off ..). */
static int
block(struct scan_stream *s, size_t off, size_t k)
{
	uint64_t base = s->hb_s + off;
	int r;

	if (k == 0)
		return 0;
	/* triggers that waited for these bytes first: their ends precede the block's */
	if (s->tails_waiting > 0 && (r = tails_run(s, 0, 0)) != 0)
		return r;
	if (s->hs != NULL && s->db->api->scan_stream(s->hs, (const char *)s->hb + off,
	    (unsigned int)k, 0, s->scratch, on_hs_match, s) != HS_SUCCESS && s->err == 0)
		return VT_ERR_INTERNAL;
	if (s->err != 0)
		return s->err;
	if ((s->tails_waiting > 0 || s->lines_on > 0) && (r = tails_run(s, 0, 1)) != 0)
		return r;
	if (s->fps != NULL && (r = tokenize(s, s->hb + off, k, base)) != 0)
		return r;
	return sweep(s, 0);
}

/* Makes room for SCAN_BLOCK more bytes, keeping the last win bytes. */
static void
make_room(struct scan_stream *s)
{
	size_t keep;

	if (s->hb_len + SCAN_BLOCK <= s->hb_cap)
		return;
	keep = s->hb_len < s->win ? s->hb_len : s->win;
	memmove(s->hb, s->hb + (s->hb_len - keep), keep);
	s->hb_s += s->hb_len - keep;
	s->hb_len = keep;
	scan_gapmap_prune(&s->gm, s->hb_s);
}

/*
 * Room for win bytes of look-back: two windows and a block, so the window is slid down once per
 * window of input, not per block. Keeps what the buffer holds; never shrinks it (the old one is
 * wiped: it held output).
 */
static int
hb_reserve(struct scan_stream *s, size_t win)
{
	size_t cap = 2 * win + SCAN_BLOCK;
	uint8_t *hb;

	if (s->hb != NULL && win <= s->win)
		return 0;
	if ((hb = malloc(cap)) == NULL)
		return VT_ERR_NOMEM;
	if (s->hb != NULL) {
		memcpy(hb, s->hb, s->hb_len);
		sodium_memzero(s->hb, s->hb_cap);
		free(s->hb);
	}
	s->hb = hb;
	s->hb_cap = cap;
	s->win = win;
	return 0;
}

int
scan_stream_open(const struct scan_db *db, const struct scan_fpset *fps, struct scan_stream **out)
{
	struct scan_stream *s;
	int r = VT_ERR_NOMEM;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return VT_ERR_NOMEM;
	s->db = db;
	s->fps = fps;
	if (hb_reserve(s, scan_stream_window(db, fps)) != 0)
		goto out;
	if (db->nrules > 0 && (s->rs = calloc(db->nrules, sizeof(*s->rs))) == NULL)
		goto out;
	if (db->ntails > 0 && (s->ts = calloc(db->ntails, sizeof(*s->ts))) == NULL)
		goto out;
	if ((s->md = pcre2_match_data_create(1, NULL)) == NULL)
		goto out;
	if (db->hs != NULL && db->api->open_stream(db->hs, 0, &s->hs) != HS_SUCCESS) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
 out:
	if (s != NULL) {
		free(s->hb);
		free(s->rs);
		free(s->ts);
		pcre2_match_data_free(s->md);
		free(s);
	}
	return r;
}

/*
 * Copies the labels that reported values (seen[]) and findings not handed out yet (out[]) point
 * to into a buffer of the stream's own, so the set they came from may go (labels are names, not
 * secrets: "<secret uuid>/<field>"). The previous copies are freed.
 */
static int
labels_keep(struct scan_stream *s)
{
	size_t need = 0, o = 0, i, l;
	char *a = NULL;

	for (i = 0; i < s->nout; i++) {
		if (s->out[i].kind == 1)
			need += strlen(s->out[i].m.label) + 1;
	}
	for (i = 0; i < s->nseen; i++)
		need += strlen(s->seen[i].label) + 1;
	if (need > 0 && (a = malloc(need)) == NULL)
		return VT_ERR_NOMEM;
	for (i = 0; i < s->nout; i++) {
		if (s->out[i].kind != 1)
			continue;
		l = strlen(s->out[i].m.label) + 1;
		memcpy(a + o, s->out[i].m.label, l);
		s->out[i].m.label = a + o;
		o += l;
	}
	for (i = 0; i < s->nseen; i++) {
		l = strlen(s->seen[i].label) + 1;
		memcpy(a + o, s->seen[i].label, l);
		s->seen[i].label = a + o;
		o += l;
	}
	free(s->lab);
	s->lab = a;
	s->nlab = need;
	return 0;
}

/*
 * The tokenizer's state at the end of the window, read back from its bytes (tokens depend on
 * SCAN_DELIM only): 0 when the token in progress started before the window and may still be
 * short enough to be an anchor (its start is unknown).
 */
static int
tok_resume(const struct scan_stream *s, int *in_tok, uint64_t *tok_s)
{
	size_t j = s->hb_len;

	while (j > 0 && !SCAN_DELIM[s->hb[j - 1]])
		j--;
	*in_tok = j < s->hb_len;
	*tok_s = s->hb_s + j;
	/* From before the window: longer than SCAN_FP_MAX_LEN (never looked up) or unknown. */
	return j > 0 || s->hb_s == 0 || !*in_tok || s->hb_len > SCAN_FP_MAX_LEN;
}

int
scan_stream_swap_fps(struct scan_stream *s, const struct scan_fpset *fps)
{
	const struct scan_fpset *old = s->fps;
	uint64_t pos = pos_of(s), tok_s = s->tok_s;
	int r, in_tok = s->in_tok;

	if (fps == old)
		return 1;
	if (s->err != 0 || s->stopped) {
		s->fps = fps; /* reads nothing any more (scan_stream_close frees only) */
		return 1;
	}
	/* Pending values index the old set's entries: they are decided with it first. */
	if (s->npend > 0)
		return 0;
	/* The tokenizer ran only with a non-empty set: otherwise its state is read back. */
	if (fps != NULL && fps->nent > 0 && (old == NULL || old->nent == 0) &&
	    !tok_resume(s, &in_tok, &tok_s))
		return 0;
	/* A window for fingerprints; it never shrinks (make_room keeps win bytes). */
	if ((r = hb_reserve(s, scan_stream_window(s->db, fps))) != 0)
		return r;
	/* Reported labels keep deduping, waiting findings keep theirs: copied from the old set. */
	if ((r = labels_keep(s)) != 0)
		return r;
	/*
	 * Without a set, bytes up to the rules' look-back were safe (scan_stream_safe_orig) and may
	 * be released already: the new set's values must start at or after that.
	 */
	if (old == NULL) {
		uint64_t f = s->db->max_len > 0 ?
		    (pos + 1 > s->db->max_len ? pos + 1 - s->db->max_len : 0) : pos;

		if (f > s->fp_floor)
			s->fp_floor = f;
	}
	s->in_tok = in_tok;
	s->tok_s = tok_s;
	s->fps = fps;
	return 1;
}

static int
feed(struct scan_stream *s, const uint8_t *p, size_t n)
{
	int r;

	while (n > 0) {
		size_t slice = n < SCAN_BLOCK - SCAN_CR_RUN_MAX ? n : SCAN_BLOCK - SCAN_CR_RUN_MAX;
		size_t off;
		long k;

		make_room(s);
		off = s->hb_len;
		if ((k = scan_ansi_filter(&s->ansi, p, slice, s->hb + off, &s->gm)) < 0)
			return (int)k;
		s->hb_len += (size_t)k;
		if ((r = block(s, off, (size_t)k)) != 0)
			return r;
		p += slice;
		n -= slice;
		if (s->stopped)
			break;
	}
	return 0;
}

int
scan_stream_feed(struct scan_stream *s, const void *data, size_t n, scan_match_fn fn, void *ud)
{
	int r;

	if (s->err != 0)
		return s->err;
	if (s->stopped || n == 0)
		return 0;
	s->fn = fn;
	s->ud = ud;
	if (s->hs != NULL && (s->scratch = scan_db_scratch_get(s->db)) == NULL)
		return s->err = VT_ERR_NOMEM;
	r = feed(s, data, n);
	scan_db_scratch_put(s->db, s->scratch);
	s->scratch = NULL;
	if (r != 0)
		s->err = r;
	return r;
}

static int
finish(struct scan_stream *s)
{
	size_t off;
	long k;
	int r;

	make_room(s);
	off = s->hb_len;
	if ((k = scan_ansi_finish(&s->ansi, s->hb + off, &s->gm)) < 0)
		return (int)k;
	s->hb_len += (size_t)k;
	if ((r = block(s, off, (size_t)k)) != 0)
		return r;
	if (s->hs != NULL) {
		hs_stream_t *h = s->hs;

		s->hs = NULL;
		if (s->db->api->close_stream(h, s->scratch, on_hs_match, s) != HS_SUCCESS &&
		    s->err == 0)
			return VT_ERR_INTERNAL;
		if (s->err != 0)
			return s->err;
	}
	if ((s->tails_waiting > 0 || s->lines_on > 0) && (r = tails_run(s, 1, 1)) != 0)
		return r;
	if (s->fps != NULL && s->in_tok) {
		const uint8_t *key = secmem_ptr(s->fps->keys);
		uint64_t n = pos_of(s) - s->tok_s;

		s->in_tok = 0;
		if (n >= SCAN_FP_MIN_LEN && n <= s->fps->max_tok && n <= SCAN_FP_MAX_LEN &&
		    s->fps->nent > 0 && (r = token_done(s, scan_le64(key), scan_le64(key + 8),
		    s->tok_s, pos_of(s))) != 0)
			return r;
	}
	return sweep(s, 1);
}

static void
stream_free(struct scan_stream *s)
{
	size_t r;

	if (s->hs != NULL)
		(void)s->db->api->close_stream(s->hs, NULL, NULL, NULL);
	for (r = 0; s->rs != NULL && r < s->db->nrules; r++)
		free(s->rs[r].e);
	for (r = 0; s->ts != NULL && r < s->db->ntails; r++)
		free(s->ts[r].q);
	free(s->ts);
	free(s->rs);
	if (s->hb != NULL) {
		sodium_memzero(s->hb, s->hb_cap);
		free(s->hb);
	}
	scan_gapmap_free(&s->gm);
	pcre2_match_data_free(s->md);
	free(s->pend);
	free(s->seen);
	free(s->lab);
	free(s->out);
	free(s);
}

int
scan_stream_close(struct scan_stream *s, scan_match_fn fn, void *ud)
{
	int r;

	if (s == NULL)
		return 0;
	r = s->err;
	if (r == 0 && !s->stopped) {
		s->fn = fn;
		s->ud = ud;
		if (s->hs != NULL && (s->scratch = scan_db_scratch_get(s->db)) == NULL) {
			r = VT_ERR_NOMEM;
		} else {
			r = finish(s);
			scan_db_scratch_put(s->db, s->scratch);
			s->scratch = NULL;
		}
	}
	stream_free(s);
	return r;
}

int
scan_buffer(const struct scan_db *db, const struct scan_fpset *fps, const void *data, size_t n,
    scan_match_fn fn, void *ud)
{
	struct scan_stream *s = NULL;
	int r;

	if ((r = scan_stream_open(db, fps, &s)) != 0)
		return r;
	if ((r = scan_stream_feed(s, data, n, fn, ud)) != 0) {
		(void)scan_stream_close(s, NULL, NULL);
		return r;
	}
	return scan_stream_close(s, fn, ud);
}

size_t
scan_db_stream_size(const struct scan_db *db)
{
	return db->hs_stream_bytes + sizeof(struct scan_stream) + 2 * scan_stream_window(db, NULL) +
	    SCAN_BLOCK + db->nrules * sizeof(struct rule_st) + db->ntails * sizeof(struct tail_st) +
	    64 /* PCRE2 match data */;
}

size_t
scan_stream_memory(const struct scan_stream *s)
{
	size_t m = s->db->hs_stream_bytes + sizeof(*s) + s->hb_cap + 64;
	size_t r;

	for (r = 0; r < s->db->nrules; r++)
		m += sizeof(struct rule_st) + s->rs[r].cap * sizeof(uint64_t);
	for (r = 0; r < s->db->ntails; r++)
		m += sizeof(struct tail_st) + s->ts[r].cap * sizeof(uint64_t);
	m += s->gm.cap * 2 * sizeof(uint64_t);
	m += s->cappend * sizeof(*s->pend) + s->capseen * sizeof(*s->seen) +
	    s->capout * sizeof(*s->out) + s->nlab;
	return m;
}

uint64_t
scan_stream_orig_pos(const struct scan_stream *s)
{
	return s->ansi.in_o;
}

uint64_t
scan_stream_safe_orig(const struct scan_stream *s)
{
	uint64_t pos = pos_of(s), safe = pos, o;
	size_t r, i;

	if (s->db->max_len > 0)
		safe = pos + 1 > s->db->max_len ? pos + 1 - s->db->max_len : 0;
	for (r = 0; r < s->db->nrules; r++) {
		if (s->rs[r].open && s->rs[r].cs < safe)
			safe = s->rs[r].cs;
	}
	if (s->fps != NULL) {
		uint64_t f = pos > SCAN_FP_MAX_LEN ? pos - SCAN_FP_MAX_LEN : 0;

		if (f < s->fp_floor)
			f = s->fp_floor;
		if (f < safe)
			safe = f;
		for (i = 0; i < s->npend; i++) {
			if (s->pend[i].vs < safe)
				safe = s->pend[i].vs;
		}
	}
	o = scan_ansi_unresolved(&s->ansi);
	for (i = 0; i < s->nout; i++) {
		if (s->out[i].m.start < o)
			o = s->out[i].m.start; /* found, not yet handed out (emit) */
	}
	if (safe >= pos)
		return o;
	if (safe < s->hb_s)
		safe = s->hb_s; /* never: everything pending lies in the window */
	if (scan_gapmap_orig(&s->gm, safe) < o)
		o = scan_gapmap_orig(&s->gm, safe);
	return o;
}
