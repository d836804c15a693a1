/*
 * Private pieces shared by the scanner's files (the .c files of src/scan only): the compiled
 * database, the ANSI/CR filter with its offset map, the tokenizer's delimiter table, the
 * fingerprint set's layout, and the stream hooks the redactor needs. See docs/scanner.md.
 */
#ifndef VT_SCAN_SCAN_INTERNAL_H
#define VT_SCAN_SCAN_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>

#include "base/secmem.h"
#include "scan/scan.h"

/* Stripped bytes scanned per Vectorscan call (the filter's output of one input slice). */
#define SCAN_BLOCK 16384
/* Consecutive CRs held while waiting for a LF (CR+ LF folds to LF); a longer run is kept. */
#define SCAN_CR_RUN_MAX 16
/* Longest CSI / string (OSC, DCS, SOS, PM, APC) sequence removed; longer ones are aborted. */
#define SCAN_CSI_MAX 64
#define SCAN_STR_MAX 4096
/* Backtracking budget of one start search (PCRE2 match limit); past it the start is estimated. */
#define SCAN_PCRE_MATCH_LIMIT 200000
/* BLAKE2b digest of a compiled database's inputs (db.c hs_digest) */
#define SCAN_DB_DIGEST_LEN 32

/* 1 if byte c is in set, a 256-bit set of bytes (bit c & 7 of set[c >> 3]). */
static inline int
scan_set_has(const uint8_t set[static 32], unsigned int c)
{
	return set[c >> 3] >> (c & 7) & 1;
}

/* ---- compiled rules ---------------------------------------------------------------------- */
struct scan_rule_rt {
	pcre2_code *re;         /* the pattern, PCRE2_ENDANCHORED, JIT-compiled: start finder */
	pcre2_code *re_anchored; /* the same, also PCRE2_ANCHORED: does [start, end) match? */
	unsigned int min_width; /* shortest match (Vectorscan's expression info) */
	unsigned int max_len;   /* the rule's max_len: the look-back bound */
	unsigned int span;      /* longest match: the pattern's max width if bounded, else max_len */
	/*
	 * A pattern "C{0,lead_max}R" (a leading optional class, IDHEAD in rules.c) is searched as R:
	 * Vectorscan compiles R alone (the same ends, fewer states) and re finds R's leftmost start,
	 * then the start is extended back over up to lead_max bytes of C (lead_set). 0: no such lead.
	 */
	unsigned int lead_max;
	uint8_t lead_set[32];
	/*
	 * A literal every match holds at most lit_before bytes after its start (the first top-level
	 * literal run, e.g. "://" in a URL rule): a start search first looks for it in the window
	 * (none: no match) and starts at most lit_before bytes before it. lit_len 0: none.
	 */
	unsigned int lit_before;
	uint8_t lit_len;
	char lit[15];
	/* The pattern starts "(?:^|...)": re is the pattern without "^|", the start of the stream
	 * is tried with re_anchored. */
	int caret_alt;
	/*
	 * The pattern ends with a tail the engine follows itself (enum scan_tail): Vectorscan
	 * compiles only what precedes it, a trigger such as a keyword or "scheme://", and each end
	 * of the trigger is extended byte by byte to the ends of the whole pattern (scan.c,
	 * tail_ends): the same ends, without Vectorscan's bounded-repeat automata for the tail.
	 */
	uint8_t tail;
	uint16_t tail_min, tail_max; /* SCAN_TAIL_ASSIGN: the value's length bounds */
	uint32_t tail_idx;      /* its index in db->tails */
	/*
	 * SCAN_TAIL_USERINFO after a trigger that ends in '/' ("scheme://"): the trigger's longest
	 * match. A match ending at e then starts at most this far before the last byte outside
	 * the password class before e - 1 (the trigger's '/'): the start search's window. 0: no.
	 */
	uint16_t tail_back;
	uint16_t trig_max;      /* the trigger's longest match (what precedes the tail); 0: unbounded */
	/*
	 * A tail_back trigger "\b[sch_set1][sch_set2]{sch_min,sch_max}://" (db.c scheme_start,
	 * basic-auth-url): the start is the leftmost scheme before the "://" that tail_back finds,
	 * read here without PCRE2. sch_max 0: no.
	 */
	uint8_t sch_min, sch_max, sch_b;
	uint8_t sch_set1[32], sch_set2[32];
	/*
	 * Every byte of a match up to its head_nl-th last '\n' is in head_set (db.c head_lines:
	 * a block of lines, then an ending with fewer '\n'): a start search begins past the last
	 * byte outside the set before that '\n' of the window. 0: no such bound.
	 */
	uint8_t head_nl;
	uint8_t head_set[32];
	/*
	 * What Vectorscan compiles instead of the pattern, when not NULL: an ending of it that alone
	 * decides where a match ends (db.c HEAD_LINES, pem_ending). Its other ends have no start,
	 * which the start search (the whole pattern) finds none for.
	 */
	const char *hs_ending;
	/*
	 * An ending-only rule (hs_ending) whose pattern ends "[class]{run_min,...}" + run_end bytes
	 * (db.c pad_ending: the base64 run before "=="): every match holds run_min bytes of run_set
	 * right before its last run_end bytes, so an end without them is searched no further.
	 * run_min 0: no such run.
	 */
	uint8_t run_min, run_end;
	uint8_t run_set[32];
	/*
	 * db.c inner_set: every match [s, e) has its bytes [s, e - in_w) in in_set (the bytes any
	 * atom before the pattern's short last group can consume): rule_finalize does not try an
	 * end past the first byte outside it. in_on 0: no such set.
	 */
	uint8_t in_on, in_w;
	uint8_t in_set[32];
};

enum scan_tail {
	SCAN_TAIL_NONE,
	SCAN_TAIL_ASSIGN,   /* key-name rest, assignment glue, a bare value and what ends it */
	SCAN_TAIL_USERINFO, /* a URI's user:password@ */
	SCAN_TAIL_LINES,    /* a Secret manifest's lines after "kind: Secret", up to its data block */
};

struct scan_db {
	const struct scan_rule *rules;
	size_t nrules;
	struct scan_rule_rt *rt;
	hs_database_t *hs;      /* NULL when there are no rules (fingerprints only) */
	const struct scan_hs_api *api; /* the build of Vectorscan's scan code hs was made for */
	size_t hs_stream_bytes;
	unsigned int max_len;   /* max over rules of max_len */
	pcre2_match_context *mctx;
	uint32_t *tails;        /* indexes of the rules with a tail (rt[i].tail != 0) */
	size_t ntails;
	/*
	 * Vectorscan ids nrules .. nrules + nhs_extra - 1: more patterns of a rule split in several
	 * (db.c alt_split); hs_rule[id - nrules] is the rule.
	 */
	uint32_t *hs_rule;
	size_t nhs_extra;
	/*
	 * BLAKE2b of what was handed to Vectorscan (db.c hs_digest); prebuilt: hs came from the
	 * database compiled at build time (scan_db_blob) because its digest was this one.
	 */
	uint8_t digest[SCAN_DB_DIGEST_LEN];
	int digest_ok;
	int prebuilt;

	/* Vectorscan scratch is per scan call, not per stream: a small pool shared by threads. */
	pthread_mutex_t lock;
	hs_scratch_t *proto;
	hs_scratch_t **pool;
	size_t npool, cappool;
};

hs_scratch_t *scan_db_scratch_get(const struct scan_db *db);
/*
 * The built-in database compiled at build time (src/tools/scan_dbgen.c writes them into the
 * build dir's scan_db_blob.c, which the executables link; vtcore only declares them, weak):
 * hs_serialize_database's bytes and the digest of what was compiled. scan_db_open_rules()
 * deserializes the blob instead of compiling only when the digest of what it is about to compile
 * is that one (same patterns, flags, ids, mode, platform and Vectorscan version).
 */
extern const unsigned char scan_db_blob[] __attribute__((weak));
extern const size_t scan_db_blob_len __attribute__((weak));
extern const unsigned char scan_db_blob_digest[SCAN_DB_DIGEST_LEN] __attribute__((weak));
/* For the generator: db's Vectorscan database serialized (free() it) and its digest. */
int scan_db_serialize(const struct scan_db *db, char **bytes, size_t *len,
    uint8_t digest[static SCAN_DB_DIGEST_LEN]) VT_WUR;
/*
 * Tests only, not thread-safe: the blob scan_db_open_rules() may use from now on (NULL: none),
 * instead of the linked one; scan_db_blob_linked() restores the linked one and returns 1 if there
 * is one (its bytes in *blob, *len and *digest when those are not NULL).
 */
void scan_db_blob_use(const void *blob, size_t len, const uint8_t *digest);
int scan_db_blob_linked(const void **blob, size_t *len, const uint8_t **digest);
void scan_db_scratch_put(const struct scan_db *db, hs_scratch_t *s);

/*
 * Vectorscan's stream calls, through the build of its scan code scan_hs() chose once: the SSE4.2
 * one ("corei7_hs_*") when the library exports it (Debian's multi-CPU libvectorscan5 does) and
 * the CPU has SSE4.2, else the library's own choice (pinned 0). Vectorscan 5.4.9's AVX2 and
 * AVX-512 builds lose matches its SSE4.2 build reports, some depending on the buffer's address
 * (docs/scanner.md, Limits); a database for the pinned build is compiled for no CPU features.
 */
struct scan_hs_api {
	hs_error_t (*open_stream)(const hs_database_t *, unsigned int, hs_stream_t **);
	hs_error_t (*scan_stream)(hs_stream_t *, const char *, unsigned int, unsigned int,
	    hs_scratch_t *, match_event_handler, void *);
	hs_error_t (*close_stream)(hs_stream_t *, hs_scratch_t *, match_event_handler, void *);
	hs_error_t (*stream_size)(const hs_database_t *, size_t *);
	int pinned;
	const char *build;      /* "SSE4.2", or "the library's choice" */
	const hs_platform_info_t *platform; /* to compile databases for; NULL: the host's */
};
const struct scan_hs_api *scan_hs(void);
/*
 * Tests only, before any database is compiled: 0 = the library's own choice (to show what the
 * pinning prevents), 1 = pinned when possible (the default). Not thread-safe.
 */
void scan_hs_pin(int on);

/* ---- ANSI escape / CR filter and the offset map ------------------------------------------- */
/*
 * Deletion-only map from stripped offsets to original offsets: kept byte s sits at original
 * offset s + delta, where delta is that of the last entry with entry.s <= s.
 */
struct scan_gapmap {
	uint64_t *s;
	uint64_t *d;
	size_t head, n, cap;    /* live entries are [head, n) */
};

enum scan_ansi_state {
	ANSI_GROUND,
	ANSI_ESC,       /* after ESC */
	ANSI_NF,        /* ESC + intermediates 0x20-0x2F, waiting for a final 0x30-0x7E */
	ANSI_CSI,       /* ESC [ params/intermediates, waiting for a final 0x40-0x7E */
	ANSI_STR,       /* OSC / DCS / SOS / PM / APC payload, until BEL or ST */
	ANSI_STR_ESC,   /* ESC inside a string: ST if '\' follows */
};

struct scan_ansi {
	enum scan_ansi_state st;
	uint32_t seqlen;        /* bytes of the current sequence */
	uint32_t ncr;           /* pending CRs (consecutive, just before the next input byte) */
	uint64_t cr_o;          /* original offset of the first pending CR */
	uint64_t in_o;          /* original bytes consumed */
	uint64_t out_s;         /* stripped bytes produced */
	uint64_t delta;         /* in_o - out_s as of the last kept byte's entry in the map */
};

/*
 * Filters n input bytes into out (room for n + SCAN_CR_RUN_MAX bytes) and returns how many were
 * written; records offset changes in gm (may be NULL). VT_ERR_NOMEM (negative) if gm cannot grow.
 */
long scan_ansi_filter(struct scan_ansi *a, const uint8_t *in, size_t n, uint8_t *out,
    struct scan_gapmap *gm);
/* End of input: pending CRs are kept; returns how many bytes were written (<= SCAN_CR_RUN_MAX). */
long scan_ansi_finish(struct scan_ansi *a, uint8_t *out, struct scan_gapmap *gm);
/* Original offset of the first input byte that may still become a kept byte. */
uint64_t scan_ansi_unresolved(const struct scan_ansi *a);

void scan_gapmap_free(struct scan_gapmap *gm);
/* Original offset of kept byte s (s below the stripped bytes produced so far). */
uint64_t scan_gapmap_orig(const struct scan_gapmap *gm, uint64_t s);
/* Drops entries no longer needed for offsets >= keep_s. */
void scan_gapmap_prune(struct scan_gapmap *gm, uint64_t keep_s);

/*
 * Length of the escape sequence at p (p[0] is ESC) as the filter removes it, at most n: the
 * redactor's mask mode keeps these bytes so a masked span leaves the terminal state alone.
 */
size_t scan_ansi_seq_len(const uint8_t *p, size_t n);
/*
 * The filter's vector paths, of those the CPU has, up to level: 0 the portable path only (SSE2),
 * 1 AVX2 at most, 2 all (AVX-512, what start-up chooses). For tests and benchmarks; not
 * thread-safe.
 */
void scan_ansi_simd(int level);

/* ---- validator helpers of rules.c, for the unit tests ---------------------------------------- */
/* 1 if the value is a placeholder (an allowlisted example, a run, a placeholder word). */
int scan_rules_placeholder(const uint8_t *p, size_t n);
/* Length of the run of base64 bytes (with '=' when pad) that p starts with. */
size_t scan_rules_b64_run(const uint8_t *p, size_t n, int pad);
/* Length of the run of bytes of class k (rules.c enum cc) that ends at e, at most cap. */
size_t scan_rules_run_back(const uint8_t *m, size_t e, int k, size_t cap);
/* 1 if every one of the n bytes is of class k. */
int scan_rules_all_in(const uint8_t *p, size_t n, int k);
/*
 * The last position before k where a keyword of the generic assignment kind (rules.c enum
 * gen_kind) may start, SIZE_MAX if none.
 */
size_t scan_rules_gen_prev(int kind, const uint8_t *m, size_t k);
/* Shannon entropy in bits per byte: as the validators compute it, and from a full histogram. */
double scan_rules_entropy(const uint8_t *p, size_t n);
double scan_rules_entropy_hist(const uint8_t *p, size_t n);
/* 1 if the value is random-looking: no placeholder, at least h10 / 10 bits per byte. */
int scan_rules_plausible(const uint8_t *p, size_t n, unsigned int h10);
/*
 * The start of a token that ends at e in m: the longest body l, r >= l >= max(lo, 1), that one of
 * the np (<= 8) prefixes precedes (the first in order at that l); *body = l, *which = the prefix.
 * With np = 0 the body alone. SIZE_MAX if none.
 */
size_t scan_rules_tok_start(const char *const *pfx, size_t np, size_t lo, const uint8_t *m,
    size_t e, size_t r, size_t *body, size_t *which);

/* ---- fingerprints ------------------------------------------------------------------------ */
extern const uint8_t SCAN_DELIM[256];

struct scan_fp_entry {
	uint32_t anchor_off;
	uint32_t len;
	uint32_t label_off;     /* into the label arena */
	uint8_t mac[32];
};

struct scan_fpset {
	struct secmem *keys;    /* SipHash key (16) ‖ HMAC key (32) */
	uint64_t *slot_key;     /* 0 = empty; a SipHash of 0 is stored as 1 */
	uint32_t *slot_idx;
	size_t nslots;          /* power of two, load <= 1/2 */
	/*
	 * A blocked bloom filter, 4 bits per slot (8-16 per entry, 16 KB for 10,000; nslots / 16
	 * words): every stored key sets SCAN_FP_BLOOM_K bits of one 64-bit word (scan_fp_bloom_word,
	 * scan_fp_bloom_mask). Most tokens are ruled out here, in L1, before a probe of slot_key (a
	 * cache miss).
	 */
	uint64_t *bloom;
	struct scan_fp_entry *ent;
	size_t nent, capent;
	char *labels;
	size_t nlabels, caplabels;
	uint32_t max_tok;       /* the longest token that can be an anchor: max of len - anchor_off */
};

uint64_t scan_fp_sip(const uint8_t key[16], const uint8_t *p, size_t n);

/*
 * SipHash-2-4 (Aumasson and Bernstein; what libsodium's crypto_shorthash_siphash24 computes, the
 * 8 output bytes read little-endian) with the key as two little-endian words: inline, because the
 * tokenizer hashes every candidate token. tests/unit/test_scan.c checks it against libsodium.
 */
#define SCAN_SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SCAN_SIP_ROUND                                                                         \
	do {                                                                                   \
		v0 += v1; v1 = SCAN_SIP_ROTL(v1, 13); v1 ^= v0; v0 = SCAN_SIP_ROTL(v0, 32);     \
		v2 += v3; v3 = SCAN_SIP_ROTL(v3, 16); v3 ^= v2;                                 \
		v0 += v3; v3 = SCAN_SIP_ROTL(v3, 21); v3 ^= v0;                                 \
		v2 += v1; v1 = SCAN_SIP_ROTL(v1, 17); v1 ^= v2; v2 = SCAN_SIP_ROTL(v2, 32);     \
	} while (0)

static inline uint64_t
scan_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static inline uint64_t
scan_siphash24(uint64_t k0, uint64_t k1, const uint8_t *p, size_t n)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t m, b = (uint64_t)n << 56;
	size_t i, left = n & 7;

	for (i = 0; i + 8 <= n; i += 8) {
		m = scan_le64(p + i);
		v3 ^= m;
		SCAN_SIP_ROUND;
		SCAN_SIP_ROUND;
		v0 ^= m;
	}
	for (m = 0; left > 0; left--)
		m |= (uint64_t)p[i + left - 1] << (8 * (left - 1));
	b |= m;
	v3 ^= b;
	SCAN_SIP_ROUND;
	SCAN_SIP_ROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SCAN_SIP_ROUND;
	SCAN_SIP_ROUND;
	SCAN_SIP_ROUND;
	SCAN_SIP_ROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}
static inline uint64_t
scan_fp_slotkey(uint64_t sip)
{
	return sip == 0 ? 1 : sip;
}

/*
 * scan_siphash24 of cnt <= SCAN_SIP_LANES strings at once: out[l] = the hash of the n[l] bytes at
 * base + off[l]. The tokenizer hashes its tokens this way (AVX-512F lanes when the CPU has them).
 */
#define SCAN_SIP_LANES 8
void scan_siphash24_batch(uint64_t k0, uint64_t k1, const uint8_t *base, const size_t *off,
    const size_t *n, size_t cnt, uint64_t *out);
/*
 * The tokenizer's vector paths, of those the CPU has, up to level: 0 none (delimiter masks by
 * table, SipHash one token at a time), 1 AVX2 masks, 2 all (AVX-512BW masks, AVX-512F SipHash
 * lanes: what start-up chooses). For tests and benchmarks; not thread-safe.
 */
void scan_fp_simd(int level);

/*
 * The bloom word of a key: its bits 32 and up (nslots / 16 words, at most 2^21: bits 32..52), and
 * the SCAN_FP_BLOOM_K bits it sets there: 6 bits each from bits 8..31. Slot keys are SipHash
 * values, so for a key not in the set the word and the bit positions are independent and uniform.
 * One bit of a 16 KB bitset for 10,000 entries passed 7.3% of the tokens of terminal output; four
 * bits of one word pass ~0.9% (a bit per word set by ~5 keys, (1 - (63/64)^20)^4 on average), for
 * the same one load and memory.
 */
#define SCAN_FP_BLOOM_K 4

static inline size_t
scan_fp_bloom_word(const struct scan_fpset *s, uint64_t key)
{
	return (size_t)(key >> 32) & (s->nslots / 16 - 1);
}

static inline uint64_t
scan_fp_bloom_mask(uint64_t key)
{
	uint64_t m = 0;
	int i;

	for (i = 0; i < SCAN_FP_BLOOM_K; i++)
		m |= (uint64_t)1 << ((key >> (8 + 6 * i)) & 63);
	return m;
}

/* 0 when the set holds no such slot key (nslots > 0); 1 when it may. */
static inline int
scan_fp_bloom_has(const struct scan_fpset *s, uint64_t key)
{
	const uint64_t m = scan_fp_bloom_mask(key);

	return (s->bloom[scan_fp_bloom_word(s, key)] & m) == m;
}

/* ---- stream hooks for the redactor --------------------------------------------------------- */
/* Original bytes consumed so far. (scan_stream_safe_orig and scan_stream_window: scan.h.) */
uint64_t scan_stream_orig_pos(const struct scan_stream *s);

#endif
