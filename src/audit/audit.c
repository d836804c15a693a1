/*
 * Audit append and read. The detail object is stored in its canonical JSON text (compact, sorted
 * keys) so the bytes the chain hashes are exactly the bytes written. Reads are keyset-paginated on
 * seq, which is assigned at insert and never reused.
 */
#include "audit/audit.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/vtime.h"

const char *
audit_actor_type_str(enum audit_actor_type t)
{
	switch (t) {
	case AUDIT_ACTOR_USER:
		return "user";
	case AUDIT_ACTOR_API_TOKEN:
		return "api_token";
	case AUDIT_ACTOR_SYSTEM:
		return "system";
	case AUDIT_ACTOR_ANONYMOUS:
		return "anonymous";
	}
	return "system";
}

const char *
audit_outcome_str(enum audit_outcome o)
{
	switch (o) {
	case AUDIT_SUCCESS:
		return "success";
	case AUDIT_FAILURE:
		return "failure";
	case AUDIT_DENIED:
		return "denied";
	}
	return "failure";
}

static int
action_valid(const char *a)
{
	size_t i, n = a != NULL ? strlen(a) : 0;

	if (n < 2 || n > 64 || a[0] < 'A' || a[0] > 'Z')
		return 0;
	for (i = 0; i < n; i++)
		if (!((a[i] >= 'A' && a[i] <= 'Z') || (a[i] >= '0' && a[i] <= '9') || a[i] == '_'))
			return 0;
	return 1;
}

static void
event_params(const struct audit_event *ev, const struct vt_uuid *id, char *detail,
    struct db_params *p)
{
	db_params_init(p);
	db_param_uuid(p, id);
	db_param_text(p, audit_actor_type_str(ev->actor_type));
	db_param_uuid(p, ev->actor_id);
	db_param_text(p, ev->actor_email);
	db_param_text(p, ev->action);
	db_param_text(p, ev->resource_type);
	db_param_text(p, ev->resource_id);
	db_param_text(p, audit_outcome_str(ev->outcome));
	db_param_text(p, ev->source_ip);
	db_param_text(p, ev->request_id);
	db_param_text(p, detail);
}

static int
audit_insert(struct db_tx *tx, const struct audit_event *ev, int system)
{
	struct db_params p;
	struct vt_uuid id;
	char *detail;
	int r;

	if (!action_valid(ev->action))
		return VT_ERR_INTERNAL;
	if (ev->detail != NULL && !json_is_object(ev->detail))
		return VT_ERR_INTERNAL;
	detail = ev->detail != NULL ? json_dump_canonical(ev->detail) : xstrdup("{}");
	if (strlen(detail) > AUDIT_DETAIL_MAX) {
		free(detail);
		return VT_ERR_TOO_LARGE;
	}
	uuid_random(&id);
	event_params(ev, &id, detail, &p);
	if (system) {
		r = db_query(tx, "SELECT vt_audit_append_system($1, $2, $3, $4, $5, $6, $7, $8, $9, "
				 "$10, $11)", &p, NULL);
	} else {
		db_param_uuid(&p, db_tx_org(tx));
		r = db_query(tx, "INSERT INTO audit_log (id, actor_type, actor_id, actor_email, "
				 "action, resource_type, resource_id, outcome, source_ip, request_id, "
				 "detail, org_id) "
				 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", &p, NULL);
	}
	db_params_free(&p);
	free(detail);
	if (r != 0)
		log_error("audit append of %s failed; the action is refused", ev->action);
	return r;
}

int
audit_append(struct db_tx *tx, const struct audit_event *ev)
{
	if (db_tx_org(tx) == NULL)
		return VT_ERR_INTERNAL; /* a tenant event without a tenant is a bug: fail closed */
	return audit_insert(tx, ev, 0);
}

int
audit_record(struct db_tx *tx, const struct audit_actor *who, const char *action,
    const char *resource_type, const char *resource_id, enum audit_outcome outcome,
    const json_t *detail)
{
	struct audit_event ev = {
		.action = action,
		.actor_type = who->type,
		.actor_id = who->has_id ? &who->id : NULL,
		.actor_email = who->email,
		.resource_type = resource_type,
		.resource_id = resource_id,
		.outcome = outcome,
		.source_ip = who->source_ip,
		.request_id = who->request_id,
		.detail = detail,
	};

	return audit_append(tx, &ev);
}

int
audit_append_system(struct db_tx *tx, const struct audit_event *ev)
{
	return audit_insert(tx, ev, 1);
}

static char *
col_dup(const struct db_res *res, int row, int col)
{
	return db_res_isnull(res, row, col) ? NULL : xstrdup(db_res_text(res, row, col));
}

void
audit_rows_free(struct audit_row *rows, int n)
{
	int i;

	if (rows == NULL)
		return;
	for (i = 0; i < n; i++)
		audit_row_clear(&rows[i]);
	free(rows);
}

int
audit_row_from_res(const struct db_res *res, int i, int c, struct audit_row *a)
{
	int r;

	if ((r = db_res_uuid(res, i, c, &a->id)) != 0 ||
	    (r = db_res_int(res, i, c + 2, &a->time_us)) != 0)
		return r;
	a->has_org = !db_res_isnull(res, i, c + 1);
	if (a->has_org && (r = db_res_uuid(res, i, c + 1, &a->org)) != 0)
		return r;
	a->has_actor_id = !db_res_isnull(res, i, c + 4);
	if (a->has_actor_id && (r = db_res_uuid(res, i, c + 4, &a->actor_id)) != 0)
		return r;
	a->actor_type = col_dup(res, i, c + 3);
	a->actor_email = col_dup(res, i, c + 5);
	a->action = col_dup(res, i, c + 6);
	a->resource_type = col_dup(res, i, c + 7);
	a->resource_id = col_dup(res, i, c + 8);
	a->outcome = col_dup(res, i, c + 9);
	a->source_ip = col_dup(res, i, c + 10);
	a->request_id = col_dup(res, i, c + 11);
	a->detail = col_dup(res, i, c + 12);
	return 0;
}

void
audit_row_clear(struct audit_row *a)
{
	free(a->actor_type);
	free(a->actor_email);
	free(a->action);
	free(a->resource_type);
	free(a->resource_id);
	free(a->outcome);
	free(a->source_ip);
	free(a->request_id);
	free(a->detail);
	memset(a, 0, sizeof(*a));
}

int
audit_list(struct db_tx *tx, const struct audit_filter *f, struct audit_row **rows, int *n,
    int64_t *next_seq)
{
	struct db_params p;
	struct db_res *res = NULL;
	struct audit_row *out = NULL;
	char *sql = NULL;
	int limit = f->limit > 0 && f->limit <= AUDIT_LIST_MAX ? f->limit : AUDIT_LIST_DEFAULT;
	int r, i, nrows;

	*rows = NULL;
	*n = 0;
	*next_seq = 0;
	if (db_tx_org(tx) == NULL)
		return VT_ERR_INTERNAL;
	db_params_init(&p);
	db_param_text(&p, f->action);
	db_param_uuid(&p, f->actor);
	db_param_text(&p, f->actor_email);
	db_param_text(&p, f->resource);
	if (f->has_after)
		db_param_int(&p, f->after_us);
	else
		db_param_text(&p, NULL);
	if (f->has_before)
		db_param_int(&p, f->before_us);
	else
		db_param_text(&p, NULL);
	db_param_int(&p, f->cursor_seq);
	db_param_int(&p, limit + 1);
	/* RLS scopes the rows; the explicit org filter only helps the index. */
	sql = xasprintf(
	    "SELECT id, org_id, (extract(epoch FROM time) * 1000000)::bigint, actor_type, actor_id, "
	    " actor_email, action, resource_type, resource_id, outcome, source_ip, request_id, "
	    " detail, seq, (SELECT x.idx FROM audit_index x WHERE x.audit_id = audit_log.id) "
	    "FROM audit_log WHERE org_id = vt_current_org() "
	    " AND ($1::text IS NULL OR action = $1) "
	    " AND ($2::uuid IS NULL OR actor_id = $2) "
	    " AND ($3::text IS NULL OR actor_email = lower($3)) "
	    " AND ($4::text IS NULL OR resource_id = $4) "
	    " AND ($5::bigint IS NULL OR time > to_timestamp($5::bigint / 1000000.0)) "
	    " AND ($6::bigint IS NULL OR time < to_timestamp($6::bigint / 1000000.0)) "
	    " AND ($7::bigint = 0 OR seq %s $7) "
	    "ORDER BY seq %s LIMIT $8",
	    f->ascending ? ">" : "<", f->ascending ? "ASC" : "DESC");
	r = db_query(tx, sql, &p, &res);
	db_params_free(&p);
	free(sql);
	if (r != 0)
		return r;
	nrows = db_res_rows(res);
	if (nrows > limit)
		nrows = limit;
	out = xcalloc((size_t)(nrows > 0 ? nrows : 1), sizeof(*out));
	for (i = 0; i < nrows; i++) {
		out[i].index = -1;
		if ((r = audit_row_from_res(res, i, 0, &out[i])) != 0 ||
		    (r = db_res_int(res, i, 13, &out[i].seq)) != 0 ||
		    (!db_res_isnull(res, i, 14) && (r = db_res_int(res, i, 14, &out[i].index)) != 0))
			goto fail;
	}
	if (db_res_rows(res) > limit)
		*next_seq = out[nrows - 1].seq;
	db_res_free(res);
	*rows = out;
	*n = nrows;
	return 0;
 fail:
	db_res_free(res);
	audit_rows_free(out, nrows);
	return r;
}

static int
put_opt_string(struct vbuf *b, const char *s)
{
	if (s == NULL)
		return vbuf_put_u32(b, 0xffffffffu);
	return vbuf_put_string(b, s, strlen(s));
}

static int
put_opt_uuid(struct vbuf *b, int present, const struct vt_uuid *u)
{
	if (!present)
		return vbuf_put_u32(b, 0xffffffffu);
	return vbuf_put_string(b, u->b, 16);
}

int
audit_row_canonical(const struct audit_row *row, struct vbuf *out)
{
	int r;

	if ((r = vbuf_put(out, AUDIT_CANONICAL_MAGIC, strlen(AUDIT_CANONICAL_MAGIC))) != 0 ||
	    (r = put_opt_uuid(out, 1, &row->id)) != 0 ||
	    (r = put_opt_uuid(out, row->has_org, &row->org)) != 0 ||
	    (r = vbuf_put_u64(out, (uint64_t)row->time_us)) != 0 ||
	    (r = put_opt_string(out, row->actor_type)) != 0 ||
	    (r = put_opt_uuid(out, row->has_actor_id, &row->actor_id)) != 0 ||
	    (r = put_opt_string(out, row->actor_email)) != 0 ||
	    (r = put_opt_string(out, row->action)) != 0 ||
	    (r = put_opt_string(out, row->resource_type)) != 0 ||
	    (r = put_opt_string(out, row->resource_id)) != 0 ||
	    (r = put_opt_string(out, row->outcome)) != 0 ||
	    (r = put_opt_string(out, row->source_ip)) != 0 ||
	    (r = put_opt_string(out, row->request_id)) != 0 ||
	    (r = put_opt_string(out, row->detail)) != 0)
		return r;
	return 0;
}

static json_t *
detail_json(const char *detail)
{
	json_t *d = detail != NULL ? json_loads(detail, 0, NULL) : NULL;

	return d != NULL ? d : json_object();
}

static json_t *
actor_json(const struct audit_row *row)
{
	char id[UUID_STR_LEN + 1];
	json_t *a = json_object();

	json_object_set_new(a, "type", json_string(row->actor_type));
	if (row->has_actor_id) {
		uuid_format(&row->actor_id, id);
		json_object_set_new(a, "id", json_string(id));
	} else {
		json_object_set_new(a, "id", json_null());
	}
	if (row->actor_email != NULL)
		json_object_set_new(a, "email", json_string(row->actor_email));
	return a;
}

static json_t *
resource_json(const struct audit_row *row)
{
	if (row->resource_type == NULL && row->resource_id == NULL)
		return json_null();
	return json_packx("{s:s?, s:s?}", "type", row->resource_type, "id", row->resource_id);
}

json_t *
audit_row_json(const struct audit_row *row)
{
	char id[UUID_STR_LEN + 1], t[VTIME_RFC3339_LEN];

	uuid_format(&row->id, id);
	vtime_format_rfc3339(row->time_us, t);
	/* "index" is the row's position in its org's Merkle log, assigned by the sequencer. */
	return json_packx("{s:s, s:o, s:s, s:s, s:o, s:o, s:s, s:s?, s:s?, s:o}", "id", id, "index",
	    row->index >= 0 ? json_integer((json_int_t)row->index) : json_null(), "time", t, "action", row->action, "actor", actor_json(row), "resource",
	    resource_json(row), "outcome", row->outcome, "source_ip", row->source_ip, "request_id",
	    row->request_id, "detail", detail_json(row->detail));
}

json_t *
audit_row_event_json(const struct audit_row *row)
{
	const struct audit_catalog_entry *c = audit_catalog_lookup(row->action);
	char t[VTIME_RFC3339_LEN], id[UUID_STR_LEN + 1];

	uuid_format(&row->id, id);
	vtime_format_rfc3339(row->time_us, t);
	return json_packx("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s?, s:o, s:s}", "id", id,
	    "action", row->action, "title", c->title, "category", c->category, "severity",
	    c->severity, "actor", actor_json(row), "resource", resource_json(row), "outcome",
	    row->outcome, "source_ip", row->source_ip, "detail", detail_json(row->detail),
	    "timestamp", t);
}
