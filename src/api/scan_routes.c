/*
 * POST /api/vault/scan {text}: runs the exposure scanner over a caller's text — the compiled rules
 * and the caller's org's vault fingerprints — and answers where credentials are, never what they
 * are: rule id, severity and byte offsets into the UTF-8 text, plus the secret id and field of a
 * fingerprint hit only when the caller may read that secret's metadata. A scan that finds
 * anything writes one CREDENTIAL_EXPOSURE_DETECTED row in the request's transaction, so the reply
 * is sent only if that row commits (docs/scanner-server.md).
 */
#include "api/app.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "authz/authz.h"
#include "base/err.h"
#include "base/json.h"
#include "scan/scan.h"
#include "vault/fpcache.h"
#include "vault/vault.h"

struct finding {
	char rule_id[SCAN_RULE_ID_MAX + 1];
	enum scan_severity severity;
	uint64_t start, end;
	int is_fp;                         /* a vault fingerprint: secret and field are set */
	struct vt_uuid secret;
	char field[VAULT_FP_FIELD_MAX + 1];
	int readable;                      /* the caller may read the secret's metadata */
	int dropped;                       /* inside another hit of the same value */
};

struct scan_ctx {
	struct finding *f;                 /* API_SCAN_FINDINGS_MAX entries */
	size_t n;                          /* listed */
	uint64_t total;                    /* found, listed or not */
	int unlisted;                      /* some were found beyond API_SCAN_FINDINGS_MAX */
	int bad_label;
};

static int
same_value(const struct finding *a, const struct finding *b)
{
	return a->is_fp && b->is_fp && uuid_eq(&a->secret, &b->secret) &&
	    strcmp(a->field, b->field) == 0;
}

static int
on_match(void *ud, const struct scan_match *m)
{
	struct scan_ctx *c = ud;
	struct finding *f;
	size_t i, n;

	c->total++;
	if (c->n == API_SCAN_FINDINGS_MAX) {
		c->unlisted = 1; /* counted, not listed */
		return 0;
	}
	f = &c->f[c->n];
	memset(f, 0, sizeof(*f));
	n = strnlen(m->rule_id, SCAN_RULE_ID_MAX);
	memcpy(f->rule_id, m->rule_id, n);
	f->severity = m->severity;
	f->start = m->start;
	f->end = m->end;
	if (m->rule == NULL) {
		f->is_fp = 1;
		if (vault_fp_label_parse(m->label, &f->secret, f->field) != 0) {
			c->bad_label = 1; /* not a label we made: fail the request below */
			return 0;
		}
	}
	/* The same finding twice (e.g. a value and its trimmed form at one place): list it once. */
	for (i = 0; i < c->n; i++) {
		if (strcmp(c->f[i].rule_id, f->rule_id) == 0 && c->f[i].start == f->start &&
		    c->f[i].end == f->end && c->f[i].is_fp == f->is_fp &&
		    (!f->is_fp || same_value(&c->f[i], f))) {
			c->total--;
			return 0;
		}
	}
	c->n++;
	return 0;
}

static int
finding_cmp(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1; /* the longer one first */
	return strcmp(x->rule_id, y->rule_id);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A value found with and without its surrounding whitespace at one place is one leak: the hit
 * inside another hit of the same stored value is dropped.
 */
static void
drop_nested(struct scan_ctx *c)
{
	size_t i, j;

	for (i = 0; i < c->n; i++) {
		for (j = 0; j < c->n; j++) {
			if (i != j && !c->f[j].dropped && same_value(&c->f[i], &c->f[j]) &&
			    c->f[j].start <= c->f[i].start && c->f[i].end <= c->f[j].end &&
			    (c->f[j].end - c->f[j].start) > (c->f[i].end - c->f[i].start)) {
				c->f[i].dropped = 1;
				c->total--;
				break;
			}
		}
	}
}

/* Marks the fingerprint findings whose secret the caller may read. */
static int
mark_readable(struct http_req *req, struct scan_ctx *c)
{
	struct vt_uuid *ids = NULL;
	int *ok = NULL;
	size_t i, j, k = 0;
	int r;

	ids = xcalloc(c->n + 1, sizeof(*ids));
	ok = xcalloc(c->n + 1, sizeof(*ok));
	for (i = 0; i < c->n; i++) {
		if (!c->f[i].is_fp || c->f[i].dropped)
			continue;
		for (j = 0; j < k && !uuid_eq(&ids[j], &c->f[i].secret); j++)
			;
		if (j == k)
			ids[k++] = c->f[i].secret;
	}
	if ((r = vault_secrets_readable(req->tx, &req->principal, ids, k, ok)) == 0) {
		for (i = 0; i < c->n; i++) {
			for (j = 0; c->f[i].is_fp && j < k; j++) {
				if (uuid_eq(&ids[j], &c->f[i].secret))
					c->f[i].readable = ok[j];
			}
		}
	}
	free(ids);
	free(ok);
	return r;
}

/* The body: one object {text}, where text is any JSON string — U+0000 included. */
static int
scan_body(struct http_req *req, json_t **out)
{
	static const struct jfield fields[] = {
		{ "text", JF_STRING, 1, 0, (int64_t)HTTP_BODY_MAX_AUTH },
	};
	const char *type = http_header(req, "Content-Type");
	char err[JSON_ERR_MAX];
	json_error_t je;
	json_t *v;
	int r;

	*out = NULL;
	if (type == NULL || strncasecmp(type, "application/json", 16) != 0 ||
	    (type[16] != '\0' && type[16] != ';' && type[16] != ' '))
		return http_fail(req, VT_ERR_MEDIA_TYPE, "the request body must be sent as "
							 "Content-Type: application/json");
	/*
	 * Not http_body_json: terminal output may hold NUL, so "\u0000" is allowed in strings here
	 * (the text is handled by length, never as a C string). Errors give a position only:
	 * jansson's message quotes the input, which may be a secret.
	 */
	v = json_loadb((const char *)vbuf_ptr(req->body), vbuf_len(req->body),
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (v == NULL)
		return http_fail(req, VT_ERR_INVALID, "malformed JSON at line %d column %d", je.line,
		    je.column);
	if (!json_is_object(v)) {
		json_decref(v);
		return http_fail(req, VT_ERR_INVALID, "the request body must be a JSON object");
	}
	if ((r = json_check(v, fields, VT_NELEM(fields), err)) != 0) {
		json_decref(v);
		return http_fail(req, r, "%s", err);
	}
	*out = v;
	return 0;
}

/* {findings, count, truncated} and, when something was found, the audit row. */
static int
scan_reply(struct http_req *req, struct scan_ctx *c, json_t **out)
{
	const char *rules[API_SCAN_FINDINGS_MAX], *sids[API_SCAN_FINDINGS_MAX];
	char (*sidbuf)[UUID_STR_LEN + 1] = xcalloc(c->n + 1, sizeof(*sidbuf));
	struct audit_actor who;
	json_t *items = json_array(), *jr = NULL, *js = NULL, *detail = NULL;
	size_t i, j, nrules = 0, nsids = 0;
	int r = 0;

	*out = NULL;
	qsort(c->f, c->n, sizeof(*c->f), finding_cmp);
	for (i = 0; i < c->n; i++) {
		struct finding *f = &c->f[i];
		json_t *o;

		if (f->dropped)
			continue;
		o = json_packx("{s:s, s:s, s:I, s:I}", "rule_id", f->rule_id, "severity",
		    scan_severity_str(f->severity), "start", (json_int_t)f->start, "end",
		    (json_int_t)f->end);
		if (f->is_fp && f->readable) {
			char *sid = sidbuf[nsids];

			uuid_format(&f->secret, sid);
			json_object_set_new(o, "secret_id", json_string(sid));
			json_object_set_new(o, "field", json_string(f->field));
			/* Each readable secret once in the audit detail. */
			for (j = 0; j < nsids && strcmp(sids[j], sid) != 0; j++)
				;
			if (j == nsids)
				sids[nsids++] = sid;
		}
		json_array_append_new(items, o);
		for (j = 0; j < nrules && strcmp(rules[j], f->rule_id) != 0; j++)
			;
		if (j == nrules)
			rules[nrules++] = f->rule_id;
	}
	if (c->total > 0) {
		char oid[UUID_STR_LEN + 1];

		qsort(rules, nrules, sizeof(rules[0]), str_cmp);
		jr = json_array();
		for (i = 0; i < nrules; i++)
			json_array_append_new(jr, json_string(rules[i]));
		qsort(sids, nsids, sizeof(sids[0]), str_cmp);
		js = json_array();
		for (i = 0; i < nsids; i++)
			json_array_append_new(js, json_string(sids[i]));
		detail = json_packx("{s:s, s:O, s:O, s:I}", "source", "api", "rules", jr,
		    "secret_ids", js, "count", (json_int_t)c->total);
		uuid_format(&req->principal.org_id, oid);
		api_actor(req, &who);
		/* In the request's transaction: no committed row, no answer (fail closed). */
		r = audit_record(req->tx, &who, "CREDENTIAL_EXPOSURE_DETECTED", "org", oid,
		    AUDIT_SUCCESS, detail);
	}
	if (r == 0)
		*out = json_packx("{s:O, s:I, s:b}", "findings", items, "count",
		    (json_int_t)c->total, "truncated", c->unlisted);
	json_decref(items);
	json_decref(jr);
	json_decref(js);
	json_decref(detail);
	free(sidbuf);
	return r;
}

int
api_vault_scan(struct http_req *req)
{
	struct app *app = req->app;
	struct vault_fpref *fps = NULL;
	struct scan_ctx c;
	json_t *body = NULL, *out = NULL;
	int r;

	memset(&c, 0, sizeof(c));
	/* Any member of the org; a token needs a vault scope (vault:read, or vault:write). */
	if (req->principal.kind == PRINCIPAL_API_TOKEN &&
	    authz_vault_effective(&req->principal, VAULT_ROLE_NONE) < VAULT_ROLE_VIEWER)
		return http_fail(req, VT_ERR_FORBIDDEN, "scanning needs an API token with the "
							"vault:read scope");
	if (app->scan_db == NULL)
		return http_fail(req, VT_ERR_UNAVAILABLE, NULL);
	if ((r = scan_body(req, &body)) != 0)
		return r;
	if ((r = vault_fpset_acquire(app->fpcache, req->tx, app->keyring, &fps)) != 0)
		goto out;
	c.f = xcalloc(API_SCAN_FINDINGS_MAX, sizeof(*c.f));
	{
		const json_t *t = json_object_get(body, "text");

		r = scan_buffer(app->scan_db, vault_fpref_set(fps), json_string_value(t),
		    json_string_length(t), on_match, &c);
	}
	if (r == 0 && c.bad_label)
		r = VT_ERR_INTERNAL;
	if (r != 0)
		goto out;
	drop_nested(&c);
	if ((r = mark_readable(req, &c)) != 0 || (r = scan_reply(req, &c, &out)) != 0)
		goto out;
	http_reply_json(req, 200, out);
 out:
	vault_fpset_release(fps);
	json_decref(body);
	if (c.f != NULL) {
		sodium_memzero(c.f, API_SCAN_FINDINGS_MAX * sizeof(*c.f));
		free(c.f);
	}
	return r;
}
