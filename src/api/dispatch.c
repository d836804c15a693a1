/*
 * The per-request pipeline: bearer → principal (at header time), per-address rate limit on the
 * unauthenticated auth endpoints, per-principal rate limit on the scan endpoint, one database
 * transaction with the org (and user) context set, membership re-checked, the handler, then
 * COMMIT — and only after a successful commit is the handler's reply sent. If the commit fails,
 * the caller gets an error instead (fail closed: an action whose audit row did not commit did not
 * happen).
 */
#include "api/app.h"

#include <stdio.h>
#include <string.h>

#include "authz/authz.h"
#include "base/err.h"
#include "base/log.h"

int
api_authenticate(struct http_req *req, const char *bearer)
{
	struct app *app = req->app;

	return auth_bearer_resolve(&app->env, bearer, &req->principal);
}

void
api_actor(const struct http_req *req, struct audit_actor *who)
{
	auth_actor(&req->principal, req->source_ip, req->request_id, who);
}

int
api_fail_msg(struct http_req *req, int r, const char *msg)
{
	if (msg != NULL && msg[0] != '\0')
		return http_fail(req, r, "%s", msg);
	return http_fail(req, r, NULL);
}

int
api_require(struct http_req *req, int perm)
{
	int r = authz_org_check(&req->principal, (enum org_perm)perm);

	if (r == VT_ERR_FORBIDDEN)
		return http_fail(req, r, "your role or token scopes do not allow this");
	if (r != 0)
		return http_fail(req, r, NULL);
	return 0;
}

/*
 * The scan endpoint's per-principal limit (SCAN_RATE_MAX per SCAN_RATE_WINDOW_MS): each scan
 * tests a caller's text against every stored value of the org, a dictionary oracle. The hit
 * commits in its own transaction before the request's begins, so a scan that fails later still
 * counts and no request holds two pooled connections. Like the auth limits, a refusal is not
 * audited (a flood would flood the trail); the access log has its line.
 */
static int
scan_rate_hit(struct http_req *req)
{
	struct app *app = req->app;
	const struct principal *p = &req->principal;
	uint64_t win = app->cfg.scan_rate_window_ms;
	char key[128], org[UUID_STR_LEN + 1], id[UUID_STR_LEN + 1], span[32];
	int r;

	/* The route table pairs the flag with ROUTE_AUTH, checked above. */
	VT_ASSERT(p->kind == PRINCIPAL_USER || p->kind == PRINCIPAL_API_TOKEN);
	uuid_format(&p->org_id, org);
	uuid_format(p->kind == PRINCIPAL_USER ? &p->user_id : &p->token_id, id);
	snprintf(key, sizeof(key), "scan:%s:%s:%s", org,
	    p->kind == PRINCIPAL_USER ? "user" : "token", id);
	if ((r = auth_rate_hit(&app->env, NULL, key, app->cfg.scan_rate_max, win)) == 0)
		return 0;
	if (r != VT_ERR_RATE_LIMITED)
		return http_fail(req, r, NULL);
	if (win % 1000 == 0)
		snprintf(span, sizeof(span), "%llu s", (unsigned long long)(win / 1000));
	else
		snprintf(span, sizeof(span), "%llu ms", (unsigned long long)win);
	/* The window began at this principal's first scan in it: it ends within one window. */
	req->retry_after_s = (unsigned)((win + 999) / 1000);
	return http_fail(req, r, "too many scans: at most %d per %s for each user or API token; "
			     "try again later", app->cfg.scan_rate_max, span);
}

int
api_dispatch(struct http_req *req, const struct http_route *route)
{
	struct app *app = req->app;
	char key[96];
	int r;

	if (route->flags & ROUTE_NO_TX)
		return route->fn(req);
	/* A rolled-back audit chain halts a production deployment until an operator says so. */
	if (app->cfg.production && sequencer_halted(app->sequencer, NULL, 0))
		return http_fail(req, VT_ERR_UNAVAILABLE, "audit rollback detected: the database is "
		    "behind the license counter; an operator must run `vaultterm operator "
		    "ack-rollback` (see docs/operations.md)");
	if (req->has_bearer && req->auth_err != 0) {
		if (req->auth_err == VT_ERR_UNAVAILABLE)
			return http_fail(req, VT_ERR_UNAVAILABLE, NULL);
		memset(&req->principal, 0, sizeof(req->principal));
		return http_fail(req, VT_ERR_UNAUTHORIZED, "the bearer token is invalid, expired "
							   "or revoked");
	}
	if ((route->flags & ROUTE_AUTH) && req->principal.kind == PRINCIPAL_NONE)
		return http_fail(req, VT_ERR_UNAUTHORIZED, "authentication is required "
							   "(Authorization: Bearer <token>)");
	if (route->flags & ROUTE_RATE_LIMIT) {
		snprintf(key, sizeof(key), "ip:%s", req->source_ip);
		if ((r = auth_rate_hit(&app->env, NULL, key, app->env.rate_max,
		    app->env.rate_window_ms)) != 0)
			return http_fail(req, r, r == VT_ERR_RATE_LIMITED ?
				"too many attempts from this address; try again later" : NULL);
	}
	if ((route->flags & ROUTE_SCAN_RATE_LIMIT) && (r = scan_rate_hit(req)) != 0)
		return r;
	if (req->principal.kind == PRINCIPAL_NONE)
		r = db_tx_begin(app->pool, &req->tx);
	else
		r = db_tx_begin_as(app->pool, &req->principal.org_id,
		    req->principal.kind == PRINCIPAL_USER ? &req->principal.user_id : NULL, &req->tx);
	if (r != 0)
		return http_fail(req, r, NULL);
	if (req->principal.kind != PRINCIPAL_NONE &&
	    (r = auth_principal_bind(req->tx, &req->principal)) != 0) {
		db_tx_rollback(req->tx);
		req->tx = NULL;
		if (r == VT_ERR_UNAUTHORIZED)
			return http_fail(req, r, "this session has ended, or is no longer valid "
						 "for its organization; log in again");
		return http_fail(req, r, NULL);
	}
	r = route->fn(req);
	if (r == 0 || req->commit_on_error) {
		int c = db_tx_commit(req->tx);

		req->tx = NULL;
		if (c != 0) {
			log_error("commit failed for %s %s (request %s); the action is refused",
			    req->method_str, req->path, req->request_id);
			return http_fail(req, c == VT_ERR_UNAVAILABLE ? c : VT_ERR_INTERNAL, NULL);
		}
	} else {
		db_tx_rollback(req->tx);
		req->tx = NULL;
	}
	if (r != 0 && req->err == 0)
		http_fail(req, r, NULL);
	return r;
}
