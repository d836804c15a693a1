/*
 * The audit chain's checkpoints: each organization's log (origin "<deployment>/audit/<org uuid>")
 * publishes C2SP tlog checkpoints signed by an Ed25519 key whose note key name is the origin. The
 * checkpoint text carries three extension lines after the tree head, in this order:
 *
 *     prev <64 lower-case hex: SHA-256 of the previous checkpoint's text> | prev none
 *     counter <the deployment's monotonic license counter, decimal, >= 1>
 *     time <UTC RFC 3339 with seconds precision, e.g. 2026-11-28T22:40:01Z>
 *
 * The "text" of a checkpoint is the signed body of its note (everything before the blank line
 * and the signature lines), so the prev link and the witnesses' comparisons do not depend on
 * which signatures a copy of the note carries. Reading always verifies the signature: there is
 * deliberately no way to parse a checkpoint without a key. Format and checks: docs/audit.md §7.9.
 */
#ifndef VT_AUDIT_CHAIN_H
#define VT_AUDIT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "audit/merkle.h"
#include "base/encode.h"
#include "base/util.h"
#include "base/vbuf.h"
#include "crypto/hash.h"
#include "crypto/note.h"

#define CHAIN_ORIGIN_SUFFIX "/audit/" /* an origin is "<deployment>/audit/<org uuid>" */
#define CHAIN_TIME_LEN 20             /* "2026-11-28T22:40:01Z" */
/* Checkpoint times: 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, in seconds. */
#define CHAIN_TIME_MAX ((int64_t)253402300799)

/* A verified checkpoint of the chain. Plain value; every field is from the signed text. */
struct chain_checkpoint {
	char origin[CHECKPOINT_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[MERKLE_HASH_LEN];
	int has_prev;                   /* 0: "prev none", the first checkpoint of the log */
	uint8_t prev[HASH_SHA256_LEN];   /* SHA-256 of the previous checkpoint's text */
	uint64_t counter;               /* >= 1 */
	int64_t time_s;                 /* seconds since the epoch, 0 .. CHAIN_TIME_MAX */
	uint8_t text_hash[HASH_SHA256_LEN]; /* SHA-256 of this checkpoint's signed text */
};

/*
 * Appends the checkpoint text of the log `origin` (a chain origin, see chain_origin_org) at `size`
 * leaves with root `root`, linked to the previous checkpoint's text hash prev_hash (NULL for the
 * log's first checkpoint), counter >= 1 and time_s within 0 .. CHAIN_TIME_MAX. VT_ERR_INVALID for
 * a bad origin, counter 0, a time out of range or size above MERKLE_MAX_SIZE; vbuf errors. out
 * is unchanged on failure. The caller signs the text (note_sign) with the origin's key.
 */
int chain_checkpoint_text(const char *origin, uint64_t size,
    const uint8_t root[static MERKLE_HASH_LEN], const uint8_t *prev_hash, uint64_t counter,
    int64_t time_s, struct vbuf *out) VT_WUR;

/*
 * Verifies the signed note (len bytes, borrowed) with the one key v, then parses its text
 * strictly: a chain origin equal to the key's name, the tree head, and exactly the three extension
 * lines in canonical form (lower-case hex, no leading zeros, seconds-precision UTC time).
 * VT_ERR_VERIFY when the signature does not verify with v (whatever the reason), VT_ERR_INVALID
 * for a malformed note or text, VT_ERR_VALIDATION for a well-formed checkpoint whose origin is not
 * the key's name (the key signed something that is not its log's checkpoint), VT_ERR_TOO_LARGE
 * past NOTE_MAX. *out is zeroed on failure.
 */
int chain_checkpoint_read(const char *note, size_t len, const struct note_verifier *v,
    struct chain_checkpoint *out) VT_WUR;

/*
 * The organization of a chain origin "<deployment>/audit/<uuid>": a non-empty deployment, the
 * suffix, and a UUID in canonical lower-case text; the origin itself must be a valid key name.
 * VT_ERR_INVALID otherwise (*org zeroed).
 */
int chain_origin_org(const char *origin, struct vt_uuid *org) VT_WUR;

/*
 * Checks that row (row_len canonical bytes, docs/audit.md §4) is leaf `index` of the log whose
 * signed checkpoint note is checkpoint_note (len bytes): the note verifies with key
 * (chain_checkpoint_read), the row is a canonical audit row of the origin's organization, and
 * path[0 .. n) is an RFC 9162 inclusion proof of its leaf hash in the checkpoint's tree.
 * 0 if all hold; VT_ERR_VERIFY for a signature or a proof that does not verify; VT_ERR_INVALID for
 * a malformed note, index >= the checkpoint's size, n > MERKLE_MAX_PROOF or a row that is not a
 * canonical row of that organization; VT_ERR_VALIDATION, VT_ERR_TOO_LARGE as above.
 */
int chain_prove_check(const char *checkpoint_note, size_t len, const struct note_verifier *key,
    uint64_t index, const void *row, size_t row_len, const uint8_t path[][MERKLE_HASH_LEN],
    size_t n) VT_WUR;

/*
 * 0 if row (len bytes) is a canonical audit row (docs/audit.md §4: the magic, then the 13 fields,
 * nothing after) whose org_id is *org; VT_ERR_INVALID if it is not a canonical row,
 * VT_ERR_VALIDATION if it is one of another organization or a system row (org_id NULL).
 */
int chain_row_check(const void *row, size_t len, const struct vt_uuid *org) VT_WUR;

#endif
