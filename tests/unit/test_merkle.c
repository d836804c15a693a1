/*
 * Unit tests for audit/merkle. The reference is a naive recursive implementation written exactly
 * as RFC 6962 §2.1 defines MTH, PATH and PROOF/SUBPROOF, hashing with libsodium's SHA-256 (an
 * implementation independent of the OpenSSL one under test). Against it: every root for sizes
 * 0..64, every inclusion proof for every index and every consistency proof for every 1 <= m <= n
 * up to 64, all verified, and each corrupted every way we could think of (every byte of every
 * hash, wrong index/size/m/n, wrong leaf, swapped roots, truncated, extended, prepended). Then the
 * published Certificate Transparency vectors (transparency-dev/merkle testonly/constants.go and
 * proof/verify_test.go, the same values as google/certificate-transparency and trillian): the
 * roots for sizes 0..8 of the eight-leaf tree, every complete-subtree hash, the compact-range
 * hashes for sizes 0..8, four inclusion and five consistency proofs. Finally the frontier: its byte
 * layout, round trips at random sizes up to 5000 checked against the reference root, strict
 * decoding, the size ceiling, and a randomized loop over proofs of larger trees.
 */
#include "audit/merkle.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/secmem.h"
#include "base/vbuf.h"
#include "crypto/hash.h"

#define H MERKLE_HASH_LEN
#define EXHAUSTIVE_MAX 64
#define FRONTIER_LEAVES 5000
#define PATH_ROOM (MERKLE_MAX_PROOF + 2) /* proofs plus room to extend them */

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

/* Uniform enough in [0, bound) for test purposes. */
static uint64_t
rng_below(uint64_t bound)
{
	return rng_next() % bound;
}

static void
rng_fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next();
}

/* ---------------------------------------------------------------------------------------------
 * The naive reference, RFC 6962 §2.1 word for word, with libsodium's SHA-256.
 */
static void
ref_sha256_2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, const uint8_t *c,
    size_t clen, uint8_t out[H])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, a, alen);
	if (blen > 0)
		crypto_hash_sha256_update(&st, b, blen);
	if (clen > 0)
		crypto_hash_sha256_update(&st, c, clen);
	crypto_hash_sha256_final(&st, out);
}

static void
ref_leaf(const uint8_t *d, size_t len, uint8_t out[H])
{
	static const uint8_t zero = 0x00;

	ref_sha256_2(&zero, 1, d, len, NULL, 0, out);
}

static void
ref_node(const uint8_t l[H], const uint8_t r[H], uint8_t out[H])
{
	static const uint8_t one = 0x01;

	ref_sha256_2(&one, 1, l, H, r, H, out);
}

/* k: the largest power of two smaller than n (n > 1), found the slow way. */
static uint64_t
ref_split(uint64_t n)
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* MTH(D[n]) over leaf hashes. */
static void
ref_mth(const uint8_t (*d)[H], uint64_t n, uint8_t out[H])
{
	uint8_t l[H], r[H];
	uint64_t k;

	if (n == 0) {
		crypto_hash_sha256(out, (const uint8_t *)"", 0);
		return;
	}
	if (n == 1) {
		memcpy(out, d[0], H);
		return;
	}
	k = ref_split(n);
	ref_mth(d, k, l);
	ref_mth(d + k, n - k, r);
	ref_node(l, r, out);
}

static void
ref_append(uint8_t (*out)[H], size_t *cnt, const uint8_t h[H])
{
	assert_true(*cnt < PATH_ROOM);
	memcpy(out[(*cnt)++], h, H);
}

/* PATH(m, D[n]). */
static void
ref_path(uint64_t m, const uint8_t (*d)[H], uint64_t n, uint8_t (*out)[H], size_t *cnt)
{
	uint8_t h[H];
	uint64_t k;

	if (n == 1)
		return;
	k = ref_split(n);
	if (m < k) {
		ref_path(m, d, k, out, cnt);
		ref_mth(d + k, n - k, h);
	} else {
		ref_path(m - k, d + k, n - k, out, cnt);
		ref_mth(d, k, h);
	}
	ref_append(out, cnt, h);
}

/* SUBPROOF(m, D[n], b). */
static void
ref_subproof(uint64_t m, const uint8_t (*d)[H], uint64_t n, int b, uint8_t (*out)[H],
    size_t *cnt)
{
	uint8_t h[H];
	uint64_t k;

	if (m == n) {
		if (!b) {
			ref_mth(d, m, h);
			ref_append(out, cnt, h);
		}
		return;
	}
	k = ref_split(n);
	if (m <= k) {
		ref_subproof(m, d, k, b, out, cnt);
		ref_mth(d + k, n - k, h);
	} else {
		ref_subproof(m - k, d + k, n - k, 0, out, cnt);
		ref_mth(d, k, h);
	}
	ref_append(out, cnt, h);
}

/* PROOF(m, D[n]). */
static void
ref_proof(uint64_t m, const uint8_t (*d)[H], uint64_t n, uint8_t (*out)[H], size_t *cnt)
{
	*cnt = 0;
	ref_subproof(m, d, n, 1, out, cnt);
}

/* ---------------------------------------------------------------------------------------------
 * Fixtures.
 */
static uint8_t leaves[FRONTIER_LEAVES][H]; /* leaf hashes of distinct entries */
static uint8_t roots[EXHAUSTIVE_MAX + 2][H]; /* reference roots of leaves[0 .. s) */

static void
hexh(const char *hex, uint8_t out[H])
{
	assert_int_equal(hex_decode(hex, strlen(hex), out, H), 0);
}

static int
group_setup(void **state)
{
	uint8_t entry[3];
	size_t i;

	if (secmem_init() != 0)
		return -1;
	random_bytes(&rng_state, sizeof(rng_state));
	print_message("test_merkle: PRNG seed 0x%016llx\n", (unsigned long long)rng_state);
	for (i = 0; i < FRONTIER_LEAVES; i++) {
		entry[0] = (uint8_t)(i >> 8);
		entry[1] = (uint8_t)i;
		entry[2] = 'x';
		ref_leaf(entry, sizeof(entry), leaves[i]);
	}
	for (i = 0; i < VT_NELEM(roots); i++)
		ref_mth((const uint8_t(*)[H])leaves, i, roots[i]);
	return 0;
}

/* The published eight-leaf tree. */
static const char *const CT_ENTRIES[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

/* Published roots for sizes 0..8. */
static const char *const CT_ROOTS[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* Published hashes of every complete subtree: NODE[level][j] = MTH(D[j*2^level : (j+1)*2^level]). */
static const char *const CT_NODES[4][8] = {
	{
	    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
	    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
	    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
	},
	{
	    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	},
	{
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	},
	{
	    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	},
};

/* Published compact ranges (frontier hashes) for sizes 0..8, as (level, index) into CT_NODES. */
static const struct {
	int n;
	int at[3][2];
} CT_COMPACT[9] = {
	{ 0, { { 0 } } },
	{ 1, { { 0, 0 } } },
	{ 1, { { 1, 0 } } },
	{ 2, { { 1, 0 }, { 0, 2 } } },
	{ 1, { { 2, 0 } } },
	{ 2, { { 2, 0 }, { 0, 4 } } },
	{ 2, { { 2, 0 }, { 1, 2 } } },
	{ 3, { { 2, 0 }, { 1, 2 }, { 0, 6 } } },
	{ 1, { { 3, 0 } } },
};

struct ct_proof {
	uint64_t a, b; /* inclusion: index (0-based), size; consistency: m, n */
	int n;
	const char *h[3];
};

/* transparency-dev lists leaves 1-based: its {1,8},{6,8},{3,3},{2,5} are indexes 0,5,2,1 here. */
static const struct ct_proof CT_INCLUSION[] = {
	{ 0, 8, 3,
	    { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 5, 8, 3,
	    { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 3, 1, { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
	{ 1, 5, 3,
	    { "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
	{ 0, 1, 0, { NULL } },
};

static const struct ct_proof CT_CONSISTENCY[] = {
	{ 1, 1, 0, { NULL } },
	{ 1, 8, 3,
	    { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 6, 8, 3,
	    { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 5, 2,
	    { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
	{ 6, 7, 3,
	    { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
};

static uint8_t ct_leaves[8][H];
static uint8_t ct_roots[9][H];

static void
ct_setup(void)
{
	uint8_t entry[16];
	size_t i, len;

	for (i = 0; i < 8; i++) {
		len = strlen(CT_ENTRIES[i]) / 2;
		assert_int_equal(hex_decode(CT_ENTRIES[i], 2 * len, entry, len), 0);
		assert_int_equal(merkle_leaf_hash(entry, len, ct_leaves[i]), 0);
	}
	for (i = 0; i < 9; i++)
		hexh(CT_ROOTS[i], ct_roots[i]);
}

/* ---------------------------------------------------------------------------------------------
 * Hashing.
 */
static void
test_hash_basics(void **state)
{
	uint8_t want[H], got[H], l[H], r[H];
	uint8_t big[3000];

	hexh("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want);
	merkle_empty_root(got);
	assert_memory_equal(got, want, H);
	merkle_root(NULL, 0, got);
	assert_memory_equal(got, want, H);

	/* Leaf of the empty entry = SHA-256(0x00) = the published size-1 root. */
	hexh("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", want);
	assert_int_equal(merkle_leaf_hash(NULL, 0, got), 0);
	assert_memory_equal(got, want, H);
	assert_int_equal(merkle_leaf_hash("", 0, got), 0);
	assert_memory_equal(got, want, H);

	/* Node = SHA-256(0x01 ‖ l ‖ r): leaves "" and 00 give the published size-2 root. */
	assert_int_equal(merkle_leaf_hash("", 0, l), 0);
	assert_int_equal(merkle_leaf_hash("\x00", 1, r), 0);
	hexh("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", want);
	assert_memory_equal(r, want, H);
	merkle_node_hash(l, r, got);
	hexh("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125", want);
	assert_memory_equal(got, want, H);
	/* Order matters, and out may alias either input. */
	merkle_node_hash(r, l, got);
	assert_memory_not_equal(got, want, H);
	memcpy(got, l, H);
	merkle_node_hash(got, r, got);
	assert_memory_equal(got, want, H);
	memcpy(got, r, H);
	merkle_node_hash(l, got, got);
	assert_memory_equal(got, want, H);
	merkle_node_hash(l, l, got);
	ref_node(l, l, want);
	assert_memory_equal(got, want, H);

	/* Both copy paths (stack and heap) against the streaming reference, around the switch. */
	rng_fill(big, sizeof(big));
	for (size_t len = 0; len <= sizeof(big); len += (len < 1100 ? 1 : 97)) {
		ref_leaf(big, len, want);
		assert_int_equal(merkle_leaf_hash(big, len, got), 0);
		assert_memory_equal(got, want, H);
	}
}

static void
test_leaf_hash_limit(void **state)
{
	uint8_t *big = xcalloc(1, (size_t)MERKLE_MAX_LEAF + 1);
	uint8_t got[H], want[H], zero[H] = { 0 };

	big[MERKLE_MAX_LEAF - 1] = 0x5a;
	assert_int_equal(merkle_leaf_hash(big, MERKLE_MAX_LEAF, got), 0);
	ref_leaf(big, MERKLE_MAX_LEAF, want);
	assert_memory_equal(got, want, H);
	/* One byte over: refused, and out is cleared rather than left holding the last hash. */
	assert_int_equal(merkle_leaf_hash(big, (size_t)MERKLE_MAX_LEAF + 1, got), VT_ERR_TOO_LARGE);
	assert_memory_equal(got, zero, H);
	assert_int_equal(merkle_leaf_hash(big, SIZE_MAX, got), VT_ERR_TOO_LARGE);
	free(big);
}

/* ---------------------------------------------------------------------------------------------
 * Published vectors.
 */
static void
test_ct_roots(void **state)
{
	struct merkle_frontier f;
	uint8_t got[H];
	uint64_t n;

	ct_setup();
	merkle_frontier_init(&f);
	for (n = 0; n <= 8; n++) {
		merkle_root((const uint8_t(*)[H])ct_leaves, n, got);
		assert_memory_equal(got, ct_roots[n], H);
		ref_mth((const uint8_t(*)[H])ct_leaves, n, got);
		assert_memory_equal(got, ct_roots[n], H);
		merkle_frontier_root(&f, got);
		assert_memory_equal(got, ct_roots[n], H);
		if (n < 8)
			assert_int_equal(merkle_frontier_append(&f, ct_leaves[n]), 0);
	}
}

static void
test_ct_nodes_and_compact(void **state)
{
	struct merkle_frontier f;
	uint8_t want[H], got[H];
	int level, j, n, i;

	ct_setup();
	for (level = 0; level < 4; level++) {
		for (j = 0; j < (8 >> level); j++) {
			hexh(CT_NODES[level][j], want);
			merkle_root((const uint8_t(*)[H])ct_leaves + (j << level),
			    (uint64_t)1 << level, got);
			assert_memory_equal(got, want, H);
		}
	}
	/* The frontier holds exactly the published compact range after each append. */
	merkle_frontier_init(&f);
	for (n = 0; n <= 8; n++) {
		assert_int_equal(merkle_frontier_size(&f), n);
		assert_int_equal(__builtin_popcount((unsigned)n), CT_COMPACT[n].n);
		for (i = 0; i < CT_COMPACT[n].n; i++) {
			hexh(CT_NODES[CT_COMPACT[n].at[i][0]][CT_COMPACT[n].at[i][1]], want);
			assert_memory_equal(f.hash[i], want, H);
		}
		if (n < 8)
			assert_int_equal(merkle_frontier_append(&f, ct_leaves[n]), 0);
	}
}

static void
test_ct_inclusion(void **state)
{
	uint8_t want[MERKLE_MAX_PROOF][H], path[MERKLE_MAX_PROOF][H];
	size_t i, n;
	int j;

	ct_setup();
	for (i = 0; i < VT_NELEM(CT_INCLUSION); i++) {
		const struct ct_proof *v = &CT_INCLUSION[i];

		for (j = 0; j < v->n; j++)
			hexh(v->h[j], want[j]);
		assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])ct_leaves, v->b, v->a,
		    path, &n), 0);
		assert_int_equal(n, v->n);
		if (n > 0)
			assert_memory_equal(path, want, n * H);
		assert_int_equal(merkle_inclusion_verify(ct_leaves[v->a], v->a, v->b,
		    (const uint8_t(*)[H])want, (size_t)v->n, ct_roots[v->b]), 0);
		/* Against the root of another size it fails. */
		assert_int_equal(merkle_inclusion_verify(ct_leaves[v->a], v->a, v->b,
		    (const uint8_t(*)[H])want, (size_t)v->n, ct_roots[v->b - 1]), VT_ERR_VERIFY);
	}
}

static void
test_ct_consistency(void **state)
{
	uint8_t want[MERKLE_MAX_PROOF][H], path[MERKLE_MAX_PROOF][H];
	size_t i, k;
	int j;

	ct_setup();
	for (i = 0; i < VT_NELEM(CT_CONSISTENCY); i++) {
		const struct ct_proof *v = &CT_CONSISTENCY[i];

		for (j = 0; j < v->n; j++)
			hexh(v->h[j], want[j]);
		assert_int_equal(merkle_consistency_proof((const uint8_t(*)[H])ct_leaves, v->b,
		    v->a, path, &k), 0);
		assert_int_equal(k, v->n);
		if (k > 0)
			assert_memory_equal(path, want, k * H);
		assert_int_equal(merkle_consistency_verify(v->a, v->b, ct_roots[v->a],
		    ct_roots[v->b], (const uint8_t(*)[H])want, (size_t)v->n), 0);
		if (v->a != v->b)
			assert_int_equal(merkle_consistency_verify(v->a, v->b, ct_roots[v->b],
			    ct_roots[v->a], (const uint8_t(*)[H])want, (size_t)v->n),
			    VT_ERR_VERIFY);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Exhaustive comparison with the reference, sizes 1..64.
 */
static void
test_exhaustive_roots(void **state)
{
	struct merkle_frontier f;
	uint8_t got[H];
	uint64_t n;

	merkle_frontier_init(&f);
	for (n = 0; n <= EXHAUSTIVE_MAX; n++) {
		merkle_root((const uint8_t(*)[H])leaves, n, got);
		assert_memory_equal(got, roots[n], H);
		merkle_frontier_root(&f, got);
		assert_memory_equal(got, roots[n], H);
		assert_int_equal(merkle_frontier_append(&f, leaves[n]), 0);
	}
	/* Distinct sizes, distinct roots (the negative tests below rely on it). */
	for (n = 1; n <= EXHAUSTIVE_MAX; n++)
		assert_memory_not_equal(roots[n], roots[n - 1], H);
}

static int
incl(uint64_t index, uint64_t size, const uint8_t (*path)[H], size_t n, const uint8_t root[H])
{
	return merkle_inclusion_verify(leaves[index], index, size, path, n, root);
}

/* Every way to corrupt the inclusion proof path[0..n) of (index, size) must be refused. */
static void
inclusion_negatives(uint64_t index, uint64_t size, uint8_t (*path)[H], size_t n)
{
	const uint8_t(*cp)[H] = (const uint8_t(*)[H])path;
	uint8_t other[PATH_ROOM][H], empty[H];
	uint64_t j;
	size_t i, b;

	/* Flip each byte of each hash. */
	for (i = 0; i < n; i++) {
		for (b = 0; b < H; b++) {
			path[i][b] ^= 0x01;
			assert_int_equal(incl(index, size, cp, n, roots[size]), VT_ERR_VERIFY);
			path[i][b] ^= 0x01;
		}
	}
	/* Wrong index: any other leaf position in the tree fails, past the end is malformed. */
	for (j = 0; j < size; j++) {
		if (j != index)
			assert_int_equal(merkle_inclusion_verify(leaves[index], j, size, cp, n,
			    roots[size]), VT_ERR_VERIFY);
	}
	for (j = size; j < size + 3; j++)
		assert_int_equal(merkle_inclusion_verify(leaves[index], j, size, cp, n, roots[size]),
		    VT_ERR_INVALID);
	/* Wrong leaf. */
	assert_int_equal(merkle_inclusion_verify(leaves[index + 1], index, size, cp, n,
	    roots[size]), VT_ERR_VERIFY);
	/* Wrong size, checked against that size's own root. */
	for (j = index + 1; j <= EXHAUSTIVE_MAX + 1; j++) {
		if (j != size)
			assert_int_equal(incl(index, j, cp, n, roots[j]), VT_ERR_VERIFY);
	}
	assert_int_equal(incl(index, 0, cp, n, roots[0]), VT_ERR_INVALID);
	/* Wrong root: another size's, the empty root, the leaf itself (for size > 1). */
	assert_int_equal(incl(index, size, cp, n, roots[size - 1]), VT_ERR_VERIFY);
	assert_int_equal(incl(index, size, cp, n, roots[size + 1]), VT_ERR_VERIFY);
	merkle_empty_root(empty);
	assert_int_equal(incl(index, size, cp, n, empty), VT_ERR_VERIFY);
	if (size > 1)
		assert_int_equal(incl(index, size, cp, n, leaves[index]), VT_ERR_VERIFY);
	/* Truncated: without the last or the first hash. */
	if (n > 0) {
		assert_int_equal(incl(index, size, cp, n - 1, roots[size]), VT_ERR_VERIFY);
		assert_int_equal(incl(index, size, cp + 1, n - 1, roots[size]), VT_ERR_VERIFY);
	}
	/* Extended: a trailing root, a trailing zero hash, a leading root, a duplicated hash. */
	memcpy(other, path, n * H);
	memcpy(other[n], roots[size], H);
	assert_int_equal(incl(index, size, (const uint8_t(*)[H])other, n + 1, roots[size]),
	    VT_ERR_VERIFY);
	memset(other[n], 0, H);
	assert_int_equal(incl(index, size, (const uint8_t(*)[H])other, n + 1, roots[size]),
	    VT_ERR_VERIFY);
	memcpy(other[0], roots[size], H);
	memcpy(other + 1, path, n * H);
	assert_int_equal(incl(index, size, (const uint8_t(*)[H])other, n + 1, roots[size]),
	    VT_ERR_VERIFY);
	if (n > 0) {
		memcpy(other[0], path[0], H);
		assert_int_equal(incl(index, size, (const uint8_t(*)[H])other, n + 1, roots[size]),
		    VT_ERR_VERIFY);
	}
}

static void
test_exhaustive_inclusion(void **state)
{
	uint8_t path[PATH_ROOM][H], want[PATH_ROOM][H];
	uint64_t size, index;
	size_t n, wn;

	for (size = 1; size <= EXHAUSTIVE_MAX; size++) {
		for (index = 0; index < size; index++) {
			memset(path, 0xee, sizeof(path));
			assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])leaves, size,
			    index, path, &n), 0);
			wn = 0;
			ref_path(index, (const uint8_t(*)[H])leaves, size, want, &wn);
			assert_int_equal(n, wn);
			if (n > 0)
				assert_memory_equal(path, want, n * H);
			assert_int_equal(incl(index, size, (const uint8_t(*)[H])path, n,
			    roots[size]), 0);
			inclusion_negatives(index, size, path, n);
			/* The corruptions were undone: it still verifies. */
			assert_int_equal(incl(index, size, (const uint8_t(*)[H])path, n,
			    roots[size]), 0);
		}
	}
}

static int
cons(uint64_t m, uint64_t n, const uint8_t (*path)[H], size_t k)
{
	return merkle_consistency_verify(m, n, roots[m], roots[n], path, k);
}

static void
consistency_negatives(uint64_t m, uint64_t n, uint8_t (*path)[H], size_t k)
{
	const uint8_t(*cp)[H] = (const uint8_t(*)[H])path;
	uint8_t other[PATH_ROOM][H];
	uint64_t j;
	size_t i, b;

	for (i = 0; i < k; i++) {
		for (b = 0; b < H; b++) {
			path[i][b] ^= 0x01;
			assert_int_equal(cons(m, n, cp, k), VT_ERR_VERIFY);
			path[i][b] ^= 0x01;
		}
	}
	/* Wrong m or n, each checked against the roots of the sizes claimed. */
	for (j = 1; j <= n; j++) {
		if (j != m)
			assert_int_equal(cons(j, n, cp, k), VT_ERR_VERIFY);
	}
	for (j = m; j <= EXHAUSTIVE_MAX + 1; j++) {
		if (j != n)
			assert_int_equal(cons(m, j, cp, k), VT_ERR_VERIFY);
	}
	/* m > n and m = 0 are malformed. */
	assert_int_equal(merkle_consistency_verify(n + 1, n, roots[n + 1], roots[n], cp, k),
	    VT_ERR_INVALID);
	assert_int_equal(merkle_consistency_verify(0, n, roots[0], roots[n], cp, k), VT_ERR_INVALID);
	/* Roots swapped, or either one replaced. */
	if (m != n) {
		assert_int_equal(merkle_consistency_verify(m, n, roots[n], roots[m], cp, k),
		    VT_ERR_VERIFY);
		assert_int_equal(merkle_consistency_verify(m, n, roots[m], roots[m], cp, k),
		    VT_ERR_VERIFY);
		assert_int_equal(merkle_consistency_verify(m, n, roots[n], roots[n], cp, k),
		    VT_ERR_VERIFY);
	}
	assert_int_equal(merkle_consistency_verify(m, n, roots[m - 1], roots[n], cp, k),
	    VT_ERR_VERIFY);
	assert_int_equal(merkle_consistency_verify(m, n, roots[m], roots[n + 1], cp, k),
	    VT_ERR_VERIFY);
	/* Truncated at either end, and the empty proof. */
	if (k > 0) {
		assert_int_equal(cons(m, n, cp, k - 1), VT_ERR_VERIFY);
		assert_int_equal(cons(m, n, cp + 1, k - 1), VT_ERR_VERIFY);
		assert_int_equal(cons(m, n, NULL, 0), VT_ERR_VERIFY);
	}
	/* Extended at the end (root_m, root_n, zeros) and at the front (root_m, path[0]). */
	memcpy(other, path, k * H);
	memcpy(other[k], roots[m], H);
	assert_int_equal(cons(m, n, (const uint8_t(*)[H])other, k + 1), VT_ERR_VERIFY);
	memcpy(other[k], roots[n], H);
	assert_int_equal(cons(m, n, (const uint8_t(*)[H])other, k + 1), VT_ERR_VERIFY);
	memset(other[k], 0, H);
	assert_int_equal(cons(m, n, (const uint8_t(*)[H])other, k + 1), VT_ERR_VERIFY);
	memcpy(other[0], roots[m], H);
	memcpy(other + 1, path, k * H);
	assert_int_equal(cons(m, n, (const uint8_t(*)[H])other, k + 1), VT_ERR_VERIFY);
	if (k > 0) {
		memcpy(other[0], path[0], H);
		assert_int_equal(cons(m, n, (const uint8_t(*)[H])other, k + 1), VT_ERR_VERIFY);
	}
}

static void
test_exhaustive_consistency(void **state)
{
	uint8_t path[PATH_ROOM][H], want[PATH_ROOM][H];
	uint64_t m, n;
	size_t k, wk;

	for (n = 1; n <= EXHAUSTIVE_MAX; n++) {
		for (m = 1; m <= n; m++) {
			memset(path, 0xee, sizeof(path));
			assert_int_equal(merkle_consistency_proof((const uint8_t(*)[H])leaves, n, m,
			    path, &k), 0);
			ref_proof(m, (const uint8_t(*)[H])leaves, n, want, &wk);
			assert_int_equal(k, wk);
			if (k > 0)
				assert_memory_equal(path, want, k * H);
			assert_int_equal(k == 0, m == n);
			assert_int_equal(cons(m, n, (const uint8_t(*)[H])path, k), 0);
			consistency_negatives(m, n, path, k);
			assert_int_equal(cons(m, n, (const uint8_t(*)[H])path, k), 0);
		}
	}
}

/* ---------------------------------------------------------------------------------------------
 * Argument checks and the size ceiling.
 */
static void
test_proof_invalid_args(void **state)
{
	uint8_t path[PATH_ROOM][H], big[PATH_ROOM][H];
	uint8_t sentinel[H];
	size_t n = 77;

	memset(sentinel, 0xee, H);
	memset(path, 0xee, sizeof(path));
	assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])leaves, 0, 0, path, &n),
	    VT_ERR_INVALID);
	assert_int_equal(n, 0);
	n = 77;
	assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])leaves, 5, 5, path, &n),
	    VT_ERR_INVALID);
	assert_int_equal(n, 0);
	assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])leaves, MERKLE_MAX_SIZE + 1,
	    0, path, &n), VT_ERR_INVALID);
	assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])leaves, 1, 0, path, &n), 0);
	assert_int_equal(n, 0);
	assert_memory_equal(path[0], sentinel, H); /* nothing written */

	n = 77;
	assert_int_equal(merkle_consistency_proof((const uint8_t(*)[H])leaves, 5, 0, path, &n),
	    VT_ERR_INVALID);
	assert_int_equal(n, 0);
	n = 77;
	assert_int_equal(merkle_consistency_proof((const uint8_t(*)[H])leaves, 5, 6, path, &n),
	    VT_ERR_INVALID);
	assert_int_equal(n, 0);
	assert_int_equal(merkle_consistency_proof((const uint8_t(*)[H])leaves, 0, 0, path, &n),
	    VT_ERR_INVALID);
	assert_int_equal(merkle_consistency_proof((const uint8_t(*)[H])leaves,
	    MERKLE_MAX_SIZE + 1, 1, path, &n), VT_ERR_INVALID);

	/* Verification: malformed arguments are VT_ERR_INVALID whatever the hashes. */
	assert_int_equal(merkle_inclusion_verify(leaves[0], 0, 0, NULL, 0, roots[0]),
	    VT_ERR_INVALID);
	assert_int_equal(merkle_inclusion_verify(leaves[0], 1, 1, NULL, 0, leaves[0]),
	    VT_ERR_INVALID);
	assert_int_equal(merkle_inclusion_verify(leaves[0], UINT64_MAX, UINT64_MAX, NULL, 0,
	    leaves[0]), VT_ERR_INVALID);
	assert_int_equal(merkle_inclusion_verify(leaves[0], 0, MERKLE_MAX_SIZE + 1, NULL, 0,
	    leaves[0]), VT_ERR_INVALID);
	assert_int_equal(merkle_inclusion_verify(leaves[0], 0, 2, NULL, 1, roots[2]),
	    VT_ERR_INVALID);
	assert_int_equal(merkle_inclusion_verify(leaves[0], 0, 2, (const uint8_t(*)[H])big,
	    MERKLE_MAX_PROOF + 1, roots[2]), VT_ERR_INVALID);
	/* A one-leaf tree: the empty proof, root = leaf. */
	assert_int_equal(merkle_inclusion_verify(leaves[0], 0, 1, NULL, 0, leaves[0]), 0);
	assert_int_equal(merkle_inclusion_verify(leaves[0], 0, 1, NULL, 0, leaves[1]),
	    VT_ERR_VERIFY);

	assert_int_equal(merkle_consistency_verify(0, 0, roots[0], roots[0], NULL, 0),
	    VT_ERR_INVALID);
	assert_int_equal(merkle_consistency_verify(0, 1, roots[0], roots[1], NULL, 0),
	    VT_ERR_INVALID);
	assert_int_equal(merkle_consistency_verify(2, 1, roots[2], roots[1], NULL, 0),
	    VT_ERR_INVALID);
	assert_int_equal(merkle_consistency_verify(1, MERKLE_MAX_SIZE + 1, roots[1], roots[1],
	    NULL, 0), VT_ERR_INVALID);
	assert_int_equal(merkle_consistency_verify(1, 2, roots[1], roots[2], NULL, 1),
	    VT_ERR_INVALID);
	assert_int_equal(merkle_consistency_verify(1, 2, roots[1], roots[2],
	    (const uint8_t(*)[H])big, MERKLE_MAX_PROOF + 1), VT_ERR_INVALID);
	/* m = n: the empty proof and equal roots, nothing else. */
	assert_int_equal(merkle_consistency_verify(3, 3, roots[3], roots[3], NULL, 0), 0);
	assert_int_equal(merkle_consistency_verify(3, 3, roots[3], roots[2], NULL, 0),
	    VT_ERR_VERIFY);
	memcpy(big[0], roots[3], H);
	assert_int_equal(merkle_consistency_verify(3, 3, roots[3], roots[3],
	    (const uint8_t(*)[H])big, 1), VT_ERR_VERIFY);
	/* m < n with an empty proof. */
	assert_int_equal(merkle_consistency_verify(2, 4, roots[2], roots[4], NULL, 0),
	    VT_ERR_VERIFY);
}

/* Proofs at the far end of the size range: arithmetic near 2^63 neither crashes nor verifies. */
static void
test_huge_sizes(void **state)
{
	uint8_t path[PATH_ROOM][H];
	uint64_t sizes[] = { MERKLE_MAX_SIZE, MERKLE_MAX_SIZE - 1, (uint64_t)1 << 62,
		((uint64_t)1 << 62) + 1 };
	size_t i, n;

	rng_fill((uint8_t *)path, sizeof(path));
	for (i = 0; i < VT_NELEM(sizes); i++) {
		for (n = 0; n <= MERKLE_MAX_PROOF; n++) {
			assert_int_equal(merkle_inclusion_verify(leaves[0], sizes[i] - 1, sizes[i],
			    (const uint8_t(*)[H])path, n, roots[1]), VT_ERR_VERIFY);
			assert_int_equal(merkle_inclusion_verify(leaves[0], sizes[i] / 3, sizes[i],
			    (const uint8_t(*)[H])path, n, roots[1]), VT_ERR_VERIFY);
			assert_int_equal(merkle_consistency_verify(sizes[i] - 1, sizes[i], roots[1],
			    roots[2], (const uint8_t(*)[H])path, n), VT_ERR_VERIFY);
			assert_int_equal(merkle_consistency_verify(1, sizes[i], roots[1], roots[2],
			    (const uint8_t(*)[H])path, n), VT_ERR_VERIFY);
		}
	}
}

/* ---------------------------------------------------------------------------------------------
 * The frontier: layout, round trips, strict decoding, the ceiling.
 */
static void
encode(const struct merkle_frontier *f, struct vbuf *b)
{
	vbuf_reset(b);
	assert_int_equal(merkle_frontier_encode(f, b), 0);
	assert_int_equal(vbuf_len(b), 9 + (size_t)__builtin_popcountll(f->size) * H);
}

static void
test_frontier_layout(void **state)
{
	struct merkle_frontier f;
	struct vbuf *b = vbuf_new(MERKLE_FRONTIER_ENC_MAX), *small;
	uint8_t want[9 + 2 * H];
	int i;

	ct_setup();
	merkle_frontier_init(&f);
	assert_int_equal(merkle_frontier_size(&f), 0);
	encode(&f, b);
	assert_memory_equal(vbuf_ptr(b), "\x01\x00\x00\x00\x00\x00\x00\x00\x00", 9);

	/* Size 3: version, 00..03, then MTH(D[0:2]) and the leaf D[2]. */
	for (i = 0; i < 3; i++)
		assert_int_equal(merkle_frontier_append(&f, ct_leaves[i]), 0);
	encode(&f, b);
	memcpy(want, "\x01\x00\x00\x00\x00\x00\x00\x00\x03", 9);
	hexh(CT_NODES[1][0], want + 9);
	memcpy(want + 9 + H, ct_leaves[2], H);
	assert_memory_equal(vbuf_ptr(b), want, sizeof(want));

	/* Appends after what is already in the buffer. */
	assert_int_equal(vbuf_put_u8(b, 0xaa), 0);
	assert_int_equal(merkle_frontier_encode(&f, b), 0);
	assert_int_equal(vbuf_len(b), 2 * sizeof(want) + 1);
	assert_memory_equal(vbuf_ptr(b) + sizeof(want) + 1, want, sizeof(want));

	/* A buffer one byte too small refuses and keeps its contents. */
	small = vbuf_new(sizeof(want) - 1);
	assert_int_equal(merkle_frontier_encode(&f, small), VT_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(small), 0);
	vbuf_free(small);
	vbuf_free(b);
}

static void
check_round_trip(const struct merkle_frontier *f, struct vbuf *b)
{
	struct merkle_frontier g;
	struct vbuf *b2 = vbuf_new(MERKLE_FRONTIER_ENC_MAX);

	encode(f, b);
	assert_int_equal(merkle_frontier_decode(vbuf_ptr(b), vbuf_len(b), &g), 0);
	assert_int_equal(g.size, f->size);
	if (f->size > 0)
		assert_memory_equal(g.hash, f->hash,
		    (size_t)__builtin_popcountll(f->size) * H);
	encode(&g, b2);
	assert_int_equal(vbuf_len(b2), vbuf_len(b));
	assert_memory_equal(vbuf_ptr(b2), vbuf_ptr(b), vbuf_len(b));
	vbuf_free(b2);
}

static void
test_frontier_round_trips(void **state)
{
	static uint8_t rnd[FRONTIER_LEAVES][H];
	struct merkle_frontier f, g;
	struct vbuf *b = vbuf_new(MERKLE_FRONTIER_ENC_MAX);
	uint8_t got[H], want[H], got2[H];
	uint64_t size, more, i;
	int trial;

	rng_fill((uint8_t *)rnd, sizeof(rnd));
	/* Every size up to 300 in one pass, each checked against the reference root. */
	merkle_frontier_init(&f);
	for (size = 0; size <= 300; size++) {
		merkle_frontier_root(&f, got);
		ref_mth((const uint8_t(*)[H])rnd, size, want);
		assert_memory_equal(got, want, H);
		check_round_trip(&f, b);
		assert_int_equal(merkle_frontier_append(&f, rnd[size]), 0);
	}
	/* Random sizes up to 5000; the decoded copy keeps appending in step with the original. */
	for (trial = 0; trial < 40; trial++) {
		size = trial == 0 ? FRONTIER_LEAVES : rng_below(FRONTIER_LEAVES + 1);
		merkle_frontier_init(&f);
		for (i = 0; i < size; i++)
			assert_int_equal(merkle_frontier_append(&f, rnd[i]), 0);
		assert_int_equal(merkle_frontier_size(&f), size);
		merkle_frontier_root(&f, got);
		ref_mth((const uint8_t(*)[H])rnd, size, want);
		assert_memory_equal(got, want, H);
		merkle_root((const uint8_t(*)[H])rnd, size, got);
		assert_memory_equal(got, want, H);
		check_round_trip(&f, b);

		assert_int_equal(merkle_frontier_decode(vbuf_ptr(b), vbuf_len(b), &g), 0);
		more = rng_below(FRONTIER_LEAVES - size + 1);
		more = more > 64 ? 64 : more;
		for (i = size; i < size + more; i++) {
			assert_int_equal(merkle_frontier_append(&f, rnd[i]), 0);
			assert_int_equal(merkle_frontier_append(&g, rnd[i]), 0);
		}
		merkle_frontier_root(&f, got);
		merkle_frontier_root(&g, got2);
		ref_mth((const uint8_t(*)[H])rnd, size + more, want);
		assert_memory_equal(got, want, H);
		assert_memory_equal(got2, want, H);
	}
	vbuf_free(b);
}

static void
expect_decode_fails(const uint8_t *p, size_t len)
{
	struct merkle_frontier f;

	memset(&f, 0x77, sizeof(f));
	assert_int_equal(merkle_frontier_decode(p, len, &f), VT_ERR_INVALID);
	/* Cleared to the empty frontier, not left half-written. */
	assert_int_equal(f.size, 0);
	assert_int_equal(merkle_frontier_size(&f), 0);
}

static void
test_frontier_decode_strict(void **state)
{
	struct merkle_frontier f;
	struct vbuf *b = vbuf_new(MERKLE_FRONTIER_ENC_MAX);
	uint8_t buf[MERKLE_FRONTIER_ENC_MAX + 64];
	size_t len, cut;
	uint64_t i;

	expect_decode_fails(NULL, 0);
	expect_decode_fails((const uint8_t *)"\x01", 1);
	expect_decode_fails((const uint8_t *)"\x01\x00\x00\x00\x00\x00\x00\x00", 8);
	/* Unknown versions. */
	expect_decode_fails((const uint8_t *)"\x00\x00\x00\x00\x00\x00\x00\x00\x00", 9);
	expect_decode_fails((const uint8_t *)"\x02\x00\x00\x00\x00\x00\x00\x00\x00", 9);
	expect_decode_fails((const uint8_t *)"\xff\x00\x00\x00\x00\x00\x00\x00\x00", 9);
	/* The empty frontier decodes, with nothing after it. */
	assert_int_equal(merkle_frontier_decode((const uint8_t *)"\x01\0\0\0\0\0\0\0\0", 9, &f), 0);
	assert_int_equal(f.size, 0);
	expect_decode_fails((const uint8_t *)"\x01\0\0\0\0\0\0\0\0\0", 10);

	/* Size 7 (three hashes): every truncation and every extension fails. */
	merkle_frontier_init(&f);
	for (i = 0; i < 7; i++)
		assert_int_equal(merkle_frontier_append(&f, leaves[i]), 0);
	encode(&f, b);
	len = vbuf_len(b);
	assert_int_equal(len, 9 + 3 * H);
	memcpy(buf, vbuf_ptr(b), len);
	for (cut = 0; cut < len; cut++)
		expect_decode_fails(buf, cut);
	memset(buf + len, 0, sizeof(buf) - len);
	for (cut = len + 1; cut <= len + 2 * H + 1; cut++)
		expect_decode_fails(buf, cut);
	/* Size and hash count disagree: 7 claims three, give it the bytes of two or four. */
	buf[8] = 6; /* two hashes expected, three given */
	expect_decode_fails(buf, len);
	assert_int_equal(merkle_frontier_decode(buf, len - H, &f), 0);
	buf[8] = 15; /* four expected, three given */
	expect_decode_fails(buf, len);
	assert_int_equal(merkle_frontier_decode(buf, len + H, &f), 0);
	assert_int_equal(f.size, 15);

	/* Sizes past the ceiling, even with the right number of hashes. */
	memset(buf, 0xff, sizeof(buf));
	buf[0] = 1;
	expect_decode_fails(buf, 9 + 64 * H); /* 2^64 - 1: 64 hashes */
	buf[1] = 0x80;
	memset(buf + 2, 0, 7);
	expect_decode_fails(buf, 9 + 1 * H); /* 2^63 */
	buf[1] = 0x7f;
	memset(buf + 2, 0xff, 7);
	assert_int_equal(merkle_frontier_decode(buf, 9 + 63 * H, &f), 0); /* 2^63 - 1 */
	assert_int_equal(f.size, MERKLE_MAX_SIZE);
	vbuf_free(b);
}

static void
test_frontier_ceiling(void **state)
{
	struct merkle_frontier f, before;
	struct vbuf *b = vbuf_new(MERKLE_FRONTIER_ENC_MAX);
	uint8_t buf[MERKLE_FRONTIER_ENC_MAX], want[H], got[H];
	int i;

	/* A frontier one leaf short of the ceiling: 62 subtrees, then one append reaches it. */
	buf[0] = 1;
	buf[1] = 0x7f;
	memset(buf + 2, 0xff, 6);
	buf[8] = 0xfe;
	rng_fill(buf + 9, 62 * H);
	assert_int_equal(merkle_frontier_decode(buf, 9 + 62 * H, &f), 0);
	assert_int_equal(merkle_frontier_append(&f, leaves[0]), 0);
	assert_int_equal(merkle_frontier_size(&f), MERKLE_MAX_SIZE);
	assert_memory_equal(f.hash, buf + 9, 62 * H);
	assert_memory_equal(f.hash[62], leaves[0], H);
	/* Its root folds the 63 subtrees right to left. */
	memcpy(want, f.hash[62], H);
	for (i = 61; i >= 0; i--)
		ref_node(f.hash[i], want, want);
	merkle_frontier_root(&f, got);
	assert_memory_equal(got, want, H);
	check_round_trip(&f, b);
	assert_int_equal(vbuf_len(b), MERKLE_FRONTIER_ENC_MAX);
	/* Full: the next append is refused and changes nothing. */
	before = f;
	assert_int_equal(merkle_frontier_append(&f, leaves[1]), VT_ERR_RANGE);
	assert_int_equal(f.size, before.size);
	assert_memory_equal(f.hash, before.hash, sizeof(f.hash));
	vbuf_free(b);
}

/* ---------------------------------------------------------------------------------------------
 * Randomized: bigger trees of random leaves, random proofs, random single-bit corruptions.
 */
static void
test_randomized(void **state)
{
	static uint8_t rnd[1100][H];
	uint8_t path[PATH_ROOM][H], want[PATH_ROOM][H], root_m[H], root_n[H];
	uint64_t n, m, index;
	size_t k, wk, i, b;
	int iter;

	for (iter = 0; iter < 300; iter++) {
		n = 1 + rng_below(iter < 250 ? 200 : VT_NELEM(rnd));
		rng_fill((uint8_t *)rnd, (size_t)n * H);
		ref_mth((const uint8_t(*)[H])rnd, n, root_n);

		index = rng_below(n);
		assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])rnd, n, index, path,
		    &k), 0);
		wk = 0;
		ref_path(index, (const uint8_t(*)[H])rnd, n, want, &wk);
		assert_int_equal(k, wk);
		if (k > 0)
			assert_memory_equal(path, want, k * H);
		assert_int_equal(merkle_inclusion_verify(rnd[index], index, n,
		    (const uint8_t(*)[H])path, k, root_n), 0);
		if (k > 0) {
			i = rng_below(k);
			b = rng_below(H * 8);
			path[i][b / 8] ^= (uint8_t)(1u << (b % 8));
			assert_int_equal(merkle_inclusion_verify(rnd[index], index, n,
			    (const uint8_t(*)[H])path, k, root_n), VT_ERR_VERIFY);
		}
		b = rng_below(H * 8);
		root_n[b / 8] ^= (uint8_t)(1u << (b % 8));
		assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])rnd, n, index, path,
		    &k), 0);
		assert_int_equal(merkle_inclusion_verify(rnd[index], index, n,
		    (const uint8_t(*)[H])path, k, root_n), VT_ERR_VERIFY);
		root_n[b / 8] ^= (uint8_t)(1u << (b % 8));

		m = 1 + rng_below(n);
		ref_mth((const uint8_t(*)[H])rnd, m, root_m);
		assert_int_equal(merkle_consistency_proof((const uint8_t(*)[H])rnd, n, m, path, &k),
		    0);
		ref_proof(m, (const uint8_t(*)[H])rnd, n, want, &wk);
		assert_int_equal(k, wk);
		if (k > 0)
			assert_memory_equal(path, want, k * H);
		assert_int_equal(merkle_consistency_verify(m, n, root_m, root_n,
		    (const uint8_t(*)[H])path, k), 0);
		if (k > 0) {
			i = rng_below(k);
			b = rng_below(H * 8);
			path[i][b / 8] ^= (uint8_t)(1u << (b % 8));
			assert_int_equal(merkle_consistency_verify(m, n, root_m, root_n,
			    (const uint8_t(*)[H])path, k), VT_ERR_VERIFY);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_basics),
		cmocka_unit_test(test_leaf_hash_limit),
		cmocka_unit_test(test_ct_roots),
		cmocka_unit_test(test_ct_nodes_and_compact),
		cmocka_unit_test(test_ct_inclusion),
		cmocka_unit_test(test_ct_consistency),
		cmocka_unit_test(test_exhaustive_roots),
		cmocka_unit_test(test_exhaustive_inclusion),
		cmocka_unit_test(test_exhaustive_consistency),
		cmocka_unit_test(test_proof_invalid_args),
		cmocka_unit_test(test_huge_sizes),
		cmocka_unit_test(test_frontier_layout),
		cmocka_unit_test(test_frontier_round_trips),
		cmocka_unit_test(test_frontier_decode_strict),
		cmocka_unit_test(test_frontier_ceiling),
		cmocka_unit_test(test_randomized),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
