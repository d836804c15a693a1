/*
 * Audit export bundles: the writer the server's export uses, the streaming verifier behind
 * `vaultterm audit verify`, and witness files. The verifier keeps one Merkle frontier for the rows
 * read so far and one saved at the last checkpoint, the last accepted checkpoint, and reusable
 * buffers for the current line and the decoded row: memory is O(log n) in the number of rows plus
 * the longest line. Rows and leaf hashes are public (an auditor holds the whole bundle), so they
 * are decoded with the table-driven codecs below rather than the constant-time ones of
 * base/encode.h, which cost several times the SHA-256 of the same row. Checks and messages:
 * docs/audit.md §7.9.
 */
#include "audit/bundle.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/hash.h"

#define LEAF_PREFIX "leaf "
#define CHECKPOINT_PREFIX "checkpoint "
#define ORIGIN_PREFIX "origin "
#define VKEY_PREFIX "vkey "
#define END_PREFIX "end "
#define FROM_PREFIX "from "
#define ROW_MISSING "-"
#define U64_DIGITS_MAX 20
#define LR_INITIAL ((size_t)64 << 10)
#define ROWBUF_INITIAL ((size_t)4 << 10)

/* Decimal u64 of exactly s[0 .. len): digits only, no leading zero (but "0"), no overflow. */
static int
dec_parse(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	*out = 0;
	if (len == 0 || len > U64_DIGITS_MAX || (s[0] == '0' && len > 1))
		return VT_ERR_INVALID;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return VT_ERR_INVALID;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Decimal text of v into out (no NUL); returns its length. */
static size_t
dec_format(uint64_t v, char out[static U64_DIGITS_MAX])
{
	char tmp[U64_DIGITS_MAX];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* 1 if line[0 .. len) starts with the C string prefix. */
static int
has_prefix(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncmp(line, prefix, n) == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Writer */

int
bundle_write_header(struct vbuf *out, const char *origin, const char *vkey)
{
	char canon[NOTE_VKEY_MAX + 1];
	struct note_verifier *v = NULL;
	struct vt_uuid org;
	uint8_t *p;
	size_t ol, kl, n;
	int r = VT_ERR_INVALID;

	if (chain_origin_org(origin, &org) != 0 || note_verifier_parse(vkey, &v) != 0 ||
	    strcmp(note_verifier_name(v), origin) != 0)
		goto out;
	note_verifier_format(v, canon);
	if (strcmp(canon, vkey) != 0)
		goto out;
	ol = strlen(origin);
	kl = strlen(vkey);
	n = strlen(BUNDLE_MAGIC) + 1 + strlen(ORIGIN_PREFIX) + ol + 1 + strlen(VKEY_PREFIX) + kl + 1;
	if ((r = vbuf_reserve(out, n, &p)) != 0)
		goto out;
	memcpy(p, BUNDLE_MAGIC "\n" ORIGIN_PREFIX, strlen(BUNDLE_MAGIC "\n" ORIGIN_PREFIX));
	p += strlen(BUNDLE_MAGIC "\n" ORIGIN_PREFIX);
	memcpy(p, origin, ol);
	p += ol;
	memcpy(p, "\n" VKEY_PREFIX, strlen("\n" VKEY_PREFIX));
	p += strlen("\n" VKEY_PREFIX);
	memcpy(p, vkey, kl);
	p[kl] = '\n';
	r = 0;
 out:
	note_verifier_free(v);
	return r;
}

int
bundle_write_from(struct vbuf *out, const uint8_t *frontier, size_t len)
{
	struct merkle_frontier f;
	char digits[U64_DIGITS_MAX];
	size_t dl, n, bl;
	uint8_t *p;
	int r;

	if (merkle_frontier_decode(frontier, len, &f) != 0 || merkle_frontier_size(&f) == 0)
		return VT_ERR_INVALID;
	dl = dec_format(merkle_frontier_size(&f), digits);
	bl = BUNDLE_B64_LEN(len);
	n = strlen(FROM_PREFIX) + dl + 1 + bl + 1;
	if ((r = vbuf_reserve(out, n, &p)) != 0)
		return r;
	memcpy(p, FROM_PREFIX, strlen(FROM_PREFIX));
	p += strlen(FROM_PREFIX);
	memcpy(p, digits, dl);
	p += dl;
	*p++ = ' ';
	b64_encode_public(frontier, len, (char *)p);
	p[bl] = '\n';
	return 0;
}

int
bundle_write_leaf(struct vbuf *out, uint64_t index, const uint8_t hash[static MERKLE_HASH_LEN],
    const void *row, size_t row_len)
{
	char digits[U64_DIGITS_MAX];
	size_t dl, n, rl;
	uint8_t *p;
	int r;

	if (index >= MERKLE_MAX_SIZE)
		return VT_ERR_INVALID;
	if (row != NULL && row_len > BUNDLE_ROW_MAX)
		return VT_ERR_TOO_LARGE;
	dl = dec_format(index, digits);
	rl = row != NULL ? BUNDLE_B64_LEN(row_len) : strlen(ROW_MISSING);
	n = strlen(LEAF_PREFIX) + dl + 1 + 2 * MERKLE_HASH_LEN + 1 + rl + 1;
	if ((r = vbuf_reserve(out, n, &p)) != 0)
		return r;
	memcpy(p, LEAF_PREFIX, strlen(LEAF_PREFIX));
	p += strlen(LEAF_PREFIX);
	memcpy(p, digits, dl);
	p += dl;
	*p++ = ' ';
	{
		char hex[2 * MERKLE_HASH_LEN + 1];

		hex_encode(hash, MERKLE_HASH_LEN, hex);
		memcpy(p, hex, 2 * MERKLE_HASH_LEN);
		p += 2 * MERKLE_HASH_LEN;
	}
	*p++ = ' ';
	if (row != NULL)
		b64_encode_public(row, row_len, (char *)p);
	else
		memcpy(p, ROW_MISSING, rl);
	p[rl] = '\n';
	return 0;
}

int
bundle_write_checkpoint(struct vbuf *out, const char *note, size_t len)
{
	size_t n;
	uint8_t *p;
	int r;

	if (len == 0)
		return VT_ERR_INVALID;
	if (len > NOTE_MAX)
		return VT_ERR_TOO_LARGE;
	n = strlen(CHECKPOINT_PREFIX) + BUNDLE_B64_LEN(len) + 1;
	if ((r = vbuf_reserve(out, n, &p)) != 0)
		return r;
	memcpy(p, CHECKPOINT_PREFIX, strlen(CHECKPOINT_PREFIX));
	b64_encode_public((const uint8_t *)note, len, (char *)p + strlen(CHECKPOINT_PREFIX));
	p[n - 1] = '\n';
	return 0;
}

int
bundle_write_end(struct vbuf *out, uint64_t nleaves, uint64_t ncheckpoints)
{
	char a[U64_DIGITS_MAX], b[U64_DIGITS_MAX];
	size_t al = dec_format(nleaves, a), bl = dec_format(ncheckpoints, b);
	size_t n = strlen(END_PREFIX) + al + 1 + bl + 1;
	uint8_t *p;
	int r;

	if ((r = vbuf_reserve(out, n, &p)) != 0)
		return r;
	memcpy(p, END_PREFIX, strlen(END_PREFIX));
	p += strlen(END_PREFIX);
	memcpy(p, a, al);
	p += al;
	*p++ = ' ';
	memcpy(p, b, bl);
	p[bl] = '\n';
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Line reader: bounded lines from a FILE, in a buffer that grows only up to the longest line. */

struct lr {
	FILE *in;
	char *buf;
	size_t cap, max;         /* max: the longest line accepted, without its '\n' */
	size_t start, end, scan; /* unread bytes [start, end); no '\n' in [start, scan) */
	uint64_t lineno;         /* of the line last returned, from 1 */
	int eof;
};

static int
lr_init(struct lr *lr, FILE *in, size_t max)
{
	memset(lr, 0, sizeof(*lr));
	lr->in = in;
	lr->max = max;
	lr->cap = max + 1 < LR_INITIAL ? max + 1 : LR_INITIAL;
	if ((lr->buf = malloc(lr->cap)) == NULL)
		return VT_ERR_NOMEM;
	return 0;
}

static void
lr_free(struct lr *lr)
{
	free(lr->buf);
	lr->buf = NULL;
}

/*
 * The next line without its '\n' in *line (valid until the next call) and *len: returns 1, or 0
 * at the end of the input, VT_ERR_INVALID if the input ends inside a line (no '\n'),
 * VT_ERR_TOO_LARGE for a line longer than max, VT_ERR_IO, VT_ERR_NOMEM.
 */
static int
lr_next(struct lr *lr, const char **line, size_t *len)
{
	*line = NULL;
	*len = 0;
	for (;;) {
		const char *nl = NULL;
		size_t got;

		if (lr->scan < lr->end)
			nl = memchr(lr->buf + lr->scan, '\n', lr->end - lr->scan);
		if (nl != NULL) {
			size_t n = (size_t)(nl - (lr->buf + lr->start));

			if (n > lr->max)
				return VT_ERR_TOO_LARGE;
			*line = lr->buf + lr->start;
			*len = n;
			lr->start = lr->scan = (size_t)(nl - lr->buf) + 1;
			lr->lineno++;
			return 1;
		}
		lr->scan = lr->end;
		if (lr->end - lr->start > lr->max)
			return VT_ERR_TOO_LARGE;
		if (lr->eof)
			return lr->start == lr->end ? 0 : VT_ERR_INVALID;
		if (lr->start > 0) {
			memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
			lr->end -= lr->start;
			lr->scan -= lr->start;
			lr->start = 0;
		}
		if (lr->end == lr->cap) {
			/* Full with a partial line no longer than max: cap <= max, so it may grow. */
			size_t ncap = lr->cap > (lr->max + 1) / 2 ? lr->max + 1 : 2 * lr->cap;
			char *nb = realloc(lr->buf, ncap);

			if (nb == NULL)
				return VT_ERR_NOMEM;
			lr->buf = nb;
			lr->cap = ncap;
		}
		got = fread(lr->buf + lr->end, 1, lr->cap - lr->end, lr->in);
		lr->end += got;
		if (got == 0) {
			if (ferror(lr->in))
				return VT_ERR_IO;
			lr->eof = 1;
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Witness files */

struct witness_cp {
	uint64_t size, counter, line;
	uint8_t root[MERKLE_HASH_LEN];
	uint8_t text_hash[HASH_SHA256_LEN];
};

struct witness {
	char origin[CHECKPOINT_ORIGIN_MAX + 1];
	struct witness_cp *cp; /* sorted by size, one per size, counters increasing */
	size_t n;
};

static void VT_PRINTF(2, 3)
reason_set(char reason[static BUNDLE_REASON_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, BUNDLE_REASON_MAX, fmt, ap);
	va_end(ap);
}

static int
witness_cmp(const void *a, const void *b)
{
	const struct witness_cp *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Appends cp to w->cp, growing it. */
static int
witness_push(struct witness *w, size_t *cap, const struct witness_cp *cp)
{
	if (w->n == *cap) {
		size_t ncap = *cap == 0 ? 64 : 2 * *cap;
		struct witness_cp *nc;

		if (ncap > WITNESS_MAX_CHECKPOINTS)
			ncap = WITNESS_MAX_CHECKPOINTS;
		if (w->n == ncap)
			return VT_ERR_TOO_LARGE;
		if ((nc = realloc(w->cp, ncap * sizeof(*nc))) == NULL)
			return VT_ERR_NOMEM;
		w->cp = nc;
		*cap = ncap;
	}
	w->cp[w->n++] = *cp;
	return 0;
}

/* Sorts, drops copies, and checks that the checkpoints kept agree with each other. */
static int
witness_settle(struct witness *w, char reason[static BUNDLE_REASON_MAX])
{
	size_t i, o = 0;

	if (w->n == 0)
		return 0;
	qsort(w->cp, w->n, sizeof(w->cp[0]), witness_cmp);
	for (i = 1; i < w->n; i++) {
		struct witness_cp *prev = &w->cp[o], *cur = &w->cp[i];

		if (cur->size == prev->size) {
			if (!vt_ct_eq(cur->text_hash, prev->text_hash, HASH_SHA256_LEN)) {
				reason_set(reason, "lines %llu and %llu: two different checkpoints of "
				    "size %llu: the log signed two histories",
				    (unsigned long long)prev->line, (unsigned long long)cur->line,
				    (unsigned long long)cur->size);
				return VT_ERR_VERIFY;
			}
			continue; /* the same checkpoint again */
		}
		if (cur->counter <= prev->counter) {
			reason_set(reason, "lines %llu and %llu: the checkpoint of size %llu has "
			    "counter %llu, not above the counter %llu of size %llu: the log was "
			    "rolled back", (unsigned long long)prev->line,
			    (unsigned long long)cur->line, (unsigned long long)cur->size,
			    (unsigned long long)cur->counter, (unsigned long long)prev->counter,
			    (unsigned long long)prev->size);
			return VT_ERR_VERIFY;
		}
		w->cp[++o] = *cur;
	}
	w->n = o + 1;
	return 0;
}

/* One witness line: skipped for another origin, else verified and kept. */
static int
witness_line(struct witness *w, size_t *cap, const struct note_verifier *key, const char *line,
    size_t len, uint64_t lineno, uint8_t *note, char reason[static BUNDLE_REASON_MAX])
{
	const char *o, *sp, *b64;
	struct chain_checkpoint c;
	struct witness_cp cp;
	size_t ol, bl, nl;
	int r;

	if (!has_prefix(line, len, CHECKPOINT_PREFIX))
		goto malformed;
	o = line + strlen(CHECKPOINT_PREFIX);
	if ((sp = memchr(o, ' ', len - (size_t)(o - line))) == NULL)
		goto malformed;
	ol = (size_t)(sp - o);
	b64 = sp + 1;
	bl = len - (size_t)(b64 - line);
	if (ol == 0 || bl == 0)
		goto malformed;
	if (ol != strlen(w->origin) || strncmp(o, w->origin, ol) != 0)
		return 0; /* another organization's log */
	if (bl > BUNDLE_B64_LEN(NOTE_MAX) || b64_decode_public(b64, bl, note, &nl) != 0)
		goto malformed;
	if ((r = chain_checkpoint_read((const char *)note, nl, key, &c)) != 0) {
		if (r == VT_ERR_VERIFY)
			reason_set(reason, "line %llu: the checkpoint does not verify with the given "
			    "public key", (unsigned long long)lineno);
		else
			reason_set(reason, "line %llu: not a well-formed checkpoint of this log",
			    (unsigned long long)lineno);
		return r == VT_ERR_VERIFY ? r : VT_ERR_INVALID;
	}
	memset(&cp, 0, sizeof(cp));
	cp.size = c.size;
	cp.counter = c.counter;
	cp.line = lineno;
	memcpy(cp.root, c.root, MERKLE_HASH_LEN);
	memcpy(cp.text_hash, c.text_hash, HASH_SHA256_LEN);
	if ((r = witness_push(w, cap, &cp)) != 0) {
		reason_set(reason, "line %llu: %s", (unsigned long long)lineno,
		    r == VT_ERR_NOMEM ? "out of memory" : "too many checkpoints for this log");
		return r;
	}
	return 0;
 malformed:
	reason_set(reason, "line %llu: not a line \"checkpoint <origin> <base64 note>\"",
	    (unsigned long long)lineno);
	return VT_ERR_INVALID;
}

int
witness_load(FILE *in, const char *origin, const struct note_verifier *key,
    struct witness **out, char reason[static BUNDLE_REASON_MAX])
{
	struct witness *w = NULL;
	struct lr lr;
	uint8_t *note = NULL;
	const char *line;
	size_t len, cap = 0;
	int r;

	*out = NULL;
	reason[0] = '\0';
	memset(&lr, 0, sizeof(lr));
	if (strnlen(origin, CHECKPOINT_ORIGIN_MAX + 1) > CHECKPOINT_ORIGIN_MAX ||
	    strcmp(origin, note_verifier_name(key)) != 0) {
		reason_set(reason, "the public key is not the key of log %.100s", origin);
		return VT_ERR_INVALID;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL || (r = lr_init(&lr, in, WITNESS_LINE_MAX)) != 0 ||
	    (note = malloc(b64_decoded_max(BUNDLE_B64_LEN(NOTE_MAX)))) == NULL) {
		r = VT_ERR_NOMEM;
		reason_set(reason, "out of memory");
		goto out;
	}
	memcpy(w->origin, origin, strlen(origin) + 1);
	while ((r = lr_next(&lr, &line, &len)) == 1)
		if ((r = witness_line(w, &cap, key, line, len, lr.lineno, note, reason)) != 0)
			goto out;
	if (r != 0) {
		if (r == VT_ERR_IO)
			reason_set(reason, "cannot read the witness file");
		else if (r == VT_ERR_NOMEM)
			reason_set(reason, "out of memory");
		else
			reason_set(reason, "line %llu: %s", (unsigned long long)lr.lineno + 1,
			    r == VT_ERR_TOO_LARGE ? "line too long" : "incomplete last line");
		goto out;
	}
	if ((r = witness_settle(w, reason)) != 0)
		goto out;
	*out = w;
	w = NULL;
 out:
	lr_free(&lr);
	free(note);
	witness_free(w);
	return r;
}

size_t
witness_count(const struct witness *w)
{
	return w != NULL ? w->n : 0;
}

void
witness_free(struct witness *w)
{
	if (w == NULL)
		return;
	free(w->cp);
	free(w);
}

/* ------------------------------------------------------------------------------------------ */
/* Verifier */

struct vstate {
	const struct note_verifier *key;
	const struct witness *w;
	struct bundle_result *res;
	struct lr lr;
	struct vt_uuid org;
	struct merkle_frontier fr;       /* the rows read so far */
	struct merkle_frontier sealed;   /* the rows at the last accepted checkpoint */
	uint64_t n;                      /* rows read so far = the next expected index */
	uint64_t ncp;                    /* accepted checkpoints */
	int has_cp;
	struct chain_checkpoint last;    /* the last accepted checkpoint */
	size_t wpos;                     /* first witnessed checkpoint with size >= n */
	uint64_t wmatched;               /* largest witnessed size whose root the rows matched */
	uint8_t *row;                    /* 0x00 ‖ decoded row: the leaf hash input, in place */
	size_t rowcap;
	uint8_t *note;                   /* decoded checkpoint note */
	int allow_from;                  /* bundle_verify_from: a "from" line may start it */
	uint64_t start;                  /* first index in the bundle (0 unless "from") */
	int anchor_pending;              /* the next checkpoint anchors a "from" frontier */
};

static int VT_PRINTF(4, 5)
fail(struct vstate *st, int has_index, uint64_t index, const char *fmt, ...)
{
	struct bundle_result *res = st->res;
	va_list ap;

	res->ok = 0;
	res->has_bad_index = has_index;
	res->bad_index = has_index ? index : 0;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return VT_ERR_VERIFY;
}

/* Size of the last accepted checkpoint: where checkpoint failures put the first doubt. */
static uint64_t
sealed_size(const struct vstate *st)
{
	return st->has_cp ? st->last.size : 0;
}

/*
 * When the rows read reach a witnessed size, their root must be the witnessed root. On a
 * mismatch the first index in doubt is the largest witnessed size whose root the rows did match
 * (0 if none): the bundle's own checkpoints cannot narrow it down, because whoever rewrote the
 * rows after a witness saw them could have re-signed every checkpoint of the bundle too.
 */
static int
witness_reached(struct vstate *st)
{
	const struct witness *w = st->w;
	const struct witness_cp *cp;
	uint8_t root[MERKLE_HASH_LEN];

	if (w == NULL)
		return 0;
	while (st->wpos < w->n && w->cp[st->wpos].size < st->n)
		st->wpos++;
	if (st->wpos == w->n || w->cp[st->wpos].size != st->n)
		return 0;
	cp = &w->cp[st->wpos];
	merkle_frontier_root(&st->fr, root);
	if (!vt_ct_eq(root, cp->root, MERKLE_HASH_LEN))
		return fail(st, 1, st->wmatched, "rows [%llu, %llu) do not match the witnessed "
		    "checkpoint of size %llu (counter %llu): history was rewritten after it was "
		    "witnessed", (unsigned long long)st->wmatched, (unsigned long long)cp->size,
		    (unsigned long long)cp->size, (unsigned long long)cp->counter);
	st->wmatched = st->n;
	return 0;
}

static int
do_leaf(struct vstate *st, const char *line, size_t len)
{
	const char *p = line + strlen(LEAF_PREFIX), *end = line + len, *sp;
	uint8_t stated[MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
	const uint64_t i = st->n;
	uint64_t index;
	size_t bl, rl;
	int r;

	/* "leaf <index> <hash> <row>" */
	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL ||
	    dec_parse(p, (size_t)(sp - p), &index) != 0 || index >= MERKLE_MAX_SIZE)
		goto malformed;
	if (index != i) {
		if (index < i)
			return fail(st, 1, i, "leaf %llu appears again after leaf %llu: a row was "
			    "duplicated or moved", (unsigned long long)index,
			    (unsigned long long)(i - 1));
		return fail(st, 1, i, "leaf %llu is missing (the next leaf is %llu): rows were "
		    "removed or moved", (unsigned long long)i, (unsigned long long)index);
	}
	p = sp + 1;
	if ((size_t)(end - p) < 2 * MERKLE_HASH_LEN + 2 || p[2 * MERKLE_HASH_LEN] != ' ' ||
	    hex_decode_lower(p, stated, MERKLE_HASH_LEN) != 0)
		goto malformed;
	p += 2 * MERKLE_HASH_LEN + 1;
	bl = (size_t)(end - p);
	if (bl == strlen(ROW_MISSING) && p[0] == ROW_MISSING[0])
		return fail(st, 1, i, "row missing from the database");
	if (bl % 4 != 0 || b64_decoded_max(bl) > BUNDLE_ROW_MAX + 2)
		goto malformed;
	if (1 + b64_decoded_max(bl) > st->rowcap) {
		size_t ncap = st->rowcap;
		uint8_t *nb;

		while (ncap < 1 + b64_decoded_max(bl))
			ncap *= 2;
		if ((nb = realloc(st->row, ncap)) == NULL) {
			reason_set(st->res->reason, "out of memory");
			return VT_ERR_NOMEM;
		}
		st->row = nb;
		st->rowcap = ncap;
	}
	if (b64_decode_public(p, bl, st->row + 1, &rl) != 0 || rl > BUNDLE_ROW_MAX)
		goto malformed;
	/* merkle_leaf_hash, without its copy: the row was decoded right after the 0x00 prefix. */
	st->row[0] = 0x00;
	hash_sha256(st->row, 1 + rl, leaf);
	if (!vt_ct_eq(leaf, stated, MERKLE_HASH_LEN))
		return fail(st, 1, i, "row does not match its sequenced leaf hash (altered)");
	if ((r = chain_row_check(st->row + 1, rl, &st->org)) != 0)
		return fail(st, 1, i, "%s", r == VT_ERR_VALIDATION ?
		    "row belongs to another organization" :
		    "row is not a canonical audit row (docs/audit.md, section 4)");
	if (merkle_frontier_append(&st->fr, leaf) != 0)
		return fail(st, 1, i, "the log is larger than the largest tree size");
	st->n++;
	return witness_reached(st);
 malformed:
	return fail(st, 1, i, "line %llu is not a well-formed leaf line",
	    (unsigned long long)st->lr.lineno);
}

/* The size an unverified note claims (its second line), for messages only; 0 if none. */
static uint64_t
claimed_size(const uint8_t *note, size_t len)
{
	const uint8_t *a = memchr(note, '\n', len), *b;
	uint64_t s;

	if (a == NULL || (b = memchr(a + 1, '\n', len - (size_t)(a + 1 - note))) == NULL ||
	    dec_parse((const char *)a + 1, (size_t)(b - a - 1), &s) != 0)
		return 0;
	return s;
}

/* The witnessed checkpoints around a bundle checkpoint of the same log must agree with it. */
static int
witness_checkpoint(struct vstate *st, const struct chain_checkpoint *cp, uint64_t k)
{
	const struct witness *w = st->w;
	const uint64_t a = sealed_size(st);
	size_t above;

	if (w == NULL)
		return 0;
	/* witness_reached left wpos at the first witnessed size >= n = cp->size. */
	above = st->wpos;
	if (above < w->n && w->cp[above].size == cp->size) {
		if (!vt_ct_eq(w->cp[above].text_hash, cp->text_hash, HASH_SHA256_LEN))
			return fail(st, 1, a, "checkpoint #%llu (size %llu) differs from the "
			    "witnessed checkpoint of the same size (counter %llu): the chain was "
			    "re-signed after it was witnessed", (unsigned long long)k,
			    (unsigned long long)cp->size, (unsigned long long)w->cp[above].counter);
		above++;
	}
	if (st->wpos > 0 && w->cp[st->wpos - 1].counter >= cp->counter)
		return fail(st, 1, a, "checkpoint #%llu (size %llu) has counter %llu, but the "
		    "witnessed checkpoint of the smaller size %llu has counter %llu: rollback or "
		    "reordering", (unsigned long long)k, (unsigned long long)cp->size,
		    (unsigned long long)cp->counter, (unsigned long long)w->cp[st->wpos - 1].size,
		    (unsigned long long)w->cp[st->wpos - 1].counter);
	if (above < w->n && w->cp[above].counter <= cp->counter)
		return fail(st, 1, a, "checkpoint #%llu (size %llu) has counter %llu, but the "
		    "witnessed checkpoint of the larger size %llu has counter %llu: rollback or "
		    "reordering", (unsigned long long)k, (unsigned long long)cp->size,
		    (unsigned long long)cp->counter, (unsigned long long)w->cp[above].size,
		    (unsigned long long)w->cp[above].counter);
	return 0;
}

static int
do_checkpoint(struct vstate *st, const char *line, size_t len)
{
	const char *p = line + strlen(CHECKPOINT_PREFIX);
	const uint64_t k = st->ncp + 1, a = sealed_size(st);
	uint8_t root[MERKLE_HASH_LEN];
	struct chain_checkpoint cp;
	size_t bl = len - strlen(CHECKPOINT_PREFIX), nl;
	int r;

	if (bl > BUNDLE_B64_LEN(NOTE_MAX) || b64_decode_public(p, bl, st->note, &nl) != 0)
		return fail(st, 1, a, "checkpoint #%llu (line %llu) is not well-formed base64",
		    (unsigned long long)k, (unsigned long long)st->lr.lineno);
	if ((r = chain_checkpoint_read((const char *)st->note, nl, st->key, &cp)) != 0) {
		if (r == VT_ERR_VERIFY)
			return fail(st, 1, a, "checkpoint #%llu (size %llu): signature does not "
			    "verify with the given public key", (unsigned long long)k,
			    (unsigned long long)claimed_size(st->note, nl));
		if (r == VT_ERR_VALIDATION)
			return fail(st, 1, a, "checkpoint #%llu is signed by this log's key but "
			    "names another log", (unsigned long long)k);
		return fail(st, 1, a, "checkpoint #%llu is not a well-formed audit checkpoint",
		    (unsigned long long)k);
	}
	if (st->has_cp && cp.size <= st->last.size)
		return fail(st, 1, a, "checkpoint #%llu (size %llu) does not grow the log past the "
		    "previous checkpoint (size %llu): checkpoints were repeated or reordered",
		    (unsigned long long)k, (unsigned long long)cp.size, (unsigned long long)a);
	/*
	 * A checkpoint in the wrong place: rows were removed or inserted somewhere after the last
	 * accepted checkpoint (indexes can be renumbered), so that is where the doubt starts.
	 */
	if (cp.size != st->n)
		return fail(st, 1, a, "checkpoint size %llu stands after %llu rows: rows in [%llu, "
		    "%llu) were %s, or the checkpoint was moved", (unsigned long long)cp.size,
		    (unsigned long long)st->n, (unsigned long long)a,
		    (unsigned long long)(cp.size > st->n ? cp.size : st->n),
		    cp.size > st->n ? "removed" : "inserted");
	/*
	 * Consistency with the previous checkpoint. Both roots come from the one frontier this
	 * function appends to, so the tree of the previous size is a prefix of this one by
	 * construction and a consistency proof would add nothing. What remains checkable, cheaply,
	 * is that the previous signed root is the root of the frontier saved at that size, from
	 * which the current frontier descends. It is whenever the previous checkpoint passed its
	 * own root check below, so this only guards against a future change that would let a
	 * checkpoint through without that check.
	 */
	if (st->has_cp) {
		merkle_frontier_root(&st->sealed, root);
		if (merkle_frontier_size(&st->sealed) != st->last.size ||
		    !vt_ct_eq(root, st->last.root, MERKLE_HASH_LEN))
			return fail(st, 1, a, "checkpoint size %llu is not consistent with the "
			    "checkpoint of size %llu", (unsigned long long)cp.size,
			    (unsigned long long)a);
	}
	merkle_frontier_root(&st->fr, root);
	if (!vt_ct_eq(root, cp.root, MERKLE_HASH_LEN))
		return fail(st, 1, a, "checkpoint size %llu: root does not match the rows [%llu, "
		    "%llu) \xe2\x80\x94 a row in that range was altered, inserted or removed",
		    (unsigned long long)cp.size, (unsigned long long)a, (unsigned long long)cp.size);
	if (st->anchor_pending) {
		/*
		 * The checkpoint a partial bundle starts from: its signature and its root (checked
		 * above against the given frontier, which a forged frontier could only pass with a
		 * SHA-256 collision) are all that can be checked; its prev link points outside.
		 */
		st->anchor_pending = 0;
	} else if (cp.has_prev != st->has_cp ||
	    (st->has_cp && !vt_ct_eq(cp.prev, st->last.text_hash, HASH_SHA256_LEN)))
		return fail(st, 1, a, "checkpoint size %llu: its prev link does not match: a "
		    "checkpoint before size %llu was removed or altered", (unsigned long long)cp.size,
		    (unsigned long long)cp.size);
	if (st->has_cp && cp.counter <= st->last.counter)
		return fail(st, 1, a, "checkpoint size %llu: counter %llu is not greater than the "
		    "previous checkpoint's (%llu): the chain was rolled back or reordered",
		    (unsigned long long)cp.size, (unsigned long long)cp.counter,
		    (unsigned long long)st->last.counter);
	if (st->has_cp && cp.time_s < st->last.time_s)
		return fail(st, 1, a, "checkpoint size %llu: its time is earlier than the previous "
		    "checkpoint's", (unsigned long long)cp.size);
	if ((r = witness_checkpoint(st, &cp, k)) != 0)
		return r;
	st->last = cp;
	st->sealed = st->fr;
	st->has_cp = 1;
	st->ncp++;
	return 0;
}

static int
do_end(struct vstate *st, const char *line, size_t len)
{
	const char *p = line + strlen(END_PREFIX), *end = line + len, *sp;
	const struct witness *w = st->w;
	uint64_t nl, nc;
	size_t i;

	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL ||
	    dec_parse(p, (size_t)(sp - p), &nl) != 0 ||
	    dec_parse(sp + 1, (size_t)(end - sp - 1), &nc) != 0)
		return fail(st, 1, st->n, "line %llu is not a well-formed end line",
		    (unsigned long long)st->lr.lineno);
	if (nl != st->n - st->start)
		return fail(st, 1, nl < st->n - st->start ? st->start + nl : st->n, "the end line "
		    "counts %llu rows but the bundle has %llu", (unsigned long long)nl,
		    (unsigned long long)(st->n - st->start));
	if (nc != st->ncp)
		return fail(st, 0, 0, "the end line counts %llu checkpoints but the bundle has %llu",
		    (unsigned long long)nc, (unsigned long long)st->ncp);
	/* Witnessed sizes up to n were checked as the rows went by; larger ones cannot be. */
	for (i = st->wpos; w != NULL && i < w->n; i++)
		if (w->cp[i].size > st->n)
			return fail(st, 1, st->n, "the log ends at index %llu but a witnessed "
			    "checkpoint covers %llu rows (counter %llu): rows were truncated or the "
			    "database was restored from an older copy", (unsigned long long)st->n,
			    (unsigned long long)w->cp[i].size, (unsigned long long)w->cp[i].counter);
	return 0;
}

/* Reports a line-reader error: truncation, an over-long line, or I/O. */
static int
read_error(struct vstate *st, int r)
{
	switch (r) {
	case 0:
	case VT_ERR_INVALID:
		return fail(st, 1, st->n, "the bundle is truncated after %llu rows (no end line)",
		    (unsigned long long)st->n);
	case VT_ERR_TOO_LARGE:
		return fail(st, 1, st->n, "line %llu is longer than any bundle line",
		    (unsigned long long)st->lr.lineno + 1);
	case VT_ERR_NOMEM:
		reason_set(st->res->reason, "out of memory");
		return r;
	default:
		reason_set(st->res->reason, "cannot read the bundle");
		return VT_ERR_IO;
	}
}

static int
do_header(struct vstate *st)
{
	const char *name = note_verifier_name(st->key), *line;
	char vkey[NOTE_VKEY_MAX + 1], canon[NOTE_VKEY_MAX + 1];
	struct note_verifier *v = NULL;
	size_t len, ol, kl;
	int r;

	if ((r = lr_next(&st->lr, &line, &len)) != 1)
		return r == 0 || r == VT_ERR_INVALID || r == VT_ERR_TOO_LARGE ?
		    fail(st, 0, 0, "not an audit bundle (empty or no first line)") : read_error(st, r);
	if (len != strlen(BUNDLE_MAGIC) || strncmp(line, BUNDLE_MAGIC, len) != 0)
		return fail(st, 0, 0, "not an audit bundle (the first line is not \"%s\")",
		    BUNDLE_MAGIC);
	if ((r = lr_next(&st->lr, &line, &len)) != 1)
		return read_error(st, r);
	if (!has_prefix(line, len, ORIGIN_PREFIX))
		return fail(st, 0, 0, "line 2 is not an origin line");
	ol = len - strlen(ORIGIN_PREFIX);
	if (ol != strlen(name) || strncmp(line + strlen(ORIGIN_PREFIX), name, ol) != 0)
		return fail(st, 0, 0, "the bundle is not the log of the given public key (%.100s)",
		    name);
	if (chain_origin_org(name, &st->org) != 0)
		return fail(st, 0, 0, "the public key (%.100s) is not an audit log's key", name);
	if (st->w != NULL && strcmp(st->w->origin, name) != 0)
		return fail(st, 0, 0, "the witness file was loaded for another log");
	if ((r = lr_next(&st->lr, &line, &len)) != 1)
		return read_error(st, r);
	if (!has_prefix(line, len, VKEY_PREFIX) || len - strlen(VKEY_PREFIX) > NOTE_VKEY_MAX)
		return fail(st, 0, 0, "line 3 is not a vkey line");
	kl = len - strlen(VKEY_PREFIX);
	/*
	 * Informational (the verifier trusts only the key it was given), but well-formed and in
	 * its one canonical spelling (the key id in lower case), so no byte of a bundle is free.
	 */
	memcpy(vkey, line + strlen(VKEY_PREFIX), kl);
	vkey[kl] = '\0';
	if (strlen(vkey) != kl || note_verifier_parse(vkey, &v) != 0)
		return fail(st, 0, 0, "line 3 is not a vkey line");
	note_verifier_format(v, canon);
	note_verifier_free(v);
	if (strcmp(canon, vkey) != 0)
		return fail(st, 0, 0, "line 3 is not a vkey line");
	/* A witnessed empty tree is reached before any row. */
	return witness_reached(st);
}

/*
 * "from <size> <base64 frontier>": a partial bundle (bundle_verify_from only) resumes at a
 * checkpoint instead of index 0. The next line must be the checkpoint of that size.
 */
static int
do_from(struct vstate *st, const char *line, size_t len)
{
	const char *p = line + strlen(FROM_PREFIX), *end = line + len, *sp;
	uint8_t fr[MERKLE_FRONTIER_ENC_MAX + 3];
	uint64_t size;
	size_t fl;

	if (!st->allow_from)
		return fail(st, 0, 0, "a partial bundle (it starts with a from line): verify the "
		    "whole export");
	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL ||
	    dec_parse(p, (size_t)(sp - p), &size) != 0 ||
	    (size_t)(end - sp - 1) > BUNDLE_B64_LEN(MERKLE_FRONTIER_ENC_MAX) ||
	    b64_decode_public(sp + 1, (size_t)(end - sp - 1), fr, &fl) != 0 ||
	    merkle_frontier_decode(fr, fl, &st->fr) != 0 || merkle_frontier_size(&st->fr) != size ||
	    size == 0)
		return fail(st, 0, 0, "line 4 is not a well-formed from line");
	st->n = st->start = size;
	st->anchor_pending = 1;
	return 0;
}

static int
verify(FILE *in, const struct note_verifier *key, const struct witness *w, int allow_from,
    struct bundle_result *res)
{
	struct vstate *st;
	const char *line;
	size_t len;
	int r;

	memset(res, 0, sizeof(*res));
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		reason_set(res->reason, "out of memory");
		return VT_ERR_NOMEM;
	}
	st->key = key;
	st->w = w;
	st->res = res;
	st->allow_from = allow_from;
	merkle_frontier_init(&st->fr);
	merkle_frontier_init(&st->sealed);
	st->rowcap = ROWBUF_INITIAL;
	if ((r = lr_init(&st->lr, in, BUNDLE_LINE_MAX)) != 0 ||
	    (st->row = malloc(st->rowcap)) == NULL ||
	    (st->note = malloc(b64_decoded_max(BUNDLE_B64_LEN(NOTE_MAX)))) == NULL) {
		reason_set(res->reason, "out of memory");
		r = VT_ERR_NOMEM;
		goto out;
	}
	if ((r = do_header(st)) != 0)
		goto out;
	for (;;) {
		if ((r = lr_next(&st->lr, &line, &len)) != 1) {
			r = read_error(st, r);
			goto out;
		}
		if (st->lr.lineno == 4 && has_prefix(line, len, FROM_PREFIX)) {
			if ((r = do_from(st, line, len)) != 0)
				goto out;
			continue;
		}
		if (st->anchor_pending && !has_prefix(line, len, CHECKPOINT_PREFIX))
			r = fail(st, 0, 0, "a from line must be followed by its checkpoint");
		else if (has_prefix(line, len, LEAF_PREFIX))
			r = do_leaf(st, line, len);
		else if (has_prefix(line, len, CHECKPOINT_PREFIX))
			r = do_checkpoint(st, line, len);
		else if (has_prefix(line, len, END_PREFIX))
			break;
		else
			r = fail(st, 1, st->n, "line %llu is not a leaf, checkpoint or end line",
			    (unsigned long long)st->lr.lineno);
		if (r != 0)
			goto out;
	}
	if ((r = do_end(st, line, len)) != 0)
		goto out;
	if ((r = lr_next(&st->lr, &line, &len)) != 0) {
		if (r == VT_ERR_IO || r == VT_ERR_NOMEM)
			r = read_error(st, r);
		else
			r = fail(st, 0, 0, "data after the end line");
		goto out;
	}
	res->ok = 1;
	r = 0;
 out:
	res->rows = st->n;
	res->checkpoints = st->ncp;
	res->start = st->start;
	res->unsealed = r == 0 ? st->n - sealed_size(st) : 0;
	if (r != 0 && res->reason[0] == '\0')
		reason_set(res->reason, "verification failed");
	lr_free(&st->lr);
	free(st->row);
	free(st->note);
	free(st);
	return r;
}

int
bundle_verify(FILE *in, const struct note_verifier *key, const struct witness *w,
    struct bundle_result *res)
{
	return verify(in, key, w, 0, res);
}

int
bundle_verify_from(FILE *in, const struct note_verifier *key, struct bundle_result *res)
{
	return verify(in, key, NULL, 1, res);
}
