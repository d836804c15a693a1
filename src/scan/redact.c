/*
 * Redaction: a buffer with its findings replaced, and the redacting stream, which holds back the
 * original bytes that a finding not yet reported could still start at (the stream engine says
 * where that is: scan_stream_safe_orig) and releases the rest, so a secret that spans feeds is
 * masked before any of its bytes leave. Spans of overlapping findings are merged.
 *
 * Mask mode replaces every visible byte of a span with '*' and keeps its escape sequences and
 * line ends, so a live terminal keeps its colours and layout and the output has the same length.
 * Label mode replaces the span, escapes included, with "[REDACTED:<rule_id>]".
 *
 * The hold-back is bounded by the engine's window plus SCAN_REDACT_ANSI_SLACK bytes of escape
 * sequences inside it. Output that interleaves more escape bytes than that with a possible secret
 * is released early with every byte masked ('*', line ends kept): fail closed.
 */
#include "scan/scan_internal.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"

#define REDACT_PIECE 65536 /* input bytes handed to the stream at a time */

struct span {
	uint64_t s, e;
	const char *id;   /* of the member that sorts first (start, longer end, id): as the buffer */
	uint64_t hs, he;  /* that member's span */
	int labelled;     /* label mode: the label went out with the span's first byte */
};

struct scan_redactor {
	struct scan_stream *st;
	enum scan_redact_mode mode;
	uint8_t *held;    /* original bytes [held_o, held_o + nheld) */
	size_t nheld, capheld;
	uint64_t held_o;
	size_t hold_max;
	struct span *sp;  /* sorted, disjoint */
	size_t nsp, capsp;
	scan_match_fn fn;
	void *ud;
	int fn_stopped;
	int err;
};

static int
put_label(struct vbuf *out, const char *id)
{
	int r;

	if ((r = vbuf_put(out, "[REDACTED:", 10)) != 0)
		return r;
	if ((r = vbuf_put(out, id, strlen(id))) != 0)
		return r;
	return vbuf_put_u8(out, ']');
}

/* '*' for each visible byte of p[0 .. n); escape sequences, CR and LF copied. */
static int
put_masked(struct vbuf *out, const uint8_t *p, size_t n, int keep_escapes)
{
	uint8_t *o;
	size_t i = 0;
	int r;

	if ((r = vbuf_reserve(out, n, &o)) != 0)
		return r;
	while (i < n) {
		size_t k = keep_escapes ? scan_ansi_seq_len(p + i, n - i) : 0;

		if (k > 0) {
			memcpy(o + i, p + i, k);
			i += k;
			continue;
		}
		o[i] = p[i] == '\n' || p[i] == '\r' ? p[i] : '*';
		i++;
	}
	return 0;
}

static int
put_span(struct vbuf *out, enum scan_redact_mode mode, const uint8_t *p, size_t n,
    const char *id, int *labelled)
{
	if (mode == SCAN_REDACT_MASK)
		return put_masked(out, p, n, 1);
	if (*labelled)
		return 0;
	*labelled = 1;
	return put_label(out, id);
}

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	if (x->e != y->e)
		return x->e > y->e ? -1 : 1;
	return strcmp(x->id, y->id);
}

int
scan_redact_buffer(const void *in, size_t n, const struct scan_match *m, size_t nm,
    enum scan_redact_mode mode, struct vbuf *out)
{
	const uint8_t *p = in;
	struct span *sp = NULL;
	size_t i, k = 0;
	uint64_t cur = 0;
	int r = 0;

	if (nm > 0) {
		if ((sp = calloc(nm, sizeof(*sp))) == NULL)
			return VT_ERR_NOMEM;
		for (i = 0; i < nm; i++) {
			uint64_t e = m[i].end < n ? m[i].end : n;

			if (m[i].start >= e)
				continue;
			sp[k].s = m[i].start;
			sp[k].e = e;
			sp[k].id = m[i].rule_id != NULL ? m[i].rule_id : "unknown";
			k++;
		}
		qsort(sp, k, sizeof(*sp), span_cmp);
	}
	for (i = 0; i < k; i++) {
		uint64_t s = sp[i].s, e = sp[i].e;
		const char *id = sp[i].id; /* the first of merged spans names them */
		int labelled = 0;

		while (i + 1 < k && sp[i + 1].s < e) { /* merge overlapping spans */
			if (sp[i + 1].e > e)
				e = sp[i + 1].e;
			i++;
		}
		if (s < cur)
			s = cur;
		if ((r = vbuf_put(out, p + cur, (size_t)(s - cur))) != 0)
			goto out;
		if (e > s && (r = put_span(out, mode, p + s, (size_t)(e - s), id, &labelled)) != 0)
			goto out;
		cur = e > cur ? e : cur;
	}
	r = vbuf_put(out, p + cur, n - (size_t)cur);
 out:
	free(sp);
	return r;
}

/* ---- the redacting stream ------------------------------------------------------------------ */
static int
add_span(struct scan_redactor *rd, const struct scan_match *m)
{
	struct span n = { .s = m->start, .e = m->end, .id = m->rule_id != NULL ? m->rule_id : "unknown" };
	struct span head;
	size_t i, j;

	if (n.s < rd->held_o)
		n.s = rd->held_o; /* XXX: cannot happen (the hold-back covers every pending start) */
	if (n.e <= n.s)
		return 0;
	n.hs = n.s;
	n.he = n.e;
	/* Insert in order, then merge with the neighbours it overlaps (touching is not overlap). */
	for (i = 0; i < rd->nsp && rd->sp[i].s <= n.s; i++)
		;
	if (i > 0 && rd->sp[i - 1].e > n.s) {
		i--;
	} else {
		if (rd->nsp == rd->capsp) {
			size_t cap = rd->capsp == 0 ? 8 : rd->capsp * 2;
			struct span *p = realloc(rd->sp, cap * sizeof(*p));

			if (p == NULL)
				return VT_ERR_NOMEM;
			rd->sp = p;
			rd->capsp = cap;
		}
		memmove(rd->sp + i + 1, rd->sp + i, (rd->nsp - i) * sizeof(*rd->sp));
		rd->sp[i] = n;
		rd->nsp++;
	}
	for (j = i; j < rd->nsp && (j == i || rd->sp[j].s < rd->sp[i].e); j++) {
		struct span *q = j == i ? &n : &rd->sp[j];

		head = (struct span){ .s = q->hs, .e = q->he, .id = q->id };
		if (span_cmp(&head, &(struct span){ .s = rd->sp[i].hs, .e = rd->sp[i].he,
		    .id = rd->sp[i].id }) < 0) {
			rd->sp[i].hs = head.s;
			rd->sp[i].he = head.e;
			rd->sp[i].id = head.id;
		}
		if (q->e > rd->sp[i].e)
			rd->sp[i].e = q->e;
	}
	memmove(rd->sp + i + 1, rd->sp + j, (rd->nsp - j) * sizeof(*rd->sp));
	rd->nsp -= j - (i + 1);
	return 0;
}

static int
on_finding(void *ud, const struct scan_match *m)
{
	struct scan_redactor *rd = ud;
	int r;

	if ((r = add_span(rd, m)) != 0 && rd->err == 0)
		rd->err = r;
	if (!rd->fn_stopped && rd->fn != NULL && rd->fn(rd->ud, m) != 0)
		rd->fn_stopped = 1;
	return 0; /* redaction goes on whatever the caller's callback says */
}

/* Releases held bytes up to original offset upto; force: bytes outside findings masked too. */
static int
release(struct scan_redactor *rd, uint64_t upto, int force, struct vbuf *out)
{
	uint64_t cur = rd->held_o;
	size_t i = 0, n;
	int r;

	if (upto > rd->held_o + rd->nheld)
		upto = rd->held_o + rd->nheld;
	if (upto <= cur)
		return 0;
	while (cur < upto) {
		const uint8_t *p = rd->held + (cur - rd->held_o);
		uint64_t next = upto;

		while (i < rd->nsp && rd->sp[i].e <= cur)
			i++;
		if (i < rd->nsp && rd->sp[i].s <= cur) {
			struct span *sp = &rd->sp[i];

			if (sp->e < next)
				next = sp->e;
			if ((r = put_span(out, rd->mode, p, (size_t)(next - cur), sp->id,
			    &sp->labelled)) != 0)
				return r;
		} else {
			if (i < rd->nsp && rd->sp[i].s < next)
				next = rd->sp[i].s;
			r = force ? put_masked(out, p, (size_t)(next - cur), 0) :
			    vbuf_put(out, p, (size_t)(next - cur));
			if (r != 0)
				return r;
		}
		cur = next;
	}
	/* Drop the released bytes (wiped) and the spans that ended. */
	n = (size_t)(upto - rd->held_o);
	memmove(rd->held, rd->held + n, rd->nheld - n);
	sodium_memzero(rd->held + (rd->nheld - n), n);
	rd->nheld -= n;
	rd->held_o = upto;
	for (i = 0; i < rd->nsp && rd->sp[i].e <= upto; i++)
		;
	if (i > 0) {
		memmove(rd->sp, rd->sp + i, (rd->nsp - i) * sizeof(*rd->sp));
		rd->nsp -= i;
	}
	return 0;
}

int
scan_redactor_open(const struct scan_db *db, const struct scan_fpset *fps,
    enum scan_redact_mode mode, struct scan_redactor **out)
{
	struct scan_redactor *rd;
	int r;

	*out = NULL;
	if (mode != SCAN_REDACT_LABEL && mode != SCAN_REDACT_MASK)
		return VT_ERR_INVALID;
	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return VT_ERR_NOMEM;
	if ((r = scan_stream_open(db, fps, &rd->st)) != 0) {
		free(rd);
		return r;
	}
	rd->mode = mode;
	rd->hold_max = scan_stream_window(db, fps) + SCAN_REDACT_ANSI_SLACK;
	*out = rd;
	return 0;
}

size_t
scan_redactor_holdback(const struct scan_redactor *rd)
{
	return rd->hold_max;
}

static int
after_feed(struct scan_redactor *rd, struct vbuf *out)
{
	int r;

	if (rd->err != 0)
		return rd->err;
	if ((r = release(rd, scan_stream_safe_orig(rd->st), 0, out)) != 0)
		return r;
	if (rd->nheld > rd->hold_max)
		return release(rd, rd->held_o + (rd->nheld - rd->hold_max), 1, out);
	return 0;
}

int
scan_redactor_feed(struct scan_redactor *rd, const void *data, size_t n, struct vbuf *out,
    scan_match_fn fn, void *ud)
{
	const uint8_t *p = data;
	int r = 0;

	if (rd->err != 0)
		return rd->err;
	rd->fn = fn;
	rd->ud = ud;
	while (n > 0) {
		size_t k = n < REDACT_PIECE ? n : REDACT_PIECE;

		if (rd->nheld + k > rd->capheld) {
			size_t cap = rd->capheld * 2 > rd->nheld + k ? rd->capheld * 2 : rd->nheld + k;
			uint8_t *h = malloc(cap);

			if (h == NULL) {
				r = VT_ERR_NOMEM;
				break;
			}
			if (rd->held != NULL) {
				memcpy(h, rd->held, rd->nheld);
				sodium_memzero(rd->held, rd->capheld);
				free(rd->held);
			}
			rd->held = h;
			rd->capheld = cap;
		}
		memcpy(rd->held + rd->nheld, p, k);
		rd->nheld += k;
		if ((r = scan_stream_feed(rd->st, p, k, on_finding, rd)) != 0)
			break;
		if ((r = after_feed(rd, out)) != 0)
			break;
		p += k;
		n -= k;
	}
	if (r != 0 && rd->err == 0)
		rd->err = r;
	return r;
}

int
scan_redactor_close(struct scan_redactor *rd, struct vbuf *out, scan_match_fn fn, void *ud)
{
	int r;

	if (rd == NULL)
		return 0;
	rd->fn = fn;
	rd->ud = ud;
	r = scan_stream_close(rd->st, on_finding, rd);
	rd->st = NULL;
	if (r == 0)
		r = rd->err;
	/* Fail closed: after an error, what is still held goes out masked. */
	if (out != NULL) {
		int r2 = release(rd, rd->held_o + rd->nheld, r != 0, out);

		if (r == 0)
			r = r2;
	}
	if (rd->held != NULL) {
		sodium_memzero(rd->held, rd->capheld);
		free(rd->held);
	}
	free(rd->sp);
	free(rd);
	return r;
}
