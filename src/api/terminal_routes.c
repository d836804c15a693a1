/*
 * /api/terminal: the broker's terminal sessions and their recordings (broker/recorder.h).
 * Members see their own sessions; org admins and owners, and tokens with audit:read, see all.
 * A recording is served only after RECORDING_VIEWED is in the audit trail: the row is written in
 * the request's transaction and the body leaves after its commit (dispatch.c), so a viewing that
 * cannot be audited does not happen.
 */
#include "api/app.h"

#include <stdio.h>

#include "base/err.h"
#include "base/json.h"
#include "broker/recorder.h"

#define TERMINAL_LIST_DEFAULT 100
#define TERMINAL_LIST_MAX 500

int
api_terminal_sessions_list(struct http_req *req)
{
	const char *cursor = http_query(req, "cursor");
	json_t *out = NULL;
	int r, limit;

	if ((r = http_query_limit(req, TERMINAL_LIST_DEFAULT, TERMINAL_LIST_MAX, &limit)) != 0)
		return r;
	r = terminal_session_list(req->tx, &req->principal, limit, cursor, &out);
	if (r == VT_ERR_VALIDATION)
		return http_fail(req, r, "query 'cursor': is not a valid cursor");
	if (r == VT_ERR_FORBIDDEN)
		return http_fail(req, r, "API tokens need the audit:read scope to list sessions");
	if (r != 0)
		return http_fail(req, r, NULL);
	http_reply_json(req, 200, out);
	return 0;
}

int
api_terminal_recording(struct http_req *req)
{
	struct app *app = req->app;
	struct audit_actor who;
	struct vt_uuid id;
	struct vbuf *cast = NULL;
	const char *text;
	char sid[UUID_STR_LEN + 1];
	json_t *d = NULL;
	int r;

	if ((r = http_param_uuid(req, 0, &id)) != 0)
		return r;
	if ((r = terminal_session_access(req->tx, &req->principal, &id)) != 0)
		return http_fail(req, r, r == VT_ERR_NOT_FOUND ? "no such session" : NULL);
	cast = vbuf_new(RECORDING_MAX + 1);
	r = recording_read(req->tx, app->keyring, &id, cast);
	if (r == VT_ERR_NOT_FOUND) {
		r = http_fail(req, r, "this session has no recording (recording was off, or it "
				      "had no output)");
		goto out;
	}
	if (r == VT_ERR_CRYPTO) {
		r = http_fail(req, VT_ERR_INTERNAL, "the recording does not decrypt (a chunk is "
						    "missing, tampered with or under an unknown key)");
		goto out;
	}
	if (r != 0 || (r = vbuf_cstr(cast, &text)) != 0) {
		r = http_fail(req, r, NULL);
		goto out;
	}
	api_actor(req, &who);
	uuid_format(&id, sid);
	d = json_packx("{s:I}", "bytes", (json_int_t)vbuf_len(cast));
	if ((r = audit_record(req->tx, &who, "RECORDING_VIEWED", "terminal_session", sid,
	    AUDIT_SUCCESS, d)) != 0) {
		r = http_fail(req, r, "the viewing could not be audited; the recording is not served");
		goto out;
	}
	http_reply_text(req, 200, "application/x-asciicast", text);
	r = 0;
 out:
	json_decref(d);
	vbuf_free(cast);
	return r;
}
