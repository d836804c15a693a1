/*
 * The audit export bundle: one organization's whole log as line-oriented ASCII text — its rows in
 * index order with the leaf hash each was sequenced with, and its signed checkpoints, each right
 * after the last row it covers — written by the server (GET /api/audit/export) and checked
 * offline by `vaultterm audit verify` against a public key the user trusts:
 *
 *     vaultterm-audit-bundle 1
 *     origin <origin>
 *     vkey <Go vkey of the log's key: informational, the verifier trusts only its own key>
 *     leaf <index> <64 lower-case hex leaf hash> <base64 of the canonical row | "-" if missing>
 *     checkpoint <base64 of the whole signed checkpoint note>
 *     end <number of leaf lines> <number of checkpoint lines>
 *
 * bundle_verify streams the bundle: O(log n) memory for the tree (a Merkle frontier), one reusable
 * buffer per kind of line, no per-line allocation; most of its time is SHA-256. It reports the
 * first failure in stream order with the first log index it puts in doubt. A witness file (lines
 * "checkpoint <origin> <base64 signed note>", collected from the log over time) adds what a
 * bundle cannot show about itself: that it is not a truncated or rewritten copy of the history
 * someone saw earlier. Format and every check: docs/audit.md §7.9.
 */
#ifndef VT_AUDIT_BUNDLE_H
#define VT_AUDIT_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "audit/chain.h"
#include "audit/merkle.h"
#include "base/util.h"
#include "base/vbuf.h"
#include "crypto/note.h"

#define BUNDLE_MAGIC "vaultterm-audit-bundle 1"
#define BUNDLE_ROW_MAX MERKLE_MAX_LEAF /* canonical bytes of one row */
#define BUNDLE_B64_LEN(n) (((size_t)(n) + 2) / 3 * 4)
/* Longest line: "leaf " 19 digits ' ' 64 hex ' ' base64 of BUNDLE_ROW_MAX bytes. */
#define BUNDLE_LINE_MAX (5 + 19 + 1 + 64 + 1 + BUNDLE_B64_LEN(BUNDLE_ROW_MAX))
#define BUNDLE_REASON_MAX 256
/* Witness file: "checkpoint " origin ' ' base64 of a note of at most NOTE_MAX bytes. */
#define WITNESS_LINE_MAX (11 + CHECKPOINT_ORIGIN_MAX + 1 + BUNDLE_B64_LEN(NOTE_MAX))
#define WITNESS_MAX_CHECKPOINTS 100000 /* checkpoints of our origin kept from one file */

/* Verified checkpoints of one log from a witness file; owned by the caller (witness_free). */
struct witness;

/*
 * The outcome of bundle_verify. ok = 1 when the bundle verifies; then rows and checkpoints count
 * its lines and unsealed the rows after the last checkpoint (not a failure: the next checkpoint
 * will cover them). Otherwise reason (NUL-terminated, never empty) says what failed and, when
 * has_bad_index, bad_index is the first log index that the failure puts in doubt; rows and
 * checkpoints count what was accepted before the failure.
 */
struct bundle_result {
	int ok;
	uint64_t rows, checkpoints, unsealed, bad_index;
	uint64_t start;     /* first index checked: 0 unless a partial bundle (bundle_verify_from) */
	int has_bad_index;
	char reason[BUNDLE_REASON_MAX];
};

/*
 * Writers: each appends exactly one part of a bundle to out, or nothing on failure (vbuf errors,
 * VT_ERR_INVALID for bad arguments). _header: origin must be a chain origin (chain_origin_org)
 * and vkey a Go verifier key whose name is origin. _leaf: the hash as sequenced (not recomputed:
 * checking it is the verifier's job), row NULL for a row missing from the database, index below
 * MERKLE_MAX_SIZE, row_len at most BUNDLE_ROW_MAX (VT_ERR_TOO_LARGE). _checkpoint: a whole signed
 * note of 1 .. NOTE_MAX bytes (not verified here). _end: the line counts.
 */
int bundle_write_header(struct vbuf *out, const char *origin, const char *vkey) VT_WUR;
/*
 * A partial bundle (for bundle_verify_from only) starts after the header with
 * "from <size> <base64 frontier encoding>" and the checkpoint of that size, then the leaves from
 * index size on. frontier is merkle_frontier_encode's output of a non-empty tree.
 */
int bundle_write_from(struct vbuf *out, const uint8_t *frontier, size_t len) VT_WUR;
int bundle_write_leaf(struct vbuf *out, uint64_t index, const uint8_t hash[static MERKLE_HASH_LEN],
    const void *row, size_t row_len) VT_WUR;
int bundle_write_checkpoint(struct vbuf *out, const char *note, size_t len) VT_WUR;
int bundle_write_end(struct vbuf *out, uint64_t nleaves, uint64_t ncheckpoints) VT_WUR;

/*
 * Reads a bundle from in to its end and checks it against key (the log's public key, the only
 * thing trusted; its name must be the bundle's origin) and, when w is not NULL, against the
 * witnessed checkpoints (loaded for the same origin). Fills *res (cleared first). Returns 0 when
 * the bundle verifies (res->ok = 1), VT_ERR_VERIFY when it does not (res->reason says why),
 * VT_ERR_IO when in cannot be read, VT_ERR_NOMEM; res->reason is set for every error.
 */
int bundle_verify(FILE *in, const struct note_verifier *key, const struct witness *w,
    struct bundle_result *res) VT_WUR;
/*
 * Like bundle_verify without a witness, but also accepts a partial bundle (bundle_write_from):
 * the frontier is trusted only because it folds to the root of the signed checkpoint that
 * follows it, whose own prev link is not checked (it points before the bundle). res->start is
 * the first index checked. The server's background verification re-checks recent ranges so.
 * The offline verifier never accepts a partial bundle: a whole log is verified from index 0.
 */
int bundle_verify_from(FILE *in, const struct note_verifier *key, struct bundle_result *res)
    VT_WUR;

/*
 * Reads a witness file: lines "checkpoint <origin> <base64 signed note>\n". Lines of other origins
 * are skipped (a deployment's file mixes its organizations' logs); each note of `origin` must
 * verify with key (whose name must be origin) as a chain checkpoint of that origin. Copies of the
 * same checkpoint count once. The checkpoints kept must agree with each other: one text per size,
 * and counters increasing with size. Returns 0 with *out set (owned by the caller; possibly with
 * no checkpoint), or an error with *out NULL and reason set ("line L: ..."): VT_ERR_INVALID for a
 * malformed line or a key that is not origin's, VT_ERR_VERIFY for a note that does not verify or
 * checkpoints that contradict each other, VT_ERR_TOO_LARGE past WITNESS_MAX_CHECKPOINTS, VT_ERR_IO,
 * VT_ERR_NOMEM.
 */
int witness_load(FILE *in, const char *origin, const struct note_verifier *key,
    struct witness **out, char reason[static BUNDLE_REASON_MAX]) VT_WUR;
/* Number of distinct checkpoints kept. */
size_t witness_count(const struct witness *w);
/* NULL-safe. */
void witness_free(struct witness *w);

#endif
