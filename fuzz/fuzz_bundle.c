/*
 * Audit export bundles and witness files (audit/bundle): a bundle comes from a server the user
 * need not trust, a witness file from wherever it was kept, and `vaultterm audit verify` reads
 * both. The same input is fed (through fmemopen) to bundle_verify under the harness's fixed key
 * (a constant Ed25519 seed, named with a chain origin), without and with a fixed witness, and to
 * witness_load; a witness file that loads is then used to verify the harness's own valid bundle.
 * Invariants: nothing crashes or leaks; the return code is 0 or VT_ERR_VERIFY (no I/O can fail on
 * a memory stream) and agrees with the result (ok, a NUL-terminated non-empty reason on failure,
 * unsealed <= rows, a bad index never past the rows read); a witness only adds checks, so a
 * bundle that verifies with it verifies without it, with the same counts; witness_load answers 0,
 * VT_ERR_INVALID, VT_ERR_VERIFY or VT_ERR_TOO_LARGE and keeps at most one checkpoint per line.
 * The harness's bundle (FUZZ_ROWS rows of the origin's org, a checkpoint every 2 rows) must verify
 * with and without the witness of its checkpoints of sizes 2 and 4, or the invariants would
 * prove nothing. Seeds in fuzz/corpus/bundle/: that bundle and witness file, smaller valid ones,
 * and near-valid tamperings of each kind the verifier reports.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/bundle.h"
#include "audit/chain.h"
#include "base/encode.h"
#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "crypto/note.h"
#include "fuzz.h"

/* Constant seed: the harness needs reproducible runs (and seeds signed by it), not secrecy. */
static const uint8_t SEED[NOTE_ED25519_SEED_LEN] = "vaultterm-fuzz-bundle-key-000001";
#define FUZZ_ORG "00000000-0000-4000-8000-000000000001"
#define FUZZ_ORIGIN "vaultterm.fuzz/audit/" FUZZ_ORG
#define FUZZ_ROWS 5
#define FUZZ_EVERY 2
#define FUZZ_T0 ((int64_t)1795905601)

static struct note_signer *signer;
static struct note_verifier *key;
static struct witness *wit;
static struct vbuf *good; /* the harness's valid bundle */

/* Canonical bytes of the harness's row i. */
static void
fuzz_row(uint64_t i, struct vbuf *out)
{
	char actor_type[] = "user", action[] = "SECRET_REVEALED", outcome[] = "success";
	char detail[64];
	struct audit_row row;

	memset(&row, 0, sizeof(row));
	memset(row.id.b, 0x42, sizeof(row.id.b));
	row.id.b[15] = (uint8_t)i;
	row.has_org = 1;
	FUZZ_CHECK(uuid_parse(FUZZ_ORG, &row.org) == 0);
	row.time_us = FUZZ_T0 * 1000000 + (int64_t)i;
	row.actor_type = actor_type;
	row.action = action;
	row.outcome = outcome;
	snprintf(detail, sizeof(detail), "{\"i\":%llu}", (unsigned long long)i);
	row.detail = detail;
	FUZZ_CHECK(audit_row_canonical(&row, out) == 0);
}

/* Appends "checkpoint <origin> <base64 note>\n" to w. */
static void
witness_line(struct vbuf *w, const char *note, size_t len)
{
	size_t n = b64_encoded_size(len);
	uint8_t *p;

	FUZZ_CHECK(vbuf_put_cstr(w, "checkpoint " FUZZ_ORIGIN " ") == 0);
	FUZZ_CHECK(vbuf_reserve(w, n, &p) == 0);
	b64_encode((const uint8_t *)note, len, (char *)p, n);
	p[n - 1] = '\n'; /* over the NUL b64_encode wrote */
}

/*
 * The harness's log as a bundle (appended to bundle) and the witness lines of its checkpoints of
 * sizes 2 and 4 (appended to witness). Deterministic: Ed25519 signatures are.
 */
static void
fuzz_log(struct vbuf *bundle, struct vbuf *witness)
{
	char vkey[NOTE_VKEY_MAX + 1];
	struct vbuf *row = vbuf_new(BUNDLE_ROW_MAX), *text = vbuf_new(NOTE_MAX);
	struct vbuf *note = vbuf_new(NOTE_MAX);
	struct merkle_frontier f;
	uint8_t leaf[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN], prev[HASH_SHA256_LEN];
	uint64_t i, ncp = 0;

	merkle_frontier_init(&f);
	note_signer_format_vkey(signer, vkey);
	FUZZ_CHECK(bundle_write_header(bundle, FUZZ_ORIGIN, vkey) == 0);
	for (i = 0; i < FUZZ_ROWS; i++) {
		vbuf_reset(row);
		fuzz_row(i, row);
		FUZZ_CHECK(merkle_leaf_hash(vbuf_ptr(row), vbuf_len(row), leaf) == 0);
		FUZZ_CHECK(merkle_frontier_append(&f, leaf) == 0);
		FUZZ_CHECK(bundle_write_leaf(bundle, i, leaf, vbuf_ptr(row), vbuf_len(row)) == 0);
		if ((i + 1) % FUZZ_EVERY != 0)
			continue;
		vbuf_reset(text);
		vbuf_reset(note);
		merkle_frontier_root(&f, root);
		FUZZ_CHECK(chain_checkpoint_text(FUZZ_ORIGIN, i + 1, root, ncp > 0 ? prev : NULL,
		    10 * (ncp + 1), FUZZ_T0 + (int64_t)ncp, text) == 0);
		hash_sha256(vbuf_ptr(text), vbuf_len(text), prev);
		FUZZ_CHECK(note_sign(signer, (const char *)vbuf_ptr(text), vbuf_len(text), note) == 0);
		FUZZ_CHECK(bundle_write_checkpoint(bundle, (const char *)vbuf_ptr(note),
		    vbuf_len(note)) == 0);
		ncp++;
		if (witness != NULL)
			witness_line(witness, (const char *)vbuf_ptr(note), vbuf_len(note));
	}
	FUZZ_CHECK(bundle_write_end(bundle, FUZZ_ROWS, ncp) == 0);
	vbuf_free(row);
	vbuf_free(text);
	vbuf_free(note);
}

/* fmemopen of data[0 .. size); an empty stream for size 0 (fmemopen refuses it). */
static FILE *
stream(const uint8_t *data, size_t size)
{
	FILE *f = size > 0 ? fmemopen((void *)(uintptr_t)data, size, "r") : fopen("/dev/null", "r");

	FUZZ_CHECK(f != NULL);
	return f;
}

static int
verify(const uint8_t *data, size_t size, const struct witness *w, struct bundle_result *res)
{
	FILE *f = stream(data, size);
	int r = bundle_verify(f, key, w, res);

	fclose(f);
	FUZZ_CHECK(r == 0 || r == VT_ERR_VERIFY);
	FUZZ_CHECK(strnlen(res->reason, sizeof(res->reason)) < sizeof(res->reason));
	if (r == 0) {
		FUZZ_CHECK(res->ok == 1 && !res->has_bad_index && res->reason[0] == '\0');
		FUZZ_CHECK(res->unsealed <= res->rows);
	} else {
		FUZZ_CHECK(res->ok == 0 && res->reason[0] != '\0' && res->unsealed == 0);
		FUZZ_CHECK(!res->has_bad_index || res->bad_index <= res->rows);
	}
	return r;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vbuf *wl = vbuf_new(1 << 20);
	struct bundle_result res;
	char reason[BUNDLE_REASON_MAX];
	FILE *f;

	FUZZ_CHECK(secmem_init() == 0);
	FUZZ_CHECK(note_signer_new(FUZZ_ORIGIN, SEED, &signer) == 0);
	FUZZ_CHECK(note_signer_verifier(signer, &key) == 0);
	good = vbuf_new(1 << 20);
	fuzz_log(good, wl);
	f = stream(vbuf_ptr(wl), vbuf_len(wl));
	FUZZ_CHECK(witness_load(f, FUZZ_ORIGIN, key, &wit, reason) == 0);
	FUZZ_CHECK(witness_count(wit) == FUZZ_ROWS / FUZZ_EVERY);
	fclose(f);
	vbuf_free(wl);
	/* The invariants are only meaningful if a real bundle does verify, with and without. */
	FUZZ_CHECK(verify(vbuf_ptr(good), vbuf_len(good), NULL, &res) == 0);
	FUZZ_CHECK(res.rows == FUZZ_ROWS && res.checkpoints == FUZZ_ROWS / FUZZ_EVERY);
	FUZZ_CHECK(verify(vbuf_ptr(good), vbuf_len(good), wit, &res) == 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle_result plain, with;
	char reason[BUNDLE_REASON_MAX];
	struct witness *w = NULL;
	uint8_t *copy;
	size_t lines = 0, i;
	FILE *f;
	int r, r2;

	/* An exact-size copy, so ASan flags any read past the input. */
	copy = xmalloc(size == 0 ? 1 : size);
	if (size > 0)
		memcpy(copy, data, size);

	r = verify(copy, size, NULL, &plain);
	r2 = verify(copy, size, wit, &with);
	/* A witness only adds checks. */
	if (r2 == 0)
		FUZZ_CHECK(r == 0 && with.rows == plain.rows &&
		    with.checkpoints == plain.checkpoints && with.unsealed == plain.unsealed);
	/* Accepting partial bundles only adds bundles that start with a from line. */
	f = stream(copy, size);
	r2 = bundle_verify_from(f, key, &with);
	fclose(f);
	FUZZ_CHECK(r2 == 0 || r2 == VT_ERR_VERIFY);
	if (r == 0)
		FUZZ_CHECK(r2 == 0 && with.start == 0 && with.rows == plain.rows);
	if (r2 == 0)
		FUZZ_CHECK(with.ok == 1 && with.start <= with.rows && with.unsealed <= with.rows);

	/* As a witness file: at most one checkpoint per line, and it must not break a valid log
	 * except by a finding. */
	f = stream(copy, size);
	r = witness_load(f, FUZZ_ORIGIN, key, &w, reason);
	fclose(f);
	FUZZ_CHECK(r == 0 || r == VT_ERR_INVALID || r == VT_ERR_VERIFY || r == VT_ERR_TOO_LARGE);
	if (r == 0) {
		for (i = 0; i < size; i++)
			lines += copy[i] == '\n';
		FUZZ_CHECK(w != NULL && witness_count(w) <= lines);
		verify(vbuf_ptr(good), vbuf_len(good), w, &with);
	} else {
		FUZZ_CHECK(w == NULL && reason[0] != '\0');
	}
	witness_free(w);
	free(copy);
	return 0;
}
