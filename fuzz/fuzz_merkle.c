/*
 * Merkle frontier decoding and proof verification (audit/merkle): a stored frontier comes back
 * from the database, and proofs, sizes and roots come from exports and witnesses, so all of it is
 * untrusted. The same input is used three ways:
 *  1. as an encoded frontier: a decode that succeeds re-encodes to exactly the input bytes (the
 *     encoding is canonical) and the decoded frontier keeps working (root, append);
 *  2. as raw proofs: u64 index/m, u64 size/n, a 32-byte leaf hash/root_m, a 32-byte root/root_n,
 *     then the path hashes (a partial trailing hash is dropped), fed to both verifiers, which must
 *     answer 0, VT_ERR_INVALID or VT_ERR_VERIFY; an accepted proof must have plausible arguments;
 *  3. as a recipe: a tree of 1..64 leaves, a leaf index, an old size and a bit to flip are read
 *     from the first bytes; the generated inclusion and consistency proofs must verify, and must
 *     stop verifying once that bit of the proof is flipped.
 * Seeds in fuzz/corpus/merkle/: encoded frontiers (valid and near-valid) and the published
 * Certificate Transparency inclusion and consistency proofs of the eight-leaf test tree.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/merkle.h"
#include "base/err.h"
#include "base/vbuf.h"
#include "fuzz.h"

#define RAW_HEADER (8 + 8 + 2 * MERKLE_HASH_LEN)
#define RAW_MAX_HASHES (MERKLE_MAX_PROOF + 2) /* a few past the limit, to hit VT_ERR_INVALID */

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
as_frontier(const uint8_t *data, size_t size)
{
	struct merkle_frontier f;
	struct vbuf *b;
	uint8_t root[MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN] = { 0 };
	int r;

	r = merkle_frontier_decode(data, size, &f);
	FUZZ_CHECK(r == 0 || r == VT_ERR_INVALID);
	if (r != 0) {
		FUZZ_CHECK(merkle_frontier_size(&f) == 0);
		return;
	}
	FUZZ_CHECK(size <= MERKLE_FRONTIER_ENC_MAX);
	b = vbuf_new(MERKLE_FRONTIER_ENC_MAX);
	FUZZ_CHECK(merkle_frontier_encode(&f, b) == 0);
	FUZZ_CHECK(vbuf_len(b) == size);
	FUZZ_CHECK(vt_ct_eq(vbuf_ptr(b), data, size));
	vbuf_free(b);

	merkle_frontier_root(&f, root);
	r = merkle_frontier_append(&f, leaf);
	FUZZ_CHECK(r == 0 || (r == VT_ERR_RANGE && merkle_frontier_size(&f) == MERKLE_MAX_SIZE));
	merkle_frontier_root(&f, root);
}

static void
as_raw_proofs(const uint8_t *data, size_t size)
{
	uint8_t(*path)[MERKLE_HASH_LEN] = NULL;
	uint64_t a, n;
	size_t k;
	int r;

	if (size < RAW_HEADER)
		return;
	a = get_u64(data);
	n = get_u64(data + 8);
	k = (size - RAW_HEADER) / MERKLE_HASH_LEN;
	if (k > RAW_MAX_HASHES)
		k = RAW_MAX_HASHES;
	/* An exact-size heap copy of the path, so ASan sees any read past the last hash. */
	if (k > 0) {
		path = xmalloc(k * MERKLE_HASH_LEN);
		memcpy(path, data + RAW_HEADER, k * MERKLE_HASH_LEN);
	}

	r = merkle_inclusion_verify(data + 16, a, n, (const uint8_t(*)[MERKLE_HASH_LEN])path, k,
	    data + 16 + MERKLE_HASH_LEN);
	FUZZ_CHECK(r == 0 || r == VT_ERR_INVALID || r == VT_ERR_VERIFY);
	FUZZ_CHECK(r != 0 || (a < n && n <= MERKLE_MAX_SIZE && k < MERKLE_MAX_PROOF));

	r = merkle_consistency_verify(a, n, data + 16, data + 16 + MERKLE_HASH_LEN,
	    (const uint8_t(*)[MERKLE_HASH_LEN])path, k);
	FUZZ_CHECK(r == 0 || r == VT_ERR_INVALID || r == VT_ERR_VERIFY);
	FUZZ_CHECK(r != 0 || (a > 0 && a <= n && n <= MERKLE_MAX_SIZE && k <= MERKLE_MAX_PROOF));
	FUZZ_CHECK(r != 0 || (a == n) == (k == 0));
	free(path);
}

static void
as_recipe(const uint8_t *data, size_t size)
{
	uint8_t leaves[64][MERKLE_HASH_LEN], path[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	uint8_t root_m[MERKLE_HASH_LEN], root_n[MERKLE_HASH_LEN];
	uint64_t n, index, m, i;
	size_t k, bit;

	if (size < 5)
		return;
	n = 1 + data[0] % 64;
	index = data[1] % n;
	m = 1 + data[2] % n;
	bit = (size_t)data[3] << 8 | data[4];
	for (i = 0; i < n; i++) {
		uint8_t entry[2] = { (uint8_t)i, size > 5 ? data[5 + i % (size - 5)] : 0 };

		FUZZ_CHECK(merkle_leaf_hash(entry, sizeof(entry), leaves[i]) == 0);
	}
	merkle_root((const uint8_t(*)[MERKLE_HASH_LEN])leaves, n, root_n);
	merkle_root((const uint8_t(*)[MERKLE_HASH_LEN])leaves, m, root_m);

	FUZZ_CHECK(merkle_inclusion_proof((const uint8_t(*)[MERKLE_HASH_LEN])leaves, n, index, path,
	    &k) == 0);
	FUZZ_CHECK(merkle_inclusion_verify(leaves[index], index, n,
	    (const uint8_t(*)[MERKLE_HASH_LEN])path, k, root_n) == 0);
	if (k > 0) {
		bit %= k * MERKLE_HASH_LEN * 8;
		path[bit / 256][bit / 8 % 32] ^= (uint8_t)(1u << (bit % 8));
		FUZZ_CHECK(merkle_inclusion_verify(leaves[index], index, n,
		    (const uint8_t(*)[MERKLE_HASH_LEN])path, k, root_n) == VT_ERR_VERIFY);
	}

	FUZZ_CHECK(merkle_consistency_proof((const uint8_t(*)[MERKLE_HASH_LEN])leaves, n, m, path,
	    &k) == 0);
	FUZZ_CHECK(merkle_consistency_verify(m, n, root_m, root_n,
	    (const uint8_t(*)[MERKLE_HASH_LEN])path, k) == 0);
	if (k > 0) {
		bit %= k * MERKLE_HASH_LEN * 8;
		path[bit / 256][bit / 8 % 32] ^= (uint8_t)(1u << (bit % 8));
		FUZZ_CHECK(merkle_consistency_verify(m, n, root_m, root_n,
		    (const uint8_t(*)[MERKLE_HASH_LEN])path, k) == VT_ERR_VERIFY);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	/* An exact-size copy, so ASan flags any read past the input. */
	copy = xmalloc(size == 0 ? 1 : size);
	if (size > 0)
		memcpy(copy, data, size);
	as_frontier(copy, size);
	as_raw_proofs(copy, size);
	as_recipe(copy, size);
	free(copy);
	return 0;
}
