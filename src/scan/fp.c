/*
 * Vault fingerprints: what the server stores for a secret field value (never the value), the
 * per-org set the scanner looks tokens up in, and the delimiter table both sides cut text with.
 *
 * A value is cut at the delimiters into tokens; its longest token (the first of equal ones) is
 * the anchor. The stream tokenizer cuts output the same way, so when the value is printed, its
 * anchor comes out as one token, whatever delimiters the rest of the value holds (a password with
 * spaces, a URL, a PEM block): a SipHash hit on the anchor points at where the whole value would
 * start (anchor_off bytes earlier) and the HMAC over its len bytes confirms it. The value is
 * first put through the same ANSI/CR filter as the output, so CRLF line ends match either way.
 *
 * Delimiters: every ASCII control byte (so whitespace and line ends) and DEL, space, and
 *   " ' ` = : , ; ( ) [ ] { } < > | & ? # @ / \
 * which separate values from their surroundings in shells (quotes, `export K=V`, pipes,
 * redirections, `$(...)`), env dumps (K=V), JSON and YAML (quotes, ':', ',', brackets), URLs
 * (scheme ':', '/', userinfo '@', query '?', '&', '=', fragment '#') and log lines. Not
 * delimiters: letters, digits, bytes >= 0x80, and - _ . + ~ ! $ % ^ *, which are common inside
 * tokens and passwords (base64 '+', JWT '.', host names). See docs/scanner.md for what follows.
 */
#include "scan/scan_internal.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "crypto/hash.h"

#define FPSET_MAX_ENTRIES ((size_t)1 << 24)
#define FP_VALUE_IN_MAX (4 * SCAN_FP_MAX_LEN) /* raw value bytes looked at (before filtering) */

#define C1(x) [x] = 1
const uint8_t SCAN_DELIM[256] = {
	C1(0x00), C1(0x01), C1(0x02), C1(0x03), C1(0x04), C1(0x05), C1(0x06), C1(0x07),
	C1(0x08), C1(0x09), C1(0x0a), C1(0x0b), C1(0x0c), C1(0x0d), C1(0x0e), C1(0x0f),
	C1(0x10), C1(0x11), C1(0x12), C1(0x13), C1(0x14), C1(0x15), C1(0x16), C1(0x17),
	C1(0x18), C1(0x19), C1(0x1a), C1(0x1b), C1(0x1c), C1(0x1d), C1(0x1e), C1(0x1f),
	C1(' '), C1('"'), C1('\''), C1('`'), C1('='), C1(':'), C1(','), C1(';'),
	C1('('), C1(')'), C1('['), C1(']'), C1('{'), C1('}'), C1('<'), C1('>'),
	C1('|'), C1('&'), C1('?'), C1('#'), C1('@'), C1('/'), C1('\\'), C1(0x7f),
};
#undef C1

uint64_t
scan_fp_sip(const uint8_t key[16], const uint8_t *p, size_t n)
{
	return scan_siphash24(scan_le64(key), scan_le64(key + 8), p, n);
}

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* One fingerprint of the n filtered bytes at v; 0 and *made = 1, or 0 and *made = 0 if none. */
static int
fp_one(const uint8_t keys[static SCAN_FP_KEYS_LEN], const uint8_t *v, size_t n,
    struct scan_fp *out, int *made)
{
	uint8_t mac[HMAC_MAX_LEN];
	size_t i = 0, best_off = 0, best_len = 0, maclen = 0;
	int r;

	*made = 0;
	if (n < SCAN_FP_MIN_LEN || n > SCAN_FP_MAX_LEN)
		return 0;
	while (i < n) {
		size_t t;

		while (i < n && SCAN_DELIM[v[i]])
			i++;
		for (t = i; i < n && !SCAN_DELIM[v[i]]; i++)
			;
		if (i - t > best_len) {
			best_len = i - t;
			best_off = t;
		}
	}
	if (best_len < SCAN_FP_MIN_LEN)
		return 0;
	if ((r = hmac_compute(HMAC_SHA256, keys + 16, 32, v, n, mac, &maclen)) != 0)
		return r;
	if (maclen != 32) {
		sodium_memzero(mac, sizeof(mac));
		return VT_ERR_CRYPTO;
	}
	memset(out, 0, sizeof(*out));
	out->anchor_sip = scan_fp_sip(keys, v + best_off, best_len);
	out->anchor_off = (uint32_t)best_off;
	out->len = (uint32_t)n;
	memcpy(out->mac, mac, 32);
	sodium_memzero(mac, sizeof(mac));
	*made = 1;
	return 0;
}

int
scan_fp_compute(const uint8_t keys[static SCAN_FP_KEYS_LEN], const void *value, size_t n,
    struct scan_fp out[static 2], size_t *nout)
{
	struct scan_ansi a = { 0 };
	struct secmem *f = NULL;
	const uint8_t *v;
	size_t len, lo, hi;
	long k, k2;
	int made = 0, r = VT_ERR_INTERNAL;

	*nout = 0;
	memset(out, 0, 2 * sizeof(*out));
	if (n < SCAN_FP_MIN_LEN || n > FP_VALUE_IN_MAX)
		return 0;
	if ((f = secmem_new(n + SCAN_CR_RUN_MAX)) == NULL)
		return VT_ERR_NOMEM;
	/* The value as the scanner sees output: escape sequences removed, CR+ LF folded. */
	if ((k = scan_ansi_filter(&a, value, n, secmem_ptr(f), NULL)) < 0 ||
	    (k2 = scan_ansi_finish(&a, secmem_ptr(f) + k, NULL)) < 0) {
		r = VT_ERR_NOMEM;
		goto out;
	}
	v = secmem_ptr(f);
	len = (size_t)(k + k2);
	if ((r = fp_one(keys, v, len, &out[0], &made)) != 0)
		goto out;
	*nout = (size_t)made;
	for (lo = 0; lo < len && is_space(v[lo]); lo++)
		;
	for (hi = len; hi > lo && is_space(v[hi - 1]); hi--)
		;
	if (lo > 0 || hi < len) {
		if ((r = fp_one(keys, v + lo, hi - lo, &out[*nout], &made)) != 0)
			goto out;
		*nout += (size_t)made;
	}
	r = 0;
 out:
	if (r != 0) {
		sodium_memzero(out, 2 * sizeof(*out));
		*nout = 0;
	}
	secmem_free(f);
	return r;
}

int
scan_fpset_new(const uint8_t keys[static SCAN_FP_KEYS_LEN], struct scan_fpset **out)
{
	struct scan_fpset *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return VT_ERR_NOMEM;
	if ((s->keys = secmem_dup(keys, SCAN_FP_KEYS_LEN)) == NULL) {
		free(s);
		return VT_ERR_NOMEM;
	}
	*out = s;
	return 0;
}

static int
rehash(struct scan_fpset *s, size_t nslots)
{
	uint64_t *k = calloc(nslots, sizeof(*k));
	uint32_t *x = calloc(nslots, sizeof(*x));
	uint64_t *b = calloc(nslots * 4 / 64, sizeof(*b));
	size_t i, j, mask = nslots - 1;

	if (k == NULL || x == NULL || b == NULL) {
		free(k);
		free(x);
		free(b);
		return VT_ERR_NOMEM;
	}
	for (i = 0; i < s->nslots; i++) {
		if (s->slot_key[i] == 0)
			continue;
		for (j = (size_t)s->slot_key[i] & mask; k[j] != 0; j = (j + 1) & mask)
			;
		k[j] = s->slot_key[i];
		x[j] = s->slot_idx[i];
	}
	free(s->slot_key);
	free(s->slot_idx);
	free(s->bloom);
	s->slot_key = k;
	s->slot_idx = x;
	s->bloom = b;
	s->nslots = nslots;
	for (i = 0; i < nslots; i++) {
		if (k[i] != 0)
			b[scan_fp_bloom_word(s, k[i])] |= scan_fp_bloom_mask(k[i]);
	}
	return 0;
}

int
scan_fpset_add(struct scan_fpset *s, const struct scan_fp *fp, const char *label)
{
	size_t ll, need, mask, j;
	uint64_t key;
	int r;

	if (label == NULL)
		label = "";
	if ((ll = strnlen(label, SCAN_FP_LABEL_MAX + 1)) > SCAN_FP_LABEL_MAX)
		return VT_ERR_RANGE;
	if (fp->len < SCAN_FP_MIN_LEN || fp->len > SCAN_FP_MAX_LEN ||
	    fp->anchor_off > fp->len - SCAN_FP_MIN_LEN)
		return VT_ERR_INVALID;
	if (s->nent >= FPSET_MAX_ENTRIES)
		return VT_ERR_TOO_LARGE;
	if ((s->nent + 1) * 2 > s->nslots &&
	    (r = rehash(s, s->nslots == 0 ? 64 : s->nslots * 2)) != 0)
		return r;
	if (s->nent == s->capent) {
		size_t cap = s->capent == 0 ? 16 : s->capent * 2;
		struct scan_fp_entry *e = realloc(s->ent, cap * sizeof(*e));

		if (e == NULL)
			return VT_ERR_NOMEM;
		s->ent = e;
		s->capent = cap;
	}
	need = s->nlabels + ll + 1;
	if (need > s->caplabels) {
		size_t cap = s->caplabels == 0 ? 1024 : s->caplabels;
		char *l;

		while (cap < need)
			cap *= 2;
		if ((l = realloc(s->labels, cap)) == NULL)
			return VT_ERR_NOMEM;
		s->labels = l;
		s->caplabels = cap;
	}
	memcpy(s->labels + s->nlabels, label, ll + 1);
	s->ent[s->nent].anchor_off = fp->anchor_off;
	s->ent[s->nent].len = fp->len;
	s->ent[s->nent].label_off = (uint32_t)s->nlabels;
	memcpy(s->ent[s->nent].mac, fp->mac, 32);
	s->nlabels = need;
	if (fp->len - fp->anchor_off > s->max_tok)
		s->max_tok = fp->len - fp->anchor_off;

	key = scan_fp_slotkey(fp->anchor_sip);
	mask = s->nslots - 1;
	for (j = (size_t)key & mask; s->slot_key[j] != 0; j = (j + 1) & mask)
		;
	s->slot_key[j] = key;
	s->slot_idx[j] = (uint32_t)s->nent;
	s->bloom[scan_fp_bloom_word(s, key)] |= scan_fp_bloom_mask(key);
	s->nent++;
	return 0;
}

size_t
scan_fpset_count(const struct scan_fpset *s)
{
	return s->nent;
}

size_t
scan_fpset_memory(const struct scan_fpset *s)
{
	return sizeof(*s) + SCAN_FP_KEYS_LEN + s->nslots * (sizeof(uint64_t) + sizeof(uint32_t)) +
	    s->nslots * 4 / 8 +
	    s->capent * sizeof(*s->ent) + s->caplabels;
}

void
scan_fpset_free(struct scan_fpset *s)
{
	if (s == NULL)
		return;
	secmem_free(s->keys);
	free(s->slot_key);
	free(s->slot_idx);
	free(s->bloom);
	if (s->ent != NULL)
		sodium_memzero(s->ent, s->capent * sizeof(*s->ent));
	free(s->ent);
	free(s->labels);
	free(s);
}
