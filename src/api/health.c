/*
 * GET /health: liveness plus a database round trip. No authentication, no tenant data.
 */
#include "api/app.h"

#include "base/err.h"

int
api_health(struct http_req *req)
{
	struct app *app = req->app;
	int db_ok = db_ping(app->pool) == 0;
	int halted = sequencer_halted(app->sequencer, NULL, 0);
	const char *audit = halted ? "rollback_detected" :
	    sequencer_is_leader(app->sequencer) ? "sequencing" : "standby";

	http_reply_json(req, db_ok && !(halted && app->cfg.production) ? 200 : 503,
	    json_packx("{s:s, s:s, s:s, s:s}", "status", db_ok && !halted ? "ok" : "degraded",
		"db", db_ok ? "ok" : "unavailable", "audit", audit, "version", VT_VERSION));
	return 0;
}
