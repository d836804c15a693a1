/*
 * Checkpoints of the audit chain: building the checkpoint text with its three extension lines
 * (prev link, license counter, time), reading a signed checkpoint back (signature first, then a
 * strict, canonical parse), the organization named by an origin, the shape of a canonical audit
 * row, and the check behind `vaultterm audit prove`. Formats: docs/audit.md §7.9.
 */
#include "audit/chain.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/err.h"
#include "base/num.h"
#include "base/vtime.h"

#define PREV_NONE "prev none"
#define PREV_PREFIX "prev "
#define COUNTER_PREFIX "counter "
#define TIME_PREFIX "time "
#define CHAIN_EXT_LINES 3
#define U64_DIGITS_MAX 20
#define ROW_NULL 0xffffffffu
#define ROW_UUID_LEN 16
#define ROW_MAGIC_LEN 8

int
chain_origin_org(const char *origin, struct vt_uuid *org)
{
	const size_t tail = strlen(CHAIN_ORIGIN_SUFFIX) + UUID_STR_LEN;
	char canon[UUID_STR_LEN + 1];
	struct vt_uuid u;
	size_t len;

	memset(org, 0, sizeof(*org));
	len = strnlen(origin, CHECKPOINT_ORIGIN_MAX + 1);
	/* A non-empty deployment, "/audit/", the UUID, and nothing after it. */
	if (len > CHECKPOINT_ORIGIN_MAX || len <= tail)
		return VT_ERR_INVALID;
	if (strncmp(origin + len - tail, CHAIN_ORIGIN_SUFFIX, strlen(CHAIN_ORIGIN_SUFFIX)) != 0)
		return VT_ERR_INVALID;
	if (uuid_parse(origin + len - UUID_STR_LEN, &u) != 0)
		return VT_ERR_INVALID;
	/* Canonical lower-case text only: one org, one origin. */
	uuid_format(&u, canon);
	if (strcmp(canon, origin + len - UUID_STR_LEN) != 0)
		return VT_ERR_INVALID;
	*org = u;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" of time_s (0 .. CHAIN_TIME_MAX) into out. */
static void
time_format(int64_t time_s, char out[static CHAIN_TIME_LEN + 1])
{
	char full[VTIME_RFC3339_LEN];

	VT_ASSERT(time_s >= 0 && time_s <= CHAIN_TIME_MAX);
	vtime_format_rfc3339(time_s * 1000000, full); /* "...SS.000000Z" */
	memcpy(out, full, CHAIN_TIME_LEN - 1);
	out[CHAIN_TIME_LEN - 1] = 'Z';
	out[CHAIN_TIME_LEN] = '\0';
}

int
chain_checkpoint_text(const char *origin, uint64_t size,
    const uint8_t root[static MERKLE_HASH_LEN], const uint8_t *prev_hash, uint64_t counter,
    int64_t time_s, struct vbuf *out)
{
	char prev[sizeof(PREV_PREFIX) + 2 * HASH_SHA256_LEN];
	char cnt[sizeof(COUNTER_PREFIX) + U64_DIGITS_MAX];
	char tm[sizeof(TIME_PREFIX) + CHAIN_TIME_LEN];
	char t[CHAIN_TIME_LEN + 1];
	const char *ext[CHAIN_EXT_LINES] = { prev, cnt, tm };
	struct vt_uuid org;

	if (chain_origin_org(origin, &org) != 0 || counter == 0 || time_s < 0 ||
	    time_s > CHAIN_TIME_MAX || size > MERKLE_MAX_SIZE)
		return VT_ERR_INVALID;
	if (prev_hash == NULL) {
		memcpy(prev, PREV_NONE, sizeof(PREV_NONE));
	} else {
		memcpy(prev, PREV_PREFIX, strlen(PREV_PREFIX));
		hex_encode(prev_hash, HASH_SHA256_LEN, prev + strlen(PREV_PREFIX));
	}
	snprintf(cnt, sizeof(cnt), COUNTER_PREFIX "%llu", (unsigned long long)counter);
	time_format(time_s, t);
	snprintf(tm, sizeof(tm), TIME_PREFIX "%s", t);
	return checkpoint_format(origin, size, root, ext, CHAIN_EXT_LINES, out);
}

/* 1 if line[0 .. len) starts with the C string prefix. */
static int
has_prefix(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncmp(line, prefix, n) == 0;
}

static int
parse_prev(const struct checkpoint_line *l, struct chain_checkpoint *cp)
{
	const size_t pl = strlen(PREV_PREFIX);
	size_t i;

	if (l->len == strlen(PREV_NONE) && has_prefix(l->p, l->len, PREV_NONE)) {
		cp->has_prev = 0;
		return 0;
	}
	if (l->len != pl + 2 * HASH_SHA256_LEN || !has_prefix(l->p, l->len, PREV_PREFIX))
		return VT_ERR_INVALID;
	/* hex_decode accepts either case; the text is canonical, so lower case only. */
	for (i = pl; i < l->len; i++)
		if (!((l->p[i] >= '0' && l->p[i] <= '9') || (l->p[i] >= 'a' && l->p[i] <= 'f')))
			return VT_ERR_INVALID;
	if (hex_decode(l->p + pl, 2 * HASH_SHA256_LEN, cp->prev, HASH_SHA256_LEN) != 0)
		return VT_ERR_INVALID;
	cp->has_prev = 1;
	return 0;
}

static int
parse_counter(const struct checkpoint_line *l, struct chain_checkpoint *cp)
{
	const size_t pl = strlen(COUNTER_PREFIX);
	char digits[U64_DIGITS_MAX + 1];
	size_t n = l->len - pl;

	if (!has_prefix(l->p, l->len, COUNTER_PREFIX) || n == 0 || n > U64_DIGITS_MAX ||
	    l->p[pl] == '0') /* no leading zeros; 0 itself is not a valid counter */
		return VT_ERR_INVALID;
	memcpy(digits, l->p + pl, n);
	digits[n] = '\0';
	if (num_parse_u64(digits, 1, UINT64_MAX, &cp->counter) != 0)
		return VT_ERR_INVALID;
	return 0;
}

static int
parse_time(const struct checkpoint_line *l, struct chain_checkpoint *cp)
{
	const size_t pl = strlen(TIME_PREFIX);
	char s[CHAIN_TIME_LEN + 1], canon[CHAIN_TIME_LEN + 1];
	int64_t us;

	if (l->len != pl + CHAIN_TIME_LEN || !has_prefix(l->p, l->len, TIME_PREFIX))
		return VT_ERR_INVALID;
	memcpy(s, l->p + pl, CHAIN_TIME_LEN);
	s[CHAIN_TIME_LEN] = '\0';
	if (s[CHAIN_TIME_LEN - 1] != 'Z' || vtime_parse_rfc3339(s, &us) != 0 || us < 0 ||
	    us % 1000000 != 0 || us / 1000000 > CHAIN_TIME_MAX)
		return VT_ERR_INVALID;
	/* One spelling per instant: 'T' and 'Z' upper case, no leap second 60 (the parser clamps). */
	time_format(us / 1000000, canon);
	if (strcmp(canon, s) != 0)
		return VT_ERR_INVALID;
	cp->time_s = us / 1000000;
	return 0;
}

int
chain_checkpoint_read(const char *note, size_t len, const struct note_verifier *v,
    struct chain_checkpoint *out)
{
	struct chain_checkpoint cp;
	struct checkpoint parsed;
	struct vt_uuid org;
	size_t text_len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&cp, 0, sizeof(cp));
	if ((r = note_verify(note, len, &v, 1, &text_len, NULL)) != 0)
		return r;
	if ((r = checkpoint_parse(note, text_len, &parsed)) != 0)
		return r;
	if (strcmp(parsed.origin, note_verifier_name(v)) != 0)
		return VT_ERR_VALIDATION;
	if (chain_origin_org(parsed.origin, &org) != 0 || parsed.n_ext != CHAIN_EXT_LINES ||
	    parsed.size > MERKLE_MAX_SIZE)
		return VT_ERR_INVALID;
	if ((r = parse_prev(&parsed.ext[0], &cp)) != 0 ||
	    (r = parse_counter(&parsed.ext[1], &cp)) != 0 ||
	    (r = parse_time(&parsed.ext[2], &cp)) != 0)
		return r;
	memcpy(cp.origin, parsed.origin, sizeof(cp.origin));
	cp.size = parsed.size;
	memcpy(cp.root, parsed.root, MERKLE_HASH_LEN);
	hash_sha256(note, text_len, cp.text_hash);
	*out = cp;
	return 0;
}

/* Reads a u32 length (or the NULL marker) at *pos; VT_ERR_INVALID past the end. */
static int
row_get_len(const uint8_t *p, size_t len, size_t *pos, uint32_t *v)
{
	if (len - *pos < 4)
		return VT_ERR_INVALID;
	*v = (uint32_t)p[*pos] << 24 | (uint32_t)p[*pos + 1] << 16 | (uint32_t)p[*pos + 2] << 8 |
	    (uint32_t)p[*pos + 3];
	*pos += 4;
	return 0;
}

enum row_field {
	ROW_UUID,     /* a UUID: exactly 16 bytes, not NULL */
	ROW_OPT_UUID, /* a UUID or NULL */
	ROW_U64,      /* 8 bytes, no length */
	ROW_STR,      /* a string, not NULL */
	ROW_OPT_STR,  /* a string or NULL */
};

/* docs/audit.md §4, after the magic: id, org_id, time, actor ..., detail. */
static const enum row_field ROW_FIELDS[] = {
	ROW_UUID, ROW_OPT_UUID, ROW_U64, ROW_STR, ROW_OPT_UUID, ROW_OPT_STR, ROW_STR,
	ROW_OPT_STR, ROW_OPT_STR, ROW_STR, ROW_OPT_STR, ROW_OPT_STR, ROW_STR,
};
#define ROW_FIELD_ORG 1

int
chain_row_check(const void *row, size_t len, const struct vt_uuid *org)
{
	const uint8_t *p = row;
	const uint8_t *org_at = NULL;
	size_t pos = ROW_MAGIC_LEN, i;
	uint32_t n;

	if (len < ROW_MAGIC_LEN || !vt_ct_eq(p, AUDIT_CANONICAL_MAGIC, ROW_MAGIC_LEN))
		return VT_ERR_INVALID;
	for (i = 0; i < VT_NELEM(ROW_FIELDS); i++) {
		if (ROW_FIELDS[i] == ROW_U64) {
			if (len - pos < 8)
				return VT_ERR_INVALID;
			pos += 8;
			continue;
		}
		if (row_get_len(p, len, &pos, &n) != 0)
			return VT_ERR_INVALID;
		if (n == ROW_NULL) {
			if (ROW_FIELDS[i] == ROW_UUID || ROW_FIELDS[i] == ROW_STR)
				return VT_ERR_INVALID;
			continue;
		}
		if ((ROW_FIELDS[i] == ROW_UUID || ROW_FIELDS[i] == ROW_OPT_UUID) &&
		    n != ROW_UUID_LEN)
			return VT_ERR_INVALID;
		if (n > len - pos)
			return VT_ERR_INVALID;
		if (i == ROW_FIELD_ORG)
			org_at = p + pos;
		pos += n;
	}
	if (pos != len)
		return VT_ERR_INVALID;
	/* A system row (org_id NULL) belongs to no tenant's log either. */
	if (org_at == NULL || !vt_ct_eq(org_at, org->b, ROW_UUID_LEN))
		return VT_ERR_VALIDATION;
	return 0;
}

int
chain_prove_check(const char *checkpoint_note, size_t len, const struct note_verifier *key,
    uint64_t index, const void *row, size_t row_len, const uint8_t path[][MERKLE_HASH_LEN],
    size_t n)
{
	struct chain_checkpoint cp;
	struct vt_uuid org;
	uint8_t leaf[MERKLE_HASH_LEN];
	int r;

	if ((r = chain_checkpoint_read(checkpoint_note, len, key, &cp)) != 0)
		return r;
	if (index >= cp.size || n > MERKLE_MAX_PROOF || chain_origin_org(cp.origin, &org) != 0 ||
	    chain_row_check(row, row_len, &org) != 0)
		return VT_ERR_INVALID;
	if ((r = merkle_leaf_hash(row, row_len, leaf)) != 0)
		return r;
	return merkle_inclusion_verify(leaf, index, cp.size, path, n, cp.root);
}
