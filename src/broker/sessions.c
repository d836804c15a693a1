/*
 * Reading what the broker stored (recorder.h): the list of terminal sessions a principal may
 * see, whether it may read one, and a session's recording opened chunk by chunk. Everything runs
 * in the caller's transaction, so row-level security scopes it to the caller's org; the rule
 * "members see their own sessions, org admins and owners (or tokens with audit:read) see all" is
 * applied here on top.
 */
#include "broker/cast.h"
#include "broker/recorder.h"

#include <string.h>

#include "authz/authz.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/vtime.h"
#include "crypto/envelope.h"
#include "db/keystore.h"

#define SESSION_CURSOR_MAX 80 /* "<RFC 3339 time>,<uuid>" */

/* 1: every session of the org; 0: the caller's own; VT_ERR_FORBIDDEN: none. */
static int
sees_all(const struct principal *p)
{
	if (authz_org_check(p, ORG_PERM_READ_AUDIT) == 0)
		return 1;
	if (p->kind == PRINCIPAL_USER && p->org_role >= ORG_ROLE_MEMBER)
		return 0;
	return VT_ERR_FORBIDDEN;
}

#define SESSION_COLUMNS                                                                         \
	"s.id, s.profile_id, s.profile_name, s.user_id, s.token_id, s.kind, s.command, "        \
	DB_SQL_RFC3339("s.started_at") ", " DB_SQL_RFC3339("s.ended_at") ", s.bytes_out, "      \
	"s.exit_status, (s.recorded OR EXISTS (SELECT 1 FROM recording_chunks c "               \
	"WHERE c.session_id = s.id)), s.exposures, s.bytes_in, s.end_reason, "                  \
	DB_SQL_RFC3339("s.started_at") " || ',' || s.id::text"

static json_t *
text_or_null(const struct db_res *res, int i, int col)
{
	return db_res_isnull(res, i, col) ? json_null() : json_string(db_res_text(res, i, col));
}

static json_t *
session_json(const struct db_res *res, int i)
{
	int64_t bo = 0, bi = 0, ex = 0, st = 0;
	json_t *o;

	if (db_res_int(res, i, 9, &bo) != 0 || db_res_int(res, i, 12, &ex) != 0 ||
	    db_res_int(res, i, 13, &bi) != 0)
		return NULL;
	o = json_packx("{s:s, s:o, s:s, s:o, s:o, s:s, s:o, s:s, s:o, s:I, s:I, s:b, s:I, s:o}",
	    "id", db_res_text(res, i, 0), "profile_id", text_or_null(res, i, 1), "profile_name",
	    db_res_text(res, i, 2), "user_id", text_or_null(res, i, 3), "token_id",
	    text_or_null(res, i, 4), "kind", db_res_text(res, i, 5), "command",
	    text_or_null(res, i, 6), "started_at", db_res_text(res, i, 7), "ended_at",
	    text_or_null(res, i, 8), "bytes_out", (json_int_t)bo, "bytes_in", (json_int_t)bi,
	    "recorded", db_res_bool(res, i, 11), "exposures", (json_int_t)ex, "end_reason",
	    text_or_null(res, i, 14));
	if (!db_res_isnull(res, i, 10) && db_res_int(res, i, 10, &st) == 0)
		json_object_set_new(o, "exit_status", json_integer(st));
	else
		json_object_set_new(o, "exit_status", json_null());
	return o;
}

int
terminal_session_list(struct db_tx *tx, const struct principal *p, int limit,
    const char *cursor, json_t **out)
{
	char ctime[SESSION_CURSOR_MAX + 1];
	struct vt_uuid cid;
	struct db_params prm;
	struct db_res *res = NULL;
	const char *comma;
	json_t *items, *o;
	int64_t us;
	int r, i, n, all;

	*out = NULL;
	if ((all = sees_all(p)) < 0)
		return all;
	if (limit < 1)
		return VT_ERR_INVALID;
	if (cursor != NULL) {
		/* An opaque cursor we made: "<started_at>,<id>". */
		if (strlen(cursor) > SESSION_CURSOR_MAX || (comma = strchr(cursor, ',')) == NULL ||
		    (size_t)(comma - cursor) >= sizeof(ctime) || uuid_parse(comma + 1, &cid) != 0)
			return VT_ERR_VALIDATION;
		memcpy(ctime, cursor, (size_t)(comma - cursor));
		ctime[comma - cursor] = '\0';
		if (vtime_parse_rfc3339(ctime, &us) != 0)
			return VT_ERR_VALIDATION;
	}
	db_params_init(&prm);
	db_param_uuid(&prm, all ? NULL : &p->user_id);
	db_param_text(&prm, cursor != NULL ? ctime : NULL);
	db_param_uuid(&prm, cursor != NULL ? &cid : NULL);
	db_param_int(&prm, limit + 1);
	r = db_query(tx, "SELECT " SESSION_COLUMNS " FROM terminal_sessions s "
			 "WHERE ($1::uuid IS NULL OR s.user_id = $1::uuid) AND ($2::timestamptz IS NULL "
			 "OR (s.started_at, s.id) < ($2::timestamptz, $3::uuid)) "
			 "ORDER BY s.started_at DESC, s.id DESC LIMIT $4", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	items = json_array();
	n = db_page_rows(res, limit);
	for (i = 0; i < n; i++) {
		if ((o = session_json(res, i)) == NULL) {
			json_decref(items);
			db_res_free(res);
			return VT_ERR_DB;
		}
		json_array_append_new(items, o);
	}
	*out = json_packx("{s:o, s:s?}", "items", items, "next_cursor",
	    db_page_next(res, limit, 15));
	db_res_free(res);
	return 0;
}

int
terminal_session_access(struct db_tx *tx, const struct principal *p, const struct vt_uuid *id)
{
	struct db_params prm;
	struct db_res *res = NULL;
	struct vt_uuid owner;
	int r, all;

	if ((all = sees_all(p)) < 0)
		return VT_ERR_NOT_FOUND; /* nothing says whether the session exists */
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	r = db_query(tx, "SELECT user_id FROM terminal_sessions WHERE id = $1", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		return r;
	r = VT_ERR_NOT_FOUND;
	if (db_res_rows(res) == 1) {
		if (all)
			r = 0;
		else if (!db_res_isnull(res, 0, 0) && db_res_uuid(res, 0, 0, &owner) == 0 &&
		    uuid_eq(&owner, &p->user_id))
			r = 0;
	}
	db_res_free(res);
	return r;
}

int
recording_read(struct db_tx *tx, struct keyring *kr, const struct vt_uuid *id, struct vbuf *out)
{
	struct envelope_ctx ctx;
	struct db_params prm;
	struct db_res *res = NULL;
	struct secmem *pt = NULL;
	struct vbuf *blob = vbuf_new(ENVELOPE_OVERHEAD + ENVELOPE_PLAINTEXT_MAX);
	int64_t seq;
	uint32_t kv;
	int r, i, n;

	if (db_tx_org(tx) == NULL) {
		r = VT_ERR_INTERNAL;
		goto out;
	}
	db_params_init(&prm);
	db_param_uuid(&prm, id);
	r = db_query(tx, "SELECT seq, envelope FROM recording_chunks WHERE session_id = $1 "
			 "ORDER BY seq", &prm, &res);
	db_params_free(&prm);
	if (r != 0)
		goto out;
	if ((n = db_res_rows(res)) == 0) {
		r = VT_ERR_NOT_FOUND;
		goto out;
	}
	for (i = 0; i < n; i++) {
		vbuf_reset(blob);
		if ((r = db_res_int(res, i, 0, &seq)) != 0 || (r = db_res_bytes(res, i, 1, blob)) != 0)
			goto out;
		/* Chunks are written in order from 0: a gap is a removed chunk. */
		if (seq != i) {
			log_error("a recording misses chunk %d; it is not served", i);
			r = VT_ERR_CRYPTO;
			goto out;
		}
		if (envelope_key_version(vbuf_ptr(blob), vbuf_len(blob), &kv) != 0) {
			r = VT_ERR_CRYPTO;
			goto out;
		}
		/* Re-wrapped by a rotation elsewhere: load that version rather than fail. */
		if (!keyring_has_version(kr, kv) && (r = keystore_maybe_sync(tx, kr, 1)) != 0)
			goto out;
		memset(&ctx, 0, sizeof(ctx));
		ctx.org = *db_tx_org(tx);
		ctx.kind = ENVELOPE_KIND_RECORDING_CHUNK;
		ctx.record = *id;
		ctx.version = (uint32_t)seq + 1;
		if (envelope_open(kr, &ctx, vbuf_ptr(blob), vbuf_len(blob), &pt) != 0) {
			log_error("a recording chunk does not open (wrong master key, or a tampered "
				  "or moved row)");
			r = VT_ERR_CRYPTO;
			goto out;
		}
		/* Chunks are stored zstd-compressed when that is smaller (cast_chunk_pack). */
		if (vbuf_len(out) > RECORDING_MAX) {
			r = VT_ERR_TOO_LARGE;
			goto out;
		}
		if ((r = cast_chunk_unpack(secmem_ptr(pt), secmem_len(pt),
		    RECORDING_MAX - vbuf_len(out), out)) != 0) {
			if (r == VT_ERR_INVALID) {
				log_error("a recording chunk opens but does not decompress");
				r = VT_ERR_CRYPTO;
			}
			goto out;
		}
		secmem_free(pt);
		pt = NULL;
	}
	r = 0;
 out:
	secmem_free(pt);
	db_res_free(res);
	vbuf_free(blob);
	return r;
}
