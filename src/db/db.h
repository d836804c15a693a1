/*
 * PostgreSQL access: a fixed pool of libpq connections, one transaction per unit of work, and
 * typed parameters/results. Tenant context is set per transaction with set_config(..., true) so it
 * never outlives the transaction (safe with poolers); row-level security does the isolation.
 * Business rules live in the modules that call this; this module only moves rows.
 */
#ifndef VT_DB_DB_H
#define VT_DB_DB_H

#include <stddef.h>
#include <stdint.h>

#include "base/encode.h"
#include "base/util.h"
#include "base/vbuf.h"

#define DB_MAX_PARAMS 24
#define DB_ACQUIRE_TIMEOUT_MS 10000 /* waiting longer for a connection is 503 unavailable */
#define DB_STATEMENT_TIMEOUT "30s"
#define DB_SQLSTATE_LEN 6

/* SQL expression rendering a timestamptz column as an RFC 3339 UTC string (the API's format). */
#define DB_SQL_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

struct db_pool;
struct db_tx;
struct db_res;

/* Statement parameters. Values are copied into the struct; text unless added as bytes. */
struct db_params {
	int n;
	const char *values[DB_MAX_PARAMS];
	int lengths[DB_MAX_PARAMS];
	int formats[DB_MAX_PARAMS];
	char *owned[DB_MAX_PARAMS];
};

/* Opens `size` connections with conninfo. VT_ERR_UNAVAILABLE (with a logged reason) on failure. */
int db_pool_open(const char *conninfo, int size, struct db_pool **out) VT_WUR;
/* Closes every connection; waits for none (call after the HTTP server has drained). NULL-safe. */
void db_pool_close(struct db_pool *p);
/* Cheap liveness check (SELECT 1 on a pooled connection): 0 or VT_ERR_UNAVAILABLE. */
int db_ping(struct db_pool *p) VT_WUR;

/* Takes a connection and BEGINs. The tenant context is unset: RLS shows zero tenant rows. */
int db_tx_begin(struct db_pool *p, struct db_tx **out) VT_WUR;
/*
 * Like db_tx_begin, with app.current_org (and app.current_user unless user is NULL) set in the
 * same round trip.
 */
int db_tx_begin_as(struct db_pool *p, const struct vt_uuid *org, const struct vt_uuid *user,
    struct db_tx **out) VT_WUR;
/* Sets app.current_org / app.current_user for the rest of this transaction. */
int db_tx_set_org(struct db_tx *tx, const struct vt_uuid *org) VT_WUR;
int db_tx_set_user(struct db_tx *tx, const struct vt_uuid *user) VT_WUR;
/* The org/user set on this transaction, or NULL. */
const struct vt_uuid *db_tx_org(const struct db_tx *tx);
const struct vt_uuid *db_tx_user(const struct db_tx *tx);
/* COMMITs and returns the connection; tx is freed whatever the outcome. */
int db_tx_commit(struct db_tx *tx) VT_WUR;
/* ROLLBACKs and returns the connection; NULL-safe. */
void db_tx_rollback(struct db_tx *tx);
/* SQLSTATE of the last failed statement ("" if none). */
const char *db_tx_sqlstate(const struct db_tx *tx);

/*
 * Runs one statement. On success *out (if non-NULL) holds the result (free with db_res_free).
 * Errors: VT_ERR_CONFLICT (unique violation), VT_ERR_NOT_FOUND (FK violation / RLS WITH CHECK),
 * VT_ERR_UNAVAILABLE (connection lost), VT_ERR_DB otherwise. After an error only rollback is
 * possible.
 */
int db_query(struct db_tx *tx, const char *sql, const struct db_params *params,
    struct db_res **out) VT_WUR;
/* Like db_query for statements that must affect exactly one row; VT_ERR_NOT_FOUND otherwise. */
int db_exec_one(struct db_tx *tx, const char *sql, const struct db_params *params) VT_WUR;

void db_params_init(struct db_params *p);
/* Frees owned copies (wiped). */
void db_params_free(struct db_params *p);
void db_param_text(struct db_params *p, const char *s);  /* NULL → SQL NULL */
void db_param_uuid(struct db_params *p, const struct vt_uuid *u); /* NULL → SQL NULL */
void db_param_int(struct db_params *p, int64_t v);
void db_param_bool(struct db_params *p, int v);
void db_param_bytes(struct db_params *p, const void *data, size_t len); /* bytea, binary */

int db_res_rows(const struct db_res *r);
int db_res_isnull(const struct db_res *r, int row, int col);
/* Borrowed text value ("" for NULL), valid until db_res_free. */
const char *db_res_text(const struct db_res *r, int row, int col);
/* Strict parses; VT_ERR_DB if the column does not hold the type. */
int db_res_uuid(const struct db_res *r, int row, int col, struct vt_uuid *u) VT_WUR;
int db_res_int(const struct db_res *r, int row, int col, int64_t *v) VT_WUR;
int db_res_bool(const struct db_res *r, int row, int col);
/* Appends a bytea column's bytes to out. */
int db_res_bytes(const struct db_res *r, int row, int col, struct vbuf *out) VT_WUR;
void db_res_free(struct db_res *r);

/*
 * Keyset pages: a list query asks for limit + 1 rows ordered by a unique column. page_rows is
 * how many rows to return; page_next is the cursor for the next page (column col of the last
 * returned row, borrowed) or NULL on the last page.
 */
int db_page_rows(const struct db_res *r, int limit);
const char *db_page_next(const struct db_res *r, int limit, int col);

#endif
