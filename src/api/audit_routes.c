/*
 * GET /api/audit (newest first, filterable) and GET /api/events/v1 (oldest first, by time window,
 * for incremental pulls). Both are RLS-scoped to the caller's org; cursors are opaque strings.
 */
#include "api/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/export.h"
#include "audit/signing.h"
#include "crypto/note.h"
#include "authz/authz.h"
#include "base/err.h"
#include "base/num.h"
#include "base/vtime.h"

static int
parse_cursor(struct http_req *req, struct audit_filter *f)
{
	const char *c = http_query(req, "cursor");
	uint64_t v;

	if (c == NULL)
		return 0;
	if (num_parse_u64(c, 1, (uint64_t)INT64_MAX, &v) != 0)
		return http_fail(req, VT_ERR_VALIDATION, "query 'cursor': is not a valid cursor");
	f->cursor_seq = (int64_t)v;
	return 0;
}

static int
parse_time(struct http_req *req, const char *name, int64_t *us, int *is_date)
{
	const char *s = http_query(req, name);

	*is_date = 0;
	if (s == NULL)
		return 1;
	if (vtime_parse_rfc3339(s, us) != 0) {
		http_fail(req, VT_ERR_VALIDATION, "query '%s': must be an RFC 3339 time or a date "
						  "(YYYY-MM-DD)", name);
		return -1;
	}
	*is_date = strlen(s) == 10;
	return 0;
}

static int
action_ok(const char *a)
{
	size_t i, n = strlen(a);

	if (n < 2 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((a[i] >= 'A' && a[i] <= 'Z') || (a[i] >= '0' && a[i] <= '9') || a[i] == '_'))
			return 0;
	return 1;
}

static json_t *
next_cursor(int64_t seq)
{
	char buf[24];

	if (seq == 0)
		return json_null();
	snprintf(buf, sizeof(buf), "%lld", (long long)seq);
	return json_string(buf);
}

int
api_audit_list(struct http_req *req)
{
	struct audit_filter f;
	struct audit_row *rows = NULL;
	struct vt_uuid actor;
	const char *s;
	json_t *items;
	int64_t next;
	int r, n, i, is_date, t;

	if ((r = api_require(req, ORG_PERM_READ_AUDIT)) != 0)
		return r;
	memset(&f, 0, sizeof(f));
	if ((s = http_query(req, "action")) != NULL) {
		if (!action_ok(s))
			return http_fail(req, VT_ERR_VALIDATION, "query 'action': must be an "
								 "UPPER_SNAKE action name");
		f.action = s;
	}
	if ((s = http_query(req, "actor")) != NULL) {
		if (uuid_parse(s, &actor) == 0)
			f.actor = &actor;
		else if (strchr(s, '@') != NULL && strlen(s) <= AUTH_EMAIL_MAX)
			f.actor_email = s;
		else
			return http_fail(req, VT_ERR_VALIDATION, "query 'actor': must be a user or "
								 "token id, or an e-mail");
	}
	if ((s = http_query(req, "resource")) != NULL) {
		if (strlen(s) > 128)
			return http_fail(req, VT_ERR_VALIDATION, "query 'resource': too long");
		f.resource = s;
	}
	if ((t = parse_time(req, "after", &f.after_us, &is_date)) < 0)
		return req->err;
	f.has_after = t == 0;
	if ((r = http_query_limit(req, AUDIT_LIST_DEFAULT, AUDIT_LIST_MAX, &f.limit)) != 0 ||
	    (r = parse_cursor(req, &f)) != 0)
		return r;
	if ((r = audit_list(req->tx, &f, &rows, &n, &next)) != 0)
		return http_fail(req, r, NULL);
	items = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(items, audit_row_json(&rows[i]));
	audit_rows_free(rows, n);
	http_reply_json(req, 200, json_packx("{s:o, s:o}", "items", items, "next_cursor",
	    next_cursor(next)));
	return 0;
}

int
api_events_list(struct http_req *req)
{
	struct audit_filter f;
	struct audit_row *rows = NULL;
	json_t *events;
	int64_t next;
	int r, n, i, is_date, t;

	if ((r = api_require(req, ORG_PERM_READ_AUDIT)) != 0)
		return r;
	memset(&f, 0, sizeof(f));
	f.ascending = 1;
	if ((t = parse_time(req, "from", &f.after_us, &is_date)) < 0)
		return req->err;
	if (t == 0) {
		f.has_after = 1;
		f.after_us -= 1; /* `from` is inclusive */
	}
	if ((t = parse_time(req, "to", &f.before_us, &is_date)) < 0)
		return req->err;
	if (t == 0) {
		f.has_before = 1;
		if (is_date)
			f.before_us += 86400LL * 1000000; /* a date means through that whole day */
	}
	if ((r = http_query_limit(req, AUDIT_LIST_DEFAULT, AUDIT_LIST_MAX, &f.limit)) != 0 ||
	    (r = parse_cursor(req, &f)) != 0)
		return r;
	if ((r = audit_list(req->tx, &f, &rows, &n, &next)) != 0)
		return http_fail(req, r, NULL);
	events = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(events, audit_row_event_json(&rows[i]));
	audit_rows_free(rows, n);
	http_reply_json(req, 200, json_packx("{s:o, s:o}", "events", events, "next_cursor",
	    next_cursor(next)));
	return 0;
}

/* ---- the chain: checkpoints, proofs, export, public key (docs/audit.md §7) ------------------ */

/* Query parameter name as a u64 in [min, max]; *set = 0 when absent. */
static int
query_u64(struct http_req *req, const char *name, uint64_t min, uint64_t max, uint64_t *v,
    int *set)
{
	const char *s = http_query(req, name);

	*set = 0;
	*v = 0;
	if (s == NULL)
		return 0;
	if (num_parse_u64(s, min, max, v) != 0)
		return http_fail(req, VT_ERR_VALIDATION, "query '%s': must be a number between "
		    "%llu and %llu", name, (unsigned long long)min, (unsigned long long)max);
	*set = 1;
	return 0;
}

int
api_audit_checkpoints(struct http_req *req)
{
	char buf[24];
	json_t *items = NULL;
	uint64_t after, next;
	int r, limit, set;

	if ((r = api_require(req, ORG_PERM_READ_AUDIT)) != 0)
		return r;
	if ((r = http_query_limit(req, 100, AUDIT_CHECKPOINTS_MAX, &limit)) != 0 ||
	    (r = query_u64(req, "cursor", 1, MERKLE_MAX_SIZE, &after, &set)) != 0)
		return r;
	if ((r = audit_checkpoints_list(req->tx, after, limit, &items, &next)) != 0)
		return http_fail(req, r, NULL);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)next);
	http_reply_json(req, 200, json_packx("{s:o, s:o}", "checkpoints", items, "next_cursor",
	    next > 0 ? json_string(buf) : json_null()));
	return 0;
}

int
api_audit_checkpoint_latest(struct http_req *req)
{
	char *note = NULL;
	int r;

	if ((r = api_require(req, ORG_PERM_READ_AUDIT)) != 0)
		return r;
	if ((r = audit_checkpoint_latest(req->tx, &note)) != 0)
		return http_fail(req, r, r == VT_ERR_NOT_FOUND ? "no checkpoint yet: the log is "
		    "sealed within AUDIT_CHECKPOINT_INTERVAL_MS of its first row" : NULL);
	http_reply_text(req, 200, "text/plain; charset=utf-8", note);
	free(note);
	return 0;
}

int
api_audit_proof_inclusion(struct http_req *req)
{
	json_t *out = NULL;
	uint64_t index, size, have;
	int r, iset, sset;

	if ((r = api_require(req, ORG_PERM_READ_AUDIT)) != 0)
		return r;
	if ((r = query_u64(req, "index", 0, MERKLE_MAX_SIZE - 1, &index, &iset)) != 0 ||
	    (r = query_u64(req, "size", 1, MERKLE_MAX_SIZE, &size, &sset)) != 0)
		return r;
	if (!iset)
		return http_fail(req, VT_ERR_VALIDATION, "query 'index': is required");
	if (!sset) {
		if ((r = audit_log_size(req->tx, &have)) != 0)
			return http_fail(req, r, NULL);
		size = have;
	}
	r = audit_inclusion_proof(req->tx, index, size, &out);
	if (r == VT_ERR_RANGE)
		return http_fail(req, VT_ERR_VALIDATION, "index must be below size, and size at "
		    "most the log's sequenced size");
	if (r != 0)
		return http_fail(req, r, r == VT_ERR_TOO_LARGE ? "size: too large to prove "
		    "online; use the export bundle" : NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_audit_proof_consistency(struct http_req *req)
{
	json_t *out = NULL;
	uint64_t from, to;
	int r, fset, tset;

	if ((r = api_require(req, ORG_PERM_READ_AUDIT)) != 0)
		return r;
	if ((r = query_u64(req, "from", 1, MERKLE_MAX_SIZE, &from, &fset)) != 0 ||
	    (r = query_u64(req, "to", 1, MERKLE_MAX_SIZE, &to, &tset)) != 0)
		return r;
	if (!fset || !tset)
		return http_fail(req, VT_ERR_VALIDATION, "query 'from' and 'to': are required");
	r = audit_consistency_proof(req->tx, from, to, &out);
	if (r == VT_ERR_RANGE)
		return http_fail(req, VT_ERR_VALIDATION, "need 0 < from <= to <= the log's "
		    "sequenced size");
	if (r != 0)
		return http_fail(req, r, r == VT_ERR_TOO_LARGE ? "to: too large to prove online; "
		    "use the export bundle" : NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_audit_export(struct http_req *req)
{
	struct app *app = req->app;
	struct vbuf *b = vbuf_new((size_t)1 << 30);
	const char *s;
	int r;

	if ((r = api_require(req, ORG_PERM_READ_AUDIT)) != 0)
		goto out;
	if ((r = audit_export(req->tx, app->audit_keys, b)) != 0 ||
	    (r = vbuf_cstr(b, &s)) != 0) {
		r = http_fail(req, r, r == VT_ERR_TOO_LARGE ? "the log is larger than one export "
		    "(1 GiB)" : NULL);
		goto out;
	}
	http_reply_text(req, 200, "text/plain; charset=utf-8", s);
 out:
	vbuf_free(b);
	return r;
}

int
api_audit_public_key(struct http_req *req)
{
	struct app *app = req->app;
	char origin[AUDIT_ORIGIN_MAX + 1], vkey[NOTE_VKEY_MAX + 1];
	struct note_verifier *v = NULL;
	int r;

	if ((r = api_require(req, ORG_PERM_READ_AUDIT)) != 0)
		return r;
	if ((r = audit_keys_verifier(app->audit_keys, db_tx_org(req->tx), &v)) != 0)
		return http_fail(req, r, NULL);
	note_verifier_format(v, vkey);
	note_verifier_free(v);
	audit_origin(app->audit_keys, db_tx_org(req->tx), origin);
	http_reply_json(req, 200, json_packx("{s:s, s:s, s:s}", "origin", origin, "public_key",
	    vkey, "algorithm", "ed25519"));
	return 0;
}
