/*
 * Fixed-window rate limits kept in PostgreSQL (an UNLOGGED table behind vt_rate_hit()), so every
 * server sharing the database enforces one limit. One implementation for every limit: the caller
 * names the key (its prefix says which limit: "ip:", "email:", "pwchange:", "scan:") and passes
 * that limit's maximum and window. Without a caller transaction a hit commits in its own, so a
 * request that later fails still counts; inside the request's transaction (per-account limits)
 * it commits with the request, which then commits even on the failures that must count.
 */
#include "auth/auth.h"

#include "base/err.h"
#include "base/log.h"

int
auth_rate_hit(const struct auth_env *env, struct db_tx *caller_tx, const char *key, int max,
    uint64_t window_ms)
{
	struct db_params p;
	struct db_res *res = NULL;
	struct db_tx *tx = caller_tx;
	int r, allowed = 0;

	/*
	 * Inside a request transaction the hit shares its connection: a second pooled connection
	 * per request could exhaust the pool under load.
	 */
	if (tx == NULL && (r = db_tx_begin(env->pool, &tx)) != 0)
		return r;
	db_params_init(&p);
	db_param_text(&p, key);
	db_param_int(&p, max);
	db_param_int(&p, (int64_t)window_ms);
	r = db_query(tx, "SELECT vt_rate_hit($1, $2, $3)", &p, &res);
	db_params_free(&p);
	if (r == 0 && db_res_rows(res) == 1)
		allowed = db_res_bool(res, 0, 0);
	db_res_free(res);
	if (caller_tx != NULL)
		return r != 0 ? r : (allowed ? 0 : VT_ERR_RATE_LIMITED);
	if (r != 0) {
		db_tx_rollback(tx);
		return r;
	}
	if ((r = db_tx_commit(tx)) != 0)
		return r;
	return allowed ? 0 : VT_ERR_RATE_LIMITED;
}
