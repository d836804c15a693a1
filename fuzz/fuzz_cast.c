/*
 * The recorder's asciicast encoder (src/broker/cast.c) on hostile terminal output. Byte 0 of the
 * input seeds the cuts (its low bit: the spans are masks), bytes 1..24 describe up to 6
 * redaction spans (start, length, a rule or the vault label), the rest is the output. Checked:
 *  1. one run outputs everything as one event each 1..64 bytes (resizes between some), adds the
 *     spans, and releases all at the end; another cuts the same events, adds each span once all
 *     its bytes are in, and releases at random points no further than the start of a span not
 *     added yet (as the recorder does with the scanner's safe offset), with provisional previews
 *     in between: both give the same output stream and the same resizes, in the same order
 *     (with mask spans only 2 is checked: a release cut inside an escape sequence masks its
 *     tail, which the recorder's forced release accepts);
 *  2. every line either run gives, and every preview line, is one JSON array
 *     [non-negative number, "o" or "r", string] (so valid UTF-8), and times never go back;
 *  3. without spans, output that is valid UTF-8 comes out byte for byte.
 * ASan/UBSan watch the rest. Seeds: fuzz/corpus/cast/.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "broker/cast.h"
#include "fuzz.h"

#define NSPANS 6
#define T0 1000000

struct span {
	uint64_t start, end;
	const char *rule;
	int added;
};

struct result {
	struct vbuf *o;     /* the "o" data, concatenated */
	struct vbuf *r;     /* the "r" data, one per line */
	double last_t;
};

static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Checks the lines of buf; appends their data to res. */
static void
check_lines(const uint8_t *p, size_t n, struct result *res)
{
	const uint8_t *end = p + n, *eol;

	for (; p < end; p = eol + 1) {
		json_t *a, *t, *c, *d;

		eol = memchr(p, '\n', (size_t)(end - p));
		FUZZ_CHECK(eol != NULL);
		a = json_loadb((const char *)p, (size_t)(eol - p), JSON_ALLOW_NUL, NULL);
		FUZZ_CHECK(json_is_array(a) && json_array_size(a) == 3);
		t = json_array_get(a, 0);
		c = json_array_get(a, 1);
		d = json_array_get(a, 2);
		FUZZ_CHECK(json_is_number(t) && json_number_value(t) >= 0);
		FUZZ_CHECK(json_is_string(c) && json_is_string(d));
		if (res != NULL) {
			FUZZ_CHECK(json_number_value(t) >= res->last_t);
			res->last_t = json_number_value(t);
			if (strcmp(json_string_value(c), "o") == 0) {
				FUZZ_CHECK(vbuf_put(res->o, json_string_value(d),
				    json_string_length(d)) == 0);
			} else {
				FUZZ_CHECK(strcmp(json_string_value(c), "r") == 0);
				FUZZ_CHECK(vbuf_put_cstr(res->r, json_string_value(d)) == 0 &&
				    vbuf_put_cstr(res->r, "\n") == 0);
			}
		}
		json_decref(a);
	}
}

static int
sink(void *ud, const uint8_t *line, size_t n)
{
	check_lines(line, n, ud);
	return 0;
}

static void
run(const uint8_t *out, size_t n, struct span *sp, size_t nsp, uint32_t seed, int split,
    struct result *res)
{
	struct cast *c = cast_new(T0);
	struct vbuf *pv = vbuf_new(VBUF_MAX_ANY);
	uint32_t s = seed, cuts = seed * 2654435761u + 1;
	int64_t t = T0;
	size_t off = 0, i;

	for (i = 0; i < nsp; i++)
		sp[i].added = 0;
	while (off < n) {
		size_t k = 1 + next(&cuts) % 64;
		uint64_t limit = UINT64_MAX;

		if (k > n - off)
			k = n - off;
		t += next(&cuts) % 3000;
		FUZZ_CHECK(cast_output(c, t, out + off, k) == 0);
		off += k;
		if (next(&cuts) % 8 == 0)
			FUZZ_CHECK(cast_resize(c, t, 1 + (int)(next(&cuts) % 300),
			    1 + (int)(next(&cuts) % 100)) == 0);
		if (!split)
			continue;
		for (i = 0; i < nsp; i++) {
			if (!sp[i].added && sp[i].end <= off) {
				FUZZ_CHECK(cast_redact(c, sp[i].start, sp[i].end, sp[i].rule) == 0);
				sp[i].added = 1;
			}
			if (!sp[i].added && sp[i].start < limit)
				limit = sp[i].start;
		}
		if (next(&s) % 3 == 0) {
			uint64_t lo = cast_released(c), hi = cast_end(c) < limit ? cast_end(c) : limit;

			if (hi > lo)
				FUZZ_CHECK(cast_release(c, lo + next(&s) % (hi - lo + 1), sink,
				    res) == 0);
		}
		if (next(&s) % 5 == 0) {
			uint64_t lo = cast_released(c), span = cast_end(c) - lo + 2;

			/* The scanner's safe offset anywhere in what is held, or past it (no masking). */
			vbuf_reset(pv);
			FUZZ_CHECK(cast_preview(c, lo + next(&s) % span, pv) == 0);
			check_lines(vbuf_ptr(pv), vbuf_len(pv), NULL);
		}
	}
	for (i = 0; i < nsp; i++)
		if (!sp[i].added)
			FUZZ_CHECK(cast_redact(c, sp[i].start, sp[i].end, sp[i].rule) == 0);
	FUZZ_CHECK(cast_finish(c, sink, res) == 0);
	FUZZ_CHECK(cast_released(c) == n);
	cast_free(c);
	vbuf_free(pv);
}

/* jansson's own check: json_stringn refuses invalid UTF-8. */
static int
valid_utf8(const uint8_t *p, size_t n)
{
	json_t *s;
	int ok;

	s = json_stringn((const char *)p, n);
	ok = s != NULL;
	json_decref(s);
	return ok;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FUZZ_CHECK(secmem_init() == 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rules[] = { "test-rule", "vault-secret" };
	struct span sp[NSPANS];
	struct result a, b;
	const uint8_t *out;
	size_t n, nsp = 0, i;
	uint32_t seed;
	int masks;

	if (size < 1 + 4 * NSPANS)
		return 0;
	seed = (uint32_t)data[0] * 16777619u + 1;
	masks = data[0] & 1; /* mask spans: released cuts may split an escape sequence */
	out = data + 1 + 4 * NSPANS;
	n = size - 1 - 4 * NSPANS;
	if (n > 1 << 16)
		return 0;
	for (i = 0; i < NSPANS; i++) {
		const uint8_t *d = data + 1 + 4 * i;
		uint64_t st = ((uint64_t)d[0] << 8 | d[1]), len = d[2];

		if (n == 0 || len == 0 || (d[3] & 0x80) == 0)
			continue;
		st %= n;
		sp[nsp].start = st;
		sp[nsp].end = st + len > n ? n : st + len;
		sp[nsp].rule = masks ? CAST_MASK_RULE : rules[d[3] % 2];
		nsp++;
	}
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.o = vbuf_new(VBUF_MAX_ANY);
	a.r = vbuf_new(VBUF_MAX_ANY);
	b.o = vbuf_new(VBUF_MAX_ANY);
	b.r = vbuf_new(VBUF_MAX_ANY);
	run(out, n, sp, nsp, seed, 0, &a);
	run(out, n, sp, nsp, seed, 1, &b);
	if (masks && nsp > 0)
		goto out; /* both valid asciicast; a mask cut inside an escape sequence differs */
	FUZZ_CHECK(vbuf_len(a.o) == vbuf_len(b.o));
	FUZZ_CHECK(vbuf_len(a.o) == 0 || memcmp(vbuf_ptr(a.o), vbuf_ptr(b.o), vbuf_len(a.o)) == 0); /* checksrc:ok public bytes */
	FUZZ_CHECK(vbuf_len(a.r) == vbuf_len(b.r));
	FUZZ_CHECK(vbuf_len(a.r) == 0 || memcmp(vbuf_ptr(a.r), vbuf_ptr(b.r), vbuf_len(a.r)) == 0); /* checksrc:ok public bytes */
	if (nsp == 0 && valid_utf8(out, n)) {
		FUZZ_CHECK(vbuf_len(a.o) == n);
		FUZZ_CHECK(n == 0 || memcmp(vbuf_ptr(a.o), out, n) == 0); /* checksrc:ok public bytes */
	}
 out:
	vbuf_free(a.o);
	vbuf_free(a.r);
	vbuf_free(b.o);
	vbuf_free(b.r);
	return 0;
}
