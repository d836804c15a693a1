/*
 * Unit tests for the recorder's pure half (src/broker/cast.h) and for the recorder without a
 * database (record = 0): the asciicast header; "o" lines with their times; an incomplete UTF-8
 * sequence carried across events (cut at every byte of 2-, 3- and 4-byte characters); invalid
 * bytes as U+FFFD the way Python's decoder (asciinema) does; control bytes escaped; resizes;
 * long events cut; labels where a secret starts, its other bytes dropped, also across events;
 * overlapping secrets; masking; the provisional preview; and, with the real scanner, a stream
 * holding a rule-format secret and a vault fingerprint cut into two feeds at every byte position,
 * released at the scanner's safe offset as the recorder does: the secret never reaches a line,
 * everything else does, each exposure counted once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "broker/cast.h"
#include "broker/recorder.h"
#include "scan/scan.h"

#define T0 1700000000000000LL

/* ---- helpers ---------------------------------------------------------------------------------- */

static int
collect(void *ud, const uint8_t *line, size_t n)
{
	assert_int_equal(line[n - 1], '\n');
	return vbuf_put(ud, line, n);
}

struct ev {
	double t;
	char code;
	char *data;
	size_t n;
};

/* Parses lines (no header) into events; returns how many (at most max). */
static size_t
parse(const struct vbuf *b, struct ev *evs, size_t max)
{
	const char *p = (const char *)vbuf_ptr(b), *end = p + vbuf_len(b), *eol;
	size_t k = 0;

	for (; p < end; p = eol + 1) {
		json_error_t je;
		json_t *a;

		eol = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(eol);
		a = json_loadb(p, (size_t)(eol - p), JSON_ALLOW_NUL, &je);
		if (a == NULL)
			fail_msg("not JSON: %.*s (%s)", (int)(eol - p), p, je.text);
		assert_true(json_is_array(a));
		assert_int_equal(json_array_size(a), 3);
		assert_true(k < max);
		evs[k].t = json_number_value(json_array_get(a, 0));
		evs[k].code = json_string_value(json_array_get(a, 1))[0];
		evs[k].n = json_string_length(json_array_get(a, 2));
		evs[k].data = malloc(evs[k].n + 1);
		memcpy(evs[k].data, json_string_value(json_array_get(a, 2)), evs[k].n + 1);
		json_decref(a);
		k++;
	}
	return k;
}

static void
evs_free(struct ev *evs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(evs[i].data);
}

/* The "o" data of lines, concatenated, into out (NUL-terminated; returns its length). */
static size_t
output_of(const struct vbuf *b, char *out, size_t max)
{
	static struct ev evs[4096];
	size_t n = parse(b, evs, 4096), i, len = 0;

	for (i = 0; i < n; i++) {
		if (evs[i].code != 'o')
			continue;
		assert_true(len + evs[i].n < max);
		memcpy(out + len, evs[i].data, evs[i].n);
		len += evs[i].n;
	}
	out[len] = '\0';
	evs_free(evs, n);
	return len;
}

static int
contains(const char *hay, size_t n, const char *needle, size_t m)
{
	size_t i;

	if (m == 0 || m > n)
		return 0;
	for (i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return 1;
	return 0;
}

/* ---- header ----------------------------------------------------------------------------------- */

static void
test_header(void **state)
{
	struct vbuf *b = vbuf_new(CAST_HEADER_MAX);
	json_t *h;

	(void)state;
	assert_int_equal(cast_header(120, 40, T0 + 999999, "xterm-256color", "prod (alice\x01\xff)",
	    b), 0);
	assert_int_equal(vbuf_ptr(b)[vbuf_len(b) - 1], '\n');
	h = json_loadb((const char *)vbuf_ptr(b), vbuf_len(b) - 1, 0, NULL);
	assert_non_null(h);
	assert_int_equal(json_integer_value(json_object_get(h, "version")), 2);
	assert_int_equal(json_integer_value(json_object_get(h, "width")), 120);
	assert_int_equal(json_integer_value(json_object_get(h, "height")), 40);
	assert_int_equal(json_integer_value(json_object_get(h, "timestamp")), T0 / 1000000);
	assert_string_equal(json_string_value(json_object_get(json_object_get(h, "env"), "TERM")),
	    "xterm-256color");
	assert_string_equal(json_string_value(json_object_get(h, "title")),
	    "prod (alice\x01\xef\xbf\xbd)");
	json_decref(h);

	/* Without TERM and title; bad sizes refused. */
	vbuf_reset(b);
	assert_int_equal(cast_header(80, 24, T0, NULL, NULL, b), 0);
	h = json_loadb((const char *)vbuf_ptr(b), vbuf_len(b), 0, NULL);
	assert_non_null(h);
	assert_null(json_object_get(h, "title"));
	assert_int_equal(json_object_size(json_object_get(h, "env")), 0);
	json_decref(h);
	assert_int_equal(cast_header(0, 24, T0, NULL, NULL, b), VT_ERR_INVALID);
	assert_int_equal(cast_header(80, 10001, T0, NULL, NULL, b), VT_ERR_INVALID);
	vbuf_free(b);
}

/* ---- events and timing ------------------------------------------------------------------------ */

static void
test_events_timing(void **state)
{
	struct cast *c = cast_new(T0);
	struct vbuf *b = vbuf_new(1 << 20);
	struct ev evs[64];
	const char *text;
	size_t n, i;

	(void)state;
	assert_int_equal(cast_output(c, T0 + 1500000, "hello\r\n", 7), 0);
	assert_int_equal(cast_output(c, T0 + 1500000, "more", 4), 0); /* same time: one event */
	assert_int_equal(cast_resize(c, T0 + 2000001, 100, 40), 0);
	assert_int_equal(cast_output(c, T0 + 3000000, "\"q\\\x1b[31m\t\x7f\x01", 11), 0);
	assert_int_equal(cast_output(c, T0 - 5, "late", 4), 0); /* never before the previous */
	assert_int_equal(cast_end(c), 26);
	assert_int_equal(cast_release(c, 7, collect, b), 0);
	assert_int_equal(cast_released(c), 7);
	assert_int_equal(cast_finish(c, collect, b), 0);
	assert_int_equal(cast_released(c), 26);
	assert_int_equal(vbuf_cstr(b, &text), 0);
	assert_string_equal(text,
	    "[1.500000, \"o\", \"hello\\r\\n\"]\n"
	    "[1.500000, \"o\", \"more\"]\n"
	    "[2.000001, \"r\", \"100x40\"]\n"
	    "[3.000000, \"o\", \"\\\"q\\\\\\u001b[31m\\t\\u007f\\u0001late\"]\n");
	n = parse(b, evs, 64);
	assert_int_equal(n, 4);
	assert_true(evs[2].code == 'r');
	assert_string_equal(evs[3].data, "\"q\\\x1b[31m\t\x7f\x01late");
	for (i = 1; i < n; i++)
		assert_true(evs[i].t >= evs[i - 1].t);
	evs_free(evs, n);
	cast_free(c);
	vbuf_free(b);
}

/* Every byte its own event at its own time; released at random points: each keeps its time. */
static void
test_timing_preserved(void **state)
{
	static const char text[] = "The quick brown fox jumps over the lazy dog 0123456789";
	size_t len = sizeof(text) - 1, i, n, k;
	struct ev evs[256];
	int round;

	(void)state;
	for (round = 0; round < 50; round++) {
		struct cast *c = cast_new(T0);
		struct vbuf *b = vbuf_new(1 << 20);
		uint64_t upto = 0;

		for (i = 0; i < len; i++) {
			assert_int_equal(cast_output(c, T0 + (int64_t)i * 1000 + 7, text + i, 1), 0);
			if (randombytes_uniform(4) == 0) {
				upto += randombytes_uniform(5);
				assert_int_equal(cast_release(c, upto, collect, b), 0);
			}
		}
		assert_int_equal(cast_finish(c, collect, b), 0);
		n = parse(b, evs, 256);
		assert_int_equal(n, len);
		for (k = 0; k < n; k++) {
			double want = ((double)k * 1000 + 7) / 1e6;

			assert_int_equal(evs[k].n, 1);
			assert_int_equal(evs[k].data[0], text[k]);
			assert_true(evs[k].t > want - 5e-7 && evs[k].t < want + 5e-7);
		}
		evs_free(evs, n);
		cast_free(c);
		vbuf_free(b);
	}
}

static void
test_long_event_cut(void **state)
{
	static char big[3 * CAST_EVENT_MAX + 17];
	static char out[sizeof(big) + 1];
	struct cast *c = cast_new(T0);
	struct vbuf *b = vbuf_new(1 << 24);
	struct ev evs[16];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(cast_output(c, T0 + 42, big, sizeof(big)), 0);
	assert_int_equal(cast_finish(c, collect, b), 0);
	n = parse(b, evs, 16);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_true(evs[i].n <= CAST_EVENT_MAX);
		assert_true(evs[i].t > 0.0000415 && evs[i].t < 0.0000425);
	}
	evs_free(evs, n);
	assert_int_equal(output_of(b, out, sizeof(out)), sizeof(big));
	assert_memory_equal(out, big, sizeof(big));
	cast_free(c);
	vbuf_free(b);
}

/* ---- UTF-8 ------------------------------------------------------------------------------------ */

static void
test_utf8_carry(void **state)
{
	/* 2-, 3- and 4-byte characters, cut at every byte between two events. */
	static const char *const texts[] = { "caf\xc3\xa9!", "\xe2\x82\xac=euro",
		"\xf0\x9f\x94\x91 key", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91" };
	char out[256];
	size_t t, k, len;

	(void)state;
	for (t = 0; t < VT_NELEM(texts); t++) {
		len = strlen(texts[t]);
		for (k = 0; k <= len; k++) {
			struct cast *c = cast_new(T0);
			struct vbuf *b = vbuf_new(1 << 16);

			assert_int_equal(cast_output(c, T0 + 1, texts[t], k), 0);
			assert_int_equal(cast_release(c, k, collect, b), 0);
			assert_int_equal(cast_output(c, T0 + 2, texts[t] + k, len - k), 0);
			assert_int_equal(cast_finish(c, collect, b), 0);
			/* Every line is valid JSON (so valid UTF-8) and nothing was replaced. */
			assert_int_equal(output_of(b, out, sizeof(out)), len);
			assert_memory_equal(out, texts[t], len);
			cast_free(c);
			vbuf_free(b);
		}
	}
}

static void
check_decode_n(const char *in, size_t n, const char *want, size_t wn)
{
	struct vbuf *b = vbuf_new(1 << 16);
	struct cast *c = cast_new(T0);
	char out[256];

	assert_int_equal(cast_output(c, T0, in, n), 0);
	assert_int_equal(cast_finish(c, collect, b), 0);
	assert_int_equal(output_of(b, out, sizeof(out)), wn);
	assert_memory_equal(out, want, wn);
	cast_free(c);
	vbuf_free(b);
}

static void
check_decode(const char *in, size_t n, const char *want)
{
	check_decode_n(in, n, want, strlen(want));
}

#define FFFD "\xef\xbf\xbd"

static void
test_utf8_invalid(void **state)
{
	(void)state;
	/* As Python's bytes.decode("utf-8", "replace"): one U+FFFD per maximal invalid subpart. */
	check_decode("a\xff" "b", 3, "a" FFFD "b");
	check_decode("\xc3(", 2, FFFD "(");
	check_decode("\xe0\x80\x80", 3, FFFD FFFD FFFD);      /* overlong */
	check_decode("\xed\xa0\x80", 3, FFFD FFFD FFFD);      /* a surrogate */
	check_decode("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD); /* above U+10FFFF */
	check_decode("\xe2\x82(", 3, FFFD "(");                 /* truncated, then ASCII */
	check_decode("\xc0\xaf", 2, FFFD FFFD);
	check_decode("\x80\xbf", 2, FFFD FFFD);
	check_decode("end\xe2\x82", 5, "end" FFFD);           /* truncated at the very end */
	check_decode("\xf0\x9f\x94", 3, FFFD);
	check_decode_n("nul\0x", 5, "nul\0x", 5);                /* NUL escaped, kept */
}

/* ---- redaction -------------------------------------------------------------------------------- */

static void
test_redact_across_events(void **state)
{
	static const char s1[] = "user: sk_", s2[] = "SECRETSECRET", s3[] = "TAIL rest\r\n";
	struct cast *c = cast_new(T0);
	struct vbuf *b = vbuf_new(1 << 16);
	struct ev evs[16];
	size_t n, a = strlen(s1) - 3, e = a + 3 + strlen(s2) + 4;

	(void)state;
	assert_int_equal(cast_output(c, T0 + 1000000, s1, strlen(s1)), 0);
	assert_int_equal(cast_output(c, T0 + 2000000, s2, strlen(s2)), 0);
	assert_int_equal(cast_output(c, T0 + 3000000, s3, strlen(s3)), 0);
	assert_int_equal(cast_release(c, a, collect, b), 0); /* up to the secret's start */
	assert_int_equal(cast_redact(c, a, e, "test-token"), 0);
	assert_int_equal(cast_redact(c, a, e, "test-token"), 0); /* the same again: no-op */
	assert_int_equal(cast_release(c, a + 5, collect, b), 0);
	assert_int_equal(cast_finish(c, collect, b), 0);
	n = parse(b, evs, 16);
	/* The label in the event where the secret starts (time 1), the middle event is empty. */
	assert_int_equal(n, 3);
	assert_string_equal(evs[0].data, "user: ");
	assert_string_equal(evs[1].data, "[REDACTED:test-token]");
	assert_true(evs[1].t > 0.9 && evs[1].t < 1.1);
	assert_string_equal(evs[2].data, " rest\r\n");
	assert_true(evs[2].t > 2.9 && evs[2].t < 3.1);
	evs_free(evs, n);
	cast_free(c);
	vbuf_free(b);
}

static void
test_redact_overlap_and_mask(void **state)
{
	static const char text[] = "A=xxxxOVERLAPyyyy B=\x1b[31mm\xc3\xa9sk\x1b[0m\r\nend";
	struct cast *c = cast_new(T0);
	struct vbuf *b = vbuf_new(1 << 16);
	char out[256];
	size_t len = strlen(text);

	(void)state;
	assert_int_equal(cast_output(c, T0, text, len), 0);
	/* Two findings overlapping: one label, the earliest's. */
	assert_int_equal(cast_redact(c, 6, 17, "second"), 0);
	assert_int_equal(cast_redact(c, 2, 13, "first"), 0);
	/* A masked span: escape sequences, CR and LF stay; each character one '*'. */
	assert_int_equal(cast_redact(c, 20, len - 3, CAST_MASK_RULE), 0);
	assert_int_equal(cast_finish(c, collect, b), 0);
	output_of(b, out, sizeof(out));
	assert_string_equal(out, "A=[REDACTED:first] B=\x1b[31m****\x1b[0m\r\nend");
	cast_free(c);
	vbuf_free(b);
}

static void
test_preview(void **state)
{
	struct cast *c = cast_new(T0);
	struct vbuf *b = vbuf_new(1 << 16), *p1 = vbuf_new(1 << 16), *p2 = vbuf_new(1 << 16);
	char out[256];

	(void)state;
	assert_int_equal(cast_output(c, T0 + 10, "ok ", 3), 0);
	assert_int_equal(cast_release(c, 3, collect, b), 0);
	assert_int_equal(cast_output(c, T0 + 20, "pw=hunter2hunter2 caf\xc3", 22), 0);
	assert_int_equal(cast_redact(c, 6, 20, "pw"), 0);
	/* The preview redacts what is known, leaves the incomplete character out, changes nothing. */
	assert_int_equal(cast_preview(c, UINT64_MAX, p1), 0);
	assert_int_equal(cast_preview(c, UINT64_MAX, p2), 0);
	assert_int_equal(vbuf_len(p1), vbuf_len(p2));
	assert_memory_equal(vbuf_ptr(p1), vbuf_ptr(p2), vbuf_len(p1));
	output_of(p1, out, sizeof(out));
	assert_string_equal(out, "pw=[REDACTED:pw] caf");
	assert_int_equal(cast_released(c), 3);
	/* Then released for real: the same label once, and the character completed. */
	assert_int_equal(cast_output(c, T0 + 30, "\xa9", 1), 0);
	assert_int_equal(cast_finish(c, collect, b), 0);
	output_of(b, out, sizeof(out));
	assert_string_equal(out, "ok pw=[REDACTED:pw] caf\xc3\xa9");
	cast_free(c);
	vbuf_free(b);
	vbuf_free(p1);
	vbuf_free(p2);
}

/*
 * The preview masks, from the scanner's safe offset on, every run of 8+ token bytes (an escape
 * sequence inside one does not end it) and the run still open at the end; short words, blanks,
 * line ends and escape sequences stay. Before the offset nothing changes.
 */
static void
test_preview_masks_unsafe(void **state)
{
	static const char in[] =
	    "ok longword1 \x1b[31mab\x1b[0mcdefgh, x=\"1234567\" \x1b[33mlongtoken\x1b[0m tail";
	struct cast *c = cast_new(T0);
	struct vbuf *pv = vbuf_new(1 << 16);
	char out[256];

	(void)state;
	assert_int_equal(cast_output(c, T0 + 10, in, sizeof(in) - 1), 0);
	assert_int_equal(cast_preview(c, 0, pv), 0);
	output_of(pv, out, sizeof(out));
	assert_string_equal(out, "ok ********* \x1b[31m**\x1b[0m******, x=\"1234567\" "
	    "\x1b[33m*********\x1b[0m ****");
	/* From offset 3 on: "ok " is before it and stays. From the end: nothing is masked. */
	vbuf_reset(pv);
	assert_int_equal(cast_preview(c, 3, pv), 0);
	output_of(pv, out, sizeof(out));
	assert_string_equal(out, "ok ********* \x1b[31m**\x1b[0m******, x=\"1234567\" "
	    "\x1b[33m*********\x1b[0m ****");
	vbuf_reset(pv);
	assert_int_equal(cast_preview(c, sizeof(in) - 1, pv), 0);
	output_of(pv, out, sizeof(out));
	assert_string_equal(out, in);
	/* Released for real, nothing is masked: masking is for the provisional tail only. */
	vbuf_reset(pv);
	assert_int_equal(cast_finish(c, collect, pv), 0);
	output_of(pv, out, sizeof(out));
	assert_string_equal(out, in);
	cast_free(c);
	vbuf_free(pv);
}

/* No receiver: the bytes are dropped unencoded, an event straddling the offset is cut there. */
static void
test_release_without_receiver(void **state)
{
	struct cast *c = cast_new(T0);
	struct vbuf *b = vbuf_new(1 << 16);
	char out[256];

	(void)state;
	assert_int_equal(cast_output(c, T0 + 10, "dropped ", 8), 0);
	assert_int_equal(cast_resize(c, T0 + 11, 100, 30), 0);
	assert_int_equal(cast_output(c, T0 + 20, "half|kept", 9), 0);
	assert_int_equal(cast_redact(c, 2, 6, "r"), 0);
	assert_int_equal(cast_release(c, 12, NULL, NULL), 0);
	assert_int_equal(cast_released(c), 12);
	assert_null(cast_bytes(c, 11, 13));
	assert_non_null(cast_bytes(c, 12, 17));
	assert_int_equal(vbuf_len(b), 0);
	/* What is left is still whole; a cut UTF-8 character is dropped silently at the end. */
	assert_int_equal(cast_output(c, T0 + 30, "\xc3", 1), 0);
	assert_int_equal(cast_release(c, 17, collect, b), 0);
	output_of(b, out, sizeof(out));
	assert_string_equal(out, "|kept");
	assert_int_equal(cast_finish(c, NULL, NULL), 0);
	assert_int_equal(cast_released(c), 18);
	cast_free(c);
	vbuf_free(b);
}

/*
 * The JSON string encoder against a byte-at-a-time reference, on random buffers of the bytes at
 * the edges of every class (controls, 0x7f, quote, backslash, a lone 0xff) at every alignment:
 * its word-at-a-time test for plain runs must neither pass nor stop at a wrong byte.
 */
static void
ref_json(const uint8_t *p, size_t n, struct vbuf *out)
{
	static const char hex[] = "0123456789abcdef";
	char e[8];
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			assert_int_equal(vbuf_put(out, e, 2), 0);
		} else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
			e[0] = '\\';
			e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
			assert_int_equal(vbuf_put(out, e, 2), 0);
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			assert_int_equal(vbuf_put(out, e, 6), 0);
		} else if (c >= 0x80) {
			assert_int_equal(vbuf_put(out, "\xef\xbf\xbd", 3), 0);
		} else {
			assert_int_equal(vbuf_put(out, &c, 1), 0);
		}
	}
}

static void
test_json_bytes_words(void **state)
{
	static const uint8_t edge[] = { 0x00, 0x1b, 0x1f, 0x20, 0x21, 0x22, 0x5b, 0x5c, 0x5d, 0x7e,
		0x7f, 0xff, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a' };
	uint8_t buf[200], carry[4];
	struct vbuf *got = vbuf_new(1 << 12), *want = vbuf_new(1 << 12);
	size_t ncarry, n, i;
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		n = randombytes_uniform(sizeof(buf) + 1);
		for (i = 0; i < n; i++)
			buf[i] = edge[randombytes_uniform(sizeof(edge))];
		vbuf_reset(got);
		vbuf_reset(want);
		ncarry = 0;
		assert_int_equal(cast_json_bytes(buf, n, carry, &ncarry, got), 0);
		assert_int_equal(ncarry, 0);
		ref_json(buf, n, want);
		assert_int_equal(vbuf_len(got), vbuf_len(want));
		assert_memory_equal(vbuf_ptr(got), vbuf_ptr(want), vbuf_len(want));
	}
	vbuf_free(got);
	vbuf_free(want);
}

/* ---- with the real scanner -------------------------------------------------------------------- */

struct found {
	uint64_t start[16], end[16];
	const char *rule[16];
	size_t n;
};

static int
on_find(void *ud, const struct scan_match *m)
{
	struct found *f = ud;

	assert_true(f->n < 16);
	f->start[f->n] = m->start;
	f->end[f->n] = m->end;
	f->rule[f->n] = m->rule_id;
	f->n++;
	return 0;
}

static struct scan_db *DB;
static struct scan_fpset *FPS;
static char STREAM[1024];
static size_t STREAM_LEN;
static char WANT[1024];
static char RULE_SECRET[256], FP_SECRET[] = "Vault-Canary-7f3b9c2d1e";
static const char *RULE_ID;

static int
setup_scan(void **state)
{
	char err[SCAN_ERR_MAX];
	uint8_t keys[SCAN_FP_KEYS_LEN];
	struct scan_fp fp[2];
	struct found f;
	const char *pos = NULL;
	size_t i, nfp;

	(void)state;
	assert_int_equal(secmem_init(), 0);
	assert_int_equal(scan_db_open(&DB, err), 0);
	/* The github-pat rule's first positive example, as the stream's rule-format secret. */
	for (i = 0; i < scan_db_rule_count(DB); i++)
		if (strcmp(scan_db_rule(DB, i)->id, "github-pat") == 0)
			pos = scan_db_rule(DB, i)->positives[0];
	assert_non_null(pos);
	memset(&f, 0, sizeof(f));
	assert_int_equal(scan_buffer(DB, NULL, pos, strlen(pos), on_find, &f), 0);
	assert_int_equal(f.n, 1);
	RULE_ID = f.rule[0];
	memcpy(RULE_SECRET, pos + f.start[0], (size_t)(f.end[0] - f.start[0]));
	randombytes_buf(keys, sizeof(keys));
	assert_int_equal(scan_fpset_new(keys, &FPS), 0);
	assert_int_equal(scan_fp_compute(keys, FP_SECRET, strlen(FP_SECRET), fp, &nfp), 0);
	assert_true(nfp >= 1);
	for (i = 0; i < nfp; i++)
		assert_int_equal(scan_fpset_add(FPS, &fp[i],
		    "0b6a7c1e-3f0d-4f38-9f5e-1d2c3b4a5968/password"), 0);
	STREAM_LEN = (size_t)snprintf(STREAM, sizeof(STREAM),
	    "$ env\r\nHOME=/root\r\nGH=\x1b[1m%s\x1b[0m\r\n$ cat pw\r\n%s\r\nagain: %s\r\n"
	    "caf\xc3\xa9 \xe2\x82\xac done\r\n", RULE_SECRET, FP_SECRET, FP_SECRET);
	snprintf(WANT, sizeof(WANT),
	    "$ env\r\nHOME=/root\r\nGH=\x1b[1m[REDACTED:%s]\x1b[0m\r\n$ cat pw\r\n"
	    "[REDACTED:vault-secret]\r\nagain: [REDACTED:vault-secret]\r\ncaf\xc3\xa9 \xe2\x82\xac"
	    " done\r\n", RULE_ID);
	sodium_memzero(keys, sizeof(keys));
	return 0;
}

static int
teardown_scan(void **state)
{
	(void)state;
	scan_fpset_free(FPS);
	scan_db_free(DB);
	return 0;
}

static int
collect_findings(void *ud, const struct scan_match *m)
{
	struct cast *c = ud;

	assert_int_equal(cast_redact(c, m->start, m->end, m->rule_id), 0);
	return 0;
}

/* No 8 consecutive bytes of secret are in out. */
static void
no_part_of(const char *out, size_t len, const char *secret)
{
	size_t i;

	for (i = 0; i + 8 <= strlen(secret); i++)
		assert_false(contains(out, len, secret + i, 8));
}

/* Feeds [a, b) at time t as the recorder does, checking the provisional preview each time. */
static void
feed(struct cast *c, struct scan_stream *st, struct vbuf *lines, int64_t t, const char *p,
    size_t n)
{
	struct vbuf *pv = vbuf_new(1 << 20);
	char out[2048];
	size_t len;

	assert_int_equal(cast_output(c, t, p, n), 0);
	assert_int_equal(scan_stream_feed(st, p, n, collect_findings, c), 0);
	assert_int_equal(cast_release(c, scan_stream_safe_orig(st), collect, lines), 0);
	/* What is final so far never holds a secret, nor a part of one. */
	len = output_of(lines, out, sizeof(out));
	no_part_of(out, len, RULE_SECRET);
	no_part_of(out, len, FP_SECRET);
	/*
	 * The provisional tail is valid asciicast too, and neither holds a secret nor 8 bytes of
	 * one: what the scanner has found is redacted, what it has not cleared yet is masked.
	 */
	assert_int_equal(cast_preview(c, scan_stream_safe_orig(st), pv), 0);
	len = output_of(pv, out, sizeof(out));
	no_part_of(out, len, RULE_SECRET);
	no_part_of(out, len, FP_SECRET);
	vbuf_free(pv);
}

static void
test_scan_every_split(void **state)
{
	char out[2048];
	size_t k, len;

	(void)state;
	for (k = 0; k <= STREAM_LEN; k++) {
		struct cast *c = cast_new(T0);
		struct vbuf *lines = vbuf_new(1 << 20);
		struct scan_stream *st = NULL;

		assert_int_equal(scan_stream_open(DB, FPS, &st), 0);
		feed(c, st, lines, T0 + 100, STREAM, k);
		feed(c, st, lines, T0 + 200, STREAM + k, STREAM_LEN - k);
		assert_int_equal(scan_stream_close(st, collect_findings, c), 0);
		assert_int_equal(cast_finish(c, collect, lines), 0);
		len = output_of(lines, out, sizeof(out));
		assert_false(contains(out, len, RULE_SECRET, strlen(RULE_SECRET)));
		assert_false(contains(out, len, FP_SECRET, strlen(FP_SECRET)));
		assert_string_equal(out, WANT);
		cast_free(c);
		vbuf_free(lines);
	}
}

/* ---- the recorder without a database (record = 0) ---------------------------------------------- */

struct exp_count {
	int rule, fp;
	char labels[4][SCAN_FP_LABEL_MAX + 1];
};

static int
on_exposure(void *ud, const struct scan_match *m)
{
	struct exp_count *e = ud;

	if (m->label != NULL)
		e->fp++;
	else
		e->rule++;
	return 0;
}

static int
refuse_exposure(void *ud, const struct scan_match *m)
{
	(void)ud;
	(void)m;
	return 1;
}

static void
test_recorder_scan_only(void **state)
{
	struct vt_uuid org, sess;
	struct recorder_params prm;
	struct recorder_stats st;
	struct recorder *r;
	size_t k;

	(void)state;
	randombytes_buf(&org, sizeof(org));
	randombytes_buf(&sess, sizeof(sess));
	for (k = 0; k <= STREAM_LEN; k += 7) {
		struct exp_count e;
		size_t off = 0, step;
		int64_t t = T0;

		memset(&e, 0, sizeof(e));
		memset(&prm, 0, sizeof(prm));
		prm.org = &org;
		prm.session = &sess;
		prm.record = 0;
		prm.start_us = T0;
		prm.on_exposure = on_exposure;
		prm.ud = &e;
		assert_int_equal(recorder_open(NULL, NULL, DB, FPS, &prm, &r), 0);
		/* The stream twice, in random pieces: each secret is one exposure. */
		while (off < 2 * STREAM_LEN) {
			step = 1 + randombytes_uniform(k + 1);
			if (off < STREAM_LEN && off + step > STREAM_LEN)
				step = STREAM_LEN - off;
			if (off + step > 2 * STREAM_LEN)
				step = 2 * STREAM_LEN - off;
			assert_int_equal(recorder_output(r, t += 1000,
			    STREAM + (off % STREAM_LEN), step), 0);
			off += step;
		}
		assert_int_equal(recorder_deadline(r), INT64_MAX); /* nothing to store */
		assert_true(recorder_memory(r) > 0);
		assert_int_equal(recorder_close(r, t, &st), 0);
		assert_int_equal(e.rule, 1);
		assert_int_equal(e.fp, 1);
		assert_int_equal(st.exposures, 2);
		assert_int_equal(st.bytes_out, 2 * STREAM_LEN);
		assert_int_equal(st.recorded, 0);
	}
	/* An exposure that cannot be audited fails the call, and every later one. */
	memset(&prm, 0, sizeof(prm));
	prm.org = &org;
	prm.session = &sess;
	prm.start_us = T0;
	prm.on_exposure = refuse_exposure;
	assert_int_equal(recorder_open(NULL, NULL, DB, FPS, &prm, &r), 0);
	assert_int_not_equal(recorder_output(r, T0 + 1, STREAM, STREAM_LEN), 0);
	assert_int_not_equal(recorder_output(r, T0 + 2, "x", 1), 0);
	assert_int_not_equal(recorder_close(r, T0 + 3, &st), 0);
	/* A made-up window size is ignored, not a failure. */
	prm.on_exposure = on_exposure;
	prm.ud = &(struct exp_count){ 0 };
	prm.width = 0;
	prm.height = 100000;
	assert_int_equal(recorder_open(NULL, NULL, DB, FPS, &prm, &r), 0);
	assert_int_equal(recorder_resize(r, T0 + 1, 0, 24), 0);
	assert_int_equal(recorder_resize(r, T0 + 2, 80, 10001), 0);
	assert_int_equal(recorder_resize(r, T0 + 3, 132, 43), 0);
	assert_int_equal(recorder_output(r, T0 + 4, "x", 1), 0);
	assert_int_equal(recorder_close(r, T0 + 5, &st), 0);
	/* Recording without a pool is refused; close is NULL-safe. */
	prm.record = 1;
	assert_int_equal(recorder_open(NULL, NULL, DB, FPS, &prm, &r), VT_ERR_INVALID);
	assert_null(r);
	assert_int_equal(recorder_close(NULL, 0, &st), 0);
}

/* Escape-heavy output: the scanner's safe offset lags, the recorder still holds a bounded amount. */
static void
test_recorder_bounded(void **state)
{
	static const char unit[] = "\x1b[38;5;123;48;5;200mx"; /* 1 visible byte in 22 */
	static char flood[16384];
	struct vt_uuid org, sess;
	struct recorder_params prm;
	struct recorder_stats st;
	struct exp_count e;
	struct recorder *r;
	size_t i, max = 0, half = 0, m;

	(void)state;
	for (i = 0; i + sizeof(unit) - 1 <= sizeof(flood); i += sizeof(unit) - 1)
		memcpy(flood + i, unit, sizeof(unit) - 1);
	randombytes_buf(&org, sizeof(org));
	randombytes_buf(&sess, sizeof(sess));
	memset(&e, 0, sizeof(e));
	memset(&prm, 0, sizeof(prm));
	prm.org = &org;
	prm.session = &sess;
	prm.start_us = T0;
	prm.on_exposure = on_exposure;
	prm.ud = &e;
	assert_int_equal(recorder_open(NULL, NULL, DB, FPS, &prm, &r), 0);
	for (i = 0; i < 256; i++) {
		assert_int_equal(recorder_output(r, T0 + (int64_t)i, flood, sizeof(flood)), 0);
		if ((m = recorder_memory(r)) > max)
			max = m;
		if (i == 127)
			half = max;
	}
	assert_int_equal(recorder_output(r, T0 + 999, STREAM, STREAM_LEN), 0);
	print_message("recorder memory over 4 MiB of escape-heavy output: at most %zu bytes (%zu "
	    "over the first 2 MiB)\n", max, half);
	/*
	 * Bounded, not growing with the input: the pending output is capped at the scanner's
	 * window plus 4 x SCAN_REDACT_ANSI_SLACK (then released masked); much of the figure is the
	 * scan stream's own offset map of the escape sequences.
	 */
	assert_true(max < (size_t)2 << 20);
	assert_true(max < half + half / 4);
	assert_int_equal(recorder_close(r, T0 + 1000, &st), 0);
	assert_int_equal(st.exposures, 2); /* still scanned */
}

/* Stored chunks: text is packed as a zstd frame and comes back exactly; bytes that do not
 * shrink are stored as they are; a damaged or oversized frame is refused. */
static void
test_chunk_pack(void **state)
{
	struct vbuf *text = vbuf_new(1 << 20), *packed = vbuf_new(1 << 20), *back = vbuf_new(1 << 20);
	uint8_t rnd[4096], *p;
	size_t i, n;

	(void)state;
	for (i = 0; i < 2000; i++) {
		char line[64];
		int k = snprintf(line, sizeof(line), "[%zu.5, \"o\", \"drwxr-xr-x 2 root root %zu\\r\\n\"]\n",
		    i, i * 7);

		assert_int_equal(vbuf_put(text, line, (size_t)k), 0);
	}
	assert_int_equal(cast_chunk_pack(vbuf_ptr(text), vbuf_len(text), packed), 0);
	assert_true(vbuf_len(packed) * 4 < vbuf_len(text));
	assert_memory_equal(vbuf_ptr(packed), "\x28\xb5\x2f\xfd", 4);
	assert_int_equal(cast_chunk_unpack(vbuf_ptr(packed), vbuf_len(packed), 1 << 20, back), 0);
	assert_int_equal(vbuf_len(back), vbuf_len(text));
	assert_memory_equal(vbuf_ptr(back), vbuf_ptr(text), vbuf_len(text));
	/* Past the reader's limit. */
	vbuf_reset(back);
	assert_int_equal(cast_chunk_unpack(vbuf_ptr(packed), vbuf_len(packed), vbuf_len(text) - 1,
	    back), VT_ERR_TOO_LARGE);
	/* A damaged frame. */
	n = vbuf_len(packed);
	p = (uint8_t *)(uintptr_t)vbuf_ptr(packed);
	p[n / 2] ^= 0x55;
	p[n - 1] ^= 0x55;
	vbuf_reset(back);
	assert_int_equal(cast_chunk_unpack(vbuf_ptr(packed), n, 1 << 20, back), VT_ERR_INVALID);
	/* Random bytes do not shrink: stored as they are, read back as they are. */
	randombytes_buf(rnd, sizeof(rnd));
	rnd[0] = '[';
	vbuf_reset(packed);
	vbuf_reset(back);
	assert_int_equal(cast_chunk_pack(rnd, sizeof(rnd), packed), 0);
	assert_int_equal(vbuf_len(packed), sizeof(rnd));
	assert_int_equal(cast_chunk_unpack(vbuf_ptr(packed), vbuf_len(packed), 1 << 20, back), 0);
	assert_memory_equal(vbuf_ptr(back), rnd, sizeof(rnd));
	vbuf_free(text);
	vbuf_free(packed);
	vbuf_free(back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_events_timing),
		cmocka_unit_test(test_timing_preserved),
		cmocka_unit_test(test_long_event_cut),
		cmocka_unit_test(test_utf8_carry),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_redact_across_events),
		cmocka_unit_test(test_redact_overlap_and_mask),
		cmocka_unit_test(test_preview),
		cmocka_unit_test(test_preview_masks_unsafe),
		cmocka_unit_test(test_release_without_receiver),
		cmocka_unit_test(test_json_bytes_words),
		cmocka_unit_test_setup_teardown(test_scan_every_split, setup_scan, teardown_scan),
		cmocka_unit_test_setup_teardown(test_recorder_scan_only, setup_scan, teardown_scan),
		cmocka_unit_test_setup_teardown(test_recorder_bounded, setup_scan, teardown_scan),
		cmocka_unit_test(test_chunk_pack),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
