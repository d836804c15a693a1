/*
 * RFC 6962 / RFC 9162 Merkle tree hashing, the compact frontier and its encoding, and inclusion
 * and consistency proofs. Everything is iterative: subtree roots come from a frontier fold over
 * the leaf range (O(log n) memory whatever the size), and the recursive PATH / SUBPROOF
 * definitions are walked top-down, collecting the siblings and reversing them at the end, because
 * each recursion step descends into exactly one child. Verification follows RFC 9162 §2.1.3.2 and
 * §2.1.4.2 step by step, with constant-time final comparisons.
 */
#include "audit/merkle.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/hash.h"

_Static_assert(MERKLE_HASH_LEN == HASH_SHA256_LEN, "Merkle hashes are SHA-256");
_Static_assert(MERKLE_MAX_SIZE <= SIZE_MAX, "leaf indexes must fit size_t");

/* Entries up to this many bytes are hashed from a stack copy; larger ones from the heap. */
#define LEAF_STACK_MAX 1024

static int
popcount64(uint64_t v)
{
	return __builtin_popcountll(v);
}

/* RFC 6962 split point: the largest power of two strictly smaller than n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	VT_ASSERT(n >= 2);
	return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

static int
is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

void
merkle_empty_root(uint8_t out[static MERKLE_HASH_LEN])
{
	hash_sha256("", 0, out);
}

int
merkle_leaf_hash(const void *data, size_t len, uint8_t out[static MERKLE_HASH_LEN])
{
	uint8_t stackbuf[1 + LEAF_STACK_MAX];
	uint8_t *buf = stackbuf;

	memset(out, 0, MERKLE_HASH_LEN);
	if (len > MERKLE_MAX_LEAF)
		return VT_ERR_TOO_LARGE;
	if (len > LEAF_STACK_MAX && (buf = malloc(1 + len)) == NULL)
		return VT_ERR_NOMEM;
	buf[0] = 0x00;
	if (len > 0)
		memcpy(buf + 1, data, len);
	hash_sha256(buf, 1 + len, out);
	if (buf != stackbuf)
		free(buf);
	return 0;
}

void
merkle_node_hash(const uint8_t l[static MERKLE_HASH_LEN], const uint8_t r[static MERKLE_HASH_LEN],
    uint8_t out[static MERKLE_HASH_LEN])
{
	uint8_t buf[1 + 2 * MERKLE_HASH_LEN];

	/* Copy both children first, so out may alias either of them. */
	buf[0] = 0x01;
	memcpy(buf + 1, l, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, r, MERKLE_HASH_LEN);
	hash_sha256(buf, sizeof(buf), out);
}

/*
 * Frontier core without the size check. Appending leaf number `size` merges it with one stored
 * subtree per trailing 1 bit of size (the subtrees that become complete), then pushes the merged
 * root: the stack stays one hash per set bit of the new size.
 */
static void
frontier_push(struct merkle_frontier *f, const uint8_t leaf_hash[static MERKLE_HASH_LEN])
{
	uint8_t h[MERKLE_HASH_LEN];
	int top = popcount64(f->size);
	uint64_t s;

	memcpy(h, leaf_hash, MERKLE_HASH_LEN);
	for (s = f->size; (s & 1) != 0; s >>= 1)
		merkle_node_hash(f->hash[--top], h, h);
	VT_ASSERT(top >= 0 && top < MERKLE_FRONTIER_MAX);
	memcpy(f->hash[top], h, MERKLE_HASH_LEN);
	f->size++;
}

void
merkle_frontier_init(struct merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

int
merkle_frontier_append(struct merkle_frontier *f, const uint8_t leaf_hash[static MERKLE_HASH_LEN])
{
	if (f->size >= MERKLE_MAX_SIZE)
		return VT_ERR_RANGE;
	frontier_push(f, leaf_hash);
	return 0;
}

void
merkle_frontier_root(const struct merkle_frontier *f, uint8_t out[static MERKLE_HASH_LEN])
{
	uint8_t h[MERKLE_HASH_LEN];
	int i = popcount64(f->size);

	if (i == 0) {
		merkle_empty_root(out);
		return;
	}
	/* MTH splits off the largest perfect subtree first, so fold from the right edge inwards. */
	memcpy(h, f->hash[--i], MERKLE_HASH_LEN);
	while (i > 0) {
		i--;
		merkle_node_hash(f->hash[i], h, h);
	}
	memcpy(out, h, MERKLE_HASH_LEN);
}

uint64_t
merkle_frontier_size(const struct merkle_frontier *f)
{
	return f->size;
}

int
merkle_frontier_encode(const struct merkle_frontier *f, struct vbuf *out)
{
	uint8_t *p;
	size_t cnt = (size_t)popcount64(f->size);
	int i, r;

	VT_ASSERT(f->size <= MERKLE_MAX_SIZE);
	/* Reserve the whole encoding at once, so a full buffer leaves out unchanged. */
	if ((r = vbuf_reserve(out, 1 + 8 + cnt * MERKLE_HASH_LEN, &p)) != 0)
		return r;
	p[0] = MERKLE_FRONTIER_VERSION;
	for (i = 0; i < 8; i++)
		p[1 + i] = (uint8_t)(f->size >> (56 - 8 * i));
	if (cnt > 0)
		memcpy(p + 9, f->hash, cnt * MERKLE_HASH_LEN);
	return 0;
}

int
merkle_frontier_decode(const uint8_t *data, size_t len, struct merkle_frontier *out)
{
	struct merkle_frontier f;
	struct vbuf *b = vbuf_view(data, len);
	uint8_t version;
	int i, cnt, r = VT_ERR_INVALID;

	merkle_frontier_init(out);
	merkle_frontier_init(&f);
	if (vbuf_get_u8(b, &version) != 0 || version != MERKLE_FRONTIER_VERSION)
		goto out;
	if (vbuf_get_u64(b, &f.size) != 0 || f.size > MERKLE_MAX_SIZE)
		goto out;
	cnt = popcount64(f.size);
	for (i = 0; i < cnt; i++) {
		if (vbuf_get(b, f.hash[i], MERKLE_HASH_LEN) != 0)
			goto out;
	}
	if (vbuf_expect_end(b) != 0)
		goto out;
	*out = f;
	r = 0;
 out:
	vbuf_free(b);
	return r;
}

/* MTH(D[lo:hi]): the root of leaves[lo .. hi) taken as a tree of its own. */
static void
range_root(const uint8_t leaves[][MERKLE_HASH_LEN], uint64_t lo, uint64_t hi,
    uint8_t out[static MERKLE_HASH_LEN])
{
	struct merkle_frontier f;
	uint64_t i;

	merkle_frontier_init(&f);
	for (i = lo; i < hi; i++)
		frontier_push(&f, leaves[i]);
	merkle_frontier_root(&f, out);
}

void
merkle_root(const uint8_t leaves[][MERKLE_HASH_LEN], uint64_t n, uint8_t out[static MERKLE_HASH_LEN])
{
	VT_ASSERT(n <= MERKLE_MAX_SIZE);
	range_root(leaves, 0, n, out);
}

static void
reverse_path(uint8_t path[][MERKLE_HASH_LEN], size_t n)
{
	uint8_t t[MERKLE_HASH_LEN];
	size_t i;

	for (i = 0; i < n / 2; i++) {
		memcpy(t, path[i], MERKLE_HASH_LEN);
		memcpy(path[i], path[n - 1 - i], MERKLE_HASH_LEN);
		memcpy(path[n - 1 - i], t, MERKLE_HASH_LEN);
	}
}

int
merkle_inclusion_proof(const uint8_t leaves[][MERKLE_HASH_LEN], uint64_t size, uint64_t index,
    uint8_t path[static MERKLE_MAX_PROOF][MERKLE_HASH_LEN], size_t *n)
{
	uint64_t lo = 0, len = size, i = index, k;
	size_t cnt = 0;

	*n = 0;
	if (size == 0 || size > MERKLE_MAX_SIZE || index >= size)
		return VT_ERR_INVALID;
	/*
	 * PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])        for m < k
	 *              = PATH(m - k, D[k:n]) : MTH(D[0:k])     otherwise
	 * Walk down collecting the siblings (root level first), then reverse to leaf level first.
	 */
	while (len > 1) {
		VT_ASSERT(cnt < MERKLE_MAX_PROOF);
		k = split_point(len);
		if (i < k) {
			range_root(leaves, lo + k, lo + len, path[cnt++]);
			len = k;
		} else {
			range_root(leaves, lo, lo + k, path[cnt++]);
			lo += k;
			i -= k;
			len -= k;
		}
	}
	reverse_path(path, cnt);
	*n = cnt;
	return 0;
}

int
merkle_consistency_proof(const uint8_t leaves[][MERKLE_HASH_LEN], uint64_t n, uint64_t m,
    uint8_t path[static MERKLE_MAX_PROOF][MERKLE_HASH_LEN], size_t *k)
{
	uint64_t lo = 0, cn = n, cm = m, split;
	size_t cnt = 0;
	int complete = 1; /* SUBPROOF's b: D[0:m] is still the whole left part of the original tree */

	*k = 0;
	if (m == 0 || m > n || n > MERKLE_MAX_SIZE)
		return VT_ERR_INVALID;
	/*
	 * SUBPROOF(m, D[m], b)  = {} if b, else {MTH(D[m])}
	 * SUBPROOF(m, D[n], b)  = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])          for m <= k
	 *                       = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])  otherwise
	 * The terminal hash is collected last and so comes first after the reversal.
	 */
	while (cm != cn) {
		VT_ASSERT(cnt < MERKLE_MAX_PROOF);
		split = split_point(cn);
		if (cm <= split) {
			range_root(leaves, lo + split, lo + cn, path[cnt++]);
			cn = split;
		} else {
			range_root(leaves, lo, lo + split, path[cnt++]);
			lo += split;
			cm -= split;
			cn -= split;
			complete = 0;
		}
	}
	if (!complete) {
		VT_ASSERT(cnt < MERKLE_MAX_PROOF);
		range_root(leaves, lo, lo + cm, path[cnt++]);
	}
	reverse_path(path, cnt);
	*k = cnt;
	return 0;
}

/* Right-shifts fn and sn together until LSB(fn) is set or fn is 0 (RFC 9162 wording). */
static void
shift_until_odd(uint64_t *fn, uint64_t *sn)
{
	while ((*fn & 1) == 0 && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

int
merkle_inclusion_verify(const uint8_t leaf_hash[static MERKLE_HASH_LEN], uint64_t index,
    uint64_t size, const uint8_t path[][MERKLE_HASH_LEN], size_t n,
    const uint8_t root[static MERKLE_HASH_LEN])
{
	uint8_t r[MERKLE_HASH_LEN];
	uint64_t fn, sn;
	size_t i;
	int ok;

	if (size == 0 || size > MERKLE_MAX_SIZE || index >= size || n > MERKLE_MAX_PROOF ||
	    (n > 0 && path == NULL))
		return VT_ERR_INVALID;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf_hash, MERKLE_HASH_LEN);
	for (i = 0; i < n; i++) {
		if (sn == 0)
			return VT_ERR_VERIFY; /* more hashes than the tree is deep */
		if ((fn & 1) != 0 || fn == sn) {
			merkle_node_hash(path[i], r, r);
			shift_until_odd(&fn, &sn);
		} else {
			merkle_node_hash(r, path[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	ok = vt_ct_eq(r, root, MERKLE_HASH_LEN);
	return ok && sn == 0 ? 0 : VT_ERR_VERIFY;
}

int
merkle_consistency_verify(uint64_t m, uint64_t n, const uint8_t root_m[static MERKLE_HASH_LEN],
    const uint8_t root_n[static MERKLE_HASH_LEN], const uint8_t path[][MERKLE_HASH_LEN], size_t k)
{
	uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	uint64_t fn, sn;
	size_t i;
	int ok;

	if (m == 0 || m > n || n > MERKLE_MAX_SIZE || k > MERKLE_MAX_PROOF ||
	    (k > 0 && path == NULL))
		return VT_ERR_INVALID;
	if (m == n) {
		ok = vt_ct_eq(root_m, root_n, MERKLE_HASH_LEN);
		return ok && k == 0 ? 0 : VT_ERR_VERIFY;
	}
	if (k == 0)
		return VT_ERR_VERIFY;
	/*
	 * Step 2: for m a power of two the old tree is a subtree of the new one and its root is the
	 * implicit first element; otherwise the first element is the starting subtree root.
	 */
	i = 0;
	if (is_pow2(m)) {
		memcpy(fr, root_m, MERKLE_HASH_LEN);
	} else {
		memcpy(fr, path[0], MERKLE_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, MERKLE_HASH_LEN);
	fn = m - 1;
	sn = n - 1;
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < k; i++) {
		if (sn == 0)
			return VT_ERR_VERIFY; /* trailing hashes */
		if ((fn & 1) != 0 || fn == sn) {
			merkle_node_hash(path[i], fr, fr);
			merkle_node_hash(path[i], sr, sr);
			shift_until_odd(&fn, &sn);
		} else {
			merkle_node_hash(sr, path[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* Both comparisons always run: the result never says which root failed. */
	ok = vt_ct_eq(fr, root_m, MERKLE_HASH_LEN);
	ok &= vt_ct_eq(sr, root_n, MERKLE_HASH_LEN);
	return ok && sn == 0 ? 0 : VT_ERR_VERIFY;
}
