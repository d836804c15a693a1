/*
 * Unit tests for audit/chain and audit/bundle: the checkpoint text (exact bytes, strict reading,
 * every malformed extension line signed with the right key), the origin's organization, the
 * inclusion check behind `audit prove`, the bundle writer, and the offline verifier. A log of 300
 * canonical rows (audit_row_canonical, rows of varying lengths, some above 1 KiB) is sealed by a
 * checkpoint every 37 rows; its bundle verifies with exact counts, and each tampering — altered,
 * missing, swapped, forged, duplicated, removed or foreign rows, deleted, edited, re-signed,
 * rolled-back or reordered checkpoints, truncation, trailing data, the wrong key — fails with the
 * documented first bad index and reason. Witness files catch what a self-consistent bundle cannot
 * show: truncation, rewritten history, re-signed chains and counter rollback. Random byte flips
 * never verify, and `vaultterm audit verify` maps the outcomes to its output and exit codes.
 */
#include "audit/bundle.h"
#include "audit/chain.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "audit/merkle.h"
#include "base/encode.h"
#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "cli/cli.h"
#include "crypto/hash.h"
#include "crypto/note.h"

#define H MERKLE_HASH_LEN
#define ORG_UUID "0b7e3c1a-5d2f-4e6a-9c8b-1f2e3d4c5b6a"
#define OTHER_UUID "9d3c8f5e-1a2b-4c6d-8e0f-123456789abc"
#define ORIGIN "vt.example.com/audit/" ORG_UUID
#define OTHER_ORIGIN "vt.example.com/audit/" OTHER_UUID
#define T0 ((int64_t)1795905601) /* 2026-11-28T22:40:01Z */
#define NROWS 300
#define EVERY 37
#define MAXROWS 400
#define MAXCP 16
#define MAXLINES 1024
#define FLIPS 1500

static struct note_signer *signer;      /* the log's key */
static struct note_signer *evil;        /* another key with the same name */
static struct note_signer *other;       /* the key of another org's log */
static struct note_verifier *key, *evil_key, *other_key;

/* ---------------------------------------------------------------------------------------------
 * Deterministic PRNG (splitmix64); the seed is random per run and printed for reproduction.
 */
static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---------------------------------------------------------------------------------------------
 * Rows and logs
 */

/* Canonical bytes of row i of org (NULL: a system row), its detail padded by pad bytes. */
static struct vbuf *
row_make(uint64_t i, const char *org, size_t pad)
{
	char actor_type[] = "user", email[] = "alice@example.com", action[] = "SECRET_REVEALED";
	char rtype[] = "secret", rid[] = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
	char outcome[] = "success", ip[] = "192.0.2.7", reqid[40], *detail;
	struct audit_row row;
	struct vbuf *b = vbuf_new(BUNDLE_ROW_MAX);
	size_t padlen = (size_t)(i % 5) + pad;
	char *padding = xmalloc(padlen + 1);

	memset(&row, 0, sizeof(row));
	memset(row.id.b, 0xa5, sizeof(row.id.b));
	memcpy(row.id.b, &i, sizeof(i));
	if (org != NULL) {
		row.has_org = 1;
		assert_int_equal(uuid_parse(org, &row.org), 0);
	}
	row.time_us = T0 * 1000000 + (int64_t)i * 1000;
	row.actor_type = actor_type;
	row.has_actor_id = 1;
	memset(row.actor_id.b, 0x11, sizeof(row.actor_id.b));
	row.actor_email = i % 3 == 0 ? NULL : email;
	row.action = action;
	row.resource_type = rtype;
	row.resource_id = rid;
	row.outcome = outcome;
	row.source_ip = ip;
	snprintf(reqid, sizeof(reqid), "%032llx", (unsigned long long)i);
	row.request_id = reqid;
	memset(padding, 'x', padlen);
	padding[padlen] = '\0';
	detail = xasprintf("{\"i\":%llu,\"pad\":\"%s\"}", (unsigned long long)i, padding);
	row.detail = detail;
	assert_int_equal(audit_row_canonical(&row, b), 0);
	free(detail);
	free(padding);
	return b;
}

static void
leaf_of(const struct vbuf *row, uint8_t out[H])
{
	assert_int_equal(merkle_leaf_hash(vbuf_ptr(row), vbuf_len(row), out), 0);
}

/* A signed checkpoint note (C string) and the SHA-256 of its text. */
static char *
cp_sign(const struct note_signer *s, const char *origin, uint64_t size, const uint8_t root[H],
    const uint8_t *prev, uint64_t counter, int64_t t, uint8_t text_hash[H])
{
	struct vbuf *text = vbuf_new(NOTE_MAX), *note = vbuf_new(NOTE_MAX);
	char *out;

	assert_int_equal(chain_checkpoint_text(origin, size, root, prev, counter, t, text), 0);
	if (text_hash != NULL)
		hash_sha256(vbuf_ptr(text), vbuf_len(text), text_hash);
	assert_int_equal(note_sign(s, (const char *)vbuf_ptr(text), vbuf_len(text), note), 0);
	out = xstrndup((const char *)vbuf_ptr(note), vbuf_len(note));
	vbuf_free(text);
	vbuf_free(note);
	return out;
}

/* Signs arbitrary text with s; a C string. */
static char *
sign_text(const struct note_signer *s, const char *text)
{
	struct vbuf *note = vbuf_new(NOTE_MAX);
	char *out;

	assert_int_equal(note_sign(s, text, strlen(text), note), 0);
	out = xstrndup((const char *)vbuf_ptr(note), vbuf_len(note));
	vbuf_free(note);
	return out;
}

struct log {
	size_t n;
	struct vbuf *row[MAXROWS];
	uint8_t leaf[MAXROWS][H];
	size_t ncp;
	uint64_t cp_size[MAXCP];
	uint64_t cp_counter[MAXCP];
	char *cp_note[MAXCP];
};

struct log_opts {
	const struct note_signer *s; /* NULL: the log's key */
	const uint64_t *counters;    /* NULL: 10, 20, 30, ... */
	const int64_t *times;        /* NULL: T0 + 60 k */
	size_t forged;               /* a row replaced by another (with its leaf hash) ... */
	int forge;                   /* ... when set */
};

/* The log of n rows of our org, sealed every `every` rows. */
static void
log_build(struct log *L, size_t n, size_t every, const struct log_opts *o)
{
	struct merkle_frontier f;
	uint8_t root[H], th[H];
	size_t i;

	memset(L, 0, sizeof(*L));
	assert_true(n <= MAXROWS);
	merkle_frontier_init(&f);
	L->n = n;
	for (i = 0; i < n; i++) {
		/* Every 50th row has a detail above 1 KiB. */
		L->row[i] = row_make(i, ORG_UUID, i % 50 == 7 ? 3000 : 0);
		if (o != NULL && o->forge && o->forged == i) {
			vbuf_free(L->row[i]);
			L->row[i] = row_make(i, ORG_UUID, 11);
		}
		leaf_of(L->row[i], L->leaf[i]);
		assert_int_equal(merkle_frontier_append(&f, L->leaf[i]), 0);
		if ((i + 1) % every == 0) {
			size_t k = L->ncp;

			assert_true(k < MAXCP);
			merkle_frontier_root(&f, root);
			L->cp_size[k] = i + 1;
			L->cp_counter[k] = o != NULL && o->counters != NULL ? o->counters[k] :
			    10 * (k + 1);
			L->cp_note[k] = cp_sign(o != NULL && o->s != NULL ? o->s : signer, ORIGIN,
			    i + 1, root, k == 0 ? NULL : th, L->cp_counter[k],
			    o != NULL && o->times != NULL ? o->times[k] : T0 + 60 * (int64_t)k, th);
			L->ncp++;
		}
	}
}

static void
log_free(struct log *L)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		vbuf_free(L->row[i]);
	for (i = 0; i < L->ncp; i++)
		free(L->cp_note[i]);
	memset(L, 0, sizeof(*L));
}

/* ---------------------------------------------------------------------------------------------
 * Bundles as arrays of lines (each without its '\n'), to tamper with
 */
struct lines {
	char *v[MAXLINES];
	size_t n;
};

/* Splits the writer's output into lines. */
static void
lines_add_buf(struct lines *ls, struct vbuf *b)
{
	const char *p = (const char *)vbuf_ptr(b), *end = p + vbuf_len(b);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		assert_non_null(nl);
		assert_true(ls->n < MAXLINES);
		ls->v[ls->n++] = xstrndup(p, (size_t)(nl - p));
		p = nl + 1;
	}
	vbuf_reset(b);
}

static char *
leaf_line(uint64_t index, const uint8_t hash[H], const struct vbuf *row)
{
	struct vbuf *b = vbuf_new(BUNDLE_LINE_MAX + 1);
	char *s;

	assert_int_equal(bundle_write_leaf(b, index, hash, row != NULL ? vbuf_ptr(row) : NULL,
	    row != NULL ? vbuf_len(row) : 0), 0);
	s = xstrndup((const char *)vbuf_ptr(b), vbuf_len(b) - 1);
	vbuf_free(b);
	return s;
}

static char *
cp_line(const char *note)
{
	struct vbuf *b = vbuf_new(BUNDLE_LINE_MAX + 1);
	char *s;

	assert_int_equal(bundle_write_checkpoint(b, note, strlen(note)), 0);
	s = xstrndup((const char *)vbuf_ptr(b), vbuf_len(b) - 1);
	vbuf_free(b);
	return s;
}

/* The bundle of the first n rows of L, with the checkpoints they reach. */
static void
lines_from_log(const struct log *L, size_t n, struct lines *ls)
{
	char vkey[NOTE_VKEY_MAX + 1];
	struct vbuf *b = vbuf_new(VBUF_MAX_ANY);
	size_t i, k = 0;

	memset(ls, 0, sizeof(*ls));
	note_signer_format_vkey(signer, vkey);
	assert_int_equal(bundle_write_header(b, ORIGIN, vkey), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(bundle_write_leaf(b, i, L->leaf[i], vbuf_ptr(L->row[i]),
		    vbuf_len(L->row[i])), 0);
		for (; k < L->ncp && L->cp_size[k] == i + 1; k++)
			assert_int_equal(bundle_write_checkpoint(b, L->cp_note[k],
			    strlen(L->cp_note[k])), 0);
	}
	assert_int_equal(bundle_write_end(b, n, k), 0);
	lines_add_buf(ls, b);
	vbuf_free(b);
}

static void
lines_free(struct lines *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		free(ls->v[i]);
	ls->n = 0;
}

/* Position of the first line starting with prefix, from `from`. */
static size_t
lines_find(const struct lines *ls, size_t from, const char *prefix)
{
	size_t i;

	for (i = from; i < ls->n; i++)
		if (strncmp(ls->v[i], prefix, strlen(prefix)) == 0)
			return i;
	fail_msg("no line starts with '%s'", prefix);
	return 0;
}

static size_t
leaf_pos(const struct lines *ls, uint64_t i)
{
	char p[40];

	snprintf(p, sizeof(p), "leaf %llu ", (unsigned long long)i);
	return lines_find(ls, 0, p);
}

/* Position of the k-th checkpoint line (from 1). */
static size_t
cp_pos(const struct lines *ls, size_t k)
{
	size_t pos = 0;

	for (; k > 0; k--)
		pos = lines_find(ls, pos + (pos != 0), "checkpoint ");
	return pos;
}

static void
lines_set(struct lines *ls, size_t pos, char *s)
{
	assert_true(pos < ls->n);
	free(ls->v[pos]);
	ls->v[pos] = s;
}

static void
lines_del(struct lines *ls, size_t pos)
{
	assert_true(pos < ls->n);
	free(ls->v[pos]);
	memmove(&ls->v[pos], &ls->v[pos + 1], (ls->n - pos - 1) * sizeof(ls->v[0]));
	ls->n--;
}

static void
lines_ins(struct lines *ls, size_t pos, char *s)
{
	assert_true(pos <= ls->n && ls->n < MAXLINES);
	memmove(&ls->v[pos + 1], &ls->v[pos], (ls->n - pos) * sizeof(ls->v[0]));
	ls->v[pos] = s;
	ls->n++;
}

static void
lines_swap(struct lines *ls, size_t a, size_t b)
{
	char *t = ls->v[a];

	ls->v[a] = ls->v[b];
	ls->v[b] = t;
}

static char *
lines_join(const struct lines *ls, size_t *len)
{
	size_t i, n = 0, o = 0;
	char *s;

	for (i = 0; i < ls->n; i++)
		n += strlen(ls->v[i]) + 1;
	s = xmalloc(n + 1);
	for (i = 0; i < ls->n; i++) {
		size_t l = strlen(ls->v[i]);

		memcpy(s + o, ls->v[i], l);
		o += l;
		s[o++] = '\n';
	}
	s[o] = '\0';
	*len = n;
	return s;
}

/* bundle_verify over buf[0 .. len). */
static int
verify_buf(const char *buf, size_t len, const struct note_verifier *k, const struct witness *w,
    struct bundle_result *res)
{
	FILE *f = len > 0 ? fmemopen((void *)(uintptr_t)buf, len, "r") : fopen("/dev/null", "r");
	int r;

	assert_non_null(f);
	r = bundle_verify(f, k, w, res);
	fclose(f);
	if (r == 0) {
		assert_int_equal(res->ok, 1);
		assert_int_equal(res->has_bad_index, 0);
		assert_true(res->unsealed <= res->rows);
	} else {
		assert_int_equal(r, VT_ERR_VERIFY);
		assert_int_equal(res->ok, 0);
		assert_true(res->reason[0] != '\0');
		assert_int_equal(res->unsealed, 0);
	}
	return r;
}

static int
verify_lines(const struct lines *ls, const struct note_verifier *k, const struct witness *w,
    struct bundle_result *res)
{
	size_t len;
	char *s = lines_join(ls, &len);
	int r = verify_buf(s, len, k, w, res);

	free(s);
	return r;
}

static void
expect_ok(const struct lines *ls, const struct witness *w, uint64_t rows, uint64_t cps,
    uint64_t unsealed)
{
	struct bundle_result res;

	if (verify_lines(ls, key, w, &res) != 0)
		fail_msg("expected OK, got: index %llu: %s", (unsigned long long)res.bad_index,
		    res.reason);
	assert_int_equal(res.rows, rows);
	assert_int_equal(res.checkpoints, cps);
	assert_int_equal(res.unsealed, unsealed);
}

/* has_index -1: no index expected. */
static void
expect_fail_key(const struct lines *ls, const struct note_verifier *k, const struct witness *w,
    int64_t index, const char *reason)
{
	struct bundle_result res;

	assert_int_equal(verify_lines(ls, k, w, &res), VT_ERR_VERIFY);
	if (strstr(res.reason, reason) == NULL)
		fail_msg("reason '%s' does not contain '%s'", res.reason, reason);
	if (index < 0) {
		assert_int_equal(res.has_bad_index, 0);
	} else {
		assert_int_equal(res.has_bad_index, 1);
		if (res.bad_index != (uint64_t)index)
			fail_msg("bad index %llu, expected %lld (%s)",
			    (unsigned long long)res.bad_index, (long long)index, res.reason);
	}
}

static void
expect_fail(const struct lines *ls, const struct witness *w, int64_t index, const char *reason)
{
	expect_fail_key(ls, key, w, index, reason);
}

/*
 * A partial bundle (the server's background check) from checkpoint k of L: the frontier at that
 * size, the checkpoint, then the rest. frontier_fix lets a test corrupt the frontier.
 */
static char *
partial_bundle(const struct log *L, size_t k, int corrupt, size_t *len)
{
	char vkey[NOTE_VKEY_MAX + 1];
	struct vbuf *b = vbuf_new(VBUF_MAX_ANY), *fb = vbuf_new(MERKLE_FRONTIER_ENC_MAX);
	struct merkle_frontier f;
	size_t i, j = k, nc = 0;
	char *s;

	merkle_frontier_init(&f);
	for (i = 0; i < L->cp_size[k]; i++)
		assert_int_equal(merkle_frontier_append(&f, L->leaf[i]), 0);
	assert_int_equal(merkle_frontier_encode(&f, fb), 0);
	if (corrupt)
		((uint8_t *)(uintptr_t)vbuf_ptr(fb))[vbuf_len(fb) - 1] ^= 1;
	note_signer_format_vkey(signer, vkey);
	assert_int_equal(bundle_write_header(b, ORIGIN, vkey), 0);
	assert_int_equal(bundle_write_from(b, vbuf_ptr(fb), vbuf_len(fb)), 0);
	for (; j < L->ncp && L->cp_size[j] == L->cp_size[k]; j++, nc++)
		assert_int_equal(bundle_write_checkpoint(b, L->cp_note[j],
		    strlen(L->cp_note[j])), 0);
	for (i = L->cp_size[k]; i < L->n; i++) {
		assert_int_equal(bundle_write_leaf(b, i, L->leaf[i], vbuf_ptr(L->row[i]),
		    vbuf_len(L->row[i])), 0);
		for (; j < L->ncp && L->cp_size[j] == i + 1; j++, nc++)
			assert_int_equal(bundle_write_checkpoint(b, L->cp_note[j],
			    strlen(L->cp_note[j])), 0);
	}
	assert_int_equal(bundle_write_end(b, L->n - L->cp_size[k], nc), 0);
	*len = vbuf_len(b);
	s = xstrndup((const char *)vbuf_ptr(b), vbuf_len(b));
	vbuf_free(b);
	vbuf_free(fb);
	return s;
}

static int
verify_from_buf(const char *buf, size_t len, struct bundle_result *res)
{
	FILE *f = fmemopen((void *)(uintptr_t)buf, len, "r");
	int r;

	assert_non_null(f);
	r = bundle_verify_from(f, key, res);
	fclose(f);
	return r;
}

static void
test_partial_bundle(void **state)
{
	struct bundle_result res;
	struct log L;
	struct lines ls;
	size_t len;
	char *s, *p;

	(void)state;
	log_build(&L, 120, 25, NULL); /* checkpoints at 25, 50, 75, 100; 20 unsealed */
	/* From the checkpoint of size 50: OK, starting there. */
	s = partial_bundle(&L, 1, 0, &len);
	assert_int_equal(verify_from_buf(s, len, &res), 0);
	assert_int_equal(res.start, 50);
	assert_int_equal(res.rows, 120);
	assert_int_equal(res.checkpoints, 3);
	assert_int_equal(res.unsealed, 20);
	/* The offline verifier never accepts a partial bundle. */
	assert_int_equal(verify_buf(s, len, key, NULL, &res), VT_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "partial bundle"));
	/* A row after the anchor altered: found at its index. */
	p = strstr(s, "\nleaf 60 ");
	assert_non_null(p);
	p = strchr(p + 1, ' ');
	p = strchr(p + 1, ' ');
	p[1] = p[1] == 'A' ? 'B' : 'A';
	assert_int_equal(verify_from_buf(s, len, &res), VT_ERR_VERIFY);
	assert_int_equal(res.bad_index, 60);
	free(s);
	/* A frontier that does not fold to the anchor's signed root. */
	s = partial_bundle(&L, 1, 1, &len);
	assert_int_equal(verify_from_buf(s, len, &res), VT_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "root does not match"));
	free(s);
	/* The from line without its checkpoint right after it. */
	s = partial_bundle(&L, 2, 0, &len);
	p = strstr(s, "\ncheckpoint ");
	assert_non_null(p);
	p[1] = 'x';
	assert_int_equal(verify_from_buf(s, len, &res), VT_ERR_VERIFY);
	free(s);
	/* A whole bundle is also accepted by bundle_verify_from, from 0. */
	lines_from_log(&L, L.n, &ls);
	s = lines_join(&ls, &len);
	assert_int_equal(verify_from_buf(s, len, &res), 0);
	assert_int_equal(res.start, 0);
	assert_int_equal(res.rows, 120);
	free(s);
	lines_free(&ls);
	log_free(&L);
}

/* ---------------------------------------------------------------------------------------------
 * Checkpoint text
 */

static void
test_origin_org(void **state)
{
	static const char *const bad[] = {
		"vt.example.com/audit/0B7E3C1A-5D2F-4E6A-9C8B-1F2E3D4C5B6A", /* upper case */
		"/audit/" ORG_UUID,                                          /* no deployment */
		"vt.example.com/audit/" ORG_UUID "x",
		"vt.example.com/audits/" ORG_UUID,
		"vt.example.com/audit/0b7e3c1a5d2f4e6a9c8b1f2e3d4c5b6a",
		"vt.example.com/audit/",
		"",
	};
	struct vt_uuid u, want;
	size_t i;

	assert_int_equal(chain_origin_org(ORIGIN, &u), 0);
	assert_int_equal(uuid_parse(ORG_UUID, &want), 0);
	assert_true(uuid_eq(&u, &want));
	assert_int_equal(chain_origin_org("x/audit/" ORG_UUID, &u), 0);
	for (i = 0; i < VT_NELEM(bad); i++) {
		memset(&u, 0x55, sizeof(u));
		assert_int_equal(chain_origin_org(bad[i], &u), VT_ERR_INVALID);
		assert_true(uuid_is_nil(&u));
	}
}

static void
test_checkpoint_text_exact(void **state)
{
	static const char want_none[] =
	    ORIGIN "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
	    "prev none\ncounter 7\ntime 2026-11-28T22:40:01Z\n";
	static const char want_prev[] =
	    ORIGIN "\n0\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
	    "prev 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	    "counter 18446744073709551615\ntime 9999-12-31T23:59:59Z\n";
	uint8_t root[H];
	struct vbuf *b = vbuf_new(NOTE_MAX);
	size_t i;

	for (i = 0; i < H; i++)
		root[i] = (uint8_t)i;
	assert_int_equal(chain_checkpoint_text(ORIGIN, 5, root, NULL, 7, T0, b), 0);
	assert_int_equal(vbuf_len(b), strlen(want_none));
	assert_memory_equal(vbuf_ptr(b), want_none, strlen(want_none));
	vbuf_reset(b);
	assert_int_equal(chain_checkpoint_text(ORIGIN, 0, root, root, UINT64_MAX, CHAIN_TIME_MAX,
	    b), 0);
	assert_int_equal(vbuf_len(b), strlen(want_prev));
	assert_memory_equal(vbuf_ptr(b), want_prev, strlen(want_prev));
	vbuf_reset(b);
	assert_int_equal(chain_checkpoint_text(ORIGIN, 1, root, NULL, 1, 0, b), 0);
	assert_non_null(strstr((const char *)vbuf_ptr(b), "time 1970-01-01T00:00:00Z\n"));

	/* Refusals leave out unchanged. */
	vbuf_reset(b);
	assert_int_equal(chain_checkpoint_text(ORIGIN, 1, root, NULL, 0, T0, b), VT_ERR_INVALID);
	assert_int_equal(chain_checkpoint_text(ORIGIN, 1, root, NULL, 1, -1, b), VT_ERR_INVALID);
	assert_int_equal(chain_checkpoint_text(ORIGIN, 1, root, NULL, 1, CHAIN_TIME_MAX + 1, b),
	    VT_ERR_INVALID);
	assert_int_equal(chain_checkpoint_text(ORIGIN, MERKLE_MAX_SIZE + 1, root, NULL, 1, T0, b),
	    VT_ERR_INVALID);
	assert_int_equal(chain_checkpoint_text("example.com/log", 1, root, NULL, 1, T0, b),
	    VT_ERR_INVALID);
	assert_int_equal(vbuf_len(b), 0);
	vbuf_free(b);
}

static void
test_checkpoint_read(void **state)
{
	uint8_t root[H], prev[H], th[H];
	struct chain_checkpoint cp;
	char *note;
	size_t i, tl;

	for (i = 0; i < H; i++) {
		root[i] = (uint8_t)(i * 7);
		prev[i] = (uint8_t)(255 - i);
	}
	note = cp_sign(signer, ORIGIN, 1234, root, prev, 99, T0 + 5, th);
	assert_int_equal(chain_checkpoint_read(note, strlen(note), key, &cp), 0);
	assert_string_equal(cp.origin, ORIGIN);
	assert_int_equal(cp.size, 1234);
	assert_memory_equal(cp.root, root, H);
	assert_int_equal(cp.has_prev, 1);
	assert_memory_equal(cp.prev, prev, H);
	assert_int_equal(cp.counter, 99);
	assert_int_equal(cp.time_s, T0 + 5);
	assert_memory_equal(cp.text_hash, th, H);
	/* The text hash covers the text only: the hash of the note up to its blank line. */
	tl = (size_t)(strstr(note, "\n\n") - note) + 1;
	hash_sha256(note, tl, th);
	assert_memory_equal(cp.text_hash, th, H);

	/* Another key, even with the same name: the signature does not verify. */
	memset(&cp, 0x55, sizeof(cp));
	assert_int_equal(chain_checkpoint_read(note, strlen(note), evil_key, &cp), VT_ERR_VERIFY);
	assert_int_equal(cp.size, 0);
	assert_int_equal(chain_checkpoint_read(note, strlen(note), other_key, &cp), VT_ERR_VERIFY);
	/* One flipped bit of the text. */
	note[3] ^= 1;
	assert_int_equal(chain_checkpoint_read(note, strlen(note), key, &cp), VT_ERR_VERIFY);
	free(note);

	/* The log's key signing another log's checkpoint. */
	note = cp_sign(signer, OTHER_ORIGIN, 1, root, NULL, 1, T0, NULL);
	assert_int_equal(chain_checkpoint_read(note, strlen(note), key, &cp), VT_ERR_VALIDATION);
	free(note);
	assert_int_equal(chain_checkpoint_read("", 0, key, &cp), VT_ERR_INVALID);
}

/* Texts signed with the log's key that are not canonical chain checkpoints. */
static void
test_checkpoint_read_rejects(void **state)
{
#define HEAD ORIGIN "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
#define PREV "prev 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define CNT "counter 7\n"
#define TIME "time 2026-11-28T22:40:01Z\n"
	static const char *const bad[] = {
		HEAD CNT TIME,                                    /* missing prev */
		HEAD PREV TIME,                                   /* missing counter */
		HEAD PREV CNT,                                    /* missing time */
		HEAD PREV CNT TIME "extra\n",                     /* a fourth line */
		HEAD CNT PREV TIME,                               /* order */
		HEAD "prev None\n" CNT TIME,
		HEAD "prev  none\n" CNT TIME,
		HEAD "prev\n" CNT TIME,
		HEAD "prev 000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f\n" CNT TIME,
		HEAD "prev 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n" CNT TIME,
		HEAD "prev 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0\n" CNT
		    TIME,
		HEAD "prev 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n" CNT TIME,
		HEAD PREV "counter 0\n" TIME,
		HEAD PREV "counter 07\n" TIME,
		HEAD PREV "counter -7\n" TIME,
		HEAD PREV "counter +7\n" TIME,
		HEAD PREV "counter 18446744073709551616\n" TIME,
		HEAD PREV "counter  7\n" TIME,
		HEAD PREV "counter\n" TIME,
		HEAD PREV "counter 7 \n" TIME,
		HEAD PREV CNT "time 2026-11-28T22:40:01.000000Z\n",
		HEAD PREV CNT "time 2026-11-28t22:40:01Z\n",
		HEAD PREV CNT "time 2026-11-28T22:40:01z\n",
		HEAD PREV CNT "time 2026-11-28T22:40:60Z\n",
		HEAD PREV CNT "time 2026-11-28T22:40:01+00:00\n",
		HEAD PREV CNT "time 2026-02-30T22:40:01Z\n",
		HEAD PREV CNT "time 2026-11-28\n",
		HEAD PREV CNT "time 1969-12-31T23:59:59Z\n",
		HEAD PREV CNT "time  2026-11-28T22:40:01Z\n",
		HEAD PREV CNT "Time 2026-11-28T22:40:01Z\n",
		ORIGIN "\n9223372036854775808\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n" PREV
		    CNT TIME,                                      /* above MERKLE_MAX_SIZE */
		ORIGIN "\n05\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n" PREV CNT TIME,
	};
	struct chain_checkpoint cp;
	struct note_signer *plain = NULL;
	struct note_verifier *plain_key = NULL;
	char *note;
	size_t i;

	/* The well-formed variants verify. */
	note = sign_text(signer, HEAD PREV CNT TIME);
	assert_int_equal(chain_checkpoint_read(note, strlen(note), key, &cp), 0);
	free(note);
	note = sign_text(signer, HEAD "prev none\n" CNT TIME);
	assert_int_equal(chain_checkpoint_read(note, strlen(note), key, &cp), 0);
	assert_int_equal(cp.has_prev, 0);
	free(note);
	for (i = 0; i < VT_NELEM(bad); i++) {
		note = sign_text(signer, bad[i]);
		memset(&cp, 0x55, sizeof(cp));
		if (chain_checkpoint_read(note, strlen(note), key, &cp) != VT_ERR_INVALID)
			fail_msg("accepted or misclassified #%zu:\n%s", i, bad[i]);
		assert_int_equal(cp.counter, 0);
		free(note);
	}
	/* A key whose name is not a chain origin: a plain tlog checkpoint is not ours. */
	assert_int_equal(note_signer_generate("example.com/log", &plain), 0);
	assert_int_equal(note_signer_verifier(plain, &plain_key), 0);
	note = sign_text(plain, "example.com/log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
	    PREV CNT TIME);
	assert_int_equal(chain_checkpoint_read(note, strlen(note), plain_key, &cp), VT_ERR_INVALID);
	free(note);
	note_verifier_free(plain_key);
	note_signer_free(plain);
#undef HEAD
#undef PREV
#undef CNT
#undef TIME
}

/* ---------------------------------------------------------------------------------------------
 * audit prove
 */

static void
test_prove_check(void **state)
{
	uint8_t path[MERKLE_MAX_PROOF][H], root[H], (*leaves)[H];
	struct vbuf *foreign, *forged;
	struct log L;
	char *note;
	size_t n, i;
	const uint64_t size = 296;

	log_build(&L, NROWS, EVERY, NULL);
	leaves = (uint8_t(*)[H])L.leaf;
	note = L.cp_note[L.ncp - 1];
	assert_int_equal(L.cp_size[L.ncp - 1], size);
	merkle_root((const uint8_t(*)[H])leaves, size, root);
	for (i = 0; i < size; i += 13) {
		assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])leaves, size, i, path,
		    &n), 0);
		assert_int_equal(chain_prove_check(note, strlen(note), key, i, vbuf_ptr(L.row[i]),
		    vbuf_len(L.row[i]), (const uint8_t(*)[H])path, n), 0);
		/* Another index, another row, a cut or damaged path. */
		assert_int_equal(chain_prove_check(note, strlen(note), key, i ^ 1,
		    vbuf_ptr(L.row[i]), vbuf_len(L.row[i]), (const uint8_t(*)[H])path, n),
		    VT_ERR_VERIFY);
		assert_int_equal(chain_prove_check(note, strlen(note), key, i,
		    vbuf_ptr(L.row[i + 1]), vbuf_len(L.row[i + 1]), (const uint8_t(*)[H])path, n),
		    VT_ERR_VERIFY);
		assert_int_equal(chain_prove_check(note, strlen(note), key, i, vbuf_ptr(L.row[i]),
		    vbuf_len(L.row[i]), (const uint8_t(*)[H])path, n - 1), VT_ERR_VERIFY);
		path[n / 2][i % H] ^= 0x40;
		assert_int_equal(chain_prove_check(note, strlen(note), key, i, vbuf_ptr(L.row[i]),
		    vbuf_len(L.row[i]), (const uint8_t(*)[H])path, n), VT_ERR_VERIFY);
	}
	assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])leaves, size, 5, path, &n), 0);
	/* The right proof, but the key is not the log's: the signature decides. */
	assert_int_equal(chain_prove_check(note, strlen(note), evil_key, 5, vbuf_ptr(L.row[5]),
	    vbuf_len(L.row[5]), (const uint8_t(*)[H])path, n), VT_ERR_VERIFY);
	/* Index beyond the checkpoint, more hashes than any proof. */
	assert_int_equal(chain_prove_check(note, strlen(note), key, size, vbuf_ptr(L.row[5]),
	    vbuf_len(L.row[5]), (const uint8_t(*)[H])path, n), VT_ERR_INVALID);
	assert_int_equal(chain_prove_check(note, strlen(note), key, 5, vbuf_ptr(L.row[5]),
	    vbuf_len(L.row[5]), (const uint8_t(*)[H])path, MERKLE_MAX_PROOF + 1), VT_ERR_INVALID);
	/* Rows that cannot be this log's. */
	foreign = row_make(5, OTHER_UUID, 0);
	assert_int_equal(chain_prove_check(note, strlen(note), key, 5, vbuf_ptr(foreign),
	    vbuf_len(foreign), (const uint8_t(*)[H])path, n), VT_ERR_INVALID);
	vbuf_free(foreign);
	forged = row_make(5, NULL, 0);
	assert_int_equal(chain_prove_check(note, strlen(note), key, 5, vbuf_ptr(forged),
	    vbuf_len(forged), (const uint8_t(*)[H])path, n), VT_ERR_INVALID);
	vbuf_free(forged);
	assert_int_equal(chain_prove_check(note, strlen(note), key, 5, "VTAUDIT1", 8,
	    (const uint8_t(*)[H])path, n), VT_ERR_INVALID);
	log_free(&L);
}

static void
test_row_check(void **state)
{
	struct vt_uuid org, oth;
	struct vbuf *r = row_make(3, ORG_UUID, 0), *sys = row_make(3, NULL, 0);
	uint8_t *copy;
	size_t n = vbuf_len(r), i;

	assert_int_equal(uuid_parse(ORG_UUID, &org), 0);
	assert_int_equal(uuid_parse(OTHER_UUID, &oth), 0);
	assert_int_equal(chain_row_check(vbuf_ptr(r), n, &org), 0);
	assert_int_equal(chain_row_check(vbuf_ptr(r), n, &oth), VT_ERR_VALIDATION);
	assert_int_equal(chain_row_check(vbuf_ptr(sys), vbuf_len(sys), &org), VT_ERR_VALIDATION);
	/* Every proper prefix, and any trailing byte, is not a row. */
	for (i = 0; i < n; i++)
		assert_int_equal(chain_row_check(vbuf_ptr(r), i, &org), VT_ERR_INVALID);
	copy = xmalloc(n + 1);
	memcpy(copy, vbuf_ptr(r), n);
	copy[n] = 0;
	assert_int_equal(chain_row_check(copy, n + 1, &org), VT_ERR_INVALID);
	/* Another magic; a non-nullable field (actor_type, after time) set to NULL. */
	copy[7] = '2';
	assert_int_equal(chain_row_check(copy, n, &org), VT_ERR_INVALID);
	copy[7] = '1';
	memset(copy + 8 + 20 + 20 + 8, 0xff, 4);
	assert_int_equal(chain_row_check(copy, n, &org), VT_ERR_INVALID);
	free(copy);
	vbuf_free(r);
	vbuf_free(sys);
}

/* ---------------------------------------------------------------------------------------------
 * Writer
 */

static void
test_writer(void **state)
{
	char vkey[NOTE_VKEY_MAX + 1], other_vkey[NOTE_VKEY_MAX + 1], *want;
	uint8_t hash[H], *big;
	struct vbuf *b = vbuf_new(VBUF_MAX_ANY);

	memset(hash, 0xab, sizeof(hash));
	note_signer_format_vkey(signer, vkey);
	note_signer_format_vkey(other, other_vkey);
	assert_int_equal(bundle_write_header(b, ORIGIN, vkey), 0);
	want = xasprintf("vaultterm-audit-bundle 1\norigin %s\nvkey %s\n", ORIGIN, vkey);
	assert_int_equal(vbuf_len(b), strlen(want));
	assert_memory_equal(vbuf_ptr(b), want, strlen(want));
	free(want);
	vbuf_reset(b);
	assert_int_equal(bundle_write_leaf(b, 0, hash, "VTAUDIT1", 8), 0);
	assert_int_equal(bundle_write_leaf(b, 18446744073709551ULL, hash, "ab", 2), 0);
	assert_int_equal(bundle_write_leaf(b, 7, hash, NULL, 0), 0);
	assert_int_equal(bundle_write_leaf(b, 8, hash, "", 0), 0);
	assert_int_equal(bundle_write_checkpoint(b, "x\n", 2), 0);
	assert_int_equal(bundle_write_end(b, 0, 18446744073709551615ULL), 0);
#define HX "abababababababababababababababababababababababababababababababab"
	want = "leaf 0 " HX " VlRBVURJVDE=\n"
	       "leaf 18446744073709551 " HX " YWI=\n"
	       "leaf 7 " HX " -\n"
	       "leaf 8 " HX " \n"
	       "checkpoint eAo=\n"
	       "end 0 18446744073709551615\n";
#undef HX
	assert_int_equal(vbuf_len(b), strlen(want));
	assert_memory_equal(vbuf_ptr(b), want, strlen(want));

	/* Refusals append nothing. */
	vbuf_reset(b);
	assert_int_equal(bundle_write_header(b, ORIGIN, other_vkey), VT_ERR_INVALID);
	assert_int_equal(bundle_write_header(b, "example.com/log", vkey), VT_ERR_INVALID);
	assert_int_equal(bundle_write_header(b, ORIGIN, "not a key"), VT_ERR_INVALID);
	assert_int_equal(bundle_write_leaf(b, MERKLE_MAX_SIZE, hash, "a", 1), VT_ERR_INVALID);
	big = xcalloc(1, BUNDLE_ROW_MAX + 1);
	assert_int_equal(bundle_write_leaf(b, 1, hash, big, BUNDLE_ROW_MAX + 1), VT_ERR_TOO_LARGE);
	assert_int_equal(bundle_write_checkpoint(b, "", 0), VT_ERR_INVALID);
	assert_int_equal(bundle_write_checkpoint(b, (const char *)big, NOTE_MAX + 1),
	    VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	vbuf_free(b);
	/* A full buffer is refused whole. */
	b = vbuf_new(10);
	assert_int_equal(bundle_write_leaf(b, 1, hash, "a", 1), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	vbuf_free(b);
	free(big);
}

/* ---------------------------------------------------------------------------------------------
 * Verifier: untouched bundles
 */

static void
test_bundle_ok(void **state)
{
	struct lines ls;
	struct log L;
	size_t n;

	log_build(&L, NROWS, EVERY, NULL);
	assert_int_equal(L.ncp, 8);
	lines_from_log(&L, NROWS, &ls);
	expect_ok(&ls, NULL, NROWS, 8, NROWS - 296);
	lines_free(&ls);
	/* Ending right at a checkpoint: nothing unsealed. */
	lines_from_log(&L, 296, &ls);
	expect_ok(&ls, NULL, 296, 8, 0);
	lines_free(&ls);
	/* Before the first checkpoint: valid, no checkpoint, everything unsealed. */
	for (n = 0; n <= 36; n += 12) {
		lines_from_log(&L, n, &ls);
		expect_ok(&ls, NULL, n, 0, n);
		lines_free(&ls);
	}
	log_free(&L);
}

/* An empty log sealed at size 0, and a log of one row with a checkpoint after each row. */
static void
test_bundle_small(void **state)
{
	uint8_t root[H], th[H];
	struct lines ls;
	struct log L;
	char *note;

	memset(&ls, 0, sizeof(ls));
	lines_from_log(&(struct log){ 0 }, 0, &ls);
	merkle_empty_root(root);
	note = cp_sign(signer, ORIGIN, 0, root, NULL, 1, T0, th);
	lines_ins(&ls, 3, cp_line(note));
	lines_set(&ls, 4, xstrdup("end 0 1"));
	expect_ok(&ls, NULL, 0, 1, 0);
	/* The same checkpoint twice. */
	lines_ins(&ls, 4, cp_line(note));
	lines_set(&ls, 5, xstrdup("end 0 2"));
	expect_fail(&ls, NULL, 0, "does not grow the log");
	free(note);
	lines_free(&ls);

	log_build(&L, 5, 1, NULL);
	lines_from_log(&L, 5, &ls);
	expect_ok(&ls, NULL, 5, 5, 0);
	lines_free(&ls);
	log_free(&L);
}

/* ---------------------------------------------------------------------------------------------
 * Verifier: tampered rows
 */

static void
test_tamper_rows(void **state)
{
	struct vbuf *forged, *foreign;
	uint8_t h[H];
	struct lines ls;
	struct log L;
	char *s;

	log_build(&L, NROWS, EVERY, NULL);

	/* Altered: one byte of row 100 changed, its sequenced hash kept. */
	lines_from_log(&L, NROWS, &ls);
	{
		struct vbuf *alt = vbuf_new(BUNDLE_ROW_MAX);

		assert_int_equal(vbuf_put(alt, vbuf_ptr(L.row[100]), vbuf_len(L.row[100])), 0);
		((uint8_t *)(uintptr_t)vbuf_ptr(alt))[vbuf_len(alt) - 3] ^= 1;
		lines_set(&ls, leaf_pos(&ls, 100), leaf_line(100, L.leaf[100], alt));
		vbuf_free(alt);
	}
	expect_fail(&ls, NULL, 100, "row does not match its sequenced leaf hash (altered)");
	lines_free(&ls);

	/* Altered in the first and in the last row. */
	lines_from_log(&L, NROWS, &ls);
	lines_set(&ls, leaf_pos(&ls, 0), leaf_line(0, L.leaf[0], L.row[1]));
	expect_fail(&ls, NULL, 0, "(altered)");
	lines_free(&ls);
	lines_from_log(&L, NROWS, &ls);
	lines_set(&ls, leaf_pos(&ls, NROWS - 1), leaf_line(NROWS - 1, L.leaf[NROWS - 1], L.row[0]));
	expect_fail(&ls, NULL, NROWS - 1, "(altered)");
	lines_free(&ls);

	/* Missing from the database. */
	lines_from_log(&L, NROWS, &ls);
	lines_set(&ls, leaf_pos(&ls, 150), leaf_line(150, L.leaf[150], NULL));
	expect_fail(&ls, NULL, 150, "row missing from the database");
	lines_free(&ls);

	/* Swapped rows, each with its own hash, indexes kept: the next root fails. */
	lines_from_log(&L, NROWS, &ls);
	lines_set(&ls, leaf_pos(&ls, 50), leaf_line(50, L.leaf[60], L.row[60]));
	lines_set(&ls, leaf_pos(&ls, 60), leaf_line(60, L.leaf[50], L.row[50]));
	expect_fail(&ls, NULL, 37, "checkpoint size 74: root does not match the rows [37, 74)");
	lines_free(&ls);

	/* Swapped lines (indexes out of order). */
	lines_from_log(&L, NROWS, &ls);
	lines_swap(&ls, leaf_pos(&ls, 50), leaf_pos(&ls, 60));
	expect_fail(&ls, NULL, 50, "leaf 50 is missing (the next leaf is 60)");
	lines_free(&ls);

	/* Forged: another row of the org with its correct leaf hash. */
	lines_from_log(&L, NROWS, &ls);
	forged = row_make(100, ORG_UUID, 9);
	leaf_of(forged, h);
	lines_set(&ls, leaf_pos(&ls, 100), leaf_line(100, h, forged));
	expect_fail(&ls, NULL, 74, "checkpoint size 111: root does not match the rows [74, 111) "
	    "\xe2\x80\x94 a row in that range was altered, inserted or removed");
	lines_free(&ls);
	/* ... in the unsealed tail, nothing can tell: reported as unsealed. */
	lines_from_log(&L, NROWS, &ls);
	lines_set(&ls, leaf_pos(&ls, 298), leaf_line(298, h, forged));
	expect_ok(&ls, NULL, NROWS, 8, 4);
	lines_free(&ls);
	vbuf_free(forged);

	/* Inserted: a forged row in the middle, indexes renumbered after it. */
	lines_from_log(&L, 120, &ls);
	{
		size_t i, pos = leaf_pos(&ls, 80);

		forged = row_make(80, ORG_UUID, 9);
		leaf_of(forged, h);
		for (i = 120; i-- > 80;)
			lines_set(&ls, leaf_pos(&ls, i), leaf_line(i + 1, L.leaf[i], L.row[i]));
		lines_ins(&ls, pos, leaf_line(80, h, forged));
		vbuf_free(forged);
	}
	expect_fail(&ls, NULL, 74, "checkpoint size 111 stands after 112 rows: rows in [74, 112) "
	    "were inserted, or the checkpoint was moved");
	lines_free(&ls);

	/* Gap: leaf 120 removed. */
	lines_from_log(&L, NROWS, &ls);
	lines_del(&ls, leaf_pos(&ls, 120));
	expect_fail(&ls, NULL, 120, "leaf 120 is missing (the next leaf is 121)");
	lines_free(&ls);

	/* Removed at the end of a sealed range: the checkpoint then stands too early. */
	lines_from_log(&L, NROWS, &ls);
	lines_del(&ls, leaf_pos(&ls, 73));
	expect_fail(&ls, NULL, 37, "checkpoint size 74 stands after 73 rows: rows in [37, 74) "
	    "were removed, or the checkpoint was moved");
	lines_free(&ls);

	/* Duplicate: leaf 120 twice. */
	lines_from_log(&L, NROWS, &ls);
	lines_ins(&ls, leaf_pos(&ls, 120), xstrdup(ls.v[leaf_pos(&ls, 120)]));
	expect_fail(&ls, NULL, 121, "leaf 120 appears again after leaf 120");
	lines_free(&ls);

	/* A row of another organization, and a system row, each with its right hash. */
	lines_from_log(&L, NROWS, &ls);
	foreign = row_make(200, OTHER_UUID, 0);
	leaf_of(foreign, h);
	lines_set(&ls, leaf_pos(&ls, 200), leaf_line(200, h, foreign));
	expect_fail(&ls, NULL, 200, "row belongs to another organization");
	vbuf_free(foreign);
	foreign = row_make(200, NULL, 0);
	leaf_of(foreign, h);
	lines_set(&ls, leaf_pos(&ls, 200), leaf_line(200, h, foreign));
	expect_fail(&ls, NULL, 200, "row belongs to another organization");
	vbuf_free(foreign);
	/* Not a canonical row at all. */
	assert_int_equal(merkle_leaf_hash("VTAUDIT1", 8, h), 0);
	foreign = vbuf_new(16);
	assert_int_equal(vbuf_put(foreign, "VTAUDIT1", 8), 0);
	lines_set(&ls, leaf_pos(&ls, 200), leaf_line(200, h, foreign));
	expect_fail(&ls, NULL, 200, "row is not a canonical audit row");
	vbuf_free(foreign);
	lines_free(&ls);

	/* Malformed leaf lines. */
	lines_from_log(&L, 10, &ls);
	s = ls.v[leaf_pos(&ls, 4)];
	{
		static const char *const bad[] = {
			"leaf 04 ", "leaf 4  ", "leaf  4 ", "leaf 4", "leaf x ", "leaf -4 ",
		};
		size_t i, pos = leaf_pos(&ls, 4);
		char *orig = xstrdup(s), *rest = strchr(orig + 5, ' ');

		for (i = 0; i < VT_NELEM(bad); i++) {
			lines_set(&ls, pos, xasprintf("%s%s", bad[i], rest + 1));
			expect_fail(&ls, NULL, 4, "");
		}
		/* Upper-case hex, a short hash, a non-canonical base64 tail, no row field. */
		lines_set(&ls, pos, xstrdup(orig));
		ls.v[pos][8] = (char)(ls.v[pos][8] >= 'a' ? ls.v[pos][8] - 32 : 'A');
		expect_fail(&ls, NULL, 4, "not a well-formed leaf line");
		lines_set(&ls, pos, xstrdup(orig));
		memmove(ls.v[pos] + 8, ls.v[pos] + 9, strlen(ls.v[pos] + 8));
		expect_fail(&ls, NULL, 4, "not a well-formed leaf line");
		lines_set(&ls, pos, xasprintf("%.*s", (int)(rest - orig + 65), orig));
		expect_fail(&ls, NULL, 4, "not a well-formed leaf line");
		lines_set(&ls, pos, xasprintf("%s=", orig));
		expect_fail(&ls, NULL, 4, "not a well-formed leaf line");
		free(orig);
	}
	lines_free(&ls);
	log_free(&L);
}

/* Rows at and past the size limit, with leaf hashes that match. */
static void
test_row_limits(void **state)
{
	uint8_t h[H], *big = xcalloc(1, BUNDLE_ROW_MAX + 1);
	struct vbuf *b = vbuf_new(VBUF_MAX_ANY);
	struct lines ls;
	struct log L;
	char *line;
	size_t n;

	log_build(&L, 3, 100, NULL);
	lines_from_log(&L, 3, &ls);
	memcpy(big, "VTAUDIT1", 8);
	assert_int_equal(merkle_leaf_hash(big, BUNDLE_ROW_MAX, h), 0);
	assert_int_equal(bundle_write_leaf(b, 3, h, big, BUNDLE_ROW_MAX), 0);
	line = xstrndup((const char *)vbuf_ptr(b), vbuf_len(b) - 1);
	lines_ins(&ls, leaf_pos(&ls, 2) + 1, line);
	lines_set(&ls, ls.n - 1, xstrdup("end 4 0"));
	expect_fail(&ls, NULL, 3, "row is not a canonical audit row");
	/* One byte more: the line itself is refused (base64 written by hand). */
	n = BUNDLE_B64_LEN(BUNDLE_ROW_MAX + 1);
	line = xmalloc(5 + 2 + 64 + 1 + n + 1);
	memcpy(line, "leaf 3 ", 7);
	hex_encode(h, H, line + 7);
	line[7 + 64] = ' ';
	b64_encode(big, BUNDLE_ROW_MAX + 1, line + 7 + 65, n + 1);
	lines_set(&ls, leaf_pos(&ls, 3), line);
	expect_fail(&ls, NULL, 3, "not a well-formed leaf line");
	lines_free(&ls);
	log_free(&L);
	vbuf_free(b);
	free(big);
}

/* ---------------------------------------------------------------------------------------------
 * Verifier: tampered checkpoints
 */

static void
test_tamper_checkpoints(void **state)
{
	struct lines ls;
	struct log L, R;
	size_t pos;

	log_build(&L, NROWS, EVERY, NULL);

	/* Deleted: the next one's prev link breaks. */
	lines_from_log(&L, NROWS, &ls);
	lines_del(&ls, cp_pos(&ls, 2));
	lines_set(&ls, ls.n - 1, xstrdup("end 300 7"));
	expect_fail(&ls, NULL, 37, "checkpoint size 111: its prev link does not match: a "
	    "checkpoint before size 111 was removed or altered");
	lines_free(&ls);
	/* The first one deleted. */
	lines_from_log(&L, NROWS, &ls);
	lines_del(&ls, cp_pos(&ls, 1));
	lines_set(&ls, ls.n - 1, xstrdup("end 300 7"));
	expect_fail(&ls, NULL, 0, "a checkpoint before size 74 was removed or altered");
	lines_free(&ls);
	/* The last one deleted: the end line says so ... */
	lines_from_log(&L, NROWS, &ls);
	lines_del(&ls, cp_pos(&ls, 8));
	expect_fail(&ls, NULL, -1, "the end line counts 8 checkpoints but the bundle has 7");
	/* ... and with the end line fixed the rows are merely unsealed (witnesses catch it). */
	lines_set(&ls, ls.n - 1, xstrdup("end 300 7"));
	expect_ok(&ls, NULL, NROWS, 7, NROWS - 259);
	lines_free(&ls);

	/* Edited: a byte of the signed text. */
	lines_from_log(&L, NROWS, &ls);
	{
		char *note = xstrdup(L.cp_note[2]), *c = strstr(note, "counter 30");

		assert_non_null(c);
		c[9] = '5';
		lines_set(&ls, cp_pos(&ls, 3), cp_line(note));
		free(note);
	}
	expect_fail(&ls, NULL, 74, "checkpoint #3 (size 111): signature does not verify with "
	    "the given public key");
	lines_free(&ls);
	/* Not base64, not a note. */
	lines_from_log(&L, NROWS, &ls);
	lines_set(&ls, cp_pos(&ls, 3), xstrdup("checkpoint not*base64"));
	expect_fail(&ls, NULL, 74, "checkpoint #3 (line");
	lines_set(&ls, cp_pos(&ls, 3), cp_line("hello\n"));
	expect_fail(&ls, NULL, 74, "checkpoint #3 is not a well-formed audit checkpoint");
	lines_free(&ls);

	/* Moved one row later: it stands after rows it does not cover. */
	lines_from_log(&L, NROWS, &ls);
	pos = cp_pos(&ls, 2);
	lines_swap(&ls, pos, pos + 1);
	expect_fail(&ls, NULL, 37, "checkpoint size 74 stands after 75 rows: rows in [37, 75) "
	    "were inserted");
	lines_free(&ls);
	/* Two swapped. */
	lines_from_log(&L, NROWS, &ls);
	{
		char *t = ls.v[cp_pos(&ls, 2)];

		ls.v[cp_pos(&ls, 2)] = ls.v[cp_pos(&ls, 3)];
		ls.v[cp_pos(&ls, 3)] = t;
	}
	expect_fail(&ls, NULL, 37, "checkpoint size 111 stands after 74 rows: rows in [37, 111) "
	    "were removed");
	lines_free(&ls);

	/* Re-signed with another key of the same name (over altered rows, even). */
	log_build(&R, NROWS, EVERY, &(struct log_opts){ .s = evil, .forge = 1, .forged = 100 });
	lines_from_log(&R, NROWS, &ls);
	expect_fail(&ls, NULL, 0, "checkpoint #1 (size 37): signature does not verify");
	/* With the attacker's key the same bundle is self-consistent: the key is what is trusted. */
	{
		struct bundle_result res;

		assert_int_equal(verify_lines(&ls, evil_key, NULL, &res), 0);
	}
	lines_free(&ls);
	log_free(&R);

	/* Wrong key: another log's key, another key of the same name. */
	lines_from_log(&L, NROWS, &ls);
	expect_fail_key(&ls, other_key, NULL, -1, "the bundle is not the log of the given public "
	    "key");
	expect_fail_key(&ls, evil_key, NULL, 0, "checkpoint #1 (size 37): signature does not "
	    "verify with the given public key");
	lines_free(&ls);

	/* Counters that do not increase: equal, then lower. */
	log_build(&R, NROWS, EVERY, &(struct log_opts){
	    .counters = (const uint64_t[]){ 10, 20, 30, 30, 50, 60, 70, 80 } });
	lines_from_log(&R, NROWS, &ls);
	expect_fail(&ls, NULL, 111, "checkpoint size 148: counter 30 is not greater than the "
	    "previous checkpoint's (30): the chain was rolled back or reordered");
	lines_free(&ls);
	log_free(&R);
	log_build(&R, NROWS, EVERY, &(struct log_opts){
	    .counters = (const uint64_t[]){ 10, 20, 15, 40, 50, 60, 70, 80 } });
	lines_from_log(&R, NROWS, &ls);
	expect_fail(&ls, NULL, 74, "checkpoint size 111: counter 15 is not greater");
	lines_free(&ls);
	log_free(&R);

	/* A time earlier than the previous one; an equal time is fine. */
	log_build(&R, NROWS, EVERY, &(struct log_opts){
	    .times = (const int64_t[]){ T0, T0, T0 + 9, T0 + 8, T0 + 10, T0 + 11, T0 + 12,
	    T0 + 13 } });
	lines_from_log(&R, NROWS, &ls);
	expect_fail(&ls, NULL, 111, "checkpoint size 148: its time is earlier than the previous");
	lines_free(&ls);
	log_free(&R);

	/* A log whose first checkpoint claims a predecessor. */
	log_build(&R, NROWS, EVERY, NULL);
	{
		uint8_t root[H], prev[H];

		merkle_root((const uint8_t(*)[H])R.leaf, 37, root);
		memset(prev, 7, H);
		free(R.cp_note[0]);
		R.cp_note[0] = cp_sign(signer, ORIGIN, 37, root, prev, 10, T0, NULL);
	}
	lines_from_log(&R, NROWS, &ls);
	expect_fail(&ls, NULL, 0, "a checkpoint before size 37 was removed or altered");
	lines_free(&ls);
	log_free(&R);
	log_free(&L);
}

/* ---------------------------------------------------------------------------------------------
 * Verifier: the stream itself
 */

static void
test_stream(void **state)
{
	struct bundle_result res;
	struct lines ls;
	struct log L;
	size_t len, cut;
	char *s;

	log_build(&L, NROWS, EVERY, NULL);
	lines_from_log(&L, NROWS, &ls);
	s = lines_join(&ls, &len);
	assert_int_equal(verify_buf(s, len, key, NULL, &res), 0);

	/* Truncated: at the end of a line, and inside one. */
	cut = (size_t)(strstr(s, "\nleaf 200 ") - s) + 1;
	assert_int_equal(verify_buf(s, cut, key, NULL, &res), VT_ERR_VERIFY);
	assert_int_equal(res.bad_index, 200);
	assert_non_null(strstr(res.reason, "truncated after 200 rows"));
	assert_int_equal(verify_buf(s, cut + 30, key, NULL, &res), VT_ERR_VERIFY);
	assert_int_equal(res.bad_index, 200);
	assert_int_equal(verify_buf(s, len - 1, key, NULL, &res), VT_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "truncated after 300 rows"));
	assert_int_equal(verify_buf(s, 0, key, NULL, &res), VT_ERR_VERIFY);
	assert_int_equal(res.has_bad_index, 0);
	assert_int_equal(verify_buf(s, 10, key, NULL, &res), VT_ERR_VERIFY);
	assert_int_equal(verify_buf(s, strlen(BUNDLE_MAGIC) + 1, key, NULL, &res), VT_ERR_VERIFY);
	free(s);

	/* Trailing data: a line, a partial line, an empty line. */
	lines_ins(&ls, ls.n, xstrdup("leaf 300 x"));
	expect_fail(&ls, NULL, -1, "data after the end line");
	lines_set(&ls, ls.n - 1, xstrdup(""));
	expect_fail(&ls, NULL, -1, "data after the end line");
	lines_del(&ls, ls.n - 1);
	s = lines_join(&ls, &len);
	s = xrealloc(s, len + 2);
	s[len] = 'x';
	assert_int_equal(verify_buf(s, len + 1, key, NULL, &res), VT_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "data after the end line"));
	free(s);

	/* End counts. */
	lines_set(&ls, ls.n - 1, xstrdup("end 301 8"));
	expect_fail(&ls, NULL, 300, "the end line counts 301 rows but the bundle has 300");
	lines_set(&ls, ls.n - 1, xstrdup("end 299 8"));
	expect_fail(&ls, NULL, 299, "the end line counts 299 rows");
	lines_set(&ls, ls.n - 1, xstrdup("end 300"));
	expect_fail(&ls, NULL, 300, "not a well-formed end line");
	lines_set(&ls, ls.n - 1, xstrdup("end 300 08"));
	expect_fail(&ls, NULL, 300, "not a well-formed end line");
	lines_set(&ls, ls.n - 1, xstrdup("end 300 8"));
	expect_ok(&ls, NULL, NROWS, 8, 4);

	/* Header lines. */
	lines_set(&ls, 0, xstrdup("vaultterm-audit-bundle 2"));
	expect_fail(&ls, NULL, -1, "not an audit bundle");
	lines_set(&ls, 0, xstrdup(BUNDLE_MAGIC));
	lines_set(&ls, 1, xstrdup("origin " OTHER_ORIGIN));
	expect_fail(&ls, NULL, -1, "not the log of the given public key");
	lines_set(&ls, 1, xstrdup("origin  " ORIGIN));
	expect_fail(&ls, NULL, -1, "not the log of the given public key");
	lines_set(&ls, 1, xstrdup("origins " ORIGIN));
	expect_fail(&ls, NULL, -1, "line 2 is not an origin line");
	lines_set(&ls, 1, xstrdup("origin " ORIGIN));
	lines_set(&ls, 2, xstrdup("vkey nonsense"));
	expect_fail(&ls, NULL, -1, "line 3 is not a vkey line");
	/* The vkey line is informational: another well-formed key is no failure. */
	{
		char vk[NOTE_VKEY_MAX + 1];

		note_signer_format_vkey(evil, vk);
		lines_set(&ls, 2, xasprintf("vkey %s", vk));
		expect_ok(&ls, NULL, NROWS, 8, 4);
	}
	/* An unknown kind of line, CRLF line ends. */
	lines_ins(&ls, leaf_pos(&ls, 5), xstrdup("comment hello"));
	expect_fail(&ls, NULL, 5, "is not a leaf, checkpoint or end line");
	lines_del(&ls, leaf_pos(&ls, 5) - 1);
	s = ls.v[leaf_pos(&ls, 5)];
	ls.v[leaf_pos(&ls, 5)] = xasprintf("%s\r", s);
	free(s);
	expect_fail(&ls, NULL, 5, "not a well-formed leaf line");
	lines_free(&ls);

	/* A line longer than any bundle line. */
	s = xmalloc(BUNDLE_LINE_MAX + 600);
	len = (size_t)snprintf(s, 200, "%s\norigin %s\nvkey ", BUNDLE_MAGIC, ORIGIN);
	note_signer_format_vkey(signer, s + len);
	len += strlen(s + len);
	s[len++] = '\n';
	memset(s + len, 'l', BUNDLE_LINE_MAX + 100);
	assert_int_equal(verify_buf(s, len + BUNDLE_LINE_MAX + 100, key, NULL, &res),
	    VT_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "longer than any bundle line"));
	free(s);
	log_free(&L);
}

/* Random byte changes anywhere never verify. */
static void
test_flip_random(void **state)
{
	struct bundle_result res;
	struct lines ls;
	struct log L;
	size_t len, i;
	char *s;

	log_build(&L, 40, 13, NULL);
	lines_from_log(&L, 40, &ls);
	s = lines_join(&ls, &len);
	for (i = 0; i < FLIPS; i++) {
		size_t pos = (size_t)(rng_next() % len);
		uint8_t x = (uint8_t)(1 + rng_next() % 255);

		s[pos] = (char)(s[pos] ^ x);
		if (verify_buf(s, len, key, NULL, &res) == 0)
			fail_msg("verified with byte %zu ^ 0x%02x", pos, x);
		s[pos] = (char)(s[pos] ^ x);
	}
	assert_int_equal(verify_buf(s, len, key, NULL, &res), 0);
	free(s);
	lines_free(&ls);
	log_free(&L);
}

/* ---------------------------------------------------------------------------------------------
 * Witness files
 */

/* Appends a witness line for note under origin. */
static void
wline(struct vbuf *b, const char *origin, const char *note)
{
	size_t n = b64_encoded_size(strlen(note));
	char *enc = xmalloc(n);

	b64_encode((const uint8_t *)note, strlen(note), enc, n);
	assert_int_equal(vbuf_put_cstr(b, "checkpoint "), 0);
	assert_int_equal(vbuf_put_cstr(b, origin), 0);
	assert_int_equal(vbuf_put_cstr(b, " "), 0);
	assert_int_equal(vbuf_put_cstr(b, enc), 0);
	assert_int_equal(vbuf_put_cstr(b, "\n"), 0);
	free(enc);
}

static int
wload(const struct vbuf *b, const char *origin, const struct note_verifier *k,
    struct witness **w, char reason[BUNDLE_REASON_MAX])
{
	FILE *f = vbuf_len(b) > 0 ?
	    fmemopen((void *)(uintptr_t)vbuf_ptr(b), vbuf_len(b), "r") : fopen("/dev/null", "r");
	int r;

	assert_non_null(f);
	*w = (struct witness *)(uintptr_t)1;
	r = witness_load(f, origin, k, w, reason);
	fclose(f);
	if (r != 0) {
		assert_null(*w);
		assert_true(reason[0] != '\0');
	} else {
		assert_non_null(*w);
	}
	return r;
}

/* A witness of the given checkpoints (by number, from 1) of L; 0 ends the list. */
static struct witness *
witness_of(const struct log *L, const int *which)
{
	char reason[BUNDLE_REASON_MAX];
	struct vbuf *b = vbuf_new(1 << 20);
	struct witness *w;

	for (; *which != 0; which++)
		wline(b, ORIGIN, L->cp_note[*which - 1]);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), 0);
	vbuf_free(b);
	return w;
}

static void
test_witness_load(void **state)
{
	char reason[BUNDLE_REASON_MAX], *note;
	struct vbuf *b = vbuf_new(1 << 20);
	struct witness *w;
	struct log L, E;
	uint8_t root[H];

	log_build(&L, NROWS, EVERY, NULL);
	/* Empty file; other origins skipped even when malformed; copies counted once. */
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), 0);
	assert_int_equal(witness_count(w), 0);
	witness_free(w);
	wline(b, ORIGIN, L.cp_note[1]);
	assert_int_equal(vbuf_put_cstr(b, "checkpoint " OTHER_ORIGIN " @@not-base64@@\n"), 0);
	wline(b, ORIGIN, L.cp_note[5]);
	wline(b, ORIGIN, L.cp_note[1]);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), 0);
	assert_int_equal(witness_count(w), 2);
	witness_free(w);

	/* A note of our origin that does not verify: its line number. */
	vbuf_reset(b);
	wline(b, ORIGIN, L.cp_note[1]);
	log_build(&E, 74, EVERY, &(struct log_opts){ .s = evil });
	wline(b, ORIGIN, E.cp_note[1]);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), VT_ERR_VERIFY);
	assert_non_null(strstr(reason, "line 2: the checkpoint does not verify"));
	log_free(&E);
	/* Malformed lines. */
	vbuf_reset(b);
	assert_int_equal(vbuf_put_cstr(b, "checkpoint " ORIGIN "\n"), 0);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), VT_ERR_INVALID);
	assert_non_null(strstr(reason, "line 1:"));
	vbuf_reset(b);
	wline(b, ORIGIN, L.cp_note[0]);
	assert_int_equal(vbuf_put_cstr(b, "hello\n"), 0);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), VT_ERR_INVALID);
	assert_non_null(strstr(reason, "line 2:"));
	vbuf_reset(b);
	assert_int_equal(vbuf_put_cstr(b, "checkpoint " ORIGIN " aGVsbG8K\n"), 0);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), VT_ERR_INVALID);
	vbuf_reset(b);
	wline(b, ORIGIN, L.cp_note[0]);
	assert_int_equal(vbuf_put_cstr(b, "checkpoint"), 0);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), VT_ERR_INVALID);
	assert_non_null(strstr(reason, "incomplete last line"));
	/* Labelled with our origin, but the note is another log's. */
	vbuf_reset(b);
	merkle_empty_root(root);
	note = cp_sign(other, OTHER_ORIGIN, 0, root, NULL, 1, T0, NULL);
	wline(b, ORIGIN, note);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), VT_ERR_VERIFY);
	free(note);
	/* The key is not the origin's. */
	assert_int_equal(wload(b, ORIGIN, other_key, &w, reason), VT_ERR_INVALID);

	/* Two different checkpoints of one size: the log signed two histories. */
	vbuf_reset(b);
	log_build(&E, NROWS, EVERY, &(struct log_opts){ .forge = 1, .forged = 100 });
	wline(b, ORIGIN, L.cp_note[3]);
	wline(b, ORIGIN, E.cp_note[3]);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), VT_ERR_VERIFY);
	assert_non_null(strstr(reason, "lines 1 and 2: two different checkpoints of size 148"));
	log_free(&E);
	/* Counters that go down as the log grows. */
	vbuf_reset(b);
	note = cp_sign(signer, ORIGIN, 80, root, NULL, 15, T0, NULL);
	wline(b, ORIGIN, note);
	wline(b, ORIGIN, L.cp_note[1]); /* size 74, counter 20 */
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), VT_ERR_VERIFY);
	assert_non_null(strstr(reason, "rolled back"));
	free(note);
	vbuf_free(b);
	log_free(&L);
}

static void
test_witness_verify(void **state)
{
	struct witness *w, *ow;
	char reason[BUNDLE_REASON_MAX], *note;
	struct lines ls;
	struct log L, R;
	struct vbuf *b;
	uint8_t root[H];

	log_build(&L, NROWS, EVERY, NULL);

	/* OK: witnessed sizes inside the bundle, sealed or not, and the empty tree. */
	b = vbuf_new(1 << 20);
	merkle_empty_root(root);
	note = cp_sign(signer, ORIGIN, 0, root, NULL, 1, T0 - 60, NULL);
	wline(b, ORIGIN, note);
	free(note);
	wline(b, ORIGIN, L.cp_note[1]);
	wline(b, ORIGIN, L.cp_note[5]);
	merkle_root((const uint8_t(*)[H])L.leaf, 298, root);
	note = cp_sign(signer, ORIGIN, 298, root, NULL, 81, T0 + 999, NULL);
	wline(b, ORIGIN, note);
	free(note);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), 0);
	assert_int_equal(witness_count(w), 4);
	lines_from_log(&L, NROWS, &ls);
	expect_ok(&ls, w, NROWS, 8, 4);
	/* A witness loaded for another log is refused. */
	vbuf_reset(b);
	assert_int_equal(wload(b, OTHER_ORIGIN, other_key, &ow, reason), 0);
	expect_fail(&ls, ow, -1, "the witness file was loaded for another log");
	witness_free(ow);
	lines_free(&ls);
	/* Truncated to 200 rows with a consistent end: fine alone, not against the witness. */
	lines_from_log(&L, 200, &ls);
	expect_ok(&ls, NULL, 200, 5, 15);
	expect_fail(&ls, w, 200, "the log ends at index 200 but a witnessed checkpoint covers 222 "
	    "rows (counter 60): rows were truncated or the database was restored from an older "
	    "copy");
	lines_free(&ls);
	witness_free(w);
	vbuf_free(b);

	/* History rewritten at row 100 and re-signed with the log's own key. */
	log_build(&R, NROWS, EVERY, &(struct log_opts){ .forge = 1, .forged = 100 });
	lines_from_log(&R, NROWS, &ls);
	expect_ok(&ls, NULL, NROWS, 8, 4);
	w = witness_of(&L, (const int[]){ 2, 4, 0 });
	expect_fail(&ls, w, 74, "rows [74, 148) do not match the witnessed checkpoint of size 148 "
	    "(counter 40): history was rewritten after it was witnessed");
	witness_free(w);
	w = witness_of(&L, (const int[]){ 6, 0 });
	expect_fail(&ls, w, 0, "rows [0, 222) do not match the witnessed checkpoint of size 222");
	witness_free(w);
	/* A witness from before the rewrite (size 74) still matches. */
	w = witness_of(&L, (const int[]){ 1, 2, 0 });
	expect_ok(&ls, w, NROWS, 8, 4);
	witness_free(w);
	lines_free(&ls);
	log_free(&R);

	/* The same rows, the chain re-signed (other times): the texts differ. */
	log_build(&R, NROWS, EVERY, &(struct log_opts){
	    .times = (const int64_t[]){ T0 + 1, T0 + 61, T0 + 121, T0 + 181, T0 + 241, T0 + 301,
	    T0 + 361, T0 + 421 } });
	lines_from_log(&R, NROWS, &ls);
	expect_ok(&ls, NULL, NROWS, 8, 4);
	w = witness_of(&L, (const int[]){ 4, 0 });
	expect_fail(&ls, w, 111, "checkpoint #4 (size 148) differs from the witnessed checkpoint "
	    "of the same size (counter 40): the chain was re-signed after it was witnessed");
	witness_free(w);
	lines_free(&ls);
	log_free(&R);

	/* Counters against a witnessed size between two of the bundle's checkpoints. */
	b = vbuf_new(1 << 20);
	merkle_root((const uint8_t(*)[H])L.leaf, 150, root);
	note = cp_sign(signer, ORIGIN, 150, root, NULL, 45, T0, NULL);
	wline(b, ORIGIN, note);
	free(note);
	assert_int_equal(wload(b, ORIGIN, key, &w, reason), 0);
	lines_from_log(&L, NROWS, &ls); /* 148: 40, 185: 50 */
	expect_ok(&ls, w, NROWS, 8, 4);
	lines_free(&ls);
	log_build(&R, NROWS, EVERY, &(struct log_opts){
	    .counters = (const uint64_t[]){ 10, 20, 30, 40, 44, 60, 70, 80 } });
	lines_from_log(&R, NROWS, &ls);
	expect_ok(&ls, NULL, NROWS, 8, 4);
	expect_fail(&ls, w, 148, "checkpoint #5 (size 185) has counter 44, but the witnessed "
	    "checkpoint of the smaller size 150 has counter 45: rollback or reordering");
	lines_free(&ls);
	log_free(&R);
	log_build(&R, NROWS, EVERY, &(struct log_opts){
	    .counters = (const uint64_t[]){ 10, 20, 30, 46, 50, 60, 70, 80 } });
	lines_from_log(&R, NROWS, &ls);
	expect_fail(&ls, w, 111, "checkpoint #4 (size 148) has counter 46, but the witnessed "
	    "checkpoint of the larger size 150 has counter 45");
	lines_free(&ls);
	log_free(&R);
	witness_free(w);
	vbuf_free(b);
	log_free(&L);
}

/* ---------------------------------------------------------------------------------------------
 * `vaultterm audit verify`
 */

/* Runs `vaultterm audit verify ...` with stdout captured into out (a C string, caller frees). */
static int
run_verify(const char *const *args, size_t nargs, char **out)
{
	char tmpl[] = "/tmp/vt-test-chain-out.XXXXXX";
	char *argv[8];
	int fd, saved, rc;
	size_t n = 0, i;
	FILE *f;

	assert_true(nargs + 2 <= VT_NELEM(argv));
	argv[0] = (char *)"audit";
	argv[1] = (char *)"verify";
	for (i = 0; i < nargs; i++)
		argv[2 + i] = (char *)(uintptr_t)args[i];
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(1);
	assert_true(saved >= 0 && dup2(fd, 1) == 1);
	rc = cmd_audit_main((int)(nargs + 2), argv);
	fflush(stdout);
	assert_int_equal(dup2(saved, 1), 1);
	close(saved);
	*out = xcalloc(1, 4096);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	n = fread(*out, 1, 4095, f);
	(*out)[n] = '\0';
	fclose(f);
	unlink(tmpl);
	return rc;
}

static char *
write_tmp(const char *data, size_t len)
{
	char tmpl[] = "/tmp/vt-test-chain.XXXXXX";
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return xstrdup(tmpl);
}

static void
test_cli_verify(void **state)
{
	char vkey[NOTE_VKEY_MAX + 1], evkey[NOTE_VKEY_MAX + 1], *bundle, *bad, *keyfile, *wfile;
	char *text, *out, *line;
	struct vbuf *wb = vbuf_new(1 << 20);
	struct lines ls;
	struct log L;
	size_t len;

	log_build(&L, NROWS, EVERY, NULL);
	lines_from_log(&L, NROWS, &ls);
	text = lines_join(&ls, &len);
	bundle = write_tmp(text, len);
	free(text);
	lines_set(&ls, leaf_pos(&ls, 100), leaf_line(100, L.leaf[100], L.row[101]));
	text = lines_join(&ls, &len);
	bad = write_tmp(text, len);
	free(text);
	note_signer_format_vkey(signer, vkey);
	note_signer_format_vkey(evil, evkey);
	line = xasprintf("%s\n", vkey);
	keyfile = write_tmp(line, strlen(line));
	free(line);

	assert_int_equal(run_verify((const char *[]){ bundle, "--public-key", vkey }, 3, &out), 0);
	assert_string_equal(out, "OK 300 rows, 8 checkpoints, 4 rows not yet sealed by a "
				 "checkpoint\n");
	free(out);
	assert_int_equal(run_verify((const char *[]){ "--public-key", keyfile, bundle }, 3, &out),
	    0);
	free(out);
	assert_int_equal(run_verify((const char *[]){ bad, "--public-key", keyfile }, 3, &out), 1);
	assert_string_equal(out, "FAIL index 100: row does not match its sequenced leaf hash "
				 "(altered)\n");
	free(out);
	assert_int_equal(run_verify((const char *[]){ bundle, "--public-key", evkey }, 3, &out), 1);
	assert_string_equal(out, "FAIL index 0: checkpoint #1 (size 37): signature does not "
				 "verify with the given public key\n");
	free(out);
	/* A witness that shows the bundle truncated; one that does not verify. */
	wline(wb, ORIGIN, L.cp_note[7]);
	wfile = write_tmp((const char *)vbuf_ptr(wb), vbuf_len(wb));
	assert_int_equal(run_verify((const char *[]){ bundle, "--public-key", vkey, "--witness",
	    wfile }, 5, &out), 0);
	free(out);
	unlink(wfile);
	free(wfile);
	lines_free(&ls);
	lines_from_log(&L, 250, &ls);
	text = lines_join(&ls, &len);
	unlink(bad);
	free(bad);
	bad = write_tmp(text, len);
	free(text);
	wfile = write_tmp((const char *)vbuf_ptr(wb), vbuf_len(wb));
	assert_int_equal(run_verify((const char *[]){ bad, "--public-key", vkey, "--witness",
	    wfile }, 5, &out), 1);
	assert_non_null(strstr(out, "FAIL index 250: the log ends at index 250"));
	free(out);
	assert_int_equal(run_verify((const char *[]){ bad, "--public-key", evkey, "--witness",
	    wfile }, 5, &out), 1);
	assert_non_null(strstr(out, "FAIL: witness file"));
	free(out);
	unlink(wfile);
	free(wfile);

	/* Usage errors exit 2, unreadable files 3. */
	assert_int_equal(run_verify((const char *[]){ bundle }, 1, &out), 2);
	free(out);
	assert_int_equal(run_verify((const char *[]){ "--public-key", vkey }, 2, &out), 2);
	free(out);
	assert_int_equal(run_verify((const char *[]){ bundle, bad, "--public-key", vkey }, 4,
	    &out), 2);
	free(out);
	assert_int_equal(run_verify((const char *[]){ bundle, "--public-key", "no+such+key" }, 3,
	    &out), 2);
	free(out);
	assert_int_equal(run_verify((const char *[]){ bundle, "--public-key", bundle }, 3, &out),
	    2);
	free(out);
	assert_int_equal(run_verify((const char *[]){ "/nonexistent/bundle", "--public-key",
	    vkey }, 3, &out), 3);
	free(out);
	assert_int_equal(run_verify((const char *[]){ bundle, "--public-key", vkey, "--witness",
	    "/nonexistent/w" }, 5, &out), 3);
	free(out);

	unlink(bundle);
	unlink(bad);
	unlink(keyfile);
	free(bundle);
	free(bad);
	free(keyfile);
	vbuf_free(wb);
	lines_free(&ls);
	log_free(&L);
}

static int
group_setup(void **state)
{
	if (secmem_init() != 0 || note_signer_generate(ORIGIN, &signer) != 0 ||
	    note_signer_generate(ORIGIN, &evil) != 0 ||
	    note_signer_generate(OTHER_ORIGIN, &other) != 0 ||
	    note_signer_verifier(signer, &key) != 0 || note_signer_verifier(evil, &evil_key) != 0 ||
	    note_signer_verifier(other, &other_key) != 0)
		return -1;
	random_bytes(&rng_state, sizeof(rng_state));
	print_message("test_chain: PRNG seed 0x%016llx\n", (unsigned long long)rng_state);
	return 0;
}

static int
group_teardown(void **state)
{
	note_verifier_free(key);
	note_verifier_free(evil_key);
	note_verifier_free(other_key);
	note_signer_free(signer);
	note_signer_free(evil);
	note_signer_free(other);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_org),
		cmocka_unit_test(test_checkpoint_text_exact),
		cmocka_unit_test(test_checkpoint_read),
		cmocka_unit_test(test_checkpoint_read_rejects),
		cmocka_unit_test(test_prove_check),
		cmocka_unit_test(test_row_check),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_bundle_ok),
		cmocka_unit_test(test_bundle_small),
		cmocka_unit_test(test_tamper_rows),
		cmocka_unit_test(test_row_limits),
		cmocka_unit_test(test_tamper_checkpoints),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_flip_random),
		cmocka_unit_test(test_witness_load),
		cmocka_unit_test(test_witness_verify),
		cmocka_unit_test(test_cli_verify),
		cmocka_unit_test(test_partial_bundle),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
