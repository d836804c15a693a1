/*
 * GET /api/audit (newest first, filterable) and GET /api/events/v1 (oldest first, by time window,
 * for incremental pulls). Both are RLS-scoped to the caller's org; cursors are opaque strings.
 */
#include "api/app.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
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
