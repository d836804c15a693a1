/*
 * The audit chain read back out of the database (export.h).
 */
#include "audit/export.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/bundle.h"
#include "base/encode.h"
#include "base/err.h"
#include "base/json.h"
#include "crypto/note.h"

/* Checkpoints of the org (size ascending): sizes and notes. */
struct cps {
	struct db_res *res;
	int n, next;
};

static int
load_checkpoints(struct db_tx *tx, uint64_t from, struct cps *c)
{
	struct db_params p;
	int r;

	memset(c, 0, sizeof(*c));
	db_params_init(&p);
	db_param_uuid(&p, db_tx_org(tx));
	db_param_int(&p, (int64_t)from);
	r = db_query(tx, "SELECT size, note FROM audit_checkpoints WHERE org_id = $1 "
			 "AND size >= $2 ORDER BY size", &p, &c->res);
	db_params_free(&p);
	if (r == 0)
		c->n = db_res_rows(c->res);
	return r;
}

/* Writes every checkpoint not yet written whose size is at most `upto` leaves. */
static int
flush_checkpoints(struct cps *c, uint64_t upto, struct vbuf *out)
{
	int r;

	while (c->next < c->n) {
		int64_t size;
		const char *note;

		if ((r = db_res_int(c->res, c->next, 0, &size)) != 0)
			return r;
		if ((uint64_t)size > upto)
			break;
		note = db_res_text(c->res, c->next, 1);
		if ((r = bundle_write_checkpoint(out, note, strlen(note))) != 0)
			return r;
		c->next++;
	}
	return 0;
}

int
audit_export(struct db_tx *tx, const struct audit_keys *keys, struct vbuf *out)
{
	return audit_export_from(tx, keys, 0, out);
}

/* The frontier stored with the checkpoint of exactly `size` leaves into fr. */
static int
checkpoint_frontier(struct db_tx *tx, uint64_t size, struct vbuf *fr)
{
	struct db_params p;
	struct db_res *res = NULL;
	int r;

	db_params_init(&p);
	db_param_uuid(&p, db_tx_org(tx));
	db_param_int(&p, (int64_t)size);
	r = db_query(tx, "SELECT frontier FROM audit_checkpoints WHERE org_id = $1 AND size = $2",
	    &p, &res);
	db_params_free(&p);
	if (r == 0 && db_res_rows(res) != 1)
		r = VT_ERR_NOT_FOUND;
	if (r == 0)
		r = db_res_bytes(res, 0, 0, fr);
	db_res_free(res);
	return r;
}

int
audit_export_from(struct db_tx *tx, const struct audit_keys *keys, uint64_t from,
    struct vbuf *out)
{
	char origin[AUDIT_ORIGIN_MAX + 1], vkey[NOTE_VKEY_MAX + 1];
	struct note_verifier *v = NULL;
	struct db_res *res = NULL;
	struct vbuf *canon = vbuf_new(AUDIT_DETAIL_MAX + 4096);
	struct cps c;
	uint64_t nleaves = 0;
	int64_t next = (int64_t)from;
	int r, i, n;

	memset(&c, 0, sizeof(c));
	if (db_tx_org(tx) == NULL) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	audit_origin(keys, db_tx_org(tx), origin);
	if ((r = audit_keys_verifier(keys, db_tx_org(tx), &v)) != 0)
		goto out;
	note_verifier_format(v, vkey);
	if ((r = bundle_write_header(out, origin, vkey)) != 0 ||
	    (r = load_checkpoints(tx, from, &c)) != 0)
		goto out;
	if (from > 0) {
		struct vbuf *fr = vbuf_new(MERKLE_FRONTIER_ENC_MAX);

		r = checkpoint_frontier(tx, from, fr);
		if (r == 0)
			r = bundle_write_from(out, vbuf_ptr(fr), vbuf_len(fr));
		vbuf_free(fr);
		if (r == 0)
			r = flush_checkpoints(&c, from, out); /* the anchor, right after */
		if (r != 0)
			goto out;
	}
	for (;;) {
		struct db_params p;

		db_params_init(&p);
		db_param_uuid(&p, db_tx_org(tx));
		db_param_int(&p, next);
		db_param_int(&p, AUDIT_EXPORT_PAGE);
		r = db_query(tx, "SELECT i.idx, i.leaf_hash, l.id, l.org_id, "
				 " (extract(epoch FROM l.time) * 1000000)::bigint, l.actor_type, "
				 " l.actor_id, l.actor_email, l.action, l.resource_type, "
				 " l.resource_id, l.outcome, l.source_ip, l.request_id, l.detail "
				 "FROM audit_index i LEFT JOIN audit_log l ON l.id = i.audit_id "
				 "WHERE i.org_id = $1 AND i.idx >= $2 ORDER BY i.idx LIMIT $3", &p, &res);
		db_params_free(&p);
		if (r != 0)
			goto out;
		n = db_res_rows(res);
		for (i = 0; i < n; i++) {
			struct vbuf *h = vbuf_new(64);
			struct audit_row row;
			int64_t idx;

			memset(&row, 0, sizeof(row));
			r = db_res_int(res, i, 0, &idx);
			if (r == 0)
				r = db_res_bytes(res, i, 1, h);
			if (r == 0 && vbuf_len(h) != MERKLE_HASH_LEN)
				r = VT_ERR_CRYPTO;
			/* Checkpoints of sizes up to this index go before its leaf. */
			if (r == 0)
				r = flush_checkpoints(&c, (uint64_t)idx, out);
			vbuf_reset(canon);
			if (r == 0 && !db_res_isnull(res, i, 2)) {
				r = audit_row_from_res(res, i, 2, &row);
				if (r == 0)
					r = audit_row_canonical(&row, canon);
				if (r == 0)
					r = bundle_write_leaf(out, (uint64_t)idx, vbuf_ptr(h),
					    vbuf_ptr(canon), vbuf_len(canon));
			} else if (r == 0) {
				r = bundle_write_leaf(out, (uint64_t)idx, vbuf_ptr(h), NULL, 0);
			}
			audit_row_clear(&row);
			vbuf_free(h);
			if (r != 0)
				goto out;
			nleaves++;
			next = idx + 1;
		}
		db_res_free(res);
		res = NULL;
		if (n < AUDIT_EXPORT_PAGE)
			break;
	}
	/* The rest: checkpoints at the end of the log, and any the leaves do not reach. */
	if ((r = flush_checkpoints(&c, MERKLE_MAX_SIZE, out)) != 0 ||
	    (r = bundle_write_end(out, nleaves, (uint64_t)c.n)) != 0)
		goto out;
	r = 0;
 out:
	db_res_free(res);
	db_res_free(c.res);
	note_verifier_free(v);
	vbuf_free(canon);
	return r;
}

static int
one_note(struct db_tx *tx, const char *sql, const struct db_params *p, char **note)
{
	struct db_res *res = NULL;
	int r;

	*note = NULL;
	if ((r = db_query(tx, sql, p, &res)) != 0)
		return r;
	if (db_res_rows(res) != 1)
		r = VT_ERR_NOT_FOUND;
	else
		*note = xstrdup(db_res_text(res, 0, 0));
	db_res_free(res);
	return r;
}

int
audit_checkpoint_latest(struct db_tx *tx, char **note)
{
	struct db_params p;
	int r;

	db_params_init(&p);
	db_param_uuid(&p, db_tx_org(tx));
	r = one_note(tx, "SELECT note FROM audit_checkpoints WHERE org_id = $1 "
			 "ORDER BY size DESC LIMIT 1", &p, note);
	db_params_free(&p);
	return r;
}

int
audit_checkpoint_at(struct db_tx *tx, uint64_t size, char **note)
{
	struct db_params p;
	int r;

	db_params_init(&p);
	db_param_uuid(&p, db_tx_org(tx));
	db_param_int(&p, (int64_t)size);
	r = one_note(tx, "SELECT note FROM audit_checkpoints WHERE org_id = $1 AND size = $2", &p,
	    note);
	db_params_free(&p);
	return r;
}

static json_t *
hex_json(const uint8_t *b, size_t n)
{
	char h[2 * MERKLE_HASH_LEN + 1];

	if (n != MERKLE_HASH_LEN)
		return json_null();
	hex_encode(b, n, h);
	return json_string(h);
}

int
audit_checkpoints_list(struct db_tx *tx, uint64_t after, int limit, json_t **out,
    uint64_t *next)
{
	struct db_params p;
	struct db_res *res = NULL;
	struct vbuf *root = vbuf_new(64), *prev = vbuf_new(64);
	json_t *a = json_array();
	int r, i, n;

	*out = NULL;
	*next = 0;
	if (limit < 1 || limit > AUDIT_CHECKPOINTS_MAX)
		limit = 100;
	db_params_init(&p);
	db_param_uuid(&p, db_tx_org(tx));
	db_param_int(&p, (int64_t)after);
	db_param_int(&p, limit + 1);
	r = db_query(tx, "SELECT size, root, counter, prev_hash, "
			 DB_SQL_RFC3339("created_at") ", note FROM audit_checkpoints "
			 "WHERE org_id = $1 AND size > $2 ORDER BY size LIMIT $3", &p, &res);
	db_params_free(&p);
	if (r != 0)
		goto out;
	n = db_page_rows(res, limit);
	for (i = 0; i < n; i++) {
		int64_t size, counter;

		vbuf_reset(root);
		vbuf_reset(prev);
		if ((r = db_res_int(res, i, 0, &size)) != 0 ||
		    (r = db_res_bytes(res, i, 1, root)) != 0 ||
		    (r = db_res_int(res, i, 2, &counter)) != 0 ||
		    (!db_res_isnull(res, i, 3) && (r = db_res_bytes(res, i, 3, prev)) != 0))
			goto out;
		json_array_append_new(a, json_packx("{s:I, s:o, s:I, s:o, s:s, s:s}",
		    "size", (json_int_t)size, "root", hex_json(vbuf_ptr(root), vbuf_len(root)),
		    "counter", (json_int_t)counter, "prev_hash", db_res_isnull(res, i, 3) ?
		    json_null() : hex_json(vbuf_ptr(prev), vbuf_len(prev)),
		    "time", db_res_text(res, i, 4), "note", db_res_text(res, i, 5)));
		*next = db_res_rows(res) > limit ? (uint64_t)size : 0;
	}
	*out = a;
	a = NULL;
	r = 0;
 out:
	json_decref(a);
	db_res_free(res);
	vbuf_free(root);
	vbuf_free(prev);
	return r;
}

int
audit_log_size(struct db_tx *tx, uint64_t *size)
{
	struct db_params p;
	struct db_res *res = NULL;
	int64_t v = 0;
	int r;

	*size = 0;
	db_params_init(&p);
	db_param_uuid(&p, db_tx_org(tx));
	r = db_query(tx, "SELECT size FROM audit_log_state WHERE org_id = $1", &p, &res);
	db_params_free(&p);
	if (r == 0 && db_res_rows(res) == 1 && (r = db_res_int(res, 0, 0, &v)) == 0)
		*size = (uint64_t)v;
	db_res_free(res);
	return r;
}

/* The first `size` sequenced leaf hashes of the org; *leaves owned by the caller. */
static int
load_leaves(struct db_tx *tx, uint64_t size, uint8_t (**leaves)[MERKLE_HASH_LEN])
{
	struct db_params p;
	struct db_res *res = NULL;
	struct vbuf *h = vbuf_new(64);
	uint8_t (*l)[MERKLE_HASH_LEN] = NULL;
	int r, i;

	*leaves = NULL;
	db_params_init(&p);
	db_param_uuid(&p, db_tx_org(tx));
	db_param_int(&p, (int64_t)size);
	r = db_query(tx, "SELECT idx, leaf_hash FROM audit_index WHERE org_id = $1 AND idx < $2 "
			 "ORDER BY idx", &p, &res);
	db_params_free(&p);
	if (r != 0)
		goto out;
	if ((uint64_t)db_res_rows(res) != size) {
		r = VT_ERR_CRYPTO; /* the index has a hole: the chain is damaged */
		goto out;
	}
	l = xcalloc((size_t)size, MERKLE_HASH_LEN);
	for (i = 0; i < (int)size; i++) {
		int64_t idx;

		vbuf_reset(h);
		if ((r = db_res_int(res, i, 0, &idx)) != 0 || (r = db_res_bytes(res, i, 1, h)) != 0)
			goto out;
		if (idx != i || vbuf_len(h) != MERKLE_HASH_LEN) {
			r = VT_ERR_CRYPTO;
			goto out;
		}
		memcpy(l[i], vbuf_ptr(h), MERKLE_HASH_LEN);
	}
	*leaves = l;
	l = NULL;
	r = 0;
 out:
	free(l);
	db_res_free(res);
	vbuf_free(h);
	return r;
}

static json_t *
path_json(uint8_t path[][MERKLE_HASH_LEN], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, hex_json(path[i], MERKLE_HASH_LEN));
	return a;
}

int
audit_inclusion_proof(struct db_tx *tx, uint64_t index, uint64_t size, json_t **out)
{
	uint8_t (*leaves)[MERKLE_HASH_LEN] = NULL;
	uint8_t path[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	struct db_params p;
	struct db_res *res = NULL;
	struct vbuf *canon = vbuf_new(AUDIT_DETAIL_MAX + 4096);
	struct audit_row row;
	uint64_t have;
	size_t n;
	char *b64 = NULL;
	int r;

	*out = NULL;
	memset(&row, 0, sizeof(row));
	if ((r = audit_log_size(tx, &have)) != 0)
		goto out;
	if (size == 0 || index >= size || size > have) {
		r = VT_ERR_RANGE;
		goto out;
	}
	if (size > AUDIT_PROOF_MAX_SIZE) {
		r = VT_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = load_leaves(tx, size, &leaves)) != 0 ||
	    (r = merkle_inclusion_proof((const uint8_t (*)[MERKLE_HASH_LEN])leaves, size, index,
	    path, &n)) != 0)
		goto out;
	db_params_init(&p);
	db_param_uuid(&p, db_tx_org(tx));
	db_param_int(&p, (int64_t)index);
	r = db_query(tx, "SELECT " AUDIT_ROW_COLUMNS " FROM audit_log WHERE id = "
			 "(SELECT audit_id FROM audit_index WHERE org_id = $1 AND idx = $2)", &p,
	    &res);
	db_params_free(&p);
	if (r != 0)
		goto out;
	if (db_res_rows(res) != 1) {
		r = VT_ERR_CRYPTO; /* indexed but the row is gone: damaged */
		goto out;
	}
	if ((r = audit_row_from_res(res, 0, 0, &row)) != 0 ||
	    (r = audit_row_canonical(&row, canon)) != 0)
		goto out;
	b64 = xmalloc(b64_encoded_size(vbuf_len(canon)));
	b64_encode(vbuf_ptr(canon), vbuf_len(canon), b64, b64_encoded_size(vbuf_len(canon)));
	*out = json_packx("{s:I, s:I, s:o, s:s, s:o}", "index", (json_int_t)index, "size",
	    (json_int_t)size, "leaf_hash", hex_json(leaves[index], MERKLE_HASH_LEN), "entry", b64,
	    "path", path_json(path, n));
	r = 0;
 out:
	free(b64);
	free(leaves);
	audit_row_clear(&row);
	db_res_free(res);
	vbuf_free(canon);
	return r;
}

int
audit_consistency_proof(struct db_tx *tx, uint64_t from, uint64_t to, json_t **out)
{
	uint8_t (*leaves)[MERKLE_HASH_LEN] = NULL;
	uint8_t path[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	uint64_t have;
	size_t n;
	int r;

	*out = NULL;
	if ((r = audit_log_size(tx, &have)) != 0)
		return r;
	if (from == 0 || from > to || to > have)
		return VT_ERR_RANGE;
	if (to > AUDIT_PROOF_MAX_SIZE)
		return VT_ERR_TOO_LARGE;
	if ((r = load_leaves(tx, to, &leaves)) != 0 ||
	    (r = merkle_consistency_proof((const uint8_t (*)[MERKLE_HASH_LEN])leaves, to, from,
	    path, &n)) != 0)
		goto out;
	*out = json_packx("{s:I, s:I, s:o}", "from", (json_int_t)from, "to", (json_int_t)to,
	    "path", path_json(path, n));
 out:
	free(leaves);
	return r;
}
