/*
 * Reading an org's audit chain back out of the database (RLS-scoped: the transaction's org):
 * the export bundle for the offline verifier (audit/bundle.h), checkpoints, and inclusion and
 * consistency proofs against the sequenced leaf hashes.
 */
#ifndef VT_AUDIT_EXPORT_H
#define VT_AUDIT_EXPORT_H

#include <stdint.h>

#include <jansson.h>

#include "audit/merkle.h"
#include "audit/signing.h"
#include "base/util.h"
#include "base/vbuf.h"
#include "db/db.h"

#define AUDIT_EXPORT_PAGE 10000
#define AUDIT_PROOF_MAX_SIZE ((uint64_t)1 << 24) /* leaves loaded to build one proof */
#define AUDIT_CHECKPOINTS_MAX 500                /* page size ceiling of the list */

/*
 * The whole bundle of the transaction's org into out (leaves with their rows as stored now,
 * every checkpoint in place). VT_ERR_TOO_LARGE past out's max.
 */
int audit_export(struct db_tx *tx, const struct audit_keys *keys, struct vbuf *out) VT_WUR;
/*
 * A partial bundle (bundle_verify_from) starting at the checkpoint of exactly `from` leaves (0:
 * the whole log, as audit_export). VT_ERR_NOT_FOUND when no checkpoint has that size.
 */
int audit_export_from(struct db_tx *tx, const struct audit_keys *keys, uint64_t from,
    struct vbuf *out) VT_WUR;

/* The newest checkpoint note of the org (*note owned by the caller); VT_ERR_NOT_FOUND if none. */
int audit_checkpoint_latest(struct db_tx *tx, char **note) VT_WUR;
/* The note of the checkpoint of exactly `size` leaves; VT_ERR_NOT_FOUND if none. */
int audit_checkpoint_at(struct db_tx *tx, uint64_t size, char **note) VT_WUR;

/*
 * Checkpoints with size > after, oldest first, at most limit: a JSON array of
 * {size, root, counter, prev_hash, time, note}; *next is the last size when more follow, else 0.
 */
int audit_checkpoints_list(struct db_tx *tx, uint64_t after, int limit, json_t **out,
    uint64_t *next) VT_WUR;

/* The number of sequenced leaves of the org (0 when none). */
int audit_log_size(struct db_tx *tx, uint64_t *size) VT_WUR;

/*
 * {index, size, leaf_hash, entry (base64 canonical row), path[]} for leaf index in the tree of
 * `size` leaves (size <= the sequenced size). VT_ERR_RANGE for index >= size or size beyond the
 * log; VT_ERR_TOO_LARGE above AUDIT_PROOF_MAX_SIZE.
 */
int audit_inclusion_proof(struct db_tx *tx, uint64_t index, uint64_t size, json_t **out) VT_WUR;
/* {from, to, path[]}: consistency of the first `from` leaves with the first `to`. */
int audit_consistency_proof(struct db_tx *tx, uint64_t from, uint64_t to, json_t **out) VT_WUR;

#endif
