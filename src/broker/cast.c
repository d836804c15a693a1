/*
 * asciicast v2 encoding of a session's output with redaction (cast.h). The raw bytes not yet
 * released sit in one buffer (wiped when dropped or moved), the events in a queue that indexes
 * it, the redaction spans in a list sorted by start. Releasing walks the queue up to an offset
 * and turns each event slice into a line: spans applied first (bytes dropped, one label per
 * overlapping group), then UTF-8 repair and JSON escaping with a carry between events.
 */
#include "broker/cast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem: zstd's workspaces are wiped on free */
#include <zstd.h>

#include "base/err.h"

struct cast_ev {
	int64_t t_us;
	uint64_t off;          /* first byte (output) or position (resize) */
	uint64_t len;          /* output bytes; 0 for a resize */
	int width, height;     /* > 0: a resize */
};

struct cast_span {
	uint64_t start, end;
	char *rule_id;         /* NULL: mask */
	int labelled;          /* its group's label (or the group's first byte) is out */
};

/* A scratch buffer wiped over what it held (not its whole capacity) when cleared. */
struct sbuf {
	uint8_t *p;
	size_t len, cap;
};

struct cast_enc {
	uint8_t carry[4];
	size_t ncarry;
	int64_t last_t;        /* time of the last "o" event encoded */
};

struct cast {
	int64_t start_us;
	uint8_t *buf;          /* raw bytes: buf[head .. len) are offsets [released .. end) */
	size_t head, len, cap;
	uint64_t released, end;
	struct cast_ev *ev;
	size_t evhead, nev, capev;
	struct cast_span *sp;  /* sorted by start */
	size_t nsp, capsp;
	struct cast_enc enc;
	struct sbuf red;       /* scratch: one slice after redaction */
	struct sbuf line;      /* scratch: one encoded line */
	int64_t last_in_t;
};

static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */

static int
sb_put(void *ctx, const void *data, size_t n)
{
	struct sbuf *b = ctx;
	size_t nc;
	uint8_t *np;

	if (n > b->cap - b->len) {
		if (n > VBUF_MAX_ANY - b->len)
			return VT_ERR_TOO_LARGE;
		nc = b->cap < 4096 ? 4096 : b->cap;
		while (nc < b->len + n)
			nc *= 2;
		if ((np = malloc(nc)) == NULL)
			return VT_ERR_NOMEM;
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			sodium_memzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

static int
sb_puts(struct sbuf *b, const char *s)
{
	return sb_put(b, s, strlen(s));
}

static void
sb_clear(struct sbuf *b)
{
	if (b->p != NULL)
		sodium_memzero(b->p, b->len);
	b->len = 0;
}

static void
sb_free(struct sbuf *b)
{
	if (b->p != NULL) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

static int
vb_put(void *ctx, const void *data, size_t n)
{
	return vbuf_put(ctx, data, n);
}

struct cast *
cast_new(int64_t start_us)
{
	struct cast *c = xcalloc(1, sizeof(*c));

	c->start_us = start_us;
	c->last_in_t = start_us;
	c->enc.last_t = start_us;
	return c;
}

void
cast_free(struct cast *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->buf != NULL) {
		sodium_memzero(c->buf, c->cap);
		free(c->buf);
	}
	for (i = 0; i < c->nsp; i++)
		free(c->sp[i].rule_id);
	free(c->sp);
	free(c->ev);
	sb_free(&c->red);
	sb_free(&c->line);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

uint64_t
cast_released(const struct cast *c)
{
	return c->released;
}

const uint8_t *
cast_bytes(const struct cast *c, uint64_t start, uint64_t end)
{
	if (c->buf == NULL || start < c->released || end > c->end || start > end)
		return NULL;
	return c->buf + c->head + (size_t)(start - c->released);
}

uint64_t
cast_end(const struct cast *c)
{
	return c->end;
}

size_t
cast_memory(const struct cast *c)
{
	return sizeof(*c) + c->cap + c->capev * sizeof(*c->ev) + c->capsp * sizeof(*c->sp) +
	    c->red.cap + c->line.cap;
}

/* ---- JSON strings ----------------------------------------------------------------------------- */

/* Expected length of a UTF-8 sequence led by b (0: not a lead byte) and its second byte's range. */
static int
utf8_lead(uint8_t b, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef) {
		if (b == 0xe0)
			*lo = 0xa0;
		else if (b == 0xed)
			*hi = 0x9f; /* no UTF-16 surrogates */
		return 3;
	}
	if (b >= 0xf0 && b <= 0xf4) {
		if (b == 0xf0)
			*lo = 0x90;
		else if (b == 0xf4)
			*hi = 0x8f; /* nothing above U+10FFFF */
		return 4;
	}
	return 0;
}

struct jout {
	uint8_t tmp[1024];
	size_t n;
	int (*put)(void *ctx, const void *p, size_t n);
	void *ctx;
	int r;
};

static void
jflush(struct jout *j)
{
	if (j->n > 0 && j->r == 0)
		j->r = j->put(j->ctx, j->tmp, j->n);
	j->n = 0;
}

static void
jput(struct jout *j, const void *p, size_t n)
{
	if (j->n + n > sizeof(j->tmp))
		jflush(j);
	if (n > sizeof(j->tmp)) {
		if (j->r == 0)
			j->r = j->put(j->ctx, p, n);
		return;
	}
	memcpy(j->tmp + j->n, p, n);
	j->n += n;
}

/* Room for k more bytes in the staging buffer (flushing it if needed). */
static inline uint8_t *
jroom(struct jout *j, size_t k)
{
	if (j->n + k > sizeof(j->tmp))
		jflush(j);
	return j->tmp + j->n;
}

/* How each ASCII byte goes into a JSON string: itself (0), backslash + the letter, or \u00XX ('u'). */
static const char JESC[128] = {
	['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\b'] = 'b', ['\f'] = 'f',
	[0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
	[0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u',
	[0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
	[0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u',
	[0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u', [0x7f] = 'u',
};

static void
jascii(struct jout *j, uint8_t b)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t *o = jroom(j, 6);
	char e = JESC[b & 0x7f];

	if (e == 0) {
		o[0] = b;
		j->n += 1;
	} else if (e != 'u') {
		o[0] = '\\';
		o[1] = (uint8_t)e;
		j->n += 2;
	} else {
		o[0] = '\\';
		o[1] = 'u';
		o[2] = '0';
		o[3] = '0';
		o[4] = (uint8_t)hex[b >> 4];
		o[5] = (uint8_t)hex[b & 15];
		j->n += 6;
	}
}

static inline void
jfffd(struct jout *j)
{
	uint8_t *o = jroom(j, 3);

	o[0] = 0xef;
	o[1] = 0xbf;
	o[2] = 0xbd;
	j->n += 3;
}

/*
 * Whether none of the 8 bytes at p needs escaping in a JSON string (each is 0x20-0x7e, not '"'
 * or '\\'), tested a word at a time: terminal output is mostly such runs. Exact: the borrow and
 * carry between bytes of these tests only ever follow a byte that already fails.
 */
static inline int
json_plain8(const uint8_t *p)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t x, q, b, bad;

	memcpy(&x, p, sizeof(x));
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	bad = ((x - ones * 0x20) & ~x) |    /* a byte below 0x20 */
	    ((x + ones) | x) |              /* a byte of 0x7f or more */
	    ((q - ones) & ~q) |             /* '"' */
	    ((b - ones) & ~b);              /* '\\' */
	return (bad & high) == 0;
}

/* Length of the run at q[0, m) that goes into a JSON string as it is: 8 bytes a word. */
static size_t
json_plain_run_swar(const uint8_t *q, size_t m)
{
	size_t run = 0;

	while (run + 8 <= m && json_plain8(q + run))
		run += 8;
	while (run < m && q[run] >= 0x20 && q[run] < 0x7f && q[run] != '"' && q[run] != '\\')
		run++;
	return run;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/*
 * The same, 32 bytes a step. Compared as signed bytes, 0x80-0xff are negative, so the one
 * "below 0x20" test also stops at every byte that is not ASCII (UTF-8 is checked byte by byte).
 */
__attribute__((target("avx2"))) static size_t
json_plain_run_avx2(const uint8_t *q, size_t m)
{
	const __m256i sp = _mm256_set1_epi8(0x20), del = _mm256_set1_epi8(0x7f),
	    quote = _mm256_set1_epi8('"'), bsl = _mm256_set1_epi8('\\');
	size_t run = 0;

	while (m - run >= 32) {
		__m256i v = _mm256_loadu_si256((const void *)(q + run));
		__m256i bad = _mm256_or_si256(
		    _mm256_or_si256(_mm256_cmpgt_epi8(sp, v), _mm256_cmpeq_epi8(v, del)),
		    _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, bsl)));
		uint32_t mk = (uint32_t)_mm256_movemask_epi8(bad);

		if (mk != 0)
			return run + (size_t)__builtin_ctz(mk);
		run += 32;
	}
	return run + json_plain_run_swar(q + run, m - run);
}

static size_t (*json_plain_run)(const uint8_t *, size_t) = json_plain_run_swar;

__attribute__((constructor)) static void
json_plain_run_init(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		json_plain_run = json_plain_run_avx2;
}
#else
#define json_plain_run json_plain_run_swar
#endif

static int
json_bytes(const uint8_t *p, size_t n, uint8_t carry[4], size_t *ncarry,
    int (*put)(void *, const void *, size_t), void *ctx)
{
	uint8_t cin[4], seq[4];
	size_t nin = 0, total, i, k;
	struct jout j;
	int len, r;

#define B(x) ((x) < nin ? cin[(x)] : p[(x) - nin])
	if (carry != NULL && ncarry != NULL && *ncarry > 0) {
		nin = *ncarry > 3 ? 3 : *ncarry;
		memcpy(cin, carry, nin);
		sodium_memzero(carry, 4);
		*ncarry = 0;
	}
	memset(&j, 0, sizeof(j));
	j.put = put;
	j.ctx = ctx;
	total = nin + n;
	i = 0;
	while (i < total && j.r == 0) {
		uint8_t b, lo, hi;

		/* The common case: a run of printable ASCII that needs no escape, copied at once. */
		if (i >= nin) {
			const uint8_t *q = p + (i - nin);
			size_t run = json_plain_run(q, total - i);

			if (run > 0) {
				jput(&j, q, run);
				i += run;
				continue;
			}
		}
		b = B(i);

		if (b < 0x80) {
			jascii(&j, b);
			i++;
			continue;
		}
		if ((len = utf8_lead(b, &lo, &hi)) == 0) {
			jfffd(&j);
			i++;
			continue;
		}
		seq[0] = b;
		for (k = 1; k < (size_t)len; k++) {
			uint8_t cb;

			if (i + k >= total)
				break;
			cb = B(i + k);
			if (k == 1 ? (cb < lo || cb > hi) : (cb < 0x80 || cb > 0xbf))
				break;
			seq[k] = cb;
		}
		if (k == (size_t)len) {
			jput(&j, seq, k);
			i += k;
		} else if (i + k >= total && carry != NULL && ncarry != NULL) {
			/* A valid prefix cut by the end of this piece: the next one completes it. */
			memcpy(carry, seq, k);
			*ncarry = k;
			i += k;
		} else {
			jfffd(&j); /* the maximal invalid subpart */
			i += k;
		}
	}
#undef B
	jflush(&j);
	r = j.r;
	sodium_memzero(&j, sizeof(j));
	sodium_memzero(seq, sizeof(seq));
	sodium_memzero(cin, sizeof(cin));
	return r;
}

int
cast_json_bytes(const uint8_t *p, size_t n, uint8_t carry[4], size_t *ncarry, struct vbuf *out)
{
	return json_bytes(p, n, carry, ncarry, vb_put, out);
}

/* ---- header ----------------------------------------------------------------------------------- */

static int
put_str(struct vbuf *out, const char *s)
{
	size_t n = strnlen(s, CAST_TITLE_MAX);
	int r;

	if ((r = vbuf_put(out, "\"", 1)) != 0 ||
	    (r = cast_json_bytes((const uint8_t *)s, n, NULL, NULL, out)) != 0)
		return r;
	return vbuf_put(out, "\"", 1);
}

int
cast_header(int width, int height, int64_t start_us, const char *term, const char *title,
    struct vbuf *out)
{
	char num[96];
	int r;

	if (width < 1 || height < 1 || width > 10000 || height > 10000)
		return VT_ERR_INVALID;
	snprintf(num, sizeof(num), "{\"version\":2,\"width\":%d,\"height\":%d,\"timestamp\":%lld,"
	    "\"env\":{", width, height, (long long)(start_us / 1000000));
	if ((r = vbuf_put_cstr(out, num)) != 0)
		return r;
	if (term != NULL && ((r = vbuf_put_cstr(out, "\"TERM\":")) != 0 ||
	    (r = put_str(out, term)) != 0))
		return r;
	if ((r = vbuf_put_cstr(out, "}")) != 0)
		return r;
	if (title != NULL && ((r = vbuf_put_cstr(out, ",\"title\":")) != 0 ||
	    (r = put_str(out, title)) != 0))
		return r;
	return vbuf_put_cstr(out, "}\n");
}

/* ---- input ------------------------------------------------------------------------------------ */

static int
buf_room(struct cast *c, size_t n)
{
	size_t live = c->len - c->head, ncap;
	uint8_t *nb;

	if (c->cap - c->len >= n)
		return 0;
	/* Slide down when half the buffer is released bytes; else grow (copy, wipe the old). */
	if (c->head >= c->cap / 2 && c->cap - live >= n) {
		memmove(c->buf, c->buf + c->head, live);
		sodium_memzero(c->buf + live, c->cap - live);
		c->head = 0;
		c->len = live;
		return 0;
	}
	ncap = c->cap < 4096 ? 4096 : c->cap;
	while (ncap < live + n) {
		if (ncap > VBUF_MAX_ANY)
			return VT_ERR_TOO_LARGE;
		ncap *= 2;
	}
	if ((nb = malloc(ncap)) == NULL)
		return VT_ERR_NOMEM;
	if (c->buf != NULL) {
		memcpy(nb, c->buf + c->head, live);
		sodium_memzero(c->buf, c->cap);
		free(c->buf);
	}
	c->buf = nb;
	c->cap = ncap;
	c->head = 0;
	c->len = live;
	return 0;
}

static int
ev_push(struct cast *c, const struct cast_ev *e)
{
	if (c->evhead > 0 && c->evhead >= c->nev / 2) {
		memmove(c->ev, c->ev + c->evhead, (c->nev - c->evhead) * sizeof(*c->ev));
		c->nev -= c->evhead;
		c->evhead = 0;
	}
	if (c->nev == c->capev) {
		size_t nc = c->capev < 16 ? 16 : c->capev * 2;
		void *p = realloc(c->ev, nc * sizeof(*c->ev));

		if (p == NULL)
			return VT_ERR_NOMEM;
		c->ev = p;
		c->capev = nc;
	}
	c->ev[c->nev++] = *e;
	return 0;
}

int
cast_output(struct cast *c, int64_t t_us, const void *data, size_t n)
{
	struct cast_ev e, *last;
	int r;

	if (n == 0)
		return 0;
	if (t_us < c->last_in_t)
		t_us = c->last_in_t;
	if ((r = buf_room(c, n)) != 0)
		return r;
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	/* Same time as the previous output event: one event. */
	last = c->nev > c->evhead ? &c->ev[c->nev - 1] : NULL;
	if (last != NULL && last->width == 0 && last->t_us == t_us && last->off + last->len == c->end) {
		last->len += n;
	} else {
		memset(&e, 0, sizeof(e));
		e.t_us = t_us;
		e.off = c->end;
		e.len = n;
		if ((r = ev_push(c, &e)) != 0) {
			c->len -= n;
			sodium_memzero(c->buf + c->len, n);
			return r;
		}
	}
	c->end += n;
	c->last_in_t = t_us;
	return 0;
}

int
cast_resize(struct cast *c, int64_t t_us, int width, int height)
{
	struct cast_ev e;

	if (width < 1 || height < 1 || width > 10000 || height > 10000)
		return VT_ERR_INVALID;
	if (t_us < c->last_in_t)
		t_us = c->last_in_t;
	memset(&e, 0, sizeof(e));
	e.t_us = t_us;
	e.off = c->end;
	e.width = width;
	e.height = height;
	c->last_in_t = t_us;
	return ev_push(c, &e);
}

int
cast_redact(struct cast *c, uint64_t start, uint64_t end, const char *rule_id)
{
	struct cast_span s;
	size_t i;

	if (end > c->end)
		end = c->end;
	if (end <= c->released || start >= end)
		return 0;
	/* The same span twice: nothing to add. */
	for (i = 0; i < c->nsp; i++)
		if (c->sp[i].start == start && c->sp[i].end == end &&
		    (c->sp[i].rule_id == NULL ? rule_id == NULL :
		    rule_id != NULL && strcmp(c->sp[i].rule_id, rule_id) == 0))
			return 0;
	if (c->nsp >= CAST_SPANS_MAX)
		return VT_ERR_TOO_LARGE;
	if (c->nsp == c->capsp) {
		size_t nc = c->capsp < 8 ? 8 : c->capsp * 2;
		void *p = realloc(c->sp, nc * sizeof(*c->sp));

		if (p == NULL)
			return VT_ERR_NOMEM;
		c->sp = p;
		c->capsp = nc;
	}
	memset(&s, 0, sizeof(s));
	s.start = start;
	s.end = end;
	s.rule_id = rule_id != NULL ? xstrdup(rule_id) : NULL;
	for (i = c->nsp; i > 0 && c->sp[i - 1].start > start; i--)
		c->sp[i] = c->sp[i - 1];
	c->sp[i] = s;
	c->nsp++;
	return 0;
}

/* ---- output ----------------------------------------------------------------------------------- */

static const uint8_t *
at(const struct cast *c, uint64_t off)
{
	return c->buf + c->head + (size_t)(off - c->released);
}

/* Length of the escape sequence at p[0] == ESC (kept whole when masking), at most n. */
static size_t
esc_len(const uint8_t *p, size_t n)
{
	size_t i;

	if (n < 2)
		return n;
	if (p[1] == '[') {
		for (i = 2; i < n; i++)
			if (p[i] >= 0x40 && p[i] <= 0x7e)
				return i + 1;
		return n;
	}
	if (p[1] == ']' || p[1] == 'P' || p[1] == 'X' || p[1] == '^' || p[1] == '_') {
		for (i = 2; i < n; i++) {
			if (p[i] == 0x07)
				return i + 1;
			if (p[i] == 0x1b && i + 1 < n && p[i + 1] == '\\')
				return i + 2;
		}
		return n;
	}
	return 2;
}

static int
mask_into(const uint8_t *p, size_t n, struct sbuf *out)
{
	size_t i = 0, k;
	int r = 0;

	while (i < n && r == 0) {
		if (p[i] == 0x1b) {
			k = esc_len(p + i, n - i);
			r = sb_put(out, p + i, k);
			i += k;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			r = sb_put(out, p + i, 1);
			i++;
		} else if (p[i] >= 0x80 && p[i] <= 0xbf) {
			i++; /* a continuation byte: its character already became one '*' */
		} else {
			r = sb_put(out, "*", 1);
			i++;
		}
	}
	return r;
}

/*
 * Bytes [a, b) after redaction into out. sp (sorted by start) is mutated: spans whose group got
 * its label (or began) are marked.
 */
static int
redact_slice(const struct cast *c, struct cast_span *sp, size_t nsp, uint64_t a, uint64_t b,
    struct sbuf *out)
{
	uint64_t p = a, e, next;
	size_t i, first;
	int r = 0, covered, grew, has_label, mask_only;

	while (p < b && r == 0) {
		/* The group of spans covering p, grown transitively over overlaps. */
		e = p;
		covered = 0;
		for (i = 0; i < nsp; i++)
			if (sp[i].start <= p && sp[i].end > p) {
				covered = 1;
				if (sp[i].end > e)
					e = sp[i].end;
			}
		if (!covered) {
			next = b;
			for (i = 0; i < nsp; i++)
				if (sp[i].start > p && sp[i].start < next)
					next = sp[i].start;
			r = sb_put(out, at(c, p), (size_t)(next - p));
			p = next;
			continue;
		}
		do {
			grew = 0;
			for (i = 0; i < nsp; i++)
				if (sp[i].start < e && sp[i].end > e) {
					e = sp[i].end;
					grew = 1;
				}
		} while (grew);
		/* Label: the earliest labelling span of the group, unless the group had one out. */
		first = nsp;
		has_label = 0;
		mask_only = 1;
		for (i = 0; i < nsp; i++) {
			if (sp[i].end <= p || sp[i].start >= e)
				continue;
			if (sp[i].rule_id != NULL) {
				mask_only = 0;
				if (sp[i].labelled)
					has_label = 1;
				else if (first == nsp)
					first = i;
				else if (sp[i].start == sp[first].start &&
				    strcmp(sp[i].rule_id, SCAN_RULE_VAULT) == 0)
					first = i; /* a stored secret says more than its format */
			}
		}
		next = e < b ? e : b;
		if (mask_only) {
			r = mask_into(at(c, p), (size_t)(next - p), out);
		} else if (!has_label && first < nsp) {
			r = sb_puts(out, "[REDACTED:");
			if (r == 0)
				r = sb_puts(out, sp[first].rule_id);
			if (r == 0)
				r = sb_puts(out, "]");
		}
		for (i = 0; i < nsp; i++)
			if (sp[i].end > p && sp[i].start < e)
				sp[i].labelled = 1;
		p = next;
	}
	return r;
}

static void
fmt_time(const struct cast *c, int64_t t_us, char *out, size_t outsz)
{
	int64_t d = t_us - c->start_us;

	if (d < 0)
		d = 0;
	snprintf(out, outsz, "%lld.%06lld", (long long)(d / 1000000), (long long)(d % 1000000));
}

/* One "o" line for raw bytes [a, b) at t_us (nothing if they encode to nothing). */
static int
emit_o(struct cast *c, struct cast_span *sp, size_t nsp, struct cast_enc *enc, int64_t t_us,
    uint64_t a, uint64_t b, cast_line_fn fn, void *ud)
{
	char ts[48];
	size_t body;
	int r;

	sb_clear(&c->red);
	sb_clear(&c->line);
	if ((r = redact_slice(c, sp, nsp, a, b, &c->red)) != 0)
		return r;
	fmt_time(c, t_us, ts, sizeof(ts));
	if ((r = sb_puts(&c->line, "[")) != 0 || (r = sb_puts(&c->line, ts)) != 0 ||
	    (r = sb_puts(&c->line, ", \"o\", \"")) != 0)
		return r;
	body = c->line.len;
	if ((r = json_bytes(c->red.p, c->red.len, enc->carry, &enc->ncarry, sb_put,
	    &c->line)) != 0)
		return r;
	enc->last_t = t_us;
	if (c->line.len == body)
		return 0;
	if ((r = sb_puts(&c->line, "\"]\n")) != 0)
		return r;
	return fn(ud, c->line.p, c->line.len) != 0 ? VT_ERR_INTERNAL : 0;
}

static int
emit_r(struct cast *c, const struct cast_ev *e, cast_line_fn fn, void *ud)
{
	char ts[48], line[128];
	int n;

	fmt_time(c, e->t_us, ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "[%s, \"r\", \"%dx%d\"]\n", ts, e->width, e->height);
	return fn(ud, (const uint8_t *)line, (size_t)n) != 0 ? VT_ERR_INTERNAL : 0;
}

/*
 * Encodes the queued events up to offset upto with enc and sp; *idx receives the index of the
 * first event not wholly encoded.
 */
static int
walk(struct cast *c, struct cast_span *sp, size_t nsp, struct cast_enc *enc, uint64_t upto,
    cast_line_fn fn, void *ud, size_t *idx)
{
	size_t i;
	int r;

	for (i = c->evhead; i < c->nev; i++) {
		const struct cast_ev *e = &c->ev[i];
		uint64_t a, b, stop;

		/* No receiver (the session is not recorded): nothing is encoded, the bytes go. */
		if (fn == NULL) {
			if (e->width > 0 ? e->off > upto : e->off + e->len > upto)
				break;
			continue;
		}
		if (e->width > 0) {
			if (e->off > upto)
				break;
			if ((r = emit_r(c, e, fn, ud)) != 0)
				return r;
			continue;
		}
		if (e->off >= upto)
			break;
		stop = e->off + e->len < upto ? e->off + e->len : upto;
		for (a = e->off; a < stop; a = b) {
			b = a + CAST_EVENT_MAX < stop ? a + CAST_EVENT_MAX : stop;
			if ((r = emit_o(c, sp, nsp, enc, e->t_us, a, b, fn, ud)) != 0)
				return r;
		}
		if (stop < e->off + e->len)
			break;
	}
	*idx = i;
	return 0;
}

int
cast_release(struct cast *c, uint64_t upto, cast_line_fn fn, void *ud)
{
	size_t idx, i, k;
	uint64_t drop;
	int r;

	if (upto > c->end)
		upto = c->end;
	if (upto < c->released)
		upto = c->released;
	if ((r = walk(c, c->sp, c->nsp, &c->enc, upto, fn, ud, &idx)) != 0)
		return r;
	c->evhead = idx;
	if (idx < c->nev && c->ev[idx].width == 0 && c->ev[idx].off < upto) {
		c->ev[idx].len -= upto - c->ev[idx].off;
		c->ev[idx].off = upto;
	}
	if (c->evhead == c->nev)
		c->evhead = c->nev = 0;
	drop = upto - c->released;
	if (drop > 0) {
		sodium_memzero(c->buf + c->head, (size_t)drop);
		c->head += (size_t)drop;
	}
	c->released = upto;
	if (c->head == c->len)
		c->head = c->len = 0;
	/* Spans wholly released are done. */
	for (i = k = 0; i < c->nsp; i++) {
		if (c->sp[i].end <= c->released) {
			free(c->sp[i].rule_id);
			continue;
		}
		c->sp[k++] = c->sp[i];
	}
	c->nsp = k;
	return 0;
}

int
cast_finish(struct cast *c, cast_line_fn fn, void *ud)
{
	char ts[48], line[96];
	int r, n;

	if ((r = cast_release(c, c->end, fn, ud)) != 0)
		return r;
	if (c->enc.ncarry == 0)
		return 0;
	sodium_memzero(c->enc.carry, sizeof(c->enc.carry));
	c->enc.ncarry = 0;
	if (fn == NULL)
		return 0;
	fmt_time(c, c->enc.last_t, ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "[%s, \"o\", \"%s\"]\n", ts, REPLACEMENT);
	return fn(ud, (const uint8_t *)line, (size_t)n) != 0 ? VT_ERR_INTERNAL : 0;
}

static int
append_line(void *ud, const uint8_t *line, size_t n)
{
	return vbuf_put(ud, line, n);
}

/* A byte that may be part of a credential: not blank, control, quote, bracket, ',' ';' or '|'. */
static int
token_byte(uint8_t b)
{
	if (b <= 0x20 || b == 0x7f)
		return 0;
	return b >= 0x80 || strchr("\"'`,;()[]{}<>|", b) == NULL;
}

/*
 * Mask spans for the runs of token bytes in [from, c->end) that could be (part of) a secret:
 * CAST_PREVIEW_RUN_MIN or more token bytes, escape sequences inside a run not ending it, or a
 * run still open at the end (its token may go on), merged with the copies of c's spans (both in
 * start order) into *out (malloc'd; the rule ids stay c's). Returns the count, or -1.
 */
static long
preview_spans(const struct cast *c, uint64_t from, struct cast_span **out)
{
	struct cast_span *m = NULL, *all;
	size_t nm = 0, capm = 0, i, j, k;
	uint64_t o = from, run = UINT64_MAX, len = 0, last = 0;
	const uint8_t *p;

	*out = NULL;
	while (o <= c->end) {
		int tok = 0, esc = 0;
		size_t step = 1;

		if (o < c->end) {
			p = at(c, o);
			if (p[0] == 0x1b) {
				esc = 1;
				step = esc_len(p, (size_t)(c->end - o));
			} else {
				tok = token_byte(p[0]);
			}
		}
		if (tok) {
			if (run == UINT64_MAX) {
				run = o;
				len = 0;
			}
			len++;
			last = o + 1;
		} else if (!esc && run != UINT64_MAX) {
			if (len >= CAST_PREVIEW_RUN_MIN || o == c->end) {
				if (nm == capm) {
					size_t nc = capm < 16 ? 16 : capm * 2;
					void *q = realloc(m, nc * sizeof(*m));

					if (q == NULL) {
						free(m);
						return -1;
					}
					m = q;
					capm = nc;
				}
				memset(&m[nm], 0, sizeof(m[nm]));
				m[nm].start = run;
				m[nm].end = last; /* escape sequences after the run stay */
				nm++;
			}
			run = UINT64_MAX;
		}
		if (o == c->end)
			break;
		o += step;
	}
	if (nm + c->nsp == 0) {
		free(m);
		return 0;
	}
	if ((all = malloc((nm + c->nsp) * sizeof(*all))) == NULL) {
		free(m);
		return -1;
	}
	for (i = j = k = 0; i < c->nsp || j < nm; k++) {
		if (j == nm || (i < c->nsp && c->sp[i].start <= m[j].start))
			all[k] = c->sp[i++];
		else
			all[k] = m[j++];
	}
	free(m);
	*out = all;
	return (long)k;
}

int
cast_preview(const struct cast *c, uint64_t unsafe_from, struct vbuf *out)
{
	struct cast_span *sp = NULL;
	struct cast_enc enc = c->enc;
	size_t idx;
	long nsp;
	int r;

	if (unsafe_from < c->released)
		unsafe_from = c->released;
	if (unsafe_from > c->end)
		unsafe_from = c->end;
	if ((nsp = preview_spans(c, unsafe_from, &sp)) < 0)
		return VT_ERR_NOMEM;
	/* walk() mutates only the scratch buffers, the copies and out. */
	r = walk((struct cast *)(uintptr_t)c, sp, (size_t)nsp, &enc, c->end, append_line, out,
	    &idx);
	free(sp);
	sodium_memzero(&enc, sizeof(enc));
	return r;
}

/* ---- stored chunks ------------------------------------------------------------------------- */

#define ZSTD_MAGIC_LEN 4
static const uint8_t ZSTD_MAGIC[ZSTD_MAGIC_LEN] = { 0x28, 0xb5, 0x2f, 0xfd };
#define WIPE_HDR 16 /* the size of each zstd allocation sits before it, for the wipe */

static void *
wipe_alloc(void *opaque, size_t n)
{
	uint8_t *p;

	(void)opaque;
	if (n > SIZE_MAX - WIPE_HDR || (p = malloc(n + WIPE_HDR)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + WIPE_HDR;
}

static void
wipe_free(void *opaque, void *q)
{
	uint8_t *p;
	size_t n;

	(void)opaque;
	if (q == NULL)
		return;
	p = (uint8_t *)q - WIPE_HDR;
	memcpy(&n, p, sizeof(n));
	sodium_memzero(p, n + WIPE_HDR);
	free(p);
}

static const ZSTD_customMem WIPE_MEM = { wipe_alloc, wipe_free, NULL };

int
cast_chunk_pack(const uint8_t *pt, size_t n, struct vbuf *out)
{
	ZSTD_CCtx *cc;
	uint8_t *z;
	size_t bound = ZSTD_compressBound(n), zn;
	int r;

	if (n == 0 || (z = wipe_alloc(NULL, bound)) == NULL)
		return n == 0 ? vbuf_put(out, pt, n) : VT_ERR_NOMEM;
	if ((cc = ZSTD_createCCtx_advanced(WIPE_MEM)) == NULL) {
		wipe_free(NULL, z);
		return VT_ERR_NOMEM;
	}
	zn = ZSTD_compressCCtx(cc, z, bound, pt, n, CAST_ZSTD_LEVEL);
	ZSTD_freeCCtx(cc);
	/* Only when it is smaller: text shrinks several times, random bytes do not. */
	if (!ZSTD_isError(zn) && zn < n)
		r = vbuf_put(out, z, zn);
	else
		r = vbuf_put(out, pt, n);
	wipe_free(NULL, z);
	return r;
}

int
cast_chunk_unpack(const uint8_t *in, size_t n, size_t max, struct vbuf *out)
{
	unsigned long long want;
	ZSTD_DCtx *dc;
	uint8_t *t;
	size_t got;
	int r;

	/* The magic is public: a plain compare (vt_ct_eq would do, at no benefit). */
	if (n < ZSTD_MAGIC_LEN || in[0] != ZSTD_MAGIC[0] || in[1] != ZSTD_MAGIC[1] ||
	    in[2] != ZSTD_MAGIC[2] || in[3] != ZSTD_MAGIC[3])
		return n > max ? VT_ERR_TOO_LARGE : vbuf_put(out, in, n);
	want = ZSTD_getFrameContentSize(in, n);
	if (want == ZSTD_CONTENTSIZE_UNKNOWN || want == ZSTD_CONTENTSIZE_ERROR)
		return VT_ERR_INVALID;
	if (want > max)
		return VT_ERR_TOO_LARGE;
	if (want == 0)
		return 0;
	if ((t = wipe_alloc(NULL, (size_t)want)) == NULL)
		return VT_ERR_NOMEM;
	if ((dc = ZSTD_createDCtx_advanced(WIPE_MEM)) == NULL) {
		wipe_free(NULL, t);
		return VT_ERR_NOMEM;
	}
	got = ZSTD_decompressDCtx(dc, t, (size_t)want, in, n);
	ZSTD_freeDCtx(dc);
	r = ZSTD_isError(got) || got != want ? VT_ERR_INVALID : vbuf_put(out, t, got);
	wipe_free(NULL, t);
	return r;
}
