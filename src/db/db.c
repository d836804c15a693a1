/*
 * libpq connection pool and transactions. A transaction owns one connection from BEGIN until
 * COMMIT/ROLLBACK; the org and user context are transaction-local GUCs, so a connection returned
 * to the pool carries no tenant state. Error messages are logged without DETAIL (which can echo
 * row values); callers get a stable error code.
 */
#include "db/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "base/num.h"

struct db_conn {
	PGconn *pg;
	int in_use;
};

struct db_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db_conn *conns;
	int size;
	char *conninfo;
};

struct db_tx {
	struct db_pool *pool;
	struct db_conn *conn;
	int failed;
	int has_org, has_user;
	struct vt_uuid org, user;
	char sqlstate[DB_SQLSTATE_LEN];
};

struct db_res {
	PGresult *res;
};

static int
db_conn_setup(PGconn *pg)
{
	PGresult *res = PQexec(pg, "SET statement_timeout = '" DB_STATEMENT_TIMEOUT "'; "
				   "SET idle_in_transaction_session_timeout = '60s'; "
				   "SET application_name = 'vaultterm'");
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok ? 0 : VT_ERR_UNAVAILABLE;
}

static PGconn *
db_connect(const char *conninfo)
{
	PGconn *pg = PQconnectdb(conninfo);

	if (pg == NULL)
		return NULL;
	if (PQstatus(pg) != CONNECTION_OK) {
		/* The libpq message names host/socket and reason, never the password. */
		log_error("database connection failed: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return NULL;
	}
	if (db_conn_setup(pg) != 0) {
		log_error("database session setup failed: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

int
db_pool_open(const char *conninfo, int size, struct db_pool **out)
{
	struct db_pool *p;
	int i;

	*out = NULL;
	VT_ASSERT(size > 0);
	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->size = size;
	p->conns = xcalloc((size_t)size, sizeof(*p->conns));
	p->conninfo = xstrdup(conninfo);
	for (i = 0; i < size; i++) {
		if ((p->conns[i].pg = db_connect(conninfo)) == NULL) {
			db_pool_close(p);
			return VT_ERR_UNAVAILABLE;
		}
	}
	*out = p;
	return 0;
}

void
db_pool_close(struct db_pool *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->size; i++)
		if (p->conns[i].pg != NULL)
			PQfinish(p->conns[i].pg);
	free(p->conns);
	vt_str_wipe_free(p->conninfo);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

static struct db_conn *
pool_acquire(struct db_pool *p)
{
	struct timespec deadline;
	struct db_conn *c = NULL;
	int i;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += DB_ACQUIRE_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (i = 0; i < p->size; i++) {
			if (!p->conns[i].in_use) {
				c = &p->conns[i];
				c->in_use = 1;
				break;
			}
		}
		if (c != NULL)
			break;
		if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&p->mu);
	if (c == NULL) {
		log_warn("no database connection free after %d ms", DB_ACQUIRE_TIMEOUT_MS);
		return NULL;
	}
	/* A connection lost since last use is re-established here (outside the lock). */
	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
		if (c->pg != NULL)
			PQfinish(c->pg);
		c->pg = db_connect(p->conninfo);
		if (c->pg == NULL) {
			pthread_mutex_lock(&p->mu);
			c->in_use = 0;
			pthread_cond_signal(&p->cv);
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
	}
	return c;
}

static void
pool_release(struct db_pool *p, struct db_conn *c)
{
	pthread_mutex_lock(&p->mu);
	c->in_use = 0;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static int
conn_simple(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	PQclear(res);
	if (!ok)
		return PQstatus(pg) == CONNECTION_OK ? VT_ERR_DB : VT_ERR_UNAVAILABLE;
	return 0;
}

int
db_ping(struct db_pool *p)
{
	struct db_conn *c = pool_acquire(p);
	int r;

	if (c == NULL)
		return VT_ERR_UNAVAILABLE;
	r = conn_simple(c->pg, "SELECT 1");
	pool_release(p, c);
	return r == 0 ? 0 : VT_ERR_UNAVAILABLE;
}

int
db_tx_begin(struct db_pool *p, struct db_tx **out)
{
	return db_tx_begin_as(p, NULL, NULL, out);
}

int
db_tx_begin_as(struct db_pool *p, const struct vt_uuid *org, const struct vt_uuid *user,
    struct db_tx **out)
{
	char o[UUID_STR_LEN + 1], u[UUID_STR_LEN + 1], sql[256];
	struct db_conn *c;
	struct db_tx *tx;

	*out = NULL;
	VT_ASSERT(org != NULL || user == NULL);
	/*
	 * One round trip for BEGIN and the context. Inlining is safe: uuid_format emits only hex
	 * digits and dashes.
	 */
	if (org != NULL) {
		uuid_format(org, o);
		if (user != NULL)
			uuid_format(user, u);
		snprintf(sql, sizeof(sql), "BEGIN; SELECT set_config('app.current_org', '%s', true)%s%s%s",
		    o, user != NULL ? ", set_config('app.current_user', '" : "",
		    user != NULL ? u : "", user != NULL ? "', true)" : "");
	} else {
		snprintf(sql, sizeof(sql), "BEGIN");
	}
	if ((c = pool_acquire(p)) == NULL)
		return VT_ERR_UNAVAILABLE;
	if (conn_simple(c->pg, sql) != 0) {
		/* Force a reconnect next time. */
		PQfinish(c->pg);
		c->pg = NULL;
		pool_release(p, c);
		return VT_ERR_UNAVAILABLE;
	}
	tx = xcalloc(1, sizeof(*tx));
	tx->pool = p;
	tx->conn = c;
	if (org != NULL) {
		tx->org = *org;
		tx->has_org = 1;
	}
	if (user != NULL) {
		tx->user = *user;
		tx->has_user = 1;
	}
	*out = tx;
	return 0;
}

static int
tx_set_guc(struct db_tx *tx, const char *name, const struct vt_uuid *u)
{
	struct db_params p;
	int r;

	db_params_init(&p);
	db_param_text(&p, name);
	db_param_uuid(&p, u);
	r = db_query(tx, "SELECT set_config($1, $2, true)", &p, NULL);
	db_params_free(&p);
	return r;
}

int
db_tx_set_org(struct db_tx *tx, const struct vt_uuid *org)
{
	int r;

	if ((r = tx_set_guc(tx, "app.current_org", org)) != 0)
		return r;
	tx->org = *org;
	tx->has_org = 1;
	return 0;
}

int
db_tx_set_user(struct db_tx *tx, const struct vt_uuid *user)
{
	int r;

	if ((r = tx_set_guc(tx, "app.current_user", user)) != 0)
		return r;
	tx->user = *user;
	tx->has_user = 1;
	return 0;
}

const struct vt_uuid *
db_tx_org(const struct db_tx *tx)
{
	return tx->has_org ? &tx->org : NULL;
}

const struct vt_uuid *
db_tx_user(const struct db_tx *tx)
{
	return tx->has_user ? &tx->user : NULL;
}

static void
tx_finish(struct db_tx *tx, int drop_conn)
{
	if (drop_conn && tx->conn->pg != NULL) {
		PQfinish(tx->conn->pg);
		tx->conn->pg = NULL;
	}
	pool_release(tx->pool, tx->conn);
	free(tx);
}

int
db_tx_commit(struct db_tx *tx)
{
	PGresult *res;
	int r = 0;

	if (tx->failed) {
		db_tx_rollback(tx);
		return VT_ERR_DB;
	}
	res = PQexec(tx->conn->pg, "COMMIT");
	/* A COMMIT of an aborted transaction reports success with tag ROLLBACK: treat as failure. */
	if (PQresultStatus(res) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		log_error("COMMIT failed: %s", PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
			PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : PQcmdStatus(res));
		r = PQstatus(tx->conn->pg) == CONNECTION_OK ? VT_ERR_DB : VT_ERR_UNAVAILABLE;
	}
	PQclear(res);
	tx_finish(tx, r != 0 && PQstatus(tx->conn->pg) != CONNECTION_OK);
	return r;
}

void
db_tx_rollback(struct db_tx *tx)
{
	int r;

	if (tx == NULL)
		return;
	r = conn_simple(tx->conn->pg, "ROLLBACK");
	tx_finish(tx, r != 0);
}

const char *
db_tx_sqlstate(const struct db_tx *tx)
{
	return tx->sqlstate;
}

static int
map_sqlstate(const char *st)
{
	if (strcmp(st, "23505") == 0)
		return VT_ERR_CONFLICT;
	if (strcmp(st, "23503") == 0)
		return VT_ERR_NOT_FOUND;
	if (strncmp(st, "08", 2) == 0 || strcmp(st, "57014") == 0 || strcmp(st, "57P01") == 0 ||
	    strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0)
		return VT_ERR_UNAVAILABLE;
	return VT_ERR_DB;
}

int
db_query(struct db_tx *tx, const char *sql, const struct db_params *params, struct db_res **out)
{
	static const struct db_params none;
	const struct db_params *p = params != NULL ? params : &none;
	PGresult *res;
	ExecStatusType st;
	const char *state;
	int r;

	if (out != NULL)
		*out = NULL;
	if (tx->failed)
		return VT_ERR_DB;
	res = PQexecParams(tx->conn->pg, sql, p->n, NULL, p->values, p->lengths, p->formats, 0);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out != NULL) {
			*out = xcalloc(1, sizeof(**out));
			(*out)->res = res;
		} else {
			PQclear(res);
		}
		return 0;
	}
	tx->failed = 1;
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(tx->sqlstate, sizeof(tx->sqlstate), "%s", state != NULL ? state : "");
	if (PQstatus(tx->conn->pg) != CONNECTION_OK) {
		log_error("database connection lost during a statement");
		r = VT_ERR_UNAVAILABLE;
	} else {
		r = map_sqlstate(tx->sqlstate);
		if (r != VT_ERR_CONFLICT) {
			const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

			log_warn("statement failed: sqlstate=%s %.200s", tx->sqlstate,
			    msg != NULL ? msg : "");
		}
	}
	PQclear(res);
	return r;
}

int
db_exec_one(struct db_tx *tx, const char *sql, const struct db_params *params)
{
	struct db_res *res = NULL;
	PGresult *pr;
	int r;

	if ((r = db_query(tx, sql, params, &res)) != 0)
		return r;
	pr = res->res;
	if (PQresultStatus(pr) == PGRES_TUPLES_OK) {
		r = PQntuples(pr) == 1 ? 0 : VT_ERR_NOT_FOUND;
	} else {
		uint64_t n = 0;

		r = num_parse_u64(PQcmdTuples(pr), 0, UINT64_MAX, &n) == 0 && n == 1 ? 0 :
		    VT_ERR_NOT_FOUND;
	}
	db_res_free(res);
	return r;
}

void
db_params_init(struct db_params *p)
{
	memset(p, 0, sizeof(*p));
}

void
db_params_free(struct db_params *p)
{
	int i;

	for (i = 0; i < p->n; i++) {
		if (p->owned[i] != NULL) {
			sodium_memzero(p->owned[i], (size_t)(p->lengths[i] > 0 ? p->lengths[i] : 0));
			free(p->owned[i]);
		}
	}
	memset(p, 0, sizeof(*p));
}

static void
param_add(struct db_params *p, char *owned, const char *v, int len, int fmt)
{
	VT_ASSERT(p->n < DB_MAX_PARAMS);
	p->owned[p->n] = owned;
	p->values[p->n] = v;
	p->lengths[p->n] = len;
	p->formats[p->n] = fmt;
	p->n++;
}

void
db_param_text(struct db_params *p, const char *s)
{
	char *c;

	if (s == NULL) {
		param_add(p, NULL, NULL, 0, 0);
		return;
	}
	c = xstrdup(s);
	param_add(p, c, c, (int)strlen(c), 0);
}

void
db_param_uuid(struct db_params *p, const struct vt_uuid *u)
{
	char *c;

	if (u == NULL) {
		param_add(p, NULL, NULL, 0, 0);
		return;
	}
	c = xmalloc(UUID_STR_LEN + 1);
	uuid_format(u, c);
	param_add(p, c, c, UUID_STR_LEN, 0);
}

void
db_param_int(struct db_params *p, int64_t v)
{
	char *c = xasprintf("%lld", (long long)v);

	param_add(p, c, c, (int)strlen(c), 0);
}

void
db_param_bool(struct db_params *p, int v)
{
	char *c = xstrdup(v ? "true" : "false");

	param_add(p, c, c, (int)strlen(c), 0);
}

void
db_param_bytes(struct db_params *p, const void *data, size_t len)
{
	char *c;

	VT_ASSERT(len <= INT32_MAX);
	c = xmalloc(len);
	if (len > 0)
		memcpy(c, data, len);
	param_add(p, c, c, (int)len, 1);
}

int
db_res_rows(const struct db_res *r)
{
	return PQntuples(r->res);
}

int
db_res_isnull(const struct db_res *r, int row, int col)
{
	return PQgetisnull(r->res, row, col);
}

const char *
db_res_text(const struct db_res *r, int row, int col)
{
	return PQgetvalue(r->res, row, col);
}

int
db_res_uuid(const struct db_res *r, int row, int col, struct vt_uuid *u)
{
	if (PQgetisnull(r->res, row, col))
		return VT_ERR_DB;
	return uuid_parse(PQgetvalue(r->res, row, col), u) == 0 ? 0 : VT_ERR_DB;
}

int
db_res_int(const struct db_res *r, int row, int col, int64_t *v)
{
	const char *s = PQgetvalue(r->res, row, col);
	uint64_t u;
	int neg = s[0] == '-';

	*v = 0;
	if (PQgetisnull(r->res, row, col))
		return VT_ERR_DB;
	if (num_parse_u64(s + neg, 0, (uint64_t)INT64_MAX, &u) != 0)
		return VT_ERR_DB;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

int
db_res_bool(const struct db_res *r, int row, int col)
{
	return !PQgetisnull(r->res, row, col) && PQgetvalue(r->res, row, col)[0] == 't';
}

int
db_res_bytes(const struct db_res *r, int row, int col, struct vbuf *out)
{
	const char *s = PQgetvalue(r->res, row, col);
	size_t n = (size_t)PQgetlength(r->res, row, col);
	uint8_t *p;
	int rc;

	if (PQgetisnull(r->res, row, col))
		return VT_ERR_DB;
	/* Text-format bytea is "\x" followed by hex (bytea_output = hex, the default). */
	if (n < 2 || s[0] != '\\' || s[1] != 'x' || (n - 2) % 2 != 0)
		return VT_ERR_DB;
	if ((rc = vbuf_reserve(out, (n - 2) / 2, &p)) != 0)
		return rc;
	return hex_decode(s + 2, n - 2, p, (n - 2) / 2) == 0 ? 0 : VT_ERR_DB;
}

int
db_page_rows(const struct db_res *r, int limit)
{
	return PQntuples(r->res) > limit ? limit : PQntuples(r->res);
}

const char *
db_page_next(const struct db_res *r, int limit, int col)
{
	return PQntuples(r->res) > limit ? PQgetvalue(r->res, limit - 1, col) : NULL;
}

void
db_res_free(struct db_res *r)
{
	if (r == NULL)
		return;
	PQclear(r->res);
	free(r);
}
