/*
 * RFC 6962 / RFC 9162 §2.1 Merkle trees with SHA-256 for the tamper-evident audit log: leaf and
 * node hashing, the root of an array of leaf hashes, a compact frontier (the roots of the perfect
 * subtrees along the right edge) that appends in amortized O(1) hashes and yields the root in
 * O(log n), its strict byte encoding for storage between checkpoints, and inclusion and
 * consistency proofs (generation from the leaf hashes, verification by the RFC 9162 algorithms).
 * Every function works on leaf *hashes*; merkle_leaf_hash() turns entry bytes into one. Nothing
 * here is secret: hashes are compared in constant time anyway, so a verifier leaks nothing about
 * where a forged proof differs. Byte layouts and algorithms: docs/audit.md, "Merkle tree".
 */
#ifndef VT_AUDIT_MERKLE_H
#define VT_AUDIT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "base/vbuf.h"

#define MERKLE_HASH_LEN 32
/*
 * Largest tree size: the largest PostgreSQL bigint, where sizes and indexes are stored. With at
 * most 2^63 - 1 leaves no leaf is deeper than 63, so an inclusion proof has at most 63 hashes and
 * a consistency proof at most 64 (path + the one subtree root that starts it).
 */
#define MERKLE_MAX_SIZE ((uint64_t)INT64_MAX)
#define MERKLE_MAX_PROOF 64        /* hashes in any proof, generated or accepted */
#define MERKLE_FRONTIER_MAX 63     /* perfect subtrees on the right edge: popcount(size) <= 63 */
#define MERKLE_MAX_LEAF (1u << 20) /* entry bytes per leaf; a canonical audit row is < 20 KiB */
#define MERKLE_FRONTIER_VERSION 1
/* Encoded frontier: version u8, size u64 big-endian, popcount(size) hashes. */
#define MERKLE_FRONTIER_ENC_MAX (1 + 8 + MERKLE_FRONTIER_MAX * MERKLE_HASH_LEN)

/*
 * The right edge of a tree of `size` leaves: hash[0 .. popcount(size)) are the roots of its
 * maximal perfect subtrees, left (largest) to right (smallest), one per set bit of size. A plain
 * value (no heap); initialize with merkle_frontier_init or merkle_frontier_decode and treat the
 * fields as read-only.
 */
struct merkle_frontier {
	uint64_t size;
	uint8_t hash[MERKLE_FRONTIER_MAX][MERKLE_HASH_LEN];
};

/* SHA-256("") into out: the root of the empty tree. */
void merkle_empty_root(uint8_t out[static MERKLE_HASH_LEN]);
/*
 * SHA-256(0x00 ‖ data[0..len)) into out. VT_ERR_TOO_LARGE above MERKLE_MAX_LEAF, VT_ERR_NOMEM if
 * the copy cannot be allocated; out is zeroed then.
 */
int merkle_leaf_hash(const void *data, size_t len, uint8_t out[static MERKLE_HASH_LEN]) VT_WUR;
/* SHA-256(0x01 ‖ l ‖ r) into out; out may alias l or r. */
void merkle_node_hash(const uint8_t l[static MERKLE_HASH_LEN],
    const uint8_t r[static MERKLE_HASH_LEN], uint8_t out[static MERKLE_HASH_LEN]);

/*
 * Root (MTH) of the tree over leaves[0 .. n) (leaf hashes, borrowed), iteratively in O(n) hashes
 * and O(log n) memory; n = 0 gives the empty root. n above MERKLE_MAX_SIZE is a broken invariant.
 */
void merkle_root(const uint8_t leaves[][MERKLE_HASH_LEN], uint64_t n,
    uint8_t out[static MERKLE_HASH_LEN]);

/* The empty frontier (size 0). */
void merkle_frontier_init(struct merkle_frontier *f);
/* Appends one leaf hash. VT_ERR_RANGE (f unchanged) when f already holds MERKLE_MAX_SIZE leaves. */
int merkle_frontier_append(struct merkle_frontier *f,
    const uint8_t leaf_hash[static MERKLE_HASH_LEN]) VT_WUR;
/* Root of the tree of the f->size leaves appended so far (the empty root for size 0). */
void merkle_frontier_root(const struct merkle_frontier *f, uint8_t out[static MERKLE_HASH_LEN]);
/* Number of leaves appended so far. */
uint64_t merkle_frontier_size(const struct merkle_frontier *f);
/* Appends the encoding of f to out (MERKLE_FRONTIER_ENC_MAX bytes at most); vbuf errors. */
int merkle_frontier_encode(const struct merkle_frontier *f, struct vbuf *out) VT_WUR;
/*
 * Decodes exactly data[0 .. len) (borrowed) into *out. VT_ERR_INVALID on an unknown version, a
 * size above MERKLE_MAX_SIZE, a hash count other than popcount(size), or trailing bytes; *out is
 * the empty frontier then.
 */
int merkle_frontier_decode(const uint8_t *data, size_t len, struct merkle_frontier *out) VT_WUR;

/*
 * Inclusion proof (RFC 9162 §2.1.3.1) of leaf `index` in the tree over leaves[0 .. size): *n
 * hashes, deepest sibling first, into path. VT_ERR_INVALID unless index < size <= MERKLE_MAX_SIZE;
 * *n is 0 then. O(size) hashes.
 */
int merkle_inclusion_proof(const uint8_t leaves[][MERKLE_HASH_LEN], uint64_t size, uint64_t index,
    uint8_t path[static MERKLE_MAX_PROOF][MERKLE_HASH_LEN], size_t *n) VT_WUR;
/*
 * RFC 9162 §2.1.3.2: 0 if path[0 .. n) proves leaf_hash is leaf `index` of the tree of `size`
 * leaves whose root is `root`. VT_ERR_INVALID unless index < size <= MERKLE_MAX_SIZE and
 * n <= MERKLE_MAX_PROOF (path may be NULL when n is 0); VT_ERR_VERIFY for any proof that does not
 * verify (wrong length, wrong hash), without saying which check failed.
 */
int merkle_inclusion_verify(const uint8_t leaf_hash[static MERKLE_HASH_LEN], uint64_t index,
    uint64_t size, const uint8_t path[][MERKLE_HASH_LEN], size_t n,
    const uint8_t root[static MERKLE_HASH_LEN]) VT_WUR;

/*
 * Consistency proof (RFC 9162 §2.1.4.1, RFC 6962 PROOF(m, D[n])) that the tree of the first m
 * leaves is a prefix of the tree over leaves[0 .. n): *k hashes into path; empty for m = n.
 * VT_ERR_INVALID unless 0 < m <= n <= MERKLE_MAX_SIZE (consistency with the empty tree is
 * trivial and proves nothing); *k is 0 then. O(n) hashes.
 */
int merkle_consistency_proof(const uint8_t leaves[][MERKLE_HASH_LEN], uint64_t n, uint64_t m,
    uint8_t path[static MERKLE_MAX_PROOF][MERKLE_HASH_LEN], size_t *k) VT_WUR;
/*
 * RFC 9162 §2.1.4.2: 0 if path[0 .. k) proves that the tree of m leaves with root root_m is a
 * prefix of the tree of n leaves with root root_n; for m = n, 0 iff the proof is empty and the
 * roots are equal. VT_ERR_INVALID unless 0 < m <= n <= MERKLE_MAX_SIZE and k <= MERKLE_MAX_PROOF
 * (path may be NULL when k is 0); VT_ERR_VERIFY for any proof that does not verify.
 */
int merkle_consistency_verify(uint64_t m, uint64_t n, const uint8_t root_m[static MERKLE_HASH_LEN],
    const uint8_t root_n[static MERKLE_HASH_LEN], const uint8_t path[][MERKLE_HASH_LEN], size_t k)
    VT_WUR;

#endif
