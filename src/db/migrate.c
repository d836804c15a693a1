/*
 * Migration runner. Each migration runs in its own transaction together with its
 * schema_migrations row, so a failure leaves the schema at the previous version. The advisory lock
 * is session-level and held across the whole run.
 */
#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/log.h"
#include "base/num.h"
#include "crypto/hash.h"

int
migrate_latest_version(void)
{
	int v = 0;
	size_t i;

	for (i = 0; i < MIGRATIONS_COUNT; i++)
		if (MIGRATIONS[i].version > v)
			v = MIGRATIONS[i].version;
	return v;
}

static int
exec_ok(PGconn *pg, const char *sql, char err[static MIGRATE_ERR_MAX], const char *what)
{
	PGresult *res = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(err, MIGRATE_ERR_MAX, "%s: %s", what, m != NULL ? m : PQerrorMessage(pg));
		PQclear(res);
		return VT_ERR_DB;
	}
	PQclear(res);
	return 0;
}

/* Replaces every {{app_role}} with the quoted identifier. Caller frees. */
static char *
substitute(PGconn *pg, const char *sql, const char *app_role)
{
	static const char tok[] = "{{app_role}}";
	char *ident = PQescapeIdentifier(pg, app_role, strlen(app_role));
	size_t n = 0, il, cap;
	const char *p, *q;
	char *out;

	if (ident == NULL)
		return NULL;
	il = strlen(ident);
	for (p = sql; (q = strstr(p, tok)) != NULL; p = q + sizeof(tok) - 1)
		n++;
	cap = strlen(sql) + n * il + 1;
	out = xmalloc(cap);
	out[0] = '\0';
	n = 0;
	for (p = sql; (q = strstr(p, tok)) != NULL; p = q + sizeof(tok) - 1) {
		memcpy(out + n, p, (size_t)(q - p));
		n += (size_t)(q - p);
		memcpy(out + n, ident, il);
		n += il;
	}
	memcpy(out + n, p, strlen(p) + 1);
	PQfreemem(ident);
	return out;
}

static int
apply_one(PGconn *pg, const struct migration *m, const char *app_role,
    char err[static MIGRATE_ERR_MAX])
{
	uint8_t sum[HASH_SHA256_LEN];
	char hex[2 * HASH_SHA256_LEN + 1], ver[16], what[128];
	const char *vals[3];
	PGresult *res = NULL;
	char *sql = NULL;
	int r = VT_ERR_DB;

	hash_sha256(m->sql, strlen(m->sql), sum);
	hex_encode(sum, sizeof(sum), hex);
	snprintf(ver, sizeof(ver), "%d", m->version);
	snprintf(what, sizeof(what), "migration %s", m->name);

	vals[0] = ver;
	res = PQexecParams(pg, "SELECT encode(checksum, 'hex') FROM schema_migrations "
			       "WHERE version = $1", 1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, MIGRATE_ERR_MAX, "%s: cannot read schema_migrations: %s", what,
		    PQerrorMessage(pg));
		goto out;
	}
	if (PQntuples(res) == 1) {
		if (strcmp(PQgetvalue(res, 0, 0), hex) != 0) {
			snprintf(err, MIGRATE_ERR_MAX,
			    "%s was applied with different contents (checksum mismatch); migrations "
			    "are forward-only: add a new one instead of editing an applied one", what);
			goto out;
		}
		r = 0;
		goto out;
	}
	PQclear(res);
	res = NULL;

	if ((sql = substitute(pg, m->sql, app_role)) == NULL) {
		snprintf(err, MIGRATE_ERR_MAX, "%s: cannot quote the app role name", what);
		goto out;
	}
	if ((r = exec_ok(pg, "BEGIN", err, what)) != 0)
		goto out;
	if ((r = exec_ok(pg, sql, err, what)) != 0) {
		(void)exec_ok(pg, "ROLLBACK", (char[MIGRATE_ERR_MAX]){ 0 }, what);
		goto out;
	}
	vals[0] = ver;
	vals[1] = m->name;
	vals[2] = hex;
	res = PQexecParams(pg, "INSERT INTO schema_migrations (version, name, checksum) "
			       "VALUES ($1, $2, decode($3, 'hex'))", 3, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(err, MIGRATE_ERR_MAX, "%s: cannot record it: %s", what,
		    PQerrorMessage(pg));
		(void)exec_ok(pg, "ROLLBACK", (char[MIGRATE_ERR_MAX]){ 0 }, what);
		r = VT_ERR_DB;
		goto out;
	}
	if ((r = exec_ok(pg, "COMMIT", err, what)) != 0)
		goto out;
	log_info("applied migration %s", m->name);
	r = 0;
 out:
	PQclear(res);
	free(sql);
	return r;
}

int
migrate_run(const char *owner_conninfo, const char *app_role, char err[static MIGRATE_ERR_MAX])
{
	PGconn *pg = NULL;
	size_t i;
	int r = VT_ERR_DB, locked = 0;

	err[0] = '\0';
	pg = PQconnectdb(owner_conninfo);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, MIGRATE_ERR_MAX, "cannot connect as the owner role: %s",
		    pg != NULL ? PQerrorMessage(pg) : "out of memory");
		r = VT_ERR_UNAVAILABLE;
		goto out;
	}
	if ((r = exec_ok(pg, "SET client_min_messages = warning", err, "setup")) != 0)
		goto out;
	if ((r = exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY_STR ")", err,
	    "migration lock")) != 0)
		goto out;
	locked = 1;
	if ((r = exec_ok(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			     " version integer PRIMARY KEY,"
			     " name text NOT NULL,"
			     " checksum bytea NOT NULL,"
			     " applied_at timestamptz NOT NULL DEFAULT now())",
	    err, "schema_migrations")) != 0)
		goto out;
	for (i = 0; i < MIGRATIONS_COUNT; i++) {
		if ((r = apply_one(pg, &MIGRATIONS[i], app_role, err)) != 0)
			goto out;
	}
	/* The app role reads the schema version at boot. Re-granted every run: idempotent. */
	{
		char *ident = PQescapeIdentifier(pg, app_role, strlen(app_role));
		char *sql = ident != NULL ?
		    xasprintf("GRANT SELECT ON schema_migrations TO %s", ident) : NULL;

		if (ident != NULL)
			PQfreemem(ident);
		if (sql == NULL) {
			snprintf(err, MIGRATE_ERR_MAX, "cannot quote the app role name");
			r = VT_ERR_DB;
			goto out;
		}
		r = exec_ok(pg, sql, err, "grant on schema_migrations");
		free(sql);
		if (r != 0)
			goto out;
	}
	r = 0;
 out:
	if (locked)
		(void)exec_ok(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY_STR ")",
		    (char[MIGRATE_ERR_MAX]){ 0 }, "unlock");
	if (pg != NULL)
		PQfinish(pg);
	return r;
}

int
migrate_check_app(const char *app_conninfo, char err[static MIGRATE_ERR_MAX])
{
	PGconn *pg = NULL;
	PGresult *res = NULL;
	int r = VT_ERR_CONFIG, v;

	err[0] = '\0';
	pg = PQconnectdb(app_conninfo);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, MIGRATE_ERR_MAX, "cannot connect with DATABASE_URL: %s",
		    pg != NULL ? PQerrorMessage(pg) : "out of memory");
		r = VT_ERR_UNAVAILABLE;
		goto out;
	}
	/*
	 * Owning a table, or being a member of a role that owns one (which could SET ROLE to it,
	 * or inherit its "definer" policies), would put the app role outside row-level security.
	 */
	res = PQexec(pg, "SELECT r.rolsuper, r.rolbypassrls, "
			 " (SELECT count(*) FROM pg_class c WHERE c.relkind IN ('r','p','v','m','f')"
			 "  AND c.relnamespace = 'public'::regnamespace"
			 "  AND pg_has_role(current_user, c.relowner, 'MEMBER')), current_user "
			 "FROM pg_roles r WHERE r.rolname = current_user");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		snprintf(err, MIGRATE_ERR_MAX, "cannot inspect the app role: %s",
		    PQerrorMessage(pg));
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "f") != 0 || strcmp(PQgetvalue(res, 0, 1), "f") != 0) {
		snprintf(err, MIGRATE_ERR_MAX,
		    "DATABASE_URL: role %s is SUPERUSER or BYPASSRLS; row-level security would not "
		    "apply. Connect as a NOSUPERUSER NOBYPASSRLS app role", PQgetvalue(res, 0, 3));
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "0") != 0) {
		snprintf(err, MIGRATE_ERR_MAX,
		    "DATABASE_URL: role %s owns tables or is a member of a role that does; the app "
		    "role must be neither (use a separate owner role for migrations)",
		    PQgetvalue(res, 0, 3));
		goto out;
	}
	PQclear(res);
	res = PQexec(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		snprintf(err, MIGRATE_ERR_MAX,
		    "the schema is not installed (run the server once with DATABASE_OWNER_URL set, "
		    "or `vaultterm migrate`)");
		goto out;
	}
	if (num_parse_int(PQgetvalue(res, 0, 0), 0, 1000000, &v) != 0 ||
	    v != migrate_latest_version()) {
		snprintf(err, MIGRATE_ERR_MAX,
		    "the schema is at version %s but this build needs %d (run migrations with "
		    "DATABASE_OWNER_URL set)", PQgetvalue(res, 0, 0), migrate_latest_version());
		goto out;
	}
	r = 0;
 out:
	PQclear(res);
	if (pg != NULL)
		PQfinish(pg);
	return r;
}
